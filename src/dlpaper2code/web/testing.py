"""Small paper output folders in the paper route's layout, for tests and demos
(no PDF processing: a report, a figure crop, a table, the graph)."""
from __future__ import annotations

import json
from pathlib import Path


def demo_graph(filters: int = 8, units: int = 10) -> dict:
    return {"schema_version": 1, "name": "demo", "description": "a small CNN", "layers": [
        {"layer_type": "Input", "layer_name": "image", "layer_params": {"shape": [28, 28, 1]}, "from_layers": []},
        {"layer_type": "Conv2D", "layer_name": "conv1", "layer_params": {"filters": filters, "kernel_size": 3},
         "from_layers": ["image"]},
        {"layer_type": "MaxPool2D", "layer_name": "pool1", "layer_params": {"pool_size": 2}, "from_layers": ["conv1"]},
        {"layer_type": "Flatten", "layer_name": "flat", "from_layers": ["pool1"]},
        {"layer_type": "Dense", "layer_name": "fc", "layer_params": {"units": units}, "from_layers": ["flat"]},
    ]}


def make_paper_dir(root: str | Path, name: str, *, title: str = "A demo paper", caption: str = "Figure 1: The network.",
                   graph: dict | None = None, style: str = "keras3", table_score: float = 0.9,
                   layer_name_cell: str = "conv1") -> Path:
    """Write ``root/name`` as the paper route would (report.json, figures/, tables/, graph.json)."""
    from PIL import Image

    folder = Path(root) / name
    (folder / "figures").mkdir(parents=True, exist_ok=True)
    (folder / "tables").mkdir(parents=True, exist_ok=True)
    (folder / "graphs").mkdir(parents=True, exist_ok=True)
    graph = graph if graph is not None else demo_graph()
    Image.new("RGB", (120, 80), (200, 220, 240)).save(folder / "figures" / "fig_p1_1.png")
    # the real layout: figures.json is written before the figure classifier runs (no style);
    # the classifier's verdict is in report.json's figures[].classification
    (folder / "figures" / "figures.json").write_text(json.dumps({"figures": [
        {"id": "fig_p1_1", "page": 1, "number": 1, "caption": caption, "png": "fig_p1_1.png"}]}))
    (folder / "tables" / "tables.json").write_text(json.dumps({"tables": [
        {"id": "tab_p1_1", "page": 1, "caption": "Table 1: Network configuration.",
         "cells": [["layer", "configuration"], [layer_name_cell, "conv3-8"], ["pool1", "max pool"], ["fc", "FC-10"]],
         "classification": {"kind": "architecture", "score": table_score, "orientation": "row"}}]}))
    (folder / "graphs" / "tab_p1_1.json").write_text(json.dumps(graph))
    (folder / "graph.json").write_text(json.dumps(graph))
    report = {"pdf": f"{name}.pdf", "name": name, "title": title, "status": "ok", "pages": 1,
              "tables": [{"table": "tab_p1_1", "caption": "Table 1: Network configuration.", "kind": "architecture",
                          "score": table_score, "orientation": "row", "graphs": ["tab_p1_1"]}],
              "figures": [{"figure": "fig_p1_1", "page": 1, "caption": caption, "source": "raster", "tried": True,
                           "classification": {"class": style, "style": style, "probability": 0.99,
                                              "architecture_probability": 0.99},
                           "status": "skipped", "message": "a demo figure: not read"}],
              "primary_graph": "tab_p1_1",
              "graphs": [{"name": "tab_p1_1", "from": "table", "layers": len(graph["layers"]), "confirmed_by": None,
                          "issues": [], "valid": True,
                          "code": {t: {"ok": True, "files": []} for t in ("pytorch", "keras", "tensorflow", "caffe")}}]}
    (folder / "report.json").write_text(json.dumps(report))
    return folder
