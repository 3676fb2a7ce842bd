"""The hooks of .pre-commit-hooks.yaml, run by pre-commit itself in a rules repository.

The rules repository's ``.pre-commit-config.yaml`` points at this repository (``repo:``
a local path, ``rev:`` a commit): a snapshot of the working tree committed into a
temporary git repository, which on a clean clone is exactly HEAD. pre-commit then
clones it, builds the hook environment with pip (offline: dependencies from
tests/wheelhouse.py) and runs the hooks as it would for a user: on every file, on
the staged files of a commit, and with its own file batching.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO
from wheelhouse import build_wheelhouse, runtime_requirements, offline_pip_env, project_snapshot

SEED = "detections/hunting/user-clicked-through-events.yaml"
SEED_TESTS = "detections/hunting/user-clicked-through-events.tests.yaml"


def git(cwd: Path, *args: str) -> str:
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@example.com", GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1")
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True).stdout


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """This repository as a git repository pre-commit can clone: (path, commit)."""
    root = project_snapshot(REPO, tmp_path_factory.mktemp("hook-repo"))
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "snapshot")
    return root, git(root, "rev-parse", "HEAD").strip()


@pytest.fixture(scope="module")
def environment(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """pre-commit's environment: its own cache, pip offline, this interpreter's tools first on PATH."""
    if shutil.which("pre-commit", path=str(Path(sys.executable).parent)) is None:
        pytest.skip("pre-commit is not installed in this environment (the dev extras have it)")
    wheelhouse = build_wheelhouse(tmp_path_factory.mktemp("wheelhouse"),
                                  [*runtime_requirements(), "setuptools"])
    env = offline_pip_env(wheelhouse)
    env.update(PRE_COMMIT_HOME=str(tmp_path_factory.mktemp("pre-commit-cache")), GIT_CONFIG_GLOBAL=os.devnull,
               GIT_CONFIG_NOSYSTEM="1", GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.com",
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    env.pop("CI", None)  # pre-commit prints the same either way; dac's progress line stays off without a TTY
    return env


@pytest.fixture()
def rules_repo(tmp_path: Path, hook_repo: tuple[Path, str]) -> Path:
    """A rules repository whose .pre-commit-config.yaml uses our hooks at the snapshot's commit."""
    path, rev = hook_repo
    root = tmp_path / "rules"
    shutil.copytree(REPO / "detections", root / "detections")
    (root / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {path}\n    rev: {rev}\n    hooks:\n"
        "      - id: dac-validate\n      - id: dac-fmt-check\n      - id: dac-test\n", encoding="utf-8")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "rules")
    return root


def pre_commit(root: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pre_commit", *args], cwd=root, env=env, capture_output=True,
                          text=True, timeout=900)


def test_hooks_install_and_pass_on_good_rules(rules_repo: Path, environment: dict[str, str]) -> None:
    result = pre_commit(rules_repo, environment, "run", "--all-files")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    for hook in ("dac validate", "dac fmt --check", "dac test"):
        assert any(line.startswith(hook) and line.endswith("Passed") for line in output.splitlines()), output


def test_a_broken_rule_cannot_be_committed(rules_repo: Path, environment: dict[str, str]) -> None:
    assert pre_commit(rules_repo, environment, "install").returncode == 0
    rule = rules_repo / SEED
    rule.write_text(rule.read_text(encoding="utf-8").replace('ThreatTypes has "Phish"', 'ThreatTypo has "Phish"'),
                    encoding="utf-8")
    git(rules_repo, "add", SEED)
    commit = subprocess.run(["git", "commit", "-m", "typo"], cwd=rules_repo, env=environment, capture_output=True,
                            text=True, timeout=900)
    output = commit.stdout + commit.stderr
    assert commit.returncode != 0, output
    assert f"{SEED}:" in output and "unknown column or variable 'ThreatTypo'" in output, output
    assert "Traceback" not in output
    assert git(rules_repo, "log", "--oneline").count("\n") == 1  # nothing was committed


def test_a_new_file_reusing_an_unchanged_rules_id_is_reported_on_the_new_file(rules_repo: Path,
                                                                              environment: dict[str, str]) -> None:
    copy = rules_repo / "detections" / "copy.yaml"
    copy.write_text((rules_repo / SEED).read_text(encoding="utf-8").replace("name: User clicked through events",
                                                                            "name: A copy"), encoding="utf-8")
    git(rules_repo, "add", "detections/copy.yaml")
    result = pre_commit(rules_repo, environment, "run", "dac-validate")  # changed-files mode: only copy.yaml
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert f"detections/copy.yaml:1:5: duplicate id 'f075d4c4-cf76-4e5d-9c2d-9ed524286316': already used by " \
           f"{SEED}" in output, output


def test_a_rule_and_its_test_file_run_once_whatever_the_batching(rules_repo: Path,
                                                                 environment: dict[str, str]) -> None:
    """pre-commit splits the files of a hook that is not require_serial into batches, one process each.

    With two cores it makes batches of at least four files: the test file, three rule stubs
    (no query, no cases) and then the rule would be two batches, each running the rule's cases.
    """
    stubs = []
    for index in range(3):
        stub = f"detections/stub{index}.yaml"
        (rules_repo / stub).write_text(f"id: 00000000-0000-4000-8000-00000000000{index}\nname: stub {index}\n"
                                       "version: 1.0.0\n", encoding="utf-8")
        stubs.append(stub)
    git(rules_repo, "add", "-A")
    result = pre_commit(rules_repo, environment, "run", "dac-test", "--verbose", "--files", SEED_TESTS, *stubs, SEED)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    summaries = [line for line in output.splitlines() if line.endswith(" failed") and " passed, " in line]
    cases = (rules_repo / SEED_TESTS).read_text(encoding="utf-8").count("\n  - name:")
    assert summaries == [f"{cases} passed, 0 failed"], output
