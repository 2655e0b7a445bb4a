"""SqueezeNet 1.0 as torchvision.models.squeezenet1_0 defines it.

224x224x3 input, 1000 classes. Published parameter count (torchvision's model card):
1,248,424, all trainable (no BatchNorm).

Spatial sizes follow torchvision exactly: 224 -conv 7x7/2-> 109 -maxpool1-> 54 -fire2..4->
-maxpool2-> 27 -fire5..8-> -maxpool3-> 13 -fire9, conv10-> 13 -> global average pool.
torchvision's max pools are 3x3 / 2 with ceil_mode=True; here:
- maxpool1 (109 -> 54) and maxpool3 (27 -> 13) use "valid": with odd inputs ceil and floor agree;
- maxpool2 (54 -> 27) uses "same": TensorFlow's same pads one column/row after, so the last
  window covers the last row/col and the padding never wins a max, exactly as ceil_mode does.
"""

from _graph import add_layer as _layer


GRAPH_NAME = "squeezenet1_0"

# (name, squeeze, expand1x1, expand3x3); "maxpool" marks a 3x3/2 max pool and its padding.
FEATURES = [
    ("maxpool1", "valid"),
    ("fire2", 16, 64, 64),
    ("fire3", 16, 64, 64),
    ("fire4", 32, 128, 128),
    ("maxpool2", "same"),
    ("fire5", 32, 128, 128),
    ("fire6", 48, 192, 192),
    ("fire7", 48, 192, 192),
    ("fire8", 64, 256, 256),
    ("maxpool3", "valid"),
    ("fire9", 64, 256, 256),
]


def fire(layers, x, name, squeeze, expand1x1, expand3x3):
    """Fire module: 1x1 squeeze conv + ReLU, then 1x1 and 3x3 (padding 1) expand convs, each + ReLU,
    concatenated on channels (1x1 first)."""
    s = _layer(layers, "Conv2D", f"{name}/squeeze",
               {"filters": squeeze, "kernel_size": 1, "activation": "relu"}, [x])
    e1 = _layer(layers, "Conv2D", f"{name}/expand1x1",
                {"filters": expand1x1, "kernel_size": 1, "activation": "relu"}, [s])
    e3 = _layer(layers, "Conv2D", f"{name}/expand3x3",
                {"filters": expand3x3, "kernel_size": 3, "padding": 1, "activation": "relu"}, [s])
    return _layer(layers, "Concat", f"{name}/concat", {}, [e1, e3])


def max_pool(layers, x, name, padding):
    """3x3 / 2 max pool standing in for torchvision's ceil_mode pool (see the module docstring)."""
    return _layer(layers, "MaxPool2D", name, {"pool_size": 3, "strides": 2, "padding": padding}, [x])


def classifier(layers, x, classes=1000):
    """Dropout 0.5 -> 1x1 conv to the classes + ReLU -> global average pool (torchvision's logits)."""
    x = _layer(layers, "Dropout", "classifier/dropout", {"rate": 0.5}, [x])
    x = _layer(layers, "Conv2D", "classifier/conv10",
               {"filters": classes, "kernel_size": 1, "activation": "relu"}, [x])
    return _layer(layers, "GlobalAvgPool2D", "classifier/avg_pool", {}, [x])


def build() -> dict:
    layers = []
    x = _layer(layers, "Input", "input", {"shape": [224, 224, 3]}, [])
    x = _layer(layers, "Conv2D", "conv1",
               {"filters": 96, "kernel_size": 7, "strides": 2, "activation": "relu"}, [x])
    for spec in FEATURES:
        if spec[0].startswith("maxpool"):
            x = max_pool(layers, x, *spec)
        else:
            x = fire(layers, x, *spec)
    out = classifier(layers, x)
    return {
        "schema_version": 1,
        "name": GRAPH_NAME,
        "description": (
            "SqueezeNet 1.0 following torchvision.models.squeezenet1_0 (224x224x3, 1000 classes); "
            "published parameter count 1,248,424. Spatial sizes 224 -> 109 -> 54 -> 27 -> 13 as "
            "torchvision's; its ceil_mode 3x3/2 max pools are 'valid', 'same', 'valid' here "
            "(same output sizes and values). Output: class scores (no softmax), as torchvision."
        ),
        "layers": layers,
        "outputs": [out],
    }
