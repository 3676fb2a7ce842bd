"""Column naming rules shared by the operators that make columns (project, extend, summarize, print,
mv-expand...): Kusto's suffixes for taken names and its Column1, Column2 for unnamed ones."""

from __future__ import annotations

from dac.kql import ast
from dac.kql.expressions import semantic


class ColumnCounter:
    """Names unnamed columns Column1, Column2, ... skipping names already taken."""

    def __init__(self, columns: list[tuple[str, str]]) -> None:
        self.taken = {name for name, _ in columns}
        self.n = 0

    def next(self) -> str:
        while True:
            self.n += 1
            name = f"Column{self.n}"
            if name not in self.taken:
                self.taken.add(name)
                return name


def unique_names(node: ast.Node, columns: list[tuple[str, str]], explicit: list[bool]) -> list[tuple[str, str]]:
    """Kusto's rule for project and summarize output: a derived name already taken gets the
    smallest free numeric suffix (``count_``, ``count_1``); a name the query states (or a
    plain column reference) twice is an error. A stated name that a derived one took first is
    suffixed too: the official binder types ``project tostring(a), a=1`` as (a:string, a1:long)
    and ``print 1, print_0=2`` as (print_0, print_01)."""
    taken: dict[str, bool] = {}  # name -> stated
    out = []
    for (name, kind), stated in zip(columns, explicit):
        if name in taken:
            if stated and taken[name]:
                raise semantic(node, f"column '{name}' is declared twice")
            suffix = 1
            while f"{name}{suffix}" in taken:
                suffix += 1
            name = f"{name}{suffix}"
        taken[name] = stated
        out.append((name, kind))
    return out
