"""Where the shim gets Caffe's protobuf schema from: ``dlpaper2code.emit.caffe.schema``."""
from __future__ import annotations

import sys
from pathlib import Path

try:
    from dlpaper2code.emit.caffe import schema
except ModuleNotFoundError as exc:  # dlpaper2code not installed: use the source tree we live in
    if not (exc.name or "").startswith("dlpaper2code"):
        raise
    _src = Path(__file__).resolve().parents[5]  # caffe/ -> pycaffe_shim/ -> caffe/ -> emit/ -> dlpaper2code/ -> src/
    if not (_src / "dlpaper2code" / "caffe" / "schema.py").is_file():
        raise
    sys.path.append(str(_src))  # appended: never shadows anything already importable
    from dlpaper2code.emit.caffe import schema

__all__ = ["schema"]
