"""Draw Graphviz's own drawing operations (xdot, from ``-Tjson``) with Pillow.

Same geometry as Graphviz's cairo PNG, about 5-10x faster: shapes are drawn
without anti-aliasing as palette indices; text is FreeType anti-aliased,
composed from cached glyphs, spread to the width Graphviz laid it out with,
and stamped through a few blended palette entries per (text, background)
colour pair; the PNG (encode_png) is an 8-bit palette image, unfiltered,
deflated with zlib-ng where installed (level 1: run-length strategy).
Coordinates follow cairo's: image size round((bb + 2 pad) * dpi / 72),
x_px = (x + pad) * s, y_px = (top - y + pad) * s with s = dpi / 72 (y up in
Graphviz, down here).
"""
from __future__ import annotations

import functools
import math
import struct
import zlib

import numpy as np
from PIL import Image, ImageColor, ImageDraw

from . import fonts

try:                                  # same deflate format, 3-4x faster
    from zlib_ng import zlib_ng as _zlib
except ImportError:                   # pragma: no cover - optional speed-up
    _zlib = zlib

PAD_PT = 4.0                 # Graphviz's default graph pad, points
RAMP_LEVELS = 8              # anti-aliasing levels of text in the palette image
INK_MIN = 255 // (2 * RAMP_LEVELS) + 1   # mask values below this round to the background


def parse_color(value: str) -> tuple[int, int, int, int]:
    """#rrggbb[aa] or a name -> (r, g, b, a)."""
    if value.startswith("#") and len(value) in (7, 9):
        r, g, b = int(value[1:3], 16), int(value[3:5], 16), int(value[5:7], 16)
        a = int(value[7:9], 16) if len(value) == 9 else 255
        return r, g, b, a
    if value in ("none", "transparent", "invis"):
        return 255, 255, 255, 0
    rgb = ImageColor.getrgb(value)
    return rgb[0], rgb[1], rgb[2], (rgb[3] if len(rgb) > 3 else 255)


class Transform:
    """Graphviz points (y up) -> image pixels (y down), as cairo maps them."""

    def __init__(self, bb: str, dpi: float, pad: float = PAD_PT):
        llx, lly, urx, ury = (float(v) for v in bb.split(","))
        self.llx, self.ury, self.pad = llx, ury, pad
        self.s = float(dpi) / 72.0
        self.width = int(math.floor((urx - llx + 2 * pad) * self.s + 0.5))
        self.height = int(math.floor((ury - lly + 2 * pad) * self.s + 0.5))

    def x(self, x: float) -> float:
        return (x - self.llx + self.pad) * self.s

    def y(self, y: float) -> float:
        return (self.ury - y + self.pad) * self.s

    def pt(self, p) -> tuple[float, float]:
        return (p[0] - self.llx + self.pad) * self.s, (self.ury - p[1] + self.pad) * self.s


def bezier_points(ctrl: list, tf: Transform, step_px: float = 3.0) -> list[tuple[float, float]]:
    """Sample a piecewise cubic Bezier (1 + 3k control points) to a pixel polyline."""
    pts = [tf.pt(p) for p in ctrl]
    if len(pts) < 4:
        return pts
    out = [pts[0]]
    for i in range(0, len(pts) - 3, 3):
        p0, p1, p2, p3 = pts[i:i + 4]
        length = math.dist(p0, p1) + math.dist(p1, p2) + math.dist(p2, p3)
        n = max(1, min(64, int(length / step_px)))
        straight = _collinear(p0, p1, p2, p3)
        if straight:
            n = 1
        for j in range(1, n + 1):
            t = j / n
            u = 1 - t
            a, b, c, d = u * u * u, 3 * u * u * t, 3 * u * t * t, t * t * t
            out.append((a * p0[0] + b * p1[0] + c * p2[0] + d * p3[0],
                        a * p0[1] + b * p1[1] + c * p2[1] + d * p3[1]))
    return out


def _collinear(p0, p1, p2, p3, tol=0.05) -> bool:
    dx, dy = p3[0] - p0[0], p3[1] - p0[1]
    norm = math.hypot(dx, dy)
    if norm < 1e-6:
        return False
    for p in (p1, p2):
        if abs((p[0] - p0[0]) * dy - (p[1] - p0[1]) * dx) / norm > tol:
            return False
    return True


class Palette:
    """The image's colours (at most 256) and, per (text, background) pair, the
    palette entries of the anti-aliasing levels in between."""

    def __init__(self):
        self.colors: list[tuple[int, int, int]] = []
        self.index_of: dict[tuple[int, int, int], int] = {}
        self.ramps: dict[tuple[int, int], np.ndarray] = {}

    def index(self, rgb) -> int:
        rgb = tuple(int(v) for v in rgb[:3])
        idx = self.index_of.get(rgb)
        if idx is not None:
            return idx
        if len(self.colors) < 256:
            self.colors.append(rgb)
            self.index_of[rgb] = len(self.colors) - 1
            return len(self.colors) - 1
        return min(range(256), key=lambda i: sum((a - b) ** 2 for a, b in zip(self.colors[i], rgb)))

    def ramp(self, fg: int, bg: int) -> np.ndarray:
        """mask value (0..255) -> palette index of fg blended over bg."""
        key = (fg, bg)
        lut = self.ramps.get(key)
        if lut is None:
            f, b = np.array(self.colors[fg], float), np.array(self.colors[bg], float)
            levels = [bg] + [self.index(np.round(b + (f - b) * (lv / RAMP_LEVELS)))
                             for lv in range(1, RAMP_LEVELS)] + [fg]
            q = np.clip(np.round(np.arange(256) / 255.0 * RAMP_LEVELS), 0, RAMP_LEVELS).astype(int)
            lut = np.array(levels, np.uint8)[q]
            self.ramps[key] = lut
        return lut

    def flat(self) -> list[int]:
        return [c for rgb in self.colors for c in rgb]


class _GlyphSet:
    """One font at one pixel size: glyph bitmaps, advances and kerning, cached,
    so a new string is composed from cached glyphs (about 2x faster than
    FreeType laying out and rendering it).  Pillow's BASIC layout places the
    glyphs the same way (hinted integer advances plus kerning)."""

    def __init__(self, path: str, size_px: float):
        self.font = fonts.pil_font(path, size_px)
        self.glyphs: dict[str, tuple] = {}
        self.kern: dict[tuple[str, str], float] = {}

    def glyph(self, ch: str):
        g = self.glyphs.get(ch)
        if g is None:
            core, offset = self.font.getmask2(ch, mode="L", anchor="ls")
            mask = (np.asarray(Image.Image()._new(core)) if core.size[0] and core.size[1]
                    else np.zeros((0, 0), np.uint8))
            g = self.glyphs[ch] = (mask, offset, self.font.getlength(ch))
        return g

    def mask(self, text: str, anchor: str, width: float | None = None):
        """The text's anti-aliased mask and its corner's offset from the anchor.
        With `width` (pixels: Graphviz's text width), the glyph positions are
        spread to that width, as cairo's unhinted layout spreads them."""
        glyphs, xs, x, prev = [], [], 0.0, None
        for ch in text:
            m, (ox, oy), adv = self.glyph(ch)
            if prev is not None:
                k = self.kern.get((prev, ch))
                if k is None:
                    k = self.kern[(prev, ch)] = self.font.getlength(prev + ch) - self.glyph(prev)[2] - adv
                x += k
            if m.size:
                glyphs.append((m, ox, oy))
                xs.append(x)
            x += adv
            prev = ch
        if not glyphs:
            return np.zeros((0, 0), np.uint8), (0, 0)
        ratio = 1.0
        if width and x > 0:
            ratio = min(max(width / x, 0.85), 1.15)
        parts = [(m, int(round(px * ratio)) + ox, oy) for (m, ox, oy), px in zip(glyphs, xs)]
        x0 = min(p[1] for p in parts)
        y0 = min(p[2] for p in parts)
        x1 = max(p[1] + p[0].shape[1] for p in parts)
        y1 = max(p[2] + p[0].shape[0] for p in parts)
        out = np.zeros((y1 - y0, x1 - x0), np.uint8)
        for m, px, py in parts:
            sl = out[py - y0:py - y0 + m.shape[0], px - x0:px - x0 + m.shape[1]]
            np.maximum(sl, m, out=sl)
        total = x * ratio
        shift = {"l": 0.0, "m": total / 2.0, "r": total}[anchor[0]]
        return out, (x0 - int(round(shift)), y0)


@functools.lru_cache(maxsize=256)
def _glyph_set(path: str, size_px: float) -> _GlyphSet:
    return _GlyphSet(path, size_px)


@functools.lru_cache(maxsize=4096)   # bounded: memory stays flat over a long run
def _text_mask(path: str, size_px: float, text: str, anchor: str, width: float | None):
    mask, offset = _glyph_set(path, size_px).mask(text, anchor, width)
    return mask, mask >= INK_MIN, offset


def clear_text_cache(glyphs: bool = False) -> None:
    """Forget rendered strings (and with `glyphs`, the glyph bitmaps too)."""
    _text_mask.cache_clear()
    if glyphs:
        _glyph_set.cache_clear()


def text_mask(path: str, size_px: float, text: str, anchor: str, width: float | None = None):
    """(mask, mask >= INK_MIN, (dx, dy) from the anchor point to the mask's corner);
    `width`: the pixel width to spread the glyphs to (None: the font's own)."""
    try:
        return _text_mask(path, round(size_px, 2), text, anchor, None if width is None else round(width * 2) / 2)
    except AttributeError:                  # no Image._new: draw into a scratch image instead
        font = fonts.pil_font(path, round(size_px, 2))
        x0, y0, x1, y1 = font.getbbox(text, anchor=anchor)
        im = Image.new("L", (max(1, x1 - x0), max(1, y1 - y0)), 0)
        ImageDraw.Draw(im).text((-x0, -y0), text, font=font, fill=255, anchor=anchor)
        mask = np.asarray(im)
        return mask, mask >= INK_MIN, (x0, y0)


class Raster:
    """A drawn page: palette indices (height x width uint8) and the palette."""

    def __init__(self, indices: np.ndarray, palette: list[int]):
        self.indices, self.palette = indices, palette

    @property
    def size(self) -> tuple[int, int]:
        return self.indices.shape[1], self.indices.shape[0]

    def image(self) -> Image.Image:
        im = Image.frombuffer("P", self.size, np.ascontiguousarray(self.indices), "raw", "P", 0, 1)
        im.putpalette(self.palette)
        return im

    def png(self, level: int = 1) -> bytes:
        return encode_png(self.indices, self.palette, level)


def _chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(data, zlib.crc32(tag)) & 0xFFFFFFFF)


def encode_png(indices: np.ndarray, palette: list[int], level: int = 1) -> bytes:
    """An 8-bit palette PNG of `indices`: no row filter, deflate at `level`
    (level 1: run-length strategy), with zlib-ng when installed (3-4x faster
    than zlib).  About 3x faster than Pillow's encoder, which packs and
    filters row by row; packing to 4 bits per pixel would save ~10% of the
    file but cost more time than the deflate itself."""
    h, w = indices.shape
    ncolors = max(1, min(256, len(palette) // 3))
    raw = np.empty((h, w + 1), np.uint8)
    raw[:, 0] = 0                                              # filter type None
    raw[:, 1:] = indices
    comp = _zlib.compressobj(level, _zlib.DEFLATED, 15, 9, _zlib.Z_RLE if level == 1 else _zlib.Z_DEFAULT_STRATEGY)
    data = comp.compress(raw) + comp.flush()
    return b"".join((b"\x89PNG\r\n\x1a\n",
                     _chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 3, 0, 0, 0)),
                     _chunk(b"PLTE", bytes(palette[:3 * ncolors])),
                     _chunk(b"IDAT", data),
                     _chunk(b"IEND", b"")))


def _shared_canvas(width: int, height: int, value: int):
    """(numpy array, "L" image drawing into that array's memory); where this
    Pillow does not share frombuffer memory, (None, a plain image)."""
    arr = np.full((height, width), value, np.uint8)
    im = Image.frombuffer("L", (width, height), arr, "raw", "L", 0, 1)
    im.readonly = 0                      # frombuffer images are read-only only to protect the buffer
    if width and height:
        probe = (value + 1) % 256
        im.putpixel((0, 0), probe)
        shared = int(arr[0, 0]) == probe
        im.putpixel((0, 0), value)
        if shared and int(arr[0, 0]) == value:
            return arr, im
    return None, Image.new("L", (width, height), value)


class Canvas:
    """Interprets xdot drawing operations into palette indices."""

    def __init__(self, tf: Transform, background: str):
        self.tf = tf
        self.pal = Palette()
        bg = parse_color(background)
        self.bg = self.pal.index(bg[:3] if bg[3] else (255, 255, 255))
        # palette indices drawn into an "L" image (no palette bookkeeping per
        # operation); finish() stamps the text.
        # The image shares its memory with a numpy array, so the text can be
        # stamped without copying the page out of Pillow and back.
        self.arr, self.im = _shared_canvas(tf.width, tf.height, self.bg)
        self.draw = ImageDraw.Draw(self.im)
        self.texts: list[tuple] = []          # drawn after the shapes
        self.reset()

    def reset(self):
        self.pen = (0, 0, 0, 255)
        self.fill = (0, 0, 0, 255)
        self.lw = 1.0
        self.invis = False
        self.font_face, self.font_size, self.font_flags = "Times-Roman", 14.0, 0

    # -- helpers
    def _px(self, points) -> list[tuple[float, float]]:
        tf = self.tf
        return [((p[0] - tf.llx + tf.pad) * tf.s - 0.5, (tf.ury - p[1] + tf.pad) * tf.s - 0.5) for p in points]

    def _width(self) -> int:
        return max(1, int(round(self.lw * self.tf.s)))

    def _stroke(self, pts, closed=False):
        if self.invis or self.pen[3] < 128 or self.lw <= 0:
            return
        w = self._width()
        ink = self.pal.index(self.pen)
        if closed:
            pts = pts + [pts[0]]
        self.draw.line(pts, fill=ink, width=w, joint="curve" if w > 2 else None)

    # -- operations
    def run(self, ops: list[dict]) -> None:
        for op in ops:
            kind = op["op"]
            if kind == "c":
                self.pen = parse_color(op["color"])
            elif kind == "C":
                self.fill = parse_color(op["color"])
            elif kind == "S":
                style = op["style"]
                if style.startswith("setlinewidth("):
                    self.lw = float(style[len("setlinewidth("):-1])
                elif style == "invis":
                    self.invis = True
                elif style == "bold":
                    self.lw = 2.0
            elif kind in ("P", "p"):
                pts = self._px(op["points"])
                if kind == "P" and not self.invis and self.fill[3] >= 128:
                    self.draw.polygon(pts, fill=self.pal.index(self.fill))
                self._stroke(pts, closed=True)
            elif kind in ("E", "e"):
                cx, cy, rx, ry = op["rect"]
                self._ellipse(cx, cy, rx, ry, filled=kind == "E")
            elif kind in ("B", "b"):
                pts = [(x - 0.5, y - 0.5) for x, y in bezier_points(op["points"], self.tf)]
                if kind == "B" and not self.invis and self.fill[3] >= 128:
                    self.draw.polygon(pts, fill=self.pal.index(self.fill))
                self._stroke(pts)
            elif kind == "L":
                self._stroke(self._px(op["points"]))
            elif kind == "F":
                self.font_face, self.font_size = op["face"], float(op["size"])
            elif kind == "t":
                self.font_flags = int(op["fontchar"])
            elif kind == "T":
                if not self.invis and self.pen[3] >= 128 and op["text"].strip():
                    self.texts.append((op["pt"][0], op["pt"][1], op["align"], op["text"], self.font_face,
                                       self.font_flags, self.font_size, self.pal.index(self.pen),
                                       float(op.get("width", 0)) * self.tf.s or None))

    def _ellipse(self, cx, cy, rx, ry, filled):
        (x0, y0), (x1, y1) = self._px([(cx - rx, cy + ry), (cx + rx, cy - ry)])
        if self.invis:
            return
        fill = self.pal.index(self.fill) if filled and self.fill[3] >= 128 else None
        outline = self.pal.index(self.pen) if self.pen[3] >= 128 and self.lw > 0 else None
        self.draw.ellipse([x0, y0, x1, y1], fill=fill, outline=outline, width=self._width() if outline is not None else 0)

    def finish(self) -> "Raster":
        """Stamp the text into the page's indices; return the page."""
        tf = self.tf
        arr = self.arr if self.arr is not None else np.array(self.im)
        h, w = arr.shape
        anchors = {"l": "ls", "c": "ms", "r": "rs"}
        for x, y, align, text, face, flags, size, ink, width in self.texts:
            path = fonts.font_file(face, flags)
            mask, ink_at, (ox, oy) = text_mask(path, size * tf.s, text, anchors.get(align, "ls"), width)
            if mask.size == 0:
                continue
            X0 = int(math.floor(tf.x(x) + 0.5)) + ox
            Y0 = int(math.floor(tf.y(y) + 0.5)) + oy
            mh, mw = mask.shape
            x0, y0, x1, y1 = max(X0, 0), max(Y0, 0), min(X0 + mw, w), min(Y0 + mh, h)
            if x0 >= x1 or y0 >= y1:
                continue
            sub = arr[y0:y1, x0:x1]
            # background: the majority of the box's corners and edge midpoints
            ys, xs = (0, y1 - y0 - 1, (y1 - y0) // 2), (0, x1 - x0 - 1, (x1 - x0) // 2)
            samples = [int(sub[a, b]) for a in ys[:2] for b in xs] + [int(sub[ys[2], 0]), int(sub[ys[2], -1])]
            bg = max(set(samples), key=samples.count)
            lut = self.pal.ramp(ink, bg)
            if (x0, y0, x1, y1) == (X0, Y0, X0 + mw, Y0 + mh):
                np.copyto(sub, lut[mask], where=ink_at)
            else:
                sl = (slice(y0 - Y0, y1 - Y0), slice(x0 - X0, x1 - X0))
                np.copyto(sub, lut[mask[sl]], where=ink_at[sl])
        return Raster(arr, self.pal.flat())


def rasterize(layout: dict, dpi: float, background: str) -> "Raster":
    """Draw a Graphviz -Tjson layout in cairo's emit order: the graph, then per
    node its shapes and label and, after each node, its out-edges (each edge's
    head node first)."""
    tf = Transform(layout["bb"], dpi)
    canvas = Canvas(tf, background)
    canvas.run(layout.get("_draw_", []))
    objects = layout.get("objects", [])
    by_gvid = {o["_gvid"]: o for o in objects}
    out_edges: dict[int, list[dict]] = {}
    for e in layout.get("edges", []):
        out_edges.setdefault(e["tail"], []).append(e)
    done = set()

    def emit_node(gvid):
        if gvid in done or gvid not in by_gvid:
            return
        done.add(gvid)
        node = by_gvid[gvid]
        for key in ("_draw_", "_ldraw_"):
            canvas.reset()
            canvas.run(node.get(key, []))

    for o in objects:
        if "nodes" in o or "subgraphs" in o:       # clusters: not drawn by our looks
            continue
        emit_node(o["_gvid"])
        for e in out_edges.get(o["_gvid"], []):
            emit_node(e["head"])
            for key in ("_draw_", "_tdraw_", "_hdraw_", "_ldraw_", "_tldraw_", "_hldraw_"):
                canvas.reset()
                canvas.run(e.get(key, []))
    return canvas.finish()
