"""Typed values written the way a test file reads them back (see README, Value formats).

Datetimes near the clock are written relative to it (``now-1d``, ``now-59m59s``) so the
case says what it means and stays true if ``now:`` is moved; timespans as Kusto terms
(``1d2h``, ``-30s``); strings always quoted (JSON string syntax is YAML), so ``"0"`` or
``"true"`` stay strings.
"""

from __future__ import annotations

import json
import math
import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

_UNITS = (("d", timedelta(days=1)), ("h", timedelta(hours=1)), ("m", timedelta(minutes=1)),
          ("s", timedelta(seconds=1)), ("ms", timedelta(milliseconds=1)), ("microsecond", timedelta(microseconds=1)))
_NEAR = timedelta(days=3650)  # datetimes within ten years of the clock are written relative to it


def span_text(value: timedelta) -> str:
    """``1d2h3m``, ``-30s``, ``0s``: terms that add up, as the test files' span grammar reads them."""
    if not value:
        return "0s"
    sign, rest = ("-", -value) if value < timedelta(0) else ("", value)
    terms = []
    for unit, size in _UNITS:
        count, rest = divmod(rest, size)
        if count:
            terms.append(f"{count}{unit}")
    return sign + "".join(terms)


def _iso(value: datetime) -> str:
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    return text + (f".{value.microsecond:06d}".rstrip("0") if value.microsecond else "") + "Z"


def value_text(value: Any, now: datetime) -> str:
    """``value`` (as the evaluator holds it) as a YAML flow value that a test file reads back as the same."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        return repr(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        offset = value - now
        if abs(offset) <= _NEAR:
            return '"now"' if not offset else f'"now{"+" if offset > timedelta(0) else "-"}{span_text(abs(offset))}"'
        return json.dumps(_iso(value))
    if isinstance(value, timedelta):
        return json.dumps(span_text(value))
    if isinstance(value, uuid.UUID):
        return json.dumps(str(value))
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def key_text(name: str) -> str:
    """A column name as a YAML key (quoted when YAML would read it otherwise)."""
    plain = name.replace("_", "a").isalnum() and not name[:1].isdigit() and name.lower() not in (
        "true", "false", "null", "yes", "no", "on", "off", "y", "n")
    return name if plain else json.dumps(name)


def flow_row(row: dict[str, Any], now: datetime) -> str:
    return "{" + ", ".join(f"{key_text(k)}: {value_text(v, now)}" for k, v in row.items()) + "}"
