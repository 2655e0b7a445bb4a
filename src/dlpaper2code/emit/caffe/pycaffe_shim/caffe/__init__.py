"""A NetSpec-only pycaffe shim, backed by Caffe's real protobuf schema.

Importable as ``caffe`` only when ``.../dlpaper2code/caffe/pycaffe_shim`` is
put on ``sys.path``.  It provides what generated pyCaffe scripts use to *build*
nets: ``caffe.NetSpec``, ``caffe.layers``, ``caffe.params``,
``caffe.to_proto``, ``caffe.proto.caffe_pb2`` and ``caffe.TRAIN``/``TEST``.
There is no Caffe runtime: ``caffe.Net`` and the solvers raise
``NotImplementedError``; ``set_mode_cpu``/``set_mode_gpu``/``set_device`` are
no-ops.

``caffe.L``/``caffe.P`` are aliases of ``layers``/``params`` for convenience;
real pycaffe does NOT export them (scripts meant for real Caffe should do
``from caffe import layers as L, params as P``).
"""
from . import net_spec
from .net_spec import NetSpec, layers, params, to_proto
from .proto import caffe_pb2
from .proto.caffe_pb2 import TEST, TRAIN

L = layers
P = params

__version__ = "shim"
IS_SHIM = True


class _NoRuntime:
    def __init__(self, *args, **kwargs):
        raise NotImplementedError(
            f"caffe.{type(self).__name__}: this is the dlpaper2code pycaffe shim (net specification "
            "only); there is no Caffe runtime"
        )


class Net(_NoRuntime):
    pass


class SGDSolver(_NoRuntime):
    pass


class AdamSolver(_NoRuntime):
    pass


def get_solver(*args, **kwargs):
    raise NotImplementedError("caffe.get_solver: the pycaffe shim has no Caffe runtime")


def set_mode_cpu():
    pass


def set_mode_gpu():
    pass


def set_device(device_id):
    pass


__all__ = [
    "NetSpec", "layers", "params", "to_proto", "L", "P", "caffe_pb2", "net_spec",
    "TRAIN", "TEST", "Net", "SGDSolver", "AdamSolver", "get_solver",
    "set_mode_cpu", "set_mode_gpu", "set_device",
]
