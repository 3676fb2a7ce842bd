"""Conversion of literal text to Python values.

Value model used across the evaluator (kept deliberately plain so fixtures,
expected rows and results are ordinary Python data):

=========  ==========================================
KQL type   Python value (None is null)
=========  ==========================================
string     str (never null: Kusto's empty string)
bool       bool
int, long  int
real       float
decimal    decimal.Decimal
datetime   datetime.datetime, naive, in UTC
timespan   datetime.timedelta
guid       uuid.UUID
dynamic    None, bool, int, float, str, list, dict (and the scalars above)
=========  ==========================================
"""

from __future__ import annotations

import decimal
import math
import re
import uuid
from datetime import datetime, timedelta
from typing import Any

from dac.kql.bounds import INT_MAX, INT_MIN, LONG_MAX, LONG_MIN, MAX_TIMESPAN, timespan_from_seconds

# The formats the datetime data type page lists
# (https://learn.microsoft.com/kusto/query/scalar-data-types/datetime#supported-formats).
# A zone is Z, a numeric offset or a name for UTC: the page's examples use GMT only, and
# guessing the offset of EST or CET would be a silent wrong answer, so other names are refused.
_ZONE = r"((?i:Z|UTC|UT|GMT)|[+-]\d{2}:?\d{2})"
# ISO 8601 and the sortable form: date, optional time (T or space), optional zone (glued or spaced).
_ISO = re.compile(
    r"^(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?)?"
    r"\s*" + _ZONE + r"?$"
)
# RFC 822 (8 Nov 14) and RFC 850 (08-Nov-14), each with an optional weekday and an optional zone.
_RFC = re.compile(
    r"^(?:([A-Za-z]+),\s*)?(\d{1,2})([ -])([A-Za-z]{3})\3(\d{2}|\d{4})"
    r"\s+(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?"
    r"(?:\s+" + _ZONE + r")?$",
    re.IGNORECASE,
)
_MONTHS = {name: number for number, name in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# .NET's invariant culture also reads US dates: 02/17/2016 08:40:01 (month first).
_US_DATE = re.compile(r"^(\d{1,2})[/-](\d{1,2})[/-](\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*(AM|PM)?)?$", re.IGNORECASE)
_TIMESPAN_CLOCK = re.compile(r"^(-)?(?:(\d+)\.)?(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?$")
_TIMESPAN_UNIT = re.compile(r"^(-?\d+(?:\.\d+)?)\s*([a-zA-Z]*)$")
_UNIT_SECONDS = {
    "": 86400.0, "d": 86400.0, "day": 86400.0, "days": 86400.0,
    "h": 3600.0, "hr": 3600.0, "hrs": 3600.0, "hour": 3600.0, "hours": 3600.0,
    "m": 60.0, "min": 60.0, "minute": 60.0, "minutes": 60.0,
    "s": 1.0, "sec": 1.0, "second": 1.0, "seconds": 1.0,
    "ms": 1e-3, "millisecond": 1e-3, "milliseconds": 1e-3,
    "microsecond": 1e-6, "microseconds": 1e-6, "tick": 1e-7, "ticks": 1e-7,
}


# The form logs and exports write (2025-01-01T17:46:31.8140000Z): read without the general path.
_CANONICAL = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.(\d{1,7}))?Z?")


def _zone_offset(zone: str | None) -> timedelta:
    """How far ahead of UTC a zone is (no zone: the text is UTC)."""
    if not zone or zone.upper() in ("Z", "UT", "UTC", "GMT"):
        return timedelta(0)
    sign = 1 if zone[0] == "+" else -1
    digits = zone[1:].replace(":", "")
    return sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))


def _at_utc(value: datetime, zone: str | None) -> datetime | None:
    """A wall-clock time in ``zone`` as UTC; null when that falls outside 0001..9999."""
    try:
        return value - _zone_offset(zone)
    except OverflowError:
        return None


def _micros(fraction: str | None) -> int:
    return int((fraction or "0").ljust(7, "0")[:6])


def _rfc(match: re.Match[str]) -> datetime | None:
    """RFC 822 / RFC 850 text; a two-digit year is 1950-2049 (.NET's window); a weekday that is
    not the date's makes the text invalid, as .NET's parser finds it."""
    weekday, day, _, month, year, hour, minute, second, fraction, zone = match.groups()
    number = _MONTHS.get(month.lower())
    if number is None:
        raise ValueError(f"unknown month {month!r}")
    full_year = int(year) if len(year) == 4 else (2000 + int(year) if int(year) < 50 else 1900 + int(year))
    value = datetime(full_year, number, int(day), int(hour), int(minute), int(second or 0), _micros(fraction))
    if weekday is not None:
        name = _WEEKDAYS[value.weekday()]
        if weekday.lower() not in (name, name[:3]):
            raise ValueError(f"{weekday} is not the weekday of {value:%Y-%m-%d}")
    return _at_utc(value, zone)


# Year, month and day apart, as the engine's lenient parser reads them: datetime(2025, 6, 14)
# is 2025-06-14 on the startofweek and endofweek pages, datetime(2017 - 08 - 01) is
# 2017-08-01 on the sliding_window_counts page.
_SPACED_DATE = re.compile(r"(\d{4})\s*([,-])\s*(\d{1,2})\s*\2\s*(\d{1,2})")


def parse_datetime(text: str) -> datetime | None:
    """Kusto datetime text: the ISO 8601, RFC 822, RFC 850 and sortable formats of the datetime
    data type page, and US month-first dates. Null for "null" and for a time that a zone shifts
    outside 0001..9999; ValueError for anything else."""
    if _CANONICAL.fullmatch(text):
        fraction = text[20:].rstrip("Z")
        return datetime(int(text[0:4]), int(text[5:7]), int(text[8:10]), int(text[11:13]), int(text[14:16]),
                        int(text[17:19]), int(fraction.ljust(7, "0")[:6]) if fraction else 0)
    text = "".join(" " if ch.isspace() else ch for ch in text).strip()
    if text.lower() == "null":
        return None
    try:
        match = _ISO.match(text)
        if match:
            year, month, day, hour, minute, second, fraction, zone = match.groups()
            value = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0),
                             _micros(fraction))
            return _at_utc(value, zone)
        match = _RFC.match(text)
        if match:
            return _rfc(match)
        match = _SPACED_DATE.fullmatch(text)
        if match:
            return datetime(int(match.group(1)), int(match.group(3)), int(match.group(4)))
        match = _US_DATE.match(text)
        if match:
            month, day, year, hour, minute, second, half = match.groups()
            hour_value = int(hour or 0)
            if half:
                hour_value = hour_value % 12 + (12 if half.upper() == "PM" else 0)
            return datetime(int(year), int(month), int(day), hour_value, int(minute or 0), int(second or 0))
    except ValueError:
        pass
    raise ValueError(f"invalid datetime literal {text!r}")


def parse_timespan(text: str) -> timedelta | None:
    """Kusto timespan text: ``1d``, ``1.5h``, ``00:05:00``, ``2.01:00:00``, ``2`` (days).

    Null beyond the timespan range (about 10675199 days either way, see ``bounds``)."""
    text = text.strip()
    if text.lower() == "null":
        return None
    match = _TIMESPAN_CLOCK.match(text)
    if match:
        negative, days, hours, minutes, seconds, fraction = match.groups()
        total = (((int(days or 0) * 24 + int(hours)) * 60 + int(minutes)) * 60 + int(seconds or 0)) * 1_000_000
        total += _micros(fraction)
        if total > MAX_TIMESPAN // timedelta(microseconds=1):
            return None
        value = timedelta(microseconds=total)
        return -value if negative else value
    match = _TIMESPAN_UNIT.match(text)
    if match and match.group(2).lower() in _UNIT_SECONDS:
        return timespan_from_seconds(float(match.group(1)) * _UNIT_SECONDS[match.group(2).lower()])
    raise ValueError(f"invalid timespan literal {text!r}")


# A datetime or timespan text with a 7th fraction digit that is not 0: a part of a microsecond.
_SUB_MICROSECOND = re.compile(r":\d{2}\.\d{6}[1-9]")


def loses_ticks(type_name: str, body: Any) -> bool:
    """Whether ``type_name(body)`` holds a part of a microsecond, which the value model (microseconds;
    Kusto counts 100 ns ticks) would drop: datetime(2017-10-30 23:00:00.1009001), 7ticks, 1.5microseconds.

    Such a literal is refused rather than truncated: the datetime-diff page's nanosecond difference
    (-700) and the datetime-part page's nanosecond part (765432100) would come out 0 and 765432000.
    """
    if type_name not in ("datetime", "date", "timespan", "time"):
        return False
    if isinstance(body, float):
        micros = body * 1e6
        # a thousandth of a microsecond: above the float noise of any lexed span (1.1d is 95040.00000000001 s)
        return math.isfinite(micros) and abs(micros - round(micros)) > 1e-3
    return bool(_SUB_MICROSECOND.search(str(body)))


def typed_literal(type_name: str, body: Any) -> Any:
    """Value of ``type_name(body)``; ``body`` is the raw text between the parentheses."""
    if isinstance(body, float) and type_name in ("timespan", "time"):
        return timespan_from_seconds(body)  # a lexed 1d, 30m...: null past the timespan range
    text = str(body).strip()
    if text.lower() == "null":
        return None
    if type_name in ("datetime", "date"):
        return parse_datetime(text)
    if type_name in ("timespan", "time"):
        return parse_timespan(text)
    if type_name in ("guid", "uuid", "uniqueid"):
        try:
            return uuid.UUID(text)
        except ValueError:
            raise ValueError(f"invalid guid literal {text!r}") from None
    if type_name == "bool":
        lowered = text.lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0"):
            return False
        raise ValueError(f"invalid bool literal {text!r}")
    if type_name in ("int", "long"):
        try:
            value = int(text, 0) if text.lower().startswith(("0x", "-0x")) else int(float(text)) if "." in text else int(text)
        except (ValueError, OverflowError):
            raise ValueError(f"invalid {type_name} literal {text!r}") from None
        low, high = (INT_MIN, INT_MAX) if type_name == "int" else (LONG_MIN, LONG_MAX)
        if not low <= value <= high:
            raise ValueError(f"{type_name} literal {text!r} is out of range ({low} to {high})")
        return value
    if type_name == "real":
        lowered = text.lower()
        special = {"nan": math.nan, "+inf": math.inf, "inf": math.inf, "-inf": -math.inf}
        if lowered in special:
            return special[lowered]
        try:
            return float(text)
        except ValueError:
            raise ValueError(f"invalid real literal {text!r}") from None
    if type_name == "decimal":
        try:
            return decimal.Decimal(text)
        except decimal.InvalidOperation:
            raise ValueError(f"invalid decimal literal {text!r}") from None
    if type_name == "string":
        return text
    raise ValueError(f"unknown literal type {type_name!r}")


class UninterpretableLiteral(ValueError):
    """Text Kusto's parser accepts as a literal whose value it cannot interpret (``dynamic([long(x)])``).

    Not a syntax error: the query parses, and the value is refused where it is used.
    """


# The typed literals the official parser accepts inside dynamic(...), each with any text between its
# parentheses (checked with @kusto/language-service-next 12.4.1), by the type their value has; int(...),
# int32(...), boolean(...), string(...), uuid(...) and uniqueid(...) are syntax errors there.
_DYNAMIC_ELEMENT_TYPES = {"bool": "bool", "long": "long", "int64": "long", "real": "real", "double": "real",
                          "decimal": "decimal", "datetime": "datetime", "date": "datetime",
                          "timespan": "timespan", "time": "timespan", "guid": "guid"}


def dynamic_from_text(text: str) -> Any:
    """Value of ``dynamic(text)``: JSON extended with KQL literals (single quotes, datetime(...))."""
    from dac.kql.lexer import T, tokenize  # local: lexer imports nothing from here

    tokens = tokenize(text)
    pos = 0
    uninterpretable: list[str] = []

    def element(word: str, body: Any) -> Any:
        """A typed literal inside the value; one whose text means nothing is noted and parsing goes on."""
        if word not in _DYNAMIC_ELEMENT_TYPES:
            raise ValueError(f"{word}(...) is not a literal inside dynamic(...)")
        if isinstance(body, str) and len(body) >= 2 and body[0] == body[-1] and body[0] in "'\"":
            body = body[1:-1]
        try:
            return typed_literal(_DYNAMIC_ELEMENT_TYPES[word], body)
        except ValueError as exc:
            uninterpretable.append(str(exc))
            return None

    def value() -> Any:
        nonlocal pos
        token = tokens[pos]
        pos += 1
        if token.is_op("["):
            items = []
            while not tokens[pos].is_op("]"):
                items.append(value())
                if tokens[pos].is_op(","):
                    pos += 1
                elif not tokens[pos].is_op("]"):
                    raise ValueError(f"expected ',' or ']' at {tokens[pos].describe()}")
            pos += 1
            return items
        if token.is_op("{"):
            bag: dict[str, Any] = {}
            while not tokens[pos].is_op("}"):
                key_token = tokens[pos]
                if key_token.kind is not T.STRING:  # the official parser wants a quoted key ({a: 1} is an error)
                    raise ValueError(f"expected a quoted property name, found {key_token.describe()}")
                pos += 1
                if not tokens[pos].is_op(":"):
                    raise ValueError(f"expected ':' after property name, found {tokens[pos].describe()}")
                pos += 1
                bag[str(key_token.value)] = value()
                if tokens[pos].is_op(","):
                    pos += 1
                elif not tokens[pos].is_op("}"):
                    raise ValueError(f"expected ',' or '}}' at {tokens[pos].describe()}")
            pos += 1
            return bag
        if token.is_op("-", "+"):
            number = value()
            if not isinstance(number, (int, float)) or isinstance(number, bool):
                raise ValueError("a sign must precede a number")
            return -number if token.text == "-" else number
        if token.kind in (T.STRING, T.INT, T.REAL):
            return token.value
        if token.kind is T.TIMESPAN:
            return timedelta(seconds=token.value)
        if token.kind is T.TYPED:
            return element(*token.value)
        if token.kind is T.IDENT:
            words = {"true": True, "false": False, "null": None}
            if token.text in words:
                return words[token.text]
            if token.text == "dynamic" and tokens[pos].is_op("("):
                pos += 1
                inner = value()
                if not tokens[pos].is_op(")"):
                    raise ValueError(f"expected ')' after the nested dynamic value, found {tokens[pos].describe()}")
                pos += 1
                return inner
            if tokens[pos].is_op("("):  # long(1), real(-1.5), bool(true): one token, a number may be signed
                at = pos + 1
                sign = tokens[at].text if tokens[at].is_op("-", "+") else ""
                at += bool(sign)
                inner = tokens[at]
                if inner.kind is not T.EOF and tokens[at + 1].is_op(")"):
                    pos = at + 2
                    body = inner.value if inner.kind is not T.IDENT else inner.text
                    return element(token.text, f"{sign}{body}" if sign else body)
        raise ValueError(f"unexpected {token.describe()}")

    if tokens[0].kind is T.EOF:
        raise ValueError("empty dynamic literal")
    result = value()
    if tokens[pos].kind is not T.EOF:
        raise ValueError(f"unexpected {tokens[pos].describe()} after the value")
    if uninterpretable:
        raise UninterpretableLiteral(uninterpretable[0])
    return result
