"""Table classification (architecture vs results, row- vs column-major) and table -> graph."""
from __future__ import annotations

import collections
import contextlib

import pytest
import yaml

from dlpaper2code.paper import extract_tables, generate_paper
from dlpaper2code.paper.table_classify import (classify_table, evaluate, load_examples, table_text,
                                               train_classifier)
from dlpaper2code.paper.table_graph import graph_issues, layer_tokens, orientation_of, parse_cell, table_to_graphs
from dlpaper2code.core.paths import config_file

# measured: 1.00 on 10 random 70/30 splits (70 tables: 22 hand-written, 48 synthetic), 22/22 on the
# hand-written ones when trained on synthetic tables only, 22/22 leave-one-out; the threshold leaves room
ACCURACY_MIN = 0.9


@pytest.fixture(scope="module")
def hand():
    data = yaml.safe_load(config_file("tables", "handwritten.yaml").read_text(encoding="utf-8"))
    return {t["id"]: t for t in data["tables"]}


def counts(doc):
    return collections.Counter(n["layer_type"] for n in doc["layers"])


# ----------------------------------------------------------------- classification
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_held_out_accuracy(seed):
    r = evaluate(test_size=0.3, seed=seed)
    assert r["n_test"] >= 15
    assert r["accuracy"] >= ACCURACY_MIN, r
    assert r["per_source"]["handwritten.yaml"] >= ACCURACY_MIN - 0.1, r


def test_trained_on_synthetic_only_generalises_to_real_tables():
    ex = load_examples()
    hw = [t for t in ex if t["source_file"] == "handwritten.yaml"]
    sy = [t for t in ex if t["source_file"] != "handwritten.yaml"]
    assert len(hw) >= 20 and len(sy) >= 40
    model = train_classifier(sy)
    pred = model.predict([table_text(t) for t in hw])
    acc = sum(p == t["kind"] for p, t in zip(pred, hw)) / len(hw)
    assert acc >= ACCURACY_MIN


def test_orientation_of_every_labelled_architecture_table():
    ex = [t for t in load_examples() if t["kind"] == "architecture"]
    wrong = [t["id"] for t in ex if orientation_of(t["cells"])[0] != t["orientation"]]
    assert not wrong


def test_classify_table_result_fields(hand):
    r = classify_table(hand["vgg_face"])
    assert r["kind"] == "architecture" and r["orientation"] == "column"
    assert set(r["scores"]) == {"architecture", "results"} and 0 < r["score"] <= 1
    assert classify_table(hand["imagenet_top1"])["kind"] == "results"


# ----------------------------------------------------------------- cells
@pytest.mark.parametrize("text,types", [
    ("conv3-64", ["Conv2D"]), ("conv, 3×3, 64", ["Conv2D"]), ("3×3 conv, 64", ["Conv2D"]),
    ("max pool", ["MaxPool2D"]), ("maxpool", ["MaxPool2D"]), ("mpool", ["MaxPool2D"]), ("FC-4096", ["Dense"]),
    ("fc", ["Dense"]), ("soft-max", ["Activation"]), ("relu", ["Activation"]),
    ("conv3-64 conv3-64", ["Conv2D", "Conv2D"]), ("conv3-64 LRN", ["Conv2D", "LRN"]),
    ("average pool, 1000-d fc, softmax", ["GlobalAvgPool2D", "Dense", "Activation"]),
    ("Conv dw / s2", ["DepthwiseConv2D"]), ("MBConv6, k5x5", ["mbconv"]), ("inception (4a)", ["inception_module"]),
])
def test_parse_cell_names(text, types):
    p = parse_cell(text)
    assert [l["type"] for l in p["layers"]] == types and not p["unknown"]


def test_parse_cell_params_repeats_and_unicode():
    p = parse_cell("3×3 conv, 64")
    assert p["layers"][0]["kernel"] == 3 and p["layers"][0]["numbers"] == [64]
    assert parse_cell("3 × 3 max pool, stride 2")["layers"][0]["params"]["strides"] == 2
    assert parse_cell("[3×3, 64; 3×3, 64] ×2")["repeat"] == 2
    assert parse_cell("[1 × 1, 64; 3 × 3, 64; 1 × 1, 256] × 6")["repeat"] == 6
    assert parse_cell("5× Conv dw / s1")["repeat"] == 5
    assert parse_cell("ｃｏｎｖ３-６４")["layers"][0]["params"] == {"kernel_size": 3, "filters": 64}   # NFKC
    assert parse_cell("input (224 × 224 RGB image)")["layers"][0]["dims"] == [224, 224]


# ----------------------------------------------------------------- synthetic papers
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_synthetic_tables_give_the_ground_truth_layers(tmp_path, seed):
    truth = generate_paper(tmp_path, seed=seed)
    tables = extract_tables(tmp_path / truth["pdf"])
    for t in truth["tables"]:
        got = [e for e in tables if t["caption"].split(":", 1)[-1].strip()[:25] in e["caption"]]
        assert got, t["caption"]
        c = classify_table(got[0])
        assert c["kind"] == t["kind"]
        if t["kind"] != "architecture":
            continue
        assert c["orientation"] == t["orientation"]
        for cells in (t["cells"], got[0]["cells"]):            # as printed, and as extracted from the PDF
            docs = table_to_graphs({"cells": cells, "caption": t["caption"]})
            assert len(docs) == len(t["models"])
            if "layers" in t:
                assert layer_tokens(docs[0]) == t["layers"]
            for doc, m in zip(docs, t["models"]):
                assert [n["layer_type"] for n in doc["layers"] if n["layer_type"] not in ("Input", "Flatten")] \
                    == m["layer_types"]
                assert doc["source"]["configuration"] == m["configuration"]
                assert graph_issues(doc) == []


# ----------------------------------------------------------------- real-paper style tables (invented networks)
def test_configuration_columns_p_to_s(hand):
    docs = table_to_graphs(hand["configs_columns"])
    assert [d["source"]["configuration"] for d in docs] == ["P", "Q", "R", "S"]
    convs = [counts(d)["Conv2D"] for d in docs]
    assert convs == [6, 9, 12, 13]                            # 1+1+2+1+1, 2+2+2+2+1, 2+2+3+3+2, 2+2+3+3+3
    for d in docs:
        c = counts(d)
        assert c["Dense"] == 3 and c["MaxPool2D"] == 5 and c["Input"] == 1 and c["Flatten"] == 1
        assert d["layers"][0]["layer_params"]["shape"] == [160, 160, 3]
        assert graph_issues(d) == []
        assert all("cell" in n["meta"] for n in d["layers"])
    assert layer_tokens(docs[0]) == ["conv3-48", "max pool", "conv3-96", "max pool", "conv3-192", "conv3-192",
                                     "max pool", "conv3-384", "max pool", "conv3-384", "max pool",
                                     "FC-2048", "FC-2048", "FC-100", "soft-max"]
    r = layer_tokens(docs[2])
    assert r.count("conv1-192") == 1 and r.count("conv1-384") == 1 and r[-4:] == ["FC-2048", "FC-2048", "FC-100",
                                                                                   "soft-max"]
    lrn = table_to_graphs(hand["configs_lrn"])
    assert [x["source"]["configuration"] for x in lrn] == ["G", "G-LRN", "H"]
    assert [counts(x)["LRN"] for x in lrn] == [0, 1, 0]
    assert [counts(x)["Conv2D"] for x in lrn] == [6, 6, 8]
    assert layer_tokens(lrn[1])[:2] == ["conv3-32", "LRN"]


def _projections(doc):
    return [n for n in doc["layers"] if n["layer_type"] == "Conv2D"
            and str(n["meta"].get("inserted", "")).startswith("projection shortcut")]


def test_bracket_groups_are_their_layers_plus_the_residual_sum(hand):
    """[3x3, f; 3x3, f] x n and [1x1, f; 3x3, f; 1x1, 4f] x n: the printed convolutions, a 1x1
    projection where a block changes width or strides, Add, ReLU; no opaque block nodes."""
    docs = table_to_graphs(hand["stage_brackets"])
    assert [d["source"]["configuration"] for d in docs] == ["12-layer", "22-layer", "26-layer"]
    for d in docs:
        assert graph_issues(d) == [], d["name"]
        assert not [n for n in d["layers"] if n["layer_type"].startswith("resnet_")]
        assert d["layers"][0]["layer_params"]["shape"] == [192, 192, 3]   # conv1 prints 96x96 at stride 2
        assert not [i for i in d["source"]["issues"] if i["kind"] == "size_mismatch"]
    a, b, c = (counts(d) for d in docs)
    # blocks 1-1-2-1, 2-3-3-2 (basic) and 1-2-3-2 (bottleneck); projections where the width or size changes
    assert (a["Conv2D"], a["Add"], a["Activation"]) == (14, 5, 6)
    assert (b["Conv2D"], b["Add"], b["Activation"]) == (24, 10, 11)
    assert (c["Conv2D"], c["Add"], c["Activation"]) == (29, 8, 9)
    assert [len(_projections(d)) for d in docs] == [3, 3, 4]     # stage2-4; the bottleneck's stage1 widens too
    assert all(x["MaxPool2D"] == 1 and x["GlobalAvgPool2D"] == 1 and x["Dense"] == 1 and x["Flatten"] == 0
               for x in (a, b, c))
    assert [n["layer_type"] for n in docs[0]["layers"]] == (
        ["Input", "Conv2D", "MaxPool2D"] + ["Conv2D", "Conv2D", "Add", "Activation"]
        + ["Conv2D", "Conv2D", "Conv2D", "Add", "Activation"]
        + ["Conv2D", "Conv2D", "Conv2D", "Add", "Activation"] + ["Conv2D", "Conv2D", "Add", "Activation"]
        + ["Conv2D", "Conv2D", "Conv2D", "Add", "Activation"] + ["GlobalAvgPool2D", "Dense", "Activation"])
    plain = [n["layer_params"]["filters"] for n in docs[0]["layers"] if n["layer_type"] == "Conv2D"
             and n not in _projections(docs[0])]
    assert plain == [48, 48, 48, 96, 96, 192, 192, 192, 192, 384, 384]
    for d in (docs[0], docs[2]):            # conv1, the first conv of stages 2-4 and their projections
        assert sum(1 for n in d["layers"] if n["layer_type"] == "Conv2D"
                   and n["layer_params"].get("strides") == 2) == 7
    bott = [n["layer_params"]["filters"] for n in docs[2]["layers"] if n["layer_type"] == "Conv2D"][:5]
    assert bott == [48, 48, 48, 192, 192]                       # conv1, the stage1 block, its projection
    add = next(n for n in docs[0]["layers"] if n["layer_type"] == "Add")
    assert len(add["from_layers"]) == 2
    from dlpaper2code.core.graph import parse_graph
    for d, last in ((docs[0], 384), (docs[2], 1536)):
        g = parse_graph(d)
        assert g.shapes[g.outputs[0]].to_list() == [100]
        gap = [n for n in g.nodes if n.type == "GlobalAvgPool2D"][0]
        assert g.shapes[gap.inputs[0]].to_list() == [6, 6, last]     # stage4's output, as the table says


def test_plain_repeats_expanded(hand):
    dw = table_to_graphs(hand["depthwise_body"])[0]
    c = counts(dw)
    assert c["DepthwiseConv2D"] == 10 and c["Conv2D"] == 11      # "4×" covers the dw / pointwise pair
    assert c["AvgPool2D"] == 1 and c["Dense"] == 1 and c["Activation"] == 1
    assert dw["layers"][0]["layer_params"]["shape"] == [160, 160, 3]
    assert sum(1 for n in dw["layers"] if n["layer_type"] == "DepthwiseConv2D"
               and n["layer_params"].get("strides") == 2) == 4
    assert [n["layer_params"]["filters"] for n in dw["layers"] if n["layer_type"] == "Conv2D"] == \
        [24, 48, 96, 96, 192, 384, 384, 384, 384, 384, 768]
    assert next(n for n in dw["layers"] if n["layer_type"] == "Dense")["layer_params"] == {"units": 100}
    assert graph_issues(dw) == []
    cells = [["layer", "configuration"], ["input", "input (32 x 32 RGB image)"], ["block", "[conv3-16] × 3"],
             ["pool", "max pool"], ["head", "FC-10"]]
    d = table_to_graphs(cells)[0]
    assert layer_tokens(d) == ["conv3-16"] * 3 + ["max pool", "FC-10"]
    assert graph_issues(d) == []


def test_a_pool_over_the_whole_map_gives_one_by_one(hand):
    from dlpaper2code.core.graph import parse_graph
    for tid, before in (("depthwise_body", [5, 5, 768]), ("inception_rows", [6, 6, 512])):
        g = parse_graph(table_to_graphs(hand[tid])[0])
        pool = [n for n in g.nodes if n.type == "AvgPool2D"][0]
        assert g.shapes[pool.inputs[0]].to_list() == before
        assert g.shapes[pool.name].to_list()[:2] == [1, 1], tid


def test_vgg_face_column_major(hand):
    t = hand["vgg_face"]
    assert orientation_of(t["cells"])[0] == "column"
    d = table_to_graphs(t)[0]
    c = counts(d)
    assert len(d["layers"]) == 38                                  # layers 0..37 of the paper
    assert c["Conv2D"] == 16 and c["MaxPool2D"] == 5           # fc6-fc8 are convolutions in this table
    assert c["Activation"] == 15 + 1                            # relu1_1..relu7, prob
    assert d["layers"][-1]["layer_params"] == {"function": "softmax"}
    fc8 = [n for n in d["layers"] if n["layer_name"] == "fc8"][0]
    assert fc8["layer_params"]["filters"] == 2622
    assert graph_issues(d) == []


def test_named_blocks_kept(hand):
    g = table_to_graphs(hand["inception_rows"])[0]
    c = counts(g)
    assert c["inception_module"] == 5 and graph_issues(g) == []
    assert c["Conv2D"] == 2 and c["MaxPool2D"] == 4 and c["AvgPool2D"] == 1 and c["Dropout"] == 1
    assert g["layers"][0]["layer_params"]["shape"] == [192, 192, 3]     # 96x96 printed after a 5x5/2
    assert [n["layer_params"]["filters"] for n in g["layers"] if n["layer_type"] == "Conv2D"] == [48, 144]
    inc = [n["layer_params"] for n in g["layers"] if n["layer_type"] == "inception_module"]
    assert inc[0] == {"f1x1": 64, "f3x3_reduce": 80, "f3x3": 96, "f5x5_reduce": 16, "f5x5": 32, "pool_proj": 32}
    assert inc[-1]["f3x3"] == 224 and inc[-1]["pool_proj"] == 64
    assert next(n for n in g["layers"] if n["layer_type"] == "Dropout")["layer_params"] == {"rate": 0.3}
    e = table_to_graphs(hand["mbconv_stages"])[0]
    c = counts(e)
    assert c["mbconv"] == 15 and graph_issues(e) == []             # 1+3+2+3+2+3+1
    assert c["Conv2D"] == 2 and c["GlobalAvgPool2D"] == 1 and c["Dense"] == 1
    assert e["layers"][0]["layer_params"]["shape"] == [192, 192, 3]
    mb = [n["layer_params"] for n in e["layers"] if n["layer_type"] == "mbconv"]
    assert [m["expand"] for m in mb] == [1, 6, 6, 6, 6, 6, 4, 4, 4, 6, 6, 6, 6, 6, 6]
    assert [m["filters"] for m in mb] == [16, 32, 32, 32, 48, 48, 88, 88, 88, 128, 128, 208, 208, 208, 352]
    assert mb[0] == {"filters": 16, "expand": 1, "in_filters": 24, "strides": 1}
    assert mb[1]["in_filters"] == 16 and mb[2]["in_filters"] == 32


def test_dense_blocks_are_their_convolutions_and_concatenations(hand):
    """[1 × 1 conv; 3 × 3 conv] × n without widths: per layer a 1x1 of 4k, a 3x3 of k and a Concat,
    k = 24 from the caption; convolutions the table prints without a width are kept and reported."""
    dn = table_to_graphs(hand["dense_blocks"])
    assert [d["source"]["configuration"] for d in dn] == ["Compact-S", "Compact-M"]
    a, b = counts(dn[0]), counts(dn[1])
    assert a["Conv2D"] == 39 and a["Concat"] == 18                 # 1 + 2(4+8+6) + 2 transitions
    assert b["Conv2D"] == 51 and b["Concat"] == 24                 # 1 + 2(5+10+9) + 2 transitions
    assert "dense_layer" not in a and "dense_layer" not in b
    for x in (a, b):
        assert x["MaxPool2D"] == 1 and x["AvgPool2D"] == 2 and x["GlobalAvgPool2D"] == 1
        assert x["Dense"] == 1 and x["Activation"] == 1 and x["Flatten"] == 0
    for d in dn:
        assert d["layers"][0]["layer_params"]["shape"] == [112, 112, 3]   # 56x56 printed after stride 2
        assert graph_issues(d) == []
        assert not [i for i in d["source"]["issues"] if i["kind"] == "size_mismatch"]
        # the stem and the transition convolutions print no width: kept with a guess, reported
        assert len([i for i in d["source"]["issues"] if i["kind"] == "missing_param"]) == 3
    convs = [n["layer_params"] for n in dn[0]["layers"] if n["layer_type"] == "Conv2D"]
    assert [(p["kernel_size"], p["filters"]) for p in convs[1:3]] == [(1, 96), (3, 24)]
    cat = next(n for n in dn[0]["layers"] if n["layer_type"] == "Concat")
    assert len(cat["from_layers"]) == 2
    from dlpaper2code.core.graph import parse_graph
    for d, ch in ((dn[0], 64 + 24 * 18), (dn[1], 64 + 24 * 24)):
        g = parse_graph(d)
        gap = [n for n in g.nodes if n.type == "GlobalAvgPool2D"][0]
        assert g.shapes[gap.inputs[0]].to_list() == [7, 7, ch]
        assert g.shapes[g.outputs[0]].to_list() == [100]


def test_unknown_layer_names_reported():
    cells = [["layer", "type", "kernel", "# filters"], ["input", "input (28 x 28 gray image)", "–", "1"],
             ["c1", "conv", "5", "20"], ["x1", "wobble layer", "3", "20"], ["f", "fc", "–", "10"]]
    d = table_to_graphs(cells)[0]
    issues = [i for i in d["source"]["issues"] if i["kind"] == "unknown_layer"]
    assert issues and "wobble" in issues[0]["words"] and issues[0]["cell"] == "wobble layer"
    assert issues[0]["row"] == 3
    assert d["layers"][0]["layer_params"]["shape"] == [28, 28, 1]


def test_input_shape_argument_and_missing_shape(hand):
    t = {"cells": [["layer", "configuration"], ["c1", "conv3-8"], ["p1", "max pool"], ["f", "FC-10"]]}
    d = table_to_graphs(t)[0]
    assert any(i["kind"] == "no_input_shape" for i in d["source"]["issues"])
    d = table_to_graphs(t, input_shape=[32, 32, 3])[0]
    assert graph_issues(d) == []


# ----------------------------------------------------------------- headers and t/c/n/s tables
@pytest.mark.parametrize("header,role", [
    ("support", "kernel"), ("filt dim", "filt_dim"), ("num filts", "filters"), ("stride", "stride"), ("pad", "pad"),
    ("output size", "output_size"), ("#channels", "filters"), ("# Channels", "filters"), ("#layers", "repeat"),
    ("Operator", "type"), ("kernel", "kernel"), ("Kernel size", "kernel"), ("Input", "input_size"),
    ("t", "expand"), ("c", "filters"), ("n", "repeat"), ("s", "stride"), ("FLOPs", "ignore"), ("Top-1 err.", None)])
def test_header_roles(header, role):
    from dlpaper2code.paper.table_graph import _header_role
    assert _header_role(header) == role


def test_tcns_bottlenecks_are_inverted_residual_blocks():
    """'Input | Operator | t | c | n | s' (an invented network in MobileNetV2's layout): bottleneck rows
    are MBConv blocks; a convolution printed without its width ("k" classes) is kept with a guess."""
    cells = [["Input", "Operator", "t", "c", "n", "s"], ["160² × 3", "conv2d", "-", "24", "1", "2"],
             ["80² × 24", "bottleneck", "1", "16", "1", "1"], ["80² × 16", "bottleneck", "4", "24", "2", "2"],
             ["40² × 24", "bottleneck", "6", "40", "3", "2"], ["20² × 40", "bottleneck", "6", "80", "2", "2"],
             ["10² × 80", "bottleneck", "6", "112", "2", "1"], ["10² × 112", "bottleneck", "6", "192", "1", "2"],
             ["5² × 192", "conv2d 1x1", "-", "960", "1", "1"],
             ["5² × 960", "avgpool 5x5", "-", "-", "1", "-"], ["1 × 1 × 960", "conv2d 1x1", "-", "k", "-", ""]]
    d = table_to_graphs(cells)[0]
    c = counts(d)
    assert c["mbconv"] == 11 and c["Conv2D"] == 3 and c["AvgPool2D"] == 1     # 1+2+3+2+2+1 blocks
    assert d["layers"][0]["layer_params"]["shape"] == [160, 160, 3]
    mb = [n["layer_params"] for n in d["layers"] if n["layer_type"] == "mbconv"]
    assert mb[0]["expand"] == 1 and mb[1] == {"filters": 24, "expand": 4, "in_filters": 16, "strides": 2}
    assert mb[2]["strides"] == 1                                # only the first of a repeated row strides
    assert any("without a number of filters" in i["message"] for i in d["source"]["issues"])   # "k" classes
    last = d["layers"][-1]
    assert last["layer_type"] == "Conv2D" and last["layer_params"]["filters"] == 960 and "assumed" in last["meta"]
    assert graph_issues(d) == []
    from dlpaper2code.core.graph import parse_graph
    g = parse_graph(d)
    assert g.shapes[g.outputs[0]].to_list() == [1, 1, 960]


def test_a_bottleneck_without_width_is_reported_not_a_crash():
    d = table_to_graphs([["layer", "type"], ["input", "input (32 x 32 RGB image)"], ["b1", "bottleneck"],
                         ["f", "FC-10"]])[0]
    assert any(i["kind"] == "missing_param" and "bottleneck" in i["message"] for i in d["source"]["issues"])


def test_ocr_misread_names_still_name_layers():
    from dlpaper2code.paper.table_graph import _name_type
    assert _name_type("convl_2")[0] == "Conv2D" and _name_type("pooll")[0] == "MaxPool2D"
    assert _name_type("pool")[0] == "MaxPool2D" and _name_type("apple") is None
    d = table_to_graphs([["layer", "kernel", "# filters"], ["input (32 x 32 RGB image)", "", ""],
                         ["convl_1", "3×3", "16"], ["pooll", "2×2", "–"], ["fc6", "–", "10"]])[0]
    assert counts(d) == {"Input": 1, "Conv2D": 1, "MaxPool2D": 1, "Flatten": 1, "Dense": 1}
    assert not [i for i in d["source"]["issues"] if i["kind"] == "unknown_layer"]


# Table kinds as real captions title them (shapes seen on the real-paper benchmark's 159 tables).
@pytest.mark.parametrize("caption,cells,kind", [
    ("Table 3: Hyperparameters for training. All models are trained with a batch size of 4096.",
     [["Models", "Dataset", "Epochs", "Base LR"], ["ViT-B/16", "JFT-300M", "7", "8·10-4"]], "hyperparameters"),
    ("Table 2. Object detection results using Fast R-CNN on a fixed set of proposals (RPN, {Pk}, Table 1).",
     [["", "Fast R-CNN", "AP@0.5", "AP"], ["(a) baseline on conv4", "RoIPool", "54.7", "31.9"]], "results"),
    ("Table 1. The outline of the proposed network architecture. The output size of each module is the input "
     "size of the next one.", [["type", "patch size/stride", "input size"], ["conv", "3x3/2", "299x299x3"],
                               ["pool", "3x3/2", "147x147x64"]], "architecture"),
    ("Table 5: Effect of restricting which layers are fine-tuned for VGG16.",
     [["", "conv1", "conv2_1", "conv3_1"], ["VOC07 mAP", "66.9", "67.2", "63.1"]], "results"),
    ("Table 1: Configurations of ViT models.", [["Model", "Layers", "Width", "MLP", "Heads"],
                                                ["ViT-B/16", "12", "768", "3072", "12"]], "architecture"),
])
def test_table_kind_from_title_and_cells(caption, cells, kind):
    from dlpaper2code.paper.table_classify import classify_table

    got = classify_table({"caption": caption, "cells": cells})
    assert got["kind"] == kind, got["evidence"]


# Real typesetting, as extracted from real papers (cells as the extractor gives them).
def test_mobilenet_v3_rows_with_sizes_before_the_operator():
    """MobileNetV3-style: the Input column runs into the Operator column ("112² × 16 bneck, 3x3");
    exp size, #out, SE, NL and s columns."""
    cells = [["Input Operator", "exp size", "#out", "SE", "NL", "s"],
             ["224² × 3 conv2d", "-", "16", "-", "HS", "2"],
             ["112² × 16 bneck, 3x3", "16", "16", "-", "RE", "1"],
             ["112² × 16 bneck, 3x3", "64", "24", "-", "RE", "2"],
             ["56² × 24 bneck, 5x5", "72", "40", "✓", "RE", "2"],
             ["28² × 40 conv2d, 1x1", "-", "240", "-", "HS", "1"],
             ["28² × 240 pool, 7x7", "-", "-", "-", "-", "1"],
             ["1² × 240 conv2d 1x1, NBN", "-", "1280", "-", "HS", "1"]]
    d = table_to_graphs({"cells": cells, "caption": "Table 1. Specification for a network."})[0]
    c = counts(d)
    assert d["layers"][0]["layer_params"]["shape"] == [224, 224, 3]
    assert c["mbconv"] == 3 and c["Conv2D"] == 3 and c["AvgPool2D"] == 1      # "pool, 7x7": the final average
    blocks = [n for n in d["layers"] if n["layer_type"] == "mbconv"]
    assert [b["layer_params"]["filters"] for b in blocks] == [16, 24, 40]
    assert [b["layer_params"]["strides"] for b in blocks] == [1, 2, 2]
    assert [b["layer_params"]["expand"] for b in blocks] == [1, 4, 3]     # exp size / input channels
    assert blocks[2]["meta"]["kernel_size"] == 5 and blocks[2]["meta"]["expand_size"] == 72


def test_outline_table_with_input_sizes_and_module_repeats():
    """Inception-v3-style outline: 'type | patch size/stride | input size'; a convolution's width is the
    next row's input depth; '3×Inception' repeats a module whose widths are elsewhere (kept, flagged)."""
    cells = [["type", "patch size/stride or remarks", "input size"],
             ["conv", "3×3/2", "299×299×3"], ["conv padded", "3×3/1", "149×149×32"],
             ["pool", "3×3/2", "149×149×64"], ["3×Inception", "As in figure 5", "74×74×64"],
             ["pool", "8 × 8", "8 × 8 × 2048"], ["linear", "logits", "1 × 1 × 2048"],
             ["softmax", "classifier", "1 × 1 × 1000"]]
    d = table_to_graphs({"cells": cells})[0]
    c = counts(d)
    convs = [n for n in d["layers"] if n["layer_type"] == "Conv2D"]
    assert [n["layer_params"]["filters"] for n in convs] == [32, 64]
    assert convs[0]["layer_params"]["strides"] == 2
    assert c["inception_module"] == 3 and c["MaxPool2D"] == 1 and c["AvgPool2D"] == 1 and c["Dense"] == 1
    assert any("branch widths" in i["message"] for i in d["source"]["issues"])


@contextlib.contextmanager
def _one_page_pdf(path, font=("Helvetica", 9)):
    """A reportlab canvas for one letter page, saved when the block ends."""
    from reportlab.lib.pagesizes import letter
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=letter)
    c.setFont(*font)
    yield c
    c.showPage()
    c.save()


def _draw_rows(c, rows, xs, y, pitch, beside=None):
    """Table rows: each row's cells at the x positions `xs`, from `y` down by `pitch`; `beside(c, y)`
    draws something at every row (a rule).  Returns the y below the last row."""
    for row in rows:
        for x, text in zip(xs, row):
            c.drawString(x, y, text)
        if beside:
            beside(c, y)
        y -= pitch
    return y


def _pdf_with_captions_below(path):
    """Two tables stacked in one column, each captioned *below* itself (as CVPR papers often do)."""
    with _one_page_pdf(path) as c:
        y = 700
        for n, rows in ((1, [("conv", "3x3", "64"), ("pool", "2x2", "-"), ("fc", "-", "10")]),
                        (2, [("conv", "5x5", "32"), ("pool", "3x3", "-"), ("fc", "-", "100")])):
            y = _draw_rows(c, [("Operator", "kernel", "#out")] + rows, (100, 180, 240), y, 12) - 4
            c.drawString(100, y, f"Table {n}. Specification of network {'AB'[n - 1]}.")
            y -= 40


def test_caption_below_its_table_is_not_given_the_next_table(tmp_path):
    pdf = tmp_path / "below.pdf"
    _pdf_with_captions_below(pdf)
    tabs = {t["number"]: t for t in extract_tables(pdf)}
    assert set(tabs) == {1, 2}
    assert tabs[1]["cells"][1][:2] == ["conv", "3x3"] and tabs[1]["cells"][-1][-1] == "10"
    assert tabs[2]["cells"][1][:2] == ["conv", "5x5"] and tabs[2]["cells"][-1][-1] == "100"


def test_transformer_variants_table_gives_an_encoder_stack_per_model():
    """ViT-style 'Model | Layers | Hidden size D | MLP size | Heads | Params': one graph per model row."""
    cells = [["Model", "Layers", "Hidden size D", "MLP size", "Heads", "Params"],
             ["ViT-Base", "12", "768", "3072", "12", "86M"], ["ViT-Large", "24", "1024", "4096", "16", "307M"]]
    docs = table_to_graphs({"cells": cells, "id": "tab_p5_1", "caption": "Table 1: Details of model variants."})
    assert [d["source"]["configuration"] for d in docs] == ["ViT-Base", "ViT-Large"]
    base = counts(docs[0])
    assert base["MultiHeadAttention"] == 12 and base["LayerNorm"] == 24 and base["FeedForward"] == 12
    assert base["Add"] == 24
    att = next(n for n in docs[0]["layers"] if n["layer_type"] == "MultiHeadAttention")
    assert att["layer_params"] == {"num_heads": 12, "key_dim": 64}
    mlp = next(n for n in docs[1]["layers"] if n["layer_type"] == "FeedForward")
    assert mlp["layer_params"] == {"units": 4096, "output_units": 1024}
    names = {n["layer_name"] for n in docs[0]["layers"]}
    assert all(set(n["from_layers"]) <= names for n in docs[0]["layers"])
    from dlpaper2code.paper.table_graph import _transformer_columns
    assert _transformer_columns(["Model", "Layers", "Heads"]) is None         # no width: not a variants table
    assert _transformer_columns(["Model", "Layers", "Width", "MLP", "Heads"]) == {"layers": 1, "hidden": 2,
                                                                                 "mlp": 3, "heads": 4}


def test_swin_stage_cells_column_major():
    """Swin-style: a configuration per column; 'concat 4×4, 96-d, LN' and 'win. sz. 7×7, × 2 dim 96, head 3'."""
    cells = [["downsp. rate (output size)", "Swin-T", "Swin-S"],
             ["4×", "concat 4×4, 96-d, LN", "concat 4×4, 96-d, LN"],
             ["stage 1 (56×56)", "win. sz. 7×7, × 2 dim 96, head 3", "win. sz. 7×7, × 2 dim 96, head 3"],
             ["8×", "concat 2×2, 192-d , LN", "concat 2×2, 192-d , LN"],
             ["stage 2 (28×28)", "win. sz. 7×7, × 6 dim 192, head 6", "win. sz. 7×7, × 18 dim 192, head 6"]]
    docs = table_to_graphs({"cells": cells})
    assert [d["source"]["configuration"] for d in docs] == ["Swin-T", "Swin-S"]
    t = [(n["layer_type"], n["layer_params"]) for n in docs[0]["layers"] if n["layer_type"] != "Input"]
    assert t[0] == ("PatchEmbedding", {"kernel_size": 4, "filters": 96, "norm": "LN"})
    assert t[1] == ("SwinBlock", {"window": 7, "hidden": 96, "heads": 3}) and t[2] == t[1]
    assert t[3][0] == "PatchMerging" and t[3][1]["filters"] == 192
    assert counts(docs[0])["SwinBlock"] == 8 and counts(docs[1])["SwinBlock"] == 20


def test_footnote_marks_do_not_hide_a_layer():
    p = parse_cell("convolution*")
    assert [l["type"] for l in p["layers"]] == ["Conv2D"] and not p["unknown"]


def _pdf_table_captioned_figure(path):
    rows = [("type", "patch size/stride", "output size"), ("convolution", "5x5/2", "80x80x48"),
            ("max pool", "3x3/2", "40x40x48"), ("convolution", "3x3/1", "40x40x144"),
            ("max pool", "3x3/2", "20x20x144"), ("avg pool", "5x5/1", "1x1x512")]
    with _one_page_pdf(path) as c:
        y = _draw_rows(c, rows, (60, 140, 210), 700, 13, beside=lambda c, y: c.line(55, y - 3, 280, y - 3))
        c.drawString(100, y - 10, "Figure 5: Architecture of the appendix network")
        c.drawString(60, y - 60, "Body text of the appendix goes on here, in a sentence.")


def test_a_table_captioned_figure_is_found(tmp_path):
    pdf = tmp_path / "fig_table.pdf"
    _pdf_table_captioned_figure(pdf)
    (t,) = extract_tables(pdf)
    assert t["caption"].startswith("Figure 5") and t["cells"][1][0] == "convolution"
    assert len(t["cells"]) == 6


def test_condensenet_style_brackets_with_repeat_between_the_lines():
    """The bracket's two lines read in order with its 'x4 (k=8)' between them: a DenseNet-style
    layer repeated (1x1 of 4k, 3x3 of k, Concat), with its growth rate; '(stride 2)' and '1000-dim'
    are parameters."""
    cells = [["CondenseNet", "Feature map size"], ["3×3 Conv (stride 2), 16", "112×112"],
             ["1×1 L-Conv ×4 (k=8) 3×3 G-Conv", "112×112"], ["2×2 average pool, stride 2", "56×56"],
             ["7×7 global average pool", "1×1"], ["1000-dim fully-connected, softmax", ""]]
    d = table_to_graphs({"cells": cells})[0]
    c = counts(d)
    assert c["Conv2D"] == 9 and c["Concat"] == 4 and "dense_layer" not in c      # 1 + 4 x (1x1, 3x3)
    assert c["AvgPool2D"] == 1 and c["GlobalAvgPool2D"] == 1
    convs = [n["layer_params"] for n in d["layers"] if n["layer_type"] == "Conv2D"]
    assert convs[0]["strides"] == 2 and convs[0]["filters"] == 16
    assert [(p["kernel_size"], p["filters"]) for p in convs[1:]] == [(1, 32), (3, 8)] * 4
    assert next(n for n in d["layers"] if n["layer_type"] == "Dense")["layer_params"] == {"units": 1000}
    from dlpaper2code.core.graph import parse_graph
    g = parse_graph(d)
    gap = [n for n in g.nodes if n.type == "GlobalAvgPool2D"][0]
    assert g.shapes[gap.inputs[0]].to_list()[-1] == 16 + 4 * 8


def test_unknown_module_rows_and_spanning_widths():
    """ShiftNet-style: 'CSC / s2' then 'CSC / s1' in one ruled group, the output width printed once for
    both, a Repeat column, 'ℰ' the expansion, '1k' classes: the module is kept with its parameters."""
    cells = [["Group", "Type/ Stride", "Kernel", "E", "Output Channel", "Repeat"],
             ["-", "Conv /s2", "7×7", "-", "32", "1"],
             ["1", "CSC / s2", "5×5", "4", "64", "1"], ["", "CSC / s1", "5×5", "4", "", "4"],
             ["-", "Avg Pool", "7×7", "-", "64", "1"], ["-", "FC", "-", "-", "1k", "1"]]
    d = table_to_graphs({"cells": cells})[0]
    csc = [n for n in d["layers"] if n["layer_type"] == "CSC"]
    assert len(csc) == 5
    assert csc[0]["layer_params"] == {"kernel_size": 5, "strides": 2, "filters": 64, "expand": 4}
    assert all(n["layer_params"]["filters"] == 64 and n["layer_params"]["strides"] == 1 for n in csc[1:])
    assert next(n for n in d["layers"] if n["layer_type"] == "Dense")["layer_params"] == {"units": 1000}
    assert any(i["kind"] == "unknown_module" for i in d["source"]["issues"])
    assert graph_issues(d)                        # not in the vocabulary: the editor maps it first


def _pdf_table_with_long_cells(path):
    rows = [("Layers", "Output Size", "Network"), ("Convolution", "64 x 150 x 150", "3 x 3 conv, stride 2"),
            ("Pooling", "64 x 75 x 75", "2 x 2 average pool, stride 2"),
            ("", "800 x 1 x 1", "9 x 9 average pool, stride 9 (Input DBstage4 concat5) of the module"),
            ("module", "960 x 3 x 3", "3 x 3 average pool, stride 3 (Input DBstage4 concat10) of the module")]
    with _one_page_pdf(path, ("Times-Roman", 10)) as c:
        y = _draw_rows(c, rows, (80, 200, 330), 700, 13) + 13          # the last row's line
        c.drawString(230, y - 20, "Table 1. A network (growth rate = 32).")
        y -= 60
        for k in range(8):
            c.drawString(72, y - 13 * k, "Body text of the paper runs on below the table in one long line of prose "
                                          "that fills the width of the page.")


def test_a_long_cell_beside_other_cells_is_no_running_text(tmp_path):
    pdf = tmp_path / "long.pdf"
    _pdf_table_with_long_cells(pdf)
    (t,) = extract_tables(pdf)
    assert len(t["cells"]) == 5, t["cells"]
    assert t["cells"][-1][-1].startswith("3 x 3 average pool")


def test_printed_output_sizes_are_checked_against_the_inferred_shapes():
    """A stride misread (or misprinted) shows as a row whose printed size the graph does not give."""
    cells = [["layer name", "output size", "net-12"], ["conv1", "96×96", "5×5, 48, stride 2"],
             ["pool", "48×48", "3×3 max pool, stride 2"], ["conv3", "24×24", "3×3, 96, stride 1"],
             ["conv4", "12×12", "3×3, 192, stride 2"]]
    d = table_to_graphs({"cells": cells}, input_shape=[192, 192, 3])[0]
    bad = [i for i in d["source"]["issues"] if i["kind"] == "size_mismatch"]
    assert len(bad) == 2                       # conv3 stays 48x48, so conv4 gives 24x24
    assert "prints 24×24" in bad[0]["message"] and "48x48x96" in bad[0]["message"]
    cells[3][2] = "3×3, 96, stride 2"
    d = table_to_graphs({"cells": cells}, input_shape=[192, 192, 3])[0]
    assert not [i for i in d["source"]["issues"] if i["kind"] == "size_mismatch"]


def _pdf_rules_drawn_as_images(path):
    """A table whose vertical rules are one-pixel images (as some PDF producers draw them)."""
    from PIL import Image
    from reportlab.lib.utils import ImageReader

    rule = ImageReader(Image.new("L", (1, 40), 0))
    rows = [("type", "kernel", "output"), ("conv", "3x3/2", "112x112x32"), ("max pool", "3x3/2", "56x56x32"),
            ("conv", "3x3/1", "56x56x64"), ("avg pool", "7x7/1", "1x1x64")]

    def rules(c, y):
        for x in (140, 210):
            c.drawImage(rule, x, y - 3, width=0.8, height=12.5)

    with _one_page_pdf(path) as c:
        c.drawString(80, 720, "Table 1. A network.")
        _draw_rows(c, rows, (70, 150, 220), 700, 12.5, beside=rules)


def test_rules_drawn_as_one_pixel_images_are_rules(tmp_path):
    pdf = tmp_path / "image_rules.pdf"
    _pdf_rules_drawn_as_images(pdf)
    (t,) = extract_tables(pdf)
    assert t["cells"][0] == ["type", "kernel", "output"] and len(t["cells"]) == 5
