"""Warns the service's operators before a calendar's published holiday data runs out.

Deadlines in a year without published data are estimated (provisional); the operators must add the
year's official schedule before it starts. Checked at start and then once per service hour: the days
left go to the ``complaintflow_calendar_data_days_left`` gauge (the fewest of any loaded calendar) and,
under the horizon, to the log as a warning naming the calendar and what to do.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from ..calendar import BusinessCalendar, CalendarError, local_date
from .desk import Desk
from .metrics import Metrics

log = logging.getLogger("complaintflow.calendar")


@dataclass
class CalendarWatch:
    desk: Desk
    metrics: Metrics
    horizon_days: int = 45
    every_seconds: int = 3600
    _next_at: int = field(default=0, init=False)

    def days_left(self) -> dict[str, int]:
        """Days from today until each loaded china calendar's published data ends (0: none for this year)."""
        now = self.desk.now()
        out: dict[str, int] = {}
        for spec in self.desk.latest.values():
            today = local_date(now, spec.timezone)
            for cal in spec.calendars.values():
                if cal.statutory != "china":
                    continue
                try:
                    ends = BusinessCalendar.compile(cal, spec.timezone).published_until(today)
                except CalendarError:
                    continue
                out[f"{spec.id}/{cal.id}"] = 0 if ends is None else max(0, (ends - today).days)
        return out

    def check(self) -> dict[str, int]:
        now = self.desk.now()
        if now < self._next_at:
            return {}
        self._next_at = now + self.every_seconds
        left = self.days_left()
        if left:
            self.metrics.calendar_days_left.set(min(left.values()))
        for name, days in sorted(left.items()):
            if days < self.horizon_days:
                log.warning(
                    "calendar %s: published holiday data ends in %d day(s); deadlines after it are "
                    "estimated from the holiday law (provisional) until the official schedule is added "
                    "(schedules: in the process file, or the COMPLAINTFLOW_CALENDAR_DATA file)",
                    name,
                    days,
                )
        return left
