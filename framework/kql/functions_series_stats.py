"""Series statistics and filters: series_stats (several columns), series_stats_dynamic,
series_cosine_similarity, series_pearson_correlation, series_iir, series_fit_line_dynamic and
series_seasonal.

Registered on import (``functions`` imports this module): the scalar ones into ``functions.FUNCTIONS``,
series_stats into ``series.TUPLE_FUNCTIONS``. Where a page leaves an input's outcome open (an array
with null or NaN in it for the statistics, a zero-length vector for the cosine), it is refused.
"""

from __future__ import annotations

import decimal
import math
from typing import Any

from dac.kql.errors import KqlRefusedValue, KqlRuntimeError
from dac.kql.functions import INTEGER_ARGUMENTS, PARAMETER_TYPES, scalar
from dac.kql.series import ARRAY, TUPLE_FUNCTIONS, TupleFunction

_BOOL = frozenset({"bool"})


def _is_number(item: Any) -> bool:
    return not isinstance(item, bool) and isinstance(item, (int, float, decimal.Decimal))


def _finite_series(function: str, series: list[Any]) -> list[float]:
    """The elements as reals when every one is a finite number, refused otherwise: the pages give
    null for non-finite elements by default, and with ``ignore_nonfinite`` do not say whether len
    and the *_idx positions then count the ignored ones."""
    if not all(_is_number(item) and math.isfinite(item) for item in series):
        raise KqlRuntimeError(f"{function}() of a series with null, NaN, infinite or non-numeric elements is not "
                              "reproduced: what Kusto returns for them is not fully documented")
    if len(series) < 2:
        raise KqlRefusedValue(f"{function}() of fewer than two values is not reproduced: the sample variance "
                              "is undefined and the page does not say what Kusto returns")
    return [float(item) for item in series]


def _stats(function: str, series: Any) -> dict[str, Any] | None:
    """min, min_idx, max, max_idx, avg, stdev and variance (the sample's), sum and len
    (https://learn.microsoft.com/kusto/query/series-stats-dynamic-function); positions are the first."""
    if not isinstance(series, list):
        return None
    values = _finite_series(function, series)
    total = math.fsum(values)
    mean = total / len(values)
    variance = math.fsum((v - mean) ** 2 for v in values) / (len(values) - 1)
    low, high = min(values), max(values)
    return {"min": low, "min_idx": values.index(low), "max": high, "max_idx": values.index(high), "avg": mean,
            "stdev": math.sqrt(variance), "variance": variance, "sum": total, "len": len(values)}


@scalar("series_stats_dynamic", returns="dynamic", args=(1, 2))
def _series_stats_dynamic(series: Any, ignore_nonfinite: Any = False) -> dict[str, Any] | None:
    """The statistics as a property bag (https://learn.microsoft.com/kusto/query/series-stats-dynamic-function).
    ``ignore_nonfinite`` changes nothing for the all-finite series computed here."""
    return _stats("series_stats_dynamic", series)


def _series_stats(series: Any, ignore_nonfinite: Any = False) -> tuple | None:
    """series_stats' seven columns (https://learn.microsoft.com/kusto/query/series-stats-function)."""
    stats = _stats("series_stats", series)
    if stats is None:
        return None
    return tuple(stats[name] for name in ("min", "min_idx", "max", "max_idx", "avg", "stdev", "variance"))


TUPLE_FUNCTIONS["series_stats"] = TupleFunction(
    "series_stats", _series_stats,
    (("min", "real"), ("min_idx", "long"), ("max", "real"), ("max_idx", "long"), ("avg", "real"),
     ("stdev", "real"), ("variance", "real")),
    (ARRAY, _BOOL), 1, {})


def _pairs(left: list[Any], right: list[Any]) -> list[tuple[float, float]]:
    return [(float(a), float(b)) for a, b in zip(left, right) if _is_number(a) and _is_number(b)]


@scalar("series_cosine_similarity", returns="real", args=(2, 2))
def _series_cosine_similarity(left: Any, right: Any) -> float | None:
    """a . b / (|a| |b|), the longer series cut to the shorter, non-numeric elements left out; null
    when either is empty (https://learn.microsoft.com/kusto/query/series-cosine-similarity-function).
    A vector of zeros has no direction, and the page does not say what Kusto returns: refused."""
    if not isinstance(left, list) or not isinstance(right, list) or not left or not right:
        return None
    pairs = _pairs(left, right)
    norms = math.sqrt(math.fsum(a * a for a, _ in pairs)) * math.sqrt(math.fsum(b * b for _, b in pairs))
    if norms == 0 or not math.isfinite(norms):
        raise KqlRefusedValue("series_cosine_similarity() of a zero or non-finite vector is not reproduced: "
                              "the page does not say what Kusto returns")
    return math.fsum(a * b for a, b in pairs) / norms


@scalar("series_pearson_correlation", returns="real", args=(2, 2))
def _series_pearson_correlation(left: Any, right: Any) -> float | None:
    """Pearson's r; null for arrays of different lengths or with a non-numeric element
    (https://learn.microsoft.com/kusto/query/series-pearson-correlation-function). Fewer than two
    points, or a constant series, have no r, and the page does not say what Kusto returns: refused."""
    if not isinstance(left, list) or not isinstance(right, list) or len(left) != len(right):
        return None
    if not all(_is_number(v) for v in (*left, *right)):
        return None
    xs, ys = [float(v) for v in left], [float(v) for v in right]
    if len(xs) < 2 or not all(math.isfinite(v) for v in (*xs, *ys)):
        raise KqlRuntimeError("series_pearson_correlation() of fewer than two points or non-finite values is not "
                              "reproduced: the page does not say what Kusto returns")
    mx, my = math.fsum(xs) / len(xs), math.fsum(ys) / len(ys)
    sxy = math.fsum((x - mx) * (y - my) for x, y in zip(xs, ys))
    sxx, syy = math.fsum((x - mx) ** 2 for x in xs), math.fsum((y - my) ** 2 for y in ys)
    if sxx == 0 or syy == 0:
        raise KqlRefusedValue("series_pearson_correlation() of a constant series is not reproduced: the "
                              "page does not say what Kusto returns")
    return sxy / math.sqrt(sxx * syy)


def _coefficients(name: str, values: Any) -> list[float]:
    if not isinstance(values, list) or not values or not all(_is_number(v) for v in values):
        raise KqlRuntimeError(f"series_iir() {name} must be a non-empty array of numbers")
    return [float(v) for v in values]


@scalar("series_iir", returns="dynamic", args=(3, 3))
def _series_iir(series: Any, numerators: Any, denominators: Any) -> list[float] | None:
    """y_i = (b_0 x_i + ... + b_{nb-1} x_{i-nb+1} - a_1 y_{i-1} - ... - a_{na-1} y_{i-na+1}) / a_0,
    with the points before the series zero (https://learn.microsoft.com/kusto/query/series-iir-function:
    b = [1], a = [1, -1] is the cumulative sum). a_0 must not be zero; an element that is no number
    is not described and is refused."""
    if not isinstance(series, list):
        return None
    b, a = _coefficients("numerators", numerators), _coefficients("denominators", denominators)
    if a[0] == 0:
        raise KqlRuntimeError("series_iir(): the first denominator must not be zero")
    if not all(_is_number(v) for v in series):
        raise KqlRefusedValue("series_iir() of a series with null or non-numeric elements is not reproduced: "
                              "the page does not say what Kusto returns")
    xs, ys = [float(v) for v in series], []
    for i in range(len(xs)):
        forward = math.fsum(b[k] * xs[i - k] for k in range(min(len(b), i + 1)))
        feedback = math.fsum(a[k] * ys[i - k] for k in range(1, min(len(a), i + 1)))
        ys.append((forward - feedback) / a[0])
    return ys


PARAMETER_TYPES["series_stats_dynamic"] = {0: ARRAY, 1: _BOOL}
PARAMETER_TYPES["series_cosine_similarity"] = PARAMETER_TYPES["series_pearson_correlation"] = {0: ARRAY, 1: ARRAY}
PARAMETER_TYPES["series_iir"] = {0: ARRAY, 1: ARRAY, 2: ARRAY}


@scalar("series_fit_line_dynamic", returns="dynamic", args=(1, 1))
def _series_fit_line_dynamic(series: Any) -> dict[str, Any] | None:
    """series_fit_line's six results as a property bag: rsquare, slope, variance, rvariance,
    interception, line_fit (https://learn.microsoft.com/kusto/query/series-fit-line-dynamic-function)."""
    fit = TUPLE_FUNCTIONS["series_fit_line"].impl(series)
    if fit is None:
        return None
    return dict(zip(("rsquare", "slope", "variance", "rvariance", "interception", "line_fit"), fit))


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


@scalar("series_seasonal", returns="dynamic", args=(1, 2))
def _series_seasonal(series: Any, period: Any = -1) -> list[float] | None:
    """The seasonal component: each bin the median of the values at its position in every period
    (https://learn.microsoft.com/kusto/query/series-seasonal-function: [1,3,5,1,3,5,2,4,6] with period 3 is
    [1,3,5,...]). A period of 0 or below -1 gives zeros. The default -1 detects the period with
    series_periods_detect at threshold 0.7, whose exact agreement with Kusto is not established: refused.
    Null or non-numeric elements are not described and are refused."""
    if not isinstance(series, list):
        return None
    if period is None or period == -1:
        raise KqlRefusedValue("series_seasonal() with a detected period is not reproduced: give the period")
    if period <= 0:
        return [0.0] * len(series)
    if not all(_is_number(v) and math.isfinite(v) for v in series):
        raise KqlRuntimeError("series_seasonal() of a series with null, NaN or non-numeric elements is not "
                              "reproduced: the page does not say what Kusto does with them")
    values = [float(v) for v in series]
    medians = [_median(values[phase::period]) for phase in range(min(period, len(values)))]
    return [medians[i % period] for i in range(len(values))]


PARAMETER_TYPES["series_seasonal"] = {0: ARRAY}
INTEGER_ARGUMENTS["series_seasonal"] = frozenset({1})
PARAMETER_TYPES["series_fit_line_dynamic"] = {0: ARRAY}
