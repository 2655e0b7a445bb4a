"""Training figures for the figure classifiers: the five drawing styles of model
figures and the other figures papers are full of.

Kinds (``KINDS``) and their label:

- styles (architecture figures): ``neurons`` (circles in layers joined by lines),
  ``box2d`` (one rectangle per layer: half drawn here, half by the simulated
  dataset's Graphviz renderer in the ``varied`` style), ``stacked2d`` (stacks of
  feature maps, LeNet style), ``box3d`` (cuboids, AlexNet / PlotNeuralNet
  style), ``pipeline`` (example images, processing boxes and arrows);
- ``simulated``: Keras 3 / Keras 2 / Caffe diagrams of grammar-drawn models
  (``dlpaper2code.simulate`` + ``dlpaper2code.render``), the positives of the
  paper's Table 3;
- negatives (label ``other``): ``line``, ``bar``, ``scatter``, ``confusion``,
  ``heatmap``, ``photogrid``, ``tsne``, ``equation``, ``table``.

Every image is drawn from its own seeded generators (seed, kind, index), so a
kind's images are the same in any process and in any order.  Photographs come
from sample images packaged with matplotlib and scikit-learn (and scikit-learn's
8x8 digits).
"""
from __future__ import annotations

import csv
import hashlib
import io
import math
import random
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

STYLES = ("neurons", "box2d", "stacked2d", "box3d", "pipeline")
NEGATIVE_KINDS = ("line", "bar", "scatter", "confusion", "heatmap", "photogrid", "tsne", "equation", "table")
SIMULATED = "simulated"
KINDS = STYLES + (SIMULATED,) + NEGATIVE_KINDS
OTHER = "other"
MANIFEST = "manifest.csv"
MANIFEST_FIELDS = ["file", "kind", "label", "source", "index", "width", "height", "sha256"]


def label_of(kind: str) -> str:
    """The fine label of a kind: its style, 'simulated', or 'other'."""
    if kind in STYLES or kind == SIMULATED:
        return kind
    if kind in NEGATIVE_KINDS:
        return OTHER
    raise ValueError(f"unknown figure kind {kind!r}; kinds: {', '.join(KINDS)}")


def kind_count(kind: str, n_per_style: int, n_negative: int, n_simulated: int,
               negative_kinds=NEGATIVE_KINDS) -> int:
    """How many images of `kind`: n_per_style per style, n_simulated simulated
    diagrams, n_negative negatives spread evenly over the negative kinds."""
    if kind in STYLES:
        return n_per_style
    if kind == SIMULATED:
        return n_simulated
    negative_kinds = list(negative_kinds)
    if kind not in negative_kinds:
        raise ValueError(f"{kind!r} is not one of the negative kinds {negative_kinds}")
    i = negative_kinds.index(kind)
    base, extra = divmod(n_negative, len(negative_kinds))
    return base + (1 if i < extra else 0)


def _seed_int(*parts) -> int:
    return int.from_bytes(hashlib.sha256("/".join(map(str, parts)).encode()).digest()[:8], "little")


# ----------------------------------------------------------------------------- shared resources

@lru_cache(maxsize=None)
def _font_files() -> tuple[str, ...]:
    import matplotlib

    ttf = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    names = ["DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSerif.ttf", "DejaVuSansMono.ttf",
             "DejaVuSans-Oblique.ttf", "STIXGeneral.ttf", "cmss10.ttf", "DejaVuSerif-Bold.ttf"]
    return tuple(str(ttf / n) for n in names if (ttf / n).is_file())


@lru_cache(maxsize=256)
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, max(6, int(size)))


def _rfont(rng: random.Random, size: int) -> ImageFont.FreeTypeFont:
    return _font(rng.choice(_font_files()), size)


@lru_cache(maxsize=None)
def _photos() -> tuple[np.ndarray, ...]:
    """Packaged photographs (RGB uint8) plus a few rendered scientific images."""
    import matplotlib
    import sklearn

    out = []
    sample = Path(matplotlib.get_data_path()) / "sample_data"
    for p in [sample / "grace_hopper.jpg", Path(sklearn.__file__).parent / "datasets" / "images" / "china.jpg",
              Path(sklearn.__file__).parent / "datasets" / "images" / "flower.jpg"]:
        if p.is_file():
            with Image.open(p) as im:
                out.append(np.asarray(im.convert("RGB")))
    dem = sample / "topobathy.npz"
    if dem.is_file():
        z = np.load(dem)["topo"].astype(np.float32)
        z = (z - z.min()) / (np.ptp(z) + 1e-6)
        out.append(np.stack([z * 200 + 30, z * 160 + 60, 255 - z * 200], -1).clip(0, 255).astype(np.uint8))
    if not out:
        raise RuntimeError("no packaged sample photographs found (matplotlib sample_data, scikit-learn images)")
    return tuple(out)


@lru_cache(maxsize=None)
def _digits() -> np.ndarray:
    from sklearn.datasets import load_digits

    return (load_digits().images * 16).clip(0, 255).astype(np.uint8)   # (1797, 8, 8)


def _photo(rng: random.Random, size: tuple[int, int]) -> Image.Image:
    """A random crop of a packaged photo, a digit, or a texture, at `size`."""
    w, h = size
    r = rng.random()
    if r < 0.6:
        src = rng.choice(_photos())
        H, W = src.shape[:2]
        cw = rng.randint(max(16, W // 6), W)
        ch = min(H, max(16, int(cw * h / max(w, 1) * rng.uniform(0.8, 1.25))))
        x, y = rng.randint(0, W - cw), rng.randint(0, H - ch)
        im = Image.fromarray(src[y:y + ch, x:x + cw])
        if rng.random() < 0.5:
            im = im.transpose(Image.FLIP_LEFT_RIGHT)
        if rng.random() < 0.2:
            im = im.convert("L").convert("RGB")
    elif r < 0.85:
        d = rng.choice(_digits())
        im = Image.fromarray(255 - d if rng.random() < 0.5 else d).convert("RGB")
    else:
        nrng = np.random.default_rng(rng.getrandbits(32))
        base = nrng.random((4, 4, 3))
        im = Image.fromarray((base * 255).astype(np.uint8)).resize((32, 32), Image.BICUBIC)
    return im.resize((max(2, w), max(2, h)), Image.BILINEAR)


def _colour(rng: random.Random, light: bool | None = None) -> tuple[int, int, int]:
    if light is None:
        light = rng.random() < 0.6
    lo, hi = (150, 255) if light else (20, 200)
    return tuple(rng.randint(lo, hi) for _ in range(3))


def _palette(rng: random.Random, n: int) -> list[tuple[int, int, int]]:
    kind = rng.random()
    if kind < 0.2:
        g = rng.randint(200, 245)
        return [(g, g, g)] * n
    if kind < 0.35:
        return [(255, 255, 255)] * n
    return [_colour(rng, light=rng.random() < 0.8) for _ in range(n)]


def _ink(rng: random.Random) -> tuple[int, int, int]:
    return rng.choice([(0, 0, 0), (0, 0, 0), (40, 40, 40), (20, 20, 90), (90, 90, 90)])


def _text(draw: ImageDraw.ImageDraw, xy, text: str, font, fill, anchor="mm", angle: int = 0, img=None):
    if angle and img is not None:
        bbox = font.getbbox(text)
        tw, th = bbox[2] - bbox[0] + 4, bbox[3] - bbox[1] + 6
        tile = Image.new("L", (tw, th), 0)
        ImageDraw.Draw(tile).text((tw / 2, th / 2), text, font=font, fill=255, anchor="mm")
        tile = tile.rotate(angle, expand=True)
        x, y = int(xy[0] - tile.width / 2), int(xy[1] - tile.height / 2)
        img.paste(Image.new("RGB", tile.size, fill), (x, y), tile)
    else:
        draw.text(xy, text, font=font, fill=fill, anchor=anchor)


def _arrow(draw, p, q, fill, width=2, head=8):
    draw.line([p, q], fill=fill, width=width)
    ang = math.atan2(q[1] - p[1], q[0] - p[0])
    a1, a2 = ang + math.pi * 0.85, ang - math.pi * 0.85
    draw.polygon([q, (q[0] + head * math.cos(a1), q[1] + head * math.sin(a1)),
                  (q[0] + head * math.cos(a2), q[1] + head * math.sin(a2))], fill=fill)


LAYER_WORDS = ["Conv 3x3, 64", "conv1", "Conv2D", "ReLU", "BatchNorm", "MaxPool 2x2", "Pooling", "FC 4096",
               "Dense", "Softmax", "Dropout", "LSTM", "Embedding", "Input", "Output", "Concat", "Upsample",
               "Attention", "Encoder", "Decoder", "Linear", "GAP", "Flatten", "Res block", "Inception",
               "BN", "tanh", "conv 5x5", "pool/2", "fc 1000", "3x3 conv, 128", "avg pool", "GRU", "MLP",
               "Self-attn", "Add & Norm", "Feed forward", "Deconv", "Sigmoid", "Norm"]
PIPE_WORDS = ["Feature extraction", "CNN", "Detection", "Segmentation", "Region proposals", "Classifier",
              "Encoder", "Decoder", "Feature maps", "RoI pooling", "Prediction", "Post-processing",
              "Embedding", "Matching", "Tracking", "Fusion", "Backbone", "Head", "Loss", "Refinement",
              "Ranking", "Attention", "Optical flow", "Query", "Output", "Input image"]


def _canvas(rng: random.Random, w: int, h: int, ss: int = 2):
    bg = rng.choice([(255, 255, 255)] * 6 + [(250, 250, 250), (255, 255, 248), (245, 247, 252)])
    img = Image.new("RGB", (w * ss, h * ss), bg)
    return img, ImageDraw.Draw(img)


def _finish(img: Image.Image, ss: int = 2) -> Image.Image:
    if ss == 1:
        return img
    return img.resize((img.width // ss, img.height // ss), Image.LANCZOS)


# ----------------------------------------------------------------------------- neurons plot

def draw_neurons(rng: random.Random, ctx: dict) -> Image.Image:
    ss = 2
    n_layers = rng.randint(3, 7)
    sizes = [rng.randint(2, 9) for _ in range(n_layers)]
    if rng.random() < 0.3:   # autoencoder shape
        mid = n_layers // 2
        sizes = [max(2, 8 - 2 * abs(i - mid)) for i in range(n_layers)]
    horizontal = rng.random() < 0.75
    gap_l = rng.randint(60, 140)
    gap_n = rng.randint(26, 60)
    r = rng.randint(8, min(22, gap_n // 2 - 2))
    main = gap_l * (n_layers - 1) + 2 * 70
    cross = gap_n * (max(sizes) - 1) + 2 * 50
    w, h = (main, cross) if horizontal else (cross, main)
    img, d = _canvas(rng, w, h, ss)
    ink = _ink(rng)
    fills = _palette(rng, n_layers)
    if rng.random() < 0.3:
        fills = [rng.choice([(255, 255, 255), (200, 220, 255)])] * n_layers
        fills[0], fills[-1] = _colour(rng), _colour(rng)
    lw = rng.choice([1, 1, 2]) * ss
    line_col = rng.choice([ink, (120, 120, 120), (160, 160, 160), _colour(rng, False)])
    dense = rng.random() < 0.8
    pos = []
    for i, n in enumerate(sizes):
        a = (70 + i * gap_l) * ss
        pts = []
        for j in range(n):
            b = (cross / 2 + (j - (n - 1) / 2) * gap_n) * ss
            pts.append((a, b) if horizontal else (b, a))
        pos.append(pts)
    for i in range(n_layers - 1):
        for p in pos[i]:
            for q in pos[i + 1]:
                if dense or rng.random() < 0.4:
                    d.line([p, q], fill=line_col, width=lw)
    rr = r * ss
    dots = rng.random() < 0.4
    for i, pts in enumerate(pos):
        for j, (x, y) in enumerate(pts):
            if dots and len(pts) > 4 and j == len(pts) - 2:
                for k in (-1, 0, 1):
                    dx, dy = (0, k * rr * 0.6) if horizontal else (k * rr * 0.6, 0)
                    d.ellipse([x + dx - 3 * ss, y + dy - 3 * ss, x + dx + 3 * ss, y + dy + 3 * ss], fill=ink)
                continue
            d.ellipse([x - rr, y - rr, x + rr, y + rr], fill=fills[i], outline=ink, width=max(1, lw))
            if rng.random() < 0.25 and rr > 14:
                _text(d, (x, y), rng.choice(["x", "h", "y", "a"]) + str(j + 1), _rfont(rng, rr), ink)
    if rng.random() < 0.6:
        names = rng.choice([["Input layer"] + ["Hidden layer"] * (n_layers - 2) + ["Output layer"],
                            ["Input"] + [f"h{i}" for i in range(1, n_layers - 1)] + ["Output"],
                            [f"Layer {i + 1}" for i in range(n_layers)]])
        f = _rfont(rng, rng.randint(11, 16) * ss)
        for i, pts in enumerate(pos):
            x = pts[0][0] if horizontal else 20 * ss
            y = 20 * ss if horizontal else pts[0][1]
            _text(d, (x, y), names[i], f, ink, anchor="mm" if horizontal else "lm")
    if rng.random() < 0.3:   # recurrent self loops
        for i in range(1, n_layers - 1):
            x, y = pos[i][0]
            d.arc([x - rr, y - 3 * rr, x + rr, y - rr], 0, 360, fill=ink, width=lw)
    return _finish(img, ss)


# ----------------------------------------------------------------------------- 2D box diagram

def _draw_box2d(rng: random.Random) -> Image.Image:
    ss = 2
    n = rng.randint(3, 12)
    horizontal = rng.random() < 0.55
    tall_thin = horizontal and rng.random() < 0.5      # thin boxes with rotated text
    if tall_thin:
        bw, bh = rng.randint(22, 40), rng.randint(90, 200)
    elif horizontal:
        bw, bh = rng.randint(60, 130), rng.randint(30, 70)
    else:
        bw, bh = rng.randint(90, 220), rng.randint(22, 45)
    gap = rng.randint(8, 50)
    branches = rng.random() < 0.3
    lanes = rng.randint(2, 3) if branches else 1
    main = n * (bw if horizontal else bh) + (n + 1) * gap + 40
    cross = (bh if horizontal else bw) * lanes + gap * (lanes + 1) + 40
    w, h = (main, cross) if horizontal else (cross, main)
    img, d = _canvas(rng, w, h, ss)
    ink = _ink(rng)
    fills = _palette(rng, n)
    if rng.random() < 0.5:   # colour by layer type
        types = [_colour(rng) for _ in range(4)]
        fills = [rng.choice(types) for _ in range(n)]
    rounded = rng.random() < 0.4
    fsize = rng.randint(10, 15)
    f = _rfont(rng, fsize * ss)
    lw = rng.choice([1, 1, 2, 3]) * ss
    shadow = rng.random() < 0.15
    boxes = []
    for i in range(n):
        lane = rng.randrange(lanes) if branches and 0 < i < n - 1 and rng.random() < 0.5 else 0
        a = 20 + gap + i * ((bw if horizontal else bh) + gap)
        b = 20 + gap + lane * ((bh if horizontal else bw) + gap)
        x0, y0 = (a, b) if horizontal else (b, a)
        x1, y1 = x0 + bw, y0 + bh
        box = [c * ss for c in (x0, y0, x1, y1)]
        boxes.append(box)
        if shadow:
            d.rectangle([box[0] + 4 * ss, box[1] + 4 * ss, box[2] + 4 * ss, box[3] + 4 * ss], fill=(170, 170, 170))
        if rounded:
            d.rounded_rectangle(box, radius=8 * ss, fill=fills[i], outline=ink, width=lw)
        else:
            d.rectangle(box, fill=fills[i], outline=ink, width=lw)
        label = rng.choice(LAYER_WORDS)
        cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        _text(d, (cx, cy), label, f, ink, angle=90 if tall_thin else 0, img=img)
    head = rng.randint(6, 11) * ss
    for i in range(n - 1):
        p, q = boxes[i], boxes[i + 1]
        if horizontal:
            _arrow(d, (p[2], (p[1] + p[3]) / 2), (q[0], (q[1] + q[3]) / 2), ink, lw, head)
        else:
            _arrow(d, ((p[0] + p[2]) / 2, p[3]), ((q[0] + q[2]) / 2, q[1]), ink, lw, head)
    if rng.random() < 0.3 and n > 4:   # residual skip drawn around the boxes
        i = rng.randrange(0, n - 3)
        j = i + rng.randint(2, 3)
        p, q = boxes[i], boxes[j]
        if horizontal:
            top = min(p[1], q[1]) - 12 * ss
            pts = [((p[0] + p[2]) / 2, p[1]), ((p[0] + p[2]) / 2, top), ((q[0] + q[2]) / 2, top)]
            d.line(pts, fill=ink, width=lw)
            _arrow(d, pts[-1], ((q[0] + q[2]) / 2, q[1]), ink, lw, head)
        else:
            side = max(p[2], q[2]) + 12 * ss
            pts = [(p[2], (p[1] + p[3]) / 2), (side, (p[1] + p[3]) / 2), (side, (q[1] + q[3]) / 2)]
            d.line(pts, fill=ink, width=lw)
            _arrow(d, pts[-1], (q[2], (q[1] + q[3]) / 2), ink, lw, head)
    return _finish(img, ss)


def _draw_box_chain(rng: random.Random) -> Image.Image:
    """A long chain of small layer boxes in one or two rows (wide, short figures)."""
    ss = 2
    n = rng.randint(8, 22)
    rows = rng.choice([1, 1, 2])
    per_row = -(-n // rows)
    bw, bh = rng.randint(34, 75), rng.randint(16, 36)
    gap = rng.randint(10, 28)
    w = per_row * (bw + gap) + gap + 20
    h = rows * (bh + 2 * gap) + 20
    img, d = _canvas(rng, w, h, ss)
    ink = _ink(rng)
    types = [_colour(rng) for _ in range(3)] if rng.random() < 0.6 else [rng.choice([(255, 255, 255), _colour(rng)])]
    f = _rfont(rng, rng.randint(7, 10) * ss)
    lw = rng.choice([1, 1, 2]) * ss
    rounded = rng.random() < 0.5
    snake = rows == 2 and rng.random() < 0.5
    boxes = []
    for i in range(n):
        r, c = divmod(i, per_row)
        if snake and r % 2 == 1:
            c = per_row - 1 - c
        x0, y0 = 10 + gap + c * (bw + gap), 10 + gap + r * (bh + 2 * gap)
        box = [x0 * ss, y0 * ss, (x0 + bw) * ss, (y0 + bh) * ss]
        boxes.append(box)
        fill = rng.choice(types)
        if rounded:
            d.rounded_rectangle(box, radius=5 * ss, fill=fill, outline=ink, width=lw)
        else:
            d.rectangle(box, fill=fill, outline=ink, width=lw)
        _text(d, ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2), rng.choice(LAYER_WORDS), f, ink)
    head = rng.randint(4, 7) * ss
    for i in range(n - 1):
        p, q = boxes[i], boxes[i + 1]
        if abs(p[1] - q[1]) < 1:
            if q[0] > p[0]:
                _arrow(d, (p[2], (p[1] + p[3]) / 2), (q[0], (q[1] + q[3]) / 2), ink, lw, head)
            else:
                _arrow(d, (p[0], (p[1] + p[3]) / 2), (q[2], (q[1] + q[3]) / 2), ink, lw, head)
        elif rows == 2 and not snake:
            pass       # the second row starts a new line (a second model, or a continuation)
        else:
            _arrow(d, ((p[0] + p[2]) / 2, p[3]), ((q[0] + q[2]) / 2, q[1]), ink, lw, head)
    return _finish(img, ss)


def _rendered_box2d(rng: random.Random, ctx: dict, knobs: dict, path_tmp: Path) -> Image.Image:
    from ..render import render_diagram
    from ..simulate.grammar import generate_model

    # log-uniform depth: as many short models (papers draw those too) as long ones
    lo, hi = ctx.get("depth_min", 2), ctx.get("depth_max", 40)
    depth = min(hi, max(lo, int(round(math.exp(rng.uniform(math.log(lo), math.log(hi)))))))
    index, seed = rng.randrange(10**6), rng.randrange(10**6)
    for extra in range(hi):
        try:
            graph, _ = generate_model(min(hi, depth + extra), index, seed=seed)
            break
        except RuntimeError:      # no valid model that short for the drawn input: one layer more
            continue
    render_diagram(graph, knobs, path_tmp, seed=rng.randrange(2**31))
    with Image.open(path_tmp) as im:
        out = im.convert("RGB")
    path_tmp.unlink(missing_ok=True)
    return out


def draw_box2d(rng: random.Random, ctx: dict) -> Image.Image:
    knobs = ctx.get("box2d_render_knobs")
    if knobs and rng.random() < ctx.get("box2d_render_share", 0.5):
        ctx["source"] = "render"
        return _rendered_box2d(rng, ctx, knobs, ctx["tmp"])
    return _draw_box_chain(rng) if rng.random() < 0.3 else _draw_box2d(rng)


def draw_simulated(rng: random.Random, ctx: dict) -> Image.Image:
    styles = ctx["simulated_knobs"]
    name = rng.choice(sorted(styles))
    return _rendered_box2d(rng, ctx, styles[name], ctx["tmp"])


# ----------------------------------------------------------------------------- stacked 2D boxes (LeNet)

def draw_stacked2d(rng: random.Random, ctx: dict) -> Image.Image:
    ss = 2
    n_stacks = rng.randint(2, 6)
    sizes, depths = [], []
    s = rng.randint(70, 150)
    for i in range(n_stacks):
        sizes.append(s)
        depths.append(rng.randint(2, 8))
        s = max(18, int(s * rng.uniform(0.55, 0.9)))
    off = rng.randint(4, 10)
    gap = rng.randint(30, 70)
    n_fc = rng.randint(0, 3)
    w = sum(sz + dp * off for sz, dp in zip(sizes, depths)) + gap * (n_stacks + n_fc + 1) + n_fc * 20 + 40
    h = max(sizes) + max(depths) * off + rng.randint(70, 120)
    img, d = _canvas(rng, w, h, ss)
    ink = _ink(rng)
    fill = rng.choice([(255, 255, 255), _colour(rng, True), (230, 230, 230)])
    alt = rng.random() < 0.4
    lw = rng.choice([1, 1, 2]) * ss
    f = _rfont(rng, rng.randint(9, 13) * ss)
    x = 20 + gap // 2
    cy = h / 2 + 10
    prev = None
    input_img = rng.random() < 0.4
    labels = rng.random() < 0.7
    for i, (sz, dp) in enumerate(zip(sizes, depths)):
        top = cy - sz / 2 - dp * off / 2
        for k in range(dp):
            x0, y0 = x + k * off, top + k * off
            box = [x0 * ss, y0 * ss, (x0 + sz) * ss, (y0 + sz) * ss]
            if i == 0 and input_img and k == dp - 1:
                img.paste(_photo(rng, (sz * ss, sz * ss)), (int(box[0]), int(box[1])))
                d.rectangle(box, outline=ink, width=lw)
            else:
                c = fill if not alt else (fill if k % 2 == 0 else tuple(max(0, v - 30) for v in fill))
                d.rectangle(box, fill=c, outline=ink, width=lw)
        last = (x + (dp - 1) * off, top + (dp - 1) * off, sz)
        if prev is not None and rng.random() < 0.8:   # receptive field -> next map
            px, py, psz = prev
            k = max(4, psz // 5)
            rx, ry = px + rng.randint(0, psz - k), py + rng.randint(0, psz - k)
            d.rectangle([rx * ss, ry * ss, (rx + k) * ss, (ry + k) * ss], outline=ink, width=lw)
            tx, ty = last[0] + sz / 2, last[1] + sz / 2
            for cx_, cy_ in ((rx, ry), (rx + k, ry + k), (rx + k, ry), (rx, ry + k)):
                d.line([(cx_ * ss, cy_ * ss), (tx * ss, ty * ss)], fill=ink, width=max(1, lw // 2))
        if labels:
            txt = rng.choice([f"C{i + 1}: {dp}@{sz}x{sz}", f"{dp}@{sz}x{sz}", f"S{i + 1}", f"conv{i + 1}",
                              f"{sz}x{sz}x{dp * 16}", "feature maps"])
            _text(d, ((x + sz / 2 + dp * off / 2) * ss, (top - 12) * ss), txt, f, ink)
        prev = last
        x += sz + dp * off + gap
    for j in range(n_fc):   # fully connected: thin bars or columns of small squares
        hh = int(max(sizes) * rng.uniform(0.4, 0.9))
        y0 = cy - hh / 2
        if rng.random() < 0.5:
            d.rectangle([x * ss, y0 * ss, (x + 14) * ss, (y0 + hh) * ss], fill=fill, outline=ink, width=lw)
        else:
            step = max(8, hh // 10)
            for k in range(0, hh - 6, step):
                d.rectangle([x * ss, (y0 + k) * ss, (x + 6) * ss, (y0 + k + 6) * ss], outline=ink, width=lw)
        if prev is not None:
            px, py, psz = prev
            d.line([((px + psz) * ss, (py + psz / 2) * ss), (x * ss, (y0 + hh / 2) * ss)], fill=ink, width=lw)
        prev = (x - psz + 14, y0 + hh / 2 - psz / 2, psz)
        if labels:
            _text(d, ((x + 7) * ss, (y0 - 12) * ss), rng.choice(["F6", "fc", "full", f"{rng.choice([84, 120, 500])}"]),
                  f, ink)
        x += 20 + gap
    if rng.random() < 0.5:   # operations written under the gaps
        f2 = _rfont(rng, rng.randint(9, 12) * ss)
        for i in range(n_stacks - 1):
            _text(d, ((30 + i * (w - 60) / max(1, n_stacks)) * ss + 60 * ss, (h - 14) * ss),
                  rng.choice(["Convolutions", "Subsampling", "Pooling", "conv 5x5", "max pool"]), f2, ink)
    return _finish(img, ss)


# ----------------------------------------------------------------------------- 3D boxes (AlexNet, PlotNeuralNet)

def _cuboid(d, x, y, w, h, depth, fill, ink, lw, ang=0.6):
    """Front face at (x, y, w, h), receding up-right by `depth`."""
    dx, dy = depth * math.cos(ang), -depth * math.sin(ang)
    dark = tuple(max(0, int(c * 0.75)) for c in fill)
    light = tuple(min(255, int(c * 1.1) + 10) for c in fill)
    d.polygon([(x, y), (x + dx, y + dy), (x + w + dx, y + dy), (x + w, y)], fill=light, outline=ink)
    d.polygon([(x + w, y), (x + w + dx, y + dy), (x + w + dx, y + h + dy), (x + w, y + h)], fill=dark, outline=ink)
    d.rectangle([x, y, x + w, y + h], fill=fill, outline=ink, width=lw)
    return dx, dy


def draw_box3d(rng: random.Random, ctx: dict) -> Image.Image:
    ss = 2
    n = rng.randint(3, 8)
    pnn = rng.random() < 0.5        # PlotNeuralNet: thin slabs, depth = width of channels
    hs, ws, ds = [], [], []
    hgt = rng.randint(90, 170)
    for i in range(n):
        if pnn:
            ws.append(rng.randint(6, 30))
            ds.append(hgt * rng.uniform(0.6, 1.0))
        else:
            ws.append(rng.randint(10, 40))
            ds.append(hgt * rng.uniform(0.5, 1.0))
        hs.append(hgt)
        hgt = max(25, int(hgt * rng.uniform(0.6, 0.95)))
    gap = rng.randint(25, 70)
    ang = rng.uniform(0.45, 0.9)
    w = int(sum(ws) + gap * (n + 1) + max(ds) * math.cos(ang) + 60)
    h = int(max(hs) + max(ds) * math.sin(ang) + 90)
    img, d = _canvas(rng, w, h, ss)
    ink = _ink(rng)
    lw = rng.choice([1, 1, 2]) * ss
    scheme = rng.random()
    conv_c = (255, 234, 160) if scheme < 0.4 else _colour(rng, True)
    pool_c = (220, 100, 100) if scheme < 0.4 else _colour(rng, True)
    f = _rfont(rng, rng.randint(9, 13) * ss)
    x = 30 + gap / 2
    base = h - 40
    prev = None
    for i in range(n):
        hh, ww, dd = hs[i], ws[i], ds[i]
        y = base - hh
        col = pool_c if (pnn and rng.random() < 0.3) else conv_c
        if pnn and rng.random() < 0.5:   # conv + relu slab pair
            _cuboid(d, x * ss, y * ss, ww * 0.7 * ss, hh * ss, dd * ss, col, ink, lw, ang)
            _cuboid(d, (x + ww * 0.7) * ss, y * ss, ww * 0.3 * ss, hh * ss, dd * ss, (230, 140, 60), ink, lw, ang)
        else:
            _cuboid(d, x * ss, y * ss, ww * ss, hh * ss, dd * ss, col, ink, lw, ang)
        if prev is not None and rng.random() < 0.7 and not pnn:   # kernel cuboid and its projection
            px, py, pw, ph, pd = prev
            k = max(6, int(ph * 0.15))
            kx, ky = px + pw * 0.3, py + ph * rng.uniform(0.2, 0.6)
            _cuboid(d, kx * ss, ky * ss, k * 0.5 * ss, k * ss, k * 0.8 * ss, (255, 255, 255), ink, max(1, lw // 2), ang)
            tx, ty = x + ww * 0.3, y + hh * 0.4
            for cx_, cy_ in ((kx, ky), (kx + k * 0.5, ky + k)):
                d.line([(cx_ * ss, cy_ * ss), (tx * ss, ty * ss)], fill=ink, width=max(1, lw // 2))
        elif prev is not None:
            px, py, pw, ph, pd = prev
            _arrow(d, ((px + pw + 4) * ss, (py + ph / 2) * ss), ((x - 4) * ss, (y + hh / 2) * ss), ink, lw, 6 * ss)
        if rng.random() < 0.7:
            _text(d, ((x + ww / 2) * ss, (base + 14) * ss), rng.choice(
                [str(rng.choice([11, 5, 3, 224, 55, 27, 13, 96, 256, 384])), f"conv{i + 1}", f"{hh}", "pool",
                 "fc", str(rng.choice([64, 128, 256, 512]))]), f, ink)
        prev = (x, y, ww, hh, dd)
        x += ww + gap
    if rng.random() < 0.5:   # dense bars at the end
        for j in range(rng.randint(1, 2)):
            hh = rng.randint(60, 130)
            _cuboid(d, x * ss, (base - hh) * ss, 8 * ss, hh * ss, 8 * ss, _colour(rng, True), ink, lw, ang)
            x += 30
    return _finish(img, ss)


# ----------------------------------------------------------------------------- pipeline plot

def draw_pipeline(rng: random.Random, ctx: dict) -> Image.Image:
    ss = 2
    rows = rng.choice([1, 1, 1, 2])
    n = rng.randint(3, 6)
    cell = rng.randint(70, 130)
    gap = rng.randint(30, 60)
    w = n * cell + (n + 1) * gap + 20
    h = rows * (cell + 50) + 40
    img, d = _canvas(rng, w, h, ss)
    ink = _ink(rng)
    lw = rng.choice([1, 2, 2, 3]) * ss
    f = _rfont(rng, rng.randint(10, 14) * ss)
    fills = _palette(rng, n)
    for r in range(rows):
        cy = 30 + r * (cell + 50) + cell / 2
        centres = []
        for i in range(n):
            x0 = gap + i * (cell + gap)
            y0 = cy - cell / 2
            box = [x0 * ss, y0 * ss, (x0 + cell) * ss, (y0 + cell) * ss]
            kind = "image" if i in (0, n - 1) and rng.random() < 0.85 else rng.choice(
                ["box", "box", "trapezoid", "images", "maps", "image"])
            if kind == "image":
                p = _photo(rng, (cell * ss, cell * ss))
                img.paste(p, (int(box[0]), int(box[1])))
                if i == n - 1 and rng.random() < 0.6:   # detections on the output
                    for _ in range(rng.randint(1, 3)):
                        a, b = rng.uniform(0, 0.6), rng.uniform(0, 0.6)
                        c = rng.choice([(255, 0, 0), (0, 255, 0), (255, 255, 0)])
                        d.rectangle([box[0] + a * cell * ss, box[1] + b * cell * ss,
                                     box[0] + (a + 0.35) * cell * ss, box[1] + (b + 0.35) * cell * ss],
                                    outline=c, width=2 * ss)
            elif kind == "images":   # a small stack of example images
                for k in range(3):
                    o = k * 8 * ss
                    p = _photo(rng, (int(cell * 0.75) * ss, int(cell * 0.75) * ss))
                    img.paste(p, (int(box[0] + o), int(box[1] + o)))
                    d.rectangle([box[0] + o, box[1] + o, box[0] + o + p.width, box[1] + o + p.height],
                                outline=ink, width=max(1, lw // 2))
            elif kind == "maps":
                for k in range(rng.randint(3, 5)):
                    o = k * 7 * ss
                    p = _photo(rng, (int(cell * 0.6) * ss, int(cell * 0.6) * ss)).convert("L")
                    p = Image.merge("RGB", [p, p.point(lambda v: v // 2), p.point(lambda v: 255 - v)])
                    img.paste(p, (int(box[0] + o), int(box[1] + o)))
            elif kind == "trapezoid":
                x0b, y0b, x1b, y1b = box
                inset = cell * 0.25 * ss
                pts = ([(x0b, y0b), (x1b, y0b + inset), (x1b, y1b - inset), (x0b, y1b)] if rng.random() < 0.5 else
                       [(x0b, y0b + inset), (x1b, y0b), (x1b, y1b), (x0b, y1b - inset)])
                d.polygon(pts, fill=fills[i], outline=ink)
                _text(d, ((x0b + x1b) / 2, (y0b + y1b) / 2), rng.choice(PIPE_WORDS), f, ink)
            else:
                bb = [box[0], box[1] + cell * 0.2 * ss, box[2], box[3] - cell * 0.2 * ss]
                if rng.random() < 0.5:
                    d.rounded_rectangle(bb, radius=10 * ss, fill=fills[i], outline=ink, width=lw)
                else:
                    d.rectangle(bb, fill=fills[i], outline=ink, width=lw)
                words = rng.choice(PIPE_WORDS).split()
                for k, wd in enumerate(words):
                    _text(d, ((bb[0] + bb[2]) / 2, (bb[1] + bb[3]) / 2 + (k - (len(words) - 1) / 2) * 16 * ss),
                          wd, f, ink)
            centres.append((x0, cy))
            if rng.random() < 0.4:
                _text(d, ((x0 + cell / 2) * ss, (cy + cell / 2 + 14) * ss),
                      rng.choice(["(a)", "(b)", "input", "output", "stage " + str(i + 1), ""]), f, ink)
        head = rng.randint(7, 12) * ss
        for i in range(n - 1):
            x0 = centres[i][0] + cell + 4
            x1 = centres[i + 1][0] - 4
            _arrow(d, (x0 * ss, cy * ss), (x1 * ss, cy * ss), ink, lw, head)
    return _finish(img, ss)


# ----------------------------------------------------------------------------- negatives (matplotlib)

def _mpl_figure(rng: random.Random, w_in=None, h_in=None, dpi=None):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(w_in or rng.uniform(3, 7), h_in or rng.uniform(2.2, 5)), dpi=dpi or rng.randint(60, 110))
    FigureCanvasAgg(fig)
    return fig


def _mpl_image(fig) -> Image.Image:
    fig.canvas.draw()
    return Image.fromarray(np.asarray(fig.canvas.buffer_rgba())[..., :3].copy())


_MPL_STYLES = ["default", "default", "ggplot", "bmh", "seaborn-v0_8-whitegrid", "classic", "grayscale",
               "seaborn-v0_8-paper", "fast"]


def _with_style(rng, fn):
    import matplotlib
    import matplotlib.style

    style = rng.choice(_MPL_STYLES)
    with matplotlib.style.context(style):
        with matplotlib.rc_context({"font.family": rng.choice(["DejaVu Sans", "DejaVu Serif", "STIXGeneral"])}):
            return fn()


def _axes_grid(rng, fig):
    nr, nc = rng.choice([(1, 1), (1, 1), (1, 2), (1, 3), (2, 2)])
    axes = fig.subplots(nr, nc, squeeze=False).ravel()
    return axes


def draw_line(rng: random.Random, ctx: dict) -> Image.Image:
    nrng = np.random.default_rng(rng.getrandbits(32))

    def go():
        fig = _mpl_figure(rng)
        for ax in _axes_grid(rng, fig):
            x = np.arange(rng.randint(5, 200))
            for k in range(rng.randint(1, 5)):
                y = np.cumsum(nrng.normal(size=x.size)) if rng.random() < 0.5 else \
                    np.exp(-x / rng.uniform(5, 80)) * rng.uniform(0.5, 3) + nrng.normal(0, 0.03, x.size)
                ax.plot(x, y, marker=rng.choice(["", "", "o", "s", "^"]), markersize=3, label=f"method {k + 1}",
                        linestyle=rng.choice(["-", "--", "-.", ":"]))
            if rng.random() < 0.5:
                ax.legend(fontsize=7)
            ax.set_xlabel(rng.choice(["epoch", "iterations", "k", "time (s)"]))
            ax.set_ylabel(rng.choice(["loss", "accuracy", "error", "BLEU"]))
            if rng.random() < 0.3:
                ax.set_yscale("log") if (y > 0).all() else None
            if rng.random() < 0.4:
                ax.grid(True)
        fig.tight_layout()
        return _mpl_image(fig)
    return _with_style(rng, go)


def draw_bar(rng: random.Random, ctx: dict) -> Image.Image:
    nrng = np.random.default_rng(rng.getrandbits(32))

    def go():
        fig = _mpl_figure(rng)
        for ax in _axes_grid(rng, fig):
            kind = rng.random()
            n = rng.randint(2, 10)
            if kind < 0.15:
                ax.pie(nrng.random(n) + 0.1, labels=[f"c{i}" for i in range(n)] if rng.random() < 0.5 else None)
                continue
            if kind < 0.3:
                ax.hist(nrng.normal(size=500), bins=rng.randint(10, 40))
                continue
            groups = rng.randint(1, 4)
            width = 0.8 / groups
            for g in range(groups):
                vals = nrng.random(n) * rng.uniform(1, 100)
                err = nrng.random(n) * vals * 0.1 if rng.random() < 0.4 else None
                if rng.random() < 0.25:
                    ax.barh(np.arange(n) + g * width, vals, height=width, xerr=err, label=f"g{g}")
                else:
                    ax.bar(np.arange(n) + g * width, vals, width=width, yerr=err, label=f"g{g}")
            ax.set_xticks(np.arange(n))
            ax.set_xticklabels([rng.choice(["A", "B", "CNN", "RNN", "SVM", "ours", "base"]) for _ in range(n)],
                               fontsize=7, rotation=rng.choice([0, 45]))
            if rng.random() < 0.5:
                ax.legend(fontsize=7)
        fig.tight_layout()
        return _mpl_image(fig)
    return _with_style(rng, go)


def draw_scatter(rng: random.Random, ctx: dict) -> Image.Image:
    nrng = np.random.default_rng(rng.getrandbits(32))

    def go():
        fig = _mpl_figure(rng)
        for ax in _axes_grid(rng, fig):
            for g in range(rng.randint(1, 4)):
                n = rng.randint(10, 200)
                x = nrng.normal(rng.uniform(-3, 3), rng.uniform(0.3, 2), n)
                y = x * rng.uniform(-2, 2) + nrng.normal(0, rng.uniform(0.2, 3), n)
                ax.scatter(x, y, s=rng.choice([5, 10, 20, 40]), marker=rng.choice(["o", "x", "^", "s", "."]),
                           alpha=rng.uniform(0.5, 1))
            if rng.random() < 0.4:
                xs = np.linspace(-4, 4, 10)
                ax.plot(xs, xs * rng.uniform(-1, 1), "k--")
            ax.set_xlabel(rng.choice(["x", "FLOPs", "parameters (M)", "recall"]))
            ax.set_ylabel(rng.choice(["y", "accuracy", "precision", "mAP"]))
        fig.tight_layout()
        return _mpl_image(fig)
    return _with_style(rng, go)


def draw_confusion(rng: random.Random, ctx: dict) -> Image.Image:
    nrng = np.random.default_rng(rng.getrandbits(32))

    def go():
        fig = _mpl_figure(rng, h_in=rng.uniform(3, 5), w_in=rng.uniform(3, 5.5))
        ax = fig.subplots()
        n = rng.randint(2, 12)
        m = nrng.random((n, n)) * rng.uniform(0, 10) + np.eye(n) * rng.uniform(10, 100)
        if rng.random() < 0.5:
            m = m / m.sum(1, keepdims=True)
        im = ax.imshow(m, cmap=rng.choice(["Blues", "viridis", "Greens", "Oranges", "gray_r", "magma"]))
        if n <= 8 and rng.random() < 0.8:
            for i in range(n):
                for j in range(n):
                    ax.text(j, i, f"{m[i, j]:.2f}" if m.max() <= 1 else f"{int(m[i, j])}", ha="center",
                            va="center", fontsize=7, color="w" if m[i, j] > m.max() / 2 else "k")
        names = [rng.choice(["cat", "dog", "car", "0", "1", "2", "bird", "plane", "ship"]) for _ in range(n)]
        ax.set_xticks(range(n))
        ax.set_xticklabels(names, fontsize=7, rotation=rng.choice([0, 45, 90]))
        ax.set_yticks(range(n))
        ax.set_yticklabels(names, fontsize=7)
        ax.set_xlabel("Predicted label")
        ax.set_ylabel("True label")
        if rng.random() < 0.6:
            fig.colorbar(im)
        fig.tight_layout()
        return _mpl_image(fig)
    return _with_style(rng, go)


def draw_heatmap(rng: random.Random, ctx: dict) -> Image.Image:
    nrng = np.random.default_rng(rng.getrandbits(32))

    def go():
        fig = _mpl_figure(rng)
        axes = _axes_grid(rng, fig)
        for ax in axes:
            r = rng.random()
            if r < 0.3:   # attention matrix
                n, m = rng.randint(5, 30), rng.randint(5, 30)
                z = nrng.random((n, m)) ** rng.uniform(1, 6)
            elif r < 0.6:   # smooth field
                g = np.linspace(-3, 3, 100)
                X, Y = np.meshgrid(g, g)
                z = np.sin(X * rng.uniform(0.5, 2)) * np.cos(Y * rng.uniform(0.5, 2)) + nrng.normal(0, 0.1, X.shape)
            elif r < 0.8:   # saliency-like overlay on a photo
                p = np.asarray(_photo(rng, (120, 120)).convert("L"), dtype=float) / 255
                z = p * (nrng.random((1, 1)) + np.exp(-((np.indices((120, 120)) - 60) ** 2).sum(0) / 800))
            else:
                z = np.asarray(_photo(rng, (100, 100)).convert("L"), dtype=float)
            im = ax.imshow(z, cmap=rng.choice(["hot", "jet", "viridis", "coolwarm", "inferno", "RdBu"]),
                           aspect="auto")
            if rng.random() < 0.5:
                ax.axis("off")
            if rng.random() < 0.4:
                fig.colorbar(im, ax=ax)
        fig.tight_layout()
        return _mpl_image(fig)
    return _with_style(rng, go)


def draw_tsne(rng: random.Random, ctx: dict) -> Image.Image:
    nrng = np.random.default_rng(rng.getrandbits(32))

    def go():
        fig = _mpl_figure(rng, h_in=rng.uniform(3, 5), w_in=rng.uniform(3, 6))
        ax = fig.subplots()
        k = rng.randint(3, 15)
        for c in range(k):
            centre = nrng.normal(0, 10, 2)
            pts = centre + nrng.normal(0, rng.uniform(0.5, 3), (rng.randint(30, 300), 2))
            if rng.random() < 0.3:   # curved manifold
                t = nrng.uniform(0, 3, len(pts))
                pts = centre + np.stack([np.cos(t) * 5, np.sin(t) * 5], 1) + nrng.normal(0, 0.4, pts.shape)
            ax.scatter(pts[:, 0], pts[:, 1], s=rng.choice([1, 2, 4, 8]), alpha=0.8)
        if rng.random() < 0.6:
            ax.set_xticks([])
            ax.set_yticks([])
        if rng.random() < 0.4:
            ax.legend([str(i) for i in range(k)], fontsize=6, markerscale=3, loc="best")
        fig.tight_layout()
        return _mpl_image(fig)
    return _with_style(rng, go)


_EQ_PARTS = [r"\sum_{i=1}^{N} x_i", r"\frac{\partial L}{\partial w}", r"\int_0^1 f(x)\,dx", r"\mathbf{W}x + b",
             r"\sigma(z)", r"\log p(y|x)", r"\mathcal{L}_{CE}", r"\|x - \hat{x}\|_2^2", r"\max(0, x)",
             r"\mathrm{softmax}(QK^T/\sqrt{d})V", r"\alpha_t", r"\tanh(W_h h_{t-1} + W_x x_t)", r"\lambda \|\theta\|^2",
             r"\mathbb{E}_{x \sim p}[\cdot]", r"\prod_{j} \beta_j", r"e^{-\gamma t}", r"\nabla_\theta J"]


def draw_equation(rng: random.Random, ctx: dict) -> Image.Image:
    def go():
        n = rng.randint(1, 4)
        fig = _mpl_figure(rng, w_in=rng.uniform(3, 7), h_in=0.6 * n + 0.3, dpi=rng.randint(80, 140))
        fsize = rng.randint(10, 18)
        for i in range(n):
            terms = [rng.choice(_EQ_PARTS) for _ in range(rng.randint(2, 4))]
            ops = [rng.choice(["+", "-", "=", r"\cdot", "+"]) for _ in range(len(terms) - 1)]
            eq = rng.choice(["y", "L", "h_t", r"\hat{y}", "z"]) + " = " + " ".join(
                t + " " + o for t, o in zip(terms, ops + [""]))
            y = 1 - (i + 0.5) / n
            fig.text(0.05 if rng.random() < 0.5 else 0.5, y, f"${eq}$", fontsize=fsize, va="center",
                     ha="left" if rng.random() < 0.5 else "center")
            if rng.random() < 0.6:
                fig.text(0.97, y, f"({rng.randint(1, 20)})", fontsize=fsize - 2, va="center", ha="right")
        return _mpl_image(fig)
    return _with_style(rng, go)


def draw_table(rng: random.Random, ctx: dict) -> Image.Image:
    ss = 1
    nr, nc = rng.randint(3, 14), rng.randint(2, 8)
    f = _rfont(rng, rng.randint(10, 14))
    fb = _font(_font_files()[1], f.size) if rng.random() < 0.5 else f
    cw, rh = rng.randint(55, 110), rng.randint(18, 28)
    w, h = nc * cw + 20, nr * rh + 20
    img, d = _canvas(rng, w, h, ss)
    ink = _ink(rng)
    grid = rng.random() < 0.4
    heads = [rng.choice(["Method", "Model", "Acc.", "Top-1", "Params", "FLOPs", "mAP", "F1", "Layer", "Output size",
                         "BLEU", "Time"]) for _ in range(nc)]
    for r in range(nr):
        for c in range(nc):
            x, y = 10 + c * cw, 10 + r * rh
            if r == 0:
                txt, font = heads[c], fb
            elif c == 0:
                txt, font = rng.choice(["ResNet-50", "VGG-16", "Ours", "Baseline", "conv1", "pool", "fc7", "LSTM",
                                        "BERT", "[13]", "AlexNet"]), f
            else:
                txt, font = rng.choice([f"{rng.uniform(0, 100):.1f}", f"{rng.uniform(0, 1):.3f}",
                                        f"{rng.randint(1, 512)}", f"{rng.randint(1, 9)}x{rng.randint(1, 9)}",
                                        "-", f"{rng.uniform(0, 100):.2f}M"]), f
            d.text((x + cw / 2, y + rh / 2), txt, font=font, fill=ink, anchor="mm")
            if grid:
                d.rectangle([x, y, x + cw, y + rh], outline=ink)
    if not grid:   # booktabs rules
        d.line([(10, 10), (10 + nc * cw, 10)], fill=ink, width=2)
        d.line([(10, 10 + rh), (10 + nc * cw, 10 + rh)], fill=ink, width=1)
        d.line([(10, 10 + nr * rh), (10 + nc * cw, 10 + nr * rh)], fill=ink, width=2)
    return img


def draw_photogrid(rng: random.Random, ctx: dict) -> Image.Image:
    nr, nc = rng.randint(1, 4), rng.randint(2, 6)
    cell = rng.randint(50, 110)
    pad = rng.randint(0, 10)
    caps = rng.random() < 0.4
    w = nc * (cell + pad) + pad
    h = nr * (cell + pad + (16 if caps else 0)) + pad
    img = Image.new("RGB", (w, h), (255, 255, 255))
    d = ImageDraw.Draw(img)
    f = _rfont(rng, 11)
    for r in range(nr):
        for c in range(nc):
            x = pad + c * (cell + pad)
            y = pad + r * (cell + pad + (16 if caps else 0))
            img.paste(_photo(rng, (cell, cell)), (x, y))
            if caps:
                d.text((x + cell / 2, y + cell + 8), f"({chr(97 + (r * nc + c) % 26)})", font=f, fill=(0, 0, 0),
                       anchor="mm")
    return img


DRAW = {"neurons": draw_neurons, "box2d": draw_box2d, "stacked2d": draw_stacked2d, "box3d": draw_box3d,
        "pipeline": draw_pipeline, "simulated": draw_simulated, "line": draw_line, "bar": draw_bar,
        "scatter": draw_scatter, "confusion": draw_confusion, "heatmap": draw_heatmap, "photogrid": draw_photogrid,
        "tsne": draw_tsne, "equation": draw_equation, "table": draw_table}


# ----------------------------------------------------------------------------- degradations, writing

def degrade(img: Image.Image, rng: random.Random, p: float) -> Image.Image:
    """With probability `p`, one scan/print artefact (the same for every kind):
    a lower resolution, JPEG, blur, noise, a slight rotation or grey levels."""
    if rng.random() >= p:
        return img
    what = rng.choice(["scale", "jpeg", "blur", "noise", "rotate", "grey"])
    if what == "scale":
        f = rng.uniform(0.4, 0.8)
        small = img.resize((max(8, int(img.width * f)), max(8, int(img.height * f))), Image.BILINEAR)
        return small.resize(img.size, Image.BILINEAR)
    if what == "jpeg":
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=rng.randint(20, 70))
        buf.seek(0)
        with Image.open(buf) as im:
            return im.convert("RGB")
    if what == "blur":
        return img.filter(ImageFilter.GaussianBlur(rng.uniform(0.5, 1.5)))
    if what == "noise":
        nrng = np.random.default_rng(rng.getrandbits(32))
        a = np.asarray(img, dtype=np.int16) + nrng.normal(0, rng.uniform(4, 14), (img.height, img.width, 1))
        return Image.fromarray(a.clip(0, 255).astype(np.uint8))
    if what == "rotate":
        return img.rotate(rng.uniform(-2, 2), resample=Image.BILINEAR, expand=True, fillcolor=(255, 255, 255))
    return img.convert("L").convert("RGB")


def draw_figure(kind: str, index: int, seed: int, ctx: dict | None = None) -> Image.Image:
    """Image `index` of `kind` for `seed` (deterministic)."""
    if kind not in DRAW:
        raise ValueError(f"unknown figure kind {kind!r}; kinds: {', '.join(KINDS)}")
    ctx = ctx if ctx is not None else {}
    ctx["source"] = "render" if kind == SIMULATED else "draw"
    rng = random.Random(_seed_int("figclass", seed, kind, index))
    img = DRAW[kind](rng, ctx)
    max_side = ctx.get("max_side", 1600)
    if max(img.size) > max_side:
        s = max_side / max(img.size)
        img = img.resize((max(8, int(img.width * s)), max(8, int(img.height * s))), Image.LANCZOS)
    return degrade(img, rng, ctx.get("degrade_p", 0.3))


def render_context(render_styles: dict | None, simulated_styles=("keras3", "keras2", "caffe"),
                   box2d_render_style: str | None = "varied", box2d_render_share: float = 0.5,
                   degrade_p: float = 0.3) -> dict:
    """The drawing context from params.yaml's render.styles."""
    styles = dict(render_styles or {})
    missing = [s for s in list(simulated_styles) + ([box2d_render_style] if box2d_render_style else [])
               if s not in styles]
    if missing:
        raise ValueError(f"render style(s) {missing} are not defined in render.styles ({sorted(styles)})")
    return {"simulated_knobs": {s: styles[s] for s in simulated_styles},
            "box2d_render_knobs": styles[box2d_render_style] if box2d_render_style else None,
            "box2d_render_share": box2d_render_share, "degrade_p": degrade_p}


def write_kind(out_dir, kind: str, n: int, seed: int, ctx: dict | None = None, progress=None) -> list[dict]:
    """Draw `n` images of `kind` into `out_dir` (PNG) with a manifest.csv; return the rows."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ctx = dict(ctx or {})
    ctx["tmp"] = out_dir / ".render_tmp.png"
    rows = []
    for i in range(n):
        img = draw_figure(kind, i, seed, ctx)
        name = f"{kind}_{i:05d}.png"
        buf = io.BytesIO()
        img.save(buf, "PNG", compress_level=6)
        data = buf.getvalue()
        (out_dir / name).write_bytes(data)
        rows.append({"file": name, "kind": kind, "label": label_of(kind),
                     "source": ctx["source"],
                     "index": i, "width": img.width, "height": img.height,
                     "sha256": hashlib.sha256(data).hexdigest()})
        if progress and (i + 1) % 20 == 0:
            progress(f"{kind}: {i + 1}/{n}")
    with open(out_dir / MANIFEST, "w", newline="") as fh:
        wr = csv.DictWriter(fh, fieldnames=MANIFEST_FIELDS)
        wr.writeheader()
        wr.writerows(rows)
    return rows


def read_manifest(folder) -> list[dict]:
    folder = Path(folder)
    path = folder / MANIFEST
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no figure manifest (run the figclass_figures rule)")
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    for r in rows:
        r["path"] = str(folder / r["file"])
    return rows
