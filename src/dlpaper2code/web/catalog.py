"""Reading the catalog for the routes: paper and version lookups that answer 404, the
catalog search with its filters and facets, and the JSON shapes of papers and versions."""
from __future__ import annotations

import re
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import load_only

from ..emit.codegen import TARGETS
from .db import Paper, PaperTag, Version, search_form
from .service import BadRequest, diff_summary

_AUTHOR = re.compile(r"[\x00-\x1f\x7f]")
_LIGHT = load_only(Paper.slug, Paper.title, Paper.status, Paper.confidence, Paper.frameworks, Paper.layer_types,
                   Paper.figure_styles, Paper.rating_sum, Paper.rating_count, Paper.authors, Paper.arxiv_id)


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
            "rating": p.rating, "ratings": p.rating_count, "authors": p.authors or [], "arxiv_id": p.arxiv_id or ""}


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


PER_PAGE = 50


def _min_rating(f: dict) -> float | None:
    if not f.get("min_rating"):
        return None
    try:
        want = float(f["min_rating"])
    except ValueError:
        raise BadRequest(422, "min_rating must be a number from 1 to 5") from None
    if want != want:   # NaN
        raise BadRequest(422, "min_rating must be a number from 1 to 5")
    return want


def _filtered(stmt, f: dict):
    """``stmt`` narrowed by the filters ``f``, all in SQL: words against ``search_text`` (LIKE),
    framework/layer/style through ``paper_tag`` (its (kind, value) index), the rating from its sum
    and count."""
    for word in search_form(f.get("q", "")).split()[:10]:
        stmt = stmt.where(Paper.search_text.contains(word, autoescape=True))
    for key in ("framework", "layer", "style"):
        if f.get(key):
            stmt = stmt.where(Paper.id.in_(select(PaperTag.paper_id).where(PaperTag.kind == key,
                                                                           PaperTag.value == f[key])))
    want = _min_rating(f)
    if want is not None:
        stmt = stmt.where(Paper.rating_count > 0, Paper.rating_sum >= want * Paper.rating_count)
    return stmt


def _order(stmt, f: dict):
    sort = f.get("sort")
    if sort == "rating":
        rating = case((Paper.rating_count > 0, Paper.rating_sum * 1.0 / Paper.rating_count), else_=0.0)
        return stmt.order_by(rating.desc(), Paper.slug)
    if sort == "confidence":
        return stmt.order_by(func.coalesce(Paper.confidence, 0.0).desc(), Paper.slug)
    return stmt.order_by(Paper.slug)


def page_number(value) -> int:
    """The ``page`` query value: a whole number from 1 (absent or empty: 1)."""
    text = str(value or "").strip()
    if not text:
        return 1
    if not text.isdigit() or len(text) > 9:
        raise BadRequest(422, "page must be a whole number from 1")
    return max(1, int(text))


def search_papers(s, f: dict, page: int = 1, per_page: int = PER_PAGE) -> dict:
    """One page of the papers matching ``f``: {papers, total (matching), page, pages, per_page,
    first, last} (a page past the end shows the last one)."""
    total = s.scalar(_filtered(select(func.count(Paper.id)), f)) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    stmt = _order(_filtered(select(Paper).options(_LIGHT), f), f).limit(per_page).offset((page - 1) * per_page)
    papers = s.scalars(stmt).all()
    first = (page - 1) * per_page + 1 if papers else 0
    return {"papers": papers, "total": total, "page": page, "pages": pages, "per_page": per_page,
            "first": first, "last": first + len(papers) - 1 if papers else 0}


def query_papers(s, f: dict) -> list[Paper]:
    """Every paper matching the filters ``f`` (see ``filters``), in the order they ask for."""
    return s.scalars(_order(_filtered(select(Paper).options(_LIGHT), f), f)).all()


def facets(s) -> dict:
    """The values the catalog's filter menus offer: frameworks, layer types and figure styles in use."""
    rows = s.execute(select(PaperTag.kind, PaperTag.value).distinct()).all()
    values = {"framework": set(), "layer": set(), "style": set()}
    for kind, value in rows:
        values.setdefault(kind, set()).add(value)
    return {"frameworks": [t for t in TARGETS if t in values["framework"]],
            "layers": sorted(values["layer"]), "styles": sorted(values["style"])}
