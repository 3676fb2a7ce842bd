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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from dac.engines.physical import EngineRefusal
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
    plan: str = "per run"  # or "one pass": the query's head once over all rows (dac.kql.window_split)

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
             limits: Limits | None = None, sources: Mapping[str, Any] | None = None,
             note: Callable[[str], None] | None = None, spark_master: str | None = None,
             fallback: bool = False) -> Simulation:
    """Run ``rule`` over ``tables`` (name -> ``Table`` or row source) as scheduled in ``[first, last)``.

    With a SQL ``engine`` and ``sources`` (the same data as ``dac.engines.sources`` for it to read
    natively), the query is split for one pass (``dac.kql.window_split``): the engine runs the head
    once over the files and the row engine the rest per run, over the head's few rows of each
    window. A query that cannot be split that way is computed per run, on that engine, over rows
    read by the row engine's reader (slow on large files, and said so through ``note``). When the
    SQL engine refuses the head, ``fallback`` (the engine was not asked for by name) simulates on
    the python engine with a note; otherwise the refusal is the error, located in the rule.

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

    try:
        executor, plan = _executor(engine, tree, tables, sources, settings, limits, located, note, spark_master)
    except EngineRefusal as refusal:  # the head of a one-pass plan, refused before any row is read
        if not fallback:
            raise query_error(rule, refusal) from None
        if note is not None:
            note(f"{refusal.message.split('; use --engine python')[0]}; simulating on the python engine instead")
        engine = "python"
        executor, plan = _executor(engine, tree, tables, None, settings, limits, located, note, spark_master)
    except KqlError as exc:
        raise query_error(rule, exc) from None
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
                      time.perf_counter() - started, plan)


def _executor(engine: str, tree: Any, tables: Mapping[str, Any], sources: Mapping[str, Any] | None,
              settings: RuleSettings, limits: Limits, located: Callable[[Run, KqlError], DacError],
              note: Callable[[str], None] | None, spark_master: str | None) -> tuple[execute.Executor, str]:
    """How the runs are computed, and the plan's name ("one pass" or "per run").

    On the row engine one pass pays when rows come from files: the head streams them, while
    per-run windows need every row in memory (bench/simulate.py: in memory, the two plans take
    about the same time). On a SQL engine given ``sources``, one pass is the plan that reads the
    files natively; an EngineRefusal of its head escapes to the caller.
    """
    if engine != "python" and sources is not None:
        parts = execute.split(tree, sources)
        if parts is not None:
            head = execute.sql_head(engine, parts, sources, limits, spark_master)
            return execute.onepass_executor(parts, head, limits, located), "one pass"
        if note is not None:
            note(f"the query cannot be split for one pass over the files (it reads another table, or its rows "
                 f"have their own ingestion times); each run is computed on {engine} over rows read by the "
                 "python reader")
    streamed = not all(isinstance(t, Table) for t in tables.values())
    parts = execute.split(tree, tables) if engine == "python" and streamed else None
    if parts is not None:
        head = execute.python_head(parts, tables, limits)
        return execute.onepass_executor(parts, head, limits, located), "one pass"
    data = execute.prepare(tables, settings.kind == "NRT")
    if engine == "python":
        return execute.python_executor(tree, data, limits, located), "per run"
    return execute.engine_executor(engine, tree, data, limits), "per run"


__all__ = ["Simulation", "RunOutcome", "DayTotal", "simulate"]
