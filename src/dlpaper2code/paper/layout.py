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

import re
import unicodedata
from dataclasses import dataclass, field

from .pdf import Paper, PaperError

SUPERSCRIPTS = str.maketrans("0123456789+-()n", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁽⁾ⁿ")
SEGMENT_GAP = 0.8       # x gap, in font sizes, that ends a segment
BRACKETS = set("[](){}⎡⎢⎣⎤⎥⎦⎛⎜⎝⎞⎟⎠")
BRACKET_SIZE = 1.8      # a bracket glyph this many times the page's median font size is a tall bracket


@dataclass
class Char:
    text: str
    x0: float
    top: float
    x1: float
    bottom: float
    size: float
    sup: bool = False


@dataclass
class Segment:
    chars: list[Char]
    x0: float
    top: float
    x1: float
    bottom: float
    size: float          # the main (largest common) font size
    text: str = ""

    @property
    def box(self):
        return [self.x0, self.top, self.x1, self.bottom]

    @property
    def width(self):
        return self.x1 - self.x0

    @property
    def cy(self):
        return (self.top + self.bottom) / 2


@dataclass
class Graphic:
    kind: str            # "image", "line", "rect", "curve"
    x0: float
    top: float
    x1: float
    bottom: float

    @property
    def box(self):
        return [self.x0, self.top, self.x1, self.bottom]

    @property
    def is_hrule(self):
        return self.kind != "image" and (self.bottom - self.top) <= 2.0 and (self.x1 - self.x0) > 8

    @property
    def is_vrule(self):
        return self.kind not in ("image", "bracket") and (self.x1 - self.x0) <= 2.0 and (self.bottom - self.top) > 8

    @property
    def is_bracket(self):
        """A tall bracket: a big "[" / "]" glyph (TeX's \\left[), or a drawn path a few points wide
        with hooks, spanning two or more text lines."""
        w, h = self.x1 - self.x0, self.bottom - self.top
        return self.kind == "bracket" or (self.kind == "curve" and 1.5 < w <= 6.0 and 12.0 <= h <= 120.0)


@dataclass
class PageLayout:
    number: int          # 1-based
    width: float
    height: float
    segments: list[Segment] = field(default_factory=list)
    graphics: list[Graphic] = field(default_factory=list)
    n_chars: int = 0
    rotation: int = 0    # 90: a landscape page turned counter-clockwise (text reads upwards), 270: clockwise
    page_width: float = 0.0    # the physical page (width and height swap on a turned page)
    page_height: float = 0.0
    ocr: bool = False    # text from Tesseract (a page without a text layer)
    ocr_confidence: float | None = None    # Tesseract's mean word confidence (0-100) on an OCR page

    @property
    def has_text(self):
        return self.n_chars > 0

    def to_page(self, box):
        """A box in this layout's frame -> the physical page's (top-left origin)."""
        x0, t0, x1, t1 = box
        if self.rotation == 90:
            return [t0, self.page_height - x1, t1, self.page_height - x0]
        if self.rotation == 270:
            return [self.page_width - t1, x0, self.page_width - t0, x1]
        return list(box)


def _turn(box, rotation, W, H):
    """A physical box -> the frame of a page turned by `rotation` (inverse of PageLayout.to_page)."""
    x0, top, x1, bottom = box
    if rotation == 90:
        return [H - bottom, x0, H - top, x1]
    return [top, W - x1, bottom, W - x0]


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def _walk(obj, H, chars, graphics, turned=None):
    from pdfminer.layout import LTChar, LTCurve, LTFigure, LTImage, LTLine, LTRect

    for item in obj:
        if isinstance(item, LTChar):
            t = item.get_text()
            if not item.upright:
                # text turned a quarter: kept apart (a landscape page is read in its own frame)
                a, b, c_, d, _, _ = item.matrix
                if turned is not None and abs(a) < 1e-3 * abs(b) and abs(d) < 1e-3 * abs(c_):
                    ch = Char(t, item.x0, H - item.y1, item.x1, H - item.y0, item.x1 - item.x0)
                    turned["ccw" if b > 0 else "cw"].append(ch)
                continue
            chars.append(Char(t, item.x0, H - item.y1, item.x1, H - item.y0, item.size))
        elif isinstance(item, LTImage):
            graphics.append(Graphic("image", item.x0, H - item.y1, item.x1, H - item.y0))
        elif isinstance(item, LTFigure):
            _walk(item, H, chars, graphics, turned)
        elif isinstance(item, LTLine):
            graphics.append(Graphic("line", item.x0, H - item.y1, item.x1, H - item.y0))
        elif isinstance(item, LTRect):
            graphics.append(Graphic("rect", item.x0, H - item.y1, item.x1, H - item.y0))
        elif isinstance(item, LTCurve):
            graphics.append(Graphic("curve", item.x0, H - item.y1, item.x1, H - item.y0))


def _segments(chars: list[Char]) -> list[Segment]:
    """Group characters (in drawing order) into horizontal segments."""
    # runs: consecutive characters in stream order on one line
    runs: list[list[Char]] = []
    for c in chars:
        if runs:
            p = runs[-1][-1]
            h = min(c.bottom - c.top, p.bottom - p.top) or 1.0
            ov = min(c.bottom, p.bottom) - max(c.top, p.top)
            gap = c.x0 - p.x1
            if ov >= 0.5 * h and -0.5 * max(c.size, p.size) <= gap <= SEGMENT_GAP * max(c.size, p.size):
                runs[-1].append(c)
                continue
        runs.append([c])
    # merge runs into segments (superscripts drawn separately, words drawn one by one)
    runs.sort(key=lambda r: (min(c.top for c in r), r[0].x0))
    segs: list[list[Char]] = []
    boxes: list[list[float]] = []
    for r in runs:
        x0, x1 = min(c.x0 for c in r), max(c.x1 for c in r)
        top, bot = min(c.top for c in r), max(c.bottom for c in r)
        size = max(c.size for c in r)
        merged = False
        for i in range(len(segs) - 1, max(-1, len(segs) - 40), -1):
            b = boxes[i]
            if b[1] > bot + 20:
                continue
            h = min(bot - top, b[3] - b[1]) or 1.0
            ov = min(bot, b[3]) - max(top, b[1])
            gap = max(x0 - b[2], b[0] - x1)
            if ov >= 0.5 * h and gap <= SEGMENT_GAP * max(size, b[4]):
                segs[i].extend(r)
                boxes[i] = [min(b[0], x0), min(b[1], top), max(b[2], x1), max(b[3], bot), max(b[4], size)]
                merged = True
                break
        if not merged:
            segs.append(list(r))
            boxes.append([x0, top, x1, bot, size])
    out = []
    for cs, b in zip(segs, boxes):
        cs.sort(key=lambda c: c.x0)
        sizes = sorted(c.size for c in cs if c.text.strip())
        main = sizes[len(sizes) // 2] if sizes else b[4]
        big = [c for c in cs if c.size >= 0.9 * main] or cs
        mid = sum((c.top + c.bottom) / 2 for c in big) / len(big)
        parts = []
        prev = None
        for c in cs:
            c.sup = c.size < 0.85 * main and (c.top + c.bottom) / 2 < mid - 0.12 * main
            t = _norm(c.text)
            if c.sup:
                t = t.translate(SUPERSCRIPTS)
            if prev is not None and c.text != " " and prev.text != " " and c.x0 - prev.x1 > 0.18 * main \
                    and not c.sup:
                parts.append(" ")
            parts.append(t)
            prev = c
        text = re.sub(r"\s+", " ", "".join(parts)).strip()
        if not text:
            continue
        out.append(Segment(cs, b[0], b[1], b[2], b[3], main, text))
    out.sort(key=lambda s: (round(s.top, 1), s.x0))
    return out


PIECES = set("⎡⎢⎣⎤⎥⎦⎛⎜⎝⎞⎟⎠")
CID = re.compile(r"^\(cid:\d+\)$")


def _tall_brackets(chars: list[Char], graphics: list[Graphic]) -> None:
    """Bracket glyphs much taller than the text (a bracket around several lines) become graphics;
    so do the pieces of an extensible bracket ("⎡", "⎢", "⎣", stacked into one), and tall glyphs
    without a Unicode mapping (pdfminer's "(cid:N)", as TeX's cmex delimiters often come out).
    Small unmapped glyphs are dropped: their "(cid:N)" would only pollute the text."""
    sizes = sorted(c.size for c in chars if c.text.strip() and not CID.match(c.text))
    if not sizes:
        return
    med = sizes[len(sizes) // 2]
    keep, pieces = [], []
    for c in chars:
        t = c.text.strip()
        if t in PIECES:
            pieces.append(Graphic("bracket", c.x0, c.top, c.x1, c.bottom))
        elif (t in BRACKETS or CID.match(t)) and c.size >= BRACKET_SIZE * med:
            graphics.append(Graphic("bracket", c.x0, c.top, c.x1, c.bottom))
        elif CID.match(t):
            continue
        else:
            keep.append(c)
    pieces.sort(key=lambda g: (round(g.x0), g.top))
    for g in pieces:                      # stack the pieces of one bracket
        last = graphics[-1] if graphics else None
        if last is not None and last.kind == "bracket" and abs(last.x0 - g.x0) < 1.5 and g.top - last.bottom < 2.0:
            last.bottom = max(last.bottom, g.bottom)
            last.x1 = max(last.x1, g.x1)
        else:
            graphics.append(g)
    chars[:] = keep


def read_layout(paper: Paper, pages: list[int] | None = None, *, ocr: bool = False, ocr_dpi: int = 200,
                max_ocr_pages: int = 30) -> list[PageLayout]:
    """Layout of every page (or the 1-based `pages`); fills ``paper.scanned_pages``.

    With `ocr`, a page without a text layer is read by Tesseract (:mod:`.ocr`), up to
    `max_ocr_pages` of them (the rest stay empty); ``paper.ocr_pages`` lists those read."""
    from pdfminer.converter import PDFPageAggregator
    from pdfminer.pdfdocument import PDFDocument
    from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
    from pdfminer.pdfpage import PDFPage
    from pdfminer.pdfparser import PDFParser

    out: list[PageLayout] = []
    wanted = set(pages) if pages else None
    scanned = []
    try:
        with open(paper.path, "rb") as fh:
            doc = PDFDocument(PDFParser(fh), password=paper.password)
            rsrc = PDFResourceManager(caching=True)
            dev = PDFPageAggregator(rsrc, laparams=None)
            interp = PDFPageInterpreter(rsrc, dev)
            for number, page in enumerate(PDFPage.create_pages(doc), start=1):
                if wanted is not None and number not in wanted:
                    continue
                interp.process_page(page)
                lt = dev.get_result()
                H = lt.height
                chars: list[Char] = []
                graphics: list[Graphic] = []
                turned: dict[str, list[Char]] = {"ccw": [], "cw": []}
                _walk(lt, H, chars, graphics, turned)
                rotation = 0
                n_up = sum(1 for c in chars if c.text.strip())
                for key, rot in (("ccw", 90), ("cw", 270)):
                    n_t = sum(1 for c in turned[key] if c.text.strip())
                    if n_t >= 20 and n_t > n_up:          # a landscape page: read it in its own frame
                        rotation = rot
                        chars = []
                        for c in turned[key]:
                            b = _turn([c.x0, c.top, c.x1, c.bottom], rot, lt.width, H)
                            chars.append(Char(c.text, *b, c.size))
                        graphics = [Graphic(g.kind, *_turn(g.box, rot, lt.width, H)) for g in graphics]
                        break
                _tall_brackets(chars, graphics)
                pw, ph = (H, lt.width) if rotation else (lt.width, H)
                pl = PageLayout(number, pw, ph, _segments(chars), graphics,
                                sum(1 for c in chars if c.text.strip()), rotation, lt.width, H)
                if not pl.has_text:
                    scanned.append(number)
                out.append(pl)
    except PaperError:
        raise
    except Exception as exc:
        raise PaperError(paper.path, "corrupt", f"cannot read page content ({type(exc).__name__}: {exc})") from None
    paper.page_sizes = [(p.page_width, p.page_height) for p in out]
    paper.scanned_pages = scanned
    if ocr and scanned:
        from .ocr import ocr_page
        done = []
        for i, pl in enumerate(out):
            if pl.number in scanned and len(done) < max_ocr_pages:
                out[i] = ocr_page(paper, pl.number, pl.page_width, pl.page_height, dpi=ocr_dpi)
                done.append(pl.number)
        paper.ocr_pages = done
    return out
