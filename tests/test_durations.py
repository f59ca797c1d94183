"""The time words of the language on their own: durations, clock times, working spans and schedules."""

from __future__ import annotations

import re
from typing import get_args

import pytest
from hypothesis import given
from hypothesis import strategies as st

from complaintflow.language.durations import (
    UNITS,
    WEEKDAYS,
    approx_minutes,
    parse_clock,
    parse_duration,
    parse_repeat,
    parse_span,
)
from complaintflow.language.spec import Duration, DurationUnit, Repeat


def test_the_units_are_the_declared_set() -> None:
    assert tuple(UNITS) == get_args(DurationUnit)


@pytest.mark.parametrize(
    ("text", "amount", "unit"), [("3m", 3, "m"), ("24h", 24, "h"), (" 2wd ", 2, "wd"), ("4wh", 4, "wh")]
)
def test_durations_parse(text: str, amount: int, unit: str) -> None:
    assert parse_duration(text) == Duration(amount, unit)  # type: ignore[arg-type]


# The wording is the process owner's to improve; what stays is that a refusal names what was written.
@pytest.mark.parametrize("value", [3, "3", "1.5h", "3 min", "3min", "2天", "0m", "-5m"])
def test_bad_durations_are_refused_naming_the_text(value: object) -> None:
    with pytest.raises(ValueError, match=re.escape(repr(value))):
        parse_duration(value)


@given(st.integers(1, 10**6), st.sampled_from(get_args(DurationUnit)))
def test_a_duration_reads_back_from_its_text(amount: int, unit: DurationUnit) -> None:
    d = Duration(amount, unit)
    assert parse_duration(str(d)) == d


@given(st.integers(1, 1000), st.integers(1, 1000), st.sampled_from(get_args(DurationUnit)))
def test_approx_minutes_orders_amounts_of_one_unit(a: int, b: int, unit: DurationUnit) -> None:
    assert (approx_minutes(Duration(a, unit)) < approx_minutes(Duration(b, unit))) is (a < b)


def test_approx_minutes_puts_a_working_week_at_a_calendar_week() -> None:
    week = approx_minutes(Duration(7, "d"))
    assert approx_minutes(Duration(5, "wd")) == week and approx_minutes(Duration(40, "wh")) == pytest.approx(week)


@given(st.integers(0, 23), st.integers(0, 59))
def test_clock_times_are_minutes_after_midnight(hour: int, minute: int) -> None:
    assert parse_clock(f"{hour:02d}:{minute:02d}") == hour * 60 + minute


@pytest.mark.parametrize("value", [1700, "1700", "24:00", "9:60", "noon"])
def test_bad_clock_times_are_refused_naming_the_text(value: object) -> None:
    with pytest.raises(ValueError, match=re.escape(repr(value))):
        parse_clock(value)


def test_spans() -> None:
    assert parse_span("09:00-12:00") == (540, 720)
    assert parse_span("13:30 - 24:00") == (810, 1440)
    for bad in ("09:00", "12:00-09:00", "09:00-09:00", 9, "09:00-10:00-11:00"):
        with pytest.raises(ValueError, match="bad working span|bad clock time"):
            parse_span(bad)


def test_schedules() -> None:
    assert parse_repeat("30m") == Repeat("interval", interval=Duration(30, "m"), text="30m")
    assert parse_repeat("daily 17:00") == Repeat("daily", at=1020, text="daily 17:00")
    assert parse_repeat("weekly fri 09:00") == Repeat("weekly", weekday=4, at=540, text="weekly fri 09:00")
    assert parse_repeat("monthly 31 09:00").day == 31
    assert [parse_repeat(f"weekly {d} 09:00").weekday for d in WEEKDAYS] == list(range(7))


@pytest.mark.parametrize(
    ("value", "named"),
    [
        (30, "30"),
        ("", "''"),
        ("quarterly", "'quarterly'"),
        ("hourly 17:00", "'hourly 17:00'"),
        ("weekly friday 09:00", "'friday'"),
        ("monthly 32 09:00", "'32'"),
        ("monthly last 09:00", "'last'"),
        ("daily 5pm", "'5pm'"),
    ],
)
def test_bad_schedules_are_refused_naming_the_culprit(value: object, named: str) -> None:
    with pytest.raises(ValueError, match=re.escape(named)):
        parse_repeat(value)
