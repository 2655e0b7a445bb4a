"""The catalog (issue 18): authors and arXiv id, filters in SQL through paper_tag, pagination,
figure styles and frameworks from a folder in the real pipeline layout, the Code column after a
save, the 0003 migration, and the scale module, on SQLite and on PostgreSQL."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, inspect, text

from dlpaper2code.web import scale
from dlpaper2code.web.app import create_app
from dlpaper2code.web.db import Database, short_authors
from dlpaper2code.web.importer import import_paper_dir
from dlpaper2code.web.testing import demo_graph

TARGETS4 = ["pytorch", "keras", "tensorflow", "caffe"]


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """An empty database: a new SQLite file, or a new database on the session's PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'catalog.sqlite'}"
    return request.getfixturevalue("postgres_url")


def _dispose(*dbs):
    for d in dbs:
        d.engine.dispose()
        d.write_engine.dispose()


@pytest.fixture
def app_for(tmp_path):
    """app_for(url) -> a TestClient on a new app; everything is closed at the end."""
    opened = []

    def make(url):
        app = create_app(url, tmp_path / "data")
        c = TestClient(app)
        c.__enter__()
        opened.append((c, app))
        return c

    yield make
    for c, app in opened:
        c.__exit__(None, None, None)
        _dispose(app.state.db)


def real_layout_dir(root: Path, name: str, *, title="Deep Residual Learning", model=True, metadata=None) -> Path:
    """A folder as the paper route really writes it (see results/papers/synth_000): figures.json
    written before the figure classifier ran (no style in it), the classifier's verdict in
    report.json's figure entries, code per target on the report's graph entries, report.metadata,
    and no corpus ground truth next to the PDF."""
    folder = root / name
    for sub in ("figures", "tables", "graphs"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    (folder / "figures" / "figures.json").write_text(json.dumps({"pdf": f"/nowhere/{name}.pdf", "figures": [
        {"page": 1, "caption": "Figure 1: Architecture of the network.", "number": 1, "source": "raster",
         "id": "fig_p1_1", "png": "fig_p1_1.png"},
        {"page": 2, "caption": "Figure 2: Training curves.", "number": 2, "source": "vector",
         "id": "fig_p2_1", "png": "fig_p2_1.png"}]}))
    (folder / "tables" / "tables.json").write_text(json.dumps({"tables": []}))
    graph = demo_graph()
    report = {"pdf": f"/nowhere/{name}.pdf", "name": name, "status": "ok" if model else "no_model",
              "metadata": metadata if metadata is not None else {
                  "title": title, "authors": ["Kaiming He", "Xiangyu Zhang", "Shaoqing Ren", "Jian Sun"],
                  "arxiv_id": "1512.03385"},
              "tables": [],
              "figures": [
                  {"figure": "fig_p1_1", "page": 1, "caption": "Figure 1: Architecture of the network.", "tried": True,
                   "classification": {"class": "box2d", "style": "box2d", "probability": 0.99,
                                      "architecture_probability": 0.99}, "status": "ok", "why": "read as a diagram"},
                  {"figure": "fig_p2_1", "page": 2, "caption": "Figure 2: Training curves.", "tried": True,
                   "classification": {"class": "other", "style": None, "probability": 1.0,
                                      "architecture_probability": 0.0}, "status": "no_diagram", "why": "not a diagram"}],
              "graphs": [], "primary_graph": None, "primary_valid": False}
    if model:
        report["graphs"] = [{"name": "fig_p1_1", "from": "figure", "layers": 5, "confirmed_by": None, "issues": [],
                             "valid": True, "figure": "fig_p1_1",
                             "code": {t: {"ok": True, "files": [f"code/fig_p1_1/model_{t}.py"]} for t in TARGETS4}}]
        report["primary_graph"], report["primary_valid"] = "fig_p1_1", True
        (folder / "graphs" / "fig_p1_1.json").write_text(json.dumps(graph))
        (folder / "graph.json").write_text(json.dumps(graph))
    (folder / "report.json").write_text(json.dumps(report))
    return folder


def _options(html: str, name: str) -> list[str]:
    menu = re.search(rf'<select name="{name}">(.*?)</select>', html, re.S).group(1)
    return [v for v in re.findall(r'<option value="([^"]*)"', menu) if v] or \
        [v for v in re.findall(r"<option\s*(?:selected)?\s*>([^<]+)</option>", menu)]


# ---------------------------------------------------------------- 1. authors and arXiv id
def test_short_authors():
    assert short_authors(["Alice Smith", "Bob Jones", "Carol White"]) == "A. Smith, B. Jones et al."
    assert short_authors(["Alice Smith", "Bob Jones"]) == "A. Smith, B. Jones"
    assert short_authors(["Plato"]) == "Plato"
    assert short_authors([]) == "" and short_authors(None) == ""


def test_authors_and_arxiv_id_in_the_catalog_and_json(tmp_path, db_url, app_for):
    real_layout_dir(tmp_path / "papers", "resnet")
    db = Database(db_url)
    import_paper_dir(db, tmp_path / "papers" / "resnet")
    _dispose(db)
    c = app_for(db_url)
    p = c.get("/api/papers").json()["papers"][0]
    assert p["authors"] == ["Kaiming He", "Xiangyu Zhang", "Shaoqing Ren", "Jian Sun"]
    assert p["arxiv_id"] == "1512.03385"
    assert c.get("/api/papers/resnet").json()["arxiv_id"] == "1512.03385"
    html = c.get("/").text
    assert "K. He, X. Zhang et al." in html and "arXiv:1512.03385" in html
    for q in ("ren", "1512.03385", "kaiming he"):        # search matches authors and the arXiv id
        assert [x["slug"] for x in c.get("/api/papers", params={"q": q}).json()["papers"]] == ["resnet"], q
    assert c.get("/api/papers", params={"q": "hinton"}).json()["papers"] == []


# ---------------------------------------------------------------- 3. real layout: styles and frameworks
def test_a_real_pipeline_folder_gives_framework_and_style_options(tmp_path, db_url, app_for):
    real_layout_dir(tmp_path / "papers", "resnet")
    db = Database(db_url)
    import_paper_dir(db, tmp_path / "papers" / "resnet")
    _dispose(db)
    c = app_for(db_url)
    html = c.get("/").text
    assert _options(html, "framework") == TARGETS4
    assert _options(html, "style") == ["box2d"]         # the classifier's style (report.json), not truth files
    detail = c.get("/api/papers/resnet").json()
    assert detail["figure_styles"] == ["box2d"]
    assert [f["style"] for f in detail["figures"]] == ["box2d", None]
    assert [x["slug"] for x in c.get("/api/papers", params={"style": "box2d"}).json()["papers"]] == ["resnet"]
    assert [x["slug"] for x in c.get("/api/papers", params={"framework": "caffe"}).json()["papers"]] == ["resnet"]


# ---------------------------------------------------------------- 4. the Code column after a save
def test_saving_a_valid_design_fills_the_code_column_and_the_framework_filter(tmp_path, db_url, app_for):
    real_layout_dir(tmp_path / "papers", "nomodel", title="A paper without a model", model=False)
    db = Database(db_url)
    import_paper_dir(db, tmp_path / "papers" / "nomodel")
    c = app_for(db_url)
    row = c.get("/api/papers").json()["papers"][0]
    assert row["frameworks"] == [] and c.get("/api/papers", params={"framework": "pytorch"}).json()["papers"] == []
    r = c.post("/api/papers/nomodel/versions", json={"graph": demo_graph(), "base_version": 0, "author": "ann"})
    assert r.status_code == 201 and r.json()["valid"]
    row = c.get("/api/papers").json()["papers"][0]
    assert row["frameworks"] == TARGETS4 and "Conv2D" in row["layer_types"]
    assert [x["slug"] for x in c.get("/api/papers", params={"framework": "pytorch"}).json()["papers"]] == ["nomodel"]
    assert [x["slug"] for x in c.get("/api/papers", params={"layer": "Conv2D"}).json()["papers"]] == ["nomodel"]
    html = c.get("/", params={"framework": "pytorch"}).text
    assert 'data-slug="nomodel"' in html and '<span class="chip fw">PyTorch</span>' in html
    assert _options(html, "framework") == TARGETS4
    import_paper_dir(db, tmp_path / "papers" / "nomodel")     # importing again keeps the saved design's code
    assert c.get("/api/papers").json()["papers"][0]["frameworks"] == TARGETS4
    bad = {"layers": [{"layer_type": "Dense", "layer_name": "d", "from_layers": ["nowhere"]}]}
    assert c.post("/api/papers/nomodel/versions", json={"graph": bad, "base_version": 1}).status_code == 201
    assert c.get("/api/papers").json()["papers"][0]["frameworks"] == TARGETS4   # an invalid save changes nothing
    _dispose(db)


def test_a_route_that_ran_but_recovered_no_valid_model_is_listed_as_no_model(tmp_path, db_url, app_for):
    # real papers (BERT, Swin): the route ran ("status": "ok") but no candidate validated
    folder = real_layout_dir(tmp_path / "papers", "bert", title="BERT", model=True)
    report = json.loads((folder / "report.json").read_text())
    report["graphs"][0].update(valid=False, issues=["fc: needs parameter 'units'"])
    report["primary_valid"] = False
    (folder / "report.json").write_text(json.dumps(report))
    db = Database(db_url)
    import_paper_dir(db, folder)
    c = app_for(db_url)
    row = c.get("/api/papers/bert").json()
    assert row["status"] == "no_model" and row["frameworks"] == []
    assert "no_model" in c.get("/").text and "open one in the editor" in c.get("/papers/bert").text
    r = c.post("/api/papers/bert/versions", json={"graph": demo_graph(filters=16), "base_version": 1, "author": "fixer"})
    assert r.status_code == 201 and r.json()["valid"]
    import_paper_dir(db, folder)                      # a re-import keeps the people's valid design as the model
    assert c.get("/api/papers/bert").json()["status"] == "ok"
    _dispose(db)


# ---------------------------------------------------------------- the 0003 migration
def test_migration_0003_backfills_and_downgrades(tmp_path, db_url):
    from alembic import command
    from alembic.config import Config

    from dlpaper2code.web.db import MIGRATIONS

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", db_url.replace("%", "%%"))
    command.upgrade(cfg, "0002")
    engine = create_engine(db_url)
    report = json.dumps({"metadata": {"authors": ["Alice Smith", "Bob Jones"], "arxiv_id": "2101.00001"}})
    with engine.begin() as con:
        for slug, rep, fw, lt in (("old", report, '["pytorch", "caffe"]', '["Conv2D", "Input"]'),
                                  ("bare", "{}", "[]", "[]")):
            con.execute(text("insert into paper (slug,title,source,status,message,confidence_detail,frameworks,"
                             "layer_types,figure_styles,figures,tables,report,created,search_text) values "
                             "(:s,'Old','','ok','','{}',:fw,:lt,'[\"keras2\"]','[]','[]',:r,'2026-01-01','')"),
                        {"s": slug, "r": rep, "fw": fw, "lt": lt})
    Database(db_url, run_migrations=True)
    with engine.connect() as con:
        rows = con.execute(text("select slug, authors, arxiv_id from paper order by slug")).all()
        got = {s: (json.loads(a) if isinstance(a, str) else a, x) for s, a, x in rows}
        assert got == {"bare": ([], ""), "old": (["Alice Smith", "Bob Jones"], "2101.00001")}
        tags = con.execute(text("select p.slug, t.kind, t.value from paper_tag t join paper p on p.id = t.paper_id "
                                "order by p.slug, t.kind, t.value")).all()
    assert [tuple(t) for t in tags] == [("bare", "style", "keras2"), ("old", "framework", "caffe"),
                                        ("old", "framework", "pytorch"), ("old", "layer", "Conv2D"),
                                        ("old", "layer", "Input"), ("old", "style", "keras2")]
    command.downgrade(cfg, "0002")
    insp = inspect(engine)
    assert "paper_tag" not in insp.get_table_names()
    assert not {"authors", "arxiv_id"} & {c["name"] for c in insp.get_columns("paper")}
    engine.dispose()


# ---------------------------------------------------------------- 2 and 5. filters at scale, the scale module
def _reference(rows, f):
    out = list(rows)
    for word in f.get("q", "").lower().split():
        out = [r for r in out if word in r["search_text"]]
    for key, col in (("framework", "frameworks"), ("layer", "layer_types"), ("style", "figure_styles")):
        if f.get(key):
            out = [r for r in out if f[key] in r[col]]
    if f.get("min_rating"):
        want = float(f["min_rating"])
        out = [r for r in out if r["rating_count"] and r["rating_sum"] / r["rating_count"] >= want]
    out.sort(key=lambda r: r["slug"])
    if f.get("sort") == "rating":
        out.sort(key=lambda r: -(r["rating_sum"] / r["rating_count"] if r["rating_count"] else 0))
    elif f.get("sort") == "confidence":
        out.sort(key=lambda r: -(r["confidence"] or 0))
    return [r["slug"] for r in out]


def test_filters_and_pagination_at_1000_papers_match_a_python_reference(tmp_path, db_url, app_for):
    rows = scale.generate_papers(1000, seed=3)
    assert rows == scale.generate_papers(1000, seed=3)                 # deterministic
    db = Database(db_url)
    scale.fill(db, rows)
    _dispose(db)
    c = app_for(db_url)
    kinds = scale.workload(rows, seed=4)
    cases = [{}, {"framework": "caffe"}, {"layer": "LSTM"}, {"style": "box3d"}, {"min_rating": "4"},
             {"q": "smith"}, {"q": "residual network"}, {"framework": "keras", "q": "deep", "sort": "rating"},
             {"layer": "Conv2D", "style": "stacked2d", "sort": "confidence"}, {"q": rows[17]["arxiv_id"] or "x"}]
    for f in cases:
        want = _reference(rows, f)
        got, page = [], 1
        while True:
            r = c.get("/api/papers", params={**f, "page": page})
            assert r.status_code == 200, r.text
            body = r.json()
            assert body["total"] == len(want) and body["per_page"] == 50, f
            got += [p["slug"] for p in body["papers"]]
            if page >= body["pages"]:
                break
            page += 1
        assert got == want, f
    facets_html = c.get("/").text
    assert _options(facets_html, "style") == sorted({s for r in rows for s in r["figure_styles"]})
    assert _options(facets_html, "layer") == sorted({t for r in rows for t in r["layer_types"]})
    # the page: 50 rows, the range, and next/previous links that keep the filters
    f = {"framework": "pytorch", "sort": "rating"}
    want = _reference(rows, f)
    html = c.get("/", params={**f, "page": 2}).text
    assert re.findall(r'data-slug="([^"]+)"', html) == want[50:100]
    assert f"Papers 51-100 of {len(want):,}" in re.sub(r"<[^>]+>", "", html)
    assert 'href="/?framework=pytorch&amp;sort=rating&amp;page=3"' in html
    assert 'href="/?framework=pytorch&amp;sort=rating&amp;page=1"' in html
    html = c.get("/").text
    assert "Papers 1-50 of 1,000" in re.sub(r"<[^>]+>", "", html) and 'rel="prev"' not in html
    last = c.get("/", params={"page": 999999}).text                       # past the end: the last page
    assert re.findall(r'data-slug="([^"]+)"', last) == sorted(r["slug"] for r in rows)[950:]
    assert c.get("/api/papers", params={"page": "abc"}).status_code == 422
    assert c.get("/api/papers", params={"page": "99999999999999999999"}).status_code == 422
    for make in kinds.values():                                           # every timed request kind answers
        assert c.get(make()).status_code == 200


def test_scale_module_writes_its_json(tmp_path, db_url):
    out = tmp_path / "web_scale.json"
    assert scale.main(["--papers", "300", "--db", db_url, "--out", str(out), "--requests", "3"]) == 0
    data = json.loads(out.read_text())
    assert data["papers"] == 300 and data["requests_per_kind"] == 3
    assert set(data["kinds"]) == {"search", "framework", "layer", "style", "min_rating", "filter_search_sort",
                                  "page_10", "api_filter"}
    assert all(k["p50_ms"] <= k["p95_ms"] <= k["max_ms"] for k in data["kinds"].values())
    assert "://" not in json.dumps(data)                                  # no URL (nor password) recorded
