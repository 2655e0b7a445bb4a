"""A vector block diagram read from the PDF itself: boxes are drawn paths, labels are text.

    doc, info = vector_graph(page_layout, figure_box)     # (graph doc or None, what happened)

A figure drawn with vector graphics (TikZ, matplotlib PDF, reportlab) keeps
its labels as text, so no OCR is needed: every closed shape (a rectangle or a
closed path at least 15 x 8 points) holding text is a layer box, its label is
the text inside it.  Boxes are ordered along the flow (top to bottom when the
boxes spread more vertically, else left to right); a line or arrowhead in the
gap between two consecutive boxes counts as their connection, and the share
of consecutive pairs so connected is the reading's confidence.  Labels go
through the table vocabulary (:func:`.table_graph.table_to_graphs` on a
one-column table), so "conv 3×3, 64", "max pool /2", "fc 4096" and "softmax"
become layers with their parameters.  Only chains are read this way (a
branching vector diagram goes to the raster diagram reader).  When the boxes' labels name no
layers (a 3D or stacked drawing labelled beside its shapes), the drawing's whole text read in
order is tried as one description, at a low confidence.
"""
from __future__ import annotations

from .common import inside as _inside, union
from .page import PageLayout


def vector_graph(page: PageLayout, box: list[float], *, min_layers: int = 3,
                 caption: str = "") -> tuple[dict | None, dict]:
    """The figure's graph: as a graph of boxes, wires and junctions (:mod:`.vecgraph`) when its
    wires connect most of its labelled boxes, else as the chain of its boxes (below).  Further
    networks drawn beside the first (disconnected parts) are in ``info["alternatives"]``."""
    from .stagefig import stage_graph, volume_graph
    from .vecgraph import read_vector_graph

    docs, ginfo = read_vector_graph(page, box, caption=caption, min_layers=min_layers)
    if docs and ginfo.get("confidence", 0) >= GRAPH_CONNECTED:
        ginfo["tried"] = True
        ginfo["alternatives"] = docs[1:]
        return docs[0], ginfo
    doc, info = _chain_graph(page, box, min_layers=min_layers)
    if ginfo.get("why"):
        info["graph_reader"] = ginfo["why"]
    if doc is None or info.get("reader") == "vector text":
        # no boxes labelled with layers: a 3D or stacked drawing named stage by stage in its words
        sdoc, sinfo = stage_graph(list(page.segments) + list(page.turned), box, min_layers=min_layers)
        if sdoc is not None:
            sinfo["tried"] = True
            return sdoc, sinfo
        info["stage_reader"] = sinfo.get("why", "")
        # no headings either: cuboids and bars with their sizes printed on them
        vdoc, vinfo = volume_graph(page.graphics, list(page.segments) + list(page.turned), box,
                                   min_layers=min_layers)
        if vdoc is not None:
            vinfo["tried"] = True
            return vdoc, vinfo
        info["volume_reader"] = vinfo.get("why", "")
    return doc, info


GRAPH_CONNECTED = 0.5       # share of labelled boxes the wires must connect for a graph reading


def _chain_graph(page: PageLayout, box: list[float], *, min_layers: int = 3) -> tuple[dict | None, dict]:
    info: dict = {"reader": "vector", "tried": True}
    graphics = [g for g in page.graphics if _inside(g.box, box, 2.0)]
    shapes = [g for g in graphics if g.kind in ("rect", "curve") and g.x1 - g.x0 >= 15 and g.bottom - g.top >= 8]
    segs = [s for s in page.segments if _inside(s.box, box, 2.0)]
    boxes = []
    for g in shapes:
        inner = [s for s in segs if _inside(s.box, g.box, 0.5)]
        if not inner:
            continue
        label = " ".join(s.text for s in sorted(inner, key=lambda s: (round(s.top), s.x0)))
        boxes.append((g, label))
    # a box nested in another box with the same text is one box
    boxes = [(g, t) for g, t in boxes if not any(o is not g and t == u and _inside(g.box, o.box) for o, u in boxes)]
    if len(boxes) < min_layers:
        info.update(status="no_diagram", layers=0, why=f"{len(boxes)} labelled box(es) in the vector drawing")
        return None, info
    xs = [(g.x0 + g.x1) / 2 for g, _ in boxes]
    ys = [(g.top + g.bottom) / 2 for g, _ in boxes]
    vertical = (max(ys) - min(ys)) >= (max(xs) - min(xs))
    boxes.sort(key=lambda b: ((b[0].top, b[0].x0) if vertical else (b[0].x0, b[0].top)))
    links = 0
    for (a, _), (b, _) in zip(boxes, boxes[1:]):
        if vertical:
            gap_box = [min(a.x0, b.x0), a.bottom - 1, max(a.x1, b.x1), b.top + 1]
        else:
            gap_box = [a.x1 - 1, min(a.top, b.top), b.x0 + 1, max(a.bottom, b.bottom)]
        if gap_box[2] > gap_box[0] and gap_box[3] > gap_box[1] and \
                any(_inside(g.box, gap_box, 1.0) or (g.kind in ("line", "curve") and _overlaps(g.box, gap_box))
                    for g in graphics if g not in [x for x, _ in boxes]):
            links += 1
    conf = round(links / (len(boxes) - 1), 3)
    doc, n = _read_labels([[t] for _, t in boxes])
    info.update(layers=n, confidence=conf, labels=[t for _, t in boxes], box=union([g.box for g, _ in boxes]),
                issues=[i.get("message", "") for i in (doc or {}).get("source", {}).get("issues", [])])
    if doc is None or n < min_layers:
        # a drawing labelled beside its shapes ("Layer 1: convolutional" over a cuboid): its text in
        # reading order (top to bottom, left to right), as one description
        text = " ".join(s.text for s in sorted(segs, key=lambda s: (round(s.top / 3), s.x0)))
        text_doc, m = _read_labels([[text]]) if text else (None, 0)
        if text_doc is not None and m >= min_layers:
            info.update(status="ok", layers=m, confidence=0.3, reader="vector text",
                        why=f"the boxes' labels name no layers ({n} of {len(boxes)}); the drawing's text, read in "
                            f"order, names {m} layers (a 3D or stacked drawing labelled beside its shapes)")
            return text_doc, info
        info.update(status="no_diagram", why=f"only {n} of {len(boxes)} box labels name a layer")
        return None, info
    info.update(status="ok", why=f"read from the PDF's vector drawing: {n} layers, {links} of {len(boxes) - 1} "
                                 f"connections drawn")
    return doc, info


def _read_labels(cells: list[list[str]]) -> tuple[dict | None, int]:
    """Labels through the table vocabulary (a one-column table): (graph doc or None, its layers
    other than the input and inserted flattens)."""
    from .table_graph import table_to_graphs

    docs = table_to_graphs({"cells": cells, "orientation_checked": "row", "id": "figure"})
    doc = docs[0] if docs else None
    return doc, sum(1 for l in (doc or {}).get("layers", []) if l["layer_type"] not in ("Input", "Flatten"))


def _overlaps(a, b) -> bool:
    return min(a[2], b[2]) > max(a[0], b[0]) and min(a[3], b[3]) > max(a[1], b[1])


__all__ = ["vector_graph"]
