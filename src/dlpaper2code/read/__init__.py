"""Read a box diagram (Keras 3, Keras 2, Caffe and varied looks) back into a model graph.

    from dlpaper2code.read import read_diagram
    result = read_diagram("net.png")          # never raises on a bad input
    result["status"]                          # ok | no_diagram | error
    result["graph"]                           # our graph document (layers, from_layers, params)

Pipeline: binarise (dark ink against the page), closed outlines as boxes
(table cells and dark headers grouped into one box), boxes masked out, the
remaining ink as arrows (skeleton paths through crossings and merges,
direction from the arrowheads and the layer order), one Tesseract pass over
a mosaic of the text cells, fuzzy matching against the layer vocabulary,
hyper-parameters from labels and shapes, Caffe blobs collapsed.

Layer: may import :mod:`dlpaper2code.core`, :mod:`~dlpaper2code.render` and
:mod:`~dlpaper2code.simulate` (their layer-naming tables); scoring lives in
:mod:`dlpaper2code.eval`.
"""
from .core import read_diagram

__all__ = ["read_diagram"]
