"""Reading rule fields for rendering: type checks and the YAML -> API conversions.

The renderer does not assume ``dac validate`` ran first: every field it writes
is checked here, and a value it cannot turn into a deployable artifact is a
DacError pointing at the offending key. The conversions are the ones the
Azure-Sentinel YAML format implies for the ARM API: Kusto timespans become
ISO 8601 durations, short trigger operators become the API's enum names, and
ATT&CK sub-techniques are split from techniques.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from dac.errors import DacError
from dac.rules.model import Rule
from dac.rules.timespans import UNIT_TIMESPAN, is_iso_duration, parse_rule_timespan

GUID = re.compile(r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$")
TECHNIQUE = re.compile(r"^T[0-9]{4}(\.[0-9]{3})?$")


TRIGGER_OPERATORS = {
    "gt": "GreaterThan",
    "lt": "LessThan",
    "eq": "Equal",
    "ne": "NotEqual",
    "GreaterThan": "GreaterThan",
    "LessThan": "LessThan",
    "Equal": "Equal",
    "NotEqual": "NotEqual",
}

SEVERITIES = ("Informational", "Low", "Medium", "High")
KINDS = ("Scheduled", "NRT", "Hunting")


def fail(rule: Rule, message: str, *key: Any) -> DacError:
    return DacError(message, rule.location(*key))


def get_str(rule: Rule, key: str, *, required: bool = False, default: str | None = None) -> str | None:
    value = rule.data.get(key)
    if value is None:
        if required:
            raise fail(rule, f"{key}: missing; a deployable rule needs it", key)
        return default
    if not isinstance(value, str):
        raise fail(rule, f"{key}: expected a string, found {type(value).__name__}", key)
    return value


def get_bool(rule: Rule, key: str, default: bool) -> bool:
    value = rule.data.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise fail(rule, f"{key}: expected true or false, found {value!r}", key)
    return value


def get_int(rule: Rule, key: str, *, required: bool = False) -> int | None:
    value = rule.data.get(key)
    if value is None:
        if required:
            raise fail(rule, f"{key}: missing; a deployable rule needs it", key)
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise fail(rule, f"{key}: expected an integer, found {value!r}", key)
    return value


def get_str_list(rule: Rule, key: str) -> list[str]:
    value = rule.data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise fail(rule, f"{key}: expected a list, found {type(value).__name__}", key)
    for index, item in enumerate(value):
        if not isinstance(item, str):
            raise fail(rule, f"{key}[{index}]: expected a string, found {item!r}", key, index)
    return list(value)


def get_mapping(rule: Rule, key: str) -> dict | None:
    value = rule.data.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise fail(rule, f"{key}: expected a mapping, found {type(value).__name__}", key)
    return value


def get_list(rule: Rule, key: str) -> list | None:
    value = rule.data.get(key)
    if value is None:
        return None
    if not isinstance(value, list):
        raise fail(rule, f"{key}: expected a list, found {type(value).__name__}", key)
    return value


def rule_kind(rule: Rule) -> str:
    kind = rule.kind
    if kind not in KINDS:
        raise fail(rule, f"kind: {kind!r} cannot be rendered (expected Scheduled, NRT or no kind)", "kind")
    return kind


def rule_id(rule: Rule) -> str:
    """The rule id; it names the deployed resource, so it must be a GUID."""
    value = rule.data.get("id")
    if not isinstance(value, str) or not GUID.match(value):
        raise fail(rule, f"id: {value!r} is not a GUID; the id names the deployed resource", "id")
    return value


def rule_query(rule: Rule) -> str:
    """The query text, unchanged; a rule without one cannot be deployed."""
    query = rule.data.get("query")
    if query is None:
        raise fail(
            rule,
            "rule has no query and cannot be deployed (a migration stub? build only the file it points to)",
        )
    if not isinstance(query, str) or not query.strip():
        raise fail(rule, "query: expected non-empty KQL text", "query")
    return query


def severity(rule: Rule, *, required: bool) -> str | None:
    value = get_str(rule, "severity", required=required)
    if value is not None and value not in SEVERITIES:
        raise fail(rule, f"severity: {value!r} is not one of {', '.join(SEVERITIES)}", "severity")
    return value


def parse_timespan(text: str) -> timedelta | None:
    """A rule timespan, ISO 8601 durations (as ARM exports carry them) included."""
    return parse_rule_timespan(text, allow_iso=True)


def iso_duration(text: str) -> str | None:
    """The ISO 8601 duration ARM expects: ``1h`` -> ``PT1H``, ``14d`` -> ``P14D``.

    A unit form keeps its number and unit (``90m`` -> ``PT90M``) so the artifact
    reads like the rule; clock forms are spelled out from their parts; a value
    already in ISO form is passed through. None if ``text`` is no duration.
    """
    match = UNIT_TIMESPAN.match(text)
    if match:
        number, unit = match.groups()
        return f"P{number}D" if unit == "d" else f"PT{number}{unit.upper()}"
    if is_iso_duration(text):
        return text
    span = parse_timespan(text)
    if span is None:
        return None
    total = int(span.total_seconds())
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    time = "".join(f"{n}{u}" for n, u in ((hours, "H"), (minutes, "M"), (seconds, "S")) if n)
    out = "P" + (f"{days}D" if days else "") + (f"T{time}" if time else "")
    return out if out != "P" else "PT0S"


def duration(rule: Rule, key: str, *, required: bool = False, default: str | None = None) -> str | None:
    """A duration field converted to ISO 8601."""
    raw = get_str(rule, key, required=required)
    if raw is None:
        return default
    converted = iso_duration(raw)
    if converted is None:
        raise fail(rule, f"{key}: {raw!r} is not a timespan such as 5m, 1h or 14d", key)
    return converted


def trigger_operator(rule: Rule) -> str:
    raw = get_str(rule, "triggerOperator", required=True)
    if raw not in TRIGGER_OPERATORS:
        raise fail(rule, f"triggerOperator: {raw!r} is not one of gt, lt, eq, ne", "triggerOperator")
    return TRIGGER_OPERATORS[raw]


def techniques(rule: Rule) -> list[str]:
    """``relevantTechniques`` checked as ATT&CK ids, order kept, duplicates dropped."""
    seen: list[str] = []
    for index, item in enumerate(get_str_list(rule, "relevantTechniques")):
        if not TECHNIQUE.match(item):
            raise fail(
                rule, f"relevantTechniques[{index}]: {item!r} is not T#### or T####.###", "relevantTechniques", index
            )
        if item not in seen:
            seen.append(item)
    return seen


def split_techniques(items: list[str]) -> tuple[list[str], list[str]]:
    """(techniques, sub-techniques) as the alertRules API takes them.

    ``techniques`` holds parent ids only (T1078); a sub-technique (T1078.004)
    goes to ``subTechniques`` and also contributes its parent to ``techniques``.
    """
    parents: list[str] = []
    subs: list[str] = []
    for item in items:
        parent = item.split(".", 1)[0]
        if parent not in parents:
            parents.append(parent)
        if "." in item and item not in subs:
            subs.append(item)
    return parents, subs
