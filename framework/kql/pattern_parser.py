"""Parsing of the ``declare pattern`` statement into ``ast.PatternDeclaration`` (called from ``parser.Parser``).

The grammar is the Syntax section of https://learn.microsoft.com/kusto/query/pattern-statement,
held to what the official parser (Kusto.Language) accepts: at least one parameter, an optional
``[path:type]``, at least one definition, each ``(value, ...)`` with an optional ``.[value]``,
then ``= { body };`` with exactly one ``;``. A body is a function body: ``let`` statements each
ending in ``;``, then at most one tabular expression, which one ``;`` may follow. Values are
expressions to the parser (``(USA)`` parses; binding requires string literals). An invocation,
``Name("v").path`` or ``Name("v").["path"]``, needs no syntax of its own: it is a call and a
member access, resolved by ``dac.kql.patterns``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dac.kql import ast
from dac.kql.keywords import Role

if TYPE_CHECKING:
    from dac.kql.parser import Parser


def declaration(p: "Parser") -> ast.PatternDeclaration:
    """``declare pattern Name [= (params) [[path:type]] { definitions }]``; the current token is ``declare``."""
    start = p.advance()
    p.advance()  # pattern
    name = p.name("a pattern name", Role.BOUND)
    if not p.accept_op("="):
        return p.at(ast.PatternDeclaration(name, [], None, None), start)
    p.expect_op("(")
    params = [_parameter(p)]
    while p.accept_op(","):
        params.append(_parameter(p))
    p.expect_op(")")
    path = None
    if p.accept_op("["):
        path = _parameter(p)
        p.expect_op("]")
    p.expect_op("{")
    definitions = [_definition(p)]
    while not p.tok.is_op("}"):
        definitions.append(_definition(p))
    p.expect_op("}")
    return p.at(ast.PatternDeclaration(name, params, path, definitions), start)


def _parameter(p: "Parser") -> tuple[str, str]:
    pname = p.name("a parameter name", Role.DECLARED)
    p.expect_op(":")
    return pname, p.type_text()


def _definition(p: "Parser") -> ast.PatternDefinition:
    """``(value, ...) [.[value]] = { body };``"""
    start = p.expect_op("(")
    values = [p.expression()]
    while p.accept_op(","):
        values.append(p.expression())
    p.expect_op(")")
    path = None
    if p.accept_op("."):
        p.expect_op("[")
        path = p.expression()
        p.expect_op("]")
    p.expect_op("=")
    body = p.nested(lambda: _body(p))
    p.expect_op(";")
    return p.at(ast.PatternDefinition(values, path, body), start)


def _body(p: "Parser") -> ast.QueryBody:
    start = p.expect_op("{")
    statements: list[ast.Let | ast.PatternDeclaration | ast.Pipeline] = []
    while p.tok.is_word("let"):
        statements.append(p.let())
        p.expect_op(";")
    if not p.tok.is_op("}"):
        statements.append(p.pipe_expression())
        p.accept_op(";")
    p.expect_op("}")
    return p.at(ast.QueryBody(statements), start)
