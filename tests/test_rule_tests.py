"""`dac test`: seed cases pass, wrong expectations fail with a diff, bad fixtures are located errors."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import pytest

from dac.cli import main
from dac.testing.clock import parse_time
from dac.rules.model import load_rule
from dac.testing.runner import run_tests

from conftest import REPO

SEED = REPO / "detections" / "hunting" / "user-clicked-through-events.yaml"
SEED_TESTS = SEED.with_name("user-clicked-through-events.tests.yaml")


@pytest.fixture()
def rule_copy(tmp_path: Path) -> Path:
    """A copy of the seed rule and its tests that a test may edit."""
    shutil.copy(SEED, tmp_path / "rule.yaml")
    shutil.copy(SEED_TESTS, tmp_path / "rule.tests.yaml")
    return tmp_path


def edit_tests(folder: Path, old: str, new: str) -> None:
    path = folder / "rule.tests.yaml"
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def test_seed_rule_cases_pass() -> None:
    report = run_tests([str(SEED)])
    assert report.ok
    assert report.counts()["PASS"] == 7


def test_cli_reports_pass_count(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["test", str(SEED)]) == 0
    assert capsys.readouterr().out.strip().endswith("7 passed, 0 failed")


def test_wrong_expectation_fails_with_a_diff(rule_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit_tests(rule_copy, "NetworkMessageId: m-6, ThreatTypes: Phish}", "NetworkMessageId: m-WRONG, ThreatTypes: Phish}")
    assert main(["test", str(rule_copy)]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and "has matches whole terms only" in out
    assert '-{ReportId: "r-exact", IsClickedThrough: null, AccountUpn: "erin@contoso.com", NetworkMessageId: "m-WRONG"' in out
    assert '+{ReportId: "r-exact", IsClickedThrough: null, AccountUpn: "erin@contoso.com", NetworkMessageId: "m-6"' in out
    assert out.strip().endswith("6 passed, 1 failed")


def test_unexpected_row_is_shown(rule_copy: Path) -> None:
    edit_tests(rule_copy, "r-blocked, ActionType: ClickBlocked, IsClickedThrough: false",
               "r-blocked, ActionType: ClickBlocked, IsClickedThrough: true")
    report = run_tests([str(rule_copy)])
    failed = [r for r in report.results if r.status == "FAIL"]
    assert [r.case for r in failed] == ["blocked click not clicked through is not reported"]
    assert failed[0].details[0] == "0 row(s) expected, 1 returned"
    assert any(line.startswith('+{ReportId: "r-blocked"') for line in failed[0].details)


def test_unknown_fixture_column_is_located(rule_copy: Path) -> None:
    edit_tests(rule_copy, "ActionType: ClickBlocked, IsClickedThrough: false,\n           ThreatTypes: Phish, AccountUpn: carol",
               "ActionType: ClickBlocked, IsClickedThrough: false,\n           ThreatType: Phish, AccountUpn: carol")
    report = run_tests([str(rule_copy)])
    (result,) = report.results
    assert result.status == "ERROR"
    assert str(result.location) == f"{rule_copy / 'rule.tests.yaml'}:34:12"
    assert result.details == ["unknown column 'ThreatType' (did you mean 'ThreatTypes'?)"]


def test_badly_typed_fixture_value_is_located(rule_copy: Path) -> None:
    edit_tests(rule_copy, "IsClickedThrough: false,\n           ThreatTypes: Phish, AccountUpn: alice",
               "IsClickedThrough: maybe,\n           ThreatTypes: Phish, AccountUpn: alice")
    (result,) = run_tests([str(rule_copy)]).results
    assert result.status == "ERROR" and "expected true or false, got 'maybe'" in result.details[0]
    assert result.location.line == 10


def test_expected_row_must_state_every_result_column(rule_copy: Path) -> None:
    edit_tests(rule_copy, "NetworkMessageId: m-1, ThreatTypes: Phish}", "NetworkMessageId: m-1}")
    results = run_tests([str(rule_copy)]).results
    errors = [r for r in results if r.status == "ERROR"]
    assert len(errors) == 1 and "lacks result column(s): ThreatTypes" in errors[0].details[0]


def test_rule_without_tests_fails(tmp_path: Path) -> None:
    shutil.copy(SEED, tmp_path / "rule.yaml")
    (result,) = run_tests([str(tmp_path)]).results
    assert result.status == "FAIL" and "no test file" in result.details[0]


def test_query_error_points_into_the_rule_file(rule_copy: Path) -> None:
    rule = rule_copy / "rule.yaml"
    rule.write_text(rule.read_text().replace("| where ThreatTypes has", "| where ThreatTyp has"))
    results = run_tests([str(rule_copy)]).results
    assert results and all(r.status == "ERROR" for r in results)
    assert results[0].details[0].startswith(f"{rule}:18:11: unknown column or variable 'ThreatTyp'")


@pytest.mark.parametrize(
    "text,expected",
    [("now", datetime(2024, 5, 1)), ("now-1h", datetime(2024, 4, 30, 23)), ("now + 1d 2h", datetime(2024, 5, 2, 2)),
     ("2024-01-01T00:00:00Z", datetime(2024, 1, 1))],
)
def test_relative_times(text: str, expected: datetime) -> None:
    assert parse_time(text, datetime(2024, 5, 1)) == expected


def test_relative_time_rejects_garbage() -> None:
    with pytest.raises(ValueError):
        parse_time("now-soon", datetime(2024, 5, 1))


def test_unknown_fixture_table_is_located(rule_copy: Path) -> None:
    edit_tests(rule_copy, "  - name: malware verdict is not reported\n    tables:\n      UrlClickEvents:",
               "  - name: malware verdict is not reported\n    tables:\n      UrlClickEvent:")
    results = run_tests([str(rule_copy)]).results
    (error,) = [r for r in results if r.status == "ERROR"]
    assert "no schema for table 'UrlClickEvent' on platform Defender (did you mean 'UrlClickEvents'?)" in error.details[0]
    assert error.location.line == 40


def test_catalog_covers_both_platforms() -> None:
    from dac import catalog

    defender = dict(catalog.table_columns("Defender", "DeviceProcessEvents"))
    sentinel = dict(catalog.table_columns("sentinel", "DeviceProcessEvents"))
    assert defender["Timestamp"] == "datetime" and "TimeGenerated" not in defender and "TenantId" not in defender
    assert sentinel["TimeGenerated"] == "datetime" and "Timestamp" not in sentinel
    assert dict(catalog.table_columns("defender", "UrlClickEvents"))["IsClickedThrough"] == "bool"
    assert catalog.table_columns("sentinel", "NoSuchTable") is None
    assert len(catalog.known_tables("sentinel")) > 800


GEO_QUERY = """query: |
  UrlClickEvents
  | where ingestion_time() > ago(1h)
  | extend Country = tostring(geo_info_from_ip_address(IPAddress).country)
  | project ReportId, Country, Ingested = ingestion_time()
"""

GEO_TESTS = """platform: Defender
now: 2024-05-01T12:00:00Z
geo_ip:
  - {network: 20.53.0.0/16, country: Australia, state: New South Wales}
  - {network: "2a03:2880::/32", country: United States}
cases:
  - name: recent rows are enriched from the geo database
    geo_ip:
      - {network: 20.53.203.50, country: Australia, city: Sydney, latitude: -33.8715, longitude: 151.2006}
      - {network: 8.8.8.0/24, country: United States}
    tables:
      UrlClickEvents:
        - {ReportId: r-1, IPAddress: 20.53.203.50, $IngestionTime: now-5m}
        - {ReportId: r-2, IPAddress: "2a03:2880::25de", $IngestionTime: 2024-05-01T11:30:00Z}
        - {ReportId: r-3, IPAddress: 8.8.8.8, $IngestionTime: now-10m}
        - {ReportId: r-4, IPAddress: 10.0.0.1, $IngestionTime: now-1m}
        - {ReportId: r-old, IPAddress: 20.53.203.50, $IngestionTime: now-2h}
        - {ReportId: r-none, IPAddress: 20.53.203.50}
    expect:
      - {ReportId: r-1, Country: Australia, Ingested: now-5m}
      - {ReportId: r-2, Country: United States, Ingested: now-30m}
      - {ReportId: r-3, Country: United States, Ingested: now-10m}
      - {ReportId: r-4, Country: "", Ingested: now-1m}
  - name: the file's entries apply to every case
    tables:
      UrlClickEvents:
        - {ReportId: r-5, IPAddress: 8.8.8.8, $IngestionTime: now-5m}
        - {ReportId: r-6, IPAddress: 20.53.9.9, $IngestionTime: now-5m}
    expect:
      - {ReportId: r-5, Country: "", Ingested: now-5m}
      - {ReportId: r-6, Country: Australia, Ingested: now-5m}
"""


@pytest.fixture()
def geo_rule(tmp_path: Path) -> Path:
    """A rule reading ingestion_time() and geo_info_from_ip_address(), with its tests."""
    text = SEED.read_text()
    start, end = text.index("query: |"), text.index("version:")
    (tmp_path / "rule.yaml").write_text(text[:start] + GEO_QUERY + text[end:])
    (tmp_path / "rule.tests.yaml").write_text(GEO_TESTS)
    return tmp_path


def test_geo_ip_and_ingestion_time_from_a_tests_file(geo_rule: Path) -> None:
    report = run_tests([str(geo_rule)])
    assert report.ok, report.render()
    assert report.counts()["PASS"] == 2


def test_ingestion_time_is_no_fixture_column(geo_rule: Path) -> None:
    from dac.kql import evaluate
    from dac.rules.model import load_rule
    from dac.testing.cases import load_test_suite

    suite = load_test_suite(load_rule(geo_rule / "rule.yaml"))
    tables = suite.cases[0].tables
    assert "$IngestionTime" not in tables["UrlClickEvents"].names
    bags = evaluate("UrlClickEvents | project b = pack_all(), t = ingestion_time()", tables, now=suite.cases[0].now)
    assert all("$IngestionTime" not in row["b"] for row in bags)
    assert [row["t"] for row in bags][-2:] == [datetime(2024, 5, 1, 10), None]


def test_a_failing_case_says_which_rows_have_no_ingestion_time(geo_rule: Path) -> None:
    # the second case expects the rows its filter drops: r-6 has no $IngestionTime, so ingestion_time() is null
    tests = geo_rule / "rule.tests.yaml"
    tests.write_text(tests.read_text().replace("{ReportId: r-6, IPAddress: 20.53.9.9, $IngestionTime: now-5m}",
                                               "{ReportId: r-6, IPAddress: 20.53.9.9}"))
    report = run_tests([str(geo_rule)])
    failed = [r for r in report.results if r.status == "FAIL"]
    assert [r.case for r in failed] == ["the file's entries apply to every case"]
    assert failed[0].details[-1].startswith("note: the query reads ingestion_time(), which is null for fixture rows "
                                            "without $IngestionTime (1 of UrlClickEvents)")
    # the first case passes: its row r-none has no ingestion time either, and it expects that row dropped
    assert report.counts()["PASS"] == 1


def test_malformed_geo_entry_is_located(geo_rule: Path) -> None:
    edit_tests(geo_rule, "- {network: 8.8.8.0/24, country: United States}", "- {network: 8.8.8.0/33, country: United States}")
    (result,) = run_tests([str(geo_rule)]).results
    assert result.status == "ERROR"
    assert result.details == ["'8.8.8.0/33' is not an IP address or CIDR range (such as 20.53.203.0/24 or 2a03:2880::/32)"]
    assert str(result.location) == f"{geo_rule / 'rule.tests.yaml'}:10:19"


def test_malformed_file_level_geo_entry_is_located(geo_rule: Path) -> None:
    edit_tests(geo_rule, "- {network: 20.53.0.0/16, country: Australia", "- {network: 20.53.0.0/16, country: Australia, zip: 2000")
    (result,) = run_tests([str(geo_rule)]).results
    assert result.status == "ERROR" and "zip" in result.details[0]
    assert result.location.line == 4


def test_bad_ingestion_time_is_located(geo_rule: Path) -> None:
    edit_tests(geo_rule, "$IngestionTime: now-10m}", "$IngestionTime: now-soon}")
    (result,) = run_tests([str(geo_rule)]).results
    assert result.status == "ERROR" and "invalid datetime 'now-soon'" in result.details[0]
    assert (result.location.line, result.location.column) == (15, 63)


def test_the_runner_parses_a_rules_query_once_for_all_its_cases(monkeypatch) -> None:
    """Every case of a rule evaluates the one tree prepare_rule parsed (Rule.syntax_tree)."""
    from dac.kql import parser
    from dac.testing.runner import run_rule

    rule_path = REPO / "detections" / "hunting" / "user-clicked-through-events.yaml"
    query = load_rule(rule_path).query
    parsed: list[str] = []
    real = parser.parse

    def counting(text, *args, **kwargs):
        parsed.append(text)
        return real(text, *args, **kwargs)

    monkeypatch.setattr(parser, "parse", counting)
    results = run_rule(rule_path)
    assert len(results) > 1 and all(r.status == "PASS" for r in results)
    assert parsed.count(query) == 1


def test_a_query_of_several_result_tables_is_a_located_error(rule_copy: Path) -> None:
    # fork returns one table per subquery (https://learn.microsoft.com/kusto/query/fork-operator); a case
    # expects one table, so the case is an error at the fork, not a test of its first table
    rule = rule_copy / "rule.yaml"
    text = rule.read_text()
    old = "  | summarize by ReportId, IsClickedThrough, AccountUpn, NetworkMessageId, ThreatTypes\n"
    assert old in text
    rule.write_text(text.replace(old, old + "  | fork (where IsClickedThrough) (count)\n", 1))
    results = run_tests([str(rule_copy)]).results
    assert results and all(r.status == "ERROR" for r in results)
    assert results[0].details == [f"{rule}:20:5: 'fork' returns 2 result tables; a rule's test and dac's evaluate() "
                                  "work on one result table (evaluate(..., as_tables=True) returns them all)"]
