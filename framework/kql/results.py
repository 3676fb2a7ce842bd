"""Queries with several result tables: fork, facet, the preview plugin and batches of statements.

Kusto returns one result table per tabular expression statement of a batch
(https://learn.microsoft.com/kusto/query/batches), and some operators end a
statement with several: fork one per subquery
(https://learn.microsoft.com/kusto/query/fork-operator), facet one for its
``with`` clause and one per column (https://learn.microsoft.com/kusto/query/facet-operator),
the preview plugin its rows and their count
(https://learn.microsoft.com/kusto/query/preview-plugin). ``evaluate(...,
as_tables=True)`` returns them all (``Evaluator.run_tables``); a plain
``evaluate()`` keeps returning one table and refuses such a query at the
operator rather than silently dropping tables.

A table is named only where a page says so: a fork leg by its ``name=`` or a
trailing ``as``, a batch statement by a trailing ``as``. The names Kusto gives
unnamed tables are not on any page, so those tables have no name here.

Such an operator can only end a statement: the preview page says operators
after it fail the query, the facet page that its tables cannot be referenced by
further operators. dac refuses it anywhere else (after another operator, inside
a let or a subquery), except in check mode, where it stands for its first
table, as the official binder takes it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from dac.errors import did_you_mean
from dac.kql import ast
from dac.kql.budget import operator_name
from dac.kql.compiled import semantic, unsupported
from dac.kql.table import Table

if TYPE_CHECKING:
    from dac.kql.evaluator import Evaluator
    from dac.kql.scope import Scope

# The plugins of several result tables and how many each returns (their pages' "Returns").
PLUGIN_TABLES = {"preview": 2}

# The operators a fork subquery may hold: the page's list, plus those the official binder also
# accepts there (distinct, invoke, limit, order, parse-where, parse-kv, project-by-names, sample,
# sample-distinct, top-hitters); it reports any other as "not allowed in the current context".
_FORK_OPERATORS = (ast.As, ast.Count, ast.Distinct, ast.Extend, ast.Invoke, ast.MvExpand, ast.Parse, ast.ParseKv,
                   ast.Project, ast.ProjectAway, ast.ProjectKeep, ast.ProjectRename, ast.ProjectReorder,
                   ast.ProjectByNames, ast.SampleDistinct, ast.Sort, ast.Summarize, ast.Take, ast.Top,
                   ast.TopHitters, ast.TopNested, ast.Where)
_FORK_GENERIC = frozenset({"sample", "reduce"})


def table_count(node: ast.Node | None) -> int | None:
    """How many result tables ``node`` returns when it is an operator of several, else None."""
    if isinstance(node, ast.Fork):
        return len(node.legs)
    if isinstance(node, ast.Facet):
        return len(node.columns) + (node.with_operators is not None)
    if isinstance(node, ast.Evaluate):
        return PLUGIN_TABLES.get(node.call.name)
    return None


def spelled(node: ast.Operator) -> str:
    """The operator as the query writes it: fork, facet, or the plugin's name."""
    return node.call.name if isinstance(node, ast.Evaluate) else operator_name(node)


# Where one table is wanted: a rule's test (its expectation is one table) and a plain evaluate().
_ONE_TABLE = ("a rule's test and dac's evaluate() work on one result table (evaluate(..., as_tables=True) "
              "returns them all)")


def refuse_several(body: ast.QueryBody) -> Exception:
    """The error of a query of several result tables asked for one: at the operator that makes them,
    else (a batch) at its first statement."""
    statements = [s for s in body.statements if isinstance(s, ast.Pipeline)]
    for statement in statements:
        last = statement.operators[-1] if statement.operators else None
        count = table_count(last)
        if count is not None and count > 1:
            return unsupported(last, f"'{spelled(last)}' returns {count} result tables; {_ONE_TABLE}")
    return unsupported(statements[0], f"the query is a batch of {len(statements)} tabular statements, each a "
                                      f"result table; {_ONE_TABLE}")


def refuse_placement(node: ast.Operator, count: int) -> Exception:
    """The error of an operator of several tables that does not end a statement."""
    return unsupported(node, f"'{spelled(node)}' returns {count} result tables, so dac runs it only as the last "
                             "operator of a statement: no operator may follow it and it cannot be a tabular value")


def trailing_name(operators: list[ast.Operator]) -> str | None:
    """The name a trailing ``as`` gives the result table (fork page's note, batches page's example)."""
    return operators[-1].name if operators and isinstance(operators[-1], ast.As) else None


def several(evaluator: "Evaluator", node: ast.Operator, table: Table, scope: "Scope") -> list[Table]:
    """The result tables of the operator of several tables ``node`` over its input ``table``."""
    if isinstance(node, ast.Fork):
        return fork(evaluator, node, table, scope)
    if isinstance(node, ast.Facet):
        return facet(evaluator, node, table, scope)
    return preview(evaluator, node.call, table, scope)


def fork(evaluator: "Evaluator", node: ast.Fork, table: Table, scope: "Scope") -> list[Table]:
    """One table per subquery, each run over the whole input, in the order the legs are written."""
    for leg in node.legs:
        for operator in leg.operators:
            allowed = isinstance(operator, _FORK_OPERATORS) or (
                isinstance(operator, ast.Generic) and operator.name in _FORK_GENERIC)
            if not allowed:
                raise semantic(operator, f"the query operator '{spelled(operator)}' is not allowed in a fork "
                                         "subquery (https://learn.microsoft.com/kusto/query/fork-operator)")
    results = []
    for leg in node.legs:
        result = evaluator.apply_operators(table, leg.operators, scope)
        results.append(replace(result, name=leg.name or trailing_name(leg.operators)))
    return results


def facet(evaluator: "Evaluator", node: ast.Facet, table: Table, scope: "Scope") -> list[Table]:
    """The ``with`` table first, then per column its values and their counts (``count_<Column>``).

    The page's example shows the order (with clause, then the columns in the
    order given) and that the counts are over the whole input, not the with
    clause's rows; a column's table is ``summarize count_C = count() by C``.
    """
    index = table.index()
    types = dict(table.columns)
    for position, column in enumerate(node.columns):
        if column not in index and not table.is_open:
            raise semantic(node, f"facet: unknown column '{column}'{did_you_mean(column, table.names)}")
        if types.get(column) == "dynamic":
            raise semantic(node, f"facet: column '{column}' is dynamic, which facet cannot group by")
    results = [evaluator.apply_operators(table, node.with_operators, scope)] if node.with_operators is not None else []
    for column in node.columns:
        at = {"line": node.line, "column": node.column}
        count = ast.Assignment([f"count_{column}"], ast.Call("count", [], **at), **at)
        key = ast.Assignment([], ast.Name(column, **at), **at)
        results.append(evaluator.op_Summarize(ast.Summarize([count], [key], **at), table, scope))
    return results


def preview(evaluator: "Evaluator", call: ast.Call, table: Table, scope: "Scope") -> list[Table]:
    """Up to NumberOfRows rows of the input, then its row count (``T | take N`` and ``T | count``)."""
    if len(call.args) != 1:
        raise semantic(call, "preview() takes one argument: the number of rows (an integer)")
    count = evaluator._count(call.args[0], scope)
    return [Table(table.columns, table.rows[:count], table.ordered), Table([("Count", "long")], [(len(table.rows),)])]
