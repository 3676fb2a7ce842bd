"""Covariances and weighted or array-valued percentiles, the statistics aggregates beyond aggregates.py's.

Each is an accumulator (``add`` one row's argument values, ``result`` the group's value, the
interface of ``aggregates.Accumulator``) that aggregates.py registers through ``register``, so
summarize plans them like every other registered aggregate: the value arguments reach ``add`` and
the constant ones (the percents) reach the factory. This module does not import aggregates.py,
which imports it.
"""

from __future__ import annotations

import math
from typing import Any, Callable

from dac.kql import values as V
from dac.kql.errors import KqlRefusedValue


def nearest_rank(pairs: list[tuple[Any, int]], percent: float) -> Any:
    """The nearest-rank percentile of (value, weight) pairs: each value counts ``weight`` times.

    The P-th percentile is the smallest value such that P percent of the data is less than or
    equal to it, and the 0th is the smallest value
    (https://learn.microsoft.com/kusto/query/percentiles-aggregation-function#nearest-rank-percentile).
    """
    if not math.isfinite(percent):
        raise KqlRefusedValue(f"a percentile at {V.format_real(percent)} percent is not reproduced: the page "
                              "defines percents from 0 to 100")
    if not pairs:
        return None
    ordered = sorted(pairs, key=lambda pair: V.sort_key(pair[0]))
    total = sum(weight for _, weight in ordered)
    rank = max(math.ceil(percent / 100 * total), 1)
    seen = 0
    for value, weight in ordered:
        seen += weight
        if seen >= rank:
            return value
    return ordered[-1][0]


def percents_of(extra: list[Any], first: int) -> list[float]:
    """The constant percents from argument ``first`` on: comma-separated, or one dynamic array of them."""
    percents: list[float] = []
    for value in extra[first:]:
        for item in value if isinstance(value, list) else [value]:
            percents.append(float(V.to_real(item)))
    return percents


class WeightedPercentiles:
    """percentilew / percentilesw / percentilesw_array / percentiles_array: nearest-rank percentiles
    where each value is repeated its weight times (weight 1 without a weight argument)
    (https://learn.microsoft.com/kusto/query/percentilesw-aggregation-function).

    A null value, or a null or non-positive weight, adds nothing: a value repeated zero times is absent.
    """

    def __init__(self, percents: list[float], weighted: bool, as_array: bool) -> None:
        self.pairs: list[tuple[Any, int]] = []
        self.percents = percents
        self.weighted = weighted
        self.as_array = as_array

    def add(self, args: list[Any]) -> None:
        value = args[0]
        weight = args[1] if self.weighted else 1
        if value is None or not isinstance(weight, int) or isinstance(weight, bool) or weight <= 0:
            return
        self.pairs.append((value, weight))

    def result(self) -> Any:
        found = [nearest_rank(self.pairs, p) for p in self.percents]
        return found if self.as_array else found[0] if len(found) == 1 else found


class Covariance:
    """covariance (sample, n - 1) and covariancep (population, n) of the rows where both values are
    non-null, optionally only those a predicate holds for
    (https://learn.microsoft.com/kusto/query/covariance-aggregation-function)."""

    def __init__(self, sample: bool, predicate: bool) -> None:
        self.pairs: list[tuple[float, float]] = []
        self.sample = sample
        self.predicate = predicate

    def add(self, args: list[Any]) -> None:
        x, y = args[0], args[1]
        if x is None or y is None or (self.predicate and V.to_bool(args[2]) is not True):
            return
        self.pairs.append((float(x), float(y)))

    def result(self) -> float:
        n = len(self.pairs)
        if n == 0 or (self.sample and n < 2):  # as variance() gives for too few values
            return 0.0
        mean_x = sum(x for x, _ in self.pairs) / n
        mean_y = sum(y for _, y in self.pairs) / n
        return sum((x - mean_x) * (y - mean_y) for x, y in self.pairs) / (n - 1 if self.sample else n)


def _same(types: list[str]) -> str:
    return types[0] if types else "dynamic"


def register(add: Callable[..., None]) -> None:
    """Register these aggregates with ``add(names, min_args, max_args, prefix, result, factory)``."""
    add(("covariance",), 2, 2, "covariance_", "real", lambda extra: Covariance(True, False))
    add(("covariancep",), 2, 2, "covariancep_", "real", lambda extra: Covariance(False, False))
    add(("covarianceif",), 3, 3, "covarianceif_", "real", lambda extra: Covariance(True, True))
    add(("covariancepif",), 3, 3, "covariancepif_", "real", lambda extra: Covariance(False, True))
    add(("percentilew",), 3, 3, "percentile_", _same,
        lambda extra: WeightedPercentiles(percents_of(extra, 2), True, False))
    add(("percentiles_array",), 2, 64, "percentiles_", "dynamic",
        lambda extra: WeightedPercentiles(percents_of(extra, 1), False, True))
    add(("percentilesw_array",), 3, 64, "percentiles_", "dynamic",
        lambda extra: WeightedPercentiles(percents_of(extra, 2), True, True))
