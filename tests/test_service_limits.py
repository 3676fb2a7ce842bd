"""The service-limits check: Sentinel's documented limits for analytics rules.

Each limit is tested just inside and just beyond its number, and each test names the
Microsoft documentation page the number comes from.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from dac.errors import DacError, DacWarning
from dac.rules.model import load_rule
from dac.validate import check_kinds, default_rule_checks, validate_paths
from dac.validate.limits import ServiceLimitsCheck

from conftest import REPO

CHECK = ServiceLimitsCheck()


def rule_file(tmp_path: Path, **overrides: Any) -> Path:
    data = {
        "id": "0d6f3c2a-1b4e-4c8d-9e7f-2a3b4c5d6e7f", "name": "Generated rule", "description": "d",
        "severity": "Low", "queryFrequency": "1h", "queryPeriod": "1h", "triggerOperator": "gt",
        "triggerThreshold": 0, "tactics": ["Execution"], "relevantTechniques": ["T1059"],
        "query": "DeviceProcessEvents\n| project DeviceName, AccountUpn\n", "version": "1.0.0", "kind": "Scheduled",
    }
    data.update(overrides)
    path = tmp_path / "rule.yaml"
    data = json.loads(json.dumps({k: v for k, v in data.items() if v is not None}))  # no shared objects: no anchors
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def findings(tmp_path: Path, **overrides: Any) -> list[DacError]:
    return CHECK.check(load_rule(rule_file(tmp_path, **overrides)))


def mapping(identifiers: int = 1) -> dict:
    return {"entityType": "Account",
            "fieldMappings": [{"identifier": "Name", "columnName": f"Column{n}"} for n in range(identifiers)]}


def test_the_check_is_registered() -> None:
    assert any(isinstance(check, ServiceLimitsCheck) for check in default_rule_checks())
    assert check_kinds()["service-limits"] == CHECK.summary


def test_a_rule_within_every_limit_has_no_finding(tmp_path: Path) -> None:
    assert findings(tmp_path, entityMappings=[mapping(3)] * 10,
                    customDetails={f"Detail{n}": "AccountUpn" for n in range(20)},
                    alertDetailsOverride={"alertDisplayNameFormat": "{{A}} {{B}} {{C}} {{A}}"},
                    query="T\n" + "x" * (10_000 - 2), suppressionEnabled=True, suppressionDuration="24h",
                    incidentConfiguration={"createIncident": True, "groupingConfiguration": {
                        "enabled": True, "lookbackDuration": "7d"}}) == []


# https://learn.microsoft.com/azure/sentinel/map-data-fields-to-entities:
# "You can define up to ten entity mappings in a single analytics rule."
def test_more_than_ten_entity_mappings(tmp_path: Path) -> None:
    (finding,) = findings(tmp_path, entityMappings=[mapping()] * 11)
    assert not isinstance(finding, DacWarning)
    assert finding.message == ("entityMappings: 11 entity mappings, more than the 10 Sentinel allows in one "
                               "analytics rule")
    assert finding.location == load_rule(rule_file(tmp_path, entityMappings=[mapping()] * 11)).location(
        "entityMappings", 10)


# same page: "You can define up to three identifiers for a given entity mapping." A warning:
# Microsoft's own Entra ID solution rule "MFA Rejected by User" maps four.
def test_more_than_three_identifiers_is_a_warning(tmp_path: Path) -> None:
    (finding,) = findings(tmp_path, entityMappings=[mapping(2), mapping(4)])
    assert isinstance(finding, DacWarning)
    assert finding.message.startswith("entityMappings[1].fieldMappings: 4 identifiers")
    assert finding.location.line > 1


# https://learn.microsoft.com/azure/sentinel/surface-custom-details-in-alerts:
# "You can define up to 20 custom details in a single analytics rule."
def test_more_than_twenty_custom_details(tmp_path: Path) -> None:
    (finding,) = findings(tmp_path, customDetails={f"Detail{n}": "AccountUpn" for n in range(21)})
    assert finding.message == "customDetails: 21 custom details, more than the 20 Sentinel allows in one analytics rule"
    path = rule_file(tmp_path, customDetails={f"Detail{n}": "AccountUpn" for n in range(21)})
    assert finding.location == load_rule(path).location("customDetails", "Detail20")


# https://learn.microsoft.com/azure/sentinel/customize-alert-details: "You are currently limited to
# three parameters each in the Alert Name Format and Alert Description Format fields." A warning:
# Microsoft's Web Session Essentials rule "Known malicious user agents" uses four.
@pytest.mark.parametrize("member", ["alertDisplayNameFormat", "alertDescriptionFormat"])
def test_more_than_three_parameters_in_a_format_is_a_warning(tmp_path: Path, member: str) -> None:
    (finding,) = findings(tmp_path, alertDetailsOverride={member: "{{A}} on {{ B }} by {{C}} from {{D}}"})
    assert isinstance(finding, DacWarning)
    assert finding.message.startswith(f"alertDetailsOverride.{member}: 4 parameters (A, B, C, D)")


# https://learn.microsoft.com/azure/sentinel/scheduled-rules-overview (Best practices for analytics
# rule queries): "The query length should be between 1 and 10,000 characters".
@pytest.mark.parametrize("kind", ["Scheduled", "NRT"])
def test_a_query_longer_than_ten_thousand_characters(tmp_path: Path, kind: str) -> None:
    (finding,) = findings(tmp_path, kind=kind, query="T\n" + "x" * 9_999)
    assert finding.message.startswith("query: 10,001 characters, longer than the 10,000")
    assert finding.location.line > 1


def test_hunting_queries_have_no_documented_limit(tmp_path: Path) -> None:
    """No page gives a hunting query's query length or entity mapping limit: nothing is checked."""
    assert findings(tmp_path, kind=None, severity=None, queryFrequency=None, queryPeriod=None, triggerOperator=None,
                    triggerThreshold=None, query="T\n" + "x" * 20_000, entityMappings=[mapping(5)] * 12) == []


# same page, Suppression: "... up to 24 hours."
def test_suppression_longer_than_a_day(tmp_path: Path) -> None:
    (finding,) = findings(tmp_path, suppressionEnabled=True, suppressionDuration="25h")
    assert finding.message == "suppressionDuration: '25h' is longer than the 24h Sentinel allows"


# same page, Alert grouping: "You can alter this time period to anywhere between 5 minutes and 7 days."
@pytest.mark.parametrize(("lookback", "bad"), [("5m", False), ("PT4M", True), ("P7D", False), ("8d", True)])
def test_grouping_lookback_between_five_minutes_and_seven_days(tmp_path: Path, lookback: str, bad: bool) -> None:
    found = findings(tmp_path, incidentConfiguration={"createIncident": True, "groupingConfiguration": {
        "enabled": True, "lookbackDuration": lookback}})
    assert [f.message for f in found] == ([
        f"incidentConfiguration.groupingConfiguration.lookbackDuration: {lookback!r} is outside the 5m to 7d "
        "Sentinel allows for grouping alerts into an incident"] if bad else [])


def test_findings_carry_the_check_id_in_validate(tmp_path: Path) -> None:
    path = rule_file(tmp_path, suppressionEnabled=True, suppressionDuration="2d")
    limits = [f for f in validate_paths([str(path)], jobs=1) if f.check == "service-limits"]
    assert [f.message for f in limits] == ["suppressionDuration: '2d' is longer than the 24h Sentinel allows"]


def test_the_shipped_rules_are_within_the_limits() -> None:
    for path in sorted((REPO / "detections").rglob("*.yaml")):
        if not path.name.endswith(".tests.yaml"):
            assert CHECK.check(load_rule(path)) == [], path
