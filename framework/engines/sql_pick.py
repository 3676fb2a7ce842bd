"""arg_max, arg_min and take_any in ``summarize``: the values of one row of each group, chosen as the row engine chooses.

The row engine (``dac.kql.aggregates``: ``ArgExtreme``, ``TakeAny``) reads a group's
rows in input order and keeps one row's values:

- arg_max/arg_min: the first row with the largest (smallest) non-null value, in the
  order of ``values.sort_key`` (NaN ranks as -inf, level with it); when every value is
  null, the group's first row (https://learn.microsoft.com/kusto/query/arg-max-aggregation-function:
  nulls are ignored, the row is then the group's own);
- take_any of several columns (or ``*``): the group's first row; of one column, the first
  row whose value is neither null nor "", else the last row's value, which is then null
  or "" too (https://learn.microsoft.com/kusto/query/take-any-aggregation-function);
- take_anyif(value, predicate): the same as take_any of one column over the rows where the
  predicate is true, null when there is none
  (https://learn.microsoft.com/kusto/query/take-anyif-aggregation-function).

In SQL each becomes one ARG_MAX/ARG_MIN (Spark: MAX_BY/MIN_BY) of a STRUCT of the row's
values, one pass over the input: the STRUCT is never null, so a null value is kept (the
plain ARG_MAX skips a null argument), and the ordering STRUCT puts the rows that count
first, then the value, then the input-order ordinal, so the row engine's choice is the
only extreme. Where struct comparison meets a null field (the value of an all-null
group) both engines take two nulls as equal and go on to the ordinal.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from dac.engines.compiler import ORDINAL, Compiler, Relation
from dac.engines.sql_scalars import ScalarCompiler, _func, column
from dac.kql import ast
from dac.kql.aggregates import MULTI_COLUMN, TAKE_ANY
from dac.kql.expressions import derive_name
from dac.kql.naming import ColumnCounter

TAKE_ANY_IF = frozenset({"take_anyif", "anyif"})
PICKS = frozenset(MULTI_COLUMN) | frozenset(TAKE_ANY) | TAKE_ANY_IF
# The kinds whose SQL order (of the physical form) is the row engine's sort_key order within one kind:
# numbers (reals once NaN is put level with -inf), bools, strings by code point (UTF-8 bytes order as code
# points do), datetimes, timespans (microseconds), guids (lower-case canonical text, as str(uuid)).
ORDERED = {"int", "long", "real", "bool", "string", "datetime", "timespan", "guid"}


@dataclass
class Pick:
    """One pick aggregate compiled: its STRUCT-valued aggregate and the kinds of its fields (output columns)."""

    aggregate: exp.Expression
    kinds: list[str]

    def field(self, struct: exp.Expression, index: int) -> exp.Expression:
        """Output column ``index`` read from the aggregate's value ``struct`` (``s['f0']`` reads a struct field
        in DuckDB and Spark alike).

        A string is "" when there was no row (summarize without keys over no rows): a string is never
        null. A real zero gets its sign back: DuckDB's ARG_MAX of a STRUCT gives -0.0 back as 0.0.
        """
        value: exp.Expression = _member(struct, f"f{index}")
        if self.kinds[index] == "string":
            return exp.Coalesce(this=value, expressions=[exp.Literal.string("")])
        if self.kinds[index] == "real":
            return exp.If(this=_member(struct, f"z{index}"), true=exp.cast(exp.Literal.string("-0.0"), "DOUBLE"),
                          false=value)
        return value


def key_names(node: ast.Summarize) -> set[str]:
    """The by-keys' names as the row engine names them before making them unique: ``*`` leaves these columns out."""
    counter = ColumnCounter([])
    return {item.names[0] if item.names else (derive_name(item.expr) or counter.next()) for item in node.by}


def arguments(call: ast.Call, relation: Relation, keys: set[str]) -> list[ast.Expr]:
    """The call's value expressions with ``*`` expanded as the row engine expands it (``plan_multi``):
    every input column but the keys and the names already derived by an earlier argument."""
    exprs: list[tuple[str | None, ast.Expr]] = []
    for position, arg in enumerate(call.args):
        if isinstance(arg, ast.Star):
            taken = {name for name, _ in exprs}
            exprs.extend((name, ast.Name(name, line=arg.line, column=arg.column))
                         for name in relation.names() if name not in keys and name not in taken)
            continue
        derived = derive_name(arg)
        if call.name in MULTI_COLUMN and position == 0 and derived is None:
            derived = "max_" if MULTI_COLUMN[call.name] else "min_"
        elif call.name == "any":
            derived = "any_" + (derived or "")
        exprs.append((derived, arg))
    return [expr for _, expr in exprs]


def pick(compiler: Compiler, relation: Relation, scalar: ScalarCompiler, call: ast.Call, keys: set[str],
         inner: list[exp.Expression], position: int) -> Pick | None:
    """The aggregate of one arg_max/arg_min/take_any(if) item; its inputs are added to ``inner`` (the keyed subquery).

    None when the call gives no column (``take_any(*)`` by every column).
    """
    if not relation.ordinal:
        raise compiler.refuse(f"{call.name}() over rows in no defined order", call,
                              "the row kept on ties would depend on the engine")
    exprs = call.args[:1] if call.name in TAKE_ANY_IF else arguments(call, relation, keys)
    if not exprs:
        return None
    values = [scalar.compile(expr) for expr in exprs]
    names = [f"x{position}_{index}" for index in range(len(values))]
    inner.extend(exp.alias_(value.node, name, quoted=True) for value, name in zip(values, names))
    inner.append(exp.alias_(column(ORDINAL), f"o{position}", quoted=True))
    fields = []
    for index, (value, name) in enumerate(zip(values, names)):
        fields.append((f"f{index}", column(name)))
        if value.type == "real":
            fields.append((f"z{index}", _negative_zero(column(name))))
    row = _struct(fields)
    kinds = [value.type for value in values]
    ordinal = column(f"o{position}")
    if call.name in MULTI_COLUMN:
        first = values[0]
        if first.type not in ORDERED:
            raise compiler.refuse(f"{call.name}() of a {first.type} value", call.args[0],
                                  "the row engine orders dynamic values by kind, then value, which their JSON text does not")
        inner.append(exp.alias_(_order_key(first.node, first.type), f"m{position}", quoted=True))
        value, key = column(names[0]), column(f"m{position}")
        if MULTI_COLUMN[call.name]:  # the largest key, then the smallest ordinal; nulls (f false) only if all are
            order = _struct([("f", exp.not_(exp.Is(this=value, expression=exp.null()))), ("k", key),
                             ("o", exp.Neg(this=ordinal))])
            return Pick(exp.ArgMax(this=row, expression=order), kinds)
        order = _struct([("f", exp.Is(this=value, expression=exp.null())), ("k", key), ("o", ordinal)])
        return Pick(exp.ArgMin(this=row, expression=order), kinds)
    if len(values) != 1:
        return Pick(exp.ArgMin(this=row, expression=ordinal), kinds)
    filled = _filled(column(names[0]), values[0].type)
    order = _struct([("f", filled), ("o", exp.If(this=filled, true=exp.Neg(this=ordinal), false=ordinal))])
    chosen: exp.Expression = exp.ArgMax(this=row, expression=order)
    if call.name in TAKE_ANY_IF:
        predicate = scalar.compile(call.args[1])
        if predicate.type != "bool":
            raise compiler.refuse(f"{call.name}() with a predicate that is not a bool", call.args[1])
        inner.append(exp.alias_(predicate.node, f"p{position}", quoted=True))
        chosen = exp.Filter(this=chosen, expression=exp.Where(this=column(f"p{position}")))
    return Pick(chosen, kinds)


def _member(struct: exp.Expression, name: str) -> exp.Expression:
    return exp.Bracket(this=struct, expressions=[exp.Literal.string(name)])


def _negative_zero(value: exp.Expression) -> exp.Expression:
    """Is the real -0.0? Its text is the one place SQL tells it from 0.0 (-0.0 = 0.0 is true)."""
    return exp.and_(exp.EQ(this=value, expression=exp.Literal.number(0)),
                    exp.Like(this=exp.cast(value, "VARCHAR"), expression=exp.Literal.string("-%")))


def _struct(fields: list[tuple[str, exp.Expression]]) -> exp.Expression:
    return exp.Struct(expressions=[exp.PropertyEQ(this=exp.to_identifier(name), expression=value)
                                   for name, value in fields])


def _order_key(value: exp.Expression, kind: str) -> exp.Expression:
    """The value as the row engine orders it: a NaN level with -inf (``values.sort_key``), where SQL puts NaN above all."""
    if kind != "real":
        return value
    return exp.If(this=_func("isnan", value), true=exp.cast(exp.Literal.string("-inf"), "DOUBLE"), false=value)


def _filled(value: exp.Expression, kind: str) -> exp.Expression:
    """take_any's "non-empty": not null and not "" (a string is "" in SQL, never null; a dynamic "" is the text '""')."""
    present = exp.not_(exp.Is(this=value, expression=exp.null()))
    if kind == "string":
        return exp.NEQ(this=value, expression=exp.Literal.string(""))
    if kind == "dynamic":
        return exp.and_(present, exp.NEQ(this=value, expression=exp.Literal.string('""')))
    return present
