"""The operators that combine tables: join, lookup and union (as an operator or a source).

A mixin of ``Evaluator``: these read a second table (a subquery, or the legs of a union) and
settle the columns of the combined result, which is what their helpers here are about.
"""

from __future__ import annotations

import fnmatch

from dac.errors import did_you_mean
from dac.kql import ast
from dac.kql import values as V
from dac.kql.errors import KqlUnresolvedName
from dac.kql.expressions import semantic, unsupported
from dac.kql.table import OPEN_COLUMN, IngestedRow, Table, carry_ingestion
from dac.kql.scope import Scope


class JoinOperators:
    """join, lookup and union (mixed into ``Evaluator``)."""

    def join_keys(self, node: ast.Join | ast.Lookup, left: Table, right: Table) -> tuple[list[int], list[int]]:
        left_index, right_index = left.index(), right.index()
        left_keys, right_keys = [], []
        if not node.on:
            raise semantic(node, "join needs 'on' keys")
        for key in node.on:
            if isinstance(key, ast.Name):
                lname = rname = key.name
            elif (isinstance(key, ast.Binary) and key.op == "==" and isinstance(key.left, ast.Member)
                  and isinstance(key.right, ast.Member) and isinstance(key.left.target, ast.Name)
                  and isinstance(key.right.target, ast.Name)):
                sides = {key.left.target.name: key.left.name, key.right.target.name: key.right.name}
                if set(sides) != {"$left", "$right"}:
                    raise semantic(key, "join keys compare $left.column with $right.column")
                lname, rname = sides["$left"], sides["$right"]
            else:
                raise unsupported(key, "join condition must be column names or $left.x == $right.y")
            if lname not in left_index and left.is_open:
                lname = OPEN_COLUMN[0]
            if rname not in right_index and right.is_open:
                rname = OPEN_COLUMN[0]
            if lname not in left_index:
                raise semantic(key, f"unknown column '{lname}' on the left side of the join{did_you_mean(lname, left.names)}")
            if rname not in right_index:
                raise semantic(key, f"unknown column '{rname}' on the right side of the join{did_you_mean(rname, right.names)}")
            left_keys.append(left_index[lname])
            right_keys.append(right_index[rname])
        return left_keys, right_keys

    def op_Join(self, node: ast.Join, table: Table, scope: Scope) -> Table:
        right = self.eval_pipeline(node.right, scope)
        kind = str(node.params.get("kind", "innerunique")).lower()
        left_keys, right_keys = self.join_keys(node, table, right)
        left_rows = table.rows
        if kind == "innerunique":
            seen: set[tuple] = set()
            unique = []
            for row in left_rows:
                key = tuple(V.hashable(row[i]) for i in left_keys)
                if key not in seen:
                    seen.add(key)
                    unique.append(row)
            left_rows, kind = unique, "inner"
        if kind not in ("inner", "leftouter", "rightouter", "fullouter", "leftanti", "leftantisemi", "rightanti",
                        "rightantisemi", "leftsemi", "rightsemi", "anti", "semi"):
            raise semantic(node, f"unknown join kind '{kind}'")
        kind = {"anti": "leftanti", "semi": "leftsemi", "leftantisemi": "leftanti", "rightantisemi": "rightanti"}.get(kind, kind)
        buckets: dict[tuple, list[int]] = {}
        for position, row in enumerate(right.rows):
            key = tuple(V.hashable(row[i]) for i in right_keys)
            if any(row[i] is None for i in right_keys):
                continue
            buckets.setdefault(key, []).append(position)

        def left_key(row: tuple) -> tuple | None:
            if any(row[i] is None for i in left_keys):
                return None
            return tuple(V.hashable(row[i]) for i in left_keys)

        # every join kind makes plain tuples: rows past a join have no ingestion time
        if kind == "leftsemi":
            return Table(table.columns, [tuple(r) for r in left_rows if left_key(r) in buckets])
        if kind == "leftanti":
            return Table(table.columns, [tuple(r) for r in left_rows if left_key(r) not in buckets])
        left_keyset = {k for k in (left_key(r) for r in left_rows) if k is not None}
        if kind == "rightsemi":
            return Table(right.columns, [tuple(r) for r in right.rows
                                         if tuple(V.hashable(r[i]) for i in right_keys) in left_keyset])
        if kind == "rightanti":
            return Table(right.columns, [tuple(r) for r in right.rows
                                         if tuple(V.hashable(r[i]) for i in right_keys) not in left_keyset])
        columns = list(table.columns)
        taken = {name for name, _ in columns}
        for name, kind_name in right.columns:
            new = name
            suffix = 1
            while new in taken:
                new = f"{name}{suffix}"
                suffix += 1
            taken.add(new)
            columns.append((new, kind_name))
        empty_right = tuple(V.default_value(t) for _, t in right.columns)
        empty_left = tuple(V.default_value(t) for _, t in table.columns)
        rows: list[tuple] = []
        matched_right: set[int] = set()
        charge, unmatched = self.budget.rows, 1 if kind in ("leftouter", "fullouter") else 0
        for row in left_rows:
            key = left_key(row)
            matches = buckets.get(key, []) if key is not None else []
            charge(len(matches) or unmatched, node, "join")
            for position in matches:
                rows.append(row + right.rows[position])
                matched_right.add(position)
            if not matches and kind in ("leftouter", "fullouter"):
                rows.append(row + empty_right)
        if kind in ("rightouter", "fullouter"):
            for position, row in enumerate(right.rows):
                if position not in matched_right:
                    rows.append(empty_left + row)
            charge(len(right.rows) - len(matched_right), node, "join")
        return Table(columns, rows)

    def op_Lookup(self, node: ast.Lookup, table: Table, scope: Scope) -> Table:
        right = self.eval_pipeline(node.right, scope)
        kind = str(node.params.get("kind", "leftouter")).lower()
        left_keys, right_keys = self.join_keys(node, table, right)
        same_named = {right.columns[r][0] for l, r in zip(left_keys, right_keys) if table.columns[l][0] == right.columns[r][0]}
        keep = [i for i, (name, _) in enumerate(right.columns) if name not in same_named]
        buckets: dict[tuple, list[tuple]] = {}
        for row in right.rows:
            buckets.setdefault(tuple(V.hashable(row[i]) for i in right_keys), []).append(tuple(row[i] for i in keep))
        columns = list(table.columns)
        taken = {n for n, _ in columns}
        for i in keep:
            name, kind_name = right.columns[i]
            new, suffix = name, 1
            while new in taken:
                new, suffix = f"{name}{suffix}", suffix + 1
            taken.add(new)
            columns.append((new, kind_name))
        empty = tuple(V.default_value(right.columns[i][1]) for i in keep)
        rows = []
        charge, unmatched = self.budget.rows, 1 if kind == "leftouter" else 0
        for row in table.rows:
            matches = buckets.get(tuple(V.hashable(row[i]) for i in left_keys), [])
            charge(len(matches) or unmatched, node, "lookup")
            for match in matches:
                rows.append(row + match)
            if not matches and kind == "leftouter":
                rows.append(row + empty)
        return Table(columns, rows, table.ordered)

    def op_UnionOp(self, node: ast.UnionOp, table: Table, scope: Scope) -> Table:
        return self.union([table], node.union, scope)

    def union(self, first: list[Table], node: ast.Union, scope: Scope) -> Table:
        legs: list[tuple[str, Table]] = [("", t) for t in first]
        fuzzy = str(node.params.get("isfuzzy", "false")).lower() == "true"
        if self.check and fuzzy:
            # a leg naming what does not exist is no error, but its columns are unknown: the union's schema
            # is then open, while an unknown column inside a leg that resolves is still reported
            self.fuzzy_nodes.update(id(inner) for leg in node.legs for inner in leg.walk())
        for leg in node.legs:
            if isinstance(leg, ast.Star) and self.check:
                legs.append(("", Table([OPEN_COLUMN])))  # every table of the workspace: schema unknown here
                continue
            if isinstance(leg, ast.Star):
                legs.extend((n, self.table_named(n)) for n in sorted(self.tables))
                continue
            if isinstance(leg, ast.Name) and "*" in leg.name:
                bound = {n for n in scope.visible_names() if fnmatch.fnmatchcase(n, leg.name)}
                for name in sorted(bound):
                    legs.append((name, self.table_from_expr(ast.Name(name, line=leg.line, column=leg.column), scope)))
                names = sorted(n for n in self.tables if fnmatch.fnmatchcase(n, leg.name) and n not in bound)
                legs.extend((n, self.table_named(n)) for n in names)
                continue
            try:
                legs.append((_leg_name(leg), self.table_from_expr(leg, scope)))
            except KqlUnresolvedName:  # isfuzzy=true leaves out a leg naming what does not exist, nothing else
                if not fuzzy:
                    raise
        if self.check and fuzzy and not legs:
            return Table([OPEN_COLUMN])  # no leg resolves here: Kusto's binder, too, leaves the schema unknown
        kind = str(node.params.get("kind", "outer")).lower()
        columns: list[tuple[str, str]] = []
        if kind == "inner":
            common = set.intersection(*(set(t.columns) for _, t in legs)) if legs else set()
            columns = [c for c in legs[0][1].columns if c in common] if legs else []
        else:
            merged: dict[tuple[str, str], None] = {}
            for _, t in legs:
                merged.update(dict.fromkeys(t.columns))
            columns = list(merged)
        source_column = node.params.get("withsource")
        rows: list[tuple] = []
        for name, t in legs:
            self.budget.rows(len(t.rows), node, "union")
            index = {c: i for i, c in enumerate(t.columns)}
            for row in t.rows:
                values = tuple(row[index[c]] if c in index else V.default_value(c[1]) for c in columns)
                values = ((name,) + values) if source_column else values
                # rows of a union still come from their tables: each keeps its ingestion time
                rows.append(carry_ingestion(row, values) if row.__class__ is IngestedRow else values)
        if source_column:
            columns = [(str(source_column), "string")] + columns
        return Table(_union_names(columns), rows)


def _leg_name(leg: ast.Node) -> str:
    """The name ``withsource`` gives a union leg: the table's, or the one its ``as`` operator sets."""
    if isinstance(leg, ast.Name):
        return leg.name
    query = leg.query if isinstance(leg, ast.Tabular) else leg
    if isinstance(query, ast.Pipeline) and query.operators and isinstance(query.operators[-1], ast.As):
        return query.operators[-1].name
    return ""


def _union_names(columns: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Union columns of one name and several types become name_type; one such name already taken gets 1, 2, ...

    A column whose name is unique keeps it: the union page's example names the columns of
    ``union (print x=1), (print x=toint(2)), (print x_long=3)`` x_long1, x_int, x_long
    (https://learn.microsoft.com/kusto/query/union-operator). The official binder
    (Kusto.Language) says x_long, x_int, x_long1 instead; the page shows the engine's output.
    """
    names = [n for n, _ in columns]
    taken = {n for n in names if names.count(n) == 1}
    result = []
    for name, kind in columns:
        if names.count(name) == 1:
            result.append((name, kind))
            continue
        base = f"{name}_{kind}"
        new, suffix = base, 1
        while new in taken:
            new, suffix = f"{base}{suffix}", suffix + 1
        taken.add(new)
        result.append((new, kind))
    return result
