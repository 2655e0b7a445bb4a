"""Which figure shows a model, and in which drawing style.

Owns: ``generate`` (the training images), ``features`` (CNN backbones and
hand-made features), ``compare`` (the classifier comparison) and ``classify``
(the saved classifier the paper route uses).

Layer: may import core, render and simulate.
"""
