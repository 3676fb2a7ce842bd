"""Functions over the row's columns themselves rather than their values: bag_pack_columns, which
names each value by its column, and column_names_of, the schema of a tabular expression.

Mixed into ``ExpressionCompiler`` like ``WindowFunctions``: they need the compiler's column layout.
"""

from __future__ import annotations

from typing import Any, Callable

from dac.kql import ast
from dac.kql.compiled import Compiled, Row, constant, semantic


class ColumnFunctions:
    """The column functions of ``ExpressionCompiler`` (mixed into it); rely on its ``compile`` and
    ``index`` (column name -> position)."""

    index: dict[str, int]
    scope: Any  # the evaluator's Scope of let bindings
    compile: Callable[[ast.Expr], Compiled]  # ExpressionCompiler.compile

    def f_bag_pack_columns(self, expr: ast.Call) -> Compiled:
        """A property bag of the listed columns, each keyed by its name
        (https://learn.microsoft.com/kusto/query/bag-pack-columns-function); every argument must be
        a column of the input, as the parameter is "a column to pack"."""
        if not expr.args:
            raise semantic(expr, "function 'bag_pack_columns()' takes at least 1 argument")
        names = []
        for arg in expr.args:
            if not isinstance(arg, ast.Name) or arg.name not in self.index:
                raise semantic(arg, "bag_pack_columns() takes columns of the input")
            names.append(arg.name)
        getters = [self.compile(arg).fn for arg in expr.args]

        def run(row: Row) -> dict[str, Any]:
            return {name: get(row) for name, get in zip(names, getters)}

        return Compiled(run, "dynamic")

    def f_column_names_of(self, expr: ast.Call) -> Compiled:
        """The column names of a tabular expression, as a dynamic array
        (https://learn.microsoft.com/kusto/query/column-names-of-function)."""
        if len(expr.args) != 1:
            raise semantic(expr, f"function 'column_names_of()' takes 1 argument, got {len(expr.args)}")
        arg = expr.args[0]
        if isinstance(arg, ast.Name) and arg.name not in self.index and self.scope.lookup(arg.name) is None:
            # a table of the database (a test's input table): read as the pipeline ``T``
            pipeline = ast.Pipeline(source=ast.ExprSource(expr=arg, line=arg.line, column=arg.column),
                                    operators=[], line=arg.line, column=arg.column)
            arg = ast.Tabular(query=pipeline, line=arg.line, column=arg.column)
        inner = self.compile(arg)
        if inner.type != "table":
            raise semantic(expr.args[0], "column_names_of() takes a tabular expression")
        return constant([name for name, _ in inner.fn(()).columns], "dynamic")
