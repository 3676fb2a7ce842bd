"""Arithmetic on the physical form: longs, reals, datetimes (timestamps) and timespans (microseconds).

Kusto's rules, as ``dac.kql.operators`` applies them: int op int is long; long
division truncates toward zero and is null by zero; modulo is never negative and
null by zero; a real divided by zero is an infinity or NaN; a long result
outside 64 bits fails the query (so does DuckDB's BIGINT arithmetic). A timespan
scaled by a fraction rounds in the row engine's timedelta arithmetic, which SQL
does not: refused.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from dac.kql import ast

if TYPE_CHECKING:
    from dac.engines.sql_scalars import ScalarCompiler

INTEGERS = frozenset({"int", "long"})
NUMBERS = frozenset({"int", "long", "real"})


# Wide enough for any product of two BIGINTs, in both dialects.
WIDE = "DECIMAL(38, 0)"
# A timespan is a signed 64-bit count of 100ns ticks: in microseconds, up to LONG_MAX // 10.
SPAN_LIMIT = 922_337_203_685_477_580
FIRST_MICROS = -62_135_596_800_000_000  # 0001-01-01 from 1970-01-01
LAST_MICROS = 253_402_300_799_999_999  # 9999-12-31 23:59:59.999999


def _span(micros: exp.Expression) -> exp.Expression:
    """A timespan result: null outside the tick range, as the row engine's within_range."""
    inside = exp.Between(this=micros, low=exp.Literal.number(-SPAN_LIMIT), high=exp.Literal.number(SPAN_LIMIT))
    return exp.If(this=inside, true=exp.cast(micros, "BIGINT"), false=exp.cast(exp.null(), "BIGINT"))


def _paren(node: exp.Expression) -> exp.Expression:
    return exp.Paren(this=node)


def _binary(op: str, a: exp.Expression, b: exp.Expression) -> exp.Expression:
    kinds = {"+": exp.Add, "-": exp.Sub, "*": exp.Mul}
    return _paren(kinds[op](this=a, expression=b))


def arithmetic(compiler: "ScalarCompiler", expr: ast.Binary, kind: str) -> exp.Expression:
    left, right = compiler.compile(expr.left), compiler.compile(expr.right)
    op = expr.op
    pair = (left.type, right.type)
    dialect = compiler.context.dialect
    if left.type in NUMBERS and right.type in NUMBERS:
        target = "BIGINT" if kind == "long" else "DOUBLE"
        a, b = exp.cast(left.node, target), exp.cast(right.node, target)
        if op in ("+", "-", "*"):
            return _binary(op, a, b)
        divisor = exp.Nullif(this=b, expression=exp.Literal.number(0))  # by zero: null, not an error
        if kind == "long" and op == "/":
            return _paren(exp.IntDiv(this=a, expression=divisor))  # truncates toward zero, as Kusto
        if kind == "long" and op == "%":
            magnitude = exp.Abs(this=divisor)
            remainder = exp.Mod(this=_paren(exp.Add(this=_paren(exp.Mod(this=a, expression=magnitude)),
                                                      expression=magnitude)), expression=magnitude)
            return _paren(remainder)
        if op == "/":
            return _paren(exp.Div(this=a, expression=b, typed=False, safe=False))  # IEEE: x/0 is +-inf or NaN
        raise compiler.refuse(f"'{op}' of reals", expr)
    if pair in (("datetime", "timespan"), ("timespan", "datetime")) and op in ("+", "-") and kind == "datetime":
        stamp, span = (left, right) if left.type == "datetime" else (right, left)
        if op == "-" and left.type != "datetime":
            raise compiler.refuse("a timespan minus a datetime", expr)
        micros = _binary(op, exp.cast(dialect.epoch_micros(stamp.node), WIDE), exp.cast(span.node, WIDE))
        inside = exp.Between(this=micros, low=exp.Literal.number(FIRST_MICROS), high=exp.Literal.number(LAST_MICROS))
        # past 9999-12-31 or before 0001-01-01: null, as the row engine's datetime arithmetic
        return exp.If(this=inside, true=dialect.from_epoch_micros(exp.cast(micros, "BIGINT")),
                      false=exp.cast(exp.null(), "TIMESTAMP"))
    if pair == ("datetime", "datetime") and op == "-":
        return _binary("-", dialect.epoch_micros(left.node), dialect.epoch_micros(right.node))
    if pair == ("timespan", "timespan") and op in ("+", "-"):
        return _span(_binary(op, exp.cast(left.node, WIDE), exp.cast(right.node, WIDE)))
    if pair == ("timespan", "timespan") and op == "/":
        divisor = exp.Nullif(this=exp.cast(right.node, "DOUBLE"), expression=exp.Literal.number(0))
        return _paren(exp.Div(this=exp.cast(left.node, "DOUBLE"), expression=divisor))
    if op == "*" and set(pair) <= {"timespan"} | INTEGERS and "timespan" in pair and kind == "timespan":
        return _span(_binary("*", exp.cast(left.node, WIDE), exp.cast(right.node, WIDE)))
    raise compiler.refuse(f"'{op}' of {left.type} and {right.type}", expr)
