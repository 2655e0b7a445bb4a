"""The diagram reader (dlpaper2code.read): accuracy on a small fixed rendered
set against the goals, direction in every orientation, bad inputs, scoring."""
from __future__ import annotations

import copy
import io
import json
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from dlpaper2code.core.graph import parse_graph
from dlpaper2code.read import read_diagram
from dlpaper2code.eval.reader_score import score_diagram, score_set, shown_params, summarize
from dlpaper2code.render import render_diagram
from dlpaper2code.simulate.dataset import ShardOptions, write_shard
from dlpaper2code.simulate.grammar import generate_model

ROOT = Path(__file__).resolve().parents[1]
STYLES = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))["render"]["styles"]
# The goals (issue 4) as mean layer / edge accuracy per style.  On this set the
# reader measured 100% / 100% on keras3, keras2 and caffe and 100% / 99.6% on
# varied; the floors are the goals themselves.
GOALS = {"keras3": (0.995, 0.99), "keras2": (0.995, 0.99), "caffe": (0.995, 0.99), "varied": (0.97, 0.95)}
SET_SEED = 20240
SET_MODELS = [(6, 0), (10, 0), (14, 0), (18, 0), (22, 0), (26, 0), (31, 0), (36, 0)]


@pytest.fixture(scope="session")
def fixed_set(tmp_path_factory):
    out = tmp_path_factory.mktemp("read_set")
    write_shard(out, SET_MODELS, SET_SEED, ShardOptions(styles=STYLES, keras_config=False, caffe=False))
    return out


@pytest.fixture(scope="session")
def one_diagram(tmp_path_factory):
    """A small model with a branch, drawn in the Keras 2 look."""
    out = tmp_path_factory.mktemp("read_one")
    graph, doc = generate_model(12, 1, 7)
    png = out / "k2.png"
    truth = render_diagram(graph, {"look": "keras2"}, png, seed=0)
    return png, truth, doc


def test_fixed_set_meets_the_goals(fixed_set):
    rows = score_set(fixed_set / "manifest.csv", fixed_set)
    summary = summarize(rows)
    report = json.dumps(summary, indent=1)
    assert set(summary) == set(GOALS) | {"all"}, report
    for style, (layer_goal, edge_goal) in GOALS.items():
        m = summary[style]
        assert m["images"] == len(SET_MODELS) and m["not_ok"] == 0, (style, report)
        assert m["layer_accuracy"] >= layer_goal, (style, report)
        assert m["edge_accuracy"] >= edge_goal, (style, report)
    # shapes and Caffe labels give the hyper-parameters the paper left out
    for style in ("keras3", "keras2", "caffe"):
        assert summary[style]["hparam_accuracy"] >= 0.97, (style, report)


def test_graph_document_is_valid(one_diagram):
    png, truth, doc = one_diagram
    result = read_diagram(str(png))
    assert result["status"] == "ok", result["message"]
    graph = parse_graph(result["graph"])          # validates, infers every shape
    assert {n.name: n.type for n in graph.nodes} == {layer["layer_name"]: layer["layer_type"] for layer in doc["layers"]}
    assert {(i, n.name) for n in graph.nodes for i in n.inputs} == {tuple(e) for e in truth["layer_edges"]}
    want = {layer["layer_name"]: layer["layer_params"] for layer in doc["layers"]}
    for layer in result["graph"]["layers"]:
        for pname in shown_params(layer["layer_type"], truth["knobs"]):
            assert layer["layer_params"][pname] == want[layer["layer_name"]][pname], (layer, pname)
    assert set(result["seconds"]) >= {"boxes", "arrows", "ocr", "total", "cpu"}


@pytest.mark.parametrize("look,rankdir", [("keras2", "TB"), ("keras2", "LR"), ("keras2", "BT"),
                                          ("caffe", "TB"), ("caffe", "BT"), ("keras3", "LR")])
def test_direction_in_every_orientation(look, rankdir, tmp_path):
    graph, doc = generate_model(14, 2, 5)
    png = tmp_path / f"{look}_{rankdir}.png"
    truth = render_diagram(graph, {"look": look, "rankdir": rankdir}, png, seed=1)
    result = read_diagram(str(png))
    assert result["status"] == "ok", result["message"]
    assert result["flow"] == rankdir
    s = score_diagram(result, truth, doc)
    assert s["layer_accuracy"] == 1.0 and s["edge_accuracy"] == 1.0 and s["extra_edges"] == 0, s


def test_array_and_bytes_inputs(one_diagram):
    png, truth, doc = one_diagram
    data = png.read_bytes()
    arr = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))[:, :, ::-1]
    for image in (data, arr, arr[:, :, 0]):
        result = read_diagram(image, source="diagram")
        assert result["status"] == "ok", result["message"]
        assert score_diagram(result, truth, doc)["exact"]


# ------------------------------------------------------------------ bad input
def _plot_png(path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.5), dpi=100)
    x = np.linspace(0, 10, 200)
    ax.plot(x, np.sin(x), label="train")
    ax.plot(x, np.cos(x), label="validation")
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy")
    ax.set_title("Learning curves")
    ax.legend()
    fig.savefig(path)
    plt.close(fig)


def _photo_png(path: Path) -> None:
    rng = np.random.default_rng(3)
    small = rng.random((12, 16, 3))
    img = np.asarray(Image.fromarray((small * 255).astype(np.uint8)).resize((640, 480), Image.BICUBIC), np.float32)
    img += rng.normal(0, 12, img.shape)
    Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(path)


def _bomb_png(path: Path) -> None:
    """A valid PNG header claiming 20,000 x 20,000 pixels (1.2 GB decoded)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", 20000, 20000, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 100))
                     + chunk(b"IEND", b""))


@pytest.mark.parametrize("kind,statuses,words", [
    ("blank", ("no_diagram",), "no diagram"),
    ("noise", ("no_diagram",), "no diagram"),
    ("photo", ("no_diagram",), "no diagram"),
    ("plot", ("no_diagram",), "no diagram"),
    ("wide", ("no_diagram", "error"), ""),
    ("huge", ("error",), "20000 x 20000"),
    ("truncated", ("error",), "truncated"),
    ("text", ("error",), "not an image"),
    ("empty", ("error",), "empty"),
    ("missing", ("error",), "not found"),
])
def test_bad_input_gives_a_clear_status(kind, statuses, words, tmp_path, one_diagram):
    path = tmp_path / f"{kind}.png"
    if kind == "blank":
        Image.new("RGB", (400, 300), "white").save(path)
    elif kind == "noise":
        Image.fromarray((np.random.default_rng(0).random((300, 400, 3)) * 255).astype(np.uint8)).save(path)
    elif kind == "photo":
        _photo_png(path)
    elif kind == "plot":
        _plot_png(path)
    elif kind == "wide":
        img = np.full((120, 20000, 3), 255, np.uint8)
        img[60, :] = 0                                   # a 20,000-pixel line, no boxes
        Image.fromarray(img).save(path)
    elif kind == "huge":
        _bomb_png(path)
    elif kind == "truncated":
        data = one_diagram[0].read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif kind == "text":
        path.write_text("layer_type: Conv2D\n")
    elif kind == "empty":
        path.write_bytes(b"")
    result = read_diagram(str(path))
    assert result["status"] in statuses, result
    assert str(path) in result["message"] and words in result["message"], result["message"]
    assert result["graph"] is None


def test_wrong_argument_type():
    result = read_diagram(12345)
    assert result["status"] == "error" and "expected a path" in result["message"]


def test_batch_goes_on_after_bad_images(tmp_path, one_diagram):
    bad = tmp_path / "bad.png"
    bad.write_text("not a png")
    results = [read_diagram(str(p)) for p in (bad, one_diagram[0], tmp_path / "gone.png")]
    assert [r["status"] for r in results] == ["error", "ok", "error"]


# ------------------------------------------------------------------ scoring
def _perfect(truth: dict, doc: dict) -> dict:
    """The result a perfect reader would return for a rendered diagram."""
    params = {layer["layer_name"]: layer["layer_params"] for layer in doc["layers"]}
    nodes = [{"box": n["box"], "text": n["label"], "layer_type": n["layer_type"], "layer_name": n["layer"],
              "params": params[n["layer"]], "role": "layer", "confidence": 1.0}
             for n in truth["nodes"] if n["role"] == "layer"]
    edges = [{"source": a, "target": b, "points": []} for a, b in truth["layer_edges"]]
    return {"status": "ok", "message": "", "graph": doc, "nodes": nodes, "edges": edges, "seconds": {"total": 0.1}}


def test_score_counts_what_is_wrong(one_diagram):
    png, truth, doc = one_diagram
    perfect = _perfect(truth, doc)
    s = score_diagram(perfect, truth, doc)
    assert s["layer_accuracy"] == 1.0 and s["edge_accuracy"] == 1.0 and s["exact"] and s["hparam_accuracy"] == 1.0
    n_layers, n_edges = s["layers"], s["edges"]

    wrong = copy.deepcopy(perfect)
    wrong["nodes"][1]["layer_type"] = "Dropout" if wrong["nodes"][1]["layer_type"] != "Dropout" else "Dense"
    wrong["edges"].pop()
    a, b = wrong["edges"][0]["source"], wrong["edges"][0]["target"]
    wrong["edges"][0] = {"source": b, "target": a, "points": []}           # reversed
    s = score_diagram(wrong, truth, doc)
    assert s["layer_accuracy"] == pytest.approx((n_layers - 1) / n_layers)
    assert s["edge_accuracy"] == pytest.approx((n_edges - 2) / n_edges)
    assert not s["exact"] and s["extra_edges"] == 1

    moved = copy.deepcopy(perfect)
    for n in moved["nodes"]:
        n["box"] = [v + 1000 for v in n["box"]]                            # boxes nowhere near
    s = score_diagram(moved, truth, doc)
    assert s["layer_accuracy"] == 0.0 and s["edge_accuracy"] == 0.0

    hp = copy.deepcopy(perfect)
    conv = next(n for n in hp["nodes"] if shown_params(n["layer_type"], truth["knobs"]))
    key = shown_params(conv["layer_type"], truth["knobs"])[0]
    conv["params"] = dict(conv["params"], **{key: [1, 2, 3] if key == "shape" else 999})
    assert score_diagram(hp, truth, doc)["hparam_accuracy"] < 1.0


def test_shown_params_follow_the_knobs():
    assert shown_params("Conv2D", {"look": "keras3", "show_shapes": True}) == ["filters", "kernel_size"]
    assert shown_params("Conv2D", {"look": "keras2", "show_shapes": False}) == []
    assert shown_params("Conv2D", {"look": "caffe", "show_params": True, "edge_labels": True}) == \
        ["kernel_size", "strides", "padding", "filters"]
    assert shown_params("MaxPool2D", {"look": "keras3", "show_shapes": True}) == []
    assert shown_params("Dense", {"look": "caffe", "show_params": False, "edge_labels": False}) == []


def test_bench_read_command_writes_per_style_numbers(tmp_path):
    from dlpaper2code.cli import main

    out = tmp_path / "bench"
    assert main(["bench-read", "--models", "2", "--depth", "6", "--styles", "keras3,caffe", "-o", str(out)]) == 0
    report = json.loads((out / "summary.json").read_text())
    assert report["images"] == 4 and report["seed"] == 1000
    assert set(report["summary"]) == {"keras3", "caffe", "all"}
    for style, m in report["summary"].items():
        assert m["images"] == (4 if style == "all" else 2)
        assert m["layer_accuracy"] >= 0.99 and m["edge_accuracy"] >= 0.98, (style, m)
        assert 0 < m["seconds_median"] <= m["seconds_p95"]
    rows = (out / "rows.csv").read_text().splitlines()
    assert len(rows) == 1 + 4 and rows[0].startswith("model,style,")
    assert main(["bench-read", "--models", "0", "-o", str(out)]) == 2
