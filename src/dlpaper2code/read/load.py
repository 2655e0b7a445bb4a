"""Load an image given as a path, bytes or an array; refuse what is not one."""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np

MAX_PIXELS = 50_000_000        # the widest simulated diagrams (40 layers, Caffe look, LR) are about 42 Mpx
MAX_SIDE = 60_000
MIN_SIDE = 16


class ImageProblem(Exception):
    """The input is not an image this reader can use; the message says why."""


def describe_source(image, source: str | None) -> str:
    if source:
        return str(source)
    if isinstance(image, (str, Path)):
        return str(image)
    if isinstance(image, (bytes, bytearray, memoryview)):
        return f"<{len(image)} bytes>"
    if isinstance(image, np.ndarray):
        return f"<array {'x'.join(map(str, image.shape))} {image.dtype}>"
    return f"<{type(image).__name__}>"


def load_image(image) -> np.ndarray:
    """BGR uint8 array of the image; ImageProblem with a clear reason otherwise."""
    if isinstance(image, np.ndarray):
        return _from_array(image)
    if isinstance(image, (str, Path)):
        path = Path(image)
        if not path.exists():
            raise ImageProblem("file not found")
        if path.is_dir():
            raise ImageProblem("is a directory, not an image file")
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ImageProblem(f"cannot read the file: {exc.strerror or exc}") from None
    elif isinstance(image, (bytes, bytearray, memoryview)):
        data = bytes(image)
    else:
        raise ImageProblem(f"expected a path, bytes or a numpy array, got {type(image).__name__}")
    if not data:
        raise ImageProblem("the file is empty")
    return _decode(data)


def _decode(data: bytes) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as im:
            w, h = im.size
            fmt = im.format
            _check_size(w, h)
            try:
                im.load()
            except (OSError, SyntaxError, ValueError) as exc:
                raise ImageProblem(f"the {fmt} data is damaged or truncated ({exc})") from None
            if im.mode in ("RGBA", "LA", "P", "PA"):
                im = im.convert("RGBA")
                bg = Image.new("RGBA", im.size, (255, 255, 255, 255))
                bg.alpha_composite(im)
                im = bg
            rgb = np.asarray(im.convert("RGB"))
    except ImageProblem:
        raise
    except UnidentifiedImageError:
        raise ImageProblem("not an image (unknown file format)") from None
    except Image.DecompressionBombError as exc:
        if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
            w, h = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
            _check_size(w, h)
        raise ImageProblem(f"image too large: {exc}") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageProblem(f"cannot decode the image: {exc}") from None
    return np.ascontiguousarray(rgb[:, :, ::-1])


def _check_size(w: int, h: int) -> None:
    if w < MIN_SIDE or h < MIN_SIDE:
        raise ImageProblem(f"image is {w} x {h} pixels, too small to hold a diagram")
    if w > MAX_SIDE or h > MAX_SIDE or w * h > MAX_PIXELS:
        raise ImageProblem(f"image is {w} x {h} pixels ({w * h / 1e6:.1f} Mpx); the reader takes at most "
                           f"{MAX_SIDE} pixels a side and {MAX_PIXELS / 1e6:.0f} Mpx")


def _from_array(arr: np.ndarray) -> np.ndarray:
    if arr.ndim == 2:
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    if arr.ndim != 3 or arr.shape[2] not in (1, 3, 4):
        raise ImageProblem(f"array of shape {arr.shape} is not an image (want H x W, H x W x 3 or H x W x 4)")
    _check_size(arr.shape[1], arr.shape[0])
    if arr.shape[2] == 1:
        arr = np.repeat(arr, 3, axis=2)
    if arr.shape[2] == 4:
        a = arr[:, :, 3:4].astype(np.float32) / (255.0 if arr.dtype == np.uint8 else 1.0)
        rgb = arr[:, :, :3].astype(np.float32)
        full = 255.0 if arr.dtype == np.uint8 else 1.0
        arr = rgb * a + full * (1 - a)
    if arr.dtype != np.uint8:
        a = arr.astype(np.float64)
        if not np.isfinite(a).all():
            raise ImageProblem("array holds NaN or infinite values")
        if a.max() <= 1.0:
            a = a * 255.0
        arr = np.clip(a, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(arr[:, :, :3])
