"""The page model shared by every reader of a PDF page: characters, text segments, graphics.

Owns: :class:`Char`, :class:`Segment`, :class:`Graphic`, :class:`PageLayout`,
the grouping of characters into segments (:func:`build_segments`: NFKC
ligatures, superscripts kept apart as Unicode superscripts), tall brackets
found among the glyphs (:func:`mark_tall_brackets`) and the quarter-turn of a
landscape page (:func:`turn`).  Both the text layer (:mod:`.layout`) and OCR
(:mod:`.ocr`) produce these objects; nothing here reads a PDF.

May import: the standard library only.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

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
    # the drawing itself, where the PDF gives it (vector figures are read from these): the path's
    # points (top-left origin), whether it is filled / stroked, its fill colour (an RGB triple in
    # 0..1, None when unknown) and whether its stroke is dashed
    pts: tuple = ()
    fill: bool = False
    stroke: bool = True
    color: tuple | None = None
    dashed: bool = False

    @property
    def box(self):
        return [self.x0, self.top, self.x1, self.bottom]

    @property
    def is_hrule(self):
        limit = 1.5 if self.kind == "image" else 2.0       # a rule drawn as a one-pixel image is a rule too
        return self.kind != "bracket" and (self.bottom - self.top) <= limit and (self.x1 - self.x0) > 8

    @property
    def is_vrule(self):
        limit = 1.5 if self.kind == "image" else 2.0
        return self.kind != "bracket" and (self.x1 - self.x0) <= limit and (self.bottom - self.top) > 8

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
    # text turned a quarter on an upright page (a label written upwards in a figure's box): not part
    # of the page's text, kept for the figure readers; boxes in this frame, text in reading order
    turned: list[Segment] = field(default_factory=list)

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


def turn(box, rotation, W, H):
    """A physical box -> the frame of a page turned by `rotation` (inverse of PageLayout.to_page)."""
    x0, top, x1, bottom = box
    if rotation == 90:
        return [H - bottom, x0, H - top, x1]
    return [top, W - x1, bottom, W - x0]


def turned_segments(chars: list[Char], rotation: int, W: float, H: float) -> list[Segment]:
    """Characters written a quarter-turn (90: reading upwards, 270: downwards), on a page of size
    W x H, as segments: grouped in the turned frame, their boxes brought back to the page's."""
    if not chars:
        return []
    flat = [Char(c.text, *turn([c.x0, c.top, c.x1, c.bottom], rotation, W, H), c.size) for c in chars]
    frame = PageLayout(0, H, W, rotation=rotation, page_width=W, page_height=H)
    out = []
    for s in build_segments(flat):
        x0, top, x1, bottom = frame.to_page(s.box)
        out.append(Segment(s.chars, x0, top, x1, bottom, s.size, s.text))
    return out


def normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text)



def build_segments(chars: list[Char]) -> list[Segment]:
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
            t = normalise(c.text)
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


PIECES = set("⎡⎢⎣⎤⎥⎦⎛⎜⎝⎞⎟⎠⎧⎨⎩⎪⎫⎬⎭")
PIECE_TOPS, PIECE_BOTTOMS = set("⎡⎤⎛⎞⎧⎫"), set("⎣⎦⎝⎠⎩⎭")
# Adobe's Symbol font puts the pieces of extensible delimiters in the Private Use Area
# (U+F8EB-U+F8FE); PDFs set with it (SENet's bracketed blocks) carry those codes.
SYMBOL_PIECES = str.maketrans({0xF8EB: "⎛", 0xF8EC: "⎜", 0xF8ED: "⎝", 0xF8EE: "⎡", 0xF8EF: "⎢", 0xF8F0: "⎣",
                               0xF8F1: "⎧", 0xF8F2: "⎨", 0xF8F3: "⎩", 0xF8F4: "⎪", 0xF8F6: "⎞", 0xF8F7: "⎟",
                               0xF8F8: "⎠", 0xF8F9: "⎤", 0xF8FA: "⎥", 0xF8FB: "⎦", 0xF8FC: "⎫", 0xF8FD: "⎬",
                               0xF8FE: "⎭"})
CID = re.compile(r"^\(cid:\d+\)$")


UNREADABLE_SHARE = 0.5      # a page whose glyphs are mostly unreadable has no usable text layer
UNREADABLE_MIN = 30         # ... judged on at least this many glyphs


def unreadable(text: str) -> bool:
    """A glyph whose text says nothing: pdfminer's "(cid:N)" for a font without a Unicode map,
    a private-use code (other than the Symbol font's bracket pieces), the replacement
    character, a control character."""
    t = text.strip()
    if not t:
        return False
    if CID.match(t):
        return True
    c = t[0]
    cat = unicodedata.category(c)
    return (cat == "Co" and not t.translate(SYMBOL_PIECES) in PIECES) or c == "\ufffd" or cat == "Cc"


def unreadable_text_layer(chars: list[Char]) -> bool:
    """Most of the page's glyphs are unreadable (a 1998 journal's fonts without a Unicode map give
    a stream of "(cid:12)(cid:15)..."): the page is to be read like a scan."""
    glyphs = [c for c in chars if c.text.strip()]
    bad = sum(1 for c in glyphs if unreadable(c.text))
    return len(glyphs) >= UNREADABLE_MIN and bad >= UNREADABLE_SHARE * len(glyphs)


def mark_tall_brackets(chars: list[Char], graphics: list[Graphic]) -> None:
    """Bracket glyphs much taller than the text (a bracket around several lines) become graphics;
    so do the pieces of an extensible bracket ("⎡", "⎢", "⎣", or their Symbol-font codes in the
    Private Use Area, stacked into one), and tall glyphs
    without a Unicode mapping (pdfminer's "(cid:N)", as TeX's cmex delimiters often come out).
    Small unmapped glyphs are dropped: their "(cid:N)" would only pollute the text."""
    sizes = sorted(c.size for c in chars if c.text.strip() and not CID.match(c.text))
    if not sizes:
        return
    med = sizes[len(sizes) // 2]
    keep, pieces = [], []
    for c in chars:
        t = c.text.strip().translate(SYMBOL_PIECES)
        if t in PIECES:
            pieces.append((Graphic("bracket", c.x0, c.top, c.x1, c.bottom), t))
        elif (t in BRACKETS or CID.match(t)) and c.size >= BRACKET_SIZE * med:
            graphics.append(Graphic("bracket", c.x0, c.top, c.x1, c.bottom))
        elif CID.match(t):
            continue
        else:
            keep.append(c)
    # stack the pieces of one bracket: same x, each starting at or below the last, the gap under a
    # piece's height (a glyph's box need not reach the next piece's: TeX's cmex top and bottom pieces
    # of a two-line bracket leave a gap of most of a line)
    pieces.sort(key=lambda gt: (gt[0].x0, gt[0].top))
    columns: list[list[tuple[Graphic, str]]] = []
    for g, t in pieces:
        if columns and abs(columns[-1][0][0].x0 - g.x0) < 1.5:
            columns[-1].append((g, t))
        else:
            columns.append([(g, t)])
    for col in columns:
        col.sort(key=lambda gt: gt[0].top)
        last, closed = None, True
        for g, t in col:
            if last is not None and not closed and t not in PIECE_TOPS \
                    and -0.6 * (g.bottom - g.top) <= g.top - last.bottom < max(2.0, 1.2 * (g.bottom - g.top)):
                last.bottom = max(last.bottom, g.bottom)
                last.x1 = max(last.x1, g.x1)
            else:
                graphics.append(g)
                last = g
            closed = t in PIECE_BOTTOMS
    chars[:] = keep
