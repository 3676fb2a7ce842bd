"""Scalar functions over datetimes and timespans: calendar parts, arithmetic, formats, time zones.

Registered into ``functions.FUNCTIONS`` on import (``functions`` imports this module).
A result outside 0001-01-01..9999-12-31 is null, never an exception (see ``bounds``).
"""

from __future__ import annotations

import calendar
import math
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dac.kql import values as V
from dac.kql.bounds import checked_long, shift, timespan_from_seconds
from dac.kql.errors import KqlRuntimeError
from dac.kql.functions import scalar

_EPOCH_UNIX = datetime(1970, 1, 1)


def _plus(value: datetime, **units: float) -> datetime | None:
    """``value`` plus a timespan given in units (days=, weeks=...); null when out of range."""
    try:
        return value + timedelta(**units)
    except OverflowError:
        return None


def _offset(offset: Any) -> int:
    return V.to_long(offset) or 0


@scalar("startofday", returns="datetime", args=(1, 2))
def _startofday(value: Any, offset: Any = 0) -> Any:
    if value is None:
        return None
    return _plus(datetime(value.year, value.month, value.day), days=_offset(offset))


@scalar("endofday", returns="datetime", args=(1, 2))
def _endofday(value: Any, offset: Any = 0) -> Any:
    start = _startofday(value, offset)
    return None if start is None else start.replace(hour=23, minute=59, second=59, microsecond=999999)


@scalar("startofweek", returns="datetime", args=(1, 2))
def _startofweek(value: Any, offset: Any = 0) -> Any:
    """The Sunday the week starts on (0001-01-01 is a Monday: its week starts out of range)."""
    if value is None:
        return None
    day = datetime(value.year, value.month, value.day)
    return _plus(day, days=-((day.weekday() + 1) % 7) + 7 * _offset(offset))


def _add_months(value: datetime, months: int) -> datetime | None:
    """Calendar months; the day is clamped to the target month's length (Jan 31 + 1 month = Feb 28)."""
    month_index = value.year * 12 + value.month - 1 + months
    year, month = month_index // 12, month_index % 12 + 1
    if not 1 <= year <= 9999:
        return None
    return value.replace(year=year, month=month, day=min(value.day, calendar.monthrange(year, month)[1]))


@scalar("endofweek", returns="datetime", args=(1, 2))
def _endofweek(value: Any, offset: Any = 0) -> Any:
    start = _startofweek(value, offset)
    return None if start is None else _plus(start, days=7, microseconds=-1)


@scalar("startofmonth", returns="datetime", args=(1, 2))
def _startofmonth(value: Any, offset: Any = 0) -> Any:
    if value is None:
        return None
    return _add_months(datetime(value.year, value.month, 1), _offset(offset))


@scalar("endofmonth", returns="datetime", args=(1, 2))
def _endofmonth(value: Any, offset: Any = 0) -> Any:
    start = _startofmonth(value, offset)
    if start is None:
        return None
    last = calendar.monthrange(start.year, start.month)[1]
    return start.replace(day=last, hour=23, minute=59, second=59, microsecond=999999)


@scalar("startofyear", returns="datetime", args=(1, 2))
def _startofyear(value: Any, offset: Any = 0) -> Any:
    if value is None:
        return None
    year = value.year + _offset(offset)
    return datetime(year, 1, 1) if 1 <= year <= 9999 else None


@scalar("endofyear", returns="datetime", args=(1, 2))
def _endofyear(value: Any, offset: Any = 0) -> Any:
    start = _startofyear(value, offset)
    return None if start is None else datetime(start.year, 12, 31, 23, 59, 59, 999999)


_PERIODS = {
    "year": "year", "quarter": "quarter", "month": "month", "week": "week", "day": "day", "hour": "hour",
    "minute": "minute", "second": "second", "millisecond": "millisecond", "microsecond": "microsecond",
    "nanosecond": "nanosecond",
}
_PERIOD_SECONDS = {"week": 604800, "day": 86400, "hour": 3600, "minute": 60, "second": 1,
                   "millisecond": 1e-3, "microsecond": 1e-6, "nanosecond": 1e-9}
_PERIOD_TICKS = {"day": 864_000_000_000, "hour": 36_000_000_000, "minute": 600_000_000, "second": 10_000_000,
                 "millisecond": 10_000, "microsecond": 10}


@scalar("datetime_diff", returns="long", args=(3, 3))
def _datetime_diff(period: Any, first: Any, second: Any) -> Any:
    """Number of period boundaries crossed between ``second`` and ``first`` (first - second)."""
    if first is None or second is None:
        return None
    unit = _PERIODS.get(V.to_string(period).lower())
    if unit == "year":
        return first.year - second.year
    if unit == "quarter":
        return (first.year * 4 + (first.month - 1) // 3) - (second.year * 4 + (second.month - 1) // 3)
    if unit == "month":
        return (first.year * 12 + first.month) - (second.year * 12 + second.month)
    if unit == "week":  # weeks start on Sunday; day 0 (0001-01-01) is a Monday
        return (_days(first) + 1) // 7 - (_days(second) + 1) // 7
    if unit == "nanosecond":  # 3e20 nanoseconds separate the first and last datetime: that overflows
        return checked_long((V.ticks_of_datetime(first) - V.ticks_of_datetime(second)) * 100)
    if unit is None:
        return None
    size = _PERIOD_TICKS[unit]
    return V.ticks_of_datetime(first) // size - V.ticks_of_datetime(second) // size


def _days(value: datetime) -> int:
    return (value - datetime(1, 1, 1)).days


@scalar("datetime_add", returns="datetime", args=(3, 3))
def _datetime_add(period: Any, amount: Any, value: Any) -> Any:
    """``amount`` periods after ``value``; null when that leaves 0001-01-01..9999-12-31."""
    if value is None or amount is None:
        return None
    unit = _PERIODS.get(V.to_string(period).lower())
    amount = V.to_long(amount)
    if unit is None or amount is None:
        return None
    if unit in ("year", "quarter", "month"):
        return _add_months(value, {"year": 12, "quarter": 3, "month": 1}[unit] * amount)
    span = timespan_from_seconds(_PERIOD_SECONDS[unit] * amount)
    return None if span is None else shift(value, span)


@scalar("datetime_part", "datepart", returns="int", args=(2, 2))
def _datetime_part(part: Any, value: Any) -> Any:
    if value is None:
        return None
    name = V.to_string(part).lower()
    parts = {
        "year": value.year, "quarter": (value.month - 1) // 3 + 1, "month": value.month,
        "weekofyear": value.isocalendar()[1], "week_of_year": value.isocalendar()[1], "day": value.day,
        "dayofyear": value.timetuple().tm_yday, "hour": value.hour, "minute": value.minute, "second": value.second,
        "millisecond": value.microsecond // 1000, "microsecond": value.microsecond, "nanosecond": value.microsecond * 1000,
    }
    return parts.get(name)


@scalar("getyear", returns="int", args=(1, 1))
def _getyear(value: Any) -> Any:
    return None if value is None else value.year


@scalar("getmonth", "monthofyear", returns="int", args=(1, 1))
def _getmonth(value: Any) -> Any:
    return None if value is None else value.month


@scalar("dayofmonth", returns="int", args=(1, 1))
def _dayofmonth(value: Any) -> Any:
    return None if value is None else value.day


@scalar("dayofyear", returns="int", args=(1, 1))
def _dayofyear(value: Any) -> Any:
    return None if value is None else value.timetuple().tm_yday


@scalar("hourofday", returns="int", args=(1, 1))
def _hourofday(value: Any) -> Any:
    return None if value is None else value.hour


@scalar("dayofweek", returns="timespan", args=(1, 1))
def _dayofweek(value: Any) -> Any:
    """Days since the preceding Sunday, as a timespan (Kusto's definition)."""
    return None if value is None else timedelta(days=(value.weekday() + 1) % 7)


@scalar("week_of_year", returns="int", args=(1, 1))
def _week_of_year(value: Any) -> Any:
    return None if value is None else value.isocalendar()[1]


@scalar("make_datetime", returns="datetime", args=(3, 7))
def _make_datetime(year: Any, month: Any, day: Any, hour: Any = 0, minute: Any = 0, second: Any = 0, *_: Any) -> Any:
    """The documented ranges (year 0..9999, seconds below 60) or null; the value model keeps
    microseconds, so a seventh fractional digit is rounded, never carried into the next second."""
    seconds = V.to_real(second or 0)
    if seconds is None or not math.isfinite(seconds) or not 0 <= seconds < 60:
        return None
    whole = int(seconds)
    try:
        return datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), whole,
                        min(round((seconds - whole) * 1e6), 999_999))
    except (TypeError, ValueError, OverflowError):
        return None


@scalar("make_timespan", returns="timespan", args=(2, 4))
def _make_timespan(*parts: Any) -> Any:
    """hours:minutes[:seconds] or days, hours, minutes, seconds; null past the timespan range."""
    values = [float(p or 0) for p in parts]
    units = {2: (3600, 60), 3: (3600, 60, 1), 4: (86400, 3600, 60, 1)}[len(values)]
    return timespan_from_seconds(sum(value * unit for value, unit in zip(values, units)))


# Seconds from the Unix epoch to the ends of the datetime range (0001-01-01, 10000-01-01).
_UNIX_FIRST, _UNIX_END = -62_135_596_800, 253_402_300_800


def _from_epoch(value: Any, per_second: int) -> datetime | None:
    """unixtime_*_todatetime: "If the conversion is successful, the result is a datetime value.
    Otherwise, the result is null" (a NaN, an infinity or a time outside the datetime range).
    An integer count is converted exactly (a double holds only 15-16 of a nanosecond count's digits)."""
    if isinstance(value, int) and not isinstance(value, bool):
        if not _UNIX_FIRST * per_second <= value < _UNIX_END * per_second:
            return None
        micros = abs(value) * 1_000_000 // per_second
        return shift(_EPOCH_UNIX, timedelta(microseconds=micros if value >= 0 else -micros))
    number = V.to_real(value)
    if number is None or not math.isfinite(number):
        return None
    seconds = number / per_second
    if not _UNIX_FIRST <= seconds < _UNIX_END:
        return None
    return shift(_EPOCH_UNIX, timedelta(seconds=seconds))


@scalar("unixtime_seconds_todatetime", returns="datetime", args=(1, 1))
def _unix_seconds(value: Any) -> Any:
    return _from_epoch(value, 1)


@scalar("unixtime_milliseconds_todatetime", returns="datetime", args=(1, 1))
def _unix_millis(value: Any) -> Any:
    return _from_epoch(value, 1_000)


@scalar("unixtime_microseconds_todatetime", returns="datetime", args=(1, 1))
def _unix_micros(value: Any) -> Any:
    return _from_epoch(value, 1_000_000)


@scalar("unixtime_nanoseconds_todatetime", returns="datetime", args=(1, 1))
def _unix_nanos(value: Any) -> Any:
    """https://learn.microsoft.com/kusto/query/unixtime-nanoseconds-todatetime-function"""
    return _from_epoch(value, 1_000_000_000)


@lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo | None:
    """An IANA time zone (https://learn.microsoft.com/kusto/query/timezone), None when unknown.

    Without a time zone database at all (no system zoneinfo and no tzdata package) every
    name would be unknown and every conversion null: that is refused, not answered."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        if not _has_zone_database():
            raise KqlRuntimeError("no IANA time zone database is installed (install the tzdata package) "
                                  "to convert between UTC and local time") from None
        return None


@lru_cache(maxsize=1)
def _has_zone_database() -> bool:
    try:
        ZoneInfo("Etc/UTC")
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


@scalar("datetime_utc_to_local", returns="datetime", args=(2, 2))
def _utc_to_local(value: Any, zone: Any) -> Any:
    """The wall-clock time in ``zone`` at the UTC instant ``value``."""
    tz = None if value is None else _zone(V.to_string(zone))
    if tz is None:
        return None
    try:
        return value.replace(tzinfo=timezone.utc).astimezone(tz).replace(tzinfo=None)
    except OverflowError:
        return None


@scalar("datetime_local_to_utc", returns="datetime", args=(2, 2))
def _local_to_utc(value: Any, zone: Any) -> Any:
    """The UTC instant of the wall-clock time ``value`` in ``zone``.

    A wall-clock time the spring-forward gap skips takes the offset after the change: the
    page's example has 02:00 in Europe/Brussels on 2022-03-27 give 00:00 UTC
    (https://learn.microsoft.com/kusto/query/datetime-local-to-utc-function). That is
    Python's fold=1, which for a repeated (autumn) time picks the second, standard-time one.
    """
    tz = None if value is None else _zone(V.to_string(zone))
    if tz is None:
        return None
    try:
        return value.replace(tzinfo=tz, fold=1).astimezone(timezone.utc).replace(tzinfo=None)
    except OverflowError:
        return None


@scalar("format_timespan", returns="string", args=(2, 2))
def _format_timespan(value: Any, fmt: Any) -> str:
    if value is None:
        return ""
    total = V.to_long(value)
    seconds, ticks = divmod(abs(total), 10_000_000)
    minutes, s = divmod(seconds, 60)
    hours, m = divmod(minutes, 60)
    d, h = divmod(hours, 24)
    return _apply_format(V.to_string(fmt), {"d": d, "h": h, "H": h, "m": m, "s": s, "f": ticks, "F": ticks})


def _apply_format(fmt: str, parts: dict[str, int]) -> str:
    out, i = [], 0
    while i < len(fmt):
        ch = fmt[i]
        j = i
        while j < len(fmt) and fmt[j] == ch:
            j += 1
        run = j - i
        if ch in parts:
            if ch in "fF":
                out.append(f"{parts[ch]:07d}"[:run])
            elif ch == "y":
                out.append(f"{parts[ch]:0{run}d}"[-run:] if run <= 2 else f"{parts[ch]:0{run}d}")
            else:
                out.append(f"{parts[ch]:0{run}d}")
        else:
            out.append(fmt[i:j])
        i = j
    return "".join(out)


@scalar("format_datetime", returns="string", args=(2, 2))
def _format_datetime(value: Any, fmt: Any) -> str:
    if value is None:
        return ""
    ticks = value.microsecond * 10
    parts = {"y": value.year, "M": value.month, "d": value.day, "H": value.hour, "h": (value.hour % 12) or 12,
             "m": value.minute, "s": value.second, "f": ticks, "F": ticks}
    text = V.to_string(fmt).replace("tt", "\x00")  # AM/PM goes in after the other specifiers (its M is no month)
    return _apply_format(text, parts).replace("\x00", "AM" if value.hour < 12 else "PM")
