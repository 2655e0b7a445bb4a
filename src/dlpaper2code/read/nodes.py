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
    glyph_height: float = 0.0


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


def binarise(bgr: np.ndarray) -> Ink:
    """Dark ink: pixels much darker than the background (the value channel,
    so saturated fills such as red or orange stay light), plus an adaptive
    Gaussian threshold for faint strokes on light fills."""
    gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    value = bgr.max(axis=2)
    bg = background_color(bgr)
    bg_v = max(bg)
    if bg_v < 128:                   # light-on-dark drawing: invert
        bgr = 255 - bgr
        gray = 255 - gray
        value = bgr.max(axis=2)
        bg = tuple(255 - c for c in bg)
        bg_v = max(bg)
    thr = min(180, bg_v - 60)
    dark = (value < thr).astype(np.uint8)
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
    light = (1 - dark).astype(np.uint8)
    n, lab, stats, _ = cv2.connectedComponentsWithStats(light, connectivity=4)
    # glyph candidates: small dark components
    nd, dlab, dstats, _ = cv2.connectedComponentsWithStats(dark, connectivity=8)
    parts: list[Part] = []
    hole_used = np.zeros(n, bool)
    glyph_h = []
    min_side = max(6, int(2.5 * ink.line_width))
    for i in range(1, n):
        x, y, bw, bh, area = stats[i]
        if x == 0 or y == 0 or x + bw == w or y + bh == h:
            continue                      # the page background
        if bw < min_side or bh < min_side or area < 40:
            continue
        sub = lab[y:y + bh, x:x + bw] == i
        filled, contour = _filled(sub)
        if contour is None:
            continue
        farea = float(filled.sum())
        hull = cv2.convexHull(contour)
        harea = max(1.0, cv2.contourArea(hull))
        solidity = min(1.0, cv2.contourArea(contour) / harea) if harea > 1 else 0.0
        if solidity < 0.88:
            continue
        # glyphs inside: dark components wholly inside the filled region
        inside = filled & ~sub
        if inside.sum() == 0:
            continue
        ids = np.unique(dlab[y:y + bh, x:x + bw][inside])
        ids = ids[ids > 0]
        glyphs = [g for g in ids if dstats[g, 0] >= x and dstats[g, 1] >= y
                  and dstats[g, 0] + dstats[g, 2] <= x + bw and dstats[g, 1] + dstats[g, 3] <= y + bh]
        if not glyphs:
            continue
        g = dstats[glyphs]
        gh = np.median(g[:, 3])
        if bh < 1.2 * gh:
            continue
        # a label is a centred, compact block of glyphs; a gap between edges
        # holds at most a few scattered edge labels
        tx0, ty0 = g[:, 0].min(), g[:, 1].min()
        tx1, ty1 = (g[:, 0] + g[:, 2]).max(), (g[:, 1] + g[:, 3]).max()
        if len(glyphs) < 3 and tx1 - tx0 < 2 * (ty1 - ty0):
            continue                      # not a word: one or two blots
        if abs((tx0 + tx1) / 2 - (x + bw / 2)) > 0.2 * bw or abs((ty0 + ty1) / 2 - (y + bh / 2)) > 0.25 * bh:
            continue
        if (g[:, 2] * g[:, 3]).sum() < 0.1 * (tx1 - tx0) * (ty1 - ty0):
            continue
        glyph_h.extend(dstats[g, 3] for g in glyphs)
        hole_used[i] = True
        parts.append(Part("interior", (int(x), int(y), int(x + bw), int(y + bh)), filled, True))
    ink.glyph_height = float(np.median(glyph_h)) if glyph_h else 0.0
    parts.extend(_find_panels(ink, lab, stats, hole_used))
    return parts


def _find_panels(ink: Ink, lab: np.ndarray, stats: np.ndarray, hole_used: np.ndarray) -> list[Part]:
    """Thick dark rectangles holding light glyphs (Keras 3 table headers)."""
    dark = ink.dark
    h, w = dark.shape
    n = len(stats)
    # fill the enclosed light regions that are not interiors (glyphs of light text)
    x, y, bw, bh, area = stats.T
    enclosed = (x > 0) & (y > 0) & (x + bw < w) & (y + bh < h)
    # thin light regions only (glyph strokes): a region with a pixel far from
    # any dark pixel is a gap between boxes and edges, not a glyph
    light_dist = cv2.distanceTransform((lab > 0).astype(np.uint8), cv2.DIST_L2, 3)
    thick = np.zeros(n, bool)
    thick[np.unique(lab[light_dist > max(3.5, 1.5 * ink.line_width)])] = True
    small = enclosed & ~hole_used & ~thick
    small[0] = False
    solid = dark.astype(bool) | small[lab]
    dist = cv2.distanceTransform(solid.astype(np.uint8), cv2.DIST_L2, 3)
    t = max(3.5, 2.0 * ink.line_width)
    core = (dist >= t).astype(np.uint8)
    nc, clab, cstats, _ = cv2.connectedComponentsWithStats(core, connectivity=8)
    out = []
    for i in range(1, nc):
        cx, cy, cw, ch, carea = cstats[i]
        if cw < 3 * t or ch < 1:
            continue
        # grow back to the solid region
        x0, y0 = max(0, int(cx - t - 2)), max(0, int(cy - t - 2))
        x1, y1 = min(w, int(cx + cw + t + 2)), min(h, int(cy + ch + t + 2))
        grown = cv2.dilate((clab[y0:y1, x0:x1] == i).astype(np.uint8),
                           cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (int(2 * t + 1), int(2 * t + 1))))
        region = grown.astype(bool) & solid[y0:y1, x0:x1]
        ys, xs = np.nonzero(region)
        if len(xs) == 0:
            continue
        # trim appendages (edges running into the panel): keep the rows and
        # columns that are at least half as full as the fullest one
        rx0, rx1 = _main_run(region.sum(axis=0))
        ry0, ry1 = _main_run(region.sum(axis=1))
        rw, rh = rx1 - rx0, ry1 - ry0
        if rw <= 0 or rh <= 0:
            continue
        rect_fill = region[ry0:ry1, rx0:rx1].mean()
        if rect_fill < 0.8 or rw < 2 * rh * 0.5:
            continue
        sub_dark = dark[y0 + ry0:y0 + ry1, x0 + rx0:x0 + rx1]
        density = sub_dark.mean()
        if density < 0.45:
            continue
        # light glyphs inside
        sub_light = (1 - sub_dark).astype(np.uint8)
        ng, _, gstats, _ = cv2.connectedComponentsWithStats(sub_light, connectivity=8)
        glyphs = [j for j in range(1, ng) if gstats[j, 0] > 0 and gstats[j, 1] > 0
                  and gstats[j, 0] + gstats[j, 2] < rw and gstats[j, 1] + gstats[j, 3] < rh]
        if len(glyphs) < 3:
            continue
        mask = region[ry0:ry1, rx0:rx1]
        out.append(Part("panel", (int(x0 + rx0), int(y0 + ry0), int(x0 + rx1), int(y0 + ry1)), mask, False))
    return out


def _main_run(counts: np.ndarray) -> tuple[int, int]:
    """The longest run of entries at least half the maximum: (start, end)."""
    keep = counts >= 0.5 * counts.max()
    best, start, cur = (0, 0), None, 0
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
    parent = list(range(n))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

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
                parent[find(i)] = find(j)
    groups: dict[int, list[Part]] = {}
    for i in range(n):
        groups.setdefault(find(i), []).append(parts[i])
    nodes = []
    for members in groups.values():
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
