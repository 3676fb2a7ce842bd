"""The fields of a Scheduled or NRT rule that decide what Sentinel's scheduler does with it.

They are read with the renderer's checks (``dac.render.fields``), so a field ``dac build``
would refuse is refused here at the same key, and a rule that simulates is one that deploys.
Durations go through the rule model's timespan parser (``5m``, ``1h``, ``d.hh:mm:ss``, ISO 8601).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from dac.errors import DacError
from dac.render import fields
from dac.render.sentinel import DEFAULT_SUPPRESSION_DURATION, incident_configuration
from dac.rules.model import Rule
from dac.rules.timespans import parse_rule_timespan

KINDS = ("Scheduled", "NRT")


@dataclass(frozen=True)
class Grouping:
    """``incidentConfiguration``: whether alerts make incidents and how they are grouped."""

    create_incident: bool
    enabled: bool
    lookback: timedelta
    matching: str  # AllEntities, AnyAlert or Selected
    by_entities: tuple[str, ...] = ()
    by_alert_details: tuple[str, ...] = ()
    by_custom_details: tuple[str, ...] = ()
    reopen_closed: bool = False


@dataclass(frozen=True)
class RuleSettings:
    """What the simulation needs of a rule, checked and converted once."""

    name: str
    kind: str
    severity: str
    frequency: timedelta | None  # None for NRT: the scheduler runs it every minute
    period: timedelta | None
    trigger_operator: str  # GreaterThan, LessThan, Equal, NotEqual
    trigger_threshold: int
    aggregation: str  # SingleAlert or AlertPerResult
    suppression: timedelta | None  # None when suppression is off
    entity_mappings: list[dict[str, Any]] = field(default_factory=list)
    custom_details: dict[str, str] = field(default_factory=dict)
    override: dict[str, Any] = field(default_factory=dict)
    grouping: Grouping | None = None


def _duration(rule: Rule, key: str, raw: Any, *where: Any) -> timedelta:
    span = parse_rule_timespan(raw, allow_iso=True) if isinstance(raw, str) else None
    if span is None or span <= timedelta(0):
        raise fields.fail(rule, f"{fields.dotted(*where) or key}: {raw!r} is not a timespan such as 5m, 1h or 14d",
                          *(where or (key,)))
    return span


def _required_duration(rule: Rule, key: str) -> timedelta:
    raw = rule.data.get(key)
    if raw is None:
        raise DacError(f"{key}: missing; a Scheduled rule needs it to be simulated", rule.location())
    return _duration(rule, key, raw, key)


def _grouping(rule: Rule) -> Grouping:
    config = incident_configuration(rule)
    grouping = config["groupingConfiguration"]
    where = ("incidentConfiguration", "groupingConfiguration")
    return Grouping(
        create_incident=config["createIncident"],
        enabled=grouping["enabled"],
        lookback=_duration(rule, "lookbackDuration", grouping["lookbackDuration"], *where, "lookbackDuration"),
        matching=grouping["matchingMethod"],
        by_entities=tuple(grouping.get("groupByEntities") or ()),
        by_alert_details=tuple(grouping.get("groupByAlertDetails") or ()),
        by_custom_details=tuple(str(name) for name in grouping.get("groupByCustomDetails") or ()),
        reopen_closed=grouping["reopenClosedIncident"],
    )


def rule_settings(rule: Rule) -> RuleSettings:
    """The scheduling, alert and incident settings of ``rule``; a located DacError for what cannot run.

    NRT rules carry no schedule and no trigger: Sentinel runs them every minute and
    alerts on any result, so the trigger is "more than 0 results".
    """
    kind = rule.kind
    if kind not in KINDS:
        what = "a hunting query (no kind)" if kind == "Hunting" else f"kind {kind!r}"
        raise DacError(f"{what} is not run by Sentinel's scheduler; dac simulate takes Scheduled and NRT rules",
                       rule.location("kind") if "kind" in rule.data else rule.location())
    fields.rule_query(rule)
    scheduled = kind == "Scheduled"
    suppressed = fields.get_bool(rule, "suppressionEnabled", False)
    raw_suppression = rule.data.get("suppressionDuration", DEFAULT_SUPPRESSION_DURATION)
    return RuleSettings(
        name=fields.get_str(rule, "name", required=True) or "",
        kind=kind,
        severity=fields.severity(rule, required=True) or "",
        frequency=_required_duration(rule, "queryFrequency") if scheduled else None,
        period=_required_duration(rule, "queryPeriod") if scheduled else None,
        trigger_operator=fields.trigger_operator(rule) if scheduled else "GreaterThan",
        trigger_threshold=(fields.get_int(rule, "triggerThreshold", required=True) or 0) if scheduled else 0,
        aggregation=(fields.event_grouping(rule) or {}).get("aggregationKind", "SingleAlert"),
        suppression=_duration(rule, "suppressionDuration", raw_suppression, "suppressionDuration")
        if suppressed else None,
        entity_mappings=fields.entity_mappings(rule) or [],
        custom_details=fields.custom_details(rule) or {},
        override=fields.alert_details_override(rule) or {},
        grouping=_grouping(rule),
    )
