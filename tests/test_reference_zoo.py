"""The nine reference networks of the zoo (config/zoo/reference/), checked against
implementations nobody here wrote.

Each graph is written by a builder in data/zoo/ from a reference implementation's
source: keras.applications (ResNet-50, DenseNet-121, Inception-v3, MobileNetV3-Large,
EfficientNet-B0), torchvision's SqueezeNet 1.0, timm's ViT-B/16, Hugging Face's
BERT-base and torch.nn.Transformer. The reference counts below are the references'
own: keras.applications(weights=None) counted here (slow test) or the published
figure (torchvision, timm, Hugging Face). The slow tests build the emitted PyTorch and
Keras models and the keras.applications references and count their trainable weights.
"""
import json
import math
import subprocess
import sys

import pytest

from dlpaper2code.core.graph import load_graph
from dlpaper2code.emit.codegen import write_code
from dlpaper2code.emit.verify import _env, format_report, verify_graph
from dlpaper2code.emit.weights import parameter_counts

from conftest import ROOT

REFERENCE = ROOT / "config" / "zoo" / "reference"

# name: (trainable parameters of the reference, where the number comes from, keras.applications model or None)
EXPECTED = {
    "resnet50": (25_583_592, "keras.applications.ResNet50", "ResNet50"),
    "densenet121": (7_978_856, "keras.applications.DenseNet121", "DenseNet121"),
    "inception_v3": (23_817_352, "keras.applications.InceptionV3", "InceptionV3"),
    "mobilenet_v3_large": (5_483_032, "keras.applications.MobileNetV3Large", "MobileNetV3Large"),
    "efficientnet_b0": (5_288_548, "keras.applications.EfficientNetB0", "EfficientNetB0"),
    "squeezenet1_0": (1_248_424, "torchvision squeezenet1_0, published", None),
    "vit_b16": (86_567_656, "timm vit_base_patch16_224, published", None),
    "bert_base": (109_482_240, "Hugging Face bert-base-uncased with pooler, published", None),
    # torch.nn.Transformer(512, 8, 6, 6, 2048) has 44,140,544 parameters, 2,048 of them in the two final
    # LayerNorms the 2017 post-norm model does not have (checked in test_transformer_core_equals_torch);
    # plus two 37000 x 512 embeddings (37,888,000) and the 512 -> 37000 output layer (18,981,000)
    "transformer_base": (44_140_544 - 2_048 + 2 * 37_000 * 512 + 512 * 37_000 + 37_000, "torch.nn.Transformer + embeddings", None),
}


def test_the_committed_graphs_are_what_their_builders_write():
    proc = subprocess.run([sys.executable, str(ROOT / "data" / "zoo" / "build.py"), "--check"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert sorted(p.stem for p in REFERENCE.glob("*.json")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_parameter_count_equals_the_reference(name):
    graph = load_graph(REFERENCE / f"{name}.json")
    assert parameter_counts(graph)["trainable"] == EXPECTED[name][0], EXPECTED[name][1]


def test_transformer_core_equals_torch():
    import torch

    torch_count = sum(p.numel() for p in torch.nn.Transformer(512, 8, 6, 6, 2048).parameters())
    assert torch_count == 44_140_544
    graph = load_graph(REFERENCE / "transformer_base.json")
    core = sum(math.prod(w["shape"]) for n in graph.nodes for w in _weights(graph, n.name)
               if n.type not in ("Embedding",) and n.name != graph.outputs[0])
    assert core == torch_count - 2 * 2 * 512          # its final encoder and decoder LayerNorm (gamma, beta)


def _weights(graph, name):
    from dlpaper2code.emit.codegen import node_contexts

    return next(c["weights"] for c in node_contexts(graph) if c["name"] == name)


COUNT_SCRIPT = """
import importlib.util, json, sys, os
os.environ["KERAS_BACKEND"] = "torch"
import numpy as np
kind, path, app = sys.argv[1], sys.argv[2], sys.argv[3]
out = {}
if kind == "pytorch":
    spec = importlib.util.spec_from_file_location("m", path); m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
    model = m.build_model()
    out["emitted"] = sum(p.numel() for p in model.parameters() if p.requires_grad)
else:
    import keras
    spec = importlib.util.spec_from_file_location("m", path); m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
    count = lambda model: sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    out["emitted"] = count(m.build_model())
    if app != "-":
        out["reference"] = count(getattr(keras.applications, app)(weights=None))
print(json.dumps(out))
"""


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_emitted_models_have_the_reference_count(name, tmp_path):
    """PyTorch and Keras models built from the graph, and the keras.applications reference itself."""
    expected, source, app = EXPECTED[name]
    write_code(load_graph(REFERENCE / f"{name}.json"), ["pytorch", "keras"], tmp_path)
    for target in ("pytorch", "keras"):
        proc = subprocess.run([sys.executable, "-c", COUNT_SCRIPT, target, str(tmp_path / f"model_{target}.py"),
                               app if target == "keras" and app else "-"],
                              capture_output=True, text=True, timeout=900, env=_env())
        assert proc.returncode == 0, proc.stderr[-2000:]
        counts = json.loads(proc.stdout.strip().splitlines()[-1])
        assert counts["emitted"] == expected, (target, counts)
        if "reference" in counts:
            assert counts["reference"] == expected, (source, counts)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_reference_network_verified_in_every_framework(name, tmp_path):
    result = verify_graph(REFERENCE / f"{name}.json", "all", tmp_path, equivalence=True, atol=1e-4)
    assert result["ok"], format_report([result])
    assert set(result["targets"]) - set(result["refused"]) >= {"pytorch", "keras", "tensorflow"}
