"""End to end: a paper PDF -> figures, tables, graphs, code, report; bad PDFs; --arxiv."""
from __future__ import annotations

import functools
import http.server
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from dlpaper2code.paper import generate_paper
from dlpaper2code.paper.pipeline import process_paper

ROOT = Path(__file__).resolve().parents[1]


def _arch_table(truth: dict) -> dict:
    return next(t for t in truth["tables"] if t["kind"] == "architecture")


@pytest.fixture(scope="module")
def papers(tmp_path_factory):
    out = tmp_path_factory.mktemp("papers")
    return [(out / t["pdf"], t) for t in (generate_paper(out, seed) for seed in (3, 4, 9))]


def test_paper_to_graph_code_and_report(papers, tmp_path):
    for pdf, truth in papers:
        out = tmp_path / pdf.stem
        report = process_paper(pdf, out, read_figures=False, targets=["pytorch", "keras", "caffe"])
        assert report["status"] == "ok", report
        got = [[l["layer_type"] for l in json.loads((out / "graphs" / f"{g['name']}.json").read_text())["layers"]
                if l["layer_type"] not in ("Input", "Flatten")] for g in report["graphs"]]
        want = [m["layer_types"] for t in truth["tables"] if t["kind"] == "architecture" for m in t["models"]]
        assert sorted(got) == sorted(want), (pdf.name, got, want)       # every model, nothing else
        assert all(g["valid"] for g in report["graphs"])
        assert (out / "graph.json").read_text() == (out / "graphs" / f"{report['primary_graph']}.json").read_text()
        primary = report["primary_graph"]
        assert (out / "code" / primary / "model_pytorch.py").is_file()
        for g in report["graphs"]:            # each target: its files, or the reason it cannot express the model
            for target, info in g["code"].items():
                assert all((out / f).is_file() for f in info["files"]) if info["ok"] else info["error"]
        assert any((out / "code" / g["name"] / "model.prototxt").is_file() for g in report["graphs"])
        assert (out / "graphs" / f"{primary}.png").is_file()
        kinds = {t["table"]: t["kind"] for t in report["tables"]}
        assert sorted(kinds.values()) == sorted(t["kind"] for t in truth["tables"])
        html = (out / "report.html").read_text()
        assert _arch_table(truth)["caption"].split(":")[0] in html and "model_pytorch.py" in html
        assert {f["figure"] for f in report["figures"]} == {f["id"] for f in
                                                             json.loads((out / "figures/figures.json").read_text())["figures"]}
        assert not list(tmp_path.glob(".*.tmp"))


def test_a_bad_pdf_is_recorded_as_failed_and_the_batch_goes_on(papers, tmp_path):
    bad = tmp_path / "broken.pdf"
    bad.write_bytes(papers[0][0].read_bytes()[:2000])           # truncated
    results = [process_paper(p, tmp_path / "out" / p.stem, read_figures=False, render_graphs=False)
               for p in (bad, papers[1][0])]
    assert results[0]["status"] == "failed" and results[0]["kind"] == "truncated"
    assert "broken.pdf" in results[0]["message"]
    assert sorted(p.name for p in (tmp_path / "out" / "broken").iterdir()) == ["report.json"]
    assert results[1]["status"] == "ok"


def _serve(directory: Path):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_cli_paper_from_arxiv_against_a_local_server(papers, tmp_path):
    site = tmp_path / "site" / "pdf"
    site.mkdir(parents=True)
    (site / "1409.1556").write_bytes(papers[0][0].read_bytes())
    server = _serve(tmp_path / "site")
    try:
        env = {**os.environ, "KERAS_BACKEND": "torch",
               "DLPAPER2CODE_ARXIV_URL": f"http://127.0.0.1:{server.server_port}/pdf/{{id}}"}
        cli = [sys.executable, "-m", "dlpaper2code.cli", "paper"]
        res = subprocess.run([*cli, "--arxiv", "1409.1556", "-o", str(tmp_path / "out"), "--no-figures", "-t", "pytorch"],
                             capture_output=True, text=True, env=env, cwd=ROOT)
        assert res.returncode == 0, res.stdout + res.stderr
        assert (tmp_path / "out" / "graph.json").is_file() and (tmp_path / "downloads" / "1409.1556.pdf").is_file()
        res = subprocess.run([*cli, "--arxiv", "2101.00001", "-o", str(tmp_path / "out2")],
                             capture_output=True, text=True, env=env, cwd=ROOT)
        assert res.returncode == 2 and "cannot download arXiv 2101.00001" in res.stderr
        res = subprocess.run([*cli, "--arxiv", "../etc/passwd", "-o", str(tmp_path / "out3")],
                             capture_output=True, text=True, env=env, cwd=ROOT)
        assert res.returncode == 2 and "not an arXiv identifier" in res.stderr
    finally:
        server.shutdown()
