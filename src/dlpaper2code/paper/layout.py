"""One pdfminer pass per page, reduced to what figure and table extraction need.

pdfminer.six runs without its layout analysis (``laparams=None``, several times
faster): we keep raw characters, images and vector paths and group text
ourselves.  Coordinates everywhere in ``dlpaper2code.paper`` are PDF points with
the origin at the page's top-left corner: boxes are ``[x0, top, x1, bottom]``.

A page whose text mostly runs at a quarter turn (a landscape table set with
``sidewaystable``) is read in its own upright frame (``PageLayout.rotation``
90 or 270; ``to_page`` maps boxes back to the physical page); elsewhere turned
characters (a plot's vertical axis title) are left out.

Characters become *segments*: horizontal runs of text whose gaps are smaller
than ``0.8`` of the font size (a word space, never a table column gap or a
column gutter).  Characters are NFKC-normalised (ligatures "ﬁ" -> "fi"); a
character smaller than its segment's main size and raised above its middle is
a superscript and kept apart: digits become Unicode superscripts ("224²", never
"2242").
"""
from __future__ import annotations

from .ocr import ocr_page
from .page import Char, Graphic, PageLayout, build_segments, mark_tall_brackets, turn, turned_segments, unreadable_text_layer
from .pdf import Paper, PaperError


def _clipping_classes():
    """pdfminer's interpreter and page aggregator, taught the clipping path: pdfminer ignores "W n",
    so a picture placed larger than the rectangle that clips it (a figure trimmed in LaTeX, a
    cropped photo) would keep its whole box, reaching into the text above it.  The interpreter
    keeps the bounding box of the rectangles clipping the current state (saved and restored with
    "q" / "Q", inherited by form XObjects); the aggregator cuts each image and path to it."""
    from pdfminer.converter import PDFPageAggregator
    from pdfminer.pdfinterp import PDFPageInterpreter
    from pdfminer.utils import apply_matrix_pt

    class ClipInterpreter(PDFPageInterpreter):
        inherited = None

        def init_state(self, ctm):
            super().init_state(ctm)
            self.clip, self.clipstack, self.pending = self.inherited, [], False
            self.device.clip_of = lambda: self.clip

        def dup(self):
            other = super().dup()
            other.inherited = self.clip
            return other

        def do_Do(self, xobjid):
            saved = self.device.clip_of          # a form's interpreter points the device at its own clip
            super().do_Do(xobjid)
            self.device.clip_of = saved

        def do_q(self):
            self.clipstack.append(self.clip)
            super().do_q()

        def do_Q(self):
            super().do_Q()
            if self.clipstack:
                self.clip = self.clipstack.pop()

        def do_W(self):
            self.pending = True

        def do_W_a(self):
            self.pending = True

        def do_n(self):
            if self.pending and self.curpath:
                pts = []
                for seg in self.curpath:
                    nums = [v for v in seg[1:] if isinstance(v, (int, float))]
                    pts += [apply_matrix_pt(self.ctm, (nums[k], nums[k + 1])) for k in range(0, len(nums) - 1, 2)]
                if pts:
                    box = (min(x for x, _ in pts), min(y for _, y in pts), max(x for x, _ in pts),
                           max(y for _, y in pts))
                    c = self.clip
                    self.clip = box if c is None else (max(c[0], box[0]), max(c[1], box[1]), min(c[2], box[2]),
                                                       min(c[3], box[3]))
            self.pending = False
            super().do_n()

    class ClipAggregator(PDFPageAggregator):
        clip_of = staticmethod(lambda: None)

        def _cut(self):
            c = self.clip_of()
            if c is None or not self.cur_item._objs:
                return
            item = self.cur_item._objs[-1]
            x0, y0, x1, y1 = max(item.x0, c[0]), max(item.y0, c[1]), min(item.x1, c[2]), min(item.y1, c[3])
            if x1 < x0 or y1 < y0:
                self.cur_item._objs.pop()          # wholly clipped away: not seen
            elif (x0, y0, x1, y1) != (item.x0, item.y0, item.x1, item.y1):
                item.set_bbox((x0, y0, x1, y1))

        def render_image(self, name, stream):
            super().render_image(name, stream)
            self._cut()

        def paint_path(self, gstate, stroke, fill, evenodd, path):
            n = len(self.cur_item._objs)
            super().paint_path(gstate, stroke, fill, evenodd, path)
            if len(self.cur_item._objs) > n:
                self._cut()

    return ClipInterpreter, ClipAggregator


def _clip(box, clip):
    """`box` cut to `clip` (both [x0, top, x1, bottom]); None when nothing of it is visible."""
    if clip is None:
        return box
    b = [max(box[0], clip[0]), max(box[1], clip[1]), min(box[2], clip[2]), min(box[3], clip[3])]
    return b if b[2] >= b[0] and b[3] >= b[1] else None


def _walk(obj, H, chars, graphics, turned=None, clip=None):
    """Characters and graphics of a page (or of a form XObject inside it).  What a form draws
    outside its bounding box, or the page outside the page, is not visible: an included figure
    trimmed to a region keeps only that region (its bounding box is its clip)."""
    from pdfminer.layout import LTChar, LTCurve, LTFigure, LTImage, LTLine, LTRect

    for item in obj:
        box = [item.x0, H - item.y1, item.x1, H - item.y0]
        if isinstance(item, LTChar):
            t = item.get_text()
            cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
            if clip is not None and not (clip[0] - 1 <= cx <= clip[2] + 1 and clip[1] - 1 <= cy <= clip[3] + 1):
                continue
            if not item.upright:
                # text turned a quarter: kept apart (a landscape page is read in its own frame)
                a, b, c_, d, _, _ = item.matrix
                if turned is not None and abs(a) < 1e-3 * abs(b) and abs(d) < 1e-3 * abs(c_):
                    ch = Char(t, item.x0, H - item.y1, item.x1, H - item.y0, item.x1 - item.x0)
                    turned["ccw" if b > 0 else "cw"].append(ch)
                continue
            chars.append(Char(t, *box, item.size))
            continue
        if isinstance(item, LTFigure):
            inner = _clip(box, clip)
            if inner is not None:
                _walk(item, H, chars, graphics, turned, inner)
            continue
        kind = ("image" if isinstance(item, LTImage) else "line" if isinstance(item, LTLine) else
                "rect" if isinstance(item, LTRect) else "curve" if isinstance(item, LTCurve) else None)
        if kind is None:
            continue
        b = _clip(box, clip)
        if b is not None:
            if kind == "image":
                graphics.append(Graphic(kind, *b))
            else:
                dash = getattr(item, "dashing_style", None)
                graphics.append(Graphic(kind, *b, pts=tuple((x, H - y) for x, y in item.pts),
                                        fill=bool(item.fill), stroke=bool(item.stroke),
                                        color=_rgb(item.non_stroking_color if item.fill else item.stroking_color),
                                        dashed=bool(dash and dash[0])))


def _rgb(c) -> tuple | None:
    """A PDF colour (gray, RGB or CMYK numbers) as an RGB triple in 0..1; None for a pattern or none."""
    if isinstance(c, (int, float)):
        return (float(c),) * 3
    if isinstance(c, (tuple, list)) and all(isinstance(v, (int, float)) for v in c):
        if len(c) == 1:
            return (float(c[0]),) * 3
        if len(c) == 3:
            return tuple(float(v) for v in c)
        if len(c) == 4:
            k = 1 - float(c[3])
            return tuple(round((1 - float(v)) * k, 4) for v in c[:3])
    return None


def read_layout(paper: Paper, pages: list[int] | None = None, *, ocr: bool = False, ocr_dpi: int = 200,
                max_ocr_pages: int = 30) -> list[PageLayout]:
    """Layout of every page (or the 1-based `pages`); fills ``paper.scanned_pages`` (pages without
    usable text: no text layer, or one whose glyphs are mostly unreadable, also listed in
    ``paper.unreadable_pages``).

    With `ocr`, a page without a text layer is read by Tesseract (:mod:`.ocr`), up to
    `max_ocr_pages` of them (the rest stay empty); ``paper.ocr_pages`` lists those read."""
    from pdfminer.pdfdocument import PDFDocument
    from pdfminer.pdfinterp import PDFResourceManager
    from pdfminer.pdfpage import PDFPage
    from pdfminer.pdfparser import PDFParser

    out: list[PageLayout] = []
    wanted = set(pages) if pages else None
    scanned, unread = [], []
    try:
        with open(paper.path, "rb") as fh:
            doc = PDFDocument(PDFParser(fh), password=paper.password)
            rsrc = PDFResourceManager(caching=True)
            interp_class, dev_class = _clipping_classes()
            dev = dev_class(rsrc, laparams=None)
            interp = interp_class(rsrc, dev)
            for number, page in enumerate(PDFPage.create_pages(doc), start=1):
                if wanted is not None and number not in wanted:
                    continue
                interp.process_page(page)
                lt = dev.get_result()
                H = lt.height
                chars: list[Char] = []
                graphics: list[Graphic] = []
                turned: dict[str, list[Char]] = {"ccw": [], "cw": []}
                _walk(lt, H, chars, graphics, turned, [0.0, 0.0, lt.width, H])
                rotation = 0
                n_up = sum(1 for c in chars if c.text.strip())
                for key, rot in (("ccw", 90), ("cw", 270)):
                    n_t = sum(1 for c in turned[key] if c.text.strip())
                    if n_t >= 20 and n_t > n_up:          # a landscape page: read it in its own frame
                        rotation = rot
                        chars = []
                        for c in turned[key]:
                            b = turn([c.x0, c.top, c.x1, c.bottom], rot, lt.width, H)
                            chars.append(Char(c.text, *b, c.size))
                        graphics = [Graphic(g.kind, *turn(g.box, rot, lt.width, H)) for g in graphics]
                        break
                turned_segs = []
                if not rotation:
                    # turned text on an upright page (a plot's vertical axis title, a label written
                    # upwards in a figure's box) is not part of the page's text, but it is ink a figure
                    # owns: its glyphs are kept as marks, and its words for the figure readers
                    graphics += [Graphic("glyph", c.x0, c.top, c.x1, c.bottom)
                                 for key in ("ccw", "cw") for c in turned[key] if c.text.strip()]
                    turned_segs = turned_segments(turned["ccw"], 90, lt.width, H) + \
                        turned_segments(turned["cw"], 270, lt.width, H)
                if unreadable_text_layer(chars):
                    unread.append(number)
                    chars = []                  # no text rather than garbage: the page is read like a scan
                mark_tall_brackets(chars, graphics)
                pw, ph = (H, lt.width) if rotation else (lt.width, H)
                pl = PageLayout(number, pw, ph, build_segments(chars), graphics,
                                sum(1 for c in chars if c.text.strip()), rotation, lt.width, H,
                                turned=turned_segs)
                if not pl.has_text:
                    scanned.append(number)
                out.append(pl)
    except PaperError:
        raise
    except Exception as exc:
        raise PaperError(paper.path, "corrupt", f"cannot read page content ({type(exc).__name__}: {exc})") from None
    paper.page_sizes = [(p.page_width, p.page_height) for p in out]
    paper.scanned_pages = scanned
    paper.unreadable_pages = unread
    if ocr and scanned:
        done = []
        for i, pl in enumerate(out):
            if pl.number in scanned and len(done) < max_ocr_pages:
                out[i] = ocr_page(paper, pl.number, pl.page_width, pl.page_height, dpi=ocr_dpi)
                done.append(pl.number)
        paper.ocr_pages = done
    return out
