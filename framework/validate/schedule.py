"""A Scheduled rule's frequency and look-back period must be ones Sentinel runs.

The schema checks that ``queryFrequency`` and ``queryPeriod`` are timespans;
this check compares their values. The limits are those the Azure-Sentinel
template validation enforces (each between 5 minutes and 14 days, period at
least the frequency) and the solution authoring guide states (a period of 2
days or more needs a frequency of at least 1 hour). A period shorter than the
frequency would leave events between two runs unexamined.
"""

from __future__ import annotations

from datetime import timedelta

from dac.errors import DacError
from dac.rules.model import Rule
from dac.rules.timespans import parse_rule_timespan as parse_timespan

MINIMUM = timedelta(minutes=5)
MAXIMUM = timedelta(days=14)
LONG_PERIOD = timedelta(days=2)
LONG_PERIOD_MINIMUM_FREQUENCY = timedelta(hours=1)

class ScheduleCheck:
    """Range and consistency of ``queryFrequency`` and ``queryPeriod`` of Scheduled rules."""

    id = "schedule"
    summary = "a Scheduled rule's frequency and period are ones Sentinel accepts"

    def check(self, rule: Rule) -> list[DacError]:
        if rule.kind != "Scheduled":
            return []
        findings: list[DacError] = []
        spans: dict[str, timedelta] = {}
        for key in ("queryFrequency", "queryPeriod"):
            raw = rule.data.get(key)
            span = parse_timespan(raw) if isinstance(raw, str) else None
            if span is None:
                continue
            spans[key] = span
            if span < MINIMUM:
                findings.append(DacError(f"{key}: {raw!r} is shorter than the minimum of 5m", rule.location(key)))
            elif span > MAXIMUM:
                findings.append(DacError(f"{key}: {raw!r} is longer than the maximum of 14d", rule.location(key)))
        frequency, period = spans.get("queryFrequency"), spans.get("queryPeriod")
        if frequency is None or period is None:
            return findings
        if period < frequency:
            findings.append(
                DacError(
                    f"queryPeriod: {rule.data['queryPeriod']!r} is shorter than queryFrequency "
                    f"{rule.data['queryFrequency']!r}; events between two runs would never be queried",
                    rule.location("queryPeriod"),
                )
            )
        if period >= LONG_PERIOD and frequency < LONG_PERIOD_MINIMUM_FREQUENCY:
            findings.append(
                DacError(
                    f"queryFrequency: {rule.data['queryFrequency']!r} is below 1h, "
                    "the minimum when queryPeriod is 2d or more",
                    rule.location("queryFrequency"),
                )
            )
        return findings
