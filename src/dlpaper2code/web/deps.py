"""The application's shared state and how the routes reach it.

``create_app`` puts one of each on ``app.state``: the ``Database`` (``db``), the upload
``JobRunner`` (``jobs``), the Jinja2 ``templates``, the per-version ``CodeCache``
(``code_cache``) and the ``Settings`` (``settings``: data folder, upload limit). A route
asks for what it needs with the ``Annotated`` dependencies at the bottom (``db: DbDep``);
nothing is captured in closures. This module also owns where the templates and static
files live and what the templates see as globals.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
from fastapi.templating import Jinja2Templates

from ..emit.codegen import TARGETS
from .db import Database, Version
from .jobs import JobRunner
from .service import generate

HERE = Path(__file__).parent
STATIC = HERE / "static"
TEMPLATES = HERE / "templates"
BUNDLE = STATIC / "build" / "app.js"
TARGET_LABELS = {"pytorch": "PyTorch", "keras": "Keras 3", "tensorflow": "TensorFlow", "caffe": "Caffe"}


@dataclass(frozen=True)
class Settings:
    """Per-app settings the routes read: where uploads go and how large one may be."""

    data_dir: Path
    max_upload_bytes: int

    @property
    def max_upload_mb(self) -> int:
        return self.max_upload_bytes // (1 << 20)


def make_templates() -> Jinja2Templates:
    """The page templates, with the code targets and whether the front-end bundle is built as globals."""
    templates = Jinja2Templates(directory=str(TEMPLATES))
    templates.env.globals.update(TARGETS=TARGETS, TARGET_LABELS=TARGET_LABELS, bundle_ok=BUNDLE.is_file())
    return templates


class CodeCache:
    """The generated code of saved versions, keyed by (paper id, version number); the newest ``size`` kept.
    A saved version never changes, so its code is generated once per process."""

    def __init__(self, size: int = 256):
        self.size = size
        self._items: OrderedDict[tuple, dict] = OrderedDict()
        self._lock = threading.Lock()

    def code(self, v: Version) -> dict:
        key = (v.paper_id, v.number)
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        result = generate(v.graph)
        with self._lock:
            self._items[key] = result
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return result


# async so that FastAPI calls them on the event loop rather than sending each to the thread pool
async def get_db(request: Request) -> Database:
    return request.app.state.db


async def get_jobs(request: Request) -> JobRunner:
    return request.app.state.jobs


async def get_templates(request: Request) -> Jinja2Templates:
    return request.app.state.templates


async def get_code_cache(request: Request) -> CodeCache:
    return request.app.state.code_cache


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


DbDep = Annotated[Database, Depends(get_db)]
JobsDep = Annotated[JobRunner, Depends(get_jobs)]
TemplatesDep = Annotated[Jinja2Templates, Depends(get_templates)]
CodeCacheDep = Annotated[CodeCache, Depends(get_code_cache)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
