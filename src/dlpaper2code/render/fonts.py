"""The font files Graphviz draws with, for Pillow to draw the same glyphs.

Graphviz's pango plugin does not hand a font name straight to fontconfig: it
first maps PostScript names through its own table (``Helvetica`` becomes
pango's ``sans``, which is DejaVu Sans on Debian, while ``fc-match
Helvetica`` answers Nimbus Sans).  So the regular face of a font name is
taken from Graphviz itself (``dot -v`` prints ``fontname: "X" resolved to:
... "Family, Style" /path/file``); the bold and italic faces of that family
come from ``fc-match family:weight=bold`` as pango asks fontconfig for them.
Every answer is cached for the life of the process.
"""
from __future__ import annotations

import functools
import re
import subprocess

from PIL import ImageFont

from .gv import dot_program

BOLD, ITALIC = 1, 2                 # xdot "t" (font characteristics) flags

_RESOLVED = re.compile(r'fontname: "(?P<name>.*)" resolved to: .*\(PangoCairoFcFont\) "(?P<desc>[^"]*)" (?P<path>\S.*)$')
FONT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}$")


class FontError(RuntimeError):
    pass


@functools.lru_cache(maxsize=None)
def graphviz_font(name: str) -> tuple[str, str, str]:
    """(family, style, file) Graphviz renders fontname `name` with."""
    if not FONT_NAME.match(name):
        raise FontError(f"bad font name {name!r}")
    dot = f'digraph{{node[fontname="{name}"]; a [label="Ag"]}}'
    proc = subprocess.run([dot_program(), "-v", "-Tjson", "-o", "/dev/null"], input=dot.encode(),
                          capture_output=True, timeout=60)
    for line in proc.stderr.decode(errors="replace").splitlines():
        m = _RESOLVED.search(line.strip())
        if m:
            family, _, style = m.group("desc").partition(",")
            return family.strip(), style.strip(), m.group("path").strip()
    # no pango plugin (or no verbose line): fontconfig's own answer
    path = _fc_match(name)
    return name, "", path


def _fc_match(pattern: str) -> str:
    try:
        proc = subprocess.run(["fc-match", "-f", "%{file}", pattern], capture_output=True, timeout=60)
    except FileNotFoundError:
        raise FontError("fontconfig's fc-match is not installed (apt-get install fontconfig)") from None
    path = proc.stdout.decode(errors="replace").strip()
    if proc.returncode != 0 or not path:
        raise FontError(f"fontconfig found no font for {pattern!r}")
    return path


@functools.lru_cache(maxsize=None)
def font_file(name: str, flags: int = 0) -> str:
    """The file of face `name` with xdot font flags (bold=1, italic=2)."""
    family, style, path = graphviz_font(name)
    flags &= BOLD | ITALIC
    if not flags:
        return path
    pattern = family
    if "condensed" in style.lower():
        pattern += ":width=75"
    if flags & BOLD:
        pattern += ":weight=bold"
    if flags & ITALIC:
        pattern += ":slant=italic"
    return _fc_match(pattern)


@functools.lru_cache(maxsize=512)
def pil_font(path: str, size_px: float) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size=size_px, layout_engine=ImageFont.Layout.BASIC)


def font(name: str, flags: int, size_px: float) -> ImageFont.FreeTypeFont:
    return pil_font(font_file(name, flags), round(size_px, 2))
