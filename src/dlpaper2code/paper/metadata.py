"""A paper's title, authors and arXiv id, read from its PDF.

The title is the document information's ``Title`` unless that is junk (a file name,
"untitled", "Microsoft Word - x.docx", a temporary name), else the largest upright text near
the top of page 1 (its lines joined).  The authors are the document information's ``Author``,
else the lines just under the title on page 1, before the abstract or the affiliations.  The
arXiv id is taken from the first page's text (the arXiv stamp ``arXiv:1512.03385v1``), else
from the file name.  :func:`read_metadata` never raises: what cannot be read stays None / [].
"""
from __future__ import annotations

import re
import unicodedata
from pathlib import Path

_ARXIV_TEXT = re.compile(r"arXiv\s*:\s*(\d{4}\.\d{4,5}(?:v\d+)?|[a-z][a-z.-]*(?:\.[A-Z]{2})?/\d{7}(?:v\d+)?)", re.I)
_ARXIV_NAME = re.compile(r"(?<![\d.])(\d{4}\.\d{4,5}(?:v\d+)?)(?![\d])")
_JUNK_TITLE = re.compile(
    r"""^(untitled.*|microsoft\s+(word|powerpoint)\s*-.*|.*\.(pdf|docx?|tex|dvi|ps|rtf|odt)|tmp[\w-]*|
        title|paper\s*title|no\s*title|document\d*|arxiv:.*|\W*|\d[\d\s.v-]*)$""", re.I | re.X)
_NOT_AUTHOR = re.compile(r"abstract|universit|institut|laborator|department|school|college|research|"
                         r"cent(?:er|re)\b|technolog|technical|academy|foundation|"
                         r"inc\.|corp|google|microsoft|facebook|@|http|www\.|\d{3}", re.I)
_JUNK_AUTHORS = {"anonymous", "unknown", "author", "authors", "administrator", "admin", "user", "owner"}
TOP_SHARE = 0.45           # the title is looked for in the top 45 % of page 1


def is_junk_title(title: str | None) -> bool:
    """True for an empty or placeholder title: a file name, "untitled", "Microsoft Word - x.docx"."""
    t = " ".join(str(title or "").split())
    return len(t) < 4 or not re.search(r"[A-Za-z]{2}", t) or bool(_JUNK_TITLE.match(t))


def arxiv_id_from_name(name: str | None) -> str | None:
    """The arXiv id in a file name (``1512.03385v1.pdf``, ``arXiv-1512.03385.pdf``), or None."""
    m = _ARXIV_NAME.search(Path(str(name or "")).name)
    return m.group(1) if m else None


def arxiv_id_from_text(text: str | None) -> str | None:
    m = _ARXIV_TEXT.search(str(text or ""))
    return m.group(1) if m else None


def _clean(text: str) -> str:
    """One line of plain text: NFKC (the ligatures of PDF fonts, "Eﬃcient", become "Efficient";
    full-width and compatibility forms their plain letters), NUL dropped, runs of space joined."""
    return " ".join(unicodedata.normalize("NFKC", str(text)).replace("\x00", "").split())


def _info(path: Path, password: str) -> dict:
    """The document information dictionary, values decoded to str."""
    from pdfminer.pdfdocument import PDFDocument
    from pdfminer.pdfparser import PDFParser
    from pdfminer.pdftypes import resolve1
    from pdfminer.utils import decode_text

    out: dict = {}
    with open(path, "rb") as fh:
        doc = PDFDocument(PDFParser(fh), password=password)
        for info in doc.info or []:
            for key, val in (resolve1(info) or {}).items():
                val = resolve1(val)
                if isinstance(val, bytes):
                    val = decode_text(val)
                if isinstance(val, str) and _clean(val):
                    out[str(key)] = _clean(val)
    return out


def _first_page_lines(path: Path, password: str) -> tuple[list[dict], float, str]:
    """Page 1's horizontal text lines ({text, size, top}) of upright characters, the page height,
    and the page's whole text (for the arXiv stamp, which is often rotated)."""
    from pdfminer.high_level import extract_pages
    from pdfminer.layout import LAParams, LTChar, LTTextContainer, LTTextLine

    lines: list[dict] = []
    texts: list[str] = []
    rotated: list = []         # characters of rotated text (the arXiv stamp runs up the left margin)
    height = 0.0
    for page in extract_pages(str(path), password=password, maxpages=1, laparams=LAParams()):
        height = float(page.height)

        def walk(obj):
            if isinstance(obj, LTTextLine):
                texts.append(obj.get_text())
                chars = [c for c in obj if isinstance(c, LTChar)]
                rotated.extend(c for c in chars if not c.upright or abs(c.matrix[1]) > 1e-6)
                upright = [c for c in chars if c.upright and abs(c.matrix[1]) < 1e-6 and abs(c.matrix[2]) < 1e-6]
                if chars and len(upright) >= 0.8 * len(chars):
                    sizes = sorted(round(c.size, 1) for c in upright if c.get_text().strip())
                    text = _clean(obj.get_text())
                    if sizes and text:
                        lines.append({"text": text, "size": sizes[len(sizes) // 2], "top": float(obj.y1),
                                      "bottom": float(obj.y0)})
            elif isinstance(obj, LTTextContainer) or hasattr(obj, "__iter__"):
                for child in obj:
                    walk(child)

        walk(page)
        break
    up = "".join(c.get_text() for c in sorted(rotated, key=lambda c: (round(c.x0), c.y0)))
    texts += [up, up[::-1]]
    return lines, height, "\n".join(texts)


def _title_from_lines(lines: list[dict], height: float) -> tuple[str | None, list[dict]]:
    """The largest text near the top (lines within 0.5 pt of the largest size, adjacent), and the
    lines below it in reading order."""
    top = [ln for ln in lines if ln["top"] >= height * (1 - TOP_SHARE) and not _ARXIV_TEXT.search(ln["text"])
           and len(ln["text"]) >= 3]
    if not top:
        return None, []
    biggest = max(ln["size"] for ln in top)
    body = sorted((ln["size"] for ln in lines), key=lambda s: s)[len(lines) // 2]
    if biggest <= body + 0.2 and len(lines) > 3:   # nothing stands out above the body text
        return None, []
    big = sorted((ln for ln in top if ln["size"] >= biggest - 0.5), key=lambda ln: -ln["top"])
    chosen = [big[0]]
    for ln in big[1:]:          # the title's lines follow one another (at most ~2.2 line heights apart)
        if chosen[-1]["bottom"] - ln["top"] <= 2.2 * biggest:
            chosen.append(ln)
        else:
            break
    title = _clean(" ".join(ln["text"] for ln in chosen))
    title = re.sub(r"(\w)- (\w)", r"\1\2", title)   # a word hyphenated across lines
    below = sorted((ln for ln in lines if ln["top"] <= chosen[-1]["bottom"] + 0.5), key=lambda ln: -ln["top"])
    return title, below


def _authors_from_lines(below: list[dict]) -> list[str]:
    """Names in the first lines under the title, up to the abstract or an affiliation."""
    names: list[str] = []
    for ln in below[:4]:
        text = ln["text"]
        if _NOT_AUTHOR.search(text):
            break
        for part in re.split(r",|;|\band\b|&|\u2217|\*|\u2020|\u2021", text):
            part = _clean(re.sub(r"[\d\u00b9\u00b2\u00b3\u2070-\u2079]+", " ", part))
            words = part.split()
            if 2 <= len(words) <= 4 and all(w[:1].isupper() for w in words) and re.fullmatch(r"[\w.' -]+", part):
                names.append(part)
        if not names:
            break
    return names


def _split_authors(value: str) -> list[str]:
    parts = re.split(r";|,|\band\b|&", value)
    return [p for p in (_clean(x) for x in parts) if p]


def read_metadata(pdf: str | Path, *, password: str = "", file_name: str | None = None) -> dict:
    """``{title, authors, arxiv_id, source}`` for a PDF; ``source`` says where each came from
    (``document info``, ``first page``, ``file name``; None when not found).  ``file_name``: the
    name the user gave the file (an upload is stored under a temporary one)."""
    pdf = Path(pdf)
    meta: dict = {"title": None, "authors": [], "arxiv_id": None,
                  "source": {"title": None, "authors": None, "arxiv_id": None}}
    try:
        info = _info(pdf, password)
    except Exception:  # noqa: BLE001 - a damaged info dictionary leaves the fields to the page
        info = {}
    title = info.get("Title")
    if title and not is_junk_title(title):
        meta["title"], meta["source"]["title"] = title, "document info"
    author = info.get("Author") or ""
    if author and not is_junk_title(author) and author.lower() not in _JUNK_AUTHORS:
        meta["authors"], meta["source"]["authors"] = _split_authors(author), "document info"
    # page 1 is always read: the arXiv stamp is on it
    text = ""
    try:
        lines, height, text = _first_page_lines(pdf, password)
    except Exception:  # noqa: BLE001 - an unreadable first page leaves the fields empty
        lines, height = [], 0.0
    page_title, below = _title_from_lines(lines, height) if lines else (None, [])
    if meta["title"] is None and page_title and not is_junk_title(page_title):
        meta["title"], meta["source"]["title"] = page_title[:500], "first page"
    if not meta["authors"] and page_title:
        names = _authors_from_lines(below)
        if names:
            meta["authors"], meta["source"]["authors"] = names, "first page"
    arxiv = arxiv_id_from_text(text)
    if arxiv:
        meta["arxiv_id"], meta["source"]["arxiv_id"] = arxiv, "first page"
    else:
        for name in (file_name, pdf.name):
            arxiv = arxiv_id_from_name(name)
            if arxiv:
                meta["arxiv_id"], meta["source"]["arxiv_id"] = arxiv, "file name"
                break
    if meta["title"]:
        meta["title"] = _clean(meta["title"])
    meta["authors"] = [_clean(a) for a in meta["authors"]]
    return meta
