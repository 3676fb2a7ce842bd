#!/usr/bin/env python3
"""Validate every corpus query against the table catalog; print the clean share and top findings.

Each query is bound on both platforms (Sentinel/Log Analytics and Defender advanced
hunting); it counts as clean when it binds clean on at least one. Where the corpus
records what the official Kusto binder reported against the Log Analytics catalog,
the verdicts are compared on Sentinel.

Usage: python bench/validate_corpus.py [--corpus ../shared/corpus/queries.jsonl]
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dac.kql.binder import check_query  # noqa: E402


def shape(message: str) -> str:
    """A finding with its names blanked, so counts group findings of one kind."""
    return re.sub(r"'[^']*'", "'…'", message)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpus" / "queries.jsonl"))
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    queries = [json.loads(line) for line in Path(args.corpus).read_text(encoding="utf-8").splitlines() if line]
    start = time.perf_counter()
    clean = {"sentinel": 0, "defender": 0, "either": 0}
    agree = 0
    findings: collections.Counter[str] = collections.Counter()
    for query in queries:
        verdicts = {}
        for platform in ("sentinel", "defender"):
            errors = check_query(query["query"], platform)
            verdicts[platform] = errors
            clean[platform] += not errors
        clean["either"] += not verdicts["sentinel"] or not verdicts["defender"]
        agree += (not verdicts["sentinel"]) == (not query.get("oracle_errors_vs_log_analytics"))
        best = min(verdicts.values(), key=len)
        for error in best:
            findings[shape(error.message)] += 1
    elapsed = time.perf_counter() - start
    total = len(queries)
    print(f"queries: {total}, bound twice each in {elapsed:.1f}s ({2 * total / elapsed:.0f} bindings/s)")
    for key, value in clean.items():
        print(f"clean on {key:<8} {value:5d}  {value / total:6.1%}")
    print(f"Sentinel verdict agrees with the official binder: {agree}/{total} ({agree / total:.1%})")
    print(f"\nmost common findings (on the platform with fewer):")
    for message, count in findings.most_common(args.top):
        print(f"{count:5d}  {message}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
