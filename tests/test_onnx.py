"""ONNX: export as a target (checker, onnxruntime vs PyTorch, verify) and import back into the graph."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
torch = pytest.importorskip("torch")

from dlpaper2code.core.graph import load_graph, parse_graph  # noqa: E402
from dlpaper2code.emit.codegen import write_code  # noqa: E402
from dlpaper2code.emit.onnx_export import export_onnx, session, torch_model  # noqa: E402
from dlpaper2code.emit.weights import random_inputs, to_channels_first  # noqa: E402
from dlpaper2code.formats import ImportFailure, import_model  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ZOO = ROOT / "config" / "zoo"


def _inputs(graph):
    kinds = [graph.shapes[n.name].kind for n in graph.inputs]
    return [to_channels_first(a, k) for a, k in zip(random_inputs(graph), kinds)]


def _torch_run(model, arrays):
    with torch.no_grad():
        out = model(*[torch.from_numpy(a) for a in arrays])
    return [o.numpy() for o in (out if isinstance(out, tuple) else (out,))]


def _ort_run(data: bytes, arrays):
    sess = session(data)
    return sess.run(None, {i.name: a for i, a in zip(sess.get_inputs(), arrays)})


def _max_diff(a, b):
    assert [x.shape for x in a] == [y.shape for y in b]
    return max(float(np.abs(x - y).max()) for x, y in zip(a, b))


EXPORT = ["lenet5", "two_inputs", "resnet_stage", "mobilenet_blocks"]
EXPORT_SLOW = ["inception", "mobilenet_v2", "vgg16", "alexnet", "imdb_lstm"]


def _export_and_compare(path: Path):
    torch.set_num_threads(1)
    graph = load_graph(path)
    data = export_onnx(graph)
    onnx.checker.check_model(onnx.load_from_string(data), full_check=True)
    arrays = _inputs(graph)
    ref = _torch_run(torch_model(graph), arrays)
    got = _ort_run(data, arrays)
    assert _max_diff(ref, got) <= 1e-4 + 1e-5 * max(float(np.abs(r).max()) for r in ref)
    return graph, data, arrays, ref


@pytest.mark.parametrize("name", EXPORT)
def test_export_checker_and_onnxruntime_agree_with_pytorch(name):
    _export_and_compare(ZOO / f"{name}.json")


@pytest.mark.slow
@pytest.mark.parametrize("name", EXPORT_SLOW)
def test_export_big_zoo_graphs(name):
    _export_and_compare(ZOO / f"{name}.json")


@pytest.mark.parametrize("name", ["lenet5", "two_inputs", "resnet_stage", "mobilenet_blocks"])
def test_zoo_through_onnx_and_back(name, tmp_path):
    """emit onnx -> import -> emit pytorch with the imported weights -> the same outputs."""
    graph, data, arrays, ref = _export_and_compare(ZOO / f"{name}.json")
    path = tmp_path / "m.onnx"
    path.write_bytes(data)
    imported = import_model(path)
    back = parse_graph(imported.doc, source="imported")
    assert back.name == graph.name
    assert len(back.nodes) == len(graph.nodes)
    assert _max_diff(ref, _torch_run(torch_model(back, imported.weights), arrays)) <= 1e-4


def test_codegen_target_onnx_writes_model_onnx(tmp_path):
    from dlpaper2code.cli import main as cli

    out = tmp_path / "out"
    assert cli(["codegen", str(ZOO / "lenet5.json"), "--target", "pytorch,onnx", "-o", str(out)]) == 0
    assert (out / "model.onnx").is_file() and (out / "model_pytorch.py").is_file()
    model = onnx.load(str(out / "model.onnx"))
    onnx.checker.check_model(model)
    assert model.opset_import[0].version >= 13
    assert [i.name for i in model.graph.input] == ["image"]
    manifest = json.loads((out / ".dlpaper2code-codegen.json").read_text())
    assert "model.onnx" in manifest["files"]


def test_verify_compares_onnx_with_pytorch(tmp_path):
    from dlpaper2code.emit.verify import format_report, verify_graph

    result = verify_graph(ZOO / "two_inputs.json", "pytorch,onnx", tmp_path)
    assert result["ok"], format_report([result])
    assert result["targets"]["onnx"]["built"] and result["targets"]["onnx"]["shape_ok"]
    assert result["equivalence"]["max_abs_diff"]["pytorch_vs_onnx"] < 1e-4
    assert "training" not in result            # ONNX takes no training step; one framework alone has no pair
    assert "| onnx |" in format_report([result])


# ------------------------------------------------------------------ import of foreign exports
class _Small(torch.nn.Module):
    def __init__(self, flatten: str):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 8, 3, padding=1)
        self.bn = torch.nn.BatchNorm2d(8)
        self.pool = torch.nn.MaxPool2d(2)
        self.conv2 = torch.nn.Conv2d(8, 8, 3, stride=2, groups=8, bias=False)
        self.avg = torch.nn.AvgPool2d(2)
        self.fc = torch.nn.Linear(8 * 2 * 2, 10)
        self.fc2 = torch.nn.Linear(10, 4)
        self.flatten = flatten

    def forward(self, x):
        x = self.pool(torch.relu(self.bn(self.conv(x))))
        x = self.avg(torch.nn.functional.relu6(self.conv2(x)))
        x = torch.flatten(x, 1) if self.flatten == "flatten" else x.view(x.size(0), -1)
        return torch.softmax(self.fc2(torch.sigmoid(self.fc(x))), dim=-1)


def _export_module(module, x, path, opset=13):
    module.eval()
    with torch.no_grad():
        for p in module.buffers():
            if p.dtype.is_floating_point:
                p.copy_(torch.rand_like(p) + 0.5)
    torch.onnx.export(module, (x,), str(path), dynamo=False, opset_version=opset, input_names=["x"],
                      dynamic_axes={"x": {0: "batch"}}, training=torch.onnx.TrainingMode.PRESERVE)
    with torch.no_grad():
        return module(x).numpy()


@pytest.mark.parametrize("flatten", ["flatten", "view"])
def test_import_small_pytorch_export_agrees_in_pytorch_and_keras(flatten, tmp_path):
    torch.manual_seed(0)
    x = torch.randn(2, 3, 20, 20)
    ref = _export_module(_Small(flatten), x, tmp_path / "small.onnx")
    imported = import_model(tmp_path / "small.onnx")
    graph = parse_graph(imported.doc, source="small")
    types = [n.type for n in graph.nodes]
    assert {"Conv2D", "BatchNorm", "MaxPool2D", "DepthwiseConv2D", "AvgPool2D", "Flatten", "Dense"} <= set(types)
    if flatten == "view":
        assert any("folded" in n for n in imported.notes)       # Shape/Gather/Concat chain -> constant
    assert graph.nodes[-1].params.get("activation") == "softmax"
    # the emitted models return the logits (the output softmax is separate: probabilities())
    logits = _torch_run(torch_model(graph, imported.weights), [x.numpy()])[0]
    assert _max_diff([ref], [torch.softmax(torch.from_numpy(logits), -1).numpy()]) < 1e-5
    # the same weights in Keras (channels-last: the Flatten order and Dense rows re-laid)
    (tmp_path / "g.json").write_text(json.dumps(imported.doc))
    import subprocess
    import sys

    from dlpaper2code.emit.verify import _env

    write_code(graph, ["keras"], tmp_path / "k")
    np.savez(tmp_path / "in.npz", input_0=np.ascontiguousarray(x.numpy().transpose(0, 2, 3, 1)))
    np.savez(tmp_path / "w.npz", **imported.weights)
    proc = subprocess.run([sys.executable, "-m", "dlpaper2code.emit.runner", "--target", "keras", "--code",
                           str(tmp_path / "k" / "model_keras.py"), "--graph", str(tmp_path / "g.json"), "--inputs",
                           str(tmp_path / "in.npz"), "--weights", str(tmp_path / "w.npz"), "--out",
                           str(tmp_path / "out.npz")], capture_output=True, text=True, env=_env(), timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    keras_out = np.load(tmp_path / "out.npz")["output_0"]
    # Keras' model returns the logits (the output softmax is separate): compare after the softmax
    e = np.exp(keras_out - keras_out.max(-1, keepdims=True))
    assert np.abs(e / e.sum(-1, keepdims=True) - ref).max() < 1e-5


class _Norm(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(6, 12)
        self.ln = torch.nn.LayerNorm(12, eps=1e-6)
        self.out = torch.nn.Linear(12, 3)

    def forward(self, x):
        return self.out(torch.tanh(self.ln(self.fc(x))) * 2.0 + 1.0)


@pytest.mark.parametrize("opset", [13, 17])
def test_import_layernorm_native_and_decomposed(opset, tmp_path):
    torch.manual_seed(1)
    x = torch.randn(2, 5, 6)
    module = _Norm()
    with torch.no_grad():
        module.ln.weight.uniform_(0.5, 1.5)
        module.ln.bias.uniform_(-0.5, 0.5)
    ref = _export_module(module, x, tmp_path / "n.onnx", opset=opset)
    imported = import_model(tmp_path / "n.onnx")
    graph = parse_graph(imported.doc, source="norm")
    assert [n.type for n in graph.nodes].count("LayerNorm") == 1
    assert _max_diff([ref], _torch_run(torch_model(graph, imported.weights), [x.numpy()])) < 1e-5


def test_unknown_operator_names_node_and_operator(tmp_path):
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4, 4])
    node = helper.make_node("Einsum", ["x", "x"], ["y"], name="mix", equation="bij,bjk->bik")
    model = helper.make_model(helper.make_graph([node], "g", [x], [y]), opset_imports=[helper.make_opsetid("", 13)])
    onnx.save(model, tmp_path / "e.onnx")
    with pytest.raises(ImportFailure) as err:
        import_model(tmp_path / "e.onnx")
    assert err.value.node == "mix" and err.value.operator == "Einsum"
    assert "mix" in str(err.value) and "Einsum" in str(err.value)

    custom = helper.make_node("FancyOp", ["x"], ["y"], name="fancy", domain="com.example")
    model = helper.make_model(helper.make_graph([custom], "g", [x], [y]),
                              opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid("com.example", 1)])
    onnx.save(model, tmp_path / "c.onnx")
    with pytest.raises(ImportFailure, match="fancy.*FancyOp.*com.example"):
        import_model(tmp_path / "c.onnx")


def test_import_command(tmp_path):
    from dlpaper2code.cli import main as cli

    path = tmp_path / "l.onnx"
    path.write_bytes(export_onnx(load_graph(ZOO / "lenet5.json")))
    assert cli(["import", str(path), "-o", str(tmp_path / "g.json"), "--weights", str(tmp_path / "w.npz")]) == 0
    doc = json.loads((tmp_path / "g.json").read_text())
    assert doc["name"] == "lenet5" and len(np.load(tmp_path / "w.npz").files) == 10
