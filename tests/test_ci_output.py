"""Output CI systems read: SARIF and GitHub annotations from `dac validate`, JUnit XML from `dac test`.

The SARIF log is checked against the official OASIS schema (tests/data, see its
README), and every format is compared with what the text output says about the
same run, so a writer that drops, moves or misfiles a finding fails here.
"""

from __future__ import annotations

import json
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import urljoin, urlparse
from urllib.request import url2pathname

import jsonschema
import pytest

from dac.cli import main
from dac.errors import DacError, DacWarning, Location
from dac.output.github import annotation, escape_data, escape_property
from dac.output.sarif import sarif_log
from dac.testing.junit import xml_text
from dac.validate import check_kinds, validate_paths

from conftest import REPO

pytest_plugins = ["pytester"]

SEED = REPO / "detections" / "hunting" / "user-clicked-through-events.yaml"
SEED_TESTS = SEED.with_name("user-clicked-through-events.tests.yaml")
SCHEMA = REPO / "tests" / "data" / "sarif-schema-2.1.0.json"

# `file[:line[:col]]: [warning: ]message` as dac validate prints a finding (paths here hold no ':')
TEXT_FINDING = re.compile(r"^(?P<path>[^:\s][^:]*?)(?::(?P<line>\d+))?(?::(?P<col>\d+))?: (?P<rest>.*)$")


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.fixture(scope="module")
def sarif_validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    # Every reference is local, so validation needs no network.
    refs = re.findall(r'"\$ref":\s*"([^"]*)"', SCHEMA.read_text(encoding="utf-8"))
    assert refs and all(ref.startswith("#/") for ref in refs)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def check_sarif(validator: jsonschema.protocols.Validator, doc: dict) -> dict:
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])
    (run,) = doc["runs"]
    return run


@pytest.fixture()
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The current folder for a run: a checkout holding a rules folder with a space in its name.

    rule.yaml has an unknown key (schema error) and a data type no query table
    matches (two data-connector warnings); copy.yaml repeats its id (unique-id);
    broken.yaml is not YAML (rule-file).
    """
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "my rules"
    folder.mkdir()
    shutil.copy(SEED, folder / "rule.yaml")
    shutil.copy(SEED_TESTS, folder / "rule.tests.yaml")
    edit(folder / "rule.yaml", "version: 1.0.0", "version: 1.0.0\nseverty: High")
    edit(folder / "rule.yaml", "      - UrlClickEvents", "      - EmailEvents")
    shutil.copy(SEED, folder / "copy.yaml")
    (folder / "broken.yaml").write_text("id: [unclosed\nname: x\n", encoding="utf-8")
    return tmp_path


def text_findings(stderr: str) -> list[tuple[str, int | None, int | None, str]]:
    """(path, line, column, level) of each finding line of the text output."""
    found = []
    for line in stderr.splitlines():
        match = TEXT_FINDING.match(line)
        if line.startswith(" ") or not match:
            continue
        level = "warning" if match["rest"].startswith("warning: ") else "error"
        found.append((match["path"], int(match["line"]) if match["line"] else None,
                      int(match["col"]) if match["col"] else None, level))
    return found


def result_file(run: dict, artifact: dict) -> str:
    """The local path a SARIF artifactLocation names, resolved against its uriBaseId."""
    uri = artifact["uri"]
    if "uriBaseId" in artifact:
        uri = urljoin(run["originalUriBaseIds"][artifact["uriBaseId"]]["uri"], uri)
    parsed = urlparse(uri)
    assert parsed.scheme == "file", uri
    return url2pathname(parsed.path)


# --- SARIF ------------------------------------------------------------------------------

def test_sarif_findings_match_the_text_output(work: Path, sarif_validator, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "my rules"]) == 1
    text = text_findings(capsys.readouterr().err)
    assert main(["validate", "my rules", "--format", "sarif"]) == 1
    captured = capsys.readouterr()
    run = check_sarif(sarif_validator, json.loads(captured.out))  # stdout holds the one document

    driver = run["tool"]["driver"]
    assert driver["name"] == "dac"
    assert [rule["id"] for rule in driver["rules"]][:len(check_kinds())] == list(check_kinds())
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == Path.cwd().as_uri() + "/"
    results = run["results"]
    assert len(results) == len(text) >= 5
    for result, (path, line, column, level) in zip(results, text):
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] == level
        physical = result["locations"][0]["physicalLocation"]
        artifact = physical["artifactLocation"]
        assert artifact["uriBaseId"] == "%SRCROOT%" and artifact["uri"].startswith("my%20rules/")
        assert Path(result_file(run, artifact)).resolve() == (work / path).resolve()
        region = physical.get("region", {})
        assert (region.get("startLine"), region.get("startColumn")) == (line, column)
    assert [r["ruleId"] for r in results] == [f.check for f in validate_paths(["my rules"])]
    assert {"schema", "data-connectors", "unique-id", "rule-file"} <= {r["ruleId"] for r in results}
    assert [r["level"] for r in results].count("warning") == 2
    unknown = next(r for r in results if "severty" in r["message"]["text"])
    assert unknown["ruleId"] == "schema" and unknown["level"] == "error"
    assert run["invocations"] == [{"executionSuccessful": True, "exitCode": 1}]


def test_sarif_warnings_only_exit_0(work: Path, sarif_validator, capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("copy.yaml", "broken.yaml"):
        (work / "my rules" / name).unlink()
    edit(work / "my rules" / "rule.yaml", "\nseverty: High", "")
    assert main(["validate", "my rules", "--format", "sarif"]) == 0
    run = check_sarif(sarif_validator, json.loads(capsys.readouterr().out))
    assert [(r["ruleId"], r["level"]) for r in run["results"]] == [("data-connectors", "warning")] * 2


def test_sarif_file_outside_cwd_is_an_absolute_uri(tmp_path: Path, sarif_validator, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    rule = tmp_path / "rule.yaml"
    rule.write_text(SEED.read_text(encoding="utf-8") + "severty: High\n", encoding="utf-8")
    assert main(["validate", str(rule), "--format", "sarif"]) == 1
    run = check_sarif(sarif_validator, json.loads(capsys.readouterr().out))
    artifact = run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert "uriBaseId" not in artifact and artifact["uri"].startswith("file:///")
    assert Path(result_file(run, artifact)).resolve() == rule.resolve()


def test_sarif_suppressed_finding_carries_the_reason(work: Path, sarif_validator,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    rule = work / "my rules" / "rule.yaml"
    edit(rule, "\nseverty: High", "\nsuppressions:\n  - check: data-connectors\n    reason: fed by a Logstash pipeline")
    assert main(["validate", str(rule), "--format", "sarif"]) == 0
    run = check_sarif(sarif_validator, json.loads(capsys.readouterr().out))
    assert [r["ruleId"] for r in run["results"]] == ["data-connectors"] * 2
    assert all(r["suppressions"] == [{"kind": "inSource", "justification": "fed by a Logstash pipeline"}]
               for r in run["results"])


def test_sarif_log_of_unknown_check_and_unlocated_finding(sarif_validator) -> None:
    findings = [DacError("no place", check="brand-new"), DacWarning("somewhere", Location("a b.yaml", 3), check="schema")]
    run = check_sarif(sarif_validator, sarif_log(findings, 1))
    rules = run["tool"]["driver"]["rules"]
    first, second = run["results"]
    assert rules[first["ruleIndex"]]["id"] == "brand-new" and "locations" not in first
    assert rules[second["ruleIndex"]]["id"] == "schema" and second["level"] == "warning"
    assert second["locations"][0]["physicalLocation"]["region"] == {"startLine": 3}
    assert second["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "a%20b.yaml"


def test_sarif_bad_input_is_a_failed_invocation(tmp_path: Path, sarif_validator,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nothere"
    assert main(["validate", str(missing), "--format", "sarif"]) == 2
    captured = capsys.readouterr()
    run = check_sarif(sarif_validator, json.loads(captured.out))
    assert run["results"] == []
    (invocation,) = run["invocations"]
    assert invocation["executionSuccessful"] is False and invocation["exitCode"] == 2
    (note,) = invocation["toolExecutionNotifications"]
    assert note["level"] == "error" and "no such file" in note["message"]["text"]
    assert Path(result_file(run, note["locations"][0]["physicalLocation"]["artifactLocation"])).resolve() == \
        missing.resolve()
    assert "no such file" in captured.err


def test_sarif_usage_error_is_a_failed_invocation(sarif_validator, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["validate", "--format", "sarif", "--no-such-option"])
    assert exited.value.code == 2
    captured = capsys.readouterr()
    run = check_sarif(sarif_validator, json.loads(captured.out))
    (note,) = run["invocations"][0]["toolExecutionNotifications"]
    assert "unrecognized arguments: --no-such-option" in note["message"]["text"]
    assert run["results"] == [] and run["invocations"][0]["executionSuccessful"] is False
    assert "unrecognized arguments: --no-such-option" in captured.err and "usage:" in captured.err


# --- GitHub annotations -------------------------------------------------------------------

def unescape(text: str) -> str:
    """GitHub's decoding of a workflow command value (the inverse of @actions/core's escaping)."""
    return re.sub("%(25|0D|0A|3A|2C)", lambda m: {"25": "%", "0D": "\r", "0A": "\n", "3A": ":", "2C": ","}[m[1]], text)


def test_github_escaping() -> None:
    assert escape_data("100% done\r\nnext: a,b") == "100%25 done%0D%0Anext: a,b"
    assert escape_property("dir,x:y/100%\n.yaml") == "dir%2Cx%3Ay/100%25%0A.yaml"
    finding = DacError("line one\nline two: 100%, done", Location("a,b:c.yaml", 3, 7), check="kql-syntax")
    # the message's newline shows as \n (dac.output.escape): an annotation is one line of the finding
    assert annotation(finding) == ("::error file=a%2Cb%3Ac.yaml,line=3,col=7,title=dac kql-syntax::"
                                   "line one\\nline two: 100%25, done")
    assert annotation(DacWarning("w", Location("x.yaml"), check="approximation")) == \
        "::warning file=x.yaml,title=dac approximation::w"


def test_github_annotations_match_the_findings(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = work / "my rules"
    folder.rename(work / "a,b:c")
    assert main(["validate", "a,b:c"]) == 1
    text = capsys.readouterr().err
    assert main(["validate", "a,b:c", "--format", "github"]) == 1
    captured = capsys.readouterr()
    findings = validate_paths(["a,b:c"])
    lines = captured.out.splitlines()
    assert len(lines) == len(findings) >= 5  # one line per finding, nothing else on stdout
    pattern = re.compile(r"^::(error|warning) file=([^,]*)(?:,line=(\d+))?(?:,col=(\d+))?,title=([^,]*)::(.*)$")
    for line, finding in zip(lines, findings):
        match = pattern.match(line)
        assert match, line
        command, path, row, column, title, message = match.groups()
        assert command == ("warning" if isinstance(finding, DacWarning) else "error")
        assert path.startswith("a%2Cb%3Ac/") and unescape(path) == finding.location.path
        assert (int(row) if row else 0, int(column) if column else 0) == (finding.location.line, finding.location.column)
        assert unescape(title) == f"dac {finding.check}" and unescape(message) == finding.message
    assert [line.split(" ", 1)[0] for line in lines].count("::warning") == 2
    summary = [line for line in text.splitlines() if "problem(s) found" in line]
    assert summary and summary[-1] in captured.err.splitlines()


def test_github_clean_run_writes_the_summary_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(SEED), "--format", "github"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and "all rules valid" in captured.err


# --- JUnit --------------------------------------------------------------------------------

@pytest.fixture()
def mixed(tmp_path: Path) -> Path:
    """The seed rule with one failing case (wrong row), one erroring case (an expected row lacks a
    column) and a case name holding an escape character and markup."""
    folder = tmp_path / "rules"
    folder.mkdir()
    shutil.copy(SEED, folder / "rule.yaml")
    tests = folder / "rule.tests.yaml"
    shutil.copy(SEED_TESTS, tests)
    edit(tests, "NetworkMessageId: m-6, ThreatTypes: Phish}", "NetworkMessageId: m-WRONG, ThreatTypes: Phish}")
    edit(tests, "NetworkMessageId: m-1, ThreatTypes: Phish}", "NetworkMessageId: m-1}")
    edit(tests, "- name: malware verdict is not reported", '- name: "malware \\e verdict <&> is not reported"')
    return folder


def case_lines(tests: Path) -> dict[str, int]:
    """Each case's 1-based `- name:` line, read from the file itself."""
    lines = {}
    for number, line in enumerate(tests.read_text(encoding="utf-8").splitlines(), 1):
        match = re.match(r"^  - name: (.*)$", line)
        if match:
            lines[match[1].strip('"').replace("\\e", "\\u001b")] = number
    return lines


def test_junit_counts_and_lines_match_text_and_json(mixed: Path, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    report = tmp_path / "reports" / "dac.xml"  # the folder does not exist yet
    assert main(["test", str(mixed), "--junit", str(report)]) == 1
    assert capsys.readouterr().out.strip().endswith("5 passed, 2 failed")
    assert main(["test", str(mixed), "--format", "json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert (doc["passed"], doc["failed"], doc["errors"]) == (5, 1, 1)

    root = ET.parse(report).getroot()
    assert root.tag == "testsuites"
    assert {k: root.get(k) for k in ("tests", "failures", "errors", "skipped")} == \
        {"tests": "7", "failures": "1", "errors": "1", "skipped": "0"}
    (suite,) = root.findall("testsuite")
    assert suite.get("name") == "User clicked through events" and suite.get("file") == str(mixed / "rule.yaml")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("7", "1", "1")
    cases = suite.findall("testcase")
    expected_lines = case_lines(mixed / "rule.tests.yaml")
    assert len(expected_lines) == 7
    assert {c.get("name"): int(c.get("line")) for c in cases} == expected_lines
    assert {c.get("file") for c in cases} == {str(mixed / "rule.tests.yaml")}
    assert {c.get("classname") for c in cases} == {"User clicked through events"}
    assert [(r["case"], r["line"]) for r in doc["results"]] == [(c.get("name").replace("\\u001b", "\x1b"),
                                                                 int(c.get("line"))) for c in cases]
    outcome = {c.get("name"): [child.tag for child in c] for c in cases}
    assert outcome["has matches whole terms only"] == ["failure"]
    assert outcome["allowed click on a phish URL is reported"] == ["error"]
    assert sum(tags == [] for tags in outcome.values()) == 5
    failure = suite.find("testcase[@name='has matches whole terms only']/failure")
    assert failure.get("message") == "3 row(s) expected, 3 returned" and 'NetworkMessageId: "m-WRONG"' in failure.text
    error = suite.find("testcase[@name='allowed click on a phish URL is reported']/error")
    assert "lacks result column(s): ThreatTypes" in error.get("message")
    assert [p.name for p in report.parent.iterdir()] == ["dac.xml"]  # no temporary file left


def test_junit_text_is_always_valid_xml() -> None:
    assert xml_text("a\x1bb\x00c\ud800d\ufffee\tf\ng") == "a\\u001bb\\u0000c\\ud800d\\ufffee\tf\ng"
    assert xml_text("plain <&> é 😀") == "plain <&> é 😀"


@pytest.mark.parametrize("where", ["a folder", "under a file"])
def test_junit_unwritable_path_is_exit_2(mixed: Path, tmp_path: Path, where: str,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "plain").write_text("x")
    target = tmp_path if where == "a folder" else tmp_path / "plain" / "dac.xml"
    assert main(["test", str(mixed), "--junit", str(target), "--format", "json"]) == 2
    captured = capsys.readouterr()
    doc = json.loads(captured.out)  # the error document only: no test results were printed first
    assert doc["ok"] is False and str(target) in doc["error"]["message"]
    assert f"cannot write the JUnit report {target}" in captured.err and "Traceback" not in captured.err
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


# --- pytest plugin ------------------------------------------------------------------------

def test_pytest_items_report_the_case_file_and_line(pytester: pytest.Pytester) -> None:
    folder = pytester.path / "rules"
    folder.mkdir()
    shutil.copy(SEED, folder / "rule.yaml")
    shutil.copy(SEED_TESTS, folder / "rule.tests.yaml")
    result = pytester.runpytest("-p", "no:hypothesispytest", "rules", "--junitxml=out.xml",
                                "-o", "junit_family=xunit1")
    result.assert_outcomes(passed=7)
    cases = ET.parse(pytester.path / "out.xml").getroot().iter("testcase")
    assert {c.get("name"): (c.get("file"), int(c.get("line"))) for c in cases} == \
        {name: ("rules/rule.tests.yaml", line) for name, line in case_lines(folder / "rule.tests.yaml").items()}
