"""The pytest plugin (framework/pytest_plugin.py): rule test cases as pytest items."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from conftest import REPO

pytest_plugins = ["pytester"]

RULE = "detections/hunting/user-clicked-through-events.yaml"
TESTS = "detections/hunting/user-clicked-through-events.tests.yaml"
SEED_CASES = 7


@pytest.fixture()
def rules(pytester: pytest.Pytester) -> pytest.Pytester:
    """A temporary folder holding a copy of detections/."""
    shutil.copytree(REPO / "detections", pytester.path / "detections")
    return pytester


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    # hypothesis's plugin imports hypothesis at the end of every in-process run: seconds, and not ours
    return pytester.runpytest("-p", "no:hypothesispytest", *args)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_items_are_named_rule_file_and_case(rules: pytest.Pytester) -> None:
    result = run(rules, "detections", "--collect-only", "-q")
    ids = [line for line in result.outlines if "::" in line]
    assert len(ids) == SEED_CASES
    assert f"{RULE}::has matches whole terms only" in ids
    assert f"{RULE}::allowed click on a phish URL is reported" in ids


def test_every_seed_case_passes(rules: pytest.Pytester) -> None:
    result = run(rules, "detections")
    result.assert_outcomes(passed=SEED_CASES)
    assert result.ret == pytest.ExitCode.OK


def test_k_selects_one_case(rules: pytest.Pytester) -> None:
    result = run(rules, "detections", "-v", "-k", "whole and terms")
    result.assert_outcomes(passed=1, deselected=SEED_CASES - 1)
    result.stdout.fnmatch_lines([f"{RULE}::has matches whole terms only PASSED*"])


def test_node_id_selects_one_case(rules: pytest.Pytester) -> None:
    result = run(rules, f"{RULE}::malware verdict is not reported")
    result.assert_outcomes(passed=1)


def test_broken_expectation_shows_the_row_diff(rules: pytest.Pytester) -> None:
    edit(rules.path / TESTS, "NetworkMessageId: m-6, ThreatTypes: Phish}", "NetworkMessageId: m-WRONG, ThreatTypes: Phish}")
    result = run(rules, "detections")
    result.assert_outcomes(passed=SEED_CASES - 1, failed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    out = result.stdout.str()
    assert re.search(rf"FAIL  {re.escape(TESTS)}:\d+:5: User clicked through events :: has matches whole terms only", out)
    assert "3 row(s) expected, 3 returned" in out
    assert "--- expected" in out and "+++ actual" in out
    assert '-{ReportId: "r-exact", IsClickedThrough: null, AccountUpn: "erin@contoso.com", NetworkMessageId: "m-WRONG"' in out
    assert '+{ReportId: "r-exact", IsClickedThrough: null, AccountUpn: "erin@contoso.com", NetworkMessageId: "m-6"' in out
    assert "Traceback" not in out and "CaseFailed" not in out
    result.stdout.fnmatch_lines([f"FAILED {RULE}::has matches whole terms only*"])


def test_test_file_error_is_one_located_failure(rules: pytest.Pytester) -> None:
    edit(rules.path / TESTS, "ThreatTypes: Phish, AccountUpn: alice", "ThreatType: Phish, AccountUpn: alice")
    result = run(rules, "detections", "-v")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([f"{RULE}::(load tests) FAILED*"])
    assert re.search(rf"{re.escape(TESTS)}:\d+:\d+: unknown column 'ThreatType' \(did you mean 'ThreatTypes'\?\)",
                     result.stdout.str())


def test_query_syntax_error_is_located_in_the_rule_file(rules: pytest.Pytester) -> None:
    edit(rules.path / RULE, '| where ThreatTypes has "Phish"', '| where ThreatTypes has has "Phish"')
    result = run(rules, "detections")
    result.assert_outcomes(failed=1)
    # the second has is a keyword where an operand must stand (the official parser: "Missing expression")
    result.stdout.fnmatch_lines([f"{RULE}:*:*: 'has' is a keyword: bracket it as *"])


def test_only_rules_with_a_test_file_under_named_paths_are_collected(rules: pytest.Pytester) -> None:
    # a rule without a test file beside it is no pytest item (dac test reports it)
    shutil.copy(rules.path / RULE, rules.path / "detections" / "untested.yaml")
    # a project's own tests next to the rules
    rules.makepyfile(**{"tests/test_plain.py": "def test_plain():\n    assert True\n"})
    result = run(rules, "tests")
    result.assert_outcomes(passed=1)
    result = run(rules, "detections", "--collect-only", "-q")
    assert not any("untested" in line for line in result.outlines)
    # bare pytest (no paths given, no dac_rules) collects no rules
    result = run(rules, "--collect-only", "-q")
    assert not any(".yaml::" in line for line in result.outlines)
    assert any("test_plain.py::test_plain" in line for line in result.outlines)


def test_dac_rules_ini_option_collects_without_naming_the_path(rules: pytest.Pytester) -> None:
    rules.makeini("[pytest]\ndac_rules = detections\n")
    rules.makepyfile(**{"tests/test_plain.py": "def test_plain():\n    assert True\n"})
    result = run(rules)
    result.assert_outcomes(passed=SEED_CASES + 1)


def test_plugin_can_be_disabled(rules: pytest.Pytester) -> None:
    result = run(rules, "-p", "no:dac", "detections")
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED


def test_runs_under_xdist(rules: pytest.Pytester) -> None:
    pytest.importorskip("xdist")
    edit(rules.path / TESTS, "NetworkMessageId: m-6, ThreatTypes: Phish}", "NetworkMessageId: m-WRONG, ThreatTypes: Phish}")
    result = rules.runpytest_subprocess("-n", "2", "-p", "no:cacheprovider", "detections")
    result.assert_outcomes(passed=SEED_CASES - 1, failed=1)
    assert "NetworkMessageId: \"m-WRONG\"" in result.stdout.str()
