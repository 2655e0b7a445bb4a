"""End to end: a paper PDF -> figures, tables, model graphs, code and a readable report.

``process_paper(pdf, out_dir)`` writes, in ``out_dir``:

* ``figures/``  crops + figures.json (every figure, with caption and box)
* ``tables/``   crops + tables.json (cells, caption, classification)
* ``pages/``    small page images with every found figure and table outlined
* ``graphs/<name>.json`` one graph per model found (a table with configurations
  A to E gives five), ``graphs/<name>.png`` the graph drawn; ``graph.json`` is
  the first one that validates
* ``code/<name>/`` the emitted code of every target that can express it
* ``report.html`` (a person reads it) and ``report.json`` (a program does)

Everything is written into a temporary sibling folder that replaces
``out_dir`` at the end, so a crash never leaves a complete-looking result. A PDF
that cannot be read (encrypted with a user password, truncated, not a PDF, no
pages, over ``max_pages`` / ``max_bytes``, scanned with OCR off) or an
unexpected error (kind ``internal``) gives a folder with only ``report.json``
(``status: failed``, the error kind and a message naming the file), so a batch
records the failure and goes on.  A PDF encrypted with an owner password only
is read (``steps.open.encrypted``).  Scanned pages are read by Tesseract
(``ocr``, one pass per page, at most ``max_ocr_pages``).

Figures: ``figure_filter(fig, crop) -> bool | (bool, reason)`` chooses the
figures worth reading (the figure classifier plugs in here; by default every
figure is tried).  A vector figure is first read from the PDF's own paths and
text (:mod:`.vecfig`), otherwise its crop goes to the diagram reader
(:func:`dlpaper2code.read.read_diagram`); it counts as a diagram when at least
``min_figure_layers`` layers are recovered.  The report says which figures
were tried, why, and what came of each.  When a table graph and a figure graph
describe the same model (layer-type similarity, or the share of the figure's
layers found in order in the table, at least ``fuse_ratio``) they are fused
(:mod:`.fuse`): the table gives the parameters, a branching figure gives the
connections, and every layer records where its type, parameters and
connections came from.

Confidence of each step (``report.steps``): text layer 1.0 or Tesseract's mean
word confidence; each table's classifier score; each figure's reader
confidence (mean over its layers and arrows, or the share of drawn connections
for a vector diagram).
"""
from __future__ import annotations

import difflib
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import jinja2

from ..emit.codegen import TARGETS, emit
from ..core.errors import EmitError, GraphError
from ..core.graph import parse_graph
from .figures import extract_figures
from .layout import read_layout
from .pdf import PaperError, open_paper, require_text
from .tables import extract_tables

REPORT_TEMPLATE = Path(__file__).with_name("report.html.j2")


def _write_json(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def _types(doc: dict) -> list[str]:
    return [l["layer_type"] for l in doc.get("layers", []) if l["layer_type"] != "Input"]


def _reader_confidence(result: dict) -> float | None:
    vals = [n.get("confidence") for n in result.get("nodes", []) if n.get("role") == "layer"] + \
        [e.get("confidence") for e in result.get("edges", [])]
    vals = [float(v) for v in vals if v is not None]
    return round(sum(vals) / len(vals), 3) if vals else None


def _figure_graph(fig: dict, crop: Path, min_layers: int, page=None) -> tuple[dict | None, dict]:
    """A figure's graph: from its vector drawing and text when it has them (:mod:`.vecfig`),
    else the diagram reader on its crop: (graph doc or None, what happened)."""
    from ..read import read_diagram

    vec_info = None
    if page is not None and fig.get("source") in ("vector", "mixed") and not page.rotation and not page.ocr:
        from .vecfig import vector_graph
        doc, vec_info = vector_graph(page, fig["box"], min_layers=min_layers)
        if doc is not None:
            return doc, dict(vec_info, figure=fig["id"], tried=True)
    try:
        result = read_diagram(str(crop), source=crop.name)
    except Exception as exc:      # noqa: BLE001 - the reader promises not to raise; a bug must not stop the paper
        return None, {"figure": fig["id"], "tried": True, "status": "error", "layers": 0,
                      "why": f"the diagram reader failed ({type(exc).__name__}: {exc})"}
    info = {"figure": fig["id"], "tried": True, "status": result.get("status"), "message": result.get("message", ""),
            "confidence": _reader_confidence(result), "seconds": (result.get("seconds") or {}).get("total")}
    doc = result.get("graph") if result.get("status") == "ok" else None
    n = len(_types(doc)) if doc else 0
    info["layers"] = n
    if doc and n >= min_layers:
        info["why"] = f"read as a diagram of {n} layers"
        return doc, info
    info["why"] = (f"not an architecture diagram ({result.get('status')}: {result.get('message', '')})" if not doc
                   else f"only {n} layer(s) recovered (< {min_layers})")
    if vec_info is not None:
        info["why"] = f"vector drawing: {vec_info['why']}; image: {info['why']}"
    return None, info


def _filter(figure_filter, fig: dict, crop: Path) -> tuple[bool, str]:
    """The figure filter's verdict: (try it?, why).  A filter returns a bool or (bool, reason)."""
    if figure_filter is None:
        return True, "no figure classifier: every figure is tried"
    try:
        verdict = figure_filter(fig, crop)
    except Exception as exc:      # noqa: BLE001 - a classifier bug: try the figure anyway, say so
        return True, f"the figure filter failed ({type(exc).__name__}: {exc}); tried anyway"
    if isinstance(verdict, tuple):
        ok, why = bool(verdict[0]), str(verdict[1])
    else:
        ok, why = bool(verdict), ""
    return ok, why or ("the figure filter accepted it" if ok else "the figure filter rejected it")


def _failed(tmp: Path, report: dict, kind: str, message: str) -> dict:
    """Leave only report.json (status failed) in the output folder."""
    report.update(status="failed", kind=kind, message=message)
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    _write_json(tmp / "report.json", report)
    return report


def process_paper(pdf: str | Path, out_dir: str | Path, *, dpi: int = 150, targets: list[str] | None = None,
                  max_pages: int = 200, max_bytes: int = 64 << 20, read_figures: bool = True,
                  min_figure_layers: int = 3, fuse_ratio: float = 0.8, render_graphs: bool = True,
                  figure_filter=None, ocr: bool = True, ocr_dpi: int = 200, max_ocr_pages: int = 30,
                  page_images: bool = True, password: str = "") -> dict:
    """Process one paper; returns the report dict (also written as report.json).

    `figure_filter(fig, crop_png) -> bool | (bool, reason)` decides which figures go to the
    diagram reader (the figure classifier plugs in here; None: every figure).  `ocr`: read
    pages without a text layer with Tesseract.  Never raises for a bad or unexpected input:
    the report says ``status: failed`` with the error ``kind`` and a message naming the file."""
    pdf, out_dir = Path(pdf), Path(out_dir)
    targets = list(targets or TARGETS)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".tmp", dir=out_dir.parent))
    t0 = time.perf_counter()
    report: dict = {"pdf": str(pdf), "name": pdf.stem, "status": "ok", "steps": {}, "seconds": {}}
    try:
        try:
            _process(pdf, tmp, report, t0, dpi=dpi, targets=targets, max_pages=max_pages, max_bytes=max_bytes,
                     read_figures=read_figures, min_figure_layers=min_figure_layers, fuse_ratio=fuse_ratio,
                     render_graphs=render_graphs, figure_filter=figure_filter, ocr=ocr, ocr_dpi=ocr_dpi,
                     max_ocr_pages=max_ocr_pages, page_images=page_images, password=password)
        except PaperError as exc:
            _failed(tmp, report, exc.kind, str(exc))
        except (KeyboardInterrupt, SystemExit):
            raise
        except Exception as exc:      # noqa: BLE001 - a bug on one paper must not stop a batch
            import traceback
            where = traceback.extract_tb(exc.__traceback__)[-1]
            _failed(tmp, report, "internal", f"{pdf}: unexpected {type(exc).__name__}: {exc} "
                                             f"({os.path.basename(where.filename)}:{where.lineno})")
        report["seconds"]["total"] = round(time.perf_counter() - t0, 3)
        if report["status"] == "failed":
            _write_json(tmp / "report.json", report)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if out_dir.exists():
        shutil.rmtree(out_dir)
    os.replace(tmp, out_dir)
    return report


def _process(pdf: Path, tmp: Path, report: dict, t0: float, *, dpi, targets, max_pages, max_bytes, read_figures,
             min_figure_layers, fuse_ratio, render_graphs, figure_filter, ocr, ocr_dpi, max_ocr_pages,
             page_images, password) -> None:
    steps = report["steps"]
    paper = open_paper(pdf, max_pages=max_pages, max_bytes=max_bytes, password=password)
    steps["open"] = {"ok": True, "pages": paper.n_pages, "bytes": paper.n_bytes, "encrypted": paper.encrypted,
                     "note": "encrypted with an owner password only: read without one" if paper.encrypted else ""}
    t = time.perf_counter()
    use_ocr = ocr
    ocr_note = ""
    if ocr:
        from .ocr import tesseract_available
        if not tesseract_available():
            use_ocr, ocr_note = False, "Tesseract is not installed: scanned pages stay unread"
    layouts = read_layout(paper, ocr=use_ocr, ocr_dpi=ocr_dpi, max_ocr_pages=max_ocr_pages)
    report["pages"] = len(layouts)
    report["scanned_pages"] = list(paper.scanned_pages)
    report["ocr_pages"] = list(paper.ocr_pages)
    confs = [pg.ocr_confidence for pg in layouts if pg.ocr and pg.ocr_confidence is not None]
    steps["layout"] = {"pages": len(layouts), "scanned_pages": list(paper.scanned_pages),
                       "ocr_pages": list(paper.ocr_pages), "rotated_pages": [pg.number for pg in layouts if pg.rotation],
                       "confidence": round(sum(confs) / len(confs) / 100, 3) if confs else (1.0 if not paper.scanned_pages else 0.0),
                       "note": ocr_note or ("text read by Tesseract on the scanned pages (confidence: its mean word "
                                            "confidence)" if confs else "text layer of the PDF")}
    unread = [n for n in paper.scanned_pages if n not in paper.ocr_pages]
    if unread and use_ocr:
        steps["layout"]["note"] += f"; {len(unread)} scanned page(s) over max_ocr_pages={max_ocr_pages} not read"
    steps["layout"]["unread_pages"] = unread
    if paper.scanned_pages and len(paper.scanned_pages) == paper.n_pages and not paper.ocr_pages:
        require_text(paper)
    tables = extract_tables(paper, tmp / "tables", dpi=dpi, layouts=layouts, crop=True)
    figures = extract_figures(paper, tmp / "figures", dpi=dpi, layouts=layouts,
                              table_boxes=_boxes_by_page(tables))
    report["seconds"]["extract"] = round(time.perf_counter() - t, 3)
    steps["figures"] = {"found": len(figures)}
    steps["tables"] = {"found": len(tables)}

    # tables -> graphs
    from .table_classify import classify_table
    from .table_graph import graph_issues, table_to_graphs

    t = time.perf_counter()
    candidates: list[dict] = []
    table_info = []
    for tab in tables:
        cls = classify_table(tab)
        entry = {"table": tab["id"], "page": tab["page"], "caption": tab.get("caption", ""), "kind": cls["kind"],
                 "score": round(float(cls["score"]), 3), "orientation": cls.get("orientation"), "graphs": [],
                 "png": tab.get("png"), "rotation": tab.get("rotation", 0)}
        tab["classification"] = {k: entry[k] for k in ("kind", "score", "orientation")}
        if cls["kind"] == "architecture":
            for k, doc in enumerate(table_to_graphs(tab)):
                config = (doc.get("source") or {}).get("configuration")
                name = f"{tab['id']}" + (f"_{config}" if config else ("" if k == 0 else f"_{k}"))
                name = "".join(c if c.isalnum() or c in "_-" else "_" for c in name)
                issues = graph_issues(doc)
                candidates.append({"name": name, "from": "table", "table": tab["id"], "doc": doc,
                                   "issues": [str(i) for i in issues], "source_issues":
                                   [i.get("message", str(i)) for i in (doc.get("source") or {}).get("issues", [])]})
                entry["graphs"].append(name)
        table_info.append(entry)
    _write_json(tmp / "tables" / "tables.json", {"pdf": str(pdf), "tables": tables})
    report["tables"] = table_info
    report["seconds"]["tables_to_graphs"] = round(time.perf_counter() - t, 3)

    # figures -> graphs, fused with a table graph of the same model
    from .fuse import coverage, fuse_graphs, similarity

    t = time.perf_counter()
    figure_info = []
    for fig in figures:
        crop = tmp / "figures" / f"{fig['id']}.png"
        base = {"figure": fig["id"], "page": fig["page"], "caption": fig.get("caption") or "",
                "source": fig.get("source"), "tried": False}
        if not read_figures:
            figure_info.append(dict(base, why="figure reading switched off"))
            continue
        if not crop.is_file():
            figure_info.append(dict(base, why="no crop was written"))
            continue
        ok, why = _filter(figure_filter, fig, crop)
        if fig.get("classification"):             # the figure classifier's class and probabilities
            base["classification"] = fig["classification"]
        if not ok:
            figure_info.append(dict(base, why=why))
            continue
        page = next((pg for pg in layouts if pg.number == fig["page"]), None)
        doc, info = _figure_graph(fig, crop, min_figure_layers, page)
        info = dict(base, **info, filter=why)
        figure_info.append(info)
        if doc is None:
            continue
        _write_json(tmp / "figures" / f"{fig['id']}.graph.json", doc)      # what the figure alone gave
        info["graph"] = f"figures/{fig['id']}.graph.json"
        best, ratio, cover = None, 0.0, 0.0
        for cand in candidates:
            if cand["from"] == "table" and "fused" not in cand:
                r, c = similarity(cand["doc"], doc), coverage(cand["doc"], doc)
                if max(r, c) > max(ratio, cover):
                    best, ratio, cover = cand, r, c
        # the same model: nearly the same layers, or a figure showing a part of the table's model
        if best is not None and (ratio >= fuse_ratio or (cover >= fuse_ratio and info["layers"] >= min_figure_layers)):
            fused, prov = fuse_graphs(best["doc"], doc, figure_id=fig["id"])
            issues = graph_issues(fused)
            if issues:
                prov["kept"] = f"the table's graph: the fused graph does not validate ({issues[0]})"
            else:
                best["doc"] = fused
            best["fused"] = prov
            best["confirmed_by"] = {"figure": fig["id"], "similarity": round(ratio, 3),
                                    "figure_layers_matched": round(cover, 3)}
            info["fused_with"] = best["name"]
            continue
        candidates.append({"name": fig["id"], "from": "figure", "figure": fig["id"], "doc": doc, "issues": [],
                           "confidence": info.get("confidence")})
    report["figures"] = figure_info
    steps["figures"].update(tried=sum(1 for f in figure_info if f.get("tried")),
                            diagrams=sum(1 for c in candidates if c["from"] == "figure") +
                            sum(1 for c in candidates if "fused" in c))
    report["seconds"]["figures_to_graphs"] = round(time.perf_counter() - t, 3)

    # graphs -> validated JSON, drawing, code
    t = time.perf_counter()
    graphs = []
    primary = None
    for cand in candidates:
        doc = dict(cand["doc"])
        doc["name"] = cand["name"]
        _write_json(tmp / "graphs" / f"{cand['name']}.json", doc)
        conf = cand.get("confidence")
        if cand["from"] == "table":
            te = next(e for e in table_info if e["table"] == cand["table"])
            conf = te["score"]
        entry = {"name": cand["name"], "from": cand["from"], "layers": len(doc.get("layers", [])),
                 "confirmed_by": cand.get("confirmed_by"), "fused": cand.get("fused"), "issues": list(cand["issues"]),
                 "source_issues": cand.get("source_issues", []), "code": {}, "valid": False,
                 "confidence": conf, "table": cand.get("table"), "figure": cand.get("figure")}
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

            try:
                render_diagram(graph, {"look": "keras2"}, tmp / "graphs" / f"{cand['name']}.png")
                entry["drawing"] = f"graphs/{cand['name']}.png"
            except Exception as exc:      # noqa: BLE001 - a drawing is a convenience; say why it is missing
                entry["drawing_error"] = f"{type(exc).__name__}: {exc}"
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
    if page_images:
        used = {g.get("table") for g in graphs} | {g.get("figure") for g in graphs} | \
            {(g.get("confirmed_by") or {}).get("figure") for g in graphs}
        report["page_images"] = _page_images(paper, tmp / "pages", figures, tables, layouts, dpi, used - {None})
    steps["graphs"] = {"candidates": len(graphs), "valid": sum(g["valid"] for g in graphs)}
    steps["code"] = {t_: sum(1 for g in graphs if g["code"].get(t_, {}).get("ok")) for t_ in targets}
    report["seconds"]["graphs_and_code"] = round(time.perf_counter() - t, 3)
    report["seconds"]["total"] = round(time.perf_counter() - t0, 3)
    if not graphs:
        report["status"] = "no_model"
        report["message"] = "no architecture table or diagram was recognised"
        if paper.scanned_pages and not paper.ocr_pages:
            report["message"] += f" (pages {paper.scanned_pages} have no text layer and were not read)"
    _write_json(tmp / "report.json", report)
    (tmp / "report.html").write_text(render_report(report, tmp), encoding="utf-8")


def _boxes_by_page(items) -> dict:
    out: dict[int, list] = {}
    for it in items:
        out.setdefault(it["page"], []).append(it["box"])
    return out


PAGE_DPI = 60
MAX_PAGE_IMAGES = 40


def _page_images(paper, folder: Path, figures, tables, layouts, crop_dpi: int = 150,
                 used: set | None = None) -> list[dict]:
    """Small page images with every found figure (blue) and table (green) outlined and labelled,
    those a model came from in red, thicker; only pages with something found (at most
    MAX_PAGE_IMAGES)."""
    used = used or set()
    from PIL import ImageDraw

    from .pdf import render_page

    pages = sorted({it["page"] for it in figures + tables})[:MAX_PAGE_IMAGES]
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    s = PAGE_DPI / 72.0
    for p in pages:
        big = render_page(paper, p, crop_dpi)            # the crops' rendering, cached: scaled down
        img = big.convert("RGB").resize((max(1, round(big.width * PAGE_DPI / crop_dpi)),
                                         max(1, round(big.height * PAGE_DPI / crop_dpi))))
        d = ImageDraw.Draw(img)
        for it, colour in [(f, (30, 90, 220)) for f in figures] + [(t, (20, 150, 40)) for t in tables]:
            if it["page"] != p:
                continue
            if it["id"] in used:
                colour = (210, 30, 30)
            x0, t0, x1, t1 = (v * s for v in it["box"])
            d.rectangle([x0 - 1, t0 - 1, x1 + 1, t1 + 1], outline=colour, width=3 if it["id"] in used else 2)
            lx, ly = x0 + 2, max(0, t0 - 11)
            d.rectangle(d.textbbox((lx, ly), it["id"]), fill=(255, 255, 255))
            d.text((lx, ly), it["id"], fill=colour)
        name = f"page_{p}.png"
        img.save(folder / name)
        out.append({"page": p, "png": f"pages/{name}",
                    "items": [it["id"] for it in figures + tables if it["page"] == p],
                    "used": sorted(it["id"] for it in figures + tables if it["page"] == p and it["id"] in used)})
    return out


def render_report(report: dict, folder: Path) -> str:
    """The HTML report (self-contained but for the images next to it); every string from the
    PDF or the user is escaped (Jinja2 autoescape)."""
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
    return template.render(report=report, figures={f["id"]: f for f in figures},
                           tables={t["id"]: t for t in tables}, code=code)


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
    if report["status"] == "failed":
        row.update(kind=report.get("kind"), message=report.get("message"))
    if truth is not None:
        # a model whose table and figure fuse into one graph is scored against the fused truth
        models = [m.get("fused_layer_types") or m["layer_types"] for t in truth.get("tables", [])
                  if t.get("kind") == "architecture"
                  for m in (t.get("models") or [{"layer_types": t.get("layer_types", [])}])]
        preds = _graph_types(out_dir, report)
        scores = [max((layer_sequence_accuracy(p, m) for p in preds), default=0.0) for m in models]
        row["models"] = len(models)
        row["layer_sequence_accuracy"] = round(sum(scores) / len(scores), 4) if scores else None
        row.update(_figure_scores(out_dir, report, truth))
    return row


def _figure_scores(out_dir: Path, report: dict, truth: dict) -> dict:
    """Architecture figures of the truth: how many were read as diagrams, and the mean
    layer-sequence accuracy of what each gave on its own (0 for one not read)."""
    from .common import iou

    arch = [f for f in truth.get("figures", []) if f.get("kind") == "architecture" and f.get("layer_types")]
    if not arch:
        return {}
    fj = out_dir / "figures" / "figures.json"
    found = json.loads(fj.read_text(encoding="utf-8"))["figures"] if fj.is_file() else []
    info = {f["figure"]: f for f in report.get("figures", [])}
    read, scores = 0, []
    for gt in arch:
        cand = [f for f in found if f["page"] == gt["page"] and iou(f["box"], gt["box"]) >= 0.5]
        best = 0.0
        for f in cand:
            g = info.get(f["id"], {}).get("graph")
            if g and (out_dir / g).is_file():
                types = [l["layer_type"] for l in json.loads((out_dir / g).read_text(encoding="utf-8"))["layers"]]
                best = max(best, layer_sequence_accuracy(types, gt["layer_types"]))
        read += best > 0
        scores.append(best)
    return {"arch_figures": len(arch), "arch_figures_read": int(read),
            "figure_layer_sequence_accuracy": round(sum(scores) / len(scores), 4)}


def summarize_papers(rows: list[dict]) -> dict:
    """Corpus summary: counts (failed papers by error kind), mean and exact-share layer-sequence
    accuracy, seconds per paper and per page (median and worst) of the whole pipeline."""
    import statistics

    scored = [r["layer_sequence_accuracy"] for r in rows if r.get("layer_sequence_accuracy") is not None]
    secs = [r["seconds"] for r in rows if r["status"] != "failed"]
    pages = [r["seconds"] / r["pages"] for r in rows if r["status"] != "failed" and r["pages"]]
    fs = [r["figure_layer_sequence_accuracy"] for r in rows if r.get("figure_layer_sequence_accuracy") is not None]
    kinds: dict[str, int] = {}
    for r in rows:
        if r["status"] == "failed":
            kinds[r.get("kind") or "error"] = kinds.get(r.get("kind") or "error", 0) + 1
    return {"papers": len(rows), "ok": sum(r["status"] == "ok" for r in rows),
            "failed": sum(r["status"] == "failed" for r in rows), "failed_by_kind": kinds,
            "models": sum(r.get("models") or 0 for r in rows),
            "arch_figures": sum(r.get("arch_figures") or 0 for r in rows),
            "arch_figures_read": sum(r.get("arch_figures_read") or 0 for r in rows),
            "figure_layer_sequence_accuracy_mean": round(statistics.fmean(fs), 4) if fs else None,
            "layer_sequence_accuracy_mean": round(statistics.fmean(scored), 4) if scored else None,
            "layer_sequence_exact_share": round(sum(s == 1.0 for s in scored) / len(scored), 4) if scored else None,
            "e2e_seconds_per_paper_median": round(statistics.median(secs), 3) if secs else None,
            "e2e_seconds_per_paper_worst": round(max(secs), 3) if secs else None,
            "e2e_seconds_per_page_median": round(statistics.median(pages), 3) if pages else None,
            "e2e_seconds_per_page_worst": round(max(pages), 3) if pages else None}
