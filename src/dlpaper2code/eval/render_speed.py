"""Rendering speed: milliseconds and pixels per image, per style.

The simulated dataset needs at least 20 images per second per core at the
default 96 dpi for graphs of 5 to 40 layers.  :func:`bench_render` renders
each graph with each style `repeats` times (after one warm-up render, which
pays for font and template loading) and reports medians.
"""
from __future__ import annotations

import os
import random
import statistics
import tempfile
import time

from ..core.graph import Graph, parse_graph


def chain_graph(depth: int = 40, name: str | None = None, seed: int | None = None) -> Graph:
    """A sequential graph with `depth` layers between the Input and the final
    Dense, in the simulated dataset's vocabulary: a 28x28x1 image through
    Conv2D / MaxPool2D / AvgPool2D / Dropout, then Flatten and Dense/Dropout.
    With a seed, filter and unit counts are drawn at random (other shapes in
    every graph, as in the dataset)."""
    rng = random.Random(seed) if seed is not None else None
    layers = [{"layer_type": "Input", "layer_name": "input", "layer_params": {"shape": [28, 28, 1]}}]
    prev, size, k = "input", 28, 0

    def add(ltype, params=None):
        nonlocal prev, k
        k += 1
        lname = f"{ltype.lower()}_{k}"
        layers.append({"layer_type": ltype, "layer_name": lname, "layer_params": params or {}, "from_layers": [prev]})
        prev = lname

    conv_part = max(1, depth * 3 // 5)
    cycle = ["Conv2D", "Dropout", "Conv2D", "MaxPool2D", "Conv2D", "AvgPool2D"]
    while k < conv_part:
        ltype = cycle[k % len(cycle)]
        if ltype == "Conv2D":
            filters = 16 * (rng.randint(1, 16) if rng else 1 + k % 4)
            add("Conv2D", {"filters": filters, "kernel_size": 3, "padding": "same", "activation": "relu"})
        elif ltype == "Dropout":
            add("Dropout", {"rate": 0.25})
        elif size >= 4:
            add(ltype, {"pool_size": 2, "strides": 2})
            size //= 2
        else:
            add("Conv2D", {"filters": 32, "kernel_size": 1, "activation": "relu"})
    add("Flatten")
    while k < depth:
        if k % 2:
            add("Dense", {"units": 5 * (rng.randint(1, 100) if rng else 1 + k % 50), "activation": "relu"})
        else:
            add("Dropout", {"rate": 0.5})
    layers.append({"layer_type": "Dense", "layer_name": "predictions",
                   "layer_params": {"units": 10, "activation": "softmax"}, "from_layers": [prev]})
    return parse_graph({"name": name or (f"chain{depth}" if seed is None else f"chain{depth}_{seed}"), "layers": layers})


def bench_render(graphs, knobs_by_style: dict, repeats: int = 5, seed: int = 0, cold_text: bool = False) -> dict:
    """Per style: median ms per image and pixels per image over `graphs`.

    graphs: Graph objects (or graph JSON paths); knobs_by_style: {style: knobs}.
    cold_text: forget the rendered text strings before every image (the worst
    case: no label text shared with earlier images; fonts stay loaded).
    Returns {style: {"ms_per_image", "ms_min", "px_per_image", "width", "height",
    "images_per_s", "per_graph": [{"graph", "ms", "px"}]}}.
    """
    from ..render import raster, render_diagram
    from ..core.graph import load_graph

    graphs = [load_graph(g) if isinstance(g, (str, os.PathLike)) else g for g in graphs]
    out = {}
    with tempfile.TemporaryDirectory(prefix="dlp2c_bench_") as tmp:
        png = os.path.join(tmp, "bench.png")
        for style, knobs in knobs_by_style.items():
            per_graph, all_ms = [], []
            for graph in graphs:
                render_diagram(graph, knobs, png, seed=seed)             # warm-up
                times, truth = [], None
                for r in range(repeats):
                    if cold_text:
                        raster.clear_text_cache()
                    t0 = time.perf_counter()
                    truth = render_diagram(graph, knobs, png, seed=seed + r)
                    times.append((time.perf_counter() - t0) * 1000)
                ms = statistics.median(times)
                all_ms += times
                per_graph.append({"graph": graph.name, "layers": len(graph.nodes), "ms": round(ms, 2),
                                  "ms_min": round(min(times), 2), "px": truth["width"] * truth["height"],
                                  "width": truth["width"], "height": truth["height"]})
            ms = statistics.median(all_ms)
            out[style] = {"ms_per_image": round(ms, 2), "ms_min": round(min(all_ms), 2),
                          "images_per_s": round(1000.0 / ms, 1),
                          "px_per_image": round(statistics.mean(g["px"] for g in per_graph)),
                          "per_graph": per_graph}
    return out
