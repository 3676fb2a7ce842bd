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
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Any

from sqlglot import exp

from dac.engines.compiler import ORDINAL, Compiler, Relation
from dac.engines.sql_scalars import ScalarCompiler, column
from dac.engines.sql_values import literal, micros
from dac.kql import ast

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
