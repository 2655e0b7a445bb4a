"""The real-paper benchmark: the paper route on real PDFs, scored against hand-written truth.

Truth lives in ``data/realpapers/``: ``truth/<paper>.json`` is the model the paper
proposes (``truth/<paper>@<variant>.json`` other configurations of it), in the
format of the independent evaluation (``layers`` with ``type``, ``params``,
``inputs``, ``repeat`` / ``repeat_group``, ``shown``, ``alt_types``), written by
reading the PDF; ``tables/<paper>.json`` labels every table of the paper
(architecture, results, hyperparameters, other); ``sources.tsv`` says where each
PDF comes from (repository, commit, path, sha256).

Scores (:func:`score_graph`), with the evaluation's definitions:

* layer accuracy: layer types matched in order (longest common subsequence,
  repeats expanded, what papers rarely draw left out: activations, batch norm,
  flatten, dropout, padding, LRN) over the longer of truth and prediction;
  *best* over every graph the route wrote, *primary* for ``graph.json`` alone;
* hyper-parameter accuracy: over matched layers, the truth's filters, kernel,
  stride and units that the prediction states, the share that are right
  (``params_found``: the share of the truth's values the prediction states);
* edge accuracy, where the truth has branches and no repeats: edges between
  drawn layers (through left-out ones) found between the matched layers;
* tables: which labelled tables were found (by page and caption number), and
  how the route classified them (architecture precision and recall; results
  tables taken for architecture);
* regions, where ``regions/<paper>.json`` holds the hand-drawn box of every captioned figure
  and table: precision, recall and caption accuracy at IoU >= 0.8 (:mod:`.regions`).

:func:`run_benchmark` runs ``dlpaper2code paper`` on every PDF in a subprocess
(a crash or a hang is a recorded failure, never the end of the run) and writes
``summary.md`` (a row per paper), ``scores.json`` and the DVC metric.
"""
from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..core.atomic import atomic_write_text
from ..core.stats import percentile
from .regions import IOU_MIN, score_regions, sum_regions

IGNORED = {"relu", "activation", "batchnorm", "batchnormalization", "bn", "flatten", "dropout", "zeropadding2d",
           "padding", "crop", "cropping2d", "leakyrelu", "sigmoid", "tanh", "lrn", "localresponsenormalization",
           "gelu", "swish", "silu", "hardswish", "hswish", "hardsigmoid", "hsigmoid", "mish",
           "elu", "selu", "softplus", "prelu", "relu6"}
_ALIASES = {
    "conv2d": ["conv", "convolution", "convolution2d", "convlayer", "convolutional"],
    "conv1d": ["convolution1d"],
    "depthwiseconv2d": ["dwconv", "convdw", "depthwise", "depthwiseconvolution", "dwconv2d", "depthwiseseparable"],
    "maxpool2d": ["maxpool", "maxpooling2d", "mpool", "maxpooling", "pool"],
    "avgpool2d": ["avgpool", "averagepooling2d", "averagepool", "avepool", "subsampling", "avgpooling2d",
                  "averagepooling"],
    "globalavgpool2d": ["globalaveragepooling2d", "globalavgpool", "gap", "globalaveragepool",
                        "globalaveragepooling", "adaptiveavgpool2d"],
    "dense": ["fc", "fullyconnected", "innerproduct", "linear", "connected", "fullconnection"],
    "add": ["residual", "elementwiseadd", "eltwise", "sum", "shortcut"],
    "concat": ["concatenate", "filterconcat", "depthconcat", "concatenation"],
    "embedding": ["embed", "inputembedding", "outputembedding"],
    "upconv2d": ["conv2dtranspose", "deconvolution", "upconvolution", "transposedconv", "upconv", "deconv",
                 "convtranspose2d"],
    "input": ["inputlayer", "data"],
    "inception": ["inceptionmodule"],
    "bottleneck": ["invertedresidualbottleneck", "invertedresidual", "mbconv", "bottleneckblock"],
    "multiheadattention": ["mha", "attention", "selfattention", "multiheadselfattention",
                           "maskedmultiheadattention", "multiheadedattention", "maskedmultiselfattention"],
    "layernorm": ["layernormalization", "ln"],
    "feedforward": ["ffn", "mlp", "positionwisefeedforward", "feedforwardnetwork"],
    "positionalencoding": ["positionencoding", "sinusoidalpositionalencoding"],
    "positionembedding": ["positionalembedding", "learnedpositionembedding"],
}
CANON = {a: c for c, names in _ALIASES.items() for a in [c, *names]}
PARAM_KEYS = {
    "filters": ["filters", "num_filters", "num_output", "out_channels", "channels", "num_filts", "nb_filter"],
    "kernel": ["kernel", "kernel_size", "kernel_row", "support", "pool", "pool_size", "size"],
    "stride": ["stride", "strides", "stride_row"],
    "units": ["units", "nodes", "num_units", "out_features", "output_dim"],
}
TABLE_KINDS = ("architecture", "results", "hyperparameters", "other")


def norm_type(t, params: dict | None = None) -> str:
    key = re.sub(r"[^a-z0-9]", "", str(t).lower())
    if key in ("pooling2d", "pooling") and params:
        fn = str(params.get("function", params.get("pool", params.get("mode", "")))).lower()
        key = "avgpool2d" if fn.startswith("av") else "maxpool2d"
    if key == "activation" and params:
        key = re.sub(r"[^a-z0-9]", "", str(params.get("activation", params.get("function", "activation"))).lower())
    return CANON.get(key, key)


def _as_int(v):
    if isinstance(v, (list, tuple)) and v and all(x == v[0] for x in v):
        v = v[0]
    if isinstance(v, bool):
        return None
    try:
        return int(v)
    except (TypeError, ValueError):
        return None


def _params(p: dict) -> dict:
    out = {}
    for k, names in PARAM_KEYS.items():
        for n in names:
            if n in p and _as_int(p[n]) is not None:
                out[k] = _as_int(p[n])
                break
    return out


def _repeat(layer: dict, where: dict) -> int:
    """A repeat the truth writes as a symbol ("N") takes the number the text gives (params_text)."""
    n = _as_int(where.get("repeat", 1))
    if n is None:
        n = _as_int((layer.get("params_text") or {}).get("repeat", 1))
    return max(1, n or 1)


def _entry(layer: dict) -> dict:
    t = norm_type(layer["type"], layer.get("params"))
    ok = {t} | {norm_type(a) for a in layer.get("alt_types", [])}
    return {"type": t, "ok": ok, "params": _params(layer.get("params") or {}), "id": layer.get("id")}


def truth_sequence(truth: dict) -> list[dict]:
    """The truth's drawn layers in order, repeats expanded, left-out types dropped."""
    layers = [l for l in truth["layers"] if l.get("shown", True) is not False]
    seq, i = [], 0
    while i < len(layers):
        l = layers[i]
        group = l.get("repeat_group")
        if group:
            members = []
            while i < len(layers) and layers[i].get("repeat_group") == group:
                members.append(layers[i])
                i += 1
            for _ in range(_repeat(l, l)):
                seq += [_entry(m) for m in members]
            continue
        seq += [_entry(l)] * _repeat(l, l.get("params") or {})
        i += 1
    return [s for s in seq if s["type"] not in IGNORED]


def graph_nodes(graph) -> list[dict]:
    if isinstance(graph, list):
        return [n for n in graph if isinstance(n, dict)]
    if isinstance(graph, dict):
        return [n for n in (graph.get("layers") or graph.get("nodes") or []) if isinstance(n, dict)]
    return []


def pred_sequence(graph) -> list[dict]:
    seq = []
    for n in graph_nodes(graph):
        params = n.get("layer_params", n.get("params", {})) or {}
        t = norm_type(n.get("layer_type", n.get("type", "")), params)
        rep = _as_int(params.get("repeat", 1)) or 1
        if t not in IGNORED:
            seq += [{"type": t, "params": _params(params), "id": n.get("layer_name", n.get("id"))}] * max(1, rep)
    return seq


def align(ts: list[dict], ps: list[dict]) -> list[tuple[int, int]]:
    """Index pairs of a longest common subsequence (a prediction matches any acceptable truth type)."""
    n, m = len(ts), len(ps)
    dp = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        row, nxt = dp[i], dp[i + 1]
        ok = ts[i]["ok"]
        for j in range(m - 1, -1, -1):
            row[j] = nxt[j + 1] + 1 if ps[j]["type"] in ok else max(nxt[j], row[j + 1])
    pairs, i, j = [], 0, 0
    while i < n and j < m:
        if ps[j]["type"] in ts[i]["ok"] and dp[i][j] == dp[i + 1][j + 1] + 1:
            pairs.append((i, j))
            i, j = i + 1, j + 1
        elif dp[i + 1][j] >= dp[i][j + 1]:
            i += 1
        else:
            j += 1
    return pairs


def _kept_edges(nodes: list[tuple[str, str, list[str]]]) -> set[tuple[str, str]]:
    """Edges between kept nodes, contracted through left-out ones. nodes: (id, canon type, inputs)."""
    kind = {i: t for i, t, _ in nodes}
    ins = {i: list(inp) for i, _, inp in nodes}

    def sources(i, seen=()):
        out = set()
        for s in ins.get(i, []):
            if s not in kind or s in seen:
                continue
            if kind[s] in IGNORED:
                out |= sources(s, seen + (s,))
            else:
                out.add(s)
        return out

    return {(s, i) for i, t, _ in nodes if t not in IGNORED for s in sources(i)}


def edge_accuracy(truth: dict, graph, pairs, ts, ps) -> float | None:
    """Share of the truth's drawn edges found between matched layers; None when the truth is a plain
    chain or uses repeats (edges of expanded repeats are not drawn)."""
    layers = [l for l in truth["layers"] if l.get("shown", True) is not False]
    if any(l.get("repeat_group") or _as_int((l.get("params") or {}).get("repeat", 1)) not in (1, None)
           for l in layers):
        return None
    tnodes = [(l["id"], norm_type(l["type"], l.get("params")), l.get("inputs", [])) for l in layers]
    t_edges = _kept_edges(tnodes)
    fan_in = {}
    fan_out = {}
    for a, b in t_edges:
        fan_in[b] = fan_in.get(b, 0) + 1
        fan_out[a] = fan_out.get(a, 0) + 1
    if not t_edges or (max(fan_in.values()) < 2 and max(fan_out.values()) < 2):
        return None
    pnodes = []
    for n in graph_nodes(graph):
        params = n.get("layer_params", n.get("params", {})) or {}
        pnodes.append((n.get("layer_name", n.get("id")), norm_type(n.get("layer_type", n.get("type", "")), params),
                       n.get("from_layers", n.get("inputs", [])) or []))
    p_edges = _kept_edges(pnodes)
    m = {ts[i]["id"]: ps[j]["id"] for i, j in pairs}
    found = sum(1 for a, b in t_edges if (m.get(a), m.get(b)) in p_edges)
    return found / len(t_edges)


def score_graph(truth: dict, graph) -> dict:
    ts, ps = truth_sequence(truth), pred_sequence(graph)
    pairs = align(ts, ps)
    checked = right = stated = 0
    for i, j in pairs:
        for k, v in ts[i]["params"].items():
            stated += 1
            if k in ps[j]["params"]:
                checked += 1
                right += ps[j]["params"][k] == v
    denom = max(len(ts), len(ps)) or 1
    return {"layer_acc": len(pairs) / denom, "recall": len(pairs) / (len(ts) or 1),
            "precision": len(pairs) / (len(ps) or 1), "truth_layers": len(ts), "pred_layers": len(ps),
            "param_acc": right / checked if checked else None, "params_checked": checked,
            "params_found": checked / stated if stated else None,
            "edge_acc": edge_accuracy(truth, graph, pairs, ts, ps)}


def graphs_in(folder: Path) -> list[tuple[Path, dict]]:
    """Every graph document under an output folder (graph.json, graphs/*.json, figures/*.graph.json)."""
    out = []
    for f in sorted(Path(folder).rglob("*.json")):
        try:
            g = json.loads(f.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        nodes = graph_nodes(g)
        if nodes and any(k in nodes[0] for k in ("layer_type", "type")):
            out.append((f, g))
    return out


# ---------------------------------------------------------------------------------------------- tables

_CAP_NUM = re.compile(r"^\s*(table|tab\.|figure|fig\.?)\s*([0-9]+|[ivx]+)", re.I)


def caption_key(caption: str) -> tuple[str, str] | None:
    m = _CAP_NUM.match(caption or "")
    if not m:
        return None
    word = "table" if m.group(1).lower().startswith("tab") else "figure"
    return word, m.group(2).lower()


def score_tables(labels: list[dict], found: list[dict]) -> dict:
    """Labelled tables against the route's tables (matched by page and caption number, else page and
    caption start)."""
    used = set()
    rows = []
    for lab in labels:
        key = caption_key(lab.get("caption", ""))
        hit = None
        for k, f in enumerate(found):
            if k in used or f.get("page") != lab.get("page"):
                continue
            fk = caption_key(f.get("caption", ""))
            if (key and fk == key) or (not key and (f.get("caption") or "")[:20].lower() ==
                                       (lab.get("caption") or "")[:20].lower()):
                hit = k
                break
        if hit is not None:
            used.add(hit)
        rows.append({"label": lab["label"], "caption": (lab.get("caption") or "")[:60], "page": lab.get("page"),
                     "found": hit is not None, "kind": found[hit].get("kind") if hit is not None else None})
    extra = [f for k, f in enumerate(found) if k not in used]
    arch = [r for r in rows if r["label"] == "architecture"]
    said_arch = [r for r in rows if r["found"] and r["kind"] == "architecture"]
    return {
        "labelled": len(rows), "found": sum(r["found"] for r in rows),
        "architecture": len(arch), "architecture_found": sum(r["found"] for r in arch),
        "architecture_classified": sum(1 for r in arch if r["found"] and r["kind"] == "architecture"),
        "said_architecture": len(said_arch) + sum(1 for f in extra if f.get("kind") == "architecture"),
        "said_architecture_right": sum(1 for r in said_arch if r["label"] == "architecture"),
        "results_as_architecture": sum(1 for r in said_arch if r["label"] == "results"),
        "not_tables_found": len(extra), "rows": rows,
    }


# ----------------------------------------------------------------------------------------------- running

def load_truth(truth_dir: Path) -> dict[str, dict[str, dict]]:
    """paper -> {variant ('' for the main model): truth}."""
    out: dict[str, dict[str, dict]] = {}
    for f in sorted(Path(truth_dir).glob("*.json")):
        paper, _, variant = f.stem.partition("@")
        try:
            out.setdefault(paper, {})[variant] = json.loads(f.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise ValueError(f"{f}: not valid JSON ({exc})") from None
    return out


def read_sources(path: Path) -> dict[str, dict]:
    with open(path, encoding="utf-8", newline="") as fh:
        return {r["name"]: r for r in csv.DictReader(fh, delimiter="\t")}


def paper_route(pdf: str, out: str, classifier: str | None = None, min_probability: float = 0.2) -> int:
    """The paper route as ``dlpaper2code paper`` runs it by default: the saved figure classifier
    when there is one, every figure otherwise."""
    from ..figclass.classify import default_model
    from ..paper.options import PaperOptions
    from ..paper.pipeline import process_paper

    model = classifier if classifier is not None else default_model()
    report = process_paper(pdf, out, PaperOptions(figure_classifier=model, figure_min_probability=min_probability))
    return 0 if report.get("status") == "ok" else 1


def run_paper(pdf: Path, out: Path, timeout_s: float) -> dict:
    """The paper route in its own process; returns status, seconds and the report (or the error)."""
    cmd = [sys.executable, "-m", "dlpaper2code.eval.realpapers", str(pdf), str(out)]
    t0 = time.perf_counter()
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s,
                           env={**os.environ, "OMP_THREAD_LIMIT": "1"})
    except subprocess.TimeoutExpired:
        return {"status": "timeout", "wall_seconds": round(time.perf_counter() - t0, 2),
                "message": f"no answer within {timeout_s:.0f} s"}
    wall = round(time.perf_counter() - t0, 2)
    report = None
    if (out / "report.json").is_file():
        report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    if r.returncode != 0 and report is None:
        tail = (r.stderr or r.stdout).strip().splitlines()[-3:]
        internal = "Traceback" in (r.stderr or "")
        return {"status": "internal_error" if internal else "refused", "wall_seconds": wall,
                "message": " | ".join(tail)[:300]}
    status = (report or {}).get("status", "ok")
    if status == "failed":                # refused with a reason (encrypted, too long...) or a bug (internal)
        status = f"failed_{report.get('kind', 'unknown')}"
    return {"status": status, "wall_seconds": wall, "report": report,
            "message": (report or {}).get("message", "")}


def evaluate_paper(name: str, truths: dict[str, dict], labels: list[dict] | None, out: Path, run: dict,
                   regions: dict | None = None) -> dict:
    main = truths.get("") or next(iter(truths.values()))
    graphs = graphs_in(out) if out.is_dir() else []
    best = {"layer_acc": 0.0, "graph": None}
    for f, g in graphs:
        s = score_graph(main, g)
        if s["layer_acc"] > best["layer_acc"]:
            best = dict(s, graph=str(f.relative_to(out)))
    primary_file = out / "graph.json"
    primary = score_graph(main, json.loads(primary_file.read_text())) if primary_file.is_file() else None
    variants = {}
    for v, t in truths.items():
        if v:
            variants[v] = max((score_graph(t, g)["layer_acc"] for _, g in graphs), default=0.0)
    report = run.get("report") or {}
    secs = (report.get("seconds") or {}).get("total")
    pages = report.get("pages") or 0
    row = {
        "paper": name, "kind": main.get("kind"), "variant": main.get("variant"), "status": run["status"],
        "message": run.get("message", ""), "truth_layers": len(truth_sequence(main)),
        "best": best, "primary": primary, "primary_graph": report.get("primary_graph"), "variants": variants,
        "graphs": len(graphs), "valid_graphs": sum(1 for g in report.get("graphs", []) if not g.get("issues")),
        "tables_found": len(report.get("tables", [])), "figures_found": len(report.get("figures", [])),
        "pages": pages, "seconds": secs, "wall_seconds": run.get("wall_seconds"),
        "seconds_per_page": round(secs / pages, 3) if secs and pages else None,
    }
    if labels is not None:
        row["tables"] = score_tables(labels, report.get("tables", []))
    if regions is not None:
        row["regions"] = score_regions(regions, _found(out / "figures" / "figures.json", "figures"),
                                       _found(out / "tables" / "tables.json", "tables"))
    return row


def _found(path: Path, key: str) -> list[dict]:
    """The figures or tables the route wrote, with their boxes (an absent file: none found)."""
    if not path.is_file():
        return []
    return json.loads(path.read_text(encoding="utf-8")).get(key, [])


def _mean(xs):
    xs = [x for x in xs if x is not None]
    return round(sum(xs) / len(xs), 4) if xs else None


def summarize(rows: list[dict]) -> dict:
    def group(rs):
        return {"papers": len(rs),
                "best_layer_accuracy": _mean([r["best"]["layer_acc"] for r in rs]),
                "primary_layer_accuracy": _mean([(r["primary"] or {}).get("layer_acc", 0.0) for r in rs]),
                "hparam_accuracy": _mean([r["best"].get("param_acc") for r in rs]),
                "edge_accuracy": _mean([r["best"].get("edge_acc") for r in rs]),
                "with_valid_graph": sum(1 for r in rs if r["valid_graphs"])}
    kinds = {"all": rows,
             "table": [r for r in rows if str(r["kind"]).startswith("table")],
             "figure": [r for r in rows if str(r["kind"]).startswith("figure")],
             "text": [r for r in rows if r["kind"] == "text"]}
    out = {k: group(v) for k, v in kinds.items() if v}
    tabs = [r["tables"] for r in rows if r.get("tables")]
    if tabs:
        arch = sum(t["architecture"] for t in tabs)
        said = sum(t["said_architecture"] for t in tabs)
        out["tables"] = {
            "labelled": sum(t["labelled"] for t in tabs), "found": sum(t["found"] for t in tabs),
            "recall": round(sum(t["found"] for t in tabs) / max(1, sum(t["labelled"] for t in tabs)), 4),
            "architecture": arch,
            "architecture_found_recall": round(sum(t["architecture_found"] for t in tabs) / max(1, arch), 4),
            "architecture_recall": round(sum(t["architecture_classified"] for t in tabs) / max(1, arch), 4),
            "architecture_precision": round(sum(t["said_architecture_right"] for t in tabs) / said, 4) if said
            else None,
            "results_as_architecture": sum(t["results_as_architecture"] for t in tabs),
        }
    regs = [r["regions"] for r in rows if r.get("regions")]
    if regs:
        out["regions"] = dict(sum_regions(regs), papers=len(regs))
    spp = [r["seconds_per_page"] for r in rows if r.get("seconds_per_page") is not None]
    out["speed"] = {"seconds_per_page_median": round(percentile(spp, 50), 3) if spp else None,
                    "seconds_per_page_p95": round(percentile(spp, 95), 3) if spp else None,
                    "failures": sum(1 for r in rows if r["status"] in ("internal_error", "timeout"))}
    return out


def _pct(x):
    return "—" if x is None else f"{100 * x:.0f}%"


def format_summary(rows: list[dict], summary: dict, pdf_dir: str) -> str:
    lines = [f"# Real-paper benchmark ({len(rows)} papers, PDFs from {pdf_dir})", "",
             "Best: the best graph the route wrote; primary: graph.json, the one a user gets first. "
             "Truth: data/realpapers/truth (written by reading each paper).", "",
             "| group | papers | best layer acc | primary layer acc | hyper-params | edges | with a valid graph |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for k in ("all", "table", "figure", "text"):
        if k in summary:
            m = summary[k]
            lines.append(f"| {k} | {m['papers']} | {_pct(m['best_layer_accuracy'])} | "
                         f"{_pct(m['primary_layer_accuracy'])} | {_pct(m['hparam_accuracy'])} | "
                         f"{_pct(m['edge_accuracy'])} | {m['with_valid_graph']} |")
    if "tables" in summary:
        t = summary["tables"]
        lines += ["", f"Tables: {t['found']} of {t['labelled']} labelled tables found ({_pct(t['recall'])}); "
                  f"architecture tables: {t['architecture']}, found {_pct(t['architecture_found_recall'])}, "
                  f"found and classified architecture {_pct(t['architecture_recall'])}; precision of "
                  f"'architecture' {_pct(t['architecture_precision'])}; results tables taken for architecture: "
                  f"{t['results_as_architecture']}."]
    if "regions" in summary:
        g = summary["regions"]
        lines += ["", f"Regions (hand-drawn boxes of every captioned figure and table, {g['papers']} papers; "
                  f"right at IoU >= {IOU_MIN}):", "",
                  "| | truth | found | matched | precision | recall | caption right |", "|---|---:|---:|---:|---:|---:|---:|"]
        for k in ("figures", "tables"):
            m = g[k]
            lines.append(f"| {k} | {m['truth']} | {m['found']} | {m['matched']} | {_pct(m['precision'])} | "
                         f"{_pct(m['recall'])} | {_pct(m['caption_accuracy'])} |")
    s = summary["speed"]
    lines += ["", f"Speed: {s['seconds_per_page_median']} s per page (median), p95 {s['seconds_per_page_p95']}; "
              f"internal errors or hangs: {s['failures']}.", "",
              "| paper | kind | status | truth layers | best | primary | hyper-params | edges | graphs (valid) | "
              "tables found | arch. tables found | s/page |", "|---|---|---|---:|---:|---:|---:|---:|---|---:|---|---:|"]
    for r in rows:
        tb = r.get("tables") or {}
        arch = f"{tb.get('architecture_classified', 0)}/{tb.get('architecture', 0)}" if tb else "—"
        lines.append(f"| {r['paper']} | {r['kind']} | {r['status']} | {r['truth_layers']} | "
                     f"{_pct(r['best']['layer_acc'])} | {_pct((r['primary'] or {}).get('layer_acc'))} | "
                     f"{_pct(r['best'].get('param_acc'))} | {_pct(r['best'].get('edge_acc'))} | "
                     f"{r['graphs']} ({r['valid_graphs']}) | {r['tables_found']} | {arch} | "
                     f"{r['seconds_per_page'] if r['seconds_per_page'] is not None else '—'} |")
    reg_rows = [r for r in rows if r.get("regions")]
    if reg_rows:
        lines += ["", "| paper | figures: truth / found / matched | captions right | tables: truth / found / matched "
                  "| captions right |", "|---|---|---:|---|---:|"]
        for r in reg_rows:
            f, t = r["regions"]["figures"], r["regions"]["tables"]
            lines.append(f"| {r['paper']} | {f['truth']} / {f['found']} / {f['matched']} | {f['captions_right']} | "
                         f"{t['truth']} / {t['found']} / {t['matched']} | {t['captions_right']} |")
    return "\n".join(lines) + "\n"


def run_benchmark(pdf_dir: str | os.PathLike, out_dir: str | os.PathLike, *, data_dir: str | os.PathLike,
                  metrics_path: str | os.PathLike | None = None, processes: int = 1, timeout_s: float = 600,
                  papers: list[str] | None = None, progress=None) -> dict:
    """Run and score every paper of the benchmark whose PDF is in `pdf_dir`.  With no such folder
    (CI has no real PDFs) the result says so, and nothing is scored."""
    pdf_dir, out_dir, data_dir = Path(pdf_dir), Path(out_dir), Path(data_dir)
    truth = load_truth(data_dir / "truth")
    names = [n for n in truth if papers is None or n in papers]
    if not pdf_dir.is_dir() or not any((pdf_dir / f"{n}.pdf").is_file() for n in names):
        result = {"status": "no_pdfs", "message": f"no benchmark PDFs in {pdf_dir}: fetch them (see "
                                                  f"data/realpapers/README.md) and set realpapers.pdf_dir",
                  "papers": 0}
        atomic_write_text(out_dir / "summary.md", f"# Real-paper benchmark\n\nNot run: {result['message']}.\n")
        if metrics_path:
            atomic_write_text(Path(metrics_path), json.dumps(result, indent=1) + "\n")
        return result
    missing = [n for n in names if not (pdf_dir / f"{n}.pdf").is_file()]
    names = [n for n in names if n not in missing]

    def one(name):
        out = out_dir / "papers" / name
        run = run_paper(pdf_dir / f"{name}.pdf", out, timeout_s)
        lab_file = data_dir / "tables" / f"{name}.json"
        labels = json.loads(lab_file.read_text(encoding="utf-8"))["tables"] if lab_file.is_file() else None
        reg_file = data_dir / "regions" / f"{name}.json"
        regions = json.loads(reg_file.read_text(encoding="utf-8")) if reg_file.is_file() else None
        row = evaluate_paper(name, truth[name], labels, out, run, regions)
        if progress:
            progress(f"{name}: {run['status']}, best {row['best']['layer_acc']:.2f}")
        return row

    with ThreadPoolExecutor(max_workers=max(1, processes)) as ex:
        rows = list(ex.map(one, names))
    summary = summarize(rows)
    result = {"status": "ok", "papers": len(rows), "missing_pdfs": missing, **summary}
    atomic_write_text(out_dir / "scores.json", json.dumps({"summary": result, "papers": rows}, indent=1) + "\n")
    atomic_write_text(out_dir / "summary.md", format_summary(rows, summary, str(pdf_dir)))
    if metrics_path:
        atomic_write_text(Path(metrics_path), json.dumps(result, indent=1) + "\n")
    return {**result, "rows": rows}


def run_robustness(pdf_dir: str | os.PathLike, out_dir: str | os.PathLike, *, processes: int = 2,
                   timeout_s: float = 600, progress=None) -> dict:
    """Every PDF of a folder through the paper route, unscored: how each run ended (ok, no model,
    refused with a reason, internal error, hang) and the slowest pages.  The route must never end
    in an internal error or a hang, whatever the PDF."""
    pdf_dir, out_dir = Path(pdf_dir), Path(out_dir)
    pdfs = sorted(p for p in pdf_dir.glob("*.pdf") if p.is_file())

    def one(pdf):
        run = run_paper(pdf, out_dir / "papers" / pdf.stem, timeout_s)
        rep = run.get("report") or {}
        secs, pages = (rep.get("seconds") or {}).get("total"), rep.get("pages") or 0
        row = {"pdf": pdf.name, "status": run["status"], "pages": pages, "seconds": secs,
               "wall_seconds": run.get("wall_seconds"),
               "seconds_per_page": round(secs / pages, 3) if secs and pages else None,
               "message": run.get("message") or (rep.get("error") or {}).get("message", "")}
        if progress:
            progress(f"{pdf.name}: {row['status']}")
        return row

    with ThreadPoolExecutor(max_workers=max(1, processes)) as ex:
        rows = list(ex.map(one, pdfs))
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    slow = sorted((r for r in rows if r["seconds_per_page"] is not None), key=lambda r: -r["seconds_per_page"])[:5]
    spp = [r["seconds_per_page"] for r in rows if r["seconds_per_page"] is not None]
    result = {"pdfs": len(rows), "statuses": counts,
              "internal_errors": counts.get("internal_error", 0) + counts.get("failed_internal", 0),
              "hangs": counts.get("timeout", 0),
              "seconds_per_page_median": round(percentile(spp, 50), 3) if spp else None,
              "seconds_per_page_p95": round(percentile(spp, 95), 3) if spp else None,
              "slowest": [{k: r[k] for k in ("pdf", "pages", "seconds", "seconds_per_page")} for r in slow],
              "rows": rows}
    lines = [f"# The paper route on {len(rows)} real PDFs (robustness)", "",
             "| status | PDFs |", "|---|---:|"] + [f"| {k} | {v} |" for k, v in sorted(counts.items())] + \
            ["", f"Internal errors: {result['internal_errors']}; hangs (over {timeout_s:.0f} s): {result['hangs']}; "
             f"seconds per page: median {result['seconds_per_page_median']}, p95 {result['seconds_per_page_p95']}.",
             "", "Slowest (seconds per page): " + ", ".join(f"{r['pdf']} {r['seconds_per_page']} s ({r['pages']} p.)"
                                                          for r in slow), "",
             "| pdf | status | pages | s/page | message |", "|---|---|---:|---:|---|"] + \
            [f"| {r['pdf']} | {r['status']} | {r['pages']} | {r['seconds_per_page'] or '—'} | "
             f"{str(r['message'])[:80].replace('|', '/')} |" for r in rows]
    atomic_write_text(out_dir / "robustness.md", "\n".join(lines) + "\n")
    atomic_write_text(out_dir / "robustness.json", json.dumps(result, indent=1) + "\n")
    return result


__all__ = ["run_robustness", "score_graph", "truth_sequence", "pred_sequence", "score_tables", "run_benchmark", "load_truth",
           "summarize", "format_summary", "evaluate_paper", "graphs_in"]


if __name__ == "__main__":          # one paper, in the benchmark's worker process: PDF OUT_DIR
    sys.exit(paper_route(sys.argv[1], sys.argv[2]))
