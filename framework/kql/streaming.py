"""Chunked execution: run the row-local head of a pipeline over its input piece by piece.

Back-testing a rule on a day of logs should not need the day in memory. Most
rules start ``Table | where ... | extend ... | project ...``: operators that
look at one row at a time, so running them on each chunk of the input and
concatenating the outputs gives exactly the rows running them on the whole
table gives, in the same order. Only what survives that head is kept; the rest
of the pipeline (summarize, join, sort, ...) then runs on it as usual.

A ``take N`` right after the head stops reading once N rows have come through.

The same path runs in tests with tiny chunks (``chunk_rows=1``), so the
conformance suite proves that chunked and whole-table execution agree.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator

from dac.kql import ast
from dac.kql.table import Table

# Operators whose output for a row depends only on that row (and constants).
ROW_LOCAL = (ast.Where, ast.Extend, ast.Project, ast.ProjectAway, ast.ProjectKeep, ast.ProjectRename,
             ast.ProjectReorder, ast.Parse, ast.MvExpand)

# Functions that read neighbouring rows or count rows: their value depends on where a chunk starts.
ROW_CONTEXT_FUNCTIONS = frozenset({"row_number", "prev", "next", "row_cumsum", "row_window_session",
                                   "row_rank_dense", "row_rank_min"})


class RowSource(ABC):
    """A table whose rows arrive in chunks (a log file being read), typed up front.

    ``chunks()`` may be called more than once (a query can read a table twice);
    each call reads from the start and yields at least one (possibly empty) chunk.
    ``materialize()`` is the whole table, for uses that need every row at once.
    """

    columns: list[tuple[str, str]]

    @abstractmethod
    def chunks(self) -> Iterator[Table]: ...

    def materialize(self) -> Table:
        return concatenate(list(self.chunks()), self.columns)


def row_local_head(operators: list[ast.Operator], is_function: Callable[[str], bool]) -> int:
    """How many leading operators can run chunk by chunk.

    An operator qualifies when it is row-local and none of its expressions reads
    row context, runs a sub-query (its result would be recomputed per chunk) or
    calls a user function (whose body we do not inspect here).
    """
    count = 0
    for operator in operators:
        if not isinstance(operator, ROW_LOCAL) or not _self_contained(operator, is_function):
            break
        count += 1
    return count


def _self_contained(operator: ast.Operator, is_function: Callable[[str], bool]) -> bool:
    for node in operator.walk():
        if isinstance(node, (ast.Tabular, ast.Pipeline)):
            return False
        if isinstance(node, ast.Call) and (node.name in ROW_CONTEXT_FUNCTIONS or node.name == "toscalar"
                                           or is_function(node.name)):
            return False
    return True


def slices(table: Table, size: int) -> Iterator[Table]:
    """``table`` as consecutive chunks of ``size`` rows (one empty chunk for an empty table)."""
    if not table.rows:
        yield table
        return
    for start in range(0, len(table.rows), size):
        yield Table(table.columns, table.rows[start:start + size], table.ordered)


def concatenate(parts: list[Table], columns: list[tuple[str, str]]) -> Table:
    """The chunk outputs as one table; every chunk has the same columns, checked here."""
    rows: list[tuple] = []
    for part in parts:
        if part.columns != columns:
            raise AssertionError("chunks of one pipeline produced different columns")
        rows.extend(part.rows)
    return Table(columns, rows, parts[0].ordered if parts else False)
