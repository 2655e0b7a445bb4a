"""ViT-B/16 (224x224x3 images, 1000 classes) as a dlpaper2code graph document.

Follows timm's `vit_base_patch16_224`: 16x16 patch embedding, a learned [class]
token, learned position embeddings (197 positions), 12 pre-norm encoder layers
(LayerNorm eps 1e-6), a final LayerNorm and a linear head on the [class] token.
Reference trainable parameter count (timm vit_base_patch16_224): 86,567,656.
"""

from _graph import add_layer as _layer


IMAGE_SIZE = 224
PATCH = 16
WIDTH = 768
DEPTH = 12
HEADS = 12
MLP_DIM = 3072
CLASSES = 1000
LN_EPS = 1e-6


def patch_embedding(layers, x):
    """Stem: 16x16 stride-16 convolution to 768 channels, flattened to 196 tokens,
    the [class] token prepended and learned position embeddings added (197 positions)."""
    x = _layer(layers, "Conv2D", "patch_embed/proj",
               {"filters": WIDTH, "kernel_size": PATCH, "strides": PATCH, "padding": "valid"}, [x])
    n = (IMAGE_SIZE // PATCH) ** 2
    x = _layer(layers, "Reshape", "patch_embed/flatten", {"target_shape": [n, WIDTH]}, [x])
    x = _layer(layers, "ClassToken", "cls_token", {}, [x])
    x = _layer(layers, "PositionEmbedding", "pos_embed", {"max_length": n + 1}, [x])
    return _layer(layers, "Dropout", "pos_drop", {"rate": 0.0}, [x])


def encoder_block(layers, x, i):
    """Pre-norm encoder layer: x + MHSA(LN(x)), then x + MLP(LN(x)) with a GELU MLP 768-3072-768."""
    p = f"blocks{i}"
    h = _layer(layers, "LayerNorm", f"{p}/norm1", {"epsilon": LN_EPS}, [x])
    h = _layer(layers, "MultiHeadAttention", f"{p}/attn",
               {"num_heads": HEADS, "key_dim": WIDTH // HEADS}, [h])
    x = _layer(layers, "Add", f"{p}/add1", {}, [x, h])
    h = _layer(layers, "LayerNorm", f"{p}/norm2", {"epsilon": LN_EPS}, [x])
    h = _layer(layers, "Dense", f"{p}/mlp/fc1", {"units": MLP_DIM, "activation": "gelu"}, [h])
    h = _layer(layers, "Dense", f"{p}/mlp/fc2", {"units": WIDTH}, [h])
    return _layer(layers, "Add", f"{p}/add2", {}, [x, h])


def head(layers, x):
    """Final LayerNorm, the [class] token (index 0) and the 1000-way linear classifier."""
    x = _layer(layers, "LayerNorm", "norm", {"epsilon": LN_EPS}, [x])
    x = _layer(layers, "SelectToken", "cls_select", {"index": 0}, [x])
    return _layer(layers, "Dense", "head", {"units": CLASSES}, [x])


def build() -> dict:
    """Return the ViT-B/16 graph document."""
    layers = []
    x = _layer(layers, "Input", "image", {"shape": [IMAGE_SIZE, IMAGE_SIZE, 3]}, [])
    x = patch_embedding(layers, x)
    for i in range(DEPTH):
        x = encoder_block(layers, x, i)
    out = head(layers, x)
    return {
        "schema_version": 1,
        "name": "vit_b16",
        "description": ("ViT-B/16 image classifier (224x224x3, 1000 classes) following timm's "
                        "vit_base_patch16_224: patch embedding, class token, learned position "
                        "embeddings, 12 pre-norm encoder layers (12 heads, MLP 3072, GELU, "
                        "LayerNorm eps 1e-6), final LayerNorm, linear head on the class token. "
                        "Reference trainable parameter count: 86,567,656 (timm)."),
        "layers": layers,
        "outputs": [out],
    }
