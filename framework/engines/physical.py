"""How KQL values are held in a SQL engine, and how its results come back as KQL values.

One representation for every SQL dialect, so the compiler, the readers and the
result conversion agree without knowing each other:

- ``string``: VARCHAR/STRING, never NULL (Kusto has no null string: a missing one is "");
- ``bool``, ``int``, ``long``, ``real``: BOOLEAN, INTEGER, BIGINT, DOUBLE, NULL for null;
- ``datetime``: a UTC timestamp without zone at microsecond precision (DuckDB ``TIMESTAMP``,
  Spark ``TIMESTAMP_NTZ``), as the row engine holds it (naive UTC ``datetime``);
- ``timespan``: BIGINT microseconds. SQL intervals are not used: DuckDB's keep months and
  days apart (``INTERVAL 30 DAYS`` is not ``INTERVAL 1 MONTH``) and Spark's differ again,
  while a Kusto timespan is one signed count of ticks;
- ``dynamic``: VARCHAR holding the value's JSON text (NULL for null), so arrays and bags
  compare and print the same in every dialect;
- ``guid``: VARCHAR of the lower-case canonical form, NULL for null.

``decimal`` has no representation here: the compiler refuses it.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone
from operator import itemgetter
from typing import Any, Callable

from dac.kql.errors import KqlUnsupportedError

SQL_TYPES: dict[str, dict[str, str]] = {
    "string": {"duckdb": "VARCHAR", "spark": "STRING"},
    "bool": {"duckdb": "BOOLEAN", "spark": "BOOLEAN"},
    "int": {"duckdb": "INTEGER", "spark": "INT"},
    "long": {"duckdb": "BIGINT", "spark": "BIGINT"},
    "real": {"duckdb": "DOUBLE", "spark": "DOUBLE"},
    "datetime": {"duckdb": "TIMESTAMP", "spark": "TIMESTAMP_NTZ"},
    "timespan": {"duckdb": "BIGINT", "spark": "BIGINT"},
    "dynamic": {"duckdb": "VARCHAR", "spark": "STRING"},
    "guid": {"duckdb": "VARCHAR", "spark": "STRING"},
}


class EngineRefusal(KqlUnsupportedError):
    """Valid KQL a SQL engine cannot run with Kusto's exact semantics: refused before any row is read.

    The message names the operator or function; line and column point at it in the query,
    and the engine that refused suggests the python engine, which runs it.
    """

    def __init__(self, what: str, engine: str, line: int = 0, column: int = 0, why: str = "") -> None:
        reason = f" ({why})" if why else ""
        super().__init__(f"the {engine} engine cannot run {what} exactly{reason}; use --engine python",
                         line, column)
        self.what = what
        self.engine = engine


def clock(now: datetime | None) -> datetime:
    """``now()`` for a SQL engine's run as the row engine takes it: naive UTC, the current time when None
    (``dac run`` without ``--now``)."""
    if now is None:
        return datetime.now(timezone.utc).replace(tzinfo=None)
    return now if now.tzinfo is None else now.astimezone(timezone.utc).replace(tzinfo=None)


def sql_type(kql_type: str, dialect: str) -> str:
    """The column type a value of ``kql_type`` has in ``dialect``; decimal and unknown types are refused."""
    try:
        return SQL_TYPES[kql_type][dialect]
    except KeyError:
        raise EngineRefusal(f"a column of type {kql_type}", dialect) from None


def _datetime(value: Any) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is not None:  # an engine whose session zone leaked into the result
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return value


def _dynamic(value: Any) -> Any:
    return None if value is None else json.loads(value)


def _guid(value: Any) -> uuid.UUID | None:
    return None if value is None else uuid.UUID(str(value))


def _timespan(value: Any) -> timedelta | None:
    return None if value is None else timedelta(microseconds=int(value))


def _real(value: Any) -> float | None:
    return None if value is None else float(value)


def _string(value: Any) -> str:
    return "" if value is None else str(value)


FROM_SQL: dict[str, Callable[[Any], Any]] = {
    "string": _string,
    "bool": lambda v: None if v is None else bool(v),
    "int": lambda v: None if v is None else int(v),
    "long": lambda v: None if v is None else int(v),
    "real": _real,
    "datetime": _datetime,
    "timespan": _timespan,
    "dynamic": _dynamic,
    "guid": _guid,
}


def to_kql(kql_type: str, value: Any) -> Any:
    """A value from a SQL result as the row engine holds a value of ``kql_type``."""
    return FROM_SQL[kql_type](value)


# The SQL result types (as DuckDB describes a result column) whose Python values already are the
# row engine's values of the column's KQL type; a string column must also hold no NULL.
AS_IS: dict[str, frozenset[str]] = {
    "long": frozenset({"BIGINT", "INTEGER", "SMALLINT", "TINYINT", "HUGEINT"}),
    "int": frozenset({"INTEGER", "SMALLINT", "TINYINT"}),
    "bool": frozenset({"BOOLEAN"}),
    "real": frozenset({"DOUBLE"}),
    "string": frozenset({"VARCHAR"}),
}


def rows_converter(kql_types: list[str], sql_types: list[str]) -> Callable[[list[tuple]], list[tuple]]:
    """One function turning a whole SQL result into KQL rows, touching only the columns that need it.

    A large back-test's result is millions of rows; converting every value through a per-row
    function cost more than the query. A column whose SQL type already gives the KQL value
    (``AS_IS``) is left as it is, so a result of strings, numbers and bools usually needs no pass
    at all but the scan of its string columns for a NULL.
    """
    kept = [sql in AS_IS.get(kind, ()) for kind, sql in zip(kql_types, sql_types)]
    strings = [i for i, kind in enumerate(kql_types) if kind == "string" and kept[i]]

    def convert(rows: list[tuple]) -> list[tuple]:
        keep = list(kept)
        for i in strings:
            keep[i] = None not in map(itemgetter(i), rows)  # a C-level scan: results run to millions of rows
        if all(keep):
            return rows
        converters = [None if k else FROM_SQL[kind] for k, kind in zip(keep, kql_types)]
        return [tuple(value if c is None else c(value) for c, value in zip(converters, row)) for row in rows]

    return convert


def row_converter(kql_types: list[str]) -> Callable[[tuple], tuple]:
    """One function turning a SQL result row into a KQL row, column by column."""
    converters = [FROM_SQL[t] for t in kql_types]
    return lambda row: tuple(convert(value) for convert, value in zip(converters, row))
