#!/usr/bin/env python3
"""Parse (and format) every corpus query; print queries per second.

Usage: python bench/parse_corpus.py [--rounds N] [--corpus ../shared/corpus/queries.jsonl]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dac.kql import KqlSyntaxError, parse  # noqa: E402
from dac.kql.formatter import format_query  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpus" / "queries.jsonl"))
    args = parser.parse_args()
    queries = [json.loads(line)["query"] for line in Path(args.corpus).read_text(encoding="utf-8").splitlines() if line]
    rejected = 0
    best_parse = best_format = float("inf")
    for _ in range(args.rounds):
        start = time.perf_counter()
        trees = []
        for text in queries:
            try:
                trees.append(parse(text))
            except KqlSyntaxError:
                rejected += 1
        best_parse = min(best_parse, time.perf_counter() - start)
        start = time.perf_counter()
        for tree in trees:
            format_query(tree)
        best_format = min(best_format, time.perf_counter() - start)
    chars = sum(len(q) for q in queries)
    print(f"queries: {len(queries)} ({chars / 1e6:.2f} MB), rejected per round: {rejected // args.rounds}")
    print(f"parse:  {len(queries) / best_parse:8.0f} queries/s  ({chars / best_parse / 1e6:.2f} MB/s, best of {args.rounds})")
    print(f"format: {len(queries) / best_format:8.0f} queries/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
