"""Errors raised by the KQL front end and evaluator.

Positions are 1-based and relative to the query text; callers that embed a
query in a file (a YAML rule) translate them to file positions.
"""

from __future__ import annotations

from dac.errors import DacError, Location


class KqlError(DacError):
    """A problem with a query, at a line and column of the query text."""

    def __init__(self, message: str, line: int = 0, column: int = 0) -> None:
        super().__init__(message, Location("", line, column))
        self.line = line
        self.column = column

    def __str__(self) -> str:
        return f"{self.line}:{self.column}: {self.message}"


class KqlSyntaxError(KqlError):
    """The text is not valid KQL (or uses syntax the parser does not know)."""

    def __init__(self, message: str, line: int = 0, column: int = 0, source: str | None = None) -> None:
        super().__init__(message, line, column)
        self.source = source

    def caret(self) -> str:
        """The offending source line with a caret under the column, for terminals."""
        if not self.source or not self.line:
            return ""
        lines = self.source.splitlines() or [""]
        text = lines[min(self.line, len(lines)) - 1]
        return f"{text}\n{' ' * max(self.column - 1, 0)}^"


class KqlUnsupportedError(KqlError):
    """Valid KQL that this evaluator does not implement: refused rather than guessed."""


class KqlRefusedSyntax(KqlSyntaxError, KqlUnsupportedError):
    """A Kusto operator the parser does not read: valid KQL, refused with its reason (builtins.refusal),
    and still a syntax error to a tool that only parses, since no tree can be built past it."""


class KqlSemanticError(KqlError):
    """A query that parses but cannot run: unknown table or column, wrong argument types."""


class KqlUnresolvedName(KqlSemanticError):
    """A table or function name that refers to nothing: what ``union isfuzzy=true`` tolerates in a leg."""


class KqlRuntimeError(KqlError):
    """A failure while evaluating rows (for example a limit on produced rows)."""


class KqlRefusedValue(KqlRuntimeError, KqlUnsupportedError):
    """A value met at run time whose result Kusto's documentation does not settle (a unit whose
    definition changed, an input a page leaves open): refused, as an unsupported feature is, at
    the call that met it, rather than answered with a guess."""
