"""The library-agnostic model graph: loading, block expansion, validation.

A graph document is JSON in the MEX thesis poster's node format::

    {"name": "lenet5",
     "blocks": {...},                      # optional composite blocks
     "layers": [{"layer_type": "Conv2D", "layer_name": "conv1",
                 "layer_params": {...}, "from_layers": ["input"]}, ...],
     "outputs": ["fc3"]}                   # optional; default: the sinks

A bare list of nodes or a single node also loads. :func:`parse_graph`
returns a validated :class:`Graph` (every node normalised, sorted, and with
its inferred output shape) or raises :class:`GraphError` listing every
problem with the node at fault.
"""
from __future__ import annotations

import copy
import functools
import heapq
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from . import paths
from .errors import GraphError, GraphIssue
from .expr import evaluate
from .shapes import ShapeProblem, TensorInfo, infer
from .vocab import Vocabulary, load_vocabulary

MAX_LAYERS = 5000          # after block expansion; larger graphs are refused
MAX_BLOCK_DEPTH = 8


@dataclass
class Node:
    name: str
    type: str
    params: dict[str, Any]
    inputs: list[str]
    raw_type: str = ""
    block: str | None = None          # the block use this node was expanded from
    meta: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        out = {"layer_type": self.type, "layer_name": self.name, "layer_params": self.params,
               "from_layers": list(self.inputs)}
        if self.meta:
            out["meta"] = self.meta
        return out


@dataclass
class Graph:
    name: str
    nodes: list[Node]                     # topological order
    shapes: dict[str, TensorInfo]
    outputs: list[str]
    description: str = ""
    source_doc: dict = field(default_factory=dict)
    # each top-level use of a named block: use name -> {type, params, inputs, input_names, output, description}
    block_uses: dict = field(default_factory=dict)

    def node(self, name: str) -> Node:
        return self._index[name]

    def __post_init__(self):
        self._index = {n.name: n for n in self.nodes}
        self.consumers: dict[str, list[str]] = {n.name: [] for n in self.nodes}
        for n in self.nodes:
            for i in n.inputs:
                self.consumers[i].append(n.name)

    @property
    def inputs(self) -> list[Node]:
        return [n for n in self.nodes if n.type == "Input"]

    def to_dict(self, expanded: bool = True) -> dict:
        if not expanded and self.source_doc:
            return copy.deepcopy(self.source_doc)
        return {"schema_version": 1, "name": self.name, "description": self.description,
                "layers": [n.to_dict() for n in self.nodes], "outputs": list(self.outputs)}

    def shape_table(self) -> list[dict]:
        return [{"layer_name": n.name, "layer_type": n.type, "from_layers": n.inputs,
                 "output_shape": self.shapes[n.name].to_list(), "dtype": self.shapes[n.name].dtype}
                for n in self.nodes]


# ----------------------------------------------------------------- loading
@functools.lru_cache(maxsize=1)
def _schema() -> dict:
    return json.loads(paths.config_file("graph.schema.json").read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=1)
def _validator():
    schema = _schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@functools.lru_cache(maxsize=1)
def library_blocks() -> dict:
    path = paths.config_file("blocks.yaml")
    if not path.is_file():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return data.get("blocks", {})


def read_document(path: str | Path) -> dict | list:
    """Read a graph JSON file; a syntax error names the file, line and column."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")         # a byte-order mark (Windows editors) is allowed
    except FileNotFoundError:
        raise GraphError([GraphIssue("syntax", "file not found")], source=str(path)) from None
    except UnicodeDecodeError as exc:
        raise GraphError([GraphIssue("syntax", f"not UTF-8 text ({exc.reason} at byte {exc.start})")],
                         source=str(path)) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise GraphError([GraphIssue("syntax", f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}")],
                         source=str(path)) from None


def load_graph(path: str | Path, vocab: Vocabulary | None = None) -> Graph:
    path = Path(path)
    doc = read_document(path)
    default_name = re.sub(r"[^A-Za-z0-9_]", "_", path.stem) or "model"
    if not default_name[0].isalpha():
        default_name = "m_" + default_name
    return parse_graph(doc, vocab=vocab, source=str(path), default_name=default_name)


# What each "pattern" of graph.schema.json asks for, in words (a message never shows the regex)
PATTERN_WORDS = {
    "^[^\\s\"'<>`]+$": "is not a valid name: a name has no spaces, quotes, < > or `",
    "^[A-Za-z][A-Za-z0-9_\\-]*$": "is not a valid graph name: use letters, digits, _ and -, starting with a letter",
}


def _schema_message(err) -> str:
    if err.validator == "pattern":
        words = PATTERN_WORDS.get(str(err.validator_value), "does not have the form this field needs")
        return f"{err.instance!r} {words}"
    if err.validator == "minLength" and err.instance == "":
        return "is empty"
    return err.message


def _schema_node(doc: Any, path: list) -> str | None:
    """The layer a schema problem is in (``layers/<k>/...``), so the editor can mark it."""
    layers = doc.get("layers") if isinstance(doc, dict) else doc if isinstance(doc, list) else None
    if isinstance(doc, dict) and path[:1] == ["layers"]:
        path = path[1:]
    elif not isinstance(doc, list):
        return None
    if not path or not isinstance(path[0], int) or not isinstance(layers, list) or path[0] >= len(layers):
        return None
    name = layers[path[0]].get("layer_name") if isinstance(layers[path[0]], dict) else None
    return name if isinstance(name, str) and name else None


def _schema_issues(doc: Any) -> list[GraphIssue]:
    issues = []
    for err in sorted(_validator().iter_errors(doc), key=lambda e: list(e.absolute_path)):
        where = "/".join(str(p) for p in err.absolute_path) or "document"
        # oneOf hides the useful message; report the deepest sub-error
        best = err
        if err.context:
            best = min(err.context, key=lambda e: (len(list(e.absolute_path)) * -1, str(e.message)))
            where = "/".join(str(p) for p in best.absolute_path) or where
        issues.append(GraphIssue("syntax", f"{where}: {_schema_message(best)}",
                                 _schema_node(doc, list(best.absolute_path))))
    return issues[:20]


# ------------------------------------------------------------------ blocks
_REF = re.compile(r"^\$(\w+)$|^\$\{(.+)\}$")


def _substitute(value: Any, params: dict) -> Any:
    if isinstance(value, str):
        m = _REF.match(value.strip())
        if m:
            if m.group(1):
                if m.group(1) not in params:
                    raise KeyError(m.group(1))
                return params[m.group(1)]
            return evaluate(m.group(2), **params)
        return value
    if isinstance(value, list):
        return [_substitute(v, params) for v in value]
    if isinstance(value, dict):
        return {k: _substitute(v, params) for k, v in value.items()}
    return value


def _expand(raw_nodes: list[dict], blocks: dict, vocab: Vocabulary, issues: list[GraphIssue],
            prefix: str = "", rename: dict[str, str] | None = None, depth: int = 0,
            block_of: str | None = None, uses: dict | None = None) -> tuple[list[dict], dict[str, str]]:
    """Replace every use of a block with its layers.

    Returns the flat raw nodes and a map from each block use's name to the
    name of its output layer (so later layers can consume the block).  Each
    top-level use is recorded in ``uses`` (the emitters write a class per block).
    """
    rename = dict(rename or {})
    out: list[dict] = []
    for raw in raw_nodes:
        ltype = raw.get("layer_type", "")
        name = prefix + raw["layer_name"]
        from_layers = [rename.get(f, prefix + f) for f in raw.get("from_layers", [])]
        if vocab.resolve_type(ltype, raw.get("layer_params") or {}) is not None or ltype not in blocks:
            node = dict(raw, layer_name=name, from_layers=from_layers)
            if block_of:
                node["_block"] = block_of
            out.append(node)
            rename[raw["layer_name"]] = name
            continue
        block = blocks[ltype]
        if depth >= MAX_BLOCK_DEPTH:
            issues.append(GraphIssue("block", f"blocks nested deeper than {MAX_BLOCK_DEPTH} (recursive block '{ltype}'?)", name))
            continue
        params = dict(block.get("params") or {})
        given = raw.get("layer_params") or {}
        unknown = sorted(set(given) - set(params))
        if unknown:
            issues.append(GraphIssue("block", f"block '{ltype}' has no parameter(s) {unknown}; its parameters: {sorted(params)}", name))
            continue
        params.update(given)
        missing = sorted(k for k, v in params.items() if v is None)
        if missing:
            issues.append(GraphIssue("block", f"block '{ltype}' needs parameter(s) {missing}", name))
            continue
        if len(from_layers) != len(block["inputs"]):
            issues.append(GraphIssue("arity", f"block '{ltype}' takes {len(block['inputs'])} input(s), got {len(from_layers)}", name))
            continue
        try:
            inner = _substitute(block["layers"], params)
            # a layer with `when: ${expression}` is part of the block only where it holds
            inner = [{k: v for k, v in layer.items() if k != "when"} for layer in inner if layer.get("when", True)]
            block_output = _substitute(block["output"], params)
        except KeyError as exc:
            issues.append(GraphIssue("block", f"block '{ltype}' refers to undefined parameter ${exc.args[0]}", name))
            continue
        except Exception as exc:  # bad expression in the block definition
            issues.append(GraphIssue("block", f"block '{ltype}': cannot evaluate a parameter expression: {exc}", name))
            continue
        inner_rename = dict(zip(block["inputs"], from_layers))
        expanded, inner_map = _expand(inner, blocks, vocab, issues, prefix=name + "/", rename=inner_rename,
                                      depth=depth + 1, block_of=block_of or name)
        out.extend(expanded)
        if block_output not in inner_map:
            issues.append(GraphIssue("block", f"block '{ltype}' output '{block_output}' is not one of its layers", name))
            continue
        rename[raw["layer_name"]] = inner_map[block_output]
        if uses is not None and block_of is None:
            uses[name] = {"type": ltype, "params": params, "inputs": list(from_layers),
                          "input_names": list(block["inputs"]), "output": inner_map[block_output],
                          "defaults": dict(block.get("params") or {}),
                          "description": str(block.get("description") or "").strip()}
    return out, rename


# -------------------------------------------------------------- validation
def parse_graph(doc: Any, vocab: Vocabulary | None = None, source: str | None = None,
                default_name: str = "model") -> Graph:
    """Validate a graph document and return the expanded, shape-annotated graph."""
    vocab = vocab or load_vocabulary()
    issues = _schema_issues(doc)
    if issues:
        raise GraphError(issues, source=source)
    if isinstance(doc, dict) and "layers" in doc:
        graph_doc = doc
    else:
        graph_doc = {"layers": doc if isinstance(doc, list) else [doc]}
    name = graph_doc.get("name") or default_name
    blocks = {**library_blocks(), **(graph_doc.get("blocks") or {})}

    uses: dict = {}
    raw_nodes, top_map = _expand(graph_doc["layers"], blocks, vocab, issues, uses=uses)
    # a layer may consume a block used further down the document
    for raw in raw_nodes:
        raw["from_layers"] = [top_map.get(f, f) for f in raw.get("from_layers", [])]
    for use in uses.values():
        use["inputs"] = [top_map.get(f, f) for f in use["inputs"]]
    if len(raw_nodes) > MAX_LAYERS:
        raise GraphError([GraphIssue("block", f"graph has {len(raw_nodes)} layers after expansion; the limit is {MAX_LAYERS}")],
                         source=source)

    nodes: list[Node] = []
    seen: set[str] = set()
    for raw in raw_nodes:
        nname = raw["layer_name"]
        if nname in seen:
            issues.append(GraphIssue("duplicate_name", f"layer_name '{nname}' is used more than once", nname))
            continue
        seen.add(nname)
        raw_params = dict(raw.get("layer_params") or {})
        resolved = vocab.resolve_type(raw["layer_type"], raw_params)
        if resolved is None:
            if raw["layer_type"] in blocks:
                continue  # reported during expansion
            hint = vocab.suggest_type(raw["layer_type"])
            extra = f" (did you mean '{hint}'?)" if hint else ""
            issues.append(GraphIssue("unknown_layer_type", f"unknown layer_type '{raw['layer_type']}'{extra}", nname))
            continue
        ltype, params, p_issues = _typed_params(vocab, resolved, raw_params, nname)
        issues.extend(p_issues)
        nodes.append(Node(nname, ltype, params, list(raw.get("from_layers", [])), raw["layer_type"],
                          raw.get("_block"), raw.get("meta", {})))

    names = {n.name for n in nodes} | {r["layer_name"] for r in raw_nodes}
    component, cycles = _cycles(nodes)
    for cycle in cycles:
        issues.append(GraphIssue("cycle", "the graph has a cycle: " + " -> ".join(cycle), cycle[0]))
    for n in nodes:
        lo, hi = vocab.layers[n.type].arity
        # an input that closes a cycle is reported as the cycle, not as one input too many
        outside = [i for i in n.inputs if component.get(i) is None or component.get(i) != component.get(n.name)]
        if n.type != "Input" and not n.inputs:
            issues.append(GraphIssue("missing_input", f"{n.type} layer has no from_layers", n.name))
        elif not lo <= len(n.inputs) <= hi and not (len(outside) < len(n.inputs) and lo <= len(outside) <= hi):
            want = f"{lo}" if lo == hi else f"{lo} to {hi}"
            issues.append(GraphIssue("arity", f"{n.type} takes {want} input(s), got {len(n.inputs)}", n.name))
        for i in n.inputs:
            if i not in names:
                issues.append(GraphIssue("dangling_input", f"from_layers names '{i}', which is not a layer of this graph", n.name))
    if nodes and not any(n.type == "Input" for n in nodes):
        issues.append(GraphIssue("no_input", "the graph has no Input layer (add one with layer_params.shape)"))
    if issues:
        raise GraphError(_dedupe(issues), source=source)

    order = _toposort(nodes, issues)
    if issues:
        raise GraphError(issues, source=source)

    shapes: dict[str, TensorInfo] = {}
    for n in order:
        ins = [shapes[i] for i in n.inputs]
        if any(i is None for i in ins):
            # an input already failed: report only the first error on each path
            shapes[n.name] = None  # type: ignore[assignment]
            continue
        try:
            shapes[n.name] = infer(n, ins)
        except ShapeProblem as exc:
            issues.append(GraphIssue("shape_mismatch", str(exc), n.name))
            shapes[n.name] = None  # type: ignore[assignment]
    if issues:
        raise GraphError(issues, source=source)

    consumed = {i for n in order for i in n.inputs}
    outputs = [top_map.get(o, o) for o in graph_doc.get("outputs", [])] or [n.name for n in order if n.name not in consumed]
    for o in outputs:
        if o not in shapes:
            issues.append(GraphIssue("dangling_input", f"outputs names '{o}', which is not a layer of this graph"))
    if issues:
        raise GraphError(issues, source=source)
    return Graph(name=name, nodes=order, shapes=shapes, outputs=outputs,
                 description=graph_doc.get("description", ""), source_doc=graph_doc, block_uses=uses)


def _dedupe(issues: list[GraphIssue]) -> list[GraphIssue]:
    seen, out = set(), []
    for i in issues:
        if (i.kind, i.node, i.message) not in seen:
            seen.add((i.kind, i.node, i.message))
            out.append(i)
    return out


def _typed_params(vocab: Vocabulary, resolved: tuple, raw_params: dict, name: str) -> tuple[str, dict, list]:
    """A layer's canonical type and normalized parameters from ``vocab.resolve_type``'s answer
    (an alias's implied parameters filled in, a parameter it replaces dropped), with the issues."""
    ltype, implied = resolved
    implied = dict(implied)
    drop = implied.pop("__drop__", None)
    if drop:
        raw_params.pop(drop, None)
    for k, v in implied.items():
        raw_params.setdefault(k, v)
    params, p_issues = vocab.normalize_params(ltype, raw_params, name)
    return ltype, params, p_issues


def partial_shapes(doc: dict, vocab: Vocabulary | None = None) -> dict[str, Any]:
    """Best-effort shapes of a graph that does not validate (the editor keeps them on its edges):
    every layer whose type, parameters, inputs and upstream layers are all sound gets its inferred
    shape (a ``TensorInfo``); a layer at fault, and everything downstream of it, gets None or is
    left out. Never raises."""
    try:
        vocab = vocab or load_vocabulary()
        layers = []
        for l in doc.get("layers", []):
            if not (isinstance(l, dict) and isinstance(l.get("layer_name"), str) and isinstance(l.get("layer_type"), str)):
                continue
            ins = l.get("from_layers") or []
            params = l.get("layer_params") or {}
            if not isinstance(ins, list) or not all(isinstance(i, str) for i in ins) or not isinstance(params, dict):
                continue
            layers.append({"layer_type": l["layer_type"], "layer_name": l["layer_name"],
                           "layer_params": copy.deepcopy(params), "from_layers": list(ins)})
        user_blocks = doc.get("blocks") if isinstance(doc.get("blocks"), dict) else {}
        try:
            raw_nodes, top_map = _expand(layers, {**library_blocks(), **user_blocks}, vocab, [], uses={})
        except Exception:   # a malformed block definition: leave its uses out
            raw_nodes, top_map = _expand([l for l in layers if l["layer_type"] not in user_blocks],
                                         library_blocks(), vocab, [], uses={})
        counts: dict[str, int] = {}
        for raw in raw_nodes:
            counts[raw["layer_name"]] = counts.get(raw["layer_name"], 0) + 1
        nodes: dict[str, Node] = {}
        for raw in raw_nodes:
            name = raw["layer_name"]
            if counts[name] > 1:
                continue                       # a duplicate name: which one is meant is unknown
            try:
                raw_params = dict(raw.get("layer_params") or {})
                resolved = vocab.resolve_type(raw["layer_type"], raw_params)
                if resolved is None:
                    continue
                ltype, params, p_issues = _typed_params(vocab, resolved, raw_params, name)
            except Exception:
                continue
            inputs = [top_map.get(f, f) for f in raw.get("from_layers", [])]
            lo, hi = vocab.layers[ltype].arity
            if p_issues or (ltype != "Input" and not inputs) or not lo <= len(inputs) <= hi:
                continue
            nodes[name] = Node(name, ltype, params, inputs, raw["layer_type"])
        # Kahn's order over the sound layers; a layer with an unsound input never gets a shape
        shapes: dict = {}
        waiting = {n: sum(1 for i in node.inputs if i in nodes) for n, node in nodes.items()}
        consumers: dict[str, list[str]] = {n: [] for n in nodes}
        for n, node in nodes.items():
            for i in node.inputs:
                if i in nodes:
                    consumers[i].append(n)
        ready = [n for n, w in waiting.items() if w == 0]
        while ready:
            n = ready.pop()
            ins = [shapes.get(i) for i in nodes[n].inputs]
            shapes[n] = None
            if all(x is not None for x in ins):
                try:
                    shapes[n] = infer(nodes[n], ins)
                except Exception:  # noqa: BLE001 - a shape error leaves this layer (and its consumers) out
                    pass
            for c in consumers[n]:
                waiting[c] -= 1
                if waiting[c] == 0:
                    ready.append(c)
        return shapes
    except Exception:  # noqa: BLE001 - best effort by contract
        return {}


def _cycles(nodes: list[Node]) -> tuple[dict[str, int], list[list[str]]]:
    """The strongly connected components that hold a cycle (Tarjan's algorithm, without
    recursion): each such node's component number, and one loop per component in data-flow
    order, starting and ending at its first layer in document order (``a -> b -> a``)."""
    index = {n.name: n for n in nodes}
    position = {n.name: k for k, n in enumerate(nodes)}
    consumers: dict[str, list[str]] = {n.name: [] for n in nodes}
    for n in nodes:
        for i in dict.fromkeys(n.inputs):
            if i in consumers:
                consumers[i].append(n.name)
    low: dict[str, int] = {}
    order: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    comps: list[list[str]] = []
    for root in consumers:
        if root in order:
            continue
        work = [(root, iter(consumers[root]))]
        order[root] = low[root] = len(order)
        stack.append(root)
        on_stack.add(root)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in order:
                    order[w] = low[w] = len(order)
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(consumers[w])))
                elif w in on_stack:
                    low[v] = min(low[v], order[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == order[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1 or v in index[v].inputs:
                    comps.append(comp)
    component: dict[str, int] = {}
    loops = []
    for k, comp in enumerate(sorted(comps, key=lambda c: min(position[x] for x in c))):
        members = set(comp)
        for x in comp:
            component[x] = k
        start = min(comp, key=position.__getitem__)
        # breadth-first along consumers inside the component: the shortest way back to start
        prev: dict[str, str] = {}
        frontier, found = [start], None
        while frontier and found is None:
            nxt = []
            for v in frontier:
                for w in consumers[v]:
                    if w not in members:
                        continue
                    if w == start:
                        found = v
                        break
                    if w not in prev:
                        prev[w] = v
                        nxt.append(w)
                if found is not None:
                    break
            frontier = nxt
        path = [start]
        v = found
        while v is not None and v != start:
            path.append(v)
            v = prev.get(v)
        loops.append([start] + list(reversed(path[1:])) + [start])
    return component, loops


def _toposort(nodes: list[Node], issues: list[GraphIssue]) -> list[Node]:
    """Kahn's algorithm, stable in document order; reports the nodes on a cycle."""
    index = {n.name: n for n in nodes}
    indegree = {n.name: len(n.inputs) for n in nodes}
    consumers: dict[str, list[str]] = {n.name: [] for n in nodes}
    for n in nodes:
        for i in n.inputs:
            consumers[i].append(n.name)
    position = {n.name: k for k, n in enumerate(nodes)}
    order: list[Node] = []
    heap = [(position[n.name], n.name) for n in nodes if indegree[n.name] == 0]
    heapq.heapify(heap)
    while heap:
        _, name = heapq.heappop(heap)
        order.append(index[name])
        for c in consumers[name]:
            indegree[c] -= 1
            if indegree[c] == 0:
                heapq.heappush(heap, (position[c], c))
    if len(order) != len(nodes):
        stuck = [n.name for n in nodes if indegree[n.name] > 0]
        cycle = _find_cycle(index, stuck)
        issues.append(GraphIssue("cycle", "the graph has a cycle: " + " -> ".join(cycle), cycle[0]))
    return order


def _find_cycle(index: dict[str, Node], stuck: list[str]) -> list[str]:
    stuck_set = set(stuck)
    start = stuck[0]
    path, seen = [start], {start: 0}
    cur = start
    while True:
        nxt = next((i for i in index[cur].inputs if i in stuck_set), None)
        if nxt is None:
            return path
        if nxt in seen:
            loop = path[seen[nxt]:] + [nxt]
            return list(reversed(loop))
        seen[nxt] = len(path)
        path.append(nxt)
        cur = nxt


def validate_document(doc: Any, vocab: Vocabulary | None = None, source: str | None = None) -> tuple[Graph | None, list[GraphIssue]]:
    """Like :func:`parse_graph` but returns the issues instead of raising."""
    try:
        return parse_graph(doc, vocab=vocab, source=source), []
    except GraphError as exc:
        return None, exc.issues
