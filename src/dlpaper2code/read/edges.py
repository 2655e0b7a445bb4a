"""Arrows between the boxes: the dark ink left once the boxes are masked out.

Each connected piece of that ink touches some boxes.  A piece that touches
two boxes is one arrow.  A piece that touches more (crossing arrows, arrows
Graphviz merged with `concentrate`, arrows leaving one port) is thinned to
a skeleton whose branches are followed through their junctions, preferring
the straightest way on; every box end is explained by its best path.

Direction: in a layered drawing every arrow runs from an earlier rank to a
later one, so once the flow (down, up, right) is known the upstream end is
the tail.  The flow is voted by the arrowheads: at each end of a two-box
piece, the one with more ink close to the box holds the arrowhead.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

from .nodes import Ink, Node
from .skeleton import SkeletonGraph, skeleton_graph, thin

FLOWS = {"TB": (0.0, 1.0), "BT": (0.0, -1.0), "LR": (1.0, 0.0), "RL": (-1.0, 0.0)}


@dataclass
class Terminal:
    node: int
    point: tuple[float, float]        # (x, y) where the ink meets the box
    mass: float = 0.0                 # ink near the box (arrowhead evidence)
    head: bool | None = None


@dataclass
class Piece:
    terminals: list[Terminal]
    box: tuple[int, int, int, int]
    label: int
    pixels: int = 0


@dataclass
class Arrow:
    source: int
    target: int
    points: list[tuple[float, float]] = field(default_factory=list)
    confidence: float = 1.0
    piece: int = 0                    # label of the ink piece it was read from


# ------------------------------------------------------------------ regions
def node_regions(ink: Ink, nodes: list[Node]) -> np.ndarray:
    """Label image: node index inside each box (outline included), -1 elsewhere."""
    dark = ink.dark
    h, w = dark.shape
    nid = np.full((h, w), -1, np.int32)
    lim = int(3 * ink.line_width + 4)
    k3 = np.ones((3, 3), np.uint8)
    for k, n in enumerate(nodes):
        x0, y0, x1, y1 = n.box
        if n.shape == "rect":
            # grow each side through the outline: while the next line is mostly dark
            for _ in range(lim):
                if y0 > 0 and dark[y0 - 1, x0:x1].mean() >= 0.5:
                    y0 -= 1
                else:
                    break
            for _ in range(lim):
                if y1 < h and dark[y1, x0:x1].mean() >= 0.5:
                    y1 += 1
                else:
                    break
            for _ in range(lim):
                if x0 > 0 and dark[y0:y1, x0 - 1].mean() >= 0.5:
                    x0 -= 1
                else:
                    break
            for _ in range(lim):
                if x1 < w and dark[y0:y1, x1].mean() >= 0.5:
                    x1 += 1
                else:
                    break
            sub = nid[y0:y1, x0:x1]
            sub[sub < 0] = k
            n.outer = (x0, y0, x1, y1)
            continue
        p = n.parts[0]
        X0, Y0, X1, Y1 = max(0, x0 - lim), max(0, y0 - lim), min(w, x1 + lim), min(h, y1 + lim)
        cur = np.zeros((Y1 - Y0, X1 - X0), np.uint8)
        px0, py0, px1, py1 = p.box
        cur[py0 - Y0:py1 - Y0, px0 - X0:px1 - X0] = p.mask
        d = dark[Y0:Y1, X0:X1].astype(bool)
        for _ in range(lim):
            grown = cv2.dilate(cur, k3)
            ring = (grown > 0) & (cur == 0)
            if not ring.any() or d[ring].mean() < 0.5:
                break
            cur = grown
        # the outline of a slanted side is uneven: one more pixel, and the
        # whole convex shape (blobs are octagons, ellipses, hexagons)
        cur = cv2.dilate(cur, k3)
        cs, _ = cv2.findContours(cur, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        if cs:
            hull = cv2.convexHull(np.concatenate(cs))
            cv2.fillConvexPoly(cur, hull, 1)
        cur &= ((d > 0) | (cur > 0)).astype(np.uint8)
        sub = nid[Y0:Y1, X0:X1]
        sub[(cur > 0) & (sub < 0)] = k
        ys, xs = np.nonzero(cur)
        n.outer = (int(X0 + xs.min()), int(Y0 + ys.min()), int(X0 + xs.max() + 1), int(Y0 + ys.max() + 1))
    return nid


# ------------------------------------------------------------------ pieces
def find_pieces(ink: Ink, nodes: list[Node], nid: np.ndarray) -> tuple[list[Piece], np.ndarray, np.ndarray]:
    dark = ink.dark.astype(bool)
    free = dark & (nid < 0)
    # bridge one-pixel breaks of a drawn line: a pixel the 3x3 closing adds
    # is kept only where it joins two separate pieces of ink (a break), not
    # where it merely fills the gap between two touching lines
    closing = (cv2.morphologyEx(free.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8)) > 0)
    added = closing & ~free & (nid < 0)
    if added.any():
        nf, flab = cv2.connectedComponents(free.astype(np.uint8), connectivity=8)
        na, alab = cv2.connectedComponents(added.astype(np.uint8), connectivity=8)
        near_a = cv2.dilate(alab.astype(np.float32), np.ones((3, 3), np.uint8)).astype(np.int64)
        sel = (flab > 0) & (near_a > 0)
        pairs = np.unique(near_a[sel] * (nf + 1) + flab[sel])
        groups, counts = np.unique(pairs // (nf + 1), return_counts=True)
        bridge = np.zeros(na, bool)
        bridge[groups[counts >= 2]] = True
        added &= bridge[alab]
    closed = free | added
    n, lab, stats, _ = cv2.connectedComponentsWithStats(closed.astype(np.uint8), connectivity=8)
    lab[~closed] = 0
    # which pieces touch which boxes: pixels next to a box
    near = cv2.dilate((nid + 1).astype(np.float32), np.ones((5, 5), np.uint8)).astype(np.int32) - 1
    sel = (lab > 0) & (near >= 0)
    ys, xs = np.nonzero(sel)
    pieces: list[Piece] = []
    if len(ys) == 0:
        return pieces, lab, near
    keys = lab[ys, xs].astype(np.int64) * 100000 + near[ys, xs]
    order = np.argsort(keys, kind="stable")
    keys, ys, xs = keys[order], ys[order], xs[order]
    bounds = np.flatnonzero(np.diff(keys)) + 1
    groups: dict[int, list[tuple[int, np.ndarray, np.ndarray]]] = {}
    for a, b in zip(np.r_[0, bounds], np.r_[bounds, len(keys)]):
        comp, node = int(keys[a] // 100000), int(keys[a] % 100000)
        groups.setdefault(comp, []).append((node, ys[a:b], xs[a:b]))
    reach = max(6.0, 4.0 * ink.line_width)
    for comp, items in groups.items():
        x, y, w, h, area = stats[comp]
        terms = []
        for node, ty, tx in items:
            # one terminal per separate contact cluster on this box
            for cy, cx in _clusters(ty, tx, reach):
                terms.append(Terminal(node, (cx, cy)))
        pieces.append(Piece(terms, (int(x), int(y), int(x + w), int(y + h)), comp, int(area)))
    return pieces, lab, near


def _clusters(ys: np.ndarray, xs: np.ndarray, reach: float) -> list[tuple[float, float]]:
    """Centres of groups of contact pixels (pixels within `reach` of each other)."""
    pts = np.stack([ys, xs], axis=1).astype(np.float32)
    if len(pts) <= 1 or (np.ptp(pts[:, 0]) <= reach and np.ptp(pts[:, 1]) <= reach):
        return [(float(pts[:, 0].mean()), float(pts[:, 1].mean()))]
    out: list[list[int]] = []
    assigned = -np.ones(len(pts), int)
    for i in range(len(pts)):
        if assigned[i] >= 0:
            continue
        stack = [i]
        assigned[i] = len(out)
        members = []
        while stack:
            j = stack.pop()
            members.append(j)
            d = np.abs(pts - pts[j]).max(axis=1)
            for k in np.flatnonzero((d <= reach) & (assigned < 0)):
                assigned[k] = assigned[i]
                stack.append(k)
        out.append(members)
    return [(float(pts[m, 0].mean()), float(pts[m, 1].mean())) for m in out]


def _mass(lab: np.ndarray, comp: int, point: tuple[float, float], radius: float) -> float:
    y, x = point
    r = int(math.ceil(radius))
    y0, y1 = max(0, int(y) - r), min(lab.shape[0], int(y) + r + 1)
    x0, x1 = max(0, int(x) - r), min(lab.shape[1], int(x) + r + 1)
    sub = lab[y0:y1, x0:x1] == comp
    yy, xx = np.mgrid[y0:y1, x0:x1]
    return float((sub & ((yy - y) ** 2 + (xx - x) ** 2 <= radius * radius)).sum())


# ------------------------------------------------------------------ flow
def centre(node: Node) -> tuple[float, float]:
    x0, y0, x1, y1 = node.box
    return (x0 + x1) / 2.0, (y0 + y1) / 2.0


def vote_flow(nodes: list[Node], pairs: list[tuple[int, int, float]]) -> tuple[str, float]:
    """Flow direction from (tail, head, weight) guesses: the direction most
    displacement from tail box to head box goes."""
    score = {k: 0.0 for k in FLOWS}
    for t, hd, wgt in pairs:
        (tx, ty), (hx, hy) = centre(nodes[t]), centre(nodes[hd])
        dx, dy = hx - tx, hy - ty
        norm = math.hypot(dx, dy) or 1.0
        for k, (fx, fy) in FLOWS.items():
            score[k] += wgt * max(0.0, (dx * fx + dy * fy) / norm)
    best = max(score, key=score.get)
    total = sum(score.values()) or 1.0
    return best, score[best] / total


def rank_pos(node: Node, flow: str) -> float:
    fx, fy = FLOWS[flow]
    cx, cy = centre(node)
    return cx * fx + cy * fy


# ------------------------------------------------------------------ complex pieces
def _direction(pixels: list[tuple[int, int]], origin: tuple[float, float], span: int) -> tuple[float, float]:
    """Unit vector (dy, dx) of the branch's run from about `span` to `3 span`
    steps along (clear of the junction's blot), or from the origin when short."""
    if not pixels:
        return (0.0, 0.0)
    n = len(pixels)
    if n >= 2 * span:
        a, b = pixels[span - 1], pixels[min(3 * span, n) - 1]
        dy, dx = b[0] - a[0], b[1] - a[1]
    else:
        p = pixels[min(span, n) - 1]
        dy, dx = p[0] - origin[0], p[1] - origin[1]
    n = math.hypot(dy, dx) or 1.0
    return (dy / n, dx / n)


def decode_complex(piece: Piece, lab: np.ndarray, nodes: list[Node], nid: np.ndarray, ink: Ink,
                   flow: str, debug: list | None = None,
                   arrow_mass: tuple[float, float, float] | None = None,
                   alternatives: list | None = None) -> list[tuple[int, int, float]]:
    """Node pairs (upstream, downstream, cost) joined inside a piece that touches 3+ boxes.

    The piece is thinned to a skeleton; every place where it meets a box
    becomes a terminal, and barbs are pruned; the cheapest way through the
    junctions is found between every two terminals; each terminal gets a
    role (head, tail or open) from the box face it meets and, on a side face,
    from its arrowhead ink; the paths that can run downstream from a tail to
    a head are the candidates, and the cheapest set of them that explains all
    the ink is chosen.  Candidates left out go to `alternatives`; `debug`
    receives the terminals, path costs and branches.
    """
    tangle = _Tangle.trace(piece, lab, ink)
    if tangle is None:
        return []
    tangle.attach_box_contacts(piece.terminals)
    tangle.attach_line_ends(nid)
    tangle.prune_spurs()
    tangle.link_branches()
    paths = tangle.best_paths()
    roles = tangle.face_roles(piece, nodes, flow)
    if arrow_mass is not None:
        tangle.weigh_arrowheads(roles, lab, piece.label, arrow_mass)
    if debug is not None:
        debug.append(tangle.debug_record(roles, paths))
    cands = _candidates(paths, tangle.term_node, roles, nodes, flow)
    chosen = _set_cover(cands)
    if alternatives is not None:
        alternatives.extend((u, v, c) for (u, v), (c, _) in cands.items() if (u, v) not in chosen)
    return [(u, v, cands[(u, v)][0]) for (u, v) in chosen]


# The path search drops a path once its cost passes _COST_CAP, and stops
# searching from one terminal after _MAX_STEPS steps.
_COST_CAP = 400
_MAX_STEPS = 20000

# best path from terminal to terminal (skeleton vertices): (cost, branch indices)
_Paths = dict[tuple[int, int], tuple[float, tuple[int, ...]]]


class _Tangle:
    """The skeleton of one tangled piece of ink, in the crop around the piece.

    Holds what the steps of :func:`decode_complex` share: the skeleton graph
    (vertices as (y, x) in crop coordinates), each vertex's degree (lowered
    as spurs are pruned), the terminals (vertex -> the box it meets and the
    (y, x) of the contact), which branches survive pruning and, from them,
    the adjacency the path search walks.
    """

    def __init__(self, g: SkeletonGraph, window: tuple[int, int, int, int], line_width: float):
        self.g = g
        self.X0, self.Y0, self.X1, self.Y1 = window
        self.line_width = line_width
        self.degree = [0] * len(g.vertices)
        for br in g.branches:
            self.degree[br.a] += 1
            self.degree[br.b] += 1
        self.is_end = np.array([d == 1 for d in self.degree])     # line ends of the skeleton as traced
        self.term_node: dict[int, int] = {}
        self.term_point: dict[int, tuple[float, float]] = {}     # (y, x) of the contact, crop coordinates
        self.alive = [True] * len(g.branches)
        self.adj: dict[int, list[tuple[int, int, bool]]] = {}   # vertex -> (branch, other end, forward)
        # scales of the search, in multiples of the line width
        self.spur = max(6.0, 4.0 * line_width)          # longest barb pruned
        self.span = int(max(6, 5 * line_width))         # run measured for a branch's direction
        self.short_len = max(10.0, 8.0 * line_width)    # shorter branches join junctions into a cluster
        self.jog_free = 2.0 * line_width + 1.0          # sideways jog across a cluster that costs nothing

    # -------------------------------------------------------------- skeleton
    @classmethod
    def trace(cls, piece: Piece, lab: np.ndarray, ink: Ink) -> _Tangle | None:
        """Crop the piece (with a small margin), fill its small holes and thin
        it to a skeleton graph; None when nothing is left."""
        x0, y0, x1, y1 = piece.box
        pad = 2
        X0, Y0 = max(0, x0 - pad), max(0, y0 - pad)
        X1, Y1 = min(lab.shape[1], x1 + pad), min(lab.shape[0], y1 + pad)
        mask = (lab[Y0:Y1, X0:X1] == piece.label).astype(np.uint8)
        _fill_small_holes(mask, max(30.0, 40.0 * ink.line_width ** 2))
        skel = thin(mask.astype(bool))
        g = skeleton_graph(skel, merge_radius=max(2.0, 1.5 * ink.line_width))
        if not g.vertices:
            return None
        return cls(g, (X0, Y0, X1, Y1), ink.line_width)

    # -------------------------------------------------------------- terminals
    def attach_box_contacts(self, terminals: list[Terminal]) -> None:
        """Each contact with a box becomes the skeleton end nearest to it
        (thinning pulls line ends back from the box by up to an arrowhead);
        a junction only when no end is close.  The first contact to claim a
        vertex keeps it."""
        g, X0, Y0 = self.g, self.X0, self.Y0
        reach = max(12.0, 6.0 * self.line_width)
        vy = np.array([p[0] + Y0 for p in g.vertices])
        vx = np.array([p[1] + X0 for p in g.vertices])
        for t in terminals:
            d = np.hypot(vx - t.point[0], vy - t.point[1])
            d_end = np.where(self.is_end, d, np.inf)
            k = int(np.argmin(d_end))
            if d_end[k] > reach:
                k = int(np.argmin(d))
                if d[k] > reach:
                    continue
            if k not in self.term_node:
                self.term_node[k] = t.node
                self.term_point[k] = (t.point[1] - Y0, t.point[0] - X0)

    def attach_line_ends(self, nid: np.ndarray) -> None:
        """Every other line end right at a box is a terminal too (arrows that
        meet a box side by side make one contact); ends of barbs no longer
        than a spur are left out."""
        g = self.g
        longest = _longest_branch_at(g)
        close = int(max(6.0, 3.0 * self.line_width))
        crop_nid = nid[self.Y0:self.Y1, self.X0:self.X1]
        for v in np.flatnonzero(self.is_end):
            v = int(v)
            if v in self.term_node or longest.get(v, 0) <= self.spur:
                continue
            y, x = int(round(g.vertices[v][0])), int(round(g.vertices[v][1]))
            hit = _nearest_box_pixel(crop_nid, y, x, close)
            if hit is not None:
                self.term_node[v], self.term_point[v] = hit

    # -------------------------------------------------------------- pruning
    def prune_spurs(self) -> None:
        """Drop short branches from a junction to a free end (arrowhead barbs,
        label strokes), again until none is left."""
        g, degree = self.g, self.degree
        changed = True
        while changed:
            changed = False
            for i, br in enumerate(g.branches):
                if not self.alive[i]:
                    continue
                for end, other in ((br.a, br.b), (br.b, br.a)):
                    if degree[end] == 1 and degree[other] >= 3 and br.length <= self.spur and end not in self.term_node:
                        self.alive[i] = False
                        degree[end] -= 1
                        degree[other] -= 1
                        changed = True
                        break

    def link_branches(self) -> None:
        """Adjacency of the surviving branches: vertex -> (branch, other end, forward)."""
        for i, br in enumerate(self.g.branches):
            if not self.alive[i]:
                continue
            self.adj.setdefault(br.a, []).append((i, br.b, True))
            self.adj.setdefault(br.b, []).append((i, br.a, False))

    # -------------------------------------------------------------- paths
    def best_paths(self) -> _Paths:
        """The cheapest path (cost, branches) from every terminal to every
        terminal on another box."""
        results: _Paths = {}
        for t in list(self.term_node):
            for w, cb in self._paths_from(t).items():
                if cb[0] < results.get((t, w), (float("inf"),))[0]:
                    results[(t, w)] = cb
        return results

    def _paths_from(self, t: int) -> dict[int, tuple[float, tuple[int, ...]]]:
        """Depth-first search from terminal `t`, preferring the straightest
        way on: the cheapest path to each terminal reached.

        State: vertex, arrival direction, cost so far, signed turn not yet
        charged, sideways offset not yet charged, the direction the path
        entered the current cluster with, branches taken, vertices seen.
        Junctions joined by short branches form a cluster (two lines crossing
        at a shallow angle, parallel lines crossed by one): only the net turn
        across the cluster counts, and moving sideways from one line onto a
        parallel one costs.
        """
        best: dict[int, tuple[float, tuple[int, ...]]] = {}
        stack = [(t, None, 0.0, 0.0, 0.0, None, (), frozenset([t]))]
        steps = 0
        while stack and steps < _MAX_STEPS:
            steps += 1
            v, arrive, cost, acc, lat, entry, path, seen = stack.pop()
            if arrive is None and self.degree[v] >= 2:
                # leaving a junction beside the box: start away from the box
                arrive = self._away_from_box(v)
            for bi, w, fwd in self.adj.get(v, []):
                if w == v or w in seen:
                    continue                  # loops (hollow arrowheads) lead nowhere
                c, a, lt, ent = self._walk(bi, fwd, arrive, cost, acc, lat, entry)
                arr = self.in_dir(bi, fwd)
                if w in self.term_node:
                    if self.degree[w] >= 2 and c <= _COST_CAP:
                        # a line may also run on through a junction beside a box
                        stack.append((w, arr, c, a, lt, ent, path + (bi,), seen | {w}))
                    ce = self._end_at(w, arr, c, a, lt)
                    if self.term_node[w] != self.term_node[t] and ce < best.get(w, (float("inf"),))[0]:
                        best[w] = (ce, path + (bi,))
                    continue
                if c > _COST_CAP:
                    continue
                stack.append((w, arr, c, a, lt, ent, path + (bi,), seen | {w}))
        return best

    def _away_from_box(self, v: int) -> tuple[float, float] | None:
        """Direction from terminal `v`'s contact to its vertex (None when they meet)."""
        arrive = _unit(self.g.vertices[v][0] - self.term_point[v][0], self.g.vertices[v][1] - self.term_point[v][1])
        return None if arrive == (0.0, 0.0) else arrive

    def _walk(self, bi: int, fwd: bool, arrive: tuple[float, float] | None, cost: float, acc: float, lat: float,
              entry: tuple[float, float] | None) -> tuple[float, float, float, tuple[float, float] | None]:
        """The search state (cost, turn, offset, cluster entry) after taking
        branch `bi`: the turn onto it is added up; a long branch closes the
        cluster and charges it, a short one adds its sideways offset."""
        c, a, lt, ent = cost, acc, lat, entry
        if arrive is not None:
            a += _turn_angle(arrive, self.out_dir(bi, fwd))
            if ent is None:
                ent = arrive
        if self.g.branches[bi].length >= self.short_len:
            c = self._settle(c, a, lt)
            a, lt, ent = 0.0, 0.0, None
        elif ent is not None:
            dy, dx = self._chord(bi, fwd)
            lt += dy * ent[1] - dx * ent[0]
        return c, a, lt, ent

    def _end_at(self, w: int, arr: tuple[float, float], c: float, a: float, lt: float) -> float:
        """Cost of a path that ends at terminal `w`: at a junction beside the
        box it must turn towards the box there, not run on past it."""
        if self.degree[w] >= 2:
            into = _unit(self.term_point[w][0] - self.g.vertices[w][0], self.term_point[w][1] - self.g.vertices[w][1])
            if into != (0.0, 0.0):
                a += _turn_angle(arr, into)
        return self._settle(c, a, lt)

    def _settle(self, c: float, a: float, lat: float) -> float:
        """Charge a cluster's net turn and its sideways jog."""
        return c + _turn_cost(abs(a)) + 5.0 * max(0.0, abs(lat) - self.jog_free)

    def out_dir(self, bi: int, forward: bool) -> tuple[float, float]:
        """Direction (dy, dx) of leaving along branch bi (from its a end when forward)."""
        br = self.g.branches[bi]
        pix = br.pixels if forward else br.pixels[::-1]
        start = self.g.vertices[br.a if forward else br.b]
        if not pix:
            end = self.g.vertices[br.b if forward else br.a]
            dy, dx = end[0] - start[0], end[1] - start[1]
            n = math.hypot(dy, dx) or 1.0
            return (dy / n, dx / n)
        return _direction(pix, start, self.span)

    def in_dir(self, bi: int, forward: bool) -> tuple[float, float]:
        """Travel direction when arriving at the far end of branch bi."""
        dy, dx = self.out_dir(bi, not forward)
        return (-dy, -dx)

    def _chord(self, bi: int, fwd: bool) -> tuple[float, float]:
        """(dy, dx) from the start to the end of branch bi, as walked."""
        br = self.g.branches[bi]
        pa, pb = self.g.vertices[br.a], self.g.vertices[br.b]
        return (pb[0] - pa[0], pb[1] - pa[1]) if fwd else (pa[0] - pb[0], pa[1] - pb[1])

    # -------------------------------------------------------------- roles
    def face_roles(self, piece: Piece, nodes: list[Node], flow: str) -> dict[int, str]:
        """head | tail | either for each terminal, from the face of the box it meets."""
        return {v: _role(piece, self.term_node[v], self.g.vertices[v], (self.X0, self.Y0), nodes, flow)
                for v in self.term_node}

    def weigh_arrowheads(self, roles: dict[int, str], lab: np.ndarray, label: int,
                         arrow_mass: tuple[float, float, float]) -> None:
        """On a side face the arrowhead decides: ink mass at the contact against
        this image's heads and tails (from the two-box pieces).  Sets `roles`."""
        head_m, tail_m, radius = arrow_mass
        cut = math.sqrt(head_m * tail_m)
        X0, Y0 = self.X0, self.Y0
        junctions = [self.g.vertices[k] for k in range(len(self.g.vertices)) if self.degree[k] >= 3]
        for v in self.term_node:
            if roles[v] != "either":
                continue
            ty, tx = self.term_point[v][0] + Y0, self.term_point[v][1] + X0
            if any(math.hypot(jy + Y0 - ty, jx + X0 - tx) <= radius + 2 * self.line_width for jy, jx in junctions):
                # a line crossing right beside the box: its ink would pass
                # for an arrowhead, so the role stays open
                continue
            m = _mass(lab, label, (ty, tx), radius)
            if m >= cut * 1.15:
                roles[v] = "head"
            elif m <= cut / 1.15:
                roles[v] = "tail"

    def debug_record(self, roles: dict[int, str], paths: _Paths) -> dict:
        """Terminals (box, x, y, role), path costs and branches, in image coordinates."""
        g = self.g
        return {"terms": {v: (self.term_node[v], g.vertices[v][1] + self.X0, g.vertices[v][0] + self.Y0, roles[v])
                          for v in self.term_node},
                "costs": {k: v[0] for k, v in paths.items()}, "paths": {k: v[1] for k, v in paths.items()},
                "branches": [(b.a, b.b, b.length) for b in g.branches]}


def _fill_small_holes(mask: np.ndarray, small: float) -> None:
    """Fill enclosed holes of at most `small` pixels in place (hollow
    arrowheads, glyph counters of labels); holes touching the crop's edge stay."""
    inv = 1 - mask
    n, hl, hs, _ = cv2.connectedComponentsWithStats(inv, connectivity=4)
    for i in range(1, n):
        hx, hy, hw, hh, ha = hs[i]
        if hx > 0 and hy > 0 and hx + hw < mask.shape[1] and hy + hh < mask.shape[0] and ha <= small:
            mask[hl == i] = 1


def _longest_branch_at(g: SkeletonGraph) -> dict[int, float]:
    """Length of the longest branch at each vertex."""
    end_len: dict[int, float] = {}
    for br in g.branches:
        end_len[br.a] = max(end_len.get(br.a, 0), br.length)
        end_len[br.b] = max(end_len.get(br.b, 0), br.length)
    return end_len


def _nearest_box_pixel(crop_nid: np.ndarray, y: int, x: int, close: int) -> tuple[int, tuple[float, float]] | None:
    """The box and (y, x) of the box pixel nearest to (y, x) within `close`
    pixels (a square window), or None."""
    win = crop_nid[max(0, y - close):y + close + 1, max(0, x - close):x + close + 1]
    ys, xs = np.nonzero(win >= 0)
    if not len(ys):
        return None
    ys = ys + max(0, y - close)
    xs = xs + max(0, x - close)
    k = int(np.argmin((ys - y) ** 2 + (xs - x) ** 2))
    return int(crop_nid[ys[k], xs[k]]), (float(ys[k]), float(xs[k]))


def _candidates(paths: _Paths, term_node: dict[int, int], roles: dict[int, str], nodes: list[Node],
                flow: str) -> dict[tuple[int, int], tuple[float, frozenset]]:
    """Candidate arrows (upstream box, downstream box) -> (cost, branches):
    the cheapest path between the two boxes whose upstream end may be a
    tail and whose downstream end may be a head."""
    cands: dict[tuple[int, int], tuple[float, frozenset]] = {}
    for (t, w), (c, path) in paths.items():
        o = _ordered(nodes, term_node[t], term_node[w], flow)
        if o is None:
            continue
        up, down = (t, w) if o[0] == term_node[t] else (w, t)
        if roles[up] == "head" or roles[down] == "tail":
            continue
        if c < cands.get(o, (float("inf"),))[0]:
            cands[o] = (c, frozenset(path))
    return cands


def _role(piece: Piece, node_i: int, vertex: tuple[float, float], origin: tuple[int, int], nodes: list[Node],
          flow: str) -> str:
    """head | tail | either: from where the ink meets the box.  An arrow
    enters a box on its upstream face and leaves on its downstream face;
    on the sides (orthogonal routing) the role is open."""
    fx, fy = FLOWS[flow]
    n = nodes[node_i]
    x0, y0, x1, y1 = n.box
    px, py = vertex[1] + origin[0], vertex[0] + origin[1]
    cx, cy = (x0 + x1) / 2.0, (y0 + y1) / 2.0
    half = abs(fx) * (x1 - x0) / 2.0 + abs(fy) * (y1 - y0) / 2.0
    s = ((px - cx) * fx + (py - cy) * fy) / max(1.0, half)
    if s < -0.5:
        return "head"
    if s > 0.5:
        return "tail"
    return "either"


def _set_cover(cands: dict[tuple[int, int], tuple[float, frozenset]], fixed: float = 4.0) -> list[tuple[int, int]]:
    """The cheapest set of candidate paths that covers every branch any
    candidate uses (exact for small sets, greedy otherwise)."""
    keys = list(cands)
    if not keys:
        return []
    universe = frozenset().union(*(cands[k][1] for k in keys))
    cost = {k: cands[k][0] + fixed for k in keys}
    if len(keys) <= 14:
        best: tuple[float, list] = (float("inf"), [])
        order = sorted(keys, key=lambda k: cost[k])

        def rec(i: int, covered: frozenset, total: float, chosen: list):
            nonlocal best
            if total >= best[0]:
                return
            if covered >= universe:
                best = (total, list(chosen))
                return
            if i == len(order):
                return
            # an uncovered branch must be covered by some remaining candidate
            k = order[i]
            if not cands[k][1] <= covered:
                chosen.append(k)
                rec(i + 1, covered | cands[k][1], total + cost[k], chosen)
                chosen.pop()
            rest = frozenset().union(*(cands[q][1] for q in order[i + 1:])) if i + 1 < len(order) else frozenset()
            if universe <= covered | rest:
                rec(i + 1, covered, total, chosen)

        rec(0, frozenset(), 0.0, [])
        return best[1]
    chosen, covered = [], frozenset()
    while not covered >= universe:
        k = min((q for q in keys if q not in chosen and not cands[q][1] <= covered),
                key=lambda q: cost[q] / len(cands[q][1] - covered))
        chosen.append(k)
        covered |= cands[k][1]
    return chosen


def _unit(dy: float, dx: float) -> tuple[float, float]:
    n = math.hypot(dy, dx)
    return (dy / n, dx / n) if n > 1.0 else (0.0, 0.0)


def _turn_angle(u: tuple[float, float], d: tuple[float, float]) -> float:
    """Signed angle in degrees from direction `u` to direction `d` (both (dy, dx))."""
    cross = u[1] * d[0] - u[0] * d[1]
    dot = u[0] * d[0] + u[1] * d[1]
    return math.degrees(math.atan2(cross, dot))


def _turn_cost(angle: float) -> float:
    """Cost of turning by `angle` degrees at a junction: small bends are
    cheap but still rank paths (a shallow crossing is decided by them)."""
    if angle <= 60:
        return angle * 0.5
    if angle <= 100:
        return 30 + (angle - 60) * 2.0
    return 110 + (angle - 100) * 3.0


def _ordered(nodes: list[Node], a: int, b: int, flow: str) -> tuple[int, int] | None:
    pa, pb = rank_pos(nodes[a], flow), rank_pos(nodes[b], flow)
    if abs(pa - pb) < 1.0:
        return None
    return (a, b) if pa < pb else (b, a)


# ------------------------------------------------------------------ main
def find_arrows(ink: Ink, nodes: list[Node], flow: str | None = None) -> tuple[list[Arrow], str, dict]:
    nid = node_regions(ink, nodes)
    pieces, lab, near = find_pieces(ink, nodes, nid)
    radius = max(5.0, 4.0 * ink.line_width)
    simple = []
    complex_ = []
    for p in pieces:
        nodes_touched = {t.node for t in p.terminals}
        if len(nodes_touched) < 2:
            continue
        if len(p.terminals) == 2 and len(nodes_touched) == 2:
            for t in p.terminals:
                t.mass = _mass(lab, p.label, (t.point[1], t.point[0]), radius)
            simple.append(p)
        else:
            complex_.append(p)
    votes = []
    for p in simple:
        a, b = p.terminals
        if a.mass == b.mass:
            continue
        tail, head = (a, b) if a.mass < b.mass else (b, a)
        wgt = abs(a.mass - b.mass) / max(a.mass, b.mass)
        votes.append((tail.node, head.node, wgt))
    confidence = 1.0
    if flow is None:
        flow, confidence = vote_flow(nodes, votes) if votes else ("TB", 0.0)
    arrows: list[Arrow] = []
    seen = set()
    for p in simple:
        a, b = p.terminals
        o = _ordered(nodes, a.node, b.node, flow)
        if o is None:
            # same rank: trust the arrowhead
            o = (a.node, b.node) if a.mass < b.mass else (b.node, a.node)
        if o not in seen:
            seen.add(o)
            arrows.append(Arrow(o[0], o[1], [(a.point[0], a.point[1]), (b.point[0], b.point[1])] if o[0] == a.node else [(b.point[0], b.point[1]), (a.point[0], a.point[1])], confidence=1.0, piece=p.label))
    # arrowhead calibration: ink at the head and at the tail of two-box arrows
    heads, tails = [], []
    for p in simple:
        a, b = p.terminals
        o = _ordered(nodes, a.node, b.node, flow)
        if o is not None:
            (heads if a.node == o[1] else tails).append(a.mass)
            (heads if b.node == o[1] else tails).append(b.mass)
    arrow_mass = None
    if len(heads) >= 3:
        hm, tm = float(np.median(heads)), float(np.median(tails))
        if hm >= 1.6 * tm > 0:
            arrow_mass = (hm, tm, radius)
    alternatives: list[tuple[int, int, float]] = []
    for p in complex_:
        for u, v, c in decode_complex(p, lab, nodes, nid, ink, flow, arrow_mass=arrow_mass, alternatives=alternatives):
            if (u, v) not in seen:
                seen.add((u, v))
                arrows.append(Arrow(u, v, confidence=max(0.1, 1.0 - c / 250.0), piece=p.label))
    # boxes that share a tangle of ink (crossing or merged arrows) with each box
    siblings: dict[int, frozenset[int]] = {}
    for p in complex_:
        group = frozenset(t.node for t in p.terminals)
        for i in group:
            siblings[i] = siblings.get(i, frozenset()) | group
    info = {"flow": flow, "flow_confidence": confidence, "pieces": len(pieces), "complex": len(complex_),
            "labels": lab, "nid": nid, "siblings": siblings,
            "alternatives": [(u, v, max(0.05, 1.0 - c / 250.0)) for u, v, c in alternatives if (u, v) not in seen]}
    return arrows, flow, info


def label_words(ink: Ink, info: dict) -> list[tuple[int, int, int, int]]:
    """Boxes of words standing between the boxes (Caffe's num_output edge
    labels): the ink outside the boxes minus straight runs of line (a label
    may touch its arrow), as small components joined along a text line."""
    nid = info["nid"]
    free = ((ink.dark > 0) & (nid < 0)).astype(np.uint8)
    gh = ink.glyph_height or 10.0
    run = int(max(15, 2.5 * gh))
    lines = cv2.morphologyEx(free, cv2.MORPH_OPEN, np.ones((1, run), np.uint8))
    lines |= cv2.morphologyEx(free, cv2.MORPH_OPEN, np.ones((run, 1), np.uint8))
    rest = free & (1 - cv2.dilate(lines, np.ones((3, 3), np.uint8)))
    n, clab, stats, _ = cv2.connectedComponentsWithStats(rest, connectivity=8)
    near = cv2.dilate((nid >= 0).astype(np.uint8), np.ones((5, 5), np.uint8))
    glyphs = []
    for i in range(1, n):
        x, y, w, h, area = (int(v) for v in stats[i])
        if h > 2.0 * gh or w > 2.5 * gh or h < 0.3 * gh or area < 3:
            continue
        if near[y:y + h, x:x + w][clab[y:y + h, x:x + w] == i].any():
            continue                   # touches a box: part of an arrowhead or an outline
        glyphs.append((x, y, x + w, y + h))
    glyphs.sort()
    words: list[list[int]] = []
    for g in glyphs:
        for wd in words:
            ov = min(wd[3], g[3]) - max(wd[1], g[1])
            if ov > 0.4 * min(wd[3] - wd[1], g[3] - g[1]) and -2 <= g[0] - wd[2] <= 0.7 * gh:
                wd[0], wd[1], wd[2], wd[3] = min(wd[0], g[0]), min(wd[1], g[1]), max(wd[2], g[2]), max(wd[3], g[3])
                break
        else:
            words.append(list(g))
    # a word is at least a glyph's height tall (drops stray bits of curves)
    return [tuple(w) for w in words if w[3] - w[1] >= 0.6 * gh]


def arrows_near(word: tuple[int, int, int, int], arrows: list[Arrow], lab: np.ndarray,
                reach: float, nodes: list[Node] | None = None) -> list[Arrow]:
    """Arrows whose ink passes within `reach` pixels of a word, nearest first
    (arrows of one piece ordered by how close their tail box is)."""
    x0, y0, x1, y1 = word
    r = int(reach)
    X0, Y0 = max(0, x0 - r), max(0, y0 - r)
    X1, Y1 = min(lab.shape[1], x1 + r), min(lab.shape[0], y1 + r)
    sub = lab[Y0:Y1, X0:X1]
    ids = np.unique(sub)
    ids = ids[ids > 0]
    cx, cy = (x0 + x1) / 2.0 - X0, (y0 + y1) / 2.0 - Y0
    wx, wy = (x0 + x1) / 2.0, (y0 + y1) / 2.0
    out = []
    for i in ids:
        ys, xs = np.nonzero(sub == i)
        d = float(np.sqrt(np.min((xs - cx) ** 2 + (ys - cy) ** 2)))
        for a in arrows:
            if a.piece == i:
                tail = 0.0
                if nodes is not None:
                    bx0, by0, bx1, by1 = nodes[a.source].box
                    tail = math.hypot(max(bx0 - wx, 0, wx - bx1), max(by0 - wy, 0, wy - by1))
                out.append((d, tail, a))
    out.sort(key=lambda t: (t[0], t[1]))
    return [a for _, _, a in out]
