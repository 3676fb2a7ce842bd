"""Hostile input, round two: paths that try to leave the output or the rule tree, inputs that never
end, output that tries to forge lines, and YAML 1.1 values that do not read as they look.

The README's "Bad input" table lists the same classes.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from dac.cli import main
from dac.errors import DacError, DacWarning, Location
from dac.importer import MAX_STEM, WINDOWS_RESERVED, slug
from dac.output.escape import json_safe, printable
from dac.output.github import annotation
from dac.validate import check_kinds, validate_paths

from conftest import REPO

SEED = REPO / "detections" / "hunting" / "user-clicked-through-events.yaml"
SEED_TESTS = SEED.with_name("user-clicked-through-events.tests.yaml")
GUID = "6d5f1a0e-0d3c-4c59-9a1b-2f1e3c4d5a6b"
SAFE_STEM = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?")

# A valid Scheduled rule; the YAML tests change one value at a time. Line 9 is triggerThreshold.
SCHEDULED = f"""\
id: {GUID}
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
version: 1.0.0
"""


def files_under(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def seed_folder(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(SEED, folder / "rule.yaml")
    shutil.copy(SEED_TESTS, folder / "rule.tests.yaml")
    return folder


def run_dac(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The command line in a process of its own with 2 GB of memory and 60 s: a reader that does not
    stop at its cap fails the test instead of filling the machine or hanging it."""
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))

    return subprocess.run([sys.executable, "-m", "dac", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=60, preexec_fn=limit, env={**os.environ, "CI": "1"})


# ------------------------------------------------------------------ 1. nothing written outside the output


def arm_template(name: str, carried: dict | None = None) -> dict:
    resource_name = f"ws/Microsoft.SecurityInsights/{GUID}"
    document = {"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
                "contentVersion": "1.0.0.0",
                "resources": [{"type": "Microsoft.OperationalInsights/workspaces/providers/alertRules",
                               "name": resource_name, "kind": "NRT",
                               "properties": {"displayName": name, "severity": "Low", "query": "T | take 1"}}]}
    if carried is not None:
        document["metadata"] = {"dac": {"rules": {GUID: carried}}}
    return document


@pytest.mark.parametrize("hostile", ["../../escaped", "{tmp}/absolute-escape", "..", ".hidden", "a/../../b",
                                     "C:\\Windows\\evil", "con", "x" * 500])
def test_an_imported_rule_id_cannot_leave_out(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                              hostile: str) -> None:
    hostile = hostile.replace("{tmp}", str(tmp_path))
    work = tmp_path / "a" / "b"
    out = work / "out"
    rule = work / "rule.yaml"
    rule.parent.mkdir(parents=True)
    rule.write_text(json.dumps({"id": hostile, "name": "!!!", "query": "T"}), encoding="utf-8")  # name slugs to nothing
    template = work / "template.json"
    template.write_text(json.dumps(arm_template("...", {"id": hostile, "name": "/"})), encoding="utf-8")
    before = files_under(tmp_path)
    for source in (rule, template):
        if not slug(hostile):  # nothing to name the file after: a clean error, nothing written
            assert main(["import", str(source), "--out", str(out)]) == 2
            assert "hold no letter or digit" in capsys.readouterr().err
            continue
        assert main(["import", str(source), "--out", str(out), "--force"]) == 0, capsys.readouterr().err
        (written,) = out.iterdir()
        assert SAFE_STEM.fullmatch(written.stem) and len(written.stem) <= MAX_STEM
        assert written.stem not in WINDOWS_RESERVED
        written.unlink()
    assert files_under(tmp_path) - before <= {"a/b/out"}  # nothing beside out, nor at the absolute path


def test_slugs_are_safe_file_stems() -> None:
    assert slug("../../x") == "x"
    assert slug(".hidden file") == "hidden-file"
    assert slug("CON") == "con-rule" and slug("lpt1") == "lpt1-rule" and slug("console") == "console"
    assert len(slug("word " * 100)) <= MAX_STEM and not slug("word " * 100).endswith("-")
    assert slug("\u202e\n\x1b[31m") == "31m" and slug("é") == ""


def test_force_replaces_only_the_rule_file_of_the_same_id(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "workflows"
    out.mkdir()
    workflow = out / "ci.yaml"
    workflow.write_text("on: push\njobs: {}\n", encoding="utf-8")
    other = out / "other.yaml"
    other.write_text("id: 11111111-2222-3333-4444-555555555555\nname: other\n", encoding="utf-8")
    elsewhere = tmp_path / "elsewhere.yaml"
    elsewhere.write_text("keep\n", encoding="utf-8")
    (out / "linked.yaml").symlink_to(elsewhere)
    for name, target, says in (("ci", workflow, "is not a rule file"), ("other", other, "holds another rule"),
                               ("linked", elsewhere, "outside")):
        template = tmp_path / f"{name}.json"
        template.write_text(json.dumps(arm_template(name)), encoding="utf-8")
        before = target.read_text(encoding="utf-8")
        assert main(["import", str(template), "--out", str(out), "--force"]) == 2
        assert says in capsys.readouterr().err
        assert target.read_text(encoding="utf-8") == before
    same = out / "same.yaml"
    same.write_text(f"id: {GUID.upper()}\nname: hand edited\n", encoding="utf-8")
    template = tmp_path / "same.json"
    template.write_text(json.dumps(arm_template("same")), encoding="utf-8")
    assert main(["import", str(template), "--out", str(out), "--force"]) == 0
    assert "hand edited" not in same.read_text(encoding="utf-8")


def test_pack_out_must_name_a_writable_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root_before = set(os.listdir("/"))
    folder = tmp_path / "folder"
    folder.mkdir()
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x", encoding="utf-8")
    for out, says in (("/", "names no file"), (str(folder), "is a folder"),
                      (str(blocker / "pack.zip"), "Not a directory")):
        assert main(["pack", "--out", out, "--version", "1.0.0", str(SEED)]) == 2, out
        assert says in capsys.readouterr().err
    assert set(os.listdir("/")) == root_before  # no temporary file beside "/"
    assert sorted(os.listdir(tmp_path)) == ["folder", "not-a-folder"] and not any(folder.iterdir())


@pytest.mark.parametrize("command", ["build", "report"])
def test_build_and_report_refuse_the_root(capsys: pytest.CaptureFixture[str], command: str) -> None:
    root_before = set(os.listdir("/"))
    assert main([command, "--out", "/", str(SEED)]) == 2
    assert "/: is the root of the file system" in capsys.readouterr().err
    assert set(os.listdir("/")) == root_before


def test_a_link_out_of_the_rule_tree_is_an_error_naming_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rules = seed_folder(tmp_path / "rules")
    outside = seed_folder(tmp_path / "outside")
    (rules / "inside.yaml").symlink_to(rules / "rule.yaml")  # a link within the tree is fine
    assert main(["validate", str(rules)]) == 1  # the linked copy repeats the id: a finding, not an error
    assert f"{rules / 'inside.yaml'}:1:5 [unique-id]" in capsys.readouterr().err
    for link, target in (("stolen.yaml", outside / "rule.yaml"), ("shared", outside), ("gone.yml", tmp_path / "x")):
        (rules / link).symlink_to(target)
        assert main(["validate", str(rules)]) == 2
        err = capsys.readouterr().err
        assert f"{rules / link}: symbolic link leads" in err and "not followed" in err
        (rules / link).unlink()


def test_an_unreadable_rules_folder_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    rules = seed_folder(tmp_path / "rules")
    locked = rules / "locked"
    seed_folder(locked)
    real = os.scandir

    def scandir(path: object = ".") -> object:  # root reads any folder: deny this one as a user's mode would
        if Path(os.fspath(path)) == locked:
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    assert main(["validate", str(rules)]) == 2
    err = capsys.readouterr().err
    assert f"{locked}: cannot read folder: Permission denied" in err and "all rules valid" not in err


def special_inputs(tmp_path: Path) -> dict[str, Path]:
    """A FIFO and links to /dev/zero under each name a reader looks at."""
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    links = {"fifo.yaml": fifo}
    for name in ("zero.kql", "zero.yaml", "zero.json", "zero.zip", "UrlClickEvents.jsonl", "UrlClickEvents.json.gz"):
        (tmp_path / name).symlink_to("/dev/zero")
        links[name] = tmp_path / name
    return links


@pytest.mark.parametrize("args,name", [
    (["fmt", "--check", "{}"], "zero.kql"),
    (["fmt", "--check", "{}"], "zero.yaml"),
    (["fmt", "--write", "{}"], "zero.kql"),
    (["validate", "{}"], "fifo.yaml"),
    (["run", "UrlClickEvents | take 1", "--data", "{}"], "UrlClickEvents.jsonl"),
    (["run", "UrlClickEvents | take 1", "--data", "{}"], "UrlClickEvents.json.gz"),
    (["import", "{}", "--out", "out"], "zero.json"),
    (["import", "{}", "--out", "out"], "zero.yaml"),
    (["import", "{}", "--out", "out"], "fifo.yaml"),
    (["pack", "--out", "p.zip", "--version", "1.0.0", "--previous", "{}", str(SEED)], "zero.zip"),
    (["deploy", "--dry-run", "--current", "{}", str(SEED)], "zero.json"),
])
def test_devices_and_fifos_are_refused_before_reading(tmp_path: Path, args: list[str], name: str) -> None:
    path = special_inputs(tmp_path)[name]
    done = run_dac(*[a.replace("{}", str(path)) for a in args], cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert f"{path}: is a " in done.stderr and "refusing to read it" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_a_rules_folder_holding_a_fifo_named_like_a_rule(tmp_path: Path) -> None:
    rules = seed_folder(tmp_path / "rules")
    os.mkfifo(rules / "pipe.yaml")
    done = run_dac("validate", str(rules), cwd=tmp_path)
    assert done.returncode == 2 and f"{rules / 'pipe.yaml'}: is a FIFO" in done.stderr


def test_every_reader_has_a_size_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    big = tmp_path / "big.json"
    big.write_text(json.dumps({"value": [], "pad": "x" * 5_000}), encoding="utf-8")
    monkeypatch.setattr("dac.importer.MAX_JSON_BYTES", 1_000)
    monkeypatch.setattr("dac.deploy.MAX_JSON_BYTES", 1_000)
    assert main(["import", str(big), "--out", str(tmp_path / "out")]) == 2
    assert f"{big}: file is larger than 1000 bytes" in capsys.readouterr().err
    assert main(["deploy", "--dry-run", "--current", str(big), str(SEED)]) == 2
    assert f"{big}: file is larger than 1000 bytes" in capsys.readouterr().err
    query = tmp_path / "big.kql"
    query.write_text("T\n" + "| take 1\n" * 200_000, encoding="utf-8")
    assert main(["fmt", str(query)]) == 2
    assert f"{query}: file is larger than 1000000 bytes" in capsys.readouterr().err


def previous_pack(path: Path, manifest: dict | bytes, extra: dict[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", manifest if isinstance(manifest, bytes) else json.dumps(manifest))
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return path


def test_previous_pack_members_and_total_size_are_capped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("dac.pack.build.MAX_MANIFEST_BYTES", 10_000)
    monkeypatch.setattr("dac.pack.build.MAX_PREVIOUS_UNCOMPRESSED", 100_000)
    cases = {
        "manifest.json is larger than 10000 bytes": previous_pack(
            tmp_path / "a.zip", {"rules": [], "pad": " " * 20_000}),
        "would decompress to more than 100000 bytes": previous_pack(
            tmp_path / "b.zip", {"rules": []}, {"bomb.bin": b"\0" * 200_000}),
        "is not a dac pack manifest": previous_pack(tmp_path / "c.zip", {"rules": [{"id": 1}]}),
        "nested too deeply": previous_pack(tmp_path / "d.zip", b"[" * 5_000),
    }
    for says, pack in cases.items():
        assert main(["pack", "--out", str(tmp_path / "new.zip"), "--version", "1.0.0", "--previous", str(pack),
                     str(SEED)]) == 2
        assert f"{pack}: cannot read the previous pack's manifest" in (err := capsys.readouterr().err) and says in err
    assert not (tmp_path / "new.zip").exists()


def test_gzipped_data_is_capped_by_max_data_mb(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "UrlClickEvents.jsonl.gz"
    with gzip.open(data, "wb") as stream:
        stream.write(b"\n" * 3_000_000)  # blank lines: nothing to parse, only bytes to decompress
    assert main(["run", "UrlClickEvents | count", "--data", str(data), "--max-data-mb", "2"]) == 2
    assert f"{data}: decompresses to more than 2 MB (the --max-data-mb limit, also [tool.dac] max-data-mb)" in capsys.readouterr().err
    assert main(["run", "UrlClickEvents | count", "--data", str(data), "--max-data-mb", "4"]) == 0


def test_a_kql_file_that_is_not_utf8_is_a_located_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    query = tmp_path / "bad.kql"
    query.write_bytes(b"T\n| where A == '\xff'\n")
    for args in (["fmt", str(query)], ["fmt", "--check", str(query)], ["run", str(query), "--data", str(query)]):
        assert main(args) == 2
        assert f"{query}:2: file is not valid UTF-8 (byte 0xff)" in capsys.readouterr().err


# ------------------------------------------------------------------ 2. output that cannot be forged


def test_printable_escapes_what_could_forge_or_hide() -> None:
    assert printable("a\nb\r\tc") == "a\\nb\\r\\tc"
    assert printable("\x1b]0;title\x07\x1b[2J") == "\\x1b]0;title\\x07\\x1b[2J"
    assert printable("\x7f\x9b\u202e\u2066\u200b\ufeff\u2028\udcff") == \
        "\\x7f\\x9b\\u202e\\u2066\\u200b\\ufeff\\u2028\\udcff"
    assert printable("é ✓ 日本 C:\\path") == "é ✓ 日本 C:\\path"
    assert json.loads(json_safe(json.dumps({"k": "\x9b\u202e"}, ensure_ascii=False))) == {"k": "\x9b\u202e"}
    assert "\u202e" not in json_safe(json.dumps("\u202e", ensure_ascii=False))


FORGED = "\nrule.yaml:1:1: error: forged\x1b[2K"


def test_validate_cannot_print_a_forged_finding(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / f"rules{FORGED}"
    folder.mkdir()
    (folder / "rule.yaml").write_text("id: [1\n", encoding="utf-8")
    assert main(["validate", str(folder)]) == 1
    err = capsys.readouterr().err
    assert "forged" in err and "\x1b" not in err
    assert not any(line.startswith("rule.yaml") for line in err.splitlines())
    assert main(["validate", str(folder), "--format", "json"]) == 1
    (finding,) = json.loads(capsys.readouterr().out)["findings"]
    assert finding["file"] == str(folder / "rule.yaml")  # JSON keeps the text: json escapes it
    assert main(["validate", str(folder), "--format", "github"]) == 1
    out = capsys.readouterr().out
    assert len(out.splitlines()) == 1 and "\x1b" not in out


def test_test_output_cannot_print_a_fake_pass(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = seed_folder(tmp_path / "rules")
    rule = folder / "rule.yaml"
    rule.write_text(rule.read_text().replace("name: User clicked through events",
                                             'name: "evil\\x1b]0;owned\\x07"'), encoding="utf-8")
    tests = folder / "rule.tests.yaml"
    tests.write_text(tests.read_text().replace("- name: allowed click on a phish URL is reported",
                                               '- name: "broken\\nPASS  rule.tests.yaml:1: fine :: fine"')
                     .replace("ReportId: r-allowed, IsClickedThrough: false, AccountUpn", "ReportId: r-other, "
                              "IsClickedThrough: false, AccountUpn", 1), encoding="utf-8")
    assert main(["test", str(folder)]) == 1
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\\x1b]0;owned\\x07" in out
    assert not any(line.startswith("PASS") for line in out.splitlines())
    assert "broken\\nPASS  rule.tests.yaml:1" in out


def test_the_drift_report_cannot_print_a_fake_delete(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = ("/subscriptions/0/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/ws/providers/"
           "Microsoft.SecurityInsights/alertRules/")
    export = tmp_path / "export.json"
    export.write_text(json.dumps({"value": [{
        "id": url + "11111111-2222-3333-4444-555555555555", "kind": "Scheduled",
        "properties": {"displayName": "mine\ndelete Production rule (00000000-0000-0000-0000-000000000000)\x1b[1A"}}]}),
        encoding="utf-8")
    assert main(["deploy", "--dry-run", "--current", str(export), str(SEED)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert not any(line.startswith("delete") for line in lines)
    assert any(line.startswith("unmanaged mine\\ndelete Production rule") and "\\x1b[1A" in line for line in lines)
    assert main(["deploy", "--dry-run", "--current", str(export), str(SEED), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)["report"]
    assert not any(line.startswith("delete") for line in report)


def test_the_changelog_cannot_gain_a_line(tmp_path: Path) -> None:
    forged = "gone\n\n## Added (1)\n\n- Forged rule (x), 9.9.9"
    previous = previous_pack(tmp_path / "old.zip", {"version": "1.0.0\n# Rule pack 0", "rules": [
        {"id": "11111111-2222-3333-4444-555555555555", "name": forged, "sha256": "0", "version": "1.0.0\x1b[2J"}]})
    new = tmp_path / "new.zip"
    assert main(["pack", "--out", str(new), "--version", "1.1.0", "--previous", str(previous), str(SEED)]) == 0
    with zipfile.ZipFile(new) as archive:
        changelog = archive.read("CHANGELOG.md").decode()
    lines = changelog.splitlines()
    assert [line for line in lines if line.startswith("#")] == [
        "# Rule pack 1.1.0", "## Added (1)", "## Changed (0)", "## Deprecated (0)", "## Removed (1)"]
    assert not any(line.startswith("- Forged") for line in lines)
    assert "gone\\n\\n## Added (1)" in changelog and "\x1b" not in changelog


def test_annotations_and_errors_escape_control_characters(capsys: pytest.CaptureFixture[str]) -> None:
    line = annotation(DacError("bad \x1b[31mred\x1b[0m\u202e", Location("a\x07.yaml", 1, 1)))
    assert "\x1b" not in line and "\\x1b[31m" in line and "\\u202e" in line and "a\\x07.yaml" in line
    assert main(["fmt", "--check", "nowhere\n/x.kql: error: forged.kql"]) == 2
    assert "nowhere\\n/x.kql" in capsys.readouterr().err


def hidden_rule(folder: Path) -> Path:
    folder = seed_folder(folder)
    rule = folder / "rule.yaml"
    text = rule.read_text().replace("name: User clicked through events", "name: User clicked\u202e through events")
    text = text.replace('  | where ThreatTypes has "Phish"', '  | where ThreatTypes has "Ph\u200bish"')
    rule.write_text(text, encoding="utf-8")
    tests = folder / "rule.tests.yaml"
    tests.write_text(tests.read_text().replace("- name: allowed click", "- name: \u2066allowed click"),
                     encoding="utf-8")
    return rule


def test_hidden_characters_are_located_warnings(tmp_path: Path) -> None:
    rule = hidden_rule(tmp_path / "rules")
    found = [f for f in validate_paths([rule]) if f.check == "hidden-characters"]
    assert all(isinstance(f, DacWarning) for f in found)
    where = {(Path(f.location.path).name, f.location.line, f.location.column): f.message for f in found}
    assert set(where) == {("rule.yaml", 2, 19), ("rule.yaml", 18, 30), ("rule.tests.yaml", 7, 11)}
    assert "U+202E (RIGHT-TO-LEFT OVERRIDE)" in where["rule.yaml", 2, 19]
    assert where["rule.yaml", 18, 30].startswith("query: hidden character(s) U+200B (ZERO WIDTH SPACE)")
    assert "hidden-characters" in check_kinds() and "yaml-readings" in check_kinds()


# ------------------------------------------------------------------ 3. YAML 1.1 readings


def findings_for(tmp_path: Path, old: str, new: str) -> list[DacError]:
    assert old in SCHEDULED
    rule = tmp_path / "rule.yaml"
    rule.write_text(SCHEDULED.replace(old, new, 1), encoding="utf-8")
    return [f for f in validate_paths([rule]) if f.check in ("schema", "yaml-readings")]


@pytest.mark.parametrize("old,new,where,kind,says", [
    ("triggerThreshold: 0", "triggerThreshold: 010", (9, 19), DacError,
     "triggerThreshold: YAML reads the unquoted 010 as the octal number 8 (YAML 1.2 readers take it as 10); "
     "quote it ('010') if it is text, or write the number without a leading zero"),
    ("triggerThreshold: 0", "triggerThreshold: 1_000", (9, 19), DacError, "as the number 1000 (YAML 1.2"),
    ("triggerThreshold: 0", "triggerThreshold: 0x10", (9, 19), DacError, "as the hexadecimal number 16"),
    ("triggerThreshold: 0", "triggerThreshold: 1.0", (9, 19), DacError,
     "triggerThreshold: expected an integer, found a number (1.0); YAML reads the unquoted 1.0 as a decimal number"),
    ("triggerThreshold: 0", "triggerThreshold: 0o10", (9, 19), DacError,
     "YAML 1.2 readers take it as the octal number 8, but rule and test files are read as YAML 1.1"),
    ("queryFrequency: 1h", "queryFrequency: 1:30", (6, 17), DacError,
     "queryFrequency: expected a string, found an integer (90); YAML reads the unquoted 1:30 as the base-60 "
     "number 90: quote it ('1:30')"),
    ("name: Phish click allowed", "name: on", (2, 7), DacError,
     "name: expected a string, found a boolean (True); YAML reads the unquoted on as the boolean true"),
    ("kind: Scheduled", "kind: Scheduled\nsuppressionEnabled: yes\nsuppressionDuration: 1h", (6, 21), DacError,
     "suppressionEnabled: YAML reads the unquoted yes as the boolean true (YAML 1.2 readers take it as the text "
     "'yes'); quote it ('yes') if it is text, or write true"),
    ("version: 1.0.0", "version: 1.0", (18, 10), DacError, "found 1.0 (quote it so YAML does not read a number)"),
    ("description: A user clicked through a Safe Links warning to a phish URL.", "description: 2024-01-01",
     (3, 14), DacWarning, "the unquoted 2024-01-01 is text to dac, but YAML 1.1 readers such as PyYAML take it as "
                          "a date; quote it ('2024-01-01')"),
])
def test_yaml_1_1_readings_are_located_findings(tmp_path: Path, old: str, new: str, where: tuple[int, int],
                                                kind: type, says: str) -> None:
    (finding,) = findings_for(tmp_path, old, new)  # one finding: a type error that explains is not repeated
    assert (finding.location.line, finding.location.column) == where
    assert type(finding) is kind and says in finding.message, finding.message


def test_quoted_values_and_plain_readings_are_not_findings(tmp_path: Path) -> None:
    assert findings_for(tmp_path, "triggerThreshold: 0", "triggerThreshold: 10") == []
    assert findings_for(tmp_path, "name: Phish click allowed", "name: '010'") == []
    assert findings_for(tmp_path, "version: 1.0.0", "version: '1.0.0'\nstatus: 'on'") == []


def test_readings_in_test_files_are_errors_for_validate_and_test(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    folder = seed_folder(tmp_path / "rules")
    tests = folder / "rule.tests.yaml"
    tests.write_text(tests.read_text().replace("ReportId: r-allowed, ActionType", "ReportId: 0123, ActionType", 1),
                     encoding="utf-8")
    (finding,) = [f for f in validate_paths([folder]) if f.check == "yaml-readings"]
    assert (finding.location.path, finding.location.line) == (str(tests), 10)
    assert "the unquoted 0123 as the octal number 83" in finding.message
    assert main(["test", str(folder)]) == 1
    assert "the unquoted 0123 as the octal number 83" in capsys.readouterr().out
