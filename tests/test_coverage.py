"""dac test --coverage: each where-predicate made true and false by some case (issue 17 item 4)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dac.cli import main
from dac.testing.coverage import cover_rule

from conftest import REPO
from test_mutation import CASES, PINNING_CASE, RULE

SEED = REPO / "detections" / "hunting" / "user-clicked-through-events.yaml"


@pytest.fixture
def rule(tmp_path: Path) -> Path:
    (tmp_path / "rule.yaml").write_text(RULE, encoding="utf-8")
    (tmp_path / "rule.tests.yaml").write_text(CASES, encoding="utf-8")
    return tmp_path / "rule.yaml"


def test_every_predicate_of_the_seed_rule_is_covered() -> None:
    result = cover_rule(SEED)
    assert [(p.location.line, p.location.column, p.text) for p in result.predicates] == [
        (17, 11, 'ActionType == "ClickAllowed"'), (17, 43, 'IsClickedThrough != "0"'), (18, 11, 'ThreatTypes has "Phish"'),
    ]
    assert not result.uncovered


def test_a_predicate_no_case_makes_false_is_listed_at_its_position(rule: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    result = cover_rule(rule)
    (missing,) = result.uncovered
    assert (str(missing.location), missing.text, missing.missing()) == \
        (f"{rule}:12:11", 'ProcessCommandLine has "encodedcommand"', "never false")
    assert main(["test", str(rule.parent), "--coverage"]) == 0  # coverage informs, it does not fail the run
    out = capsys.readouterr().out
    assert f'uncovered {rule}:12:11: ProcessCommandLine has "encodedcommand": never false\n' in out
    assert "predicate coverage: 1 of 2 where-predicate(s) made both true and false" in out


def test_a_case_making_it_false_covers_it(rule: Path) -> None:
    rule.with_name("rule.tests.yaml").write_text(CASES + PINNING_CASE, encoding="utf-8")
    assert not cover_rule(rule).uncovered


def test_each_conjunct_is_its_own_predicate_and_an_unreached_where_is_said_so(tmp_path: Path) -> None:
    query = ('  DeviceProcessEvents\n  | where FileName =~ "powershell.exe" and not(ProcessCommandLine has "x")\n'
             '  | where DeviceName == "never"\n  | where AccountName == "a"\n  | summarize by DeviceName\n')
    start = RULE.index("query: |\n") + len("query: |\n")
    end = RULE.index("version:")
    (tmp_path / "rule.yaml").write_text(RULE[:start] + query + RULE[end:], encoding="utf-8")
    (tmp_path / "rule.tests.yaml").write_text(
        CASES.replace("      - {DeviceName: pc1}\n", "      []\n").replace("expect:\n      []", "expect: []"),
        encoding="utf-8")
    result = cover_rule(tmp_path / "rule.yaml")
    found = {p.text: p for p in result.predicates}
    assert (found['FileName =~ "powershell.exe"'].true, found['FileName =~ "powershell.exe"'].false) == (True, True)
    inner = found['ProcessCommandLine has "x"']  # looked through not()
    assert (inner.location.line, inner.location.column, inner.true, inner.false) == (11, 48, False, True)
    assert found['DeviceName == "never"'].missing() == "never true"
    assert found['AccountName == "a"'].missing() == "never evaluated (no case brings a row to its where)"


def test_json_lists_every_predicate(rule: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["test", str(rule), "--coverage", "--format", "json"]) == 0
    coverage = json.loads(capsys.readouterr().out)["coverage"]
    assert (coverage["predicates"], coverage["uncovered"]) == (2, 1)
    (entry,) = coverage["rules"]
    assert entry["predicates"][1] == {"file": str(rule), "line": 12, "column": 11,
                                      "text": 'ProcessCommandLine has "encodedcommand"', "true": True, "false": False,
                                      "covered": False}


def test_a_rule_without_tests_is_not_measured(tmp_path: Path) -> None:
    (tmp_path / "rule.yaml").write_text(RULE, encoding="utf-8")
    result = cover_rule(tmp_path / "rule.yaml")
    assert result.problem.startswith("(no tests): rule has no test file") and not result.predicates
