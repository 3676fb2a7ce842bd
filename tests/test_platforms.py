"""The platform model: a rule in the Azure-Sentinel format targets Sentinel unless it names its platforms.

In Sentinel the Defender XDR tables exist in their Log Analytics flavour
(``TimeGenerated``, the standard columns); Defender advanced hunting has the
same tables with ``Timestamp``. A query is bound on each platform it targets,
and a rule's test cases default to its first platform.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from conftest import REPO
from dac import catalog, config
from dac.rules.model import load_rule
from dac.testing.runner import run_tests
from dac.validate import validate_paths

HEAD = """\
id: 0b7d3c8e-1c1a-4d3b-8e55-6f2b9c0d4e21
name: Suspicious process
description: test
requiredDataConnectors:
  - connectorId: MicrosoftThreatProtection
    dataTypes:
      - DeviceProcessEvents
tactics: [Execution]
relevantTechniques: [T1059]
version: 1.0.0
"""


def write(tmp_path: Path, body: str, tests: str = "") -> Path:
    path = tmp_path / "rule.yaml"
    path.write_text(HEAD + textwrap.dedent(body), encoding="utf-8")
    if tests:
        (tmp_path / "rule.tests.yaml").write_text(textwrap.dedent(tests), encoding="utf-8")
    return path


def binding_messages(path: Path) -> list[str]:
    return [f"{f.location.line}:{f.location.column}: {f.message}" for f in validate_paths([path])
            if f.check in ("kql-binding", "workspace")]


@pytest.fixture(autouse=True)
def _outside_any_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    config.use(None)


def test_an_azure_sentinel_rule_with_the_defender_connector_targets_sentinel(tmp_path: Path) -> None:
    path = write(tmp_path, """\
        query: |
          DeviceProcessEvents
          | where TimeGenerated > ago(1d) and FileName =~ "powershell.exe"
          | project TimeGenerated, DeviceName, TenantId
        """)
    assert load_rule(path).platforms == ["sentinel"]
    assert binding_messages(path) == []


def test_timestamp_is_defenders_column_not_sentinels(tmp_path: Path) -> None:
    path = write(tmp_path, "query: |\n  DeviceProcessEvents\n  | where Timestamp > ago(1d)\n")
    assert binding_messages(path) == [
        "13:11: unknown column or variable 'Timestamp' (Sentinel (Log Analytics) tables have 'TimeGenerated')"]


def test_a_defender_rule_using_timestamp_binds_clean(tmp_path: Path) -> None:
    path = write(tmp_path, "platforms: [Defender]\nquery: |\n  DeviceProcessEvents\n  | where Timestamp > ago(1d)\n")
    assert load_rule(path).platforms == ["defender"]
    assert binding_messages(path) == []


def test_sentinel_tables_are_unknown_on_defender(tmp_path: Path) -> None:
    path = write(tmp_path, "platforms: [Defender]\nquery: |\n  SigninLogs\n  | take 1\n")
    assert binding_messages(path) == ["13:3: unknown table 'SigninLogs'"]


def test_a_query_is_bound_on_each_platform_it_targets(tmp_path: Path) -> None:
    path = write(tmp_path, "platforms: [Sentinel, Defender]\nquery: |\n  DeviceProcessEvents\n  | where TimeGenerated > ago(1d)\n")
    assert binding_messages(path) == [
        "14:11: unknown column or variable 'TimeGenerated' (Defender advanced hunting tables have 'Timestamp') (on Defender)"]


def test_the_repositorys_platforms_apply_to_rules_that_name_none(tmp_path: Path) -> None:
    (tmp_path / "dac.toml").write_text('platforms = ["Defender"]\n', encoding="utf-8")
    config.use(None)
    path = write(tmp_path, "query: |\n  DeviceProcessEvents\n  | where Timestamp > ago(1d)\n")
    assert (load_rule(path).platforms, binding_messages(path)) == (["defender"], [])


def test_tests_default_to_the_rules_first_platform_and_the_test_file_overrides(tmp_path: Path) -> None:
    cases = textwrap.dedent("""\
        cases:
          - name: a recent powershell start
            tables:
              DeviceProcessEvents: [{{{time}: now-1h, FileName: powershell.exe, DeviceName: pc1}}]
            expect: [{{DeviceName: pc1}}]
        """)
    query = "query: |\n  DeviceProcessEvents\n  | where {time} > ago(1d)\n  | project DeviceName\n"
    write(tmp_path, query.format(time="TimeGenerated"), cases.format(time="TimeGenerated"))
    assert [(r.case, r.status) for r in run_tests([str(tmp_path)], jobs=1).results] == [
        ("a recent powershell start", "PASS")]
    write(tmp_path, "platforms: [Defender, Sentinel]\n" + query.format(time="TimeGenerated"),
          "platform: Sentinel\n" + cases.format(time="TimeGenerated"))
    assert run_tests([str(tmp_path)], jobs=1).ok
    write(tmp_path, query.format(time="Timestamp"), cases.format(time="Timestamp"))
    (result,) = run_tests([str(tmp_path)], jobs=1).results
    assert (result.case, result.status) == ("(load tests)", "ERROR")
    assert result.details[0].endswith("unknown column 'Timestamp'")


def test_the_sentinel_catalog_has_the_defender_tables_and_the_standard_columns() -> None:
    for table in ("DeviceProcessEvents", "EmailEvents", "UrlClickEvents", "IdentityLogonEvents", "AlertEvidence"):
        sentinel = dict(catalog.table_columns("sentinel", table))
        defender = dict(catalog.table_columns("defender", table))
        assert ("TimeGenerated" in sentinel, "Timestamp" in sentinel) == (True, False), table
        assert ("Timestamp" in defender, "TimeGenerated" in defender, "TenantId" in defender) == (True, False, False)
    for table in catalog.known_tables("sentinel"):
        columns = dict(catalog.table_columns("sentinel", table))
        assert {name: columns.get(name) for name in ("TimeGenerated", "TenantId", "Type", "_ResourceId")} == {
            "TimeGenerated": "datetime", "TenantId": "string", "Type": "string", "_ResourceId": "string"}, table


def test_the_seed_rule_targets_both_platforms_and_binds_on_both() -> None:
    seed = REPO / "detections" / "hunting" / "user-clicked-through-events.yaml"
    assert load_rule(seed).platforms == ["defender", "sentinel"]
    assert validate_paths([seed]) == []


# --- artifacts follow the platforms -------------------------------------------------------------

@pytest.mark.parametrize("declared, expected", [
    ("", {"sentinel"}),                          # the Azure-Sentinel format: Sentinel
    ("platforms: [Defender]\n", {"defender"}),   # a Defender-only rule has no workspace template
    ("platforms: [Sentinel, Defender]\n", {"sentinel", "defender"}),
])
def test_build_and_pack_write_artifacts_only_for_the_rules_platforms(tmp_path: Path, declared: str,
                                                                    expected: set[str]) -> None:
    import json
    import zipfile

    from dac.pack import build_pack
    from dac.render import build

    column = "Timestamp" if declared == "platforms: [Defender]\n" else "ProcessCommandLine"
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "rule.yaml").write_text(HEAD + declared + textwrap.dedent(f"""\
        query: |
          DeviceProcessEvents
          | where isnotempty({column})
        """), encoding="utf-8")
    build([str(rules)], tmp_path / "out")
    written = {p.parent.name for p in (tmp_path / "out").rglob("rule.json")}
    assert written == expected
    index = json.loads((tmp_path / "out" / "index.json").read_text())
    assert set(index["rules"][0]["artifacts"]) == expected
    pack = build_pack([str(rules)], tmp_path / "pack.zip", "1.0.0").path
    with zipfile.ZipFile(pack) as archive:
        names = set(archive.namelist())
        manifest = json.loads(archive.read("manifest.json"))
        deployment = json.loads(archive.read("deployment/sentinel.json"))
    assert {name.split("/")[0] for name in names if name.endswith("/rule.json")} == expected
    assert set(manifest["rules"][0]["platforms"]) == expected
    rule_resources = [r for r in deployment["resources"] if "alertRules" in r["type"] or "savedSearches" in r["type"]]
    assert bool(rule_resources) == ("sentinel" in expected)
