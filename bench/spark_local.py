#!/usr/bin/env python3
"""The seed rule over generated UrlClickEvents JSON lines: --engine spark on local[*] beside DuckDB and python.

The same file feeds three engines in one run: Spark (``dac.engines.spark_engine.run``, its
readers typing the file by the catalog), DuckDB running hand-written SQL over ``read_json``
with the same column types (the bar the SQL engines are held to), and the python engine
(``dac run``'s path: ``dac.backtest`` reading the file in chunks). Wall times include
reading the file; Spark's session start is shown apart, since a process pays it once, and so is its first run (code generation and JIT), then a second run of the same query.
The three results must be the same set of rows.

Usage: python bench/spark_local.py [--rows 1000000] [--master local[*]] [--skip-python]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from seed_rule_scaling import rows  # noqa: E402 - the seed rule's generated rows

# The seed rule with IsClickedThrough compared to a bool (the original's != "0" compares a bool with
# a string, which the compiler refuses), as bench/duckdb_engine_scaling.py runs it.
QUERY = """UrlClickEvents
| where ActionType == "ClickAllowed" or IsClickedThrough != false
| where ThreatTypes has "Phish"
| summarize by ReportId, IsClickedThrough, AccountUpn, NetworkMessageId, ThreatTypes"""

NOW = datetime(2025, 1, 1)
COLUMNS_SQL = {"datetime": "TIMESTAMP", "bool": "BOOLEAN", "string": "VARCHAR"}
HAND_SQL = """SELECT DISTINCT ReportId, IsClickedThrough, AccountUpn, NetworkMessageId, ThreatTypes
FROM read_json('{path}', format='newline_delimited', columns={columns})
WHERE (ActionType = 'ClickAllowed' OR IsClickedThrough IS DISTINCT FROM false)
  AND regexp_matches(lower(ThreatTypes), '(^|[^a-z0-9])phish($|[^a-z0-9])')"""


def write_file(path: Path, count: int, columns: list[tuple[str, str]]) -> None:
    names = [name for name, _ in columns]
    with path.open("w", encoding="utf-8") as handle:
        for row in rows(count):
            record = dict(zip(names, row))
            record["Timestamp"] = record["Timestamp"].isoformat() + "Z"
            handle.write(json.dumps(record) + "\n")


def key(row: tuple) -> str:
    return json.dumps([str(value).lower() if isinstance(value, bool) else str(value) for value in row])


def spark(path: Path, columns: list[tuple[str, str]], master: str) -> tuple[float, float, float, set[str]]:
    """Session start, the first run (Spark generates and compiles its code then) and a second run."""
    from dac.engines.sources import FileSource
    from dac.engines.spark_engine import run
    from dac.engines.spark_session import spark_session
    from dac.kql import parse

    start = time.perf_counter()
    spark_session(master)
    started = time.perf_counter() - start
    times = []
    for _ in range(2):
        start = time.perf_counter()
        result = run(parse(QUERY), {"UrlClickEvents": FileSource(tuple(columns), (str(path),), "jsonl")}, now=NOW)
        times.append(time.perf_counter() - start)
    return started, times[0], times[1], {key(row) for row in result.rows}


def duckdb_hand(path: Path, columns: list[tuple[str, str]]) -> tuple[float, set[str]]:
    import duckdb

    types = "{" + ", ".join(f"'{name}': '{COLUMNS_SQL[kind]}'" for name, kind in columns) + "}"
    connection = duckdb.connect(config={"threads": 2})
    start = time.perf_counter()
    result = connection.execute(HAND_SQL.format(path=path, columns=types)).fetchall()
    return time.perf_counter() - start, {key(row) for row in result}


def python_engine(path: Path) -> tuple[float, set[str]]:
    from dac.backtest import file_tables
    from dac.kql import evaluate

    start = time.perf_counter()
    tables = file_tables([f"UrlClickEvents={path}"], "defender")
    result = evaluate(QUERY, tables, now=NOW, as_table=True)
    return time.perf_counter() - start, {key(row) for row in result.rows}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--master", default="local[*]")
    parser.add_argument("--skip-python", action="store_true", help="leave out the python engine (the slowest)")
    args = parser.parse_args()
    from dac import catalog

    columns = list(catalog.table_columns("defender", "UrlClickEvents"))
    with tempfile.TemporaryDirectory(prefix="dac-bench-spark-") as folder:
        path = Path(folder) / "UrlClickEvents.jsonl"
        write_file(path, args.rows, columns)
        size = path.stat().st_size / 1e6
        started, first_s, spark_s, spark_rows = spark(path, columns, args.master)
        duck_s, duck_rows = duckdb_hand(path, columns)
        print(f"seed rule over {args.rows:,} UrlClickEvents rows ({size:,.0f} MB of JSON lines), {args.master}")
        print(f"{'engine':<28} {'wall s':>8} {'vs duckdb':>10} {'rows out':>9} {'same rows':>10}")
        print(f"{'spark session start':<28} {started:8.2f}")
        print(f"{'spark first run':<28} {first_s:8.2f} {first_s / duck_s:9.1f}x")
        print(f"{'spark (read + query)':<28} {spark_s:8.2f} {spark_s / duck_s:9.1f}x {len(spark_rows):9} "
              f"{'yes' if spark_rows == duck_rows else 'NO':>10}")
        print(f"{'duckdb hand SQL':<28} {duck_s:8.2f} {1:9.1f}x {len(duck_rows):9} {'-':>10}")
        if not args.skip_python:
            python_s, python_rows = python_engine(path)
            print(f"{'python engine (dac run)':<28} {python_s:8.2f} {python_s / duck_s:9.1f}x {len(python_rows):9} "
                  f"{'yes' if python_rows == duck_rows else 'NO':>10}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
