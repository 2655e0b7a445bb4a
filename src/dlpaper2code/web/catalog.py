"""Reading the catalog for the routes: paper and version lookups that answer 404, the
catalog search with its filters and facets, and the JSON shapes of papers and versions."""
from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import load_only

from ..emit.codegen import TARGETS
from .db import Paper, Version
from .service import BadRequest, diff_summary

_AUTHOR = re.compile(r"[\x00-\x1f\x7f]")
_LIGHT = load_only(Paper.slug, Paper.title, Paper.status, Paper.confidence, Paper.frameworks, Paper.layer_types,
                   Paper.figure_styles, Paper.rating_sum, Paper.rating_count, Paper.search_text)


def clean_author(value: Any) -> str:
    text = _AUTHOR.sub("", str(value or "")).strip()[:100]
    return text or "anonymous"


def filters(params) -> dict:
    """The catalog filters in a query string (each trimmed to 200 characters; empty ones dropped)."""
    out = {}
    for key in ("q", "framework", "layer", "style", "min_rating", "sort"):
        value = (params.get(key) or "").strip()
        if value:
            out[key] = value[:200]
    return out


def paper_summary(p: Paper) -> dict:
    return {"slug": p.slug, "title": p.title, "status": p.status, "confidence": p.confidence,
            "frameworks": p.frameworks, "layer_types": p.layer_types, "figure_styles": p.figure_styles,
            "rating": p.rating, "ratings": p.rating_count}


def version_dict(v: Version, with_graph: bool = False) -> dict:
    out = {"number": v.number, "parent": v.parent, "author": v.author, "message": v.message,
           "created": v.created.isoformat(timespec="seconds") + "Z",
           "valid": bool(v.valid), "diff": v.diff, "summary": diff_summary(v.diff or {})}
    if with_graph:
        out["graph"] = v.graph
    return out


def get_paper(db, s, slug: str) -> Paper:
    paper = db.paper(s, slug)
    if paper is None:
        raise BadRequest(404, f"no paper named '{slug}' in the catalog")
    return paper


def get_version(s, paper: Paper, number: int | None) -> Version | None:
    """Version ``number`` of ``paper`` (404 if there is none), or its latest (None if it has no versions)."""
    q = select(Version).where(Version.paper_id == paper.id)
    if number is None:
        return s.scalars(q.order_by(Version.number.desc())).first()
    v = s.scalars(q.where(Version.number == number)).first()
    if v is None:
        raise BadRequest(404, f"paper '{paper.slug}' has no version {number}")
    return v


def query_papers(s, f: dict) -> list[Paper]:
    """The papers matching the filters ``f`` (see ``filters``), in the order they ask for."""
    stmt = select(Paper).options(_LIGHT).order_by(Paper.slug)
    for word in f.get("q", "").lower().split()[:10]:
        stmt = stmt.where(Paper.search_text.contains(word, autoescape=True))
    papers = s.scalars(stmt).all()
    out = []
    for p in papers:
        if f.get("framework") and f["framework"] not in (p.frameworks or []):
            continue
        if f.get("layer") and f["layer"] not in (p.layer_types or []):
            continue
        if f.get("style") and f["style"] not in (p.figure_styles or []):
            continue
        if f.get("min_rating"):
            try:
                want = float(f["min_rating"])
            except ValueError:
                raise BadRequest(422, "min_rating must be a number from 1 to 5") from None
            if p.rating is None or p.rating < want:
                continue
        out.append(p)
    sort = f.get("sort")
    if sort == "rating":
        out.sort(key=lambda p: (-(p.rating or 0), p.slug))
    elif sort == "confidence":
        out.sort(key=lambda p: (-(p.confidence or 0), p.slug))
    return out


def facets(s) -> dict:
    """The values the catalog's filter menus offer: frameworks, layer types and figure styles in use."""
    papers = s.scalars(select(Paper).options(_LIGHT)).all()
    return {"frameworks": [t for t in TARGETS if any(t in (p.frameworks or []) for p in papers)],
            "layers": sorted({t for p in papers for t in (p.layer_types or [])}),
            "styles": sorted({t for p in papers for t in (p.figure_styles or [])})}
