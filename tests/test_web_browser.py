"""The website in real headless Chromium (Debian's chromium, driven by Playwright):
drag-and-drop editing with live code, shape errors on the node, save/reload/versions,
ratings, two sessions saving the same version, upload with progress, no script injection.
Screenshots go to results/web/screenshots/."""
from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from dlpaper2code.web.db import Database
from dlpaper2code.web.importer import import_papers
from dlpaper2code.web.testing import make_paper_dir, node_point, open_editor, serve_in_thread

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "results" / "web" / "screenshots"
METRICS = ROOT / "results" / "metrics"
XSS = "<script>window.__xss=1</script><img src=x onerror=\"window.__xss=2\">"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("web")
    for name in ("alpha", "gamma", "delta"):
        make_paper_dir(tmp / "papers", name, title=f"{name.capitalize()}Net: a small convolutional network")
    make_paper_dir(tmp / "papers", "xss", title=XSS, caption=XSS, layer_name_cell=XSS)
    url = f"sqlite:///{tmp / 'web.sqlite'}"
    import_papers(Database(url), tmp / "papers")
    with serve_in_thread(url, tmp / "data") as base:
        yield base


def shot(page, name, full=False):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full)


def click_node(page, name):
    x, y = node_point(page, name)
    page.mouse.click(x, y)
    expect(page.locator("#prop-name")).to_have_value(name)


def _has_edge(page, a, b):
    return page.evaluate("""([a, b]) => editor.cy.edges().filter((e) =>
        e.source().data('name') === a && e.target().data('name') === b).length""", [a, b]) == 1


def drag_connect(page, a, b):
    """Connect mode on, then press on layer a, drag onto layer b, release (retried if a busy
    machine let the gesture end before edgehandles saw the hover)."""
    if page.get_attribute("#btn-connect", "aria-pressed") != "true":
        page.click("#btn-connect")
    for _ in range(3):
        (x1, y1), (x2, y2) = node_point(page, a), node_point(page, b)
        page.mouse.move(x1, y1)
        page.mouse.down()
        page.mouse.move((x1 + x2) / 2, (y1 + y2) / 2, steps=5)
        page.mouse.move(x2, y2, steps=5)
        page.wait_for_timeout(150)       # edgehandles' hover delay
        page.mouse.up()
        if _has_edge(page, a, b):
            return
    raise AssertionError(f"dragging from {a} to {b} made no connection")


def drop_layer(page, ltype, x, y):
    page.drag_and_drop(f".palette-item[data-type='{ltype}']", "#cy", target_position={"x": x, "y": y})
    return page.input_value("#prop-name")


def names(page):
    return page.evaluate("editor.toDoc().layers.map((l) => [l.layer_name, l.from_layers])")


def code_text(page):
    return page.inner_text("#code-files")


def test_build_a_cnn_by_dragging_and_connecting(server, page):
    open_editor(page, server + "/editor")
    inp = drop_layer(page, "Input", 300, 60)
    conv = drop_layer(page, "Conv2D", 300, 170)
    pool = drop_layer(page, "MaxPool2D", 300, 280)
    dense = drop_layer(page, "Dense", 300, 500)
    assert (inp, conv, pool, dense) == ("input_1", "conv2d_1", "maxpool2d_1", "dense_1")
    for a, b in ((inp, conv), (conv, pool), (pool, dense)):
        drag_connect(page, a, b)
    assert names(page) == [[inp, []], [conv, [inp]], [pool, [conv]], [dense, [pool]]]
    # Dense straight on an image: the error is on the Dense node, no code
    page.wait_for_function("editor.cy.nodes().filter((n) => n.data('name') === 'dense_1' && n.hasClass('error')).length === 1")
    expect(page.locator("#issues-panel")).to_contain_text("dense_1")
    expect(page.locator("#issues-panel")).to_contain_text("shape_mismatch")
    expect(page.locator("#code-files")).to_contain_text("No code")
    shot(page, "editor_shape_error")
    # fix it with a Flatten between pool and dense
    page.click("#btn-connect")                       # back to moving/selecting
    flat = drop_layer(page, "Flatten", 470, 390)
    x, y = page.evaluate("""() => {
        const e = editor.cy.edges().filter((e) => e.source().data('name') === 'maxpool2d_1')[0];
        const p = e.renderedMidpoint(), r = editor.cy.container().getBoundingClientRect();
        return [r.left + p.x, r.top + p.y];
    }""")
    page.mouse.click(x, y)                           # select the edge pool -> dense, then delete it
    assert page.evaluate("editor.cy.$(':selected').map((e) => e.isEdge())") == [True]
    page.click("#btn-delete")
    drag_connect(page, pool, flat)
    drag_connect(page, flat, dense)
    page.click("#btn-connect")
    page.wait_for_function("editor.result.ok === true")
    assert page.evaluate("editor.cy.nodes('.error').length") == 0
    expect(page.locator("#status-text")).to_contain_text("valid: 5 layers")
    expect(page.locator("#code-files")).to_contain_text("nn.Conv2d(1, 32, kernel_size=(3, 3))")
    labels = page.evaluate("editor.cy.edges().map((e) => e.data('label'))")
    assert "26\u00d726\u00d732" in labels and "5408" in labels
    # the form shows the vocabulary's ranges; a value out of range is flagged on the field and the node
    click_node(page, conv)
    field = page.locator("#props input[data-param='filters']")
    expect(page.locator("#props")).to_contain_text("\u2265 1")
    field.fill("0")
    expect(page.locator("#props label:has(input[data-param='filters']) .field-error")).to_contain_text(">= 1")
    page.wait_for_function("editor.cy.nodes('.error').map((n) => n.data('name')).join() === 'conv2d_1'")
    field.fill("20")
    page.wait_for_function("editor.result.ok === true")
    expect(page.locator("#code-files")).to_contain_text("nn.Conv2d(1, 20,")
    page.click("#editor-tabs .tab[data-tab='caffe']")
    expect(page.locator("#code-files")).to_contain_text("num_output: 20")
    shot(page, "editor_cnn")
    assert not page.errors


def _measure_edits(page, layer, param, values, expect_text):
    click_node(page, layer)
    field = page.locator(f"#props input[data-param='{param}']")
    start = page.evaluate("editor.latencies.length")
    for v in values:
        field.fill(str(v))
        expect(page.locator("#code-files")).to_contain_text(expect_text(v))
    lat = page.evaluate(f"editor.latencies.slice({start})")
    assert len(lat) >= len(values)
    return {"edits": len(lat), "median_ms": round(statistics.median(lat), 1),
            "p95_ms": round(sorted(lat)[int(0.95 * (len(lat) - 1))], 1), "max_ms": round(max(lat), 1)}


@pytest.mark.slow
def test_edit_to_code_latency(server, page):
    """Each edit of a parameter: time from the input event to the new code in the panel
    (POST /api/generate: validation with shapes + the active tab's target, then highlighting)."""
    open_editor(page, server + "/papers/alpha/edit")
    small = _measure_edits(page, "conv1", "filters", range(9, 49), lambda v: f"nn.Conv2d(1, {v},")
    vgg = json.loads((ROOT / "config" / "zoo" / "vgg16.json").read_text())
    page.evaluate("(doc) => editor.loadDoc(doc)", vgg)
    page.wait_for_function("editor.result && editor.result.ok && editor.result.layers > 20")
    big = _measure_edits(page, "fc7", "units", range(4000, 4020), lambda v: f"nn.Linear(4096, {v})")
    METRICS.mkdir(parents=True, exist_ok=True)
    path = METRICS / "web_latency.json"
    try:                        # merged: tests/test_web_editor.py adds the 200- and 1,000-layer figures
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        data = {}
    data.update({
        "what": "headless Chromium: parameter edit (input event) -> new code of the active tab in the panel "
                "(POST /api/generate for that target on loopback: validate + shapes + emit, then highlight.js)",
        "small_cnn_5_layers": small, "vgg16_25_layers": big})
    path.write_text(json.dumps(data, indent=1) + "\n")
    assert small["median_ms"] < 100, f"edit -> code median {small['median_ms']} ms on 5 layers (goal < 100 ms)"
    assert small["p95_ms"] < 300, small
    assert big["median_ms"] < 500, big       # informative; the goal is stated for the editing loop above


def test_fix_an_imported_paper_save_reload_and_see_both_versions(server, page):
    page.goto(server + "/papers/alpha")
    expect(page.locator("#paper-title")).to_have_text("AlphaNet: a small convolutional network")
    page.wait_for_function("window.graphView && window.graphView.nodes().length === 5")
    expect(page.locator(".tab-panel.active")).to_contain_text("nn.Conv2d(1, 8,")
    shot(page, "paper", full=True)
    page.click("#edit-link")
    page.wait_for_function("window.editor && window.editor.cy && window.editor.result")
    click_node(page, "conv1")
    page.fill("#props input[data-param='filters']", "12")
    expect(page.locator("#code-files")).to_contain_text("nn.Conv2d(1, 12,")
    page.fill("#author", "tester")
    page.fill("#save-message", "twelve filters as in the text")
    page.click("#btn-save")
    expect(page.locator("#save-result")).to_contain_text("Saved as version")
    saved = int(page.inner_text("#base-version"))
    page.goto(server + "/papers/alpha")
    page.reload()
    expect(page.locator("#version-byline")).to_contain_text(f"version {saved} by tester")
    expect(page.locator(".tab-panel.active")).to_contain_text("nn.Conv2d(1, 12,")
    expect(page.locator(f"li.version[data-version='{saved}']")).to_contain_text("twelve filters as in the text")
    page.click(f"li.version[data-version='{saved}'] summary")
    expect(page.locator(f"li.version[data-version='{saved}'] .diff")).to_contain_text("conv1")
    page.click("li.version[data-version='1'] a")
    expect(page.locator("#version-byline")).to_contain_text("version 1 by extraction")
    expect(page.locator(".tab-panel.active")).to_contain_text("nn.Conv2d(1, 8,")
    assert not page.errors


def test_rate_a_design(server, page):
    page.goto(server + "/papers/delta")
    page.click("#rate-form button[data-value='4']")
    expect(page.locator("#rating-value")).to_have_text("4.00")
    expect(page.locator("#rating-count")).to_have_text("1")
    page.click("#rate-form button[data-value='2']")
    expect(page.locator("#rating-value")).to_have_text("3.00")
    page.reload()
    expect(page.locator("#rating-count")).to_have_text("2")
    # the MEX description: the algorithm class, the layers on demand, the Turtle download
    expect(page.locator("#mex-class")).to_contain_text("CNN")
    page.click("#mex-layers summary")
    expect(page.locator("#mex-layers")).to_contain_text("filters")
    with page.expect_download() as dl:
        page.click("#mex-ttl")
    assert dl.value.suggested_filename == "delta_mex.ttl"
    page.goto(server + "/")
    expect(page.locator("tr.paper-row")).to_have_count(4)
    shot(page, "catalog", full=True)
    page.select_option("select[name=min_rating]", "3")       # filters submit on change
    page.wait_for_url("**min_rating=3**")
    expect(page.locator("tr.paper-row")).to_have_count(1)
    expect(page.locator("tr.paper-row")).to_contain_text("DeltaNet")
    shot(page, "catalog_filtered", full=True)


def test_two_sessions_saving_the_same_version(server, browser):
    ctxs = [browser.new_context(viewport={"width": 1400, "height": 900}, bypass_csp=True) for _ in range(2)]
    try:
        ann, bob = (c.new_page() for c in ctxs)
        for pg in (ann, bob):
            open_editor(pg, server + "/papers/gamma/edit")
        click_node(ann, "conv1")
        ann.fill("#props input[data-param='filters']", "16")
        click_node(bob, "fc")
        bob.fill("#props input[data-param='units']", "12")
        expect(bob.locator("#code-files")).to_contain_text("nn.Linear(1352, 12)")
        ann.fill("#author", "ann")
        ann.click("#btn-save")
        expect(ann.locator("#save-result")).to_contain_text("Saved as version 2")
        bob.fill("#author", "bob")
        bob.click("#btn-save")
        expect(bob.locator(".conflict-message")).to_contain_text("version 2 was saved by ann")
        expect(bob.locator(".conflict-message")).to_contain_text("Nothing was overwritten")
        shot(bob, "editor_conflict")
        bob.click("#btn-merge")
        expect(bob.locator("#save-result")).to_contain_text("Merged onto version 2")
        bob.click("#btn-save")
        expect(bob.locator("#save-result")).to_contain_text("Saved as version 3")
        ann.click("#btn-save")                 # ann's page is now stale too
        expect(ann.locator(".conflict-message")).to_contain_text("version 3 was saved by bob")
    finally:
        for c in ctxs:
            c.close()
    import urllib.request

    g = json.load(urllib.request.urlopen(server + "/api/papers/gamma/versions/3"))["graph"]
    params = {l["layer_name"]: l.get("layer_params") for l in g["layers"]}
    assert params["conv1"]["filters"] == 16 and params["fc"]["units"] == 12


@pytest.mark.parametrize("with_csp", [True, False], ids=["csp", "escaping-alone"])
def test_no_script_injection(server, browser, with_csp):
    """Title, captions, table cells and layer names carrying markup never run: escaping alone
    prevents it (CSP bypassed), and the pages work under the real Content-Security-Policy."""
    ctx = browser.new_context(bypass_csp=not with_csp)
    page = ctx.new_page()
    dialogs, errors = [], []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        for url in ("/", "/papers/xss", "/papers/xss/edit"):
            page.goto(server + url)
            page.wait_for_load_state("networkidle")
            assert page.evaluate("window.__xss") is None, url
        deadline = time.time() + 10           # the editor runs under the policy (no eval anywhere)
        while page.evaluate("!(window.editor && window.editor.cy && window.editor.result)") and time.time() < deadline:
            time.sleep(0.1)
        assert page.evaluate("window.editor.result.ok") is True
        page.goto(server + "/papers/xss")
        expect(page.locator("#paper-title")).to_have_text(XSS)
        expect(page.locator("#figures figcaption").first).to_contain_text(XSS)
        assert page.evaluate("window.graphView.nodes().length") == 5
        assert not dialogs and not errors, (dialogs, errors)
    finally:
        ctx.close()


def test_import_export_and_auto_layout(server, page, tmp_path):
    open_editor(page, server + "/editor")
    page.set_input_files("#import-file", str(ROOT / "config" / "zoo" / "lenet5.json"))
    page.wait_for_function("editor.result && editor.result.ok && editor.toDoc().layers.length > 5")
    ys = page.evaluate("editor.cy.nodes().map((n) => Math.round(n.position('y')))")
    assert len(set(ys)) > 3                                  # laid out in ranks, not piled up
    with page.expect_download() as dl:
        page.click("#btn-export")
    doc = json.loads(Path(dl.value.path()).read_text())
    src = json.loads((ROOT / "config" / "zoo" / "lenet5.json").read_text())
    assert [l["layer_name"] for l in doc["layers"]] == [l["layer_name"] for l in src["layers"]]
    assert all("position" in l["meta"] for l in doc["layers"])
    page.click("#btn-import-text")
    page.fill("#json-text", "{not json")
    page.click("#json-load")
    expect(page.locator("#json-error")).to_contain_text("not valid JSON")


def test_upload_a_pdf_and_watch_the_job(server, page, tmp_path):
    from dlpaper2code.paper.synth import generate_paper

    truth = generate_paper(tmp_path, seed=5)
    page.goto(server + "/upload")
    page.set_input_files("input[name=pdf]", str(tmp_path / "x.txt") if False else str(tmp_path / f"{truth['name']}.pdf"))
    page.click("#upload-form button")
    page.wait_for_url("**/jobs/*")
    expect(page.locator("#job-status")).to_have_text("done", timeout=120_000)
    expect(page.locator("#job-percent")).to_have_text("100%")
    shot(page, "job")
    page.click("#job-paper-link")
    page.wait_for_function("window.graphView && window.graphView.nodes().length > 3")
    expect(page.locator(".tab-panel.active")).to_contain_text("import torch")
    # a file that is not a PDF is refused with a message on the form
    bad = tmp_path / "notes.pdf"
    bad.write_text("<script>alert(1)</script>")
    page.goto(server + "/upload")
    page.set_input_files("input[name=pdf]", str(bad))
    page.click("#upload-form button")
    expect(page.locator(".error-message")).to_contain_text("is not a PDF")


def test_build_a_transformer_encoder_by_dragging(server, page):
    """A post-norm Transformer encoder layer from the palette: attention, residual Adds, LayerNorms and a
    GELU feed-forward; shapes on the edges and the PyTorch code with nn.MultiheadAttention."""
    open_editor(page, server + "/editor")
    spots = {"Input": (300, 50), "MultiHeadAttention": (200, 150), "Add": (300, 250), "LayerNorm": (300, 350),
             "Dense": (200, 450), "Dense#2": (200, 550), "Add#2": (300, 650), "LayerNorm#2": (300, 750)}
    made = {}
    for key, (x, y) in spots.items():
        made[key] = drop_layer(page, key.split("#")[0], x, y)
    # the sequence: 6 steps of 16 features
    click_node(page, made["Input"])
    page.locator("#props input[data-param='shape']").fill("6,16")
    click_node(page, made["MultiHeadAttention"])
    page.locator("#props input[data-param='num_heads']").fill("4")
    page.locator("#props input[data-param='key_dim']").fill("4")
    click_node(page, made["Dense"])
    page.locator("#props input[data-param='units']").fill("32")
    page.locator("#props select[data-param='activation']").select_option("gelu")
    click_node(page, made["Dense#2"])
    page.locator("#props input[data-param='units']").fill("16")
    for a, b in (("Input", "MultiHeadAttention"), ("Input", "Add"), ("MultiHeadAttention", "Add"),
                 ("Add", "LayerNorm"), ("LayerNorm", "Dense"), ("Dense", "Dense#2"), ("LayerNorm", "Add#2"),
                 ("Dense#2", "Add#2"), ("Add#2", "LayerNorm#2")):
        drag_connect(page, made[a], made[b])
    page.click("#btn-connect")
    page.wait_for_function("editor.result.ok === true")
    expect(page.locator("#status-text")).to_contain_text("valid: 8 layers")
    labels = page.evaluate("editor.cy.edges().map((e) => e.data('label'))")
    assert "6\u00d716" in labels and "6\u00d732" in labels
    code = code_text(page)
    assert "nn.MultiheadAttention(16, 4, batch_first=True)" in code and "nn.LayerNorm(16" in code
    assert "F.gelu(" in code
    page.click("#editor-tabs .tab[data-tab='keras']")
    expect(page.locator("#code-files")).to_contain_text("layers.MultiHeadAttention(num_heads=4, key_dim=4")
    page.click("#editor-tabs .tab[data-tab='caffe']")
    expect(page.locator("#code-files")).to_contain_text("Caffe has no attention layer")
    shot(page, "editor_transformer_encoder")
    assert not page.errors
