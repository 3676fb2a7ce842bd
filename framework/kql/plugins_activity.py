"""Activity plugins over a timeline of user ids (sliding_window_counts and the activity metrics).

They bin an id's activity on a timeline into steps of ``Bin`` anchored at ``Start`` (as
``bin_at(Timeline, Bin, Start)``), then count, for each step from Start to End and each
combination of the dimension columns, over a lookback window of steps ending at that step.
A timeline is a datetime (with timespan steps) or a number (with numeric steps); the
``week``/``month``/``year`` string bins are refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from dac.kql import ast
from dac.kql import values as V
from dac.kql.compiled import semantic, unsupported
from dac.kql.plugins import column_position, constant_value, plugin, positional_arguments, split_arguments
from dac.kql.table import OPEN_COLUMN, Table

if TYPE_CHECKING:
    from dac.kql.evaluator import Evaluator
    from dac.kql.scope import Scope

_POINTS = ("int", "long", "real", "datetime", "timespan")
_NUMBERS = ("int", "long", "real")


@dataclass
class Timeline:
    """Steps of ``size`` from ``start`` to ``end``, on a datetime or numeric timeline."""
    start: Any
    end: Any
    size: Any
    is_datetime: bool

    def _units(self, value: Any) -> Any:
        """``value`` as a number of the timeline's units: ticks for datetimes and timespans."""
        if isinstance(value, datetime):
            return V.ticks_of_datetime(value)
        if isinstance(value, timedelta):
            return V.to_long(value)
        return value

    def step_of(self, value: Any) -> int:
        """The index of the step (from Start, 0-based, maybe negative) that holds ``value``."""
        return int((self._units(value) - self._units(self.start)) // self._units(self.size))

    def steps(self, span: Any) -> int:
        """How many whole steps ``span`` covers (a lookback is rounded down to a multiple of Bin)."""
        return int(self._units(span) // self._units(self.size))

    def last_step(self) -> int:
        return self.step_of(self.end)

    def point(self, step: int) -> Any:
        """The timeline value at which step ``step`` starts."""
        if self.is_datetime:
            return self.start + timedelta(microseconds=self._units(self.size) * step // 10)
        return self.start + self.size * step


def timeline_arguments(evaluator: "Evaluator", name: str, args: list[ast.Expr], table: Table, scope: "Scope",
                       column: tuple[str, str], span_args: list[ast.Expr], bin_arg: ast.Expr,
                       ) -> tuple[Timeline, list[Any]]:
    """The Start, End and Bin of a plugin (constants of the timeline's kind) and its spans (Lookback etc.)."""
    start, end = (constant_value(evaluator, a, scope, f"{name}(): {what}", _POINTS, table)
                  for a, what in zip(args, ("the start", "the end")))
    size = constant_value(evaluator, bin_arg, scope, f"{name}(): the bin", _POINTS + ("string",), table)
    if isinstance(size, str):
        raise unsupported(bin_arg, f"{name}(): a '{size}' bin is not supported by the evaluator")
    spans = [constant_value(evaluator, a, scope, f"{name}(): the window", _POINTS, table) for a in span_args]
    is_datetime = column[1] == "datetime"
    if is_datetime:
        bad = [a for a, v in zip(args, (start, end)) if not isinstance(v, datetime)]
        bad += [a for a, v in zip([bin_arg] + span_args, [size] + spans) if not isinstance(v, timedelta)]
    elif column[1] in _NUMBERS:
        bad = [a for a, v in zip(args + [bin_arg] + span_args, [start, end, size] + spans)
               if isinstance(v, (datetime, timedelta)) or v is None]
    else:
        raise semantic(args[0], f"{name}(): the timeline column '{column[0]}' must be a datetime or a number, "
                                f"not {column[1]}")
    if bad:
        raise semantic(bad[0], f"{name}(): the start and end must be of the timeline's type, the bin and "
                               "windows datetime steps (timespans) or numbers to match")
    if start is None or end is None or size is None or (size <= timedelta(0) if is_datetime else size <= 0):
        raise semantic(bin_arg, f"{name}(): the start, end and a positive bin must be given")
    return Timeline(start, end, size, is_datetime), spans


def activity_columns(table: Table, name: str, id_expr: ast.Expr, time_expr: ast.Expr,
                     dims: list[ast.Expr]) -> tuple[int, int, list[int]]:
    """The positions of the id, timeline and dimension columns."""
    return (column_position(table, id_expr, f"{name}(): the id"),
            column_position(table, time_expr, f"{name}(): the timeline"),
            [column_position(table, d, f"{name}(): a dimension") for d in dims])


@plugin("sliding_window_counts")
def sliding_window_counts(evaluator: "Evaluator", call: ast.Call, table: Table, scope: "Scope") -> Table:
    """``sliding_window_counts(Id, Timeline, Start, End, LookbackWindow, Bin [, dim...])``: for each step
    of Bin from Start to End, the Count of rows and the dcount of ids over the LookbackWindow's steps
    ending at that step (https://learn.microsoft.com/kusto/query/sliding-window-counts-plugin)."""
    positional = positional_arguments(call, table, 6, "an id column, a timeline column, a start, an end, "
                                                       "a lookback window, a bin and optionally dimension columns")
    if positional is None:
        return Table([OPEN_COLUMN])
    ident, time, dims = activity_columns(table, "sliding_window_counts", positional[0], positional[1],
                                         positional[6:])
    timeline, (lookback,) = timeline_arguments(evaluator, "sliding_window_counts", positional[2:4], table, scope,
                                               table.columns[time], [positional[4]], positional[5])
    window, last = timeline.steps(lookback), timeline.last_step()
    counts: dict[tuple, dict[int, list]] = {}
    for row in table.rows:
        if row[time] is None:
            continue
        step = timeline.step_of(row[time])
        cells = counts.setdefault(tuple(V.hashable(row[d]) for d in dims), {})
        for covered in range(max(step, 0), min(step + window - 1, last) + 1):
            cell = cells.setdefault(covered, [0, set()])
            cell[0] += 1
            if row[ident] is not None:
                cell[1].add(V.hashable(row[ident]))
    keys = {key: tuple(row[d] for d in dims) for row in table.rows for key in [tuple(V.hashable(row[d]) for d in dims)]}
    out = [(timeline.point(step),) + keys[key] + (count, len(ids))
           for key, cells in counts.items() for step, (count, ids) in sorted(cells.items())]
    evaluator.budget.rows(len(out), call, "sliding_window_counts")
    columns = [table.columns[time]] + [table.columns[d] for d in dims] + [("Count", "long"), ("dcount", "long")]
    return Table(columns, out)


@plugin("activity_counts_metrics")
def activity_counts_metrics(evaluator: "Evaluator", call: ast.Call, table: Table, scope: "Scope") -> Table:
    """``activity_counts_metrics(Id, Timeline, Start, End, Step [, dim...])``: for each step from Start to
    End holding rows, and each combination of the dimensions, the count of rows, the dcount of ids, the
    new_dcount of ids unseen in every earlier step and the aggregated_dcount of ids from the first step
    to this one (https://learn.microsoft.com/kusto/query/activity-counts-metrics-plugin)."""
    positional = positional_arguments(call, table, 5, "an id column, a timeline column, a start, an end, "
                                                       "a step and optionally dimension columns")
    if positional is None:
        return Table([OPEN_COLUMN])
    ident, time, dims = activity_columns(table, "activity_counts_metrics", positional[0], positional[1],
                                         positional[5:])
    timeline, _ = timeline_arguments(evaluator, "activity_counts_metrics", positional[2:4], table, scope,
                                     table.columns[time], [], positional[4])
    steps, keys = _activity_by_step(table, timeline, ident, time, dims)
    out = []
    for key, cells in steps.items():
        seen: set = set()
        for step, (count, ids) in sorted(cells.items()):
            new = ids - seen
            seen |= ids
            out.append((timeline.point(step),) + keys[key] + (count, len(ids), len(new), len(seen)))
    evaluator.budget.rows(len(out), call, "activity_counts_metrics")
    columns = [table.columns[time]] + [table.columns[d] for d in dims] + [
        ("count", "long"), ("dcount", "long"), ("new_dcount", "long"), ("aggregated_dcount", "long")]
    return Table(columns, out)


@plugin("activity_metrics")
def activity_metrics(evaluator: "Evaluator", call: ast.Call, table: Table, scope: "Scope") -> Table:
    """``activity_metrics(Id, Timeline, Start, End, Window)``: for each step holding rows, the
    dcount of ids, the dcount of those not in the step before, and the retention rate (ids of the step
    before that came back, over the ids of the step before; NaN when it had none) and churn rate (one less
    that) (https://learn.microsoft.com/kusto/query/activity-metrics-plugin). The form without Start and
    End is refused: the page does not say where its steps are anchored. A gap (a step without rows between
    steps with rows) is refused too: the page says neither which step is then "the previous" nor whether
    the empty step has a row. Dimensions are refused: the page and the official binder (Kusto.Language
    PlugIns.cs) put their columns in different places."""
    positional, named = split_arguments(call)
    index = table.index() if not table.is_open else {}
    if named or len(positional) < 3:
        raise semantic(call, "activity_metrics() takes an id column, a timeline column, a start, an end, "
                             "a window and optionally dimension columns")
    if len(positional) < 5 or (isinstance(positional[3], ast.Name) and positional[3].name in index):
        raise unsupported(call, "activity_metrics() without a Start and an End is not supported by the evaluator "
                                "(the page does not say where its windows start)")
    if table.is_open:
        return Table([OPEN_COLUMN])
    ident, time, dims = activity_columns(table, "activity_metrics", positional[0], positional[1], positional[5:])
    timeline, _ = timeline_arguments(evaluator, "activity_metrics", positional[2:4], table, scope,
                                     table.columns[time], [], positional[4])
    if dims:
        raise unsupported(positional[5], "activity_metrics() with dimensions is not supported by the evaluator "
                                         "(its page puts them after churn_rate, the official binder after the "
                                         "timeline)")
    steps, _ = _activity_by_step(table, timeline, ident, time, dims)
    out = []
    for cells in steps.values():
        ordered = sorted(cells)
        if ordered and ordered[-1] - ordered[0] + 1 != len(ordered):
            raise unsupported(call, "activity_metrics(): a window without rows between windows with rows is not "
                                    "supported by the evaluator (the page does not define its previous window)")
        previous: set = set()
        for step in ordered:
            ids = cells[step][1]
            returned = len(ids & previous)
            retention = returned / len(previous) if previous else float("nan")
            churn = (len(previous) - returned) / len(previous) if previous else float("nan")
            out.append((timeline.point(step), len(ids), len(ids - previous), retention, churn))
            previous = ids
    evaluator.budget.rows(len(out), call, "activity_metrics")
    columns = [table.columns[time], ("dcount_values", "long"), ("dcount_newvalues", "long"),
               ("retention_rate", "real"), ("churn_rate", "real")]
    return Table(columns, out)


def _activity_by_step(table: Table, timeline: Timeline, ident: int, time: int, dims: list[int],
                 ) -> tuple[dict[tuple, dict[int, list]], dict[tuple, tuple]]:
    """The [count of rows, set of ids] of each step from Start to End that has rows, per combination
    of the dimensions (keyed by their hashable form), and each combination's values."""
    last = timeline.last_step()
    steps: dict[tuple, dict[int, list]] = {}
    keys: dict[tuple, tuple] = {}
    for row in table.rows:
        if row[time] is None:
            continue
        step = timeline.step_of(row[time])
        if not 0 <= step <= last:
            continue
        key = tuple(V.hashable(row[d]) for d in dims)
        keys.setdefault(key, tuple(row[d] for d in dims))
        cell = steps.setdefault(key, {}).setdefault(step, [0, set()])
        cell[0] += 1
        if row[ident] is not None:
            cell[1].add(V.hashable(row[ident]))
    return steps, keys


@plugin("new_activity_metrics")
def new_activity_metrics(evaluator: "Evaluator", call: ast.Call, table: Table, scope: "Scope") -> Table:
    """``new_activity_metrics(Id, Timeline, Start, End, Window [, Cohort])``: for each step ``from`` (or
    only Cohort's) and each step ``to`` from it to End, over the cohort of ids first seen at ``from``: the
    ids of ``to`` unseen before (in the steps up to ``from``, ``to`` itself aside), the cohort's ids seen
    at ``to`` (retained) and not (churned), and their shares of the cohort
    (https://learn.microsoft.com/kusto/query/new-activity-metrics-plugin). Every step from Start to End is
    a ``to``, rows or not, as the page's example shows. Refused: dimensions (the page puts them last, the
    official binder before the counts), the Lookback table, and a cohort without ids, whose rates and
    whose presence the page does not give."""
    positional = positional_arguments(call, table, 5, "an id column, a timeline column, a start, an end, "
                                                       "a window and optionally a cohort")
    if positional is None:
        return Table([OPEN_COLUMN])
    index = table.index()
    extra = positional[5:]
    has_cohort = bool(extra) and not (isinstance(extra[0], ast.Name) and extra[0].name in index)
    for arg in extra[1 if has_cohort else 0:]:
        what = "dimensions" if isinstance(arg, ast.Name) and arg.name in index else "a Lookback table"
        raise unsupported(arg, f"new_activity_metrics() with {what} is not supported by the evaluator")
    ident, time, _ = activity_columns(table, "new_activity_metrics", positional[0], positional[1], [])
    timeline, _ = timeline_arguments(evaluator, "new_activity_metrics", positional[2:4], table, scope,
                                     table.columns[time], [], positional[4])
    cohort_step = _cohort_step(evaluator, extra[0], table, scope, timeline) if has_cohort else None
    last = timeline.last_step()
    ids: list[set] = [set() for _ in range(last + 1)]
    for cells in _activity_by_step(table, timeline, ident, time, [])[0].values():
        for step, (_, step_ids) in cells.items():
            ids[step] = step_ids
    froms = range(last + 1) if cohort_step is None else [cohort_step]
    out = []
    for start in froms:
        if not 0 <= start <= last:
            continue
        before = set().union(*ids[:start])
        cohort = ids[start] - before
        if not cohort:
            raise unsupported(call, "new_activity_metrics(): a window without new ids is not supported by the "
                                    "evaluator (the page gives no rates for an empty cohort)")
        for step in range(start, last + 1):
            unseen = ids[step] - before - (ids[start] if step != start else set())
            retained = len(cohort & ids[step])
            churned = len(cohort) - retained
            out.append((timeline.point(start), timeline.point(step), len(unseen), retained, churned,
                        retained / len(cohort), churned / len(cohort)))
    evaluator.budget.rows(len(out), call, "new_activity_metrics")
    name, kind = table.columns[time]
    columns = [(f"from_{name}", kind), (f"to_{name}", kind), ("dcount_new_values", "long"),
               ("dcount_retained_values", "long"), ("dcount_churn_values", "long"), ("retention_rate", "real"),
               ("churn_rate", "real")]
    return Table(columns, out)


def _cohort_step(evaluator: "Evaluator", expr: ast.Expr, table: Table, scope: "Scope", timeline: Timeline) -> int:
    """The step that holds new_activity_metrics()'s Cohort, a constant of the timeline's kind."""
    value = constant_value(evaluator, expr, scope, "new_activity_metrics(): the cohort", _POINTS, table)
    if value is None or isinstance(value, timedelta) or isinstance(value, datetime) != timeline.is_datetime:
        raise semantic(expr, "new_activity_metrics(): the cohort must be of the timeline's type")
    return timeline.step_of(value)
