"""Pooling with explicit padding and ceil_mode in every target; Caffe output that loads in BVLC
Caffe 1.0 (no round_mode, Clip or Swish unless caffe_version 'master'); the Caffe train_val net;
refusal advice that fits its cause; the ResNeXt bottleneck block."""
from __future__ import annotations

import json

import pytest

from dlpaper2code.core.errors import EmitError, GraphError
from dlpaper2code.core.graph import load_graph, parse_graph
from dlpaper2code.core.shapes import caffe_pool_out, pool_out
from dlpaper2code.emit.caffe import blob_shapes, parse_prototxt, post_1_0_features
from dlpaper2code.emit.codegen import emit, emit_options, node_contexts
from dlpaper2code.emit.verify import _check_train_val, verify_graph
from dlpaper2code.emit.weights import parameter_counts

from conftest import ZOO


def _doc(shape, *layers, name="m"):
    out = [{"layer_type": "Input", "layer_name": "x", "layer_params": {"shape": list(shape)}, "from_layers": []}]
    return {"schema_version": 1, "name": name, "layers": out + list(layers)}


def _pool(kind, name, src="x", **params):
    return {"layer_type": kind, "layer_name": name, "layer_params": params, "from_layers": [src]}


# ------------------------------------------------------------------ A: vocabulary and shapes
@pytest.mark.parametrize("size,k,s,pad,ceil", [
    (112, 3, 2, 1, False), (112, 3, 2, 0, True), (111, 3, 2, 0, True), (5, 2, 2, 1, True), (8, 3, 2, 1, True),
    (7, 3, 3, 1, True), (13, 2, 2, 0, True), (9, 1, 3, 0, True), (14, 5, 3, 2, False), (14, 5, 3, 2, True)])
def test_pooled_sizes_are_pytorchs(size, k, s, pad, ceil):
    import torch

    got = torch.nn.functional.max_pool2d(torch.zeros(1, 1, size, size), k, s, pad, ceil_mode=ceil).shape[-1]
    assert pool_out(size, k, s, pad if pad else "valid", ceil) == got
    g = parse_graph(_doc((size, size, 2), _pool("MaxPool2D", "p", pool_size=k, strides=s, padding=pad, ceil_mode=ceil)))
    assert g.shapes["p"].shape == (got, got, 2)


def test_ceil_mode_aliases_and_limits():
    g = parse_graph(_doc((112, 112, 3), _pool("Pooling2D", "p", function="MAX", kernel_size=3, stride=2, round_mode="CEIL")))
    assert g.node("p").params["ceil_mode"] is True and g.shapes["p"].shape == (56, 56, 3)   # floor: 55
    floor = parse_graph(_doc((112, 112, 3), _pool("MaxPool2D", "p", pool_size=3, strides=2, round_mode="FLOOR")))
    assert floor.shapes["p"].shape == (55, 55, 3)
    assert parse_graph(_doc((8, 8, 1), _pool("AvgPool2D", "p", pool_size=3, padding=[1, 0]))).node("p").params["padding"] == [1, 0]
    with pytest.raises(GraphError, match="at most half the pool size"):
        parse_graph(_doc((8, 8, 1), _pool("MaxPool2D", "p", pool_size=3, padding=2)))
    with pytest.raises(GraphError, match="ceil_mode needs padding"):
        parse_graph(_doc((8, 8, 1), _pool("MaxPool2D", "p", pool_size=3, padding="same", ceil_mode=True)))


def _pool_graph(tmp_path):
    """Every value below -2 (offset -5 on a standard normal): a pooling that padded with zeros
    instead of -inf, or rounded down instead of up, gives other numbers or shapes."""
    doc = _doc((9, 8, 3),
               {"layer_type": "Rescaling", "layer_name": "neg", "layer_params": {"scale": 0.5, "offset": -5.0}, "from_layers": ["x"]},
               _pool("MaxPool2D", "stem_pool", "neg", pool_size=3, strides=2, padding=1),          # ResNet stem: 5x4
               _pool("MaxPool2D", "ceil_pool", "neg", pool_size=3, strides=2, ceil_mode=True),     # GoogLeNet: 4x4
               _pool("MaxPool2D", "both", "neg", pool_size=[3, 2], strides=2, padding=[1, 1], ceil_mode=True),
               _pool("AvgPool2D", "avg_pad", "neg", pool_size=3, strides=2, padding=1),            # zeros counted
               *[{"layer_type": "Flatten", "layer_name": f"f{i}", "from_layers": [n]}
                 for i, n in enumerate(["stem_pool", "ceil_pool", "both", "avg_pad"])],
               {"layer_type": "Concat", "layer_name": "out", "from_layers": ["f0", "f1", "f2", "f3"]}, name="pool_pad")
    path = tmp_path / "pool_pad.json"
    path.write_text(json.dumps(doc))
    return path


def test_max_pool_padding_and_ceil_mode_agree_across_frameworks_on_negative_inputs(tmp_path):
    path = _pool_graph(tmp_path)
    g = load_graph(path)
    assert [g.shapes[n].shape for n in ("stem_pool", "ceil_pool", "both")] == [(5, 4, 3), (4, 4, 3), (5, 5, 3)]
    code = {t: next(iter(emit(g, t).values())) for t in ("pytorch", "keras", "tensorflow")}
    assert "nn.MaxPool2d((3, 3), stride=(2, 2), padding=(1, 1))" in code["pytorch"]
    assert "ceil_mode=True" in code["pytorch"] and "count_include_pad" not in code["pytorch"]
    assert 'value=float("-inf")' in code["keras"] and "ConstantPadding2D" in code["keras"]
    assert code["tensorflow"].count('constant_values=float("-inf")') == 3
    result = verify_graph(path, ["pytorch", "keras", "tensorflow"], tmp_path / "work", equivalence=True)
    for target, report in result["targets"].items():
        assert report["built"] and report["shape_ok"], (target, report.get("error"))
    eq = result["equivalence"]
    assert eq["ok"] and eq["compared"] == "outputs" and max(eq["max_abs_diff"].values()) < 1e-5, eq


def test_average_pool_ceil_overhang_is_refused_where_it_cannot_be_divided_right():
    g = parse_graph(_doc((8, 8, 2), _pool("AvgPool2D", "a", pool_size=3, strides=2, ceil_mode=True)))   # 8 -> 4, overhangs 1
    assert "ceil_mode=True" in emit(g, "pytorch")["model_pytorch.py"]
    for target in ("keras", "tensorflow"):
        with pytest.raises(EmitError, match="overhangs the padded input here"):
            emit(g, target)
    exact = parse_graph(_doc((9, 9, 2), _pool("AvgPool2D", "a", pool_size=3, strides=2, ceil_mode=True)))  # no overhang
    assert emit(exact, "keras") and emit(exact, "tensorflow")


# ------------------------------------------------------------------ B: Caffe 1.0
def test_caffe_floor_pooling_is_refused_for_caffe_1_0_with_the_sizes_and_written_for_master():
    g = load_graph([p for p in ZOO if p.stem == "inception"][0])
    with pytest.raises(EmitError) as exc:
        emit(g, "caffe")
    msg = str(exc.value)
    assert "pool3" in msg and "BVLC Caffe 1.0 rounds pooled sizes up" in msg
    assert "28x28 give 14x14 in Caffe, but this layer rounds down to 13x13" in msg and "--caffe-version master" in msg
    with emit_options(caffe_version="master"):
        text = emit(g, "caffe")["model.prototxt"]
    assert text.count("round_mode: FLOOR") == 1
    assert post_1_0_features(parse_prototxt(text)) == ["pool3: PoolingParameter.round_mode"]


def test_caffe_writes_no_round_mode_where_floor_equals_ceil_and_uses_ceil_for_same_max_pool():
    # 3x3/2 'same' over 8 pads (0, 1): Caffe's pad 0 rounded up gives the same 4 windows, exactly
    g = parse_graph(_doc((8, 8, 2), _pool("MaxPool2D", "same", pool_size=3, strides=2, padding="same"),
                         _pool("MaxPool2D", "even", "same", pool_size=2, strides=2)))
    text = emit(g, "caffe")["model.prototxt"]
    assert "round_mode" not in text and "pad:" not in text
    shapes = blob_shapes(parse_prototxt(text))
    assert shapes["same"] == (1, 2, 4, 4) and shapes["even"] == (1, 2, 2, 2)
    ceil = parse_graph(_doc((112, 112, 2), _pool("MaxPool2D", "p", pool_size=3, strides=2, ceil_mode=True)))
    assert blob_shapes(parse_prototxt(emit(ceil, "caffe")["model.prototxt"]))["p"] == (1, 2, 56, 56)


def test_post_1_0_fields_and_layers_are_found():
    text = ('layer { name: "x" type: "Input" top: "x" input_param { shape { dim: 1 dim: 2 dim: 5 dim: 5 } } }\n'
            'layer { name: "p" type: "Pooling" bottom: "x" top: "p" pooling_param { pool: MAX kernel_size: 2 round_mode: FLOOR } }\n'
            'layer { name: "c" type: "Clip" bottom: "p" top: "p" clip_param { min: 0 max: 6 } }\n'
            'layer { name: "s" type: "Swish" bottom: "p" top: "s" }\n')
    assert post_1_0_features(parse_prototxt(text)) == [
        "p: PoolingParameter.round_mode", "c: layer type Clip", "c: LayerParameter.clip_param", "s: layer type Swish"]


def test_no_zoo_caffe_output_needs_caffe_after_1_0():
    emitted = 0
    for path in ZOO:
        try:
            files = emit(load_graph(path), "caffe")
        except EmitError as exc:
            assert exc.declared
            continue
        emitted += 1
        for name in ("model.prototxt", "train_val.prototxt"):
            assert post_1_0_features(parse_prototxt(files[name])) == [], (path.stem, name)
    assert emitted >= 6


def test_relu6_is_written_for_caffe_1_0_and_swish_refused():
    g = parse_graph(_doc((6, 6, 2), {"layer_type": "Conv2D", "layer_name": "c", "from_layers": ["x"],
                                     "layer_params": {"filters": 3, "kernel_size": 1, "activation": "relu6"}},
                         {"layer_type": "Activation", "layer_name": "a", "layer_params": {"function": "relu6"}, "from_layers": ["c"]}))
    text = emit(g, "caffe")["model.prototxt"]
    assert "Clip" not in text and text.count('type: "Power"') == 4 and text.count('type: "ReLU"') == 4
    assert blob_shapes(parse_prototxt(text))["a"] == (1, 3, 6, 6)
    with emit_options(caffe_version="master"):
        assert emit(g, "caffe")["model.prototxt"].count('type: "Clip"') == 2
    swish = parse_graph(_doc((4,), {"layer_type": "Dense", "layer_name": "d", "layer_params": {"units": 2, "activation": "swish"}, "from_layers": ["x"]}))
    with pytest.raises(EmitError, match="BVLC Caffe 1.0 has no Swish layer"):
        emit(swish, "caffe")
    with emit_options(caffe_version="master"):
        assert 'type: "Swish"' in emit(swish, "caffe")["model.prototxt"]
    with pytest.raises(ValueError, match="caffe_version"):
        with emit_options(caffe_version="2.0"):
            pass


# ------------------------------------------------------------------ C: train_val.prototxt
@pytest.mark.parametrize("stem", ["lenet5", "imdb_lstm", "mobilenet_blocks", "alexnet", "two_inputs"])
def test_train_val_parses_and_shape_checks_in_both_phases(stem, tmp_path):
    g = load_graph([p for p in ZOO if p.stem == stem][0])
    with emit_options(caffe_version="master" if stem == "two_inputs" else "1.0"):
        text = emit(g, "caffe")["train_val.prototxt"]
    (tmp_path / "train_val.prototxt").write_text(text)
    assert _check_train_val(tmp_path / "train_val.prototxt", node_contexts(g), "master" if stem == "two_inputs" else "1.0") is None
    net = parse_prototxt(text)
    types = [l.type for l in net.layer]
    assert "Input" not in types and "DummyData" in types
    classifier = stem != "mobilenet_blocks"                     # it ends in logits (a Dense without softmax)
    assert ("SoftmaxWithLoss" if classifier else "EuclideanLoss") in types
    acc = [l for l in net.layer if l.type == "Accuracy"]
    assert len(acc) == classifier and all(l.include[0].phase == 1 for l in acc)   # TEST only
    if classifier:
        assert acc[0].top[0] not in blob_shapes(net, phase="TRAIN") and acc[0].top[0] in blob_shapes(net, phase="TEST")
    for bn in (l for l in net.layer if l.type == "BatchNorm"):
        assert not bn.batch_norm_param.HasField("use_global_stats")   # Caffe picks by phase
    deploy = parse_prototxt(emit(g, "caffe")["model.prototxt"] if stem != "two_inputs" else text)
    assert all(bn.batch_norm_param.use_global_stats for bn in deploy.layer if bn.type == "BatchNorm" and stem != "two_inputs")


def test_train_val_euclidean_loss_without_softmax_and_a_bad_net_is_caught(tmp_path):
    g = parse_graph(_doc((4, 4, 2), _pool("MaxPool2D", "p", pool_size=2), {"layer_type": "Flatten", "layer_name": "f", "from_layers": ["p"]},
                         {"layer_type": "Dropout", "layer_name": "drop", "from_layers": ["f"]}))
    text = emit(g, "caffe")["train_val.prototxt"]
    net = parse_prototxt(text)
    assert [l.type for l in net.layer][-2:] == ["DummyData", "EuclideanLoss"] and "Accuracy" not in [l.type for l in net.layer]
    assert 'type: "Dropout"' in text
    path = tmp_path / "train_val.prototxt"
    path.write_text(text)
    assert _check_train_val(path, node_contexts(g), "1.0") is None
    path.write_text(text.replace("dim: 8", "dim: 9"))             # the label no longer fits the output
    assert "train_val.prototxt" in _check_train_val(path, node_contexts(g), "1.0")


# ------------------------------------------------------------------ D: refusal advice per cause
@pytest.mark.parametrize("layer,expect", [
    ({"filters": 4, "kernel_size": 2, "padding": "same"}, "the kernel spans 2 (even)"),
    ({"filters": 4, "kernel_size": 3, "strides": 2, "padding": "same"},
     "stride 2 over 8 rows leaves the last window one cell short, so 'same' pads the far side only; explicit padding 1 gives the same 4 rows"),
])
def test_caffe_asymmetric_padding_advice_names_its_cause(layer, expect):
    g = parse_graph(_doc((8, 8, 2), {"layer_type": "Conv2D", "layer_name": "c", "layer_params": layer, "from_layers": ["x"]}))
    with pytest.raises(EmitError) as exc:
        emit(g, "caffe")
    assert expect in str(exc.value)
    other = "stride" if "even" in expect else "even"
    assert other not in str(exc.value)


def test_caffe_refuses_same_average_pooling_because_of_its_divisor():
    g = parse_graph(_doc((8, 8, 2), _pool("AvgPool2D", "a", pool_size=3, strides=1, padding="same")))
    with pytest.raises(EmitError, match="padded zeros included"):
        emit(g, "caffe")
    explicit = parse_graph(_doc((8, 8, 2), _pool("AvgPool2D", "a", pool_size=3, strides=1, padding=1)))
    assert "pad: 1" in emit(explicit, "caffe")["model.prototxt"]


def test_caffe_padding_layer_advice_points_at_the_new_pooling_padding():
    g = parse_graph(_doc((8, 8, 2), {"layer_type": "ZeroPadding2D", "layer_name": "z", "layer_params": {"padding": 1}, "from_layers": ["x"]}))
    with pytest.raises(EmitError, match="MaxPool2D"):
        emit(g, "caffe")


# ------------------------------------------------------------------ E: ResNeXt bottleneck
def _resnext(in_ch, **p):
    return parse_graph(_doc((14, 14, in_ch), {"layer_type": "resnext_bottleneck", "layer_name": "b", "layer_params": p, "from_layers": ["x"]}))


def test_resnext_bottleneck_parameter_counts():
    # ResNeXt-50 32x4d, conv2 stage, identity shortcut (256 in, 128 wide, 32 groups, 256 out):
    #   conv1 1x1 256->128: 256*128 = 32,768;  conv2 3x3 grouped: 3*3*(128/32)*128 = 4,608;
    #   conv3 1x1 128->256: 128*256 = 32,768;  BN gamma+beta: 2*(128+128+256) = 1,024
    #   trainable 32,768 + 4,608 + 32,768 + 1,024 = 71,168; moving mean+variance 1,024 non-trainable
    g = _resnext(256, filters=128, cardinality=32, in_filters=256)
    assert parameter_counts(g) == {"trainable": 71_168, "non_trainable": 1_024}
    assert "b/proj" not in [n.name for n in g.nodes] and "x" in g.node("b/add").inputs
    assert g.node("b/conv2").params["groups"] == 32
    # first block of ResNeXt-50 (64 in): the projection adds 64*256 = 16,384 + BN 512 (+512 moving):
    #   8,192 + 4,608 + 32,768 + 16,384 + 2*(128+128+256+256) = 63,488 trainable, 1,536 non-trainable
    assert parameter_counts(_resnext(64, filters=128, cardinality=32, in_filters=64)) == {"trainable": 63_488, "non_trainable": 1_536}
    down = _resnext(256, filters=256, cardinality=32, strides=2, in_filters=256)
    assert down.shapes["b/relu3"].shape == (7, 7, 512) and down.node("b/conv2").params["strides"] == [2, 2]


def test_resnext_grouped_convolution_in_every_target():
    g = _resnext(16, filters=8, cardinality=4, in_filters=16)
    assert "groups=4" in emit(g, "pytorch")["model_pytorch.py"]
    assert "groups=4" in emit(g, "keras")["model_keras.py"]
    assert "for g in range(4)" in emit(g, "tensorflow")["model_tensorflow.py"]
    text = emit(g, "caffe")["model.prototxt"]
    assert "group: 4" in text and blob_shapes(parse_prototxt(text))["b_relu3"] == (1, 16, 14, 14)


@pytest.mark.slow
def test_resnext_block_agrees_across_frameworks(tmp_path):
    doc = _doc((8, 8, 16), {"layer_type": "resnext_bottleneck", "layer_name": "b1", "from_layers": ["x"],
                            "layer_params": {"filters": 8, "cardinality": 4, "in_filters": 16}},
               {"layer_type": "resnext_bottleneck", "layer_name": "b2", "from_layers": ["b1"],
                "layer_params": {"filters": 16, "cardinality": 4, "strides": 2, "in_filters": 16}},
               {"layer_type": "GlobalAvgPool2D", "layer_name": "gap", "from_layers": ["b2"]},
               {"layer_type": "Dense", "layer_name": "fc", "layer_params": {"units": 5, "activation": "softmax"}, "from_layers": ["gap"]},
               name="resnext_small")
    path = tmp_path / "resnext_small.json"
    path.write_text(json.dumps(doc))
    result = verify_graph(path, "all", tmp_path / "work")
    assert result["ok"] and not result["refused"], result
    assert result["targets"]["caffe"]["train_val_ok"]


def test_caffe_pool_out_is_caffes_rule():
    # without padding, Caffe keeps a last window that starts past the input (5 cells, 1-wide windows at
    # stride 3: windows at 0, 3 and 6), PyTorch's ceil_mode drops it; the graph follows PyTorch and the
    # Caffe emitter refuses such a layer
    assert caffe_pool_out(5, 1, 3, 0) == 3 and pool_out(5, 1, 3, "valid", True) == 2
    assert caffe_pool_out(5, 2, 2, 1) == 3 == pool_out(5, 2, 2, 1, True)   # padded: both drop it
    assert caffe_pool_out(112, 3, 2, 1) == 57 and caffe_pool_out(112, 3, 2, 1, floor=True) == 56
    g = parse_graph(_doc((5, 5, 1), _pool("MaxPool2D", "p", pool_size=1, strides=3, ceil_mode=True)))
    with pytest.raises(EmitError, match="Caffe keeps a last window that starts past the input"):
        emit(g, "caffe")
