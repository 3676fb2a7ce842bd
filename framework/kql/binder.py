"""Static checking of a query against a platform's table catalog.

The evaluator compiles every expression against typed columns before it reads
a row, so running a query in check mode over empty catalog tables binds it:
unknown tables and columns, wrong arities and invalid literals surface with
their positions, without any data. Features the evaluator does not implement
leave their output schema open rather than failing the check.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime

from framework import catalog
from framework.kql import ast
from framework.kql.errors import KqlError
from framework.kql.evaluator import evaluate
from framework.kql.parser import parse
from framework.kql.table import Table

_CHECK_CLOCK = datetime(2025, 1, 1)


class CatalogTables(Mapping[str, Table]):
    """Empty tables with the catalog's columns, made on first use."""

    def __init__(self, platform: str) -> None:
        self.platform = catalog.normalise_platform(platform)
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


def check_query(query: str | ast.QueryBody, platform: str) -> list[KqlError]:
    """Problems of ``query`` on ``platform``: a syntax error, or the first semantic error."""
    try:
        tree = parse(query) if isinstance(query, str) else query
        evaluate(tree, CatalogTables(platform), now=_CHECK_CLOCK, check=True)
    except KqlError as error:
        return [error]
    return []
