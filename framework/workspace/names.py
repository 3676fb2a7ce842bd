"""Names a rule's query uses that nothing declares: each reported once, saying how to declare it.

On Sentinel a query may read any table, function or watchlist of its
workspace, so a name neither Microsoft's catalog nor the workspace folders
declare is not necessarily a mistake: it is something dac cannot check until
it is declared. ``dac validate`` reports each such name once per rule (check
``workspace``), at its first use, with the declaration it needs; ``dac test``
gives the same message; binding goes on with the name standing for an
unknown schema, so the query's other problems are still found. A name close
to a known one (``SigninLog``) is left to the binder's "unknown table ... did
you mean" instead: a misspelling is likelier than a missing declaration.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from dac.errors import did_you_mean
from dac.kql import ast
from dac.kql.errors import KqlSemanticError
from dac.workspace import CHECK_ID, HINT_PLACE, Workspace
from dac.workspace.asim import BUILT_IN, is_asim_name, schema_of, schema_typed
from dac.workspace.asim_builtin import built_in_twin, parsers as built_in_parsers
from dac.workspace.functions import FunctionError, StoredFunction

WATCHLIST_FUNCTION = "_GetWatchlist"
# Tabular functions of the evaluator itself (not in Kusto's scalar function list).
_EVALUATOR_TABULAR = frozenset({"materialize", "view", "table", "toscalar"})
_CLOSE = 0.9  # how close to a known name a misspelling is taken to be (UrlClickEvent for UrlClickEvents)


@dataclass(frozen=True)
class Undeclared:
    """A name the query uses and nothing declares, at its first use."""

    name: str
    node: ast.Node
    tabular: bool  # used where a table is expected (it then stands for a table of unknown columns)
    message: str
    watchlist: bool = False  # an alias of _GetWatchlist('alias'), not a function or table name

    def error(self) -> "UndeclaredName":
        return UndeclaredName(self.message, self.node.line, self.node.column)


class UndeclaredName(KqlSemanticError):
    """A binding problem that is a missing workspace declaration (reported with the check id ``workspace``)."""

    def __init__(self, message: str, line: int = 0, column: int = 0) -> None:
        super().__init__(message, line, column)
        self.check = CHECK_ID


def undeclared(tree: ast.QueryBody, workspace: Workspace, tables: Collection[str],
               platform_functions: Collection[str]) -> list[Undeclared]:
    """Each name ``tree`` uses that neither ``tables`` (the platform's, the workspace's included) nor the
    workspace's functions and watchlists declare, first use first; then those the workspace functions it
    calls use, each at the query's first reference to the function that leads to it."""
    known = _Known(workspace, tables, platform_functions)
    found = _scan(tree, known, workspace)
    for function, via in _reached(tree, workspace):
        for name, missing in _scan(function.definition(), known, workspace).items():
            where = function.locate(missing.node.line, missing.node.column)
            found.setdefault(name, Undeclared(missing.name, via, missing.tabular,
                                              f"{missing.message} (workspace function '{function.name}' uses it at "
                                              f"{where})", missing.watchlist))
    return sorted(found.values(), key=lambda u: (u.node.line, u.node.column))


class _Known:
    """What a name may refer to without a declaration: Kusto's and the evaluator's functions, the platform's
    tables and functions, the workspace's functions and watchlists."""

    def __init__(self, workspace: Workspace, tables: Collection[str], platform_functions: Collection[str]) -> None:
        from dac.kql.aggregates import AGGREGATES
        from dac.kql.expressions import FUNCTIONS, TUPLE_FUNCTIONS, ExpressionCompiler, is_kusto_function

        self.tables = tables
        self.functions = set(workspace.functions) | set(schema_typed(workspace)) | set(built_in_parsers()) \
            | {WATCHLIST_FUNCTION} | set(platform_functions)
        self.scalar = list(FUNCTIONS)
        self._builtin = lambda name: (
            name.startswith("$") or name in FUNCTIONS or name in TUPLE_FUNCTIONS or name in AGGREGATES
            or is_kusto_function(name) or name in _EVALUATOR_TABULAR or hasattr(ExpressionCompiler, "f_" + name))

    def declared(self, name: str, tabular: bool) -> bool:
        return name in self.functions or self._builtin(name) or (tabular and name in self.tables)

    def misspelt(self, name: str, tabular: bool) -> bool:
        """Close to a table of the catalog or a built-in function: the binder's "did you mean" says more.
        A ``_CL`` name is a custom log table by its name, never a misspelling."""
        return not name.endswith("_CL") and bool(did_you_mean(name, self.tables if tabular else self.scalar,
                                                               cutoff=_CLOSE))


def _scan(root: ast.Node, known: _Known, workspace: Workspace) -> dict[str, Undeclared]:
    """The undeclared names under ``root`` (a query, or a function's definition), by name."""
    bound = _bound_names(root)
    found: dict[str, Undeclared] = {}

    def note(name: str, node: ast.Node, tabular: bool) -> None:
        if name in found or name in bound or known.declared(name, tabular) or known.misspelt(name, tabular):
            return
        found[name] = Undeclared(name, node, tabular, _message(name, isinstance(node, ast.Name), workspace))

    # calls that name no function (plugins), and union legs Kusto may leave unresolved (isfuzzy=true)
    skipped = {id(node.call) for node in root.walk() if isinstance(node, ast.Evaluate)}
    tabular_calls: set[int] = set()
    for node in root.walk():
        if isinstance(node, ast.ExprSource) and isinstance(node.expr, ast.Call):
            tabular_calls.add(id(node.expr))
        elif isinstance(node, ast.Union):
            tabular_calls.update(id(leg) for leg in node.legs if isinstance(leg, ast.Call))
            if _fuzzy(node):  # anywhere in the leg, as in (T | join U on k): Kusto's binder tolerates it
                skipped.update(id(inner) for leg in node.legs for inner in leg.walk())
    for node in sorted(root.walk(), key=lambda n: (n.line, n.column)):
        if isinstance(node, ast.ExprSource) and isinstance(node.expr, ast.Name) and id(node.expr) not in skipped:
            note(node.expr.name, node.expr, True)
        elif isinstance(node, ast.Union):
            for leg in node.legs:
                if isinstance(leg, ast.Name) and "*" not in leg.name and id(leg) not in skipped:
                    note(leg.name, leg, True)
        elif isinstance(node, (ast.SearchSource, ast.FindSource)):
            scoped = node.search if isinstance(node, ast.SearchSource) else node.find
            for name in scoped.tables:  # names without a position of their own: the operator's stands in
                if "*" not in name:
                    note(name, ast.Name(name, line=node.line, column=node.column), True)
        elif isinstance(node, ast.Call) and id(node) not in skipped:
            if node.name == "table" and node.args and isinstance(node.args[0], ast.Literal):
                note(str(node.args[0].value), node, True)
            elif node.name == WATCHLIST_FUNCTION:
                _note_watchlist(node, workspace, found)
            else:
                note(node.name, node, id(node) in tabular_calls)
    return found


def _fuzzy(union: ast.Union) -> bool:
    return str(union.params.get("isfuzzy", "false")).lower() == "true"


def _reached(tree: ast.QueryBody, workspace: Workspace) -> list[tuple[StoredFunction, ast.Node]]:
    """The workspace functions ``tree`` calls, and those they call in turn, each once, with the query's
    node that leads to it; functions whose query does not parse are left out (binding reports them)."""
    named = {**schema_typed(workspace), **workspace.functions}
    seen: dict[int, tuple[StoredFunction, ast.Node]] = {}
    pending: list[tuple[ast.Node, ast.Node | None]] = [(tree, None)]
    while pending:
        root, via = pending.pop()
        for node in root.walk():
            function = named.get(node.name) if isinstance(node, (ast.Name, ast.Call)) else None
            if function is None or id(function) in seen:
                continue
            try:
                definition = function.definition()
            except FunctionError:
                continue
            seen[id(function)] = (function, via or node)
            pending.append((definition, via or node))
    return list(seen.values())


def functions_used(tree: ast.QueryBody, workspace: Workspace) -> list[StoredFunction]:
    """The workspace functions ``tree`` calls, directly or through one another (those that parse)."""
    return [function for function, _ in _reached(tree, workspace)]


def _note_watchlist(call: ast.Call, workspace: Workspace, found: dict[str, Undeclared]) -> None:
    args = [a.args[1] if isinstance(a, ast.Call) and a.name == "$named" else a for a in call.args]
    if not args or not isinstance(args[0], ast.Literal) or not isinstance(args[0].value, str):
        return  # an alias computed by the query: the watchlist is unknown until it runs
    alias = args[0].value
    key = f"{WATCHLIST_FUNCTION}('{alias}')"
    if alias in workspace.watchlists or key in found:
        return
    found[key] = Undeclared(alias, call, True, watchlist_message(alias, workspace), watchlist=True)


def watchlist_message(alias: str, workspace: Workspace) -> str:
    hint = did_you_mean(alias, list(workspace.watchlists))
    return (f"watchlist '{alias}' is not declared{hint}: declare it as a watchlist file (Azure-Sentinel's "
            f"Watchlists/{alias}.json, or YAML with watchlistAlias, itemsSearchKey and a CSV source) {HINT_PLACE}")


def _message(name: str, tabular: bool, workspace: Workspace) -> str:
    """How to declare ``name``; ``tabular``: a bare name where a table is read (a table or a function)."""
    if name in workspace.broken:
        problem = workspace.broken[name]
        return f"'{name}' is declared in {problem.location.path}, which does not load: {problem}"
    known = did_you_mean(name, list(workspace.functions), cutoff=0.7)
    if BUILT_IN.match(name):
        schema = schema_of(name)
        parsers = f"Azure-Sentinel's Parsers/ASim{schema}/Parsers/*.yaml" if schema else "its parser YAML"
        known = did_you_mean(name, [*workspace.functions, *built_in_parsers()], cutoff=0.7)
        return (f"ASIM parser '{name}' is built into Sentinel, but dac does not know its schema{known}: "
                f"declare it by adding the ASIM parsers ({parsers}) {HINT_PLACE}")
    if is_asim_name(name):
        twin = built_in_twin(name)
        instead = f", or call the parser built into Sentinel, '{twin}'" if twin else ""
        return (f"ASIM parser '{name}' is not declared{known}: declare its parser YAML (ParserName: {name}) "
                f"{HINT_PLACE}{instead}")
    if name.endswith("_CL"):
        return f"table '{name}' is not declared: declare custom table '{name}' as CustomTables/{name}.json {HINT_PLACE}"
    if tabular:
        return (f"'{name}' is not declared{known}: declare custom table '{name}' as CustomTables/{name}.json, or "
                f"function '{name}' as its parser YAML (FunctionName/FunctionQuery), {HINT_PLACE}")
    return f"function '{name}' is not declared{known}: declare it as its YAML (FunctionName/FunctionQuery) {HINT_PLACE}"


def _bound_names(tree: ast.QueryBody) -> set[str]:
    """Names the query binds itself: lets, function parameters, patterns and their parameters, ``as``
    (scopes merged: a name bound anywhere counts)."""
    bound: set[str] = set()
    for node in tree.walk():
        if isinstance(node, ast.Let):
            bound.add(node.name)
        elif isinstance(node, ast.PatternDeclaration):
            bound.add(node.name)
            bound.update(name for name, _ in node.params + ([node.path] if node.path else []))
        elif isinstance(node, ast.Lambda):
            bound.update(name for name, *_ in node.params)
        elif isinstance(node, ast.As):
            bound.add(node.name)
    return bound

