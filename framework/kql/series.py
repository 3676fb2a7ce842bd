"""Kusto's series-analysis functions: decomposition, anomaly scoring, period detection.

Pure functions on Python lists of floats (``None`` marks a missing element), then a
thin layer that adapts them to KQL values for the evaluator. The behaviour follows
Kusto's documentation:

- series_decompose():           https://learn.microsoft.com/kusto/query/series-decompose-function
- series_decompose_anomalies(): https://learn.microsoft.com/kusto/query/series-decompose-anomalies-function
- series_outliers():            https://learn.microsoft.com/kusto/query/series-outliers-function
- series_periods_detect():      https://learn.microsoft.com/kusto/query/series-periods-detect-function
- series_fit_line():            https://learn.microsoft.com/kusto/query/series-fit-line-function
- overview:                     https://learn.microsoft.com/kusto/query/anomaly-detection

What the documentation settles, and is implemented exactly:

- decomposition order: seasonal first, then the trend of the deseasonalised series,
  baseline = seasonal + trend, residual = series - baseline;
- seasonal component: the median of the points in the same phase (index modulo the
  period), or constant 0 when the period is 0 or none is detected;
- trend: ``avg`` (the average), ``linefit`` (least-squares line), ``none`` (0);
- Test_points: the trailing points take no part in learning (medians, average, line,
  the anomaly percentiles) but still get components, residuals and scores;
- anomaly flag: +1 / -1 / 0 when the score is above the threshold / below minus the
  threshold / neither; AD_method ``ctukey`` uses the 10th-90th percentile range and
  ``tukey`` the 25th-75th;
- series_outliers: nulls (and the ignore value) score 0; series_fit_line's statistics
  (checked against the page's worked example).

Best effort, because the documentation does not give the formula:

- the anomaly score. Tukey's fences call x an outlier for k when it lies beyond
  ``Q_high + k * (Q_high - Q_low)`` (or below ``Q_low - k * range``); the score here is
  the k at which x sits exactly on its fence, ``(x - Q_high) / range`` above the range,
  ``(x - Q_low) / range`` below it and 0 inside, so that "score > 1.5" is "an outlier for
  Tukey's k = 1.5", as the page describes. Percentiles interpolate linearly between
  order statistics. With a zero range every point off the plateau is beyond every
  fence: its score is +/-infinity. Two caveats: a numeric example in a 2018 revision
  of the series_outliers page (since removed) is not reproduced by this formula, and
  the charts on the series_decompose_anomalies page show scores about two to three
  times these for the same kind of data, so at one threshold Kusto may flag more.
- period detection: the documented constraints hold (periods of 4 bins to half the
  series, within [min_period, max_period]; at most num_periods, ordered by score,
  padded with 0; scores in [0, 1]), but the scoring is our own: the autocorrelation
  of the ranks of the linearly detrended series at the candidate lag, keeping lags
  that are local maxima above the white-noise band 2/sqrt(n) and dropping echoes of
  a stronger period (lags within 20% of it, and its multiples unless they repeat
  better than it explains). It finds the page's [14, 0], but scores the 14 about
  0.76 where the page shows 0.84. Autodetection in series_decompose takes the best
  period of 4 bins to half the learning points when it scores at least the
  Seasonality_threshold.
- missing elements: the pages say only series_outliers accepts nulls. Here any
  non-numeric or non-finite element is a missing point: it takes no part in learning,
  its residual is null, and its score and flag are 0 (as series_outliers scores
  nulls); the baseline is still predicted for it.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from dac.kql.errors import KqlRuntimeError

Series = list[float | None]

# What each function computes that Kusto's documentation does not define (see above);
# `dac validate` warns where a rule relies on it.
APPROXIMATED = {
    "series_decompose_anomalies": ["its anomaly score"],
    "series_outliers": ["its anomaly score"],
    "series_periods_detect": ["its period scores"],
    "series_decompose": [],
}
# Functions whose second argument, Seasonality, autodetects the period when absent or -1.
AUTODETECTING = frozenset({"series_decompose", "series_decompose_anomalies"})

TRENDS = ("avg", "linefit", "none")
AD_METHODS = {"ctukey": (10.0, 90.0), "tukey": (25.0, 75.0)}
MIN_PERIOD_POINTS = 4  # the documented shortest period series_periods_detect can find
MAX_PERIODS = 1_048_576  # the longest array the evaluator builds (as range() does)


# ------------------------------------------------------------------ small statistics


def numeric_series(value: Any) -> Series | None:
    """A dynamic array as floats, ``None`` for every element that is no finite number.

    Booleans, strings and nested values are not numbers in Kusto's series functions;
    NaN and infinities would poison every median and average, so they are missing too.
    ``None`` (not a list) when the value is no array at all.
    """
    if not isinstance(value, list):
        return None
    out: Series = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, (int, float, Decimal)):
            out.append(None)
            continue
        number = float(item)
        out.append(number if math.isfinite(number) else None)
    return out


def percentile(ordered: Sequence[float], percent: float) -> float:
    """Percentile of sorted values, interpolating linearly between neighbouring ranks."""
    position = (len(ordered) - 1) * percent / 100.0
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (position - low) * (ordered[high] - ordered[low])


def median(values: Sequence[float]) -> float:
    return percentile(sorted(values), 50.0)


def _present(values: Series) -> list[float]:
    return [v for v in values if v is not None]


# ------------------------------------------------------------------ series_fit_line


@dataclass(frozen=True)
class LineFit:
    """series_fit_line()'s outputs; the line is y = slope * x + interception over x = 1..n."""

    rsquare: float | None
    slope: float | None
    variance: float | None
    rvariance: float | None
    interception: float | None
    line_fit: list[float]


def _least_squares(points: list[tuple[float, float]]) -> tuple[float, float]:
    """(slope, intercept) of the least-squares line through ``points``; flat for one point."""
    count = len(points)
    mean_x = sum(x for x, _ in points) / count
    mean_y = sum(y for _, y in points) / count
    sxx = sum((x - mean_x) ** 2 for x, _ in points)
    if sxx == 0:
        return 0.0, mean_y
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / sxx
    return slope, mean_y - slope * mean_x


def fit_line(values: Series) -> LineFit:
    """Linear regression of the series on x = 1..n (the page's example starts x at 1).

    The page's worked example fixes the statistics: variance and rvariance divide by
    n - 1 (sample variance of the data and of the residuals) and rsquare is
    1 - rss / tss. Missing points stay out of the fit but get a fitted value.
    """
    points = [(float(i + 1), v) for i, v in enumerate(values) if v is not None]
    if not points:
        return LineFit(None, None, None, None, None, [])
    slope, intercept = _least_squares(points)
    line = [slope * (i + 1) + intercept for i in range(len(values))]
    mean_y = sum(y for _, y in points) / len(points)
    tss = sum((y - mean_y) ** 2 for _, y in points)
    rss = sum((y - (slope * x + intercept)) ** 2 for x, y in points)
    dof = max(len(points) - 1, 1)
    rsquare = 1.0 - rss / tss if tss > 0 else 1.0  # a line fits a constant series exactly
    return LineFit(rsquare, slope, tss / dof, rss / dof, intercept, line)


# ------------------------------------------------------------------ series_outliers


def outlier_scores(values: Series, low_percent: float, high_percent: float,
                   learn_count: int | None = None) -> list[float]:
    """Tukey-fence scores (see the module docstring) against the [low, high] percentile range.

    Only the first ``learn_count`` points (all when None) and only present ones set the
    range; every point is scored against it. Missing points score 0.
    """
    learn = _present(values[:learn_count] if learn_count is not None else values)
    if not learn:
        return [0.0] * len(values)
    ordered = sorted(learn)
    low, high = percentile(ordered, low_percent), percentile(ordered, high_percent)
    spread = high - low
    scores = []
    for value in values:
        if value is None or low <= value <= high:
            scores.append(0.0)
        elif value > high:
            scores.append((value - high) / spread if spread > 0 else math.inf)
        else:
            scores.append((value - low) / spread if spread > 0 else -math.inf)
    return scores


def outliers(values: Series, kind: str = "ctukey", min_percentile: float = 10.0,
             max_percentile: float = 90.0, learn_count: int | None = None) -> list[float]:
    """series_outliers(): 'tukey' always uses the quartiles; 'ctukey' takes the range given."""
    if kind not in AD_METHODS:
        raise ValueError(f"the outlier kind must be 'ctukey' or 'tukey', not '{kind}'")
    if kind == "tukey":
        min_percentile, max_percentile = AD_METHODS["tukey"]
    elif not (2.0 <= min_percentile <= 98.0 and 2.0 <= max_percentile <= 98.0):
        raise ValueError("the percentiles of series_outliers() must be in the range [2.0, 98.0]")
    return outlier_scores(values, min_percentile, max_percentile, learn_count)


# ------------------------------------------------------------------ series_periods_detect


def _ranks(values: list[float]) -> list[float]:
    """Rank of each value (0-based), ties sharing their average rank."""
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        for position in range(start, end + 1):
            ranks[order[position]] = (start + end) / 2
        start = end + 1
    return ranks


def _autocorrelation(values: list[float], max_lag: int) -> list[float]:
    """Autocorrelation by lag of the series' ranks, less their least-squares line.

    Ranks keep one outlier from drowning a period (a spike's square would otherwise
    dominate the series' energy), and removing the line keeps a trend from correlating
    every lag.
    The biased estimator (each lag over the whole series' energy) shrinks long lags, so
    a period scores above its own multiples.
    """
    count = len(values)
    ranks = _ranks(values)
    slope, intercept = _least_squares([(float(i), r) for i, r in enumerate(ranks)])
    centred = [r - (slope * i + intercept) for i, r in enumerate(ranks)]
    energy = math.fsum(v * v for v in centred)
    lags = min(max_lag, count - 1) + 1
    if energy <= 1e-9 * count ** 3:
        return [0.0] * lags  # a constant or monotonic series: no period
    return [math.fsum(map(operator.mul, centred[: count - lag], centred[lag:])) / energy for lag in range(lags)]


def _echo(lag: int, base: int, acf: list[float], count: int, margin: float) -> bool:
    """Whether ``lag`` is only an echo of the stronger, already kept period ``base``.

    Within 20% of ``base`` it is the same period, blurred (the page advises searching
    20% around an expected period, so it treats periods that close as one). Near a
    multiple of ``base`` the series repeats because ``base`` does, and a pure period
    would reach there ``acf[base] * (n - lag) / (n - base)``: the lag is a period of its
    own (a weekly one over a daily one) only when it beats that by the noise margin.
    """
    if abs(lag - base) <= 0.2 * base:
        return True
    multiple = round(lag / base)
    if multiple < 2 or abs(lag - multiple * base) > 0.2 * base:
        return False
    return acf[lag] <= acf[base] * (count - lag) / (count - base) + margin


def detect_periods(values: Series, min_period: float, max_period: float,
                   num_periods: int) -> tuple[list[float], list[float]]:
    """series_periods_detect(): up to ``num_periods`` periods (in bins) with scores in [0, 1].

    Documented: only periods of at least 4 points and at most half the series are
    found, within [min_period, max_period]; both arrays have ``num_periods`` entries,
    ordered by score, 0 where nothing more was found. Our scoring (the page gives
    none): candidates are lags whose rank autocorrelation (``_autocorrelation``) is a
    local maximum above the white-noise band 2/sqrt(n); echoes of a stronger kept
    period (``_echo``) are dropped. Missing points take the mean of the others.
    """
    size = max(int(num_periods), 0)
    if size > MAX_PERIODS:
        raise ValueError(f"num_periods must be at most {MAX_PERIODS}, not {size}")
    periods, scores = [0.0] * size, [0.0] * size
    present = _present(values)
    if not present or size == 0:
        return periods, scores
    mean = sum(present) / len(present)
    filled = [mean if v is None else v for v in values]
    count = len(filled)
    first = max(MIN_PERIOD_POINTS, math.ceil(min_period))
    last = min(math.floor(max_period), count // 2)
    if first > last:
        return periods, scores
    acf = _autocorrelation(filled, last + 1)
    band = 2.0 / math.sqrt(count)

    def at(lag: int) -> float:
        return acf[lag] if 0 < lag < len(acf) else -math.inf

    candidates = [lag for lag in range(first, last + 1)
                  if acf[lag] > band and acf[lag] > at(lag - 1) and acf[lag] >= at(lag + 1)]
    kept: list[int] = []
    for lag in sorted(candidates, key=lambda p: (-acf[p], p)):
        if any(_echo(lag, base, acf, count, band) for base in kept):
            continue
        kept.append(lag)
        if len(kept) == size:
            break
    for position, lag in enumerate(kept):
        periods[position] = float(lag)
        scores[position] = min(max(acf[lag], 0.0), 1.0)
    return periods, scores


# ------------------------------------------------------------------ series_decompose


@dataclass(frozen=True)
class Decomposition:
    baseline: list[float]
    seasonal: list[float]
    trend: list[float]
    residual: Series


def _period(learn: Series, seasonality: int, threshold: float) -> int:
    """The seasonal period in bins: explicit, 0 for none, or detected (-1)."""
    if seasonality >= 0:
        return seasonality
    found, score = detect_periods(learn, MIN_PERIOD_POINTS, len(learn) / 2, 1)
    # too short a series, or no period scoring at the threshold: no seasonality
    return int(found[0]) if found[0] and score[0] >= threshold else 0


def decompose(values: Series, seasonality: int = -1, trend: str = "avg", test_points: int = 0,
              seasonality_threshold: float = 0.6) -> Decomposition:
    """series_decompose(): seasonal, then trend of what is left, baseline and residual.

    The first ``len(values) - test_points`` points are learnt from; every point gets a
    baseline. A phase without a learnt point has seasonal 0; with no learnt point at all
    every component is 0.
    """
    if trend not in TRENDS:
        raise ValueError(f"the trend must be 'avg', 'linefit' or 'none', not '{trend}'")
    if seasonality < -1:
        raise ValueError(f"the seasonality must be -1 (detect), 0 (none) or a period in bins, not {seasonality}")
    if test_points < 0:
        raise ValueError(f"test points must not be negative, not {test_points}")
    count = len(values)
    learn_count = max(count - test_points, 0)
    learn = values[:learn_count]

    period = _period(learn, seasonality, seasonality_threshold) if learn_count else 0
    if period > 0:
        phases: dict[int, list[float]] = {}
        for index, value in enumerate(learn):
            if value is not None:
                phases.setdefault(index % period, []).append(value)
        medians = {phase: median(points) for phase, points in phases.items()}
        seasonal = [medians.get(index % period, 0.0) for index in range(count)]
    else:
        seasonal = [0.0] * count

    deseasonal = [None if v is None else v - s for v, s in zip(learn, seasonal)]
    points = [(float(i), v) for i, v in enumerate(deseasonal) if v is not None]
    if trend == "none" or not points:
        trend_line = [0.0] * count
    elif trend == "avg":
        average = sum(v for _, v in points) / len(points)
        trend_line = [average] * count
    else:
        slope, intercept = _least_squares(points)
        trend_line = [slope * i + intercept for i in range(count)]

    baseline = [s + t for s, t in zip(seasonal, trend_line)]
    residual = [None if v is None else v - b for v, b in zip(values, baseline)]
    return Decomposition(baseline, seasonal, trend_line, residual)


def decompose_anomalies(values: Series, threshold: float = 1.5, seasonality: int = -1, trend: str = "avg",
                        test_points: int = 0, method: str = "ctukey",
                        seasonality_threshold: float = 0.6) -> tuple[list[int], list[float], list[float]]:
    """series_decompose_anomalies(): (ad_flag, ad_score, baseline).

    The page's three steps: decompose, score the residual with series_outliers() (the
    learning points set the percentile range), flag +1 above the threshold, -1 below
    its negative, 0 otherwise.
    """
    if method not in AD_METHODS:
        raise ValueError(f"the anomaly detection method must be 'ctukey' or 'tukey', not '{method}'")
    parts = decompose(values, seasonality, trend, test_points, seasonality_threshold)
    low, high = AD_METHODS[method]
    scores = outlier_scores(parts.residual, low, high, max(len(values) - test_points, 0))
    flags = [1 if score > threshold else -1 if score < -threshold else 0 for score in scores]
    return flags, scores, parts.baseline


# ------------------------------------------------------------------ KQL bindings


def _number(value: Any, default: float) -> float:
    """An optional numeric argument; null takes the default (as an omitted one does)."""
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)) or not math.isfinite(value):
        raise ValueError(f"expected a finite number, got {value!r}")
    return float(value)


def _integer(value: Any, default: int) -> int:
    return int(_number(value, default))


def _text(value: Any, default: str) -> str:
    if value is None or value == "":
        return default
    if not isinstance(value, str):
        raise ValueError(f"expected a string, got {value!r}")
    return value


def _kql_decompose(series: Any, seasonality: Any = None, trend: Any = None, test_points: Any = None,
                   seasonality_threshold: Any = None) -> tuple | None:
    values = numeric_series(series)
    if values is None:
        return None
    parts = decompose(values, _integer(seasonality, -1), _text(trend, "avg"), _integer(test_points, 0),
                      _number(seasonality_threshold, 0.6))
    return parts.baseline, parts.seasonal, parts.trend, parts.residual


def _kql_decompose_anomalies(series: Any, threshold: Any = None, seasonality: Any = None, trend: Any = None,
                             test_points: Any = None, method: Any = None,
                             seasonality_threshold: Any = None) -> tuple | None:
    values = numeric_series(series)
    if values is None:
        return None
    return decompose_anomalies(values, _number(threshold, 1.5), _integer(seasonality, -1), _text(trend, "avg"),
                               _integer(test_points, 0), _text(method, "ctukey"),
                               _number(seasonality_threshold, 0.6))


def _kql_periods_detect(series: Any, min_period: Any, max_period: Any, num_periods: Any) -> tuple | None:
    values = numeric_series(series)
    if values is None or min_period is None or max_period is None or num_periods is None:
        return None
    return detect_periods(values, _number(min_period, 0.0), _number(max_period, 0.0), _integer(num_periods, 0))


def _kql_fit_line(series: Any) -> tuple | None:
    values = numeric_series(series)
    if values is None:
        return None
    fit = fit_line(values)
    return fit.rsquare, fit.slope, fit.variance, fit.rvariance, fit.interception, fit.line_fit


def kql_series_outliers(series: Any, kind: Any = None, ignore_val: Any = None, min_percentile: Any = None,
                        max_percentile: Any = None, test_points: Any = None) -> list[float] | None:
    """series_outliers() over a KQL value; elements equal to ``ignore_val`` are missing, like nulls.

    ``test_points`` is the hidden sixth parameter the official language service declares:
    that many trailing points are scored but do not set the percentile range.
    """
    values = numeric_series(series)
    if values is None:
        return None
    try:
        if ignore_val is not None:
            ignored = _number(ignore_val, 0.0)
            values = [None if v == ignored else v for v in values]
        tail = _integer(test_points, 0)
        return outliers(values, _text(kind, "ctukey"), _number(min_percentile, 10.0),
                        _number(max_percentile, 90.0), max(len(values) - tail, 0) if tail else None)
    except ValueError as exc:
        raise KqlRuntimeError(f"series_outliers(): {exc}") from None


INTEGER = frozenset({"int", "long"})
NUMBER = frozenset({"int", "long", "real", "decimal"})
STRING = frozenset({"string"})
ARRAY: frozenset[str] = frozenset()  # dynamic only: any statically known scalar type is wrong


@dataclass(frozen=True)
class TupleFunction:
    """A series function that returns several columns (a tuple, in Kusto.Language's terms).

    ``members`` are the column suffixes and types; unnamed columns are called
    ``<function>_<first argument's name>_<suffix>`` (the official binder's rule, and the
    names the series_decompose_anomalies page's examples use). ``parameters`` lists the
    accepted argument types by position, as the official language service declares them.
    """

    name: str
    impl: Callable[..., tuple | None]
    members: tuple[tuple[str, str], ...]
    parameters: tuple[frozenset[str], ...]
    min_args: int
    choices: dict[int, tuple[str, ...]]  # string arguments limited to these values


TUPLE_FUNCTIONS: dict[str, TupleFunction] = {
    spec.name: spec for spec in (
        TupleFunction("series_decompose", _kql_decompose,
                      (("baseline", "dynamic"), ("seasonal", "dynamic"), ("trend", "dynamic"), ("residual", "dynamic")),
                      (ARRAY, INTEGER, STRING, INTEGER, NUMBER), 1, {2: TRENDS}),
        TupleFunction("series_decompose_anomalies", _kql_decompose_anomalies,
                      (("ad_flag", "dynamic"), ("ad_score", "dynamic"), ("baseline", "dynamic")),
                      (ARRAY, NUMBER, INTEGER, STRING, INTEGER, STRING, NUMBER), 1,
                      {3: TRENDS, 5: tuple(AD_METHODS)}),
        TupleFunction("series_periods_detect", _kql_periods_detect,
                      (("periods", "dynamic"), ("scores", "dynamic")),
                      (ARRAY, NUMBER, NUMBER, INTEGER), 4, {}),
        TupleFunction("series_fit_line", _kql_fit_line,
                      (("rsquare", "real"), ("slope", "real"), ("variance", "real"), ("rvariance", "real"),
                       ("interception", "real"), ("line_fit", "dynamic")),
                      (ARRAY,), 1, {}),
    )
}
