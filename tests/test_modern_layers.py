"""The layers and blocks of papers since 2017: shapes, errors, refusals, blocks.

Cross-framework agreement of every new type and option is checked on the graphs of
tests/graphs/ (layers_modern_image, layers_attention, layers_bidirectional,
blocks_modern) by test_verify.test_layers_beyond_the_zoo_agree_across_frameworks.
"""
import copy

import pytest

from dlpaper2code.core.errors import EmitError, GraphError
from dlpaper2code.core.graph import load_graph, parse_graph
from dlpaper2code.core.vocab import load_vocabulary
from dlpaper2code.emit import codegen
from dlpaper2code.emit.codegen import emit
from dlpaper2code.emit.verify import verify_graph

from conftest import EXTRA


def L(t, n, p=None, f=()):
    return {"layer_type": t, "layer_name": n, "layer_params": p or {}, "from_layers": list(f)}


SEQ = L("Input", "s", {"shape": [6, 16]})
IMG = L("Input", "x", {"shape": [8, 8, 6]})


def shapes(*layers):
    g = parse_graph({"name": "t", "layers": list(layers)})
    return {n.name: list(g.shapes[n.name].shape) for n in g.nodes}


def problem(*layers):
    with pytest.raises(GraphError) as err:
        parse_graph({"name": "t", "layers": list(layers)})
    return str(err.value)


def test_shapes_of_the_new_layers():
    out = shapes(SEQ, L("ClassToken", "c", f=["s"]), L("PositionEmbedding", "p", {"max_length": 9}, ["c"]),
                 L("MultiHeadAttention", "a", {"num_heads": 4, "key_dim": 4}, ["p"]),
                 L("SelectToken", "t", {"index": 0}, ["a"]), L("Reshape", "r", {"target_shape": [2, 8]}, ["t"]),
                 L("Permute", "q", {"dims": [2, 1]}, ["r"]), L("LSTM", "b", {"units": 3, "bidirectional": True}, ["q"]))
    assert out["c"] == [7, 16] and out["p"] == [7, 16] and out["a"] == [7, 16] and out["t"] == [16]
    assert out["r"] == [2, 8] and out["q"] == [8, 2] and out["b"] == [6]
    out = shapes(IMG, L("Conv2D", "g", {"filters": 9, "kernel_size": 3, "groups": 3, "dilation_rate": 2}, ["x"]),
                 L("Cropping2D", "c", {"cropping": [1, 0, 0, 2]}, ["g"]),
                 L("ReflectionPadding2D", "r", {"padding": [2, 2, 1, 1]}, ["c"]),
                 L("GlobalMaxPool2D", "m", f=["r"]), L("Multiply", "s", f=["r", "m"]))
    assert out["g"] == [4, 4, 9] and out["c"] == [3, 2, 9] and out["r"] == [7, 4, 9] and out["m"] == [9]
    assert out["s"] == [7, 4, 9]


@pytest.mark.parametrize("layers, words", [
    ([IMG, L("Conv2D", "g", {"filters": 8, "groups": 4}, ["x"])], "groups=4 does not divide the input's 6 channels"),
    ([IMG, L("Conv2D", "g", {"filters": 6, "groups": 4}, ["x"])], "filters must be a multiple of groups"),
    ([IMG, L("GroupNorm", "n", {"groups": 4}, ["x"])], "groups=4 does not divide"),
    ([IMG, L("Reshape", "r", {"target_shape": [8, 8]}, ["x"])], "cannot reshape [8, 8, 6] (384 values) to [8, 8] (64 values)"),
    ([IMG, L("Permute", "p", {"dims": [1, 1, 2]}, ["x"])], "not a permutation of 1..3"),
    ([IMG, L("GlobalAvgPool2D", "g", f=["x"]), L("Dense", "d", {"units": 4}, ["g"]),
      L("Multiply", "m", f=["x", "d"])], "Multiply inputs do not broadcast"),
    ([IMG, L("GlobalAvgPool2D", "g", f=["x"]), L("Subtract", "m", f=["g", "x"])], "first input must have the largest rank"),
    ([SEQ, L("MultiHeadAttention", "a", {"num_heads": 2, "key_dim": 8}, ["x"])], "not a layer of this graph"),
    ([SEQ, L("Input", "k", {"shape": [5, 16]}), L("Input", "v", {"shape": [4, 16]}),
      L("MultiHeadAttention", "a", {"num_heads": 2, "key_dim": 8}, ["s", "k", "v"])], "key and value must have the same number of steps"),
    ([SEQ, L("Input", "m", {"shape": [5, 16]}),
      L("MultiHeadAttention", "a", {"num_heads": 2, "key_dim": 8, "causal": True}, ["s", "m"])], "causal mask needs query and key of the same length"),
    ([IMG, L("MultiHeadAttention", "a", {"num_heads": 2, "key_dim": 8}, ["x"])], "needs sequences"),
    ([SEQ, L("PositionEmbedding", "p", {"max_length": 4}, ["s"])], "max_length 4 is shorter than the sequence's 6 steps"),
    ([SEQ, L("SelectToken", "t", {"index": 6}, ["s"])], "index 6 is past the sequence's 6 steps"),
    ([IMG, L("Cropping2D", "c", {"cropping": [4, 4, 0, 0]}, ["x"])], "removes the whole input"),
    ([IMG, L("ReflectionPadding2D", "r", {"padding": [8, 0, 0, 0]}, ["x"])], "must be smaller than the input's rows and cols"),
    ([SEQ, L("LayerNorm", "n", {"epsilon": 0}, ["s"])], "must be >= 1e-12"),
])
def test_bad_new_layers_are_named_with_the_reason(layers, words):
    assert words in problem(*layers)


def test_the_names_papers_and_other_tools_use():
    vocab = load_vocabulary()
    assert vocab.resolve_type("LayerNormalization")[0] == "LayerNorm"
    assert vocab.resolve_type("multi-head attention")[0] == "MultiHeadAttention"
    assert vocab.resolve_type("GroupNormalization")[0] == "GroupNorm"
    assert vocab.resolve_type("InstanceNorm2d")[0] == "InstanceNorm"
    assert vocab.resolve_type("GELU") == ("Activation", {"function": "gelu"})
    assert vocab.resolve_type("SiLU") == ("Activation", {"function": "swish"})
    assert vocab.resolve_type("class token")[0] == "ClassToken"
    params, issues = vocab.normalize_params("MultiHeadAttention", {"heads": 8, "head_dim": 64, "masked": True}, "a")
    assert not issues and params["num_heads"] == 8 and params["key_dim"] == 64 and params["value_dim"] == 64
    assert params["causal"] is True


def test_pytorch_attention_packs_projections_only_when_widths_agree():
    text = emit(load_graph([p for p in EXTRA if p.stem == "layers_attention"][0]), "pytorch")["model_pytorch.py"]
    assert "self.self_att = nn.MultiheadAttention(16, 4, batch_first=True)" in text
    assert "self.cross_att = nn.MultiheadAttention(16, 2, dropout=0.1, kdim=12, vdim=12, batch_first=True)" in text
    assert "self.kv_att = nn.MultiheadAttention(16, 4, kdim=12, vdim=20, batch_first=True)" in text
    causal = text.split("causal_att, _ = ")[1].split("cross_att, _ = ")[0]
    assert "attn_mask=torch.ones(7, 7, dtype=torch.bool" in causal and ".triu(1)" in causal


def test_pytorch_refuses_attention_it_cannot_express_with_the_reason():
    graph = parse_graph({"name": "t", "layers": [SEQ, L("MultiHeadAttention", "a", {"num_heads": 2, "key_dim": 8, "value_dim": 4}, ["s"])]})
    with pytest.raises(EmitError) as err:
        emit(graph, "pytorch")
    assert err.value.declared and err.value.node == "a"
    assert "value_dim" in str(err.value) and "nn.MultiheadAttention" in str(err.value)
    assert "value_dim=4" in emit(graph, "keras")["model_keras.py"]          # Keras can


def test_caffe_refuses_by_design_and_verify_does_not_count_it_a_failure(tmp_path):
    path = [p for p in EXTRA if p.stem == "layers_attention"][0]
    with pytest.raises(EmitError) as err:
        emit(load_graph(path), "caffe")
    assert err.value.declared and "BVLC Caffe has no layer that adds a constant position code" in str(err.value)
    result = verify_graph(path, ["keras", "caffe"], tmp_path, equivalence=False)
    assert result["refused"] == ["caffe"] and result["targets"]["caffe"]["refused"] and result["ok"]


def test_a_gap_in_a_template_is_a_failure_not_a_refusal(tmp_path, monkeypatch):
    real = codegen.load_target("keras")
    broken = codegen.Target(real.name, {**real.spec, "layers": {k: v for k, v in real.spec["layers"].items() if k != "LayerNorm"}},
                            real.layout)
    monkeypatch.setattr(codegen, "load_target", lambda name: broken if name == "keras" else real)
    path = [p for p in EXTRA if p.stem == "layers_attention"][0]
    result = verify_graph(path, ["keras"], tmp_path, equivalence=False)
    assert not result["ok"] and not result["targets"]["keras"]["refused"]
    assert "LayerNorm has no mapping in the keras template" in result["targets"]["keras"]["error"]


def test_caffe_expresses_squeeze_excitation_scaling_and_batchnorm_without_scale(tmp_path):
    doc = {"name": "caffe_modern", "layers": [
        IMG, L("Rescaling", "r", {"scale": 0.5, "offset": 1.0}, ["x"]),
        L("Conv2D", "g", {"filters": 6, "kernel_size": 3, "padding": 1, "groups": 2, "use_bias": False}, ["r"]),
        L("BatchNorm", "bn", {"scale": False}, ["g"]), L("BatchNorm", "bn2", {"center": False}, ["bn"]),
        L("PReLU", "p", f=["bn2"]),
        L("GlobalAvgPool2D", "sq", f=["p"]), L("Dense", "ex", {"units": 6, "activation": "sigmoid"}, ["sq"]),
        L("Multiply", "se", f=["p", "ex"]), L("Multiply", "sq2", f=["se", "se"]), L("Subtract", "d", f=["sq2", "p"]),
        L("GlobalMaxPool2D", "m", f=["d"])]}
    path = tmp_path / "caffe_modern.json"
    path.write_text(__import__("json").dumps(doc))
    text = emit(load_graph(path), "caffe")["model.prototxt"]
    assert 'type: "Bias"' in text and 'type: "Power"' in text and "group: 2" in text and 'type: "PReLU"' in text
    assert "axis: 0" in text and "operation: PROD" in text and "coeff: -1.0" in text
    result = verify_graph(path, ["caffe"], tmp_path / "work", equivalence=False)
    caffe = result["targets"]["caffe"]
    assert caffe["built"] and caffe["shape_ok"] and caffe["netspec_ok"], caffe.get("error")


def _bneck(**params):
    base = {"in_filters": 8, "expanded": 8, "filters": 8}
    g = parse_graph({"name": "t", "layers": [IMG | {"layer_params": {"shape": [8, 8, 8]}},
                                             L("mobilenetv3_bneck", "b", base | params, ["x"]),
                                             L("Flatten", "f", f=["b"])]})
    return [n.name for n in g.nodes], g


def test_block_layers_present_only_where_their_condition_holds():
    names, g = _bneck()
    assert "b/expand" not in names and "b/se/scale" not in names and "b/add" in names
    assert g.node("b/depthwise").inputs == ["x"] and g.node("f").inputs == ["b/add"]
    names, g = _bneck(expanded=24, filters=16, strides=2, se_filters=8, activation="hard_swish")
    assert {"b/expand", "b/se/squeeze", "b/se/scale"} <= set(names) and "b/add" not in names
    assert g.node("b/project").inputs == ["b/se/scale"] and g.node("f").inputs == ["b/project_bn"]
    assert g.node("b/expand_act").params["function"] == "hard_swish"
    assert g.node("b/se/expand").params["activation"] == "hard_sigmoid"


def test_a_graphs_own_block_may_use_conditions():
    doc = {"name": "t", "blocks": {"maybe_relu": {
        "params": {"relu": True}, "inputs": ["x"], "output": "${'act' if relu else 'conv'}",
        "layers": [L("Conv2D", "conv", {"filters": 4, "kernel_size": 1}, ["x"]),
                   L("Activation", "act", {"function": "relu"}, ["conv"]) | {"when": "${relu}"}]}},
        "layers": [IMG, L("maybe_relu", "a", {}, ["x"]), L("maybe_relu", "b", {"relu": False}, ["a"])]}
    g = parse_graph(copy.deepcopy(doc))
    assert [n.name for n in g.nodes] == ["x", "a/conv", "a/act", "b/conv"]
    doc["blocks"]["maybe_relu"]["layers"][1]["when"] = 3
    with pytest.raises(GraphError) as err:
        parse_graph(doc)
    assert "when" in str(err.value)


def test_the_editor_offers_the_new_types_and_blocks():
    from dlpaper2code.web.service import vocabulary_payload

    payload = vocabulary_payload()
    for name in ("LayerNorm", "GroupNorm", "InstanceNorm", "MultiHeadAttention", "PositionalEncoding",
                 "PositionEmbedding", "ClassToken", "SelectToken", "Reshape", "Permute", "Multiply", "Subtract",
                 "Cropping2D", "ReflectionPadding2D", "GlobalMaxPool2D", "PReLU", "Rescaling"):
        assert name in payload["layers"], name
    assert payload["layers"]["MultiHeadAttention"]["arity"] == [1, 3]
    assert payload["layers"]["MultiHeadAttention"]["params"]["causal"]["kind"] == "bool"
    for name in ("transformer_encoder", "transformer_encoder_prenorm", "transformer_decoder", "squeeze_excite",
                 "mobilenetv3_bneck", "fire_module", "shufflenet_unit", "vit_patch_embedding", "swin_patch_merging"):
        assert name in payload["blocks"], name
    enc = payload["blocks"]["transformer_encoder"]["params"]
    assert enc["dropout"]["kind"] == "float" and enc["d_model"]["required"] and enc["activation"]["kind"] == "str"
    assert payload["blocks"]["transformer_decoder"]["arity"] == [2, 2]
    assert {"gelu", "hard_swish", "mish"} <= set(payload["activations"])


def test_the_reader_is_measured_on_the_new_layer_types(tmp_path):
    """bench-read --graphs: draws a graph of new types (a Keras 3 look) and reads it back."""
    from dlpaper2code.eval.reader_bench import bench_graph_diagrams

    doc = {"name": "modern_read", "layers": [
        SEQ, L("LayerNormalization", "ln", {"epsilon": 1e-6}, ["s"]),
        L("MultiHeadAttention", "att", {"num_heads": 2, "key_dim": 8}, ["ln"]),
        L("Dense", "ff", {"units": 16, "activation": "gelu"}, ["att"]), L("SelectToken", "cls", f=["ff"]),
        L("Dense", "out", {"units": 3}, ["cls"])]}
    path = tmp_path / "modern_read.json"
    path.write_text(__import__("json").dumps(doc))
    report = bench_graph_diagrams([path], tmp_path / "bench", styles={"keras3": {"look": "keras3"}}, seeds=1)
    row, = report["rows"]
    assert row["status"] == "ok" and row["layers"] == 6
    assert row["layer_accuracy"] == 1.0 and row["edge_accuracy"] == 1.0, row
    assert (tmp_path / "bench" / "summary.json").is_file() and report["summary"]["keras3"]["images"] == 1


def test_bench_read_on_a_bad_graph_names_it_and_draws_nothing(tmp_path, capsys):
    from dlpaper2code.cli import main

    bad = tmp_path / "bad.json"
    bad.write_text('{"layers": [{"layer_type": "Conv2D", "layer_name": "c"}]}')
    good = [p for p in EXTRA if p.stem == "layers_activations"][0]
    assert main(["bench-read", "--graphs", str(good), str(bad), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "bad.json" in err and "Conv2D needs parameter 'filters'" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()
    assert main(["bench-read", "--graphs", str(tmp_path / "missing.json"), "-o", str(tmp_path / "out")]) == 2
    assert "missing.json: graph: file not found" in capsys.readouterr().err
