#!/usr/bin/env python3
"""evaluate() over 200k generated dict rows against DuckDB on the same dicts, ingestion included.

A Python caller holding dict rows hands them to ``evaluate()`` as they are; the rows are
typed on the way in (``Table.from_dicts``), so that cost is part of the query's. DuckDB
cannot read Python dicts itself: its fastest route for them is an Arrow table
(``pyarrow.Table.from_pylist``, which DuckDB then scans without copying), so its side is
timed from the dicts too. Both run the same filter and aggregation; the results are
compared. Side by side in one run, best of ``--repeat``.

Usage: python bench/dict_ingestion.py [--rows 200000] [--repeat 3] (needs duckdb and pyarrow: the dev extras)
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

NOW = datetime(2025, 1, 2)
QUERY = """Events
| where ActionType == "Allowed" and Timestamp > ago(1d) and Bytes > 100
| summarize n = count(), total = sum(Bytes), seen = sum(toint(Flagged)) by Account"""
SQL = """SELECT Account, count(*) AS n, sum(Bytes) AS total, sum(CAST(Flagged AS INTEGER)) AS seen FROM events
WHERE ActionType = 'Allowed' AND "Timestamp" > TIMESTAMP '2025-01-01 00:00:00' AND Bytes > 100 GROUP BY Account"""


def rows(count: int, seed: int = 11) -> list[dict]:
    """Dict rows whose values already are their columns' Python types (as a caller's usually are)."""
    rng = random.Random(seed)
    accounts = [f"user{i}@contoso.com" for i in range(500)]
    actions = ["Allowed", "Blocked", "Audited"]
    return [{"Timestamp": NOW - timedelta(seconds=i), "Account": rng.choice(accounts),
             "ActionType": rng.choice(actions), "Bytes": rng.randint(0, 10_000), "Score": rng.random(),
             "Flagged": rng.random() < 0.2, "DeviceName": f"host-{rng.randint(0, 999)}"}
            for i in range(count)]


def ours(data: list[dict]) -> tuple[float, float, set]:
    from dac.kql import evaluate
    from dac.kql.table import Table

    start = time.perf_counter()
    table = Table.from_dicts(data)
    typed = time.perf_counter()
    result = evaluate(QUERY, {"Events": table}, now=NOW, as_table=True, max_rows=10 * len(data))
    done = time.perf_counter()
    return done - start, typed - start, {tuple(row) for row in result.rows}


def duck(data: list[dict]) -> tuple[float, set]:
    import duckdb
    import pyarrow

    start = time.perf_counter()
    events = pyarrow.Table.from_pylist(data)  # noqa: F841 - DuckDB reads the local variable by name
    result = duckdb.connect().execute(SQL).fetchall()
    return time.perf_counter() - start, {tuple(row) for row in result}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    data = rows(args.rows)
    best_ours = best_typed = best_duck = float("inf")
    ours_result = duck_result = None
    for _ in range(args.repeat):
        total, typed, ours_result = ours(data)
        best_ours, best_typed = min(best_ours, total), min(best_typed, typed)
        seconds, duck_result = duck(data)
        best_duck = min(best_duck, seconds)
    print(f"{'rows':>8} {'ours s':>8} {'typing s':>9} {'duckdb s':>9} {'ratio':>6} {'same result':>11}")
    print(f"{args.rows:>8} {best_ours:8.3f} {best_typed:9.3f} {best_duck:9.3f} {best_ours / best_duck:6.1f} "
          f"{'yes' if ours_result == duck_result else 'NO':>11}")
    return 0 if ours_result == duck_result else 1


if __name__ == "__main__":
    sys.exit(main())
