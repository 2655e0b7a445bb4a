"""Inception-v3 as a dlpaper2code graph, following keras.applications.InceptionV3.

Reference: keras/src/applications/inception_v3.py (InceptionV3, include_top=True,
299x299x3 input, 1000-way softmax). Every convolution is conv2d_bn: a Conv2D
without bias, BatchNormalization(scale=False) with the default epsilon 1e-3, ReLU.
Keras' stride-1 "same" convolutions (odd kernels) are written as the equivalent
explicit symmetric padding [kernel_rows // 2, kernel_cols // 2].
"""

from _graph import add_layer as _layer


def conv2d_bn(layers, x, name, filters, rows, cols, strides=1, padding="same"):
    """Conv2D (no bias) -> BatchNorm (no gamma, epsilon 1e-3) -> ReLU, as Keras' conv2d_bn.

    padding "same" (stride 1 only) becomes explicit symmetric padding; "valid" stays.
    """
    if padding == "same":
        assert strides == 1 and rows % 2 == 1 and cols % 2 == 1
        pad = [rows // 2, cols // 2]
    else:
        pad = "valid"
    x = _layer(layers, "Conv2D", f"{name}/conv",
               {"filters": filters, "kernel_size": [rows, cols], "strides": strides,
                "padding": pad, "use_bias": False}, [x])
    x = _layer(layers, "BatchNorm", f"{name}/bn",
               {"epsilon": 0.001, "scale": False}, [x])
    return _layer(layers, "Activation", f"{name}/relu", {"function": "relu"}, [x])


def avg_pool_branch(layers, x, name, filters):
    """3x3/1 average pooling ("same", padding excluded from the mean) then a 1x1 conv2d_bn."""
    p = _layer(layers, "AvgPool2D", f"{name}/pool",
               {"pool_size": 3, "strides": 1, "padding": "same"}, [x])
    return conv2d_bn(layers, p, f"{name}/conv1x1", filters, 1, 1)


def max_pool(layers, x, name):
    """3x3/2 max pooling without padding."""
    return _layer(layers, "MaxPool2D", name, {"pool_size": 3, "strides": 2, "padding": "valid"}, [x])


def stem(layers, x):
    """299x299x3 -> 35x35x192: five conv2d_bn layers and two max pools."""
    x = conv2d_bn(layers, x, "stem/conv1", 32, 3, 3, strides=2, padding="valid")
    x = conv2d_bn(layers, x, "stem/conv2", 32, 3, 3, padding="valid")
    x = conv2d_bn(layers, x, "stem/conv3", 64, 3, 3)
    x = max_pool(layers, x, "stem/pool1")
    x = conv2d_bn(layers, x, "stem/conv4", 80, 1, 1, padding="valid")
    x = conv2d_bn(layers, x, "stem/conv5", 192, 3, 3, padding="valid")
    return max_pool(layers, x, "stem/pool2")


def inception_a(layers, x, name, pool_filters):
    """35x35 module (mixed0-2): 1x1 | 1x1-5x5 | 1x1-3x3-3x3 | avgpool-1x1 (pool_filters)."""
    b1 = conv2d_bn(layers, x, f"{name}/branch1x1", 64, 1, 1)
    b5 = conv2d_bn(layers, x, f"{name}/branch5x5_1", 48, 1, 1)
    b5 = conv2d_bn(layers, b5, f"{name}/branch5x5_2", 64, 5, 5)
    b3 = conv2d_bn(layers, x, f"{name}/branch3x3dbl_1", 64, 1, 1)
    b3 = conv2d_bn(layers, b3, f"{name}/branch3x3dbl_2", 96, 3, 3)
    b3 = conv2d_bn(layers, b3, f"{name}/branch3x3dbl_3", 96, 3, 3)
    bp = avg_pool_branch(layers, x, f"{name}/branch_pool", pool_filters)
    return _layer(layers, "Concat", name, {}, [b1, b5, b3, bp])


def reduction_a(layers, x, name):
    """35x35 -> 17x17 (mixed3): 3x3/2 | 1x1-3x3-3x3/2 | maxpool 3x3/2."""
    b3 = conv2d_bn(layers, x, f"{name}/branch3x3", 384, 3, 3, strides=2, padding="valid")
    bd = conv2d_bn(layers, x, f"{name}/branch3x3dbl_1", 64, 1, 1)
    bd = conv2d_bn(layers, bd, f"{name}/branch3x3dbl_2", 96, 3, 3)
    bd = conv2d_bn(layers, bd, f"{name}/branch3x3dbl_3", 96, 3, 3, strides=2, padding="valid")
    bp = max_pool(layers, x, f"{name}/branch_pool")
    return _layer(layers, "Concat", name, {}, [b3, bd, bp])


def inception_b(layers, x, name, c7):
    """17x17 module (mixed4-7) with factorised 7x7 convs of width c7: 1x1 | 1x1-1x7-7x1 |
    1x1-7x1-1x7-7x1-1x7 | avgpool-1x1; every branch ends at 192 channels."""
    b1 = conv2d_bn(layers, x, f"{name}/branch1x1", 192, 1, 1)
    b7 = conv2d_bn(layers, x, f"{name}/branch7x7_1", c7, 1, 1)
    b7 = conv2d_bn(layers, b7, f"{name}/branch7x7_2", c7, 1, 7)
    b7 = conv2d_bn(layers, b7, f"{name}/branch7x7_3", 192, 7, 1)
    bd = conv2d_bn(layers, x, f"{name}/branch7x7dbl_1", c7, 1, 1)
    bd = conv2d_bn(layers, bd, f"{name}/branch7x7dbl_2", c7, 7, 1)
    bd = conv2d_bn(layers, bd, f"{name}/branch7x7dbl_3", c7, 1, 7)
    bd = conv2d_bn(layers, bd, f"{name}/branch7x7dbl_4", c7, 7, 1)
    bd = conv2d_bn(layers, bd, f"{name}/branch7x7dbl_5", 192, 1, 7)
    bp = avg_pool_branch(layers, x, f"{name}/branch_pool", 192)
    return _layer(layers, "Concat", name, {}, [b1, b7, bd, bp])


def reduction_b(layers, x, name):
    """17x17 -> 8x8 (mixed8): 1x1-3x3/2 (320) | 1x1-1x7-7x1-3x3/2 (192) | maxpool 3x3/2."""
    b3 = conv2d_bn(layers, x, f"{name}/branch3x3_1", 192, 1, 1)
    b3 = conv2d_bn(layers, b3, f"{name}/branch3x3_2", 320, 3, 3, strides=2, padding="valid")
    b7 = conv2d_bn(layers, x, f"{name}/branch7x7x3_1", 192, 1, 1)
    b7 = conv2d_bn(layers, b7, f"{name}/branch7x7x3_2", 192, 1, 7)
    b7 = conv2d_bn(layers, b7, f"{name}/branch7x7x3_3", 192, 7, 1)
    b7 = conv2d_bn(layers, b7, f"{name}/branch7x7x3_4", 192, 3, 3, strides=2, padding="valid")
    bp = max_pool(layers, x, f"{name}/branch_pool")
    return _layer(layers, "Concat", name, {}, [b3, b7, bp])


def inception_c(layers, x, name):
    """8x8 module (mixed9-10) with split 1x3/3x1 outputs: 1x1 (320) | 1x1-{1x3,3x1} (768) |
    1x1-3x3-{1x3,3x1} (768) | avgpool-1x1 (192)."""
    b1 = conv2d_bn(layers, x, f"{name}/branch1x1", 320, 1, 1)
    b3 = conv2d_bn(layers, x, f"{name}/branch3x3_1", 384, 1, 1)
    b3a = conv2d_bn(layers, b3, f"{name}/branch3x3_2a", 384, 1, 3)
    b3b = conv2d_bn(layers, b3, f"{name}/branch3x3_2b", 384, 3, 1)
    b3 = _layer(layers, "Concat", f"{name}/branch3x3", {}, [b3a, b3b])
    bd = conv2d_bn(layers, x, f"{name}/branch3x3dbl_1", 448, 1, 1)
    bd = conv2d_bn(layers, bd, f"{name}/branch3x3dbl_2", 384, 3, 3)
    bda = conv2d_bn(layers, bd, f"{name}/branch3x3dbl_3a", 384, 1, 3)
    bdb = conv2d_bn(layers, bd, f"{name}/branch3x3dbl_3b", 384, 3, 1)
    bd = _layer(layers, "Concat", f"{name}/branch3x3dbl", {}, [bda, bdb])
    bp = avg_pool_branch(layers, x, f"{name}/branch_pool", 192)
    return _layer(layers, "Concat", name, {}, [b1, b3, bd, bp])


def build() -> dict:
    layers = []
    x = _layer(layers, "Input", "input", {"shape": [299, 299, 3]}, [])
    x = stem(layers, x)
    for i, pool_filters in enumerate([32, 64, 64]):
        x = inception_a(layers, x, f"mixed{i}", pool_filters)
    x = reduction_a(layers, x, "mixed3")
    for i, c7 in enumerate([128, 160, 160, 192]):
        x = inception_b(layers, x, f"mixed{4 + i}", c7)
    x = reduction_b(layers, x, "mixed8")
    for i in range(2):
        x = inception_c(layers, x, f"mixed{9 + i}")
    x = _layer(layers, "GlobalAvgPool2D", "avg_pool", {}, [x])
    x = _layer(layers, "Dense", "predictions", {"units": 1000, "activation": "softmax"}, [x])
    return {
        "schema_version": 1,
        "name": "inception_v3",
        "description": (
            "Inception-v3 following keras.applications.InceptionV3 (include_top=True, 299x299x3, "
            "1000 classes, softmax); reference trainable parameter count 23,817,352. "
            "Stride-1 'same' convolutions are written as explicit symmetric padding."
        ),
        "layers": layers,
        "outputs": [x],
    }
