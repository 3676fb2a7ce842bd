"""``dac simulate``: what a Scheduled or NRT rule would have raised, run as Sentinel's scheduler runs it.

Detection engineers want to know, before enabling a rule, how many alerts and incidents it
would have made over weeks of their own logs; the portal's "results simulation" covers the
last 50 runs against the live workspace only. This package replays the scheduler offline:
``schedule`` makes the runs and their windows, ``execute`` runs the parsed query per window
on an engine, ``alerts`` applies trigger, event grouping and suppression's outcome to each
result, ``incidents`` groups the alerts, and ``report``/``chart`` show the outcome.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from dac.errors import DacError
from dac.kql import KqlError
from dac.kql.budget import Limits
from dac.kql.table import Table
from dac.rules.model import Rule
from dac.simulate import execute
from dac.simulate.alerts import Alert, AlertMaker, triggered
from dac.simulate.incidents import Incident, group
from dac.simulate.schedule import Run, runs
from dac.simulate.settings import RuleSettings, rule_settings


@dataclass
class RunOutcome:
    """One run: its times, whether suppression skipped it, its result count and whether it fired."""

    run: Run
    suppressed: bool
    rows: int | None  # None when suppressed: the query did not run
    fired: bool
    alerts: list[int] = field(default_factory=list)


@dataclass
class DayTotal:
    day: date
    runs: int = 0
    suppressed: int = 0
    fired: int = 0
    alerts: int = 0
    incidents: int = 0


@dataclass
class Simulation:
    """Every run, alert and incident of one rule between two times."""

    rule: Rule
    settings: RuleSettings
    engine: str
    first: datetime
    last: datetime
    outcomes: list[RunOutcome]
    alerts: list[Alert]
    incidents: list[Incident]
    seconds: float

    def days(self) -> list[DayTotal]:
        """Totals per UTC day (of the scheduled time for runs, of creation for alerts and incidents), no day left out."""
        totals: dict[date, DayTotal] = {}
        day = self.first.date()
        while day <= (self.last - timedelta(microseconds=1)).date():
            totals[day] = DayTotal(day)
            day += timedelta(days=1)

        def at(moment: datetime) -> DayTotal:
            return totals.setdefault(moment.date(), DayTotal(moment.date()))

        for outcome in self.outcomes:
            total = at(outcome.run.scheduled)
            total.runs += 1
            total.suppressed += outcome.suppressed
            total.fired += outcome.fired
        for alert in self.alerts:
            at(alert.time).alerts += 1
        for incident in self.incidents:
            at(incident.created).incidents += 1
        return [totals[d] for d in sorted(totals)]


def simulate(rule: Rule, tables: Mapping[str, Any], first: datetime, last: datetime, *, engine: str = "python",
             limits: Limits | None = None) -> Simulation:
    """Run ``rule`` over ``tables`` (name -> ``Table`` or row source) as scheduled in ``[first, last)``.

    Alert suppression (https://learn.microsoft.com/en-us/azure/sentinel/detect-threats-custom,
    "Temporarily suppress rule after an alert is generated"): after a run that raised alerts, the
    runs scheduled within ``suppressionDuration`` of it do not run.
    """
    from dac.testing.runner import query_error

    settings = rule_settings(rule)
    schedule = runs(settings, first, last)
    try:
        tree = rule.syntax_tree()
    except KqlError as exc:
        raise query_error(rule, exc) from None
    limits = limits or Limits()
    started = time.perf_counter()

    def located(run: Run, error: KqlError) -> DacError:
        found = query_error(rule, error)
        return DacError(f"run scheduled at {run.scheduled.isoformat()}: {found.message}", found.location)

    # On the row engine one pass pays when rows come from files: the head streams them, while
    # per-run windows need every row in memory (measured by bench/simulate.py: in memory, the two
    # plans take about the same time).
    streamed = not all(isinstance(t, Table) for t in tables.values())
    parts = execute.split(tree, tables) if engine == "python" and streamed else None
    if parts is not None:
        try:
            head = execute.python_head(parts, tables, limits)
        except KqlError as exc:
            raise query_error(rule, exc) from None
        executor = execute.onepass_executor(parts, head, limits, located)
    else:
        data = execute.prepare(tables, settings.kind == "NRT")
        if engine == "python":
            executor = execute.python_executor(tree, data, limits, located)
        else:
            executor = execute.engine_executor(engine, tree, data, limits)
    maker = AlertMaker(rule, settings)
    outcomes: list[RunOutcome] = []
    alerts: list[Alert] = []
    quiet_until: datetime | None = None

    def wanted(index: int) -> bool:
        return quiet_until is None or schedule[index].scheduled >= quiet_until

    for run, result in zip(schedule, executor(schedule, wanted)):
        if not wanted(run.index):
            outcomes.append(RunOutcome(run, True, None, False))
            continue
        assert result is not None  # an executor computes every run it is asked for
        fired = triggered(settings, len(result.rows))
        outcome = RunOutcome(run, False, len(result.rows), fired)
        if fired:
            made = maker.alerts(run, result)
            outcome.alerts = [alert.id for alert in made]
            alerts.extend(made)
            if settings.suppression is not None:
                quiet_until = run.scheduled + settings.suppression
        outcomes.append(outcome)
    incidents = group(settings.grouping, alerts)
    return Simulation(rule, settings, engine, first, last, outcomes, alerts, incidents,
                      time.perf_counter() - started)


__all__ = ["Simulation", "RunOutcome", "DayTotal", "simulate"]
