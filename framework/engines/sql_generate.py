"""Operators that make rows: ``range`` and ``mv-expand``, over the dialect's series of integers.

Both reduce to "one row per integer ``i`` below a count": range's count is known
when compiling (its bounds are constants), mv-expand's is each row's longest
expanded value. The values are then computed from ``i`` in exact integer
arithmetic (``start + i * step``), which equals the row engine's repeated
addition for longs, datetimes and timespans; for reals only where every partial
sum is exact (``_exact_reals``), since float addition and multiplication round
differently.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Any

from sqlglot import exp

from dac.engines.compiler import ORDINAL, Compiler, Relation
from dac.engines.physical import sql_type
from dac.engines.sql_operators import _count_of, operator
from dac.engines.sql_scalars import ScalarCompiler, _case, column
from dac.engines.sql_values import literal, micros
from dac.kql import ast
from dac.kql import values as V
from dac.kql.expressions import derive_name

# A real range is computed as start + i * step only when start and step are multiples of
# 2**-FRACTION_BITS and every value stays below 2**MAGNITUDE_BITS: 53 bits hold them all exactly.
FRACTION_BITS = 20
MAGNITUDE_BITS = 32


def series(compiler: Compiler, count: exp.Expression, node: ast.Node) -> exp.Expression:
    """A FROM item with one BIGINT column ``i`` = 0, 1, ... count - 1 (no rows when count <= 0)."""
    build = compiler.context.dialect.series
    if build is None:
        raise compiler.refuse("a generated series of rows", node, f"the {compiler.context.dialect.name} dialect has no spelling for it")
    return build(count, compiler.alias())


def _exact_reals(*values: float) -> bool:
    scale = 2 ** FRACTION_BITS
    return all(math.isfinite(v) and (v * scale).is_integer() and abs(v) < 2 ** MAGNITUDE_BITS for v in values)


def _range_count(start: Any, stop: Any, step: Any) -> int:
    """How many values start, start + step, ... the row engine's loop gives before passing stop."""
    if isinstance(start, datetime):
        start, stop, step = (micros(start - datetime(1970, 1, 1)), micros(stop - datetime(1970, 1, 1)), micros(step))
    elif isinstance(start, timedelta):
        start, stop, step = micros(start), micros(stop), micros(step)
    span = (Fraction(stop) - Fraction(start)) / Fraction(step)
    return max(math.floor(span) + 1, 0)


def range_source(compiler: Compiler, source: ast.Range) -> Relation:
    scalar = ScalarCompiler(compiler.context, [])
    kinds = [scalar.typer.compile(e).type for e in (source.start, source.stop, source.step)]
    start, stop, step = (scalar.constant(e) for e in (source.start, source.stop, source.step))
    compiler.context.evaluator.eval_source(ast.Range(source.name, source.start, source.start, source.step,
                                                     line=source.line, column=source.column),
                                           compiler.context.scope)  # the row engine's errors (zero step...)
    kind = kinds[0]
    integers = {"int", "long"}
    if start is None or stop is None or step is None:
        raise compiler.refuse("range over a null bound", source)
    if set(kinds) <= integers:
        pass
    elif kind == "real" and set(kinds) <= integers | {"real"}:
        if not _exact_reals(float(start), float(step), float(stop)):
            raise compiler.refuse("range over these reals", source, "float sums round differently from products")
    elif kinds not in (["datetime", "datetime", "timespan"], ["timespan", "timespan", "timespan"]):
        raise compiler.refuse(f"range from {kinds[0]} to {kinds[1]} step {kinds[2]}", source)
    count = _range_count(start, stop, step)
    if set(kinds) <= integers and count and not -2 ** 63 <= start + (count - 1) * step < 2 ** 63:
        raise compiler.refuse("range past the long values", source)
    i = column("i")
    dialect = compiler.context.dialect
    if kind == "datetime":
        offset = exp.Add(this=dialect.epoch_micros(literal(start, "datetime", dialect.name)),
                         expression=exp.Mul(this=i, expression=exp.Literal.number(micros(step))))
        value: exp.Expression = dialect.from_epoch_micros(offset)
    elif kind == "real":
        value = exp.Add(this=literal(float(start), "real", dialect.name),
                        expression=exp.Mul(this=exp.cast(i, "DOUBLE"), expression=literal(float(step), "real", dialect.name)))
    else:
        first = micros(start) if kind == "timespan" else start
        increment = micros(step) if kind == "timespan" else step
        value = exp.cast(exp.Add(this=exp.Literal.number(first), expression=exp.Mul(
            this=i, expression=exp.Literal.number(increment))), scalar.physical(kind))
    query = exp.select(exp.alias_(value, source.name, quoted=True), exp.alias_(i, ORDINAL, quoted=True)).from_(
        series(compiler, exp.Literal.number(count), source))
    return Relation(query, [(source.name, kind)], ordinal=True)


def _hook(compiler: Compiler, name: str, node: ast.Node) -> Callable[..., Any]:
    build = getattr(compiler.context.dialect, name)
    if build is None:
        raise compiler.refuse("mv-expand", node, f"the {compiler.context.dialect.name} dialect has no spelling for {name}")
    return build


@operator(ast.MvExpand)
def mv_expand(compiler: Compiler, relation: Relation, node: ast.MvExpand) -> Relation:
    """One row per position below the longest expanded value; shorter ones give null there.

    As the row engine: an array gives its elements, a bag its members as one-member bags
    (or [key, value] with bagexpansion=array), anything else (null included) itself once.
    """
    unknown = set(node.params) - {"with_itemindex", "bagexpansion", "kind"}
    if unknown:
        raise compiler.refuse(f"mv-expand with {', '.join(sorted(unknown))}", node)
    out = compiler.schema_after(relation, node)
    bag_as_array = str(node.params.get("bagexpansion", node.params.get("kind", "bag"))).lower() == "array"
    index_name = node.params.get("with_itemindex")
    dialect = compiler.context.dialect
    scalar = ScalarCompiler(compiler.context, relation.columns)
    inner: list[exp.Expression] = [column(name) for name in relation.names()]
    if relation.ordinal:
        inner.append(column(ORDINAL))
    targets: dict[str, tuple[int, str | None]] = {}
    for position, item in enumerate(node.items):
        value = scalar.compile(item.expr)
        if value.type != "dynamic":
            raise compiler.refuse(f"mv-expand of a {value.type} value", item)
        targets[item.name or derive_name(item.expr) or ""] = (position, item.to_type and V.normal_type(item.to_type))
        inner.append(exp.alias_(value.node, f"__v{position}", quoted=True))
    i = column("i")
    kinds = {name: dialect.json_type(column(f"__v{p}")) for name, (p, _) in targets.items()}
    names = dialect.json_type_names
    lengths = {}
    for name, (p, _) in targets.items():
        v = column(f"__v{p}")
        lengths[name] = _case([(exp.EQ(this=kinds[name], expression=exp.Literal.string(names["array"])),
                                dialect.json_array_length(v)),
                               (exp.EQ(this=kinds[name], expression=exp.Literal.string(names["object"])),
                                _hook(compiler, "json_object_size", node)(v))], exp.Literal.number(1))
    longest = lengths[next(iter(lengths))] if len(lengths) == 1 else exp.Greatest(
        this=list(lengths.values())[0], expressions=list(lengths.values())[1:])
    if node.limit is not None:
        longest = exp.Least(this=longest, expressions=[exp.Literal.number(_count_of(compiler, relation, node, node.limit))])
    keyed = exp.select(*inner, exp.alias_(longest, "__n", quoted=True)).from_(compiler.subquery(relation))
    projections: list[exp.Expression] = []
    for name, kind in out:
        if name in targets:
            p, to_type = targets[name]
            element = _element(compiler, node, column(f"__v{p}"), kinds[name], i, bag_as_array)
            element = _case([(exp.LT(this=i, expression=lengths[name]), element)], exp.null())
            if to_type and to_type != "dynamic":
                element = _typed(compiler, node, element, to_type)
            projections.append(exp.alias_(element, name, quoted=True))
        elif name == index_name:
            projections.append(exp.alias_(i, name, quoted=True))
        else:
            projections.append(column(name))
    sorted_ = False
    if relation.ordinal:
        order = exp.Order(expressions=[exp.Ordered(this=column(ORDINAL)), exp.Ordered(this=i)])
        projections.append(exp.alias_(exp.Window(this=exp.RowNumber(), order=order), ORDINAL, quoted=True))
        sorted_ = relation.sorted
    source = keyed.subquery(compiler.alias())
    query = exp.select(*projections).from_(source).join(series(compiler, column("__n"), node), join_type="CROSS")
    return Relation(query, out, relation.ordinal, sorted_)


def _element(compiler: Compiler, node: ast.Node, value: exp.Expression, kind: exp.Expression, i: exp.Expression,
             bag_as_array: bool) -> exp.Expression:
    dialect = compiler.context.dialect
    names = dialect.json_type_names
    item = _hook(compiler, "json_array_item", node)(value, i)
    key, member = _hook(compiler, "json_object_member", node)(value, i)
    pair = _hook(compiler, "json_pair_array" if bag_as_array else "json_pair_object", node)(key, member)
    return _case([(exp.EQ(this=kind, expression=exp.Literal.string(names["array"])),
                   exp.Nullif(this=exp.cast(item, "VARCHAR"), expression=exp.Literal.string("null"))),
                  (exp.EQ(this=kind, expression=exp.Literal.string(names["object"])), pair)], value)


def _typed(compiler: Compiler, node: ast.Node, element: exp.Expression, to_type: str) -> exp.Expression:
    """``to typeof(T)``: the element when it is already of kind T (no parsing), else null ("" for a string)."""
    dialect = compiler.context.dialect
    kind = dialect.json_type(element)
    accepted = {"string": ["VARCHAR"], "long": ["BIGINT", "UBIGINT"], "bool": ["BOOLEAN"],
                "real": ["BIGINT", "UBIGINT", "DOUBLE"]}.get(to_type)
    if accepted is None or dialect.name != "duckdb":
        raise compiler.refuse(f"mv-expand to typeof({to_type})", node)
    matches = exp.In(this=kind, expressions=[exp.Literal.string(a) for a in accepted])
    if to_type == "string":
        return _case([(matches, dialect.json_string(element))], exp.Literal.string(""))
    target = sql_type(to_type, dialect.name)
    return _case([(matches, exp.cast(element, target))], exp.cast(exp.null(), target))
