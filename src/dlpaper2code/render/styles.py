"""Style knobs: declaration and look defaults (config/styles.yaml), validation,
and per-image resolution of `{choice: [...]}` / `{range: [lo, hi]}` values."""
from __future__ import annotations

import functools
import math
import numbers
import random
from typing import Any

import yaml
from PIL import ImageColor

from ..core import paths
from .fonts import FONT_NAME


@functools.lru_cache(maxsize=1)
def load_styles() -> dict:
    """config/styles.yaml: {"knobs": {...}, "type_colors": {...}, "looks": {look: defaults}}."""
    data = yaml.safe_load(paths.config_file("styles.yaml").read_text(encoding="utf-8"))
    knobs, looks = data["knobs"], data["looks"]
    for look, defaults in looks.items():
        missing = set(knobs) - set(defaults)
        if missing:
            raise ValueError(f"config/styles.yaml: look {look} has no default for {sorted(missing)}")
        for knob, value in defaults.items():
            _check(knob, value, knobs)
    return data


def looks() -> tuple[str, ...]:
    return tuple(load_styles()["looks"])


def _hex(value: str) -> str:
    r, g, b = ImageColor.getrgb(value)[:3]
    return f"#{r:02x}{g:02x}{b:02x}"


def _check(knob: str, value: Any, specs: dict) -> Any:
    """The canonical form of a concrete knob value, or ValueError naming the knob."""
    if knob not in specs:
        raise ValueError(f"unknown style knob '{knob}'; known knobs: {', '.join(specs)}")
    spec = specs[knob]
    kind = spec["kind"]

    def bad(why: str):
        return ValueError(f"style knob '{knob}': {why} (got {value!r})")

    if kind == "enum":
        if value not in spec["values"]:
            raise bad(f"must be one of {spec['values']}")
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise bad("must be true or false")
        return value
    if kind in ("int", "number"):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
            raise bad("must be a number")
        if kind == "int":
            if int(value) != value:
                raise bad("must be an integer")
            value = int(value)
        else:
            value = float(value)
        if not spec["min"] <= value <= spec["max"]:
            raise bad(f"must lie in [{spec['min']}, {spec['max']}]")
        return value
    if kind == "font":
        if not isinstance(value, str) or not FONT_NAME.match(value):
            raise bad("must be a font family name (letters, digits, spaces, - _ .)")
        return value
    if kind in ("color", "fill"):
        if kind == "fill" and value in ("none", "by_type"):
            return value
        if not isinstance(value, str):
            raise bad("must be a colour name or #rrggbb")
        try:
            return _hex(value)
        except ValueError:
            raise bad("unknown colour" + (" (or none, by_type)" if kind == "fill" else "")) from None
    raise ValueError(f"config/styles.yaml: knob '{knob}' has unknown kind {kind!r}")


def _uniform(rng) -> float:
    if isinstance(rng, numbers.Integral):
        rng = random.Random(int(rng))
    return float(rng.random())


def _check_spec(knob: str, value: Any, specs: dict) -> None:
    """Validate a knob's value as written in a style: scalar, choice or range."""
    if isinstance(value, dict):
        if set(value) == {"choice"}:
            options = value["choice"]
            if not isinstance(options, list) or not options:
                raise ValueError(f"style knob '{knob}': choice needs a non-empty list (got {options!r})")
            for opt in options:
                _check(knob, opt, specs)
            return
        if set(value) == {"range"}:
            lo_hi = value["range"]
            if (not isinstance(lo_hi, list) or len(lo_hi) != 2
                    or any(isinstance(v, bool) or not isinstance(v, numbers.Real) for v in lo_hi)
                    or lo_hi[0] > lo_hi[1]):
                raise ValueError(f"style knob '{knob}': range needs [lo, hi] with lo <= hi (got {lo_hi!r})")
            if specs.get(knob, {}).get("kind") not in ("int", "number"):
                _check(knob, lo_hi[0], specs)    # unknown knob -> its own message
                raise ValueError(f"style knob '{knob}': a range needs a numeric knob")
            for v in lo_hi:
                _check(knob, v, specs)
            if specs[knob]["kind"] == "int" and not all(isinstance(v, numbers.Integral) for v in lo_hi):
                raise ValueError(f"style knob '{knob}': an integer knob needs an integer range (got {lo_hi!r})")
            return
        raise ValueError(f"style knob '{knob}': a dict value must be {{choice: [...]}} or {{range: [lo, hi]}} (got {value!r})")
    _check(knob, value, specs)


def _pick(knob: str, value: Any, rng) -> Any:
    if isinstance(value, dict) and "choice" in value:
        options = value["choice"]
        return options[min(int(_uniform(rng) * len(options)), len(options) - 1)]
    if isinstance(value, dict) and "range" in value:
        lo, hi = value["range"]
        if isinstance(lo, numbers.Integral) and isinstance(hi, numbers.Integral) and not isinstance(lo, bool):
            return int(lo) + min(int(_uniform(rng) * (int(hi) - int(lo) + 1)), int(hi) - int(lo))
        return round(float(lo) + _uniform(rng) * (float(hi) - float(lo)), 4)
    return value


def validate_knobs(knobs: dict) -> None:
    """Raise ValueError naming the first unknown knob or bad value (without resolving)."""
    if not isinstance(knobs, dict):
        raise ValueError(f"style knobs must be a mapping, got {type(knobs).__name__}")
    specs = load_styles()["knobs"]
    for knob, value in knobs.items():
        _check_spec(knob, value, specs)


def resolve_style(knobs: dict, rng) -> dict:
    """Concrete knobs for one image: the look picked first, its defaults filled in,
    then every knob in declaration order (rng: random.Random, numpy Generator or int seed)."""
    validate_knobs(knobs)
    styles = load_styles()
    specs = styles["knobs"]
    if isinstance(rng, numbers.Integral):
        rng = random.Random(int(rng))
    look = _pick("look", knobs.get("look", "keras3"), rng)
    merged = {**styles["looks"][look], **knobs, "look": look}
    out = {}
    for knob in specs:
        out[knob] = _check(knob, _pick(knob, merged[knob], rng), specs)
    if out["splines"] == "line":
        out["concentrate"] = False          # Graphviz 2.43 draws some such edges backwards (styles.yaml)
    if not (out["show_layer_names"] or out["show_types"]):
        raise ValueError("style knobs 'show_layer_names' and 'show_types': at least one must be true")
    return out
