"""3D-box and stacked feature-map figures read from their printed words and numbers.

    doc, info = stage_graph(segments, figure_box)

Owns the reading of a figure that draws a network as a row of tensors (cuboids in perspective,
stacks of planes, flat bars) and names each stage in text: "Layer 1: convolutional" over a
cuboid with its channel count under it, "C1: feature maps 6@28x28" over a stack of planes,
"Conv6 (FC6)" inside a slab with "Conv: 3x3x1024" under it, "fully connected" over a bar with
"1024" under it.  The shapes themselves are not needed: the words are, and they come from the
PDF's text (upright or turned) or from OCR.

1. Text lines that touch vertically are joined into blocks ("Layer 1:" over "convolutional").
2. A *stage heading* names the layer that makes a tensor and says it is a stage: a layer word
   with a marker ("Layer 3: fully connected", "convolutional", "C3: f. maps 16@10x10",
   "F6: layer 84", "OUTPUT 10", "INPUT 32x32", "Conv7 (FC7)").  An *operation label* names
   only an operation ("Max pooling (8X4)", "Dense", "Subsampling", "Full connection",
   "Conv: 1x1x256").
3. Stages run along the flow (left to right, or top to bottom when the headings are stacked).
   Each number printed alone belongs to the nearest stage; a stage's width (filters or units)
   is its own count ("6@28x28", "layer 120") or the number printed lowest in its column (the
   channel count under a cuboid, the units under a bar).
4. A pooling label belongs to the stage whose column holds it and follows that stage's layer
   ("Max pooling (8X4)": MaxPool2D 8x4; "Subsampling", "S2": AvgPool2D).  A kernel printed in
   an operation label ("Conv: 3x3x1024") gives the stage's kernel and filters.

At least two stage headings are needed, else no reading (``None``).

A drawing of cuboids with numbers and no headings (:func:`volume_graph`) is read from its shapes:
the closed faces and strokes that touch make a volume; volumes run left to right (two drawn one
over the other are one stage: parallel streams); a volume's numbers are its spatial size (the
number printed twice), its channels (the number printed once; parallel streams add up) and the
kernel of the next layer (a small pair drawn inside it); "stride of 4" beside a volume is the
next convolution's stride; "max pooling" under or after a volume follows its convolution; a flat
bar ("dense", one number) is a fully connected layer.
"""
from __future__ import annotations

import re

from ..core.dsu import DisjointSet
from .common import inside
from .page import Graphic, Segment

STAGE_PREFIX = re.compile(r"^\s*(?:layer\s*)?([CSF])\s*(\d+)\s*[:.]?\s*(?=\S)", re.I)
MAPS = re.compile(r"(\d+)\s*@\s*(\d+)\s*[x×*]\s*(\d+)")
COUNT = re.compile(r"\b(?:layer|units?|output|outputs)\s*:?\s*(\d+)\b(?!\s*:)", re.I)   # not "Layer 1:"
SIZE = re.compile(r"(\d+)\s*[x×X*]\s*(\d+)(?:\s*[x×X*]\s*(\d+))?")
NUMBER = re.compile(r"^\s*(\d+)\b")
WORDS = [  # (pattern, type, is a stage marker by itself)
    (re.compile(r"\b(?:vgg|resnet|darknet|mobilenet|backbone)", re.I), "Backbone", True),
    (re.compile(r"\binput\b|\bimage\b", re.I), "Input", True),
    (re.compile(r"\boutput\b", re.I), "Dense", True),
    (re.compile(r"\bconvolutional\b|\bconv\s*\d|\bconvolution layer", re.I), "Conv2D", True),
    (re.compile(r"\bfully[ -]?connected\b|\bfc\s*\d", re.I), "Dense", True),
    (re.compile(r"\bsoft-?max\b", re.I), "Softmax", True),
    (re.compile(r"\bmax[ -]?pool|\bpooling\b|\bpool\b", re.I), "MaxPool2D", False),
    (re.compile(r"\bavg[ -]?pool|\baverage[ -]?pool|\bsub-?sampling\b|\bmean[ -]?pool", re.I), "AvgPool2D", False),
    (re.compile(r"\bconvolutions?\b|\bconv\b", re.I), "Conv2D", False),
    (re.compile(r"\bdense\b|\bfull(?:y)?[ -]?connection\b|\bgaussian connections?\b", re.I), "Dense", False),
]
POOLS = ("MaxPool2D", "AvgPool2D")


def _size(m: re.Match):
    """A printed size "8X4" / "3x3" (a SIZE match) as a kernel or pool size: one number or a pair."""
    return int(m.group(1)) if m.group(1) == m.group(2) else [int(m.group(1)), int(m.group(2))]


def _chain_doc(layers: list[dict], name: str, reader: str) -> dict:
    """Layers read in order (``layer_type``, ``layer_params``, ``meta``) as a graph doc, each fed by
    the one before, named by type and position."""
    prev, out = None, []
    for i, l in enumerate(layers):
        nm = f"{re.sub(r'[^a-z0-9]', '', l['layer_type'].lower())}{i + 1}"
        out.append({"layer_type": l["layer_type"], "layer_name": nm, "layer_params": l["layer_params"],
                    "from_layers": [prev] if prev else [], "meta": l["meta"]})
        prev = nm
    return {"schema_version": 1, "name": name, "description": "", "source": {"reader": reader, "issues": []},
            "layers": out}


class _Block:
    def __init__(self, segs: list[Segment]):
        self.segs = segs
        self.box = [min(s.x0 for s in segs), min(s.top for s in segs), max(s.x1 for s in segs),
                    max(s.bottom for s in segs)]
        self.text = " ".join(s.text for s in sorted(segs, key=lambda s: (round(s.top), s.x0))).strip()
        self.cx = (self.box[0] + self.box[2]) / 2
        self.cy = (self.box[1] + self.box[3]) / 2


def _blocks(segs: list[Segment]) -> list[_Block]:
    """Text lines joined into blocks: a line right under another, overlapping it across."""
    segs = sorted(segs, key=lambda s: (s.top, s.x0))
    groups: list[list[Segment]] = []
    for s in segs:
        h = s.bottom - s.top
        for g in groups:
            last = g[-1]
            ov = min(s.x1, last.x1) - max(s.x0, last.x0)
            numeric = [bool(re.fullmatch(r"[\d\s]+", x.text)) for x in (s, last)]
            if -0.4 * h <= s.top - last.bottom <= 0.6 * max(h, last.bottom - last.top) and \
                    ov >= 0.3 * min(s.x1 - s.x0, last.x1 - last.x0) and numeric[0] == numeric[1]:
                g.append(s)
                break
        else:
            groups.append([s])
    return [_Block(g) for g in groups]


def _kind(text: str) -> tuple[str | None, bool]:
    """(layer type the words name, whether they mark a stage) for a block's text."""
    m = STAGE_PREFIX.match(text)
    if m and (MAPS.search(text) or re.search(r"maps|layer|\d", text[m.end():], re.I)):
        return {"C": "Conv2D", "S": "AvgPool2D", "F": "Dense"}[m.group(1).upper()], True
    if re.match(r"^\s*conv\s*\d+(?:_\d+)?\b", text, re.I):        # "Conv6 (FC6)", "Conv8_2"
        return "Conv2D", True
    for rx, typ, marker in WORDS:
        if rx.search(text):
            return typ, marker or bool(re.search(r"\blayer\s*\d", text, re.I))
    return None, False


def stage_graph(segments: list[Segment], box: list[float], *, min_layers: int = 3) -> tuple[dict | None, dict]:
    """A figure's stages read from its words (see the module docstring): (graph doc or None, what
    happened)."""
    info: dict = {"reader": "stages"}
    segs = [s for s in segments if inside(s.box, box, 2) and s.text.strip()]
    if segs:      # a "word" much taller than the others is OCR reading a drawing's strokes
        hs = sorted(s.bottom - s.top for s in segs)
        med = hs[len(hs) // 2]
        segs = [s for s in segs if s.bottom - s.top <= 2.5 * med]
    blocks = _blocks(segs)
    heads, ops, nums, led = [], [], [], []
    for b in blocks:
        typ, marker = _kind(b.text)
        if typ and marker:
            heads.append((b, typ))
            continue
        if NUMBER.match(b.text) and re.fullmatch(r"[\d\s]+", b.text):
            nums.append(b)
            continue
        if typ:
            ops.append((b, typ))
        # a number printed in front of a label ("64 Max pooling"): a number of its own
        m = re.match(r"^\s*(\d+)\s+(?=[A-Za-z])", b.text)
        if m:
            nb = _Block(b.segs)
            nb.text = m.group(1)
            led.append(nb)
    nums += led
    # a plot's legend or a results chart ("fc6 ... mAP 66.9% @ 320ms", the same names twice) is no
    # drawing of stages
    heads = [(b, t) for b, t in heads if not re.search(r"%|\bms\b|\bmap\b|\[\d+\]|\bfps\b|\bacc", b.text, re.I)]
    texts = [re.sub(r"\W+", " ", b.text.lower()).strip() for b, _ in heads]
    repeated = len(texts) - len(set(texts))
    if len(heads) < 2 or repeated * 3 > len(heads) or (len(heads) - sum(1 for _, t in heads if t in ("Input", "Backbone"))) < 2:
        info.update(status="no_diagram", layers=0,
                    why=f"{len(heads)} stage heading(s) among the figure's words"
                        + (f", {repeated} of them repeated (a legend, not stages)" if repeated * 3 > len(heads) else ""))
        return None, info
    xs = [b.cx for b, _ in heads]
    ys = [b.cy for b, _ in heads]
    across = (max(xs) - min(xs)) >= (max(ys) - min(ys))
    key = (lambda b: b.cx) if across else (lambda b: b.cy)
    heads.sort(key=lambda h: key(h[0]))

    def column(b: _Block) -> int:
        return min(range(len(heads)), key=lambda k: abs(key(heads[k][0]) - key(b)))

    col_nums: dict[int, list[_Block]] = {}
    lead: list[_Block] = []
    first = heads[0][0]
    for nb in nums:
        # numbers before the first stage (an input drawn without a heading) stay apart
        if heads[0][1] != "Input" and (nb.box[2] < first.box[0] - 2 if across else nb.box[3] < first.box[1] - 2) \
                and abs(key(nb) - key(first)) > 0.5 * abs(key(heads[1][0]) - key(first)):
            lead.append(nb)
            continue
        col_nums.setdefault(column(nb), []).append(nb)
    col_ops: dict[int, list[tuple[_Block, str]]] = {}
    for b, typ in ops:
        col_ops.setdefault(column(b), []).append((b, typ))

    layers: list[dict] = []

    def add(typ, params, text):
        layers.append({"layer_type": typ, "layer_params": params, "meta": {"figure_text": text}})

    if heads[0][1] != "Input":
        add("Input", {}, " ".join(n.text for n in lead) or "(the drawing's first tensor)")
    for k, (b, typ) in enumerate(heads):
        params: dict = {}
        m = MAPS.search(b.text)
        c = COUNT.search(b.text)
        width = int(m.group(1)) if m else int(c.group(1)) if c else None
        if width is None and typ not in POOLS + ("Input", "Softmax", "Backbone"):
            below = [n for n in col_nums.get(k, []) if n.box[1] >= b.box[3] - 1]
            if below:
                width = int(NUMBER.match(max(below, key=lambda n: n.box[3]).text).group(1))
        if typ == "Input":
            s = SIZE.search(b.text)
            if s:
                params["shape"] = [int(v) for v in s.groups() if v]
            add("Input", params, b.text)
            continue
        for ob, otyp in col_ops.get(k, []):
            if otyp == "Conv2D" and typ == "Conv2D":
                s = SIZE.search(ob.text)
                if s:
                    params["kernel_size"] = _size(s)
                    if s.group(3) and width is None:
                        width = int(s.group(3))
        if width is not None:
            params["units" if typ == "Dense" else "filters"] = width
        if typ in POOLS and m:
            params = {}
        add(typ, params, b.text)
        nxt = heads[k + 1][1] if k + 1 < len(heads) else None
        for ob, otyp in col_ops.get(k, []):
            # (a pooling printed between a stage and a pooling stage names that stage: "Subsampling"
            # under the gap before "S2: f. maps")
            if otyp in POOLS and typ not in POOLS and nxt not in POOLS:
                s = SIZE.search(ob.text)
                add(otyp, {"pool_size": _size(s)} if s else {}, ob.text)
    n = sum(1 for l in layers if l["layer_type"] != "Input")
    if n < min_layers:
        info.update(status="no_diagram", layers=n, why=f"{len(heads)} stage headings give {n} layers")
        return None, info
    doc = _chain_doc(layers, "figure_stages", "stages")
    info.update(status="ok", layers=n, stages=len(heads), confidence=0.5,
                labels=[b.text for b, _ in heads],
                why=f"read from the words of a 3D or stacked drawing: {len(heads)} stage headings along the "
                    f"flow, {len(nums)} numbers, {len(ops)} operation labels -> {n} layers")
    return doc, info


def _touch(a, b, tol=0.8) -> bool:
    return a[0] - tol <= b[2] and b[0] - tol <= a[2] and a[1] - tol <= b[3] and b[1] - tol <= a[3]


def volume_graph(graphics: list[Graphic], segments: list[Segment], box: list[float], *,
                 min_layers: int = 3) -> tuple[dict | None, dict]:
    """A drawing of cuboids and bars with printed numbers and no stage headings, read from its shapes
    (see the module docstring): (graph doc or None, what happened)."""
    info: dict = {"reader": "volumes"}

    shapes = [g for g in graphics if g.kind in ("rect", "curve", "line") and not g.dashed and inside(g.box, box, 2)
              and max(g.x1 - g.x0, g.bottom - g.top) >= 3]
    segs = [t for t in segments if inside(t.box, box, 2) and t.text.strip()]
    if not 3 <= len(shapes) <= 1500:
        info.update(status="no_diagram", layers=0, why=f"{len(shapes)} strokes: not a drawing of volumes")
        return None, info
    dsu = DisjointSet(len(shapes))
    order = sorted(range(len(shapes)), key=lambda i: shapes[i].x0)
    for a_i, a in enumerate(order):                   # sweep along x: only neighbours that can touch
        for b in order[a_i + 1:]:
            if shapes[b].x0 > shapes[a].x1 + 0.8:
                break
            if _touch(shapes[a].box, shapes[b].box):
                dsu.merge(a, b)
    vols = []
    for grp in dsu.groups():
        bb = [min(shapes[i].x0 for i in grp), min(shapes[i].top for i in grp), max(shapes[i].x1 for i in grp),
              max(shapes[i].bottom for i in grp)]
        if (len(grp) >= 3 or shapes[grp[0]].kind == "rect") and bb[2] - bb[0] >= 4 and bb[3] - bb[1] >= 15:
            vols.append(bb)
    # parallel streams: volumes one over the other (x ranges mostly shared) are one stage
    vols.sort(key=lambda b: b[0])
    stages: list[list[list[float]]] = []
    for v in vols:
        for st in stages:
            u = st[0]
            ov = min(u[2], v[2]) - max(u[0], v[0])
            if ov >= 0.5 * min(u[2] - u[0], v[2] - v[0]):
                st.append(v)
                break
        else:
            stages.append([v])
    stages.sort(key=lambda st: min(v[0] for v in st))
    if len(stages) < 3:
        info.update(status="no_diagram", layers=0, why=f"{len(stages)} volume(s) drawn: too few for a network")
        return None, info
    nums: dict[int, list[tuple[int, Segment]]] = {}
    words: dict[int, list[Segment]] = {}

    def nearest(t):
        c = ((t.x0 + t.x1) / 2, (t.top + t.bottom) / 2)

        def d(k):
            return min(max(v[0] - c[0], 0, c[0] - v[2]) + max(v[1] - c[1], 0, c[1] - v[3]) for v in stages[k])
        return min(range(len(stages)), key=d)

    for t in segs:
        k = nearest(t)
        if re.fullmatch(r"\d{1,5}", t.text.strip()):
            nums.setdefault(k, []).append((int(t.text), t))
        else:
            words.setdefault(k, []).append(t)
    layers: list[dict] = []

    def add(typ, params, text):
        layers.append({"layer_type": typ, "layer_params": params, "meta": {"figure_text": text}})

    def parts(k):
        """(spatial size, channels, kernel for the next layer) of stage k from its numbers: a small
        pair is a kernel, the number printed most often (twice per volume) the spatial size, the rest
        the channels (printed once per stream: the streams add up)."""
        def within(t):
            cx, cy = (t.x0 + t.x1) / 2, (t.top + t.bottom) / 2
            return any(v[0] + 1 <= cx <= v[2] - 1 and v[1] + 1 <= cy <= v[3] - 1 for v in stages[k])

        inner = [n for n, t in nums.get(k, []) if within(t) and n <= 15]     # on a kernel slice drawn inside
        vs = [n for n, t in nums.get(k, []) if not within(t)]
        kernel = sorted(set(inner), key=lambda n: (-inner.count(n), n))
        count = {n: vs.count(n) for n in set(vs)}
        big = count
        rep = [n for n, c in big.items() if c >= 2]
        spatial = max(rep, key=lambda n: (big[n], n)) if rep else None
        rest = {n: c for n, c in big.items() if n != spatial}
        chans = None
        if rest:
            n = max(rest, key=lambda n: (rest[n], n))
            chans = n * rest[n] if rest[n] == len(stages[k]) > 1 else n
        return spatial, chans, (kernel[0] if kernel else None)

    def said(k, rx):
        return next((w for w in words.get(k, []) if re.search(rx, w.text, re.I)), None)

    sizes = [parts(k) for k in range(len(stages))]
    sized = sum(1 for p in sizes if any(v is not None for v in p[:2]))
    if sized < max(3, 0.6 * len(stages)):
        info.update(status="no_diagram", layers=0,
                    why=f"{len(stages)} volumes, {sized} with printed sizes: not a drawing of sized volumes")
        return None, info
    sp, ch, kern = sizes[0]
    stride_w = said(0, r"stride\s+(?:of\s+)?\d")
    add("Input", {"shape": [sp, sp, ch]} if sp and ch else {}, "(the first volume)")
    for k in range(1, len(stages)):
        sp_k, ch_k, kern_k = sizes[k]
        flat = all(v[2] - v[0] < 0.25 * (v[3] - v[1]) for v in stages[k]) and sp_k is None
        dense_w = said(k, r"\bdense\b|fully[ -]?connected|\bfc\b") or said(k - 1, r"\bdense\b")
        if flat or dense_w:
            add("Dense", {"units": ch_k} if ch_k else {}, (dense_w.text if dense_w else "a flat bar"))
        else:
            params: dict = {}
            if ch_k:
                params["filters"] = ch_k
            if kern:
                params["kernel_size"] = kern
            if stride_w:
                params["strides"] = int(re.search(r"(\d+)", stride_w.text).group(1))
            add("Conv2D", params, f"volume {k}")
            pool = said(k, r"max[ -]?pool|pooling")
            if pool:
                add("MaxPool2D", {}, pool.text)
        kern = kern_k
        stride_w = said(k, r"stride\s+(?:of\s+)?\d")
    n = sum(1 for l in layers if l["layer_type"] != "Input")
    if n < min_layers or not nums:
        info.update(status="no_diagram", layers=n, why=f"{len(stages)} volumes, {n} layers, "
                                                       f"{sum(len(v) for v in nums.values())} numbers")
        return None, info
    doc = _chain_doc(layers, "figure_volumes", "volumes")
    info.update(status="ok", layers=n, volumes=len(vols), stages=len(stages), confidence=0.4,
                why=f"read from a drawing of volumes: {len(vols)} volumes in {len(stages)} stages along the flow, "
                    f"{sum(len(v) for v in nums.values())} numbers -> {n} layers")
    return doc, info


__all__ = ["stage_graph", "volume_graph"]
