"""The graph core: the model graph, its layer vocabulary, shape inference, expressions, errors.

Owns: ``graph`` (the library-agnostic graph document: parse, validate, blocks),
``vocab`` (the one layer vocabulary, read from ``layers.yaml``), ``shapes``
(shape rules per layer type), ``expr`` (the small expression language of the
vocabulary and blocks), ``errors`` (GraphError, EmitError and the issue
records), ``paths`` (where the configuration is: package data, or
``DLPAPER2CODE_CONFIG``), ``dsu`` (one union-find), ``stats`` (one percentile
definition) and ``atomic`` (write-to-temp-then-rename).

May import: the standard library and third-party packages only; every other
layer of dlpaper2code builds on this one.
"""
