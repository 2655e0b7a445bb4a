"""Fuse a table's graph and a figure's graph of the same model, recording where each part came from.

    fused, prov = fuse_graphs(table_doc, figure_doc)

Tables give hyper-parameters (kernel, filters, strides, units) but seldom the
connections; diagrams give the connections (branches, merges, skips) but
seldom every parameter.  The two layer-type sequences (Input and Flatten
left out) are aligned (longest matching blocks, in order):

* the figure is a chain: the fused graph is the table's, each layer marked
  ``confirmed`` by the figure node it matched, or ``table only``;
* the figure branches: the fused graph takes the figure's nodes and
  connections; a matched node takes the table's parameters (and the table's
  Input shape replaces the figure's); figure-only nodes (a Concat, a side
  branch) keep the figure's parameters.  The table's layers after the last
  one the figure shows (a figure of the first blocks) continue the graph from
  the figure's single output; other table-only layers cannot be placed in the
  figure's structure and are listed as ``dropped``.

Every node's ``meta.source`` says ``{"type", "params", "edges"}`` -> ``table`` /
``figure`` / ``table+figure``; ``prov`` sums it up for the report: the
similarity, the counts, and one row per layer.  The same fusion serves a model
the body text states as a layer chain (``kind="text"``: the labels say ``text``).

Disagreements are flagged, never settled silently: a matched layer whose drawing
prints a parameter the table (or text) states otherwise keeps the table's value
and lists ``{"param", "kept", "figure"}`` in its row's ``disagree`` (and
``meta.disagree``); a layer of one source standing where the other has a layer of
another type (the same place in both sequences) is listed with both types in
``prov["type_disagreements"]``.

The body text fills what a drawing leaves out (:func:`fill_from_text`, with the values
:func:`.text_arch.text_values` finds): a group drawn with "N×" is unrolled N times, attention
gets its heads and key width, a feed-forward block its widths, an embedding its width, a dropout
its rate; each value filled records the page and words it came from (``meta.from_text``).  A
value the drawing already shows and the text states otherwise is not overwritten: its row says
``"disagrees": <the drawing's value>`` (and the layer's ``meta.text_disagrees``).
"""
from __future__ import annotations

import copy
import difflib
import re

SKIP = ("Input", "Flatten")


def _seq(doc):
    return [(i, n) for i, n in enumerate(doc.get("layers", [])) if n["layer_type"] not in SKIP]


def similarity(a: dict, b: dict) -> float:
    ta = [n["layer_type"] for _, n in _seq(a)]
    tb = [n["layer_type"] for _, n in _seq(b)]
    return difflib.SequenceMatcher(None, ta, tb, autojunk=False).ratio() if ta or tb else 0.0


MERGES = ("Concat", "Add", "Multiply", "Average", "Maximum")


def coverage(table: dict, figure: dict) -> float:
    """Share of the figure's layers that match the table's, in order (a figure showing the
    first blocks of the table's model scores 1); merge nodes (Concat, Add), which a table
    cannot show, are not counted."""
    n = sum(1 for _, x in _seq(figure) if x["layer_type"] not in MERGES)
    return min(1.0, len(_align(table, figure)) / n) if n else 0.0


def branches(doc: dict) -> bool:
    """True when a node has several inputs or feeds several nodes."""
    uses: dict[str, int] = {}
    for n in doc.get("layers", []):
        fl = n.get("from_layers") or []
        if len(fl) > 1:
            return True
        for f in fl:
            uses[f] = uses.get(f, 0) + 1
    return any(v > 1 for v in uses.values())


def _align(table: dict, figure: dict) -> list[tuple[int, int]]:
    st, sf = _seq(table), _seq(figure)
    sm = difflib.SequenceMatcher(None, [n["layer_type"] for _, n in st], [n["layer_type"] for _, n in sf],
                                 autojunk=False)
    pairs = []
    for blk in sm.get_matching_blocks():
        for k in range(blk.size):
            pairs.append((st[blk.a + k][0], sf[blk.b + k][0]))
    return pairs


def _row(n, meta, **extra):
    src = meta["source"]
    row = {"layer": n["layer_name"], "layer_type": n["layer_type"], "type_from": src["type"],
           "params_from": src["params"], "edges_from": src["edges"], **extra}
    if meta.get("disagree"):
        row["disagree"] = meta["disagree"]
    return row


def _same(a, b) -> bool:
    """Two parameter values equal up to notation: 3, [3, 3] and "3x3" are one kernel."""
    def norm(v):
        if isinstance(v, str):
            parts = re.split(r"\s*[x×*,]\s*", v.strip().lower())
            if all(re.fullmatch(r"\d+", p) for p in parts):
                v = [int(p) for p in parts]
            else:
                return v.strip().lower()
        if isinstance(v, (list, tuple)):
            v = [norm(x) for x in v]
            return v[0] if v and all(x == v[0] for x in v) else tuple(v)
        if isinstance(v, float) and v.is_integer():
            return int(v)
        return v
    return norm(a) == norm(b)


def _disagree(kept: dict, drawn: dict) -> list[dict]:
    """The parameters both nodes state with different values: ``{"param", "kept", "figure"}``."""
    kp, dp = kept.get("layer_params") or {}, drawn.get("layer_params") or {}
    return [{"param": k, "kept": kp[k], "figure": dp[k]} for k in sorted(set(kp) & set(dp))
            if not _same(kp[k], dp[k])]


def _type_disagreements(table: dict, figure: dict) -> list[dict]:
    """Layers standing at the same place in both type sequences with different types (a replaced
    run of equal length): ``{"layer", "layer_type", "figure_node", "figure_type"}``."""
    st, sf = _seq(table), _seq(figure)
    sm = difflib.SequenceMatcher(None, [n["layer_type"] for _, n in st], [n["layer_type"] for _, n in sf],
                                 autojunk=False)
    out = []
    for op, a1, a2, b1, b2 in sm.get_opcodes():
        if op == "replace" and a2 - a1 == b2 - b1:
            for (_, a), (_, b) in zip(st[a1:a2], sf[b1:b2]):
                out.append({"layer": a["layer_name"], "layer_type": a["layer_type"],
                            "figure_node": b["layer_name"], "figure_type": b["layer_type"]})
    return out


def fuse_graphs(table: dict, figure: dict, *, figure_id: str = "figure", kind: str = "table") -> tuple[dict, dict]:
    """(fused graph doc, provenance); see the module docstring.  `table`: the graph with the
    parameters, read from a table (``kind="table"``) or the body text (``kind="text"``)."""
    pairs = _align(table, figure)
    sim = similarity(table, figure)
    tl, fl = table["layers"], figure["layers"]
    rows = []
    both = f"{kind}+figure"
    if not branches(figure):
        out = copy.deepcopy(table)
        matched = {ti: fi for ti, fi in pairs}
        for i, n in enumerate(out["layers"]):
            meta = n.setdefault("meta", {})
            if i in matched:
                meta["source"] = {"type": both, "params": kind, "edges": kind}
                meta["figure_node"] = fl[matched[i]]["layer_name"]
                if _disagree(n, fl[matched[i]]):
                    meta["disagree"] = _disagree(n, fl[matched[i]])
            else:
                meta["source"] = {"type": kind, "params": kind, "edges": kind}
            rows.append(_row(n, meta, figure_node=meta.get("figure_node")))
        mode = f"{kind} structure, confirmed by the figure"
        dropped = [fl[i]["layer_name"] for i, _ in _seq(figure) if i not in set(matched.values())]
    else:
        out = copy.deepcopy(figure)
        out["name"] = table.get("name", figure.get("name"))
        by_fig = {fi: ti for ti, fi in pairs}
        t_input = next((n for n in tl if n["layer_type"] == "Input"), None)
        for i, n in enumerate(out["layers"]):
            meta = n.setdefault("meta", {})
            if n["layer_type"] == "Input" and t_input is not None:
                n["layer_params"] = copy.deepcopy(t_input["layer_params"])
                meta["source"] = {"type": both, "params": kind, "edges": "figure"}
            elif i in by_fig:
                src = tl[by_fig[i]]
                if _disagree(src, n):
                    meta["disagree"] = _disagree(src, n)
                n["layer_params"] = copy.deepcopy(src.get("layer_params", {}))
                meta["source"] = {"type": both, "params": kind, "edges": "figure"}
                meta["table_cell"] = (src.get("meta") or {}).get("cell")
            else:
                meta["source"] = {"type": "figure", "params": "figure", "edges": "figure"}
            rows.append(_row(n, meta, table_cell=meta.get("table_cell")))
        # matched layers take the table's names (text, where the figure's were read by OCR)
        rename = {}
        taken = {n["layer_name"] for n in out["layers"]}
        for i, n in enumerate(out["layers"]):
            ti = by_fig.get(i)
            if ti is not None and tl[ti]["layer_name"] != n["layer_name"] and tl[ti]["layer_name"] not in taken:
                rename[n["layer_name"]] = tl[ti]["layer_name"]
                n.setdefault("meta", {})["figure_name"] = n["layer_name"]
                taken.add(tl[ti]["layer_name"])
        for n in out["layers"]:
            n["layer_name"] = rename.get(n["layer_name"], n["layer_name"])
            n["from_layers"] = [rename.get(f, f) for f in n.get("from_layers") or []]
        for r in rows:
            r["layer"] = rename.get(r["layer"], r["layer"])
        mode = f"figure structure (branches), {kind} parameters"
        used = {ti for ti, _ in pairs}
        # the table's layers after the figure's part (a figure often shows the first blocks only)
        # continue from the figure's one output
        last = max(used) if used else None
        tail = [i for i in range(len(tl)) if last is not None and i > last]
        consumed = {f for n in out["layers"] for f in n.get("from_layers") or []}
        sinks = [n for n in out["layers"] if n["layer_name"] not in consumed]
        if tail and len(sinks) == 1:
            names = {n["layer_name"] for n in out["layers"]}
            prev = sinks[0]["layer_name"]
            for i in tail:
                node = copy.deepcopy(tl[i])
                base, k = node["layer_name"], 2
                while node["layer_name"] in names:
                    node["layer_name"] = f"{base}_{k}"
                    k += 1
                names.add(node["layer_name"])
                node["from_layers"] = [prev]
                meta = node.setdefault("meta", {})
                meta["source"] = {"type": kind, "params": kind, "edges": kind}
                out["layers"].append(node)
                rows.append(_row(node, meta, table_cell=meta.get("cell")))
                prev = node["layer_name"]
            mode += f", then the {kind}'s remaining layers"
            used |= set(tail)
        dropped = [tl[i]["layer_name"] for i, _ in _seq(table) if i not in used]
    out.setdefault("source", {})
    out["source"] = dict(out["source"], fused_with=figure_id, fusion=mode)
    prov = {"figure": figure_id, "kind": kind, "similarity": round(sim, 3), "mode": mode, "matched": len(pairs),
            "dropped": dropped, "layers": rows,
            "disagreements": sum(1 for r in rows if r.get("disagree")),
            "type_disagreements": _type_disagreements(table, figure)}
    return out, prov


def fill_from_text(doc: dict, values: dict) -> list[dict]:
    """Values the body text states (``{"N": {"value", "page", "text"}, "d_model", "heads", "d_ff",
    "dropout"}``) put into a figure's graph where the drawing leaves them out; ``doc`` is changed
    in place.  Returns one row per value filled: ``{"layer", "param", "value", "page", "text"}``, and
    one per value the drawing shows otherwise, with ``"disagrees": <the drawing's value>``."""
    changes: list[dict] = []

    def put(layer, param, name, value=None):
        v = values.get(name)
        if v is None:
            return
        val = v["value"] if value is None else value
        if param in layer.get("layer_params", {}):
            drawn = layer["layer_params"][param]
            if not _same(drawn, val):
                layer.setdefault("meta", {}).setdefault("text_disagrees", {})[param] = \
                    {"text": val, "page": v["page"], "words": v["text"]}
                changes.append({"layer": layer["layer_name"], "param": param, "value": val, "page": v["page"],
                                "text": v["text"], "disagrees": drawn})
            return
        layer.setdefault("layer_params", {})[param] = val
        layer.setdefault("meta", {}).setdefault("from_text", {})[param] = f"page {v['page']}: {v['text']}"
        changes.append({"layer": layer["layer_name"], "param": param, "value": val, "page": v["page"],
                        "text": v["text"]})

    n = values.get("N")
    if n and isinstance(n["value"], int) and n["value"] > 1:
        groups = sorted({l["meta"]["repeat_group"] for l in doc["layers"]
                         if l.get("meta", {}).get("repeat_symbol") == "N" and "repeat_group" in l["meta"]})
        for g in groups:
            if _unroll_group(doc, g, n["value"]):
                changes.append({"layer": g, "param": "repeat", "value": n["value"], "page": n["page"],
                                "text": n["text"]})
    d_model, heads = values.get("d_model"), values.get("heads")
    for layer in doc["layers"]:
        t = layer["layer_type"]
        if t == "MultiHeadAttention":
            put(layer, "num_heads", "heads")
            if d_model and heads and isinstance(d_model["value"], int) and isinstance(heads["value"], int) \
                    and d_model["value"] % heads["value"] == 0:
                put(layer, "key_dim", "d_model", d_model["value"] // heads["value"])
        elif t == "feed_forward":
            put(layer, "units", "d_model")
            put(layer, "d_ff", "d_ff")
        elif t == "Embedding":
            put(layer, "output_dim", "d_model")
        elif t == "Dropout":
            put(layer, "rate", "dropout")
    return changes


def _unroll_group(doc: dict, group: str, times: int) -> bool:
    """The layers of `group` (``meta.repeat_group``), written `times` times in a chain: each copy
    reads the previous copy's output where the first reads the group's main input (the input of its
    first layer from outside); other inputs from outside (an encoder's output into every decoder
    layer) stay.  Only a group with one output used outside is unrolled."""
    layers = doc["layers"]
    idx = [i for i, l in enumerate(layers) if l.get("meta", {}).get("repeat_group") == group]
    names = {layers[i]["layer_name"] for i in idx}
    if not idx:
        return False
    first = layers[idx[0]]
    outside_in = [f for f in first["from_layers"] if f not in names]
    main = outside_in[0] if outside_in else None
    used_outside = {f for l in layers if l["layer_name"] not in names for f in l["from_layers"] if f in names}
    if len(used_outside) != 1 or main is None:
        return False
    (exit_,) = used_outside
    taken = {l["layer_name"] for l in layers}
    new, prev_exit = [], exit_
    for k in range(2, times + 1):
        rename = {}
        for i in idx:
            nm = f"{layers[i]['layer_name']}_{k}"
            while nm in taken:
                nm += "_"
            taken.add(nm)
            rename[layers[i]["layer_name"]] = nm
        for i in idx:
            c = copy.deepcopy(layers[i])
            c["layer_name"] = rename[c["layer_name"]]
            c["from_layers"] = [rename.get(f, prev_exit if f == main else f) for f in c["from_layers"]]
            c["meta"]["repeat_index"] = k
            new.append(c)
        prev_exit = rename[exit_]
    for l in layers:
        if l["layer_name"] not in names:
            l["from_layers"] = [prev_exit if f == exit_ else f for f in l["from_layers"]]
    at = idx[-1] + 1
    doc["layers"] = layers[:at] + new + layers[at:]
    for c in new:
        c["meta"].pop("repeat_symbol", None)
    for i in idx:
        layers[i]["meta"]["repeat_index"] = 1
    return True


__all__ = ["fuse_graphs", "similarity", "coverage", "branches", "fill_from_text"]
