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
from dlpaper2code.emit.verify import SUBPROCESS_ENV, _env, format_report, summarize, verify_graph

from conftest import EXTRA, ROOT, ZOO


# CI verifies the small graphs of the zoo in every framework; the large ones (VGG-16, AlexNet, Inception,
# the ResNet stage, the MobileNet blocks) are the full check, run by `make bench` (marker slow).
QUICK = {"lenet5", "two_inputs", "imdb_lstm"}
ZOO_CASES = [p if p.stem in QUICK else pytest.param(p, marks=pytest.mark.slow) for p in ZOO]


@pytest.mark.parametrize("path", ZOO_CASES, ids=lambda p: p.stem)
def test_zoo_all_targets_verified_and_equivalent(path, tmp_path):
    result = verify_graph(path, "all", tmp_path, equivalence=True, atol=1e-4)
    assert set(result["targets"]) == {"pytorch", "keras", "tensorflow", "caffe"}
    for target, report in result["targets"].items():
        assert report["built"] and report["shape_ok"], (target, report.get("error"))
        assert report["output_shapes"] == result["expected_output_shapes"]
    assert result["targets"]["caffe"]["netspec_ok"]
    eq = result["equivalence"]
    assert set(eq["max_abs_diff"]) == {"pytorch_vs_keras", "pytorch_vs_tensorflow"}
    assert eq["ok"] and max(eq["max_abs_diff"].values()) <= 1e-4
    assert result["ok"]


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
