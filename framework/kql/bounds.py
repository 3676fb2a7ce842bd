"""Kusto's value ranges, and the checks that keep results inside them.

Python's integers are unbounded and its ``datetime`` raises past year 9999, so
without these checks a query would either get an answer Kusto never gives (a
75-digit long) or crash. Kusto's ranges:

- ``long`` is a signed 64-bit integer, ``int`` a signed 32-bit one
  (https://learn.microsoft.com/kusto/query/scalar-data-types/long,
  https://learn.microsoft.com/kusto/query/scalar-data-types/int);
- ``datetime`` runs from 0001-01-01 to 9999-12-31
  (https://learn.microsoft.com/kusto/query/scalar-data-types/datetime), the range
  of Python's ``datetime`` too;
- ``timespan`` is a signed 64-bit count of 100ns ticks, so at most
  10675199.02:48:05.4775807 either way (the value model keeps microseconds).

What happens outside them: a ``long`` result that does not fit fails the query,
as the overflow page says ("An overflow occurs when the result of a computation
is too large for the destination type. The overflow usually leads to a partial
query failure", https://learn.microsoft.com/kusto/concepts/overflow); a
conversion that cannot fit is unsuccessful, so null (tolong, toint, todatetime,
make_datetime, unixtime_*_todatetime all document null for that); a datetime or
timespan computed outside its range is null.
"""

from __future__ import annotations

import decimal
import math
from datetime import datetime, timedelta
from typing import Any

from dac.kql.errors import KqlRuntimeError

LONG_MIN, LONG_MAX = -(1 << 63), (1 << 63) - 1
INT_MIN, INT_MAX = -(1 << 31), (1 << 31) - 1
MAX_TIMESPAN = timedelta(microseconds=LONG_MAX // 10)
MIN_TIMESPAN = -MAX_TIMESPAN
_MAX_TIMESPAN_SECONDS = MAX_TIMESPAN.total_seconds()
# .NET's System.Decimal, Kusto's decimal: a 96-bit integer scaled by a power of ten.
DECIMAL_MAX = decimal.Decimal((1 << 96) - 1)


class LongOverflow(KqlRuntimeError):
    """A long (or decimal) result that does not fit its type: Kusto fails the query.

    Raised without a position by the value-level helpers; the expression compiler
    re-raises it at the operator or call that produced it.
    """

    def __init__(self, type_name: str = "long") -> None:
        super().__init__(f"arithmetic overflow: the result does not fit in a {type_name} "
                         "(Kusto fails the query, https://learn.microsoft.com/kusto/concepts/overflow)")


def checked_long(value: int) -> int:
    """``value`` if it is a long, else LongOverflow."""
    if LONG_MIN <= value <= LONG_MAX:
        return value
    raise LongOverflow()


def long_or_null(value: int) -> int | None:
    """A conversion's result: outside the long range the conversion is unsuccessful (null)."""
    return value if LONG_MIN <= value <= LONG_MAX else None


def int_or_null(value: int | None) -> int | None:
    """toint(): outside the signed 32-bit range the conversion is unsuccessful (null)."""
    return value if value is not None and INT_MIN <= value <= INT_MAX else None


def timespan_or_null(value: timedelta) -> timedelta | None:
    return value if MIN_TIMESPAN <= value <= MAX_TIMESPAN else None


def timespan_from_seconds(seconds: float) -> timedelta | None:
    """A timespan of ``seconds`` (a literal, a unit conversion); null when infinite, NaN or too long."""
    if not math.isfinite(seconds) or abs(seconds) > _MAX_TIMESPAN_SECONDS:
        return None
    return timespan_or_null(timedelta(seconds=seconds))


def timespan_from_ticks(ticks: float) -> timedelta | None:
    """totimespan(number): the number counts 100ns ticks (an integer count is converted exactly,
    to the nearest microsecond, as a double would lose a long's low digits)."""
    if isinstance(ticks, int):
        if not LONG_MIN <= ticks <= LONG_MAX:
            return None
        micros = (abs(ticks) + 5) // 10
        return timespan_or_null(timedelta(microseconds=micros if ticks >= 0 else -micros))
    return timespan_from_seconds(ticks / 10_000_000)


def shift(value: datetime, delta: timedelta) -> datetime | None:
    """``value + delta``, null outside 0001-01-01..9999-12-31."""
    try:
        return value + delta
    except OverflowError:
        return None


def within_range(value: Any) -> Any:
    """An arithmetic result kept to its Kusto type: long and decimal overflow fails, a timespan
    outside its range is null (datetimes cannot leave theirs: Python refuses, see ``shift``)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return checked_long(value)
    if isinstance(value, timedelta):
        return timespan_or_null(value)
    if isinstance(value, decimal.Decimal) and value.is_finite() and abs(value) > DECIMAL_MAX:
        raise LongOverflow("decimal")
    return value

