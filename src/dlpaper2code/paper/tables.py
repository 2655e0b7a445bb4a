"""Tables from a paper PDF: cells in rows and columns, with the caption.

For every ``Table N:`` caption the table is read below it (or, failing that,
above it) within the caption's span: one column of a two-column page, or the
whole width when the caption, a ruling line or the rows below it cross the
gutter.  Body text of the neighbouring column therefore never enters a table.
Rows are text segments (see :mod:`.layout`) that overlap vertically; the table
ends at running text, at another caption, or at a vertical gap larger than a
row's font size that no ruling line bridges.  Columns come from vertical rules
when the table has them, otherwise from the x-projection of the segments
(whitespace gaps shared by all rows).  Cells are NFKC-normalised, superscripts
kept as superscript characters ("224²").

    tables = extract_tables("paper.pdf", out_dir="out/tables")

Each table: ``{"id", "page", "box", "box_px", "caption", "number", "cells"
(rows of strings), "n_rows", "n_cols", "rules" (grid/booktabs/none),
"orientation" (row/column, a first guess from header words)}``.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from .common import Caption, FIG_CAPTION, TAB_CAPTION, body_lines, columns, find_captions, hoverlap, union
from .layout import SUPERSCRIPTS, PageLayout, Segment, _norm, read_layout
from .pdf import Paper, open_paper

HEADER_WORDS = re.compile(r"\b(layer|layers|type|kernel|support|filt|filts|filters|stride|pad|output|size|"
                          r"channels|#channels|operator|name|data|patch|input|units)\b", re.I)


def _span(page: PageLayout, cap: Caption, body_ids: set) -> tuple[float, float]:
    mid = page.width / 2
    b = cap.box
    if b[0] < mid - 6 and b[2] > mid + 6:
        return (0.0, page.width)
    left = (b[0] + b[2]) / 2 < mid
    # a ruling line under the caption crossing the gutter: full width
    for g in page.graphics:
        if g.is_hrule and cap.box[3] - 2 <= g.top <= cap.box[3] + 3 * cap.size and g.x0 < mid - 6 < mid + 6 < g.x1:
            return (0.0, page.width)
    # the other half holds only short non-body text right below the caption: a full-width table
    band = [s for s in page.segments if b[3] - 1 <= s.top <= b[3] + 4 * cap.size]
    other = [s for s in band if ((s.x0 > mid) if left else (s.x1 < mid))]
    mine = [s for s in band if ((s.x1 < mid) if left else (s.x0 > mid)) and s not in cap.segments]
    if len(other) >= 2 and mine and not any(id(s) in body_ids for s in other) and \
            not any(FIG_CAPTION.match(s.text) or TAB_CAPTION.match(s.text) for s in other):
        first = min(mine, key=lambda s: s.top)
        aligned = [s for s in other if abs(s.top - first.top) < 1.0 and abs(s.size - first.size) < 0.3]
        pictures = [g for g in page.graphics if not (g.is_hrule or g.is_vrule)
                    and ((g.x0 > mid) if left else (g.x1 < mid)) and g.top < b[3] + 4 * cap.size and g.bottom > b[3]]
        if aligned and not pictures:
            return (0.0, page.width)
    return (0.0, mid) if left else (mid, page.width)


def _rows(segs: list[Segment]) -> list[list[Segment]]:
    rows: list[list[Segment]] = []
    for s in sorted(segs, key=lambda s: s.top):
        if rows:
            r = rows[-1]
            top, bot = min(x.top for x in r), max(x.bottom for x in r)
            ov = min(bot, s.bottom) - max(top, s.top)
            if ov >= 0.4 * min(bot - top, s.bottom - s.top):
                r.append(s)
                continue
        rows.append([s])
    for r in rows:
        r.sort(key=lambda s: s.x0)
    return rows


def _read_table(page, cap, body_ids, cap_ids, direction):
    x0s, x1s = _span(page, cap, body_ids)
    segs = [s for s in page.segments if id(s) not in cap_ids and x0s <= (s.x0 + s.x1) / 2 <= x1s]
    if direction == "down":
        segs = [s for s in segs if s.top >= cap.box[3] - 1]
    else:
        segs = [s for s in segs if s.bottom <= cap.box[1] + 1]
    rules = [g for g in page.graphics if (g.is_hrule or g.is_vrule) and x0s <= (g.x0 + g.x1) / 2 <= x1s]
    pictures = [g for g in page.graphics if not (g.is_hrule or g.is_vrule)]
    rows = _rows(segs)
    if direction == "up":
        rows = rows[::-1]
    taken: list[list[Segment]] = []
    edge = cap.box[3] if direction == "down" else cap.box[1]
    for r in rows:
        top, bot = min(s.top for s in r), max(s.bottom for s in r)
        size = max(s.size for s in r)
        if any(id(s) in body_ids for s in r) or any(FIG_CAPTION.match(s.text) or TAB_CAPTION.match(s.text) for s in r):
            break
        g = (top - edge) if direction == "down" else (edge - bot)
        lo, hi = (edge, top) if direction == "down" else (bot, edge)
        limit = (3.0 * size) if not taken else (1.3 * size)
        if g > limit:
            break
        if any(g_.top < hi and g_.bottom > lo and hoverlap(g_.box, [x0s, 0, x1s, 0]) > 0
               for g_ in pictures):
            break                   # a drawing between the rows: the table ended
        taken.append(r)
        edge = bot if direction == "down" else top
    if direction == "up":
        taken = taken[::-1]
    if len(taken) < 2:
        return None
    box = union([s.box for r in taken for s in r])
    near = [h for h in rules if h.bottom >= box[1] - 8 and h.top <= box[3] + 8
            and hoverlap(h.box, box) > 0.5 * (box[2] - box[0]) if h.is_hrule] + \
           [v for v in rules if v.is_vrule and v.top >= box[1] - 8 and v.bottom <= box[3] + 8
            and box[0] - 8 <= v.x0 <= box[2] + 8]
    if near:
        box = union([box] + [g.box for g in near])
    vr = sorted({round((v.x0 + v.x1) / 2, 1) for v in near if v.is_vrule})
    nh = sum(1 for h in near if h.is_hrule)
    rules_kind = "grid" if len(vr) >= 2 and nh >= len(taken) else ("booktabs" if nh else "none") \
        if len(vr) < 2 else "grid"
    cells = _grid(taken, vr)
    return {"box": [round(v, 2) for v in box], "cells": cells, "rules": rules_kind}


def _col_intervals(rows, vrules):
    if len(vrules) >= 2:
        return [(vrules[i], vrules[i + 1]) for i in range(len(vrules) - 1)]
    iv = sorted((s.x0, s.x1) for r in rows for s in r)
    cols = []
    for a, b in iv:
        if cols and a <= cols[-1][1] + 1.0:
            cols[-1] = (cols[-1][0], max(cols[-1][1], b))
        else:
            cols.append((a, b))
    return cols


def _text(chars, main):
    parts, prev = [], None
    for c in sorted(chars, key=lambda c: c.x0):
        t = _norm(c.text)
        if c.sup:
            t = t.translate(SUPERSCRIPTS)
        if prev is not None and c.text != " " and prev.text != " " and c.x0 - prev.x1 > 0.18 * main and not c.sup:
            parts.append(" ")
        parts.append(t)
        prev = c
    return re.sub(r"\s+", " ", "".join(parts)).strip()


def _grid(rows, vrules):
    cols = _col_intervals(rows, vrules)
    n = len(cols)

    def col_of(x0, x1):
        best, bo = 0, -1e9
        for j, (a, b) in enumerate(cols):
            o = min(x1, b) - max(x0, a)
            if o > bo:
                best, bo = j, o
        return best

    grid = []
    for r in rows:
        cells: list[list[str]] = [[] for _ in range(n)]
        for s in r:
            js = {col_of(c.x0, c.x1) for c in s.chars if c.text.strip()}
            if len(js) <= 1:
                cells[col_of(s.x0, s.x1)].append(s.text)
            else:
                for j in sorted(js):
                    cells[j].append(_text([c for c in s.chars if col_of(c.x0, c.x1) == j], s.size))
        grid.append([" ".join(x for x in c if x) for c in cells])
    return grid


def guess_orientation(cells: list[list[str]]) -> str:
    """row: a layer per row (headers across the top); column: a layer per column."""
    if not cells or not cells[0]:
        return "row"
    first_row = sum(bool(HEADER_WORDS.search(c)) for c in cells[0][1:])
    first_col = sum(bool(HEADER_WORDS.search(r[0])) for r in cells[1:] if r)
    if first_col > first_row and len(cells[0]) > len(cells):
        return "column"
    return "row"


def page_tables(page: PageLayout, captions: list[Caption] | None = None) -> list[dict]:
    captions = captions if captions is not None else find_captions(page)
    body_ids = {id(s) for s in body_lines(page)}
    cap_ids = {id(s) for c in captions for s in c.segments}
    out = []
    for c in captions:
        if c.kind != "table":
            continue
        t = _read_table(page, c, body_ids, cap_ids, "down") or _read_table(page, c, body_ids, cap_ids, "up")
        if t is None:
            continue
        t.update(page=page.number, caption=c.text, number=int(c.number) if c.number.isdigit() else c.number,
                 n_rows=len(t["cells"]), n_cols=max(len(r) for r in t["cells"]),
                 orientation=guess_orientation(t["cells"]))
        out.append(t)
    return out


def extract_tables(pdf, out_dir=None, *, dpi: int = 150, layouts: list[PageLayout] | None = None,
                   crop: bool = False, max_pages: int | None = None, max_bytes: int | None = None) -> list[dict]:
    """Tables of a paper (a path or an open :class:`Paper`); with `out_dir`
    writes ``tables.json`` (and crops ``tab_*.png`` when `crop`)."""
    from .figures import _limits, crop_boxes

    paper = pdf if isinstance(pdf, Paper) else open_paper(pdf, **_limits(max_pages, max_bytes))
    layouts = layouts if layouts is not None else read_layout(paper)
    tables = []
    for pg in layouts:
        for k, t in enumerate(page_tables(pg), start=1):
            t["id"] = f"tab_p{pg.number}_{k}"
            t["dpi"] = dpi
            t["box_px"] = [round(v * dpi / 72.0, 1) for v in t["box"]]
            tables.append(t)
    if out_dir is not None:
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        if crop and tables:
            crop_boxes(paper, tables, out_dir, dpi)
        (out_dir / "tables.json").write_text(json.dumps({"pdf": str(paper.path), "tables": tables}, indent=1,
                                                        ensure_ascii=False), encoding="utf-8")
    return tables


__all__ = ["extract_tables", "page_tables", "guess_orientation"]
