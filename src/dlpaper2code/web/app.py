"""The FastAPI application: catalog, paper pages, editor, uploads, versions, ratings.

``create_app(db_url, data_dir)`` wires everything; ``dlpaper2code serve`` runs it
under uvicorn. Every user string reaches HTML through Jinja2's autoescaping (or
``textContent`` in the browser); downloads are looked up in the database or
regenerated, never read from a path the client names.
"""
from __future__ import annotations

import contextlib
import copy
import io
import json
import os
import re
import tempfile
import threading
import zipfile
from collections import OrderedDict
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import defer, load_only

from ..emit.codegen import TARGETS
from . import default_db_url
from .db import Database, Job, Paper, Rating, Version, utcnow
from .jobs import JobRunner
from .service import (MAX_GRAPH_BYTES, BadRequest, check_graph_doc, diff_summary, generate, graph_diff,
                      merge_graphs, parse_json_body, vocabulary_payload)

HERE = Path(__file__).parent
STATIC = HERE / "static"
BUNDLE = STATIC / "build" / "app.js"
MAX_UPLOAD_BYTES = 20 << 20
MAX_FORM_BYTES = 64 * 1024
TARGET_LABELS = {"pytorch": "PyTorch", "keras": "Keras 3", "tensorflow": "TensorFlow", "caffe": "Caffe"}
_AUTHOR = re.compile(r"[\x00-\x1f\x7f]")


def _clean_author(value: Any) -> str:
    text = _AUTHOR.sub("", str(value or "")).strip()[:100]
    return text or "anonymous"


CSP = ("default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; object-src 'none'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


class SecurityHeadersMiddleware:
    """Defence in depth behind the escaping: no inline or foreign scripts may run on our pages."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                names = {k.lower() for k, _ in headers}
                if b"content-security-policy" not in names:
                    headers.append((b"content-security-policy", CSP.encode()))
                if b"x-content-type-options" not in names:
                    headers.append((b"x-content-type-options", b"nosniff"))
                headers.append((b"referrer-policy", b"same-origin"))
                message = dict(message, headers=headers)
            await send(message)

        await self.app(scope, receive, with_headers)


class BodyTooLarge(Exception):
    pass


class BodyLimitMiddleware:
    """Refuse request bodies above a limit (413) without reading them: by Content-Length
    when given, else by counting the streamed chunks."""

    def __init__(self, app, default: int, upload: int):
        self.app, self.default, self.upload = app, default, upload

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            return await self.app(scope, receive, send)
        limit = self.upload if scope["path"].rstrip("/") in ("/upload", "/api/upload") else self.default
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            return await self._refuse(send, int(length), limit)
        seen = 0
        started = False

        async def limited_receive():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge()
            return message

        async def tracking_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await self._refuse(send, seen, limit)

    @staticmethod
    async def _refuse(send, size: int, limit: int):
        body = json.dumps({"detail": f"the request body is larger than the limit of {limit:,} bytes "
                                     f"({size:,} bytes or more sent)"}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


def _filters(params) -> dict:
    out = {}
    for key in ("q", "framework", "layer", "style", "min_rating", "sort"):
        value = (params.get(key) or "").strip()
        if value:
            out[key] = value[:200]
    return out


def _paper_summary(p: Paper) -> dict:
    return {"slug": p.slug, "title": p.title, "status": p.status, "confidence": p.confidence,
            "frameworks": p.frameworks, "layer_types": p.layer_types, "figure_styles": p.figure_styles,
            "rating": p.rating, "ratings": p.rating_count}


def _version_dict(v: Version, with_graph: bool = False) -> dict:
    out = {"number": v.number, "parent": v.parent, "author": v.author, "message": v.message,
           "created": v.created.isoformat(timespec="seconds") + "Z",
           "valid": bool(v.valid), "diff": v.diff, "summary": diff_summary(v.diff or {})}
    if with_graph:
        out["graph"] = v.graph
    return out


def create_app(db_url: str | None = None, data_dir: str | os.PathLike | None = None, *,
               max_upload_bytes: int = MAX_UPLOAD_BYTES, job_workers: int = 1) -> FastAPI:
    db_url = db_url or default_db_url()
    if data_dir is None:
        data_dir = Path(db_url.split("///", 1)[1]).parent if db_url.startswith("sqlite:///") else Path("results/web")
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(db_url)
    jobs = JobRunner(db, data_dir, workers=job_workers)
    @contextlib.asynccontextmanager
    async def lifespan(_app):
        yield
        jobs.shutdown()

    app = FastAPI(title="dlpaper2code", docs_url="/api/docs", redoc_url=None, openapi_url="/api/openapi.json",
                  lifespan=lifespan)
    app.state.db, app.state.jobs, app.state.data_dir = db, jobs, data_dir
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.globals.update(TARGETS=TARGETS, TARGET_LABELS=TARGET_LABELS, bundle_ok=BUNDLE.is_file())
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    code_cache: OrderedDict[tuple, dict] = OrderedDict()
    cache_lock = threading.Lock()

    # warm the template compiler so the first edit is not the slow one
    threading.Thread(target=lambda: generate({"layers": [
        {"layer_type": "Input", "layer_name": "x", "layer_params": {"shape": [8, 8, 1]}},
        {"layer_type": "Flatten", "layer_name": "f", "from_layers": ["x"]},
        {"layer_type": "Dense", "layer_name": "d", "layer_params": {"units": 2}, "from_layers": ["f"]}]}),
        daemon=True).start()

    def _wants_html(request: Request) -> bool:
        return (request.method == "GET" and not request.url.path.startswith("/api/")
                and "text/html" in request.headers.get("accept", ""))

    @app.exception_handler(BadRequest)
    async def _bad_request(request: Request, exc: BadRequest):
        if _wants_html(request):
            return templates.TemplateResponse(request, "error.html", {"status": exc.status, "message": exc.message},
                                              status_code=exc.status)
        return JSONResponse({"detail": exc.message, **exc.extra}, status_code=exc.status)

    def version_code(v: Version) -> dict:
        key = (v.paper_id, v.number)
        with cache_lock:
            if key in code_cache:
                code_cache.move_to_end(key)
                return code_cache[key]
        result = generate(v.graph)
        with cache_lock:
            code_cache[key] = result
            while len(code_cache) > 256:
                code_cache.popitem(last=False)
        return result

    def get_paper(s, slug: str) -> Paper:
        paper = db.paper(s, slug)
        if paper is None:
            raise BadRequest(404, f"no paper named '{slug}' in the catalog")
        return paper

    def get_version(s, paper: Paper, number: int | None) -> Version | None:
        q = select(Version).where(Version.paper_id == paper.id)
        if number is None:
            return s.scalars(q.order_by(Version.number.desc())).first()
        v = s.scalars(q.where(Version.number == number)).first()
        if v is None:
            raise BadRequest(404, f"paper '{paper.slug}' has no version {number}")
        return v

    LIGHT = load_only(Paper.slug, Paper.title, Paper.status, Paper.confidence, Paper.frameworks, Paper.layer_types,
                      Paper.figure_styles, Paper.rating_sum, Paper.rating_count, Paper.search_text)

    def query_papers(s, f: dict) -> list[Paper]:
        stmt = select(Paper).options(LIGHT).order_by(Paper.slug)
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
        papers = s.scalars(select(Paper).options(LIGHT)).all()
        return {"frameworks": [t for t in TARGETS if any(t in (p.frameworks or []) for p in papers)],
                "layers": sorted({t for p in papers for t in (p.layer_types or [])}),
                "styles": sorted({t for p in papers for t in (p.figure_styles or [])})}

    # ---------------------------------------------------------------- pages
    @app.get("/", response_class=HTMLResponse)
    def catalog(request: Request):
        f = _filters(request.query_params)
        with db.session() as s:
            papers = query_papers(s, f)
            return templates.TemplateResponse(request, "catalog.html", {
                "papers": papers, "filters": f, "facets": facets(s),
                "total": s.scalar(select(func.count(Paper.id)))})

    @app.get("/papers/{slug}", response_class=HTMLResponse)
    def paper_page(request: Request, slug: str, version: int | None = None):
        with db.session() as s:
            paper = get_paper(s, slug)
            current = get_version(s, paper, version)
            versions = s.scalars(select(Version).options(defer(Version.graph)).where(Version.paper_id == paper.id)
                                 .order_by(Version.number.desc())).all()
            latest = versions[0].number if versions else None
            result = version_code(current) if current is not None else None
            return templates.TemplateResponse(request, "paper.html", {
                "paper": paper, "current": current, "versions": [_version_dict(v) for v in versions],
                "latest": latest, "result": result,
                "graph_data": {"graph": current.graph if current else None,
                               "shapes": (result or {}).get("shapes", {}),
                               "issues": (result or {}).get("issues", [])}})

    @app.get("/papers/{slug}/edit", response_class=HTMLResponse)
    def edit_page(request: Request, slug: str, version: int | None = None):
        with db.session() as s:
            paper = get_paper(s, slug)
            current = get_version(s, paper, version)
            return templates.TemplateResponse(request, "editor.html", {
                "paper": paper, "boot": {"paper": paper.slug, "title": paper.title,
                                         "version": current.number if current else 0,
                                         "graph": current.graph if current else None}})

    @app.get("/editor", response_class=HTMLResponse)
    def blank_editor(request: Request):
        return templates.TemplateResponse(request, "editor.html", {"paper": None, "boot": {
            "paper": None, "version": 0, "graph": None}})

    @app.get("/upload", response_class=HTMLResponse)
    def upload_form(request: Request):
        return templates.TemplateResponse(request, "upload.html", {"max_mb": max_upload_bytes // (1 << 20), "error": None})

    @app.post("/upload")
    @app.post("/api/upload")
    async def upload(request: Request):
        wants_json = request.url.path.startswith("/api/") or "application/json" in request.headers.get("accept", "")
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
                raise BadRequest(413, f"the file is larger than the limit of {max_upload_bytes // (1 << 20)} MB")
            if not data:
                raise BadRequest(422, "the file is empty")
            if b"%PDF-" not in data[:1024]:
                raise BadRequest(415, f"'{filename}' is not a PDF (it does not start with %PDF-)")
            up = data_dir / "uploads"
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
                "max_mb": max_upload_bytes // (1 << 20), "error": exc.message}, status_code=exc.status)
        if wants_json:
            return JSONResponse({"job": job_id, "url": f"/jobs/{job_id}"}, status_code=202)
        return RedirectResponse(f"/jobs/{job_id}", status_code=303)

    @app.get("/jobs/{job_id}", response_class=HTMLResponse)
    def job_page(request: Request, job_id: int):
        with db.session() as s:
            job = s.get(Job, job_id)
            if job is None:
                raise BadRequest(404, f"no job {job_id}")
            return templates.TemplateResponse(request, "job.html", {"job": job})

    # ------------------------------------------------------------------ API
    @app.get("/healthz")
    def healthz():
        return {"ok": True}

    @app.get("/api/vocabulary")
    def api_vocabulary():
        return vocabulary_payload()

    @app.post("/api/generate")
    async def api_generate(request: Request):
        body = parse_json_body(await request.body(), "graph")
        if isinstance(body, dict) and "graph" in body:
            graph, targets = body["graph"], body.get("targets")
        else:
            graph, targets = body, None
        if targets is not None and (not isinstance(targets, list) or any(t not in TARGETS for t in targets)):
            raise BadRequest(422, f"targets must be a list drawn from {list(TARGETS)}")
        return generate(graph, targets)

    @app.get("/api/papers")
    def api_papers(request: Request):
        with db.session() as s:
            return {"papers": [_paper_summary(p) for p in query_papers(s, _filters(request.query_params))]}

    @app.get("/api/papers/{slug}")
    def api_paper(slug: str):
        with db.session() as s:
            paper = get_paper(s, slug)
            latest = get_version(s, paper, None)
            out = _paper_summary(paper)
            out.update(latest_version=latest.number if latest else None, figures=paper.figures,
                       tables=[{k: t[k] for k in ("id", "caption", "classification")} for t in paper.tables],
                       confidence_detail=paper.confidence_detail, mex=paper.mex)
            return out

    @app.get("/api/papers/{slug}/versions")
    def api_versions(slug: str):
        with db.session() as s:
            paper = get_paper(s, slug)
            vs = s.scalars(select(Version).options(defer(Version.graph)).where(Version.paper_id == paper.id)
                           .order_by(Version.number)).all()
            return {"versions": [_version_dict(v) for v in vs]}

    @app.get("/api/papers/{slug}/versions/{number}")
    def api_version(slug: str, number: int):
        with db.session() as s:
            paper = get_paper(s, slug)
            return _version_dict(get_version(s, paper, number), with_graph=True)

    @app.post("/api/papers/{slug}/versions")
    async def api_save(slug: str, request: Request):
        body = parse_json_body(await request.body(), "save request")
        if not isinstance(body, dict) or "graph" not in body or "base_version" not in body:
            raise BadRequest(422, "a save is a JSON object with \"graph\" and \"base_version\" "
                                  "(the version the edit started from), optionally \"author\" and \"message\"")
        base = body["base_version"]
        if not isinstance(base, int) or isinstance(base, bool) or base < 0:
            raise BadRequest(422, "base_version must be a version number (0 for a paper without versions)")
        graph = check_graph_doc(body["graph"])
        author = _clean_author(body.get("author"))
        message = str(body.get("message") or "")[:1000]
        result = generate(graph, [])       # validation only; an invalid graph may be saved, marked invalid
        layer_types = result.get("layer_types") if result["ok"] else None
        conflict, refused = None, False
        try:
            with db.write_session() as s, s.begin():
                paper = get_paper(s, slug)
                latest = get_version(s, paper, None)
                latest_n = latest.number if latest else 0
                if base != latest_n:
                    refused = True
                    conflict = _version_dict(latest, with_graph=True) if latest else None
                else:
                    v = Version(paper_id=paper.id, number=latest_n + 1, parent=base, graph=graph, author=author,
                                message=message, diff=graph_diff(latest.graph if latest else None, graph),
                                valid=int(result["ok"]))
                    s.add(v)
                    if layer_types is not None:
                        paper.layer_types = layer_types
                        paper.refresh_search_text()
                    s.flush()
                    number = v.number
        except IntegrityError:      # another save took this number between our read and write
            with db.session() as s:
                latest = get_version(s, get_paper(s, slug), None)
                conflict, refused = _version_dict(latest, with_graph=True), True
        if refused:
            with db.session() as s:
                paper = get_paper(s, slug)
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

    @app.post("/api/merge")
    async def api_merge(request: Request):
        body = parse_json_body(await request.body(), "merge request", limit=3 * MAX_GRAPH_BYTES)
        if not isinstance(body, dict) or not all(isinstance(body.get(k), dict) for k in ("base", "mine", "theirs")):
            raise BadRequest(422, "a merge request is {\"base\": graph, \"mine\": graph, \"theirs\": graph}")
        return merge_graphs(*(check_graph_doc(body[k]) for k in ("base", "mine", "theirs")))

    @app.post("/api/papers/{slug}/ratings")
    @app.post("/papers/{slug}/rate")
    async def api_rate(slug: str, request: Request):
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
            paper = get_paper(s, slug)
            s.add(Rating(paper_id=paper.id, value=value, author=_clean_author(body.get("author"))))
            s.execute(update(Paper).where(Paper.id == paper.id).values(
                rating_sum=Paper.rating_sum + value, rating_count=Paper.rating_count + 1))
        with db.session() as s:
            paper = get_paper(s, slug)
            out = {"rating": paper.rating, "ratings": paper.rating_count}
        if is_form:
            return RedirectResponse(f"/papers/{slug}#rating", status_code=303)
        return out

    @app.get("/api/jobs/{job_id}")
    def api_job(job_id: int):
        with db.session() as s:
            job = s.get(Job, job_id)
            if job is None:
                raise BadRequest(404, f"no job {job_id}")
            return {"id": job.id, "filename": job.filename, "status": job.status, "progress": job.progress,
                    "stage": job.stage, "message": job.message, "paper": job.paper_slug,
                    "url": f"/papers/{job.paper_slug}" if job.paper_slug else None}

    # ------------------------------------------------------------ downloads
    @app.get("/papers/{slug}/files/{path:path}")
    def asset(slug: str, path: str):
        from .db import Asset

        with db.session() as s:
            paper = get_paper(s, slug)
            a = s.scalars(select(Asset).where(Asset.paper_id == paper.id, Asset.path == path)).first()
            if a is None:
                raise BadRequest(404, f"paper '{slug}' has no file '{path}'")
            headers = {"X-Content-Type-Options": "nosniff"}
            mime = a.mime
            if mime == "text/html":      # served as a download, never rendered on our origin
                headers["Content-Disposition"] = f'attachment; filename="{Path(a.path).name}"'
                headers["Content-Security-Policy"] = "sandbox"
            return Response(a.data, media_type=mime, headers=headers)

    def _code_for(s, slug: str, number: int) -> tuple[Paper, Version, dict]:
        paper = get_paper(s, slug)
        v = get_version(s, paper, number)
        return paper, v, version_code(v)

    @app.get("/papers/{slug}/code/{number}/{target}/{filename}")
    def download_file(slug: str, number: int, target: str, filename: str):
        with db.session() as s:
            paper, v, result = _code_for(s, slug, number)
            code = result.get("code", {}).get(target)
            if not code or not code.get("ok") or filename not in code["files"]:
                raise BadRequest(404, f"version {number} of '{slug}' has no {target} file '{filename}'")
            return Response(code["files"][filename], media_type="text/plain; charset=utf-8",
                            headers={"Content-Disposition": f'attachment; filename="{filename}"',
                                     "X-Content-Type-Options": "nosniff"})

    @app.get("/papers/{slug}/code/{number}.zip")
    def download_zip(slug: str, number: int):
        with db.session() as s:
            paper, v, result = _code_for(s, slug, number)
            buf = io.BytesIO()
            root = f"{paper.slug}_v{number}"
            with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
                z.writestr(f"{root}/graph.json", json.dumps(v.graph, indent=1) + "\n")
                for target, code in result.get("code", {}).items():
                    if code.get("ok"):
                        for fname, text in code["files"].items():
                            z.writestr(f"{root}/{target}/{fname}", text)
                    else:
                        z.writestr(f"{root}/{target}/NOT_EMITTED.txt", code.get("error", "") + "\n")
                if not result.get("ok"):
                    z.writestr(f"{root}/ISSUES.txt", "\n".join(f"{i['node'] or 'graph'}: {i['message']} [{i['kind']}]"
                                                              for i in result["issues"]) + "\n")
            return Response(buf.getvalue(), media_type="application/zip",
                            headers={"Content-Disposition": f'attachment; filename="{root}.zip"'})

    @app.get("/papers/{slug}/versions/{number}/graph.json")
    def download_graph(slug: str, number: int):
        with db.session() as s:
            paper = get_paper(s, slug)
            v = get_version(s, paper, number)
            return Response(json.dumps(v.graph, indent=1) + "\n", media_type="application/json",
                            headers={"Content-Disposition": f'attachment; filename="{paper.slug}_v{number}.json"'})

    # errors as pages for browsers, JSON for the API
    @app.exception_handler(404)
    async def _not_found(request: Request, exc):
        message = f"nothing at {request.url.path}"
        if _wants_html(request):
            return templates.TemplateResponse(request, "error.html", {"status": 404, "message": message}, status_code=404)
        return JSONResponse({"detail": message}, status_code=404)

    app.add_middleware(BodyLimitMiddleware, default=MAX_GRAPH_BYTES * 2, upload=max_upload_bytes + (64 << 10))
    app.add_middleware(SecurityHeadersMiddleware)
    return app


def app_from_env() -> FastAPI:
    """The app configured by environment variables (for ``uvicorn --factory`` with several workers):
    DLPAPER2CODE_DB, DLPAPER2CODE_DATA_DIR, DLPAPER2CODE_MAX_UPLOAD (bytes)."""
    return create_app(default_db_url(), os.environ.get("DLPAPER2CODE_DATA_DIR") or None,
                      max_upload_bytes=int(os.environ.get("DLPAPER2CODE_MAX_UPLOAD") or MAX_UPLOAD_BYTES))
