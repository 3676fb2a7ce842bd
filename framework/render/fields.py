"""Reading rule fields for rendering: type checks and the YAML -> API conversions.

The renderer does not assume ``dac validate`` ran first: every field it writes
is checked here, and a value it cannot turn into a deployable artifact is a
DacError pointing at the offending key. The conversions are the ones the
Azure-Sentinel YAML format implies for the ARM API: Kusto timespans become
ISO 8601 durations, short trigger operators become the API's enum names, and
ATT&CK sub-techniques are split from techniques.

Values the published alertRules schema (Azure/azure-resource-manager-schemas,
``schemas/2023-12-01-preview/Microsoft.SecurityInsights.json``; the parts used are
kept in tests/data/arm/) restricts to an enum are checked against that enum here,
so a value ARM would refuse (an entity type ``Azure resource``, a tactic
``Command and control``) fails the build at its key instead of being deployed.
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

# Enums of the alertRules schema (2023-12-01-preview): ScheduledAlertRuleProperties.tactics,
# EntityMapping.entityType (= GroupingConfiguration.groupByEntities), GroupingConfiguration
# .groupByAlertDetails / .matchingMethod, EventGroupingSettings.aggregationKind and
# AlertPropertyMapping.alertProperty.
TACTICS = (
    "Reconnaissance", "ResourceDevelopment", "InitialAccess", "Execution", "Persistence", "PrivilegeEscalation",
    "DefenseEvasion", "CredentialAccess", "Discovery", "LateralMovement", "Collection", "Exfiltration",
    "CommandAndControl", "Impact", "PreAttack", "ImpairProcessControl", "InhibitResponseFunction",
)
ENTITY_TYPES = (
    "Account", "Host", "IP", "Malware", "File", "Process", "CloudApplication", "DNS", "AzureResource", "FileHash",
    "RegistryKey", "RegistryValue", "SecurityGroup", "URL", "Mailbox", "MailCluster", "MailMessage", "SubmissionMail",
)
ALERT_DETAILS = ("DisplayName", "Severity")
MATCHING_METHODS = ("AllEntities", "AnyAlert", "Selected")
AGGREGATION_KINDS = ("SingleAlert", "AlertPerResult")
ALERT_PROPERTIES = (
    "AlertLink", "ConfidenceLevel", "ConfidenceScore", "ExtendedLinks", "ProductName", "ProviderName",
    "ProductComponentName", "RemediationSteps", "Techniques", "SubTechniques",
)
SUB_TECHNIQUE = re.compile(r"^T[0-9]{4}\.[0-9]{3}$")


def fail(rule: Rule, message: str, *key: Any) -> DacError:
    return DacError(message, rule.location(*key))


def dotted(*key: Any) -> str:
    """``entityMappings[0].entityType`` for the key path ``("entityMappings", 0, "entityType")``."""
    text = ""
    for part in key:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def without_nulls(value: Any) -> Any:
    """``value`` with every null member of a mapping left out, at any depth.

    Azure-Sentinel files and portal exports spell an unset member as null
    (``alertDescriptionFormat: null``); the published schemas type each member
    (a string, an object), so null is refused there and the member is omitted.
    """
    if isinstance(value, dict):
        return {key: without_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [without_nulls(item) for item in value]
    return value


def check_enum(rule: Rule, value: Any, allowed: tuple[str, ...], *key: Any) -> None:
    """``value`` must be one of the API's enum names, spelled exactly."""
    if value not in allowed:
        close = [name for name in allowed if isinstance(value, str) and name.lower() == value.replace(" ", "").lower()]
        hint = f" (did you mean '{close[0]}'?)" if close else f"; expected one of {', '.join(allowed)}"
        raise fail(rule, f"{dotted(*key)}: {value!r} is not a value the alertRules API accepts{hint}", *key)


def check_enum_list(rule: Rule, items: Any, allowed: tuple[str, ...], *key: Any) -> None:
    if items is None:
        return
    if not isinstance(items, list):
        raise fail(rule, f"{dotted(*key)}: expected a list, found {type(items).__name__}", *key)
    for index, item in enumerate(items):
        check_enum(rule, item, allowed, *key, index)


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
    """A mapping field with its null members left out (see :func:`without_nulls`)."""
    value = rule.data.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise fail(rule, f"{key}: expected a mapping, found {type(value).__name__}", key)
    return without_nulls(value)


def get_list(rule: Rule, key: str) -> list | None:
    """A list field with the null members of its mappings left out (see :func:`without_nulls`)."""
    value = rule.data.get(key)
    if value is None:
        return None
    if not isinstance(value, list):
        raise fail(rule, f"{key}: expected a list, found {type(value).__name__}", key)
    return without_nulls(value)


def tactics(rule: Rule) -> list[str]:
    """``tactics``, each one of the API's tactic names."""
    items = get_str_list(rule, "tactics")
    check_enum_list(rule, items, TACTICS, "tactics")
    return items


def _mapping_item(rule: Rule, item: Any, *key: Any) -> dict:
    if not isinstance(item, dict):
        raise fail(rule, f"{dotted(*key)}: expected a mapping, found {type(item).__name__}", *key)
    return item


def _string_member(rule: Rule, item: dict, member: str, *key: Any) -> None:
    value = item.get(member)
    if not isinstance(value, str) or not value:
        raise fail(rule, f"{dotted(*key, member)}: expected a non-empty string, found {value!r}", *key, member)


def entity_mappings(rule: Rule) -> list | None:
    """``entityMappings`` checked against the alertRules schema's EntityMapping.

    An entity type the API does not define (``Azure resource``, ``Url``) is an
    error at its key: a mapping Sentinel refuses must not be deployed.
    """
    mappings = get_list(rule, "entityMappings")
    for e_index, mapping in enumerate(mappings or []):
        mapping = _mapping_item(rule, mapping, "entityMappings", e_index)
        check_enum(rule, mapping.get("entityType"), ENTITY_TYPES, "entityMappings", e_index, "entityType")
        field_mappings = mapping.get("fieldMappings")
        if not isinstance(field_mappings, list):
            raise fail(rule, f"entityMappings[{e_index}].fieldMappings: expected a list",
                       "entityMappings", e_index, "fieldMappings")
        for f_index, field in enumerate(field_mappings):
            key = ("entityMappings", e_index, "fieldMappings", f_index)
            field = _mapping_item(rule, field, *key)
            for member in ("identifier", "columnName"):
                _string_member(rule, field, member, *key)
    return mappings


def sentinel_entities_mappings(rule: Rule) -> list | None:
    mappings = get_list(rule, "sentinelEntitiesMappings")
    for index, mapping in enumerate(mappings or []):
        _string_member(rule, _mapping_item(rule, mapping, "sentinelEntitiesMappings", index), "columnName",
                       "sentinelEntitiesMappings", index)
    return mappings


def custom_details(rule: Rule) -> dict | None:
    """``customDetails``: detail name -> column name, both strings (the schema's string map)."""
    details = get_mapping(rule, "customDetails")
    for name, column in (details or {}).items():
        if not isinstance(column, str):
            raise fail(rule, f"customDetails.{name}: expected a column name, found {column!r}", "customDetails", name)
    return details


def alert_details_override(rule: Rule) -> dict | None:
    """``alertDetailsOverride`` with its dynamic properties' names checked; None when nothing is set."""
    override = get_mapping(rule, "alertDetailsOverride")
    if not override:
        return None
    for member in ("alertDisplayNameFormat", "alertDescriptionFormat", "alertTacticsColumnName",
                   "alertSeverityColumnName"):
        if member in override and not isinstance(override[member], str):
            raise fail(rule, f"alertDetailsOverride.{member}: expected a string, found {override[member]!r}",
                       "alertDetailsOverride", member)
    dynamic = override.get("alertDynamicProperties")
    if dynamic is not None:
        if not isinstance(dynamic, list):
            raise fail(rule, "alertDetailsOverride.alertDynamicProperties: expected a list",
                       "alertDetailsOverride", "alertDynamicProperties")
        for index, item in enumerate(dynamic):
            key = ("alertDetailsOverride", "alertDynamicProperties", index)
            item = _mapping_item(rule, item, *key)
            check_enum(rule, item.get("alertProperty"), ALERT_PROPERTIES, *key, "alertProperty")
            _string_member(rule, item, "value", *key)
    return override


def event_grouping(rule: Rule) -> dict | None:
    settings = get_mapping(rule, "eventGroupingSettings")
    if settings is not None:
        check_enum(rule, settings.get("aggregationKind"), AGGREGATION_KINDS, "eventGroupingSettings", "aggregationKind")
    return settings


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
    """``relevantTechniques`` then ``subTechniques``, checked as ATT&CK ids, order kept, duplicates dropped.

    Azure-Sentinel files name sub-techniques either among ``relevantTechniques``
    (T1562.008 beside or instead of T1562) or in a ``subTechniques`` list of their own;
    both mean the same ATT&CK mapping.
    """
    seen: list[str] = []
    for key, pattern, form in (("relevantTechniques", TECHNIQUE, "T#### or T####.###"),
                               ("subTechniques", SUB_TECHNIQUE, "a sub-technique T####.###")):
        for index, item in enumerate(get_str_list(rule, key)):
            if not pattern.match(item):
                raise fail(rule, f"{key}[{index}]: {item!r} is not {form}", key, index)
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
