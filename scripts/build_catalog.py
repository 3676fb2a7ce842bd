#!/usr/bin/env python3
"""Regenerate the table catalog (schemas/tables/<platform>.json) from the facts in ../shared.

Sources, one per platform:
- Sentinel (Log Analytics): ../shared/corpus/log_analytics_tables.csv (table, column, type),
  every table in it, the Defender XDR tables included (the connector streams them into the
  workspace with ``TimeGenerated``). Rows whose type is not a Kusto type (placeholders in the
  source) are dropped and counted. Every table also gets the standard columns Azure Monitor
  Logs adds to every table (https://learn.microsoft.com/azure/azure-monitor/logs/log-standard-columns)
  where the CSV does not list them: the CSV omits some (TenantId on 153 tables, _ResourceId on
  276) and cuts AzureDiagnostics off alphabetically, TimeGenerated included.
- Defender XDR advanced hunting: a table's reference page where we have one
  (../shared/seeds/*-table.md, e.g. UrlClickEvents); otherwise derived from the Log
  Analytics flavour of the same table, which the Defender connector streams: the same
  columns with ``Timestamp`` for ``TimeGenerated`` and without the columns Log Analytics
  adds to every table (TenantId, SourceSystem, Type, _BilledSize, _IsBillable, ...).

Only column names and types are taken (facts). Run: python scripts/build_catalog.py [--shared DIR]
"""

from __future__ import annotations

import argparse
import csv
import fnmatch
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "schemas" / "tables"

TYPE_NAMES = {
    "string": "string", "bool": "bool", "boolean": "bool", "int": "int", "long": "long", "bigint": "long",
    "real": "real", "double": "real", "decimal": "decimal", "datetime": "datetime", "timespan": "timespan",
    "guid": "guid", "dynamic": "dynamic",
}
# The standard columns of every Log Analytics table, with their documented types (the page above).
STANDARD_COLUMNS = {
    "TenantId": "string", "TimeGenerated": "datetime", "_TimeReceived": "datetime", "Type": "string",
    "_ItemId": "string", "_ResourceId": "string", "_SubscriptionId": "string", "_IsBillable": "string",
    "_BilledSize": "real",
}
LOG_ANALYTICS_ONLY = {"SourceSystem", *STANDARD_COLUMNS}
# Columns the table's reference page documents and the CSV lacks (each checked against that page).
DOCUMENTED_MISSING = {
    "DnsEvents": {"Name": "string"},  # https://learn.microsoft.com/azure/azure-monitor/reference/tables/dnsevents
}
# Advanced hunting tables of Defender XDR (patterns), as listed in Microsoft's advanced hunting schema reference.
DEFENDER_TABLES = [
    "AlertEvidence", "AlertInfo", "BehaviorEntities", "BehaviorInfo", "CloudAppEvents", "CloudAuditEvents",
    "CloudProcessEvents", "DeviceEvents", "DeviceFile*", "DeviceImageLoadEvents", "DeviceInfo", "DeviceLogonEvents",
    "DeviceNetwork*", "DeviceProcessEvents", "DeviceRegistryEvents", "DeviceTvm*", "DeviceCustom*", "DeviceBehavior*",
    "EmailAttachmentInfo", "EmailEvents", "EmailPostDeliveryEvents", "EmailUrlInfo",
    "ExposureGraphEdges", "ExposureGraphNodes", "Identity*", "MessageEvents", "MessagePostDeliveryEvents",
    "MessageUrlInfo", "OAuthAppInfo", "UrlClickEvents", "AADSignInEventsBeta", "AADSpnSignInEventsBeta",
    "CampaignInfo", "DataSecurityBehaviors", "DataSecurityEvents", "FileMaliciousContentInfo", "AIAgentsInfo",
]
_DOC_ROW = re.compile(r"^\|\s*`([^`]+)`\s*\|\s*`([^`]+)`\s*\|")
_DOC_TITLE = re.compile(r"^#\s+(\w+)\s*$", re.MULTILINE)


def log_analytics(csv_path: Path) -> tuple[dict[str, dict[str, str]], int]:
    tables: dict[str, dict[str, str]] = {}
    dropped = 0
    with csv_path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            kind = TYPE_NAMES.get(row["type"].strip().lower())
            if kind is None:
                dropped += 1
                continue
            tables.setdefault(row["table"], {}).setdefault(row["column"], kind)
    for table, extra in DOCUMENTED_MISSING.items():
        for name, kind in extra.items():
            tables[table].setdefault(name, kind)
    for columns in tables.values():
        for name, kind in STANDARD_COLUMNS.items():
            columns.setdefault(name, kind)
    return tables, dropped


def reference_pages(seeds: Path) -> dict[str, dict[str, str]]:
    pages: dict[str, dict[str, str]] = {}
    for path in sorted(seeds.glob("*-table.md")):
        text = path.read_text(encoding="utf-8")
        title = _DOC_TITLE.search(text)
        if not title:
            continue
        columns = {}
        for line in text.splitlines():
            match = _DOC_ROW.match(line)
            if match:
                columns[match.group(1)] = TYPE_NAMES[match.group(2).strip().lower()]
        pages[title.group(1)] = columns
    return pages


def defender_from_log_analytics(columns: dict[str, str]) -> dict[str, str]:
    derived = {"Timestamp": "datetime"}
    for name, kind in columns.items():
        if name == "TimeGenerated" or name in LOG_ANALYTICS_ONLY:
            continue
        derived[name] = kind
    return derived


def write(platform: str, tables: dict[str, dict[str, str]], sources: dict[str, str]) -> Path:
    """One JSON document per platform, one table per line so diffs stay readable."""
    lines = [f'  {json.dumps(name)}: {json.dumps({"source": sources[name], "columns": tables[name]})}'
             for name in sorted(tables)]
    text = '{\n "platform": ' + json.dumps(platform) + ',\n "tables": {\n' + ",\n".join(lines) + "\n }\n}\n"
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{platform}.json"
    path.write_text(text, encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", default=str(ROOT.parent / "shared"))
    args = parser.parse_args(argv)
    shared = Path(args.shared)
    sentinel, dropped = log_analytics(shared / "corpus" / "log_analytics_tables.csv")
    pages = reference_pages(shared / "seeds")
    defender: dict[str, dict[str, str]] = {}
    defender_sources: dict[str, str] = {}
    for name in sorted(set(sentinel) | set(pages)):
        if not any(fnmatch.fnmatchcase(name, pattern) for pattern in DEFENDER_TABLES):
            continue
        if name in pages:
            defender[name], defender_sources[name] = pages[name], "advanced hunting schema reference page"
        else:
            defender[name] = defender_from_log_analytics(sentinel[name])
            defender_sources[name] = "derived from the Log Analytics table (TimeGenerated -> Timestamp)"
    print(write("sentinel", sentinel, {name: "log_analytics_tables.csv" for name in sentinel}),
          f"{len(sentinel)} tables ({dropped} placeholder rows dropped)")
    print(write("defender", defender, defender_sources), f"{len(defender)} tables")
    return 0


if __name__ == "__main__":
    sys.exit(main())
