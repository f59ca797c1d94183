"""Random distributions for handling times and field values, drawn from one ``random.Random``.

A distribution is written in a scenario as a single-key mapping (or a bare
value meaning ``fixed``)::

    30m                                   # fixed
    {fixed: 30m}
    {uniform: [10m, 2h]}
    {lognormal: {median: 2h, p90: 8h}}
    {exponential: {mean: 1h}}

Time amounts carry a unit (``s``, ``m``, ``h``, ``d`` = 24 h); field numbers
are plain numbers. Parsing returns the distribution or an error message.
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass
from typing import Any, Literal, get_args

Z90 = 1.2815515655446004  # the standard normal's 90th percentile
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_AMOUNT = re.compile(r"^([0-9]+(?:\.[0-9]+)?)(s|m|h|d)$")
DistKind = Literal["fixed", "uniform", "lognormal", "exponential"]
KINDS: tuple[DistKind, ...] = get_args(DistKind)


@dataclass(frozen=True, slots=True)
class Dist:
    """One distribution; ``a``/``b`` are fixed/low/median/mean and high/p90, in seconds or plain numbers."""

    kind: DistKind
    a: float
    b: float = 0.0

    def sample(self, rng: random.Random) -> float:
        if self.kind == "fixed":
            return self.a
        if self.kind == "uniform":
            return rng.uniform(self.a, self.b)
        if self.kind == "exponential":
            return rng.expovariate(1.0 / self.a) if self.a > 0 else 0.0
        sigma = (math.log(self.b) - math.log(self.a)) / Z90
        return rng.lognormvariate(math.log(self.a), sigma)


def seconds(text: Any) -> float | None:
    """``"90m"`` -> 5400.0; None when the text is not an amount with a unit."""
    match = _AMOUNT.match(text) if isinstance(text, str) else None
    return float(match.group(1)) * _UNITS[match.group(2)] if match else None


def parse_dist(value: Any, time: bool) -> Dist | str:
    """A checked distribution, or a message saying what is wrong with ``value``."""

    def amount(v: Any) -> float | None:
        if time:
            return seconds(v)
        return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None

    unit = "an amount with a unit such as 30m, 2h or 1d" if time else "a number"
    if not isinstance(value, dict):
        a = amount(value)
        return Dist("fixed", a) if a is not None else f"expected {unit} or a distribution, got {value!r}"
    if len(value) != 1 or next(iter(value)) not in KINDS:
        return f"a distribution is one of {', '.join(KINDS)}, got keys {', '.join(map(str, value)) or 'none'}"
    kind, arg = next(iter(value.items()))
    if kind == "fixed":
        a = amount(arg)
        return Dist("fixed", a) if a is not None else f"fixed: expected {unit}, got {arg!r}"
    if kind == "uniform":
        pair = [amount(v) for v in arg] if isinstance(arg, list) and len(arg) == 2 else [None]
        if None in pair:
            return f"uniform: expected [low, high], each {unit}"
        lo, hi = pair[0] or 0.0, pair[1] or 0.0
        return Dist("uniform", lo, hi) if lo <= hi else "uniform: low is above high"
    if kind == "exponential":
        mean = amount(arg.get("mean")) if isinstance(arg, dict) else None
        return (
            Dist("exponential", mean)
            if mean is not None and mean > 0
            else f"exponential: expected {{mean: {unit}}} above 0"
        )
    median = amount(arg.get("median")) if isinstance(arg, dict) else None
    p90 = amount(arg.get("p90")) if isinstance(arg, dict) else None
    if median is None or p90 is None or median <= 0:
        return f"lognormal: expected {{median, p90}}, each {unit} above 0"
    if p90 <= median:
        return "lognormal: p90 must be above the median (90% of draws fall below p90)"
    return Dist("lognormal", median, p90)
