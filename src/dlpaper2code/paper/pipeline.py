"""End to end: a paper PDF -> figures, tables, model graphs, code and a readable report.

``process_paper(pdf, out_dir, options)`` (``options``: a :class:`~.options.PaperOptions`, every
setting of the route; None: the defaults) writes, in ``out_dir``:

* ``figures/``  crops + figures.json (every figure, with caption and box)
* ``tables/``   crops + tables.json (cells, caption, classification)
* ``pages/``    small page images with every found figure and table outlined
* ``graphs/<name>.json`` one graph per model found (a table with configurations
  A to E gives five), ``graphs/<name>.png`` the graph drawn; ``graph.json`` is
  the first one that validates
* ``code/<name>/`` the emitted code of every target that can express it
* ``report.html`` (a person reads it) and ``report.json`` (a program does)

The steps, in the order they run (``_process`` is the outline; each step reads what
the ones before left in a :class:`_PaperRun` and adds to it and to the report):

1. :func:`_open_pdf`            open and check the PDF (``steps.open``)
2. :func:`_read_pages`          text and graphics of every page, OCR on scanned ones (``steps.layout``)
3. :func:`_find_tables_and_figures`  table and figure crops
4. :func:`_tables_to_graphs`    classify the tables; an architecture table gives graphs
5. :func:`_figures_to_graphs`   read the chosen figures as diagrams; fuse with a table's graph
5b. :func:`_text_to_graphs`     architectures stated in the body text (:mod:`.text_arch`)
6. :func:`_graphs_to_code`      validate, draw and emit code for every graph
7. :func:`_outline_pages`       page images with what was found outlined
8. :func:`_write_report`        report.json and report.html

Everything is written into a temporary sibling folder that replaces
``out_dir`` at the end, so a crash never leaves a complete-looking result. A PDF
that cannot be read (encrypted with a user password, truncated, not a PDF, no
pages, over ``max_pages`` / ``max_mb``, scanned with OCR off) or an
unexpected error (kind ``internal``) gives a folder with only ``report.json``
(``status: failed``, the error kind and a message naming the file), so a batch
records the failure and goes on.  A PDF encrypted with an owner password only
is read (``steps.open.encrypted``).  Scanned pages are read by Tesseract
(``ocr``, one pass per page, at most ``max_ocr_pages``).

Figures: the figure filter, ``(fig, crop) -> bool | (bool, reason)``, chooses the
figures worth reading: the figure classifier at ``figure_classifier``, or a
``figure_filter`` hook (by default every figure is tried).  A vector figure is first
read from the PDF's own paths and
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

import contextlib
import dataclasses
import difflib
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import jinja2

from ..emit.codegen import TARGETS, emit
from ..core.atomic import replace_into
from ..core.errors import EmitError, GraphError
from ..core.graph import Graph, parse_graph
from .figures import extract_figures
from .layout import read_layout
from .options import PaperOptions
from .pdf import Paper, PaperError, open_paper, require_text
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


def _figure_graph(fig: dict, crop: Path, min_layers: int, page=None, ocr_engine: str = "rapidocr") -> tuple[dict | None, dict]:
    """A figure's graph: from its vector drawing and text when it has them (:mod:`.vecfig`),
    else the diagram reader on its crop: (graph doc or None, what happened)."""
    from ..read import read_diagram

    vec_info = None
    if page is not None and fig.get("source") in ("vector", "mixed") and not page.rotation and not page.ocr:
        from .vecfig import vector_graph
        try:
            doc, vec_info = vector_graph(page, fig.get("layout_box") or fig["box"], min_layers=min_layers,
                                         caption=fig.get("caption") or "")
        except Exception as exc:      # noqa: BLE001 - a reader bug must not stop the paper: the crop is read
            doc, vec_info = None, {"reader": "vector", "status": "error",
                                   "why": f"the vector reader failed ({type(exc).__name__}: {exc})"}
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
    if vec_info is not None:
        info["vector_reader"] = vec_info.get("why", "")
    if doc and n >= min_layers:
        info["why"] = f"read as a diagram of {n} layers"
        return doc, info
    info["why"] = (f"not an architecture diagram ({result.get('status')}: {result.get('message', '')})" if not doc
                   else f"only {n} layer(s) recovered (< {min_layers})")
    if vec_info is not None:
        info["why"] = f"vector drawing: {vec_info['why']}; image: {info['why']}"
    if fig.get("source") == "raster":
        # a raster 3D or stacked drawing: its words, read by OCR (``figure_ocr``), stage by stage
        # (a mixed figure's words are the PDF's, already read by the vector readers)
        from .ocr import figure_words
        from .stagefig import stage_graph

        from PIL import Image

        with Image.open(crop) as im:
            w, h = im.size
            segs = figure_words(im, engine=ocr_engine)
        sdoc, sinfo = stage_graph(segs, [0, 0, w, h], min_layers=min_layers)
        if sdoc is not None:
            sinfo.update(figure=fig["id"], tried=True, reader=f"stages (OCR: {ocr_engine})",
                         diagram_reader=info["why"])
            return sdoc, sinfo
        info["why"] += f"; its words (OCR): {sinfo['why']}"
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


def process_paper(pdf: str | Path, out_dir: str | Path, options: PaperOptions | None = None,
                  **overrides) -> dict:
    """Process one paper; returns the report dict (also written as report.json).

    `options`: every setting of the route (:class:`~.options.PaperOptions`; None: the defaults).
    Keyword `overrides` replace single fields of it: ``process_paper(pdf, out, targets=["pytorch"])``
    is ``process_paper(pdf, out, PaperOptions(targets=("pytorch",)))``.  Never raises for a bad or
    unexpected input: the report says ``status: failed`` with the error ``kind`` and a message
    naming the file.  A figure classifier (``options.figure_classifier``) that cannot be loaded
    raises :class:`~dlpaper2code.figclass.classify.ClassifierMissing` before anything is written."""
    options = dataclasses.replace(options or PaperOptions(), **overrides)
    figure_filter = options.load_figure_filter()
    pdf, out_dir = Path(pdf), Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".tmp", dir=out_dir.parent))
    t0 = time.perf_counter()
    report: dict = {"pdf": str(pdf), "name": pdf.stem, "status": "ok", "steps": {}, "seconds": {}}
    run = _PaperRun(pdf=pdf, tmp=tmp, options=options, figure_filter=figure_filter, report=report, t0=t0)
    try:
        try:
            _process(run)
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
    replace_into(tmp, out_dir)
    return report


@dataclasses.dataclass
class _PaperRun:
    """One paper on its way through the route: the settings, and what each step leaves for the next."""

    pdf: Path
    tmp: Path                              # the temporary output folder (renamed to out_dir at the end)
    options: PaperOptions
    figure_filter: Callable | None         # options.load_figure_filter(): None tries every figure
    report: dict                           # report.json, filled in step by step
    t0: float                              # perf_counter() at the start (report.seconds.total)
    paper: Paper | None = None             # _open_pdf
    layouts: list = dataclasses.field(default_factory=list)        # _read_pages: one per page
    tables: list[dict] = dataclasses.field(default_factory=list)   # _find_tables_and_figures
    figures: list[dict] = dataclasses.field(default_factory=list)  # _find_tables_and_figures
    table_info: list[dict] = dataclasses.field(default_factory=list)   # report.tables
    # model graphs found so far ({"name", "from": "table" | "figure", "doc", "issues", ...}),
    # from _tables_to_graphs and _figures_to_graphs; a table's may be fused with a figure's
    candidates: list[dict] = dataclasses.field(default_factory=list)
    graphs: list[dict] = dataclasses.field(default_factory=list)   # report.graphs, one per candidate

    @property
    def steps(self) -> dict:
        return self.report["steps"]

    @property
    def targets(self) -> list[str]:
        return list(self.options.targets or TARGETS)


def _process(run: _PaperRun) -> None:
    """The route, step by step (a bad PDF stops it with a PaperError); ``report.seconds`` times
    the extraction, tables, figures and graphs-and-code stages."""
    _open_pdf(run)
    _read_metadata(run)
    with _timed(run, "extract"):
        _read_pages(run)
        _find_tables_and_figures(run)
    with _timed(run, "tables_to_graphs"):
        _tables_to_graphs(run)
    with _timed(run, "figures_to_graphs"):
        _figures_to_graphs(run)
    with _timed(run, "text_to_graphs"):
        _text_to_graphs(run)
    with _timed(run, "graphs_and_code"):
        _graphs_to_code(run)
        _outline_pages(run)
    _write_report(run)


@contextlib.contextmanager
def _timed(run: _PaperRun, stage: str):
    """``report.seconds[stage]``: the seconds the steps inside took (not recorded when one fails)."""
    t = time.perf_counter()
    yield
    run.report["seconds"][stage] = round(time.perf_counter() - t, 3)


# ------------------------------------------------------------------ 1. open the PDF
def _open_pdf(run: _PaperRun) -> None:
    """Open and check the PDF (PaperError: not a PDF, truncated, encrypted with a user password
    not given, no pages, over ``max_pages`` / ``max_mb``); ``steps.open``."""
    opts = run.options
    paper = open_paper(run.pdf, max_pages=opts.max_pages, max_bytes=opts.max_bytes, password=opts.password)
    run.paper = paper
    run.steps["open"] = {"ok": True, "pages": paper.n_pages, "bytes": paper.n_bytes, "encrypted": paper.encrypted,
                         "note": "encrypted with an owner password only: read without one" if paper.encrypted else ""}


def _read_metadata(run: _PaperRun) -> None:
    """``report.metadata``: title, authors and arXiv id (:func:`.metadata.read_metadata`: the
    document info, else page 1); ``report.title`` is the title when one was found."""
    from .metadata import read_metadata

    meta = run.report["metadata"] = read_metadata(run.pdf, password=run.paper.password if run.paper else "")
    if meta.get("title"):
        run.report["title"] = meta["title"]


# ------------------------------------------------------------------ 2. read the pages
def _read_pages(run: _PaperRun) -> None:
    """Every page's text and graphics (:func:`.layout.read_layout`); pages without a text layer
    through Tesseract when ``ocr`` is on and Tesseract is installed (at most ``max_ocr_pages``).
    ``steps.layout`` says how the text was read, with what confidence, and which scanned pages
    stayed unread.  A paper with no page read at all stops here (PaperError ``no_text``)."""
    opts, paper, report = run.options, run.paper, run.report
    use_ocr = opts.ocr
    ocr_note = ""
    if opts.ocr:
        from .ocr import tesseract_available
        if not tesseract_available():
            use_ocr, ocr_note = False, "Tesseract is not installed: scanned pages stay unread"
    layouts = run.layouts = read_layout(paper, ocr=use_ocr, ocr_dpi=opts.ocr_dpi, max_ocr_pages=opts.max_ocr_pages)
    report["pages"] = len(layouts)
    report["scanned_pages"] = list(paper.scanned_pages)
    report["ocr_pages"] = list(paper.ocr_pages)
    report["unreadable_pages"] = list(paper.unreadable_pages)
    confs = [pg.ocr_confidence for pg in layouts if pg.ocr and pg.ocr_confidence is not None]
    layout = run.steps["layout"] = {
        "pages": len(layouts), "scanned_pages": list(paper.scanned_pages),
        "ocr_pages": list(paper.ocr_pages), "rotated_pages": [pg.number for pg in layouts if pg.rotation],
        "confidence": round(sum(confs) / len(confs) / 100, 3) if confs else (1.0 if not paper.scanned_pages else 0.0),
        "note": ocr_note or ("text read by Tesseract on the scanned pages (confidence: its mean word "
                             "confidence)" if confs else "text layer of the PDF")}
    unread = [n for n in paper.scanned_pages if n not in paper.ocr_pages]
    if unread and use_ocr:
        layout["note"] += f"; {len(unread)} scanned page(s) over max_ocr_pages={opts.max_ocr_pages} not read"
    layout["unread_pages"] = unread
    if paper.unreadable_pages:
        layout["unreadable_text_pages"] = list(paper.unreadable_pages)
        layout["note"] += (f"; {len(paper.unreadable_pages)} page(s) whose text layer is unreadable (glyphs without "
                           f"a Unicode map) read as scans")
    if paper.scanned_pages and len(paper.scanned_pages) == paper.n_pages and not paper.ocr_pages:
        require_text(paper)


# ------------------------------------------------------------------ 3. find tables and figures
def _find_tables_and_figures(run: _PaperRun) -> None:
    """Tables (cells, caption, crop) into tables/, then figures (crop, caption) into figures/,
    a figure never inside a table's box; ``steps.tables.found`` and ``steps.figures.found``."""
    dpi = run.options.dpi
    run.tables = extract_tables(run.paper, run.tmp / "tables", dpi=dpi, layouts=run.layouts, crop=True)
    run.figures = extract_figures(run.paper, run.tmp / "figures", dpi=dpi, layouts=run.layouts,
                                  table_boxes=_boxes_by_page(run.tables))
    run.steps["figures"] = {"found": len(run.figures)}
    run.steps["tables"] = {"found": len(run.tables)}


# ------------------------------------------------------------------ 4. tables -> graphs
def _tables_to_graphs(run: _PaperRun) -> None:
    """Classify every table (:func:`.table_classify.classify_table`, kept in tables/tables.json);
    an architecture table gives one graph candidate per model it describes (configurations A to
    E: five, named ``<table>_<configuration>``).  ``report.tables``: kind, score and graphs of each."""
    from .table_classify import classify_table
    from .table_graph import graph_issues, table_to_graphs

    for tab in run.tables:
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
                run.candidates.append({"name": name, "from": "table", "table": tab["id"], "doc": doc,
                                       "issues": [str(i) for i in issues], "source_issues":
                                       [i.get("message", str(i)) for i in (doc.get("source") or {}).get("issues", [])]})
                entry["graphs"].append(name)
        run.table_info.append(entry)
    _write_json(run.tmp / "tables" / "tables.json", {"pdf": str(run.pdf), "tables": run.tables})
    run.report["tables"] = run.table_info


# ------------------------------------------------------------------ 5. figures -> graphs
def _figures_to_graphs(run: _PaperRun) -> None:
    """Read the figures the filter lets through as diagrams (:func:`_read_figure`); each figure
    graph (also written as figures/<id>.graph.json) is fused into the table graph of the same
    model when there is one (:func:`_fuse_with_table`), else it is a candidate of its own.
    ``report.figures``: what came of each figure; ``steps.figures``: how many were tried and read."""
    figure_info = []
    refs = _references_page(run.layouts)
    for fig in run.figures:
        info, doc = _read_figure(run, fig)
        if refs is not None and fig["page"] > refs:
            info["appendix"] = True
        figure_info.append(info)
        if doc is None:
            continue
        _write_json(run.tmp / "figures" / f"{fig['id']}.graph.json", doc)      # what the figure alone gave
        info["graph"] = f"figures/{fig['id']}.graph.json"
        if not _fuse_with_table(run, fig, doc, info):
            run.candidates.append({"name": fig["id"], "from": "figure", "figure": fig["id"], "doc": doc,
                                   "issues": [], "confidence": info.get("confidence"),
                                   "appendix": info.get("appendix", False)})
        # further networks drawn beside the first (a figure comparing plain and residual columns)
        for k, alt in enumerate(info.pop("alternatives", None) or [], start=2):
            run.candidates.append({"name": f"{fig['id']}_{k}", "from": "figure", "figure": fig["id"], "doc": alt,
                                   "issues": [], "confidence": info.get("confidence"), "alternative": True,
                                   "appendix": info.get("appendix", False)})
    run.report["figures"] = figure_info
    run.steps["figures"].update(tried=sum(1 for f in figure_info if f.get("tried")),
                                diagrams=sum(1 for c in run.candidates if c["from"] == "figure") +
                                sum(1 for c in run.candidates if "fused" in c))


REFERENCES = re.compile(r"^(?:\d+\.?\s*|[IVX]+\.\s*)?(?:references|bibliography)$", re.I)


def _references_page(layouts) -> int | None:
    """The page where the references start (a line reading "References" or "Bibliography"), or
    None; figures on later pages are an appendix's."""
    for pg in layouts:
        if any(REFERENCES.match(s.text.strip()) for s in pg.segments):
            return pg.number
    return None


def _text_to_graphs(run: _PaperRun) -> None:
    """Architectures the body text states (:func:`.text_arch.text_graphs`): each is a candidate
    ``text_p<page>_<k>``; ``report.text``: the words each came from; ``steps.text``.  Values the
    text states by name ("N = 6", "d_model = 512", "h = 8": :func:`.text_arch.text_values`) fill
    the figure graphs where the drawing leaves them out (:func:`.fuse.fill_from_text`: an "N×"
    group unrolled, attention heads, widths); ``report.text_values`` and each candidate's
    ``from_text`` say which and from where."""
    from .fuse import fill_from_text
    from .table_graph import graph_issues
    from .text_arch import text_graphs, text_values

    found = []
    values: dict = {}
    if run.options.read_text:
        for doc in text_graphs(run.layouts):
            issues = graph_issues(doc)
            run.candidates.append({"name": doc["name"], "from": "text", "doc": doc, "issues": [str(i) for i in issues]})
            found.append({"graph": doc["name"], "page": doc["source"]["page"], "reader": doc["source"]["reader"],
                          "text": doc["source"]["text"], "layers": len(doc["layers"])})
        _fuse_text_with_figures(run)
        values = text_values(run.layouts)
        for cand in run.candidates:
            if cand["from"] == "figure":
                changes = fill_from_text(cand["doc"], values)
                if changes:
                    cand["from_text"] = changes
    run.report["text"] = found
    run.report["text_values"] = values
    run.steps["text"] = {"read": run.options.read_text, "graphs": len(found),
                         "values": sorted(values), "figure_graphs_filled": sum(1 for c in run.candidates
                                                     if any("disagrees" not in r for r in c.get("from_text", []))),
                         "fused_with_figures": sum(1 for c in run.candidates if c["from"] == "text" and "fused" in c)}


def _fuse_text_with_figures(run: _PaperRun) -> None:
    """A layer chain the text states and a figure graph of the same model (as for tables:
    ``fuse_ratio``) become one graph (:func:`.fuse.fuse_graphs` with ``kind="text"``): the text
    gives the parameters, a branching figure the connections.  The text's candidate takes the
    fused graph (kept as it was when the fused one does not validate, as for tables), the figure's
    candidate is dropped for it, and ``fused`` / ``confirmed_by`` record how."""
    from .fuse import fuse_graphs
    from .table_graph import graph_issues

    opts = run.options
    for cand in [c for c in run.candidates if c["from"] == "text"]:
        figs = [c for c in run.candidates if c["from"] == "figure"]
        best, ratio, cover = _closest_graph(figs, cand["doc"], reverse=True)
        if best is None or not (ratio >= opts.fuse_ratio or
                                (cover >= opts.fuse_ratio and len(best["doc"]["layers"]) >= opts.min_figure_layers)):
            continue
        fused, prov = fuse_graphs(cand["doc"], best["doc"], figure_id=best["figure"], kind="text")
        issues = graph_issues(fused)
        if issues:
            prov["kept"] = f"the text's graph: the fused graph does not validate ({issues[0]})"
        else:
            cand["doc"] = fused
            cand["issues"] = []
            run.candidates.remove(best)
        cand["fused"] = prov
        cand["confirmed_by"] = {"figure": best["figure"], "similarity": round(ratio, 3),
                                "figure_layers_matched": round(cover, 3)}
        info = next((f for f in run.report.get("figures", []) if f["figure"] == best["figure"]), None)
        if info is not None:
            info["fused_with"] = cand["name"]


def _read_figure(run: _PaperRun, fig: dict) -> tuple[dict, dict | None]:
    """One figure: (its ``report.figures`` entry, its graph doc or None).  Not tried when figure
    reading is off, it has no crop or the figure filter rejects it; else read from its vector
    drawing or its crop (:func:`_figure_graph`)."""
    crop = run.tmp / "figures" / f"{fig['id']}.png"
    base = {"figure": fig["id"], "page": fig["page"], "caption": fig.get("caption") or "",
            "source": fig.get("source"), "tried": False}
    if not run.options.read_figures:
        return dict(base, why="figure reading switched off"), None
    if not crop.is_file():
        return dict(base, why="no crop was written"), None
    ok, why = _filter(run.figure_filter, fig, crop)
    if fig.get("classification"):             # the figure classifier's class and probabilities
        base["classification"] = fig["classification"]
    if not ok:
        return dict(base, why=why), None
    page = next((pg for pg in run.layouts if pg.number == fig["page"]), None)
    doc, info = _figure_graph(fig, crop, run.options.min_figure_layers, page, run.options.figure_ocr)
    return dict(base, **info, filter=why), doc


def _closest_graph(candidates: list[dict], doc: dict, *, reverse: bool = False) -> tuple[dict | None, float, float]:
    """The candidate (not yet fused) most like the figure's graph `doc`: (it or None, layer-type
    similarity, share of the figure's layers found in order in it), by the larger of the two.
    ``reverse``: `doc` is the one with the parameters and the candidates are figure graphs."""
    from .fuse import coverage, similarity

    best, ratio, cover = None, 0.0, 0.0
    for cand in candidates:
        if "fused" not in cand:
            r = similarity(cand["doc"], doc)
            c = coverage(doc, cand["doc"]) if reverse else coverage(cand["doc"], doc)
            if max(r, c) > max(ratio, cover):
                best, ratio, cover = cand, r, c
    return best, ratio, cover


def _fuse_with_table(run: _PaperRun, fig: dict, doc: dict, info: dict) -> bool:
    """Fuse the figure's graph into the table graph of the same model (:mod:`.fuse`): nearly the
    same layers, or a figure showing a part of the table's model (``fuse_ratio``).  The table's
    graph is kept when the fused one does not validate; either way the candidate records the
    figure that confirms it.  False when no table graph describes the figure's model."""
    from .fuse import fuse_graphs
    from .table_graph import graph_issues

    opts = run.options
    best, ratio, cover = _closest_graph([c for c in run.candidates if c["from"] == "table"], doc)
    if best is None or not (ratio >= opts.fuse_ratio or
                            (cover >= opts.fuse_ratio and info["layers"] >= opts.min_figure_layers)):
        return False
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
    return True


# ------------------------------------------------------------------ 6. graphs -> code
def _graphs_to_code(run: _PaperRun) -> None:
    """Every candidate: written to graphs/<name>.json and validated (:func:`_write_graph`); a valid
    one drawn (``render_graphs``) and emitted for every target into code/<name>/.  The best ranked
    candidate (:mod:`.primary`: the paper's own model) is also graph.json, valid or not.  ``report.graphs``, ``report.primary_graph``, ``steps.graphs`` and
    ``steps.code`` (graphs emitted per target)."""
    from .primary import pick, rank_candidates

    for cand in run.candidates:
        entry, graph = _write_graph(run, cand)
        run.graphs.append(entry)
        cand["valid"] = graph is not None
        if graph is None:
            continue
        if run.options.render_graphs:
            _draw_graph(run, graph, entry)
        _emit_code(run, graph, entry)
    # the paper's own model, ranked among every candidate (a graph with errors is still offered:
    # the editor opens graph.json and fixes it; its errors are in report.graphs)
    ranked = rank_candidates(run.candidates, run.table_info)
    primary, why = pick(ranked, run.candidates, run.options.model)
    if primary:
        shutil.copyfile(run.tmp / "graphs" / f"{primary}.json", run.tmp / "graph.json")
    run.report["graphs"] = run.graphs
    run.report["candidates_ranked"] = ranked
    run.report["primary_reason"] = why
    run.report["primary_valid"] = bool(primary) and any(g["valid"] for g in run.graphs if g["name"] == primary)
    run.report["primary_graph"] = primary
    run.steps["graphs"] = {"candidates": len(run.graphs), "valid": sum(g["valid"] for g in run.graphs)}
    run.steps["code"] = {t_: sum(1 for g in run.graphs if g["code"].get(t_, {}).get("ok")) for t_ in run.targets}


def _write_graph(run: _PaperRun, cand: dict) -> tuple[dict, Graph | None]:
    """Write a candidate's graph as graphs/<name>.json and parse it: (its ``report.graphs`` entry,
    the graph or None when it does not validate, the reasons in the entry's issues)."""
    doc = dict(cand["doc"])
    doc["name"] = cand["name"]
    _write_json(run.tmp / "graphs" / f"{cand['name']}.json", doc)
    conf = cand.get("confidence")
    if cand["from"] == "table":
        te = next(e for e in run.table_info if e["table"] == cand["table"])
        conf = te["score"]
    entry = {"name": cand["name"], "from": cand["from"], "layers": len(doc.get("layers", [])),
             "confirmed_by": cand.get("confirmed_by"), "fused": cand.get("fused"), "issues": list(cand["issues"]),
             "source_issues": cand.get("source_issues", []), "code": {}, "valid": False,
             "confidence": conf, "table": cand.get("table"), "figure": cand.get("figure"),
             "from_text": cand.get("from_text", [])}
    try:
        graph = parse_graph(doc, source=cand["name"])
    except GraphError as exc:
        # the candidate's own check and parse_graph may report the same problem: once each
        entry["issues"] += [m for m in dict.fromkeys(str(i) for i in exc.issues) if m not in entry["issues"]]
        return entry, None
    if not _has_weights(graph):
        # a table of symbols read as an Input row, an "Input, Dropout" list: well formed, not a model
        entry["issues"].append("no layer with weights (only inputs and weightless layers such as "
                               "Dropout or Activation): not a model")
        return entry, None
    entry["valid"] = True
    return entry, graph


def _has_weights(graph: Graph) -> bool:
    """Whether some layer of the (block-expanded) graph has weights in the layer vocabulary."""
    from ..core.vocab import load_vocabulary

    vocab = load_vocabulary()
    return any(vocab.layers[n.type].weights for n in graph.nodes if n.type in vocab.layers)


def _draw_graph(run: _PaperRun, graph: Graph, entry: dict) -> None:
    """graphs/<name>.png (the Keras 2 look); a drawing is a convenience: a failure is only recorded."""
    from ..render import render_diagram

    try:
        render_diagram(graph, {"look": "keras2"}, run.tmp / "graphs" / f"{entry['name']}.png")
        entry["drawing"] = f"graphs/{entry['name']}.png"
    except Exception as exc:      # noqa: BLE001 - a drawing is a convenience; say why it is missing
        entry["drawing_error"] = f"{type(exc).__name__}: {exc}"


def _emit_code(run: _PaperRun, graph: Graph, entry: dict) -> None:
    """The graph's code for every target into code/<name>/; ``entry.code[target]``: the files, or
    why the target cannot express the model."""
    for target in run.targets:
        try:
            files = emit(graph, target)
        except EmitError as exc:
            entry["code"][target] = {"ok": False, "error": str(exc)}
            continue
        code_dir = run.tmp / "code" / entry["name"]
        code_dir.mkdir(parents=True, exist_ok=True)
        for fname, text in files.items():
            (code_dir / fname).write_text(text, encoding="utf-8")
        entry["code"][target] = {"ok": True, "files": [f"code/{entry['name']}/{f}" for f in files]}


# ------------------------------------------------------------------ 7. page images
def _outline_pages(run: _PaperRun) -> None:
    """``page_images``: small page images with every found figure and table outlined, those a
    model came from in red (:func:`_page_images`); ``report.page_images``."""
    if not run.options.page_images:
        return
    graphs = run.graphs
    used = {g.get("table") for g in graphs} | {g.get("figure") for g in graphs} | \
        {(g.get("confirmed_by") or {}).get("figure") for g in graphs}
    run.report["page_images"] = _page_images(run.paper, run.tmp / "pages", run.figures, run.tables, run.layouts,
                                             run.options.dpi, used - {None})


# ------------------------------------------------------------------ 8. the report
def _write_report(run: _PaperRun) -> None:
    """The total time, ``status: no_model`` (with the reason) when no graph was found, then
    report.json and report.html."""
    report, paper = run.report, run.paper
    report["seconds"]["total"] = round(time.perf_counter() - run.t0, 3)
    if not run.graphs:
        report["status"] = "no_model"
        report["message"] = "no architecture table or diagram was recognised"
        if paper.scanned_pages and not paper.ocr_pages:
            report["message"] += f" (pages {paper.scanned_pages} have no text layer and were not read)"
    _write_json(run.tmp / "report.json", report)
    (run.tmp / "report.html").write_text(render_report(report, run.tmp), encoding="utf-8")


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
