"""What order a query's result promises: rows, and the elements of aggregated arrays.

Kusto defines row order only where the query sets one. The serialize operator page
(https://learn.microsoft.com/kusto/query/serialize-operator) names the operators whose output
is serialized (sort, top, range, getschema; top-hitters is not implemented here), those whose
output is not (count, distinct, evaluate, facet, join, make-series, mv-expand, reduce, sample,
sample-distinct, summarize, top-nested), and says every other operator keeps what its input
had. A case's rows are compared in order by default exactly when the query's last word on
order is a sort: the final pipeline is read back to its last sort/top/range/getschema, and
any operator in between that drops the order decides "unordered". Where the page is silent
and the operator builds its rows from several inputs or subqueries (union, lookup, mv-apply,
invoke, search, plugins), order is taken as not promised: comparing without order can only
make a test less strict, never make it expect an order Kusto does not give.

``serialize`` alone does not sort: it fixes whatever order the input happened to have, which
Kusto does not promise either, so it keeps an order but does not create one.

Array elements: make_set and make_set_if return their set "in undefined order"; make_list,
make_list_if and make_list_with_nulls follow the input's order only when the summarize's
input is sorted (https://learn.microsoft.com/kusto/query/make-list-aggregation-function).
Such result columns are compared without regard to element order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dac.kql import ast
from dac.kql.expressions import aggregate_name, derive_name

SET_AGGREGATES = ("make_set", "makeset", "make_set_if")
LIST_AGGREGATES = ("make_list", "makelist", "make_list_if", "make_list_with_nulls")
# Operators that keep their input's row order (the page's "all other operators").
_KEEP = (ast.Where, ast.Extend, ast.Project, ast.ProjectAway, ast.ProjectKeep, ast.ProjectRename,
         ast.ProjectReorder, ast.Take, ast.Parse, ast.Render, ast.As, ast.Serialize)
_SERIALIZING_GENERIC = ("getschema",)
_NAMES = {ast.MvExpand: "mv-expand", ast.MvApply: "mv-apply", ast.TopNested: "top-nested",
          ast.MakeSeries: "make-series", ast.UnionOp: "union", ast.Union: "union", ast.Sort: "sort",
          ast.ProjectRename: "project-rename"}


@dataclass
class ResultOrder:
    """Whether the query's rows come in a defined order, the operator that decides, and the
    result columns whose arrays have no defined element order (column -> aggregate)."""

    ordered: bool
    decided_by: ast.Node | None = None
    unordered_arrays: dict[str, str] = field(default_factory=dict)

    @property
    def operator(self) -> str:
        return operator_name(self.decided_by) if self.decided_by is not None else ""


def operator_name(node: ast.Node) -> str:
    if isinstance(node, ast.Generic):
        return node.name
    return _NAMES.get(type(node), type(node).__name__.lower())


def result_order(tree: ast.QueryBody) -> ResultOrder:
    """The order the result of ``tree`` promises (unordered when it cannot be told)."""
    lets: dict[str, object] = {}
    for statement in tree.statements:
        if isinstance(statement, ast.Let):
            lets[statement.name] = statement.value
    final = tree.result
    if final is None:
        return ResultOrder(False)
    return _pipeline(final, lets, 0)


def _pipeline(pipeline: ast.Pipeline, lets: dict[str, object], depth: int) -> ResultOrder:
    state = _source(pipeline.source, lets, depth)
    for op in pipeline.operators:
        state = _operator(op, state)
    return state


def _source(source: ast.Source, lets: dict[str, object], depth: int) -> ResultOrder:
    if isinstance(source, ast.Range):
        return ResultOrder(True, source)
    if isinstance(source, ast.ExprSource) and depth < 32:
        expr = source.expr
        if isinstance(expr, ast.Name) and expr.name in lets:
            expr = lets[expr.name]
        if isinstance(expr, ast.Tabular):
            expr = expr.query
        if isinstance(expr, ast.Pipeline):
            return _pipeline(expr, lets, depth + 1)
    return ResultOrder(False)  # a table, a function's result, datatable, union...: no order promised


def _operator(op: ast.Operator, state: ResultOrder) -> ResultOrder:
    arrays = _arrays_after(op, state)
    if isinstance(op, (ast.Sort, ast.Top)) or (isinstance(op, ast.Generic) and op.name in _SERIALIZING_GENERIC):
        return ResultOrder(True, op, arrays)
    if isinstance(op, _KEEP):
        return ResultOrder(state.ordered, state.decided_by, arrays)
    return ResultOrder(False, op, arrays)


def _arrays_after(op: ast.Operator, state: ResultOrder) -> dict[str, str]:
    """Which columns hold arrays without element order once ``op`` has run."""
    arrays = dict(state.unordered_arrays)
    if isinstance(op, ast.Summarize):
        made = {}
        for item in op.aggregates:
            call = item.expr
            if not isinstance(call, ast.Call):
                continue
            unordered = call.name in SET_AGGREGATES or (call.name in LIST_AGGREGATES and not state.ordered)
            if unordered:
                made[item.names[0] if item.names else aggregate_name(call)] = call.name
        return made
    if isinstance(op, (ast.Extend, ast.Project)):
        out = arrays if isinstance(op, ast.Extend) else {}
        for item in op.items:
            names = item.names or [derive_name(item.expr)]
            source = item.expr.name if isinstance(item.expr, ast.Name) else None
            for name in names:
                if source is not None and source in arrays and len(names) == 1:
                    out[name] = arrays[source]
                else:
                    out.pop(name, None)
        return out
    if isinstance(op, ast.ProjectRename):
        for new, old in op.pairs:
            if old in arrays:
                arrays[new] = arrays.pop(old)
        return arrays
    if isinstance(op, ast.MvExpand):
        for item in op.items:
            arrays.pop(item.name or derive_name(item.expr), None)
        return arrays
    if isinstance(op, (ast.Count, ast.Evaluate, ast.MakeSeries, ast.TopNested, ast.Invoke)):
        return {}
    return arrays
