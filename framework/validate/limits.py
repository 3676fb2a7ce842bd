"""Service limits Sentinel documents for analytics rules, checked before a deployment meets them.

The rule schema checks shapes; these are the numbers Microsoft's documentation
gives for what an analytics rule (Scheduled or NRT) may hold. Each limit below
cites the page (and the sentence) it comes from. Where the documentation gives
no number nothing is checked: there is none for a hunting query's query length
or entity mappings, for the length of a custom detail's name or value, or for the
number of alert dynamic properties; the published alertRules ARM schema
(2023-12-01-preview) sets no maxLength or maxItems on any alert rule property.

Two documented limits are warnings, not errors: Microsoft's own Azure-Sentinel
content exceeds them (the Microsoft Entra ID solution's "MFA Rejected by User"
maps four identifiers to one entity; the Web Session Essentials solution's
"Known malicious user agents" puts four parameters in its alert description),
so the portal wizard's limit is not evidently one the API enforces.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from dac.errors import DacError, DacWarning
from dac.rules.model import Rule
from dac.rules.timespans import parse_rule_timespan

ANALYTICS_KINDS = ("Scheduled", "NRT")

# https://learn.microsoft.com/azure/sentinel/map-data-fields-to-entities
# "You can define up to ten entity mappings in a single analytics rule."
MAX_ENTITY_MAPPINGS = 10
# same page: "You can define up to three identifiers for a given entity mapping." (a warning, see above)
MAX_IDENTIFIERS = 3
# https://learn.microsoft.com/azure/sentinel/surface-custom-details-in-alerts
# "You can define up to 20 custom details in a single analytics rule."
MAX_CUSTOM_DETAILS = 20
# https://learn.microsoft.com/azure/sentinel/customize-alert-details
# "You are currently limited to three parameters each in the Alert Name Format and Alert
# Description Format fields." (a warning, see above)
MAX_FORMAT_PARAMETERS = 3
FORMAT_FIELDS = ("alertDisplayNameFormat", "alertDescriptionFormat")
# https://learn.microsoft.com/azure/sentinel/scheduled-rules-overview (Best practices for analytics
# rule queries): "The query length should be between 1 and 10,000 characters". NRT rules are built
# in the same analytics rule wizard (https://learn.microsoft.com/azure/sentinel/create-nrt-rules).
MAX_QUERY_LENGTH = 10_000
# same page, Suppression: "set Stop running query for to the amount of time the query should stop
# running, up to 24 hours."
MAX_SUPPRESSION = timedelta(hours=24)
# same page, Alert grouping: "You can alter this time period to anywhere between 5 minutes and 7 days."
GROUPING_LOOKBACK = (timedelta(minutes=5), timedelta(days=7))

_PARAMETER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")


def _span(value: Any) -> timedelta | None:
    return parse_rule_timespan(value, allow_iso=True) if isinstance(value, str) else None


class ServiceLimitsCheck:
    """The counts, lengths and durations of an analytics rule against Sentinel's documented limits."""

    id = "service-limits"
    summary = "an analytics rule stays within the limits Sentinel documents (entity mappings, custom details, " \
              "alert details parameters, query length, suppression and grouping windows)"

    def check(self, rule: Rule) -> list[DacError]:
        if rule.kind not in ANALYTICS_KINDS:
            return []
        data = rule.data
        findings: list[DacError] = []
        findings += self._entity_mappings(rule, data.get("entityMappings"))
        details = data.get("customDetails")
        if isinstance(details, dict) and len(details) > MAX_CUSTOM_DETAILS:
            extra = list(details)[MAX_CUSTOM_DETAILS]
            findings.append(DacError(
                f"customDetails: {len(details)} custom details, more than the {MAX_CUSTOM_DETAILS} Sentinel allows "
                "in one analytics rule", rule.location("customDetails", extra)))
        override = data.get("alertDetailsOverride")
        for name in FORMAT_FIELDS if isinstance(override, dict) else ():
            text = override.get(name)
            parameters = list(dict.fromkeys(_PARAMETER.findall(text))) if isinstance(text, str) else []
            if len(parameters) > MAX_FORMAT_PARAMETERS:
                findings.append(DacWarning(
                    f"alertDetailsOverride.{name}: {len(parameters)} parameters ({', '.join(parameters)}); Sentinel's "
                    f"documentation limits each format to {MAX_FORMAT_PARAMETERS}",
                    rule.location("alertDetailsOverride", name)))
        query = data.get("query")
        if isinstance(query, str) and len(query) > MAX_QUERY_LENGTH:
            findings.append(DacError(
                f"query: {len(query):,} characters, longer than the {MAX_QUERY_LENGTH:,} Sentinel allows for an "
                "analytics rule query (a workspace function can hold part of it)", rule.location("query")))
        suppression = _span(data.get("suppressionDuration"))
        if suppression is not None and suppression > MAX_SUPPRESSION:
            findings.append(DacError(
                f"suppressionDuration: {data['suppressionDuration']!r} is longer than the 24h Sentinel allows",
                rule.location("suppressionDuration")))
        findings += self._grouping(rule, data.get("incidentConfiguration"))
        return findings

    def _entity_mappings(self, rule: Rule, mappings: Any) -> list[DacError]:
        if not isinstance(mappings, list):
            return []
        findings: list[DacError] = []
        if len(mappings) > MAX_ENTITY_MAPPINGS:
            findings.append(DacError(
                f"entityMappings: {len(mappings)} entity mappings, more than the {MAX_ENTITY_MAPPINGS} Sentinel allows "
                "in one analytics rule", rule.location("entityMappings", MAX_ENTITY_MAPPINGS)))
        for index, mapping in enumerate(mappings):
            fields = mapping.get("fieldMappings") if isinstance(mapping, dict) else None
            if isinstance(fields, list) and len(fields) > MAX_IDENTIFIERS:
                findings.append(DacWarning(
                    f"entityMappings[{index}].fieldMappings: {len(fields)} identifiers; Sentinel's documentation "
                    f"allows up to {MAX_IDENTIFIERS} for one entity mapping",
                    rule.location("entityMappings", index, "fieldMappings", MAX_IDENTIFIERS)))
        return findings

    def _grouping(self, rule: Rule, incident: Any) -> list[DacError]:
        grouping = incident.get("groupingConfiguration") if isinstance(incident, dict) else None
        lookback = grouping.get("lookbackDuration") if isinstance(grouping, dict) else None
        span = _span(lookback)
        shortest, longest = GROUPING_LOOKBACK
        if span is None or shortest <= span <= longest:
            return []
        return [DacError(
            f"incidentConfiguration.groupingConfiguration.lookbackDuration: {lookback!r} is outside the 5m to 7d "
            "Sentinel allows for grouping alerts into an incident",
            rule.location("incidentConfiguration", "groupingConfiguration", "lookbackDuration"))]


__all__ = ["ServiceLimitsCheck"]
