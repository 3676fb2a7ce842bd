"""The ``top-hitters`` operator (https://learn.microsoft.com/kusto/query/top-hitters-operator).

Kusto approximates with a Count-Min sketch, but the page defines the result by
an exact equivalent: ``summarize C = count() by Value | top N by C desc``, or
``sum(SummingExpression)`` with ``by``. That equivalent is computed here, so the
answer is the one the sketch approximates (and the one it gives whenever its
counts do not collide, as on small inputs). The output columns are the value
column and ``approximate_count_<Value>`` or ``approximate_sum_<expression
name>`` (the official binder's names; an expression without a derived name
leaves the suffix empty). The value must be a column name, as the binder
requires, and the summing expression a number. An int summing expression
sums to long here, as ``sum()`` in the page's equivalent does; the official
binder types that column int, a difference only a run on Kusto can settle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dac.kql import ast
from dac.kql.compiled import semantic
from dac.kql.expressions import ExpressionCompiler, derive_name
from dac.kql.table import Table

if TYPE_CHECKING:
    from dac.kql.evaluator import Evaluator
    from dac.kql.scope import Scope

INTEGER_TYPES = ("int", "long")  # the official binder refuses 2.5 (the page's table also lists real)
NUMERIC_TYPES = ("int", "long", "real", "decimal")


def top_hitters(evaluator: "Evaluator", node: ast.TopHitters, table: Table, scope: "Scope") -> Table:
    if not isinstance(node.of, ast.Name):
        raise semantic(node.of, "top-hitters takes a column name after 'of'")
    count = ExpressionCompiler(evaluator, [], scope).compile(node.count)
    if count.type not in INTEGER_TYPES:
        raise semantic(node.count, f"top-hitters needs an integer number of values, found {count.type}")
    where = {"line": node.line, "column": node.column}
    if node.by is None:
        name = "approximate_count_" + node.of.name
        aggregate = ast.Call("count", [], **where)
    else:
        summed = evaluator.compiler(table, scope).compile(node.by)
        if summed.type not in NUMERIC_TYPES and summed.type != "dynamic":
            raise semantic(node.by, f"the top-hitters summing expression must be a number, found {summed.type}")
        name = "approximate_sum_" + (derive_name(node.by) or "")
        aggregate = ast.Call("sum", [node.by], **where)
    summarize = ast.Summarize([ast.Assignment([name], aggregate, **where)],
                              [ast.Assignment([], node.of, **where)], **where)
    counted = evaluator.op_Summarize(summarize, table, scope)
    top = ast.Top(node.count, ast.SortKey(ast.Name(name, **where), True, False, **where), **where)
    return evaluator.op_Top(top, counted, scope)
