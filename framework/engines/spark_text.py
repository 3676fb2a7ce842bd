"""Spark column expressions that read text as the row engine's converters read it (``dac.kql.values``).

A CSV field, a JSON value read as text, or a string in Parquet becomes a KQL value of its
catalog column's type here, in the physical form of ``dac.engines.physical``. Each function
returns the converted value, NULL where the row engine's converter gives null for that text;
the caller (``spark_files``) turns a NULL made of a non-empty text into an error naming the
file. Where the row engine's parser reads a form these expressions do not (RFC 822 dates, US
month-first dates, fractional or sub-second timespan units), they give NULL as well: the
file is then refused with its value named rather than read differently.
"""

from __future__ import annotations

from typing import Callable

from pyspark.sql import Column
from pyspark.sql import functions as F

# Text around a value: the row engine strips Python's whitespace, a superset of Java's \s, so
# what is stripped here is stripped there too.
_STRIP = r"^\s+|\s+$"
_INTEGER = r"^[+-]?[0-9]+$"
_REAL = r"^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$"
_SPECIAL_REALS = {"nan": "NaN", "infinity": "Infinity", "+infinity": "Infinity", "-infinity": "-Infinity",
                  "inf": "Infinity", "+inf": "Infinity", "-inf": "-Infinity"}
INT_MIN, INT_MAX = -(2 ** 31), 2 ** 31 - 1
# The ISO 8601 and sortable forms of literals._ISO, with its zones (Z, UTC, UT, GMT, +hh:mm).
_ISO = (r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?)?"
        r"\s*((?i:Z|UTC|UT|GMT)|[+-]\d{2}:?\d{2})?$")
_CANONICAL = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,7})?Z?$"
# The timespan forms of literals.parse_timespan read exactly in integers: d.hh:mm:ss.fffffff and
# a whole number of a unit of a second or more (1d, 5m, 30 seconds).
_CLOCK = r"^(-)?(?:(\d+)\.)?(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?$"
_WHOLE_UNIT = r"^(-?\d+)\s*([a-zA-Z]+)$"
_UNIT_SECONDS = {"d": 86400, "day": 86400, "days": 86400, "h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600,
                 "hours": 3600, "m": 60, "min": 60, "minute": 60, "minutes": 60, "s": 1, "sec": 1, "second": 1,
                 "seconds": 1}
MAX_TIMESPAN_MICROS = (2 ** 63 - 1) // 10  # bounds.MAX_TIMESPAN: LONG_MAX ticks, in microseconds
_EXACT = "decimal(38,0)"


def stripped(text: Column) -> Column:
    return F.regexp_replace(text, _STRIP, "")


def to_long(text: Column) -> Column:
    """values.to_long of a string: an integer in 64 bits, or a real truncated toward zero."""
    clean = stripped(text)
    return (F.when(clean.rlike(_INTEGER), clean.try_cast("bigint"))
            .when(clean.rlike(_REAL), clean.try_cast("double").try_cast("bigint")))


def to_int(text: Column) -> Column:
    """values.to_int: to_long's value when it fits in 32 bits."""
    value = to_long(text)
    return F.when(value.between(INT_MIN, INT_MAX), value.try_cast("int"))


def to_real(text: Column) -> Column:
    """values.to_real of a string: decimal text, or one of the names of the non-finite reals."""
    clean = stripped(text)
    special = F.lower(clean)
    result = F.when(clean.rlike(_INTEGER) | clean.rlike(_REAL), clean.try_cast("double"))
    for name, value in _SPECIAL_REALS.items():
        result = result.when(special == name, F.lit(value).cast("double"))
    return result


def to_bool(text: Column) -> Column:
    """values.to_bool of a string: true, false (any case), or an integer (true unless zero)."""
    clean = F.lower(stripped(text))
    return (F.when(clean == "true", F.lit(True)).when(clean == "false", F.lit(False))
            .when(clean.rlike(_INTEGER), clean.rlike("[1-9]")))


def to_guid(text: Column) -> Column:
    """values.to_guid: what uuid.UUID reads (urn:/uuid: prefixes, braces, hyphens anywhere), lower-case canonical."""
    digits = F.replace(F.replace(text, F.lit("urn:"), F.lit("")), F.lit("uuid:"), F.lit(""))
    digits = F.replace(F.regexp_replace(digits, r"^[{}]+|[{}]+$", ""), F.lit("-"), F.lit(""))
    digits = F.lower(digits)
    canonical = F.concat_ws("-", *(F.substring(digits, start, length)
                                   for start, length in ((1, 8), (9, 4), (13, 4), (17, 4), (21, 12))))
    return F.when(digits.rlike("^[0-9a-f]{32}$"), canonical)


def to_datetime(text: Column) -> Column:
    """literals.parse_datetime for ISO 8601 and the sortable form, moved to UTC by the zone's offset.

    NULL for any other form, and for a date or time that does not exist or that the zone
    moves outside years 1..9999 (the row engine's null, which the caller turns into an error).
    """
    clean = stripped(text)

    def part(group: int) -> Column:
        return F.regexp_extract(clean, _ISO, group)

    def number(group: int) -> Column:
        return F.when(part(group) == "", F.lit(0)).otherwise(part(group).try_cast("int"))

    micros = F.substring(F.rpad(part(7), 7, "0"), 1, 6).try_cast("int")
    seconds = (number(6).try_cast("decimal(16,6)") + micros.try_cast("decimal(16,6)") / 1_000_000).try_cast("decimal(16,6)")
    wall = F.try_make_timestamp_ntz(part(1).try_cast("int"), part(2).try_cast("int"), part(3).try_cast("int"),
                                    number(4), number(5), seconds)
    zone = F.regexp_replace(part(8), ":", "")
    numeric = zone.rlike(r"^[+-]\d{4}$")
    offset = (F.substring(zone, 2, 2).try_cast("int") * 60 + F.substring(zone, 4, 2).try_cast("int"))
    offset = F.when(numeric & zone.startswith("-"), -offset).when(numeric, offset).otherwise(F.lit(0))
    value = wall - F.make_dt_interval(F.lit(0), F.lit(0), offset)
    valid = clean.rlike(_ISO) & (number(4) < 24) & (number(5) < 60) & (number(6) < 60)
    general = F.when(valid & (F.year(wall) >= 1) & F.year(value).between(1, 9999), value)
    # The form logs write (literals._CANONICAL), read by one cast: Spark's cast keeps six fraction
    # digits of seven, as the row engine does, and gives NULL for a date or time that does not exist.
    canonical = F.regexp_replace(text, "Z$", "").try_cast("timestamp_ntz")
    canonical = F.when(F.year(canonical) >= 1, canonical)  # Spark has a year 0, the row engine none
    return F.when(text.rlike(_CANONICAL), canonical).otherwise(general)


def to_timespan(text: Column) -> Column:
    """literals.parse_timespan, as BIGINT microseconds, for the forms it reads exactly in integers.

    ``d.hh:mm:ss.fffffff`` and a whole count of days, hours, minutes or seconds; NULL for a
    bare number (days as text, ticks as a JSON number: text cannot tell which), fractional or
    sub-second units, and for a timespan beyond Kusto's range.
    """
    clean = stripped(text)

    def clock(group: int) -> Column:
        value = F.regexp_extract(clean, _CLOCK, group)
        return F.when(value == "", F.lit(0).try_cast(_EXACT)).otherwise(value.try_cast(_EXACT))

    fraction = F.substring(F.rpad(F.regexp_extract(clean, _CLOCK, 6), 7, "0"), 1, 6).try_cast(_EXACT)
    total = ((((clock(2) * 24 + clock(3)) * 60 + clock(4)) * 60 + clock(5)) * 1_000_000 + fraction)
    total = F.when(F.regexp_extract(clean, _CLOCK, 1) == "-", -total).otherwise(total)
    unit = F.lower(F.regexp_extract(clean, _WHOLE_UNIT, 2))
    unit_seconds: Column | None = None
    for name, seconds in _UNIT_SECONDS.items():
        unit_seconds = (F.when(unit == name, F.lit(seconds)) if unit_seconds is None
                        else unit_seconds.when(unit == name, F.lit(seconds)))
    counted = F.regexp_extract(clean, _WHOLE_UNIT, 1).try_cast(_EXACT) * unit_seconds.try_cast(_EXACT) * 1_000_000
    micros = F.when(clean.rlike(_CLOCK), total).when(clean.rlike(_WHOLE_UNIT), counted)
    return F.when(F.abs(micros) <= MAX_TIMESPAN_MICROS, micros.cast("bigint"))


def timespan_of_ticks(ticks: Column) -> Column:
    """bounds.timespan_from_ticks of an integer: ticks of 100 ns to microseconds, half away from zero."""
    magnitude = F.floor((F.abs(ticks.try_cast(_EXACT)) + 5) / 10)
    return F.when(ticks >= 0, magnitude).otherwise(-magnitude).cast("bigint")


def to_dynamic(text: Column) -> Column:
    """values.to_dynamic of a string, as JSON text: JSON text as it is, any other text as a JSON string.

    "" and the JSON text ``null`` are null, as json.loads makes them.
    """
    as_string = F.regexp_extract(F.to_json(F.array(text)), r"^\[(.*)\]$", 1)
    parsed = F.try_parse_json(text)
    return (F.when(text.isNull() | (text == "") | (F.trim(text) == "null"), F.lit(None).cast("string"))
            .when(parsed.isNotNull(), text)
            .otherwise(as_string))


TEXT_CONVERTERS: dict[str, Callable[[Column], Column]] = {
    "bool": to_bool, "int": to_int, "long": to_long, "real": to_real, "datetime": to_datetime,
    "timespan": to_timespan, "guid": to_guid, "dynamic": to_dynamic,
}
"""KQL type -> the expression reading its text; strings need none (they stay as they are)."""
