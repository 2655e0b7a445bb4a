"""Caffe back-end support: the real Caffe protobuf schema, Caffe's blob shape
inference, and a pycaffe ``NetSpec`` shim for running generated pyCaffe scripts
without Caffe.

Put :data:`PYCAFFE_SHIM_DIR` first on ``sys.path`` / ``PYTHONPATH`` to make
``import caffe`` resolve to the shim; it is never importable as top-level
``caffe`` otherwise.
"""
from __future__ import annotations

from pathlib import Path

from .schema import (
    CaffeSchemaError,
    LayerParameter,
    NetParameter,
    has_field,
    has_message,
    layer_param_field_for_type,
    non_bvlc_fields_used,
    param_name_dict,
    parse_prototxt,
    post_1_0_features,
    to_prototxt,
)
from .shapes import CaffeShapeError, blob_shapes

#: Directory to put on ``sys.path`` so that ``import caffe`` gives the shim.
PYCAFFE_SHIM_DIR = Path(__file__).resolve().parent / "pycaffe_shim"

__all__ = [
    "PYCAFFE_SHIM_DIR",
    "CaffeSchemaError",
    "CaffeShapeError",
    "LayerParameter",
    "NetParameter",
    "blob_shapes",
    "has_field",
    "has_message",
    "layer_param_field_for_type",
    "non_bvlc_fields_used",
    "param_name_dict",
    "parse_prototxt",
    "post_1_0_features",
    "to_prototxt",
]
