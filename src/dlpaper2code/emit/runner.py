"""Run one emitted model in its own process: build, load weights, forward.

``python -m dlpaper2code.emit.runner --target pytorch --code model_pytorch.py
--graph graph.json --inputs inputs.npz [--weights weights.npz] --out out.npz``

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


def _import(path: Path):
    spec = importlib.util.spec_from_file_location(f"generated_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(target: str, code: Path, graph_path: Path, inputs_path: Path, weights_path: Path | None) -> tuple[list[np.ndarray], dict]:
    from ..core.graph import load_graph
    from .weights import feature_permutations, from_channels_first, target_weights, to_channels_first

    graph = load_graph(graph_path)
    stats: dict = {}
    t0 = time.perf_counter()
    module = _import(code)
    model = module.build_model()
    stats["build_s"] = time.perf_counter() - t0
    with np.load(inputs_path) as data:
        inputs = [data[f"input_{i}"] for i in range(len(data.files))]
    canon = None
    if weights_path is not None:
        with np.load(weights_path) as data:
            canon = {k: data[k] for k in data.files}
    kinds = [graph.shapes[n.name].kind for n in graph.inputs]
    out_kinds = [graph.shapes[o].kind for o in graph.outputs]

    t1 = time.perf_counter()
    if target == "pytorch":
        import torch

        torch.set_num_threads(1)
        if canon is not None:
            per_layer = target_weights(graph, target, canon)
            state = model.state_dict()
            for layer, params in per_layer.items():
                for pname, arr in params.items():
                    key = f"{layer}.{pname}"
                    if key not in state:
                        raise KeyError(f"PyTorch model has no parameter {key}")
                    if tuple(state[key].shape) != arr.shape:
                        raise ValueError(f"{key}: model shape {tuple(state[key].shape)} != weights {arr.shape}")
                    state[key] = torch.from_numpy(arr)
            model.load_state_dict(state)
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
                model.get_layer(layer).set_weights([params[str(i)] for i in range(len(params))])
        result = model(inputs, training=False)
        result = result if isinstance(result, (list, tuple)) else [result]
        outputs = [np.asarray(keras.ops.convert_to_numpy(r)) for r in result]
    elif target == "tensorflow":
        import tensorflow as tf

        if canon is not None:
            for key, arr in canon.items():
                layer, wname = key.split("/")
                getattr(model, f"{layer}_{wname}").assign(arr)
        result = model(*[tf.constant(a) for a in inputs])
        result = result if isinstance(result, tuple) else (result,)
        outputs = [r.numpy() for r in result]
    else:
        raise ValueError(f"target {target} cannot run here")
    stats["forward_s"] = time.perf_counter() - t1
    stats["output_shapes"] = [list(o.shape[1:]) for o in outputs]
    return outputs, stats


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--target", required=True)
    ap.add_argument("--code", required=True, type=Path)
    ap.add_argument("--graph", required=True, type=Path)
    ap.add_argument("--inputs", required=True, type=Path)
    ap.add_argument("--weights", type=Path)
    ap.add_argument("--out", required=True, type=Path)
    args = ap.parse_args(argv)
    try:
        outputs, stats = run(args.target, args.code, args.graph, args.inputs, args.weights)
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
