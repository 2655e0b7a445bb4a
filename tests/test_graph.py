"""The graph: loading, the MEX example, blocks, and one test per validation error kind."""
import json

import pytest

from dlpaper2code.core.errors import ISSUE_KINDS, GraphError
from dlpaper2code.core.graph import load_graph, parse_graph
from dlpaper2code.core.shapes import RULES
from dlpaper2code.core.vocab import load_vocabulary

from conftest import ZOO

# The MEX thesis poster's example node (seed 000), with the comma the poster
# omits before "from_layers" restored, plus the Input it names.
MEX_NODE = {
    "layer_type": "Pooling2D",
    "layer_name": "MaxPool1",
    "layer_params": {"function": "MAX", "trainable": True, "stride_row": 2, "kernel_col": 2,
                     "kernel_row": 2, "stride_col": 2, "border_mode": "valid"},
    "from_layers": ["Conv1"],
}


def kinds(doc):
    with pytest.raises(GraphError) as err:
        parse_graph(doc)
    return err.value


def test_mex_example_loads_as_written():
    doc = [{"layer_type": "Conv2D", "layer_name": "Conv1", "layer_params": {"filters": 8, "kernel_size": 3},
            "from_layers": ["data"]},
           {"layer_type": "Input", "layer_name": "data", "layer_params": {"shape": [28, 28, 1]}}, MEX_NODE]
    g = parse_graph(doc)
    pool = g.node("MaxPool1")
    assert pool.type == "MaxPool2D" and pool.raw_type == "Pooling2D"
    assert pool.params == {"pool_size": [2, 2], "strides": [2, 2], "padding": "valid", "ceil_mode": False, "trainable": True}
    assert g.shapes["MaxPool1"].shape == (13, 13, 8)
    assert [n.name for n in g.nodes] == ["data", "Conv1", "MaxPool1"]  # topological, not document order


def test_mex_example_alone_is_a_dangling_input():
    err = kinds(MEX_NODE)
    assert err.kinds == {"dangling_input", "no_input"} and err.issues[0].node == "MaxPool1"


def test_zoo_graphs_validate():
    assert len(ZOO) >= 7
    for path in ZOO:
        g = load_graph(path)
        assert g.outputs and all(g.shapes[n.name] for n in g.nodes)


def test_shapes_of_vgg16():
    g = load_graph([p for p in ZOO if p.stem == "vgg16"][0])
    assert g.shapes["pool5"].shape == (7, 7, 512)
    assert g.shapes["flatten"].shape == (25088,)
    assert g.shapes["fc8"].shape == (1000,)


@pytest.mark.parametrize("mutate, kind, node", [
    (lambda d: d["layers"][1].update(layer_type="Convolutional3D"), "unknown_layer_type", "conv"),
    (lambda d: d["layers"][1]["layer_params"].update(filterz=3), "unknown_param", "conv"),
    (lambda d: d["layers"][1]["layer_params"].update(filters=0), "bad_param", "conv"),
    (lambda d: d["layers"][1]["layer_params"].update(padding="sideways"), "bad_param", "conv"),
    (lambda d: d["layers"][1]["layer_params"].pop("filters"), "missing_param", "conv"),
    (lambda d: d["layers"][2].pop("from_layers"), "missing_input", "pool"),
    (lambda d: d["layers"][2].update(from_layers=["nowhere"]), "dangling_input", "pool"),
    (lambda d: d["layers"][4].update(from_layers=["flat", "pool"]), "arity", "out"),
    (lambda d: d["layers"][3].update(layer_name="pool"), "duplicate_name", "pool"),
    (lambda d: d["layers"][1].update(from_layers=["pool"]), "cycle", None),
    (lambda d: d["layers"].pop(0), "no_input", None),
    (lambda d: d["layers"][4].update(from_layers=["pool"]), "shape_mismatch", "out"),        # Dense on an image
    (lambda d: d["layers"][2]["layer_params"].update(pool_size=20), "shape_mismatch", "pool"),  # window > input
    (lambda d: d["layers"][1].update(layer_type="no_such_block"), "unknown_layer_type", "conv"),
    (lambda d: d.update(layers=5), "syntax", None),
])
def test_each_error_kind_names_the_node(cnn_doc, mutate, kind, node):
    mutate(cnn_doc)
    err = kinds(cnn_doc)
    assert kind in err.kinds, str(err)
    issue = next(i for i in err.issues if i.kind == kind)
    if node:
        assert issue.node == node
    assert kind in ISSUE_KINDS


def test_cycle_message_lists_the_loop(cnn_doc):
    cnn_doc["layers"][1]["from_layers"] = ["pool"]
    err = kinds(cnn_doc)
    assert "conv" in str(err) and "pool" in str(err) and "->" in str(err)


def test_concat_of_incompatible_shapes():
    doc = {"layers": [
        {"layer_type": "Input", "layer_name": "a", "layer_params": {"shape": [8, 8, 3]}},
        {"layer_type": "Input", "layer_name": "b", "layer_params": {"shape": [4, 4, 3]}},
        {"layer_type": "Concat", "layer_name": "c", "from_layers": ["a", "b"]}]}
    err = kinds(doc)
    assert err.kinds == {"shape_mismatch"} and err.issues[0].node == "c"
    assert "[8, 8, 3]" in str(err) and "[4, 4, 3]" in str(err)


def test_embedding_needs_token_ids():
    doc = {"layers": [
        {"layer_type": "Input", "layer_name": "x", "layer_params": {"shape": [10]}},
        {"layer_type": "Embedding", "layer_name": "e", "layer_params": {"input_dim": 100, "output_dim": 8}, "from_layers": ["x"]}]}
    assert kinds(doc).kinds == {"shape_mismatch"}


def test_invalid_json_names_file_and_line(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"layers": [\n  {"layer_type": "Input",\n  "layer_name" "x"}\n]}')
    with pytest.raises(GraphError) as err:
        load_graph(path)
    assert "broken.json" in str(err.value) and "line 3" in str(err.value)


def test_block_expansion_names_and_shapes():
    doc = {"name": "blocks", "layers": [
        {"layer_type": "Input", "layer_name": "x", "layer_params": {"shape": [16, 16, 8]}},
        {"layer_type": "resnet_bottleneck", "layer_name": "res", "layer_params": {"filters": 4, "strides": 2}, "from_layers": ["x"]},
        {"layer_type": "GlobalAvgPool2D", "layer_name": "gap", "from_layers": ["res"]}]}
    g = parse_graph(doc)
    assert g.node("gap").inputs == ["res/relu3"]
    assert g.shapes["res/relu3"].shape == (8, 8, 16)  # filters * 4, stride 2
    assert g.node("res/conv1").block == "res"


def test_graph_local_block_and_block_errors():
    block = {"params": {"width": None}, "inputs": ["x"], "output": "d",
             "layers": [{"layer_type": "Dense", "layer_name": "d", "layer_params": {"units": "${width * 2}"}, "from_layers": ["x"]}]}
    base = {"blocks": {"twice": block}, "layers": [
        {"layer_type": "Input", "layer_name": "x", "layer_params": {"shape": [5]}},
        {"layer_type": "twice", "layer_name": "t", "layer_params": {"width": 3}, "from_layers": ["x"]}]}
    g = parse_graph(base)
    assert g.shapes["t/d"].shape == (6,)
    base["layers"][1]["layer_params"] = {}
    assert kinds(base).kinds == {"block"}
    base["layers"][1]["layer_params"] = {"width": 3, "depth": 2}
    assert kinds(base).kinds == {"block"}


def test_vocabulary_is_consistent():
    vocab = load_vocabulary()
    assert set(vocab.layers) == set(RULES), "every layer type needs exactly one shape rule"
    required = {"Input", "Conv1D", "Conv2D", "DepthwiseConv2D", "MaxPool2D", "AvgPool2D", "GlobalAvgPool2D", "Dense",
                "Flatten", "Dropout", "Concat", "Add", "Activation", "BatchNorm", "LRN", "ZeroPadding2D", "Embedding",
                "SimpleRNN", "LSTM", "GRU", "UpSampling2D", "Conv2DTranspose"}
    assert required <= set(vocab.layers)
    owners = {}
    for name, spec in vocab.layers.items():
        for syn in spec.synonyms:
            assert owners.setdefault(syn, name) == name, f"synonym '{syn}' names {owners[syn]} and {name}"


@pytest.mark.parametrize("text, ltype, params", [
    ("conv", "Conv2D", {}), ("Convolution", "Conv2D", {}), ("max pool", "MaxPool2D", {}), ("mpool", "MaxPool2D", {}),
    ("soft-max", "Activation", {"function": "softmax"}), ("ReLU", "Activation", {"function": "relu"}),
    ("fc", "Dense", {}), ("InnerProduct", "Dense", {}), ("BatchNormalization", "BatchNorm", {})])
def test_type_synonyms(text, ltype, params):
    got = load_vocabulary().resolve_type(text)
    assert got[0] == ltype and {k: v for k, v in got[1].items() if k != "__drop__"} == params


@pytest.mark.parametrize("text, ltype, params", [
    ("conv3-64", "Conv2D", {"kernel_size": 3, "filters": 64}), ("FC-4096", "Dense", {"units": 4096}),
    ("conv, 3×3, 64", "Conv2D", {"kernel_size": 3, "filters": 64}), ("3x3 conv, 128", "Conv2D", {"kernel_size": 3, "filters": 128})])
def test_table_patterns(text, ltype, params):
    assert load_vocabulary().match_pattern(text) == (ltype, params)


def test_param_aliases_and_defaults():
    params, issues = load_vocabulary().normalize_params(
        "Conv2D", {"num_output": "64", "kernel": "3x3", "stride": 2, "pad": 1, "bias_term": False}, "c")
    assert not issues
    assert params["filters"] == 64 and params["kernel_size"] == [3, 3] and params["strides"] == [2, 2]
    assert params["padding"] == [1, 1] and params["use_bias"] is False and params["dilation_rate"] == [1, 1]


def test_round_trip_is_stable(tmp_path):
    g = load_graph([p for p in ZOO if p.stem == "resnet_stage"][0])
    path = tmp_path / "expanded.json"
    path.write_text(json.dumps(g.to_dict()))
    g2 = load_graph(path)
    assert g2.to_dict() == g.to_dict()
