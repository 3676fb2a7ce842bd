"""KQL syntax tree -> one sqlglot expression tree, for DuckDB now and Spark through the same tree.

``compile_query`` walks the query as the row engine would run it: each source
and each operator becomes a SELECT over the previous one (``Relation``). Names
and types of every result column are the row engine's own: each operator is
also applied by the row engine to a table with the same columns and no rows
(``Context.evaluator``), which gives its output schema, its binder errors and
its naming rules (``Column1``, ``count_``, join's ``x1``) without restating them.

Row order: a relation may carry a hidden ordinal column (``ORDINAL``) holding a
defined order, the input order at a table or datatable, or a sort's order.
Row-local operators keep it, and a summarize gives each group its first row's (the
row engine lists groups as it meets them); take, top, sort's tie-breaking,
innerunique's "first left row per key" and the final ORDER BY read it. An operator
that needs it where the order is undefined (take after a join or a union) refuses:
the row engine would keep some rows and the SQL others.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlglot import exp

from dac.engines.physical import EngineRefusal, sql_type
from dac.engines.sql_dialects import dialect_named
from dac.engines.sql_scalars import NONDETERMINISTIC, Context, column
from dac.engines.sql_values import literal
from dac.kql import ast
from dac.kql.table import Table

ORDINAL = "__dac_ordinal"


@dataclass
class Relation:
    """A SELECT whose output columns are ``columns`` (KQL names and types), plus ORDINAL when ``ordinal``."""

    query: exp.Query
    columns: list[tuple[str, str]]
    ordinal: bool = False
    sorted: bool = False  # the ordinal is a sort's order: the result is ordered

    def names(self) -> list[str]:
        return [name for name, _ in self.columns]


@dataclass
class CompiledQuery:
    expression: exp.Expression
    columns: list[tuple[str, str]]
    ordered: bool

    def sql(self, dialect: str) -> str:
        return self.expression.sql(dialect=dialect)


@dataclass
class Compiler:
    context: Context
    tables: Mapping[str, Sequence[tuple[str, str]]]
    lets: dict[str, ast.Expr | ast.Pipeline] = field(default_factory=dict)
    aliases: int = 0

    def alias(self) -> str:
        self.aliases += 1
        return f"t{self.aliases}"

    def refuse(self, what: str, node: ast.Node, why: str = "") -> EngineRefusal:
        return self.context.refuse(what, node, why)

    def subquery(self, relation: Relation) -> exp.Expression:
        return relation.query.subquery(self.alias())

    def select(self, relation: Relation, projections: list[exp.Expression], keep_ordinal: bool = True) -> exp.Select:
        if keep_ordinal and relation.ordinal:
            projections = projections + [column(ORDINAL)]
        return exp.select(*projections).from_(self.subquery(relation))

    def schema_after(self, relation: Relation, operator: ast.Operator) -> list[tuple[str, str]]:
        """The columns the row engine gives ``operator`` over ``relation``'s columns (its errors too)."""
        table = self.context.evaluator.apply_operators(Table(list(relation.columns), []), [operator], self.context.scope)
        if table.is_open:
            raise self.refuse(f"the operator '{type(operator).__name__}'", operator, "its columns depend on the data")
        return [tuple(c) for c in table.columns]

    # ---------------------------------------------------------------- pipelines

    def pipeline(self, pipeline: ast.Pipeline) -> Relation:
        from dac.engines.sql_operators import OPERATORS, needs_ordinal

        relation = self.source(pipeline.source, needs_ordinal(pipeline.operators))
        for operator in pipeline.operators:
            build = OPERATORS.get(type(operator))
            if build is None:
                raise self.refuse(f"the operator '{_operator_name(operator)}'", operator)
            relation = build(self, relation, operator)
        return relation

    def source(self, source: ast.Source, ordinal: bool) -> Relation:
        if isinstance(source, ast.ExprSource):
            return self.named_source(source, ordinal)
        if isinstance(source, ast.Datatable):
            return self.datatable(source)
        if isinstance(source, ast.Print):
            from dac.engines.sql_operators import print_source

            return print_source(self, source)
        if isinstance(source, ast.Range):
            from dac.engines.sql_generate import range_source

            return range_source(self, source)
        if isinstance(source, ast.Union):
            from dac.engines.sql_operators import union

            return union(self, None, source)
        raise self.refuse(f"the source '{type(source).__name__}'", source)

    def named_source(self, source: ast.ExprSource, ordinal: bool) -> Relation:
        expr = source.expr
        if isinstance(expr, ast.Tabular):
            return self.pipeline(expr.query) if not ordinal else self._ordered_subpipeline(expr.query, source)
        if not isinstance(expr, ast.Name):
            raise self.refuse("this tabular expression", source)
        if expr.name in self.lets:
            value = self.lets[expr.name]
            if not isinstance(value, ast.Pipeline):
                raise self.refuse(f"the let name '{expr.name}' used as a table", source)
            relation = self.pipeline(value)
            if ordinal and not relation.ordinal:
                raise self.refuse(f"row order through the let '{expr.name}'", source)
            return relation
        if expr.name not in self.tables:
            self.context.evaluator.eval_source(source, self.context.scope)  # the row engine's error for it
            raise self.refuse(f"the table '{expr.name}'", source)
        columns = [(name, kind) for name, kind in self.tables[expr.name]]
        for _, kind in columns:
            sql_type(kind, self.context.dialect.name)
        projections: list[exp.Expression] = [column(name) for name, _ in columns]
        if ordinal:
            if not self.context.dialect.ordered_scan:
                raise self.refuse(f"the input order of the table '{expr.name}'", source,
                                  f"{self.context.dialect.name} reads a table's rows in no defined order")
            # the order the row engine reads the table in: the view's own column, or the scan's order
            hidden = self.context.dialect.source_ordinal
            order = column(hidden) if hidden else exp.Window(this=exp.RowNumber())
            projections.append(exp.alias_(order, ORDINAL, quoted=True))
        query = exp.select(*projections).from_(exp.table_(expr.name, quoted=True))
        return Relation(query, columns, ordinal=ordinal)

    def _ordered_subpipeline(self, pipeline: ast.Pipeline, node: ast.Node) -> Relation:
        relation = self.pipeline(pipeline)
        if not relation.ordinal:
            raise self.refuse("row order through a parenthesised query", node)
        return relation

    def datatable(self, source: ast.Datatable) -> Relation:
        if any(isinstance(v, ast.Tabular) for v in source.values):
            raise self.refuse("externaldata", source, "its rows are read from outside the query")
        table = self.context.evaluator.eval_source(source, self.context.scope)
        return self.rows_relation(table.columns, table.rows, source)

    def rows_relation(self, columns: list[tuple[str, str]], rows: list[tuple], node: ast.Node) -> Relation:
        """Constant rows as a VALUES list (typed), with their order as the ordinal."""
        dialect = self.context.dialect.name
        names = [name for name, _ in columns] + [ORDINAL]
        if not rows:
            nulls = [exp.alias_(exp.cast(exp.null(), sql_type(kind, dialect)), name, quoted=True)
                     for name, kind in columns] + [exp.alias_(exp.Literal.number(0), ORDINAL, quoted=True)]
            return Relation(exp.select(*nulls).where(exp.false()), list(columns), ordinal=True)
        tuples = [exp.Tuple(expressions=[literal(v, kind, dialect) for v, (_, kind) in zip(row, columns)]
                            + [exp.Literal.number(position)]) for position, row in enumerate(rows)]
        values = exp.Values(expressions=tuples,
                            alias=exp.TableAlias(this=exp.to_identifier(self.alias()),
                                                 columns=[exp.to_identifier(n, quoted=True) for n in names]))
        typed = [exp.alias_(exp.cast(column(name), sql_type(kind, dialect)), name, quoted=True)
                 for name, kind in columns] + [column(ORDINAL)]
        return Relation(exp.select(*typed).from_(values), list(columns), ordinal=True)

    def first_column(self, expr: ast.Expr) -> tuple[exp.Query, str]:
        """The SELECT of a tabular expression's first column (as ``__dac_member``) and its type, for ``in``."""
        if isinstance(expr, ast.Tabular):
            pipeline = expr.query
        elif isinstance(expr, ast.Name) and isinstance(self.lets.get(expr.name), ast.Pipeline):
            pipeline = self.lets[expr.name]
        else:
            raise self.refuse("this tabular expression", expr)
        relation = self.pipeline(pipeline)
        if not relation.columns:
            raise self.refuse("'in' over a table without columns", expr)
        name, kind = relation.columns[0]
        return exp.select(exp.alias_(column(name), "__dac_member", quoted=True)).from_(self.subquery(relation)), kind

    # ---------------------------------------------------------------- the query

    def body(self, tree: ast.QueryBody) -> Relation:
        for statement in tree.statements:
            if isinstance(statement, ast.PatternDeclaration):  # its invocations are evaluated by the row engine only
                raise self.refuse(f"the pattern statement 'declare pattern {statement.name}'", statement)
            if isinstance(statement, ast.Let):
                if isinstance(statement.value, ast.Lambda):
                    raise self.refuse(f"the user function '{statement.name}'", statement)
                self.lets[statement.name] = statement.value
                if isinstance(statement.value, ast.Pipeline) or any(
                        isinstance(n, ast.Tabular) or (isinstance(n, ast.Name) and n.name in self.context.tainted)
                        or (isinstance(n, ast.Call) and n.name in NONDETERMINISTIC) for n in statement.value.walk()):
                    self.context.tainted.add(statement.name)
        result = tree.result
        if result is None:
            raise self.refuse("a query without a tabular result", tree)
        return self.pipeline(result)

    def finish(self, relation: Relation) -> CompiledQuery:
        query = exp.select(*[column(name) for name in relation.names()]).from_(self.subquery(relation))
        if relation.sorted:
            query = query.order_by(column(ORDINAL))
        return CompiledQuery(query, list(relation.columns), relation.sorted)


def _operator_name(operator: ast.Operator) -> str:
    name = getattr(operator, "name", None)
    return name if isinstance(name, str) else type(operator).__name__


def compile_query(tree: ast.QueryBody, tables: Mapping[str, Sequence[tuple[str, str]]], *, dialect: str,
                  now: datetime) -> CompiledQuery:
    """The SQL of ``tree`` over ``tables`` (name -> KQL columns), or EngineRefusal at what it cannot make exact.

    Every table is read as the quoted identifier of its KQL name: the engine makes a
    relation of that name with the columns in the physical form of ``dac.engines.physical``.
    """
    from dac.engines import sql_generate, sql_join, sql_parse, sql_summarize  # noqa: F401 - importing them registers their operators
    from dac.kql.evaluator import Evaluator, Scope, bind_lets

    hooks = dialect_named(dialect)
    empty = {name: Table([(n, k) for n, k in columns], []) for name, columns in tables.items()}
    evaluator = Evaluator(empty, now)
    scope, _ = bind_lets(tree.statements, Scope())
    compiler = Compiler(Context(hooks, evaluator, scope, now), tables)
    compiler.context.first_column = compiler.first_column
    return compiler.finish(compiler.body(tree))

