"""From boxes, arrows and readings to our graph document.

* The look is voted by the boxes' text (Keras 3 headers and shape cells,
  Keras 2 'input:'/'output:' cells, Caffe types and parameters).
* Caffe blobs (a name and no type) are not layers: their producer (the arrow
  into the blob, or the layer of the same name) is joined to every consumer.
* Each layer accepts as many inputs as its type allows (Concat: any number,
  Input: none, others: one); a surplus arrow is dropped, the one whose
  source's output shape disagrees with the layer's input shape first.
* Shapes put right what a tangle of crossing arrows got wrong: a Concat
  whose input cell lists its input shapes gets one input per listed shape,
  and a layer that feeds nothing takes the arrow of its same-shape twin.
* Hyper-parameters come from the text: output shapes (filters, units,
  output_dim, return_sequences, the Input shape), input and output sizes
  (Conv2D kernel, stride 1 and valid padding as Keras draws them), Caffe
  labels (kernel size, stride, pad) and Caffe edge labels (num_output).
  Parameters a graph needs but the diagram does not show are filled with
  defaults and listed in the layer's ``meta.guessed``.
"""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from .labels import Reading


@dataclass
class Box:
    index: int
    box: tuple[int, int, int, int]
    reading: Reading
    role: str = "layer"                  # layer | blob | unknown
    layer_type: str | None = None
    name: str = ""
    params: dict = field(default_factory=dict)
    guessed: list[str] = field(default_factory=list)
    confidence: float = 0.0
    rank: float = 0.0
    edge_label: int | None = None        # Caffe num_output on the arrow leaving the layer


def detect_look(readings: list[Reading]) -> str:
    votes = Counter()
    for r in readings:
        if r.style == "keras":
            votes["keras2"] += 0.5
            votes["keras3"] += 0.5
        elif r.style:
            votes[r.style] += 1
        if r.layer_type is None and r.name and not r.type_raw:
            votes["caffe"] += 0.5         # a bare name: a blob
    if not votes:
        return "unknown"
    return votes.most_common(1)[0][0]


def assign_roles(boxes: list[Box], look: str) -> None:
    names = {b.reading.name for b in boxes if b.reading.layer_type and b.reading.name}
    for b in boxes:
        r = b.reading
        if r.layer_type is not None:
            b.role = "layer"
            b.layer_type = r.layer_type
            b.confidence = r.confidence
        elif look == "caffe" and r.name and not r.type_raw:
            b.role = "blob"
            b.confidence = 0.9 if r.name in names else 0.6
        elif r.name_type is not None:
            b.role = "layer"
            b.layer_type = r.name_type
            b.confidence = 0.4
        else:
            b.role = "unknown"
        b.name = r.name or ""


def _best_name_match(name: str, candidates: list[Box]) -> Box | None:
    best, score = None, 0.0
    for c in candidates:
        s = fuzz.ratio(name, c.name)
        if s > score:
            best, score = c, s
    return best if score >= 85 else None


def layer_edges(boxes: list[Box], arrows: list[tuple[int, int, float]], look: str) -> list[tuple[int, int, float]]:
    """Arrows between layers, Caffe blobs collapsed."""
    by_index = {b.index: b for b in boxes}
    out: dict[tuple[int, int], float] = {}
    blobs = [b for b in boxes if b.role == "blob"]
    layers = [b for b in boxes if b.role == "layer"]
    producers: dict[int, list[tuple[int, float]]] = defaultdict(list)
    consumers: dict[int, list[tuple[int, float]]] = defaultdict(list)
    for s, t, conf in arrows:
        bs, bt = by_index.get(s), by_index.get(t)
        if bs is None or bt is None:
            continue
        if bs.role == "layer" and bt.role == "layer":
            if look != "caffe" or not blobs:     # a Caffe layer writes a blob, never a layer
                out[(s, t)] = max(out.get((s, t), 0.0), conf)
        elif bs.role == "layer" and bt.role == "blob":
            producers[t].append((s, conf))
        elif bs.role == "blob" and bt.role == "layer":
            consumers[s].append((t, conf))
    exact = {}
    for lay in layers:
        exact.setdefault(lay.name, lay)
    for b in blobs:
        prods = producers.get(b.index, [])
        if b.name in exact:
            # Caffe names a blob after the layer that writes it
            producer, pc = exact[b.name].index, max([c for p, c in prods if p == exact[b.name].index] or [0.9])
        elif len(prods) == 1:
            producer, pc = prods[0]
        elif prods:
            producer, pc = max(prods, key=lambda pc_: fuzz.ratio(b.name, by_index[pc_[0]].name))
        else:
            named = _best_name_match(b.name, layers) if b.name else None
            if named is None:
                continue
            producer, pc = named.index, 0.6
        for c, cc in consumers.get(b.index, []):
            if producer != c:
                out[(producer, c)] = max(out.get((producer, c), 0.0), min(pc, cc))
    return [(s, t, c) for (s, t), c in out.items()]


def enforce_arity(boxes: list[Box], edges: list[tuple[int, int, float]]) -> list[tuple[int, int, float]]:
    by_index = {b.index: b for b in boxes}
    incoming: dict[int, list[tuple[int, int, float]]] = defaultdict(list)
    for e in edges:
        incoming[e[1]].append(e)
    keep = []
    for t, es in incoming.items():
        b = by_index[t]
        if b.layer_type == "Input":
            continue
        if b.layer_type in ("Concat", "Add") or len(es) == 1:
            keep.extend(es)
            continue
        want = b.reading.in_shapes[0] if b.reading.in_shapes else None

        def score(e):
            src = by_index[e[0]]
            match = 1.0 if (want is not None and src.reading.out_shape == want) else 0.0
            return (match, e[2], -abs(src.rank - b.rank))
        keep.append(max(es, key=score))
    return keep


def compatible(src: Box, dst: Box) -> bool | None:
    """Can `src` feed `dst`, by the shapes the diagram shows?  None: unknown."""
    u = src.reading.out_shape
    v = dst.reading.out_shape
    t = dst.layer_type
    if u is None:
        return None
    if dst.reading.in_shapes:
        return u in dst.reading.in_shapes
    if v is None or t is None:
        return None
    if t in ("Dropout", "Activation", "BatchNorm"):
        return u == v
    if t in ("Concat", "Add"):
        return u[:-1] == v[:-1] and (u[-1] < v[-1] if t == "Concat" else u[-1] == v[-1])
    if t == "Flatten":
        prod = 1
        for x in u:
            prod *= x
        return len(v) == 1 and prod == v[0]
    if t == "Dense":
        return len(u) == len(v) and u[:-1] == v[:-1]
    if t in ("Conv2D", "MaxPool2D", "AvgPool2D"):
        if len(u) != 3 or len(v) != 3:
            return False
        ok = u[0] >= v[0] and u[1] >= v[1]
        if t != "Conv2D":
            ok = ok and u[2] == v[2]
        return ok
    if t == "Embedding":
        return len(u) == 1 and len(v) == 2 and v[0] == u[0]
    if t in ("SimpleRNN", "LSTM", "GRU"):
        return len(u) == 2 and (len(v) == 1 or v[0] == u[0])
    return None


def repair_with_shapes(boxes: list[Box], edges: list[tuple[int, int, float]],
                       alternatives: list[tuple[int, int, float]],
                       siblings: dict[int, frozenset[int]] | None = None) -> list[tuple[int, int, float]]:
    """Swap an arrow the shapes contradict for a close second the shapes
    accept; give a Concat the inputs whose channels add up to its own.

    `siblings` maps a box to the boxes that share a tangle of ink with it
    (crossing or merged arrows): when such a tangle gives a Concat a wrong
    tail, or none, the right one is among them (see `concat_slots`)."""
    by = {b.index: b for b in boxes}
    layer = {b.index for b in boxes if b.role == "layer"}
    alts = [a for a in alternatives if a[0] in layer and a[1] in layer]
    incoming: dict[int, list[tuple[int, int, float]]] = defaultdict(list)
    for e in edges:
        incoming[e[1]].append(e)
    out = list(edges)
    for v in layer:
        dst = by[v]
        if dst.layer_type in (None, "Input") or dst.reading.out_shape is None:
            continue
        cur = incoming.get(v, [])
        cand = [a for a in alts if a[1] == v and not any(e[0] == a[0] for e in cur)]
        if dst.layer_type == "Concat":
            fixed = concat_slots(by, dst, cur, cand, siblings or {})
            if fixed is not None:
                out = [e for e in out if e[1] != v] + fixed
                continue
            want = dst.reading.out_shape[-1]
            srcs = [by[e[0]].reading.out_shape for e in cur]
            if any(s_ is None for s_ in srcs) or sum(s_[-1] for s_ in srcs) == want:
                continue
            # drop inputs the shapes reject, then add accepted seconds until the channels add up
            keep = [e for e in cur if compatible(by[e[0]], dst) is not False]
            total = sum(by[e[0]].reading.out_shape[-1] for e in keep)
            for a in sorted(cand, key=lambda a: -a[2]):
                if total >= want:
                    break
                if compatible(by[a[0]], dst) and total + by[a[0]].reading.out_shape[-1] <= want:
                    keep.append(a)
                    total += by[a[0]].reading.out_shape[-1]
            if total == want:
                out = [e for e in out if e[1] != v] + keep
            continue
        bad = [e for e in cur if compatible(by[e[0]], dst) is False]
        good_alts = sorted((a for a in cand if compatible(by[a[0]], dst)), key=lambda a: -a[2])
        if (bad and len(bad) == len(cur) or not cur) and good_alts:
            out = [e for e in out if e not in bad] + [good_alts[0]]
    return retail_dangling(by, layer, out, siblings or {})


def retail_dangling(by: dict[int, Box], layer: set[int], edges: list[tuple[int, int, float]],
                    siblings: dict[int, frozenset[int]]) -> list[tuple[int, int, float]]:
    """A layer that feeds nothing (other than the last one) lost its arrow
    in a tangle: give it the arrow of a box in the same tangle whose output
    shape is the same and which has another consumer left, when exactly one
    such arrow runs downstream of it (a Dense and the Dropout after it, two
    parallel lines a pixel apart)."""
    fed = defaultdict(list)
    for e in edges:
        fed[e[0]].append(e)
    sinks = [i for i in layer if not fed.get(i)]
    if len(sinks) < 2:
        return edges
    last = max(sinks, key=lambda i: by[i].rank)
    out = list(edges)
    for lay in sorted(sinks, key=lambda i: by[i].rank):
        if lay == last:
            continue
        shape = by[lay].reading.out_shape
        near = siblings.get(lay, frozenset())
        if shape is None or not near:
            continue
        options = [e for e in out if e[1] in near and e[0] != lay and by[e[1]].rank > by[lay].rank
                   and by[e[0]].reading.out_shape == shape and len(fed[e[0]]) >= 2]
        if len(options) != 1:
            continue
        e = options[0]
        out.remove(e)
        fed[e[0]].remove(e)
        new = (lay, e[1], min(e[2], 0.5))
        out.append(new)
        fed[lay].append(new)
    return out


def concat_slots(by: dict[int, Box], dst: Box, cur: list[tuple[int, int, float]],
                 cand: list[tuple[int, int, float]],
                 siblings: dict[int, frozenset[int]]) -> list[tuple[int, int, float]] | None:
    """The inputs of a Concat whose input cell lists its input shapes (Keras
    3 and Keras 2 print one shape per input): each listed shape is one slot.
    Arrows fill the slots of their source's output shape, surest first; a
    slot left empty takes an alternative arrow, else a box that shares a
    tangle of arrows with the Concat, whose output shape fits and which lies
    upstream.  None when the shapes are unread, do not add up to
    the output (a misread), already agree, or cannot be filled one way only."""
    want = dst.reading.in_shapes
    out_shape = dst.reading.out_shape
    if not want or len(want) < 2 or out_shape is None:
        return None
    if any(len(w) != len(out_shape) or w[:-1] != out_shape[:-1] for w in want) \
            or sum(w[-1] for w in want) != out_shape[-1]:
        return None
    srcs = [by[e[0]].reading.out_shape for e in cur]
    if len(cur) == len(want) and Counter(srcs) == Counter(want):
        return None
    free = Counter(want)
    keep = []
    for e in sorted(cur, key=lambda e: -e[2]):
        u = by[e[0]].reading.out_shape
        if u is not None and free[u] > 0:
            free[u] -= 1
            keep.append(e)
    missing = list(free.elements())
    if not missing:
        return keep
    taken = {e[0] for e in keep}
    pool = siblings.get(dst.index, frozenset())
    for shape in sorted(set(missing), key=missing.index):
        need = missing.count(shape)
        alt = sorted({a[0]: a for a in cand if a[0] not in taken
                      and by[a[0]].reading.out_shape == shape}.values(), key=lambda a: -a[2])
        picks = alt[:need]
        if len(picks) < need:
            near = [i for i in pool if i not in taken and i != dst.index and i not in {a[0] for a in picks}
                    and by[i].role == "layer" and by[i].reading.out_shape == shape and by[i].rank < dst.rank]
            if len(near) != need - len(picks):
                return None
            picks += [(i, dst.index, 0.5) for i in near]
        for a in picks:
            taken.add(a[0])
            keep.append((a[0], dst.index, a[2]))
    return keep


def _width(b: Box, out, key: str, default: int, p: dict, guessed: list[str], rank: int | None = None) -> None:
    """p[key] = the layer's width: the last dimension of its output shape (of
    `rank` dimensions, when given), else the number on its Caffe arrow, else
    `default`, recorded as guessed."""
    if out and (rank is None or len(out) == rank):
        p[key] = out[-1]
    elif b.edge_label:
        p[key] = b.edge_label
    else:
        p[key] = default
        guessed.append(key)


def infer_params(b: Box, in_shape: tuple[int, ...] | None) -> None:
    """Hyper-parameters from what the box shows."""
    r, t = b.reading, b.layer_type
    out = r.out_shape
    p: dict = {}
    guessed: list[str] = []
    if t == "Input":
        shape = list(out) if out else None
        if shape:
            p["shape"] = shape
            if len(shape) == 1:
                p["dtype"] = "int64"
        else:
            p["shape"], p["dtype"] = [224, 224, 3], "float32"
            guessed.append("shape")
    elif t == "Conv2D":
        _width(b, out, "filters", 32, p, guessed, rank=3)
        if "kernel" in r.caffe:
            p["kernel_size"] = r.caffe["kernel"]
            p["strides"] = r.caffe.get("stride", 1)
            pad = r.caffe.get("pad", 0)
            p["padding"] = "valid" if pad == 0 else pad
        elif out and in_shape and len(out) == 3 and len(in_shape) == 3 and in_shape[0] >= out[0]:
            p["kernel_size"] = in_shape[0] - out[0] + 1
        else:
            p["kernel_size"] = 3
            guessed.append("kernel_size")
    elif t in ("MaxPool2D", "AvgPool2D"):
        if "kernel" in r.caffe:
            p["pool_size"] = r.caffe["kernel"]
            p["strides"] = r.caffe.get("stride", r.caffe["kernel"])
        else:
            k, s = _pool_guess(in_shape, out)
            p["pool_size"], p["strides"] = k, s
            guessed += ["pool_size", "strides"]
    elif t == "Dense":
        _width(b, out, "units", 10, p, guessed)
    elif t == "Dropout":
        p["rate"] = 0.5
        guessed.append("rate")
    elif t == "Embedding":
        p["input_dim"] = 10000
        guessed.append("input_dim")
        _width(b, out, "output_dim", 64, p, guessed)
    elif t in ("SimpleRNN", "LSTM", "GRU"):
        if out:
            p["units"] = out[-1]
            p["return_sequences"] = len(out) == 2
        else:
            p["units"] = b.edge_label or 16
            guessed.append("units")
            p["return_sequences"] = False
            guessed.append("return_sequences")
    elif t == "Activation":
        p.update(r.implied)
        p.setdefault("function", "relu")
    else:
        p.update({k: v for k, v in r.implied.items()})
    b.params, b.guessed = p, guessed


def _pool_guess(in_shape, out) -> tuple[int, int]:
    """A pool window and stride that map the input size to the output size."""
    if not (in_shape and out and len(in_shape) == 3 and len(out) == 3):
        return 2, 2
    n, m = in_shape[0], out[0]
    for s in (2, 3, 4, 5, 1):
        for k in (2, 3, 1, 5, 7, 9, 11, 4, 6, 8, 10):
            if k <= n and (n - k) // s + 1 == m:
                return k, s
    return 2, 2


_NAME_OK = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-/]*$")


def unique_names(layers: list[Box]) -> None:
    seen: Counter = Counter()
    for b in layers:
        name = b.name if b.name and _NAME_OK.match(b.name) else ""
        if not name:
            base = re.sub(r"[^a-z0-9]", "_", (b.layer_type or "layer").lower())
            name = base
        if seen[name]:
            k = seen[name]
            while f"{name}_{k}" in seen:
                k += 1
            seen[name] += 1
            name = f"{name}_{k}"
        seen[name] += 1
        b.name = name


def toposort(layers: list[Box], edges: list[tuple[int, int, float]]) -> list[Box]:
    indeg = {b.index: 0 for b in layers}
    cons = defaultdict(list)
    for s, t, _ in edges:
        if s in indeg and t in indeg:
            indeg[t] += 1
            cons[s].append(t)
    by = {b.index: b for b in layers}
    ready = sorted((b for b in layers if indeg[b.index] == 0), key=lambda b: b.rank)
    order = []
    while ready:
        b = ready.pop(0)
        order.append(b)
        for c in cons[b.index]:
            indeg[c] -= 1
            if indeg[c] == 0:
                ready.append(by[c])
                ready.sort(key=lambda x: x.rank)
    rest = [b for b in layers if b not in order]
    return order + sorted(rest, key=lambda b: b.rank)


def build_graph(boxes: list[Box], arrows: list[tuple[int, int, float]], look: str,
                name: str = "diagram", alternatives: list[tuple[int, int, float]] | None = None,
                siblings: dict[int, frozenset[int]] | None = None
                ) -> tuple[dict, list[tuple[int, int, float]], list[Box]]:
    """Graph document, layer edges (box indices) and the layers in order."""
    assign_roles(boxes, look)
    edges = layer_edges(boxes, arrows, look)
    edges = repair_with_shapes(boxes, edges, alternatives or [], siblings)
    edges = enforce_arity(boxes, edges)
    layers = [b for b in boxes if b.role == "layer"]
    order = toposort(layers, edges)
    unique_names(order)
    by = {b.index: b for b in boxes}
    inputs = defaultdict(list)
    for s, t, _ in sorted(edges, key=lambda e: by[e[0]].rank):
        inputs[t].append(s)
    for b in order:
        src = inputs.get(b.index, [])
        in_shape = None
        if b.reading.in_shapes:
            in_shape = b.reading.in_shapes[0]
        elif src and by[src[0]].reading.out_shape:
            in_shape = by[src[0]].reading.out_shape
        infer_params(b, in_shape)
    doc_layers = []
    for b in order:
        entry = {"layer_type": b.layer_type, "layer_name": b.name, "layer_params": b.params}
        src = [by[s].name for s in inputs.get(b.index, []) if by[s].role == "layer"]
        if src:
            entry["from_layers"] = src
        meta = {"box": list(b.box), "confidence": round(b.confidence, 3)}
        if b.guessed:
            meta["guessed"] = b.guessed
        entry["meta"] = meta
        doc_layers.append(entry)
    doc = {"name": name, "description": f"read from a {look} diagram", "layers": doc_layers}
    return doc, edges, order
