"""One percentile definition (nearest rank) for the simulation and the management report."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import complaintflow.report.build as report_build
import complaintflow.simulate.run as simulate_run
import complaintflow.simulate.stats as simulate_stats
from complaintflow.report.build import build_report
from complaintflow.report.period import parse_period
from complaintflow.simulate import load_scenario
from complaintflow.stats import percentile

MALL = Path(__file__).resolve().parent.parent / "processes" / "shopping_mall.yaml"
ONE_TO_TEN = [float(x) for x in range(1, 11)]


# -- the definition, on hand-checked examples --------------------------------------------------
def test_p90_of_one_to_ten_is_nine():
    # rank ceil(0.9 * 10) = 9; interpolating methods give 9.1 ('inclusive') or 9.9 ('exclusive')
    assert percentile(ONE_TO_TEN, 90) == 9


def test_p50_of_an_even_length_list_is_the_lower_middle_value():
    # rank ceil(0.5 * 4) = 2: two of the four values (50%) are <= 2; interpolation would say 2.5
    assert percentile([4, 1, 3, 2], 50) == 2
    assert percentile(ONE_TO_TEN, 50) == 5


def test_p50_of_an_odd_length_list_is_the_median():
    assert percentile([3, 1, 2], 50) == 2  # rank ceil(1.5) = 2; input order does not matter


def test_the_rank_rounds_up():
    assert percentile(ONE_TO_TEN, 10) == 1  # rank 1 exactly
    assert percentile(ONE_TO_TEN, 11) == 2  # rank ceil(1.1) = 2: only 10% of values are <= 1
    assert percentile([10, 20, 30], 90) == 30  # rank ceil(2.7) = 3


def test_the_ends_are_the_smallest_and_largest_values():
    assert percentile(ONE_TO_TEN, 0) == 1
    assert percentile(ONE_TO_TEN, 100) == 10


@pytest.mark.parametrize("q", [0, 1, 50, 90, 100])
def test_a_single_value_is_every_percentile(q):
    assert percentile([7.5], q) == 7.5


def test_no_values_give_none():
    assert percentile([], 90) is None
    assert percentile(iter(()), 50) is None


@pytest.mark.parametrize("q", [-1, 100.5, 101])
def test_q_outside_0_to_100_is_refused(q):
    with pytest.raises(ValueError, match="between 0 and 100"):
        percentile(ONE_TO_TEN, q)
    with pytest.raises(ValueError, match="between 0 and 100"):
        percentile([], q)


def test_a_decimal_q_is_taken_as_written():
    # 4.4% of 750 is exactly rank 33; in floats 4.4 * 750 / 100 lands just above 33 (rank 34)
    assert percentile(range(1, 751), 4.4) == 33


@given(st.lists(st.integers(-1000, 1000), min_size=1, max_size=60), st.integers(0, 100))
def test_it_is_the_smallest_observed_value_with_at_least_q_percent_at_or_below(values, q):
    got = percentile(values, q)
    assert got in values
    assert 100 * sum(v <= got for v in values) >= q * len(values)
    smaller = [v for v in values if v < got]
    assert not smaller or 100 * sum(v <= max(smaller) for v in values) < q * len(values)


# -- one function for both products ------------------------------------------------------------
def test_simulation_and_report_call_the_same_function():
    assert simulate_stats.percentile is percentile
    assert report_build.percentile is percentile


def test_simulation_and_report_give_the_same_p90_for_the_same_cases(monkeypatch):
    """Run a simulation, then build the management report over the very cases it produced."""
    kept = {}
    collect = simulate_run.collect

    def keep_engine(engine, *args, **kwargs):
        kept["engine"] = engine
        return collect(engine, *args, **kwargs)

    monkeypatch.setattr(simulate_run, "collect", keep_engine)
    result = simulate_run.simulate(MALL, load_scenario(None), 40, seed=5)
    tz = result.period["timezone"]
    period = parse_period(f"{result.period['first_arrival'][:10]}..{result.period['end'][:10]}", tz)
    report = build_report(kept["engine"], period, now=period.end)

    overall = report.handling[-1]
    assert overall.process == "(all)" and overall.closed == result.outcome["closed"] > 10
    assert overall.still_open == result.outcome["open"]
    hours = sorted((c.closed_at - c.opened_at) / 3600 for c in kept["engine"].cases() if c.closed_at is not None)
    expected = round(hours[math.ceil(0.9 * len(hours)) - 1], 2)  # nearest rank, by hand
    assert result.outcome["close_p90_h"] == overall.p90_hours == expected
