#!/usr/bin/env python3
"""Run every Kusto documentation example and compare it with its documented output; print the counts.

Outcomes: agree, differ (the result is not the documented one), refused (a
feature the evaluator refuses: KqlUnsupportedError) and error (any other
error). The agreement share counts the examples that are not refused. Each
disagreement and error is shown with its verdict from
tests/data/doc_examples_verdicts.yaml, or as unclassified.

Usage: python bench/doc_examples.py [-v] [--errors] [--refused] [-k TEXT] [--corpus PATH]
"""

from __future__ import annotations

import argparse
import collections
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import doc_examples as D  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="list each disagreement with both outputs")
    parser.add_argument("--errors", action="store_true", help="list each error")
    parser.add_argument("--refused", action="store_true", help="count the refusals by message")
    parser.add_argument("-k", default="", help="only the examples whose id contains this text")
    parser.add_argument("--corpus", type=Path, default=D.CORPUS)
    args = parser.parse_args()
    if not args.corpus.is_file():
        print(f"no corpus at {args.corpus}", file=sys.stderr)
        return 2
    examples = [e for e in D.load_examples(args.corpus) if args.k in e["id"]]
    verdicts = D.load_verdicts().get("verdicts", {}) if D.VERDICTS.is_file() else {}
    started = time.perf_counter()
    outcomes = D.run_all(examples)
    elapsed = time.perf_counter() - started

    for outcome in outcomes:
        verdict = verdicts.get(outcome.id, {}).get("verdict", "UNCLASSIFIED")
        if outcome.status == D.DIFFER and args.verbose:
            print(f"DIFFER {outcome.id} [{verdict}] {outcome.example['url']}")
            print(f"  {outcome.detail}")
            print(f"  documented {outcome.example['columns']}")
            for row in outcome.example["rows"][:12]:
                print(f"    {[_short(cell) for cell in row]}")
            table = outcome.table
            assert table is not None
            print(f"  actual {table.columns}")
            for row in table.rows[:12]:
                print(f"    {[_short(cell) for cell in D.show_row(tuple(row), [kind for _, kind in table.columns])]}")
        elif outcome.status == D.ERROR and (args.errors or args.verbose):
            print(f"ERROR {outcome.id} [{verdict}] {outcome.detail[:300]}")
    if args.refused:
        reasons = collections.Counter(o.detail.split(": ", 1)[-1][:90] for o in outcomes if o.status == D.REFUSED)
        for reason, count in reasons.most_common():
            print(f"{count:5d}  {reason}")

    counts = collections.Counter(o.status for o in outcomes)
    agreeing, judged = D.agreement(outcomes)
    classified = collections.Counter(verdicts.get(o.id, {}).get("verdict", "unclassified")
                                     for o in outcomes if o.status in (D.DIFFER, D.ERROR))
    print(f"{len(outcomes)} examples in {elapsed:.1f} s: agree {counts[D.AGREE]}, differ {counts[D.DIFFER]}, "
          f"refused {counts[D.REFUSED]}, error {counts[D.ERROR]}")
    share = 100.0 * agreeing / judged if judged else 0.0
    print(f"agreement among the {judged} examples not refused: {agreeing} ({share:.1f}%)")
    print("disagreements and errors by verdict: " + ", ".join(f"{k} {v}" for k, v in sorted(classified.items())))
    slowest = sorted(outcomes, key=lambda o: o.seconds, reverse=True)[:3]
    print("slowest: " + ", ".join(f"{o.id} {o.seconds:.2f} s" for o in slowest))
    return 0


def _short(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} characters)"


if __name__ == "__main__":
    sys.exit(main())
