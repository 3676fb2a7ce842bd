"""Rules as they were at a git revision, for changelogs and version discipline.

Reads the committed files with ``git show`` (no checkout, the work tree is left
alone), so ``dac validate --base origin/main`` can compare a pull request with
its target branch.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from dac.errors import DacError
from dac.rules.model import RULE_SUFFIXES, TEST_SUFFIXES, Rule
from dac.rules.yamlfile import MAX_FILE_BYTES, parse_yaml


def _run_git(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DacError(f"cannot run git: {exc}") from None


def _git(args: list[str], cwd: Path) -> str:
    done = _run_git(args, cwd)
    if done.returncode != 0:
        raise DacError(f"git {' '.join(args)}: {done.stderr.strip() or 'failed'}")
    return done.stdout


def _require_revision(ref: str, top: Path) -> None:
    """Fail with the likely cause when ``ref`` names no commit in this clone.

    CI checks out a single commit by default (``actions/checkout`` fetches with
    depth 1), so the target branch or the previous tag is simply not there; git
    alone would only say "not a valid object name", which sends people looking
    for a typo instead of at the checkout step.
    """
    if _run_git(["rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}"], top).returncode == 0:
        return
    if _git(["rev-parse", "--is-shallow-repository"], top).strip() == "true":
        raise DacError(f"git revision '{ref}' is missing because this clone is shallow (only part of the history "
                       "was fetched): use fetch-depth: 0 in actions/checkout (or run git fetch --unshallow)")
    raise DacError(f"git revision '{ref}' not found: no branch, tag or commit of that name in this repository")


def rules_at(ref: str, paths: list[str]) -> dict[str, Rule]:
    """Rule files under ``paths`` as committed at ``ref``, keyed by repository-relative path."""
    top = Path(_git(["rev-parse", "--show-toplevel"], Path.cwd()).strip())
    _require_revision(ref, top)
    relative = [str(Path(p).resolve().relative_to(top)) if Path(p).exists() else p for p in paths]
    listing = _git(["ls-tree", "-r", "--name-only", ref, "--", *relative], top).splitlines()
    rules: dict[str, Rule] = {}
    for name in sorted(listing):
        if not name.endswith(RULE_SUFFIXES) or name.endswith(TEST_SUFFIXES):
            continue
        size = _git(["cat-file", "-s", f"{ref}:{name}"], top).strip()
        if not size.isdigit() or int(size) > MAX_FILE_BYTES:  # never read a huge blob whole: rule files are small
            raise DacError(f"{ref}:{name} holds {size} bytes, more than a rule file may ({MAX_FILE_BYTES})")
        text = _git(["show", f"{ref}:{name}"], top)
        doc = parse_yaml(text, f"{ref}:{name}")
        if isinstance(doc.data, dict):
            rules[str(top / name)] = Rule(doc)
    return rules


def is_deprecated(rule: Rule) -> bool:
    """Azure-Sentinel marks retired content with status Deprecated or a "[Deprecated]" name."""
    return str(rule.data.get("status", "")).lower() == "deprecated" or rule.name.lower().startswith("[deprecated]")
