"""``dac validate --format github``: findings as GitHub Actions workflow commands.

The Actions runner reads lines such as ``::error file=F,line=L,col=C,title=T::MESSAGE``
from a step's output and shows each as an annotation on that line of the pull
request, with no upload step and without code scanning (GitHub Advanced Security).
The escaping is the runner's (``@actions/core`` ``escapeData``/``escapeProperty``):
without it a message holding a newline would end the command early, and a path or
title holding ``,`` or ``:`` would be cut into other properties.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import IO

from dac.errors import DacError, DacWarning
from dac.output import display_path
from dac.output.escape import printable

_DATA = {"%": "%25", "\r": "%0D", "\n": "%0A"}
_PROPERTY = {**_DATA, ":": "%3A", ",": "%2C"}


def escape_data(text: str) -> str:
    """Escape the message part (after ``::``) of a workflow command."""
    return "".join(_DATA.get(char, char) for char in text)


def escape_property(text: str) -> str:
    """Escape a ``key=value`` property of a workflow command."""
    return "".join(_PROPERTY.get(char, char) for char in text)


def annotation(finding: DacError) -> str:
    """The workflow command for one finding: ``::error``, ``::warning``, or ``::notice`` when suppressed.

    A suppressed finding stays visible (as SARIF and the text output keep it) but
    as a notice, so a waiver the rule states does not read as a failure.
    """
    reason = finding.suppressed
    command = "notice" if reason else "warning" if isinstance(finding, DacWarning) else "error"
    where = finding.location
    properties: list[tuple[str, str]] = []
    if where.path:
        properties.append(("file", printable(display_path(where.path))))
        if where.line:
            properties.append(("line", str(where.line)))
            if where.column:
                properties.append(("col", str(where.column)))
    properties.append(("title", f"dac {finding.check}" if finding.check else "dac"))
    # control characters would reach the job log as they are (ESC sequences colour or hide it)
    message = printable(finding.message + (f" (suppressed: {reason})" if reason else ""))
    fields = ",".join(f"{key}={escape_property(value)}" for key, value in properties)
    return f"::{command} {fields}::{escape_data(message)}"


def write_annotations(stream: IO[str], findings: Iterable[DacError]) -> None:
    """One workflow command line per finding on ``stream`` (the runner reads stdout)."""
    for finding in findings:
        stream.write(annotation(finding) + "\n")
