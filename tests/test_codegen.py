"""Code emission: templates, clear errors for what a target cannot express, atomic writes."""
import ast
import json

import pytest

from dlpaper2code.cli import main as cli
from dlpaper2code.emit.codegen import TARGETS, emit, identifier, load_target, write_code
from dlpaper2code.core.errors import EmitError
from dlpaper2code.core.graph import load_graph, parse_graph
from dlpaper2code.core.vocab import load_vocabulary

from conftest import EXTRA, ZOO


@pytest.mark.parametrize("target", TARGETS)
def test_every_layer_type_is_mapped_or_refused(target):
    spec = load_target(target)
    for ltype in load_vocabulary().layers:
        entry = spec.layer(ltype)
        assert entry is not None, f"{target} template has no entry for {ltype}"
        if entry.get("unsupported"):
            assert len(entry["unsupported"]) > 20, "an unsupported layer needs a reason a person can act on"


@pytest.mark.parametrize("path", ZOO + EXTRA, ids=lambda p: p.stem)
def test_python_targets_emit_valid_readable_code(path):
    graph = load_graph(path)
    emitted = 0
    for target in ("pytorch", "keras", "tensorflow"):
        try:
            (name, text), = emit(graph, target).items()
        except EmitError as exc:         # a refusal the template declares (PyTorch and odd attention sizes)
            assert exc.declared and path.stem == "layers_attention_dims", str(exc)
            continue
        emitted += 1
        ast.parse(text, filename=name)
        for node in graph.nodes:           # one line per layer, named after the graph
            if node.type != "Input":
                assert f"{identifier(node.name)} = " in text, (target, node.name)
        assert max(len(line) for line in text.splitlines()) < 250
    assert emitted >= 2


def test_emission_is_deterministic():
    graph = load_graph(ZOO[0])
    for target in TARGETS:
        assert emit(graph, target) == emit(load_graph(ZOO[0]), target)


@pytest.mark.parametrize("graph_file, layer", [("layers_sequence", "c1"), ("layers_image", "a")])
def test_caffe_refuses_what_it_cannot_express(graph_file, layer):
    graph = load_graph([p for p in EXTRA if p.stem == graph_file][0])
    with pytest.raises(EmitError) as err:
        emit(graph, "caffe")
    assert err.value.node == layer and err.value.target == "caffe"
    assert "cannot" in str(err.value) or "pads" in str(err.value)


def test_caffe_rejects_gru_with_reason(cnn_doc):
    doc = {"layers": [
        {"layer_type": "Input", "layer_name": "t", "layer_params": {"shape": [5], "dtype": "int64"}},
        {"layer_type": "Embedding", "layer_name": "e", "layer_params": {"input_dim": 50, "output_dim": 4}, "from_layers": ["t"]},
        {"layer_type": "GRU", "layer_name": "recurrent", "layer_params": {"units": 3}, "from_layers": ["e"]}]}
    with pytest.raises(EmitError, match="recurrent.*GRU"):
        emit(parse_graph(doc), "caffe")


def test_pytorch_refuses_asymmetric_average_pool_padding():
    doc = {"layers": [
        {"layer_type": "Input", "layer_name": "x", "layer_params": {"shape": [8, 8, 2]}},
        {"layer_type": "AvgPool2D", "layer_name": "avg", "layer_params": {"pool_size": 2, "strides": 1, "padding": "same"}, "from_layers": ["x"]}]}
    graph = parse_graph(doc)
    with pytest.raises(EmitError, match="avg"):
        emit(graph, "pytorch")
    assert "AveragePooling2D" in emit(graph, "keras")["model_keras.py"]


def test_caffe_pooling_floor_mode_when_ceil_would_differ():
    graph = load_graph([p for p in ZOO if p.stem == "inception"][0])
    text = emit(graph, "caffe")["model.prototxt"]
    pool3 = text[text.index('name: "pool3"'):].split("layer {")[0]
    assert "round_mode: FLOOR" in pool3


def test_failed_target_writes_nothing(tmp_path):
    graph = load_graph([p for p in EXTRA if p.stem == "layers_sequence"][0])
    with pytest.raises(EmitError):
        write_code(graph, "all", tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == []
    written = write_code(graph, ["pytorch", "keras"], tmp_path / "out")
    assert sorted(p.name for p in written) == ["model_keras.py", "model_pytorch.py"]
    assert not [p for p in (tmp_path / "out").iterdir() if p.suffix == ".tmp"]


def test_codegen_cli(tmp_path, capsys):
    assert cli(["codegen", str(ZOO[0]), "--target", "all", "-o", str(tmp_path)]) == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["model.prototxt", "model_keras.py", "model_pycaffe.py", "model_pytorch.py", "model_tensorflow.py"]
    assert cli(["codegen", str(ZOO[0]), "--target", "theano", "-o", str(tmp_path)]) == 2
    assert "unknown target" in capsys.readouterr().err


def test_validate_cli(tmp_path, capsys):
    assert cli(["validate", str(ZOO[0])]) == 0
    out = capsys.readouterr().out
    assert "output shape" in out
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"layers": [{"layer_type": "Dense", "layer_name": "d", "layer_params": {"units": 2}}]}))
    assert cli(["validate", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "INVALID" in err and "[missing_input]" in err and "[no_input]" in err
    assert cli(["validate", "--json", str(bad)]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False and {i["kind"] for i in report["issues"]} == {"missing_input", "no_input"}


def test_bench_prints_numbers(capsys, tmp_path):
    assert cli(["bench", "--depth", "40", "--repeats", "3", "--out", str(tmp_path / "b.json")]) == 0
    numbers = json.loads((tmp_path / "b.json").read_text())
    assert numbers["layers"] >= 40
    for t in TARGETS:
        assert numbers[f"emit_{t}_ms_median"] > 0
    assert "validate_ms_median" in capsys.readouterr().out
