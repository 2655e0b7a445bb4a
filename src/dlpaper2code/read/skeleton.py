"""Thinning of binary masks (Zhang-Suen, table driven) and the branch graph
of a one-pixel skeleton."""
from __future__ import annotations

import functools
from dataclasses import dataclass, field

import cv2
import numpy as np

# neighbour order P2..P9: N, NE, E, SE, S, SW, W, NW (dy, dx)
_OFFSETS = [(-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1)]


@functools.lru_cache(maxsize=None)
def _tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    first = np.zeros(256, np.uint8)
    second = np.zeros(256, np.uint8)
    for code in range(256):
        p = [(code >> i) & 1 for i in range(8)]
        b = sum(p)
        a = sum(1 for i in range(8) if p[i] == 0 and p[(i + 1) % 8] == 1)
        p2, p3, p4, p5, p6, p7, p8, p9 = p
        if 2 <= b <= 6 and a == 1:
            if p2 * p4 * p6 == 0 and p4 * p6 * p8 == 0:
                first[code] = 1
            if p2 * p4 * p8 == 0 and p2 * p6 * p8 == 0:
                second[code] = 1
    kernel = np.zeros((3, 3), np.float32)
    for i, (dy, dx) in enumerate(_OFFSETS):
        kernel[dy + 1, dx + 1] = float(1 << i)
    return first, second, kernel


def _codes(img: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    return cv2.filter2D(img.astype(np.float32), -1, kernel, borderType=cv2.BORDER_CONSTANT).astype(np.int32)


def thin(mask: np.ndarray, max_iter: int = 100) -> np.ndarray:
    """One-pixel-wide skeleton of a binary mask (bool in, bool out)."""
    first, second, kernel = _tables()
    img = np.pad(mask.astype(np.uint8), 1)
    for _ in range(max_iter):
        changed = False
        for table in (first, second):
            codes = _codes(img, kernel)
            remove = (img == 1) & (table[codes & 255] == 1)
            if remove.any():
                img[remove] = 0
                changed = True
        if not changed:
            break
    # staircase pixels: an elbow pixel whose two 4-neighbours already touch
    # diagonally is redundant for 8-connectivity
    for a, b, c1, c2, c3 in ((0, 2, 4, 5, 6), (2, 4, 6, 7, 0), (4, 6, 0, 1, 2), (6, 0, 2, 3, 4)):
        codes = _codes(img, kernel) & 255
        bit = lambda i: (codes >> i) & 1  # noqa: E731
        elbow = (img == 1) & (bit(a) == 1) & (bit(b) == 1) & (bit(c1) == 0) & (bit(c2) == 0) & (bit(c3) == 0)
        img[elbow] = 0
    return img[1:-1, 1:-1].astype(bool)


def neighbour_count(skel: np.ndarray) -> np.ndarray:
    k = np.ones((3, 3), np.float32)
    k[1, 1] = 0
    return cv2.filter2D(skel.astype(np.float32), -1, k, borderType=cv2.BORDER_CONSTANT).astype(np.int32) * skel


@dataclass
class Branch:
    a: int                      # vertex ids at both ends
    b: int
    pixels: list[tuple[int, int]]   # (y, x) from a to b, vertices excluded

    @property
    def length(self) -> int:
        return len(self.pixels) + 1


@dataclass
class SkeletonGraph:
    vertices: list[tuple[float, float]] = field(default_factory=list)   # (y, x) centre
    kinds: list[str] = field(default_factory=list)                      # end | junction
    vpixels: list[list[tuple[int, int]]] = field(default_factory=list)
    branches: list[Branch] = field(default_factory=list)



def skeleton_graph(skel: np.ndarray, merge_radius: float = 2.0) -> SkeletonGraph:
    """Vertices: skeleton ends and junction clusters (junction pixels within
    `merge_radius` of each other are one vertex); branches: the pixel chains
    between vertices.  A closed loop with no vertex becomes one vertex."""
    nb = neighbour_count(skel)
    ys, xs = np.nonzero(skel)
    g = SkeletonGraph()
    if len(ys) == 0:
        return g
    special = (nb != 2) & skel
    # cluster junction/end pixels
    sp = np.argwhere(special)
    vid = -np.ones(skel.shape, np.int32)
    if len(sp):
        lab_img = np.zeros(skel.shape, np.uint8)
        lab_img[special] = 1
        r = max(1, int(round(merge_radius)))
        grown = cv2.dilate(lab_img, np.ones((2 * r + 1, 2 * r + 1), np.uint8)) if r > 1 else cv2.dilate(lab_img, np.ones((3, 3), np.uint8))
        grown &= np.uint8(1)
        # clusters only through junction pixels: a cluster is a component of
        # the dilated junction set restricted back to junction pixels
        n, lab = cv2.connectedComponents(grown, connectivity=8)
        clusters: dict[int, list[tuple[int, int]]] = {}
        for (y, x) in sp:
            clusters.setdefault(int(lab[y, x]), []).append((int(y), int(x)))
        for pix in clusters.values():
            k = len(g.vertices)
            arr = np.array(pix)
            g.vertices.append((float(arr[:, 0].mean()), float(arr[:, 1].mean())))
            ends = all(nb[y, x] <= 1 for y, x in pix)
            g.kinds.append("end" if ends else "junction")
            g.vpixels.append(pix)
            for y, x in pix:
                vid[y, x] = k
    h, w = skel.shape
    visited = np.zeros(skel.shape, bool)

    def neighbours(y, x):
        for dy, dx in _OFFSETS:
            yy, xx = y + dy, x + dx
            if 0 <= yy < h and 0 <= xx < w and skel[yy, xx]:
                yield yy, xx

    # walk from every vertex pixel into each chain
    for v, pix in enumerate(g.vpixels):
        for (y, x) in pix:
            for (yy, xx) in neighbours(y, x):
                if vid[yy, xx] >= 0 or visited[yy, xx]:
                    continue
                chain = []
                prev, cur = (y, x), (yy, xx)
                end_v = -1
                while True:
                    visited[cur] = True
                    chain.append(cur)
                    nxt = None
                    for q in neighbours(*cur):
                        if q == prev or (len(chain) > 1 and q == chain[-2]):
                            continue
                        if vid[q] >= 0:
                            if vid[q] != v or len(chain) > 2:
                                end_v = int(vid[q])
                                nxt = None
                                break
                            continue
                        if not visited[q]:
                            nxt = q
                            break
                    if end_v >= 0 or nxt is None:
                        break
                    prev, cur = cur, nxt
                if end_v < 0:
                    # dead end inside a chain (should not happen) or a loop back: make an end vertex
                    k = len(g.vertices)
                    g.vertices.append((float(cur[0]), float(cur[1])))
                    g.kinds.append("end")
                    g.vpixels.append([cur])
                    chain = chain[:-1]
                    vid[cur] = k
                    end_v = k
                g.branches.append(Branch(v, end_v, chain))
    # loops without any vertex
    rest = skel & ~visited & (vid < 0)
    if rest.any():
        n, lab = cv2.connectedComponents(rest.astype(np.uint8), connectivity=8)
        for i in range(1, n):
            pts = np.argwhere(lab == i)
            k = len(g.vertices)
            g.vertices.append((float(pts[0][0]), float(pts[0][1])))
            g.kinds.append("junction")
            g.vpixels.append([tuple(pts[0])])
            g.branches.append(Branch(k, k, [tuple(p) for p in pts[1:]]))
    return g
