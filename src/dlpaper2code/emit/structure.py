"""Block structure of emitted code: a class per named block, a loop per run of equal blocks.

This module owns how a graph's block uses (``Graph.block_uses``, recorded when a document
uses a block of ``config/blocks.yaml`` or its own ``blocks``) become code an engineer would
write: every block type used by the graph becomes one class (PyTorch ``nn.Module``,
TensorFlow ``tf.Module``) or function (Keras, as ``keras.applications`` writes its blocks),
instantiated once per use; consecutive uses with the same arguments, each consuming the
previous one, become one ``nn.Sequential`` / list / loop.

The class body is found by anti-unification over the uses: each layer is rendered through
the target's template once per use (with block-local names); a constructor argument equal in
every use stays a literal, one that varies is written as the block parameter (or the input's
channel count, or a small multiple or fraction of either) that explains every use, or else
becomes an extra argument of the class.  Numbers that vary in a layer's call statement are
explained the same way; uses whose statements cannot be unified become variants (a second
class).  A use whose inner layers are consumed from outside the block, or whose layers
interleave with the rest of the graph, stays flat.

``build_structure(...)["paths"]`` says where each layer's weights live in the emitted model (block
attribute, loop index, block-local name, Keras layer name); ``codegen.layer_paths`` gives it to the
runner.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..core.graph import Graph

# The code emitter's rendering functions (ctor_parts, render_statements, identifier, layer_plan ...):
# emit.codegen hands itself over when it loads (it imports this module, not the other way round).
KIT = None

INT = re.compile(r"(?<![\w.])(\d+)(?![\w.])")
MULTIPLES = (2, 3, 4, 6, 8)
MIN_LOOP = 2                 # consecutive equal uses written as a loop


def _same(a, b) -> bool:
    return type(a) is type(b) and a == b


def _norm(value):
    """Lists/tuples whose elements are all the same int read as that int ((2, 2) is a stride of 2)."""
    if isinstance(value, (list, tuple)):
        items = [_norm(v) for v in value]
        if items and all(type(i) is int for i in items) and len(set(items)) == 1:
            return items[0]
        return tuple(items)
    return value


@dataclass
class Use:
    """One use of a block in the graph."""
    name: str                              # the use's layer_name
    id: str                                # its identifier in code
    type: str                              # the block type
    params: dict
    inputs: list[str]                      # outer node names
    input_names: list[str]                 # the block's own input names
    output: str                            # the inner node that is the block's output
    nodes: list[str] = field(default_factory=list)   # inner node names, in graph order
    locals: dict = field(default_factory=dict)       # inner node name -> block-local identifier
    in_channels: int | None = None
    defaults: dict = field(default_factory=dict)
    description: str = ""
    inmap: dict = field(default_factory=dict)        # outer input name -> the block's input identifier
    implicit: bool = False                           # found in a flat graph (a repeated table row, block names)
    suggested: dict = field(default_factory=dict)    # inner node name -> the base of its block-local name


def candidates(use: Use) -> list[tuple[str, object]]:
    """Values a varying number may be written as: the block's parameters, then the input's channels."""
    out = [(k, v) for k, v in use.params.items() if type(v) is int]
    if use.in_channels is not None:
        out.append(("in_channels", use.in_channels))
    return out


def explain(values: list, uses: list[Use], extra: dict | None = None) -> str | None:
    """An expression over each use's candidates (and the class's ``extra`` arguments so far:
    name -> value per use) that equals ``values[i]`` for every use ``i``."""
    values = [_norm(v) for v in values]
    cands = [dict(candidates(u)) for u in uses]
    for name, column in (extra or {}).items():
        for c, v in zip(cands, column):
            c[name] = _norm(v)
    keys = [k for k in cands[0] if all(k in c for c in cands)]
    if not all(type(v) is int for v in values):
        for k in keys:
            if all(_same(c[k], v) for c, v in zip(cands, values)):
                return k
        return None
    keys = [k for k in keys if all(type(c[k]) is int for c in cands)]
    for k in keys:
        if all(c[k] == v for c, v in zip(cands, values)):
            return k
    for i, k in enumerate(keys):                    # in_filters * expand
        for k2 in keys[i + 1:]:
            if all(c[k] * c[k2] == v and c[k] > 1 and c[k2] > 1 for c, v in zip(cands, values)):
                return f"{k} * {k2}"
    for k in keys:                                   # the block's own parameters before the input's width
        for m in MULTIPLES:
            if all(c[k] * m == v for c, v in zip(cands, values)):
                return f"{k} * {m}"
            if all(c[k] % m == 0 and c[k] // m == v for c, v in zip(cands, values)):
                return f"{k} // {m}"
    return None


NAMED_MIN = 8                # a number this large that equals a block parameter in every use is written as it


# arguments where a pair of equal ints may be written as one int (the frameworks take either)
COLLAPSIBLE = {"kernel_size", "stride", "strides", "pool_size", "dilation", "dilation_rate", "padding", "size",
               "scale_factor", "cropping"}


def _named_constant(values: list, uses: list[Use], collapsible: bool = True) -> str | None:
    """A value equal in every use, written as the parameter (or product) it equals when it is
    channel-like (>= NAMED_MIN): ``filters`` reads better than 24; a 3 or 1 stays a literal."""
    v = _norm(values[0]) if collapsible else values[0]
    if type(v) is not int or v < NAMED_MIN:
        return None
    return explain(values, uses)


def explain_seq(values: list, uses: list[Use], extra: dict | None = None) -> str | None:
    """A tuple expression for sequence values whose elements each have an explanation (or are equal)."""
    if not all(isinstance(v, (list, tuple)) for v in values) or len({len(v) for v in values}) != 1:
        return None
    parts = []
    for k in range(len(values[0])):
        column = [v[k] for v in values]
        if all(_same(c, column[0]) for c in column):
            parts.append(repr(_plain(column[0])))
            continue
        expr = explain(column, uses, extra)
        if expr is None:
            return None
        parts.append(expr)
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"


def unify_text(texts: list[str], uses: list[Use], prefix: str = "", note=None, extra: dict | None = None) -> str | None:
    """One text for every use: the integers that differ replaced by an expression (:func:`explain`);
    None when the texts differ otherwise or a number cannot be explained."""
    if all(t == texts[0] for t in texts):
        return texts[0]
    parts = [INT.split(t) for t in texts]
    if any(len(p) != len(parts[0]) for p in parts):
        return None
    out = []
    for i, piece in enumerate(parts[0]):
        column = [p[i] for p in parts]
        if i % 2 == 0:                                   # text between numbers
            if any(c != piece for c in column):
                return None
            out.append(piece)
        elif all(c == piece for c in column):
            out.append(piece)
        else:
            expr = explain([int(c) for c in column], uses, extra)
            if expr is None:
                return None
            if note is not None:
                note(expr)
            out.append("(" + re.sub(r"\b([a-z_]\w*)\b", lambda m: prefix + m.group(1), expr) + ")"
                       if " " in expr else prefix + expr)
    return "".join(out)


def find_uses(graph: Graph) -> list[Use]:
    """The block uses the emitters write as calls: the graph's own block uses (:func:`declared_uses`)
    and, in a flat graph, the repeated groups :func:`implicit_uses` finds."""
    declared = declared_uses(graph)
    implicit = implicit_uses(graph, declared)
    inside = {n for u in implicit for n in u.nodes}
    return [u for u in declared if not set(u.nodes) & inside] + implicit


def declared_uses(graph: Graph) -> list[Use]:
    """The graph's block uses that can be written as calls: every inner layer comes before the
    block's output in graph order and only the output is consumed outside the block."""
    order = {n.name: i for i, n in enumerate(graph.nodes)}
    members: dict[str, list[str]] = {}
    for n in graph.nodes:
        if n.block:
            members.setdefault(n.block, []).append(n.name)
    out = []
    for name, info in graph.block_uses.items():
        nodes = members.get(name, [])
        if not nodes or info["output"] not in order:
            continue
        inner = set(nodes)
        out_pos = order[info["output"]]
        if any(order[m] > out_pos for m in nodes):
            continue
        if any(c not in inner for m in nodes if m != info["output"] for c in graph.consumers[m]) \
                or any(m in graph.outputs for m in nodes if m != info["output"]):
            continue
        # inner layers read only each other and the block's inputs, each input once
        if any(i not in inner and i not in info["inputs"] for m in nodes for i in graph.node(m).inputs):
            continue
        if len(set(info["inputs"])) != len(info["inputs"]) or len(info["inputs"]) != len(info["input_names"]):
            continue
        use = Use(name=name, id=name, type=info["type"], params=dict(info["params"]),
                  inputs=list(info["inputs"]), input_names=list(info["input_names"]),
                  output=info["output"], nodes=nodes, defaults=dict(info.get("defaults") or {}),
                  description=info.get("description", ""))
        first = info["inputs"][0] if info["inputs"] else None
        if first is not None and graph.shapes[first].shape:
            use.in_channels = int(graph.shapes[first].shape[-1])
        out.append(use)
    return out


# ------------------------------------------------------------ flat graphs
BLOCK_WORDS = {"block", "blocks", "layer", "layers", "stage", "unit", "cell", "mixed", "fire", "module",
               "inception", "res", "resblock", "bottleneck", "expanded", "encoder", "decoder", "dense"}
_TOKEN = re.compile(r"[/_.]")
_SHORT = {"Conv2D": "conv", "DepthwiseConv2D": "dwconv", "Conv1D": "conv", "Conv2DTranspose": "deconv",
          "BatchNorm": "bn", "LayerNorm": "norm", "Dense": "fc", "MaxPool2D": "pool", "AvgPool2D": "pool",
          "GlobalAvgPool2D": "gap", "Concat": "concat", "Add": "add", "Dropout": "dropout",
          "MultiHeadAttention": "attn", "Multiply": "scale"}


def _name_key(name: str, depth: int) -> str | None:
    """The prefix of a layer name up to its depth-th token with a digit ('conv2_block1' of
    'conv2_block1_1_conv' at depth 2), when that prefix names a block (a word of BLOCK_WORDS)."""
    tokens = _TOKEN.split(name)
    seps = _TOKEN.findall(name)
    seen = 0
    for i, tok in enumerate(tokens):
        if any(ch.isdigit() for ch in tok):
            seen += 1
            if seen == depth:
                if i == len(tokens) - 1:
                    return None                       # the layer itself, not a group
                words = {re.sub(r"\d+[a-z]?$", "", t).lower() for t in tokens[:i + 1]}
                if not words & BLOCK_WORDS:
                    return None
                return "".join(t + (seps[k] if k < i else "") for k, t in enumerate(tokens[:i + 1]))
    return None


def _meta_key(node) -> tuple | None:
    b = (node.meta or {}).get("block")
    if isinstance(b, dict) and "type" in b and "index" in b:
        return ("meta", str((node.meta or {}).get("cell", "")), str(b["type"]), b["index"], b.get("of"))
    return None


def _runs_of(graph: Graph, keys: dict) -> list[tuple[object, list[str]]]:
    out: list = []
    for n in graph.nodes:
        k = keys.get(n.name)
        if k is not None and out and out[-1][0] == k:
            out[-1][1].append(n.name)
        elif k is not None:
            out.append((k, [n.name]))
        else:
            out.append((None, [n.name]))
    return [(k, ns) for k, ns in out if k is not None and len(ns) >= 2]


def _as_use(graph: Graph, key, nodes: list[str], declared_of: dict, row_of: dict | None = None) -> Use | None:
    inner = set(nodes)
    leaving = [m for m in nodes if m in graph.outputs or any(c not in inner for c in graph.consumers[m])]
    if len(leaving) != 1 or leaving[0] != nodes[-1]:
        return None
    # a declared block inside must lie wholly inside
    for m in nodes:
        u = declared_of.get(m)
        if u is not None and not set(u.nodes) <= inner:
            return None
    inputs: list[str] = []
    for m in nodes:
        for i in graph.node(m).inputs:
            if i not in inner and i not in inputs:
                inputs.append(i)
    if not inputs:
        return None
    if isinstance(key, tuple):               # a repeated row of a paper's table: stage<row>_block<repetition>
        btype, name = key[2], f"stage{(row_of or {}).get(key[1], 1)}_block{key[3]}"
    else:
        btype = re.sub(r"\d+[a-z]?(?=$|[/_.])", "", key)
        btype = re.sub(r"[/_.]+", "_", btype).strip("_") or "block"
        name = key
    use = Use(name=name, id=name, type=btype, params={}, inputs=inputs,
              input_names=["x"] if len(inputs) == 1 else [f"x{k + 1}" for k in range(len(inputs))],
              output=nodes[-1], nodes=list(nodes), implicit=True)
    shape = graph.shapes[inputs[0]].shape
    use.in_channels = int(shape[-1]) if shape else None
    counts: dict[str, int] = {}
    for m in nodes:
        n = graph.node(m)
        if isinstance(key, str):
            rest = m[len(key):].lstrip("/_.") or n.type.lower()
            toks = [t for t in _TOKEN.split(rest) if t]
            if toks and toks[0].isdigit() and len(toks) > 1:         # '1_conv' -> 'conv1'
                toks = [toks[1] + toks[0]] + toks[2:]
            use.suggested[m] = "_".join(toks)
        else:
            base = _SHORT.get(n.type) or (n.params.get("function") if n.type == "Activation" else None) \
                or re.sub(r"(?<!^)(?=[A-Z])", "_", n.type).lower()
            counts[base] = counts.get(base, 0) + 1
            use.suggested[m] = base
    if not isinstance(key, str):              # number the layers of a kind when there are several
        total = dict(counts)
        seen: dict[str, int] = {}
        for m in nodes:
            base = use.suggested[m]
            if total[base] > 1:
                seen[base] = seen.get(base, 0) + 1
                use.suggested[m] = f"{base}{seen[base]}"
    return use


def _shape_of_use(graph: Graph, use: Use) -> tuple:
    pos = {m: i for i, m in enumerate(use.nodes)}
    return tuple((graph.node(m).type, tuple(pos.get(i, -1 - use.inputs.index(i) if i in use.inputs else -99)
                                            for i in graph.node(m).inputs)) for m in use.nodes)


def implicit_uses(graph: Graph, declared: list[Use]) -> list[Use]:
    """Repeated groups of a flat graph, written as blocks: the layers of one repetition of a table
    row (``meta.block`` from the paper reader), or the layers whose names share a block prefix
    (``conv2_block1_*``, ``encoder/layer0/*``: a word of BLOCK_WORDS with a number).  A group is a
    block when it is consecutive, read from outside only through its last layer, and its structure
    (layer types and connections) occurs at least twice; the name depth that covers the most layers
    with repeated groups is used."""
    declared_of = {m: u for u in declared for m in u.nodes}
    meta_keys = {n.name: _meta_key(n) for n in graph.nodes}
    best: list[Use] = []
    best_cover = 0
    for depth in (1, 2, 3):
        keys = {}
        for n in graph.nodes:               # a layer of a block the graph uses is found by its name only there
            keys[n.name] = meta_keys[n.name] or (None if n.name in declared_of else _name_key(n.name, depth))
        # a declared block inside a repeated table row follows the row around it
        for u in declared:
            outside = [keys.get(i) for i in u.inputs] + [keys.get(c) for c in graph.consumers[u.output]]
            if outside and isinstance(outside[0], tuple) and all(k == outside[0] for k in outside):
                for m in u.nodes:
                    keys[m] = outside[0]
        row_of: dict = {}
        for k in keys.values():
            if isinstance(k, tuple) and k[1] not in row_of:
                row_of[k[1]] = len(row_of) + 1
        found = [u for k, ns in _runs_of(graph, keys) if (u := _as_use(graph, k, ns, declared_of, row_of)) is not None]
        sigs: dict = {}
        for u in found:
            sigs.setdefault(_shape_of_use(graph, u), []).append(u)
        kept = [u for group in sigs.values() if len(group) >= 2 for u in group]
        cover = sum(len(u.nodes) for u in kept)
        if cover > best_cover:
            best, best_cover = kept, cover
    order = {n.name: i for i, n in enumerate(graph.nodes)}
    return sorted(best, key=lambda u: order[u.nodes[0]])



def local_names(use: Use, ident, avoid: set[str] = frozenset()) -> dict[str, str]:
    """Block-local identifiers of the use's layers (the path below the use, '/' -> '_'), kept clear
    of the block's input names, the arguments every class takes and ``avoid``."""
    taken = {ident(i) for i in use.input_names} | {"in_channels", "name", "seed", "training", "self"} | set(avoid)
    out, used = {}, set()
    for n in use.nodes:
        base = ident(use.suggested[n] if n in use.suggested else
                     n[len(use.name) + 1:] if n.startswith(use.name + "/") else n)
        local, k = base, 2
        while local in used or local in taken:
            local, k = f"{base}_{k}", k + 1
        used.add(local)
        out[n] = local
    return out


def runs(items: list, graph: Graph, taken: set[str]) -> list:
    """Group consecutive block calls of one class with equal arguments, each consuming only the
    previous one's output (and nothing else reading the ones in between), into loops."""
    out: list = []
    i = 0
    while i < len(items):
        item = items[i]
        if item["kind"] != "block" or len(item["ins"]) != 1:
            out.append(item)
            i += 1
            continue
        j = i + 1
        chain = [item]
        while j < len(items):
            nxt = items[j]
            prev = chain[-1]
            if nxt["kind"] != "block" or nxt["cls"] != item["cls"] or nxt["args"] != item["args"] \
                    or nxt["ins_names"] != [prev["out_name"]] \
                    or any(c not in nxt["use"].nodes for c in graph.consumers[prev["out_name"]]) \
                    or prev["out_name"] in graph.outputs:
                break
            chain.append(nxt)
            j += 1
        if len(chain) >= MIN_LOOP:
            out.append({"kind": "loop", "id": _run_name([c["id"] for c in chain], taken), "cls": item["cls"],
                        "fn": item["fn"], "args": item["args"], "count": len(chain), "members": chain,
                        "names": [c["id"] for c in chain], "x": item["ins"][0], "out": chain[-1]["out"],
                        "ins": item["ins"], "seed": item.get("seed"), "seed_step": item.get("seed_step")})
            i = j
        else:
            out.append(item)
            i += 1
    return out


def _run_name(ids: list[str], taken: set[str]) -> str:
    """A loop's attribute: the members' common prefix with the first and last number ('s1b2_3')."""
    prefix = ids[0]
    for other in ids[1:]:
        while not other.startswith(prefix):
            prefix = prefix[:-1]
    prefix = prefix.rstrip("0123456789")
    first, last = ids[0][len(prefix):], ids[-1][len(prefix):]
    name = f"{prefix}{first}_{last}" if prefix and first and last else f"{ids[0]}_x{len(ids)}"
    base, k = name, 2
    while name in taken:
        name, k = f"{base}_{k}", k + 1
    taken.add(name)
    return name


# ------------------------------------------------------------------ classes
class _Split(Exception):
    """The uses cannot share one class: split them by what ``key`` gives each."""

    def __init__(self, key):
        super().__init__("split")
        self.key = key


def layer_suffix(use: Use, node: str) -> str:
    """What follows the use's name in the Keras name of a layer inside it: the layer's own path
    below a declared use (so the names stay the graph's), its block-local name in a found group."""
    identifier = KIT.identifier

    if use.implicit or not node.startswith(use.name + "/"):
        return use.locals[node]
    return identifier(node[len(use.name) + 1:])


def _docstring(text: str) -> str:
    """The block's description wrapped for a docstring indented by 4 (continuation lines carry the indent)."""
    import textwrap

    text = " ".join(text.split()).replace(chr(34) * 3, chr(39) * 3)
    return textwrap.fill(text, 92, subsequent_indent="    ") if text else ""


def _class_body(uses: list[Use], target, by_name: dict, graph: Graph) -> dict:
    """One class (or function) for these uses; raises :class:`_Split` when a layer's statements differ
    in more than explainable numbers."""
    ctor_parts, ctor_text, render_statements = KIT.ctor_parts, KIT.ctor_text, KIT.render_statements

    self_prefix = target.spec["blocks"].get("self", "")
    used: dict[str, None] = {}
    forward: dict[str, None] = {}           # parameters the call statements read
    extras: dict[str, list] = {}
    keep_tuples: set[str] = set()           # extra arguments whose sequences stay sequences

    def note(expr: str | None) -> str | None:
        if expr is not None:
            for name in re.findall(r"[A-Za-z_]\w*", expr):
                used[name] = None
        return expr

    members = []
    for pos, first in enumerate(uses[0].nodes):
        ctxs = []
        for u in uses:
            n = u.nodes[pos]
            c = dict(by_name[n])
            c["id"] = c["ref"] = u.locals[n]
            c["ins"] = [u.locals.get(i) or u.inmap[i] for i in graph.node(n).inputs]
            c["x"] = c["ins"][0] if c["ins"] else None
            c["weights"] = [dict(w) for w in c["weights"]]
            ctxs.append(c)
        local = ctxs[0]["id"]
        spec = target.layer(ctxs[0]["type"])
        ctor = None
        if "ctor" in spec:
            parts = [ctor_parts(spec["ctor"], c) for c in ctxs]
            shape = [(cls, [sl["key"] for sl in slots]) for cls, slots in parts]
            if any(sh != shape[0] for sh in shape):
                raise _Split(pos)
            slots = []
            for si, s0 in enumerate(parts[0][1]):
                column = [p[1][si] for p in parts]
                arg = spec["ctor"].get("args", [])[si] if s0["key"] is None else s0["key"]
                word = re.match(r"p\.(\w+)", str(arg))
                pname = word.group(1) if word else (s0["key"] or f"arg{si}")
                collapsible = pname in COLLAPSIBLE or s0["key"] in COLLAPSIBLE
                values = [c["value"] for c in column]
                if all(c["text"] == s0["text"] for c in column):
                    expr = _named_constant(values, uses, collapsible)
                    slots.append(dict(s0) if expr is None else {**s0, "text": note(expr), "default": None})
                    continue
                if collapsible or not isinstance(values[0], (list, tuple)):
                    expr = note(explain(values, uses, extras))
                else:
                    expr = explain_seq(values, uses, extras)
                    if expr is not None:
                        for name in re.findall(r"[A-Za-z_]\w*", expr):
                            note(name)
                if expr is None:
                    expr = f"{local}_{pname}"
                    extras[expr] = values if collapsible else [_plain(v) for v in values]
                    if not collapsible:
                        keep_tuples.add(expr)
                    used[expr] = None
                slots.append({"key": s0["key"], "value": None, "text": expr, "default": None})
            ctor = ctor_text(parts[0][0], slots)
        for c in ctxs:
            render_statements(spec, c, ctor)
        member = {"id": local, "type": ctxs[0]["type"], "ctor": ctor, "weights": []}
        for key in ("pre", "init", "apply"):
            texts = [c.get(key) for c in ctxs]
            if texts[0] is None:
                continue
            in_forward = key != "init"
            text = unify_text(texts, uses, prefix=self_prefix if in_forward else "", extra=extras,
                              note=(lambda e: [note(e), forward.update(dict.fromkeys(re.findall(r"[A-Za-z_]\w*", e)))])
                              if in_forward else note)
            if text is None:
                raise _Split(pos)
            if target.spec["blocks"].get("names") == "prefix":     # layer names: <use>_<layer>
                # (the variable may have been renamed away from a parameter's name; the layer keeps its own)
                orig = layer_suffix(uses[0], uses[0].nodes[pos])
                text = re.sub(r"""\bname=(['"])(\w+)\1""",
                              lambda m: 'name=f"{name}_' + (orig + m.group(2)[len(local):] if m.group(2).startswith(local)
                                                             else m.group(2)) + '"', text)
            member[key] = text
        for wi, w in enumerate(ctxs[0]["weights"]):
            dims = []
            for d in range(len(w["shape"])):
                column = [c["weights"][wi]["shape"][d] for c in ctxs]
                if all(v == column[0] for v in column):
                    expr = _named_constant(column, uses)
                    dims.append(str(column[0]) if expr is None else note(expr))
                    continue
                expr = note(explain(column, uses, extras))
                if expr is None:
                    expr = f"{local}_{w['name']}_{d}"
                    extras[expr] = column
                    used[expr] = None
                dims.append(expr)
            member["weights"].append({"name": w["name"], "init": w["init"],
                                      "shape": "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"})
        members.append(member)
    stored = [n for n in forward if n in used] if self_prefix else []
    return {"members": members, "used": list(used), "extras": extras, "stored": stored, "keep_tuples": keep_tuples}


def _signature(uses: list[Use], body: dict) -> tuple[list[dict], list[str]]:
    """The class's parameters (required first, then those with a default) and each use's call arguments."""
    u0 = uses[0]
    order = (["in_channels"] if "in_channels" in body["used"] else []) \
        + [k for k in u0.params if k in body["used"]] + list(body["extras"])
    params = []
    for k in order:
        default = u0.defaults.get(k) if k in u0.params else None
        params.append({"name": k, "default": default})
    params = [p for p in params if p["default"] is None] + [p for p in params if p["default"] is not None]
    calls = []
    for ui, u in enumerate(uses):
        parts = []
        for p in params:
            k = p["name"]
            value = u.in_channels if k == "in_channels" else (
                u.params[k] if k in u.params else body["extras"][k][ui] if k in body["keep_tuples"]
                else _norm(body["extras"][k][ui]))
            if p["default"] is None:
                parts.append(repr(_plain(value)))
            elif not _same(value, p["default"]):
                parts.append(f"{k}={_plain(value)!r}")
        calls.append(", ".join(parts))
    for p in params:
        p["text"] = p["name"] if p["default"] is None else f"{p['name']}={_plain(p['default'])!r}"
    return params, calls


def _plain(value):
    return tuple(value) if isinstance(value, list) else value


def _classes(uses: list[Use], target, by_name: dict, graph: Graph) -> list[tuple[list[Use], dict]]:
    """The uses split into groups that share a class body."""
    try:
        body = _class_body(uses, target, by_name, graph)
        clash = set(body["used"]) & {n for u in uses for n in u.locals.values()}
        if clash:                       # a layer named like a parameter the class reads: rename the layer
            for u in uses:
                u.locals = local_names(u, KIT.identifier, clash | set(u.locals.values()) & clash)
            body = _class_body(uses, target, by_name, graph)
        return [(uses, body)]
    except _Split as split:
        pos = split.key
        parts: dict = {}
        for u in uses:
            parts.setdefault(_node_text(u, pos, target, by_name, graph), []).append(u)
        if len(parts) == 1:                  # cannot happen: equal texts unify; keep them flat-safe
            return [([u], _class_body([u], target, by_name, graph)) for u in uses]
        out = []
        for group in parts.values():
            out.extend(_classes(group, target, by_name, graph))
        return out


def _node_text(u: Use, pos: int, target, by_name: dict, graph: Graph) -> str:
    ctor_parts, render_statements = KIT.ctor_parts, KIT.render_statements

    n = u.nodes[pos]
    c = dict(by_name[n])
    c["id"] = c["ref"] = u.locals[n]
    c["ins"] = [u.locals.get(i) or u.inmap[i] for i in graph.node(n).inputs]
    c["x"] = c["ins"][0] if c["ins"] else None
    spec = target.layer(c["type"])
    head = ""
    if "ctor" in spec:
        cls, slots = ctor_parts(spec["ctor"], c)
        head = cls + repr([s["key"] for s in slots])
    render_statements(spec, c)
    return head + "\n" + "\n".join(str(c.get(k)) for k in ("pre", "init", "apply"))


def build_structure(graph: Graph, target) -> dict:
    """The model's plan for a target that writes blocks: ``plans`` (every node rendered, block
    outputs held by the block call's variable), ``classes`` (one per block type and variant),
    ``items`` (in model order: a node, a block call, or a loop of calls) and ``paths``
    (node id -> {prefix: attribute path, local: block-local name, name: Keras layer name} for the
    layers inside blocks)."""
    class_name, identifier, layer_plan, node_identifiers = (KIT.class_name, KIT.identifier, KIT.layer_plan,
                                                            KIT.node_identifiers)

    idents = node_identifiers(graph)
    taken = set(idents.values())
    uses = find_uses(graph)
    for u in uses:
        uid, k = identifier(u.name), 2
        base = uid
        while uid in taken:
            uid, k = f"{base}_{k}", k + 1
        taken.add(uid)
        u.id = uid
        u.locals = local_names(u, identifier)
        u.inmap = {outer: identifier(inner) for outer, inner in zip(u.inputs, u.input_names)}
    refs = {u.output: u.id for u in uses}
    plans = layer_plan(graph, target, refs)
    if not uses:
        return {"plans": plans, "classes": [], "items": [{"kind": "node", "n": c} for c in plans], "paths": {}}
    by_name = {c["name"]: c for c in plans}

    groups: dict = {}
    for u in uses:
        key = (u.type, tuple((u.locals[n], by_name[n]["type"],
                              tuple(u.locals.get(i) or u.inmap[i] for i in graph.node(n).inputs)) for n in u.nodes),
               u.locals[u.output])
        groups.setdefault(key, []).append(u)

    classes, call_of = [], {}
    names_taken = {class_name(graph.name)} | set(target.spec.get("reserved_names", []))
    fn_taken = set(taken)
    by_type: dict[str, list] = {}
    for group in groups.values():
        for members, body in _classes(group, target, by_name, graph):
            by_type.setdefault(members[0].type, []).append((members, body))
    for btype, variants in by_type.items():
        variants.sort(key=lambda v: (-len(v[0]), len(v[1]["members"])))
        base_locals = {m["id"] for m in variants[0][1]["members"]}
        for vi, (members, body) in enumerate(variants):
            suffix = ""
            if vi:                           # named by a layer it adds, or one it leaves out
                mine = [m["id"] for m in body["members"]]
                extra = [m for m in mine if m not in base_locals]
                missing = [m["id"] for m in variants[0][1]["members"] if m["id"] not in mine]
                suffix = re.sub(r"_\d+$", "", extra[0] if extra else f"no_{missing[0]}" if missing else f"v{vi + 1}")
            cname, fname = class_name(btype + ("_" + suffix if suffix else "")), identifier(btype + ("_" + suffix if suffix else ""))
            k = 2
            while cname in names_taken or fname in fn_taken:
                cname, fname, k = f"{cname}{k}", f"{fname}_{k}", k + 1
            names_taken.add(cname)
            fn_taken.add(fname)
            params, calls = _signature(members, body)
            u0 = members[0]
            out_local = u0.locals[u0.output]
            cls = {"name": cname, "fn": fname, "block_type": btype, "doc": _docstring(u0.description if not u0.implicit else
                                                 f"{btype}: the group of layers repeated in the graph as "
                                                 + ", ".join(m.name for m in members[:4])
                                                 + (f" and {len(members) - 4} more" if len(members) > 4 else "")
                                                 + "."),
                   "params": params, "inputs": [identifier(i) for i in u0.input_names], "output": out_local,
                   "members": body["members"], "stored": body["stored"], "uses": len(members),
                   "weights": sum(len(m["weights"]) for m in body["members"])}
            for i, m in enumerate(w for m in body["members"] for w in m["weights"]):
                m["index"] = i
            classes.append(cls)
            for u, call in zip(members, calls):
                call_of[u.id] = (cls, call)

    inner_of = {n: u for u in uses for n in u.nodes}
    items = []
    for c in plans:
        u = inner_of.get(c["name"])
        if u is None:
            items.append({"kind": "node", "n": c})
            continue
        if c["name"] != u.output:
            continue
        cls, call = call_of[u.id]
        weights = [w["index"] for n in u.nodes for w in by_name[n]["weights"]]
        items.append({"kind": "block", "id": u.id, "cls": cls["name"], "fn": cls["fn"], "args": call,
                      "ins": [by_name[i]["ref"] for i in u.inputs], "ins_names": list(u.inputs), "out": u.id,
                      "out_name": u.output, "use": u, "seed": min(weights) if weights else 0,
                      "seed_step": cls["weights"]})
    items = runs(items, graph, taken)
    paths = {}
    for item in items:
        members = [(None, item)] if item["kind"] == "block" else list(enumerate(item.get("members", [])))
        for k, member in members:
            u = member["use"]
            for n in u.nodes:
                paths[idents[n]] = {"prefix": [item["id"]] + ([] if k is None else [k]), "local": u.locals[n],
                                    "name": f"{member['id']}_{layer_suffix(u, n)}"}
    return {"plans": plans, "classes": classes, "items": items, "paths": paths}
