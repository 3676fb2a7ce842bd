"""Shared test helpers: where the repository and the ../shared material are."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
CORPUS = SHARED / "corpus"


def load_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="session")
def corpus_queries() -> list[dict]:
    path = CORPUS / "queries.jsonl"
    if not path.is_file():
        pytest.skip("../shared/corpus/queries.jsonl is not available")
    return load_jsonl(path)


@pytest.fixture(scope="session")
def invalid_queries() -> list[dict]:
    path = CORPUS / "queries_invalid.jsonl"
    if not path.is_file():
        pytest.skip("../shared/corpus/queries_invalid.jsonl is not available")
    return load_jsonl(path)


@pytest.fixture(autouse=True)
def _fresh_settings():
    """Each test discovers the rules repository's settings ([tool.dac]) from its own current folder."""
    from dac import config

    config.use(None)
    yield
    config.use(None)


def debian_tool(binary: str, package: str) -> str:
    """The path of ``binary``, installing Debian's ``package`` with apt-get when it is missing.

    Installs only in CI or when DAC_INSTALL_TOOLS=1 (a developer's machine is not changed
    behind their back); otherwise, or when apt-get cannot provide it, the test skips with
    the reason.
    """
    found = shutil.which(binary)
    wanted = bool(os.environ.get("CI")) or os.environ.get("DAC_INSTALL_TOOLS") == "1"
    if found is None and wanted:
        if shutil.which("apt-get") is None or os.geteuid() != 0:
            pytest.skip(f"{binary} is missing and cannot be installed here (needs apt-get as root)")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["sh", "-c", f"apt-get update && apt-get install -y {package}"], env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=1200, check=False)
        found = shutil.which(binary)
    if found is None:
        reason = f"apt-get install {package} did not provide it" if wanted else \
            f"set CI or DAC_INSTALL_TOOLS=1 to install it ({package}) with apt-get"
        pytest.skip(f"{binary} not found; {reason}")
    return found


def npm_package(name: str, version: str) -> Path:
    """The folder of npm package ``name@version``, installed under ~/.cache/dac-npm when missing.

    Installs only in CI or when DAC_INSTALL_TOOLS=1 (through the npm registry); skips
    the test with the reason when node or npm is missing or the install fails.
    """
    if shutil.which("node") is None:
        pytest.skip(f"node is not installed, needed for the npm package {name}")
    prefix = Path.home() / ".cache" / "dac-npm" / f"{name.replace('/', '+')}@{version}"
    folder = prefix / "node_modules" / name
    wanted = bool(os.environ.get("CI")) or os.environ.get("DAC_INSTALL_TOOLS") == "1"
    if not (folder / "package.json").is_file() and wanted and shutil.which("npm") is not None:
        subprocess.run(["npm", "install", "--silent", "--no-audit", "--no-fund", "--prefix", str(prefix),
                        f"{name}@{version}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=600, check=False)
    if not (folder / "package.json").is_file():
        reason = "npm install failed" if wanted else "set CI or DAC_INSTALL_TOOLS=1 to install it with npm"
        pytest.skip(f"npm package {name}@{version} is not installed; {reason}")
    return folder
