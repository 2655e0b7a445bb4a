"""The JSON API: health, the layer vocabulary, code generation, the paper list and a paper's
details, versions (list, read, save with conflict detection), three-way merge, ratings (also
taken as the paper page's form POST to ``/papers/{slug}/rate``) and upload job status."""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import defer

from ...emit.codegen import TARGETS
from ..catalog import (clean_author, filters, get_paper, get_version, page_number, paper_summary, search_papers,
                       version_dict)
from ..db import Job, Paper, Rating, Version
from ..deps import DbDep
from ..service import (MAX_GRAPH_BYTES, BadRequest, check_graph_doc, generate, graph_diff, merge_graphs,
                       parse_json_body, vocabulary_payload)

MAX_FORM_BYTES = 64 * 1024

router = APIRouter()


@router.get("/healthz")
def healthz():
    return {"ok": True}


@router.get("/api/vocabulary")
def api_vocabulary():
    return vocabulary_payload()


@router.post("/api/generate")
async def api_generate(request: Request):
    body = parse_json_body(await request.body(), "graph")
    if isinstance(body, dict) and "graph" in body:
        graph, targets = body["graph"], body.get("targets")
    else:
        graph, targets = body, None
    if targets is not None and (not isinstance(targets, list) or any(t not in TARGETS for t in targets)):
        raise BadRequest(422, f"targets must be a list drawn from {list(TARGETS)}")
    return generate(graph, targets)


@router.get("/api/papers")
def api_papers(request: Request, db: DbDep):
    """The papers matching the catalog's filters, 50 a page (``page``, from 1)."""
    page = page_number(request.query_params.get("page"))
    with db.session() as s:
        res = search_papers(s, filters(request.query_params), page)
        return {"papers": [paper_summary(p) for p in res["papers"]],
                **{k: res[k] for k in ("total", "page", "pages", "per_page")}}


@router.get("/api/papers/{slug}")
def api_paper(slug: str, db: DbDep):
    with db.session() as s:
        paper = get_paper(db, s, slug)
        latest = get_version(s, paper, None)
        out = paper_summary(paper)
        out.update(latest_version=latest.number if latest else None, figures=paper.figures,
                   tables=[{k: t[k] for k in ("id", "caption", "classification")} for t in paper.tables],
                   confidence_detail=paper.confidence_detail, mex=paper.mex)
        return out


@router.get("/api/papers/{slug}/versions")
def api_versions(slug: str, db: DbDep):
    with db.session() as s:
        paper = get_paper(db, s, slug)
        vs = s.scalars(select(Version).options(defer(Version.graph)).where(Version.paper_id == paper.id)
                       .order_by(Version.number)).all()
        return {"versions": [version_dict(v) for v in vs]}


@router.get("/api/papers/{slug}/versions/{number}")
def api_version(slug: str, number: int, db: DbDep):
    with db.session() as s:
        paper = get_paper(db, s, slug)
        return version_dict(get_version(s, paper, number), with_graph=True)


def _design(doc: dict) -> dict:
    """A graph as far as a version is concerned: without the layers' canvas positions
    (meta.position), with the empty parameters and inputs the editor writes."""
    layers = []
    for layer in doc.get("layers") or []:
        layer = {**layer, "layer_params": layer.get("layer_params") or {}, "from_layers": layer.get("from_layers") or []}
        meta = {k: v for k, v in (layer.get("meta") or {}).items() if k != "position"}
        layer.pop("meta", None)
        if meta:
            layer["meta"] = meta
        layers.append(layer)
    return {**doc, "layers": layers}


def _same_design(old: dict, new: dict) -> bool:
    return isinstance(old, dict) and _design(old) == _design(new)


@router.post("/api/papers/{slug}/versions")
async def api_save(slug: str, request: Request, db: DbDep):
    body = parse_json_body(await request.body(), "save request")
    if not isinstance(body, dict) or "graph" not in body or "base_version" not in body:
        raise BadRequest(422, "a save is a JSON object with \"graph\" and \"base_version\" "
                              "(the version the edit started from), optionally \"author\" and \"message\"")
    base = body["base_version"]
    if not isinstance(base, int) or isinstance(base, bool) or base < 0:
        raise BadRequest(422, "base_version must be a version number (0 for a paper without versions)")
    graph = check_graph_doc(body["graph"])
    author = clean_author(body.get("author"))
    message = str(body.get("message") or "")[:1000]
    # validation, and the code of every target (the catalog's Code column and framework filter);
    # an invalid graph may be saved, marked invalid
    result = generate(graph, list(TARGETS))
    layer_types = result.get("layer_types") if result["ok"] else None
    frameworks = [t for t in TARGETS if (result.get("code") or {}).get(t, {}).get("ok")]
    conflict, refused = None, False
    unchanged = None            # the base version's number when the graph is the same as it
    try:
        with db.write_session() as s, s.begin():
            paper = get_paper(db, s, slug)
            latest = get_version(s, paper, None)
            latest_n = latest.number if latest else 0
            if base != latest_n:
                refused = True
                conflict = version_dict(latest, with_graph=True) if latest else None
            elif latest is not None and _same_design(latest.graph, graph):
                unchanged = latest_n
            else:
                v = Version(paper_id=paper.id, number=latest_n + 1, parent=base, graph=graph, author=author,
                            message=message, diff=graph_diff(latest.graph if latest else None, graph),
                            valid=int(result["ok"]))
                s.add(v)
                if layer_types is not None:   # (the paper's tag rows follow: db._sync_paper_tags)
                    paper.layer_types, paper.frameworks = layer_types, frameworks
                    paper.refresh_search_text()
                    if paper.status != "ok":      # e.g. no_model: a person drew the model
                        paper.status, paper.message = "ok", ""
                s.flush()
                number = v.number
    except IntegrityError:      # another save took this number between our read and write
        with db.session() as s:
            latest = get_version(s, get_paper(db, s, slug), None)
            conflict, refused = version_dict(latest, with_graph=True), True
    if unchanged is not None:
        return JSONResponse({"unchanged": True, "number": unchanged,
                             "detail": f"nothing changed since version {unchanged}; nothing saved"})
    if refused:
        with db.session() as s:
            paper = get_paper(db, s, slug)
            base_v = s.scalars(select(Version).where(Version.paper_id == paper.id, Version.number == base)).first()
            base_graph = base_v.graph if base_v else {"layers": []}
        merge = merge_graphs(base_graph, graph, conflict["graph"]) if conflict else None
        when = conflict["created"].replace("T", " ").rstrip("Z") if conflict else ""
        return JSONResponse({
            "detail": (f"Not saved: version {conflict['number']} was saved by {conflict['author']} at {when} UTC "
                       f"after you opened version {base}. Nothing was overwritten. Merge your changes into "
                       f"version {conflict['number']}, review them, and save again.") if conflict else
                      f"Not saved: this paper has no version {base}.",
            "conflict": {"your_base": base, "latest": conflict, "merge": merge}}, status_code=409)
    return JSONResponse({"number": number, "valid": result["ok"], "issues": result["issues"],
                         "url": f"/papers/{slug}?version={number}"}, status_code=201)


@router.post("/api/merge")
async def api_merge(request: Request):
    body = parse_json_body(await request.body(), "merge request", limit=3 * MAX_GRAPH_BYTES)
    if not isinstance(body, dict) or not all(isinstance(body.get(k), dict) for k in ("base", "mine", "theirs")):
        raise BadRequest(422, "a merge request is {\"base\": graph, \"mine\": graph, \"theirs\": graph}")
    return merge_graphs(*(check_graph_doc(body[k]) for k in ("base", "mine", "theirs")))


@router.post("/api/papers/{slug}/ratings")
@router.post("/papers/{slug}/rate")
async def api_rate(slug: str, request: Request, db: DbDep):
    ctype = request.headers.get("content-type", "")
    is_form = ctype.startswith("application/x-www-form-urlencoded") or ctype.startswith("multipart/form-data")
    if is_form:
        form = await request.form(max_files=0, max_fields=5)
        body = dict(form)
    else:
        body = parse_json_body(await request.body(), "rating", limit=MAX_FORM_BYTES)
    if not isinstance(body, dict):
        raise BadRequest(422, "a rating is {\"value\": 1..5, \"author\": name}")
    try:
        value = int(str(body.get("value")).strip())
    except ValueError:
        value = 0
    if not 1 <= value <= 5 or isinstance(body.get("value"), bool):
        raise BadRequest(422, "a rating is a whole number from 1 to 5")
    with db.write_session() as s, s.begin():
        paper = get_paper(db, s, slug)
        s.add(Rating(paper_id=paper.id, value=value, author=clean_author(body.get("author"))))
        s.execute(update(Paper).where(Paper.id == paper.id).values(
            rating_sum=Paper.rating_sum + value, rating_count=Paper.rating_count + 1))
    with db.session() as s:
        paper = get_paper(db, s, slug)
        out = {"rating": paper.rating, "ratings": paper.rating_count}
    if is_form:
        return RedirectResponse(f"/papers/{slug}#rating", status_code=303)
    return out


@router.get("/api/jobs/{job_id}")
def api_job(job_id: int, db: DbDep):
    with db.session() as s:
        job = s.get(Job, job_id)
        if job is None:
            raise BadRequest(404, f"no job {job_id}")
        return {"id": job.id, "filename": job.filename, "status": job.status, "progress": job.progress,
                "stage": job.stage, "message": job.message, "paper": job.paper_slug,
                "url": f"/papers/{job.paper_slug}" if job.paper_slug else None}
