"""Architectures stated in a paper's body text.

Owns reading model descriptions out of prose, with rules over the sentences (no model):

* **layer chains** in the paper's own notation, "C(55 × 55 × 96) − LRN − P − C(27 × 27 × 256)
  − ... − F(4096)" or "conv3-64 → max pool → FC-4096": at least four tokens joined by dashes or
  arrows, each a layer the vocabulary names (:func:`.table_graph.parse_cell`) or an abbreviation
  the text defines ("Denote by C a convolutional layer, by P a pooling layer");
  a token's numbers are its size: "55 × 55 × 96" gives 96 channels, "4096" units;
* **layer sentences**: "one hidden layer of 120 ReLU units", "followed by two layers with the
  same structure", "two convolutional layers with 64 filters of size 3 × 3", "max pooling with
  a window of 2 × 2 and stride 2", "a fully connected layer with K neurons", "96 kernels of
  size 11 × 11 × 3 with a stride of 4"; sentences close together (600 characters) make one
  description.

The input size comes from a sentence naming the input ("an input image of 220 × 220", "input
of size 224 × 224 × 3"). Every layer records the page and the words it came from
(``meta.source = "text"``, ``meta.text``, ``meta.page``); a value the text does not state is
not invented. :func:`text_graphs` returns graph documents for the route (``paper.pipeline``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .common import columns
from .table_graph import ChainBuilder, parse_cell

NUMBER_WORDS = {"a": 1, "an": 1, "one": 1, "single": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
                "seven": 7, "eight": 8, "nine": 9, "ten": 10, "twelve": 12}
_TIMES = r"\s*[×x✕*]\s*"
_NUM = r"(\d+|" + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True)) + r")"
# a chain token: a short name with an optional argument list, "C(55 × 55 × 96)", "FC-4096", "conv3-64"
_TOKEN = r"[A-Za-z][A-Za-z0-9_]*(?:-\d+)?(?: [A-Za-z][A-Za-z0-9_]*(?:-\d+)?)?(?:\s*\([^()]{1,40}\))?"
_SEP = r"\s*(?:−|–|—|→|->|⇒|\s-\s)\s*"
CHAIN = re.compile(rf"(?<![\w(])({_TOKEN}(?:{_SEP}{_TOKEN}){{3,}})")
# "Denote by C a convolutional layer, by LRN a ... layer, P a pooling layer and by F a ... layer"
LEGEND = re.compile(r"(?:\bby\s+|,\s*|\band\s+)([A-Z][A-Za-z]{0,5})\s+(?:an?|the)\s+([a-z][a-z \-]{2,50}?)\s+layers?\b")
LEGEND_ALT = re.compile(r"\b([A-Z][A-Za-z]{0,5})\s+(?:denotes|stands for|represents)\s+(?:an?|the)\s+"
                        r"([a-z][a-z \-]{2,50}?)\s+layers?\b")
INPUT = re.compile(rf"\binput\b[^.]{{0,60}}?\b(\d{{2,4}}){_TIMES}(\d{{2,4}})(?:{_TIMES}(\d{{1,2}})\b)?", re.I)
HIDDEN = re.compile(rf"\b{_NUM}\s+(?:fully[- ]connected\s+|dense\s+)?hidden\s+layers?\s+(?:of|with|consists?\s+of|"
                    r"containing|has|having)\s+(\d+)\s+([A-Za-z()\[\] \-]{0,40}?)(?:units?|neurons?|nodes?)\b", re.I)
SAME = re.compile(rf"\bfollowed\s+by\s+{_NUM}\s+(?:more\s+|other\s+)?(?:hidden\s+)?layers?\s+(?:with|of)\s+(?:the\s+)?"
                  r"same\s+(?:structure|size|configuration)", re.I)
ACTIVATION_WORDS = {"relu": "relu", "rectified": "relu", "sigmoid": "sigmoid", "tanh": "tanh", "elu": "elu",
                    "gelu": "gelu", "softmax": "softmax"}
DENSE = re.compile(rf"\b{_NUM}\s+fully[- ]connected\s+layers?\s+(?:with|of)\s+(\d+)\s+(?:units|neurons|nodes)"
                   r"(?:\s+each)?\b", re.I)
CONVS = re.compile(rf"\b{_NUM}\s+convolutional\s+layers?\s+(?:with|of|having)\s+(\d+)\s+(?:filters|kernels|feature\s+maps|"
                   rf"channels)(?:\s+(?:of\s+size|each\s+of\s+size|with\s+(?:a\s+)?kernels?\s+(?:of\s+)?size)\s+(\d+)"
                   rf"(?:{_TIMES}(\d+))?)?(?:[^.]{{0,30}}?\bstride\s+(?:of\s+)?(\d+))?", re.I)
POOLS = re.compile(rf"\b(max|average|avg)[- ]?pooling\s+(?:layer\s+)?(?:with|of|over)\s+(?:a\s+)?(?:size|window|kernel|regions?)"
                   rf"(?:\s+of)?\s+(\d+){_TIMES}(\d+)(?:[^.]{{0,30}}?\bstride\s+(?:of\s+)?(\d+))?", re.I)
KERNELS = re.compile(rf"\b(\d+)\s+(?:kernels|filters)\s+of\s+size\s+(\d+){_TIMES}(\d+)(?:{_TIMES}\d+)?"
                     rf"(?:[^.]{{0,40}}?\bstride\s+of\s+(\d+))?", re.I)


@dataclass
class Passage:
    page: int
    text: str


def page_passages(layouts) -> list[Passage]:
    """The body text of every page in reading order (the left column, then the right one, as
    :func:`.common.columns` finds them; full-width lines with the left), lines joined and words
    broken at a line end re-joined."""
    out = []
    for pg in layouts:
        segs = [s for s in pg.segments if s.text.strip()]
        if not segs:
            continue
        cols = columns(pg)
        right = cols[1][0] - 6 if len(cols) == 2 else None      # where the right column starts
        segs.sort(key=lambda s: (right is not None and s.x0 >= right, s.top, s.x0))
        text = ""
        for s in segs:
            line = " ".join(s.text.split())
            if text.endswith("-") and line[:1].islower() and not text.endswith(" -"):
                text = text[:-1] + line                    # "convolu-" + "tional"
            else:
                text = f"{text} {line}" if text else line
        out.append(Passage(pg.number, text))
    return out


def _count(word: str) -> int:
    return int(word) if word.isdigit() else NUMBER_WORDS.get(word.lower(), 1)


def _legend(text: str) -> dict[str, tuple[str, dict]]:
    """Abbreviations the text defines: "Denote by C a convolutional layer, by LRN a local response
    normalization layer" -> {"C": Conv2D, "LRN": LRN}."""
    out = {}
    for pattern in (LEGEND, LEGEND_ALT):
        for m in pattern.finditer(text):
            parsed = parse_cell(m.group(2))
            if len(parsed["layers"]) == 1 and not parsed["unknown"]:
                out[m.group(1)] = (parsed["layers"][0]["type"], dict(parsed["layers"][0]["params"]))
    return out


def _token_layer(token: str, legend: dict) -> dict | None:
    """One chain token -> {"type", "params"} or None when it names no layer (a two-word token
    that does not, e.g. "is conv3-32" at the chain's start, is tried by its last word)."""
    found = _one_token(token, legend)
    head, _, rest = token.strip().partition(" ")
    if found is None and rest and "(" not in head:
        found = _one_token(rest, legend)
    return found


def _one_token(token: str, legend: dict) -> dict | None:
    m = re.fullmatch(r"([A-Za-z][A-Za-z0-9_]*)\s*(?:\(([^()]*)\))?", token.strip())
    if m and m.group(1) in legend:
        ltype, params = legend[m.group(1)]
        params = dict(params)
        nums = [int(n) for n in re.findall(r"\d+", m.group(2) or "")]
        if nums:
            key = {"Conv2D": "filters", "Dense": "units", "Conv2DTranspose": "filters"}.get(ltype)
            if key:
                params[key] = nums[-1]             # "55 × 55 × 96": the last number is the depth
        return {"type": ltype, "params": params}
    parsed = parse_cell(token.replace("(", " ").replace(")", " "))
    if len(parsed["layers"]) == 1 and not parsed["unknown"]:
        lay = parsed["layers"][0]
        params = dict(lay["params"])
        if lay.get("kernel") and lay["type"] == "Conv2D":
            params.setdefault("kernel_size", lay["kernel"])
        if lay.get("numbers"):
            key = {"Conv2D": "filters", "Dense": "units"}.get(lay["type"])
            if key:
                params.setdefault(key, lay["numbers"][-1])
        return {"type": lay["type"], "params": params}
    return None


def _chains(passage: Passage, legend: dict) -> list[dict]:
    out = []
    for m in CHAIN.finditer(passage.text):
        tokens = [t for t in re.split(_SEP, m.group(1)) if t.strip()]
        layers = [_token_layer(t, legend) for t in tokens]
        known = [lay for lay in layers if lay is not None]
        if len(known) >= 4 and len(known) >= 0.75 * len(tokens):
            out.append({"page": passage.page, "text": m.group(1), "layers": known, "kind": "chain",
                        "defined": sorted({t.split("(")[0].strip() for t in tokens} & set(legend))})
    return out


def _sentences(passage: Passage) -> list[dict]:
    """Layer sentences, in the order they appear; consecutive ones describe one model."""
    found = []
    for m in HIDDEN.finditer(passage.text):
        params = {"units": int(m.group(2))}
        words = re.findall(r"[a-z]+", (m.group(3) or "").lower())
        act = next((ACTIVATION_WORDS[w] for w in words if w in ACTIVATION_WORDS), None)
        if act:
            params["activation"] = act
        found.append((m.start(), m.group(0), [{"type": "Dense", "params": params}] * _count(m.group(1))))
    for m in DENSE.finditer(passage.text):
        found.append((m.start(), m.group(0), [{"type": "Dense", "params": {"units": int(m.group(2))}}] * _count(m.group(1))))
    conv_spans = [m.span() for m in CONVS.finditer(passage.text)]
    for m in KERNELS.finditer(passage.text):
        if any(a <= m.start() < b for a, b in conv_spans):      # the same layer, stated by CONVS
            continue
        params = {"filters": int(m.group(1)), "kernel_size": [int(m.group(2)), int(m.group(3))]}
        if m.group(4):
            params["strides"] = int(m.group(4))
        found.append((m.start(), m.group(0), [{"type": "Conv2D", "params": params}]))
    for m in CONVS.finditer(passage.text):
        params = {"filters": int(m.group(2))}
        if m.group(3):
            params["kernel_size"] = [int(m.group(3)), int(m.group(4) or m.group(3))]
        if m.group(5):
            params["strides"] = int(m.group(5))
        found.append((m.start(), m.group(0), [{"type": "Conv2D", "params": params}] * _count(m.group(1))))
    for m in POOLS.finditer(passage.text):
        params = {"pool_size": [int(m.group(2)), int(m.group(3))]}
        if m.group(4):
            params["strides"] = int(m.group(4))
        ltype = "MaxPool2D" if m.group(1).lower() == "max" else "AvgPool2D"
        found.append((m.start(), m.group(0), [{"type": ltype, "params": params}]))
    for m in SAME.finditer(passage.text):
        found.append((m.start(), m.group(0), ("same", _count(m.group(1)))))
    found.sort(key=lambda f: f[0])
    groups, cur, last_end = [], [], -10_000
    for start, words, what in found:
        if cur and start - last_end > 600:                 # far apart: another description
            groups.append(cur)
            cur = []
        if isinstance(what, tuple):                        # "followed by two layers with the same structure"
            if cur:
                prev = cur[-1]["layers"][-1]
                cur.append({"text": words, "layers": [dict(prev, params=dict(prev["params"]))] * what[1]})
        else:
            cur.append({"text": words, "layers": list(what)})
        last_end = start + len(words)
    if cur:
        groups.append(cur)
    out = []
    for g in groups:
        layers = [lay for part in g for lay in part["layers"]]
        if len(layers) >= 2:
            out.append({"page": passage.page, "text": " … ".join(p["text"] for p in g), "layers": layers,
                        "kind": "sentences"})
    return out


def _input_shape(passages: list[Passage], page: int) -> tuple[list[int] | None, str]:
    """The input size stated nearest the description (same page first)."""
    for p in sorted(passages, key=lambda p: abs(p.page - page)):
        m = INPUT.search(p.text)
        if m:
            c = int(m.group(3)) if m.group(3) else 3
            return [int(m.group(1)), int(m.group(2)), c], m.group(0)
    return None, ""


def text_graphs(layouts, *, min_layers: int = 4) -> list[dict]:
    """Graph documents for the architectures the body text states (chains first, then sentence
    groups), each with ``source`` (page, the words) and per-layer ``meta``."""
    passages = page_passages(layouts)
    legend: dict = {}
    for p in passages:
        legend.update(_legend(p.text))
    found = []
    for p in passages:
        found += _chains(p, legend)
    for p in passages:
        found += _sentences(p)
    docs = []
    for k, item in enumerate(f for f in found if len(f["layers"]) >= min_layers - 1):
        spatial = any(lay["type"] in ("Conv2D", "MaxPool2D", "AvgPool2D", "LRN") for lay in item["layers"])
        issues: list = []
        b = ChainBuilder(f"text{k + 1}", None, issues)
        meta = {"source": "text", "page": item["page"], "text": item["text"][:300]}
        shape, shape_words = (_input_shape(passages, item["page"]) if spatial else (None, ""))
        if shape is None and not spatial:
            units = _first_units(item["text"])
            shape = [units] if units else None
        b.add("Input", {"shape": shape} if shape else {},
              dict(meta, text=shape_words or meta["text"], **({} if shape else {"missing": "input size not stated"})),
              "input")
        if not spatial:
            b.spatial = False
        for lay in item["layers"]:
            b.add(lay["type"], dict(lay["params"]), dict(meta))
        docs.append({"name": f"text_p{item['page']}_{k + 1}", "layers": b.layers,
                     "source": {"kind": "text", "reader": item["kind"], "page": item["page"], "text": item["text"][:500],
                                "abbreviations": item.get("defined", [])}})
    return docs


# hyper-parameters the text states by name ("N = 6", "d_model = 512", "h = 8", "L=12, H=768, A=12"): each
# pattern's group 1 is the value; a pattern is tried only where its context words are near
VALUES = {
    "N": [re.compile(r"\bN\s*=\s*(\d{1,3})\b(?=[^.]{0,60}\b(?:layers?|blocks?)\b)", re.I),
          re.compile(r"\b(?:layers?|blocks?)\b[^.]{0,40}?\bN\s*=\s*(\d{1,3})\b", re.I),
          re.compile(r"\bL\s*=\s*(\d{1,3})\s*,\s*H\s*=\s*\d+")],
    "d_model": [re.compile(r"\bd\s*_?\s*model\s*=\s*(\d{2,5})\b", re.I),
                re.compile(r"\bL\s*=\s*\d+\s*,\s*H\s*=\s*(\d{2,5})\b")],
    "heads": [re.compile(r"\bh\s*=\s*(\d{1,3})\b(?=[^.]{0,80}\bheads?\b)|\bheads?\b[^.]{0,60}?\bh\s*=\s*(\d{1,3})\b"),
              re.compile(r"\bH\s*=\s*\d+\s*,\s*A\s*=\s*(\d{1,3})\b")],
    # (a bare "16 heads" is left out: papers of several model sizes name each size's heads)
    "d_ff": [re.compile(r"\bd\s*_?\s*ff\s*=\s*(\d{2,6})\b", re.I),
             re.compile(r"\bfeed-?forward(?:/filter)?\s+size\s+(?:of\s+|to\s+be\s+)?(\d{2,6})\b", re.I)],
    "dropout": [re.compile(r"\bdropout\s+(?:rate|probability)\s+(?:of\s+)?(0?\.\d+)\b", re.I)],
}


def text_values(layouts) -> dict[str, dict]:
    """Hyper-parameters the body text states by name, the first statement of each: ``{"N": {"value":
    6, "page": 3, "text": "...N = 6 identical layers..."}, "d_model": ..., "heads": ..., "d_ff": ...,
    "dropout": ...}`` (a name the text does not state is absent)."""
    out: dict[str, dict] = {}
    for p in page_passages(layouts):
        for name, patterns in VALUES.items():
            if name in out:
                continue
            for rx in patterns:
                m = rx.search(p.text)
                if m:
                    raw = next(g for g in m.groups() if g)
                    val = float(raw) if "." in raw else int(raw)
                    out[name] = {"value": val, "page": p.page,
                                 "text": p.text[max(0, m.start() - 40): m.end() + 40].strip()}
                    break
    return out


def _first_units(text: str) -> int | None:
    m = re.search(r"\binput\s+(?:vector|layer)\s+(?:of|with)\s+(\d+)\s+(?:values|features|units|dimensions)", text, re.I)
    return int(m.group(1)) if m else None
