"""Window functions: row_number, prev, next, row_cumsum, row_rank_dense, row_rank_min, row_window_session.

They read the rows around the current one in a serialized row set
(https://learn.microsoft.com/kusto/query/window-functions). The expression
compiler receives the operator's input rows; the top-level expression that
contains a window function counts the rows it is evaluated for (operators
evaluate each top-level expression once per input row, in order), and the
window functions inside it read that position from a shared cell.

A window function inside ``iff()`` or behind ``and`` may be skipped for some
rows, so nothing relies on being called for every row: ``prev``/``next`` read
the neighbour directly, and the accumulating ones (row_number with a restart,
row_cumsum, the ranks) catch up in order from the last row they computed,
evaluating their arguments with the cell pointing at each row caught up on,
so a ``prev()`` in a restart predicate sees the right neighbour.
"""

from __future__ import annotations

from typing import Any, Callable

from dac.kql import ast
from dac.kql import values as V
from dac.kql.compiled import Compiled, guarded, semantic
from dac.kql.errors import KqlRefusedValue, KqlRuntimeError
from dac.kql.operators import ARITHMETIC

Row = tuple


class PositionCell:
    """The position of the row a top-level expression is being evaluated for."""

    def __init__(self, rows: list[Row]) -> None:
        self.rows = rows
        self.position = -1

    def advance(self, fn: Callable[[Row], Any]) -> Callable[[Row], Any]:
        """``fn`` counting the rows it is called for: the top-level expression's function."""
        rows = self.rows

        def run(row: Row) -> Any:
            self.position += 1
            if self.position >= len(rows):
                raise KqlRuntimeError("a window function was evaluated more often than its row set has rows")
            return fn(row)

        return run

    def at(self, position: int, fn: Callable[[Row], Any]) -> Any:
        """``fn`` evaluated for the row at ``position``, with nested window functions seeing it."""
        current = self.position
        self.position = position
        try:
            return fn(self.rows[position])
        finally:
            self.position = current


class _Accumulated:
    """Values that depend on every earlier row, computed in row order and kept."""

    def __init__(self, cell: PositionCell, step: Callable[[int], Any]) -> None:
        self.cell = cell
        self.step = step  # the value at a position, given the values before it (in ``values``)
        self.values: list[Any] = []

    def current(self, row: Row) -> Any:
        wanted = self.cell.position
        while len(self.values) <= wanted:
            self.values.append(self.step(len(self.values)))
        return self.values[wanted]


def _same_term(a: Any, b: Any) -> bool:
    return V.hashable(a) == V.hashable(b)


class WindowFunctions:
    """The window functions of ``ExpressionCompiler`` (mixed into it).

    Relies on the compiler's ``compile`` and on ``rows`` (the operator's input rows,
    or None where there is no row set, as in print) and ``window_cell`` (the cell of
    the top-level expression being compiled, which ``compile`` wraps).
    """

    rows: list[Row] | None
    window_cell: PositionCell | None

    compile: Callable[[ast.Expr], Compiled]  # ExpressionCompiler.compile

    def _cell(self, expr: ast.Call, lowest: int, highest: int) -> PositionCell:
        count = len(expr.args)
        if not lowest <= count <= highest:
            expected = str(lowest) if lowest == highest else f"{lowest} to {highest}"
            raise semantic(expr, f"function '{expr.name}()' takes {expected} argument(s), got {count}")
        if self.rows is None:
            raise semantic(expr, f"{expr.name}() needs a serialized row set (the rows of serialize, sort or "
                                 "an operator after them), not a single value")
        if self.window_cell is None:
            self.window_cell = PositionCell(self.rows)
        return self.window_cell

    def _argument(self, expr: ast.Call, index: int, default: Any) -> Callable[[Row], Any]:
        if index < len(expr.args):
            return self.compile(expr.args[index]).fn
        return lambda row: default

    def f_row_number(self, expr: ast.Call) -> Compiled:
        """row_number([start [, restart]]): start on the first row and wherever restart is true,
        one more than the previous row elsewhere (https://learn.microsoft.com/kusto/query/row-number-function)."""
        cell = self._cell(expr, 0, 2)
        start = self._argument(expr, 0, 1)
        restart = self._argument(expr, 1, False)

        def step(position: int) -> Any:
            first = V.to_long(cell.at(position, start))
            first = 1 if first is None else first
            if position == 0 or V.to_bool(cell.at(position, restart)) is True:
                return first
            return numbers.values[position - 1] + 1

        numbers = _Accumulated(cell, step)
        return Compiled(guarded(numbers.current, expr, "row_number()"), "long")

    def _neighbour(self, expr: ast.Call, direction: int) -> Compiled:
        cell = self._cell(expr, 1, 3)
        column = self.compile(expr.args[0])
        offset = self._argument(expr, 1, 1)
        if len(expr.args) > 2 and not self.compile(expr.args[2]).const:
            raise semantic(expr.args[2], f"{expr.name}() takes a constant default value")
        default = self._argument(expr, 2, None)

        def run(row: Row) -> Any:
            distance = V.to_long(offset(row))
            target = cell.position + direction * (1 if distance is None else distance)
            if 0 <= target < len(cell.rows):
                return cell.at(target, column.fn)
            return default(row)

        return Compiled(run, column.type)

    def f_prev(self, expr: ast.Call) -> Compiled:
        """prev(column [, offset [, default]]): the value ``offset`` rows back, else the default (null)
        (https://learn.microsoft.com/kusto/query/prev-function)."""
        return self._neighbour(expr, -1)

    def f_next(self, expr: ast.Call) -> Compiled:
        """next(column [, offset [, default]]): the value ``offset`` rows ahead, else the default (null)
        (https://learn.microsoft.com/kusto/query/next-function)."""
        return self._neighbour(expr, 1)

    def f_row_cumsum(self, expr: ast.Call) -> Compiled:
        """row_cumsum(term [, restart]): the running sum, back to 0 where restart is true; a null
        term adds nothing (https://learn.microsoft.com/kusto/query/row-cumsum-function)."""
        cell = self._cell(expr, 1, 2)
        term = self.compile(expr.args[0])
        restart = self._argument(expr, 1, False)
        add = ARITHMETIC["+"]

        def step(position: int) -> Any:
            value = cell.at(position, term.fn)
            before = 0 if position == 0 or V.to_bool(cell.at(position, restart)) is True else sums.values[position - 1]
            return before if value is None else add(before, value)

        sums = _Accumulated(cell, step)
        return Compiled(guarded(sums.current, expr, "row_cumsum()"), term.type)

    def _rank(self, expr: ast.Call, dense: bool) -> Compiled:
        cell = self._cell(expr, 1, 2)
        term = self.compile(expr.args[0])
        restart = self._argument(expr, 1, False)
        terms: list[Any] = []
        numbers: list[int] = []  # the row's number within its partition (1 on a restart)

        def step(position: int) -> int:
            value = cell.at(position, term.fn)
            terms.append(value)
            if position == 0 or V.to_bool(cell.at(position, restart)) is True:
                numbers.append(1)
                return 1
            numbers.append(numbers[-1] + 1)
            if _same_term(value, terms[-2]):
                return ranks.values[position - 1]
            return ranks.values[position - 1] + 1 if dense else numbers[-1]

        ranks = _Accumulated(cell, step)
        return Compiled(ranks.current, "long")

    def f_row_rank_dense(self, expr: ast.Call) -> Compiled:
        """row_rank_dense(term [, restart]): 1, then one more each time the term changes
        (https://learn.microsoft.com/kusto/query/row-rank-dense-function)."""
        return self._rank(expr, dense=True)

    def f_row_rank_min(self, expr: ast.Call) -> Compiled:
        """row_rank_min(term [, restart]): the row number where the current run of equal terms began
        (https://learn.microsoft.com/kusto/query/row-rank-min-function)."""
        return self._rank(expr, dense=False)


    def f_row_window_session(self, expr: ast.Call) -> Compiled:
        """row_window_session(expr, max_from_first, max_between_neighbours [, restart]): the value at
        the start of the row's session. A new session starts on the first row, after a null, when the
        value reaches the session's start plus max_from_first or the previous value plus
        max_between_neighbours, and where restart is true
        (https://learn.microsoft.com/kusto/query/row-window-session-function). What a row whose value
        is null gets itself is not said, and is refused."""
        cell = self._cell(expr, 3, 4)
        value = self.compile(expr.args[0])
        if value.type not in ("datetime", "dynamic"):
            raise semantic(expr.args[0], f"row_window_session() takes a datetime, found {value.type}")
        for index in (1, 2):
            distance = self.compile(expr.args[index])
            if distance.type not in ("timespan", "dynamic"):
                raise semantic(expr.args[index], f"row_window_session() takes timespan distances, found {distance.type}")
        from_first, between = self._argument(expr, 1, None), self._argument(expr, 2, None)
        restart = self._argument(expr, 3, False)
        seen: list[Any] = []  # the expression's value on each row computed so far

        def step(position: int) -> Any:
            current = cell.at(position, value.fn)
            seen.append(current)
            if current is None:
                raise KqlRefusedValue("row_window_session() of a null value is not reproduced: the page says "
                                      "the next value starts a new session, not what the null row returns")
            start = starts.values[position - 1] if position else None
            previous = seen[-2] if position else None
            limit, gap = cell.at(position, from_first), cell.at(position, between)
            if (start is None or previous is None or current >= start + limit or current >= previous + gap
                    or V.to_bool(cell.at(position, restart)) is True):
                return current
            return start

        starts = _Accumulated(cell, step)
        return Compiled(guarded(starts.current, expr, "row_window_session()"), value.type)
