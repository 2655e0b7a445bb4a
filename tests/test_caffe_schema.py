"""Caffe schema (real caffe.proto via caffe2onnx), Caffe shape inference, and the pycaffe NetSpec shim."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

# caffe2onnx (the source of caffe.proto) is installed by `make setup`; a missing
# one must fail here, not skip.
import caffe2onnx  # noqa: E402,F401

from dlpaper2code.emit.caffe import (  # noqa: E402
    PYCAFFE_SHIM_DIR,
    CaffeSchemaError,
    CaffeShapeError,
    LayerParameter,
    NetParameter,
    blob_shapes,
    has_field,
    has_message,
    layer_param_field_for_type,
    non_bvlc_fields_used,
    param_name_dict,
    parse_prototxt,
    to_prototxt,
)
from dlpaper2code.emit.caffe import schema  # noqa: E402

HAS_ROUND_MODE = has_field("PoolingParameter", "round_mode")


def _input(name: str, *dims: int) -> str:
    d = " ".join(f"dim: {x}" for x in dims)
    return f'layer {{ name: "{name}" type: "Input" top: "{name}" input_param {{ shape {{ {d} }} }} }}\n'


# ----------------------------------------------------------------------------
# schema
# ----------------------------------------------------------------------------
LENET = _input("data", 64, 1, 28, 28) + """
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
        param { lr_mult: 1 } param { lr_mult: 2 }
        convolution_param { num_output: 20 kernel_size: 5 stride: 1 weight_filler { type: "xavier" } } }
layer { name: "pool1" type: "Pooling" bottom: "conv1" top: "pool1"
        pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
layer { name: "conv2" type: "Convolution" bottom: "pool1" top: "conv2"
        convolution_param { num_output: 50 kernel_size: 5 } }
layer { name: "pool2" type: "Pooling" bottom: "conv2" top: "pool2"
        pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
layer { name: "ip1" type: "InnerProduct" bottom: "pool2" top: "ip1" inner_product_param { num_output: 500 } }
layer { name: "relu1" type: "ReLU" bottom: "ip1" top: "ip1" }
layer { name: "ip2" type: "InnerProduct" bottom: "ip1" top: "ip2" inner_product_param { num_output: 10 } }
layer { name: "prob" type: "Softmax" bottom: "ip2" top: "prob" }
"""


def test_parse_valid_prototxt_roundtrip():
    net = parse_prototxt('name: "LeNet"\n' + LENET, "lenet.prototxt")
    assert isinstance(net, NetParameter)
    assert net.name == "LeNet"
    assert [l.name for l in net.layer] == ["data", "conv1", "pool1", "conv2", "pool2", "ip1", "relu1", "ip2", "prob"]
    conv1 = net.layer[1]
    assert isinstance(conv1, LayerParameter)
    assert conv1.convolution_param.num_output == 20
    assert list(conv1.convolution_param.kernel_size) == [5]
    assert conv1.convolution_param.weight_filler.type == "xavier"
    assert [p.lr_mult for p in conv1.param] == [1.0, 2.0]
    pool_param = net.layer[2].pooling_param
    assert pool_param.pool == type(pool_param).MAX
    assert parse_prototxt(to_prototxt(net)) == net


def test_unknown_field_names_source_line_and_field():
    text = 'name: "x"\nlayer {\n  name: "c"\n  type: "Convolution"\n  convolution_param { num_outputs: 3 }\n}\n'
    with pytest.raises(CaffeSchemaError) as ei:
        parse_prototxt(text, "bad.prototxt")
    msg = str(ei.value)
    assert msg.startswith("bad.prototxt:5:")
    assert "num_outputs" in msg and "ConvolutionParameter" in msg


def test_unknown_layer_field_and_bad_enum():
    with pytest.raises(CaffeSchemaError, match=r"^net:3:3: .*has no field named \"kernel\""):
        parse_prototxt('layer {\n  name: "p"\n  kernel: 3\n}\n', "net")
    with pytest.raises(CaffeSchemaError, match=r"^net:2:.*MAXIMUM"):
        parse_prototxt('layer {\n  pooling_param { pool: MAXIMUM }\n}\n', "net")


def test_syntax_error_names_line():
    text = 'name: "x"\nlayer {\n  name: "a"\n  type "ReLU"\n}\n'  # missing ':' before a string
    with pytest.raises(CaffeSchemaError) as ei:
        parse_prototxt(text, "syn.prototxt")
    assert str(ei.value).startswith("syn.prototxt:4:")
    with pytest.raises(CaffeSchemaError, match=r"^<prototxt>:2:"):
        parse_prototxt('layer {\n  name: "a" }}\n')


def test_schema_queries():
    expected = {
        "Convolution": "convolution_param", "InnerProduct": "inner_product_param", "Pooling": "pooling_param",
        "LSTM": "recurrent_param", "RNN": "recurrent_param", "Deconvolution": "convolution_param",
        "ReLU": "relu_param", "BatchNorm": "batch_norm_param", "Scale": "scale_param", "Embed": "embed_param",
        "Eltwise": "eltwise_param", "Slice": "slice_param", "Reshape": "reshape_param", "Input": "input_param",
        "Concat": "concat_param", "LRN": "lrn_param", "Dropout": "dropout_param", "Softmax": "softmax_param",
        "Flatten": "flatten_param", "ELU": "elu_param", "TanH": "tanh_param", "Sigmoid": "sigmoid_param",
    }
    assert {t: layer_param_field_for_type(t) for t in expected} == expected
    assert layer_param_field_for_type("Split") is None
    assert layer_param_field_for_type("NoSuchLayer") is None
    # pycaffe's param_name_dict: derived from *_param fields only, so no LSTM/Deconvolution entries
    pnd = param_name_dict()
    assert pnd["InnerProduct"] == "inner_product" and pnd["TanH"] == "tanh" and pnd["Recurrent"] == "recurrent"
    assert "LSTM" not in pnd and "Deconvolution" not in pnd
    assert has_field("PoolingParameter", "round_mode") == HAS_ROUND_MODE
    assert has_field("ConvolutionParameter", "dilation")
    assert not has_field("ConvolutionParameter", "no_such_field")
    assert not has_field("NoSuchParameter", "x")
    assert has_message("ELUParameter") and has_field("ELUParameter", "alpha")
    assert isinstance(has_message("SwishParameter"), bool) and isinstance(has_message("ClipParameter"), bool)


def test_non_bvlc_fields_flagged():
    net = parse_prototxt('layer { name: "p" type: "Permute" bottom: "x" top: "y" permute_param { order: 0 } }\n'
                         + LENET)
    assert non_bvlc_fields_used(net) == ["p.permute_param"]
    assert non_bvlc_fields_used(parse_prototxt(LENET)) == []


# ----------------------------------------------------------------------------
# shape inference
# ----------------------------------------------------------------------------
def test_lenet_shapes_exact():
    shapes = blob_shapes(parse_prototxt(LENET))
    assert shapes == {
        "data": (64, 1, 28, 28),
        "conv1": (64, 20, 24, 24),
        "pool1": (64, 20, 12, 12),
        "conv2": (64, 50, 8, 8),
        "pool2": (64, 50, 4, 4),
        "ip1": (64, 500),
        "ip2": (64, 10),
        "prob": (64, 10),
    }
    assert list(shapes) == ["data", "conv1", "pool1", "conv2", "pool2", "ip1", "ip2", "prob"]


def _pool_net(h: int, k: int, s: int, pad: int = 0, extra: str = "", pool: str = "MAX") -> str:
    return _input("x", 2, 8, h, h) + (
        f'layer {{ name: "p" type: "Pooling" bottom: "x" top: "p" '
        f"pooling_param {{ pool: {pool} kernel_size: {k} stride: {s} pad: {pad} {extra} }} }}\n"
    )


@pytest.mark.parametrize(
    "h,k,s,pad,caffe_out,floor_out",
    [
        (112, 3, 2, 0, 56, 55),  # GoogLeNet pool1: Caffe rounds up, floor would give 55
        (6, 3, 2, 0, 3, 2),
        (6, 3, 2, 1, 4, 3),      # pad: ceil((6+2-3)/2)+1 = 4, last window starts inside -> kept
        (5, 2, 2, 1, 3, 3),      # pad: ceil(5/2)+1 = 4, but (4-1)*2 >= 5+1 -> clipped to 3
        (24, 2, 2, 0, 12, 12),
    ],
)
def test_pooling_ceil_rounding(h, k, s, pad, caffe_out, floor_out):
    shapes = blob_shapes(parse_prototxt(_pool_net(h, k, s, pad)))
    assert shapes["p"] == (2, 8, caffe_out, caffe_out)
    if HAS_ROUND_MODE:
        floor = blob_shapes(parse_prototxt(_pool_net(h, k, s, pad, "round_mode: FLOOR")))
        assert floor["p"] == (2, 8, floor_out, floor_out)
        ceil = blob_shapes(parse_prototxt(_pool_net(h, k, s, pad, "round_mode: CEIL")))
        assert ceil["p"] == (2, 8, caffe_out, caffe_out)


def test_global_and_average_pooling():
    text = _input("x", 2, 8, 7, 5) + (
        'layer { name: "g" type: "Pooling" bottom: "x" top: "g" pooling_param { pool: AVE global_pooling: true } }\n'
        'layer { name: "a" type: "Pooling" bottom: "x" top: "a" '
        "pooling_param { pool: AVE kernel_h: 3 kernel_w: 2 stride_h: 2 stride_w: 1 } }\n"
    )
    shapes = blob_shapes(parse_prototxt(text))
    assert shapes["g"] == (2, 8, 1, 1)
    assert shapes["a"] == (2, 8, 3, 4)  # H: ceil((7-3)/2)+1 = 3, W: ceil((5-2)/1)+1 = 4


def test_conv_variants_deconv_and_misc_layers():
    text = _input("x", 1, 4, 32, 32) + """
layer { name: "c" type: "Convolution" bottom: "x" top: "c"
        convolution_param { num_output: 8 kernel_h: 3 kernel_w: 5 stride_h: 2 stride_w: 1
                            pad_h: 1 pad_w: 2 dilation: 2 group: 2 } }
layer { name: "d" type: "Deconvolution" bottom: "x" top: "d"
        convolution_param { num_output: 6 kernel_size: 4 stride: 2 pad: 1 } }
layer { name: "bn" type: "BatchNorm" bottom: "d" top: "d" }
layer { name: "sc" type: "Scale" bottom: "d" top: "d" scale_param { bias_term: true } }
layer { name: "lrn" type: "LRN" bottom: "x" top: "lrn" lrn_param { local_size: 5 } }
layer { name: "elu" type: "ELU" bottom: "lrn" top: "elu" }
layer { name: "drop" type: "Dropout" bottom: "elu" top: "elu" dropout_param { dropout_ratio: 0.3 } }
layer { name: "flat" type: "Flatten" bottom: "elu" top: "flat" }
layer { name: "flat2" type: "Flatten" bottom: "x" top: "flat2" flatten_param { axis: 2 } }
layer { name: "rs" type: "Reshape" bottom: "x" top: "rs" reshape_param { shape { dim: 0 dim: -1 dim: 16 } } }
layer { name: "ip" type: "InnerProduct" bottom: "rs" top: "ip" inner_product_param { num_output: 7 axis: 2 } }
layer { name: "spl" type: "Split" bottom: "x" top: "s1" top: "s2" }
layer { name: "cat" type: "Concat" bottom: "s1" bottom: "s2" bottom: "x" top: "cat" }
layer { name: "sl" type: "Slice" bottom: "cat" top: "a" top: "b" top: "c3" slice_param { axis: 1 } }
layer { name: "sum" type: "Eltwise" bottom: "a" bottom: "b" top: "sum" eltwise_param { operation: SUM coeff: 1 coeff: -1 } }
layer { name: "sig" type: "Sigmoid" bottom: "sum" top: "sig" }
layer { name: "th" type: "TanH" bottom: "sig" top: "sig" }
"""
    shapes = blob_shapes(parse_prototxt(text))
    assert shapes == {
        "x": (1, 4, 32, 32),
        "c": (1, 8, 15, 28),       # H: (32+2-5)//2+1, W: (32+4-9)//1+1 (dilated extents 5 and 9)
        "d": (1, 6, 64, 64),       # 2*(32-1) + 4 - 2
        "lrn": (1, 4, 32, 32),
        "elu": (1, 4, 32, 32),
        "flat": (1, 4096),
        "flat2": (1, 4, 1024),
        "rs": (1, 256, 16),
        "ip": (1, 256, 7),
        "s1": (1, 4, 32, 32),
        "s2": (1, 4, 32, 32),
        "cat": (1, 12, 32, 32),
        "a": (1, 4, 32, 32),
        "b": (1, 4, 32, 32),
        "c3": (1, 4, 32, 32),
        "sum": (1, 4, 32, 32),
        "sig": (1, 4, 32, 32),
    }


LSTM_NET = _input("tokens", 20, 3) + _input("cont", 20, 3) + """
layer { name: "emb" type: "Embed" bottom: "tokens" top: "emb" embed_param { input_dim: 1000 num_output: 32 } }
layer { name: "lstm" type: "LSTM" bottom: "emb" bottom: "cont" top: "lstm" recurrent_param { num_output: 64 } }
layer { name: "rnn" type: "RNN" bottom: "lstm" bottom: "cont" top: "rnn" recurrent_param { num_output: 16 } }
layer { name: "sl" type: "Slice" bottom: "rnn" top: "first" top: "last" slice_param { axis: 0 slice_point: 19 } }
layer { name: "fc" type: "InnerProduct" bottom: "last" top: "fc" inner_product_param { num_output: 5 axis: 2 } }
"""


def test_lstm_time_major():
    shapes = blob_shapes(parse_prototxt(LSTM_NET))
    assert shapes == {
        "tokens": (20, 3),
        "cont": (20, 3),
        "emb": (20, 3, 32),
        "lstm": (20, 3, 64),   # (T, N, num_output)
        "rnn": (20, 3, 16),
        "first": (19, 3, 16),
        "last": (1, 3, 16),
        "fc": (1, 3, 5),
    }


def test_lstm_batch_major_cont_is_rejected():
    text = LSTM_NET.replace(_input("cont", 20, 3), _input("cont", 3, 20))
    with pytest.raises(CaffeShapeError, match=r"layer 'lstm'.*time-major"):
        blob_shapes(parse_prototxt(text))


def test_concat_mismatch_names_layer():
    text = _input("a", 1, 16, 32, 32) + _input("b", 1, 8, 16, 16) + (
        'layer { name: "merge" type: "Concat" bottom: "a" bottom: "b" top: "m" }\n'
    )
    with pytest.raises(CaffeShapeError) as ei:
        blob_shapes(parse_prototxt(text))
    msg = str(ei.value)
    assert "'merge'" in msg and "(1, 16, 32, 32)" in msg and "(1, 8, 16, 16)" in msg
    # the same along axis 2 is fine only if the other axes agree
    ok = _input("a", 1, 8, 32, 16) + _input("b", 1, 8, 16, 16) + (
        'layer { name: "merge" type: "Concat" bottom: "a" bottom: "b" top: "m" concat_param { axis: 2 } }\n'
    )
    assert blob_shapes(parse_prototxt(ok))["m"] == (1, 8, 48, 16)


@pytest.mark.parametrize(
    "body,pattern",
    [
        ('layer { name: "r" type: "ReLU" bottom: "nope" top: "r" }', r"layer 'r'.*unknown bottom blob 'nope'"),
        ('layer { name: "w" type: "Weird" bottom: "x" top: "w" }', r"layer 'w'.*unsupported layer type 'Weird'"),
        ('layer { name: "c" type: "Convolution" bottom: "x" top: "c" convolution_param { num_output: 2 kernel_size: 9 } }',
         r"layer 'c'.*larger than the padded input"),
        ('layer { name: "p" type: "Pooling" bottom: "x" top: "p" pooling_param { kernel_size: 7 } }',
         r"layer 'p'.*larger than the padded input"),
        ('layer { name: "e" type: "Eltwise" bottom: "x" bottom: "y" top: "e" }', r"layer 'e'.*shapes must be equal"),
        ('layer { name: "g" type: "Convolution" bottom: "x" top: "g" convolution_param { num_output: 4 kernel_size: 1 group: 2 } }',
         r"layer 'g'.*multiple of group"),
        ('layer { name: "s" type: "Slice" bottom: "x" top: "s1" top: "s2" slice_param { axis: 1 } }',
         r"layer 's'.*evenly divide"),
        ('layer { name: "rs" type: "Reshape" bottom: "x" top: "rs" reshape_param { shape { dim: 7 dim: -1 } } }',
         r"layer 'rs'.*divisible"),
        ('layer { name: "dup" type: "ReLU" bottom: "x" top: "y" }', r"layer 'dup'.*multiple sources"),
    ],
)
def test_shape_errors(body, pattern):
    text = _input("x", 1, 3, 5, 5) + _input("y", 1, 3, 4, 4) + body + "\n"
    with pytest.raises(CaffeShapeError, match=pattern):
        blob_shapes(parse_prototxt(text))


def test_phase_filtering():
    text = """
layer { name: "d" type: "Input" top: "data" include { phase: TRAIN } input_param { shape { dim: 32 dim: 3 } } }
layer { name: "d" type: "Input" top: "data" include { phase: TEST } input_param { shape { dim: 1 dim: 3 } } }
layer { name: "fc" type: "InnerProduct" bottom: "data" top: "fc" inner_product_param { num_output: 4 } }
"""
    net = parse_prototxt(text)
    assert blob_shapes(net) == {"data": (1, 3), "fc": (1, 4)}  # NetState default phase: TEST
    assert blob_shapes(net, phase="TRAIN") == {"data": (32, 3), "fc": (32, 4)}


# ----------------------------------------------------------------------------
# pycaffe NetSpec shim
# ----------------------------------------------------------------------------
GENERATED_SCRIPT = textwrap.dedent(
    """
    import caffe
    from caffe import layers as L, params as P

    def build_net():
        n = caffe.NetSpec()
        n.data = L.Input(shape=dict(dim=[1, 3, 32, 32]))
        n.conv1 = L.Convolution(n.data, num_output=16, kernel_size=3, stride=1, pad=1, weight_filler=dict(type="xavier"))
        n.relu1 = L.ReLU(n.conv1, in_place=True)
        n.pool1 = L.Pooling(n.conv1, pool=P.Pooling.MAX, kernel_size=2, stride=2)
        n.fc = L.InnerProduct(n.pool1, num_output=10)
        n.tokens = L.Input(shape=dict(dim=[80, 1]))
        n.cont = L.Input(shape=dict(dim=[80, 1]))
        n.emb = L.Embed(n.tokens, input_dim=1000, num_output=32)
        n.lstm = L.LSTM(n.emb, n.cont, recurrent_param=dict(num_output=8))
        n.last, n.rest = L.Slice(n.lstm, ntop=2, slice_param=dict(axis=0, slice_point=[79]))  # tops as in pycaffe
        n.sum = L.Eltwise(n.conv1, n.conv1, operation=P.Eltwise.SUM)
        return n.to_proto()

    if __name__ == "__main__":
        print(build_net())
    """
)

HAND_WRITTEN = """
layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 1 dim: 3 dim: 32 dim: 32 } } }
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
        convolution_param { num_output: 16 kernel_size: 3 stride: 1 pad: 1 weight_filler { type: "xavier" } } }
layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1" }
layer { name: "pool1" type: "Pooling" bottom: "conv1" top: "pool1" pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
layer { name: "fc" type: "InnerProduct" bottom: "pool1" top: "fc" inner_product_param { num_output: 10 } }
layer { name: "tokens" type: "Input" top: "tokens" input_param { shape { dim: 80 dim: 1 } } }
layer { name: "cont" type: "Input" top: "cont" input_param { shape { dim: 80 dim: 1 } } }
layer { name: "emb" type: "Embed" bottom: "tokens" top: "emb" embed_param { input_dim: 1000 num_output: 32 } }
layer { name: "lstm" type: "LSTM" bottom: "emb" bottom: "cont" top: "lstm" recurrent_param { num_output: 8 } }
layer { name: "last" type: "Slice" bottom: "lstm" top: "last" top: "rest" slice_param { axis: 0 slice_point: 79 } }
layer { name: "sum" type: "Eltwise" bottom: "conv1" bottom: "conv1" top: "sum" eltwise_param { operation: SUM } }
"""


def _run_with_shim(tmp_path, code: str) -> subprocess.CompletedProcess:
    script = tmp_path / "script.py"
    script.write_text(code)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(PYCAFFE_SHIM_DIR)] + [p for p in [env.get("PYTHONPATH")] if p])
    return subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=60)


def test_shim_runs_generated_script(tmp_path):
    proc = _run_with_shim(tmp_path, GENERATED_SCRIPT)
    assert proc.returncode == 0, proc.stderr
    net = parse_prototxt(proc.stdout, "shim output")
    expected = parse_prototxt(HAND_WRITTEN, "hand written")
    assert net == expected, to_prototxt(net)
    assert blob_shapes(net) == {
        "data": (1, 3, 32, 32), "conv1": (1, 16, 32, 32), "pool1": (1, 16, 16, 16), "fc": (1, 10),
        "tokens": (80, 1), "cont": (80, 1), "emb": (80, 1, 32), "lstm": (80, 1, 8),
        "last": (79, 1, 8), "rest": (1, 1, 8), "sum": (1, 16, 32, 32),
    }


SHIM_SEMANTICS = textwrap.dedent(
    """
    import json
    import caffe
    from caffe import layers as L, params as P
    from caffe.proto import caffe_pb2

    out = {}
    out["file"] = caffe.__file__
    out["enums"] = [P.Pooling.MAX, P.Pooling.AVE, caffe_pb2.PoolingParameter.AVE, P.Eltwise.PROD,
                    caffe.TRAIN, caffe.TEST]
    out["param_names"] = caffe.net_spec.param_name_dict()["InnerProduct"]
    # automatic names via caffe.to_proto, LayerParameter keywords, ParamSpec lists, scalar -> repeated
    x = L.Input(shape=dict(dim=[2, 3, 8, 8]))
    c = L.Convolution(x, kernel_size=3, num_output=4, param=[dict(lr_mult=1), dict(lr_mult=2)],
                      include=dict(phase=caffe.TEST), loss_weight=0.5)
    out["auto"] = str(caffe.to_proto(L.ReLU(c)))
    # real pycaffe needs convolution_param=/recurrent_param= for Deconvolution/LSTM
    for build in (lambda: L.Deconvolution(x, num_output=4, kernel_size=2),
                  lambda: L.LSTM(x, x, num_output=4)):
        try:
            build().to_proto()
            out.setdefault("irregular", []).append("ok")
        except AttributeError as exc:
            out.setdefault("irregular", []).append("AttributeError")
    out["deconv"] = str(L.Deconvolution(x, convolution_param=dict(num_output=4, kernel_size=2, stride=2)).to_proto())
    # ntop=0 layer assigned in a NetSpec; bottoms listed before consumers; in-place names
    n = caffe.NetSpec()
    n.data = x
    n.silence = L.Silence(n.data, ntop=0)
    out["silence"] = str(n.to_proto())
    print(json.dumps(out))
    """
)


def test_shim_pycaffe_semantics(tmp_path):
    proc = _run_with_shim(tmp_path, SHIM_SEMANTICS)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["file"].startswith(str(PYCAFFE_SHIM_DIR))
    assert out["enums"] == [0, 1, 1, 0, 0, 1]
    assert out["param_names"] == "inner_product"
    auto = parse_prototxt(out["auto"])
    assert [(l.name, l.type, list(l.bottom), list(l.top)) for l in auto.layer] == [
        ("Input1", "Input", [], ["Input1"]),
        ("Convolution1", "Convolution", ["Input1"], ["Convolution1"]),
        ("ReLU1", "ReLU", ["Convolution1"], ["ReLU1"]),
    ]
    conv = auto.layer[1]
    assert list(conv.convolution_param.kernel_size) == [3] and conv.convolution_param.num_output == 4
    assert [p.lr_mult for p in conv.param] == [1.0, 2.0]
    assert conv.include[0].phase == 1 and list(conv.loss_weight) == [0.5]
    assert out["irregular"] == ["AttributeError", "AttributeError"]
    deconv = parse_prototxt(out["deconv"]).layer[1]
    assert deconv.type == "Deconvolution" and deconv.convolution_param.num_output == 4
    assert blob_shapes(parse_prototxt(out["deconv"]))["Deconvolution1"] == (2, 4, 16, 16)
    sil = parse_prototxt(out["silence"])
    assert [(l.name, l.type, list(l.bottom), list(l.top)) for l in sil.layer] == [
        ("data", "Input", [], ["data"]),
        ("silence", "Silence", ["data"], []),
    ]


def test_shim_not_on_default_path():
    assert str(PYCAFFE_SHIM_DIR) not in sys.path
    assert (PYCAFFE_SHIM_DIR / "caffe" / "__init__.py").is_file()
    assert schema.schema_source().endswith("caffe_upsample_pb2.py")
