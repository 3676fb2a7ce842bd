"""Custom tables of the workspace: the ``_CL`` tables (and others the catalog lacks) a rule reads.

Two forms, both as users already have them:

* Azure-Sentinel's KQL-validation form, ``CustomTables/<Name>.json``:
  ``{"Name": "Okta_CL", "Properties": [{"Name": "TimeGenerated", "Type": "DateTime"}, ...]}``
  (keys in either case, .NET type names such as String, Double, Boolean, Int32);
* the Log Analytics table schema, as the Tables API and ARM templates carry it:
  ``{"properties": {"schema": {"name": "Okta_CL", "columns": [{"name": ..., "type": ...}]}}}``,
  on its own or as ``Microsoft.OperationalInsights/workspaces/tables`` resources of a template.

A ``_CL`` table gets the standard columns Log Analytics adds to every table
(TenantId, Type, _ResourceId, ...) where its declaration does not list them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dac.errors import DacError, Location, did_you_mean
from dac.workspace.jsonfile import JsonDocument

# Type names of the declarations (lower case) -> KQL types. Azure-Sentinel's files use the .NET names.
TYPES = {
    "string": "string", "bool": "bool", "boolean": "bool", "int": "int", "int32": "int", "long": "long",
    "int64": "long", "real": "real", "double": "real", "float": "real", "decimal": "decimal", "datetime": "datetime",
    "date/time": "datetime", "timespan": "timespan", "guid": "guid", "dynamic": "dynamic",
}
# https://learn.microsoft.com/azure/azure-monitor/logs/log-standard-columns
STANDARD_COLUMNS = (
    ("TenantId", "string"), ("TimeGenerated", "datetime"), ("_TimeReceived", "datetime"), ("Type", "string"),
    ("_ItemId", "string"), ("_ResourceId", "string"), ("_SubscriptionId", "string"), ("_IsBillable", "string"),
    ("_BilledSize", "real"),
)
_TABLE_RESOURCE = "microsoft.operationalinsights/workspaces/tables"


@dataclass(frozen=True)
class CustomTable:
    name: str
    columns: tuple[tuple[str, str], ...]
    location: Location


def _get(mapping: Any, key: str) -> Any:
    """``mapping[key]`` with the key in any case (the files write Name and name, Type and type)."""
    if not isinstance(mapping, dict):
        return None
    for candidate, value in mapping.items():
        if isinstance(candidate, str) and candidate.lower() == key.lower():
            return value
    return None


def tables_in(document: JsonDocument) -> list[CustomTable] | None:
    """The tables a JSON file declares, or None when it is no table declaration at all."""
    data = document.data
    if isinstance(_get(data, "properties"), list):
        return [_table(document, _get(data, "name"), _get(data, "properties"))]
    schema = _get(_get(data, "properties"), "schema")
    if isinstance(schema, dict):
        return [_table(document, _get(schema, "name") or _get(data, "name"), _get(schema, "columns"))]
    resources = _get(data, "resources")
    if isinstance(resources, list):
        found = [_get(_get(r, "properties"), "schema") for r in resources
                 if str(_get(r, "type") or "").lower() == _TABLE_RESOURCE]
        if found:
            return [_table(document, _get(schema, "name"), _get(schema, "columns")) for schema in found]
    return None


def _table(document: JsonDocument, name: Any, columns: Any) -> CustomTable:
    if not isinstance(name, str) or not name.strip():
        raise DacError("a table declaration needs its name (\"Name\": \"MyTable_CL\")", document.locate())
    if not isinstance(columns, list) or not columns:
        raise DacError(f"table '{name}' declares no columns (a list of {{\"Name\", \"Type\"}})", document.locate(name))
    typed: dict[str, str] = {}
    for column in columns:
        column_name, type_name = _get(column, "name"), _get(column, "type")
        if not isinstance(column_name, str) or not column_name:
            raise DacError(f"table '{name}': a column without a name", document.locate(name))
        kind = TYPES.get(str(type_name).lower()) if isinstance(type_name, str) else None
        if kind is None:
            hint = did_you_mean(str(type_name).lower(), list(TYPES), cutoff=0.6)
            raise DacError(f"table '{name}', column '{column_name}': unknown type {type_name!r}{hint}",
                           document.locate(name, column_name, str(type_name)))
        typed.setdefault(column_name, kind)
    if name.endswith("_CL"):
        for column_name, kind in STANDARD_COLUMNS:
            typed.setdefault(column_name, kind)
    return CustomTable(name, tuple(typed.items()), document.locate(name))
