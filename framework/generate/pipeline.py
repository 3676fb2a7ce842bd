"""The part of a rule's query the case generator can see: its source table and the ``where``s on it.

The generator solves filters over the columns of one table. It follows the query from its
source (through ``let`` names bound to pipelines) operator by operator while each one keeps
rows as they are or only renames and computes columns (``extend``, ``project`` and its
kin, ``sort``, ``take``...), noting each ``where`` with the columns visible at it (the
source columns each visible name is computed from) and the operators before it that
compute them, which the solver replays to learn what a predicate on a computed column
gives for each value of its source column. The first
operator that groups, joins, expands or parses rows (``summarize``, ``join``,
``mv-expand``, ``parse``...) ends what it sees; that operator is reported, and the query
still runs whole when the cases' expectations are computed.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field

from dac import catalog
from dac.kql import ast

# Operators rows pass through unchanged (possibly reordered or cut short): a later where still sees source rows.
_ROW_KEEPING = (ast.Sort, ast.Take, ast.Top, ast.Serialize, ast.Render, ast.As, ast.ProjectReorder)
# Operators that compute or rename columns one row at a time: replayed before a predicate on their columns.
_COMPUTING = (ast.Extend, ast.Project, ast.ProjectAway, ast.ProjectKeep, ast.ProjectRename, ast.ProjectReorder)
Columns = dict[str, "frozenset[str] | None"]  # visible name -> the source columns it is computed from (None: unknown)


@dataclass
class Filter:
    """One ``where`` of the visible part and what its column names stand for."""

    node: ast.Where
    columns: Columns
    computing: list[ast.Operator]  # the operators before it that compute or rename columns, in order


@dataclass
class Obstacle:
    """A part of the query the generator cannot solve, with why."""

    node: ast.Node
    message: str


@dataclass
class Plan:
    table: str
    columns: tuple[tuple[str, str], ...]  # the source table's (name, type)
    filters: list[Filter] = field(default_factory=list)
    lets: list[ast.Let] = field(default_factory=list)  # scalar lets, in order: the constants of predicates
    obstacles: list[Obstacle] = field(default_factory=list)

    @property
    def types(self) -> dict[str, str]:
        return dict(self.columns)


class NoSource(Exception):
    """The query does not read one table of the catalog first; the generator has nothing to fill."""

    def __init__(self, node: ast.Node, message: str) -> None:
        super().__init__(message)
        self.node, self.message = node, message


def _operators(tree: ast.QueryBody) -> tuple[ast.Source, list[ast.Operator], list[ast.Let]]:
    """The source of the query's result and every operator from it on, through lets bound to pipelines."""
    result = tree.result
    if result is None:
        raise NoSource(tree, "the query has no tabular expression")
    lets: dict[str, ast.Let] = {}
    scalars: list[ast.Let] = []
    for statement in tree.statements:
        if isinstance(statement, ast.Let):
            lets[statement.name] = statement
            if isinstance(statement.value, ast.Expr) and not isinstance(statement.value, (ast.Lambda, ast.Tabular)):
                scalars.append(statement)
    operators = list(result.operators)
    source = result.source
    seen: set[str] = set()
    while isinstance(source, ast.ExprSource) and isinstance(source.expr, ast.Name):
        bound = lets.get(source.expr.name)
        value = bound.value if bound is not None else None
        if isinstance(value, ast.Tabular):
            value = value.query
        if not isinstance(value, ast.Pipeline) or source.expr.name in seen:
            break
        seen.add(source.expr.name)
        operators = list(value.operators) + operators
        source = value.source
    return source, operators, scalars


def _assigned(item: ast.Assignment) -> list[str]:
    if item.names:
        return list(item.names)
    return [item.expr.name] if isinstance(item.expr, ast.Name) else []


def _sources(expr: ast.Expr, columns: Columns) -> frozenset[str] | None:
    """The source columns ``expr`` reads through the visible ``columns``; None when one of them is unknown."""
    found: set[str] = set()
    for node in expr.walk():
        if isinstance(node, ast.Name) and node.name in columns:
            sources = columns[node.name]
            if sources is None:
                return None
            found |= sources
    return frozenset(found)


def _matching(patterns: list[str], names: list[str]) -> list[str]:
    return [name for name in names if any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)]


def _step(operator: ast.Operator, columns: Columns) -> Columns | None:
    """The visible columns after ``operator``, or None when the generator cannot see through it."""
    if isinstance(operator, ast.Where) or isinstance(operator, _ROW_KEEPING):
        return columns
    if isinstance(operator, ast.Extend):
        after = dict(columns)
        for item in operator.items:
            for name in _assigned(item) or ["Column1"]:
                after[name] = _sources(item.expr, columns)
        return after
    if isinstance(operator, ast.Project):
        return {name: _sources(item.expr, columns) for item in operator.items for name in _assigned(item)}
    if isinstance(operator, ast.ProjectAway):
        gone = set(_matching(operator.patterns, list(columns)))
        return {name: source for name, source in columns.items() if name not in gone}
    if isinstance(operator, ast.ProjectKeep):
        kept = set(_matching(operator.patterns, list(columns)))
        return {name: source for name, source in columns.items() if name in kept}
    if isinstance(operator, ast.ProjectRename):
        after = dict(columns)
        for new, old in operator.pairs:
            after[new] = after.pop(old, None)
        return after
    if isinstance(operator, ast.Distinct) and all(isinstance(c, ast.Name) for c in operator.columns):
        return {c.name: columns.get(c.name) for c in operator.columns}  # type: ignore[union-attr]
    return None


_KINDS = {ast.Summarize: "summarize", ast.Join: "join", ast.Lookup: "lookup", ast.MvExpand: "mv-expand",
          ast.MvApply: "mv-apply", ast.Parse: "parse", ast.ParseKv: "parse-kv", ast.UnionOp: "union",
          ast.MakeSeries: "make-series", ast.Evaluate: "evaluate", ast.TopNested: "top-nested",
          ast.Distinct: "distinct", ast.Scan: "scan", ast.Partition: "partition", ast.Invoke: "invoke",
          ast.Count: "count", ast.Fork: "fork", ast.Facet: "facet"}


def operator_word(node: ast.Node) -> str:
    return _KINDS.get(type(node), type(node).__name__.lower())


def plan_query(tree: ast.QueryBody, platform: str) -> Plan:
    """What the generator can solve in ``tree`` on ``platform``; raises NoSource when it can solve nothing."""
    source, operators, lets = _operators(tree)
    if not (isinstance(source, ast.ExprSource) and isinstance(source.expr, ast.Name)):
        what = {ast.Union: "a union of tables", ast.Datatable: "a datatable", ast.Print: "print",
                ast.Range: "range"}.get(type(source), "a function call" if isinstance(getattr(source, "expr", None),
                                                                                       ast.Call) else "an expression")
        raise NoSource(source, f"the query reads {what}, not one table: the generator fills one table's rows")
    table = source.expr.name
    columns = catalog.table_columns(platform, table)
    if columns is None:
        raise NoSource(source, f"'{table}' is no table of the {catalog.PLATFORMS[platform]} catalog or workspace")
    plan = Plan(table, columns, lets=lets)
    visible: Columns = {name: frozenset([name]) for name, _ in columns}
    computing: list[ast.Operator] = []
    for index, operator in enumerate(operators):
        if isinstance(operator, ast.Where):
            plan.filters.append(Filter(operator, dict(visible), list(computing)))
        elif isinstance(operator, _COMPUTING):
            computing.append(operator)
        after = _step(operator, visible)
        if after is None:
            later = sum(isinstance(op, ast.Where) for op in operators[index + 1:])
            tail = f"; the {later} where(s) after it are not solved" if later else ""
            plan.obstacles.append(Obstacle(operator, f"{operator_word(operator)}: the generator does not see "
                                                     f"through it (rows are filled for the filters before it){tail}"))
            break
        visible = after
    return plan
