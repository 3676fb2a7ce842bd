#!/usr/bin/env python3
"""Run every corpus query over a few generated rows per table; print what share runs.

For each query the platform is the one its tables bind on (Sentinel first, then
Defender); every catalog table it reads gets a few typed rows (seeded, so runs are
comparable). Outcomes: ran, unsupported feature (grouped by feature), semantic error
(the query does not bind on our catalog), runtime limit, or crash (a bug: any other
exception).

Usage: python bench/evaluate_corpus.py [--rows 3] [--corpus ../shared/corpus/queries.jsonl]
"""

from __future__ import annotations

import argparse
import collections
import json
import random
import re
import sys
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dac import catalog  # noqa: E402
from dac.kql import KqlSemanticError, KqlUnsupportedError, evaluate, parse  # noqa: E402
from dac.kql.binder import CatalogTables, bind, tables_read  # noqa: E402
from dac.kql.errors import KqlError  # noqa: E402
from dac.kql.table import Table  # noqa: E402

NOW = datetime(2025, 1, 1)


def value(kind: str, column: str, index: int, rng: random.Random):
    if kind == "string":
        return f"{column}-{rng.randint(0, 2)}"
    if kind in ("int", "long"):
        return rng.randint(0, 5)
    if kind in ("real", "decimal"):
        return rng.random() * 10
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "datetime":
        return NOW - timedelta(hours=rng.randint(0, 72))
    if kind == "timespan":
        return timedelta(minutes=rng.randint(1, 90))
    if kind == "guid":
        return uuid.UUID(int=rng.getrandbits(128))
    return {"Name": f"{column}-{index}", "Values": [index, index + 1]}


def rows_for(platform: str, table: str, count: int, seed: int) -> Table:
    rng = random.Random(f"{seed}:{table}")
    columns = list(catalog.table_columns(platform, table))
    return Table(columns, [tuple(value(kind, name, i, rng) for name, kind in columns) for i in range(count)])


def external_rows(tree, count: int, seed: int) -> dict[str, Table]:
    """Rows for each externaldata URL of the query, typed by the schema it declares."""
    from dac.kql import ast
    from dac.kql.values import normal_type

    found = {}
    for node in tree.walk():
        if isinstance(node, ast.Datatable) and node.values and isinstance(node.values[0], ast.Tabular):
            rng = random.Random(f"{seed}:external")
            columns = [(name, normal_type(kind)) for name, kind in node.columns]
            for url in node.values[0].query.operators[0].args:
                if isinstance(url, ast.Literal) and isinstance(url.value, str):
                    found[url.value] = Table(columns, [tuple(value(k, n, i, rng) for n, k in columns) for i in range(count)])
    return found


def feature(message: str) -> str:
    match = re.search(r"'([^']+)'", message)
    return match.group(1) if match else message


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpus" / "queries.jsonl"))
    parser.add_argument("--rows", type=int, default=3)
    args = parser.parse_args()
    queries = [json.loads(line) for line in Path(args.corpus).read_text(encoding="utf-8").splitlines() if line]
    outcomes: collections.Counter[str] = collections.Counter()
    unsupported: collections.Counter[str] = collections.Counter()
    crashes: list[tuple[str, str]] = []
    start = time.perf_counter()
    for number, query in enumerate(queries):
        tree = parse(query["query"])
        platform = next((p for p in ("sentinel", "defender") if not bind(tree, p).errors), "sentinel")
        tables = {name: rows_for(platform, name, args.rows, number) for name in tables_read(tree, CatalogTables(platform))}
        tables.update(external_rows(tree, args.rows, number))
        try:
            evaluate(tree, tables, now=NOW, max_rows=100_000)
            outcomes["ran"] += 1
        except KqlUnsupportedError as error:
            outcomes["unsupported feature"] += 1
            unsupported[feature(error.message)] += 1
        except KqlSemanticError:
            outcomes["does not bind on our catalog"] += 1
        except KqlError:
            outcomes["runtime limit"] += 1
        except Exception as error:  # noqa: BLE001 - a crash is what this benchmark hunts for
            outcomes["crash"] += 1
            crashes.append((query["id"], f"{type(error).__name__}: {error}"))
    elapsed = time.perf_counter() - start
    total = len(queries)
    print(f"queries: {total}, {args.rows} rows per table, {elapsed:.1f}s ({total / elapsed:.0f} queries/s)")
    for outcome, count in outcomes.most_common():
        print(f"{outcome:<30} {count:5d}  {count / total:6.1%}")
    ok = total - outcomes["unsupported feature"]
    print(f"without an unsupported-feature error: {ok}/{total} ({ok / total:.1%})")
    print("\nunsupported features by count:")
    for name, count in unsupported.most_common():
        print(f"{count:5d}  {name}")
    for query_id, message in crashes[:20]:
        print(f"CRASH {query_id}: {message}")
    return 1 if crashes else 0


if __name__ == "__main__":
    sys.exit(main())
