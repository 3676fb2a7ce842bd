"""``dac fixtures --for RULE``: generated cases load, pass, kill the mutants that change a filter, say what
they cannot solve at its position, and never replace a test file."""

from __future__ import annotations

import shutil
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from dac.cli import main
from dac.errors import DacError
from dac.generate import generate_tests
from dac.rules.model import load_rule
from dac.testing.mutation import INVALID, KILLED, SURVIVED, mutate_rule
from dac.testing.runner import run_tests
from dac.testing.spans import parse_span

from conftest import REPO

SEED = REPO / "detections" / "hunting" / "user-clicked-through-events.yaml"


def make_rule(folder: Path, query: str, platform: str = "Defender") -> Path:
    """A hunting rule with ``query`` (the seed rule's other fields); no test file."""
    text = SEED.read_text()
    start, end = text.index("query: |"), text.index("version:")
    body = "query: |\n" + textwrap.indent(textwrap.dedent(query).strip() + "\n", "  ")
    text = text[:start] + body + text[end:]
    text = text.replace("platforms: [Defender, Sentinel]", f"platforms: [{platform}]")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "rule.yaml"
    path.write_text(text)
    return path


def generated(path: Path) -> Path:
    """Run the command on ``path``; return the test file it wrote."""
    assert main(["fixtures", "--for", str(path)]) == 0
    tests = path.with_name("rule.tests.yaml" if path.name == "rule.yaml" else path.stem + ".tests.yaml")
    assert tests.is_file()
    return tests


def survivors(path: Path) -> list[str]:
    report = mutate_rule(path)
    assert not report.problem, report.problem
    assert report.count(KILLED) > 0
    return [f"{o.description}: {o.diff}" for o in report.outcomes if o.status == SURVIVED]


def cases(tests: Path) -> dict[str, dict]:
    return {case["name"]: case for case in yaml.safe_load(tests.read_text())["cases"]}


# --- the seed rule -----------------------------------------------------------------------


def test_seed_rule_cases_load_pass_and_kill_every_mutant(tmp_path: Path) -> None:
    rule = tmp_path / "rule.yaml"
    shutil.copy(SEED, rule)
    tests = generated(rule)
    report = run_tests([str(rule)])
    assert report.ok, report.render()
    assert report.counts()["PASS"] == 4  # the positive case and a near miss per predicate
    names = cases(tests)
    assert 'near miss: ActionType == "ClickAllowed" is false' in names
    assert 'near miss: IsClickedThrough != "0" is false' in names
    assert 'near miss: ThreatTypes has "Phish" is false' in names
    assert survivors(rule) == []


def test_seed_rule_near_misses_fail_only_their_predicate(tmp_path: Path) -> None:
    """Each near miss is the row of the positive case with only its predicate's column changed."""
    rule = tmp_path / "rule.yaml"
    shutil.copy(SEED, rule)
    found = cases(generated(rule))
    positive = found["every filter holds: reported"]["tables"]["UrlClickEvents"]
    near = found['near miss: ThreatTypes has "Phish" is false']["tables"]["UrlClickEvents"][0]
    assert any(set(k for k in row if row[k] != near[k]) == {"ThreatTypes"} for row in positive)
    # has is a whole-term match: the term inside a longer word is what tells has from contains
    assert "phish" in near["ThreatTypes"].lower() and near["ThreatTypes"].lower() != "phish"
    assert found['near miss: ThreatTypes has "Phish" is false']["count"] == 0


# --- small rules: each kind of predicate ---------------------------------------------------------


@pytest.mark.parametrize("query", [
    # comparisons, case, in~, not(), an ago() window on the test clock
    """
    DeviceProcessEvents
    | where Timestamp > ago(1h)
    | where FileName =~ "powershell.exe" and ProcessCommandLine has "-enc"
    | where not(ProcessCommandLine contains "bypass")
    | where InitiatingProcessFileName in~ ("winword.exe", "excel.exe")
    | project Timestamp, DeviceName, FileName, ProcessCommandLine
    """,
    # or of ranges: between with both bounds, a bound on another column, startswith/endswith, isnotempty
    """
    DeviceNetworkEvents
    | where RemotePort between (1024 .. 2048) or RemotePort > 60000
    | where LocalPort <= 445
    | where isnotempty(InitiatingProcessFileName) and RemoteUrl !endswith ".contoso.com"
          and RemoteUrl startswith "https://"
    | project DeviceName, RemoteUrl, RemotePort, LocalPort, InitiatingProcessFileName
    """,
    # a computed column replayed, a renamed one, != and !in, isempty on another
    """
    DeviceProcessEvents
    | extend Command = tolower(ProcessCommandLine)
    | project-rename Account = AccountName
    | where Command startswith "cmd" and Account != "system"
    | where FolderPath !in ("C:\\\\Windows\\\\System32\\\\cmd.exe") and isempty(InitiatingProcessFileName)
    | project Account, Command, FolderPath
    """,
])
def test_generated_cases_kill_every_filter_mutant(tmp_path: Path, query: str) -> None:
    rule = make_rule(tmp_path, query)
    generated(rule)
    report = run_tests([str(rule)])
    assert report.ok, report.render()
    assert survivors(rule) == []


def test_window_rows_sit_at_the_bounds_of_the_clock(tmp_path: Path) -> None:
    """``Timestamp > ago(1h)`` is tested just inside the window and at its edge (where ``>=`` differs)."""
    rule = make_rule(tmp_path, """
        DeviceProcessEvents
        | where Timestamp > ago(1h)
        | project Timestamp, DeviceName
        """)
    found = cases(generated(rule))
    (row,) = found["every filter holds: reported"]["tables"]["DeviceProcessEvents"]
    assert parse_span(row["Timestamp"].removeprefix("now-")) < timedelta(hours=1)
    assert found["near miss: Timestamp > ago(1h) is false"]["tables"]["DeviceProcessEvents"] == [{"Timestamp": "now-1h"}]
    assert survivors(rule) == []  # > -> >=, 1h -> 2h and 1h -> 0h among them


def test_or_is_tested_with_one_side_true(tmp_path: Path) -> None:
    """A near miss of ``a or b`` makes both false; the positive rows make each true alone."""
    rule = make_rule(tmp_path, """
        UrlClickEvents
        | where ActionType == "ClickAllowed" or Workload == "Teams"
        | project ActionType, Workload
        """)
    found = cases(generated(rule))
    rows = found["every filter holds: reported"]["tables"]["UrlClickEvents"]
    assert any(r["ActionType"] == "ClickAllowed" and r["Workload"] != "Teams" for r in rows)
    assert any(r["ActionType"] != "ClickAllowed" and r["Workload"] == "Teams" for r in rows)
    for name in ('near miss: ActionType == "ClickAllowed" is false', 'near miss: Workload == "Teams" is false'):
        (row,) = found[name]["tables"]["UrlClickEvents"]
        assert row["ActionType"] != "ClickAllowed" and row["Workload"] != "Teams"


# --- what cannot be solved ---------------------------------------------------------------------


def test_unsolvable_parts_are_named_at_their_position_and_the_rest_is_written(tmp_path: Path, capsys) -> None:
    rule = make_rule(tmp_path, """
        DeviceProcessEvents
        | where FileName == "rundll32.exe"
        | where AdditionalFields.Elevated == true
        | summarize Count = count() by DeviceName
        | where Count > 5
        """)
    tests = generated(rule)
    err = capsys.readouterr().err
    # rule.yaml: the query starts on line 16 (indented 2); its lines 3 and 4 hold the dynamic predicate and the summarize
    assert f"{rule}:18:11: AdditionalFields.Elevated == true: not solved: reads inside a dynamic value " \
           "(dynamic parsing)" in err
    assert f"{rule}:19:5: summarize: the generator does not see through it" in err
    assert "the 1 where(s) after it are not solved" in err
    assert f"{rule}:16:3: the positive case returns no rows" in err
    text = tests.read_text()
    assert "#   18:11: AdditionalFields.Elevated == true: not solved" in text
    found = cases(tests)
    assert found["every filter solved holds (the query returns no rows)"]["count"] == 0
    assert run_tests([str(rule)]).ok


def test_a_predicate_the_others_imply_has_no_near_miss_and_says_so(tmp_path: Path, capsys) -> None:
    """``startswith "https://"`` implies ``isnotempty()``: no row fails the latter alone, so dropping it changes
    no filter's result; the generator names it rather than write a near miss that is not one."""
    rule = make_rule(tmp_path, """
        DeviceNetworkEvents
        | where isnotempty(RemoteUrl) and RemoteUrl startswith "https://"
        """)
    found = cases(generated(rule))
    assert f"{rule}:17:11: isnotempty(RemoteUrl): no near miss: no value of RemoteUrl found" in capsys.readouterr().err
    assert list(found) == ["every filter holds: reported", 'near miss: RemoteUrl startswith "https://" is false']
    assert [s.split(":")[0] for s in survivors(rule)] == ["drop conjunct isnotempty(RemoteUrl)"]


def test_query_without_a_table_source_is_a_located_error(tmp_path: Path, capsys) -> None:
    rule = make_rule(tmp_path, """
        union DeviceProcessEvents, DeviceFileEvents
        | where FileName == "a.exe"
        """)
    assert main(["fixtures", "--for", str(rule)]) == 2
    assert f"{rule}:16:3: cannot generate cases: the query reads a union of tables" in capsys.readouterr().err
    assert not rule.with_name("rule.tests.yaml").exists()


# --- never clobbers ------------------------------------------------------------------------------


def test_an_existing_test_file_is_never_replaced(tmp_path: Path, capsys) -> None:
    rule = tmp_path / "rule.yaml"
    shutil.copy(SEED, rule)
    existing = tmp_path / "rule.tests.yaml"
    existing.write_text("cases: []  # mine\n")
    assert main(["fixtures", "--for", str(rule)]) == 2
    assert f"{existing}: file exists; not overwritten" in capsys.readouterr().err
    assert existing.read_text() == "cases: []  # mine\n"
    other = tmp_path / "other.tests.yaml"
    other.write_text("mine\n")
    assert main(["fixtures", "--for", str(rule), "--out", str(other)]) == 2
    assert other.read_text() == "mine\n"
    yml = tmp_path / "rule.tests.yml"
    existing.unlink()
    yml.write_text("mine\n")
    assert main(["fixtures", "--for", str(rule)]) == 2  # x.tests.yml is the rule's test file too
    assert not existing.exists()


def test_out_writes_elsewhere_and_a_table_with_for_is_refused(tmp_path: Path, capsys) -> None:
    rule = tmp_path / "rule.yaml"
    shutil.copy(SEED, rule)
    out = tmp_path / "elsewhere.tests.yaml"
    assert main(["fixtures", "--for", str(rule), "--out", str(out)]) == 0
    assert out.is_file() and not (tmp_path / "rule.tests.yaml").exists()
    assert main(["fixtures", "UrlClickEvents", "--for", str(rule)]) == 2
    assert "give a TABLE or --for RULE, not both" in capsys.readouterr().err


def test_generation_is_reproducible(tmp_path: Path) -> None:
    rule = tmp_path / "rule.yaml"
    shutil.copy(SEED, rule)
    loaded = load_rule(rule)
    assert generate_tests(loaded).text == generate_tests(loaded).text


def test_a_rule_without_query_is_refused(tmp_path: Path) -> None:
    rule = tmp_path / "rule.yaml"
    rule.write_text("id: f8100782-cb35-466b-831a-72ef4c53edfd\nname: stub\ndescription: moved\nversion: 1.0.0\n")
    with pytest.raises(DacError, match="no query"):
        generate_tests(load_rule(rule))


def test_a_one_predicate_rule_scores_full_marks(tmp_path: Path) -> None:
    """Every mutant of ``has`` is killed or refused by the binder (invalid), none survives."""
    rule = make_rule(tmp_path, """
        UrlClickEvents
        | where ThreatTypes has "Phish"
        """)
    generated(rule)
    report = mutate_rule(rule)
    assert report.score == 1.0
    assert all(o.status in (KILLED, INVALID) or o.status == "equivalent" for o in report.outcomes)


def test_cases_run_on_a_platform_the_query_binds_on(tmp_path: Path, capsys) -> None:
    """A Defender hunting query (``Timestamp``) kept as a Sentinel rule binds only on Defender: the cases say so."""
    rule = make_rule(tmp_path, """
        DeviceProcessEvents
        | where Timestamp > ago(1d) and FileName == "mshta.exe"
        """, platform="Sentinel")
    tests = generated(rule)
    assert "the query binds on Defender, not on the rule's platforms (Sentinel): the cases run on Defender" \
        in capsys.readouterr().err
    assert yaml.safe_load(tests.read_text())["platform"] == "Defender"
    assert run_tests([str(rule)]).ok
