"""The ``sample-distinct`` operator (https://learn.microsoft.com/kusto/query/sample-distinct-operator).

Up to N distinct values of one column, in a single column of that name. Kusto
picks them "optimized for performance rather than fairness": which values come
back is not defined. A test needs the same answer on each run, so this takes
the first N distinct values in input order, one choice Kusto could make; only
the number of values and that they are distinct values of the column are
Kusto's contract. Null is one of the distinct values, as for ``distinct``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from dac.kql import ast
from dac.kql import values as V
from dac.kql.compiled import semantic
from dac.kql.expressions import ExpressionCompiler
from dac.kql.table import Table

if TYPE_CHECKING:
    from dac.kql.evaluator import Evaluator
    from dac.kql.scope import Scope

INTEGER_TYPES = ("int", "long")  # the official binder refuses 2.5 although the page's table lists real


def sample_distinct(evaluator: "Evaluator", node: ast.SampleDistinct, table: Table, scope: "Scope") -> Table:
    if not isinstance(node.of, ast.Name):
        raise semantic(node.of, "sample-distinct takes a column name after 'of'")
    index = table.index()
    if node.of.name not in index:
        if table.is_open:
            return Table([(node.of.name, "dynamic")], [], False)
        raise semantic(node.of, f"unknown column '{node.of.name}'")
    count = ExpressionCompiler(evaluator, [], scope).compile(node.count)
    if count.type not in INTEGER_TYPES:
        raise semantic(node.count, f"sample-distinct needs an integer number of values, found {count.type}")
    wanted = V.to_long(count.fn(()))
    if wanted is None or wanted < 0:
        raise semantic(node.count, "sample-distinct needs a non-negative number of values")
    position = index[node.of.name]
    seen: dict[Any, tuple] = {}
    for row in table.rows:
        if len(seen) >= wanted:
            break
        seen.setdefault(_key(row[position]), (row[position],))
    return Table([table.columns[position]], list(seen.values()), False)


def _key(value: Any) -> Any:
    """A hashable stand-in for a value (dynamic values by their JSON text)."""
    if isinstance(value, (dict, list)):
        return ("dynamic", json.dumps(value, sort_keys=True, default=str))
    return value
