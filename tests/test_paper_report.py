"""Figures tried (figure_filter hook), table+figure fusion with provenance, the HTML report."""
from __future__ import annotations

import json
import re

import pytest

from dlpaper2code.paper import generate_paper
from dlpaper2code.paper.fuse import branches, coverage, fuse_graphs, similarity
from dlpaper2code.paper.pipeline import process_paper
from dlpaper2code.paper.options import PaperOptions
from dlpaper2code.paper.table_graph import graph_issues, table_to_graphs


# --------------------------------------------------------------------------- fusion
def _table_doc():
    cells = [["layer", "configuration"], ["input", "input (32 x 32 RGB image)"], ["c1", "conv3-16"],
             ["c2", "conv3-16"], ["p1", "max pool"], ["f1", "FC-10"]]
    return table_to_graphs(cells)[0]


def _figure_doc(branching: bool):
    """The same model as a diagram reader gives it: no parameters it cannot read, and (when
    `branching`) a skip connection joined by a Concat the table does not show."""
    L = [{"layer_type": "Input", "layer_name": "in", "layer_params": {"shape": [28, 28, 1]}, "from_layers": []},
         {"layer_type": "Conv2D", "layer_name": "a", "layer_params": {"filters": 1, "kernel_size": 1,
                                                                     "padding": "same"}, "from_layers": ["in"]},
         {"layer_type": "Conv2D", "layer_name": "b", "layer_params": {"filters": 1, "kernel_size": 1,
                                                                     "padding": "same"}, "from_layers": ["a"]}]
    if branching:
        L.append({"layer_type": "Concat", "layer_name": "cat", "layer_params": {}, "from_layers": ["a", "b"]})
    L += [{"layer_type": "MaxPool2D", "layer_name": "p", "layer_params": {"pool_size": 2, "strides": 2},
           "from_layers": [L[-1]["layer_name"]]},
          {"layer_type": "Flatten", "layer_name": "fl", "layer_params": {}, "from_layers": ["p"]},
          {"layer_type": "Dense", "layer_name": "d", "layer_params": {"units": 3}, "from_layers": ["fl"]}]
    return {"name": "fig", "layers": L}


def test_fusion_of_a_branching_figure_takes_its_connections_and_the_tables_parameters():
    t, f = _table_doc(), _figure_doc(branching=True)
    assert branches(f) and not branches(t) and coverage(t, f) == 1.0     # the Concat, no table shows, not counted
    fused, prov = fuse_graphs(t, f, figure_id="fig_p1_1")
    assert graph_issues(fused) == []
    by = {n["layer_name"]: n for n in fused["layers"]}
    assert by["cat"]["from_layers"] == ["c1", "c2"]              # the figure's skip connection, the table's names
    assert by["c1"]["meta"]["figure_name"] == "a"
    assert by["c1"]["layer_params"]["filters"] == 16 and by["c2"]["layer_params"]["kernel_size"] == 3   # the table's
    assert by["f1"]["layer_params"]["units"] == 10
    assert by["in"]["layer_params"]["shape"] == [32, 32, 3]                   # the table's input
    src = {r["layer"]: (r["type_from"], r["params_from"], r["edges_from"]) for r in prov["layers"]}
    assert src["c1"] == ("table+figure", "table", "figure") and src["cat"] == ("figure", "figure", "figure")
    assert prov["matched"] == 4 and prov["dropped"] == [] and "branches" in prov["mode"]


def test_fusion_of_a_chain_figure_keeps_the_table_and_marks_what_it_confirms():
    t = _table_doc()
    f = _figure_doc(branching=False)
    f["layers"] = f["layers"][:3]                                            # the figure shows the first two convs
    fused, prov = fuse_graphs(t, f)
    assert [n["layer_type"] for n in fused["layers"]] == [n["layer_type"] for n in t["layers"]]
    marks = [(r["layer_type"], r["type_from"]) for r in prov["layers"] if r["layer_type"] != "Input"]
    assert marks[:2] == [("Conv2D", "table+figure")] * 2 and ("Dense", "table") in marks
    assert similarity(t, f) < 0.8 <= coverage(t, f)


def test_fusion_flags_what_the_figure_prints_otherwise_and_keeps_the_tables_value():
    """A figure printing "conv 3x3, 32" where the table says conv3-16: the table's 16 is kept and the
    row says so; the kernel written [3, 3] in one and 3 in the other is not a disagreement."""
    t, f = _table_doc(), _figure_doc(branching=True)
    f["layers"][1]["layer_params"] = {"filters": 32, "kernel_size": [3, 3], "padding": "same"}
    fused, prov = fuse_graphs(t, f)
    by = {n["layer_name"]: n for n in fused["layers"]}
    assert by["c1"]["layer_params"]["filters"] == 16
    row = next(r for r in prov["layers"] if r["layer"] == "c1")
    assert row["disagree"] == [{"param": "filters", "kept": 16, "figure": 32}]
    assert by["c1"]["meta"]["disagree"] == row["disagree"]
    assert prov["disagreements"] >= 1
    assert "disagree" not in next(r for r in prov["layers"] if r["layer"] == "p1")   # the same pool: no flag


def test_fusion_lists_layers_whose_types_disagree_at_the_same_place():
    t = _table_doc()
    f = _figure_doc(branching=False)
    f["layers"][3]["layer_type"] = "AvgPool2D"                         # the table's max pool drawn as an avg pool
    fused, prov = fuse_graphs(t, f, figure_id="fig_p2_1")
    assert prov["type_disagreements"] == [{"layer": "p1", "layer_type": "MaxPool2D",
                                           "figure_node": "p", "figure_type": "AvgPool2D"}]
    assert fuse_graphs(t, _figure_doc(branching=False))[1]["type_disagreements"] == []


def test_fusion_with_the_text_labels_the_text_as_the_source():
    t, f = _table_doc(), _figure_doc(branching=True)
    fused, prov = fuse_graphs(t, f, kind="text")
    src = {r["layer"]: (r["type_from"], r["params_from"], r["edges_from"]) for r in prov["layers"]}
    assert src["c1"] == ("text+figure", "text", "figure") and prov["kind"] == "text"
    assert "text parameters" in prov["mode"]
    assert not any("table" in v for r in src.values() for v in r)


# --------------------------------------------------------------------------- through the pipeline
@pytest.fixture(scope="module")
def paper2(tmp_path_factory):
    d = tmp_path_factory.mktemp("p2")
    truth = generate_paper(d, 2)             # raster + vector architecture figures, plot, photos, two tables
    return d / truth["pdf"], truth


def test_figure_filter_hook_fusion_and_report(paper2, tmp_path):
    pdf, truth = paper2
    seen = []

    def only_vector(fig, crop):
        seen.append((fig["id"], crop.name))
        return (fig["source"] == "vector", f"classifier says {fig['source']}")
    out = tmp_path / "out"
    report = process_paper(pdf, out, PaperOptions(figure_filter=only_vector, targets=("pytorch", "caffe")))
    assert report["status"] == "ok"
    assert [s[0] for s in seen] == [f["figure"] for f in report["figures"]] and all(c.endswith(".png") for _, c in seen)
    for f in report["figures"]:
        assert f["tried"] == (f["source"] == "vector")
        assert ("filter" in f if f["tried"] else f["why"].startswith("classifier says"))
    # the vector block diagram shows the first layers of the table's model: fused, read from the PDF itself
    fused = [g for g in report["graphs"] if g.get("fused")]
    assert len(fused) == 1 and fused[0]["from"] == "table"
    prov = fused[0]["fused"]
    assert prov["mode"].startswith("table structure") and prov["matched"] >= 3
    assert {r["type_from"] for r in prov["layers"]} == {"table+figure", "table"}
    fig = next(f for f in report["figures"] if f.get("fused_with"))
    assert fig["reader"] == "vector graph" and fig["confidence"] == 1.0       # its arrows connect every box
    doc = json.loads((out / "graphs" / f"{fused[0]['name']}.json").read_text())
    assert sum(1 for n in doc["layers"] if n["meta"]["source"]["type"] == "table+figure") == prov["matched"]
    # the report: steps with confidences, page images, crops, drawing, code, provenance
    html = (out / "report.html").read_text()
    for needle in ("Steps and how sure each is", "Where each part came from", "model_pytorch.py",
                   "classifier says raster", f"graph.json</strong> is <strong>{report['primary_graph']}",
                   "from an architecture table (+3)"):
        assert needle in html, needle
    assert report["candidates_ranked"][0]["name"] == report["primary_graph"] and report["primary_valid"]
    for src in re.findall(r'src="([^"]+)"', html):
        assert (out / src).is_file(), src
    assert any(p["items"] for p in report["page_images"]) and len(re.findall(r'src="pages/', html)) >= 2
    used = {u for p in report["page_images"] for u in p["used"]}
    assert used == {fused[0]["table"], fused[0]["confirmed_by"]["figure"]}      # drawn in red on the pages
    assert re.search(r'src="tables/tab_p\d+_\d+\.png"', html) and re.search(r'src="graphs/[^"]+\.png"', html)
    # each section once, the page images closed before the models (with page images and without)
    from dlpaper2code.paper.pipeline import render_report
    for page in (html, render_report(dict(report, page_images=[]), out)):
        for section in ("Models found", "Tables", "Figures", "Timing"):
            assert page.count(f"<h2>{section}</h2>") == 1, section
        assert page.count("<figcaption>") == page.count("</figcaption>")
    assert html.index("<h2>Where things were found</h2>") < html.rindex("</figcaption>") < html.index("<h2>Models found</h2>")
    # scored against the truth: the model, and the figures (the raster one was filtered out: not read)
    from dlpaper2code.paper.pipeline import end_to_end
    row = end_to_end(out, truth)
    assert row["layer_sequence_accuracy"] == 1.0
    assert row["arch_figures"] == 2 and row["arch_figures_read"] == 1 and row["figure_layer_sequence_accuracy"] == 0.5


def test_a_failing_filter_still_tries_the_figure(paper2, tmp_path):
    pdf, _ = paper2

    def broken(fig, crop):
        raise ValueError("model file missing")
    report = process_paper(pdf, tmp_path / "out",
                           PaperOptions(figure_filter=broken, targets=("pytorch",), render_graphs=False))
    assert all(f["tried"] and "model file missing" in f["filter"] for f in report["figures"])


def test_report_escapes_pdf_and_user_strings(tmp_path):
    from reportlab.pdfgen import canvas
    evil = "<script>alert(1)</script>"
    pdf = tmp_path / "evil<b>name.pdf"
    c = canvas.Canvas(str(pdf), pagesize=(612, 792), invariant=1)
    c.setFont("Helvetica", 9)
    c.drawString(72, 700, f"Table 1: {evil} & the layers")
    for i, (a, b) in enumerate([("layer", "configuration"), ("<img src=x onerror=alert(2)>", "conv3-64"),
                                ("fc", "FC-10")]):
        c.setFont("Helvetica", 8)
        c.drawString(90, 680 - 14 * i, a)
        c.drawString(260, 680 - 14 * i, b)
    c.showPage()
    c.save()
    out = tmp_path / "out"
    report = process_paper(pdf, out, PaperOptions(read_figures=False, targets=("pytorch",)))
    assert report["tables"] and evil in report["tables"][0]["caption"]
    html = (out / "report.html").read_text()
    assert "<script>" not in html and "<img src=x" not in html and "<b>name" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "evil&lt;b&gt;name.pdf" in html


def test_fusion_of_a_figure_of_the_first_blocks_continues_with_the_table():
    t = _table_doc()                                  # input, conv, conv, pool, (flatten), fc
    f = _figure_doc(branching=True)
    f["layers"] = f["layers"][:4]                     # input, a, b, concat(a, b): the first block only
    fused, prov = fuse_graphs(t, f)
    assert graph_issues(fused) == []
    types = [n["layer_type"] for n in fused["layers"]]
    assert types == ["Input", "Conv2D", "Conv2D", "Concat", "MaxPool2D", "Flatten", "Dense"]
    by = {n["layer_name"]: n for n in fused["layers"]}
    pool = next(n for n in fused["layers"] if n["layer_type"] == "MaxPool2D")
    assert pool["from_layers"] == ["cat"] and pool["meta"]["source"]["edges"] == "table"
    assert by["c1"]["layer_params"]["filters"] == 16 and prov["dropped"] == []
    assert prov["mode"].endswith("then the table's remaining layers")


def test_a_branching_figure_fused_with_its_table_through_the_pdf(tmp_path):
    """Seed 3 draws the table's first block with a skip connection (raster, read by the diagram
    reader): the graph gets the table's parameters, the figure's Concat, then the table's rest."""
    truth = generate_paper(tmp_path, 3)
    out = tmp_path / "out"
    report = process_paper(tmp_path / truth["pdf"], out, PaperOptions(targets=("pytorch",), render_graphs=False))
    fused = [g for g in report["graphs"] if g.get("fused")]
    assert len(fused) == 1 and fused[0]["valid"] and fused[0]["code"]["pytorch"]["ok"]
    assert fused[0]["fused"]["mode"].startswith("figure structure") and fused[0]["fused"]["dropped"] == []
    doc = json.loads((out / "graphs" / f"{fused[0]['name']}.json").read_text())
    want = next(m for t in truth["tables"] if t["kind"] == "architecture" for m in t["models"])
    assert [n["layer_type"] for n in doc["layers"] if n["layer_type"] not in ("Input", "Flatten")] \
        == want["fused_layer_types"]
    cat = next(n for n in doc["layers"] if n["layer_type"] == "Concat")
    assert len(cat["from_layers"]) == 2 and cat["meta"]["source"]["edges"] == "figure"
    convs = [n for n in doc["layers"] if n["layer_type"] == "Conv2D"]
    assert all(n["meta"]["source"]["params"] == "table" for n in convs)
    assert "then the table&#39;s remaining layers" in (out / "report.html").read_text()     # escaped


def test_a_candidate_without_layers_lists_its_problem_once(tmp_path):
    """A table read as a model with no layer at all (a nomenclature table of a real paper): the
    candidate's own check and the graph parser both say layers is empty; the report says it once."""
    from types import SimpleNamespace

    from dlpaper2code.core.graph import GraphError, parse_graph
    from dlpaper2code.paper import pipeline

    try:
        parse_graph({"layers": []}, source="tab_p4_1")
    except GraphError as exc:
        own = [str(i) for i in exc.issues]
    (tmp_path / "graphs").mkdir()
    run = SimpleNamespace(tmp=tmp_path, table_info=[{"table": "tab_p4_1", "score": 0.1}])
    cand = {"name": "tab_p4_1", "from": "table", "table": "tab_p4_1", "doc": {"layers": []}, "issues": own}
    entry, graph = pipeline._write_graph(run, cand)
    assert graph is None and not entry["valid"] and entry["layers"] == 0
    assert entry["issues"] == own and len(set(entry["issues"])) == len(entry["issues"]) >= 1


def test_a_candidate_without_weights_is_not_a_model(tmp_path):
    """Real papers gave well-formed graphs of only an Input (a table of symbols: YOLOv4, OverFeat)
    or Input -> Dropout (the dropout paper): valid graphs, but no model to recover."""
    from types import SimpleNamespace

    from dlpaper2code.paper import pipeline

    (tmp_path / "graphs").mkdir()
    run = SimpleNamespace(tmp=tmp_path, table_info=[{"table": "t", "score": 0.5}])
    inp = {"layer_type": "Input", "layer_name": "x", "layer_params": {"shape": [8]}, "from_layers": []}
    drop = {"layer_type": "Dropout", "layer_name": "d", "layer_params": {"rate": 0.5}, "from_layers": ["x"]}
    dense = {"layer_type": "Dense", "layer_name": "fc", "layer_params": {"units": 4}, "from_layers": ["d"]}
    for layers, valid in (([inp], False), ([inp, drop], False), ([inp, drop, dense], True)):
        cand = {"name": "t", "from": "table", "table": "t", "doc": {"layers": layers}, "issues": []}
        entry, graph = pipeline._write_graph(run, cand)
        assert entry["valid"] is valid and (graph is not None) is valid, (layers, entry["issues"])
        assert valid or any("no layer with weights" in i for i in entry["issues"])
