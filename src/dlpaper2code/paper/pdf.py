"""Open and validate a paper PDF: every bad input becomes a :class:`PaperError`.

``open_paper(path, max_pages=..., max_bytes=..., password=...)`` checks, in this
order, before any layout work: the file exists and is a regular file; its size
is within ``max_bytes``; it starts with ``%PDF-`` (within the first 1024 bytes,
as readers allow); it ends with an ``%%EOF`` marker (a truncated download does
not); pdfminer can parse its cross-reference table and trailer; it is not
encrypted with a user password (an owner-only password, i.e. an empty user
password, is decrypted and the paper opens, with ``encrypted=True``); it has at
least one page and no more than ``max_pages``.  Pages without a text layer
(scanned) are found during layout (:func:`dlpaper2code.paper.layout.read_layout`)
and listed in ``Paper.scanned_pages``; :func:`require_text` turns "no page has
text" into an error for callers that cannot OCR.

The message of every error names the file and the problem; ``PaperError.kind``
is one of :data:`ERROR_KINDS` so a batch can record the reason and go on.

Page rendering lives here too, with the PDF access: :func:`render_page` (poppler,
cached: figure crops, table crops and OCR share one rendering) and
:func:`crop_boxes`.  This module imports nothing else of :mod:`dlpaper2code.paper`.
"""
from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from pathlib import Path

ERROR_KINDS = {
    "missing": "the file does not exist or is not a regular file",
    "too_large": "the file is larger than the size limit",
    "not_pdf": "the file does not start with a PDF header",
    "truncated": "the file ends before the PDF's end-of-file marker",
    "corrupt": "the PDF structure (cross-reference table, trailer, page tree) cannot be parsed",
    "encrypted": "the PDF needs a user password to open",
    "no_pages": "the PDF has no pages",
    "too_many_pages": "the PDF has more pages than the page limit",
    "no_text": "no page has a text layer (a scanned paper; OCR is needed)",
    "ocr_failed": "Tesseract could not read a scanned page",
    "internal": "an unexpected error while processing the paper (a bug: the message says where)",
}

DEFAULT_MAX_PAGES = 200
DEFAULT_MAX_BYTES = 64 * 1024 * 1024


class PaperError(Exception):
    """A paper that cannot be read; ``kind`` is a key of ERROR_KINDS."""

    def __init__(self, path, kind: str, detail: str):
        self.path = str(path)
        self.kind = kind
        self.detail = detail
        super().__init__(f"{self.path}: {detail} [{kind}]")


@dataclass
class Paper:
    path: Path
    n_pages: int
    n_bytes: int
    encrypted: bool
    password: str
    page_sizes: list[tuple[float, float]] = field(default_factory=list)
    scanned_pages: list[int] = field(default_factory=list)   # 1-based; filled by read_layout
    ocr_pages: list[int] = field(default_factory=list)       # scanned pages read by Tesseract
    unreadable_pages: list[int] = field(default_factory=list)  # a text layer of unmapped glyphs (read as scans)

    def to_json(self) -> dict:
        return {"path": str(self.path), "pages": self.n_pages, "bytes": self.n_bytes,
                "encrypted": self.encrypted, "scanned_pages": list(self.scanned_pages),
                "ocr_pages": list(self.ocr_pages), "unreadable_pages": list(self.unreadable_pages)}


def _human(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def open_paper(path, *, max_pages: int | None = DEFAULT_MAX_PAGES, max_bytes: int | None = DEFAULT_MAX_BYTES,
               password: str = "") -> Paper:
    """Validate `path` and return a :class:`Paper`; raise PaperError for bad input."""
    path = Path(path)
    if not path.is_file():
        raise PaperError(path, "missing", "no such file" if not path.exists() else "not a regular file")
    size = path.stat().st_size
    if max_bytes is not None and size > max_bytes:
        raise PaperError(path, "too_large", f"file is {_human(size)}, over the limit of {_human(max_bytes)}")
    if size == 0:
        raise PaperError(path, "not_pdf", "file is empty")
    with open(path, "rb") as fh:
        head = fh.read(1024)
        fh.seek(max(0, size - 2048))
        tail = fh.read()
    if b"%PDF-" not in head:
        what = "HTML" if head.lstrip()[:15].lower().startswith((b"<!doctype", b"<html")) else repr(head[:16])
        raise PaperError(path, "not_pdf", f"not a PDF file (no %PDF- header; starts with {what})")
    if b"%%EOF" not in tail:
        raise PaperError(path, "truncated", f"truncated PDF: no %%EOF marker at the end of its {_human(size)}")

    from pdfminer.pdfdocument import PDFDocument, PDFPasswordIncorrect
    from pdfminer.pdfparser import PDFParser
    from pdfminer.pdftypes import resolve1

    try:
        with open(path, "rb") as fh:
            doc = PDFDocument(PDFParser(fh), password=password)
            encrypted = doc.encryption is not None
            pages_root = resolve1(doc.catalog.get("Pages"))
            count = resolve1(pages_root.get("Count")) if isinstance(pages_root, dict) else None
    except PDFPasswordIncorrect:
        msg = ("encrypted PDF: the password given is wrong" if password
               else "encrypted PDF: a user password is needed to open it")
        raise PaperError(path, "encrypted", msg) from None
    except PaperError:
        raise
    except Exception as exc:   # pdfminer raises many types (PSEOF, PDFSyntaxError, KeyError, ...)
        raise PaperError(path, "corrupt", f"cannot parse the PDF structure ({type(exc).__name__}: {exc})") from None
    if not isinstance(count, int):
        raise PaperError(path, "corrupt", "the page tree has no page count")
    if count <= 0:
        raise PaperError(path, "no_pages", "the PDF has zero pages")
    if max_pages is not None and count > max_pages:
        raise PaperError(path, "too_many_pages", f"the PDF has {count} pages, over the limit of {max_pages}")
    return Paper(path=path, n_pages=count, n_bytes=size, encrypted=encrypted, password=password)


def require_text(paper: Paper) -> None:
    """Raise PaperError('no_text') when layout found no page with a text layer."""
    if paper.scanned_pages and len(paper.scanned_pages) == paper.n_pages:
        raise PaperError(paper.path, "no_text",
                         f"no text layer on any of its {paper.n_pages} page(s): a scanned paper, OCR is needed")


def file_size(path) -> int:
    return os.stat(path).st_size


def limits(max_pages, max_bytes) -> dict:
    """open_paper keyword arguments for the limits given (None: open_paper's default)."""
    kw = {}
    if max_pages is not None:
        kw["max_pages"] = max_pages
    if max_bytes is not None:
        kw["max_bytes"] = max_bytes
    return kw


def render_page(paper: Paper, page: int, dpi: int):
    """One page as a PIL image (poppler's pdftoppm through pdf2image); the last few pages
    rendered are kept, so figure crops, table crops and OCR share one rendering (a copy is
    returned: callers may draw on it)."""
    return _render(*_render_key(paper, page, dpi)).copy()


def _render_key(paper: Paper, page: int, dpi: int) -> tuple:
    """The cache key of one rendering: the file as it is now (a rewritten file renders anew)."""
    st = os.stat(paper.path)
    return str(paper.path), st.st_mtime_ns, st.st_size, paper.password, page, dpi


@functools.lru_cache(maxsize=8)          # about 6 MB a page at 150 dpi
def _render(path: str, mtime: int, size: int, password: str, page: int, dpi: int):
    from pdf2image import convert_from_path

    kw = {"userpw": password} if password else {}
    return convert_from_path(path, dpi=dpi, first_page=page, last_page=page, **kw)[0]


@functools.lru_cache(maxsize=8)
def _background(path: str, mtime: int, size: int, password: str, page: int, dpi: int) -> int:
    hist = _render(path, mtime, size, password, page, dpi).convert("L").histogram()
    return max(range(256), key=lambda v: hist[v])


def ink_box(paper: Paper, page: int, box: list[float], dpi: int = 150, tol: int = 24) -> list[float]:
    """`box` (points) shrunk to the ink the page shows inside it: what a drawing puts outside its
    clipping path, or paints in the page's background colour, is not seen, so it is not part of
    the figure.  The box never grows; with no ink inside it is returned as it is."""
    key = _render_key(paper, page, dpi)
    img = _render(*key)
    s = dpi / 72.0
    x0, t, x1, b = (max(0, int(box[0] * s)), max(0, int(box[1] * s)), min(img.width, int(box[2] * s + 0.999)),
                    min(img.height, int(box[3] * s + 0.999)))
    if x1 <= x0 or b <= t:
        return list(box)
    bg = _background(*key)
    part = img.crop((x0, t, x1, b)).convert("L").point(lambda v: 255 if abs(v - bg) > tol else 0)
    bb = part.getbbox()
    if bb is None:
        return list(box)
    new = [(x0 + bb[0]) / s, (t + bb[1]) / s, (x0 + bb[2]) / s, (t + bb[3]) / s]
    return [round(max(box[0], new[0] - 0.5), 2), round(max(box[1], new[1] - 0.5), 2),
            round(min(box[2], new[2] + 0.5), 2), round(min(box[3], new[3] + 0.5), 2)]


def crop_boxes(paper: Paper, items: list[dict], out_dir: Path, dpi: int, pad: float = 2.0) -> None:
    """Crop every item's box (points) from its page rendered at `dpi`; sets item['png']."""
    by_page: dict[int, list[dict]] = {}
    for it in items:
        by_page.setdefault(it["page"], []).append(it)
    for page, its in sorted(by_page.items()):
        img = render_page(paper, page, dpi)
        s = dpi / 72.0
        for it in its:
            x0, t, x1, b = it["box"]
            box = (max(0, int((x0 - pad) * s)), max(0, int((t - pad) * s)),
                   min(img.width, int((x1 + pad) * s + 0.999)), min(img.height, int((b + pad) * s + 0.999)))
            name = f"{it['id']}.png"
            part = img.crop(box)
            if it.get("rotation") in (90, 270):      # a landscape page: the crop upright, as a reader reads it
                part = part.rotate(-90 if it["rotation"] == 90 else 90, expand=True)
            part.save(out_dir / name)
            it["png"] = name
