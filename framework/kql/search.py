"""The search and find operators: a predicate over every column, and over several tables.

A mixin of ``Evaluator`` (``search`` as an operator and as a source, ``find`` as a source), with
``SearchPredicate``, the meaning of search's bare terms. Their check-mode schemas are computed in
``search_schema``.
"""

from __future__ import annotations

import fnmatch
from typing import TYPE_CHECKING, Any, Callable

from dac.kql import ast
from dac.kql import values as V
from dac.kql.errors import KqlSemanticError
from dac.kql.expressions import ExpressionCompiler
from dac.kql import search_schema
from dac.kql.table import OPEN_COLUMN, Table, carry_ingestion
from dac.kql.scope import Scope

if TYPE_CHECKING:
    from dac.kql.evaluator import Evaluator


class SearchOperators:
    """search and find (mixed into ``Evaluator``)."""

    def op_Search(self, node: ast.Search, table: Table, scope: Scope) -> Table:
        predicate = SearchPredicate(self, scope, node).compile(table)
        return Table(table.columns, [row for row in table.rows if predicate(row)], table.ordered)

    def src_SearchSource(self, source: ast.SearchSource, scope: Scope) -> Table:
        """search over tables: the union of the named (else all) tables, with ``$table`` first."""
        node = source.search
        patterns = node.tables or ["*"]
        names = sorted({n for n in self.tables for p in patterns if fnmatch.fnmatchcase(n, p)})
        if self.check:
            legs = self.scoped_tables(node.tables, scope, source)
            if legs is None:
                return Table([("$table", "string"), OPEN_COLUMN])
            table = Table(search_schema.search_columns(legs, everywhere=not node.tables))
            SearchPredicate(self, scope, node).compile(table)  # binds the predicate: an unknown column is an error
            return table
        pieces = []
        for name in names:
            legs = self.table_named(name)
            matcher = SearchPredicate(self, scope, node).compile(legs, skip_unknown=True)
            if matcher is not None:
                pieces.append(("", Table([("$table", "string")] + legs.columns,
                                         [carry_ingestion(row, (name,) + row) for row in legs.rows if matcher(row)])))
        merged: dict[tuple[str, str], None] = {("$table", "string"): None}
        for _, piece in pieces:
            merged.update(dict.fromkeys(piece.columns))
        columns = list(merged)
        rows = []
        for _, piece in pieces:
            index = {c: i for i, c in enumerate(piece.columns)}
            rows.extend(carry_ingestion(row, tuple(row[index[c]] if c in index else V.default_value(c[1]) for c in columns))
                        for row in piece.rows)
        return Table(columns, rows)

    def scoped_tables(self, patterns: list[str], scope: Scope, at: ast.Node) -> list[Table] | None:
        """The (empty) tables ``search``/``find`` read in check mode: those ``in (...)`` names, else the whole
        catalog; None when a wildcard matches none of them (see ``search_schema``)."""
        if not patterns:
            return [self.table_named(name) for name in self.tables]
        names = search_schema.scope_names(patterns, self.tables, scope.visible_names())
        if names is None:
            return None
        return [self.table_from_expr(ast.Name(name, line=at.line, column=at.column), scope) for name in names]

    def src_FindSource(self, source: ast.FindSource, scope: Scope) -> Table:
        """find in (T, ...) where p [project cols]: ``source_`` names the table; without project,
        ``pack_`` holds each row's non-empty columns (https://learn.microsoft.com/kusto/query/find-operator)."""
        node = source.find
        source_column = str(node.params.get("withsource", "source_"))
        patterns = node.tables or ["*"]
        names = sorted({n for n in self.tables for p in patterns if fnmatch.fnmatchcase(n, p)})
        if self.check:
            legs = self.scoped_tables(node.tables, scope, source)
            if legs is None:
                return Table([(source_column, "string"), OPEN_COLUMN])
            merged = search_schema.columns_by_name(legs)
            ExpressionCompiler(self, merged, scope).compile(node.predicate)
            return Table(search_schema.find_columns(source_column, merged, node.project, source))
        projected = node.project or []
        columns: list[tuple[str, str]] = [(source_column, "string")]
        rows = []
        for name in names:
            legs = self.table_named(name)
            try:
                predicate = ExpressionCompiler(self, legs.columns, scope).compile(node.predicate).fn
            except KqlSemanticError:
                continue  # a table without the columns the predicate names is skipped
            index = legs.index()
            for column in projected:
                if column in index and (column, legs.columns[index[column]][1]) not in columns:
                    columns.append((column, legs.columns[index[column]][1]))
            for row in legs.rows:
                if V.to_bool(predicate(row)) is True:
                    rows.append((name, legs, row))
        if not projected:
            columns.append(("pack_", "dynamic"))
        out = []
        for name, legs, row in rows:
            index = legs.index()
            if projected:
                found = (name,) + tuple(row[index[c]] if c in index else V.default_value(t) for c, t in columns[1:])
            else:
                found = (name, {c: v for (c, _), v in zip(legs.columns, row) if v is not None and v != ""})
            out.append(carry_ingestion(row, found))
        return Table(columns, out)


class SearchPredicate:
    """The predicate of ``search``: a bare string matches a term in any column (case-insensitive
    unless kind=case_sensitive), with ``*`` wildcards for prefixes/suffixes/contains; ``*`` alone
    matches every row; everything else is an ordinary expression."""

    def __init__(self, evaluator: Evaluator, scope: Scope, node: ast.Search) -> None:
        self.evaluator = evaluator
        self.scope = scope
        self.node = node
        self.case = str(node.params.get("kind", "")).lower() == "case_sensitive"

    def compile(self, table: Table, skip_unknown: bool = False) -> Callable[[tuple], bool] | None:
        try:
            fn = self._compile(self.node.predicate, table)
        except KqlSemanticError:
            if skip_unknown:
                return None
            raise
        return lambda row: fn(row) is True

    def _compile(self, expr: ast.Expr, table: Table) -> Callable[[tuple], Any]:
        if isinstance(expr, ast.Star):
            return lambda row: True
        if isinstance(expr, ast.Literal) and isinstance(expr.value, str):
            return self._term(expr.value, table)
        if isinstance(expr, ast.Binary) and expr.op in ("and", "or"):
            left, right = self._compile(expr.left, table), self._compile(expr.right, table)
            if expr.op == "and":
                return lambda row: left(row) is True and right(row) is True
            return lambda row: left(row) is True or right(row) is True
        if isinstance(expr, ast.Call) and expr.name == "not" and len(expr.args) == 1:
            inner = self._compile(expr.args[0], table)
            return lambda row: inner(row) is not True
        compiled = ExpressionCompiler(self.evaluator, table.columns, self.scope).compile(expr).fn
        return lambda row: V.to_bool(compiled(row))

    def _term(self, text: str, table: Table) -> Callable[[tuple], bool]:
        core = text.strip("*")
        starts, ends = text.startswith("*"), text.endswith("*")
        case = self.case

        def test(value: str) -> bool:
            if starts and ends:
                return (core in value) if case else (core.lower() in value.lower())
            if starts:
                return V.find_term(value, core, suffix=True, case=case)
            if ends:
                return V.find_term(value, core, prefix=True, case=case)
            return V.find_term(value, core, case=case)

        positions = list(range(len(table.columns)))
        return lambda row: any(row[i] is not None and test(V.to_string(row[i])) for i in positions)
