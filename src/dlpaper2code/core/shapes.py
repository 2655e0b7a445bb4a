"""Shape inference: the per-sample output shape of every layer.

Shapes exclude the batch axis and are channels-last, as in the graph JSON:
images are (rows, cols, channels), sequences (steps, features), token ids
(steps,) with dtype int64, vectors (features,). Each rule raises
:class:`ShapeProblem` with a message a person can act on.
"""
from __future__ import annotations

import math
from dataclasses import dataclass


class ShapeProblem(Exception):
    pass


@dataclass(frozen=True)
class TensorInfo:
    shape: tuple[int, ...]
    dtype: str = "float32"

    @property
    def kind(self) -> str:
        if self.dtype == "int64":
            return "tokens"
        return {1: "vector", 2: "sequence", 3: "image"}.get(len(self.shape), "tensor")

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    def to_list(self) -> list[int]:
        return list(self.shape)


def conv_out(size: int, k: int, s: int, pad, d: int = 1) -> int:
    """Output length of a convolution or pooling window along one axis."""
    eff = d * (k - 1) + 1
    if pad == "same":
        return -(-size // s)
    p = 0 if pad == "valid" else pad
    out = (size + 2 * p - eff) // s + 1
    return out


def pool_out(size: int, k: int, s: int, pad, ceil_mode: bool = False) -> int:
    """Output length of a pooling window along one axis; ``pad`` is 'valid', 'same' or the explicit
    amount on each side.  ``ceil_mode`` rounds the number of windows up (Caffe's default, PyTorch's
    ``ceil_mode=True``) but, as PyTorch does, drops a last window that would start beyond the input
    and its top/left padding."""
    if pad in ("valid", "same") and not ceil_mode:
        return conv_out(size, k, s, pad)
    p = 0 if pad == "valid" else pad
    num = size + 2 * p - k
    if not ceil_mode:
        return num // s + 1
    out = -(-num // s) + 1
    if (out - 1) * s >= size + p:
        out -= 1
    return out


def caffe_pool_out(size: int, k: int, s: int, pad: int, floor: bool = False) -> int:
    """What BVLC Caffe's PoolingLayer computes along one axis: windows rounded up (Caffe 1.0 has no
    other mode; ``floor`` is the ``round_mode: FLOOR`` added after 1.0), and the last window dropped
    when it starts beyond the input plus ``pad``, a rule applied only when ``pad`` > 0."""
    num = size + 2 * pad - k
    out = (num // s if floor else -(-num // s)) + 1
    if pad and (out - 1) * s >= size + pad:
        out -= 1
    return out


def ceil_extra(size: int, k: int, s: int, pad) -> int:
    """The padding a ceil_mode pooling window needs past the bottom/right border (beyond ``pad``)
    so that a 'valid' pooling of the padded input gives :func:`pool_out`'s count."""
    p = 0 if pad in ("valid", "same") else pad
    return max((pool_out(size, k, s, pad, True) - 1) * s + k - size - 2 * p, 0)


def same_padding(size: int, k: int, s: int, d: int = 1) -> tuple[int, int]:
    """(before, after) zero padding that TensorFlow/Keras 'same' applies along one axis."""
    eff = d * (k - 1) + 1
    out = -(-size // s)
    total = max((out - 1) * s + eff - size, 0)
    return total // 2, total - total // 2


def _float(info: TensorInfo, node_type: str) -> None:
    if info.dtype != "float32":
        raise ShapeProblem(f"{node_type} needs float features but gets token ids {list(info.shape)}; add an Embedding first")


def _need_rank(info: TensorInfo, ranks: tuple[int, ...], what: str, node_type: str) -> None:
    if len(info.shape) not in ranks:
        raise ShapeProblem(f"{node_type} needs {what}, got a tensor of shape {list(info.shape)}")


def _spatial(node, x: TensorInfo, k, s, pad, d=(1, 1), channels=None, what="window") -> TensorInfo:
    _float(x, node.type)
    _need_rank(x, (3,), "an image (rows, cols, channels)", node.type)
    h, w, c = x.shape
    pads = pad if isinstance(pad, list) else [pad, pad]
    out = []
    for size, kk, ss, pp, dd, axis in zip((h, w), k, s, pads, d, ("rows", "cols")):
        eff = dd * (kk - 1) + 1
        limit = size if pp in ("valid", "same") else size + 2 * pp
        if pp != "same" and eff > limit:
            raise ShapeProblem(f"{what} {eff} is larger than the input's {limit} {axis} (input shape {list(x.shape)})")
        out.append(conv_out(size, kk, ss, pp, dd))
    return TensorInfo((out[0], out[1], channels if channels is not None else c))


def _conv2d(node, ins):
    p = node.params
    c = ins[0].shape[-1] if len(ins[0].shape) == 3 else 0
    if c and c % p["groups"]:
        raise ShapeProblem(f"groups={p['groups']} does not divide the input's {c} channels")
    return _spatial(node, ins[0], p["kernel_size"], p["strides"], p["padding"], p["dilation_rate"], p["filters"], "kernel")


def _depthwise(node, ins):
    p = node.params
    c = ins[0].shape[-1] if len(ins[0].shape) == 3 else 0
    return _spatial(node, ins[0], p["kernel_size"], p["strides"], p["padding"], (1, 1), c * p["depth_multiplier"], "kernel")


def _pool(node, ins):
    p = node.params
    out = _spatial(node, ins[0], p["pool_size"], p["strides"], p["padding"], what="pooling window")
    if not p.get("ceil_mode"):
        return out
    pads = p["padding"] if isinstance(p["padding"], list) else [p["padding"]] * 2
    rows, cols = (pool_out(size, k, s, pad, True)
                  for size, k, s, pad in zip(ins[0].shape[:2], p["pool_size"], p["strides"], pads))
    return TensorInfo((rows, cols, out.shape[2]))


def _conv1d(node, ins):
    x, p = ins[0], node.params
    _float(x, node.type)
    _need_rank(x, (2,), "a sequence (steps, channels)", node.type)
    steps, _ = x.shape
    eff = p["dilation_rate"] * (p["kernel_size"] - 1) + 1
    pad = p["padding"]
    limit = steps if pad in ("valid", "same") else steps + 2 * pad
    if pad != "same" and eff > limit:
        raise ShapeProblem(f"kernel {eff} is larger than the input's {limit} steps")
    return TensorInfo((conv_out(steps, p["kernel_size"], p["strides"], pad, p["dilation_rate"]), p["filters"]))


def _deconv(node, ins):
    x, p = ins[0], node.params
    _float(x, node.type)
    _need_rank(x, (3,), "an image (rows, cols, channels)", node.type)
    out = []
    for size, k, s in zip(x.shape[:2], p["kernel_size"], p["strides"]):
        out.append(size * s if p["padding"] == "same" else (size - 1) * s + k)
    return TensorInfo((out[0], out[1], p["filters"]))


def _global_pool(node, ins):
    x = ins[0]
    _float(x, node.type)
    _need_rank(x, (3,), "an image (rows, cols, channels)", node.type)
    return TensorInfo((x.shape[-1],))


def _dense(node, ins):
    x = ins[0]
    _float(x, node.type)
    if len(x.shape) == 3:
        raise ShapeProblem(f"Dense needs a vector or a sequence, got an image of shape {list(x.shape)}; add a Flatten or GlobalAvgPool2D first")
    _need_rank(x, (1, 2), "a vector or a sequence", node.type)
    return TensorInfo(x.shape[:-1] + (node.params["units"],))


def _flatten(node, ins):
    x = ins[0]
    _float(x, node.type)
    return TensorInfo((x.size,))


def _identity(node, ins):
    return ins[0]


def _identity_float(node, ins):
    _float(ins[0], node.type)
    return ins[0]


def _channels(node, ins):
    x = ins[0]
    _float(x, node.type)
    return x


def _concat(node, ins):
    first = ins[0]
    for i, x in enumerate(ins):
        if x.dtype != first.dtype:
            raise ShapeProblem("Concat inputs mix token ids and float features")
        if len(x.shape) != len(first.shape) or x.shape[:-1] != first.shape[:-1]:
            got = ", ".join(f"'{n}' {list(t.shape)}" for n, t in zip(node.inputs, ins))
            raise ShapeProblem(f"Concat inputs must agree on every axis but the last; got {got}")
    return TensorInfo(first.shape[:-1] + (sum(x.shape[-1] for x in ins),), first.dtype)


def _add(node, ins):
    first = ins[0]
    for x in ins[1:]:
        if x.shape != first.shape:
            got = ", ".join(f"'{n}' {list(t.shape)}" for n, t in zip(node.inputs, ins))
            raise ShapeProblem(f"Add inputs must have equal shapes; got {got}")
    _float(first, node.type)
    return first


def _zeropad(node, ins):
    x = ins[0]
    _float(x, node.type)
    _need_rank(x, (3,), "an image (rows, cols, channels)", node.type)
    t, b, l, r = node.params["padding"]
    return TensorInfo((x.shape[0] + t + b, x.shape[1] + l + r, x.shape[2]))


def _upsample(node, ins):
    x = ins[0]
    _float(x, node.type)
    _need_rank(x, (3,), "an image (rows, cols, channels)", node.type)
    sh, sw = node.params["size"]
    return TensorInfo((x.shape[0] * sh, x.shape[1] * sw, x.shape[2]))


def _embedding(node, ins):
    x = ins[0]
    if x.dtype != "int64" or len(x.shape) != 1:
        raise ShapeProblem(f"Embedding needs token ids of shape (steps,) with dtype int64, got {list(x.shape)} {x.dtype}")
    return TensorInfo((x.shape[0], node.params["output_dim"]))


def _recurrent_units(node, ins):
    x = ins[0]
    _float(x, node.type)
    _need_rank(x, (2,), "a sequence (steps, features)", node.type)
    units = node.params["units"] * (2 if node.params.get("bidirectional") else 1)
    return TensorInfo((x.shape[0], units) if node.params["return_sequences"] else (units,))


def _image_norm(node, ins):
    """An image in, the same shape out (LRN, GroupNorm, InstanceNorm); `groups` must divide the channels."""
    x = ins[0]
    _float(x, node.type)
    _need_rank(x, (3,), "an image (rows, cols, channels)", node.type)
    groups = node.params.get("groups")
    if groups and x.shape[-1] % groups:
        raise ShapeProblem(f"groups={groups} does not divide the input's {x.shape[-1]} channels")
    return x


def _sequence(node, ins):
    x = ins[0]
    _float(x, node.type)
    _need_rank(x, (2,), "a sequence (steps, features)", node.type)
    return x


def _position_embedding(node, ins):
    x = _sequence(node, ins)
    limit = node.params["max_length"]
    if limit is not None and limit < x.shape[0]:
        raise ShapeProblem(f"max_length {limit} is shorter than the sequence's {x.shape[0]} steps")
    return x


def _class_token(node, ins):
    x = _sequence(node, ins)
    return TensorInfo((x.shape[0] + 1, x.shape[1]))


def _select_token(node, ins):
    x = _sequence(node, ins)
    if node.params["index"] >= x.shape[0]:
        raise ShapeProblem(f"index {node.params['index']} is past the sequence's {x.shape[0]} steps")
    return TensorInfo((x.shape[1],))


def _attention(node, ins):
    for x in ins:
        _float(x, node.type)
        _need_rank(x, (2,), "sequences (steps, features)", node.type)
    q = ins[0]
    if len(ins) == 3 and ins[1].shape[0] != ins[2].shape[0]:
        raise ShapeProblem(f"key and value must have the same number of steps; got {list(ins[1].shape)} and {list(ins[2].shape)}")
    if node.params["causal"] and len(ins) > 1 and ins[1].shape[0] != q.shape[0]:
        raise ShapeProblem("a causal mask needs query and key of the same length")
    return q


def _reshape(node, ins):
    x = ins[0]
    _float(x, node.type)
    target = tuple(node.params["target_shape"])
    if math.prod(target) != x.size:
        raise ShapeProblem(f"cannot reshape {list(x.shape)} ({x.size} values) to {list(target)} ({math.prod(target)} values)")
    return TensorInfo(target)


def _permute(node, ins):
    x = ins[0]
    _float(x, node.type)
    dims = list(node.params["dims"])
    if sorted(dims) != list(range(1, len(x.shape) + 1)):
        raise ShapeProblem(f"dims {dims} is not a permutation of 1..{len(x.shape)} for the input of shape {list(x.shape)}")
    return TensorInfo(tuple(x.shape[d - 1] for d in dims))


def _broadcast(node, ins):
    for x in ins:
        _float(x, node.type)
    rank = max(len(x.shape) for x in ins)
    out = []
    for axis in range(rank):
        sizes = {x.shape[axis - rank + len(x.shape)] for x in ins if axis - rank + len(x.shape) >= 0} - {1}
        if len(sizes) > 1:
            got = ", ".join(f"'{n}' {list(t.shape)}" for n, t in zip(node.inputs, ins))
            raise ShapeProblem(f"{node.type} inputs do not broadcast (aligned from the last axis); got {got}")
        out.append(sizes.pop() if sizes else 1)
    if len(ins[0].shape) != rank:
        raise ShapeProblem(f"{node.type}'s first input must have the largest rank (it keeps its layout); got {list(ins[0].shape)}")
    return TensorInfo(tuple(out))


def _crop(node, ins):
    x = ins[0]
    _float(x, node.type)
    _need_rank(x, (3,), "an image (rows, cols, channels)", node.type)
    t, b, l, r = node.params["cropping"]
    if t + b >= x.shape[0] or l + r >= x.shape[1]:
        raise ShapeProblem(f"cropping {[t, b, l, r]} removes the whole input {list(x.shape)}")
    return TensorInfo((x.shape[0] - t - b, x.shape[1] - l - r, x.shape[2]))


def _reflect(node, ins):
    x = ins[0]
    _float(x, node.type)
    _need_rank(x, (3,), "an image (rows, cols, channels)", node.type)
    t, b, l, r = node.params["padding"]
    if max(t, b) >= x.shape[0] or max(l, r) >= x.shape[1]:
        raise ShapeProblem(f"reflection padding {[t, b, l, r]} must be smaller than the input's rows and cols {list(x.shape[:2])}")
    return TensorInfo((x.shape[0] + t + b, x.shape[1] + l + r, x.shape[2]))


def _input(node, ins):
    return TensorInfo(tuple(node.params["shape"]), node.params["dtype"])


RULES = {
    "Input": _input,
    "Conv1D": _conv1d,
    "Conv2D": _conv2d,
    "DepthwiseConv2D": _depthwise,
    "Conv2DTranspose": _deconv,
    "MaxPool2D": _pool,
    "AvgPool2D": _pool,
    "GlobalAvgPool2D": _global_pool,
    "Dense": _dense,
    "Flatten": _flatten,
    "Dropout": _identity,
    "Concat": _concat,
    "Add": _add,
    "Activation": _identity_float,
    "BatchNorm": _channels,
    "LRN": _image_norm,
    "ZeroPadding2D": _zeropad,
    "UpSampling2D": _upsample,
    "Embedding": _embedding,
    "SimpleRNN": _recurrent_units,
    "LSTM": _recurrent_units,
    "GRU": _recurrent_units,
    "GlobalMaxPool2D": _global_pool,
    "LayerNorm": _identity_float,
    "GroupNorm": _image_norm,
    "InstanceNorm": _image_norm,
    "MultiHeadAttention": _attention,
    "PositionalEncoding": _sequence,
    "PositionEmbedding": _position_embedding,
    "ClassToken": _class_token,
    "SelectToken": _select_token,
    "Reshape": _reshape,
    "Permute": _permute,
    "Multiply": _broadcast,
    "Subtract": _broadcast,
    "Cropping2D": _crop,
    "ReflectionPadding2D": _reflect,
    "PReLU": _identity_float,
    "Rescaling": _identity_float,
}


def infer(node, ins: list[TensorInfo]) -> TensorInfo:
    out = RULES[node.type](node, ins)
    if any(d < 1 for d in out.shape):
        raise ShapeProblem(f"output shape {list(out.shape)} has an empty axis (input {[list(i.shape) for i in ins]})")
    return out
