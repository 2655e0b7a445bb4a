"""Find the boxes of a box diagram: closed outlines (layers, Caffe blobs) and
the cells inside them.

Two kinds of regions make a node:

* an *interior*: a region of light pixels enclosed by dark ink (4-connected,
  so a one-pixel diagonal line still closes it), convex (solidity of its
  filled outline), holding at least a few dark glyphs.  Record boxes, table
  cells, blobs of any shape (octagon, ellipse, hexagon, box).
* a *dark panel*: a thick, rectangular, mostly dark region that holds light
  glyphs: the header of a Keras 3 table (white text on black).

Parts that touch through a thin all-dark strip (a cell wall, a table frame)
are one node.  Everything is measured relative to the line width and the
glyph height found in the image, so the resolution does not matter.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np
from ..core.dsu import DisjointSet


@dataclass
class Part:
    kind: str                       # interior | panel
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 (exclusive ends)
    mask: np.ndarray                # bool, box-sized: pixels of the part (filled)
    dark_text: bool                 # glyphs are darker than the part's fill


@dataclass
class Node:
    box: tuple[int, int, int, int]
    parts: list[Part] = field(default_factory=list)
    shape: str = "rect"             # rect | round (convex, not rectangular)
    outline: np.ndarray | None = None   # contour (N, 1, 2) of the node's filled outline, image coords
    outer: tuple[int, int, int, int] | None = None   # box including the outline


@dataclass
class Ink:
    """Binarised views of the image shared by the node, edge and text steps."""
    bgr: np.ndarray
    gray: np.ndarray
    dark: np.ndarray                # uint8 0/1: strokes, outlines, text, dark fills
    background: tuple[int, int, int]
    line_width: float
    glyph_height: float = 0.0       # median height of the glyphs in the boxes
    text_height: float = 0.0        # their 85th percentile: about the height of capitals and digits
    panel_glyphs: list = field(default_factory=list)


def background_color(bgr: np.ndarray) -> tuple[int, int, int]:
    """The most common colour of the image's outer frame."""
    h, w = bgr.shape[:2]
    t = max(1, min(h, w) // 50)
    frame = np.concatenate([bgr[:t].reshape(-1, 3), bgr[-t:].reshape(-1, 3),
                            bgr[:, :t].reshape(-1, 3), bgr[:, -t:].reshape(-1, 3)])
    q = (frame // 8).astype(np.int32)
    keys = q[:, 0] * 1024 + q[:, 1] * 32 + q[:, 2]
    vals, counts = np.unique(keys, return_counts=True)
    best = vals[np.argmax(counts)]
    sel = frame[keys == best]
    return tuple(int(v) for v in np.median(sel, axis=0))


def _value(bgr: np.ndarray) -> np.ndarray:
    b, g, r = cv2.split(bgr)
    return cv2.max(cv2.max(b, g), r)


def binarise(bgr: np.ndarray) -> Ink:
    """Dark ink: pixels much darker than the page (the value channel, max of
    R, G, B, so saturated fills such as red or orange stay light).  A page
    darker than its ink is inverted first."""
    bg = background_color(bgr)
    if max(bg) < 128:                   # light-on-dark drawing
        bgr = cv2.bitwise_not(bgr)
        bg = tuple(255 - c for c in bg)
    gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    value = _value(bgr)
    thr = min(180, max(bg) - 60)
    _, dark = cv2.threshold(value, thr - 1, 1, cv2.THRESH_BINARY_INV)
    lw = _line_width(dark)
    return Ink(bgr=bgr, gray=gray, dark=dark, background=bg, line_width=lw)


def _line_width(dark: np.ndarray) -> float:
    """Most common short run length of dark pixels across rows and columns."""
    hist = np.zeros(16, np.int64)
    for arr in (dark, dark.T):
        a = arr[::3].astype(np.int8)
        d = np.diff(np.pad(a, ((0, 0), (1, 1))), axis=1)
        starts = np.argwhere(d == 1)
        ends = np.argwhere(d == -1)
        if len(starts) == 0:
            continue
        runs = ends[:, 1] - starts[:, 1]
        runs = runs[(runs > 0) & (runs < 16)]
        hist += np.bincount(runs, minlength=16)[:16]
    if hist.sum() == 0:
        return 1.0
    return float(max(1, int(np.argmax(hist))))


def _filled(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """The mask with its holes filled and its outer contour."""
    cs, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not cs:
        return mask.astype(bool), None
    c = max(cs, key=cv2.contourArea)
    out = np.zeros(mask.shape, np.uint8)
    cv2.drawContours(out, [c], -1, 1, thickness=cv2.FILLED)
    return out.astype(bool) | mask.astype(bool), c


def find_parts(ink: Ink) -> list[Part]:
    dark = ink.dark
    h, w = dark.shape
    light = cv2.bitwise_xor(dark, 1)
    n, lab, stats, _ = cv2.connectedComponentsWithStats(light, connectivity=4)
    parts: list[Part] = []
    hole_used = np.zeros(n, bool)
    glyph_h: list[float] = []
    min_side = max(6, int(2.5 * ink.line_width))
    x, y, bw, bh, area = (stats[:, k] for k in range(5))
    cand = ((x > 0) & (y > 0) & (x + bw < w) & (y + bh < h) & (bw >= min_side) & (bh >= min_side) & (area >= 40))
    cand[0] = False
    for i in np.flatnonzero(cand):
        x, y, bw, bh, area = (int(v) for v in stats[i])
        sub = lab[y:y + bh, x:x + bw] == i
        filled, contour = _filled(sub)
        if contour is None:
            continue
        hull = cv2.convexHull(contour)
        harea = cv2.contourArea(hull)
        solidity = min(1.0, cv2.contourArea(contour) / harea) if harea > 1 else 0.0
        if solidity < 0.88:
            continue
        # glyphs: dark components wholly inside the filled region
        inside = (filled & ~sub).astype(np.uint8)
        if not inside.any():
            continue
        ng, _, g_all, _ = cv2.connectedComponentsWithStats(inside, connectivity=8)
        g = g_all[1:]
        if len(g) == 0:
            continue
        gh = float(np.median(g[:, 3]))
        if bh < 1.2 * gh:
            continue
        # a label is a centred, compact block of glyphs; a gap between edges
        # holds at most a few scattered edge labels
        tx0, ty0 = int(g[:, 0].min()), int(g[:, 1].min())
        tx1, ty1 = int((g[:, 0] + g[:, 2]).max()), int((g[:, 1] + g[:, 3]).max())
        if len(g) < 3 and tx1 - tx0 < 2 * (ty1 - ty0):
            continue                      # not a word: one or two blots
        if abs((tx0 + tx1) / 2 - bw / 2) > 0.2 * bw or abs((ty0 + ty1) / 2 - bh / 2) > 0.25 * bh:
            continue
        if (g[:, 2] * g[:, 3]).sum() < 0.1 * (tx1 - tx0) * (ty1 - ty0):
            continue
        glyph_h.extend(g[:, 3].tolist())
        hole_used[i] = True
        parts.append(Part("interior", (x, y, x + bw, y + bh), filled, True))
    ink.glyph_height = float(np.median(glyph_h)) if glyph_h else 0.0
    ink.text_height = float(np.percentile(glyph_h, 85)) if glyph_h else 0.0
    parts.extend(_find_panels(ink, lab, stats, hole_used))
    if not glyph_h and ink.panel_glyphs:
        ink.glyph_height = float(np.median(ink.panel_glyphs))
        ink.text_height = float(np.percentile(ink.panel_glyphs, 85))
    return parts


def _find_panels(ink: Ink, lab: np.ndarray, stats: np.ndarray, hole_used: np.ndarray) -> list[Part]:
    """Thick dark rectangles holding light glyphs (Keras 3 table headers).

    Candidates come from a coarse density map (8x8 cells mostly dark: lines
    are too thin to fill one); each is then checked at full resolution."""
    dark = ink.dark
    h, w = dark.shape
    f = 8
    small = cv2.resize(dark.astype(np.float32), (max(1, w // f), max(1, h // f)), interpolation=cv2.INTER_AREA)
    dense = (small >= 0.55).astype(np.uint8)
    nc, _, cstats, _ = cv2.connectedComponentsWithStats(dense, connectivity=8)
    out = []
    t = max(3.5, 2.0 * ink.line_width)
    for i in range(1, nc):
        cx, cy, cw, ch, _ = (int(v) for v in cstats[i])
        if cw < 3:
            continue
        pad = f * 2
        x0, y0 = max(0, cx * f - pad), max(0, cy * f - pad)
        x1, y1 = min(w, (cx + cw) * f + pad), min(h, (cy + ch) * f + pad)
        part = _panel_in(ink, lab, stats, hole_used, (x0, y0, x1, y1), t)
        out.extend(part)
    # one panel may be found from two overlapping windows
    uniq: list[Part] = []
    for p in out:
        if not any(p.box == q.box for q in uniq):
            uniq.append(p)
    return uniq


def _panel_in(ink: Ink, lab: np.ndarray, stats: np.ndarray, hole_used: np.ndarray,
              window: tuple[int, int, int, int], t: float) -> list[Part]:
    dark = ink.dark
    h, w = dark.shape
    X0, Y0, X1, Y1 = window
    d = dark[Y0:Y1, X0:X1]
    lab_w = lab[Y0:Y1, X0:X1]
    # fill the light glyphs: enclosed light components that are thin
    ids = np.unique(lab_w[d == 0])
    ids = ids[ids > 0]
    sx, sy, sw, sh = stats[ids, 0], stats[ids, 1], stats[ids, 2], stats[ids, 3]
    enclosed = (sx > 0) & (sy > 0) & (sx + sw < w) & (sy + sh < h) & ~hole_used[ids]
    light_dist = cv2.distanceTransform((lab_w > 0).astype(np.uint8), cv2.DIST_L2, 3)
    thick_ids = np.unique(lab_w[light_dist > max(3.5, 1.5 * ink.line_width)])
    fill_ids = ids[enclosed & ~np.isin(ids, thick_ids)]
    solid = d.astype(bool) | np.isin(lab_w, fill_ids)
    dist = cv2.distanceTransform(solid.astype(np.uint8), cv2.DIST_L2, 3)
    core = (dist >= t).astype(np.uint8)
    nc, clab, cstats, _ = cv2.connectedComponentsWithStats(core, connectivity=8)
    out = []
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (int(2 * t + 1), int(2 * t + 1)))
    for i in range(1, nc):
        cx, cy, cw, ch, carea = (int(v) for v in cstats[i])
        if cw < 3 * t:
            continue
        grown = cv2.dilate((clab == i).astype(np.uint8), k)
        region = grown.astype(bool) & solid
        if not region.any():
            continue
        # trim appendages (edges running into the panel): keep the rows and
        # columns that are at least half as full as the fullest one
        rx0, rx1 = _main_run(region.sum(axis=0))
        ry0, ry1 = _main_run(region.sum(axis=1))
        rw, rh = rx1 - rx0, ry1 - ry0
        if rw <= 0 or rh <= 0 or rw < rh:
            continue
        if region[ry0:ry1, rx0:rx1].mean() < 0.8:
            continue
        sub_dark = d[ry0:ry1, rx0:rx1]
        if sub_dark.mean() < 0.45:
            continue
        # light glyphs inside
        sub_light = (1 - sub_dark).astype(np.uint8)
        ng, _, gstats, _ = cv2.connectedComponentsWithStats(sub_light, connectivity=8)
        glyphs = [j for j in range(1, ng) if gstats[j, 0] > 0 and gstats[j, 1] > 0
                  and gstats[j, 0] + gstats[j, 2] < rw and gstats[j, 1] + gstats[j, 3] < rh]
        if len(glyphs) < 3:
            continue
        ink.panel_glyphs.extend(int(gstats[j, 3]) for j in glyphs)
        mask = region[ry0:ry1, rx0:rx1]
        out.append(Part("panel", (X0 + rx0, Y0 + ry0, X0 + rx1, Y0 + ry1), mask, False))
    return out


def _main_run(counts: np.ndarray) -> tuple[int, int]:
    """The longest run of entries at least half the maximum: (start, end)."""
    keep = counts >= 0.5 * counts.max()
    best, start = (0, 0), None
    for i, k in enumerate(np.append(keep, False)):
        if k and start is None:
            start = i
        elif not k and start is not None:
            if i - start > best[1] - best[0]:
                best = (start, i)
            start = None
    return best


def _gap_is_ink(dark: np.ndarray, a: Part, b: Part, max_gap: int) -> bool:
    """True when a and b face each other across a thin strip of dark pixels."""
    ax0, ay0, ax1, ay1 = a.box
    bx0, by0, bx1, by1 = b.box
    if min(ax1, bx1) - max(ax0, bx0) > 0 and min(ay1, by1) - max(ay0, by0) > 0:
        return True                   # overlapping (a panel grown over its cell walls)
    # horizontal neighbours (side by side)
    ox0, ox1 = max(ax0, bx0), min(ax1, bx1)
    oy0, oy1 = max(ay0, by0), min(ay1, by1)
    if oy1 - oy0 > 0.5 * min(ay1 - ay0, by1 - by0):
        gap0, gap1 = (ax1, bx0) if ax1 <= bx0 + 1 else (bx1, ax0)
        if -2 <= gap1 - gap0 <= max_gap:
            g0, g1 = min(gap0, gap1), max(gap0, gap1)
            strip = dark[oy0:oy1, max(0, g0 - 1):g1 + 1]
            if strip.size and _strip_closed(strip, axis=1):
                return True
    if ox1 - ox0 > 0.5 * min(ax1 - ax0, bx1 - bx0):
        gap0, gap1 = (ay1, by0) if ay1 <= by0 + 1 else (by1, ay0)
        if -2 <= gap1 - gap0 <= max_gap:
            g0, g1 = min(gap0, gap1), max(gap0, gap1)
            strip = dark[max(0, g0 - 1):g1 + 1, ox0:ox1]
            if strip.size and _strip_closed(strip, axis=0):
                return True
    return False


def _strip_closed(strip: np.ndarray, axis: int) -> bool:
    """Every line across the strip (along `axis`) meets no light run that crosses it:
    the strip between two parts is a wall, not a gap with background."""
    # a light pixel column crossing the whole strip means background between the parts
    light_across = (strip == 0).all(axis=axis)
    return light_across.mean() < 0.05


def group_parts(ink: Ink, parts: list[Part]) -> list[Node]:
    n = len(parts)
    joined = DisjointSet(n)
    max_gap = int(round(3 * ink.line_width + 4))
    boxes = np.array([p.box for p in parts]) if parts else np.zeros((0, 4))
    for i in range(n):
        for j in range(i + 1, n):
            a, b = boxes[i], boxes[j]
            if a[0] > b[2] + max_gap or b[0] > a[2] + max_gap or a[1] > b[3] + max_gap or b[1] > a[3] + max_gap:
                continue
            if _contains(a, b) or _contains(b, a):
                continue
            if _gap_is_ink(ink.dark, parts[i], parts[j], max_gap):
                joined.merge(i, j)
    nodes = []
    for group in joined.groups():
        members = [parts[i] for i in group]
        x0 = min(p.box[0] for p in members)
        y0 = min(p.box[1] for p in members)
        x1 = max(p.box[2] for p in members)
        y1 = max(p.box[3] for p in members)
        node = Node((x0, y0, x1, y1), members)
        if len(members) == 1:
            m = members[0]
            ratio = m.mask.sum() / float(m.mask.size)
            node.shape = "rect" if ratio > 0.93 else "round"
            cs, _ = cv2.findContours(m.mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
            if cs:
                node.outline = max(cs, key=cv2.contourArea) + np.array([[m.box[0], m.box[1]]])
        nodes.append(node)
    # drop parts nested in another node (a box drawn inside a box: keep the outer)
    nodes = [a for a in nodes if not any(b is not a and _contains(b.box, a.box, slack=0) for b in nodes)]
    return nodes


def _contains(a, b, slack: int = 0) -> bool:
    return a[0] - slack <= b[0] and a[1] - slack <= b[1] and a[2] + slack >= b[2] and a[3] + slack >= b[3] and tuple(a) != tuple(b)


def find_nodes(ink: Ink) -> list[Node]:
    parts = find_parts(ink)
    return group_parts(ink, parts)
