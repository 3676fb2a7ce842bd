"""Running the rule's query once per run, on an engine, over only the rows of that run's window.

An executor is given the parsed query once and the runs, and yields each run's result
``Table`` in run order. Before computing run i it asks ``wanted(i)``: a run that alert
suppression skips is never computed (it yields None). An executor that computes every
window in one pass may ignore ``wanted``; the caller then drops what it does not need.

* the python engine (``python_executor``): the data is read and typed once, each table's rows
  are sorted once by the window's time (``TimeGenerated``, or the ingestion time for NRT) and
  each run gets the slice of its window by bisection; the tree is parsed once.
* one pass (``onepass_executor``), on any engine, when ``dac.kql.window_split`` can split the
  query: its clock-free row-local head (read the logs, filter, extend) runs once over all the
  rows, and only the rest of the query runs per window, over the head's rows in it. Exact by
  construction (see that module); used whenever the data carry no ingestion times of their own.
* a SQL engine (``engine_executor``): ``dac.engines.<engine>_engine.run(tree, sources, *, now,
  limits)`` once per run, over ``RowsSource`` slices cut the same way. This is the seam for a
  one-pass plan: an engine module that also defines ``run_windows(tree, sources, runs, *,
  limits)`` (one query computing every window, e.g. a join of the rows with the windows'
  bounds) is handed all runs at once instead, and the per-run loop is not used.
"""

from __future__ import annotations

import importlib
from bisect import bisect_left
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from dac.errors import DacError, Location
from dac.kql import KqlError, ast, evaluate
from dac.kql.budget import Limits
from dac.kql.table import Table, ingestion_time_of
from dac.kql.window_split import KEY, SLICE, WindowSplit, split_for_windows
from dac.simulate.schedule import Run

TIME_COLUMN = "TimeGenerated"
Wanted = Callable[[int], bool]


class Executor(Protocol):
    def __call__(self, runs: Sequence[Run], wanted: Wanted) -> Iterator[Table | None]: ...


@dataclass
class WindowedTable:
    """A table's rows sorted by the time its windows are cut on, with those times beside them."""

    columns: list[tuple[str, str]]
    rows: list[tuple]
    keys: list[datetime]
    ingested: bool  # some row carries an ingestion time: Scheduled runs must not see rows ingested after them

    def window(self, run: Run) -> list[tuple]:
        rows = self.rows[bisect_left(self.keys, run.start):bisect_left(self.keys, run.end)]
        if self.ingested and not run.by_ingestion:
            executed = run.executed
            # a row without an ingestion time was ingested when generated, before the window's end
            rows = [row for row in rows if (ingestion_time_of(row) or run.start) <= executed]
        return rows


def prepare(tables: Mapping[str, Any], by_ingestion: bool) -> dict[str, WindowedTable]:
    """Read every table once (a ``Table``, or a row source read chunk by chunk) and sort it for windowing.

    A row with no ``TimeGenerated`` falls in no window: the scheduler's time range excludes it.
    For NRT a row's ingestion time is its ``$IngestionTime``, else its ``TimeGenerated``
    (see ``dac.simulate.schedule``).
    """
    prepared = {}
    for name, source in tables.items():
        parts = [source] if isinstance(source, Table) else list(source.chunks())
        columns = list(parts[0].columns)
        if (TIME_COLUMN, "datetime") not in columns:
            raise DacError(f"table '{name}' has no {TIME_COLUMN} column; the scheduler's window is on it",
                           Location(name))
        position = columns.index((TIME_COLUMN, "datetime"))
        keyed = []
        ingested = False
        for part in parts:
            for row in part.rows:
                stamp = ingestion_time_of(row)
                ingested = ingested or stamp is not None
                key = (stamp or row[position]) if by_ingestion else row[position]
                if key is not None:
                    keyed.append((key, row))
        keyed.sort(key=lambda pair: pair[0])
        prepared[name] = WindowedTable(columns, [row for _, row in keyed], [key for key, _ in keyed], ingested)
    return prepared


def _environment(tables: dict[str, Any]) -> Mapping[str, Any]:
    from dac.workspace.environment import workspace_tables

    return workspace_tables(tables, "sentinel")


def python_executor(tree: Any, tables: Mapping[str, WindowedTable], limits: Limits,
                    located: Callable[[Run, KqlError], DacError]) -> Executor:
    """The row engine over each run's slice of the sorted rows."""

    def execute(runs: Sequence[Run], wanted: Wanted) -> Iterator[Table | None]:
        for run in runs:
            if not wanted(run.index):
                yield None
                continue
            window = {name: Table(table.columns, table.window(run)) for name, table in tables.items()}
            try:
                yield evaluate(tree, _environment(window), now=run.executed, as_table=True, limits=limits)
            except KqlError as exc:
                raise located(run, exc) from None

    return execute


def split(tree: Any, tables: Mapping[str, Any]) -> WindowSplit | None:
    """``tree`` split for windows on ``TIME_COLUMN``, when its head may run once over rows without ingestion times.

    Rows with their own ingestion time (fixtures' ``$IngestionTime``) are windowed per run, since a
    Scheduled run must not see a row ingested after it; rows read from files carry none.
    """
    if any(isinstance(t, Table) and any(ingestion_time_of(row) is not None for row in t.rows)
           for t in tables.values()):
        return None
    if any((TIME_COLUMN, "datetime") not in list(t.columns) for t in tables.values()):
        return None  # prepare() names the table that has no window time
    root = getattr(_environment({}), "root_scope", None)
    scope = root() if root is not None else None  # built once: is_function is asked for every call in the head
    return split_for_windows(tree, TIME_COLUMN, lambda name: scope is not None and scope.lookup(name) is not None)


def python_head(parts: WindowSplit, tables: Mapping[str, Any], limits: Limits) -> Table:
    """The head run once by the row engine, streaming a file's rows chunk by chunk (it is row-local)."""
    return evaluate(parts.head, _environment({parts.table: tables[parts.table]}), as_table=True, limits=limits)


def sql_head(engine: str, parts: WindowSplit, sources: Mapping[str, Any], limits: Limits,
             spark_master: str | None = None) -> Table:
    """The head run once by a SQL engine over the files of its table, sorted on the window time there.

    The sort is the SQL side's, stable on the input order as the row engine's is, so the rows each
    window is cut from are in the order the row engine would have them. EngineRefusal escapes
    before anything is read when the engine cannot compute the head exactly.
    """
    pipeline = parts.head.statements[-1]
    assert isinstance(pipeline, ast.Pipeline)
    ordered = ast.Pipeline(pipeline.source, [*pipeline.operators, ast.Sort([ast.SortKey(ast.Name(KEY), False,
                                                                                        False)])])
    head = ast.QueryBody([*parts.head.statements[:-1], ordered])
    from dac.engines.dispatch import run_sources

    # the head reads no clock (window_split keeps now() and ago() in the tail), so no run's time is given
    return run_sources(engine, head, {parts.table: sources[parts.table]}, now=None, limits=limits,
                       spark_master=spark_master)


def onepass_executor(parts: WindowSplit, head: Table, limits: Limits,
                     located: Callable[[Run, KqlError], DacError]) -> Executor:
    """The tail of ``parts`` per run over the rows of ``head`` (the head's output) in the run's window."""
    key = head.names.index(KEY)
    keyed = sorted((row for row in head.rows if row[key] is not None), key=lambda row: row[key])
    keys = [row[key] for row in keyed]
    columns = [column for column in head.columns if column[0] != KEY]

    def execute(runs: Sequence[Run], wanted: Wanted) -> Iterator[Table | None]:
        for run in runs:
            if not wanted(run.index):
                yield None
                continue
            cut = keyed[bisect_left(keys, run.start):bisect_left(keys, run.end)]
            window = Table(columns, [row[:key] + row[key + 1:] for row in cut])
            try:
                yield evaluate(parts.tail, _environment({SLICE: window}), now=run.executed, as_table=True,
                               limits=limits)
            except KqlError as exc:
                raise located(run, exc) from None

    return execute


def engine_executor(engine: str, tree: Any, tables: Mapping[str, WindowedTable], limits: Limits) -> Executor:
    """A SQL engine's ``run`` per run over ``RowsSource`` windows, or its one-pass ``run_windows``."""
    from dac.engines.sources import RowsSource

    try:
        module = importlib.import_module(f"dac.engines.{engine}_engine")
    except ImportError as exc:
        raise DacError(f"--engine {engine} is not available: {exc}; use --engine python",
                       Location("--engine")) from None

    def execute(runs: Sequence[Run], wanted: Wanted) -> Iterator[Table | None]:
        run_windows = getattr(module, "run_windows", None)
        if run_windows is not None:
            sources = {name: RowsSource(tuple(t.columns), t.rows) for name, t in tables.items()}
            yield from run_windows(tree, sources, list(runs), limits=limits)
            return
        for run in runs:
            if not wanted(run.index):
                yield None
                continue
            sources = {name: RowsSource(tuple(t.columns), t.window(run)) for name, t in tables.items()}
            yield module.run(tree, sources, now=run.executed, limits=limits)

    return execute
