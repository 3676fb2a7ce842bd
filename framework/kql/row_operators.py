"""The operators that filter, reshape, order and count the rows of one table: where, extend, the
project family, sort, top, take, count, distinct, serialize, as, render, getschema and sample.

A mixin of ``Evaluator`` (each ``op_<Node>`` method is dispatched by
``Evaluator.apply_operators``): each works on its input table alone, row by row or as a whole,
and is the everyday vocabulary of a detection query.
"""

from __future__ import annotations

import fnmatch
import math
import random
from typing import Any, Callable

from dac.errors import did_you_mean
from dac.kql import ast
from dac.kql import values as V
from dac.kql.builtins import refused
from dac.kql.expressions import KNOWN_TYPES, Compiled, ExpressionCompiler, derive_name, semantic, unsupported
from dac.kql.naming import ColumnCounter, unique_names
from dac.kql.table import Table, keep_ingestion
from dac.kql.scope import Binding, Scope


class RowOperators:
    """The one-table operators (mixed into ``Evaluator``)."""

    def op_Where(self, node: ast.Where, table: Table, scope: Scope) -> Table:
        predicate = self.compiler(table, scope).compile(node.predicate)
        if node.named is not None and self.check:
            raise semantic(node, f"'{node.named} = ...' names the predicate instead of comparing; use '==' to compare")
        if predicate.type in KNOWN_TYPES and predicate.type != "bool":
            raise semantic(node.predicate, f"the predicate must be a bool expression, found {predicate.type}")
        fn = predicate.fn
        if predicate.type == "bool":
            rows = [row for row in table.rows if fn(row) is True]
        else:
            rows = [row for row in table.rows if V.to_bool(fn(row)) is True]
        return Table(table.columns, rows, table.ordered)

    def op_Extend(self, node: ast.Extend, table: Table, scope: Scope) -> Table:
        """All items see the input columns only (Kusto binds them side by side, not in sequence)."""
        compiler = self.compiler(table, scope)
        columns = list(table.columns)
        counter = ColumnCounter(columns)
        getters: list[tuple[int | None, Callable]] = []
        for item in node.items:
            compiled = compiler.compile(item.expr)
            if compiled.members:
                produced = self.tuple_columns(item, compiled)
            else:
                names = self.assigned_names(item, compiled, counter)
                # a member picked unnamed (f(a, b)[1]) takes a free name as the members do
                replaces = bool(item.names) or compiled.name is None
                # ``(a, b) = f(...)``: a function returning several values fills several columns
                produced = [(name, compiled.type if len(names) == 1 else "dynamic",
                             compiled.fn if len(names) == 1 else _element(compiled.fn, index), replaces)
                            for index, name in enumerate(names)]
            for name, kind, fn, replaces in produced:
                if not replaces:  # a multi-value call's unnamed value takes a free name (x, x1, x2...)
                    taken = {n for n, _ in columns}
                    name = next(f"{name}{n or ''}" for n in range(len(columns) + 1) if f"{name}{n or ''}" not in taken)
                existing = next((i for i, (n, _) in enumerate(columns) if n == name), None)
                if existing is None:
                    columns.append((name, kind))
                    existing = len(columns) - 1
                else:
                    columns[existing] = (name, kind)
                getters.append((existing, fn))
        width = len(columns)
        rows = []
        for row in table.rows:
            new = list(row) + [None] * (width - len(row))
            for position, fn in getters:
                new[position] = fn(row)
            rows.append(tuple(new))
        return Table(columns, keep_ingestion(table.rows, rows), table.ordered)

    def assigned_names(self, item: ast.Assignment, compiled: Compiled, counter: "ColumnCounter") -> list[str]:
        if item.names:
            return item.names
        return [compiled.name or derive_name(item.expr) or counter.next()]

    def tuple_columns(self, item: ast.Assignment, compiled: Compiled,
                      print_style: bool = False) -> list[tuple[str, str, Callable, bool]]:
        """(name, type, getter, named) for each value of a call returning several columns.

        The official binder's rule (Kusto.Language, Binder_Projection): names given take
        the values in order, ``x = f(...)`` naming only the first; the values left get the
        function's default names (``series_decompose_anomalies_y_ad_score``...), except
        in print, which keeps only the named ones when any name is given.
        """
        members = compiled.members or ()
        given = list(item.names)
        if len(given) > len(members):
            raise semantic(item.expr, f"{len(given)} names given for the {len(members)} values the expression returns")
        getters = _members(compiled.tuple_fn or compiled.fn, len(members))
        columns = []
        for index, (default, kind) in enumerate(members):
            if index < len(given):
                columns.append((given[index], kind, getters[index], True))
            elif not (print_style and given):
                columns.append((default, kind, getters[index], False))
        return columns

    def op_Project(self, node: ast.Project, table: Table, scope: Scope) -> Table:
        compiler = self.compiler(table, scope)
        counter = ColumnCounter([])
        columns: list[tuple[str, str]] = []
        explicit: list[bool] = []
        getters = []
        for item in node.items:
            compiled = compiler.compile(item.expr)
            if compiled.members:
                for name, kind, fn, named in self.tuple_columns(item, compiled):
                    columns.append((name, kind))
                    explicit.append(named)
                    getters.append(fn)
                continue
            columns.append((self.assigned_names(item, compiled, counter)[0], compiled.type))
            explicit.append(bool(item.names) or isinstance(item.expr, ast.Name))
            getters.append(compiled.fn)
        columns = unique_names(node, columns, explicit)
        rows = [tuple(g(row) for g in getters) for row in table.rows]
        return Table(columns, keep_ingestion(table.rows, rows), table.ordered)

    def _select(self, table: Table, keep: list[int]) -> Table:
        columns = [table.columns[i] for i in keep]
        rows = [tuple(row[i] for i in keep) for row in table.rows]
        return Table(columns, keep_ingestion(table.rows, rows), table.ordered)

    def _match(self, node: ast.Node, table: Table, pattern: str) -> list[int]:
        matched = [i for i, (name, _) in enumerate(table.columns) if fnmatch.fnmatchcase(name, pattern)]
        if not matched and "*" not in pattern and not table.is_open:
            raise semantic(node, f"unknown column '{pattern}'{did_you_mean(pattern, table.names)}")
        return matched

    def op_ProjectAway(self, node: ast.ProjectAway, table: Table, scope: Scope) -> Table:
        drop = {i for pattern in node.patterns for i in self._match(node, table, pattern)}
        return self._select(table, [i for i in range(len(table.columns)) if i not in drop])

    def op_ProjectKeep(self, node: ast.ProjectKeep, table: Table, scope: Scope) -> Table:
        keep = {i for pattern in node.patterns for i in self._match(node, table, pattern)}
        return self._select(table, sorted(keep))

    def op_ProjectReorder(self, node: ast.ProjectReorder, table: Table, scope: Scope) -> Table:
        order: list[int] = []
        for pattern, direction in node.patterns:
            matched = [i for i in self._match(node, table, pattern) if i not in order]
            if direction in ("asc", "desc"):
                matched.sort(key=lambda i: table.columns[i][0], reverse=direction == "desc")
            order.extend(matched)
        order.extend(i for i in range(len(table.columns)) if i not in order)
        return self._select(table, order)

    def op_ProjectRename(self, node: ast.ProjectRename, table: Table, scope: Scope) -> Table:
        columns = list(table.columns)
        index = table.index()
        for new, old in node.pairs:
            if old not in index and table.is_open:
                continue
            if old not in index:
                raise semantic(node, f"unknown column '{old}'{did_you_mean(old, table.names)}")
            columns[index[old]] = (new, columns[index[old]][1])
        return Table(columns, table.rows, table.ordered)

    def op_Render(self, node: ast.Render, table: Table, scope: Scope) -> Table:
        return table

    def op_Serialize(self, node: ast.Serialize, table: Table, scope: Scope) -> Table:
        if node.items:
            table = self.op_Extend(ast.Extend(node.items), table, scope)
        return Table(table.columns, table.rows, True)

    def op_As(self, node: ast.As, table: Table, scope: Scope) -> Table:
        scope.bindings[node.name] = Binding(node.name, node, scope, table, True)
        return table

    def op_Count(self, node: ast.Count, table: Table, scope: Scope) -> Table:
        return Table([("Count", "long")], [(len(table.rows),)])

    def op_Take(self, node: ast.Take, table: Table, scope: Scope) -> Table:
        count = self._count(node.count, scope)
        return Table(table.columns, table.rows[:count], table.ordered)

    def sort_rows(self, table: Table, keys: list[ast.SortKey], scope: Scope) -> list[tuple]:
        compiler = self.compiler(table, scope)
        rows = list(table.rows)
        for key in reversed(keys):
            fn = compiler.compile(key.expr).fn
            present = [r for r in rows if fn(r) is not None]
            missing = [r for r in rows if fn(r) is None]
            present.sort(key=lambda r: V.sort_key(fn(r)), reverse=key.descending)
            rows = missing + present if key.nulls_first else present + missing
        return rows

    def op_Sort(self, node: ast.Sort, table: Table, scope: Scope) -> Table:
        return Table(table.columns, self.sort_rows(table, node.keys, scope), True)

    def op_Top(self, node: ast.Top, table: Table, scope: Scope) -> Table:
        count = self._count(node.count, scope)
        return Table(table.columns, self.sort_rows(table, [node.key], scope)[:count], True)

    def op_Distinct(self, node: ast.Distinct, table: Table, scope: Scope) -> Table:
        if len(node.columns) == 1 and isinstance(node.columns[0], ast.Star):
            source = table
        else:
            source = self.op_Project(ast.Project([ast.Assignment([], c) for c in node.columns]), table, scope)
        seen: set[tuple] = set()
        rows = []
        for row in source.rows:
            key = tuple(V.hashable(v) for v in row)
            if key not in seen:
                seen.add(key)
                rows.append(tuple(row))  # a plain tuple: distinct is an aggregation (no ingestion time)
        return Table(source.columns, rows)

    def op_Generic(self, node: ast.Generic, table: Table, scope: Scope) -> Table:
        if node.name == "getschema":
            kinds = {"string": "System.String", "bool": "System.SByte", "int": "System.Int32", "long": "System.Int64",
                     "real": "System.Double", "decimal": "System.Data.SqlTypes.SqlDecimal", "datetime": "System.DateTime",
                     "timespan": "System.TimeSpan", "guid": "System.Guid", "dynamic": "System.Object"}
            rows = [(name, index, kinds.get(kind, "System.Object"), kind) for index, (name, kind) in enumerate(table.columns)]
            return Table([("ColumnName", "string"), ("ColumnOrdinal", "int"), ("DataType", "string"),
                          ("ColumnType", "string")], rows)
        if node.name == "sample":
            return self.sample(node, table, scope)
        if self.check:
            return table.opened()
        raise refused(node, node.name, "operator") or unsupported(
            node, f"query operator '{node.name}' is not supported by the evaluator")

    def sample(self, node: ast.Generic, table: Table, scope: Scope) -> Table:
        """sample N (https://learn.microsoft.com/kusto/query/sample-operator): up to N random rows.

        Kusto picks differently on every run; a test needs the same rows each time, so the
        choice is pseudo-random from a seed made of the clock and the input size. Any such
        choice is one Kusto could have made. Rows keep their input order.
        """
        if len(node.args) != 1:
            raise semantic(node, "sample takes the number of rows to return")
        compiled = ExpressionCompiler(self, [], scope).compile(node.args[0])
        if compiled.type not in ("int", "long", "real", "decimal", "dynamic"):
            raise semantic(node.args[0], f"sample needs a number of rows, found {compiled.type}")
        if self.check:
            return Table(table.columns, [], False)
        wanted = V.to_real(compiled.fn(()))
        count = max(0, int(wanted)) if wanted is not None and math.isfinite(wanted) else 0
        if count >= len(table.rows):
            return Table(table.columns, list(table.rows), False)
        chooser = random.Random(f"{self.now.isoformat()}/{len(table.rows)}/{count}")
        picked = sorted(chooser.sample(range(len(table.rows)), count))
        return Table(table.columns, [table.rows[i] for i in picked], False)


def _element(fn: Callable[[tuple], Any], index: int) -> Callable[[tuple], Any]:
    def run(row: tuple) -> Any:
        value = fn(row)
        return value[index] if isinstance(value, (list, tuple)) and index < len(value) else None

    return run


def _members(fn: Callable[[tuple], Any], count: int) -> list[Callable[[tuple], Any]]:
    """Getters of each value of a multi-value call; the call runs once per row, not once per column."""
    last: list[Any] = [None, None]  # the row last computed (kept alive, so identity is safe) and its values

    def getter(index: int) -> Callable[[tuple], Any]:
        def run(row: tuple) -> Any:
            if last[0] is not row:
                last[1] = fn(row)
                last[0] = row
            values = last[1]
            return values[index] if values is not None and index < len(values) else None

        return run

    return [getter(index) for index in range(count)]
