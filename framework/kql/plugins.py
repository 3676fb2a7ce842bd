"""The registry of the plugins that are not methods of the evaluator, and what their code shares.

A plugin is a function ``(evaluator, call, table, scope) -> Table`` registered by name with
``@plugin``; ``evaluate name(...)`` runs it on the pipe's table (evaluator.op_Evaluate
dispatches). The modules that register plugins are imported at the end of this one, so
importing the registry is enough to fill it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from dac.kql import ast
from dac.kql.compiled import semantic
from dac.kql.table import Table

if TYPE_CHECKING:
    from dac.kql.evaluator import Evaluator
    from dac.kql.scope import Scope

PluginFn = Callable[["Evaluator", ast.Call, Table, "Scope"], Table]
PLUGIN_FUNCTIONS: dict[str, PluginFn] = {}


def plugin(name: str) -> Callable[[PluginFn], PluginFn]:
    """Register the decorated function as the plugin ``name``."""
    def register(fn: PluginFn) -> PluginFn:
        PLUGIN_FUNCTIONS[name] = fn
        return fn
    return register


def split_arguments(call: ast.Call) -> tuple[list[ast.Expr], dict[str, ast.Expr]]:
    """The positional arguments and the ``name = value`` ones of a plugin call."""
    positional = [a for a in call.args if not (isinstance(a, ast.Call) and a.name == "$named")]
    named = {str(a.args[0].value): a.args[1] for a in call.args if isinstance(a, ast.Call) and a.name == "$named"}
    return positional, named


def positional_arguments(call: ast.Call, table: Table, minimum: int, usage: str) -> list[ast.Expr] | None:
    """The arguments of a plugin that takes no named ones and at least ``minimum`` positional ones
    (else a semantic error saying it takes ``usage``); None over an open table, whose output is open."""
    positional, named = split_arguments(call)
    if named or len(positional) < minimum:
        raise semantic(call, f"{call.name}() takes {usage}")
    return None if table.is_open else positional


def column_position(table: Table, expr: ast.Expr, what: str) -> int:
    """The position in ``table`` of the column ``expr`` names; a plugin's key arguments are column names."""
    if not isinstance(expr, ast.Name):
        raise semantic(expr, f"{what} must be a column name")
    index = table.index()
    if expr.name not in index:
        raise semantic(expr, f"unknown column '{expr.name}'")
    return index[expr.name]


def constant_value(evaluator: "Evaluator", expr: ast.Expr, scope: "Scope", what: str, types: tuple[str, ...],
                   table: Table | None = None) -> Any:
    """The value of a constant argument of one of ``types`` (a let-bound scalar counts as constant);
    compiled over ``table``'s columns when given, so that naming a column says it is no constant."""
    from dac.kql.expressions import ExpressionCompiler

    compiled = ExpressionCompiler(evaluator, table.columns if table else [], scope).compile(expr)
    if not compiled.const or compiled.type not in types:
        raise semantic(expr, f"{what} must be a constant {' or '.join(types)}")
    return compiled.fn(())


from dac.kql import plugins_activity, plugins_ip_lookup, plugins_rolling, plugins_rows  # noqa: E402,F401  (they register themselves)
