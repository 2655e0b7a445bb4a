"""The layer vocabulary, loaded from ``config/layers.yaml`` (its one source).

It resolves the many names a layer goes by (``Convolution2D``, ``conv``,
``Pooling2D`` with ``function: MAX``) to a canonical type, and normalises a
layer's parameters: aliases renamed, values coerced to their kind, defaults
filled, ranges checked. Problems come back as :class:`GraphIssue` values that
name the layer.
"""
from __future__ import annotations

import difflib
import functools
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from . import paths
from .errors import GraphIssue
from .expr import evaluate

_PADDING_WORDS = ("valid", "same")


def _key(name: str) -> str:
    """Normalise a name for lookup: case, spaces, dashes and underscores ignored."""
    return re.sub(r"[\s_\-]+", "", str(name)).lower()


def _non_finite(value: Any) -> bool:
    """True when a parameter value holds NaN or an infinity (no target language can spell them
    as a literal the same way; the emitted code would fail or differ)."""
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, (list, tuple)):
        return any(_non_finite(v) for v in value)
    if isinstance(value, dict):
        return any(_non_finite(v) for v in value.values())
    return False


def _param_key(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", str(name).strip()).lower()


@dataclass
class ParamSpec:
    name: str
    kind: str
    default: Any = None
    required: bool = False
    min: float | None = None
    max: float | None = None
    choices: list | None = None
    aliases: list[str] = field(default_factory=list)
    components: list[list[str]] | None = None
    default_from: str | None = None
    zero_means: str | None = None
    words: dict | None = None          # other words for values (Caffe's round_mode CEIL/FLOOR for ceil_mode)

    def to_dict(self) -> dict:
        out = {"kind": self.kind}
        for key in ("default", "min", "max", "choices", "default_from"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.required:
            out["required"] = True
        return out


@dataclass
class WeightSpec:
    name: str
    shape: str
    init: str
    when: str | None = None


@dataclass
class LayerSpec:
    name: str
    description: str
    params: dict[str, ParamSpec]
    synonyms: list[str]
    patterns: list[re.Pattern]
    weights: list[WeightSpec]
    constraints: list[dict]
    arity: tuple[int, int]
    alias_map: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "description": self.description,
            "params": {k: v.to_dict() for k, v in self.params.items()},
            "synonyms": self.synonyms,
            "arity": list(self.arity),
        }


class Vocabulary:
    def __init__(self, data: dict, source: str = "<vocabulary>"):
        self.source = source
        self.activations: list[str] = list(data["activations"])
        self.common = {k: ParamSpec(k, **v) for k, v in data.get("common_params", {}).items()}
        self.layers: dict[str, LayerSpec] = {}
        for name, spec in data["layers"].items():
            params = {}
            alias_map = {}
            for pname, pspec in (spec.get("params") or {}).items():
                ps = ParamSpec(pname, **pspec)
                params[pname] = ps
                alias_map[_param_key(pname)] = pname
                for alias in ps.aliases:
                    alias_map[_param_key(alias)] = pname
            weights = [WeightSpec(w, **ws) for w, ws in (spec.get("weights") or {}).items()]
            self.layers[name] = LayerSpec(
                name=name,
                description=spec.get("description", ""),
                params=params,
                synonyms=[s.lower() for s in spec.get("synonyms", [])],
                patterns=[re.compile(p, re.IGNORECASE) for p in spec.get("patterns", [])],
                weights=weights,
                constraints=spec.get("constraints", []),
                arity=tuple(spec.get("arity", [1, 1])),
                alias_map=alias_map,
            )
        self.type_aliases: dict[str, dict] = {_key(k): v for k, v in data.get("type_aliases", {}).items()}
        self._by_key = {_key(n): n for n in self.layers}
        self._synonyms: dict[str, str] = {}
        for name, spec in self.layers.items():
            for syn in spec.synonyms:
                self._synonyms.setdefault(" ".join(syn.split()), name)

    # -- type names -----------------------------------------------------
    def resolve_type(self, raw: str, params: dict | None = None) -> tuple[str, dict] | None:
        """Canonical type for ``raw`` plus parameters implied by the name.

        Returns None when the name is unknown.
        """
        params = params or {}
        key = _key(raw)
        if key in self._by_key:
            return self._by_key[key], {}
        alias = self.type_aliases.get(key)
        if alias is not None:
            if "dispatch" in alias:
                value = params.get(alias["dispatch"])
                choice = alias["choices"].get(str(value).upper()) if value is not None else None
                if choice is None:
                    return None
                return choice, {"__drop__": alias["dispatch"]}
            return alias["type"], dict(alias.get("params", {}))
        syn = self._synonyms.get(" ".join(str(raw).lower().split()))
        if syn is not None:
            implied = {}
            if syn == "Activation" and _key(raw) in self.activations:
                implied["function"] = _key(raw)
            return syn, implied
        return None

    def match_pattern(self, text: str) -> tuple[str, dict] | None:
        """Match texts such as ``conv3-64`` or ``FC-4096`` to a type and parameters."""
        cleaned = " ".join(str(text).strip().split())
        for name, spec in self.layers.items():
            for pattern in spec.patterns:
                m = pattern.match(cleaned)
                if m:
                    return name, {k: int(v) for k, v in m.groupdict().items() if v is not None}
        return None

    def suggest_type(self, raw: str) -> str | None:
        names = list(self.layers) + [k for k in self.type_aliases]
        hits = difflib.get_close_matches(str(raw), names, n=1, cutoff=0.6)
        return hits[0] if hits else None

    # -- parameters -----------------------------------------------------
    def normalize_params(self, ltype: str, raw: dict, node: str | None) -> tuple[dict, list[GraphIssue]]:
        spec = self.layers[ltype]
        issues: list[GraphIssue] = []
        out: dict[str, Any] = {}
        pending_components: dict[str, dict[int, Any]] = {}
        component_map = {}
        for pname, ps in spec.params.items():
            for idx, names in enumerate(ps.components or []):
                for cname in names:
                    component_map[_param_key(cname)] = (pname, idx)

        failed: set[str] = set()         # given but refused: reported once, not again as missing
        for rkey, value in (raw or {}).items():
            key = _param_key(rkey)
            if key in spec.alias_map:
                pname = spec.alias_map[key]
                if pname in out:
                    issues.append(GraphIssue("bad_param", f"parameter '{pname}' given twice (as '{rkey}')", node))
                    continue
                ps = spec.params[pname]
                if value is None and not ps.required and ps.default is None and ps.default_from is None:
                    out[pname] = None          # an optional parameter left unset (e.g. max_length: the input's)
                    continue
                ok, coerced, why = self._coerce(ps, value)
                if ok and _non_finite(coerced):
                    ok, why = False, "not a finite number (NaN and infinity are refused)"
                if ok:
                    out[pname] = coerced
                else:
                    failed.add(pname)
                    issues.append(GraphIssue("bad_param", f"parameter '{pname}' = {value!r}: {why}", node))
            elif key in component_map:
                if _non_finite(value):
                    failed.add(component_map[key][0])
                    issues.append(GraphIssue("bad_param", f"parameter '{rkey}' = {value!r}: not a finite number "
                                             "(NaN and infinity are refused)", node))
                    continue
                pname, idx = component_map[key]
                pending_components.setdefault(pname, {})[idx] = value
            elif key in self.common:
                ok, coerced, why = self._coerce(self.common[key], value)
                if ok and _non_finite(coerced):
                    ok, why = False, "not a finite number (NaN and infinity are refused)"
                if ok:
                    out[key] = coerced
                else:
                    issues.append(GraphIssue("bad_param", f"parameter '{key}' = {value!r}: {why}", node))
            else:
                hint = difflib.get_close_matches(key, list(spec.alias_map), n=1, cutoff=0.7)
                extra = f" (did you mean '{spec.alias_map[hint[0]]}'?)" if hint else ""
                allowed = ", ".join(spec.params) or "none"
                issues.append(GraphIssue(
                    "unknown_param", f"{ltype} has no parameter '{rkey}'{extra}; its parameters: {allowed}", node))

        for pname, parts in pending_components.items():
            if pname in out:
                continue
            if set(parts) != {0, 1}:
                failed.add(pname)
                issues.append(GraphIssue("bad_param", f"parameter '{pname}' needs both its row and column values", node))
                continue
            ok, coerced, why = self._coerce(spec.params[pname], [parts[0], parts[1]])
            if ok and _non_finite(coerced):
                ok, why = False, "not a finite number (NaN and infinity are refused)"
            if ok:
                out[pname] = coerced
            else:
                failed.add(pname)
                issues.append(GraphIssue("bad_param", f"parameter '{pname}' = {[parts[0], parts[1]]}: {why}", node))

        for pname, ps in spec.params.items():
            if pname in out or pname in failed:
                continue
            if ps.required:
                issues.append(GraphIssue("missing_param", f"{ltype} needs parameter '{pname}'", node))
            elif ps.default_from:
                if ps.default_from in out:
                    out[pname] = list(out[ps.default_from]) if isinstance(out[ps.default_from], list) else out[ps.default_from]
            else:
                out[pname] = list(ps.default) if isinstance(ps.default, list) else ps.default
        for cname, cs in self.common.items():
            out.setdefault(cname, cs.default)

        if not issues:
            for constraint in spec.constraints:
                if not evaluate(constraint["test"], p=out):
                    issues.append(GraphIssue("bad_param", constraint["message"], node))
        # keep the canonical order of the vocabulary
        order = list(spec.params) + list(self.common)
        return {k: out[k] for k in order if k in out}, issues

    def _coerce(self, ps: ParamSpec, value: Any) -> tuple[bool, Any, str]:
        kind = ps.kind
        try:
            if kind == "int":
                v = _as_int(value)
            elif kind == "float":
                if isinstance(value, bool):
                    raise ValueError("expected a number")
                v = float(value)
            elif kind == "bool":
                if isinstance(value, bool):
                    v = value
                elif ps.words and str(value).strip().upper() in {str(k).upper() for k in ps.words}:
                    v = bool({str(k).upper(): w for k, w in ps.words.items()}[str(value).strip().upper()])
                elif str(value).lower() in ("true", "yes", "1"):
                    v = True
                elif str(value).lower() in ("false", "no", "0"):
                    v = False
                else:
                    raise ValueError("expected true or false")
            elif kind == "str":
                v = str(value)
                if ps.zero_means is not None and _is_zero(value):
                    v = ps.zero_means
                if ps.choices:
                    lowered = {str(c).lower(): c for c in ps.choices}
                    if v.lower() not in lowered:
                        raise ValueError(f"expected one of {ps.choices}")
                    v = lowered[v.lower()]
                return True, v, ""
            elif kind == "activation":
                v = "linear" if value in (None, "", "none", "None", "identity") else str(value).lower()
                v = {"silu": "swish", "leakyrelu": "leaky_relu", "soft-max": "softmax", "hswish": "hard_swish",
                     "h-swish": "hard_swish", "hard-swish": "hard_swish", "hardswish": "hard_swish",
                     "hsigmoid": "hard_sigmoid", "h-sigmoid": "hard_sigmoid", "hardsigmoid": "hard_sigmoid",
                     "hard_silu": "hard_swish"}.get(v, v)
                if v not in self.activations:
                    raise ValueError(f"expected one of {self.activations}")
                return True, v, ""
            elif kind == "int_pair":
                v = _as_pair(value)
            elif kind == "int_quad":
                if isinstance(value, (list, tuple)) and len(value) == 4:
                    v = [_as_int(x) for x in value]
                else:
                    a, b = _as_pair(value)
                    v = [a, a, b, b]
            elif kind in ("padding", "padding1d"):
                if isinstance(value, str) and value.strip().lower() in _PADDING_WORDS:
                    return True, value.strip().lower(), ""
                v = _as_int(value) if kind == "padding1d" else _as_pair(value)
                if (v == 0) or (v == [0, 0]):
                    return True, "valid", ""
            elif kind == "shape":
                if not isinstance(value, (list, tuple)) or not value:
                    raise ValueError("expected a non-empty list of positive ints")
                v = [_as_int(x) for x in value]
                if any(x < 1 for x in v):
                    raise ValueError("dimensions must be positive")
                return True, v, ""
            else:  # pragma: no cover - vocabulary error
                raise ValueError(f"unknown parameter kind {kind!r}")
        except (TypeError, ValueError) as exc:
            return False, None, str(exc) or "bad value"
        values = v if isinstance(v, list) else [v]
        for x in values:
            if ps.min is not None and x < ps.min:
                return False, None, f"must be >= {ps.min}"
            if ps.max is not None and x > ps.max:
                return False, None, f"must be <= {ps.max}"
        if ps.choices and kind != "str" and v not in ps.choices:
            return False, None, f"expected one of {ps.choices}"
        return True, v, ""

    def to_dict(self) -> dict:
        return {"activations": self.activations, "layers": {k: v.to_dict() for k, v in self.layers.items()}}


def _is_zero(value: Any) -> bool:
    try:
        return _as_int(value) == 0
    except (TypeError, ValueError):
        return False


def _as_int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("expected an integer, got a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        return int(value)
    raise ValueError("expected an integer")


def _as_pair(value: Any) -> list[int]:
    if isinstance(value, (list, tuple)):
        if len(value) != 2:
            raise ValueError("expected an int or [rows, cols]")
        return [_as_int(value[0]), _as_int(value[1])]
    if isinstance(value, str):
        m = re.fullmatch(r"\s*(\d+)\s*[x×*,]\s*(\d+)\s*", value)
        if m:
            return [int(m.group(1)), int(m.group(2))]
    v = _as_int(value)
    return [v, v]


@functools.lru_cache(maxsize=4)
def _load(path: str) -> Vocabulary:
    with open(path, encoding="utf-8") as fh:
        return Vocabulary(yaml.safe_load(fh), source=path)


def load_vocabulary(path: str | Path | None = None) -> Vocabulary:
    return _load(str(path or paths.config_file("layers.yaml")))
