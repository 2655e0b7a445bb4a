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


def figure_words(png, *, upscale: float = 2.0, min_conf: float = 30.0) -> list:
    """The words of a raster figure (a crop's path or a PIL image), read by Tesseract as sparse
    text and grouped into segments like a page's, in the crop's pixel frame.  The crop is enlarged
    first (labels in figures are small).  [] when Tesseract is not there or reads nothing."""
    import os

    import pytesseract
    from PIL import Image

    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    img = png if isinstance(png, Image.Image) else Image.open(png)
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
        size = _size_of(text, h)
        bottom = y + h
        if any(c in DESC for c in text):
            bottom -= 0.22 * size
        chars.append(Char(text, x, bottom - size, x + w, bottom, size))
    return build_segments(chars)


__all__ = ["figure_words", "ocr_page", "tesseract_available"]
