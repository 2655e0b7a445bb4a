"""Layer names and parameter numbers that every target must survive (issue 18): a layer named
``forward``, ``__init__``, ``training``, ``eval``... gets an identifier that is safe in PyTorch,
Keras and TensorFlow code; NaN and infinity are refused by the graph validation (so the command
line and the web editor get the same protection), naming the layer and the parameter."""
import json
import math

import pytest

from dlpaper2code.core.errors import GraphError
from dlpaper2code.core.graph import parse_graph
from dlpaper2code.emit.codegen import RESERVED_NAMES, identifier
from dlpaper2code.emit.verify import format_report, verify_graph

HOSTILE = ["forward", "__init__", "training", "eval", "parameters", "name", "self", "name_scope",
           "variables", "state_dict", "to", "register_buffer", "class", "match", "_lstm", "block"]


def hostile_graph() -> dict:
    names = iter([n for n in HOSTILE if n != "__init__"])
    layers = [{"layer_type": "Input", "layer_name": "__init__", "layer_params": {"shape": [8, 8, 3]},
               "from_layers": []}]

    def add(ltype, params):
        layers.append({"layer_type": ltype, "layer_name": next(names), "layer_params": params,
                       "from_layers": [layers[-1]["layer_name"]]})

    add("Conv2D", {"filters": 4, "activation": "relu"})        # forward
    add("BatchNorm", {})                                      # training
    add("ReLU", {})                                           # eval
    add("Conv2D", {"filters": 4})                             # parameters
    add("BatchNorm", {})                                      # name
    add("MaxPool2D", {"pool_size": 2})                        # self
    add("Conv2D", {"filters": 2, "padding": "same"})          # name_scope
    add("Flatten", {})                                        # variables
    add("Dense", {"units": 6})                                # state_dict
    add("Dropout", {"rate": 0.1})                             # to
    add("Dense", {"units": 5})                                # register_buffer
    add("ReLU", {})                                           # class
    add("Dense", {"units": 3})                                # match
    add("Dense", {"units": 3})                                # _lstm
    add("Dense", {"units": 2})                                # block
    return {"schema_version": 1, "name": "forward", "layers": layers}


def test_identifier_avoids_module_attributes_dunders_and_template_names():
    torch = pytest.importorskip("torch")
    module_attrs = {n for n in dir(torch.nn.Module) if not n.startswith("_")}
    missing = module_attrs - RESERVED_NAMES - {n for n in module_attrs if n.startswith("register_")}
    assert not missing, f"nn.Module attributes an identifier may take: {sorted(missing)}"
    for name in HOSTILE + sorted(module_attrs) + ["__call__", "__class__", "_x", "with_name_scope"]:
        ident = identifier(name)
        assert ident.isidentifier() and not ident.startswith("_"), (name, ident)
        assert ident not in module_attrs and ident not in RESERVED_NAMES, (name, ident)
    assert identifier("conv1") == "conv1" and identifier("input") == "input"   # ordinary names unchanged


def test_hostile_layer_names_run_and_agree_in_every_python_target(tmp_path):
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps(hostile_graph()))
    result = verify_graph(path, ["pytorch", "keras", "tensorflow"], tmp_path / "out", equivalence=True, atol=1e-4)
    assert result["ok"], format_report([result]) + str({t: r.get("traceback") for t, r in result["targets"].items()})


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, "nan", "inf"])
def test_non_finite_parameter_is_refused_naming_layer_and_parameter(value):
    doc = {"schema_version": 1, "name": "n", "layers": [
        {"layer_type": "Input", "layer_name": "x", "layer_params": {"shape": [8]}, "from_layers": []},
        {"layer_type": "Dropout", "layer_name": "drop1", "layer_params": {"rate": value}, "from_layers": ["x"]},
        {"layer_type": "Dense", "layer_name": "out", "layer_params": {"units": 2}, "from_layers": ["drop1"]}]}
    with pytest.raises(GraphError) as err:
        parse_graph(doc)
    issues = [i for i in err.value.issues if i.node == "drop1"]
    assert issues and "'rate'" in issues[0].message, err.value.issues
    assert "finite" in issues[0].message or "must be <=" in issues[0].message or "must be >=" in issues[0].message


def test_non_finite_number_inside_a_pair_is_refused():
    doc = {"schema_version": 1, "name": "n", "layers": [
        {"layer_type": "Input", "layer_name": "x", "layer_params": {"shape": [8, 8, 3]}, "from_layers": []},
        {"layer_type": "BatchNorm", "layer_name": "bn", "layer_params": {"epsilon": math.inf}, "from_layers": ["x"]},
        {"layer_type": "Conv2D", "layer_name": "c", "layer_params": {"filters": 2, "kernel_row": math.nan,
                                                                    "kernel_col": 3}, "from_layers": ["bn"]}]}
    with pytest.raises(GraphError) as err:
        parse_graph(doc)
    nodes = {i.node for i in err.value.issues}
    assert {"bn", "c"} <= nodes, err.value.issues
