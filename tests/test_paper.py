"""Paper reading: synthetic corpus, figure and table extraction, metrics, bad input."""
from __future__ import annotations

import json

import pytest

from dlpaper2code.eval.paper_metrics import evaluate_corpus
from dlpaper2code.paper import (PaperError, extract_figures, extract_tables, generate_corpus,
                                open_paper, read_layout, require_text)
from dlpaper2code.paper.common import iou

# Measured on seeds 0-35 (97 pages): figure P/R 1.0 (138/138), table P/R 1.0 (72/72),
# cell accuracy 1.0 (2828 cells), 0.033 s/page median, 0.05 worst.  The thresholds
# leave room for font and poppler differences between machines.
N_PAPERS = 12          # one full cycle of options (figure source, look, orientation, rules, captions)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    d = tmp_path_factory.mktemp("papers")
    return d, generate_corpus(d, n=N_PAPERS, seed=0)


def test_corpus_covers_the_options(corpus):
    _, truths = corpus
    figs = [f for t in truths for f in t["figures"]]
    tabs = [x for t in truths for x in t["tables"]]
    assert {(f["kind"], f["source"]) for f in figs} >= {("architecture", "raster"), ("architecture", "vector"),
                                                        ("plot", "vector"), ("photo", "raster")}
    assert {f["style"] for f in figs if f["kind"] == "architecture"} >= {"keras3", "keras2", "caffe", "boxes"}
    arch = [x for x in tabs if x["kind"] == "architecture" and x.get("layout") != "stages"]
    assert {(x["orientation"], x["rules"]) for x in arch} == {(o, r) for o in ("row", "column")
                                                              for r in ("grid", "booktabs", "none")}
    stages = [x for x in tabs if x.get("layout") == "stages"]
    assert {(x["rules"], x["brackets"]) for x in stages} == {(r, b) for r in ("booktabs", "hlines")
                                                             for b in ("path", "glyph")}
    for x in stages:                       # wide, two configurations, brackets, spanning cells
        assert x["box"][0] < 306 < x["box"][2] and len(x["models"]) == 2       # across the gutter
        assert any(c.startswith("[") and "; " in c and c.split()[-1].startswith("×") for r in x["cells"] for c in r)
    assert sum(1 for x in tabs if x.get("beside") == "figure") >= 3
    assert sum(1 for x in tabs if x.get("layout") == "rotated" and x["rotation"] == 90) == 2
    assert {x["kind"] for x in tabs} == {"architecture", "results"}
    assert any(f["caption"].startswith("Fig. ") for f in figs) and any(f["caption"].startswith("Figure ") for f in figs)
    for t in truths:
        assert t["pages"] >= 2
        for f in t["figures"] + t["tables"]:
            assert f["box_px"] == [round(v * t["dpi"] / 72, 1) for v in f["box"]]


def test_metrics_on_the_corpus(corpus):
    d, _ = corpus
    m = evaluate_corpus(d)
    assert m["figure_precision"] >= 0.95 and m["figure_recall"] >= 0.95, m
    assert m["table_precision"] >= 0.95 and m["table_recall"] >= 0.95, m
    assert m["cell_accuracy"] >= 0.97, m
    assert m["figure_caption_accuracy"] >= 0.95, m
    assert m["seconds_per_page_worst"] > 0, m       # speed: measured by the paper stage's metrics, not here


def _table(truth, tables, orientation):
    gt = next(x for x in truth["tables"] if x["kind"] == "architecture" and x["orientation"] == orientation
              and x.get("layout") != "stages")
    got = max(tables, key=lambda t: iou(t["box"], gt["box"]) if t["page"] == gt["page"] else 0)
    return gt, got


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4, 5])
def test_architecture_tables_cells(corpus, seed):
    d, truths = corpus
    truth = truths[seed]
    orientation = "row" if seed % 2 == 0 else "column"
    tables = extract_tables(d / truth["pdf"])
    gt, got = _table(truth, tables, orientation)
    assert iou(got["box"], gt["box"]) >= 0.8
    assert got["cells"] == gt["cells"]          # no leak from the other column, nothing cut off
    assert got["orientation"] == orientation
    assert got["caption"] == gt["caption"] and got["caption"].startswith(f"Table {gt['number']}:")
    flat = [c for r in got["cells"] for c in r]
    assert not any("ﬁ" in c for c in flat)      # NFKC: ligatures resolved
    if orientation == "row":
        assert any(c.endswith("²") for c in flat)   # superscripts kept apart: "224²", not "2242"
        assert got["cells"][0][0] == "layer"


@pytest.mark.parametrize("seed", [1, 4, 7, 10])
def test_stage_tables_brackets_spans_and_wrapped_cells(corpus, seed):
    """ResNet-style: "[3×3, 64; 3×3, 64] ×2" over two lines (paths or tall glyphs), cells spanning
    both configurations, a cell wrapped over two lines, labels centred beside them."""
    from dlpaper2code.paper.table_graph import graph_issues, table_to_graphs
    d, truths = corpus
    truth = truths[seed]
    gt = next(x for x in truth["tables"] if x.get("layout") == "stages")
    tables = extract_tables(d / truth["pdf"])
    got = max(tables, key=lambda t: iou(t["box"], gt["box"]) if t["page"] == gt["page"] else 0)
    assert iou(got["box"], gt["box"]) >= 0.9
    assert got["cells"] == gt["cells"]
    assert got["rules"] == gt["rules"] and got["caption"] == gt["caption"]
    docs = table_to_graphs(got)
    assert [x["source"]["configuration"] for x in docs] == [m["configuration"] for m in gt["models"]]
    for doc, m in zip(docs, gt["models"]):
        assert [n["layer_type"] for n in doc["layers"] if n["layer_type"] != "Input"] == m["layer_types"]
        assert graph_issues(doc) == []


@pytest.mark.parametrize("seed", [5, 11])
def test_rotated_landscape_table(corpus, seed, tmp_path):
    from PIL import Image

    from dlpaper2code.paper.table_graph import table_to_graphs
    d, truths = corpus
    truth = truths[seed]
    gt = next(x for x in truth["tables"] if x.get("layout") == "rotated")
    tables = extract_tables(d / truth["pdf"], tmp_path, crop=True, dpi=72)
    got = max(tables, key=lambda t: iou(t["box"], gt["box"]) if t["page"] == gt["page"] else 0)
    assert iou(got["box"], gt["box"]) >= 0.9 and got["rotation"] == 90    # the box on the physical page
    assert got["cells"] == gt["cells"] and got["caption"] == gt["caption"]
    doc = table_to_graphs(got)[0]
    assert [n["layer_type"] for n in doc["layers"] if n["layer_type"] not in ("Input", "Flatten")] \
        == gt["layer_types"]
    with Image.open(tmp_path / got["png"]) as im:          # the crop is turned upright: wider than tall
        assert im.width > im.height
    figs = extract_figures(d / truth["pdf"])
    assert not [f for f in figs if f["page"] == gt["page"]]     # the turned rules are no figure


def test_caption_under_the_table(corpus):
    """Read upwards from the caption; the paragraph above the table stays out."""
    d, truths = corpus
    below = [(t, x) for t in truths for x in t["tables"] if x.get("caption_below")]
    assert len(below) >= 2
    for truth, gt in below:
        tables = extract_tables(d / truth["pdf"])
        got = max(tables, key=lambda t: iou(t["box"], gt["box"]) if t["page"] == gt["page"] else 0)
        assert got["cells"] == gt["cells"] and iou(got["box"], gt["box"]) >= 0.9 and got["caption"] == gt["caption"]


def test_table_beside_a_figure_takes_nothing_from_it(corpus):
    d, truths = corpus
    for truth in truths:
        for gt in (x for x in truth["tables"] if x.get("beside") == "figure"):
            tables = extract_tables(d / truth["pdf"])
            got = max(tables, key=lambda t: iou(t["box"], gt["box"]) if t["page"] == gt["page"] else 0)
            assert got["cells"] == gt["cells"] and iou(got["box"], gt["box"]) >= 0.9, truth["name"]


def test_figures_crops_and_json(corpus, tmp_path):
    d, truths = corpus
    truth = truths[2]            # raster and vector architecture figures, a plot, two photos side by side
    figs = extract_figures(d / truth["pdf"], tmp_path, dpi=100)
    data = json.loads((tmp_path / "figures.json").read_text())
    assert len(data["figures"]) == len(figs) == len(truth["figures"])
    from PIL import Image
    for gt in truth["figures"]:
        f = max(figs, key=lambda f: iou(f["box"], gt["box"]) if f["page"] == gt["page"] else 0)
        assert iou(f["box"], gt["box"]) >= 0.8 and f["caption"] == gt["caption"]
        with Image.open(tmp_path / f["png"]) as im:
            w, h = im.size
        assert abs(w - (f["box"][2] - f["box"][0]) * 100 / 72) < 8 and abs(h - (f["box"][3] - f["box"][1]) * 100 / 72) < 8


# --------------------------------------------------------------------------- bad input


def _pdf(path, pages=1, text=True, image=False):
    from reportlab.pdfgen import canvas
    c = canvas.Canvas(str(path), pagesize=(612, 792))
    for i in range(pages):
        if text:
            c.drawString(72, 700, f"page {i + 1}")
        if image:
            from PIL import Image
            from reportlab.lib.utils import ImageReader
            c.drawImage(ImageReader(Image.new("RGB", (80, 100), (200, 200, 190))), 0, 0, 612, 792)
        c.showPage()
    c.save()
    return path


def _encrypted(tmp_path, user):
    from pypdf import PdfReader, PdfWriter
    src = _pdf(tmp_path / "plain.pdf")
    w = PdfWriter()
    for p in PdfReader(src).pages:
        w.add_page(p)
    w.encrypt(user_password=user, owner_password="owner-secret")
    out = tmp_path / f"enc_{user or 'nouser'}.pdf"
    with open(out, "wb") as fh:
        w.write(fh)
    return out


def _error(path, **kw) -> PaperError:
    with pytest.raises(PaperError) as ei:
        open_paper(path, **kw)
    e = ei.value
    assert str(path) in str(e)
    return e


def test_encrypted_with_user_password(tmp_path):
    p = _encrypted(tmp_path, "user-secret")
    e = _error(p)
    assert e.kind == "encrypted" and "password" in str(e)
    assert _error(p, password="wrong").kind == "encrypted"
    paper = open_paper(p, password="user-secret")
    assert paper.encrypted and paper.n_pages == 1
    assert read_layout(paper)[0].segments[0].text == "page 1"


def test_encrypted_without_user_password_opens(tmp_path):
    paper = open_paper(_encrypted(tmp_path, ""))
    assert paper.encrypted
    assert read_layout(paper)[0].segments[0].text == "page 1"


def test_truncated(tmp_path):
    full = _pdf(tmp_path / "full.pdf", pages=3).read_bytes()
    p = tmp_path / "cut.pdf"
    p.write_bytes(full[: len(full) // 2])
    e = _error(p)
    assert e.kind == "truncated" and "truncated" in str(e)


def test_not_a_pdf(tmp_path):
    p = tmp_path / "paper.pdf"
    p.write_text("<!DOCTYPE html><html><body>arXiv says: not found</body></html>")
    assert "not a PDF" in str(_error(p)) and _error(p).kind == "not_pdf"
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    assert _error(empty).kind == "not_pdf"
    assert _error(tmp_path / "missing.pdf").kind == "missing"


def test_corrupt_structure(tmp_path):
    p = tmp_path / "junk.pdf"
    p.write_bytes(b"%PDF-1.4\n" + bytes(range(256)) * 20 + b"\n%%EOF\n")
    assert _error(p).kind == "corrupt"


def test_zero_pages(tmp_path):
    from pypdf import PdfWriter
    p = tmp_path / "zero.pdf"
    with open(p, "wb") as fh:
        PdfWriter().write(fh)
    e = _error(p)
    assert e.kind == "no_pages" and "zero pages" in str(e)


def test_scanned_pages_reported(tmp_path):
    p = _pdf(tmp_path / "scan.pdf", pages=2, text=False, image=True)
    paper = open_paper(p)
    layouts = read_layout(paper)
    assert paper.scanned_pages == [1, 2] and not any(pg.has_text for pg in layouts)
    with pytest.raises(PaperError) as ei:
        require_text(paper)
    assert ei.value.kind == "no_text" and "scanned" in str(ei.value)
    assert extract_tables(paper, layouts=layouts) == []       # a graceful empty result, no crash
    mixed = open_paper(_pdf(tmp_path / "ok.pdf", pages=1))
    read_layout(mixed)
    require_text(mixed)


def test_many_pages_and_large_files(tmp_path):
    p = _pdf(tmp_path / "long.pdf", pages=300)
    e = _error(p, max_pages=200)
    assert e.kind == "too_many_pages" and "300 pages" in str(e)
    assert open_paper(p, max_pages=None).n_pages == 300
    big = tmp_path / "big.pdf"
    big.write_bytes(_pdf(tmp_path / "small.pdf").read_bytes())
    with open(big, "r+b") as fh:
        fh.truncate(100 * 1024 * 1024)         # 100 MB (sparse): refused before reading
    e = _error(big)
    assert e.kind == "too_large" and "100.0 MiB" in str(e)
    assert _error(tmp_path / "small.pdf", max_bytes=100).kind == "too_large"


def test_a_batch_of_bad_files_never_crashes(tmp_path):
    bad = [tmp_path / "missing.pdf", _encrypted(tmp_path, "pw")]
    (tmp_path / "x.pdf").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 100)
    bad.append(tmp_path / "x.pdf")
    kinds = []
    for p in bad:
        try:
            extract_figures(p)
        except PaperError as e:
            kinds.append(e.kind)
    assert kinds == ["missing", "encrypted", "not_pdf"]


def test_bracket_pieces_and_unmapped_glyphs():
    """TeX sets a bracket over several lines from pieces ("⎡", "⎢", "⎣") or as one big glyph that
    may have no Unicode mapping ("(cid:N)"): each becomes one bracket graphic, nothing in the text."""
    from dlpaper2code.paper.page import Char, mark_tall_brackets
    chars = [Char("3", 10, 10, 15, 18, 8.0), Char("x", 15, 10, 20, 18, 8.0), Char("3", 20, 10, 25, 18, 8.0),
             Char("⎡", 2, 8, 7, 16, 8.0), Char("⎢", 2, 16, 7, 24, 8.0), Char("⎣", 2, 24, 7, 32, 8.0),
             Char("(cid:3)", 40, 6, 47, 30, 24.0), Char("(cid:7)", 60, 10, 64, 18, 8.0)]
    graphics = []
    mark_tall_brackets(chars, graphics)
    assert "".join(c.text for c in chars) == "3x3"
    assert sorted((g.kind, g.x0, g.top, g.bottom) for g in graphics) == [("bracket", 2, 8, 32), ("bracket", 40, 6, 30)]
    assert all(g.is_bracket for g in graphics)


def test_an_uncaptioned_code_frame_is_no_figure(tmp_path):
    """A code listing in a frame (lines and rectangles, text inside, no caption) is not a figure;
    the same frame with a caption is one."""
    from reportlab.pdfgen import canvas
    pdf = tmp_path / "listing.pdf"
    c = canvas.Canvas(str(pdf), pagesize=(612, 792), invariant=1)
    for k, caption in enumerate((None, "Figure 1: A framed drawing.")):
        top = 650 - 250 * k
        c.rect(100, top - 120, 300, 120, stroke=1, fill=0)
        c.line(100, top - 20, 400, top - 20)
        c.setFont("Courier", 7)
        for i in range(6):
            c.drawString(110, top - 35 - 12 * i, f"<match type='string' value='{i}'/>")
        if caption:
            c.setFont("Times-Roman", 9)
            c.drawString(100, top - 135, caption)
    c.showPage()
    c.save()
    figs = extract_figures(pdf)
    assert len(figs) == 1 and figs[0]["caption"] == "Figure 1: A framed drawing."


def test_same_seed_same_bytes(tmp_path):
    from dlpaper2code.paper import generate_paper, scan_paper
    for d in ("a", "b"):
        generate_paper(tmp_path / d, 5)            # a rotated page, a side-by-side table and plot, captions below
        scan_paper(tmp_path / d / "synth_005.pdf", tmp_path / d / "scan.pdf", dpi=50, pages=[4])
    for name in ("synth_005.pdf", "synth_005.json", "scan.pdf"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_ieee_style_table_caption(tmp_path):
    """"TABLE I" on a line of its own, the title centred under it, both above the table."""
    from reportlab.pdfgen import canvas
    pdf = tmp_path / "ieee.pdf"
    c = canvas.Canvas(str(pdf), pagesize=(612, 792), invariant=1)
    c.setFont("Times-Roman", 8)
    c.drawCentredString(306, 700, "TABLE I")
    c.drawCentredString(306, 690, "ARCHITECTURE OF THE NETWORK")
    c.line(200, 682, 412, 682)
    c.setFont("Times-Roman", 7)
    for i, (a, b) in enumerate([("layer", "configuration"), ("conv1", "conv3-64"), ("pool1", "max pool"),
                                ("fc1", "FC-10")]):
        c.drawString(210, 672 - 11 * i, a)
        c.drawString(300, 672 - 11 * i, b)
    c.line(200, 630, 412, 630)
    c.showPage()
    c.save()
    tables = extract_tables(pdf)
    assert len(tables) == 1 and tables[0]["caption"] == "TABLE I ARCHITECTURE OF THE NETWORK"
    assert tables[0]["number"] == "I" and tables[0]["cells"][1] == ["conv1", "conv3-64"]


def test_figure_clustering_grid_equals_every_pair():
    """The grid clustering (dense plots: 28,000 marks on one real page) groups exactly as comparing
    every pair of boxes does, captions between boxes included."""
    import random

    from dlpaper2code.core.dsu import DisjointSet
    from dlpaper2code.paper.common import gap
    from dlpaper2code.paper.figures import _blocked, _cluster

    def every_pair(boxes, join, blockers):
        c = DisjointSet(len(boxes))
        for i in range(len(boxes)):
            for j in range(i + 1, len(boxes)):
                if gap(boxes[i], boxes[j]) <= join and not _blocked(boxes[i], boxes[j], blockers):
                    c.merge(i, j)
        return c.groups()

    rng = random.Random(7)
    for _ in range(150):
        boxes = []
        for _ in range(rng.randint(1, 90)):
            x, y = rng.uniform(0, 400), rng.uniform(0, 500)
            w, h = (rng.uniform(0, 300), rng.uniform(0, 200)) if rng.random() < 0.1 else \
                (rng.uniform(0, 12), rng.uniform(0, 12))
            boxes.append([x, y, x + w, y + h])
        blockers = []
        for _ in range(rng.randint(0, 3)):
            y = rng.uniform(0, 500)
            blockers.append([rng.uniform(0, 300), y, rng.uniform(300, 500), y + 9])
        join = rng.choice([3.0, 6.0, 14.0])
        assert _cluster(boxes, join, blockers) == every_pair(boxes, join, blockers)
