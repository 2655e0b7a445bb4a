"""Shared geometry and caption detection for figure and table extraction."""
from __future__ import annotations

import re
from dataclasses import dataclass

from .page import PageLayout, Segment

FIG_CAPTION = re.compile(r"^(?:Figure|Fig\.?|FIGURE|FIG\.?)\s*(\d+)\s*[:.|]")
TAB_CAPTION = re.compile(r"^(?:Table|TABLE|Tab\.)\s*(\d+|[IVX]+)\s*(?:[:.|]|$)")   # "TABLE I" alone: IEEE style


@dataclass
class Caption:
    kind: str            # "figure" or "table"
    number: str
    text: str
    box: list[float]
    segments: list[Segment]
    size: float


def iou(a, b) -> float:
    ix = min(a[2], b[2]) - max(a[0], b[0])
    iy = min(a[3], b[3]) - max(a[1], b[1])
    if ix <= 0 or iy <= 0:
        return 0.0
    inter = ix * iy
    ua = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / ua if ua > 0 else 0.0


def inside(inner, outer, tol=1.0) -> bool:
    """Box `inner` lies within box `outer`, `tol` points of slack on every side."""
    return inner[0] >= outer[0] - tol and inner[1] >= outer[1] - tol and inner[2] <= outer[2] + tol \
        and inner[3] <= outer[3] + tol


def union(boxes):
    return [min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes)]


def hoverlap(a, b) -> float:
    return max(0.0, min(a[2], b[2]) - max(a[0], b[0]))


def gap(a, b) -> float:
    """Euclidean gap between two boxes (0 when they touch or overlap)."""
    dx = max(0.0, max(a[0], b[0]) - min(a[2], b[2]))
    dy = max(0.0, max(a[1], b[1]) - min(a[3], b[3]))
    return (dx * dx + dy * dy) ** 0.5


def body_size(page: PageLayout) -> float:
    """The most common font size by character count (the body text's)."""
    counts: dict[float, int] = {}
    for s in page.segments:
        k = round(s.size * 2) / 2
        counts[k] = counts.get(k, 0) + len(s.text)
    return max(counts, key=counts.get) if counts else 10.0


def columns(page: PageLayout) -> list[tuple[float, float]]:
    """Text columns as x-intervals, from the body-size segments: one or two."""
    bs = body_size(page)
    segs = [s for s in page.segments if abs(s.size - bs) < 0.6 and s.width > 60]
    mid = page.width / 2
    left = [s for s in segs if s.x1 < mid + 2]
    right = [s for s in segs if s.x0 > mid - 2]
    if len(left) >= 3 and len(right) >= 3:
        return [(min(s.x0 for s in left), max(s.x1 for s in left)),
                (min(s.x0 for s in right), max(s.x1 for s in right))]
    if segs:
        return [(min(s.x0 for s in segs), max(s.x1 for s in segs))]
    return [(0.0, page.width)]


def body_lines(page: PageLayout) -> list[Segment]:
    """Segments that look like running text: body size, most of a column wide, mostly words (a table
    row whose numbers are set close together comes as one wide segment too)."""
    bs = body_size(page)
    tol = 0.6 if getattr(page, "ocr", False) else 0.3      # a table's text is often a half point smaller
    return [s for s in page.segments if abs(s.size - bs) < tol and s.width > 0.25 * page.width
            and sum(ch.isdigit() for ch in s.text) < 0.3 * len(s.text.replace(" ", ""))]   # not a row of numbers


def _continues_a_sentence(page: PageLayout, s: Segment) -> bool:
    """A line starting "Table 5." right under a running-text line that ends mid-sentence ("We
    summarize the results in") is that sentence going on, not a caption."""
    prev = [t for t in page.segments if t is not s and t.bottom <= s.top + 1 and s.top - t.bottom < 0.8 * s.size
            and abs(t.size - s.size) < 0.3 and abs(t.x0 - s.x0) < 15 and t.width > 0.25 * page.width]
    if not prev:
        return False
    t = max(prev, key=lambda t: t.bottom)
    return not re.search(r"[.:;!?)\]]\s*$", t.text)


def find_captions(page: PageLayout) -> list[Caption]:
    """Caption blocks: a segment starting "Figure N:" / "Table N:" and the lines below it."""
    out = []
    segs = page.segments
    used = set()
    tol = 1.6 if getattr(page, "ocr", False) else 0.3       # OCR sizes are estimates
    for i, s in enumerate(segs):
        m = FIG_CAPTION.match(s.text)
        kind = "figure"
        if not m:
            m = TAB_CAPTION.match(s.text)
            kind = "table"
        if not m or i in used or _continues_a_sentence(page, s):
            continue
        used.add(i)

        def line_of(seed):
            """`seed` and the segments that go on with its line (a justified caption line may come
            as several segments: "Figure 4." then "Percentage of detected joints ...")."""
            row, right = [seed], seed.x1
            for j, t in sorted(enumerate(segs), key=lambda jt: jt[1].x0):
                if j in used or t is seed or abs(t.top - seed.top) >= 0.35 * s.size or t.x0 < right - 1 \
                        or t.x0 - right > 1.5 * s.size or abs(t.size - s.size) >= tol \
                        or FIG_CAPTION.match(t.text) or TAB_CAPTION.match(t.text):
                    continue
                row.append(t)
                used.add(j)
                right = t.x1
            return row
        bare = m.end() >= len(s.text.rstrip())       # "TABLE I" alone, the title centred under it (IEEE)
        if bare and kind == "table" and not (s.text.startswith("TABLE") or not m.group(1).isdigit()) \
                and not re.search(r"[:.|]\s*$", s.text):
            continue                                    # "Table1" alone: a word of the text, not a caption
        rows = [line_of(s)]
        if len(rows[0]) > 1:
            bare = False
        last = s
        while True:
            nxt = [(j, t) for j, t in enumerate(segs) if j not in used and t is not last and t.top > last.top + 1
                   and t.top - last.bottom < (1.0 if bare else 0.6) * s.size and (abs(t.x0 - s.x0) < (4 if tol > 1 else 2)
                                                                  or bare and abs((t.x0 + t.x1) - (s.x0 + s.x1)) < 4)
                   and (abs(t.size - s.size) < tol or bare and abs(t.size - s.size) < 2.5)   # IEEE's small caps
                   and not FIG_CAPTION.match(t.text) and not TAB_CAPTION.match(t.text)]
            if not nxt:
                break
            j, t = min(nxt, key=lambda jt: jt[1].top)
            used.add(j)
            rows.append(line_of(t))
            last = t
        block = [b for row in rows for b in row]
        text = " ".join(b.text for b in block)
        out.append(Caption(kind, m.group(1), text, union([b.box for b in block]), block, s.size))
    return out
