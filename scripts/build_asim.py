"""Build schemas/asim.json: each ASIM schema's columns and its built-in unifying parsers' parameters.

The facts come from Azure-Sentinel's parser files (https://github.com/Azure/Azure-Sentinel,
Parsers/ASim<Schema>/Parsers/): a schema's Empty parser (``vim<Schema>Empty.yaml``) lists every
column of the schema, aliases included, in a ``datatable(...)``; a unifying parser
(``im<Schema>.yaml``, ``ASim<Schema>.yaml``) names its built-in twin (``EquivalentBuiltInParser``)
and declares its filtering parameters (``ParserParams``). Re-run it when Microsoft updates a schema:

    python scripts/build_asim.py Parsers/ASim*/Parsers/vim*Empty.yaml \\
        Parsers/ASimDns/Parsers/imDns.yaml@<commit> ... > schemas/asim.json

A file's commit is given as ``path@commit``, or read from git when the file is in a checkout.
A schema given no unifying parser file still gets its ``_Im_``/``_ASim_`` names, with parameters
``null`` (not recorded: dac then accepts any arguments to them).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import yaml

REPOSITORY = "https://github.com/Azure/Azure-Sentinel"
SCHEMAS_PAGE = "https://learn.microsoft.com/azure/sentinel/normalization-about-schemas"
# The schema versions the schemas page lists (the Empty parsers' own Normalization.Version lags).
DOCUMENTED_VERSIONS = {
    "AlertEvent": "0.1", "AuditEvent": "0.1.2", "Authentication": "0.1.4", "DhcpEvent": "0.1.1",
    "Dns": "0.1.7", "FileEvent": "0.2.2", "NetworkSession": "0.2.7", "ProcessEvent": "0.1.4",
    "RegistryEvent": "0.1.3", "UserManagement": "0.1.2", "WebSession": "0.2.7",
}
# name: type, or the tab-separated "name<TAB>type" an older Empty parser writes
_COLUMN = re.compile(r"(?m)^[\s,]*([A-Za-z_][A-Za-z0-9_]*)\s*(?::\s*|\t+)([a-z]+)\s*,?\s*(?://.*)?$")
_TYPES = {"boolean": "bool", "double": "real", "date": "datetime", "time": "timespan"}
# Schema names some parser files write for a schema of another name (ASimDhcpEvent.yaml says ``Schema: Dhcp``
# while its Empty parser and imDhcpEvent.yaml say DhcpEvent).
_SCHEMA_NAMES = {"Dhcp": "DhcpEvent"}


def _commit(path: Path, given: str | None) -> str | None:
    if given:
        return given
    try:
        out = subprocess.run(["git", "log", "-1", "--format=%H", "--", path.name], cwd=path.parent,
                             capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return out or None


def _repository_path(path: Path) -> str:
    parts = path.resolve().parts
    return "/".join(parts[parts.index("Parsers"):]) if "Parsers" in parts else path.name


def columns_of(query: str) -> dict[str, str]:
    """The datatable columns of an Empty parser's query, first declaration of a name kept."""
    body = query[query.index("datatable"):query.index(")[]")] if "datatable" in query else query
    columns: dict[str, str] = {}
    for name, kind in _COLUMN.findall(body.replace("(", "\n")):
        columns.setdefault(name, _TYPES.get(kind, kind))
    return columns


def parameters_of(entries: list | None) -> list[dict[str, str | None]]:
    out = []
    for entry in entries or []:
        default = entry.get("Default")
        text = None if "Default" not in entry else ("true" if default is True else "false" if default is False
                                                    else str(default))
        out.append({"name": str(entry["Name"]).strip(), "type": str(entry["Type"]).strip(), "default": text})
    return out


def build(arguments: list[str]) -> dict:
    schemas: dict[str, dict] = {}
    parsers: dict[str, dict] = {}
    for argument in arguments:
        file, _, given = argument.partition("@")
        path = Path(file)
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        schema = _SCHEMA_NAMES.get(data["Normalization"]["Schema"], data["Normalization"]["Schema"])
        source = {"path": _repository_path(path), "commit": _commit(path, given or None)}
        name = data["ParserName"]
        if name.endswith("Empty"):
            schemas[schema] = {"version": DOCUMENTED_VERSIONS.get(schema), "columns": columns_of(data["ParserQuery"]),
                               "source": source}
            continue
        built_in = str(data.get("EquivalentBuiltInParser") or "").strip()
        if built_in:
            parsers[built_in] = {"schema": schema, "deployed": name, "parameters": parameters_of(data.get("ParserParams")),
                                 "source": source}
    for schema in schemas:
        for prefix in ("_Im_", "_ASim_"):
            parsers.setdefault(prefix + schema, {"schema": schema, "deployed": None, "parameters": None, "source": None})
    missing = sorted({p["schema"] for p in parsers.values()} - set(schemas))
    if missing:
        raise SystemExit(f"no Empty parser given for schema(s): {', '.join(missing)}")
    return {"repository": REPOSITORY, "schemas_page": SCHEMAS_PAGE, "generated_by": "scripts/build_asim.py",
            "schemas": dict(sorted(schemas.items())), "parsers": dict(sorted(parsers.items()))}


if __name__ == "__main__":
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    json.dump(build(sys.argv[1:]), sys.stdout, indent=1)
    sys.stdout.write("\n")
