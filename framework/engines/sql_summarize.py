"""``summarize``: GROUP BY over keys computed in a subquery, with Kusto's aggregate rules.

The rules are the row engine's (``dac.kql.aggregates``): nulls are skipped
except by count(); the sum of no values is 0 and their average NaN; min and
max skip NaN; a string result is never null ("" for nothing); summarize with
no keys over no rows gives one row (as SQL's ungrouped aggregate does). Keys
of kinds whose SQL equality is not Kusto's (dynamic JSON text, reals with NaN)
are refused, as are aggregates that depend on row order or estimate.
"""

from __future__ import annotations

from sqlglot import exp

from dac.engines.compiler import Compiler, Relation
from dac.engines.sql_operators import operator
from dac.engines.sql_scalars import ScalarCompiler, _func, column
from dac.engines.sql_values import literal
from dac.kql import ast

SIMPLE = {"count", "countif", "dcount", "sum", "sumif", "avg", "avgif", "min", "max", "minif", "maxif"}
PREDICATE_AT = {"countif": 0, "sumif": 1, "avgif": 1, "minif": 1, "maxif": 1}


def _zero(kind: str, dialect: str) -> exp.Expression:
    return literal(0.0 if kind == "real" else 0, "long" if kind in ("int", "timespan") else kind, dialect)


@operator(ast.Summarize)
def summarize(compiler: Compiler, relation: Relation, node: ast.Summarize) -> Relation:
    if node.params:
        raise compiler.refuse("summarize with hints or parameters", node)
    out = compiler.schema_after(relation, node)
    if len(out) != len(node.by) + len(node.aggregates):
        raise compiler.refuse("an aggregate giving several columns", node)
    scalar = ScalarCompiler(compiler.context, relation.columns)
    dialect = compiler.context.dialect.name
    inner: list[exp.Expression] = []
    outer: list[exp.Expression] = []
    groups: list[exp.Expression] = []
    for position, item in enumerate(node.by):
        name, kind = out[position]
        key = scalar.compile(item.expr)
        if key.type in ("dynamic", "real"):
            raise compiler.refuse(f"summarize by a {key.type} key", item, "JSON text and NaN group differently in SQL")
        inner.append(exp.alias_(key.node, f"k{position}", quoted=True))
        groups.append(column(f"k{position}"))
        outer.append(exp.alias_(column(f"k{position}"), name, quoted=True))
    for position, item in enumerate(node.aggregates):
        name, kind = out[len(node.by) + position]
        call = item.expr
        if not isinstance(call, ast.Call) or call.name not in SIMPLE:
            raise compiler.refuse(f"the aggregate {getattr(call, 'name', 'expression')}()", item)
        args = [scalar.compile(arg) for arg in call.args]
        predicate_at = PREDICATE_AT.get(call.name)
        if predicate_at is not None and args[predicate_at].type != "bool":
            raise compiler.refuse(f"{call.name}() with a predicate that is not a bool", call)
        base = call.name.removesuffix("if")
        value_name, flag_name = f"a{position}", f"p{position}"
        if base == "count":
            if call.name == "count" and call.args:
                raise compiler.refuse("count() of an expression", call)
            if call.name == "countif":
                inner.append(exp.alias_(args[0].node, flag_name, quoted=True))
                counted = exp.Sum(this=exp.If(this=column(flag_name), true=exp.Literal.number(1),
                                              false=exp.Literal.number(0)))
                outer.append(exp.alias_(exp.Coalesce(this=exp.cast(counted, "BIGINT"),
                                                     expressions=[exp.Literal.number(0)]), name, quoted=True))
            else:
                outer.append(exp.alias_(exp.cast(exp.Count(this=exp.Star()), "BIGINT"), name, quoted=True))
            continue
        value = args[0]
        if value.type in ("dynamic", "guid") or (base == "dcount" and value.type == "real"):
            raise compiler.refuse(f"{call.name}() of a {value.type} value", call)
        target = value.node
        if value.type == "real" and base in ("min", "max"):
            target = exp.If(this=_func("isnan", target), true=exp.null(), false=target)  # min/max skip NaN
        if predicate_at is not None:
            target = exp.If(this=args[predicate_at].node, true=target, false=exp.null())
        inner.append(exp.alias_(target, value_name, quoted=True))
        ref = column(value_name)
        physical = scalar.physical(kind)
        if base == "dcount":
            aggregate: exp.Expression = exp.cast(exp.Count(this=exp.Distinct(expressions=[ref])), "BIGINT")
        elif base == "sum":
            if value.type not in ("int", "long", "real", "timespan"):
                raise compiler.refuse(f"sum() of a {value.type} value", call)
            aggregate = exp.Coalesce(this=exp.cast(exp.Sum(this=ref), physical), expressions=[_zero(kind, dialect)])
        elif base == "avg":
            if value.type not in ("int", "long", "real"):
                raise compiler.refuse(f"avg() of a {value.type} value", call)
            aggregate = exp.Coalesce(this=exp.Avg(this=exp.cast(ref, "DOUBLE")),
                                     expressions=[exp.cast(exp.Literal.string("nan"), "DOUBLE")])
        else:
            extreme = exp.Min(this=ref) if base == "min" else exp.Max(this=ref)
            aggregate = exp.Coalesce(this=extreme, expressions=[exp.Literal.string("")]) if kind == "string" else extreme
        outer.append(exp.alias_(aggregate, name, quoted=True))
    if not inner:
        inner.append(exp.alias_(exp.Literal.number(0), "u", quoted=True))
    keyed = exp.select(*inner).from_(compiler.subquery(relation))
    query = exp.select(*outer).from_(keyed.subquery(compiler.alias()))
    if groups:
        query = query.group_by(*groups)
    return Relation(query, out)
