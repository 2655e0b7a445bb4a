"""Database models and session handling (SQLAlchemy 2).

SQLite is the embedded default; any SQLAlchemy URL works (PostgreSQL for a
server). The schema is created and upgraded by the Alembic migrations in
``migrations/`` (:func:`migrate`), never by ``create_all``.
"""
from __future__ import annotations

import datetime as dt
import unicodedata
from pathlib import Path

from sqlalchemy import (JSON, Column, DateTime, Float, ForeignKey, Index, Integer, LargeBinary, String, Text,
                        UniqueConstraint, create_engine, event, inspect, select)
from sqlalchemy.orm import DeclarativeBase, Session, relationship, sessionmaker

MIGRATIONS = Path(__file__).with_name("migrations")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def search_form(text: str) -> str:
    """How search text and search words are compared: NFKC (a PDF's "ﬁ" ligature is "fi"),
    then case-folded."""
    return unicodedata.normalize("NFKC", str(text)).casefold()


class Base(DeclarativeBase):
    pass


class Paper(Base):
    __tablename__ = "paper"
    id = Column(Integer, primary_key=True)
    slug = Column(String(200), unique=True, nullable=False, index=True)
    title = Column(Text, nullable=False, default="")
    source = Column(Text, nullable=False, default="")          # the folder or PDF it came from
    status = Column(String(32), nullable=False, default="ok")  # ok | no_model | failed
    message = Column(Text, nullable=False, default="")
    confidence = Column(Float, nullable=True)                   # 0..1, None when no model
    confidence_detail = Column(JSON, nullable=False, default=dict)
    frameworks = Column(JSON, nullable=False, default=list)     # targets whose code was emitted
    layer_types = Column(JSON, nullable=False, default=list)    # canonical types of the current graph
    figure_styles = Column(JSON, nullable=False, default=list)  # drawing styles of its architecture figures
    figures = Column(JSON, nullable=False, default=list)        # [{id, caption, png, page, style}]
    tables = Column(JSON, nullable=False, default=list)         # [{id, caption, kind, score, cells}]
    report = Column(JSON, nullable=False, default=dict)
    mex = Column(JSON, nullable=True)                           # the MEX description, once it exists
    search_text = Column(Text, nullable=False, default="")      # lower-case title, captions, layer types
    authors = Column(JSON, nullable=False, default=list)        # ["Alice Smith", ...] from report.metadata
    arxiv_id = Column(String(64), nullable=False, default="")   # "1512.03385" ("" when unknown)
    rating_count = Column(Integer, nullable=False, default=0)
    rating_sum = Column(Integer, nullable=False, default=0)
    created = Column(DateTime, nullable=False, default=utcnow)
    versions = relationship("Version", back_populates="paper", order_by="Version.number",
                            cascade="all, delete-orphan")
    assets = relationship("Asset", back_populates="paper", cascade="all, delete-orphan")
    tags = relationship("PaperTag", cascade="all, delete-orphan", passive_deletes=True)

    def refresh_search_text(self) -> None:
        parts = [self.slug or "", self.title or "", " ".join(self.layer_types or [])]
        parts += [x.get("caption", "") for x in (self.figures or []) + (self.tables or [])]
        meta = (self.report or {}).get("metadata") if isinstance(self.report, dict) else None
        if isinstance(meta, dict):   # the authors and arXiv id read from the PDF (paper.metadata)
            parts += [str(a) for a in meta.get("authors") or [] if isinstance(a, str)]
            parts += [str(meta.get("arxiv_id") or "")]
        self.search_text = search_form(" ".join(parts))

    @property
    def rating(self) -> float | None:
        return round(self.rating_sum / self.rating_count, 2) if self.rating_count else None

    @property
    def authors_short(self) -> str:
        return short_authors(self.authors)

    def sync_tags(self) -> None:
        """Make ``tags`` (the rows the catalog filters on) match frameworks, layer types and figure
        styles: rows no longer wanted are removed, missing ones added (done before every flush)."""
        want = paper_tags(self.frameworks, self.layer_types, self.figure_styles)
        have = {(t.kind, t.value): t for t in self.tags}
        for key, tag in have.items():
            if key not in want:
                self.tags.remove(tag)
        for kind, value in sorted(want - have.keys()):
            self.tags.append(PaperTag(kind=kind, value=value))


TAG_KINDS = {"framework": "frameworks", "layer": "layer_types", "style": "figure_styles"}


def paper_tags(frameworks, layer_types, figure_styles) -> set[tuple[str, str]]:
    """The (kind, value) tag rows of a paper with these frameworks, layer types and figure styles."""
    out = set()
    for kind, values in (("framework", frameworks), ("layer", layer_types), ("style", figure_styles)):
        for v in values or []:
            if isinstance(v, str) and v.strip():
                out.add((kind, v.strip()[:200]))
    return out


def short_authors(authors, limit: int = 2) -> str:
    """``["Alice Smith", "Bob Jones", "Carol White"]`` -> ``"A. Smith, B. Jones et al."``."""
    names = [a.strip() for a in (authors or []) if isinstance(a, str) and a.strip()]
    out = []
    for name in names[:limit]:
        parts = name.replace(",", " ").split()
        if len(parts) > 1:
            out.append(" ".join(f"{p[0]}." for p in parts[:-1] if p[0].isalpha()) + " " + parts[-1])
        else:
            out.append(name)
    text = ", ".join(o.strip() for o in out)
    return text + (" et al." if len(names) > limit else "")


class PaperTag(Base):
    """One framework, layer type or figure style of a paper: the catalog's filters are
    ``paper.id IN (SELECT paper_id FROM paper_tag WHERE kind = .. AND value = ..)`` and its menus
    ``SELECT DISTINCT kind, value``. Kept in step with the paper's lists by :func:`_sync_paper_tags`."""
    __tablename__ = "paper_tag"
    __table_args__ = (UniqueConstraint("paper_id", "kind", "value", name="uq_paper_tag"),
                      Index("ix_paper_tag_kind_value", "kind", "value", "paper_id"))
    id = Column(Integer, primary_key=True)
    paper_id = Column(Integer, ForeignKey("paper.id", ondelete="CASCADE"), nullable=False)
    kind = Column(String(16), nullable=False)      # framework | layer | style
    value = Column(String(200), nullable=False)


@event.listens_for(Session, "before_flush")
def _sync_paper_tags(session, _context, _instances) -> None:  # noqa: ANN001
    """Every new paper, and every paper whose frameworks, layer types or figure styles were
    assigned, gets its tag rows brought in line before the flush writes it."""
    for obj in list(session.new) + list(session.dirty):
        if not isinstance(obj, Paper):
            continue
        state = inspect(obj)
        if obj in session.new or any(state.attrs[a].history.has_changes() for a in TAG_KINDS.values()):
            obj.sync_tags()


class Version(Base):
    """One saved state of a paper's graph: version 1 is the extraction, later ones edits."""
    __tablename__ = "version"
    __table_args__ = (UniqueConstraint("paper_id", "number", name="uq_version_paper_number"),)
    id = Column(Integer, primary_key=True)
    paper_id = Column(Integer, ForeignKey("paper.id", ondelete="CASCADE"), nullable=False, index=True)
    number = Column(Integer, nullable=False)
    parent = Column(Integer, nullable=True)                     # the version number it was edited from
    graph = Column(JSON, nullable=False)
    author = Column(String(100), nullable=False, default="")
    message = Column(Text, nullable=False, default="")
    diff = Column(JSON, nullable=False, default=dict)
    valid = Column(Integer, nullable=False, default=1)
    created = Column(DateTime, nullable=False, default=utcnow)
    paper = relationship("Paper", back_populates="versions")


class Rating(Base):
    __tablename__ = "rating"
    id = Column(Integer, primary_key=True)
    paper_id = Column(Integer, ForeignKey("paper.id", ondelete="CASCADE"), nullable=False, index=True)
    value = Column(Integer, nullable=False)
    author = Column(String(100), nullable=False, default="")
    created = Column(DateTime, nullable=False, default=utcnow)


class Asset(Base):
    """A file of a paper's pipeline output (figure crop, drawing, code), stored in the database
    so a download can only ever return a file that was imported (no path reaches the disk)."""
    __tablename__ = "asset"
    __table_args__ = (UniqueConstraint("paper_id", "path", name="uq_asset_paper_path"),)
    id = Column(Integer, primary_key=True)
    paper_id = Column(Integer, ForeignKey("paper.id", ondelete="CASCADE"), nullable=False, index=True)
    path = Column(String(500), nullable=False)
    mime = Column(String(100), nullable=False)
    data = Column(LargeBinary, nullable=False)
    paper = relationship("Paper", back_populates="assets")


class Job(Base):
    """An uploaded PDF going through the paper route in the background."""
    __tablename__ = "job"
    id = Column(Integer, primary_key=True)
    filename = Column(String(300), nullable=False)
    status = Column(String(32), nullable=False, default="queued")   # queued | running | done | failed
    progress = Column(Float, nullable=False, default=0.0)
    stage = Column(String(200), nullable=False, default="queued")
    message = Column(Text, nullable=False, default="")
    paper_slug = Column(String(200), nullable=True)
    created = Column(DateTime, nullable=False, default=utcnow)
    updated = Column(DateTime, nullable=False, default=utcnow)


def make_engine(url: str, immediate: bool = False):
    """An engine; for SQLite, ``immediate`` makes every transaction ``BEGIN IMMEDIATE`` so a
    read-then-write transaction holds the write lock from its start (no SQLITE_BUSY on upgrade)."""
    kwargs = {}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        if immediate:
            kwargs["connect_args"]["isolation_level"] = None
    engine = create_engine(url, future=True, **kwargs)
    if url.startswith("sqlite") and immediate:
        @event.listens_for(engine, "begin")
        def _begin(conn):  # noqa: ANN001
            conn.exec_driver_sql("BEGIN IMMEDIATE")
    if url.startswith("sqlite"):
        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # noqa: ANN001
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            if ":memory:" not in url:
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()
    if url.startswith("postgresql"):
        @event.listens_for(engine, "before_cursor_execute", retval=True)
        def _no_nul(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
            return statement, _without_nul(parameters)
    return engine


def _without_nul(value):
    """``value`` (a statement's parameters) with NUL characters taken out of every string:
    PostgreSQL's text cannot hold them (psycopg refuses the query, a 500), SQLite's can.
    A NUL reaches a query from a URL (``%00`` in a slug or search), a form or a PDF's text;
    JSON columns are not touched (the driver sends them as JSON, where NUL is ``\\u0000``)."""
    if isinstance(value, str):
        return value.replace("\x00", "") if "\x00" in value else value
    if isinstance(value, dict):
        return {k: _without_nul(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_without_nul(v) for v in value)
    return value


def migrate(url: str) -> None:
    """Bring the database at ``url`` to the newest schema (Alembic ``upgrade head``)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(cfg, "head")


class Database:
    def __init__(self, url: str, run_migrations: bool = True):
        self.url = url
        if run_migrations:
            migrate(url)
        self.engine = make_engine(url)
        self.Session = sessionmaker(self.engine, expire_on_commit=False, future=True)
        if url.startswith("sqlite"):
            self.write_engine = make_engine(url, immediate=True)
            self.WriteSession = sessionmaker(self.write_engine, expire_on_commit=False, future=True)
        else:
            self.write_engine, self.WriteSession = self.engine, self.Session

    def session(self) -> Session:
        """A session for reading."""
        return self.Session()

    def write_session(self) -> Session:
        """A session whose transactions write (SQLite: BEGIN IMMEDIATE)."""
        return self.WriteSession()

    def paper(self, s: Session, slug: str) -> Paper | None:
        return s.scalars(select(Paper).where(Paper.slug == slug)).first()
