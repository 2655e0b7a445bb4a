"""The base encoder-decoder Transformer as a dlpaper2code graph document.

d_model 512, 8 heads, d_ff 2048 (ReLU), 6 encoder + 6 decoder post-norm layers,
dropout 0.1, fixed sinusoidal positional encoding, source and target sequences of
32 token ids, vocabulary 37000 for both, final Dense 37000 with softmax.
The graph has no weight tying, so the source embedding, the target embedding and
the output projection are three separate matrices. The encoder-decoder core equals
torch.nn.Transformer(512, 8, 6, 6, 2048) minus its two final LayerNorms
(44,140,544 - 2,048 = 44,138,496); the whole model has 101,007,496 parameters.
"""

from _graph import add_layer as _layer


STEPS = 32
VOCAB = 37000
D_MODEL = 512
HEADS = 8
D_FF = 2048
LAYERS = 6
DROPOUT = 0.1
LN_EPS = 1e-5  # PyTorch's nn.Transformer default


def embed(layers, ids, prefix):
    """Token embedding (37000 x 512) times sqrt(d_model), fixed sinusoidal positional encoding, dropout 0.1."""
    x = _layer(layers, "Embedding", f"{prefix}/embedding",
               {"input_dim": VOCAB, "output_dim": D_MODEL}, [ids])
    x = _layer(layers, "Rescaling", f"{prefix}/scale", {"scale": round(D_MODEL ** 0.5, 6)}, [x])
    x = _layer(layers, "PositionalEncoding", f"{prefix}/positional_encoding", {}, [x])
    return _layer(layers, "Dropout", f"{prefix}/dropout", {"rate": DROPOUT}, [x])


def residual_norm(layers, x, h, prefix):
    """Post-norm residual: LayerNorm(x + dropout(h))."""
    h = _layer(layers, "Dropout", f"{prefix}/dropout", {"rate": DROPOUT}, [h])
    x = _layer(layers, "Add", f"{prefix}/add", {}, [x, h])
    return _layer(layers, "LayerNorm", f"{prefix}/norm", {"epsilon": LN_EPS}, [x])


def feed_forward(layers, x, prefix):
    """Position-wise feed-forward 512-2048-512 with ReLU (dropout after the ReLU as in PyTorch)."""
    h = _layer(layers, "Dense", f"{prefix}/linear1", {"units": D_FF, "activation": "relu"}, [x])
    h = _layer(layers, "Dropout", f"{prefix}/inner_dropout", {"rate": DROPOUT}, [h])
    return _layer(layers, "Dense", f"{prefix}/linear2", {"units": D_MODEL}, [h])


def attention(layers, inputs, name, causal=False):
    """Multi-head attention, 8 heads of 64, attention dropout 0.1."""
    params = {"num_heads": HEADS, "key_dim": D_MODEL // HEADS, "dropout": DROPOUT}
    if causal:
        params["causal"] = True
    return _layer(layers, "MultiHeadAttention", name, params, inputs)


def encoder_layer(layers, x, i):
    """Post-norm encoder layer: self-attention sublayer, then feed-forward sublayer."""
    p = f"encoder/layer{i}"
    x = residual_norm(layers, x, attention(layers, [x], f"{p}/self_attn"), f"{p}/sublayer1")
    return residual_norm(layers, x, feed_forward(layers, x, f"{p}/ffn"), f"{p}/sublayer2")


def decoder_layer(layers, y, memory, i):
    """Post-norm decoder layer: causal self-attention, cross-attention [query, memory], feed-forward."""
    p = f"decoder/layer{i}"
    y = residual_norm(layers, y, attention(layers, [y], f"{p}/self_attn", causal=True), f"{p}/sublayer1")
    y = residual_norm(layers, y, attention(layers, [y, memory], f"{p}/cross_attn"), f"{p}/sublayer2")
    return residual_norm(layers, y, feed_forward(layers, y, f"{p}/ffn"), f"{p}/sublayer3")


def build() -> dict:
    """Return the base Transformer graph document (output: per-step softmax over 37000 tokens)."""
    layers = []
    src = _layer(layers, "Input", "source_ids", {"shape": [STEPS], "dtype": "int64"}, [])
    tgt = _layer(layers, "Input", "target_ids", {"shape": [STEPS], "dtype": "int64"}, [])
    memory = embed(layers, src, "source")
    for i in range(LAYERS):
        memory = encoder_layer(layers, memory, i)
    y = embed(layers, tgt, "target")
    for i in range(LAYERS):
        y = decoder_layer(layers, y, memory, i)
    out = _layer(layers, "Dense", "generator", {"units": VOCAB, "activation": "softmax"}, [y])
    return {
        "schema_version": 1,
        "name": "transformer_base",
        "description": ("Base encoder-decoder Transformer (d_model 512, 8 heads, d_ff 2048 ReLU, 6+6 "
                        "post-norm layers, dropout 0.1, sinusoidal positional encoding, 32 source and "
                        "32 target token ids, vocabulary 37000, final Dense 37000 softmax). No weight "
                        "tying: separate source and target embeddings (37000x512 each) and output "
                        "projection. Encoder-decoder core = torch.nn.Transformer(512, 8, 6, 6, 2048) "
                        "minus its final encoder/decoder LayerNorms: 44,140,544 - 2,048 = 44,138,496; "
                        "total 101,007,496. The embeddings are scaled by sqrt(d_model) before the "
                        "positional encoding is added."),
        "layers": layers,
        "outputs": [out],
    }
