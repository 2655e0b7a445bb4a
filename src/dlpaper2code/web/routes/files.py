"""Downloads: a paper's stored files (figures, report, graphs; HTML only as an attachment),
one generated code file, a version's code as a zip, and a version's graph JSON. Everything is
looked up in the database or regenerated from a saved graph, never read from a client's path."""
from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import Response
from sqlalchemy import select

from ..catalog import get_paper, get_version
from ..db import Asset, Paper, Version
from ..deps import CodeCache, CodeCacheDep, DbDep
from ..service import BadRequest

router = APIRouter()


@router.get("/papers/{slug}/files/{path:path}")
def asset(slug: str, path: str, db: DbDep):
    with db.session() as s:
        paper = get_paper(db, s, slug)
        a = s.scalars(select(Asset).where(Asset.paper_id == paper.id, Asset.path == path)).first()
        if a is None:
            raise BadRequest(404, f"paper '{slug}' has no file '{path}'")
        headers = {"X-Content-Type-Options": "nosniff"}
        mime = a.mime
        if mime == "text/html":      # served as a download, never rendered on our origin
            headers["Content-Disposition"] = f'attachment; filename="{Path(a.path).name}"'
            headers["Content-Security-Policy"] = "sandbox"
        return Response(a.data, media_type=mime, headers=headers)


def _code_for(db, code_cache: CodeCache, s, slug: str, number: int) -> tuple[Paper, Version, dict]:
    paper = get_paper(db, s, slug)
    v = get_version(s, paper, number)
    return paper, v, code_cache.code(v)


@router.get("/papers/{slug}/code/{number}/{target}/{filename}")
def download_file(slug: str, number: int, target: str, filename: str, db: DbDep, code_cache: CodeCacheDep):
    with db.session() as s:
        paper, v, result = _code_for(db, code_cache, s, slug, number)
        code = result.get("code", {}).get(target)
        if not code or not code.get("ok") or filename not in code["files"]:
            raise BadRequest(404, f"version {number} of '{slug}' has no {target} file '{filename}'")
        return Response(code["files"][filename], media_type="text/plain; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{filename}"',
                                 "X-Content-Type-Options": "nosniff"})


@router.get("/papers/{slug}/code/{number}.zip")
def download_zip(slug: str, number: int, db: DbDep, code_cache: CodeCacheDep):
    with db.session() as s:
        paper, v, result = _code_for(db, code_cache, s, slug, number)
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


@router.get("/papers/{slug}/versions/{number}/graph.json")
def download_graph(slug: str, number: int, db: DbDep):
    with db.session() as s:
        paper = get_paper(db, s, slug)
        v = get_version(s, paper, number)
        return Response(json.dumps(v.graph, indent=1) + "\n", media_type="application/json",
                        headers={"Content-Disposition": f'attachment; filename="{paper.slug}_v{number}.json"'})


MEX_MEDIA = {"ttl": ("turtle", "text/turtle; charset=utf-8"), "jsonld": ("json-ld", "application/ld+json")}


@router.get("/api/papers/{slug}/mex.{ext}")
def download_mex(slug: str, ext: str, db: DbDep, version: int | None = None):
    """The paper's MEX description (formats.mex) as Turtle (mex.ttl) or JSON-LD (mex.jsonld),
    described on request from a version's graph (default: the latest) and the paper's report."""
    from ...formats import mex

    if ext not in MEX_MEDIA:
        raise BadRequest(404, f"no MEX format '.{ext}'; there are mex.ttl and mex.jsonld")
    fmt, media = MEX_MEDIA[ext]
    with db.session() as s:
        paper = get_paper(db, s, slug)
        v = get_version(s, paper, version)
        if v is None:
            raise BadRequest(404, f"paper '{slug}' has no design to describe in MEX")
        try:
            title = paper.title if paper.title != paper.slug else None
            g = mex.describe(v.graph, paper.report or {}, name=paper.slug, title=title)
            text = mex.serialize(g, fmt)
        except Exception as exc:  # never a 500: say what could not be described
            raise BadRequest(422, f"version {v.number} of '{slug}' cannot be described in MEX: {exc}")
        return Response(text, media_type=media,
                        headers={"Content-Disposition": f'attachment; filename="{paper.slug}_mex.{ext}"',
                                 "X-Content-Type-Options": "nosniff"})
