"""Parsing of the tabular operators that follow a ``|``: one ``op_<name>`` method per operator
(``-`` spelt ``_``; aliases such as ``filter`` and ``order`` are the same method), and the
clauses they share (``kind=...``/``hint.x=...`` parameters, column name patterns).

A mixin of ``parser.Parser``. ``parser.OPERATOR_KEYWORDS`` is read from these method names, so
adding an operator here is all it takes for the built-in catalogue to count it. The graph
operators and ``declare pattern`` have modules of their own (``graph_parser``,
``pattern_parser``).
"""

from __future__ import annotations

from typing import Any

from dac.kql import ast, graph_parser
from dac.kql.keywords import Role
from dac.kql.lexer import T, Token

# The options of parse-kv's with (...) clause (https://learn.microsoft.com/kusto/query/parse-kv-operator).
PARSE_KV_OPTIONS = frozenset({"pair_delimiter", "kv_delimiter", "quote", "escape", "greedy", "regex"})


class OperatorParsing:
    """The tabular operators (mixed into ``Parser``)."""

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
