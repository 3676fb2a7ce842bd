"""A simulation as text for people and as one JSON document for machines.

Both hold the same things: every run (scheduled and executed time, window, result rows,
fired, suppressed), every alert with its entities and custom details, every incident, and
the totals per day. Times are UTC in ISO 8601 with a ``Z``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dac.output.escape import printable
from dac.simulate import Simulation


def stamp(moment: datetime) -> str:
    return moment.isoformat() + "Z"


def to_json(simulation: Simulation) -> dict[str, Any]:
    settings = simulation.settings
    return {
        "rule": {"file": simulation.rule.path, "id": simulation.rule.id, "name": settings.name, "kind": settings.kind},
        "engine": simulation.engine,
        "plan": simulation.plan,
        "from": stamp(simulation.first),
        "to": stamp(simulation.last),
        "seconds": round(simulation.seconds, 3),
        "totals": {"runs": len(simulation.outcomes), "suppressed": sum(o.suppressed for o in simulation.outcomes),
                   "fired": sum(o.fired for o in simulation.outcomes), "alerts": len(simulation.alerts),
                   "incidents": len(simulation.incidents)},
        "days": [{"day": d.day.isoformat(), "runs": d.runs, "suppressed": d.suppressed, "fired": d.fired,
                  "alerts": d.alerts, "incidents": d.incidents} for d in simulation.days()],
        "runs": [{"scheduled": stamp(o.run.scheduled), "executed": stamp(o.run.executed),
                  "window": {"start": stamp(o.run.start), "end": stamp(o.run.end),
                             "on": "ingestion_time" if o.run.by_ingestion else "TimeGenerated"},
                  "rows": o.rows, "fired": o.fired, "suppressed": o.suppressed, "alerts": o.alerts}
                 for o in simulation.outcomes],
        "alerts": [{"id": a.id, "time": stamp(a.time), "run": stamp(simulation.outcomes[a.run].run.scheduled),
                    "display_name": a.display_name, "description": a.description, "severity": a.severity,
                    "rows": a.rows, "summary": a.summary, "entities": a.entities,
                    "custom_details": a.custom_details, "incident": a.incident} for a in simulation.alerts],
        "incidents": [{"id": i.id, "created": stamp(i.created), "title": i.title, "severity": i.severity,
                       "alerts": i.alerts, "entities": i.entities} for i in simulation.incidents],
    }


def render_text(simulation: Simulation) -> str:
    """Runs one a line, then alerts, incidents and the totals per day."""
    document = to_json(simulation)
    totals = document["totals"]
    lines = [f"{document['rule']['name']} ({document['rule']['kind']}), {document['from']} to {document['to']}, "
             f"engine {simulation.engine} ({simulation.plan})", "", "runs:"]
    for run in document["runs"]:
        if run["suppressed"]:
            state = "suppressed"
        else:
            state = f"{run['rows']} row(s)" + (f", fired: alert(s) {', '.join(map(str, run['alerts']))}"
                                               if run["fired"] else "")
        window = run["window"]
        lines.append(f"  {run['scheduled']} (executed {run['executed']}, {window['on']} in "
                     f"[{window['start']}, {window['end']})): {state}")
    lines += ["", "alerts:"] + [_alert_line(alert) for alert in document["alerts"]]
    if not document["alerts"]:
        lines.append("  none")
    lines += ["", "incidents:"]
    for incident in document["incidents"]:
        lines.append(f"  #{incident['id']} {incident['created']} {incident['severity']} \"{incident['title']}\": "
                     f"alert(s) {', '.join(map(str, incident['alerts']))}")
    if not document["incidents"]:
        lines.append("  none")
    lines += ["", "per day:          runs  suppressed  fired  alerts  incidents"]
    for day in document["days"]:
        lines.append(f"  {day['day']}  {day['runs']:>6}  {day['suppressed']:>10}  {day['fired']:>5}  "
                     f"{day['alerts']:>6}  {day['incidents']:>9}")
    lines += ["", f"{totals['runs']:,} run(s), {totals['suppressed']:,} suppressed, {totals['fired']:,} fired, "
              f"{totals['alerts']:,} alert(s), {totals['incidents']:,} incident(s) in {document['seconds']:.2f}s"]
    return "\n".join(printable(line) for line in lines) + "\n"


def _alert_line(alert: dict[str, Any]) -> str:
    entities = "; ".join(",".join(f"{k}={v}" for k, v in entity.items()) for entity in alert["entities"])
    details = "; ".join(f"{name}={'|'.join(values)}" for name, values in alert["custom_details"].items())
    parts = [f"  #{alert['id']} {alert['time']} {alert['severity']} \"{alert['display_name']}\" "
             f"({alert['rows']} row(s){', summary' if alert['summary'] else ''})"]
    if entities:
        parts.append(f"entities: {entities}")
    if details:
        parts.append(f"details: {details}")
    if alert["incident"] is not None:
        parts.append(f"incident #{alert['incident']}")
    return " ".join(parts)
