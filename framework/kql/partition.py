"""The ``partition`` operator (https://learn.microsoft.com/kusto/query/partition-operator).

The input's rows are split by the value of one column; the subquery runs once
per partition and the result is the union of its results. In parentheses the
subquery is a transformation of the partition's rows (an ``as`` in it names
them); in braces it names its own source and sees the partition key column as a
scalar of the partition's value. The strategy hint changes how Kusto runs the
subquery, never the result, except that the default ``legacy`` strategy fails on
more than 64 partitions.

The braced form runs under every strategy. The partition page says only the
legacy strategy supports it, but the geo_point_in_polygon page runs
``partition hint.strategy=native by K { Locations | ... }`` and shows its output
(https://learn.microsoft.com/kusto/query/geo-point-in-polygon-function), and the
official binder accepts it: refusing it would reject a query Kusto answers, and
since the strategy does not change the result, running it cannot give a wrong one.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from dac.kql import ast
from dac.kql.compiled import constant, semantic
from dac.kql.errors import KqlRuntimeError
from dac.kql.streaming import concatenate
from dac.kql.table import Table
from dac.kql.scope import Binding, Scope

if TYPE_CHECKING:
    from dac.kql.evaluator import Evaluator

LEGACY_PARTITIONS = 64
STRATEGIES = ("legacy", "native", "shuffle")


def partition(evaluator: "Evaluator", node: ast.Partition, table: Table, scope: "Scope") -> Table:
    strategy = str(node.params.get("hint.strategy", "legacy")).lower()
    if strategy not in STRATEGIES:
        raise semantic(node, f"unknown partition strategy '{strategy}'; expected legacy, native or shuffle")
    index = table.index()
    if node.by not in index and table.is_open:
        return _run(evaluator, node, table, None, "dynamic", scope)  # binding over an open schema
    if node.by not in index:
        raise semantic(node, f"unknown partition column '{node.by}'")
    position = index[node.by]
    kind = table.columns[position][1]
    groups: dict[Any, list[tuple]] = {}
    for row in table.rows:
        groups.setdefault(_key(row[position]), []).append(row)
    if strategy == "legacy" and len(groups) > LEGACY_PARTITIONS:
        raise KqlRuntimeError(f"partition with the legacy strategy takes at most {LEGACY_PARTITIONS} partitions, "
                              f"found {len(groups)}; use hint.strategy=native or shuffle", node.line, node.column)
    # the subquery's schema, from a partition without rows (the result when there is no partition)
    empty = _run(evaluator, node, Table(table.columns, [], table.ordered), None, kind, scope)
    parts = [_run(evaluator, node, Table(table.columns, rows, table.ordered), rows[0][position], kind, scope)
             for rows in groups.values()]
    for part in parts:
        if part.columns != empty.columns:
            raise semantic(node, "the partition subquery gives different columns for different partitions")
    result = concatenate(parts, empty.columns) if parts else Table(empty.columns, [])  # a union of no results
    return Table(result.columns, result.rows, False)


def _key(value: Any) -> Any:
    """A hashable stand-in for a partition value (dynamic values by their JSON text)."""
    if isinstance(value, (dict, list)):
        return ("dynamic", json.dumps(value, sort_keys=True, default=str))
    return value


def _run(evaluator: "Evaluator", node: ast.Partition, rows: Table, value: Any, kind: str, scope: "Scope") -> Table:
    inner = scope.child()
    if node.braced:
        inner.bindings[node.by] = Binding(node.by, node, inner, constant(value, kind), True)
        return evaluator.eval_pipeline(node.subquery, inner)
    return evaluator.apply_operators(rows, node.subquery.operators, inner)
