"""``dac new`` (dac.scaffold) and ``dac fixtures`` (dac.fixtures)."""

from __future__ import annotations

import ipaddress
import json
import re
import time
import tracemalloc
import uuid
from datetime import datetime, timedelta

import pytest
import yaml

from dac import catalog
from dac.cli import main
from dac.errors import DacError, DacWarning, Location
from dac.fixtures import TABLE_FACTS, iter_rows, write_fixtures
from dac.kql import evaluate
from dac.kql.table import Table
from dac.rules.model import load_rule
from dac.scaffold import scaffold
from dac.testing.cases import convert_value
from dac.testing.runner import run_tests
from dac.validate import validate_paths

from conftest import REPO

NOW = datetime(2024, 5, 1, 12)
KINDS = ("hunting", "scheduled", "nrt")
PLATFORMS = ("Defender", "Sentinel")


def _beyond_todo_reminders(findings: list[DacError]) -> list[str]:
    """The findings other than the attack check's reminders of dac new's TODOs (tests/test_attack.py)."""
    return [f"{f.location}: {f.message}" for f in findings
            if not (f.check == "attack" and isinstance(f, DacWarning) and "TODO" in f.message)]


# --- dac new ------------------------------------------------------------------------------


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize("kind", KINDS)
def test_scaffold_validates_and_passes_its_own_tests(tmp_path, capsys, kind, platform):
    folder = tmp_path / "rules"
    code = main(["new", "--kind", kind, "--name", f"Allowed clicks ({kind}, {platform})",
                 "--table", "UrlClickEvents", "--platform", platform, "--dir", str(folder)])
    assert code == 0
    rule_path = folder / f"allowed-clicks-{kind}-{platform.lower()}.yaml"
    tests_path = folder / f"allowed-clicks-{kind}-{platform.lower()}.tests.yaml"
    assert str(rule_path) in capsys.readouterr().out
    assert rule_path.is_file() and tests_path.is_file()

    findings = validate_paths([folder])
    assert _beyond_todo_reminders(findings) == []  # not even a warning
    report = run_tests([folder])
    assert [(r.case, r.status) for r in report.results] == [
        ("ActionType ClickAllowed is reported", "PASS"), ("ActionType ClickBlocked is not reported", "PASS")]
    assert main(["validate", str(folder)]) == 0
    assert main(["test", str(folder)]) == 0

    rule = load_rule(rule_path)
    assert uuid.UUID(rule.data["id"]).version == 4
    assert rule.data["version"] == "1.0.0"
    assert rule.kind == {"hunting": "Hunting", "scheduled": "Scheduled", "nrt": "NRT"}[kind]
    assert rule.platforms == [platform.lower()]
    time_column = "Timestamp" if platform == "Defender" else "TimeGenerated"
    assert rule.query.startswith("UrlClickEvents\n")
    assert f"| project {time_column}, ActionType, AccountUpn" in rule.query
    if kind != "hunting":
        mapped = rule.data["entityMappings"][0]["fieldMappings"][0]["columnName"]
        assert mapped == "AccountUpn"
    # the positive fixture row is really returned: its expected row lists the projected columns
    tests = yaml.safe_load(tests_path.read_text())
    positive = tests["cases"][0]
    assert positive["expect"] == positive["tables"]["UrlClickEvents"]
    assert set(positive["expect"][0]) == {time_column, "ActionType", "AccountUpn", "IPAddress", "Url"}


def test_scaffolded_negative_case_can_fail(tmp_path):
    """The negative case differs from the positive only in the filtered value; with the
    matching value the query reports the row, and the case fails."""
    _, tests_path = scaffold("scheduled", "Can fail", "UrlClickEvents", "Defender", tmp_path, now=NOW)
    text = tests_path.read_text()
    assert text.count('ActionType: "ClickBlocked"') == 1
    tests_path.write_text(text.replace('ActionType: "ClickBlocked"', 'ActionType: "ClickAllowed"'))
    report = run_tests([tmp_path])
    assert [r.status for r in report.results] == ["PASS", "FAIL"]
    assert main(["test", str(tmp_path)]) == 1


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("platform, table", [("Defender", "DeviceProcessEvents"), ("Defender", "EmailEvents"),
                                             ("Sentinel", "SigninLogs"), ("Sentinel", "SecurityEvent"),
                                             ("Sentinel", "Syslog"), ("Defender", "DeviceNetworkEvents")])
def test_scaffold_other_tables(tmp_path, kind, platform, table):
    scaffold(kind, f"{table} rule", table, platform, tmp_path, now=NOW)
    assert _beyond_todo_reminders(validate_paths([tmp_path])) == []
    report = run_tests([tmp_path])
    assert report.ok and len(report.results) == 2


def test_scaffold_refuses_to_overwrite(tmp_path, capsys):
    rule_path, tests_path = scaffold("hunting", "Same name", "UrlClickEvents", "Defender", tmp_path, now=NOW)
    before = rule_path.read_bytes(), tests_path.read_bytes()
    with pytest.raises(DacError, match="file exists"):
        scaffold("nrt", "Same name", "UrlClickEvents", "Sentinel", tmp_path, now=NOW)
    assert (rule_path.read_bytes(), tests_path.read_bytes()) == before
    assert main(["new", "--kind", "nrt", "--name", "Same name", "--table", "UrlClickEvents",
                 "--dir", str(tmp_path)]) == 2
    assert "file exists" in capsys.readouterr().err
    assert (rule_path.read_bytes(), tests_path.read_bytes()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["same-name.tests.yaml", "same-name.yaml"]  # no temp files


def test_scaffold_refuses_when_only_the_test_file_exists(tmp_path):
    (tmp_path / "lonely.tests.yaml").write_text("keep me\n")
    with pytest.raises(DacError, match="file exists"):
        scaffold("hunting", "Lonely", "UrlClickEvents", "Defender", tmp_path, now=NOW)
    assert not (tmp_path / "lonely.yaml").exists()  # nothing half-written
    assert (tmp_path / "lonely.tests.yaml").read_text() == "keep me\n"


def test_scaffold_ids_are_fresh(tmp_path):
    first, _ = scaffold("hunting", "One", "UrlClickEvents", "Defender", tmp_path, now=NOW)
    second, _ = scaffold("hunting", "Two", "UrlClickEvents", "Defender", tmp_path, now=NOW)
    assert load_rule(first).data["id"] != load_rule(second).data["id"]
    assert _beyond_todo_reminders(validate_paths([tmp_path])) == []  # unique ids


def test_new_bad_input_exit_codes(tmp_path, capsys):
    assert main(["new", "--kind", "hunting", "--name", "x", "--table", "UrlClicks", "--dir", str(tmp_path)]) == 2
    assert "did you mean 'UrlClickEvents'" in capsys.readouterr().err
    assert main(["new", "--kind", "hunting", "--name", "x", "--table", "SigninLogs", "--platform", "Defender",
                 "--dir", str(tmp_path)]) == 2
    assert main(["new", "--kind", "hunting", "--name", "x", "--table", "UrlClickEvents", "--platform", "Splunk",
                 "--dir", str(tmp_path)]) == 2
    assert main(["new", "--kind", "hunting", "--name", "!!!", "--table", "UrlClickEvents", "--dir", str(tmp_path)]) == 2
    with pytest.raises(SystemExit) as exit_info:
        main(["new", "--kind", "streaming", "--name", "x", "--table", "UrlClickEvents"])
    assert exit_info.value.code == 2
    assert list(tmp_path.iterdir()) == []


# --- dac fixtures -------------------------------------------------------------------------

TYPED = {"string": str, "bool": bool, "int": int, "long": int, "real": float, "datetime": datetime,
         "guid": uuid.UUID, "dynamic": (dict, list)}
CASES = [("defender", "UrlClickEvents"), ("defender", "DeviceProcessEvents"), ("sentinel", "SigninLogs")]


def _rows(table, platform, rows=200, seed=7):
    # through JSON, as a file of them would be read back
    return [json.loads(json.dumps(row)) for row in iter_rows(table, platform, rows=rows, seed=seed, now=NOW)]


@pytest.mark.parametrize("platform, table", CASES)
def test_fixture_rows_are_typed_by_the_catalog(platform, table):
    columns = catalog.table_columns(platform, table)
    rows = _rows(table, platform)
    built = Table.from_dicts(rows, list(columns))
    assert len(built.rows) == len(rows)
    where = Location("fixtures", 1, 1)
    for row in rows:
        assert list(row) == [name for name, _ in columns]  # every column, in catalog order
        for name, kind in columns:
            value = convert_value(row[name], kind, NOW, where)  # the test files' strict typing
            assert isinstance(value, TYPED[kind]), (name, kind, row[name])
            if kind == "datetime":
                assert NOW - timedelta(days=1) <= value <= NOW, (name, row[name])
                assert row[name].endswith("Z")


def test_fixture_values_are_realistic():
    rows = _rows("UrlClickEvents", "defender", rows=500)
    email = re.compile(r"^[a-z]+\.[a-z]+@[a-z]+\.com$")
    assert all(email.match(r["AccountUpn"]) for r in rows)
    addresses = [ipaddress.ip_address(r["IPAddress"]) for r in rows]
    assert any(a.version == 6 for a in addresses) and sum(a.version == 4 for a in addresses) > 400
    assert all(r["Url"].startswith("https://") for r in rows)
    assert all(uuid.UUID(r["NetworkMessageId"]).version == 4 for r in rows)
    facts = TABLE_FACTS["UrlClickEvents"]
    assert {r["ActionType"] for r in rows} == set(facts["ActionType"])
    assert {r["Workload"] for r in rows} <= {"Email", "Office", "Teams"}
    assert any("Phish" in r["ThreatTypes"] for r in rows)
    assert all(set(filter(None, r["ThreatTypes"].split(","))) <= {"Phish", "Malware", "Spam"} for r in rows)

    process = _rows("DeviceProcessEvents", "defender", rows=100)
    assert {r["ActionType"] for r in process} == {"ProcessCreated"}
    for r in process:
        assert re.fullmatch(r"[0-9a-f]{64}", r["SHA256"]) and re.fullmatch(r"[0-9a-f]{40}", r["DeviceId"])
        assert r["FolderPath"].endswith(r["FileName"])
        assert r["AccountUpn"].startswith(r["AccountName"][:-1])  # one user per row
        assert r["DeviceName"].split(".")[0] in r["DeviceName"]
    signins = _rows("SigninLogs", "sentinel", rows=100)
    assert all(r["Type"] == "SigninLogs" for r in signins)
    assert {r["ResultType"] for r in signins} <= set(TABLE_FACTS["SigninLogs"]["ResultType"])
    assert all(r["UserPrincipalName"] == r["Identity"] for r in signins)


def test_seed_rule_query_runs_over_fixture_rows():
    query = load_rule(REPO / "detections/hunting/user-clicked-through-events.yaml").query
    rows = _rows("UrlClickEvents", "defender", rows=1000, seed=3)
    table = Table.from_dicts(rows, list(catalog.table_columns("defender", "UrlClickEvents")))
    result = evaluate(query, {"UrlClickEvents": table}, now=NOW)
    phish = [r for r in rows if (r["ActionType"] == "ClickAllowed" or r["IsClickedThrough"])
             and "Phish" in r["ThreatTypes"].split(",")]
    assert phish and len(result) == len(phish)  # report ids are unique, so one result row each
    assert {r["ReportId"] for r in result} == {r["ReportId"] for r in phish}


@pytest.mark.parametrize("fmt", ["yaml", "json", "jsonl"])
def test_fixtures_are_reproducible(tmp_path, fmt):
    def render(seed, name):
        out = tmp_path / name
        assert write_fixtures("DeviceNetworkEvents", "defender", rows=50, seed=seed, now=NOW, fmt=fmt, out=out) == 50
        return out.read_bytes()

    first, again, other = render(11, "a"), render(11, "b"), render(12, "c")
    assert first == again
    assert first != other
    loaded = yaml.safe_load(first) if fmt != "jsonl" else [json.loads(line) for line in first.splitlines()]
    rows = loaded["DeviceNetworkEvents"] if fmt == "yaml" else loaded
    assert len(rows) == 50
    Table.from_dicts(rows, list(catalog.table_columns("defender", "DeviceNetworkEvents")))


def test_fixtures_jsonl_streams_in_bounded_memory(tmp_path):
    out = tmp_path / "clicks.jsonl"
    tracemalloc.start()
    started = time.perf_counter()
    try:
        count = write_fixtures("UrlClickEvents", "defender", rows=100_000, seed=1, fmt="jsonl", out=out)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    elapsed = time.perf_counter() - started
    assert count == 100_000
    assert peak < 50 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"
    assert elapsed < 180, f"{elapsed:.0f}s (traced)"
    with out.open(encoding="utf-8") as stream:
        lines = sum(1 for _ in stream)
    assert lines == 100_000
    # whereas holding the rows would not fit: 10k rows already take a measurable share of the bound
    tracemalloc.start()
    try:
        held = list(iter_rows("UrlClickEvents", "defender", rows=10_000, seed=1))
        _, held_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(held) == 10_000 and held_peak * 10 > 50 * 1024 * 1024 > peak


def test_fixtures_cli(tmp_path, capsys):
    out = tmp_path / "rows.jsonl"
    assert main(["fixtures", "UrlClickEvents", "--rows", "5", "--seed", "2", "--now", "2024-05-01T12:00:00Z",
                 "--format", "jsonl", "--out", str(out)]) == 0
    lines = out.read_text().splitlines()
    assert len(lines) == 5 and all(json.loads(line)["Timestamp"].startswith("2024-") for line in lines)
    capsys.readouterr()
    assert main(["fixtures", "SigninLogs", "--rows", "2"]) == 0  # only Sentinel has it
    printed = yaml.safe_load(capsys.readouterr().out)
    assert list(printed) == ["SigninLogs"] and len(printed["SigninLogs"]) == 2
    assert main(["fixtures", "UrlClickEvents", "--rows", "0", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == []

    assert main(["fixtures", "UrlClicks"]) == 2
    assert "did you mean 'UrlClickEvents'" in capsys.readouterr().err
    assert main(["fixtures", "SigninLogs", "--platform", "Defender"]) == 2
    assert main(["fixtures", "UrlClickEvents", "--rows", "-1"]) == 2
    assert main(["fixtures", "UrlClickEvents", "--now", "not a time"]) == 2
    missing = tmp_path / "never.jsonl"
    assert main(["fixtures", "NoSuchTable", "--out", str(missing)]) == 2
    assert not missing.exists()
    with pytest.raises(SystemExit) as exit_info:
        main(["fixtures", "UrlClickEvents", "--format", "csv"])
    assert exit_info.value.code == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rows.jsonl"]  # no temp files left
