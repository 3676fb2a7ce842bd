"""Missing-value interpolation over series: series_fill_backward, series_fill_forward,
series_fill_const and series_fill_linear.

Registered into ``functions.FUNCTIONS`` on import (``functions`` imports this module).
A missing element is one equal to ``missing_value_placeholder``, null by default (the pages: "double(null),
long(null) and int(null) have the same meaning"). The functions "preserve the original type of the
array elements"; an element that is no number (text, a bag, a bool) is documented nowhere and refused.
"""

from __future__ import annotations

import decimal
from typing import Any, Callable

from dac.kql import values as V
from dac.kql.errors import KqlRuntimeError
from dac.kql.functions import PARAMETER_TYPES, scalar

_ARRAY: frozenset[str] = frozenset()
_NUMBER = frozenset({"number"})


def _missing_test(function: str, series: list[Any], placeholder: Any) -> Callable[[Any], bool]:
    """Whether an element is missing; refuses a series holding anything but numbers and nulls."""
    for item in series:
        if item is not None and (isinstance(item, bool) or not isinstance(item, (int, float, decimal.Decimal))):
            raise KqlRuntimeError(f"{function}() over an element that is no number ({V.to_string(item)!r}) is not "
                                  "reproduced: the pages describe numeric arrays only")
    if placeholder is None:
        return lambda item: item is None
    wanted = V.to_real(placeholder)
    return lambda item: item is not None and float(item) == wanted


def _filled(series: list[Any], missing: Callable[[Any], bool], forward: bool) -> list[Any]:
    """Each missing element replaced by the nearest present one before it (forward) or after it."""
    out = list(series)
    order = range(len(out)) if forward else range(len(out) - 1, -1, -1)
    last = None
    for index in order:
        if missing(out[index]):
            if last is not None:
                out[index] = out[last]
        else:
            last = index
    return out


@scalar("series_fill_backward", returns="dynamic", args=(1, 2))
def _series_fill_backward(series: Any, placeholder: Any = None) -> list[Any] | None:
    """Missing values take the nearest value to their right; the rightmost stay
    (https://learn.microsoft.com/kusto/query/series-fill-backward-function)."""
    if not isinstance(series, list):
        return None
    return _filled(series, _missing_test("series_fill_backward", series, placeholder), forward=False)


@scalar("series_fill_forward", returns="dynamic", args=(1, 2))
def _series_fill_forward(series: Any, placeholder: Any = None) -> list[Any] | None:
    """Missing values take the nearest value to their left; the leftmost stay
    (https://learn.microsoft.com/kusto/query/series-fill-forward-function)."""
    if not isinstance(series, list):
        return None
    return _filled(series, _missing_test("series_fill_forward", series, placeholder), forward=True)


@scalar("series_fill_const", returns="dynamic", args=(2, 3))
def _series_fill_const(series: Any, constant: Any, placeholder: Any = None) -> list[Any] | None:
    """Missing values replaced by ``constant`` as given: the page fills [111, null, ...] with 0.0 as
    [111, 0.0, ...] (https://learn.microsoft.com/kusto/query/series-fill-const-function)."""
    if not isinstance(series, list):
        return None
    missing = _missing_test("series_fill_const", series, placeholder)
    return [constant if missing(item) else item for item in series]


def _interpolated(left: Any, right: Any, fraction: float, integers: bool) -> Any:
    """The value ``fraction`` of the way from ``left`` to ``right``. An all-integer series gets integers:
    the page's [111, null, 36] gives 73 for 73.5 and [41, null, null, 16] gives 32 and 24 for 32.67 and
    24.33, so positive values are truncated; how a negative one is rounded is not shown, and it is refused."""
    value = float(left) + (float(right) - float(left)) * fraction
    if not integers:
        return value
    if value < 0 and value != int(value):
        raise KqlRuntimeError("series_fill_linear() of an integer series at a negative non-integral point is not "
                              "reproduced: how Kusto rounds it is not documented")
    return int(value)


@scalar("series_fill_linear", returns="dynamic", args=(1, 4))
def _series_fill_linear(series: Any, placeholder: Any = None, fill_edges: Any = True,
                        constant: Any = 0.0) -> list[Any] | None:
    """Missing values interpolated linearly between their present neighbours; with ``fill_edges``
    (the default) those at the ends take the nearest present value; an array with no value at all
    is filled with ``constant`` (0.0 by default, null keeps the nulls)
    (https://learn.microsoft.com/kusto/query/series-fill-linear-function)."""
    if not isinstance(series, list):
        return None
    missing = _missing_test("series_fill_linear", series, placeholder)
    present = [index for index, item in enumerate(series) if not missing(item)]
    if not present:
        return [constant for _ in series]
    integers = all(isinstance(series[index], int) for index in present)
    out = list(series)
    for left, right in zip(present, present[1:]):
        for index in range(left + 1, right):
            out[index] = _interpolated(series[left], series[right], (index - left) / (right - left), integers)
    if fill_edges is None or V.to_bool(fill_edges):
        out[:present[0]] = [series[present[0]]] * present[0]
        out[present[-1] + 1:] = [series[present[-1]]] * (len(series) - present[-1] - 1)
    return out


PARAMETER_TYPES["series_fill_backward"] = PARAMETER_TYPES["series_fill_forward"] = {0: _ARRAY, 1: _NUMBER}
PARAMETER_TYPES["series_fill_const"] = {0: _ARRAY, 1: _NUMBER, 2: _NUMBER}
PARAMETER_TYPES["series_fill_linear"] = {0: _ARRAY, 1: _NUMBER, 2: frozenset({"bool"}), 3: _NUMBER}
