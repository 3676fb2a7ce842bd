"""Which engine ``dac run`` uses, and running a query over ``--data`` files on it.

The row engine types every value in Python: right for fixtures and a day's export, slow for
hundreds of MB (about 15 s a million JSON rows), while DuckDB reads the same files natively
in about a second. So without ``--engine`` a run goes to DuckDB for Parquet (columnar files
DuckDB reads without parsing text) and for inputs of ``DUCKDB_DEFAULT_BYTES`` or more, and to
the row engine otherwise. A query DuckDB cannot run exactly is refused by the compiler before
any row is read; the default then falls back to the row engine with a note, while an explicit
``--engine duckdb`` reports the refusal where it is in the query.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dac.engines.physical import EngineRefusal
from dac.errors import DacError
from dac.kql.budget import Limits
from dac.kql.table import Table

DUCKDB_DEFAULT_BYTES = 64 * 2**20
"""Total size of the data files from which the default engine is DuckDB (64 MiB).

About 200,000 JSON rows of a typical Defender table: the row engine takes 3 s or more on such
input, DuckDB well under one, while below it the row engine's start (no DuckDB connection,
no compilation) and its fuller coverage of KQL matter more than the read."""


@dataclass(frozen=True)
class Run:
    """A query's result and how it was computed."""

    result: Table
    engine: str
    rows_read: Mapping[str, int] | None  # per table, where the engine counts what it read (the row engine)


def default_engine(arguments: list[str]) -> str:
    """duckdb for Parquet inputs and for inputs of DUCKDB_DEFAULT_BYTES or more; python otherwise."""
    from dac import backtest

    total, parquet = backtest.data_size(arguments)
    return "duckdb" if parquet or total >= DUCKDB_DEFAULT_BYTES else "python"


def run_files(tree: Any, arguments: list[str], platform: str, *, engine: str | None, now: datetime,
              limits: Limits, python_tables: Callable[[], Mapping[str, Any]],
              note: Callable[[str], None], spark_master: str | None = None) -> Run:
    """``tree`` over the ``--data`` files on ``engine`` (None: the default, falling back on a refusal).

    ``python_tables`` builds the row engine's tables (with its progress reporting) when the
    row engine runs. EngineRefusal escapes only for an engine asked for by name.
    """
    chosen = engine or default_engine(arguments)
    if chosen == "python":
        return _python(tree, python_tables(), now, limits)
    try:
        return _sql(chosen, tree, arguments, platform, now, limits, spark_master)
    except EngineRefusal as refusal:
        if engine is not None:
            raise
        note(f"{refusal.message.split('; use --engine python')[0]}; running it on the python engine instead")
        return _python(tree, python_tables(), now, limits)


def _python(tree: Any, tables: Mapping[str, Any], now: datetime, limits: Limits) -> Run:
    from dac.kql import evaluate

    result = evaluate(tree, tables, now=now, as_table=True, limits=limits)
    return Run(result, "python", {name: table.rows_read for name, table in tables.items()
                                  if hasattr(table, "rows_read")})


def _sql(engine: str, tree: Any, arguments: list[str], platform: str, now: datetime, limits: Limits,
         spark_master: str | None) -> Run:
    from dac import backtest

    sources = backtest.file_sources(arguments, platform, remote=engine == "spark")
    return Run(run_sources(engine, tree, sources, now=now, limits=limits, spark_master=spark_master), engine, None)


def run_sources(engine: str, tree: Any, sources: Mapping[str, Any], *, now: datetime | None, limits: Limits,
                spark_master: str | None = None) -> Table:
    """``tree`` over ``sources`` on a SQL engine (dac run, and dac simulate's one-pass head).

    A value of a file that does not fit its column comes back from DuckDB as a run-time error;
    it is reported where it is in the file, as the row engine reports it.
    """
    from dac.kql.errors import KqlRuntimeError

    try:
        if engine == "spark":
            try:
                from dac.engines import spark_engine
            except ModuleNotFoundError as missing:
                if missing.name != "dac.engines.spark_engine":
                    raise
                raise DacError("the spark engine is not part of this installation; use --engine duckdb") from None
            return spark_engine.run(tree, sources, now=now, limits=limits, master=spark_master)
        from dac.engines import duckdb_engine

        return duckdb_engine.run(tree, sources, now=now, limits=limits)
    except KqlRuntimeError as failure:
        if engine == "duckdb":
            from dac.engines.duckdb_files import file_error

            located = file_error(failure)
            if located is not None:
                raise located from None
        raise
