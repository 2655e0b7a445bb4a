"""The MEX description (dlpaper2code.formats.mex): triples, algorithm class, SHACL (passing and
failing), provenance, determinism, JSON-LD round trip, and the `mex` command."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rdflib import RDF, RDFS, Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DOAP, PROV

from dlpaper2code.cli import main
from dlpaper2code.formats import mex
from dlpaper2code.formats.mex import DLP, MEXALGO, MEXPERF

ROOT = Path(__file__).resolve().parents[1]


def conv_net() -> dict:
    return {"name": "tiny_cnn", "layers": [
        {"layer_type": "Input", "layer_name": "image", "layer_params": {"shape": [28, 28, 1]}, "from_layers": [],
         "meta": {"cell": "input 28x28", "row": 1, "col": 1}},
        {"layer_type": "Conv2D", "layer_name": "conv1", "layer_params": {"filters": 8, "kernel_size": 3},
         "from_layers": ["image"], "meta": {"cell": "conv3-8", "row": 2, "col": 1,
                                            "from_text": {"filters": "page 2: the first layer has 8 filters"}}},
        {"layer_type": "Flatten", "layer_name": "flat", "from_layers": ["conv1"]},
        {"layer_type": "Dense", "layer_name": "fc", "layer_params": {"units": 10}, "from_layers": ["flat"],
         "meta": {"box": [1, 2, 3, 4], "source": {"type": "figure", "params": "figure", "edges": "figure"}}},
    ], "source": {"table": "tab_p1_1", "fused_with": "fig_p1_1"}}


def lstm_net() -> dict:
    return {"name": "tiny_lstm", "layers": [
        {"layer_type": "Input", "layer_name": "tokens", "layer_params": {"shape": [20]}, "from_layers": []},
        {"layer_type": "Embedding", "layer_name": "emb", "layer_params": {"input_dim": 100, "output_dim": 8},
         "from_layers": ["tokens"]},
        {"layer_type": "LSTM", "layer_name": "lstm", "layer_params": {"units": 16}, "from_layers": ["emb"]},
        {"layer_type": "Dense", "layer_name": "out", "layer_params": {"units": 2}, "from_layers": ["lstm"]},
    ]}


def attention_net() -> dict:
    return {"name": "tiny_attn", "layers": [
        {"layer_type": "Input", "layer_name": "x", "layer_params": {"shape": [10, 16]}, "from_layers": []},
        {"layer_type": "MultiHeadAttention", "layer_name": "mha", "layer_params": {"num_heads": 2, "key_dim": 8},
         "from_layers": ["x", "x"]},
        {"layer_type": "LayerNorm", "layer_name": "ln", "from_layers": ["mha"]},
    ]}


REPORT = {"name": "paper_x", "title": "A tiny paper", "pdf": "papers/paper_x.pdf", "status": "ok", "pages": 3,
          "seconds": {"total": 1.5}, "primary_graph": "tab_p1_1", "primary_valid": True,
          "tables": [{"table": "tab_p1_1", "page": 1, "caption": "Table 1: the network"}],
          "figures": [{"figure": "fig_p1_1", "page": 2, "caption": "Figure 1: the network"}],
          "graphs": [{"name": "tab_p1_1", "from": "table", "valid": True,
                      "code": {"pytorch": {"ok": True}, "keras": {"ok": True}, "caffe": {"ok": False}}}]}


def _class_of(g: Graph) -> str:
    alg = next(g.subjects(RDF.type, MEXALGO.Algorithm))
    return str(g.value(g.value(alg, MEXALGO.hasAlgorithmClass), RDFS.label))


def test_conv_net_triples_and_provenance():
    g = mex.describe(conv_net(), REPORT, tool_params={"caffe_version": "1.0"})
    alg = URIRef("urn:dlpaper2code:paper_x/algorithm")
    assert (alg, RDF.type, MEXALGO.Algorithm) in g
    assert (alg, MEXALGO.hasAlgorithmClass, DLP.CNN) in g and _class_of(g) == "CNN"
    assert (DLP.CNN, RDF.type, MEXALGO.AlgorithmClass) in g
    tool = g.value(alg, MEXALGO.hasTool)
    assert (tool, RDF.type, MEXALGO.Tool) in g and str(g.value(tool, DOAP.name)) == "dlpaper2code"
    assert g.value(tool, DOAP.revision) is not None
    tparams = {str(g.value(tp, RDFS.label)): str(g.value(tp, PROV.value))
               for tp in g.objects(g.value(tool, DLP.hasToolParameterCollection), PROV.hadMember)}
    assert tparams == {"caffe_version": "1.0", "targets": "pytorch,keras,caffe"}
    # conv1's filters: value 8, from the text of page 2; kernel_size from the table cell on page 1
    hp = URIRef("urn:dlpaper2code:paper_x/algorithm/layer/conv1/hyperparameter/filters")
    assert (hp, RDF.type, MEXALGO.HyperParameter) in g
    assert g.value(hp, PROV.value) == Literal(8)
    src = g.value(hp, PROV.wasDerivedFrom)
    assert str(g.value(src, DLP.sourceKind)) == "text" and int(g.value(src, DLP.page)) == 2
    ks = g.value(URIRef("urn:dlpaper2code:paper_x/algorithm/layer/conv1/hyperparameter/kernel_size"), PROV.wasDerivedFrom)
    assert str(g.value(ks, DLP.sourceKind)) == "table" and int(g.value(ks, DLP.page)) == 1
    assert str(g.value(ks, DLP.cell)) == "conv3-8"
    # a value the paper does not state is the vocabulary's default, and says so
    dil = g.value(URIRef("urn:dlpaper2code:paper_x/algorithm/layer/conv1/hyperparameter/dilation_rate"),
                  PROV.wasDerivedFrom)
    assert str(g.value(dil, DLP.sourceKind)) == "default"
    fc = g.value(URIRef("urn:dlpaper2code:paper_x/algorithm/layer/fc/hyperparameter/units"), PROV.wasDerivedFrom)
    assert str(g.value(fc, DLP.sourceKind)) == "figure" and int(g.value(fc, DLP.page)) == 2
    # every hyper-parameter has a name, one value and a source; the layers are a collection
    hps = list(g.subjects(RDF.type, MEXALGO.HyperParameter))
    assert hps and all(g.value(h, RDFS.label) and g.value(h, PROV.value) is not None
                       and g.value(h, PROV.wasDerivedFrom) for h in hps)
    layers = list(g.objects(g.value(alg, MEXALGO.hasHyperParameterCollection), PROV.hadMember))
    assert len(layers) == 4
    measures = mex.summary(g)["measures"]
    assert measures["layers"] == 4 and measures["graph_valid"] is True and measures["targets_emitted"] == 2
    assert (URIRef("urn:dlpaper2code:paper_x/performance"), RDF.type, MEXPERF.UserDefinedMeasureCollection) in g
    v = mex.validate(g)
    assert v.conforms, v.messages


@pytest.mark.parametrize("doc,cls", [(lstm_net(), "RNN"), (attention_net(), "Transformer"),
                                     ({"layers": [{"layer_type": "Input", "layer_name": "x", "layer_params": {"shape": [4]}},
                                                  {"layer_type": "Dense", "layer_name": "d", "layer_params": {"units": 2},
                                                   "from_layers": ["x"]}]}, "MLP")])
def test_algorithm_class_and_shacl(doc, cls):
    g = mex.describe(doc)
    assert _class_of(g) == cls
    v = mex.validate(g)
    assert v.conforms, v.messages
    # a graph given as a file: its values come from that graph
    kinds = {str(o) for o in g.objects(None, DLP.sourceKind)}
    assert "graph" in kinds


def test_shacl_fails_clearly_when_parts_are_missing():
    g = mex.describe(conv_net(), REPORT)
    hp = URIRef("urn:dlpaper2code:paper_x/algorithm/layer/conv1/hyperparameter/filters")
    g.remove((hp, PROV.value, None))
    alg = URIRef("urn:dlpaper2code:paper_x/algorithm")
    g.remove((alg, MEXALGO.hasAlgorithmClass, None))
    tool = URIRef("urn:dlpaper2code:paper_x/tool")
    g.remove((tool, DOAP.revision, None))
    g.remove((URIRef("urn:dlpaper2code:paper_x/algorithm/layer/fc/hyperparameter/units"), PROV.wasDerivedFrom, None))
    v = mex.validate(g)
    assert not v.conforms
    text = "\n".join(v.messages)
    assert "filters" in text and "needs exactly one value (prov:value)" in text
    assert "the algorithm needs a class" in text
    assert "the tool needs its version (doap:revision)" in text
    assert "units" in text and "needs its provenance" in text
    # a document without an algorithm or layers at all
    empty = mex.describe({"layers": []})
    v2 = mex.validate(empty)
    assert not v2.conforms and any("at least one layer" in m for m in v2.messages)
    no_alg = Graph()
    for t in g:
        if t[0] != alg and t[2] != alg:
            no_alg.add(t)
    no_alg.remove((None, RDF.type, MEXALGO.Algorithm))
    assert any("has no algorithm" in m for m in mex.validate(no_alg).messages)


def test_deterministic_and_jsonld_round_trip():
    doc = conv_net()
    ttl = mex.serialize(mex.describe(doc, REPORT), "turtle")
    jsonld = mex.serialize(mex.describe(doc, REPORT), "json-ld")
    assert ttl == mex.serialize(mex.describe(json.loads(json.dumps(doc)), REPORT), "turtle")
    assert jsonld == mex.serialize(mex.describe(doc, REPORT), "json-ld")
    assert "_:" not in ttl              # no blank nodes: IRIs derived from names
    g = mex.describe(doc, REPORT)
    assert isomorphic(g, Graph().parse(data=jsonld, format="json-ld"))
    assert isomorphic(g, Graph().parse(data=ttl, format="turtle"))
    # another process with another hash seed writes the same bytes
    code = ("import json,sys; from dlpaper2code.formats import mex; from tests.test_mex import conv_net, REPORT; "
            "g=mex.describe(conv_net(), REPORT); sys.stdout.write(mex.serialize(g,'turtle')+'\\x00'+mex.serialize(g,'json-ld'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True,
                         env={**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(ROOT)}).stdout
    assert out == ttl + "\x00" + jsonld


def test_invalid_graph_still_described():
    doc = {"name": "broken", "layers": [{"layer_type": "Conv2D", "layer_name": "c", "layer_params": {"filters": -1},
                                         "from_layers": ["nowhere"]}]}
    g = mex.describe(doc)
    s = mex.summary(g)
    assert s["measures"]["graph_valid"] is False and s["algorithm"]["class"] == "CNN"
    assert list(g.objects(None, DLP.issue))


def test_mex_command(tmp_path, capsys):
    graph = tmp_path / "g.json"
    graph.write_text(json.dumps(conv_net()))
    report = tmp_path / "report.json"
    report.write_text(json.dumps(REPORT))
    out = tmp_path / "m.ttl"
    assert main(["mex", str(graph), "-o", str(out), "--report", str(report), "--caffe-version", "master"]) == 0
    assert "SHACL valid" in capsys.readouterr().err
    g = Graph().parse(out, format="turtle")
    assert _class_of(g) == "CNN"
    out2 = tmp_path / "m.jsonld"
    assert main(["mex", str(graph), "-o", str(out2), "--format", "json-ld"]) == 0
    assert _class_of(Graph().parse(out2, format="json-ld")) == "CNN"
    # a graph with no layers: written, but SHACL fails with the reason and exit code 1
    empty = tmp_path / "empty.json"
    empty.write_text(json.dumps({"name": "e", "layers": []}))
    assert main(["mex", str(empty), "-o", str(tmp_path / "e.ttl")]) == 1
    assert "at least one layer" in capsys.readouterr().err
    assert main(["mex", str(tmp_path / "missing.json")]) == 2


def test_shape_is_package_data():
    assert mex.SHAPES_PATH.is_file()
    text = (ROOT / "pyproject.toml").read_text()
    assert '"config/*.ttl"' in text
