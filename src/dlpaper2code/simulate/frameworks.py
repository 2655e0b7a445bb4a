"""Build emitted code without allocating weights: Keras config JSON, build checks.

A grammar model on an ImageNet input may put a Dense after a Flatten of a
224x224x256 tensor: billions of weights that no machine here can allocate.
The emitted code is still built, for real, on PyTorch's ``meta`` device (the
Keras torch backend honours ``keras.device("meta")``): layers, shapes and the
model config are computed, no weight memory is touched.  So the Keras model
config in the dataset is exactly what ``model.to_json()`` of the emitted
Keras code returns.

Keras must use the torch backend (``KERAS_BACKEND=torch``, the project
default); importing this module does not import Keras or PyTorch.
"""
from __future__ import annotations

import json
import os
import types

from ..emit.codegen import emit
from ..core.graph import Graph


class BuildError(RuntimeError):
    """The emitted code of a graph failed to build (names the graph and target)."""


def _module(graph: Graph, target: str) -> types.ModuleType:
    files = emit(graph, target)
    name, code = next((k, v) for k, v in files.items() if k.endswith(".py"))
    module = types.ModuleType(f"generated_{target}_{graph.name}")
    module.__file__ = name
    exec(compile(code, f"<{graph.name}/{name}>", "exec"), module.__dict__)
    return module


def _keras():
    if os.environ.setdefault("KERAS_BACKEND", "torch") != "torch":
        raise BuildError(f"meta-device builds need KERAS_BACKEND=torch, not {os.environ['KERAS_BACKEND']!r}")
    import keras

    return keras


def keras_model(graph: Graph):
    """The emitted Keras model, built on the meta device (no weight memory)."""
    keras = _keras()
    module = _module(graph, "keras")
    try:
        with keras.device("meta"):
            return module.build_model()
    except Exception as exc:  # noqa: BLE001 - any framework error is a build failure of this graph
        raise BuildError(f"{graph.name}: the emitted Keras code does not build: {type(exc).__name__}: {exc}") from exc


def keras_config(graph: Graph) -> tuple[dict, int]:
    """(Keras model config as `model.to_json()` gives it, parameter count)."""
    model = keras_model(graph)
    config = json.loads(model.to_json())
    return config, int(model.count_params())


def pytorch_meta_check(graph: Graph) -> dict[str, list[int]]:
    """Build the emitted PyTorch module on the meta device and run a forward pass.

    Returns the per-sample output shapes (channels last, as in the graph), which
    must equal the inferred shapes; raises BuildError otherwise.
    """
    import torch

    module = _module(graph, "pytorch")
    kinds = {n.name: graph.shapes[n.name].kind for n in graph.nodes}
    try:
        with torch.device("meta"):
            model = module.build_model()
            inputs = []
            for node in graph.inputs:
                info = graph.shapes[node.name]
                shape = (2, *info.shape)
                if info.kind == "image":
                    shape = (2, info.shape[2], info.shape[0], info.shape[1])
                dtype = torch.int64 if info.dtype == "int64" else torch.float32
                inputs.append(torch.empty(shape, dtype=dtype))
            with torch.no_grad():
                result = model(*inputs)
    except Exception as exc:  # noqa: BLE001
        raise BuildError(f"{graph.name}: the emitted PyTorch code does not build/run: {type(exc).__name__}: {exc}") from exc
    result = result if isinstance(result, tuple) else (result,)
    shapes = {}
    for name, tensor in zip(graph.outputs, result):
        shape = list(tensor.shape[1:])
        if kinds[name] == "image":
            shape = [shape[1], shape[2], shape[0]]
        shapes[name] = shape
        want = graph.shapes[name].to_list()
        if shape != want:
            raise BuildError(f"{graph.name}: PyTorch output '{name}' has shape {shape}, the graph says {want}")
    return shapes


__all__ = ["BuildError", "keras_config", "keras_model", "pytorch_meta_check"]
