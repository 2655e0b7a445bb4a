"""Import the paper route's output folders (``results/papers/<paper>/``) into the catalog.

A folder holds ``report.json`` (required), ``figures/figures.json`` with crops,
``tables/tables.json``, ``graphs/`` (graph JSON and drawings), ``graph.json``
(the primary graph) and, once that stage exists, ``mex.json`` (the MEX description,
shown on the paper page). The primary graph becomes version 1 of the paper's design,
authored by "extraction". Importing again refreshes the paper's metadata and files
but never touches the versions people saved.
"""
from __future__ import annotations

import json
import mimetypes
import re
import unicodedata
from pathlib import Path

from sqlalchemy import delete, select

from ..emit.codegen import TARGETS
from ..core.graph import parse_graph
from ..formats import mex
from .db import Asset, Database, Paper, Version
from .service import graph_diff

MAX_ASSET_BYTES = 8 << 20
ASSET_SUFFIXES = {".png", ".jpg", ".jpeg", ".json", ".html"}


class ImportError_(Exception):
    """A folder that is not a paper route output (no readable report.json)."""


def slugify(name: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-.")[:120]
    return slug or "paper"


def _read_json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _truth(report: dict, folder: Path) -> dict:
    """The synthetic corpus writes ground truth next to each PDF (title, figure styles)."""
    pdf = Path(report.get("pdf") or "")
    for cand in (pdf.with_suffix(".json"), folder / "truth.json"):
        if cand.suffix == ".json" and cand.is_file():
            data = _read_json(cand)
            if isinstance(data, dict):
                return data
    return {}


def confidence(report: dict, primary: dict | None) -> tuple[float | None, dict]:
    """A heuristic 0..1 confidence in the extracted design, with its parts (shown on the page).

    source: the table classifier's architecture score, or 0.6 for a figure read by the diagram
    reader (no score of its own yet); x1.0 if the graph validates, x0.3 if not; a figure
    confirming a table graph closes half of the remaining gap times the similarity;
    x the share of targets that could emit code."""
    if primary is None:
        return None, {"why": report.get("message") or "no model was recovered"}
    detail: dict = {"from": primary.get("from")}
    if primary.get("from") == "table":
        t = next((t for t in report.get("tables", []) if primary["name"] in t.get("graphs", [])), None)
        base = float(t["score"]) if t and t.get("score") is not None else 0.5
        detail["table_score"] = round(base, 3)
    else:
        base = 0.6
        detail["figure_base"] = base
    value = base * (1.0 if primary.get("valid") else 0.3)
    detail["valid"] = bool(primary.get("valid"))
    conf = primary.get("confirmed_by")
    if conf:
        sim = float(conf.get("similarity") or 0)
        value += (1 - value) * 0.5 * sim
        detail["confirmed_by"] = conf
    code = primary.get("code") or {}
    if code:
        share = sum(1 for c in code.values() if c.get("ok")) / len(code)
        value *= share
        detail["targets_emitted"] = f"{sum(1 for c in code.values() if c.get('ok'))}/{len(code)}"
    return round(value, 3), detail


def _mex_digest(folder: Path, report: dict, graph_doc, title: str) -> dict | list | None:
    """The MEX digest (formats.mex.summary): the mex stage's ``mex.json`` (in the folder or in
    results/mex/<paper>/), else described here from the graph and report; None without a graph."""
    for cand in (folder / "mex.json", folder.parent.parent / "mex" / folder.name / "mex.json"):
        data = _read_json(cand)
        if isinstance(data, (dict, list)):
            return data
    if not isinstance(graph_doc, dict):
        return None
    try:
        g = mex.describe(graph_doc, report, name=folder.name, title=title)
        return mex.summary(g, mex.validate(g))
    except Exception:  # a description that cannot be made leaves the slot empty, never the import
        return None


def paper_metadata(report: dict) -> dict:
    """The report's ``metadata`` (title, authors, arXiv id); for a report written before the route
    read them, read from its PDF when that is still there ({} otherwise)."""
    meta = report.get("metadata")
    if isinstance(meta, dict):
        return meta
    pdf = Path(str(report.get("pdf") or ""))
    if report.get("status") != "failed" and pdf.suffix.lower() == ".pdf" and pdf.is_file():
        from ..paper.metadata import read_metadata

        report["metadata"] = read_metadata(pdf)
        return report["metadata"]
    return {}


def import_paper_dir(db: Database, folder: str | Path, slug: str | None = None) -> str:
    """Import one output folder; returns the paper's slug."""
    folder = Path(folder)
    report = _read_json(folder / "report.json")
    if not isinstance(report, dict):
        raise ImportError_(f"{folder}: no readable report.json (not a paper route output folder)")
    truth = _truth(report, folder)
    slug = slugify(slug or folder.name)
    meta = paper_metadata(report)
    title = str(report.get("title") or truth.get("title") or meta.get("title") or report.get("name") or folder.name)
    title = " ".join(unicodedata.normalize("NFKC", title).split())   # folders written before metadata was NFKC'd

    fig_doc = _read_json(folder / "figures" / "figures.json") or {}
    truth_figs = {f.get("number"): f for f in truth.get("figures", []) if isinstance(f, dict)}
    figures, styles = [], []
    fig_notes = {str(f.get("figure")): f for f in report.get("figures", []) if isinstance(f, dict)}
    tab_notes = {str(t.get("table")): t for t in report.get("tables", []) if isinstance(t, dict)}
    for fig in fig_doc.get("figures", []):
        # the figure classifier's verdict is in report.json's figure entry (figures.json is written
        # before the classifier runs and has no style); older or hand-made folders carry it in figures.json
        note = fig_notes.get(str(fig.get("id")), {})
        style = fig.get("style") or (fig.get("classification") or {}).get("style") or \
            (note.get("classification") or {}).get("style")
        style = str(style) if style else None
        style_source = "classifier" if style else None
        tf = truth_figs.get(fig.get("number"))
        if not style and tf and tf.get("kind") == "architecture" and tf.get("style"):
            style, style_source = tf["style"], "corpus ground truth"
        figures.append({"id": str(fig.get("id")), "caption": str(fig.get("caption") or ""),
                        "page": fig.get("page"), "png": f"figures/{fig['png']}" if fig.get("png") else None,
                        "style": style, "style_source": style_source,
                        "note": str(note.get("why") or "")})
        if style and style not in styles:
            styles.append(style)
    tab_doc = _read_json(folder / "tables" / "tables.json") or {}
    tables = [{"id": str(t.get("id")), "caption": str(t.get("caption") or ""), "page": t.get("page"),
               "cells": t.get("cells") or [], "classification": t.get("classification") or {},
               "graphs": list(tab_notes.get(str(t.get("id")), {}).get("graphs") or [])}
              for t in tab_doc.get("tables", [])]

    primary_name = report.get("primary_graph")
    primary = next((g for g in report.get("graphs", []) if g.get("name") == primary_name), None)
    graph_doc = _read_json(folder / "graph.json") if primary else None
    conf, detail = confidence(report, primary)
    frameworks = [t for t, c in ((primary or {}).get("code") or {}).items() if c.get("ok")] \
        if model_recovered(report) else []     # code of a graph that does not validate is not offered
    layer_types: list[str] = []
    if isinstance(graph_doc, dict):
        try:
            layer_types = sorted({n.type for n in parse_graph(graph_doc).nodes})
        except Exception:  # an invalid extraction still lists what it wrote
            layer_types = sorted({str(l.get("layer_type")) for l in graph_doc.get("layers", [])})

    assets = []
    for sub in ("figures", "graphs"):
        d = folder / sub
        if d.is_dir():
            for p in sorted(d.iterdir()):
                if p.is_file() and p.suffix.lower() in ASSET_SUFFIXES and p.stat().st_size <= MAX_ASSET_BYTES:
                    assets.append((f"{sub}/{p.name}", p.read_bytes()))
    for name in ("report.json", "graph.json"):
        if (folder / name).is_file():
            assets.append((name, (folder / name).read_bytes()))

    with db.write_session() as s, s.begin():
        paper = db.paper(s, slug)
        if paper is None:
            paper = Paper(slug=slug)
            s.add(paper)
        paper.title = title
        paper.source = str(folder)
        paper.status = str(report.get("status") or "ok")
        paper.message = str(report.get("message") or "")
        if paper.status == "ok" and not model_recovered(report):
            n = len(report.get("graphs") or [])
            paper.status = "no_model"
            paper.message = (f"no candidate graph validated ({n} candidate(s)): open one in the editor to fix it"
                             if n else "no architecture table, diagram or text was recognised")
        paper.confidence, paper.confidence_detail = conf, detail
        paper.authors = [str(a) for a in meta.get("authors") or [] if isinstance(a, str)]
        paper.arxiv_id = str(meta.get("arxiv_id") or "")[:64]
        paper.figure_styles = styles
        paper.figures, paper.tables = figures, tables
        paper.report = report
        paper.mex = _mex_digest(folder, report, graph_doc, title)
        s.flush()
        s.execute(delete(Asset).where(Asset.paper_id == paper.id))
        for path, data in assets:
            mime = mimetypes.guess_type(path)[0] or "application/octet-stream"
            s.add(Asset(paper_id=paper.id, path=path, mime=mime, data=data))
        has_versions = s.scalars(select(Version.id).where(Version.paper_id == paper.id)).first() is not None
        edited = s.scalars(select(Version.id).where(Version.paper_id == paper.id,
                                                    Version.author != "extraction")).first() is not None
        latest = s.scalars(select(Version).where(Version.paper_id == paper.id)
                           .order_by(Version.number.desc())).first()
        if edited and latest is not None and latest.valid:   # people saved a valid design: it is the model
            paper.status, paper.message = "ok", ""
        if not edited:   # once people saved a design, its code targets are those of the saved design
            paper.frameworks = [t for t in TARGETS if t in frameworks]
        if isinstance(graph_doc, dict) and not has_versions:
            s.add(Version(paper_id=paper.id, number=1, parent=None, graph=graph_doc, author="extraction",
                          message=f"extracted from {primary.get('from')} {primary_name}",
                          diff=graph_diff(None, graph_doc), valid=int(bool(primary.get("valid")))))
            paper.layer_types = layer_types
        elif not has_versions:
            paper.layer_types = layer_types
        paper.refresh_search_text()
    return slug


def model_recovered(report: dict) -> bool:
    """Whether the paper route recovered a model: its primary graph validates."""
    return bool(report.get("primary_valid")) or (report.get("status") == "ok" and any(
        isinstance(g, dict) and g.get("valid") and g.get("name") == report.get("primary_graph")
        for g in report.get("graphs") or []))


def import_papers(db: Database, root: str | Path) -> tuple[list[str], list[str]]:
    """Import every paper folder under ``root`` (or ``root`` itself if it is one).
    Returns (imported slugs, problems)."""
    root = Path(root)
    if not root.is_dir():
        raise ImportError_(f"{root}: no such folder")
    folders = [root] if (root / "report.json").is_file() else sorted(
        p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    done, problems = [], []
    for folder in folders:
        try:
            done.append(import_paper_dir(db, folder))
        except ImportError_ as exc:
            problems.append(str(exc))
    return done, problems
