"""Figures and captions found as a reader sees them, on generated pages that reproduce what real
PDFs do (CI has no real PDFs): a text layer of glyphs without a Unicode map, a page-size
background image, table rules drawn as many tiny images, annotations and drawn marks,
"Fig. N." / "FIGURE N" captions, captions above their figure, sub-figures under one caption,
two figures side by side."""
from __future__ import annotations

import io
import os
import zlib

import pytest

from dlpaper2code.eval.regions import iou
from dlpaper2code.paper import extract_figures
from dlpaper2code.paper.layout import read_layout
from dlpaper2code.paper.pdf import open_paper

BODY = ("The network is trained with stochastic gradient descent for ninety epochs and the learning rate "
        "is divided by ten when the error plateaus on the validation set of the benchmark.")


def _vera():
    import reportlab
    return os.path.join(os.path.dirname(reportlab.__file__), "fonts", "Vera.ttf")


def _cid_pdf(path, lines):
    """One page whose visible text is a picture and whose text layer uses a CID font with neither a
    ToUnicode map nor a font file: pdfminer reads every glyph as "(cid:N)" (a 1998 journal's PDF)."""
    from PIL import Image, ImageDraw, ImageFont

    W, H, dpi = 612, 792, 200
    img = Image.new("L", (W * dpi // 72, H * dpi // 72), 255)
    d = ImageDraw.Draw(img)
    font = ImageFont.truetype(_vera(), 11 * dpi // 72)
    y = 72
    for line in lines:
        d.text((72 * dpi / 72, y * dpi / 72), line, fill=0, font=font)
        y += 18
    raw = zlib.compress(img.tobytes())
    text = b"BT /F1 11 Tf 3 Tr 72 700 Td " + b" ".join(
        b"<" + "".join("%04x" % (ord(ch) + 3) for ch in line).encode() + b"> Tj 0 -18 Td" for line in lines) + b" ET"
    content = b"q %d 0 0 %d 0 0 cm /Im1 Do Q " % (W, H) + text
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> /XObject << /Im1 6 0 R >> >> >>" % (W, H),
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type0 /BaseFont /OldFont /Encoding /Identity-H /DescendantFonts [7 0 R] >>",
        b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray /BitsPerComponent 8 "
        b"/Filter /FlateDecode /Length %d >>\nstream\n" % (img.width, img.height, len(raw)) + raw + b"\nendstream",
        b"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /OldFont /CIDSystemInfo << /Registry (Adobe) "
        b"/Ordering (Identity) /Supplement 0 >> /FontDescriptor 8 0 R /DW 500 >>",
        b"<< /Type /FontDescriptor /FontName /OldFont /Flags 4 /FontBBox [0 -200 1000 800] /ItalicAngle 0 "
        b"/Ascent 800 /Descent -200 /CapHeight 700 /StemV 80 >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for i, o in enumerate(objs, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % i + o + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1))
    for o in offsets:
        out.write(b"%010d 00000 n \n" % o)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref))
    path.write_bytes(out.getvalue())


def test_a_text_layer_without_unicode_is_read_like_a_scan(tmp_path):
    from dlpaper2code.paper.pipeline import process_paper
    from dlpaper2code.paper.options import PaperOptions

    pdf = tmp_path / "old.pdf"
    _cid_pdf(pdf, ["Figure 1: The network of the old journal paper.", BODY[:60], BODY[60:120], BODY[120:]])
    paper = open_paper(pdf)
    (page,) = read_layout(paper)
    assert paper.unreadable_pages == [1] and paper.scanned_pages == [1]
    assert not any("cid:" in s.text for s in page.segments)          # no garbage taken for text
    report = process_paper(pdf, tmp_path / "out", PaperOptions(figure_classifier=""))
    assert report["unreadable_pages"] == [1] and report["ocr_pages"] == [1]
    assert "unreadable" in report["steps"]["layout"]["note"]


def _diagram(c, x, y, w=180, h=90):
    """A small vector block diagram: three boxes joined by arrows, labelled; its box (top-left origin)."""
    bw = (w - 40) / 3
    for k, label in enumerate(("conv 3x3", "pool", "fc 10")):
        bx = x + k * (bw + 20)
        c.rect(bx, y, bw, h, stroke=1, fill=0)
        c.drawString(bx + 4, y + h / 2, label)
        if k:
            c.line(bx - 20, y + h / 2, bx, y + h / 2)
    return [x, 792 - (y + h), x + w, 792 - y]


def _body(c, x, y, lines=6, width=230):
    c.setFont("Helvetica", 9)
    words = BODY.split()
    for k in range(lines):
        c.drawString(x, y - 11 * k, " ".join(words[(k * 5) % 20:(k * 5) % 20 + 9])[:60])


def _pdf(path, draw):
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=(612, 792))
    c.setFont("Helvetica", 9)
    truth = draw(c)
    c.showPage()
    c.save()
    return truth


def _the_figure(pdf, draw):
    """Draw one page with `draw` (it returns the true figure box), extract its figures: the only
    one found (there must be exactly one) and that box."""
    box = _pdf(pdf, draw)
    (fig,) = extract_figures(pdf)
    return fig, box


def _only_captioned(figs):
    return [f for f in figs if f["caption"]]


def test_a_page_size_background_image_is_not_a_figure(tmp_path):
    from PIL import Image
    from reportlab.lib.utils import ImageReader

    def draw(c):
        bg = ImageReader(Image.new("RGB", (60, 80), (250, 248, 240)))
        c.drawImage(bg, 20, 25, 572, 742)                 # a scanner's page background, not the whole page
        box = _diagram(c, 60, 560)
        c.drawString(60, 540, "Figure 3: The network with all the bells and whistles.")
        _body(c, 320, 640)                               # body text in the other column, beside the figure
        _body(c, 60, 480)
        return box
    fig, box = _the_figure(tmp_path / "bg.pdf", draw)
    assert fig["caption"].startswith("Figure 3") and iou(fig["box"], box) >= 0.8


def test_table_rules_drawn_as_tiny_images_are_not_figures(tmp_path):
    from PIL import Image
    from reportlab.lib.utils import ImageReader

    piece = ImageReader(Image.new("L", (4, 1), 0))

    def draw(c):
        c.drawString(100, 720, "Table 1: Layers of the network.")
        for y in (706, 690, 640):                       # three rules, each drawn as 4-point image segments
            for x in range(100, 400, 4):
                c.drawImage(piece, x, y, 4, 0.6)
        for x in (100, 190, 290, 400):                  # and the column rules, 4-point pieces too
            for y in range(640, 706, 4):
                c.drawImage(piece, x, y, 0.6, 4)
        rows = [("layer", "kernel", "output"), ("conv", "3x3", "64"), ("pool", "2x2", "32"), ("fc", "-", "10")]
        y = 695
        for row in rows:
            for x, t in zip((110, 200, 300), row):
                c.drawString(x, y, t)
            y -= 14
        _body(c, 100, 600)
    pdf = tmp_path / "rules.pdf"
    _pdf(pdf, draw)
    assert extract_figures(pdf) == []


def test_annotations_and_a_drawn_mark_do_not_make_or_break_a_figure(tmp_path):
    def draw(c):
        box = _diagram(c, 100, 560)
        c.drawString(100, 540, "Figure 2: A network.")
        _body(c, 100, 500)
        c.linkURL("https://example.org", (100, 490, 300, 502))               # a link annotation
        c.textAnnotation("a reader's note", Rect=(400, 700, 420, 720))      # a note annotation
        c.setFillColorRGB(1, 1, 0, alpha=0.3)
        c.rect(130, 580, 60, 40, stroke=0, fill=1)                            # a marker drawn over the figure
        c.setFillColorRGB(0, 0, 0)
        return box
    fig, box = _the_figure(tmp_path / "annotated.pdf", draw)
    assert iou(fig["box"], box) >= 0.8 and fig["caption"].startswith("Figure 2")


@pytest.mark.parametrize("caption", ["Fig. 3. A network.", "FIGURE 3. A network.", "Fig 3: A network.",
                                     "Figure 3 | A network."])
def test_caption_styles(tmp_path, caption):
    def draw(c):
        box = _diagram(c, 100, 560)
        c.drawString(100, 540, caption)
        _body(c, 100, 500)
        return box
    fig, box = _the_figure(tmp_path / "styles.pdf", draw)
    assert fig["caption"] == caption and fig["number"] == 3 and iou(fig["box"], box) >= 0.8


def test_a_caption_above_its_figure(tmp_path):
    def draw(c):
        _body(c, 100, 720, lines=3)
        c.drawString(100, 670, "Figure 4: The model, captioned above.")
        return _diagram(c, 100, 560)
    fig, box = _the_figure(tmp_path / "above.pdf", draw)
    assert fig["number"] == 4 and iou(fig["box"], box) >= 0.8


def test_sub_figures_stay_under_their_caption_and_side_by_side_figures_split(tmp_path):
    def draw(c):
        a = _diagram(c, 80, 600, w=200)
        c.drawString(170, 590, "(a)")
        b = _diagram(c, 320, 600, w=200)
        c.drawString(410, 590, "(b)")
        c.drawString(80, 570, "Figure 1: Two variants: (a) plain, (b) wide.")
        left = _diagram(c, 60, 380, w=200)
        c.drawString(60, 360, "Figure 2: The encoder.")
        right = _diagram(c, 340, 380, w=200)
        c.drawString(340, 360, "Figure 3: The decoder.")
        _body(c, 60, 300)
        whole = [a[0], a[1], b[2], a[3] + 12]
        return whole, left, right
    pdf = tmp_path / "subfigures.pdf"
    whole, left, right = _pdf(pdf, draw)
    figs = {f["number"]: f for f in _only_captioned(extract_figures(pdf))}
    assert set(figs) == {1, 2, 3}
    assert iou(figs[1]["box"], whole) >= 0.8
    assert iou(figs[2]["box"], left) >= 0.8 and iou(figs[3]["box"], right) >= 0.8
    assert len(extract_figures(pdf)) == 3


def test_a_plot_keeps_its_turned_axis_title_and_its_panel_title(tmp_path):
    """A vertical axis title (turned text is not read, but it is the figure's ink) and a panel
    title in the body's size just above the plot belong to the figure's box."""
    def draw(c):
        c.rect(120, 560, 200, 120)                       # the plot's frame
        c.setFont("Helvetica", 6)
        for k in range(5):
            c.line(120, 560 + 24 * k, 126, 560 + 24 * k)     # ticks and their labels
            c.drawString(108, 558 + 24 * k, f"0.{k + 5}")
        c.setFont("Helvetica", 9)
        c.drawString(170, 684, "Accuracy vs Depth")          # a panel title, body size, touching the frame
        c.saveState()
        c.translate(103, 590)
        c.rotate(90)
        c.drawString(0, 0, "Top-1 accuracy")              # the turned axis title, left of the frame
        c.restoreState()
        c.drawString(100, 540, "Figure 6: Accuracy of the variants.")
        _body(c, 100, 500)
        return [93.0, 792 - 693, 320.0, 792 - 558]
    fig, box = _the_figure(tmp_path / "plot.pdf", draw)
    assert fig["number"] == 6
    assert fig["box"][0] < 104 and fig["box"][1] < 792 - 684        # the axis title and the panel title inside
    assert iou(fig["box"], box) >= 0.8


def test_a_picture_larger_than_its_clipping_rectangle_is_only_what_shows(tmp_path):
    """A photo placed taller than the rectangle that clips it (a figure trimmed in LaTeX, as on
    Mask R-CNN's first page): the figure is the clipped part, not the text above it."""
    from PIL import Image
    from reportlab.lib.utils import ImageReader

    def draw(c):
        c.setFont("Helvetica", 12)
        c.drawString(330, 660, "Author One    Author Two")          # above the picture, inside its full box
        c.saveState()
        p = c.beginPath()
        p.rect(320, 480, 220, 120)
        c.clipPath(p, stroke=0, fill=0)
        c.drawImage(ImageReader(Image.new("RGB", (40, 60), (30, 90, 160))), 320, 480, 220, 220)
        c.restoreState()
        c.setFont("Helvetica", 9)
        c.drawString(320, 465, "Figure 1. The framework.")
        _body(c, 60, 700)
        return [320, 792 - 600, 540, 792 - 480]
    fig, box = _the_figure(tmp_path / "clipped.pdf", draw)
    assert fig["number"] == 1 and iou(fig["box"], box) >= 0.9


def test_a_running_header_and_its_rule_stay_out_of_a_figure_under_them(tmp_path):
    """StixelNet's pages: a running header and its rule in the top margin, a figure right under them;
    and a figure of three rows of panels under one caption."""
    from PIL import Image
    from reportlab.lib.utils import ImageReader

    def draw(c):
        c.setFont("Helvetica", 9)
        c.drawString(40, 775, "AUTHORS: A SHORT TITLE OF THE PAPER")
        c.line(36, 768, 576, 768)                          # the header's rule, in the top margin
        panel = ImageReader(Image.new("RGB", (40, 20), (120, 30, 30)))
        for row in range(3):                               # three rows of two panels, 5 points apart
            for col in range(2):
                c.drawImage(panel, 60 + col * 250, 704 - row * 65, 240, 60)     # 4 points under the rule
        c.drawString(60, 560, "Figure 5: Example results, three rows of two panels each: the detections on the left, the maps on the right.")
        _body(c, 60, 520)
        return [60, 792 - 764, 550, 792 - 574]
    fig, box = _the_figure(tmp_path / "header.pdf", draw)
    assert fig["number"] == 5 and iou(fig["box"], box) >= 0.9


def test_a_cover_sheet_of_another_size_gives_no_figures(tmp_path):
    """A reader's copy from a repository starts with a cover sheet of another page size (logos,
    badges, a download notice): none of it is a figure of the paper."""
    from PIL import Image
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    pdf = tmp_path / "cover.pdf"
    c = canvas.Canvas(str(pdf), pagesize=(595, 842))           # A4 cover sheet
    c.drawImage(ImageReader(Image.new("RGB", (20, 20), (0, 120, 200))), 60, 700, 80, 80)
    c.drawImage(ImageReader(Image.new("RGB", (20, 20), (200, 120, 0))), 300, 700, 120, 60)
    c.setFont("Helvetica", 9)
    c.drawString(60, 650, "See discussions, stats, and author profiles for this publication.")
    c.showPage()
    for n in (1, 2):                                            # the paper: US letter
        c.setPageSize((612, 792))
        c.setFont("Helvetica", 9)
        _diagram(c, 100, 560)
        c.drawString(100, 540, f"Fig. {n}. A network.")
        _body(c, 100, 500)
        c.showPage()
    c.save()
    figs = extract_figures(pdf)
    assert [f["page"] for f in figs] == [2, 3] and [f["number"] for f in figs] == [1, 2]


def test_a_white_background_drawn_behind_a_figure_and_its_caption(tmp_path):
    """StixelNet's Figure 2: the drawing comes with a white rectangle behind it and its caption."""
    def draw(c):
        c.setFillColorRGB(1, 1, 1)
        c.rect(50, 500, 330, 210, stroke=0, fill=1)         # the background, caption included
        c.setFillColorRGB(0, 0, 0)
        box = _diagram(c, 70, 590)
        c.drawString(120, 570, "Figure 2: The architecture.")
        _body(c, 60, 470)
        return box
    fig, box = _the_figure(tmp_path / "background.pdf", draw)
    assert fig["number"] == 2 and iou(fig["box"], box) >= 0.8


def test_a_drawing_labelled_beside_its_shapes_is_read_from_its_text(tmp_path):
    """StixelNet-like: blocks drawn as shapes with numbers inside, each named by a label above it."""
    from dlpaper2code.paper.layout import read_layout
    from dlpaper2code.paper.vecfig import vector_graph

    def draw(c):
        c.setFont("Helvetica", 6)
        for k, (name, size) in enumerate((("convolutional", "64"), ("max pooling", "2"), ("convolutional", "128"),
                                          ("fully connected", "1024"), ("fully connected", "10"))):
            x = 80 + 90 * k
            c.drawString(x, 690, f"Layer {k + 1}:")
            c.drawString(x, 682, name)
            c.rect(x, 600, 60, 70)
            c.drawString(x + 20, 630, size)
            if k:
                c.line(x - 30, 635, x, 635)
        c.setFont("Helvetica", 9)
        c.drawString(80, 580, "Figure 2: The network.")
        _body(c, 80, 540)
    pdf = tmp_path / "beside.pdf"
    _pdf(pdf, draw)
    (page,) = read_layout(open_paper(pdf))
    doc, info = vector_graph(page, [70, 92, 540, 200])
    # read stage by stage from its words (paper.stagefig): each "Layer k:" heading with the number in its box
    assert doc is not None and info["reader"] == "stages" and info["confidence"] == 0.5
    assert [(n["layer_type"], n["layer_params"]) for n in doc["layers"]] == [
        ("Input", {}), ("Conv2D", {"filters": 64}), ("MaxPool2D", {}), ("Conv2D", {"filters": 128}),
        ("Dense", {"units": 1024}), ("Dense", {"units": 10})]
