"""Error types shared by every stage.

Every error a user can cause carries the file, line and column it points at,
so the command line can print it as ``file:line:col: message`` and editors can
jump to it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Location:
    """A 1-based position in a file; ``path`` may be empty for in-memory text."""

    path: str = ""
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        parts = [self.path or "<input>"]
        if self.line:
            parts.append(str(self.line))
            if self.column:
                parts.append(str(self.column))
        return ":".join(parts)


class DacError(Exception):
    """Base of every error the framework reports to a user."""

    def __init__(self, message: str, location: Location | None = None, detail: str = "", check: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.location = location or Location()
        self.detail = detail  # extra lines for terminals, e.g. the source line with a caret
        # The id of the kind of check that found it (``kql-binding``, ``unique-id``...): the SARIF
        # ruleId, and the name a configuration switches off or a rule suppresses.
        self.check = check
        # The reason a rule's ``suppressions:`` entry gives for waiving it; "" when it counts.
        self.suppressed = ""

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"

    def __reduce__(self) -> tuple:
        # Findings cross process boundaries (parallel validate/test); subclasses take other
        # constructor arguments, so rebuild from the attributes rather than from __init__.
        return _rebuild, (type(self), self.message, self.__dict__)


def _rebuild(kind: type[DacError], message: str, state: dict) -> DacError:
    error = kind.__new__(kind)
    Exception.__init__(error, message)
    error.__dict__.update(state)
    return error


def did_you_mean(name: str, candidates: list[str], cutoff: float = 0.75) -> str:
    """`` (did you mean 'X'?)`` naming the closest candidate, or "" when none is close.

    Every "unknown table / column / key" message ends with it, so a typo is fixed
    without looking the name up.
    """
    import difflib

    close = difflib.get_close_matches(name, candidates, n=1, cutoff=cutoff)
    return f" (did you mean '{close[0]}'?)" if close else ""


class InternalError(Exception):
    """An exception dac did not expect while working on one input: a bug in dac, not in the input.

    It names the input (a rule file, a test file) so that the one-line report the
    command line prints says what to attach to a bug report. The cause is kept as
    text so the error crosses process boundaries whatever the original was.
    """

    def __init__(self, input_name: str, cause: str) -> None:
        super().__init__(input_name, cause)
        self.input_name = input_name
        self.cause = cause

    def __str__(self) -> str:
        return f"{self.cause} (while working on {self.input_name})"


class DacWarning(DacError):
    """A finding worth a look that does not fail validation (metadata drift, style)."""


class RuleFileError(DacError):
    """A rule or test file cannot be read: bad encoding, YAML syntax, duplicate key, wrong shape."""
