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
        micros = _binary(op, dialect.epoch_micros(stamp.node), span.node)
        return dialect.from_epoch_micros(micros)
    if pair == ("datetime", "datetime") and op == "-":
        return _binary("-", dialect.epoch_micros(left.node), dialect.epoch_micros(right.node))
    if pair == ("timespan", "timespan") and op in ("+", "-"):
        return _binary(op, left.node, right.node)
    if pair == ("timespan", "timespan") and op == "/":
        divisor = exp.Nullif(this=exp.cast(right.node, "DOUBLE"), expression=exp.Literal.number(0))
        return _paren(exp.Div(this=exp.cast(left.node, "DOUBLE"), expression=divisor))
    if op == "*" and set(pair) <= {"timespan"} | INTEGERS and "timespan" in pair and kind == "timespan":
        return _binary("*", exp.cast(left.node, "BIGINT"), exp.cast(right.node, "BIGINT"))
    raise compiler.refuse(f"'{op}' of {left.type} and {right.type}", expr)
