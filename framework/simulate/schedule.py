"""The runs Sentinel's scheduler makes of a rule between two times, and the rows each one sees.

Scheduled rules (https://learn.microsoft.com/en-us/azure/sentinel/detect-threats-custom,
"Schedule and scope the query" and its note on ingestion delay): the query runs every
``queryFrequency`` ("Run query every") over the ``queryPeriod`` before ("Lookup data from the
last"), and Sentinel "runs scheduled analytics rules on a five-minute delay from their
scheduled time", to cover the latency between an event's generation and its ingestion
"without data duplication". Modelled here as: run k is scheduled at ``T1 + k*frequency``;
its window is ``[scheduled - period, scheduled)`` on ``TimeGenerated`` (start included, end
excluded, so that runs whose period equals their frequency see each row exactly once);
it executes five minutes later, which is ``now()`` for the query, and sees only the rows
ingested by then (https://learn.microsoft.com/en-us/azure/sentinel/ingestion-delay: an
event ingested after the run whose window holds it is missed, and the next window no
longer holds it).

NRT rules (https://learn.microsoft.com/en-us/azure/sentinel/near-real-time-rules): "hard-coded
to run once every minute and capture events ingested in the preceding minute", on "a
two-minute delay", querying "on events' ingestion time instead of their generation time".
Run k is scheduled at ``T1 + k minutes``, its window is ``[scheduled - 1m, scheduled)`` on the
ingestion time, and it executes two minutes later. A row of a fixture carries its ingestion
time (``$IngestionTime``); a row read from a file has none, and is taken as ingested when
it was generated (its ``TimeGenerated``): an export of a workspace table carries no
ingestion time, and zero delay is the one assumption that needs no invented figure.

Runs are scheduled from T1 (included) to T2 (excluded): 30 days at 5 minutes is 8,640 runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from dac.errors import DacError, Location
from dac.simulate.settings import RuleSettings

SCHEDULED_DELAY = timedelta(minutes=5)
NRT_DELAY = timedelta(minutes=2)
NRT_FREQUENCY = timedelta(minutes=1)
MAX_RUNS = 1_000_000  # a month of NRT runs is 43,200; this bounds a typo in --from/--to, not real use


@dataclass(frozen=True)
class Run:
    """One execution of the rule: when it was due, when it ran (``now()``) and the rows' window."""

    index: int
    scheduled: datetime
    executed: datetime
    start: datetime  # window start, included
    end: datetime  # window end, excluded
    by_ingestion: bool  # NRT: the window is on ingestion time, not TimeGenerated


def runs(settings: RuleSettings, first: datetime, last: datetime) -> list[Run]:
    """Every run of the rule scheduled in ``[first, last)``."""
    if last <= first:
        raise DacError(f"--to {last.isoformat()} is not after --from {first.isoformat()}", Location("--to"))
    nrt = settings.kind == "NRT"
    frequency = NRT_FREQUENCY if nrt else settings.frequency
    period = NRT_FREQUENCY if nrt else settings.period
    delay = NRT_DELAY if nrt else SCHEDULED_DELAY
    assert frequency is not None and period is not None  # settings require both for Scheduled rules
    count = -(-(last - first) // frequency)
    if count > MAX_RUNS:
        raise DacError(f"--from/--to make {count:,} runs at a frequency of {frequency}; at most {MAX_RUNS:,} "
                       "are simulated at once", Location("--to"))
    out = []
    for index in range(count):
        scheduled = first + index * frequency
        out.append(Run(index, scheduled, scheduled + delay, scheduled - period, scheduled, nrt))
    return out
