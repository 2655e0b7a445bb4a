"""Figures from a paper PDF: raster images and vector drawings, one box per figure.

Graphic elements (images, paths, lines, rectangles) outside tables are grouped
by proximity (boxes closer than ``join`` points, 6 by default: sub-figure tiles
and an arrow touching its boxes join; two figures side by side, a column
gutter apart, do not), never across a caption.  Text that is not running text
(labels inside a drawing, tick labels, axis titles) joins the group it is
inside or next to.  Each ``Figure N:`` / ``Fig. N.`` caption takes the nearest
group above it (or below, failing that) in its column; uncaptioned groups of
the same column directly above a captioned one are fragments of it and merge.
Groups smaller than ``min_size`` points a side, lone ruling lines, and
uncaptioned groups made only of straight lines and rectangles (the frame of a
code listing, an uncaptioned table) are dropped.

    figs = extract_figures("paper.pdf", out_dir="out/figures", dpi=150)

Each figure: ``{"id", "page", "box" ([x0, top, x1, bottom] PDF points, top-left
origin), "box_px", "dpi", "caption", "number", "source" (raster/vector/mixed),
"png"}``; ``figures.json`` lists them all.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace

from .common import FIG_CAPTION, Caption, find_captions, gap, hoverlap, union
from .layout import read_layout
from .page import PageLayout, turn
from .pdf import Paper, crop_boxes, ink_box, limits, open_paper
from .tables import page_tables
from ..core.dsu import DisjointSet


def _cluster(boxes: list[list[float]], join: float, blockers: list[list[float]]) -> list[list[int]]:
    """Boxes closer than `join` (Euclidean gap; no caption between them) in one group.

    A dense plot can put tens of thousands of marks on a page (28,000 on one real page, which
    comparing every pair took 90 s over), so small boxes go into a grid of cells join/sqrt(2)
    wide: two boxes touching one cell are always within `join` of each other, and a pair within
    `join` lies at most two cells apart.  The few large boxes (frames, axes) are compared with
    every box.  The groups are exactly those of comparing every pair."""
    n = len(boxes)
    clusters = DisjointSet(n)
    find, merge = clusters.find, clusters.merge
    size = max(join, 1e-3) / 2 ** 0.5
    grid: dict[tuple[int, int], list[int]] = {}
    big: list[int] = []
    for i, (x0, top, x1, bottom) in enumerate(boxes):
        cx0, cx1, cy0, cy1 = int(x0 // size), int(x1 // size), int(top // size), int(bottom // size)
        if (cx1 - cx0 + 1) * (cy1 - cy0 + 1) > 64:
            big.append(i)
            continue
        for gx in range(cx0, cx1 + 1):
            for gy in range(cy0, cy1 + 1):
                grid.setdefault((gx, gy), []).append(i)

    def link(i, j):
        if find(i) != find(j) and gap(boxes[i], boxes[j]) <= join and not _blocked(boxes[i], boxes[j], blockers):
            merge(i, j)

    for members in grid.values():           # one cell: pairwise within `join`, unless a caption parts them
        for j in members[1:]:
            link(members[0], j)
        if len({find(i) for i in members}) > 1:
            for a_i, i in enumerate(members):
                for j in members[a_i + 1:]:
                    link(i, j)
    for (gx, gy), members in grid.items():  # neighbouring cells up to two apart
        for dx in range(-2, 3):
            for dy in range(-2, 3):
                if (dx, dy) <= (0, 0):
                    continue
                other = grid.get((gx + dx, gy + dy))
                if not other:
                    continue
                if len({find(i) for i in members} | {find(j) for j in other}) == 1:
                    continue
                for i in members:
                    for j in other:
                        link(i, j)
    order = sorted(range(n), key=lambda i: boxes[i][0])
    for i in big:                           # a large box against every box, in x order
        a = boxes[i]
        for j in order:
            b = boxes[j]
            if b[0] > a[2] + join:
                break
            if j != i and b[2] >= a[0] - join:
                link(i, j)
    return clusters.groups()


_SUB_LABEL = re.compile(r"^\(?[a-h]\)$|^\([a-h]\)\s")


def _sub_labelled(f: dict) -> bool:
    """A drawing with a sub-figure label ("(a)", "b)", "(c) plain") among its labels."""
    return any(_SUB_LABEL.match(s.text.strip()) for s in f["labels"])


def _uncaptioned_beside(figs: list[dict], cap_of: dict):
    """(captioned figure, its caption, an uncaptioned one still standing), for every such pair; a
    fragment absorbed on the way (``dead``) is not offered again."""
    for fi, c in list(cap_of.items()):
        for gi, g in enumerate(figs):
            if gi != fi and gi not in cap_of and not g.get("dead"):
                yield figs[fi], c, g


def _absorb(f: dict, g: dict) -> None:
    """Figure f takes fragment g's box and drawing; g is gone."""
    f["box"] = union([f["box"], g["box"]])
    f["graphics"] += g["graphics"]
    g["dead"] = True


def _blocked(a, b, blockers) -> bool:
    """A caption lies between boxes a and b (vertically, overlapping both horizontally)."""
    for c in blockers:
        if hoverlap(c, a) > 0 and hoverlap(c, b) > 0:
            if (a[3] <= c[1] + 1 and b[1] >= c[3] - 1) or (b[3] <= c[1] + 1 and a[1] >= c[3] - 1):
                return True
    return False


def page_figures(page: PageLayout, captions: list[Caption], table_boxes: list[list[float]], *,
                 join: float = 6.0, min_size: float = 24.0) -> list[dict]:
    """Figure candidates on one page (boxes in points), captions attached."""
    from .common import body_lines, body_size, columns

    def in_table(b):
        return any(b[0] >= t[0] - 3 and b[2] <= t[2] + 3 and b[1] >= t[1] - 3 and b[3] <= t[3] + 3
                   for t in table_boxes)

    band = 0.06 * page.height

    def in_margin(b):           # a running header or footer, with its rule: above or below the text block
        return b[3] <= band or b[1] >= page.height - band
    graphics = [g for g in page.graphics if not in_table(g.box)
                and not (g.x1 - g.x0 > 0.9 * page.width and g.bottom - g.top > 0.9 * page.height)
                and not (g.is_hrule and in_margin(g.box))]
    cap_boxes = [c.box for c in captions]
    body = {id(s) for s in body_lines(page)}
    cap_segs = {id(s) for c in captions for s in c.segments}
    boxes = [g.box for g in graphics]
    groups = [[graphics[i] for i in grp] for grp in _cluster(boxes, join, cap_boxes)]
    figs = []
    for grp in groups:
        box = union([g.box for g in grp])
        figs.append({"box": box, "graphics": grp, "labels": []})
    # labels: text that is not running text nor a caption; body-size text only inside a drawing
    bs = body_size(page)

    def inside(sb):
        return any(sb[0] >= f["box"][0] - 1 and sb[2] <= f["box"][2] + 1 and sb[1] >= f["box"][1] - 1
                   and sb[3] <= f["box"][3] + 1 for f in figs)
    def strong(s):              # small print, text inside a drawing, a sub-figure label
        return s.size < bs - 0.4 or inside(s.box) or _SUB_LABEL.match(s.text.strip())
    labels = [s for s in page.segments if id(s) not in body and id(s) not in cap_segs and not in_table(s.box)
              and not in_margin(s.box)
              and (strong(s) or (s.size < bs + 0.4 and s.width < 0.2 * page.width))]  # a panel title, an axis title
    # merge labels: inside or within 10 pt of a group, repeatedly (tick labels, then the axis title);
    # a drawing inside one text column takes no label that reaches into the other (a line of small
    # print across the page above it: an e-mail line, a footnote)
    cols = columns(page)

    def crosses(sb, fb):
        if len(cols) < 2:
            return False
        x0, x1 = max(fb[0], cols[0][0]), min(fb[2], cols[-1][1])      # drawn ink past the margins aside
        col = next((c for c in cols if x0 >= c[0] - 6 and x1 <= c[1] + 6), None)
        return col is not None and (sb[0] < col[0] - 6 or sb[2] > col[1] + 6)
    # turned text (an axis title set vertically) clusters on its own: it joins a drawing as a label does
    turned = [f for f in figs if all(g.kind == "glyph" for g in f["graphics"])]
    figs = [f for f in figs if f not in turned]
    labels += [SimpleNamespace(box=f["box"], size=0.0, text="", width=f["box"][2] - f["box"][0]) for f in turned]
    free = list(labels)
    for _ in range(3):
        rest = []
        for s in free:
            best, bd = None, 1e9
            for f in figs:
                d = gap(s.box, f["box"])
                if d < bd:
                    best, bd = f, d
            # body-size text (a panel or axis title) only when it touches the drawing, above or below it
            near = 10.0 if strong(s) else (5.0 if best is not None and hoverlap(s.box, best["box"])
                                           >= 0.5 * s.width else -1.0)
            if best is not None and bd <= near and not _blocked(s.box, best["box"], cap_boxes) \
                    and not crosses(s.box, best["box"]):
                best["labels"].append(s)
                best["box"] = union([best["box"], s.box])
            else:
                rest.append(s)
        if len(rest) == len(free):
            break
        free = rest
    # groups that now overlap merge
    merged = True
    while merged:
        merged = False
        for i in range(len(figs)):
            for j in range(i + 1, len(figs)):
                if gap(figs[i]["box"], figs[j]["box"]) <= 1.0 and not _blocked(figs[i]["box"], figs[j]["box"], cap_boxes):
                    figs[i]["box"] = union([figs[i]["box"], figs[j]["box"]])
                    figs[i]["graphics"] += figs[j]["graphics"]
                    figs[i]["labels"] += figs[j]["labels"]
                    del figs[j]
                    merged = True
                    break
            if merged:
                break

    def real(f):
        b = f["box"]
        if b[2] - b[0] < min_size or b[3] - b[1] < min_size:
            return False
        g = f["graphics"]
        if all(x.is_hrule or x.is_vrule for x in g) and len(g) <= 2:
            return False
        # rules drawn as many thin images (one per rule segment, as some producers draw a table's
        # rules): ruling, not a picture
        if all(x.kind == "image" and min(x.x1 - x.x0, x.bottom - x.top) <= 2.5 for x in g):
            return False
        return True
    figs = [f for f in figs if real(f)]

    # captions: nearest group above (else below) with horizontal overlap
    pairs = []
    fig_caps = [c for c in captions if c.kind == "figure"]
    for ci, c in enumerate(fig_caps):
        for fi, f in enumerate(figs):
            b = f["box"]
            ov = hoverlap(b, c.box)
            if ov < 0.3 * min(b[2] - b[0], c.box[2] - c.box[0]):
                continue
            if b[3] <= c.box[1] + 8 and b[1] < c.box[1] - 8:
                d = max(0.0, c.box[1] - b[3])       # (a clipped or white stroke may reach into the caption)
            elif b[1] >= c.box[3] - 2:
                d = (b[1] - c.box[3]) * 1.5 + 5      # captions below their figure are the rule
            elif b[0] - 2 <= c.box[0] and c.box[2] <= b[2] + 2 and b[1] < c.box[1] - 8 and c.box[3] <= b[3] + 2:
                d = 0.0                 # the caption inside the drawing's box: a background drawn behind both
            else:
                continue
            if d <= 60:
                pairs.append((d, ci, fi))
    pairs.sort()
    cap_of, used_c = {}, set()
    for d, ci, fi in pairs:
        if ci in used_c or fi in cap_of:
            continue
        cap_of[fi] = fig_caps[ci]
        used_c.add(ci)
        b, cb = figs[fi]["box"], fig_caps[ci].box
        if b[3] > cb[1] and b[1] < cb[1]:           # a figure ends where its caption starts
            figs[fi]["box"] = [b[0], b[1], b[2], cb[1] - 1.0]
    # uncaptioned fragments directly above / beside a captioned figure in its span merge into it
    # (until nothing changes: a row of panels joins once the row under it has)
    grown = True
    while grown:
        grown = False
        for f, c, g in _uncaptioned_beside(figs, cap_of):
            gb = g["box"]
            if hoverlap(gb, c.box) > 0.5 * (gb[2] - gb[0]) and gb[3] <= c.box[1] + 2 and \
                    gap(gb, f["box"]) <= 24 and not _blocked(gb, f["box"], cap_boxes):
                _absorb(f, g)
                grown = True
    # sub-figures side by side, each labelled "(a)", "(b)", ..., under one caption that spans only
    # some of them: an uncaptioned labelled panel level with a labelled captioned one joins it,
    # and unlabelled panels level with the captioned one over the same caption ("left", "middle",
    # "right" of one caption) join it too
    for f, c, g in _uncaptioned_beside(figs, cap_of):
        gb, fb = g["box"], f["box"]
        over_caption = gb[0] >= c.box[0] - 6 and gb[2] <= c.box[2] + 6
        if not (over_caption or (_sub_labelled(f) and _sub_labelled(g))):
            continue
        level = min(gb[3], fb[3]) - max(gb[1], fb[1]) >= 0.5 * min(gb[3] - gb[1], fb[3] - fb[1])
        if level and gb[3] <= c.box[1] + 2 and gap(gb, fb) <= 150 and not _blocked(gb, fb, cap_boxes):
            _absorb(f, g)
            f["labels"] += g["labels"]
    out = []
    for fi, f in enumerate(figs):
        if f.get("dead"):
            continue
        kinds = {g.kind == "image" for g in f["graphics"] if g.kind != "glyph"} or {False}
        src = "raster" if kinds == {True} else "vector" if kinds == {False} else "mixed"
        c = cap_of.get(fi)
        if c is None and all(g.kind in ("line", "rect", "glyph") for g in f["graphics"]):
            continue        # uncaptioned frames and rules: a code listing's box, an uncaptioned table;
            #               turned text alone: arXiv's stamp in the margin
        if c is None and (f["box"][3] <= 0.08 * page.height or f["box"][1] >= 0.92 * page.height):
            continue        # uncaptioned, in the top or bottom margin: a header's logo, a watermark, a footer
        out.append({"page": page.number, "box": [round(v, 2) for v in f["box"]],
                    "caption": c.text if c else None, "number": int(c.number) if c and c.number.isdigit() else None,
                    "source": src, "n_graphics": len(f["graphics"]), "n_labels": len(f["labels"])})
    return out


def extract_figures(pdf, out_dir=None, *, dpi: int = 150, layouts: list[PageLayout] | None = None,
                    table_boxes: dict[int, list[list[float]]] | None = None, crop: bool = True,
                    max_pages: int | None = None, max_bytes: int | None = None) -> list[dict]:
    """Figures of a paper (a path or an open :class:`Paper`); with `out_dir`,
    crops ``fig_<page>_<k>.png`` at `dpi` and writes ``figures.json``."""
    paper = pdf if isinstance(pdf, Paper) else open_paper(pdf, **limits(max_pages, max_bytes))
    layouts = layouts if layouts is not None else read_layout(paper)
    if table_boxes is None:
        table_boxes = {}
        for pg in layouts:
            caps = find_captions(pg)
            table_boxes[pg.number] = [pg.to_page(t["box"]) for t in page_tables(pg, caps)]
    # a page of another size than the paper's (a repository's cover sheet: ResearchGate, a
    # publisher's download page) holds logos and badges, not the paper's figures
    sizes = [(round(pg.page_width), round(pg.page_height)) for pg in layouts]
    usual = max(set(sizes), key=sizes.count) if sizes else None
    figs = []
    for pg in layouts:
        caps = find_captions(pg)
        if usual and len(layouts) > 2 and not caps and \
                (abs(pg.page_width - usual[0]) > 0.05 * usual[0] or abs(pg.page_height - usual[1]) > 0.05 * usual[1]):
            continue
        tboxes = table_boxes.get(pg.number, [])
        if pg.rotation:       # table boxes are physical; figures are found in the page's own frame
            tboxes = [turn(b, pg.rotation, pg.page_width, pg.page_height) for b in tboxes]
        # OCR pages: thin arrows may be read as letters and masked, so parts of a drawing lie further apart
        for k, f in enumerate(page_figures(pg, caps, tboxes, join=14.0 if pg.ocr else 6.0), start=1):
            if pg.rotation:
                f["box"] = [round(v, 2) for v in pg.to_page(f["box"])]
                f["rotation"] = pg.rotation
            if pg.graphics:          # the box the page shows (nothing clipped away, nothing invisible)
                seen = ink_box(paper, pg.number, f["box"], dpi)
                if seen != f["box"]:
                    f["layout_box"] = f["box"]      # the drawing's objects, for the vector reader
                    f["box"] = seen
            f["id"] = f"fig_p{pg.number}_{k}"
            f["dpi"] = dpi
            f["box_px"] = [round(v * dpi / 72.0, 1) for v in f["box"]]
            figs.append(f)
    if out_dir is not None:
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        if crop and figs:
            crop_boxes(paper, figs, out_dir, dpi)
        (out_dir / "figures.json").write_text(json.dumps({"pdf": str(paper.path), "figures": figs}, indent=1,
                                                         ensure_ascii=False), encoding="utf-8")
    return figs


__all__ = ["extract_figures", "page_figures", "FIG_CAPTION"]
