"""The web app's HTTP API and pages (FastAPI TestClient), each test on both databases: a real SQLite
file and an empty database on a throwaway PostgreSQL server (conftest.postgres_url)."""
from __future__ import annotations

import concurrent.futures as cf
import copy
import io
import json
import time
import zipfile

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import IntegrityError

from dlpaper2code.web.app import create_app
from dlpaper2code.web.db import Database
from dlpaper2code.web.importer import import_papers
from dlpaper2code.web.service import MAX_GRAPH_BYTES, MAX_GRAPH_LAYERS
from dlpaper2code.web.testing import demo_graph, make_paper_dir

XSS = "<script>window.__xss=1</script><img src=x onerror=alert(1)>"


@pytest.fixture
def papers(tmp_path):
    root = tmp_path / "papers"
    make_paper_dir(root, "alpha", title="Alpha net for digits: an eﬃcient ﬁlter bank",   # ligatures, as
                   style="keras3")                                                        # real PDFs give them
    make_paper_dir(root, "beta", title=XSS, caption="Figure 1: " + XSS, style="caffe",
                   graph={**demo_graph(), "layers": demo_graph()["layers"][:1] + [
                       {"layer_type": "Dense", "layer_name": "fc", "layer_params": {"units": 4}, "from_layers": ["image"]}]},
                   layer_name_cell=XSS)
    return root


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """An empty database: a new SQLite file, or a new database on the session's PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'web.sqlite'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def engine(db_url):
    e = create_engine(db_url)
    yield e
    e.dispose()


@pytest.fixture
def client(tmp_path, papers, db_url):
    url = db_url
    db = Database(url)
    done, problems = import_papers(db, papers)
    assert sorted(done) == ["alpha", "beta"] and not problems
    app = create_app(url, tmp_path / "data")
    with TestClient(app) as c:
        yield c
    for d in (db, app.state.db):          # give the connections back (PostgreSQL counts them)
        d.engine.dispose()
        d.write_engine.dispose()


def _head() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from dlpaper2code.web.db import MIGRATIONS

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(cfg).get_current_head()


def test_migrations_build_the_schema_and_are_idempotent(db_url, engine):
    Database(db_url).engine.dispose()
    Database(db_url).engine.dispose()    # a second upgrade is a no-op
    tables = set(inspect(engine).get_table_names())
    assert {"paper", "version", "rating", "asset", "job", "alembic_version"} <= tables
    with engine.connect() as con:
        assert con.execute(text("select version_num from alembic_version")).all() == [(_head(),)]
    with engine.begin() as con:
        con.execute(text("insert into paper (slug,title,source,status,message,confidence_detail,frameworks,layer_types,"
                         "figure_styles,figures,tables,report,created) values "
                         "('p','','','ok','','{}','[]','[]','[]','[]','[]','{}','2026-01-01')"))
    with pytest.raises(IntegrityError), engine.begin() as con:   # the rating range is enforced by the schema
        con.execute(text("insert into rating (paper_id,value,author,created) "
                         "select id, 9, 'x', '2026-01-01' from paper where slug='p'"))


def test_upgrade_from_the_first_schema_keeps_data(db_url, engine):
    from alembic import command
    from alembic.config import Config

    from dlpaper2code.web.db import MIGRATIONS

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", db_url)
    command.upgrade(cfg, "0001")
    with engine.begin() as con:
        con.execute(text("insert into paper (slug,title,source,status,message,confidence_detail,frameworks,layer_types,"
                         "figure_styles,figures,tables,report,created) values ('old','Old Net','','ok','','{}','[]',"
                         "'[\"LSTM\"]','[]','[{\"caption\": \"Figure 1: Recurrent\"}]','[]','{}','2026-01-01')"))
    Database(db_url).engine.dispose()             # upgrades to head
    with engine.connect() as con:
        row = con.execute(text("select search_text from paper where slug='old'")).one()
    assert tuple(row) == ("old old net lstm figure 1: recurrent",)
    command.downgrade(cfg, "0001")
    assert "search_text" not in [c["name"] for c in inspect(engine).get_columns("paper")]


def test_import_fills_catalog_and_reimport_keeps_versions(tmp_path, papers, client):
    r = client.get("/api/papers")
    assert [p["slug"] for p in r.json()["papers"]] == ["alpha", "beta"]
    alpha = client.get("/api/papers/alpha").json()
    assert alpha["latest_version"] == 1 and alpha["confidence"] == pytest.approx(0.9)
    assert alpha["frameworks"] == ["pytorch", "keras", "tensorflow", "caffe"]
    assert "Conv2D" in alpha["layer_types"] and alpha["figure_styles"] == ["keras3"]
    g = demo_graph(filters=16)
    assert client.post("/api/papers/alpha/versions", json={"graph": g, "base_version": 1, "author": "ann"}).status_code == 201
    db = client.app.state.db
    import_papers(db, papers)            # importing again must not drop the edit
    assert [v["number"] for v in client.get("/api/papers/alpha/versions").json()["versions"]] == [1, 2]
    (papers / "alpha" / "mex.json").write_text(json.dumps({"Algorithm": "CNN", "HyperParameter": {"filters": 8}}))
    import_papers(db, papers)            # the MEX description fills its slot once a stage writes it
    assert client.get("/api/papers/alpha").json()["mex"]["Algorithm"] == "CNN"
    assert "HyperParameter" in client.get("/papers/alpha").text
    from dlpaper2code.web.importer import ImportError_
    with pytest.raises(ImportError_, match="no such folder"):
        import_papers(db, tmp_path / "missing")


def test_catalog_search_and_filters(client):
    def slugs(**q):
        r = client.get("/api/papers", params=q)
        assert r.status_code == 200, r.text
        return [p["slug"] for p in r.json()["papers"]]

    assert slugs(q="digits") == ["alpha"]
    assert slugs(q="efficient FILTER") == slugs(q="eﬃcient") == ["alpha"]     # NFKC + case-folded
    assert slugs(style="caffe") == ["beta"]
    assert slugs(layer="Conv2D") == ["alpha"]
    assert slugs(framework="caffe") == ["alpha", "beta"]
    assert slugs(min_rating="4") == []
    client.post("/api/papers/beta/ratings", json={"value": 5})
    assert slugs(min_rating="4") == ["beta"]
    assert client.get("/api/papers", params={"min_rating": "lots"}).status_code == 422
    html = client.get("/", params={"style": "keras3"}).text
    assert "Alpha net for digits" in html and "/papers/beta" not in html


def test_pages_escape_every_user_string(client):
    for url in ("/", "/papers/beta", "/papers/beta/edit"):
        html = client.get(url).text
        assert "<script>window.__xss" not in html and "<img src=x" not in html, url
    r = client.get("/papers/beta")
    assert "script-src" not in r.headers["content-security-policy"] and "default-src 'self'" in r.headers["content-security-policy"]
    page = r.text
    assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in page      # title, caption and table cell, escaped
    assert page.count("&lt;img src=x onerror=alert(1)&gt;") >= 3


def test_paper_page_shows_figures_tables_code_confidence_and_mex_slot(client):
    html = client.get("/papers/alpha").text
    assert "Figure 1: The network." in html and "/papers/alpha/files/figures/fig_p1_1.png" in html
    assert "conv3-8" in html                               # the table's cells
    assert "Extraction confidence" in html and "0.90" in html
    assert "Experiment description (MEX)" in html and 'id="mex-class"' in html   # described at import
    assert "nn.Conv2d(1, 8" in html                        # PyTorch code of the current version
    assert "model.prototxt" in html and "model_keras.py" in html
    assert client.get("/papers/alpha/files/figures/fig_p1_1.png").headers["content-type"] == "image/png"
    r = client.get("/papers/nope", headers={"accept": "text/html"})
    assert r.status_code == 404 and "no paper named" in r.text


def test_generate_returns_code_shapes_and_issues_on_the_node(client):
    r = client.post("/api/generate", json={"graph": demo_graph()})
    data = r.json()
    assert r.status_code == 200 and data["ok"]
    assert data["shapes"]["conv1"] == [26, 26, 8] and data["shapes"]["fc"] == [10]
    assert set(data["code"]) == {"pytorch", "keras", "tensorflow", "caffe"}
    assert "nn.Linear(1352, 10)" in data["code"]["pytorch"]["files"]["model_pytorch.py"]
    bad = demo_graph()
    bad["layers"][4]["from_layers"] = ["pool1"]            # Dense on an image
    data = client.post("/api/generate", json={"graph": bad}).json()
    assert not data["ok"] and data["code"] == {}
    assert [(i["kind"], i["node"]) for i in data["issues"]] == [("shape_mismatch", "fc")]
    bad = demo_graph()
    bad["layers"][1]["layer_params"]["filters"] = 0
    issue = client.post("/api/generate", json=bad).json()["issues"][0]
    assert issue["node"] == "conv1" and issue["kind"] == "bad_param" and ">= 1" in issue["message"]


def test_generate_inside_a_block_points_at_the_block_node(client):
    g = {"layers": [{"layer_type": "Input", "layer_name": "x", "layer_params": {"shape": [8, 8, 16]}},
                    {"layer_type": "resnet_basic_block", "layer_name": "res1", "layer_params": {"filters": 16}, "from_layers": ["x"]}]}
    data = client.post("/api/generate", json=g).json()
    assert data["ok"] and data["shapes"]["res1"] == [8, 8, 16]
    g["layers"][0]["layer_params"]["shape"] = [8, 8, 3]     # identity shortcut of 3 channels + 16 channels
    data = client.post("/api/generate", json=g).json()
    assert not data["ok"] and data["issues"][0]["node"] == "res1"


@pytest.mark.parametrize("body, status, words", [
    (b"{not json", 400, "not valid JSON"),
    (b"", 400, "empty"),
    (b"\xff\xfe\x00", 400, "not"),
    (b'{"graph": 3}', 422, '"layers" list'),
    (b'["a"]', 422, "layer"),
])
def test_generate_refuses_malformed_json_with_a_clear_message(client, body, status, words):
    r = client.post("/api/generate", content=body, headers={"content-type": "application/json"})
    assert r.status_code == status, r.text
    assert words in r.json()["detail"] or words in json.dumps(r.json())


def test_oversized_graphs_are_refused(client):
    layers = [{"layer_type": "Input", "layer_name": "x", "layer_params": {"shape": [4]}}]
    layers += [{"layer_type": "Dense", "layer_name": f"d{k}", "layer_params": {"units": 4},
                "from_layers": [f"d{k-1}" if k else "x"]} for k in range(MAX_GRAPH_LAYERS + 1)]
    r = client.post("/api/generate", json={"layers": layers})
    assert r.status_code == 413 and f"at most {MAX_GRAPH_LAYERS}" in r.json()["detail"]
    huge = b'{"layers": [' + b" " * (2 * MAX_GRAPH_BYTES + 10) + b"]}"
    r = client.post("/api/generate", content=huge, headers={"content-type": "application/json"})
    assert r.status_code == 413 and "limit" in r.json()["detail"]
    r = client.post("/api/papers/alpha/versions", json={"graph": {"layers": layers}, "base_version": 1})
    assert r.status_code == 413


def test_versions_diff_and_old_versions_stay_readable(client):
    g2 = demo_graph(filters=16)
    r = client.post("/api/papers/alpha/versions", json={"graph": g2, "base_version": 1, "author": "ann", "message": "more filters"})
    assert r.status_code == 201 and r.json()["number"] == 2
    vs = client.get("/api/papers/alpha/versions").json()["versions"]
    assert [(v["number"], v["author"], v["parent"]) for v in vs] == [(1, "extraction", None), (2, "ann", 1)]
    assert vs[1]["diff"]["changed"] == [{"layer": "conv1", "params": {"filters": [8, 16]}}]
    assert client.get("/api/papers/alpha/versions/1").json()["graph"]["layers"][1]["layer_params"]["filters"] == 8
    assert "nn.Conv2d(1, 8" in client.get("/papers/alpha?version=1").text
    assert "nn.Conv2d(1, 16" in client.get("/papers/alpha").text
    assert client.get("/api/papers/alpha/versions/9").status_code == 404


def test_stale_save_is_refused_with_409_and_a_merge(client):
    mine, theirs = demo_graph(filters=16), demo_graph(units=12)
    assert client.post("/api/papers/alpha/versions", json={"graph": theirs, "base_version": 1, "author": "bob"}).status_code == 201
    r = client.post("/api/papers/alpha/versions", json={"graph": mine, "base_version": 1, "author": "ann"})
    assert r.status_code == 409
    body = r.json()
    assert "version 2 was saved by bob" in body["detail"] and "Nothing was overwritten" in body["detail"]
    merged = body["conflict"]["merge"]["graph"]
    params = {l["layer_name"]: l.get("layer_params", {}) for l in merged["layers"]}
    assert params["conv1"]["filters"] == 16 and params["fc"]["units"] == 12     # both edits kept
    assert body["conflict"]["merge"]["conflicts"] == []
    assert client.get("/api/papers/alpha/versions/2").json()["graph"]["layers"][4]["layer_params"]["units"] == 12
    assert client.post("/api/papers/alpha/versions", json={"graph": merged, "base_version": 2}).status_code == 201
    # the same layer changed on both sides: listed as a conflict, mine kept
    a = client.post("/api/merge", json={"base": demo_graph(), "mine": demo_graph(filters=4), "theirs": demo_graph(filters=32)}).json()
    assert [c["layer"] for c in a["conflicts"]] == ["conv1"]
    assert a["graph"]["layers"][1]["layer_params"]["filters"] == 4


def test_concurrent_saves_of_one_version_keep_exactly_one(client):
    def save(k):
        return client.post("/api/papers/alpha/versions", json={"graph": demo_graph(filters=10 + k), "base_version": 1,
                                                               "author": f"user{k}"}).status_code
    with cf.ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(save, range(8)))
    assert sorted(codes) == [201] + [409] * 7
    assert [v["number"] for v in client.get("/api/papers/alpha/versions").json()["versions"]] == [1, 2]


def test_save_validation(client):
    assert client.post("/api/papers/alpha/versions", json={"graph": demo_graph()}).status_code == 422
    assert client.post("/api/papers/alpha/versions", json={"graph": demo_graph(), "base_version": "1"}).status_code == 422
    r = client.post("/api/papers/nope/versions", json={"graph": demo_graph(), "base_version": 1})
    assert r.status_code == 404 and "nope" in r.json()["detail"]
    bad = demo_graph()
    bad["layers"][1]["layer_type"] = "Conv9D"
    r = client.post("/api/papers/alpha/versions", json={"graph": bad, "base_version": 1, "author": "x\x00y" + "z" * 300})
    assert r.status_code == 201 and r.json()["valid"] is False       # kept, marked invalid
    v = client.get("/api/papers/alpha/versions/2").json()
    assert v["valid"] is False and v["author"] == "xy" + "z" * 98


def test_ratings_validate_and_none_are_lost_under_concurrency(client):
    for bad in (0, 6, "x", None, True, 2.5):
        assert client.post("/api/papers/alpha/ratings", json={"value": bad}).status_code == 422, bad
    values = [1, 2, 3, 4, 5] * 8
    with cf.ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(lambda v: client.post("/api/papers/alpha/ratings", json={"value": v}).status_code, values))
    assert codes == [200] * len(values)
    p = client.get("/api/papers/alpha").json()
    assert p["ratings"] == 40 and p["rating"] == 3.0
    r = client.post("/papers/alpha/rate", data={"value": "5"}, follow_redirects=False)   # the no-JavaScript form
    assert r.status_code == 303 and client.get("/api/papers/alpha").json()["ratings"] == 41


def test_downloads_and_no_path_traversal(client):
    r = client.get("/papers/alpha/code/1/pytorch/model_pytorch.py")
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"] and "nn.Conv2d" in r.text
    z = zipfile.ZipFile(io.BytesIO(client.get("/papers/alpha/code/1.zip").content))
    names = set(z.namelist())
    assert {"alpha_v1/graph.json", "alpha_v1/pytorch/model_pytorch.py", "alpha_v1/caffe/model.prototxt",
            "alpha_v1/keras/model_keras.py", "alpha_v1/tensorflow/model_tensorflow.py"} <= names
    assert json.loads(z.read("alpha_v1/graph.json"))["layers"][1]["layer_name"] == "conv1"
    for url in ("/papers/alpha/files/../../../etc/passwd", "/papers/alpha/files/..%2F..%2Fetc%2Fpasswd",
                "/papers/alpha/files/%2e%2e/report.json", "/papers/alpha/files//etc/passwd",
                "/papers/alpha/code/1/pytorch/..%2F..%2Fetc%2Fpasswd", "/papers/alpha/code/1/../../etc/passwd",
                "/papers/alpha/code/1/nosuch/model.py", "/static/../app.py", "/static/%2e%2e/app.py"):
        r = client.get(url)
        assert r.status_code == 404, url
        assert "root:" not in r.text and "create_app" not in r.text
    assert client.get("/papers/alpha/files/report.json").status_code == 200
    g = client.get("/papers/alpha/versions/1/graph.json")
    assert g.status_code == 200 and g.json()["layers"][0]["layer_name"] == "image"


def test_upload_refuses_non_pdfs_and_large_files(client, tmp_path):
    r = client.post("/api/upload", files={"pdf": ("evil.pdf", b"<html><script>x</script></html>", "application/pdf")})
    assert r.status_code == 415 and "not a PDF" in r.json()["detail"]
    r = client.post("/api/upload", files={"pdf": ("empty.pdf", b"", "application/pdf")})
    assert r.status_code == 422
    r = client.post("/api/upload", content=b"%PDF-1.4", headers={"content-type": "application/pdf"})
    assert r.status_code == 415 and "multipart" in r.json()["detail"]
    big = b"%PDF-1.4\n" + b"0" * (21 << 20)
    r = client.post("/api/upload", files={"pdf": ("big.pdf", big, "application/pdf")})
    assert r.status_code == 413 and "limit" in r.json()["detail"]
    html = client.post("/upload", files={"pdf": ("x<b>.pdf", b"GIF89a", "image/gif")}, headers={"accept": "text/html"})
    assert html.status_code == 415 and "x&lt;b&gt;.pdf" in html.text


def test_upload_runs_the_paper_route_in_the_background(client, tmp_path):
    from dlpaper2code.paper.synth import generate_paper

    truth = generate_paper(tmp_path / "pdfs", seed=3)
    pdf = tmp_path / "pdfs" / f"{truth['name']}.pdf"
    r = client.post("/api/upload", files={"pdf": ("my paper.pdf", pdf.read_bytes(), "application/pdf")})
    assert r.status_code == 202
    job = r.json()["job"]
    seen = []
    deadline = time.time() + 120
    while time.time() < deadline:
        j = client.get(f"/api/jobs/{job}").json()
        seen.append((j["status"], j["progress"]))
        if j["status"] in ("done", "failed"):
            break
        time.sleep(0.2)
    assert j["status"] == "done", j
    assert j["progress"] == 1.0 and j["paper"] == "my-paper"
    assert client.get("/api/papers/my-paper").json()["title"] == truth["title"]     # not the temporary name
    assert any(s == "running" for s, _ in seen)
    p = client.get("/api/papers/my-paper").json()
    assert p["latest_version"] == 1 and p["frameworks"]
    assert client.get("/api/papers/my-paper/versions/1").json()["graph"]["layers"]


def test_an_unreadable_pdf_makes_a_failed_job_with_the_reason(client):
    r = client.post("/api/upload", files={"pdf": ("broken.pdf", b"%PDF-1.4\n1 0 obj <<>> garbage", "application/pdf")})
    assert r.status_code == 202
    job = r.json()["job"]
    deadline = time.time() + 60
    while time.time() < deadline:
        j = client.get(f"/api/jobs/{job}").json()
        if j["status"] in ("done", "failed"):
            break
        time.sleep(0.1)
    assert j["status"] == "failed" and j["progress"] == 1.0
    assert "could not read this PDF" in j["message"]
    # no catalog entry with a broken link, and no server path in the message: the file's own name
    assert j["paper"] is None and client.get("/api/papers/broken").status_code == 404
    assert "broken.pdf" in j["message"] and "/tmp" not in j["message"] and "uploads" not in j["message"]
    assert "tmp" not in j["message"].replace("broken.pdf", "")
    page = client.get(f"/jobs/{job}").text
    assert "Open the paper" not in page and "/tmp" not in page
    assert client.get("/api/jobs/99999").status_code == 404


def _wait_job(client, job, seconds=120):
    deadline = time.time() + seconds
    while time.time() < deadline:
        j = client.get(f"/api/jobs/{job}").json()
        if j["status"] in ("done", "failed"):
            return j
        time.sleep(0.1)
    raise AssertionError(f"job {job} did not finish: {j}")


def test_an_upload_gets_the_papers_real_title_and_says_no_model_found(client, tmp_path):
    from test_paper_metadata import make_pdf

    pdf = make_pdf(tmp_path / "x.pdf", stamp="arXiv:1512.03385v1 [cs.CV] 10 Dec 2015")
    r = client.post("/api/upload", files={"pdf": ("resnet.pdf", pdf.read_bytes(), "application/pdf")})
    j = _wait_job(client, r.json()["job"])
    assert j["status"] == "done" and j["paper"] == "resnet", j
    assert j["message"].startswith("no model found") and "model recovered" not in j["message"]
    p = client.get("/api/papers/resnet").json()
    assert p["title"] == "Deep Residual Learning for Image Recognition"
    html = client.get("/papers/resnet").text
    assert "Kaiming He" in html and "arXiv:1512.03385v1" in html
    for q in ("residual learning", "xiangyu", "1512.03385"):
        slugs = [x["slug"] for x in client.get("/api/papers", params={"q": q}).json()["papers"]]
        assert slugs == ["resnet"], (q, slugs)


def test_a_job_with_only_invalid_candidates_says_no_model_found(client, tmp_path, monkeypatch):
    import dlpaper2code.paper.pipeline as pipeline

    def fake(pdf, out, options=None, **kw):
        folder = make_paper_dir(out.parent, out.name, title="Broken net")
        report = json.loads((folder / "report.json").read_text())
        report["graphs"][0].update(valid=False, issues=["layer 'fc': units must be positive"])
        report["primary_valid"] = False
        (folder / "report.json").write_text(json.dumps(report))
        return report

    monkeypatch.setattr(pipeline, "process_paper", fake)
    r = client.post("/api/upload", files={"pdf": ("net.pdf", b"%PDF-1.4\n%%EOF", "application/pdf")})
    j = _wait_job(client, r.json()["job"])
    assert j["status"] == "done" and j["message"].startswith("no model found"), j
    assert "tab_p1_1" in j["message"] and "units must be positive" in j["message"]

    def boom(pdf, out, options=None, **kw):
        raise RuntimeError(f"cannot open {pdf} under {out}")

    monkeypatch.setattr(pipeline, "process_paper", boom)
    r = client.post("/api/upload", files={"pdf": ("boom.pdf", b"%PDF-1.4\n%%EOF", "application/pdf")})
    j = _wait_job(client, r.json()["job"])
    assert j["status"] == "failed" and j["paper"] is None
    assert "RuntimeError" in j["message"] and "boom.pdf" in j["message"], j
    assert "/" not in j["message"].replace("boom.pdf", "") and "Traceback" not in j["message"]
    assert client.get("/api/papers/boom").status_code == 404


def test_cli_import_and_parser(tmp_path, papers, capsys, db_url):
    import argparse

    from dlpaper2code.web.cli import add_parser, main

    db = str(tmp_path / "cli.sqlite") if db_url.startswith("sqlite") else db_url    # a path, or a URL
    assert main(["import-papers", str(papers), "--db", db]) == 0
    assert "imported 2 paper(s)" in capsys.readouterr().out
    assert main(["import-papers", str(tmp_path / "nowhere"), "--db", db]) == 1
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["serve", "--port", "8123", "--db", "x.sqlite"])
    assert args.port == 8123 and args.db == "x.sqlite" and args.func.__name__ == "cmd_serve"


def test_main_cli_has_the_web_commands(tmp_path, papers, capsys):
    from dlpaper2code.cli import build_parser, main

    assert main(["import-papers", str(papers), "--db", str(tmp_path / "main.sqlite")]) == 0
    assert "imported 2 paper(s)" in capsys.readouterr().out
    args = build_parser().parse_args(["serve", "--port", "8124"])
    assert args.port == 8124 and args.func.__name__ == "cmd_serve"


def test_mex_on_the_paper_page_and_downloads(client):
    from rdflib import Graph

    body = client.get("/api/papers/alpha").json()
    m = body["mex"]
    assert m["algorithm"]["class"] == "CNN" and m["shacl"]["conforms"] is True
    assert m["tool"]["name"] == "dlpaper2code" and "targets" in m["tool"]["parameters"]
    assert any(h["name"] == "filters" for l in m["algorithm"]["layers"] for h in l["hyperparameters"])
    page = client.get("/papers/alpha").text
    assert 'id="mex-class"' in page and "CNN" in page and "/api/papers/alpha/mex.ttl" in page
    r = client.get("/api/papers/alpha/mex.ttl")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/turtle")
    g = Graph().parse(data=r.text, format="turtle")
    r2 = client.get("/api/papers/alpha/mex.jsonld")
    assert r2.status_code == 200 and r2.headers["content-type"].startswith("application/ld+json")
    from rdflib.compare import isomorphic
    assert isomorphic(g, Graph().parse(data=r2.text, format="json-ld"))
    # errors are 404s with a reason, never 500
    assert client.get("/api/papers/alpha/mex.xml").status_code == 404
    assert client.get("/api/papers/nope/mex.ttl").status_code == 404
    assert client.get("/api/papers/alpha/mex.ttl?version=99").status_code == 404
    assert client.get("/api/papers/beta/mex.ttl").status_code == 200       # the hostile title is only a literal


def test_nul_characters_in_urls_and_bodies_are_never_a_500(client):
    """PostgreSQL's text holds no NUL (psycopg refuses the query): the engine takes them out of
    string parameters there (db.make_engine), SQLite keeps them; either way a 2xx or a 404."""
    assert client.get("/api/papers", params={"q": "al\x00pha"}).status_code == 200
    assert client.get("/api/papers", params={"layer": "Conv\x002D", "framework": "\x00"}).status_code == 200
    assert client.get("/api/papers/no%00pe").status_code == 404
    assert client.get("/papers/no%00pe").status_code == 404
    r = client.post("/api/papers/alpha/versions", json={"graph": demo_graph(filters=16), "base_version": 1,
                                                        "author": "a", "message": "line\x00break"})
    assert r.status_code == 201, r.text
    g = demo_graph(filters=20)
    g["description"] = "nul \x00 inside the graph"        # a JSON column: \u0000 is valid JSON
    assert client.post("/api/papers/alpha/versions", json={"graph": g, "base_version": 2}).status_code == 201
    assert client.get("/api/papers/alpha/versions/3").json()["graph"]["description"] == g["description"]
    assert client.post("/api/papers/alpha/ratings", json={"value": 4, "author": "x\x00"}).status_code == 200
