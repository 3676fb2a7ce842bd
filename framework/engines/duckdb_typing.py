"""SQL expressions that type a raw file value for DuckDB as the row engine types it (dac.backtest).

The row engine types each value of a data file by the catalog, in Python
(``dac.backtest._column_converter``); DuckDB must give the same value or fail where it fails.
Each column is read raw: JSON values as DuckDB's ``JSON`` text (so a number, a string and
an object stay apart, as they do for Python's ``json``), CSV fields and Parquet strings as
text. The common shapes (a canonical ISO datetime, a plain integer, ``true``) are typed by
SQL in the engine's vectorised code; every other value goes to a Python function that is the
row engine's own converter, called by DuckDB only for the rows that reach it. So agreement
holds by construction and the fast path costs what DuckDB's own casts cost.

A typed value of NULL for a raw value that is not null means the value does not fit its
column; ``dac.engines.duckdb_files`` turns that into an error naming the file.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any, Callable

from dac.kql import values as V

# Text Python's ``_CANONICAL`` fast path takes (datetime(...) may still refuse the numbers: then
# DuckDB's try_cast gives NULL and the value goes to the Python converter, which fails as well).
_ISO = r"[0-9]{4}-[01][0-9]-[0-3][0-9]T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,7})?Z?"
_GUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_INTEGER = r"-?[0-9]{1,18}"
_REAL = r"-?[0-9]{1,15}(\.[0-9]{1,15})?"
# A real comes back as its repr, cast to DOUBLE in SQL: DuckDB turns a Python NaN returned by a
# function into NULL, which would read as a misfit.
RETURNS = {"bool": "BOOLEAN", "int": "INTEGER", "long": "BIGINT", "real": "VARCHAR", "datetime": "TIMESTAMP",
           "timespan": "BIGINT", "guid": "VARCHAR", "dynamic": "VARCHAR", "string": "VARCHAR"}


def _physical(kind: str, value: Any) -> Any:
    """A row-engine value of ``kind`` in the physical form of ``dac.engines.physical``."""
    if value is None:
        return None
    if kind == "timespan":
        return value // timedelta(microseconds=1)
    if kind == "guid":
        return str(value)
    if kind == "dynamic":
        return V.to_json_text(value)
    if kind == "real":
        return repr(value)
    return value


def python_converter(kind: str, raw_is_json: bool) -> Callable[[str], Any]:
    """The row engine's typing of one raw value, returning the physical form; None when it does not fit.

    ``raw_is_json``: the raw value is JSON text (JSON files) rather than a text field (CSV,
    a Parquet string). A dynamic that is JSON null gives None too, which is not a misfit: the
    guard in duckdb_files tells the two apart by the raw text.
    """
    if kind == "string":
        return lambda raw: "" if raw is None else V.to_string(json.loads(raw)) if raw_is_json else raw
    from dac.backtest import _column_converter

    convert = _column_converter(kind)

    def run(raw: str | None) -> Any:
        if raw is None:
            return None
        try:
            value = json.loads(raw) if raw_is_json else raw
            return None if value is None else _physical(kind, convert(value))
        except (ValueError, TypeError, ArithmeticError):
            return None

    return run


def udf_name(kind: str, raw_is_json: bool) -> str:
    return f"dac_{'json' if raw_is_json else 'text'}_{kind}"


_UDF_CALL = re.compile(r"\bdac_(json|text)_([a-z]+)\(")


def register_udfs(connection: Any, sql: str) -> None:
    """The Python converters that ``sql`` calls, as DuckDB functions, once per connection.

    Only those called: each registration costs DuckDB's Python bridge time (the first one
    about 0.1 s), which a run over files that need no fallback should not pay."""
    wanted = {(match.group(1) == "json", match.group(2)) for match in _UDF_CALL.finditer(sql)}
    if not wanted:
        return
    have = {row[0] for row in connection.execute(
        "SELECT function_name FROM duckdb_functions() WHERE function_name LIKE 'dac\\_%' ESCAPE '\\'").fetchall()}
    for raw_is_json, kind in sorted(wanted):
        name = udf_name(kind, raw_is_json)
        if name not in have:
            connection.create_function(name, python_converter(kind, raw_is_json), ["VARCHAR"], RETURNS[kind],
                                       null_handling="special", side_effects=False)


def _quoted(pattern: str) -> str:
    return '"' + pattern + '"'


def typed_expression(raw: str, kind: str, raw_is_json: bool) -> str:
    """SQL typing the raw VARCHAR expression ``raw`` as a value of ``kind``; NULL for null and misfits."""
    udf = f"{udf_name(kind, raw_is_json)}({raw})"
    if kind == "real":
        udf = f"CAST({udf} AS DOUBLE)"
    if kind == "string":
        if not raw_is_json:
            return f"coalesce({raw}, '')"
        return (f"CASE WHEN {raw} IS NULL THEN '' WHEN {raw}[1] = '\"' THEN CASE WHEN contains({raw}, '\\') "
                f"THEN json_extract_string({raw}, '$') ELSE {raw}[2:-2] END ELSE {udf} END")
    # the text the fast paths look at: a JSON string's content, or the CSV field
    text = f"{raw}[2:-2]" if raw_is_json else raw

    def match(pattern: str) -> str:
        return f"regexp_full_match({raw}, '{_quoted(pattern) if raw_is_json else pattern}')"

    if kind == "datetime":
        if not raw_is_json:
            # Kusto's own form, 2025-01-01T00:00:00.0000000Z, at fixed places: no regex; the 7th digit
            # cut off as the row engine cuts it (a cast from nanoseconds would round); no year 0, which DuckDB has
            fixed = (f"length({raw}) BETWEEN 20 AND 28 AND {raw}[1:4] <> '0000' AND {raw}[5] = '-' "
                     f"AND {raw}[8] = '-' AND {raw}[11] = 'T' AND {raw}[14] = ':' AND {raw}[17] = ':' AND {raw}[20] IN ('.', 'Z') AND {raw}[-1] = 'Z'")
            fast = f"try_strptime(left(rtrim({raw}, 'Z'), 26), ['%Y-%m-%dT%H:%M:%S.%f', '%Y-%m-%dT%H:%M:%S'])"
            return f"coalesce(CASE WHEN {fixed} THEN {fast} END, {udf})"
        fast = f"try_cast(left(rtrim({text}, 'Z'), 26) AS TIMESTAMP)"
        return f"coalesce(CASE WHEN {match(_ISO)} THEN {fast} END, {udf})"
    if kind == "bool":
        if raw_is_json:
            return f"CASE {raw} WHEN 'true' THEN true WHEN 'false' THEN false ELSE {udf} END"
        return f"CASE {raw} WHEN 'true' THEN true WHEN 'false' THEN false WHEN '' THEN NULL ELSE {udf} END"
    if kind in ("int", "long", "real"):
        number = _REAL if kind == "real" else _INTEGER
        sql = {"int": "INTEGER", "long": "BIGINT", "real": "DOUBLE"}[kind]
        # a JSON number is bare; a number in a JSON string or a CSV field goes by the text rules
        test = f"regexp_full_match({raw}, '{number}')"
        return f"coalesce(CASE WHEN {test} THEN try_cast({raw} AS {sql}) END, {udf})"
    if kind == "guid":
        return f"CASE WHEN {match(_GUID)} THEN lower({text}) ELSE {udf} END"
    if kind == "dynamic" and raw_is_json:
        # an object or array with no digit and no escape prints back exactly as DuckDB minified it
        plain = f"regexp_matches({raw}, '^[\\[{{]') AND NOT regexp_matches({raw}, '[0-9\\\\]')"
        return f"CASE WHEN {plain} THEN {raw} ELSE {udf} END"
    return udf


def misfit_condition(raw: str, typed: str, kind: str, raw_is_json: bool) -> str:
    """SQL true where a raw value gave no typed value though it is not null (a misfit).

    Every type's null is JSON null, a missing key and, in text, the empty field; a dynamic
    also types to null from a JSON string that is empty (``to_dynamic("")``)."""
    if kind == "string":
        return "false"
    if raw_is_json:
        if kind == "dynamic":
            return f"({typed} IS NULL AND {raw} IS NOT NULL AND {raw} NOT IN ('null', '\"\"'))"
        return f"({typed} IS NULL AND {raw} IS NOT NULL AND {raw} <> 'null')"
    return f"({typed} IS NULL AND {raw} IS NOT NULL AND {raw} <> '')"
