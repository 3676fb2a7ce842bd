"""The operators that turn a value of each row into more rows or columns: mv-expand, mv-apply,
parse, parse-where and parse-kv.

A mixin of ``Evaluator``: each takes a value from every row (an array or bag, a string) and
expands the row by what it holds.
"""

from __future__ import annotations

from typing import Any, Callable

from dac.kql import ast
from dac.kql import values as V
from dac.kql import budget as B
from dac.kql.expressions import derive_name, semantic
from dac.kql.parse_kv import parse_kv
from dac.kql.parse_pattern import parse_kind, parse_pattern
from dac.kql.table import IngestedRow, Table, carry_ingestion
from dac.kql.scope import Scope


class ExpansionOperators:
    """mv-expand, mv-apply and the parse family (mixed into ``Evaluator``)."""

    def op_MvExpand(self, node: ast.MvExpand, table: Table, scope: Scope) -> Table:
        compiler = self.compiler(table, scope)
        columns = list(table.columns)
        targets: list[tuple[int, Callable, str | None]] = []
        for item in node.items:
            compiled = compiler.compile(item.expr)
            name = item.name or derive_name(item.expr)
            if name is None:
                raise semantic(item, "mv-expand needs a column or 'Name = expression'")
            new_type = V.normal_type(item.to_type) if item.to_type else "dynamic"
            existing = next((i for i, (n, _) in enumerate(columns) if n == name), None)
            if existing is None:
                columns.append((name, new_type))
                existing = len(columns) - 1
            else:
                columns[existing] = (name, new_type)
            targets.append((existing, compiled.fn, item.to_type and new_type))
        index_column = node.params.get("with_itemindex")
        if index_column:
            columns.append((str(index_column), "long"))
        bag_as_array = str(node.params.get("bagexpansion", node.params.get("kind", "bag"))).lower() == "array"
        limit = self._count(node.limit, scope) if node.limit is not None else None
        rows: list[tuple] = []
        width = len(table.columns)
        charge = self.budget.rows
        for row in table.rows:
            expansions = []
            for _, fn, _ in targets:
                value = fn(row)
                if isinstance(value, list):
                    expansions.append(value)
                elif isinstance(value, dict):
                    expansions.append([[k, v] if bag_as_array else {k: v} for k, v in value.items()])
                else:
                    expansions.append([value])
            length = max((len(e) for e in expansions), default=0)
            if limit is not None:
                length = min(length, limit)
            charge(length, node, "mv-expand")
            for position in range(length):
                new = list(row) + [None] * (len(columns) - width - (1 if index_column else 0))
                for (target, _, to_type), values in zip(targets, expansions):
                    value = values[position] if position < len(values) else None
                    new[target] = _cast(value, to_type) if to_type else value
                if index_column:
                    new.append(position)
                rows.append(carry_ingestion(row, tuple(new)) if row.__class__ is IngestedRow else tuple(new))
        return Table(columns, rows, table.ordered)

    def op_MvApply(self, node: ast.MvApply, table: Table, scope: Scope) -> Table:
        """mv-apply (https://learn.microsoft.com/kusto/query/mv-apply-operator).

        Each row becomes a subtable by expanding its arrays (the row's other columns
        stay visible to the subquery); the subquery's result rows are appended to the
        row's columns that were not expanded. Shape settled with the official binder:
        ``T | mv-apply y = xs on (project y)`` keeps T's columns and adds ``y``.
        """
        expand = ast.MvExpand(node.params, node.items, node.limit, line=node.line, column=node.column)
        expanded = self.op_MvExpand(expand, Table(table.columns, []), scope)
        replaced = {item.name or derive_name(item.expr) for item in node.items}
        keep = [i for i, (name, _) in enumerate(table.columns) if name not in replaced]
        kept_names = {table.columns[i][0] for i in keep}
        empty = self.apply_operators(Table(expanded.columns, []), node.subquery.operators, scope)
        extra = [i for i, (name, _) in enumerate(empty.columns) if name not in kept_names]
        rows: list[tuple] = []
        for row in table.rows:
            sub = self.op_MvExpand(expand, Table(table.columns, [row]), scope)
            result = self.apply_operators(sub, node.subquery.operators, scope)
            base = tuple(row[i] for i in keep)
            self.budget.rows(len(result.rows), node, "mv-apply")
            rows.extend(base + tuple(r[i] for i in extra) for r in result.rows)
        columns = [table.columns[i] for i in keep] + [empty.columns[i] for i in extra]
        return Table(columns, rows, table.ordered)

    def op_Parse(self, node: ast.Parse, table: Table, scope: Scope) -> Table:
        """parse / parse-where (https://learn.microsoft.com/kusto/query/parse-operator).

        simple: the whole text must match; string columns match lazily, long/int/real
        columns match numbers. regex: the pattern is a regex, columns match ``.*``
        (``.*?`` with flags=U), searched anywhere. relaxed: like simple, but a value
        that does not convert becomes null instead of failing the row.
        """
        import re2

        kind = parse_kind(node)
        source = self.compiler(table, scope).compile(node.source).fn
        text, new_columns = parse_pattern(node)
        try:
            regex = B.compile_regex(text, node)
        except re2.error as exc:
            raise semantic(node, f"invalid parse pattern: {exc}") from None
        index = table.index()
        columns = list(table.columns)
        positions = []
        for name, kind_name in new_columns:
            if name in index:
                positions.append(index[name])
                columns[index[name]] = (name, kind_name)
            else:
                columns.append((name, kind_name))
                positions.append(len(columns) - 1)
        rows = []
        for row in table.rows:
            new = list(row) + [None] * (len(columns) - len(row))
            match = regex.search(V.to_string(source(row)))
            values = None
            if match is not None:
                values = []
                for group, (_, kind_name) in enumerate(new_columns):
                    converted = V.convert(match.group(f"_c{group}") or "", kind_name)
                    if converted is None and kind_name != "string" and kind != "relaxed":
                        values = None
                        break
                    values.append(converted if converted is not None else V.default_value(kind_name))
            if values is None:
                if node.kind_where:
                    continue
                values = [V.default_value(kind_name) for _, kind_name in new_columns]
            for position, value in zip(positions, values):
                new[position] = value
            rows.append(carry_ingestion(row, tuple(new)) if row.__class__ is IngestedRow else tuple(new))
        return Table(columns, rows, table.ordered)

    def op_ParseKv(self, node: ast.ParseKv, table: Table, scope: Scope) -> Table:
        return parse_kv(self, node, table, scope)


_CAST_ACCEPTS = {
    "long": (int,), "int": (int,), "real": (int, float), "decimal": (int, float), "bool": (bool,), "string": (str,),
}


def _cast(value: Any, type_name: str) -> Any:
    """``to typeof(T)`` casts without parsing: a value of another kind becomes null
    (https://learn.microsoft.com/kusto/query/mv-expand-operator); a string is never null, so
    a missing or non-string value becomes "" there
    (https://learn.microsoft.com/kusto/query/scalar-data-types/null-values)."""
    if type_name == "string":
        return value if isinstance(value, str) else ""
    if value is None or type_name == "dynamic":
        return value
    accepted = _CAST_ACCEPTS.get(type_name)
    if accepted is not None:
        if isinstance(value, bool) and bool not in accepted:
            return None
        return V.convert(value, type_name) if isinstance(value, accepted) else None
    return V.convert(value, type_name)
