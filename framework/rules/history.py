"""Rules as they were at a git revision, for changelogs and version discipline.

Reads the committed files with ``git show`` (no checkout, the work tree is left
alone), so ``dac validate --base origin/main`` can compare a pull request with
its target branch.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from dac.errors import DacError, Location
from dac.rules.model import RULE_SUFFIXES, TEST_SUFFIXES, Rule
from dac.rules.yamlfile import parse_yaml


def _git(args: list[str], cwd: Path) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DacError(f"cannot run git: {exc}") from None
    if done.returncode != 0:
        raise DacError(f"git {' '.join(args)}: {done.stderr.strip() or 'failed'}")
    return done.stdout


def rules_at(ref: str, paths: list[str]) -> dict[str, Rule]:
    """Rule files under ``paths`` as committed at ``ref``, keyed by repository-relative path."""
    top = Path(_git(["rev-parse", "--show-toplevel"], Path.cwd()).strip())
    relative = [str(Path(p).resolve().relative_to(top)) if Path(p).exists() else p for p in paths]
    listing = _git(["ls-tree", "-r", "--name-only", ref, "--", *relative], top).splitlines()
    rules: dict[str, Rule] = {}
    for name in sorted(listing):
        if not name.endswith(RULE_SUFFIXES) or name.endswith(TEST_SUFFIXES):
            continue
        text = _git(["show", f"{ref}:{name}"], top)
        doc = parse_yaml(text, f"{ref}:{name}")
        if isinstance(doc.data, dict):
            rules[str(top / name)] = Rule(doc)
    return rules


def is_deprecated(rule: Rule) -> bool:
    """Azure-Sentinel marks retired content with status Deprecated or a "[Deprecated]" name."""
    return str(rule.data.get("status", "")).lower() == "deprecated" or rule.name.lower().startswith("[deprecated]")


def location_of(path: str) -> Location:
    return Location(path, 1, 1)
