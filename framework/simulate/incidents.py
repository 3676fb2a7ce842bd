"""From alerts to incidents, as the rule's ``incidentConfiguration`` asks.

https://learn.microsoft.com/en-us/azure/sentinel/detect-threats-custom ("Configure the incident
creation settings", "Set alert grouping settings"):

* ``createIncident: false`` makes no incident; grouping off makes one incident per alert;
* grouping on puts an alert into an incident of the same rule created within
  ``lookbackDuration`` before it ("alerts outside this time frame will generate a separate
  incident"), when they match by ``matchingMethod``: ``AllEntities`` identical values for each
  mapped entity, ``AnyAlert`` every alert, ``Selected`` identical values of the chosen entity
  types, alert details (``DisplayName``, ``Severity``) and custom details;
* "Up to 150 alerts can be grouped into a single incident": the 151st opens a new incident with
  the same details.

Simulated incidents are never closed (no analyst works them), so ``reopenClosedIncident`` never
applies. The time frame is counted from the incident's first alert.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from dac.render.fields import SEVERITIES
from dac.simulate.alerts import Alert
from dac.simulate.settings import Grouping

MAX_ALERTS_PER_INCIDENT = 150


@dataclass
class Incident:
    """An incident: its first alert's time and name, its highest severity, its alerts and their entities."""

    id: int
    created: datetime
    title: str
    severity: str
    key: tuple = field(repr=False)
    alerts: list[int] = field(default_factory=list)
    entities: list[dict[str, str]] = field(default_factory=list)

    def add(self, alert: Alert) -> None:
        self.alerts.append(alert.id)
        if SEVERITIES.index(alert.severity) > SEVERITIES.index(self.severity):
            self.severity = alert.severity
        for entity in alert.entities:
            if entity not in self.entities:
                self.entities.append(entity)
        alert.incident = self.id


def _key(grouping: Grouping, alert: Alert) -> tuple:
    """What two alerts must share to go into one incident."""
    if not grouping.enabled:
        return ("alert", alert.id)
    if grouping.matching == "AnyAlert":
        return ()
    if grouping.matching == "AllEntities":
        return (alert.entity_keys(),)
    wanted = set(grouping.by_entities)
    entities = frozenset(tuple(sorted(e.items())) for e in alert.entities if e["type"] in wanted)
    details = {"DisplayName": alert.display_name, "Severity": alert.severity}
    return (entities, tuple(details[name] for name in grouping.by_alert_details),
            tuple(tuple(alert.custom_details.get(name, ())) for name in grouping.by_custom_details))


def group(grouping: Grouping | None, alerts: list[Alert]) -> list[Incident]:
    """The incidents ``alerts`` (in time order) make; each alert is told its incident."""
    if grouping is None or not grouping.create_incident:
        return []
    incidents: list[Incident] = []
    latest: dict[tuple, Incident] = {}
    for alert in alerts:
        key = _key(grouping, alert)
        incident = latest.get(key)
        if (incident is None or alert.time - incident.created > grouping.lookback
                or len(incident.alerts) >= MAX_ALERTS_PER_INCIDENT):
            incident = Incident(len(incidents) + 1, alert.time, alert.display_name, alert.severity, key)
            incidents.append(incident)
            latest[key] = incident
        incident.add(alert)
    return incidents
