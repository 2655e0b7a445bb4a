"""Figures and tables found on real pages, scored against regions drawn by hand.

    s = score_regions(truth, figures, tables)       # one paper
    total = sum_regions([s, ...])                   # several papers

``truth`` is ``data/realpapers/regions/<paper>.json`` (``regions``: kind, number, page, box,
caption; a "Figure N" caption over a table has ``body: "table"``).  ``figures`` and
``tables`` are what the paper route reports (``report.json``: page, box, caption).  A found
region is right when it lies on the truth's page and covers its box at IoU >= 0.8 (the
measure PDFFigures 2.0 reports); pairs are matched greedily, best IoU first, a region at most
once.  Precision counts every region the route reports (an uncaptioned drawing or a table's
rules taken for a figure are false positives: the truth holds every captioned figure and
table of the paper); recall counts the truth's regions.  A matched region's caption is right
when its number is the truth's and its text is the same up to spacing, hyphenation and case
(similarity >= 0.9).
"""
from __future__ import annotations

import difflib
import re

from ..paper.common import iou

IOU_MIN = 0.8
CAPTION_MIN = 0.9
_NUM = re.compile(r"^\s*(?:table|tab\.?|figure|fig\.?)\s*([0-9]+|[ivxlc]+)\b", re.I)


def caption_number(caption: str | None) -> str | None:
    m = _NUM.match(caption or "")
    return m.group(1).lower() if m else None


def _norm(text: str | None) -> str:
    t = re.sub(r"(\w)-\s+(\w)", r"\1\2", text or "")          # a word hyphenated at a line end
    return re.sub(r"[^a-z0-9]+", "", t.lower())


def caption_right(truth: dict, found: dict) -> bool:
    if caption_number(found.get("caption")) != str(truth.get("number", "")).lower():
        return False
    a, b = _norm(truth.get("caption")), _norm(found.get("caption"))
    return bool(a) and difflib.SequenceMatcher(None, a, b, autojunk=False).ratio() >= CAPTION_MIN


def match_boxes(a: list[dict], b: list[dict], iou_min: float = IOU_MIN) -> list[tuple[int, int, float]]:
    """Greedy one-to-one pairs (i in a, j in b, IoU) on the same page, best IoU first, each at
    least `iou_min`."""
    pairs = sorted(((iou(x["box"], y["box"]), i, j) for i, x in enumerate(a) for j, y in enumerate(b)
                    if x.get("page") == y.get("page") and x.get("box") and y.get("box")), reverse=True)
    used_a, used_b, out = set(), set(), []
    for v, i, j in pairs:
        if v < iou_min:
            break
        if i in used_a or j in used_b:
            continue
        used_a.add(i)
        used_b.add(j)
        out.append((i, j, v))
    return out


def _score(truth: list[dict], found: list[dict]) -> dict:
    pairs = match_boxes(truth, found)
    rows = []
    matched = {i: (j, v) for i, j, v in pairs}
    for i, t in enumerate(truth):
        j, v = matched.get(i, (None, 0.0))
        best = max((iou(t["box"], f["box"]) for f in found if f.get("page") == t["page"] and f.get("box")),
                   default=0.0)
        rows.append({"page": t["page"], "number": t.get("number"), "found": j is not None,
                     "iou": round(v if j is not None else best, 3),
                     "caption_right": j is not None and caption_right(t, found[j])})
    extra = [{"page": f.get("page"), "box": f.get("box"), "caption": (f.get("caption") or "")[:60]}
             for j, f in enumerate(found) if j not in {j for _, j, _ in pairs}]
    return {"truth": len(truth), "found": len(found), "matched": len(pairs),
            "captions_right": sum(r["caption_right"] for r in rows), "rows": rows, "unmatched_found": extra}


def score_regions(truth: dict, figures: list[dict], tables: list[dict]) -> dict:
    """One paper: {"figures": ..., "tables": ...}, each with truth, found, matched, captions_right."""
    regions = truth.get("regions", [])
    t_fig = [r for r in regions if r["kind"] == "figure" and r.get("body") != "table"]
    t_tab = [r for r in regions if r["kind"] == "table" or r.get("body") == "table"]
    return {"figures": _score(t_fig, figures or []), "tables": _score(t_tab, tables or [])}


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


def sum_regions(scores: list[dict]) -> dict:
    """Totals over papers: precision, recall and caption accuracy for figures and for tables."""
    out = {}
    for kind in ("figures", "tables"):
        ss = [s[kind] for s in scores if s]
        truth, found, hit, cap = (sum(s[k] for s in ss) for k in ("truth", "found", "matched", "captions_right"))
        out[kind] = {"truth": truth, "found": found, "matched": hit, "precision": _ratio(hit, found),
                     "recall": _ratio(hit, truth), "caption_accuracy": _ratio(cap, hit)}
    return out


__all__ = ["score_regions", "sum_regions", "match_boxes", "caption_right", "caption_number", "iou", "IOU_MIN"]
