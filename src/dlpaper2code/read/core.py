"""read_diagram: image of a box diagram -> layers, arrows, graph document."""
from __future__ import annotations

import os
import time
import traceback

import cv2
import numpy as np

from . import ocr
from .assemble import Box, build_graph, detect_look
from .edges import arrows_near, find_arrows, label_words, rank_pos
from .labels import read_box
from .load import ImageProblem, describe_source, load_image
from .nodes import binarise, find_nodes

MIN_LAYERS = 2
_NUM_OUTPUT = {"Conv2D", "Dense", "Conv2DTranspose", "Conv1D", "Embedding"}


def _result(status: str, message: str, seconds: dict, **extra) -> dict:
    out = {"status": status, "message": message, "graph": None, "nodes": [], "edges": [], "seconds": seconds}
    out.update(extra)
    return out


def read_diagram(image, *, source: str | None = None) -> dict:
    """Read a box diagram (a path, encoded bytes or an array, BGR or gray).

    Returns ``{"status": "ok" | "no_diagram" | "error", "message", "graph",
    "nodes", "edges", "seconds", "look", "flow"}``; never raises on a bad
    input: the message names the input and the problem.
    """
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    name = describe_source(image, source)
    clock = time.perf_counter
    seconds: dict[str, float] = {}
    t0 = clock()
    cpu0 = _cpu()
    try:
        try:
            bgr = load_image(image)
        except ImageProblem as exc:
            seconds["total"] = round(clock() - t0, 4)
            return _result("error", f"{name}: {exc}", seconds)
        seconds["load"] = round(clock() - t0, 4)
        try:
            return _read(bgr, name, seconds, t0)
        except MemoryError:
            seconds["total"] = round(clock() - t0, 4)
            return _result("error", f"{name}: out of memory while reading a {bgr.shape[1]} x {bgr.shape[0]} image",
                           seconds)
        except Exception as exc:  # noqa: BLE001 - a reader bug must not stop a batch
            seconds["total"] = round(clock() - t0, 4)
            where = traceback.extract_tb(exc.__traceback__)[-1]
            return _result("error", f"{name}: internal error {type(exc).__name__}: {exc} "
                                    f"({os.path.basename(where.filename)}:{where.lineno})", seconds)
    finally:
        # CPU seconds of this process and of Tesseract: the time on one idle core
        seconds["cpu"] = round(_cpu() - cpu0, 4)


def _cpu() -> float:
    """User + system CPU seconds of this process and its finished children."""
    import resource

    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _read(bgr: np.ndarray, name: str, seconds: dict, t0: float) -> dict:
    clock = time.perf_counter
    t = clock()
    ink = binarise(bgr)
    nodes = find_nodes(ink)
    seconds["boxes"] = round(clock() - t, 4)
    if len(nodes) < MIN_LAYERS:
        seconds["total"] = round(clock() - t0, 4)
        what = "no closed box with text" if not nodes else "only one closed box with text"
        return _result("no_diagram", f"{name}: no diagram found ({what})", seconds)
    if len(nodes) > 2000:
        seconds["total"] = round(clock() - t0, 4)
        return _result("no_diagram", f"{name}: no diagram found ({len(nodes)} closed shapes: a texture or a "
                                     f"photo, not boxes and arrows)", seconds)
    t = clock()
    arrows, flow, info = find_arrows(ink, nodes)
    seconds["arrows"] = round(clock() - t, 4)
    # text: one Tesseract pass over a mosaic of every text cell
    t = clock()
    gray = cv2.cvtColor(ink.bgr, cv2.COLOR_BGR2GRAY)
    crops = []
    for i, n in enumerate(nodes):
        skip = _keras3_input_cell(n)
        for j, p in enumerate(n.parts):
            if j == skip:
                continue
            x0, y0, x1, y1 = p.box
            c = ocr.make_crop((i, j), gray[y0:y1, x0:x1], p.mask, p.kind == "panel", (x0, y0), ink.text_height)
            if c is not None:
                crops.append(c)
    words_free = label_words(ink, info)
    for k, (x0, y0, x1, y1) in enumerate(words_free):
        m = 2
        X0, Y0, X1, Y1 = max(0, x0 - m), max(0, y0 - m), min(gray.shape[1], x1 + m), min(gray.shape[0], y1 + m)
        c = ocr.make_crop(("label", k), gray[Y0:Y1, X0:X1], None, False, (X0, Y0), ink.text_height)
        if c is not None:
            crops.append(c)
    unique, alias = ocr.dedupe(crops)
    mosaic = ocr.build_mosaic(unique)
    seconds["crops"] = round(clock() - t, 4)
    t = clock()
    try:
        words = ocr.tesseract_words(mosaic)
    except Exception as exc:  # noqa: BLE001 - Tesseract missing or failing
        seconds["total"] = round(clock() - t0, 4)
        return _result("error", f"{name}: OCR failed ({type(exc).__name__}: {exc})", seconds)
    texts = ocr.assign(words, unique)
    ocr.copy_texts(texts, crops, alias)
    seconds["ocr"] = round(clock() - t, 4)
    t = clock()
    boxes = []
    for i, n in enumerate(nodes):
        cells = [(p.kind, texts[(i, j)].text if (i, j) in texts else "", p.box) for j, p in enumerate(n.parts)]
        reading = read_box(cells)
        b = Box(i, tuple(int(v) for v in (n.outer or n.box)), reading)
        b.rank = rank_pos(n, flow)
        boxes.append(b)
    look = detect_look([b.reading for b in boxes])
    # numbers standing by an arrow (Caffe: num_output on a layer's output arrow)
    reach = 3.0 * (ink.glyph_height or 10.0)
    for k, wbox in enumerate(words_free):
        ct = texts.get(("label", k))
        value = _number(ct.text if ct else "")
        if value is None:
            continue
        near = arrows_near(wbox, arrows, info["labels"], reach, nodes)
        # num_output labels the arrow from a Convolution / InnerProduct to its blob
        fit = [a for a in near if boxes[a.source].reading.layer_type in _NUM_OUTPUT
               and boxes[a.target].reading.layer_type is None and boxes[a.source].edge_label is None]
        arrow = fit[0] if fit else (near[0] if near else None)
        if arrow is not None and boxes[arrow.source].edge_label is None:
            boxes[arrow.source].edge_label = value
    graph, edges, order = build_graph(boxes, [(a.source, a.target, a.confidence) for a in arrows], look,
                                      alternatives=info.get("alternatives"), siblings=info.get("siblings"))
    seconds["assemble"] = round(clock() - t, 4)
    seconds["total"] = round(clock() - t0, 4)
    n_layers = sum(1 for b in boxes if b.role == "layer")
    out_nodes = [{"box": list(b.box), "text": b.reading.text, "layer_type": b.layer_type,
                  "layer_name": b.name if b.role == "layer" else (b.reading.name or ""),
                  "params": b.params, "role": b.role, "confidence": round(b.confidence, 3)} for b in boxes]
    by = {b.index: b for b in boxes}
    out_edges = [{"source": by[s].name, "target": by[tg].name, "confidence": round(c, 3),
                  "points": [list(map(float, _centre(by[s].box))), list(map(float, _centre(by[tg].box)))]}
                 for s, tg, c in edges]
    if n_layers < MIN_LAYERS:
        return _result("no_diagram", f"{name}: no diagram found ({len(nodes)} boxes, but fewer than "
                                     f"{MIN_LAYERS} name a layer type)", seconds, nodes=out_nodes, look=look,
                       flow=flow)
    message = f"{name}: {n_layers} layers, {len(edges)} connections ({look} look, flow {flow})"
    return {"status": "ok", "message": message, "graph": graph, "nodes": out_nodes, "edges": out_edges,
            "seconds": seconds, "look": look, "flow": flow, "info": info}


def _keras3_input_cell(node) -> int | None:
    """Index of the part not worth reading: a Keras 3 table (a dark header
    over a row of two cells) shows 'Input shape' left of 'Output shape',
    and the input shape is the source layer's output shape anyway."""
    panels = [p for p in node.parts if p.kind == "panel"]
    cells = [(j, p) for j, p in enumerate(node.parts) if p.kind == "interior"]
    if len(panels) != 1 or len(cells) != 2:
        return None
    (ja, a), (jb, b) = sorted(cells, key=lambda c: c[1].box[0])
    same_row = min(a.box[3], b.box[3]) - max(a.box[1], b.box[1]) > 0.5 * (a.box[3] - a.box[1])
    below = a.box[1] >= panels[0].box[1]
    # a much wider input cell lists several shapes (a Concatenate): worth reading
    narrow = (a.box[2] - a.box[0]) <= 1.25 * (b.box[2] - b.box[0])
    return ja if same_row and below and narrow and a.box[2] <= b.box[0] + 2 else None


_DIGITS = str.maketrans({"O": "0", "o": "0", "D": "0", "l": "1", "I": "1", "i": "1", "|": "1", "S": "5", "s": "5",
                         "B": "8", "Z": "2", "z": "2", "g": "9", "q": "9"})


def _number(text: str) -> int | None:
    t = text.strip().translate(_DIGITS).replace(" ", "")
    return int(t) if t.isdigit() and len(t) <= 7 else None


def _centre(box):
    return ((box[0] + box[2]) / 2.0, (box[1] + box[3]) / 2.0)
