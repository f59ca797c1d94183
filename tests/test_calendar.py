"""Tests for complaintflow.calendar. Expected instants are worked out by hand from the
official 2025 schedule (National Day + Mid-Autumn 10-01..10-08, make-up workdays
Sun 09-28 and Sat 10-11; Spring Festival 01-28..02-04, make-up Sun 01-26, Sat 02-08)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from complaintflow.calendar import (
    BusinessCalendar,
    CalendarError,
    DueTime,
    format_local,
    parse_local,
    weekday_name,
)
from complaintflow.language.spec import Calendar, Duration, Repeat, UnpublishedYear

TZ = "Asia/Shanghai"
CST = timezone(timedelta(hours=8))
OFFICE_HOURS = ((9 * 60, 12 * 60), (13 * 60 + 30, 18 * 60))


def ts(y: int, mo: int, d: int, h: int = 0, mi: int = 0, tz: timezone = CST) -> int:
    """Epoch seconds of a wall time at a fixed offset (independent of the module)."""
    return int(datetime(y, mo, d, h, mi, tzinfo=tz).timestamp())


def cal(
    *,
    id: str = "office",
    weekdays: frozenset[int] = frozenset(range(5)),
    hours: tuple[tuple[int, int], ...] = ((9 * 60, 18 * 60),),
    statutory: str = "china",
    holidays: frozenset[str] = frozenset(),
    workdays: frozenset[str] = frozenset(),
    unpublished: UnpublishedYear = UnpublishedYear.WEEKLY,
    tz: str = TZ,
) -> BusinessCalendar:
    spec_cal = Calendar(
        id=id,
        title=None,
        weekdays=weekdays,
        hours=hours,
        statutory=statutory,
        holidays=holidays,
        workdays=workdays,
        unpublished_year=unpublished,
    )
    return BusinessCalendar.compile(spec_cal, tz)


# -- working days ----------------------------------------------------------------


def test_national_day_two_working_days() -> None:
    c = cal()
    assert c.add(ts(2025, 9, 30, 18), Duration(2, "wd")) == DueTime(ts(2025, 10, 10, 18), False)
    # the third one is the make-up Saturday
    assert c.add(ts(2025, 9, 30, 18), Duration(3, "wd")).at == ts(2025, 10, 11, 18)


def test_make_up_days_count_as_working_days() -> None:
    c = cal()
    assert c.is_working_day(date(2025, 10, 11))  # Saturday 调休
    assert c.is_working_day(date(2025, 9, 28))  # Sunday 调休
    assert not c.is_working_day(date(2025, 10, 6))  # Monday in the holiday
    assert not c.is_working_day(date(2025, 10, 12))  # ordinary Sunday
    # Friday 10:00 + 1wd is the make-up Sunday, not Monday
    assert c.add(ts(2025, 9, 26, 10), Duration(1, "wd")).at == ts(2025, 9, 28, 18)


def test_statutory_none_ignores_china() -> None:
    c = cal(statutory="none")
    assert c.is_working_day(date(2025, 10, 1))
    assert not c.is_working_day(date(2025, 10, 11))
    assert c.add(ts(2025, 9, 30, 18), Duration(2, "wd")).at == ts(2025, 10, 2, 18)


def test_company_days_override_statutory_and_pattern() -> None:
    c = cal(holidays=frozenset({"2025-10-09"}), workdays=frozenset({"2025-10-03", "2025-10-12"}))
    assert c.is_working_day(date(2025, 10, 3))  # statutory holiday, company works
    assert c.is_working_day(date(2025, 10, 12))  # Sunday, company works
    assert not c.is_working_day(date(2025, 10, 9))  # weekday, company closed
    # working days after 09-30: 10-03, 10-10, 10-11, 10-12
    assert c.add(ts(2025, 9, 30, 18), Duration(2, "wd")).at == ts(2025, 10, 10, 18)
    assert c.add(ts(2025, 9, 30, 18), Duration(4, "wd")).at == ts(2025, 10, 12, 18)


def test_wd_ends_at_close_of_last_span() -> None:
    c = cal(hours=OFFICE_HOURS)
    assert c.add(ts(2025, 9, 16, 3), Duration(1, "wd")).at == ts(2025, 9, 17, 18)


# -- wall-clock units --------------------------------------------------------------


def test_wall_clock_units() -> None:
    c = cal()
    t = ts(2025, 10, 1, 10)  # a holiday: wall-clock units do not care
    assert c.add(t, Duration(3, "m")) == DueTime(t + 180, False)
    assert c.add(t, Duration(24, "h")).at == t + 86400
    assert c.add(t, Duration(20, "d")).at == ts(2025, 10, 21, 10)


def test_calendar_days_keep_wall_time_across_dst() -> None:
    c = cal(id="berlin", statutory="none", tz="Europe/Berlin")
    cet, cest = timezone(timedelta(hours=1)), timezone(timedelta(hours=2))
    start = ts(2025, 3, 29, 12, tz=cet)
    assert c.add(start, Duration(1, "d")).at == ts(2025, 3, 30, 12, tz=cest)
    assert c.add(ts(2025, 3, 28, 12, tz=cet), Duration(1, "wd")).at == ts(2025, 3, 31, 18, tz=cest)


# -- working hours -----------------------------------------------------------------


def test_wh_across_weekend_and_lunch() -> None:
    c = cal(statutory="none", hours=OFFICE_HOURS)
    # Fri 16:00: 2h on Friday, 2h on Monday morning
    assert c.add(ts(2025, 9, 26, 16), Duration(4, "wh")).at == ts(2025, 9, 29, 11)
    # Mon 11:00 + 2h: 1h before lunch, 1h after 13:30
    assert c.add(ts(2025, 9, 29, 11), Duration(2, "wh")).at == ts(2025, 9, 29, 14, 30)
    # started during lunch: counting begins at 13:30
    assert c.add(ts(2025, 9, 29, 12, 30), Duration(1, "wh")).at == ts(2025, 9, 29, 14, 30)
    # exactly filling the day ends at close, not next morning
    assert c.add(ts(2025, 9, 29, 16), Duration(2, "wh")).at == ts(2025, 9, 29, 18)


def test_working_seconds_between() -> None:
    c = cal(statutory="none", hours=OFFICE_HOURS)
    assert c.working_seconds_between(ts(2025, 9, 26, 17), ts(2025, 9, 29, 9, 30)) == 5400
    assert c.working_seconds_between(ts(2025, 9, 29, 0), ts(2025, 9, 30, 0)) == 7.5 * 3600
    assert c.working_seconds_between(ts(2025, 9, 29, 12), ts(2025, 9, 29, 13, 30)) == 0
    assert c.working_seconds_between(ts(2025, 9, 30), ts(2025, 9, 29)) == 0


# -- by / end of day ---------------------------------------------------------------


def test_by_time() -> None:
    c = cal(hours=OFFICE_HOURS)
    five = 17 * 60
    assert c.by_time(ts(2025, 9, 16, 10), five).at == ts(2025, 9, 16, 17)
    assert c.by_time(ts(2025, 9, 16, 17), five).at == ts(2025, 9, 17, 17)  # strictly after
    assert c.by_time(ts(2025, 9, 16, 17, 30), five).at == ts(2025, 9, 17, 17)
    assert c.by_time(ts(2025, 9, 19, 19), five).at == ts(2025, 9, 22, 17)  # Friday evening
    assert c.by_time(ts(2025, 9, 20, 8), five).at == ts(2025, 9, 22, 17)  # Saturday morning


def test_end_of_day() -> None:
    c = cal(hours=OFFICE_HOURS)
    assert c.end_of_day(ts(2025, 9, 16, 7)).at == ts(2025, 9, 16, 18)
    assert c.end_of_day(ts(2025, 9, 16, 10)).at == ts(2025, 9, 16, 18)
    assert c.end_of_day(ts(2025, 9, 16, 18)).at == ts(2025, 9, 17, 18)
    assert c.end_of_day(ts(2025, 9, 20, 10)).at == ts(2025, 9, 22, 18)
    assert c.end_of_day(ts(2025, 10, 1, 10)).at == ts(2025, 10, 9, 18)


# -- repeats -----------------------------------------------------------------------


def test_monthly_rolls_to_next_working_day() -> None:
    c = cal()
    rep = Repeat(kind="monthly", day=5, at=9 * 60, text="monthly 5 09:00")
    assert c.next_occurrence(ts(2025, 9, 10, 10), rep).at == ts(2025, 10, 9, 9)  # 10-05 holiday
    assert c.next_occurrence(ts(2025, 10, 6, 12), rep).at == ts(2025, 10, 9, 9)  # rolled, ahead
    assert c.next_occurrence(ts(2025, 10, 9, 9), rep).at == ts(2025, 11, 5, 9)
    assert c.next_occurrence(ts(2024, 12, 20), rep).at == ts(2025, 1, 6, 9)  # 01-05 is a Sunday


def test_monthly_short_month_and_roll_past_after() -> None:
    c = cal()
    rep = Repeat(kind="monthly", day=31, at=9 * 60, text="monthly 31 09:00")
    # 01-31 falls in Spring Festival and rolls to 02-05, which is after 02-01
    assert c.next_occurrence(ts(2025, 2, 1), rep).at == ts(2025, 2, 5, 9)
    assert c.next_occurrence(ts(2025, 2, 5, 9), rep).at == ts(2025, 2, 28, 9)  # clamped


def test_weekly() -> None:
    c = cal()
    rep = Repeat(kind="weekly", weekday=0, at=9 * 60, text="weekly mon 09:00")
    assert c.next_occurrence(ts(2025, 9, 23, 10), rep).at == ts(2025, 9, 29, 9)
    assert c.next_occurrence(ts(2025, 9, 29, 9), rep).at == ts(2025, 10, 9, 9)  # 10-06 holiday
    assert c.next_occurrence(ts(2025, 10, 7), rep).at == ts(2025, 10, 9, 9)


def test_daily_and_interval() -> None:
    c = cal()
    daily = Repeat(kind="daily", at=17 * 60, text="daily 17:00")
    assert c.next_occurrence(ts(2025, 9, 30, 17), daily).at == ts(2025, 10, 9, 17)
    every30 = Repeat(kind="interval", interval=Duration(30, "m"), text="30m")
    half_past = DueTime(ts(2025, 10, 1, 10, 30), False)
    assert c.next_occurrence(ts(2025, 10, 1, 10), every30) == half_past
    every_wd = Repeat(kind="interval", interval=Duration(1, "wd"), text="1wd")
    assert c.next_occurrence(ts(2025, 9, 30, 10), every_wd).at == ts(2025, 10, 9, 18)


# -- unpublished years ---------------------------------------------------------------


def test_refuse_policy_raises_for_2031() -> None:
    c = cal(unpublished=UnpublishedYear.REFUSE, holidays=frozenset({"2031-01-07"}))
    with pytest.raises(CalendarError, match="2031.*refuses unpublished years"):
        c.is_working_day(date(2031, 1, 6))
    with pytest.raises(CalendarError, match="2031"):
        c.add(ts(2031, 1, 6, 10), Duration(1, "wd"))
    with pytest.raises(CalendarError, match="2027"):  # the 1st working day after 2026-12-31
        c.add(ts(2026, 12, 31, 10), Duration(1, "wd"))
    assert not c.is_working_day(date(2031, 1, 7))  # a company closure needs no schedule
    assert c.add(ts(2025, 9, 30, 18), Duration(2, "wd")) == DueTime(ts(2025, 10, 10, 18), False)


def test_weekly_policy_marks_provisional() -> None:
    c = cal()
    assert c.add(ts(2031, 3, 3, 10), Duration(1, "wd")) == DueTime(ts(2031, 3, 4, 18), True)
    assert c.add(ts(2025, 3, 3, 10), Duration(1, "wd")) == DueTime(ts(2025, 3, 4, 18), False)
    assert c.add(ts(2026, 12, 30, 10), Duration(1, "wd")) == DueTime(ts(2026, 12, 31, 18), False)
    assert c.add(ts(2026, 12, 30, 10), Duration(2, "wd")) == DueTime(ts(2027, 1, 1, 18), True)
    assert c.by_time(ts(2031, 3, 3, 10), 17 * 60) == DueTime(ts(2031, 3, 3, 17), True)


def test_statutory_none_is_never_provisional() -> None:
    c = cal(statutory="none")
    assert c.add(ts(2031, 3, 3, 10), Duration(1, "wd")) == DueTime(ts(2031, 3, 4, 18), False)


# -- guards ------------------------------------------------------------------------


def test_no_working_time_raises() -> None:
    with pytest.raises(CalendarError, match="calendar 'x' has no working time"):
        cal(id="x", weekdays=frozenset())
    with pytest.raises(CalendarError, match="no working time"):
        cal(id="y", hours=())


def test_search_is_capped() -> None:
    c = cal(id="once", weekdays=frozenset(), statutory="none", workdays=frozenset({"2025-10-11"}))
    assert c.add(ts(2025, 10, 10), Duration(1, "wd")).at == ts(2025, 10, 11, 18)
    with pytest.raises(CalendarError, match="no working day within"):
        c.add(ts(2025, 10, 11, 10), Duration(1, "wd"))
    with pytest.raises(CalendarError, match="no working time within"):
        c.add(ts(2025, 10, 11, 18), Duration(1, "wh"))


def test_bad_inputs() -> None:
    with pytest.raises(CalendarError, match="timezone"):
        cal(id="tz", tz="Mars/Olympus")
    with pytest.raises(CalendarError, match="overlapping"):
        cal(id="ov", hours=((540, 720), (700, 800)))
    with pytest.raises(CalendarError, match="unit"):
        cal().add(0, Duration(1, "y"))


def test_compile_is_cached() -> None:
    assert cal() is cal()


# -- pauses --------------------------------------------------------------------------


def test_shift_for_pause() -> None:
    c = cal(statutory="none", hours=OFFICE_HOURS)
    due = ts(2025, 9, 29, 11)
    paused = (ts(2025, 9, 26, 17), ts(2025, 9, 29, 9, 30))  # 1h Friday + 0.5h Monday working
    assert c.shift_for_pause(due, "m", *paused).at == due + paused[1] - paused[0]
    assert c.shift_for_pause(due, "wh", *paused).at == ts(2025, 9, 29, 14)  # over lunch
    assert c.shift_for_pause(due, "wd", *paused).at == ts(2025, 9, 29, 14)
    assert c.shift_for_pause(due, "wh", ts(2025, 9, 27), ts(2025, 9, 28)).at == due  # weekend
    assert c.shift_for_pause(due, "h", paused[1], paused[0]).at == due


# -- local text --------------------------------------------------------------------------


def test_parse_and_format_local() -> None:
    expected = ts(2025, 9, 30, 18)
    assert parse_local("2025-09-30 18:00", TZ) == expected
    assert parse_local("2025-09-30T18:00:00+08:00", TZ) == expected
    assert parse_local("2025-09-30T10:00:00Z", TZ) == expected
    assert parse_local("2025-09-30 18:00", "UTC") == expected + 8 * 3600
    assert format_local(expected, TZ) == "2025-09-30 18:00"
    assert format_local(expected + 5, TZ) == "2025-09-30 18:00:05"
    assert parse_local(format_local(expected + 5, TZ), TZ) == expected + 5


@pytest.mark.parametrize("text", ["", "tomorrow", "2025-02-30 10:00", "2025-09-30 25:00", "2025-09-30"])
def test_parse_local_rejects_bad_text(text: str) -> None:
    with pytest.raises(ValueError, match="cannot read"):
        parse_local(text, TZ)


def test_weekday_name() -> None:
    assert [weekday_name(i) for i in range(7)] == ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    with pytest.raises(ValueError):
        weekday_name(7)


# -- properties --------------------------------------------------------------------------

SPAN = st.integers(ts(2025, 1, 1), ts(2026, 12, 1))


@settings(max_examples=300, deadline=None)
@given(t=SPAN, days=st.integers(0, 20), into=st.integers(1, 7 * 3600 + 1800))
def test_adding_the_working_time_between_lands_back(t: int, days: int, into: int) -> None:
    c = cal(hours=OFFICE_HOURS)
    day = datetime.fromtimestamp(t, CST).date() + timedelta(days=days)
    assume(c.is_working_day(day))
    # u is `into` working seconds after 09:00 on that day: inside a span or at its close
    morning = int(datetime(day.year, day.month, day.day, 9, tzinfo=CST).timestamp())
    u = morning + into if into <= 3 * 3600 else morning + into + 5400
    assume(u >= t)
    assert c.add_working_seconds(t, c.working_seconds_between(t, u)).at == u


@settings(max_examples=300, deadline=None)
@given(t=SPAN, seconds=st.integers(0, 40 * 3600))
def test_working_seconds_round_trip(t: int, seconds: int) -> None:
    c = cal(hours=OFFICE_HOURS)
    due = c.add_working_seconds(t, seconds)
    assert due.at >= t
    assert c.working_seconds_between(t, due.at) == seconds


@settings(max_examples=300, deadline=None)
@given(t=SPAN, n=st.integers(1, 30))
def test_wd_lands_on_close_of_a_working_day(t: int, n: int) -> None:
    c = cal(hours=OFFICE_HOURS)
    due = c.add(t, Duration(n, "wd"))
    local = datetime.fromtimestamp(due.at, CST)
    assert (local.hour, local.minute, local.second) == (18, 0, 0)
    assert c.is_working_day(local.date())
    assert local.date() > datetime.fromtimestamp(t, CST).date()
    assert c.add(t, Duration(n + 1, "wd")).at > due.at
    assert due.provisional == (local.year > 2026)  # chinese_calendar has data up to 2026
