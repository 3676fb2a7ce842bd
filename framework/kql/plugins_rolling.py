"""rolling_percentile: a percentile over a sliding window of bins of an index column."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from dac.kql import ast
from dac.kql import values as V
from dac.kql.aggregates_stats import nearest_rank
from dac.kql.compiled import semantic, unsupported
from dac.kql.functions_math import bin_value
from dac.kql.plugins import column_position, constant_value, plugin, positional_arguments
from dac.kql.table import OPEN_COLUMN, Table

if TYPE_CHECKING:
    from dac.kql.evaluator import Evaluator
    from dac.kql.scope import Scope

_VALUES = ("int", "long", "real", "datetime", "timespan")
_NUMBERS = ("int", "long", "real")


def _bin_number(value: Any, size: Any) -> int:
    """The index of the bin of ``size`` that holds ``value`` (bins counted from 0, or from 0001-01-01 for
    datetimes, as bin() rounds), so that neighbouring bins have neighbouring numbers."""
    if isinstance(value, datetime):
        return V.ticks_of_datetime(value) // V.to_long(size)
    if isinstance(value, timedelta):
        return V.to_long(value) // V.to_long(size)
    return math.floor(value / size)


@plugin("rolling_percentile")
def rolling_percentile(evaluator: "Evaluator", call: ast.Call, table: Table, scope: "Scope") -> Table:
    """``rolling_percentile(Value, Percentile, Index, BinSize, BinsPerWindow [, dim...])``: per bin of
    Index (bin(Index, BinSize)) and combination of the dimensions, the nearest-rank percentile of the
    values in the window of BinsPerWindow bins ending at that bin, inclusive
    (https://learn.microsoft.com/kusto/query/rolling-percentile-plugin). Refused, as the page does not
    say: a bin without rows between bins with rows (whether it gets a row), and a percentile that is not
    a whole number (how the column name writes it)."""
    positional = positional_arguments(call, table, 5, "a value column, a percentile, an index column, a bin size, "
                                                       "a number of bins per window and optionally dimension columns")
    if positional is None:
        return Table([OPEN_COLUMN])
    value = column_position(table, positional[0], "rolling_percentile(): the value")
    index = column_position(table, positional[2], "rolling_percentile(): the index")
    dims = [column_position(table, d, "rolling_percentile(): a dimension") for d in positional[5:]]
    value_name, value_type = table.columns[value]
    index_type = table.columns[index][1]
    if value_type not in _VALUES:
        raise semantic(positional[0], f"rolling_percentile(): the value column must be a number, datetime or "
                                      f"timespan, not {value_type}")
    percent = constant_value(evaluator, positional[1], scope, "rolling_percentile(): the percentile",
                             _NUMBERS, table)
    if not isinstance(percent, int):
        raise unsupported(positional[1], "rolling_percentile(): a percentile that is not a whole number is not "
                                         "supported by the evaluator (the page does not say how it is named)")
    if not 0 <= percent <= 100:
        raise semantic(positional[1], "rolling_percentile(): the percentile must be from 0 to 100")
    size = constant_value(evaluator, positional[3], scope, "rolling_percentile(): the bin size",
                          _NUMBERS + ("timespan",), table)
    window = constant_value(evaluator, positional[4], scope, "rolling_percentile(): the bins per window",
                            ("int", "long"), table)
    if index_type not in ("datetime", "timespan") + _NUMBERS:
        raise semantic(positional[2], f"rolling_percentile(): the index column must be a datetime, timespan or "
                                      f"number, not {index_type}")
    if (index_type in _NUMBERS) == isinstance(size, timedelta) or size is None \
            or (size <= timedelta(0) if isinstance(size, timedelta) else size <= 0):
        raise semantic(positional[3], "rolling_percentile(): the bin size must be positive, a timespan for a "
                                      "datetime or timespan index and a number for a numeric one")
    if window is None or window < 1:
        raise semantic(positional[4], "rolling_percentile(): the bins per window must be positive")
    groups: dict[tuple, dict[int, tuple[Any, list]]] = {}
    keys: dict[tuple, tuple] = {}
    for row in table.rows:
        if row[index] is None:
            continue
        key = tuple(V.hashable(row[d]) for d in dims)
        keys.setdefault(key, tuple(row[d] for d in dims))
        cell = groups.setdefault(key, {}).setdefault(_bin_number(row[index], size),
                                                     (bin_value(row[index], size), []))
        if row[value] is not None:
            cell[1].append((row[value], 1))
    out = []
    for key, bins in groups.items():
        numbers = sorted(bins)
        if numbers[-1] - numbers[0] + 1 != len(numbers):
            raise unsupported(call, "rolling_percentile(): a bin without rows between bins with rows is not "
                                    "supported by the evaluator (the page does not say whether it gets a row)")
        for number in numbers:
            pairs = [pair for earlier in range(number - window + 1, number + 1) if earlier in bins
                     for pair in bins[earlier][1]]
            out.append((bins[number][0],) + keys[key] + (nearest_rank(pairs, float(percent)),))
    evaluator.budget.rows(len(out), call, "rolling_percentile")
    columns = [table.columns[index]] + [table.columns[d] for d in dims] + [
        (f"rolling_{window}_percentile_{value_name}_{percent}", value_type)]
    return Table(columns, out)
