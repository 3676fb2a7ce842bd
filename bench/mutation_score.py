#!/usr/bin/env python3
"""Mutation score of the generated rule library (bench/rule_library.py's rules): mutants per second.

Rules are scaffolded as bench/rule_library.py makes them (default 1,000 rules, 5 cases each);
then `dac test --mutate`'s analysis (dac.testing.mutation.mutate_rules) runs over the folder in
one process and with -j on every core. Prints mutants, their outcomes, seconds and mutants/s.

Usage: python bench/mutation_score.py [--rules 1000] [--cases 5] [--jobs N]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from rule_library import generate  # noqa: E402

from dac.parallel import default_jobs  # noqa: E402
from dac.testing.mutation import STATUSES, mutate_rules  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=int, default=1000)
    parser.add_argument("--cases", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=default_jobs(), help="workers of the -j run (default: every core)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "detections"
        generate(folder, args.rules, args.cases)
        mutate_rules([str(next(folder.glob("*.yaml")))], jobs=1)  # warm-up: imports and catalogs
        print(f"rules: {args.rules}, cases: {args.rules * args.cases}")
        print(f"{'':>12} {'mutants':>8} " + " ".join(f"{s:>10}" for s in STATUSES) + f" {'seconds':>8} {'mutants/s':>10}")
        for label, jobs in (("one process", 1), (f"-j {args.jobs}", args.jobs)):
            start = time.perf_counter()
            report = mutate_rules([str(folder)], jobs=jobs)
            seconds = time.perf_counter() - start
            counts = " ".join(f"{report.count(s):10d}" for s in STATUSES)
            print(f"{label:>12} {report.mutants:8d} {counts} {seconds:8.2f} {report.mutants / seconds:10.1f}")
        score = report.score
        print(f"library score: {'-' if score is None else f'{score * 100:.1f}%'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
