"""Keras 3 models (``.keras`` files and ``model.to_json()`` documents) into the graph.

The model's functional configuration is walked layer by layer (``get_config()``: each layer's
class, its settings and the tensors it was called on); nested functional and sequential models
are flattened into the graph with their layers named ``<model>/<layer>``.  Every Keras class maps
onto a vocabulary type (:data:`SIMPLE` and the ``_map_*`` functions); one the vocabulary cannot
express is an :class:`ImportFailure` naming the layer and its class (``Lambda`` layers always:
their code is not data).  A ``.keras`` file's weights go into the canonical layout (Keras' own,
keyed ``<layer id>/<weight name>``), checked against the shapes the vocabulary expects; a JSON
document has no weights.

Some Keras layers become two graph layers (SeparableConv2D: depthwise then pointwise 1x1;
``GlobalAveragePooling2D(keepdims=True)``: the pool and a Reshape to 1x1), and the arithmetic
Keras records between layers (``x + 3.0``, ``x * (1 / 6)`` in MobileNetV3's hard sigmoid)
becomes Rescaling.  ``Normalization`` (per-channel mean and variance) is a 1x1 DepthwiseConv2D with
kernel 1/sqrt(variance) and bias -mean/sqrt(variance), exactly Keras' arithmetic at inference.
"""
from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np

from . import ImportFailure, Imported

ACTIVATIONS = {
    None: "linear", "linear": "linear", "relu": "relu", "relu6": "relu6", "sigmoid": "sigmoid", "tanh": "tanh",
    "softmax": "softmax", "elu": "elu", "swish": "swish", "silu": "swish", "gelu": "gelu",
    "hard_swish": "hard_swish", "hard_silu": "hard_swish", "hard_sigmoid": "hard_sigmoid", "mish": "mish",
    "leaky_relu": "leaky_relu",
}

CONTAINERS = ("Functional", "Sequential", "Model")


class _Importer:
    def __init__(self, source: str, model=None):
        self.source = source
        self.model = model                 # the live Keras model (weights), or None for a JSON document
        self.layers: list[dict] = []
        self.weights: dict[str, dict[str, np.ndarray]] = {}     # graph node name -> weight name -> array
        self.notes: list[str] = []
        self.names: set[str] = set()

    # ------------------------------------------------------------ helpers
    def fail(self, name: str, cls: str, message: str):
        raise ImportFailure(self.source, message, node=name, operator=cls)

    def add(self, ltype: str, name: str, params: dict, inputs: list[str]) -> str:
        base, k = name, 2
        while name in self.names:
            name, k = f"{base}_{k}", k + 1
        self.names.add(name)
        self.layers.append({"layer_type": ltype, "layer_name": name, "layer_params": params, "from_layers": inputs})
        return name

    def activation(self, name: str, cls: str, value) -> str:
        if isinstance(value, dict):
            value = value.get("config", {}).get("name") if value.get("class_name") == "function" else \
                value.get("config", value.get("class_name"))
            if isinstance(value, dict):
                value = value.get("name")
        if value not in ACTIVATIONS:
            self.fail(name, cls, f"activation '{value}' has no vocabulary entry")
        return ACTIVATIONS[value]

    # ------------------------------------------------------------ the walk
    def walk(self, config: dict, prefix: str, inputs: list[str] | None, keras_model, cls: str = "Functional") -> list[str]:
        """Add a (nested) model's layers; `inputs` are the graph names its inputs are fed from (None
        at the top: its InputLayers become Input nodes).  Returns the graph names of its outputs."""
        if cls == "Sequential" or "input_layers" not in config:
            return self.walk_sequential(config, prefix, inputs, keras_model)
        tensors: dict[tuple, list[str]] = {}       # (keras layer, node index) -> graph names of its outputs
        input_names = [t[0] for t in _as_list_of_refs(config.get("input_layers"))]
        for spec in config["layers"]:
            lname, lcls = spec.get("name") or spec["config"]["name"], spec["class_name"]
            if lcls == "InputLayer":
                if inputs is None:
                    tensors[(lname, 0)] = [self.input_layer(spec, prefix)]
                else:
                    if lname not in input_names:
                        self.fail(prefix + lname, lcls, "an input of a nested model that is not one of its inputs")
                    tensors[(lname, 0)] = [inputs[input_names.index(lname)]]
                continue
            for node_index, node in enumerate(spec.get("inbound_nodes") or []):
                args = _tensor_args(node)
                srcs = [tensors[(h[0], h[1])][h[2]] if (h[0], h[1]) in tensors else
                        self.fail(prefix + lname, lcls, f"input '{h[0]}' not seen before it") for h in args["refs"]]
                name = prefix + lname + (f"_call{node_index + 1}" if node_index else "")
                if node_index:
                    self.notes.append(f"{prefix + lname}: shared layer called {node_index + 1} times; "
                                      "the graph has no weight sharing, so each call is a layer with a copy of the weights")
                tensors[(lname, node_index)] = self.layer(spec, name, srcs, args, keras_model)
        return [tensors[(h[0], h[1])][h[2]] for h in _as_list_of_refs(config.get("output_layers"))]

    def walk_sequential(self, config: dict, prefix: str, inputs: list[str] | None, keras_model) -> list[str]:
        current = inputs
        for spec in config["layers"]:
            lname, lcls = spec.get("name") or spec["config"]["name"], spec["class_name"]
            if lcls == "InputLayer":
                if current is None:
                    current = [self.input_layer(spec, prefix)]
                continue
            if current is None:
                shape = spec["config"].get("batch_shape") or spec.get("build_config", {}).get("input_shape")
                if not shape:
                    self.fail(prefix + lname, lcls, "a Sequential model without an input shape")
                current = [self.add("Input", prefix + "input", _input_params(shape, spec["config"].get("dtype")), [])]
            current = self.layer(spec, prefix + lname, current, {"refs": [], "consts": [], "kwargs": {}}, keras_model)
        return current

    def input_layer(self, spec: dict, prefix: str) -> str:
        c = spec["config"]
        shape = c.get("batch_shape") or c.get("batch_input_shape")
        if shape is None or any(s is None for s in shape[1:]):
            self.fail(prefix + c["name"], "InputLayer", f"input shape {shape} has free dimensions; give a fixed shape")
        return self.add("Input", prefix + c["name"], _input_params(shape, c.get("dtype")), [])

    def keras_layer(self, keras_model, lname: str):
        if keras_model is None:
            return None
        try:
            return keras_model.get_layer(lname)
        except ValueError:
            return None

    def take(self, node: str, names: list[str], layer, cls: str, keep=None):
        """Keep a Keras layer's weights under `names` (in get_weights() order) for graph node `node`."""
        if layer is None:
            return
        values = layer.get_weights()
        if len(values) != len(names):
            self.fail(node, cls, f"has {len(values)} weights, expected {len(names)} ({', '.join(names)})")
        self.weights[node] = {n: np.asarray(v, dtype=np.float32) for n, v in zip(names, values)
                              if keep is None or n in keep}

    # ------------------------------------------------------------ one layer
    def layer(self, spec: dict, name: str, srcs: list[str], args: dict, keras_model) -> list[str]:
        cls, c = spec["class_name"], spec.get("config", {})
        module = spec.get("module") or ""
        kl = self.keras_layer(keras_model, spec.get("name") or c.get("name"))
        if module.startswith("keras.src.ops") or module.startswith("keras.ops"):
            return [self.operation(cls, name, srcs, args)]
        if cls in CONTAINERS:
            inner = c if "layers" in c else c.get("config", c)
            return self.walk(inner, name + "/", srcs, kl, cls)
        if cls in ("Lambda", "TFOpLambda", "SlicingOpLambda"):
            self.fail(name, cls, "Lambda layers hold Python code, not a layer the vocabulary can express")
        if c.get("data_format") not in (None, "channels_last"):
            self.fail(name, cls, f"data_format {c.get('data_format')}: only channels_last is imported")
        handler = getattr(self, f"_map_{cls}", None)
        if handler is None:
            self.fail(name, cls, "this Keras layer has no vocabulary entry")
        out = handler(name, c, srcs, kl, args)
        return out if isinstance(out, list) else [out]

    def operation(self, cls: str, name: str, srcs: list[str], args: dict) -> str:
        consts = args["consts"]
        if cls in ("Add", "Multiply", "Subtract", "Divide", "TrueDivide") and len(srcs) == 1 and len(consts) == 1 \
                and isinstance(consts[0], (int, float)):
            c = float(consts[0])
            if cls == "Add":
                return self.add("Rescaling", name, {"scale": 1.0, "offset": c}, srcs)
            if cls == "Subtract" and args.get("const_first"):
                return self.add("Rescaling", name, {"scale": -1.0, "offset": c}, srcs)
            if cls == "Subtract":
                return self.add("Rescaling", name, {"scale": 1.0, "offset": -c}, srcs)
            if cls == "Multiply":
                return self.add("Rescaling", name, {"scale": c}, srcs)
            if not args.get("const_first") and c != 0:
                return self.add("Rescaling", name, {"scale": 1.0 / c}, srcs)
        if cls in ("Add", "Multiply", "Subtract") and len(srcs) == 2 and not consts:
            return self.add(cls, name, {}, srcs)
        self.fail(name, f"keras.ops.{cls}", "this operation has no vocabulary entry")

    # ------------------------------------------------------------ the mappings
    def _conv_common(self, name, c, cls):
        if c.get("padding") not in ("valid", "same"):
            self.fail(name, cls, f"padding '{c.get('padding')}' (only valid and same)")
        return {"kernel_size": list(c["kernel_size"]), "strides": list(c["strides"]), "padding": c["padding"]}

    def _map_Conv2D(self, name, c, srcs, kl, args):
        p = {"filters": c["filters"], **self._conv_common(name, c, "Conv2D"),
             "dilation_rate": list(c.get("dilation_rate", [1, 1])), "groups": c.get("groups", 1),
             "activation": self.activation(name, "Conv2D", c.get("activation")), "use_bias": c.get("use_bias", True)}
        self.take(name, ["kernel", "bias"][: 1 + p["use_bias"]], kl, "Conv2D")
        return self.add("Conv2D", name, p, srcs)

    def _map_Conv1D(self, name, c, srcs, kl, args):
        if c.get("padding") not in ("valid", "same", "causal"):
            self.fail(name, "Conv1D", f"padding '{c.get('padding')}'")
        if c.get("groups", 1) != 1:
            self.fail(name, "Conv1D", "groups > 1 (the vocabulary's Conv1D has no groups)")
        if c.get("padding") == "causal":
            self.fail(name, "Conv1D", "causal padding has no vocabulary entry")
        p = {"filters": c["filters"], "kernel_size": c["kernel_size"][0], "strides": c["strides"][0],
             "padding": c["padding"], "dilation_rate": c.get("dilation_rate", [1])[0],
             "activation": self.activation(name, "Conv1D", c.get("activation")), "use_bias": c.get("use_bias", True)}
        self.take(name, ["kernel", "bias"][: 1 + p["use_bias"]], kl, "Conv1D")
        return self.add("Conv1D", name, p, srcs)

    def _map_DepthwiseConv2D(self, name, c, srcs, kl, args):
        if list(c.get("dilation_rate", [1, 1])) != [1, 1]:
            self.fail(name, "DepthwiseConv2D", "dilation_rate > 1 (the vocabulary's DepthwiseConv2D has none)")
        p = {**self._conv_common(name, c, "DepthwiseConv2D"), "depth_multiplier": c.get("depth_multiplier", 1),
             "activation": self.activation(name, "DepthwiseConv2D", c.get("activation")),
             "use_bias": c.get("use_bias", True)}
        self.take(name, ["depthwise_kernel", "bias"][: 1 + p["use_bias"]], kl, "DepthwiseConv2D")
        return self.add("DepthwiseConv2D", name, p, srcs)

    def _map_SeparableConv2D(self, name, c, srcs, kl, args):
        if list(c.get("dilation_rate", [1, 1])) != [1, 1]:
            self.fail(name, "SeparableConv2D", "dilation_rate > 1")
        use_bias = c.get("use_bias", True)
        dw = self.add("DepthwiseConv2D", name + "/depthwise",
                      {**self._conv_common(name, c, "SeparableConv2D"), "depth_multiplier": c.get("depth_multiplier", 1),
                       "use_bias": False}, srcs)
        if kl is not None:
            values = kl.get_weights()
            self.weights[dw] = {"depthwise_kernel": np.asarray(values[0], np.float32)}
            self.weights[name] = {"kernel": np.asarray(values[1], np.float32),
                                  **({"bias": np.asarray(values[2], np.float32)} if use_bias else {})}
        self.notes.append(f"{name}: SeparableConv2D as DepthwiseConv2D '{dw}' then a 1x1 Conv2D")
        return self.add("Conv2D", name, {"filters": c["filters"], "kernel_size": [1, 1],
                                         "activation": self.activation(name, "SeparableConv2D", c.get("activation")),
                                         "use_bias": use_bias}, [dw])

    def _map_Conv2DTranspose(self, name, c, srcs, kl, args):
        if c.get("output_padding") not in (None, [0, 0], (0, 0)) or list(c.get("dilation_rate", [1, 1])) != [1, 1]:
            self.fail(name, "Conv2DTranspose", "output_padding or dilation has no vocabulary entry")
        p = {"filters": c["filters"], **self._conv_common(name, c, "Conv2DTranspose"),
             "activation": self.activation(name, "Conv2DTranspose", c.get("activation")), "use_bias": c.get("use_bias", True)}
        self.take(name, ["kernel", "bias"][: 1 + p["use_bias"]], kl, "Conv2DTranspose")
        return self.add("Conv2DTranspose", name, p, srcs)

    def _map_Dense(self, name, c, srcs, kl, args):
        p = {"units": c["units"], "activation": self.activation(name, "Dense", c.get("activation")),
             "use_bias": c.get("use_bias", True)}
        self.take(name, ["kernel", "bias"][: 1 + p["use_bias"]], kl, "Dense")
        return self.add("Dense", name, p, srcs)

    def _map_BatchNormalization(self, name, c, srcs, kl, args):
        axis = c.get("axis", -1)
        axis = axis[0] if isinstance(axis, (list, tuple)) and len(axis) == 1 else axis
        if axis != -1 and not (isinstance(axis, int) and axis == len(args.get("shape") or [0, 0]) - 1):
            self.fail(name, "BatchNormalization", f"axis {axis}: only the last (channels) axis")
        if c.get("renorm") or c.get("synchronized"):
            self.fail(name, "BatchNormalization", "batch renormalisation / synchronized has no vocabulary entry")
        p = {"epsilon": c.get("epsilon", 1e-3), "momentum": c.get("momentum", 0.99),
             "center": c.get("center", True), "scale": c.get("scale", True)}
        names = (["gamma"] if p["scale"] else []) + (["beta"] if p["center"] else []) + ["moving_mean", "moving_variance"]
        self.take(name, names, kl, "BatchNormalization")
        return self.add("BatchNorm", name, p, srcs)

    def _map_LayerNormalization(self, name, c, srcs, kl, args):
        axis = c.get("axis", -1)
        axis = axis[0] if isinstance(axis, (list, tuple)) and len(axis) == 1 else axis
        if axis != -1 and axis != len(args.get("shape") or [0, 0]) - 1:
            self.fail(name, "LayerNormalization", f"axis {axis}: only the last axis")
        if not (c.get("center", True) and c.get("scale", True)) or c.get("rms_scaling"):
            self.fail(name, "LayerNormalization", "without center/scale or with rms_scaling has no vocabulary entry")
        self.take(name, ["gamma", "beta"], kl, "LayerNormalization")
        return self.add("LayerNorm", name, {"epsilon": max(c.get("epsilon", 1e-3), 1e-12)}, srcs)

    def _map_Activation(self, name, c, srcs, kl, args):
        return self.add("Activation", name, {"function": self.activation(name, "Activation", c.get("activation"))}, srcs)

    def _map_ReLU(self, name, c, srcs, kl, args):
        mv, slope, thr = c.get("max_value"), c.get("negative_slope", 0.0) or 0.0, c.get("threshold", 0.0) or 0.0
        if slope or thr or mv not in (None, 6, 6.0):
            self.fail(name, "ReLU", f"max_value {mv}, negative_slope {slope}, threshold {thr}: only relu and relu6")
        return self.add("Activation", name, {"function": "relu6" if mv else "relu"}, srcs)

    def _map_Softmax(self, name, c, srcs, kl, args):
        if c.get("axis", -1) not in (-1, [-1]):
            self.fail(name, "Softmax", f"axis {c.get('axis')}: only the last axis")
        return self.add("Activation", name, {"function": "softmax"}, srcs)

    def _map_LeakyReLU(self, name, c, srcs, kl, args):
        slope = c.get("negative_slope", c.get("alpha", 0.3))
        if abs(slope - 0.2) > 1e-9:
            self.fail(name, "LeakyReLU", f"negative_slope {slope}: the vocabulary's leaky_relu has slope 0.2")
        return self.add("Activation", name, {"function": "leaky_relu"}, srcs)

    def _map_ELU(self, name, c, srcs, kl, args):
        if c.get("alpha", 1.0) != 1.0:
            self.fail(name, "ELU", "alpha other than 1")
        return self.add("Activation", name, {"function": "elu"}, srcs)

    def _map_PReLU(self, name, c, srcs, kl, args):
        self.take(name, ["alpha"], kl, "PReLU")
        if kl is not None:
            a = self.weights[name]["alpha"]
            want = {4: (1, 1, a.shape[-1]), 3: (1, a.shape[-1]), 2: (a.shape[-1],)}.get(len(args.get("shape") or []))
            if want is None or a.size != a.shape[-1]:
                self.fail(name, "PReLU", "a slope per position (shared_axes other than the spatial ones)")
            self.weights[name]["alpha"] = a.reshape(want)
        return self.add("PReLU", name, {}, srcs)

    def _pool(self, ltype, cls, name, c, srcs):
        if c.get("padding") not in ("valid", "same"):
            self.fail(name, cls, f"padding '{c.get('padding')}'")
        return self.add(ltype, name, {"pool_size": list(c["pool_size"]),
                                      "strides": list(c.get("strides") or c["pool_size"]), "padding": c["padding"]}, srcs)

    def _map_MaxPooling2D(self, name, c, srcs, kl, args):
        return self._pool("MaxPool2D", "MaxPooling2D", name, c, srcs)

    def _map_AveragePooling2D(self, name, c, srcs, kl, args):
        return self._pool("AvgPool2D", "AveragePooling2D", name, c, srcs)

    def _global(self, ltype, name, c, srcs, args):
        if not c.get("keepdims"):
            return self.add(ltype, name, {}, srcs)
        pooled = self.add(ltype, name + "/pool", {}, srcs)
        channels = (args.get("shape") or [None])[-1]
        self.notes.append(f"{name}: keepdims as {ltype} then Reshape to 1x1")
        return self.add("Reshape", name, {"target_shape": [1, 1, channels]}, [pooled])

    def _map_GlobalAveragePooling2D(self, name, c, srcs, kl, args):
        return self._global("GlobalAvgPool2D", name, c, srcs, args)

    def _map_GlobalMaxPooling2D(self, name, c, srcs, kl, args):
        return self._global("GlobalMaxPool2D", name, c, srcs, args)

    def _quad(self, value):
        (t, b), (l, r) = value if isinstance(value[0], (list, tuple)) else ((value[0], value[0]), (value[1], value[1]))
        return [t, b, l, r]

    def _map_ZeroPadding2D(self, name, c, srcs, kl, args):
        return self.add("ZeroPadding2D", name, {"padding": self._quad(c["padding"])}, srcs)

    def _map_Cropping2D(self, name, c, srcs, kl, args):
        return self.add("Cropping2D", name, {"cropping": self._quad(c["cropping"])}, srcs)

    def _map_UpSampling2D(self, name, c, srcs, kl, args):
        if c.get("interpolation", "nearest") != "nearest":
            self.fail(name, "UpSampling2D", f"interpolation '{c.get('interpolation')}': only nearest")
        return self.add("UpSampling2D", name, {"size": list(c["size"])}, srcs)

    def _merge(self, ltype, cls, name, srcs):
        if len(srcs) < 2:
            self.fail(name, cls, "a merge of fewer than two tensors")
        return self.add(ltype, name, {}, srcs)

    def _map_Add(self, name, c, srcs, kl, args):
        return self._merge("Add", "Add", name, srcs)

    def _map_Multiply(self, name, c, srcs, kl, args):
        return self._merge("Multiply", "Multiply", name, srcs)

    def _map_Subtract(self, name, c, srcs, kl, args):
        return self._merge("Subtract", "Subtract", name, srcs)

    def _map_Concatenate(self, name, c, srcs, kl, args):
        rank = len(args.get("shape") or [])
        if c.get("axis", -1) != -1 and c.get("axis") != rank - 1:
            self.fail(name, "Concatenate", f"axis {c.get('axis')}: only the last axis")
        return self.add("Concat", name, {}, srcs)

    def _map_Reshape(self, name, c, srcs, kl, args):
        target = list(c["target_shape"])
        if -1 in target:
            known = math.prod(t for t in target if t != -1)
            size = math.prod((args.get("shape") or [None, 0])[1:])
            target[target.index(-1)] = size // known
        return self.add("Reshape", name, {"target_shape": target}, srcs)

    def _map_Flatten(self, name, c, srcs, kl, args):
        return self.add("Flatten", name, {}, srcs)

    def _map_Permute(self, name, c, srcs, kl, args):
        return self.add("Permute", name, {"dims": list(c["dims"])}, srcs)

    def _map_Dropout(self, name, c, srcs, kl, args):
        if c.get("noise_shape"):
            self.notes.append(f"{name}: Dropout noise_shape {c['noise_shape']} dropped (identity at inference)")
        return self.add("Dropout", name, {"rate": c.get("rate", 0.5)}, srcs)

    _map_SpatialDropout2D = _map_Dropout

    def _map_Rescaling(self, name, c, srcs, kl, args):
        scale, offset = c.get("scale", 1.0), c.get("offset", 0.0)
        if isinstance(scale, (int, float)) and isinstance(offset, (int, float)):
            return self.add("Rescaling", name, {"scale": float(scale), "offset": float(offset)}, srcs)
        channels = (args.get("shape") or [None])[-1]
        s = np.broadcast_to(np.asarray(scale, np.float32).reshape(-1), (channels,))
        o = np.broadcast_to(np.asarray(offset, np.float32).reshape(-1), (channels,))
        return self._per_channel(name, "Rescaling", s, o, srcs, args)

    def _map_Normalization(self, name, c, srcs, kl, args):
        if c.get("invert"):
            self.fail(name, "Normalization", "invert=True has no vocabulary entry")
        axis = c.get("axis", -1)
        axis = tuple(axis) if isinstance(axis, (list, tuple)) else (axis,)
        rank = len(args.get("shape") or [])
        if axis not in ((-1,), (rank - 1,)):
            self.fail(name, "Normalization", f"axis {axis}: only per channel (the last axis)")
        channels = (args.get("shape") or [None])[-1]
        if kl is not None:
            mean = np.asarray(kl.mean, np.float64).reshape(-1)
            var = np.asarray(kl.variance, np.float64).reshape(-1)
        elif c.get("mean") is not None:
            mean, var = np.asarray(c["mean"], np.float64).reshape(-1), np.asarray(c["variance"], np.float64).reshape(-1)
        else:
            mean, var = np.zeros(channels), np.ones(channels)
        mean, var = np.broadcast_to(mean, (channels,)), np.broadcast_to(var, (channels,))
        # Keras: (x - mean) / max(sqrt(variance), epsilon())
        std = np.maximum(np.sqrt(var), 1e-7)
        return self._per_channel(name, "Normalization", (1.0 / std), (-mean / std), srcs, args)

    def _per_channel(self, name, cls, scale, offset, srcs, args):
        """x * scale + offset per channel of an image: a 1x1 DepthwiseConv2D (exact at inference)."""
        if len(args.get("shape") or []) != 4:
            self.fail(name, cls, "a per-channel scale on a tensor other than an image has no vocabulary entry")
        self.weights[name] = {"depthwise_kernel": np.asarray(scale, np.float32).reshape(1, 1, -1, 1),
                              "bias": np.asarray(offset, np.float32).reshape(-1)}
        self.notes.append(f"{name}: {cls} with per-channel values as a 1x1 DepthwiseConv2D (frozen)")
        return self.add("DepthwiseConv2D", name, {"kernel_size": [1, 1], "trainable": False}, srcs)

    def _map_Embedding(self, name, c, srcs, kl, args):
        self.take(name, ["embeddings"], kl, "Embedding")
        return self.add("Embedding", name, {"input_dim": c["input_dim"], "output_dim": c["output_dim"]}, srcs)

    def _recurrent_params(self, name, cls, c):
        if c.get("go_backwards") or c.get("return_state") or c.get("stateful"):
            self.fail(name, cls, "go_backwards / return_state / stateful have no vocabulary entry")
        if c.get("activation", "tanh") != "tanh" or (cls != "SimpleRNN" and c.get("recurrent_activation", "sigmoid") != "sigmoid"):
            self.fail(name, cls, "activations other than tanh/sigmoid")
        if not c.get("use_bias", True):
            self.fail(name, cls, "use_bias=False (the vocabulary's recurrent layers have a bias)")
        if cls == "GRU" and not c.get("reset_after", True):
            self.fail(name, cls, "reset_after=False (the vocabulary's GRU applies the reset after the product)")
        return {"units": c["units"], "return_sequences": bool(c.get("return_sequences"))}

    def _recurrent(self, cls, name, c, srcs, kl):
        p = self._recurrent_params(name, cls, c)
        self.take(name, ["kernel", "recurrent_kernel", "bias"], kl, cls)
        return self.add(cls, name, p, srcs)

    def _map_LSTM(self, name, c, srcs, kl, args):
        return self._recurrent("LSTM", name, c, srcs, kl)

    def _map_GRU(self, name, c, srcs, kl, args):
        return self._recurrent("GRU", name, c, srcs, kl)

    def _map_SimpleRNN(self, name, c, srcs, kl, args):
        return self._recurrent("SimpleRNN", name, c, srcs, kl)

    def _map_Bidirectional(self, name, c, srcs, kl, args):
        inner = c["layer"]
        cls = inner["class_name"]
        if cls not in ("LSTM", "GRU", "SimpleRNN"):
            self.fail(name, f"Bidirectional({cls})", "only LSTM, GRU and SimpleRNN")
        if c.get("merge_mode", "concat") != "concat":
            self.fail(name, "Bidirectional", f"merge_mode '{c.get('merge_mode')}': only concat")
        back = c.get("backward_layer")
        p = self._recurrent_params(name, cls, inner["config"])
        if back and back["config"].get("units") != p["units"]:
            self.fail(name, "Bidirectional", "a backward layer of another size")
        self.take(name, ["kernel", "recurrent_kernel", "bias", "backward_kernel", "backward_recurrent_kernel",
                         "backward_bias"], kl, "Bidirectional")
        return self.add(cls, name, {**p, "bidirectional": True}, srcs)

    def _map_MultiHeadAttention(self, name, c, srcs, kl, args):
        if c.get("output_shape") or c.get("attention_axes") not in (None, [1], (1,)):
            self.fail(name, "MultiHeadAttention", "output_shape or attention_axes other than the default")
        kw = args.get("kwargs", {})
        refs = args["arg_names"]
        q, v = srcs[0], srcs[1] if len(srcs) > 1 else srcs[0]
        k = srcs[2] if len(srcs) > 2 else None
        if kw.get("attention_mask") is not None:
            self.fail(name, "MultiHeadAttention", "an attention_mask input has no vocabulary entry")
        if k is None or k == v:
            ins = [q] if q == v else [q, v]
        else:
            ins = [q, k, v]
        del refs
        p = {"num_heads": c["num_heads"], "key_dim": c["key_dim"], "value_dim": c.get("value_dim") or c["key_dim"],
             "dropout": c.get("dropout", 0.0), "causal": bool(kw.get("use_causal_mask")), "use_bias": c.get("use_bias", True)}
        names = ["query_kernel", "query_bias", "key_kernel", "key_bias", "value_kernel", "value_bias",
                 "output_kernel", "output_bias"]
        self.take(name, names if p["use_bias"] else names[0::2], kl, "MultiHeadAttention")
        return self.add("MultiHeadAttention", name, p, ins)


# ---------------------------------------------------------------- config helpers
def _as_list_of_refs(value) -> list:
    if not value:
        return []
    if isinstance(value[0], str):            # a single [name, node, tensor]
        return [value]
    return list(value)


def _tensor_args(node) -> dict:
    """The Keras tensors a call was made on (in order, lists flattened), its constants and kwargs."""
    refs, consts, shape = [], [], None
    const_first = False

    def visit(value, top: bool):
        nonlocal shape, const_first
        if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
            refs.append(value["config"]["keras_history"])
            shape = shape or value["config"].get("shape")
        elif isinstance(value, (list, tuple)) and not (len(value) == 3 and isinstance(value[0], str)):
            for v in value:
                visit(v, False)
        elif top:
            if not refs:
                const_first = True
            consts.append(value)

    if isinstance(node, dict):
        for a in node.get("args", []):
            visit(a, True)
        kwargs = node.get("kwargs", {}) or {}
        for key in ("value", "key"):                        # MultiHeadAttention(query, value=..., key=...)
            if isinstance(kwargs.get(key), dict) and kwargs[key].get("class_name") == "__keras_tensor__":
                visit(kwargs[key], False)
        kwargs = {k: v for k, v in kwargs.items() if k not in ("value", "key")}
    else:                                                   # legacy [[name, node, tensor, kwargs], ...]
        for ref in node:
            refs.append(ref[:3])
        kwargs = {}
    return {"refs": refs, "consts": consts, "kwargs": kwargs, "shape": shape, "const_first": const_first,
            "arg_names": None}


def _input_params(batch_shape, dtype) -> dict:
    if isinstance(dtype, dict):
        dtype = dtype.get("config", {}).get("name")
    p = {"shape": [int(s) for s in batch_shape[1:]]}
    if dtype and "int" in str(dtype):
        p["dtype"] = "int64"
    return p


# ---------------------------------------------------------------- entry points
def _keras():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras

    return keras


def import_model_object(model, source: str = "<keras model>", weights: bool = True) -> Imported:
    """A live Keras model into the graph (and its weights, with `weights`)."""
    config = model.get_config()
    cls = type(model).__name__
    imp = _Importer(source, model if weights else None)
    if cls == "Sequential" or "input_layers" not in config:
        outputs = imp.walk_sequential(config, "", None, imp.model)
    else:
        outputs = imp.walk(config, "", None, imp.model)
    return _finish(imp, config.get("name") or getattr(model, "name", "model"), outputs, weights)


def import_keras(path: str | Path, **options) -> Imported:
    """A ``.keras`` file (structure and weights) or a ``model.to_json()`` document (structure only)."""
    path = Path(path)
    keras = _keras()
    text_head = path.read_bytes()[:1]
    if text_head in (b"{", b"["):
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise ImportFailure(path, f"not a Keras JSON document: {exc}") from None
        if not is_keras_json(doc):
            raise ImportFailure(path, "a JSON document without Keras' class_name/config (a graph? it needs no import)")
        cls = doc["class_name"]
        config = doc["config"]
        imp = _Importer(str(path), None)
        if cls == "Sequential" or "input_layers" not in config:
            outputs = imp.walk_sequential(config, "", None, None)
        else:
            outputs = imp.walk(config, "", None, None)
        return _finish(imp, config.get("name", path.stem), outputs, False)
    try:
        model = keras.saving.load_model(str(path), compile=False, safe_mode=True)
    except Exception as exc:     # unknown custom classes, Lambda in safe mode, a broken zip
        message = str(exc).splitlines()[0][:400] if str(exc) else type(exc).__name__
        op = None
        for word in ("Lambda", "custom"):
            if word.lower() in message.lower():
                op = word
        raise ImportFailure(path, f"Keras cannot load the model: {message}", operator=op) from None
    return import_model_object(model, str(path), weights=True)


def is_keras_json(doc) -> bool:
    """A ``model.to_json()`` document: {"class_name": "Functional"|"Sequential"|..., "config": {"layers": ...}}."""
    return isinstance(doc, dict) and isinstance(doc.get("config"), dict) and "class_name" in doc \
        and "layers" in doc["config"]


def _finish(imp: _Importer, name: str, outputs: list[str], weights: bool) -> Imported:
    from ..core.errors import GraphError
    from ..core.graph import parse_graph
    from ..emit.codegen import node_contexts, node_identifiers

    safe = "".join(ch if ch.isalnum() or ch in "_-" else "_" for ch in name) or "model"
    if not safe[0].isalpha():
        safe = "m_" + safe
    doc = {"name": safe, "description": f"imported from Keras ({Path(imp.source).name})",
           "layers": imp.layers, "outputs": outputs}
    try:
        graph = parse_graph(doc, source=imp.source)
    except GraphError as exc:
        raise ImportFailure(imp.source, f"the imported graph does not validate: {exc}") from None
    canon = None
    if weights:
        ids = node_identifiers(graph)
        canon = {}
        for ctx in node_contexts(graph):
            have = imp.weights.get(ctx["name"], {})
            for w in ctx["weights"]:
                if w["name"] not in have:
                    raise ImportFailure(imp.source, f"no weight '{w['name']}' found", node=ctx["name"], operator=ctx["type"])
                arr = have[w["name"]]
                if list(arr.shape) != list(w["shape"]):
                    raise ImportFailure(imp.source, f"weight '{w['name']}' has shape {list(arr.shape)}, "
                                        f"the vocabulary expects {list(w['shape'])}", node=ctx["name"], operator=ctx["type"])
                canon[f"{ids[ctx['name']]}/{w['name']}"] = arr
    return Imported(doc=doc, weights=canon, notes=imp.notes)
