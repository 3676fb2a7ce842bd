"""Machine output (--format json), dac fmt --check, the progress line, the reusable hook files."""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from pathlib import Path

import pytest
import yaml

from dac.cli import main
from dac.kql.formatter import format_text

from conftest import REPO

SEED = REPO / "detections" / "hunting" / "user-clicked-through-events.yaml"
SEED_TESTS = SEED.with_name("user-clicked-through-events.tests.yaml")


@pytest.fixture()
def rules(tmp_path: Path) -> Path:
    """A folder with a copy of the seed rule and its tests."""
    folder = tmp_path / "rules"
    folder.mkdir()
    shutil.copy(SEED, folder / "rule.yaml")
    shutil.copy(SEED_TESTS, folder / "rule.tests.yaml")
    return folder


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:
    code = main([*argv, "--format", "json"])
    return code, json.loads(capsys.readouterr().out)


# --- validate ---------------------------------------------------------------

def test_validate_json_clean(rules: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = run_json(capsys, "validate", str(rules))
    assert code == 0
    assert doc == {"command": "validate", "ok": True, "errors": 0, "warnings": 0, "suppressed": 0, "findings": []}


def test_validate_json_findings_are_located(rules: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit(rules / "rule.yaml", "version: 1.0.0", "version: 1.0.0\nseverty: High")
    edit(rules / "rule.yaml", "      - UrlClickEvents", "      - EmailEvents")
    code, doc = run_json(capsys, "validate", str(rules))
    assert code == 1
    assert doc["ok"] is False and doc["errors"] >= 1 and doc["warnings"] == 2
    errors = [f for f in doc["findings"] if f["severity"] == "error"]
    unknown = next(f for f in errors if "severty" in f["message"])
    assert unknown["file"] == str(rules / "rule.yaml")
    assert isinstance(unknown["line"], int) and isinstance(unknown["column"], int)
    assert set(unknown) == {"file", "line", "column", "message", "check", "severity", "detail"}
    assert unknown["check"] == "schema"
    warning = next(f for f in doc["findings"] if f["severity"] == "warning")
    assert "EmailEvents" in warning["message"] or "UrlClickEvents" in warning["message"]


def test_validate_json_warnings_only_exit_0(rules: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit(rules / "rule.yaml", "      - UrlClickEvents", "      - EmailEvents")
    code, doc = run_json(capsys, "validate", str(rules))
    assert code == 0 and doc["ok"] is True and doc["warnings"] == 2 and doc["errors"] == 0


def test_json_bad_input_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = str(tmp_path / "nothere")
    code = main(["validate", missing, "--format", "json"])
    captured = capsys.readouterr()
    assert code == 2
    doc = json.loads(captured.out)
    assert doc["ok"] is False and doc["command"] == "validate"
    assert doc["error"]["file"] == missing and "no such file" in doc["error"]["message"]
    assert "no such file" in captured.err


# --- test -------------------------------------------------------------------

def test_test_json_passing(rules: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = run_json(capsys, "test", str(rules))
    assert code == 0
    assert (doc["command"], doc["ok"], doc["passed"], doc["failed"], doc["errors"]) == ("test", True, 7, 0, 0)
    first = doc["results"][0]
    assert set(first) == {"rule", "case", "status", "file", "line", "column", "message", "diff"}
    assert first["status"] == "PASS" and first["diff"] == [] and first["file"].endswith("rule.tests.yaml")


def test_test_json_failure_carries_the_diff(rules: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit(rules / "rule.tests.yaml", "NetworkMessageId: m-6, ThreatTypes: Phish}", "NetworkMessageId: m-WRONG, ThreatTypes: Phish}")
    code, doc = run_json(capsys, "test", str(rules))
    assert code == 1 and doc["ok"] is False and doc["failed"] == 1 and doc["passed"] == 6
    failed = [r for r in doc["results"] if r["status"] == "FAIL"]
    assert [r["case"] for r in failed] == ["has matches whole terms only"]
    assert failed[0]["message"] == "3 row(s) expected, 3 returned"
    assert failed[0]["diff"][:2] == ["--- expected", "+++ actual"]
    assert any(line.startswith("-{") and "m-WRONG" in line for line in failed[0]["diff"])
    assert any(line.startswith("+{") and '"m-6"' in line for line in failed[0]["diff"])


# --- build and pack ---------------------------------------------------------

def test_build_json_lists_written_artifacts(rules: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "dist"
    code, doc = run_json(capsys, "build", "--out", str(out), str(rules))
    assert code == 0 and doc["command"] == "build" and doc["out"] == str(out)
    assert len(doc["artifacts"]) == 2
    assert all(Path(p).is_file() and Path(p).is_relative_to(out) for p in doc["artifacts"])


def test_pack_json_names_the_zip(rules: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "pack.zip"
    code, doc = run_json(capsys, "pack", "--out", str(out), "--version", "1.2.0", str(rules))
    assert code == 0 and doc["command"] == "pack" and doc["version"] == "1.2.0"
    assert doc["artifacts"] == [str(out)]
    with zipfile.ZipFile(out) as archive:
        assert doc["members"] == archive.namelist()
    assert "manifest.json" in doc["members"]


def test_pack_json_bad_version_exit_2(rules: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["pack", "--out", str(tmp_path / "p.zip"), "--version", "one", str(rules), "--format", "json"])
    assert code == 2
    assert "semantic version" in json.loads(capsys.readouterr().out)["error"]["message"]


# --- fmt --check ------------------------------------------------------------

def canonical(rules: Path) -> Path:
    """Rewrite the rule's query block in the canonical layout."""
    path = rules / "rule.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index("query: |\n") + len("query: |\n")
    end = text.index("\n", text.index("| summarize")) + 1
    query = "".join(line[2:] + "\n" for line in text[start:end].splitlines())
    path.write_text(text[:start] + "".join("  " + line + "\n" for line in format_text(query).splitlines())
                    + text[end:], encoding="utf-8")
    return path


def test_fmt_check_names_files_out_of_layout(rules: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit(rules / "rule.yaml", 'IsClickedThrough != "0"', 'IsClickedThrough !="0"')  # the seed is canonical
    code = main(["fmt", "--check", str(rules / "rule.yaml"), str(rules / "rule.tests.yaml")])
    out = capsys.readouterr().out
    assert code == 1
    assert f"{rules / 'rule.yaml'}: query is not in the canonical layout" in out
    assert "rule.tests.yaml" not in out  # a test file has no query to lay out
    assert out.strip().endswith("1 file(s) to reformat")


def test_fmt_check_passes_canonical_files(rules: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rule = canonical(rules)
    kql = tmp_path / "q.kql"
    kql.write_text("T\n| take 1\n", encoding="utf-8")
    assert format_text(kql.read_text()) == kql.read_text()
    assert main(["fmt", "--check", str(rule), str(kql), str(rules / "rule.tests.yaml")]) == 0
    assert capsys.readouterr().out == ""
    # dac validate and dac test still accept the rewritten rule
    assert main(["test", str(rules)]) == 0


def test_fmt_check_syntax_error_exit_1(rules: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit(rules / "rule.yaml", '| where ThreatTypes has "Phish"', '| where ThreatTypes has has "Phish"')
    assert main(["fmt", "--check", str(rules / "rule.yaml")]) == 1
    assert f"{rules / 'rule.yaml'}:18:" in capsys.readouterr().err


def test_fmt_without_check_takes_one_source(rules: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fmt", str(rules / "rule.yaml"), str(rules / "rule.yaml")]) == 2
    assert main(["fmt", str(rules / "rule.yaml")]) == 0
    assert "IsClickedThrough != \"0\"" in capsys.readouterr().out


# --- progress ---------------------------------------------------------------

class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("command", ["test", "validate"])
def test_progress_silent_when_stderr_is_not_a_terminal(rules: Path, command: str, monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("CI", raising=False)
    assert main([command, str(rules)]) == 0
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("command", ["test", "validate"])
def test_progress_silent_in_ci(rules: Path, command: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    monkeypatch.setattr("sys.stderr", FakeTerminal())
    assert main([command, str(rules)]) == 0
    assert __import__("sys").stderr.getvalue() == ""


@pytest.mark.parametrize(("command", "shown"), [("test", "testing 1/1 "), ("validate", "validating 1 rule file(s)")])
def test_progress_on_a_terminal_is_one_erased_line(rules: Path, command: str, shown: str,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    terminal = FakeTerminal()
    monkeypatch.setattr("sys.stderr", terminal)
    assert main([command, str(rules)]) == 0
    written = terminal.getvalue()
    assert shown in written
    assert "\n" not in written and written.endswith("\r\x1b[K")


# --- reusable hooks and the example workflow -----------------------------------

def test_pre_commit_hooks_run_dac() -> None:
    hooks = {hook["id"]: hook for hook in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())}
    assert set(hooks) == {"dac-validate", "dac-fmt-check", "dac-fmt", "dac-test"}
    assert hooks["dac-fmt-check"]["entry"] == "dac fmt --check"
    assert hooks["dac-fmt"]["entry"] == "dac fmt --write"
    for hook in hooks.values():
        assert hook["language"] == "python" and hook["entry"].startswith("dac ")
        assert hook["files"] == r"\.ya?ml$"
        main_args = hook["entry"].split()[1:]
        assert main_args[0] in {"validate", "fmt", "test"}


def test_every_command_speaks_json(tmp_path, capsys) -> None:
    """--format json on the commands added later too: new, import, report, fmt (each one JSON document)."""
    import json as _json

    from dac.cli import main as dac

    seed = "detections/hunting/user-clicked-through-events.yaml"
    assert dac(["new", "--kind", "hunting", "--name", "Json Rule", "--table", "UrlClickEvents",
                "--dir", str(tmp_path / "rules"), "--format", "json"]) == 0
    assert len(_json.loads(capsys.readouterr().out)["written"]) == 2
    assert dac(["fmt", seed, "--format", "json"]) == 0
    assert _json.loads(capsys.readouterr().out)["query"].startswith("UrlClickEvents\n")
    assert dac(["report", "--out", str(tmp_path / "report"), seed, "--format", "json"]) == 0
    assert _json.loads(capsys.readouterr().out)["command"] == "report"
    assert dac(["build", "--out", str(tmp_path / "dist"), seed]) == 0
    capsys.readouterr()
    template = str(tmp_path / "dist" / "sentinel" / "user-clicked-through-events.json")
    assert dac(["import", template, "--out", str(tmp_path / "imported"), "--format", "json"]) == 0
    assert _json.loads(capsys.readouterr().out)["written"][0].endswith(".yaml")
