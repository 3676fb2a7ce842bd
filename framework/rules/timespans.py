"""Timespans as rule files write them (``queryFrequency: 1h``, ``suppressionDuration: 5h``).

The Azure-Sentinel template format accepts ``<n>m``, ``<n>h``, ``<n>d`` or a .NET
TimeSpan (``d.hh:mm:ss``); ARM exports carry ISO 8601 durations (``PT5H``), which
some fields also accept. One parser serves validation and rendering.
"""

from __future__ import annotations

import re
from datetime import timedelta

UNIT_TIMESPAN = re.compile(r"^([0-9]+)([mhd])$")
_CLOCK = re.compile(r"^(?:([0-9]+)\.)?([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?$")
_ISO = re.compile(r"^P(?=[0-9T])(?:([0-9]+)D)?(?:T(?=[0-9])(?:([0-9]+)H)?(?:([0-9]+)M)?(?:([0-9]+)S)?)?$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def is_iso_duration(text: str) -> bool:
    return bool(_ISO.match(text))


def parse_rule_timespan(text: str, *, allow_iso: bool = False) -> timedelta | None:
    """``5m``/``1h``/``14d`` or ``d.hh:mm:ss``/``hh:mm[:ss]`` (and ``PT5H`` when allowed); None otherwise."""
    match = UNIT_TIMESPAN.match(text)
    if match:
        return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    match = _CLOCK.match(text) or (_ISO.match(text) if allow_iso else None)
    if match:
        days, hours, minutes, seconds = (int(part or 0) for part in match.groups())
        return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    return None
