"""Emitters: graph -> PyTorch, Keras 3, TensorFlow and Caffe code, and proof that the code runs.

Owns: ``codegen`` (templates in ``templates/*.yaml`` are data: a mapping and a
template per layer type; an unsupported layer is an error), ``weights``
(canonical weights and their layout per framework), ``runner`` (runs one
emitted program in a fresh process), ``verify`` (build + run + compare across
frameworks) and ``caffe`` (Caffe's NetParameter schema, prototxt shapes and the
pyCaffe NetSpec shim).

May import: :mod:`dlpaper2code.core`.
"""

from . import onnx_export  # noqa: E402,F401  registers the onnx target with codegen
