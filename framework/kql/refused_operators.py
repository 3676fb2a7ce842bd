"""Operators of the official grammar that the evaluator parses but refuses to run, each with why.

A refusal is a KqlUnsupportedError at the operator; in check mode (binding a
rule against the catalog) the operator's output is an open schema instead, so
the rest of the query is still checked. A wrong answer would be worse than
either.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dac.kql import ast
from dac.kql.compiled import unsupported
from dac.kql.table import Table

if TYPE_CHECKING:
    from dac.kql.evaluator import Evaluator

SEVERAL_TABLES = ("returns several result tables (one per {what}); the evaluator, and a rule's test, "
                  "work on a single result table")
GRAPH = ("graph semantics (make-graph, graph-match, graph-to-table, graph-shortest-paths, "
         "graph-mark-components) are not implemented by the evaluator")
REASONS = {
    "assert-schema": "it has no documentation page that defines its checks or its error",
    "make-graph": GRAPH,
    "graph-match": GRAPH,
    "graph-to-table": GRAPH,
    "graph-shortest-paths": GRAPH,
    "graph-mark-components": GRAPH,
}


def refuse(evaluator: "Evaluator", node: ast.Operator, table: Table) -> Table:
    if evaluator.check:
        return table.opened()
    if isinstance(node, ast.Fork):
        name, reason = "fork", SEVERAL_TABLES.format(what="subquery")
    elif isinstance(node, ast.Facet):
        name, reason = "facet", SEVERAL_TABLES.format(what="column, and one for 'with'")
    elif isinstance(node, ast.MacroExpand):
        name, reason = "macro-expand", "it takes no input: it starts a query, and after '|' its meaning is undocumented"
    else:
        assert isinstance(node, ast.Unparsed)
        name, reason = node.name, REASONS[node.name]
    raise unsupported(node, f"query operator '{name}' is not supported by the evaluator: {reason}")
