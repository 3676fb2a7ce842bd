"""How many conformance cases and Kusto doc examples each SQL engine runs, and why it refuses the rest.

Only queries the python engine runs are counted (they are the ones an engine could
agree on). For each engine: agreeing, refused, and any disagreement or failure (there
should be none: tests/test_engine_differential.py fails on them), then the most
common refusal reasons. Spark is counted when pyspark imports and a JDK is found,
otherwise the script says why not.

    python bench/engine_share.py [--top N] [--engines duckdb,spark]
"""

from __future__ import annotations

import argparse
import collections
import importlib.util
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import engine_differential as E  # noqa: E402 - the tests folder is on the path now


def spark_engine() -> tuple[object | None, str]:
    """Spark's run() if it can run here, else None and why."""
    if importlib.util.find_spec("pyspark") is None:
        return None, "pyspark is not installed (pip install dac[spark])"
    if shutil.which("java") is None:
        return None, "no JDK found (java is not on PATH)"
    if importlib.util.find_spec("dac.engines.spark_engine") is None:
        return None, "dac.engines.spark_engine is not part of this build yet"
    from dac.engines.spark_engine import run

    return run, ""


def share(name: str, engine: object, top: int) -> None:
    counts: dict[str, collections.Counter] = {"conformance": collections.Counter(), "doc": collections.Counter()}
    reasons: collections.Counter = collections.Counter()
    for item, verdict in E.judged(iter(list(E.conformance_items()) + list(E.doc_items())), engine):
        counts[item.id.split("/")[0]][verdict.status] += 1
        if verdict.status == E.REFUSED:
            reasons[E.refusal_reason(verdict.detail)] += 1
        elif verdict.status != E.AGREE:
            print(f"  {verdict.status}: {item.id}: {verdict.detail[:200]}")
    print(f"{name}:")
    for kind, counter in counts.items():
        total = sum(counter.values())
        if total:
            runs = counter[E.AGREE]
            print(f"  {kind}: runs {runs} of {total} ({100 * runs / total:.0f}%), refuses {counter[E.REFUSED]}, "
                  f"differs {counter[E.DIFFER]}, fails {counter[E.FAILED]}")
    print("  top refusal reasons:")
    for reason, number in reasons.most_common(top):
        print(f"    {number:4d}  {reason}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--top", type=int, default=15, help="how many refusal reasons to list")
    parser.add_argument("--engines", default="duckdb,spark", help="comma-separated engines (Spark takes ~10 min)")
    args = parser.parse_args()
    engines = {name.strip() for name in args.engines.split(",")}
    from dac.engines.duckdb_engine import run

    if "duckdb" in engines:
        share("duckdb", run, args.top)
    if "spark" not in engines:
        return
    spark, why = spark_engine()
    if spark is None:
        print(f"spark: not measured: {why}")
    else:
        share("spark", spark, args.top)


if __name__ == "__main__":
    main()
