"""Typing dict rows column by column: the values of a column that already are its type pass as they are.

A caller's dict rows usually hold values of their column's Python type already (a str in a
string column, a naive datetime in a datetime column); converting each one again cost most of
an evaluation over such rows. So each column is read out once, the set of its values' classes
is checked (in C), and only a column holding some other class, or a value outside its type's
range, goes value by value through the converters, which also find the row of a bad value.
"""

from __future__ import annotations

import decimal
import uuid
from datetime import datetime, timedelta
from itertools import chain
from operator import attrgetter, itemgetter
from typing import Any, Mapping, Sequence

from dac.kql import values as V
from dac.kql.bounds import INT_MAX, INT_MIN, LONG_MAX, LONG_MIN

# The one class whose values a column of each type holds as they are.
_EXACT: dict[str, type] = {"string": str, "bool": bool, "int": int, "long": int, "real": float,
                           "decimal": decimal.Decimal, "datetime": datetime, "timespan": timedelta,
                           "guid": uuid.UUID}
_RANGES = {"int": (INT_MIN, INT_MAX), "long": (LONG_MIN, LONG_MAX)}
_NONE = type(None)
_zone = attrgetter("tzinfo")


def column_names(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """Every key of the rows, in the order of first appearance."""
    return list(dict.fromkeys(chain.from_iterable(rows)))


def column_values(rows: Sequence[Mapping[str, Any]], name: str) -> list[Any]:
    """The value of ``name`` in each row, None where a row lacks it."""
    try:
        return list(map(itemgetter(name), rows))  # the common case: every row has every key
    except KeyError:
        return [row.get(name) for row in rows]


def infer_type(values: list[Any]) -> str:
    """A column's type from its values: the one scalar type of its non-null values, else dynamic.

    Nulls say nothing of the type; values of two types, arrays, bags or only nulls make the
    column dynamic.
    """
    kinds = {_kind_of(next(v for v in values if v.__class__ is cls)) for cls in set(map(type, values)) - {_NONE}}
    return kinds.pop() if len(kinds) == 1 else "dynamic"


def _kind_of(value: Any) -> str:
    kind = V.type_of_value(value)
    return kind if kind in V.SCALAR_TYPES else "dynamic"


def typed_column(values: list[Any], kind: str, name: str) -> list[Any]:
    """The values of column ``name`` as values of ``kind``: null as the type's default.

    ValueError, naming the row, for a value that does not convert (an empty string is
    every type's null).
    """
    if _as_they_are(values, kind):
        if kind == "string" and None in values:
            return ["" if value is None else value for value in values]
        return values
    default = V.default_value(kind)
    convert = V.CONVERTERS[kind]
    out = []
    for number, raw in enumerate(values, 1):
        if raw is None:
            out.append(default)
            continue
        converted = convert(raw)
        if converted is None and raw != "":
            raise ValueError(f"row {number}: column {name}: {raw!r} is not a valid {kind}")
        out.append(converted)
    return out


def _as_they_are(values: list[Any], kind: str) -> bool:
    """True when each value already is what ``kind``'s converter would make of it."""
    classes = set(map(type, values))
    classes.discard(_NONE)
    if kind == "dynamic":
        return not any(issubclass(cls, datetime) for cls in classes)  # an aware one is normalised
    exact = _EXACT[kind]
    if not classes <= {exact}:
        return False
    if not classes or kind not in _RANGES and kind != "datetime":
        return True
    present = [value for value in values if value is not None] if None in values else values
    if kind == "datetime":
        return set(map(_zone, present)) == {None}
    low, high = _RANGES[kind]
    return low <= min(present) and max(present) <= high
