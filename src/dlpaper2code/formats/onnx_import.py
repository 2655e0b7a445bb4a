"""ONNX import: an ONNX graph (opset 13 and later) into the library-agnostic graph and its weights.

The model is read with the ``onnx`` package; its batch axis is fixed to 1 and ONNX's shape inference
(with data propagation) gives every tensor's shape.  Constant sub-graphs are folded first: every
node whose inputs are all constants (initializers, ``Constant`` nodes, the ``Shape`` of a tensor
whose shape is static) is evaluated with ONNX's reference evaluator, so the
``Shape -> Gather -> Unsqueeze -> Concat -> Reshape`` chains of ``x.view(x.size(0), -1)`` become a
plain reshape.  The remaining nodes are matched to the vocabulary's layers:

- ``Conv`` -> Conv2D (``group`` > 1: groups; one group per input channel: DepthwiseConv2D;
  uneven padding: a ZeroPadding2D before it), an activation that only consumes it folded in;
- ``BatchNormalization`` -> BatchNorm (momentum kept: ONNX and Keras mean the same by it);
- ``Gemm`` and ``MatMul`` (+ ``Add`` of a bias vector) with a constant weight -> Dense;
- ``MaxPool`` / ``AveragePool`` (explicit, ``SAME_UPPER`` or no padding; ``ceil_mode``) ->
  MaxPool2D / AvgPool2D; ``GlobalAveragePool`` / ``GlobalMaxPool`` and ``ReduceMean`` /
  ``ReduceMax`` over the rows and columns -> GlobalAvgPool2D / GlobalMaxPool2D;
- ``Flatten`` and ``Reshape`` to one vector -> Flatten (after a global pooling: nothing);
  other reshapes of sequences and vectors -> Reshape; ``Transpose`` of a sequence -> Permute;
- ``Concat`` on the channels / features, ``Add``, ``Sub``, ``Mul`` (scalar constants:
  Rescaling), ``Softmax`` on the channels / features and the activations the vocabulary has
  (``Relu``, ``Clip`` 0..6 as relu6, ``Sigmoid``, ``Tanh``, ``Elu``, ``HardSigmoid``,
  ``HardSwish``, ``Gelu``), ``Pad`` with zeros, nearest ``Resize`` by whole factors,
  ``Gather`` of token ids from a constant table (Embedding);
- ``LayerNormalization`` (opset 17) and its decomposed form (``ReduceMean -> Sub -> Pow ->
  ReduceMean -> Add -> Sqrt -> Div [-> Mul -> Add]``, what exporters write for opsets 13 to 16)
  -> LayerNorm;
- ``Dropout`` and ``Identity`` pass their input on.

ONNX tensors are channels-first (N, C, H, W); the graph is channels-last, so the weights are
re-laid through the PyTorch template's mapping inverted (``emit.weights.canonical_from_target``):
PyTorch keeps ONNX's layouts, and that mapping already holds the transposes and the row
permutation a Dense needs after flattening a channels-first map.  Any other operator (attention's
batched ``MatMul`` of two tensors, ``Einsum``, a custom domain's operator ...) is an
:class:`ImportFailure` naming the node and the operator.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from . import ImportFailure, Imported

ACTIVATIONS = {"Relu": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh", "HardSwish": "hard_swish", "Gelu": "gelu"}
FUSABLE = ("Conv2D", "DepthwiseConv2D", "Dense")
PASS_THROUGH = ("Dropout", "Identity")


def _attrs(node) -> dict:
    from onnx import helper

    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


class _Importer:
    def __init__(self, path: str | Path):
        import onnx

        self.source = str(path)
        try:
            model = onnx.load(str(path))
        except Exception as exc:  # a file that is no ONNX protobuf
            raise ImportFailure(path, f"not an ONNX model: {exc}")
        self.opset = max((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), default=0)
        if self.opset and self.opset < 13:
            raise ImportFailure(path, f"opset {self.opset}: ONNX import reads opset 13 and later")
        init_names = {t.name for t in model.graph.initializer}
        for inp in model.graph.input:          # batch axis fixed to 1 for shape inference
            dims = inp.type.tensor_type.shape.dim
            if inp.name not in init_names and dims and not dims[0].HasField("dim_value"):
                dims[0].dim_value = 1
        try:
            model = onnx.shape_inference.infer_shapes(model, data_prop=True)
        except Exception as exc:
            raise ImportFailure(path, f"ONNX shape inference failed: {exc}")
        self.model = model
        self.graph = model.graph
        self.consts: dict[str, np.ndarray] = {t.name: onnx.numpy_helper.to_array(t) for t in self.graph.initializer}
        self.shapes: dict[str, tuple | None] = {}
        for vi in list(self.graph.value_info) + list(self.graph.input) + list(self.graph.output):
            tt = vi.type.tensor_type
            if tt.HasField("shape"):
                dims = [d.dim_value if d.HasField("dim_value") else None for d in tt.shape.dim]
                self.shapes[vi.name] = tuple(dims)
        self.layers: list[dict] = []
        self.by_name: dict[str, dict] = {}
        self.tensors: dict[str, dict] = {}      # tensor -> {"layer", "kind", "gap"}
        self.tparams: dict[str, dict[str, np.ndarray]] = {}
        self.used: set[str] = set()
        self.skip: set[int] = set()
        self.notes: list[str] = []
        self.consumers: dict[str, list] = {}
        for i, node in enumerate(self.graph.node):
            for name in node.input:
                self.consumers.setdefault(name, []).append((i, node))
        self.outputs = [o.name for o in self.graph.output]

    # ------------------------------------------------------------ helpers
    def fail(self, node, message: str):
        return ImportFailure(self.source, message, node=node.name or node.output[0], operator=node.op_type)

    def shape(self, tensor: str) -> tuple:
        if tensor in self.consts:
            return tuple(self.consts[tensor].shape)
        return self.shapes.get(tensor) or ()

    def layer_name(self, node, hint: str | None = None) -> str:
        if hint:
            base = hint
        else:
            parts = [p for p in (node.name or "").strip("/").split("/") if p]
            if len(parts) > 1 and re.fullmatch(rf"{node.op_type}(_\d+)?", parts[-1]):
                parts = parts[:-1]
            base = "_".join(parts) if parts else node.op_type.lower()
        base = re.sub(r"\W", "_", base).strip("_") or node.op_type.lower()
        if base[0].isdigit():
            base = "l_" + base
        name, k = base, 2
        while name in self.used:
            name, k = f"{base}_{k}", k + 1
        self.used.add(name)
        return name

    def add(self, node, ltype: str, params: dict, inputs: list[str], kind: str, out: str | None = None,
            hint: str | None = None, gap: bool = False) -> dict:
        name = self.layer_name(node, hint)
        layer = {"layer_type": ltype, "layer_name": name, "layer_params": params,
                 "from_layers": [self.tensors[i]["layer"] for i in inputs]}
        self.layers.append(layer)
        self.by_name[name] = layer
        self.tensors[out or node.output[0]] = {"layer": name, "kind": kind, "gap": gap}
        return layer

    def alias(self, out: str, src: str, **changes):
        self.tensors[out] = {**self.tensors[src], **changes}

    def only_consumer(self, tensor: str):
        users = self.consumers.get(tensor, [])
        if len(users) == 1 and tensor not in self.outputs:
            return users[0]
        return None

    def weight_hint(self, node) -> str | None:
        for name in node.input[1:]:
            if name in self.consts and "." in name:
                return name.rsplit(".", 1)[0]
        return None

    def const_input(self, node, index: int):
        if index < len(node.input) and node.input[index]:
            return self.consts.get(node.input[index])
        return None

    # ------------------------------------------------------------ folding
    def fold(self, node) -> bool:
        """Evaluate `node` when all its inputs are constant (or it is the Shape of a static tensor)."""
        from onnx import numpy_helper

        if node.op_type == "Constant":
            a = _attrs(node)
            if "value" in a:
                self.consts[node.output[0]] = numpy_helper.to_array(a["value"])
            else:
                key = next(iter(a))
                self.consts[node.output[0]] = np.array(a[key])
            return True
        if node.op_type == "Shape" and node.input[0] not in self.consts:
            shape = self.shape(node.input[0])
            if shape and all(d is not None for d in shape):
                a = _attrs(node)
                self.consts[node.output[0]] = np.array(shape, dtype=np.int64)[a.get("start", 0):a.get("end")]
                return True
            return False
        if node.domain not in ("", "ai.onnx") or not all(not i or i in self.consts for i in node.input):
            return False
        if not node.input:
            return False
        from onnx.reference import ReferenceEvaluator

        try:
            results = ReferenceEvaluator(node).run(None, {i: self.consts[i] for i in node.input if i})
        except Exception:
            return False
        for name, value in zip(node.output, results):
            self.consts[name] = np.asarray(value)
        return True

    # ------------------------------------------------------------ import
    def run(self) -> Imported:
        from ..core.graph import parse_graph
        from ..emit.weights import canonical_from_target

        for inp in self.graph.input:
            if inp.name in self.consts:
                continue
            self.add_input(inp)
        # constants first (a pattern's constants may come after its first node), in order: one pass
        # folds every constant sub-graph, the graph being topologically sorted
        folded = {i for i, node in enumerate(self.graph.node) if self.fold(node)}
        for i, node in enumerate(self.graph.node):
            if i not in self.skip and i not in folded:
                self.convert(i, node)
        folded = len(folded)
        if folded:
            self.notes.append(f"{folded} constant node(s) folded (shape computations, constants)")
        outputs = []
        for o in self.outputs:
            if o not in self.tensors:
                raise ImportFailure(self.source, f"graph output '{o}' is a constant, not computed from the inputs")
            outputs.append(self.tensors[o]["layer"])
        name = self.graph.name if self.graph.name not in ("", "main_graph", "torch_jit", "torch-jit-export") \
            else Path(self.source).stem
        name = re.sub(r"\W", "_", name) or "onnx_model"
        doc = {"name": name, "layers": self.layers, "outputs": outputs}
        weights = None
        if self.tparams:
            graph = parse_graph(doc, source=self.source)
            weights = canonical_from_target(graph, "pytorch", self.tparams)
        return Imported(doc=doc, weights=weights, format="onnx", notes=self.notes)

    def add_input(self, inp):
        tt = inp.type.tensor_type
        dims = [d.dim_value if d.HasField("dim_value") else None for d in tt.shape.dim][1:]
        if any(d is None for d in dims):
            raise ImportFailure(self.source, f"input '{inp.name}' has a dynamic axis besides the batch: {dims}")
        int_types = (6, 7)       # INT32, INT64
        if tt.elem_type in int_types:
            params, kind = {"shape": dims, "dtype": "int64"}, "tokens"
        elif len(dims) == 3:
            params, kind = {"shape": [dims[1], dims[2], dims[0]]}, "image"
        else:
            params, kind = {"shape": dims}, {1: "vector", 2: "sequence"}.get(len(dims), "tensor")
        name = self.layer_name(type("N", (), {"name": inp.name, "op_type": "Input"})(), inp.name)
        layer = {"layer_type": "Input", "layer_name": name, "layer_params": params, "from_layers": []}
        self.layers.append(layer)
        self.by_name[name] = layer
        self.tensors[inp.name] = {"layer": name, "kind": kind, "gap": False}

    def data_inputs(self, node) -> list[str]:
        return [i for i in node.input if i and i not in self.consts]

    def convert(self, index: int, node):
        op = node.op_type
        if node.domain not in ("", "ai.onnx"):
            raise self.fail(node, f"operator of domain '{node.domain}' has no vocabulary entry")
        handler = getattr(self, f"op_{op}", None)
        if handler is None:
            raise self.fail(node, "has no vocabulary entry (no layer of the graph computes it)")
        for i in self.data_inputs(node):
            if i not in self.tensors:
                raise self.fail(node, f"input '{i}' comes from a node that was not imported")
        handler(index, node)

    # ------------------------------------------------------------ layers
    def _padding(self, node, kernel, strides, allow_uneven: bool):
        a = _attrs(node)
        auto = a.get("auto_pad", b"NOTSET")
        auto = auto.decode() if isinstance(auto, bytes) else auto
        if auto == "SAME_UPPER":
            return "same", None
        if auto == "VALID":
            return "valid", None
        if auto not in ("NOTSET", ""):
            raise self.fail(node, f"auto_pad {auto} has no equivalent (the graph's 'same' pads the bottom/right more)")
        t, l, b, r = (list(a.get("pads", [0, 0, 0, 0])) + [0, 0, 0, 0])[:4]
        if t == b == l == r == 0:
            return "valid", None
        if t == b and l == r:
            return [int(t), int(l)], None
        if not allow_uneven:
            raise self.fail(node, f"uneven padding {[t, l, b, r]} has no equivalent for this layer")
        return "valid", [int(t), int(b), int(l), int(r)]

    def op_Conv(self, index, node):
        a = _attrs(node)
        w = self.const_input(node, 1)
        if w is None or w.ndim != 4:
            raise self.fail(node, "only 2-D convolutions with a constant weight are imported")
        x = node.input[0]
        if self.tensors[x]["kind"] != "image" or self.tensors[x]["gap"]:
            raise self.fail(node, "convolution of a tensor that is not an image")
        out_c, in_per_group, kh, kw = w.shape
        group = int(a.get("group", 1))
        in_c = in_per_group * group
        strides = [int(s) for s in a.get("strides", [1, 1])]
        dil = [int(d) for d in a.get("dilations", [1, 1])]
        padding, uneven = self._padding(node, [kh, kw], strides, True)
        hint = self.weight_hint(node)
        src = x
        if uneven:
            self.add(node, "ZeroPadding2D", {"padding": uneven}, [x], "image", out=f"{x}__pad_{index}",
                     hint=(hint or "conv") + "_pad")
            src = f"{x}__pad_{index}"
        b = self.const_input(node, 2)
        if group == in_c and group > 1:
            ltype = "DepthwiseConv2D"
            params = {"kernel_size": [kh, kw], "strides": strides, "padding": padding,
                      "depth_multiplier": out_c // in_c, "use_bias": b is not None}
            if dil != [1, 1]:
                raise self.fail(node, "dilated depthwise convolution has no vocabulary parameter")
        else:
            ltype = "Conv2D"
            params = {"filters": int(out_c), "kernel_size": [kh, kw], "strides": strides, "padding": padding,
                      "dilation_rate": dil, "use_bias": b is not None}
            if group > 1:
                params["groups"] = group
        layer = self.add(node, ltype, params, [src], "image", hint=hint)
        self.tparams[layer["layer_name"]] = {"weight": w.astype(np.float32),
                                             **({"bias": b.astype(np.float32)} if b is not None else {})}

    def op_BatchNormalization(self, index, node):
        a = _attrs(node)
        x = node.input[0]
        kind = self.tensors[x]["kind"]
        if kind not in ("image", "vector") or self.tensors[x]["gap"]:
            raise self.fail(node, f"BatchNorm over the channel axis of a {kind} (ONNX's axis 1) has no equivalent")
        scale, bias, mean, var = (self.const_input(node, i) for i in (1, 2, 3, 4))
        if any(v is None for v in (scale, bias, mean, var)):
            raise self.fail(node, "BatchNormalization with non-constant parameters")
        layer = self.add(node, "BatchNorm", {"epsilon": float(a.get("epsilon", 1e-5)),
                                             "momentum": round(float(a.get("momentum", 0.9)), 6)},
                         [x], kind, hint=self.weight_hint(node))
        self.tparams[layer["layer_name"]] = {"weight": scale, "bias": bias, "running_mean": mean, "running_var": var}

    def _dense(self, node, x, weight_t: np.ndarray, bias: np.ndarray | None, out: str, hint=None):
        kind = self.tensors[x]["kind"]
        if kind not in ("vector", "sequence") and not self.tensors[x]["gap"]:
            raise self.fail(node, f"a fully connected layer on a {kind}")
        units = int(weight_t.shape[0])
        layer = self.add(node, "Dense", {"units": units, "use_bias": bias is not None}, [x],
                         "vector" if self.tensors[x]["gap"] else kind, out=out, hint=hint)
        self.tparams[layer["layer_name"]] = {"weight": np.ascontiguousarray(weight_t, dtype=np.float32),
                                             **({"bias": np.broadcast_to(bias, (units,)).astype(np.float32)}
                                                if bias is not None else {})}

    def op_Gemm(self, index, node):
        a = _attrs(node)
        b = self.const_input(node, 1)
        if b is None or a.get("transA", 0) or node.input[0] in self.consts:
            raise self.fail(node, "only x @ W (+ c) with a constant W is a Dense layer")
        alpha, beta = float(a.get("alpha", 1.0)), float(a.get("beta", 1.0))
        w = (b if a.get("transB", 0) else b.T) * alpha
        c = self.const_input(node, 2)
        self._dense(node, node.input[0], w, None if c is None else c * beta, node.output[0], self.weight_hint(node))

    def op_MatMul(self, index, node):
        b = self.const_input(node, 1)
        if b is None or b.ndim != 2 or node.input[0] in self.consts:
            raise self.fail(node, "a product of two computed tensors (attention's scores) has no vocabulary entry")
        out, bias = node.output[0], None
        user = self.only_consumer(out)
        if user and user[1].op_type == "Add":
            other = [i for i in user[1].input if i != out]
            if len(other) == 1 and other[0] in self.consts and self.consts[other[0]].size == b.shape[1]:
                bias = self.consts[other[0]].reshape(-1)
                out = user[1].output[0]
                self.skip.add(user[0])
        self._dense(node, node.input[0], b.T, bias, out, self.weight_hint(node))

    def _activation(self, node, fn: str):
        x = node.input[0]
        src = self.tensors[x]
        layer = self.by_name.get(src["layer"])
        if (layer and layer["layer_type"] in FUSABLE and layer["layer_params"].get("activation", "linear") == "linear"
                and self.only_consumer(x) is not None):
            layer["layer_params"]["activation"] = fn
            self.alias(node.output[0], x)
            return
        self.add(node, "Activation", {"function": fn}, [x], src["kind"], gap=src["gap"])

    def op_Relu(self, index, node):
        self._activation(node, "relu")

    op_Sigmoid = op_Tanh = op_HardSwish = op_Gelu = lambda self, index, node: self._activation(node, ACTIVATIONS[node.op_type])

    def op_Elu(self, index, node):
        if abs(float(_attrs(node).get("alpha", 1.0)) - 1.0) > 1e-6:
            raise self.fail(node, "Elu with alpha other than 1 has no vocabulary entry")
        self._activation(node, "elu")

    def op_HardSigmoid(self, index, node):
        a = _attrs(node)
        if abs(float(a.get("alpha", 0.2)) - 1 / 6) > 1e-6 or abs(float(a.get("beta", 0.5)) - 0.5) > 1e-6:
            raise self.fail(node, "HardSigmoid other than relu6(x + 3) / 6 has no vocabulary entry")
        self._activation(node, "hard_sigmoid")

    def op_Clip(self, index, node):
        lo, hi = self.const_input(node, 1), self.const_input(node, 2)
        if lo is None or hi is None or float(lo) != 0.0 or float(hi) != 6.0:
            raise self.fail(node, "Clip other than to [0, 6] (relu6) has no vocabulary entry")
        self._activation(node, "relu6")

    def op_Softmax(self, index, node):
        x = node.input[0]
        rank = len(self.shape(x))
        axis = int(_attrs(node).get("axis", -1)) % max(rank, 1)
        kind = self.tensors[x]["kind"]
        if (kind == "image" and axis != 1) or (kind != "image" and axis != rank - 1):
            raise self.fail(node, f"softmax over axis {axis} of a {kind} (the graph's softmax is over channels / features)")
        self._activation(node, "softmax")

    def _pool(self, node, ltype: str):
        a = _attrs(node)
        x = node.input[0]
        if self.tensors[x]["kind"] != "image":
            raise self.fail(node, "pooling of a tensor that is not an image")
        kernel = [int(k) for k in a["kernel_shape"]]
        strides = [int(s) for s in a.get("strides", [1, 1])]
        if list(a.get("dilations", [1, 1])) != [1, 1]:
            raise self.fail(node, "dilated pooling has no vocabulary parameter")
        padding, _ = self._padding(node, kernel, strides, False)
        if ltype == "AvgPool2D" and isinstance(padding, list) and not a.get("count_include_pad", 0):
            raise self.fail(node, "average pooling with explicit padding that does not count the padded zeros "
                                  "(the graph's explicit padding counts them, as PyTorch and Caffe do)")
        params = {"pool_size": kernel, "strides": strides, "padding": padding}
        if a.get("ceil_mode", 0):
            params["ceil_mode"] = True
        self.add(node, ltype, params, [x], "image")

    def op_MaxPool(self, index, node):
        if len(node.output) > 1 and node.output[1]:
            raise self.fail(node, "MaxPool's indices output has no vocabulary entry")
        self._pool(node, "MaxPool2D")

    def op_AveragePool(self, index, node):
        self._pool(node, "AvgPool2D")

    def _global(self, node, ltype: str, keepdims: bool):
        x = node.input[0]
        if self.tensors[x]["kind"] != "image" or self.tensors[x]["gap"]:
            raise self.fail(node, "global pooling of a tensor that is not an image")
        self.add(node, ltype, {}, [x], "vector", gap=keepdims)

    def op_GlobalAveragePool(self, index, node):
        self._global(node, "GlobalAvgPool2D", True)

    def op_GlobalMaxPool(self, index, node):
        self._global(node, "GlobalMaxPool2D", True)

    def _reduce_axes(self, node):
        a = _attrs(node)
        axes = a.get("axes")
        if axes is None and len(node.input) > 1:
            axes = self.const_input(node, 1)
        rank = len(self.shape(node.input[0]))
        return sorted(int(x) % rank for x in (axes if axes is not None else range(rank))), bool(a.get("keepdims", 1))

    def op_ReduceMean(self, index, node):
        axes, keep = self._reduce_axes(node)
        if axes == [2, 3] and self.tensors[node.input[0]]["kind"] == "image":
            return self._global(node, "GlobalAvgPool2D", keep)
        if self._layer_norm(index, node):
            return
        raise self.fail(node, f"a mean over axes {axes} that is neither a global pooling nor a layer normalisation")

    def op_ReduceMax(self, index, node):
        axes, keep = self._reduce_axes(node)
        if axes == [2, 3] and self.tensors[node.input[0]]["kind"] == "image":
            return self._global(node, "GlobalMaxPool2D", keep)
        raise self.fail(node, f"a maximum over axes {axes} that is not a global pooling")

    def _flatten_to_vector(self, node, x):
        info = self.tensors[x]
        if info["gap"] or info["kind"] == "vector":
            self.alias(node.output[0], x, gap=False, kind="vector")
        else:
            self.add(node, "Flatten", {}, [x], "vector")

    def op_Flatten(self, index, node):
        if int(_attrs(node).get("axis", 1)) != 1:
            raise self.fail(node, "flattening from an axis other than 1 (the batch) has no vocabulary entry")
        self._flatten_to_vector(node, node.input[0])

    def op_Reshape(self, index, node):
        x = node.input[0]
        target = self.const_input(node, 1)
        if target is None:
            raise self.fail(node, "a reshape to a computed shape (not foldable to constants)")
        out_shape = self.shape(node.output[0])
        in_shape = self.shape(x)
        if (not out_shape or None in out_shape) and in_shape and None not in in_shape:
            dims = [in_shape[i] if int(d) == 0 else int(d) for i, d in enumerate(target.reshape(-1))]
            if -1 in dims:
                known = int(np.prod([d for d in dims if d != -1]))
                dims[dims.index(-1)] = int(np.prod(in_shape)) // max(known, 1)
            out_shape = tuple(dims)
        if not out_shape or any(d is None for d in out_shape):
            raise self.fail(node, f"a reshape whose result shape is unknown (target {target.tolist()})")
        per_sample = [int(d) for d in out_shape[1:]]
        info = self.tensors[x]
        if len(per_sample) == 1:
            return self._flatten_to_vector(node, x)
        if info["kind"] == "image" or len(per_sample) == 3:
            raise self.fail(node, f"a reshape of a channels-first tensor to {per_sample} depends on the layout")
        kind = "sequence" if len(per_sample) == 2 else "tensor"
        self.add(node, "Reshape", {"target_shape": per_sample}, [x], kind)

    def op_Transpose(self, index, node):
        x = node.input[0]
        perm = [int(p) for p in _attrs(node).get("perm", [])]
        if self.tensors[x]["kind"] == "sequence" and perm == [0, 2, 1]:
            return self.add(node, "Permute", {"dims": [2, 1]}, [x], "sequence")
        raise self.fail(node, f"a transpose {perm} of a {self.tensors[x]['kind']} has no vocabulary entry")

    def op_Concat(self, index, node):
        ins = self.data_inputs(node)
        if len(ins) != len([i for i in node.input if i]):
            raise self.fail(node, "concatenation with a constant tensor (a class token?) has no vocabulary entry")
        rank = len(self.shape(ins[0]))
        axis = int(_attrs(node)["axis"]) % rank
        kind = self.tensors[ins[0]]["kind"]
        if (kind == "image" and axis != 1) or (kind != "image" and axis != rank - 1):
            raise self.fail(node, f"concatenation along axis {axis} of a {kind} (the graph concatenates channels / features)")
        if len(ins) == 1:
            return self.alias(node.output[0], ins[0])
        self.add(node, "Concat", {}, ins, kind)

    def _binary(self, node, ltype: str, const_fn):
        ins = [i for i in node.input if i]
        data = self.data_inputs(node)
        if len(data) == 2:
            kinds = [self.tensors[i]["kind"] for i in data]
            gap = [self.tensors[i]["gap"] for i in data]
            if ltype == "Multiply" and "image" in kinds and any(gap):
                pass        # squeeze-and-excitation: the image times a vector of channels
            elif any(gap):
                raise self.fail(node, "a broadcast against a pooled (N, C, 1, 1) tensor")
            kind = "image" if "image" in kinds else kinds[0]
            return self.add(node, ltype, {}, data, kind)
        if len(data) == 1:
            const = self.consts[[i for i in ins if i in self.consts][0]]
            if const.size == 1:
                x = data[0]
                params = const_fn(float(const.reshape(-1)[0]), ins.index(x))
                if params is not None:
                    info = self.tensors[x]
                    return self.add(node, "Rescaling", params, [x], info["kind"], gap=info["gap"])
        raise self.fail(node, f"{node.op_type} with a constant tensor (a learned bias or table?) has no vocabulary entry")

    def op_Add(self, index, node):
        self._binary(node, "Add", lambda c, pos: {"scale": 1.0, "offset": c})

    def op_Sub(self, index, node):
        self._binary(node, "Subtract", lambda c, pos: {"scale": 1.0, "offset": -c} if pos == 0 else {"scale": -1.0, "offset": c})

    def op_Mul(self, index, node):
        self._binary(node, "Multiply", lambda c, pos: {"scale": c})

    def op_Div(self, index, node):
        data = self.data_inputs(node)
        if len(data) == 1 and node.input[0] == data[0]:
            return self._binary(node, "Divide", lambda c, pos: {"scale": 1.0 / c} if c else None)
        raise self.fail(node, "a division by a computed tensor has no vocabulary entry")

    def _pass(self, index, node):
        self.alias(node.output[0], node.input[0])

    op_Dropout = op_Identity = _pass

    def op_Pad(self, index, node):
        a = _attrs(node)
        mode = a.get("mode", b"constant")
        mode = mode.decode() if isinstance(mode, bytes) else mode
        pads = self.const_input(node, 1)
        value = self.const_input(node, 2)
        x = node.input[0]
        if (mode != "constant" or pads is None or (value is not None and float(value) != 0.0)
                or self.tensors[x]["kind"] != "image" or len(pads) != 8 or any(pads[[0, 1, 4, 5]])):
            raise self.fail(node, "only zero padding of an image's rows and columns is a vocabulary layer")
        self.add(node, "ZeroPadding2D", {"padding": [int(pads[2]), int(pads[6]), int(pads[3]), int(pads[7])]}, [x], "image")

    def op_Resize(self, index, node):
        a = _attrs(node)
        mode = a.get("mode", b"nearest")
        mode = mode.decode() if isinstance(mode, bytes) else mode
        x = node.input[0]
        shape_in, shape_out = self.shape(x), self.shape(node.output[0])
        if mode != "nearest" or self.tensors[x]["kind"] != "image" or len(shape_out) != 4 or None in shape_out:
            raise self.fail(node, "only nearest upsampling of an image by whole factors is a vocabulary layer")
        size = [shape_out[2] // shape_in[2], shape_out[3] // shape_in[3]]
        if [shape_in[2] * size[0], shape_in[3] * size[1]] != list(shape_out[2:]):
            raise self.fail(node, f"resize from {shape_in[2:]} to {shape_out[2:]} is not by whole factors")
        self.add(node, "UpSampling2D", {"size": size}, [x], "image")

    def op_Gather(self, index, node):
        table = self.const_input(node, 0)
        ids = node.input[1]
        if table is None or table.ndim != 2 or ids in self.consts or int(_attrs(node).get("axis", 0)) != 0:
            raise self.fail(node, "only a lookup of token ids in a constant table (Embedding) is imported")
        layer = self.add(node, "Embedding", {"input_dim": int(table.shape[0]), "output_dim": int(table.shape[1])},
                         [ids], "sequence", hint=self.weight_hint(node) or node.input[0].rsplit(".", 1)[0])
        self.tparams[layer["layer_name"]] = {"weight": table.astype(np.float32)}

    def op_LayerNormalization(self, index, node):
        a = _attrs(node)
        x = node.input[0]
        rank = len(self.shape(x))
        if int(a.get("axis", -1)) % rank != rank - 1 or self.tensors[x]["kind"] == "image":
            raise self.fail(node, "layer normalisation over more than the last axis of a sequence / vector")
        scale, bias = self.const_input(node, 1), self.const_input(node, 2)
        if scale is None:
            raise self.fail(node, "LayerNormalization without a constant scale")
        bias = np.zeros_like(scale) if bias is None else bias
        layer = self.add(node, "LayerNorm", {"epsilon": float(a.get("epsilon", 1e-5))}, [x], self.tensors[x]["kind"],
                         hint=self.weight_hint(node))
        self.tparams[layer["layer_name"]] = {"weight": scale.astype(np.float32), "bias": bias.astype(np.float32)}

    def _layer_norm(self, index, node) -> bool:
        """The decomposed layer normalisation from this ReduceMean: mean -> x - mean -> ^2 -> mean ->
        + eps -> sqrt -> (x - mean) / sqrt [-> * gamma -> + beta]; True when matched and added."""
        x = node.input[0]
        rank = len(self.shape(x))
        axes, keep = self._reduce_axes(node)
        if axes != [rank - 1] or not keep or self.tensors[x]["kind"] == "image":
            return False

        def single(tensor, op):
            users = [u for u in self.consumers.get(tensor, []) if u[1].op_type == op]
            return users[0] if len(users) == 1 else None

        sub = single(node.output[0], "Sub")
        if not sub or list(sub[1].input) != [x, node.output[0]]:
            return False
        d = sub[1].output[0]
        pow_ = single(d, "Pow")
        div = single(d, "Div")
        if not pow_ or not div or self.consts.get(pow_[1].input[1], np.array(0)).item() != 2:
            return False
        mean2 = single(pow_[1].output[0], "ReduceMean")
        add = mean2 and single(mean2[1].output[0], "Add")
        eps_name = add and [i for i in add[1].input if i != mean2[1].output[0]]
        sqrt = add and single(add[1].output[0], "Sqrt")
        if not (sqrt and eps_name and eps_name[0] in self.consts and div[1].input[1] == sqrt[1].output[0]):
            return False
        chain = [sub, pow_, mean2, add, sqrt, div]
        out = div[1].output[0]
        gamma = beta = None
        mul = self.only_consumer(out)
        if mul and mul[1].op_type == "Mul":
            g = [i for i in mul[1].input if i != out]
            if g and g[0] in self.consts:
                gamma, out = self.consts[g[0]], mul[1].output[0]
                chain.append(mul)
                addb = self.only_consumer(out)
                if addb and addb[1].op_type == "Add":
                    bb = [i for i in addb[1].input if i != out]
                    if bb and bb[0] in self.consts:
                        beta, out = self.consts[bb[0]], addb[1].output[0]
                        chain.append(addb)
        width = self.shape(x)[-1]
        gamma = np.ones(width, np.float32) if gamma is None else np.broadcast_to(gamma, (width,))
        beta = np.zeros(width, np.float32) if beta is None else np.broadcast_to(beta, (width,))
        self.skip.update(i for i, _ in chain)
        eps = float(self.consts[eps_name[0]].reshape(-1)[0])
        layer = self.add(node, "LayerNorm", {"epsilon": eps}, [x], self.tensors[x]["kind"], out=out)
        self.tparams[layer["layer_name"]] = {"weight": gamma.astype(np.float32), "bias": beta.astype(np.float32)}
        self.notes.append(f"layer normalisation recognised in its decomposed form at node '{node.name}'")
        return True


def import_onnx(path: str | Path, **options) -> Imported:
    """An ONNX model file into a graph document and canonical (channels-last) weights."""
    return _Importer(path).run()
