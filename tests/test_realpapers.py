"""The real-paper benchmark: its truth files, its scorer (checked against the evaluation kit's), the
no-PDF result CI gets, and the table matching."""
import importlib.util
import json
import random
from pathlib import Path

import pytest

from dlpaper2code.eval import realpapers as rp

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / "realpapers"
KIT = ROOT.parent / "shared" / "realpapers" / "score.py"
HELD_BACK = ("1409.1556", "1512.03385", "1312.4400", "1704.04861", "1801.04381", "1505.04597", "1706.03762",
             "1608.06993", "1804.02767", "1905.11946", "1611.05431", "2105.01601")
KINDS = {"table-row-major", "table-column-major", "figure-2d-box", "figure-3d-box", "figure-stacked-2d", "text"}


def truths():
    return sorted(DATA.glob("truth/*.json"))


def test_benchmark_has_25_papers_with_sources_and_table_labels():
    sources = rp.read_sources(DATA / "sources.tsv")
    papers = {p.stem.partition("@")[0] for p in truths()}
    assert len(papers) >= 25
    assert papers <= set(sources), papers - set(sources)
    for name in papers:
        row = sources[name]
        assert len(row["commit"]) == 40 and len(row["sha256"]) == 64, name
        assert row["arxiv"] not in HELD_BACK, name
        assert (DATA / "tables" / f"{name}.json").is_file(), name


@pytest.mark.parametrize("path", truths(), ids=lambda p: p.stem)
def test_truth_file_is_well_formed(path):
    t = json.loads(path.read_text())
    assert t["kind"] in KINDS
    ids = set()
    for layer in t["layers"]:
        assert layer["id"] not in ids, layer["id"]
        for i in layer.get("inputs", []):
            assert i in ids, (layer["id"], i)        # inputs name earlier nodes
        ids.add(layer["id"])
        if layer.get("repeat_group"):
            assert layer.get("repeat") is not None, layer["id"]
    assert rp.truth_sequence(t), path.stem


def _kit():
    spec = importlib.util.spec_from_file_location("kit_score", KIT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _as_prediction(truth, rng, drop=0.2, rename=0.1):
    """A graph document made from the truth with layers dropped, retyped and params changed."""
    layers = []
    for l in truth["layers"]:
        if l.get("shown", True) is False or rng.random() < drop:
            continue
        params = {k: v for k, v in (l.get("params") or {}).items()}
        if "filters" in params and rng.random() < 0.3:
            params["filters"] = 7
        typ = "Dense" if rng.random() < rename else l["type"]
        reps = [l] * (int(l["repeat"]) if l.get("repeat_group") and str(l.get("repeat")).isdigit() else 1)
        for k, _ in enumerate(reps):
            layers.append({"layer_type": typ, "layer_name": f"{l['id']}_{k}", "layer_params": params,
                           "from_layers": []})
    return {"name": "p", "layers": layers}


@pytest.mark.skipif(not KIT.is_file(), reason="the evaluation kit (../shared/realpapers) is not beside the checkout")
def test_scorer_agrees_with_the_evaluation_kit():
    kit = _kit()
    rng = random.Random(0)
    compared = 0
    for path in truths():
        t = json.loads(path.read_text())
        try:
            kit.truth_sequence(t)
        except (ValueError, TypeError):
            continue            # a symbolic repeat ("N") the kit cannot expand; ours takes params_text
        for _ in range(3):
            g = _as_prediction(t, rng)
            ours, theirs = rp.score_graph(t, g), kit.score(t, g)
            for k in ("layer_acc", "recall", "precision", "truth_layers", "pred_layers", "param_acc"):
                assert ours[k] == pytest.approx(theirs[k]) if theirs[k] is not None else ours[k] is None, (path, k)
            compared += 1
    assert compared >= 60


def test_perfect_and_empty_predictions():
    t = {"kind": "table-row-major", "layers": [
        {"id": "in", "type": "Input", "params": {"shape": [32, 32, 3]}, "inputs": []},
        {"id": "c", "type": "Conv2D", "params": {"kernel": 3, "filters": 8}, "inputs": ["in"]},
        {"id": "r", "type": "ReLU", "inputs": ["c"]},
        {"id": "b1", "type": "Conv2D", "params": {"kernel": 3, "filters": 8}, "inputs": ["r"], "repeat": 2,
         "repeat_group": "g"},
        {"id": "b2", "type": "Add", "inputs": ["b1", "r"], "repeat": 2, "repeat_group": "g", "shown": "implicit"},
        {"id": "fc", "type": "fully-connected", "params": {"units": 10}, "inputs": ["b2"]}]}
    pred = {"layers": [{"layer_type": "Input", "layer_name": "in"},
                       {"layer_type": "Conv2D", "layer_name": "c", "layer_params": {"filters": 8, "kernel_size": 3}},
                       {"layer_type": "Conv2D", "layer_name": "x1", "layer_params": {"filters": 8, "kernel_size": 3}},
                       {"layer_type": "Add", "layer_name": "a1"},
                       {"layer_type": "Conv2D", "layer_name": "x2", "layer_params": {"filters": 8, "kernel_size": 3}},
                       {"layer_type": "Add", "layer_name": "a2"},
                       {"layer_type": "Dense", "layer_name": "fc", "layer_params": {"units": 10}}]}
    s = rp.score_graph(t, pred)
    assert s["truth_layers"] == 7 and s["layer_acc"] == 1.0 and s["param_acc"] == 1.0
    assert rp.score_graph(t, {"layers": []})["layer_acc"] == 0.0


def test_edges_scored_where_the_truth_branches():
    t = {"kind": "figure-2d-box", "layers": [
        {"id": "x", "type": "Input", "inputs": []},
        {"id": "a", "type": "Conv2D", "inputs": ["x"]}, {"id": "r", "type": "ReLU", "inputs": ["a"]},
        {"id": "b", "type": "Conv2D", "inputs": ["x"]},
        {"id": "m", "type": "Concat", "inputs": ["r", "b"]}]}
    node = lambda t_, n, f: {"layer_type": t_, "layer_name": n, "from_layers": f}
    right = {"layers": [node("Input", "i", []), node("Conv2D", "p", ["i"]), node("Conv2D", "q", ["i"]),
                        node("Concatenate", "c", ["p", "q"])]}
    chain = {"layers": [node("Input", "i", []), node("Conv2D", "p", ["i"]), node("Conv2D", "q", ["p"]),
                        node("Concatenate", "c", ["q"])]}
    assert rp.score_graph(t, right)["edge_acc"] == 1.0       # through the left-out ReLU
    assert rp.score_graph(t, chain)["edge_acc"] == 0.5
    assert rp.score_graph({"layers": t["layers"][:3]}, right)["edge_acc"] is None   # a chain: not scored


def test_symbolic_repeat_takes_the_texts_number():
    t = {"layers": [{"id": "c", "type": "Cell", "params": {"repeat": "N"}, "params_text": {"repeat": 4}}]}
    assert len(rp.truth_sequence(t)) == 4


def test_tables_matched_by_page_and_caption_number():
    labels = [{"page": 5, "caption": "Table 1: Net", "label": "architecture"},
              {"page": 6, "caption": "Table 2: Results", "label": "results"},
              {"page": 11, "caption": "Figure 5: Inception", "label": "architecture"}]
    found = [{"page": 5, "caption": "Table 1: Net ...", "kind": "architecture"},
             {"page": 6, "caption": "Table 2: Results", "kind": "architecture"},
             {"page": 9, "caption": "Table 7: other", "kind": "results"}]
    s = rp.score_tables(labels, found)
    assert (s["found"], s["architecture"], s["architecture_found"], s["architecture_classified"]) == (2, 2, 1, 1)
    assert s["results_as_architecture"] == 1 and s["not_tables_found"] == 1


def test_without_pdfs_the_benchmark_says_so(tmp_path):
    metrics = tmp_path / "m.json"
    r = rp.run_benchmark(tmp_path / "absent", tmp_path / "out", data_dir=DATA, metrics_path=metrics)
    assert r["status"] == "no_pdfs"
    assert json.loads(metrics.read_text())["status"] == "no_pdfs"
    assert "Not run" in (tmp_path / "out" / "summary.md").read_text()
