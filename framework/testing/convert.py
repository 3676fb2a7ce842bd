"""Typing the values a test file writes: YAML and JSON values, and text (CSV cells, ``format:``).

One reading serves fixture rows, ``defaults:``, ``repeat:`` sequences and expected rows, so
a value means the same wherever it is written. Every timespan goes through the one grammar
of :mod:`dac.testing.spans`.
"""

from __future__ import annotations

import decimal
import json
import re
from datetime import datetime
from typing import Any

from dac.errors import DacError, Location
from dac.kql import values as V
from dac.testing.clock import parse_time
from dac.testing.spans import parse_span


def convert_value(raw: Any, type_name: str, now: datetime, where: Location) -> Any:
    """A YAML or JSON value as a value of ``type_name``; times may be relative to ``now``.

    (An unquoted ``1:30:00``, a base-60 number in YAML 1.1, is refused before this by the
    schema check's YAML readings, with the advice to quote it.)
    """
    if raw is None:
        return V.default_value(type_name)
    if type_name == "timespan":
        return _span_value(raw, where)
    try:
        if type_name == "datetime" and isinstance(raw, str):
            return parse_time(raw, now)
    except ValueError as exc:
        raise DacError(f"invalid datetime {raw!r}: {exc}", where) from None
    if type_name == "string" and not isinstance(raw, str):
        raise DacError(f"expected a string, got {raw!r} (quote it)", where)
    if type_name == "bool" and not isinstance(raw, bool):
        raise DacError(f"expected true or false, got {raw!r}", where)
    if type_name in ("long", "int") and isinstance(raw, float) and not raw.is_integer():  # .inf and .nan too
        raise DacError(f"expected a whole number, got {raw!r}", where)
    value = V.convert(raw, type_name)
    if value is None and raw != "":
        raise DacError(f"{raw!r} is not a valid {type_name}", where)
    return value


def _span_value(raw: Any, where: Location) -> Any:
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        raise DacError(f"{raw!r} has no unit: a timespan is written 30s, 9m10s, 1.5h, 2d or 00:04:40", where)
    if not isinstance(raw, str):
        raise DacError(f"expected a timespan (30s, 9m10s, 1.5h, 2d or 00:04:40), got {raw!r}", where)
    try:
        return parse_span(raw)
    except ValueError as exc:
        raise DacError(str(exc), where) from None


_INTEGER = re.compile(r"^[+-]?\d+$")


def convert_text(text: str, type_name: str, now: datetime, where: Location) -> Any:
    """A CSV cell's (or ``format:`` result's) text as a value of ``type_name``.

    Text is read as Kusto writes each type: ``true``/``false``, digits, ISO datetimes (or
    ``now-5m``), spans, GUIDs, JSON for dynamic; a string column takes the text as it is.
    """
    if type_name == "string":
        return text
    if type_name == "bool":
        if text.lower() not in ("true", "false"):
            raise DacError(f"expected true or false, got {text!r}", where)
        return text.lower() == "true"
    if type_name in ("int", "long"):
        if not _INTEGER.match(text):
            raise DacError(f"expected a whole number, got {text!r}", where)
        return convert_value(int(text), type_name, now, where)
    if type_name in ("real", "decimal"):
        try:
            number = float(text) if type_name == "real" else decimal.Decimal(text)
        except (ValueError, decimal.InvalidOperation):
            raise DacError(f"expected a number, got {text!r}", where) from None
        return convert_value(number, type_name, now, where)
    if type_name == "dynamic":
        try:
            return json.loads(text)
        except ValueError:
            raise DacError(f"{text!r} is not JSON: a dynamic cell holds a JSON value (a text is written "
                           '"quoted" inside the cell\'s quotes: """text""")', where) from None
    return convert_value(text, type_name, now, where)
