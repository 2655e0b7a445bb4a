"""Title, authors and arXiv id from a PDF (paper.metadata): document info, else page 1."""
from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("reportlab")
from reportlab.lib.pagesizes import letter  # noqa: E402
from reportlab.pdfgen import canvas  # noqa: E402

from dlpaper2code.paper.metadata import arxiv_id_from_name, is_junk_title, read_metadata  # noqa: E402


def make_pdf(path: Path, *, info_title=None, info_author=None, title_lines=("Deep Residual Learning",
             "for Image Recognition"), authors="Kaiming He, Xiangyu Zhang and Shaoqing Ren",
             stamp=None, affiliation="Microsoft Research, Redmond") -> Path:
    c = canvas.Canvas(str(path), pagesize=letter)
    if info_title is not None:
        c.setTitle(info_title)
    if info_author is not None:
        c.setAuthor(info_author)
    w, h = letter
    y = h - 90
    c.setFont("Times-Roman", 8)
    c.drawString(72, h - 40, "Proceedings of a conference, 2016")   # small running head above the title
    for line in title_lines:
        c.setFont("Times-Bold", 17)
        c.drawCentredString(w / 2, y, line)
        y -= 22
    c.setFont("Times-Roman", 11)
    c.drawCentredString(w / 2, y - 6, authors)
    c.drawCentredString(w / 2, y - 22, affiliation)
    c.setFont("Times-Bold", 11)
    c.drawString(72, y - 60, "Abstract")
    c.setFont("Times-Roman", 10)
    for k in range(20):
        c.drawString(72, y - 80 - 13 * k, "Deeper neural networks are more difficult to train. We present a "
                                         "residual learning framework.")
    if stamp:
        c.saveState()
        c.setFont("Times-Roman", 20)
        c.translate(30, 300)
        c.rotate(90)
        c.drawString(0, 0, stamp)
        c.restoreState()
    c.showPage()
    c.save()
    return path


def test_title_from_document_info(tmp_path):
    pdf = make_pdf(tmp_path / "a.pdf", info_title="Deep Residual Learning for Image Recognition",
                   info_author="Kaiming He; Xiangyu Zhang")
    meta = read_metadata(pdf)
    assert meta["title"] == "Deep Residual Learning for Image Recognition"
    assert meta["source"]["title"] == "document info"
    assert meta["authors"] == ["Kaiming He", "Xiangyu Zhang"]


def test_title_from_largest_text_without_info(tmp_path):
    pdf = make_pdf(tmp_path / "tmp24gu96rf.pdf")
    meta = read_metadata(pdf)
    assert meta["title"] == "Deep Residual Learning for Image Recognition"
    assert meta["source"]["title"] == "first page"
    assert meta["authors"] == ["Kaiming He", "Xiangyu Zhang", "Shaoqing Ren"]
    assert meta["source"]["authors"] == "first page"
    assert meta["arxiv_id"] is None


@pytest.mark.parametrize("junk", ["Microsoft Word - paper.docx", "untitled", "tmp24gu96rf", "main.pdf", "  "])
def test_junk_info_title_falls_back_to_the_page(tmp_path, junk):
    pdf = make_pdf(tmp_path / "b.pdf", info_title=junk)
    meta = read_metadata(pdf)
    assert meta["title"] == "Deep Residual Learning for Image Recognition"
    assert meta["source"]["title"] == "first page"


def test_arxiv_id_from_stamp_and_file_name(tmp_path):
    pdf = make_pdf(tmp_path / "c.pdf", stamp="arXiv:1512.03385v1 [cs.CV] 10 Dec 2015")
    meta = read_metadata(pdf)
    assert meta["arxiv_id"] == "1512.03385v1" and meta["source"]["arxiv_id"] == "first page"
    # the rotated stamp is larger than the title but is not taken for it
    assert meta["title"] == "Deep Residual Learning for Image Recognition"
    pdf2 = make_pdf(tmp_path / "1409.1556v6.pdf")
    assert read_metadata(pdf2)["arxiv_id"] == "1409.1556v6"
    assert read_metadata(pdf, file_name="1409.1556.pdf")["arxiv_id"] == "1512.03385v1"
    assert arxiv_id_from_name("tmp123.pdf") is None


def test_junk_detector():
    assert is_junk_title("Microsoft Word - x.docx") and is_junk_title("untitled") and is_junk_title("x.pdf")
    assert not is_junk_title("Very Deep Convolutional Networks for Large-Scale Image Recognition")


def test_not_a_pdf_never_raises(tmp_path):
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"%PDF-1.4 garbage")
    meta = read_metadata(bad)
    assert meta["title"] is None and meta["authors"] == [] and meta["arxiv_id"] is None


def test_pipeline_report_has_metadata(tmp_path):
    from dlpaper2code.paper.pipeline import process_paper

    pdf = make_pdf(tmp_path / "p.pdf", stamp="arXiv:1512.03385v1 [cs.CV] 10 Dec 2015")
    report = process_paper(pdf, tmp_path / "out", targets=["pytorch"])
    meta = report["metadata"]
    assert meta["title"] == "Deep Residual Learning for Image Recognition"
    assert meta["arxiv_id"] == "1512.03385v1"
    assert report["title"] == meta["title"]


def test_pdf_ligatures_and_compatibility_forms_become_plain_letters(tmp_path):
    # real PDFs (CondenseNet, EfficientDet) carry "ﬁ"/"ﬃ" ligature characters in their titles;
    # kept as they are, a search for "efficient" would never find the paper
    pdf = make_pdf(tmp_path / "a.pdf", info_title="CondenseNet: An Eﬃcient DenseNet using Learned Group Convolutions",
                   info_author="Gao Huang; Shichen Liu")
    meta = read_metadata(pdf)
    assert meta["title"] == "CondenseNet: An Efficient DenseNet using Learned Group Convolutions"
    assert all(ord(ch) < 0xFB00 for ch in meta["title"])


def test_an_affiliation_line_is_not_an_author(tmp_path):
    # StixelNet's page 1: "Dan Levi ... / Advanced Technical Center Israel" was listed as an author
    pdf = make_pdf(tmp_path / "a.pdf", authors="Dan Levi, Noa Garnett and Ethan Fetaya",
                   affiliation="Advanced Technical Center Israel")
    assert read_metadata(pdf)["authors"] == ["Dan Levi", "Noa Garnett", "Ethan Fetaya"]
