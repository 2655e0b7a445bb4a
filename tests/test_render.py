"""Diagram rendering: the Keras 3 look against Keras' own model_to_dot, pixel
ground truth, OCR of the drawn labels, the fast renderer against Graphviz's
cairo PNG, determinism, speed and knob validation."""
import html
import json
import random
import re

import numpy as np
import pytest
from PIL import Image

from dlpaper2code.core.graph import load_graph, parse_graph
from dlpaper2code.render import LOOKS, check_truth, load_styles, render_diagram, resolve_style, validate_knobs
from dlpaper2code.eval.render_speed import bench_render, chain_graph
from dlpaper2code.render.gv import run_graphviz
from dlpaper2code.render.looks import caffe_type

from conftest import EXTRA, ROOT, ZOO, small_cnn

GRAPHS = {p.stem: p for p in ZOO + EXTRA}


def graph_edges(graph):
    return sorted({(i, n.name) for n in graph.nodes for i in n.inputs})


# --------------------------------------------------------------- Keras 3 look vs Keras
def _real_keras_dot(graph):
    import keras

    from dlpaper2code.emit.codegen import emit

    src = emit(graph, "keras")["model_keras.py"]
    ns = {"__name__": "emitted_model"}
    exec(compile(src, "model_keras.py", "exec"), ns)
    with keras.device("meta"):                       # no weights allocated
        model = ns["build_model"]()
    return keras.utils.model_to_dot(model, show_shapes=True, show_layer_names=True)


def _visible_cells(label: str) -> list[str]:
    """The text of each table cell of an HTML-like label, tags stripped."""
    cells = re.findall(r"<td[^>]*>(.*?)</td>", label)
    return [" ".join(html.unescape(re.sub(r"<[^>]+>", "", c)).split()) for c in cells]


@pytest.mark.parametrize("graph_name", ["small_cnn", "two_inputs", "imdb_lstm"])
def test_keras3_look_matches_keras_model_to_dot(graph_name, tmp_path):
    graph = parse_graph(small_cnn()) if graph_name == "small_cnn" else load_graph(GRAPHS[graph_name])
    real = _real_keras_dot(graph)
    real_nodes = {n.get_name(): n for n in real.get_nodes() if n.get("label")}
    real_cells, real_name = {}, {}
    for node_id, node in real_nodes.items():
        cells = _visible_cells(node.get("label"))
        layer = re.search(r"<b>(.*?)</b>", node.get("label")).group(1)
        real_cells[layer], real_name[node_id] = cells, layer
    real_edges = sorted((real_name[e.get_source()], real_name[e.get_destination()]) for e in real.get_edges())
    assert len(real_cells) == len(graph.nodes), "the emitted Keras model has other layers than the graph"

    truth = render_diagram(graph, {"look": "keras3"}, tmp_path / "k.png")
    ours = {n["layer"]: [t["text"] for t in n["texts"]] for n in truth["nodes"]}
    assert ours == real_cells
    assert sorted(map(tuple, truth["layer_edges"])) == real_edges == graph_edges(graph)
    assert sorted((e["from_layer"], e["to_layer"]) for e in truth["edges"]) == real_edges

    # same labels -> same box sizes: lay out Keras' own DOT at our dpi
    real.set("dpi", 96)
    layout = json.loads(run_graphviz(real.to_string(), ("json",))["json"])
    real_size = {real_name[o["name"]]: (o["width"], o["height"]) for o in layout["objects"] if o["name"] in real_name}
    ours_layout = json.loads(run_graphviz(
        __import__("dlpaper2code.render.looks", fromlist=["build_diagram"]).build_diagram(
            graph, resolve_style({"look": "keras3"}, 0)).dot, ("json",))["json"])
    ids = {n["id"]: n["layer"] for n in truth["nodes"]}
    our_size = {ids[o["name"]]: (o["width"], o["height"]) for o in ours_layout["objects"] if o["name"] in ids}
    assert our_size == real_size
    assert dict(real.get_attributes()) | {"dpi": 96} == {"rankdir": "TB", "concentrate": True, "dpi": 96, "splines": "ortho"}
    k = resolve_style({"look": "keras3"}, 0)
    assert (k["rankdir"], k["concentrate"], k["splines"], k["penwidth"], k["fontname"]) == ("TB", True, "ortho", 2, "Helvetica")
    assert all(e.get("penwidth") == "2" for e in real.get_edges())


# --------------------------------------------------------------- ground truth
@pytest.mark.parametrize("look", LOOKS)
@pytest.mark.parametrize("rankdir", ["TB", "LR", "BT"])
def test_ground_truth_is_consistent(look, rankdir, tmp_path):
    for name in ("two_inputs", "inception", "layers_sequence"):
        graph = load_graph(GRAPHS[name])
        png = tmp_path / f"{name}.png"
        truth = render_diagram(graph, {"look": look, "rankdir": rankdir}, png)
        assert check_truth(truth) == []
        json.dumps(truth)
        with Image.open(png) as im:
            assert im.size == (truth["width"], truth["height"])
        assert truth["image"] == png.name and truth["knobs"]["rankdir"] == rankdir
        assert sorted(map(tuple, truth["layer_edges"])) == graph_edges(graph)
        layers = [n for n in truth["nodes"] if n["role"] == "layer"]
        assert [n["layer"] for n in layers] == [n.name for n in graph.nodes]
        for n in layers:
            assert n["layer_type"] == graph.node(n["layer"]).type
            assert n["label"].split("\n")[0].startswith(n["layer"])
        ids = {n["id"]: n for n in truth["nodes"]}
        drawn = {(e["source"], e["target"]) for e in truth["edges"]}
        if look == "caffe":
            blobs = {n["layer"]: n["id"] for n in truth["nodes"] if n["role"] == "blob"}
            lids = {n["layer"]: n["id"] for n in layers}
            assert set(blobs) == set(lids)                       # one output blob per layer
            assert all(ids[b]["label"] == layer for layer, b in blobs.items())
            expect = {(lids[n], blobs[n]) for n in lids} | {(blobs[a], lids[b]) for a, b in graph_edges(graph)}
            assert drawn == expect and len(truth["edges"]) == len(expect)
        else:
            assert all(n["role"] == "layer" for n in truth["nodes"])
            assert {(ids[s]["layer"], ids[t]["layer"]) for s, t in drawn} == set(graph_edges(graph))


def test_check_truth_catches_broken_ground_truth(tmp_path):
    truth = render_diagram(load_graph(GRAPHS["two_inputs"]), {"look": "keras2"}, tmp_path / "a.png")
    truth["nodes"][3]["box"][2] = truth["width"] + 50
    truth["nodes"][1]["texts"][0]["box"][1] -= 40
    truth["edges"][0]["points"].reverse()
    problems = check_truth(truth)
    assert any("outside the" in p for p in problems)
    assert any("outside its node box" in p for p in problems)
    assert any("starts" in p for p in problems)


def test_concentrated_edges_get_their_whole_path(tmp_path):
    """concentrate=true draws shared runs once; every graph edge still gets a
    path from its source box to its target box."""
    graph = load_graph(GRAPHS["inception"])
    truth = render_diagram(graph, {"look": "caffe", "concentrate": True, "rankdir": "TB"}, tmp_path / "c.png")
    assert check_truth(truth) == []
    assert len(truth["edges"]) == len(graph.nodes) + len(graph_edges(graph))


def test_caffe_labels_types_and_edge_labels(tmp_path):
    graph = load_graph(GRAPHS["layers_sequence"])
    lr = render_diagram(graph, {"look": "caffe", "rankdir": "LR"}, tmp_path / "lr.png")
    tb = render_diagram(graph, {"look": "caffe", "rankdir": "TB"}, tmp_path / "tb.png")
    by_layer = {n["layer"]: n["label"] for n in tb["nodes"] if n["role"] == "layer"}
    assert by_layer["rnn"] == "rnn (RNN)" and by_layer["gru"] == "gru (GRU)"   # draw_type of refused layers
    assert by_layer["c1"] == "c1 (Convolution) kernel size: 3 stride: 1 pad: 1"
    assert by_layer["per_step"] == "per_step (InnerProduct)"
    lr_layer = {n["layer"]: n["label"] for n in lr["nodes"] if n["role"] == "layer"}
    assert lr_layer["c3"] == "c3\n(Convolution)\nkernel size: 3\nstride: 2\npad: 2"  # LR: one descriptor per line
    labels = {(e["from_layer"], e["to_layer"]): e["label"] for e in tb["edges"] if e["source"].startswith("L")}
    assert labels[("c1", "c1")] == "16" and labels[("out", "out")] == "3" and labels[("rnn", "rnn")] is None
    for e in tb["edges"]:
        if e["label"]:
            box = e["label_box"]
            assert 0 <= box[0] < box[2] <= tb["width"] and 0 <= box[1] < box[3] <= tb["height"]
    image = load_graph(GRAPHS["layers_image"])
    t = render_diagram(image, {"look": "caffe", "rankdir": "TB"}, tmp_path / "im.png")
    lab = {n["layer"]: n["label"] for n in t["nodes"] if n["role"] == "layer"}
    assert lab["mp"] == "mp (Pooling MAX) kernel size: 2 stride: 1 pad: 0"
    assert lab["ap"] == "ap (Pooling AVE) kernel size: 3 stride: 2 pad: 0"
    assert lab["sig"] == "sig (Sigmoid)" and caffe_type(image.node("zp")) == "Padding"
    fills = load_styles()["type_colors"]
    assert fills["Convolution"] == "#FF5050" and fills["Pooling"] == "#FF9900" and fills["InnerProduct"] == "#CC33FF"


# --------------------------------------------------------------- OCR
@pytest.mark.parametrize("look", LOOKS)
def test_tesseract_reads_the_layer_names(look, tmp_path):
    import pytesseract

    graph = load_graph(GRAPHS["two_inputs"])
    png = tmp_path / "ocr.png"
    truth = render_diagram(graph, {"look": look, "rankdir": "TB"}, png)
    image = Image.open(png).convert("L")
    layers = [n for n in truth["nodes"] if n["role"] == "layer"]
    sample = [layers[i] for i in (0, 2, 6, 8, 10)]
    found = 0
    for node in sample:
        x0, y0, x1, y1 = node["box"]
        crop = image.crop((int(x0) - 2, int(y0) - 2, int(x1) + 3, int(y1) + 3))
        crop = crop.resize((crop.width * 2, crop.height * 2), Image.LANCZOS)
        text = pytesseract.image_to_string(crop, config="--psm 6")
        words = re.findall(r"[A-Za-z0-9_]+", text)
        name = node["layer"]
        if any(w == name or (len(name) > 4 and _similar(w, name) >= 0.8) for w in words):
            found += 1
        else:
            print(look, name, repr(text))
    assert found >= len(sample) - 1, f"OCR found {found} of {len(sample)} layer names"


def _similar(a: str, b: str) -> float:
    import difflib
    return difflib.SequenceMatcher(None, a.lower(), b.lower()).ratio()


# --------------------------------------------------------------- xdot vs cairo
def _ink(path, background) -> np.ndarray:
    rgb = np.asarray(Image.open(path).convert("RGB")).astype(int)
    return np.abs(rgb - np.array(background)).sum(axis=2) > 90


def _dilate(mask: np.ndarray, r: int = 1) -> np.ndarray:
    out = mask.copy()
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            out |= np.roll(np.roll(mask, dy, 0), dx, 1)
    return out


@pytest.mark.parametrize("look", LOOKS)
def test_xdot_renderer_agrees_with_graphviz_cairo(look, tmp_path):
    graph = load_graph(GRAPHS["two_inputs"])
    fast = render_diagram(graph, {"look": look, "rankdir": "TB"}, tmp_path / "x.png")
    ref = render_diagram(graph, {"look": look, "rankdir": "TB", "renderer": "cairo"}, tmp_path / "c.png")
    assert abs(fast["width"] - ref["width"]) <= 1 and abs(fast["height"] - ref["height"]) <= 1
    strip = lambda t: {k: v for k, v in t.items() if k not in ("knobs", "image")}      # noqa: E731
    assert strip(fast) == strip(ref)
    a, b = _ink(tmp_path / "x.png", (255, 255, 255)), _ink(tmp_path / "c.png", (255, 255, 255))
    h, w = min(a.shape[0], b.shape[0]), min(a.shape[1], b.shape[1])
    a, b = a[:h, :w], b[:h, :w]
    recall = (b & _dilate(a)).sum() / b.sum()         # cairo ink we drew (within a pixel)
    precision = (a & _dilate(b)).sum() / a.sum()      # our ink cairo also has
    assert recall > 0.93 and precision > 0.93, (recall, precision)
    # boxes: the node fill/outline ink inside each ground-truth box agrees
    for n in fast["nodes"]:
        x0, y0, x1, y1 = (int(round(v)) for v in n["box"])
        fa, fb = a[y0:y1, x0:x1].mean(), b[y0:y1, x0:x1].mean()
        assert abs(fa - fb) < 0.08, (n["layer"], fa, fb)
    # text: the glyph ink inside every text box (against the box's own background)
    ra, rb = (np.asarray(Image.open(tmp_path / f).convert("RGB")).astype(int) for f in ("x.png", "c.png"))
    hit = total = 0
    for n in fast["nodes"]:
        for t in n["texts"]:
            x0, y0, x1, y1 = (int(round(v)) for v in t["box"])
            ta, tb = _text_ink(ra[y0:y1, x0 - 2:x1 + 2]), _text_ink(rb[y0:y1, x0 - 2:x1 + 2])
            hit += (ta & _dilate(tb)).sum() + (tb & _dilate(ta)).sum()
            total += ta.sum() + tb.sum()
    assert hit / total > 0.9, hit / total


def _text_ink(rgb: np.ndarray) -> np.ndarray:
    flat = rgb.reshape(-1, 3)
    colors, counts = np.unique(flat, axis=0, return_counts=True)
    return np.abs(rgb - colors[counts.argmax()]).sum(axis=2) > 150


def test_renders_are_deterministic(tmp_path):
    graph = load_graph(GRAPHS["inception"])
    varied = {"look": {"choice": list(LOOKS)}, "rankdir": {"choice": ["TB", "LR", "BT"]}, "dpi": {"range": [60, 120]},
              "fontname": {"choice": ["Helvetica", "Times-Roman", "Courier", "Liberation Serif"]},
              "fill_color": {"choice": ["white", "by_type", "#dbe9f6"]}, "splines": {"choice": ["ortho", "spline"]}}
    for seed in (0, 1, 2):
        t1 = render_diagram(graph, varied, tmp_path / "a.png", seed=seed)
        t2 = render_diagram(graph, varied, tmp_path / "b.png", seed=seed)
        assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()
        assert {**t1, "image": None} == {**t2, "image": None}
    for r in ("xdot", "cairo"):
        render_diagram(graph, {"look": "caffe", "renderer": r}, tmp_path / "a.png")
        render_diagram(graph, {"look": "caffe", "renderer": r}, tmp_path / "b.png")
        assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()


def test_large_image_model_renders_fast_without_a_framework(tmp_path):
    graph = parse_graph({"name": "big", "layers": [
        {"layer_type": "Input", "layer_name": "image", "layer_params": {"shape": [224, 224, 3]}},
        {"layer_type": "Conv2D", "layer_name": "conv", "layer_params": {"filters": 256, "kernel_size": 3}, "from_layers": ["image"]},
        {"layer_type": "Flatten", "layer_name": "flat", "from_layers": ["conv"]},
        {"layer_type": "Dense", "layer_name": "fc1", "layer_params": {"units": 500}, "from_layers": ["flat"]},
        {"layer_type": "Dense", "layer_name": "fc2", "layer_params": {"units": 1000}, "from_layers": ["fc1"]}]})
    for look in LOOKS:
        render_diagram(graph, {"look": look}, tmp_path / "w.png")          # fonts, templates
        truth = render_diagram(graph, {"look": look}, tmp_path / f"{look}.png")   # speed: bench-render
        assert check_truth(truth) == []
    conv = [n for n in truth["nodes"] if n["layer"] == "conv" and n["role"] == "layer"][0]
    assert conv["label"] == "conv\n(Convolution)\nkernel size: 3\nstride: 1\npad: 0"
    k3 = render_diagram(graph, {"look": "keras3"}, tmp_path / "k.png")
    assert [t["text"] for t in k3["nodes"][2]["texts"]] == [
        "flat (Flatten)", "Input shape: (None, 222, 222, 256)", "Output shape: (None, 12616704)"]


def test_bench_render_reports_ms_and_pixels():
    res = bench_render([chain_graph(5)], {"k": {"look": "keras2"}}, repeats=1)
    assert res["k"]["ms_per_image"] > 0 and res["k"]["px_per_image"] > 10000
    assert res["k"]["per_graph"][0]["layers"] == 7


# --------------------------------------------------------------- knobs
@pytest.mark.parametrize("knobs, name", [
    ({"colour": "red"}, "colour"),
    ({"dpi": 5}, "dpi"),
    ({"dpi": 96.5}, "dpi"),
    ({"rankdir": "RL"}, "rankdir"),
    ({"fill_color": "not-a-colour"}, "fill_color"),
    ({"fontname": "Evil\"Font"}, "fontname"),
    ({"show_shapes": "yes"}, "show_shapes"),
    ({"look": {"choice": ["keras3", "visio"]}}, "look"),
    ({"fontsize": {"range": [10, 99]}}, "fontsize"),
    ({"rankdir": {"range": [1, 2]}}, "rankdir"),
    ({"splines": {"choice": []}}, "splines"),
    ({"cellpadding": {"range": [2.5, 8]}}, "cellpadding"),
    ({"dpi": {"pick": [60, 90]}}, "dpi"),
    ({"show_layer_names": False, "show_types": False}, "show_layer_names"),
])
def test_bad_knob_is_a_value_error_naming_it(knobs, name, tmp_path):
    png = tmp_path / "bad.png"
    with pytest.raises(ValueError, match=name):
        render_diagram(parse_graph(small_cnn()), knobs, png)
    assert list(tmp_path.iterdir()) == []            # nothing written, no temp file left


def test_knob_resolution_is_seeded_and_typed():
    spec = {"look": {"choice": list(LOOKS)}, "dpi": {"range": [60, 120]}, "penwidth": {"range": [0.5, 3]},
            "rankdir": {"choice": ["TB", "LR", "BT"]}, "fill_color": {"choice": ["lightyellow", "by_type"]}}
    a = [resolve_style(spec, random.Random(s)) for s in range(40)]
    b = [resolve_style(spec, random.Random(s)) for s in range(40)]
    assert a == b
    assert {k["look"] for k in a} == set(LOOKS) and {k["rankdir"] for k in a} == {"TB", "LR", "BT"}
    assert all(isinstance(k["dpi"], int) and 60 <= k["dpi"] <= 120 for k in a)
    assert all(isinstance(k["penwidth"], float) and 0.5 <= k["penwidth"] <= 3 for k in a)
    assert {k["fill_color"] for k in a} == {"#ffffe0", "by_type"}          # colours become #rrggbb
    assert len({k["dpi"] for k in a}) > 10
    gen = resolve_style(spec, np.random.default_rng(3))
    assert gen["look"] in LOOKS and set(gen) == set(load_styles()["knobs"])
    defaults = resolve_style({"look": "caffe"}, 0)
    assert (defaults["rankdir"], defaults["fill_color"], defaults["blob_shape"]) == ("LR", "by_type", "octagon")
    assert resolve_style({"look": "caffe", "rankdir": "BT"}, 0) == {**defaults, "rankdir": "BT"}
    assert resolve_style({"look": "keras2", "splines": "line"}, 0)["concentrate"] is False
    validate_knobs({"look": "keras2", "dpi": {"range": [60, 61]}})


def test_every_look_default_is_declared_and_params_styles_are_valid():
    import yaml
    styles = load_styles()
    for look in LOOKS:
        assert set(styles["looks"][look]) == set(styles["knobs"])
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    assert {"keras3", "keras2", "caffe", "varied"} <= set(params["render"]["styles"])
    for knobs in params["render"]["styles"].values():
        validate_knobs(knobs)
        resolve_style(knobs, 7)


def test_varied_style_renders_sound_ground_truth(tmp_path):
    import yaml
    varied = yaml.safe_load((ROOT / "params.yaml").read_text())["render"]["styles"]["varied"]
    graphs = [load_graph(p) for p in ZOO[:4]] + [chain_graph(12)]
    looks = set()
    for seed in range(10):
        truth = render_diagram(graphs[seed % len(graphs)], varied, tmp_path / "v.png", seed=seed)
        looks.add(truth["look"])
        assert check_truth(truth) == [], (seed, truth["knobs"])
    assert len(looks) >= 2


def test_graphviz_crash_falls_back_and_the_server_recovers(tmp_path):
    """Graphviz 2.43 aborts on some orthogonal layouts; that image falls back
    to polyline routing (recorded) and the next layout still works."""
    graph = chain_graph(10)
    truth = render_diagram(graph, {"look": "caffe", "splines": "ortho"}, tmp_path / "o.png")
    assert check_truth(truth) == []
    if "splines_fallback" in truth["knobs"]:
        assert truth["knobs"]["splines"] == "polyline"
    again = render_diagram(graph, {"look": "keras3"}, tmp_path / "k.png")
    assert check_truth(again) == []


def test_names_with_label_syntax_are_drawn_verbatim(tmp_path):
    """Record and HTML-label syntax ({ } | \\ & [ ]) in layer names is escaped."""
    names = ["in{p}", "c|o\\nv&1", "po;ol[1]", "d#e:n/s=e", "x\\N"]
    graph = parse_graph({"name": "weird", "layers": [
        {"layer_type": "Input", "layer_name": names[0], "layer_params": {"shape": [8, 8, 1]}},
        {"layer_type": "Conv2D", "layer_name": names[1], "layer_params": {"filters": 2, "kernel_size": 3}, "from_layers": [names[0]]},
        {"layer_type": "MaxPool2D", "layer_name": names[2], "layer_params": {"pool_size": 2}, "from_layers": [names[1]]},
        {"layer_type": "Flatten", "layer_name": names[3], "from_layers": [names[2]]},
        {"layer_type": "Dense", "layer_name": names[4], "layer_params": {"units": 3}, "from_layers": [names[3]]}]})
    for look in LOOKS:
        truth = render_diagram(graph, {"look": look, "rankdir": "TB"}, tmp_path / f"{look}.png")
        assert check_truth(truth) == []
        heads = [n["texts"][0]["text"] for n in truth["nodes"] if n["role"] == "layer"]
        assert [h.split(" (")[0].split(": ")[0] for h in heads] == names, heads
        if look == "caffe":
            assert [n["label"] for n in truth["nodes"] if n["role"] == "blob"] == names


def test_render_graph_file_takes_a_look_or_a_params_style(tmp_path):
    from dlpaper2code.render import render_graph_file
    truth = render_graph_file(GRAPHS["lenet5"], tmp_path / "a.png", style="varied", seed=4)
    assert truth["look"] in LOOKS and (tmp_path / "a.png").is_file()
    truth = render_graph_file(GRAPHS["lenet5"], tmp_path / "b.png", style="caffe", rankdir="TB")
    assert truth["knobs"]["rankdir"] == "TB" and check_truth(truth) == []
    with pytest.raises(ValueError, match="unknown style 'nope'"):
        render_graph_file(GRAPHS["lenet5"], tmp_path / "c.png", style="nope")


@pytest.mark.parametrize("ncolors, width", [(2, 13), (3, 7), (4, 8), (16, 31), (17, 5), (200, 64)])
def test_png_encoder_round_trips(ncolors, width, monkeypatch):
    import io
    import zlib

    from dlpaper2code.render import raster

    rng = np.random.default_rng(ncolors)
    indices = rng.integers(0, ncolors, size=(9, width), dtype=np.uint8)
    palette = [int(v) for v in rng.integers(0, 256, size=3 * ncolors)]
    for lib in (raster._zlib, zlib):
        monkeypatch.setattr(raster, "_zlib", lib)
        for level in (1, 6):
            im = Image.open(io.BytesIO(raster.encode_png(indices, palette, level)))
            assert im.mode == "P" and im.size == (width, 9)
            assert (np.asarray(im) == indices).all()
            assert im.getpalette()[:3 * ncolors] == palette
