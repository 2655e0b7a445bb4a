"""A PyTorch ``nn.Module`` into the graph, through ``torch.fx``.

MODEL is ``"package.module:Class"`` or ``"path/to/file.py:Class"``; the class is built with no
arguments, put in eval mode and traced with ``torch.fx.symbolic_trace`` (nn layers, and
subclasses of them such as the emitter's ``KerasBatchNorm2d``, stay leaves), then run once on an
example input (``input_shape``, channels last per sample: ``32,32,3`` for a 3 x 32 x 32 image) to
learn every tensor's shape.  Modules and functions map to vocabulary layers; tensors are
channels first (N, C, H, W) and sequences batch first, and the graph is channels last: a flatten
of a feature map keeps PyTorch's channel-first order through ``emit.weights.feature_permutations``,
so the weights (``state_dict``, re-laid with ``canonical_from_target``, the inverse of the
emitter's mapping) give the same outputs.  A module or function with no vocabulary equivalent is
an ``ImportFailure`` naming the fx node and the operator.
"""
from __future__ import annotations

import importlib
import importlib.util
import operator
import sys
from pathlib import Path

import numpy as np

from . import ImportFailure, Imported

ACT_PARAM_TYPES = {"Conv2D", "DepthwiseConv2D", "Conv2DTranspose", "Dense", "Conv1D"}


def _load_class(spec: str):
    if ":" not in spec:
        raise ImportFailure(spec, "give the model as 'package.module:Class' or 'path/to/file.py:Class'")
    where, cls_name = spec.rsplit(":", 1)
    try:
        if where.endswith(".py") or "/" in where:
            path = Path(where).resolve()
            if not path.exists():
                raise ImportFailure(spec, f"file {where} not found")
            mod_name = f"_dlp2c_import_{abs(hash(str(path)))}"
            mspec = importlib.util.spec_from_file_location(mod_name, path)
            module = importlib.util.module_from_spec(mspec)
            sys.modules[mod_name] = module
            mspec.loader.exec_module(module)
        else:
            if "" not in sys.path:
                sys.path.insert(0, "")
            module = importlib.import_module(where)
    except ImportFailure:
        raise
    except Exception as exc:                       # the user's module failed to import
        raise ImportFailure(spec, f"cannot import {where}: {type(exc).__name__}: {exc}") from None
    cls = getattr(module, cls_name, None)
    if cls is None:
        raise ImportFailure(spec, f"{where} has no '{cls_name}'")
    return cls


def _pair(v):
    return [int(v), int(v)] if isinstance(v, int) else [int(x) for x in v]


def _compact(pair):
    return pair[0] if pair[0] == pair[1] else list(pair)


def _fname(target) -> str:
    if isinstance(target, str):
        return target
    mod = getattr(target, "__module__", "") or ""
    return f"{mod}.{getattr(target, '__name__', repr(target))}".lstrip(".")


class _Importer:
    def __init__(self, source: str, gm, example):
        import torch
        self.torch = torch
        self.source, self.gm = source, gm
        self.modules = dict(gm.named_modules())
        self.layers: list[dict] = []
        self.index: dict[str, dict] = {}
        self.val: dict[str, object] = {}          # fx node -> graph node name, or ("const", value) / ("tuple", ...)
        self.kind: dict[str, str] = {}             # graph node -> image | pooled | vector | sequence | tokens
        self.module_of: dict[str, str] = {}        # graph node -> module path (weights)
        self.notes: list[str] = []
        self.example = example

    def fail(self, node, message: str, op: str | None = None):
        raise ImportFailure(self.source, message, node=node.name, operator=op or self.op_name(node))

    def op_name(self, node) -> str:
        if node.op == "call_module":
            return type(self.modules[node.target]).__name__
        if node.op == "call_method":
            return f"Tensor.{node.target}"
        return _fname(node.target)

    def unique(self, name: str) -> str:
        base, k = name, 2
        while name in self.index:
            name, k = f"{base}_{k}", k + 1
        return name

    def add(self, ltype: str, name: str, params: dict, inputs: list[str], kind: str, module: str | None = None) -> str:
        name = self.unique(name.replace(".", "_"))
        entry = {"layer_type": ltype, "layer_name": name, "layer_params": params, "from_layers": list(inputs)}
        self.layers.append(entry)
        self.index[name] = entry
        self.kind[name] = kind
        if module is not None:
            self.module_of[name] = module
        return name

    def shape(self, node):
        meta = node.meta.get("tensor_meta")
        return tuple(meta.shape) if meta is not None and hasattr(meta, "shape") else None

    def arg(self, node, a) -> str:
        v = self.val.get(a.name) if hasattr(a, "name") else None
        if not isinstance(v, str):
            self.fail(node, f"input '{getattr(a, 'name', a)}' is not a tensor the graph holds")
        return v

    def users(self, node) -> int:
        return len(node.users)

    # ------------------------------------------------------------ activations
    def activation(self, node, x_node, fn: str):
        x = self.arg(node, x_node)
        entry = self.index[x]
        if (entry["layer_type"] in ACT_PARAM_TYPES and len(x_node.users) == 1
                and entry["layer_params"].get("activation", "linear") == "linear"):
            entry["layer_params"]["activation"] = fn
            self.val[node.name] = x
            return
        self.val[node.name] = self.add("Activation", node.name, {"function": fn}, [x], self.kind[x])

    def softmax_dim_ok(self, x: str, dim) -> bool:
        kind = self.kind[x]
        if kind in ("image",):
            return dim in (1, -3)
        if kind == "sequence":
            return dim in (2, -1)
        return dim in (1, -1)

    # ------------------------------------------------------------ modules
    def call_module(self, node):
        nn = self.torch.nn
        m = self.modules[node.target]
        x_node = node.args[0] if node.args else None
        name = node.target
        if isinstance(m, (nn.Identity,)):
            self.val[node.name] = self.arg(node, x_node)
            return
        acts = {nn.ReLU: "relu", nn.ReLU6: "relu6", nn.Sigmoid: "sigmoid", nn.Tanh: "tanh", nn.SiLU: "swish",
                nn.Hardswish: "hard_swish", nn.Hardsigmoid: "hard_sigmoid", nn.ELU: "elu", nn.Mish: "mish"}
        for cls, fn in acts.items():
            if type(m) is cls:
                if cls is nn.ELU and m.alpha != 1.0:
                    self.fail(node, f"ELU alpha {m.alpha}: the vocabulary's elu has alpha 1")
                return self.activation(node, x_node, fn)
        if type(m) is nn.GELU:
            if m.approximate != "none":
                self.fail(node, "GELU with the tanh approximation: the vocabulary's gelu is the exact (erf) one")
            return self.activation(node, x_node, "gelu")
        if type(m) is nn.LeakyReLU:
            if abs(m.negative_slope - 0.2) > 1e-6:
                self.fail(node, f"LeakyReLU slope {m.negative_slope}: the vocabulary's leaky_relu has slope 0.2")
            return self.activation(node, x_node, "leaky_relu")
        if type(m) is nn.Softmax:
            x = self.arg(node, x_node)
            if not self.softmax_dim_ok(x, m.dim):
                self.fail(node, f"softmax over dim {m.dim}: only the channel/feature axis is imported")
            return self.activation(node, x_node, "softmax")
        x = self.arg(node, x_node)
        kind = self.kind[x]
        if isinstance(m, nn.Conv2d):
            if m.padding_mode != "zeros":
                self.fail(node, f"padding_mode '{m.padding_mode}' is not imported (zeros is)")
            cin, cout, g = m.in_channels, m.out_channels, m.groups
            ks, st, dl = _pair(m.kernel_size), _pair(m.stride), _pair(m.dilation)
            pad = m.padding if isinstance(m.padding, str) else _pair(m.padding)
            if g == cin and g > 1 and dl == [1, 1]:
                params = {"kernel_size": _compact(ks)}
                if cout // g != 1:
                    params["depth_multiplier"] = cout // g
                ltype = "DepthwiseConv2D"
            else:
                params = {"filters": cout, "kernel_size": _compact(ks)}
                if dl != [1, 1]:
                    params["dilation_rate"] = _compact(dl)
                if g != 1:
                    params["groups"] = g
                ltype = "Conv2D"
            if st != [1, 1]:
                params["strides"] = _compact(st)
            if isinstance(pad, str):
                params["padding"] = pad
            elif pad != [0, 0]:
                params["padding"] = _compact(pad)
            if m.bias is None:
                params["use_bias"] = False
            self.val[node.name] = self.add(ltype, name, params, [x], "image", node.target)
        elif isinstance(m, nn.ConvTranspose2d):
            ks, st, pad = _pair(m.kernel_size), _pair(m.stride), _pair(m.padding)
            if m.groups != 1 or _pair(m.dilation) != [1, 1] or _pair(m.output_padding) != [0, 0]:
                self.fail(node, "grouped, dilated or output-padded ConvTranspose2d has no vocabulary equivalent")
            if pad == [0, 0]:
                padding = "valid"
            elif all(k - s == 2 * p for k, s, p in zip(ks, st, pad)):
                padding = "same"
            else:
                self.fail(node, f"ConvTranspose2d padding {pad}: only 0 ('valid') or (kernel - stride) / 2 ('same')")
            params = {"filters": m.out_channels, "kernel_size": _compact(ks), "strides": _compact(st), "padding": padding}
            if m.bias is None:
                params["use_bias"] = False
            self.val[node.name] = self.add("Conv2DTranspose", name, params, [x], "image", node.target)
        elif isinstance(m, (nn.BatchNorm2d, nn.BatchNorm1d)):
            if not m.track_running_stats:
                self.fail(node, "BatchNorm without running statistics is not imported")
            if kind == "sequence":
                self.fail(node, "BatchNorm1d over (N, C, L) of a batch-first sequence is not imported")
            params = {"epsilon": float(m.eps), "momentum": round(1.0 - float(m.momentum or 0.1), 6)}
            if not m.affine:
                params.update(scale=False, center=False)
            self.val[node.name] = self.add("BatchNorm", name, params, [x], kind, node.target)
        elif isinstance(m, nn.Linear):
            if kind == "image":
                self.fail(node, "Linear over the last axis of an N x C x H x W map (its width) is not imported")
            params = {"units": m.out_features}
            if m.bias is None:
                params["use_bias"] = False
            self.val[node.name] = self.add("Dense", name, params, [x], "sequence" if kind == "sequence" else "vector",
                                           node.target)
        elif isinstance(m, (nn.MaxPool2d, nn.AvgPool2d)):
            self.val[node.name] = self.pool(node, x, m)
        elif isinstance(m, (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)):
            if _pair(m.output_size) != [1, 1]:
                self.fail(node, f"adaptive pooling to {m.output_size}: only output size 1 (global pooling) is imported")
            ltype = "GlobalAvgPool2D" if isinstance(m, nn.AdaptiveAvgPool2d) else "GlobalMaxPool2D"
            self.val[node.name] = self.add(ltype, name, {}, [x], "pooled")
        elif isinstance(m, nn.Flatten):
            if m.start_dim != 1 or m.end_dim != -1:
                self.fail(node, "Flatten other than start_dim=1, end_dim=-1 is not imported")
            self.flatten(node, x)
        elif isinstance(m, nn.LocalResponseNorm):
            self.val[node.name] = self.add("LRN", name, {"size": int(m.size), "alpha": float(m.alpha),
                                                         "beta": float(m.beta), "bias": float(m.k)}, [x], kind)
        elif isinstance(m, nn.Dropout):
            self.val[node.name] = self.add("Dropout", name, {"rate": float(m.p)}, [x], kind)
        elif isinstance(m, nn.LayerNorm):
            if len(m.normalized_shape) != 1 or not m.elementwise_affine or kind == "image":
                self.fail(node, "LayerNorm over more than the last axis, without affine weights, or over an image's "
                                "width is not imported")
            self.val[node.name] = self.add("LayerNorm", name, {"epsilon": float(m.eps)}, [x], kind, node.target)
        elif isinstance(m, nn.Embedding):
            self.val[node.name] = self.add("Embedding", name, {"input_dim": m.num_embeddings,
                                                               "output_dim": m.embedding_dim}, [x], "sequence",
                                           node.target)
        elif isinstance(m, (nn.LSTM, nn.GRU, nn.RNN)):
            if not m.batch_first or m.num_layers != 1 or not m.bias or getattr(m, "proj_size", 0):
                self.fail(node, "recurrent layers are imported with batch_first=True, one layer, biases, no projection")
            if isinstance(m, nn.RNN) and m.nonlinearity != "tanh":
                self.fail(node, "RNN with relu: the vocabulary's SimpleRNN uses tanh")
            ltype = {nn.LSTM: "LSTM", nn.GRU: "GRU", nn.RNN: "SimpleRNN"}[type(m)]
            params = {"units": m.hidden_size, "return_sequences": True}
            if m.bidirectional:
                params["bidirectional"] = True
            out = self.add(ltype, name, params, [x], "sequence", node.target)
            self.val[node.name] = ("rnn", out)
        else:
            self.fail(node, f"module {type(m).__name__} has no vocabulary equivalent")

    def pool(self, node, x: str, m=None, pad_same: bool = False):
        nn = self.torch.nn
        ks, st = _pair(m.kernel_size), _pair(m.stride if m.stride else m.kernel_size)
        pad = _pair(m.padding)
        if isinstance(m, nn.MaxPool2d) and _pair(m.dilation) != [1, 1]:
            self.fail(node, "dilated max pooling has no vocabulary equivalent")
        if isinstance(m, nn.AvgPool2d) and (not m.count_include_pad and pad != [0, 0] or m.divisor_override):
            self.fail(node, "average pooling that does not count the padded zeros is not imported")
        params = {"pool_size": _compact(ks)}
        if st != ks:
            params["strides"] = _compact(st)
        if pad != [0, 0]:
            params["padding"] = _compact(pad)
        if m.ceil_mode:
            params["ceil_mode"] = True
        ltype = "MaxPool2D" if isinstance(m, nn.MaxPool2d) else "AvgPool2D"
        return self.add(ltype, node.target, params, [x], "image")

    def flatten(self, node, x: str):
        kind = self.kind[x]
        if kind == "pooled" and self.index[x]["layer_type"].startswith("Global") and not any(
                x in e["from_layers"] for e in self.layers):
            self.val[node.name] = x
            self.kind[x] = "vector"
            return
        if kind == "sequence":
            self.fail(node, "flattening a sequence is not imported")
        if kind in ("vector",):
            self.val[node.name] = x
            return
        self.val[node.name] = self.add("Flatten", node.name, {}, [x], "vector")

    # ------------------------------------------------------------ functions and methods
    def call(self, node):
        torch = self.torch
        F = torch.nn.functional
        t = node.target
        args, kwargs = node.args, node.kwargs
        name = t if isinstance(t, str) else getattr(t, "__name__", "")
        acts = {"relu": "relu", "relu6": "relu6", "sigmoid": "sigmoid", "tanh": "tanh", "silu": "swish",
                "hardswish": "hard_swish", "hardsigmoid": "hard_sigmoid", "elu": "elu", "mish": "mish", "gelu": "gelu"}
        fn_ok = t in (torch.relu, F.relu, F.relu6, torch.sigmoid, F.sigmoid, torch.tanh, F.tanh, F.silu, F.hardswish,
                      F.hardsigmoid, F.elu, F.mish, F.gelu) or (node.op == "call_method" and name in acts)
        if fn_ok and name in acts:
            if kwargs.get("inplace") or (len(args) > 1 and name != "gelu"):
                pass
            if name == "gelu" and kwargs.get("approximate", "none") != "none":
                self.fail(node, "GELU with the tanh approximation is not imported")
            return self.activation(node, args[0], acts[name])
        if t is F.leaky_relu:
            slope = kwargs.get("negative_slope", args[1] if len(args) > 1 else 0.01)
            if abs(slope - 0.2) > 1e-6:
                self.fail(node, f"leaky_relu slope {slope}: the vocabulary's leaky_relu has slope 0.2")
            return self.activation(node, args[0], "leaky_relu")
        if t in (torch.softmax, F.softmax) or (node.op == "call_method" and name == "softmax"):
            dim = kwargs.get("dim", args[1] if len(args) > 1 else None)
            if not self.softmax_dim_ok(self.arg(node, args[0]), dim):
                self.fail(node, f"softmax over dim {dim}: only the channel/feature axis is imported")
            return self.activation(node, args[0], "softmax")
        if t in (operator.add, torch.add, operator.iadd) or (node.op == "call_method" and name == "add"):
            return self.binary(node, "Add")
        if t in (operator.mul, torch.mul, operator.imul) or (node.op == "call_method" and name == "mul"):
            return self.binary(node, "Multiply")
        if t in (operator.sub, torch.sub) or (node.op == "call_method" and name == "sub"):
            return self.binary(node, "Subtract")
        if t is operator.truediv and not hasattr(args[1], "name"):
            x = self.arg(node, args[0])
            self.val[node.name] = self.add("Rescaling", node.name, {"scale": 1.0 / float(args[1])}, [x], self.kind[x])
            return
        if t is torch.cat:
            tensors = args[0]
            dim = kwargs.get("dim", args[1] if len(args) > 1 else 0)
            ins = [self.arg(node, a) for a in tensors]
            kind = self.kind[ins[0]]
            if not ((kind == "image" and dim in (1, -3)) or (kind == "sequence" and dim in (2, -1))
                    or (kind in ("vector", "pooled") and dim in (1, -1 if kind == "vector" else 1))):
                self.fail(node, f"concatenation along dim {dim} of {kind} tensors: only channels/features is imported")
            self.val[node.name] = self.add("Concat", node.name, {}, ins, "vector" if kind == "pooled" else kind)
            return
        if t is torch.flatten or (node.op == "call_method" and name == "flatten"):
            start = kwargs.get("start_dim", args[1] if len(args) > 1 else 0)
            end = kwargs.get("end_dim", args[2] if len(args) > 2 else -1)
            if start != 1 or end != -1:
                self.fail(node, f"flatten from dim {start} to {end}: only start_dim=1 is imported")
            return self.flatten(node, self.arg(node, args[0]))
        if node.op == "call_method" and name in ("view", "reshape") or t is torch.reshape:
            x = self.arg(node, args[0])
            out = self.shape(node)
            if out is not None and len(out) == 2 and self.kind[x] in ("image", "pooled", "vector"):
                return self.flatten(node, x)
            self.fail(node, f"reshape to {out}: only flattening (N, -1) is imported")
        if node.op == "call_method" and name in ("size", "dim"):
            self.val[node.name] = ("const", None)
            return
        if node.op == "call_method" and name == "contiguous":
            self.val[node.name] = self.arg(node, args[0])
            return
        if t is torch.mean or (node.op == "call_method" and name in ("mean", "amax")) or t is torch.amax:
            dims = kwargs.get("dim", args[1] if len(args) > 1 else None)
            keep = kwargs.get("keepdim", args[2] if len(args) > 2 else False)
            x = self.arg(node, args[0])
            if self.kind[x] == "image" and dims is not None and sorted(int(d) % 4 for d in dims) == [2, 3]:
                ltype = "GlobalMaxPool2D" if name == "amax" else "GlobalAvgPool2D"
                self.val[node.name] = self.add(ltype, node.name, {}, [x], "pooled" if keep else "vector")
                return
            self.fail(node, f"{name} over dims {dims}: only the mean over H and W (global average pooling) is imported")
        if t is F.adaptive_avg_pool2d or t is F.adaptive_max_pool2d:
            size = kwargs.get("output_size", args[1] if len(args) > 1 else None)
            if _pair(size) != [1, 1]:
                self.fail(node, f"adaptive pooling to {size}: only output size 1 is imported")
            ltype = "GlobalAvgPool2D" if t is F.adaptive_avg_pool2d else "GlobalMaxPool2D"
            self.val[node.name] = self.add(ltype, node.name, {}, [self.arg(node, args[0])], "pooled")
            return
        if t is F.dropout:
            x = self.arg(node, args[0])
            self.val[node.name] = self.add("Dropout", node.name, {"rate": float(kwargs.get("p", args[1] if len(args) > 1
                                                                                        else 0.5))}, [x], self.kind[x])
            return
        if t is F.pad:
            x = self.arg(node, args[0])
            pad = list(kwargs.get("pad", args[1]))
            value = kwargs.get("value", args[3] if len(args) > 3 else 0.0) or 0.0
            mode = kwargs.get("mode", args[2] if len(args) > 2 else "constant")
            if mode != "constant" or len(pad) != 4 or self.kind[x] != "image":
                self.fail(node, f"F.pad {mode} {pad}: only constant padding of rows and columns is imported")
            l, r, tp, b = pad
            if value == 0.0:
                self.val[node.name] = self.add("ZeroPadding2D", node.name, {"padding": [tp, b, l, r]}, [x], "image")
                return
            if value == float("-inf"):
                self.val[node.name] = ("maxpad", x, [tp, b, l, r])
                return
            self.fail(node, f"F.pad with value {value} is not imported")
        if t is operator.getitem:
            src = self.val.get(args[0].name)
            if isinstance(src, tuple) and src[0] == "rnn":
                if args[1] != 0:
                    if len(node.users):
                        self.fail(node, "the recurrent layer's final state is used; only its output sequence is imported")
                    self.val[node.name] = ("const", None)
                    return
                self.val[node.name] = src[1]
                return
            x = self.arg(node, args[0])
            idx = args[1]
            if (self.kind[x] == "sequence" and isinstance(idx, tuple) and len(idx) == 2 and idx[0] == slice(None)
                    and isinstance(idx[1], int)):
                entry = self.index[x]
                if (idx[1] == -1 and entry["layer_type"] in ("LSTM", "GRU", "SimpleRNN")
                        and len(args[0].users) == 1 and not entry["layer_params"].get("bidirectional")):
                    entry["layer_params"]["return_sequences"] = False
                    self.kind[x] = "vector"
                    self.val[node.name] = x
                    return
                steps = self.shape(args[0])[1]
                self.val[node.name] = self.add("SelectToken", node.name, {"index": idx[1] % steps}, [x], "vector")
                return
            self.fail(node, f"indexing with {idx!r} is not imported")
        self.fail(node, f"{self.op_name(node)} has no vocabulary equivalent")

    def binary(self, node, ltype: str):
        a, b = node.args[0], node.args[1]
        tensors = [v for v in (a, b) if hasattr(v, "name")]
        if len(tensors) == 2:
            ins = [self.arg(node, a), self.arg(node, b)]
            self.val[node.name] = self.add(ltype, node.name, {}, ins, self.kind[ins[0]])
            return
        x = self.arg(node, tensors[0])
        c = float(b if hasattr(a, "name") else a)
        if ltype == "Add":
            params = {"scale": 1.0, "offset": c}
        elif ltype == "Multiply":
            params = {"scale": c}
        elif hasattr(a, "name"):
            params = {"scale": 1.0, "offset": -c}
        else:
            params = {"scale": -1.0, "offset": c}
        self.val[node.name] = self.add("Rescaling", node.name, params, [x], self.kind[x])

    # ------------------------------------------------------------ the graph
    def run(self):
        for node in self.gm.graph.nodes:
            if node.op == "placeholder":
                shape = self.shape(node)
                dtype = node.meta["tensor_meta"].dtype
                if len(shape) == 4:
                    params, kind = {"shape": [shape[2], shape[3], shape[1]]}, "image"
                elif len(shape) == 3:
                    params, kind = {"shape": [shape[1], shape[2]]}, "sequence"
                elif dtype in (self.torch.int64, self.torch.int32):
                    params, kind = {"shape": [shape[1]], "dtype": "int64"}, "tokens"
                else:
                    params, kind = {"shape": [shape[1]]}, "vector"
                self.val[node.name] = self.add("Input", node.name, params, [], kind)
            elif node.op == "call_module":
                x = node.args[0] if node.args else None
                src = self.val.get(x.name) if hasattr(x, "name") else None
                m = self.modules[node.target]
                if isinstance(src, tuple) and src[0] == "maxpad":
                    self.val[node.name] = self.padded_max(node, src, m)
                else:
                    self.call_module(node)
            elif node.op in ("call_function", "call_method"):
                self.call(node)
            elif node.op == "get_attr":
                self.fail(node, "a parameter or buffer used directly in forward() is not imported", op="get_attr")
            elif node.op == "output":
                outs = node.args[0]
                outs = list(outs) if isinstance(outs, (tuple, list)) else [outs]
                self.outputs = [self.arg(node, o) for o in outs]

    def padded_max(self, node, src, m):
        """F.pad(x, ..., value=-inf) then MaxPool2d: the emitter's 'same' max pooling."""
        from ..core.shapes import same_padding
        nn = self.torch.nn
        _, x, (t, b, l, r) = src
        if not isinstance(m, nn.MaxPool2d) or _pair(m.padding) != [0, 0]:
            self.fail(node, "padding with -inf is imported only before a MaxPool2d")
        ks, st = _pair(m.kernel_size), _pair(m.stride if m.stride else m.kernel_size)
        # the shape before padding: the output of the node that was padded
        pre = [n for n in self.gm.graph.nodes if self.val.get(n.name) == x]
        pre_shape = self.shape(pre[-1]) if pre else None
        if pre_shape and [same_padding(pre_shape[2], ks[0], st[0], 1), same_padding(pre_shape[3], ks[1], st[1], 1)] \
                == [(t, b), (l, r)]:
            params = {"pool_size": _compact(ks), "padding": "same"}
            if st != ks:
                params["strides"] = _compact(st)
            return self.add("MaxPool2D", node.target, params, [x], "image")
        self.fail(node, f"max pooling after padding {(t, b, l, r)} is neither symmetric nor 'same'")


def import_torch(path, input_shape: list[int] | None = None, state_dict=None, **_options) -> Imported:
    """``module:Class`` or ``file.py:Class`` (no-argument constructor) as a graph and its weights
    (the constructor's, or ``state_dict``: a path saved with ``torch.save(model.state_dict())`` or a dict)."""
    import torch
    import torch.fx
    from torch.fx.passes.shape_prop import ShapeProp

    from ..core.errors import GraphError
    from ..core.graph import parse_graph
    from ..emit.codegen import node_identifiers
    from ..emit.weights import canonical_from_target

    source = str(path)
    cls = _load_class(source)
    try:
        model = cls()
    except Exception as exc:
        raise ImportFailure(source, f"{cls.__name__}() failed: {type(exc).__name__}: {exc}") from None
    if state_dict is not None:
        try:
            sd = state_dict if isinstance(state_dict, dict) else torch.load(state_dict, map_location="cpu",
                                                                            weights_only=True)
            model.load_state_dict(sd)
        except Exception as exc:
            raise ImportFailure(source, f"the state_dict does not load: {type(exc).__name__}: {exc}") from None
    model.eval()

    leaves = (torch.nn.Conv2d, torch.nn.ConvTranspose2d, torch.nn.BatchNorm1d, torch.nn.BatchNorm2d,
              torch.nn.Linear, torch.nn.LSTM, torch.nn.GRU, torch.nn.RNN, torch.nn.Embedding, torch.nn.LayerNorm,
              torch.nn.MultiheadAttention)

    class Tracer(torch.fx.Tracer):
        def is_leaf_module(self, m, qualname):
            return isinstance(m, leaves) or super().is_leaf_module(m, qualname)

    try:
        graph = Tracer().trace(model)
    except Exception as exc:
        raise ImportFailure(source, f"torch.fx cannot trace {cls.__name__}: {type(exc).__name__}: {exc}") from None
    gm = torch.fx.GraphModule(model, graph)
    placeholders = [n for n in gm.graph.nodes if n.op == "placeholder"]
    if len(placeholders) != 1:
        raise ImportFailure(source, f"forward() takes {len(placeholders)} inputs; one is imported")
    if not input_shape:
        shape_hint = getattr(sys.modules.get(cls.__module__), "INPUTS", None)
        if isinstance(shape_hint, dict) and len(shape_hint) == 1:
            (shape, dtype, high), = shape_hint.values()
            input_shape = list(shape[1:]) + [shape[0]] if len(shape) == 3 else list(shape)
        else:
            raise ImportFailure(source, "give the input shape per sample, channels last (--input-shape 32,32,3)")
    shape = list(input_shape)
    first = next((m for m in model.modules() if isinstance(m, (torch.nn.Embedding, torch.nn.Conv2d, torch.nn.Linear,
                                                               torch.nn.LSTM, torch.nn.GRU, torch.nn.RNN))), None)
    if isinstance(first, torch.nn.Embedding) and len(shape) == 1:
        example = torch.randint(0, first.num_embeddings, (2, *shape))
    else:
        example = torch.randn(2, shape[2], shape[0], shape[1]) if len(shape) == 3 else torch.randn(2, *shape)
    try:
        with torch.no_grad():
            ShapeProp(gm).propagate(example)
    except Exception as exc:
        raise ImportFailure(source, f"the model does not run on an input of shape {list(example.shape)} "
                                    f"({type(exc).__name__}: {exc})") from None
    imp = _Importer(source, gm, example)
    imp.run()
    # outputs: GlobalPool kept 4-D (keepdim) as an output is the vector the graph gives
    doc = {"schema_version": 1, "name": cls.__name__, "description": f"imported from the PyTorch module {source}",
           "layers": imp.layers, "outputs": list(dict.fromkeys(imp.outputs))}
    try:
        g = parse_graph(doc, source=source)
    except GraphError as exc:
        raise ImportFailure(source, f"the imported graph does not validate: {exc}") from None
    ids = node_identifiers(g)
    state = {k: v.detach().cpu().numpy() for k, v in model.state_dict().items()}
    params: dict[str, dict[str, np.ndarray]] = {}
    for node, module in imp.module_of.items():
        prefix = module + "."
        got = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
        ltype = imp.index[node]["layer_type"]
        if ltype in ("LSTM", "SimpleRNN"):
            # the canonical layout has one bias: PyTorch's two add up
            for suffix in ("", "_reverse"):
                if f"bias_hh_l0{suffix}" in got:
                    got[f"bias_ih_l0{suffix}"] = got[f"bias_ih_l0{suffix}"] + got.pop(f"bias_hh_l0{suffix}")
        got.pop("num_batches_tracked", None)
        params[ids[node]] = got
    try:
        arrays = canonical_from_target(g, "pytorch", params)
    except (KeyError, ValueError) as exc:
        raise ImportFailure(source, f"the module's parameters do not fit the graph: {exc}") from None
    notes = [f"traced with torch.fx on an input of shape {list(example.shape)}; {len(arrays)} weight arrays"]
    return Imported(doc=doc, weights=arrays, notes=notes + imp.notes)
