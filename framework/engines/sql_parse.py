"""``parse`` and ``parse-where`` as one RE2 pattern, the very pattern the row engine builds.

The row engine turns the parse pattern into an RE2 regex (``Evaluator.op_Parse``)
and DuckDB's regexp functions are RE2 too, so the same text gives the same match
and the same groups. Each new column is one group's text, converted as the row
engine converts it: strings as they are, long/int/real from the digits their typed
group admits (where a SQL cast reads them as ``values.convert`` does). A row whose
text does not match, or whose number does not convert, gets the defaults ("" and
null), or is dropped by parse-where. ``kind=relaxed`` with typed columns and other
column types are refused: there the group holds any text, and the SQL casts parse
text differently from ``values.convert``.
"""

from __future__ import annotations

import re2
from sqlglot import exp

from dac.engines.compiler import Compiler, Relation
from dac.engines.sql_functions import _text
from dac.engines.sql_operators import keep_order, operator
from dac.engines.sql_scalars import ScalarCompiler, _case, column
from dac.engines.sql_values import typed_null
from dac.kql import ast
from dac.kql.parse_pattern import parse_pattern

# The column types whose typed group admits only text the SQL cast reads as values.convert does.
CASTS = {"long": "BIGINT", "int": "INTEGER", "real": "DOUBLE"}


def _pattern(compiler: Compiler, node: ast.Parse, kind: str) -> tuple[str, list[tuple[str, str]]]:
    """The row engine's regex for ``node`` (dac.kql.parse_pattern) and the new columns, refusing the
    column types whose SQL cast reads the matched text differently."""
    text, columns = parse_pattern(node)
    for _, kind_name in columns:
        if kind_name != "string" and (kind_name not in CASTS or kind == "relaxed"):
            raise compiler.refuse(f"parse into a {kind_name} column" + (" with kind=relaxed" if kind == "relaxed" else ""),
                                  node, "the SQL cast reads that text differently")
    return text, columns


@operator(ast.Parse)
def parse(compiler: Compiler, relation: Relation, node: ast.Parse) -> Relation:
    kind = str(node.params.get("kind", "simple")).lower()
    if kind not in ("simple", "regex", "relaxed") or set(node.params) - {"kind", "flags"}:
        raise compiler.refuse("parse with these parameters", node)
    compiler.context.require_re2("parse", node)
    out = compiler.schema_after(relation, node)
    text, new = _pattern(compiler, node, kind)
    try:
        groups = re2.compile(text).groupindex
    except re2.error:
        raise compiler.refuse("parse with this pattern", node) from None
    scalar = ScalarCompiler(compiler.context, relation.columns)
    source = _text(scalar, scalar.compile(node.source), node)
    pattern = exp.Literal.string(text)
    extracted: dict[str, exp.Expression] = {}
    converts: list[exp.Expression] = []
    for position, (name, kind_name) in enumerate(new):
        value: exp.Expression = exp.RegexpExtract(this=source, expression=pattern,
                                                  group=exp.Literal.number(groups[f"_c{position}"]))
        if kind_name != "string":
            value = exp.TryCast(this=value, to=exp.DataType.build(CASTS[kind_name]))
            converts.append(exp.Not(this=exp.Is(this=value, expression=exp.null())))
        extracted[name] = value
    matched: exp.Expression = exp.RegexpLike(this=source, expression=pattern)
    if converts:
        matched = exp.and_(matched, *converts)
    dialect = compiler.context.dialect.name
    projections: list[exp.Expression] = []
    for name, kind_name in out:
        if name in extracted:
            default = exp.Literal.string("") if kind_name == "string" else typed_null(kind_name, dialect)
            projections.append(exp.alias_(_case([(matched, extracted[name])], default), name, quoted=True))
        else:
            projections.append(column(name))
    query = compiler.select(relation, projections)
    if node.kind_where:
        query = query.where(matched)
    return keep_order(relation, query, out)
