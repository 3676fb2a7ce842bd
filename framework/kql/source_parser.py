"""Parsing of a tabular expression's head: ``source | operator | ...`` and the sources a
pipeline may start from (a table or expression, datatable, externaldata, print, range, union,
evaluate, search, find, macro-expand).

A mixin of ``parser.Parser``: it reads the pipe and the source, and hands each operator after a
``|`` to ``OperatorParsing.operator``.
"""

from __future__ import annotations

from dac.kql import ast
from dac.kql.keywords import Role
from dac.kql.lexer import T, Token

# The words that start a source rather than name a table (when not used as a plain name).
SOURCE_KEYWORDS = {"datatable", "print", "range", "union", "externaldata", "external_data", "evaluate", "find", "search"}


class SourceParsing:
    """The pipeline and its sources (mixed into ``Parser``)."""

    def pipe_expression(self) -> ast.Pipeline:
        return self.nested(self._pipe_expression)

    def _pipe_expression(self) -> ast.Pipeline:
        start = self.tok
        source = self.source()
        operators: list[ast.Operator] = []
        while self.tok.is_op("|"):
            self.advance()
            operators.append(self.operator())
        return self.at(ast.Pipeline(source, operators), start)

    def source(self) -> ast.Source:
        token = self.tok
        if token.is_word("macro-expand"):
            self.advance()
            return self.at(ast.MacroExpandSource(self.at(self.op_macro_expand(token), token)), token)
        if token.kind is T.IDENT and token.text in SOURCE_KEYWORDS and self.source_keyword_applies():
            word = token.text
            if word == "datatable":
                return self.datatable()
            if word == "print":
                self.advance()
                return self.at(ast.Print(self.assignments()), token)
            if word == "range" and not self.peek().is_op("("):  # range(start, stop, step) is the scalar function
                return self.range_source()
            if word == "union":
                self.advance()
                return self.union_body(token)
            if word in ("externaldata", "external_data"):
                return self.externaldata()
            if word == "evaluate":
                self.advance()
                params = self.params({"hint"})
                call = self.expression()
                if not isinstance(call, ast.Call):
                    raise self.error("expected a plugin call after 'evaluate'", token)
                return self.at(ast.ExprSource(self.at(ast.Tabular(ast.Pipeline(
                    self.at(ast.ExprSource(ast.Name("$evaluate")), token),
                    [self.at(ast.Evaluate(params, call), token)])), token)), token)
            if word == "search":
                self.advance()
                return self.at(ast.SearchSource(self.search_body()), token)
            if word == "find":
                self.advance()
                return self.at(ast.FindSource(self.find_body()), token)
        if token.kind is T.IDENT and self.peek().is_op("("):
            # inline_external_table(...), cluster(...).database(...).T: refused before the parser meets
            # syntax it does not read (only those: a call parsed here may be a plugin's argument)
            self.refuse(token, ("operator", "scalar"), {"operator": None, "scalar": "service"})
        expr = self.expression()
        return self.at(ast.ExprSource(expr), token)

    def source_keyword_applies(self) -> bool:
        """``print`` etc. are keywords at the start of a query unless used as a plain name."""
        nxt = self.peek()
        return not (nxt.is_op("|", ";", ")", ",", ".") or nxt.kind is T.EOF)

    def datatable(self) -> ast.Datatable:
        start = self.advance()
        columns = self.column_schema()
        self.expect_op("[")
        values: list[ast.Expr] = []
        while not self.tok.is_op("]"):
            values.append(self.expression())
            if not self.accept_op(","):
                break
        self.expect_op("]")
        return self.at(ast.Datatable(columns, values), start)

    def externaldata(self) -> ast.Datatable:
        """``externaldata (schema) [urls] with (...)``: schema kept, rows come from fixtures only."""
        start = self.advance()
        columns = self.column_schema()
        self.expect_op("[")
        urls = []
        while not self.tok.is_op("]"):
            urls.append(self.expression())
            if not self.accept_op(","):
                break
        self.expect_op("]")
        if self.accept_word("with"):
            self.expect_op("(")
            self.property_list()
        node = ast.Generic("externaldata", urls)
        self.at(node, start)
        return self.at(ast.Datatable(columns, [ast.Tabular(ast.Pipeline(ast.ExprSource(ast.Name("$externaldata")), [node]))]), start)

    def column_schema(self, opened: bool = False) -> list[tuple[str, str]]:
        """``(Name:type, ...)`` of datatable, externaldata and a plugin's output schema (``opened``:
        its parenthesis already read)."""
        if not opened:
            self.expect_op("(")
        columns: list[tuple[str, str]] = []
        while not self.tok.is_op(")"):
            cname = self.name("a column name", Role.DECLARED)
            self.expect_op(":")
            columns.append((cname, self.type_text()))
            if not self.accept_op(","):
                break
        self.expect_op(")")
        return columns

    def property_list(self) -> list[tuple[str, ast.Expr]]:
        """``name = value, ...`` up to and including ``)``."""
        props: list[tuple[str, ast.Expr]] = []
        while not self.tok.is_op(")"):
            key = self.name("a property name")
            self.expect_op("=")
            props.append((key, self.expression()))
            if not self.accept_op(","):
                break
        self.expect_op(")")
        return props

    def range_source(self) -> ast.Range:
        start = self.advance()
        column = self.name("a column name", Role.BOUND)
        self.expect_word("from")
        low = self.expression()
        self.expect_word("to")
        high = self.expression()
        self.expect_word("step")
        step = self.expression()
        return self.at(ast.Range(column, low, high, step), start)

    def union_body(self, start: Token) -> ast.Union:
        params = self.params({"kind", "withsource", "isfuzzy", "hint"})
        legs: list[ast.Expr] = []
        while True:
            legs.append(self.union_leg())
            if not self.accept_op(","):
                break
        return self.at(ast.Union(params, legs), start)

    def union_leg(self) -> ast.Expr:
        token = self.tok
        if token.is_op("("):
            self.advance()
            query = self.pipe_expression()
            self.expect_op(")")
            return self.at(ast.Tabular(query), token)
        if token.kind is T.IDENT and self.peek().is_op("*") and self.adjacent(token, self.peek()):
            return self.at(ast.Name(self.name_pattern()), token)
        return self.postfix(self.primary())
