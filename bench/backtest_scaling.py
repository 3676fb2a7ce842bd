#!/usr/bin/env python3
"""`dac run` of the seed rule over JSON-lines files of 10k, 100k and 1M rows, against DuckDB.

Back-testing reads the file as part of the job, so both sides are timed from the file:
ours streams it through the rule's filters chunk by chunk (dac.backtest), DuckDB
runs the hand-written SQL of bench/seed_rule_scaling.py over read_json() of the same
file. Each size runs in a fresh process so peak memory (max RSS) is that size's own;
the rows both return are compared as sets.

Usage: python bench/backtest_scaling.py [--sizes 10000 100000 1000000] (DuckDB: pip install -e '.[bench]')
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from seed_rule_scaling import QUERY, SQL, rows  # noqa: E402


def write_file(count: int, folder: Path) -> None:
    from dac import catalog
    from dac.kql import values as V

    names = [name for name, _ in catalog.table_columns("defender", "UrlClickEvents")]
    path = folder / "UrlClickEvents.jsonl"
    with open(path, "w", encoding="utf-8") as handle:
        for row in rows(count):
            handle.write(V.to_json_text(dict(zip(names, row))) + "\n")


def _key(row: tuple) -> str:
    return json.dumps([str(v).lower() if isinstance(v, bool) else str(v) for v in row])


def ours(path: Path) -> dict:
    from dac.backtest import file_tables
    from dac.kql import evaluate

    start = time.perf_counter()
    tables = file_tables([str(path)], "defender")
    result = evaluate(QUERY, tables, now=datetime(2025, 1, 1), as_table=True)
    seconds = time.perf_counter() - start
    keys = sorted(_key(row) for row in result.rows)
    return {"s": seconds, "rows": len(result.rows), "keys": keys,
            "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def duck(path: Path) -> dict:
    import duckdb

    connection = duckdb.connect()
    start = time.perf_counter()
    connection.execute(f"CREATE VIEW clicks AS SELECT * FROM read_json('{path}', format='newline_delimited')")
    found = connection.execute(SQL).fetchall()
    seconds = time.perf_counter() - start
    keys = sorted(_key(row) for row in found)
    return {"s": seconds, "rows": len(found), "keys": keys,
            "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--write", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.write:
        write_file(int(args.write[0]), Path(args.write[1]))
        return 0
    if args.one:
        engine, path = args.one
        print(json.dumps((ours if engine == "ours" else duck)(Path(path))))
        return 0
    print(f"{'rows':>9} {'MiB':>6} {'ours s':>8} {'duckdb s':>9} {'ratio':>6} {'ours rows/s':>12} "
          f"{'ours peak':>10} {'duck peak':>10} {'same rows':>9}")
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as folder:
            # written by a child process: Linux keeps a process's peak RSS across exec, so the
            # measuring children must not be forked from a parent that held the rows
            path = Path(folder) / "UrlClickEvents.jsonl"
            subprocess.run([sys.executable, __file__, "--write", str(size), folder], check=True)
            results = {}
            for engine in ("ours", "duckdb"):
                done = subprocess.run([sys.executable, __file__, "--one", engine, str(path)],
                                      capture_output=True, text=True)
                results[engine] = json.loads(done.stdout) if done.returncode == 0 else None
            mib = path.stat().st_size / 2**20
        mine, theirs = results["ours"], results["duckdb"]
        if theirs is None:
            print(f"{size:>9} {mib:6.0f} {mine['s']:8.2f} {'n/a':>9} {'n/a':>6} {size / mine['s']:12.0f} "
                  f"{mine['peak_mib']:9.0f}M {'n/a':>10} {'n/a':>9}")
            continue
        same = "yes" if mine["keys"] == theirs["keys"] else f"{mine['rows']}/{theirs['rows']}"
        print(f"{size:>9} {mib:6.0f} {mine['s']:8.2f} {theirs['s']:9.2f} {mine['s'] / theirs['s']:6.1f} "
              f"{size / mine['s']:12.0f} {mine['peak_mib']:9.0f}M {theirs['peak_mib']:9.0f}M {same:>9}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
