"""DOT text of a graph in each look, with what every DOT node and edge stands for.

No framework model is built: class names, Caffe types and shapes come from
the graph, the code-generation templates and the inferred shapes.

- keras3: keras/src/utils/model_visualization.py (Keras 3): per layer an
  HTML table, header ``<b>name</b> (Class)`` on black in white 16 pt, a row
  of white cells ``Input shape: <b>(None, ...)</b>`` / ``Output shape: ...``
  in 14 pt (an InputLayer has only the output cell), node fontname
  Helvetica, border 0, margin 0, record defaults, edges penwidth 2.
- keras2: Keras 2's vis_utils: record label
  ``name: Class\\n|{input:|output:}|{{in}|{out}}``.
- caffe: Caffe's python/caffe/draw.py: one record per layer filled by type,
  label ``name (Type)`` plus ``kernel size: k stride: s pad: p`` for
  Convolution/Pooling (Pooling shows ``(Pooling MAX)``), joined by a space
  for TB/BT and a line break for LR; one octagon per output blob named after
  its layer; edges blob -> layer and layer -> blob, the latter labelled with
  num_output for Convolution/Deconvolution/InnerProduct.
"""
from __future__ import annotations

import functools
import html
import re
from dataclasses import dataclass, field

import yaml

from ..core import paths
from ..core.graph import Graph, Node
from ..core.shapes import same_padding
from .styles import load_styles


@dataclass
class DotNode:
    id: str
    role: str             # layer | blob
    layer: str            # graph layer name (a blob: the layer producing it)
    layer_type: str       # graph layer type


@dataclass
class DotEdge:
    source: str
    target: str
    from_layer: str
    to_layer: str
    label: str | None = None


@dataclass
class Diagram:
    dot: str
    nodes: list[DotNode] = field(default_factory=list)
    edges: list[DotEdge] = field(default_factory=list)
    layer_edges: list[list[str]] = field(default_factory=list)


# ------------------------------------------------------------ names from templates
@functools.lru_cache(maxsize=None)
def _template(target: str) -> dict:
    return yaml.safe_load(paths.config_file("templates", f"{target}.yaml").read_text(encoding="utf-8"))


def keras_class(ltype: str) -> str:
    """The Keras 3 class name of a graph layer type (from templates/keras.yaml)."""
    if ltype == "Input":
        return "InputLayer"
    ctor = (_template("keras")["layers"].get(ltype) or {}).get("ctor") or {}
    cls = ctor.get("class") or ltype
    return cls.rsplit(".", 1)[-1]


def caffe_type(node: Node) -> str:
    """The Caffe layer type drawn for a node: the first `caffe:` entry of
    templates/caffe.yaml, the `activations` map for Activation, `draw_type`
    for layers the Caffe emitter refuses."""
    spec = _template("caffe")
    entry = spec["layers"].get(node.type) or {}
    if node.type == "Activation":
        fn = node.params.get("function", "linear")
        act = spec.get("activations", {}).get(fn)
        if isinstance(act, list):      # per Caffe version: the first (BVLC master's layer) names it
            act = act[0]
        if act:
            return act["type"]
        for item in entry.get("caffe", []):
            if f"'{fn}'" in str(item.get("when", "")):
                return item["type"]
    if entry.get("caffe"):
        return entry["caffe"][0]["type"]
    return entry.get("draw_type") or node.type


def keras_shape(shape: tuple[int, ...]) -> str:
    return str((None, *shape))


def _keras_input_shape(graph: Graph, node: Node) -> str:
    shapes = [(None, *graph.shapes[i].shape) for i in node.inputs]
    if len(shapes) == 1 and node.type not in ("Concat", "Add"):
        return str(shapes[0])
    return str(shapes)


# ------------------------------------------------------------ DOT helpers
def _q(value) -> str:
    """A quoted DOT string; the text is already escaped for its use (record labels: _rec)."""
    return f'"{value}"'


_RECORD_SPECIAL = re.compile(r'([{}|<>"\\])')


def _rec(text: str) -> str:
    """Escape record-label specials; spaces stay (Graphviz keeps inner spaces)."""
    return _RECORD_SPECIAL.sub(r"\\\1", text)


def _attrs(**kw) -> str:
    return ", ".join(f"{k}={v if isinstance(v, str) and v.startswith('<') else _q(v)}"
                     for k, v in kw.items() if v is not None)


def _graph_header(k: dict, extra: dict | None = None) -> list[str]:
    g = {"rankdir": k["rankdir"], "dpi": k["dpi"], "splines": "ortho" if k["splines"] == "ortho" else
         {"spline": "true", "polyline": "polyline", "line": "line"}[k["splines"]],
         "concentrate": "true" if k["concentrate"] else "false",
         "nodesep": k["nodesep"], "ranksep": k["ranksep"], "bgcolor": k["background"]}
    if extra:
        g.update(extra)
    lines = ["digraph G {"]
    lines += [f"  {key}={_q(v)};" for key, v in g.items()]
    lines.append(f"  edge [{_attrs(color=k['edge_color'], penwidth=k['penwidth'], arrowhead=k['arrowhead'], arrowsize=k['arrowsize'], fontname=k['fontname'], fontsize=k['fontsize'], fontcolor=k['font_color'])}];")
    return lines


def _type_color(node: Node) -> str:
    colors = load_styles()["type_colors"]
    return colors.get(caffe_type(node), colors["default"])


def _fill(k: dict, node: Node) -> str | None:
    fill = k["fill_color"]
    if fill == "by_type":
        return _type_color(node)
    return None if fill == "none" else fill


def _edges_by_target(graph: Graph) -> list[tuple[str, str]]:
    seen, out = set(), []
    for node in graph.nodes:
        for src in node.inputs:
            if (src, node.name) not in seen:
                seen.add((src, node.name))
                out.append((src, node.name))
    return out


# ------------------------------------------------------------ keras3
def _html(text: str) -> str:
    """Escape text for an HTML-like label of a record node: besides & < > ",
    Graphviz reads { } | as record structure (so character references) and
    expands backslash escapes such as \\N (so a backslash is doubled)."""
    out = html.escape(text).replace("\\", "\\\\")
    for ch in "{}|":
        out = out.replace(ch, f"&#{ord(ch)};")
    return out


def _keras3_label(graph: Graph, node: Node, k: dict) -> str:
    name, cls = _html(node.name), _html(keras_class(node.type))
    fs = k["fontsize"]
    hs = round(fs * 16 / 14, 2)
    fill = _fill(k, node) or k["background"]
    colspan = 2 if k["show_shapes"] else 1
    if k["show_layer_names"] and k["show_types"]:
        head = f"<b>{name}</b> ({cls})"
    else:
        head = f"<b>{name if k['show_layer_names'] else cls}</b>"
    t = (f'<<table border="0" cellborder="1" bgcolor="{k["border_color"]}" color="{k["border_color"]}" '
         f'cellpadding="{k["cellpadding"]}">'
         f'<tr><td colspan="{colspan}" bgcolor="{k["header_color"]}">'
         f'<font point-size="{hs}" color="{k["header_fontcolor"]}">{head}</font></td></tr>')
    if k["show_shapes"]:
        cells = []
        if node.type != "Input":
            cells.append(("Input shape: ", _keras_input_shape(graph, node)))
        cells.append(("Output shape: ", keras_shape(graph.shapes[node.name].shape)))
        t += "<tr>" + "".join(
            f'<td bgcolor="{fill}"><font point-size="{fs}" color="{k["font_color"]}">{_html(a)}<b>{_html(b)}</b></font></td>'
            for a, b in cells) + "</tr>"
    return t + "</table>>"


def _layer_boxes(graph: Graph, k: dict, node_shape: str, attrs) -> Diagram:
    """A Keras-look diagram: one box per layer (`attrs(node)` -> its DOT attributes), edges between them."""
    d = Diagram(dot="")
    lines = _graph_header(k)
    lines.append(f"  node [shape={node_shape}];")
    ids = {}
    for i, node in enumerate(graph.nodes):
        ids[node.name] = f"L{i}"
        d.nodes.append(DotNode(f"L{i}", "layer", node.name, node.type))
        lines.append(f"  L{i} [{_attrs(**attrs(node))}];")
    for src, dst in _edges_by_target(graph):
        d.edges.append(DotEdge(ids[src], ids[dst], src, dst))
        d.layer_edges.append([src, dst])
        lines.append(f"  {ids[src]} -> {ids[dst]};")
    lines.append("}")
    d.dot = "\n".join(lines) + "\n"
    return d


def _keras3(graph: Graph, k: dict) -> Diagram:
    return _layer_boxes(graph, k, "record", lambda node: dict(
        label=_keras3_label(graph, node, k), fontname=k["fontname"], border="0", margin="0",
        color=k["border_color"], penwidth=k["node_penwidth"]))


# ------------------------------------------------------------ keras2
def _keras2_label(graph: Graph, node: Node, k: dict) -> str:
    cls = keras_class(node.type)
    if k["show_layer_names"] and k["show_types"]:
        head = f"{node.name}: {cls}"
    else:
        head = node.name if k["show_layer_names"] else cls
    if not k["show_shapes"]:
        return _rec(head)
    out_shape = keras_shape(graph.shapes[node.name].shape)
    in_shape = out_shape if node.type == "Input" else _keras_input_shape(graph, node)
    return f"{_rec(head)}\\n|{{input:|output:}}|{{{{{_rec(in_shape)}}}|{{{_rec(out_shape)}}}}}"


def _node_style(k: dict, fill: str | None) -> dict:
    return {"style": "filled" if fill else None, "fillcolor": fill, "color": k["border_color"],
            "penwidth": k["node_penwidth"], "fontname": k["fontname"], "fontsize": k["fontsize"],
            "fontcolor": k["font_color"]}


def _keras2(graph: Graph, k: dict) -> Diagram:
    return _layer_boxes(graph, k, k["node_shape"], lambda node: dict(
        label=_keras2_label(graph, node, k), **_node_style(k, _fill(k, node))))


# ------------------------------------------------------------ caffe
def _pad_of(padding, in_shape, k, s, d=1) -> int:
    if padding == "valid":
        return 0
    if padding == "same":
        return same_padding(in_shape[0], k, s, d)[0] if in_shape else 0
    if isinstance(padding, (list, tuple)):
        return int(padding[0])
    return int(padding)


def _first(v) -> int:
    return int(v[0]) if isinstance(v, (list, tuple)) else int(v)


def caffe_label_parts(graph: Graph, node: Node, k: dict) -> list[str]:
    """draw.py's descriptors: name, (Type [MAX|AVE]), kernel size / stride / pad."""
    ctype = caffe_type(node)
    p = node.params
    parts = []
    if k["show_layer_names"]:
        parts.append(node.name)
    if k["show_types"]:
        if ctype == "Pooling":
            fn = "MAX" if node.type == "MaxPool2D" else "AVE"
            parts.append(f"({ctype} {fn})")
        else:
            parts.append(f"({ctype})")
    if k["show_params"] and ctype in ("Convolution", "Deconvolution", "Pooling"):
        in_shape = graph.shapes[node.inputs[0]].shape if node.inputs else ()
        if node.type == "GlobalAvgPool2D":
            kernel, stride, pad = 0, 1, 0            # global_pooling: no kernel_size in the prototxt
        else:
            ksize = p.get("kernel_size", p.get("pool_size", 1))
            kernel, stride = _first(ksize), _first(p.get("strides", 1))
            dil = _first(p.get("dilation_rate", 1))
            pad = _pad_of(p.get("padding", "valid"), in_shape, kernel, stride, dil)
        parts += [f"kernel size: {kernel}", f"stride: {stride}", f"pad: {pad}"]
    return parts


def caffe_num_output(graph: Graph, node: Node) -> int | None:
    if caffe_type(node) not in ("Convolution", "Deconvolution", "InnerProduct"):
        return None
    p = node.params
    if "filters" in p:
        return int(p["filters"])
    if "units" in p:
        return int(p["units"])
    if "depth_multiplier" in p and node.inputs:
        return int(graph.shapes[node.inputs[0]].shape[-1] * p["depth_multiplier"])
    return int(graph.shapes[node.name].shape[-1])


def _caffe(graph: Graph, k: dict) -> Diagram:
    d = Diagram(dot="")
    lines = _graph_header(k)
    sep = "\\n" if k["rankdir"] == "LR" else " "
    consumed = {i for n in graph.nodes for i in n.inputs}
    blob_style = {"shape": k["blob_shape"], "style": "filled" if k["blob_color"] != "none" else None,
                  "fillcolor": None if k["blob_color"] == "none" else k["blob_color"],
                  "color": k["border_color"], "penwidth": k["node_penwidth"], "fontname": k["fontname"],
                  "fontsize": k["fontsize"], "fontcolor": k["font_color"]}
    plain_blob = {"color": k["border_color"], "penwidth": k["node_penwidth"], "fontname": k["fontname"],
                  "fontsize": k["fontsize"], "fontcolor": k["font_color"]}
    fill_choice = k["fill_color"]
    lid, bid = {}, {}
    for i, node in enumerate(graph.nodes):
        lid[node.name], bid[node.name] = f"L{i}", f"B{i}"
    for i, node in enumerate(graph.nodes):
        fill = _type_color(node) if fill_choice == "by_type" else (None if fill_choice == "none" else fill_choice)
        label = sep.join(_rec(part) for part in caffe_label_parts(graph, node, k))
        d.nodes.append(DotNode(lid[node.name], "layer", node.name, node.type))
        lines.append(f"  {lid[node.name]} [{_attrs(label=label, shape=k['node_shape'], **_node_style(k, fill))}];")
        d.nodes.append(DotNode(bid[node.name], "blob", node.name, node.type))
        style = plain_blob if (k["output_blob_plain"] and node.name not in consumed) else blob_style
        lines.append(f"  {bid[node.name]} [{_attrs(label=_rec(node.name), **style)}];")
    for src, dst in _edges_by_target(graph):
        d.layer_edges.append([src, dst])
    for node in graph.nodes:
        seen = set()
        for src in node.inputs:
            if src in seen:
                continue
            seen.add(src)
            d.edges.append(DotEdge(bid[src], lid[node.name], src, node.name))
            lines.append(f"  {bid[src]} -> {lid[node.name]};")
        num = caffe_num_output(graph, node) if k["edge_labels"] else None
        label = None if num is None else str(num)
        d.edges.append(DotEdge(lid[node.name], bid[node.name], node.name, node.name, label))
        lines.append(f"  {lid[node.name]} -> {bid[node.name]}" + (f" [label={_q(label)}];" if label else ";"))
    lines.append("}")
    d.dot = "\n".join(lines) + "\n"
    return d


BUILDERS = {"keras3": _keras3, "keras2": _keras2, "caffe": _caffe}


def build_diagram(graph: Graph, knobs: dict) -> Diagram:
    """DOT text and node/edge meaning for resolved knobs."""
    return BUILDERS[knobs["look"]](graph, knobs)
