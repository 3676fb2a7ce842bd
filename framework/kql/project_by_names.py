"""The ``project-by-names`` operator (https://learn.microsoft.com/kusto/query/project-by-names-operator).

Keeps the columns its specifiers name, in the order they are specified or matched. A specifier is a
constant string (a column name, or a pattern with ``*``) or a dynamic array of such strings, such as
``column_names_of(T)`` or a function's dynamic parameter; names that match no column are ignored, as
the page says. What the page leaves open is refused rather than guessed: a specifier of another type,
an array element that is not a string, and a column specified or matched twice (Kusto might drop,
rename or reject the repeat).
"""

from __future__ import annotations

import fnmatch
from typing import TYPE_CHECKING

from dac.kql import ast
from dac.kql.compiled import unsupported
from dac.kql.expressions import ExpressionCompiler
from dac.kql.table import Table, keep_ingestion

if TYPE_CHECKING:
    from dac.kql.evaluator import Evaluator
    from dac.kql.scope import Scope


def project_by_names(evaluator: "Evaluator", node: ast.ProjectByNames, table: Table, scope: "Scope") -> Table:
    order: list[int] = []
    for spec in node.specs:
        for pattern in _patterns(evaluator, spec, scope):
            for i, (name, _) in enumerate(table.columns):
                if fnmatch.fnmatchcase(name, pattern):
                    if i in order:
                        raise unsupported(spec, f"project-by-names: column '{name}' is specified twice, "
                                                "which the page does not define")
                    order.append(i)
    columns = [table.columns[i] for i in order]
    rows = [tuple(row[i] for i in order) for row in table.rows]
    return Table(columns, keep_ingestion(table.rows, rows), table.ordered)


def _patterns(evaluator: "Evaluator", spec: ast.Expr, scope: "Scope") -> list[str]:
    """The column names or patterns one specifier stands for, evaluated once, outside any row."""
    compiled = ExpressionCompiler(evaluator, [], scope).compile(spec)
    value = compiled.fn(())
    if compiled.type == "string":
        return [value]
    if compiled.type == "dynamic" and isinstance(value, list):
        if not all(isinstance(item, str) for item in value):
            raise unsupported(spec, "project-by-names takes a dynamic array of column names (strings)")
        return list(value)
    raise unsupported(spec, f"project-by-names takes column names as strings or a dynamic array of strings, "
                            f"found {compiled.type}")
