"""``dac deploy``: what deploying the rules would change in a workspace, and the requests that would do it.

Nothing here talks to Azure. ``dac deploy --dry-run --current EXPORT.json`` compares
the rules under PATHS (their rendered Sentinel resources) with an export of the
workspace and prints a drift report::

    create <name> (<id>)
    update <name> (<id>): <changed property names>
    delete <name> (<id>)        only with --prune
    unmanaged <name> (<id>)     in the workspace, not in PATHS, left alone
    <n> unchanged

The export is what the ARM REST list APIs return, saved as JSON: ``{"value": [...]}``
from ``GET .../providers/Microsoft.SecurityInsights/alertRules`` and/or from
``GET .../savedSearches``, or a JSON list of such documents or of their items.
An item is an alert rule when its ``id`` has ``/alertRules/`` in it (or its
``type`` is ``Microsoft.SecurityInsights/alertRules``), a saved search when the
id has ``/savedSearches/``; its name is the last segment of the id.

Which workspace items are ours. A rule is matched to a workspace item by its id
(the resource name, compared case-insensitively) and resource type. Only
Scheduled and NRT alert rules and saved searches in the "Hunting Queries"
category are candidates at all; other alert rule kinds (Fusion, Microsoft
incident creation, ...) and other saved searches (functions, workbooks' queries)
are never reported or touched. A candidate the rules do not contain is listed as
``unmanaged``; ``--prune`` declares the workspace's analytics rules and hunting
queries wholly managed by PATHS and turns those lines into ``delete``.

What counts as a change. For each property the renderer writes, the workspace
value is compared with the rendered one (for alert rules also ``kind``); a
property the workspace omits equals ``null``. Values are compared exactly, so a
list in another order is a change. Properties only the service writes
(``lastModifiedUtc``, ``etag``, ...) are ignored.

Real deployment. :func:`build_requests` turns the plan into ARM REST calls,
``(method, url, body)`` with body ``None`` for DELETE:

* ``PUT https://management.azure.com/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.OperationalInsights/workspaces/{ws}/providers/Microsoft.SecurityInsights/alertRules/{id}?api-version=2023-12-01-preview``
  with ``{"kind": ..., "properties": {...}}``;
* ``PUT .../workspaces/{ws}/savedSearches/{id}?api-version=2020-08-01`` with
  ``{"etag": "*", "properties": {...}}`` (``*`` overwrites the saved search whatever
  its current etag);
* ``DELETE`` on the same URLs for ``--prune`` deletions.

Bodies carry literal values (the ARM template escape ``[[`` is undone: REST is
not template-evaluated). A pipeline sends them with a token for
``https://management.azure.com/`` - for example, per request, ``az rest --method PUT
--url URL --body @body.json`` after ``az login`` (or ``azure/login`` in GitHub
Actions), or ``azure.identity.DefaultAzureCredential`` with any HTTP client or
``azure.mgmt.resource``'s generic ``resources.begin_create_or_update_by_id``.
Deploying the pack's ``deployment/sentinel.json`` or ``.bicep`` with
``az deployment group create`` is the alternative that needs no code; it creates
and updates but never deletes. The command line never sends anything: without
``--dry-run`` it refuses.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from dac.errors import DacError, Location
from dac.files import MAX_JSON_BYTES, read_text
from dac.output.escape import printable
from dac.render import render_rule
from dac.render.deployment import PackRule, arm_unescape, collect
from dac.render.sentinel import (
    ALERT_RULE_API_VERSION,
    HUNTING_CATEGORY,
    SAVED_SEARCH_API_VERSION,
)
from dac.rules.model import discover_rule_files, load_rule

ARM_ENDPOINT = "https://management.azure.com"
ALERT_RULES = "alertRules"
SAVED_SEARCHES = "savedSearches"
MANAGED_KINDS = ("Scheduled", "NRT")

SUBSCRIPTION = re.compile(r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$")
RESOURCE_GROUP = re.compile(r"^[-\w.()]{0,89}[-\w()]$")
WORKSPACE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{2,61}[A-Za-z0-9]$")


@dataclass(frozen=True)
class Desired:
    """A rule as it should be in the workspace."""

    collection: str  # alertRules or savedSearches
    name: str  # resource name: the rule id
    display_name: str
    kind: str | None  # Scheduled / NRT for alert rules
    properties: dict[str, Any]

    @property
    def key(self) -> tuple[str, str]:
        return (self.collection, self.name.lower())


@dataclass(frozen=True)
class Current:
    """One item of the workspace export."""

    collection: str
    name: str
    display_name: str
    kind: str | None
    properties: dict[str, Any]

    @property
    def key(self) -> tuple[str, str]:
        return (self.collection, self.name.lower())

    @property
    def managed_kind(self) -> bool:
        if self.collection == ALERT_RULES:
            return self.kind in MANAGED_KINDS
        return self.properties.get("category") == HUNTING_CATEGORY


@dataclass(frozen=True)
class Change:
    action: str  # create, update, delete, unmanaged
    collection: str
    name: str
    display_name: str
    changed: tuple[str, ...] = ()
    desired: Desired | None = None

    def line(self) -> str:
        """The report line; names from the export or the rules are escaped, so none can write a line of its own."""
        text = f"{self.action} {printable(self.display_name)} ({printable(self.name)})"
        return f"{text}: {printable(', '.join(self.changed))}" if self.changed else text


@dataclass
class Plan:
    changes: list[Change] = field(default_factory=list)
    unchanged: list[Desired] = field(default_factory=list)
    ignored: int = 0  # workspace items that are never ours (other kinds, other saved searches)

    def of(self, action: str) -> list[Change]:
        return [c for c in self.changes if c.action == action]

    def report(self) -> str:
        lines = [change.line() for change in self.changes]
        lines.append(f"{len(self.unchanged)} unchanged")
        if self.of("unmanaged"):
            lines.append(f"{len(self.of('unmanaged'))} unmanaged (in the workspace, not in the rules; "
                         "--prune deletes them)")
        if self.ignored:
            lines.append(f"{self.ignored} other workspace item(s) ignored (not Scheduled/NRT rules or hunting queries)")
        return "\n".join(lines) + "\n"


# --- the two sides -----------------------------------------------------------


def desired_from(rules: list[PackRule]) -> list[Desired]:
    result = []
    for item in rules:
        hunting = item.is_hunting
        result.append(Desired(
            collection=SAVED_SEARCHES if hunting else ALERT_RULES,
            name=item.guid,
            display_name=item.name,
            kind=None if hunting else item.kind,
            properties=item.literal_properties,
        ))
    return result


def desired_rules(paths: list[str]) -> list[Desired]:
    """Every Sentinel rule under ``paths``, rendered, in deployment order (name, then id).

    A rule that targets only Defender XDR has no place in a workspace's alert rules.
    """
    pairs = []
    for path in discover_rule_files(paths):
        rule = load_rule(path)
        artifacts = render_rule(rule)
        if "sentinel" in artifacts:
            pairs.append((rule, artifacts["sentinel"]))
    return desired_from(collect(pairs))


def _items(document: Any, where: Location) -> list[Any]:
    if isinstance(document, dict) and isinstance(document.get("value"), list):
        return list(document["value"])
    if isinstance(document, list):
        items: list[Any] = []
        for part in document:
            if isinstance(part, dict) and isinstance(part.get("value"), list):
                items.extend(part["value"])
            else:
                items.append(part)
        return items
    raise DacError('expected an ARM list response {"value": [...]} or a JSON list of them', where)


def parse_export(document: Any, where: Location | None = None) -> list[Current]:
    """The workspace items of an export (see the module docstring for the accepted shapes)."""
    where = where or Location()
    result: list[Current] = []
    for index, item in enumerate(_items(document, where)):
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            raise DacError(f"export item {index} has no string 'id'", where)
        resource_id = item["id"].rstrip("/")
        segments = resource_id.split("/")
        parent = segments[-2].lower() if len(segments) >= 2 else ""
        type_name = str(item.get("type", "")).lower()
        if parent == "alertrules" or type_name.endswith("/alertrules"):
            collection = ALERT_RULES
        elif parent == "savedsearches" or type_name.endswith("/savedsearches"):
            collection = SAVED_SEARCHES
        else:
            raise DacError(f"export item {index} ({resource_id}) is neither an alert rule nor a saved search", where)
        properties = item.get("properties") or {}
        if not isinstance(properties, dict):
            raise DacError(f"export item {index} ({resource_id}): 'properties' is not an object", where)
        name = segments[-1]
        display = properties.get("displayName")
        result.append(Current(
            collection=collection,
            name=name,
            display_name=display if isinstance(display, str) else name,
            kind=item.get("kind") if isinstance(item.get("kind"), str) else None,
            properties=properties,
        ))
    return result


def load_export(path: str | Path) -> list[Current]:
    """The workspace items of the export file ``path`` (a regular file of at most MAX_JSON_BYTES)."""
    where = Location(str(path))
    text = read_text(path, MAX_JSON_BYTES, too_large="a workspace export is expected to be smaller")
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise DacError(f"the export is not JSON: {exc}", where) from None
    except RecursionError:
        raise DacError("the export is not JSON that can be read: it is nested too deeply", where) from None
    return parse_export(document, where)


# --- comparing ---------------------------------------------------------------


def changed_properties(desired: Desired, current: Current) -> tuple[str, ...]:
    changed = []
    if desired.kind is not None and desired.kind != current.kind:
        changed.append("kind")
    for key, value in desired.properties.items():
        if current.properties.get(key) != value:
            changed.append(key)
    return tuple(changed)


def plan(desired: list[Desired], current: list[Current], *, prune: bool = False) -> Plan:
    """Compare the rules with the workspace; creates and updates in rule order, then the rest by name."""
    result = Plan()
    by_key: dict[tuple[str, str], Current] = {}
    for item in current:
        if item.key in by_key:
            raise DacError(f"the export lists {item.collection}/{item.name} twice")
        by_key[item.key] = item
    wanted = {d.key for d in desired}
    for rule in desired:
        existing = by_key.get(rule.key)
        if existing is None:
            result.changes.append(Change("create", rule.collection, rule.name, rule.display_name, desired=rule))
            continue
        changed = changed_properties(rule, existing)
        if changed:
            result.changes.append(Change("update", rule.collection, rule.name, rule.display_name, changed, rule))
        else:
            result.unchanged.append(rule)
    leftovers = []
    for item in current:
        if item.key in wanted:
            continue
        if not item.managed_kind:
            result.ignored += 1
            continue
        leftovers.append(Change("delete" if prune else "unmanaged", item.collection, item.name, item.display_name))
    leftovers.sort(key=lambda c: (c.display_name.casefold(), c.display_name, c.name.lower()))
    result.changes.extend(leftovers)
    return result


# --- the requests a real deployment sends ------------------------------------


def workspace_url(subscription: str, resource_group: str, workspace: str) -> str:
    if not SUBSCRIPTION.match(subscription or ""):
        raise DacError(f"subscription {subscription!r} is not a subscription id (a GUID)")
    if not RESOURCE_GROUP.match(resource_group or ""):
        raise DacError(f"resource group {resource_group!r} is not a valid resource group name")
    if not WORKSPACE.match(workspace or ""):
        raise DacError(f"workspace {workspace!r} is not a valid Log Analytics workspace name")
    return (f"{ARM_ENDPOINT}/subscriptions/{subscription}/resourceGroups/{quote(resource_group, safe='')}"
            f"/providers/Microsoft.OperationalInsights/workspaces/{workspace}")


def resource_url(base: str, collection: str, name: str) -> str:
    segment = quote(name, safe="")
    if collection == ALERT_RULES:
        return f"{base}/providers/Microsoft.SecurityInsights/alertRules/{segment}?api-version={ALERT_RULE_API_VERSION}"
    return f"{base}/savedSearches/{segment}?api-version={SAVED_SEARCH_API_VERSION}"


def request_body(rule: Desired) -> dict[str, Any]:
    if rule.collection == ALERT_RULES:
        return {"kind": rule.kind, "properties": rule.properties}
    return {"etag": "*", "properties": rule.properties}


def build_requests(desired: list[Desired], *, subscription: str, resource_group: str, workspace: str,
                   drift: Plan | None = None) -> list[tuple[str, str, dict[str, Any] | None]]:
    """The ARM REST calls that deploy ``desired``: ``(method, url, body)``.

    Without a ``drift`` plan every rule is PUT (PUT creates or replaces). With one,
    only its creates and updates are PUT, and its deletes (``--prune``) are DELETEs;
    unchanged and unmanaged items get no request.
    """
    base = workspace_url(subscription, resource_group, workspace)
    if drift is None:
        return [("PUT", resource_url(base, rule.collection, rule.name), request_body(rule)) for rule in desired]
    requests: list[tuple[str, str, dict[str, Any] | None]] = []
    for change in drift.changes:
        if change.action in ("create", "update") and change.desired is not None:
            requests.append(("PUT", resource_url(base, change.collection, change.name), request_body(change.desired)))
        elif change.action == "delete":
            requests.append(("DELETE", resource_url(base, change.collection, change.name), None))
    return requests


__all__ = ["Change", "Current", "Desired", "Plan", "arm_unescape", "build_requests", "desired_rules", "load_export",
           "parse_export", "plan"]
