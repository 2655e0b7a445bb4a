"""EfficientNet-B0 as keras.applications.EfficientNetB0 defines it.

include_top True, 224x224x3 input, 1000 classes, swish activations, squeeze-and-excitation
with ratio 0.25 of the block's input filters, top dropout 0.2.
Reference: keras.applications.EfficientNetB0(weights=None), 5,288,548 trainable parameters
(5,330,571 in all; the rest are BatchNorm moving statistics and the Normalization layer's
mean/variance/count).

Differences from the Keras source:
- the Rescaling(1/255) and Normalization preprocessing layers (no trainable weights) are left out;
- stride-2 convolutions use padding "same" instead of Keras' ZeroPadding2D(correct_pad) +
  "valid" (for the even sizes met here both pad k//2 - 1 rows/cols before and k//2 after);
- the squeeze-and-excitation 1x1 convs on the pooled (reshaped 1x1) map are Dense layers on the
  pooled vector, with the same kernels and biases; Multiply broadcasts the vector onto the image;
- the per-block drop-connect (Dropout with noise_shape (None, 1, 1, 1), rate 0.2 * b / 16 before
  each residual add) is left out: the vocabulary's Dropout has no noise_shape, it has no weights
  and it is the identity at inference.
"""

from _graph import add_layer as _layer


GRAPH_NAME = "efficientnet_b0"
SE_RATIO = 0.25

# (kernel, repeats, filters_in, filters_out, expand_ratio, stride) per stage, Keras' DEFAULT_BLOCKS_ARGS
# (id_skip True and se_ratio 0.25 throughout; B0 has width and depth coefficients 1.0).
STAGES = [
    (3, 1, 32, 16, 1, 1),
    (3, 2, 16, 24, 6, 2),
    (5, 2, 24, 40, 6, 2),
    (3, 3, 40, 80, 6, 2),
    (5, 3, 80, 112, 6, 1),
    (5, 4, 112, 192, 6, 2),
    (3, 1, 192, 320, 6, 1),
]


def conv_bn_swish(layers, x, conv_name, bn_name, act_name, filters, kernel, stride, activation=True):
    """Conv2D (no bias, padding "same") -> BatchNorm -> swish (unless activation is False)."""
    x = _layer(layers, "Conv2D", conv_name, {"filters": filters, "kernel_size": kernel, "strides": stride,
                                              "padding": "same", "use_bias": False}, [x])
    x = _layer(layers, "BatchNorm", bn_name, {}, [x])
    if activation:
        x = _layer(layers, "Activation", act_name, {"function": "swish"}, [x])
    return x


def se_block(layers, x, name, filters_in, filters):
    """Squeeze-and-excitation: global average pool -> Dense swish (filters_in * 0.25 units) ->
    Dense sigmoid (filters units) -> scale x channel-wise."""
    s = _layer(layers, "GlobalAvgPool2D", f"{name}/se_squeeze", {}, [x])
    s = _layer(layers, "Dense", f"{name}/se_reduce",
               {"units": max(1, int(filters_in * SE_RATIO)), "activation": "swish"}, [s])
    s = _layer(layers, "Dense", f"{name}/se_expand", {"units": filters, "activation": "sigmoid"}, [s])
    return _layer(layers, "Multiply", f"{name}/se_excite", {}, [x, s])


def mbconv_block(layers, x, name, filters_in, filters_out, kernel, stride, expand_ratio):
    """MBConv: 1x1 expand (when expand_ratio != 1) -> depthwise kxk -> SE -> 1x1 project (linear),
    plus an identity shortcut when the stride is 1 and the width is unchanged."""
    inputs = x
    filters = filters_in * expand_ratio
    if expand_ratio != 1:
        x = conv_bn_swish(layers, x, f"{name}/expand_conv", f"{name}/expand_bn", f"{name}/expand_activation",
                          filters, 1, 1)
    x = _layer(layers, "DepthwiseConv2D", f"{name}/dwconv",
               {"kernel_size": kernel, "strides": stride, "padding": "same", "use_bias": False}, [x])
    x = _layer(layers, "BatchNorm", f"{name}/bn", {}, [x])
    x = _layer(layers, "Activation", f"{name}/activation", {"function": "swish"}, [x])
    x = se_block(layers, x, name, filters_in, filters)
    x = conv_bn_swish(layers, x, f"{name}/project_conv", f"{name}/project_bn", None,
                      filters_out, 1, 1, activation=False)
    if stride == 1 and filters_in == filters_out:
        x = _layer(layers, "Add", f"{name}/add", {}, [x, inputs])
    return x


def head(layers, x, classes=1000):
    """1x1 conv 1280 -> BN -> swish -> global average pool -> Dropout 0.2 -> Dense softmax."""
    x = conv_bn_swish(layers, x, "top_conv", "top_bn", "top_activation", 1280, 1, 1)
    x = _layer(layers, "GlobalAvgPool2D", "avg_pool", {}, [x])
    x = _layer(layers, "Dropout", "top_dropout", {"rate": 0.2}, [x])
    return _layer(layers, "Dense", "predictions", {"units": classes, "activation": "softmax"}, [x])


def build() -> dict:
    layers = []
    x = _layer(layers, "Input", "input", {"shape": [224, 224, 3]}, [])
    x = conv_bn_swish(layers, x, "stem_conv", "stem_bn", "stem_activation", 32, 3, 2)
    for i, (kernel, repeats, filters_in, filters_out, expand_ratio, stride) in enumerate(STAGES):
        for j in range(repeats):
            name = f"block{i + 1}{chr(j + 97)}"
            x = mbconv_block(layers, x, name, filters_in if j == 0 else filters_out, filters_out,
                             kernel, stride if j == 0 else 1, expand_ratio)
    out = head(layers, x)
    return {
        "schema_version": 1,
        "name": GRAPH_NAME,
        "description": (
            "EfficientNet-B0 following keras.applications.EfficientNetB0 (include_top, 224x224x3, "
            "1000 classes); reference trainable parameters 5,288,548 "
            "(keras.applications.EfficientNetB0(weights=None)). Rescaling/Normalization preprocessing "
            "(no trainable weights) and the per-block drop-connect left out; stride-2 convs use 'same' "
            "padding (= Keras' ZeroPadding2D(correct_pad) + valid); SE 1x1 convs written as Dense."
        ),
        "layers": layers,
        "outputs": [out],
    }
