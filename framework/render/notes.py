"""What a build tells the user besides the artifacts: notes, and every error at once.

A :class:`Note` says that a field of a rule file does not reach a deployed
resource as written (it is approximated, or kept only in the template's
metadata). It points at the field, so ``dac build`` and ``dac pack`` print it as
``file:line:col: note: message`` like any finding, and index.json keeps the
message per rule.

:class:`BuildFailed` carries the located error of every rule file that cannot be
built. Rendering one file never depends on another, so a build renders them all
before it reports, and a user fixes every bad file after one run instead of one
file per run.
"""

from __future__ import annotations

from dataclasses import dataclass

from dac.errors import DacError, Location


@dataclass(frozen=True)
class Note:
    """One field of one rule that an artifact does not carry as written."""

    location: Location
    message: str  # starts with the artifact it concerns: "sentinel: ..." or "defender: ..."

    def __str__(self) -> str:
        return f"{self.location}: note: {self.message}"


class BuildFailed(DacError):
    """Rule files that cannot be built; nothing was written.

    With one error it reads as that error (message and location), so a caller
    that handles any DacError shows it unchanged; :attr:`errors` holds them all.
    """

    def __init__(self, errors: list[DacError]) -> None:
        self.errors = sorted(errors, key=lambda e: (e.location.path, e.location.line, e.location.column))
        first = self.errors[0]
        super().__init__(first.message if len(self.errors) == 1 else self.summary, first.location, first.detail)

    @property
    def summary(self) -> str:
        files = len({error.location.path for error in self.errors})
        return f"{files} rule file(s) cannot be built ({len(self.errors)} error(s)); nothing was written"


__all__ = ["BuildFailed", "Note"]
