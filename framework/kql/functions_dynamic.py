"""Scalar functions over dynamic values: arrays, property bags, sets, JSON.

Registered into ``functions.FUNCTIONS`` on import (``functions`` imports this module).
"""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from typing import Any

import re2

from dac.kql import budget as B
from dac.kql import values as V
from dac.kql.functions import scalar

@scalar("strcmp", returns="long", args=(2, 2))
def _strcmp(a: Any, b: Any) -> int:
    left, right = V.to_string(a), V.to_string(b)
    return (left > right) - (left < right)


@scalar("zip", returns="dynamic", args=(2, 16))
def _zip(*arrays: Any) -> Any:
    if not all(isinstance(a, list) for a in arrays):
        return None
    length = max(len(a) for a in arrays)
    return [[a[i] if i < len(a) else None for a in arrays] for i in range(length)]


@scalar("range", returns="dynamic", args=(2, 3))
def _range(start: Any, stop: Any, step: Any = None) -> Any:
    """An array from start to stop by step (numbers, datetimes or timespans; the step defaults to 1,
    or 1h for times, https://learn.microsoft.com/kusto/query/range-function); at most 1,048,576 items,
    and none past 9999-12-31."""
    if step is None:
        step = timedelta(hours=1) if isinstance(start, (datetime, timedelta)) else 1
    if start is None or stop is None or not step:
        return None
    values = []
    current = start
    forward = step > step * 0
    while (current <= stop if forward else current >= stop) and len(values) < 1_048_576:
        values.append(current)
        try:
            current = current + step
        except OverflowError:
            break
    B.items(len(values))  # a call is capped, but it runs for every row
    return values


@scalar("array_length", "arraylength", returns="long", args=(1, 1))
def _array_length(value: Any) -> int | None:
    return len(value) if isinstance(value, list) else None


@scalar("pack_array", "make_array", returns="dynamic", args=(0, 64))
def _pack_array(*values: Any) -> list[Any]:
    return list(values)


@scalar("bag_pack", "pack", "pack_dictionary", returns="dynamic", args=(0, 128))
def _pack(*values: Any) -> dict[str, Any]:
    return {V.to_string(values[i]): values[i + 1] for i in range(0, len(values) - 1, 2)}


@scalar("bag_keys", returns="dynamic", args=(1, 1))
def _bag_keys(value: Any) -> Any:
    return list(value.keys()) if isinstance(value, dict) else None


@scalar("bag_has_key", returns="bool", args=(2, 2))
def _bag_has_key(value: Any, key: Any) -> Any:
    """A plain key, or a JSONPath such as ``$.a.b`` / ``$['a']``."""
    current = value
    for name in _bag_path(V.to_string(key)):
        if not isinstance(current, dict) or name not in current:
            return False
        current = current[name]
    return True


@scalar("bag_merge", returns="dynamic", args=(1, 64))
def _bag_merge(*bags: Any) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for bag in bags:
        if isinstance(bag, dict):
            for key, value in bag.items():
                merged.setdefault(key, value)
    return merged


@scalar("array_concat", returns="dynamic", args=(1, 64))
def _array_concat(*arrays: Any) -> Any:
    if not all(isinstance(a, list) for a in arrays):
        return None
    B.items(sum(map(len, arrays)))
    return [item for array in arrays for item in array]


@scalar("array_slice", returns="dynamic", args=(3, 3))
def _array_slice(array: Any, start: Any, end: Any) -> Any:
    if not isinstance(array, list):
        return None
    size = len(array)
    start, end = V.to_long(start), V.to_long(end)
    start = start + size if start < 0 else start
    end = end + size if end < 0 else end
    return array[max(start, 0):end + 1]


@scalar("array_index_of", returns="long", args=(2, 5))
def _array_index_of(array: Any, value: Any, start: Any = 0, length: Any = -1, occurrence: Any = 1) -> Any:
    """Like indexof() over an array: a negative start counts from the end, length -1 means to the end."""
    if not isinstance(array, list):
        return None
    begin = V.to_long(start) or 0
    if begin < 0:
        begin = max(len(array) + begin, 0)
    span = V.to_long(length)
    end = len(array) if span is None or span < 0 else min(begin + span, len(array))
    wanted = max(V.to_long(occurrence) or 1, 1)
    for index in range(begin, end):
        if kql_items_equal(array[index], value):
            wanted -= 1
            if wanted == 0:
                return index
    return -1


def kql_items_equal(a: Any, b: Any) -> bool:
    return V.hashable(a) == V.hashable(b)


@scalar("array_strcat", "strcat_array", returns="string", args=(2, 2))
def _array_strcat(array: Any, delimiter: Any) -> str:
    if not isinstance(array, list):
        return ""
    separator, parts = V.to_string(delimiter), [V.to_string(v) for v in array]
    B.text(sum(map(len, parts)) + len(separator) * max(len(parts) - 1, 0))
    return separator.join(parts)


def _set_items(arrays: tuple[Any, ...]) -> list[list[Any]]:
    return [a if isinstance(a, list) else [] for a in arrays]


@scalar("set_union", returns="dynamic", args=(1, 64))
def _set_union(*arrays: Any) -> list[Any]:
    seen: dict[Any, Any] = {}
    for array in _set_items(arrays):
        for item in array:
            seen.setdefault(V.hashable(item), item)
    return list(seen.values())


@scalar("set_intersect", returns="dynamic", args=(2, 64))
def _set_intersect(*arrays: Any) -> list[Any]:
    lists = _set_items(arrays)
    keys = [set(V.hashable(i) for i in a) for a in lists[1:]]
    seen: dict[Any, Any] = {}
    for item in lists[0]:
        key = V.hashable(item)
        if all(key in k for k in keys):
            seen.setdefault(key, item)
    return list(seen.values())


@scalar("set_difference", returns="dynamic", args=(2, 64))
def _set_difference(*arrays: Any) -> list[Any]:
    lists = _set_items(arrays)
    excluded = {V.hashable(i) for a in lists[1:] for i in a}
    seen: dict[Any, Any] = {}
    for item in lists[0]:
        key = V.hashable(item)
        if key not in excluded:
            seen.setdefault(key, item)
    return list(seen.values())


@scalar("set_has_element", returns="bool", args=(2, 2))
def _set_has_element(array: Any, value: Any) -> Any:
    return isinstance(array, list) and value in array


@scalar("jaccard_index", returns="real", args=(2, 2))
def _jaccard(a: Any, b: Any) -> Any:
    left = {V.hashable(i) for i in (a if isinstance(a, list) else [])}
    right = {V.hashable(i) for i in (b if isinstance(b, list) else [])}
    union = left | right
    return len(left & right) / len(union) if union else None


@scalar("extractjson", "extract_json", returns="string", args=(2, 3))
def _extractjson(path: Any, text: Any, *_type: Any) -> Any:
    value: Any = V.to_dynamic(V.to_string(text))
    for part in re2.findall(r"\[(?:'([^']*)'|\"([^\"]*)\"|(\d+))\]|\.([^.\[]+)", V.to_string(path).lstrip("$")):
        key = next(p for p in part if p != "") if any(part) else ""
        if isinstance(value, dict):
            value = value.get(key)
        elif isinstance(value, list) and key.isdigit() and int(key) < len(value):
            value = value[int(key)]
        else:
            return ""
    return V.to_string(value)


@scalar("dynamic_to_json", returns="string", args=(1, 1))
def _dynamic_to_json(value: Any) -> str:
    """Canonical JSON: keys sorted, so equal bags give equal text."""
    return V.to_json_text(value, sort_keys=True)


@scalar("array_reverse", returns="dynamic", args=(1, 1))
def _array_reverse(value: Any) -> Any:
    """https://learn.microsoft.com/kusto/query/array-reverse-function"""
    return value[::-1] if isinstance(value, list) else None


@scalar("array_sum", returns="real", args=(1, 1))
def _array_sum(value: Any) -> Any:
    """The sum as a real; null when an element is not a number
    (https://learn.microsoft.com/kusto/query/array-sum-function)."""
    if not isinstance(value, list):
        return None
    if not all(isinstance(item, (int, float)) and not isinstance(item, bool) for item in value):
        return None
    return sum((float(item) for item in value), 0.0)


@scalar("bag_remove_keys", returns="dynamic", args=(2, 2))
def _bag_remove_keys(bag: Any, keys: Any) -> Any:
    """The bag without the keys given: first-level names, or JSONPath ``$.a.b`` / ``$['a']`` for
    nested ones (array indexing is not supported), https://learn.microsoft.com/kusto/query/bag-remove-keys-function."""
    if not isinstance(bag, dict) or not isinstance(keys, list):
        return None
    result = copy.deepcopy(bag)
    for key in keys:
        path = _bag_path(V.to_string(key))
        target = result
        for name in path[:-1]:
            target = target.get(name) if isinstance(target, dict) else None
        if isinstance(target, dict) and path:
            target.pop(path[-1], None)
    return result


def _bag_path(key: str) -> list[str]:
    """A key as the names it walks through: ``a`` is one name, ``$.a.b`` and ``$['a']['b']`` two."""
    if not key.startswith("$"):
        return [key]
    return [next(part for part in found if part) for found in
            re2.findall(r"\.([^.\[]+)|\['([^']*)'\]|\[\"([^\"]*)\"\]", key[1:])]
