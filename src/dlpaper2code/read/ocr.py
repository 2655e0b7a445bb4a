"""Text of the boxes: one Tesseract pass per image over a mosaic of crops.

Every text cell (a box interior, a table cell, a dark header, an edge label)
is cut out, turned into dark text on white, scaled so its glyphs have about
the same height, and stacked into one image with white space between the
crops.  Tesseract reads the mosaic once (``image_to_data``: word boxes); each
word goes back to the crop its box falls in.  Text is NFKC-normalised.
"""
from __future__ import annotations

import hashlib
import os
import unicodedata
from dataclasses import dataclass, field

import cv2
import numpy as np

TARGET_TEXT = 16.0        # height of capitals and digits in the mosaic, pixels
SMALL_TARGET = 20.0       # ... for text drawn smaller than 12 pixels
GAP = 14                  # white space between crops, pixels
MAX_SCALE = 4.0


@dataclass
class Crop:
    key: tuple                 # (node index, part index) or ("label", k)
    image: np.ndarray          # uint8 gray, dark text on white
    scale: float
    origin: tuple[int, int]    # (x, y) of the crop in the source image
    placed: tuple[int, int, int, int] = (0, 0, 0, 0)   # x0, y0, x1, y1 in the mosaic
    digest: bytes = b""        # of the normalised pixels before scaling: equal text cells read once


@dataclass
class Word:
    text: str
    conf: float
    box: tuple[float, float, float, float]     # source-image coordinates
    line: int                                   # line number within its crop
    tess_line: tuple = (0, 0, 0)                # Tesseract's block, paragraph, line


@dataclass
class CropText:
    key: tuple
    words: list[Word] = field(default_factory=list)

    @property
    def lines(self) -> list[str]:
        out: dict[int, list[Word]] = {}
        for w in self.words:
            out.setdefault(w.line, []).append(w)
        return [" ".join(w.text for w in sorted(ws, key=lambda w: w.box[0])) for _, ws in sorted(out.items())]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    @property
    def conf(self) -> float:
        return float(np.mean([w.conf for w in self.words])) if self.words else 0.0


def normalise_crop(gray: np.ndarray, mask: np.ndarray | None, light_text: bool) -> np.ndarray:
    """Dark text on a white ground, full contrast."""
    g = gray.astype(np.float32)
    if light_text:
        g = 255.0 - g
    if mask is not None and mask.any():
        vals = g[mask]
    else:
        vals = g.ravel()
    bg = float(np.percentile(vals, 75))
    fg = float(np.percentile(vals, 1))
    if bg - fg < 20:
        fg = bg - 80
    out = (g - fg) * (255.0 / max(1.0, bg - fg))
    out = np.clip(out, 0, 255)
    if mask is not None:
        out[~mask] = 255
    return out.astype(np.uint8)


def glyph_height(img: np.ndarray, q: float = 50) -> float:
    binar = (img < 128).astype(np.uint8)
    n, _, stats, _ = cv2.connectedComponentsWithStats(binar, connectivity=8)
    if n <= 1:
        return 0.0
    h = stats[1:, 3]
    w = stats[1:, 2]
    ok = (h >= 3) & (h < img.shape[0] * 0.95) & (w < img.shape[1] * 0.9)
    if not ok.any():
        return 0.0
    return float(np.percentile(h[ok], q))


def trim(img: np.ndarray, pad: int = 2) -> tuple[np.ndarray, int, int]:
    """Crop to the dark content (plus pad); returns the image and the offset.
    Dark marks touching the crop's edge (remains of a frame, a cell wall or
    an arrow) are whitened first: text never touches its box."""
    dark = img < 160
    if dark.any():
        n, lab, stats, _ = cv2.connectedComponentsWithStats(dark.astype(np.uint8), connectivity=8)
        h, w = img.shape
        x, y, bw, bh = stats[:, 0], stats[:, 1], stats[:, 2], stats[:, 3]
        edge = (x == 0) | (y == 0) | (x + bw == w) | (y + bh == h)
        edge[0] = False
        if edge.any():
            kill = edge[lab]
            img = img.copy()
            img[kill] = 255
            dark = dark & ~kill
    if not dark.any():
        return img[:0, :0], 0, 0
    ys, xs = np.nonzero(dark)
    y0, y1 = max(0, ys.min() - pad), min(img.shape[0], ys.max() + 1 + pad)
    x0, x1 = max(0, xs.min() - pad), min(img.shape[1], xs.max() + 1 + pad)
    return img[y0:y1, x0:x1], int(x0), int(y0)


def make_crop(key, gray_region: np.ndarray, mask: np.ndarray | None, light_text: bool, origin: tuple[int, int],
              text_height: float) -> Crop | None:
    norm = normalise_crop(gray_region, mask, light_text)
    norm, ox, oy = trim(norm)
    if norm.size == 0:
        return None
    digest = hashlib.blake2b(norm.tobytes() + bytes(str(norm.shape), "ascii"), digest_size=16).digest()
    # one scale for the whole image: Tesseract reads a block of lines of one
    # size best (a small two-line crop among large ones is read as one line)
    th = text_height or glyph_height(norm, 85) or 14.0
    target = TARGET_TEXT if th >= 12 else SMALL_TARGET      # small, blurry text reads better a little larger
    scale = min(MAX_SCALE, max(0.5, target / th))
    if abs(scale - 1.0) > 0.05:
        interp = cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA
        norm = cv2.resize(norm, None, fx=scale, fy=scale, interpolation=interp)
    return Crop(key, norm, scale, (origin[0] + ox, origin[1] + oy), digest=digest)


def dedupe(crops: list[Crop]) -> tuple[list[Crop], dict[tuple, Crop]]:
    """Crops with identical pixels (the same text drawn the same way, such
    as Keras 2's 'input:' cells) are read once: (unique crops, key -> the
    unique crop read for it)."""
    first: dict[bytes, Crop] = {}
    alias: dict[tuple, Crop] = {}
    for c in crops:
        if c.digest in first:
            alias[c.key] = first[c.digest]
        else:
            first[c.digest] = c
    return list(first.values()), alias


def copy_texts(texts: dict[tuple, "CropText"], crops: list[Crop], alias: dict[tuple, Crop]) -> None:
    """Give every duplicate crop the words read on its twin, moved to its place."""
    origin = {c.key: c.origin for c in crops}
    for key, twin in alias.items():
        src = texts.get(twin.key)
        if src is None:
            continue
        dx, dy = origin[key][0] - twin.origin[0], origin[key][1] - twin.origin[1]
        texts[key] = CropText(key, [Word(w.text, w.conf, (w.box[0] + dx, w.box[1] + dy, w.box[2] + dx, w.box[3] + dy),
                                         w.line, w.tess_line) for w in src.words])


def build_mosaic(crops: list[Crop]) -> np.ndarray:
    """Stack the crops top to bottom, left aligned, with white gaps."""
    if not crops:
        return np.full((10, 10), 255, np.uint8)
    width = max(c.image.shape[1] for c in crops) + 2 * GAP
    height = sum(c.image.shape[0] + GAP for c in crops) + GAP
    mosaic = np.full((height, width), 255, np.uint8)
    y = GAP
    for c in crops:
        h, w = c.image.shape
        mosaic[y:y + h, GAP:GAP + w] = c.image
        c.placed = (GAP, y, GAP + w, y + h)
        y += h + GAP
    return mosaic


def tesseract_words(mosaic: np.ndarray, timeout: float = 60.0) -> list[dict]:
    import pytesseract

    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    data = pytesseract.image_to_data(mosaic, lang="eng", config="--psm 6 --oem 1 -c tessedit_do_invert=0",
                                     output_type=pytesseract.Output.DICT, timeout=timeout)
    out = []
    for i, text in enumerate(data["text"]):
        text = unicodedata.normalize("NFKC", text or "").strip()
        if not text:
            continue
        out.append({"text": text, "conf": float(data["conf"][i]), "left": data["left"][i], "top": data["top"][i],
                    "width": data["width"][i], "height": data["height"][i],
                    "line": (data["block_num"][i], data["par_num"][i], data["line_num"][i])})
    return out


_RAPID = None


def rapidocr_lines(image: np.ndarray) -> list:
    """RapidOCR's text lines of an image (a gray or BGR array): ``(quad, text, score)`` each, the
    quad's four corners in the image's pixels.  The models (PaddleOCR's detection and
    recognition, run by onnxruntime) ship inside the ``rapidocr_onnxruntime`` package; [] when it
    is not installed."""
    global _RAPID
    try:
        if _RAPID is None:
            from rapidocr_onnxruntime import RapidOCR

            _RAPID = RapidOCR()
    except ImportError:
        return []
    bgr = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR) if image.ndim == 2 else image
    result, _ = _RAPID(np.ascontiguousarray(bgr))
    return list(result or [])


def assign(words: list[dict], crops: list[Crop]) -> dict[tuple, CropText]:
    """Each word to the crop holding its centre; lines numbered per crop."""
    out = {c.key: CropText(c.key) for c in crops}
    if not crops:
        return out
    tops = np.array([c.placed[1] for c in crops])
    for w in words:
        cy = w["top"] + w["height"] / 2.0
        i = int(np.searchsorted(tops, cy, side="right")) - 1
        if i < 0:
            continue
        c = crops[i]
        x0, y0, x1, y1 = c.placed
        if not (y0 - GAP / 2 <= cy <= y1 + GAP / 2):
            continue
        s = c.scale
        box = (c.origin[0] + (w["left"] - x0) / s, c.origin[1] + (w["top"] - y0) / s,
               c.origin[0] + (w["left"] + w["width"] - x0) / s, c.origin[1] + (w["top"] + w["height"] - y0) / s)
        word = Word(w["text"], w["conf"], box, 0, w["line"])
        out[c.key].words.append(word)
    # lines inside each crop: Tesseract's own lines, top to bottom
    for ct in out.values():
        lines: dict[tuple, list[Word]] = {}
        for w in ct.words:
            lines.setdefault(w.tess_line, []).append(w)
        ordered = sorted(lines.values(), key=lambda ws: sum((w.box[1] + w.box[3]) / 2 for w in ws) / len(ws))
        words = []
        for k, ws in enumerate(ordered):
            for w in sorted(ws, key=lambda w: w.box[0]):
                w.line = k
                words.append(w)
        ct.words = words
    return out
