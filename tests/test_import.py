"""`dac import`: ARM templates and Azure-Sentinel files back into rule YAML.

The round trip YAML -> ARM (the renderer) -> YAML (the importer) must give the
rule back; the importer must also read templates in the shape Sentinel's own
export writes, and the CLI must never clobber a file silently.
"""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from pathlib import Path

import pytest

from dac.cli import main
from dac.errors import DacError, DacWarning
from dac.importer import (
    import_arm,
    import_yaml,
    kusto_duration,
    merge_techniques,
    rule_yaml_text,
    write_rule_yaml,
)
from dac.render import render_rule
from dac.rules.model import discover_rule_files, load_rule
from dac.rules.timespans import parse_rule_timespan
from dac.validate import validate_rules

from conftest import REPO, SHARED

RENDER_DATA = REPO / "tests" / "data" / "render"
CORPUS = SHARED / "corpus" / "azure-sentinel"


DEFAULT_GROUPING = {
    "enabled": False, "reopenClosedIncident": False, "lookbackDuration": timedelta(hours=5),
    "matchingMethod": "AllEntities", "groupByEntities": [], "groupByAlertDetails": [], "groupByCustomDetails": [],
}
SHORT = {"GreaterThan": "gt", "LessThan": "lt", "Equal": "eq", "NotEqual": "ne"}


def _span(text: str) -> timedelta:
    span = parse_rule_timespan(text, allow_iso=True)
    assert span is not None, text
    return span


def normalise(data: dict) -> dict:
    """Make equal what the YAML format itself (as the renderer reads it) makes equivalent:

    * a timespan's spelling: 1h, 01:00:00 and PT1H are one duration;
    * triggerOperator: gt and GreaterThan (and the other three pairs);
    * omitted and default: suppression off for 1h, eventGroupingSettings SingleAlert,
      incidentConfiguration createIncident true with grouping off, and any groupingConfiguration
      member left out (the renderer fills each from the default);
    * empty and absent: description "", tactics [], customDetails {} and the like render the same,
      as do an alertDetailsOverride member left empty (null) and one left out (exports write
      unset members as null);
    * relevantTechniques of an analytics rule: lists that split into the same techniques and
      subTechniques (T1078 beside T1078.004 is implied by it; duplicates are dropped).
    """
    data = copy.deepcopy(data)
    for key in ("queryFrequency", "queryPeriod"):
        if isinstance(data.get(key), str):
            data[key] = _span(data[key])
    if data.get("triggerOperator") in SHORT:
        data["triggerOperator"] = SHORT[data["triggerOperator"]]
    if "kind" in data:
        enabled = data.pop("suppressionEnabled", False)
        duration = _span(data.pop("suppressionDuration", "1h"))
        if (enabled, duration) != (False, timedelta(hours=1)):
            data["suppression"] = (enabled, duration)
        if data.get("eventGroupingSettings") == {"aggregationKind": "SingleAlert"}:
            del data["eventGroupingSettings"]
        if isinstance(data.get("alertDetailsOverride"), dict):
            data["alertDetailsOverride"] = {k: v for k, v in data["alertDetailsOverride"].items() if v is not None}
        incident = dict(data.pop("incidentConfiguration", None) or {})
        grouping = dict(DEFAULT_GROUPING, **(incident.pop("groupingConfiguration", None) or {}))
        if not isinstance(grouping["lookbackDuration"], timedelta):
            grouping["lookbackDuration"] = _span(grouping["lookbackDuration"])
        incident = {"createIncident": incident.pop("createIncident", True), "groupingConfiguration": grouping,
                    **incident}
        if incident != {"createIncident": True, "groupingConfiguration": DEFAULT_GROUPING}:
            data["incidentConfiguration"] = incident
        # The API's pair: parent ids in first-seen order, sub-techniques in list order.
        techniques = list(dict.fromkeys(data.pop("relevantTechniques", None) or []))
        data["techniques"] = (list(dict.fromkeys(t.split(".")[0] for t in techniques)),
                              [t for t in techniques if "." in t])
    return {k: v for k, v in data.items() if v not in (None, "", [], {})}


def carried(data: dict) -> dict:
    """All of the rule: what ARM has no property for travels in the template metadata."""
    return dict(data)


def _round_trip_files() -> list:
    files = discover_rule_files([REPO / "detections"]) + sorted(RENDER_DATA.glob("*.yaml"))
    params = [pytest.param(p, id=p.relative_to(REPO).as_posix()) for p in files]
    if not CORPUS.is_dir():
        return params + [pytest.param(None, marks=pytest.mark.skip(reason=f"{CORPUS} is absent"), id="corpus")]
    for path in discover_rule_files([CORPUS]):
        try:
            rule = load_rule(path)
            if rule.query is None:
                continue  # migration stubs have no query and render to nothing
            render_rule(rule)
        except DacError:
            # A file that does not load or that build refuses (a located error) has its
            # verdict in tests/data/corpus_verdicts.json; there is no template to import.
            continue
        params.append(pytest.param(path, id="corpus/" + path.relative_to(CORPUS).as_posix()))
    return params


ROUND_TRIP = _round_trip_files()


def test_round_trip_covers_every_kind() -> None:
    kinds = {load_rule(p.values[0]).kind for p in ROUND_TRIP if p.values[0] is not None}
    assert kinds >= {"Hunting", "Scheduled", "NRT"}


# --- (1) YAML -> ARM -> YAML ----------------------------------------------------------


@pytest.mark.parametrize("path", ROUND_TRIP)
def test_round_trip(path: Path, tmp_path: Path) -> None:
    rule = load_rule(path)
    arm = render_rule(rule)["sentinel"]
    imported = import_arm(json.loads(json.dumps(arm)), "rendered.json")
    assert len(imported) == 1
    assert normalise(imported[0]) == normalise(carried(rule.data))
    # The file the importer writes reads back as the same data and renders the same template.
    target = tmp_path / "rule.yaml"
    write_rule_yaml(imported[0], target)
    again = load_rule(target)
    assert again.data == imported[0]
    assert without_unset_overrides(render_rule(again)["sentinel"]) == without_unset_overrides(arm)


def without_unset_overrides(arm: dict) -> dict:
    """The template with alertDetailsOverride members left null dropped: null is how exports write
    an unset member, so the importer leaves it out and the rule it writes renders without it."""
    arm = copy.deepcopy(arm)
    for resource in arm["resources"]:
        override = resource["properties"].get("alertDetailsOverride")
        if isinstance(override, dict):
            resource["properties"]["alertDetailsOverride"] = {k: v for k, v in override.items() if v is not None}
    return arm


@pytest.mark.parametrize("name", ["scheduled-encoded-powershell.yaml", "nrt-inbox-forwarding.yaml",
                                  "hunting-entity-mappings.yaml"])
def test_round_trip_is_exact_for_canonical_files(name: str) -> None:
    """These fixtures spell every field the canonical way, so nothing needs normalising; the hunting
    query's entityMappings (no savedSearches property) and its subTechniques list come back as written."""
    rule = load_rule(RENDER_DATA / name)
    assert import_arm(render_rule(rule)["sentinel"], name) == [carried(rule.data)]


def test_round_trip_keeps_a_sub_technique_list_apart(tmp_path: Path) -> None:
    """subTechniques and relevantTechniques come back as the rule lists them, though the alert rule
    merges them into the API's techniques/subTechniques pair; a rule without one keeps none."""
    rule = load_rule(RENDER_DATA / "scheduled-subtechniques.yaml")
    arm = render_rule(rule)["sentinel"]
    props = arm["resources"][0]["properties"]
    assert (props["techniques"], props["subTechniques"]) == (["T1562"], ["T1562.004"])
    [imported] = import_arm(arm, "x.json")
    assert (imported["relevantTechniques"], imported["subTechniques"]) == (["T1562"], ["T1562.004"])
    write_rule_yaml(imported, tmp_path / "again.yaml")
    assert render_rule(load_rule(tmp_path / "again.yaml"))["sentinel"] == arm
    source = tmp_path / "only-sub.yaml"
    source.write_text(rule_yaml_text({k: v for k, v in imported.items() if k != "relevantTechniques"}),
                      encoding="utf-8")
    [imported] = import_arm(render_rule(load_rule(source))["sentinel"], "y.json")
    assert "relevantTechniques" not in imported and imported["subTechniques"] == ["T1562.004"]


def test_equivalent_spellings_round_trip(tmp_path: Path) -> None:
    source = tmp_path / "spellings.yaml"
    source.write_text(
        "id: 0b7f9a51-6a3e-4d2b-9c1e-2f4a5b6c7d8e\n"
        "name: Spellings\n"
        "description: d\n"
        "severity: Low\n"
        "queryFrequency: '01:00:00'\n"
        "queryPeriod: 24h\n"
        "triggerOperator: GreaterThan\n"
        "triggerThreshold: 0\n"
        "suppressionEnabled: false\n"
        "suppressionDuration: 1h\n"
        "relevantTechniques: [T1078, T1110.003, T1078.004]\n"
        "eventGroupingSettings: {aggregationKind: SingleAlert}\n"
        "incidentConfiguration:\n"
        "  createIncident: true\n"
        "  groupingConfiguration: {enabled: true, lookbackDuration: PT2H}\n"
        "query: SigninLogs\n"
        "kind: Scheduled\n",
        encoding="utf-8",
    )
    rule = load_rule(source)
    arm = render_rule(rule)["sentinel"]
    [imported] = import_arm(arm, "x.json")
    assert imported["queryFrequency"] == "1h" and imported["queryPeriod"] == "24h"
    assert imported["triggerOperator"] == "gt"
    assert imported["relevantTechniques"] == ["T1078", "T1110.003", "T1078.004"]
    assert "suppressionEnabled" not in imported and "eventGroupingSettings" not in imported
    assert imported["incidentConfiguration"]["groupingConfiguration"]["lookbackDuration"] == "2h"
    assert normalise(imported) == normalise(carried(rule.data))
    write_rule_yaml(imported, tmp_path / "out.yaml")
    assert render_rule(load_rule(tmp_path / "out.yaml"))["sentinel"] == arm


def test_normalise_still_tells_rules_apart() -> None:
    data = carried(load_rule(RENDER_DATA / "scheduled-encoded-powershell.yaml").data)
    for key, value in [("triggerThreshold", 4), ("queryPeriod", "13d"), ("relevantTechniques", ["T1059", "T1105"]),
                       ("suppressionEnabled", False)]:
        assert normalise(dict(data, **{key: value})) != normalise(data), key


def test_conversions() -> None:
    assert merge_techniques(["T1078"], ["T1078.004"]) == ["T1078.004"]
    assert merge_techniques(["T1105", "T1059"], ["T1059.001"]) == ["T1105", "T1059.001"]
    assert merge_techniques(["T1059", "T1105"], ["T1059.001", "T1059.003"]) == ["T1059.001", "T1059.003", "T1105"]
    assert [kusto_duration(x) for x in ("PT1H", "P14D", "PT5M", "PT24H", "PT90M", "P1DT2H", "PT90S", "5h", "x")] == [
        "1h", "14d", "5m", "24h", "90m", "26h", "00:01:30", "5h", None]


# --- (2) Sentinel's export shape -------------------------------------------------------

EXPORT_GUID = "3c0e8a4b-5f6d-4e7a-9b1c-2d3e4f5a6b7c"
HUNTING_GUID = "7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
QUERY = (
    "SigninLogs\n"
    "| where ResultType == \"50126\"\n"
    "| summarize FailedCount = count() by UserPrincipalName, IPAddress\n"
    "| where FailedCount > 10\n"
)


def sentinel_export() -> dict:
    """An analytics rule and a hunting query laid out as the Sentinel portal exports them."""
    return {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "parameters": {"workspace": {"type": "String"}},
        "resources": [
            {
                "id": "[concat(resourceId('Microsoft.OperationalInsights/workspaces/providers', "
                      f"parameters('workspace'), 'Microsoft.SecurityInsights'),'/alertRules/{EXPORT_GUID}')]",
                "name": f"[concat(parameters('workspace'),'/Microsoft.SecurityInsights/{EXPORT_GUID}')]",
                "type": "Microsoft.OperationalInsights/workspaces/providers/alertRules",
                "kind": "Scheduled",
                "apiVersion": "2023-12-01-preview",
                "properties": {
                    "displayName": "Password spray against one account",
                    "description": "Many failed sign-ins with a bad password for one user.\n",
                    "severity": "Medium",
                    "enabled": True,
                    "query": QUERY,
                    "queryFrequency": "PT1H",
                    "queryPeriod": "P1D",
                    "triggerOperator": "GreaterThan",
                    "triggerThreshold": 0,
                    "suppressionDuration": "PT5H",
                    "suppressionEnabled": False,
                    "startTimeUtc": None,
                    "tactics": ["CredentialAccess"],
                    "techniques": ["T1110"],
                    "subTechniques": ["T1110.003"],
                    "alertRuleTemplateName": None,
                    "templateVersion": "1.0.1",
                    "incidentConfiguration": {
                        "createIncident": True,
                        "groupingConfiguration": {
                            "enabled": False, "reopenClosedIncident": False, "lookbackDuration": "PT5H",
                            "matchingMethod": "AllEntities", "groupByEntities": [], "groupByAlertDetails": [],
                            "groupByCustomDetails": [],
                        },
                    },
                    "eventGroupingSettings": {"aggregationKind": "SingleAlert"},
                    "alertDetailsOverride": {"alertDisplayNameFormat": "Password spray on {{UserPrincipalName}}",
                                             "alertDescriptionFormat": None, "alertTacticsColumnName": None,
                                             "alertSeverityColumnName": None},
                    "customDetails": None,
                    "entityMappings": [
                        {"entityType": "Account",
                         "fieldMappings": [{"identifier": "FullName", "columnName": "UserPrincipalName"}]},
                        {"entityType": "IP", "fieldMappings": [{"identifier": "Address", "columnName": "IPAddress"}]},
                    ],
                    "sentinelEntitiesMappings": None,
                },
            },
            {
                "name": f"[concat(parameters('workspace'), '/{HUNTING_GUID}')]",
                "type": "Microsoft.OperationalInsights/workspaces/savedSearches",
                "apiVersion": "2020-08-01",
                "properties": {
                    "category": "Hunting Queries",
                    "displayName": "Failed sign-ins per user",
                    "query": "SigninLogs\n| where ResultType != \"0\"\n| summarize count() by UserPrincipalName\n",
                    "version": 2,
                    "tags": [
                        {"name": "description", "value": "Counts failed sign-ins per user.\n"},
                        {"name": "tactics", "value": "CredentialAccess,InitialAccess"},
                        {"name": "techniques", "value": "T1110,T1078.004"},
                    ],
                },
            },
        ],
    }


def test_sentinel_export_imports_and_validates(tmp_path: Path) -> None:
    analytics, hunting = import_arm(sentinel_export(), "export.json")
    assert analytics == {
        "id": EXPORT_GUID,
        "name": "Password spray against one account",
        "description": "Many failed sign-ins with a bad password for one user.\n",
        "severity": "Medium",
        "queryFrequency": "1h",
        "queryPeriod": "1d",
        "triggerOperator": "gt",
        "triggerThreshold": 0,
        "suppressionEnabled": False,
        "suppressionDuration": "5h",
        "tactics": ["CredentialAccess"],
        "relevantTechniques": ["T1110.003"],
        "query": QUERY,
        "entityMappings": sentinel_export()["resources"][0]["properties"]["entityMappings"],
        "alertDetailsOverride": {"alertDisplayNameFormat": "Password spray on {{UserPrincipalName}}"},
        "version": "1.0.1",
        "kind": "Scheduled",
    }
    assert hunting == {
        "id": HUNTING_GUID,
        "name": "Failed sign-ins per user",
        "description": "Counts failed sign-ins per user.\n",
        "tactics": ["CredentialAccess", "InitialAccess"],
        "relevantTechniques": ["T1110", "T1078.004"],
        "query": "SigninLogs\n| where ResultType != \"0\"\n| summarize count() by UserPrincipalName\n",
    }
    rules = []
    for index, data in enumerate((analytics, hunting)):
        write_rule_yaml(data, tmp_path / f"rule{index}.yaml")
        rules.append(load_rule(tmp_path / f"rule{index}.yaml"))
    errors = [f for f in validate_rules(rules) if not isinstance(f, DacWarning)]
    assert errors == []


def test_expression_in_a_property_is_refused() -> None:
    document = sentinel_export()
    document["resources"][0]["properties"]["severity"] = "[parameters('severity')]"
    with pytest.raises(DacError, match=r"properties\.severity is an ARM expression"):
        import_arm(document, "export.json")


def test_unsupported_kind_is_refused() -> None:
    document = sentinel_export()
    document["resources"][0]["kind"] = "Fusion"
    with pytest.raises(DacError, match="'Fusion' has no YAML form"):
        import_arm(document, "export.json")


# --- writing ---------------------------------------------------------------------------


def test_written_yaml_order_and_block_scalars(tmp_path: Path) -> None:
    data = {"kind": "NRT", "version": "1.0.0", "query": "T\n| take 1  \n", "zzz": 1, "id": EXPORT_GUID,
            "description": "two\nlines\n", "name": "n", "severity": "Low"}
    target = tmp_path / "r.yaml"
    write_rule_yaml(data, target)
    text = target.read_text(encoding="utf-8")
    keys = [line.split(":")[0] for line in text.splitlines() if line and not line.startswith(" ")]
    assert keys == ["id", "name", "description", "severity", "query", "zzz", "version", "kind"]
    assert "description: |\n  two\n  lines\n" in text
    assert "query: |\n  T\n  | take 1  \n" in text  # trailing spaces kept in the block
    assert import_yaml(target) == data
    assert rule_yaml_text(data) == text  # deterministic
    assert list(tmp_path.iterdir()) == [target]  # no temporary file left behind


def test_write_refuses_to_overwrite(tmp_path: Path) -> None:
    target = tmp_path / "r.yaml"
    target.write_text("keep me\n", encoding="utf-8")
    with pytest.raises(DacError, match="file exists"):
        write_rule_yaml({"id": EXPORT_GUID}, target)
    assert target.read_text(encoding="utf-8") == "keep me\n"
    write_rule_yaml({"id": EXPORT_GUID}, target, force=True)
    assert import_yaml(target) == {"id": EXPORT_GUID}


# --- (3) the command line --------------------------------------------------------------


def test_cli_import(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    template = tmp_path / "export.json"
    template.write_text(json.dumps(sentinel_export()), encoding="utf-8")
    yaml_source = RENDER_DATA / "nrt-inbox-forwarding.yaml"
    out = tmp_path / "out"
    assert main(["import", str(template), str(yaml_source), "--out", str(out)]) == 0
    written = sorted(p.name for p in out.iterdir())
    assert written == ["failed-sign-ins-per-user.yaml", "inbox-rule-forwarding-mail-outside-the-organisation.yaml",
                       "password-spray-against-one-account.yaml"]
    printed = capsys.readouterr().out
    assert all(name in printed for name in written)
    assert import_yaml(out / written[1]) == load_rule(yaml_source).data
    assert import_yaml(out / written[2])["id"] == EXPORT_GUID

    spray = out / "password-spray-against-one-account.yaml"
    edited = f"id: {EXPORT_GUID.upper()}\nname: edited\n"  # a hand-edited copy of the same rule
    spray.write_text(edited, encoding="utf-8")
    assert main(["import", str(template), "--out", str(out)]) == 2
    assert "file exists" in capsys.readouterr().err
    assert spray.read_text(encoding="utf-8") == edited
    assert main(["import", str(template), "--out", str(out), "--force"]) == 0
    assert import_yaml(spray)["id"] == EXPORT_GUID


def test_template_without_guid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    document = sentinel_export()
    del document["resources"][0]["id"]
    document["resources"][0]["name"] = "[concat(parameters('workspace'),'/Microsoft.SecurityInsights/spray-rule')]"
    with pytest.raises(DacError, match="spray-rule.*no rule GUID"):
        import_arm(document, "export.json")
    template = tmp_path / "export.json"
    template.write_text(json.dumps(document), encoding="utf-8")
    out = tmp_path / "out"
    assert main(["import", str(template), "--out", str(out)]) == 2
    assert "spray-rule" in capsys.readouterr().err
    assert not out.exists()
