"""ResNet-50 (v1) as a dlpaper2code graph, following keras.applications.ResNet50.

Reference: keras/src/applications/resnet.py (ResNet50, include_top=True,
224x224x3 input, 1000-way softmax). Bottleneck blocks with the stride on the
first 1x1 convolution, biases on every convolution, BatchNorm epsilon 1.001e-5.
"""

from _graph import add_layer as _layer


BN_EPS = 1.001e-5


def conv_bn(layers, x, name, filters, kernel_size, strides=1, padding=0, relu=True):
    """Conv2D (with bias) -> BatchNorm -> optional ReLU; returns the last layer's name."""
    x = _layer(layers, "Conv2D", f"{name}_conv",
               {"filters": filters, "kernel_size": kernel_size, "strides": strides,
                "padding": padding, "use_bias": True}, [x])
    x = _layer(layers, "BatchNorm", f"{name}_bn", {"epsilon": BN_EPS}, [x])
    if relu:
        x = _layer(layers, "Activation", f"{name}_relu", {"function": "relu"}, [x])
    return x


def stem(layers, x):
    """7x7/2 conv (64) + BN + ReLU, then 3x3/2 max pooling over a 1-pixel zero border."""
    x = conv_bn(layers, x, "conv1", 64, 7, strides=2, padding=3)
    # Keras pads with zeros before the max pool; after the ReLU that equals -inf padding.
    # MaxPool2D has no explicit-int padding, so the ZeroPadding2D stays.
    x = _layer(layers, "ZeroPadding2D", "pool1_pad", {"padding": [1, 1, 1, 1]}, [x])
    return _layer(layers, "MaxPool2D", "pool1_pool",
                  {"pool_size": 3, "strides": 2, "padding": "valid"}, [x])


def bottleneck_block(layers, x, name, filters, stride=1, conv_shortcut=False):
    """ResNet v1 bottleneck: 1x1 (stride) -> 3x3 -> 1x1 (4*filters), added to the shortcut, ReLU.

    The shortcut is a strided 1x1 projection + BN when `conv_shortcut`, else the identity.
    """
    if conv_shortcut:
        shortcut = conv_bn(layers, x, f"{name}_0", 4 * filters, 1, strides=stride, relu=False)
    else:
        shortcut = x
    y = conv_bn(layers, x, f"{name}_1", filters, 1, strides=stride)
    y = conv_bn(layers, y, f"{name}_2", filters, 3, padding=1)
    y = conv_bn(layers, y, f"{name}_3", 4 * filters, 1, relu=False)
    y = _layer(layers, "Add", f"{name}_add", {}, [shortcut, y])
    return _layer(layers, "Activation", f"{name}_out", {"function": "relu"}, [y])


def stage(layers, x, name, filters, blocks, stride1):
    """A stack of bottleneck blocks; the first one projects (and strides by `stride1`)."""
    x = bottleneck_block(layers, x, f"{name}_block1", filters, stride=stride1, conv_shortcut=True)
    for i in range(2, blocks + 1):
        x = bottleneck_block(layers, x, f"{name}_block{i}", filters)
    return x


def build() -> dict:
    layers = []
    x = _layer(layers, "Input", "input", {"shape": [224, 224, 3]}, [])
    x = stem(layers, x)
    for name, filters, blocks, stride1 in [("conv2", 64, 3, 1), ("conv3", 128, 4, 2),
                                           ("conv4", 256, 6, 2), ("conv5", 512, 3, 2)]:
        x = stage(layers, x, name, filters, blocks, stride1)
    x = _layer(layers, "GlobalAvgPool2D", "avg_pool", {}, [x])
    x = _layer(layers, "Dense", "predictions", {"units": 1000, "activation": "softmax"}, [x])
    return {
        "schema_version": 1,
        "name": "resnet50",
        "description": (
            "ResNet-50 v1 following keras.applications.ResNet50 (include_top=True, 224x224x3, "
            "1000 classes, softmax); reference trainable parameter count 25,583,592. "
            "Keras' ZeroPadding2D(3) + valid 7x7 conv is written as explicit padding 3."
        ),
        "layers": layers,
        "outputs": [x],
    }
