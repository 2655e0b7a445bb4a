"""Run one emitted model in its own process: build, load weights, forward.

``python -m dlpaper2code.emit.runner --target pytorch --code model_pytorch.py
--graph graph.json --inputs inputs.npz [--weights weights.npz] --out out.npz
[--train-out train.npz --train-targets targets.npz --lr 0.01]``

With ``--train-out`` the model then takes one SGD step in training mode (:func:`train_step`)
and its loss and updated weights, in the canonical layout, go to train.npz.

Each framework runs in a separate process (TensorFlow and PyTorch in one
process fight over threads and memory, and Keras picks its backend at import).
Inputs and outputs are exchanged in the canonical channels-last layout.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from pathlib import Path

import numpy as np

from .weights import keras_layer, load_pytorch_weights, tf_variable, torch_param_key  # noqa: F401 (used below; public here too)


def _load_arrays(inputs_path: Path, weights_path: Path | None) -> tuple[list[np.ndarray], dict | None]:
    """The inputs (input_0, input_1, ... in order) and the canonical weights (None when not given)."""
    with np.load(inputs_path) as data:
        inputs = [data[f"input_{i}"] for i in range(len(data.files))]
    canon = None
    if weights_path is not None:
        with np.load(weights_path) as data:
            canon = {k: data[k] for k in data.files}
    return inputs, canon


def _import(path: Path):
    spec = importlib.util.spec_from_file_location(f"generated_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(target: str, code: Path, graph_path: Path, inputs_path: Path, weights_path: Path | None,
        train: dict | None = None) -> tuple[list[np.ndarray], dict]:
    """Build, load the weights, run forward (inference mode); with `train` ({"targets": npz,
    "lr": float, "out": npz}) then one SGD step (:func:`train_step`), its results saved to "out"."""
    from ..core.graph import load_graph
    from .codegen import layer_paths
    from .weights import feature_permutations, from_channels_first, target_weights, to_channels_first

    graph = load_graph(graph_path)
    if target == "onnx":        # exported again with the weights, run in onnxruntime (emit.onnx_export)
        from .onnx_export import run_onnx

        inputs, canon = _load_arrays(inputs_path, weights_path)
        outputs, stats = run_onnx(code, graph, inputs, canon)
        if train is not None:
            stats["train"] = {"ok": False, "error": "ONNX models are not trained here (onnxruntime runs inference)"}
        return outputs, stats
    paths = layer_paths(graph, target) if target in ("pytorch", "keras", "tensorflow") else {}
    stats: dict = {}
    t0 = time.perf_counter()
    module = _import(code)
    model = module.build_model()
    stats["build_s"] = time.perf_counter() - t0
    inputs, canon = _load_arrays(inputs_path, weights_path)
    kinds = [graph.shapes[n.name].kind for n in graph.inputs]
    out_kinds = [graph.shapes[o].kind for o in graph.outputs]

    t1 = time.perf_counter()
    if target == "pytorch":
        import torch

        torch.set_num_threads(1)
        if canon is not None:
            load_pytorch_weights(model, graph, canon, paths)
        model.eval()
        tensors = [torch.from_numpy(to_channels_first(a, k)) for a, k in zip(inputs, kinds)]
        with torch.no_grad():
            result = model(*tensors)
        result = result if isinstance(result, tuple) else (result,)
        perms = feature_permutations(graph)
        outputs = [from_channels_first(r.numpy(), k, perms.get(o)) for r, k, o in zip(result, out_kinds, graph.outputs)]
    elif target == "keras":
        import keras

        if canon is not None:
            for layer, params in target_weights(graph, target, canon).items():
                keras_layer(model, layer, paths).set_weights([params[str(i)] for i in range(len(params))])
        result = model(inputs, training=False)
        result = result if isinstance(result, (list, tuple)) else [result]
        outputs = [np.asarray(keras.ops.convert_to_numpy(r)) for r in result]
    elif target == "tensorflow":
        import tensorflow as tf

        if canon is not None:
            for key, arr in canon.items():
                layer, wname = key.split("/")
                tf_variable(model, layer, wname, paths).assign(arr)
        result = model(*[tf.constant(a) for a in inputs])
        result = result if isinstance(result, tuple) else (result,)
        outputs = [r.numpy() for r in result]
    else:
        raise ValueError(f"target {target} cannot run here")
    stats["forward_s"] = time.perf_counter() - t1
    stats["output_shapes"] = [list(o.shape[1:]) for o in outputs]
    if train is not None:
        try:
            stats["train"] = train_step(target, model, graph, paths, inputs, canon, train)
        except Exception as exc:  # the forward result stands; the training failure is reported
            import traceback

            stats["train"] = {"ok": False, "error": f"{type(exc).__name__}: {exc}",
                              "traceback": traceback.format_exc()[-4000:]}
    return outputs, stats


def train_step(target: str, model, graph, paths: dict, inputs: list[np.ndarray], canon: dict | None,
               train: dict) -> dict:
    """One training step from the loaded weights, in the framework's own ops: the model in training
    mode (BatchNorm normalises with the batch's statistics and moves its moving ones), the loss
    sum over outputs of mean((output - target) ** 2) against fixed canonical-layout targets, its
    gradient, and plain SGD (w -= lr * gradient; no momentum, no weight decay) on every trainable
    weight.  Saves to train["out"]: "loss" and "weight/<layer>/<name>" for every canonical weight
    after the step (moving statistics included), back in the canonical layout."""
    from .weights import canonical_from_target, feature_permutations, target_weights, to_channels_first

    if canon is None:
        raise ValueError("training needs the canonical weights (--weights)")
    lr = float(train["lr"])
    with np.load(train["targets"]) as data:
        targets = [data[f"target_{i}"] for i in range(len(data.files))]
    kinds = [graph.shapes[n.name].kind for n in graph.inputs]
    t0 = time.perf_counter()
    if target == "pytorch":
        import torch

        model.train()
        result = model(*[torch.from_numpy(to_channels_first(a, k)) for a, k in zip(inputs, kinds)])
        result = result if isinstance(result, tuple) else (result,)
        perms = feature_permutations(graph)
        loss = 0.0
        for r, o, t in zip(result, graph.outputs, targets):
            if graph.shapes[o].kind == "image":           # back to the canonical layout, in torch
                r = r.permute(0, 2, 3, 1)
            elif perms.get(o) is not None:
                r = r[:, torch.from_numpy(np.argsort(perms[o]))]
            loss = loss + torch.mean(torch.square(r - torch.from_numpy(t)))
        optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=lr)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        state = model.state_dict()
        after = {layer: {pname: state[torch_param_key(layer, pname, paths)].numpy() for pname in params}
                 for layer, params in target_weights(graph, target, canon).items()}
        weights = canonical_from_target(graph, target, after)
    elif target == "keras":
        import keras
        import torch

        result = model(inputs, training=True)
        result = result if isinstance(result, (list, tuple)) else [result]
        loss = 0.0
        for r, t in zip(result, targets):
            loss = loss + keras.ops.mean(keras.ops.square(r - keras.ops.convert_to_tensor(t)))
        loss.backward()
        variables = list(model.trainable_variables)
        grads = [v.value.grad if v.value.grad is not None else torch.zeros_like(v.value) for v in variables]
        optimizer = keras.optimizers.SGD(learning_rate=lr)
        with torch.no_grad():
            optimizer.apply(grads, variables)
        after = {layer: {str(i): w for i, w in enumerate(keras_layer(model, layer, paths).get_weights())}
                 for layer in target_weights(graph, target, canon)}
        weights = canonical_from_target(graph, target, after)
    elif target == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            result = model(*[tf.constant(a) for a in inputs], training=True)
            result = result if isinstance(result, tuple) else (result,)
            loss = tf.add_n([tf.reduce_mean(tf.square(r - tf.constant(t))) for r, t in zip(result, targets)])
        variables = model.trainable_variables
        for v, g in zip(variables, tape.gradient(loss, variables)):
            if g is not None:
                v.assign_sub(lr * tf.convert_to_tensor(g))
        weights = {key: tf_variable(model, *key.split("/"), paths).numpy() for key in canon}
    else:
        raise ValueError(f"target {target} cannot train here")
    loss_value = float(loss.detach().numpy() if hasattr(loss, "detach") else loss.numpy())
    np.savez(train["out"], loss=np.float64(loss_value), **{f"weight/{k}": v for k, v in weights.items()})
    return {"ok": True, "loss": loss_value, "train_s": time.perf_counter() - t0}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--target", required=True)
    ap.add_argument("--code", required=True, type=Path)
    ap.add_argument("--graph", required=True, type=Path)
    ap.add_argument("--inputs", required=True, type=Path)
    ap.add_argument("--weights", type=Path)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--train-out", type=Path, help="also take one SGD step; its loss and weights go here")
    ap.add_argument("--train-targets", type=Path, help="the loss's targets (target_0, ...), canonical layout")
    ap.add_argument("--lr", type=float, default=0.01, help="learning rate of the SGD step")
    args = ap.parse_args(argv)
    train = ({"targets": args.train_targets, "lr": args.lr, "out": args.train_out}
             if args.train_out is not None else None)
    try:
        outputs, stats = run(args.target, args.code, args.graph, args.inputs, args.weights, train)
    except Exception as exc:  # reported to the parent as data, not a traceback wall
        import traceback

        json.dump({"ok": False, "error": f"{type(exc).__name__}: {exc}",
                   "traceback": traceback.format_exc()[-4000:]}, sys.stdout)
        return 1
    np.savez(args.out, **{f"output_{i}": o for i, o in enumerate(outputs)})
    json.dump({"ok": True, **stats}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
