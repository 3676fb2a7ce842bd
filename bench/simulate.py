#!/usr/bin/env python3
"""``dac simulate`` on the python engine: 30 days at a 5-minute frequency (8,640 runs) of the seed rule.

The seed rule's query runs as a Scheduled rule (queryFrequency 5m, queryPeriod 1h: each row is in 12 windows; alert per
result) over N generated UrlClickEvents rows spread evenly over the 30 days, held in memory
(reading files is ``dac run``'s cost, measured by bench/seed_rule_scaling.py), once per run
(the whole query over each run's window) and once in one pass (``dac.kql.window_split``:
the filters once over all rows, the summarize per window). Printed: the time of the 8,640
runs, runs per second, the alerts made, and the ratio of the two plans. The issue's bar (under a minute over 10M rows) is for the duckdb engine's
one-pass plan; this is the python engine's figure.

Usage: python bench/simulate.py [--rows 100000 1000000]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SEED_QUERY = """UrlClickEvents
| where ActionType == "ClickAllowed" or IsClickedThrough != "0"
| where ThreatTypes has "Phish"
| summarize by ReportId, IsClickedThrough, AccountUpn, NetworkMessageId, ThreatTypes"""


def rule_text(name: str, query: str) -> str:
    """A Scheduled rule every 5 minutes over the hour before, an alert per result by account, incidents
    grouped over 5 hours (shared with bench/simulate_engines.py)."""
    body = "".join(f"  {line}\n" for line in query.splitlines())
    return f"""id: 6a1c2f4e-0c4d-4b8e-9a53-1f2e3d4c5b6a
name: {name}
description: a Scheduled rule for the simulation benchmarks
severity: Medium
kind: Scheduled
queryFrequency: 5m
queryPeriod: 1h
triggerOperator: gt
triggerThreshold: 0
query: |
{body}entityMappings:
  - entityType: Account
    fieldMappings:
      - identifier: FullName
        columnName: AccountUpn
eventGroupingSettings:
  aggregationKind: AlertPerResult
incidentConfiguration:
  createIncident: true
  groupingConfiguration:
    enabled: true
    lookbackDuration: 5h
    matchingMethod: AllEntities
version: 1.0.0
"""


RULE = rule_text("User clicked through events", SEED_QUERY)
START = datetime(2025, 1, 1)
DAYS = 30
ACTIONS = ["ClickAllowed", "ClickBlocked", "ClickBlockedByTenantPolicy", "UrlScanInProgress"]
THREATS = ["Phish", "Malware", "Spam", "Phish,Malware", "Phishing", ""]


def rows(count: int, columns: list[tuple[str, str]], seed: int = 7) -> list[tuple]:
    rng = random.Random(seed)
    users = [f"user{i}@contoso.com" for i in range(2000)]
    step = DAYS * 86400 / count
    names = [name for name, _ in columns]
    out = []
    for i in range(count):
        values = {"TimeGenerated": START + timedelta(seconds=i * step), "ActionType": rng.choice(ACTIONS),
                  "AccountUpn": rng.choice(users), "NetworkMessageId": f"msg-{rng.randint(0, count // 3)}",
                  "ThreatTypes": rng.choice(THREATS), "IsClickedThrough": rng.random() < 0.3,
                  "ReportId": f"r-{i}", "Url": f"https://site{rng.randint(0, 500)}.example/p"}
        out.append(tuple(values.get(name, "" if kind == "string" else None) for name, kind in columns))
    return out


def measure(count: int) -> None:
    """The same simulation per run (the whole query over each window) and in one pass, side by side."""
    from dac import catalog
    from dac.kql.table import Table
    from dac.rules.model import load_rule
    from dac.simulate import execute, simulate

    columns = list(catalog.table_columns("sentinel", "UrlClickEvents"))
    table = Table(columns, rows(count, columns))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "rule.yaml"
        path.write_text(RULE, encoding="utf-8")
        rule = load_rule(path)
    split = execute.split
    figures = {}
    for plan in ("per run", "one pass"):
        execute.split = split if plan == "one pass" else (lambda *args: None)
        started = time.perf_counter()
        simulation = simulate(rule, {"UrlClickEvents": table}, START, START + timedelta(days=DAYS))
        figures[plan] = seconds = time.perf_counter() - started
        runs = len(simulation.outcomes)
        print(f"{count:>10,} rows, {plan:>8}: {runs:,} runs in {seconds:.1f}s ({runs / seconds:,.0f} runs/s), "
              f"{len(simulation.alerts):,} alerts, {len(simulation.incidents):,} incidents")
    execute.split = split
    print(f"{count:>10,} rows: one pass takes {figures['one pass'] / figures['per run']:.2f}x the per-run time")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", nargs="+", type=int, default=[100_000])
    for count in parser.parse_args().rows:
        measure(count)


if __name__ == "__main__":
    main()
