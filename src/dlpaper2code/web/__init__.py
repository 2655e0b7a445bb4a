"""The catalog website and the graph editor (issue 7).

``create_app(db_url=..., data_dir=...)`` builds the FastAPI application;
``dlpaper2code serve`` runs it under uvicorn and ``dlpaper2code import-papers``
fills the database from the paper pipeline's output folder. The schema is
managed by Alembic migrations shipped in ``migrations/``.

Layer: may import core, emit and paper (the upload job runs the paper route);
nothing below imports it.
"""
from __future__ import annotations

DEFAULT_DB = "results/web/catalog.sqlite"


def default_db_url(path: str | None = None) -> str:
    """A database URL: an SQLAlchemy URL is kept, a file path becomes SQLite."""
    import os

    value = path or os.environ.get("DLPAPER2CODE_DB") or DEFAULT_DB
    if "://" in value:
        return value
    from pathlib import Path

    p = Path(value).resolve()
    p.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{p}"
