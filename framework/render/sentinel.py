"""Microsoft Sentinel: one ARM deployment template per rule.

Hunting queries become ``Microsoft.OperationalInsights/workspaces/savedSearches``
in the "Hunting Queries" category, with description, tactics and techniques as
tags (the shape Sentinel itself stores hunting queries in). Scheduled and NRT
rules become ``Microsoft.OperationalInsights/workspaces/providers/alertRules``
with the properties of the SecurityInsights alertRules API, laid out like the
template Sentinel's "Export" button produces. tests/data/render/shapes.json
records where each shape and apiVersion comes from.

This module decides the values; the templates under templates/ lay them out.
"""

from __future__ import annotations

from typing import Any

from dac.render import fields
from dac.render.carriage import sentinel_carriage
from dac.render.environment import ArmExpression, RenderError, is_arm_expression, render_json
from dac.render.notes import Note
from dac.rules.model import Rule

DEPLOYMENT_SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"
CONTENT_VERSION = "1.0.0.0"

SAVED_SEARCH_TYPE = "Microsoft.OperationalInsights/workspaces/savedSearches"
SAVED_SEARCH_API_VERSION = "2020-08-01"
HUNTING_CATEGORY = "Hunting Queries"
QUERY_LANGUAGE_VERSION = 2

ALERT_RULE_TYPE = "Microsoft.OperationalInsights/workspaces/providers/alertRules"
# The newest SecurityInsights version whose alertRules accept both kinds we
# render: the stable versions up to 2025-09-01 define no NRT kind.
ALERT_RULE_API_VERSION = "2023-12-01-preview"

DEFAULT_SUPPRESSION_DURATION = "PT1H"
# What the Sentinel rule wizard starts from: an incident per alert, grouping off.
DEFAULT_GROUPING = {
    "enabled": False,
    "reopenClosedIncident": False,
    "lookbackDuration": "PT5H",
    "matchingMethod": "AllEntities",
    "groupByEntities": [],
    "groupByAlertDetails": [],
    "groupByCustomDetails": [],
}
DEFAULT_EVENT_GROUPING = {"aggregationKind": "SingleAlert"}


def _quote(text: str) -> str:
    """A string literal inside an ARM expression (single quotes doubled)."""
    return "'" + text.replace("'", "''") + "'"


def resource_names(kind: str, guid: str) -> dict[str, ArmExpression]:
    """The ``id`` and ``name`` expressions of the resource; ``guid`` is a checked GUID."""
    if kind == "Hunting":
        return {"name": ArmExpression(f"[concat(parameters('workspace'), '/', {_quote(guid)})]")}
    return {
        "id": ArmExpression(
            "[concat(resourceId('Microsoft.OperationalInsights/workspaces/providers', "
            f"parameters('workspace'), 'Microsoft.SecurityInsights'), '/alertRules/', {_quote(guid)})]"
        ),
        "name": ArmExpression(f"[concat(parameters('workspace'), '/Microsoft.SecurityInsights/', {_quote(guid)})]"),
    }


def incident_configuration(rule: Rule) -> dict[str, Any]:
    """``incidentConfiguration`` over the wizard's defaults, checked and with an ISO 8601 lookback
    (the build renders it; ``dac simulate`` groups alerts into incidents by it)."""
    given = fields.get_mapping(rule, "incidentConfiguration")
    if given is None:
        return {"createIncident": True, "groupingConfiguration": dict(DEFAULT_GROUPING)}
    create = given.get("createIncident", True)
    if not isinstance(create, bool):
        raise fields.fail(rule, "incidentConfiguration.createIncident: expected true or false",
                          "incidentConfiguration", "createIncident")
    grouping = given.get("groupingConfiguration") or {}
    if not isinstance(grouping, dict):
        raise fields.fail(rule, "incidentConfiguration.groupingConfiguration: expected a mapping",
                          "incidentConfiguration", "groupingConfiguration")
    merged = dict(DEFAULT_GROUPING)
    merged.update(grouping)
    where = ("incidentConfiguration", "groupingConfiguration")
    lookback = merged["lookbackDuration"]
    converted = fields.iso_duration(lookback) if isinstance(lookback, str) else None
    if converted is None:
        raise fields.fail(
            rule,
            f"incidentConfiguration.groupingConfiguration.lookbackDuration: {lookback!r} is not a duration",
            *where, "lookbackDuration",
        )
    merged["lookbackDuration"] = converted
    for member in ("enabled", "reopenClosedIncident"):
        if not isinstance(merged[member], bool):
            raise fields.fail(rule, f"{fields.dotted(*where, member)}: expected true or false", *where, member)
    fields.check_enum(rule, merged["matchingMethod"], fields.MATCHING_METHODS, *where, "matchingMethod")
    fields.check_enum_list(rule, merged["groupByEntities"], fields.ENTITY_TYPES, *where, "groupByEntities")
    fields.check_enum_list(rule, merged["groupByAlertDetails"], fields.ALERT_DETAILS, *where, "groupByAlertDetails")
    extra = {key: value for key, value in given.items() if key not in ("createIncident", "groupingConfiguration")}
    return {"createIncident": create, "groupingConfiguration": merged, **extra}


def analytics_properties(rule: Rule, kind: str) -> dict[str, Any]:
    """The values of an alertRules resource's properties, converted for the API.

    The optional properties (alert details, custom details, entity mappings) are
    present only when the rule sets them to something: the schema types each as
    an object or a list, so the null Sentinel's exports write for unset would be
    refused, and an empty one says nothing.
    """
    techniques, sub_techniques = fields.split_techniques(fields.techniques(rule))
    props: dict[str, Any] = {
        "displayName": fields.get_str(rule, "name", required=True),
        "description": fields.get_str(rule, "description", default=""),
        "severity": fields.severity(rule, required=True),
        "enabled": True,
        "query": fields.rule_query(rule),
        "suppressionDuration": fields.duration(rule, "suppressionDuration", default=DEFAULT_SUPPRESSION_DURATION),
        "suppressionEnabled": fields.get_bool(rule, "suppressionEnabled", False),
        "tactics": fields.tactics(rule),
        "techniques": techniques,
        "subTechniques": sub_techniques,
        "incidentConfiguration": incident_configuration(rule),
        "eventGroupingSettings": fields.event_grouping(rule) or dict(DEFAULT_EVENT_GROUPING),
    }
    optional = {
        "alertDetailsOverride": fields.alert_details_override(rule),
        "customDetails": fields.custom_details(rule),
        "entityMappings": fields.entity_mappings(rule),
        "sentinelEntitiesMappings": fields.sentinel_entities_mappings(rule),
    }
    props.update({key: value for key, value in optional.items() if value})
    if kind == "Scheduled":
        props["queryFrequency"] = fields.duration(rule, "queryFrequency", required=True)
        props["queryPeriod"] = fields.duration(rule, "queryPeriod", required=True)
        props["triggerOperator"] = fields.trigger_operator(rule)
        props["triggerThreshold"] = fields.get_int(rule, "triggerThreshold", required=True)
    return props


def hunting_properties(rule: Rule) -> dict[str, Any]:
    """The values of a savedSearches resource's properties.

    Sentinel reads a hunting query's description, tactics and techniques from the
    saved search's tags; sub-techniques are techniques there, as ids such as T1562.008.
    """
    tags = [{"name": "description", "value": fields.get_str(rule, "description", default="")}]
    tactics = fields.get_str_list(rule, "tactics")  # free text in a tag: no API enum applies
    techniques = fields.techniques(rule)
    if tactics:
        tags.append({"name": "tactics", "value": ",".join(tactics)})
    if techniques:
        tags.append({"name": "techniques", "value": ",".join(techniques)})
    return {
        "category": HUNTING_CATEGORY,
        "displayName": fields.get_str(rule, "name", required=True),
        "query": fields.rule_query(rule),
        "version": QUERY_LANGUAGE_VERSION,
        "tags": tags,
    }


def _check_expressions(value: Any, allowed: set[str], rule: Rule, where: str = "") -> None:
    """After rendering, the only ARM expressions left must be the renderer's own."""
    if isinstance(value, str):
        if is_arm_expression(value) and value not in allowed:
            raise RenderError(f"internal error: an ARM expression reached the output at {where or '/'}",
                              rule.location())
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_expressions(item, allowed, rule, f"{where}/{index}")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_expressions(key, allowed, rule, f"{where}/{key}")
            _check_expressions(item, allowed, rule, f"{where}/{key}")


METADATA_KEY = "dac"


def render(rule: Rule) -> tuple[dict[str, Any], list[Note]]:
    """The ARM deployment template for ``rule`` (parsed JSON) and notes on the fields it does not carry.

    Fields the resource has no property for travel in the template's free-form
    ``metadata`` (ignored by ARM) under ``dac.rules.<id>``, so that ``dac import``
    gives back exactly the rule it came from (:mod:`dac.render.carriage`).
    """
    kind = fields.rule_kind(rule)
    guid = fields.rule_id(rule)
    names = resource_names(kind, guid)
    kept, notes = sentinel_carriage(rule, kind)
    context = {
        "schema": DEPLOYMENT_SCHEMA,
        "content_version": CONTENT_VERSION,
        "names": names,
        "metadata": {METADATA_KEY: {"rules": {guid: kept}}},
    }
    if kind == "Hunting":
        template = "sentinel-hunting.json.j2"
        context.update(resource_type=SAVED_SEARCH_TYPE, api_version=SAVED_SEARCH_API_VERSION,
                       properties=hunting_properties(rule))
    else:
        template = "sentinel-analytics.json.j2"
        context.update(resource_type=ALERT_RULE_TYPE, api_version=ALERT_RULE_API_VERSION, kind=kind,
                       properties=analytics_properties(rule, kind))
    document = render_json(template, context, rule.location())
    _check_expressions(document, {str(expr) for expr in names.values()}, rule)
    return document, notes
