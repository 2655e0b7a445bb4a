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
from dlpaper2code.paper.options import PaperOptions

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
        report = process_paper(pdf, out, PaperOptions(read_figures=False, targets=("pytorch", "keras", "caffe")))
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
    quick = PaperOptions(read_figures=False, render_graphs=False)
    results = [process_paper(p, tmp_path / "out" / p.stem, quick) for p in (bad, papers[1][0])]
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


# --------------------------------------------------------------------------- PaperOptions
def test_paper_options_cover_the_params_section():
    """Every key of params.yaml's paper section is an option of the route or the corpus's/summary's;
    from_params reads the section, keeps the defaults for missing keys and refuses an unknown one."""
    import dataclasses

    import yaml

    from dlpaper2code.paper.options import WORKFLOW_KEYS

    section = yaml.safe_load((ROOT / "params.yaml").read_text())["paper"]
    schema = yaml.safe_load((ROOT / "config" / "params.schema.yaml").read_text())["properties"]["paper"]
    fields = {f.name for f in dataclasses.fields(PaperOptions)} - {"figure_filter"}
    assert set(schema["properties"]) <= fields | WORKFLOW_KEYS
    assert set(schema["properties"]) & fields >= {"dpi", "targets", "max_pages", "max_mb", "read_figures", "ocr",
                                                  "ocr_dpi", "max_ocr_pages", "fuse_ratio", "min_figure_layers",
                                                  "figure_classifier", "figure_min_probability"}
    opts = PaperOptions.from_params(section)
    assert opts.targets == tuple(section["targets"]) and opts.fuse_ratio == section["fuse_ratio"]
    assert opts.max_bytes == int(section["max_mb"] * 2**20) and opts.figure_classifier == section["figure_classifier"]
    assert PaperOptions.from_params({}) == PaperOptions() and PaperOptions().max_bytes == 64 << 20
    assert PaperOptions(max_mb=None).max_bytes is None
    with pytest.raises(ValueError, match="dpii"):
        PaperOptions.from_params({**section, "dpii": 100})


def test_paper_options_figure_filter(tmp_path):
    """The hook wins over the classifier; nothing is filtered with figure reading off; a missing
    classifier is an error before anything is written."""
    from dlpaper2code.figclass.classify import ClassifierMissing

    def hook(fig, crop):
        return True

    assert PaperOptions(figure_filter=hook, figure_classifier="none.joblib").load_figure_filter() is hook
    assert PaperOptions(read_figures=False, figure_filter=hook).load_figure_filter() is None
    assert PaperOptions().load_figure_filter() is None
    with pytest.raises(ClassifierMissing):
        process_paper(tmp_path / "p.pdf", tmp_path / "out", PaperOptions(figure_classifier=str(tmp_path / "x.joblib")))
    assert not (tmp_path / "out").exists() and not list(tmp_path.glob(".*.tmp"))


def test_the_command_builds_paper_options_from_its_flags(monkeypatch, tmp_path):
    import dlpaper2code.paper.pipeline as pl
    from dlpaper2code.cli import main

    seen = []
    monkeypatch.setattr(pl, "process_paper",
                        lambda pdf, out, options: seen.append(options) or {"status": "ok", "pages": 1})
    pdf = tmp_path / "p.pdf"
    pdf.write_bytes(b"%PDF-1.4\n")
    assert main(["paper", str(pdf), "-o", str(tmp_path / "a"), "--no-classifier"]) == 0
    assert seen[-1] == PaperOptions()                     # a flag left out: the route's default
    assert main(["paper", str(pdf), "-o", str(tmp_path / "b"), "-t", "pytorch,caffe", "--dpi", "100",
                 "--max-pages", "5", "--max-mb", "1.5", "--no-figures", "--no-ocr", "--max-ocr-pages", "2",
                 "--password", "pw", "--figure-classifier", "m.joblib", "--figure-min-probability", "0.5"]) == 0
    assert seen[-1] == PaperOptions(targets=("pytorch", "caffe"), dpi=100, max_pages=5, max_mb=1.5, read_figures=False,
                                    ocr=False, max_ocr_pages=2, password="pw", figure_classifier="m.joblib",
                                    figure_min_probability=0.5)
    assert main(["paper", str(pdf), "-o", str(tmp_path / "c"), "--figure-classifier", "m.joblib",
                 "--no-classifier"]) == 0
    assert seen[-1].figure_classifier == ""
