"""The vector figure reader (paper/vecgraph.py) on figures drawn with reportlab in the styles met on
real pages: a residual column with shortcut arcs onto the main line, a transformer block drawn
bottom-up inside a repeated group, a branching module that joins in a concatenation, two networks
side by side (the caption names one), labels written upwards inside bars with numbers over them,
and a plot whose markers must not be read as a diagram."""
from __future__ import annotations

import pytest
from conftest import drawn_page as _pdf

from dlpaper2code.paper.vecgraph import label_layers, read_vector_graph


def _arrow(c, x0, y0, x1, y1, head=True):
    """A line from (x0, y0) to (x1, y1) (PDF coordinates) with a filled triangle at its end."""
    import math

    c.line(x0, y0, x1, y1)
    if head:
        a = math.atan2(y1 - y0, x1 - x0)
        p = c.beginPath()
        p.moveTo(x1, y1)
        p.lineTo(x1 - 5 * math.cos(a) + 2.5 * math.sin(a), y1 - 5 * math.sin(a) - 2.5 * math.cos(a))
        p.lineTo(x1 - 5 * math.cos(a) - 2.5 * math.sin(a), y1 - 5 * math.sin(a) + 2.5 * math.cos(a))
        p.close()
        c.drawPath(p, stroke=1, fill=1)


def _box(c, x, y, w, h, label, size=7, up=False):
    c.rect(x, y, w, h)
    c.setFont("Helvetica", size)
    if up:
        c.saveState()
        c.translate(x + w / 2 + size / 3, y + 4)
        c.rotate(90)
        c.drawString(0, 0, label)
        c.restoreState()
    else:
        c.drawCentredString(x + w / 2, y + h / 2 - size / 3, label)


def _types(doc):
    return [l["layer_type"] for l in doc["layers"]]


def _by_name(doc):
    return {l["layer_name"]: l for l in doc["layers"]}


RESNET_COLUMN = ["7x7 conv, 64, /2", "pool, /2", "3x3 conv, 64", "3x3 conv, 64", "3x3 conv, 64", "3x3 conv, 64",
                 "3x3 conv, 128, /2", "3x3 conv, 128", "avg pool", "fc 1000"]


def _resnet_column(c, x, top, labels, shortcuts=True, title=None):
    """A column of boxes top-down joined by arrows; a shortcut arc (a Bezier curve, dashed where the
    width changes) from the arrow above every second conv pair to the arrow below it."""
    w, h, gap = 90, 12, 14
    ys = [top - k * (h + gap) for k in range(len(labels))]
    if title:
        c.setFont("Helvetica", 8)
        c.drawCentredString(x + w / 2, top + 42, title)
    c.setFont("Helvetica", 7)
    c.drawCentredString(x + w / 2, top + 32, "image")
    _arrow(c, x + w / 2, top + 30, x + w / 2, top + h)
    for k, (y, lab) in enumerate(zip(ys, labels)):
        _box(c, x, y, w, h, lab)
        if k + 1 < len(labels):
            _arrow(c, x + w / 2, y, x + w / 2, ys[k + 1] + h)
    if shortcuts:
        cx = x + w / 2
        for a in (2, 4, 6):            # from the arrow into box a to the arrow out of box a+1
            y_from = ys[a] + h + gap / 2
            y_to = ys[a + 1] - gap / 2
            c.saveState()
            if a == 6:
                c.setDash(2, 2)
            p = c.beginPath()
            p.moveTo(cx, y_from)
            p.curveTo(cx + 70, y_from, cx + 70, y_to, cx + 8, y_to)
            c.drawPath(p, stroke=1, fill=0)
            c.restoreState()
            _arrow(c, cx + 8, y_to, cx, y_to)
    return ys


def test_residual_column_gives_adds_where_the_shortcut_arcs_land(tmp_path):
    page = _pdf(tmp_path / "resnet.pdf", lambda c: _resnet_column(c, 200, 700, RESNET_COLUMN))
    docs, info = read_vector_graph(page, [150, 30, 420, 380], caption="Figure 3. A residual network.")
    assert info["status"] == "ok", info
    doc = docs[0]
    assert [t for t in _types(doc) if t != "Add"] == ["Input", "Conv2D", "MaxPool2D"] + ["Conv2D"] * 6 + \
        ["AvgPool2D", "Dense"]
    assert _types(doc).count("Add") == 3
    L = _by_name(doc)
    assert L["conv2d1"]["layer_params"] == {"kernel_size": 7, "filters": 64, "strides": 2}
    assert L["maxpool2d1"]["layer_params"] == {"strides": 2}
    assert L["dense1"]["layer_params"] == {"units": 1000}
    # the first shortcut: the pool's output added to the second 3x3 conv's, feeding the third
    add1 = next(l for l in doc["layers"] if l["layer_type"] == "Add")
    assert sorted(add1["from_layers"]) == ["conv2d3", "maxpool2d1"]
    assert L["conv2d4"]["from_layers"] == [add1["layer_name"]]
    assert info["arrowheads"] >= 12 and info["taps"] == 6


def test_two_columns_side_by_side_the_caption_names_the_first(tmp_path):
    def draw(c):
        _resnet_column(c, 80, 700, RESNET_COLUMN, shortcuts=False, title="34-layer plain")
        _resnet_column(c, 300, 700, RESNET_COLUMN, shortcuts=True, title="34-layer residual")
    page = _pdf(tmp_path / "two.pdf", draw)
    docs, info = read_vector_graph(page, [40, 30, 480, 380], caption="Figure 3. Right: a 34-layer residual network.")
    assert len(docs) == 2 and info["graphs"] == 2
    assert _types(docs[0]).count("Add") == 3 and "Add" not in _types(docs[1])
    docs, _ = read_vector_graph(page, [40, 30, 480, 380], caption="Figure 3. Left: the plain network.")
    assert "Add" not in _types(docs[0])


def test_transformer_block_bottom_up_in_a_repeated_group(tmp_path):
    def draw(c):
        x, w = 250, 110
        c.setFont("Helvetica", 7)
        c.drawCentredString(x + w / 2, 300, "Inputs")
        _box(c, x, 320, w, 16, "Input Embedding")
        _arrow(c, x + w / 2, 308, x + w / 2, 320)
        # the "+" junction where the positional encoding comes in
        c.circle(x + w / 2, 356, 5)
        c.line(x + w / 2 - 5, 356, x + w / 2 + 5, 356)
        c.line(x + w / 2, 351, x + w / 2, 361)
        _arrow(c, x + w / 2, 336, x + w / 2, 351)
        _box(c, x - 90, 350, 70, 12, "Positional Encoding")
        _arrow(c, x - 20, 356, x + w / 2 - 5, 356)
        # the block, repeated: a group box around its layers, "2×" beside it
        c.rect(x - 10, 375, w + 20, 150)
        c.setFont("Helvetica", 9)
        c.drawString(x + w + 16, 445, "2×")
        ys = [(390, "Multi-Head Attention"), (420, "Add & Norm"), (455, "Feed Forward"), (490, "Add & Norm")]
        for y, lab in ys:
            _box(c, x, y, w, 16, lab)
        _arrow(c, x + w / 2, 361, x + w / 2, 390)
        for (y0, _), (y1, _) in zip(ys, ys[1:]):
            _arrow(c, x + w / 2, y0 + 16, x + w / 2, y1)
        # residual lines: from below a sub-layer, round its left side, into its Add & Norm
        for y_from, y_to in ((372, 428), (440, 498)):
            p = c.beginPath()
            p.moveTo(x + w / 2, y_from)
            p.lineTo(x - 5, y_from)
            p.lineTo(x - 5, y_to)
            c.drawPath(p, stroke=1, fill=0)
            _arrow(c, x - 5, y_to, x, y_to)
        _box(c, x, 540, w, 16, "Linear")
        _arrow(c, x + w / 2, 506, x + w / 2, 540)
    page = _pdf(tmp_path / "transformer.pdf", draw)
    docs, info = read_vector_graph(page, [120, 220, 420, 500], caption="Figure 1: The Transformer encoder.")
    assert info["status"] == "ok", info
    types = _types(docs[0])
    block = ["MultiHeadAttention", "Add", "LayerNorm", "feed_forward", "Add", "LayerNorm"]
    assert types == ["Input", "Embedding", "PositionalEncoding", "Add"] + block * 2 + ["Dense"], types
    L = _by_name(docs[0])
    # each Add & Norm adds the sub-layer's input (the residual line) to its output
    assert sorted(L["add2"]["from_layers"]) == ["add1", "multiheadattention1"]
    assert sorted(L["add3"]["from_layers"]) == ["feedforward1", "layernorm1"]
    assert L["multiheadattention2"]["from_layers"] == ["layernorm2"]      # the second copy follows the first
    assert info["repeats"] == 1


def test_branches_join_in_a_concatenation_and_labels_written_upwards(tmp_path):
    def draw(c):
        _box(c, 250, 640, 100, 14, "Previous layer")
        branches = [["1x1 conv"], ["1x1 conv", "3x3 conv"], ["3x3 max pool", "1x1 conv"]]
        for k, br in enumerate(branches):
            x = 170 + 90 * k
            y = 600
            _arrow(c, 300, 640, x + 35, y + 14)
            for j, lab in enumerate(br):
                _box(c, x, y - 40 * j, 70, 14, lab)
                if j:
                    _arrow(c, x + 35, y - 40 * (j - 1), x + 35, y - 40 * j + 14)
            _arrow(c, x + 35, y - 40 * (len(br) - 1), 300, 500)
        _box(c, 250, 486, 100, 14, "Filter concatenation")
        # a second part: bars with labels written upwards, a channel count printed over each
        for k, (lab, n) in enumerate((("Conv 7×7", "64"), ("Pooling: 3×3", ""), ("Conv 1×1", "192"))):
            x = 180 + 40 * k
            _box(c, x, 300, 14, 70, lab, up=True)
            if n:
                c.setFont("Helvetica", 7)
                c.drawCentredString(x + 7, 374, n)
            if k:
                c.line(x - 26, 335, x, 335)
    page = _pdf(tmp_path / "inception.pdf", draw)
    docs, info = read_vector_graph(page, [150, 130, 460, 500], caption="Figure 2: Inception module.")
    doc = next(d for d in docs if "Concat" in _types(d))
    concat = next(l for l in doc["layers"] if l["layer_type"] == "Concat")
    assert len(concat["from_layers"]) == 3
    assert _types(doc) == ["Input", "Conv2D", "Conv2D", "Conv2D", "MaxPool2D", "Conv2D", "Concat"]
    bars = next(d for d in docs if "Concat" not in _types(d))
    assert [(l["layer_type"], l["layer_params"]) for l in bars["layers"]] == [
        ("Conv2D", {"kernel_size": 7, "filters": 64}), ("MaxPool2D", {"pool_size": 3}),
        ("Conv2D", {"kernel_size": 1, "filters": 192})]


def test_a_plot_with_markers_is_not_a_diagram(tmp_path):
    def draw(c):
        _box(c, 100, 500, 60, 12, "Dense")
        _box(c, 100, 470, 60, 12, "Softmax")
        for k in range(30):
            c.circle(200 + 8 * k, 480 + (k % 5) * 6, 2, fill=1)
            if k:
                c.line(200 + 8 * (k - 1), 480 + ((k - 1) % 5) * 6, 200 + 8 * k, 480 + (k % 5) * 6)
    page = _pdf(tmp_path / "plot.pdf", draw)
    docs, info = read_vector_graph(page, [80, 250, 500, 340])
    assert docs == [] and info["status"] == "no_diagram" and "plot" in info["why"]


@pytest.mark.parametrize("label, want", [
    ("3x3 conv, 64, /2", [("Conv2D", {"kernel_size": 3, "filters": 64, "strides": 2})]),
    ("pool, /2", [("MaxPool2D", {"strides": 2})]),
    ("fc 1000", [("Dense", {"units": 1000})]),
    ("Add & Norm", [("Add", {}), ("LayerNorm", {})]),
    ("Multi-Head Attention", [("MultiHeadAttention", {})]),
    ("Feed Forward", [("feed_forward", {})]),
    ("conv 3x3, ReLU", [("Conv2D", {"kernel_size": 3}), ("Activation", {"function": "relu"})]),
    ("max pool 2x2", [("MaxPool2D", {"pool_size": 2})]),
    ("up-conv 2x2", [("Conv2DTranspose", {"kernel_size": 2})]),
    ("copy and crop", [("Cropping2D", {})]),
    ("sep 5x5", [("separable_conv", {"kernel_size": 5})]),
    ("max 3x3", [("MaxPool2D", {"pool_size": 3})]),
    ("Conv 3x3-s2, 256", [("Conv2D", {"kernel_size": 3, "strides": 2, "filters": 256})]),
    ("Output Embedding", [("Embedding", {})]),
])
def test_box_labels_become_layers_without_made_up_values(label, want):
    layers, rep = label_layers(label)
    assert [(l["layer_type"], l["layer_params"]) for l in layers] == want and rep == 1


def test_a_vector_reader_failure_is_reported_and_the_paper_goes_on(tmp_path, monkeypatch):
    """A bug in the vector reader must not stop a paper: the figure's entry says so, the crop is
    read by the diagram reader instead, and the report is complete."""
    import json

    from dlpaper2code.paper import vecfig
    from dlpaper2code.paper.pipeline import process_paper

    def draw(c):
        _resnet_column(c, 200, 700, RESNET_COLUMN)
        c.setFont("Helvetica", 9)
        c.drawString(120, 420, "Figure 1: A residual network.")
        for k in range(12):
            c.drawString(72, 380 - 12 * k, "Body text of the paper, which describes the network in words. " * 2)

    def broken(*a, **k):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(vecfig, "vector_graph", broken)
    pdf = tmp_path / "paper.pdf"
    _pdf(pdf, draw)
    process_paper(pdf, tmp_path / "out")
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["status"] != "failed"
    fig = next(f for f in report["figures"] if f.get("tried"))
    assert fig["vector_reader"] == "the vector reader failed (ZeroDivisionError: a bug)"


def _nx_encoder(c, y):
    """An encoder drawn bottom-up from height `y`: an embedding, then a group (attention, Add & Norm,
    feed-forward) with "N×" beside it, then a linear layer."""
    x, w = 250, 110
    _box(c, x, y, w, 16, "Input Embedding")
    c.rect(x - 10, y + 30, w + 20, 110)
    c.setFont("Helvetica", 9)
    c.drawString(x + w + 16, y + 80, "N×")
    ys = [(y + 40, "Multi-Head Attention"), (y + 70, "Add & Norm"), (y + 100, "Feed Forward")]
    for yy, lab in ys:
        _box(c, x, yy, w, 16, lab)
    _arrow(c, x + w / 2, y + 16, x + w / 2, y + 40)
    for (y0, _), (y1, _) in zip(ys, ys[1:]):
        _arrow(c, x + w / 2, y0 + 16, x + w / 2, y1)
    _box(c, x, y + 170, w, 16, "Linear")
    _arrow(c, x + w / 2, y + 116, x + w / 2, y + 170)


def test_an_n_times_group_is_unrolled_with_the_n_the_text_states(tmp_path):
    """A block drawn once with "N×" beside it: the drawing keeps the group marked; the body text's
    "N = 3" (and d_model, h, d_ff) fill it through fuse.fill_from_text, each value with its words."""
    from dlpaper2code.paper.fuse import fill_from_text
    from dlpaper2code.paper.text_arch import text_values

    def draw(c):
        _nx_encoder(c, 320)
        c.setFont("Helvetica", 10)
        c.drawString(72, 250, "Our encoder stacks N = 3 identical layers of width d_model = 64 with h = 4 attention")
        c.drawString(72, 236, "heads and an inner feed-forward width d_ff = 256.")
    page = _pdf(tmp_path / "nx.pdf", draw)
    docs, info = read_vector_graph(page, [150, 270, 420, 480])
    doc = docs[0]
    marked = [l["layer_type"] for l in doc["layers"] if l["meta"].get("repeat_symbol") == "N"]
    assert marked == ["MultiHeadAttention", "Add", "LayerNorm", "feed_forward"]
    values = text_values([page])
    assert {k: v["value"] for k, v in values.items()} == {"N": 3, "d_model": 64, "heads": 4, "d_ff": 256}
    changes = fill_from_text(doc, values)
    types = [l["layer_type"] for l in doc["layers"]]
    assert types == ["Embedding"] + ["MultiHeadAttention", "Add", "LayerNorm", "feed_forward"] * 3 + ["Dense"]
    L = {l["layer_name"]: l for l in doc["layers"]}
    mha = [l for l in doc["layers"] if l["layer_type"] == "MultiHeadAttention"]
    assert all(m["layer_params"] == {"num_heads": 4, "key_dim": 16} for m in mha)
    assert mha[1]["from_layers"] == ["feedforward1"] and mha[2]["from_layers"] == ["feedforward1_2"]
    assert L["dense1"]["from_layers"] == ["feedforward1_3"]
    ff = [l for l in doc["layers"] if l["layer_type"] == "feed_forward"]
    assert all(f["layer_params"] == {"units": 64, "d_ff": 256} for f in ff)
    assert L["embedding1"]["layer_params"] == {"output_dim": 64}
    assert "N = 3" in L["multiheadattention1"]["meta"]["from_text"]["num_heads"] or \
        "h = 4" in L["multiheadattention1"]["meta"]["from_text"]["num_heads"]
    assert any(c["param"] == "repeat" and c["value"] == 3 for c in changes)


def test_a_value_the_text_states_otherwise_than_the_drawing_is_flagged_not_overwritten():
    from dlpaper2code.paper.fuse import fill_from_text

    doc = {"name": "g", "layers": [
        {"layer_type": "Input", "layer_name": "in", "layer_params": {}, "from_layers": []},
        {"layer_type": "MultiHeadAttention", "layer_name": "mha", "layer_params": {"num_heads": 8},
         "from_layers": ["in"]},
        {"layer_type": "Dropout", "layer_name": "drop", "layer_params": {}, "from_layers": ["mha"]}]}
    values = {"heads": {"value": 16, "page": 3, "text": "we use h = 16 heads"},
              "dropout": {"value": 0.1, "page": 4, "text": "a dropout rate of 0.1"}}
    rows = fill_from_text(doc, values)
    L = {l["layer_name"]: l for l in doc["layers"]}
    assert L["mha"]["layer_params"]["num_heads"] == 8                    # the drawing's value stays
    assert L["mha"]["meta"]["text_disagrees"]["num_heads"]["text"] == 16
    assert {"layer": "mha", "param": "num_heads", "value": 16, "page": 3, "text": "we use h = 16 heads",
            "disagrees": 8} in rows
    assert L["drop"]["layer_params"]["rate"] == 0.1 and \
        not any("disagrees" in r for r in rows if r["layer"] == "drop")


def test_the_route_fills_a_figure_graph_from_the_text(tmp_path):
    """Through process_paper: the N× group of a captioned figure is unrolled with the text's N, and
    the report (json and html) says which values came from which words."""
    import json

    from dlpaper2code.paper.options import PaperOptions
    from dlpaper2code.paper.pipeline import process_paper

    def draw(c):
        _nx_encoder(c, 520)
        c.setFont("Helvetica", 9)
        c.drawString(200, 495, "Figure 1: The encoder.")
        c.setFont("Helvetica", 10)
        lines = ["Our encoder stacks N = 2 identical layers of width d_model = 32 with h = 4 attention heads.",
                 "The inner feed-forward width is d_ff = 64. Training follows the usual recipe for such models."]
        for k in range(10):
            c.drawString(72, 460 - 14 * k, lines[k % 2])
    pdf = tmp_path / "paper.pdf"
    _pdf(pdf, draw)
    report = process_paper(pdf, tmp_path / "out", PaperOptions(targets=("pytorch",), render_graphs=False,
                                                                page_images=False))
    g = next(g for g in report["graphs"] if g["from"] == "figure")
    assert any(c["param"] == "repeat" and c["value"] == 2 for c in g["from_text"])
    doc = json.loads((tmp_path / "out" / "graphs" / f"{g['name']}.json").read_text())
    assert [l["layer_type"] for l in doc["layers"]].count("MultiHeadAttention") == 2
    assert report["text_values"]["N"]["value"] == 2 and report["steps"]["text"]["figure_graphs_filled"] == 1
    html = (tmp_path / "out" / "report.html").read_text()
    assert "Values the text states by name" in html and "filled from the text" in html


def test_a_u_shaped_network_of_bars_with_a_colour_legend(tmp_path):
    """Feature maps as unlabelled bars, operations as coloured arrows named by a legend (as in a
    U-Net drawing): each arrow is a layer of its legend's operation, the channel count over a bar is
    the width of the convolution that makes it, and the copied skip joins the up-convolution's output
    by concatenation (the copy and the up-sampled half drawn as two touching bars)."""
    BLUE, RED, GREEN, GRAY, TEAL = (0.1, 0.3, 0.9), (0.9, 0.1, 0.1), (0.1, 0.7, 0.2), (0.6, 0.6, 0.6), (0.1, 0.7, 0.7)

    def arrow(c, color, x0, y0, x1, y1):
        c.setStrokeColorRGB(*color)
        c.setFillColorRGB(*color)
        _arrow(c, x0, y0, x1, y1)

    def bar(c, x, y, h, n=None, fill=(0.5, 0.7, 1.0)):
        c.setStrokeColorRGB(0, 0, 0)
        c.setFillColorRGB(*fill)
        c.rect(x, y, 8, h, fill=1)
        if n:
            c.setFillColorRGB(0, 0, 0)
            c.setFont("Helvetica", 6)
            c.drawCentredString(x + 4, y + h + 3, n)

    def draw(c):
        top = 600
        bar(c, 100, top, 100, "1")
        bar(c, 130, top, 100, "64")
        bar(c, 160, top, 100, "64")
        arrow(c, BLUE, 109, 650, 129, 650)
        arrow(c, BLUE, 139, 650, 159, 650)
        arrow(c, RED, 164, 599, 164, 560)                   # down a level
        bar(c, 160, 500, 58)
        bar(c, 190, 500, 58, "128")
        bar(c, 220, 500, 58, "128")
        arrow(c, BLUE, 169, 530, 189, 530)
        arrow(c, BLUE, 199, 530, 219, 530)
        arrow(c, GREEN, 224, 559, 258, 599)                 # up a level
        bar(c, 250, top, 100, fill=(1, 1, 1))               # the copy (white) ...
        bar(c, 258, top, 100, "128")                        # ... and the up-sampled half, touching
        arrow(c, GRAY, 169, 690, 249, 690)                  # copy and crop
        bar(c, 290, top, 100, "64")
        bar(c, 320, top, 100, "64")
        bar(c, 350, top, 100, "2")
        arrow(c, BLUE, 267, 650, 289, 650)
        arrow(c, BLUE, 299, 650, 319, 650)
        arrow(c, TEAL, 329, 650, 349, 650)
        # the legend
        for k, (color, label) in enumerate(((BLUE, "conv 3x3, ReLU"), (GRAY, "copy and crop"), (RED, "max pool 2x2"),
                                            (GREEN, "up-conv 2x2"), (TEAL, "conv 1x1"))):
            y = 560 - 12 * k
            arrow(c, color, 300, y + 2, 325, y + 2)
            c.setFillColorRGB(0, 0, 0)
            c.setFont("Helvetica", 7)
            c.drawString(330, y, label)
    page = _pdf(tmp_path / "unet.pdf", draw)
    docs, info = read_vector_graph(page, [80, 80, 420, 310], caption="Figure 1: U-net architecture.")
    assert info["status"] == "ok", info
    doc = docs[0]
    layers = [l for l in doc["layers"] if l["layer_type"] != "Activation"]
    assert [l["layer_type"] for l in layers] == [
        "Input", "Conv2D", "Conv2D", "MaxPool2D", "Conv2D", "Conv2D", "Conv2DTranspose", "Cropping2D", "Concat",
        "Conv2D", "Conv2D", "Conv2D"], [l["layer_type"] for l in layers]
    assert [l["layer_params"].get("filters") for l in layers if l["layer_type"] == "Conv2D"] == [64, 64, 128, 128, 64, 64, 2]
    concat = next(l for l in layers if l["layer_type"] == "Concat")
    assert sorted(concat["from_layers"]) == ["conv2dtranspose1", "cropping2d1"]
    L = _by_name(doc)
    assert L["cropping2d1"]["from_layers"] == [L["conv2d2"]["layer_name"]] or \
        L["cropping2d1"]["from_layers"] == ["activation2"]          # the copy leaves the second conv (its ReLU)


def test_layers_drawn_as_coloured_bars_named_by_a_legend(tmp_path):
    """Thin bars whose colour a legend names (as in MVSNet's drawing): each run of bars is a chain of
    those layers, a stride printed for the fused group goes to the convolution, and a tower drawn
    three times (shared weights) counts once."""
    BLUE, ORANGE, GREEN = (0.2, 0.45, 0.7), (0.93, 0.5, 0.2), (0.0, 0.7, 0.3)

    def draw(c):
        c.setFont("Helvetica", 6)
        for k, (col, label) in enumerate(((BLUE, "Conv + BN + ReLU, Stride = 1"), (ORANGE, "Conv + BN + ReLU, Stride = 2"),
                                          (GREEN, "Conv, stride = 1"))):
            c.setFillColorRGB(*col)
            c.rect(380, 700 - 8 * k, 20, 3, stroke=0, fill=1)
            c.setFillColorRGB(0, 0, 0)
            c.drawString(404, 699 - 8 * k, label)
        tower = [BLUE, BLUE, ORANGE, BLUE, BLUE, ORANGE, BLUE, GREEN]
        for row in range(3):
            for k, col in enumerate(tower):
                c.setFillColorRGB(*col)
                c.rect(100 + 6 * k, 520 + 60 * row, 2.5, 30, stroke=0, fill=1)
        for k, col in enumerate([BLUE, BLUE, BLUE, GREEN]):
            c.setFillColorRGB(*col)
            c.rect(320 + 6 * k, 540, 2.5, 30, stroke=0, fill=1)
        c.setFillColorRGB(0, 0, 0)
        c.drawString(90, 505, "Task Loss")
    page = _pdf(tmp_path / "bars.pdf", draw)
    docs, info = read_vector_graph(page, [80, 70, 520, 300])
    assert info["reader"] == "vector colour bars"
    convs = [l["layer_params"] for l in docs[0]["layers"] if l["layer_type"] == "Conv2D"]
    assert convs == [{"strides": s} for s in (1, 1, 2, 1, 1, 2, 1, 1)] + [{"strides": 1}] * 4
    assert docs[0]["source"]["issues"][0]["kind"] == "joined" and len(docs) == 3
    tower = [l["layer_type"] for l in docs[1]["layers"]]
    assert tower.count("Conv2D") == 8 and tower.count("BatchNorm") == 7


def test_thousands_of_strokes_are_refused_as_a_plot(tmp_path):
    """A plot of thousands of short strokes is refused before the ends are paired (which compares
    every pair), with the reason."""
    def draw(c):
        c.setLineWidth(0.2)
        for k in range(2500):
            x, y = 60 + (k % 100) * 4.5, 300 + (k // 100) * 12
            c.line(x, y, x + 2, y + (k % 7))
        _box(c, 60, 650, 80, 14, "conv 3x3")
    page = _pdf(tmp_path / "plot.pdf", draw)
    docs, info = read_vector_graph(page, [40, 100, 560, 500])
    assert docs == [] and "not a block diagram" in info["why"]


def test_words_on_a_shaded_panel_are_free_text_at_arrow_ends(tmp_path):
    """A shaded panel drawn behind the last layers (Fast R-CNN's heads) is a group; a word on it
    outside its boxes ("softmax" at an arrow's end) is read as the node that arrow reaches."""
    def draw(c):
        c.setFillColorRGB(0.9, 0.9, 0.9)
        c.rect(180, 560, 260, 120, stroke=0, fill=1)           # the panel, behind
        c.setFillColorRGB(1, 1, 1)
        c.setStrokeColorRGB(0, 0, 0)
        _box(c, 60, 600, 70, 14, "RoI pooling")
        _box(c, 200, 600, 40, 14, "FC")
        _box(c, 270, 600, 40, 14, "FC")
        c.setFillColorRGB(0, 0, 0)
        c.setFont("Helvetica", 8)
        c.drawString(360, 640, "softmax")
        _arrow(c, 130, 607, 200, 607)
        _arrow(c, 240, 607, 270, 607)
        _arrow(c, 310, 607, 358, 642)
    page = _pdf(tmp_path / "panel.pdf", draw)
    docs, info = read_vector_graph(page, [40, 90, 460, 250])
    assert info["groups"] == 1
    assert [(l["layer_type"], l["layer_params"]) for l in docs[0]["layers"]] == [
        ("MaxPool2D", {}), ("Dense", {}), ("Dense", {}), ("Activation", {"function": "softmax"})]


def test_the_route_fuses_a_chain_the_text_states_with_the_figure_of_it(tmp_path):
    """A figure of unlabelled-size boxes (conv, pool, conv, pool, fc) and a sentence stating the
    same chain with its sizes: one graph, the text's, confirmed by the figure; the figure's own
    candidate gives way to it and the report says where each layer came from."""
    from dlpaper2code.paper.options import PaperOptions
    from dlpaper2code.paper.pipeline import process_paper

    def draw(c):
        labels = ["conv", "pool", "conv", "pool", "fc"]
        for k, lab in enumerate(labels):
            _box(c, 250, 700 - 40 * k, 80, 20, lab, size=8)
            if k:
                _arrow(c, 290, 700 - 40 * k + 40, 290, 700 - 40 * k + 20)
        c.setFont("Helvetica", 9)
        c.drawString(200, 560, "Figure 1: The network, top to bottom.")
        c.setFont("Helvetica", 10)
        lines = ["We denote by C a convolutional layer, by S a pooling layer and by D a fully connected layer.",
                 "The input image of 220 × 220 pixels is fed with stride 4.",
                 "The network is C(55 × 55 × 96) − S − C(27 × 27 × 256) − S − D(4096). The layers use",
                 "rectified linear units and the training follows the usual recipe for such networks."]
        for k, line in enumerate(lines):
            c.drawString(60, 520 - 14 * k, line)
    pdf = tmp_path / "paper.pdf"
    _pdf(pdf, draw)
    out = tmp_path / "out"
    report = process_paper(pdf, out, PaperOptions(targets=("pytorch",), render_graphs=False, page_images=False))
    assert report["steps"]["text"]["fused_with_figures"] == 1, report["steps"]
    (g,) = [g for g in report["graphs"] if g["from"] == "text"]
    assert g["confirmed_by"]["figure"] == "fig_p1_1"
    assert not any(x["from"] == "figure" for x in report["graphs"]), [(x["name"], (x.get("fused") or {}).get("kept"), x["issues"]) for x in report["graphs"]]
    rows = {r["layer"]: r for r in g["fused"]["layers"]}
    convs = [r for r in rows.values() if r["layer_type"] == "Conv2D"]
    assert len(convs) == 2 and all(r["type_from"] == "text+figure" and r["params_from"] == "text" for r in convs)
    fig = next(f for f in report["figures"] if f["figure"] == "fig_p1_1")
    assert fig["fused_with"] == g["name"]
    assert report["primary_graph"] == g["name"]
    html = (out / "report.html").read_text()
    assert "text structure, confirmed by the figure" in html


def _tensor_head(c, with_panel=True):
    """A head drawn as Mask R-CNN's: slabs labelled by their sizes ("14×14" over "×256", the "×4"
    of a stack of convolutions printed after the channels), arrows between them as the layers,
    "mask" under the last; above, a shaded panel whose title cites a paper and whose slabs are
    too faint to be boxes."""
    if with_panel:
        c.setFillGray(0.9)
        c.rect(60, 690, 330, 70, stroke=0, fill=1)
        c.setFillGray(0)
        c.setFont("Helvetica", 7)
        c.drawString(300, 748, "Faster R-CNN w/ FPN [22]")
        c.drawString(120, 720, "7×7")
        c.drawString(118, 712, "×256")
        c.drawString(180, 716, "1024")
        c.drawString(240, 716, "1024")
        c.drawString(330, 722, "class")
        c.drawString(330, 706, "box")
    xs = [100, 170, 240, 310]
    sizes = [("14×14", "×256 ×4"), ("14×14", "×256"), ("28×28", "×256"), ("28×28", "×80")]
    for x, (hw, ch) in zip(xs, sizes):
        c.rect(x, 600, 30, 60)
        c.setFont("Helvetica", 7)
        c.drawString(x + 4, 632, hw)
        c.drawString(x + 4, 623, ch)
    for a, b in zip(xs, xs[1:]):
        _arrow(c, a + 30, 630, b, 630)
    c.drawString(318, 590, "mask")
    c.drawString(60, 628, "RoI")
    _arrow(c, 75, 630, 100, 630)


def test_a_drawing_of_tensors_reads_its_arrows_as_layers(tmp_path):
    """Sizes, not layer names, on the boxes: each arrow is the layer that makes the next tensor,
    inferred from the sizes (same size: a convolution to the new channel count, doubled: a
    transposed convolution with stride 2); the "×4" after the channels repeats the next layer;
    the first tensor is the input with its shape; the panel's title is not a layer."""
    page = _pdf(tmp_path / "heads.pdf", _tensor_head)
    docs, info = read_vector_graph(page, [40, 20, 420, 220], caption="Figure 3. Head architecture.")
    assert info["status"] == "ok" and info["tensors"] >= 4, info
    layers = docs[0]["layers"]
    assert [(l["layer_type"], l["layer_params"]) for l in layers] == [
        ("Input", {"shape": [14, 14, 256]}),
        *[("Conv2D", {"filters": 256})] * 4,
        ("Conv2DTranspose", {"strides": 2, "kernel_size": 2, "filters": 256}),
        ("Conv2D", {"filters": 80})]
    assert all("inferred" in l["meta"] for l in layers[1:])
    assert info["repeats"] == 0                  # "×256" is a channel count and "×4" rides on it


def test_kernel_sizes_on_boxes_stay_convolutions_and_widths_are_not_repeats(tmp_path):
    """Inception's "3x3" boxes are kernels, not 3×3 tensors; a "×64" printed beside a box is a
    width, never 64 repeats of it."""
    def draw(c):
        labels = ["1x1", "3x3", "5x5"]
        for k, lab in enumerate(labels):
            _box(c, 250, 700 - 50 * k, 60, 20, lab)
            if k:
                _arrow(c, 280, 700 - 50 * k + 50, 280, 700 - 50 * k + 20)
        c.setFont("Helvetica", 7)
        c.drawString(315, 656, "×64")
    page = _pdf(tmp_path / "kernels.pdf", draw)
    docs, info = read_vector_graph(page, [200, 60, 400, 200])
    assert info.get("tensors", 0) == 0 and info["repeats"] == 0, info
    types = [l["layer_type"] for l in docs[0]["layers"] if l["layer_type"] != "Input"]
    assert types == ["Conv2D", "Conv2D", "Conv2D"]
    assert [l["layer_params"].get("kernel_size") for l in docs[0]["layers"] if l["layer_type"] == "Conv2D"] == [1, 3, 5]
