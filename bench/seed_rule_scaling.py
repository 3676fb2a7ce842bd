#!/usr/bin/env python3
"""The seed rule over 10k, 100k and 1M synthetic UrlClickEvents rows: ours against DuckDB.

Both engines get the same rows; DuckDB runs hand-written SQL equivalent to the KQL
(whole-term `has` as a regex on word boundaries, Kusto's null rule for `!=`). Load
time is excluded for both; each size runs in a fresh process so peak memory (max
RSS) is that size's own. Ratios are measured side by side in one run.

Usage: python bench/seed_rule_scaling.py [--sizes 10000 100000 1000000] (needs duckdb: pip install duckdb)
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

QUERY = """UrlClickEvents
| where ActionType == "ClickAllowed" or IsClickedThrough !="0"
| where ThreatTypes has "Phish"
| summarize by ReportId, IsClickedThrough, AccountUpn, NetworkMessageId, ThreatTypes"""

SQL = """SELECT DISTINCT ReportId, IsClickedThrough, AccountUpn, NetworkMessageId, ThreatTypes FROM clicks
WHERE (ActionType = 'ClickAllowed' OR IsClickedThrough IS DISTINCT FROM false)
  AND regexp_matches(lower(ThreatTypes), '(^|[^a-z0-9])phish($|[^a-z0-9])')"""

ACTIONS = ["ClickAllowed", "ClickBlocked", "ClickBlockedByTenantPolicy", "UrlScanInProgress"]
THREATS = ["Phish", "Malware", "Spam", "Phish,Malware", "Phishing", ""]


def rows(count: int, seed: int = 7) -> list[tuple]:
    rng = random.Random(seed)
    start = datetime(2025, 1, 1)
    users = [f"user{i}@contoso.com" for i in range(2000)]
    out = []
    for i in range(count):
        out.append((start - timedelta(seconds=i), f"https://site{rng.randint(0, 500)}.example/p", rng.choice(ACTIONS),
                    rng.choice(users), "Email", f"msg-{rng.randint(0, count // 3)}", rng.choice(THREATS), "URL detonation",
                    f"203.0.113.{rng.randint(1, 254)}", rng.random() < 0.3, "", f"r-{rng.randint(0, count // 2)}"))
    return out


def measure(count: int) -> dict:
    from dac import catalog
    from dac.kql import evaluate
    from dac.kql.table import Table

    data = rows(count)
    columns = list(catalog.table_columns("defender", "UrlClickEvents"))
    table = Table(columns, data)
    start = time.perf_counter()
    ours = evaluate(QUERY, {"UrlClickEvents": table}, now=datetime(2025, 1, 1), as_table=True, max_rows=10 * count)
    ours_seconds = time.perf_counter() - start
    result = {"rows": count, "ours_s": ours_seconds, "ours_out": len(ours.rows),
              "ours_keys": sorted(_key(row) for row in ours.rows),
              "ours_peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    try:
        import duckdb
    except ImportError:
        return result
    connection = duckdb.connect()
    names = ", ".join(f"{name} {'TIMESTAMP' if kind == 'datetime' else 'BOOLEAN' if kind == 'bool' else 'VARCHAR'}"
                      for name, kind in columns)
    connection.execute(f"CREATE TABLE clicks ({names})")
    _bulk_load(connection, columns, data)
    start = time.perf_counter()
    duck = connection.execute(SQL).fetchall()
    result.update(duckdb_s=time.perf_counter() - start, duckdb_out=len(duck), duckdb_keys=sorted(_key(row) for row in duck))
    return result


def _key(row: tuple) -> str:
    """A row as comparable text: both engines' result rows as sets, bools spelled alike."""
    return json.dumps([str(v).lower() if isinstance(v, bool) else str(v) for v in row])


def _bulk_load(connection, columns, data) -> None:
    """Load through a temporary JSON-lines file: the fastest path without extra packages."""
    import tempfile

    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as handle:
        for row in data:
            handle.write(json.dumps(dict(zip([c for c, _ in columns], row)), default=str) + "\n")
    connection.execute(f"INSERT INTO clicks SELECT * FROM read_json_auto('{handle.name}')")
    Path(handle.name).unlink()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one)))
        return 0
    print(f"{'rows':>9} {'ours s':>8} {'duckdb s':>9} {'ratio':>7} {'ours rows/s':>12} {'ours us/row':>11} "
          f"{'peak MiB':>9} {'same result':>11}")
    for size in args.sizes:
        done = subprocess.run([sys.executable, __file__, "--one", str(size)], capture_output=True, text=True, check=True)
        r = json.loads(done.stdout)
        duck = r.get("duckdb_s")
        ratio = f"{r['ours_s'] / duck:7.1f}" if duck else "    n/a"
        same = "yes" if r.get("duckdb_keys") == r["ours_keys"] else f"{r['ours_out']} vs {r.get('duckdb_out')}"
        print(f"{size:>9} {r['ours_s']:8.3f} {duck if duck else float('nan'):9.3f} {ratio} {size / r['ours_s']:12.0f} "
              f"{r['ours_s'] / size * 1e6:11.2f} "
              f"{r['ours_peak_mib']:9.0f} {same:>11}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
