"""Holder directory of the pycaffe shim.

Put this directory first on ``sys.path`` (or ``PYTHONPATH``) to make
``import caffe`` resolve to :mod:`caffe` in here, a NetSpec-only stand-in for
BVLC pycaffe.  This ``__init__`` only exists so that packaging tools ship the
shim with ``dlpaper2code``; nothing here is imported as top-level ``caffe``
unless that directory is put on the path explicitly.
"""
from pathlib import Path

SHIM_DIR = Path(__file__).resolve().parent
