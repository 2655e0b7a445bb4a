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

import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from .db import Database, Job, utcnow
from .importer import import_paper_dir, slugify

if TYPE_CHECKING:
    from ..paper.options import PaperOptions

SECONDS_PER_PAGE = 0.6


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
            self._update(job_id, stage="adding it to the catalog", progress=0.95)
            import_paper_dir(self.db, out, slug=slug)
            if report.get("status") == "failed":
                self._update(job_id, status="failed", stage="done", progress=1.0, paper_slug=slug,
                             message=f"the paper route could not read this PDF: {report.get('message', '')}")
            else:
                msg = "model recovered" if report.get("status") == "ok" else (report.get("message") or report.get("status"))
                self._update(job_id, status="done", stage="done", progress=1.0, paper_slug=slug, message=str(msg))
        except Exception as exc:  # recorded on the job; the server goes on
            self._update(job_id, status="failed", stage="error", progress=1.0,
                         message=f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=3)}")

    def shutdown(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
