"""The columns ``search`` and ``find`` over tables bind their predicate against and return, without rows.

Binding a query (check mode) reads no rows, so these operators' schemas come from
their tables' columns, as Kusto's binder derives them (each rule settled with the
official language service):

* ``search in (T, U)`` is typed as ``union T, U`` behind a ``$table`` column: a
  column name with two types becomes one column per type, ``Name_type``
  (https://learn.microsoft.com/kusto/query/search-operator,
  https://learn.microsoft.com/kusto/query/union-operator);
* ``find in (T, U) where p`` keeps one column per name (the predicate may
  compare a column whose type differs between the tables), after ``source_``
  (or the ``withsource`` name); with ``project`` only the listed columns, each of
  which some table must have, else every column of the tables and ``pack_``,
  the bag of the columns the runtime leaves out
  (https://learn.microsoft.com/kusto/query/find-operator).

Without ``in`` both read every table of the database, here the platform's catalog:
a name is then known if any table has it, and its type is unknown (dynamic) when
the tables disagree, since which of them hold rows is not known before running.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable

from dac.errors import did_you_mean
from dac.kql import ast
from dac.kql.errors import KqlSemanticError
from dac.kql.table import OPEN_COLUMN, Table

Columns = list[tuple[str, str]]


def scope_names(patterns: list[str], tables: Iterable[str], bound: Iterable[str]) -> list[str] | None:
    """The names ``in (...)`` reads: each plain name as written (resolved by the caller, a let-bound name
    first), each wildcard as the bound and catalog names it matches; None when a wildcard matches nothing
    (the tables it means are not known here, so the schema is open)."""
    names: list[str] = []
    catalog, let_bound = list(tables), set(bound)
    for pattern in patterns:
        if "*" not in pattern:
            names.append(pattern)
            continue
        matched = sorted(n for n in let_bound | set(catalog) if fnmatch.fnmatchcase(n, pattern))
        if not matched:
            return None
        names.extend(matched)
    return list(dict.fromkeys(names))


def union_columns(tables: list[Table]) -> Columns:
    """The columns of ``union`` over ``tables``: in order of appearance, a name with several types once per
    type as ``Name_type``."""
    merged: dict[tuple[str, str], None] = {}
    for table in tables:
        merged.update(dict.fromkeys(table.columns))
    names = [name for name, _ in merged]
    return [(name if names.count(name) == 1 else f"{name}_{kind}", kind) for name, kind in merged]


def columns_by_name(tables: list[Table]) -> Columns:
    """One column per name over ``tables``, typed when they agree on its type, else dynamic."""
    merged: dict[str, str] = {}
    for table in tables:
        for name, kind in table.columns:
            merged[name] = kind if merged.get(name, kind) == kind else "dynamic"
    return list(merged.items())


def search_columns(tables: list[Table], everywhere: bool) -> Columns:
    """``search``'s result: ``$table``, then the tables' union (``everywhere``: the whole catalog, by name)."""
    return [("$table", "string")] + (columns_by_name(tables) if everywhere else union_columns(tables))


def find_columns(source: str, merged: Columns, project: list[str] | None, at: ast.Node) -> Columns:
    """``find``'s result over the tables' columns ``merged`` (from ``columns_by_name``): ``source``, then the
    ``project`` list (a column no table has is an error at ``at``) or every column and ``pack_``."""
    if not project:
        return [(source, "string")] + merged + [("pack_", "dynamic")]
    types = dict(merged)
    chosen: Columns = [(source, "string")]
    for pattern in project:
        matched = [(name, kind) for name, kind in merged if fnmatch.fnmatchcase(name, pattern)]
        if not matched and OPEN_COLUMN not in merged:
            raise KqlSemanticError(f"find: no table has the column '{pattern}'{did_you_mean(pattern, list(types))}",
                                   at.line, at.column)
        chosen.extend(matched or [(pattern, "dynamic")])
    return list(dict.fromkeys(chosen))
