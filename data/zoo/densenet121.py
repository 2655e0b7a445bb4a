"""DenseNet-121 as a dlpaper2code graph, following keras.applications.DenseNet121.

Reference: keras/src/applications/densenet.py (DenseNet121, include_top=True,
224x224x3 input, 1000-way softmax). Dense blocks of [6, 12, 24, 16] BN-ReLU-Conv
layers (growth rate 32, bottleneck width 128), transitions halving the channels,
convolutions without bias, BatchNorm epsilon 1.001e-5.
"""

from _graph import add_layer as _layer


BN_EPS = 1.001e-5
GROWTH_RATE = 32
BLOCKS = [6, 12, 24, 16]


def bn_relu(layers, x, name):
    """BatchNorm (epsilon 1.001e-5) followed by ReLU."""
    x = _layer(layers, "BatchNorm", f"{name}_bn", {"epsilon": BN_EPS}, [x])
    return _layer(layers, "Activation", f"{name}_relu", {"function": "relu"}, [x])


def stem(layers, x):
    """7x7/2 conv (64, no bias) + BN + ReLU, then 3x3/2 max pooling over a 1-pixel zero border."""
    x = _layer(layers, "Conv2D", "conv1_conv",
               {"filters": 64, "kernel_size": 7, "strides": 2, "padding": 3, "use_bias": False}, [x])
    x = bn_relu(layers, x, "conv1")
    # Keras pads with zeros before the max pool; after the ReLU that equals -inf padding.
    # MaxPool2D has no explicit-int padding, so the ZeroPadding2D stays.
    x = _layer(layers, "ZeroPadding2D", "pool1_pad", {"padding": [1, 1, 1, 1]}, [x])
    return _layer(layers, "MaxPool2D", "pool1",
                  {"pool_size": 3, "strides": 2, "padding": "valid"}, [x])


def conv_block(layers, x, name):
    """One dense layer: BN-ReLU-1x1 conv (4*growth) - BN-ReLU-3x3 conv (growth), concatenated to its input."""
    y = bn_relu(layers, x, f"{name}_0")
    y = _layer(layers, "Conv2D", f"{name}_1_conv",
               {"filters": 4 * GROWTH_RATE, "kernel_size": 1, "use_bias": False}, [y])
    y = bn_relu(layers, y, f"{name}_1")
    y = _layer(layers, "Conv2D", f"{name}_2_conv",
               {"filters": GROWTH_RATE, "kernel_size": 3, "padding": 1, "use_bias": False}, [y])
    return _layer(layers, "Concat", f"{name}_concat", {}, [x, y])


def dense_block(layers, x, name, blocks):
    """`blocks` dense layers in a row, each adding GROWTH_RATE channels."""
    for i in range(1, blocks + 1):
        x = conv_block(layers, x, f"{name}_block{i}")
    return x


def transition_block(layers, x, name, channels):
    """BN-ReLU-1x1 conv to channels/2 (no bias), then 2x2/2 average pooling."""
    x = bn_relu(layers, x, name)
    x = _layer(layers, "Conv2D", f"{name}_conv",
               {"filters": channels // 2, "kernel_size": 1, "use_bias": False}, [x])
    return _layer(layers, "AvgPool2D", f"{name}_pool", {"pool_size": 2, "strides": 2}, [x])


def build() -> dict:
    layers = []
    x = _layer(layers, "Input", "input", {"shape": [224, 224, 3]}, [])
    x = stem(layers, x)
    channels = 64
    for i, blocks in enumerate(BLOCKS):
        x = dense_block(layers, x, f"conv{i + 2}", blocks)
        channels += blocks * GROWTH_RATE
        if i < len(BLOCKS) - 1:
            x = transition_block(layers, x, f"pool{i + 2}", channels)
            channels //= 2
    x = _layer(layers, "BatchNorm", "bn", {"epsilon": BN_EPS}, [x])
    x = _layer(layers, "Activation", "relu", {"function": "relu"}, [x])
    x = _layer(layers, "GlobalAvgPool2D", "avg_pool", {}, [x])
    x = _layer(layers, "Dense", "predictions", {"units": 1000, "activation": "softmax"}, [x])
    return {
        "schema_version": 1,
        "name": "densenet121",
        "description": (
            "DenseNet-121 following keras.applications.DenseNet121 (include_top=True, 224x224x3, "
            "1000 classes, softmax); reference trainable parameter count 7,978,856. "
            "Keras' ZeroPadding2D(3) + valid 7x7 conv is written as explicit padding 3."
        ),
        "layers": layers,
        "outputs": [x],
    }
