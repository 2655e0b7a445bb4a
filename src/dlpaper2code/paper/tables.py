"""Tables from a paper PDF: cells in rows and columns, with the caption.

For every ``Table N:`` caption the table is read below it (or, failing that,
above it) within the caption's span: one column of a two-column page, or the
whole width when the caption, a ruling line or the rows below it cross the
gutter.  Body text of the neighbouring column therefore never enters a table,
nor do the labels of a figure beside it.  The table ends at running text, at
another caption, at a drawing, or at a vertical gap larger than a row's font
size that no ruling line bridges.  A landscape page (``sidewaystable``) is
read in its own frame (:mod:`.layout`) and its boxes mapped back.

Structure, from character positions and ruling lines:

* text lines: segments overlapping by 0.6 of their height (a cell centred
  between the two lines of a taller cell is a line of its own);
* rows: lines join one table row when a tall bracket spans them (ResNet's
  "[3×3, 64; 3×3, 64] ×2", drawn as paths or as big "[" glyphs), when they
  follow each other closer than 0.8 of the table's usual row pitch (a wrapped
  cell and the cells centred beside it), or when rules separate the rows and
  none lies between them;
* columns: from vertical rules when the table has them (a segment across a
  rule is split there); otherwise from the x-extents of each row's runs of ink
  (text and brackets closer than 3 points), split where at most 45% of the
  rows have ink across and two rows or more lie wholly on each side: the rows
  across are cells spanning several columns, their text goes to the first
  column they cover (the others stay empty);
* a cell's text: its lines joined by a space, or ``before [line; line] after``
  around a pair of tall brackets.

Cells are NFKC-normalised (ligatures), superscripts kept as superscript
characters ("224²", never "2242").

    tables = extract_tables("paper.pdf", out_dir="out/tables")

Each table: ``{"id", "page", "box", "box_px", "caption", "number", "cells"
(rows of strings), "n_rows", "n_cols", "rules" (grid/hlines/booktabs/none),
"orientation" (row/column, a first guess from header words), "rotation" (on
a landscape page)}``.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from .common import Caption, FIG_CAPTION, TAB_CAPTION, body_lines, find_captions, hoverlap, iou, union
from .layout import read_layout
from .page import SUPERSCRIPTS, PageLayout, Segment, normalise
from .pdf import Paper, crop_boxes, limits, open_paper
from .table_graph import cell_layer_score
from ..core.dsu import DisjointSet

HEADER_WORDS = re.compile(r"\b(layer|layers|type|kernel|support|filt|filts|filters|stride|pad|output|size|"
                          r"channels|#channels|operator|name|data|patch|input|units)\b", re.I)


def _gutter(page: PageLayout, a: float, b: float, top: float, bottom: float) -> float:
    """The middle of the widest x interval between `a` and `b` that no text or rule in the band
    [top, bottom] covers: where two tables printed side by side part."""
    cover = sorted((max(a, g.x0), min(b, g.x1)) for g in list(page.segments) + list(page.graphics)
                   if g.bottom > top and g.top < bottom and g.x1 > a and g.x0 < b)
    best, at, x = 0.0, (a + b) / 2, a
    for x0, x1 in cover:
        if x0 - x > best:
            best, at = x0 - x, (x + x0) / 2
        x = max(x, x1)
    if b - x > best:
        at = (x + b) / 2
    return at


def _span(page: PageLayout, cap: Caption, body_ids: set) -> tuple[float, float]:
    mid = page.width / 2
    b = cap.box
    # captions side by side on one line (two tables next to each other, each captioned above or
    # below): each table lies between the gutters that part it from its neighbours, wherever the
    # page's middle is (a table may be wider than half the page)
    beside = [s for s in page.segments if s not in cap.segments and (TAB_CAPTION.match(s.text) or
              FIG_CAPTION.match(s.text)) and abs(s.top - b[1]) < cap.size and (s.x0 > b[2] or s.x1 < b[0])]
    if beside:
        band = (b[1] - 25 * cap.size, b[3] + 25 * cap.size)
        lo, hi = 0.0, page.width
        for s in beside:
            x = _gutter(page, min(b[2], s.x1), max(b[0], s.x0), *band) if s.x0 > b[2] else \
                _gutter(page, s.x1, b[0], *band)
            if s.x0 > b[2]:
                hi = min(hi, x)
            else:
                lo = max(lo, x)
        return (lo, hi)
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
    # ... unless the other half has a table of its own there (two tables side by side)
    neighbour = [s for s in page.segments if TAB_CAPTION.match(s.text) and s is not cap.segments[0]
                 and ((s.x0 > mid - 6) if left else (s.x1 < mid + 6)) and abs(s.top - b[1]) < 200]
    if len(other) >= 2 and mine and not neighbour and not any(id(s) in body_ids for s in other) and \
            not any(FIG_CAPTION.match(s.text) or TAB_CAPTION.match(s.text) for s in other):
        first = min(mine, key=lambda s: s.top)
        aligned = [s for s in other if abs(s.top - first.top) < 1.0 and abs(s.size - first.size) < 0.3]
        pictures = [g for g in page.graphics if not (g.is_hrule or g.is_vrule)
                    and ((g.x0 > mid) if left else (g.x1 < mid)) and g.top < b[3] + 4 * cap.size and g.bottom > b[3]]
        if aligned and not pictures:
            return (0.0, page.width)
    return (0.0, mid) if left else (mid, page.width)


def _lines(segs: list[Segment]) -> list[list[Segment]]:
    """Text lines: a segment joins a line when it overlaps the line's first segment by 0.6 of the
    smaller height (a cell centred between the two lines of a taller cell is a line of its own)."""
    lines: list[list[Segment]] = []
    for s in sorted(segs, key=lambda s: (s.top, s.x0)):
        for ln in lines[-3:]:
            a = ln[0]
            ov = min(a.bottom, s.bottom) - max(a.top, s.top)
            if ov >= 0.6 * min(a.bottom - a.top, s.bottom - s.top):
                ln.append(s)
                break
        else:
            lines.append([s])
    for ln in lines:
        ln.sort(key=lambda s: s.x0)
    lines.sort(key=lambda ln: min(s.top for s in ln))
    return lines


def _centre(line) -> float:
    cs = sorted((s.top + s.bottom) / 2 for s in line)
    return cs[len(cs) // 2]


def _repeated_operator(a, b) -> bool:
    if len(a) < 3 or len(b) < 3:
        return False
    for s in a:
        word = s.text.split()[0] if s.text.split() else ""
        if len(word) < 2 or not word[0].isalpha():
            continue
        for u in b:
            if abs(u.x0 - s.x0) < 1.5 and u.text.split() and u.text.split()[0] == word:
                return True
    return False


def _logical_rows(lines, brackets, hrules, pitch: bool = True) -> list[list[int]]:
    """Group text lines into table rows (lists of line indices).  Lines join one row when a tall
    bracket spans them, when they follow each other closer than the table's row pitch (a wrapped
    cell and the cells centred beside it), or when rules separate the rows (hlines or grid) and
    no rule lies between them."""
    n = len(lines)
    rows = DisjointSet(n)
    join = rows.merge
    centres = [_centre(ln) for ln in lines]
    for b in brackets:
        idx = [i for i in range(n) if b.top - 1 <= centres[i] <= b.bottom + 1]
        for i in idx[1:]:
            join(idx[0], i)
    pitches = [centres[i + 1] - centres[i] for i in range(n - 1)]
    if pitch and len(pitches) >= 3:       # not on OCR pages: their line positions are too noisy
        ref = sorted(pitches)[int(0.75 * (len(pitches) - 1))]
        for i, p in enumerate(pitches):
            size = max(s.size for s in lines[i] + lines[i + 1])
            if p < 0.8 * ref and p < 1.35 * size:
                join(i, i + 1)
    if n >= 2:
        tops = [min(s.top for s in ln) for ln in lines]
        bots = [max(s.bottom for s in ln) for ln in lines]
        inner = sorted((h.top + h.bottom) / 2 for h in hrules if tops[0] < (h.top + h.bottom) / 2 < bots[-1])
        if len(inner) >= 2:
            band = [sum(1 for y in inner if y < c) for c in centres]
            for i in range(n - 1):
                # two full lines that start a cell with the same word at the same place are two rows of
                # a group (ShiftNet's "CSC / s2" and "CSC / s1" between the same rules), not one cell
                if band[i] == band[i + 1] and not _repeated_operator(lines[i], lines[i + 1]):
                    join(i, i + 1)
    return sorted(rows.groups())


def _read_table(page, cap, body_ids, cap_ids, direction):
    x0s, x1s = _span(page, cap, body_ids)
    segs = [s for s in page.segments if id(s) not in cap_ids and x0s <= (s.x0 + s.x1) / 2 <= x1s]
    if direction == "down":
        segs = [s for s in segs if s.top >= cap.box[3] - 1]
    else:
        segs = [s for s in segs if s.bottom <= cap.box[1] + 1]
    rules = [g for g in page.graphics if (g.is_hrule or g.is_vrule) and x0s <= (g.x0 + g.x1) / 2 <= x1s]
    brackets = [g for g in page.graphics if g.is_bracket and x0s <= (g.x0 + g.x1) / 2 <= x1s]
    pictures = [g for g in page.graphics if not (g.is_hrule or g.is_vrule or g.is_bracket)
                and max(g.x1 - g.x0, g.bottom - g.top) >= 12.0 and g.bottom - g.top >= 10.0]
    # (not an unread word's ink on an OCR page, nor an arrowhead)
    glyphs = [g for g in page.graphics if g.kind == "glyph" and x0s <= (g.x0 + g.x1) / 2 <= x1s]
    turned_heads: list = []
    lines = _lines(segs)
    if direction == "up":
        lines = lines[::-1]
    taken: list[list[Segment]] = []
    edge = cap.box[3] if direction == "down" else cap.box[1]
    first_gap = None
    for li, r in enumerate(lines):
        top, bot = min(s.top for s in r), max(s.bottom for s in r)
        size = max(s.size for s in r)
        row_size = sorted(s.size for s in r)[len(r) // 2]       # a bigger first column aside
        # running text ends the table; a long cell beside other cells of the row does not (STDN's
        # "9 x 9 average pool, stride 9 (Input DBstage4_concat1)" beside its output size)
        body = [s for s in r if id(s) in body_ids]
        if body and len(r) == 1 and taken and max(len(x) for x in taken) >= 3 and li + 1 < len(lines) \
                and len(lines[li + 1]) >= 3 and abs(min(x.top for x in lines[li + 1]) - bot) < 1.5 * size:
            body = []           # a section title spanning the table between rows of cells (a full-page table)
        if (body and (len(r) < 2 or len(body) == len(r))) or \
                any(FIG_CAPTION.match(s.text) or TAB_CAPTION.match(s.text) for s in r):
            break
        g = (top - edge) if direction == "down" else (edge - bot)
        lo, hi = (edge, top) if direction == "down" else (bot, edge)
        # column headers set vertically (turned glyphs) fill the gap between the caption and the rows
        heads = [m for m in glyphs if m.top >= lo - 1 and m.bottom <= hi + 1]
        if heads and not taken:
            edge2 = max(m.bottom for m in heads) if direction == "down" else min(m.top for m in heads)
            g = (top - edge2) if direction == "down" else (edge2 - bot)
            turned_heads = heads
        limit = (3.0 * size) if not taken else (1.3 * size)
        if g > limit:
            break
        if any(g_.top < hi and g_.bottom > lo and hoverlap(g_.box, [x0s, 0, x1s, 0]) > 0
               for g_ in pictures):
            break                   # a drawing between the rows: the table ended
        if taken and not page.ocr and any(h.is_hrule and lo - 1 <= (h.top + h.bottom) / 2 <= hi + 1 for h in rules):
            sizes = sorted(s.size for ln in taken for s in ln)
            if abs(row_size - sizes[len(sizes) // 2]) > 0.9 and (len(r) <= 2 or body):
                break               # across the table's outer rule, text of another size: body text, notes
        if first_gap is None:
            first_gap = g
        taken.append(r)
        edge = (max(edge, bot) if taken[:-1] else bot) if direction == "down" else (min(edge, top) if taken[:-1] else top)
    if direction == "up":
        taken = taken[::-1]
    if len(taken) < 2:
        return None
    box = union([s.box for r in taken for s in r] + [m.box for m in turned_heads])
    brs = [b for b in brackets if b.top >= box[1] - 4 and b.bottom <= box[3] + 4 and box[0] - 12 <= b.x0 <= box[2] + 12]
    if brs:
        box = union([box] + [b.box for b in brs])
    near = [h for h in rules if h.bottom >= box[1] - 8 and h.top <= box[3] + 8
            and hoverlap(h.box, box) > 0.5 * (box[2] - box[0]) if h.is_hrule] + \
           [v for v in rules if v.is_vrule and v.top >= box[1] - 8 and v.bottom <= box[3] + 8
            and box[0] - 8 <= v.x0 <= box[2] + 8]
    if near:
        box = union([box] + [g.box for g in near])
    vr = sorted({round((v.x0 + v.x1) / 2, 1) for v in near if v.is_vrule})
    hr = [h for h in near if h.is_hrule]
    groups = _logical_rows(taken, brs, hr, pitch=not page.ocr)
    if len(vr) >= 2:
        rules_kind = "grid"
    elif len(hr) >= len(groups):
        rules_kind = "hlines"
    else:
        rules_kind = "booktabs" if hr else "none"
    cells = _grid(taken, groups, brs, vr, [v for v in near if v.is_vrule])
    return {"box": [round(v, 2) for v in box], "cells": cells, "rules": rules_kind,
            "_gap": first_gap, "_direction": direction}


RUN_JOIN = 3.0          # points: a bracket, its lines and the repeat after it are one run of ink


def _runs(items):
    """items (x0, x1, obj) of one row -> runs [x0, x1, [objs]] of ink closer than RUN_JOIN."""
    runs = []
    for x0, x1, o in sorted(items, key=lambda t: t[0]):
        if runs and x0 <= runs[-1][1] + RUN_JOIN:
            runs[-1][1] = max(runs[-1][1], x1)
            runs[-1][2].append(o)
        else:
            runs.append([x0, x1, [o]])
    return runs


def _split(runs) -> list[tuple[float, float]]:
    """Column intervals of one block of touching runs (row, x0, x1): split where at most
    SPAN_SHARE of the rows have ink across the split and two rows or more lie wholly on each
    side; the rows across are cells spanning several columns."""
    rows = {r for r, _, _ in runs}
    lo, hi = min(a for _, a, _ in runs), max(b for _, _, b in runs)
    xs = sorted({x for _, a, b in runs for x in (a, b)})
    best = None
    for a, b in zip(xs, xs[1:]):
        m = (a + b) / 2
        if b - a < 0.5 or m <= lo or m >= hi:
            continue
        cover = {r for r, x0, x1 in runs if x0 < m < x1}
        left = {r for r, x0, x1 in runs if x1 <= m}
        right = {r for r, x0, x1 in runs if x0 >= m}
        if len(left) >= 2 and len(right) >= 2 and len(cover) <= max(1, int(SPAN_SHARE * len(rows))):
            key = (len(cover), -(b - a))
            if best is None or key < best[0]:
                best = (key, m)
    if best is None:
        return [(lo, hi)]
    m = best[1]
    return _split([t for t in runs if t[2] <= m]) + _split([t for t in runs if t[1] >= m])


SPAN_SHARE = 0.45


def _col_intervals(row_runs, vrules):
    if len(vrules) >= 2:
        cols = [(vrules[i], vrules[i + 1]) for i in range(len(vrules) - 1)]
        ink = [(x0, x1) for runs in row_runs for x0, x1, _ in runs]
        if ink and min(a for a, _ in ink) < vrules[0] - 1.0:      # a column left of the first rule (no border)
            cols.insert(0, (min(a for a, _ in ink) - 1.0, vrules[0]))
        if ink and max(b for _, b in ink) > vrules[-1] + 1.0:     # and right of the last one
            cols.append((vrules[-1], max(b for _, b in ink) + 1.0))
        return cols
    flat = sorted((ri, x0, x1) for ri, runs in enumerate(row_runs) for x0, x1, _ in runs)
    flat.sort(key=lambda t: t[1])
    blocks: list[list] = []
    for t in flat:
        if blocks and t[1] <= max(b[2] for b in blocks[-1]) + 1.0:
            blocks[-1].append(t)
        else:
            blocks.append([t])
    cols = []
    for blk in blocks:
        cols += _split(blk)
    return cols


def _text(chars, main):
    parts, prev = [], None
    for c in sorted(chars, key=lambda c: c.x0):
        t = normalise(c.text)
        if c.sup:
            t = t.translate(SUPERSCRIPTS)
        if prev is not None and c.text != " " and prev.text != " " and c.x0 - prev.x1 > 0.18 * main and not c.sup:
            parts.append(" ")
        parts.append(t)
        prev = c
    return re.sub(r"\s+", " ", "".join(parts)).strip()


def _cell_text(items, line_of) -> str:
    """One cell's text: its lines joined by a space; a pair of tall brackets gives
    "before [line; line] after" (ResNet's "[3×3, 64; 3×3, 64] ×2")."""
    segs = [o for o in items if isinstance(o, Segment)]
    brs = sorted((o for o in items if not isinstance(o, Segment)), key=lambda b: b.x0)

    def joined(ss, sep):
        by: dict[int, list] = {}
        for x in ss:
            by.setdefault(line_of[id(x)], []).append(x)
        return sep.join(" ".join(x.text for x in sorted(v, key=lambda x: x.x0)) for _, v in sorted(by.items()))
    if len(brs) >= 2:
        lb, rb = brs[0], brs[-1]
        top = min(lb.top, rb.top)
        # left of the bracket, or a line above it ("max pool, 3×3, stride 2" over a stage's block)
        before = [x for x in segs if x.x1 <= lb.x0 + 1 or x.bottom <= top + 1]
        after = [x for x in segs if x.x0 >= rb.x1 - 1]
        inside = [x for x in segs if x not in before and x not in after]
        text = " ".join(t for t in (joined(before, " "), "[" + joined(inside, "; ") + "]", joined(after, " ")) if t)
        return text
    return joined(segs, " ")


def _grid(lines, groups, brackets, vrules, vsegs=()):
    line_of = {id(s): i for i, ln in enumerate(lines) for s in ln}
    rows = []
    for g in groups:
        segs = [s for i in g for s in lines[i]]
        lo = min(s.top for s in segs)
        hi = max(s.bottom for s in segs)
        brs = [b for b in brackets if b.top >= lo - 4 and b.bottom <= hi + 4]
        rows.append((segs, brs))
    row_runs = [_runs([(s.x0, s.x1, s) for s in segs] + [(b.x0, b.x1, b) for b in brs]) for segs, brs in rows]
    cols = _col_intervals(row_runs, vrules)
    n = len(cols)

    def col_of(x0, x1):
        best, bo = 0, -1e9
        for j, (a, b) in enumerate(cols):
            o = min(x1, b) - max(x0, a)
            if o > bo:
                best, bo = j, o
        return best

    def crossed(x0, x1):
        return [j for j, (a, b) in enumerate(cols) if min(x1, b) - max(x0, a) > 0]

    grid = []
    for (segs, brs), runs in zip(rows, row_runs):
        cells: list[list] = [[] for _ in range(n)]
        for x0, x1, objs in runs:
            js = crossed(x0, x1)
            if len(vrules) >= 2:
                for o in objs:
                    if not isinstance(o, Segment):
                        cells[col_of(o.x0, o.x1)].append(o)
                        continue
                    cj = {col_of(c.x0, c.x1) for c in o.chars if c.text.strip()}
                    # split only where a rule crosses this line: a cell spanning columns whose rules
                    # stop above it ("global average pool, 1000-d fc, softmax") stays whole
                    if len(cj) > 1 and vsegs and not any(o.x0 < (v.x0 + v.x1) / 2 < o.x1 and v.top - 1 <= o.cy <= v.bottom + 1
                                                          for v in vsegs):
                        cells[min(cj)].append(o)
                    elif len(cj) <= 1:
                        cells[col_of(o.x0, o.x1)].append(o)
                    else:                 # a segment across a vertical rule: split it there
                        for j in sorted(cj):
                            part = [c for c in o.chars if col_of(c.x0, c.x1) == j]
                            piece = Segment(part, min(c.x0 for c in part), o.top, max(c.x1 for c in part), o.bottom,
                                            o.size, _text(part, o.size))
                            line_of[id(piece)] = line_of[id(o)]
                            cells[j].append(piece)
            elif len(js) > 1:
                cells[js[0]].extend(objs)     # a cell spanning columns: its text in the first one
            else:
                cells[col_of(x0, x1)].extend(objs)
        grid.append([_cell_text(c, line_of) if c else "" for c in cells])
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


def _table_under_figure_caption(cells: list[list[str]]) -> bool:
    if len(cells) < 4 or max(len(r) for r in cells) < 3:
        return False
    filled = [c for r in cells for c in r if c.strip()]
    if sum(len(c) <= 25 for c in filled) < 0.8 * len(filled):
        return False
    return sum(1 for r in cells if any(cell_layer_score(c) >= 0.5 for c in r)) >= 3


BELOW_BONUS = 2.0       # points: a table below its caption wins a near tie (the common layout)


def page_tables(page: PageLayout, captions: list[Caption] | None = None) -> list[dict]:
    captions = captions if captions is not None else find_captions(page)
    body_ids = {id(s) for s in body_lines(page)}
    cap_ids = {id(s) for c in captions for s in c.segments}
    # each caption reads the table on both sides; the nearer one is its table (a caption sits closer to
    # its own table than to the next one), and a table already taken by another caption is not read twice
    options = []
    for c in captions:
        found = [x for x in (_read_table(page, c, body_ids, cap_ids, "down"),
                             _read_table(page, c, body_ids, cap_ids, "up")) if x is not None]
        if c.kind != "table":
            # a table captioned "Figure N" (BN-Inception's appendix): at least 4 rows of 3 columns of short
            # cells, 3 rows or more naming a layer (a drawing's labels are no such grid)
            found = [x for x in found if _table_under_figure_caption(x["cells"])]
        options.append((c, sorted(found, key=lambda x: (x["_gap"] - (BELOW_BONUS if x["_direction"] == "down" else 0)))))
    def assign(opts):
        chosen: list[tuple[Caption, dict]] = []
        claims: list[list[float]] = []
        # a caption with one possible table first (its table cannot be elsewhere), then by nearness
        for c, found in sorted(opts, key=lambda o: (len(o[1]), min((x["_gap"] for x in o[1]), default=1e9))):
            for x in found:
                if any(iou(x["box"], box) > 0.5 for box in claims):
                    continue
                claims.append(x["box"])
                chosen.append((c, x))
                break
        return chosen
    chosen = assign(options)
    # a page captions its tables one way: when every caption reading on the same side (all above
    # their tables, or all below) places more tables than the nearest side does, that is the layout
    # (FPN: "Table 1" under its table is nearer to the table under it, whose own caption is below it)
    for side in ("up", "down"):
        alt = assign([(c, [x for x in found if x["_direction"] == side]) for c, found in options])
        if len(alt) > len(chosen):
            chosen = alt
    out = []
    for c, t in sorted(chosen, key=lambda ct: captions.index(ct[0])):
        t.pop("_gap", None)
        t.pop("_direction", None)
        t.update(page=page.number, caption=c.text, number=int(c.number) if c.number.isdigit() else c.number,
                 n_rows=len(t["cells"]), n_cols=max(len(r) for r in t["cells"]),
                 orientation=guess_orientation(t["cells"]))
        out.append(t)
    return out


def extract_tables(pdf, out_dir=None, *, dpi: int = 150, layouts: list[PageLayout] | None = None,
                   crop: bool = False, max_pages: int | None = None, max_bytes: int | None = None) -> list[dict]:
    """Tables of a paper (a path or an open :class:`Paper`); with `out_dir`
    writes ``tables.json`` (and crops ``tab_*.png`` when `crop`)."""

    paper = pdf if isinstance(pdf, Paper) else open_paper(pdf, **limits(max_pages, max_bytes))
    layouts = layouts if layouts is not None else read_layout(paper)
    tables = []
    for pg in layouts:
        for k, t in enumerate(page_tables(pg), start=1):
            if pg.rotation:
                t["box"] = [round(v, 2) for v in pg.to_page(t["box"])]
                t["rotation"] = pg.rotation
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
