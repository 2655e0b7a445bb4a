"""Meaning of a box's text: layer name, layer type, hyper-parameters, shapes.

Layer types are matched with rapidfuzz against every name a type goes by:
our canonical types, the vocabulary's synonyms and type aliases
(config/layers.yaml), the Keras class each type is built with (the Keras
template) and the Caffe type a Caffe diagram shows (the Caffe template).
A Keras layer name (``max_pooling2d_3``) is a second witness of the type.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

_SHAPE = re.compile(r"\(\s*None\s*[,.]?\s*([0-9][0-9 ,.]*)?\)", re.IGNORECASE)
_NUM = re.compile(r"\d+")


@dataclass
class Lexicon:
    surface: dict[str, tuple[str, dict]]        # normalised surface -> (type, implied params)
    keras: dict[str, str]                       # type -> Keras class
    caffe: dict[str, str]                       # type -> Caffe type shown
    stems: dict[str, str]                       # Keras layer-name stem -> type
    keys: list[str] = field(default_factory=list)
    stem_keys: list[str] = field(default_factory=list)


def norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


@functools.lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    from ..render.looks import caffe_type
    from ..core.graph import Node
    from ..simulate.grammar import keras_class_names, snake_case
    from ..core.vocab import load_vocabulary

    vocab = load_vocabulary()
    surface: dict[str, tuple[str, dict]] = {}
    keras = keras_class_names()
    caffe: dict[str, str] = {}
    stems: dict[str, str] = {}

    def add(text: str, ltype: str, params: dict | None = None, override: bool = False):
        k = norm(text)
        if k and (override or k not in surface):
            surface[k] = (ltype, dict(params or {}))

    for ltype in vocab.layers:
        add(ltype, ltype)
    claimed: set[str] = set()
    for ltype, cls in keras.items():
        # two types built by one Keras class (GroupNorm, InstanceNorm: GroupNormalization): the first, the
        # class's own namesake, keeps the name
        if norm(cls) in claimed:
            continue
        claimed.add(norm(cls))
        add(cls, ltype, override=True)
        stems[snake_case(cls)] = ltype
    for ltype in vocab.layers:
        try:
            ct = caffe_type(Node("x", ltype, {}, [], ltype, None, {}))
        except Exception:  # noqa: BLE001 - a template without a Caffe entry
            continue
        caffe[ltype] = ct
        if ct == "Pooling":
            continue
        if ct not in ("Convolution", "Deconvolution", "Split") or ltype in ("Conv2D", "Conv2DTranspose"):
            add(ct, ltype, override=ltype in ("Conv2D", "Conv2DTranspose", "Dense", "Input", "Concat",
                                                "Embedding", "SimpleRNN"))
    add("Pooling MAX", "MaxPool2D", override=True)
    add("Pooling AVE", "AvgPool2D", override=True)
    add("Pooling", "MaxPool2D")
    for alias, spec in vocab.type_aliases.items():
        if "type" in spec:
            add(alias, spec["type"], spec.get("params"))
    for ltype, spec in vocab.layers.items():
        for syn in spec.synonyms:
            add(syn, ltype)
    lex = Lexicon(surface, keras, caffe, stems)
    lex.keys = list(surface)
    lex.stem_keys = list(stems)
    return lex


def match_type(raw: str, cutoff: float = 72.0) -> tuple[str | None, dict, float]:
    """(type, implied params, score 0-100) of a type word read by OCR."""
    lex = lexicon()
    k = norm(raw)
    if not k:
        return None, {}, 0.0
    if k in lex.surface:
        t, p = lex.surface[k]
        return t, dict(p), 100.0
    hit = process.extractOne(k, lex.keys, scorer=fuzz.ratio, score_cutoff=cutoff)
    if hit is None:
        return None, {}, 0.0
    t, p = lex.surface[hit[0]]
    return t, dict(p), float(hit[1])


def match_name(name: str, cutoff: float = 80.0) -> tuple[str | None, float]:
    """Type implied by a Keras-style layer name (conv2d_3 -> Conv2D)."""
    lex = lexicon()
    stem = re.sub(r"[_\s]*\d+$", "", name.strip().lower())
    stem = re.sub(r"[^a-z0-9_]", "", stem)
    if not stem:
        return None, 0.0
    if stem in lex.stems:
        return lex.stems[stem], 100.0
    hit = process.extractOne(stem, lex.stem_keys, scorer=fuzz.ratio, score_cutoff=cutoff)
    if hit is None:
        return None, 0.0
    return lex.stems[hit[0]], float(hit[1])


def parse_shapes(text: str) -> list[tuple[int, ...]]:
    """Every '(None, a, b, ...)' in the text, in order."""
    out = []
    for m in _SHAPE.finditer(text.replace("{", "(").replace("}", ")")):
        nums = tuple(int(n) for n in _NUM.findall(m.group(1) or ""))
        out.append(nums)
    return out


_CAFFE_PARAMS = {
    "kernel": re.compile(r"kern[a-z]*\s*s[il1]ze\s*[:;.]?\s*(\d+)", re.IGNORECASE),
    "stride": re.compile(r"str[il1]de\s*[:;.]?\s*(\d+)", re.IGNORECASE),
    "pad": re.compile(r"pad\s*[:;.]?\s*(\d+)", re.IGNORECASE),
}


@dataclass
class Reading:
    """What one box says."""
    text: str = ""
    name: str | None = None
    type_raw: str | None = None
    layer_type: str | None = None
    implied: dict = field(default_factory=dict)
    type_score: float = 0.0
    name_type: str | None = None
    style: str | None = None            # keras3 | keras2 | caffe (what the text looks like)
    in_shapes: list[tuple[int, ...]] | None = None
    out_shape: tuple[int, ...] | None = None
    caffe: dict = field(default_factory=dict)
    confidence: float = 0.0


def read_box(cells: list[tuple[str, str, tuple[int, int, int, int]]]) -> Reading:
    """Interpret a box from its cells: (kind, text, box) with kind 'panel'
    (light text on dark: a Keras 3 header) or 'interior'."""
    r = Reading()
    texts = [c[1] for c in cells if c[1].strip()]
    r.text = "\n".join(texts)
    full = " ".join(t.replace("\n", " ") for t in texts)
    # dark header panels, the largest first (a header may also be found cut in two)
    panel = sorted((c for c in cells if c[0] == "panel" and c[1].strip()),
                   key=lambda c: -(c[2][2] - c[2][0]) * (c[2][3] - c[2][1]))
    if panel:
        r.style = "keras3"
    # Keras 3 shape cells
    in_cell = [c for c in cells if re.match(r"\s*[il1]nput\s*shape", c[1], re.IGNORECASE)]
    out_cell = [c for c in cells if re.match(r"\s*[o0]utput\s*shape", c[1], re.IGNORECASE)]
    if in_cell or out_cell:
        r.style = "keras3"
        if in_cell:
            r.in_shapes = parse_shapes(in_cell[0][1])
        if out_cell:
            shapes = parse_shapes(out_cell[0][1])
            r.out_shape = shapes[0] if shapes else None
    # Keras 2 record: 'input:' / 'output:' label cells and shape cells
    lab_in = [c for c in cells if re.fullmatch(r"\s*[il1]nput\s*[:;.]?\s*", c[1], re.IGNORECASE)]
    lab_out = [c for c in cells if re.fullmatch(r"\s*[o0]utput\s*[:;.]?\s*", c[1], re.IGNORECASE)]
    shape_cells = [c for c in cells if parse_shapes(c[1]) and c not in in_cell and c not in out_cell]
    if (lab_in or lab_out) and shape_cells:
        r.style = "keras2"
        _keras2_shapes(r, lab_in, lab_out, shape_cells)
    # name and type
    candidates = [c[1] for c in panel]
    for c in cells:
        t = c[1].strip()
        if not t or c in in_cell or c in out_cell or c in lab_in or c in lab_out or c in shape_cells:
            continue
        if c[0] == "panel":
            continue
        candidates.append(t)
    name, type_raw = None, None
    # a cell that reads 'name (Type)' outright wins over a scrap of a header
    # cut in two ('out)' above 'dropout_8 (Dropout)')
    clear = [c for c in candidates if _name_type_line(_lines(c))]
    for cand in clear + [c for c in candidates if c not in clear]:
        name, type_raw = _split_name_type(cand)
        if type_raw or name:
            break
    # Caffe: kernel size / stride / pad anywhere in the text
    for key, rx in _CAFFE_PARAMS.items():
        m = rx.search(full)
        if m:
            r.caffe[key] = int(m.group(1))
    if r.caffe and r.style is None:
        r.style = "caffe"
    r.name, r.type_raw = name, type_raw
    if type_raw:
        t, implied, score = match_type(type_raw)
        r.layer_type, r.implied, r.type_score = t, implied, score
        if r.style is None and t is not None:
            surface = norm(type_raw)
            lex = lexicon()
            if norm(lex.keras.get(t, "")) == surface and norm(lex.caffe.get(t, "")) != surface:
                r.style = "keras"
            elif norm(lex.caffe.get(t, "")) == surface or surface.startswith("pooling"):
                r.style = "caffe"
    if name:
        r.name_type, _ = match_name(name)
    if r.name_type is not None and type_raw and (r.layer_type is None or r.type_score < 80):
        # a garbled type word: the Keras-style layer name decides
        r.layer_type, r.implied, r.type_score = r.name_type, {}, 60.0
    r.confidence = r.type_score / 100.0
    return r


_NAME_TYPE = re.compile(r"(?P<name>[A-Za-z_][A-Za-z0-9_.\-]*)\s*\(\s*(?P<type>[A-Za-z][A-Za-z0-9 _]*?)\s*\)")


def _lines(text: str) -> list[str]:
    """A label's non-empty lines, OCR spaces around underscores closed ('max _pooling2d')."""
    text = re.sub(r"\s*_\s*", "_", text.strip())
    return [ln.strip() for ln in text.split("\n") if ln.strip()]


def _name_type_line(lines: list[str]) -> re.Match | None:
    """The first line that starts 'name (Type)'."""
    for line in lines:
        m = _NAME_TYPE.match(line)
        if m:
            return m
    return None


def _split_name_type(text: str) -> tuple[str | None, str | None]:
    """(layer name, type word) of a label: 'name (Type)', 'name: Class',
    'name' over '(Type)' (Caffe, left to right), or a bare name (a blob)."""
    lines = _lines(text)
    if not lines:
        return None, None
    m = _name_type_line(lines)
    if m:
        return _clean_name(m.group("name")), m.group("type").strip() or None
    joined = " ".join(lines)
    # name [words] (Type ...), on one line or two, possibly followed by Caffe
    # parameters; the closing parenthesis may be lost
    for k, line in enumerate(lines[:3]):
        if "(" in line:
            before, after = line.split("(", 1)
            name = " ".join(lines[:k] + [before]).strip()
            m = re.match(r"\s*(?P<type>[A-Za-z][A-Za-z0-9 _]*)", after)
            if name and ":" not in name and m:
                return _clean_name(name), m.group("type").strip() or None
            break
    m = re.match(r"^(?P<name>[^:;(]+?)\s*[:;]\s*(?P<type>[A-Za-z0-9_]+)", joined)
    if m:
        return _clean_name(m.group("name")), m.group("type")
    if len(lines) >= 2 and len(lines[0].split()) <= 2:
        # name over a type whose parenthesis was misread ('Tinput)')
        second = re.sub(r"^[^A-Za-z]*|[^A-Za-z0-9 ]+$", "", lines[1]).strip()
        return _clean_name(lines[0]), second or None
    words = joined.split()
    if len(words) == 1 or (len(lines) == 1 and len(words) <= 2):
        return _clean_name(joined), None
    return None, None


def _clean_name(name: str) -> str:
    """Keras and Caffe names have no spaces: OCR turns '_' into ' ' at times."""
    name = re.sub(r"\s+", "_", name.strip())
    return re.sub(r"[^A-Za-z0-9_.\-/]", "", name)


def _keras2_shapes(r: Reading, lab_in, lab_out, shape_cells) -> None:
    """Pair the shape cells with the 'input:' / 'output:' cells: the shape on
    the same row (or column, in a flipped record) as its label."""
    def centre(b):
        return ((b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0)

    if lab_in and lab_out:
        (ix, iy), (ox, oy) = centre(lab_in[0][2]), centre(lab_out[0][2])
        axis = 1 if abs(oy - iy) >= abs(ox - ix) else 0
        a_in, a_out = (iy, oy) if axis else (ix, ox)
        for c in shape_cells:
            v = centre(c[2])[axis]
            shapes = parse_shapes(c[1])
            if abs(v - a_out) < abs(v - a_in):
                r.out_shape = shapes[0] if shapes else None
            else:
                r.in_shapes = shapes
    elif len(shape_cells) == 1:
        shapes = parse_shapes(shape_cells[0][1])
        r.out_shape = shapes[0] if shapes else None
