"""Caffe (prototxt + caffemodel) and PyTorch (nn.Module through torch.fx) importers: round trips of
the emitters' own output, weights, errors naming node and operator, and the command line."""
from __future__ import annotations

import importlib.util
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from dlpaper2code.core.graph import load_graph, parse_graph
from dlpaper2code.emit.codegen import _KERNEL_KEYS, emit_options, layer_paths, padding_info, write_code
from dlpaper2code.emit.weights import canonical_weights, random_inputs, target_weights, to_channels_first
from dlpaper2code.formats import ImportFailure, import_model

ROOT = Path(__file__).resolve().parents[1]
ZOO = ROOT / "config" / "zoo"
CLI = [sys.executable, "-m", "dlpaper2code.cli"]


def zoo(name: str):
    return load_graph(next(ZOO.glob(f"**/{name}.json")))


def normalised(graph):
    """(type, parameters, shape) per node in order: padding as per-side amounts (a max pooling's
    ceil_mode as the extra bottom/right padding it stands for), momentum left out (Caffe's deploy
    net does not say it), floats rounded (Caffe stores float32)."""
    out = []
    for n in graph.nodes:
        p = dict(n.params)
        for key in ("trainable", "momentum", "ceil_mode"):
            p.pop(key, None)
        if n.type in _KERNEL_KEYS and "padding" in p:
            k, d = _KERNEL_KEYS[n.type]
            info = padding_info(n.params, graph.shapes[n.inputs[0]].shape, k, d)
            p["padding"] = (info["t"], info["b"] + info["xb"], info["l"], info["r"] + info["xr"])
        p = {k: round(v, 5) if isinstance(v, float) else v for k, v in p.items()}
        out.append((n.type, p, tuple(graph.shapes[n.name].shape)))
    return out


def caffe_round_trip(name: str, tmp_path: Path, version: str = "1.0", file: str = "model.prototxt"):
    graph = zoo(name)
    with emit_options(caffe_version=version):
        write_code(graph, "caffe", tmp_path / name)
    imported = import_model(tmp_path / name / file)
    back = parse_graph(imported.doc)
    assert normalised(back) == normalised(graph)
    assert [back.shapes[o].shape for o in back.outputs] == [graph.shapes[o].shape for o in graph.outputs]
    return graph, back, imported


@pytest.mark.parametrize("name", ["lenet5", "imdb_lstm", "mobilenet_blocks", "resnet_stage", "squeezenet1_0"])
def test_caffe_round_trip(name, tmp_path):
    caffe_round_trip(name, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("name,version", [("alexnet", "1.0"), ("vgg16", "1.0"), ("mobilenet_v2", "1.0"),
                                          ("inception", "master"), ("two_inputs", "master")])
def test_caffe_round_trip_large(name, version, tmp_path):
    caffe_round_trip(name, tmp_path, version)


@pytest.mark.parametrize("name", ["lenet5", "imdb_lstm"])
def test_caffe_train_val_imports_as_the_deploy_net(name, tmp_path):
    """DummyData inputs, the label dropped, SoftmaxWithLoss's logits given back their softmax."""
    caffe_round_trip(name, tmp_path, file="train_val.prototxt")


def _caffemodel(graph, canon, path: Path):
    """A .caffemodel holding `canon` in Caffe's blob layouts (PyTorch's, but the LSTM gates i, f, o, g
    and BatchNorm's mean / variance / scale factor, with its Scale layer's gamma and beta)."""
    from dlpaper2code.emit.caffe.schema import message_class
    from dlpaper2code.emit.codegen import node_contexts

    net = message_class("NetParameter")()
    tw = target_weights(graph, "pytorch", canon)

    def layer(name, arrays):
        lp = net.layer.add()
        lp.name = name
        for a in arrays:
            blob = lp.blobs.add()
            blob.shape.dim.extend(a.shape)
            blob.data.extend(np.asarray(a, np.float32).ravel().tolist())

    for ctx in node_contexts(graph):
        w, lid = tw.get(ctx["id"]), ctx["id"]
        if not w:
            continue
        if ctx["type"] == "BatchNorm":
            layer(lid, [w["running_mean"], w["running_var"], np.ones(1, np.float32)])
            if "weight" in w:
                layer(f"{lid}_scale", [w["weight"]] + ([w["bias"]] if "bias" in w else []))
        elif ctx["type"] == "LSTM":
            gates = lambda a: np.concatenate([np.split(a, 4)[g] for g in (0, 1, 3, 2)])  # noqa: E731
            name = lid if ctx["p"]["return_sequences"] else f"{lid}_seq"
            layer(name, [gates(w["weight_ih_l0"]), gates(w["bias_ih_l0"]), gates(w["weight_hh_l0"])])
        else:
            layer(lid, [w["weight"]] + ([w["bias"]] if "bias" in w else []))
    path.write_bytes(net.SerializeToString())


@pytest.mark.parametrize("name", ["lenet5", "imdb_lstm", "mobilenet_blocks"])
def test_caffemodel_weights_come_back_canonical(name, tmp_path):
    graph = zoo(name)
    write_code(graph, "caffe", tmp_path / name)
    canon = canonical_weights(graph)
    model = tmp_path / name / "model.caffemodel"
    _caffemodel(graph, canon, model)
    imported = import_model(tmp_path / name / "model.prototxt")       # the .caffemodel beside it
    assert imported.weights is not None and set(imported.weights) == set(canon)
    for key, arr in canon.items():
        np.testing.assert_allclose(imported.weights[key], arr, rtol=1e-6, atol=1e-6, err_msg=key)


def test_caffe_unknown_layer_names_node_and_operator(tmp_path):
    proto = tmp_path / "net.prototxt"
    base = """
    layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 1 dim: 3 dim: 8 dim: 8 } } }
    layer { name: "a" type: "Convolution" bottom: "data" top: "a" convolution_param { num_output: 4 kernel_size: 3 } }
    layer { name: "b" type: "Convolution" bottom: "data" top: "b" convolution_param { num_output: 4 kernel_size: 3 } }
    """
    proto.write_text(base + 'layer { name: "odd" type: "SPP" bottom: "a" top: "odd" }')
    with pytest.raises(ImportFailure) as exc:
        import_model(proto)
    assert exc.value.node == "odd" and exc.value.operator == "SPP" and "SPP" in str(exc.value)
    proto.write_text(base + 'layer { name: "m" type: "Eltwise" bottom: "a" bottom: "b" top: "m" '
                            'eltwise_param { operation: MAX } }')
    with pytest.raises(ImportFailure) as exc:
        import_model(proto)
    assert exc.value.node == "m" and exc.value.operator == "Eltwise" and "MAX" in str(exc.value)


def test_caffe_hand_written_net(tmp_path):
    """Legacy input_dim, in-place ReLU folded into its convolution, BatchNorm + Scale, ceil pooling,
    the implicit flatten before InnerProduct, Caffe's RNN as SimpleRNN + Dense(tanh)."""
    proto = tmp_path / "net.prototxt"
    proto.write_text(textwrap.dedent("""
        name: "small"
        input: "data"
        input_dim: 1 input_dim: 3 input_dim: 13 input_dim: 13
        layer { name: "conv" type: "Convolution" bottom: "data" top: "conv"
                convolution_param { num_output: 8 kernel_size: 3 pad: 1 bias_term: false } }
        layer { name: "bn" type: "BatchNorm" bottom: "conv" top: "conv" }
        layer { name: "sc" type: "Scale" bottom: "conv" top: "conv" scale_param { bias_term: true } }
        layer { name: "relu" type: "ReLU" bottom: "conv" top: "conv" }
        layer { name: "pool" type: "Pooling" bottom: "conv" top: "pool" pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
        layer { name: "fc" type: "InnerProduct" bottom: "pool" top: "fc" inner_product_param { num_output: 5 } }
        layer { name: "relu_fc" type: "ReLU" bottom: "fc" top: "fc" }
        layer { name: "prob" type: "Softmax" bottom: "fc" top: "prob" }
    """))
    imported = import_model(proto)
    graph = parse_graph(imported.doc)
    assert [n.type for n in graph.nodes] == ["Input", "Conv2D", "BatchNorm", "Activation", "MaxPool2D", "Flatten",
                                             "Dense", "Activation"]
    assert graph.node("fc").params["activation"] == "relu"
    bn = graph.node("bn")
    assert bn.params["scale"] and bn.params["center"]
    assert graph.node("pool").params["ceil_mode"] is True and graph.shapes["pool"].shape == (7, 7, 8)
    assert graph.outputs == ["prob"] and graph.shapes["prob"].shape == (5,)


# ------------------------------------------------------------------ PyTorch
def _load(path: Path):
    spec = importlib.util.spec_from_file_location(f"emitted_{abs(hash(str(path)))}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def torch_round_trip(name: str, tmp_path: Path) -> float:
    """Emit PyTorch, load the canonical weights, import the module (its state_dict), emit the imported
    graph for PyTorch with the imported weights: the two models' outputs differ by at most this."""
    import torch

    from dlpaper2code.emit.runner import load_pytorch_weights

    graph = zoo(name)
    write_code(graph, "pytorch", tmp_path / "a")
    source = tmp_path / "a" / "model_pytorch.py"
    model = _load(source).build_model().eval()
    load_pytorch_weights(model, graph, canonical_weights(graph), layer_paths(graph, "pytorch"))
    imported = import_model(f"{source}:{type(model).__name__}", "pytorch", state_dict=model.state_dict())
    back = parse_graph(imported.doc)
    write_code(back, "pytorch", tmp_path / "b")
    again = _load(tmp_path / "b" / "model_pytorch.py").build_model().eval()
    load_pytorch_weights(again, back, imported.weights, layer_paths(back, "pytorch"))
    kinds = [graph.shapes[n.name].kind for n in graph.inputs]
    inputs = [torch.from_numpy(to_channels_first(a, k)) for a, k in zip(random_inputs(graph), kinds)]
    with torch.no_grad():
        a, b = model(*inputs), again(*inputs)
    assert a.shape == b.shape
    return float((a - b).abs().max())


@pytest.mark.parametrize("name", ["lenet5", "resnet_stage", "imdb_lstm", "mobilenet_blocks"])
def test_torch_round_trip(name, tmp_path):
    assert torch_round_trip(name, tmp_path) <= 1e-5


@pytest.mark.slow
@pytest.mark.parametrize("name", ["vgg16", "alexnet", "mobilenet_v2", "squeezenet1_0", "inception"])
def test_torch_round_trip_large(name, tmp_path):
    assert torch_round_trip(name, tmp_path) <= 1e-5


HANDWRITTEN = '''
import torch
from torch import nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.pool = nn.MaxPool2d(3, 2, padding=1, ceil_mode=True)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, 4)

    def forward(self, x):
        y = F.relu(self.bn(self.conv(x)))
        y = self.pool(y)
        y = torch.cat([y, y * 2.0], dim=1)
        y = torch.flatten(self.gap(y), 1)
        return torch.softmax(self.fc(y), dim=1)


class Odd(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        return torch.cumsum(self.fc(x), dim=1)
'''


def test_torch_hand_written_module(tmp_path):
    import torch

    source = tmp_path / "nets.py"
    source.write_text(HANDWRITTEN)
    module = _load(source)
    torch.manual_seed(0)
    net = module.Net().eval()
    with torch.no_grad():
        net.bn.running_mean.uniform_(-0.5, 0.5)
        net.bn.running_var.uniform_(0.5, 1.5)
    imported = import_model(f"{source}:Net", "pytorch", input_shape=[9, 9, 3], state_dict=net.state_dict())
    graph = parse_graph(imported.doc)
    assert [n.type for n in graph.nodes] == ["Input", "Conv2D", "BatchNorm", "Activation", "MaxPool2D",
                                             "Rescaling", "Concat", "GlobalAvgPool2D", "Dense"]
    assert graph.node("fc").params["activation"] == "softmax"
    write_code(graph, "pytorch", tmp_path / "out")
    again = _load(tmp_path / "out" / "model_pytorch.py").build_model().eval()
    from dlpaper2code.emit.runner import load_pytorch_weights
    load_pytorch_weights(again, graph, imported.weights, layer_paths(graph, "pytorch"))
    x = torch.randn(2, 3, 9, 9)
    with torch.no_grad():
        want = net(x)
        got = torch.softmax(again(x), dim=-1)        # the emitted model returns logits
    assert float((want - got).abs().max()) <= 1e-5


def test_torch_unknown_op_names_node_and_operator(tmp_path):
    source = tmp_path / "nets.py"
    source.write_text(HANDWRITTEN)
    with pytest.raises(ImportFailure) as exc:
        import_model(f"{source}:Odd", "pytorch", input_shape=[4])
    assert exc.value.node == "cumsum" and "cumsum" in exc.value.operator


def test_cli_import_prototxt_and_module(tmp_path):
    graph = zoo("lenet5")
    write_code(graph, "caffe", tmp_path / "caffe")
    out = tmp_path / "g.json"
    proc = subprocess.run([*CLI, "import", str(tmp_path / "caffe" / "model.prototxt"), "-o", str(out)],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert len(parse_graph(__import__("json").loads(out.read_text())).nodes) == 9
    source = tmp_path / "nets.py"
    source.write_text(HANDWRITTEN)
    weights = tmp_path / "w.npz"
    proc = subprocess.run([*CLI, "import", "nets:Net", "--from", "pytorch", "--input-shape", "9,9,3", "-o",
                           str(out), "--weights", str(weights)], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    with np.load(weights) as data:
        assert data["conv/kernel"].shape == (3, 3, 3, 8)
    proc = subprocess.run([*CLI, "import", "nets:Odd", "--from", "pytorch", "--input-shape", "4", "-o", str(out)],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 1 and "cumsum" in proc.stderr
