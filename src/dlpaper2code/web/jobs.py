"""Background jobs: an uploaded PDF goes through the paper route
(:func:`dlpaper2code.paper.pipeline.process_paper`), then into the catalog.

One worker thread runs the jobs in order (the paper route is CPU-bound); each
job's row carries its stage and progress, which the job page polls. Progress
while the route runs is an estimate from the page count (about 0.6 s a page
here), the other stages are exact.  ``paper_options`` (a
:class:`dlpaper2code.paper.options.PaperOptions`; None: the route's defaults) are the settings
every upload is read with.
"""
from __future__ import annotations

import json
import logging
import re
import shutil
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from .db import Database, Job, utcnow
from ..paper.metadata import arxiv_id_from_name
from .importer import import_paper_dir, model_recovered, slugify

if TYPE_CHECKING:
    from ..paper.options import PaperOptions

SECONDS_PER_PAGE = 0.6
log = logging.getLogger(__name__)
# an absolute POSIX path of two or more parts (/tmp/x/y.pdf, /work/data/uploads/tmp1.pdf), or a Windows one
_ABS_PATH = re.compile(r"(?<![\w.:/])(?:/[^\s/:'\"()<>,;]+){2,}/?|[A-Za-z]:\\[^\s'\"<>,;]+")


def public_message(message: str, filename: str, paths=()) -> str:
    """``message`` with every server path replaced by ``filename`` (the known ``paths`` first,
    then anything that looks like an absolute path)."""
    text = str(message)
    for p in sorted({str(p) for p in paths if str(p) not in ("", ".")}, key=len, reverse=True):
        text = re.sub(re.escape(p) + r"[^\s'\"()<>,;:]*", lambda _m: filename, text)
    return _ABS_PATH.sub(lambda _m: filename, text)


def job_outcome(report: dict) -> str:
    """What a finished job found: "model recovered" only with a valid primary graph; otherwise
    "no model found", with the candidate graphs that failed validation and their first issue."""
    if model_recovered(report):
        return "model recovered"
    failed = [g for g in report.get("graphs") or [] if isinstance(g, dict) and not g.get("valid")]
    if not failed:
        return "no model found: " + str(report.get("message") or "no architecture table or diagram was recognised")
    parts = []
    for g in failed[:5]:
        issues = [str(i) for i in g.get("issues") or []]
        parts.append(f"{g.get('name')} (from {g.get('from')}, {g.get('layers', '?')} layers): "
                     + (issues[0] if issues else "did not validate"))
    more = f"; and {len(failed) - 5} more" if len(failed) > 5 else ""
    return (f"no model found: {len(failed)} candidate graph(s) failed validation - "
            + "; ".join(parts) + more + ". Open the paper to see them.")


class JobRunner:
    def __init__(self, db: Database, data_dir: Path, workers: int = 1, *, paper_options: PaperOptions | None = None):
        self.db, self.data_dir = db, Path(data_dir)
        self.paper_options = paper_options
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="paper-job")
        self._lock = threading.Lock()

    def _update(self, job_id: int, **fields) -> None:
        with self.db.write_session() as s, s.begin():
            job = s.get(Job, job_id)
            for k, v in fields.items():
                setattr(job, k, v)
            job.updated = utcnow()

    def submit(self, pdf_path: Path, filename: str) -> int:
        with self.db.write_session() as s, s.begin():
            job = Job(filename=filename[:300], status="queued", progress=0.0, stage="queued")
            s.add(job)
            s.flush()
            job_id = job.id
        self.pool.submit(self._run, job_id, Path(pdf_path), filename)
        return job_id

    def _unique_slug(self, stem: str) -> str:
        base = slugify(stem)
        with self.db.session() as s:
            slug, k = base, 2
            while self.db.paper(s, slug) is not None:
                slug, k = f"{base}-{k}", k + 1
        return slug

    def _run(self, job_id: int, pdf: Path, filename: str) -> None:
        try:
            from ..paper.pipeline import process_paper

            with self._lock:
                slug = self._unique_slug(Path(filename).stem)
            pages = 1
            try:
                from pypdf import PdfReader

                pages = max(1, len(PdfReader(str(pdf)).pages))
            except Exception:  # the paper route reports unreadable PDFs itself
                pass
            self._update(job_id, status="running", stage=f"reading the PDF ({pages} page(s)): figures, tables, graphs, code",
                         progress=0.05)
            out = self.data_dir / "papers" / slug
            done = threading.Event()
            expected = 1.0 + SECONDS_PER_PAGE * pages

            def tick():
                t0 = time.monotonic()
                while not done.wait(0.5):
                    self._update(job_id, progress=round(min(0.9, 0.05 + 0.85 * (time.monotonic() - t0) / expected), 3))

            ticker = threading.Thread(target=tick, daemon=True)
            ticker.start()
            try:
                report = process_paper(pdf, out, self.paper_options)
            finally:
                done.set()
                ticker.join()
            if report.get("status") == "failed":   # no catalog entry (it would have nothing to show)
                shutil.rmtree(out, ignore_errors=True)
                self._update(job_id, status="failed", stage="done", progress=1.0, paper_slug=None,
                             message=self._public(f"the paper route could not read this PDF: {report.get('message', '')}",
                                                  pdf, filename))
                return
            if isinstance(report.get("metadata"), dict) and not report["metadata"].get("arxiv_id"):
                arxiv = arxiv_id_from_name(filename)   # the upload is stored under a temporary name
                if arxiv:
                    report["metadata"].update(arxiv_id=arxiv)
                    report["metadata"].setdefault("source", {})["arxiv_id"] = "file name"
                    (out / "report.json").write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n",
                                                     encoding="utf-8")
            self._update(job_id, stage="adding it to the catalog", progress=0.95)
            import_paper_dir(self.db, out, slug=slug)
            self._update(job_id, status="done", stage="done", progress=1.0, paper_slug=slug,
                         message=self._public(job_outcome(report), pdf, filename))
        except Exception as exc:  # recorded on the job (the traceback in the server log); the server goes on
            log.error("upload job %s (%s) failed:\n%s", job_id, filename, traceback.format_exc())
            self._update(job_id, status="failed", stage="error", progress=1.0, paper_slug=None,
                         message=self._public(f"{type(exc).__name__}: {exc}", pdf, filename))

    def _public(self, message: str, pdf: Path, filename: str) -> str:
        """A message for the user: the server's paths (the temporary upload, the data folder,
        any other absolute path) become the uploaded file's name."""
        return public_message(message, filename, [pdf, self.data_dir, pdf.name])

    def shutdown(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
