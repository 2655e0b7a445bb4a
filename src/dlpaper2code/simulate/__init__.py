"""The simulated dataset: grammar-drawn models, their diagrams and exact ground truth.

Owns: ``grammar`` (the next-layer grammar and hyper-parameter ranges of
``grammar.yaml``), ``dataset`` (sharded writing of models, diagrams and truth),
``frameworks`` (the real Keras ``to_json`` of a model) and ``report``.

Layer: may import core, emit and render.
"""
from .grammar import DrawStats, Grammar, describe, generate_model, load_grammar, symbol_of

__all__ = ["DrawStats", "Grammar", "describe", "generate_model", "load_grammar", "symbol_of"]
