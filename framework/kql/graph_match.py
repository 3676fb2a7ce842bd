"""graph-match and graph-shortest-paths: the matches of a pattern in a graph, as rows.

Semantics from https://learn.microsoft.com/kusto/query/graph-match-operator (patterns, cycles=,
variable length edges, multiple sequences sharing node variables), graph-shortest-paths-operator
(output=any|all) and the graph function pages (all(), any(), map(), inner_nodes(),
node_degree_in(), node_degree_out(), node_id(), labels()). Each match becomes a row of hidden
columns, one per property or graph function the where and project clauses use; those clauses are
rewritten to read the hidden columns and then run as an ordinary where and project, so every
scalar function behaves as it does elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING, Any, Callable, Iterator

from dac.kql import ast
from dac.kql import graph_ast as G
from dac.kql import values as V
from dac.kql.compiled import semantic, unsupported
from dac.kql.expressions import ExpressionCompiler, derive_name
from dac.kql.graph_model import Graph
from dac.kql.table import Table

if TYPE_CHECKING:
    from dac.kql.evaluator import Evaluator
    from dac.kql.scope import Scope

CYCLES = ("unique_edges", "all", "none")
OUTPUTS = ("any", "all")
ELEMENT_FUNCTIONS = ("all", "any", "map")
NODE_FUNCTIONS = {"node_degree_in": "long", "node_degree_out": "long", "node_id": "string", "labels": "dynamic"}
# The element columns node_degree_in() etc. read inside all()/any()/map() over inner_nodes().
# The graph functions (their pages under https://learn.microsoft.com/kusto/query/), meaningful only here.
GRAPH_FUNCTIONS = frozenset(ELEMENT_FUNCTIONS) | {"inner_nodes"} | frozenset(NODE_FUNCTIONS)
HIDDEN = [("$node_degree_in", "long"), ("$node_degree_out", "long"), ("$node_id", "string"), ("$labels", "dynamic")]


@dataclass
class Match:
    nodes: dict[str, int]
    edges: dict[str, list[int]]  # an edge variable's edges, left to right (one for a single edge)
    inner: dict[str, list[int]]  # a variable length edge's inner nodes, left to right


def run(evaluator: "Evaluator", node: G.GraphMatch, graph: Graph, scope: "Scope") -> Table:
    shortest = node.name == "graph-shortest-paths"
    option = node.option or ("any" if shortest else "unique_edges")
    allowed = OUTPUTS if shortest else CYCLES
    if option not in allowed:
        key = "output" if shortest else "cycles"
        raise semantic(node, f"{node.name}: {key}= takes {', '.join(allowed)}, not '{option}'")
    if node.project is None:
        raise unsupported(node, f"{node.name} without a project clause: its output is not documented")
    kinds = _variables(node, shortest)
    rewriter = Rewriter(evaluator, graph, kinds, scope)
    where = rewriter.rewrite(node.where, in_where=True) if node.where is not None else None
    items = []
    unnamed = 0
    for item in node.project:
        names = item.names or _derived(item.expr)
        if not names:  # the rewritten expression must not lend its hidden column's name
            unnamed += 1
            names = [f"Column{unnamed}"]
        items.append(ast.Assignment(names, rewriter.rewrite(item.expr, in_where=False),
                                    line=item.line, column=item.column))
    cycles = "unique_edges" if shortest else option
    matches = [] if evaluator.check else list(_matches(evaluator, node, graph, cycles))
    table = Table(rewriter.columns, [tuple(get(m) for get in rewriter.getters) for m in matches])
    keep = list(range(len(matches)))
    if where is not None:
        flags = evaluator.op_Where(ast.Where(where, line=node.line, column=node.column),
                                   Table(table.columns + [("$match", "long")],
                                         [row + (i,) for i, row in enumerate(table.rows)]), scope)
        keep = [row[-1] for row in flags.rows]
    if shortest:
        keep = _shortest(node, option, [matches[i] for i in keep], keep, kinds)
    table = Table(table.columns, [table.rows[i] for i in keep])
    return evaluator.op_Project(ast.Project(items, line=node.line, column=node.column), table, scope)


def _derived(expr: ast.Expr) -> list[str]:
    """The column name of an unnamed project item: Kusto's usual rule (``src.Name`` is ``src_Name``);
    a node function of a variable is named after the function (node-degree-out page's example)."""
    name = derive_name(expr)
    if name is None and isinstance(expr, ast.Call) and expr.name in NODE_FUNCTIONS:
        name = expr.name
    return [name] if name else []


def _variables(node: G.GraphMatch, shortest: bool) -> dict[str, Any]:
    """Each named variable: "node", or its PatternEdge; anonymous elements are left unnamed."""
    kinds: dict[str, Any] = {}
    for path in node.paths:
        for element in path.nodes:
            if element.variable is None:
                continue
            if isinstance(kinds.get(element.variable), G.PatternEdge):
                raise semantic(element, f"'{element.variable}' names both an edge and a node of the pattern")
            kinds[element.variable] = "node"
        for edge in path.edges:
            if edge.direction == "<->":
                raise unsupported(edge, "an edge with arrows at both ends: its meaning is not documented")
            if edge.low is not None and edge.low.value > edge.high.value:
                raise semantic(edge, f"the variable length edge's minimum {edge.low.value} is above its "
                                     f"maximum {edge.high.value}")
            if edge.variable is None:
                continue
            if edge.variable in kinds:
                raise unsupported(edge, f"'{edge.variable}' names two elements of the pattern; reusing an edge "
                                        "variable is not documented")
            kinds[edge.variable] = edge
    if shortest:
        if len(node.paths) > 1:
            raise semantic(node, "graph-shortest-paths patterns can't contain multiple sequences")
        if not any(edge.variable_length for edge in node.paths[0].edges):
            raise unsupported(node, "a graph-shortest-paths pattern must include a variable length edge")
    if node.option == "none" and not shortest:
        names = [n.variable for path in node.paths for n in path.nodes if n.variable is not None]
        if len(node.paths) > 1 or len(names) != len(set(names)):
            raise unsupported(node, "cycles=none with a node variable repeated or several sequences: which nodes "
                                    "must then differ is not documented")
    return kinds


# ---------------------------------------------------------------- matching


def _matches(evaluator: "Evaluator", node: G.GraphMatch, graph: Graph, cycles: str) -> Iterator[Match]:
    steps = _plan(node)
    budget = evaluator.budget

    def extend(at: int, match: Match, used: set[int], seen: set[int]) -> Iterator[Match]:
        if at == len(steps):
            budget.rows(1, node, f"the matches {node.name} builds")
            yield Match(dict(match.nodes), {k: list(v) for k, v in match.edges.items()}, dict(match.inner))
            return
        kind, *rest = steps[at]
        if kind == "start":
            variable, = rest
            if variable in match.nodes:
                yield from extend(at + 1, match, used, seen)
                return
            for start in range(len(graph.node_ids)):
                match.nodes[variable] = start
                yield from extend(at + 1, match, used, seen | {start} if cycles == "none" else seen)
            del match.nodes[variable]
            return
        source, edge, target, backwards = rest
        origin = match.nodes[source]
        for end, edges, inner in _walks(graph, edge, origin, backwards, cycles, used, seen, budget, node):
            if target in match.nodes and match.nodes[target] != end:
                continue
            if cycles == "none" and target not in match.nodes and end in seen:
                continue
            bound = target not in match.nodes
            match.nodes[target] = end
            name = edge.variable or f"$edge{id(edge)}"
            match.edges[name] = edges[::-1] if backwards else edges
            match.inner[name] = inner[::-1] if backwards else inner
            yield from extend(at + 1, match, used | set(edges), seen | set(inner) | {end})
            if bound:
                del match.nodes[target]
    yield from extend(0, Match({}, {}, {}), set(), set())


def _plan(node: G.GraphMatch) -> list[tuple]:
    """The walk through the pattern: ("start", var), then ("step", from, edge, to, backwards) per edge.

    Anonymous nodes get names of their own; a later sequence starts from a node variable an
    earlier one bound (the page supports only single connected component patterns).
    """
    paths = []
    for p, path in enumerate(node.paths):
        names = [n.variable if n.variable is not None else f"$node{p}.{i}" for i, n in enumerate(path.nodes)]
        paths.append((path, names))
    steps: list[tuple] = []
    bound: set[str] = set()
    pending = list(paths)
    while pending:
        chosen = next(((path, names) for path, names in pending if not bound or bound & set(names)), None)
        if chosen is None:
            raise semantic(pending[0][0], "only single connected component patterns are supported: this sequence "
                                          "shares no node variable with the others")
        pending.remove(chosen)
        path, names = chosen
        pivot = next((i for i, n in enumerate(names) if n in bound), 0)
        steps.append(("start", names[pivot]))
        for i in range(pivot, len(path.edges)):
            steps.append(("step", names[i], path.edges[i], names[i + 1], False))
        for i in range(pivot - 1, -1, -1):
            steps.append(("step", names[i + 1], path.edges[i], names[i], True))
        bound |= set(names)
    return steps


def _walks(graph: Graph, edge: G.PatternEdge, origin: int, backwards: bool, cycles: str, used: set[int],
           seen: set[int], budget: Any, at: ast.Node) -> Iterator[tuple[int, list[int], list[int]]]:
    """(end node, edges in walk order, inner nodes in walk order) of each walk the edge pattern allows."""
    low, high = (edge.low.value, edge.high.value) if edge.low is not None else (1, 1)
    direction = edge.direction
    if backwards and direction != "--":
        direction = "<-" if direction == "->" else "->"

    def steps(n: int) -> Iterator[tuple[int, int]]:
        if direction in ("->", "--"):
            for e in graph.out_edges[n]:
                yield e, graph.ends[e][1]
        if direction in ("<-", "--"):
            for e in graph.in_edges[n]:
                if direction == "--" and graph.ends[e][0] == graph.ends[e][1]:
                    continue  # a self-loop was met once among the outgoing edges
                yield e, graph.ends[e][0]

    def walk(n: int, edges: list[int], inner: list[int], avoid: set[int]) -> Iterator[tuple[int, list[int], list[int]]]:
        if len(edges) >= low:
            yield n, list(edges), list(inner[:-1]) if edges else []
        if len(edges) == high:
            return
        for e, nxt in steps(n):
            budget.rows(1, at, "the paths graph-match explores")
            if cycles != "all" and (e in used or e in edges):
                continue
            if cycles == "none" and (nxt in avoid or nxt == origin):
                continue
            edges.append(e)
            inner.append(nxt)
            yield from walk(nxt, edges, inner, avoid | {nxt} if cycles == "none" else avoid)
            edges.pop()
            inner.pop()
    yield from walk(origin, [], [], set(seen))


def _shortest(node: G.GraphMatch, output: str, matches: list[Match], keep: list[int], kinds: dict) -> list[int]:
    """Per (first node, last node) pair, the matches of the fewest edges; output=any wants one, and
    when several tie Kusto returns an arbitrary one, which is refused."""
    path = node.paths[0]
    names = [n.variable if n.variable is not None else f"$node0.{i}" for i, n in enumerate(path.nodes)]
    best: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for match, index in zip(matches, keep):
        length = sum(len(edges) for edges in match.edges.values())
        pair = (match.nodes[names[0]], match.nodes[names[-1]])
        found = best.setdefault(pair, [])
        if not found or length < found[0][0]:
            found[:] = [(length, index)]
        elif length == found[0][0]:
            found.append((length, index))
    chosen = []
    for found in best.values():
        if output == "any" and len(found) > 1:
            raise unsupported(node, "graph-shortest-paths output=any: several shortest paths join the same "
                                    "nodes and Kusto returns an arbitrary one of them; use output=all")
        chosen.extend(index for _, index in found)
    return sorted(chosen)


# ---------------------------------------------------------------- expressions


class Rewriter:
    """Turns pattern references (``n.prop``, ``map(e, ...)``, ``node_degree_in(n)``...) into hidden columns."""

    def __init__(self, evaluator: "Evaluator", graph: Graph, kinds: dict[str, Any], scope: "Scope") -> None:
        self.evaluator, self.graph, self.kinds, self.scope = evaluator, graph, kinds, scope
        self.columns: list[tuple[str, str]] = []
        self.getters: list[Callable[[Match], Any]] = []

    def rewrite(self, expr: ast.Expr, in_where: bool) -> ast.Expr:
        self.in_where = in_where
        return self.visit(expr)

    def hidden(self, at: ast.Expr, kind: str, getter: Callable[[Match], Any]) -> ast.Name:
        name = f"$graph{len(self.columns)}"
        self.columns.append((name, kind))
        self.getters.append(getter)
        return ast.Name(name, line=at.line, column=at.column)

    def visit(self, expr: Any) -> Any:
        if isinstance(expr, ast.Member) and isinstance(expr.target, ast.Name) and expr.target.name in self.kinds:
            return self.property(expr, expr.target.name, expr.name)
        if isinstance(expr, ast.Call) and expr.name == "array_length" and len(expr.args) == 1 \
                and isinstance(expr.args[0], ast.Name) and isinstance(self.kinds.get(expr.args[0].name), G.PatternEdge) \
                and self.kinds[expr.args[0].name].variable_length:
            # the number of edges of a variable length edge (tutorials/your-first-graph: reportingLevels)
            variable = expr.args[0].name
            return self.hidden(expr, "long", lambda m: len(m.edges[variable]))
        if isinstance(expr, ast.Name) and expr.name in self.kinds:
            raise semantic(expr, f"'{expr.name}' is a pattern variable: use {expr.name}.property")
        if isinstance(expr, ast.Call) and expr.name in ELEMENT_FUNCTIONS and expr.args \
                and self.element_source(expr.args[0]) is not None:
            return self.element_call(expr)
        if isinstance(expr, ast.Call) and expr.name in NODE_FUNCTIONS:
            return self.node_call(expr)
        if isinstance(expr, ast.Call) and expr.name == "inner_nodes":
            raise semantic(expr, "inner_nodes() can only be the first argument of all(), any() and map()")
        return _with_children(expr, self.visit)

    def property(self, expr: ast.Member, variable: str, name: str) -> ast.Expr:
        kind = self.kinds[variable]
        graph = self.graph
        columns = graph.node_columns if kind == "node" else graph.edge_columns
        at = next((i for i, (n, _) in enumerate(columns) if n == name), None)
        if at is None:
            if graph.open:
                return self.hidden(expr, "dynamic", lambda m: None)
            raise semantic(expr, f"'{name}' is not a property of the {'node' if kind == 'node' else 'edge'} "
                                 f"'{variable}'")
        column_type = columns[at][1]
        if kind == "node":
            return self.hidden(expr, column_type, lambda m: graph.node_rows[m.nodes[variable]][at])
        if not kind.variable_length:
            return self.hidden(expr, column_type, lambda m: graph.edge_rows[m.edges[variable][0]][at])
        if self.in_where:
            raise unsupported(expr, f"a property of the variable length edge '{variable}' in where: use all(), "
                                    "any() or map()")
        return self.hidden(expr, "dynamic", lambda m: [graph.edge_rows[e][at] for e in m.edges[variable]])

    def element_source(self, arg: ast.Expr) -> tuple[str, str] | None:
        """("edges"|"nodes", variable) for ``e`` or ``inner_nodes(e)`` with e a variable length edge."""
        inner = isinstance(arg, ast.Call) and arg.name == "inner_nodes" and len(arg.args) == 1
        target = arg.args[0] if inner else arg
        if not (isinstance(target, ast.Name) and target.name in self.kinds):
            return None
        kind = self.kinds[target.name]
        if kind == "node" or not kind.variable_length:
            raise semantic(target, f"'{target.name}' is not a variable length edge")
        return ("nodes" if inner else "edges", target.name)

    def element_call(self, call: ast.Call) -> ast.Expr:
        if len(call.args) != 2:
            raise semantic(call, f"{call.name}() takes a variable length edge and an expression")
        over, variable = self.element_source(call.args[0])
        graph = self.graph
        if over == "edges":
            columns = graph.edge_columns + HIDDEN[3:]
            rows: Callable[[Match], list[tuple]] = lambda m: [graph.edge_rows[e] + ([],) for e in m.edges[variable]]
        else:
            columns = graph.node_columns + HIDDEN
            rows = lambda m: [graph.node_rows[n] + (len(graph.in_edges[n]), len(graph.out_edges[n]),
                                                   V.to_string(graph.node_ids[n]), []) for n in m.inner[variable]]
        body = _element_body(call.args[1], over)
        compiled = ExpressionCompiler(self.evaluator, columns, self.scope).compile(body)
        fn = compiled.fn
        if call.name == "map":
            return self.hidden(call, "dynamic", lambda m: [fn(row) for row in rows(m)])
        if compiled.type not in ("bool", "dynamic"):
            raise semantic(call.args[1], f"the condition of {call.name}() must be a bool, found {compiled.type}")
        if call.name == "all":
            return self.hidden(call, "bool", lambda m: all(V.to_bool(fn(row)) is True for row in rows(m)))
        return self.hidden(call, "bool", lambda m: any(V.to_bool(fn(row)) is True for row in rows(m)))

    def node_call(self, call: ast.Call) -> ast.Expr:
        if len(call.args) != 1 or not isinstance(call.args[0], ast.Name) or call.args[0].name not in self.kinds:
            raise semantic(call, f"{call.name}() takes a node variable of the pattern (no argument only inside "
                                 "all(), any() and map() over inner_nodes())")
        variable = call.args[0].name
        graph = self.graph
        if self.kinds[variable] != "node":
            if call.name == "labels":  # make-graph graphs have no labels (labels-graph-function)
                return self.hidden(call, "dynamic", lambda m: [])
            raise semantic(call.args[0], f"{call.name}() takes a node variable; '{variable}' is an edge")
        getters: dict[str, Callable[[Match], Any]] = {
            "node_degree_in": lambda m: len(graph.in_edges[m.nodes[variable]]),
            "node_degree_out": lambda m: len(graph.out_edges[m.nodes[variable]]),
            "node_id": lambda m: V.to_string(graph.node_ids[m.nodes[variable]]),
            "labels": lambda m: [],
        }
        return self.hidden(call, NODE_FUNCTIONS[call.name], getters[call.name])


def _element_body(expr: Any, over: str) -> Any:
    """The per-element expression with node_degree_in() etc. reading the element's hidden columns."""
    if isinstance(expr, ast.Call) and expr.name in NODE_FUNCTIONS and not expr.args:
        if over == "edges" and expr.name != "labels":
            raise semantic(expr, f"{expr.name}() without an argument reads an inner node: use inner_nodes()")
        return ast.Name("$" + expr.name, line=expr.line, column=expr.column)
    return _with_children(expr, lambda child: _element_body(child, over))


def _with_children(expr: Any, rewrite: Callable[[Any], Any]) -> Any:
    """``expr`` with ``rewrite`` applied to each child node (the node itself when nothing changes):
    the one walk both rewrites of a pattern's expressions share."""
    if not isinstance(expr, ast.Node):
        return expr
    changes = {}
    for f in fields(expr):
        if f.name in ("line", "column"):
            continue
        value = getattr(expr, f.name)
        if isinstance(value, ast.Node):
            changes[f.name] = rewrite(value)
        elif isinstance(value, list) and any(isinstance(v, ast.Node) for v in value):
            changes[f.name] = [rewrite(v) for v in value]
    return replace(expr, **changes) if changes else expr
