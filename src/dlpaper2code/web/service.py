"""What the editor and the API compute on a graph: validation with shapes, code for every
target, structured diffs between versions and the three-way merge offered after a conflict.
"""
from __future__ import annotations

import copy
import functools
import gc
import json
import re
import time
from typing import Any

from ..emit.codegen import TARGETS, emit
from ..core.errors import EmitError
from ..core.graph import library_blocks, parse_graph, partial_shapes
from ..core.vocab import load_vocabulary

MAX_GRAPH_BYTES = 512 * 1024      # request bodies carrying a graph
MAX_GRAPH_LAYERS = 1000           # layers written in the document (before block expansion)
MAX_JSON_DEPTH = 64               # nesting of arrays/objects in a request body (a graph needs about 6)
FILE_LANG = {".py": "python", ".prototxt": "protobuf"}


class BadRequest(Exception):
    """A client error: ``status`` (4xx) and a message meant for a person."""

    def __init__(self, status: int, message: str, **extra: Any):
        super().__init__(message)
        self.status, self.message, self.extra = status, message, extra


def parse_json_body(body: bytes, what: str = "request body", limit: int = MAX_GRAPH_BYTES) -> Any:
    if len(body) > limit:
        raise BadRequest(413, f"the {what} is {len(body):,} bytes; the limit is {limit:,} bytes")
    if not body.strip():
        raise BadRequest(400, f"the {what} is empty; send a JSON object")
    deepest = _bracket_depth(body)
    if deepest > MAX_JSON_DEPTH:
        raise BadRequest(400, f"the {what} nests arrays or objects {deepest:,} levels deep; "
                              f"the limit is {MAX_JSON_DEPTH}")
    try:
        return json.loads(body)
    except UnicodeDecodeError:
        raise BadRequest(400, f"the {what} is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise BadRequest(400, f"the {what} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    except RecursionError:
        raise BadRequest(400, f"the {what} nests arrays or objects too deeply; the limit is {MAX_JSON_DEPTH}") from None


_BRACKETS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def _bracket_depth(body: bytes) -> int:
    """The deepest nesting of [ and { in a JSON text (strings skipped), found without recursion,
    so a body of 100,000 '[' is refused before the parser recurses into it."""
    if body.count(b"[") + body.count(b"{") <= MAX_JSON_DEPTH:
        return 0
    depth = deepest = 0
    for m in _BRACKETS.finditer(body):
        c = m.group()
        if c in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        elif c in (b"]", b"}"):
            depth -= 1
    return deepest


def check_graph_doc(doc: Any) -> dict:
    """The shape every stored graph has: an object with a ``layers`` list of at most
    MAX_GRAPH_LAYERS layers (a bare list of layers is wrapped)."""
    if isinstance(doc, list):
        doc = {"layers": doc}
    if not isinstance(doc, dict) or not isinstance(doc.get("layers"), list):
        raise BadRequest(422, "a graph is a JSON object with a \"layers\" list (see config/graph.schema.json)")
    bad = next((k for k, l in enumerate(doc["layers"]) if not isinstance(l, dict)), None)
    if bad is not None:
        raise BadRequest(422, f"layer {bad} of the graph is not a JSON object (each layer has layer_type, layer_name, ...)")
    if len(doc["layers"]) > MAX_GRAPH_LAYERS:
        raise BadRequest(413, f"the graph has {len(doc['layers'])} layers; the editor accepts at most {MAX_GRAPH_LAYERS}")
    return doc


def _block_param_kind(default) -> str:
    """The form field a block parameter gets, from its default (null: a required int)."""
    if isinstance(default, bool):
        return "bool"
    if default is None or isinstance(default, int):
        return "int"
    return "float" if isinstance(default, float) else "str"


@functools.lru_cache(maxsize=1)
def vocabulary_payload() -> dict:
    """Layers and blocks for the editor's palette and parameter forms."""
    vocab = load_vocabulary()
    layers = {}
    for name, spec in vocab.layers.items():
        params = {}
        for pname, ps in spec.params.items():
            entry = ps.to_dict()
            if ps.kind == "activation":
                entry["choices"] = list(vocab.activations)
            if ps.aliases:
                entry["aliases"] = list(ps.aliases)
            params[pname] = entry
        layers[name] = {"description": spec.description, "params": params, "arity": list(spec.arity)}
    blocks = {}
    for name, block in library_blocks().items():
        blocks[name] = {"description": block.get("description", ""),
                        "params": {k: {"kind": _block_param_kind(v), "default": v, "required": v is None}
                                   for k, v in (block.get("params") or {}).items()},
                        "arity": [len(block["inputs"]), len(block["inputs"])]}
    return {"layers": layers, "blocks": blocks, "activations": list(vocab.activations), "targets": list(TARGETS)}


def _top_level_shapes(doc: dict, shapes: dict) -> dict[str, list]:
    """Output shape of every layer written in the document (a block use gets its output layer's);
    ``shapes`` maps expanded layer names to TensorInfo (None or absent where unknown)."""
    blocks = {**library_blocks(), **(doc.get("blocks") if isinstance(doc.get("blocks"), dict) else {})}
    out = {}
    for raw in doc.get("layers", []):
        name = raw.get("layer_name")
        if not isinstance(name, str):
            continue
        if shapes.get(name) is not None:
            out[name] = shapes[name].to_list()
            continue
        cur, ltype = name, raw.get("layer_type")
        for _ in range(8):   # nested blocks: follow each block's output
            block = blocks.get(ltype) if isinstance(ltype, str) else None
            if not isinstance(block, dict) or not isinstance(block.get("output"), str):
                break
            cur = f"{cur}/{block['output']}"
            if shapes.get(cur) is not None:
                out[name] = shapes[cur].to_list()
                break
            inner = next((l for l in block.get("layers") or [] if isinstance(l, dict) and l.get("layer_name") == block["output"]), None)
            ltype = inner.get("layer_type") if inner else None
    return out


def _partial_shapes(doc: dict) -> dict[str, list]:
    """The top-level shapes of the sound part of a graph that does not validate."""
    return _top_level_shapes(doc, partial_shapes(doc))


_heap_frozen = False


def freeze_warm_heap() -> None:
    """Once per process, after a first generation has loaded the vocabulary, the schema, the
    templates and the emitters (the app's warm-up at start): collect, then move every object still
    alive into the permanent generation (gc.freeze), so that the cyclic collector's full passes stop
    rescanning them. Those passes came about every 30 edits and took 50-70 ms on a 200-layer graph
    (the editor's slowest edits); after this they take about 3 ms."""
    global _heap_frozen
    if _heap_frozen:
        return
    _heap_frozen = True
    gc.collect()
    gc.freeze()


def generate(doc: Any, targets: list[str] | None = None) -> dict:
    """Validate ``doc`` and emit code: what the editor's code panel shows. ``targets``: None
    emits every target, a list only those (unknown names are ignored), ``[]`` none (validation
    and shapes only). On a validation failure the shapes inferred for the sound part of the
    graph (upstream of and unaffected by the problems) still come back."""
    t0 = time.perf_counter()
    doc = check_graph_doc(doc)
    targets = [t for t in (TARGETS if targets is None else targets) if t in TARGETS]
    names = {l.get("layer_name") for l in doc["layers"] if isinstance(l, dict)}
    try:
        graph = parse_graph(copy.deepcopy(doc), source="editor")
    except Exception as exc:  # GraphError (or a bad block expression) -> issues on the nodes at fault
        issues = getattr(exc, "issues", None)
        if issues is None:
            issues = [{"kind": "syntax", "node": None, "message": str(exc)}]
        else:
            issues = [i.to_dict() for i in issues]
        for i in issues:   # an issue inside a block use belongs to the block's node on the canvas
            node = i.get("node")
            if node and node not in names and "/" in node:
                i["node"] = next((n for n in names if n and node.startswith(n + "/")), node)
        at_fault = {i.get("node") for i in issues if i.get("node")}
        shapes = {k: v for k, v in _partial_shapes(doc).items() if k not in at_fault}
        return {"ok": False, "issues": issues, "shapes": shapes, "outputs": [], "code": {},
                "ms": round((time.perf_counter() - t0) * 1000, 2)}
    code = {}
    for t in targets:
        try:
            files = emit(graph, t)
            code[t] = {"ok": True, "files": files}
        except EmitError as exc:
            code[t] = {"ok": False, "error": str(exc), "node": exc.node}
    # each block use's own layers (with shapes), which the editor shows when the block is expanded
    inside: dict[str, dict] = {}
    for n in graph.nodes:
        if n.block and n.block in graph.block_uses:
            use = inside.setdefault(n.block, {"output": graph.block_uses[n.block]["output"], "layers": []})
            use["layers"].append({"layer_name": n.name, "layer_type": n.type, "from_layers": list(n.inputs),
                                  "shape": graph.shapes[n.name].to_list()})
    out = {"ok": True, "issues": [], "shapes": _top_level_shapes(doc, graph.shapes), "outputs": graph.outputs,
           "layers": len(graph.nodes), "layer_types": sorted({n.type for n in graph.nodes}), "code": code,
           "block_layers": inside, "ms": round((time.perf_counter() - t0) * 1000, 2)}
    return out


# ------------------------------------------------------------------ diffs
def _norm_layer(layer: dict) -> dict:
    return {"layer_type": layer.get("layer_type"), "layer_params": dict(layer.get("layer_params") or {}),
            "from_layers": list(layer.get("from_layers") or [])}


def _layers(doc: dict) -> dict[str, dict]:
    return {l["layer_name"]: _norm_layer(l) for l in (doc or {}).get("layers", []) if isinstance(l, dict) and "layer_name" in l}


def graph_diff(old: dict | None, new: dict) -> dict:
    """Layers added, removed and changed (type, each parameter, inputs) from ``old`` to ``new``."""
    a, b = _layers(old or {}), _layers(new)
    changed = []
    for name in b:
        if name not in a or a[name] == b[name]:
            continue
        entry: dict = {"layer": name}
        if a[name]["layer_type"] != b[name]["layer_type"]:
            entry["layer_type"] = [a[name]["layer_type"], b[name]["layer_type"]]
        pa, pb = a[name]["layer_params"], b[name]["layer_params"]
        params = {k: [pa.get(k), pb.get(k)] for k in sorted(set(pa) | set(pb)) if pa.get(k) != pb.get(k)}
        if params:
            entry["params"] = params
        if a[name]["from_layers"] != b[name]["from_layers"]:
            entry["from_layers"] = [a[name]["from_layers"], b[name]["from_layers"]]
        changed.append(entry)
    other = {k: [(old or {}).get(k), new.get(k)] for k in ("name", "description", "outputs", "blocks")
             if (old or {}).get(k) != new.get(k)}
    return {"added": [n for n in b if n not in a], "removed": [n for n in a if n not in b],
            "changed": changed, "other": other}


def diff_summary(diff: dict) -> str:
    parts = []
    if diff.get("added"):
        parts.append(f"+{len(diff['added'])} layer(s)")
    if diff.get("removed"):
        parts.append(f"-{len(diff['removed'])} layer(s)")
    if diff.get("changed"):
        parts.append(f"{len(diff['changed'])} changed")
    if diff.get("other"):
        parts.append("changed " + ", ".join(diff["other"]))
    return ", ".join(parts) or "no change"


def merge_graphs(base: dict, mine: dict, theirs: dict) -> dict:
    """Three-way merge by layer name. A layer changed on one side only takes that side; a layer
    changed differently on both sides is a conflict, resolved to ``mine`` and listed."""
    bl, ml, tl = _layers(base), _layers(mine), _layers(theirs)
    raw_m = {l["layer_name"]: l for l in mine.get("layers", [])}
    raw_t = {l["layer_name"]: l for l in theirs.get("layers", [])}
    conflicts, merged_names = [], []
    order = [l["layer_name"] for l in mine.get("layers", [])]
    order += [n for n in (l["layer_name"] for l in theirs.get("layers", [])) if n not in raw_m]
    layers = []
    for name in order:
        b, m, t = bl.get(name), ml.get(name), tl.get(name)
        if m == t:
            pick = raw_m.get(name) or raw_t.get(name)
        elif m == b:
            pick = raw_t.get(name)            # only theirs changed (or removed) it
        elif t == b:
            pick = raw_m.get(name)            # only mine changed (or removed) it
        else:
            pick = raw_m.get(name)
            conflicts.append({"layer": name, "mine": m, "theirs": t, "base": b})
        if pick is not None:
            layers.append(copy.deepcopy(pick))
            merged_names.append(name)
    out = {k: v for k, v in mine.items() if k != "layers"}
    for key in ("name", "description", "outputs", "blocks"):
        if mine.get(key) == base.get(key) and theirs.get(key) != base.get(key):
            if key in theirs:
                out[key] = copy.deepcopy(theirs[key])
            else:
                out.pop(key, None)
    out["layers"] = layers
    return {"graph": out, "conflicts": conflicts}
