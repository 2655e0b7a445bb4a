"""The block library (config/blocks.yaml) builds the networks as their reference implementations
do: ResNet-50 from `resnet_bottleneck` has torchvision's 25,557,032 parameters (identity shortcuts
where the width and size are kept, projections where they change), MobileNetV2's blocks have
no expansion at t = 1 and a residual sum where the stride is 1 and the width is kept."""
from __future__ import annotations

from dlpaper2code.core.graph import parse_graph
from dlpaper2code.emit.weights import parameter_counts


def _resnet50(in_filters_known: bool = True) -> dict:
    layers = [{"layer_type": "Input", "layer_name": "image", "layer_params": {"shape": [224, 224, 3]}, "from_layers": []},
              {"layer_type": "Conv2D", "layer_name": "conv1", "layer_params": {"filters": 64, "kernel_size": 7,
                                                                             "strides": 2, "padding": 3, "use_bias": False},
               "from_layers": ["image"]},
              {"layer_type": "BatchNorm", "layer_name": "bn1", "from_layers": ["conv1"]},
              {"layer_type": "Activation", "layer_name": "relu", "layer_params": {"function": "relu"}, "from_layers": ["bn1"]},
              {"layer_type": "MaxPool2D", "layer_name": "pool", "layer_params": {"pool_size": 3, "strides": 2,
                                                                                 "padding": "same"},
               "from_layers": ["relu"]}]
    prev, ch = "pool", 64
    for s, (n, f) in enumerate([(3, 64), (4, 128), (6, 256), (3, 512)]):
        for b in range(n):
            name = f"s{s + 1}b{b + 1}"
            p = {"filters": f, "strides": 2 if (b == 0 and s > 0) else 1}
            if in_filters_known:
                p["in_filters"] = ch
            layers.append({"layer_type": "resnet_bottleneck", "layer_name": name, "layer_params": p, "from_layers": [prev]})
            prev, ch = name, f * 4
    layers += [{"layer_type": "GlobalAvgPool2D", "layer_name": "gap", "from_layers": [prev]},
               {"layer_type": "Dense", "layer_name": "fc", "layer_params": {"units": 1000}, "from_layers": ["gap"]}]
    return {"schema_version": 1, "name": "resnet50", "layers": layers}


def test_resnet50_from_the_library_has_the_reference_parameter_count():
    g = parse_graph(_resnet50())
    assert parameter_counts(g)["trainable"] == 25_557_032
    adds = [n for n in g.nodes if n.type == "Add"]
    assert len(adds) == 16
    projections = [n for n in g.nodes if n.name.endswith("/proj")]
    assert len(projections) == 4                      # the first block of each stage
    identity = next(n for n in adds if n.name.startswith("s1b2/"))
    assert "s1b1/relu3" in identity.inputs            # the block's input itself


def test_a_bottleneck_whose_input_width_is_not_given_keeps_its_projection():
    g = parse_graph(_resnet50(in_filters_known=False))
    assert len([n for n in g.nodes if n.name.endswith("/proj")]) == 16


def test_mbconv_without_expansion_and_with_its_residual_sum():
    def doc(**p):
        return {"schema_version": 1, "name": "m", "layers": [
            {"layer_type": "Input", "layer_name": "x", "layer_params": {"shape": [16, 16, 32]}, "from_layers": []},
            {"layer_type": "mbconv", "layer_name": "b", "layer_params": p, "from_layers": ["x"]}]}
    t1 = parse_graph(doc(filters=16, in_filters=32, expand=1))
    assert [n.type for n in t1.nodes][1:4] == ["DepthwiseConv2D", "BatchNorm", "Activation"]
    res = parse_graph(doc(filters=32, in_filters=32, expand=6, residual=True))
    assert res.nodes[-1].type == "Add" and res.outputs == [res.nodes[-1].name]
    assert "x" in res.nodes[-1].inputs
    strided = parse_graph(doc(filters=32, in_filters=32, expand=6, residual=True, strides=2))
    assert not any(n.type == "Add" for n in strided.nodes)
    plain = parse_graph(doc(filters=32, in_filters=32, expand=6))
    assert not any(n.type == "Add" for n in plain.nodes)     # the old block: no shortcut unless asked
