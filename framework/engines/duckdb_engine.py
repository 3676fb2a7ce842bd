"""The DuckDB engine: a query compiled to SQL (``dac.engines.compiler``) and run in an in-memory DuckDB.

One connection per run, threads = 2. A ``RowsSource`` is loaded into a table of the
physical types; a ``FileSource`` is registered by ``dac.engines.duckdb_files``
(DuckDB's own readers). The result comes back as the row engine's ``Table``: the
same columns, values as the row engine holds them, ``ordered`` when the query orders.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from dac.engines.compiler import compile_query
from dac.engines.physical import EngineRefusal, clock, rows_converter, sql_type
from dac.engines.sources import FileSource, RowsSource, Source
from dac.engines.sql_values import micros
from dac.kql import ast
from dac.kql import values as V
from dac.kql.budget import BudgetExceeded, Limits
from dac.kql.errors import KqlRuntimeError
from dac.kql.table import Table

# The message of the error() a compiled query raises where a value turns out not to be exact in SQL.
REFUSAL_MARKER = "engine cannot run"


def _physical(kind: str, value: Any) -> Any:
    """A row-engine value as the DuckDB column of ``kind`` holds it (dac.engines.physical)."""
    if kind == "string":
        return "" if value is None else V.to_string(value)
    if value is None:
        return None
    if kind == "timespan":
        return micros(value)
    if kind == "dynamic":
        return V.to_json_text(value)
    if kind == "guid":
        return str(value).lower() if isinstance(value, uuid.UUID) else str(uuid.UUID(str(value)))
    if kind == "datetime" and isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(timezone.utc).replace(tzinfo=None)
    return value


def _load_rows(connection: Any, name: str, source: RowsSource) -> None:
    columns = ", ".join(f'"{column}" {sql_type(kind, "duckdb")}' for column, kind in source.columns)
    quoted = name.replace('"', '""')
    connection.execute(f'CREATE TABLE "{quoted}" ({columns})' if columns else f'CREATE TABLE "{quoted}" (__dac_none INTEGER)')
    if not source.rows or not source.columns:
        return
    kinds = [kind for _, kind in source.columns]
    marks = ", ".join("?" for _ in kinds)
    rows = [[_physical(kind, value) for kind, value in zip(kinds, row)] for row in source.rows]
    connection.executemany(f'INSERT INTO "{quoted}" VALUES ({marks})', rows)


def run(tree: ast.QueryBody, sources: Mapping[str, Source], *, now: datetime | None,
        limits: Limits | None = None) -> Table:
    """Run ``tree`` over ``sources`` in DuckDB, or refuse (EngineRefusal) before reading any row."""
    import duckdb

    now = clock(now)
    compiled = compile_query(tree, {name: source.columns for name, source in sources.items()}, dialect="duckdb", now=now)
    connection = duckdb.connect(":memory:", config={"threads": 2})
    try:
        connection.execute("SET TimeZone = 'UTC'")
        for name, source in sources.items():
            if isinstance(source, FileSource):
                from dac.engines.duckdb_files import register_files

                register_files(connection, name, source)
            else:
                _load_rows(connection, name, source)
        cap = limits.rows if limits is not None and limits.rows is not None else None
        try:
            result = connection.execute(compiled.sql("duckdb"))
            raw = result.fetchmany(cap + 1) if cap is not None else result.fetchall()
            sql_types = [str(column[1]) for column in result.description]
        except duckdb.Error as exc:
            message = str(exc)
            if REFUSAL_MARKER in message:
                raise EngineRefusal("a value of this query", "duckdb", why=message.split(": ", 1)[-1]) from None
            raise KqlRuntimeError(f"the duckdb engine failed: {message}") from None
    finally:
        connection.close()
    if cap is not None and len(raw) > cap:
        raise BudgetExceeded("rows", cap, "the result")
    convert = rows_converter([kind for _, kind in compiled.columns], sql_types)
    return Table(list(compiled.columns), convert(raw), compiled.ordered)

