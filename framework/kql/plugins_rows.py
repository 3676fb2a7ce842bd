"""Plugins that pick rows of a serialized table by their neighbourhood: rows_near."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dac.kql import ast
from dac.kql import values as V
from dac.kql.compiled import semantic
from dac.kql.plugins import constant_value, plugin, split_arguments
from dac.kql.table import OPEN_COLUMN, Table

if TYPE_CHECKING:
    from dac.kql.evaluator import Evaluator
    from dac.kql.scope import Scope

_COUNTS = ("int", "long")


@plugin("rows_near")
def rows_near(evaluator: "Evaluator", call: ast.Call, table: Table, scope: "Scope") -> Table:
    """``rows_near(Condition, NumRows [, RowsAfter])``: every row within NumRows before, or RowsAfter
    (NumRows unless given) after, a row where Condition is true, in the input's order
    (https://learn.microsoft.com/kusto/query/rows-near-plugin)."""
    if table.is_open:
        return Table([OPEN_COLUMN])
    positional, named = split_arguments(call)
    if named or not 2 <= len(positional) <= 3:
        raise semantic(call, "rows_near() takes a condition, a number of rows and optionally a number of rows after")
    condition = evaluator.compiler(table, scope).compile(positional[0])
    if condition.type not in ("bool", "dynamic"):
        raise semantic(positional[0], f"rows_near(): the condition must be a bool, not {condition.type}")
    before = constant_value(evaluator, positional[1], scope, "rows_near(): the number of rows", _COUNTS, table)
    after = constant_value(evaluator, positional[2], scope, "rows_near(): the number of rows after", _COUNTS,
                           table) \
        if len(positional) == 3 else before
    for expr, count in zip(positional[1:], (before, after)):
        if count is None or count < 0:
            raise semantic(expr, "rows_near(): the number of rows must not be negative")
    keep = [False] * len(table.rows)
    for position, row in enumerate(table.rows):
        if V.to_bool(condition.fn(row)) is True:
            for near in range(max(position - before, 0), min(position + after + 1, len(keep))):
                keep[near] = True
    return Table(table.columns, [tuple(row) for row, kept in zip(table.rows, keep) if kept], table.ordered)
