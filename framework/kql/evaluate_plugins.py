"""The evaluate operator and the plugins the evaluator runs as its own methods: bag_unpack (with
an output schema) and pivot.

A mixin of ``Evaluator``: ``op_Evaluate`` dispatches to a ``plugin_<name>`` method here, else to
a plugin registered in ``dac.kql.plugins``. These two stay methods because they use the
evaluator's own machinery (bag_unpack's output schema, pivot's aggregate plans).
"""

from __future__ import annotations

from typing import Any

from dac.errors import did_you_mean
from dac.kql import ast, bag_unpack
from dac.kql import values as V
from dac.kql import budget as B
from dac.kql.builtins import refused
from dac.kql.expressions import ExpressionCompiler, semantic, unsupported
from dac.kql.plugins import PLUGIN_FUNCTIONS
from dac.kql.naming import ColumnCounter
from dac.kql.table import OPEN_COLUMN, Table
from dac.kql.scope import Scope


class PluginOperators:
    """evaluate and its built-in plugins (mixed into ``Evaluator``)."""

    def op_Evaluate(self, node: ast.Evaluate, table: Table, scope: Scope) -> Table:
        plugin = getattr(self, "plugin_" + node.call.name, None)
        if plugin is None and node.call.name in PLUGIN_FUNCTIONS:
            return PLUGIN_FUNCTIONS[node.call.name](self, node.call, table, scope)
        if plugin is None:
            if self.check:
                return table.opened()
            raise refused(node.call, node.call.name, "plugin") or unsupported(
                node.call, f"plugin '{node.call.name}' is not supported by the evaluator")
        if node.schema is not None:
            if node.call.name != "bag_unpack":
                raise unsupported(node.call, f"an output schema after '{node.call.name}' is not supported by the evaluator")
            return self.plugin_bag_unpack(node.call, table, scope, node.schema, node.schema_keeps_input)
        return plugin(node.call, table, scope)

    def plugin_bag_unpack(self, call: ast.Call, table: Table, scope: Scope,
                          schema: list[tuple[str, str]] | None = None, keep_input: bool = False) -> Table:
        positional = [a for a in call.args if not (isinstance(a, ast.Call) and a.name == "$named")]
        named = {str(a.args[0].value): a.args[1] for a in call.args if isinstance(a, ast.Call) and a.name == "$named"}
        if not positional or not isinstance(positional[0], ast.Name):
            raise semantic(call, "bag_unpack() takes the dynamic column to unpack")
        column = positional[0].name
        index = table.index()
        if column not in index:
            raise semantic(positional[0], f"unknown column '{column}'")
        prefix_arg = named.pop("OutputColumnPrefix", positional[1] if len(positional) > 1 else None)
        if len(positional) > 2 or named:  # columnsConflict, ignoredProperties
            if self.check:
                return table.opened()
            raise unsupported(call, "bag_unpack(): only the column and OutputColumnPrefix arguments are "
                                    "supported by the evaluator")
        prefix = ""
        if prefix_arg is not None:
            prefix = V.to_string(ExpressionCompiler(self, [], scope).compile(prefix_arg).fn(()))
        if self.check and schema is None:  # the bags' keys are only known from rows: any column may follow
            position = index[column]
            return Table([c for i, c in enumerate(table.columns) if i != position]).opened()
        unpacked, added = bag_unpack.unpack(table, index[column], prefix)
        self.budget.value_bytes(len(table.rows) * len(added) * B.ITEM_BYTES, call)  # a cell per row and key
        kept = len(table.columns) - 1
        existing = set(unpacked.names[:kept])
        clash = next((name for name in added if name in existing), None)
        if clash is not None:
            raise semantic(call, f"bag_unpack: column '{clash}' already exists")
        if schema is None:
            return unpacked
        retyped = next((name for name, _ in schema if keep_input and name in existing), None)
        if retyped is not None:
            raise unsupported(call, f"bag_unpack: an output schema column naming the input column '{retyped}' "
                                    "is not supported by the evaluator")
        return bag_unpack.apply_schema(unpacked, kept, schema, keep_input)

    def plugin_pivot(self, call: ast.Call, table: Table, scope: Scope) -> Table:
        if not call.args or not isinstance(call.args[0], ast.Name):
            raise semantic(call, "pivot() takes the pivot column first")
        pivot_name = call.args[0].name
        if table.is_open:
            return Table([OPEN_COLUMN])  # check mode after an operator with unknown output: so is this one's
        index = table.index()
        if pivot_name not in index:
            raise semantic(call.args[0], f"unknown column '{pivot_name}'")
        aggregate = call.args[1] if len(call.args) > 1 else ast.Call("count", [], line=call.line, column=call.column)
        group_args = [a for a in call.args[2:] if isinstance(a, ast.Name)]
        for arg in group_args:
            if arg.name not in index:
                raise semantic(arg, f"unknown column '{arg.name}'{did_you_mean(arg.name, table.names)}")
        group_names = [a.name for a in group_args]
        if len(call.args) == 1:
            group_names = [n for n in table.names if n != pivot_name]
        pivot_position = index[pivot_name]
        pivot_values: list[Any] = []
        for row in table.rows:
            if row[pivot_position] not in pivot_values:
                pivot_values.append(row[pivot_position])
        compiler = self.compiler(table, scope)
        plan = self.plan_aggregate(ast.Assignment([], aggregate), compiler, table, set(group_names), ColumnCounter([]))
        group_positions = [index[n] for n in group_names]
        groups: dict[tuple, dict[Any, Any]] = {}
        keys: dict[tuple, tuple] = {}
        for row in table.rows:
            key_values = tuple(row[i] for i in group_positions)
            key = tuple(V.hashable(v) for v in key_values)
            keys.setdefault(key, key_values)
            states = groups.setdefault(key, {})
            pivot = V.hashable(row[pivot_position])
            if pivot not in states:
                states[pivot] = plan.new()
            plan.add(states[pivot], row)
        result_type = plan.columns[0][1]
        columns = [table.columns[i] for i in group_positions] + [(V.to_string(v), result_type) for v in pivot_values]
        rows = []
        for key, states in groups.items():
            values = []
            for v in pivot_values:
                state = states.get(V.hashable(v))
                values.append(plan.result(state)[0] if state is not None else (0 if result_type == "long" else None))
            rows.append(keys[key] + tuple(values))
        return Table(columns, rows)
