"""Recursive-descent KQL parser producing ``dac.kql.ast`` trees.

``Parser`` here is the token cursor (peek, accept, expect, located errors), the nesting bound
and the statements (let and its functions, set, declare, the tabular statements); its mixins
read the rest: the pipeline and its sources (``source_parser``), the tabular operators
(``operator_parser``) and the expressions, with Kusto's operator precedence
(``expression_parser``). Nesting depth is bounded so hostile input gets a KqlSyntaxError
instead of a RecursionError.
"""

from __future__ import annotations

from typing import Any, Callable

from dac.kql import ast, pattern_parser
from dac.kql.builtins import refusal
from dac.kql.errors import KqlRefusedSyntax, KqlSyntaxError
from dac.kql.keywords import Role
from dac.kql.keywords import refusal as keyword_refusal
from dac.kql.lexer import T, Token, tokenize
from dac.kql.expression_parser import ExpressionParsing
from dac.kql.operator_parser import OperatorParsing
from dac.kql.source_parser import SOURCE_KEYWORDS, SourceParsing

MAX_DEPTH = 100


class Parser(SourceParsing, OperatorParsing, ExpressionParsing):
    """Reads one query's tokens: the cursor and its helpers and the statements are here, the
    pipeline and its sources, the operators and the expressions in the mixins."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.index = 0
        self.depth = 0
        self.let_materialize: Token | None = None  # the one materialize token a let value may start with

    # ------------------------------------------------------------ helpers

    @property
    def tok(self) -> Token:
        return self.tokens[self.index]

    def peek(self, ahead: int = 1) -> Token:
        return self.tokens[min(self.index + ahead, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        if token.kind is not T.EOF:
            self.index += 1
        return token

    def error(self, message: str, token: Token | None = None) -> KqlSyntaxError:
        token = token or self.tok
        return KqlSyntaxError(message, token.line, token.column, self.text)

    def refuse(self, token: Token, kinds: tuple[str, ...] = ("operator",),
               only: dict[str, str | None] | None = None) -> None:
        """Stop at a Kusto built-in dac does not implement, saying why (refusals.yaml), not "unknown";
        ``only`` limits a kind to one category (None: any)."""
        found = refusal(token.text, kinds)
        if found is not None and (only is None or only[found.kind] in (None, found.category)):
            raise KqlRefusedSyntax(found.message(), token.line, token.column, self.text)

    def expected(self, what: str) -> KqlSyntaxError:
        return self.error(f"expected {what}, found {self.tok.describe()}")

    def expect_op(self, op: str) -> Token:
        if not self.tok.is_op(op):
            raise self.expected(f"'{op}'")
        return self.advance()

    def accept_op(self, op: str) -> bool:
        if self.tok.is_op(op):
            self.advance()
            return True
        return False

    def accept_word(self, *words: str) -> str | None:
        if self.tok.kind is T.IDENT and self.tok.text in words:
            return self.advance().text
        return None

    def expect_word(self, *words: str) -> str:
        word = self.accept_word(*words)
        if word is None:
            raise self.expected(" or ".join(f"'{w}'" for w in words))
        return word

    def adjacent(self, first: Token, second: Token) -> bool:
        return first.end == second.offset

    def at(self, node: ast.Node, token: Token) -> Any:
        node.line, node.column = token.line, token.column
        return node

    def nested(self, fn: Callable[[], Any]) -> Any:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(f"query is nested too deeply (more than {MAX_DEPTH} levels)")
        try:
            return fn()
        finally:
            self.depth -= 1

    def name(self, what: str = "a name", role: Role | None = None) -> str:
        """An identifier or a bracketed name: ``Col``, ``['Col Name']``, ``["x"]``.

        With ``role``, a bare keyword the official parser refuses in that role is a syntax error.
        """
        token = self.tok
        if token.kind is T.IDENT:
            if role is not None:
                self.refuse_keyword(token, role)
            self.advance()
            return token.text
        if token.is_op("[") and self.peek().kind is T.STRING and self.peek(2).is_op("]"):
            self.advance()
            value = self.advance().value
            self.advance()
            return str(value)
        raise self.expected(what)

    def refuse_keyword(self, token: Token, role: Role) -> None:
        """Raise when ``token`` is a keyword Kusto accepts only bracketed in ``role`` (see dac.kql.keywords)."""
        message = keyword_refusal(token.text, role)
        if message is not None:
            raise self.error(message, token)

    def at_name(self) -> bool:
        token = self.tok
        return token.kind is T.IDENT or (
            token.is_op("[") and self.peek().kind is T.STRING and self.peek(2).is_op("]")
        )

    # ------------------------------------------------------------ statements

    def parse_query(self) -> ast.QueryBody:
        body = self.statements(end_ops=())
        if self.tok.kind is not T.EOF:
            raise self.expected("';' or '|'")
        return body

    def statements(self, end_ops: tuple[str, ...]) -> ast.QueryBody:
        start = self.tok
        statements: list[ast.Let | ast.PatternDeclaration | ast.Pipeline] = []
        while True:
            while self.accept_op(";"):
                pass
            if self.tok.kind is T.EOF or any(self.tok.is_op(op) for op in end_ops):
                break
            if self.tok.is_word("let"):
                statements.append(self.let())
            elif self.tok.is_word("set") and self.peek().kind is T.IDENT:
                self.set_option()
                continue
            elif self.tok.is_word("declare") and self.peek().is_word("pattern"):
                if end_ops:  # the official parser reads declare pattern among a query's statements only
                    raise self.error("a pattern is declared among the query's statements, not inside a function body")
                statements.append(pattern_parser.declaration(self))
            elif self.tok.is_word("declare"):
                self.skip_statement()
                continue
            else:
                statements.append(self.pipe_expression())
            if not self.accept_op(";"):
                break
        return self.at(ast.QueryBody(statements), start)

    def set_option(self) -> None:
        """``set name [= value];`` request options do not change results; accepted and dropped."""
        self.advance()
        self.advance()
        while self.tok.is_op("."):
            self.advance()
            self.name()
        if self.accept_op("="):
            self.primary()

    def skip_statement(self) -> None:
        """``declare query_parameters(...)``: declares parameters only, no value."""
        self.advance()
        depth = 0
        while self.tok.kind is not T.EOF and not (depth == 0 and self.tok.is_op(";")):
            if self.tok.is_op("("):
                depth += 1
            elif self.tok.is_op(")"):
                depth -= 1
            self.advance()

    def let(self) -> ast.Let:
        start = self.advance()
        name = self.name("a name after 'let'", Role.BOUND)
        self.expect_op("=")
        if self.tok.is_word("view") and self.peek().is_op("("):
            self.advance()
        if self.tok.is_op("(") and self.looks_like_lambda():
            value: ast.Expr | ast.Pipeline = self.lambda_()
        elif self.tok.is_word("materialize") and self.peek().is_op("("):
            # materialize() is the whole value of a let (the official parser refuses it anywhere
            # else, and refuses `let m = materialize(T) | count`): https://learn.microsoft.com/kusto/query/materialize-function
            self.let_materialize = self.tok
            value = self.identifier_expression()
            if not (self.tok.is_op(";", "}") or self.tok.kind is T.EOF):
                raise self.error("materialize(...) must be the whole value of the let: "
                                 "let m = materialize(...); m | ...")
        else:
            value = self.pipe_expression()
            if not value.operators and isinstance(value.source, ast.ExprSource):
                value = value.source.expr
        return self.at(ast.Let(name, value), start)

    def looks_like_lambda(self) -> bool:
        """``(`` starts a function if its matching ``)`` is followed by ``{``."""
        depth = 0
        i = self.index
        while i < len(self.tokens):
            token = self.tokens[i]
            if token.is_op("(", "["):
                depth += 1
            elif token.is_op(")", "]"):
                depth -= 1
                if depth == 0:
                    return self.tokens[i + 1].is_op("{")
            elif token.kind is T.EOF:
                return False
            i += 1
        return False

    def lambda_(self) -> ast.Lambda:
        start = self.expect_op("(")
        params: list[tuple[str, str, ast.Expr | None]] = []
        while not self.tok.is_op(")"):
            pname = self.name("a parameter name", Role.DECLARED)
            self.expect_op(":")
            ptype = self.type_text()
            default = None
            if self.accept_op("="):
                default = self.expression()
            params.append((pname, ptype, default))
            if not self.accept_op(","):
                break
        self.expect_op(")")
        self.expect_op("{")
        body = self.nested(lambda: self.statements(end_ops=("}",)))
        self.expect_op("}")
        return self.at(ast.Lambda(params, body), start)

    def type_text(self) -> str:
        """A parameter or column type: ``string``, ``(*)``, ``(a:string, b:long)``."""
        if self.tok.is_op("("):
            start = self.tok
            depth = 0
            while True:
                token = self.advance()
                if token.kind is T.EOF:
                    raise self.error("unterminated tabular type", start)
                if token.is_op("("):
                    depth += 1
                elif token.is_op(")"):
                    depth -= 1
                    if depth == 0:
                        return self.text[start.offset:token.end]
        token = self.tok
        name = token.text if token.kind is T.IDENT else token.value[0] if token.kind is T.TYPED else None
        if name == "uuid":  # a literal keyword (uuid(...)), but no type name to the official parser
            raise self.error("the name 'uuid' is not a valid type name here; use guid", token)
        if name is not None:
            self.advance()
            return name
        raise self.expected("a type name")


# The operators the parser reads: each op_<name> method (``-`` spelt ``_``) and the source keywords.
OPERATOR_KEYWORDS = frozenset(name[3:].replace("_", "-") for name in dir(Parser) if name.startswith("op_")) \
    | frozenset(SOURCE_KEYWORDS)


def parse(text: str) -> ast.QueryBody:
    """Parse a KQL query (statements separated by ``;``) into a syntax tree.

    Raises KqlSyntaxError with the 1-based line and column of the first problem.
    """
    if not isinstance(text, str):
        raise TypeError("query text must be a string")
    return Parser(text).parse_query()
