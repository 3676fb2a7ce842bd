"""summarize: grouping rows and planning each aggregate item of summarize (and of make-series,
top-nested and pivot, which plan their aggregates the same way).

A mixin of ``Evaluator``, kept apart because the planning of aggregate calls (lifting them out of
an expression, checking their arguments as Kusto's binder does, naming their columns) is a
subject of its own.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Callable, Iterable

from dac.kql import ast
from dac.kql import values as V
from dac.kql.aggregates import (
    AGGREGATES, MULTI_COLUMN, NUMERIC_AGGREGATES, PERCENTS_FROM, TAKE_ANY, ArgExtreme, TakeAny, argument_problem,
    numeric_guard)
from dac.kql.aggregates_stats import WeightedPercentiles
from dac.kql.builtins import refused
from dac.kql.expressions import (
    Compiled,
    ExpressionCompiler,
    aggregate_name,
    derive_name,
    is_aggregate_call,
    semantic,
    unsupported,
)
from dac.kql.naming import ColumnCounter, unique_names
from dac.kql.table import Table

if TYPE_CHECKING:
    from dac.kql.scope import Scope


class Summarizing:
    """The summarize operator and its aggregate plans (mixed into ``Evaluator``)."""

    def op_Summarize(self, node: ast.Summarize, table: Table, scope: Scope,
                     rows: Iterable[tuple] | None = None) -> Table:
        """summarize over ``table``, or over ``rows`` of ``table``'s shape as they stream in (one pass)."""
        compiler = self.compiler(table, scope)
        counter = ColumnCounter([])
        key_columns: list[tuple[str, str]] = []
        explicit: list[bool] = []
        key_fns = []
        for item in node.by:
            compiled = compiler.compile(item.expr)
            name = item.names[0] if item.names else (derive_name(item.expr) or counter.next())
            key_columns.append((name, compiled.type))
            explicit.append(bool(item.names) or isinstance(item.expr, ast.Name))
            key_fns.append(compiled.fn)
        key_names = {n for n, _ in key_columns}
        plans = [self.plan_aggregate(item, compiler, table, key_names, counter) for item in node.aggregates]
        groups: dict[tuple, tuple[tuple, list]] = {}
        # Scalar keys hash as they are (within one column the type is fixed); dynamic keys
        # (arrays, bags) need a content-based hashable form.
        plain_keys = all(kind != "dynamic" for _, kind in key_columns)
        for row in table.rows if rows is None else rows:
            key_values = tuple([f(row) for f in key_fns])
            key = key_values if plain_keys else tuple([V.hashable(v) for v in key_values])
            entry = groups.get(key)
            if entry is None:
                entry = (key_values, [plan.new() for plan in plans])
                groups[key] = entry
            for plan, state in zip(plans, entry[1]):
                plan.add(state, row)
        if not node.by and not groups:
            groups[()] = ((), [plan.new() for plan in plans])
        columns = list(key_columns)
        for plan in plans:
            columns.extend(plan.columns)
            explicit.extend(plan.explicit)
        columns = unique_names(node, columns, explicit)
        rows = []
        for key_values, states in groups.values():
            row = list(key_values)
            for plan, state in zip(plans, states):
                row.extend(plan.result(state))
            rows.append(tuple(row))
        return Table(columns, rows)

    def plan_aggregate(self, item: ast.Assignment, compiler: ExpressionCompiler, table: Table,
                       key_names: set[str], counter: "ColumnCounter") -> "_AggregatePlan":
        expr = item.expr
        if isinstance(expr, ast.Call) and (expr.name in MULTI_COLUMN or expr.name in TAKE_ANY):
            return self.plan_multi(item, expr, compiler, table, key_names, counter)
        if isinstance(expr, ast.Call) and expr.name in ("percentiles", "percentilesw"):
            return self.plan_percentiles(item, expr, compiler)
        slots: list[tuple[Any, list[Callable], list[Any]]] = []
        names: list[str] = []

        def lift(node: ast.Expr) -> ast.Expr:
            if isinstance(node, ast.Call) and node.name in AGGREGATES:
                spec = AGGREGATES[node.name]
                count = len(node.args)
                if not spec.min_args <= count <= spec.max_args:
                    raise semantic(node, f"aggregate '{node.name}()' takes {spec.min_args} to {spec.max_args} argument(s), got {count}")
                value_args = node.args[: spec.min_args] if spec.min_args else node.args[:1] if node.name == "count" else []
                if node.name == "count":
                    value_args = []
                compiled = [compiler.compile(a) for a in value_args]
                every = [compiler.compile(a) for a in node.args]
                problem = argument_problem(node.name, [c.type for c in every])
                if problem is not None:
                    index, message, refused = problem
                    raise (unsupported if refused else semantic)(node.args[index], message)
                first = PERCENTS_FROM.get(node.name)
                for arg, percent in zip(node.args[first or count:], every[first or count:]):
                    if not percent.const:
                        raise semantic(arg, f"{node.name}() needs constant percents")
                extra = [c.fn(()) if c.const else None for c in every]
                for position in range(PERCENTS_FROM.get(node.name, len(extra)), len(extra)):
                    if isinstance(extra[position], float) and not math.isfinite(extra[position]):
                        raise unsupported(node.args[position], f"{node.name}(): a percent that is not finite is not "
                                                               "reproduced: the page defines percents from 0 to 100")
                fns = [c.fn for c in compiled]
                if node.name in NUMERIC_AGGREGATES and compiled and compiled[0].type == "dynamic":
                    fns[0] = numeric_guard(node.name, fns[0], node.args[0])
                slot_name = f"$agg{len(slots)}"
                slots.append((spec, fns, extra, spec.result([c.type for c in compiled])))
                names.append(aggregate_name(node))
                return ast.Name(slot_name, line=node.line, column=node.column)
            if isinstance(node, ast.Call) and is_aggregate_call(node):
                raise unsupported(node, f"'{node.name}()' must be the whole summarize expression")
            if isinstance(node, ast.Binary):
                return ast.Binary(node.op, lift(node.left), lift(node.right), line=node.line, column=node.column)
            if isinstance(node, ast.Unary):
                return ast.Unary(node.op, lift(node.operand), line=node.line, column=node.column)
            if isinstance(node, ast.Call):
                return ast.Call(node.name, [lift(a) for a in node.args], line=node.line, column=node.column)
            if isinstance(node, (ast.Member, ast.Index)):
                lifted = lift(node.target)
                if isinstance(node, ast.Member):
                    return ast.Member(lifted, node.name, line=node.line, column=node.column)
                return ast.Index(lifted, lift(node.index), line=node.line, column=node.column)
            return node

        lifted = lift(expr)
        if not slots:
            calls = [node for node in expr.walk() if isinstance(node, ast.Call)]
            for call in calls:  # Kusto's aggregate (or function), not implemented here: refused, with why
                error = refused(call, call.name, "aggregate", "scalar")
                if error is not None:
                    raise error
            raise semantic(expr, "summarize expects an aggregate function such as count() or make_set()")
        extra = {f"$agg{i}": Compiled((lambda i: lambda row: row[i])(i), slot[3]) for i, slot in enumerate(slots)}
        final = ExpressionCompiler(self, [], compiler.scope, extra).compile(lifted)
        name = item.names[0] if item.names else (names[0] if isinstance(lifted, ast.Name) else counter.next())
        return _AggregatePlan(slots, final, [(name, final.type)], explicit=[bool(item.names)])

    def plan_percentiles(self, item: ast.Assignment, call: ast.Call, compiler: ExpressionCompiler) -> "_AggregatePlan":
        """percentiles(x, p1, ...) and percentilesw(x, weight, p1, ...) give columns percentile_x_p1, ...
        (names may be given as a tuple)."""
        first = PERCENTS_FROM[call.name]
        if len(call.args) <= first:
            raise semantic(call, f"{call.name}() takes a value{', a weight' if first > 1 else ''} and at least one percent")
        compiled = [compiler.compile(arg) for arg in call.args]
        problem = argument_problem("percentilew" if first > 1 else "percentile", [c.type for c in compiled[:first]])
        if problem is not None:
            raise (unsupported if problem[2] else semantic)(call.args[problem[0]],
                                                            problem[1].replace("percentile", call.name, 1))
        percents = []
        for arg, percent in zip(call.args[first:], compiled[first:]):
            if not percent.const or percent.type not in ("int", "long", "real", "decimal"):
                raise semantic(arg, f"{call.name}() needs constant numbers as percents")
            percents.append(float(V.to_real(percent.fn(()))))
            if not math.isfinite(percents[-1]):
                raise unsupported(arg, f"{call.name}(): a percent that is not finite is not reproduced: the page "
                                       "defines percents from 0 to 100")
        base = derive_name(call.args[0]) or ""
        names = [f"percentile_{base}_{V.format_real(p).replace('.', '_')}" for p in percents]
        given = list(item.names)
        value_type = compiled[0].type
        columns = [(given[i] if i < len(given) else name, value_type) for i, name in enumerate(names)]
        explicit = [i < len(given) for i in range(len(columns))]
        fns = [c.fn for c in compiled[:first]]
        if value_type == "dynamic":
            fns[0] = numeric_guard(call.name, fns[0], call.args[0])
        return _AggregatePlan([(None, fns, lambda: WeightedPercentiles(percents, first > 1, True), None)], None,
                              columns, multi=True, explicit=explicit)

    def plan_multi(self, item: ast.Assignment, call: ast.Call, compiler: ExpressionCompiler, table: Table,
                   key_names: set[str], counter: "ColumnCounter") -> "_AggregatePlan":
        """arg_max(by, cols...), arg_min, take_any(cols...), any(cols...): several columns from one row.

        Names follow the official binder: arg_max's first column keeps its name
        (``max_`` when it has none), ``any`` prefixes ``any_``, ``take_any`` keeps
        names; ``*`` stands for every input column but the by-keys.
        """
        if not call.args:
            raise semantic(call, f"'{call.name}()' needs at least one argument")
        is_arg = call.name in MULTI_COLUMN
        exprs: list[tuple[str | None, ast.Expr]] = []
        for position, arg in enumerate(call.args):
            if isinstance(arg, ast.Star):
                taken = {n for n, _ in exprs}
                exprs.extend((n, ast.Name(n)) for n, _ in table.columns if n not in key_names and n not in taken)
                continue
            derived = derive_name(arg)
            if is_arg and position == 0 and derived is None:
                derived = "max_" if MULTI_COLUMN[call.name] else "min_"
            elif call.name == "any":
                derived = "any_" + (derived or "")
            exprs.append((derived, arg))
        compiled = [compiler.compile(e) for _, e in exprs]
        given = list(item.names)
        columns = []
        for index, ((name, _), c) in enumerate(zip(exprs, compiled)):
            columns.append((given[index] if index < len(given) else name or counter.next(), c.type))
        fns = [c.fn for c in compiled]
        largest = MULTI_COLUMN.get(call.name, True)
        factory = (lambda: ArgExtreme(largest)) if is_arg else TakeAny
        explicit = [index < len(given) for index in range(len(columns))]
        return _AggregatePlan([(None, fns, factory, None)], None, columns, multi=True, explicit=explicit)


class _AggregatePlan:
    """One summarize item: accumulators for its aggregate calls and the expression over their results."""

    def __init__(self, slots: list, final: Compiled | None, columns: list[tuple[str, str]], multi: bool = False,
                 explicit: list[bool] | None = None) -> None:
        self.slots = slots
        self.final = final
        self.columns = columns
        self.multi = multi
        self.explicit = explicit or [False] * len(columns)

    def new(self) -> list:
        if self.multi:
            return [self.slots[0][2]()]
        return [spec.factory(extra) for spec, _fns, extra, _type in self.slots]

    def add(self, state: list, row: tuple) -> None:
        if self.multi:
            state[0].add([f(row) for f in self.slots[0][1]])
            return
        for accumulator, (_spec, fns, _extra, _type) in zip(state, self.slots):
            accumulator.add([f(row) for f in fns])

    def result(self, state: list) -> list:
        if self.multi:
            values = state[0].result()
            values = list(values) if values is not None else [None] * len(self.columns)
        else:
            values = [self.final.fn(tuple(accumulator.result() for accumulator in state))]
        # a string is never null in Kusto: an aggregate with nothing to give (maxif, take_anyif, arg_max
        # over no rows) gives ""
        return ["" if value is None and kind == "string" else value for value, (_, kind) in zip(values, self.columns)]
