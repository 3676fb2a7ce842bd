"""Value helpers shared by the evaluator: conversions, string terms, ordering.

Each helper implements a documented Kusto rule (see the citations in
tests/conformance); the value model is described in ``literals``.
"""

from __future__ import annotations

import decimal
import json
import re
import math
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from dac.kql.bounds import LONG_MAX, LONG_MIN, int_or_null, long_or_null, timespan_from_ticks
from dac.kql.budget import dynamic
from dac.kql.literals import parse_datetime, parse_timespan

SCALAR_TYPES = ("bool", "int", "long", "real", "decimal", "datetime", "timespan", "guid", "string", "dynamic")
NUMERIC = ("int", "long", "real", "decimal")


def type_of_value(value: Any) -> str:
    """The KQL type name a Python value stands for (used for dynamic values)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "long"
    if isinstance(value, float):
        return "real"
    if isinstance(value, decimal.Decimal):
        return "decimal"
    if isinstance(value, str):
        return "string"
    if isinstance(value, datetime):
        return "datetime"
    if isinstance(value, timedelta):
        return "timespan"
    if isinstance(value, uuid.UUID):
        return "guid"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "dictionary"
    return "dynamic"


def format_datetime_iso(value: datetime) -> str:
    """``2024-01-02T03:04:05.0000000Z``: tostring() always writes the seven tick digits."""
    return value.strftime("%Y-%m-%dT%H:%M:%S") + f".{value.microsecond:06d}0Z"


def format_timespan(value: timedelta) -> str:
    """Kusto's constant format ``[-][d.]hh:mm:ss[.fffffff]``."""
    ticks = (value.days * 86400 + value.seconds) * 10_000_000 + value.microseconds * 10
    sign = "-" if ticks < 0 else ""
    ticks = abs(ticks)
    seconds, fraction = divmod(ticks, 10_000_000)
    minutes, second = divmod(seconds, 60)
    hours, minute = divmod(minutes, 60)
    days, hour = divmod(hours, 24)
    text = f"{sign}{f'{days}.' if days else ''}{hour:02d}:{minute:02d}:{second:02d}"
    if fraction:
        text += f".{fraction:07d}"
    return text


def format_real(value: float) -> str:
    """A real as Kusto writes it (tostring, strcat): .NET's shortest round-trip text.

    The digits are the shortest that read back as the same double (Python's repr finds the
    same ones); the layout is .NET's: fixed-point while the decimal exponent is above -5 and
    below 15, else ``d.dddE+XX`` with a signed exponent of at least two digits (the erfc page
    prints erfc(3) as 2.20904969985854E-05, https://learn.microsoft.com/kusto/query/erfc-function),
    and never a trailing ".0".
    """
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    sign, digit_tuple, exponent = decimal.Decimal(repr(value)).as_tuple()
    digits = "".join(map(str, digit_tuple)).rstrip("0") or "0"
    point = len(digit_tuple) + exponent  # digits before the decimal point
    scientific = point - 1
    if -5 < scientific < 15:
        if point <= 0:
            text = "0." + "0" * -point + digits
        elif point >= len(digits):
            text = digits + "0" * (point - len(digits))
        else:
            text = digits[:point] + "." + digits[point:]
    else:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        text = f"{mantissa}E{'-' if scientific < 0 else '+'}{abs(scientific):02d}"
    return ("-" if sign else "") + text


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_datetime_iso(value)
    if isinstance(value, timedelta):
        return format_timespan(value)
    if isinstance(value, (uuid.UUID, decimal.Decimal)):
        return str(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def _finite(value: Any) -> Any:
    """``value`` with each NaN or infinite real as the text Kusto writes for it."""
    if isinstance(value, float) and not math.isfinite(value):
        return format_real(value)
    if isinstance(value, list):
        return [_finite(item) for item in value]
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    return value


def to_json_text(value: Any, sort_keys: bool = False) -> str:
    """Compact JSON as Kusto prints dynamic values (no spaces).

    JSON has no NaN or infinity: Kusto's JSON results carry those reals as the strings
    "NaN", "Infinity" and "-Infinity" (clients reading its results meet them as strings:
    https://github.com/Azure/azure-sdk-for-net/issues/24975), so they are written so here
    and the text stays standard JSON.
    """
    dynamic(value)  # in an evaluation, the text is charged to its budget before it is built
    options: dict[str, Any] = {"separators": (",", ":"), "ensure_ascii": False, "default": _json_default,
                               "sort_keys": sort_keys}
    try:
        return json.dumps(value, allow_nan=False, **options)
    except ValueError:  # a non-finite real somewhere: the rare case pays for the copy
        return json.dumps(_finite(value), **options)


def to_string(value: Any) -> str:
    """``tostring()``: null becomes the empty string."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format_real(value)
    if isinstance(value, datetime):
        return format_datetime_iso(value)
    if isinstance(value, timedelta):
        return format_timespan(value)
    if isinstance(value, (list, dict)):
        return to_json_text(value)
    return str(value)


def to_bool(value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, (int, float, decimal.Decimal)):
        return value != 0
    if isinstance(value, str):
        text = value.strip().lower()
        if text == "true":
            return True
        if text == "false":
            return False
        try:
            return int(text) != 0
        except ValueError:
            return None
    return None


# Number text as .NET's invariant culture reads it: ASCII digits only (Python's int() and float()
# would also take "1_000" and other scripts' digits), plus the names of the non-finite reals.
_INTEGER_TEXT = re.compile(r"[+-]?[0-9]+")
_REAL_TEXT = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_SPECIAL_REALS = {"nan": math.nan, "infinity": math.inf, "+infinity": math.inf, "-infinity": -math.inf,
                  "inf": math.inf, "+inf": math.inf, "-inf": -math.inf}


def _parse_real(text: str) -> float | None:
    text = text.strip()
    if _REAL_TEXT.fullmatch(text):
        return float(text)
    return _SPECIAL_REALS.get(text.lower())


def to_long(value: Any) -> int | None:
    """tolong(): null when the value is no number or does not fit in 64 bits."""
    if value.__class__ is int:  # the common case first: this also converts every integer argument
        return value if LONG_MIN <= value <= LONG_MAX else None
    if value is None:
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return long_or_null(value)
    if isinstance(value, (float, decimal.Decimal)):
        if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
            return None
        if isinstance(value, decimal.Decimal) and not value.is_finite():
            return None
        return long_or_null(int(value))
    if isinstance(value, str):
        text = value.strip()
        if _INTEGER_TEXT.fullmatch(text):
            return long_or_null(int(text))
        number = _parse_real(text)
        return None if number is None else to_long(number)
    if isinstance(value, timedelta):
        return (value.days * 86400 + value.seconds) * 10_000_000 + value.microseconds * 10
    if isinstance(value, datetime):
        return ticks_of_datetime(value)
    return None


def to_int(value: Any) -> int | None:
    """toint(): a signed 32-bit integer, null when the value does not fit
    (https://learn.microsoft.com/kusto/query/toint-function)."""
    return int_or_null(to_long(value))


def to_real(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, (bool, int, float, decimal.Decimal)):
        return float(value)
    if isinstance(value, str):
        return _parse_real(value)
    return None


def naive_utc(value: datetime) -> datetime:
    """A datetime as the value model holds it: naive, in UTC (an aware one is converted).

    Kusto's datetimes are UTC instants with no zone
    (https://learn.microsoft.com/kusto/query/scalar-data-types/datetime); a Python caller's
    aware datetime names such an instant, so it is moved to UTC and loses its zone, or it
    would neither compare nor subtract with the naive datetimes of ``ago()`` and ``bin()``.
    """
    return value if value.tzinfo is None else value.astimezone(timezone.utc).replace(tzinfo=None)


def to_datetime(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return naive_utc(value)
    if isinstance(value, str):
        try:
            return parse_datetime(value)
        except ValueError:
            return None
    return None


def to_timespan(value: Any) -> timedelta | None:
    if value is None or isinstance(value, timedelta):
        return value
    if isinstance(value, str):
        try:
            return parse_timespan(value)
        except ValueError:
            return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return timespan_from_ticks(value)
    return None


def to_guid(value: Any) -> uuid.UUID | None:
    if value is None or isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


class JsonInt(int):
    """An integer that ``parse_json`` read from JSON text and that fits in 32 bits.

    Kusto's JSON reader keeps such a number as an int inside the dynamic value, so
    ``gettype(parse_json('1'))`` is "int" (https://learn.microsoft.com/kusto/query/gettype-function),
    while a long put into a dynamic value stays a long. It is an int in every other
    respect; arithmetic on it gives plain ints, as Kusto's gives longs.
    """

    __slots__ = ()


def _json_integer(text: str) -> int:
    number = int(text)
    return JsonInt(number) if -2**31 <= number < 2**31 else number


def to_dynamic(value: Any) -> Any:
    """``todynamic``/``parse_json``: JSON text becomes a value; other text stays a string; "" is null."""
    if value == "":
        return None
    if isinstance(value, str):
        try:
            return json.loads(value, parse_int=_json_integer)
        except ValueError:
            return value
    return value


_EPOCH = datetime(1, 1, 1)


def ticks_of_datetime(value: datetime) -> int:
    delta = value - _EPOCH
    return (delta.days * 86400 + delta.seconds) * 10_000_000 + delta.microseconds * 10


CONVERTERS = {
    "string": to_string,
    "bool": to_bool,
    "int": to_int,
    "long": to_long,
    "real": to_real,
    "decimal": lambda v: None if v is None else decimal.Decimal(str(v)),
    "datetime": to_datetime,
    "timespan": to_timespan,
    "guid": to_guid,
    "dynamic": lambda v: naive_utc(v) if isinstance(v, datetime) else v,
}


def convert(value: Any, type_name: str) -> Any:
    """Convert a Python value to the representation of a KQL type (None when not convertible)."""
    return CONVERTERS[type_name](value)


_TYPE_ALIASES = {"boolean": "bool", "double": "real", "date": "datetime", "time": "timespan", "uuid": "guid",
                 "uniqueid": "guid"}


def normal_type(name: str) -> str:
    """A type name as written in a query (``double``, ``date``) as one of SCALAR_TYPES, else dynamic."""
    key = name.strip().lower()
    key = _TYPE_ALIASES.get(key, key)
    return key if key in SCALAR_TYPES else "dynamic"


def default_value(type_name: str) -> Any:
    """The value a missing column gets: empty for string, null for everything else."""
    return "" if type_name == "string" else None


# ------------------------------------------------------------------ terms


def _is_term_char(ch: str) -> bool:
    return ch.isalnum()


def find_term(haystack: str, needle: str, *, prefix: bool = False, suffix: bool = False, case: bool = False) -> bool:
    """Kusto's term match behind ``has`` (``hasprefix``/``hassuffix`` relax one side).

    A term is a maximal run of alphanumeric characters; ``has`` is true when the
    needle occurs with no alphanumeric character glued to either end of it (an
    end of the needle that is itself not alphanumeric needs no boundary).
    """
    if not case:
        haystack = haystack.lower()
        needle = needle.lower()
    if not needle:
        return True
    need_left = _is_term_char(needle[0]) and not suffix
    need_right = _is_term_char(needle[-1]) and not prefix
    start = haystack.find(needle)
    while start >= 0:
        end = start + len(needle)
        left_ok = not need_left or start == 0 or not _is_term_char(haystack[start - 1])
        right_ok = not need_right or end == len(haystack) or not _is_term_char(haystack[end])
        if left_ok and right_ok:
            return True
        start = haystack.find(needle, start + 1)
    return False


def term_matcher(needle: str) -> Callable[[str], Any]:
    """A compiled ``has`` for a fixed needle: the same rule as find_term, as one regex search.

    The needle is a literal (escaped); the only regex syntax is the boundary checks,
    so there is nothing to backtrack on. ``[^\\W_]`` is an alphanumeric character.
    """
    if not needle:
        return lambda text: True
    left = r"(?<![^\W_])" if _is_term_char(needle[0]) else ""
    right = r"(?![^\W_])" if _is_term_char(needle[-1]) else ""
    return re.compile(left + re.escape(needle) + right, re.IGNORECASE).search


# ------------------------------------------------------------------ ordering

_TYPE_RANK = {bool: 0, int: 1, float: 1, decimal.Decimal: 1, datetime: 2, timedelta: 3, uuid.UUID: 4, str: 5, list: 6, dict: 7}


def sort_key(value: Any) -> tuple:
    """A total order for mixed values (dynamic columns): by type family, then value."""
    if value is None:
        return (-1, 0)
    rank = _TYPE_RANK.get(type(value), 8)
    if isinstance(value, float) and math.isnan(value):
        return (rank, -math.inf)
    if isinstance(value, (list, dict)):
        return (rank, to_json_text(value))
    if isinstance(value, uuid.UUID):
        return (rank, str(value))
    return (rank, value)


def hashable(value: Any) -> Any:
    """Group-by and distinct keys: dynamic arrays and bags compare by content."""
    if isinstance(value, (list, dict)):
        return ("$json", to_json_text(value))
    if isinstance(value, bool):
        return ("$bool", value)
    return value
