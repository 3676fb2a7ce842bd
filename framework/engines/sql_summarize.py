"""``summarize``: GROUP BY over keys computed in a subquery, with Kusto's aggregate rules.

The rules are the row engine's (``dac.kql.aggregates``): nulls are skipped
except by count(); the sum of no values is 0 and their average NaN; min and
max skip NaN; a string result is never null ("" for nothing); summarize with
no keys over no rows gives one row (as SQL's ungrouped aggregate does). Keys
of kinds whose SQL equality is not Kusto's (dynamic JSON text, reals with NaN)
are refused, as are aggregates that depend on row order or estimate. arg_max,
arg_min and take_any, which give several columns from one row, are ``sql_pick``'s.
"""

from __future__ import annotations

from sqlglot import exp

from dac.engines.compiler import ORDINAL, Compiler, Relation
from dac.engines.sql_operators import operator
from dac.engines.sql_pick import PICKS, key_names, pick
from dac.engines.sql_scalars import ScalarCompiler, _func, column
from dac.engines.sql_values import literal
from dac.kql import ast
from dac.kql.aggregates import DEFAULT_SET_LIMIT

SIMPLE = {"count", "countif", "dcount", "dcountif", "sum", "sumif", "avg", "avgif", "min", "max", "minif", "maxif"}
PREDICATE_AT = {"countif": 0, "dcountif": 1, "sumif": 1, "avgif": 1, "minif": 1, "maxif": 1, "make_list_if": 1, "make_set_if": 1}
# Aggregates whose value lists the group's values in input order: they need the relation's ordinal.
LISTS = {"make_list": False, "make_list_if": False, "make_set": True, "make_set_if": True}
# The kinds whose JSON text in SQL is the row engine's and whose SQL equality is Kusto's (make_set's "seen").
LISTABLE = {"string", "long", "int", "bool"}


def _zero(kind: str, dialect: str) -> exp.Expression:
    return literal(0.0 if kind == "real" else 0, "long" if kind in ("int", "timespan") else kind, dialect)


@operator(ast.Summarize)
def summarize(compiler: Compiler, relation: Relation, node: ast.Summarize) -> Relation:
    if node.params:
        raise compiler.refuse("summarize with hints or parameters", node)
    out = compiler.schema_after(relation, node)
    scalar = ScalarCompiler(compiler.context, relation.columns)
    dialect = compiler.context.dialect.name
    inner: list[exp.Expression] = []
    outer: list[exp.Expression] = []
    groups: list[exp.Expression] = []
    final: list[exp.Expression] = []  # the output columns, read from ``outer`` (a pick's columns are struct fields)
    keys = key_names(node)
    for position, item in enumerate(node.by):
        name, kind = out[position]
        key = scalar.compile(item.expr)
        if key.type in ("dynamic", "real"):
            raise compiler.refuse(f"summarize by a {key.type} key", item, "JSON text and NaN group differently in SQL")
        inner.append(exp.alias_(key.node, f"k{position}", quoted=True))
        groups.append(column(f"k{position}"))
        outer.append(exp.alias_(column(f"k{position}"), name, quoted=True))
        final.append(column(name))
    at = len(node.by)  # the next output column
    for position, item in enumerate(node.aggregates):
        call = item.expr
        if isinstance(call, ast.Call) and call.name in PICKS:
            picked = pick(compiler, relation, scalar, call, keys, inner, position)
            if picked is None:
                continue
            struct = f"__dac_pick{position}"
            outer.append(exp.alias_(picked.aggregate, struct, quoted=True))
            for index, (name, _) in enumerate(out[at:at + len(picked.kinds)]):
                final.append(exp.alias_(picked.field(column(struct), index), name, quoted=True))
            at += len(picked.kinds)
            continue
        if at >= len(out):
            raise _misread(compiler, node)
        name, kind = out[at]
        at += 1
        final.append(column(name))
        if not isinstance(call, ast.Call) or call.name not in SIMPLE | set(LISTS):
            raise compiler.refuse(f"the aggregate {getattr(call, 'name', 'expression')}()", item)
        predicate_at = PREDICATE_AT.get(call.name)
        args = [scalar.compile(arg) for arg in call.args[:(predicate_at or 0) + 1]]
        if predicate_at is not None and args[predicate_at].type != "bool":
            raise compiler.refuse(f"{call.name}() with a predicate that is not a bool", call)
        if call.name in LISTS:
            keys = [node_ for node_ in inner[:len(node.by)]]
            outer.append(exp.alias_(_listed(compiler, relation, scalar, call, args, keys, inner, position),
                                    name, quoted=True))
            continue
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
    if relation.ordinal:
        # the row engine lists the groups in the order their first rows come in: the least ordinal of each
        inner.append(exp.alias_(column(ORDINAL), "__dac_first", quoted=True))
        outer.append(exp.alias_(exp.Min(this=column("__dac_first")), ORDINAL, quoted=True))
        final.append(column(ORDINAL))
    if not inner:
        inner.append(exp.alias_(exp.Literal.number(0), "u", quoted=True))
    keyed = exp.select(*inner).from_(compiler.subquery(relation))
    query = exp.select(*outer).from_(keyed.subquery(compiler.alias()))
    if groups:
        query = query.group_by(*groups)
    if at != len(out):
        raise _misread(compiler, node)
    return Relation(exp.select(*final).from_(query.subquery(compiler.alias())), out, ordinal=relation.ordinal)


def _misread(compiler: Compiler, node: ast.Summarize) -> Exception:
    """The guard of the one place the compiler counts columns itself (``*`` in arg_max and take_any, expanded
    as the row engine's ``plan_multi`` expands it): should the two disagree, a refusal, not misplaced names."""
    return compiler.refuse("this summarize", node, "its columns differ from the row engine's")


def _listed(compiler: Compiler, relation: Relation, scalar: ScalarCompiler, call: ast.Call, args: list,
            keys: list[exp.Expression], inner: list[exp.Expression], position: int) -> exp.Expression:
    """make_list/make_set(_if): the group's non-null values (first occurrences for a set) in input order, as JSON.

    The row engine adds values as it meets the rows and stops at the limit; a set
    remembers a value only when the predicate admitted it. Here: a flag column per
    aggregate (the predicate, and for a set "first admitted row of this value in the
    group" by the ordinal), then the list in ordinal order, cut at the limit.
    """
    if not relation.ordinal:
        raise compiler.refuse(f"{call.name}() over rows in no defined order", call,
                              "the list's order would depend on the engine")
    head = compiler.context.dialect.ordered_list_head
    if head is None:
        raise compiler.refuse(f"{call.name}()", call, f"{compiler.context.dialect.name} has no ordered array aggregate")
    value = args[0]
    if value.type not in LISTABLE:
        raise compiler.refuse(f"{call.name}() of a {value.type} value", call, "its JSON text or equality differs in SQL")
    limit_at = (PREDICATE_AT.get(call.name) or 0) + 1
    limit = scalar.constant(call.args[limit_at]) if len(call.args) > limit_at else DEFAULT_SET_LIMIT
    if type(limit) is not int or limit < 0:
        raise compiler.refuse(f"{call.name}() with this limit", call)
    admitted: exp.Expression = exp.Not(this=exp.Is(this=value.node, expression=exp.null()))
    predicate = PREDICATE_AT.get(call.name)
    if predicate is not None:
        admitted = exp.and_(admitted, exp.EQ(this=args[predicate].node, expression=exp.true()))
    if LISTS[call.name]:
        partition = [k.this if isinstance(k, exp.Alias) else k for k in keys] + [value.node, admitted]
        first = exp.Window(this=exp.RowNumber(), partition_by=partition,
                           order=exp.Order(expressions=[exp.Ordered(this=column(ORDINAL))]))
        admitted = exp.and_(admitted, exp.EQ(this=first, expression=exp.Literal.number(1)))
    inner.append(exp.alias_(value.node, f"a{position}", quoted=True))
    inner.append(exp.alias_(admitted, f"p{position}", quoted=True))
    inner.append(exp.alias_(column(ORDINAL), f"o{position}", quoted=True))
    listed = exp.Filter(this=exp.ArrayAgg(this=exp.Order(this=column(f"a{position}"), expressions=[
        exp.Ordered(this=column(f"o{position}"))])), expression=exp.Where(this=column(f"p{position}")))
    cut = head(listed, limit)
    return exp.Coalesce(this=compiler.context.dialect.list_to_json(cut), expressions=[exp.Literal.string("[]")])
