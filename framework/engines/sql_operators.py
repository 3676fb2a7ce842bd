"""Tabular operators as SELECTs over the previous relation (see ``compiler`` for the ordinal rules).

Every builder takes the compiler, the input relation and the operator node and
returns the output relation; the output columns are the row engine's
(``Compiler.schema_after``), and the builder only supplies the SQL of each.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlglot import exp

from dac.engines.compiler import ORDINAL, Compiler, Relation
from dac.engines.sql_pick import PICKS
from dac.engines.sql_scalars import ScalarCompiler, Sql, _func, column
from dac.engines.sql_values import literal
from dac.kql import ast

Builder = Callable[[Compiler, Relation, Any], Relation]
OPERATORS: dict[type, Builder] = {}
# Operators after which the row order is the row engine's own (groups, matches): no ordinal survives them.
# Operators whose output order is not the input's (a summarize's groups keep their first row's: sql_summarize).
ORDER_ENDING = (ast.Join, ast.Lookup, ast.Distinct, ast.Count, ast.UnionOp)
ROW_LOCAL = (ast.Where, ast.Extend, ast.Project, ast.ProjectAway, ast.ProjectKeep, ast.ProjectRename,
             ast.ProjectReorder)


def operator(kind: type) -> Callable[[Builder], Builder]:
    def register(build: Builder) -> Builder:
        OPERATORS[kind] = build
        return build

    return register


def needs_ordinal(operators: list[ast.Operator]) -> bool:
    """Does an operator read the input order before anything ends it (take, sort ties, innerunique...)?"""
    for op in operators:
        if isinstance(op, (ast.Take, ast.Sort, ast.Top)):
            return True
        if isinstance(op, ast.Join) and str(op.params.get("kind", "innerunique")).lower() == "innerunique":
            return True
        if isinstance(op, ast.Summarize) and any(
                isinstance(item.expr, ast.Call) and (item.expr.name.startswith(("make_list", "make_set"))
                                                     or item.expr.name in PICKS)
                for item in op.aggregates):
            return True  # the lists keep the input order; arg_max, arg_min and take_any keep its first row
        if isinstance(op, ORDER_ENDING):
            return False
    return False


def scalars(compiler: Compiler, relation: Relation, refs: dict[str, exp.Expression] | None = None) -> ScalarCompiler:
    return ScalarCompiler(compiler.context, relation.columns, refs)


def keep_order(relation: Relation, query: exp.Query, columns: list[tuple[str, str]]) -> Relation:
    return Relation(query, columns, relation.ordinal, relation.sorted)


@operator(ast.Render)
def render(compiler: Compiler, relation: Relation, node: ast.Render) -> Relation:
    """render names how a client draws the result (https://learn.microsoft.com/kusto/query/render-operator);
    the rows are the input's, as in the row engine."""
    compiler.schema_after(relation, node)  # the row engine's errors for it
    return relation


@operator(ast.Where)
def where(compiler: Compiler, relation: Relation, node: ast.Where) -> Relation:
    if node.named:
        raise compiler.refuse("where with an assignment", node)
    compiler.schema_after(relation, node)
    predicate = scalars(compiler, relation).compile(node.predicate)
    if predicate.type != "bool":
        raise compiler.refuse(f"where over a {predicate.type} predicate", node)
    query = exp.select(exp.Star()).from_(compiler.subquery(relation)).where(predicate.node)
    return keep_order(relation, query, relation.columns)


def _assignments(compiler: Compiler, relation: Relation, node: ast.Extend | ast.Project,
                 items: list[ast.Assignment]) -> tuple[list[tuple[str, str]], dict[str, exp.Expression]]:
    """Output columns and the SQL of each computed one; later items see earlier ones (refs)."""
    out = compiler.schema_after(relation, node)
    refs: dict[str, exp.Expression] = {}
    types = dict(relation.columns)
    pending = [name for name, _ in out]
    position = 0
    for item in items:
        if len(item.names) > 1:
            raise compiler.refuse("an assignment of several names", item)
        if isinstance(node, ast.Project):  # project's items see the input columns only
            sql = ScalarCompiler(compiler.context, relation.columns).compile(item.expr)
        else:  # extend's items see the ones before them
            sql = ScalarCompiler(compiler.context, list(types.items()), dict(refs)).compile(item.expr)
        if item.names:
            name = item.names[0]
        elif isinstance(node, ast.Project):
            name = pending[position]
        else:
            name = _extend_name(out, relation, refs, item, compiler)
        refs[name] = sql.node
        types[name] = sql.type
        position += 1
    for name, kind in out:
        if name in refs and types[name] != kind:
            raise compiler.refuse(f"the column '{name}' typed {types[name]} here and {kind} by the row engine", node)
    return out, refs


def _extend_name(out: list[tuple[str, str]], relation: Relation, refs: dict[str, exp.Expression],
                 item: ast.Assignment, compiler: Compiler) -> str:
    """An unnamed extend item's column: the next output column that is neither an input nor named yet."""
    taken = set(relation.names()) | set(refs)
    for name, _ in out:
        if name not in taken:
            return name
    raise compiler.refuse("an unnamed extend item", item)


@operator(ast.Extend)
def extend(compiler: Compiler, relation: Relation, node: ast.Extend) -> Relation:
    out, refs = _assignments(compiler, relation, node, node.items)
    projections = [exp.alias_(refs[name], name, quoted=True) if name in refs else column(name) for name, _ in out]
    return keep_order(relation, compiler.select(relation, projections), out)


@operator(ast.Project)
def project(compiler: Compiler, relation: Relation, node: ast.Project) -> Relation:
    out, refs = _assignments(compiler, relation, node, node.items)
    names = set(relation.names())
    projections = []
    for name, _ in out:
        if name in refs:
            projections.append(exp.alias_(refs[name], name, quoted=True))
        elif name in names:
            projections.append(column(name))
        else:
            raise compiler.refuse(f"the projected column '{name}'", node)
    return keep_order(relation, compiler.select(relation, projections), out)


def _subset(compiler: Compiler, relation: Relation, node: ast.Operator, renames: dict[str, str]) -> Relation:
    out = compiler.schema_after(relation, node)
    names = set(relation.names())
    projections = []
    for name, _ in out:
        old = renames.get(name, name)
        if old not in names:
            raise compiler.refuse(f"the column '{name}'", node)
        projections.append(exp.alias_(column(old), name, quoted=True) if old != name else column(name))
    return keep_order(relation, compiler.select(relation, projections), out)


@operator(ast.ProjectAway)
def project_away(compiler: Compiler, relation: Relation, node: ast.ProjectAway) -> Relation:
    return _subset(compiler, relation, node, {})


@operator(ast.ProjectKeep)
def project_keep(compiler: Compiler, relation: Relation, node: ast.ProjectKeep) -> Relation:
    return _subset(compiler, relation, node, {})


@operator(ast.ProjectReorder)
def project_reorder(compiler: Compiler, relation: Relation, node: ast.ProjectReorder) -> Relation:
    return _subset(compiler, relation, node, {})


@operator(ast.ProjectRename)
def project_rename(compiler: Compiler, relation: Relation, node: ast.ProjectRename) -> Relation:
    return _subset(compiler, relation, node, {new: old for new, old in node.pairs})


def _count_of(compiler: Compiler, relation: Relation, node: ast.Operator, expr: ast.Expr) -> int:
    value = ScalarCompiler(compiler.context, [], None).constant(expr)
    if type(value) is not int:
        raise compiler.refuse("a row count that is not a constant integer", node)
    return max(value, 0)


@operator(ast.Take)
def take(compiler: Compiler, relation: Relation, node: ast.Take) -> Relation:
    compiler.schema_after(relation, node)
    count = _count_of(compiler, relation, node, node.count)
    if not relation.ordinal:
        raise compiler.refuse("take over rows in no defined order", node,
                              "which rows it keeps would depend on the engine")
    query = exp.select(exp.Star()).from_(compiler.subquery(relation)).order_by(column(ORDINAL)).limit(count)
    return keep_order(relation, query, relation.columns)


def _sort_key(compiler: ScalarCompiler, key: ast.SortKey, node: ast.Node, refuse: Callable[..., Exception]) -> list[exp.Ordered]:
    value: Sql = compiler.compile(key.expr)
    if value.type in ("dynamic",):
        raise refuse(f"sorting by a {value.type} value", node)
    target = value.node
    if value.type == "real":  # the row engine orders NaN as -infinity
        target = exp.If(this=_func("isnan", target), true=exp.cast(exp.Literal.string("-inf"), "DOUBLE"), false=target)
    return [exp.Ordered(this=target, desc=key.descending, nulls_first=key.nulls_first)]


def sorted_relation(compiler: Compiler, relation: Relation, keys: list[ast.SortKey], node: ast.Node) -> Relation:
    scalar = scalars(compiler, relation)
    order: list[exp.Ordered] = []
    for key in keys:
        order.extend(_sort_key(scalar, key, node, compiler.refuse))
    if relation.ordinal:  # ties keep the input order: the row engine's sort is stable
        order.append(exp.Ordered(this=column(ORDINAL), desc=False, nulls_first=False))
    window = exp.Window(this=exp.RowNumber(), order=exp.Order(expressions=order))
    projections = [column(name) for name in relation.names()] + [exp.alias_(window, ORDINAL, quoted=True)]
    query = exp.select(*projections).from_(compiler.subquery(relation))
    return Relation(query, relation.columns, ordinal=True, sorted=True)


@operator(ast.Sort)
def sort(compiler: Compiler, relation: Relation, node: ast.Sort) -> Relation:
    compiler.schema_after(relation, node)
    if not relation.ordinal:
        raise compiler.refuse("sort over rows in no defined order", node, "rows that tie would come out in the engine's order")
    return sorted_relation(compiler, relation, node.keys, node)


@operator(ast.Top)
def top(compiler: Compiler, relation: Relation, node: ast.Top) -> Relation:
    compiler.schema_after(relation, node)
    count = _count_of(compiler, relation, node, node.count)
    if not relation.ordinal:
        raise compiler.refuse("top over rows in no defined order", node, "rows that tie would come out in the engine's order")
    ordered = sorted_relation(compiler, relation, [node.key], node)
    query = exp.select(exp.Star()).from_(compiler.subquery(ordered)).order_by(column(ORDINAL)).limit(count)
    return Relation(query, ordered.columns, ordinal=True, sorted=True)


@operator(ast.Count)
def count(compiler: Compiler, relation: Relation, node: ast.Count) -> Relation:
    out = compiler.schema_after(relation, node)
    counted = exp.alias_(exp.cast(exp.Count(this=exp.Star()), "BIGINT"), out[0][0], quoted=True)
    return Relation(exp.select(counted).from_(compiler.subquery(relation)), out)


@operator(ast.Distinct)
def distinct(compiler: Compiler, relation: Relation, node: ast.Distinct) -> Relation:
    out = compiler.schema_after(relation, node)
    if any(kind in ("dynamic", "real") for _, kind in out):
        raise compiler.refuse("distinct over dynamic or real columns", node,
                              "JSON text and NaN compare differently in SQL")
    if len(node.columns) == 1 and isinstance(node.columns[0], ast.Star):
        projections: list[exp.Expression] = [column(name) for name in relation.names()]
    else:
        scalar = scalars(compiler, relation)
        projections = [exp.alias_(scalar.compile(expr).node, name, quoted=True)
                       for expr, (name, _) in zip(node.columns, out)]
    query = exp.select(*projections).distinct().from_(compiler.subquery(relation))
    return Relation(query, out)


def print_source(compiler: Compiler, source: ast.Print) -> Relation:
    out = compiler.context.evaluator.eval_source(source, compiler.context.scope).columns
    refs: dict[str, exp.Expression] = {}
    types: dict[str, str] = {}
    for item, (name, kind) in zip(source.items, out):
        if len(item.names) > 1:
            raise compiler.refuse("an assignment of several names", item)
        sql = ScalarCompiler(compiler.context, list(types.items()), dict(refs)).compile(item.expr)
        if sql.type != kind:
            raise compiler.refuse(f"the column '{name}'", item)
        refs[name], types[name] = sql.node, sql.type
    projections = [exp.alias_(refs[name], name, quoted=True) for name, _ in out]
    projections.append(exp.alias_(exp.Literal.number(0), ORDINAL, quoted=True))
    return Relation(exp.select(*projections), list(out), ordinal=True)


def union(compiler: Compiler, relation: Relation | None, source: ast.Union) -> Relation:
    """union of legs: the row engine's columns (by name, missing ones null or ""), legs in order.

    ``isfuzzy=true`` only leaves out a leg naming a table that does not exist, which the compiler refuses
    to compile anyway, and ``kind=outer`` is the default; ``withsource=C`` puts each leg's table name first
    (the piped input's is ""). https://learn.microsoft.com/kusto/query/union-operator"""
    params = {key.lower(): str(value).lower() for key, value in source.params.items()}
    if params.get("kind", "outer") != "outer" or params.get("isfuzzy", "false") not in ("true", "false") or \
            set(params) - {"kind", "isfuzzy", "withsource"}:
        raise compiler.refuse("union with these parameters", source)
    with_source = source.params.get("withsource")
    leg_names: list[str] = [] if relation is None else [""]
    legs: list[Relation] = [] if relation is None else [relation]
    for leg in source.legs:
        if with_source is not None and not isinstance(leg, ast.Name):
            raise compiler.refuse("union withsource of a leg that is not a table name", leg)
        leg_names.append(leg.name if isinstance(leg, ast.Name) else "")
        if isinstance(leg, ast.Name) and "*" in leg.name:
            raise compiler.refuse("a union of tables named by a wildcard", leg)
        if isinstance(leg, ast.Name):
            legs.append(compiler.named_source(ast.ExprSource(leg, line=leg.line, column=leg.column), False))
        elif isinstance(leg, ast.Tabular):
            legs.append(compiler.pipeline(leg.query))
        else:
            raise compiler.refuse("this union leg", leg)
    if relation is None:
        out = compiler.context.evaluator.eval_source(source, compiler.context.scope).columns
    else:
        out = compiler.schema_after(relation, ast.UnionOp(source, line=source.line, column=source.column))
    dialect = compiler.context.dialect.name
    selects = []
    for leg, leg_name in zip(legs, leg_names):
        types = dict(leg.columns)
        projections = []
        for position, (name, kind) in enumerate(out):
            if with_source is not None and position == 0:
                projections.append(exp.alias_(exp.Literal.string(leg_name), name, quoted=True))
            elif name in types and types[name] == kind:
                projections.append(column(name))
            elif name not in types:
                projections.append(exp.alias_(literal("" if kind == "string" else None, kind, dialect), name, quoted=True))
            else:
                raise compiler.refuse(f"union of the column '{name}' of two types", source)
        selects.append(exp.select(*projections).from_(compiler.subquery(leg)))
    query: exp.Query = selects[0]
    for other in selects[1:]:
        query = exp.union(query, other, distinct=False)
    return Relation(query, list(out))


@operator(ast.UnionOp)
def union_operator(compiler: Compiler, relation: Relation, node: ast.UnionOp) -> Relation:
    return union(compiler, relation, node.union)
