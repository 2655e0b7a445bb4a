"""pycaffe's NetSpec API (``caffe.net_spec``), re-implemented for the shim.

Behaviour follows BVLC pycaffe's ``python/caffe/net_spec.py`` (master):

* ``layers.<Type>(*bottoms, **kwargs)`` makes a layer of type ``<Type>``;
  ``ntop`` (default 1) sets its number of tops (``ntop=1`` returns a Top,
  more returns a tuple of Tops, 0 returns the layer itself) and
  ``in_place=True`` makes its tops equal to its bottoms.
* A keyword ending in ``param`` is assigned to the ``LayerParameter`` field of
  that name; any other keyword goes into the layer's own ``<type>_param``
  message (found with :func:`param_name_dict`, i.e. only for types whose
  parameter message is named after them -- so, as in real pycaffe,
  ``L.Deconvolution(x, num_output=8)`` or ``L.LSTM(x, c, num_output=8)``
  fail and need ``convolution_param=dict(...)`` / ``recurrent_param=dict(...)``);
  if that fails the keyword is assigned to ``LayerParameter`` itself
  (``name``, ``loss_weight``, ``param``, ``include``, ...).
* Values: a list fills a repeated field (a list of dicts adds sub-messages),
  a scalar given for a repeated field becomes a one-element list, a dict
  fills a sub-message, anything else is assigned.
* Layer and top names come from the NetSpec attribute names (a layer is named
  after its first top); unnamed tops get ``<Type><k>`` automatic names.
* ``to_proto()`` emits layers in dependency order: each assigned top in
  assignment order, preceded by whatever it needs that is not emitted yet.
"""
from __future__ import annotations

from collections import Counter, OrderedDict

from ._backend import schema as _schema
from .proto import caffe_pb2

__all__ = ["param_name_dict", "to_proto", "assign_proto", "Top", "Function", "NetSpec",
           "Layers", "Parameters", "layers", "params"]


def param_name_dict() -> dict[str, str]:
    """Layer type name -> parameter field stem, derived from ``LayerParameter``'s
    ``*_param`` fields and their message type names (like pycaffe)."""
    return _schema.param_name_dict()


def to_proto(*tops) -> "caffe_pb2.NetParameter":
    """A NetParameter with every layer needed to compute ``tops`` (automatic names)."""
    layers: OrderedDict = OrderedDict()
    autonames: Counter = Counter()
    for top in tops:
        top.fn._to_proto(layers, {}, autonames)
    net = caffe_pb2.NetParameter()
    net.layer.extend(layers.values())
    return net


def assign_proto(proto, name: str, val) -> None:
    """Assign a Python value to field ``name`` of message ``proto`` (recursively)."""
    if name not in proto.DESCRIPTOR.fields_by_name:
        raise AttributeError(f'no field "{name}" in protocol message {proto.DESCRIPTOR.full_name}')
    field = getattr(proto, name)
    is_repeated = hasattr(field, "extend")
    if is_repeated and not isinstance(val, list):
        val = [val]
    if isinstance(val, list):
        if isinstance(val[0], dict):
            for item in val:
                sub = field.add()
                for key, value in item.items():
                    assign_proto(sub, key, value)
        else:
            field.extend(val)
    elif isinstance(val, dict):
        for key, value in val.items():
            assign_proto(field, key, value)
    else:
        setattr(proto, name, val)


class Top:
    """One output blob of a layer (the ``n``-th top of ``fn``)."""

    def __init__(self, fn: "Function", n: int):
        self.fn = fn
        self.n = n

    def to_proto(self):
        """A NetParameter with every layer needed to compute this top."""
        return to_proto(self)

    def _update(self, params):
        self.fn._update(params)

    def _to_proto(self, layers, names, autonames):
        return self.fn._to_proto(layers, names, autonames)


class Function:
    """A layer: its type, bottoms (Tops), and keyword parameters."""

    def __init__(self, type_name: str, inputs, params: dict):
        self.type_name = type_name
        for index, inp in enumerate(inputs):
            if not isinstance(inp, Top):
                raise TypeError(f"{type_name} input {index} is not a Top (type is {type(inp)})")
        self.inputs = inputs
        self.params = params
        self.ntop = self.params.pop("ntop", 1)
        self.in_place = self.params.pop("in_place", False)
        self.tops = tuple(Top(self, n) for n in range(self.ntop))

    def _get_name(self, names, autonames):
        if self not in names and self.ntop > 0:
            names[self] = self._get_top_name(self.tops[0], names, autonames)
        elif self not in names:
            autonames[self.type_name] += 1
            names[self] = self.type_name + str(autonames[self.type_name])
        return names[self]

    def _get_top_name(self, top, names, autonames):
        if top not in names:
            autonames[top.fn.type_name] += 1
            names[top] = top.fn.type_name + str(autonames[top.fn.type_name])
        return names[top]

    def _update(self, params):
        self.params.update(params)

    def _to_proto(self, layers, names, autonames):
        if self in layers:
            return
        bottom_names = []
        for inp in self.inputs:
            inp._to_proto(layers, names, autonames)
            bottom_names.append(layers[inp.fn].top[inp.n])
        layer = caffe_pb2.LayerParameter()
        layer.type = self.type_name
        layer.bottom.extend(bottom_names)
        if self.in_place:
            layer.top.extend(layer.bottom)
        else:
            for top in self.tops:
                layer.top.append(self._get_top_name(top, names, autonames))
        layer.name = self._get_name(names, autonames)

        for key, value in self.params.items():
            if key.endswith("param"):  # generic *_param / param (ParamSpec) keywords
                assign_proto(layer, key, value)
            else:
                # pycaffe: try the type's own *_param message, else LayerParameter.
                stem = _param_names.get(self.type_name)
                own = getattr(layer, stem + "_param") if stem else None
                if own is not None and key in own.DESCRIPTOR.fields_by_name:
                    assign_proto(own, key, value)
                elif key in layer.DESCRIPTOR.fields_by_name:
                    assign_proto(layer, key, value)
                else:
                    raise AttributeError(self._unknown_keyword(key))
        layers[self] = layer

    def _unknown_keyword(self, key: str) -> str:
        stem = _param_names.get(self.type_name)
        where = f"{stem}_param" if stem else f"a parameter message for type {self.type_name!r}"
        msg = (f"{self.type_name} layer: keyword {key!r} is not a field of {where} nor of "
               "LayerParameter (pycaffe would fail here too)")
        field = _schema.layer_param_field_for_type(self.type_name)
        if stem is None and field is not None:
            msg += f"; pass it as {field}=dict({key}=...)"
        return msg


class _MissingTop(KeyError, AttributeError):
    """Unknown NetSpec attribute (a KeyError as in pycaffe, and an AttributeError
    so that ``hasattr``/``copy`` behave)."""


class NetSpec:
    """Named tops; ``to_proto()`` emits all layers needed for them, named after
    the attributes they were assigned to."""

    def __init__(self):
        super().__setattr__("tops", OrderedDict())

    def __setattr__(self, name, value):
        self.tops[name] = value

    def __getattr__(self, name):
        if name == "tops":  # not initialised (e.g. during unpickling)
            raise AttributeError(name)
        try:
            return self.tops[name]
        except KeyError:
            raise _MissingTop(name) from None

    def __setitem__(self, key, value):
        self.__setattr__(key, value)

    def __getitem__(self, item):
        return self.__getattr__(item)

    def __delitem__(self, name):
        del self.tops[name]

    def keys(self):
        return list(self.tops.keys())

    def vals(self):
        return list(self.tops.values())

    def update(self, name, params):
        self.tops[name]._update(params)

    def to_proto(self):
        names = {v: k for k, v in self.tops.items()}
        autonames: Counter = Counter()
        layers: OrderedDict = OrderedDict()
        for _name, top in self.tops.items():
            top._to_proto(layers, names, autonames)
        net = caffe_pb2.NetParameter()
        net.layer.extend(layers.values())
        return net


class Layers:
    """``layers.<Type>(...)`` builds a layer of type ``<Type>``."""

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)

        def layer_fn(*args, **kwargs):
            fn = Function(name, args, kwargs)
            if fn.ntop == 0:
                return fn
            if fn.ntop == 1:
                return fn.tops[0]
            return fn.tops

        layer_fn.__name__ = name
        return layer_fn


class Parameters:
    """``params.<Type>.<CONST>`` is ``caffe_pb2.<Type>Parameter.<CONST>``
    (e.g. ``params.Pooling.MAX``)."""

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)

        class Param:
            def __getattr__(self, param_name):
                return getattr(getattr(caffe_pb2, name + "Parameter"), param_name)

        return Param()


_param_names = param_name_dict()
layers = Layers()
params = Parameters()
