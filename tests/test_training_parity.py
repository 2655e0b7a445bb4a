"""Training parity: one SGD step from the same weights and batch agrees across frameworks.

PyTorch, Keras 3 (torch backend) and TensorFlow each take one plain SGD step (lr 0.01) in
training mode, in their own process (runner.train_step); the loss, every updated weight (back in
the canonical layout) and BatchNorm's moved statistics must agree (verify.compare_training).
"""
import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from dlpaper2code.core.graph import load_graph, parse_graph
from dlpaper2code.emit import codegen
from dlpaper2code.emit.codegen import write_code
from dlpaper2code.emit.verify import (_env, run_target, compare_training, format_report, summarize,
                                      training_twin, verify_graph)
from dlpaper2code.emit.weights import (canonical_from_target, canonical_weights, parameter_counts,
                                       target_weights)

from conftest import EXTRA, ROOT, ZOO

RUNNABLE = ["pytorch", "keras", "tensorflow"]


def _doc(name, layers, outputs=None):
    doc = {"schema_version": 1, "name": name, "layers": [
        {"layer_type": t, "layer_name": n, "layer_params": p, "from_layers": f} for t, n, p, f in layers]}
    if outputs:
        doc["outputs"] = outputs
    return doc


# conv + BN + relu + pool + dense, and a BatchNorm over a feature vector (a batch of 2: its unbiased
# variance is twice the biased one, so PyTorch's own running_var update cannot pass unnoticed)
CONV_BN = _doc("train_conv_bn", [
    ("Input", "x", {"shape": [8, 8, 3]}, []),
    ("Conv2D", "conv", {"filters": 4, "kernel_size": 3, "padding": "same"}, ["x"]),
    ("BatchNorm", "bn", {}, ["conv"]),
    ("Activation", "relu", {"function": "relu"}, ["bn"]),
    ("MaxPool2D", "pool", {"pool_size": 2}, ["relu"]),
    ("Flatten", "flat", {}, ["pool"]),
    ("Dense", "fc", {"units": 6}, ["flat"]),
    ("BatchNorm", "fc_bn", {"momentum": 0.9}, ["fc"]),
    ("Dense", "out", {"units": 3}, ["fc_bn"]),
])

# dropout (a layer, and inside attention) and an output softmax: trained on the twin without both
DROPOUT = _doc("train_dropout", [
    ("Input", "seq", {"shape": [5, 8]}, []),
    ("MultiHeadAttention", "att", {"num_heads": 2, "key_dim": 4, "dropout": 0.2}, ["seq"]),
    ("Dropout", "drop", {"rate": 0.3}, ["att"]),
    ("SelectToken", "first", {"index": 0}, ["drop"]),
    ("Dense", "probs", {"units": 3, "activation": "softmax"}, ["first"]),
])

# token ids -> Embedding -> LSTM -> GRU (PyTorch's extra recurrent bias stays frozen at zero)
RECURRENT = _doc("train_recurrent", [
    ("Input", "tokens", {"shape": [6], "dtype": "int64"}, []),
    ("Embedding", "embed", {"input_dim": 20, "output_dim": 8}, ["tokens"]),
    ("LSTM", "lstm", {"units": 5, "return_sequences": True}, ["embed"]),
    ("GRU", "gru", {"units": 4}, ["lstm"]),
    ("Dense", "out", {"units": 2}, ["gru"]),
])


def _write(tmp_path, doc):
    path = tmp_path / f"{doc['name']}.json"
    path.write_text(json.dumps(doc))
    return path


# ------------------------------------------------------------- the weight layout, inverted
SMALL = [p for p in ZOO if p.stem not in ("vgg16", "alexnet")] + EXTRA + \
    [ROOT / "config" / "zoo" / "reference" / "resnet50.json"]


@pytest.mark.parametrize("path", SMALL, ids=lambda p: p.stem)
@pytest.mark.parametrize("target", ["pytorch", "keras"])
def test_canonical_from_target_inverts_target_weights(path, target):
    """canonical -> target layout -> canonical gives back every weight exactly (transposes, row
    permutations after a Flatten, LSTM/GRU gate orders, stacked attention projections, depthwise)."""
    graph = load_graph(path)
    canon = canonical_weights(graph, seed=3)
    back = canonical_from_target(graph, target, target_weights(graph, target, canon))
    assert set(back) == set(canon)
    for key, arr in canon.items():
        assert back[key].shape == arr.shape and np.array_equal(back[key], arr), key


def test_canonical_from_target_refuses_missing_or_misshapen_parameters():
    graph = parse_graph(RECURRENT)
    per_layer = target_weights(graph, "pytorch", canonical_weights(graph))
    del per_layer["lstm"]["weight_hh_l0"]
    with pytest.raises(KeyError, match="lstm/recurrent_kernel"):
        canonical_from_target(graph, "pytorch", per_layer)
    per_layer = target_weights(graph, "pytorch", canonical_weights(graph))
    per_layer["out"]["weight"] = per_layer["out"]["weight"].T
    with pytest.raises(ValueError, match="out/kernel: pytorch gives shape"):
        canonical_from_target(graph, "pytorch", per_layer)


# ------------------------------------------------------------- the comparison itself
def _step(seed=0, loss=1.5):
    rng = np.random.default_rng(seed)
    before = {"d/kernel": rng.standard_normal((4, 3)).astype(np.float32),
              "d/bias": np.zeros(3, np.float32),
              "bn/moving_mean": np.zeros(3, np.float32), "bn/moving_variance": np.ones(3, np.float32)}
    after = {"loss": np.float64(loss)}
    after.update({f"weight/{k}": v - 0.01 * rng.standard_normal(v.shape).astype(np.float32) for k, v in before.items()})
    return before, after


def test_compare_training_agrees_on_identical_steps_and_catches_planted_differences():
    before, ref = _step()
    same = {k: v.copy() for k, v in ref.items()}
    c = compare_training(ref, same, before)
    assert c["ok"] and c["max_abs_diff"] == 0 and c["loss_abs_diff"] == 0 and c["max_update"] > 0

    noisy = {k: (v + np.float32(2e-7) if k.startswith("weight/") else v) for k, v in ref.items()}
    assert compare_training(ref, noisy, before)["ok"]                  # float32 rounding passes

    max_update = c["max_update"]
    corrupt = {k: v.copy() for k, v in ref.items()}
    corrupt["weight/d/kernel"][1, 2] += 0.2 * max_update               # one updated weight off by 20 % of a step
    c = compare_training(ref, corrupt, before)
    assert not c["ok"] and c["worst"] == "d/kernel" and abs(c["update_rel_diff"] - 0.2) < 1e-3
    assert compare_training(ref, corrupt, before, update_rtol=0.25)["ok"]
    shape = {**ref, "weight/d/bias": ref["weight/d/bias"][:2]}
    assert not compare_training(ref, shape, before)["ok"]
    nan = {k: v.copy() for k, v in ref.items()}
    nan["weight/d/bias"][0] = np.nan
    assert not compare_training(ref, nan, before)["ok"]

    stats = {k: v.copy() for k, v in ref.items()}
    stats["weight/bn/moving_variance"] *= 2.0                          # PyTorch's unbiased variance, n = 2
    c = compare_training(ref, stats, before)
    assert not c["ok"] and not c["statistics_ok"] and c["ok"] is False and c["statistics_worst"] == "bn/moving_variance"

    assert not compare_training(ref, {**ref, "loss": np.float64(1.5 + 1e-3)}, before)["ok"]
    missing = {k: v for k, v in ref.items() if k != "weight/d/bias"}
    assert not compare_training(ref, missing, before)["ok"]
    frozen = {"loss": ref["loss"], **{f"weight/{k}": v.copy() for k, v in before.items()}}
    assert not compare_training(frozen, frozen, before)["ok"]          # nothing moved: no step was taken


def test_training_twin_turns_dropout_off_and_keeps_the_weights():
    graph = parse_graph(DROPOUT)
    twin = training_twin(graph)
    assert twin.name == graph.name                                     # same name: same canonical weights
    params = {n.name: n.params for n in twin.nodes}
    assert params["drop"]["rate"] == 0.0 and params["att"]["dropout"] == 0.0
    assert set(canonical_weights(twin)) == set(canonical_weights(graph))
    assert all(np.array_equal(canonical_weights(twin)[k], v) for k, v in canonical_weights(graph).items())
    assert training_twin(parse_graph(CONV_BN)) is None


def test_training_results_are_summarised_and_reported():
    result = {"graph": "g", "layers": 3, "ok": False, "targets": {},
              "training": {"ok": False, "loss_rel_diff": {"pytorch_vs_keras": 2e-7}, "max_rel_diff": {"pytorch_vs_keras": 3e-4},
                           "max_abs_diff": {"pytorch_vs_keras": 1e-3}, "update_rel_diff": {"pytorch_vs_keras": 0.1},
                           "statistics_max_rel_diff": {"pytorch_vs_keras": 0.0}, "errors": {"keras": "ValueError: x"}}}
    metrics = summarize([result])
    assert metrics["training_ok"] == 0 and metrics["training_max_rel_diff"] == 3e-4
    assert metrics["training_loss_max_rel_diff"] == 2e-7 and metrics["training_max_abs_diff"] == 1e-3
    table = format_report([result])
    assert "training: loss / weights rel diff" in table and "2.0e-07 / 3.0e-04 FAIL: keras: ValueError: x" in table


def test_the_cli_and_the_workflow_switch_the_training_check():
    import yaml

    from dlpaper2code.cli import build_parser

    args = build_parser().parse_args(["verify", "g.json"])
    assert not args.no_training and args.lr == 0.01
    args = build_parser().parse_args(["verify", "g.json", "--no-training", "--lr", "0.1"])
    assert args.no_training and args.lr == 0.1
    params = yaml.safe_load((ROOT / "params.yaml").read_text())["verify"]
    assert params["training"] is True and params["training_lr"] == 0.01
    schema = yaml.safe_load((ROOT / "config" / "params.schema.yaml").read_text())
    assert {"training", "training_lr"} <= set(schema["properties"]["verify"]["properties"])
    assert "training=bool(p.training)" in (ROOT / "workflow" / "scripts" / "verify.py").read_text()
    assert 'config["verify"].get("training"' in (ROOT / "workflow" / "rules" / "verify.smk").read_text()


# ------------------------------------------------------------- TensorFlow in training mode
TF_SCRIPT = r"""
import importlib.util, json, sys
import numpy as np
import tensorflow as tf
spec = importlib.util.spec_from_file_location("m", sys.argv[1]); m = importlib.util.module_from_spec(spec)
spec.loader.exec_module(m)
model = m.build_model()
out = {"trainable": int(sum(np.prod(v.shape) for v in model.trainable_variables)),
       "non_trainable": int(sum(np.prod(v.shape) for v in model.variables if not v.trainable))}
if sys.argv[2] == "bn":
    x = tf.constant(np.random.default_rng(0).standard_normal((2, 8, 8, 3)).astype("float32"))
    model.bn_moving_mean.assign(tf.fill([4], 0.5)); model.bn_moving_variance.assign(tf.fill([4], 2.0))
    conv = tf.nn.conv2d(x, model.conv_kernel, strides=(1, 1), padding="SAME") + model.conv_bias
    mean, var = conv.numpy().mean(axis=(0, 1, 2)), conv.numpy().var(axis=(0, 1, 2))
    model(x, training=False)
    out["inference_moved"] = bool(np.any(model.bn_moving_mean.numpy() != 0.5))
    with tf.GradientTape() as tape:
        y = model(x, training=True)
        loss = tf.reduce_sum(tf.square(y))
    grads = tape.gradient(loss, model.trainable_variables)
    out["mean_err"] = float(np.max(np.abs(model.bn_moving_mean.numpy() - (0.5 * 0.99 + mean * 0.01))))
    out["var_err"] = float(np.max(np.abs(model.bn_moving_variance.numpy() - (2.0 * 0.99 + var * 0.01))))
    out["all_grads"] = all(g is not None for g in grads)
else:
    x = tf.constant(np.random.default_rng(0).standard_normal((2, 5, 8)).astype("float32"))
    a, b = model(x, training=False), model(x, training=False)
    c = model(x, training=True)
    out["inference_same"] = bool(np.array_equal(a.numpy(), b.numpy()))
    out["training_differs"] = not bool(np.allclose(a.numpy(), c.numpy()))
print(json.dumps(out))
"""


def _tf(tmp_path, doc, mode):
    graph = parse_graph(doc)
    write_code(graph, ["tensorflow"], tmp_path)
    proc = subprocess.run([sys.executable, "-c", TF_SCRIPT, str(tmp_path / "model_tensorflow.py"), mode],
                          capture_output=True, text=True, timeout=300, env=_env())
    assert proc.returncode == 0, proc.stderr[-2000:]
    return graph, json.loads(proc.stdout.strip().splitlines()[-1])


def test_tensorflow_batchnorm_statistics_are_not_trainable_and_move_in_training(tmp_path):
    """moving_mean / moving_variance are tf.Variables with trainable=False (ResNet-34 had 17,024
    too many trainable parameters); training=True normalises with the batch's statistics and
    moves them by Keras' rule with the biased batch variance; inference leaves them alone."""
    graph, out = _tf(tmp_path, CONV_BN, "bn")
    counts = parameter_counts(graph)
    assert out["trainable"] == counts["trainable"] and out["non_trainable"] == counts["non_trainable"] == 2 * (4 + 6)
    assert not out["inference_moved"] and out["all_grads"]
    assert out["mean_err"] < 1e-6 and out["var_err"] < 1e-6


def test_tensorflow_dropout_and_attention_dropout_act_only_in_training(tmp_path):
    _, out = _tf(tmp_path, DROPOUT, "dropout")
    assert out["inference_same"] and out["training_differs"]


# ------------------------------------------------------------- one step in every framework
# the dropout graph runs twice per framework (forward, then its twin); imdb_lstm's Dropout is trained
# without it in test_verify's quick zoo test
@pytest.mark.parametrize("doc", [CONV_BN, pytest.param(DROPOUT, marks=pytest.mark.slow), RECURRENT],
                         ids=lambda d: d["name"])
def test_one_sgd_step_agrees_in_every_framework(doc, tmp_path):
    result = verify_graph(_write(tmp_path, doc), RUNNABLE, tmp_path / "work", equivalence=True)
    tr = result["training"]
    assert tr["ok"] and result["ok"], format_report([result]) + json.dumps(tr, indent=1, default=str)
    assert set(tr["loss"]) == set(RUNNABLE) and tr["lr"] == 0.01
    assert max(tr["loss_rel_diff"].values()) < 1e-5 and max(tr["max_rel_diff"].values()) < 1e-5
    assert tr["max_update"] > 1e-3                                     # the step moved the weights
    assert max(tr["update_rel_diff"].values()) < 1e-3                  # the gradients agree
    if doc is CONV_BN:
        assert tr["on"] == "the graph" and tr["statistics_max_update"] > 1e-3
        assert max(tr["statistics_max_rel_diff"].values()) < 1e-5
    if doc is DROPOUT:
        assert tr["on"] == "the graph without its output softmax and without dropout"


@pytest.fixture
def pytorch_batchnorm_config(tmp_path, monkeypatch):
    """A copy of config/ whose PyTorch BatchNorm is nn.BatchNorm2d/1d itself: its running_var moves
    with the unbiased batch variance."""
    cfg = tmp_path / "config"
    shutil.copytree(ROOT / "src" / "dlpaper2code" / "config", cfg)
    tpl = cfg / "templates" / "pytorch.yaml"
    text = tpl.read_text()
    assert "'KerasBatchNorm2d' if in_kind == 'image' else 'KerasBatchNorm1d'" in text
    tpl.write_text(text.replace("'KerasBatchNorm2d' if in_kind == 'image' else 'KerasBatchNorm1d'",
                                "'nn.BatchNorm2d' if in_kind == 'image' else 'nn.BatchNorm1d'"))
    monkeypatch.setenv("DLPAPER2CODE_CONFIG", str(cfg))
    codegen.load_target.cache_clear()
    yield cfg
    monkeypatch.delenv("DLPAPER2CODE_CONFIG")
    codegen.load_target.cache_clear()


def test_the_training_check_catches_pytorchs_unbiased_running_variance(pytorch_batchnorm_config, tmp_path):
    """The forward check cannot see it (inference uses the loaded statistics); the training check does."""
    result = verify_graph(_write(tmp_path, CONV_BN), ["pytorch", "keras"], tmp_path / "work")
    assert result["equivalence"]["ok"]
    tr = result["training"]
    assert not tr["ok"] and not result["ok"]
    assert tr["statistics_worst"]["pytorch_vs_keras"] == "fc_bn/moving_variance"
    assert tr["statistics_max_abs_diff"]["pytorch_vs_keras"] > 1e-2
    assert max(tr["max_rel_diff"].values()) < 1e-5                     # the learned weights still agree


@pytest.mark.slow
def test_a_different_learning_rate_is_caught(tmp_path):
    graph = parse_graph(CONV_BN)
    write_code(graph, ["tensorflow"], tmp_path / "tf")
    (tmp_path / "graph.json").write_text(json.dumps(graph.to_dict()))
    np.savez(tmp_path / "inputs.npz", input_0=np.random.default_rng(0).standard_normal((2, 8, 8, 3)).astype(np.float32))
    canon = canonical_weights(graph)
    np.savez(tmp_path / "weights.npz", **canon)
    np.savez(tmp_path / "targets.npz", target_0=np.ones((2, 3), np.float32))
    steps = {}
    for lr in (0.01, 0.0115):
        out = tmp_path / f"train_{lr}.npz"
        report = run_target("tensorflow", tmp_path / "tf" / "model_tensorflow.py", tmp_path / "graph.json",
                             tmp_path / "inputs.npz", tmp_path / "weights.npz", tmp_path / "out.npz", 300,
                             {"targets": tmp_path / "targets.npz", "lr": lr, "out": out})
        assert report["built"] and report["train"]["ok"], report
        steps[lr] = dict(np.load(out))
    assert steps[0.01]["loss"] == steps[0.0115]["loss"]                # the same forward pass
    c = compare_training(steps[0.01], steps[0.0115], canon)                 # updates 15 % apart
    assert not c["ok"] and c["statistics_ok"] and c["loss_ok"] and 0.13 < c["update_rel_diff"] < 0.17
