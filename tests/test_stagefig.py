"""3D-box and stacked feature-map figures (paper/stagefig.py), drawn with reportlab in the two
styles the issue describes and the dev papers show: cuboids named "Layer k: convolutional" with
the channel count under each and "Max pooling (8X4)" beside it, bars for the fully connected
layers; and stacks of planes named "C1: feature maps 6@28x28" ... "OUTPUT 10".  A plot whose
legend repeats layer names is not read."""
from __future__ import annotations

import pytest

from conftest import drawn_page as _page

from dlpaper2code.paper.stagefig import stage_graph
from dlpaper2code.paper.vecfig import vector_graph


def _cuboid(c, x, y, w, h, d):
    """A box in perspective: front face, top face and side face as closed paths."""
    c.rect(x, y, w, h)
    for pts in ([(x, y + h), (x + d, y + h + d), (x + w + d, y + h + d), (x + w, y + h)],
                [(x + w, y), (x + w + d, y + d), (x + w + d, y + h + d), (x + w, y + h)]):
        p = c.beginPath()
        p.moveTo(*pts[0])
        for q in pts[1:]:
            p.lineTo(*q)
        p.close()
        c.drawPath(p)


def _types(doc):
    return [(l["layer_type"], l["layer_params"]) for l in doc["layers"]]


def test_cuboids_named_layer_by_layer(tmp_path):
    def draw(c):
        c.setFont("Helvetica", 6)
        _cuboid(c, 60, 560, 12, 110, 20)                 # the input, no heading
        c.drawString(48, 610, "227")
        c.drawString(62, 552, "3")
        stages = [("convolutional", "96", "Max pooling (3x3)"), ("convolutional", "256", "Max pooling (3x3)")]
        for k, (name, n, pool) in enumerate(stages):
            x = 130 + 90 * k
            c.drawString(x, 700, f"Layer {k + 1}:")
            c.drawString(x - 6, 693, name)
            _cuboid(c, x, 580, 20, 70, 18)
            c.drawString(x + 4, 572, n)
            c.drawString(x + 26, 572, pool)
        for k, n in enumerate(("4096", "4096", "1000")):
            x = 330 + 60 * k
            c.drawString(x - 10, 700, f"Layer {k + 3}:")
            c.drawString(x - 14, 693, "fully connected")
            c.rect(x, 580, 10, 90)
            c.drawString(x - 2, 572, n)
            c.drawString(x - 40, 625, "Dense")
            c.line(x - 45, 620, x, 620)
    page = _page(tmp_path / "cuboids.pdf", draw)
    doc, info = stage_graph(list(page.segments) + list(page.turned), [30, 80, 560, 230])
    assert info["status"] == "ok" and info["stages"] == 5
    assert _types(doc) == [("Input", {}), ("Conv2D", {"filters": 96}), ("MaxPool2D", {"pool_size": 3}),
                           ("Conv2D", {"filters": 256}), ("MaxPool2D", {"pool_size": 3}),
                           ("Dense", {"units": 4096}), ("Dense", {"units": 4096}), ("Dense", {"units": 1000})]
    # through the vector route: the boxes hold no layer names, so the words are read stage by stage
    doc2, info2 = vector_graph(page, [30, 80, 560, 230])
    assert info2["reader"] == "stages" and _types(doc2) == _types(doc)


def _stacked(c):
    """Stacks of planes named "C1: feature maps 6@28x28" ... "OUTPUT 10", operations written under the gaps."""
    c.setFont("Helvetica", 6)
    heads = [("INPUT", "32x32"), ("C1: feature maps", "6@28x28"), ("S2: f. maps", "6@14x14"),
             ("C3: f. maps", "16@10x10"), ("S4: f. maps", "16@5x5"), ("C5: layer", "120"),
             ("F6: layer", "84"), ("OUTPUT", "10")]
    for k, (a, b) in enumerate(heads):
        x = 50 + 62 * k
        c.drawString(x, 700, a)
        c.drawString(x, 693, b)
        for j in range(3 if k and k < 5 else 1):                    # a stack of planes
            c.rect(x + 3 * j, 620 - 3 * j, 30, 50)
    for k, op in enumerate(("Convolutions", "Subsampling", "Convolutions", "Subsampling", "Full connection",
                            "Full connection", "Gaussian connections")):
        c.drawString(80 + 62 * k, 600, op)


def test_stacked_planes_named_with_map_counts(tmp_path):
    page = _page(tmp_path / "stacked.pdf", _stacked)
    doc, info = stage_graph(list(page.segments), [40, 80, 560, 200])
    assert info["status"] == "ok"
    assert _types(doc) == [("Input", {"shape": [32, 32]}), ("Conv2D", {"filters": 6}), ("AvgPool2D", {}),
                           ("Conv2D", {"filters": 16}), ("AvgPool2D", {}), ("Conv2D", {"filters": 120}),
                           ("Dense", {"units": 84}), ("Dense", {"units": 10})]


def test_a_legend_that_repeats_layer_names_is_not_stages(tmp_path):
    def draw(c):
        c.setFont("Helvetica", 7)
        for k in range(3):
            c.drawString(100, 700 - 30 * k, "fc6")
            c.drawString(300, 700 - 30 * k, "fc7")
            c.drawString(140, 700 - 30 * k, f"mAP 66.{k}% @ 320ms / image")
    page = _page(tmp_path / "legend.pdf", draw)
    doc, info = stage_graph(list(page.segments), [50, 60, 560, 200])
    assert doc is None and info["status"] == "no_diagram"


@pytest.mark.parametrize("engine", ["rapidocr", "tesseract"])
def test_a_raster_stacked_figure_through_ocr(tmp_path, engine):
    """The same stacked style embedded as pixels: the OCR engine's words (figure_words) read stage
    by stage; the planes' strokes an engine takes for letters are dropped."""
    import subprocess

    from dlpaper2code.paper.ocr import figure_words

    _page(tmp_path / "stacked.pdf", _stacked)
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-singlefile", "-x", "83", "-y", "167", "-W", "1083", "-H", "250",
                    str(tmp_path / "stacked.pdf"), str(tmp_path / "crop")], check=True)
    segs = figure_words(tmp_path / "crop.png", engine=engine)
    doc, info = stage_graph(segs, [0, 0, 1083, 250])
    assert info["status"] == "ok", info
    assert _types(doc) == [("Input", {"shape": [32, 32]}), ("Conv2D", {"filters": 6}), ("AvgPool2D", {}),
                           ("Conv2D", {"filters": 16}), ("AvgPool2D", {}), ("Conv2D", {"filters": 120}),
                           ("Dense", {"units": 84}), ("Dense", {"units": 10})]


def test_cuboids_with_numbers_and_no_headings(tmp_path):
    """The 3D style the issue describes: cuboids with their sizes printed on the edges (the spatial
    size twice, the channels once), a small kernel slice drawn inside with its size, "stride of 2"
    beside the input, "Max pooling" under a volume, two parallel streams drawn one over the other
    (their channels add up), and flat bars for the dense layers ("dense" between them)."""
    from dlpaper2code.paper.stagefig import volume_graph

    def vol(c, x, y, w, h, d, size, chans, kernel=None):
        _cuboid(c, x, y, w, h, d)
        c.setFont("Helvetica", 6)
        c.drawString(x - 10, y + h / 2, str(size))            # height, on the left edge
        c.drawString(x + w / 2 - 4, y - 7, str(size))         # width, under the front face
        c.drawString(x + w + d + 2, y + d / 2, str(chans))    # depth, on the right
        if kernel:
            _cuboid(c, x + 2, y + h / 3, 5, 5, 3)
            c.drawString(x + 3, y + h / 3 + 9, str(kernel))
            c.drawString(x + 9, y + h / 3 + 2, str(kernel))

    def draw(c):
        vol(c, 60, 560, 10, 90, 14, 128, 3, kernel=9)
        c.setFont("Helvetica", 6)
        c.drawString(60, 545, "stride of 2")
        for dy in (0, 80):                                      # two streams
            vol(c, 150, 520 + dy, 14, 45, 30, 31, 32, kernel=5)
        c.drawString(150, 505, "Max pooling")
        for dy in (0, 80):
            vol(c, 250, 530 + dy, 12, 35, 36, 15, 96, kernel=3)
        for dy in (0, 80):
            vol(c, 350, 535 + dy, 10, 25, 40, 7, 128)
        for k, n in enumerate((512, 512, 10)):
            x = 440 + 40 * k
            c.rect(x, 560, 6, 80)
            c.drawString(x - 4, 552, str(n))
            if k < 2:
                c.drawString(x + 10, 602, "dense")
    page = _page(tmp_path / "volumes.pdf", draw)
    box = [40, 80, 570, 300]
    assert stage_graph(list(page.segments), box)[0] is None          # no stage headings
    doc, info = volume_graph(page.graphics, list(page.segments), box)
    assert info["status"] == "ok" and info["stages"] == 7, info
    assert _types(doc) == [("Input", {"shape": [128, 128, 3]}),
                           ("Conv2D", {"filters": 64, "kernel_size": 9, "strides": 2}), ("MaxPool2D", {}),
                           ("Conv2D", {"filters": 192, "kernel_size": 5}), ("Conv2D", {"filters": 256, "kernel_size": 3}),
                           ("Dense", {"units": 512}), ("Dense", {"units": 512}), ("Dense", {"units": 10})]
