"""Percentiles: one definition for every percentile the product shows.

The simulation (time in state, time to close) and the management report (handling
time) both call ``percentile`` here, so the same numbers give the same p50 and p90.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from fractions import Fraction


def percentile(values: Iterable[float], q: float) -> float | None:
    """The ``q``-th percentile (``0 <= q <= 100``) by nearest rank; None when there are no values.

    Nearest rank: the smallest value such that at least q% of the values are at or below it.
    Sort the n values and take the one at 1-based rank ceil(q / 100 * n) (rank 0, for q = 0,
    means the smallest). The answer is always one of the values, never a blend of two, so a
    manager can find that case. Hand-checked: p90 of 1..10 is 9; p50 of [1, 2, 3, 4] is 2;
    p50 of [1, 2, 3] is 2; any percentile of a single value is that value.

    ``statistics.quantiles`` is not used: both its methods ('inclusive', 'exclusive')
    interpolate between neighbouring values, and both need at least two values.
    """
    if not 0 <= q <= 100:
        raise ValueError(f"percentile q must be between 0 and 100, got {q!r}")
    xs = sorted(values)
    if not xs:
        return None
    # q as written in decimal: with floats, 4.4 * 750 / 100 comes out just above 33 and would take rank 34
    rank = math.ceil(Fraction(str(q)) * len(xs) / 100)
    return xs[max(rank, 1) - 1]
