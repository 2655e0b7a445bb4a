#!/usr/bin/env python3
"""A small labelling aid for the figure and table regions of the real-paper benchmark.

The truth is drawn by a person looking at the page; this script only shows the page and the
PDF's own objects so that a box can be placed to the point.  It uses pdfplumber, poppler and
Pillow, never dlpaper2code (the truth must not come from the tool it measures).

    python3 label_regions.py show PDF PAGE OUT.png     # page with a point grid; prints captions,
                                                       # images and clusters of vector graphics
    python3 label_regions.py check REGIONS.json PDF OUTDIR   # each labelled page with its boxes drawn

Coordinates: PDF points, origin at the page's top-left corner, boxes [x0, top, x1, bottom].
Regions file (regions/<paper>.json):

    {"paper": "senet", "pages": 13, "regions": [
       {"kind": "figure", "number": "1", "page": 2, "box": [...],
        "caption": "Figure 1. A Squeeze-and-Excitation block.", "caption_box": [...],
        "subfigures": ["a", "b"]},                      # optional
       {"kind": "table", "number": "1", "page": 5, "box": [...], "caption": "...", "caption_box": [...]}]}

``box`` is the figure or table body without its caption; ``caption`` is its full text as
printed (hyphenation as printed, whitespace single).
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pdfplumber
from PIL import Image, ImageDraw

DPI = 100
CAPTION = re.compile(r"^(Fig\.?|Figure|FIGURE|Table|TABLE)\s*[0-9IVX]+", re.I)


def _render(pdf: str, page: int, dpi: int = DPI) -> Image.Image:
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["pdftoppm", "-f", str(page), "-l", str(page), "-r", str(dpi), "-png", pdf, f"{tmp}/p"],
                       check=True)
        (png,) = Path(tmp).glob("p*.png")
        return Image.open(png).convert("RGB")


def _clusters(boxes, join=5.0):
    parent = list(range(len(boxes)))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i
    for i, a in enumerate(boxes):
        for j in range(i):
            b = boxes[j]
            if a[0] - join <= b[2] and b[0] - join <= a[2] and a[1] - join <= b[3] and b[1] - join <= a[3]:
                parent[find(i)] = find(j)
    groups = {}
    for i, b in enumerate(boxes):
        g = groups.setdefault(find(i), [b[0], b[1], b[2], b[3], 0])
        g[0], g[1], g[2], g[3] = min(g[0], b[0]), min(g[1], b[1]), max(g[2], b[2]), max(g[3], b[3])
        g[4] += 1
    return sorted(groups.values(), key=lambda g: (g[1], g[0]))


def show(pdf: str, page: int, out: str) -> None:
    img = _render(pdf, page)
    k = DPI / 72.0
    d = ImageDraw.Draw(img)
    with pdfplumber.open(pdf) as doc:
        p = doc.pages[page - 1]
        W, H = float(p.width), float(p.height)
        for x in range(0, int(W) + 1, 18):
            d.line([(x * k, 0), (x * k, H * k)], fill=(150, 200, 255) if x % 36 else (80, 140, 255), width=1)
            if x % 72 == 0:
                d.text((x * k + 2, 2), str(x), fill=(0, 0, 255))
        for y in range(0, int(H) + 1, 18):
            d.line([(0, y * k), (W * k, y * k)], fill=(150, 200, 255) if y % 36 else (80, 140, 255), width=1)
            if y % 72 == 0:
                d.text((2, y * k + 2), str(y), fill=(0, 0, 255))
        print(f"page {page}: {W:.0f} x {H:.0f} points")
        lines = {}
        for w in p.extract_words(keep_blank_chars=False, use_text_flow=True):
            lines.setdefault((round(w["top"] / 2), round(w["x0"] / 150)), []).append(w)
        for ws in lines.values():
            text = " ".join(w["text"] for w in sorted(ws, key=lambda w: w["x0"]))
            if CAPTION.match(text):
                b = [min(w["x0"] for w in ws), min(w["top"] for w in ws), max(w["x1"] for w in ws),
                     max(w["bottom"] for w in ws)]
                print(f"  caption line {[round(v, 1) for v in b]}: {text[:100]}")
        for im in p.images:
            b = [im["x0"], im["top"], im["x1"], im["bottom"]]
            print(f"  image {[round(v, 1) for v in b]}")
            d.rectangle([v * k for v in b], outline=(0, 160, 0), width=2)
        vec = [[o["x0"], o["top"], o["x1"], o["bottom"]] for o in p.rects + p.curves + p.lines]
        for g in _clusters(vec):
            if g[2] - g[0] > 20 or g[3] - g[1] > 20:
                print(f"  vector cluster {[round(v, 1) for v in g[:4]]} ({g[4]} objects)")
                d.rectangle([v * k for v in g[:4]], outline=(255, 140, 0), width=1)
    img.save(out)
    print(f"  drawn: {out} ({DPI} dpi; grid every 18 pt, labels every 72 pt)")


def check(regions: str, pdf: str, outdir: str) -> None:
    data = json.loads(Path(regions).read_text())
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    k = DPI / 72.0
    pages = sorted({r["page"] for r in data["regions"]})
    for pg in pages:
        img = _render(pdf, pg)
        d = ImageDraw.Draw(img)
        for r in data["regions"]:
            if r["page"] != pg:
                continue
            colour = (220, 0, 0) if r["kind"] == "figure" else (0, 170, 0)
            d.rectangle([v * k for v in r["box"]], outline=colour, width=3)
            d.text((r["box"][0] * k + 4, r["box"][1] * k + 4), f"{r['kind']} {r['number']}", fill=colour)
            if r.get("caption_box"):
                d.rectangle([v * k for v in r["caption_box"]], outline=(0, 0, 230), width=2)
        img.save(out / f"page_{pg:02d}.png")
        print(out / f"page_{pg:02d}.png")


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "show":
        show(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    elif len(sys.argv) == 5 and sys.argv[1] == "check":
        check(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit(__doc__)
