"""From a run's result to its alerts: trigger, event grouping, entities, custom details, alert details.

Each rule of this module follows a Sentinel page, cited where it is applied:

* the trigger compares the number of result rows with ``triggerThreshold``
  (https://learn.microsoft.com/en-us/azure/sentinel/detect-threats-custom, "Set the threshold
  for creating alerts");
* event grouping (same page, "Set event grouping settings"): ``SingleAlert`` makes one alert
  summarising every row; ``AlertPerResult`` one alert per row, at most 150 a run: past 150 rows
  the first 149 get one each and the 150th summarises the whole result. NRT rules stop at 30
  (29 and a summary; https://learn.microsoft.com/en-us/azure/sentinel/near-real-time-rules);
* entities (https://learn.microsoft.com/en-us/azure/sentinel/map-data-fields-to-entities): each
  mapping makes one entity of a row from its identifiers' columns; an alert holds at most 500,
  shared equally between the mappings, and the excess is not extracted;
* custom details (https://learn.microsoft.com/en-us/azure/sentinel/surface-custom-details-in-alerts):
  each detail holds the values of its column over the alert's rows, at most 50 values, and all
  of them at most 2 KB together (values past it are dropped);
* alert details (https://learn.microsoft.com/en-us/azure/sentinel/customize-alert-details): the
  display name and description formats take ``{{column}}`` from the alert's first row, and
  ``alertSeverityColumnName`` its severity when the value is one (else the rule's).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dac.errors import DacError
from dac.kql import values as V
from dac.kql.table import Table
from dac.render.fields import SEVERITIES
from dac.rules.model import Rule
from dac.simulate.schedule import Run
from dac.simulate.settings import RuleSettings

ALERTS_PER_RUN = {"Scheduled": 150, "NRT": 30}
MAX_ENTITIES = 500
MAX_DETAIL_VALUES = 50
MAX_DETAILS_BYTES = 2048
_PLACEHOLDER = re.compile(r"\{\{([^{}]*)\}\}")
_COMPARE = {"GreaterThan": int.__gt__, "LessThan": int.__lt__, "Equal": int.__eq__, "NotEqual": int.__ne__}


@dataclass
class Alert:
    """One alert: the run that raised it, what it shows, and the incident it went to."""

    id: int
    run: int
    time: datetime  # the run's execution: when Sentinel creates the alert
    display_name: str
    description: str
    severity: str
    rows: int
    summary: bool  # sums up every row of the run (SingleAlert, or the last alert of a capped run)
    entities: list[dict[str, str]] = field(default_factory=list)
    custom_details: dict[str, list[str]] = field(default_factory=dict)
    incident: int | None = None

    def entity_keys(self) -> frozenset[tuple]:
        return frozenset(tuple(sorted(entity.items())) for entity in self.entities)


def triggered(settings: RuleSettings, count: int) -> bool:
    """Whether a run with ``count`` result rows raises alerts."""
    return _COMPARE[settings.trigger_operator](count, settings.trigger_threshold)


class AlertMaker:
    """Builds the alerts of the rule's runs, numbering them in order."""

    def __init__(self, rule: Rule, settings: RuleSettings) -> None:
        self.rule = rule
        self.settings = settings
        self.next_id = 1

    def alerts(self, run: Run, result: Table) -> list[Alert]:
        """The alerts of a run whose trigger fired."""
        rows = result.rows
        cap = ALERTS_PER_RUN[self.settings.kind]
        if self.settings.aggregation != "AlertPerResult" or not rows:
            groups = [(rows, True)]
        elif len(rows) > cap:
            groups = [([row], False) for row in rows[:cap - 1]] + [(rows, True)]
        else:
            groups = [([row], False) for row in rows]
        index = result.index()
        return [self._alert(run, index, group, summary) for group, summary in groups]

    def _alert(self, run: Run, index: dict[str, int], rows: list[tuple], summary: bool) -> Alert:
        first = rows[0] if rows else None
        override = self.settings.override
        name = self._format(override.get("alertDisplayNameFormat"), "alertDisplayNameFormat", index, first)
        description = self._format(override.get("alertDescriptionFormat"), "alertDescriptionFormat", index, first)
        alert = Alert(self.next_id, run.index, run.executed, name or self.settings.name, description or "",
                      self._severity(index, first), len(rows), summary, self._entities(index, rows),
                      self._custom_details(index, rows))
        self.next_id += 1
        return alert

    def _column(self, index: dict[str, int], column: str, *key: Any) -> int:
        if column not in index:
            raise DacError(f"column '{column}' is not in the query's results ({', '.join(index) or 'no columns'})",
                           self.rule.location(*key))
        return index[column]

    def _format(self, template: str | None, member: str, index: dict[str, int], row: tuple | None) -> str | None:
        if template is None:
            return None

        def value(match: re.Match) -> str:
            position = self._column(index, match.group(1), "alertDetailsOverride", member)
            return "" if row is None else text(row[position])

        return _PLACEHOLDER.sub(value, template)

    def _severity(self, index: dict[str, int], row: tuple | None) -> str:
        column = self.settings.override.get("alertSeverityColumnName")
        if column and row is not None:
            found = text(row[self._column(index, column, "alertDetailsOverride", "alertSeverityColumnName")])
            matching = [s for s in SEVERITIES if s.lower() == found.strip().lower()]
            if matching:
                return matching[0]
        return self.settings.severity

    def _entities(self, index: dict[str, int], rows: list[tuple]) -> list[dict[str, str]]:
        mappings = self.settings.entity_mappings
        if not mappings:
            return []
        share = MAX_ENTITIES // len(mappings)
        found: list[dict[str, str]] = []
        for m, mapping in enumerate(mappings):
            positions = [(f["identifier"], self._column(index, f["columnName"], "entityMappings", m, "fieldMappings",
                                                        n, "columnName"))
                         for n, f in enumerate(mapping["fieldMappings"])]
            seen: set[tuple] = set()
            for row in rows:
                identifiers = {name: text(row[p]) for name, p in positions if text(row[p])}
                if not identifiers:
                    continue
                entity = {"type": mapping["entityType"], **identifiers}
                key = tuple(sorted(entity.items()))
                if key not in seen:
                    seen.add(key)
                    found.append(entity)
                    if len(seen) == share:
                        break
        return found

    def _custom_details(self, index: dict[str, int], rows: list[tuple]) -> dict[str, list[str]]:
        details: dict[str, list[str]] = {}
        size = 2  # the braces of the JSON object the details are kept in
        for name, column in self.settings.custom_details.items():
            position = self._column(index, column, "customDetails", name)
            values: list[str] = []
            details[name] = values
            size += len(json.dumps(name)) + 3
            for row in rows:
                value = text(row[position])
                if value in values:
                    continue
                cost = len(json.dumps(value, ensure_ascii=False).encode()) + 1
                if len(values) == MAX_DETAIL_VALUES or size + cost > MAX_DETAILS_BYTES:
                    break
                values.append(value)
                size += cost
        return details


def text(value: Any) -> str:
    """A result value as the string Sentinel shows in an alert (null as empty)."""
    if value is None:
        return ""
    return value if isinstance(value, str) else V.to_string(value)
