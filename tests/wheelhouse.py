"""Offline installs for the packaging tests: the project as users build it, dependencies from this environment.

The packaging and pre-commit tests install dac the way a rules repository does,
into fresh virtual environments, with pip resolving its dependencies. No network
is used: every distribution those installs need is re-packed from the files this
environment already has installed (a wheel is a zip of the installed files plus
its ``.dist-info``), into a folder that pip reads with ``--no-index
--find-links``. So a missing or wrong dependency declaration fails the test as
it would fail a user, instead of being masked by the developer's environment.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata as metadata
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

# Left out of a re-packed wheel: the installer writes these anew.
_INSTALLER_FILES = {"INSTALLER", "REQUESTED", "direct_url.json", "RECORD"}


def offline_pip_env(wheelhouse: Path) -> dict[str, str]:
    """Environment for pip (and tools that run it, like pre-commit) to install only from ``wheelhouse``."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PIP_", "PYTHON"))}
    env.update(PIP_NO_INDEX="1", PIP_FIND_LINKS=str(wheelhouse), PIP_CONFIG_FILE=os.devnull,
               PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_CACHE_DIR="1")
    return env


def closure(names: list[str]) -> list[metadata.Distribution]:
    """The installed distributions ``names`` need, with their requirements, recursively (no extras)."""
    wanted: dict[str, metadata.Distribution] = {}
    pending = list(names)
    while pending:
        requirement = Requirement(pending.pop())
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue
        key = canonicalize_name(requirement.name)
        if key in wanted:
            continue
        dist = metadata.distribution(requirement.name)
        wanted[key] = dist
        pending.extend(dist.requires or [])
    return list(wanted.values())


def repack(dist: metadata.Distribution, folder: Path) -> Path:
    """Write ``dist``'s installed files as a wheel into ``folder``; return its path."""
    info = Path(dist._path)  # type: ignore[attr-defined]  # the .dist-info folder
    site = info.parent
    tags = [line.split(":", 1)[1].strip().split("-") for line in (info / "WHEEL").read_text().splitlines()
            if line.startswith("Tag:")]
    # the compressed tag set of the file name (py2.py3-none-any): a wheel may carry several tags
    tag = "-".join(".".join(dict.fromkeys(part[i] for part in tags)) for i in range(3))
    name = re.sub(r"[-_.]+", "_", dist.metadata["Name"])
    wheel = folder / f"{name}-{dist.version}-{tag}.whl"
    records: list[str] = []
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
        for entry in dist.files or []:
            relative = entry.as_posix()
            if relative.startswith("..") or "__pycache__" in relative or relative.endswith(".pyc"):
                continue
            if relative.startswith(info.name + "/") and Path(relative).name in _INSTALLER_FILES:
                continue
            source = site / relative
            if not source.is_file():
                continue
            data = source.read_bytes()
            archive.writestr(relative, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            records.append(f"{relative},sha256={digest},{len(data)}")
        records.append(f"{info.name}/RECORD,,")
        archive.writestr(f"{info.name}/RECORD", "\n".join(records) + "\n")
    return wheel


def runtime_requirements() -> list[str]:
    """The project's own runtime dependencies, read from pyproject.toml: a dependency added there is
    in the wheelhouse without touching the tests, and one missing there fails the install as it would
    fail a user's."""
    import tomllib

    with open(Path(__file__).resolve().parent.parent / "pyproject.toml", "rb") as handle:
        return list(tomllib.load(handle)["project"]["dependencies"])


def build_wheelhouse(folder: Path, names: list[str]) -> Path:
    """Re-packed wheels of ``names`` and everything they need, in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for dist in closure(names):
        repack(dist, folder)
    return folder


def project_snapshot(repo: Path, target: Path) -> Path:
    """A copy of the repository's files as a clean clone would have them (tracked and not ignored)."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=repo,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = repo / name
        if source.is_file():
            destination = target / name
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination)
    return target


def fresh_venv(folder: Path) -> Path:
    """A new virtual environment with pip; returns its python."""
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True, capture_output=True)
    return folder / "bin" / "python"
