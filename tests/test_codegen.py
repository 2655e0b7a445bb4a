"""Code emission: templates, clear errors for what a target cannot express, atomic writes."""
import ast
import json
import re

import pytest

from dlpaper2code.cli import main as cli
from dlpaper2code.emit.codegen import TARGETS, emit, identifier, load_target, write_code
from dlpaper2code.core.errors import EmitError
from dlpaper2code.core.graph import load_graph, parse_graph
from dlpaper2code.core.vocab import load_vocabulary
from dlpaper2code.emit.structure import find_uses

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
        inner = {n: u for u in find_uses(graph) for n in u.nodes}
        for node in graph.nodes:           # one line per layer, named after the graph (inside a block: its own name)
            if node.type == "Input":
                continue
            if node.name in inner:
                local = identifier(node.name[len(inner[node.name].name) + 1:])
                assert re.search(rf"\b{local}(_\d+)? = ", text), (target, node.name)
            else:
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
    """BVLC Caffe 1.0 has no round_mode (it always rounds up): refused by default, written for master."""
    from dlpaper2code.emit.codegen import emit_options

    graph = load_graph([p for p in ZOO if p.stem == "inception"][0])
    with pytest.raises(EmitError, match="pool3.*BVLC Caffe 1.0 rounds pooled sizes up"):
        emit(graph, "caffe")
    with emit_options(caffe_version="master"):
        text = emit(graph, "caffe")["model.prototxt"]
    pool3 = text[text.index('name: "pool3"'):].split("layer {")[0]
    assert "round_mode: FLOOR" in pool3


def test_failed_target_writes_nothing(tmp_path):
    """All or nothing: a target that cannot be emitted leaves no folder behind, and an existing
    folder exactly as it was (no half-written set, no empty folder that looks like a result)."""
    graph = load_graph([p for p in EXTRA if p.stem == "layers_sequence"][0])
    with pytest.raises(EmitError):
        write_code(graph, "all", tmp_path / "out")
    assert not (tmp_path / "out").exists()
    written = write_code(graph, ["pytorch", "keras"], tmp_path / "out")
    assert sorted(p.name for p in written) == ["model_keras.py", "model_pytorch.py"]
    before = {p.name: p.read_text() for p in (tmp_path / "out").iterdir()}
    with pytest.raises(EmitError):
        write_code(graph, "all", tmp_path / "out")
    assert {p.name: p.read_text() for p in (tmp_path / "out").iterdir()} == before
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_partial_writes_what_it_can_and_reports_the_rest(tmp_path):
    graph = load_graph([p for p in EXTRA if p.stem == "layers_sequence"][0])
    failures = {}
    written = write_code(graph, "all", tmp_path / "out", partial=True, failures=failures)
    assert list(failures) == ["caffe"] and isinstance(failures["caffe"], EmitError)
    assert sorted(p.name for p in written) == ["model_keras.py", "model_pytorch.py", "model_tensorflow.py"]


def test_a_new_run_replaces_the_previous_runs_files_only(tmp_path):
    """Files an earlier run wrote (another model, another target) go; a file codegen did not
    write stays; the manifest says what the folder holds."""
    from dlpaper2code.emit.codegen import MANIFEST

    out = tmp_path / "out"
    write_code(load_graph(ZOO[0]), "all", out)
    (out / "notes.txt").write_text("mine")
    write_code(load_graph(ZOO[1]), ["pytorch"], out)
    assert sorted(p.name for p in out.iterdir()) == sorted([MANIFEST, "model_pytorch.py", "notes.txt"])
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest == {"graph": load_graph(ZOO[1]).name, "files": ["model_pytorch.py"]}
    assert f"{load_graph(ZOO[1]).name}" in (out / "model_pytorch.py").read_text()


def test_codegen_cli(tmp_path, capsys):
    assert cli(["codegen", str(ZOO[0]), "--target", "all", "-o", str(tmp_path)]) == 0
    names = sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("."))
    assert names == ["model.prototxt", "model_keras.py", "model_pycaffe.py", "model_pytorch.py", "model_tensorflow.py",
                     "train_val.prototxt"]
    assert cli(["codegen", str(ZOO[0]), "--target", "theano", "-o", str(tmp_path)]) == 2
    assert "unknown target" in capsys.readouterr().err
    seq = str([p for p in EXTRA if p.stem == "layers_sequence"][0])
    assert cli(["codegen", seq, "-o", str(tmp_path / "a")]) == 1
    err = capsys.readouterr().err
    assert "nothing was written" in err and not (tmp_path / "a").exists()
    assert cli(["codegen", seq, "-o", str(tmp_path / "b"), "--partial"]) == 1
    out, err = capsys.readouterr()
    assert "model_pytorch.py" in out and "cannot emit caffe" in err
    (tmp_path / "afile").write_text("x")
    assert cli(["codegen", str(ZOO[0]), "-o", str(tmp_path / "afile")]) == 1
    assert "cannot write the code into" in capsys.readouterr().err and (tmp_path / "afile").read_text() == "x"


def test_a_graph_file_with_a_byte_order_mark_is_read(tmp_path):
    text = ZOO[0].read_text(encoding="utf-8")
    bom = tmp_path / "bom.json"
    bom.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    assert load_graph(bom).to_dict()["layers"] == load_graph(ZOO[0]).to_dict()["layers"]


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
