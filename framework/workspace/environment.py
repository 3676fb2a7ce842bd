"""What a query sees above its own ``let``s: the workspace's functions, ASIM names and ``_GetWatchlist``.

The evaluator takes a tables mapping; an ``Environment`` is one that also
carries a root ``Scope`` (``root_scope()``), where each workspace function is
bound by name. Binding (check mode), ``dac test`` and ``dac run`` build one
the same way and differ only in their tables and in the rows a test supplies
for a function or a watchlist.

The bound values are callables the evaluator invokes with itself, the call,
the caller's expression compiler and, for ``invoke``, the piped table
(see ``Evaluator.call_user_function``). A stored function's callable runs the
function's let-lambda through the evaluator's own machinery and moves any
problem inside its body to the function's file (``FunctionError``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Callable

from dac.kql import ast
from dac.kql import values as V
from dac.kql.errors import KqlError
from dac.kql.scope import Binding, Scope, bind_lets
from dac.kql.expressions import Compiled, ExpressionCompiler, constant, semantic
from dac.kql.table import OPEN_COLUMN, Table
from dac.workspace import Workspace
from dac.workspace.asim import has_empty_parser, schema_of, schema_typed, unifying_names
from dac.workspace.asim_builtin import BuiltInCall, parsers as built_in_parsers
from dac.workspace.functions import FunctionError, StoredFunction
from dac.workspace.names import WATCHLIST_FUNCTION, Undeclared, watchlist_message

Evaluator = Any  # dac.kql.evaluator.Evaluator (not imported for annotations only: it is the caller)


class StoredCall:
    """A stored function as the evaluator calls it; ``rows`` (from a test) stand for its output."""

    def __init__(self, function: StoredFunction, scope: Scope, rows: Table | None = None, open_result: bool = False) -> None:
        self.function = function
        self.scope = scope
        self.rows = rows
        # binding an ASIM unifying parser whose schema has no Empty parser here: the source parsers
        # left out may add columns, so its result's columns are not all known
        self.open_result = open_result

    def __call__(self, evaluator: Evaluator, call: ast.Call, compiler: ExpressionCompiler,
                 table_input: Table | None = None) -> Compiled:
        definition = self.function.definition()
        binding = Binding(call.name, definition, self.scope, definition, True)
        # the arguments and their count are the caller's: their problems stay at the call
        evaluator.bind_arguments(definition, call, binding, compiler, table_input)
        if self.rows is not None:
            return constant(self.rows, "table")
        try:
            if table_input is None:
                result = evaluator.call_user_function(binding, call, compiler)
                if self.open_result and evaluator.check and result.type == "table":
                    return constant(result.fn(()).opened(), "table")
                return result
            inner = evaluator.bind_arguments(definition, call, binding, compiler, table_input)
            inner, _ = bind_lets(definition.body.statements, inner)
            if definition.body.result is None:
                raise semantic(call, f"function '{call.name}' has no result")
            return constant(evaluator.eval_pipeline(definition.body.result, inner), "table")
        except FunctionError as error:  # inside a function this one calls: now at this call
            raise error.at_call(call) from None
        except KqlError as error:
            raise FunctionError(self.function, error, call) from None


class SchemaTyped:
    """An ASIM unifying name no file declares, typed by its schema's Empty parser (or a test's rows)."""

    def __init__(self, empty: StoredCall, rows: Table | None = None) -> None:
        self.empty = empty
        self.rows = rows

    def __call__(self, evaluator: Evaluator, call: ast.Call, compiler: ExpressionCompiler,
                 table_input: Table | None = None) -> Compiled:
        for arg in call.args:  # the filtering parameters: checked, and stood for by the rows
            compiler.compile(arg.args[1] if isinstance(arg, ast.Call) and arg.name == "$named" else arg)
        if self.rows is not None:
            return constant(self.rows, "table")
        return self.empty(evaluator, ast.Call(self.empty.function.name, [], line=call.line, column=call.column),
                          compiler)


class GetWatchlist:
    """``_GetWatchlist(watchlistAlias[, keys])``: a declared watchlist's items (a test's rows, else its CSV)."""

    def __init__(self, workspace: Workspace, rows: Mapping[str, Table]) -> None:
        self.workspace = workspace
        self.watchlists = workspace.watchlists
        self.rows = rows

    def __call__(self, evaluator: Evaluator, call: ast.Call, compiler: ExpressionCompiler,
                 table_input: Table | None = None) -> Compiled:
        args = [a.args[1] if isinstance(a, ast.Call) and a.name == "$named" else a for a in call.args]
        if not 1 <= len(args) <= 2:
            raise semantic(call, f"function '{WATCHLIST_FUNCTION}()' takes 1 to 2 argument(s), got {len(args)}")
        alias_arg = compiler.compile(args[0])
        keys = compiler.compile(args[1]) if len(args) > 1 else None
        if not alias_arg.const:
            if evaluator.check:
                return constant(Table([OPEN_COLUMN]), "table")
            raise semantic(args[0], f"{WATCHLIST_FUNCTION}() needs the watchlist alias as a constant string")
        alias = V.to_string(alias_arg.fn(()))
        watchlist = self.watchlists.get(alias)
        if watchlist is None and evaluator.check:
            return constant(Table([OPEN_COLUMN]), "table")  # binding has reported it (dac.workspace.names)
        if watchlist is None:
            raise semantic(args[0], watchlist_message(alias, self.workspace))
        if evaluator.check:
            return constant(Table(list(watchlist.columns)), "table")
        table = self.rows.get(alias)
        if table is None:
            table = Table.from_dicts([watchlist.row(item, n) for n, item in enumerate(watchlist.items, 1)],
                                     list(watchlist.columns))
        wanted = V.to_dynamic(keys.fn(())) if keys is not None else None
        if isinstance(wanted, list) and wanted:
            position = table.index()["SearchKey"]
            table = Table(table.columns, [row for row in table.rows if row[position] in wanted])
        return constant(table, "table")


class Unknown:
    """In check mode, an undeclared name (already reported): a table of unknown columns, or an unknown value."""

    def __init__(self, tabular: bool) -> None:
        self.tabular = tabular

    def __call__(self, evaluator: Evaluator, call: ast.Call, compiler: ExpressionCompiler,
                 table_input: Table | None = None) -> Compiled:
        for arg in call.args:
            compiler.compile(arg.args[1] if isinstance(arg, ast.Call) and arg.name == "$named" else arg)
        if self.tabular or table_input is not None:
            return constant((table_input or Table([])).opened(), "table")
        return constant(None, "dynamic")


def root_scope(workspace: Workspace, rows: Mapping[str, Table] | None = None,
               watchlist_rows: Mapping[str, Table] | None = None, unknown: list[Undeclared] = ()) -> Scope:
    """The scope above a query: every function name of ``workspace``, ``_GetWatchlist``, the ASIM names
    typed by their schema, the built-in ASIM parsers no file declares, and (binding) each undeclared name as an unknown. ``rows`` replace the output of
    the functions they name."""
    rows = rows or {}
    root = Scope()

    def bind(name: str, value: Callable[..., Compiled] | Table) -> None:
        root.bindings[name] = Binding(name, ast.Name(name), root, value, True)

    calls: dict[int, StoredCall] = {}
    for name, function in workspace.functions.items():
        partial = function.unifies and not has_empty_parser(workspace, function.schema)
        shared = calls.setdefault(id(function), StoredCall(function, root, open_result=partial))
        given = next((rows[alias] for alias in function.names if alias in rows), rows.get(name))
        bind(name, StoredCall(function, root, given) if given is not None else shared)
    for name, empty in schema_typed(workspace).items():
        # rows a test gives under any name of the schema's unifying parsers stand for all of them
        given = next((rows[alias] for alias in unifying_names(schema_of(name) or "") if alias in rows), None)
        bind(name, SchemaTyped(calls.get(id(empty)) or StoredCall(empty, root), given))
    for name, parser in built_in_parsers().items():  # what no file declares: Sentinel's own
        if name not in root.bindings:
            bind(name, BuiltInCall(parser, rows.get(name)))
    bind(WATCHLIST_FUNCTION, GetWatchlist(workspace, watchlist_rows or {}))
    for missing in unknown:
        if not missing.watchlist:
            bind(missing.name, Table([OPEN_COLUMN]) if missing.tabular and isinstance(missing.node, ast.Name)
                 else Unknown(missing.tabular))
    return root


class Environment(Mapping[str, Any]):
    """A query's tables (``tables``, unchanged) and the functions above it (``root_scope()``)."""

    def __init__(self, tables: Mapping[str, Any], scope: Callable[[], Scope]) -> None:
        self.tables = tables
        self.root_scope = scope
        self.functions = getattr(tables, "functions", frozenset())  # the platform's functions (binder)

    def __getitem__(self, name: str) -> Any:
        return self.tables[name]

    def __contains__(self, name: object) -> bool:
        return name in self.tables

    def __iter__(self) -> Iterator[str]:
        return iter(self.tables)

    def __len__(self) -> int:
        return len(self.tables)


def evaluation_tables(tree: ast.QueryBody, tables: Mapping[str, Any], platform: str,
                      rows: Mapping[str, Table] | None = None,
                      watchlist_rows: Mapping[str, Table] | None = None) -> Mapping[str, Any]:
    """The tables ``tree`` is evaluated over (a test case's), inside the workspace on Sentinel.

    A table of the catalog or the workspace that the query, or a workspace function it calls,
    reads and ``tables`` does not give is empty: a test names only the tables that matter, and
    a parser reads many. ``rows`` stand for the output of the functions they name,
    ``watchlist_rows`` for ``_GetWatchlist`` items.
    """
    from dac import catalog, workspace
    from dac.kql.binder import CatalogTables, tables_read
    from dac.workspace.names import functions_used

    space = workspace.current() if catalog.normalise_platform(platform) == "sentinel" else Workspace()
    known = CatalogTables(platform)
    read = tables_read(tree, known).union(*(tables_read(f.definition(), known) for f in functions_used(tree, space)))
    filled = dict(tables)
    for name in sorted(read - set(filled)):
        filled[name] = Table(list(catalog.table_columns(platform, name) or ()))
    return Environment(filled, lambda: root_scope(space, rows, watchlist_rows))


def workspace_tables(tables: Mapping[str, Any], platform: str) -> Mapping[str, Any]:
    """``tables`` (a back-test's files) with the workspace's functions above them on Sentinel."""
    from dac import catalog, workspace

    if catalog.normalise_platform(platform) != "sentinel":
        return tables
    space = workspace.current()
    return Environment(tables, lambda: root_scope(space))


def undeclared_names(tree: ast.QueryBody, platform: str) -> list[Undeclared]:
    """What ``tree`` uses that nothing declares, on ``platform`` (the same names ``dac validate`` reports)."""
    from dac import catalog, workspace
    from dac.kql.binder import CatalogTables
    from dac.workspace.names import undeclared

    if catalog.normalise_platform(platform) != "sentinel":
        return []
    known = CatalogTables(platform)
    return undeclared(tree, workspace.current(), known, known.functions)
