"""dac test --mutate: mutants of a rule's query, run through its cases (issue 17 item 3)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from dac.cli import main
from dac.kql.extents import parse_with_extents
from dac.testing.mutants import mutants
from dac.testing.mutation import EQUIVALENT, INVALID, KILLED, SURVIVED, mutate_rule, one_line_diff

from conftest import REPO

SEED = REPO / "detections" / "hunting" / "user-clicked-through-events.yaml"

RULE = """\
id: 0d1a5f3e-8d7c-4d59-9a43-2f3d4e5a6b7c
name: Encoded PowerShell
description: |
  PowerShell started with an encoded command.
tactics:
  - Execution
relevantTechniques:
  - T1059
query: |
  DeviceProcessEvents
  | where FileName =~ "powershell.exe"
  | where ProcessCommandLine has "encodedcommand"
  | summarize by DeviceName
version: 1.0.0
platforms: [Defender]
"""

CASES = """\
platform: Defender
now: 2024-05-01T12:00:00Z
cases:
  - name: encoded powershell is reported
    tables:
      DeviceProcessEvents:
        - {DeviceName: pc1, FileName: PowerShell.exe, ProcessCommandLine: "powershell -EncodedCommand AAA"}
    expect:
      - {DeviceName: pc1}
  - name: cmd is not reported
    tables:
      DeviceProcessEvents:
        - {DeviceName: pc2, FileName: cmd.exe, ProcessCommandLine: "cmd -EncodedCommand AAA"}
    expect: []
"""

PINNING_CASE = """\
  - name: plain powershell is not reported
    tables:
      DeviceProcessEvents:
        - {DeviceName: pc3, FileName: powershell.exe, ProcessCommandLine: "powershell -File x.ps1 -NoEncodedCommand"}
    expect: []
"""


@pytest.fixture
def rule(tmp_path: Path) -> Path:
    (tmp_path / "rule.yaml").write_text(RULE, encoding="utf-8")
    (tmp_path / "rule.tests.yaml").write_text(CASES, encoding="utf-8")
    return tmp_path / "rule.yaml"


def by_description(result) -> dict:
    return {outcome.description: outcome for outcome in result.outcomes}


def test_the_seed_rules_cases_kill_every_mutant_of_its_query() -> None:
    result = mutate_rule(SEED)
    assert not result.problem
    found = by_description(result)
    # the operators, each present on the seed query and each caught by some case
    for description in ("== -> !=", "== -> =~", "!= -> ==", "or -> and", "has -> contains", "has -> has_cs",
                        'drop disjunct IsClickedThrough != "0"', 'drop where ThreatTypes has "Phish"',
                        "drop by key ReportId", 'not(ThreatTypes has "Phish")'):
        assert found[description].status == KILLED, description
    assert found["has -> contains"].reason == "case 'has matches whole terms only' fails"
    assert result.score == 1.0


def test_a_clause_no_case_depends_on_survives_at_its_rule_file_position(rule: Path) -> None:
    found = by_description(mutate_rule(rule))
    dropped = found['drop where ProcessCommandLine has "encoded...']
    assert dropped.status == SURVIVED
    assert str(dropped.location) == f"{rule}:12:3"  # the `|` of the query's third line, in the rule file
    assert dropped.diff == '[-| where ProcessCommandLine has "encodedcommand"-]'
    swapped = found["has -> contains"]
    assert (swapped.status, str(swapped.location)) == (SURVIVED, f"{rule}:12:30")
    assert swapped.diff == '| where ProcessCommandLine [-has-]{+contains+} "encodedcommand"'
    assert swapped.label() == "survived (possibly equivalent)"
    # the file-name clause is pinned by the cmd.exe case and its case-insensitive match by PowerShell.exe
    assert found['drop where FileName =~ "powershell.exe"'].status == KILLED
    assert found["=~ -> =="].status == KILLED
    assert found["=~ -> =="].reason == "case 'encoded powershell is reported' fails"


def test_a_case_pinning_the_clause_kills_its_mutants(rule: Path) -> None:
    tests = rule.with_name("rule.tests.yaml")
    tests.write_text(CASES + PINNING_CASE, encoding="utf-8")
    result = mutate_rule(rule)
    found = by_description(result)
    assert found['drop where ProcessCommandLine has "encoded...'].status == KILLED
    assert found["has -> contains"].status == KILLED  # "NoEncodedCommand" contains the text, has not the term
    assert found["has -> contains"].reason == "case 'plain powershell is not reported' fails"
    assert result.count(SURVIVED) == 0 and result.score == 1.0


def test_a_mutant_that_does_not_parse_is_invalid_not_killed(rule: Path) -> None:
    found = by_description(mutate_rule(rule))
    only_key = found["drop by key DeviceName"]  # `| summarize` with nothing after it
    assert only_key.status == INVALID
    assert only_key.reason.startswith("does not parse: expected")


def test_only_a_constant_expression_keeping_its_value_is_equivalent(tmp_path: Path) -> None:
    (tmp_path / "rule.yaml").write_text(RULE.replace('"powershell.exe"', '"powershell.exe" and "a" == "a"'),
                                        encoding="utf-8")
    (tmp_path / "rule.tests.yaml").write_text(CASES, encoding="utf-8")
    found = by_description(mutate_rule(tmp_path / "rule.yaml"))
    assert found["== -> =~"].status == EQUIVALENT  # "a" =~ "a" is true as "a" == "a" is
    assert found["== -> !="].status == KILLED
    # a survivor over columns is never called equivalent, however alike its results
    assert found["has -> contains"].status == SURVIVED


def test_a_rule_whose_cases_fail_is_not_scored(rule: Path) -> None:
    tests = rule.with_name("rule.tests.yaml")
    tests.write_text(CASES.replace("{DeviceName: pc1}", "{DeviceName: pc9}"), encoding="utf-8")
    result = mutate_rule(rule)
    assert result.score is None and not result.outcomes
    assert "fail on the query itself (first: 'encoded powershell is reported')" in result.problem


def test_text_output_lists_each_survivor_with_its_one_line_diff(rule: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["test", str(rule.parent), "--mutate"]) == 0
    out = capsys.readouterr().out
    assert f"mutation {rule}: Encoded PowerShell: " in out
    assert f"  survived (possibly equivalent) {rule}:12:30: has -> contains\n" \
           f'      | where ProcessCommandLine [-has-]{{+contains+}} "encodedcommand"\n' in out
    assert "killed" in out and "mutants in" in out and "/s)" in out


def test_json_carries_every_mutant(rule: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["test", str(rule.parent), "--mutate", "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    mutation = document["mutation"]
    (entry,) = mutation["rules"]
    assert entry["rule"] == "Encoded PowerShell" and entry["file"] == str(rule)
    assert entry["killed"] + entry["survived"] + entry["equivalent"] + entry["invalid"] == len(entry["mutants"])
    assert entry["score"] == pytest.approx(entry["killed"] / (entry["killed"] + entry["survived"]))
    survivor = next(m for m in entry["mutants"] if m["description"] == "has -> contains")
    assert survivor == {"status": "survived", "operator": "string-operator", "description": "has -> contains",
                        "file": str(rule), "line": 12, "column": 30,
                        "diff": '| where ProcessCommandLine [-has-]{+contains+} "encodedcommand"', "reason": ""}
    assert mutation["min_score"] is None and entry["below_min"] is False
    assert mutation["mutants"] == len(entry["mutants"])


def settings(root: Path, value: str) -> None:
    (root / ".git").mkdir(exist_ok=True)
    (root / "pyproject.toml").write_text(f"[tool.dac]\nrules = [\".\"]\nmin-mutation-score = {value}\n",
                                         encoding="utf-8")


def test_a_rule_below_the_configured_minimum_fails_the_run(rule: Path, monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    settings(rule.parent, "0.9")
    monkeypatch.chdir(rule.parent)
    assert main(["test", "rule.yaml", "--mutate"]) == 1
    out = capsys.readouterr().out
    assert "rule.yaml: Encoded PowerShell: mutation score " in out and "is below the minimum 90.0%" in out
    assert main(["test", "rule.yaml"]) == 0  # the minimum applies to a run that computes the score
    capsys.readouterr()
    assert main(["test", "rule.yaml", "--mutate", "--min-mutation-score", "10%"]) == 0  # the flag wins
    capsys.readouterr()
    assert main(["test", "rule.yaml", "--mutate", "--format", "json"]) == 1
    document = json.loads(capsys.readouterr().out)
    assert document["ok"] is False and document["mutation"]["rules"][0]["below_min"] is True


def test_a_rule_at_the_minimum_passes(rule: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rule.with_name("rule.tests.yaml").write_text(CASES + PINNING_CASE, encoding="utf-8")
    settings(rule.parent, '"100%"')
    monkeypatch.chdir(rule.parent)
    assert main(["test", "rule.yaml", "--mutate"]) == 0


@pytest.mark.parametrize("value", ["1.5", '"eighty"', "true", '"-5%"'])
def test_a_bad_minimum_is_a_located_settings_error(rule: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str], value: str) -> None:
    settings(rule.parent, value)
    monkeypatch.chdir(rule.parent)
    assert main(["test", "rule.yaml", "--mutate"]) == 2
    err = capsys.readouterr().err
    assert "pyproject.toml:3:1: [tool.dac] min-mutation-score: expected a fraction from 0 to 1" in err


def test_the_minimum_flag_needs_mutate(rule: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["test", str(rule), "--min-mutation-score", "0.5"]) == 2
    assert "--min-mutation-score needs --mutate" in capsys.readouterr().err


def texts(query: str, operator: str) -> list[str]:
    return [m.text for m in mutants(parse_with_extents(query)) if m.operator == operator]


def test_an_operand_is_dropped_from_a_chain_without_breaking_parentheses() -> None:
    query = "T | where (A or B) and C and D"
    assert texts(query, "drop-operand") == [
        "T | where C and D", "T | where (B) and C and D", "T | where (A) and C and D",
        "T | where (A or B) and D", "T | where (A or B) and C",
    ]


def test_operator_words_of_several_tokens_are_rewritten_whole() -> None:
    assert texts("T | where A !in ('x') and B <> 1 and C !has 'y'", "in-list") == ["T | where A in ('x') and B <> 1 and C !has 'y'"]
    assert "T | where A !in ('x') and B == 1 and C !has 'y'" in texts("T | where A !in ('x') and B <> 1 and C !has 'y'",
                                                                       "comparison")
    assert texts("T | where C !has 'y'", "string-operator") == ["T | where C !contains 'y'", "T | where C !has_cs 'y'"]


def test_constants_move_by_one_unit_of_their_own() -> None:
    assert texts("T | where A > -5 and B < ago(1h) and C == 2.5", "constant") == [
        "T | where A > -4 and B < ago(1h) and C == 2.5", "T | where A > -6 and B < ago(1h) and C == 2.5",
        "T | where A > -5 and B < ago(2h) and C == 2.5", "T | where A > -5 and B < ago(0h) and C == 2.5",
        "T | where A > -5 and B < ago(1h) and C == 3.5", "T | where A > -5 and B < ago(1h) and C == 1.5",
    ]


def test_a_diff_across_lines_is_shown_on_one_line() -> None:
    query = "T\n| where A\n    and B\n| take 1"
    source = parse_with_extents(query)
    drop = next(m for m in mutants(source) if m.operator == "drop-where")
    assert one_line_diff(query, drop) == "[-| where A and B-]"


def test_the_seed_rule_copied_keeps_its_score(tmp_path: Path) -> None:
    shutil.copy(SEED, tmp_path / "rule.yaml")
    shutil.copy(SEED.with_name("user-clicked-through-events.tests.yaml"), tmp_path / "rule.tests.yaml")
    assert mutate_rule(tmp_path / "rule.yaml").score == 1.0


def test_report_shows_the_score_per_rule_with_mutate(rule: Path, tmp_path: Path) -> None:
    from dac.report import build_report, collect

    shutil.copytree(SEED.parent, rule.parent / "seed")
    (row, seed) = collect([rule.parent], mutate=True)
    assert row.mutation.endswith("% (6 of 8 killed)") and row.mutation_score == 0.75
    assert (seed.mutation, seed.mutation_score) == ("100.0% (20 of 20 killed)", 1.0)
    build_report([rule.parent], tmp_path / "out", mutate=True)
    page = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert "<th>Mutation score</th>" in page and '<td class="bad">75.0% (6 of 8 killed)</td>' in page
    build_report([rule.parent], tmp_path / "plain")
    assert "Mutation score" not in (tmp_path / "plain" / "index.html").read_text(encoding="utf-8")
