"""Every rule id is used once.

Sentinel keys templates and deployed rules by id: two files with one id
overwrite each other on deployment, silently losing a detection.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dac.errors import DacError, Location
from dac.rules.model import Rule


@dataclass(frozen=True)
class RuleIdentity:
    """What the uniqueness check needs of a rule: its id and where the id is written."""

    id: object
    location: Location

    @classmethod
    def of(cls, rule: Rule) -> "RuleIdentity":
        return cls(rule.data.get("id"), rule.location("id"))


class UniqueIdCheck:
    """Reports each later use of an id at its ``id`` line, naming where it was first used.

    Ids are GUIDs, which are case-insensitive, so ``ABC...`` and ``abc...``
    collide. Rules are taken in the order given (discovery sorts them by
    path), so "first" is stable from run to run. Non-string or empty ids are
    left to the schema check.
    """

    id = "unique-id"
    summary = "every rule id is used once in the rules folders"

    def check_all(self, rules: Sequence[Rule]) -> list[DacError]:
        return self.check_identities([RuleIdentity.of(rule) for rule in rules])

    def check_identities(self, identities: Sequence[RuleIdentity]) -> list[DacError]:
        first_use: dict[str, RuleIdentity] = {}
        findings: list[DacError] = []
        for identity in identities:
            rule_id = identity.id
            if not isinstance(rule_id, str) or not rule_id.strip():
                continue
            earlier = first_use.setdefault(rule_id.strip().lower(), identity)
            if earlier is not identity:
                findings.append(DacError(f"duplicate id {rule_id!r}: already used by {earlier.location}",
                                         identity.location))
        return findings
