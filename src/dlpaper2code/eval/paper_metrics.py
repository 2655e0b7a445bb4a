"""Extraction metrics against synthetic ground truth (see :mod:`.synth`).

``evaluate_paper(pdf, truth)`` extracts figures and tables (no crops) and
scores them: a prediction matches a truth item on the same page when their
boxes (PDF points) have IoU >= ``iou_min`` (0.8), one to one, best IoU first.
Figure and table precision = matched / predicted, recall = matched / truth.
Cell accuracy = over matched tables, truth cells whose text equals the
extracted cell at the same (row, column) (whitespace-collapsed), divided by
all truth cells of all truth tables (a missed table's cells count as wrong).
Speed: seconds per page of the extraction (layout + figures + tables), wall
clock and CPU (this process and its children: the wall clock of one idle core,
whatever else runs on the machine).
``evaluate_corpus`` sums the counts over papers and gives median and worst
seconds per page and per paper.
"""
from __future__ import annotations

import json
import re
import statistics
import time
from pathlib import Path

from .regions import match_boxes as _match


def _norm(s: str) -> str:
    return re.sub(r"\s+", " ", s or "").strip()


def evaluate_paper(pdf, truth: dict, *, iou_min: float = 0.8, ocr: bool = False) -> dict:
    from ..paper.figures import extract_figures
    from ..paper.layout import read_layout
    from ..paper.pdf import open_paper
    from ..paper.tables import extract_tables

    t0, c0, k0 = time.perf_counter(), time.process_time(), _children_cpu()
    paper = open_paper(pdf)
    layouts = read_layout(paper, ocr=ocr)
    tables = extract_tables(paper, layouts=layouts)
    boxes: dict[int, list] = {}
    for t in tables:
        boxes.setdefault(t["page"], []).append(t["box"])
    figures = extract_figures(paper, layouts=layouts, table_boxes=boxes)
    secs = time.perf_counter() - t0
    cpu = time.process_time() - c0 + _children_cpu() - k0
    fm = _match(figures, truth["figures"], iou_min)
    tm = _match(tables, truth["tables"], iou_min)
    cells_total = sum(len(r) for t in truth["tables"] for r in t["cells"])
    cells_ok = 0
    for i, j, _ in tm:
        got, exp = tables[i]["cells"], truth["tables"][j]["cells"]
        for r, row in enumerate(exp):
            for c, v in enumerate(row):
                if r < len(got) and c < len(got[r]) and _norm(got[r][c]) == _norm(v):
                    cells_ok += 1
    captions_ok = sum(1 for i, j, _ in fm if (figures[i].get("caption") or "") == truth["figures"][j]["caption"])
    return {"paper": truth.get("name"), "pages": paper.n_pages, "seconds": round(secs, 4), "cpu_seconds": round(cpu, 4),
            "figures": {"predicted": len(figures), "truth": len(truth["figures"]), "matched": len(fm),
                        "captions_matched": captions_ok},
            "tables": {"predicted": len(tables), "truth": len(truth["tables"]), "matched": len(tm),
                       "cells_correct": cells_ok, "cells_total": cells_total}}


def _children_cpu() -> float:
    """CPU seconds of this process's finished children (poppler, Tesseract) so far."""
    import os
    t = os.times()
    return t.children_user + t.children_system


def _pr(d):
    p = d["matched"] / d["predicted"] if d["predicted"] else 1.0
    r = d["matched"] / d["truth"] if d["truth"] else 1.0
    return round(p, 4), round(r, 4)


def summarize(results: list[dict]) -> dict:
    agg = {"figures": {}, "tables": {}}
    for part in agg:
        for k in results[0][part]:
            agg[part][k] = sum(r[part][k] for r in results)
    fp, fr = _pr(agg["figures"])
    tp, tr = _pr(agg["tables"])
    per_page = [r["seconds"] / r["pages"] for r in results]
    per_paper = [r["seconds"] for r in results]
    cpu_page = [r["cpu_seconds"] / r["pages"] for r in results]
    cells = agg["tables"]["cells_total"]
    return {"papers": len(results), "pages": sum(r["pages"] for r in results),
            "figure_precision": fp, "figure_recall": fr,
            "figure_caption_accuracy": round(agg["figures"]["captions_matched"] / agg["figures"]["truth"], 4)
            if agg["figures"]["truth"] else 1.0,
            "table_precision": tp, "table_recall": tr,
            "cell_accuracy": round(agg["tables"]["cells_correct"] / cells, 4) if cells else 1.0,
            "seconds_per_page_median": round(statistics.median(per_page), 4),
            "seconds_per_page_worst": round(max(per_page), 4),
            "seconds_per_paper_median": round(statistics.median(per_paper), 4),
            "seconds_per_paper_worst": round(max(per_paper), 4),
            "cpu_seconds_per_page_median": round(statistics.median(cpu_page), 4),
            "cpu_seconds_per_page_worst": round(max(cpu_page), 4),
            "counts": agg}


def evaluate_corpus(folder, *, iou_min: float = 0.8) -> dict:
    """Every ``*.json`` ground truth in `folder` with its PDF: the summary plus per-paper results."""
    folder = Path(folder)
    results = []
    for gt in sorted(folder.glob("*.json")):
        truth = json.loads(gt.read_text(encoding="utf-8"))
        if "figures" not in truth or "pdf" not in truth:
            continue
        results.append(evaluate_paper(folder / truth["pdf"], truth, iou_min=iou_min))
    if not results:
        raise ValueError(f"{folder}: no synthetic ground truth (*.json with its PDF)")
    return {**summarize(results), "per_paper": results}


def evaluate_scanned(folder, n: int = 2, *, dpi: int = 150, iou_min: float = 0.8) -> dict:
    """OCR quality: the first `n` papers of a synthetic corpus rasterised into image-only PDFs
    (:func:`.synth.scan_paper`, grey at `dpi`, a little noise) and scored like the originals
    (figures and tables found, captions, cells); keys ``scanned_*``."""
    import tempfile

    from ..paper.synth import scan_paper

    folder = Path(folder)
    truths = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))]
    truths = [t for t in truths if "figures" in t and "pdf" in t][:n]
    if not truths:
        return {}
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for t in truths:
            pdf = scan_paper(folder / t["pdf"], Path(tmp) / t["pdf"], dpi=dpi)
            results.append(evaluate_paper(pdf, t, iou_min=iou_min, ocr=True))
    m = summarize(results)
    keep = ("papers", "pages", "figure_precision", "figure_recall", "figure_caption_accuracy", "table_precision",
            "table_recall", "cell_accuracy", "seconds_per_page_median", "seconds_per_page_worst",
            "cpu_seconds_per_page_median", "cpu_seconds_per_page_worst")
    return {f"scanned_{k}": m[k] for k in keep}
