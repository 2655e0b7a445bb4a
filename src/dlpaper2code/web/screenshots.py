"""Screenshots of the catalog on a folder of paper route outputs, taken in headless Chromium.

Starts the app on a fresh SQLite database in a temporary folder, imports every paper folder
under ``--papers`` (e.g. the real-paper benchmark's ``<out>/papers``), and saves what a user
sees to ``--out``:

- ``catalog.png``: the list (titles, authors and arXiv ids as read from the PDFs);
- ``catalog_filtered.png``: the list filtered by a framework and a figure style in use;
- ``paper.png``: the page of a paper with a valid design, its code highlighted;
- ``editor_failed_candidate.png``: a candidate graph that failed validation, opened in the
  editor with its errors on the nodes;
- ``editor_large.png``: the largest valid design in the editor, fitted to the window.

    python -m dlpaper2code.web.screenshots --papers /tmp/bench/papers --out results/web/screenshots/real

Prints one line per screenshot; exits 2 with a message when the folder holds no paper.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

from .testing import chromium_executable, serve_in_thread

SHOT_NAMES = ("catalog", "catalog_filtered", "paper", "editor_failed_candidate", "editor_large")


class ScreenshotError(Exception):
    pass


def pick_papers(db) -> dict:
    """Which papers to show: the valid design with the most layers, the failed candidate with
    the most layers (one with errors to see on its nodes, not an empty table's), and a
    framework and figure style that some paper has."""
    from sqlalchemy import select

    from .db import Paper, Version

    picks: dict = {"paper": None, "large": None, "candidate": None, "framework": None, "style": None}
    best = -1
    best_bad = 0
    with db.session() as s:
        for p in s.scalars(select(Paper).order_by(Paper.slug)).all():
            latest = s.scalars(select(Version).where(Version.paper_id == p.id)
                               .order_by(Version.number.desc())).first()
            if latest is not None and latest.valid:
                n = len((latest.graph or {}).get("layers") or [])
                if picks["paper"] is None and n >= 8:
                    picks["paper"] = p.slug
                if n > best:
                    best, picks["large"] = n, p.slug
            graphs = (p.report or {}).get("graphs") if isinstance(p.report, dict) else None
            for g in graphs or []:
                if not isinstance(g, dict) or g.get("valid") or not g.get("name"):
                    continue
                n = g.get("layers")
                if isinstance(n, int) and not isinstance(n, bool) and n > best_bad:
                    best_bad, picks["candidate"] = n, (p.slug, g["name"])
            if picks["framework"] is None and p.frameworks:
                picks["framework"] = p.frameworks[0]
            if picks["style"] is None and p.figure_styles:
                picks["style"] = p.figure_styles[0]
    picks["paper"] = picks["paper"] or picks["large"]
    return picks


def take(papers: Path, out: Path, *, width: int = 1400, height: int = 900) -> dict:
    """Import ``papers`` into a fresh catalog and write the screenshots to ``out``; returns
    {name: path or the reason it was not taken}."""
    from playwright.sync_api import sync_playwright

    from .db import Database
    from .importer import import_papers

    papers, out = Path(papers), Path(out)
    tmp = Path(tempfile.mkdtemp(prefix="dlp2c-shots-"))
    try:
        url = f"sqlite:///{tmp / 'catalog.sqlite'}"
        db = Database(url)
        done, problems = import_papers(db, papers)
        if not done:
            raise ScreenshotError(f"{papers}: no paper folder to import" + (f" ({problems[0]})" if problems else ""))
        picks = pick_papers(db)
        db.engine.dispose()
        out.mkdir(parents=True, exist_ok=True)
        result: dict = {}
        try:
            exe = chromium_executable()
        except RuntimeError as exc:
            raise ScreenshotError(str(exc)) from None
        with serve_in_thread(url, tmp / "data") as base:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=exe, args=["--no-sandbox", "--disable-gpu"])
                # bypass_csp: Playwright's wait_for_function evaluates strings, which the site's CSP forbids
                page = browser.new_context(viewport={"width": width, "height": height}, bypass_csp=True).new_page()

                def shot(name: str):
                    path = out / f"{name}.png"
                    page.screenshot(path=str(path))
                    result[name] = str(path)

                page.goto(base + "/")
                shot("catalog")
                query = {k: v for k, v in (("framework", picks["framework"]), ("style", picks["style"])) if v}
                if query:
                    page.goto(base + "/?" + "&".join(f"{k}={v}" for k, v in query.items()))
                    shot("catalog_filtered")
                else:
                    result["catalog_filtered"] = "no paper has a framework or a figure style"
                if picks["paper"]:
                    page.goto(f"{base}/papers/{picks['paper']}")
                    code = page.locator("pre code.hljs").first
                    code.wait_for(timeout=15000)
                    code.scroll_into_view_if_needed()
                    shot("paper")
                else:
                    result["paper"] = "no paper has a valid design"
                if picks["candidate"]:
                    slug, name = picks["candidate"]
                    page.goto(f"{base}/papers/{slug}/edit?candidate={name}")
                    page.wait_for_function("window.editor && window.editor.result", timeout=30000)
                    shot("editor_failed_candidate")
                else:
                    result["editor_failed_candidate"] = "no paper has a candidate that failed validation"
                if picks["large"]:
                    page.goto(f"{base}/papers/{picks['large']}/edit")
                    page.wait_for_function("window.editor && window.editor.result", timeout=30000)
                    page.click("#btn-fit")
                    shot("editor_large")
                else:
                    result["editor_large"] = "no paper has a valid design"
                browser.close()
        result["picks"] = picks
        return result
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m dlpaper2code.web.screenshots", description=__doc__.split("\n\n")[0])
    ap.add_argument("--papers", required=True, help="a folder of paper route output folders")
    ap.add_argument("--out", default="results/web/screenshots/real")
    args = ap.parse_args(argv)
    try:
        result = take(Path(args.papers), Path(args.out))
    except ScreenshotError as exc:
        print(f"screenshots: {exc}", file=sys.stderr)
        return 2
    picks = result.pop("picks")
    for name in SHOT_NAMES:
        print(f"{name:24s} {result.get(name)}")
    print("shown: " + json.dumps(picks))
    return 0


if __name__ == "__main__":
    sys.exit(main())
