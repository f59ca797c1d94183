"""When complaints arrive: a Poisson stream whose rate changes by hour of day and weekday, plus bursts."""

from __future__ import annotations

import random
from datetime import date

from ..calendar import format_local, parse_local
from .scenario import Scenario

HORIZON = 5 * 366 * 86400  # give up looking for arrivals after five years of simulated time


def arrival_times(scenario: Scenario, timezone: str, cases: int, rng: random.Random) -> tuple[list[int], list[str]]:
    """The first ``cases`` arrival instants (epoch seconds, sorted) and any warnings."""
    start = parse_local(scenario.start, timezone)
    warnings: list[str] = []
    extra: list[int] = []
    for burst in scenario.bursts:
        at = parse_local(burst.at, timezone)
        if at < start:
            warnings.append(f"burst at {burst.at} is before the start ({scenario.start}); it is left out")
            continue
        extra += [at + int(rng.uniform(0, burst.over)) for _ in range(burst.extra)]
    regular: list[int] = []
    slot = start
    while len(regular) < cases and slot < start + HORIZON and any(scenario.hourly):
        local = format_local(slot, timezone)  # "YYYY-MM-DD HH:MM" or with ":SS"
        hour, minute = int(local[11:13]), int(local[14:16])
        sec = int(local[17:19]) if len(local) > 16 else 0
        end = slot + 3600 - minute * 60 - sec  # the next full local hour
        rate = scenario.hourly[hour] * scenario.weekdays[date.fromisoformat(local[:10]).weekday()]
        t = float(slot)
        while rate > 0:
            t += rng.expovariate(rate) * 3600
            if t >= end:
                break
            regular.append(int(t))
        slot = end
    out = sorted(regular + extra)[:cases]
    if len(out) < cases:
        warnings.append(f"only {len(out)} of {cases} cases arrived: the arrival rates are too low")
    return out, warnings
