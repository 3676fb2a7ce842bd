"""``dac simulate``: each scheduling rule of Sentinel's, over data sets small enough to count by hand.

Pages cited (the rule each test checks is quoted in ``dac.simulate``'s modules):
CUSTOM = create a custom analytics rule (query scheduling, ingestion delay note, alert threshold,
event grouping, suppression, incident settings and alert grouping); DELAY = handle ingestion delay;
NRT = near-real-time rules; ENTITIES, DETAILS, OVERRIDE = entity mapping, custom details and
alert details pages.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import types
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import yaml

from dac import catalog
from dac.cli import main
from dac.errors import DacError
from dac.kql import evaluate
from dac.kql.streaming import RowSource, slices
from dac.kql.table import Table
from dac.rules.model import load_rule
from dac.simulate import simulate
from dac.simulate.report import to_json
from dac.simulate.schedule import runs
from dac.simulate.settings import rule_settings

from conftest import debian_tool

CUSTOM = "https://learn.microsoft.com/en-us/azure/sentinel/detect-threats-custom"
DELAY = "https://learn.microsoft.com/en-us/azure/sentinel/ingestion-delay"
NRT = "https://learn.microsoft.com/en-us/azure/sentinel/near-real-time-rules"
ENTITIES = "https://learn.microsoft.com/en-us/azure/sentinel/map-data-fields-to-entities"
DETAILS = "https://learn.microsoft.com/en-us/azure/sentinel/surface-custom-details-in-alerts"
OVERRIDE = "https://learn.microsoft.com/en-us/azure/sentinel/customize-alert-details"

COLUMNS = list(catalog.table_columns("sentinel", "UrlClickEvents"))
T0 = datetime(2025, 1, 1)
QUERY = "UrlClickEvents\n| where ActionType == \"ClickAllowed\"\n| project TimeGenerated, AccountUpn, Url, IPAddress\n"


def write_rule(tmp_path: Path, **fields) -> Path:
    """A Scheduled rule clicking-through rule; ``fields`` replace or add keys (None removes one)."""
    rule = {"id": "6a1c2f4e-0c4d-4b8e-9a53-1f2e3d4c5b6a", "name": "Clicked through", "description": "d",
            "severity": "Medium", "kind": "Scheduled", "queryFrequency": "1h", "queryPeriod": "1h",
            "triggerOperator": "gt", "triggerThreshold": 0, "query": QUERY,
            "entityMappings": [{"entityType": "Account",
                                "fieldMappings": [{"identifier": "FullName", "columnName": "AccountUpn"}]}],
            "version": "1.0.0"}
    for key, value in fields.items():
        if value is None:
            rule.pop(key, None)
        else:
            rule[key] = value
    path = tmp_path / "rule.yaml"
    path.write_text(yaml.safe_dump(rule, sort_keys=False), encoding="utf-8")
    return path


def click(at: datetime, user: str = "u0@contoso.com", action: str = "ClickAllowed", ingested: datetime | None = None,
          **more) -> dict:
    row = {"TimeGenerated": at, "ActionType": action, "AccountUpn": user, "Url": f"https://{user}.example",
           "IPAddress": "203.0.113.1", **more}
    if ingested is not None:
        row["$IngestionTime"] = ingested
    return row


def run_rule(tmp_path: Path, rows: list[dict], hours: float = 6, start: datetime = T0 + timedelta(hours=1),
             **fields):
    rule = load_rule(write_rule(tmp_path, **fields))
    return simulate(rule, {"UrlClickEvents": Table.from_dicts(rows, COLUMNS)}, start, start + timedelta(hours=hours))


def hour(n: float, minutes: float = 0) -> datetime:
    return T0 + timedelta(hours=n, minutes=minutes)


# ------------------------------------------------------------------ schedule


def test_runs_every_frequency_over_the_period_before_with_a_five_minute_delay(tmp_path: Path) -> None:
    """CUSTOM: "Run query every" / "Lookup data from the last"; runs "on a five-minute delay from their
    scheduled time", which is now() for the query."""
    settings = rule_settings(load_rule(write_rule(tmp_path, queryFrequency="1h", queryPeriod="3h")))
    made = runs(settings, hour(10), hour(13))
    assert [(r.scheduled, r.start, r.end, r.executed) for r in made] == [
        (hour(10), hour(7), hour(10), hour(10, 5)), (hour(11), hour(8), hour(11), hour(11, 5)),
        (hour(12), hour(9), hour(12), hour(12, 5))]


def test_thirty_days_at_five_minutes_is_8640_runs(tmp_path: Path) -> None:
    settings = rule_settings(load_rule(write_rule(tmp_path, queryFrequency="5m", queryPeriod="5m")))
    assert len(runs(settings, T0, T0 + timedelta(days=30))) == 8640


def test_adjacent_windows_see_each_row_once_start_included_end_excluded(tmp_path: Path) -> None:
    """CUSTOM: a period equal to the frequency covers the time "without data duplication"."""
    rows = [click(hour(1)), click(hour(1, 59)), click(hour(2))]
    simulation = run_rule(tmp_path, rows, hours=3, start=hour(2), eventGroupingSettings={"aggregationKind": "AlertPerResult"})
    assert [o.rows for o in simulation.outcomes] == [2, 1, 0]


def test_overlapping_periods_see_a_row_in_each_run(tmp_path: Path) -> None:
    """CUSTOM: an interval shorter than the lookback makes the periods overlap and "may cause some
    duplication of results"."""
    simulation = run_rule(tmp_path, [click(hour(1, 30))], hours=3, start=hour(2), queryPeriod="2h")
    assert [o.rows for o in simulation.outcomes] == [1, 1, 0]


def test_a_row_ingested_after_its_run_executed_is_missed(tmp_path: Path) -> None:
    """DELAY: an event generated in one window but ingested after that run is missed by it, and the
    next window no longer holds it; within the built-in five minutes it is seen (CUSTOM)."""
    rows = [click(hour(0, 58), "late@contoso.com", ingested=hour(1, 7)),
            click(hour(0, 59), "ontime@contoso.com", ingested=hour(1, 4))]
    simulation = run_rule(tmp_path, rows, hours=2, start=hour(1))
    assert [o.rows for o in simulation.outcomes] == [1, 0]
    assert simulation.alerts[0].entities == [{"type": "Account", "FullName": "ontime@contoso.com"}]


def test_now_is_the_execution_time(tmp_path: Path) -> None:
    query = "UrlClickEvents\n| summarize Count = count() by AccountUpn\n| extend Now = now()\n"
    simulation = run_rule(tmp_path, [click(hour(1, 30))], hours=1, start=hour(2), query=query,
                          alertDetailsOverride={"alertDisplayNameFormat": "at {{Now}}"})
    assert simulation.alerts[0].display_name == "at 2025-01-01T02:05:00.0000000Z"


# ------------------------------------------------------------------ trigger, event grouping, suppression


@pytest.mark.parametrize(("operator", "threshold", "fires"), [
    ("gt", 1, [False, True, False]), ("lt", 1, [False, False, True]), ("eq", 2, [False, True, False]),
    ("ne", 1, [False, True, True]), ("GreaterThan", 0, [True, True, False])])
def test_trigger_compares_the_result_count(tmp_path: Path, operator: str, threshold: int, fires: list[bool]) -> None:
    """CUSTOM, "Set the threshold for creating alerts": on the number of query results."""
    rows = [click(hour(1, 10)), click(hour(2, 10)), click(hour(2, 20))]  # 1, 2 and 0 rows
    simulation = run_rule(tmp_path, rows, hours=3, start=hour(2), triggerOperator=operator, triggerThreshold=threshold)
    assert [o.fired for o in simulation.outcomes] == fires


def test_single_alert_summarises_every_row(tmp_path: Path) -> None:
    """CUSTOM: "Group all events into a single alert" (the default); ENTITIES: one entity each."""
    rows = [click(hour(1, m), f"u{m % 2}@contoso.com") for m in (1, 2, 3)]
    simulation = run_rule(tmp_path, rows, hours=1, start=hour(2))
    [alert] = simulation.alerts
    assert (alert.rows, alert.summary) == (3, True)
    assert alert.entities == [{"type": "Account", "FullName": "u1@contoso.com"},
                              {"type": "Account", "FullName": "u0@contoso.com"}]


def test_alert_per_result_makes_one_alert_a_row(tmp_path: Path) -> None:
    rows = [click(hour(1, m), f"u{m}@contoso.com") for m in (1, 2, 3)]
    simulation = run_rule(tmp_path, rows, hours=1, start=hour(2),
                          eventGroupingSettings={"aggregationKind": "AlertPerResult"})
    assert [(a.rows, a.summary, a.entities[0]["FullName"]) for a in simulation.alerts] == [
        (1, False, "u1@contoso.com"), (1, False, "u2@contoso.com"), (1, False, "u3@contoso.com")]


def test_alert_per_result_stops_at_150_the_last_summarising_all(tmp_path: Path) -> None:
    """CUSTOM: past 150 events "the first 149 events will each generate a unique alert", "the 150th
    alert will summarize the entire set"."""
    rows = [click(hour(1, 0) + timedelta(seconds=s), f"u{s}@contoso.com") for s in range(151)]
    simulation = run_rule(tmp_path, rows, hours=1, start=hour(2),
                          eventGroupingSettings={"aggregationKind": "AlertPerResult"})
    assert len(simulation.alerts) == 150
    assert [a.rows for a in simulation.alerts[:149]] == [1] * 149
    assert (simulation.alerts[-1].rows, simulation.alerts[-1].summary) == (151, True)


def test_suppression_skips_the_runs_within_its_duration(tmp_path: Path) -> None:
    """CUSTOM: "Stop running query after alert is generated" for "Stop running query for"."""
    rows = [click(hour(h, 10)) for h in range(1, 9)]
    simulation = run_rule(tmp_path, rows, hours=8, start=hour(2), suppressionEnabled=True, suppressionDuration="3h")
    assert [o.suppressed for o in simulation.outcomes] == [False, True, True, False, True, True, False, True]
    assert [o.rows for o in simulation.outcomes][:2] == [1, None]
    assert len(simulation.alerts) == 3


def test_suppression_off_runs_every_time(tmp_path: Path) -> None:
    rows = [click(hour(h, 10)) for h in range(1, 5)]
    simulation = run_rule(tmp_path, rows, hours=4, start=hour(2), suppressionEnabled=False, suppressionDuration="3h")
    assert [o.fired for o in simulation.outcomes] == [True] * 4


def test_custom_details_and_alert_details(tmp_path: Path) -> None:
    """DETAILS: a detail holds its column's values over the alert's rows, at most 50; OVERRIDE: the
    name takes {{column}} from the first row and the severity column its value when it is one."""
    query = QUERY.replace("IPAddress\n", "IPAddress, Level = iff(AccountUpn == 'a@x.com', 'high', 'none')\n")
    rows = [click(hour(1, 0) + timedelta(seconds=s), "a@x.com" if s == 0 else "b@x.com", Url=f"https://{s}.example")
            for s in range(60)]
    override = {"alertDisplayNameFormat": "Click by {{AccountUpn}}", "alertDescriptionFormat": "From {{IPAddress}}",
                "alertSeverityColumnName": "Level"}
    simulation = run_rule(tmp_path, rows, hours=2, start=hour(2), query=query, alertDetailsOverride=override,
                          customDetails={"Url": "Url", "Who": "AccountUpn"})
    [alert] = simulation.alerts
    assert (alert.display_name, alert.description, alert.severity) == ("Click by a@x.com", "From 203.0.113.1", "High")
    assert len(alert.custom_details["Url"]) == 50 and alert.custom_details["Who"] == ["a@x.com", "b@x.com"]


def test_entities_are_capped_at_500_shared_between_mappings(tmp_path: Path) -> None:
    """ENTITIES: "Up to 500 entities collectively", "divided equally across all entity mappings"."""
    mappings = [{"entityType": "Account", "fieldMappings": [{"identifier": "FullName", "columnName": "AccountUpn"}]},
                {"entityType": "URL", "fieldMappings": [{"identifier": "Url", "columnName": "Url"}]}]
    rows = [click(hour(1, 0) + timedelta(seconds=s), f"u{s}@x.com") for s in range(300)]
    simulation = run_rule(tmp_path, rows, hours=1, start=hour(2), entityMappings=mappings)
    kinds = [e["type"] for e in simulation.alerts[0].entities]
    assert (kinds.count("Account"), kinds.count("URL")) == (250, 250)


# ------------------------------------------------------------------ incidents


def grouping(method: str, **more) -> dict:
    return {"createIncident": True, "groupingConfiguration": {"enabled": True, "lookbackDuration": "5h",
                                                              "matchingMethod": method, **more}}


HOSTS = [{"entityType": "Account", "fieldMappings": [{"identifier": "FullName", "columnName": "AccountUpn"}]},
         {"entityType": "IP", "fieldMappings": [{"identifier": "Address", "columnName": "IPAddress"}]}]
USERS = [("a@x.com", "203.0.113.1"), ("a@x.com", "203.0.113.2"), ("b@x.com", "203.0.113.1"), ("a@x.com", "203.0.113.1")]


def grouped(tmp_path: Path, config: dict, users=USERS) -> list[list[int]]:
    rows = [click(hour(1 + i, 10), user, IPAddress=ip) for i, (user, ip) in enumerate(users)]
    simulation = run_rule(tmp_path, rows, hours=len(users), start=hour(2), entityMappings=HOSTS,
                          incidentConfiguration=config)
    return [incident.alerts for incident in simulation.incidents]


def test_incident_per_alert_without_grouping(tmp_path: Path) -> None:
    """CUSTOM: incident creation enabled makes "a single, separate incident from each and every alert"."""
    assert grouped(tmp_path, {"createIncident": True}) == [[1], [2], [3], [4]]


def test_no_incident_when_creation_is_off(tmp_path: Path) -> None:
    assert grouped(tmp_path, {"createIncident": False}) == []


def test_grouping_all_entities(tmp_path: Path) -> None:
    """CUSTOM: "identical values for each of the mapped entities"."""
    assert grouped(tmp_path, grouping("AllEntities")) == [[1, 4], [2], [3]]


def test_grouping_any_alert(tmp_path: Path) -> None:
    """CUSTOM: "All the alerts generated by this rule are grouped together"."""
    assert grouped(tmp_path, grouping("AnyAlert")) == [[1, 2, 3, 4]]


def test_grouping_selected_entities(tmp_path: Path) -> None:
    """CUSTOM: identical values of the selected entities (and details)."""
    assert grouped(tmp_path, grouping("Selected", groupByEntities=["Account"])) == [[1, 2, 4], [3]]
    assert grouped(tmp_path, grouping("Selected", groupByEntities=["IP"])) == [[1, 3, 4], [2]]


def test_grouping_selected_alert_and_custom_details(tmp_path: Path) -> None:
    config = grouping("Selected", groupByAlertDetails=["DisplayName"], groupByCustomDetails=["Ip"])
    rows = [click(hour(1 + i, 10), user, IPAddress=ip) for i, (user, ip) in enumerate(USERS)]
    simulation = run_rule(tmp_path, rows, hours=4, start=hour(2), incidentConfiguration=config,
                          customDetails={"Ip": "IPAddress"},
                          alertDetailsOverride={"alertDisplayNameFormat": "Click by {{AccountUpn}}"})
    assert [i.alerts for i in simulation.incidents] == [[1, 4], [2], [3]]


def test_grouping_lookback_starts_a_new_incident(tmp_path: Path) -> None:
    """CUSTOM: "Alerts outside this time frame will generate a separate incident"."""
    users = [("a@x.com", "203.0.113.1")] * 4
    config = grouping("AnyAlert", lookbackDuration="2h")
    assert grouped(tmp_path, config, users) == [[1, 2, 3], [4]]


def test_an_incident_holds_at_most_150_alerts(tmp_path: Path) -> None:
    """CUSTOM: "Up to 150 alerts can be grouped into a single incident"; the excess go to a new one."""
    rows = [click(hour(1, 0) + timedelta(seconds=s), f"u{s}@x.com") for s in range(100)]
    rows += [click(hour(2, 0) + timedelta(seconds=s), f"v{s}@x.com") for s in range(100)]
    simulation = run_rule(tmp_path, rows, hours=2, start=hour(2), incidentConfiguration=grouping("AnyAlert"),
                          eventGroupingSettings={"aggregationKind": "AlertPerResult"})
    assert [len(i.alerts) for i in simulation.incidents] == [150, 50]
    assert simulation.incidents[1].title == simulation.incidents[0].title


# ------------------------------------------------------------------ NRT


def nrt_fields() -> dict:
    return {"kind": "NRT", "queryFrequency": None, "queryPeriod": None, "triggerOperator": None,
            "triggerThreshold": None, "eventGroupingSettings": {"aggregationKind": "AlertPerResult"}}


def test_nrt_runs_every_minute_over_the_rows_ingested_in_that_minute(tmp_path: Path) -> None:
    """NRT: "run once every minute and capture events ingested in the preceding minute", on "a
    two-minute delay", by ingestion time, not TimeGenerated. A row without an ingestion time
    (a file's) counts as ingested at its TimeGenerated."""
    rows = [click(hour(0, 50), "late@x.com", ingested=hour(1, 0, ) + timedelta(seconds=30)),
            click(hour(1, 1) + timedelta(seconds=5), "file@x.com")]
    simulation = run_rule(tmp_path, rows, hours=3 / 60, start=hour(1, 1), **nrt_fields())
    assert [(o.run.scheduled, o.run.executed, o.rows) for o in simulation.outcomes] == [
        (hour(1, 1), hour(1, 3), 1), (hour(1, 2), hour(1, 4), 1), (hour(1, 3), hour(1, 5), 0)]
    assert [a.entities[0]["FullName"] for a in simulation.alerts] == ["late@x.com", "file@x.com"]


def test_nrt_alert_per_result_stops_at_30(tmp_path: Path) -> None:
    """NRT: "up to 30 single-event alerts": the first 29, then a 30th summarising all the events."""
    rows = [click(hour(1, 0) + timedelta(seconds=s), f"u{s}@x.com") for s in range(40)]
    simulation = run_rule(tmp_path, rows, hours=1 / 60, start=hour(1, 1), **nrt_fields())
    assert len(simulation.alerts) == 30 and simulation.alerts[-1].rows == 40


# ------------------------------------------------------------------ totals, JSON, CLI


def test_totals_per_day(tmp_path: Path) -> None:
    rows = [click(hour(h, 10)) for h in (1, 2, 25)]
    simulation = run_rule(tmp_path, rows, hours=48, start=T0)
    days = [(d.day.isoformat(), d.runs, d.fired, d.alerts, d.incidents) for d in simulation.days()]
    assert days == [("2025-01-01", 24, 2, 2, 2), ("2025-01-02", 24, 1, 1, 1)]


def write_data(tmp_path: Path, rows: list[dict]) -> Path:
    path = tmp_path / "UrlClickEvents.jsonl"
    path.write_text("".join(json.dumps({**r, "TimeGenerated": r["TimeGenerated"].isoformat() + "Z"}) + "\n"
                            for r in rows), encoding="utf-8")
    return path


def cli(capsys, *words: str) -> tuple[int, dict]:
    code = main(["simulate", *words, "--format", "json"])
    return code, json.loads(capsys.readouterr().out)


def test_cli_json_shape(tmp_path: Path, capsys) -> None:
    rule = write_rule(tmp_path, customDetails={"Url": "Url"})
    data = write_data(tmp_path, [click(hour(1, 10)), click(hour(1, 20), "b@x.com")])
    code, document = cli(capsys, str(rule), "--data", str(data), "--from", "2025-01-01T02:00:00Z",
                         "--to", "2025-01-01T04:00:00Z")
    assert code == 0 and document["ok"] and document["command"] == "simulate"
    assert document["totals"] == {"runs": 2, "suppressed": 0, "fired": 1, "alerts": 1, "incidents": 1}
    assert document["runs"][0] == {"scheduled": "2025-01-01T02:00:00Z", "executed": "2025-01-01T02:05:00Z",
                                   "window": {"start": "2025-01-01T01:00:00Z", "end": "2025-01-01T02:00:00Z",
                                              "on": "TimeGenerated"},
                                   "rows": 2, "fired": True, "suppressed": False, "alerts": [1]}
    alert = document["alerts"][0]
    assert alert["custom_details"] == {"Url": ["https://u0@contoso.com.example", "https://b@x.com.example"]}
    assert alert["entities"] == [{"type": "Account", "FullName": "u0@contoso.com"},
                                 {"type": "Account", "FullName": "b@x.com"}]
    assert document["incidents"] == [{"id": 1, "created": "2025-01-01T02:05:00Z", "title": "Clicked through",
                                      "severity": "Medium", "alerts": [1], "entities": alert["entities"]}]
    assert document["days"] == [{"day": "2025-01-01", "runs": 2, "suppressed": 0, "fired": 1, "alerts": 1,
                                 "incidents": 1}]


def test_cli_text_lists_runs_alerts_incidents_and_days(tmp_path: Path, capsys) -> None:
    rule = write_rule(tmp_path)
    data = write_data(tmp_path, [click(hour(1, 10))])
    assert main(["simulate", str(rule), "--data", str(data), "--from", "2025-01-01T02:00:00Z",
                 "--to", "2025-01-01T03:00:00Z"]) == 0
    out = capsys.readouterr().out
    assert "2025-01-01T02:00:00Z (executed 2025-01-01T02:05:00Z" in out and "fired: alert(s) 1" in out
    assert '#1 2025-01-01T02:05:00Z Medium "Clicked through"' in out and "2025-01-01       1" in out


@pytest.mark.parametrize(("fields", "words", "message", "line"), [
    ({"kind": None}, (), "a hunting query (no kind) is not run by Sentinel's scheduler", 1),
    ({"queryFrequency": None}, (), "queryFrequency: missing", 1),
    ({"queryPeriod": "soon"}, (), "queryPeriod: 'soon' is not a timespan", 7),
    ({"triggerOperator": "over"}, (), "triggerOperator: 'over' is not one of gt, lt, eq, ne", 8),
    ({"customDetails": {"X": "Nope"}}, (), "column 'Nope' is not in the query's results", 24),
    ({}, ("--to", "2025-01-01T01:00:00Z"), "--to 2025-01-01T01:00:00 is not after --from", None),
    ({}, ("--from", "yesterday"), "--from:", None),
])
def test_errors_are_located(tmp_path: Path, capsys, fields: dict, words: tuple, message: str, line) -> None:
    rule = write_rule(tmp_path, **fields)
    data = write_data(tmp_path, [click(hour(1, 10))])
    options = {"--from": "2025-01-01T02:00:00Z", "--to": "2025-01-01T03:00:00Z"}
    options.update(dict(zip(words[::2], words[1::2])))
    code, document = cli(capsys, str(rule), "--data", str(data), *[w for pair in options.items() for w in pair])
    assert code == 2 and not document["ok"]
    assert message in document["error"]["message"]
    if line is not None:
        assert (document["error"]["file"], document["error"]["line"]) == (str(rule), line)


def test_a_query_error_is_located_in_the_rule(tmp_path: Path, capsys) -> None:
    rule = write_rule(tmp_path, query="UrlClickEvents\n| where NoSuchColumn == 1\n")
    code, document = cli(capsys, str(rule), "--data", str(write_data(tmp_path, [click(hour(1, 10))])), "--from",
                         "2025-01-01T02:00:00Z", "--to", "2025-01-01T03:00:00Z")
    assert code == 2 and "NoSuchColumn" in document["error"]["message"]
    assert document["error"]["file"] == str(rule) and document["error"]["line"] > 1


# ------------------------------------------------------------------ engines


def test_a_sql_engine_gets_each_window_as_rows_and_agrees(tmp_path: Path, monkeypatch) -> None:
    """The per-run adapter of ``dac.engines.<name>_engine.run(tree, sources, *, now, limits)``."""
    calls = []

    def run(tree, sources, *, now, limits):
        calls.append(now)
        tables = {name: Table(list(source.columns), list(source.rows)) for name, source in sources.items()}
        return evaluate(tree, tables, now=now, as_table=True, limits=limits)

    monkeypatch.setitem(sys.modules, "dac.engines.fake_engine", types.SimpleNamespace(run=run))
    rows = [click(hour(h, 10), f"u{h % 3}@x.com") for h in range(1, 9)]
    rule = load_rule(write_rule(tmp_path, suppressionEnabled=True, suppressionDuration="2h"))
    table = {"UrlClickEvents": Table.from_dicts(rows, COLUMNS)}
    python = to_json(simulate(rule, table, hour(2), hour(10)))
    fake = to_json(simulate(rule, table, hour(2), hour(10), engine="fake"))
    assert fake["runs"] == python["runs"] and fake["alerts"] == python["alerts"]
    assert len(calls) == sum(not r["suppressed"] for r in python["runs"]) == 4


def test_an_engine_that_is_not_installed_is_a_clear_error(tmp_path: Path) -> None:
    rule = load_rule(write_rule(tmp_path))
    with pytest.raises(DacError, match="--engine nosuch is not available"):
        simulate(rule, {"UrlClickEvents": Table.from_dicts([click(hour(1))], COLUMNS)}, hour(2), hour(3),
                 engine="nosuch")


# ------------------------------------------------------------------ charts


def month(tmp_path: Path):
    rows = [click(hour(h, 10), f"u{h % 4}@x.com") for h in range(0, 24 * 10, 5)]
    return run_rule(tmp_path, rows, hours=24 * 10, start=T0, incidentConfiguration=grouping("AllEntities"))


def colours(path: Path) -> tuple[tuple[int, int], set]:
    image = importlib.import_module("matplotlib.image").imread(str(path))
    pixels = {tuple(round(float(c) * 255) for c in pixel[:3]) for row in image for pixel in row}
    return image.shape[:2], pixels


def test_png_chart(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from dac.simulate.chart import write_chart

    path = write_chart(month(tmp_path), str(tmp_path / "chart.png"))
    (height, width), found = colours(path)
    assert height >= 300 and width >= 500
    assert {(0xd9, 0x53, 0x4f), (0x33, 0x7a, 0xb7), (255, 255, 255)} <= found


def test_html_chart_is_self_contained_and_renders(tmp_path: Path) -> None:
    from dac.simulate.chart import write_chart

    page = write_chart(month(tmp_path), str(tmp_path / "chart.html"))
    text = page.read_text(encoding="utf-8")
    assert "<svg" in text and "<script" not in text and "http://" not in text.replace("http://www.w3.org/2000/svg", "")
    assert text.count('fill="#d9534f"><title>') == 10
    chromium = debian_tool("chromium", "chromium")
    pytest.importorskip("matplotlib")
    shot = tmp_path / "shot.png"
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--no-first-run",
                    f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}", "--window-size=900,700",
                    page.resolve().as_uri()], check=True, timeout=120, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    _size, found = colours(shot)
    assert (0xd9, 0x53, 0x4f) in found and (0x33, 0x7a, 0xb7) in found and len(found) > 10


def test_chart_with_an_unknown_suffix_is_refused(tmp_path: Path) -> None:
    from dac.simulate.chart import write_chart

    with pytest.raises(DacError, match="expected a .png or .html file"):
        write_chart(month(tmp_path), str(tmp_path / "chart.svg"))


def test_png_without_matplotlib_names_the_extra(tmp_path: Path, monkeypatch) -> None:
    from dac.simulate.chart import write_chart

    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib then raises ImportError
    with pytest.raises(DacError, match=r"needs matplotlib: pip install 'dac-framework\[chart\]'"):
        write_chart(month(tmp_path), str(tmp_path / "chart.png"))
    assert not (tmp_path / "chart.png").exists()


class Chunked(RowSource):
    """Rows arriving in chunks, as a data file's do (the one-pass plan is the row engine's for those)."""

    def __init__(self, table: Table) -> None:
        self.columns, self.table = table.columns, table

    def chunks(self):
        return slices(self.table, 64)


ONE_PASS_QUERIES = [
    QUERY,
    "UrlClickEvents | where ActionType startswith 'click' | summarize n = count() by AccountUpn | where n > 1",
    "let since = ago(30m); UrlClickEvents | extend u = toupper(AccountUpn) | where TimeGenerated > since"
    " | project TimeGenerated, AccountUpn = u",
    "UrlClickEvents | project AccountUpn, Url | top 2 by Url desc",
    "UrlClickEvents | where now() - TimeGenerated < 40m | summarize count() by AccountUpn",
]


@pytest.mark.parametrize("query", ONE_PASS_QUERIES)
def test_one_pass_gives_every_run_what_a_run_over_its_window_gives(tmp_path: Path, monkeypatch, query: str) -> None:
    """Rows without ingestion times (a file's) take the one-pass plan of dac.kql.window_split: the same
    runs, rows, alerts and incidents as running the whole query over each run's window."""
    import random

    from dac.simulate import execute

    rng = random.Random(7)
    rows = [click(T0 + timedelta(minutes=rng.randrange(12 * 60)), user=f"u{rng.randrange(4)}@contoso.com",
                  action=rng.choice(["ClickAllowed", "ClickBlocked", "UrlScanInProgress"])) for _ in range(300)]
    fields = dict(query=query, queryFrequency="15m", queryPeriod="1h")
    used = []
    real_split = execute.split
    monkeypatch.setattr(execute, "split", lambda *a: used.append(real_split(*a)) or used[-1])
    rule = load_rule(write_rule(tmp_path, **fields))
    start = T0 + timedelta(hours=1)

    def simulated() -> dict:
        return to_json(simulate(rule, {"UrlClickEvents": Chunked(Table.from_dicts(rows, COLUMNS))}, start,
                                start + timedelta(hours=10)))

    one_pass = simulated()
    assert used and used[0] is not None and used[0].head_operators >= (0 if "now()" in query else 1)
    monkeypatch.setattr(execute, "split", lambda *a: None)
    per_run = simulated()
    assert (one_pass.pop("plan"), per_run.pop("plan")) == ("one pass", "per run")
    for document in (one_pass, per_run):
        document.pop("seconds", None)
    assert one_pass == per_run and any(r["fired"] for r in per_run["runs"])


def _month_of_clicks(tmp_path: Path) -> Path:
    import random

    rng = random.Random(3)
    rows = [click(T0 + timedelta(minutes=rng.randrange(3 * 24 * 60)), user=f"u{rng.randrange(5)}@contoso.com",
                  action=rng.choice(["ClickAllowed", "ClickBlocked"])) for _ in range(500)]
    return write_data(tmp_path, rows)


@pytest.mark.parametrize("query", [
    QUERY,
    "let since = ago(20m); UrlClickEvents | where ActionType has 'ClickAllowed' | where TimeGenerated > since"
    " | summarize Clicks = count(), Url = take_any(Url) by AccountUpn | where Clicks > 1",
])
def test_duckdb_one_pass_over_files_agrees_with_the_python_engine(tmp_path: Path, capsys, query: str) -> None:
    """--engine duckdb reads the file natively for the query's head (one pass) and gives every run,
    alert and incident the python engine gives."""
    rule = write_rule(tmp_path, query=query, queryFrequency="10m", queryPeriod="30m")
    data = _month_of_clicks(tmp_path)
    words = (str(rule), "--data", str(data), "--from", "2025-01-01T00:00:00Z", "--to", "2025-01-03T00:00:00Z")
    code, on_duckdb = cli(capsys, *words, "--engine", "duckdb")
    assert code == 0 and (on_duckdb["engine"], on_duckdb["plan"]) == ("duckdb", "one pass")
    code, on_python = cli(capsys, *words, "--engine", "python")
    assert code == 0 and (on_python["engine"], on_python["plan"]) == ("python", "one pass")
    for document in (on_duckdb, on_python):
        for key in ("engine", "plan", "seconds", "charts"):
            document.pop(key, None)
    assert on_duckdb == on_python and on_python["totals"]["alerts"] > 0


def test_a_head_duckdb_refuses_is_an_error_by_name_and_python_by_default(tmp_path: Path, capsys) -> None:
    query = "UrlClickEvents | where ActionType == 'ClickAllowed' | extend g = new_guid() | project TimeGenerated, AccountUpn"
    rule = write_rule(tmp_path, query=query)
    data = _month_of_clicks(tmp_path)
    words = (str(rule), "--data", str(data), "--from", "2025-01-01T00:00:00Z", "--to", "2025-01-01T06:00:00Z")
    code, document = cli(capsys, *words, "--engine", "duckdb")
    assert code == 2 and "the duckdb engine cannot run" in document["error"]["message"]
    lines = rule.read_text(encoding="utf-8").splitlines()
    assert lines[document["error"]["line"] - 1].startswith("query:")  # located in the rule file
    assert main(["simulate", *words, "--format", "json"]) == 0  # a small file: python by default
    capsys.readouterr()
