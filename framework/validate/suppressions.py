"""Findings a rule suppresses, with a stated reason, and checks a repository switches off.

A rule names the kind of check it accepts a finding of, and why::

    suppressions:
      - check: data-connectors
        reason: the table comes from a Logstash pipeline, not from a Sentinel connector

Every finding of that kind in the rule's file is then reported as suppressed, with
the reason, instead of failing validation; it stays visible in the text, JSON and
SARIF output so that a reviewer sees what was waived. A suppression that matches
no finding is a warning (the rule changed and the waiver is stale), and one that
names no known check is an error, so a typo cannot waive nothing in silence.
Checks switched off in ``[tool.dac] disable`` are dropped for every rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from dac.errors import DacError, DacWarning, Location, did_you_mean
from dac.rules.model import Rule

CHECK_ID = "suppressions"


@dataclass(frozen=True)
class Suppression:
    """One ``suppressions:`` entry of one rule file."""

    path: str
    check: str
    reason: str
    location: Location

    @classmethod
    def all_of(cls, rule: Rule) -> list["Suppression"]:
        """The well-formed entries of ``rule`` (the schema check reports malformed ones)."""
        entries = rule.data.get("suppressions")
        if not isinstance(entries, list):
            return []
        return [cls(rule.path, entry["check"], entry["reason"].strip(), rule.location("suppressions", index, "check"))
                for index, entry in enumerate(entries)
                if isinstance(entry, dict) and isinstance(entry.get("check"), str)
                and isinstance(entry.get("reason"), str) and entry["reason"].strip()]


def apply(findings: Iterable[DacError], suppressions: Sequence[Suppression], disabled: frozenset[str],
          kinds: Sequence[str]) -> list[DacError]:
    """``findings`` less the disabled checks, with suppressed ones marked (``finding.suppressed``).

    Adds an error for each suppression of an unknown check and a warning for each
    that matched nothing.
    """
    by_file: dict[tuple[str, str], Suppression] = {(s.path, s.check): s for s in suppressions}
    used: set[tuple[str, str]] = set()
    kept: list[DacError] = []
    for finding in findings:
        if finding.check in disabled:
            continue
        key = (finding.location.path, finding.check)
        if key in by_file:
            finding.suppressed = by_file[key].reason
            used.add(key)
        kept.append(finding)
    for key, suppression in by_file.items():
        if suppression.check not in kinds:
            kept.append(DacError(f"suppressions: unknown check {suppression.check!r}"
                                 f"{did_you_mean(suppression.check, list(kinds), 0.6)}",
                                 suppression.location, check=CHECK_ID))
        elif key not in used and suppression.check not in disabled:
            kept.append(DacWarning(f"suppression of {suppression.check!r} matches no finding in this rule; "
                                   "remove it", suppression.location, check=CHECK_ID))
    return kept


def is_suppressed(finding: DacError) -> bool:
    return bool(getattr(finding, "suppressed", ""))
