"""Recursive-descent KQL parser producing ``dac.kql.ast`` trees.

Operator precedence follows Kusto (lowest first): ``or``; ``and``; comparison
and string operators (``==``, ``has``, ``in``, ``between``, ...); ``+ -``;
``* / %``; unary ``- +``; postfix member access, indexing and calls.
Nesting depth is bounded so hostile input gets a KqlSyntaxError instead of a
RecursionError.
"""

from __future__ import annotations

from typing import Any, Callable

from dac.kql import ast, graph_parser, pattern_parser
from dac.kql.builtins import refusal
from dac.kql.errors import KqlRefusedSyntax, KqlSyntaxError
from dac.kql.keywords import Role
from dac.kql.keywords import refusal as keyword_refusal
from dac.kql.lexer import T, Token, tokenize
from dac.kql.literals import UninterpretableLiteral, dynamic_from_text, loses_ticks, typed_literal

MAX_DEPTH = 100

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
# The options of parse-kv's with (...) clause (https://learn.microsoft.com/kusto/query/parse-kv-operator).
PARSE_KV_OPTIONS = frozenset({"pair_delimiter", "kv_delimiter", "quote", "escape", "greedy", "regex"})
SOURCE_KEYWORDS = {"datatable", "print", "range", "union", "externaldata", "external_data", "evaluate", "find", "search"}


class Parser:
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

    # ------------------------------------------------------------ tabular

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

    def name_pattern(self, role: Role | None = None) -> str:
        """A column or table name with ``*`` wildcards: ``Device*``, ``*Id``, ``['a b']``.

        With ``role``, a pattern that is one bare keyword the official parser refuses there is an error.
        """
        if self.tok.is_op("[") and self.peek().kind is T.STRING:
            return self.name()
        start = self.tok
        parts: list[str] = []
        prev: Token | None = None
        if start.is_op("$") and self.peek().kind is T.IDENT and self.adjacent(start, self.peek()):
            prev = self.advance()  # ``$table``, the column search and union add
            parts.append("$")
        while (self.tok.kind in (T.IDENT, T.INT) or self.tok.is_op("*")) and (prev is None or self.adjacent(prev, self.tok)):
            prev = self.advance()
            parts.append(prev.text)
        if not parts:
            raise self.error(f"expected a column name or pattern, found {start.describe()}", start)
        if role is not None and len(parts) == 1 and start.kind is T.IDENT:
            self.refuse_keyword(start, role)
        return "".join(parts)

    def params(self, allowed: set[str]) -> dict[str, Any]:
        """Operator parameters: ``kind=inner``, ``hint.strategy=shuffle``, ``withsource=T``."""
        params: dict[str, Any] = {}
        while self.tok.kind is T.IDENT:
            word = self.tok.text
            key_tokens = 1
            key = word
            if word == "hint" or word.startswith("hint"):
                if self.peek().is_op(".") and "hint" in allowed:
                    key = "hint." + self.peek(2).text
                    key_tokens = 3
                else:
                    break
            elif word not in allowed:
                break
            if not self.peek(key_tokens).is_op("="):
                break
            for _ in range(key_tokens + 1):
                self.advance()
            value_token = self.tok
            if value_token.kind in (T.IDENT, T.STRING, T.INT, T.REAL, T.TIMESPAN):
                self.advance()
                params[key] = value_token.value if value_token.kind is not T.IDENT else value_token.text
            else:
                raise self.expected(f"a value for '{key}'")
        return params

    def operator(self) -> ast.Operator:
        token = self.tok
        if token.kind is not T.IDENT:
            raise self.expected("a query operator after '|'")
        handler = getattr(self, "op_" + token.text.replace("-", "_"), None)
        if handler is None:
            self.refuse(token)
            raise self.error(f"unknown query operator '{token.text}'", token)
        self.advance()
        return self.at(handler(token), token)

    def op_where(self, token: Token) -> ast.Operator:
        if self.at_name() and self.peek(3 if self.tok.is_op("[") else 1).is_op("="):
            # ``where IsBillable = true``: accepted by Kusto as a named expression, not a comparison
            named = self.name(role=Role.DECLARED)
            self.advance()
            return ast.Where(self.expression(), named)
        return ast.Where(self.expression())

    op_filter = op_where

    def op_extend(self, token: Token) -> ast.Operator:
        return ast.Extend(self.assignments())

    def op_project(self, token: Token) -> ast.Operator:
        return ast.Project(self.assignments())

    def op_project_away(self, token: Token) -> ast.Operator:
        return ast.ProjectAway(self.pattern_list(Role.BOUND))

    def op_project_keep(self, token: Token) -> ast.Operator:
        return ast.ProjectKeep(self.pattern_list(Role.BOUND))

    def op_project_reorder(self, token: Token) -> ast.Operator:
        items = []
        while True:
            pattern = self.name_pattern(Role.BOUND)
            order = self.accept_word("asc", "desc", "granny-asc", "granny-desc")
            items.append((pattern, order))
            if not self.accept_op(","):
                return ast.ProjectReorder(items)

    def op_project_by_names(self, token: Token) -> ast.Operator:
        """Column specifiers are expressions (strings, dynamic arrays, column_names_of(T)), not names."""
        specs = [self.expression()]
        while self.accept_op(","):
            specs.append(self.expression())
        return ast.ProjectByNames(specs)

    def op_project_rename(self, token: Token) -> ast.Operator:
        pairs = []
        while True:
            new = self.name("a new column name", Role.DECLARED)
            self.expect_op("=")
            old = self.name("an existing column name", Role.REFERENCE)
            pairs.append((new, old))
            if not self.accept_op(","):
                return ast.ProjectRename(pairs)

    def pattern_list(self, role: Role | None = None) -> list[str]:
        patterns = [self.name_pattern(role)]
        while self.accept_op(","):
            patterns.append(self.name_pattern(role))
        return patterns

    def op_summarize(self, token: Token) -> ast.Operator:
        params = self.params({"hint"})
        aggregates: list[ast.Assignment] = []
        if not self.tok.is_word("by") or self.peek().is_op("="):
            aggregates = self.assignments()
        by: list[ast.Assignment] = []
        if self.accept_word("by"):
            by = self.assignments()
        return ast.Summarize(aggregates, by, params)

    def op_sort(self, token: Token) -> ast.Operator:
        self.params({"hint"})
        self.expect_word("by")
        keys = [self.sort_key()]
        while self.accept_op(","):
            keys.append(self.sort_key())
        return ast.Sort(keys)

    op_order = op_sort

    def sort_key(self) -> ast.SortKey:
        start = self.tok
        expr = self.expression()
        direction = self.accept_word("asc", "desc")
        descending = direction != "asc"
        nulls_first = not descending
        if self.accept_word("nulls"):
            nulls_first = self.expect_word("first", "last") == "first"
        return self.at(ast.SortKey(expr, descending, nulls_first), start)

    def op_take(self, token: Token) -> ast.Operator:
        self.params({"hint"})
        return ast.Take(self.expression())

    op_limit = op_take

    def op_top(self, token: Token) -> ast.Operator:
        count = self.expression()
        self.expect_word("by")
        return ast.Top(count, self.sort_key())

    def op_distinct(self, token: Token) -> ast.Operator:
        self.params({"hint"})
        if self.tok.is_op("*"):
            star = self.advance()
            return ast.Distinct([self.at(ast.Star(), star)])
        columns = [self.expression()]
        while self.accept_op(","):
            columns.append(self.expression())
        return ast.Distinct(columns)

    def op_count(self, token: Token) -> ast.Operator:
        return ast.Count()

    def join_right(self) -> ast.Pipeline:
        token = self.tok
        if token.is_op("("):
            self.advance()
            right = self.pipe_expression()
            self.expect_op(")")
            return right
        expr = self.postfix(self.primary())
        return self.at(ast.Pipeline(self.at(ast.ExprSource(expr), token), []), token)

    def join_keys(self) -> list[ast.Expr]:
        if not self.accept_word("on"):
            return []
        keys: list[ast.Expr] = []
        while True:
            expr = self.expression()
            keys.extend(self.split_and(expr))
            if not self.accept_op(","):
                return keys

    def split_and(self, expr: ast.Expr) -> list[ast.Expr]:
        if isinstance(expr, ast.Binary) and expr.op == "and":
            return self.split_and(expr.left) + self.split_and(expr.right)
        return [expr]

    def op_join(self, token: Token) -> ast.Operator:
        params = self.params({"kind", "hint", "withsource"})
        right = self.join_right()
        return ast.Join(params, right, self.join_keys())

    def op_lookup(self, token: Token) -> ast.Operator:
        params = self.params({"kind", "hint"})
        right = self.join_right()
        return ast.Lookup(params, right, self.join_keys())

    def op_union(self, token: Token) -> ast.Operator:
        return ast.UnionOp(self.union_body(token))

    def mv_items(self) -> list[ast.MvExpandItem]:
        items = []
        while True:
            start = self.tok
            name = None
            if self.at_name() and self.peek(3 if self.tok.is_op("[") else 1).is_op("="):
                name = self.name(role=Role.DECLARED)
                self.expect_op("=")
            expr = self.expression()
            to_type = None
            if self.accept_word("to"):
                self.expect_word("typeof")
                self.expect_op("(")
                to_type = self.type_text()
                self.expect_op(")")
            items.append(self.at(ast.MvExpandItem(name, expr, to_type), start))
            if not self.accept_op(","):
                return items

    def op_mv_expand(self, token: Token) -> ast.Operator:
        params = self.params({"bagexpansion", "with_itemindex", "kind", "hint"})
        items = self.mv_items()
        limit = self.expression() if self.accept_word("limit") else None
        return ast.MvExpand(params, items, limit)

    op_mvexpand = op_mv_expand

    def op_mv_apply(self, token: Token) -> ast.Operator:
        params = self.params({"with_itemindex", "hint"})
        items = self.mv_items()
        limit = self.expression() if self.accept_word("limit") else None
        self.expect_word("on")
        return ast.MvApply(params, items, self.subquery_over("$mvapply"), limit)

    def subquery_over(self, placeholder: str) -> ast.Pipeline:
        """``( operator | ... )``: a subquery whose input is the outer operator's rows, read from the
        name ``placeholder`` (mv-apply's and partition's parenthesised subqueries)."""
        self.expect_op("(")
        start = self.tok
        operators = [self.operator()]
        while self.accept_op("|"):
            operators.append(self.operator())
        self.expect_op(")")
        return self.at(ast.Pipeline(self.at(ast.ExprSource(ast.Name(placeholder)), start), operators), start)

    def op_parse(self, token: Token) -> ast.Operator:
        return self.parse_operator(kind_where=False)

    def op_parse_where(self, token: Token) -> ast.Operator:
        return self.parse_operator(kind_where=True)

    def parse_operator(self, kind_where: bool) -> ast.Parse:
        params = self.params({"kind", "flags"})
        source = self.expression()
        self.expect_word("with")
        pattern: list[Any] = []
        while True:
            token = self.tok
            if token.kind is T.STRING:
                pattern.append(self.advance().value)
            elif token.is_op("*"):
                self.advance()
                pattern.append(None)
            elif self.at_name() and not token.is_op("|"):
                column = self.name(role=Role.DECLARED)
                ctype = "string"
                if self.accept_op(":"):
                    ctype = self.type_text()
                pattern.append((column, ctype))
            else:
                break
            self.accept_op(",")
        if not pattern:
            raise self.expected("a parse pattern after 'with'")
        return ast.Parse(kind_where, params, source, pattern)

    def op_parse_kv(self, token: Token) -> ast.Operator:
        """``parse-kv Expr as (Key:type, ...) [with (option = value, ...)]`` (parse-kv-operator)."""
        source = self.expression()
        self.expect_word("as")
        keys = self.column_schema()
        if not keys:
            raise self.error("parse-kv needs at least one key to extract", token)
        options: list[tuple[str, ast.Expr]] = []
        if self.accept_word("with"):
            self.expect_op("(")
            while not self.tok.is_op(")"):
                option = self.tok
                key = self.name("a parse-kv option")
                if key not in PARSE_KV_OPTIONS:
                    raise self.error(f"unknown parse-kv option '{key}'; expected one of "
                                     + ", ".join(sorted(PARSE_KV_OPTIONS)), option)
                self.expect_op("=")
                options.append((key, self.at(self.expression(), option)))
                if not self.accept_op(","):
                    break
            self.expect_op(")")
        return ast.ParseKv(source, keys, options)

    def op_scan(self, token: Token) -> ast.Operator:
        """``scan [with_match_id=Col] [declare (Col:type [= default], ...)] with (step ...; ...)``."""
        match_id = None
        if self.accept_word("with_match_id"):
            self.expect_op("=")
            match_id = self.name("a match id column name", Role.BOUND)
        declarations: list[ast.ScanDeclaration] = []
        if self.accept_word("declare"):
            self.expect_op("(")
            while not self.tok.is_op(")"):
                start = self.tok
                column = self.name("a column name", Role.DECLARED)
                self.expect_op(":")
                kind = self.type_text()
                default = self.expression() if self.accept_op("=") else None
                declarations.append(self.at(ast.ScanDeclaration(column, kind, default), start))
                if not self.accept_op(","):
                    break
            self.expect_op(")")
        self.expect_word("with")
        self.expect_op("(")
        steps: list[ast.ScanStep] = []
        while self.tok.is_word("step"):
            start = self.advance()
            step = self.name("a step name", Role.DECLARED)
            output = "all"
            if self.accept_word("output"):
                self.expect_op("=")
                output = self.expect_word("all", "last", "none")
            self.expect_op(":")
            condition = self.expression()
            assignments = self.assignments() if self.accept_op("=>") else []
            self.expect_op(";")
            steps.append(self.at(ast.ScanStep(step, output, condition, assignments), start))
        self.expect_op(")")
        return ast.Scan(match_id, declarations, steps)

    def op_partition(self, token: Token) -> ast.Operator:
        """``partition [hint.x=v ...] by Column ( operators )`` or ``{ query with its own source }``."""
        params = self.params({"hint"})
        self.expect_word("by")
        column = self.name("a partition column", Role.REFERENCE)
        if self.tok.is_op("{"):
            self.advance()
            subquery = self.pipe_expression()
            self.expect_op("}")
            return ast.Partition(params, column, subquery, True)
        return ast.Partition(params, column, self.subquery_over("$partition"), False)

    def op_consume(self, token: Token) -> ast.Operator:
        """``consume [decodeblocks = bool]`` (consume-operator)."""
        return ast.Consume(self.params({"decodeblocks"}))

    def op_sample_distinct(self, token: Token) -> ast.Operator:
        """``sample-distinct Count of Column`` (sample-distinct-operator)."""
        if self.tok.is_word("of"):
            raise self.expected("the number of values before 'of'")
        count = self.expression()
        self.expect_word("of")
        return ast.SampleDistinct(count, self.expression())

    def op_top_hitters(self, token: Token) -> ast.Operator:
        """``top-hitters Count of Column [by SummingExpression]`` (top-hitters-operator)."""
        if self.tok.is_word("of"):
            raise self.expected("the number of values before 'of'")
        count = self.expression()
        self.expect_word("of")
        of = self.expression()
        return ast.TopHitters(count, of, self.expression() if self.accept_word("by") else None)

    def op_fork(self, token: Token) -> ast.Operator:
        """``fork [name=](operators) [name=](operators) ...`` (fork-operator)."""
        legs: list[ast.ForkLeg] = []
        while True:
            start = self.tok
            leg_name = None
            if start.kind is T.IDENT and self.peek().is_op("="):
                leg_name = self.name("a fork leg name")
                self.advance()
            elif not start.is_op("("):
                break
            legs.append(self.at(ast.ForkLeg(leg_name, self.parenthesized_operators()), start))
        if not legs:
            raise self.expected("'(' and a subquery after 'fork'")
        return ast.Fork(legs)

    def op_facet(self, token: Token) -> ast.Operator:
        """``facet by Column, ... [with (operators)]`` (facet-operator)."""
        self.expect_word("by")
        columns = [self.name("a facet column")]
        while self.accept_op(","):
            columns.append(self.name("a facet column"))
        with_operators = self.parenthesized_operators() if self.accept_word("with") else None
        return ast.Facet(columns, with_operators)

    def parenthesized_operators(self) -> list[ast.Operator]:
        """``( operator | operator ... )``: a subquery over the operator's input (fork, facet)."""
        self.expect_op("(")
        operators = [self.operator()]
        while self.accept_op("|"):
            operators.append(self.operator())
        self.expect_op(")")
        return operators

    def op_macro_expand(self, token: Token) -> ast.Operator:
        """``macro-expand [kind=..] [isfuzzy=..] (entity_group [e, ...] | Group) as Name (subquery)``."""
        params = self.params({"kind", "isfuzzy"})
        entities: list[ast.Expr] = []
        group = None
        if self.tok.is_word("entity_group") and self.peek().is_op("["):
            self.advance()
            self.advance()
            entities.append(self.expression())
            while self.accept_op(","):
                entities.append(self.expression())
            self.expect_op("]")
        else:
            group = self.name("an entity group")
        self.expect_word("as")
        alias = self.name("an entity identifier")
        self.expect_op("(")
        subquery = self.pipe_expression()
        self.expect_op(")")
        return ast.MacroExpand(params, entities, group, alias, subquery)

    def op_assert_schema(self, token: Token) -> ast.Operator:
        """``assert-schema (Column:type, ...)``: checked for its shape, kept as text (no doc page defines it)."""
        start = self.tok
        self.column_schema()
        return ast.Unparsed("assert-schema", self.text[start.offset:self.tokens[self.index - 1].end])

    def op_make_graph(self, token: Token) -> ast.Operator:
        return graph_parser.make_graph(self)

    def op_graph_match(self, token: Token) -> ast.Operator:
        return graph_parser.graph_match(self, "graph-match")

    def op_graph_to_table(self, token: Token) -> ast.Operator:
        return graph_parser.graph_to_table(self)

    def op_graph_shortest_paths(self, token: Token) -> ast.Operator:
        return graph_parser.graph_match(self, "graph-shortest-paths")

    def op_graph_mark_components(self, token: Token) -> ast.Operator:
        return graph_parser.graph_mark_components(self)

    def op_render(self, token: Token) -> ast.Operator:
        chart = self.name("a chart type")
        props: list[tuple[str, ast.Expr]] = []
        if self.accept_word("with"):
            self.expect_op("(")
            props = self.property_list()
        return ast.Render(chart, props)

    def op_as(self, token: Token) -> ast.Operator:
        params = self.params({"hint"})
        return ast.As(self.name("a name after 'as'", Role.BOUND), params)

    def op_serialize(self, token: Token) -> ast.Operator:
        items = self.assignments() if self.at_name() else []
        return ast.Serialize(items)

    def op_invoke(self, token: Token) -> ast.Operator:
        call = self.postfix(self.primary())
        if not isinstance(call, ast.Call):
            raise self.error("expected a function call after 'invoke'", token)
        return ast.Invoke(call)

    def op_evaluate(self, token: Token) -> ast.Operator:
        params = self.params({"hint"})
        call = self.postfix(self.primary())
        if not isinstance(call, ast.Call):
            raise self.error("expected a plugin call after 'evaluate'", token)
        if not self.accept_op(":"):
            return ast.Evaluate(params, call)
        self.expect_op("(")
        keeps_input = self.accept_op("*")
        if keeps_input and not self.tok.is_op(")"):
            self.expect_op(",")
        return ast.Evaluate(params, call, self.column_schema(opened=True), keeps_input)

    def op_make_series(self, token: Token) -> ast.Operator:
        params = self.params({"kind", "hint"})
        aggregates = []
        while True:
            start = self.tok
            assignment = self.assignment()
            if self.accept_word("default"):
                self.expect_op("=")
                default = self.expression()
                assignment.expr = self.at(ast.Call("$default", [assignment.expr, default]), start)
            aggregates.append(assignment)
            if not self.accept_op(","):
                break
        self.expect_word("on")
        on = self.nested(self.additive)
        rng: dict[str, ast.Expr] = {}
        if self.accept_word("in"):
            self.expect_word("range")
            self.expect_op("(")
            rng["from"] = self.expression()
            self.expect_op(",")
            rng["to"] = self.expression()
            self.expect_op(",")
            rng["step"] = self.expression()
            self.expect_op(")")
        else:
            for word in ("from", "to"):
                if self.accept_word(word):
                    rng[word] = self.expression()
            self.expect_word("step")
            rng["step"] = self.expression()
        by = self.assignments() if self.accept_word("by") else []
        return ast.MakeSeries(aggregates, on, rng, by, params)

    def generic(self, name: str, *, with_args: bool) -> ast.Generic:
        args: list[ast.Expr] = []
        if with_args and not (self.tok.is_op("|", ")", ";", "}") or self.tok.kind is T.EOF):
            args.append(self.expression())
            while self.accept_op(","):
                args.append(self.expression())
        return ast.Generic(name, args)

    def op_top_nested(self, token: Token) -> ast.Operator:
        levels: list[ast.TopNestedLevel] = []
        while True:
            self.accept_word("top-nested")  # each further level repeats the keyword
            start = self.tok
            count = None if self.tok.is_word("of") else self.expression()
            self.expect_word("of")
            of = self.assignment()
            others = None
            if self.accept_word("with"):
                self.expect_word("others")
                self.expect_op("=")
                others = self.expression()
            self.expect_word("by")
            by = self.assignment()
            direction = self.accept_word("asc", "desc")
            levels.append(self.at(ast.TopNestedLevel(count, of, others, by, direction != "asc"), start))
            if not self.accept_op(","):
                return ast.TopNested(levels)

    def op_search(self, token: Token) -> ast.Operator:
        return self.search_body()

    def search_body(self) -> ast.Search:
        params = self.params({"kind"})
        tables: list[str] = []
        if self.tok.is_word("in") and self.peek().is_op("("):
            self.advance()
            self.advance()
            while not self.tok.is_op(")"):
                tables.append(self.name_pattern())
                if not self.accept_op(","):
                    break
            self.expect_op(")")
        return ast.Search(params, tables, self.expression())

    def find_body(self) -> ast.Find:
        params = self.params({"withsource", "hint"})
        tables: list[str] = []
        if self.accept_word("in"):
            self.expect_op("(")
            while not self.tok.is_op(")"):
                tables.append(self.name_pattern())
                if not self.accept_op(","):
                    break
            self.expect_op(")")
        self.expect_word("where")
        predicate = self.expression()
        project: list[str] | None = None
        if self.accept_word("project-smart"):
            project = []
        elif self.accept_word("project"):
            project = self.pattern_list()
        return ast.Find(params, tables, predicate, project)

    def op_getschema(self, token: Token) -> ast.Operator:
        return self.generic("getschema", with_args=False)

    def op_sample(self, token: Token) -> ast.Operator:
        return self.generic("sample", with_args=True)

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
# Type names the official parser refuses as literal keywords (word(...)), with what to write instead.
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

_NOT_LITERALS = {"string": "write a quoted string, or tostring()", "boolean": "write true/false, bool(...) or tobool()"}
_TYPE_ALIASES = {"boolean": "bool", "double": "real", "date": "datetime", "time": "timespan", "uuid": "guid", "uniqueid": "guid"}
_NO_NAMED_ARGS: set[str] = set()


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


def _tick_literal(type_name: str, raw: str) -> ast.Literal:
    """A literal holding a part of a microsecond: refused when used (see ``literals.loses_ticks``)."""
    return ast.Literal(None, type_name, error=f"{raw} holds a part of a microsecond; the evaluator keeps "
                       "microseconds, not Kusto's 100 ns ticks", raw=raw, refused=True)
