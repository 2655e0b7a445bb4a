"""Bad input through process_paper and through the `dlpaper2code paper` command: every case ends
with a clear error naming the file and the problem, or a graceful result; nothing crashes a batch
and no failed output looks complete."""
from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dlpaper2code.paper import generate_paper
from dlpaper2code.paper.pipeline import process_paper
from dlpaper2code.paper.options import PaperOptions
from dlpaper2code.paper.synth import scan_paper

ROOT = Path(__file__).resolve().parents[1]
CLI = ROOT / ".venv" / "bin" / "dlpaper2code"
QUICK = PaperOptions(read_figures=False, render_graphs=False, targets=("pytorch",))     # tables, no drawings


def _plain(path, pages=1):
    from reportlab.pdfgen import canvas
    c = canvas.Canvas(str(path), pagesize=(612, 792), invariant=1)
    for i in range(pages):
        c.drawString(72, 700, f"page {i + 1}")
        c.showPage()
    c.save()
    return path


def _encrypt(src, out, user):
    from pypdf import PdfReader, PdfWriter
    w = PdfWriter()
    for p in PdfReader(src).pages:
        w.add_page(p)
    w.encrypt(user_password=user, owner_password="owner-secret")
    with open(out, "wb") as fh:
        w.write(fh)
    return out


def _huge(path, size=100 * 1024 * 1024):
    """A valid one-page PDF of `size` bytes: an unused stream of zeros, written sparse (no disk cost)."""
    head = b"%PDF-1.4\n"
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>"]
    with open(path, "wb") as fh:
        fh.write(head)
        offsets = []
        for i, o in enumerate(objs, start=1):
            offsets.append(fh.tell())
            fh.write(b"%d 0 obj\n" % i + o + b"\nendobj\n")
        n = size - 4096
        offsets.append(fh.tell())
        fh.write(b"4 0 obj\n<< /Length %d >>\nstream\n" % n)
        fh.seek(n, os.SEEK_CUR)                      # sparse zeros
        fh.write(b"\nendstream\nendobj\n")
        xref = fh.tell()
        fh.write(b"xref\n0 5\n0000000000 65535 f \n" + b"".join(b"%010d 00000 n \n" % o for o in offsets))
        fh.write(b"trailer\n<< /Size 5 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % xref)
    return path


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    """name -> (pdf, expected kind or None for a processed paper)."""
    d = tmp_path_factory.mktemp("bad")
    truth = generate_paper(d, 4)                          # an architecture table on page 2
    good = d / truth["pdf"]
    full = good.read_bytes()
    (d / "truncated.pdf").write_bytes(full[: len(full) // 2])
    (d / "html.pdf").write_text("<!DOCTYPE html><html><body>arXiv: not found</body></html>")
    from pypdf import PdfWriter
    with open(d / "zero.pdf", "wb") as fh:
        PdfWriter().write(fh)
    return {
        "good": (good, None, truth),
        "user_password": (_encrypt(good, d / "user_pw.pdf", "user-secret"), "encrypted", None),
        "owner_only": (_encrypt(good, d / "owner_only.pdf", ""), None, truth),
        "truncated": (d / "truncated.pdf", "truncated", None),
        "not_pdf": (d / "html.pdf", "not_pdf", None),
        "zero_pages": (d / "zero.pdf", "no_pages", None),
        "300_pages": (_plain(d / "long.pdf", pages=300), "too_many_pages", None),
        "100_mb": (_huge(d / "huge.pdf"), "too_large", None),
        "missing": (d / "missing.pdf", "missing", None),
    }


BAD = ["user_password", "truncated", "not_pdf", "zero_pages", "300_pages", "100_mb", "missing"]
WORDS = {"encrypted": "password", "truncated": "truncated", "not_pdf": "not a PDF", "no_pages": "zero pages",
         "too_many_pages": "300 pages", "too_large": "100.0 MiB", "missing": "no such file"}


@pytest.mark.parametrize("name", BAD)
def test_bad_input_through_process_paper(cases, name, tmp_path):
    pdf, kind, _ = cases[name]
    out = tmp_path / "out"
    report = process_paper(pdf, out, PaperOptions(read_figures=False, render_graphs=False))
    assert report["status"] == "failed" and report["kind"] == kind
    assert str(pdf) in report["message"] and WORDS[kind] in report["message"]
    assert sorted(p.name for p in out.iterdir()) == ["report.json"]       # nothing that looks complete
    assert json.loads((out / "report.json").read_text())["status"] == "failed"
    assert not list(tmp_path.glob(".*.tmp"))


def test_huge_pdf_processed_when_the_limit_allows(cases, tmp_path):
    pdf, _, _ = cases["100_mb"]
    report = process_paper(pdf, tmp_path / "out", PaperOptions(max_mb=None, read_figures=False, render_graphs=False))
    assert report["status"] == "no_model" and report["pages"] == 1       # a graceful empty result


def test_owner_password_only_is_processed(cases, tmp_path):
    pdf, _, truth = cases["owner_only"]
    report = process_paper(pdf, tmp_path / "out", QUICK)
    assert report["status"] == "ok" and report["steps"]["open"]["encrypted"]
    want = sorted(m["layer_types"] for t in truth["tables"] if t["kind"] == "architecture" for m in t["models"])
    got = sorted([l["layer_type"] for l in json.loads((tmp_path / "out" / "graphs" / f"{g['name']}.json").read_text())
                  ["layers"] if l["layer_type"] not in ("Input", "Flatten")] for g in report["graphs"])
    assert got == want


def test_user_password_given_opens(cases, tmp_path):
    pdf, _, _ = cases["user_password"]
    report = process_paper(pdf, tmp_path / "out", dataclasses.replace(QUICK, password="user-secret"))
    assert report["status"] == "ok" and report["graphs"]


def test_an_unexpected_error_is_recorded_and_the_batch_goes_on(cases, tmp_path, monkeypatch):
    import dlpaper2code.paper.pipeline as pl

    def boom(*a, **k):
        raise RuntimeError("simulated bug")
    monkeypatch.setattr(pl, "extract_tables", boom)
    pdf = cases["good"][0]
    report = process_paper(pdf, tmp_path / "a", PaperOptions(read_figures=False))
    assert report["status"] == "failed" and report["kind"] == "internal"
    assert "simulated bug" in report["message"] and str(pdf) in report["message"]
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["report.json"]
    monkeypatch.undo()
    assert process_paper(pdf, tmp_path / "b", QUICK)["status"] == "ok"


def test_a_rerun_replaces_a_previous_result(cases, tmp_path):
    out = tmp_path / "out"
    process_paper(cases["good"][0], out, QUICK)
    assert (out / "graph.json").is_file()
    process_paper(cases["truncated"][0], out, PaperOptions(read_figures=False))
    assert sorted(p.name for p in out.iterdir()) == ["report.json"]       # no stale graph from the first run


# --------------------------------------------------------------------------- scanned (OCR)
@pytest.fixture(scope="module")
def scanned(cases, tmp_path_factory):
    """Page 2 of the good paper (its architecture table), rasterised into an image-only PDF."""
    pdf, _, truth = cases["good"]
    d = tmp_path_factory.mktemp("scan")
    gt = next(t for t in truth["tables"] if t["kind"] == "architecture" and t.get("layout") != "stages")
    return scan_paper(pdf, d / "scanned.pdf", dpi=150, pages=[gt["page"]]), gt


def test_scanned_paper_read_by_ocr(scanned, tmp_path):
    pdf, gt = scanned
    report = process_paper(pdf, tmp_path / "out", QUICK)
    assert report["scanned_pages"] == [1] and report["ocr_pages"] == [1]
    assert 0.5 <= report["steps"]["layout"]["confidence"] <= 1.0
    tabs = json.loads((tmp_path / "out" / "tables" / "tables.json").read_text())["tables"]
    got = [t for t in tabs if t["caption"].split(":")[0] == gt["caption"].split(":")[0]]
    assert got, [t["caption"] for t in tabs]
    cells = got[0]["cells"]
    same = sum(1 for r, row in enumerate(gt["cells"]) for c, v in enumerate(row)
               if r < len(cells) and c < len(cells[r]) and cells[r][c] == v)
    total = sum(len(r) for r in gt["cells"])
    assert same / total >= 0.6, (same, total, cells)           # OCR misreads some cells; most are right
    arch = [t for t in report["tables"] if t["kind"] == "architecture"]
    assert arch and report["status"] == "ok"


def test_scanned_without_ocr_is_a_clear_error(scanned, tmp_path):
    pdf, _ = scanned
    report = process_paper(pdf, tmp_path / "out", PaperOptions(ocr=False, read_figures=False))
    assert report["status"] == "failed" and report["kind"] == "no_text" and "scanned" in report["message"]


# --------------------------------------------------------------------------- the command
def _cli(*args):
    env = {**os.environ, "KERAS_BACKEND": "torch", "OMP_THREAD_LIMIT": "1"}
    cmd = [str(CLI)] if CLI.exists() else [sys.executable, "-m", "dlpaper2code.cli"]   # the console script, or its module
    return subprocess.run([*cmd, "paper", *map(str, args)], capture_output=True, text=True, env=env, cwd=ROOT,
                          timeout=300)


def test_bad_input_through_the_command(cases, tmp_path):
    for name in BAD:
        pdf, kind, _ = cases[name]
        out = tmp_path / name
        res = _cli(pdf, "-o", out, "--no-figures", "-t", "pytorch")
        assert res.returncode == 1, (name, res.stdout, res.stderr)
        assert res.stderr.startswith("error: ") and str(pdf) in res.stderr and WORDS[kind] in res.stderr, res.stderr
        assert "Traceback" not in res.stderr
        assert json.loads((out / "report.json").read_text())["kind"] == kind


def test_owner_only_and_scanned_through_the_command(cases, scanned, tmp_path):
    res = _cli(cases["owner_only"][0], "-o", tmp_path / "owner", "--no-figures", "-t", "pytorch")
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "owner" / "graph.json").is_file() and "valid graph(s)" in res.stdout
    res = _cli(scanned[0], "-o", tmp_path / "scan", "--no-figures", "-t", "pytorch")
    assert res.returncode == 0, res.stderr
    report = json.loads((tmp_path / "scan" / "report.json").read_text())
    assert report["ocr_pages"] == [1] and report["tables"]


def test_ocr_page_limit_is_reported(cases, scanned, tmp_path):
    report = process_paper(scanned[0], tmp_path / "none", PaperOptions(max_ocr_pages=0, read_figures=False))
    assert report["status"] == "failed" and report["kind"] == "no_text"     # nothing could be read
    pdf, _, truth = cases["good"]
    two = scan_paper(pdf, tmp_path / "two.pdf", dpi=100, pages=[1, 2])
    report = process_paper(two, tmp_path / "out",
                           PaperOptions(max_ocr_pages=1, read_figures=False, targets=("pytorch",)))
    assert report["ocr_pages"] == [1] and report["steps"]["layout"]["unread_pages"] == [2]
    assert "1 scanned page(s) over max_ocr_pages=1 not read" in report["steps"]["layout"]["note"]


def test_password_and_no_ocr_flags_of_the_command(cases, scanned, tmp_path):
    res = _cli(cases["user_password"][0], "-o", tmp_path / "pw", "--no-figures", "-t", "pytorch",
               "--password", "user-secret")
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "pw" / "graph.json").is_file()
    res = _cli(scanned[0], "-o", tmp_path / "noocr", "--no-figures", "--no-ocr")
    assert res.returncode == 1 and "scanned" in res.stderr, res.stderr
    assert json.loads((tmp_path / "noocr" / "report.json").read_text())["kind"] == "no_text"
