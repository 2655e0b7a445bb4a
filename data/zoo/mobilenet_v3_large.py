"""MobileNetV3-Large as keras.applications.MobileNetV3Large defines it.

alpha 1.0, minimalistic False, include_top True, 224x224x3 input, 1000 classes.
Reference: keras.applications.MobileNetV3Large(weights=None), 5,483,032
trainable parameters (5,507,432 in all; the rest are BatchNorm moving statistics).

Differences from the Keras source that change no parameter and no output value:
- the Rescaling(1/127.5, offset -1) preprocessing layer (no weights) is left out;
- a stride-2 depthwise convolution uses padding "same" instead of Keras'
  ZeroPadding2D(correct_pad) + "valid" (for the even sizes met here both pad
  k//2 - 1 rows/cols before and k//2 after);
- the 1x1 convolutions applied to a pooled 1x1 map (squeeze-and-excitation and
  the head's conv_2 / logits) are Dense layers on the pooled vector, with the
  same kernels and biases; Multiply broadcasts the SE vector onto the image and
  the head's Flatten is not needed.
"""

from _graph import add_layer as _layer


GRAPH_NAME = "mobilenet_v3_large"
BN_EPS = 1e-3
BN_MOMENTUM = 0.999
SE_RATIO = 0.25

# (expansion, filters, kernel, stride, squeeze-and-excite, activation), Keras' stack_fn order.
BLOCKS = [
    (1, 16, 3, 1, False, "relu"),
    (4, 24, 3, 2, False, "relu"),
    (3, 24, 3, 1, False, "relu"),
    (3, 40, 5, 2, True, "relu"),
    (3, 40, 5, 1, True, "relu"),
    (3, 40, 5, 1, True, "relu"),
    (6, 80, 3, 2, False, "hard_swish"),
    (2.5, 80, 3, 1, False, "hard_swish"),
    (2.3, 80, 3, 1, False, "hard_swish"),
    (2.3, 80, 3, 1, False, "hard_swish"),
    (6, 112, 3, 1, True, "hard_swish"),
    (6, 112, 3, 1, True, "hard_swish"),
    (6, 160, 5, 2, True, "hard_swish"),
    (6, 160, 5, 1, True, "hard_swish"),
    (6, 160, 5, 1, True, "hard_swish"),
]
LAST_POINT_CHANNELS = 1280


def _depth(v, divisor=8):
    """Keras' _depth: round to a multiple of 8, never dropping below 90% of v."""
    new_v = max(divisor, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


def conv_bn_act(layers, x, name, filters, kernel, stride, activation):
    """Conv2D (no bias, padding "same") -> BatchNorm -> optional activation."""
    x = _layer(layers, "Conv2D", name, {"filters": filters, "kernel_size": kernel, "strides": stride,
                                         "padding": "same", "use_bias": False}, [x])
    x = _layer(layers, "BatchNorm", f"{name}_bn", {"epsilon": BN_EPS, "momentum": BN_MOMENTUM}, [x])
    if activation:
        x = _layer(layers, "Activation", f"{name}_{activation}", {"function": activation}, [x])
    return x


def se_block(layers, x, prefix, filters):
    """Squeeze-and-excitation: global average pool -> Dense relu -> Dense hard_sigmoid -> scale x."""
    s = _layer(layers, "GlobalAvgPool2D", f"{prefix}squeeze_excite_avg_pool", {}, [x])
    s = _layer(layers, "Dense", f"{prefix}squeeze_excite_conv",
               {"units": _depth(filters * SE_RATIO), "activation": "relu"}, [s])
    s = _layer(layers, "Dense", f"{prefix}squeeze_excite_conv_1",
               {"units": filters, "activation": "hard_sigmoid"}, [s])
    return _layer(layers, "Multiply", f"{prefix}squeeze_excite_mul", {}, [x, s])


def inverted_res_block(layers, x, in_filters, expansion, filters, kernel, stride, se, activation, block_id):
    """MobileNetV3 bottleneck: 1x1 expand (not in block 0) -> depthwise kxk -> [SE] -> 1x1 project
    (linear), plus an identity shortcut when the stride is 1 and the width is unchanged."""
    shortcut = x
    prefix = f"expanded_conv_{block_id}/" if block_id else "expanded_conv/"
    expanded = _depth(in_filters * expansion)
    if block_id:
        x = conv_bn_act(layers, x, f"{prefix}expand", expanded, 1, 1, activation)
    x = _layer(layers, "DepthwiseConv2D", f"{prefix}depthwise",
               {"kernel_size": kernel, "strides": stride, "padding": "same", "use_bias": False}, [x])
    x = _layer(layers, "BatchNorm", f"{prefix}depthwise_bn", {"epsilon": BN_EPS, "momentum": BN_MOMENTUM}, [x])
    x = _layer(layers, "Activation", f"{prefix}depthwise_{activation}", {"function": activation}, [x])
    if se:
        x = se_block(layers, x, prefix, expanded)
    x = conv_bn_act(layers, x, f"{prefix}project", filters, 1, 1, None)
    if stride == 1 and in_filters == filters:
        x = _layer(layers, "Add", f"{prefix}add", {}, [shortcut, x])
    return x


def head(layers, x, classes=1000):
    """Global average pool -> Dense 1280 hard_swish -> Dropout 0.2 -> Dense classes -> softmax."""
    x = _layer(layers, "GlobalAvgPool2D", "avg_pool", {}, [x])
    x = _layer(layers, "Dense", "conv_2", {"units": LAST_POINT_CHANNELS, "activation": "hard_swish"}, [x])
    x = _layer(layers, "Dropout", "dropout", {"rate": 0.2}, [x])
    x = _layer(layers, "Dense", "logits", {"units": classes}, [x])
    return _layer(layers, "Activation", "predictions", {"function": "softmax"}, [x])


def build() -> dict:
    layers = []
    x = _layer(layers, "Input", "input", {"shape": [224, 224, 3]}, [])
    x = conv_bn_act(layers, x, "conv", 16, 3, 2, "hard_swish")
    channels = 16
    for block_id, (expansion, filters, kernel, stride, se, act) in enumerate(BLOCKS):
        x = inverted_res_block(layers, x, channels, expansion, filters, kernel, stride, se, act, block_id)
        channels = filters
    x = conv_bn_act(layers, x, "conv_1", _depth(channels * 6), 1, 1, "hard_swish")
    out = head(layers, x)
    return {
        "schema_version": 1,
        "name": GRAPH_NAME,
        "description": (
            "MobileNetV3-Large (alpha 1.0, not minimalistic) following keras.applications.MobileNetV3Large "
            "(include_top, 224x224x3, 1000 classes); reference trainable parameters 5,483,032 "
            "(keras.applications.MobileNetV3Large(weights=None)). Preprocessing Rescaling left out; "
            "stride-2 depthwise convs use 'same' padding (= Keras' ZeroPadding2D(correct_pad) + valid); "
            "1x1 convs on pooled maps written as Dense."
        ),
        "layers": layers,
        "outputs": [out],
    }
