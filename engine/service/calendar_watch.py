"""Warns the service's operators before a calendar's published holiday data runs out.

Deadlines in a year without published data are estimated (provisional); the operators must add the
year's official schedule before it starts. Checked at start and then once per service hour: the days
left go to the ``complaintflow_calendar_data_days_left`` gauge (the fewest of any loaded calendar) and,
under the horizon, to the log as a warning naming the calendar and what to do, and as a notice to the
admins on the channels that carry the admin role: one notice at each of 45, 30, 14, 7 and 1 days left
(its id names the day the data ends and the step, so a restart or a second service sends nothing twice).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from ..calendar import BusinessCalendar, CalendarError, local_date
from ..store.directory import DEFAULT_TENANT
from .desk import Desk
from .metrics import Metrics
from .notify.message import Notification, Recipient

log = logging.getLogger("complaintflow.calendar")
NOTICE_STEPS = (45, 30, 14, 7, 1)  # days left at which the admins are told again


@dataclass
class CalendarWatch:
    desk: Desk
    metrics: Metrics
    horizon_days: int = 45
    every_seconds: int = 3600
    announce: Callable[[Notification], object] | None = None  # the notifier's announce, when channels exist
    _next_at: int = field(default=0, init=False)

    def days_left(self) -> dict[str, int]:
        """Days from today until each loaded china calendar's published data ends (0: none for this year)."""
        return {name: days for name, (days, _ends) in self._data_ends().items()}

    def _data_ends(self) -> dict[str, tuple[int, str]]:
        now = self.desk.now()
        out: dict[str, tuple[int, str]] = {}
        for spec in self.desk.every_latest():
            today = local_date(now, spec.timezone)
            for cal in spec.calendars.values():
                if cal.statutory != "china":
                    continue
                try:
                    ends = BusinessCalendar.compile(cal, spec.timezone).published_until(today)
                except CalendarError:
                    continue
                last = ends or today
                out[f"{spec.id}/{cal.id}"] = (max(0, (last - today).days), last.isoformat())
        return out

    def check(self) -> dict[str, int]:
        now = self.desk.now()
        if now < self._next_at:
            return {}
        self._next_at = now + self.every_seconds
        ends = self._data_ends()
        left = {name: days for name, (days, _last) in ends.items()}
        if left:
            self.metrics.calendar_days_left.set(min(left.values()))
        ending = {name: (days, last) for name, (days, last) in ends.items() if days < self.horizon_days}
        for name, (days, _last) in sorted(ending.items()):
            log.warning(
                "calendar %s: published holiday data ends in %d day(s); deadlines after it are "
                "estimated from the holiday law (provisional) until the official schedule is added "
                "(schedules: in the process file, or the COMPLAINTFLOW_CALENDAR_DATA file)",
                name,
                days,
            )
        if ending:
            self._tell_admins(ending)
        return left

    def _tell_admins(self, ending: dict[str, tuple[int, str]]) -> None:
        """One notice for all calendars whose data ends the soonest (they share the installed data)."""
        days, last = min(ending.values())
        steps = [step for step in NOTICE_STEPS if days <= step <= self.horizon_days]
        if self.announce is None or not steps:
            return
        names = sorted(name for name, (_d, ends) in ending.items() if ends == last)
        # The installed calendar data is the operator's, whose admins are the default tenant's.
        people = self.desk.directory.users(DEFAULT_TENANT)
        admins = tuple(Recipient(u.id, u.name, dict(u.contacts)) for u in people if u.admin)
        self.announce(calendar_notice(names, days, last, min(steps), admins, self.desk.now()))


def calendar_notice(
    names: list[str], days: int, ends: str, step: int, admins: tuple[Recipient, ...], at: int
) -> Notification:
    """The admins' notice that the published holiday data of some calendars ends soon, in Chinese and English."""
    listed = "、".join(names[:5]) + (f" 等 {len(names)} 个" if len(names) > 5 else "")
    listed_en = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    what_zh = "请在流程文件的 schedules: 或 COMPLAINTFLOW_CALENDAR_DATA 文件中加入官方放假安排。"
    what_en = "Add the official schedule (schedules: in the process file, or the COMPLAINTFLOW_CALENDAR_DATA file)."
    return Notification(
        delivery_id=f"notice:calendar-data:{ends}:{step}d",
        case_id="",
        process_id="",
        kind="calendar_data_ending",
        title_zh=f"日历数据还剩 {days} 天",
        title_en=f"Calendar data ends in {days} day(s)",
        text_zh=f"日历 {listed} 的法定节假日数据还剩 {days} 天（至 {ends}）；"
        f"之后的期限按放假办法估算（暂定）。{what_zh}",
        text_en=f"Calendars {listed_en} have published holiday data for {days} more day(s) (until {ends}); "
        f"deadlines after it are estimated from the holiday law (provisional). {what_en}",
        link=None,
        recipients=admins,
        at=at,
        facts={"calendars": ", ".join(names), "days_left": str(days), "data_ends": ends},
    )
