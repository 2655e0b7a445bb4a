"""Stand-in for pycaffe's generated ``caffe/proto/caffe_pb2.py``.

Exposes every top-level message class of Caffe's ``caffe.proto`` (e.g.
``NetParameter``, ``LayerParameter``, ``PoolingParameter`` with its enum
values such as ``PoolingParameter.MAX``), the top-level ``Phase`` enum and its
values ``TRAIN``/``TEST``, and ``DESCRIPTOR``, all built from
``dlpaper2code.emit.caffe.schema``.
"""
from google.protobuf.internal.enum_type_wrapper import EnumTypeWrapper

from .._backend import schema as _schema

DESCRIPTOR = _schema.file_descriptor()

for _name in DESCRIPTOR.message_types_by_name:
    globals()[_name] = _schema.message_class(_name)

for _name, _enum in DESCRIPTOR.enum_types_by_name.items():
    globals()[_name] = EnumTypeWrapper(_enum)
    for _value in _enum.values:
        globals()[_value.name] = _value.number

del _name, _enum, _value
