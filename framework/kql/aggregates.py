"""Aggregation functions for ``summarize``.

An aggregate is compiled into an accumulator class: ``add`` sees one row's
argument values, ``result`` gives the group's value. Null handling follows
Kusto: nulls are ignored by sum/avg/min/max/dcount/make_set, counted by count().
"""

from __future__ import annotations

import decimal
import math
from dataclasses import dataclass
from typing import Any, Callable

from dac.kql import aggregates_schema, aggregates_stats
from dac.kql import values as V
from dac.kql.bounds import LongOverflow, within_range
from dac.kql.errors import KqlRuntimeError

DEFAULT_SET_LIMIT = 1_048_576
# makelist, makeset and make_dictionary, the deprecated spellings, keep at most 128 values by default
# (https://learn.microsoft.com/kusto/query/make-list-aggregation-function).
DEPRECATED_SET_LIMIT = 128


class Accumulator:
    def add(self, args: list[Any]) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def result(self) -> Any:  # pragma: no cover - interface
        raise NotImplementedError


def _true(value: Any) -> bool:
    return V.to_bool(value) is True


class Count(Accumulator):
    def __init__(self, predicate: bool) -> None:
        self.n = 0
        self.predicate = predicate

    def add(self, args: list[Any]) -> None:
        if not self.predicate or _true(args[-1]):
            self.n += 1

    def result(self) -> int:
        return self.n


class DCount(Accumulator):
    """Exact distinct count; Kusto's estimate is exact for the small cardinalities of fixtures."""

    def __init__(self, predicate: bool) -> None:
        self.seen: set[Any] = set()
        self.predicate = predicate

    def add(self, args: list[Any]) -> None:
        if args[0] is None or (self.predicate and not _true(args[1])):
            return
        self.seen.add(V.hashable(args[0]))

    def result(self) -> int:
        return len(self.seen)


class Sum(Accumulator):
    def __init__(self, predicate: bool) -> None:
        self.total: Any = None
        self.predicate = predicate

    def add(self, args: list[Any]) -> None:
        """A long or timespan total that leaves its 64-bit range fails the query, as the overflow
        page's own example (an aggregation's accumulation) does: https://learn.microsoft.com/kusto/concepts/overflow."""
        value = args[0]
        if value is None or isinstance(value, str) or (self.predicate and not _true(args[1])):
            return
        if self.total is None:
            self.total = value
            return
        try:
            total = within_range(self.total + value)
        except TypeError:  # a dynamic column mixing kinds: only what adds up is summed
            return
        except OverflowError:  # Python's own timedelta limit, past Kusto's
            total = None
        if total is None:
            raise LongOverflow("timespan")
        self.total = total

    def result(self) -> Any:
        return 0 if self.total is None else self.total  # the sum of no values is 0


class Avg(Accumulator):
    def __init__(self, predicate: bool) -> None:
        self.total = 0.0
        self.n = 0
        self.predicate = predicate

    def add(self, args: list[Any]) -> None:
        value = args[0]
        if value is None or (self.predicate and not _true(args[1])):
            return
        self.total += float(value)
        self.n += 1

    def result(self) -> Any:
        return self.total / self.n if self.n else math.nan  # avg of no values is NaN


class Extreme(Accumulator):
    def __init__(self, predicate: bool, largest: bool) -> None:
        self.best: Any = None
        self.predicate = predicate
        self.largest = largest

    def add(self, args: list[Any]) -> None:
        value = args[0]
        if value is None or (self.predicate and not _true(args[1])):
            return
        if isinstance(value, float) and math.isnan(value):
            return
        if self.best is None or (V.sort_key(value) > V.sort_key(self.best)) == self.largest and value != self.best:
            self.best = value

    def result(self) -> Any:
        return self.best


class MakeSet(Accumulator):
    """make_set, make_list and make_list_with_nulls (``keep_nulls``), with and without a predicate."""

    def __init__(self, predicate: bool, distinct: bool, limit: int, keep_nulls: bool = False) -> None:
        self.items: list[Any] = []
        self.keys: set[Any] = set()
        self.predicate = predicate
        self.distinct = distinct
        self.limit = limit
        self.keep_nulls = keep_nulls

    def add(self, args: list[Any]) -> None:
        value = args[0]
        if (value is None and not self.keep_nulls) or len(self.items) >= self.limit:
            return
        if self.predicate and not _true(args[1]):
            return
        if isinstance(value, list) and self.distinct:
            # make_set over an array column adds each element (Kusto flattens arrays)
            for item in value:
                self._push(item)
            return
        self._push(value)

    def _push(self, value: Any) -> None:
        if len(self.items) >= self.limit:
            return
        if self.distinct:
            key = V.hashable(value)
            if key in self.keys:
                return
            self.keys.add(key)
        self.items.append(value)

    def result(self) -> list[Any]:
        return self.items


class MakeBag(Accumulator):
    def __init__(self, predicate: bool, limit: int = DEFAULT_SET_LIMIT) -> None:
        self.bag: dict[str, Any] = {}
        self.predicate = predicate
        self.limit = limit

    def add(self, args: list[Any]) -> None:
        if isinstance(args[0], dict) and (not self.predicate or _true(args[1])):
            for key, value in args[0].items():
                if len(self.bag) >= self.limit:
                    return
                self.bag.setdefault(key, value)

    def result(self) -> dict[str, Any]:
        return self.bag


class TakeAny(Accumulator):
    """take_any: some row's values; with a single column, a non-empty value is preferred
    (https://learn.microsoft.com/kusto/query/take-any-aggregation-function)."""

    def __init__(self) -> None:
        self.value: Any = None
        self.taken = False

    def add(self, args: list[Any]) -> None:
        if not self.taken:
            self.value = args
            self.taken = len(args) != 1 or args[0] not in (None, "")

    def result(self) -> Any:
        return self.value


class TakeAnyIf(Accumulator):
    """take_anyif(expr, predicate): some value among the rows the predicate holds for, a non-empty one
    when there is one; null when it holds for none (https://learn.microsoft.com/kusto/query/take-anyif-aggregation-function)."""

    def __init__(self) -> None:
        self.value: Any = None

    def add(self, args: list[Any]) -> None:
        if self.value in (None, "") and _true(args[1]):
            self.value = args[0]

    def result(self) -> Any:
        return self.value


class BinaryAll(Accumulator):
    """binary_all_and/or/xor: the bitwise fold of the group's non-null longs, null for none
    (https://learn.microsoft.com/kusto/query/binary-all-and-aggregation-function)."""

    def __init__(self, fold: Callable[[int, int], int]) -> None:
        self.total: int | None = None
        self.fold = fold

    def add(self, args: list[Any]) -> None:
        value = args[0]
        if value is None or isinstance(value, bool) or not isinstance(value, int):
            return
        self.total = value if self.total is None else self.fold(self.total, value)

    def result(self) -> Any:
        return self.total


class ArgExtreme(Accumulator):
    """arg_max/arg_min: keep the whole row values of the extreme; first one wins on ties."""

    def __init__(self, largest: bool) -> None:
        self.best: Any = None
        self.row: list[Any] | None = None
        self.largest = largest

    def add(self, args: list[Any]) -> None:
        value = args[0]
        if value is None:
            if self.row is None:
                self.row = list(args)
            return
        if self.best is None:
            self.best, self.row = value, list(args)
            return
        better = V.sort_key(value) > V.sort_key(self.best) if self.largest else V.sort_key(value) < V.sort_key(self.best)
        if better:
            self.best, self.row = value, list(args)

    def result(self) -> Any:
        return self.row


class Variance(Accumulator):
    def __init__(self, sample: bool, root: bool, predicate: bool = False) -> None:
        self.values: list[float] = []
        self.sample = sample
        self.root = root
        self.predicate = predicate

    def add(self, args: list[Any]) -> None:
        if args[0] is not None and (not self.predicate or _true(args[1])):
            self.values.append(float(args[0]))

    def result(self) -> Any:
        n = len(self.values)
        if n == 0 or (self.sample and n < 2):
            return 0.0
        mean = sum(self.values) / n
        var = sum((v - mean) ** 2 for v in self.values) / (n - 1 if self.sample else n)
        return math.sqrt(var) if self.root else var


@dataclass(frozen=True)
class Aggregate:
    """A registered aggregate: how many value arguments, how to name and type its column."""

    name: str
    min_args: int
    max_args: int
    prefix: str  # default column name is prefix + first column name
    result: Callable[[list[str]], str]
    factory: Callable[[list[Any]], Accumulator]  # receives constant extra args (limits, percent)


def _same(types: list[str]) -> str:
    return types[0] if types else "dynamic"


def _sum_type(types: list[str]) -> str:
    """sum() widens int to long, as Kusto does."""
    return "long" if types and types[0] == "int" else _same(types)


def _limit(extra: list[Any], index: int, default: int = DEFAULT_SET_LIMIT) -> int:
    return int(extra[index]) if len(extra) > index and extra[index] is not None else default


AGGREGATES: dict[str, Aggregate] = {}


def _register(names: tuple[str, ...], min_args: int, max_args: int, prefix: str, result: Any, factory: Any) -> None:
    rule = result if callable(result) else (lambda _t, _r=result: _r)
    for name in names:
        AGGREGATES[name] = Aggregate(name, min_args, max_args, prefix, rule, factory)


_register(("count",), 0, 1, "count_", "long", lambda extra: Count(False))
_register(("countif",), 1, 1, "countif_", "long", lambda extra: Count(True))
_register(("dcount", "count_distinct"), 1, 2, "dcount_", "long", lambda extra: DCount(False))
_register(("dcountif", "count_distinctif"), 2, 3, "dcountif_", "long", lambda extra: DCount(True))
_register(("sum",), 1, 1, "sum_", _sum_type, lambda extra: Sum(False))
_register(("sumif",), 2, 2, "sumif_", _sum_type, lambda extra: Sum(True))
_register(("avg",), 1, 1, "avg_", "real", lambda extra: Avg(False))
_register(("avgif",), 2, 2, "avgif_", "real", lambda extra: Avg(True))
_register(("min",), 1, 1, "min_", _same, lambda extra: Extreme(False, False))
_register(("max",), 1, 1, "max_", _same, lambda extra: Extreme(False, True))
_register(("minif",), 2, 2, "minif_", _same, lambda extra: Extreme(True, False))
_register(("maxif",), 2, 2, "maxif_", _same, lambda extra: Extreme(True, True))
_register(("make_set",), 1, 2, "set_", "dynamic", lambda extra: MakeSet(False, True, _limit(extra, 1)))
_register(("makeset",), 1, 2, "set_", "dynamic",
          lambda extra: MakeSet(False, True, _limit(extra, 1, DEPRECATED_SET_LIMIT)))
_register(("make_set_if",), 2, 3, "set_", "dynamic", lambda extra: MakeSet(True, True, _limit(extra, 2)))
_register(("make_list",), 1, 2, "list_", "dynamic", lambda extra: MakeSet(False, False, _limit(extra, 1)))
_register(("makelist",), 1, 2, "list_", "dynamic",
          lambda extra: MakeSet(False, False, _limit(extra, 1, DEPRECATED_SET_LIMIT)))
_register(("make_list_if",), 2, 3, "list_", "dynamic", lambda extra: MakeSet(True, False, _limit(extra, 2)))
# https://learn.microsoft.com/kusto/query/make-list-with-nulls-aggregation-function
_register(("make_list_with_nulls",), 1, 2, "list_", "dynamic",
          lambda extra: MakeSet(False, False, _limit(extra, 1), keep_nulls=True))
_register(("make_bag",), 1, 2, "bag_", "dynamic", lambda extra: MakeBag(False, _limit(extra, 1)))
_register(("make_dictionary",), 1, 2, "dictionary_", "dynamic",
          lambda extra: MakeBag(False, _limit(extra, 1, DEPRECATED_SET_LIMIT)))
_register(("make_bag_if",), 2, 3, "bag_", "dynamic", lambda extra: MakeBag(True, _limit(extra, 2)))
_register(("stdev",), 1, 1, "stdev_", "real", lambda extra: Variance(True, True))
_register(("stdevp",), 1, 1, "stdevp_", "real", lambda extra: Variance(False, True))
_register(("variance",), 1, 1, "variance_", "real", lambda extra: Variance(True, False))
_register(("variancep",), 1, 1, "variancep_", "real", lambda extra: Variance(False, False))
# https://learn.microsoft.com/kusto/query/stdevif-aggregation-function (and varianceif, variancepif)
_register(("stdevif",), 2, 2, "stdevif_", "real", lambda extra: Variance(True, True, predicate=True))
_register(("varianceif",), 2, 2, "varianceif_", "real", lambda extra: Variance(True, False, predicate=True))
_register(("variancepif",), 2, 2, "variancepif_", "real", lambda extra: Variance(False, False, predicate=True))
_register(("take_anyif", "anyif"), 2, 2, "take_anyif_", _same, lambda extra: TakeAnyIf())
_register(("binary_all_and",), 1, 1, "binary_all_and_", "long", lambda extra: BinaryAll(lambda a, b: a & b))
_register(("binary_all_or",), 1, 1, "binary_all_or_", "long", lambda extra: BinaryAll(lambda a, b: a | b))
_register(("binary_all_xor",), 1, 1, "binary_all_xor_", "long", lambda extra: BinaryAll(lambda a, b: a ^ b))
_register(("percentile",), 2, 2, "percentile_", _same,
          lambda extra: aggregates_stats.WeightedPercentiles(aggregates_stats.percents_of(extra, 1), False, False))
aggregates_stats.register(_register)
aggregates_schema.register(_register)

# The argument types Kusto's binder insists on, settled with the official language service:
# avg/sum/stdev/variance/percentile want a summable value ("The argument value must be
# summable: a number, timespan or datetime"; bool, string and dynamic are errors), an *if
# predicate a bool ("A value of type bool expected"), a size limit an integer ("The
# expression value must be an integer"), a percent a number.
_SUMMABLE = frozenset({"int", "long", "real", "decimal", "timespan", "datetime"})
_NUMBERS = frozenset({"int", "long", "real", "decimal"})
_SUMMED = {"sum": 0, "sumif": 0, "avg": 0, "avgif": 0, "stdev": 0, "stdevp": 0, "variance": 0, "variancep": 0,
           "stdevif": 0, "varianceif": 0, "variancepif": 0, "percentile": 0, "percentilew": 0, "percentiles_array": 0,
           "percentilesw_array": 0, "covariance": 0, "covariancep": 0, "covarianceif": 0, "covariancepif": 0}
# The second value of a covariance is summable too.
_SUMMED_SECOND = frozenset({"covariance", "covariancep", "covarianceif", "covariancepif"})
# What this evaluator computes over numbers only (sum: and timespans): Kusto also averages
# (and so on) timespans and datetimes, with result types this evaluator does not reproduce,
# so those are refused rather than guessed.
_NUMERIC_HERE = frozenset({"avg", "avgif", "stdev", "stdevp", "stdevif", "variance", "variancep", "varianceif",
                           "variancepif", "percentile", "percentilew", "percentiles_array",
                           "percentilesw_array"}) | _SUMMED_SECOND
# The aggregates whose accumulator reads its first argument as a number (see numeric_guard).
NUMERIC_AGGREGATES = _NUMERIC_HERE
_PREDICATE = {"countif": 0, "sumif": 1, "avgif": 1, "minif": 1, "maxif": 1, "dcountif": 1, "make_set_if": 1,
              "make_list_if": 1, "make_bag_if": 1, "stdevif": 1, "varianceif": 1, "variancepif": 1, "covarianceif": 2,
              "covariancepif": 2}
# Where the weight of a weighted percentile is: "The expression value must be an integer".
WEIGHT = {"percentilew": 1, "percentilesw": 1, "percentilesw_array": 1}
# Where the percents of a percentile aggregate start: they must be constant numbers (or, for the
# _array forms, one constant dynamic array of numbers).
PERCENTS_FROM = {"percentile": 1, "percentiles": 1, "percentilew": 2, "percentilesw": 2, "percentiles_array": 1,
                 "percentilesw_array": 2}
_LIMIT = {"make_set": 1, "makeset": 1, "make_list": 1, "makelist": 1, "make_list_with_nulls": 1, "make_bag": 1,
          "make_dictionary": 1, "make_set_if": 2, "make_list_if": 2, "make_bag_if": 2, "dcount": 1, "dcountif": 2}


def numeric_guard(name: str, fn: Callable[[Any], Any], node: Any) -> Callable[[Any], Any]:
    """``fn`` (a dynamic argument of an aggregate that computes over numbers) checked row by row.

    A dynamic column dac cannot type statically (a bag's member, an open table's column) may
    hold numbers, which are averaged; anything else fails the query at the argument rather
    than being skipped or guessed (Kusto's binder refuses a dynamic argument outright).
    """

    def checked(row: Any) -> Any:
        value = fn(row)
        if value is None or (isinstance(value, (int, float, decimal.Decimal)) and not isinstance(value, bool)):
            return value
        raise KqlRuntimeError(f"{name}(): the value {V.to_string(value)!r} is not a number", node.line, node.column)

    return checked


def argument_problem(name: str, types: list[str]) -> tuple[int, str, bool] | None:
    """(argument index, message, refused) for arguments Kusto rejects or this evaluator refuses, else None.

    ``refused`` is true for valid Kusto this evaluator does not compute (an unsupported
    error), false for what Kusto's binder reports (a semantic error).
    """
    index = _SUMMED.get(name)
    if index is not None and index < len(types):
        kind = types[index]
        if kind not in _SUMMABLE and kind != "dynamic":
            return index, f"{name}(): the argument must be summable: a number, timespan or datetime, not {kind}", False
        if (name in _NUMERIC_HERE and kind not in _NUMBERS | {"dynamic"}) or (name in ("sum", "sumif") and kind == "datetime"):
            return index, f"{name}() of a {kind} is not supported by the evaluator", True
    if name in _SUMMED_SECOND and len(types) > 1:
        if types[1] not in _SUMMABLE:
            return 1, f"{name}(): the argument must be summable: a number, timespan or datetime, not {types[1]}", False
        if types[1] not in _NUMBERS:
            return 1, f"{name}() of a {types[1]} is not supported by the evaluator", True
    index = WEIGHT.get(name)
    if index is not None and index < len(types) and types[index] not in ("int", "long"):
        return index, f"{name}(): the weight must be an integer, not {types[index]}", False
    index = _PREDICATE.get(name)
    if index is not None and index < len(types) and types[index] not in ("bool", "dynamic"):
        return index, f"{name}(): the predicate must be a bool, not {types[index]}", False
    index = _LIMIT.get(name)
    if index is not None and index < len(types) and types[index] not in ("int", "long"):
        return index, f"{name}(): the size argument must be an integer, not {types[index]}", False
    index = PERCENTS_FROM.get(name)
    if index is not None:
        allowed = _NUMBERS | {"dynamic"} if name.endswith("_array") else _NUMBERS
        for position in range(index, len(types)):
            if types[position] not in allowed:
                return position, f"{name}(): the percent must be a number, not {types[position]}", False
    return None


# arg_max / arg_min / take_any return several columns; the evaluator expands them.
MULTI_COLUMN = {"arg_max": True, "argmax": True, "arg_min": False, "argmin": False}
TAKE_ANY = {"take_any", "any"}
# Every aggregate summarize evaluates: the registered ones and the few it plans itself.
AGGREGATE_NAMES = frozenset(AGGREGATES) | frozenset(MULTI_COLUMN) | frozenset(TAKE_ANY) | {"percentiles", "percentilesw"}
