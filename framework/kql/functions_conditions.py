"""Condition functions: assert, which fails the query with its message, and around, the range test.

Registered into ``functions.FUNCTIONS`` on import (``functions`` imports this module).
"""

from __future__ import annotations

import decimal
from datetime import datetime, timedelta
from typing import Any

from dac.kql import values as V
from dac.kql.bounds import LONG_MAX, LONG_MIN
from dac.kql.errors import KqlRefusedValue, KqlRuntimeError
from dac.kql.functions import CONSTANT_ARGUMENTS, PARAMETER_TYPES, scalar


@scalar("assert", returns="bool", args=(2, 2))
def _assert(condition: Any, message: Any) -> bool:
    """true, or the query fails with "assert() has failed with message: '<message>'"
    (https://learn.microsoft.com/kusto/query/assert-function). Both arguments must be constants, so
    the failure comes while the query is compiled, before any row is read. A null condition is
    neither case of the page and is refused."""
    if condition is None:
        raise KqlRefusedValue("assert() of a null condition is not reproduced: the page describes true and false only")
    if condition is False:
        raise KqlRuntimeError(f"assert() has failed with message: '{V.to_string(message)}'")
    return True


CONSTANT_ARGUMENTS["assert"] = frozenset({0, 1})
PARAMETER_TYPES["assert"] = {0: frozenset({"bool"}), 1: frozenset({"string"})}

_POINTS = (int, float, decimal.Decimal, datetime, timedelta)


@scalar("around", returns="bool", args=(3, 3))
def _around(value: Any, center: Any, delta: Any) -> bool | None:
    """Whether ``value`` lies in [center - delta, center + delta], ends included; null when an
    argument is null (https://learn.microsoft.com/kusto/query/around-function). Numbers, datetimes
    with a timespan delta, or timespans. A negative delta (an empty range, or one Kusto may mirror)
    and integer bounds past the long range are not described and are refused."""
    if value is None or center is None or delta is None:
        return None
    if isinstance(value, bool) or isinstance(center, bool) or isinstance(delta, bool):
        raise TypeError("around() takes numbers, datetimes or timespans")
    if not isinstance(value, _POINTS) or not isinstance(center, _POINTS) or not isinstance(delta, _POINTS):
        raise TypeError("around() takes numbers, datetimes or timespans")
    if (delta < 0) if not isinstance(delta, timedelta) else (delta < timedelta(0)):
        raise KqlRefusedValue("around() with a negative delta is not reproduced: the page does not say what "
                              "Kusto returns")
    if isinstance(center, (datetime, timedelta)) or isinstance(value, (datetime, timedelta)):
        if not isinstance(delta, timedelta) or type(value) is not type(center):
            raise TypeError("around() of a datetime or timespan takes a center of the same type and a timespan delta")
        low, high = center - delta, center + delta
    elif isinstance(delta, timedelta):
        raise TypeError("around() of numbers takes a numeric delta")
    elif isinstance(value, int) and isinstance(center, int) and isinstance(delta, int):
        low, high = center - delta, center + delta
        if not (LONG_MIN <= low and high <= LONG_MAX):
            raise KqlRefusedValue("around() with bounds past the long range is not reproduced")
    else:
        low, high = V.to_real(center) - V.to_real(delta), V.to_real(center) + V.to_real(delta)
        return low <= V.to_real(value) <= high
    return low <= value <= high


_POINT_TYPES = frozenset({"number", "datetime", "timespan"})
PARAMETER_TYPES["around"] = {0: _POINT_TYPES, 1: _POINT_TYPES, 2: frozenset({"number", "timespan"})}
