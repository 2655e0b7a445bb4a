"""Score what read_diagram recovered against a rendered diagram's ground truth.

Per image (the seed paper's definitions, plus two):

* **layer accuracy** = ground-truth layers matched by a predicted layer box
  (intersection over union >= 0.5, one to one, best overlap first) whose
  type is right / ground-truth layers;
* **edge accuracy** = ground-truth directed layer edges (``layer_edges``:
  Caffe blobs collapsed) that the prediction has between the matched boxes
  / ground-truth layer edges (1 when the graph has none);
* **exact** = every layer matched and typed right, no extra predicted layer,
  and the predicted edge set equals the true one;
* **hyper-parameter accuracy** = right values / parameters the diagram
  shows (None when it shows none).  What a diagram shows:

  - Keras 3 and Keras 2 looks with ``show_shapes``: Input ``shape``;
    Conv2D ``filters`` (output channels) and ``kernel_size`` (input minus
    output size plus one: the simulated Conv2D has stride 1, valid padding);
    Dense ``units``; Embedding ``output_dim``; SimpleRNN/LSTM/GRU ``units``
    and ``return_sequences`` (the output's rank).  Pooling windows are not
    scored: an output size does not determine window and stride.
  - Caffe look with ``show_params``: Conv2D ``kernel_size``, ``strides`` and
    ``padding`` (pad 0 = valid); MaxPool2D/AvgPool2D ``pool_size`` and
    ``strides``.  With ``edge_labels``: Conv2D ``filters`` and Dense
    ``units`` (num_output on the arrow leaving the layer).
  - Nothing else (Dropout rates, Embedding vocabularies, ... are never drawn).
"""
from __future__ import annotations

import csv
import json
import time
from pathlib import Path
from typing import Callable, Iterable

from ..core.stats import percentile

SHAPE_PARAMS = {
    "Input": ["shape"],
    "Conv2D": ["filters", "kernel_size"],
    "Dense": ["units"],
    "Embedding": ["output_dim"],
    "SimpleRNN": ["units", "return_sequences"],
    "LSTM": ["units", "return_sequences"],
    "GRU": ["units", "return_sequences"],
}
CAFFE_PARAMS = {
    "Conv2D": ["kernel_size", "strides", "padding"],
    "MaxPool2D": ["pool_size", "strides"],
    "AvgPool2D": ["pool_size", "strides"],
}
CAFFE_LABEL_PARAMS = {"Conv2D": ["filters"], "Dense": ["units"]}


def shown_params(layer_type: str, knobs: dict) -> list[str]:
    """The hyper-parameters of a layer that a diagram drawn with `knobs` shows."""
    look = knobs.get("look")
    out: list[str] = []
    if look in ("keras3", "keras2"):
        if knobs.get("show_shapes", True):
            out += SHAPE_PARAMS.get(layer_type, [])
    elif look == "caffe":
        if knobs.get("show_params", True):
            out += CAFFE_PARAMS.get(layer_type, [])
        if knobs.get("edge_labels", True):
            out += CAFFE_LABEL_PARAMS.get(layer_type, [])
    return out


def _iou(a, b) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _norm_value(name: str, value):
    if value is None:
        return None
    if name in ("kernel_size", "strides", "pool_size"):
        if isinstance(value, (list, tuple)):
            return tuple(int(v) for v in value) if len(set(value)) > 1 else int(value[0])
        return int(value)
    if name == "padding":
        if value in (0, "0", "valid", [0, 0], (0, 0)):
            return "valid"
        return value if isinstance(value, str) else tuple(value) if isinstance(value, (list, tuple)) else int(value)
    if name == "shape":
        return tuple(int(v) for v in value)
    if name == "return_sequences":
        return bool(value)
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value


def _gt_params(layer: dict, name: str):
    p = layer.get("layer_params") or {}
    if name == "strides" and name not in p:
        if layer["layer_type"] in ("MaxPool2D", "AvgPool2D"):
            return p.get("pool_size")
        return 1
    if name == "padding" and name not in p:
        return "valid"
    if name == "return_sequences" and name not in p:
        return False
    return p.get(name)


def match_layers(pred_nodes: list[dict], gt_nodes: list[dict], min_iou: float = 0.5) -> dict[int, int]:
    """Predicted layer index -> ground-truth layer index (one to one, best overlap first)."""
    pairs = []
    for i, p in enumerate(pred_nodes):
        for j, g in enumerate(gt_nodes):
            v = _iou(p["box"], g["box"])
            if v >= min_iou:
                pairs.append((v, i, j))
    pairs.sort(reverse=True)
    used_p, used_g, out = set(), set(), {}
    for v, i, j in pairs:
        if i in used_p or j in used_g:
            continue
        used_p.add(i)
        used_g.add(j)
        out[i] = j
    return out


def score_diagram(result: dict, ground_truth: dict, graph_doc: dict | None = None) -> dict:
    """Scores of one read against the render's ground truth (and the graph
    document, for the hyper-parameters); see the module docstring."""
    gt_layers = [n for n in ground_truth["nodes"] if n.get("role", "layer") == "layer"]
    gt_edges = {tuple(e) for e in ground_truth.get("layer_edges", [])}
    pred_layers = [n for n in (result.get("nodes") or []) if n.get("role") == "layer"]
    m = match_layers(pred_layers, gt_layers)
    correct_types = sum(1 for i, j in m.items() if pred_layers[i].get("layer_type") == gt_layers[j]["layer_type"])
    pred_to_gt = {pred_layers[i]["layer_name"]: gt_layers[j]["layer"] for i, j in m.items()}
    pred_edges = set()
    unmapped_edges = 0
    for e in result.get("edges") or []:
        s, t = pred_to_gt.get(e["source"]), pred_to_gt.get(e["target"])
        if s is None or t is None:
            unmapped_edges += 1
            continue
        pred_edges.add((s, t))
    n_layers = len(gt_layers)
    layer_acc = correct_types / n_layers if n_layers else 1.0
    edge_acc = len(pred_edges & gt_edges) / len(gt_edges) if gt_edges else 1.0
    exact = (result.get("status") == "ok" and correct_types == n_layers and len(pred_layers) == n_layers
             and pred_edges == gt_edges and unmapped_edges == 0)
    # hyper-parameters
    knobs = ground_truth.get("knobs") or {"look": ground_truth.get("look")}
    hp_total = hp_right = 0
    hp_wrong: list[str] = []
    if graph_doc is not None:
        by_name = {layer["layer_name"]: layer for layer in graph_doc.get("layers", [])}
        gt_to_pred = {j: i for i, j in m.items()}
        for j, g in enumerate(gt_layers):
            layer = by_name.get(g["layer"])
            if layer is None:
                continue
            for pname in shown_params(layer["layer_type"], knobs):
                hp_total += 1
                want = _norm_value(pname, _gt_params(layer, pname))
                i = gt_to_pred.get(j)
                got = None
                if i is not None:
                    got = _norm_value(pname, (pred_layers[i].get("params") or {}).get(pname))
                if got == want:
                    hp_right += 1
                else:
                    hp_wrong.append(f"{g['layer']}.{pname}: {got!r} != {want!r}")
    hp_acc = (hp_right / hp_total) if hp_total else None
    return {
        # short and long names of the same numbers (both are in use)
        "layer_acc": layer_acc, "edge_acc": edge_acc, "hparam_acc": hp_acc, "hparam_n": hp_total,
        "status": result.get("status"),
        "layers": n_layers, "edges": len(gt_edges),
        "pred_layers": len(pred_layers), "pred_edges": len(result.get("edges") or []),
        "matched": len(m), "layer_accuracy": layer_acc, "edge_accuracy": edge_acc, "exact": bool(exact),
        "extra_edges": len(pred_edges - gt_edges) + unmapped_edges,
        "hparams": hp_total, "hparam_accuracy": hp_acc,
        "hparam_wrong": hp_wrong[:20],
        "seconds": (result.get("seconds") or {}).get("total"),
    }


def _rows(manifest) -> list[dict]:
    if isinstance(manifest, (str, Path)):
        with open(manifest, encoding="utf-8", newline="") as fh:
            return list(csv.DictReader(fh))
    return [dict(r) for r in manifest]


def score_set(manifest, root: str | Path | None = None, *, reader: Callable | None = None,
              progress: Callable[[str], None] | None = None, styles: Iterable[str] | None = None) -> list[dict]:
    """Read and score every image of a manifest (a manifest.csv path or its
    rows; paths relative to `root`, by default the manifest's folder).  One
    row per image; an image that fails to read scores zero and the batch
    goes on."""
    from ..read.core import read_diagram

    reader = reader or read_diagram
    if root is None:
        root = Path(manifest).parent if isinstance(manifest, (str, Path)) else Path(".")
    root = Path(root)
    rows = _rows(manifest)
    if styles is not None:
        keep = set(styles)
        rows = [r for r in rows if r["style"] in keep]
    out = []
    t_start = time.perf_counter()
    for k, row in enumerate(rows, 1):
        image = root / row["image"]
        truth = json.loads((root / row["ground_truth"]).read_text(encoding="utf-8"))
        graph = json.loads((root / row["graph"]).read_text(encoding="utf-8")) if row.get("graph") else None
        result = reader(str(image))
        s = score_diagram(result, truth, graph)
        s.update({"model": row.get("model"), "style": row.get("style"), "look": row.get("look") or truth.get("look"),
                  "image": row["image"], "message": result.get("message", ""),
                  "flow": result.get("flow"), "rankdir": (truth.get("knobs") or {}).get("rankdir")})
        out.append(s)
        if progress and (k % 25 == 0 or k == len(rows)):
            progress(f"{k}/{len(rows)} images, {time.perf_counter() - t_start:.1f} s")
    return out


def _num(v, default=None):
    if v in ("", None):
        return default
    return float(v)


def _get(row: dict, short: str, long: str):
    return row[short] if short in row else row.get(long)


def summarize(rows: list[dict]) -> dict[str, dict]:
    """The one summary of reader scores, per style and over all images ("all").

    Rows are score_diagram results or their CSV form (numbers as text). Per group:
    images; mean layer and edge accuracy and share of graphs exactly right (means
    over images); hyper-parameter accuracy *micro*-averaged (right / shown, over
    every parameter the diagrams show; None when none is shown); reads not ok;
    seconds median and p95 (:func:`dlpaper2code.core.stats.percentile`).
    Accuracies are rounded to 5 decimals, seconds to 4."""
    groups: dict[str, list[dict]] = {}
    for r in rows:
        groups.setdefault(r.get("style") or "all", []).append(r)
    if rows:
        groups["all"] = list(rows)
    out = {}
    for style, rs in sorted(groups.items()):
        secs = [_num(r.get("seconds")) for r in rs if _num(r.get("seconds")) is not None]
        hp_n = hp_right = 0
        for r in rs:
            n = int(_num(r.get("hparams"), 0))
            acc = _num(_get(r, "hparam_acc", "hparam_accuracy"))
            if n and acc is not None:
                hp_n += n
                hp_right += round(acc * n)
        out[style] = {
            "images": len(rs),
            "layer_accuracy": round(sum(_num(_get(r, "layer_acc", "layer_accuracy"), 0.0) for r in rs) / len(rs), 5),
            "edge_accuracy": round(sum(_num(_get(r, "edge_acc", "edge_accuracy"), 0.0) for r in rs) / len(rs), 5),
            "exact_share": round(sum(1 for r in rs if _num(r["exact"], 0.0)) / len(rs), 5),
            "hparam_accuracy": round(hp_right / hp_n, 5) if hp_n else None,
            "hparams": hp_n,
            "not_ok": sum(1 for r in rs if r.get("status") != "ok"),
            "seconds_median": round(percentile(secs, 50), 4) if secs else None,
            "seconds_p95": round(percentile(secs, 95), 4) if secs else None,
        }
    return out
