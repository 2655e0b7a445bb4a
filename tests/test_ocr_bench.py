"""The figure-label OCR benchmark (eval/ocr_bench.py) and the route's two figure OCR engines
(paper/ocr.figure_words), on a generated paper: a drawn figure whose labels are PDF text, so the
truth is the PDF's own words."""
from __future__ import annotations

import json

import pytest
from reportlab.pdfgen import canvas

from dlpaper2code.eval import ocr_bench
from dlpaper2code.paper.ocr import figure_words

LABELS = ["conv 3x3, 64", "max pool 2x2", "conv 3x3, 128", "avg pool", "fc 1000", "softmax"]


def _paper(path):
    c = canvas.Canvas(str(path), pagesize=(612, 792))
    for k, lab in enumerate(LABELS):
        y = 700 - 40 * k
        c.rect(230, y, 150, 24)
        c.setFont("Helvetica", 11)
        c.drawCentredString(305, y + 8, lab)
        if k:
            c.line(305, y + 40, 305, y + 24)
    c.setFont("Helvetica", 9)
    c.drawString(200, 450, "Figure 1: The network.")
    c.showPage()
    c.save()


def test_truth_is_the_pdf_text_inside_the_box_and_scores_count_words(tmp_path):
    from dlpaper2code.paper.layout import read_layout
    from dlpaper2code.paper.pdf import open_paper

    _paper(tmp_path / "p.pdf")
    (page,) = read_layout(open_paper(tmp_path / "p.pdf"))
    truth = ocr_bench.truth_tokens(page, [220, 60, 390, 300])        # top-left origin: the boxes, not the caption
    assert sorted(truth) == sorted(t for lab in LABELS for t in ocr_bench.tokens(lab))
    assert "figure" not in truth
    assert ocr_bench.score(["conv", "3x3", "64", "conv"], ["conv", "3x3", "3x3"]) == {"truth": 4, "read": 3, "hit": 2}


@pytest.mark.parametrize("engine,upscale", [("rapidocr", None), ("tesseract", 1.0)])
def test_both_engines_read_the_labels_of_a_rendered_figure(tmp_path, engine, upscale):
    """Tesseract at its figure setting (the crop enlarged twice) reads nothing of this crop of
    boxed labels, as the benchmark found on real figures (30% of the words); as it is, it reads them."""
    from dlpaper2code.paper.pdf import open_paper, render_page

    _paper(tmp_path / "p.pdf")
    s = 150 / 72
    img = render_page(open_paper(tmp_path / "p.pdf"), 1, 150).crop((int(220 * s), int(60 * s), int(390 * s),
                                                                     int(300 * s)))
    words = " ".join(s.text for s in figure_words(img, engine=engine, upscale=upscale)).lower()
    for lab in ("conv", "pool", "1000", "softmax"):
        assert lab in words, (engine, words)


def test_an_unknown_engine_is_refused_by_name():
    from PIL import Image

    with pytest.raises(ValueError, match="easyocr"):
        figure_words(Image.new("L", (20, 20), 255), engine="easyocr")


def test_the_benchmark_runs_both_engines_over_labelled_figures(tmp_path):
    _paper(tmp_path / "toy.pdf")
    labels = {"papers": {"toy": [{"number": "1", "page": 1, "box": [220, 60, 390, 300], "architecture": True,
                                  "style": "2d-box"},
                                 {"number": "2", "page": 1, "box": [10, 10, 60, 40], "architecture": True,
                                  "style": "2d-box"},
                                 {"number": "3", "page": 1, "box": [220, 60, 390, 300], "architecture": False,
                                  "style": "none"}]}}
    (tmp_path / "labels.json").write_text(json.dumps(labels))
    res = ocr_bench.run(tmp_path / "labels.json", tmp_path)
    assert res["figures"] == 1 and res["skipped_no_printed_labels"] == ["toy fig 2"]   # not an architecture: not read
    for e in ocr_bench.ENGINES:
        assert res["rows"][0][e]["truth"] == 14
    assert res["engines"]["rapidocr"]["recall"] >= 0.9, res["engines"]
    assert res["engines"]["rapidocr"]["recall"] > res["engines"]["tesseract"]["recall"]
    assert "| rapidocr |" in ocr_bench.table(res)
    spec = ocr_bench.run(tmp_path / "labels.json", tmp_path, engines=["tesseract:1"])
    assert spec["engines"]["tesseract:1"]["recall"] >= 0.9            # boxed labels read at their own size
    with pytest.raises(ValueError, match="easyocr"):
        ocr_bench.read_with("easyocr:2")
    assert ocr_bench.main(["--pdfs", str(tmp_path), "--labels", str(tmp_path / "nope.json")]) == 2
    assert ocr_bench.main(["--pdfs", str(tmp_path), "--labels", str(tmp_path / "labels.json"),
                           "--engines", "easyocr"]) == 2
