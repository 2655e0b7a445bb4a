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
similarity, the counts, and one row per layer.
"""
from __future__ import annotations

import copy
import difflib

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
    return {"layer": n["layer_name"], "layer_type": n["layer_type"], "type_from": src["type"],
            "params_from": src["params"], "edges_from": src["edges"], **extra}


def fuse_graphs(table: dict, figure: dict, *, figure_id: str = "figure") -> tuple[dict, dict]:
    """(fused graph doc, provenance); see the module docstring."""
    pairs = _align(table, figure)
    sim = similarity(table, figure)
    tl, fl = table["layers"], figure["layers"]
    rows = []
    if not branches(figure):
        out = copy.deepcopy(table)
        matched = {ti: fi for ti, fi in pairs}
        for i, n in enumerate(out["layers"]):
            meta = n.setdefault("meta", {})
            if i in matched:
                meta["source"] = {"type": "table+figure", "params": "table", "edges": "table"}
                meta["figure_node"] = fl[matched[i]]["layer_name"]
            else:
                meta["source"] = {"type": "table", "params": "table", "edges": "table"}
            rows.append(_row(n, meta, figure_node=meta.get("figure_node")))
        mode = "table structure, confirmed by the figure"
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
                meta["source"] = {"type": "table+figure", "params": "table", "edges": "figure"}
            elif i in by_fig:
                src = tl[by_fig[i]]
                n["layer_params"] = copy.deepcopy(src.get("layer_params", {}))
                meta["source"] = {"type": "table+figure", "params": "table", "edges": "figure"}
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
        mode = "figure structure (branches), table parameters"
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
                meta["source"] = {"type": "table", "params": "table", "edges": "table"}
                out["layers"].append(node)
                rows.append(_row(node, meta, table_cell=meta.get("cell")))
                prev = node["layer_name"]
            mode += ", then the table's remaining layers"
            used |= set(tail)
        dropped = [tl[i]["layer_name"] for i, _ in _seq(table) if i not in used]
    out.setdefault("source", {})
    out["source"] = dict(out["source"], fused_with=figure_id, fusion=mode)
    prov = {"figure": figure_id, "similarity": round(sim, 3), "mode": mode, "matched": len(pairs),
            "dropped": dropped, "layers": rows}
    return out, prov


__all__ = ["fuse_graphs", "similarity", "coverage", "branches"]
