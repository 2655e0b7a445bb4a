"""Code emission: render a validated graph through a target's YAML template.

A target (``config/templates/<target>.yaml``) is data: a dictionary that maps
each abstract layer to the framework's constructor, keyword names and call
syntax (Jinja2 expressions and templates), assertions on parameter values,
the weight layout used by the equivalence check, and the file templates.
A layer or parameter the target cannot express raises :class:`EmitError`
naming it; nothing is ever emitted silently wrong or partial.

One target is a program, not a template: ``onnx`` (:data:`EXPORTS`) writes the binary
``model.onnx`` through ``emit.onnx_export`` (the PyTorch code emitted, built with the canonical
weights of seed 0 and exported with ``torch.onnx.export``).  :func:`emit` special-cases it and
returns bytes for it; ``all`` means the four code targets of :data:`TARGETS` (the editor, the
paper pipeline and the benchmarks show those), so ONNX is asked for by name.
"""
from __future__ import annotations

import contextlib
import contextvars
import copy
import functools
import keyword
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..core import paths
from ..core.atomic import atomic_write_text
from ..core.errors import EmitError, GraphError
from ..core.expr import ENV
from ..core.graph import Graph
from ..core.shapes import caffe_pool_out, ceil_extra, pool_out, same_padding
from ..core.vocab import load_vocabulary
from . import structure
from .structure import build_structure

TARGETS = ("pytorch", "keras", "tensorflow", "caffe")
RUNNABLE = ("pytorch", "keras", "tensorflow")    # frameworks installed and run here
EXPORTS = ("onnx",)
# target -> the function that writes it (graph -> {filename: bytes}); emit.onnx_export registers itself
# (the emit package loads it), so this module does not import the exporter that imports it
PROGRAMS: dict = {}     # targets written by a program (emit.onnx_export), named explicitly: not in "all"


# ------------------------------------------------------------ jinja helpers
def _tup(value):
    return tuple(value) if isinstance(value, list) else value


def _py(value) -> str:
    """A Python literal for a value (lists of ints become tuples)."""
    return repr(_tup(value))


def _q(value) -> str:
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _pb_scalar(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value[1:] if value.startswith("@") else _q(value)
    return repr(value)


def _prototxt(fields: dict, indent: int = 0) -> str:
    """Protobuf text for a message's fields (dict = sub-message, list = repeated, '@X' = enum)."""
    pad, lines = " " * indent, []
    for key, value in fields.items():
        for item in (value if isinstance(value, list) else [value]):
            if isinstance(item, dict):
                lines.append(f"{pad}{key} {{")
                lines.append(_prototxt(item, indent + 2))
                lines.append(f"{pad}}}")
            else:
                lines.append(f"{pad}{key}: {_pb_scalar(item)}")
    return "\n".join(lines)


def _netspec(value, param: str) -> str:
    """A pyCaffe NetSpec keyword value (enums as P.<Layer>.<VALUE>)."""
    if isinstance(value, dict):
        return "dict(" + ", ".join(f"{k}={_netspec(v, param)}" for k, v in value.items()) + ")"
    if isinstance(value, list):
        return "[" + ", ".join(_netspec(v, param) for v in value) + "]"
    if isinstance(value, str) and value.startswith("@"):
        short = "".join(part.capitalize() for part in param.removesuffix("_param").split("_"))
        return f"P.{short}.{value[1:]}"
    return repr(value)


def _netspec_ref(name: str) -> str:
    return f"n.{name}"


ENV.filters.update(tup=_tup, py=_py, q=_q, prototxt=_prototxt, netspec=_netspec, netspec_ref=_netspec_ref)
ENV.globals.update(pool_out=pool_out, caffe_pool_out=caffe_pool_out)

# Emission options (``emit_options``): caffe_version "1.0" (BVLC Caffe 1.0's schema and layers, the default)
# or "master" (also round_mode, Clip and Swish, added to BVLC master in 2018).
# final_softmax "separate" (the default): the Python models return logits and the file's probabilities()
# applies the paper's output softmax; "inside" keeps it in the model.
# blocks True (the default): a named or repeated block becomes a class / function (emit.structure); False
# writes every layer out in the model itself.
EMIT_DEFAULTS = {"caffe_version": "1.0", "final_softmax": "separate", "blocks": True}
_OPTIONS: contextvars.ContextVar = contextvars.ContextVar("emit_options", default=EMIT_DEFAULTS)


@contextlib.contextmanager
def emit_options(**options):
    """Within the block, emission uses these options (templates read them as ``opt``)."""
    unknown = set(options) - set(EMIT_DEFAULTS)
    if unknown:
        raise ValueError(f"unknown emit option(s) {sorted(unknown)}; known: {sorted(EMIT_DEFAULTS)}")
    if options.get("caffe_version", "1.0") not in ("1.0", "master"):
        raise ValueError(f"caffe_version must be '1.0' or 'master', not {options['caffe_version']!r}")
    if options.get("final_softmax", "separate") not in ("separate", "inside"):
        raise ValueError(f"final_softmax must be 'separate' or 'inside', not {options['final_softmax']!r}")
    token = _OPTIONS.set({**_OPTIONS.get(), **{k: v for k, v in options.items() if v is not None}})
    try:
        yield
    finally:
        _OPTIONS.reset(token)


# Names a layer's identifier must not take, in any target: the names the templates use (modules,
# helpers, parameters, the builtins they call), soft keywords, and the attributes of nn.Module and
# tf.Module (``self.forward = nn.Linear(...)`` hides the method; ``self.training`` is a flag;
# ``self.name`` is read-only on tf.Module).  The Keras target is functional: its layers are locals
# and name strings.  Leading underscores (dunders, the templates' private helpers) are avoided by
# ``identifier`` itself.
RESERVED_NAMES = frozenset("""
    self F nn torch tf keras layers ops np sys os math training seed name block
    all any bool dict float id int isinstance len list map max min print range reversed round set
    slice str sum super tuple type zip enumerate getattr setattr object abs
    match case type _
    T_destination add_module apply bfloat16 buffers call_super_init children compile cpu cuda double
    dump_patches eval extra_repr forward get_buffer get_extra_state get_parameter get_submodule half
    ipu load_state_dict modules mtia named_buffers named_children named_modules named_parameters
    parameters register_backward_hook register_buffer register_forward_hook register_forward_pre_hook
    register_full_backward_hook register_full_backward_pre_hook register_load_state_dict_post_hook
    register_load_state_dict_pre_hook register_module register_parameter register_state_dict_post_hook
    register_state_dict_pre_hook requires_grad_ set_extra_state set_submodule share_memory state_dict
    to to_empty train xpu zero_grad
    name_scope non_trainable_variables submodules trainable_variables variables with_name_scope
""".split())


def identifier(name: str) -> str:
    """A node name as a Python identifier that is safe in every target's code: legal, not a
    keyword, no leading underscore (no dunder), not one of ``RESERVED_NAMES``."""
    ident = re.sub(r"\W", "_", name)
    if not ident or ident[0].isdigit() or ident[0] == "_":
        ident = "l" + ident if ident.startswith("_") else "l_" + ident
    if (keyword.iskeyword(ident) or keyword.issoftkeyword(ident) or ident in RESERVED_NAMES
            or ident.startswith("register_")):
        ident += "_"
    return ident


def class_name(name: str) -> str:
    parts = re.split(r"[^A-Za-z0-9]+", name)
    out = "".join(p[:1].upper() + p[1:] for p in parts if p)
    if not out or out[0].isdigit():
        out = "Model" + out
    return out


# ----------------------------------------------------------------- targets
@dataclass
class Target:
    name: str
    spec: dict
    layout: str                       # channels_last | channels_first

    @property
    def files(self) -> list[dict]:
        return self.spec["files"]

    def layer(self, ltype: str) -> dict | None:
        return self.spec["layers"].get(ltype)


@functools.lru_cache(maxsize=8)
def load_target(name: str) -> Target:
    if name not in TARGETS:
        raise ValueError(f"unknown target '{name}'; choose from {', '.join(TARGETS)} or all")
    path = paths.config_file("templates", f"{name}.yaml")
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    for f in spec["files"]:
        f["_compiled"] = ENV.from_string(f["template"])
    for ltype, lspec in spec["layers"].items():
        for key in ("apply", "pre", "init"):
            if isinstance(lspec.get(key), str):
                lspec["_" + key] = ENV.from_string(lspec[key])
    return Target(name, spec, spec.get("layout", "channels_last"))


# ------------------------------------------------------------ node context
def padding_info(p: dict, in_shape: tuple, kernel_key: str, dilation_key: str | None = None) -> dict | None:
    """Resolve a layer's padding to explicit per-side amounts.

    Returns mode ('valid' | 'same' | 'explicit'), t/b/l/r and ``sym``.
    """
    if "padding" not in p or len(in_shape) not in (2, 3):
        return None
    pad = p["padding"]
    spatial = in_shape[:-1]
    ks = p[kernel_key] if isinstance(p[kernel_key], list) else [p[kernel_key]]
    ss = p["strides"] if isinstance(p["strides"], list) else [p["strides"]]
    ds = p.get(dilation_key, [1] * len(ks)) if dilation_key else [1] * len(ks)
    ds = ds if isinstance(ds, list) else [ds]
    sides = []
    for size, k, s, d in zip(spatial, ks, ss, ds):
        if pad == "valid":
            sides.append((0, 0))
        elif pad == "same":
            sides.append(same_padding(size, k, s, d))
        else:
            amounts = pad if isinstance(pad, list) else [pad] * len(ks)
            a = amounts[len(sides)]
            sides.append((a, a))
    if len(sides) == 1:
        sides.append((0, 0))
    (t, b), (l, r) = sides
    mode = pad if isinstance(pad, str) else "explicit"
    # explicit amounts that are exactly what 'same' pads (3x3 with 1, stride 1): written padding='same'
    same_exact = mode == "explicit" and all(side == same_padding(size, k, s, d) for side, size, k, s, d
                                            in zip(sides, spatial, ks, ss, ds))
    # ceil_mode pooling: the extra bottom/right padding (xb, xr) a floor-rounding pooling needs to match it
    xb, xr = ([ceil_extra(size, k, s, a) for size, k, s, a in zip(spatial, ks, ss, (t, l))]
              if p.get("ceil_mode") else (0, 0))
    return {"mode": mode, "t": t, "b": b, "l": l, "r": r, "sym": t == b and l == r,
            "zero": t == b == l == r == 0, "xb": xb, "xr": xr, "same_exact": same_exact}


_KERNEL_KEYS = {"Conv2D": ("kernel_size", "dilation_rate"), "DepthwiseConv2D": ("kernel_size", None),
                "Conv1D": ("kernel_size", "dilation_rate"), "MaxPool2D": ("pool_size", None),
                "AvgPool2D": ("pool_size", None)}


def weight_specs(vocab, ltype: str, ctx: dict) -> list[dict]:
    """The layer's weights in the canonical (Keras) layout: name, shape, init."""
    out = []
    for w in vocab.layers[ltype].weights:
        if w.when is not None and not evaluate_expr(w.when, ctx):
            continue
        out.append({"name": w.name, "shape": [int(d) for d in evaluate_expr(w.shape, ctx)], "init": w.init})
    return out


def node_identifiers(graph: Graph) -> dict[str, str]:
    """Each node's identifier in code (unique; node names with '/' or digits first made legal)."""
    idents: dict[str, str] = {}
    used: set[str] = set()
    for n in graph.nodes:
        ident = identifier(n.name)
        base, k = ident, 2
        while ident in used:
            ident, k = f"{base}_{k}", k + 1
        used.add(ident)
        idents[n.name] = ident
    return idents


def node_contexts(graph: Graph, refs: dict[str, str] | None = None) -> list[dict]:
    """Per node, the context its templates render in.  ``refs`` renames the variables that hold
    some nodes' outputs (a block's output is held by the block call's variable)."""
    idents = node_identifiers(graph)
    refs = refs or {}
    vocab = load_vocabulary()
    token_inputs = [idents[n.name] for n in graph.inputs if n.params["dtype"] == "int64"]
    out = []
    weight_index = 0
    for n in graph.nodes:
        ins = [graph.shapes[i] for i in n.inputs]
        first = ins[0] if ins else graph.shapes[n.name]
        out_info = graph.shapes[n.name]
        ctx = {
            "node": n, "id": idents[n.name], "name": n.name, "type": n.type, "p": n.params,
            "ins": [refs.get(i, idents[i]) for i in n.inputs],
            "x": refs.get(n.inputs[0], idents[n.inputs[0]]) if n.inputs else None,
            "ref": refs.get(n.name, idents[n.name]),
            "in_shape": first.shape, "in_shapes": [i.shape for i in ins], "in_kind": first.kind,
            "in_channels": first.shape[-1], "in_features": first.shape[-1],
            "out_shape": out_info.shape, "out_kind": out_info.kind, "out_size": out_info.size,
            "token_inputs": token_inputs, "pad": None, "opt": _OPTIONS.get(),
        }
        ctx["weights"] = weight_specs(vocab, n.type, ctx)
        for w in ctx["weights"]:
            w["index"], weight_index = weight_index, weight_index + 1
        if n.type in _KERNEL_KEYS:
            kk, dk = _KERNEL_KEYS[n.type]
            ctx["pad"] = padding_info(n.params, first.shape, kk, dk)
        if n.type == "Conv2DTranspose":
            crop = [(k - s) // 2 if n.params["padding"] == "same" else 0
                    for k, s in zip(n.params["kernel_size"], n.params["strides"])]
            ctx["crop"] = crop
        if n.type == "Input" and n.params["dtype"] == "int64":
            highs = [c.params["input_dim"] for c in (graph.node(x) for x in graph.consumers[n.name])
                     if c.type == "Embedding"]
            ctx["high"] = min(highs) if highs else 2
        out.append(ctx)
    return out


# ---------------------------------------------------------------- emission
def _fail(target: str, ctx: dict | None, message: str, declared: bool = False) -> EmitError:
    return EmitError(target, ctx["name"] if ctx else None, message, declared)


def ctor_parts(spec: dict, ctx: dict) -> tuple[str, list[dict]]:
    """A constructor's class and its argument slots: key (None when positional), value, text, and
    the default text that lets the argument be left out."""
    slots = [{"key": None, "value": v, "text": _py(v), "default": None}
             for v in (evaluate_expr(a, ctx) for a in spec.get("args", []))]
    defaults = spec.get("omit", {})
    for key, expr in (spec.get("kwargs") or {}).items():
        value = evaluate_expr(expr, ctx)
        if value is None:
            continue
        text = value if key in spec.get("raw", []) else _py(value)
        slots.append({"key": key, "value": value, "text": text, "default": defaults.get(key)})
    cls = evaluate_expr(spec["class_expr"], ctx) if "class_expr" in spec else spec["class"]
    return cls, slots


def ctor_text(cls: str, slots: list[dict]) -> str:
    parts = [s["text"] if s["key"] is None else f"{s['key']}={s['text']}" for s in slots
             if s["key"] is None or s["default"] is None or s["text"] != s["default"]]
    return f"{cls}({', '.join(parts)})"


def _render_ctor(spec: dict, ctx: dict) -> str:
    return ctor_text(*ctor_parts(spec, ctx))


@functools.lru_cache(maxsize=1024)
def _template(source: str):
    return ENV.from_string(source)


@functools.lru_cache(maxsize=4096)
def _expr(source: str):
    return ENV.compile_expression(source, undefined_to_none=False)


def evaluate_expr(source: Any, ctx: dict) -> Any:
    """A template expression (Jinja syntax) evaluated over a node context; non-strings pass through."""
    if isinstance(source, str):
        return _expr(source)(**ctx)
    return source


def _activation(target: Target, ctx: dict):
    table = target.spec.get("activations", {})

    def act(expr: str, fn: str | None = None) -> str:
        fn = fn or ctx["p"].get("activation", "linear") or "linear"
        if fn not in table:
            raise _fail(target.name, ctx, f"activation '{fn}' is not supported by {target.name}")
        if table[fn] is None:
            raise _fail(target.name, ctx, f"activation '{fn}' cannot be expressed in {target.name}", True)
        if "{" not in table[fn]:
            return f"{table[fn]}({expr})"
        return _template(table[fn]).render({**ctx, "x": expr})
    return act


def layer_plan(graph: Graph, target: Target, refs: dict[str, str] | None = None) -> list[dict]:
    """Per node: its context plus the rendered constructor and statements."""
    plans = []
    for ctx in node_contexts(graph, refs):
        spec = target.layer(ctx["type"])
        if spec is None:
            raise _fail(target.name, ctx, f"layer type {ctx['type']} has no mapping in the {target.name} template")
        if spec.get("unsupported"):
            raise _fail(target.name, ctx, f"{ctx['type']} cannot be expressed: {spec['unsupported']}", True)
        ctx["act"] = _activation(target, ctx)
        ctx["act_names"] = target.spec.get("activation_names", {})
        ctx["target"] = target.name
        for req in spec.get("requires", []):
            if not evaluate_expr(req["test"], ctx):
                raise _fail(target.name, ctx, ENV.from_string(req["message"]).render(**ctx), True)
        render_statements(spec, ctx)
        if "caffe" in spec:
            ctx["caffe_layers"] = _caffe_layers(spec["caffe"], ctx, target)
        plans.append(ctx)
    return plans


def render_statements(spec: dict, ctx: dict, ctor: str | None = None) -> dict:
    """Render a layer's constructor (unless given) and its pre / init / apply statements into ctx."""
    if ctor is not None:
        ctx["ctor"] = ctor
    elif "ctor" in spec:
        ctx["ctor"] = _render_ctor(spec["ctor"], ctx)
    for key in ("pre", "init", "apply"):
        if "_" + key in spec:
            ctx[key] = spec["_" + key].render(**ctx).strip()
    return ctx


def _caffe_layers(items: list[dict], ctx: dict, target: Target | None) -> list[dict]:
    layers = []
    for item in items:
        if "when" in item and not evaluate_expr(item["when"], ctx):
            continue
        if "unsupported" in item:      # a case the target cannot express (BVLC Caffe 1.0 and Swish)
            raise _fail(ctx["target"], ctx, ENV.from_string(item["unsupported"]).render(**ctx), True)
        fields = {k: evaluate_expr(v, ctx) for k, v in (item.get("fields") or {}).items()}
        fields = {k: v for k, v in fields.items() if v is not None}
        layer = {
            "name": evaluate_expr(item.get("name", "id"), ctx),
            "type": item["type"],
            "bottom": evaluate_expr(item.get("bottom", "ins"), ctx),
            "top": evaluate_expr(item.get("top", "[id]"), ctx),
            "param": item.get("param"),
            "fields": fields,
        }
        extra = {k: evaluate_expr(v, ctx) for k, v in (item.get("layer_fields") or {}).items()}
        layer["layer_fields"] = {k: v for k, v in extra.items() if v is not None}
        layers.append(layer)
    if target and ctx["p"].get("activation", "linear") not in ("linear", None) and ctx["type"] != "Activation":
        table = target.spec["activations"]
        fn = ctx["p"]["activation"]
        if table.get(fn) is None:
            raise _fail(target.name, ctx, f"activation '{fn}' cannot be expressed in {target.name}", True)
        items = table[fn] if isinstance(table[fn], list) else [table[fn]]
        layers.extend(_caffe_layers([{"name": f"id ~ '_{fn}'", "bottom": "[id]", **item} for item in items], ctx, None))
    return layers


def emit(graph: Graph, target_name: str) -> dict[str, str]:
    """Render every file of one target; returns {filename: text} ({filename: bytes} for onnx)."""
    if target_name in EXPORTS:
        if target_name not in PROGRAMS:
            raise ValueError(f"target '{target_name}' is written by a program that is not loaded "
                             f"(import dlpaper2code.emit.onnx_export)")
        return PROGRAMS[target_name](graph)
    target = load_target(target_name)
    heads: list[str] = []
    if target_name in RUNNABLE and _OPTIONS.get()["final_softmax"] == "separate":
        twin, heads = without_output_softmax(graph)
        if twin is not None:
            twin.name = graph.name
            graph = twin
    structure = build_structure(graph, target) if target.spec.get("blocks") and _OPTIONS.get()["blocks"] else None
    plans = structure["plans"] if structure else layer_plan(graph, target)
    by_name = {c["name"]: c for c in plans}
    inputs = [c for c in plans if c["type"] == "Input"]
    outputs = [by_name[o] for o in graph.outputs]
    context = {
        "graph": graph, "nodes": plans, "inputs": inputs, "outputs": outputs,
        "class_name": class_name(graph.name), "model_name": identifier(graph.name),
        "helpers": _helpers(target, plans), "layout": target.layout,
        "softmax_outputs": [{"ref": by_name[o]["ref"], "name": o, "image": graph.shapes[o].kind == "image"}
                            for o in heads],
        "classes": structure["classes"] if structure else [],
        "items": structure["items"] if structure else [{"kind": "node", "n": c} for c in plans],
    }
    files = {}
    for f in target.files:
        files[f["name"]] = f["_compiled"].render(filename=f["name"], **context).rstrip() + "\n"
    return files


def without_output_softmax(graph: Graph) -> tuple[Graph | None, list[str]]:
    """The graph with its output softmax taken out (a Dense's ``activation: softmax`` dropped, or a
    Softmax output layer removed so its input is the output) and the outputs that had one; (None,
    []) when no output ends in a softmax.  The block uses of the graph as written are kept."""
    from ..core.graph import parse_graph

    doc = copy.deepcopy(graph.to_dict(expanded=False)) if graph.source_doc else graph.to_dict()
    doc.setdefault("name", graph.name)
    outs = set(graph.outputs)
    heads: list[str] = []
    drop: dict[str, str] = {}
    for layer in doc["layers"]:
        if layer["layer_name"] not in outs:
            continue
        params = layer.get("layer_params") or {}
        if params.get("activation") == "softmax":
            layer["layer_params"] = {k: v for k, v in params.items() if k != "activation"}
            heads.append(layer["layer_name"])
        elif (layer["layer_type"] == "Softmax" or (layer["layer_type"] == "Activation"
                                                    and params.get("function") == "softmax")) \
                and len(layer.get("from_layers") or []) == 1:
            drop[layer["layer_name"]] = layer["from_layers"][0]
    if drop:
        doc["layers"] = [l for l in doc["layers"] if l["layer_name"] not in drop]
        if doc.get("outputs"):
            doc["outputs"] = [drop.get(o, o) for o in doc["outputs"]]
        else:       # keep the other outputs where they were: name them all
            doc["outputs"] = [drop.get(o, o) for o in graph.outputs]
        heads += list(drop.values())
    if not heads:
        return None, []
    try:
        twin = parse_graph(doc, source=f"{graph.name} without its output softmax")
    except GraphError:
        return None, []
    return twin, [h for h in twin.outputs if h in heads]


def _helpers(target: Target, plans: list[dict]) -> list[str]:
    wanted: list[str] = []
    for c in plans:
        for h in target.layer(c["type"]).get("helpers", []):
            if h not in wanted:
                wanted.append(h)
    return [target.spec["helpers"][h].rstrip() + "\n" for h in wanted]


def expand_targets(targets: str | list[str]) -> list[str]:
    if isinstance(targets, str):
        targets = [t.strip() for t in targets.split(",")]
    out: list[str] = []
    for t in targets:
        for name in (TARGETS if t == "all" else [t]):
            if name not in TARGETS + EXPORTS:
                raise ValueError(f"unknown target '{name}'; choose from {', '.join(TARGETS + EXPORTS)} or all")
            if name not in out:
                out.append(name)
    return out


MANIFEST = ".dlpaper2code-codegen.json"


def write_code(graph: Graph, targets: str | list[str], out_dir: str | os.PathLike, *, partial: bool = False,
               failures: dict | None = None) -> list[Path]:
    """Emit the targets into ``out_dir``: every target is rendered first, the files are written
    into a temporary folder beside ``out_dir`` and moved in only when all of them are there.

    A target that cannot be emitted raises its :class:`EmitError` and nothing is written (no
    empty folder is made, an existing one is left as it was); with ``partial`` the targets that
    succeed are written and each failure is put in ``failures`` (target -> the error) instead.
    The folder's manifest (:data:`MANIFEST`) lists what the last run wrote: files of an earlier
    run that this one does not write (another model's, another target's) are removed, so the
    folder never mixes two runs; files codegen did not write are never touched."""
    import json
    import shutil
    import tempfile

    out_dir = Path(out_dir)
    rendered: dict[str, str | bytes] = {}
    for t in expand_targets(targets):
        try:
            rendered.update(emit(graph, t))
        except EmitError as exc:
            if not partial:
                raise
            if failures is not None:
                failures[t] = exc
    if not rendered:
        return []
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".tmp", dir=out_dir.parent))
    try:
        for name, text in rendered.items():
            if isinstance(text, bytes):         # model.onnx
                (tmp / name).write_bytes(text)
            else:
                (tmp / name).write_text(text, encoding="utf-8")
        out_dir.mkdir(exist_ok=True)
        old = []
        try:
            old = json.loads((out_dir / MANIFEST).read_text(encoding="utf-8")).get("files", [])
        except (OSError, ValueError, AttributeError):
            pass
        written = []
        for name in rendered:
            os.replace(tmp / name, out_dir / name)
            written.append(out_dir / name)
        for name in old:
            stale = out_dir / str(name)
            if str(name) not in rendered and stale.parent == out_dir and stale.is_file():
                stale.unlink()
        atomic_write_text(out_dir / MANIFEST, json.dumps({"graph": graph.name, "files": sorted(rendered)}, indent=1))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return written


def layer_paths(graph: Graph, target_name: str) -> dict:
    """Node id -> {prefix, local, name}: where the target's code keeps each layer written inside a
    block (attribute path with loop indices, block-local name, Keras layer name)."""
    target = load_target(target_name)
    if not target.spec.get("blocks") or not _OPTIONS.get()["blocks"]:
        return {}
    return build_structure(graph, target)["paths"]


structure.KIT = sys.modules[__name__]        # the block writer renders layers with this module's functions
