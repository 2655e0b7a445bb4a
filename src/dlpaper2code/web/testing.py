"""For tests and demos: small paper output folders in the paper route's layout (no PDF
processing: a report, a figure crop, a table, the graph), the app served in a thread on a
free loopback port, the Chromium that Playwright drives, and helpers for driving the editor
page (open it, find a node)."""
from __future__ import annotations

import contextlib
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


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve_in_thread(db_url: str, data_dir: str | Path, *, timeout: float = 30.0):
    """The app on ``db_url`` served by uvicorn in a daemon thread on a free loopback port;
    yields its base URL ("http://127.0.0.1:<port>") and stops the server on exit."""
    import threading
    import time

    import uvicorn

    from .app import create_app

    srv = uvicorn.Server(uvicorn.Config(create_app(db_url, data_dir), host="127.0.0.1", port=free_port(),
                                        log_level="warning"))
    th = threading.Thread(target=srv.run, daemon=True)
    th.start()
    deadline = time.time() + timeout
    while not srv.started:
        if time.time() > deadline or not th.is_alive():
            srv.should_exit = True
            raise RuntimeError(f"the web server did not start within {timeout:.0f} s")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{srv.config.port}"
    finally:
        srv.should_exit = True
        th.join(10)


def chromium_executable() -> str:
    """Debian's chromium, which Playwright drives (its own browser downloads are not used)."""
    import shutil

    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if not exe:
        raise RuntimeError("Debian's chromium is required: apt-get install chromium (make setup does it)")
    return exe


# -- the editor page, driven by Playwright (the page object is passed in; no import here)

def open_editor(page, url: str) -> None:
    """Go to an editor page and wait until its graph is drawn and first checked."""
    page.goto(url)
    page.wait_for_function("window.editor && window.editor.cy && window.editor.result")


def node_point(page, name: str) -> list[float]:
    """Where a layer's node is on the page (viewport x, y), for mouse clicks and drags."""
    return page.evaluate("""(name) => {
        const n = editor.cy.nodes().filter((x) => x.data('name') === name)[0];
        const p = n.renderedPosition(), r = editor.cy.container().getBoundingClientRect();
        return [r.left + p.x, r.top + p.y];
    }""", name)
