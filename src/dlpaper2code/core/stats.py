"""One definition of the summary statistics every benchmark prints.

``percentile(values, q)``: the q-th percentile (q in 0..100) with linear
interpolation between the closest ranks (numpy's default, "type 7"); NaN for no
values.  Every p50 / p95 / p99 in ``results/`` comes from here.
"""
from __future__ import annotations

import math
from typing import Iterable


def percentile(values: Iterable[float], q: float) -> float:
    v = sorted(float(x) for x in values)
    if not v:
        return float("nan")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile q must be within 0..100, got {q}")
    pos = (len(v) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return v[lo] + (v[hi] - v[lo]) * (pos - lo)


__all__ = ["percentile"]
