"""The model grammar of the simulated dataset and its seeded generator.

``config/grammar.yaml`` holds the next-layer table, the hyper-parameter ranges
and the inputs.  :func:`generate_model` draws one model for a ``(seed, depth,
index)`` triple; the same triple always gives the same graph, whatever shard or
process draws it (each model has its own ``random.Random``, seeded from the
triple's text, which does not depend on ``PYTHONHASHSEED``).

Shape validity is decided by the graph package's own rules
(:mod:`dlpaper2code.core.shapes` via the vocabulary's parameter normalisation), so
the generator and the validator cannot disagree; every finished model is also
run through :func:`dlpaper2code.core.graph.parse_graph` before it is returned.
"""
from __future__ import annotations

import functools
import random
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..core.errors import GraphError
from ..core.graph import Graph, Node, parse_graph
from ..core.paths import config_dir
from ..core.shapes import ShapeProblem, TensorInfo, infer
from ..core.vocab import Vocabulary, load_vocabulary

GRAMMAR_FILE = "grammar.yaml"


class GrammarError(ValueError):
    """config/grammar.yaml is inconsistent (names the entry)."""


# ----------------------------------------------------------------- grammar file
@dataclass(frozen=True)
class Grammar:
    inputs: dict[str, dict]
    symbols: dict[str, dict]
    next: dict[str, Any]
    hyper: dict[str, dict[str, list]]      # symbol -> param -> list of values
    output: dict
    concat: dict
    max_attempts: int
    source: str = ""

    @property
    def layer_symbols(self) -> list[str]:
        return list(self.symbols)


def _values(spec: Any, where: str) -> list:
    """A hyper-parameter spec -> the list of values it allows."""
    if isinstance(spec, list):
        if not spec:
            raise GrammarError(f"{where}: empty choice list")
        return list(spec)
    if isinstance(spec, dict) and {"from", "to", "step"} <= set(spec):
        lo, hi, step = spec["from"], spec["to"], spec["step"]
        if step <= 0 or hi < lo:
            raise GrammarError(f"{where}: bad range {spec}")
        n = int(round((hi - lo) / step)) + 1
        if all(isinstance(v, int) for v in (lo, hi, step)):
            return [lo + i * step for i in range(n) if lo + i * step <= hi]
        return [round(lo + i * step, 10) for i in range(n) if lo + i * step <= hi + 1e-9]
    raise GrammarError(f"{where}: expected a list or {{from, to, step}}, got {spec!r}")


def load_grammar(path: str | Path | None = None) -> Grammar:
    path = Path(path) if path else config_dir() / GRAMMAR_FILE
    return _load_grammar(str(path))


@functools.lru_cache(maxsize=4)
def _load_grammar(path: str) -> Grammar:
    with open(path, encoding="utf-8") as fh:
        doc = yaml.safe_load(fh)
    vocab = load_vocabulary()
    symbols = doc["symbols"]
    for sym, spec in symbols.items():
        if spec.get("layer_type") not in vocab.layers:
            raise GrammarError(f"{path}: symbol {sym}: layer_type {spec.get('layer_type')!r} is not in the vocabulary")
    known = set(symbols) | {"Input"}
    nxt = doc["next"]
    for row, allowed in nxt.items():
        if row not in known:
            raise GrammarError(f"{path}: next: unknown row {row!r}")
        if isinstance(allowed, list):
            bad = [a for a in allowed if a not in symbols]
            if bad:
                raise GrammarError(f"{path}: next.{row}: unknown symbols {bad}")
        elif not (isinstance(allowed, dict) and allowed.get("as") == "previous"):
            raise GrammarError(f"{path}: next.{row}: expected a list or {{as: previous}}")
    missing = known - set(nxt)
    if missing:
        raise GrammarError(f"{path}: next: no row for {sorted(missing)}")
    hyper = {}
    for sym, params in (doc.get("hyperparameters") or {}).items():
        if sym not in symbols:
            raise GrammarError(f"{path}: hyperparameters: unknown symbol {sym!r}")
        ltype = symbols[sym]["layer_type"]
        hyper[sym] = {}
        for pname, spec in params.items():
            if pname not in vocab.layers[ltype].params:
                raise GrammarError(f"{path}: hyperparameters.{sym}.{pname}: {ltype} has no parameter {pname!r}")
            hyper[sym][pname] = _values(spec, f"{path}: hyperparameters.{sym}.{pname}")
    for name, inp in doc["inputs"].items():
        if not inp.get("shape") or int(inp.get("classes", 0)) < 1:
            raise GrammarError(f"{path}: inputs.{name}: needs a shape and classes >= 1")
    return Grammar(inputs=doc["inputs"], symbols=symbols, next=nxt, hyper=hyper, output=doc["output"],
                   concat=doc.get("concat", {}), max_attempts=int(doc.get("max_attempts", 100)), source=path)


# ----------------------------------------------------------------- naming
@functools.lru_cache(maxsize=1)
def keras_class_names() -> dict[str, str]:
    """Our layer type -> the Keras class the Keras template builds (e.g. MaxPool2D -> MaxPooling2D)."""
    from ..emit.codegen import load_target

    out = {"Input": "InputLayer"}
    for ltype, spec in load_target("keras").spec["layers"].items():
        ctor = spec.get("ctor") if isinstance(spec, dict) else None
        if isinstance(ctor, dict) and "class" in ctor:
            out[ltype] = str(ctor["class"]).rsplit(".", 1)[-1]
    return out


def snake_case(name: str) -> str:
    """Keras' automatic layer-name stem: MaxPooling2D -> max_pooling2d, SimpleRNN -> simple_rnn."""
    name = re.sub(r"\W+", "", name)
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    name = re.sub(r"([a-z])([A-Z])", r"\1_\2", name)
    return name.lower()


# ----------------------------------------------------------------- generation
@dataclass
class _Tensor:
    name: str
    symbol: str                  # grammar symbol, "Input" for the input
    info: TensorInfo
    prev: "_Tensor | None"       # the main input (for the "as previous" rows)


@dataclass
class DrawStats:
    """What happened while drawing: counts that go to results/simulate/stats.json."""
    attempts: int = 0
    rejected: int = 0
    filtered: Counter = field(default_factory=Counter)   # "Row->Symbol: reason" -> count
    repaired: Counter = field(default_factory=Counter)   # "Symbol.param" -> count

    def merge(self, other: "DrawStats") -> None:
        self.attempts += other.attempts
        self.rejected += other.rejected
        self.filtered.update(other.filtered)
        self.repaired.update(other.repaired)


class _Dead(Exception):
    """No symbol can be drawn (the attempt is rejected)."""


class _Builder:
    def __init__(self, grammar: Grammar, vocab: Vocabulary, rng: random.Random, stats: DrawStats):
        self.g, self.vocab, self.rng, self.stats = grammar, vocab, rng, stats
        self.layers: list[dict] = []
        self.tensors: list[_Tensor] = []
        self.counts: Counter = Counter()
        self.kclass = keras_class_names()

    # -- helpers
    def _name(self, ltype: str) -> str:
        stem = snake_case(self.kclass.get(ltype, ltype))
        k = self.counts[stem]
        self.counts[stem] += 1
        return stem if k == 0 else f"{stem}_{k}"

    def allowed(self, t: _Tensor) -> list[str]:
        row = self.g.next[t.symbol]
        while isinstance(row, dict):
            if row.get("vector") and t.info.kind == "vector":
                row = self.g.next[row["vector"]]
                break
            if t.prev is None:
                raise _Dead(f"{t.symbol} has no previous layer to copy the rule of")
            t = t.prev
            row = self.g.next[t.symbol]
        return list(row)

    def _try(self, symbol: str, params: dict, ins: list[_Tensor]) -> TensorInfo:
        ltype = self.g.symbols[symbol]["layer_type"]
        norm, issues = self.vocab.normalize_params(ltype, params, None)
        if issues:
            raise ShapeProblem("; ".join(i.message for i in issues))
        node = Node("candidate", ltype, norm, [t.name for t in ins])
        return infer(node, [t.info for t in ins])

    def _draw_params(self, symbol: str, x: TensorInfo, force: dict | None = None) -> dict:
        """Draw the symbol's hyper-parameters; windows only among sizes that fit the image.

        The names of repaired (restricted) parameters go to ``self.repairs``."""
        self.repairs = []
        params = dict(self.g.symbols[symbol].get("params") or {})
        for pname, values in self.g.hyper.get(symbol, {}).items():
            if force and pname in force:
                params[pname] = force[pname]
                continue
            if pname in ("kernel_size", "pool_size") and x.kind == "image":
                fit = [v for v in values if v <= min(x.shape[0], x.shape[1])]
                if len(fit) < len(values):
                    self.repairs.append(f"{symbol}.{pname}")
                values = fit
                if not values:
                    raise ShapeProblem(f"no {pname} fits a {x.shape[0]}x{x.shape[1]} image")
            params[pname] = self.rng.choice(values)
        return params

    def _add(self, symbol: str, params: dict, ins: list[_Tensor], info: TensorInfo) -> _Tensor:
        ltype = self.g.symbols[symbol]["layer_type"]
        name = self._name(ltype)
        self.layers.append({"layer_type": ltype, "layer_name": name, "layer_params": params,
                            "from_layers": [t.name for t in ins]})
        t = _Tensor(name, symbol, info, ins[0])
        self.tensors.append(t)
        return t

    def _partners(self, cur: _Tensor) -> list[_Tensor]:
        return [t for t in self.tensors if t is not cur and t.info.dtype == "float32"
                and len(t.info.shape) == len(cur.info.shape) and t.info.shape[:-1] == cur.info.shape[:-1]]

    def _feasible(self, cur: _Tensor, row: str, remaining: int) -> list[tuple[str, dict, list, TensorInfo]]:
        """Every symbol that may come next, with its drawn params and output shape."""
        out = []
        for sym in self.allowed(cur):
            if sym == "Concat":
                if not self._partners(cur):
                    self.stats.filtered[f"{row}->Concat: no compatible earlier tensor"] += 1
                    continue
                if remaining == 1 and cur.info.kind != "vector":
                    continue
                out.append((sym, {}, [cur], None, []))   # partners are drawn if chosen
                continue
            try:
                params = self._draw_params(sym, cur.info)
                info = self._try(sym, params, [cur])
            except ShapeProblem as exc:
                self.stats.filtered[f"{row}->{sym}: {_reason(exc)}"] += 1
                continue
            if remaining == 1 and not self._ends_ok(sym, info, cur):
                continue
            out.append((sym, params, [cur], info, self.repairs))
        return out

    def _ends_ok(self, sym: str, info: TensorInfo, cur: _Tensor) -> bool:
        """After the last drawn layer, the final Dense must be allowed and get a vector."""
        if info.kind != "vector":
            return False
        probe = _Tensor("probe", sym, info, cur)
        try:
            return "Dense" in self.allowed(probe)
        except _Dead:
            return False

    def _branch(self, start: _Tensor, budget: int) -> _Tensor:
        """A side branch of up to `budget` shape-keeping layers from `start`."""
        keep = {"image": ("Conv2D", "Dropout"), "vector": ("Dense", "Dropout"),
                "sequence": ("RNN_seq", "LSTM_seq", "Dropout")}.get(start.info.kind, ())
        t = start
        for _ in range(self.rng.randint(1, budget)):
            choices = [s for s in self.allowed(t) if s in keep]
            if not choices:
                break
            sym = self.rng.choice(choices)
            force = {"kernel_size": 1} if sym == "Conv2D" else None
            params = self._draw_params(sym, t.info, force)
            self.stats.repaired.update(self.repairs)
            info = self._try(sym, params, [t])
            if info.shape[:-1] != start.info.shape[:-1]:
                raise _Dead(f"side branch {sym} changed the shape {start.info.shape} -> {info.shape}")
            t = self._add(sym, params, [t], info)
        return t

    def _concat(self, cur: _Tensor, remaining: int) -> tuple[_Tensor, int]:
        """Draw the Concat's other inputs (maybe through side branches); returns (concat, layers used)."""
        partners = self._partners(cur)
        n_extra = self.rng.randint(1, min(int(self.g.concat.get("max_extra_inputs", 1)), len(partners)))
        chosen = self.rng.sample(partners, n_extra)
        used = 0
        ins = [cur]
        max_branch = int(self.g.concat.get("max_branch_layers", 0))
        # layers the branches may use: keep one for the Concat, and one more to
        # reach a vector before the final Dense unless the Concat gives one
        reserve = 1 if cur.info.kind == "vector" else 2
        for p in sorted(chosen, key=self.tensors.index):
            budget = min(max_branch, remaining - reserve - used)
            if budget >= 1 and self.rng.random() < float(self.g.concat.get("branch_probability", 0)):
                before = len(self.layers)
                p = self._branch(p, budget)
                used += len(self.layers) - before
            ins.append(p)
        info = self._try("Concat", {}, ins)
        if remaining - used == 1 and not self._ends_ok("Concat", info, cur):
            raise _Dead("the last Concat does not give a vector")
        return self._add("Concat", {}, ins, info), used + 1

    # -- one model
    def build(self, depth: int, input_name: str) -> dict:
        spec = self.g.inputs[input_name]
        shape = [int(d) for d in spec["shape"]]
        dtype = spec.get("dtype", "float32")
        iname = self._name("Input")
        self.layers.append({"layer_type": "Input", "layer_name": iname,
                            "layer_params": {"shape": shape, "dtype": dtype}})
        cur = _Tensor(iname, "Input", TensorInfo(tuple(shape), dtype), None)
        self.tensors.append(cur)
        made = 0
        while made < depth:
            remaining = depth - made
            options = self._feasible(cur, cur.symbol, remaining)
            if not options:
                raise _Dead(f"nothing can follow {cur.symbol} {list(cur.info.shape)} with {remaining} layer(s) to go")
            sym, params, ins, info, repairs = self.rng.choice(options)
            self.stats.repaired.update(repairs)
            if sym == "Concat":
                cur, used = self._concat(cur, remaining)
                made += used
            else:
                cur = self._add(sym, params, ins, info)
                made += 1
        out = self.g.output
        final = {"units": int(spec["classes"]), "activation": out.get("activation", "softmax")}
        info = self._try("Dense", final, [cur]) if "Dense" in self.g.symbols else None
        if info is None or info.kind != "vector":
            raise _Dead("the final Dense does not get a vector")
        self._add("Dense", final, [cur], info)
        return {"schema_version": 1, "layers": self.layers}


def _reason(exc: Exception) -> str:
    """A short, shape-free reason for the statistics ("needs token ids", ...)."""
    text = str(exc)
    if text.startswith("Embedding needs token ids"):
        return "needs token ids"
    if "needs float features" in text:
        return "needs float features"
    if text.startswith("no ") and " fits " in text:
        return "window larger than the image"
    return re.split(r", got|;| \(|\[", text)[0][:80]


def model_seed(seed: int, depth: int, index: int, attempt: int = 0) -> str:
    return f"dlpaper2code-simulate/{seed}/{depth}/{index}/{attempt}"


def generate_model(depth: int, index: int, seed: int = 0, grammar: Grammar | None = None,
                   stats: DrawStats | None = None, inputs: list[str] | None = None) -> tuple[Graph, dict]:
    """Model number `index` of `depth` for `seed`: (validated Graph, graph document).

    The document carries `source` (seed, depth, index, input, attempt); the layer
    names follow Keras' automatic naming (conv2d, conv2d_1, ...).
    """
    if depth < 1:
        raise ValueError(f"depth must be >= 1, got {depth}")
    grammar = grammar or load_grammar()
    vocab = load_vocabulary()
    stats = stats if stats is not None else DrawStats()
    names = inputs or list(grammar.inputs)
    unknown = [n for n in names if n not in grammar.inputs]
    if unknown:
        raise ValueError(f"unknown input(s) {unknown}; the grammar has {list(grammar.inputs)}")
    last_problem = ""
    for attempt in range(grammar.max_attempts):
        stats.attempts += 1
        rng = random.Random(model_seed(seed, depth, index, attempt))
        input_name = rng.choice(names)
        builder = _Builder(grammar, vocab, rng, stats)
        try:
            doc = builder.build(depth, input_name)
        except (_Dead, ShapeProblem) as exc:
            stats.rejected += 1
            last_problem = str(exc)
            continue
        name = f"sim_s{seed}_d{depth:02d}_{index:05d}"
        doc = {"schema_version": 1, "name": name,
               "description": f"Simulated model {index} of depth {depth} (seed {seed}) on {input_name}.",
               "source": {"generator": "dlpaper2code.simulate", "seed": seed, "depth": depth, "index": index,
                        "input": input_name, "attempt": attempt},
               "layers": doc["layers"]}
        try:
            graph = parse_graph(doc, vocab, source=name)
        except GraphError as exc:
            stats.rejected += 1
            last_problem = str(exc)
            continue
        return graph, doc
    raise RuntimeError(f"no valid model of depth {depth} (index {index}, seed {seed}) in "
                       f"{grammar.max_attempts} attempts; last problem: {last_problem}")


def symbol_of(node: Node, grammar: Grammar) -> str:
    """The grammar symbol a graph node was drawn as (its type and fixed params)."""
    if node.type == "Input":
        return "Input"
    for sym, spec in grammar.symbols.items():
        if spec["layer_type"] == node.type and all(node.params.get(k) == v for k, v in (spec.get("params") or {}).items()):
            return sym
    raise GrammarError(f"layer '{node.name}' ({node.type}) matches no grammar symbol")


def describe(graph: Graph, grammar: Grammar | None = None) -> dict:
    """Counts of one generated graph (symbols, depth, edges, branching)."""
    grammar = grammar or load_grammar()
    symbols = Counter(symbol_of(n, grammar) for n in graph.nodes)
    edges = sum(len(n.inputs) for n in graph.nodes)
    fanout = sum(1 for n in graph.nodes if len(graph.consumers[n.name]) > 1)
    merges = sum(1 for n in graph.nodes if len(n.inputs) > 1)
    return {"layers": len(graph.nodes), "depth": len(graph.nodes) - 2, "edges": edges,
            "merges": merges, "forks": fanout, "symbols": dict(symbols)}
