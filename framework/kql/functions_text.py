"""Scalar functions over text: replace_strings, indexof_regex, format_bytes, parse_version and
parse_urlquery.

Registered into ``functions.FUNCTIONS`` on import (``functions`` imports this module).
"""

from __future__ import annotations

import decimal
from typing import Any
from urllib.parse import parse_qsl

import re2

from dac.kql import values as V
from dac.kql.functions import CONSTANT_ARGUMENTS, INTEGER_ARGUMENTS, PARAMETER_TYPES, scalar


@scalar("replace_strings", returns="string", args=(3, 3))
def _replace_strings(text: Any, lookups: Any, rewrites: Any) -> str:
    """Each lookup in turn claims its matches that do not overlap an earlier lookup's, so the order
    decides (the page: ['is', 'This'] turns "This is" into "Thwas was"); a lookup that is no string is
    ignored, and a match whose rewrite is no string keeps its text but stays claimed
    (https://learn.microsoft.com/kusto/query/replace-strings-function)."""
    source = V.to_string(text)
    finds = lookups if isinstance(lookups, list) else []
    news = rewrites if isinstance(rewrites, list) else []
    claimed: list[tuple[int, int, str]] = []
    for index, lookup in enumerate(finds):
        if not isinstance(lookup, str) or not lookup:
            continue
        rewrite = news[index] if index < len(news) else None
        position = source.find(lookup)
        while position >= 0:
            end = position + len(lookup)
            if any(start < end and position < stop for start, stop, _ in claimed):
                position = source.find(lookup, position + 1)
                continue
            claimed.append((position, end, rewrite if isinstance(rewrite, str) else lookup))
            position = source.find(lookup, end)
    pieces, cursor = [], 0
    for start, stop, replacement in sorted(claimed):
        pieces.append(source[cursor:start])
        pieces.append(replacement)
        cursor = stop
    pieces.append(source[cursor:])
    return "".join(pieces)


PARAMETER_TYPES["replace_strings"] = {0: frozenset({"string"})}


@scalar("indexof_regex", returns="long", args=(2, 5))
def _indexof_regex(value: Any, pattern: Any, start: Any = 0, length: Any = -1, occurrence: Any = 1) -> int | None:
    """The position of the ``occurrence``-th match (matches do not overlap) within ``length``
    characters from ``start``; -1 when there is none, null for a negative start or occurrence or a
    length below -1 (https://learn.microsoft.com/kusto/query/indexof-regex-function; its example gives
    null for start -1)."""
    text = V.to_string(value)
    first, span, nth = V.to_long(start), V.to_long(length), V.to_long(occurrence)
    if first is None or span is None or nth is None or first < 0 or nth < 0 or span < -1:
        return None
    if first > len(text):
        return -1
    end = len(text) if span == -1 else min(first + span, len(text))
    matches = re2.compile(V.to_string(pattern)).finditer(text[first:end])
    for count, match in enumerate(matches, 1):
        if count >= max(nth, 1):
            return first + match.start()
    return -1


CONSTANT_ARGUMENTS["indexof_regex"] = frozenset({1})
INTEGER_ARGUMENTS["indexof_regex"] = frozenset({2, 3, 4})

_BYTE_UNITS = ("Bytes", "KB", "MB", "GB", "TB", "PB", "EB")


@scalar("format_bytes", returns="string", args=(1, 3))
def _format_bytes(size: Any, precision: Any = 0, units: Any = "") -> str:
    """Size in units of 1024, rounded half away from zero to ``precision`` decimals; the unit is the
    largest one the size reaches unless ``units`` names one (the page: 10332, 1 -> "10.1 KB";
    20010332, 0, "KB" -> "19541 KB") (https://learn.microsoft.com/kusto/query/format-bytes-function)."""
    number = V.to_real(size) if size is not None else None
    if number is None:
        return ""
    places = max(V.to_long(precision) or 0, 0)
    unit = V.to_string(units)
    by_name = {name.lower(): power for power, name in enumerate(_BYTE_UNITS)}
    if unit.lower() in by_name:
        power = by_name[unit.lower()]
    elif unit:
        raise ValueError(f"format_bytes() takes one of {', '.join(_BYTE_UNITS)} as its units, not {unit!r}")
    else:
        power = 0
        while power + 1 < len(_BYTE_UNITS) and abs(number) >= 1024 ** (power + 1):
            power += 1
    scaled = decimal.Decimal(number) / (1024 ** power)
    rounded = scaled.quantize(decimal.Decimal(1).scaleb(-places), rounding=decimal.ROUND_HALF_UP)
    return f"{rounded} {_BYTE_UNITS[power]}"


PARAMETER_TYPES["format_bytes"] = {0: frozenset({"number"}), 2: frozenset({"string"})}
CONSTANT_ARGUMENTS["format_bytes"] = frozenset({1, 2})

_VERSION = re2.compile(r"[0-9]{1,8}(?:\.[0-9]{1,8}){0,3}")


@scalar("parse_version", returns="decimal", args=(1, 1))
def _parse_version(value: Any) -> decimal.Decimal | None:
    """One to four dot-separated parts of up to eight digits, missing parts trailing zeros, read as
    one decimal of eight digits a part ("1.2" -> 1,00000002,00000000,00000000); null otherwise
    (https://learn.microsoft.com/kusto/query/parse-version-function)."""
    text = V.to_string(value)
    if not _VERSION.fullmatch(text):
        return None
    parts = [int(part) for part in text.split(".")] + [0] * (4 - text.count(".") - 1)
    total = 0
    for part in parts:
        total = total * 100_000_000 + part
    return decimal.Decimal(total)


PARAMETER_TYPES["parse_version"] = {0: frozenset({"string"})}


@scalar("parse_urlquery", "parseurlquery", returns="dynamic", args=(1, 1))
def _parse_urlquery(value: Any) -> dict[str, Any]:
    """{"Query Parameters": {key: value}} of a URL's query part, read as parse_url reads one
    (https://learn.microsoft.com/kusto/query/parse-url-query-function; parseurlquery is its deprecated alias)."""
    return {"Query Parameters": dict(parse_qsl(V.to_string(value), keep_blank_values=True))}


PARAMETER_TYPES["parse_urlquery"] = PARAMETER_TYPES["parseurlquery"] = {0: frozenset({"string"})}
