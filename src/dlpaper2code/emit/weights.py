"""One set of weights for every framework.

Canonical weights use the channels-last (Keras) layout listed per layer in
``config/layers.yaml``. Each target's template says how they map onto its own
parameters (``weights:``); for PyTorch that includes transposes, gate
re-ordering and the row permutation a Dense layer needs after flattening a
channels-first feature map.
"""
from __future__ import annotations

import hashlib
import math

import numpy as np

from .codegen import evaluate_expr, load_target, node_contexts
from ..core.graph import Graph


def _rng(graph: Graph, seed: int, node: str) -> np.random.Generator:
    digest = hashlib.sha256(f"{graph.name}/{node}/{seed}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def _init(rng: np.random.Generator, shape: list[int], kind: str) -> np.ndarray:
    if kind in ("he", "he_t"):
        fan_in = math.prod(shape[:-1]) if kind == "he" else math.prod(shape[:-2]) * shape[-1]
        return rng.standard_normal(shape) * math.sqrt(2.0 / max(fan_in, 1))
    if kind == "glorot":
        limit = math.sqrt(6.0 / (shape[0] + shape[-1]))
        return rng.uniform(-limit, limit, shape)
    if kind == "orthogonalish":
        return rng.standard_normal(shape) / math.sqrt(shape[0])
    if kind == "small":
        return rng.uniform(-0.1, 0.1, shape)
    if kind in ("gamma", "variance"):
        return rng.uniform(0.5, 1.5, shape)
    if kind == "embed":
        return rng.standard_normal(shape)
    if kind == "slope":
        return rng.uniform(0.05, 0.3, shape)
    raise ValueError(f"unknown initialiser '{kind}'")


def canonical_weights(graph: Graph, seed: int = 0) -> dict[str, np.ndarray]:
    """Deterministic random weights, keyed '<layer id>/<weight name>'."""
    out = {}
    for ctx in node_contexts(graph):
        rng = _rng(graph, seed, ctx["name"])
        for w in ctx["weights"]:
            out[f"{ctx['id']}/{w['name']}"] = _init(rng, w["shape"], w["init"]).astype(np.float32)
    return out


NON_TRAINABLE = ("moving_mean", "moving_variance")      # statistics, not learned by gradient


def parameter_counts(graph: Graph) -> dict[str, int]:
    """Trainable and non-trainable parameters, counted from the vocabulary's weight shapes
    (what every emitted model holds; Keras' count_params() gives their sum)."""
    counts = {"trainable": 0, "non_trainable": 0}
    for ctx in node_contexts(graph):
        for w in ctx["weights"]:
            counts["non_trainable" if w["name"] in NON_TRAINABLE else "trainable"] += math.prod(w["shape"])
    return counts


def random_inputs(graph: Graph, batch: int = 2, seed: int = 0) -> list[np.ndarray]:
    """Canonical (channels-last) inputs, in the order of the graph's Input layers."""
    rng = np.random.default_rng(seed)
    arrays = []
    for ctx in node_contexts(graph):
        if ctx["type"] != "Input":
            continue
        shape = (batch, *ctx["p"]["shape"])
        if ctx["p"]["dtype"] == "int64":
            arrays.append(rng.integers(0, ctx["high"], size=shape).astype(np.int64))
        else:
            arrays.append(rng.standard_normal(shape).astype(np.float32))
    return arrays


# ----------------------------------------------------- channels-first views
_PASS_THROUGH = {"Dropout", "Activation", "BatchNorm", "Flatten", "LayerNorm", "PReLU"}
_ELEMENTWISE = {"Add", "Multiply", "Subtract"}


def feature_permutations(graph: Graph) -> dict[str, np.ndarray | None]:
    """For each layer whose output is a feature vector, the permutation p with
    channels_first_vector[i] == channels_last_vector[p[i]] (None = identity)."""
    perms: dict[str, np.ndarray | None] = {}
    for n in graph.nodes:
        info = graph.shapes[n.name]
        perm = None
        if len(info.shape) == 1 and n.inputs:
            src = graph.shapes[n.inputs[0]]
            if n.type == "Flatten" and len(src.shape) == 3:
                h, w, c = src.shape
                perm = np.arange(h * w * c).reshape(h, w, c).transpose(2, 0, 1).ravel()
            elif n.type in _PASS_THROUGH:
                perm = perms.get(n.inputs[0])
            elif n.type == "Concat":
                parts, offset, any_perm = [], 0, False
                for i in n.inputs:
                    size = graph.shapes[i].shape[-1]
                    p = perms.get(i)
                    any_perm |= p is not None
                    parts.append((p if p is not None else np.arange(size)) + offset)
                    offset += size
                perm = np.concatenate(parts) if any_perm else None
            elif n.type in _ELEMENTWISE:
                ps = [perms.get(i) for i in n.inputs]
                if any(p is not None for p in ps):
                    first = ps[0] if ps[0] is not None else np.arange(info.shape[0])
                    for p in ps[1:]:
                        other = p if p is not None else np.arange(info.shape[0])
                        if not np.array_equal(first, other):
                            raise ValueError(f"layer '{n.name}': {n.type} of feature vectors flattened in different orders")
                    perm = ps[0]
        perms[n.name] = perm
    return perms


def to_channels_first(array: np.ndarray, kind: str) -> np.ndarray:
    return np.ascontiguousarray(array.transpose(0, 3, 1, 2)) if kind == "image" else array


def from_channels_first(array: np.ndarray, kind: str, perm: np.ndarray | None = None) -> np.ndarray:
    if kind == "image":
        return np.ascontiguousarray(array.transpose(0, 2, 3, 1))
    if perm is not None:
        out = np.empty_like(array)
        out[:, perm] = array
        return out
    return array


_FLATTEN = {"all": lambda a: a.reshape(-1), "leading": lambda a: a.reshape(-1, a.shape[-1]),
            "trailing": lambda a: a.reshape(a.shape[0], -1)}


def _apply_ops(spec: dict, canon: dict[str, np.ndarray], key: str, perm: np.ndarray | None) -> np.ndarray | None:
    """One target parameter from canonical arrays: index, gates, depthwise, row_perm,
    flatten (all | leading | trailing axes merged), transpose; a list in `from`
    stacks several canonical arrays (each so transformed) along the first axis."""
    if "zeros_like" in spec:
        src = canon.get(f"{key}/{spec['zeros_like']}")
        return None if src is None else np.zeros_like(src)
    if isinstance(spec["from"], list):
        parts = [_apply_ops({**spec, "from": name}, canon, key, perm) for name in spec["from"]]
        if any(p is None for p in parts):
            return None
        return np.ascontiguousarray(np.concatenate(parts, axis=0))
    arr = canon.get(f"{key}/{spec['from']}")
    if arr is None:
        return None
    if "index" in spec:
        arr = arr[spec["index"]]
    if "gates" in spec:
        blocks = np.split(arr, len(spec["gates"]), axis=spec.get("gate_axis", 0))
        arr = np.concatenate([blocks[g] for g in spec["gates"]], axis=spec.get("gate_axis", 0))
    if spec.get("depthwise"):
        kh, kw, c, m = arr.shape
        arr = arr.reshape(kh, kw, c * m, 1)
    if "flatten" in spec:
        arr = _FLATTEN[spec["flatten"]](arr)
    if spec.get("row_perm") and perm is not None:
        arr = arr[perm]
    if "transpose" in spec:
        arr = arr.transpose(spec["transpose"])
    return np.ascontiguousarray(arr)


def target_weights(graph: Graph, target: str, canon: dict[str, np.ndarray]) -> dict[str, dict[str, np.ndarray]]:
    """Canonical weights re-laid for a target: {layer id: {parameter: array}}.

    For Keras the parameter names are its get_weights() order ('0', '1', ...)."""
    spec = load_target(target)
    perms = feature_permutations(graph) if spec.layout == "channels_first" else {}
    out: dict[str, dict[str, np.ndarray]] = {}
    for ctx in node_contexts(graph):
        mapping = (spec.layer(ctx["type"]) or {}).get("weights")
        if not mapping or not ctx["weights"]:
            continue
        key = ctx["id"]
        if isinstance(mapping, list):          # keras: the order of get_weights()
            arrays = [canon[f"{key}/{w}"] for w in mapping if f"{key}/{w}" in canon]
            out[key] = {str(i): a for i, a in enumerate(arrays)}
            continue
        perm = perms.get(ctx["node"].inputs[0]) if ctx["node"].inputs else None
        params = {}
        for pname, op in mapping.items():
            if "when" in op and not evaluate_expr(op["when"], ctx):
                continue
            arr = _apply_ops(op, canon, key, perm)
            if arr is not None:
                params[pname] = arr
        out[key] = params
    return out



def _mapped_shape(spec: dict, shape: tuple[int, ...]) -> tuple[int, ...]:
    """The shape :func:`_apply_ops` gives a canonical array of `shape` (one `from` name)."""
    if "index" in spec:
        shape = shape[1:]
    if spec.get("depthwise"):
        kh, kw, c, m = shape
        shape = (kh, kw, c * m, 1)
    if "flatten" in spec:
        shape = {"all": (math.prod(shape),), "leading": (math.prod(shape[:-1]), shape[-1]),
                 "trailing": (shape[0], math.prod(shape[1:]))}[spec["flatten"]]
    if "transpose" in spec:
        shape = tuple(shape[a] for a in spec["transpose"])
    return tuple(shape)


def _invert_ops(spec: dict, arr: np.ndarray, shapes: dict[str, tuple[int, ...]],
                perm: np.ndarray | None) -> list[tuple[str, int | None, np.ndarray]]:
    """The canonical pieces one target parameter holds: (weight name, index along the first axis or
    None for the whole array, array); :func:`_apply_ops` undone step by step, in reverse."""
    if "zeros_like" in spec:
        return []
    if isinstance(spec["from"], list):
        sizes = [_mapped_shape(spec, shapes[name])[0] for name in spec["from"]]
        parts = np.split(arr, np.cumsum(sizes)[:-1], axis=0)
        return [piece for name, part in zip(spec["from"], parts)
                for piece in _invert_ops({**spec, "from": name}, part, shapes, perm)]
    shape = shapes[spec["from"]]
    if "transpose" in spec:
        arr = arr.transpose(np.argsort(spec["transpose"]))
    if spec.get("row_perm") and perm is not None:
        arr = arr[np.argsort(perm)]
    inner = shape[1:] if "index" in spec else shape
    if spec.get("depthwise") or "flatten" in spec:
        arr = arr.reshape(inner)
    if "gates" in spec:
        axis = spec.get("gate_axis", 0)
        blocks = np.split(arr, len(spec["gates"]), axis=axis)
        original = [None] * len(blocks)
        for j, g in enumerate(spec["gates"]):
            original[g] = blocks[j]
        arr = np.concatenate(original, axis=axis)
    return [(spec["from"], spec.get("index"), np.ascontiguousarray(arr))]


def canonical_from_target(graph: Graph, target: str, params: dict[str, dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """The inverse of :func:`target_weights`: a target's parameters {layer id: {parameter: array}}
    (for Keras the get_weights() order '0', '1', ...) back in the canonical layout,
    '<layer id>/<weight name>' -> array.  Each transform of the template's ``weights:`` is undone
    (transpose, row permutation, flatten, depthwise reshape, gate order, index, stacked ``from``);
    a ``zeros_like`` parameter has no canonical source and is skipped (PyTorch's frozen recurrent
    bias).  A canonical weight that no target parameter holds entirely is an error."""
    spec = load_target(target)
    perms = feature_permutations(graph) if spec.layout == "channels_first" else {}
    out: dict[str, np.ndarray] = {}
    for ctx in node_contexts(graph):
        mapping = (spec.layer(ctx["type"]) or {}).get("weights")
        if not mapping or not ctx["weights"]:
            continue
        key = ctx["id"]
        shapes = {w["name"]: tuple(w["shape"]) for w in ctx["weights"]}
        got = params.get(key, {})
        if isinstance(mapping, list):          # keras: the order of get_weights()
            names = [w for w in mapping if w in shapes]
            if len(got) != len(names):
                raise KeyError(f"{target} layer {key} has {len(got)} weights, the canonical layout {len(names)}")
            pieces = [(w, None, np.asarray(got[str(i)])) for i, w in enumerate(names)]
        else:
            perm = perms.get(ctx["node"].inputs[0]) if ctx["node"].inputs else None
            pieces = []
            for pname, op in mapping.items():
                if pname not in got or ("when" in op and not evaluate_expr(op["when"], ctx)):
                    continue
                pieces += _invert_ops(op, np.asarray(got[pname]), shapes, perm)
        rows: dict[str, set] = {}
        for name, index, arr in pieces:
            if name not in shapes:
                continue
            full = f"{key}/{name}"
            if index is None:
                if arr.shape != shapes[name]:
                    raise ValueError(f"{full}: {target} gives shape {arr.shape}, canonical {shapes[name]}")
                out[full] = arr.astype(np.float32, copy=False)
                rows[name] = set(range(shapes[name][0])) if shapes[name] else {None}
            else:
                out.setdefault(full, np.zeros(shapes[name], dtype=np.float32))[index] = arr
                rows.setdefault(name, set()).add(index)
        for name, shape in shapes.items():
            if rows.get(name) != (set(range(shape[0])) if shape else {None}):
                raise KeyError(f"{target} parameters do not hold all of {key}/{name}")
    return out


# ------------------------------------------------ where a layer's weights live
def torch_param_key(layer_id: str, pname: str, paths: dict | None = None) -> str:
    """The state_dict key of a layer's parameter: ``<layer>.<param>``, or for a layer inside a block
    ``<block attribute>[.<index in a loop>].<block-local name>.<param>`` (see ``structure.layer_paths``)."""
    if paths and layer_id in paths:
        where = paths[layer_id]
        return ".".join(str(p) for p in (*where["prefix"], where["local"], pname))
    return f"{layer_id}.{pname}"


def keras_layer(model, layer_id: str, paths: dict | None = None):
    """A Keras layer by its graph identifier; inside a block function it is named ``<use>_<layer>``."""
    if paths and layer_id in paths:
        return model.get_layer(paths[layer_id]["name"])
    return model.get_layer(layer_id)


def tf_variable(model, layer_id: str, wname: str, paths: dict | None = None):
    """The tf.Variable of a layer's weight: ``model.<layer>_<weight>``, or inside a block
    ``model.<block>[<index>].<local>_<weight>``."""
    if paths and layer_id in paths:
        obj = model
        for step in paths[layer_id]["prefix"]:
            obj = obj[step] if isinstance(step, int) else getattr(obj, step)
        return getattr(obj, f"{paths[layer_id]['local']}_{wname}")
    return getattr(model, f"{layer_id}_{wname}")


def load_pytorch_weights(model, graph, canon: dict[str, np.ndarray], paths: dict | None = None) -> None:
    """Canonical weights into an emitted PyTorch model (``weights.target_weights`` re-lays them)."""
    import torch

    state = model.state_dict()
    for layer, params in target_weights(graph, "pytorch", canon).items():
        for pname, arr in params.items():
            key = torch_param_key(layer, pname, paths)
            if key not in state:
                raise KeyError(f"PyTorch model has no parameter {key}")
            if tuple(state[key].shape) != arr.shape:
                raise ValueError(f"{key}: model shape {tuple(state[key].shape)} != weights {arr.shape}")
            state[key] = torch.from_numpy(arr)
    model.load_state_dict(state)
