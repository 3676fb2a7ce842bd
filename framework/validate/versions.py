"""Version discipline against a base revision (``dac validate --base REF``).

Sentinel and Defender update a deployed rule only when its version rises, and
other teams pin rules by id: so a rule whose content changed must carry a higher
``version``, an existing rule file must keep its ``id``, and a rule must be
deprecated (``status: Deprecated``) in a release before its file is removed.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from dac.errors import DacError, Location
from dac.rules.history import is_deprecated, rules_at
from dac.rules.model import Rule


def parse_version(text: object) -> tuple[int, ...] | None:
    parts = str(text).split(".")
    return tuple(int(p) for p in parts) if parts and all(p.isdigit() for p in parts) else None


class VersionCheck:
    """Compares every rule with the same rule (by id, else by file) at ``base``."""

    id = "version-discipline"
    summary = "a changed rule has a higher version; rules are deprecated before removal"

    def __init__(self, base: str, paths: Sequence[str]) -> None:
        self.base = base
        self.paths = list(paths)

    def check_all(self, rules: Sequence[Rule]) -> list[DacError]:
        previous = rules_at(self.base, self.paths)
        by_id = {rule.id.lower(): rule for rule in previous.values() if rule.id}
        current_ids = {rule.id.lower() for rule in rules}
        findings: list[DacError] = []
        renamed: set[str] = set()
        for rule in rules:
            path = str(Path(rule.path).resolve())
            old_here = previous.get(path)
            if old_here is not None and old_here.id.lower() != rule.id.lower() and old_here.id.lower() not in current_ids:
                renamed.add(old_here.id.lower())
                findings.append(DacError(
                    f"id changed from {old_here.id} (at {self.base}); an existing rule keeps its id, "
                    "a new rule belongs in a new file", rule.location("id")))
                continue
            old = by_id.get(rule.id.lower())
            from dac.pack.manifest import content_hash  # dac.pack brings dac.render and jinja2: only when compared

            if old is None or content_hash(old, ignore=("version",)) == content_hash(rule, ignore=("version",)):
                continue
            new_version, old_version = parse_version(rule.data.get("version")), parse_version(old.data.get("version"))
            if new_version is None or old_version is None or new_version <= old_version:
                findings.append(DacError(
                    f"the rule changed since {self.base} but its version did not rise "
                    f"(was {old.data.get('version')}, is {rule.data.get('version')})", rule.location("version")))
        for old in previous.values():
            if old.id.lower() not in current_ids and old.id.lower() not in renamed and not is_deprecated(old):
                findings.append(DacError(
                    f"rule '{old.name}' ({old.id}) was removed without being deprecated first "
                    f"(set status: Deprecated in a release before deleting it)",
                    Location(old.path.split(":", 1)[-1], 1, 1)))
        return findings
