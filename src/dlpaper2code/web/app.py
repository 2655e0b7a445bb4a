"""The FastAPI application: catalog, paper pages, editor, uploads, versions, ratings.

``create_app(db_url, data_dir)`` assembles it: the shared state on ``app.state``
(``deps``), the routers of ``routes`` (pages, JSON API, downloads), the error pages
(``errors``) and the middleware (``middleware``); ``dlpaper2code serve`` runs it under
uvicorn. Every user string reaches HTML through Jinja2's autoescaping (or
``textContent`` in the browser); downloads are looked up in the database or
regenerated, never read from a path the client names.
"""
from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from . import default_db_url
from .db import Database
from .deps import STATIC, CodeCache, Settings, make_templates
from .errors import register_error_handlers
from .jobs import JobRunner
from .middleware import BodyLimitMiddleware, SecurityHeadersMiddleware
from .routes import ROUTERS
from .service import MAX_GRAPH_BYTES, freeze_warm_heap, generate

MAX_UPLOAD_BYTES = 20 << 20
_WARM_UP_GRAPH = {"layers": [
    {"layer_type": "Input", "layer_name": "x", "layer_params": {"shape": [8, 8, 1]}},
    {"layer_type": "Flatten", "layer_name": "f", "from_layers": ["x"]},
    {"layer_type": "Dense", "layer_name": "d", "layer_params": {"units": 2}, "from_layers": ["f"]}]}


def _warm_up() -> None:
    generate(_WARM_UP_GRAPH)
    freeze_warm_heap()


@contextlib.asynccontextmanager
async def _lifespan(app: FastAPI):
    yield
    app.state.jobs.shutdown()


def _data_dir(db_url: str, data_dir: str | os.PathLike | None) -> Path:
    """The folder for uploads and job output: the one given, else next to a SQLite file, else results/web."""
    if data_dir is None:
        data_dir = Path(db_url.split("///", 1)[1]).parent if db_url.startswith("sqlite:///") else Path("results/web")
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    return data_dir


def create_app(db_url: str | None = None, data_dir: str | os.PathLike | None = None, *,
               max_upload_bytes: int = MAX_UPLOAD_BYTES, job_workers: int = 1) -> FastAPI:
    db_url = db_url or default_db_url()
    data_dir = _data_dir(db_url, data_dir)
    db = Database(db_url)
    app = FastAPI(title="dlpaper2code", docs_url="/api/docs", redoc_url=None, openapi_url="/api/openapi.json",
                  lifespan=_lifespan)
    app.state.db, app.state.data_dir = db, data_dir
    app.state.jobs = JobRunner(db, data_dir, workers=job_workers)
    app.state.templates = make_templates()
    app.state.code_cache = CodeCache()
    app.state.settings = Settings(data_dir=data_dir, max_upload_bytes=max_upload_bytes)
    # warm the template compiler so the first edit is not the slow one, then freeze the warm heap
    threading.Thread(target=_warm_up, daemon=True).start()

    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    for router in ROUTERS:
        app.include_router(router)
    register_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware, default=MAX_GRAPH_BYTES * 2, upload=max_upload_bytes + (64 << 10))
    app.add_middleware(SecurityHeadersMiddleware)
    return app


def app_from_env() -> FastAPI:
    """The app configured by environment variables (for ``uvicorn --factory`` with several workers):
    DLPAPER2CODE_DB, DLPAPER2CODE_DATA_DIR, DLPAPER2CODE_MAX_UPLOAD (bytes)."""
    return create_app(default_db_url(), os.environ.get("DLPAPER2CODE_DATA_DIR") or None,
                      max_upload_bytes=int(os.environ.get("DLPAPER2CODE_MAX_UPLOAD") or MAX_UPLOAD_BYTES))
