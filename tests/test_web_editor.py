"""The graph editor's working loop in headless Chromium (issue 18): a blank editor that is not an
error, shapes kept on the sound part of an invalid graph, undo/redo of every edit, renaming as
you type, highlighted and scrollable code, collapsible named groups, labels legible at Fit, and
the edit -> code latency of a 200-layer graph (figures in results/metrics/web_latency.json)."""
from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest
from playwright.sync_api import expect

from dlpaper2code.web.db import Database
from dlpaper2code.web.importer import import_papers
from dlpaper2code.web.service import generate
from dlpaper2code.web.testing import make_paper_dir, node_point, open_editor, serve_in_thread

ROOT = Path(__file__).resolve().parents[1]
METRICS = ROOT / "results" / "metrics"


# ------------------------------------------------------------------ documents
def conv_chain(n: int, size: int = 8) -> dict:
    """Input, then Conv2D/ReLU alternating: ``n`` layers in one chain."""
    layers = [{"layer_type": "Input", "layer_name": "image", "layer_params": {"shape": [size, size, 3]}, "from_layers": []}]
    prev = "image"
    for k in range(1, n):
        if k % 2:
            layer = {"layer_type": "Conv2D", "layer_name": f"c{k}",
                     "layer_params": {"filters": 8, "kernel_size": 3, "padding": "same"}, "from_layers": [prev]}
        else:
            layer = {"layer_type": "ReLU", "layer_name": f"r{k}", "from_layers": [prev]}
        layers.append(layer)
        prev = layer["layer_name"]
    return {"name": f"chain{n}", "layers": layers}


def grouped_doc() -> dict:
    """Two groups by meta.block (stage1_block1) and by a name prefix (conv2_1/...)."""
    L = [{"layer_type": "Input", "layer_name": "image", "layer_params": {"shape": [16, 16, 3]}, "from_layers": []}]
    prev = "image"
    for k in range(3):
        name = f"s1_{k}"
        L.append({"layer_type": "Conv2D", "layer_name": name, "layer_params": {"filters": 4, "kernel_size": 3, "padding": "same"},
                  "from_layers": [prev], "meta": {"block": "stage1_block1"}})
        prev = name
    for part in ("conv", "bn", "relu"):
        name = f"conv2_1/{part}"
        ltype = {"conv": "Conv2D", "bn": "BatchNorm", "relu": "ReLU"}[part]
        params = {"filters": 6, "kernel_size": 3} if part == "conv" else {}
        L.append({"layer_type": ltype, "layer_name": name, "layer_params": params, "from_layers": [prev]})
        prev = name
    L.append({"layer_type": "Flatten", "layer_name": "flat", "from_layers": [prev]})
    L.append({"layer_type": "Dense", "layer_name": "fc", "layer_params": {"units": 10}, "from_layers": ["flat"]})
    return {"name": "grouped", "layers": L}


# ------------------------------------------------------------------ server API
def test_generate_targets_none_all_empty_list_validation_only():
    doc = conv_chain(5)
    assert sorted(generate(doc)["code"]) == ["caffe", "keras", "pytorch", "tensorflow"]
    only = generate(doc, [])
    assert only["ok"] and only["code"] == {} and only["shapes"]["c3"] == [8, 8, 8]
    assert list(generate(doc, ["keras"])["code"]) == ["keras"]


def test_invalid_graph_keeps_the_shapes_of_its_sound_part():
    doc = conv_chain(5)
    doc["layers"][3]["layer_params"]["filters"] = 0                   # c3: out of range
    doc["layers"].append({"layer_type": "Flatten", "layer_name": "side", "from_layers": ["r2"]})   # beside the fault
    res = generate(doc)
    assert not res["ok"] and {i["node"] for i in res["issues"]} == {"c3"}
    assert res["shapes"]["image"] == [8, 8, 3] and res["shapes"]["c1"] == [8, 8, 8] and res["shapes"]["r2"] == [8, 8, 8]
    assert res["shapes"]["side"] == [512]
    assert "c3" not in res["shapes"] and "r4" not in res["shapes"]   # at fault, and downstream of it
    # a shape mismatch: the layers before it keep their shapes
    doc = conv_chain(5)
    doc["layers"].append({"layer_type": "Add", "layer_name": "bad_add", "from_layers": ["image", "c1"]})
    res = generate(doc)
    assert not res["ok"] and res["issues"][0]["node"] == "bad_add"
    assert res["shapes"]["r4"] == [8, 8, 8] and "bad_add" not in res["shapes"]
    # junk never breaks the partial inference
    assert generate({"layers": [{"layer_type": 3, "layer_name": "x"}, {"layer_name": "y"}]})["shapes"] == {}


# ------------------------------------------------------------------ browser fixtures

@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("web_editor")
    make_paper_dir(tmp / "papers", "alpha", title="AlphaNet: a small convolutional network")
    url = f"sqlite:///{tmp / 'web.sqlite'}"
    import_papers(Database(url), tmp / "papers")
    with serve_in_thread(url, tmp / "data") as base:
        yield base


def load(page, doc, ok=True):
    page.evaluate("(doc) => editor.loadDoc(doc)", doc)
    if ok:
        page.wait_for_function("(n) => editor.result && editor.result.ok && editor.toDoc().layers.length === n && "
                               "editor.result.forDoc === JSON.stringify(editor.toDoc())", arg=len(doc["layers"]))


def select(page, name):
    page.evaluate("""(name) => { const n = editor.cy.nodes('[?layer]').filter((x) => x.data('name') === name)[0];
                                 editor.cy.elements().unselect(); n.select(); }""", name)
    expect(page.locator("#prop-name")).to_have_value(name)


def layer_names(page):
    return page.evaluate("editor.toDoc().layers.map((l) => l.layer_name)")


def params_of(page, name):
    return page.evaluate("(n) => editor.toDoc().layers.find((l) => l.layer_name === n).layer_params", name)


def label_px(page):
    """The rendered size of a node label: font size (model px) times the zoom."""
    return page.evaluate("""() => { const n = editor.cy.nodes(':visible')[0];
        return parseFloat(n.style('font-size')) * editor.cy.zoom(); }""")


# ------------------------------------------------------------------ 1. blank editor
def test_blank_editor_is_empty_not_an_error(server, page):
    open_editor(page, server + "/editor")
    page.wait_for_function("editor.result.empty === true")
    expect(page.locator("#status-text")).to_have_text("empty: drag layers from the palette")
    assert "bad" not in (page.get_attribute("#status-text", "class") or "")
    expect(page.locator("#issues-panel li")).to_have_count(0)
    expect(page.locator("#issues-panel")).not_to_contain_text("non-empty")
    expect(page.locator("#code-files")).to_contain_text("Drag layers from the palette")
    # a layer added and deleted again: back to the neutral state
    page.dblclick(".palette-item[data-type='Input']")
    page.wait_for_function("editor.result.ok === true")
    page.click("#prop-delete")
    page.wait_for_function("editor.result.empty === true")
    expect(page.locator("#status-text")).to_have_text("empty: drag layers from the palette")
    expect(page.locator("#issues-panel li")).to_have_count(0)
    assert not page.errors


# ------------------------------------------------------------------ 2. partial shapes
def test_edges_keep_their_shapes_upstream_of_an_error(server, page):
    open_editor(page, server + "/editor")
    doc = conv_chain(7)
    doc["layers"][5]["layer_params"]["filters"] = 0                   # c5 out of range
    load(page, doc, ok=False)
    page.wait_for_function("editor.result && editor.result.ok === false && editor.result.issues.length")
    labels = dict(page.evaluate("editor.cy.edges().map((e) => [e.source().data('name'), e.data('label')])"))
    assert labels["image"] == "8\u00d78\u00d73" and labels["c1"] == "8\u00d78\u00d78" and labels["r4"] == "8\u00d78\u00d78"
    assert labels["c5"] == ""                                          # the layer at fault has none
    assert page.evaluate("editor.cy.nodes('.error').map((n) => n.data('name'))") == ["c5"]


# ------------------------------------------------------------------ 3. undo / redo
def test_undo_redo_every_kind_of_edit(server, page):
    open_editor(page, server + "/editor")
    load(page, conv_chain(5))
    depth = lambda: page.evaluate("editor.hist.index")           # noqa: E731
    start = depth()
    # a parameter typed character by character: one step
    select(page, "c1")
    field = page.locator("#props input[data-param='filters']")
    field.click()
    field.press("Control+a")
    field.type("123", delay=30)
    page.wait_for_function("editor.result.ok && editor.toDoc().layers[1].layer_params.filters === 123")
    assert depth() == start + 1
    # Ctrl+Z inside the text field is the browser's own (not the graph's)
    field.press("Control+z")
    assert depth() >= start + 1 and page.evaluate("editor.hist.stack.length") >= start + 2
    page.wait_for_timeout(100)
    page.locator("#cy").click(position={"x": 5, "y": 5})          # focus out of the field, onto the canvas
    params_before_undo = params_of(page, "c1")["filters"]
    page.keyboard.press("Control+z")
    page.wait_for_function("editor.toDoc().layers[1].layer_params.filters === 8")
    page.keyboard.press("Control+Shift+z")
    page.wait_for_function("(v) => editor.toDoc().layers[1].layer_params.filters === v", arg=params_before_undo)
    page.keyboard.press("Control+z")
    page.wait_for_function("editor.toDoc().layers[1].layer_params.filters === 8")
    page.keyboard.press("Control+y")
    page.wait_for_function("(v) => editor.toDoc().layers[1].layer_params.filters === v", arg=params_before_undo)
    # add (palette double-click), rename, delete, connect: each undone by the toolbar button
    page.dblclick(".palette-item[data-type='Dense']")
    assert "dense_1" in layer_names(page)
    page.fill("#prop-name", "head")
    assert "head" in layer_names(page)
    page.evaluate("""() => { const a = editor.cy.nodes('[?layer]').filter((n) => n.data('name') === 'r4')[0];
                             const b = editor.cy.nodes('[?layer]').filter((n) => n.data('name') === 'head')[0];
                             editor.cy.add({ group: 'edges', data: { id: 'manual', source: a.id(), target: b.id(), idx: 999 } });
                             editor.cy.emit('ehcomplete', [a, b, editor.cy.getElementById('manual')]); }""")
    page.wait_for_function("editor.toDoc().layers.find((l) => l.layer_name === 'head').from_layers.join() === 'r4'")
    page.locator("#cy").click(position={"x": 5, "y": 5})
    page.click("#btn-undo")                                            # connect
    page.wait_for_function("editor.toDoc().layers.find((l) => l.layer_name === 'head').from_layers.length === 0")
    page.click("#btn-undo")                                            # rename
    page.wait_for_function("editor.toDoc().layers.some((l) => l.layer_name === 'dense_1')")
    page.click("#btn-undo")                                            # add
    page.wait_for_function("!editor.toDoc().layers.some((l) => l.layer_name === 'dense_1')")
    page.click("#btn-redo")
    page.wait_for_function("editor.toDoc().layers.some((l) => l.layer_name === 'dense_1')")
    # delete, undone
    select(page, "r4")
    page.click("#prop-delete")
    assert "r4" not in layer_names(page)
    page.keyboard.press("Control+z")
    page.wait_for_function("editor.toDoc().layers.some((l) => l.layer_name === 'r4')")
    assert page.evaluate("editor.toDoc().layers.find((l) => l.layer_name === 'r4').from_layers") == ["c3"]
    # move (drag end)
    page.click("#btn-fit")
    before = page.evaluate("editor.toDoc().layers.find((l) => l.layer_name === 'c3').meta.position")
    x, y = node_point(page, "c3")
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 60, y + 10, steps=6)
    page.mouse.up()
    page.wait_for_function("(b) => editor.toDoc().layers.find((l) => l.layer_name === 'c3').meta.position.x !== b.x", arg=before)
    page.keyboard.press("Control+z")
    page.wait_for_function("(b) => editor.toDoc().layers.find((l) => l.layer_name === 'c3').meta.position.x === b.x", arg=before)
    # load (import) and undo back to the previous graph
    load(page, conv_chain(3))
    assert len(layer_names(page)) == 3
    page.keyboard.press("Control+z")
    page.wait_for_function("editor.toDoc().layers.length === 6")
    page.wait_for_function("editor.result.forDoc === JSON.stringify(editor.toDoc())")
    assert page.evaluate("editor.result.issues.map((i) => i.node)") == ["dense_1"]   # the unconnected Dense
    assert not page.errors


# ------------------------------------------------------------------ 4. rename
def test_rename_as_you_type_and_say_why_a_name_is_refused(server, page):
    open_editor(page, server + "/editor")
    load(page, conv_chain(5))
    select(page, "c3")
    box = page.locator("#prop-name")
    steps = page.evaluate("editor.hist.index")
    box.click()
    box.press("Control+a")
    box.type("mid", delay=20)                                 # applied on input, before any blur
    page.wait_for_function("editor.toDoc().layers[3].layer_name === 'mid'")
    assert page.evaluate("editor.hist.index") == steps + 1    # one undo step for the whole name
    page.wait_for_function("editor.result.ok && editor.toDoc().layers[4].from_layers.join() === 'mid'")
    for bad, why in (("has space", "no spaces"), ('q"uote', "no spaces, quotes"), ("c1", "another layer"), ("", "needs a name")):
        box.fill(bad)
        expect(page.locator("#prop-name-error")).to_contain_text(why)
        assert page.evaluate("editor.toDoc().layers[3].layer_name") == "mid"
        box.blur()                                            # change/blur does not apply it either
        expect(page.locator("#prop-name-error")).to_contain_text(why)
        assert page.evaluate("editor.toDoc().layers[3].layer_name") == "mid"
    box.fill("mid2")
    expect(page.locator("#prop-name-error")).to_have_text("")
    assert page.evaluate("editor.toDoc().layers[3].layer_name") == "mid2"


# ------------------------------------------------------------------ 5. code highlighting
def _check_code_pane(page, scope):
    colours = page.evaluate("""(scope) => {
        const kw = document.querySelector(scope + ' .hljs-keyword');
        const code = kw.closest('code');
        const plain = [...code.childNodes].find((n) => n.nodeType === 3 && n.textContent.trim());
        const probe = document.createElement('span'); code.append(probe);
        const out = [getComputedStyle(kw).color, getComputedStyle(probe).color];
        probe.remove();
        return out;
    }""", scope)
    assert colours[0] != colours[1], colours


def test_code_is_coloured_and_long_lines_scroll(server, page):
    open_editor(page, server + "/papers/alpha/edit")
    _check_code_pane(page, "#code-files")
    long = "very_long_layer_name_" * 6
    page.evaluate("""(long) => { const d = editor.toDoc(); d.layers[1].layer_name = long; d.layers[2].from_layers = [long];
                                 editor.loadDoc(d); }""", long)
    page.wait_for_function("(n) => editor.result.ok && document.querySelector('#code-files').textContent.includes(n)", arg=long)
    info = page.evaluate("""(long) => { const pre = document.querySelector('#code-files pre');
        const cs = getComputedStyle(pre), side = document.querySelector('.side');
        return {sw: pre.scrollWidth, cw: pre.clientWidth, ox: cs.overflowX, ws: cs.whiteSpace,
                sideSW: side.scrollWidth, sideCW: side.clientWidth}; }""", long)
    wraps = info["ws"] in ("pre-wrap", "break-spaces")
    assert wraps or (info["sw"] > info["cw"] and info["ox"] in ("auto", "scroll")), info
    assert info["sideSW"] <= info["sideCW"] + 1, info            # the pane scrolls, not the whole side bar
    # the end of the longest line can be scrolled into view inside the pane
    page.evaluate("document.querySelector('#code-files pre').scrollLeft = 1e6")
    assert page.evaluate("document.querySelector('#code-files pre').scrollLeft") > 0
    page.goto(server + "/papers/alpha")
    _check_code_pane(page, ".tab-panel.active")


# ------------------------------------------------------------------ 6. groups and legibility
def test_named_groups_collapse_and_expand_on_click(server, page):
    open_editor(page, server + "/editor")
    load(page, grouped_doc())
    summaries = page.evaluate("editor.cy.nodes('.group-summary:visible').map((n) => [n.data('name'), n.data('label')])")
    assert sorted(s[0] for s in summaries) == ["conv2_1", "stage1_block1"]
    assert all("3 layers" in s[1] for s in summaries)
    visible = page.evaluate("editor.cy.nodes('[?layer]:visible').map((n) => n.data('name'))")
    assert sorted(visible) == ["fc", "flat", "image"]
    # the collapsed groups are wired in with their shapes
    assert page.evaluate("editor.cy.edges('.proxy:visible').length") == 3
    assert "14\u00d714\u00d76" in page.evaluate("editor.cy.edges(':visible').map((e) => e.data('label'))")
    assert len(layer_names(page)) == 9                        # the document is untouched
    x, y = page.evaluate("""() => { const n = editor.cy.nodes('.group-summary').filter((n) => n.data('name') === 'conv2_1')[0];
        const p = n.renderedPosition(), r = editor.cy.container().getBoundingClientRect(); return [r.left + p.x, r.top + p.y]; }""")
    page.mouse.click(x, y)
    page.wait_for_function("editor.cy.nodes('[?layer]:visible').length === 6")
    assert page.evaluate("editor.cy.nodes('.group-summary:visible').map((n) => n.data('name'))") == ["stage1_block1"]
    select(page, "conv2_1/bn")
    page.click("#prop-collapse")
    page.wait_for_function("editor.cy.nodes('[?layer]:visible').length === 3")
    page.click("#btn-groups")
    page.wait_for_function("editor.cy.nodes('[?layer]:visible').length === 9")
    expect(page.locator("#btn-groups")).to_have_text("Collapse groups")
    load(page, conv_chain(12))                                # no groups: no button
    expect(page.locator("#btn-groups")).to_be_hidden()
    assert not page.errors


def test_a_block_use_expands_into_its_layers_and_folds_back(server, page):
    open_editor(page, server + "/editor")
    doc = json.loads((ROOT / "config" / "zoo" / "mobilenet_blocks.json").read_text())
    load(page, doc)
    before = page.evaluate("editor.toDoc().layers.map((l) => [l.layer_name, l.from_layers])")
    select(page, "block1")
    expect(page.locator("#prop-expand-block")).to_have_text("Show its 8 layers")
    page.click("#prop-expand-block")
    page.wait_for_function("editor.cy.nodes('.block-inner').length === 8")
    assert page.evaluate("editor.cy.nodes('[?layer]').filter((n) => n.data('name') === 'block1')[0].visible()") is False
    labels = page.evaluate("editor.cy.edges('.block-inner').map((e) => e.data('label'))")
    assert "32\u00d732\u00d796" in labels                         # image -> expand: 16 -> 96 channels
    # the block's output feeds block2 and the residual Add
    fed = page.evaluate("editor.cy.edges('.block-proxy').map((e) => e.target().data('name')).sort()")
    assert fed == ["block2", "block2_residual"]
    assert page.evaluate("editor.toDoc().layers.map((l) => [l.layer_name, l.from_layers])") == before
    # an edit elsewhere keeps it open, with fresh shapes
    select(page, "logits")
    page.fill("#props input[data-param='units']", "7")
    page.wait_for_function("editor.result.ok && editor.result.shapes.logits[0] === 7")
    assert page.evaluate("editor.cy.nodes('.block-inner').length") == 8
    x, y = page.evaluate("""() => { const n = editor.cy.nodes('.block-inner')[2];
        const p = n.renderedPosition(), r = editor.cy.container().getBoundingClientRect(); return [r.left + p.x, r.top + p.y]; }""")
    page.mouse.click(x, y)
    page.wait_for_function("editor.cy.nodes('.block-inner').length === 0")
    assert page.evaluate("editor.cy.nodes('[?layer]').filter((n) => n.data('name') === 'block1')[0].visible()") is True
    assert not page.errors


@pytest.mark.parametrize("n", [40, 200])
def test_labels_are_legible_after_fit(server, page, n):
    open_editor(page, server + "/editor")
    load(page, conv_chain(n))
    assert label_px(page) >= 8
    page.click("#btn-fit")
    assert label_px(page) >= 8
    # the view shows the start of the graph and the chain is folded into columns, not one strip
    xs = page.evaluate("editor.cy.nodes('[?layer]').map((n) => Math.round(n.position('x')))")
    assert len(set(xs)) >= 2
    page.click("#btn-layout")
    assert label_px(page) >= 8


# ------------------------------------------------------------------ 7. latency
def _edit_series(page, layer, values, text):
    select(page, layer)
    field = page.locator("#props input[data-param='filters']")
    start = page.evaluate("editor.latencies.length")
    for v in values:
        n = page.evaluate("editor.latencies.length")
        field.fill(str(v))
        # a cheap wait (no layout of the code pane while the edit is in flight), then the code is checked
        page.wait_for_function("(n) => editor.latencies.length > n", arg=n)
        page.wait_for_function("(t) => document.getElementById('code-files').textContent.includes(t)", arg=text(v))
    lat = page.evaluate(f"editor.latencies.slice({start})")
    assert len(lat) >= len(values)
    return {"edits": len(lat), "median_ms": round(statistics.median(lat), 1),
            "p95_ms": round(sorted(lat)[int(0.95 * (len(lat) - 1))], 1), "max_ms": round(max(lat), 1)}


def _merge_metrics(entries: dict):
    METRICS.mkdir(parents=True, exist_ok=True)
    path = METRICS / "web_latency.json"
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        data = {}
    data.update(entries)
    path.write_text(json.dumps(data, indent=1) + "\n")


@pytest.mark.slow
def test_edit_to_code_latency_200_and_1000_layers(server, page):
    """Parameter edits on a 200-layer Conv/ReLU chain: input event -> new code of the active tab on
    screen (POST /api/generate for that target on loopback, then highlight.js). Goal p95 < 100 ms."""
    open_editor(page, server + "/editor")
    load(page, conv_chain(200))
    big = _edit_series(page, "c101", range(9, 45), lambda v: f"nn.Conv2d(8, {v},")
    load(page, conv_chain(1000, size=4))
    huge = _edit_series(page, "c501", range(9, 17), lambda v: f"nn.Conv2d(8, {v},")
    _merge_metrics({"layers_200": {**big, "what": "200-layer Conv2D/ReLU chain, active tab (PyTorch) only"},
                    "layers_1000": {**huge, "what": "1,000-layer Conv2D/ReLU chain, active tab (PyTorch) only"}})
    assert big["p95_ms"] < 100, big
    assert huge["median_ms"] < 700, huge
    assert not page.errors
