"""Model-graph diagrams in three looks, with exact pixel ground truth.

Looks (``LOOKS``): ``keras3`` (Keras 3 ``plot_model(show_shapes=True)``),
``keras2`` (Keras 2's record diagram), ``caffe`` (Caffe's ``draw_net``).  No
framework model is built: the DOT text comes from the graph, the layout from
Graphviz, and the ``xdot`` renderer draws Graphviz's own drawing operations
with Pillow (``cairo``: Graphviz's PNG).  Knobs and look defaults:
``config/styles.yaml``.

    truth = render_diagram(graph, {"look": "caffe", "rankdir": "TB"}, "out/net.png", seed=3)

The returned dict (JSON-serialisable) gives, in pixels of the written PNG
(origin top-left), every box (layer or Caffe blob) with its graph layer, label
and text-line boxes, every drawn edge as a polyline with its arrow tip, and the
graph's edges (``layer_edges``).

Layer: may import :mod:`dlpaper2code.core` only.
"""
from __future__ import annotations

from pathlib import Path

from .core import check_truth, render_diagram
from .styles import load_styles, resolve_style, validate_knobs

LOOKS = ("keras3", "keras2", "caffe")

__all__ = ["LOOKS", "load_styles", "resolve_style", "validate_knobs", "render_diagram", "render_graph_file",
           "check_truth"]


def render_graph_file(graph_json_path, out_png, style: str = "keras3", *, seed: int = 0, **knobs) -> dict:
    """Render a graph JSON file; `style` is a look or a style of params.yaml's
    render.styles; keyword knobs override it."""
    from ..core.graph import load_graph

    if style in LOOKS:
        base = {"look": style}
    else:
        from ..core import paths
        params = paths.project_params()
        styles = (params.get("render") or {}).get("styles") or {}
        if style not in styles:
            raise ValueError(f"unknown style '{style}': a look ({', '.join(LOOKS)}) or one of params.yaml "
                             f"render.styles ({', '.join(styles) or 'none'})")
        base = dict(styles[style])
    return render_diagram(load_graph(graph_json_path), {**base, **knobs}, Path(out_png), seed=seed)
