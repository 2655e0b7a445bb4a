"""What real papers' typesetting does to tables, reproduced on generated inputs (CI has no real PDFs).

Each case was met on a paper of the real-paper benchmark (data/realpapers): SENet's brackets set in
the Symbol font's private-use codes, its two-piece brackets, a row spanning columns whose rules stop
above it, a max pool printed above a stage's bracket, the "fc, [16, 256]" of an SE module;
STDN's channels-first sizes and the input size given in a column header; CondenseNet's unnamed
configuration column "Feature map size".
"""
from __future__ import annotations

from collections import Counter

from dlpaper2code.paper import extract_tables
from dlpaper2code.paper.page import Char, build_segments, mark_tall_brackets
from dlpaper2code.paper.table_graph import check_printed_sizes, graph_issues, parse_cell, table_to_graphs


def _line(text, x, top, size=8.0, w=4.0):
    return [Char(ch, x + i * w, top, x + (i + 1) * w, top + size, size) for i, ch in enumerate(text)]


def _body(size=8.0):
    """Plenty of ordinary text so that the page's median font size is the text's."""
    return [c for k in range(6) for c in _line("body text of the page", 300, 300 + 12 * k, size)]


def test_symbol_font_bracket_pieces_are_one_bracket_and_lines_stay_apart():
    # three lines inside a bracket drawn as Symbol-font pieces (U+F8EE top, U+F8EF extension x2,
    # U+F8F0 bottom): the extension pieces overlap two lines each
    chars = _body()
    for k, text in enumerate(["conv,1x1,64", "conv,3x3,64", "conv,1x1,256"]):
        chars += _line(text, 106, 100 + 10 * k)
    for top, code in ((99, "\uf8ee"), (105, "\uf8ef"), (113, "\uf8ef"), (121, "\uf8f0")):
        chars.append(Char(code, 100, top, 105, top + 8, 8.0))
    graphics = []
    mark_tall_brackets(chars, graphics)
    brackets = [g for g in graphics if g.kind == "bracket"]
    assert len(brackets) == 1 and brackets[0].top == 99 and brackets[0].bottom == 129
    lines = [s.text for s in build_segments(chars) if s.x0 < 200]
    assert lines == ["conv,1x1,64", "conv,3x3,64", "conv,1x1,256"]


def test_two_piece_brackets_stack_across_a_gap_but_two_brackets_do_not():
    # TeX's cmex top and bottom pieces of a two-line bracket leave most of a line between them;
    # a bottom piece followed closely by the next bracket's top piece are two brackets
    chars = _body()
    chars += [Char("\uf8ee", 100, 100, 105, 108, 8.0), Char("\uf8f0", 100, 114, 105, 122, 8.0),
              Char("\uf8ee", 100, 123, 105, 131, 8.0), Char("\uf8f0", 100, 137, 105, 145, 8.0)]
    graphics = []
    mark_tall_brackets(chars, graphics)
    spans = sorted((g.top, g.bottom) for g in graphics if g.kind == "bracket")
    assert spans == [(100, 122), (123, 145)]
    assert all(c.text.isascii() for c in chars)        # no private-use code left in the text


def test_a_row_spanning_columns_whose_rules_stop_above_it_stays_one_cell(tmp_path):
    from reportlab.pdfgen import canvas

    pdf = tmp_path / "span.pdf"
    c = canvas.Canvas(str(pdf))
    c.setFont("Helvetica", 9)
    c.drawString(100, 720, "Table 1. Two networks side by side.")
    rows = [("Output size", "Net-A", "Net-B"), ("56x56", "conv, 3x3, 32", "conv, 3x3, 48"),
            ("28x28", "conv, 3x3, 64", "conv, 3x3, 96")]
    y = 700
    for row in rows:
        for x, text in zip((100, 180, 300), row):
            c.drawString(x, y, text)
        y -= 14
    for x in (170, 290):                       # column rules down to the last rows of layers only
        c.line(x, 712, x, y + 10)
    c.drawString(100, y, "1x1")
    c.drawString(180, y, "global average pool, 100-d fc, softmax")      # across the rule's x
    c.showPage()
    c.save()
    (t,) = extract_tables(pdf)
    assert t["cells"][-1][1] == "global average pool, 100-d fc, softmax" and t["cells"][-1][2] == ""


def test_layers_above_a_bracket_run_once_and_the_se_fc_is_one_module():
    p = parse_cell("max pool, 3 × 3, stride 2 [conv,1 × 1,64; conv,3 × 3,64; conv,1 × 1,256; fc,[16,256]] × 3")
    assert [l["type"] for l in p["pre"]] == ["MaxPool2D"] and p["pre"][0]["params"]["strides"] == 2
    assert [l["type"] for l in p["layers"]] == ["Conv2D", "Conv2D", "Conv2D", "SqueezeExcite"]
    assert p["layers"][3]["params"] == {"units": [16, 256]} and p["repeat"] == 3 and not p["unknown"]


def _se_table():
    return {"id": "tab_p5_1", "caption": "Table 1. Two networks.", "cells": [
        ["Output size", "Res-14", "SE-Res-14"],
        ["64 × 64", "conv, 5 × 5, 32, stride 2", ""],
        ["32 × 32", "max pool, 3 × 3, stride 2 [conv,1 × 1,16; conv,3 × 3,16; conv,1 × 1,64] × 2",
         "max pool, 3 × 3, stride 2 [conv,1 × 1,16; conv,3 × 3,16; conv,1 × 1,64; fc,[4,64]] × 2"],
        ["16 × 16", "[conv,1 × 1,32; conv,3 × 3,32; conv,1 × 1,128] × 2",
         "[conv,1 × 1,32; conv,3 × 3,32; conv,1 × 1,128; fc,[8,128]] × 2"],
        ["1 × 1", "global average pool, 10-d fc, softmax", ""]]}


def test_residual_groups_keep_their_printed_layers_and_gain_the_implicit_sum():
    docs = table_to_graphs(_se_table(), input_shape=[128, 128, 3])
    assert [d["source"]["configuration"] for d in docs] == ["Res-14", "SE-Res-14"]   # "Output size" is a header
    plain, se = docs
    types = [n["layer_type"] for n in plain["layers"]]
    block = ["Conv2D", "Conv2D", "Conv2D", "Add", "Activation"]
    proj = ["Conv2D", "Conv2D", "Conv2D", "Conv2D", "Add", "Activation"]       # with a projection shortcut
    assert types == (["Input", "Conv2D", "MaxPool2D"] + proj + block + proj + block
                     + ["GlobalAvgPool2D", "Dense", "Activation"])
    assert graph_issues(plain) == [] and check_printed_sizes(plain) == []
    convs = [n for n in plain["layers"] if n["layer_type"] == "Conv2D"]
    # stage 2 shrinks 32 -> 16: its first block's first conv strides, and so does its projection
    assert [n["layer_params"].get("strides", 1) for n in convs] == [2, 1, 1, 1, 1, 1, 1, 1, 2, 1, 1, 2, 1, 1, 1]
    adds = [n for n in plain["layers"] if n["layer_type"] == "Add"]
    assert all(len(n["from_layers"]) == 2 for n in adds)
    assert all(n["meta"]["block"]["type"] == "resnet_bottleneck" for n in adds)
    c = Counter(n["layer_type"] for n in se["layers"])
    # SE-Net's "fc, [r, C]" rows: the vocabulary's squeeze_excite block (pool, FC r ReLU, FC C sigmoid, scale)
    assert c["squeeze_excite"] == 4 and c["Add"] == 4 and c["MaxPool2D"] == 1
    ses = [n for n in se["layers"] if n["layer_type"] == "squeeze_excite"]
    assert all(n["layer_params"]["filters"] == 16 * n["layer_params"]["reduced"] for n in ses), ses
    assert not any(i["kind"] == "unknown_module" for i in se["source"]["issues"])
    assert graph_issues(se) == []                       # the SE network validates now


def test_channels_first_sizes_header_input_and_growth_from_printed_channels():
    cells = [["Layers", "Output Size (Input 3 × 96 × 96)", "Net"],
             ["Convolution", "32 × 48 × 48", "3 × 3 conv, stride 2"],
             ["Pooling", "32 × 24 × 24", "2 × 2 average pool, stride 2"],
             ["Dense Block (1)", "128 × 24 × 24", "1 × 1 conv × 6 3 × 3 conv"],
             ["Transition Layer", "64 × 24 × 24", "1 × 1 conv"]]
    (d,) = table_to_graphs({"cells": cells, "caption": "Table 1. A small dense network."})
    assert d["layers"][0]["layer_params"]["shape"] == [96, 96, 3]
    convs = [n["layer_params"]["filters"] for n in d["layers"] if n["layer_type"] == "Conv2D"]
    assert convs == [32] + [64, 16] * 6 + [64]            # k = (128 - 32) / 6 = 16, bottleneck 4k
    assert Counter(n["layer_type"] for n in d["layers"])["Concat"] == 6
    assert graph_issues(d) == [] and check_printed_sizes(d) == []


def test_growth_rate_from_the_caption_and_an_unprinted_width_kept():
    cells = [["Layers", "Feature map size", "Net"],
             ["3 × 3 conv (stride 2)", "56 × 56", ""],
             ["Dense Block", "56 × 56", "[1 × 1 conv; 3 × 3 conv] × 3"]]
    docs = table_to_graphs({"cells": cells, "caption": "Table 2. Growth rate k = 12 in every block."},
                           input_shape=[112, 112, 3])
    assert len(docs) == 1                           # "Feature map size" is a header, not a configuration
    d = docs[0]
    first = next(n for n in d["layers"] if n["layer_type"] == "Conv2D")
    assert first["meta"].get("assumed", "").startswith("filters")     # kept, its guess marked
    assert [n["layer_params"]["filters"] for n in d["layers"] if n["layer_type"] == "Conv2D"][1:] == [48, 12] * 3


def test_two_tables_side_by_side_each_with_its_caption(tmp_path):
    """'How to train your ViT': two captioned tables on one line, the left one wider than half the
    page, its rules crossing the page's middle."""
    from reportlab.lib.pagesizes import letter
    from reportlab.pdfgen import canvas

    pdf = tmp_path / "beside.pdf"
    c = canvas.Canvas(str(pdf), pagesize=letter)          # 612 points wide: the middle at 306
    c.setFont("Helvetica", 8)
    c.drawString(150, 720, "Table 1: Configurations of the models.")
    c.drawString(385, 720, "Table 2: Hybrid models.")
    left = [("Model", "Layers", "Width", "MLP", "Heads"), ("Net-T", "12", "192", "768", "3"),
            ("Net-S", "12", "384", "1536", "6"), ("Net-B", "12", "768", "3072", "12")]
    right = [("Model", "Blocks", "Params"), ("H1", "[2, 2]", "6.4M"), ("H2", "[3, 4]", "36.6M")]
    for rows, xs, x0, x1 in ((left, (110, 170, 215, 262, 310), 105, 335), (right, (372, 420, 480), 368, 505)):
        c.line(x0, 710, x1, 710)
        y = 700
        for row in rows:
            for x, text in zip(xs, row):
                c.drawString(x, y, text)
            y -= 11
        c.line(x0, y + 6, x1, y + 6)
    c.showPage()
    c.save()
    tabs = {t["number"]: t for t in extract_tables(pdf)}
    assert set(tabs) == {1, 2}
    assert tabs[1]["cells"][0] == ["Model", "Layers", "Width", "MLP", "Heads"]
    assert tabs[2]["cells"][0] == ["Model", "Blocks", "Params"] and tabs[2]["cells"][2][0] == "H2"
    assert tabs[1]["box"][2] < tabs[2]["box"][0]


def _page(path, draw):
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=(612, 792))
    draw(c)
    c.showPage()
    c.save()


def _paragraph(c, x, y, n=8, size=10):
    c.setFont("Times-Roman", size)
    for k in range(n):
        c.drawString(x, y - 12 * k, "running text of the paper goes on in this column, line after line")


def test_ieee_caption_with_a_small_caps_title_and_rows_in_a_bigger_font(tmp_path):
    """'TABLE II' alone, its title centred under it in smaller capitals; a header row smaller than
    the rows under its rule (ShiftNet, an IEEE-style paper)."""
    def draw(c):
        _paragraph(c, 50, 760)
        c.setFont("Times-Roman", 8)
        c.drawCentredString(170, 650, "TABLE II")
        c.setFont("Times-Roman", 6.4)
        c.drawCentredString(170, 640, "FEATURES OF TWO VEHICLE MODELS")
        c.setFont("Times-Roman", 8)
        for x, t in ((70, "Model"), (150, "Length"), (220, "Width")):
            c.drawString(x, 620, t)
        c.line(65, 615, 270, 615)
        c.setFont("Times-Roman", 10)
        for k, row in enumerate((("Sedan", "4.8", "1.8"), ("Truck", "7.2", "2.4"), ("Van", "5.1", "2.0"))):
            for x, t in zip((70, 150, 220), row):
                c.drawString(x, 600 - 13 * k, t)
        _paragraph(c, 50, 520, n=5)
    pdf = tmp_path / "ieee.pdf"
    _page(pdf, draw)
    (t,) = extract_tables(pdf)
    assert t["caption"] == "TABLE II FEATURES OF TWO VEHICLE MODELS"
    assert t["cells"][0] == ["Model", "Length", "Width"] and t["cells"][-1] == ["Van", "5.1", "2.0"]


def test_turned_column_headers_and_rows_of_close_numbers(tmp_path):
    """ViT's appendix table: task names set vertically above the columns, each row's numbers set so
    close that they come as one wide segment (not running text)."""
    def draw(c):
        _paragraph(c, 50, 760)
        c.setFont("Times-Roman", 10)
        c.drawString(180, 640, "Table 9: Breakdown of the scores across tasks.")
        c.setFont("Times-Roman", 8)
        for k, name in enumerate(("Caltech101", "CIFAR-100", "DTD", "Flowers102", "Pets", "SVHN", "Sun397")):
            c.saveState()
            c.translate(200 + 30 * k, 560)
            c.rotate(90)
            c.drawString(0, 0, name)
            c.restoreState()
        for k, row in enumerate(("Net-H/14 (JFT)", "Net-L/16 (JFT)", "Net-B/16 (I21k)")):
            c.drawString(110, 545 - 11 * k, row)
            c.drawString(195, 545 - 11 * k, " ".join(f"{90 - j - k:.1f}" for j in range(7)) + "  " * 0)
        _paragraph(c, 50, 480, n=5)
    pdf = tmp_path / "turned.pdf"
    _page(pdf, draw)
    (t,) = extract_tables(pdf)
    assert t["number"] == 9 and len(t["cells"]) == 3 and t["cells"][0][0] == "Net-H/14 (JFT)"
    assert t["box"][1] < 792 - 560 - 20          # the turned headers (from 560 up) are part of the table
