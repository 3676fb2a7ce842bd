"""``==`` and ``!=`` between a value and a constant of another kind, as the row engine converts them.

Kusto converts across kinds here (``ResultType == 0`` on a string column, ``EventID == "4624"`` on
an int one, ``TargetResources[0].type == "User"`` on a dynamic one); the row engine does it in
``dac.kql.operators.coerce_pair``: a number against a string compares the string's ``toreal()``,
a bool against a string the string's ``tobool()``, and one side missing (null, or text that is no
number) makes ``==`` false and ``!=`` true. The constant is converted here, at compile time; the
column's side, where SQL's own conversion is not the row engine's, is matched only on text whose
meaning is certain, and any other text fails at run time with a located error.
"""

from __future__ import annotations

import math
from typing import Any

from sqlglot import exp

from dac.engines.sql_values import literal
from dac.engines.sql_scalars import INTEGERS, NUMBERS, ScalarCompiler, Sql, _case, _func, runtime_error
from dac.kql import ast
from dac.kql import values as V

# Integer text whose value a BIGINT holds and a double holds exactly: the only number text a string column
# is compared on (toreal() also reads reals, exponents and spaces, which a SQL cast reads otherwise).
_EXACT_INTEGER_TEXT = r"^-?[0-9]{1,15}\z"  # \z: Java's $ also matches before a final newline


def against_constant(compiler: ScalarCompiler, expr: ast.Binary) -> exp.Expression | None:
    """The SQL of ``expr`` when it compares a value with a constant of another kind this module handles."""
    if expr.op not in ("==", "!=") or isinstance(expr.left, ast.Star):
        return None
    for value_expr, other in ((expr.left, expr.right), (expr.right, expr.left)):
        typed_value, typed_other = compiler.typer.compile(value_expr), compiler.typer.compile(other)
        if typed_value.const or not typed_other.const:
            continue
        pair = (typed_value.type, typed_other.type)
        if pair[0] in NUMBERS and pair[1] == "string" or pair[0] == "string" and pair[1] in NUMBERS or \
                pair == ("dynamic", "string"):
            constant = compiler.constant(other)
            if constant is None:
                return None
            value = compiler.compile(value_expr)
            equal = _equal(compiler, value, constant, expr)
            return exp.Paren(this=equal if expr.op == "==" else exp.Not(this=equal))
    return None


def _equal(compiler: ScalarCompiler, value: Sql, constant: Any, expr: ast.Binary) -> exp.Expression:
    """A SQL bool that is never null: the row engine's kql_equal(value, constant), the constant not null."""
    if value.type in NUMBERS:  # the string constant is read as a real
        number = V.to_real(constant)
        if number is None or math.isnan(number):
            return exp.false()  # no number (nor null: one null side) equals a missing one or NaN
        if value.type in INTEGERS:
            if not math.isfinite(number) or number != int(number):
                return exp.false()
            target = literal(int(number), "long", compiler.dialect)  # Python compares an int with a float exactly
        else:
            target = literal(number, "real", compiler.dialect)
        return exp.Coalesce(this=exp.EQ(this=value.node, expression=target), expressions=[exp.false()])
    if value.type == "string":  # the string column is read as a real, the constant is a number
        if not math.isfinite(constant):
            raise compiler.refuse(f"comparing a string with the number {constant!r}", expr)
        kind = "BIGINT" if isinstance(constant, int) else "DOUBLE"
        number_sql = exp.Literal.number(constant) if isinstance(constant, int) else exp.Literal.string(repr(constant))
        exact = exp.RegexpLike(this=value.node, expression=exp.Literal.string(_EXACT_INTEGER_TEXT))
        no_digit = exp.Not(this=exp.RegexpLike(this=value.node, expression=exp.Literal.string("[0-9]")))
        fail = _func("error", exp.Literal.string(runtime_error(compiler, f"'{expr.op}' of a string and a number", expr)))
        return _case([(exact, exp.EQ(this=exp.cast(value.node, kind), expression=exp.cast(number_sql, kind))),
                      (no_digit, exp.false())], fail)  # toreal() of text without a digit is null, NaN or infinite
    return _dynamic_equal(compiler, value, str(constant), expr)


def _dynamic_equal(compiler: ScalarCompiler, value: Sql, constant: str, expr: ast.Binary) -> exp.Expression:
    """A dynamic value against a string: a string compares as text, a bool with the constant's tobool(),
    an array or a bag is never equal; a number would compare with the constant's toreal(), refused unless
    the constant is no number (then never equal)."""
    if V.to_real(constant) is not None:
        raise compiler.refuse(f"comparing a dynamic value with the number text {constant!r}", expr,
                              "a JSON number would be compared as a real")
    dialect = compiler.context.dialect
    truth = V.to_bool(constant)
    node = value.node
    is_string = exp.EQ(this=dialect.json_type(node), expression=exp.Literal.string(dialect.json_type_names["string"]))
    pairs = [(exp.Is(this=node, expression=exp.null()), exp.false()),
             (is_string, exp.EQ(this=dialect.json_string(node), expression=exp.Literal.string(constant)))]
    if truth is not None:  # a bool's JSON text is true or false
        pairs.append((exp.EQ(this=node, expression=exp.Literal.string("true" if truth else "false")), exp.true()))
    return _case(pairs, exp.false())
