"""Static checking of a query against a platform's table catalog.

The evaluator compiles every expression against typed columns before it reads
a row, so running a query in check mode over empty catalog tables binds it:
unknown tables and columns, wrong arities and invalid literals surface with
their positions, without any data. Features the evaluator does not implement
leave their output schema open rather than failing the check.

On Sentinel the query is bound inside the repository's workspace
(``dac.workspace``): its custom tables are part of the catalog, its functions,
parsers and watchlists are bound above the query, and each name nothing
declares is one finding (``UndeclaredName``) while binding goes on around it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from dac import catalog
from dac.kql import ast
from dac.kql.budget import BudgetExceeded, Limits
from dac.kql.errors import KqlError
from dac.kql.evaluator import evaluate
from dac.kql.parser import parse
from dac.kql.table import Table

if TYPE_CHECKING:
    from dac.workspace import Workspace

_CHECK_CLOCK = datetime(2025, 1, 1)


# Functions Defender advanced hunting provides to every query (documented in its schema reference).
DEFENDER_FUNCTIONS = frozenset({"FileProfile", "DeviceFromIP", "AssignedIPAddresses", "SeenBy"})
# Log Analytics' cross-resource query functions (https://learn.microsoft.com/azure/azure-monitor/logs/cross-workspace-query).
SENTINEL_FUNCTIONS = frozenset({"workspace", "app", "resource"})
# Tables whose columns depend on the workspace: AzureDiagnostics gains a column the first time a resource
# logs one (https://learn.microsoft.com/azure/azure-monitor/reference/tables/azurediagnostics). The
# catalog's columns keep their types; any other name is a column of unknown type, not an error.
OPEN_TABLES = frozenset({"AzureDiagnostics"})
# The table a platform function the evaluator implements derives its rows from.
FUNCTION_TABLES = {"AssignedIPAddresses": "DeviceNetworkInfo"}


class CatalogTables(Mapping[str, Table]):
    """Empty tables with the catalog's columns, made on first use, and the platform's functions."""

    def __init__(self, platform: str) -> None:
        self.platform = catalog.normalise_platform(platform)
        self.functions = DEFENDER_FUNCTIONS if self.platform == "defender" else SENTINEL_FUNCTIONS
        self._names = catalog.known_tables(self.platform)
        self._cache: dict[str, Table] = {}

    def __getitem__(self, name: str) -> Table:
        if name not in self._cache:
            columns = catalog.table_columns(self.platform, name)
            if columns is None:
                raise KeyError(name)
            table = Table(list(columns))
            self._cache[name] = table.opened() if self.platform == "sentinel" and name in OPEN_TABLES else table
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
    through_functions: set[str] = field(default_factory=set)  # tables the workspace functions it calls read


def tables_read(tree: ast.QueryBody, known: Mapping[str, Table]) -> set[str]:
    """Catalog tables the query names (sources, join/lookup sides, union legs, table())."""
    lets = {node.name for node in tree.walk() if isinstance(node, ast.Let)}
    # functions that read a table named by a parameter: let f = (t:string) { table(t) | ... }
    by_name = {node.name for node in tree.walk() if isinstance(node, ast.Let) and isinstance(node.value, ast.Lambda)
               and any(isinstance(inner, ast.Call) and inner.name == "table" and inner.args
                       and isinstance(inner.args[0], ast.Name) for inner in node.value.body.walk())}
    names: set[str] = set()
    for node in tree.walk():
        if isinstance(node, ast.Call) and node.name in by_name:
            # f("SigninLogs"): the table the call names is read (which parameter feeds table() is not
            # traced; a string argument that is no table of the catalog is dropped below)
            names.update(str(arg.value) for arg in node.args if isinstance(arg, ast.Literal) and isinstance(arg.value, str))
        if isinstance(node, ast.ExprSource) and isinstance(node.expr, ast.Name):
            names.add(node.expr.name)
        elif isinstance(node, ast.Union):
            names.update(leg.name for leg in node.legs if isinstance(leg, ast.Name))
        elif isinstance(node, ast.Call) and node.name == "table" and node.args and isinstance(node.args[0], ast.Literal):
            names.add(str(node.args[0].value))
        elif isinstance(node, ast.Call) and node.name in FUNCTION_TABLES and node.name in getattr(known, "functions", ()):
            names.add(FUNCTION_TABLES[node.name])  # a platform function reads this table for the query
    return {name for name in names - lets if name in known}


def bind(query: str | ast.QueryBody, platform: str, space: "Workspace | None" = None,
         limits: Limits | None = None) -> Binding:
    """Bind ``query`` against ``platform``'s catalog (and on Sentinel the workspace ``space``, default the
    repository's): the undeclared names, then the first syntax or semantic error; the result schema.
    Constant sources (range, datatable) are evaluated within a budget of ``limits``."""
    from dac import workspace
    from dac.workspace.environment import Environment, root_scope
    from dac.workspace.names import functions_used, undeclared

    tables = CatalogTables(platform)
    try:
        tree = parse(query) if isinstance(query, str) else query
    except KqlError as error:
        return Binding([error], None, set())
    space = (space or workspace.current()) if tables.platform == "sentinel" else workspace.Workspace()
    missing = undeclared(tree, space, tables, tables.functions) if tables.platform == "sentinel" else []
    errors: list[KqlError] = [name.error() for name in missing]
    try:
        result = evaluate(tree, Environment(tables, lambda: root_scope(space, unknown=missing)), now=_CHECK_CLOCK,
                          check=True, as_table=True, limits=limits)
    except BudgetExceeded:  # constant sources too large to bind fully: no error of the query, its schema unknown
        return Binding(errors, None, tables_read(tree, tables))
    except KqlError as error:
        return Binding(errors + [error], None, set())
    indirect = set().union(*(tables_read(function.definition().body, tables) for function in functions_used(tree, space)))
    columns = None if result.is_open or errors else list(result.columns)
    return Binding(errors, columns, tables_read(tree, tables), indirect)


def check_query(query: str | ast.QueryBody, platform: str) -> list[KqlError]:
    """Problems of ``query`` on ``platform``: a syntax error, or the first semantic error."""
    return bind(query, platform).errors
