"""The simulated dataset: grammar, generator, framework builds, shards, manifest."""
from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import yaml

from dlpaper2code.core.graph import parse_graph
from dlpaper2code.simulate import DrawStats, describe, generate_model, load_grammar, symbol_of
from dlpaper2code.simulate.dataset import (ShardOptions, merge_shards, n_shards, parse_depths, select_styles,
                                           shard_items, write_shard)
from dlpaper2code.simulate.grammar import GrammarError

ROOT = Path(__file__).resolve().parents[1]
GRAMMAR = load_grammar()
SPEC = yaml.safe_load((ROOT / "src" / "dlpaper2code" / "config" / "grammar.yaml").read_text())


def sample(depths=(5, 8, 13, 21, 34, 40), per_depth=25, seed=0):
    for d in depths:
        for i in range(per_depth):
            yield d, i, *generate_model(d, i, seed, GRAMMAR)


# ----------------------------------------------------------------- the grammar file
def test_grammar_file_carries_the_spec_tables():
    assert {k: (v["shape"], v["classes"]) for k, v in SPEC["inputs"].items()} == {
        "mnist": ([28, 28, 1], 10), "cifar10": ([32, 32, 3], 10), "imagenet": ([224, 224, 3], 1000),
        "imdb": ([100], 2)}
    types = {s["layer_type"] for s in SPEC["symbols"].values()}
    assert types == {"Dense", "Conv2D", "Flatten", "Dropout", "MaxPool2D", "AvgPool2D", "Concat", "Embedding",
                     "SimpleRNN", "LSTM"}
    h = GRAMMAR.hyper
    assert h["Dense"]["units"] == list(range(5, 501, 5))
    assert h["Conv2D"]["filters"] == list(range(16, 257, 16))
    assert h["Conv2D"]["kernel_size"] == [1, 3, 5, 7, 9, 11]
    assert h["MaxPool"]["strides"] == [2, 3, 4, 5] and h["AvgPool"]["pool_size"] == [1, 3, 5, 7, 9, 11]
    assert h["Embed"]["output_dim"] == [64, 100, 128, 200]
    assert h["Embed"]["input_dim"] == [10000, 20000, 50000, 75000]
    assert h["RNN"]["units"] == h["LSTM_seq"]["units"] == list(range(3, 26))
    assert SPEC["next"]["Conv2D"] == ["Conv2D", "Flatten", "Dropout", "MaxPool", "AvgPool", "Concat"]


def test_bad_grammar_is_refused_naming_the_entry(tmp_path):
    bad = dict(SPEC)
    bad["next"] = dict(SPEC["next"], Dense=["Dense", "Pool3D"])
    path = tmp_path / "grammar.yaml"
    path.write_text(yaml.safe_dump(bad))
    with pytest.raises(GrammarError, match=r"next\.Dense: unknown symbols \['Pool3D'\]"):
        load_grammar(path)
    bad = dict(SPEC, hyperparameters={"Dense": {"widths": [1, 2]}})
    path.write_text(yaml.safe_dump(bad))
    with pytest.raises(GrammarError, match=r"hyperparameters\.Dense\.widths"):
        load_grammar(path)


# ----------------------------------------------------------------- generation
def test_depth_is_exact_and_every_model_validates():
    for depth, index, graph, doc in sample(per_depth=8):
        assert describe(graph, GRAMMAR)["depth"] == depth, (depth, index)
        # the written document validates on its own (no generator state needed)
        again = parse_graph(json.loads(json.dumps(doc)))
        assert [n.name for n in again.nodes] == [n.name for n in graph.nodes]
        inp = SPEC["inputs"][doc["source"]["input"]]
        final = graph.node(graph.outputs[0])
        assert final.type == "Dense" and final.params["units"] == inp["classes"]
        assert final.params["activation"] == "softmax"
        assert len(graph.outputs) == 1 and len(graph.inputs) == 1


def _allowed(node, graph) -> set[str]:
    """The next-layer table read independently of the generator."""
    sym = symbol_of(node, GRAMMAR)
    row = SPEC["next"][sym]
    if isinstance(row, dict):
        if row.get("vector") and graph.shapes[node.name].kind == "vector":
            return set(SPEC["next"][row["vector"]])
        return _allowed(graph.node(node.inputs[0]), graph)
    return set(row)


def test_every_layer_follows_the_next_layer_table():
    seen = Counter()
    for _, _, graph, _ in sample(per_depth=10):
        for node in graph.nodes[1:-1]:
            sym = symbol_of(node, GRAMMAR)
            prev = graph.node(node.inputs[0])
            assert sym in _allowed(prev, graph), (graph.name, prev.name, node.name)
            seen[sym] += 1
            if node.type in ("Conv2D", "MaxPool2D", "AvgPool2D"):
                key = "kernel_size" if node.type == "Conv2D" else "pool_size"
                assert node.params[key][0] in GRAMMAR.hyper[sym][key]
            if node.type == "Dense":
                assert node.params["units"] in GRAMMAR.hyper["Dense"]["units"]
    assert seen


def test_all_ten_layer_types_and_both_return_sequences_forms_are_reached():
    symbols = Counter()
    types = set()
    for _, _, graph, _ in sample(per_depth=25):
        symbols.update(describe(graph, GRAMMAR)["symbols"])
        types |= {n.type for n in graph.nodes}
    assert set(GRAMMAR.symbols) <= set(symbols), set(GRAMMAR.symbols) - set(symbols)
    assert {"RNN", "RNN_seq", "LSTM", "LSTM_seq"} <= set(symbols)
    assert len(types - {"Input"}) == 10


def test_concat_makes_branching_graphs():
    forks = merges = side_branches = 0
    for _, _, graph, _ in sample(per_depth=10):
        info = describe(graph, GRAMMAR)
        forks += info["forks"] > 0
        merges += info["merges"] > 0
        for n in graph.nodes:
            if n.type == "Concat":
                # a side branch: an input of the Concat that is not on the main path
                side = [i for i in n.inputs[1:] if graph.consumers[i] == [n.name] and graph.node(i).type != "Input"]
                side_branches += bool(side)
    assert forks > 10 and merges > 10 and side_branches > 5


def test_same_seed_gives_byte_identical_graphs_in_any_process():
    here = [json.dumps(generate_model(d, i, 7)[1]) for d in (6, 30) for i in range(3)]
    assert here == [json.dumps(generate_model(d, i, 7)[1]) for d in (6, 30) for i in range(3)]
    assert here != [json.dumps(generate_model(d, i, 8)[1]) for d in (6, 30) for i in range(3)]
    code = ("import json; from dlpaper2code.simulate import generate_model; "
            "print(json.dumps([json.dumps(generate_model(d, i, 7)[1]) for d in (6, 30) for i in range(3)]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONHASHSEED": "12345"}).stdout
    assert json.loads(out) == here


def test_invalid_draws_are_counted():
    stats = DrawStats()
    for i in range(30):
        generate_model(12, i, 0, GRAMMAR, stats)
    assert stats.attempts >= 30 and stats.rejected == stats.attempts - 30
    assert stats.filtered["Dense->Embed: needs token ids"] > 0
    assert any(k.startswith("Input->Dense") for k in stats.filtered)


def test_inputs_can_be_restricted_and_unknown_ones_are_refused():
    for i in range(5):
        assert generate_model(9, i, 0, GRAMMAR, inputs=["imdb"])[1]["source"]["input"] == "imdb"
    with pytest.raises(ValueError, match="unknown input"):
        generate_model(9, 0, 0, GRAMMAR, inputs=["svhn"])


# ----------------------------------------------------------------- framework builds
def test_emitted_pytorch_and_keras_code_builds_for_a_sample():
    """Every sampled model (huge ImageNet ones included) builds in PyTorch and Keras on the
    meta device with the graph's shapes; the Keras config reloads with model_from_json."""
    pytest.importorskip("torch")
    from dlpaper2code.simulate.frameworks import keras_config, keras_model, pytorch_meta_check

    inputs = Counter()
    for depth, index, graph, doc in sample(depths=(5, 17, 40), per_depth=6, seed=3):
        inputs[doc["source"]["input"]] += 1
        assert pytorch_meta_check(graph) == {o: graph.shapes[o].to_list() for o in graph.outputs}
        config, n_params = keras_config(graph)
        layers = config["config"]["layers"]
        assert sorted(l["name"] for l in layers) == sorted(n.name for n in graph.nodes)
        assert n_params > 0
        model = keras_model(graph)
        assert list(model.outputs[0].shape[1:]) == graph.shapes[graph.outputs[0]].to_list()
    assert len(inputs) >= 3

    import keras

    graph, _ = generate_model(6, 1, 0, GRAMMAR, inputs=["mnist"])
    config, n_params = keras_config(graph)
    rebuilt = keras.models.model_from_json(json.dumps(config))      # real weights: small model
    assert rebuilt.count_params() == n_params
    assert json.loads(rebuilt.to_json())["config"]["layers"] == config["config"]["layers"]


# ----------------------------------------------------------------- shards and manifest
def test_shards_cover_the_dataset_once():
    depths = parse_depths("5-9")
    assert depths == [5, 6, 7, 8, 9] and parse_depths("5,12") == [5, 12]
    covered = [g for k in range(n_shards(depths, 7, 4)) for g in shard_items(depths, 7, 4, k)]
    assert covered == list(range(35))
    with pytest.raises(ValueError, match="out of range"):
        shard_items(depths, 7, 4, 9)
    with pytest.raises(ValueError):
        parse_depths("9-5")


def test_write_shard_files_manifest_and_determinism(tmp_path):
    opts = ShardOptions(styles={}, keras_config=True, caffe=True)
    models = [(5, 0), (5, 1), (12, 0), (12, 1)]
    stats = write_shard(tmp_path / "a", models, 0, opts)
    write_shard(tmp_path / "b", models, 0, opts)
    assert stats.models == 4 and stats.images == 0
    for d, i in models:
        name = f"d{d:02d}_{i:05d}"
        files = sorted(p.name for p in (tmp_path / "a" / name).iterdir())
        assert {"graph.json", "keras_model.json"} <= set(files), files
        for f in files:
            assert (tmp_path / "a" / name / f).read_bytes() == (tmp_path / "b" / name / f).read_bytes(), f
        doc = json.loads((tmp_path / "a" / name / "graph.json").read_text())
        assert doc["source"]["depth"] == d and doc["source"]["index"] == i
    assert not list((tmp_path / "a").glob(".*"))          # no temporary leftovers
    saved = json.loads((tmp_path / "a" / "stats.json").read_text())
    assert saved["models"] == 4 and sum(saved["depths"].values()) == 4
    assert sum(saved["inputs"].values()) == 4
    total = merge_shards([tmp_path / "a", tmp_path / "b"], tmp_path / "manifest.csv", root=tmp_path)
    assert total.models == 8


def test_merge_refuses_an_incomplete_shard(tmp_path):
    (tmp_path / "shard0000").mkdir()
    with pytest.raises(FileNotFoundError, match="shard0000: shard is incomplete"):
        merge_shards([tmp_path / "shard0000"], tmp_path / "manifest.csv")
    assert not (tmp_path / "manifest.csv").exists()


def test_unknown_style_is_refused():
    with pytest.raises(ValueError, match=r"unknown style\(s\) \['sketch'\]"):
        select_styles({"keras3": {"look": "keras3"}}, ["keras3", "sketch"])


def test_a_failing_model_leaves_no_folder(tmp_path, monkeypatch):
    import dlpaper2code.simulate.dataset as ds

    def boom(*a, **k):
        raise RuntimeError("renderer crashed")

    monkeypatch.setattr("dlpaper2code.render.render_diagram", boom, raising=False)
    with pytest.raises(RuntimeError, match="renderer crashed"):
        ds.write_shard(tmp_path, [(5, 0)], 0, ShardOptions(styles={"keras3": {"look": "keras3"}}, keras_config=False))
    assert not [p for p in tmp_path.iterdir() if p.is_dir()]
    assert not (tmp_path / "manifest.csv").exists() and not (tmp_path / "stats.json").exists()


def test_manifest_rows_match_the_images(tmp_path):
    styles = {"keras3": {"look": "keras3"}, "caffe": {"look": "caffe"}}
    write_shard(tmp_path, [(7, 0), (7, 1), (20, 3)], 2, ShardOptions(styles=styles))
    with open(tmp_path / "manifest.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 6 and {r["style"] for r in rows} == {"keras3", "caffe"}
    for r in rows:
        assert (tmp_path / r["image"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        gt = json.loads((tmp_path / r["ground_truth"]).read_text())
        graph = json.loads((tmp_path / r["graph"]).read_text())
        assert int(r["layers"]) == len(graph["layers"]) and int(r["depth"]) == graph["source"]["depth"]
        assert int(r["edges"]) == sum(len(l.get("from_layers", [])) for l in graph["layers"])
        assert sorted(map(tuple, gt["layer_edges"])) == sorted(
            (f, l["layer_name"]) for l in graph["layers"] for f in l.get("from_layers", []))
        assert [int(r["width"]), int(r["height"])] == [gt["width"], gt["height"]]


def test_cli_simulate_writes_one_folder_per_model(tmp_path):
    out = tmp_path / "sim"
    res = subprocess.run([sys.executable, "-m", "dlpaper2code.cli", "simulate", "--depth", "5-6", "--count", "2",
                          "--seed", "4", "--styles", "keras3", "--no-keras", "-o", str(out)],
                         capture_output=True, text=True, cwd=ROOT, env={**os.environ, "KERAS_BACKEND": "torch"})
    assert res.returncode == 0, res.stdout + res.stderr
    folders = sorted(p.name for p in out.iterdir() if p.is_dir())
    assert folders == ["d05_00000", "d05_00001", "d06_00000", "d06_00001"]
    assert (out / "d06_00001" / "keras3.png").is_file() and (out / "d06_00001" / "keras3.json").is_file()
    res = subprocess.run([sys.executable, "-m", "dlpaper2code.cli", "simulate", "--depth", "x", "-o", str(out)],
                         capture_output=True, text=True, cwd=ROOT)
    assert res.returncode == 2 and "error:" in res.stderr
