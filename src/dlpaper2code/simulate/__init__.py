"""The simulated dataset: grammar-drawn models, their diagrams and exact ground truth."""
from .grammar import DrawStats, Grammar, describe, generate_model, load_grammar, symbol_of

__all__ = ["DrawStats", "Grammar", "describe", "generate_model", "load_grammar", "symbol_of"]
