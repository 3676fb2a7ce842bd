"""Running a chain of graph operators: make-graph, then graph-mark-components (graph to graph),
then one operator that makes a table again (graph-match, graph-shortest-paths, graph-to-table).

A graph is no table, so it never flows through the ordinary operators: the chain from make-graph
to the operator that ends it is run here as one step (https://learn.microsoft.com/kusto/query/
graph-operators: make-graph "must be followed by a graph operator").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dac.kql import ast
from dac.kql import graph_ast as G
from dac.kql import graph_match
from dac.kql.compiled import semantic, unsupported
from dac.kql.graph_model import Graph, build_graph, mark_components, to_table
from dac.kql.streaming import concatenate
from dac.kql.table import Table

if TYPE_CHECKING:
    from dac.kql.evaluator import Evaluator
    from dac.kql.scope import Scope

GRAPH_OPERATORS = (G.MakeGraph, G.GraphMatch, G.GraphToTable, G.GraphMarkComponents)


def run_graph(evaluator: "Evaluator", table: Table, operators: list[ast.Operator], at: int,
              scope: "Scope") -> tuple[Table, int]:
    """The table the graph chain starting at ``operators[at]`` gives, and the index after the chain."""
    first = operators[at]
    if not isinstance(first, G.MakeGraph):
        raise semantic(first, f"{_name(first)} needs a graph as input: put make-graph before it")
    nodes = [evaluator.eval_pipeline(spec.table, scope) for spec in first.nodes]
    end = at + 1
    if first.partition is not None:
        return _partitioned(evaluator, first, table, nodes, scope), end
    graph = build_graph(first, table, nodes)
    chain = []
    while end < len(operators) and isinstance(operators[end], GRAPH_OPERATORS[1:]):
        chain.append(operators[end])
        end += 1
        if not isinstance(chain[-1], G.GraphMarkComponents):
            break
    return run_chain(evaluator, first, graph, chain, scope), end


def run_chain(evaluator: "Evaluator", source: ast.Operator, graph: Graph, chain: list[ast.Operator],
              scope: "Scope") -> Table:
    for operator in chain:
        if isinstance(operator, G.MakeGraph):
            raise semantic(operator, "make-graph needs a table as input, not a graph")
        if isinstance(operator, G.GraphMarkComponents):
            graph = mark_components(operator, graph)
            continue
        if operator is not chain[-1]:
            raise semantic(chain[chain.index(operator) + 1], "a graph operator that returns a table must end "
                                                            "the graph operators")
        if isinstance(operator, G.GraphToTable):
            return to_table(operator, graph)
        return graph_match.run(evaluator, operator, graph, scope)
    raise semantic(chain[-1] if chain else source, "make-graph returns a graph and must be followed by "
                                                  "graph-match, graph-shortest-paths or graph-to-table")


def _partitioned(evaluator: "Evaluator", node: G.MakeGraph, edges: Table, nodes: list[Table],
                 scope: "Scope") -> Table:
    """``partitioned-by C (operators)``: one graph per value of C, the operators run on each, the
    results put together (make-graph-operator: both the edges and every nodes table hold C)."""
    column = node.partition
    for table, what in [(edges, "the edges")] + [(t, "a nodes table") for t in nodes]:
        if column not in table.index() and not table.is_open:
            raise semantic(node, f"make-graph partitioned-by: {what} has no column '{column}'")
    if evaluator.check:
        return run_chain(evaluator, node, build_graph(node, edges, nodes), node.partition_operators or [], scope)
    values: dict = {}
    for table in [edges] + nodes:
        at = table.index()[column]
        for row in table.rows:
            values.setdefault(row[at], None)
    parts = []
    for value in values:
        def rows_of(table: Table) -> Table:
            at = table.index()[column]
            return Table(table.columns, [row for row in table.rows if row[at] == value])
        graph = build_graph(node, rows_of(edges), [rows_of(t) for t in nodes])
        parts.append(run_chain(evaluator, node, graph, node.partition_operators or [], scope))
    if not parts:
        empty = build_graph(node, Table(edges.columns), [Table(t.columns) for t in nodes])
        return run_chain(evaluator, node, empty, node.partition_operators or [], scope)
    columns = parts[0].columns
    if any(part.columns != columns for part in parts):
        raise unsupported(node, "make-graph partitioned-by: the partitions give different columns")
    return concatenate(parts, columns)


def _name(node: ast.Operator) -> str:
    if isinstance(node, G.GraphMatch):
        return node.name
    return {G.GraphToTable: "graph-to-table", G.GraphMarkComponents: "graph-mark-components"}.get(type(node), "make-graph")
