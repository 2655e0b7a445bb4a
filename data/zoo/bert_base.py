"""BERT-base (uncased) encoder with embeddings and pooler as a dlpaper2code graph document.

Follows Hugging Face `BertModel` for bert-base-uncased (with pooler): word, segment
(token type) and learned position embeddings (512 positions), LayerNorm eps 1e-12,
12 post-norm encoder layers (12 heads, FFN 3072, GELU, dropout 0.1) and the tanh
pooler on the [CLS] token. Inputs are 128 token ids and 128 segment ids.
Reference trainable parameter count (Hugging Face bert-base-uncased): 109,482,240.
"""

from _graph import add_layer as _layer


STEPS = 128
VOCAB = 30522
SEGMENTS = 2
MAX_POSITIONS = 512
HIDDEN = 768
DEPTH = 12
HEADS = 12
FFN = 3072
DROPOUT = 0.1
LN_EPS = 1e-12


def embeddings(layers, token_ids, segment_ids):
    """BertEmbeddings: word + segment embeddings, learned position embeddings (512 rows,
    first 128 used), LayerNorm (eps 1e-12) and dropout 0.1."""
    w = _layer(layers, "Embedding", "embeddings/word_embeddings",
               {"input_dim": VOCAB, "output_dim": HIDDEN}, [token_ids])
    s = _layer(layers, "Embedding", "embeddings/token_type_embeddings",
               {"input_dim": SEGMENTS, "output_dim": HIDDEN}, [segment_ids])
    x = _layer(layers, "Add", "embeddings/add", {}, [w, s])
    x = _layer(layers, "PositionEmbedding", "embeddings/position_embeddings",
               {"max_length": MAX_POSITIONS}, [x])
    x = _layer(layers, "LayerNorm", "embeddings/LayerNorm", {"epsilon": LN_EPS}, [x])
    return _layer(layers, "Dropout", "embeddings/dropout", {"rate": DROPOUT}, [x])


def encoder_layer(layers, x, i):
    """Post-norm BertLayer: LN(x + dropout(MHSA(x))), then LN(h + dropout(FFN(h)))
    with a GELU feed-forward 768-3072-768."""
    p = f"encoder/layer{i}"
    a = _layer(layers, "MultiHeadAttention", f"{p}/attention",
               {"num_heads": HEADS, "key_dim": HIDDEN // HEADS, "dropout": DROPOUT}, [x])
    a = _layer(layers, "Dropout", f"{p}/attention/dropout", {"rate": DROPOUT}, [a])
    x = _layer(layers, "Add", f"{p}/attention/add", {}, [x, a])
    x = _layer(layers, "LayerNorm", f"{p}/attention/LayerNorm", {"epsilon": LN_EPS}, [x])
    h = _layer(layers, "Dense", f"{p}/intermediate", {"units": FFN, "activation": "gelu"}, [x])
    h = _layer(layers, "Dense", f"{p}/output/dense", {"units": HIDDEN}, [h])
    h = _layer(layers, "Dropout", f"{p}/output/dropout", {"rate": DROPOUT}, [h])
    x = _layer(layers, "Add", f"{p}/output/add", {}, [x, h])
    return _layer(layers, "LayerNorm", f"{p}/output/LayerNorm", {"epsilon": LN_EPS}, [x])


def pooler(layers, x):
    """BertPooler: the [CLS] token (index 0) through Dense 768 with tanh."""
    c = _layer(layers, "SelectToken", "pooler/first_token", {"index": 0}, [x])
    return _layer(layers, "Dense", "pooler/dense", {"units": HIDDEN, "activation": "tanh"}, [c])


def build() -> dict:
    """Return the BERT-base graph document (outputs: sequence output, pooled output)."""
    layers = []
    tokens = _layer(layers, "Input", "input_ids", {"shape": [STEPS], "dtype": "int64"}, [])
    segments = _layer(layers, "Input", "token_type_ids", {"shape": [STEPS], "dtype": "int64"}, [])
    x = embeddings(layers, tokens, segments)
    for i in range(DEPTH):
        x = encoder_layer(layers, x, i)
    pooled = pooler(layers, x)
    return {
        "schema_version": 1,
        "name": "bert_base",
        "description": ("BERT-base uncased encoder following Hugging Face BertModel (with pooler): "
                        "word/segment/position embeddings (30522/2/512 x 768), LayerNorm eps 1e-12, "
                        "12 post-norm layers (12 heads, FFN 3072 GELU, dropout 0.1), tanh pooler on [CLS]. "
                        "Inputs: 128 token ids and 128 segment ids. Reference trainable parameter "
                        "count: 109,482,240 (Hugging Face bert-base-uncased)."),
        "layers": layers,
        "outputs": [x, pooled],
    }
