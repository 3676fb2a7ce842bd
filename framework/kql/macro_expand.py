"""The ``macro-expand`` operator (https://learn.microsoft.com/kusto/query/macro-expand-operator).

The subquery runs once per entity of the group, with the entity identifier
standing for that entity, and the results are unioned (``kind=outer`` by
default: every column of any result; ``inner``: the columns all share). The
evaluator has tables and nothing above them, so it expands an inline
``entity_group [...]`` of tables (input tables or tabular lets). Entities that
are clusters or databases, and stored entity groups, live in a Kusto cluster:
they are refused as unsupported. ``isfuzzy=true`` leaves out entities that do
not resolve; with none left, the query fails, as the page says.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dac.kql import ast
from dac.kql.compiled import semantic, unsupported
from dac.kql.errors import KqlUnresolvedName
from dac.kql.table import OPEN_COLUMN, Table
from dac.kql.scope import Binding, Scope

if TYPE_CHECKING:
    from dac.kql.evaluator import Evaluator

KINDS = ("outer", "inner")


def macro_expand(evaluator: "Evaluator", node: ast.MacroExpand, scope: "Scope") -> Table:
    kind = str(node.params.get("kind", "outer")).lower()
    if kind not in KINDS:
        raise semantic(node, f"unknown macro-expand kind '{kind}'; expected outer or inner")
    fuzzy = str(node.params.get("isfuzzy", "false")).lower() == "true"
    if node.group is not None:
        if evaluator.check:
            return Table([OPEN_COLUMN])
        raise unsupported(node, f"macro-expand over the entity group '{node.group}': stored and let-defined entity "
                                "groups are not supported by the evaluator; list the tables in entity_group [...]")
    results: list[Table] = []
    for entity in node.entities:
        if not isinstance(entity, ast.Name):
            raise unsupported(entity, "a macro-expand entity must be a table name here: clusters and databases "
                                      "are Kusto entities the evaluator does not have")
        try:
            table = evaluator.table_from_expr(entity, scope)
        except KqlUnresolvedName:
            if fuzzy:
                continue
            raise
        inner = scope.child()
        inner.bindings[node.name] = Binding(node.name, entity, inner, table, True)
        results.append(evaluator.eval_pipeline(node.subquery, inner))
    if not results:
        raise semantic(node, "macro-expand found none of the entities of its group")
    return evaluator.union(results, ast.Union({"kind": kind}, [], line=node.line, column=node.column), scope)
