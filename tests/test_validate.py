"""``dac validate``: schema, unique ids and KQL syntax, each finding at file:line:col.

Every failure test writes a small rule whose text is visible in the test and
asserts the complete finding, position included, so a finding pointing at the
wrong place fails as surely as a missing one.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import yaml

from dac import config
from dac.cli import main
from dac.errors import RuleFileError
from dac.rules.model import discover_rule_files
from dac.validate import SchemaCheck, validate_paths
from dac.validate.schedule import parse_timespan

from conftest import REPO, SHARED

AZURE_SENTINEL = SHARED / "corpus" / "azure-sentinel"
SEED_RULE = REPO / "detections" / "hunting" / "user-clicked-through-events.yaml"

# A valid Scheduled rule; tests break it one way at a time. Line numbers below
# refer to this text: 4 severity, 6 queryFrequency, 7 queryPeriod,
# 9 triggerThreshold, 13 the technique, 15-17 the query, 21 the first identifier.
SCHEDULED = """\
id: 6d5f1a0e-0d3c-4c59-9a1b-2f1e3c4d5a6b
name: Phish click allowed
description: A user clicked through a Safe Links warning to a phish URL.
severity: Medium
kind: Scheduled
queryFrequency: 1h
queryPeriod: 1h
triggerOperator: gt
triggerThreshold: 0
tactics:
  - InitialAccess
relevantTechniques:
  - T1566
query: |
  UrlClickEvents
  | where ActionType == "ClickAllowed"
  | project AccountUpn, Url
entityMappings:
  - entityType: Account
    fieldMappings:
      - identifier: FullName
        columnName: AccountUpn
  - entityType: URL
    fieldMappings:
      - identifier: Url
        columnName: Url
version: 1.0.0
"""

HUNTING = """\
id: 0b6f2c1e-5d4a-4e3b-8c7d-1a2b3c4d5e6f
name: Clicks on phish URLs
description: Users who clicked on URLs with a phish verdict.
requiredDataConnectors:
  - connectorId: MicrosoftThreatProtection
    dataTypes:
      - UrlClickEvents
tactics:
  - InitialAccess
relevantTechniques:
  - T1566
query: |
  UrlClickEvents
  | where ThreatTypes has "Phish"
version: 1.0.0
"""

NRT = """\
id: 3c2b1a09-8f7e-4d6c-9b5a-0f1e2d3c4b5a
name: Phish click allowed (near real time)
description: A user clicked through a Safe Links warning to a phish URL.
severity: High
kind: NRT
query: |
  UrlClickEvents
  | where ActionType == "ClickAllowed"
version: 1.0.0
"""

STUB = """\
id: f8100782-cb35-466b-831a-72ef4c53edfd
name: MFA Rejected by User
description: |
  'As part of content migration, this file is moved to a new location.'
version: 1.0.5"""


def write(directory: Path, name: str, text: str) -> str:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def findings_for(*paths: str | Path) -> list[str]:
    return [str(finding) for finding in validate_paths(list(paths))]


def broken(directory: Path, old: str, new: str, base: str = SCHEDULED) -> str:
    """Write ``base`` with one substitution; the substitution must apply."""
    assert old in base, old
    return write(directory, "rule.yaml", base.replace(old, new, 1))


# --- what must pass -----------------------------------------------------------


VERDICTS = REPO / "tests" / "data" / "corpus_verdicts.json"
VERDICTS_ABOUT = (
    "What `dac validate` says about each file of ../shared/corpus/azure-sentinel (files copied unchanged "
    "from the public Azure-Sentinel repository): every finding of each file that has any, as "
    "'line:col: [check id] message', and how many files have none. The corpus folder itself is the "
    "workspace ([tool.dac] workspace): its CustomTables, parsers and watchlists are declared. "
    "tests/test_validate.py::test_azure_sentinel_corpus_verdicts_are_the_recorded_ones compares the "
    "current verdicts with this file exactly, so any change in any verdict shows in review; "
    "DAC_UPDATE_VERDICTS=1 ./tasks test tests/test_validate.py rewrites it. "
    "The findings are NOT yet triaged into real defects of the files, limitations of dac (catalog, "
    "platform model, workspace functions, custom tables, watchlists, ASIM parsers) and false findings: "
    "a finding listed here is a recorded verdict, not a judgement that the file is wrong."
)


def corpus_verdicts() -> dict:
    """The corpus verdicts in the data file's shape; paths, also inside messages, relative to the corpus."""
    prefix = f"{AZURE_SENTINEL}/"
    files: dict[str, list[str]] = {}
    config.use(config.Settings(workspace=(str(AZURE_SENTINEL),)))  # its CustomTables, parsers and watchlists
    for finding in validate_paths([AZURE_SENTINEL]):
        where = finding.location
        relative = Path(where.path).relative_to(AZURE_SENTINEL).as_posix()
        message = finding.message.replace(prefix, "")
        files.setdefault(relative, []).append(f"{where.line}:{where.column}: [{finding.check}] {message}")
    by_check: dict[str, int] = {}
    for verdict in (line for lines in files.values() for line in lines):
        check = verdict.split("[", 1)[1].split("]", 1)[0]
        by_check[check] = by_check.get(check, 0) + 1
    return {
        "about": VERDICTS_ABOUT,
        "clean_files": len({p.relative_to(AZURE_SENTINEL).as_posix() for p in discover_rule_files([AZURE_SENTINEL])}
                           - set(files)),  # workspace files (CustomTables JSON) may have findings too
        "files_with_findings": len(files),
        "findings_by_check": dict(sorted(by_check.items())),
        "files": dict(sorted(files.items())),
    }


def verdict_changes(recorded: dict, current: dict) -> list[str]:
    """What differs, one line each: counts, then per file the findings gone (-) and new (+)."""
    lines = [f"{key}: {recorded.get(key)!r} -> {current.get(key)!r}"
             for key in ("clean_files", "files_with_findings", "findings_by_check") if recorded.get(key) != current.get(key)]
    old_files, new_files = recorded.get("files", {}), current.get("files", {})
    for path in sorted(set(old_files) | set(new_files)):
        old, new = old_files.get(path, []), new_files.get(path, [])
        if old != new:
            lines.append(f"{path}:")
            lines += [f"  - {line}" for line in old if line not in new]
            lines += [f"  + {line}" for line in new if line not in old]
            if sorted(old) == sorted(new):
                lines.append("  (same findings, another order)")
    return lines


def test_azure_sentinel_corpus_verdicts_are_the_recorded_ones() -> None:
    """Every corpus file's verdict is the one tests/data/corpus_verdicts.json records."""
    if not AZURE_SENTINEL.is_dir():
        pytest.skip(f"{AZURE_SENTINEL} is not available")
    files = discover_rule_files([AZURE_SENTINEL])
    assert files, "the corpus directory holds no rule files"
    assert len(files) == len(list(AZURE_SENTINEL.rglob("*.yaml")))
    current = corpus_verdicts()
    if os.environ.get("DAC_UPDATE_VERDICTS") == "1":
        VERDICTS.write_text(json.dumps(current, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    recorded = json.loads(VERDICTS.read_text(encoding="utf-8"))
    changes = verdict_changes(recorded, current)
    if changes or recorded != current:
        pytest.fail("the corpus verdicts differ from tests/data/corpus_verdicts.json "
                    "(DAC_UPDATE_VERDICTS=1 rewrites it once the change is understood):\n"
                    + "\n".join(changes or ["the 'about' text"]), pytrace=False)


def test_checks_apply_to_real_corpus_files(tmp_path: Path) -> None:
    """The corpus verdicts are not vacuous: a one-word change to a real file is caught."""
    if not AZURE_SENTINEL.is_dir():
        pytest.skip(f"{AZURE_SENTINEL} is not available")
    real = next(AZURE_SENTINEL.rglob("PrivilegedUserLogonfromnewASN.yaml"))
    text = real.read_text(encoding="utf-8")
    path = write(tmp_path, "copy.yaml", text.replace("severity: Medium", "severity: Critical"))
    assert findings_for(path) == [f"{path}:6:11: severity: 'Critical' is not one of Informational, Low, Medium, High"]


def test_seed_rule_validates_clean() -> None:
    assert findings_for(SEED_RULE) == []


@pytest.mark.parametrize("text", [SCHEDULED, HUNTING, NRT, STUB], ids=["scheduled", "hunting", "nrt", "stub"])
def test_each_rule_shape_validates_clean(tmp_path: Path, text: str) -> None:
    assert findings_for(write(tmp_path, "rule.yaml", text)) == []


def test_optional_analytics_sections_are_accepted(tmp_path: Path) -> None:
    extra = """\
customDetails:
  ClickedUrl: Url
alertDetailsOverride:
  alertDisplayNameFormat: Phish click by {{AccountUpn}}
  alertDynamicProperties:
    - alertProperty: AlertLink
      value: Url
eventGroupingSettings:
  aggregationKind: AlertPerResult
incidentConfiguration:
  createIncident: true
  groupingConfiguration:
    enabled: true
    lookbackDuration: PT5H
    matchingMethod: Selected
    groupByEntities: [Account]
    groupByAlertDetails: [DisplayName]
suppressionEnabled: false
suppressionDuration: 5h
status: Available
tags: [Phishing, {Schema: ASimWebSession, SchemaVersion: 0.2.6}]
platforms: [Defender, Sentinel]
"""
    assert findings_for(write(tmp_path, "rule.yaml", SCHEDULED + extra)) == []


# --- schema findings ----------------------------------------------------------


def test_bad_enum_value(tmp_path: Path) -> None:
    path = broken(tmp_path, "severity: Medium", "severity: Critical")
    assert findings_for(path) == [f"{path}:4:11: severity: 'Critical' is not one of Informational, Low, Medium, High"]


def test_enum_value_with_a_near_miss_suggests_the_spelling(tmp_path: Path) -> None:
    path = broken(tmp_path, "  - InitialAccess", "  - Initial Access")
    [finding] = findings_for(path)
    assert finding.startswith(f"{path}:11:5: tactics[0]: 'Initial Access' is not one of Reconnaissance, ")
    assert finding.endswith(" (did you mean 'InitialAccess'?)")


def test_bad_technique_pattern(tmp_path: Path) -> None:
    path = broken(tmp_path, "  - T1566\n", "  - T1566.1\n")
    assert findings_for(path) == [
        f"{path}:13:5: relevantTechniques[0]: 'T1566.1' is not an ATT&CK technique id (T#### or T####.###)"
    ]


def test_sub_technique_is_accepted(tmp_path: Path) -> None:
    assert findings_for(broken(tmp_path, "  - T1566\n", "  - T1566.002\n")) == []


def test_missing_required_key_points_at_the_parent_mapping(tmp_path: Path) -> None:
    path = broken(tmp_path, "queryPeriod: 1h\n", "")
    assert findings_for(path) == [f"{path}:1:1: missing required key 'queryPeriod' for a Scheduled rule"]


def test_missing_nested_required_key(tmp_path: Path) -> None:
    path = broken(tmp_path, "        columnName: AccountUpn\n", "")
    assert findings_for(path) == [f"{path}:21:9: entityMappings[0].fieldMappings[0]: missing required key 'columnName'"]


def test_hunting_query_without_query_is_not_a_stub(tmp_path: Path) -> None:
    path = broken(tmp_path, 'query: |\n  UrlClickEvents\n  | where ThreatTypes has "Phish"\n', "", base=HUNTING)
    assert findings_for(path) == [f"{path}:1:1: missing required key 'query' for a hunting query"]


def test_nrt_rule_requires_severity(tmp_path: Path) -> None:
    path = broken(tmp_path, "severity: High\n", "", base=NRT)
    assert findings_for(path) == [f"{path}:1:1: missing required key 'severity' for an NRT rule"]


def test_unknown_key_is_reported_at_the_key_with_a_suggestion(tmp_path: Path) -> None:
    path = broken(tmp_path, "severity: Medium", "severty: Medium")
    assert findings_for(path) == [
        f"{path}:1:1: missing required key 'severity' for a Scheduled rule",
        f"{path}:4:1: unknown key 'severty' (did you mean 'severity'?)",
    ]


def test_unknown_key_without_a_near_miss(tmp_path: Path) -> None:
    path = write(tmp_path, "rule.yaml", HUNTING + "owner: soc-team\n")
    assert findings_for(path) == [f"{path}:16:1: unknown key 'owner'"]


def test_wrong_type(tmp_path: Path) -> None:
    path = broken(tmp_path, "triggerThreshold: 0", "triggerThreshold: '0'")
    assert findings_for(path) == [f"{path}:9:19: triggerThreshold: expected an integer, found a string ('0')"]


def test_unquoted_version_read_as_a_number(tmp_path: Path) -> None:
    path = broken(tmp_path, "version: 1.0.0", "version: 1.0")
    assert findings_for(path) == [
        f"{path}:27:10: version: expected a version string x.y.z, found 1.0 (quote it so YAML does not read a number)"
    ]


def test_identifier_must_belong_to_the_entity_type(tmp_path: Path) -> None:
    path = broken(tmp_path, "identifier: Url", "identifier: Address")
    assert findings_for(path) == [
        f"{path}:25:21: entityMappings[1].fieldMappings[0].identifier: "
        "'Address' is not an identifier of a URL entity; use one of Url"
    ]


def test_invalid_custom_detail_name_is_reported_at_the_key(tmp_path: Path) -> None:
    path = write(tmp_path, "rule.yaml", SCHEDULED + "customDetails:\n  Clicked-Url: Url\n")
    assert findings_for(path) == [
        f"{path}:29:3: customDetails: 'Clicked-Url' is not a valid custom detail name "
        "(a letter, then letters, digits or _)"
    ]


def test_timespan_in_iso_form_is_rejected_for_the_schedule(tmp_path: Path) -> None:
    path = broken(tmp_path, "queryPeriod: 1h", "queryPeriod: PT1H")
    assert findings_for(path) == [f"{path}:7:14: queryPeriod: 'PT1H' is not a timespan such as 5m, 1h or 14d"]


def test_platforms_extension_is_checked(tmp_path: Path) -> None:
    path = write(tmp_path, "rule.yaml", HUNTING + "platforms: [Sentinel, Splunk]\n")
    assert findings_for(path) == [f"{path}:16:23: platforms[1]: 'Splunk' is not one of Sentinel, Defender"]


def test_rule_schema_is_a_valid_json_schema() -> None:
    SchemaCheck()  # raises jsonschema.SchemaError if the schema itself is malformed


# --- schedule findings --------------------------------------------------------


def test_query_period_shorter_than_frequency(tmp_path: Path) -> None:
    path = broken(tmp_path, "queryPeriod: 1h", "queryPeriod: 30m")
    assert findings_for(path) == [
        f"{path}:7:14: queryPeriod: '30m' is shorter than queryFrequency '1h'; "
        "events between two runs would never be queried"
    ]


def test_frequency_below_the_minimum(tmp_path: Path) -> None:
    path = broken(tmp_path, "queryFrequency: 1h", "queryFrequency: 2m")
    assert findings_for(path) == [f"{path}:6:17: queryFrequency: '2m' is shorter than the minimum of 5m"]


def test_long_period_needs_an_hourly_frequency(tmp_path: Path) -> None:
    text = SCHEDULED.replace("queryFrequency: 1h", "queryFrequency: 30m").replace("queryPeriod: 1h", "queryPeriod: 2d")
    path = write(tmp_path, "rule.yaml", text)
    assert findings_for(path) == [
        f"{path}:6:17: queryFrequency: '30m' is below 1h, the minimum when queryPeriod is 2d or more"
    ]


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("5m", 300), ("1h", 3600), ("14d", 14 * 86400), ("01:30:00", 5400), ("1.00:00:00", 86400), ("5 m", None)],
)
def test_parse_timespan(text: str, seconds: int | None) -> None:
    span = parse_timespan(text)
    assert (span.total_seconds() if span is not None else None) == seconds


# --- ids, YAML and KQL --------------------------------------------------------


def test_duplicate_id_across_two_files_names_the_first(tmp_path: Path) -> None:
    first = write(tmp_path, "a.yaml", SCHEDULED)
    same_id_in_capitals = HUNTING.replace("0b6f2c1e-5d4a-4e3b-8c7d-1a2b3c4d5e6f", "6D5F1A0E-0D3C-4C59-9A1B-2F1E3C4D5A6B")
    second = write(tmp_path, "b.yaml", same_id_in_capitals)
    assert findings_for(tmp_path) == [
        f"{second}:1:5: duplicate id '6D5F1A0E-0D3C-4C59-9A1B-2F1E3C4D5A6B': already used by {first}:1:5"
    ]


def test_duplicate_yaml_key(tmp_path: Path) -> None:
    path = broken(tmp_path, "name: Phish click allowed\n", "name: Phish click allowed\nname: Another name\n")
    assert findings_for(path) == [f"{path}:3:1: YAML error: duplicate key 'name' (first defined on line 2)"]


def test_yaml_syntax_error(tmp_path: Path) -> None:
    path = broken(tmp_path, "name: Phish click allowed\n", "name: Phish click allowed\n  oops: indented\n")
    assert findings_for(path) == [f"{path}:3:7: YAML error: mapping values are not allowed here"]


def test_kql_syntax_error_is_reported_in_the_yaml_file(tmp_path: Path) -> None:
    path = broken(tmp_path, '  | where ActionType == "ClickAllowed"', '  | wher ActionType == "ClickAllowed"')
    assert findings_for(path) == [f"{path}:16:5: KQL syntax error: unknown query operator 'wher'"]


def test_rule_file_that_is_a_list(tmp_path: Path) -> None:
    path = write(tmp_path, "rule.yaml", "- id: 6d5f1a0e-0d3c-4c59-9a1b-2f1e3c4d5a6b\n- name: x\n")
    assert findings_for(path) == [f"{path}:1:1: a rule file must be a YAML mapping, found a list"]


def test_a_broken_file_does_not_hide_the_others_and_findings_are_sorted(tmp_path: Path) -> None:
    listed = write(tmp_path, "a.yaml", "- not a rule\n")
    two_mistakes = SCHEDULED.replace("severity: Medium", "severity: Critical").replace("| project", "| projekt")
    bad = write(tmp_path, "b.yaml", two_mistakes)
    assert findings_for(tmp_path) == [
        f"{listed}:1:1: a rule file must be a YAML mapping, found a list",
        f"{bad}:4:11: severity: 'Critical' is not one of Informational, Low, Medium, High",
        f"{bad}:17:5: KQL syntax error: unknown query operator 'projekt'",
    ]


def test_missing_path_is_bad_input_not_a_clean_result(tmp_path: Path) -> None:
    with pytest.raises(RuleFileError):
        validate_paths([tmp_path / "nope"])


# --- command line -------------------------------------------------------------


def test_cli_reports_findings_and_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = broken(tmp_path, "severity: Medium", "severity: Critical")
    assert main(["validate", path]) == 1
    err = capsys.readouterr().err.splitlines()
    assert f"{path}:4:11: severity: 'Critical' is not one of Informational, Low, Medium, High [schema]" in err


def test_cli_exits_0_when_clean(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(SEED_RULE, tmp_path / SEED_RULE.name)
    write(tmp_path, "nrt.yaml", NRT)
    assert main(["validate", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    assert "all rules valid" in captured.out


def test_cli_missing_path_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(tmp_path / "nope")]) == 2
    assert "no such file or directory" in capsys.readouterr().err


def test_validate_reports_a_broken_test_file(tmp_path: Path) -> None:
    """dac validate also loads the rule's tests: a fixture column typo is found before tests run."""
    seed = Path(__file__).resolve().parents[1] / "detections" / "hunting" / "user-clicked-through-events.yaml"
    (tmp_path / "rule.yaml").write_text(seed.read_text())
    (tmp_path / "rule.tests.yaml").write_text(
        "cases:\n"
        "  - name: one\n"
        "    tables:\n"
        "      UrlClickEvents:\n"
        "        - {ActionTyp: ClickAllowed}\n"
        "    expect: []\n"
    )
    findings = validate_paths([tmp_path])
    assert [str(f) for f in findings] == [
        f"{tmp_path / 'rule.tests.yaml'}:5:12: unknown column 'ActionTyp' (did you mean 'ActionType'?)"
    ]
    (tmp_path / "rule.tests.yaml").write_text("cases:\n  - name: one\n    tables: {}\n")
    (finding,) = validate_paths([tmp_path])
    assert str(finding) == (f"{tmp_path / 'rule.tests.yaml'}:2:5: the case states nothing about the result: give "
                            "expect: (the rows), contains: (rows among others) or count: (how many)")


# --- what real Azure-Sentinel files carry beside the format -------------------------------------

def test_an_empty_optional_value_reads_as_absent(tmp_path: Path) -> None:
    """Azure-Sentinel files write `tactics:` or `metadata:` with nothing after them; ARM reads that as unset."""
    text = HUNTING.replace("tactics:", "metadata:\ncustomDetails:\ntactics:", 1) if "tactics:" in HUNTING else HUNTING
    assert "metadata:\n" in text
    assert findings_for(write(tmp_path, "rule.yaml", text)) == []
    assert findings_for(write(tmp_path, "typo.yaml", text.replace("metadata:\n", "metdata:\n"))) != []


def test_solution_metadata_keys_are_accepted_and_typos_still_caught(tmp_path: Path) -> None:
    extra = "author:\n  name: someone\nsupport:\n  tier: Community\ncategories:\n  domains: [Security]\n" \
            "threatAnalysisTactics: [Execution]\n"
    assert findings_for(write(tmp_path, "rule.yaml", HUNTING + extra)) == []
    [typo] = findings_for(write(tmp_path, "typo.yaml", HUNTING + "tag: [x]\n"))
    assert "unknown key 'tag' (did you mean 'tags'?)" in typo


PARSER = """\
FunctionName: MyParser
FunctionQuery: |
  SigninLogs
  | project TimeGenerated, UserPrincipalName
"""


def test_a_parser_file_among_the_rules_is_a_workspace_declaration_not_a_rule(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from dac import config
    from dac.render import build

    (tmp_path / ".git").mkdir()
    rules = tmp_path / "rules"
    rules.mkdir()
    write(rules, "MyParser.yaml", PARSER)
    monkeypatch.chdir(tmp_path)
    [finding] = validate_paths(["rules"])
    assert (finding.check, finding.location.line) == ("workspace", 1)
    assert "declares a workspace parser or function, not a rule" in finding.message
    (tmp_path / "pyproject.toml").write_text('[tool.dac]\nrules = ["rules"]\nworkspace = ["rules"]\n')
    config.use(None)
    assert validate_paths(["rules"]) == []
    build(["rules"], tmp_path / "out")  # nothing to render, no error
    assert not list((tmp_path / "out").rglob("MyParser.json"))


TRIAGE = REPO / "tests" / "data" / "corpus_triage.yaml"
# Findings on the corpus by category, as triaged in tests/data/corpus_triage.yaml. A change in a verdict
# moves a count; a false finding is a bug to fix, and this count must only fall.
TRIAGED = {"real-defect": 171, "limitation": 69, "false-finding": 0}


def test_every_corpus_finding_is_triaged() -> None:
    """Each finding is a real defect of its file, a named limitation of dac, or a listed false finding."""
    if not AZURE_SENTINEL.is_dir():
        pytest.skip(f"{AZURE_SENTINEL} is not available")
    import re

    rules = yaml.safe_load(TRIAGE.read_text(encoding="utf-8"))["rules"]
    counts = {category: 0 for category in TRIAGED}
    untriaged = []
    for path, lines in json.loads(VERDICTS.read_text(encoding="utf-8"))["files"].items():
        for line in lines:
            check, message = re.match(r"\d+:\d+: \[([^\]]+)\] (.*)", line).groups()
            matched = next((rule for rule in rules if rule["check"] == check and re.search(rule["match"], message)), None)
            if matched is None:
                untriaged.append(f"{path}:{line}")
            else:
                counts[matched["category"]] += 1
    assert untriaged == []
    assert counts == TRIAGED


@pytest.mark.parametrize("name", ["rule.schema.json", "tests.schema.json"])
def test_packaged_schemas_are_valid_against_their_metaschema(name: str) -> None:
    """dac validate does not check its own schemas at start-up (see schema._named_validator): this does."""
    import jsonschema

    from dac.validate.schema import load_schema

    schema = load_schema(name)
    jsonschema.validators.validator_for(schema).check_schema(schema)
