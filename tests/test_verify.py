"""Verified code generation: every zoo graph, every target, built and run for real.

PyTorch, Keras 3 (torch backend) and TensorFlow models are built and run in
their own processes with one set of weights; their output shapes must equal the
graph's and their outputs must agree within 1e-4. Caffe's prototxt is parsed
against the real NetParameter schema, its blob shapes inferred with Caffe's
rules, and the pyCaffe script run through a NetSpec shim.
"""
import re
import shutil
import subprocess
import sys

import pytest

from dlpaper2code.emit import codegen
from dlpaper2code.emit.codegen import write_code
from dlpaper2code.core.graph import load_graph
from dlpaper2code.emit.verify import SUBPROCESS_ENV, _env, format_report, logits_twin, summarize, verify_graph

from conftest import EXTRA, ROOT, ZOO


# CI verifies the small graphs of the zoo in every framework; the large ones (VGG-16, AlexNet, Inception,
# the ResNet stage, the MobileNet blocks) are the full check, run by `make bench` (marker slow).
QUICK = {"lenet5", "two_inputs", "imdb_lstm"}
ZOO_CASES = [p if p.stem in QUICK else pytest.param(p, marks=pytest.mark.slow) for p in ZOO]


@pytest.mark.parametrize("path", ZOO_CASES, ids=lambda p: p.stem)
def test_zoo_all_targets_verified_and_equivalent(path, tmp_path):
    result = verify_graph(path, "all", tmp_path, equivalence=True, atol=1e-4)
    assert set(result["targets"]) == {"pytorch", "keras", "tensorflow", "caffe"}
    if result["targets"]["caffe"].get("refused"):
        # a pooling that rounds down where BVLC Caffe 1.0 rounds up (two_inputs, inception): Caffe after
        # 1.0 has round_mode: FLOOR
        assert "BVLC Caffe 1.0 rounds pooled sizes up" in result["targets"]["caffe"]["error"]
        master = verify_graph(path, "caffe", tmp_path / "master", caffe_version="master")
        result["targets"]["caffe"] = master["targets"]["caffe"]
    for target, report in result["targets"].items():
        assert report["built"] and report["shape_ok"], (target, report.get("error"))
        assert report["output_shapes"] == result["expected_output_shapes"]
    assert result["targets"]["caffe"]["netspec_ok"] and result["targets"]["caffe"]["train_val_ok"]
    eq = result["equivalence"]
    assert set(eq["max_abs_diff"]) == {"pytorch_vs_keras", "pytorch_vs_tensorflow"}
    assert set(eq["max_rel_diff"]) == set(eq["max_abs_diff"])
    assert eq["ok"] and max(eq["max_rel_diff"].values()) <= 1e-5
    if logits_twin(load_graph(path)) is not None:       # a graph ending in a softmax is compared on its logits
        assert eq["compared"].startswith("logits")
    tr = result["training"]                              # one SGD step, on the logits and without dropout
    assert tr["ok"] and set(tr["loss"]) == {"pytorch", "keras", "tensorflow"} and tr["max_update"] > 0
    if logits_twin(load_graph(path)) is not None:
        assert tr["on"].startswith("the graph without its output softmax")
    assert result["ok"]


def test_the_logits_twin_drops_only_the_output_softmax(tmp_path):
    """Outputs are compared before the final softmax: untrained weights saturate it to exact 0s
    and 1s in every framework (ResNet-50 agreed to 0.0), hiding any difference before it."""
    import json

    from dlpaper2code.core.graph import parse_graph
    from dlpaper2code.emit.verify import logits_twin

    def doc(last):
        return {"schema_version": 1, "name": "m", "layers": [
            {"layer_type": "Input", "layer_name": "x", "layer_params": {"shape": [16]}, "from_layers": []},
            {"layer_type": "Dense", "layer_name": "h", "layer_params": {"units": 8, "activation": "softmax"},
             "from_layers": ["x"]}] + last}
    dense = logits_twin(parse_graph(doc([])))
    assert dense.outputs == ["h"] and dense.nodes[-1].params.get("activation") in (None, "linear")
    sm = logits_twin(parse_graph(doc([{"layer_type": "Softmax", "layer_name": "p", "layer_params": {},
                                      "from_layers": ["h"]}])))
    assert sm.outputs == ["h"] and [n.name for n in sm.nodes] == ["x", "h"]
    assert sm.nodes[-1].params.get("activation") == "softmax"         # inside the graph: kept
    plain = doc([])
    plain["layers"][1]["layer_params"] = {"units": 8}
    assert logits_twin(parse_graph(plain)) is None


def test_outputs_agree_relative_to_their_scale():
    """float32 rounding grows with the numbers: logits up to 4.8e4 that differ by 8.2e-2 between
    frameworks (1.7e-6 of their scale, as ResNet-50's did) agree; outputs near 1 that differ by
    1e-3 do not; a shape or a NaN that differs never agrees."""
    import numpy as np

    from dlpaper2code.emit.verify import compare_outputs

    rng = np.random.default_rng(0)
    big = (rng.standard_normal((2, 1000)) * 1.6e4).astype(np.float32)
    big[0, 0] = 4.8e4
    off = big.copy()
    off[1, 7] += 8.2e-2
    c = compare_outputs([big], [off])
    assert c["ok"] and abs(c["max_abs_diff"] - 8.2e-2) < 5e-3 and c["max_rel_diff"] < 2e-6
    assert not compare_outputs([big], [off], atol=1e-4, rtol=0.0)["ok"]         # absolute only: the old verdict
    small = rng.standard_normal((2, 10)).astype(np.float32)
    c = compare_outputs([small], [small + 1e-3])
    assert not c["ok"] and c["max_rel_diff"] > 1e-4
    assert compare_outputs([small], [small + 5e-5])["ok"]
    assert not compare_outputs([small], [small[:1]])["ok"]
    nan = small.copy()
    nan[0, 0] = np.nan
    assert not compare_outputs([small], [nan])["ok"]
    assert not compare_outputs([small, small], [small])["ok"]


@pytest.mark.parametrize("path", EXTRA, ids=lambda p: p.stem)
def test_layers_beyond_the_zoo_agree_across_frameworks(path, tmp_path):
    result = verify_graph(path, ["pytorch", "keras", "tensorflow"], tmp_path, equivalence=True, atol=1e-4)
    assert result["ok"], format_report([result]) + str({t: r.get("traceback") for t, r in result["targets"].items()})


@pytest.mark.parametrize("target, filename", [("pytorch", "model_pytorch.py"), ("keras", "model_keras.py"),
                                              ("tensorflow", "model_tensorflow.py")])
def test_emitted_script_runs_standalone(target, filename, tmp_path):
    graph = load_graph([p for p in ZOO if p.stem == "two_inputs"][0])
    write_code(graph, [target], tmp_path)
    proc = subprocess.run([sys.executable, str(tmp_path / filename)], capture_output=True, text=True,
                          timeout=300, env=_env(), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert re.search(r"output label: shape \(2, 5\)", proc.stdout), proc.stdout


def test_pycaffe_script_runs_with_shim(tmp_path):
    from dlpaper2code.emit.caffe import PYCAFFE_SHIM_DIR, parse_prototxt

    graph = load_graph([p for p in ZOO if p.stem == "imdb_lstm"][0])
    write_code(graph, ["caffe"], tmp_path)
    proc = subprocess.run([sys.executable, str(tmp_path / "model_pycaffe.py")], capture_output=True, text=True,
                          timeout=120, env={**_env(), "PYTHONPATH": str(PYCAFFE_SHIM_DIR)})
    assert proc.returncode == 0, proc.stderr
    net = parse_prototxt(proc.stdout)
    assert [l.type for l in net.layer].count("LSTM") == 2 and net.name == "imdb_lstm"


@pytest.fixture
def broken_config(tmp_path, monkeypatch):
    """A copy of config/ whose PyTorch template forgets to permute Dense rows after a Flatten."""
    cfg = tmp_path / "config"
    shutil.copytree(ROOT / "src" / "dlpaper2code" / "config", cfg)
    tpl = cfg / "templates" / "pytorch.yaml"
    text = tpl.read_text()
    assert "weight: {from: kernel, row_perm: true, transpose: [1, 0]}" in text
    tpl.write_text(text.replace("weight: {from: kernel, row_perm: true, transpose: [1, 0]}",
                                "weight: {from: kernel, transpose: [1, 0]}"))
    monkeypatch.setenv("DLPAPER2CODE_CONFIG", str(cfg))
    codegen.load_target.cache_clear()
    yield cfg
    monkeypatch.delenv("DLPAPER2CODE_CONFIG")
    codegen.load_target.cache_clear()


def test_equivalence_check_catches_a_wrong_weight_layout(broken_config, tmp_path):
    path = [p for p in ZOO if p.stem == "two_inputs"][0]
    result = verify_graph(path, ["pytorch", "keras"], tmp_path / "work", equivalence=True, atol=1e-4)
    assert result["targets"]["pytorch"]["shape_ok"] and result["targets"]["keras"]["shape_ok"]
    assert not result["equivalence"]["ok"] and not result["ok"]
    assert result["equivalence"]["max_abs_diff"]["pytorch_vs_keras"] > 1e-3


def test_unloadable_graph_is_reported_not_raised(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    result = verify_graph(bad, "all", tmp_path / "w")
    assert not result["ok"] and "invalid JSON" in result["error"]
    metrics = summarize([result])
    assert metrics == {"graphs": 1, "graphs_ok": 0}
    assert "NO" in format_report([result])


def test_subprocess_environment_is_pinned():
    env = _env()
    assert env["KERAS_BACKEND"] == "torch" and env["CUDA_VISIBLE_DEVICES"] == ""
    assert all(env[k] == v for k, v in SUBPROCESS_ENV.items())


@pytest.mark.parametrize("target", ["keras", "pytorch", "tensorflow"])
def test_emitted_lstm_script_runs_with_only_the_openmp_thread_limit_set(target, tmp_path):
    """OMP_THREAD_LIMIT=1 without OMP_NUM_THREADS hung Keras' LSTM in torch.linalg.qr: the emitted
    scripts now set their thread count from the limit before the framework loads."""
    import os

    graph = load_graph([p for p in ZOO if p.stem == "imdb_lstm"][0])
    write_code(graph, [target], tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OMP_", "MKL_", "TF_NUM_"))}
    env.update(OMP_THREAD_LIMIT="1", KERAS_BACKEND="torch", TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
    proc = subprocess.run([sys.executable, str(tmp_path / f"model_{target}.py")], capture_output=True, text=True,
                          timeout=300, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "output sentiment: shape (2, 2)" in proc.stdout


def test_a_deep_chain_builds_in_keras(tmp_path):
    """Keras walks a functional model recursively: a chain of 1,000 layers hit Python's recursion
    limit; the emitted script raises it with the graph's size (5,000, the graph limit, was checked
    by hand: it builds)."""
    from dlpaper2code.core.graph import parse_graph

    layers = [{"layer_type": "Input", "layer_name": "x", "layer_params": {"shape": [8]}, "from_layers": []}]
    for i in range(1200):
        layers.append({"layer_type": "Dense", "layer_name": f"d{i}", "layer_params": {"units": 8},
                       "from_layers": [layers[-1]["layer_name"]]})
    write_code(parse_graph({"schema_version": 1, "name": "deep", "layers": layers}), ["keras"], tmp_path)
    proc = subprocess.run([sys.executable, str(tmp_path / "model_keras.py")], capture_output=True, text=True,
                          timeout=600, env=_env(), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-1500:]
    assert "output d1199: shape (2, 8)" in proc.stdout
