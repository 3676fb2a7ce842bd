#!/usr/bin/env python3
"""How many real corpus queries the SQL engines compile, and what they refuse in the rest.

Detection engineers back-test their real rules on DuckDB or Spark: this counts,
over ../shared/corpus/queries.jsonl, the queries dac's binder accepts (on Sentinel,
else on Defender) and, for each SQL dialect, how many of those compile against
that platform's catalog schemas. Compile only: no data is read, so a query that
compiles may still fail at run time on a value it cannot make exact (the compiler
then raises a located error there); a refusal here is certain.

Refusals are grouped by the construct they name (``the function parse_json()``,
``the operator 'lookup'``...), so the top reasons say what to implement next.

    python bench/corpus_engine_share.py [--corpus PATH] [--engines duckdb,spark] [--top 25]
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dac import catalog  # noqa: E402
from dac.engines.compiler import compile_query  # noqa: E402
from dac.engines.physical import EngineRefusal  # noqa: E402
from dac.kql.binder import check_query  # noqa: E402
from dac.kql.errors import KqlError  # noqa: E402
from dac.kql.parser import parse  # noqa: E402

NOW = datetime(2024, 5, 1, 12, 0)


def construct(refusal: EngineRefusal) -> str:
    """The construct a refusal names, with the user's own names blanked where they are not the construct."""
    what = refusal.what
    for prefix in ("the table ", "the let name ", "the let value ", "the name ", "the user function ", "the key "):
        if what.startswith(prefix):
            return prefix + "'…'"
    return re.sub(r"\(line \d+, column \d+\)", "", what)


def platform_of(query: str) -> str | None:
    """The platform whose catalog binds ``query`` clean: Sentinel first, else Defender, else None."""
    for platform in ("sentinel", "defender"):
        if not check_query(query, platform):
            return platform
    return None


def schemas(platform: str) -> dict[str, tuple[tuple[str, str], ...]]:
    return {name: catalog.table_columns(platform, name) or () for name in catalog.known_tables(platform)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpus" / "queries.jsonl"))
    parser.add_argument("--engines", default="duckdb,spark", help="comma-separated dialects to compile for")
    parser.add_argument("--top", type=int, default=25, help="how many refusal reasons to list")
    parser.add_argument("--function", default="", help="also count the queries calling this function (arg_max)")
    args = parser.parse_args()
    corpus = Path(args.corpus)
    if not corpus.exists():
        print(f"no corpus at {corpus}: nothing to measure")
        return 0
    engines = [name.strip() for name in args.engines.split(",") if name.strip()]
    if "spark" in engines:
        import dac.engines.spark_dialect  # noqa: F401 - registers the spark dialect's spellings
    queries = [json.loads(line)["query"] for line in corpus.read_text(encoding="utf-8").splitlines() if line]
    start = time.perf_counter()
    bound = [(text, platform) for text in queries if (platform := platform_of(text)) is not None]
    tables = {platform: schemas(platform) for platform in ("sentinel", "defender")}
    print(f"corpus: {len(queries)} queries, {len(bound)} bind clean "
          f"(sentinel {sum(p == 'sentinel' for _, p in bound)}, defender {sum(p == 'defender' for _, p in bound)})")
    calling = re.compile(rf"\b{re.escape(args.function)}\s*\(") if args.function else None
    for engine in engines:
        compiled, failed = 0, collections.Counter()
        reasons: collections.Counter[str] = collections.Counter()
        with_function = [0, 0]
        for text, platform in bound:
            ok = False
            try:
                compile_query(parse(text), tables[platform], dialect=engine, now=NOW)
                compiled += 1
                ok = True
            except EngineRefusal as refusal:
                reasons[construct(refusal)] += 1
            except KqlError as error:  # the row engine's own error on the empty tables the compiler types with
                failed[type(error).__name__] += 1
            if calling is not None and calling.search(text):
                with_function[0] += 1
                with_function[1] += ok
        total = len(bound)
        print(f"\n{engine}: compiles {compiled} of {total} ({100 * compiled / max(total, 1):.1f}%), "
              f"refuses {sum(reasons.values())}, errors {sum(failed.values())} {dict(failed) or ''}")
        if calling is not None:
            print(f"  calling {args.function}(): {with_function[1]} of {with_function[0]} compile")
        print(f"  top {args.top} refusal reasons (first refusal of each query):")
        for reason, number in reasons.most_common(args.top):
            print(f"    {number:4d}  {reason}")
    print(f"\n({time.perf_counter() - start:.1f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
