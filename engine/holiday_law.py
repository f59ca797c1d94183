"""China's statutory public holidays as the law fixes them, for years with no published schedule.

《全国年节及纪念日放假办法》 as amended in 2024 names the days: 元旦 1 January; 春节 four days from
除夕 (the last day of the twelfth lunar month); 清明 on the solar term's day; 劳动节 1-2 May; 端午 the
fifth day of the fifth lunar month; 中秋 the fifteenth day of the eighth lunar month; 国庆 1-3 October.
The State Council's yearly notice adds 调休 swaps that no rule predicts, so an estimate holds the
statutory days only. This is the only module that imports lunar_python.
"""

from __future__ import annotations

from datetime import date, timedelta
from importlib import metadata

from lunar_python import Lunar, LunarYear, Solar

LAW = "《全国年节及纪念日放假办法》(2024)"


def _solar(lunar: Lunar) -> date:
    s = lunar.getSolar()
    return date(s.getYear(), s.getMonth(), s.getDay())


def _eve_of_spring_festival(year: int) -> date:
    """除夕 that falls in ``year``: the last day of the previous lunar year's twelfth month."""
    previous = LunarYear.fromYear(year - 1)
    month = previous.getMonth(-12) or previous.getMonth(12)  # a leap twelfth month ends the year when present
    return _solar(Lunar.fromYmd(year - 1, month.getMonth(), month.getDayCount()))


def _qingming(year: int) -> date:
    term = Solar.fromYmd(year, 4, 1).getLunar().getJieQiTable()["清明"]
    return date(term.getYear(), term.getMonth(), term.getDay())


def statutory_days(year: int) -> dict[date, str]:
    """Every statutory holiday day of ``year`` with its festival's name."""
    eve = _eve_of_spring_festival(year)
    days: dict[date, str] = {date(year, 1, 1): "元旦"}
    days.update({eve + timedelta(days=i): "春节" for i in range(4)})
    days[_qingming(year)] = "清明节"
    days.update({date(year, 5, d): "劳动节" for d in (1, 2)})
    days[_solar(Lunar.fromYmd(year, 5, 5))] = "端午节"
    days[_solar(Lunar.fromYmd(year, 8, 15))] = "中秋节"
    days.update({date(year, 10, d): "国庆节" for d in (1, 2, 3)})
    return days


def library_version() -> str:
    try:
        return metadata.version("lunar-python")
    except metadata.PackageNotFoundError:
        return "unknown"
