"""Caffe's blob shape inference over a ``caffe.NetParameter``.

A re-implementation of what ``caffe::Net::Init`` + each layer's
``LayerSetUp``/``Reshape`` compute for top blob shapes (BVLC Caffe master
semantics, from its C++ sources), including the checks Caffe makes while
doing so.  Nothing is executed; only shapes are propagated.

Notable Caffe conventions reproduced here:

* Pooling rounds **up** by default (``round_mode: CEIL``):
  ``pooled = ceil((H + 2*pad - k) / stride) + 1``, and when ``pad > 0`` the
  last window must start inside the image:
  ``if (pooled - 1) * stride >= H + pad: pooled -= 1``.  ``round_mode: FLOOR``
  (when the schema has it) uses ``floor`` instead.
* Convolution: ``(H + 2p - (dilation*(k-1) + 1)) // s + 1``;
  Deconvolution: ``s*(H-1) + dilation*(k-1) + 1 - 2p``.
* LSTM/RNN: bottoms are time-major ``x: (T, N, ...)`` and ``cont: (T, N)``,
  top ``(T, N, num_output)``.
* Layers are filtered by the net state exactly like ``Net::FilterNet`` (phase
  defaults to ``net.state.phase``, i.e. TEST unless the net says otherwise), a
  top produced twice without being in place is an error, and in-place means
  ``top[i] == bottom[i]``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

from . import schema

__all__ = ["CaffeShapeError", "LayerShapes", "blob_shapes", "layer_shapes", "supported_layer_types"]

Shape = tuple[int, ...]


class CaffeShapeError(ValueError):
    """Caffe would refuse to set up this net (bad bottom, bad parameters,
    mismatching shapes...)."""


class _Bad(Exception):
    """Internal: a layer-level problem, wrapped into CaffeShapeError with the layer's name."""


@dataclass(frozen=True)
class LayerShapes:
    name: str
    type: str
    bottoms: tuple[str, ...]
    tops: tuple[str, ...]
    bottom_shapes: tuple[Shape, ...]
    top_shapes: tuple[Shape, ...]


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------
def _fmt(shape: Sequence[int]) -> str:
    return str(tuple(shape))


def _count(shape: Sequence[int], start: int = 0, end: int | None = None) -> int:
    return math.prod(shape[start:end])


def _canon(axis: int, shape: Shape, what: str = "axis") -> int:
    n = len(shape)
    if not -n <= axis < n:
        raise _Bad(f"{what} {axis} out of range for {n}-D blob {_fmt(shape)}")
    return axis + n if axis < 0 else axis


def _nb(bottoms, lo: int, hi: int | None = None) -> None:
    hi = lo if hi is None else hi
    if not lo <= len(bottoms) <= hi:
        want = str(lo) if lo == hi else f"{lo}..{hi}" if hi < 10**6 else f"at least {lo}"
        raise _Bad(f"takes {want} bottom blob(s), got {len(bottoms)}")


def _nt(ntop: int, lo: int, hi: int | None = None) -> None:
    hi = lo if hi is None else hi
    if not lo <= ntop <= hi:
        want = str(lo) if lo == hi else f"{lo}..{hi}" if hi < 10**6 else f"at least {lo}"
        raise _Bad(f"produces {want} top blob(s), got {ntop}")


_MANY = 10**9


def _has(msg, field: str) -> bool:
    return field in msg.DESCRIPTOR.fields_by_name and msg.HasField(field)


def _dims(blob_shape, what: str) -> Shape:
    dims = tuple(int(d) for d in blob_shape.dim)
    for d in dims:
        if d < 0:
            raise _Bad(f"{what} has a negative dimension: {_fmt(dims)}")
    return dims


# --------------------------------------------------------------------------
# layer implementations: f(layer, bottom_shapes, ntop) -> list of top shapes
# --------------------------------------------------------------------------
_HANDLERS: dict[str, Callable] = {}


def _handles(*types: str):
    def deco(fn):
        for t in types:
            _HANDLERS[t] = fn
        return fn

    return deco


@_handles("Input")
def _input(layer, b, ntop):
    _nb(b, 0)
    shapes = list(layer.input_param.shape)
    if len(shapes) not in (1, ntop):
        raise _Bad(f"must specify 'shape' once, or once per top blob ({ntop}); got {len(shapes)}")
    if len(shapes) == 1:
        shapes = shapes * ntop
    return [_dims(s, "input shape") for s in shapes]


@_handles("DummyData")
def _dummy(layer, b, ntop):
    _nb(b, 0)
    p = layer.dummy_data_param
    if len(p.shape):
        shapes = list(p.shape)
        if len(shapes) not in (1, ntop):
            raise _Bad(f"must specify 'shape' once, or once per top blob ({ntop}); got {len(shapes)}")
        shapes = [_dims(s, "dummy_data shape") for s in shapes]
        return shapes * ntop if len(shapes) == 1 else shapes
    legacy = [list(p.num), list(p.channels), list(p.height), list(p.width)]
    out = []
    for i in range(ntop):
        dims = []
        for vals in legacy:
            if len(vals) not in (1, ntop):
                raise _Bad("legacy num/channels/height/width must be given once or once per top")
            dims.append(vals[0] if len(vals) == 1 else vals[i])
        out.append(tuple(dims))
    return out


def _conv_spatial(p, rep: str, h: str | None, w: str | None, n_sp: int, default: int) -> list[int]:
    """Caffe's kernel/stride/pad/dilation resolution (BaseConvolutionLayer::LayerSetUp)."""
    if h is not None and (_has(p, h) or _has(p, w)):
        if n_sp != 2:
            raise _Bad(f"{h} & {w} can only be used for 2D convolution")
        if len(getattr(p, rep)):
            raise _Bad(f"either {rep} or {h}/{w} should be specified; not both")
        if not (_has(p, h) and _has(p, w)):
            raise _Bad(f"{h} and {w} must be given together")
        return [int(getattr(p, h)), int(getattr(p, w))]
    vals = [int(v) for v in getattr(p, rep)]
    if not vals:
        return [default] * n_sp
    if len(vals) not in (1, n_sp):
        raise _Bad(f"{rep} must be specified once, or once per spatial dimension "
                   f"({rep} specified {len(vals)} times; {n_sp} spatial dims)")
    return vals * n_sp if len(vals) == 1 else vals


@_handles("Convolution", "Deconvolution")
def _conv(layer, b, ntop):
    _nb(b, 1, _MANY)
    if ntop != len(b):
        raise _Bad(f"needs as many tops as bottoms ({len(b)}), got {ntop}")
    x = b[0]
    for i, s in enumerate(b[1:], 1):
        if s != x:
            raise _Bad(f"all bottoms must have the same shape: bottom[0] {_fmt(x)} vs bottom[{i}] {_fmt(s)}")
    p = layer.convolution_param
    axis = _canon(p.axis, x)
    n_sp = len(x) - axis - 1
    if n_sp < 0:
        raise _Bad(f"no spatial axes after channel axis {axis} in {_fmt(x)}")
    if not (len(p.kernel_size) or _has(p, "kernel_h") or _has(p, "kernel_w")):
        raise _Bad("kernel_size (or kernel_h and kernel_w) is required")
    kernel = _conv_spatial(p, "kernel_size", "kernel_h", "kernel_w", n_sp, 0)
    stride = _conv_spatial(p, "stride", "stride_h", "stride_w", n_sp, 1)
    pad = _conv_spatial(p, "pad", "pad_h", "pad_w", n_sp, 0)
    dilation = _conv_spatial(p, "dilation", None, None, n_sp, 1)
    for name, vals, lo in (("kernel", kernel, 1), ("stride", stride, 1), ("dilation", dilation, 1), ("pad", pad, 0)):
        if any(v < lo for v in vals):
            raise _Bad(f"{name} dimensions must be >= {lo}, got {vals}")
    if p.num_output <= 0:
        raise _Bad("num_output must be > 0")
    channels, group = x[axis], p.group
    if group <= 0 or channels % group:
        raise _Bad(f"number of input channels ({channels}) should be a multiple of group ({group})")
    if p.num_output % group:
        raise _Bad(f"num_output ({p.num_output}) should be a multiple of group ({group})")
    out = []
    for i in range(n_sp):
        size = x[axis + 1 + i]
        extent = dilation[i] * (kernel[i] - 1) + 1
        if layer.type == "Deconvolution":
            o = stride[i] * (size - 1) + extent - 2 * pad[i]
        else:
            if size + 2 * pad[i] < extent:
                raise _Bad(f"kernel extent {extent} (kernel {kernel[i]}, dilation {dilation[i]}) is larger "
                           f"than the padded input {size + 2 * pad[i]} (size {size}, pad {pad[i]}) on spatial axis {i}")
            o = (size + 2 * pad[i] - extent) // stride[i] + 1
        if o <= 0:
            raise _Bad(f"output size {o} <= 0 on spatial axis {i} for input {_fmt(x)}")
        out.append(o)
    top = x[:axis] + (int(p.num_output),) + tuple(out)
    return [top] * ntop


def _pool_hw(p, name: str, default: int) -> tuple[int, int]:
    """PoolingLayer::LayerSetUp's `X` OR `X_h and X_w` resolution (name: kernel/pad/stride)."""
    single = "kernel_size" if name == "kernel" else name
    h, w = f"{name}_h", f"{name}_w"
    if _has(p, h) or _has(p, w):
        if _has(p, single):
            raise _Bad(f"{single} is {single} OR {h} and {w}; not both")
        if not (_has(p, h) and _has(p, w)):
            raise _Bad(f"for non-square {name}s both {h} and {w} are required")
        return int(getattr(p, h)), int(getattr(p, w))
    v = int(getattr(p, single)) if _has(p, single) else default
    return v, v


@_handles("Pooling")
def _pooling(layer, b, ntop):
    _nb(b, 1)
    p = layer.pooling_param
    pool_enum = type(p)
    is_max = p.pool == pool_enum.MAX
    _nt(ntop, 1, 2 if is_max else 1)
    x = b[0]
    if len(x) != 4:
        raise _Bad(f"input must have 4 axes, corresponding to (num, channels, height, width); got {_fmt(x)}")
    n, c, height, width = x
    has_kernel = _has(p, "kernel_size") or _has(p, "kernel_h") or _has(p, "kernel_w")
    if p.global_pooling:
        if has_kernel:
            raise _Bad("with global_pooling: true, filter size cannot be specified")
        kh, kw = height, width
    else:
        if not has_kernel:
            raise _Bad("kernel_size (or kernel_h and kernel_w) is required")
        kh, kw = _pool_hw(p, "kernel", 0)
        if kh <= 0 or kw <= 0:
            raise _Bad(f"filter dimensions must be > 0, got {kh}x{kw}")
    ph, pw = _pool_hw(p, "pad", 0)
    sh, sw = _pool_hw(p, "stride", 1)
    if p.global_pooling and (ph or pw or sh != 1 or sw != 1):
        raise _Bad("with global_pooling: true, only pad = 0 and stride = 1 are allowed")
    if sh <= 0 or sw <= 0:
        raise _Bad(f"stride must be > 0, got {sh}x{sw}")
    if ph or pw:
        if p.pool not in (pool_enum.AVE, pool_enum.MAX):
            raise _Bad("padding is implemented only for average and max pooling")
        if ph >= kh or pw >= kw:
            raise _Bad(f"pad ({ph}x{pw}) must be smaller than the kernel ({kh}x{kw})")
    ceil_mode = True
    if schema.has_field("PoolingParameter", "round_mode"):
        ceil_mode = p.round_mode == pool_enum.CEIL

    def pooled(size, k, pad, s):
        num = size + 2 * pad - k
        o = (-(-num // s) if ceil_mode else num // s) + 1
        if pad and (o - 1) * s >= size + pad:
            o -= 1
        return o

    oh, ow = pooled(height, kh, ph, sh), pooled(width, kw, pw, sw)
    if oh <= 0 or ow <= 0:
        raise _Bad(f"kernel {kh}x{kw} (pad {ph}x{pw}) is larger than the padded input "
                   f"{height + 2 * ph}x{width + 2 * pw}; output would be {oh}x{ow}")
    return [(n, c, oh, ow)] * ntop


@_handles("InnerProduct")
def _inner_product(layer, b, ntop):
    _nb(b, 1)
    _nt(ntop, 1)
    p = layer.inner_product_param
    if p.num_output <= 0:
        raise _Bad("num_output must be > 0")
    axis = _canon(p.axis, b[0])
    return [b[0][:axis] + (int(p.num_output),)]


@_handles("Embed")
def _embed(layer, b, ntop):
    _nb(b, 1)
    _nt(ntop, 1)
    p = layer.embed_param
    if p.num_output <= 0:
        raise _Bad("EmbedLayer num_output must be positive")
    if p.input_dim <= 0:
        raise _Bad("EmbedLayer input_dim must be positive")
    return [b[0] + (int(p.num_output),)]


@_handles("LSTM", "RNN")
def _recurrent(layer, b, ntop):
    p = layer.recurrent_param
    if p.num_output <= 0:
        raise _Bad("recurrent_param.num_output must be > 0")
    num_recur = 2 if layer.type == "LSTM" else 1  # LSTM: h and c; RNN: h
    n_hidden = num_recur if p.expose_hidden else 0
    _nb(b, 2 + n_hidden, 3 + n_hidden)
    _nt(ntop, 1 + n_hidden)
    x, cont = b[0], b[1]
    if len(x) < 2:
        raise _Bad(f"bottom[0] must have at least 2 axes -- (#timesteps, #streams, ...); got {_fmt(x)}")
    t, n = x[0], x[1]
    if len(cont) != 2:
        raise _Bad(f"bottom[1] (cont) must have exactly 2 axes -- (#timesteps, #streams); got {_fmt(cont)}")
    if cont != (t, n):
        raise _Bad(f"bottom[1] (cont) shape {_fmt(cont)} must be (T, N) = {_fmt((t, n))} of bottom[0] {_fmt(x)} "
                   "(Caffe recurrent layers are time-major)")
    static = len(b) > 2 + n_hidden
    if static:
        xs = b[2]
        if len(xs) < 1 or xs[0] != n:
            raise _Bad(f"static input bottom[2] {_fmt(xs)} must have N = {n} as its first axis")
    hidden_shape = (1, n, int(p.num_output))
    for i in range(n_hidden):
        hb = b[2 + static + i]
        if hb != hidden_shape:
            raise _Bad(f"initial hidden state bottom[{2 + static + i}] {_fmt(hb)} must be {_fmt(hidden_shape)}")
    return [(t, n, int(p.num_output))] + [hidden_shape] * n_hidden


@_handles("Slice")
def _slice(layer, b, ntop):
    _nb(b, 1)
    _nt(ntop, 1, _MANY)
    x = b[0]
    p = layer.slice_param
    if p.HasField("slice_dim"):
        axis = int(p.slice_dim)
        if axis >= len(x):
            raise _Bad(f"slice_dim {axis} out of range for {_fmt(x)}")
    else:
        axis = _canon(p.axis, x)
    dim = x[axis]
    points = list(p.slice_point)
    if points:
        if len(points) != ntop - 1:
            raise _Bad(f"{len(points)} slice_point(s) need {len(points) + 1} tops, got {ntop}")
        if ntop > dim:
            raise _Bad(f"cannot slice axis {axis} of size {dim} into {ntop} parts")
        sizes, prev = [], 0
        for sp in points:
            if sp <= prev:
                raise _Bad(f"slice_point values must be strictly increasing and > 0, got {points}")
            sizes.append(sp - prev)
            prev = sp
        if dim - prev <= 0:
            raise _Bad(f"slice_point {prev} is not inside axis {axis} of size {dim}")
        sizes.append(dim - prev)
    else:
        if dim % ntop:
            raise _Bad(f"number of top blobs ({ntop}) should evenly divide input slice axis ({dim})")
        sizes = [dim // ntop] * ntop
    return [x[:axis] + (s,) + x[axis + 1:] for s in sizes]


@_handles("Concat")
def _concat(layer, b, ntop):
    _nb(b, 1, _MANY)
    _nt(ntop, 1)
    p = layer.concat_param
    x = b[0]
    if p.HasField("concat_dim"):
        axis = int(p.concat_dim)
        if axis >= len(x):
            raise _Bad(f"concat_dim {axis} out of range for {_fmt(x)}")
    else:
        axis = _canon(p.axis, x)
    total = x[axis]
    for i, s in enumerate(b[1:], 1):
        if len(s) != len(x):
            raise _Bad(f"all inputs must have the same #axes: bottom[0] {_fmt(x)} vs bottom[{i}] {_fmt(s)}")
        for j in range(len(x)):
            if j != axis and s[j] != x[j]:
                raise _Bad(f"all inputs must have the same shape, except at concat_axis {axis}: "
                           f"bottom[0] {_fmt(x)} vs bottom[{i}] {_fmt(s)} differ at axis {j}")
        total += s[axis]
    return [x[:axis] + (total,) + x[axis + 1:]]


@_handles("Eltwise")
def _eltwise(layer, b, ntop):
    _nb(b, 2, _MANY)
    _nt(ntop, 1)
    p = layer.eltwise_param
    if len(p.coeff):
        if p.operation != type(p).SUM:
            raise _Bad("Eltwise layer only takes coefficients for summation")
        if len(p.coeff) != len(b):
            raise _Bad(f"Eltwise layer takes one coefficient per bottom blob ({len(b)}), got {len(p.coeff)}")
    for i, s in enumerate(b[1:], 1):
        if s != b[0]:
            raise _Bad(f"bottom shapes must be equal: bottom[0] {_fmt(b[0])} vs bottom[{i}] {_fmt(s)}")
    return [b[0]]


@_handles("Flatten")
def _flatten(layer, b, ntop):
    _nb(b, 1)
    _nt(ntop, 1)
    if layer.top[0] == layer.bottom[0]:
        raise _Bad("Flatten layer does not allow in-place computation")
    x = b[0]
    p = layer.flatten_param
    start = _canon(p.axis, x)
    end = _canon(p.end_axis, x, "end_axis")
    return [x[:start] + (_count(x, start, end + 1),) + x[end + 1:]]


@_handles("Reshape")
def _reshape(layer, b, ntop):
    _nb(b, 1)
    _nt(ntop, 1)
    if layer.top[0] == layer.bottom[0]:
        raise _Bad("Reshape layer does not allow in-place computation")
    x = b[0]
    p = layer.reshape_param
    new = [int(d) for d in p.shape.dim]
    copy_axes, inferred, constant = [], -1, 1
    for i, d in enumerate(new):
        if d == 0:
            copy_axes.append(i)
        elif d == -1:
            if inferred != -1:
                raise _Bad("new shape contains multiple -1 dims; at most a single (1) value of -1 may be specified")
            inferred = i
        elif d < 0:
            raise _Bad(f"-1 and 0 are the only special dims in reshape_param.shape, got {new}")
        else:
            constant *= d
    start = p.axis if p.axis >= 0 else len(x) + p.axis + 1
    if not 0 <= start <= len(x):
        raise _Bad(f"reshape axis {p.axis} out of range for {_fmt(x)}")
    if p.num_axes < -1:
        raise _Bad("num_axes must be >= 0, or -1 for all")
    end = len(x) if p.num_axes == -1 else start + p.num_axes
    if end > len(x):
        raise _Bad(f"end_axis = axis + num_axes ({end}) is out of range for {_fmt(x)}")
    top = list(x[:start]) + new + list(x[end:])
    for i in copy_axes:
        if start + i >= len(x):
            raise _Bad("new shape contains a 0, but there was no corresponding bottom axis to copy")
        top[start + i] = x[start + i]
    if inferred >= 0:
        explicit = constant * _count(x, 0, start) * _count(x, end)
        for i in copy_axes:
            explicit *= top[start + i]
        if explicit == 0 or _count(x) % explicit:
            raise _Bad(f"bottom count ({_count(x)}) must be divisible by the product of the specified "
                       f"dimensions ({explicit})")
        top[start + inferred] = _count(x) // explicit
    if _count(top) != _count(x):
        raise _Bad(f"output count ({_count(top)}, shape {_fmt(top)}) must match input count ({_count(x)}, shape {_fmt(x)})")
    return [tuple(top)]


@_handles("Softmax")
def _softmax(layer, b, ntop):
    _nb(b, 1)
    _nt(ntop, 1)
    _canon(layer.softmax_param.axis, b[0])
    return [b[0]]


_NEURON_TYPES = ("ReLU", "Sigmoid", "TanH", "ELU", "Dropout", "Swish", "Clip", "AbsVal", "BNLL",
                 "Power", "Exp", "Log", "Threshold", "PReLU")


@_handles(*_NEURON_TYPES)
def _neuron(layer, b, ntop):
    _nb(b, 1)
    _nt(ntop, 1)
    return [b[0]]


@_handles("BatchNorm", "MVN")
def _same_shape(layer, b, ntop):
    _nb(b, 1)
    _nt(ntop, 1)
    return [b[0]]


@_handles("LRN")
def _lrn(layer, b, ntop):
    _nb(b, 1)
    _nt(ntop, 1)
    if len(b[0]) != 4:
        raise _Bad(f"input must have 4 axes, corresponding to (num, channels, height, width); got {_fmt(b[0])}")
    if layer.lrn_param.local_size % 2 == 0:
        raise _Bad("LRN only supports odd values for local_size")
    return [b[0]]


@_handles("Scale", "Bias")
def _scale(layer, b, ntop):
    _nb(b, 1, 2)
    _nt(ntop, 1)
    if len(b) == 2:
        p = layer.scale_param if layer.type == "Scale" else layer.bias_param
        x, s = b
        axis = len(x) if (len(s) == 0 and p.axis == len(x)) else _canon(p.axis, x)
        if len(x) < axis + len(s):
            raise _Bad(f"{layer.type.lower()} blob's shape {_fmt(s)} extends past bottom[0]'s shape "
                       f"{_fmt(x)} when applied starting with bottom[0] axis = {axis}")
        for i, d in enumerate(s):
            if x[axis + i] != d:
                raise _Bad(f"dimension mismatch between bottom[0]->shape({axis + i}) = {x[axis + i]} and "
                           f"bottom[1]->shape({i}) = {d}")
    return [b[0]]


@_handles("Split")
def _split(layer, b, ntop):
    _nb(b, 1)
    _nt(ntop, 1, _MANY)
    return [b[0]] * ntop


@_handles("Silence")
def _silence(layer, b, ntop):
    _nb(b, 1, _MANY)
    _nt(ntop, 0)
    return []


@_handles("Crop")
def _crop(layer, b, ntop):
    _nb(b, 2)
    _nt(ntop, 1)
    x, ref = b
    if len(x) != len(ref):
        raise _Bad(f"bottom[0] {_fmt(x)} and bottom[1] {_fmt(ref)} must have the same number of axes")
    p = layer.crop_param
    axis = _canon(p.axis, x)
    offsets = list(p.offset)
    n_crop = len(x) - axis
    if offsets and len(offsets) not in (1, n_crop):
        raise _Bad(f"number of offsets ({len(offsets)}) must be 1 or {n_crop}")
    top = list(x)
    for i in range(axis, len(x)):
        off = 0 if not offsets else offsets[0] if len(offsets) == 1 else offsets[i - axis]
        if x[i] - off < ref[i]:
            raise _Bad(f"invalid crop on axis {i}: bottom[0] size {x[i]} - offset {off} < reference size {ref[i]}")
        top[i] = ref[i]
    return [tuple(top)]


@_handles("Tile")
def _tile(layer, b, ntop):
    _nb(b, 1)
    _nt(ntop, 1)
    p = layer.tile_param
    axis = _canon(p.axis, b[0])
    if p.tiles <= 0:
        raise _Bad("number of tiles must be positive")
    x = b[0]
    return [x[:axis] + (x[axis] * p.tiles,) + x[axis + 1:]]


_LOSS_TYPES = ("SoftmaxWithLoss", "EuclideanLoss", "SigmoidCrossEntropyLoss", "HingeLoss",
               "MultinomialLogisticLoss", "InfogainLoss", "ContrastiveLoss")


@_handles(*_LOSS_TYPES)
def _loss(layer, b, ntop):
    _nb(b, 2, 3)
    _nt(ntop, 1, 2 if layer.type in ("SoftmaxWithLoss", "InfogainLoss") else 1)
    if b[0][:1] != b[1][:1]:
        raise _Bad(f"the data and label should have the same first dimension: {_fmt(b[0])} vs {_fmt(b[1])}")
    if layer.type == "EuclideanLoss" and _count(b[0], 1) != _count(b[1], 1):
        raise _Bad(f"inputs must have the same dimension: {_fmt(b[0])} vs {_fmt(b[1])}")
    return [()] + [b[0]] * (ntop - 1)


@_handles("Accuracy")
def _accuracy(layer, b, ntop):
    _nb(b, 2)
    _nt(ntop, 1, 2)
    axis = _canon(layer.accuracy_param.axis, b[0])
    return [()] + [(b[0][axis],)] * (ntop - 1)


def supported_layer_types() -> list[str]:
    """Layer types :func:`blob_shapes` knows."""
    return sorted(_HANDLERS)


# --------------------------------------------------------------------------
# net-level: state filtering (Net::FilterNet), blob bookkeeping (Net::Init)
# --------------------------------------------------------------------------
def _rule_met(rule, phase: int, level: int, stages: set[str]) -> bool:
    if rule.HasField("phase") and rule.phase != phase:
        return False
    if rule.HasField("min_level") and level < rule.min_level:
        return False
    if rule.HasField("max_level") and level > rule.max_level:
        return False
    if any(s not in stages for s in rule.stage):
        return False
    if any(s in stages for s in rule.not_stage):
        return False
    return True


def _included(layer, phase: int, level: int, stages: set[str]) -> bool:
    if len(layer.include) and len(layer.exclude):
        raise CaffeShapeError(f"layer {layer.name!r}: specify either include rules or exclude rules; not both")
    if len(layer.include):
        return any(_rule_met(r, phase, level, stages) for r in layer.include)
    return not any(_rule_met(r, phase, level, stages) for r in layer.exclude)


def _phase_value(phase) -> int:
    enum = schema.file_descriptor().enum_types_by_name["Phase"]
    if isinstance(phase, str):
        try:
            return enum.values_by_name[phase.upper()].number
        except KeyError:
            raise CaffeShapeError(f"unknown phase {phase!r} (expected TRAIN or TEST)") from None
    return int(phase)


def layer_shapes(net, phase=None, level: int | None = None, stages: Iterable[str] | None = None) -> list[LayerShapes]:
    """Bottom and top shapes of every layer Caffe would instantiate, in order.

    ``phase`` (``"TRAIN"``/``"TEST"`` or the enum value), ``level`` and
    ``stages`` default to ``net.state`` (whose phase defaults to TEST), as in
    ``Net::FilterNet``.
    """
    state = net.state
    phase_v = _phase_value(phase) if phase is not None else state.phase
    level_v = state.level if level is None else level
    stage_set = set(state.stage) if stages is None else set(stages)

    shapes: dict[str, Shape] = {}
    out: list[LayerShapes] = []

    # Legacy net-level inputs: `input: "data"` + input_shape / input_dim.
    if len(net.input):
        if len(net.input_shape):
            if len(net.input_shape) != len(net.input):
                raise CaffeShapeError("net: need one input_shape per input")
            for name, bs in zip(net.input, net.input_shape):
                shapes[name] = tuple(int(d) for d in bs.dim)
        elif len(net.input_dim):
            if len(net.input_dim) != 4 * len(net.input):
                raise CaffeShapeError("net: input_dim must list 4 dims per input")
            for i, name in enumerate(net.input):
                shapes[name] = tuple(int(d) for d in net.input_dim[4 * i: 4 * i + 4])
        else:
            raise CaffeShapeError("net: inputs are given without input_shape or input_dim")
    if len(net.layers):
        raise CaffeShapeError("net uses the deprecated V1 'layers' field; only 'layer' is supported")

    for idx, layer in enumerate(net.layer):
        if not _included(layer, phase_v, level_v, stage_set):
            continue
        label = f"layer {layer.name!r} (type {layer.type!r})" if layer.name else f"layer #{idx} (type {layer.type!r})"
        bottoms = tuple(layer.bottom)
        bshapes = []
        for i, bname in enumerate(bottoms):
            if bname not in shapes:
                raise CaffeShapeError(f"{label}: unknown bottom blob {bname!r} (bottom index {i})")
            bshapes.append(shapes[bname])
        handler = _HANDLERS.get(layer.type)
        if handler is None:
            raise CaffeShapeError(f"{label}: unsupported layer type {layer.type!r} for shape inference")
        try:
            tshapes = handler(layer, bshapes, len(layer.top))
        except _Bad as exc:
            raise CaffeShapeError(f"{label}: {exc}") from None
        tops = tuple(layer.top)
        assert len(tshapes) == len(tops), (layer.type, tshapes, tops)
        for i, tname in enumerate(tops):
            in_place = i < len(bottoms) and bottoms[i] == tname
            if in_place:
                if tshapes[i] != shapes[tname]:
                    raise CaffeShapeError(f"{label}: in-place top {tname!r} would change shape "
                                          f"{_fmt(shapes[tname])} -> {_fmt(tshapes[i])}")
            elif tname in shapes:
                raise CaffeShapeError(f"{label}: top blob {tname!r} produced by multiple sources")
            elif tname in tops[:i]:
                raise CaffeShapeError(f"{label}: duplicate top blob {tname!r}")
            shapes[tname] = tshapes[i]
        out.append(LayerShapes(layer.name, layer.type, bottoms, tops, tuple(bshapes), tuple(tshapes)))
    return out


def blob_shapes(net, phase=None, level: int | None = None, stages: Iterable[str] | None = None) -> dict[str, Shape]:
    """Shape of every top blob of ``net`` (a ``caffe.NetParameter``), in order of definition.

    Legacy net-level ``input`` blobs come first.  Raises :class:`CaffeShapeError`
    naming the layer and the problem.
    """
    result: dict[str, Shape] = {}
    if len(net.input):
        for name, s in _legacy_inputs(net):
            result[name] = s
    for ls in layer_shapes(net, phase=phase, level=level, stages=stages):
        for name, s in zip(ls.tops, ls.top_shapes):
            result[name] = s
    return result


def _legacy_inputs(net):
    if len(net.input_shape):
        return [(n, tuple(int(d) for d in bs.dim)) for n, bs in zip(net.input, net.input_shape)]
    return [(n, tuple(int(d) for d in net.input_dim[4 * i: 4 * i + 4])) for i, n in enumerate(net.input)]
