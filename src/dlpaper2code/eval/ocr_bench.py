"""OCR engines on the labels of real architecture figures: which one reads raster figures.

    python -m dlpaper2code.eval.ocr_bench --pdfs /work/pdfs -o data/realpapers/measured/ocr_figure_labels.json

Owns the measurement behind the route's choice of OCR engine for figures.  Every hand-labelled
architecture figure of the real-paper benchmark (data/realpapers/figure_labels.json) whose labels
are printed as PDF text gives its own truth: the words the PDF prints inside the figure's box.
The figure is rendered at the route's crop resolution (150 dpi) -- what a paper embedding the
same drawing as a bitmap shows -- and each engine reads the crop:

* ``tesseract``: the route's reader (:func:`dlpaper2code.paper.ocr.figure_words`: sparse text,
  the crop enlarged twice, words under confidence 30 dropped);
* ``rapidocr``: RapidOCR (PaddleOCR's detection and recognition models run by onnxruntime; the
  models ship inside the ``rapidocr_onnxruntime`` wheel, so it works offline), on the crop as
  it is (enlarged twice it reads fewer words: 51% against 57%).

Scores are over word tokens (lower-case runs of letters and digits, so "3x3" is one token and
"conv," is "conv"), counted as multisets: recall (truth tokens read), precision (tokens read that
are in the truth), exact-figure share, and seconds per figure.  Figures whose labels are pixels
in the PDF (no truth text inside the box) are counted and skipped.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter
from pathlib import Path

TOKEN = re.compile(r"[a-z0-9]+")
ENGINES = ("tesseract", "rapidocr")


def tokens(text: str) -> list[str]:
    return TOKEN.findall(text.lower())


def truth_tokens(page, box) -> list[str]:
    """The tokens of the PDF text inside `box` (points, top-left origin): upright and turned words
    whose centre lies in the box."""
    x0, t, x1, b = box
    out = []
    for seg in list(page.segments) + list(page.turned):
        for ch_run in _words(seg):
            text, cx, cy = ch_run
            if x0 <= cx <= x1 and t <= cy <= b:
                out += tokens(text)
    return out


def _words(seg):
    """(word, centre x, centre y) of a segment's words, by its characters' positions."""
    cur, boxes = [], []
    for ch in seg.chars + [None]:
        if ch is None or not ch.text.strip():
            if cur:
                yield "".join(c.text for c in cur), (min(c.x0 for c in cur) + max(c.x1 for c in cur)) / 2, \
                    (min(c.top for c in cur) + max(c.bottom for c in cur)) / 2
            cur = []
        else:
            cur.append(ch)


def score(truth: list[str], got: list[str]) -> dict:
    t, g = Counter(truth), Counter(got)
    hit = sum((t & g).values())
    return {"truth": sum(t.values()), "read": sum(g.values()), "hit": hit}


def read_with(spec: str):
    """The route's figure reader (:func:`dlpaper2code.paper.ocr.figure_words`) -> tokens, for an
    engine spec ``ENGINE`` or ``ENGINE:UPSCALE`` (``tesseract:1.5``: the crop enlarged 1.5x)."""
    engine, _, up = spec.partition(":")
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; known: {', '.join(ENGINES)}")
    upscale = float(up) if up else None

    def read(img) -> list[str]:
        from ..paper.ocr import figure_words

        return [w for seg in figure_words(img, engine=engine, upscale=upscale) for w in tokens(seg.text)]
    return read


def run(labels_path, pdf_dir, engines=ENGINES, dpi: int = 150, min_words: int = 3) -> dict:
    """Every engine on every architecture figure with printed labels; per figure and in total."""
    from ..paper.layout import read_layout
    from ..paper.pdf import open_paper, render_page

    labels = json.loads(Path(labels_path).read_text(encoding="utf-8"))
    rows, skipped = [], []
    readers = {e: read_with(e) for e in engines}
    secs = {e: 0.0 for e in engines}
    for paper_name, figs in sorted(labels["papers"].items()):
        pdf = Path(pdf_dir) / f"{paper_name}.pdf"
        arch = [f for f in figs if f["architecture"]]
        if not pdf.is_file() or not arch:
            continue
        paper = open_paper(pdf)
        layouts = {pg.number: pg for pg in read_layout(paper, sorted({f["page"] for f in arch}))}
        for fig in arch:
            truth = truth_tokens(layouts[fig["page"]], fig["box"])
            name = f"{paper_name} fig {fig['number']}"
            if len(truth) < min_words:
                skipped.append(name)
                continue
            s = dpi / 72.0
            x0, t, x1, b = fig["box"]
            img = render_page(paper, fig["page"], dpi)
            crop = img.crop((max(0, int(x0 * s)), max(0, int(t * s)), min(img.width, int(x1 * s + 1)),
                             min(img.height, int(b * s + 1))))
            row = {"figure": name, "style": fig["style"]}
            for e in engines:
                t0 = time.perf_counter()
                got = readers[e](crop)
                dt = time.perf_counter() - t0
                secs[e] += dt
                row[e] = dict(score(truth, got), seconds=round(dt, 3))
            rows.append(row)
    total = {}
    for e in engines:
        hit = sum(r[e]["hit"] for r in rows)
        tru = sum(r[e]["truth"] for r in rows)
        red = sum(r[e]["read"] for r in rows)
        total[e] = {"recall": round(hit / tru, 4) if tru else 0.0, "precision": round(hit / red, 4) if red else 0.0,
                    "figures_all_words_read": sum(1 for r in rows if r[e]["hit"] == r[e]["truth"]),
                    "mean_figure_recall": round(sum(r[e]["hit"] / r[e]["truth"] for r in rows) / len(rows), 4)
                    if rows else 0.0,
                    "seconds_per_figure": round(secs[e] / len(rows), 3) if rows else 0.0}
    return {"figures": len(rows), "skipped_no_printed_labels": skipped, "dpi": dpi, "engines": total, "rows": rows}


def table(res: dict) -> str:
    lines = [f"OCR of real figure labels: {res['figures']} architecture figures with printed labels, "
             f"rendered at {res['dpi']} dpi ({len(res['skipped_no_printed_labels'])} without printed labels skipped)",
             "", "| engine | word recall | precision | mean figure recall | figures read whole | s / figure |",
             "|---|---:|---:|---:|---:|---:|"]
    for e, v in res["engines"].items():
        lines.append(f"| {e} | {v['recall']:.1%} | {v['precision']:.1%} | {v['mean_figure_recall']:.1%} | "
                     f"{v['figures_all_words_read']} | {v['seconds_per_figure']} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m dlpaper2code.eval.ocr_bench", description=__doc__.split("\n")[0])
    ap.add_argument("--pdfs", required=True, help="folder with <paper>.pdf of the real-paper benchmark")
    ap.add_argument("--labels", default="data/realpapers/figure_labels.json")
    ap.add_argument("--engines", default=",".join(ENGINES),
                    help="comma-separated ENGINE or ENGINE:UPSCALE (e.g. tesseract:1.5)")
    ap.add_argument("-o", "--out", help="write the measurement (JSON) here")
    a = ap.parse_args(argv)
    if not Path(a.labels).is_file():
        print(f"ocr_bench: {a.labels}: no such labels file", file=sys.stderr)
        return 2
    engines = [e for e in a.engines.split(",") if e]
    try:
        for e in engines:
            read_with(e)
    except ValueError as exc:
        print(f"ocr_bench: --engines: {exc}", file=sys.stderr)
        return 2
    res = run(a.labels, a.pdfs, engines)
    print(table(res))
    if a.out:
        Path(a.out).write_text(json.dumps(res, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
