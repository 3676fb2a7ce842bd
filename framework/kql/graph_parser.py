"""Parsing of the graph operators into ``graph_ast`` nodes (called from ``parser.Parser``).

The grammar follows the operator pages of the Kusto documentation
(https://learn.microsoft.com/kusto/query/make-graph-operator, graph-match-operator,
graph-shortest-paths-operator, graph-to-table-operator, graph-mark-components-operator);
the pattern notation is the "Graph pattern notation" table of graph-match: nodes ``(n)``/``()``
joined by ``-[e]->``, ``<-[e]-``, ``-[e]-``, ``-->``, ``<--``, ``--`` and variable length edges
``-[e*min..max]-``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dac.kql import ast
from dac.kql import graph_ast as G
from dac.kql.lexer import T

if TYPE_CHECKING:
    from dac.kql.parser import Parser

# The ids graph-to-table can add to each export (graph-to-table-operator: Syntax).
EXPORT_IDS = {"nodes": ("with_node_id",), "edges": ("with_source_id", "with_target_id")}


def make_graph(p: "Parser") -> G.MakeGraph:
    source = p.name("the source node id column")
    for part in ("-", "-", ">"):
        if not p.tok.is_op(part):
            raise p.expected("'-->' between the source and target node id columns")
        p.advance()
    target = p.name("the target node id column")
    nodes: list[G.GraphNodes] = []
    node_id = None
    if p.tok.is_word("with_node_id"):
        p.advance()
        p.expect_op("=")
        node_id = p.name("the node id property name")
    elif p.accept_word("with"):
        while True:
            start = p.tok
            table = p.join_right()
            p.expect_word("on")
            nodes.append(p.at(G.GraphNodes(table, p.name("the node id column")), start))
            if not p.accept_op(","):
                break
    graph = G.MakeGraph(source, target, nodes, node_id)
    if p.tok.is_word("partitioned") and p.peek().is_op("-") and p.peek(2).is_word("by"):
        for _ in range(3):
            p.advance()
        graph.partition = p.name("the partition column")
        graph.partition_operators = p.parenthesized_operators()
    return graph


def graph_match(p: "Parser", name: str) -> G.GraphMatch:
    """graph-match (option ``cycles``) and graph-shortest-paths (option ``output``): the same shape."""
    key = "cycles" if name == "graph-match" else "output"
    option = None
    if p.tok.is_word(key) and p.peek().is_op("="):
        p.advance()
        p.advance()
        option = p.name(f"a value for '{key}'")
    paths = [pattern_path(p)]
    while p.accept_op(","):
        paths.append(pattern_path(p))
    where = p.expression() if p.accept_word("where") else None
    project = p.assignments() if p.accept_word("project") else None
    return G.GraphMatch(name, option, paths, where, project)


def pattern_path(p: "Parser") -> G.PatternPath:
    nodes = [pattern_node(p)]
    edges: list[G.PatternEdge] = []
    while p.tok.is_op("-", "<"):
        edges.append(pattern_edge(p))
        nodes.append(pattern_node(p))
    path = G.PatternPath(nodes, edges)
    path.line, path.column = nodes[0].line, nodes[0].column
    return path


def pattern_node(p: "Parser") -> G.PatternNode:
    start = p.tok
    if not start.is_op("("):
        raise p.expected("a pattern node '(name)' or '()'")
    p.advance()
    variable = None if p.tok.is_op(")") else p.name("a node variable")
    p.expect_op(")")
    return p.at(G.PatternNode(variable), start)


def pattern_edge(p: "Parser") -> G.PatternEdge:
    """``-[e]->``, ``<-[e]-``, ``-[e]-``, ``-->``, ``<--``, ``--`` (and a ``*min..max`` in the brackets)."""
    start = p.tok
    left = p.accept_op("<")
    if not p.tok.is_op("-"):
        raise p.expected("'-' of a pattern edge")
    p.advance()
    variable, low, high = None, None, None
    if p.accept_op("["):
        if not p.tok.is_op("*", "]"):
            variable = p.name("an edge variable")
        if p.accept_op("*"):
            low = _bound(p)
            p.expect_op("..")
            high = _bound(p)
        p.expect_op("]")
    if not p.tok.is_op("-"):
        raise p.expected("']->' or ']-' closing the pattern edge" if variable or low is not None or
                         p.tokens[p.index - 1].is_op("]") else "'-->', '--' or '<--'")
    p.advance()
    right = p.accept_op(">")
    direction = "<->" if left and right else "<-" if left else "->" if right else "--"
    return p.at(G.PatternEdge(variable, direction, low, high), start)


def _bound(p: "Parser") -> ast.Literal:
    token = p.tok
    if token.kind is not T.INT:
        raise p.expected("an integer bound of the variable length edge")
    p.advance()
    return p.at(ast.Literal(token.value, "long"), token)


def graph_to_table(p: "Parser") -> G.GraphToTable:
    exports = [graph_export(p)]
    if p.accept_op(","):
        exports.append(graph_export(p))
        if exports[0].kind == exports[1].kind:
            raise p.error(f"graph-to-table names '{exports[0].kind}' twice")
    return G.GraphToTable(exports)


def graph_export(p: "Parser") -> G.GraphExport:
    start = p.tok
    kind = p.expect_word("nodes", "edges")
    alias = None
    ids: dict[str, str] = {}
    while True:
        if p.tok.is_word(*EXPORT_IDS[kind]) and p.peek().is_op("="):
            key = p.advance().text
            p.advance()
            if key in ids:
                raise p.error(f"'{key}' is given twice")
            ids[key] = p.name(f"a column name for '{key}'")
        elif alias is None and p.accept_word("as"):
            alias = p.name("a table name after 'as'")
        else:
            break
    return p.at(G.GraphExport(kind, alias, ids), start)


def graph_mark_components(p: "Parser") -> G.GraphMarkComponents:
    kind = component_id = None
    while p.tok.is_word("kind", "with_component_id") and p.peek().is_op("="):
        key = p.advance().text
        p.advance()
        if key == "kind":
            kind = p.expect_word("weak", "strong")
        else:
            component_id = p.name("the component id property name")
    return G.GraphMarkComponents(kind, component_id)
