"""``dac new``: a new rule and its test file, valid and passing from the start.

The rule reads one table of the catalog with a query built from that table's
real columns: a filter on an enumeration column (``ActionType`` and the like,
with a value the table really carries, see :mod:`dac.fixtures`) and a
``project`` of the time column and the columns an analyst needs (account, host,
IP address, URL). Analytics rules (Scheduled, NRT) map an entity to one of the
projected columns. The test file holds one case the query must report (a
fixture row and the row it returns) and one it must not (the same row with
another value in the filtered column).

Both files are written atomically and never over an existing file.
"""

from __future__ import annotations

import json
import os
import tempfile
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from dac import catalog
from dac.errors import DacError, Location
from dac.fixtures import iter_rows, resolve_table, table_values
from dac.output.escape import printable

KINDS = {"hunting": None, "scheduled": "Scheduled", "nrt": "NRT"}
DEFAULT_DIRS = {"hunting": "detections/hunting", "scheduled": "detections/analytics", "nrt": "detections/analytics"}

# Columns worth filtering on, best first; a value list for them comes from dac.fixtures.
FILTER_COLUMNS = ("ActionType", "DeliveryAction", "ResultType", "OperationName", "EventType", "Activity",
                  "Category", "Operation")
# Entity types in order of preference for the entity mapping: (type, ((column, identifier), ...)).
ENTITIES = (
    ("Account", (("AccountUpn", "FullName"), ("UserPrincipalName", "FullName"),
                 ("InitiatingProcessAccountUpn", "FullName"), ("RecipientEmailAddress", "FullName"),
                 ("AccountName", "Name"))),
    ("Host", (("DeviceName", "HostName"), ("Computer", "HostName"), ("HostName", "HostName"))),
    ("IP", (("IPAddress", "Address"), ("RemoteIP", "Address"), ("SenderIPv4", "Address"), ("ClientIP", "Address"),
            ("SourceIP", "Address"), ("CallerIpAddress", "Address"))),
    ("URL", (("Url", "Url"), ("RemoteUrl", "Url"))),
)
_SYSTEM_COLUMNS = {"Type", "TenantId", "SourceSystem", "MG", "ManagementGroupName", "_ResourceId", "_SubscriptionId"}
# Connectors providing well-known tables on Sentinel; Defender XDR tables come from MicrosoftThreatProtection.
SENTINEL_CONNECTORS = {
    "SigninLogs": "AzureActiveDirectory", "AuditLogs": "AzureActiveDirectory",
    "AADNonInteractiveUserSignInLogs": "AzureActiveDirectory", "AADServicePrincipalSignInLogs": "AzureActiveDirectory",
    "SecurityEvent": "SecurityEvents", "OfficeActivity": "Office365", "AzureActivity": "AzureActivity",
    "Syslog": "Syslog", "CommonSecurityLog": "CefAma", "SecurityAlert": "MicrosoftThreatProtection",
}
# Valid placeholder classification per entity: a reviewer replaces them with the real ones.
PLACEHOLDER_ATTACK = {
    "URL": ("InitialAccess", "T1566"), "Account": ("InitialAccess", "T1078"), "Host": ("Execution", "T1059"),
    "IP": ("CommandAndControl", "T1071"), None: ("Discovery", "T1082"),
}


@dataclass
class Plan:
    """What the scaffold writes: the query's parts and the rows of its test."""

    table: str
    platform: str
    time_column: str | None
    filter_column: str
    match_value: str
    other_value: str
    columns: list[str]
    entity: tuple[str, str, str] | None  # (entity type, identifier, column)


def plan_query(table: str, platform: str) -> Plan:
    key, columns = resolve_table(table, platform)
    types = dict(columns)
    time_column = next((c for c in ("Timestamp", "TimeGenerated") if types.get(c) == "datetime"), None)
    strings = [c for c, t in columns if t == "string" and c not in _SYSTEM_COLUMNS and not c.startswith("_")]
    if not strings:
        raise DacError(f"table '{table}' has no string column to filter on; write this rule by hand")
    filter_column = next((c for c in FILTER_COLUMNS if types.get(c) == "string"), None)
    if filter_column is None:
        filter_column = next((c for c in strings if table_values(table, c)), strings[0])
    values = [v for v in dict.fromkeys(table_values(table, filter_column) or ()) if v]
    match_value = values[0] if values else "ExampleValue"
    other_value = values[1] if len(values) > 1 else match_value + "Other"
    projected = [c for c in (time_column, filter_column) if c]
    entity = None
    for entity_type, candidates in ENTITIES:
        found = next(((c, i) for c, i in candidates if types.get(c) == "string" and c not in projected), None)
        if found:
            projected.append(found[0])
            entity = entity or (entity_type, found[1], found[0])
    for column in strings:
        if len(projected) >= 4:
            break
        if column not in projected:
            projected.append(column)
    return Plan(table, key, time_column, filter_column, match_value, other_value, projected, entity)


def _query(plan: Plan, kind: str) -> str:
    lines = [plan.table]
    window = {"hunting": "1d", "scheduled": "1h"}.get(kind)
    if plan.time_column and window:
        lines.append(f"| where {plan.time_column} > ago({window})")
    lines.append(f"| where {plan.filter_column} == {json.dumps(plan.match_value)}")
    lines.append(f"| project {', '.join(plan.columns)}")
    return "\n".join(lines) + "\n"


def _q(text: str) -> str:
    """A YAML double-quoted scalar (JSON string syntax is valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


def _indent(text: str, spaces: int) -> str:
    return "".join(" " * spaces + line + "\n" for line in text.splitlines())


def rule_text(kind: str, name: str, plan: Plan, rule_id: str) -> str:
    connector = "MicrosoftThreatProtection" if plan.platform == "defender" or \
        catalog.table_columns("defender", plan.table) is not None else SENTINEL_CONNECTORS.get(plan.table)
    tactic, technique = PLACEHOLDER_ATTACK[plan.entity[0] if plan.entity else None]
    out = [
        f"id: {rule_id}",
        f"name: {_q(name)}",
        "description: |",
        f"  TODO: say what this {'query' if kind == 'hunting' else 'rule'} finds in {plan.table} and why it matters.",
    ]
    if kind != "hunting":
        out += ["severity: Medium"]
    if connector:
        out += ["requiredDataConnectors:", f"  - connectorId: {connector}", "    dataTypes:", f"      - {plan.table}"]
    else:
        out += [f"# TODO: add the data connector that provides {plan.table} (requiredDataConnectors)"]
    if kind == "scheduled":
        out += ["queryFrequency: 1h", "queryPeriod: 1h", "triggerOperator: gt", "triggerThreshold: 0"]
    out += [
        "# TODO: replace the placeholder ATT&CK classification",
        "tactics:", f"  - {tactic}",
        "relevantTechniques:", f"  - {technique}",
        "query: |",
    ]
    out.append(_indent(_query(plan, kind), 2).rstrip("\n"))
    if kind != "hunting" and plan.entity:
        entity_type, identifier, column = plan.entity
        out += ["entityMappings:", f"  - entityType: {entity_type}", "    fieldMappings:",
                f"      - identifier: {identifier}", f"        columnName: {column}"]
    if kind != "hunting":
        out += ["eventGroupingSettings:", "  aggregationKind: AlertPerResult"]
    out += [f"platforms: [{catalog.PLATFORMS[plan.platform]}]", "version: 1.0.0"]
    if KINDS[kind]:
        out.append(f"kind: {KINDS[kind]}")
    return "\n".join(out) + "\n"


def _flow(row: dict[str, str]) -> str:
    return "{" + ", ".join(f"{k}: {v}" for k, v in row.items()) + "}"


def tests_text(kind: str, name: str, plan: Plan, rule_id: str, now: datetime, seed: int = 1) -> str:
    sample = next(iter_rows(plan.table, plan.platform, rows=1, seed=seed, now=now))
    row: dict[str, str] = {}
    for column in plan.columns:
        if column == plan.time_column:
            row[column] = "now-5m"
        elif column == plan.filter_column:
            row[column] = _q(plan.match_value)
        else:
            row[column] = _q(str(sample[column]))
    other = dict(row, **{plan.filter_column: _q(plan.other_value)})
    out = [
        f"# Test cases for {_q(name)} ({rule_id}).",
        "# Fixture rows name only the columns that matter; the others get typed defaults",
        f"# from the {plan.table} schema of the catalog. Add a case for every way the query can go wrong.",
        f"platform: {catalog.PLATFORMS[plan.platform]}",
        f"now: {now.strftime('%Y-%m-%dT%H:%M:%SZ')}",
        "cases:",
        f"  - name: {_q(f'{plan.filter_column} {plan.match_value} is reported')}",
        "    tables:",
        f"      {plan.table}:",
        f"        - {_flow(row)}",
        "    expect:",
        f"      - {_flow(row)}",
        "",
        f"  - name: {_q(f'{plan.filter_column} {plan.other_value} is not reported')}",
        "    tables:",
        f"      {plan.table}:",
        f"        - {_flow(other)}",
        "    expect: []",
    ]
    return "\n".join(out) + "\n"


def write_new(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically; never replace a file that exists (even one created meanwhile)."""
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
        try:
            os.link(temp, path)
        except FileExistsError:
            raise DacError("file exists; not overwritten", Location(str(path))) from None
        except OSError:  # a file system without hard links
            if path.exists():
                raise DacError("file exists; not overwritten", Location(str(path))) from None
            os.replace(temp, path)
    finally:
        if os.path.exists(temp):
            os.unlink(temp)


def scaffold(kind: str, name: str, table: str, platform: str = "Defender", directory: str | Path | None = None,
             now: datetime | None = None, rule_id: str | None = None) -> tuple[Path, Path]:
    """Write ``<slug>.yaml`` and ``<slug>.tests.yaml``; return their paths."""
    kind = str(kind).lower()
    if kind not in KINDS:
        raise DacError(f"unknown kind '{kind}' (expected one of: {', '.join(KINDS)})")
    if not name.strip():
        raise DacError("the rule needs a name")
    from dac.importer import slug  # with dac.render and jinja2: not for every start of the command line

    stem = slug(name)
    if not stem:
        raise DacError(f"cannot make a file name from {name!r}; use letters or digits")
    plan = plan_query(table, catalog.normalise_platform(platform))
    folder = Path(directory if directory is not None else DEFAULT_DIRS[kind])
    rule_path, tests_path = folder / f"{stem}.yaml", folder / f"{stem}.tests.yaml"
    for path in (rule_path, tests_path):
        if path.exists():
            raise DacError("file exists; not overwritten", Location(str(path)))
    rule_id = rule_id or str(uuid.uuid4())
    now = now or datetime.now(timezone.utc).replace(tzinfo=None, minute=0, second=0, microsecond=0)
    texts = {rule_path: rule_text(kind, name, plan, rule_id), tests_path: tests_text(kind, name, plan, rule_id, now)}
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    try:
        for path, text in texts.items():
            write_new(path, text)
            written.append(path)
    except BaseException:
        for path in written:  # all or nothing
            path.unlink()
        raise
    return rule_path, tests_path


__all__ = ["KINDS", "Plan", "plan_query", "rule_text", "scaffold", "tests_text", "write_new"]


# --- command line -----------------------------------------------------------------------


def _command(args) -> int:
    from dac.testing.clock import clock_option

    now = clock_option(args.now)
    written = scaffold(args.kind, args.name, args.table, args.platform, args.dir, now=now)
    if args.format == "json":
        import json
        import sys

        sys.stdout.write(json.dumps({"command": "new", "written": [str(p) for p in written]}, indent=2) + "\n")
        return 0
    for path in written:
        print(f"wrote {printable(path)}")
    return 0


def register(sub) -> None:
    """Add ``dac new`` to the command line's subparsers."""
    new = sub.add_parser("new", help="write a new rule and its test file that validate and pass from the start")
    new.add_argument("--kind", required=True, type=str.lower, choices=list(KINDS),
                     help="hunting query, Scheduled or NRT analytics rule")
    new.add_argument("--name", required=True, help="the rule's name; the file name is its slug")
    new.add_argument("--table", required=True, help="the table the query reads, e.g. UrlClickEvents")
    new.add_argument("--platform", default="Defender", help="Defender (Timestamp) or Sentinel (TimeGenerated)")
    new.add_argument("--dir", help="folder to write into (default detections/hunting or detections/analytics)")
    new.add_argument("--now", help="the test file's fixed clock, ISO 8601 (default: this hour, UTC)")
    new.add_argument("--format", choices=("text", "json"), default="text",
                     help="json: one JSON document on stdout for machines (exit codes unchanged)")
    new.set_defaults(func=_command)
