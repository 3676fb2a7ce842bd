"""Element-wise and reducing series functions: series_abs .. series_tan apply a scalar function to
each element; series_add .. series_not_equals combine two series (or a series and a number) element
by element; series_sum, series_product, series_magnitude and series_dot_product reduce to a real.

Registered into ``functions.FUNCTIONS`` on import (``functions`` imports this module). The scalar
functions they apply are looked up when called: the modules defining them may still be importing. The pages' common rule: a non-numeric element, or a missing one when
two arrays differ in length, yields null in its place (e.g.
https://learn.microsoft.com/kusto/query/series-add-function).
"""

from __future__ import annotations

import decimal
import math
import operator
from typing import Any, Callable

from dac.kql.bounds import within_range
from dac.kql.functions import FUNCTIONS, scalar

_MISSING = object()


def _number(item: Any) -> Any:
    """A numeric element as it is (int, real, decimal), or None for anything else (bools included)."""
    if isinstance(item, bool) or not isinstance(item, (int, float, decimal.Decimal)):
        return None
    return item


def _unary(name: str, function: Callable[[Any], Any]) -> None:
    """series_<name>: ``function`` on each numeric element, null for the others."""

    def apply(series: Any) -> list[Any] | None:
        if not isinstance(series, list):
            return None
        return [None if (x := _number(item)) is None else function(x) for item in series]

    scalar(f"series_{name}", returns="dynamic", args=(1, 1))(apply)


# Each is the scalar function of the same name, element by element (series-abs-function ... pages).
def _scalar(name: str) -> Callable[..., Any]:
    return lambda *args: FUNCTIONS[name].impl(*args)


for _name in ("abs", "acos", "asin", "atan", "ceiling", "cos", "exp", "log", "sign", "sin", "tan"):
    _unary(_name, _scalar(_name))
# series_floor has one argument (the scalar floor is bin's alias): [-1.5, 1, 2.5] -> [-2.0, 1.0, 2.0]
# (https://learn.microsoft.com/kusto/query/series-floor-function)
_unary("floor", lambda x: float(math.floor(x)) if math.isfinite(x) else x)


def _element(series: Any, index: int) -> Any:
    if isinstance(series, list):
        return series[index] if index < len(series) else _MISSING
    return series


def _binary(name: str, function: Callable[[Any, Any], Any]) -> None:
    """series_<name>(series1, series2): either may be a number, used for every element; the result is
    as long as the longer array, null where an element is missing or not a number."""

    def apply(left: Any, right: Any) -> list[Any] | None:
        arrays = [s for s in (left, right) if isinstance(s, list)]
        if not arrays or any(s is None for s in (left, right)):
            return None
        out = []
        for index in range(max(len(s) for s in arrays)):
            a, b = _number(_element(left, index)), _number(_element(right, index))
            out.append(None if a is None or b is None else function(a, b))
        return out

    scalar(f"series_{name}", returns="dynamic", args=(2, 2))(apply)


def _exact(combine: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """Integers stay exact (a long overflow fails, as for the operator); otherwise reals."""

    def apply(a: Any, b: Any) -> Any:
        if isinstance(a, int) and isinstance(b, int):
            return within_range(combine(a, b))
        return combine(float(a), float(b))

    return apply


def _divide(a: Any, b: Any) -> float:
    """Always a real, and division by zero is the double one: 2/0 is +infinity
    (https://learn.microsoft.com/kusto/query/series-divide-function)."""
    x, y = float(a), float(b)
    if y == 0:
        return math.nan if x == 0 or math.isnan(x) else math.copysign(math.inf, x) * math.copysign(1.0, y)
    return x / y


_binary("add", _exact(operator.add))
_binary("subtract", _exact(operator.sub))
_binary("multiply", _exact(operator.mul))
_binary("divide", _divide)
_binary("pow", _scalar("pow"))  # https://learn.microsoft.com/kusto/query/series-pow-function
for _name, _compare in (("greater", operator.gt), ("greater_equals", operator.ge), ("less", operator.lt),
                        ("less_equals", operator.le), ("equals", operator.eq), ("not_equals", operator.ne)):
    _binary(_name, _compare)  # https://learn.microsoft.com/kusto/query/series-greater-function and its siblings


def _numbers(series: Any) -> list[float] | None:
    if not isinstance(series, list):
        return None
    return [float(x) for item in series if (x := _number(item)) is not None]


@scalar("series_sum", returns="real", args=(1, 1))
def _series_sum(series: Any) -> float | None:
    """The sum of the numeric elements, a real (https://learn.microsoft.com/kusto/query/series-sum-function)."""
    values = _numbers(series)
    return None if values is None else math.fsum(values)


@scalar("series_product", returns="real", args=(1, 1))
def _series_product(series: Any) -> float | None:
    """The product of the numeric elements, a real (https://learn.microsoft.com/kusto/query/series-product-function)."""
    values = _numbers(series)
    return None if values is None else math.prod(values)


@scalar("series_magnitude", returns="real", args=(1, 1))
def _series_magnitude(series: Any) -> float | None:
    """The Euclidean norm: [1, 2, 3, 4] -> sqrt(30) (https://learn.microsoft.com/kusto/query/series-magnitude-function)."""
    values = _numbers(series)
    return None if values is None else math.sqrt(math.fsum(v * v for v in values))


@scalar("series_dot_product", returns="real", args=(2, 2))
def _series_dot_product(left: Any, right: Any) -> float | None:
    """Sum of the products, the longer series cut to the shorter; pairs with a non-numeric element
    are left out; null when either is empty. One argument may be a number, broadcast to the other's
    length: series_dot_product([1, 2, 4], 1) is 7
    (https://learn.microsoft.com/kusto/query/series-dot-product-function)."""
    if isinstance(left, list) and not isinstance(right, list) and _number(right) is not None:
        right = [right] * len(left)
    elif isinstance(right, list) and not isinstance(left, list) and _number(left) is not None:
        left = [left] * len(right)
    if not isinstance(left, list) or not isinstance(right, list) or not left or not right:
        return None
    pairs = [(_number(a), _number(b)) for a, b in zip(left, right)]
    return math.fsum(float(a) * float(b) for a, b in pairs if a is not None and b is not None)
