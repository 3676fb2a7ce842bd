"""Settings of a rules repository ([tool.dac] / dac.toml), per-rule suppressions, ids across the rules folder."""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from dac import config
from dac.cli import main
from dac.validate import validate_paths

from conftest import REPO, debian_tool

SEED = REPO / "detections" / "hunting" / "user-clicked-through-events.yaml"
SEED_TESTS = SEED.with_name("user-clicked-through-events.tests.yaml")


def rules_repo(root: Path, pyproject: str | None = None) -> Path:
    """A rules repository: a git folder with the seed rule in detections/hunting and optional settings."""
    (root / "detections" / "hunting").mkdir(parents=True)
    (root / ".git").mkdir()  # the boundary settings discovery stops at
    shutil.copy(SEED, root / "detections" / "hunting" / SEED.name)
    shutil.copy(SEED_TESTS, root / "detections" / "hunting" / SEED_TESTS.name)
    if pyproject is not None:
        (root / "pyproject.toml").write_text(pyproject, encoding="utf-8")
    return root


def with_connector_warning(path: Path) -> None:
    """Make the rule's data connector list a table the query does not read: a data-connectors warning."""
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("      - UrlClickEvents", "      - EmailEvents", 1), encoding="utf-8")


def test_settings_are_found_from_a_subfolder_and_name_the_rules_folders(tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    root = rules_repo(tmp_path, '[project]\nname = "x"\n\n[tool.dac]\nrules = ["detections/hunting"]\n'
                                'platforms = ["defender"]\ndisable = ["approximation"]\n')
    monkeypatch.chdir(root / "detections")
    settings = config.current()
    assert settings.source == str(root / "pyproject.toml")
    assert settings.rule_folders() == [root.resolve() / "detections" / "hunting"]
    assert settings.platforms == ("Defender",)
    assert settings.disable == {"approximation"}
    assert settings.default_paths() == ["hunting"]


def test_dac_toml_uses_top_level_keys_and_discovery_stops_at_the_repository(tmp_path: Path,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "dac.toml").write_text('rules = ["elsewhere"]\n', encoding="utf-8")
    inner = rules_repo(tmp_path / "inner")
    monkeypatch.chdir(inner)
    assert config.current().source == ""  # the enclosing folder's dac.toml is not this repository's
    monkeypatch.chdir(tmp_path)
    config.use(None)
    assert config.current().rules == ("elsewhere",)


@pytest.mark.parametrize("text, message", [
    ('[tool.dac]\nrule = ["x"]\n', "pyproject.toml:2:1: [tool.dac] unknown key 'rule' (did you mean 'rules'?)"),
    ('[tool.dac]\ndisable = ["data-conectors"]\n',
     "pyproject.toml:2:1: [tool.dac] disable: unknown check 'data-conectors' (did you mean 'data-connectors'?)"),
    ('[tool.dac]\nplatforms = ["Splunk"]\n', "pyproject.toml:2:1: [tool.dac] platforms: unknown platform 'Splunk'"),
    ('[tool.dac]\nrules = "detections"\n', "pyproject.toml:2:1: [tool.dac] rules: expected a list of names"),
    ('[tool.dac]\nrules = [\n', "pyproject.toml:3:1: TOML error"),
])
def test_bad_settings_are_located_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str], text: str, message: str) -> None:
    monkeypatch.chdir(rules_repo(tmp_path, text))
    assert main(["validate"]) == 2
    assert f"error: {tmp_path / message}" in capsys.readouterr().err


def test_validate_without_paths_checks_the_configured_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    root = rules_repo(tmp_path, '[tool.dac]\nrules = ["rules"]\n')
    (root / "detections").rename(root / "rules")
    monkeypatch.chdir(root)
    assert main(["validate", "--format", "json"]) == 0
    with_connector_warning(root / "rules" / "hunting" / SEED.name)
    assert main(["validate", "--format", "json"]) == 0
    output = capsys.readouterr().out.split("\n{")[-1]
    assert json.loads("{" + output)["warnings"] == 2


def test_disabled_checks_report_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = rules_repo(tmp_path)
    rule = root / "detections" / "hunting" / SEED.name
    with_connector_warning(rule)
    monkeypatch.chdir(root)
    assert {f.check for f in validate_paths()} == {"data-connectors"}
    (root / "pyproject.toml").write_text('[tool.dac]\ndisable = ["data-connectors"]\n', encoding="utf-8")
    config.use(None)
    assert validate_paths() == []


def test_a_rule_suppresses_a_check_with_its_reason(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    root = rules_repo(tmp_path)
    rule = root / "detections" / "hunting" / SEED.name
    with_connector_warning(rule)
    rule.write_text(rule.read_text(encoding="utf-8") + "suppressions:\n  - check: data-connectors\n"
                    "    reason: EmailEvents arrives through the same connector here\n", encoding="utf-8")
    monkeypatch.chdir(root)
    findings = validate_paths()
    assert {(f.check, f.suppressed) for f in findings} == {
        ("data-connectors", "EmailEvents arrives through the same connector here")}
    assert main(["validate"]) == 0
    captured = capsys.readouterr()
    assert "suppressed (EmailEvents arrives through the same connector here): dataTypes lists" in captured.err
    assert "all rules valid (2 suppressed)" in captured.out
    assert main(["validate", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["warnings"], doc["suppressed"]) == (0, 2)
    assert all(f["suppressed"] for f in doc["findings"])


def test_suppressions_must_name_a_known_check_give_a_reason_and_match_something(tmp_path: Path,
                                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    root = rules_repo(tmp_path)
    rule = root / "detections" / "hunting" / SEED.name
    original = rule.read_text(encoding="utf-8")
    monkeypatch.chdir(root)
    rule.write_text(original + "suppressions:\n  - check: data-conectors\n    reason: typo\n", encoding="utf-8")
    [finding] = validate_paths()
    assert finding.message == "suppressions: unknown check 'data-conectors' (did you mean 'data-connectors'?)"
    assert (finding.location.line, finding.location.column, finding.check) == (original.count("\n") + 2, 12,
                                                                              "suppressions")
    rule.write_text(original + "suppressions:\n  - check: data-connectors\n    reason: stale\n", encoding="utf-8")
    [stale] = validate_paths()
    assert "matches no finding" in stale.message and not stale.suppressed
    rule.write_text(original + "suppressions:\n  - check: data-connectors\n    reason: '  '\n", encoding="utf-8")
    assert [f.check for f in validate_paths()] == ["schema"]


def test_a_new_rule_reusing_an_unchanged_rules_id_is_reported_on_the_new_file(tmp_path: Path,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """pre-commit passes only the changed files; the id must still be unique across the rules folder."""
    root = rules_repo(tmp_path)
    copy = root / "detections" / "copied.yaml"
    copy.write_text(SEED.read_text(encoding="utf-8").replace("User clicked through events", "Copied rule"),
                    encoding="utf-8")
    monkeypatch.chdir(root)
    [finding] = validate_paths(["detections/copied.yaml"])
    assert finding.check == "unique-id"
    assert finding.location.path == "detections/copied.yaml"
    assert finding.message.endswith(f"already used by detections/hunting/{SEED.name}:1:5")
    fresh = copy.read_text(encoding="utf-8").replace(SEED.read_text().split("\n", 1)[0].split(": ")[1], str(uuid.uuid4()))
    copy.write_text(fresh, encoding="utf-8")
    assert validate_paths(["detections/copied.yaml"]) == []


@pytest.mark.parametrize("platform, findings", [
    ("Defender", []),
    ("Sentinel", ["unknown column or variable 'Timestamp' (Sentinel (Log Analytics) tables have 'TimeGenerated')"]),
])
def test_configured_platforms_apply_to_rules_that_name_none(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            platform: str, findings: list[str]) -> None:
    root = rules_repo(tmp_path, f'[tool.dac]\nplatforms = ["{platform}"]\n')
    rule = root / "detections" / "hunting" / SEED.name
    text = rule.read_text(encoding="utf-8").replace("platforms: [Defender, Sentinel]\n", "")  # names none
    rule.write_text(text.replace("  UrlClickEvents\n", "  UrlClickEvents\n  | where Timestamp > ago(1d)\n", 1),
                    encoding="utf-8")
    (rule.with_name(SEED_TESTS.name)).unlink()
    monkeypatch.chdir(root)
    messages = [f.message for f in validate_paths() if f.check == "kql-binding"]
    assert messages == findings
    from dac.rules.model import load_rule

    assert load_rule(rule).platforms == [platform.lower()]


# --- the command line as a user meets it -------------------------------------


def test_unknown_subcommand_suggests_the_closest(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["valdate"])
    assert exit_.value.code == 2
    assert "(did you mean 'validate'?)" in capsys.readouterr().err


def test_an_internal_error_is_one_line_with_exit_3(monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    import dac.validate

    def broken(*args, **kwargs):
        raise KeyError("EventOriginId")

    monkeypatch.setattr(dac.validate, "validate_paths", broken)
    monkeypatch.delenv("DAC_DEBUG", raising=False)
    assert main(["validate", str(SEED)]) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("dac validate: internal error: KeyError: 'EventOriginId' (input: ")
    assert str(SEED) in err and "this is a bug in dac" in err


def crash(path: Path) -> None:
    """A stand-in for a bug met while checking one file (module level: workers receive it by name)."""
    raise KeyError("EventOriginId")


def test_a_bug_in_a_worker_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dac import parallel
    from dac.errors import InternalError

    monkeypatch.delenv("DAC_DEBUG", raising=False)
    with pytest.raises(InternalError) as error:
        list(parallel.ordered_map(crash, [tmp_path / "a.yaml", tmp_path / "b.yaml"], jobs=2, min_items=1))
    assert str(error.value) == f"KeyError: 'EventOriginId' (while working on {tmp_path / 'a.yaml'})"


def test_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    dac = Path(__import__("sys").executable).with_name("dac")
    result = subprocess.run(f"'{dac}' fixtures UrlClickEvents --platform Defender --rows 20000 | head -n 1",
                            shell=True, capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert result.returncode == 0
    assert result.stdout.count("\n") == 1
    assert result.stderr == ""


def _parsers():
    from dac.cli import make_parser
    from dac.completion import _subcommands

    parser = make_parser()
    return [("dac", parser), *_subcommands(parser).items()]


@pytest.mark.parametrize("name, parser", _parsers(), ids=[name for name, _ in _parsers()])
def test_help_is_plain_text_and_every_positional_has_help(name: str, parser) -> None:
    text = parser.format_help()
    for markup in ("``", ":mod:", ":func:", ":class:", ".. "):
        assert markup not in text, f"{name} --help shows reStructuredText {markup!r}"
    for action in parser._actions:
        if not action.option_strings and action.dest != "command":
            assert action.help, f"dac {name}: positional {action.dest!r} has no help"


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_completion_scripts_complete_subcommands_options_and_choices(shell: str, capsys) -> None:
    assert main(["completion", shell]) == 0
    script = capsys.readouterr().out
    if shell == "zsh":
        zsh = debian_tool("zsh", "zsh")
        # loaded for real (compinit, bashcompinit, the function), then called under the sh emulation
        # that bashcompinit's _bash_complete wraps every bash completion function in
        probe = script + '''
probe() { emulate -L sh; setopt kshglob noshglob braceexpand
  COMP_WORDS=(dac validate --format ""); COMP_CWORD=3; COMPREPLY=(); _dac_complete; print -r -- "${COMPREPLY[*]}"; }
probe
'''
        result = subprocess.run([zsh, "-f", "-c", probe], capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        assert {"text", "json"} <= set(result.stdout.split())
        return
    probe = script + """
complete_words() { COMP_WORDS=("$@"); COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 )); COMPREPLY=(); _dac_complete; echo "${COMPREPLY[*]}"; }
complete_words dac val
complete_words dac validate --fo
complete_words dac validate --format ""
"""
    lines = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, check=True).stdout.splitlines()
    assert lines[0] == "validate"
    assert lines[1] == "--format"
    assert set(lines[2].split()) >= {"text", "json"}


@pytest.mark.parametrize("argv", [["validate", "--bogus", "--format", "json"], ["valdate", "--format=json"],
                                  ["test", "--format", "json", "-j", "x"]])
def test_format_json_gives_one_json_document_on_usage_errors(argv: list[str], capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    captured = capsys.readouterr()
    document = json.loads(captured.out)
    assert document["ok"] is False and document["command"] == argv[0]
    assert document["error"]["message"] in captured.err


def test_format_json_gives_one_json_document_on_an_internal_error(monkeypatch, capsys) -> None:
    import dac.validate

    monkeypatch.setattr(dac.validate, "validate_paths", lambda *a, **k: 1 / 0)
    monkeypatch.delenv("DAC_DEBUG", raising=False)
    assert main(["validate", str(SEED), "--format", "json"]) == 3
    document = json.loads(capsys.readouterr().out)
    assert document["error"]["internal"] is True and "ZeroDivisionError" in document["error"]["message"]


def test_a_bug_met_in_one_case_is_that_cases_error_and_the_others_still_run(tmp_path: Path, monkeypatch,
                                                                           capsys) -> None:
    from dac.testing import runner

    real = runner.evaluate
    calls = {"n": 0}

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyError("boom")
        return real(*args, **kwargs)

    monkeypatch.setattr(runner, "evaluate", flaky)
    monkeypatch.delenv("DAC_DEBUG", raising=False)
    assert main(["test", str(SEED), "--format", "json", "-j", "1"]) == 3
    document = json.loads(capsys.readouterr().out)
    cases = SEED_TESTS.read_text(encoding="utf-8").count("\n  - name:")
    assert document["passed"] == cases - 1 and document["errors"] == 1
    [error] = [r for r in document["results"] if r["status"] == "ERROR"]
    assert "internal error: KeyError: 'boom'; this is a bug in dac" in error["message"]


def test_a_bug_in_one_check_is_a_finding_on_that_rule_and_the_other_checks_still_run(tmp_path, monkeypatch,
                                                                                   capsys) -> None:
    from dac.validate.schedule import ScheduleCheck

    def broken(self, rule):
        raise KeyError("EventOriginId")

    monkeypatch.setattr(ScheduleCheck, "check", broken)
    monkeypatch.delenv("DAC_DEBUG", raising=False)
    rule = tmp_path / "rule.yaml"
    rule.write_text(SEED.read_text(encoding="utf-8") + "severty: High\n", encoding="utf-8")  # a schema finding
    assert main(["validate", str(rule), "--format", "json"]) == 3
    findings = json.loads(capsys.readouterr().out)["findings"]
    assert {f["check"] for f in findings} >= {"internal", "schema"}  # the schema check still ran
    [internal] = [f for f in findings if f["check"] == "internal"]
    assert "internal error in the schedule check: KeyError: 'EventOriginId'; this is a bug in dac" in internal["message"]
