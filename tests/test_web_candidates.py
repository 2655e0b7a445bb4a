"""Candidate graphs in the editor (issue 18): every candidate of the extraction, valid or not, opens
in the editor from the paper page (``/papers/<slug>/edit?candidate=<name>``) with its errors on its
nodes; saving it makes the paper's design. Also: a save identical to its base version saves nothing,
and a too-large upload in the browser answers a page, not JSON. API tests (TestClient) and
Chromium tests (Debian's chromium through Playwright, as in test_web_browser.py)."""
from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dlpaper2code.web.app import create_app
from dlpaper2code.web.db import Database
from dlpaper2code.web.importer import import_papers
from dlpaper2code.web.testing import demo_graph, make_paper_dir, serve_in_thread

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "results" / "web" / "screenshots"
ODD = "fig_<img src=x onerror=alert(1)>&\"q'"          # a candidate name that must be escaped everywhere
HTML = {"accept": "text/html,application/xhtml+xml"}


def bad_filters_graph() -> dict:
    g = demo_graph()
    g["layers"][1]["layer_params"]["filters"] = 0            # out of range: conv1 does not validate
    return g


def messy_graph() -> dict:
    g = demo_graph()
    g["layers"][1]["layer_type"] = "Conv2Dx"                 # unknown layer type on conv1
    g["layers"][2]["from_layers"] = ["conv9"]                 # dangling input on pool1
    return g


def add_candidate(folder: Path, name: str, graph: dict, source: str = "figure", primary: bool = False) -> None:
    """Write graphs/<name>.json and its report.graphs entry as the paper route does (issues from
    the parser; an invalid primary is still the extracted design)."""
    from dlpaper2code.core.graph import validate_document

    (folder / "graphs" / f"{name}.json").write_text(json.dumps(graph))
    _, issues = validate_document(copy.deepcopy(graph))
    report = json.loads((folder / "report.json").read_text())
    report["graphs"].append({"name": name, "from": source, "layers": len(graph["layers"]), "confirmed_by": None,
                             "issues": [str(i) for i in issues], "valid": not issues, "code": {}})
    if primary:
        report["primary_graph"] = name
        (folder / "graph.json").write_text(json.dumps(graph))
    (folder / "report.json").write_text(json.dumps(report))


def no_model_paper(root: Path, name: str, graph: dict, cand: str = "fig_p1_1") -> Path:
    """A paper whose only candidate does not validate, so no design was extracted: status no_model."""
    folder = make_paper_dir(root, name, title=f"{name.capitalize()}Net")
    (folder / "graph.json").unlink()
    (folder / "graphs" / "tab_p1_1.json").unlink()
    report = json.loads((folder / "report.json").read_text())
    report.update(status="no_model", message="no valid graph", primary_graph=None, graphs=[])
    (folder / "report.json").write_text(json.dumps(report))
    add_candidate(folder, cand, graph)
    return folder


def build_papers(root: Path) -> None:
    folder = make_paper_dir(root, "alpha", title="AlphaNet")          # valid tab_p1_1 is version 1
    add_candidate(folder, "fig_p1_1", messy_graph())
    add_candidate(folder, ODD, bad_filters_graph())
    no_model_paper(root, "lonely", bad_filters_graph())
    no_model_paper(root, "messy", messy_graph())


# ------------------------------------------------------------------ API
@pytest.fixture
def client(tmp_path):
    build_papers(tmp_path / "papers")
    url = f"sqlite:///{tmp_path / 'web.sqlite'}"
    done, problems = import_papers(Database(url), tmp_path / "papers")
    assert sorted(done) == ["alpha", "lonely", "messy"] and not problems
    with TestClient(create_app(url, tmp_path / "data")) as c:
        yield c


def boot_of(html: str) -> dict:
    m = re.search(r'<script type="application/json" id="editor-boot">(.*?)</script>', html, re.S)
    assert m, html[:500]
    return json.loads(m.group(1))


def test_the_paper_page_links_every_candidate_to_the_editor(client):
    html = client.get("/papers/alpha").text
    links = re.findall(r'href="(/papers/alpha/edit\?candidate=[^"]*)"', html)
    assert len(links) == 3
    assert "/papers/alpha/edit?candidate=fig_p1_1" in links
    assert "<img src=x" not in html                # the odd name is escaped in the text and the link
    assert "fig_&lt;img src=x onerror=alert(1)&gt;" in html
    html = client.get("/papers/lonely").text
    assert 'href="/papers/lonely/edit?candidate=fig_p1_1"' in html
    assert "does not validate" in html and "must be &gt;= 1" in html


def test_open_a_failed_candidate(client):
    r = client.get("/papers/alpha/edit", params={"candidate": "fig_p1_1"}, headers=HTML)
    assert r.status_code == 200
    boot = boot_of(r.text)
    assert boot["graph"] == messy_graph() | {"name": "demo"} or boot["graph"]["layers"] == messy_graph()["layers"]
    assert boot["version"] == 1 and boot["paper"] == "alpha" and boot["candidate"] == "fig_p1_1"
    assert boot["message"] == "fixed candidate fig_p1_1"
    # a paper without any version: base version 0
    boot = boot_of(client.get("/papers/lonely/edit?candidate=fig_p1_1").text)
    assert boot["version"] == 0 and boot["graph"]["layers"][1]["layer_params"]["filters"] == 0


def test_the_candidate_name_is_escaped_in_the_editor(client):
    r = client.get("/papers/alpha/edit", params={"candidate": ODD})
    assert r.status_code == 200
    m = re.search(r'id="editor-boot">(.*?)</script>', r.text, re.S)
    assert "<img" not in m.group(1) and "'" not in m.group(1)      # tojson escapes < > & '
    boot = json.loads(m.group(1))
    assert boot["candidate"] == ODD and boot["message"] == f"fixed candidate {ODD}"


def test_an_unknown_candidate_is_a_404_page(client):
    r = client.get("/papers/alpha/edit", params={"candidate": "<i>nope</i>"}, headers=HTML)
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert "&lt;i&gt;nope&lt;/i&gt;" in r.text and "<i>nope</i>" not in r.text and '{"detail"' not in r.text
    # a name that is a file of the paper but not a candidate is unknown too
    assert client.get("/papers/alpha/edit", params={"candidate": "../report"}, headers=HTML).status_code == 404
    assert client.get("/papers/nobody/edit", params={"candidate": "fig_p1_1"}, headers=HTML).status_code == 404


def test_saving_a_fixed_candidate_makes_the_design(client):
    assert client.get("/api/papers/lonely").json()["status"] == "no_model"
    boot = boot_of(client.get("/papers/lonely/edit?candidate=fig_p1_1").text)
    graph = boot["graph"]
    graph["layers"][1]["layer_params"]["filters"] = 16
    r = client.post("/api/papers/lonely/versions", json={"graph": graph, "base_version": boot["version"],
                                                          "author": "fixer", "message": boot["message"]})
    assert r.status_code == 201 and r.json()["number"] == 1 and r.json()["valid"]
    p = client.get("/api/papers/lonely").json()
    assert p["status"] == "ok" and p["latest_version"] == 1
    assert "Conv2D" in p["layer_types"]
    vs = client.get("/api/papers/lonely/versions").json()["versions"]
    assert [(v["number"], v["author"], v["message"]) for v in vs] == [(1, "fixer", "fixed candidate fig_p1_1")]


def test_an_invalid_candidate_saved_as_is_stays_no_model(client):
    boot = boot_of(client.get("/papers/messy/edit?candidate=fig_p1_1").text)
    r = client.post("/api/papers/messy/versions", json={"graph": boot["graph"], "base_version": 0, "author": "a"})
    assert r.status_code == 201 and not r.json()["valid"]
    assert client.get("/api/papers/messy").json()["status"] == "no_model"


def test_a_save_identical_to_its_base_saves_nothing(client):
    v1 = client.get("/api/papers/alpha/versions/1").json()["graph"]
    same = copy.deepcopy(v1)
    for k, layer in enumerate(same["layers"]):            # the editor adds positions and reorders keys
        layer.setdefault("layer_params", {})
        layer["meta"] = {"position": {"x": 10 * k, "y": 80 * k}}
    same["layers"] = [dict(reversed(list(layer.items()))) for layer in same["layers"]]
    same = dict(reversed(list(same.items())))
    r = client.post("/api/papers/alpha/versions", json={"graph": same, "base_version": 1, "author": "x"})
    assert r.status_code == 200
    assert r.json() == {"unchanged": True, "number": 1, "detail": "nothing changed since version 1; nothing saved"}
    assert [v["number"] for v in client.get("/api/papers/alpha/versions").json()["versions"]] == [1]
    # a real change is saved, and then saving it again is not
    same["layers"][1]["layer_params"]["filters"] = 9
    r = client.post("/api/papers/alpha/versions", json={"graph": same, "base_version": 1, "author": "x"})
    assert r.status_code == 201 and r.json()["number"] == 2
    same["layers"][0]["meta"]["position"] = {"x": 500, "y": 5}      # moved on the canvas only
    r = client.post("/api/papers/alpha/versions", json={"graph": same, "base_version": 2, "author": "x"})
    assert r.status_code == 200 and r.json()["unchanged"] and r.json()["number"] == 2
    # other meta (provenance) is part of the design
    same["layers"][0]["meta"]["page"] = 3
    r = client.post("/api/papers/alpha/versions", json={"graph": same, "base_version": 2, "author": "x"})
    assert r.status_code == 201 and r.json()["number"] == 3
    # an old base is still a conflict, even when the graph equals that old version
    r = client.post("/api/papers/alpha/versions", json={"graph": v1, "base_version": 1, "author": "x"})
    assert r.status_code == 409


# ------------------------------------------------------------------ Chromium

@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("webcand")
    build_papers(tmp / "papers")
    url = f"sqlite:///{tmp / 'web.sqlite'}"
    import_papers(Database(url), tmp / "papers")
    with serve_in_thread(url, tmp / "data") as base:
        yield base


def error_nodes(page) -> list[str]:
    return sorted(page.evaluate("editor.cy.nodes('.error').map((n) => n.data('name'))"))


def click_node(page, name):
    from playwright.sync_api import expect

    x, y = page.evaluate("""(name) => {
        const n = editor.cy.nodes().filter((x) => x.data('name') === name)[0];
        const p = n.renderedPosition(), r = editor.cy.container().getBoundingClientRect();
        return [r.left + p.x, r.top + p.y];
    }""", name)
    page.mouse.click(x, y)
    expect(page.locator("#prop-name")).to_have_value(name)


def test_fix_a_failed_candidate_in_the_editor_and_save_it(server, page):
    from playwright.sync_api import expect

    page.goto(server + "/papers/lonely")
    expect(page.locator("#candidates li.candidate.invalid")).to_contain_text("fig_p1_1")
    page.click("#candidates a.open-candidate")
    page.wait_for_url("**/papers/lonely/edit?candidate=fig_p1_1")
    page.wait_for_function("window.editor && window.editor.result && editor.cy.nodes('.error').length > 0")
    assert page.evaluate("editor.cy.nodes().length") == 5
    assert error_nodes(page) == ["conv1"]
    expect(page.locator("#issues-panel")).to_contain_text("must be >= 1")
    expect(page.locator("#base-version")).to_have_text("0")
    expect(page.locator("#save-message")).to_have_value("fixed candidate fig_p1_1")
    expect(page.locator("#candidate-note")).to_contain_text("fig_p1_1")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "editor_failed_candidate.png"))
    # fix the bad parameter in the form
    click_node(page, "conv1")
    page.fill("#props input[data-param='filters']", "12")
    page.wait_for_function("editor.result && editor.result.ok")
    assert error_nodes(page) == []
    expect(page.locator("#code-files")).to_contain_text("nn.Conv2d(1, 12,")
    page.fill("#author", "fixer")
    page.click("#btn-save")
    expect(page.locator("#save-result")).to_contain_text("Saved as version 1")
    # saving the same design again saves nothing, and says so
    page.click("#btn-save")
    expect(page.locator("#save-unchanged")).to_have_text("nothing changed since version 1; nothing saved")
    page.goto(server + "/papers/lonely")
    expect(page.locator("#version-byline")).to_contain_text("version 1 by fixer")
    expect(page.locator("#version-byline")).to_contain_text("fixed candidate fig_p1_1")
    expect(page.locator("li.version.current")).to_have_attribute("data-version", "1")
    expect(page.locator("p.meta")).to_contain_text("status ok")
    expect(page.locator(".tab-panel.active")).to_contain_text("nn.Conv2d(1, 12,")
    assert not page.errors, page.errors


def test_a_candidate_with_unknown_types_and_dangling_inputs_loads_with_its_errors(server, page):
    from playwright.sync_api import expect

    page.goto(server + "/papers/messy/edit?candidate=fig_p1_1")
    page.wait_for_function("window.editor && window.editor.result && editor.cy.nodes('.error').length > 1")
    assert page.evaluate("editor.cy.nodes().length") == 5
    assert error_nodes(page) == ["conv1", "pool1"]
    expect(page.locator("#issues-panel li[data-node='conv1']")).to_contain_text("unknown layer_type 'Conv2Dx'")
    expect(page.locator("#issues-panel li[data-node='pool1']")).to_contain_text("'conv9'")
    # the dangling input is kept in the document the editor would save
    doc = page.evaluate("editor.toDoc()")
    assert next(l for l in doc["layers"] if l["layer_name"] == "pool1")["from_layers"] == ["conv9"]
    # fixing by loading a corrected document clears the errors
    page.evaluate("(g) => editor.loadDoc(g)", demo_graph())
    page.wait_for_function("editor.result && editor.result.ok")
    assert error_nodes(page) == []
    assert not page.errors, page.errors


def test_an_unknown_candidate_in_the_browser_is_a_page(server, page):
    from playwright.sync_api import expect

    r = page.goto(server + "/papers/alpha/edit?candidate=nope")
    assert r.status == 404
    expect(page.locator(".error-message")).to_contain_text("no candidate graph named 'nope'")
    assert '{"detail"' not in page.content()


def test_a_too_large_upload_in_the_browser_shows_a_page(server, page, tmp_path):
    from playwright.sync_api import expect

    from dlpaper2code.web.app import MAX_UPLOAD_BYTES

    big = tmp_path / "big.pdf"
    with open(big, "wb") as fh:                 # 25 MB: over the 20 MB limit
        fh.write(b"%PDF-1.4\n")
        fh.truncate(25 << 20)
    assert big.stat().st_size > MAX_UPLOAD_BYTES
    page.goto(server + "/upload")
    page.set_input_files("input[name=pdf]", str(big))
    page.click("#upload-form button")
    page.wait_for_load_state()
    expect(page.locator(".error-message")).to_contain_text("larger than the limit")
    text = page.inner_text("body")
    assert '{"detail"' not in text and "detail" not in page.content()
