"""Caffe's real ``caffe.proto`` schema, loaded without Caffe.

The schema comes from the compiled ``caffe_upsample_pb2.py`` module shipped by
the PyPI package ``caffe2onnx`` (BSD-3).  That generated module was produced
by an old ``protoc`` and no longer imports on protobuf >= 4, so we never import
it: its source is parsed with :mod:`ast`, the serialized ``FileDescriptorProto``
bytes literal is extracted and registered in a private
:class:`~google.protobuf.descriptor_pool.DescriptorPool`, and message classes
are built from that pool with the protobuf message factory.

The schema is BVLC Caffe master's ``caffe.proto`` (it includes ``round_mode``
in ``PoolingParameter`` and the ``Clip``/``Swish`` parameters) plus a handful
of fork-only layer parameters (SSD's ``permute_param``/``prior_box_param``/...,
``upsample_param``, ``interp_param``, ``relu6_param``...).  Those are listed in
:data:`NON_BVLC_LAYER_PARAM_FIELDS`; :func:`non_bvlc_fields_used` reports
whether a net relies on any of them (BVLC Caffe would reject such a file).
BVLC Caffe 1.0 (the last release) lacks a few of master's fields and layer types too
(:data:`POST_1_0_FIELDS`, :data:`POST_1_0_LAYER_TYPES`); :func:`post_1_0_features` finds them.
"""
from __future__ import annotations

import ast
import functools
import importlib.util
import os
import re
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

from google.protobuf import descriptor_pb2, descriptor_pool, message, text_format

__all__ = [
    "CaffeSchemaError",
    "NetParameter",
    "LayerParameter",
    "NON_BVLC_LAYER_PARAM_FIELDS",
    "schema_pool",
    "file_descriptor",
    "message_class",
    "message_classes",
    "parse_prototxt",
    "to_prototxt",
    "param_name_dict",
    "layer_param_field_for_type",
    "has_field",
    "has_message",
    "non_bvlc_fields_used",
    "post_1_0_features",
    "POST_1_0_FIELDS",
    "POST_1_0_LAYER_TYPES",
    "schema_source",
]

#: Environment variable that may point at another compiled ``*_pb2.py`` holding
#: a Caffe schema (same extraction rules), overriding the caffe2onnx one.
SCHEMA_ENV_VAR = "DLPAPER2CODE_CAFFE_PB2"

_CAFFE2ONNX_REL = Path("proto") / "caffe_upsample_pb2.py"

#: ``LayerParameter`` fields present in this schema but absent from BVLC Caffe
#: master's caffe.proto (whose layer-specific fields are numbered 100..148).
NON_BVLC_LAYER_PARAM_FIELDS = frozenset(
    {
        "upsample_param",
        "interp_param",
        "shuffle_channel_param",
        "permute_param",
        "prior_box_param",
        "detection_output_param",
        "detection_evaluate_param",
        "norm_param",
        "axpy_param",
        "relu6_param",
    }
)

#: What BVLC Caffe master's caffe.proto has and the 1.0 release (tag ``1.0``, April 2017) has not:
#: ``(message, field)`` pairs from a diff of the two files, and the layer types added since (Swish,
#: March 2018; Clip, August 2018).  :func:`post_1_0_features` finds them in a net.
POST_1_0_FIELDS = frozenset(
    {
        ("PoolingParameter", "round_mode"),
        ("LayerParameter", "clip_param"),
        ("LayerParameter", "swish_param"),
        ("SolverParameter", "weights"),
    }
)
POST_1_0_LAYER_TYPES = frozenset({"Clip", "Swish"})

# Layer types whose parameter message is not named after the type.  In real
# pycaffe these are *not* handled by ``param_name_dict()`` (a plain keyword
# such as ``L.Deconvolution(x, num_output=8)`` fails there; scripts must pass
# ``convolution_param=dict(...)``), so they are only used by
# :func:`layer_param_field_for_type`.
_IRREGULAR_PARAM_FIELDS = {
    "Deconvolution": "convolution_param",
    "Im2col": "convolution_param",
    "LSTM": "recurrent_param",
    "RNN": "recurrent_param",
    "SoftmaxWithLoss": "softmax_param",
}


class CaffeSchemaError(ValueError):
    """A prototxt does not conform to Caffe's NetParameter schema (or the
    schema itself could not be loaded)."""


# --------------------------------------------------------------------------
# loading the schema
# --------------------------------------------------------------------------
def _locate_pb2() -> Path:
    override = os.environ.get(SCHEMA_ENV_VAR)
    if override:
        path = Path(override)
        if not path.is_file():
            raise CaffeSchemaError(f"{SCHEMA_ENV_VAR}={override!r} is not a file")
        return path
    # find_spec on a top-level name locates the package without executing it
    # (caffe2onnx's own __init__ would import onnx and its outdated pb2).
    spec = importlib.util.find_spec("caffe2onnx")
    if spec is None or not spec.submodule_search_locations:
        raise CaffeSchemaError(
            "the Caffe schema comes from the PyPI package 'caffe2onnx' "
            "(install it with `pip install --no-deps caffe2onnx`), which is not installed"
        )
    for loc in spec.submodule_search_locations:
        path = Path(loc) / _CAFFE2ONNX_REL
        if path.is_file():
            return path
    raise CaffeSchemaError(f"caffe2onnx is installed but {_CAFFE2ONNX_REL} was not found in it")


def _extract_serialized_pb(source: str, origin: str) -> bytes:
    """Return the FileDescriptorProto bytes literal of a generated ``_pb2`` module.

    Handles the old ``FileDescriptor(..., serialized_pb=b'...')`` form and the
    newer ``AddSerializedFile(b'...')`` form.
    """
    tree = ast.parse(source, filename=origin)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        for kw in node.keywords:
            if kw.arg == "serialized_pb":
                value = ast.literal_eval(kw.value)
                if isinstance(value, bytes):
                    return value
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        if name == "AddSerializedFile" and node.args:
            value = ast.literal_eval(node.args[0])
            if isinstance(value, bytes):
                return value
    raise CaffeSchemaError(f"no serialized file descriptor found in {origin}")


@functools.lru_cache(maxsize=None)
def _load() -> tuple[Any, Any, str]:
    path = _locate_pb2()
    blob = _extract_serialized_pb(path.read_text(encoding="utf-8"), str(path))
    fdp = descriptor_pb2.FileDescriptorProto.FromString(blob)
    if fdp.package != "caffe":
        raise CaffeSchemaError(f"{path}: expected proto package 'caffe', got {fdp.package!r}")
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fdp)
    fd = pool.FindFileByName(fdp.name)
    return pool, fd, str(path)


def schema_pool() -> descriptor_pool.DescriptorPool:
    """The private descriptor pool holding the Caffe schema."""
    return _load()[0]


def file_descriptor():
    """The ``FileDescriptor`` of the Caffe schema (package ``caffe``)."""
    return _load()[1]


def schema_source() -> str:
    """Path of the generated module the schema was read from."""
    return _load()[2]


def _get_message_class(desc):
    try:  # protobuf >= 4.21
        from google.protobuf.message_factory import GetMessageClass
    except ImportError:  # pragma: no cover - older protobuf
        from google.protobuf import message_factory

        return message_factory.MessageFactory(desc.file.pool).GetPrototype(desc)
    return GetMessageClass(desc)


@functools.lru_cache(maxsize=None)
def message_class(name: str):
    """Message class for ``name`` (``"PoolingParameter"`` or ``"caffe.PoolingParameter"``)."""
    full = name if name.startswith("caffe.") else f"caffe.{name}"
    try:
        desc = schema_pool().FindMessageTypeByName(full)
    except KeyError:
        raise KeyError(f"no message {name!r} in the Caffe schema") from None
    return _get_message_class(desc)


def message_classes() -> Mapping[str, Any]:
    """All top-level message classes of the schema, by short name, in file order."""
    fd = file_descriptor()
    return MappingProxyType({n: message_class(n) for n in fd.message_types_by_name})


# --------------------------------------------------------------------------
# text format
# --------------------------------------------------------------------------
_LOC_PREFIX = re.compile(r"^\s*\d+:\d+\s*:\s*")


def parse_prototxt(text: str, source: str = "<prototxt>"):
    """Parse Caffe prototxt ``text`` into a ``caffe.NetParameter``.

    Raises :class:`CaffeSchemaError` naming ``source``, the line and column,
    and what is wrong (unknown field, bad enum value, syntax error, ...).
    """
    net = NetParameter()
    try:
        text_format.Parse(text, net)
    except text_format.ParseError as exc:
        line, col = exc.GetLine(), exc.GetColumn()
        what = _LOC_PREFIX.sub("", str(exc))
        if line is not None:
            loc = f"{source}:{line}:{col}" if col is not None else f"{source}:{line}"
            lines = text.splitlines()
            raw = lines[line - 1] if 0 < line <= len(lines) else ""
            snippet = raw.strip()
            # protobuf sometimes prefixes the message with the quoted line
            what = what.removeprefix(f"{raw!r}: ").removeprefix(f"'{raw}': ")
            msg = f"{loc}: {what}"
            if snippet:
                msg += f" (line {line}: {snippet!r})"
        else:
            msg = f"{source}: {what}"
        raise CaffeSchemaError(msg) from exc
    return net


def to_prototxt(net) -> str:
    """Serialize a NetParameter (or any Caffe message) to prototxt text."""
    return text_format.MessageToString(net)


# --------------------------------------------------------------------------
# schema queries
# --------------------------------------------------------------------------
@functools.lru_cache(maxsize=None)
def _param_name_dict() -> Mapping[str, str]:
    # Same derivation as pycaffe's net_spec.param_name_dict(): every
    # LayerParameter field ending in '_param', keyed by its message type name
    # minus 'Parameter', mapped to the field name minus '_param'.
    desc = LayerParameter.DESCRIPTOR
    out: dict[str, str] = {}
    for f in desc.fields:
        if f.name.endswith("_param") and f.message_type is not None:
            type_name = f.message_type.name
            if type_name.endswith("Parameter"):
                type_name = type_name[: -len("Parameter")]
            out[type_name] = f.name[: -len("_param")]
    return MappingProxyType(out)


def param_name_dict() -> dict[str, str]:
    """Exactly what pycaffe's ``net_spec.param_name_dict()`` returns for this
    schema, e.g. ``{"Convolution": "convolution", "InnerProduct": "inner_product", ...}``."""
    return dict(_param_name_dict())


def layer_param_field_for_type(type_name: str) -> str | None:
    """Name of the ``LayerParameter`` field holding a layer type's parameters.

    ``"Convolution" -> "convolution_param"``, ``"LSTM" -> "recurrent_param"``,
    ``"Deconvolution" -> "convolution_param"``; ``None`` for types without a
    parameter message (``Split``, ``AbsVal``...) or unknown types.
    """
    if type_name in _IRREGULAR_PARAM_FIELDS:
        field = _IRREGULAR_PARAM_FIELDS[type_name]
        return field if has_field("LayerParameter", field) else None
    base = _param_name_dict().get(type_name)
    return None if base is None else base + "_param"


def has_message(message_name: str) -> bool:
    """Whether the schema defines message ``message_name`` (e.g. ``"SwishParameter"``)."""
    try:
        message_class(message_name)
    except KeyError:
        return False
    return True


def has_field(message_name: str, field_name: str) -> bool:
    """Whether message ``message_name`` has field ``field_name`` in this schema,
    e.g. ``has_field("PoolingParameter", "round_mode")``."""
    if not has_message(message_name):
        return False
    return field_name in message_class(message_name).DESCRIPTOR.fields_by_name


def non_bvlc_fields_used(net) -> list[str]:
    """``"layer_name.field"`` for every fork-only LayerParameter field set in ``net``."""
    out = []
    for layer in net.layer:
        for fdesc, _ in layer.ListFields():
            if fdesc.name in NON_BVLC_LAYER_PARAM_FIELDS:
                out.append(f"{layer.name}.{fdesc.name}")
    return out


def post_1_0_features(net) -> list[str]:
    """``"layer_name: what"`` for every field or layer type of ``net`` that BVLC Caffe 1.0 does not
    know (:data:`POST_1_0_FIELDS`, :data:`POST_1_0_LAYER_TYPES`): Caffe 1.0 refuses such a file."""
    out = []

    def walk(msg, where):
        for fdesc, value in msg.ListFields():
            if (msg.DESCRIPTOR.name, fdesc.name) in POST_1_0_FIELDS:
                out.append(f"{where}: {msg.DESCRIPTOR.name}.{fdesc.name}")
            if fdesc.message_type is not None:
                for item in ([value] if isinstance(value, message.Message) else value):
                    walk(item, where)

    for layer in net.layer:
        if layer.type in POST_1_0_LAYER_TYPES:
            out.append(f"{layer.name}: layer type {layer.type}")
        walk(layer, layer.name)
    return out


def __getattr__(name: str):
    # Lazy access to any message class, e.g. schema.PoolingParameter.
    if name[:1].isupper():
        try:
            return message_class(name)
        except KeyError:
            pass
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


NetParameter = message_class("NetParameter")
LayerParameter = message_class("LayerParameter")
