"""Keras 3 import (formats.keras_import), dlpaper2code convert (formats.convert) and the CLI."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")
from keras import layers  # noqa: E402

from dlpaper2code.core.graph import parse_graph  # noqa: E402
from dlpaper2code.emit.weights import random_inputs  # noqa: E402
from dlpaper2code.formats import ImportFailure, detect_format, import_model  # noqa: E402
from dlpaper2code.formats.convert import convert, keras_outputs, run_targets  # noqa: E402
from dlpaper2code.formats.keras_import import import_model_object  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def _randomise_bn(model, seed=0):
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if getattr(layer, "layers", None):
            _randomise_bn(layer, seed + 1)
        elif isinstance(layer, layers.BatchNormalization):
            layer.set_weights([rng.uniform(0.5, 1.5, w.shape).astype("float32") for w in layer.get_weights()])
    return model


def functional_model():
    keras.utils.set_random_seed(0)
    inp = keras.Input((12, 12, 3), name="image")
    x = layers.Conv2D(8, 3, padding="same", use_bias=False, name="conv")(inp)
    x = layers.BatchNormalization(name="bn")(x)
    x = layers.Activation("relu", name="relu")(x)
    y = layers.MaxPooling2D(3, 2, padding="same", name="pool_same")(x)
    z = layers.ZeroPadding2D(((0, 1), (0, 1)), name="pad")(x)
    z = layers.DepthwiseConv2D(3, strides=2, name="dw")(z)
    x = layers.Add(name="add")([y, z])
    x = layers.SeparableConv2D(6, 3, padding="same", activation="swish", name="sep")(x)
    g = layers.GlobalAveragePooling2D(keepdims=True, name="gap")(x)
    x = layers.Multiply(name="se")([x, g])
    x = layers.AveragePooling2D(2, name="avg")(x)
    x = layers.Flatten(name="flat")(x)
    x = layers.Dropout(0.2, name="drop")(x)
    out = layers.Dense(4, name="logits")(x)
    return _randomise_bn(keras.Model(inp, out, name="functional"))


def nested_model():
    keras.utils.set_random_seed(1)
    inner_in = keras.Input((8, 8, 4))
    h = layers.Conv2D(4, 3, padding="same", name="c")(inner_in)
    h = layers.BatchNormalization(name="bn")(h)
    h = layers.ReLU(6.0, name="r6")(h)
    inner = keras.Model(inner_in, h, name="block")
    seq = keras.Sequential([layers.GlobalAveragePooling2D(name="gap"), layers.Dense(3, name="fc")], name="head")
    inp = keras.Input((8, 8, 4), name="x")
    x = inner(inp)
    x = layers.Add(name="res")([x, inp])
    x = layers.Concatenate(name="cat")([x, inp])
    out = seq(x)
    return _randomise_bn(keras.Model(inp, out, name="nested"))


def sequential_model():
    keras.utils.set_random_seed(2)
    return keras.Sequential([keras.Input((10, 6)), layers.LSTM(5, return_sequences=True, name="lstm"),
                             layers.Bidirectional(layers.GRU(4), name="bigru"), layers.Dense(2, activation="tanh", name="out")],
                            name="seq")


def _agree(model, tmp_path, targets=("pytorch",)):
    imported = import_model_object(model, model.name)
    graph = parse_graph(imported.doc)
    inputs = random_inputs(graph, batch=2, seed=0)
    ref = keras_outputs(model, inputs)
    results = run_targets(graph, imported.weights, inputs, list(targets), tmp_path)
    for t in targets:
        assert "outputs" in results[t], results[t]
        for a, b in zip(ref, results[t]["outputs"]):
            assert a.shape == b.shape
            assert np.max(np.abs(a - b)) <= 1e-4 + 1e-5 * np.max(np.abs(a)), t
    return imported, graph


def test_functional_model_imports_and_agrees_in_pytorch(tmp_path):
    imported, graph = _agree(functional_model(), tmp_path)
    types = {n["layer_name"]: n["layer_type"] for n in imported.doc["layers"]}
    assert types["sep/depthwise"] == "DepthwiseConv2D" and types["sep"] == "Conv2D"
    assert types["gap"] == "Reshape" and types["gap/pool"] == "GlobalAvgPool2D"
    assert types["pool_same"] == "MaxPool2D" and graph.node("pool_same").params["padding"] == "same"
    assert graph.node("pad").params["padding"] == [0, 1, 0, 1]
    assert graph.node("bn").params["epsilon"] == pytest.approx(1e-3)


def test_nested_and_sequential_models_are_flattened(tmp_path):
    imported, graph = _agree(nested_model(), tmp_path)
    names = [n["layer_name"] for n in imported.doc["layers"]]
    assert "block/c" in names and "block/bn" in names and "head/fc" in names
    assert graph.node("res").inputs == ["block/r6", "x"]
    assert imported.weights["block_c/kernel"].shape == (3, 3, 4, 4)


def test_recurrent_sequential_model_agrees(tmp_path):
    imported, graph = _agree(sequential_model(), tmp_path)
    assert graph.node("bigru").params["bidirectional"] is True
    assert imported.weights["bigru/backward_bias"].shape == (2, 12)


def test_keras_file_and_json(tmp_path):
    model = functional_model()
    model.save(tmp_path / "m.keras")
    (tmp_path / "m.json").write_text(model.to_json())
    a = import_model(tmp_path / "m.keras")
    assert a.format == "keras" and a.weights is not None
    assert detect_format(tmp_path / "m.json") == "keras"          # sniffed by content
    b = import_model(tmp_path / "m.json")
    assert b.weights is None and b.doc["layers"] == a.doc["layers"]
    for k, v in a.weights.items():
        assert np.array_equal(v, import_model_object(model).weights[k])


def test_unknown_layers_name_the_layer_and_class(tmp_path):
    inp = keras.Input((4,))
    out = layers.Lambda(lambda t: t * 2, name="double")(inp)
    with pytest.raises(ImportFailure) as err:
        import_model_object(keras.Model(inp, out))
    assert err.value.node == "double" and err.value.operator == "Lambda"

    inp = keras.Input((6, 6, 2))
    out = layers.UpSampling2D(2, interpolation="bilinear", name="up")(inp)
    with pytest.raises(ImportFailure, match="bilinear") as err:
        import_model_object(keras.Model(inp, out))
    assert err.value.node == "up"

    inp = keras.Input((6, 6, 2))
    out = layers.RandomFlip(name="flip")(inp)
    with pytest.raises(ImportFailure, match="no vocabulary entry") as err:
        import_model_object(keras.Model(inp, out))
    assert err.value.node == "flip" and err.value.operator == "RandomFlip"


def test_normalization_and_constant_arithmetic(tmp_path):
    keras.utils.set_random_seed(3)
    inp = keras.Input((6, 6, 3))
    norm = layers.Normalization(mean=[0.1, -0.2, 0.3], variance=[0.5, 2.0, 1.5], name="norm")
    x = norm(inp)
    x = layers.Conv2D(4, 1, name="c")(x)
    x = layers.ReLU(6.0, name="r")(x + 3.0) * (1.0 / 6.0)
    model = keras.Model(inp, x)
    imported, graph = _agree(model, tmp_path)
    assert graph.node("norm").type == "DepthwiseConv2D"
    assert [n.type for n in graph.nodes].count("Rescaling") == 2


def test_convert_keras_file_to_pytorch_against_keras(tmp_path):
    model = nested_model()
    model.save(tmp_path / "n.keras")
    report = convert(tmp_path / "n.keras", "pytorch", tmp_path / "out")
    assert report["ok"], report
    assert report["reference"].startswith("the source model (keras")
    assert report["max_abs_diff"] < 1e-4
    assert (tmp_path / "out" / "graph.json").is_file() and (tmp_path / "out" / "weights.npz").is_file()


def _cli(*args, cwd):
    env = dict(os.environ, KERAS_BACKEND="torch", PYTHONPATH=str(ROOT / "src"))
    return subprocess.run([sys.executable, "-m", "dlpaper2code.cli", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=600)


@pytest.mark.slow      # 45 s: three frameworks through the CLI; convert is covered fast by the test above
def test_cli_import_and_convert(tmp_path):
    model = sequential_model()
    model.save(tmp_path / "s.keras")
    r = _cli("import", str(tmp_path / "s.keras"), "-o", str(tmp_path / "g.json"), "--weights", str(tmp_path / "w.npz"),
             cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    doc = json.loads((tmp_path / "g.json").read_text())
    assert [n["layer_type"] for n in doc["layers"]] == ["Input", "LSTM", "GRU", "Dense"]
    assert "bigru/kernel" in np.load(tmp_path / "w.npz").files
    r = _cli("convert", str(tmp_path / "s.keras"), "--to", "tensorflow", "-o", str(tmp_path / "tf"), cwd=tmp_path)
    assert r.returncode == 0, r.stderr + r.stdout
    assert "max abs diff" in r.stdout and "ok" in r.stdout


def test_cli_fails_clearly_on_a_missing_file(tmp_path):
    for cmd in (["import", "nope.keras", "-o", "g.json"], ["convert", "nope.keras", "--to", "pytorch", "-o", "out"]):
        r = _cli(*cmd, cwd=tmp_path)
        assert r.returncode == 1
        assert "nope.keras" in r.stderr and "file not found" in r.stderr
        assert "Traceback" not in r.stderr


@pytest.mark.slow
def test_roundtrip_mobilenet_v2_against_keras_applications(tmp_path):
    from dlpaper2code.eval.roundtrip import roundtrip_network

    row = roundtrip_network("MobileNetV2", ["pytorch"], tmp_path)
    assert row["ok"], row
    assert row["parameters"] == row["keras_parameters"] == 3_538_984
