"""Time values in test files: absolute ISO 8601 or relative to the test's fixed clock.

``now``, ``now-1h``, ``now-9m10s``, ``now + 2d 3h`` are relative (the offset is any span of
:mod:`dac.testing.spans`, the grammar of every timespan in a test file); this lets a fixture say
"five minutes ago" and stay true whatever the clock is set to.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from dac.errors import DacError
from dac.kql.literals import parse_datetime
from dac.testing.spans import parse_span

DEFAULT_NOW = datetime(2025, 1, 1)
_RELATIVE = re.compile(r"^\s*now\s*(?:([+-])\s*(.+?))?\s*$", re.IGNORECASE)


def parse_time(text: str, now: datetime) -> datetime:
    """Resolve an absolute or ``now±span`` time; raise ValueError with the reason."""
    match = _RELATIVE.match(text)
    if match:
        sign, span = match.groups()
        if not sign:
            return now
        total = parse_span(span)
        try:
            return now + total if sign == "+" else now - total
        except OverflowError:
            raise ValueError(f"{text!r} falls outside the years 1 to 9999") from None
    value = parse_datetime(text)
    if value is None:
        raise ValueError("null is not a time")
    return value


def parse_clock(text: str) -> datetime:
    """The ``now:`` of a test file: an absolute time only."""
    value = parse_datetime(str(text))
    if value is None:
        raise ValueError("the clock cannot be null")
    return value


def clock_option(text: str | None) -> datetime | None:
    """A command's ``--now`` (None when not given); a bad value is a usage error naming the option."""
    if not text:
        return None
    try:
        return parse_clock(text)
    except ValueError as exc:
        raise DacError(f"--now: {exc}") from None


__all__ = ["DEFAULT_NOW", "clock_option", "parse_time", "parse_clock", "timedelta"]
