"""Small Jinja2 expressions used by the YAML data (constraints, weight shapes, templates).

Expressions are compiled once and cached: code generation runs on every edit
in the web editor, so it must stay fast.
"""
from __future__ import annotations

import functools
import math
from typing import Any

import jinja2
import jinja2.sandbox

ENV = jinja2.sandbox.ImmutableSandboxedEnvironment(
    undefined=jinja2.StrictUndefined, keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)
ENV.globals.update(max=max, min=min, abs=abs, len=len, int=int, math=math, range=range, sum=sum)


@functools.lru_cache(maxsize=4096)
def _compiled(source: str):
    return ENV.compile_expression(source, undefined_to_none=False)


def evaluate(source: str | int | float | bool | None, **context: Any) -> Any:
    """Evaluate a Jinja expression; plain numbers and booleans pass through."""
    if not isinstance(source, str):
        return source
    return _compiled(source)(**context)
