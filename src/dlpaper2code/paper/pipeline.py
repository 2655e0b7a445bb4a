"""End to end: a paper PDF -> figures, tables, model graphs, code and a readable report.

``process_paper(pdf, out_dir)`` writes, in ``out_dir``:

* ``figures/``  crops + figures.json (every figure, with caption and box)
* ``tables/``   tables.json (cells, caption, classification)
* ``graphs/<name>.json`` one graph per model found (a table with configurations
  A to E gives five), ``graphs/<name>.png`` the graph drawn; ``graph.json`` is
  the first one that validates
* ``code/<name>/`` the emitted code of every target that can express it
* ``report.html`` (a person reads it) and ``report.json`` (a program does)

Everything is written into a temporary sibling folder that replaces
``out_dir`` at the end, so a crash never leaves a complete-looking result. A PDF
that cannot be read (encrypted, truncated, not a PDF ...) gives a folder with
only ``report.json`` (``status: failed``, the error kind and message), so a
batch records the failure and goes on.

Figures: until the figure classifier lands (its own issue), every extracted
figure is passed to the diagram reader; a figure counts as an architecture
diagram when the reader recovers at least ``min_figure_layers`` connected
layers. The report says which figures were tried and what came of each.
When a table graph and a figure graph have nearly the same layer-type
sequence, they are fused: the table's graph (its hyper-parameters) is kept and
marked as confirmed by the figure.
"""
from __future__ import annotations

import difflib
import html
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import jinja2

from ..codegen import TARGETS, emit
from ..errors import EmitError, GraphError
from ..graph import parse_graph
from .figures import extract_figures
from .layout import read_layout
from .pdf import PaperError, open_paper
from .tables import extract_tables

REPORT_TEMPLATE = Path(__file__).with_name("report.html.j2")


def _write_json(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def _types(doc: dict) -> list[str]:
    return [l["layer_type"] for l in doc.get("layers", []) if l["layer_type"] != "Input"]


def _figure_graph(fig: dict, crop: Path, min_layers: int) -> tuple[dict | None, dict]:
    """Try the diagram reader on a figure crop: (graph doc or None, what happened)."""
    try:
        from ..read import read_diagram
    except ImportError as exc:  # pragma: no cover - the reader is part of the package
        return None, {"figure": fig["id"], "tried": False, "why": f"diagram reader unavailable: {exc}"}
    result = read_diagram(str(crop))
    info = {"figure": fig["id"], "tried": True, "status": result.get("status"), "message": result.get("message", "")}
    doc = result.get("graph") if result.get("status") == "ok" else None
    n = len(_types(doc)) if doc else 0
    info["layers"] = n
    if doc and n >= min_layers:
        info["why"] = f"read as a diagram of {n} layers"
        return doc, info
    info["why"] = (f"not an architecture diagram ({result.get('status')}: {result.get('message', '')})" if not doc
                   else f"only {n} layer(s) recovered (< {min_layers})")
    return None, info


def process_paper(pdf: str | Path, out_dir: str | Path, *, dpi: int = 150, targets: list[str] | None = None,
                  max_pages: int = 200, max_bytes: int = 64 << 20, read_figures: bool = True,
                  min_figure_layers: int = 3, fuse_ratio: float = 0.8, render_graphs: bool = True) -> dict:
    """Process one paper; returns the report dict (also written as report.json)."""
    pdf, out_dir = Path(pdf), Path(out_dir)
    targets = list(targets or TARGETS)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".tmp", dir=out_dir.parent))
    t0 = time.perf_counter()
    report: dict = {"pdf": str(pdf), "name": pdf.stem, "status": "ok", "steps": {}, "seconds": {}}
    try:
        try:
            paper = open_paper(pdf, max_pages=max_pages, max_bytes=max_bytes)
            t = time.perf_counter()
            layouts = read_layout(paper)
            report["pages"] = len(layouts)
            report["scanned_pages"] = list(getattr(paper, "scanned_pages", []) or [])
            tables = extract_tables(paper, tmp / "tables", dpi=dpi, layouts=layouts)
            figures = extract_figures(paper, tmp / "figures", dpi=dpi, layouts=layouts)
            report["seconds"]["extract"] = round(time.perf_counter() - t, 3)
        except PaperError as exc:
            report.update(status="failed", kind=getattr(exc, "kind", "error"), message=str(exc))
            shutil.rmtree(tmp)
            tmp.mkdir()
            _write_json(tmp / "report.json", report)
            return report
        report["steps"]["figures"] = {"found": len(figures)}
        report["steps"]["tables"] = {"found": len(tables)}

        # tables -> graphs
        from .table_classify import classify_table
        from .table_graph import graph_issues, table_to_graphs

        t = time.perf_counter()
        candidates: list[dict] = []
        table_info = []
        for tab in tables:
            cls = classify_table(tab)
            entry = {"table": tab["id"], "caption": tab.get("caption", ""), "kind": cls["kind"],
                     "score": round(float(cls["score"]), 3), "orientation": cls.get("orientation"), "graphs": []}
            tab["classification"] = {k: entry[k] for k in ("kind", "score", "orientation")}
            if cls["kind"] == "architecture":
                for k, doc in enumerate(table_to_graphs(tab)):
                    config = (doc.get("source") or {}).get("configuration")
                    name = f"{tab['id']}" + (f"_{config}" if config else ("" if k == 0 else f"_{k}"))
                    name = "".join(c if c.isalnum() or c in "_-" else "_" for c in name)
                    issues = graph_issues(doc)
                    candidates.append({"name": name, "from": "table", "table": tab["id"], "doc": doc,
                                       "issues": [str(i) for i in issues]})
                    entry["graphs"].append(name)
            table_info.append(entry)
        _write_json(tmp / "tables" / "tables.json", {"pdf": str(pdf), "tables": tables})
        report["tables"] = table_info
        report["seconds"]["tables_to_graphs"] = round(time.perf_counter() - t, 3)

        # figures -> graphs (every figure until the figure classifier lands)
        t = time.perf_counter()
        figure_info = []
        for fig in figures:
            crop = tmp / "figures" / f"{fig['id']}.png"
            if not read_figures:
                figure_info.append({"figure": fig["id"], "tried": False, "why": "figure reading switched off"})
                continue
            if not crop.is_file():
                figure_info.append({"figure": fig["id"], "tried": False, "why": "no crop was written"})
                continue
            doc, info = _figure_graph(fig, crop, min_figure_layers)
            info["caption"] = fig.get("caption", "")
            figure_info.append(info)
            if doc is None:
                continue
            # fuse with a table graph describing the same model
            seq = _types(doc)
            best, ratio = None, 0.0
            for cand in candidates:
                if cand["from"] == "table":
                    r = difflib.SequenceMatcher(None, _types(cand["doc"]), seq).ratio()
                    if r > ratio:
                        best, ratio = cand, r
            if best is not None and ratio >= fuse_ratio:
                best["confirmed_by"] = {"figure": fig["id"], "similarity": round(ratio, 3)}
                info["fused_with"] = best["name"]
                continue
            candidates.append({"name": fig["id"], "from": "figure", "figure": fig["id"], "doc": doc,
                               "issues": []})
        report["figures"] = figure_info
        report["seconds"]["figures_to_graphs"] = round(time.perf_counter() - t, 3)

        # graphs -> validated JSON, drawing, code
        t = time.perf_counter()
        graphs = []
        primary = None
        for cand in candidates:
            doc = dict(cand["doc"])
            doc["name"] = cand["name"]
            _write_json(tmp / "graphs" / f"{cand['name']}.json", doc)
            entry = {"name": cand["name"], "from": cand["from"], "layers": len(doc.get("layers", [])),
                     "confirmed_by": cand.get("confirmed_by"), "issues": list(cand["issues"]), "code": {},
                     "valid": False}
            try:
                graph = parse_graph(doc, source=cand["name"])
            except GraphError as exc:
                entry["issues"] += [str(i) for i in exc.issues]
                graphs.append(entry)
                continue
            entry["valid"] = True
            primary = primary or cand["name"]
            if render_graphs:
                from ..render import render_diagram

                render_diagram(graph, {"look": "keras2"}, tmp / "graphs" / f"{cand['name']}.png")
                entry["drawing"] = f"graphs/{cand['name']}.png"
            for target in targets:
                try:
                    files = emit(graph, target)
                except EmitError as exc:
                    entry["code"][target] = {"ok": False, "error": str(exc)}
                    continue
                code_dir = tmp / "code" / cand["name"]
                code_dir.mkdir(parents=True, exist_ok=True)
                for fname, text in files.items():
                    (code_dir / fname).write_text(text, encoding="utf-8")
                entry["code"][target] = {"ok": True, "files": [f"code/{cand['name']}/{f}" for f in files]}
            graphs.append(entry)
        if primary:
            shutil.copyfile(tmp / "graphs" / f"{primary}.json", tmp / "graph.json")
        report["graphs"] = graphs
        report["primary_graph"] = primary
        report["seconds"]["graphs_and_code"] = round(time.perf_counter() - t, 3)
        report["seconds"]["total"] = round(time.perf_counter() - t0, 3)
        if not graphs:
            report["status"] = "no_model"
            report["message"] = "no architecture table or diagram was recognised"
        _write_json(tmp / "report.json", report)
        (tmp / "report.html").write_text(render_report(report, tmp), encoding="utf-8")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        if tmp.exists():
            if out_dir.exists():
                shutil.rmtree(out_dir)
            os.replace(tmp, out_dir)
    return report


def render_report(report: dict, folder: Path) -> str:
    """The HTML report (self-contained but for the images next to it)."""
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    template = env.from_string(REPORT_TEMPLATE.read_text(encoding="utf-8"))
    code = {}
    for g in report.get("graphs", []):
        for target, info in g["code"].items():
            if info.get("ok"):
                code[(g["name"], target)] = [(Path(f).name, (folder / f).read_text(encoding="utf-8")) for f in info["files"]]
    figures = json.loads((folder / "figures" / "figures.json").read_text(encoding="utf-8"))["figures"] \
        if (folder / "figures" / "figures.json").is_file() else []
    tables = json.loads((folder / "tables" / "tables.json").read_text(encoding="utf-8"))["tables"] \
        if (folder / "tables" / "tables.json").is_file() else []
    return template.render(report=report, figures=figures, tables=tables, code=code, escape=html.escape)


# ----------------------------------------------------------------- corpus metrics
def layer_sequence_accuracy(pred_types: list[str], true_types: list[str]) -> float:
    """Layers matched in order / the longer sequence (1.0 = the same sequence).
    Flatten is ignored on both sides (tables seldom list it; graphs need it)."""
    a = [t for t in pred_types if t not in ("Input", "Flatten")]
    b = [t for t in true_types if t not in ("Input", "Flatten")]
    if not a and not b:
        return 1.0
    matched = sum(m.size for m in difflib.SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks())
    return matched / max(len(a), len(b))


def _graph_types(out_dir: Path, report: dict) -> list[list[str]]:
    seqs = []
    for g in report.get("graphs", []):
        f = out_dir / "graphs" / f"{g['name']}.json"
        if f.is_file():
            seqs.append([l["layer_type"] for l in json.loads(f.read_text(encoding="utf-8"))["layers"]])
    return seqs


def end_to_end(out_dir: str | Path, truth: dict | None) -> dict:
    """One processed paper against its synthetic ground truth (None: no truth, status and speed only).

    Layer-sequence accuracy: for every model of the truth (every configuration of every
    architecture table), the best :func:`layer_sequence_accuracy` over the graphs the paper gave;
    the paper's score is their mean (a paper with a missed model scores less)."""
    out_dir = Path(out_dir)
    report = json.loads((out_dir / "report.json").read_text(encoding="utf-8"))
    row = {"paper": report["name"], "status": report["status"], "pages": report.get("pages") or 0,
           "seconds": (report.get("seconds") or {}).get("total", 0.0), "graphs": len(report.get("graphs", []))}
    if truth is not None:
        models = [m["layer_types"] for t in truth.get("tables", []) if t.get("kind") == "architecture"
                  for m in (t.get("models") or [{"layer_types": t.get("layer_types", [])}])]
        preds = _graph_types(out_dir, report)
        scores = [max((layer_sequence_accuracy(p, m) for p in preds), default=0.0) for m in models]
        row["models"] = len(models)
        row["layer_sequence_accuracy"] = round(sum(scores) / len(scores), 4) if scores else None
    return row


def summarize_papers(rows: list[dict]) -> dict:
    import statistics

    scored = [r["layer_sequence_accuracy"] for r in rows if r.get("layer_sequence_accuracy") is not None]
    secs = [r["seconds"] for r in rows if r["status"] != "failed"]
    pages = [r["seconds"] / r["pages"] for r in rows if r["status"] != "failed" and r["pages"]]
    return {"papers": len(rows), "ok": sum(r["status"] == "ok" for r in rows),
            "failed": sum(r["status"] == "failed" for r in rows),
            "layer_sequence_accuracy_mean": round(statistics.fmean(scored), 4) if scored else None,
            "layer_sequence_exact_share": round(sum(s == 1.0 for s in scored) / len(scored), 4) if scored else None,
            "e2e_seconds_per_paper_median": round(statistics.median(secs), 3) if secs else None,
            "e2e_seconds_per_paper_worst": round(max(secs), 3) if secs else None,
            "e2e_seconds_per_page_median": round(statistics.median(pages), 3) if pages else None}
