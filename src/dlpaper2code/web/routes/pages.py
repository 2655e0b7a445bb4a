"""The HTML pages: the catalog, a paper's page, the graph editor (for a paper or blank), the
upload form and its POST (also answered as ``/api/upload``, in JSON), and an upload job's page."""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from sqlalchemy import func, select
from sqlalchemy.orm import defer

from ..catalog import facets, filters, get_paper, get_version, page_number, search_papers, version_dict
from ..db import Asset, Job, Paper, Version
from ..deps import CodeCacheDep, DbDep, JobsDep, SettingsDep, TemplatesDep
from ..service import BadRequest

router = APIRouter()


@router.get("/", response_class=HTMLResponse)
def catalog(request: Request, db: DbDep, templates: TemplatesDep):
    f = filters(request.query_params)
    page = page_number(request.query_params.get("page"))
    with db.session() as s:
        res = search_papers(s, f, page)
        links = {name: f"/?{urlencode({**f, 'page': n})}" for name, n in
                 (("previous", res["page"] - 1), ("next", res["page"] + 1)) if 1 <= n <= res["pages"]}
        return templates.TemplateResponse(request, "catalog.html", {
            "papers": res["papers"], "result": res, "links": links, "filters": f, "facets": facets(s),
            "total": s.scalar(select(func.count(Paper.id)))})


@router.get("/papers/{slug}", response_class=HTMLResponse)
def paper_page(request: Request, slug: str, db: DbDep, templates: TemplatesDep, code_cache: CodeCacheDep,
               version: int | None = None):
    with db.session() as s:
        paper = get_paper(db, s, slug)
        current = get_version(s, paper, version)
        versions = s.scalars(select(Version).options(defer(Version.graph)).where(Version.paper_id == paper.id)
                             .order_by(Version.number.desc())).all()
        latest = versions[0].number if versions else None
        result = code_cache.code(current) if current is not None else None
        return templates.TemplateResponse(request, "paper.html", {
            "paper": paper, "current": current, "versions": [version_dict(v) for v in versions],
            "latest": latest, "result": result,
            "graph_data": {"graph": current.graph if current else None,
                           "shapes": (result or {}).get("shapes", {}),
                           "issues": (result or {}).get("issues", [])}})


def candidate_graph(s, paper: Paper, name: str) -> dict:
    """The graph of the paper's candidate ``name`` (report.graphs; its file graphs/<name>.json
    was imported as an asset), valid or not; 404 when the paper has no such candidate."""
    entry = next((g for g in (paper.report or {}).get("graphs") or []
                  if isinstance(g, dict) and g.get("name") == name), None)
    asset = s.scalars(select(Asset).where(Asset.paper_id == paper.id, Asset.path == f"graphs/{name}.json")).first() \
        if entry is not None else None
    if asset is None:
        raise BadRequest(404, f"paper '{paper.slug}' has no candidate graph named '{name}'")
    try:
        doc = json.loads(asset.data)
    except ValueError:
        raise BadRequest(404, f"the graph file of candidate '{name}' cannot be read") from None
    if isinstance(doc, list):
        doc = {"layers": doc}
    if not isinstance(doc, dict) or not isinstance(doc.get("layers"), list):
        raise BadRequest(404, f"the graph file of candidate '{name}' holds no layers")
    return doc


@router.get("/papers/{slug}/edit", response_class=HTMLResponse)
def edit_page(request: Request, slug: str, db: DbDep, templates: TemplatesDep, version: int | None = None,
              candidate: str | None = None):
    """The editor on a version of the paper's design, or (``?candidate=<name>``) on one of the
    extraction's candidate graphs, valid or not; a save goes on top of the latest version."""
    with db.session() as s:
        paper = get_paper(db, s, slug)
        boot = {"paper": paper.slug, "title": paper.title}
        if candidate is not None:
            latest = get_version(s, paper, None)
            boot.update(version=latest.number if latest else 0, graph=candidate_graph(s, paper, candidate),
                        candidate=candidate, message=f"fixed candidate {candidate}")
        else:
            current = get_version(s, paper, version)
            boot.update(version=current.number if current else 0, graph=current.graph if current else None)
        return templates.TemplateResponse(request, "editor.html", {"paper": paper, "boot": boot})


@router.get("/editor", response_class=HTMLResponse)
def blank_editor(request: Request, templates: TemplatesDep):
    return templates.TemplateResponse(request, "editor.html", {"paper": None, "boot": {
        "paper": None, "version": 0, "graph": None}})


@router.get("/upload", response_class=HTMLResponse)
def upload_form(request: Request, templates: TemplatesDep, settings: SettingsDep):
    return templates.TemplateResponse(request, "upload.html", {"max_mb": settings.max_upload_mb, "error": None})


@router.post("/upload")
@router.post("/api/upload")
async def upload(request: Request, jobs: JobsDep, templates: TemplatesDep, settings: SettingsDep):
    wants_json = request.url.path.startswith("/api/") or "application/json" in request.headers.get("accept", "")
    max_upload_bytes = settings.max_upload_bytes
    try:
        ctype = request.headers.get("content-type", "")
        if not ctype.startswith("multipart/form-data"):
            raise BadRequest(415, "send the PDF as multipart/form-data with a field named 'pdf'")
        form = await request.form(max_files=1, max_fields=5)
        item = form.get("pdf")
        if item is None or not hasattr(item, "read"):
            raise BadRequest(422, "no file in the form field 'pdf'")
        filename = Path(str(item.filename or "upload.pdf")).name or "upload.pdf"
        data = await item.read(max_upload_bytes + 1)
        await item.close()
        if len(data) > max_upload_bytes:
            raise BadRequest(413, f"the file is larger than the limit of {settings.max_upload_mb} MB")
        if not data:
            raise BadRequest(422, "the file is empty")
        if b"%PDF-" not in data[:1024]:
            raise BadRequest(415, f"'{filename}' is not a PDF (it does not start with %PDF-)")
        up = settings.data_dir / "uploads"
        up.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=up, suffix=".pdf")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        if not filename.lower().endswith(".pdf"):
            filename += ".pdf"
        job_id = jobs.submit(Path(tmp), filename)
    except BadRequest as exc:
        if wants_json:
            raise
        return templates.TemplateResponse(request, "upload.html", {
            "max_mb": settings.max_upload_mb, "error": exc.message}, status_code=exc.status)
    if wants_json:
        return JSONResponse({"job": job_id, "url": f"/jobs/{job_id}"}, status_code=202)
    return RedirectResponse(f"/jobs/{job_id}", status_code=303)


@router.get("/jobs/{job_id}", response_class=HTMLResponse)
def job_page(request: Request, job_id: int, db: DbDep, templates: TemplatesDep):
    with db.session() as s:
        job = s.get(Job, job_id)
        if job is None:
            raise BadRequest(404, f"no job {job_id}")
        return templates.TemplateResponse(request, "job.html", {"job": job})
