"""The operators besides summarize that group rows and aggregate each group: make-series and
top-nested.

A mixin of ``Evaluator``: both plan their aggregates as summarize does (``Summarizing``) and then
lay the groups out their own way, as arrays over bins or as nested top-N levels.
"""

from __future__ import annotations

from typing import Any

from dac.kql import ast
from dac.kql import values as V
from dac.kql.aggregates import AGGREGATES
from dac.kql.functions_math import bin_value
from dac.kql.expressions import Compiled, ExpressionCompiler, derive_name, semantic, unsupported
from dac.kql.naming import ColumnCounter, unique_names
from dac.kql.table import Table
from dac.kql.scope import Scope


class GroupingOperators:
    """make-series and top-nested (mixed into ``Evaluator``)."""

    def op_MakeSeries(self, node: ast.MakeSeries, table: Table, scope: Scope) -> Table:
        """make-series (https://learn.microsoft.com/kusto/query/make-series-operator).

        One row per by-group: the by columns, one array per aggregate (a value per bin,
        the default where a bin has no rows) and the axis as the array of bin starts.
        Bins run from ``from`` (else the first bin with data) up to, not including,
        ``to`` (else through the last bin with data); rows outside are ignored.
        """
        compiler = self.compiler(table, scope)
        axis = compiler.compile(node.on)
        axis_name = derive_name(node.on)
        if axis_name is None:
            raise semantic(node.on, "make-series needs a column on its axis ('on Column')")
        constant_of = lambda key: ExpressionCompiler(self, [], scope).compile(node.range[key]).fn(()) if key in node.range else None
        step, start, stop = constant_of("step"), constant_of("from"), constant_of("to")
        if step is None or not step > step * 0:
            raise semantic(node, "make-series needs a positive step")
        counter = ColumnCounter([])
        keys = []
        key_columns = []
        for item in node.by:
            compiled = compiler.compile(item.expr)
            keys.append(compiled.fn)
            key_columns.append((item.names[0] if item.names else (derive_name(item.expr) or counter.next()), compiled.type))
        plans: list[Any] = []  # an aggregate plan, or a constant's Compiled
        names, defaults = [], []
        for item in node.aggregates:
            expr, default = item.expr, None
            if isinstance(expr, ast.Call) and expr.name == "$default":
                expr, default = expr.args
            if not any(isinstance(n, ast.Call) and n.name in AGGREGATES for n in expr.walk()):
                # a constant in place of an aggregate is its value in each bin with rows, the default in
                # the others (make-series page: other=-1 default=-2; the official binder accepts a
                # constant, and names an unnamed one Column1, but not a column: "not an aggregate")
                constant_value = compiler.compile(expr)
                if not constant_value.const:
                    raise semantic(expr, "make-series expects an aggregate function or a constant")
                plans.append(constant_value)
                names.append(item.names[0] if item.names else counter.next())
            else:
                plan = self.plan_aggregate(ast.Assignment(item.names, expr), compiler, table, set(), counter)
                plans.append(plan)
                names.append(plan.columns[0][0])
            defaults.append(ExpressionCompiler(self, [], scope).compile(default).fn(()) if default is not None else 0)
        axis_values = [axis.fn(row) for row in table.rows]
        present = [v for v in axis_values if v is not None]
        if start is None:
            start = bin_value(min(present), step) if present else None
        if stop is None and present:
            stop = bin_value(max(present), step) + step
        bins = 0
        if start is not None and stop is not None:
            while start + step * bins < stop and bins <= self.budget.limits.series_points:
                bins += 1
        groups: dict[tuple, tuple[tuple, list[dict[int, list]]]] = {}
        for row, value in zip(table.rows, axis_values):
            key_values = tuple(f(row) for f in keys)
            entry = groups.setdefault(tuple(V.hashable(v) for v in key_values), (key_values, [{} for _ in plans]))
            if value is None or start is None or value < start or value >= stop:
                continue
            index = int((value - start) / step)
            for plan, states in zip(plans, entry[1]):
                if isinstance(plan, Compiled):
                    states[index] = plan
                    continue
                state = states.setdefault(index, plan.new())
                plan.add(state, row)
        columns = key_columns + [(name, "dynamic") for name in names] + [(axis_name, "dynamic")]
        self.budget.points(max(len(groups), 1) * bins * (len(names) + 1), node)  # each group's arrays and its axis
        axis_array = [start + step * i for i in range(bins)]
        rows = []
        for key_values, per_plan in groups.values():
            series = []
            for plan, states, default in zip(plans, per_plan, defaults):
                series.append([default if i not in states else plan.fn(()) if isinstance(plan, Compiled)
                               else plan.result(states[i])[0] for i in range(bins)])
            rows.append(key_values + tuple(series) + (list(axis_array),))
        if not groups and str(node.params.get("kind", "")).lower() == "nonempty":
            # kind=nonempty "produces a default result when the input of make-series operator is empty":
            # one row of defaults; the page does not say what its by columns would hold
            if key_columns:
                raise unsupported(node, "make-series kind=nonempty over an empty input with by columns is not supported")
            rows.append(tuple([default] * bins for default in defaults) + (list(axis_array),))
        return Table(unique_names(node, columns, [False] * len(columns)), rows)

    def op_TopNested(self, node: ast.TopNested, table: Table, scope: Scope) -> Table:
        """top-nested (https://learn.microsoft.com/kusto/query/top-nested-operator): at each level,
        group the rows of the parent group by the ``of`` value, aggregate, keep the top N; one
        output row per leaf with each level's value and aggregate (``aggregated_<of>``).

        ``with others = C`` follows the page's multi-level StormEvents example: where a level
        drops values and that level or a deeper one has ``with others``, the dropped rows of
        the group become one more row. In it, each level from that one down that has ``with
        others`` shows its C and the aggregate of the dropped rows; the other levels are empty
        (null aggregate). A group that drops nothing adds no row (the page does not show one).
        """
        compiler = self.compiler(table, scope)
        levels = []
        for level in node.levels:
            of = compiler.compile(level.of.expr)
            of_name = level.of.names[0] if level.of.names else (derive_name(level.of.expr) or "Column1")
            plan = self.plan_aggregate(ast.Assignment([], level.by.expr), compiler, table, set(), ColumnCounter([]))
            agg_name = level.by.names[0] if level.by.names else f"aggregated_{of_name}"
            count = self._count(level.count, scope) if level.count is not None else None
            others = None
            if level.others is not None:
                constant_others = ExpressionCompiler(self, [], scope).compile(level.others)
                if not constant_others.const:
                    raise semantic(level.others, "'with others' needs a constant value")
                others = (constant_others.fn(()),)
            levels.append((of, of_name, plan, agg_name, count, level.descending, others))
        others_below = [any(level[6] is not None for level in levels[depth:]) for depth in range(len(levels))]

        def aggregate(plan: Any, rows: list[tuple]) -> Any:
            state = plan.new()
            for row in rows:
                plan.add(state, row)
            return plan.result(state)[0]

        def others_row(rows: list[tuple], depth: int) -> tuple:
            cells: list[Any] = []
            for of, _, plan, _, _, _, others in levels[depth:]:
                if others is None:
                    cells += [V.default_value(of.type), None]
                else:
                    cells += [others[0], aggregate(plan, rows)]
            return tuple(cells)

        def expand(rows: list[tuple], depth: int) -> list[tuple]:
            if depth == len(levels):
                return [()]
            of, _, plan, _, count, descending, _ = levels[depth]
            groups: dict[Any, tuple[Any, list, list[tuple]]] = {}
            for row in rows:
                value = of.fn(row)
                entry = groups.setdefault(V.hashable(value), (value, plan.new(), []))
                plan.add(entry[1], row)
                entry[2].append(row)
            ranked = sorted(((value, plan.result(state)[0], members) for value, state, members in groups.values()),
                            key=lambda item: V.sort_key(item[1]), reverse=descending)
            kept, dropped = (ranked, []) if count is None else (ranked[:count], ranked[count:])
            out = []
            for value, aggregated, members in kept:
                out.extend((value, aggregated) + tail for tail in expand(members, depth + 1))
            if dropped and others_below[depth]:
                out.append(others_row([row for _, _, members in dropped for row in members], depth))
            return out

        columns = []
        for of, of_name, plan, agg_name, _, _, _ in levels:
            columns += [(of_name, of.type), (agg_name, plan.columns[0][1])]
        return Table(unique_names(node, columns, [False] * len(columns)), expand(table.rows, 0))
