"""dac pack (reproducible zip, manifest, changelog, checksums) and dac validate --base (versions)."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from dac.cli import main
from dac.validate import validate_paths

from conftest import REPO

SEED = REPO / "detections" / "hunting" / "user-clicked-through-events.yaml"


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=repo, check=True,
                   capture_output=True)


@pytest.fixture()
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A git repository with the seed rule committed as the base."""
    (tmp_path / "detections").mkdir()
    shutil.copy(SEED, tmp_path / "detections" / "rule.yaml")
    shutil.copy(SEED.with_name("user-clicked-through-events.tests.yaml"), tmp_path / "detections" / "rule.tests.yaml")
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "base")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_pack_is_reproducible_and_complete(tmp_path: Path) -> None:
    first, second = tmp_path / "a.zip", tmp_path / "b.zip"
    assert main(["pack", "--out", str(first), "--version", "1.0.0", str(SEED)]) == 0
    assert main(["pack", "--out", str(second), "--version", "1.0.0", str(SEED)]) == 0
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as archive:
        names = archive.namelist()
        assert names == sorted(names)
        assert set(names) == {"CHANGELOG.md", "SHA256SUMS", "manifest.json", "sentinel/user-clicked-through-events.json",
                              "defender/user-clicked-through-events.json", "deployment/sentinel.json",
                              "deployment/sentinel.bicep"}
        assert all(info.date_time == (1980, 1, 1, 0, 0, 0) for info in archive.infolist())
        manifest = json.loads(archive.read("manifest.json"))
        (entry,) = manifest["rules"]
        assert (manifest["version"], entry["id"], entry["version"], entry["platforms"]) == (
            "1.0.0", "f075d4c4-cf76-4e5d-9c2d-9ed524286316", "1.0.0", ["defender", "sentinel"])
        for line in archive.read("SHA256SUMS").decode().splitlines():
            digest, name = line.split("  ")
            assert hashlib.sha256(archive.read(name)).hexdigest() == digest
        assert "## Added (1)" in archive.read("CHANGELOG.md").decode()


def test_changelog_against_a_previous_pack_and_a_git_ref(repo: Path) -> None:
    assert main(["pack", "--out", "old.zip", "--version", "1.0.0", "detections"]) == 0
    edit(repo / "detections" / "rule.yaml", 'has "Phish"', 'has "Phish" and isnotempty(Url)')
    edit(repo / "detections" / "rule.yaml", "version: 1.0.0", "version: 1.1.0")
    for extra in (["--previous", "old.zip"], ["--base", "HEAD"]):
        assert main(["pack", "--out", "new.zip", "--version", "1.1.0", *extra, "detections"]) == 0
        changelog = zipfile.ZipFile("new.zip").read("CHANGELOG.md").decode()
        assert "## Changed (1)" in changelog and "1.0.0 -> 1.1.0" in changelog


def test_failed_pack_leaves_the_previous_file(tmp_path: Path) -> None:
    out = tmp_path / "pack.zip"
    assert main(["pack", "--out", str(out), "--version", "1.0.0", str(SEED)]) == 0
    before = out.read_bytes()
    assert main(["pack", "--out", str(out), "--version", "not-a-version", str(SEED)]) == 2
    assert out.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["pack.zip"]


def test_changed_rule_needs_a_higher_version(repo: Path) -> None:
    rule = repo / "detections" / "rule.yaml"
    edit(rule, 'has "Phish"', 'has "Malware"')
    (finding,) = validate_paths(["detections"], base="HEAD")
    assert finding.message == "the rule changed since HEAD but its version did not rise (was 1.0.0, is 1.0.0)"
    assert finding.location.line == 20
    edit(rule, "version: 1.0.0", "version: 1.0.1")
    assert [f for f in validate_paths(["detections"], base="HEAD") if "version" in f.message] == []


def test_changed_id_and_removed_rule_are_errors(repo: Path) -> None:
    rule = repo / "detections" / "rule.yaml"
    edit(rule, "f075d4c4-cf76-4e5d-9c2d-9ed524286316", "0a0a0a0a-cf76-4e5d-9c2d-9ed524286316")
    messages = [f.message for f in validate_paths(["detections"], base="HEAD")]
    assert messages == ["id changed from f075d4c4-cf76-4e5d-9c2d-9ed524286316 (at HEAD); an existing rule keeps "
                        "its id, a new rule belongs in a new file"]
    git(repo, "checkout", "-q", "--", ".")
    rule.unlink()
    (repo / "detections" / "rule.tests.yaml").unlink()
    (repo / "detections" / "other.yaml").write_text(SEED.read_text().replace("f075d4c4", "1b1b1b1b"))
    messages = [f.message for f in validate_paths(["detections"], base="HEAD")]
    assert any("was removed without being deprecated first" in m for m in messages)
