"""The ASIM unifying parsers built into every Sentinel workspace, known without any workspace file.

``_Im_<Schema>`` (with filtering parameters) and ``_ASim_<Schema>`` exist in every
workspace (https://learn.microsoft.com/azure/sentinel/normalization-about-parsers), so a
rule copied from Azure-Sentinel that calls ``_Im_NetworkSession(starttime=ago(1d))`` must
bind with no declaration. ``schemas/asim.json`` (built by scripts/build_asim.py from the
schemas' Empty parsers and unifying parser files) gives each schema's columns and each
parser's parameters. A call is checked as Sentinel checks it: an argument naming no
parameter, too many arguments, or one of the wrong type is an error; the parser returns
the schema's columns (a test's rows, when it gives some).

The deployed names (``imNetworkSession``, ``ASimNetworkSession``) are not known here:
Microsoft recommends the built-in names, and the deployed ones exist only in a workspace
where someone deployed the parsers from Azure-Sentinel, which a declaration in the
workspace folders says. Likewise a workspace declaration of a built-in name (its parser
files, or its schema's Empty parser) wins over what is known here: it describes the
user's workspace, this file only the Sentinel default.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache

from dac import resources
from dac.kql import ast
from dac.kql.compiled import Compiled, constant, semantic
from dac.kql.table import Table

_NUMERIC = frozenset({"int", "long", "real", "decimal"})


@dataclass(frozen=True)
class BuiltInParser:
    """One built-in unifying parser: its schema's columns and, when recorded, its parameters."""

    name: str
    schema: str
    columns: tuple[tuple[str, str], ...]
    parameters: tuple[tuple[str, str], ...] | None  # (name, type); None: not recorded, any argument binds

    def check_arguments(self, call: ast.Call, compiler: object) -> None:
        """Compile the call's arguments and report one naming no parameter, one too many, or a wrong type."""
        named = [(str(a.args[0].value), a.args[1]) for a in call.args if isinstance(a, ast.Call) and a.name == "$named"]
        positional = [a for a in call.args if not (isinstance(a, ast.Call) and a.name == "$named")]
        if self.parameters is None:
            for arg in positional + [value for _, value in named]:
                compiler.compile(arg)  # type: ignore[attr-defined]
            return
        types = dict(self.parameters)
        unknown = sorted(name for name, _ in named if name not in types)
        if unknown:
            raise semantic(call, f"function '{self.name}' has no parameter named {', '.join(unknown)} (its "
                                 f"parameters: {', '.join(types) or 'none'})")
        if len(call.args) > len(types):
            raise semantic(call, f"function '{self.name}' takes {len(types)} argument(s), got {len(call.args)}")
        free = [name for name, _ in self.parameters if name not in dict(named)]
        for name, arg in list(zip(free, positional)) + named:
            compiled = compiler.compile(arg)  # type: ignore[attr-defined]
            if not _fits(compiled.type, types[name]):
                raise semantic(arg, f"parameter '{name}' of '{self.name}' is of type {types[name]}, "
                                    f"the argument is of type {compiled.type}")

    def table(self) -> Table:
        return Table(list(self.columns))


def _fits(given: str, wanted: str) -> bool:
    """Whether a value of type ``given`` binds a parameter of type ``wanted``: numbers convert among
    themselves; a dynamic value, of unknown kind while binding, is left to run time; a dynamic parameter
    takes any scalar (Azure-Sentinel's own rules pass ``eventresultdetails_in="403"``, and whether Sentinel
    refuses it is not documented, so dac does not report it)."""
    return given == wanted or "dynamic" in (given, wanted) or (given in _NUMERIC and wanted in _NUMERIC)


@lru_cache(maxsize=1)
def _document() -> dict:
    return json.loads(resources.read_text("asim.json"))


@lru_cache(maxsize=None)
def parsers() -> dict[str, BuiltInParser]:
    """Every built-in unifying parser name, with what schemas/asim.json records of it."""
    document = _document()
    columns = {schema: tuple(entry["columns"].items()) for schema, entry in document["schemas"].items()}
    return {
        name: BuiltInParser(name, entry["schema"], columns[entry["schema"]],
                            None if entry["parameters"] is None
                            else tuple((p["name"], p["type"]) for p in entry["parameters"]))
        for name, entry in document["parsers"].items()
    }


def schemas() -> dict[str, str | None]:
    """Each schema dac knows, with the version schemas/asim.json records for it."""
    return {schema: entry.get("version") for schema, entry in _document()["schemas"].items()}


def built_in_twin(deployed: str) -> str | None:
    """The built-in name dac knows of a deployed unifying parser's (``imDns`` -> ``_Im_Dns``), else None."""
    for prefix, twin in (("im", "_Im_"), ("ASim", "_ASim_")):
        if deployed.startswith(prefix) and twin + deployed[len(prefix):] in parsers():
            return twin + deployed[len(prefix):]
    return None


class BuiltInCall:
    """A built-in unifying parser as the evaluator calls it (``dac.workspace.environment``)."""

    def __init__(self, parser: BuiltInParser, rows: Table | None = None) -> None:
        self.parser = parser
        self.rows = rows

    def __call__(self, evaluator: object, call: ast.Call, compiler: object,
                 table_input: Table | None = None) -> Compiled:
        if table_input is not None:
            raise semantic(call, f"function '{call.name}' takes no tabular input")
        self.parser.check_arguments(call, compiler)
        return constant(self.rows if self.rows is not None else self.parser.table(), "table")
