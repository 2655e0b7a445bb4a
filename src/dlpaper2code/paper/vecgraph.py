"""A vector block diagram read as a graph, branches and merges included, from the PDF's own drawing.

    docs, info = read_vector_graph(page_layout, figure_box, caption="...")

Owns the reading of a 2D-box figure drawn with vector graphics (what authors make in TikZ,
PowerPoint, Keynote, OmniGraffle, matplotlib or reportlab): no pixels are guessed, the page's
paths and characters (:class:`.page.Graphic` with its points, fill and dash; upright and
quarter-turned text) are the input.

* **Boxes**: rectangles and closed paths (rounded or not, filled or not) holding text; a box
  drawn twice (fill, then stroke, or offset as a shadow) is one box.  A box that holds other
  boxes is a *group* (a block drawn around its layers, a shaded panel), not a layer; text on it
  outside its boxes is free text (a name at an arrow's end).
* **Junctions**: small round shapes (a circle with "+" or "x", drawn or typed) are merges: Add,
  Multiply or Concat.
* **Labels**: the text inside a box (upright or written upwards), plus a number printed just
  above or below it (a channel count over a bar); read through the table vocabulary
  (:func:`.table_graph.table_to_graphs` on a one-cell table), so "3x3 conv, 64, /2",
  "Multi-Head Attention", "Add & Norm", "up-conv 2x2" become layers with their parameters.  A
  short label the vocabulary does not know ("PRM", "Stem", "Cell, stride 2") is kept as a layer of
  that custom type (it does not validate: the graph is honest about what it does not know).
* **Connectors**: lines, polylines and curves, joined end to end into wires; an arrowhead (a
  small filled triangle at a wire's end) gives the direction, else the figure's flow does (the
  direction of its drawn arrows, else left to right or top to bottom).  A wire's ends attach to
  the box, junction, picture or free text they touch; an end that lands on another wire is a tap:
  a tail there reads that wire's value (a branch), a head there adds into it (a shortcut drawn as
  an arc onto the main line becomes an Add).
* **Repeats**: "x4", "×N", "N×" printed beside a box or a group: a box repeats (``repeat``); a
  group with a number is unrolled; a group marked "N×" keeps ``meta.repeat_group`` /
  ``repeat_symbol`` for the text's N (:func:`.fuse.fill_from_text`).
* **Colour legends**: a short coloured arrow or swatch printed left of a label that names a
  layer.  Arrows of a legend colour are that operation between the unlabelled bars they join
  (feature maps; touching bars are one tensor; the number over a bar is the width of the
  convolution making it; a copied skip joins by Concat).  Bars of a legend colour are the layers
  themselves (runs of bars side by side are chains; a run drawn again counts once).
* **Not diagrams**: many small round marks beside few boxes (a plot's markers), or more than
  ``MAX_PARTS`` strokes and shapes, are refused with the reason.
* **Several networks side by side** (disconnected parts): each is a graph; the one whose words
  the caption names (or the largest) comes first.

Layers are written in a depth-first topological order (a branch is followed to its end before
the next starts), the order people read a drawing in.  ``info`` says what was found: boxes,
wires, arrowheads, junctions, taps, repeats and the share of boxes connected.
"""
from __future__ import annotations

import math
import re

from ..core.dsu import DisjointSet
from .common import inside as _inside, iou
from .page import Graphic, PageLayout, Segment

TOUCH = 3.5          # pt: a wire's end this close to a box touches it
JOIN = 1.6           # pt: two ends this close are one point
HEAD_MAX = 10.0      # pt: an arrowhead is at most this big
MAX_PARTS = 2000     # more strokes and shapes than this: a plot or a picture, not read as a diagram
REPEAT = re.compile(r"^(?:[x×]\s*(\d+|N)|(\d+|N)\s*[x×])$", re.I)
MAX_REPEAT = 32      # "×64" beside a box is a width, not a repeat count
SIZE = re.compile(r"^\d+\s*[x×]\s*\d+$")        # "7×7": a tensor's spatial size
# "14×14 ×256 mask", "14×14 ×256 ×4" (the arrow out of it repeats 4 times)
TENSOR = re.compile(r"^(\d+) ?[x×] ?(\d+)(?: ?[x×] ?(\d+))?(?: ?[x×] ?(\d{1,2}))?(?: ([A-Za-z][A-Za-z -]*))?$")
KERNEL_MAX = 7       # "HxW" up to this with no channels is a kernel, not a tensor
CITATION = re.compile(r"\[\d+(?:\s*[,–-]\s*\d+)*\]")        # "[22]": a reference, as in a panel's title
FLAT = re.compile(r"^(\d+)(?: ([A-Za-z][A-Za-z -]*))?$")                                     # "1024"
DIGITS = re.compile(r"^\d+$")
NUMBER = re.compile(r"^(?:\d+|[\dA-Za-z]+\s*[+x×*]\s*[\dA-Za-z]+)$")
JUNCTION_TEXT = {"+": "Add", "⊕": "Add", "×": "Multiply", "x": "Multiply", "⊗": "Multiply", "c": "Concat",
                 "©": "Concat", "Ⓒ": "Concat"}


def _repeat_mark(text: str) -> str | None:
    """"x4", "×N", "N×", "x 2" -> "4", "N", "N", "2"; else None."""
    t = text.strip()
    m = REPEAT.match(t.replace(" ", ""))
    return (m.group(1) or m.group(2)) if m else None


def _under(s, z) -> bool:
    """Segment `s` is the next line under segment `z`, overlapping it across."""
    gap = s.top - z.bottom
    return -0.5 <= gap <= 0.8 * max(z.size, 1.0) and min(s.x1, z.x1) - max(s.x0, z.x0) > 0


def _dist_box(p, b) -> float:
    dx = max(b[0] - p[0], 0.0, p[0] - b[2])
    dy = max(b[1] - p[1], 0.0, p[1] - b[3])
    return math.hypot(dx, dy)


def _dist_seg(p, a, b) -> float:
    ax, ay = a
    bx, by = b
    dx, dy = bx - ax, by - ay
    L = dx * dx + dy * dy
    t = 0.0 if L == 0 else max(0.0, min(1.0, ((p[0] - ax) * dx + (p[1] - ay) * dy) / L))
    return math.hypot(p[0] - ax - t * dx, p[1] - ay - t * dy)


def _area(b) -> float:
    return max(0.0, b[2] - b[0]) * max(0.0, b[3] - b[1])


def _center(b):
    return ((b[0] + b[2]) / 2, (b[1] + b[3]) / 2)


def _before(pts, k):
    """The point before a path's end `k` (0: its first point, -1: its last), seen from that end."""
    return pts[1] if k == 0 else pts[-2]


def _distinct(pts, tol=0.6):
    out = []
    for p in pts:
        if not out or math.hypot(p[0] - out[-1][0], p[1] - out[-1][1]) > tol:
            out.append(p)
    if len(out) > 1 and math.hypot(out[0][0] - out[-1][0], out[0][1] - out[-1][1]) <= tol:
        out.pop()
    return out


def _tip(g: Graphic):
    """An arrowhead's point: a triangle's vertex opposite its shortest side, else the vertex
    farthest from the shape's centre."""
    pts = _distinct(g.pts)
    if len(pts) == 3:
        sides = [math.hypot(pts[(i + 1) % 3][0] - pts[(i + 2) % 3][0], pts[(i + 1) % 3][1] - pts[(i + 2) % 3][1])
                 for i in range(3)]
        return pts[sides.index(min(sides))]
    cx, cy = sum(p[0] for p in pts) / len(pts), sum(p[1] for p in pts) / len(pts)
    return max(pts, key=lambda p: math.hypot(p[0] - cx, p[1] - cy))


def _closed(g: Graphic) -> bool:
    if g.kind == "rect":
        return True
    if g.kind != "curve" or len(g.pts) < 3:
        return False
    return g.fill or math.hypot(g.pts[0][0] - g.pts[-1][0], g.pts[0][1] - g.pts[-1][1]) <= 1.0


def _roundish(g: Graphic) -> bool:
    w, h = g.x1 - g.x0, g.bottom - g.top
    if not (2.5 <= w <= 22 and 2.5 <= h <= 22 and 0.75 <= w / h <= 1.33) or g.kind != "curve":
        return False
    pts = _distinct(g.pts)
    if len(pts) < 4:
        return False
    cx, cy = _center(g.box)
    r = [math.hypot(x - cx, y - cy) for x, y in pts]
    m = sum(r) / len(r)
    return m > 0 and max(abs(v - m) for v in r) <= 0.15 * m + 0.2


class _Node:
    def __init__(self, kind, box, label="", op=None):
        self.kind = kind          # "box", "junction", "image", "text", "tap"
        self.box = box
        self.label = label
        self.op = op
        self.extra: list[str] = []
        self.repeat = 1
        self.ins: list[_Node] = []
        self.outs: list[_Node] = []
        self.layers: list[dict] = []
        self.custom = False
        self.symbol: str | None = None      # an "N×" beside it: the text says how many
        self.group_tag: tuple | None = None     # (its repeat group, that symbol), for paper.fuse.fill_from_text
        self.at = 0.0                       # a tap's Add: where along the flow the first head lands

    @property
    def text(self):
        return ", ".join([self.label] + self.extra) if self.label else ", ".join(self.extra)


def _link(a: _Node, b: _Node) -> None:
    if a is b or b in a.outs:
        return
    a.outs.append(b)
    b.ins.append(a)


def _unlink(a: _Node, b: _Node) -> None:
    if b in a.outs:
        a.outs.remove(b)
        b.ins.remove(a)


class _Wire:
    def __init__(self):
        self.colors: list[tuple] = []
        self.polys: list[list[tuple]] = []
        self.ends: list[dict] = []        # {"pt", "prev", "head": bool, "node" or "tap"}
        self.src_ends: list[dict] | None = None     # None: not a connection (fewer than two ends attached)
        self.dst_ends: list[dict] = []
        self.sources: list[_Node] = []


def read_vector_graph(page: PageLayout, box: list[float], *, caption: str = "",
                      min_layers: int = 3) -> tuple[list[dict], dict]:
    """The graphs a vector figure draws (each a graph doc; the first is the one the caption names,
    else the largest) and what was found."""
    info: dict = {"reader": "vector graph"}
    graphics = [g for g in page.graphics if g.kind != "image" and g.kind not in ("glyph", "bracket")
                and _inside(g.box, box, 2.0)]
    pictures = [g for g in page.graphics if g.kind == "image" and _inside(g.box, box, 2.0)
                and (g.x1 - g.x0) >= 15 and (g.bottom - g.top) >= 15]
    texts = [s for s in list(page.segments) + list(page.turned) if _inside(s.box, box, 2.0)]

    docs = _colour_bars(graphics, texts, min_layers)
    if docs:
        n = sum(1 for l in docs[0]["layers"] if l["layer_type"] != "Input")
        info.update(status="ok", layers=n, graphs=len(docs), confidence=0.6, reader="vector colour bars",
                    why=f"layers drawn as bars whose colour a legend names: {n} layers in the first graph")
        return docs, info

    # ---- shapes: boxes, junctions, arrowheads
    boxes: list[_Node] = []
    junctions: list[_Node] = []
    heads: list[Graphic] = []
    connectors: list[Graphic] = []
    seen: set = set()
    for g in graphics:
        w, h = g.x1 - g.x0, g.bottom - g.top
        if _closed(g) and (g.kind == "curve" or (w > 2.0 and h > 2.0)):
            key = tuple(round(v) for v in g.box)
            if key in seen:
                continue
            if _roundish(g) and max(w, h) <= 22:
                junctions.append(_Node("junction", g.box))
                seen.add(key)
            elif g.fill and max(w, h) <= HEAD_MAX and 3 <= len(_distinct(g.pts)) <= 5:
                heads.append(g)
            elif w >= 6 and h >= 6 and not any(iou(g.box, b.box) >= 0.85 for b in boxes):
                # (a box drawn twice, a little offset, as a shadow or an outline, is one box)
                seen.add(key)
                boxes.append(_Node("box", g.box))
            continue
        if (g.kind in ("line", "curve") and g.stroke) or (g.kind == "rect" and (w <= 2.0 or h <= 2.0)):
            pts = list(g.pts) or [(g.x0, g.top), (g.x1, g.bottom)]
            if g.kind == "rect":
                pts = [(g.x0, (g.top + g.bottom) / 2), (g.x1, (g.top + g.bottom) / 2)] if w >= h else \
                    [((g.x0 + g.x1) / 2, g.top), ((g.x0 + g.x1) / 2, g.bottom)]
            key = ("c",) + tuple(round(v) for xy in pts for v in xy)
            if max(w, h) >= 2.0 and key not in seen:
                seen.add(key)
                connectors.append(Graphic(g.kind, g.x0, g.top, g.x1, g.bottom, pts=tuple(pts), color=g.color))

    if len(connectors) + len(heads) + len(boxes) > MAX_PARTS:
        # (the end-joining below compares every pair of ends: a plot's thousands of marks are no diagram)
        info.update(status="no_diagram", layers=0, boxes=len(boxes),
                    why=f"{len(connectors)} strokes and {len(boxes)} shapes: a plot or a picture, not a block diagram")
        return [], info

    # ---- text: inside the smallest box holding it; a junction's own sign; a number beside a box
    # groups: a box holding other boxes is a group (a block drawn around its layers, a shaded panel),
    # not a layer; text in it outside its boxes is free text (an output's name, a title)
    groups = [b for b in boxes if any(o is not b and _inside(o.box, b.box, 1.0) and _area(o.box) < _area(b.box)
                                      for o in boxes)]

    def holder(seg):
        c = _center(seg.box)
        inside = [b for b in boxes if _dist_box(c, b.box) == 0 and _inside(seg.box, b.box, 2.5)]
        best = min(inside, key=lambda b: _area(b.box)) if inside else None
        return None if best in groups else best

    free: list[Segment] = []
    held: dict[int, list[Segment]] = {}
    sizes = [s for s in texts if SIZE.match(s.text.strip())]
    for s in texts:
        j = next((j for j in junctions if _dist_box(_center(s.box), j.box) == 0), None)
        if j is not None:
            j.op = JUNCTION_TEXT.get(s.text.strip().lower(), JUNCTION_TEXT.get(s.text.strip()))
            continue
        # "×256" under "7×7": the tensor's channels, with the box that holds the size
        size_of = next((z for z in sizes if _under(s, z)), None)
        b = holder(size_of) if size_of is not None else None if _repeat_mark(s.text) else holder(s)
        if b is None:
            free.append(s)
        else:
            held.setdefault(id(b), []).append(s)
    for b in boxes:
        segs = held.get(id(b), [])
        vertical = segs and all(s.bottom - s.top > 1.5 * (s.x1 - s.x0) for s in segs)
        segs.sort(key=lambda s: (s.x0, s.top) if vertical else (round(s.top / 2), s.x0))
        b.label = " ".join(s.text for s in segs).strip()
    layer_boxes = [b for b in boxes if b not in groups and b.label]
    if len(junctions) > 2 * len(layer_boxes) + 4:
        info.update(boxes=len(layer_boxes), junctions=len(junctions), status="no_diagram", layers=0,
                    why=f"{len(junctions)} small round marks beside {len(layer_boxes)} labelled boxes: a plot's "
                        f"markers, not a diagram's junctions")
        return [], info
    for j in junctions:
        j.op = j.op or "Add"
    # repeat marks and numbers beside boxes
    repeats = [(s, _repeat_mark(s.text)) for s in free if _repeat_mark(s.text)]
    for s, _ in repeats:
        free.remove(s)
    # "×256" under "7×7" is a tensor's size printed on two lines (its channels), and a count
    # above MAX_REPEAT is a width, not how often a layer repeats
    repeats = [(s, v) for s, v in repeats if not (v.isdigit() and int(v) > MAX_REPEAT)
               and not any(_under(s, z) for z in sizes)]
    _numbers_onto(free, layer_boxes, NUMBER, below=True)

    # ---- wires: connectors joined end to end
    dsu = DisjointSet(len(connectors))
    find = dsu.find

    ends = [(i, 0) for i in range(len(connectors))] + [(i, -1) for i in range(len(connectors))]
    pt = {(i, k): connectors[i].pts[k] for i, k in ends}
    # arrowheads first: a small filled triangle at a connector's end; the tip is where it points.  An
    # end with a head ends its wire (a shortcut ending where the next one starts is two wires)
    head_at: dict = {}
    n_heads = 0
    for hd in heads:
        hc = _center(hd.box)
        tip = _tip(hd)
        best, bd = None, None
        for e in ends:
            d = _dist_box(pt[e], hd.box)
            if d > 2.5 or e in head_at:
                continue
            i, k = e
            prev = _before(connectors[i].pts, k)
            # the head sits on the line's last stretch: behind its end, towards the point before it
            vx, vy = prev[0] - pt[e][0], prev[1] - pt[e][1]
            L = math.hypot(vx, vy) or 1.0
            cos = ((hc[0] - pt[e][0]) * vx + (hc[1] - pt[e][1]) * vy) / L / (math.hypot(hc[0] - pt[e][0], hc[1] - pt[e][1]) or 1.0)
            key = (round(math.hypot(pt[e][0] - tip[0], pt[e][1] - tip[1]), 1), -cos)
            if bd is None or key < bd:
                best, bd = e, key
        if best is None:
            continue
        prev = _before(connectors[best[0]].pts, best[1])
        dx, dy = pt[best][0] - prev[0], pt[best][1] - prev[1]
        head_at[best] = max(_distinct(hd.pts), key=lambda p: p[0] * dx + p[1] * dy)
        n_heads += 1
    shared: set = set()
    # ends meeting on a box's edge are two wires leaving (or entering) the box, not one wire
    solid = [b.box for b in layer_boxes] + [j.box for j in junctions] + [p.box for p in pictures]
    on_node = {e for e in ends if any(_dist_box(pt[e], b) <= JOIN for b in solid)}
    for a in range(len(ends)):
        for b in range(a + 1, len(ends)):
            ea, eb = ends[a], ends[b]
            if ea[0] == eb[0] or ea in head_at or eb in head_at or ea in on_node:
                continue
            pa, pb = pt[ea], pt[eb]
            if abs(pa[0] - pb[0]) <= JOIN and abs(pa[1] - pb[1]) <= JOIN:
                dsu.merge(ea[0], eb[0])
                shared.add(ea)
                shared.add(eb)
    wires: dict[int, _Wire] = {}
    for i, c in enumerate(connectors):
        w = wires.setdefault(find(i), _Wire())
        w.polys.append(list(c.pts))
    for e in ends:
        if e in shared:
            continue
        i, k = e
        wires[find(i)].ends.append({"pt": head_at.get(e, pt[e]), "prev": _before(connectors[i].pts, k),
                                    "head": e in head_at})
    wires = {k: w for k, w in wires.items() if w.ends}
    for i, c in enumerate(connectors):
        w = wires.get(find(i))
        if w is not None and c.color is not None:
            w.colors.append(c.color)

    # ---- a legend: a short coloured arrow beside a label that names a layer ("conv 3x3, ReLU");
    # the drawing's arrows of that colour are that operation, its unlabelled bars the feature maps
    legend = _legend(free, wires)
    bars: list[_Node] = []
    if legend:
        bars = [b for b in boxes if b not in groups and not b.label]
        for b in bars:
            b.kind = "bar"
        # bars drawn touching side by side (a copied map and an up-sampled one) are one tensor
        merged = True
        while merged:
            merged = False
            for a in bars:
                for b in bars:
                    if a is b:
                        continue
                    ov = min(a.box[3], b.box[3]) - max(a.box[1], b.box[1])
                    if -1.5 <= b.box[0] - a.box[2] <= 1.5 and ov >= 0.8 * min(a.box[3] - a.box[1], b.box[3] - b.box[1]):
                        a.box = [min(a.box[0], b.box[0]), min(a.box[1], b.box[1]), max(a.box[2], b.box[2]),
                                 max(a.box[3], b.box[3])]
                        bars.remove(b)
                        merged = True
                        break
                if merged:
                    break
        _numbers_onto(free, bars, DIGITS, below=False)       # channel counts printed over the bars

    # ---- the flow: the drawn arrows' mean direction, else the figure's longer axis
    fx = fy = 0.0
    for w in wires.values():
        for e in w.ends:
            if e["head"]:
                fx += e["pt"][0] - e["prev"][0]
                fy += e["pt"][1] - e["prev"][1]
    if fx == 0 and fy == 0:
        xs = [_center(b.box)[0] for b in layer_boxes] or [0]
        ys = [_center(b.box)[1] for b in layer_boxes] or [0]
        fx, fy = (1.0, 0.0) if max(xs) - min(xs) >= max(ys) - min(ys) else (0.0, 1.0)
    fx, fy = ((math.copysign(1.0, fx), 0.0) if abs(fx) >= abs(fy) else (0.0, math.copysign(1.0, fy)))

    # ---- attach the wires' ends
    pic_nodes = []
    for p in pictures:
        n = _Node("image", p.box)
        below = [s for s in free if p.box[0] - 10 <= _center(s.box)[0] <= p.box[2] + 10
                 and (0 <= s.top - p.box[3] <= 12 or 0 <= p.box[1] - s.bottom <= 12)]
        if below:
            n.label = min(below, key=lambda s: min(abs(s.top - p.box[3]), abs(p.box[1] - s.bottom))).text
        pic_nodes.append(n)
    nodes_all = layer_boxes + junctions + pic_nodes + bars
    text_nodes: dict[int, _Node] = {}

    def attach(p):
        best, bd = None, None
        for n in nodes_all:
            d = _dist_box(p, n.box)
            tol = TOUCH + (2.0 if n.kind == "junction" else 0.0)
            if d <= tol and (bd is None or d < bd - 0.01 or (abs(d - bd) <= 0.01 and _area(n.box) < _area(best.box))):
                best, bd = n, d
        return best

    taps = []     # (wire, end, the wire it lands on)
    for w in wires.values():
        for e in w.ends:
            n = attach(e["pt"])
            if n is None:
                # an end in the middle of another wire (not at one of its ends): a tap
                for other in wires.values():
                    if other is w or any(abs(o["pt"][0] - e["pt"][0]) <= JOIN and abs(o["pt"][1] - e["pt"][1]) <= JOIN
                                         for o in other.ends):
                        continue
                    if any(_dist_seg(e["pt"], a, b) <= JOIN for poly in other.polys for a, b in zip(poly, poly[1:])):
                        e["tap"] = other
                        taps.append((w, e, other))
                        break
                else:
                    near = [s for s in free if _dist_box(e["pt"], s.box) <= 6.0]
                    if near:
                        s = min(near, key=lambda s: _dist_box(e["pt"], s.box))
                        if id(s) not in text_nodes:
                            text_nodes[id(s)] = _Node("text", s.box, s.text)
                        n = text_nodes[id(s)]
            e["node"] = n

    def along(p):
        return p[0] * fx + p[1] * fy

    for w in wires.values():
        att = [e for e in w.ends if e.get("node") is not None or e.get("tap") is not None]
        if len(att) < 2:
            continue
        if any(e["head"] for e in att) and not all(e["head"] for e in att):
            srcs = [e for e in att if not e["head"]]
            dsts = [e for e in att if e["head"]]
        else:
            att.sort(key=lambda e: along(e["pt"]))
            srcs, dsts = att[:1], att[1:]
        w.src_ends, w.dst_ends = srcs, dsts
    live = [w for w in wires.values() if w.src_ends is not None]
    # a head landing on a wire adds into it: one Add per wire, where the first head lands
    tap_adds: dict[int, _Node] = {}
    for w in live:
        for e in w.dst_ends:
            x = e.get("tap")
            if x is not None and x.src_ends is not None and id(x) not in tap_adds:
                add = _Node("junction", [e["pt"][0], e["pt"][1], e["pt"][0], e["pt"][1]], op="Add")
                add.at = along(e["pt"])
                tap_adds[id(x)] = add
            elif x is not None and id(x) in tap_adds:
                tap_adds[id(x)].at = min(tap_adds[id(x)].at, along(e["pt"]))

    # sources: a tail on another wire reads that wire's value there (its source, or its Add when the
    # tail is at or past where the Add is)
    def source_of(e):
        if e.get("node") is not None:
            return [e["node"]]
        x = e["tap"]
        if x.src_ends is None:
            return []
        add = tap_adds.get(id(x))
        if add is not None and along(e["pt"]) >= add.at - JOIN:
            return [add]
        return list(x.sources)

    for _ in range(6):
        for w in live:
            w.sources = []
            for e in w.src_ends:
                w.sources += [n for n in source_of(e) if n not in w.sources]
    ops: list[_Node] = []
    for w in live:
        op = _legend_op(w, legend)
        if op is not None:        # the arrow is the layer: source -> op -> target
            ops.append(op)
            for s_ in w.sources:
                _link(s_, op)
            for e in w.dst_ends:
                if e.get("node") is not None:
                    _link(op, e["node"])
            continue
        add = tap_adds.get(id(w))
        for e in w.dst_ends:
            t = e.get("node")
            if t is None:
                continue
            if add is not None:
                for s in w.sources:
                    _link(s, add)
                _link(add, t)
            else:
                for s in w.sources:
                    _link(s, t)
        for e in w.dst_ends:
            x = e.get("tap")
            if x is not None and id(x) in tap_adds:
                for s in w.sources:
                    _link(s, tap_adds[id(x)])
    nodes = [n for n in nodes_all + list(text_nodes.values()) + list(tap_adds.values()) + ops if n.ins or n.outs]

    # ---- repeats beside a box or a group
    n_rep = 0
    for s, val in repeats:
        c = _center(s.box)
        cands = [b for b in layer_boxes + groups if _dist_box(c, b.box) <= 25]
        if not cands:
            continue
        b = min(cands, key=lambda b: _dist_box(c, b.box))
        if val.isdigit():
            b.repeat = int(val)
        else:
            b.symbol = val          # "N×": how many the text says (paper.fuse.fill_from_text)
        n_rep += 1
    for gi, g in enumerate(groups + layer_boxes):
        if g.symbol:
            for n in nodes:
                if n is g or (g in groups and n.kind != "text" and _inside(n.box, g.box, 1.0)):
                    n.group_tag = (f"repeat{gi + 1}", g.symbol)

    # ---- layers of each node
    for n in nodes:
        if n.kind != "bar":
            _layers_of(n)
    n_tensors = _tensor_layers(nodes)
    for n in nodes:       # an operation arrow's width: the channel count over the bar it makes
        if n.kind == "op" and n.layers and n.layers[0]["layer_type"] in CONV_LIKE:
            counts = [b.extra[0] for b in n.outs if b.kind == "bar" and b.extra]
            if counts and "filters" not in n.layers[0]["layer_params"]:
                n.layers[0]["layer_params"]["filters"] = int(counts[0])
    # a node that names no layer passes its input on (a picture or a caption in the flow); one
    # without inputs that names none is the input
    for n in list(nodes):
        if n.custom and not n.ins:          # a source the vocabulary does not know ("Previous layer", "H[c-1]")
            n.layers = [{"layer_type": "Input", "layer_params": {}, "meta": {"figure_text": n.text}}]
            n.custom = False
        if n.layers:
            continue
        if not n.ins:
            n.layers = [{"layer_type": "Input", "layer_params": {}, "meta": {"figure_text": n.text}}]
            continue
        for a in list(n.ins):
            for b in list(n.outs):
                _link(a, b)
        for a in list(n.ins):
            _unlink(a, n)
        for b in list(n.outs):
            _unlink(n, b)
        nodes.remove(n)
    for n in nodes:          # a node with several inputs that is no merge gets one (the drawn join)
        if len(n.ins) >= 2 and n.layers[0]["layer_type"] not in ("Add", "Multiply", "Concat", "Subtract") \
                and not n.custom:
            # a copied (cropped) skip joins by concatenation, other joins by a sum
            copy_in = any(a.layers and a.layers[-1]["layer_type"] == "Cropping2D" for a in n.ins)
            add = _Node("junction", n.box, op="Concat" if copy_in else "Add")
            add.group_tag = n.group_tag
            _layers_of(add)
            for a in list(n.ins):
                _unlink(a, n)
                _link(a, add)
            _link(add, n)
            nodes.append(add)
    # groups with a number repeat: unroll a single-entry, single-exit chain of their layers
    unrolled = sum(1 for g in groups if g.repeat > 1 and _unroll(g, nodes))

    comps = _components(nodes)
    comps = [c for c in comps if sum(len(n.layers) * n.repeat for n in c if n.layers[0]["layer_type"] != "Input")
             >= min_layers]
    n_conn = sum(1 for b in layer_boxes if b.ins or b.outs)
    info.update(boxes=len(layer_boxes), groups=len(groups), junctions=len(junctions), wires=len(wires),
                arrowheads=n_heads, taps=len(taps), repeats=n_rep, unrolled=unrolled, tensors=n_tensors, connected=n_conn,
                confidence=round(n_conn / len(layer_boxes), 3) if layer_boxes else 0.0)
    if not comps:
        info.update(status="no_diagram", layers=0,
                    why=f"{len(layer_boxes)} labelled boxes, {len(wires)} wires: no connected part names "
                        f"{min_layers} or more layers")
        return [], info
    words = set(re.findall(r"[a-z0-9]+", caption.lower()))

    def rank(c):
        bb = [min(n.box[0] for n in c), min(n.box[1] for n in c), max(n.box[2] for n in c), max(n.box[3] for n in c)]
        near = [s.text for s in free if bb[0] - 5 <= _center(s.box)[0] <= bb[2] + 5
                and (-1 <= s.top - bb[3] <= 20 or -1 <= bb[1] - s.bottom <= 20)]
        title = " ".join([n.text for n in c] + near).lower()
        hits = len(words & set(re.findall(r"[a-z0-9]+", title)))
        return (-hits, -len(c))

    comps.sort(key=rank)
    docs = [_doc(c, k, (fx, fy)) for k, c in enumerate(comps)]
    n = sum(1 for l in docs[0]["layers"] if l["layer_type"] != "Input")
    info.update(status="ok", layers=n, graphs=len(docs),
                labels=[x.text for x in comps[0] if x.kind in ("box", "text")],
                why=f"read from the PDF's vector drawing as a graph: {len(layer_boxes)} boxes, {len(wires)} wires "
                    f"({n_heads} arrowheads, {len(taps)} taps), {len(junctions)} junctions; "
                    f"{len(docs)} connected part(s), the first has {n} layers")
    return docs, info


CONV_LIKE = {"Conv2D", "Conv2DTranspose", "DepthwiseConv2D", "separable_conv", "Conv1D", "Conv3D"}
POOL_LIKE = {"MaxPool2D", "AvgPool2D"}


def label_layers(text: str) -> tuple[list[dict], int]:
    """A box's label -> (its layers as graph-doc entries, its repeat count), through the table
    vocabulary's cell parser (:func:`.table_graph.parse_cell`); a value the label does not print is
    left out (no default is made up).  "3x3 conv, 64, /2" -> Conv2D kernel 3, 64 filters, stride 2;
    "max 3x3" -> MaxPool2D 3x3; "Add & Norm" -> Add, LayerNorm; "Feed Forward" -> feed_forward."""
    from .table_graph import parse_cell

    t = re.sub(r"(?:(?<=[\s,])|^)/\s*(\d)\b", r"stride \1", text)         # "3x3 conv, 64, /2"
    t = re.sub(r"\badd\s*&\s*norm\b", "add & layer norm", t, flags=re.I)
    t = re.sub(r"(\d\s*[x×]\s*\d+)\s*-\s*s(\d)\b", r"\1, stride \2", t, flags=re.I)         # "3x3-s2"
    if re.fullmatch(r"\s*(?:input|output|token|word)s?\s+embeddings?\s*", t, re.I):
        return [{"layer_type": "Embedding", "layer_params": {}, "meta": {"figure_text": text}}], 1
    t = re.sub(r"^\s*(max|avg|average)\s+(\d+\s*[x×]\s*\d+)", r"\1 pool \2", t, flags=re.I)   # NAS cells' ops
    pc = parse_cell(t)
    out = []
    for l in list(pc.get("pre", [])) + pc["layers"]:
        typ, params = l["type"], dict(l.get("params", {}))
        nums = [v for v in l.get("numbers", []) if isinstance(v, int)]
        if typ in CONV_LIKE | POOL_LIKE and "kernel" in l and "kernel_size" not in params and "pool_size" not in params:
            params["pool_size" if typ in POOL_LIKE else "kernel_size"] = l["kernel"]
        if typ in CONV_LIKE and nums and "filters" not in params:
            params["filters"] = nums[0]
        if typ == "Dense" and nums and "units" not in params:
            params["units"] = nums[0]
        if typ in POOL_LIKE and "strides" not in params and "/" in text:
            pass
        out.append({"layer_type": typ, "layer_params": params, "meta": {"figure_text": text}})
    # a stride printed once for a fused group ("Conv + BN + ReLU, Stride = 2") is the convolution's
    conv = next((l for l in out if l["layer_type"] in CONV_LIKE | POOL_LIKE), None)
    if conv is not None:
        for l in out:
            if l is not conv and l["layer_type"] not in CONV_LIKE | POOL_LIKE and "strides" in l["layer_params"]:
                conv["layer_params"].setdefault("strides", l["layer_params"].pop("strides"))
    rep = pc.get("repeat", 1)
    return out, rep if isinstance(rep, int) and rep > 0 else 1


def _colour_bars(graphics: list[Graphic], texts: list[Segment], min_layers: int) -> list[dict]:
    """Layers drawn as coloured bars that a legend names ("[blue swatch] Conv + BN + ReLU, Stride = 1"):
    each run of bars side by side is a chain of those layers; runs drawn more than once (towers with
    shared weights) count once.  Graph docs: every distinct run, then (when there are several) all of
    them joined in drawing order, marked as such; [] when there is no such legend."""
    filled = [g for g in graphics if g.fill and g.color is not None and g.kind in ("rect", "curve")]
    swatches = []
    for t in texts:
        named = label_layers(t.text)[0]
        if not named or all(l["layer_type"] == "Activation" for l in named):     # ("Task Loss" is no layer)
            continue
        cy = (t.top + t.bottom) / 2
        for g in filled:
            w, h = g.x1 - g.x0, g.bottom - g.top
            if 4 <= w <= 40 and h <= 8 and 0 <= t.x0 - g.x1 <= 20 and abs((g.top + g.bottom) / 2 - cy) <= 4:
                swatches.append((g, t.text))
                break
    colours = []
    for g, _ in swatches:
        if not any(_same_color(g.color, c) for c in colours):
            colours.append(g.color)
    if len(colours) < 2:
        return []
    sw = [g for g, _ in swatches]
    bars: list[Graphic] = []
    for g in filled:
        w, h = g.x1 - g.x0, g.bottom - g.top
        if g in sw or h < 8 or w > 0.5 * h or not any(_same_color(g.color, c) for c in colours):
            continue
        if any(iou(g.box, b.box) >= 0.5 for b in bars):
            continue
        bars.append(g)
    bars.sort(key=lambda b: b.x0)
    runs: list[list[Graphic]] = []
    for b in bars:
        for r in runs:
            a = r[-1]
            ov = min(a.bottom, b.bottom) - max(a.top, b.top)
            if 0 <= b.x0 - a.x1 <= 8 and ov >= 0.5 * min(a.bottom - a.top, b.bottom - b.top):
                r.append(b)
                break
        else:
            runs.append([b])

    def label_of(g):
        return next(t for c, t in ((s.color, t) for s, t in swatches) if _same_color(c, g.color))

    distinct, seen = [], set()
    for r in runs:
        key = (tuple(label_of(b) for b in r), round(r[0].x0 / 5))
        if len(r) >= 2 and key not in seen:
            seen.add(key)
            distinct.append(r)
    if not distinct or sum(len(r) for r in distinct) < min_layers:
        return []

    def chain(rs, name, joined):
        layers, prev, k = [], None, 0
        layers.append({"layer_type": "Input", "layer_name": "input1", "layer_params": {}, "from_layers": [],
                       "meta": {"figure_text": "(the drawing's input)"}})
        prev = "input1"
        for r in rs:
            for b in r:
                for l in label_layers(label_of(b))[0]:
                    k += 1
                    nm = f"{re.sub(r'[^a-z0-9]', '', l['layer_type'].lower())}{k}"
                    layers.append({"layer_type": l["layer_type"], "layer_name": nm, "layer_params": l["layer_params"],
                                   "from_layers": [prev], "meta": dict(l["meta"], figure_box=[round(v, 1) for v in b.box])})
                    prev = nm
        issues = ([{"kind": "joined", "message": "runs of bars joined in drawing order; the links between them "
                                                 "are not read"}] if joined else [])
        return {"schema_version": 1, "name": name, "description": "",
                "source": {"reader": "vector colour bars", "issues": issues}, "layers": layers}

    docs = []
    if len(distinct) > 1:
        docs.append(chain(distinct, "figure_bars_joined", True))
    docs += [chain([r], f"figure_bars{k + 1}", False) for k, r in enumerate(distinct)]
    return docs


def _same_color(a, b, tol=0.06) -> bool:
    return a is not None and b is not None and all(abs(x - y) <= tol for x, y in zip(a, b))


def _numbers_onto(free: list[Segment], targets: list[_Node], rx: re.Pattern, *, below: bool) -> None:
    """A number (`rx`) printed just over a box (or, with `below`, just under it) joins the nearest
    such box's label (``extra``) and leaves the free text."""
    for s in list(free):
        t = s.text.strip()
        if not rx.match(t):
            continue
        c = _center(s.box)
        near = [b for b in targets if b.box[0] - 2 <= c[0] <= b.box[2] + 2
                and (0 <= b.box[1] - s.bottom <= 9 or (below and 0 <= s.top - b.box[3] <= 9))]
        if near:
            min(near, key=lambda b: _dist_box(c, b.box)).extra.append(t)
            free.remove(s)


def _legend(free: list[Segment], wires: dict) -> list[tuple]:
    """The figure's legend: [(colour, label)] for each short coloured arrow (taken out of `wires`)
    printed just left of a label that names a layer; only a legend of two or more colours counts
    ([] else, and nothing is taken).  (A legend of coloured swatches naming bars is
    :func:`_colour_bars`'.)"""
    found, taken_w, taken_t = [], [], []
    for s in free:
        if not label_layers(s.text)[0]:
            continue
        cy, h = (s.top + s.bottom) / 2, max(s.bottom - s.top, 4.0)
        for k, w in wires.items():
            if k in taken_w or not w.colors:
                continue
            xs = [p[0] for poly in w.polys for p in poly]
            ys = [p[1] for poly in w.polys for p in poly]
            if s.x0 - 60 <= min(xs) and max(xs) <= s.x0 + 1 and max(ys) - min(ys) <= h and \
                    abs((max(ys) + min(ys)) / 2 - cy) <= h:
                found.append((max(set(w.colors), key=w.colors.count), s.text))
                taken_w.append(k)
                taken_t.append(s)
                break
    colors = []
    for c, _ in found:
        if not any(_same_color(c, o) for o in colors):
            colors.append(c)
    if len(colors) < 2:
        return []
    for k in taken_w:
        del wires[k]
    for s in taken_t:
        free.remove(s)
    return found


def _legend_op(w: _Wire, legend: list[tuple]) -> _Node | None:
    """The operation a wire of a legend's colour stands for, as a node (None: no legend colour)."""
    if not legend or not w.colors:
        return None
    col = max(set(w.colors), key=w.colors.count)
    label = next((t for c, t in legend if _same_color(c, col)), None)
    if label is None:
        return None
    pts = [p for poly in w.polys for p in poly]
    n = _Node("op", [min(p[0] for p in pts), min(p[1] for p in pts), max(p[0] for p in pts), max(p[1] for p in pts)],
              label)
    return n


def _layers_of(n: _Node) -> None:
    """The layers a node stands for (its label through the table vocabulary), or a custom layer."""
    if n.kind in ("junction",):
        n.layers = [{"layer_type": n.op or "Add", "layer_params": {}, "meta": {"figure_text": n.label or n.op}}]
        return
    text = n.text
    if not text:
        return
    if CITATION.search(text) or len(text.split()) > 10:     # a panel's title and notes, not a layer's label
        return
    layers, rep = label_layers(text)
    if layers and all(l["layer_type"] == "Input" for l in layers):
        n.layers = [] if n.ins else layers[:1]
        return
    layers = [l for l in layers if l["layer_type"] not in ("Flatten", "Input")]
    if n.kind == "image" or (n.kind == "text" and not layers):
        return
    if not layers:
        words = [w for w in re.findall(r"[A-Za-z][A-Za-z-]+", n.label) if w.lower() not in ("stride",)]
        if 1 <= len(words) <= 3 and len(n.label) <= 24 and not re.search(r"\biden\b|identity", n.label, re.I):
            name = "".join(w[:1].upper() + w[1:] for w in words)
            params = {}
            m = re.search(r"stride\s*(\d+)", n.label, re.I)
            if m:
                params["strides"] = int(m.group(1))
            n.layers = [{"layer_type": name, "layer_params": params, "meta": {"figure_text": text}}]
            n.custom = True
        return
    n.layers = layers
    n.repeat = max(n.repeat, rep)


def _tensor_of(text: str) -> tuple | None:
    """A label that is only a tensor's size -> (height, width, channels or None, repeats of the
    arrow out of it); a label that is only a number -> (None, None, that number, 1): a flat
    vector.  Words after the size that name no layer ("mask") are allowed; "3x3" with no
    channels (up to :data:`KERNEL_MAX`) is a kernel, not a tensor; else None."""
    t = re.sub(r"\s+", " ", text.replace(",", " ")).strip()
    m = TENSOR.match(t)
    if m:
        h, w, c, rep, rest = m.groups()
        if rest and label_layers(rest)[0]:
            return None
        if not c and min(int(h), int(w)) <= KERNEL_MAX:        # "3x3", "1x7": a kernel's size (Inception's boxes)
            return None
        return int(h), int(w), int(c) if c else None, int(rep) if rep else 1
    m = FLAT.match(t)
    if m and not (m.group(2) and label_layers(m.group(2))[0]):
        return None, None, int(m.group(1)), 1
    return None


def _tensor_layers(nodes: list[_Node]) -> int:
    """A drawing of tensors (boxes labelled only by their sizes, "14×14 ×256", "1024") whose
    arrows are the layers, as Mask R-CNN's heads: each tensor becomes the layer that makes it,
    inferred from the size it comes from -- the same spatial size: a convolution to its channels;
    a larger one: a transposed convolution with that stride; a smaller one: a pooling (channels
    kept) or a strided convolution; a flat vector: a fully connected layer of that width.  A
    tensor nothing feeds is the input (its shape).  A word at an arrow's end from a tensor (an
    output, "class") is a fully connected layer from a flat vector, else a convolution.  Needs two
    sized tensors at least; returns how many were read."""
    sized = {id(n): _tensor_of(n.text) for n in nodes if n.kind == "box" and n.text}
    sized = {k: v for k, v in sized.items() if v is not None}
    if sum(1 for v in sized.values() if v[0] is not None) < 2:
        return 0
    for n in nodes:
        size = sized.get(id(n))
        if size is None:
            if n.kind == "text" and not n.layers and n.ins and all(id(a) in sized for a in n.ins):
                flat = sized[id(n.ins[0])][0] is None
                n.layers = [{"layer_type": "Dense" if flat else "Conv2D", "layer_params": {},
                             "meta": {"figure_text": n.text, "inferred": "an output drawn from a tensor"}}]
            continue
        h, w, c, _ = size
        src = next((sized[id(a)] for a in n.ins if id(a) in sized), None)
        meta = {"figure_text": n.text}
        if src is None:
            if not n.ins or not any(a.layers for a in n.ins):
                shape = [v for v in (h, w, c) if v is not None]
                n.layers = [{"layer_type": "Input", "layer_params": {"shape": shape}, "meta": meta}]
                for a in list(n.ins):           # what leads to it names no layer (a picture, a panel)
                    _unlink(a, n)
            else:
                n.layers = []                   # made by the layer drawn before it
            continue
        sh = src[0]
        meta["inferred"] = f"from the tensor sizes {src[:3]} -> {size[:3]}"
        n.repeat = max(n.repeat, src[3])
        if h is None:
            n.layers = [{"layer_type": "Dense", "layer_params": {"units": c}, "meta": meta}]
        elif sh is None or h == sh:
            n.layers = [{"layer_type": "Conv2D", "layer_params": {"filters": c} if c else {}, "meta": meta}]
        elif h > sh and h % sh == 0:
            p = {"strides": h // sh, "kernel_size": h // sh}
            if c:
                p["filters"] = c
            n.layers = [{"layer_type": "Conv2DTranspose", "layer_params": p, "meta": meta}]
        elif h < sh and sh % h == 0:
            if c and c == src[2]:
                n.layers = [{"layer_type": "MaxPool2D", "layer_params": {"pool_size": sh // h, "strides": sh // h},
                             "meta": meta}]
            else:
                p = {"strides": sh // h}
                if c:
                    p["filters"] = c
                n.layers = [{"layer_type": "Conv2D", "layer_params": p, "meta": meta}]
        else:
            n.layers = [{"layer_type": "Conv2D", "layer_params": {"filters": c} if c else {}, "meta": meta}]
        n.custom = False
    return len(sized)


def _unroll(g: _Node, nodes: list[_Node]) -> bool:
    """A group drawn with "Nx" beside it, unrolled: its layers repeated N times in a chain, each
    copy reading the previous copy's output where the first read the group's input.  Only a group
    with one input value and one output is unrolled (else False)."""
    inner = [n for n in nodes if n.kind != "text" and _inside(n.box, g.box, 1.0)]
    s = set(map(id, inner))
    ext_in = {id(a): a for n in inner for a in n.ins if id(a) not in s}
    exits = [n for n in inner if any(id(b) not in s for b in n.outs) or not n.outs]
    if not inner or len(ext_in) != 1 or len(exits) != 1:
        return False
    (x,) = ext_in.values()
    exit_ = exits[0]
    outside_out = [b for b in exit_.outs if id(b) not in s]
    prev_exit = exit_
    for _ in range(1, g.repeat):
        copy = {}
        for n in inner:
            c = _Node(n.kind, n.box, n.label, n.op)
            c.extra, c.layers, c.repeat, c.custom = list(n.extra), [dict(l) for l in n.layers], n.repeat, n.custom
            copy[id(n)] = c
            nodes.append(c)
        for n in inner:
            for a in n.ins:
                _link(prev_exit if a is x else copy[id(a)], copy[id(n)])
        for b in outside_out:
            _unlink(prev_exit, b)
            _link(copy[id(exit_)], b)
        prev_exit = copy[id(exit_)]
    return True


def _components(nodes: list[_Node]) -> list[list[_Node]]:
    seen: set = set()
    out = []
    for n in nodes:
        if id(n) in seen:
            continue
        comp, stack = [], [n]
        seen.add(id(n))
        while stack:
            x = stack.pop()
            comp.append(x)
            for y in x.ins + x.outs:
                if id(y) not in seen:
                    seen.add(id(y))
                    stack.append(y)
        out.append(comp)
    return out


def _order(comp: list[_Node], flow=(0.0, 1.0)) -> list[_Node]:
    """Depth-first topological order: a branch is followed to its end before the next begins;
    among ready nodes the one drawn first along the flow (then top, then left) goes first.  A cycle
    (a drawing read wrong) is broken at the node drawn first."""
    indeg = {id(n): sum(1 for a in n.ins if a in comp) for n in comp}
    L = math.hypot(*flow) or 1.0
    fx, fy = flow[0] / L, flow[1] / L

    def at(n):
        c = _center(n.box)
        return (round((c[0] * fx + c[1] * fy) / 2), round(c[1]), c[0])

    pos = {id(n): at(n) for n in comp}
    done, out = set(), []
    stack = sorted([n for n in comp if indeg[id(n)] == 0], key=lambda n: pos[id(n)], reverse=True)
    while len(out) < len(comp):
        if not stack:
            rest = [n for n in comp if id(n) not in done]
            stack = [min(rest, key=lambda n: (indeg[id(n)], pos[id(n)]))]
        n = stack.pop()
        if id(n) in done:
            continue
        done.add(id(n))
        out.append(n)
        ready = []
        for b in n.outs:
            indeg[id(b)] -= 1
            if indeg[id(b)] == 0 and id(b) not in done:
                ready.append(b)
        stack += sorted(ready, key=lambda b: pos[id(b)], reverse=True)
    return out


def _doc(comp: list[_Node], k: int, flow=(0.0, 1.0)) -> dict:
    order = _order(comp, flow)
    layers, last_name, used = [], {}, {}
    for n in order:
        ins = [last_name[id(a)] for a in n.ins if id(a) in last_name]
        prev = ins
        for r in range(max(1, n.repeat) if len(n.layers) >= 1 and n.layers[0]["layer_type"] != "Input" else 1):
            for l in n.layers:
                t = l["layer_type"]
                used[t] = used.get(t, 0) + 1
                name = f"{re.sub(r'[^a-z0-9]', '', t.lower()) or 'layer'}{used[t]}"
                entry = {"layer_type": t, "layer_name": name, "layer_params": dict(l.get("layer_params", {})),
                         "from_layers": list(prev), "meta": dict(l.get("meta", {}))}
                entry["meta"]["figure_box"] = [round(v, 1) for v in n.box]
                if n.group_tag:
                    entry["meta"]["repeat_group"], entry["meta"]["repeat_symbol"] = n.group_tag
                layers.append(entry)
                prev = [name]
        last_name[id(n)] = prev[0] if prev else None
    return {"schema_version": 1, "name": f"figure_graph{k + 1}", "description": "",
            "source": {"reader": "vector graph", "issues": []}, "layers": layers}


__all__ = ["read_vector_graph"]
