"""render_diagram: graph + style knobs -> PNG + pixel ground truth.

The ground truth (JSON-serialisable; pixels of the written PNG, origin top
left, x right, y down)::

    {"image": "net.png", "look": "keras3", "knobs": {...every knob, resolved...},
     "width": W, "height": H,
     "nodes": [{"id": "L3", "role": "layer" | "blob", "layer": "conv1", "layer_type": "Conv2D",
                "label": "conv1 (Conv2D)\nInput shape: ...\nOutput shape: ...",
                "box": [x0, y0, x1, y1],
                "texts": [{"text": "conv1 (Conv2D)", "box": [x0, y0, x1, y1]}, ...]}],
     "edges": [{"source": "L2", "target": "L3", "from_layer": "pool1", "to_layer": "conv1",
                "points": [[x, y], ...], "head": [x, y], "label": null | "16",
                "label_box": [x0, y0, x1, y1]  (only with a label)}],
     "layer_edges": [["pool1", "conv1"], ...]}

`box` is the Graphviz node's bounding box; a text box spans the line's laid-out
width and the font's ascent to descent around its baseline; `points` is the
drawn spline sampled every ~3 px from tail to head, `head` the arrow tip.  A
Caffe blob's `layer` is the layer producing it; a layer -> blob edge has
from_layer == to_layer.  With concentrate=true, an edge whose run Graphviz
merged with a sibling's gets the shared part prepended/appended.  When
Graphviz crashed on an orthogonal layout, knobs has splines "polyline" and
"splines_fallback": "ortho".
"""
from __future__ import annotations

import json
import math
import random
import struct
from pathlib import Path

from ..core.atomic import atomic_write_bytes
from ..core.graph import Graph
from . import fonts
from .gv import GraphvizCrash, run_graphviz
from .looks import Diagram, build_diagram
from .raster import Transform, bezier_points, rasterize
from .styles import resolve_style


def _r(v: float) -> float:
    return round(float(v), 2)


def _node_box(obj: dict, tf: Transform) -> list[float]:
    x, y = (float(v) for v in obj["pos"].split(","))
    hw, hh = float(obj["width"]) * 36.0, float(obj["height"]) * 36.0
    return [_r(tf.x(x - hw)), _r(tf.y(y + hh)), _r(tf.x(x + hw)), _r(tf.y(y - hh))]


def _text_runs(ops: list[dict]) -> list[dict]:
    """T operations with their font: left/right x, baseline (points)."""
    runs, face, size, flags = [], "Times-Roman", 14.0, 0
    for op in ops:
        if op["op"] == "F":
            face, size = op["face"], float(op["size"])
        elif op["op"] == "t":
            flags = int(op["fontchar"])
        elif op["op"] == "T":
            x, y = op["pt"]
            w = float(op["width"])
            left = x - w / 2 if op["align"] == "c" else (x - w if op["align"] == "r" else x)
            runs.append({"text": op["text"], "x0": left, "x1": left + w, "y": y, "face": face,
                         "size": size, "flags": flags})
    return runs


def _lines(runs: list[dict]) -> list[list[dict]]:
    """Runs on one baseline that touch (a label's bold and plain parts) form one text line."""
    lines: list[list[dict]] = []
    for run in runs:
        if lines:
            last = lines[-1][-1]
            if abs(last["y"] - run["y"]) < 0.5 and -1.0 <= run["x0"] - last["x1"] <= 0.3 * run["size"]:
                lines[-1].append(run)
                continue
        lines.append([run])
    return lines


def _text_boxes(ops: list[dict], tf: Transform) -> list[dict]:
    out = []
    for line in _lines(_text_runs(ops)):
        text = "".join(r["text"] for r in line)
        if not text.strip():
            continue
        asc = desc = 0.0
        for r in line:
            a, d = fonts.font(r["face"], r["flags"], r["size"] * tf.s).getmetrics()
            asc, desc = max(asc, a), max(desc, d)
        base = tf.y(line[0]["y"])
        out.append({"text": text.strip(),
                    "box": [_r(tf.x(line[0]["x0"])), _r(base - asc), _r(tf.x(line[-1]["x1"])), _r(base + desc)]})
    return out


def _edge_points(edge: dict, tf: Transform) -> tuple[list, list]:
    points = []
    for op in edge.get("_draw_", []):
        if op["op"] in ("b", "B", "L"):
            pts = bezier_points(op["points"], tf) if op["op"] != "L" else [tf.pt(p) for p in op["points"]]
            if points and math.dist(points[-1], pts[0]) < 0.01:
                pts = pts[1:]
            points += pts
    head = None
    for part in edge.get("pos", "").split(";"):           # concentrated edges: several splines
        for tok in part.split():
            if tok.startswith("e,"):
                _, x, y = tok.split(",")
                head = tf.pt((float(x), float(y)))
    if head is None and points:
        head = points[-1]
    return [[_r(x), _r(y)] for x, y in points], ([_r(head[0]), _r(head[1])] if head else None)


def _dist_to_box(p, box) -> float:
    dx = max(box[0] - p[0], 0, p[0] - box[2])
    dy = max(box[1] - p[1], 0, p[1] - box[3])
    return math.hypot(dx, dy)


def _nearest(points: list, q) -> tuple[int, float]:
    best, best_d = 0, float("inf")
    for i, p in enumerate(points):
        d = math.hypot(p[0] - q[0], p[1] - q[1])
        if d < best_d:
            best, best_d = i, d
    return best, best_d


def _join_concentrated(edges: list[dict], boxes: dict, tol: float) -> None:
    """concentrate=true draws a shared run once: an edge then starts where it
    leaves a sibling from the same source, or ends where it joins a sibling
    into the same target.  Give each edge its whole visible path: the
    sibling's run up to (or from) the junction."""
    for _ in range(len(edges)):
        changed = False
        for e in edges:
            pts = e["points"]
            if len(pts) < 2:
                continue
            if _dist_to_box(pts[0], boxes[e["source"]]) > tol:
                for c in edges:
                    if c is e or c["source"] != e["source"] or len(c["points"]) < 2:
                        continue
                    if _dist_to_box(c["points"][0], boxes[c["source"]]) > tol:
                        continue
                    i, d = _nearest(c["points"], pts[0])
                    if d <= tol:
                        e["points"] = pts = c["points"][:i + 1] + pts[1:]
                        changed = True
                        break
            end = e["head"] or pts[-1]
            if _dist_to_box(end, boxes[e["target"]]) > tol:
                for c in edges:
                    if c is e or c["target"] != e["target"] or len(c["points"]) < 2 or c["head"] is None:
                        continue
                    if _dist_to_box(c["head"], boxes[c["target"]]) > tol:
                        continue
                    i, d = _nearest(c["points"], pts[-1])
                    if d <= tol:
                        e["points"] = pts[:-1] + c["points"][i:]
                        e["head"] = c["head"]
                        changed = True
                        break
        if not changed:
            return


def ground_truth(layout: dict, diagram: Diagram, knobs: dict, image_name: str, size: tuple[int, int]) -> dict:
    tf = Transform(layout["bb"], knobs["dpi"])
    objs = {o["name"]: o for o in layout.get("objects", []) if "pos" in o}
    names = {o["_gvid"]: o["name"] for o in layout.get("objects", [])}
    nodes = []
    for dn in diagram.nodes:
        obj = objs[dn.id]
        texts = _text_boxes(obj.get("_ldraw_", []), tf)
        nodes.append({"id": dn.id, "role": dn.role, "layer": dn.layer, "layer_type": dn.layer_type,
                      "label": "\n".join(t["text"] for t in texts), "box": _node_box(obj, tf), "texts": texts})
    drawn = {}
    for e in layout.get("edges", []):
        drawn.setdefault((names[e["tail"]], names[e["head"]]), e)
    edges = []
    for de in diagram.edges:
        e = drawn.get((de.source, de.target))
        points, head = _edge_points(e, tf) if e else ([], None)
        rec = {"source": de.source, "target": de.target, "from_layer": de.from_layer, "to_layer": de.to_layer,
               "points": points, "head": head, "label": de.label}
        if de.label and e:
            boxes = _text_boxes(e.get("_ldraw_", []), tf)
            rec["label_box"] = boxes[0]["box"] if boxes else None
        edges.append(rec)
    _join_concentrated(edges, {n["id"]: n["box"] for n in nodes}, tol=max(3.0, 2 * tf.s))
    return {"image": image_name, "look": knobs["look"], "knobs": dict(knobs), "width": size[0], "height": size[1],
            "nodes": nodes, "edges": edges, "layer_edges": [list(p) for p in diagram.layer_edges]}


def _png_size(data: bytes) -> tuple[int, int]:
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("Graphviz did not produce a PNG")
    return struct.unpack(">II", data[16:24])


def layout_diagram(graph: Graph, knobs: dict, formats=("json",)) -> tuple[Diagram, dict, dict, dict]:
    """Build the DOT and lay it out; Graphviz crashing on an orthogonal routing
    (a known Graphviz 2.x failure) falls back to polyline routing, recorded in
    the returned knobs."""
    knobs = dict(knobs)
    diagram = build_diagram(graph, knobs)
    try:
        out = run_graphviz(diagram.dot, formats)
    except GraphvizCrash:
        if knobs["splines"] != "ortho":
            raise
        knobs["splines"] = "polyline"
        knobs["splines_fallback"] = "ortho"
        diagram = build_diagram(graph, knobs)
        out = run_graphviz(diagram.dot, formats)
    return diagram, json.loads(out["json"]), out, knobs


def render_diagram(graph: Graph, knobs: dict, png_path, *, seed: int = 0) -> dict:
    """Render `graph` with style `knobs` (resolved with `seed`) to `png_path`
    (written atomically) and return the pixel ground truth."""
    k = resolve_style(knobs, random.Random(seed))
    png_path = Path(png_path)
    formats = ("json", "png") if k["renderer"] == "cairo" else ("json",)
    diagram, layout, out, k = layout_diagram(graph, k, formats)
    if k["renderer"] == "cairo":
        data = out["png"]
        size = _png_size(data)
    else:
        page = rasterize(layout, k["dpi"], k["background"])
        size = page.size
        data = page.png(k["png_compress"])
    truth = ground_truth(layout, diagram, k, png_path.name, size)
    atomic_write_bytes(png_path, data)
    return truth


def check_truth(truth: dict, tol: float = 3.0) -> list[str]:
    """Consistency problems of a ground-truth dict (empty when it is sound)."""
    problems = []
    W, H = truth["width"], truth["height"]
    boxes = {n["id"]: n["box"] for n in truth["nodes"]}
    for n in truth["nodes"]:
        x0, y0, x1, y1 = n["box"]
        if not (-0.5 <= x0 < x1 <= W + 0.5 and -0.5 <= y0 < y1 <= H + 0.5):
            problems.append(f"node {n['id']} box {n['box']} outside the {W}x{H} image")
        for t in n["texts"]:
            a0, b0, a1, b1 = t["box"]
            if not (x0 - 0.5 <= a0 and a1 <= x1 + 0.5 and y0 - 0.5 <= b0 and b1 <= y1 + 0.5):
                problems.append(f"node {n['id']} text {t['text']!r} box {t['box']} outside its node box {n['box']}")

    dist = _dist_to_box
    for e in truth["edges"]:
        if len(e["points"]) < 2 or e["head"] is None:
            problems.append(f"edge {e['source']}->{e['target']} has no drawn path")
            continue
        if dist(e["points"][0], boxes[e["source"]]) > tol:
            problems.append(f"edge {e['source']}->{e['target']} starts {dist(e['points'][0], boxes[e['source']]):.1f}px from its source")
        if dist(e["head"], boxes[e["target"]]) > tol:
            problems.append(f"edge {e['source']}->{e['target']} ends {dist(e['head'], boxes[e['target']]):.1f}px from its target")
    return problems
