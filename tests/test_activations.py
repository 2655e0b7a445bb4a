"""The activations papers use since 2017: GELU (exact), hard-swish, hard-sigmoid (MobileNetV3) and
Mish. PyTorch, Keras 3 and TensorFlow agree on them (tests/graphs/layers_activations.json is
built and run in each by test_verify's cross-framework check); BVLC Caffe has none of them and
refuses a graph that uses one, naming the layer and the reason."""
from __future__ import annotations

import pytest

from dlpaper2code.core.errors import EmitError
from dlpaper2code.core.graph import parse_graph
from dlpaper2code.emit.codegen import emit

from conftest import ROOT

NEW = ["gelu", "hard_swish", "hard_sigmoid", "mish"]


def _doc(fused: bool, fn: str) -> dict:
    dense = {"units": 4, "activation": fn} if fused else {"units": 4}
    layers = [{"layer_type": "Input", "layer_name": "x", "layer_params": {"shape": [6]}, "from_layers": []},
              {"layer_type": "Dense", "layer_name": "d", "layer_params": dense, "from_layers": ["x"]}]
    if not fused:
        layers.append({"layer_type": "Activation", "layer_name": "a", "layer_params": {"function": fn},
                       "from_layers": ["d"]})
    return {"schema_version": 1, "name": "act", "layers": layers}


@pytest.mark.parametrize("name, canonical", [("GELU", "gelu"), ("h-swish", "hard_swish"), ("hswish", "hard_swish"),
                                             ("hard_silu", "hard_swish"), ("h-sigmoid", "hard_sigmoid"),
                                             ("Mish", "mish"), ("silu", "swish")])
def test_activation_names_papers_print_resolve(name, canonical):
    g = parse_graph(_doc(False, name))
    assert g.node("a").params["function"] == canonical


def test_an_unknown_activation_is_refused_by_name():
    with pytest.raises(Exception, match="expected one of"):
        parse_graph(_doc(False, "swishy"))


@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("fn", NEW)
def test_caffe_refuses_them_with_the_reason(fn, fused):
    g = parse_graph(_doc(fused, fn))
    with pytest.raises(EmitError, match=fn):
        emit(g, "caffe")
    for target in ("pytorch", "keras", "tensorflow"):
        assert emit(g, target)


def test_the_cross_framework_graph_uses_every_new_activation():
    text = (ROOT / "tests" / "graphs" / "layers_activations.json").read_text()
    assert all(fn in text for fn in ("gelu", "hard_swish", "mish", "h-sigmoid"))
