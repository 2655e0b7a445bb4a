import copy
import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ZOO = sorted((ROOT / "config" / "zoo").glob("*.json"))
EXTRA = sorted((ROOT / "tests" / "graphs").glob("*.json"))

os.environ.setdefault("KERAS_BACKEND", "torch")


def copy_workflow(work: Path) -> Path:
    """The workflow (Snakefile, params.yaml, workflow/, the params schema) copied into the new
    folder ``work``, with the folders its rules read left empty (config/zoo, data/realpapers)."""
    work.mkdir()
    for name in ("Snakefile", "params.yaml"):
        shutil.copy(ROOT / name, work / name)
    shutil.copytree(ROOT / "workflow", work / "workflow", ignore=shutil.ignore_patterns("__pycache__"))
    (work / "config" / "zoo").mkdir(parents=True)
    shutil.copy(ROOT / "config" / "params.schema.yaml", work / "config")
    for sub in ("truth", "tables"):
        (work / "data" / "realpapers" / sub).mkdir(parents=True)
    return work


def small_cnn() -> dict:
    return {"name": "small", "layers": [
        {"layer_type": "Input", "layer_name": "x", "layer_params": {"shape": [16, 16, 3]}},
        {"layer_type": "Conv2D", "layer_name": "conv", "layer_params": {"filters": 4, "kernel_size": 3}, "from_layers": ["x"]},
        {"layer_type": "MaxPool2D", "layer_name": "pool", "layer_params": {"pool_size": 2}, "from_layers": ["conv"]},
        {"layer_type": "Flatten", "layer_name": "flat", "from_layers": ["pool"]},
        {"layer_type": "Dense", "layer_name": "out", "layer_params": {"units": 3}, "from_layers": ["flat"]},
    ]}


@pytest.fixture
def cnn_doc():
    return copy.deepcopy(small_cnn())


def drawn_page(path, draw, size=(612.0, 792.0)):
    """A one-page PDF drawn by `draw(canvas)` with reportlab at `path`, read back as the route reads
    pages (:func:`dlpaper2code.paper.layout.read_layout`): the page layout."""
    from reportlab.pdfgen import canvas

    from dlpaper2code.paper.layout import read_layout
    from dlpaper2code.paper.pdf import open_paper

    c = canvas.Canvas(str(path), pagesize=size)
    draw(c)
    c.showPage()
    c.save()
    (page,) = read_layout(open_paper(path))
    return page


# ---------------------------------------------------------------- PostgreSQL (the web tests run on it too)
@pytest.fixture(scope="session")
def postgres_server():
    """One throwaway PostgreSQL server for the session (dlpaper2code.web.pgserver). Missing
    binaries or driver FAIL the tests that need it, with what to install: never a skip."""
    from dlpaper2code.web.pgserver import PostgresServer, PostgresServerError

    try:
        server = PostgresServer("dlpaper2code_tests").start()
    except PostgresServerError as exc:
        pytest.fail(f"PostgreSQL for the web tests: {exc}", pytrace=False)
    try:
        server.connect().close()      # the driver is there too
    except PostgresServerError as exc:
        server.stop()
        pytest.fail(f"PostgreSQL for the web tests: {exc}", pytrace=False)
    yield server
    server.stop()


@pytest.fixture
def postgres_url(postgres_server) -> str:
    """The SQLAlchemy URL of a new, empty database (CREATE DATABASE t_<n>) on the session's server."""
    return postgres_server.create_database()


@pytest.fixture
def fresh_postgres_url(postgres_server) -> str:
    """The same as ``postgres_url``: a new empty database per use."""
    return postgres_server.create_database()


# ---------------------------------------------------------------- headless Chromium (the web tests)
@pytest.fixture(scope="module")
def browser():
    """Debian's chromium driven by Playwright, one per test module."""
    from playwright.sync_api import sync_playwright

    from dlpaper2code.web.testing import chromium_executable

    try:
        exe = chromium_executable()
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


@pytest.fixture
def page(browser):
    """A fresh 1400x900 page; ``page.errors`` collects page errors and console errors (CSP
    violations too). bypass_csp: Playwright's wait_for_function evaluates strings, which the
    site's CSP forbids (tests/test_web_browser.py's test_no_script_injection runs with the policy)."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True, bypass_csp=True)
    pg = ctx.new_page()
    pg.errors = []
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    pg.on("console", lambda m: pg.errors.append(m.text) if m.type == "error" else None)
    yield pg
    ctx.close()
