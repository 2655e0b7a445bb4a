"""From an architecture table's cells to graph documents.

    docs = table_to_graphs(table, input_shape=None)     # one graph doc per configuration

``table`` is a table from :func:`dlpaper2code.paper.extract_tables` (or any dict
with ``cells`` and optionally ``caption``, ``orientation``, ``id``).  Steps:

* text: superscripts kept as ``^2`` (NFKC would turn "224²" into "2242"), then
  NFKC, "×"/"x"/"*" between numbers unified, dashes unified, lower case;
* orientation: a column-major table (a layer per column) is transposed; a
  table printed in stacked halves (its first-column labels repeat) is joined;
* headers mapped to parameters (:data:`HEADERS`): "support"/"kernel"/"patch
  size" -> kernel, "num filts"/"#channels"/"# filters" -> filters or units,
  "stride", "pad", "output size"/"data size", "input size"/"resolution",
  "#layers" -> repeats, "operator"/"type"/"configuration" -> the layer column;
  "filt dim" is the filter depth (input channels) when "support" is there, the
  kernel otherwise; Inception's "#1×1", "#3×3 reduce", ... -> block params;
* layer names through the vocabulary (synonyms, patterns such as "conv3-64",
  "FC-4096") plus phrases ("conv, 3×3, 64", "3×3 conv, 64", "3×3 max pool,
  stride 2", "1000-d fc", "Conv dw / s2"), several layers per cell
  ("conv3-64 conv3-64", "a; b", "a & b");
* repeats: "× 2" / "[ ... ] × 6" after a cell, "5×" before it (MobileNet's
  "5×" covers the row pair it starts), "#layers";
* named blocks kept as block uses of ``config/blocks.yaml``: Inception module,
  ResNet basic block / bottleneck (a bracket group of 3×3,3×3 or 1×1,3×3,1×1
  convolutions), MBConv, dense block (``dense_layer`` repeated);
* several configuration columns (VGG's A–E, ResNet's 18- to 152-layer) give
  one graph each; a cell spanning all configurations is printed once (the
  only filled cell of its row) and goes to every configuration;
* input shape: an "input (224 × 224 RGB image)" cell, the ``input_shape``
  argument, an "input size" column, or the first layer's output size times
  its stride (3 channels assumed; marked in ``meta``).  A Flatten is inserted
  before the first fully connected layer on a feature map.  Convolutions
  without a "pad" value get ``padding: same`` (papers' tables keep sizes), or
  the symmetric ``(k - 1) // 2`` when strided (as ResNet's 7×7/2: 224 -> 112 in
  every framework, Caffe included, which cannot pad one side more).

Each node's ``meta`` holds the source ``cell`` text, its ``row``/``col`` in
the table as given, and a ``token`` ("conv3-64", "max pool", "FC-4096",
"soft-max", ...).  Words that name no layer are never dropped silently: they
are listed in ``doc["source"]["issues"]`` (``kind: unknown_layer``), as are
missing parameters.  :func:`graph_issues` validates a doc with
:func:`dlpaper2code.core.graph.parse_graph`.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Any

from ..core.errors import GraphError
from ..core.graph import parse_graph
from ..core.vocab import load_vocabulary

SUP = str.maketrans({"⁰": "0", "¹": "1", "²": "2", "³": "3", "⁴": "4", "⁵": "5", "⁶": "6", "⁷": "7", "⁸": "8",
                     "⁹": "9"})
_SUP_RUN = re.compile(r"[⁰¹²³⁴⁵⁶⁷⁸⁹]+")
EMPTY = {"", "-", "–", "—", "n/a", "none", "·"}

# header words -> a role
HEADERS: list[tuple[str, str]] = [
    (r"^(#|num\.?|number of)\s*layers?$|^#?\s*repeats?$|^repetitions?$", "repeat"),
    (r"output size|data size|^output$|^out size|feature map size|^map size", "output_size"),
    (r"^(layer\s*)?name$", "name"),
    (r"^(layer|layers)$", "layer"),
    (r"type|operator|configuration|config|op$|^block$", "type"),
    (r"patch size|^support$|kernel|filter size|receptive|^size$|^window", "kernel"),
    (r"filter shape", "filter_shape"),
    (r"filt dim", "filt_dim"),
    (r"num filts|# ?filters|#? ?channels|^filters$|^units$|^width$|^# ?out$|^out(put)? channels?$", "filters"),
    (r"stride", "stride"),
    (r"^pad", "pad"),
    (r"input size|resolution|^input$", "input_size"),
    (r"^#1x1$", "f1x1"), (r"^#3x3 reduce$", "f3x3_reduce"), (r"^#3x3$", "f3x3"),
    (r"^#5x5 reduce$", "f5x5_reduce"), (r"^#5x5$", "f5x5"), (r"^pool proj", "pool_proj"),
    (r"^exp\.? size$|^expansion size$|^#? ?exp$", "expand_size"),     # MobileNetV3: expanded channels
    (r"expan", "expand"),
    (r"^se$", "se"), (r"^nl$|^non-?linearity$|^activation$", "activation"),
    # MobileNetV2's one-letter headers: expansion t, channels c, repeats n, stride s
    (r"^t$", "expand"), (r"^e$|^ℰ$", "expand"), (r"^c$", "filters"), (r"^n$", "repeat"), (r"^s$", "stride"),
    (r"params|flops|ops|mult|time|stage|^no\.?$|^index$|^#$|^depth$", "ignore"),
]
INCEPTION_KEYS = ("f1x1", "f3x3_reduce", "f3x3", "f5x5_reduce", "f5x5", "pool_proj")

# names that are not vocabulary synonyms but name a layer in tables
EXTRA_NAMES = {"prob": ("Activation", {"function": "softmax"}), "softmx": ("Activation", {"function": "softmax"}),
               "loss": ("Activation", {"function": "softmax"}), "classifier": ("Activation", {"function": "softmax"}),
               "relu": ("Activation", {"function": "relu"}), "lrn": ("LRN", {}),
               "global average pool": ("GlobalAvgPool2D", {}), "global avg pool": ("GlobalAvgPool2D", {}),
               "fully-connected": ("Dense", {}), "fully connected": ("Dense", {}), "linear": ("Dense", {}),
               "average pool": ("AvgPool2D", {}), "avg pool": ("AvgPool2D", {}), "avgpool": ("AvgPool2D", {}),
               "conv2d": ("Conv2D", {}), "conv 2d": ("Conv2D", {}),
               "pool": ("MaxPool2D", {}),
               # group convolutions as tables name them (CondenseNet's learned and standard group conv)
               "g-conv": ("Conv2D", {}), "l-conv": ("Conv2D", {}), "gconv": ("Conv2D", {}),
               "group conv": ("Conv2D", {}), "dwconv": ("DepthwiseConv2D", {})}      # "pool" alone, as tables print it (max unless said otherwise)
BLOCK_WORDS = [(re.compile(r"^inception$"), "inception_module"), (re.compile(r"^mbconv(\d+)?$"), "mbconv"),
               (re.compile(r"^(?:feed[ -]?forward|ffn|position-?wise feed[ -]?forward)$"), "feed_forward"),
               (re.compile(r"^(?:sep|sepconv|sep conv|separable conv|separable convolution)$"), "separable_conv"),
               (re.compile(r"^bneck$"), "mbconv"),
               (re.compile(r"^dense\s*block$"), "dense_layer"), (re.compile(r"^bottleneck$"), "resnet_bottleneck")]
CONV_KXK = re.compile(r"^conv(\d+)x(\d+)$")
KXK = re.compile(r"^k?(\d+)x(\d+)$")


def norm_text(s: Any) -> str:
    """Cell text for matching: superscripts as ^n, NFKC, "×" -> "x", lower case, single spaces."""
    s = "" if s is None else str(s)
    s = _SUP_RUN.sub(lambda m: "^" + m.group(0).translate(SUP), s)
    s = unicodedata.normalize("NFKC", s)
    s = s.replace("×", "x").replace("✕", "x").replace("–", "-").replace("—", "-").replace("−", "-")
    s = re.sub(r"(?<=\d)\s*[x*]\s*(?=\d)", "x", s)
    s = re.sub(r"\s+", " ", s).strip().lower()
    return s


def _is_empty(s: str) -> bool:
    return norm_text(s) in EMPTY


def _ints(s: str) -> list[int]:
    return [int(x) for x in re.findall(r"(?<![\d.^])\d+(?![\d.])", s)]


def _size(s: str) -> list[int] | None:
    """'224x224' / '224^2' / '224' / '112x112x64' -> dims; a channels-first '64x150x150' -> [150, 150, 64]."""
    t = norm_text(s)
    m = re.search(r"(\d+)\^2", t)
    if m:
        return [int(m.group(1)), int(m.group(1))]
    m = re.search(r"(\d+(?:x\d+)+)", t.replace(" ", ""))
    if m:
        dims = [int(x) for x in m.group(1).split("x")]
        if len(dims) == 3 and dims[1] == dims[2] != dims[0]:
            dims = [dims[1], dims[2], dims[0]]          # "64 x 150 x 150": channels first (C x H x W)
        return dims
    m = re.fullmatch(r"(\d+)(?:-d|d)?", t)
    return [int(m.group(1))] if m else None


# ----------------------------------------------------------------- one cell
class _Layer(dict):
    """A parsed layer: type (a vocabulary type or a block name), params, block flag."""


def _lookup(phrase: str):
    """A phrase of one to four words -> (type, params, is_block) or None."""
    vocab = load_vocabulary()
    p = phrase.strip(" ,;:()[]")
    if not p:
        return None
    for rx, block in BLOCK_WORDS:
        m = rx.match(p)
        if m:
            params = {"expand": int(m.group(1))} if block == "mbconv" and m.groups() and m.group(1) else {}
            return block, params, True
    m = CONV_KXK.match(p)
    if m:
        return "Conv2D", {"kernel_size": int(m.group(1))}, False
    if p in EXTRA_NAMES:
        t, prm = EXTRA_NAMES[p]
        return t, dict(prm), False
    mp = vocab.match_pattern(p)
    if mp:
        return mp[0], dict(mp[1]), False
    if re.search(r"\d", p) and not re.fullmatch(r"[a-z]+\d+", p):
        return None
    r = vocab.resolve_type(p)
    if r:
        t, prm = r
        if t == "Activation" and "function" not in prm:
            fn = {"soft-max": "softmax", "softmax": "softmax", "relu": "relu", "sigmoid": "sigmoid", "tanh": "tanh",
                  "relu6": "relu6", "elu": "elu", "swish": "swish"}.get(p)
            if fn is None:
                return None
            prm = {"function": fn}
        return t, dict(prm), False
    return None


def _name_type(name: str, _ocr: bool = True):
    """A layer *name* such as conv1_1, pool2, fc6, relu3, prob -> its type.  Failing that, the
    name as OCR often misreads it is tried once more with "l" for "1" at the end or before a
    digit ("convl_2", "pooll" -> conv1_2, pool1)."""
    t = norm_text(name)
    if not t or re.fullmatch(r"[\d.]+", t):
        return None
    hit = _name_type_exact(t)
    if hit is None and _ocr:
        fixed = re.sub(r"(?<=[a-z])l(?=[\d_.]|$)", "1", t)
        if fixed != t:
            hit = _name_type_exact(fixed)
    return hit


def _name_type_exact(t: str):
    if re.fullmatch(r"[a-z]+[\d_.]+[a-z]?", t):          # a name such as fc6 or conv1_1: its stem
        stem = re.sub(r"[\d_.]+[a-z]?$", "", t)
        hit = _lookup(stem)
        if hit:
            return hit
    hit = _lookup(t)
    if hit:
        return hit
    stem = re.sub(r"[\d_\-./()]+[a-z]?$", "", t).strip()
    stem = re.sub(r"[\d_]+$", "", stem).strip()
    if stem and stem != t:
        return _lookup(stem)
    return None


_PARAM_WORD = re.compile(r"^(?:stride|s\d+|/\d*|/s\d+|\d+(?:-d|d)?|k?\d+x\d+(?:x\d+)*|dw|\d+%|\(\d+%\)|"
                         r"\(.*\)|pool|layers?|,|:|/|-)$")


def _params_from_words(words: list[str], layer: dict) -> None:
    """Attach parameter words ("3x3", "64", "stride 2", "s2", "/2", "1000-d", "40%") to a layer."""
    params = layer["params"]
    i = 0
    while i < len(words):
        w = words[i].strip(",;:()")
        if w == "stride" and i + 1 < len(words) and words[i + 1].strip(",").isdigit():
            params["strides"] = int(words[i + 1].strip(","))
            i += 2
            continue
        m = re.fullmatch(r"/?s(\d+)|/(\d+)", w)
        if m:
            params["strides"] = int(m.group(1) or m.group(2))
        elif re.fullmatch(r"k?(\d+)x(\d+)(?:/(\d+))?", w):
            m = re.fullmatch(r"k?(\d+)x(\d+)(?:/(\d+))?", w)
            layer["kernel"] = int(m.group(1))
            if m.group(3):
                params["strides"] = int(m.group(3))
        elif re.fullmatch(r"(\d+)%", w):
            layer["rate"] = int(w[:-1]) / 100.0
        elif re.fullmatch(r"(\d+)(?:-d|d)?", w):
            layer.setdefault("numbers", []).append(int(re.match(r"\d+", w).group(0)))
        elif w in ("dw",):
            layer["dw"] = True
        i += 1


def parse_cell(text: str) -> dict:
    """Layers named in one cell.

    Returns ``{"layers": [...], "repeat": n, "unknown": [words], "group": bool}``;
    each layer ``{"type", "params", "block", "kernel"?, "numbers"?, "text"}``.
    """
    t = re.sub(r"(?<=[a-z)\]])[*†‡§¶]+(?=\s|,|$)", "", norm_text(text))      # footnote marks: "convolution*"
    t = re.sub(r"\(\s*stride\s*(\d+)\s*\)", r"stride \1", t)                   # "3x3 conv (stride 2)"
    t = re.sub(r"\b(\d+)-dim\b", r"\1-d", t)                                        # "1000-dim fully-connected"
    out = {"layers": [], "repeat": 1, "unknown": [], "group": False, "text": t}
    m = re.search(r"\(\s*k\s*=\s*(\d+)\s*\)", t)        # a growth rate beside a bracket: "(k=32)"
    if m:
        out["growth_rate"] = int(m.group(1))
        t = (t[:m.start()] + t[m.end():]).strip()
    if t in EMPTY:
        return out
    # a repeat printed between the two lines of a bracket ("1x1 l-conv x4 3x3 g-conv": the bracket's
    # lines read in order, its "x4" beside them): the whole group repeats
    m = re.search(r"(?<=[a-z])\s+x\s*(\d+)\s+(?=\d+x\d+\s+[a-z])", t)
    if m:
        out["repeat"] = int(m.group(1))
        out["group"] = True
        t = (t[:m.start()] + " ; " + t[m.end():]).strip()
    m = re.search(r"[\]\)]?\s*x\s*(\d+)$", t)
    if m and not re.search(r"\d\s*x\s*\d+$", t[: m.end()].replace(" ", "")[-8:] if False else ""):
        head = t[: m.start()].rstrip()
        # "3x3" at the end is a kernel, not a repeat; a repeat follows a space, "]" or a word
        if not re.search(r"\d$", head) or "]" in t[m.start(): m.end()]:
            out["repeat"] = int(m.group(1))
            t = head
    # a feature-map size before the operator ("112^2x16 bneck, 3x3": MobileNetV3's merged Input column)
    m = re.match(r"^(\d+\^2(?:x\d+)?|\d+x\d+x\d+)\s+(?=[a-z])", t)     # (a kernel "3x3 conv" stays)
    if m:
        out["in_dims"] = _size(m.group(1).replace("^2", f"x{m.group(1).split('^')[0]}", 1)
                               if "^2" in m.group(1) else m.group(1))
        t = t[m.end():]
    m = re.match(r"^(\d+)\s*x\s*(?=[a-z\[])", t)        # "5x conv dw" / "3xinception": a repeat
    if m:
        out["repeat"] = int(m.group(1))
        t = t[m.end():]
    # SENet's "fc, [16, 256]" inside a block: the two fully connected layers of a squeeze-and-excitation
    t = re.sub(r"\bfc\s*,?\s*\[\s*(\d+)\s*,\s*(\d+)\s*\]", r"se-fc \1 \2", t)
    # layers printed before a bracket ("max pool, 3x3, stride 2 [conv ...; conv ...] x 3") run once
    m = re.match(r"^([^\[]*[a-z][^\[]*?)\s*\[", t)
    if m:
        pre = parse_cell(m.group(1))
        if pre["layers"] and not pre["unknown"]:
            out["pre"] = pre["layers"]
            t = t[m.end() - 1:]
    if "[" in t or ";" in t:
        out["group"] = True
    t = t.replace("[", " ").replace("]", " ")
    chunks = [c.strip() for c in re.split(r"[;&+\n]| then ", t) if c.strip()]
    # Swin-style stage cells: "concat 4x4, 96-d, LN" (patch merging), "win. sz. 7x7, x 2 dim 96, head 3"
    m = re.fullmatch(r"concat (\d+)x\1\s*,\s*(\d+)-?d\s*(?:,\s*ln)?", t)
    if m:
        out["layers"].append({"type": "PatchMerging", "params": {"kernel_size": int(m.group(1)),
                                                                 "filters": int(m.group(2)), "norm": "LN"},
                              "block": False, "text": t, "keep_params": True})
        return out
    m = re.fullmatch(r"win\.? ?sz\.? (\d+)x\1\s*,?\s*(?:x\s*(\d+)\s*)?dim (\d+)\s*,\s*heads? (\d+)(?:\s*x\s*(\d+))?", t)
    if m:
        out["repeat"] = int(m.group(2) or m.group(5) or 1)
        out["layers"].append({"type": "SwinBlock", "params": {"window": int(m.group(1)), "hidden": int(m.group(3)),
                                                              "heads": int(m.group(4))},
                              "block": False, "text": t, "keep_params": True})
        return out
    if re.match(r"^(input|data|image)\b", t) and not re.match(r"^(input|data|image) size", t):
        dims = _size(t)
        lay = {"type": "Input", "params": {}, "block": False, "text": t}
        if dims:
            lay["dims"] = dims
        out["layers"].append(lay)
        return out
    for chunk in chunks:
        m = re.fullmatch(r"se-fc (\d+) (\d+)", chunk)
        if m:
            # SE-Net's "fc, [16, 256]": the squeeze-and-excitation block (pool, FC 16 ReLU, FC 256 sigmoid, scale)
            out["layers"].append({"type": "SqueezeExcite", "params": {"units": [int(m.group(1)), int(m.group(2))]},
                                  "block": False, "text": chunk, "squeeze_excite": True})
            continue
        pieces = [p.strip() for p in chunk.split(",") if p.strip()]
        chunk_layers: list[dict] = []
        pending: list[str] = []
        for piece in pieces:
            words = piece.replace("/", " / ").split()
            buf: list[str] = []
            piece_layers: list[dict] = []
            i = 0
            while i < len(words):
                hit = None
                n = 1
                for n in (4, 3, 2, 1):
                    if i + n > len(words):
                        continue
                    span = " ".join(words[i:i + n])
                    if n == 1 and _PARAM_WORD.match(span.strip(",")) and not CONV_KXK.match(span) \
                            and not (span.strip(",") == "pool" and not buf
                                     and (i == 0 or words[i - 1].strip(",") not in ("max", "avg", "average"))):
                        break
                    hit = _lookup(span)
                    if hit:
                        break
                if hit:
                    typ, prm, is_block = hit
                    layer = {"type": typ, "params": dict(prm), "block": is_block, "text": piece}
                    if n == 1 and words[i].strip(",") == "pool":
                        layer["bare_pool"] = True          # the kind of pooling is not said
                    _params_from_words(pending + buf, layer)
                    pending, buf = [], []
                    piece_layers.append(layer)
                    i += n
                    continue
                w = words[i]
                if _PARAM_WORD.match(w.strip(",")):
                    buf.append(w)
                elif w.strip(",()") in ("rgb", "image", "gray", "grey", "pool", "padded", "nbn", "logits") \
                        or re.fullmatch(r"\(?\d+[a-z]?\)?", w):
                    pass
                else:
                    out["unknown"].append(w)
                i += 1
            if buf:
                if piece_layers:
                    _params_from_words(buf, piece_layers[-1])
                elif chunk_layers:
                    _params_from_words(buf, chunk_layers[-1])
                else:
                    pending.extend(buf)
            chunk_layers.extend(piece_layers)
        if pending:
            if chunk_layers:
                _params_from_words(pending, chunk_layers[-1])
            else:                                   # "7x7, 64, stride 2": a convolution by its numbers
                layer = {"type": "Conv2D", "params": {}, "block": False, "text": chunk, "implicit": True}
                _params_from_words(pending, layer)
                if "kernel" in layer:
                    chunk_layers.append(layer)
                else:
                    out["unknown"].extend(pending)
        out["layers"].extend(chunk_layers)
    # "average pool, 1000-d fc" / "Pooling & FC": a pool without a window right before a fully
    # connected layer pools the whole map
    L = out["layers"]
    for a, b2 in zip(L, L[1:]):
        if a["type"] in ("MaxPool2D", "AvgPool2D") and "kernel" not in a and b2["type"] == "Dense":
            a["type"] = "GlobalAvgPool2D"
    return out


def cell_layer_score(text: str) -> float:
    """1 when a cell names layers and nothing else, 0 when it names none."""
    if _is_empty(text):
        return 0.0
    p = parse_cell(text)
    if not p["layers"]:
        nt = _name_type(text)
        return 0.7 if nt else 0.0
    if any(l.get("implicit") for l in p["layers"]) and len(p["layers"]) == 1:
        return 0.5
    return 1.0 if not p["unknown"] else 0.6


# ----------------------------------------------------------------- whole table
def _header_role(h: str) -> str | None:
    t = norm_text(h)
    t = re.sub(r"\s+[a-z]?\^?[a-zĉĥŵl̂]*\s*i$", "", t)          # EfficientNet's "F̂i" symbols
    t = re.sub(r"\s*\(.*\)$", "", t).strip()
    for rx, role in HEADERS:
        if re.search(rx, t):
            return role
    return None


def _transpose(cells: list[list[str]]) -> list[list[str]]:
    """Column-major -> row-major; stacked halves (first-column labels repeat) joined."""
    labels = [norm_text(r[0]) if r else "" for r in cells]
    segments, cur, seen = [], [], set()
    for r, lab in zip(cells, labels):
        if lab and lab in seen:
            segments.append(cur)
            cur, seen = [], set()
        cur.append(r)
        seen.add(lab)
    segments.append(cur)
    header = [r[0] for r in segments[0]]
    rows = [header]
    for seg in segments:
        keys = [norm_text(r[0]) for r in seg]
        width = max(len(r) for r in seg)
        for j in range(1, width):
            by = {k: (r[j] if j < len(r) else "") for k, r in zip(keys, seg)}
            rows.append([by.get(norm_text(h), "") for h in header])
    return rows


def orientation_of(cells: list[list[str]]) -> tuple[str, dict]:
    """row (a layer per row) or column (a layer per column), from where layer names sit and the shape."""
    if not cells or not cells[0]:
        return "row", {"reason": "empty"}
    nr, nc = len(cells), max(len(r) for r in cells)
    row_scores = [sum(cell_layer_score(c) for c in r[1:]) / max(1, len(r) - 1) for r in cells]
    col_scores = []
    for j in range(nc):
        col = [r[j] if j < len(r) else "" for r in cells[1:]]
        col_scores.append(sum(cell_layer_score(c) for c in col) / max(1, len(col)))
    hdr_first_col = sum(1 for r in cells if r and _header_role(r[0]) not in (None, "ignore"))
    hdr_first_row = sum(1 for c in cells[0] if _header_role(c) not in (None, "ignore"))
    best_row, best_col = max(row_scores), max(col_scores)
    info = {"best_row_layer_score": round(best_row, 3), "best_col_layer_score": round(best_col, 3),
            "header_labels_first_col": hdr_first_col, "header_labels_first_row": hdr_first_row, "shape": [nr, nc]}
    if hdr_first_col >= 2 and hdr_first_col > hdr_first_row and nc > nr:
        return "column", dict(info, reason="parameter labels down the first column")
    if best_row > best_col + 0.15 and nc > nr:
        return "column", dict(info, reason="layer names run along a row")
    if best_col == 0 and best_row == 0 and nc > 2 * nr:
        return "column", dict(info, reason="wide table")
    return "row", dict(info, reason="layer names run down a column" if best_col else "default")


def _pad_value(v: str):
    t = norm_text(v)
    if t in EMPTY:
        return None
    if t in ("same", "valid"):
        return t
    n = _ints(t)
    return n[0] if n else None


def _tok(node: dict) -> str:
    t, p = node["layer_type"], node.get("layer_params", {})
    k = p.get("kernel_size") or p.get("pool_size")
    k = k[0] if isinstance(k, list) else k
    if t == "Conv2D":
        return f"conv{k or 3}-{p.get('filters')}"
    if t == "MaxPool2D":
        return "max pool"
    if t == "AvgPool2D":
        return "avg pool"
    if t == "Dense":
        return f"FC-{p.get('units')}"
    if t == "Activation":
        return {"softmax": "soft-max"}.get(p.get("function"), p.get("function", "activation"))
    return t


class ChainBuilder:
    """A graph document built layer by layer, each consuming the one before (or given inputs):
    unique names, a Flatten inserted before the first fully connected layer after an image,
    and the running channel count (what a later layer's parameters may need)."""

    def __init__(self, name, input_shape, issues):
        self.layers: list[dict] = []
        self.names: set[str] = set()
        self.prev: str | None = None
        self.spatial = True
        self.channels: int | None = None
        self.input_shape = input_shape
        self.issues = issues
        self.name = name
        self.counts: dict[str, int] = {}

    def _unique(self, base: str) -> str:
        base = re.sub(r"[^A-Za-z0-9_\-./]", "_", base) or "layer"
        if base not in self.names:
            return base
        k = 2
        while f"{base}_{k}" in self.names:
            k += 1
        return f"{base}_{k}"

    def add(self, ltype: str, params: dict, meta: dict, base: str | None = None,
            inputs: list[str] | None = None) -> str:
        if ltype == "Dense" and self.spatial and self.layers:
            self.add("Flatten", {}, dict(meta, inserted="flatten before a fully connected layer"), "flatten")
        if base is None:
            self.counts[ltype] = self.counts.get(ltype, 0) + 1
            base = f"{ltype.lower()}{self.counts[ltype]}"
        name = self._unique(base)
        node = {"layer_type": ltype, "layer_name": name, "layer_params": params,
                "from_layers": [self.prev] if self.prev else [], "meta": dict(meta)}
        if ltype != "Input" and self.prev is None:
            node["from_layers"] = []
        if inputs is not None:
            node["from_layers"] = list(inputs)
        node["meta"]["token"] = _tok(node)
        self.layers.append(node)
        self.names.add(name)
        self.prev = name
        if ltype in ("Dense", "Flatten", "GlobalAvgPool2D", "LSTM", "GRU", "SimpleRNN", "Embedding"):
            self.spatial = False
        if ltype in ("Dense",):
            self.channels = params.get("units")
        elif ltype in ("Conv2D",) or (ltype in ("mbconv", "resnet_basic_block", "resnet_basic_block_down")):
            self.channels = params.get("filters", self.channels)
        elif ltype == "resnet_bottleneck":
            self.channels = params["filters"] * 4
        elif ltype == "inception_module":
            self.channels = sum(params.get(k, 0) for k in ("f1x1", "f3x3", "f5x5", "pool_proj"))
        return name


def _row_roles(header: list[str]) -> list[str | None]:
    roles = [_header_role(h) for h in header]
    letters = {norm_text(h) for h in header}
    if len(letters & {"a", "b", "c", "d", "e"}) >= 3:   # VGG's configurations A to E are names, not t/c/n/s/ℰ
        roles = [None if len(norm_text(h)) == 1 else r for r, h in zip(roles, header)]
    return roles


def _find_header(rows: list[list[str]]) -> int:
    for i, r in enumerate(rows[:3]):
        if sum(1 for c in r if not _is_empty(c)) < 2:
            continue
        roles = [_header_role(c) for c in r]
        if sum(1 for x in roles if x not in (None,)) >= 2 or any(x == "type" for x in roles):
            return i
        # "Output size | ResNet-50 | SE-ResNet-50": one known header beside configuration names
        if i == 0 and any(x is not None for x in roles) and \
                all(cell_layer_score(c) == 0 for c, x in zip(r, roles) if x is None and not _is_empty(c)):
            return i
    return -1


# A table of transformer variants: a row per model, its depth, width, MLP width and heads
_TF_COLS = {"layers": r"^(#\s*)?(layers?|depth|blocks?|l)$",
            "hidden": r"^(hidden( size)?( d)?|width|d(_| )?model|dim(ension)?|embedding dim\w*|h)$",
            "mlp": r"^(mlp( size| dim\w*)?|ffn( size| dim\w*)?|d(_| )?ff|feed-?forward( size)?)$",
            "heads": r"^(#\s*)?(attention )?heads?$|^a$"}


def _transformer_columns(header: list[str]) -> dict[str, int] | None:
    cols = {}
    for j, h in enumerate(header):
        t = re.sub(r"\s*\(.*\)$", "", norm_text(h)).strip()
        for key, rx in _TF_COLS.items():
            if key not in cols and re.fullmatch(rx, t):
                cols[key] = j
    if "heads" in cols and "layers" in cols and ("hidden" in cols or "mlp" in cols):
        return cols
    return None


def _transformer_graphs(rows, hi, cols, tid, caption) -> list[dict]:
    """One encoder stack per model row: L x (LayerNorm, multi-head self-attention, Add, LayerNorm,
    feed-forward, Add), pre-norm as ViT draws it; the sequence length is not in such a table."""
    name_col = min(j for j in range(len(rows[hi])) if j not in cols.values())
    docs = []
    for i in range(hi + 1, len(rows)):
        r = rows[i]
        depth, heads = _first_int(r[cols["layers"]]), _first_int(r[cols["heads"]])
        hidden = _first_int(r[cols["hidden"]]) if "hidden" in cols else None
        mlp = _first_int(r[cols["mlp"]]) if "mlp" in cols else None
        if not depth or not heads or _is_empty(r[name_col]) or depth > 200:
            continue
        model = re.sub(r"\s*\[\d+\]$", "", r[name_col]).strip()
        gname = re.sub(r"[^A-Za-z0-9_\-]", "_", f"{tid}_{model}")
        meta = {"cell": r[name_col], "row": i, "col": name_col}
        issues = [{"kind": "no_input_shape", "message": "the table gives no sequence length; set the Input shape"}]
        layers = [{"layer_type": "Input", "layer_name": "tokens", "layer_params": {"shape": [None, hidden]},
                   "from_layers": [], "meta": dict(meta, token="input")}]
        prev = "tokens"

        def add(ltype, name, params, inputs):
            layers.append({"layer_type": ltype, "layer_name": name, "layer_params": params,
                           "from_layers": inputs, "meta": dict(meta, token=ltype)})
            return name

        for k in range(1, depth + 1):
            ln1 = add("LayerNorm", f"block{k}_ln1", {}, [prev])
            att = add("MultiHeadAttention", f"block{k}_attention",
                      {"num_heads": heads, **({"key_dim": hidden // heads} if hidden else {})}, [ln1, ln1])
            res1 = add("Add", f"block{k}_add1", {}, [prev, att])
            ln2 = add("LayerNorm", f"block{k}_ln2", {}, [res1])
            mlp_ = add("FeedForward", f"block{k}_mlp", {**({"units": mlp} if mlp else {}),
                                                         **({"output_units": hidden} if hidden else {})}, [ln2])
            prev = add("Add", f"block{k}_add2", {}, [res1, mlp_])
        docs.append({"schema_version": 1, "name": gname[:100], "description": (caption or "")[:500],
                     "source": {"table": tid, "configuration": model, "orientation": "row", "issues": issues,
                                "kind": "transformer variants"},
                     "layers": layers})
    return docs


def table_to_graphs(table: dict | list, input_shape: list[int] | None = None) -> list[dict]:
    """Graph documents (one per configuration) from an architecture table; see the module docstring."""
    if isinstance(table, list):
        table = {"cells": table}
    cells = [[("" if c is None else str(c)) for c in r] for r in (table.get("cells") or [])]
    tid = str(table.get("id") or "table")
    if not cells:
        return []
    width = max(len(r) for r in cells)
    cells = [r + [""] * (width - len(r)) for r in cells]
    tf = _transformer_columns(cells[0])
    if tf:
        return _transformer_graphs(cells, 0, tf, tid, table.get("caption"))
    orient = table.get("orientation_checked") or orientation_of(cells)[0]
    rows = _transpose(cells) if orient == "column" else cells
    row_index = (lambda i, j: (j, i)) if orient == "column" else (lambda i, j: (i, j))

    hi = _find_header(rows)
    header = rows[hi] if hi >= 0 else [""] * len(rows[0])
    roles = _row_roles(header)
    # what the caption or a header states for the whole table: "growth rate = 32", "(Input 3 x 300 x 300)"
    m = re.search(r"growth rate\s*(?:k\s*)?(?:=|of|is)?\s*(\d+)", norm_text(table.get("caption") or ""))
    growth = int(m.group(1)) if m else None
    if input_shape is None:
        for h in header:
            m = re.search(r"\binput\s*:?\s*(\d+\s*x\s*\d+(?:\s*x\s*\d+)?)", norm_text(h))
            dims = _size(m.group(1)) if m else None
            if dims and len(dims) in (2, 3):
                input_shape = dims if len(dims) == 3 else dims + [3]
                break
    # "layer" header: a name column unless another column holds the types
    body = rows[hi + 1:]
    ncol = len(header)
    col_score = [sum(cell_layer_score(r[j]) for r in body) / max(1, len(body)) for j in range(ncol)]
    if "filt_dim" in roles and "kernel" not in roles:
        roles = ["kernel" if x == "filt_dim" else x for x in roles]
    if "_repeat_or_name" in roles:
        roles = [("repeat" if x == "_repeat_or_name" and j != 0 else ("name" if x == "_repeat_or_name" else x))
                 for j, x in enumerate(roles)]
    true_names = [j for j, x in enumerate(roles) if x == "name"]
    type_cols = [j for j, x in enumerate(roles) if x == "type"]
    layer_cols = [j for j, x in enumerate(roles) if x == "layer"]
    free = [j for j, x in enumerate(roles) if x is None and col_score[j] >= 0.25]
    configs: list[tuple[str, int]] = []
    if type_cols:
        type_col = type_cols[0]
        for j in layer_cols:
            roles[j] = "name"
    elif len(free) >= 2:
        type_col = None
        for j in free:
            configs.append((header[j] if hi >= 0 and not _is_empty(header[j]) else "", j))
    elif free:
        type_col = free[0]
        for j in layer_cols:
            roles[j] = "name"
    elif layer_cols:
        type_col = layer_cols[0]
    else:
        type_col = max(range(ncol), key=lambda j: col_score[j])
    if not configs:
        configs = [("", type_col)]
    # configuration names from the first rows when the header row is missing (VGG's "A  B  C  D  E")
    if len(configs) > 1 and all(not c[0] for c in configs):
        for r in rows[: max(hi, 0) + 3]:
            labels = [r[j] for _, j in configs]
            if all(not _is_empty(x) for x in labels) and all(cell_layer_score(x) == 0 for x in labels):
                configs = [(labels[k], j) for k, (_, j) in enumerate(configs)]
                break
    name_col = true_names[0] if true_names else (roles.index("name") if "name" in roles else None)
    col_of = {role: j for j, role in reversed(list(enumerate(roles))) if role}

    docs = []
    for k, (cname, ccol) in enumerate(configs):
        issues: list[dict] = []
        cfg = norm_text(cname).upper().replace(" ", "") if cname else (chr(ord("A") + k) if len(configs) > 1 else "")
        gname = re.sub(r"[^A-Za-z0-9_\-]", "_", f"{tid}_{cfg}" if cfg else tid)
        if not gname[0].isalpha():
            gname = "t_" + gname
        b = ChainBuilder(gname, input_shape, issues)
        seq = _collect(rows, hi, ccol, [j for _, j in configs], roles, col_of, name_col, row_index, issues)
        _emit(seq, b, input_shape, issues, growth)
        issues.extend(check_printed_sizes({"name": gname[:100], "layers": b.layers}))
        doc = {"schema_version": 1, "name": gname[:100],
               "description": (table.get("caption") or "")[:500],
               "source": {"table": tid, "configuration": cname or None, "orientation": orient,
                          "issues": issues},
               "layers": b.layers}
        docs.append(doc)
    return docs


def _collect(rows, hi, ccol, cfg_cols, roles, col_of, name_col, row_index, issues):
    """The layer rows of one configuration: [(cell_text, row_params, meta)]."""
    seq = []
    start = hi + 1 if hi >= 0 else 0
    for i in range(start, len(rows)):
        r = rows[i]
        text, src_j = r[ccol], ccol
        if len(cfg_cols) > 1 and _is_empty(text):
            filled = [j for j in range(len(r)) if not _is_empty(r[j]) and roles[j] in (None,) and j not in cfg_cols]
            others = [j for j in cfg_cols if not _is_empty(r[j])]
            if len(others) == 1 and others[0] == cfg_cols[0] and not filled:
                text, src_j = r[cfg_cols[0]], cfg_cols[0]      # a cell spanning every configuration
            elif not others:
                spans = [j for j in range(len(r)) if not _is_empty(r[j]) and roles[j] is None]
                if len(spans) == 1:
                    text, src_j = r[spans[0]], spans[0]
        name = r[name_col] if name_col is not None else ""
        if _is_empty(text) and not _is_empty(name) and name_col is not None:
            text, src_j = name, name_col
        if _is_empty(text):
            continue
        p = parse_cell(text)
        if roles[src_j] in ("layer", "name") and re.fullmatch(r"[a-z]+[\d_.]+[a-z]?", norm_text(text)):
            nt = _name_type(text)                 # "fc6" names a layer, it is not "FC-6"
            if nt is not None:
                p["layers"] = [{"type": nt[0], "params": dict(nt[1]), "block": nt[2], "text": text}]
                p["unknown"] = []
        if not p["layers"]:
            nt = _name_type(text)
            if nt is None and name_col is not None and not _is_empty(name):
                nt = _name_type(name)
            if nt is not None:
                typ, prm, is_block = nt
                p["layers"] = [{"type": typ, "params": dict(prm), "block": is_block, "text": text}]
                p["unknown"] = []
        if not p["layers"]:
            if cell_layer_score(text) == 0 and (len(cfg_cols) > 1 or re.search(r"\d", norm_text(text))
                                                and not re.search(r"[a-z]{3,}", norm_text(text))):
                continue                          # "11 weight layers", "1.8x10^9": not a layer row
            if re.search(r"weight layers|flops|params", norm_text(text)):
                continue
            # a module the vocabulary does not know, named in the table's operator column ("CSC / s2",
            # ShiftNet's shift module): kept as a node of that name with the row's parameters, so the
            # graph has the layer and the editor can map it (it does not validate until then)
            m = re.fullmatch(r"\s*([A-Za-z][A-Za-z\-]{1,11})\s*((?:/\s*s?\d+|,?\s*stride\s*\d+)?)\s*", text)
            if m and roles[src_j] == "type":
                lay = {"type": m.group(1), "params": {}, "block": False, "text": text, "keep_params": True,
                       "opaque": True}
                _params_from_words(m.group(2).replace("/", " / ").split(), lay)
                p["layers"] = [lay]
        if p["unknown"]:
            rr, cc = row_index(i, src_j)
            issues.append({"kind": "unknown_layer", "row": rr, "col": cc, "cell": text,
                           "words": p["unknown"],
                           "message": f"no layer type for {' '.join(p['unknown'])!r} in cell {text!r}"})
        rowp = {role: r[j] for role, j in col_of.items() if j < len(r) and not _is_empty(r[j])}
        # a blank width under the same operator's: a cell spanning the group's rows (ShiftNet's
        # "Output Channel" printed once for "CSC / s2" and "CSC / s1")
        if seq and "filters" in col_of and "filters" not in rowp and p["layers"] and seq[-1][0]["layers"] \
                and p["layers"][0]["type"] == seq[-1][0]["layers"][0]["type"] and "filters" in seq[-1][1]:
            rowp["filters"] = seq[-1][1]["filters"]
        rr, cc = row_index(i, src_j)
        seq.append((p, rowp, {"cell": text, "row": rr, "col": cc}, name))
    return seq


def _first_int(v):
    t = norm_text(v) if v is not None else ""
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*k", t)          # "1k" classes
    if m:
        return int(float(m.group(1)) * 1000)
    n = _ints(t)
    return n[0] if n else None


def _emit(seq, b: ChainBuilder, input_shape, issues, growth: int | None = None):
    vocab = load_vocabulary()
    # input shape
    shape = list(input_shape) if input_shape else None
    inp_meta = {"cell": None}
    for p, rowp, meta, _ in seq:
        if p["layers"] and p["layers"][0]["type"] == "Input":
            t = p["text"]
            dims = _size(t) or _size(rowp.get("output_size", "")) or _size(rowp.get("input_size", ""))
            if dims and len(dims) == 1:
                dims = [dims[0], dims[0]]
            if shape is None and dims:
                ch = 1 if re.search(r"gray|grey|mono", t) else (_first_int(rowp.get("filters")) or 3)
                shape = dims[:2] + [dims[2] if len(dims) > 2 else ch]
            inp_meta = dict(meta)
            break
    if shape is None and seq and seq[0][0].get("in_dims") and len(seq[0][0]["in_dims"]) == 3:
        shape = list(seq[0][0]["in_dims"])
        inp_meta = dict(seq[0][2], inferred="the feature-map size printed before the first operator")
    if shape is None and seq:
        p0, rowp0, meta0, _ = seq[0]
        dims = _size(rowp0.get("input_size", "")) if "input_size" in rowp0 else None
        if dims:
            shape = dims[:2] + [dims[2] if len(dims) > 2 else 3]
            inp_meta = dict(meta0, inferred="input size of the first layer")
        else:
            out = _size(rowp0.get("output_size", "")) if "output_size" in rowp0 else None
            if out and p0["layers"]:
                lay = p0["layers"][0]
                tmp = {"params": dict(lay["params"])}
                _params_from_words((norm_text(rowp0.get("stride", "")) + " "
                                    + norm_text(rowp0.get("kernel", ""))).split(), tmp)
                s = tmp["params"].get("strides") or lay["params"].get("strides") or 1
                shape = [out[0] * s, (out[1] if len(out) > 1 else out[0]) * s, 3]
                inp_meta = dict(meta0, inferred="output size of the first layer times its stride; 3 channels assumed")
    if shape is not None:
        b.add("Input", {"shape": shape}, dict(inp_meta), "input")
        b.channels = shape[-1]
    else:
        issues.append({"kind": "no_input_shape", "message": "the table gives no input size; pass input_shape"})

    # a table that prints each row's input size gives a row's output channels in the next row
    for k, (p, rowp, meta, _) in enumerate(seq[:-1]):
        nxt_p, nxt_row = seq[k + 1][0], seq[k + 1][1]
        dims = nxt_p.get("in_dims") or (_size(nxt_row["input_size"]) if "input_size" in nxt_row else None)
        if dims and len(dims) == 3:
            rowp["_next_channels"] = dims[2]
    _blocks_from_groups(seq, growth)
    expanded = []
    i = 0
    while i < len(seq):
        p, rowp, meta, name = seq[i]
        group = [seq[i]]
        rep = p["repeat"]
        if "repeat" in rowp:
            rep = max(rep, _first_int(rowp["repeat"]) or 1)
        # MobileNet: "5x" before a depthwise row covers it and the pointwise row after it
        if p["repeat"] > 1 and re.match(r"^\d+\s*x\s", p["text"]) and i + 1 < len(seq) \
                and seq[i + 1][0]["repeat"] == 1 and p["layers"] and seq[i + 1][0]["layers"] \
                and p["layers"][0]["type"] != seq[i + 1][0]["layers"][0]["type"]:
            group = [seq[i], seq[i + 1]]
            i += 1
        expanded.append((group, rep))
        i += 1

    for group, rep in expanded:
        before = len(b.layers)
        if len(group) == 1:
            p, rowp, meta, name = group[0]
            for lay in p.get("pre", []):              # printed before a bracket: once, not repeated
                _emit_layer(b, lay, rowp, dict(meta), None, p, 0, issues, vocab)
            if p.get("residual"):
                _emit_group(b, p, rowp, meta, rep, issues, vocab)
                rep = 0
        for r in range(rep):
            for p, rowp, meta, name in group:
                for lay in p["layers"]:
                    if lay["type"] == "Input":
                        continue
                    _emit_layer(b, lay, rowp, dict(meta, repeat=r + 1) if rep > 1 else dict(meta),
                                name if len(p["layers"]) == 1 and (rep == 1) and len(group) == 1 else None,
                                p, r, issues, vocab)
        printed = group[-1][1].get("output_size")
        if printed and len(b.layers) > before:    # the size the table prints after this row
            b.layers[-1]["meta"]["printed_output_size"] = printed


def check_printed_sizes(doc: dict) -> list[dict]:
    """The output sizes a table prints against the shapes the graph infers: each disagreement
    (a misread stride, a missing layer, a wrong width) as an issue naming the row.  Sizes print
    as H x W, H x W x C or C x H x W; a graph that does not validate is not checked."""
    try:
        g = parse_graph(doc)
    except GraphError:
        return []
    out = []
    for n in doc.get("layers", []):
        printed = (n.get("meta") or {}).get("printed_output_size")
        info = g.shapes.get(n["layer_name"])
        dims = _size(printed) if printed else None
        if not dims or info is None:
            continue
        shape = [d for d in info.to_list() if d is not None]
        if len(shape) == 3:
            h, w, c = shape
            if len(dims) == 1:                    # "56": the side of a square map
                ok = dims[0] == h == w
            else:
                ok = (dims[:2] == [h, w]) if len(dims) == 2 else dims in ([h, w, c], [c, h, w])
        elif len(shape) == 1:
            ok = dims[-1] == shape[0] or dims == [1, 1]
        else:
            continue
        if not ok:
            out.append({"kind": "size_mismatch", "layer": n["layer_name"], "cell": n["meta"].get("cell"),
                        "message": f"{n['layer_name']} ({n['meta'].get('cell')!r}): the table prints {printed}, "
                                   f"the graph gives {'x'.join(str(d) for d in shape)}"})
    return out


def _emit_layer(b: ChainBuilder, lay, rowp, meta, name, p, rep_idx, issues, vocab):
    t = lay["type"]
    prm = dict(lay["params"])
    nums = list(lay.get("numbers", []))
    # row parameters (a value given by a column applies when the cell did not give it)
    kernel = lay.get("kernel")
    stride = prm.pop("strides", None)
    if "kernel" in rowp and kernel is None:
        tmp = {"params": {}}
        _params_from_words(norm_text(rowp["kernel"]).split(), tmp)
        kernel = tmp.get("kernel") or _first_int(rowp["kernel"])
        stride = stride or tmp["params"].get("strides")
    if "filter_shape" in rowp:
        fs = _size(rowp["filter_shape"])
        if fs:
            kernel = kernel or fs[0]
            if "dw" in norm_text(rowp["filter_shape"]) and t == "Conv2D":
                t = "DepthwiseConv2D"
            elif len(fs) >= 4 and t == "Conv2D":
                nums = nums or [fs[-1]]
            elif len(fs) == 2 and t == "Dense":
                nums = nums or [fs[-1]]
    if "stride" in rowp and stride is None:
        stride = _first_int(rowp["stride"])
    filters = None
    if "filters" in rowp:
        filters = _first_int(rowp["filters"])
    pad = _pad_value(rowp["pad"]) if "pad" in rowp else None
    if lay.get("dw") and t == "Conv2D":
        t = "DepthwiseConv2D"
    if name is not None and _is_empty(name):
        name = None
    base = norm_text(name).replace(" ", "_") if name else None
    if base and rep_idx:
        base = f"{base}_{rep_idx + 1}"

    if lay["block"]:
        if base is None and name and not _is_empty(name):
            base = f"{norm_text(name).replace(' ', '_')}_{rep_idx + 1}"
        _emit_block(b, t, prm, nums, kernel, stride, filters, rowp, meta, base, p, rep_idx, issues)
        return
    if t in ("Conv2D", "DepthwiseConv2D"):
        if t == "Conv2D":
            f = prm.get("filters") or (nums[0] if nums else None) or filters
            if f is None and "output_size" in rowp:
                osz = _size(rowp["output_size"])
                f = osz[2] if osz and len(osz) > 2 else None
            if f is None and rowp.get("_next_channels"):
                f = rowp["_next_channels"]
                meta["inferred"] = "filters: the next row's input channels"
            if f is None and lay.get("implicit"):         # bare numbers ("7x7"), no word naming a layer
                issues.append({"kind": "missing_param", "cell": meta.get("cell"),
                               "message": f"convolution without a number of filters in {meta.get('cell')!r}"})
                return
            if f is None:
                # kept (the layer is there, only its width is not printed) with a marked guess
                f = b.channels if b.channels and b.channels > 3 else 64
                meta["assumed"] = f"filters {f}: the table prints no width; set it in the editor"
                issues.append({"kind": "missing_param", "cell": meta.get("cell"),
                               "message": f"convolution without a number of filters in {meta.get('cell')!r}: "
                                          f"{f} assumed"})
            prm["filters"] = f
        k = prm.get("kernel_size") or kernel or 3
        prm["kernel_size"] = k
        if stride:
            prm["strides"] = stride
        prm["padding"] = pad if pad is not None else "same"
        if pad is None and (stride or 1) > 1 and isinstance(k, int) and k % 2 == 1:
            prm["padding"] = (k - 1) // 2       # a strided convolution keeps "size / stride" with symmetric padding
        if pad == 0:
            prm["padding"] = "valid"
        b.add(t, prm, meta, base)
    elif t in ("MaxPool2D", "AvgPool2D"):
        k = kernel or prm.get("pool_size") or (stride or 2)
        if lay.get("bare_pool") and isinstance(k, int) and k >= 7:
            t = "AvgPool2D"        # an unnamed pooling over a 7x7 or larger window: the final average pool
            meta["inferred"] = "average: a 'pool' row over a window of 7 or more"
        s = stride or (k if kernel else 2)
        prm = {"pool_size": k, "strides": s, "padding": "same" if k > s else "valid"}
        if t == "AvgPool2D" and s == 1 and isinstance(k, int) and k >= 5:
            prm["padding"] = "valid"          # an average pool over the whole last map (7x7/1, 6x6/1): 1x1
        b.add(t, prm, meta, base)
    elif t == "GlobalAvgPool2D":
        b.add(t, {}, meta, base)
    elif t == "Dense":
        u = prm.get("units") or (nums[0] if nums else None) or filters
        if u is None and "output_size" in rowp:
            osz = _size(rowp["output_size"])
            u = osz[-1] if osz else None
        if u is None and rowp.get("_next_channels"):
            u = rowp["_next_channels"]
            meta["inferred"] = "units: the next row's input size"
        if u is None:
            issues.append({"kind": "missing_param", "cell": meta.get("cell"),
                           "message": f"fully connected layer without a width in {meta.get('cell')!r}"})
            return
        b.add(t, {"units": u}, meta, base)
    elif t == "Dropout":
        b.add(t, {"rate": lay.get("rate", 0.5)}, meta, base)
    elif t == "Activation":
        b.add(t, {"function": prm.get("function", "relu")}, meta, base)
    elif t in ("Embedding",):
        u = prm.get("output_dim") or (nums[0] if nums else None) or filters
        b.add(t, {"input_dim": 10000, "output_dim": u}, dict(meta, assumed="input_dim 10000"), base)
    elif t in ("LSTM", "GRU", "SimpleRNN"):
        u = prm.get("units") or (nums[0] if nums else None) or filters
        b.add(t, {"units": u}, meta, base)
    elif lay.get("squeeze_excite"):
        reduced, width = prm["units"]
        b.add("squeeze_excite", {"filters": width, "reduced": reduced}, dict(meta, block="squeeze_excite"), base)
    elif lay.get("opaque"):
        for key, value in (("kernel_size", kernel), ("strides", stride), ("filters", filters),
                           ("expand", _first_int(rowp.get("expand")))):
            if value is not None:
                prm[key] = value
        issues.append({"kind": "unknown_module", "cell": meta.get("cell"),
                       "message": f"{t!r} is not in the layer vocabulary: kept with its parameters; map it to "
                                  "layers or a block in the editor"})
        b.add(t, prm, dict(meta, not_in_vocabulary=True), base)
    elif lay.get("keep_params"):           # a layer the vocabulary has no entry for yet: kept as read
        if t == "PatchMerging" and (not b.layers or b.layers[-1]["layer_type"] == "Input"):
            t = "PatchEmbedding"              # the first one splits the image into patches
        b.add(t, prm, dict(meta, not_in_vocabulary=True), base)
    else:
        spec = vocab.layers.get(t)
        keep = {k: v for k, v in prm.items() if spec and k in spec.params}
        b.add(t, keep, meta, base)


def _emit_block(b, t, prm, nums, kernel, stride, filters, rowp, meta, base, p, rep_idx, issues):
    meta = dict(meta, block=t)
    if t == "inception_module":
        bp = {k: _first_int(rowp.get(k)) for k in INCEPTION_KEYS}
        if any(v is None for v in bp.values()):
            issues.append({"kind": "missing_param", "cell": meta.get("cell"),
                           "message": f"inception module without its branch widths in {meta.get('cell')!r} "
                                      "(kept: give them in the editor)"})
            bp = {k: v for k, v in bp.items() if v is not None}
        b.add(t, bp, meta, base or "inception")
    elif t == "mbconv":
        f = filters or (nums[0] if nums else None)
        if f is None or b.channels is None:
            issues.append({"kind": "missing_param", "cell": meta.get("cell"),
                           "message": f"MBConv without output channels in {meta.get('cell')!r}"})
            return
        s = (stride or 1) if rep_idx == 0 else 1
        expand = prm.get("expand", 6)
        wide = _first_int(rowp.get("expand_size"))
        if wide:                                  # MobileNetV3's "exp size": the expanded width itself
            expand = max(1, round(wide / b.channels))
            meta["expand_size"] = wide
        bp = {"filters": f, "expand": expand, "in_filters": b.channels, "strides": s}
        for key in ("se", "activation"):
            if key in rowp:
                meta[key] = norm_text(rowp[key])
        if kernel:
            meta["kernel_size"] = kernel
        b.add(t, bp, meta, base or "mbconv")
    elif t == "dense_layer":
        b.add(t, {k: v for k, v in prm.items() if k == "growth_rate"}, meta, base or "dense")
    elif t == "resnet_bottleneck" and _first_int(rowp.get("expand")) is not None:
        # MobileNetV2's "bottleneck" rows (t, c, n, s): an inverted residual, our MBConv block
        prm = dict(prm, expand=_first_int(rowp.get("expand")))
        _emit_block(b, "mbconv", prm, nums, kernel or 3, stride, filters, rowp, meta, base, p, rep_idx, issues)
    elif t == "resnet_bottleneck":
        f = prm.get("filters") or filters or (nums[0] if nums else None)
        if f is None:
            issues.append({"kind": "missing_param", "cell": meta.get("cell"),
                           "message": f"bottleneck block without its width in {meta.get('cell')!r}"})
            return
        s = 2 if (p["layers"][0].get("shrink") and rep_idx == 0) else (stride or 1) if rep_idx == 0 else 1
        b.add(t, {"filters": f, "strides": s}, meta, base or "bottleneck")
    elif t == "resnet_basic_block":
        f = prm["filters"]
        down = rep_idx == 0 and (p["layers"][0].get("shrink") or (b.channels is not None and b.channels != f))
        if down:
            s = 2 if p["layers"][0].get("shrink") else 1
            b.add("resnet_basic_block_down", {"filters": f, "strides": s}, meta, base or "basic_block")
        else:
            b.add(t, {"filters": f}, meta, base or "basic_block")


def _blocks_from_groups(seq, growth: int | None = None) -> None:
    """Bracketed groups of convolutions are blocks whose layers the table prints one by one; the
    group keeps those layers (the graph shows what the paper shows) and is marked with the
    connection the table leaves implicit (``p["residual"]``):

    * ``add``: a residual block, [3x3,f; 3x3,f] (ResNet's basic block), [1x1,f; 3x3,f; 1x1,4f]
      (the bottleneck), or any repeated group of two or more convolutions with their widths
      (ResNeXt, Darknet); the first block of a stage whose output size shrinks gets stride 2;
    * ``concat``: a DenseNet layer, [1x1 conv; 3x3 conv] without widths: the 3x3 gives the
      growth rate k (from the cell's "(k=32)", the caption's "growth rate = 32", or the printed
      output channels), the 1x1 its bottleneck width 4k, and the result is concatenated to the
      block's input."""
    prev_size = None
    for p, rowp, meta, _ in seq:
        size = _size(rowp.get("output_size", "")) if "output_size" in rowp else None
        L = p["layers"]
        convs = [l for l in L if l["type"] == "Conv2D" and not l["block"]]
        extra = [l for l in L if l["type"] == "SqueezeExcite"]
        pre_stride = any(isinstance(l["params"].get("strides"), int) and l["params"]["strides"] > 1
                         for l in p.get("pre", []))
        if p["group"] and len(convs) >= 2 and len(convs) + len(extra) == len(L) and L[0] is convs[0]:
            ks = [l.get("kernel") or (l["params"].get("kernel_size")) for l in convs]
            fs = [(l.get("numbers") or [l["params"].get("filters")])[0] for l in convs]
            shrink = bool(size and prev_size and size[0] < prev_size[0]) and not pre_stride
            if all(fs) and (ks in ([3, 3], [1, 3, 1]) or p["repeat"] > 1):
                kind = ("resnet_basic_block" if ks == [3, 3] and fs[0] == fs[1] else
                        "resnet_bottleneck" if ks == [1, 3, 1] else "residual_block")
                p["residual"] = {"kind": "add", "shrink": shrink, "block": kind}
            elif ks == [1, 3] and not any(fs):
                p["residual"] = {"kind": "concat", "block": "dense_layer",
                                 "growth": p.get("growth_rate") or growth}
        if size:
            prev_size = size
        elif prev_size:                 # a row without its own size ("3x3 max pool, stride 2") still strides
            for l in p.get("pre", []) + L:
                st = l["params"].get("strides") or 1
                if isinstance(st, int) and st > 1:
                    prev_size = [-(-x // st) for x in prev_size]


def _emit_group(b, p, rowp, meta, rep, issues, vocab):
    """One table row that is a bracketed group repeated `rep` times, with its implicit connection
    (see :func:`_blocks_from_groups`)."""
    res = p["residual"]
    layers = [l for l in p["layers"] if l["type"] != "Input"]
    growth = res.get("growth")
    if res["kind"] == "concat" and not growth:
        out = _size(rowp.get("output_size", "")) if "output_size" in rowp else None
        if out and len(out) == 3 and b.channels and (out[2] - b.channels) > 0 and (out[2] - b.channels) % rep == 0:
            growth = (out[2] - b.channels) // rep
            meta = dict(meta, inferred=f"growth rate {growth}: the printed {out[2]} channels after {rep} layers "
                                       f"from {b.channels}")
        else:
            growth = 32
            issues.append({"kind": "missing_param", "cell": meta.get("cell"),
                           "message": f"dense block without a growth rate in {meta.get('cell')!r}: "
                                      "DenseNet's k = 32 assumed"})
    for r in range(rep):
        start, start_ch = b.prev, b.channels
        bmeta = dict(meta, block={"type": res["block"], "index": r + 1, "of": rep})
        if rep > 1:
            bmeta["repeat"] = r + 1
        stride = 1
        for li, lay in enumerate(layers):
            if res["kind"] == "add" and li == 0 and r == 0 and res["shrink"]:
                lay = dict(lay, params=dict(lay["params"], strides=2))
                stride = 2
            elif res["kind"] == "concat":
                k = lay.get("kernel") or lay["params"].get("kernel_size")
                lay = dict(lay, numbers=[growth * 4 if k == 1 else growth])
            _emit_layer(b, lay, rowp, dict(bmeta), None, p, r, issues, vocab)
        if b.prev == start or start is None:
            continue
        last = b.prev
        if res["kind"] == "add":
            short = start
            if start_ch != b.channels or stride > 1:      # a projection shortcut (1x1, strided)
                short = b.add("Conv2D", {"filters": b.channels, "kernel_size": 1, "strides": stride,
                                         "padding": "valid"},
                              dict(bmeta, inserted="projection shortcut: the block changes width or size"),
                              None, inputs=[start])
            b.add("Add", {}, dict(bmeta, inserted="residual connection (implicit in the table)"), None,
                  inputs=[last, short])
            b.add("Activation", {"function": "relu"}, dict(bmeta, inserted="after the residual sum"), None)
        else:
            b.add("Concat", {}, dict(bmeta, inserted="dense connection (implicit in the table)"), None,
                  inputs=[start, last])
            b.channels = (start_ch or 0) + growth


def graph_issues(doc: dict) -> list[str]:
    """Problems parse_graph finds in a doc (empty when it validates)."""
    try:
        parse_graph(doc)
    except GraphError as exc:
        return [str(i) for i in exc.issues]
    return []


def layer_tokens(doc: dict, skip=("Input", "Flatten")) -> list[str]:
    return [n["meta"]["token"] for n in doc["layers"] if n["layer_type"] not in skip]


__all__ = ["check_printed_sizes", "table_to_graphs", "parse_cell", "norm_text", "orientation_of", "cell_layer_score",
           "graph_issues",
           "layer_tokens", "HEADERS"]
