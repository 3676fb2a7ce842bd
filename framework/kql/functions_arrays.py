"""Scalar functions that build or rearrange dynamic arrays and bags: repeat, array_iff, the
rotations and shifts, array_split, bag_set_key, bag_zip.

Registered into ``functions.FUNCTIONS`` on import (``functions`` imports this module). A value
that is no array (or no bag) where one is required gives null, as the pages' examples do.
"""

from __future__ import annotations

import copy
import decimal
from typing import Any

from dac.kql import values as V
from dac.kql.errors import KqlRuntimeError
from dac.kql.functions import INTEGER_ARGUMENTS, PARAMETER_TYPES, scalar

MAX_ITEMS = 1_048_576  # the longest array the evaluator builds (as range() does)


@scalar("repeat", returns="dynamic", args=(2, 2))
def _repeat(value: Any, count: Any) -> list[Any] | None:
    """``count`` copies of ``value``: [] for 0, null for a negative count
    (https://learn.microsoft.com/kusto/query/repeat-function)."""
    times = V.to_long(count)
    if times is None or times < 0:
        return None
    if times > MAX_ITEMS:
        raise KqlRuntimeError(f"repeat() would build an array of more than {MAX_ITEMS} items")
    return [value] * times


INTEGER_ARGUMENTS["repeat"] = frozenset({1})


def _condition(item: Any) -> bool | None:
    """A condition element: a bool, or a number (true when not 0); anything else is no condition."""
    if isinstance(item, bool):
        return item
    if isinstance(item, (int, float, decimal.Decimal)):
        return item != 0
    return None


def _pick(source: Any, index: int) -> Any:
    if isinstance(source, list):
        return source[index] if index < len(source) else None
    return source


@scalar("array_iff", "array_iif", returns="dynamic", args=(3, 3))
def _array_iff(conditions: Any, when_true: Any, when_false: Any) -> list[Any] | None:
    """Element-wise iff (https://learn.microsoft.com/kusto/query/array-iff-function): numbers are
    true when not 0, other conditions give null, and a shorter value array gives null past its end;
    a scalar ``when_true``/``when_false`` is used for every element."""
    if not isinstance(conditions, list):
        return None
    out = []
    for index, item in enumerate(conditions):
        flag = _condition(item)
        out.append(None if flag is None else _pick(when_true if flag else when_false, index))
    return out


def _rotated(array: Any, count: Any) -> list[Any] | None:
    """``array`` rotated left by ``count`` (right when negative)."""
    steps = V.to_long(count)
    if not isinstance(array, list) or steps is None:
        return None
    if not array:
        return []
    steps %= len(array)
    return array[steps:] + array[:steps]


@scalar("array_rotate_left", returns="dynamic", args=(2, 2))
def _array_rotate_left(array: Any, count: Any) -> list[Any] | None:
    """https://learn.microsoft.com/kusto/query/array-rotate-left-function"""
    return _rotated(array, count)


@scalar("array_rotate_right", returns="dynamic", args=(2, 2))
def _array_rotate_right(array: Any, count: Any) -> list[Any] | None:
    """https://learn.microsoft.com/kusto/query/array-rotate-right-function"""
    steps = V.to_long(count)
    return _rotated(array, None if steps is None else -steps)


def _shifted(array: Any, count: Any, fill: Any, given: bool) -> list[Any] | None:
    """``array`` shifted left by ``count`` (right when negative), the emptied places set to ``fill``;
    without one, "" for an array of strings and null otherwise (the page: "null or an empty string
    depending on the type of elements")."""
    steps = V.to_long(count)
    if not isinstance(array, list) or steps is None:
        return None
    if not given:
        present = [item for item in array if item is not None]
        fill = "" if present and all(isinstance(item, str) for item in present) else None
    size = len(array)
    steps = max(-size, min(size, steps))
    if steps >= 0:
        return array[steps:] + [fill] * steps
    return [fill] * -steps + array[:size + steps]


@scalar("array_shift_left", returns="dynamic", args=(2, 3))
def _array_shift_left(array: Any, count: Any, *fill: Any) -> list[Any] | None:
    """https://learn.microsoft.com/kusto/query/array-shift-left-function"""
    return _shifted(array, count, fill[0] if fill else None, bool(fill))


@scalar("array_shift_right", returns="dynamic", args=(2, 3))
def _array_shift_right(array: Any, count: Any, *fill: Any) -> list[Any] | None:
    """https://learn.microsoft.com/kusto/query/array-shift-right-function"""
    steps = V.to_long(count)
    return _shifted(array, None if steps is None else -steps, fill[0] if fill else None, bool(fill))


for _name in ("array_rotate_left", "array_rotate_right", "array_shift_left", "array_shift_right"):
    INTEGER_ARGUMENTS[_name] = frozenset({1})


@scalar("array_split", returns="dynamic", args=(2, 2))
def _array_split(array: Any, indices: Any) -> list[list[Any]] | None:
    """N indices give N + 1 arrays, [0..i1), [i1..i2) ... [iN..length); a negative index counts from
    the end (https://learn.microsoft.com/kusto/query/array-split-function)."""
    if not isinstance(array, list):
        return None
    points = indices if isinstance(indices, list) else [indices]
    size, bounds = len(array), []
    for point in points:
        if isinstance(point, bool) or not isinstance(point, int):
            return None
        position = size + point if point < 0 else point
        bounds.append(max(0, min(size, position)))
    edges = [0, *bounds, size]
    return [array[edges[i]:max(edges[i], edges[i + 1])] for i in range(len(edges) - 1)]


def _path(key: str) -> list[str]:
    """A root key, or a dotted JSONPath '$.a.b'; array indexing and the bare root are not keys."""
    if not key.startswith("$"):
        return [key]
    parts = key[1:].split(".")
    if key == "$" or parts[0] != "" or any(not part or "[" in part or "]" in part for part in parts[1:]):
        raise ValueError(f"bag_set_key() takes a root key or a dotted JSONPath ('$.a.b'), not {key!r}")
    return parts[1:]


@scalar("bag_set_key", returns="dynamic", args=(3, 3))
def _bag_set_key(bag: Any, key: Any, value: Any) -> dict[str, Any] | None:
    """The bag with ``key`` set to ``value``, the levels of a JSONPath made as needed; null when
    ``bag`` is no property bag (https://learn.microsoft.com/kusto/query/bag-set-key-function)."""
    if not isinstance(bag, dict):
        return None
    path = _path(V.to_string(key))
    result = copy.deepcopy(bag)
    level = result
    for name in path[:-1]:
        inner = level.setdefault(name, {})
        if not isinstance(inner, dict):
            raise KqlRuntimeError(f"bag_set_key(): '{name}' holds a {V.type_of_value(inner)}, not a property "
                                  "bag; what Kusto does then is not documented")
        level = inner
    level[path[-1]] = value
    return result


PARAMETER_TYPES["bag_set_key"] = {1: frozenset({"string"})}


@scalar("bag_zip", returns="dynamic", args=(2, 2))
def _bag_zip(keys: Any, values: Any) -> dict[str, Any] | None:
    """A bag of the string keys with the values at the same positions: null past the values' end, or
    for every key when the values are no array; keys that are no strings are left out
    (https://learn.microsoft.com/kusto/query/bag-zip)."""
    if not isinstance(keys, list):
        return None
    listed = values if isinstance(values, list) else []
    return {key: (listed[index] if index < len(listed) else None)
            for index, key in enumerate(keys) if isinstance(key, str)}
