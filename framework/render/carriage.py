"""Which rule fields each Sentinel resource carries, and what happens to the others.

A rule file holds more than any one Sentinel resource takes: an alertRules
resource has no place for ``requiredDataConnectors``, a savedSearches resource
none for ``entityMappings`` or ``severity``, an NRT rule none for a schedule.
Nothing is dropped silently. Every field the resource does not hold goes into
the template's free-form ``metadata`` (ARM ignores it) under
``dac.rules.<rule id>``, so ``dac import`` gives back the rule it came from, and:

* a field of the rule's detection content (``entityMappings`` of a hunting
  query, ``queryFrequency`` of an NRT rule, a key the Azure-Sentinel format does
  not define) also gets a :class:`~dac.render.notes.Note` at its key, printed by
  ``dac build`` and ``dac pack``;
* the bookkeeping fields (:data:`BOOKKEEPING`: connectors, version, status,
  tags, the longer description, contribution metadata and dac's own
  ``platforms`` and ``suppressions``) belong to the rule file rather than to
  any deployed resource; they ride in the metadata without a note.

A field whose value is null carries nothing and is left out everywhere.
"""

from __future__ import annotations

from typing import Any

from dac.render.notes import Note
from dac.rules.model import Rule

# Fields of the rule file itself, which no Sentinel resource holds by design.
BOOKKEEPING = ("requiredDataConnectors", "version", "status", "tags", "description-detailed", "metadata", "platforms",
               "suppressions")
# The resource's name (id) and type (kind): always carried.
STRUCTURAL = ("id", "kind")
SCHEDULE = ("queryFrequency", "queryPeriod", "triggerOperator", "triggerThreshold")
ANALYTICS = ("name", "description", "severity", "query", "suppressionDuration", "suppressionEnabled", "tactics",
             "relevantTechniques", "subTechniques", "incidentConfiguration", "eventGroupingSettings",
             "alertDetailsOverride", "customDetails", "entityMappings", "sentinelEntitiesMappings")
HUNTING = ("name", "description", "query", "tactics", "relevantTechniques", "subTechniques")
# Every field of the Azure-Sentinel rule format as dac reads it (schemas/rule.schema.json).
RULE_FORMAT = frozenset(BOOKKEEPING + STRUCTURAL + SCHEDULE + ANALYTICS)

METADATA_NOTE = "kept in template metadata"


def carried_fields(kind: str) -> tuple[str, ...]:
    """The fields that become properties of the resource a rule of ``kind`` deploys as."""
    if kind == "Hunting":
        return HUNTING
    return ANALYTICS + (SCHEDULE if kind == "Scheduled" else ())


def _why(kind: str, key: str) -> str:
    if key not in RULE_FORMAT:
        resource = "savedSearches" if kind == "Hunting" else "alertRules"
        return f"'{key}' is not a field of the Azure-Sentinel rule format, so {resource} does not carry it"
    if kind == "Hunting":
        return f"'{key}' of a hunting query is not carried by savedSearches (the API has no such property)"
    return f"'{key}' of an NRT rule is not carried by alertRules (an NRT rule runs every minute on new events)"


def sentinel_carriage(rule: Rule, kind: str) -> tuple[dict[str, Any], list[Note]]:
    """The fields kept in the template metadata, and a note for each one that is detection content.

    A rule that lists ``subTechniques`` also keeps its own spelling of the
    techniques there (``relevantTechniques`` and ``subTechniques`` as written):
    the resource merges them into one technique/sub-technique pair, which on its
    own would not tell ``dac import`` which list each id came from.
    """
    carried = carried_fields(kind)
    metadata: dict[str, Any] = {}
    notes: list[Note] = []
    for key, value in rule.data.items():
        if value is None or key in STRUCTURAL or key in carried:
            continue
        metadata[key] = value
        if key not in BOOKKEEPING:
            notes.append(Note(rule.doc.key_location((key,)), f"sentinel: {_why(kind, key)}; {METADATA_NOTE}"))
    if rule.data.get("subTechniques") is not None:
        for key in ("relevantTechniques", "subTechniques"):
            if rule.data.get(key) is not None:
                metadata[key] = rule.data[key]
    return metadata, notes


__all__ = ["BOOKKEEPING", "RULE_FORMAT", "carried_fields", "sentinel_carriage"]
