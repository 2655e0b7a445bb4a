"""Which graph candidate is the paper's model: every candidate ranked, with its reasons.

A paper shows its own model beside the baselines it compares with and the variants it scales
to; ``graph.json`` (what a user gets first) should be the model the paper proposes.  Each
candidate earns points, each with a reason the report shows:

* where it comes from: an architecture table (the paper's own specification) before the body
  text's own statement (a layer chain, then sentences) before a figure read on its own; a table
  graph that a figure confirms, more;
* a baseline column: in a table comparing configurations, a configuration whose name is
  contained in another one's ("ResNet-50" beside "SE-ResNet-50") is the baseline the other
  builds on;
* the first configuration of a table of variants (the base model: ViT-Base, Swin-T) before the
  larger ones;
* size: a graph of a handful of layers is rarely the model;
* validity: a graph that validates, before one with errors (which is still written, so that the
  editor can open and fix it).

``--model NAME`` (:attr:`PaperOptions.model`) picks the candidate whose name or configuration
contains NAME instead.
"""
from __future__ import annotations

import re

CAPTION_CUES = re.compile(r"\b(proposed|our|ours|architecture|specification|details of|configurations?)\b", re.I)


def _norm(s) -> str:
    return re.sub(r"[^a-z0-9]", "", str(s or "").lower())


def rank_candidates(candidates: list[dict], tables: list[dict] | None = None) -> list[dict]:
    """[{name, score, reasons}] best first (ties keep the candidates' order).  A candidate is a
    dict with ``name``, ``from`` (table / figure / text), ``doc`` and optionally ``table``, ``valid``,
    ``confirmed_by``, ``confidence``."""
    tables = {t["table"]: t for t in (tables or [])}
    configs_of: dict[str, list[str]] = {}
    for c in candidates:
        if c["from"] == "table":
            configs_of.setdefault(c.get("table"), []).append(_config(c))
    out = []
    for order, c in enumerate(candidates):
        score, why = 0.0, []
        layers = [n for n in c["doc"].get("layers", []) if n.get("layer_type") not in ("Input", "Flatten")]
        if c["from"] == "table":
            score += 3.0
            why.append("from an architecture table (+3)")
            cap = (tables.get(c.get("table")) or {}).get("caption") or ""
            if CAPTION_CUES.search(cap.split(". ")[0]):
                score += 0.5
                why.append("its caption presents the model (+0.5)")
            cfg, configs = _config(c), configs_of[c.get("table")]
            if _norm(cfg) and any(_norm(cfg) in _norm(o) and _norm(o) != _norm(cfg) for o in configs):
                score -= 2.0
                why.append(f"'{cfg}' is contained in another configuration's name: a baseline (-2)")
            position = configs.index(cfg)          # the first candidate of this configuration
            if position:
                score -= 0.3 * position
                why.append(f"configuration {position + 1} of its table (-{0.3 * position:.1f})")
        elif c["from"] == "text":
            chain = (c["doc"].get("source") or {}).get("reader") == "chain"
            score += 2.0 if chain else 1.5
            why.append("stated in the body text as a layer chain (+2)" if chain else
                       "stated in the body text by sentences (+1.5)")
        else:
            conf = c.get("confidence")
            score += 1.0 + (float(conf) if isinstance(conf, (int, float)) else 0.0)
            why.append("read from a figure (+1" + (f", confidence +{float(conf):.2f})" if isinstance(conf, (int, float))
                                                  else ")"))
            if c.get("appendix"):
                score -= 0.5
                why.append("drawn after the references, in an appendix (-0.5)")
            if c.get("alternative"):
                score -= 0.75
                why.append("another network drawn in the same figure, not the one its caption names first (-0.75)")
        if c.get("confirmed_by"):
            score += 1.0
            why.append(f"confirmed by {c['confirmed_by'].get('figure')} (+1)")
        if not layers:
            score -= 5.0
            why.append("no layer at all (-5)")
        elif len(layers) < 4:
            score -= 2.5
            why.append(f"only {len(layers)} layer(s) (-2.5)")
        else:
            score += min(0.5, len(layers) / 40)
            why.append(f"{len(layers)} layers (+{min(0.5, len(layers) / 40):.2f})")
        if c.get("valid"):
            score += 0.75
            why.append("validates (+0.75)")
        else:
            why.append("does not validate yet (the editor can fix it)")
        out.append({"name": c["name"], "score": round(score, 3), "reasons": why, "order": order})
    out.sort(key=lambda r: (-r["score"], r["order"]))
    for r in out:
        r.pop("order")
    return out


def _config(c: dict) -> str:
    return str(((c.get("doc") or {}).get("source") or {}).get("configuration") or "")


def pick(ranked: list[dict], candidates: list[dict], model: str = "") -> tuple[str | None, str]:
    """The primary candidate's name and why: the one named by `model`, else the best ranked."""
    if model:
        want = _norm(model)
        for c in candidates:
            if want and (want in _norm(c["name"]) or want == _norm(_config(c))):
                return c["name"], f"chosen with --model {model}"
        names = ", ".join(c["name"] for c in candidates) or "none"
        return (ranked[0]["name"] if ranked else None,
                f"no candidate matches --model {model} (candidates: {names}); the best ranked is used")
    if not ranked:
        return None, "no graph candidate"
    return ranked[0]["name"], "; ".join(ranked[0]["reasons"])


__all__ = ["rank_candidates", "pick"]
