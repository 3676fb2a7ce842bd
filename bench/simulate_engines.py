#!/usr/bin/env python3
"""``dac simulate`` over files, 30 days at a 5-minute frequency (8,640 runs), per engine side by side.

Issue 18's bar: 8,640 runs over 10M rows in under a minute on the duckdb engine, which takes
computing the windows in one pass rather than 8,640 queries. The rule is the seed rule's
filter as a Scheduled rule (queryFrequency 5m, queryPeriod 1h, so each row is in 12
windows), grouped by account so that each run alerts per clicking user.

Data: N UrlClickEvents rows spread evenly over the 30 days, written by DuckDB itself
(seeded: the same rows each run) as Parquet and as JSON lines into a temporary folder that is
deleted afterwards. About one row in 150 is a phish click through, so a run sees a handful of
them, as a detection's runs do. Each simulation runs as a user runs it, `dac simulate ... --format
json` in a child process; printed: wall time, the child's max RSS, runs, alerts and incidents,
and whether the engines' alerts agree.

Usage: python bench/simulate_engines.py [--rows 1000000 10000000] [--python-rows 1000000]
(--python-rows: the largest size also simulated on the python engine, from JSON lines; default 1M)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DAC = [sys.executable, "-m", "dac"]

sys.path.insert(0, str(ROOT / "bench"))
from simulate import rule_text  # noqa: E402  (the same rule settings as bench/simulate.py)

RULE = rule_text("User clicked through a phish", """UrlClickEvents
| where ActionType == "ClickAllowed" or IsClickedThrough
| where ThreatTypes has "Phish"
| summarize Clicks = count(), Urls = dcount(Url) by AccountUpn""")
START = "2025-01-01T00:00:00Z"
END = "2025-01-31T00:00:00Z"
CLICKS = """SELECT TIMESTAMP '2025-01-01' + to_microseconds((i * {step})::BIGINT) AS TimeGenerated,
  ['ClickAllowed', 'ClickBlocked', 'ClickBlockedByTenantPolicy', 'UrlScanInProgress'][1 + (hash(i, 2) % 1000000007)::BIGINT % 4] AS ActionType,
  'user' || ((hash(i, 3) % 1000000007)::BIGINT % 2000) || '@contoso.com' AS AccountUpn,
  CASE WHEN (hash(i, 5) % 1000000007)::BIGINT % 100 = 0 THEN 'Phish' ELSE ['Malware', 'Spam', ''][1 + (hash(i, 6) % 1000000007)::BIGINT % 3] END AS ThreatTypes,
  (hash(i, 7) % 1000000007)::BIGINT % 10 < 3 AS IsClickedThrough,
  'https://site' || ((hash(i, 1) % 1000000007)::BIGINT % 500) || '.example/p' AS Url,
  'msg-' || ((hash(i, 4) % 1000000007)::BIGINT % 1000000) AS NetworkMessageId, 'r-' || i AS ReportId
FROM range({rows}) t(i)"""


LAUNCH = """
import json, os, subprocess, sys, time
with open(sys.argv[1], "wb") as handle:
    started = time.perf_counter()
    child = subprocess.Popen(sys.argv[2:], stdout=handle, stderr=subprocess.PIPE)
    error = child.stderr.read().decode()
    _, status, usage = os.wait4(child.pid, 0)
if os.waitstatus_to_exitcode(status) != 0:
    sys.exit(error)
print(json.dumps([time.perf_counter() - started, usage.ru_maxrss / 1024]))
"""


def generate(folder: Path, rows: int) -> dict[str, Path]:
    """The rows as Parquet and as JSON lines (datetimes written as Kusto writes them)."""
    import duckdb

    connection = duckdb.connect()
    step = 30 * 86400 * 1_000_000 // rows
    parquet, jsonl = folder / "UrlClickEvents.parquet", folder / "UrlClickEvents.jsonl"
    connection.execute(f"COPY ({CLICKS.format(rows=rows, step=step)}) TO '{parquet}' (FORMAT parquet)")
    connection.execute(f"COPY (SELECT * REPLACE (strftime(TimeGenerated, '%Y-%m-%dT%H:%M:%S.%f0Z') AS TimeGenerated)"
                       f" FROM '{parquet}') TO '{jsonl}' (FORMAT json)")
    return {"parquet": parquet, "jsonl": jsonl}


def simulate(rule: Path, data: Path, engine: str) -> tuple[float, float, dict]:
    """(seconds, peak MiB, JSON document) of one `dac simulate` in a child process."""
    argv = [*DAC, "simulate", str(rule), "--data", str(data), "--from", START, "--to", END, "--engine", engine,
            "--format", "json"]
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        # started by a small launcher: a forked child's max RSS starts at its parent's size
        done = subprocess.run([sys.executable, "-c", LAUNCH, out.name, *argv], capture_output=True, text=True,
                              cwd=ROOT)
        if done.returncode != 0:
            raise SystemExit(f"dac simulate --engine {engine} failed: {done.stderr.strip()}")
        seconds, peak = json.loads(done.stdout)
        return seconds, peak, json.loads(Path(out.name).read_text(encoding="utf-8"))


def _alerts(document: dict) -> list:
    return [(a["time"], a["entities"]) for a in document["alerts"]]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", nargs="+", type=int, default=[1_000_000])
    parser.add_argument("--python-rows", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        rule = Path(folder) / "rule.yaml"
        rule.write_text(RULE, encoding="utf-8")
        for rows in args.rows:
            files = generate(Path(folder), rows)
            runs = []
            for engine, kind in (("duckdb", "parquet"), ("duckdb", "jsonl"), ("python", "jsonl")):
                if engine == "python" and rows > args.python_rows:
                    continue
                seconds, peak, document = simulate(rule, files[kind], engine)
                totals = document["totals"]
                runs.append((engine, document))
                print(f"{rows:>11,} rows {kind:>7} {engine:>6} ({document['plan']}): {seconds:6.1f} s, "
                      f"{peak:7.0f} MiB, {totals['runs']:,} runs, {totals['alerts']:,} alerts, "
                      f"{totals['incidents']:,} incidents", flush=True)
            same = all(_alerts(document) == _alerts(runs[0][1]) for _, document in runs)
            print(f"{rows:>11,} rows: the engines' alerts {'agree' if same else 'DIFFER'}")
            for path in files.values():
                path.unlink()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
