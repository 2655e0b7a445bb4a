"""A folder of PDFs through the workflow's paper stage (paper.input_dir): one job per paper, each
under a time and memory limit; a paper that fails, hangs or takes too much memory is recorded with
its reason and the others go on; the corpus summary lists them all (issue 19, item 3).

Small PDFs made here (reportlab), a file that is not a PDF and a truncated one; no network, no
real papers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import copy_workflow

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "DVC_NO_ANALYTICS": "1", "KERAS_BACKEND": "torch", "PYTHONHASHSEED": "0",
       "PYTHONPATH": str(ROOT / "src")}


def small_paper(path: Path, title: str, pages: int = 1) -> Path:
    """A text-only paper of `pages` pages whose body text states a small model (reportlab)."""
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=(612.0, 792.0))
    for page in range(pages):
        c.setFont("Times-Roman", 16)
        c.drawString(72, 720, f"{title} (page {page + 1})")
        c.setFont("Times-Roman", 10)
        for i, line in enumerate(["The input is a 28x28x1 image. Our network consists of 3 convolutional layers",
                                  "with 32 filters of size 3x3, each followed by 2x2 max pooling, and 2 fully connected",
                                  "layers with 128 and 10 units."]):
            c.drawString(72, 690 - 14 * i, line)
        c.showPage()
    c.save()
    return path


def workflow_dir(tmp_path: Path) -> Path:
    """The workflow and its config in a scratch folder; the real package (PYTHONPATH)."""
    return copy_workflow(tmp_path / "wf")


def run_paper_stage(work: Path, input_dir: Path, **paper) -> subprocess.CompletedProcess:
    params = {"paper": {"input_dir": str(input_dir), "targets": ["pytorch"], "ocr": False,
                        "figure_classifier": "", "read_figures": False, "scanned_eval": 0, **paper}}
    (work / "run.yaml").write_text(yaml.safe_dump(params))
    return subprocess.run([sys.executable, "-m", "snakemake", "paper_summary", "--nolock", "--cores", "2",
                           "--configfile", "run.yaml"], cwd=work, env=ENV, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("corpus")
    pdfs = tmp / "pdfs"
    pdfs.mkdir()
    small_paper(pdfs / "good_a.pdf", "A small network")
    small_paper(pdfs / "good_b.pdf", "Another small network", pages=2)
    (pdfs / "notapdf.pdf").write_text("this is a text file, not a PDF\n")
    full = small_paper(tmp / "full.pdf", "Cut short", pages=3).read_bytes()
    (pdfs / "truncated.pdf").write_bytes(full[: len(full) // 3])
    work = workflow_dir(tmp)
    res = run_paper_stage(work, pdfs, timeout_s=120)
    return work, res


def test_one_job_per_paper_and_failures_do_not_stop_the_others(corpus_run):
    work, res = corpus_run
    out = res.stdout + res.stderr
    assert res.returncode == 0, out
    assert "paper_summary" in out
    status = {p: json.loads((work / "results/papers" / p / "status.json").read_text())
              for p in ("good_a", "good_b", "notapdf", "truncated")}
    assert status["good_a"]["status"] == "ok" and status["good_a"]["pages"] == 1
    assert status["good_b"]["status"] == "ok" and status["good_b"]["pages"] == 2
    for good in ("good_a", "good_b"):     # the model the text states: found, valid, coded
        assert status[good]["graphs"] >= 1 and status[good]["valid_graphs"] >= 1, status[good]
        assert list((work / "results/papers" / good).rglob("model_pytorch.py"))
    for bad in ("notapdf", "truncated"):
        assert status[bad]["status"] == "failed" and status[bad]["reason"], status[bad]
    assert status["notapdf"]["reason"] == "not_pdf"
    for s in status.values():
        assert set(s) >= {"status", "reason", "pages", "seconds", "graphs", "valid_graphs"}
    # nothing half-written left beside the outputs
    assert not list((work / "results/papers").glob(".*.tmp"))


def test_summary_lists_papers_pages_and_failures_by_reason(corpus_run):
    work, _ = corpus_run
    corpus = json.loads((work / "results/metrics/papers_corpus.json").read_text())
    assert corpus["papers"] == 4 and corpus["processed"] == corpus["ok"] == 2 and corpus["failed"] == 2
    assert corpus["valid_graphs"] >= 2 and corpus["papers_with_valid_graphs"] == 2
    assert corpus["pages_ok"] == 3
    assert corpus["failures_by_reason"]["not_pdf"] == 1 and sum(corpus["failures_by_reason"].values()) == 2
    assert {r["paper"] for r in corpus["per_paper"]} == {"good_a", "good_b", "notapdf", "truncated"}
    table = (work / "results/papers/summary.md").read_text()
    assert "## Corpus" in table and "failures by reason:" in table
    assert "| notapdf | failed | not_pdf" in table
    assert "| good_a | ok |" in table and "| good_b | ok |" in table


def test_a_paper_over_its_time_limit_is_recorded_as_a_timeout(tmp_path):
    pdfs = tmp_path / "pdfs"
    pdfs.mkdir()
    small_paper(pdfs / "slow.pdf", "Too slow for its limit")
    (pdfs / "broken.pdf").write_bytes(b"%PDF-1.4\n")
    work = workflow_dir(tmp_path)
    # far below what starting the route takes: the paper's process is stopped, the job succeeds
    res = run_paper_stage(work, pdfs, timeout_s=0.01)
    assert res.returncode == 0, res.stdout + res.stderr
    slow = json.loads((work / "results/papers/slow/status.json").read_text())
    assert slow["status"] == "timeout" and slow["reason"] == "timeout" and slow["pages"] == 1
    assert "paper.timeout_s" in slow["message"]
    corpus = json.loads((work / "results/metrics/papers_corpus.json").read_text())
    assert corpus["failures_by_reason"].get("timeout", 0) >= 1 and corpus["papers"] == 2
    assert "| slow | timeout | timeout: " in (work / "results/papers/summary.md").read_text()
    assert not list((work / "results/papers").glob(".*.tmp"))


def test_a_paper_over_its_memory_limit_is_recorded(tmp_path):
    from dlpaper2code.paper.guard import process_paper_guarded
    from dlpaper2code.paper.options import PaperOptions

    pdf = small_paper(tmp_path / "big.pdf", "Too big for its limit")
    status = process_paper_guarded(pdf, tmp_path / "out" / "big", PaperOptions(targets=("pytorch",), ocr=False),
                                   timeout_s=120, mem_mb=1)
    assert status["status"] == "memory" and status["reason"] == "memory", status
    report = json.loads((tmp_path / "out/big/report.json").read_text())
    assert report["status"] == "failed" and report["kind"] == "memory" and "memory limit" in report["message"]
    assert json.loads((tmp_path / "out/big/status.json").read_text())["status"] == "memory"


def test_a_paper_too_quick_for_the_watchdog_is_held_to_its_peak(tmp_path, monkeypatch):
    """The watchdog's samples can all miss a short paper: its own peak (ru_maxrss) still counts."""
    from dlpaper2code.paper import guard
    from dlpaper2code.paper.options import PaperOptions

    monkeypatch.setattr(guard, "_tree_rss_mb", lambda pid: 0.0)      # a watchdog that never sees anything
    pdf = small_paper(tmp_path / "quick.pdf", "Quick but too big")
    status = guard.process_paper_guarded(pdf, tmp_path / "out" / "quick", PaperOptions(targets=("pytorch",), ocr=False),
                                         timeout_s=120, mem_mb=1)
    assert status["status"] == "memory", status
    assert "peak resident memory" in status["message"] and "paper.mem_mb" in status["message"]
    # within its limit the same paper is processed
    ok = guard.process_paper_guarded(pdf, tmp_path / "out" / "quick_ok", PaperOptions(targets=("pytorch",), ocr=False),
                                     timeout_s=120, mem_mb=20000)
    assert ok["status"] in ("ok", "no_model"), ok


def test_a_paper_over_its_address_space_limit_is_recorded(tmp_path):
    from dlpaper2code.paper.guard import process_paper_guarded
    from dlpaper2code.paper.options import PaperOptions

    pdf = small_paper(tmp_path / "big.pdf", "Too big for its address space")
    status = process_paper_guarded(pdf, tmp_path / "out" / "big", PaperOptions(targets=("pytorch",), ocr=False),
                                   timeout_s=120, address_space_mb=64)
    assert status["status"] == "memory" and status["reason"] == "memory", status


def test_the_real_corpus_params_file_is_valid():
    from snakemake.utils import validate

    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    extra = yaml.safe_load((ROOT / "config/params/corpus_real.yaml").read_text())
    params["paper"].update(extra["paper"])
    validate(params, str(ROOT / "config/params.schema.yaml"))
    assert params["paper"]["input_dir"] and params["paper"]["timeout_s"] > 0


def test_corpus_table_row_of_a_paper_without_a_model_names_why_without_a_stray_colon():
    from dlpaper2code.paper.guard import corpus_table

    row = {"paper": "p", "status": "no_model", "reason": None, "message": "no architecture table or diagram was recognised",
           "pages": 4, "seconds": 1.5, "graphs": 0, "valid_graphs": 0}
    failed = {**row, "paper": "q", "status": "timeout", "reason": "timeout", "message": "q.pdf: stopped after 9 s"}
    summary = {"papers": 2, "processed": 1, "ok": 0, "no_model": 1, "failed": 1, "failures_by_reason": {"timeout": 1},
               "pages": 8, "seconds_total": 3.0, "wall_seconds_total": 3.5, "seconds_per_page_ok": 0.375,
               "seconds_per_paper_median": 1.5, "seconds_per_paper_worst": 1.5, "graphs": 0, "papers_with_graphs": 0,
               "valid_graphs": 0, "papers_with_valid_graphs": 0, "per_paper": [row, failed]}
    lines = corpus_table(summary)
    assert "| p | no_model | no architecture table or diagram was recognised | 4 |" in "\n".join(lines)
    assert "| q | timeout | timeout: q.pdf: stopped after 9 s | 4 |" in "\n".join(lines)
