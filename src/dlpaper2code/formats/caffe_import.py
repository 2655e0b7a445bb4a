"""Caffe prototxt (and .caffemodel weights) into the graph.

The prototxt is parsed against the real ``caffe.proto`` (``emit.caffe.parse_prototxt``) and its
blob shapes inferred as Caffe would (``emit.caffe.shapes``); each Caffe layer, or run of layers the
emitter writes for one vocabulary layer, becomes a node:

* in-place activations (ReLU, Sigmoid, TanH, ELU, Softmax, Clip, Swish) fold into the Conv2D /
  Dense / ... that wrote the blob when nothing read it in between, else an ``Activation`` node;
  ReLU + Power(-1, 6) + ReLU + Power(-1, 6) (the Caffe 1.0 ReLU6) is ``relu6``;
* BatchNorm followed by Scale (or Bias) is one ``BatchNorm`` (scale / center from the Scale);
* a global Pooling followed by Flatten is one ``GlobalAvgPool2D`` / ``GlobalMaxPool2D``;
* an LSTM (time-major, with the sequence-continuation blob) followed by Slice on the time axis and
  Reshape is an ``LSTM`` without ``return_sequences``; a Caffe ``RNN`` is a ``SimpleRNN`` and a
  ``Dense`` with tanh (Caffe's output projection o_t = tanh(W_ho h_t + b_o));
* InnerProduct of a 4-D blob gets the ``Flatten`` Caffe does implicitly (channels first: the
  Dense's rows follow ``emit.weights.feature_permutations``);
* Pooling's rounding up (BVLC Caffe) is ``ceil_mode: true`` where it changes the size.

Data layers (Data, ImageData, HDF5Data, ...) become an ``Input`` (shape from ``input_shape``, the
phase's DummyData or Input); loss, Accuracy and Silence layers are dropped, and a blob that only a
SoftmaxWithLoss read becomes a softmax output.  Every node's shape is checked against Caffe's blob
shape.  Weights come from a ``.caffemodel`` (``weights=``, or next to the prototxt).
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from . import ImportFailure, Imported

DATA_TYPES = {"Data", "ImageData", "HDF5Data", "MemoryData", "WindowData", "AnnotatedData", "Python"}
DROP_TYPES = {"Accuracy", "Silence", "ArgMax"}
ACT_PARAM_TYPES = {"Conv2D", "DepthwiseConv2D", "Conv2DTranspose", "Dense", "Conv1D"}
RECURRENT = {"LSTM", "RNN"}


def _rep(values, default, n=2):
    vals = [values] if isinstance(values, (int, float)) else list(values)
    if not vals:
        return [default] * n
    return [vals[0]] * n if len(vals) == 1 else vals[:n]


def _pair(p, rep: str, h: str, w: str, default: int) -> list[int]:
    if p.HasField(h) or p.HasField(w):
        return [int(getattr(p, h)), int(getattr(p, w))]
    return [int(v) for v in _rep(getattr(p, rep), default)]


def _compact(pair: list[int]):
    return pair[0] if pair[0] == pair[1] else list(pair)


def _padding(pair: list[int]):
    if pair == [0, 0]:
        return "valid"
    return _compact(pair)


def _canonical(shape, kind: str) -> list[int]:
    if kind == "image":
        return [shape[2], shape[3], shape[1]]
    if kind == "pooled":
        return [shape[1]]
    if kind == "vector":
        return [int(math.prod(shape[1:]))]
    if kind == "tokens":
        return [shape[0]]
    if kind == "sequence":
        return [shape[0], shape[2]]
    return list(shape)


class _Converter:
    def __init__(self, source: str, net, phase: str, input_shape: list[int] | None):
        self.source, self.net, self.phase, self.input_shape = source, net, phase, input_shape
        self.layers: list[dict] = []                 # graph document layers
        self.index: dict[str, dict] = {}
        self.blob_node: dict[str, str] = {}          # blob -> node holding it now
        self.blob_kind: dict[str, str] = {}
        self.unread: set[str] = set()               # nodes written and not read since (fold targets)
        self.read_nodes: set[str] = set()
        self.caffe_shapes: dict[str, tuple] = {}     # node -> Caffe shape of its blob (checked at the end)
        self.node_kind: dict[str, str] = {}
        self.weight_src: dict[str, tuple] = {}       # node -> how to read its weights from the caffemodel
        self.notes: list[str] = []
        self.last_step: dict[str, tuple[str, str]] = {}   # Slice's last-step top -> (LSTM node, seq blob)
        self.softmax_outputs: list[str] = []

    # ------------------------------------------------------------ helpers
    def fail(self, layer, message: str):
        raise ImportFailure(self.source, message, node=layer.name, operator=layer.type)

    def unique(self, name: str) -> str:
        base, k = name or "layer", 2
        while name in self.index:
            name, k = f"{base}_{k}", k + 1
        return name

    def add(self, layer_type: str, name: str, params: dict, inputs: list[str], top: str | None,
            shape=None, kind: str | None = None) -> str:
        name = self.unique(name)
        entry = {"layer_type": layer_type, "layer_name": name, "layer_params": params, "from_layers": list(inputs)}
        self.layers.append(entry)
        self.index[name] = entry
        for i in inputs:
            self.unread.discard(i)
            self.read_nodes.add(i)
        self.unread.add(name)
        if top is not None:
            self.blob_node[top] = name
            self.blob_kind[top] = kind
        if shape is not None:
            self.caffe_shapes[name], self.node_kind[name] = tuple(shape), kind
        return name

    def rename(self, old: str, new: str) -> str:
        new = self.unique(new)
        entry = self.index.pop(old)
        entry["layer_name"] = new
        self.index[new] = entry
        for e in self.layers:
            e["from_layers"] = [new if f == old else f for f in e["from_layers"]]
        for b, n in list(self.blob_node.items()):
            if n == old:
                self.blob_node[b] = new
        for d in (self.caffe_shapes, self.node_kind, self.weight_src):
            if old in d:
                d[new] = d.pop(old)
        for s in (self.unread, self.read_nodes):
            if old in s:
                s.discard(old)
                s.add(new)
        return new

    def src(self, layer, i: int = 0) -> str:
        blob = layer.bottom[i]
        if blob not in self.blob_node:
            self.fail(layer, f"reads blob '{blob}', which no imported layer writes")
        return self.blob_node[blob]

    def as_image(self, layer, i: int, bshape) -> str:
        """The bottom as an image node (a global pooling's N x C x 1 x 1 gets a Reshape back)."""
        node = self.src(layer, i)
        kind = self.blob_kind.get(layer.bottom[i])
        if kind == "pooled":
            return self.add("Reshape", f"{node}_as_image", {"target_shape": [1, 1, bshape[1]]}, [node], None,
                            bshape, "image")
        if kind != "image":
            self.fail(layer, f"needs a 4-D (N x C x H x W) bottom; '{layer.bottom[i]}' is {list(bshape)}")
        return node

    def activation(self, layer, fn: str, top_shape):
        bottom, top = layer.bottom[0], layer.top[0]
        node = self.src(layer)
        entry = self.index[node]
        if (top == bottom and entry["layer_type"] in ACT_PARAM_TYPES and node in self.unread
                and entry["layer_params"].get("activation", "linear") == "linear"):
            entry["layer_params"]["activation"] = fn
            return node
        kind = self.blob_kind[bottom]
        return self.add("Activation", layer.name, {"function": fn}, [node], top, top_shape, kind)

    # ------------------------------------------------------------ main loop
    def setup(self, items):
        self.items = items
        reads: dict[str, int] = {}
        for ls in items:
            for b in ls.bottoms:
                reads[b] = reads.get(b, 0) + 1
        self.reads = reads
        self.cont_blobs = {ls.bottoms[1] for ls in items if ls.type in RECURRENT and len(ls.bottoms) > 1}
        self.embed_inputs = {ls.bottoms[0] for ls in items if ls.type == "Embed"}

    def run(self, items):
        i = 0
        while i < len(items):
            ls = items[i]
            layer = self.layer_msg[id(ls)]
            handler = getattr(self, f"_{ls.type}", None)
            if handler is None:
                self.fail(layer, f"Caffe layer type '{ls.type}' has no vocabulary equivalent")
            i += handler(layer, ls, i) or 1

    def next_layer(self, i: int):
        return (self.items[i + 1], self.layer_msg[id(self.items[i + 1])]) if i + 1 < len(self.items) else (None, None)

    # ------------------------------------------------------------ inputs
    def _input_blob(self, layer, top: str, shape):
        if top in self.cont_blobs or not self.reads.get(top):
            if top not in self.cont_blobs:
                self.notes.append(f"input '{top}' is read by no imported layer (a label): dropped")
            return
        shape = tuple(int(d) for d in shape)
        if len(shape) == 4:
            kind, canon, dtype = "image", [shape[2], shape[3], shape[1]], None
        elif len(shape) == 3:
            kind, canon, dtype = "sequence", [shape[0], shape[2]], None
        elif len(shape) == 2 and top in self.embed_inputs:
            kind, canon, dtype = "tokens", [shape[0]], "int64"
        elif len(shape) == 2:
            kind, canon, dtype = "vector", [shape[1]], None
        else:
            self.fail(layer, f"input '{top}' has shape {list(shape)}; images (N x C x H x W), vectors (N x F), "
                             "token ids (T x N) and sequences (T x N x F) are imported")
        params = {"shape": canon}
        if dtype:
            params["dtype"] = dtype
        self.add("Input", top, params, [], top, shape, kind)

    def _Input(self, layer, ls, i):
        for top, shape in zip(ls.tops, ls.top_shapes):
            self._input_blob(layer, top, shape)

    _DummyData = _Input

    # ------------------------------------------------------------ convolutions
    def _Convolution(self, layer, ls, i):
        p = layer.convolution_param
        bshape = ls.bottom_shapes[0]
        if len(bshape) != 4 or p.axis != 1:
            self.fail(layer, f"only 2-D convolutions of N x C x H x W blobs are imported (bottom {list(bshape)})")
        x = self.as_image(layer, 0, bshape)
        kernel = _pair(p, "kernel_size", "kernel_h", "kernel_w", 1)
        stride = _pair(p, "stride", "stride_h", "stride_w", 1)
        pad = _pair(p, "pad", "pad_h", "pad_w", 0)
        dil = [int(v) for v in _rep(p.dilation, 1)]
        group, cin, cout = int(p.group), int(bshape[1]), int(p.num_output)
        params: dict = {}
        if group == cin and group > 1 and cout % group == 0 and dil == [1, 1]:
            ltype = "DepthwiseConv2D"
            params["kernel_size"] = _compact(kernel)
            if cout // group != 1:
                params["depth_multiplier"] = cout // group
        else:
            ltype = "Conv2D"
            params = {"filters": cout, "kernel_size": _compact(kernel)}
            if dil != [1, 1]:
                params["dilation_rate"] = _compact(dil)
            if group != 1:
                params["groups"] = group
        if stride != [1, 1]:
            params["strides"] = _compact(stride)
        if pad != [0, 0]:
            params["padding"] = _padding(pad)
        if not p.bias_term:
            params["use_bias"] = False
        node = self.add(ltype, layer.name, params, [x], ls.tops[0], ls.top_shapes[0], "image")
        self.weight_src[node] = ("conv", layer.name)

    def _Deconvolution(self, layer, ls, i):
        p = layer.convolution_param
        bshape = ls.bottom_shapes[0]
        x = self.as_image(layer, 0, bshape)
        kernel = _pair(p, "kernel_size", "kernel_h", "kernel_w", 1)
        stride = _pair(p, "stride", "stride_h", "stride_w", 1)
        pad = _pair(p, "pad", "pad_h", "pad_w", 0)
        if int(p.group) != 1 or [int(v) for v in _rep(p.dilation, 1)] != [1, 1]:
            self.fail(layer, "a grouped or dilated Deconvolution has no vocabulary equivalent (Conv2DTranspose)")
        if pad == [0, 0]:
            padding = "valid"
        elif all((k - s) == 2 * q for k, s, q in zip(kernel, stride, pad)):
            padding = "same"
        else:
            self.fail(layer, f"Deconvolution pad {pad} is neither 0 ('valid') nor (kernel - stride) / 2 ('same'); "
                             "Conv2DTranspose crops no other amount")
        params = {"filters": int(p.num_output), "kernel_size": _compact(kernel), "strides": _compact(stride),
                  "padding": padding}
        if not p.bias_term:
            params["use_bias"] = False
        node = self.add("Conv2DTranspose", layer.name, params, [x], ls.tops[0], ls.top_shapes[0], "image")
        self.weight_src[node] = ("deconv", layer.name)

    # ------------------------------------------------------------ pooling
    def _Pooling(self, layer, ls, i):
        p = layer.pooling_param
        bshape = ls.bottom_shapes[0]
        x = self.as_image(layer, 0, bshape)
        pool = p.DESCRIPTOR.fields_by_name["pool"].enum_type.values_by_number[p.pool].name
        if pool not in ("MAX", "AVE"):
            self.fail(layer, f"{pool} pooling has no vocabulary equivalent (MAX and AVE do)")
        if p.global_pooling:
            nxt, nmsg = self.next_layer(i)
            ltype = "GlobalMaxPool2D" if pool == "MAX" else "GlobalAvgPool2D"
            top = ls.tops[0]
            # the emitter's pair: Pooling (global) into a blob only a Flatten reads
            if (nxt is not None and nxt.type == "Flatten" and nxt.bottoms[0] == top and self.reads.get(top) == 1
                    and nxt.tops[0] != top):
                self.add(ltype, nmsg.name, {}, [x], nxt.tops[0], ls.top_shapes[0], "pooled")
                return 2
            self.add(ltype, layer.name, {}, [x], top, ls.top_shapes[0], "pooled")
            return 1
        kernel = _pair(p, "kernel_size", "kernel_h", "kernel_w", 1)
        stride = _pair(p, "stride", "stride_h", "stride_w", 1)
        pad = _pair(p, "pad", "pad_h", "pad_w", 0)
        out = ls.top_shapes[0][2:]
        floor = [(n + 2 * q - k) // s + 1 for n, k, s, q in zip(bshape[2:], kernel, stride, pad)]
        params = {"pool_size": _compact(kernel)}
        if stride != kernel:
            params["strides"] = _compact(stride)
        if pad != [0, 0]:
            params["padding"] = _padding(pad)
        if list(out) != floor:
            params["ceil_mode"] = True
        self.add("MaxPool2D" if pool == "MAX" else "AvgPool2D", layer.name, params, [x], ls.tops[0],
                 ls.top_shapes[0], "image")

    # ------------------------------------------------------------ dense
    def _InnerProduct(self, layer, ls, i):
        p = layer.inner_product_param
        bshape = ls.bottom_shapes[0]
        kind = self.blob_kind.get(layer.bottom[0])
        x = self.src(layer)
        if p.transpose:
            self.fail(layer, "InnerProduct with transpose: true is not imported")
        axis = p.axis if p.axis >= 0 else p.axis + len(bshape)
        if kind == "sequence":
            if axis != 2:
                self.fail(layer, f"InnerProduct over a time-major sequence must use axis 2, not {p.axis}")
            out_kind = "sequence"
        else:
            if axis != 1:
                self.fail(layer, f"InnerProduct axis {p.axis} is not imported (axis 1: one vector per sample)")
            if kind == "image":
                x = self.add("Flatten", f"{layer.name}_flatten", {}, [x], None,
                             (bshape[0], int(math.prod(bshape[1:]))), "vector")
                self.notes.append(f"{layer.name}: Caffe's implicit flatten of a {list(bshape)} blob is a Flatten layer")
            out_kind = "vector"
        params = {"units": int(p.num_output)}
        if not p.bias_term:
            params["use_bias"] = False
        node = self.add("Dense", layer.name, params, [x], ls.tops[0], ls.top_shapes[0], out_kind)
        self.weight_src[node] = ("dense", layer.name)

    # ------------------------------------------------------------ activations
    def _ReLU(self, layer, ls, i):
        slope = float(layer.relu_param.negative_slope)
        if slope == 0.0:
            # Caffe 1.0's relu6: ReLU, then in place Power(-x + 6), ReLU, Power(-x + 6)
            top = ls.tops[0]
            chain = self.items[i + 1:i + 4]
            if (len(chain) == 3 and [c.type for c in chain] == ["Power", "ReLU", "Power"]
                    and all(c.bottoms == (top,) and c.tops == (top,) for c in chain)
                    and all(self._flip(self.layer_msg[id(c)]) for c in (chain[0], chain[2]))
                    and self.layer_msg[id(chain[1])].relu_param.negative_slope == 0):
                self.activation(layer, "relu6", ls.top_shapes[0])
                return 4
            self.activation(layer, "relu", ls.top_shapes[0])
        elif abs(slope - 0.2) < 1e-6:
            self.activation(layer, "leaky_relu", ls.top_shapes[0])
        else:
            self.fail(layer, f"ReLU negative_slope {slope}: the vocabulary's leaky_relu has slope 0.2")

    @staticmethod
    def _flip(msg) -> bool:
        q = msg.power_param
        return q.power == 1.0 and q.scale == -1.0 and q.shift == 6.0

    def _Sigmoid(self, layer, ls, i):
        self.activation(layer, "sigmoid", ls.top_shapes[0])

    def _TanH(self, layer, ls, i):
        self.activation(layer, "tanh", ls.top_shapes[0])

    def _ELU(self, layer, ls, i):
        if layer.elu_param.alpha != 1.0:
            self.fail(layer, f"ELU alpha {layer.elu_param.alpha}: the vocabulary's elu has alpha 1")
        self.activation(layer, "elu", ls.top_shapes[0])

    def _Swish(self, layer, ls, i):
        if layer.swish_param.beta != 1.0:
            self.fail(layer, f"Swish beta {layer.swish_param.beta}: the vocabulary's swish has beta 1")
        self.activation(layer, "swish", ls.top_shapes[0])

    def _Clip(self, layer, ls, i):
        if (layer.clip_param.min, layer.clip_param.max) != (0.0, 6.0):
            self.fail(layer, f"Clip to [{layer.clip_param.min}, {layer.clip_param.max}]: only [0, 6] (relu6) is imported")
        self.activation(layer, "relu6", ls.top_shapes[0])

    def _Softmax(self, layer, ls, i):
        kind = self.blob_kind.get(layer.bottom[0])
        axis = layer.softmax_param.axis
        want = 2 if kind == "sequence" else 1
        if axis not in (want, want - len(ls.bottom_shapes[0])):
            self.fail(layer, f"Softmax over axis {axis} of a {kind} blob: only the features/channels axis ({want}) is imported")
        self.activation(layer, "softmax", ls.top_shapes[0])

    def _Split(self, layer, ls, i):
        node = self.src(layer)
        if len(ls.tops) == 1 and ls.tops[0] != layer.bottom[0]:
            self.add("Activation", layer.name, {"function": "linear"}, [node], ls.tops[0], ls.top_shapes[0],
                     self.blob_kind[layer.bottom[0]])
            return
        for t in ls.tops:
            self.blob_node[t] = node
            self.blob_kind[t] = self.blob_kind[layer.bottom[0]]

    def _Power(self, layer, ls, i):
        q = layer.power_param
        if q.power != 1.0:
            self.fail(layer, f"Power with power {q.power}: only y = scale * x + shift (power 1) is imported (Rescaling)")
        self.add("Rescaling", layer.name, {"scale": float(q.scale), "offset": float(q.shift)}, [self.src(layer)],
                 ls.tops[0], ls.top_shapes[0], self.blob_kind[layer.bottom[0]])

    def _Dropout(self, layer, ls, i):
        self.add("Dropout", layer.name, {"rate": round(float(layer.dropout_param.dropout_ratio), 6)},
                 [self.src(layer)], ls.tops[0], ls.top_shapes[0], self.blob_kind[layer.bottom[0]])

    def _PReLU(self, layer, ls, i):
        kind = self.blob_kind[layer.bottom[0]]
        if kind == "sequence":
            self.fail(layer, "PReLU of a time-major sequence takes the batch axis for channels; not imported")
        node = self.add("PReLU", layer.name, {}, [self.src(layer)], ls.tops[0], ls.top_shapes[0], kind)
        self.weight_src[node] = ("prelu", layer.name, bool(layer.prelu_param.channel_shared))

    def _LRN(self, layer, ls, i):
        q = layer.lrn_param
        region = q.DESCRIPTOR.fields_by_name["norm_region"].enum_type.values_by_number[q.norm_region].name
        if region != "ACROSS_CHANNELS":
            self.fail(layer, "LRN WITHIN_CHANNEL has no vocabulary equivalent (LRN is across channels)")
        self.add("LRN", layer.name, {"size": int(q.local_size), "alpha": float(q.alpha), "beta": float(q.beta),
                                     "bias": float(q.k)},
                 [self.as_image(layer, 0, ls.bottom_shapes[0])], ls.tops[0], ls.top_shapes[0], "image")

    # ------------------------------------------------------------ normalisation
    def _BatchNorm(self, layer, ls, i):
        q = layer.batch_norm_param
        top = ls.tops[0]
        kind = self.blob_kind[layer.bottom[0]]
        if kind == "sequence":
            self.fail(layer, "BatchNorm of a time-major sequence normalises over the batch axis; not imported")
        params = {"epsilon": float(np.float32(q.eps)), "scale": False, "center": False}
        params["epsilon"] = float(f"{q.eps:.6g}")
        if q.HasField("moving_average_fraction"):
            params["momentum"] = float(f"{q.moving_average_fraction:.6g}")
        used, scale_layer, bias_layer = 1, None, None
        nxt, nmsg = self.next_layer(i)
        if (nxt is not None and nxt.type in ("Scale", "Bias") and len(nxt.bottoms) == 1 and nxt.bottoms[0] == top
                and (nxt.tops[0] == top or self.reads.get(top) == 1)):
            if nxt.type == "Scale":
                sp = nmsg.scale_param
                if sp.axis != 1 or sp.num_axes != 1:
                    self.fail(nmsg, "a Scale after BatchNorm must scale channels (axis 1, num_axes 1)")
                params["scale"], params["center"] = True, bool(sp.bias_term)
                scale_layer = nmsg.name
            else:
                params["center"] = True
                bias_layer = nmsg.name
            top, used = nxt.tops[0], 2
        name = layer.name
        node = self.add("BatchNorm", name, params, [self.src(layer)], top, ls.top_shapes[0], kind)
        self.weight_src[node] = ("bn", layer.name, scale_layer, bias_layer)
        if used == 2:
            self.notes.append(f"{layer.name}: BatchNorm and {scale_layer or bias_layer} folded into one BatchNorm")
        return used

    def _Scale(self, layer, ls, i):
        if len(ls.bottoms) == 2:
            a, b = ls.bottom_shapes
            q = layer.scale_param
            if (self.blob_kind.get(layer.bottom[0]) == "image" and len(b) == 2 and q.axis == 0
                    and tuple(b) == tuple(a[:2])):
                self.add("Multiply", layer.name, {}, [self.src(layer, 0), self.src(layer, 1)], ls.tops[0],
                         ls.top_shapes[0], "image")
                return
            if tuple(a) == tuple(b):
                self.add("Multiply", layer.name, {}, [self.src(layer, 0), self.src(layer, 1)], ls.tops[0],
                         ls.top_shapes[0], self.blob_kind[layer.bottom[0]])
                return
        self.fail(layer, "a learned Scale that does not follow a BatchNorm has no vocabulary equivalent")

    # ------------------------------------------------------------ merging
    def _Eltwise(self, layer, ls, i):
        q = layer.eltwise_param
        op = q.DESCRIPTOR.fields_by_name["operation"].enum_type.values_by_number[q.operation].name
        ins = [self.src(layer, k) for k in range(len(layer.bottom))]
        kind = self.blob_kind[layer.bottom[0]]
        coeff = list(q.coeff)
        if op == "SUM" and (not coeff or all(c == 1 for c in coeff)):
            ltype = "Add"
        elif op == "SUM" and len(ins) == 2 and coeff == [1.0, -1.0]:
            ltype = "Subtract"
        elif op == "PROD":
            ltype = "Multiply"
        else:
            self.fail(layer, f"Eltwise {op}{' with coefficients ' + str(coeff) if coeff else ''} has no vocabulary "
                             "equivalent (SUM is Add, SUM with 1, -1 Subtract, PROD Multiply)")
        self.add(ltype, layer.name, {}, ins, ls.tops[0], ls.top_shapes[0], kind)

    def _Concat(self, layer, ls, i):
        q = layer.concat_param
        axis = q.axis if q.HasField("axis") or not q.HasField("concat_dim") else q.concat_dim
        kind = self.blob_kind[layer.bottom[0]]
        nd = len(ls.bottom_shapes[0])
        axis = axis + nd if axis < 0 else axis
        want = 2 if kind == "sequence" else 1
        if axis != want:
            self.fail(layer, f"Concat along axis {axis} of {kind} blobs: only channels/features (axis {want}) is imported")
        ins = [self.src(layer, k) for k in range(len(layer.bottom))]
        self.add("Concat", layer.name, {}, ins, ls.tops[0], ls.top_shapes[0], "vector" if kind == "pooled" else kind)

    # ------------------------------------------------------------ shape layers
    def _Flatten(self, layer, ls, i):
        q = layer.flatten_param
        kind = self.blob_kind[layer.bottom[0]]
        if q.axis != 1 or q.end_axis != -1:
            self.fail(layer, f"Flatten from axis {q.axis} to {q.end_axis}: only one vector per sample (axis 1) is imported")
        if kind == "sequence":
            self.fail(layer, "Flatten of a time-major sequence mixes the batch into the features; not imported")
        node = self.src(layer)
        if kind == "pooled" and node in self.unread and self.index[node]["layer_type"].startswith("Global"):
            node = self.rename(node, layer.name)
            self.blob_node[ls.tops[0]], self.blob_kind[ls.tops[0]] = node, "pooled"
            return
        self.add("Flatten", layer.name, {}, [node], ls.tops[0], ls.top_shapes[0], "vector")

    def _Reshape(self, layer, ls, i):
        bottom = layer.bottom[0]
        out = ls.top_shapes[0]
        if bottom in self.last_step and len(out) == 2:
            lstm, seq = self.last_step[bottom]
            entry = self.index[lstm]
            if entry["layer_params"].get("return_sequences") and self.reads.get(seq) == 1:
                entry["layer_params"]["return_sequences"] = False
                node = self.rename(lstm, layer.name)
                self.blob_node[ls.tops[0]], self.blob_kind[ls.tops[0]] = node, "vector"
                self.caffe_shapes[node], self.node_kind[node] = tuple(out), "vector"
                return
        kind = self.blob_kind.get(bottom)
        if len(out) == 2 and out[0] == ls.bottom_shapes[0][0] and kind in ("image", "pooled", "vector"):
            self.add("Flatten", layer.name, {}, [self.src(layer)], ls.tops[0], out, "vector")
            return
        if len(out) == 4 and out[2:] == (1, 1) and kind in ("vector", "pooled"):
            self.add("Reshape", layer.name, {"target_shape": [1, 1, out[1]]}, [self.src(layer)], ls.tops[0], out, "image")
            return
        self.fail(layer, f"Reshape {list(ls.bottom_shapes[0])} -> {list(out)}: Caffe reshapes channels-first blobs, "
                         "the vocabulary's Reshape channels-last values; only flattening is imported")

    def _Slice(self, layer, ls, i):
        bottom = layer.bottom[0]
        q = layer.slice_param
        node = self.blob_node.get(bottom)
        if (node and self.index[node]["layer_type"] == "LSTM" and q.axis == 0 and len(ls.tops) == 2
                and list(q.slice_point) == [ls.bottom_shapes[0][0] - 1] and self.reads.get(ls.tops[0], 0) == 0):
            self.last_step[ls.tops[1]] = (node, bottom)
            self.unread.discard(node)
            return
        self.fail(layer, "Slice is imported only as the last time step of an LSTM (Slice on axis 0 at T - 1, then Reshape)")

    # ------------------------------------------------------------ sequences
    def _Embed(self, layer, ls, i):
        q = layer.embed_param
        if q.bias_term:
            self.fail(layer, "Embed with bias_term: the vocabulary's Embedding has no bias (write bias_term: false)")
        node = self.add("Embedding", layer.name, {"input_dim": int(q.input_dim), "output_dim": int(q.num_output)},
                        [self.src(layer)], ls.tops[0], ls.top_shapes[0], "sequence")
        self.weight_src[node] = ("embed", layer.name)

    def _recurrent_check(self, layer, ls):
        if len(ls.bottoms) != 2:
            self.fail(layer, f"{ls.type} with a static input (3 bottoms) has no vocabulary equivalent")
        if layer.recurrent_param.expose_hidden:
            self.fail(layer, f"{ls.type} with expose_hidden is not imported")
        if self.blob_kind.get(layer.bottom[0]) != "sequence":
            self.fail(layer, f"{ls.type} reads a time-major sequence (T x N x F)")

    def _LSTM(self, layer, ls, i):
        self._recurrent_check(layer, ls)
        node = self.add("LSTM", layer.name, {"units": int(layer.recurrent_param.num_output), "return_sequences": True},
                        [self.src(layer)], ls.tops[0], ls.top_shapes[0], "sequence")
        self.weight_src[node] = ("lstm", layer.name)
        self.notes.append(f"{layer.name}: the sequence-continuation blob '{layer.bottom[1]}' is dropped "
                          "(0 at the first step, 1 after it, as a whole sequence per sample)")

    def _RNN(self, layer, ls, i):
        self._recurrent_check(layer, ls)
        units = int(layer.recurrent_param.num_output)
        rnn = self.add("SimpleRNN", f"{layer.name}_h", {"units": units, "return_sequences": True},
                       [self.src(layer)], None, ls.top_shapes[0], "sequence")
        self.weight_src[rnn] = ("rnn_h", layer.name)
        out = self.add("Dense", layer.name, {"units": units, "activation": "tanh"}, [rnn], ls.tops[0],
                       ls.top_shapes[0], "sequence")
        self.weight_src[out] = ("rnn_o", layer.name)
        self.notes.append(f"{layer.name}: Caffe's RNN is a SimpleRNN and its output projection tanh(W_ho h_t + b_o), a Dense")


def _enum_name(msg, field: str) -> str:
    return msg.DESCRIPTOR.fields_by_name[field].enum_type.values_by_number[getattr(msg, field)].name


def _prepare(net, source: str, phase: str, input_shape):
    """The layers Caffe instantiates in `phase`, with data layers as Input, loss layers dropped."""
    from ..emit.caffe import shapes as cshapes
    from ..emit.caffe.schema import message_class

    phase_v = cshapes._phase_value(phase)
    work = message_class("NetParameter")()
    work.CopyFrom(net)
    del work.layer[:]
    work.state.phase = phase_v
    softmax_loss: list[str] = []
    dropped: list[str] = []
    for layer in net.layer:
        if not cshapes._included(layer, phase_v, net.state.level, set(net.state.stage)):
            continue
        if layer.type.endswith("Loss") or layer.type in DROP_TYPES:
            if layer.type == "SoftmaxWithLoss":
                softmax_loss.append(layer.bottom[0])
            dropped.append(f"{layer.name} ({layer.type})")
            continue
        if layer.type not in DATA_TYPES and not hasattr(_Converter, f"_{layer.type}"):
            raise ImportFailure(source, f"Caffe layer type '{layer.type}' has no vocabulary equivalent",
                                node=layer.name, operator=layer.type)
        new = work.layer.add()
        new.CopyFrom(layer)
        new.ClearField("include")
        new.ClearField("exclude")
        if layer.type in DATA_TYPES:
            if not input_shape:
                raise ImportFailure(source, "a data layer gives no shape; give the input shape per sample, channels "
                                            "last (--input-shape 224,224,3)", node=layer.name, operator=layer.type)
            shape = list(input_shape)
            dims = [1, shape[2], shape[0], shape[1]] if len(shape) == 3 else [1, *shape]
            new.Clear()
            new.name, new.type = layer.name, "Input"
            new.top.append(layer.top[0])
            new.input_param.shape.add().dim.extend(dims)
    return work, softmax_loss, dropped


def _blobs(layer_msg) -> list[np.ndarray]:
    out = []
    for b in layer_msg.blobs:
        data = np.asarray(b.data if len(b.data) else b.double_data, dtype=np.float32)
        if len(b.shape.dim):
            shape = [int(d) for d in b.shape.dim]
        else:
            shape = [d for d in (b.num, b.channels, b.height, b.width)]
            while len(shape) > 1 and shape[0] == 1 and math.prod(shape[1:]) == data.size:
                shape = shape[1:]
        out.append(data.reshape(shape) if math.prod(shape) == data.size else data)
    return out


def _torch_params(graph, conv: _Converter, blobs: dict[str, list[np.ndarray]], source: str):
    """Caffe blobs as PyTorch-named parameters (Caffe's layouts are PyTorch's, but for the LSTM gates
    and BatchNorm's scale factor), per node id."""
    from ..emit.codegen import node_identifiers

    ids = node_identifiers(graph)
    params: dict[str, dict[str, np.ndarray]] = {}

    def need(node, lname, n):
        got = blobs.get(lname)
        if got is None or len(got) < n:
            entry = conv.index.get(node, {})
            raise ImportFailure(source, f"the caffemodel has {0 if got is None else len(got)} blobs for layer "
                                        f"'{lname}', {n} needed", node=lname, operator=entry.get("layer_type"))
        return got

    for node, spec in conv.weight_src.items():
        kind, lname = spec[0], spec[1]
        p = conv.index[node]["layer_params"]
        out: dict[str, np.ndarray] = {}
        cin_shape = graph.shapes[graph.node(node).inputs[0]].shape
        if kind in ("conv", "deconv", "dense"):
            use_bias = p.get("use_bias", True)
            b = need(node, lname, 2 if use_bias else 1)
            w = b[0]
            if kind == "dense":
                w = w.reshape(p["units"], -1)
            out["weight"] = w
            if use_bias:
                out["bias"] = b[1].reshape(-1)
        elif kind == "bn":
            _, bn_name, scale_name, bias_name = spec
            b = need(node, bn_name, 3)
            factor = float(b[2].reshape(-1)[0])
            factor = 0.0 if factor == 0 else 1.0 / factor
            out["running_mean"] = b[0].reshape(-1) * factor
            out["running_var"] = b[1].reshape(-1) * factor
            if scale_name:
                s = need(node, scale_name, 2 if p["center"] else 1)
                out["weight"] = s[0].reshape(-1)
                if p["center"]:
                    out["bias"] = s[1].reshape(-1)
            if bias_name:
                out["bias"] = need(node, bias_name, 1)[0].reshape(-1)
        elif kind == "lstm":
            b = need(node, lname, 3)
            order = lambda a: np.concatenate([np.split(a, 4, axis=0)[g] for g in (0, 1, 3, 2)], axis=0)  # noqa: E731
            out["weight_ih_l0"] = order(b[0].reshape(4 * p["units"], -1))
            out["bias_ih_l0"] = order(b[1].reshape(-1))
            out["weight_hh_l0"] = order(b[2].reshape(4 * p["units"], -1))
        elif kind == "rnn_h":
            b = need(node, lname, 5)
            out["weight_ih_l0"] = b[0].reshape(p["units"], -1)
            out["bias_ih_l0"] = b[1].reshape(-1)
            out["weight_hh_l0"] = b[2].reshape(p["units"], -1)
        elif kind == "rnn_o":
            b = need(node, lname, 5)
            out["weight"] = b[3].reshape(p["units"], -1)
            out["bias"] = b[4].reshape(-1)
        elif kind == "embed":
            out["weight"] = need(node, lname, 1)[0].reshape(p["input_dim"], -1)
        elif kind == "prelu":
            a = need(node, lname, 1)[0].reshape(-1)
            channels = cin_shape[-1]
            out["weight"] = np.full(channels, a[0], np.float32) if spec[2] else a
        params[ids[node]] = out
    return params


def _conv_weight_fix(graph, params):
    """Convolution blobs in old caffemodels can come without their 4-D shape: give them PyTorch's."""
    from ..emit.codegen import node_contexts

    for ctx in node_contexts(graph):
        got = params.get(ctx["id"])
        if not got or "weight" not in got or ctx["type"] not in ("Conv2D", "DepthwiseConv2D", "Conv2DTranspose"):
            continue
        p, w = ctx["p"], got["weight"]
        kh, kw = p["kernel_size"]
        if ctx["type"] == "Conv2D":
            shape = (p["filters"], ctx["in_channels"] // p["groups"], kh, kw)
        elif ctx["type"] == "DepthwiseConv2D":
            shape = (ctx["in_channels"] * p["depth_multiplier"], 1, kh, kw)
        else:
            shape = (ctx["in_channels"], p["filters"], kh, kw)
        got["weight"] = w.reshape(shape)


def import_caffe(path, weights: str | Path | None = None, input_shape: list[int] | None = None,
                 phase: str = "TEST", **_options) -> Imported:
    """A Caffe prototxt (deploy or train_val) as a graph document; weights from a .caffemodel."""
    from ..core.errors import GraphError
    from ..core.graph import parse_graph
    from ..emit.caffe import CaffeSchemaError, CaffeShapeError, parse_prototxt
    from ..emit.caffe import shapes as cshapes
    from ..emit.weights import canonical_from_target

    source = str(path)
    try:
        net = parse_prototxt(Path(path).read_text(encoding="utf-8"), source=source)
    except CaffeSchemaError as exc:
        raise ImportFailure(source, str(exc)) from None
    if len(net.layers):
        raise ImportFailure(source, "the net uses the deprecated V1 'layers' field; upgrade it with Caffe's "
                                    "upgrade_net_proto_text")
    work, softmax_loss, dropped = _prepare(net, source, phase, input_shape)
    try:
        items = cshapes.layer_shapes(work, phase=phase)
    except CaffeShapeError as exc:
        raise ImportFailure(source, str(exc)) from None
    conv = _Converter(source, work, phase, input_shape)
    by_name = {}
    for layer in work.layer:
        by_name.setdefault(layer.name, []).append(layer)
    conv.layer_msg = {}
    seen: dict[str, int] = {}
    for ls in items:
        k = seen.get(ls.name, 0)
        conv.layer_msg[id(ls)] = by_name[ls.name][k]
        seen[ls.name] = k + 1
    conv.setup(items)
    # legacy net-level inputs
    if len(work.input):
        from types import SimpleNamespace
        legacy = SimpleNamespace(name="input", type="Input")
        for name, shape in cshapes._legacy_inputs(work):
            conv._input_blob(legacy, name, shape)
    conv.run(items)
    notes = conv.notes
    if dropped:
        notes.append("dropped (training only): " + ", ".join(dropped))
    # a blob that only a SoftmaxWithLoss read: the model's prediction is its softmax
    consumed = {f for e in conv.layers for f in e["from_layers"]}
    for blob in softmax_loss:
        node = conv.blob_node.get(blob)
        if node and node not in consumed:
            entry = conv.index[node]
            if entry["layer_type"] in ACT_PARAM_TYPES and entry["layer_params"].get("activation", "linear") == "linear":
                entry["layer_params"]["activation"] = "softmax"
            else:
                conv.add("Activation", f"{node}_softmax", {"function": "softmax"}, [node], None)
            notes.append(f"{blob}: SoftmaxWithLoss read it, so the output is its softmax")
    consumed = {f for e in conv.layers for f in e["from_layers"]}
    outputs = [e["layer_name"] for e in conv.layers if e["layer_name"] not in consumed and e["layer_type"] != "Input"]
    doc = {"schema_version": 1, "name": net.name or Path(source).stem,
           "description": f"imported from the Caffe net {Path(source).name}", "layers": conv.layers,
           "outputs": outputs}
    try:
        graph = parse_graph(doc, source=source)
    except GraphError as exc:
        raise ImportFailure(source, f"the imported graph does not validate: {exc}") from None
    bad = []
    for node, shape in conv.caffe_shapes.items():
        if node in graph.shapes:
            want = _canonical(shape, conv.node_kind[node])
            got = list(graph.shapes[node].shape)
            if got != want:
                bad.append((node, got, want))
    if bad:
        node, got, want = bad[0]
        raise ImportFailure(source, f"the graph gives shape {got}, Caffe {want} (Caffe's pooling rounding or padding "
                                    "has no vocabulary equivalent here)", node=node,
                            operator=conv.index[node]["layer_type"])
    arrays = None
    model = Path(weights) if weights else Path(source).with_suffix(".caffemodel")
    if model.exists():
        from ..emit.caffe.schema import message_class
        wnet = message_class("NetParameter").FromString(model.read_bytes())
        blobs = {l.name: _blobs(l) for l in list(wnet.layer) + list(wnet.layers) if len(l.blobs)}
        params = _torch_params(graph, conv, blobs, str(model))
        _conv_weight_fix(graph, params)
        try:
            arrays = canonical_from_target(graph, "pytorch", params)
        except (KeyError, ValueError) as exc:
            raise ImportFailure(str(model), f"weights do not fit the net: {exc}") from None
        notes.append(f"weights from {model.name}: {len(arrays)} arrays")
    elif weights:
        raise ImportFailure(str(weights), "weights file not found")
    return Imported(doc=doc, weights=arrays, notes=notes)
