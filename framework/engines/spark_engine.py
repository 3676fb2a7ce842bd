"""``--engine spark``: a parsed query compiled to Spark SQL and run on the process's Spark session.

The query is compiled before any data is touched, so a query Spark cannot answer
exactly is refused (``EngineRefusal``) without starting a job. Rows in memory become a
DataFrame with the physical schema; files are read by Spark itself
(``dac.engines.spark_files``), on this machine or a cluster's. Results come back in the
row engine's value model through ``dac.engines.physical.row_converter``, so the caller
cannot tell which engine answered.
"""

from __future__ import annotations

import itertools
import os
import re
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Callable
from urllib.parse import urlparse
from urllib.request import url2pathname

from dac.engines.physical import EngineRefusal, clock, row_converter
from dac.engines.sources import FileSource, Source
from dac.engines.spark_session import spark_session
from dac.errors import DacError, Location
from dac.kql import values as V
from dac.kql.bounds import LongOverflow
from dac.kql.budget import BudgetExceeded, Limits
from dac.kql.table import Table

_MICROSECOND = timedelta(microseconds=1)
_RUN_IDS = itertools.count()  # view names unique in the session: runs may share it from several threads
_SQLSTATE = re.compile(r"\s*SQLSTATE: \w+$")  # Spark ends an error's message with its SQL state
REFUSAL_MARKER = "engine cannot run"  # the text of the compiler's run-time refusals (duckdb_engine's too)


def run(tree: Any, sources: Mapping[str, Source], *, now: datetime | None, limits: Limits | None = None,
        master: str | None = None) -> Table:
    """The result of ``tree`` over ``sources`` (table name -> rows or files), computed by Spark.

    ``master`` picks the session's master the first time (``local[*]`` by default; see
    ``spark_session``); ``limits.rows`` caps the rows brought back, as it caps the row engine's.
    """
    from sqlglot import exp

    from dac.engines.compiler import compile_query
    from dac.engines.spark_dialect import SOURCE_ORDINAL, spark_sql

    now = clock(now)
    compiled = compile_query(tree, {name: source.columns for name, source in sources.items()},
                             dialect="spark", now=now)
    session = spark_session(master)  # a DacError, not an ImportError, when pyspark or Java is missing
    views = {name: f"dac_{_RUN_IDS.__next__()}_{position}" for position, name in enumerate(sources)}
    ordered = any(node.name == SOURCE_ORDINAL for node in compiled.expression.find_all(exp.Column))
    for name, source in sources.items():
        _register(session, views[name], source, ordered)
    sql = spark_sql(compiled.expression, views)
    cap = (limits or Limits()).rows
    files = [path for source in sources.values() if isinstance(source, FileSource) for path in source.paths]
    try:
        rows = session.sql(sql).limit(cap + 1).collect()
    except Exception as exc:  # noqa: BLE001 - pyspark raises its own tree of errors, all mapped below
        raise _failure(exc, files) from None
    finally:
        for view in views.values():
            session.catalog.dropTempView(view)
    if len(rows) > cap:
        raise BudgetExceeded("rows", cap, "the result")
    convert = row_converter([kind for _, kind in compiled.columns])
    return Table(list(compiled.columns), [convert(tuple(row)) for row in rows], ordered=compiled.ordered)


def _register(session: Any, name: str, source: Source, ordered: bool) -> None:
    """``source`` as the view ``name``; files get their input order column only when the query reads it."""
    if isinstance(source, FileSource):
        from dac.engines.spark_files import register_files

        register_files(session, name, source, ordered)
        return
    from pyspark.sql import types as T

    from dac.engines.spark_dialect import SOURCE_ORDINAL

    spark_types = {"string": T.StringType(), "bool": T.BooleanType(), "int": T.IntegerType(),
                   "long": T.LongType(), "real": T.DoubleType(), "datetime": T.TimestampNTZType(),
                   "timespan": T.LongType(), "dynamic": T.StringType(), "guid": T.StringType()}
    schema = T.StructType([T.StructField(column, spark_types[kind]) for column, kind in source.columns]
                          + [T.StructField(SOURCE_ORDINAL, T.LongType())])  # the input order: the list's
    convert = to_physical([kind for _, kind in source.columns])
    rows = [convert(row) + (position,) for position, row in enumerate(source.rows)]
    session.createDataFrame(rows, schema).createOrReplaceTempView(name)


def _timespan(value: timedelta | None) -> int | None:
    return None if value is None else value // _MICROSECOND


def _dynamic(value: Any) -> str | None:
    return None if value is None else V.to_json_text(value)


def _guid(value: uuid.UUID | None) -> str | None:
    return None if value is None else str(value)


_TO_PHYSICAL: dict[str, Callable[[Any], Any]] = {
    "string": lambda value: "" if value is None else value,
    "timespan": _timespan, "dynamic": _dynamic, "guid": _guid,
}


def to_physical(kql_types: list[str]) -> Callable[[tuple], tuple]:
    """One function turning a row engine row (RowsSource) into the physical form, column by column."""
    converters = [_TO_PHYSICAL.get(kind, lambda value: value) for kind in kql_types]
    return lambda row: tuple(convert(value) for convert, value in zip(converters, row))


def _as_given(uri: str, files: list[str]) -> str:
    """The file a Spark error names, a URI (``file:///tmp/a%20b.jsonl``), as the user wrote it in --data.

    A file found through a glob or a folder is its local path; a remote one (``abfss://``) its URI.
    """
    if not uri:
        return files[0] if files else ""
    if not uri.startswith("file:"):
        return uri
    local = url2pathname(urlparse(uri).path)
    return next((given for given in files if "://" not in given and os.path.abspath(given) == local), local)


def _failure(exc: Exception, files: list[str]) -> DacError:
    """A Spark failure as the error the user should see: a misfit value names its file, overflow is Kusto's."""
    from dac.engines.spark_files import BAD_VALUE, SEPARATOR

    text = str(exc)
    if BAD_VALUE in text:
        detail = text[text.index(BAD_VALUE) + len(BAD_VALUE):]
        path, _, message = detail.partition(SEPARATOR)
        message = _SQLSTATE.sub("", message.splitlines()[0]).rstrip(". ")
        return DacError(message, Location(_as_given(path, files)))
    if REFUSAL_MARKER in text:  # a value the compiled query found inexact while running (its error())
        start = text.index("the spark engine") if "the spark engine" in text else 0
        return EngineRefusal("a value of this query", "spark", why=text[start:].splitlines()[0])
    condition = getattr(exc, "getCondition", lambda: None)()
    if condition == "DIVIDE_BY_ZERO":  # ANSI Spark fails it; Kusto gives a real's infinity or NaN
        return EngineRefusal("a division by zero", "spark", why="Spark fails it where Kusto gives ±inf or NaN")
    if condition in ("ARITHMETIC_OVERFLOW", "CAST_OVERFLOW", "BINARY_ARITHMETIC_OVERFLOW"):
        return LongOverflow()
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return DacError(f"Spark failed: {first}", Location(files[0] if len(files) == 1 else ""))
