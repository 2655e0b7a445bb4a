"""Benchmarks that print numbers: validation and code emission speed.

The web editor regenerates code on every edit, so validating a graph and
emitting each target must stay well under the 20 ms budget for a 40-layer
graph.
"""
from __future__ import annotations

import statistics
import time

from ..emit.codegen import TARGETS, emit, load_target
from ..core.graph import parse_graph


def deep_graph(depth: int = 40) -> dict:
    """A valid graph of about `depth` layers after the Input: conv/batch-norm
    blocks with a residual Add and a Concat, four max pools, then dense layers."""
    layers = [{"layer_type": "Input", "layer_name": "input", "layer_params": {"shape": [64, 64, 3]}}]
    prev, k = "input", 0

    def add(ltype, params=None, inputs=None):
        nonlocal prev, k
        k += 1
        name = f"{ltype.lower()}_{k}"
        layers.append({"layer_type": ltype, "layer_name": name, "layer_params": params or {},
                       "from_layers": inputs or [prev]})
        prev = name
        return name

    pools = 0
    while k < depth - 4:
        a = add("Conv2D", {"filters": 16, "kernel_size": 3, "padding": "same", "activation": "relu"})
        add("BatchNorm")
        b = add("Conv2D", {"filters": 16, "kernel_size": 3, "padding": "same"})
        add("Add", inputs=[a, b])
        c = add("Conv2D", {"filters": 8, "kernel_size": 1, "activation": "relu"})
        add("Concat", inputs=[c, b])
        if pools < 4 and k < depth - 5:
            add("MaxPool2D", {"pool_size": 2})
            pools += 1
    add("Flatten")
    while k < depth:
        add("Dense", {"units": 64, "activation": "relu"})
    add("Dense", {"units": 10, "activation": "softmax"})
    return {"name": f"deep{depth}", "layers": layers}


def bench_codegen(depth: int = 40, repeats: int = 20, seed: int = 0) -> dict:
    doc = deep_graph(depth)
    out: dict = {"layers": len(doc["layers"]), "repeats": repeats}
    t0 = time.perf_counter()
    graph = parse_graph(doc)
    for t in TARGETS:
        load_target(t)
        emit(graph, t)
    out["cold_start_ms"] = round((time.perf_counter() - t0) * 1000, 2)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        parse_graph(doc)
        times.append(time.perf_counter() - t0)
    out["validate_ms_median"] = round(statistics.median(times) * 1000, 3)
    out["validate_ms_max"] = round(max(times) * 1000, 3)
    for t in TARGETS:
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            emit(graph, t)
            times.append(time.perf_counter() - t0)
        out[f"emit_{t}_ms_median"] = round(statistics.median(times) * 1000, 3)
        out[f"emit_{t}_ms_max"] = round(max(times) * 1000, 3)
    out["edit_to_all_code_ms_median"] = round(out["validate_ms_median"] + sum(out[f"emit_{t}_ms_median"] for t in TARGETS), 3)
    return out
