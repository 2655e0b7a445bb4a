"""Formats in and out: existing models imported into the graph, and the experiment described in MEX.

This package owns the ways a model enters the library-agnostic graph from another framework's file
and the descriptions written about a graph (MEX, RDF).  Each importer is a module here that turns
a model file into ``Imported``: a graph document (the same JSON a person writes, validated by
``core.graph.parse_graph`` with the same errors) and, when the file holds them, its weights in the
canonical channels-last layout of ``emit.weights`` (keyed ``<layer id>/<weight name>``).

:data:`IMPORTERS` maps a format name to ``"module:function"``; :data:`EXTENSIONS` maps file
suffixes to a format.  An operator with no vocabulary entry is an :class:`ImportFailure` naming the
file, the node and the operator, never a silent gap.

May import: :mod:`dlpaper2code.core` and :mod:`dlpaper2code.emit` (weights, code, verification).
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

# format -> "module:function"; the function takes (path, **options) and returns Imported
IMPORTERS: dict[str, str] = {}

# file suffix (lower case, with the dot) -> format
EXTENSIONS: dict[str, str] = {}


class ImportFailure(ValueError):
    """A model file that cannot be imported: the file, the node (if one is at fault) and why."""

    def __init__(self, source: str, message: str, node: str | None = None, operator: str | None = None):
        self.source, self.node, self.operator = str(source), node, operator
        where = f" node '{node}'" if node else ""
        op = f" (operator {operator})" if operator else ""
        super().__init__(f"{source}:{where}{op} {message}".replace(": ", ": ", 1))


@dataclass
class Imported:
    """What an importer returns: the graph document and, if the file has them, canonical weights."""
    doc: dict
    weights: dict[str, np.ndarray] | None = None
    format: str = ""
    notes: list[str] = field(default_factory=list)     # what was folded or renamed on the way in


def detect_format(path: str | Path, fmt: str | None = None) -> str:
    if fmt:
        if fmt not in IMPORTERS:
            raise ImportFailure(path, f"unknown format '{fmt}'; known: {', '.join(sorted(IMPORTERS)) or 'none'}")
        return fmt
    name = str(path).lower()
    for suffix in sorted(EXTENSIONS, key=len, reverse=True):
        if name.endswith(suffix):
            return EXTENSIONS[suffix]
    sniffed = sniff_json(path) if name.endswith(".json") else None
    if sniffed:
        return sniffed
    raise ImportFailure(path, "cannot tell the format from the file name; give --from "
                              f"({', '.join(sorted(IMPORTERS)) or 'none known'})")


def import_model(path: str | Path, fmt: str | None = None, **options) -> Imported:
    """Import a model file (format from ``fmt`` or the file name) into a graph document and weights."""
    fmt = detect_format(path, fmt)
    if fmt != "pytorch" and not Path(path).exists():
        raise ImportFailure(path, "file not found")
    module_name, func = IMPORTERS[fmt].split(":")
    module = importlib.import_module(f"{__name__}.{module_name}")
    result = getattr(module, func)(path, **options)
    result.format = fmt
    return result


def sniff_json(path: str | Path) -> str | None:
    """The format of a ``.json`` model file by its content: a Keras ``model.to_json()`` document
    ({"class_name": ..., "config": {"layers": ...}}) is "keras"; anything else (a graph) None."""
    import json

    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if isinstance(doc, dict) and isinstance(doc.get("config"), dict) and "class_name" in doc \
            and "layers" in doc["config"] and "keras" in IMPORTERS:
        return "keras"
    return None


# Keras 3: .keras files; model.to_json() documents by content (sniff_json) or --from keras
IMPORTERS["keras"] = "keras_import:import_keras"
EXTENSIONS[".keras"] = "keras"

# Caffe: a prototxt (deploy or train_val), weights from a .caffemodel next to it or weights=
IMPORTERS["caffe"] = "caffe_import:import_caffe"
EXTENSIONS[".prototxt"] = "caffe"

# PyTorch: "module.path:Class" or "file.py:Class" (no suffix; --from pytorch), input_shape channels last
IMPORTERS["pytorch"] = "torch_import:import_torch"

# ONNX (opset 13+): constant shapes folded, Conv/BatchNorm/Gemm/LayerNorm patterns as vocabulary layers
IMPORTERS["onnx"] = "onnx_import:import_onnx"
EXTENSIONS[".onnx"] = "onnx"
