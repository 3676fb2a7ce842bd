"""Static checking of a query against a platform's table catalog.

The evaluator compiles every expression against typed columns before it reads
a row, so running a query in check mode over empty catalog tables binds it:
unknown tables and columns, wrong arities and invalid literals surface with
their positions, without any data. Features the evaluator does not implement
leave their output schema open rather than failing the check.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime

from dac import catalog
from dac.kql import ast
from dac.kql.errors import KqlError
from dac.kql.evaluator import evaluate
from dac.kql.parser import parse
from dac.kql.table import Table

_CHECK_CLOCK = datetime(2025, 1, 1)


# Functions Defender advanced hunting provides to every query (documented in its schema reference).
DEFENDER_FUNCTIONS = frozenset({"FileProfile", "DeviceFromIP", "AssignedIPAddresses", "SeenBy"})
# The table a platform function the evaluator implements derives its rows from.
FUNCTION_TABLES = {"AssignedIPAddresses": "DeviceNetworkInfo"}


class CatalogTables(Mapping[str, Table]):
    """Empty tables with the catalog's columns, made on first use, and the platform's functions."""

    def __init__(self, platform: str) -> None:
        self.platform = catalog.normalise_platform(platform)
        self.functions = DEFENDER_FUNCTIONS if self.platform == "defender" else frozenset()
        self._names = catalog.known_tables(self.platform)
        self._cache: dict[str, Table] = {}

    def __getitem__(self, name: str) -> Table:
        if name not in self._cache:
            columns = catalog.table_columns(self.platform, name)
            if columns is None:
                raise KeyError(name)
            self._cache[name] = Table(list(columns))
        return self._cache[name]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and catalog.table_columns(self.platform, name) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


@dataclass
class Binding:
    """The outcome of binding a query: its problems, or the result schema and the tables it reads."""

    errors: list[KqlError]
    columns: list[tuple[str, str]] | None  # None when unknown (an error, or an open schema)
    tables: set[str]


def tables_read(tree: ast.QueryBody, known: Mapping[str, Table]) -> set[str]:
    """Catalog tables the query names (sources, join/lookup sides, union legs, table())."""
    lets = {node.name for node in tree.walk() if isinstance(node, ast.Let)}
    names: set[str] = set()
    for node in tree.walk():
        if isinstance(node, ast.ExprSource) and isinstance(node.expr, ast.Name):
            names.add(node.expr.name)
        elif isinstance(node, ast.Union):
            names.update(leg.name for leg in node.legs if isinstance(leg, ast.Name))
        elif isinstance(node, ast.Call) and node.name == "table" and node.args and isinstance(node.args[0], ast.Literal):
            names.add(str(node.args[0].value))
        elif isinstance(node, ast.Call) and node.name in FUNCTION_TABLES and node.name in getattr(known, "functions", ()):
            names.add(FUNCTION_TABLES[node.name])  # a platform function reads this table for the query
    return {name for name in names - lets if name in known}


def bind(query: str | ast.QueryBody, platform: str) -> Binding:
    """Bind ``query`` against ``platform``'s catalog: first syntax or semantic error, result schema."""
    tables = CatalogTables(platform)
    try:
        tree = parse(query) if isinstance(query, str) else query
        result = evaluate(tree, tables, now=_CHECK_CLOCK, check=True, as_table=True)
    except KqlError as error:
        return Binding([error], None, set())
    return Binding([], None if result.is_open else list(result.columns), tables_read(tree, tables))


def check_query(query: str | ast.QueryBody, platform: str) -> list[KqlError]:
    """Problems of ``query`` on ``platform``: a syntax error, or the first semantic error."""
    return bind(query, platform).errors
