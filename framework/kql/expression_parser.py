"""Parsing of scalar expressions and of the assignments that hold them (``Name = expr``,
``(a, b) = f(...)``), literals included: typed literals (``datetime(...)``, ``int(-3)``,
``dynamic([...])``), names, calls and their arguments.

A mixin of ``parser.Parser``. Operator precedence follows Kusto (lowest first): ``or``;
``and``; comparison and string operators (``==``, ``has``, ``in``, ``between``, ...);
``+ -``; ``* / %``; unary ``- +``; postfix member access, indexing and calls. A parenthesized
query inside an expression is read by ``SourceParsing.pipe_expression``.
"""

from __future__ import annotations

from dac.kql import ast
from dac.kql.keywords import Role
from dac.kql.lexer import T, Token
from dac.kql.literals import UninterpretableLiteral, dynamic_from_text, loses_ticks, typed_literal

STRING_OPERATORS = {
    "has", "has_cs", "hasprefix", "hasprefix_cs", "hassuffix", "hassuffix_cs",
    "contains", "contains_cs", "startswith", "startswith_cs", "endswith", "endswith_cs",
    "like", "notlike",
}
COMPARISON_OPERATORS = {"==", "!=", "<>", "<", ">", "<=", ">=", "=~", "!~"}
LIST_OPERATORS = {"in", "in~", "!in", "!in~", "has_any", "has_all", "has_any_cs", "has_all_cs"}
SCALAR_TYPES = {
    "bool", "boolean", "int", "long", "real", "double", "decimal", "string", "datetime", "date",
    "timespan", "time", "guid", "uuid", "uniqueid", "dynamic",
}
# The spellings of Kusto's BOOLEANLITERAL token (grammar/KqlTokens.g4 of microsoft/Kusto-Query-Language).
_BOOL_WORDS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}


class ExpressionParsing:
    """Assignments, expressions and literals (mixed into ``Parser``)."""

    # ------------------------------------------------------------ assignments

    def assignments(self) -> list[ast.Assignment]:
        items = [self.assignment()]
        while self.accept_op(","):
            items.append(self.assignment())
        return items

    def assignment(self) -> ast.Assignment:
        start = self.tok
        if start.is_op("(") and self.tuple_assignment_ahead():
            self.advance()
            names = [self.name(role=Role.DECLARED)]
            while self.accept_op(","):
                names.append(self.name(role=Role.DECLARED))
            self.expect_op(")")
            self.expect_op("=")
            return self.at(ast.Assignment(names, self.expression()), start)
        if self.at_name():
            width = 3 if start.is_op("[") else 1
            if self.peek(width).is_op("="):
                name = self.name(role=Role.DECLARED)
                self.advance()
                return self.at(ast.Assignment([name], self.expression()), start)
        return self.at(ast.Assignment([], self.expression()), start)

    def tuple_assignment_ahead(self) -> bool:
        i = self.index + 1
        while self.tokens[i].kind is T.IDENT or self.tokens[i].is_op(","):
            i += 1
        return self.tokens[i].is_op(")") and self.tokens[i + 1].is_op("=")

    # ------------------------------------------------------------ expressions

    def expression(self) -> ast.Expr:
        return self.nested(self.or_expr)

    def or_expr(self) -> ast.Expr:
        left = self.and_expr()
        while self.tok.is_word("or"):
            token = self.advance()
            left = self.at(ast.Binary("or", left, self.and_expr()), token)
        return left

    def and_expr(self) -> ast.Expr:
        left = self.comparison()
        while self.tok.is_word("and"):
            token = self.advance()
            left = self.at(ast.Binary("and", left, self.comparison()), token)
        return left

    def comparison_operator(self) -> str | None:
        """The comparison or string operator at the cursor, consumed, or None."""
        token = self.tok
        if token.kind is T.OP and token.text in COMPARISON_OPERATORS:
            self.advance()
            return "!=" if token.text == "<>" else token.text
        negated = False
        if token.is_op("!") and self.peek().kind is T.IDENT and self.adjacent(token, self.peek()):
            negated = True
            word_token = self.peek()
        elif token.kind is T.IDENT:
            word_token = token
        else:
            return None
        word = word_token.text
        known = word in STRING_OPERATORS or word in ("in", "between", "has_any", "has_all", "matches")
        if not known:
            return None
        if negated:
            self.advance()
        self.advance()
        if word == "in" and self.tok.is_op("~") and self.adjacent(word_token, self.tok):
            self.advance()
            word = "in~"
        if word == "matches":
            self.expect_word("regex")
            word = "matches regex"
        return ("!" if negated else "") + word

    def comparison(self) -> ast.Expr:
        left = self.additive()
        while True:
            token = self.tok
            op = self.comparison_operator()
            if op is None:
                return left
            if op in LIST_OPERATORS:
                left = self.at(ast.InList(op, left, self.list_operand()), token)
            elif op in ("between", "!between"):
                self.expect_op("(")
                low = self.expression()
                self.expect_op("..")
                high = self.expression()
                self.expect_op(")")
                left = self.at(ast.Between(op == "!between", left, low, high), token)
            else:
                left = self.at(ast.Binary(op, left, self.additive()), token)

    def list_operand(self) -> list[ast.Expr]:
        """Right side of ``in``/``has_any``: ``(a, b, ...)``, ``(T | project x)`` or a name."""
        if not self.tok.is_op("("):
            return [self.additive()]
        self.advance()
        items: list[ast.Expr] = []
        while not self.tok.is_op(")"):
            start = self.tok
            pipe = self.pipe_expression()
            if pipe.operators or not isinstance(pipe.source, ast.ExprSource):
                items.append(self.at(ast.Tabular(pipe), start))
            else:
                items.append(pipe.source.expr)
            if not self.accept_op(","):
                break
        self.expect_op(")")
        return items

    def additive(self) -> ast.Expr:
        left = self.multiplicative()
        while self.tok.is_op("+", "-"):
            token = self.advance()
            left = self.at(ast.Binary(token.text, left, self.multiplicative()), token)
        return left

    def multiplicative(self) -> ast.Expr:
        left = self.unary()
        while self.tok.is_op("*", "/", "%"):
            token = self.advance()
            left = self.at(ast.Binary(token.text, left, self.unary()), token)
        return left

    def unary(self) -> ast.Expr:
        if self.tok.is_op("-", "+"):
            token = self.advance()
            operand = self.nested(self.unary)
            if (isinstance(operand, ast.Literal) and operand.type in ("int", "long", "real", "timespan") and token.text == "-"
                    and operand.error is None):  # an erroneous literal keeps its error for when it is used
                return self.at(ast.Literal(-operand.value, operand.type), token)
            return self.at(ast.Unary(token.text, operand), token)
        return self.postfix(self.primary())

    def postfix(self, expr: ast.Expr) -> ast.Expr:
        while True:
            token = self.tok
            if token.is_op("."):
                self.advance()
                if self.tok.is_op("[") and not (self.peek().kind is T.STRING and self.peek(2).is_op("]")):
                    # ``a.[0]``: an index written after a dot
                    self.advance()
                    index = self.expression()
                    self.expect_op("]")
                    expr = self.at(ast.Index(expr, index), token)
                    continue
                if self.tok.is_op("["):
                    name = self.name()
                else:
                    name_token = self.tok
                    if name_token.kind not in (T.IDENT, T.INT, T.TYPED):
                        raise self.expected("a property name after '.'")
                    if name_token.kind is T.IDENT:
                        self.refuse_keyword(name_token, Role.REFERENCE)
                    self.advance()
                    name = name_token.text
                expr = self.at(ast.Member(expr, name), token)
            elif token.is_op("["):
                self.advance()
                index = self.expression()
                self.expect_op("]")
                expr = self.at(ast.Index(expr, index), token)
            else:
                return expr

    def primary(self) -> ast.Expr:
        token = self.tok
        kind = token.kind
        if kind is T.STRING:
            self.advance()
            return self.at(ast.Literal(token.value, "string"), token)
        if kind is T.INT:
            self.advance()
            return self.at(ast.Literal(token.value, "long"), token)
        if kind is T.REAL:
            self.advance()
            return self.at(ast.Literal(token.value, "real"), token)
        if kind is T.TIMESPAN:
            self.advance()
            if loses_ticks("timespan", token.value):
                return self.at(_tick_literal("timespan", token.text), token)
            return self.at(ast.Literal(typed_literal("timespan", token.value), "timespan"), token)
        if kind is T.TYPED:
            word, body = token.value
            if word == "uniqueid":  # a type name, but no literal keyword to the official parser
                raise self.error("'uniqueid' is a type name, not a literal; write guid(...)", token)
            self.advance()
            type_name = _TYPED_NAMES[word]
            if len(body) >= 2 and body[0] == body[-1] and body[0] in "'\"":
                body = body[1:-1]
            try:
                value = typed_literal(word, body)
            except ValueError as exc:
                # Syntactically a literal (Kusto's parser accepts it); its value is refused when used.
                return self.at(ast.Literal(None, type_name, error=str(exc), raw=token.text), token)
            if value is not None and loses_ticks(word, body):
                return self.at(_tick_literal(type_name, token.text), token)
            return self.at(ast.Literal(value, type_name), token)
        if token.is_op("("):
            self.advance()
            pipe = self.pipe_expression()
            self.expect_op(")")
            if pipe.operators or not isinstance(pipe.source, ast.ExprSource):
                return self.at(ast.Tabular(pipe), token)
            return pipe.source.expr
        if token.is_op("["):
            return self.at(ast.Name(self.name()), token)
        if token.is_op("$") and self.peek().kind is T.IDENT and self.adjacent(token, self.peek()):
            self.advance()
            word = self.advance().text
            return self.at(ast.Name("$" + word), token)
        if token.is_op("*"):
            self.advance()
            return self.at(ast.Star(), token)
        if kind is T.IDENT:
            return self.identifier_expression()
        raise self.expected("an expression")

    def identifier_expression(self) -> ast.Expr:
        token = self.advance()
        word = token.text
        if word in _BOOL_WORDS:
            return self.at(ast.Literal(_BOOL_WORDS[word], "bool"), token)
        if word == "null":
            return self.at(ast.Literal(None, "dynamic"), token)
        if not self.tok.is_op("("):
            self.refuse_keyword(token, Role.REFERENCE)
            return self.at(ast.Name(word), token)
        if word == "dynamic":
            return self.at(self.dynamic_literal(token), token)
        if word in _NOT_LITERALS:  # type names Kusto has no literal form for: string("a") is no string
            raise self.error(f"'{word}' is a type name, not a function or literal here "
                             f"({_NOT_LITERALS[word]})", token)
        if word in SCALAR_TYPES and word not in ("datetime", "date", "timespan", "time", "guid"):
            literal = self.scalar_type_literal(word)
            if literal is not None:
                return self.at(literal, token)
        if word == "typeof":
            self.advance()
            name = self.type_text()
            self.expect_op(")")
            return self.at(ast.TypeName(name), token)
        if word == "materialize" and token is not self.let_materialize:
            raise self.error("materialize() is only valid as the value of a let statement: "
                             "let m = materialize(...); m | ...", token)
        self.refuse_keyword(token, Role.CALLED)
        self.advance()
        args: list[ast.Expr] = []
        while not self.tok.is_op(")"):
            start = self.tok
            if self.tok.kind is T.IDENT and self.peek().is_op("=") and word not in _NO_NAMED_ARGS:
                # named argument (plugins, functions with defaults): keep as an assignment-like call
                self.refuse_keyword(self.tok, Role.DECLARED)
                pname = self.advance().text
                self.advance()
                args.append(self.at(ast.Call("$named", [ast.Literal(pname, "string"), self.expression()]), start))
            else:
                pipe = self.pipe_expression()
                if _bare_query(pipe, start) and (word not in _BARE_QUERY_ARGUMENT or args or not self.tok.is_op(")")):
                    raise self.error(f"a query as an argument of {word}() must be in parentheses: "
                                     f"{word}((... | ...)); only toscalar() and materialize() take their "
                                     "one argument as a bare query", start)
                if pipe.operators or not isinstance(pipe.source, ast.ExprSource):
                    args.append(self.at(ast.Tabular(pipe), start))
                else:
                    args.append(pipe.source.expr)
            if not self.accept_op(","):
                break
        self.expect_op(")")
        return self.at(ast.Call(word, args), token)

    def scalar_type_literal(self, word: str) -> ast.Literal | None:
        """``bool(true)``, ``long(null)``, ``real(1.5)``, ``int(-3)``: a literal of that type."""
        save = self.index
        self.advance()
        negative = bool(self.accept_op("-"))
        positive = not negative and bool(self.accept_op("+"))
        token = self.advance()
        if not self.tok.is_op(")"):
            self.index = save
            return None
        self.advance()
        type_name = _TYPE_ALIASES.get(word, word)
        if token.is_word("null"):
            return ast.Literal("" if type_name == "string" else None, type_name)
        raw = token.value if token.kind in (T.INT, T.REAL, T.STRING) else token.text
        try:
            value = typed_literal(type_name, ("-" if negative else "+" if positive else "") + str(raw))
        except ValueError as exc:
            raise self.error(str(exc), token) from None
        return ast.Literal(value, type_name)

    def dynamic_literal(self, start: Token) -> ast.Literal:
        self.advance()  # (
        open_token = self.tok
        depth = 1
        while depth:
            token = self.advance()
            if token.kind is T.EOF:
                raise self.error("unterminated dynamic(...) literal", start)
            if token.is_op("(", "[", "{"):
                depth += 1
            elif token.is_op(")", "]", "}"):
                depth -= 1
        close = self.tokens[self.index - 1]
        body = self.text[open_token.offset:close.offset]
        try:
            value = dynamic_from_text(body)
        except UninterpretableLiteral as exc:
            # Syntactically a literal (Kusto's parser accepts it); its value is refused when used.
            return ast.Literal(None, "dynamic", error=f"invalid dynamic literal: {exc}",
                               raw=self.text[start.offset:close.end])
        except ValueError as exc:
            raise self.error(f"invalid dynamic literal: {exc}", start) from None
        return ast.Literal(value, "dynamic")


_TYPED_NAMES = {"datetime": "datetime", "date": "datetime", "timespan": "timespan", "time": "timespan",
                "guid": "guid", "uuid": "guid", "uniqueid": "guid"}


def _bare_query(pipe: ast.Pipeline, start: Token) -> bool:
    """Whether a call argument is a query written without its own parentheses: operators after a
    pipe, or a source operator (print, range, union, search, find, evaluate). A datatable (and
    externaldata) is an expression to the official parser, so it may stand alone as an argument."""
    source = pipe.source
    if pipe.operators:
        return True
    if isinstance(source, ast.Datatable):
        return False
    return not isinstance(source, ast.ExprSource) or isinstance(source.expr, ast.Tabular) and not start.is_op("(")


# The calls whose one argument may be a bare query (toscalar(T | count)); the official parser
# takes every other argument as a scalar expression, so strlen(T | count) or f(print 1) is a
# syntax error there and the query needs its own parentheses: strlen((T | count)).
_BARE_QUERY_ARGUMENT = frozenset({"toscalar", "materialize"})

# Type names the official parser refuses as literal keywords (word(...)), with what to write instead.
_NOT_LITERALS = {"string": "write a quoted string, or tostring()", "boolean": "write true/false, bool(...) or tobool()"}
_TYPE_ALIASES = {"boolean": "bool", "double": "real", "date": "datetime", "time": "timespan", "uuid": "guid", "uniqueid": "guid"}
_NO_NAMED_ARGS: set[str] = set()


def _tick_literal(type_name: str, raw: str) -> ast.Literal:
    """A literal holding a part of a microsecond: refused when used (see ``literals.loses_ticks``)."""
    return ast.Literal(None, type_name, error=f"{raw} holds a part of a microsecond; the evaluator keeps "
                       "microseconds, not Kusto's 100 ns ticks", raw=raw, refused=True)
