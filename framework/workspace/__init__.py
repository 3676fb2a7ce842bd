"""The Sentinel workspace around the rules: custom tables, functions and parsers, watchlists.

A rule's query rarely reads only Microsoft's tables: ``Okta_CL``, the Okta
parser ``OktaSSO``, the ASIM parser ``imAuthentication`` and
``_GetWatchlist('BreakGlassAccounts')`` exist in the team's workspace. The
rules repository declares them once, in the formats Sentinel users already
have, in the folders ``[tool.dac] workspace`` names (default: a ``workspace``
folder beside the rules folders); validate, test, build and run read them alike.

Each file of those folders is recognised by its content:

* JSON table declarations (``dac.workspace.custom_tables``);
* YAML functions and parsers (``dac.workspace.functions``), ASIM ones linked by
  their built-in names and schemas (``dac.workspace.asim``);
* watchlists (``dac.workspace.watchlists``).

Declarations apply to Sentinel, whose workspace they describe; Defender
advanced hunting has no workspace. A file that does not load (not JSON or
YAML, or a malformed declaration) is an error at its line and column that
``dac validate`` reports once (check ``workspace``); what it would declare
counts as not declared, with that reason, wherever a rule uses it. A name two
files declare differently is a warning; the first in path order is used (for a
table, the file named after it, if one is).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from dac.errors import DacError, DacWarning, Location
from dac.workspace.custom_tables import CustomTable
from dac.workspace.functions import StoredFunction
from dac.workspace.watchlists import Watchlist

SUFFIXES = (".json", ".yaml", ".yml")
# What a file that does not load would have declared, read from its text (for the "not declared" reason):
# a function file's names, a table file's first name.
_FUNCTION_NAMES = re.compile(r"^(?:FunctionName|FunctionAlias|ParserName|EquivalentBuiltInParser)\s*:\s*['\"]?(\w+)",
                             re.MULTILINE)
_TABLE_NAME = re.compile(r"\"name\"\s*:\s*\"(\w+)\"", re.IGNORECASE)
CHECK_ID = "workspace"
HINT_PLACE = "in a [tool.dac] workspace folder"


@dataclass
class Workspace:
    """What the workspace folders declare, by name; ``problems`` are warnings about the declarations."""

    folders: tuple[Path, ...] = ()
    tables: dict[str, CustomTable] = field(default_factory=dict)
    functions: dict[str, StoredFunction] = field(default_factory=dict)  # every name and alias of each
    watchlists: dict[str, Watchlist] = field(default_factory=dict)
    problems: list[DacError] = field(default_factory=list)
    broken: dict[str, DacError] = field(default_factory=dict)  # names declared by files that do not load

    def table_columns(self, name: str) -> tuple[tuple[str, str], ...] | None:
        table = self.tables.get(name)
        return table.columns if table is not None else None

    def function(self, name: str) -> StoredFunction | None:
        return self.functions.get(name)

    def add_table(self, table: CustomTable) -> None:
        """Add a declaration; of two that differ, a file named after its table wins, else the first."""
        first = self.tables.get(table.name)
        if first is None:
            self.tables[table.name] = table
        elif first.columns != table.columns:
            if _named_after(table) and not _named_after(first):
                first, table = table, first
                self.tables[first.name] = first
            self.problems.append(DacWarning(
                f"table '{table.name}' is declared again with other columns (also at {first.location}, "
                "which is used)", table.location, check=CHECK_ID))

    def add_function(self, function: StoredFunction) -> None:
        for name in function.names:
            first = self.functions.get(name)
            if first is None:
                self.functions[name] = function
            elif first is not function:
                self.problems.append(DacWarning(
                    f"function '{name}' is declared again (first at {first.location}, which is used)",
                    function.location, check=CHECK_ID))

    def add_watchlist(self, watchlist: Watchlist) -> None:
        first = self.watchlists.get(watchlist.alias)
        if first is None:
            self.watchlists[watchlist.alias] = watchlist
        else:
            self.problems.append(DacWarning(
                f"watchlist '{watchlist.alias}' is declared again (first at {first.location}, which is used)",
                watchlist.location, check=CHECK_ID))


def _named_after(table: CustomTable) -> bool:
    return Path(table.location.path).stem == table.name


def load_workspace(folders: list[Path]) -> Workspace:
    """Read every declaration under ``folders`` (files in path order, so the outcome is reproducible)."""
    from dac.workspace.custom_tables import tables_in
    from dac.workspace.functions import functions_in
    from dac.workspace.jsonfile import load_json, read_text
    from dac.workspace.watchlists import watchlists_in

    workspace = Workspace(tuple(folders))
    files = sorted({path for folder in folders for path in Path(folder).rglob("*")
                    if path.is_file() and path.suffix.lower() in SUFFIXES})
    for path in files:
        text = ""
        try:
            text = read_text(path)
            if path.suffix.lower() == ".json":
                document = load_json(path, text)
                declared = tables_in(document)
                for table in declared or []:
                    workspace.add_table(table)
                if declared is None:
                    for watchlist in watchlists_in(document.data, path, document.locate) or []:
                        workspace.add_watchlist(watchlist)
                continue
            for function in functions_in(path, text):
                workspace.add_function(function)
            if "watchlistAlias" in text:
                _yaml_watchlists(workspace, path)
        except DacError as error:
            error.check = CHECK_ID
            workspace.problems.append(error)
            table = _TABLE_NAME.search(text) if path.suffix.lower() == ".json" else None
            for name in _FUNCTION_NAMES.findall(text) or ([table.group(1)] if table else [path.stem]):
                workspace.broken.setdefault(name, error)
    from dac.workspace.asim import link

    link(workspace)
    return workspace


def _yaml_watchlists(workspace: Workspace, path: Path) -> None:
    from dac.rules.yamlfile import load_yaml
    from dac.workspace.watchlists import watchlists_in

    doc = load_yaml(path)

    def locate(*keys: str) -> Location:
        return doc.location((keys[0],)) if keys and keys[0] in (doc.data or {}) else Location(doc.path, 1, 1)

    for watchlist in watchlists_in(doc.data, path, locate) or []:
        workspace.add_watchlist(watchlist)


_loaded: tuple[object, Workspace] | None = None


def current() -> Workspace:
    """The workspace of the current settings (``dac.config.current()``), read once per settings."""
    global _loaded
    from dac import config

    settings = config.current()
    if _loaded is None or _loaded[0] is not settings:
        _loaded = (settings, load_workspace([_as_named(folder) for folder in settings.workspace_folders()]))
    return _loaded[1]


def _as_named(folder: Path) -> Path:
    """``folder`` relative to the current folder when it is inside it: findings name files as a user would."""
    try:
        return folder.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return folder


__all__ = ["CHECK_ID", "CustomTable", "StoredFunction", "Watchlist", "Workspace", "current", "load_workspace"]
