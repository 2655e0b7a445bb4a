"""Synthetic papers: real PDFs with exact ground truth for figures and tables.

Why reportlab and not LaTeX: a page is drawn primitive by primitive, so every
figure, caption, table cell and ruling line is placed at coordinates this module
chooses and records: the ground truth is exact by construction, with no need to
recover positions from a TeX run (synctex, \\pdfsavepos).  A paper takes tens of
milliseconds (a TeX run per paper would take about a second, and a TeX Live
install is hundreds of megabytes that `make` would have to fetch).  The price
is typographic realism (no kerning, no TeX ligature stream, no hyphenation),
which the generator buys back where extraction cares: two-column body text
beside figures and tables, a TrueType font with ligature glyphs ("ﬁ") in
tables and captions, superscripts drawn raised and smaller ("224²"), tables
with full grids, booktabs rules or no rules, figures side by side, figures
made of several images, vector drawings with their labels, plots whose tick
labels lie outside the axes.

    truth = generate_paper("out/papers", seed=3)          # out/papers/synth_003.pdf + .json
    truths = generate_corpus("out/papers", n=12, seed=0)

Ground truth (``<name>.json``): ``pages``, ``page_size``, ``dpi`` and lists
``figures`` and ``tables``.  Every box is ``box`` in PDF points, origin at the
page's top-left, ``[x0, top, x1, bottom]``, and ``box_px`` at ``dpi``.  A figure
has ``number``, ``page``, ``caption``, ``kind`` (architecture / plot / photo),
``source`` (raster / vector) and for architecture figures ``style`` (a render
look or ``boxes``), ``layers`` (names, or box labels) and ``layer_types``.  A table has ``number``, ``page``,
``caption``, ``kind`` (architecture / results), ``orientation`` (row: a layer per
row; column: a layer per column), ``rules`` (grid / booktabs / none), ``cells``
(rows of strings, as printed, NFKC-normalised) and, for architecture tables,
``layers`` (tokens such as ``conv3-64``, ``max pool``, ``FC-4096``, ``soft-max``)
and ``layer_types`` (vocabulary types), and ``models``: one ``{"configuration",
"layer_types"}`` per model the table describes.  Figure boxes exclude the caption.

The hard cases of real typesetting, on a 12-seed cycle: every third paper
(seed % 3 == 1) adds a wide, page-spanning ResNet-style table (``layout:
stages``): two depth configurations, "[3×3, 64; 3×3, 64] ×2" brackets over two
lines (drawn paths, or tall "[" glyphs as TeX sets them), cells spanning both
configurations, a cell wrapped over two lines with its neighbours centred
beside it, booktabs rules or a rule under every row (``hlines``); every third
paper (seed % 3 == 2) sets the results table beside the training plot, whose
tick labels sit right next to the gutter (``beside: figure``); seed % 6 == 5
adds a landscape table on a last page of its own, turned 90° counter-clockwise
(``layout: rotated``, ``rotation: 90``; its box is on the physical page);
seed % 4 == 0 sets the results table's caption under it (``caption_below``);
seed % 12 == 3 draws the raster architecture figure as the table's first block
with a skip connection (a Concat) the table cannot show: the table's model
gets ``fused_layer_types``, what a table + figure fusion should give.
"""
from __future__ import annotations

import json
import math
import random
import tempfile
import unicodedata
from collections.abc import Callable
from pathlib import Path

from ..core.atomic import replace_into

W, H = 612.0, 792.0            # US letter
MARGIN = 54.0
GUTTER = 18.0
COLW = (W - 2 * MARGIN - GUTTER) / 2
TOP, BOTTOM = MARGIN, H - MARGIN
BODY_FONT, BODY_SIZE, LEADING = "Times-Roman", 9.5, 11.5
CAP_SIZE, CAP_LEADING = 9.0, 10.8
ITEM_GAP = 12.0
FLOAT_SEP = 8.0                 # extra space above a figure or table that follows running text
LOOKS = ("keras3", "keras2", "caffe")


def _rule_drawer(c, tx: float, tw: float, boxes: list) -> Callable[[float, float], None]:
    """hline(y, lw): a horizontal table rule across [tx, tx + tw] at y (top-down
    points), drawn on canvas `c`, its box appended to `boxes` (ground truth)."""
    def hline(y, lw):
        c.setLineWidth(lw)
        c.line(tx, H - y, tx + tw, H - y)
        boxes.append([tx, y - lw / 2, tx + tw, y + lw / 2])
    return hline

_FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu", "/usr/share/fonts/TTF")
_WORDS = ("the network model layer training data we our method features accuracy results convolutional "
          "deep learning image classification dataset performance parameters architecture proposed show "
          "that this approach each input output neural weights gradient loss function batch normalization "
          "pooling representation experiments baseline state art improves recognition large scale validation "
          "test error rate trained using stochastic descent momentum learning rate schedule epochs objects "
          "detection segmentation residual connections depth width efficient computation memory inference "
          "which are with from for is on in to of and as by be can than more").split()


def _ttf():
    """Register DejaVu Sans (ligature glyphs, ×, –) once; fall back to Helvetica."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if "DejaVuSans" in pdfmetrics.getRegisteredFontNames():
        return "DejaVuSans"
    for d in _FONT_DIRS:
        f = Path(d) / "DejaVuSans.ttf"
        if f.is_file():
            pdfmetrics.registerFont(TTFont("DejaVuSans", str(f)))
            return "DejaVuSans"
    return "Helvetica"


def _nfkc(s: str) -> str:
    return unicodedata.normalize("NFKC", s)


def _sw(text, font, size):
    from reportlab.pdfbase.pdfmetrics import stringWidth
    return stringWidth(text, font, size)


def _text_box(x, baseline, text, font, size):
    """Box (top-left origin) pdfminer gives the drawn string: font descent to descent + size."""
    from reportlab.pdfbase.pdfmetrics import getDescent
    d = getDescent(font, size)          # negative, points
    bottom = baseline - d
    return [x, bottom - size, x + _sw(text, font, size), bottom]


def _union(boxes):
    boxes = [b for b in boxes if b]
    return [min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes)]


def _wrap(text, font, size, width):
    lines, cur = [], ""
    for w in text.split():
        t = (cur + " " + w).strip()
        if cur and _sw(t, font, size) > width:
            lines.append(cur)
            cur = w
        else:
            cur = t
    if cur:
        lines.append(cur)
    return lines


def _sentence(rng, n=None):
    n = n or rng.randint(8, 18)
    words = [rng.choice(_WORDS) for _ in range(n)]
    if rng.random() < 0.15:
        words.insert(rng.randint(1, len(words) - 1), f"(see Figure {rng.randint(1, 4)})")
    if rng.random() < 0.1:
        words.insert(rng.randint(1, len(words) - 1), f"in Table {rng.randint(1, 2)}")
    return " ".join(words).capitalize() + "."


# --------------------------------------------------------------------------- models in tables


def arch_layers(rng: random.Random, max_layers: int = 14) -> list[dict]:
    """A VGG-like layer list: conv blocks with max pooling, fully connected layers, soft-max."""
    size = rng.choice([224, 224, 64, 32])
    ch = rng.choice([16, 32, 64, 64])
    convs = []
    for b in range(rng.randint(2, 4)):
        for i in range(rng.randint(1, 2)):
            k = rng.choice([3, 3, 3, 1, 5])
            convs.append({"kind": "conv", "name": f"conv{b + 1}_{i + 1}", "kernel": k, "stride": 1,
                          "filters": ch, "out": size})
        size //= 2
        convs.append({"kind": "pool", "name": f"pool{b + 1}", "kernel": 2, "stride": 2, "filters": None,
                      "out": size})
        ch = min(ch * 2, 512)
    fcs = [rng.choice([4096, 1024, 512]), rng.choice([1000, 10, 100])]
    head = [{"kind": "fc", "name": f"fc{j + 6}", "kernel": None, "stride": None, "filters": u, "out": u}
            for j, u in enumerate(fcs)]
    head.append({"kind": "softmax", "name": "prob", "kernel": None, "stride": None, "filters": None,
                 "out": fcs[-1]})
    return convs[: max(2, max_layers - len(head))] + head


def layer_token(layer: dict) -> str:
    return {"conv": lambda l: f"conv{l['kernel']}-{l['filters']}", "pool": lambda l: "max pool",
            "fc": lambda l: f"FC-{l['filters']}", "softmax": lambda l: "soft-max"}[layer["kind"]](layer)


LAYER_TYPES = {"conv": "Conv2D", "pool": "MaxPool2D", "fc": "Dense", "softmax": "Activation"}


def arch_table(layers: list[dict], orientation: str, variant: str) -> list[list[str]]:
    """Cells of an architecture table; superscripts as Unicode ("224²"), ligature glyph in "# ﬁlters"."""
    dash = "–"

    def out(l):
        return f"{l['out']}²" if l["kind"] in ("conv", "pool") else str(l["out"])

    if orientation == "row":
        if variant == "vgg":
            rows = [["layer", "conﬁguration", "output size"]]
            rows += [[l["name"], layer_token(l), out(l)] for l in layers]
        else:
            rows = [["layer", "kernel", "stride", "# ﬁlters", "output size"]]
            for l in layers:
                k = f"{l['kernel']}×{l['kernel']}" if l["kernel"] else dash
                rows.append([l["name"], k, str(l["stride"]) if l["stride"] else dash,
                             str(l["filters"]) if l["filters"] and l["kind"] != "softmax" else dash, out(l)])
        return rows
    kinds = {"conv": "conv", "pool": "mpool", "fc": "fc", "softmax": "softmax"}
    return [["layer"] + [l["name"] for l in layers],
            ["type"] + [kinds[l["kind"]] for l in layers],
            ["support"] + [str(l["kernel"]) if l["kernel"] else dash for l in layers],
            ["num ﬁlts"] + [str(l["filters"]) if l["filters"] and l["kind"] != "softmax" else dash for l in layers],
            ["stride"] + [str(l["stride"]) if l["stride"] else dash for l in layers],
            ["data size"] + [str(l["out"]) for l in layers]]


def stage_table(rng: random.Random) -> tuple[list[list], list[dict]]:
    """A ResNet-style table: stages of bracketed basic blocks with repeat counts, two depth
    configurations side by side, cells spanning both configurations, a wrapped two-line cell.
    Returns (the :meth:`_Doc.rich_table` spec, the models: one per configuration with its
    ``layer_types`` in the graph vocabulary, as :mod:`.table_graph` builds it: each basic block
    is its two printed convolutions, the residual Add and a ReLU; a stage's first block strides
    and gets a 1x1 projection shortcut when its width changes)."""
    base = rng.choice([32, 64])
    cfgs = rng.choice([((1, 1, 1, 1), (2, 2, 2, 2)), ((2, 2, 2, 2), (3, 4, 6, 3)), ((1, 1, 1, 1), (3, 4, 6, 3))])
    classes = rng.choice([1000, 100, 10])
    names = [f"{2 + 2 * sum(c)}-layer" for c in cfgs]

    def e(*lines, **kw):
        return {"lines": list(lines), **kw}
    spec = [[e("layer name"), e("output size")] + [e(n) for n in names],
            [e("conv1"), e("112×112"), e(f"7×7, {base}, stride 2", span=2), None],
            [e(""), e(""), e("3×3 max pool, stride 2", span=2), None]]
    for k in range(4):
        f, size = base * 2 ** k, 56 // 2 ** k
        spec.append([e(f"conv{k + 2}_x"), e(f"{size}×{size}")] +
                    [e(f"3×3, {f}", f"3×3, {f}", bracket=True, suffix=f"×{c[k]}") for c in cfgs])
    spec.append([e(""), e("1×1"), e("average pool,", f"{classes}-d fc, softmax", span=2), None])
    models = []
    for n, c in zip(names, cfgs):
        types = ["Conv2D", "MaxPool2D"]
        for k, reps in enumerate(c):
            block = ["Conv2D", "Conv2D", "Add", "Activation"]
            down = ["Conv2D", "Conv2D", "Conv2D", "Add", "Activation"]       # with the projection
            types += (block * reps if k == 0 else down + block * (reps - 1))
        models.append({"configuration": n, "layer_types": types + ["GlobalAvgPool2D", "Dense", "Activation"]})
    return spec, models


def results_table(rng: random.Random) -> list[list[str]]:
    rows = [["Method", "Top-1 err. (%)", "Top-5 err. (%)", "Params (M)"]]
    names = ["AlexNet", "VGG-16", "GoogLeNet", "ResNet-34", "ResNet-50", "Ours (small)", "Ours (large)"]
    for n in rng.sample(names, rng.randint(3, 6)):
        t1 = rng.uniform(18, 40)
        rows.append([n, f"{t1:.1f}", f"{t1 * rng.uniform(0.3, 0.5):.1f}", f"{rng.uniform(4, 140):.1f}"])
    return rows


# --------------------------------------------------------------------------- drawing


class _Doc:
    """A reportlab canvas with a two-column flow and ground-truth bookkeeping."""

    def __init__(self, path, rng, dpi, caption_style):
        from reportlab.pdfgen import canvas

        self.c = canvas.Canvas(str(path), pagesize=(W, H), invariant=1, pageCompression=1)
        self.rng = rng
        self.dpi = dpi
        self.caption_style = caption_style
        self.page = 1
        self.col = 0
        self.start = TOP                # where the columns start on this page
        self.y = [TOP, TOP]
        self.after_item = [False, False]   # the last thing in each column was a figure or table
        self.pending: list = []         # full-width items waiting for the top of a page
        self.figures: list[dict] = []
        self.tables: list[dict] = []
        self.nfig = 0
        self.ntab = 0
        self.tt = _ttf()
        self.rotated: list = []         # landscape tables, each on a page of its own at the end

    # flow ------------------------------------------------------------------
    def new_page(self):
        self.c.showPage()
        self.page += 1
        self.col = 0
        self.start = TOP
        self.y = [TOP, TOP]
        self.after_item = [False, False]
        pending, self.pending = self.pending, []
        for item in pending:
            self.place(item, force=True)

    def _empty(self):
        return self.y[0] == self.start and self.y[1] == self.start

    def place(self, item, force=False):
        """item: (height, span, draw(x, top, width))"""
        h, span, draw = item
        if span == 2:
            if not self._empty() and not force:
                self.pending.append(item)
                return
            if self.start + h > BOTTOM and not self._empty():
                self.pending.append(item)
                return
            draw(MARGIN, self.start, W - 2 * MARGIN)
            self.start += h + ITEM_GAP
            self.y = [self.start, self.start]
            return
        tall = h > LEADING + 0.1
        # a float set in the text gets space above it too (LaTeX's \\intextsep), unless it opens the column
        above = FLOAT_SEP if tall and self.y[self.col] > self.start and not self.after_item[self.col] else 0.0
        if self.y[self.col] + above + h > BOTTOM:
            if self.col == 0:
                self.col = 1
            else:
                self.new_page()
            return self.place(item)
        x = MARGIN + self.col * (COLW + GUTTER)
        draw(x, self.y[self.col] + above, COLW)
        self.y[self.col] += above + h + (ITEM_GAP if tall else 0)
        self.after_item[self.col] = tall

    def paragraph(self, text):
        lines = _wrap(text, BODY_FONT, BODY_SIZE, COLW)
        for ln in lines:
            def draw(x, top, w, ln=ln):
                self.c.setFont(BODY_FONT, BODY_SIZE)
                self.c.setFillColorRGB(0, 0, 0)
                self.c.drawString(x, H - (top + BODY_SIZE), ln)
            self.place((LEADING, 1, draw))
        self.y[self.col] += 4

    # captions --------------------------------------------------------------
    def caption_lines(self, label, text, width):
        font = self.tt
        return _wrap(f"{label} {text}", font, CAP_SIZE, width)

    def draw_caption(self, lines, x, top):
        self.c.setFont(self.tt, CAP_SIZE)
        self.c.setFillColorRGB(0, 0, 0)
        for i, ln in enumerate(lines):
            self.c.drawString(x, H - (top + CAP_SIZE + i * CAP_LEADING), ln)
        return len(lines) * CAP_LEADING

    def fig_label(self):
        self.nfig += 1
        return f"Fig. {self.nfig}." if self.caption_style == "fig" else f"Figure {self.nfig}:"

    def px(self, box):
        return [round(v * self.dpi / 72.0, 1) for v in box]

    # figures ---------------------------------------------------------------
    def figure(self, span, gw, gh, painter, caption, record, build=False):
        """A figure of graphic size gw x gh (points) centred in its span, caption below
        (with `build`, the (height, span, draw) item is returned instead of placed)."""
        width = COLW if span == 1 else W - 2 * MARGIN
        probe = self.caption_lines("Figure 99:", caption, width)
        h = gh + 6 + len(probe) * CAP_LEADING

        def draw(x, top, w):
            label = self.fig_label()
            gx = x + (w - gw) / 2
            box = painter(gx, top, gw, gh)
            lines = self.caption_lines(label, caption, w)
            self.draw_caption(lines, x, top + gh + 6)
            rec = dict(record, number=self.nfig, page=self.page, box=[round(v, 2) for v in box],
                       caption=_nfkc(" ".join(lines)))
            rec["box_px"] = self.px(rec["box"])
            self.figures.append(rec)
        if build:
            return (h, span, draw)
        self.place((h, span, draw))

    def figure_pair(self, parts):
        """Two figures side by side across the page, each with its own caption."""
        width = (W - 2 * MARGIN - 24) / 2
        hs = []
        for gw, gh, painter, caption, record in parts:
            hs.append(gh + 6 + len(self.caption_lines("Figure 99:", caption, width)) * CAP_LEADING)

        def draw(x, top, w):
            for i, (gw, gh, painter, caption, record) in enumerate(parts):
                sx = x + i * (width + 24)
                label = self.fig_label()
                box = painter(sx + (width - gw) / 2, top, gw, gh)
                lines = self.caption_lines(label, caption, width)
                self.draw_caption(lines, sx, top + gh + 6)
                rec = dict(record, number=self.nfig, page=self.page, box=[round(v, 2) for v in box],
                           caption=_nfkc(" ".join(lines)))
                rec["box_px"] = self.px(rec["box"])
                self.figures.append(rec)
        self.place((max(hs), 2, draw))

    # painters return the drawn box (top-left origin)
    def paint_image(self, png_or_pil):
        from reportlab.lib.utils import ImageReader

        def paint(x, top, w, h):
            self.c.drawImage(ImageReader(png_or_pil), x, H - top - h, w, h)
            return [x, top, x + w, top + h]
        return paint

    def paint_tiles(self, tiles, cols=2, gap=4.0):
        """Several images forming one figure (sub-figures), labelled (a), (b), ..."""
        from reportlab.lib.utils import ImageReader

        def paint(x, top, w, h):
            rows = math.ceil(len(tiles) / cols)
            tw = (w - gap * (cols - 1)) / cols
            th = (h - gap * (rows - 1) - 9) / rows
            boxes = []
            for i, t in enumerate(tiles):
                r, cc = divmod(i, cols)
                tx, ty = x + cc * (tw + gap), top + r * (th + gap + 9 / rows)
                self.c.drawImage(ImageReader(t), tx, H - ty - th, tw, th)
                boxes.append([tx, ty, tx + tw, ty + th])
                lab = f"({chr(97 + i)})"
                self.c.setFont("Helvetica", 7)
                lx = tx + tw / 2 - _sw(lab, "Helvetica", 7) / 2
                self.c.drawString(lx, H - (ty + th + 7), lab)
                boxes.append(_text_box(lx, ty + th + 7, lab, "Helvetica", 7))
            return _union(boxes)
        return paint

    def paint_boxes(self, labels, horizontal):
        """A vector block diagram: one rounded box per layer, arrows between."""
        rng = self.rng
        fill = rng.choice([(0.85, 0.9, 1.0), (1.0, 0.93, 0.8), (0.9, 0.97, 0.88), (1, 1, 1)])

        def paint(x, top, w, h):
            c = self.c
            n = len(labels)
            boxes = []
            c.setLineWidth(0.8)
            if horizontal:
                bw, bh = (w - 10 * (n - 1)) / n, h
                pos = [(x + i * (bw + 10), top) for i in range(n)]
            else:
                bw, bh = w, (h - 10 * (n - 1)) / n
                pos = [(x, top + i * (bh + 10)) for i in range(n)]
            for i, ((bx, by), lab) in enumerate(zip(pos, labels)):
                c.setFillColorRGB(*fill)
                c.setStrokeColorRGB(0.1, 0.1, 0.3)
                c.roundRect(bx, H - by - bh, bw, bh, 3, stroke=1, fill=1)
                boxes.append([bx, by, bx + bw, by + bh])
                c.setFillColorRGB(0, 0, 0)
                size = 7.0
                while _sw(lab, "Helvetica", size) > bw - 4 and size > 4:
                    size -= 0.5
                tx = bx + (bw - _sw(lab, "Helvetica", size)) / 2
                c.setFont("Helvetica", size)
                c.drawString(tx, H - (by + bh / 2 + size * 0.35), lab)
                if i + 1 < n:
                    c.setStrokeColorRGB(0, 0, 0)
                    if horizontal:
                        ax0, ay, ax1 = bx + bw, by + bh / 2, bx + bw + 10
                        c.line(ax0, H - ay, ax1 - 3, H - ay)
                        p = c.beginPath()
                        p.moveTo(ax1, H - ay); p.lineTo(ax1 - 4, H - ay + 2); p.lineTo(ax1 - 4, H - ay - 2); p.close()
                    else:
                        ax, ay0, ay1 = bx + bw / 2, by + bh, by + bh + 10
                        c.line(ax, H - ay0, ax, H - ay1 + 3)
                        p = c.beginPath()
                        p.moveTo(ax, H - ay1); p.lineTo(ax - 2, H - ay1 + 4); p.lineTo(ax + 2, H - ay1 + 4); p.close()
                    c.setFillColorRGB(0, 0, 0)
                    c.drawPath(p, stroke=0, fill=1)
            return _union(boxes)
        return paint

    def paint_plot(self):
        rng = self.rng

        def paint(x, top, w, h):
            c = self.c
            fs = 6.5
            left, bottom_pad = 22.0, 20.0
            ax0, ay0, ax1, ay1 = x + left, top, x + w, top + h - bottom_pad      # axes, top-left origin
            boxes = []
            c.setLineWidth(0.6)
            c.setStrokeColorRGB(0, 0, 0)
            c.rect(ax0, H - ay1, ax1 - ax0, ay1 - ay0, stroke=1, fill=0)
            boxes.append([ax0, ay0, ax1, ay1])
            c.setFont("Helvetica", fs)
            c.setFillColorRGB(0, 0, 0)
            for i in range(6):
                tx = ax0 + i * (ax1 - ax0) / 5
                c.line(tx, H - ay1, tx, H - ay1 + 2.5)
                lab = str(i * 20)
                lx = tx - _sw(lab, "Helvetica", fs) / 2
                c.drawString(lx, H - (ay1 + 8), lab)
                boxes.append(_text_box(lx, ay1 + 8, lab, "Helvetica", fs))
            for i in range(5):
                ty = ay1 - i * (ay1 - ay0) / 4
                c.line(ax0, H - ty, ax0 + 2.5, H - ty)
                lab = f"{i * 0.25:.2f}"
                lx = ax0 - 3 - _sw(lab, "Helvetica", fs)
                c.drawString(lx, H - (ty + fs * 0.35), lab)
                boxes.append(_text_box(lx, ty + fs * 0.35, lab, "Helvetica", fs))
            lab = "epoch"
            lx = (ax0 + ax1) / 2 - _sw(lab, "Helvetica", fs) / 2
            c.drawString(lx, H - (ay1 + 17), lab)
            boxes.append(_text_box(lx, ay1 + 17, lab, "Helvetica", fs))
            colors = [(0.8, 0.1, 0.1), (0.1, 0.3, 0.8), (0.1, 0.6, 0.2)]
            for k in range(rng.randint(2, 3)):
                rate, final = rng.uniform(2, 8), rng.uniform(0.6, 0.95)
                p = c.beginPath()
                for j in range(60):
                    u = j / 59
                    v = final * (1 - math.exp(-rate * u)) + rng.uniform(-0.02, 0.02)
                    px_, py_ = ax0 + u * (ax1 - ax0), ay1 - max(0.0, min(1.0, v)) * (ay1 - ay0)
                    (p.moveTo if j == 0 else p.lineTo)(px_, H - py_)
                c.setStrokeColorRGB(*colors[k])
                c.drawPath(p, stroke=1, fill=0)
                lab = ["train", "val", "test"][k]
                c.setFillColorRGB(0, 0, 0)
                c.drawString(ax1 - 30, H - (ay1 - 8 - 8 * k), lab)
            c.setStrokeColorRGB(0, 0, 0)
            return _union(boxes)
        return paint

    # tables ----------------------------------------------------------------
    def table(self, cells, span, rules, caption, record, build=False, width=None, caption_below=False):
        width = width or (COLW if span == 1 else W - 2 * MARGIN)
        font = self.tt
        size = 8.0
        pad = 5.0

        def colw(sz):
            ncol = max(len(r) for r in cells)
            return [max(_sw(r[j].rstrip("²"), font, sz) + (0.5 * sz if r[j].endswith("²") else 0)
                        for r in cells if j < len(r)) + 2 * pad for j in range(ncol)]
        while sum(colw(size)) > width and size > 5:
            size -= 0.5
        cws = colw(size)
        rowh = size * 1.7
        th = rowh * len(cells)
        cap = self.caption_lines("Table 9:", caption, width)
        h = len(cap) * CAP_LEADING + 4 + th + 2 + (4 if caption_below else 0)

        def draw(x, top, w):
            c = self.c
            self.ntab += 1
            lines = self.caption_lines(f"Table {self.ntab}:", caption, w)
            if caption_below:                # the table first, its caption under it
                t0 = top
                self.draw_caption(lines, x, top + th + 6)
            else:
                self.draw_caption(lines, x, top)
                t0 = top + len(lines) * CAP_LEADING + 4
            tw = sum(cws)
            tx = x + (w - tw) / 2
            boxes = []
            c.setStrokeColorRGB(0, 0, 0)
            hline = _rule_drawer(c, tx, tw, boxes)
            if rules == "grid":
                for i in range(len(cells) + 1):
                    hline(t0 + i * rowh, 0.5)
                xs = [tx]
                for cw in cws:
                    xs.append(xs[-1] + cw)
                c.setLineWidth(0.5)
                for xv in xs:
                    c.line(xv, H - t0, xv, H - (t0 + th))
            elif rules == "booktabs":
                hline(t0, 0.8)
                hline(t0 + rowh, 0.5)
                hline(t0 + th, 0.8)
            c.setFillColorRGB(0, 0, 0)
            for i, row in enumerate(cells):
                base = t0 + i * rowh + rowh / 2 + size * 0.35
                cx = tx
                for j, text in enumerate(row):
                    sup = ""
                    while text and text[-1] in "²³":
                        sup = {"²": "2", "³": "3"}[text[-1]] + sup
                        text = text[:-1]
                    c.setFont(font, size)
                    c.drawString(cx + pad, H - base, text)
                    if text:
                        boxes.append(_text_box(cx + pad, base, text, font, size))
                    if sup:
                        sx = cx + pad + _sw(text, font, size) + 0.3
                        ss = size * 0.65
                        c.setFont(font, ss)
                        c.drawString(sx, H - (base - size * 0.4), sup)
                        boxes.append(_text_box(sx, base - size * 0.4, sup, font, ss))
                    cx += cws[j]
            rec = dict(record, number=self.ntab, page=self.page, caption=_nfkc(" ".join(lines)),
                       rules=rules, cells=[[_nfkc(v) if "²" not in v else _nfkc(v[:-1]) + v[-1] for v in r]
                                           for r in cells])
            rec["box"] = [round(v, 2) for v in _union(boxes)]
            rec["box_px"] = self.px(rec["box"])
            self.tables.append(rec)
        if build:
            return (h, span, draw)
        self.place((h, span, draw))

    def side_by_side(self, left, right):
        """Two one-column items (built with ``build=True``) drawn at the same height, one per column:
        a table beside a figure whose labels sit next to the gutter."""
        h = max(left[0], right[0])

        def draw(x, top, w):
            left[2](MARGIN, top, COLW)
            right[2](MARGIN + COLW + GUTTER, top, COLW)
        self.place((h, 2, draw))

    def rich_table(self, spec, span, rules, caption, record, bracket="path"):
        """A table whose cells may span columns, hold several lines, or a bracketed group of lines
        followed by a repeat ("[3×3, 64; 3×3, 64] ×2", as in ResNet's table).

        `spec`: rows of entries, each ``None`` (covered by a spanning cell on its left) or
        ``{"lines": [...], "bracket": bool, "suffix": str, "span": int}``.  Rows are as tall as
        their tallest cell; every cell is centred vertically and horizontally.  `rules`:
        ``booktabs`` (top, header, bottom) or ``hlines`` (a rule under every row).  `bracket`:
        ``path`` (drawn lines with hooks) or ``glyph`` (a tall "[" / "]" font character, as TeX
        sets \\left[ ... \\right]).  Ground-truth cell text: lines joined by a space, or
        ``[a; b] ×n`` for a bracket; a spanning cell's text in its first column, "" in the rest."""
        font, pad = self.tt, 5.0
        ncol = max(sum(e.get("span", 1) for e in r if e is not None) for r in spec)
        width = COLW if span == 1 else W - 2 * MARGIN

        def inner(e, sz):
            lw = max(_sw(t, font, sz) for t in e["lines"])
            if e.get("bracket"):
                bw = self._bracket_w(sz * 1.15 * len(e["lines"]) + 2, bracket, font)
                lw += 2 * (bw + 1.2) + (2.5 + _sw(e["suffix"], font, sz) if e.get("suffix") else 0)
            return lw

        def widths(sz):
            cws = [2 * pad] * ncol
            for r in spec:
                for j, e in enumerate(r):
                    if e is not None and e.get("span", 1) == 1:
                        cws[j] = max(cws[j], inner(e, sz) + 2 * pad)
            for r in spec:
                for j, e in enumerate(r):
                    if e is not None and e.get("span", 1) > 1:
                        k = e["span"]
                        need = inner(e, sz) + 2 * pad - sum(cws[j:j + k])
                        if need > 0:
                            cws[j + k - 1] += need
            return cws
        size = 8.0
        while sum(widths(size)) > width and size > 5:
            size -= 0.5
        cws = widths(size)
        ll = 1.15 * size
        rowhs = [max(len(e["lines"]) for e in r if e is not None) * ll + 0.55 * size for r in spec]
        th = sum(rowhs)
        cap = self.caption_lines("Table 9:", caption, width)
        h = len(cap) * CAP_LEADING + 4 + th + 2

        def draw(x, top, w):
            from reportlab.pdfbase.pdfmetrics import getDescent
            c = self.c
            self.ntab += 1
            lines = self.caption_lines(f"Table {self.ntab}:", caption, w)
            self.draw_caption(lines, x, top)
            t0 = top + len(lines) * CAP_LEADING + 4
            tw = sum(cws)
            tx = x + (w - tw) / 2
            xs = [tx]
            for cw in cws:
                xs.append(xs[-1] + cw)
            boxes = []
            c.setStrokeColorRGB(0, 0, 0)
            hline = _rule_drawer(c, tx, tw, boxes)
            ys = [t0]
            for rh in rowhs:
                ys.append(ys[-1] + rh)
            if rules == "booktabs":
                hline(ys[0], 0.8), hline(ys[1], 0.5), hline(ys[-1], 0.8)
            else:
                hline(ys[0], 0.8)
                for yv in ys[1:-1]:
                    hline(yv, 0.4)
                hline(ys[-1], 0.8)
            c.setFillColorRGB(0, 0, 0)
            truth_cells = []
            for i, row in enumerate(spec):
                tr = [""] * ncol
                j = 0
                mid = ys[i] + rowhs[i] / 2
                for e in row:
                    if e is None:
                        j += 1
                        continue
                    k = e.get("span", 1)
                    cx0, cx1 = xs[j], xs[j + k]
                    n = len(e["lines"])
                    base0 = mid - n * ll / 2 + ll / 2 + 0.35 * size
                    c.setFont(font, size)
                    if e.get("bracket"):
                        bh = n * ll + 2
                        bw = self._bracket_w(bh, bracket, font)
                        lw = max(_sw(t, font, size) for t in e["lines"])
                        full = inner(e, size)
                        bx = (cx0 + cx1) / 2 - full / 2
                        btop, bbot = mid - bh / 2, mid + bh / 2
                        boxes.append(self._bracket(bx, btop, bbot, bw, "[", bracket, font))
                        lx = bx + bw + 1.2
                        for li, t in enumerate(e["lines"]):
                            c.setFont(font, size)
                            c.drawString(lx, H - (base0 + li * ll), t)
                            boxes.append(_text_box(lx, base0 + li * ll, t, font, size))
                        rbx = lx + lw + 1.2
                        boxes.append(self._bracket(rbx, btop, bbot, bw, "]", bracket, font))
                        text = "[" + "; ".join(e["lines"]) + "]"
                        if e.get("suffix"):
                            sx = rbx + bw + 2.5
                            c.setFont(font, size)
                            c.drawString(sx, H - (mid + 0.35 * size), e["suffix"])
                            boxes.append(_text_box(sx, mid + 0.35 * size, e["suffix"], font, size))
                            text += " " + e["suffix"]
                    else:
                        for li, t in enumerate(e["lines"]):
                            lx = (cx0 + cx1) / 2 - _sw(t, font, size) / 2
                            c.drawString(lx, H - (base0 + li * ll), t)
                            if t:
                                boxes.append(_text_box(lx, base0 + li * ll, t, font, size))
                        text = " ".join(e["lines"])
                    tr[j] = _nfkc(text)
                    j += k
                truth_cells.append(tr)
            rec = dict(record, number=self.ntab, page=self.page, caption=_nfkc(" ".join(lines)),
                       rules=rules, cells=truth_cells, brackets=bracket)
            rec["box"] = [round(v, 2) for v in _union(boxes)]
            rec["box_px"] = self.px(rec["box"])
            self.tables.append(rec)
        self.place((h, span, draw))

    def _bracket_w(self, height, style, font):
        return 2.5 if style == "path" else _sw("[", font, height)

    def _bracket(self, x, top, bottom, bw, which, style, font):
        """A bracket from `top` to `bottom` at x (its box, top-left origin)."""
        c = self.c
        if style == "path":
            c.setLineWidth(0.6)
            p = c.beginPath()
            if which == "[":
                p.moveTo(x + bw, H - top); p.lineTo(x, H - top); p.lineTo(x, H - bottom); p.lineTo(x + bw, H - bottom)
            else:
                p.moveTo(x, H - top); p.lineTo(x + bw, H - top); p.lineTo(x + bw, H - bottom); p.lineTo(x, H - bottom)
            c.drawPath(p, stroke=1, fill=0)
            return [x, top, x + bw, bottom]
        from reportlab.pdfbase.pdfmetrics import getDescent
        size = bottom - top
        base = bottom + getDescent(font, size)
        c.setFont(font, size)
        c.drawString(x, H - base, which)
        return _text_box(x, base, which, font, size)

    def save(self):
        pending, self.pending = self.pending, []
        if pending:
            self.c.showPage()
            self.page += 1
            self.start = TOP
            self.y = [TOP, TOP]
            for it in pending:
                self.place(it, force=True)
        for cells, caption, record in self.rotated:
            self.c.showPage()
            self.page += 1
            self._rotated_table(cells, caption, record)
        self.c.showPage()
        self.c.save()

    def _rotated_table(self, cells, caption, record):
        """A landscape table on a page of its own, turned 90° counter-clockwise (LaTeX's
        sidewaystable): drawn in a virtual landscape page whose top-left-origin point (x', t')
        lands on the physical point x = t', top = H - x'."""
        c = self.c
        c.saveState()
        c.translate(H, 0)
        c.rotate(90)
        lw = H - 2 * MARGIN
        h, _, draw = self.table(cells, 2, "booktabs", caption, dict(record, rotation=90), build=True,
                                width=lw)
        draw(MARGIN, MARGIN, lw)
        c.restoreState()
        rec = self.tables[-1]
        x0, t0, x1, t1 = rec["box"]
        rec["box"] = [round(v, 2) for v in (t0, H - x1, t1, H - x0)]
        rec["box_px"] = self.px(rec["box"])


def _noise_image(rng: random.Random, w=160, h=120):
    import numpy as np
    from PIL import Image

    g = np.random.default_rng(rng.randrange(2 ** 32))
    low = g.random((h // 8, w // 8, 3))
    img = Image.fromarray((low * 255).astype("uint8")).resize((w, h), Image.BICUBIC)
    arr = np.asarray(img).astype("float32") + g.normal(0, 18, (h, w, 3))
    return Image.fromarray(arr.clip(0, 255).astype("uint8"))


def _branch_figure(layers: list[dict]):
    """A diagram of the first block of a table's model with a skip connection: the layers up to
    the first pooling after the first pair of convolutions, the pair's outputs joined by a Concat.
    Returns (graph doc, the fused model's layer types: the table's with that Concat) or None."""
    pair = next((i for i in range(len(layers) - 1) if layers[i]["kind"] == layers[i + 1]["kind"] == "conv"), None)
    if pair is None:
        return None
    end = next((j for j in range(pair + 2, len(layers)) if layers[j]["kind"] == "pool"), None)
    if end is None:
        return None
    size = layers[0]["out"] * (layers[0]["stride"] or 1)
    nodes = [{"layer_type": "Input", "layer_name": "input", "layer_params": {"shape": [size, size, 3]},
              "from_layers": []}]
    prev = "input"
    for i, l in enumerate(layers[: end + 1]):
        if l["kind"] == "conv":
            node = {"layer_type": "Conv2D", "layer_name": l["name"],
                    "layer_params": {"filters": l["filters"], "kernel_size": l["kernel"], "padding": "same"}}
        else:
            node = {"layer_type": "MaxPool2D", "layer_name": l["name"], "layer_params": {"pool_size": 2, "strides": 2}}
        nodes.append(dict(node, from_layers=[prev]))
        prev = l["name"]
        if i == pair + 1:
            nodes.append({"layer_type": "Concat", "layer_name": "concat", "layer_params": {},
                          "from_layers": [layers[pair]["name"], l["name"]]})
            prev = "concat"
    types = [LAYER_TYPES[l["kind"]] for l in layers]
    return {"name": "branch", "layers": nodes}, types[: pair + 2] + ["Concat"] + types[pair + 2:]


def _box_label(layer: dict) -> str:
    return {"conv": lambda l: f"conv {l['kernel']}×{l['kernel']}, {l['filters']}",
            "pool": lambda l: "max pool /2", "fc": lambda l: f"fc {l['filters']}",
            "softmax": lambda l: "softmax"}[layer["kind"]](layer)


def generate_paper(out_dir, seed: int, *, dpi: int = 150, name: str | None = None) -> dict:
    """Write ``<name>.pdf`` and ``<name>.json`` (ground truth) into `out_dir`; return the truth."""
    from ..render import render_diagram
    from ..simulate import generate_model

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    name = name or f"synth_{seed:03d}"
    rng = random.Random(f"paper-{seed}")
    pdf_path = out_dir / f"{name}.pdf"
    tmp_pdf = out_dir / f".{name}.pdf.tmp"
    doc = _Doc(tmp_pdf, rng, dpi, "fig" if seed % 4 == 3 else "figure")
    c = doc.c

    # title block (full width, page 1)
    title = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(5, 9))).title()

    def draw_title(x, top, w):
        c.setFont("Helvetica-Bold", 16)
        for i, ln in enumerate(_wrap(title, "Helvetica-Bold", 16, w)):
            c.drawCentredString(W / 2, H - (top + 16 + i * 19), ln)
        c.setFont("Helvetica", 10)
        c.drawCentredString(W / 2, H - (top + 52), "Anonymous Authors, Synthetic University")
    doc.place((62, 2, draw_title))

    # what this paper shows
    arch_src = ("raster", "vector", "both")[seed % 3]
    look = LOOKS[(seed // 3) % 3]
    orientation = ("row", "column")[seed % 2]
    rules = ("booktabs", "grid", "none")[seed % 3]
    variant = ("vgg", "spec")[(seed // 2) % 2]
    layers = arch_layers(rng, max_layers=14 if orientation == "row" else 10)

    items = []
    fused_types = None
    with tempfile.TemporaryDirectory() as tmp:
        if arch_src in ("raster", "both"):
            depth = rng.randint(3, 6)
            graph, gdoc = generate_model(depth, seed, seed=seed)
            branch = _branch_figure(layers) if seed % 12 == 3 else None
            if branch is not None:
                # the figure draws the table's first block with a skip connection the table cannot show
                from ..core.graph import parse_graph
                gdoc, fused_types = branch
                graph = parse_graph(gdoc)
                depth = len(gdoc["layers"]) - 1
            png = Path(tmp) / "arch.png"
            from PIL import Image
            knobs = {"look": look}
            for _ in range(2):
                render_diagram(graph, knobs, png, seed=seed)
                with Image.open(png) as im:
                    iw, ih = im.size
                    pil = im.convert("RGB")
                if iw <= 3 * ih:
                    break
                knobs = {"look": look, "rankdir": "TB"}     # a long left-to-right chain: draw it top-down
            span = 2 if (ih < iw and rng.random() < 0.5) else 1
            maxw = (COLW if span == 1 else (W - 2 * MARGIN) * 0.7)
            maxh = 280.0 if span == 1 else 220.0
            s = min(maxw / iw, maxh / ih)
            gw, gh = iw * s, ih * s
            layer_names = [l["layer_name"] for l in gdoc["layers"]]
            items.append(("fig", span, gw, gh, doc.paint_image(pil),
                          f"Architecture of the proposed network ({look} style drawing), {depth} layers deep.",
                          {"kind": "architecture", "source": "raster", "style": look, "layers": layer_names,
                           "layer_types": [l["layer_type"] for l in gdoc["layers"]]}))
        if arch_src in ("vector", "both"):
            labels = ["input"] + [_box_label(l) for l in layers[:7]]
            box_types = ["Input"] + [LAYER_TYPES[l["kind"]] for l in layers[:7]]
            horizontal = rng.random() < 0.4
            if horizontal:
                items.append(("fig", 2, W - 2 * MARGIN - 40, 34.0, doc.paint_boxes(labels, True),
                              "Overview of our network: each box is a layer, arrows show the data ﬂow.",
                              {"kind": "architecture", "source": "vector", "style": "boxes", "layers": labels,
                               "layer_types": box_types}))
            else:
                items.append(("fig", 1, 120.0, 18.0 * len(labels) + 10 * (len(labels) - 1),
                              doc.paint_boxes(labels, False),
                              "The network as a block diagram; the data ﬂows from top to bottom.",
                              {"kind": "architecture", "source": "vector", "style": "boxes", "layers": labels,
                               "layer_types": box_types}))
        items.append(("fig", 1, COLW * 0.9, COLW * 0.62, doc.paint_plot(),
                      "Training curves: accuracy against epoch for the training and validation sets.",
                      {"kind": "plot", "source": "vector"}))
        photos = [_noise_image(rng) for _ in range(rng.choice([1, 4]))]
        photo_paint = doc.paint_image(photos[0]) if len(photos) == 1 else doc.paint_tiles(photos)
        photo = (150.0, 112.0 if len(photos) == 1 else 124.0, photo_paint,
                 "Example images from the dataset with their predicted classes.", {"kind": "photo", "source": "raster"})
        if seed % 2 == 0:
            photo2 = (150.0, 112.0, doc.paint_image(_noise_image(rng)),
                      "Failure cases: images the network misclassiﬁes.", {"kind": "photo", "source": "raster"})
            items.append(("pair", [photo, photo2]))
        else:
            items.append(("fig", 1) + photo)
        cells = arch_table(layers, orientation, variant)
        items.append(("table", 1 if orientation == "row" else 2, cells, rules,
                      "Network conﬁguration: the layers of the proposed model." if orientation == "row"
                      else "Architecture of the model, one layer per column.",
                      {"kind": "architecture", "orientation": orientation,
                       "layers": [layer_token(l) for l in layers],
                       "layer_types": [LAYER_TYPES[l["kind"]] for l in layers],
                       "models": [dict({"configuration": None,
                                        "layer_types": [LAYER_TYPES[l["kind"]] for l in layers]},
                                       **({"fused_layer_types": fused_types} if fused_types else {}))]}))
        items.append(("table", 1, results_table(rng), ("booktabs", "none", "grid")[seed % 3],
                      "Classiﬁcation error on the validation set (lower is better).",
                      {"kind": "results", "orientation": "row", "layers": [], "layer_types": []}))
        if seed % 3 == 2:
            # the results table beside the training plot, whose tick labels sit right of the gutter
            plot = next(it for it in items if it[0] == "fig" and it[-1]["kind"] == "plot")
            res = items[-1]
            items = [it for it in items if it is not plot and it is not res] + [("side", plot, res)]
        rng.shuffle(items)
        if seed % 6 == 5:
            # a landscape table on its own page, turned 90°: a long network, one layer per column
            rrng = random.Random(f"paper-{seed}-rotated")
            big = arch_layers(rrng, max_layers=18)
            doc.rotated.append((arch_table(big, "column", "spec"),
                                "Full conﬁguration of the network, one layer per column.",
                                {"kind": "architecture", "orientation": "column", "layout": "rotated",
                                 "layers": [layer_token(l) for l in big],
                                 "layer_types": [LAYER_TYPES[l["kind"]] for l in big],
                                 "models": [{"configuration": None,
                                             "layer_types": [LAYER_TYPES[l["kind"]] for l in big]}]}))
        if seed % 3 == 1:
            # a wide ResNet-style table: brackets over two lines with a repeat, spanning cells
            srng = random.Random(f"paper-{seed}-stages")
            spec, models = stage_table(srng)
            items.insert(srng.randint(0, len(items)), (
                "rich", spec, ("booktabs", "hlines")[(seed // 6) % 2], ("path", "glyph")[(seed // 3) % 2],
                "Architectures for the two depths. Building blocks are shown in brackets, with the numbers "
                "of blocks stacked; downsampling by the ﬁrst block of each stage.",
                {"kind": "architecture", "orientation": "row", "layout": "stages", "models": models}))

        for _ in range(rng.randint(2, 4)):
            doc.paragraph(" ".join(_sentence(rng) for _ in range(rng.randint(3, 6))))
        for it in items:
            if it[0] == "fig":
                _, span, gw, gh, painter, cap, rec = it
                doc.figure(span, gw, gh, painter, cap, rec)
            elif it[0] == "pair":
                doc.figure_pair(it[1])
            elif it[0] == "side":
                _, (_, _, gw, gh, painter, cap, rec), (_, _, cells, rl, tcap, trec) = it
                doc.side_by_side(doc.table(cells, 1, rl, tcap, dict(trec, beside="figure"), build=True),
                                 doc.figure(1, gw, gh, painter, cap, rec, build=True))
            elif it[0] == "rich":
                _, spec, rl, br, cap, rec = it
                doc.rich_table(spec, 2, rl, cap, rec, bracket=br)
            else:
                _, span, cells, rl, cap, rec = it
                below = rec["kind"] == "results" and seed % 4 == 0
                doc.table(cells, span, rl, cap, dict(rec, caption_below=True) if below else rec, caption_below=below)
            for _ in range(rng.randint(1, 3)):
                doc.paragraph(" ".join(_sentence(rng) for _ in range(rng.randint(3, 6))))
        doc.save()
    replace_into(tmp_pdf, pdf_path)
    truth = {"name": name, "seed": seed, "pdf": pdf_path.name, "pages": doc.page, "page_size": [W, H],
             "dpi": dpi, "title": title, "figures": doc.figures, "tables": doc.tables}
    (out_dir / f"{name}.json").write_text(json.dumps(truth, indent=1, ensure_ascii=False), encoding="utf-8")
    return truth


def generate_corpus(out_dir, n: int = 12, seed: int = 0, *, dpi: int = 150) -> list[dict]:
    """Papers ``seed .. seed+n-1``; the cycle of options (figure source, look,
    table orientation, rules, caption style) is covered every 12 seeds."""
    return [generate_paper(out_dir, s, dpi=dpi) for s in range(seed, seed + n)]


def scan_paper(pdf, out_pdf, *, dpi: int = 150, pages: list[int] | None = None, seed: int = 0) -> Path:
    """An image-only copy of `pdf` (a "scanned" paper, no text layer): each page rasterised
    in grey at `dpi` with a little noise and drawn full-page, so every ground-truth box of the
    original still holds.  `pages`: 1-based pages to keep (all by default)."""
    import numpy as np
    from pdf2image import convert_from_path
    from PIL import Image
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    out_pdf = Path(out_pdf)
    imgs = convert_from_path(str(pdf), dpi=dpi, grayscale=True)
    g = np.random.default_rng(seed)
    c = canvas.Canvas(str(out_pdf), invariant=1, pageCompression=1)
    for number, im in enumerate(imgs, start=1):
        if pages and number not in pages:
            continue
        arr = np.asarray(im).astype(np.float32) + g.normal(0, 6, (im.height, im.width))
        page = Image.fromarray(arr.clip(0, 255).astype("uint8"))
        w, h = im.width * 72.0 / dpi, im.height * 72.0 / dpi
        c.setPageSize((w, h))
        c.drawImage(ImageReader(page), 0, 0, w, h)
        c.showPage()
    c.save()
    return out_pdf
