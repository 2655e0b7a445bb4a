"""Pages without a text layer (scans): text from Tesseract, graphics from the pixels.

    layout = ocr_page(paper, number, dpi=200)      # a PageLayout like read_layout's, ``ocr=True``

One ``pytesseract.image_to_data`` pass per page gives word boxes; every word
becomes one :class:`~.layout.Char` (its font size estimated from its height and
which letters it has: capitals and digits stand about 0.7 of the size, a word
with ascenders and descenders about 0.95), and the usual segment grouping of
:mod:`.layout` runs on them, so captions and tables are found by the same code
as on a born-digital page.  Words of one Tesseract line share the line's median
size (OCR heights are noisy).  Graphics come from the page image at the same
resolution:

* pictures (photos, raster plots): large connected regions that are mostly
  non-white; OCR "words" inside them are dropped (Tesseract reads textures);
* ruling lines: long thin runs of ink (a morphological opening with a
  horizontal or vertical line 20 points long), as ``line`` graphics;
* tall brackets (a thin upright stroke hooked at both ends, spanning two
  lines or more): found first and whitened before Tesseract reads the page,
  as ``bracket`` graphics;
* drawings (diagrams, plots): the remaining ink once words,
  pictures and rules are masked, closed by a few pixels, as ``curve``
  graphics of their connected components.

Each word's confidence is kept: ``PageLayout.ocr_confidence`` is the mean over
the page (0-100), reported as that step's confidence.

The words of a raster figure (:func:`figure_words`) are read by RapidOCR by default
(``figure_ocr``; its models ship with the package): on the labels of the real benchmark's
architecture figures it reads 57% of the words at 72% precision where Tesseract, at its best
setting, reads 31% (the benchmark in eval/ocr_bench.py); Tesseract stays the engine of
scanned pages.
"""
from __future__ import annotations

import re

import numpy as np

from .page import Char, Graphic, PageLayout, build_segments, mark_tall_brackets
from .pdf import Paper, PaperError, render_page

ASC = set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789bdfhklt()[]{}/|\\%#&?!")
DESC = set("gjpqy()[]{},;|")
PSM = 3                 # Tesseract page segmentation: automatic (11, sparse text, reads the corpus worse)
MIN_CONF = 10.0         # below: Tesseract's guesses at textures and rules


def _size_of(text: str, h: float) -> float:
    asc = any(c in ASC for c in text)
    desc = any(c in DESC for c in text)
    factor = 0.95 if asc and desc else 0.72 if asc else 0.72 if desc else 0.5
    return h / factor


def _brackets(gray: np.ndarray, s: float):
    """Tall brackets ("[" or "]" over two lines or more: a thin upright stroke with hooks at
    both ends), found before OCR and whitened, so Tesseract does not read them as letters
    merged with the lines beside them.  Returns (pixel boxes, the cleaned image)."""
    import cv2

    ink = (gray < 160).astype(np.uint8)
    n, lab, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    found, clean = [], gray.copy()
    for i in range(1, n):
        x, y, w, h, _ = (int(v) for v in stats[i])
        if not (1.5 <= w * s <= 8.0 and 12.0 <= h * s <= 120.0 and h >= 4 * w):
            continue
        sub = lab[y:y + h, x:x + w] == i
        k = max(2, h // 12)
        top, bottom, mid = sub[:k].any(axis=0).mean(), sub[-k:].any(axis=0).mean(), sub[h // 3: 2 * h // 3]
        if top >= 0.6 and bottom >= 0.6 and mid.any(axis=0).mean() <= 0.6:
            found.append((x, y, x + w, y + h))
            clean[y:y + h, x:x + w][sub] = 255
    return found, clean


def tesseract_available() -> bool:
    try:
        import pytesseract
        pytesseract.get_tesseract_version()
        return True
    except Exception:
        return False


def ocr_page(paper: Paper, number: int, page_w: float, page_h: float, dpi: int = 200) -> PageLayout:
    """The layout of page `number` (1-based) read from its pixels; see the module docstring."""
    import cv2
    import pytesseract


    from PIL import Image

    img = render_page(paper, number, dpi).convert("L")
    gray = np.asarray(img)
    s = 72.0 / dpi
    H, W = gray.shape
    brackets, clean = _brackets(gray, s)
    try:
        data = pytesseract.image_to_data(Image.fromarray(clean), output_type=pytesseract.Output.DICT,
                                         config=f"--psm {PSM}")
    except Exception as exc:    # tesseract missing or failing: a clear error, the caller records it
        raise PaperError(paper.path, "ocr_failed", f"page {number}: Tesseract failed ({type(exc).__name__}: {exc})") \
            from None

    # pictures: big regions mostly non-white
    nonwhite = (gray < 225).astype(np.uint8)
    k = max(3, int(round(4 / s)) | 1)
    closed = cv2.morphologyEx(nonwhite, cv2.MORPH_CLOSE, np.ones((k, k), np.uint8))
    n, lab, stats, _ = cv2.connectedComponentsWithStats(closed, connectivity=8)
    pictures = []
    min_side = 24 / s
    for i in range(1, n):
        x, y, w, h, area = (int(v) for v in stats[i])
        if w >= min_side and h >= min_side:
            fill = nonwhite[y:y + h, x:x + w].mean()
            if fill >= 0.45:
                pictures.append((x, y, x + w, y + h))

    def in_picture(x0, y0, x1, y1):
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        return any(p[0] <= cx <= p[2] and p[1] <= cy <= p[3] for p in pictures)

    # words -> chars, one per word, sized by line
    lines: dict[tuple, list] = {}
    confs = []
    for i, text in enumerate(data["text"]):
        text = (text or "").strip().strip("|")      # a vertical rule read as "|"
        text = re.sub(r"(?<=\d)x(?=\d)", "×", text)  # "3x3": tables set a multiplication sign
        text = re.sub(r"^(\d+)\?$", "\\1²", text)    # "224?": Tesseract's usual reading of a raised 2
        conf = float(data["conf"][i])
        if not text or conf < MIN_CONF:
            continue
        x, y, w, h = data["left"][i], data["top"][i], data["width"][i], data["height"][i]
        if in_picture(x, y, x + w, y + h) or w <= 0 or h <= 0:
            continue
        confs.append(conf)
        key = (data["block_num"][i], data["par_num"][i], data["line_num"][i])
        lines.setdefault(key, []).append((text, x, y, w, h))
    chars: list[Char] = []
    word_mask = np.zeros_like(nonwhite)
    for key, words in sorted(lines.items()):
        sizes = sorted(_size_of(t, h * s) for t, x, y, w, h in words)
        size = round(sizes[len(sizes) // 2] * 2) / 2
        base = max((y + h) for t, x, y, w, h in words if not any(c in DESC for c in t)) \
            if any(not any(c in DESC for c in t) for t, *_ in words) else max(y + h for t, x, y, w, h in words)
        for t, x, y, w, h in sorted(words, key=lambda v: v[1]):
            # a box from the line's baseline up one size, like a PDF glyph box
            bottom = base * s + 0.22 * size
            chars.append(Char(t, x * s, bottom - size, (x + w) * s, bottom, size))
            word_mask[max(0, y - 2):y + h + 2, max(0, x - 2):x + w + 2] = 1

    # ruling lines and drawings from the remaining ink
    ink = (gray < 160).astype(np.uint8)
    for p in pictures:
        ink[p[1]:p[3], p[0]:p[2]] = 0
    L = max(10, int(20 / s))
    hr = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((1, L), np.uint8))
    vr = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((L, 1), np.uint8))
    graphics: list[Graphic] = [Graphic("image", p[0] * s, p[1] * s, p[2] * s, p[3] * s) for p in pictures]
    graphics += [Graphic("bracket", b[0] * s, b[1] * s, b[2] * s, b[3] * s) for b in brackets]
    for b in brackets:
        ink[b[1]:b[3], b[0]:b[2]] = 0
    for mask, horizontal in ((hr, True), (vr, False)):
        n, lab, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        for i in range(1, n):
            x, y, w, h, _ = (int(v) for v in stats[i])
            if (h * s <= 2.5) if horizontal else (w * s <= 2.5):
                graphics.append(Graphic("line", x * s, y * s, (x + w) * s, (y + h) * s))
    near_rules = cv2.dilate(hr | vr, np.ones((5, 5), np.uint8))     # a rule's anti-aliased edges too
    rest = ink & (1 - word_mask) & (1 - near_rules)
    k = max(3, int(round(2 / s)) | 1)
    rest = cv2.morphologyEx(rest, cv2.MORPH_CLOSE, np.ones((k, k), np.uint8))
    n, lab, stats, _ = cv2.connectedComponentsWithStats(rest, connectivity=8)
    for i in range(1, n):
        x, y, w, h, area = (int(v) for v in stats[i])
        if area * s * s < 2.0 or max(w, h) * s < 4:
            continue        # specks, dots of an i, remains of a word
        graphics.append(Graphic("curve", x * s, y * s, (x + w) * s, (y + h) * s))
    mark_tall_brackets(chars, graphics)
    segs = build_segments(chars)
    for sg in segs:
        sg.text = re.sub(r"\s+", " ", sg.text).strip()
    pl = PageLayout(number, page_w, page_h, segs, graphics, sum(len(c.text) for c in chars), 0, page_w, page_h,
                    ocr=True)
    pl.ocr_confidence = round(float(np.mean(confs)), 1) if confs else 0.0
    return pl


FIGURE_PSM = 11         # sparse text: a figure's labels are scattered words, not paragraphs


FIGURE_ENGINES = ("rapidocr", "tesseract")


def figure_words(png, *, engine: str = "rapidocr", upscale: float | None = None, min_conf: float = 30.0) -> list:
    """The words of a raster figure (a crop's path or a PIL image), grouped into segments like a
    page's, in the crop's pixel frame.  [] when the engine is not there or reads nothing.

    ``engine``: ``rapidocr`` (PaddleOCR's models run by onnxruntime, shipped with the package:
    on the real benchmark's figure labels it reads 57% of the words at 72% precision against
    Tesseract's 24-31% at 48-52%, the benchmark in eval/ocr_bench.py), or ``tesseract``
    (sparse text, the crop enlarged `upscale` times, default 2: labels in figures are small;
    words under `min_conf` dropped)."""
    from PIL import Image

    if engine not in FIGURE_ENGINES:
        raise ValueError(f"figure OCR engine {engine!r}: choose one of {', '.join(FIGURE_ENGINES)}")
    img = png if isinstance(png, Image.Image) else Image.open(png)
    if engine == "rapidocr":
        return build_segments(_rapidocr_chars(img, 1.0 if upscale is None else upscale))
    return build_segments(_tesseract_chars(img, 2.0 if upscale is None else upscale, min_conf))


def _tesseract_chars(img, upscale: float, min_conf: float) -> list:
    import os

    import pytesseract
    from PIL import Image

    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    img = img.convert("L")
    big = img.resize((int(img.width * upscale), int(img.height * upscale)), Image.LANCZOS) if upscale != 1 else img
    try:
        data = pytesseract.image_to_data(big, output_type=pytesseract.Output.DICT, config=f"--psm {FIGURE_PSM}")
    except Exception:       # noqa: BLE001 - no Tesseract, or it failed: no words (the caller says so)
        return []
    chars = []
    for i, text in enumerate(data["text"]):
        text = (text or "").strip().strip("|")
        if not text or float(data["conf"][i]) < min_conf:
            continue
        x, y, w, h = (data[k][i] / upscale for k in ("left", "top", "width", "height"))
        chars.append(_word_char(text, x, y, x + w, y + h))
    return chars


def _word_char(text: str, x0: float, top: float, x1: float, bottom: float) -> Char:
    """A word's box -> one Char, its font size estimated from the height and letters."""
    size = _size_of(text, bottom - top)
    if any(c in DESC for c in text):
        bottom -= 0.22 * size
    return Char(text, x0, bottom - size, x1, bottom, size)


def _ink_box(gray: np.ndarray, x0: float, x1: float, top: float, bottom: float) -> tuple:
    """(x0, x1, top, bottom) shrunk to the pixels inside that differ from the box's commonest
    value (its background) by more than 60 levels; unchanged when there are none."""
    h, w = gray.shape
    a, b, t, u = max(0, int(x0)), min(w, int(x1 + 0.999)), max(0, int(top)), min(h, int(bottom + 0.999))
    if b <= a or u <= t:
        return x0, x1, top, bottom
    part = gray[t:u, a:b].astype(np.int16)
    bg = int(np.bincount(part.ravel(), minlength=256).argmax())
    ink = np.abs(part - bg) > 60
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if not len(rows):
        return x0, x1, top, bottom
    return float(a + cols[0]), float(a + cols[-1] + 1), float(t + rows[0]), float(t + rows[-1] + 1)


def _rapidocr_chars(img, upscale: float) -> list:
    """RapidOCR's text lines (:func:`dlpaper2code.read.ocr.rapidocr_lines`), split into words
    placed by their share of the line's characters.  The detector's boxes are padded around the
    text: each is tightened to the ink inside it, so heights (font sizes) and positions compare
    with a page's."""
    from PIL import Image

    from ..read.ocr import rapidocr_lines

    rgb = img.convert("RGB")
    if upscale != 1:
        rgb = rgb.resize((int(rgb.width * upscale), int(rgb.height * upscale)), Image.LANCZOS)
    gray = np.asarray(img.convert("L"))
    chars = []
    for quad, text, _score in rapidocr_lines(np.asarray(rgb)[:, :, ::-1]):      # BGR, as OpenCV reads images
        xs, ys = [p[0] / upscale for p in quad], [p[1] / upscale for p in quad]
        x0, x1, top, bottom = _ink_box(gray, min(xs), max(xs), min(ys), max(ys))
        line = text.strip()
        if not line or x1 <= x0:
            continue
        per = (x1 - x0) / len(line)
        for m in re.finditer(r"\S+", line):
            chars.append(_word_char(m.group(), x0 + per * m.start(), top, x0 + per * m.end(), bottom))
    return chars


__all__ = ["FIGURE_ENGINES", "figure_words", "ocr_page", "tesseract_available"]
