"""The graph value of make-graph and the operators that keep it a graph (graph-mark-components)
or turn it back into a table (graph-to-table).

Semantics from https://learn.microsoft.com/kusto/query/make-graph-operator: each edge-table row
is an edge whose properties are its columns; each nodes-table row is a node whose properties
are its columns; an id met only on an edge is a node with that id and empty properties (the
graph-to-table page's "Get nodes" example shows the id in its key column); the same id in two
nodes tables is one node, merged, and a conflict takes an arbitrary value, which is refused here.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from dac.kql import ast
from dac.kql import graph_ast as G
from dac.kql import values as V
from dac.kql.compiled import semantic, unsupported
from dac.kql.functions import FUNCTIONS
from dac.kql.table import OPEN_COLUMN, Table


@dataclass
class Graph:
    """Nodes ``0..n-1`` (id, property row) and edges (property row, source node, target node)."""

    node_columns: list[tuple[str, str]]
    node_rows: list[tuple]
    node_ids: list[Any]
    id_type: str
    edge_columns: list[tuple[str, str]]
    edge_rows: list[tuple]
    ends: list[tuple[int, int]]
    open: bool = False  # check mode over an input of unknown columns: any property resolves (as dynamic)
    out_edges: list[list[int]] = field(default_factory=list, repr=False)
    in_edges: list[list[int]] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self.out_edges = [[] for _ in self.node_ids]
        self.in_edges = [[] for _ in self.node_ids]
        for number, (source, target) in enumerate(self.ends):
            self.out_edges[source].append(number)
            self.in_edges[target].append(number)


def build_graph(node: G.MakeGraph, edges: Table, nodes_tables: list[Table]) -> Graph:
    index = edges.index()
    for column in (node.source, node.target):
        if column not in index and not edges.is_open:
            raise semantic(node, f"make-graph: unknown column '{column}' in the edges")
    kinds = dict(edges.columns)
    id_type = kinds.get(node.source, "dynamic")
    if kinds.get(node.target, "dynamic") != id_type and not edges.is_open:
        raise unsupported(node, f"make-graph: the source ({id_type}) and target ({kinds.get(node.target)}) node ids "
                                "have different types, which the make-graph page does not define")
    if id_type == "dynamic" and not edges.is_open:
        raise unsupported(node, "make-graph: dynamic node ids are not defined by the make-graph page")
    ids: dict[Any, int] = {}
    node_ids: list[Any] = []
    props: list[dict[str, Any]] = []
    columns: list[tuple[str, str]] = []
    if node.node_id is not None:
        columns.append((node.node_id, id_type))
    opened = edges.is_open
    for spec, table in zip(node.nodes, nodes_tables):
        opened = opened or table.is_open
        key_at = table.index().get(spec.key)
        if key_at is None and not table.is_open:
            raise semantic(spec, f"make-graph: unknown column '{spec.key}' in the nodes table")
        for name, kind in table.columns:
            known = dict(columns).get(name)
            if known is None:
                columns.append((name, kind))
            elif known != kind:
                raise unsupported(spec, f"make-graph: node property '{name}' is {known} in one nodes table and "
                                        f"{kind} in another; the make-graph page does not say how they merge")
        if key_at is not None and table.columns[key_at][1] != id_type and not opened:
            raise unsupported(spec, f"make-graph: the nodes' id column '{spec.key}' is {table.columns[key_at][1]}, "
                                    f"the edges' node ids are {id_type}")
        names = table.names
        for row in table.rows:
            number = _node(ids, node_ids, props, row[key_at], node)
            merged = props[number]
            for name, value in zip(names, row):
                if name in merged and merged[name] != value and merged[name] is not None:
                    raise unsupported(spec, f"make-graph: node {V.to_string(row[key_at])!r} has two values of "
                                            f"'{name}'; Kusto keeps an arbitrary one")
                merged[name] = value
    ends = []
    source_at, target_at = index.get(node.source), index.get(node.target)
    for row in edges.rows:
        ends.append((_node(ids, node_ids, props, row[source_at], node), _node(ids, node_ids, props, row[target_at], node)))
    keys = {spec.key for spec in node.nodes} | ({node.node_id} if node.node_id else set())
    rows = []
    for number, merged in enumerate(props):
        if not merged:  # a node met only on edges: its id in the key column(s), no other property
            merged = {name: node_ids[number] for name in keys}
        rows.append(tuple(merged.get(name, V.default_value(kind)) for name, kind in columns))
    if opened:
        columns = [c for c in columns if c != OPEN_COLUMN] + [OPEN_COLUMN]
    edge_columns = [c for c in edges.columns if c != OPEN_COLUMN] + ([OPEN_COLUMN] if edges.is_open else [])
    return Graph(columns, rows, node_ids, id_type, edge_columns, list(edges.rows), ends, opened)


def _node(ids: dict[Any, int], node_ids: list[Any], props: list[dict[str, Any]], value: Any, at: ast.Node) -> int:
    if value is None:
        raise unsupported(at, "make-graph: a null node id; the make-graph page does not say what becomes of it")
    key = V.hashable(value)
    number = ids.get(key)
    if number is None:
        number = ids[key] = len(node_ids)
        node_ids.append(value)
        props.append({})
    return number


def mark_components(node: G.GraphMarkComponents, graph: Graph) -> Graph:
    """Each node's zero-based component index (https://learn.microsoft.com/kusto/query/graph-mark-components-operator).

    Kusto picks the indexes arbitrarily; here components are numbered in the order their first node
    was created (nodes tables first, then edge endpoints), so equal queries give equal numbers.
    """
    name = node.component_id or "ComponentId"
    component = _strong(graph) if node.kind == "strong" else _weak(graph)
    renumber: dict[int, int] = {}
    labels = [renumber.setdefault(c, len(renumber)) for c in component]
    columns = [c for c in graph.node_columns if c[0] != name]
    at = [i for i, c in enumerate(graph.node_columns) if c[0] != name]
    rows = [tuple(row[i] for i in at) + (label,) for row, label in zip(graph.node_rows, labels)]
    return replace(graph, node_columns=columns + [(name, "long")], node_rows=rows)


def _weak(graph: Graph) -> list[int]:
    parent = list(range(len(graph.node_ids)))

    def root(n: int) -> int:
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    for source, target in graph.ends:
        a, b = root(source), root(target)
        if a != b:
            parent[max(a, b)] = min(a, b)
    return [root(n) for n in range(len(parent))]


def _strong(graph: Graph) -> list[int]:
    """Tarjan's strongly connected components, iteratively (graphs may be deep)."""
    count = len(graph.node_ids)
    order, low, component = [-1] * count, [0] * count, [-1] * count
    stack: list[int] = []
    on_stack = [False] * count
    counter = 0
    for start in range(count):
        if order[start] != -1:
            continue
        work = [(start, 0)]
        while work:
            n, edge_at = work.pop()
            if edge_at == 0:
                order[n] = low[n] = counter
                counter += 1
                stack.append(n)
                on_stack[n] = True
            edges = graph.out_edges[n]
            if edge_at < len(edges):
                work.append((n, edge_at + 1))
                nxt = graph.ends[edges[edge_at]][1]
                if order[nxt] == -1:
                    work.append((nxt, 0))
                elif on_stack[nxt]:
                    low[n] = min(low[n], order[nxt])
                continue
            if low[n] == order[n]:
                while True:
                    m = stack.pop()
                    on_stack[m] = False
                    component[m] = n
                    if m == n:
                        break
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[n])
    return _smallest(component)


def _smallest(component: list[int]) -> list[int]:
    """Name each component by its first-created node, so numbering follows node creation order."""
    first: dict[int, int] = {}
    for n, c in enumerate(component):
        first.setdefault(c, n)
    return [first[c] for c in component]


def to_table(node: G.GraphToTable, graph: Graph) -> Table:
    """graph-to-table nodes / edges (https://learn.microsoft.com/kusto/query/graph-to-table-operator)."""
    if len(node.exports) > 1:
        raise two_results(node)
    export = node.exports[0]
    wanted = list(export.ids.items())
    if wanted and graph.id_type != "string" and not graph.open:
        raise unsupported(export, f"graph-to-table {', '.join(k for k, _ in wanted)}: the node hash of a "
                                  f"{graph.id_type} node id is not documented (a string id's is its hash())")
    hashes = [_hash(value) for value in graph.node_ids]
    if export.kind == "nodes":
        columns = [(name, "long") for _, name in wanted] + graph.node_columns
        rows = [tuple(hashes[n] for _ in wanted) + row for n, row in enumerate(graph.node_rows)]
    else:
        columns = [(name, "long") for _, name in wanted] + graph.edge_columns
        rows = [tuple(hashes[ends[0] if key == "with_source_id" else ends[1]] for key, _ in wanted) + row
                for row, ends in zip(graph.edge_rows, graph.ends)]
    names = [name for name, _ in columns]
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate is not None and duplicate != OPEN_COLUMN[0]:
        raise semantic(export, f"graph-to-table: the column '{duplicate}' is produced twice")
    return Table(columns, rows)


def two_results(node: G.GraphToTable) -> Exception:
    """The refusal of graph-to-table nodes as N, edges as E: the page returns two result tables, which
    a later statement of the batch may name; dac's evaluator and a rule's test work on one result table."""
    return unsupported(node, "graph-to-table of both nodes and edges returns two result tables (named "
                             f"{', '.join(e.alias or e.kind for e in node.exports)}); dac's evaluator and a rule's "
                             "test work on one result table: export nodes or edges alone")


def refuse_two_results(body: ast.QueryBody) -> None:
    """Refuse a query holding graph-to-table of nodes and edges in any statement, before it runs.

    Only the last tabular statement is evaluated, so without this check an earlier statement's two
    exports would go unseen and the later statements naming them (``N; E``) fail as unknown tables,
    hiding the reason (https://learn.microsoft.com/kusto/query/graph-to-table-operator, "Nodes and edges").
    """
    for statement in body.statements:
        for node in statement.walk():
            if isinstance(node, G.GraphToTable) and len(node.exports) > 1:
                raise two_results(node)


def _hash(value: Any) -> Any:
    """The node hash id graph-to-table exports: the page's examples give hash() of a string id."""
    return FUNCTIONS["hash"].impl(value) if isinstance(value, str) else None
