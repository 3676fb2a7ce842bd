"""dac as a rules repository installs it: sdist and wheel built, installed into a fresh environment, run elsewhere.

Only what a user installs is exercised here: the sdist is built from a copy of the
repository's files, the wheel from that sdist (as ``python -m build`` does), and the
wheel is installed by pip into a new virtual environment whose dependencies come
from re-packed wheels of this environment (tests/wheelhouse.py: no network). Every
command then runs from a folder outside the repository, with a copy of detections/,
so a data file read beside the source checkout, a dependency left undeclared or a
generic top-level module name fails here as it would for a user.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

import dac

from conftest import REPO
from wheelhouse import build_wheelhouse, runtime_requirements, fresh_venv, offline_pip_env, project_snapshot

DATA_FILES = ("schemas/rule.schema.json", "schemas/tests.schema.json", "schemas/kusto_functions.json",
              "schemas/kusto_operators.json",
              "schemas/tables/sentinel.json", "schemas/tables/defender.json")
KQL_DATA = ("refusals.yaml",)  # framework/kql/, read by dac.kql.builtins
TEMPLATES = sorted(p.name for p in (REPO / "framework" / "render" / "templates").glob("*.j2"))


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The sdist and the wheel built from it, offline, from a clean copy of the repository."""
    source = project_snapshot(REPO, tmp_path_factory.mktemp("source"))
    out = tmp_path_factory.mktemp("dist")
    result = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(source)],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    return {"sdist": next(out.glob("*.tar.gz")), "wheel": next(out.glob("*.whl"))}


@pytest.fixture(scope="module")
def installed(dists: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with the wheel and pytest installed by pip, offline; returns its bin/."""
    wheelhouse = build_wheelhouse(tmp_path_factory.mktemp("wheelhouse"), [*runtime_requirements(), "pytest"])
    python = fresh_venv(tmp_path_factory.mktemp("venv") / "env")
    result = subprocess.run([str(python), "-m", "pip", "install", str(dists["wheel"]), "pytest"],
                            env=offline_pip_env(wheelhouse), capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    return python.parent


def test_the_wheel_holds_one_top_level_package_and_every_data_file(dists: dict[str, Path]) -> None:
    with zipfile.ZipFile(dists["wheel"]) as wheel:
        names = wheel.namelist()
        record = next(n for n in names if n.endswith(".dist-info/RECORD"))
        recorded = [line.split(",", 1)[0] for line in wheel.read(record).decode().splitlines() if line]
        entry_points = wheel.read(record.replace("RECORD", "entry_points.txt")).decode()
    top_level = {name.split("/", 1)[0] for name in recorded}
    assert top_level == {"dac", f"dac_framework-{dac.__version__}.dist-info"}
    for data in DATA_FILES:
        assert "dac/" + data in recorded
    modules = {"dac/" + p.relative_to(REPO / "framework").as_posix() for p in (REPO / "framework").rglob("*.py")}
    assert modules <= set(recorded), f"not packaged (add them to [tool.setuptools] packages): {modules - set(recorded)}"
    for template in TEMPLATES:
        assert f"dac/render/templates/{template}" in recorded
    for data in KQL_DATA:
        assert f"dac/kql/{data}" in recorded
    assert "dac = dac.cli:run" in entry_points and "dac = dac.pytest_plugin" in entry_points


def test_the_sdist_holds_the_source_layout_and_every_data_file(dists: dict[str, Path]) -> None:
    with tarfile.open(dists["sdist"]) as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    for data in (*DATA_FILES, "pyproject.toml", "README.md", "framework/__init__.py", "framework/resources.py"):
        assert data in names
    assert {f"framework/render/templates/{t}" for t in TEMPLATES} <= names
    assert {f"framework/kql/{d}" for d in KQL_DATA} <= names


def run(bin_dir: Path, cwd: Path, *command: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    return subprocess.run(list(command), cwd=cwd, env=env, input=stdin, capture_output=True, text=True, timeout=300)


@pytest.fixture()
def rules_repo(tmp_path: Path) -> Path:
    """A rules repository outside this checkout: just a copy of detections/."""
    root = tmp_path / "rules-repo"
    shutil.copytree(REPO / "detections", root / "detections")
    assert REPO not in root.parents
    return root


def test_every_command_works_from_an_installed_wheel(installed: Path, rules_repo: Path) -> None:
    ok = lambda *command: _ok(run(installed, rules_repo, *command))  # noqa: E731

    assert ok("dac", "--version").stdout.strip() == f"dac {dac.__version__}"
    assert ok("python", "-m", "dac", "--version").stdout.strip() == f"dac {dac.__version__}"
    where = ok("python", "-c", "import dac, dac.resources; print(dac.__file__)").stdout.strip()
    assert Path(where).is_relative_to(installed.parent), where  # the wheel's copy, not this checkout
    assert "all rules valid" in ok("dac", "validate").stdout  # default PATH: detections/
    assert ok("dac", "test", "detections").stdout.rstrip().endswith(", 0 failed")
    ok("dac", "build", "--out", "dist", "detections")
    assert any((rules_repo / "dist").rglob("*.json"))
    ok("dac", "pack", "--out", "pack.zip", "--version", "1.0.0", "detections")
    with zipfile.ZipFile(rules_repo / "pack.zip") as pack:
        assert "manifest.json" in pack.namelist()
    ok("dac", "new", "--kind", "scheduled", "--name", "Many failed sign-ins", "--table", "SigninLogs",
       "--platform", "Sentinel")
    assert "0 failed" in ok("dac", "test").stdout  # the new rule's cases pass with the old ones
    rows = ok("dac", "fixtures", "UrlClickEvents", "--platform", "Defender", "--rows", "50", "--format", "jsonl").stdout
    (rules_repo / "UrlClickEvents.jsonl").write_text(rows, encoding="utf-8")
    ok("dac", "report", "--out", "report", "detections")
    assert (rules_repo / "report" / "index.html").is_file()
    result = ok("dac", "run", "detections/hunting/user-clicked-through-events.yaml", "--data", "UrlClickEvents.jsonl",
                "--now", "2025-01-01T00:00:00Z", "--format", "json")
    assert json.loads(result.stdout)["rows_read"] == {"UrlClickEvents": 50}
    on_duckdb = ok("dac", "run", "detections/hunting/user-clicked-through-events.yaml", "--data", "UrlClickEvents.jsonl",
                   "--now", "2025-01-01T00:00:00Z", "--format", "json", "--engine", "duckdb")
    assert json.loads(on_duckdb.stdout)["engine"] == "duckdb"  # duckdb and sqlglot came with the wheel
    sign_ins = ok("dac", "fixtures", "SigninLogs", "--platform", "Sentinel", "--rows", "40", "--format", "jsonl").stdout
    (rules_repo / "SigninLogs.jsonl").write_text(sign_ins, encoding="utf-8")
    new_rule = next(str(p.relative_to(rules_repo)) for p in (rules_repo / "detections").rglob("*.yaml")
                    if "many-failed-sign-ins" in p.name and ".tests." not in p.name)
    simulated = ok("dac", "simulate", new_rule, "--data", "SigninLogs.jsonl", "--from", "2024-12-30T00:00:00Z",
                   "--to", "2025-01-01T00:00:00Z", "--format", "json", "--engine", "duckdb")
    assert json.loads(simulated.stdout)["plan"] == "one pass"
    tests = ok("python", "-m", "pytest", "detections", "-q", "-p", "no:cacheprovider")
    assert " passed" in tests.stdout and "failed" not in tests.stdout


def _ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, f"{result.args}: exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    assert "Traceback" not in result.stderr
    return result


def test_data_files_are_read_from_a_zip_import(installed: Path, rules_repo: Path, tmp_path: Path) -> None:
    """importlib.resources and Jinja's PackageLoader, not paths: dac runs from a zipped package too."""
    site = next((installed.parent / "lib").glob("python*/site-packages"))
    archive = tmp_path / "dac.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in sorted((site / "dac").rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                zipped.write(path, path.relative_to(site).as_posix())
    script = ("import sys; sys.path.insert(0, sys.argv[1]); import dac; assert dac.__file__.startswith(sys.argv[1]);"
              "from dac.cli import main; code = main(['validate', 'detections']) or main(['build', '--out', 'out',"
              " 'detections']); sys.exit(code)")
    _ok(run(installed, rules_repo, "python", "-c", script, str(archive)))
    assert any((rules_repo / "out").rglob("*.json"))
