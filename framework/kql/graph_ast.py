"""Syntax-tree nodes of the graph operators (make-graph, graph-match, graph-shortest-paths,
graph-to-table, graph-mark-components), kept apart from ``ast`` because only the graph
stages read them; they are ordinary ``ast.Operator`` nodes for traversal and formatting.
"""

from __future__ import annotations

from dataclasses import dataclass

from dac.kql import ast


@dataclass
class GraphNodes(ast.Node):
    """``Nodes on Key`` of make-graph's ``with`` clause: a table of node properties and its id column."""

    table: ast.Pipeline
    key: str


@dataclass
class MakeGraph(ast.Operator):
    """``make-graph Source --> Target [with N on K, ... | with_node_id=P] [partitioned-by C (graph operators)]``."""

    source: str
    target: str
    nodes: list[GraphNodes]
    node_id: str | None = None
    partition: str | None = None
    partition_operators: list[ast.Operator] | None = None


@dataclass
class PatternNode(ast.Node):
    """``(n)`` or ``()`` in a pattern."""

    variable: str | None


@dataclass
class PatternEdge(ast.Node):
    """An edge of a pattern: ``direction`` is ``->`` (left to right), ``<-`` (right to left), ``--`` (either)
    or ``<->`` (both arrows, which the official parser accepts); ``low``/``high`` bound a variable length edge
    (``*low..high``), both None for a single edge."""

    variable: str | None
    direction: str
    low: ast.Expr | None = None
    high: ast.Expr | None = None

    @property
    def variable_length(self) -> bool:
        return self.low is not None


@dataclass
class PatternPath(ast.Node):
    """One sequence of a pattern: ``nodes[i]`` and ``nodes[i + 1]`` are joined by ``edges[i]``."""

    nodes: list[PatternNode]
    edges: list[PatternEdge]


@dataclass
class GraphMatch(ast.Operator):
    """``graph-match [cycles=C] Pattern [where P] [project ...]``; ``name`` tells it from graph-shortest-paths
    (whose one option is ``output=``)."""

    name: str
    option: str | None
    paths: list[PatternPath]
    where: ast.Expr | None
    project: list[ast.Assignment] | None


@dataclass
class GraphExport(ast.Node):
    """``nodes [as N] [with_node_id=C]`` or ``edges [as E] [with_source_id=S] [with_target_id=T]``."""

    kind: str
    alias: str | None
    ids: dict[str, str]


@dataclass
class GraphToTable(ast.Operator):
    """``graph-to-table`` of nodes, edges, or both (each then named with ``as``)."""

    exports: list[GraphExport]


@dataclass
class GraphMarkComponents(ast.Operator):
    """``graph-mark-components [kind=weak|strong] [with_component_id=Name]``."""

    kind: str | None
    component_id: str | None
