"""The experiment described in MEX: a graph (and, for a processed paper, its report) as RDF.

MEX (Esteves et al., 2015; http://mex.aksw.org) is a PROV-O based vocabulary in three layers:
``mex-core`` (the experiment and its executions), ``mex-algo`` (the algorithm, its class, its
hyper-parameters, the tool and the tool's parameters, each set in a collection) and ``mex-perf``
(measures).  :func:`describe` writes:

* the paper (``prov:Entity``, ``dct:title``, ``dct:source``) and a ``mexcore:Experiment`` about it;
* the tool, dlpaper2code (``mexalgo:Tool``, ``doap:name``, ``doap:revision``), with its parameters
  (framework targets, Caffe version ...) as ``mexalgo:ToolParameter`` in a
  ``mexalgo:ToolParameterCollection``;
* the extraction run (``mexcore:ExecutionOverall``: used the paper, associated with the tool);
* the algorithm, the extracted model (``mexalgo:Algorithm``) with its ``mexalgo:AlgorithmClass``
  (CNN, RNN, Transformer or MLP, decided from the layer types: :func:`algorithm_class`);
* its layers: each layer is a ``mexalgo:HyperParameterCollection`` holding its hyper-parameters
  (``mexalgo:HyperParameter`` with ``rdfs:label`` = name and ``prov:value``), all gathered in the
  algorithm's collection (``mexalgo:hasHyperParameterCollection``);
* provenance: every layer and hyper-parameter ``prov:wasDerivedFrom`` a source node (``dlp:Source``)
  saying where it came from: ``table`` (cell, row, column, page), ``figure`` (node, box, page),
  ``text`` (page and the sentence), ``graph`` (a graph file given as is), ``default`` (a value the
  paper does not state: the layer vocabulary's default) or ``inferred`` (a layer or value the
  pipeline added, with its reason);
* measures from the report (``mexperf:UserDefinedMeasure`` with ``prov:value`` and
  ``mexperf:formula``): layers, hyper-parameters, graph valid, pages, seconds, targets emitted.

MEX has no term for a few links (a layer's type and order, the tool's parameter collection, the
kind of a source): those are in the project's own namespace :data:`DLP`.  Every node has an IRI
derived from names (``urn:dlpaper2code:<paper>/...``), no blank nodes, and the serialisations are
sorted, so the same input gives byte-identical Turtle and JSON-LD.

:func:`validate` checks a description against the SHACL shape shipped in
``config/mex.shacl.ttl`` (pyshacl) and returns readable messages.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from rdflib import RDF, RDFS, XSD, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, DOAP, PROV

import dlpaper2code
from ..core.graph import parse_graph
from ..core.vocab import load_vocabulary

MEXCORE = Namespace("http://mex.aksw.org/mex-core#")
MEXALGO = Namespace("http://mex.aksw.org/mex-algo#")
MEXPERF = Namespace("http://mex.aksw.org/mex-perf#")
DLP = Namespace("urn:dlpaper2code:vocab#")
SH = Namespace("http://www.w3.org/ns/shacl#")

SHAPES_PATH = Path(__file__).resolve().parent.parent / "config" / "mex.shacl.ttl"
FORMATS = {"turtle": "ttl", "json-ld": "jsonld"}
TOOL_NAME = "dlpaper2code"

# algorithm classes: (key, label, description), as individuals of mexalgo:AlgorithmClass that are
# also mexalgo:ArtificialNeuralNetwork (MEX's class for neural networks)
CLASSES = {
    "Transformer": "Transformer: attention layers (multi-head self-attention)",
    "RNN": "Recurrent neural network: recurrent layers (SimpleRNN, LSTM, GRU)",
    "CNN": "Convolutional neural network: convolution layers",
    "MLP": "Multi-layer perceptron: dense layers only",
}
ATTENTION = {"MultiHeadAttention"}
RECURRENT = {"SimpleRNN", "LSTM", "GRU"}
CONV_PREFIX = ("Conv", "DepthwiseConv", "SeparableConv")


def algorithm_class(layer_types) -> str:
    """CNN / RNN / Transformer / MLP from the layer types: attention wins (a ViT has convs), then
    recurrence, then convolution; a net of none of these is an MLP."""
    types = set(layer_types)
    if types & ATTENTION:
        return "Transformer"
    if types & RECURRENT:
        return "RNN"
    if any(t.startswith(CONV_PREFIX) for t in types):
        return "CNN"
    return "MLP"


def _slug(text: Any) -> str:
    return quote(str(text), safe="-_.~") or "_"


def _literal(value: Any) -> Literal:
    """A hyper-parameter value as a typed literal; lists and dicts as compact, sorted JSON."""
    if isinstance(value, bool):
        return Literal(value)
    if isinstance(value, int):
        return Literal(value, datatype=XSD.integer)
    if isinstance(value, float):
        if not math.isfinite(value):
            return Literal(str(value))
        return Literal(repr(value), datatype=XSD.double)
    if value is None:
        return Literal("null")
    if isinstance(value, str):
        return Literal(value)
    return Literal(json.dumps(value, sort_keys=True, separators=(",", ":")))


@dataclass
class Source:
    """Where a value came from: the node's IRI tail and its properties (kind, page, detail)."""
    key: str
    kind: str
    page: int | None = None
    label: str = ""
    detail: dict = field(default_factory=dict)
    parent: str | None = None


class _Builder:
    def __init__(self, base: str):
        self.g = Graph()
        self.base = base
        for prefix, ns in (("mexcore", MEXCORE), ("mexalgo", MEXALGO), ("mexperf", MEXPERF), ("prov", PROV),
                           ("dct", DCTERMS), ("doap", DOAP), ("dlp", DLP), ("rdfs", RDFS), ("xsd", XSD)):
            self.g.bind(prefix, ns, override=True, replace=True)
        self.sources: dict[str, URIRef] = {}

    def iri(self, *parts: str) -> URIRef:
        return URIRef(self.base + "/".join(_slug(p) for p in parts))

    def add(self, s, p, o) -> None:
        self.g.add((s, p, o))

    def source(self, src: Source, paper: URIRef) -> URIRef:
        node = self.iri("source", *src.key.split("/"))
        if src.key in self.sources:
            return node
        self.sources[src.key] = node
        self.add(node, RDF.type, DLP.Source)
        self.add(node, RDF.type, PROV.Entity)
        self.add(node, DLP.sourceKind, Literal(src.kind))
        if src.label:
            self.add(node, RDFS.label, Literal(src.label))
        if src.page is not None:
            self.add(node, DLP.page, Literal(int(src.page), datatype=XSD.integer))
        for k, v in sorted(src.detail.items()):
            if v is not None and v != "":
                self.add(node, DLP[k], _literal(v))
        if src.kind in ("table", "figure", "text", "graph"):
            self.add(node, PROV.hadPrimarySource, paper)
        if src.parent:
            self.add(node, PROV.wasDerivedFrom, self.iri("source", *src.parent.split("/")))
        return node


def _pages(report: dict) -> dict[str, tuple[int | None, str]]:
    """Table and figure id -> (page, caption) from the report."""
    out = {}
    for t in report.get("tables") or []:
        if isinstance(t, dict) and t.get("table"):
            out[str(t["table"])] = (t.get("page"), str(t.get("caption") or ""))
    for f in report.get("figures") or []:
        if isinstance(f, dict) and f.get("figure"):
            out[str(f["figure"])] = (f.get("page"), str(f.get("caption") or ""))
    return out


_TEXT_PAGE = re.compile(r"^\s*page\s+(\d+)\s*:\s*(.*)$", re.S)


class _Provenance:
    """The source of each layer and hyper-parameter, from the layer's meta and the graph's source."""

    def __init__(self, doc: dict, report: dict | None, graph_path: str | None):
        self.report = report or {}
        self.pages = _pages(self.report)
        gsrc = doc.get("source") if isinstance(doc.get("source"), dict) else {}
        self.table = gsrc.get("table")
        self.figure = gsrc.get("fused_with") or gsrc.get("figure")
        primary = next((g for g in self.report.get("graphs") or []
                        if isinstance(g, dict) and g.get("name") == self.report.get("primary_graph")), None)
        self.primary_from = (primary or {}).get("from")
        if not self.table and self.primary_from == "table":
            self.table = self.report.get("primary_graph")
        if not self.figure and self.primary_from == "figure":
            self.figure = self.report.get("primary_graph")
        if self.table and self.table not in self.pages:
            base = str(self.table).split("_")
            if len(base) >= 3:       # tab_p3_1_18-layer -> tab_p3_1
                self.table = "_".join(base[:3]) if "_".join(base[:3]) in self.pages else self.table
        self.graph_path = graph_path or "graph"
        self.sources: dict[str, Source] = {}

    def _container(self, kind: str, ident: str) -> str:
        key = f"{kind}/{ident}"
        if key not in self.sources:
            page, caption = self.pages.get(ident, (None, ""))
            self.sources[key] = Source(key, kind, page, caption or f"{kind} {ident}")
        return key

    def _one(self, src: Source) -> Source:
        return self.sources.setdefault(src.key, src)

    def layer(self, name: str, meta: dict | None, in_doc: bool) -> Source:
        meta = meta if isinstance(meta, dict) else {}
        if not in_doc:
            return self._one(Source("inferred/block-expansion", "inferred", None, "expanded from a block",
                                    {"note": "a layer of a block the graph uses, expanded by the tool"}))
        kinds = meta.get("source") if isinstance(meta.get("source"), dict) else {}
        kind = kinds.get("params")
        if kind is None:
            if "cell" in meta or "table_cell" in meta:
                kind = "table"
            elif "box" in meta or "figure_node" in meta:
                kind = "figure"
            elif "text" in meta:
                kind = "text"
        if meta.get("inserted") or (meta.get("inferred") and not meta.get("cell")):
            why = meta.get("inserted") if isinstance(meta.get("inserted"), str) else meta.get("inferred")
            return self._one(Source(f"inferred/{name}", "inferred", None, f"layer {name} added by the tool",
                                    {"note": str(why or "added by the tool")}))
        if kind == "table" and self.table:
            parent = self._container("table", str(self.table))
            cell = meta.get("cell") or meta.get("table_cell")
            page = self.sources[parent].page
            return self._one(Source(f"table/{self.table}/{name}", "table", page, f"table cell of layer {name}",
                                    {"cell": cell, "row": meta.get("row"), "column": meta.get("col"),
                                     "inferred": meta.get("inferred") if isinstance(meta.get("inferred"), str) else None},
                                    parent))
        if kind == "figure" and self.figure:
            parent = self._container("figure", str(self.figure))
            page = self.sources[parent].page
            box = meta.get("box")
            return self._one(Source(f"figure/{self.figure}/{name}", "figure", page, f"figure node of layer {name}",
                                    {"node": meta.get("figure_node") or name, "box": box}, parent))
        if kind == "text":
            page = meta.get("page")
            return self._one(Source(f"text/{name}", "text", page if isinstance(page, int) else None,
                                    f"text describing layer {name}", {"text": str(meta.get("text") or "")}))
        if kind in ("table", "figure"):
            return self._one(Source(f"{kind}/{name}", kind, None, f"{kind} of layer {name}"))
        return self._one(Source("graph", "graph", None, f"graph file {self.graph_path}", {"file": self.graph_path}))

    def param(self, layer: str, param: str, meta: dict | None, stated: bool, layer_src: Source) -> Source:
        meta = meta if isinstance(meta, dict) else {}
        from_text = meta.get("from_text") if isinstance(meta.get("from_text"), dict) else {}
        if param in from_text:
            m = _TEXT_PAGE.match(str(from_text[param]))
            page, sentence = (int(m.group(1)), m.group(2)) if m else (None, str(from_text[param]))
            return self._one(Source(f"text/{layer}/{param}", "text", page, f"text stating {layer}.{param}",
                                    {"text": sentence}))
        if not stated:
            return self._one(Source("default", "default", None, "the layer vocabulary's default value",
                                    {"note": "not stated in the source; dlpaper2code's layer vocabulary default"}))
        guessed = meta.get("guessed") if isinstance(meta.get("guessed"), list) else []
        if param in guessed and layer_src.kind != "inferred":
            return self._one(Source(f"{layer_src.key}/guessed", "inferred", layer_src.page,
                                    f"{layer}: value guessed from the drawing",
                                    {"note": "guessed by the diagram reader"}, layer_src.key))
        return layer_src


def _stated_params(vocab, ltype: str, raw: dict, canon: dict) -> set[str]:
    """The canonical parameter names the document states (aliases resolved); the rest are defaults."""
    spec = vocab.layers.get(ltype) if hasattr(vocab, "layers") else None
    stated = set()
    alias = getattr(spec, "alias_map", {}) or {}
    for k in raw or {}:
        stated.add(alias.get(k, alias.get(str(k).lower(), k)))
    if spec is not None:
        for k, v in canon.items():
            ps = spec.params.get(k)
            if k not in stated and ps is not None and ps.default is not None and v != ps.default:
                if not (isinstance(v, list) and len(set(map(str, v))) == 1 and v[0] == ps.default):
                    stated.add(k)
    return stated


def _layers(doc: dict) -> tuple[list[dict], bool, list[str]]:
    """The layers to describe (expanded and canonical when the graph validates), whether it
    validates, and the issues when it does not."""
    try:
        g = parse_graph(doc)
    except Exception as exc:  # any graph is described, an invalid one as written
        issues = [str(i) for i in getattr(exc, "issues", [])] or [str(exc)]
        return [l for l in doc.get("layers") or [] if isinstance(l, dict)], False, issues
    return [n.to_dict() | {"raw_type": n.raw_type} for n in g.nodes], True, []


def describe(doc: dict, report: dict | None = None, *, name: str | None = None,
             tool_params: dict | None = None, graph_path: str | None = None, title: str | None = None) -> Graph:
    """The MEX description (an rdflib Graph) of a graph document and, if given, its paper report."""
    if not isinstance(doc, dict):
        doc = {"layers": doc if isinstance(doc, list) else []}
    report = report if isinstance(report, dict) else {}
    paper_name = str(name or report.get("name") or doc.get("name") or "model")
    b = _Builder(f"urn:dlpaper2code:{_slug(paper_name)}/")
    layers, valid, issues = _layers(doc)
    vocab = load_vocabulary()

    # the paper and the experiment about it
    paper = b.iri("paper")
    b.add(paper, RDF.type, PROV.Entity)
    b.add(paper, RDF.type, DCTERMS.BibliographicResource)
    title = str(title or report.get("title") or doc.get("description") or paper_name)
    b.add(paper, DCTERMS.title, Literal(title))
    b.add(paper, DCTERMS.identifier, Literal(paper_name))
    b.add(paper, DCTERMS.source, Literal(str(report.get("pdf") or graph_path or doc.get("name") or paper_name)))
    exp = b.iri("experiment")
    b.add(exp, RDF.type, MEXCORE.Experiment)
    b.add(exp, RDF.type, PROV.Entity)
    b.add(exp, DCTERMS.title, Literal(f"{title}: the model as described"))
    b.add(exp, DCTERMS.source, paper)

    # the tool and its parameters
    tool = b.iri("tool")
    b.add(tool, RDF.type, MEXALGO.Tool)
    b.add(tool, RDF.type, PROV.SoftwareAgent)
    b.add(tool, DOAP.name, Literal(TOOL_NAME))
    b.add(tool, DOAP.revision, Literal(dlpaper2code.__version__))
    b.add(tool, RDFS.label, Literal(f"{TOOL_NAME} {dlpaper2code.__version__}"))
    tpc = b.iri("tool", "parameters")
    b.add(tpc, RDF.type, MEXALGO.ToolParameterCollection)
    b.add(tool, DLP.hasToolParameterCollection, tpc)
    params = dict(tool_params or {})
    if "targets" not in params:
        primary = next((g for g in report.get("graphs") or [] if isinstance(g, dict)
                        and g.get("name") == report.get("primary_graph")), None)
        code = (primary or {}).get("code")
        params["targets"] = list(code) if isinstance(code, dict) and code else ["pytorch", "keras", "tensorflow", "caffe"]
    for key, value in sorted(params.items()):
        tp = b.iri("tool", "parameter", key)
        b.add(tp, RDF.type, MEXALGO.ToolParameter)
        b.add(tp, RDFS.label, Literal(key))
        b.add(tp, PROV.value, _literal(",".join(map(str, value)) if isinstance(value, (list, tuple)) else value))
        b.add(tpc, PROV.hadMember, tp)

    run = b.iri("execution")
    b.add(run, RDF.type, MEXCORE.ExecutionOverall)
    b.add(run, RDF.type, PROV.Activity)
    b.add(run, PROV.used, paper)
    b.add(run, PROV.wasAssociatedWith, tool)
    b.add(exp, DLP.hasExecution, run)

    # the algorithm
    alg = b.iri("algorithm")
    ltypes = sorted({str(l.get("layer_type")) for l in layers})
    cls_key = algorithm_class(ltypes)
    cls = DLP[cls_key]
    b.add(cls, RDF.type, MEXALGO.AlgorithmClass)
    b.add(cls, RDF.type, MEXALGO.ArtificialNeuralNetwork)
    b.add(cls, RDFS.label, Literal(cls_key))
    b.add(cls, RDFS.comment, Literal(CLASSES[cls_key]))
    b.add(alg, RDF.type, MEXALGO.Algorithm)
    b.add(alg, RDFS.label, Literal(str(doc.get("name") or paper_name)))
    b.add(alg, DCTERMS.identifier, Literal(str(doc.get("name") or paper_name)))
    b.add(alg, MEXALGO.hasAlgorithmClass, cls)
    b.add(alg, MEXALGO.hasTool, tool)
    b.add(alg, PROV.wasGeneratedBy, run)
    b.add(alg, PROV.wasDerivedFrom, paper)
    b.add(run, PROV.used, tpc)
    b.add(exp, DLP.describesAlgorithm, alg)
    hpc = b.iri("algorithm", "layers")
    b.add(hpc, RDF.type, MEXALGO.HyperParameterCollection)
    b.add(alg, MEXALGO.hasHyperParameterCollection, hpc)

    prov = _Provenance(doc, report, graph_path)
    raw_by_name = {str(l.get("layer_name")): l for l in doc.get("layers") or [] if isinstance(l, dict)}
    n_hp = 0
    for pos, layer in enumerate(layers):
        lname = str(layer.get("layer_name") or f"layer{pos}")
        ltype = str(layer.get("layer_type"))
        raw = raw_by_name.get(lname)
        meta = (raw or layer).get("meta")
        lsrc = prov.layer(lname, meta, raw is not None)
        ln = b.iri("algorithm", "layer", lname)
        b.add(ln, RDF.type, DLP.Layer)
        b.add(ln, RDF.type, MEXALGO.HyperParameterCollection)
        b.add(ln, RDFS.label, Literal(lname))
        b.add(ln, DLP.layerType, Literal(ltype))
        b.add(ln, DLP.position, Literal(pos, datatype=XSD.integer))
        for src_name in layer.get("from_layers") or []:
            b.add(ln, DLP.input, b.iri("algorithm", "layer", str(src_name)))
        b.add(ln, PROV.wasDerivedFrom, b.source(lsrc, paper))
        b.add(hpc, PROV.hadMember, ln)
        canon = layer.get("layer_params") if isinstance(layer.get("layer_params"), dict) else {}
        raw_params = (raw or {}).get("layer_params") if isinstance((raw or {}).get("layer_params"), dict) else {}
        stated = _stated_params(vocab, ltype, raw_params, canon) if raw is not None else set(canon)
        for key in sorted(canon):
            hp = b.iri("algorithm", "layer", lname, "hyperparameter", key)
            b.add(hp, RDF.type, MEXALGO.HyperParameter)
            b.add(hp, RDFS.label, Literal(str(key)))
            b.add(hp, DCTERMS.identifier, Literal(f"{lname}.{key}"))
            b.add(hp, PROV.value, _literal(canon[key]))
            b.add(ln, PROV.hadMember, hp)
            b.add(alg, MEXALGO.hasHyperParameter, hp)
            b.add(hp, PROV.wasDerivedFrom, b.source(prov.param(lname, key, meta, key in stated, lsrc), paper))
            n_hp += 1

    # measures
    perf = b.iri("performance")
    b.add(perf, RDF.type, MEXPERF.UserDefinedMeasureCollection)
    b.add(perf, PROV.wasGeneratedBy, run)
    b.add(perf, PROV.wasDerivedFrom, alg)
    measures = {"layers": (len(layers), "number of layers of the extracted graph (blocks expanded)"),
                "hyperparameters": (n_hp, "number of hyper-parameters of all layers"),
                "graph_valid": (valid, "the graph validates (shapes and parameters) in the layer vocabulary")}
    if report:
        if report.get("pages") is not None:
            measures["pages"] = (int(report["pages"]), "pages of the paper read")
        secs = (report.get("seconds") or {}).get("total") if isinstance(report.get("seconds"), dict) else None
        if isinstance(secs, (int, float)):
            measures["extraction_seconds"] = (round(float(secs), 3), "seconds the paper route took")
        primary = next((g for g in report.get("graphs") or [] if isinstance(g, dict)
                        and g.get("name") == report.get("primary_graph")), None)
        code = (primary or {}).get("code")
        if isinstance(code, dict) and code:
            measures["targets_emitted"] = (sum(1 for c in code.values() if isinstance(c, dict) and c.get("ok")),
                                           f"frameworks whose code was emitted, of {len(code)}")
        if report.get("primary_valid") is not None:
            measures["primary_valid"] = (bool(report["primary_valid"]), "the report's primary graph validates")
        if report.get("status"):
            b.add(run, DLP.status, Literal(str(report["status"])))
    for key, (value, formula) in sorted(measures.items()):
        m = b.iri("performance", key)
        b.add(m, RDF.type, MEXPERF.UserDefinedMeasure)
        b.add(m, RDFS.label, Literal(key))
        b.add(m, PROV.value, _literal(value))
        b.add(m, MEXPERF.formula, Literal(formula))
        b.add(perf, PROV.hadMember, m)
    for issue in issues[:20]:
        b.add(alg, DLP.issue, Literal(issue))
    return b.g


def _canonical_jsonld(text: str) -> str:
    """rdflib's JSON-LD with nodes sorted by @id and every value list sorted: byte-stable."""
    data = json.loads(text)

    def norm(x):
        if isinstance(x, dict):
            return {k: norm(v) for k, v in x.items()}
        if isinstance(x, list):
            return sorted((norm(v) for v in x), key=lambda v: json.dumps(v, sort_keys=True))
        return x
    return json.dumps(norm(data), indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def serialize(g: Graph, fmt: str = "turtle") -> str:
    """Turtle or JSON-LD text (sorted, same input -> same bytes)."""
    if fmt == "turtle":
        return g.serialize(format="turtle")
    if fmt == "json-ld":
        ctx = {p: str(ns) for p, ns in sorted(g.namespaces()) if p in
               ("mexcore", "mexalgo", "mexperf", "prov", "dct", "doap", "dlp", "rdfs", "xsd", "rdf")}
        return _canonical_jsonld(g.serialize(format="json-ld", context=ctx, auto_compact=True))
    raise ValueError(f"unknown MEX format '{fmt}'; known: {', '.join(FORMATS)}")


def shapes() -> Graph:
    return Graph().parse(SHAPES_PATH, format="turtle")


@dataclass
class Validation:
    conforms: bool
    messages: list[str]

    def to_dict(self) -> dict:
        return {"conforms": self.conforms, "messages": self.messages}


def validate(g: Graph) -> Validation:
    """SHACL validation against ``config/mex.shacl.ttl``; one readable line per violation:
    the node (its label), the property and the shape's message."""
    from pyshacl import validate as shacl_validate

    conforms, results, _ = shacl_validate(g, shacl_graph=shapes(), inference="none", advanced=False)
    messages = []
    for r in results.subjects(RDF.type, SH.ValidationResult):
        focus = results.value(r, SH.focusNode)
        path = results.value(r, SH.resultPath)
        msg = results.value(r, SH.resultMessage)
        label = g.value(focus, RDFS.label) if focus is not None else None
        where = f"{label} <{focus}>" if label is not None else f"<{focus}>"
        path_text = g.namespace_manager.normalizeUri(path) if isinstance(path, URIRef) else (
            "a path" if path is not None else "")
        messages.append(f"{where}{' ' + path_text if path_text else ''}: {msg}")
    return Validation(bool(conforms), sorted(messages))


def summary(g: Graph, validation: Validation | None = None) -> dict:
    """A JSON digest of a description (what the catalog page shows): algorithm class, tool and
    its parameters, layers with hyper-parameters and sources, measures."""
    alg = next(iter(sorted(g.subjects(RDF.type, MEXALGO.Algorithm))), None)
    tool = next(iter(sorted(g.subjects(RDF.type, MEXALGO.Tool))), None)
    out: dict[str, Any] = {"vocabulary": {"mexcore": str(MEXCORE), "mexalgo": str(MEXALGO), "mexperf": str(MEXPERF)}}
    if tool is not None:
        out["tool"] = {"iri": str(tool), "name": str(g.value(tool, DOAP.name) or ""),
                       "version": str(g.value(tool, DOAP.revision) or ""), "parameters": {}}
        tpc = g.value(tool, DLP.hasToolParameterCollection)
        for tp in sorted(g.objects(tpc, PROV.hadMember)) if tpc is not None else []:
            out["tool"]["parameters"][str(g.value(tp, RDFS.label))] = str(g.value(tp, PROV.value))
    if alg is not None:
        cls = g.value(alg, MEXALGO.hasAlgorithmClass)
        out["algorithm"] = {"iri": str(alg), "name": str(g.value(alg, RDFS.label) or ""),
                            "class": str(g.value(cls, RDFS.label) or "") if cls is not None else None,
                            "class_iri": str(cls) if cls is not None else None}
        hpc = g.value(alg, MEXALGO.hasHyperParameterCollection)
        layers = []
        for ln in g.objects(hpc, PROV.hadMember) if hpc is not None else []:
            src = g.value(ln, PROV.wasDerivedFrom)
            hps = []
            for hp in sorted(g.objects(ln, PROV.hadMember)):
                hsrc = g.value(hp, PROV.wasDerivedFrom)
                hps.append({"name": str(g.value(hp, RDFS.label)), "value": str(g.value(hp, PROV.value)),
                            "source": _source_text(g, hsrc)})
            pos = g.value(ln, DLP.position)
            layers.append({"iri": str(ln), "name": str(g.value(ln, RDFS.label)), "type": str(g.value(ln, DLP.layerType)),
                           "position": int(pos) if pos is not None else 0, "source": _source_text(g, src),
                           "hyperparameters": hps})
        out["algorithm"]["layers"] = sorted(layers, key=lambda l: (l["position"], l["name"]))
    perf = next(iter(sorted(g.subjects(RDF.type, MEXPERF.UserDefinedMeasureCollection))), None)
    out["measures"] = {str(g.value(m, RDFS.label)): g.value(m, PROV.value).toPython()
                       for m in sorted(g.objects(perf, PROV.hadMember))} if perf is not None else {}
    if validation is not None:
        out["shacl"] = validation.to_dict()
    return out


def _source_text(g: Graph, src) -> str:
    if src is None:
        return ""
    kind = str(g.value(src, DLP.sourceKind) or "?")
    page = g.value(src, DLP.page)
    bits = [kind]
    if page is not None:
        bits.append(f"page {page}")
    for prop in ("cell", "node", "text", "note", "file"):
        v = g.value(src, DLP[prop])
        if v is not None:
            bits.append(f"{prop} {str(v)[:80]}")
    parent = g.value(src, PROV.wasDerivedFrom)
    if parent is not None and g.value(parent, RDFS.label) is not None:
        bits.append(str(g.value(parent, RDFS.label))[:80])
    return ", ".join(bits)


def write(doc: dict, out_base: str | Path, report: dict | None = None, **kwargs) -> tuple[Graph, Validation]:
    """Write ``<out_base>.ttl``, ``.jsonld`` and ``.json`` (the summary with the SHACL result)."""
    from ..core.atomic import atomic_write_text

    g = describe(doc, report, **kwargs)
    v = validate(g)
    base = Path(out_base)
    atomic_write_text(base.with_suffix(".ttl"), serialize(g, "turtle"))
    atomic_write_text(base.with_suffix(".jsonld"), serialize(g, "json-ld"))
    atomic_write_text(base.with_suffix(".json"), json.dumps(summary(g, v), indent=1, sort_keys=True) + "\n")
    return g, v
