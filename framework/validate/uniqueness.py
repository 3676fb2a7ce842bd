"""Every rule id is used once.

Sentinel keys templates and deployed rules by id: two files with one id
overwrite each other on deployment, silently losing a detection.
"""

from __future__ import annotations

from collections.abc import Sequence

from framework.errors import DacError
from framework.rules.model import Rule


class UniqueIdCheck:
    """Reports each later use of an id at its ``id`` line, naming where it was first used.

    Ids are GUIDs, which are case-insensitive, so ``ABC...`` and ``abc...``
    collide. Rules are taken in the order given (discovery sorts them by
    path), so "first" is stable from run to run. Non-string or empty ids are
    left to the schema check.
    """

    def check_all(self, rules: Sequence[Rule]) -> list[DacError]:
        first_use: dict[str, Rule] = {}
        findings: list[DacError] = []
        for rule in rules:
            rule_id = rule.data.get("id")
            if not isinstance(rule_id, str) or not rule_id.strip():
                continue
            key = rule_id.strip().lower()
            earlier = first_use.setdefault(key, rule)
            if earlier is not rule:
                findings.append(
                    DacError(f"duplicate id {rule_id!r}: already used by {earlier.location('id')}", rule.location("id"))
                )
        return findings
