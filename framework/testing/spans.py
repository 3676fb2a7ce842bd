"""The one timespan grammar of test files: fixture values, ``now±…`` offsets, ``every:`` steps, ``expect``.

A span is Kusto's timespan literal (https://learn.microsoft.com/kusto/query/scalar-data-types/timespan):
a number and a unit (``2d``, ``1.5h``, ``30m``, ``10s``, ``100ms``, ``10microsecond``, ``1tick``,
or the long names ``15 seconds``), or the clock form ``[d.]hh:mm[:ss[.fffffff]]`` (``00:04:40``,
``2.01:00:00``). Several unit terms in a row add up, glued or spaced (``9m10s``, ``9m 10s``,
``1h 30m``), as ``9m + 10s`` would in a query; an optional leading ``-`` negates the whole.

A number alone is refused: Kusto's ``timespan(2)`` is two days, but ``2`` in a fixture far more
often means seconds or minutes to whoever wrote it, and a test that silently means something
else is worse than an error. Each term is read by :func:`dac.kql.literals.parse_timespan`, the
evaluator's own reader, so the units and their values are the query language's.
"""

from __future__ import annotations

import re
from datetime import timedelta

from dac.kql.literals import parse_timespan

_CLOCK = re.compile(r"^(?:\d+\.)?\d{1,2}:\d{2}(?::\d{2}(?:\.\d{1,7})?)?$")
_TERM = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([A-Za-z]+)")
_NUMBER = re.compile(r"^\d+(?:\.\d+)?$")
UNITS = "d, h, m, s, ms, microsecond, tick"


def parse_span(text: str) -> timedelta:
    """The timespan ``text`` writes; ValueError saying what is wrong otherwise."""
    body = text.strip()
    negative = body.startswith("-")
    if negative:
        body = body[1:].strip()
    if not body:
        raise ValueError(f"{text!r} is not a timespan (write e.g. 30s, 9m10s, 1.5h, 2d or 00:04:40)")
    if _NUMBER.match(body):
        raise ValueError(f"{text!r} has no unit: write {body}s, {body}m, {body}h or {body}d, or hh:mm:ss")
    if ":" in body:
        if not _CLOCK.match(body):
            mixed = " and takes no unit terms" if re.search("[A-Za-z]", body) else ""
            raise ValueError(f"{text!r} is not a timespan: the clock form is [d.]hh:mm[:ss[.fffffff]]{mixed}")
        total = _term(body, text)
    else:
        total = timedelta()
        position = 0
        for match in _TERM.finditer(body):
            if match.start() != position:
                break
            total += _term(match.group(1) + match.group(2), text)
            position = match.end()
        if position != len(body):
            rest = body[position:].strip()
            raise ValueError(f"{text!r} is not a timespan: cannot read {rest!r} "
                             f"(a term is a number and a unit: {UNITS})")
    return -total if negative else total


def _term(literal: str, text: str) -> timedelta:
    try:
        value = parse_timespan(literal)
    except ValueError:
        unit = _TERM.match(literal)
        name = unit.group(2) if unit else literal
        raise ValueError(f"{text!r} is not a timespan: unknown unit {name!r} (units: {UNITS})") from None
    if value is None:
        raise ValueError(f"{text!r} is beyond the timespan range")
    return value
