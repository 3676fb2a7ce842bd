#!/usr/bin/env python3
"""Validate and test a library of generated rules (default 1,000 rules, 5 cases each).

Rules are scaffolded with `dac new` over catalog tables (hunting, Scheduled and NRT in
turn), each test file padded to 5 cases; then `validate_paths` and `run_tests` run over
the whole folder as CI would, in one process and on every core, side by side.

Usage: python bench/rule_library.py [--rules 1000] [--cases 5]
"""

from __future__ import annotations

import argparse
import copy
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dac import catalog  # noqa: E402
from dac.parallel import default_jobs  # noqa: E402
from dac.scaffold import scaffold  # noqa: E402
from dac.testing.runner import run_tests  # noqa: E402
from dac.validate import validate_paths  # noqa: E402


def generate(folder: Path, count: int, cases: int) -> None:
    tables = catalog.known_tables("defender")
    kinds = ["hunting", "scheduled", "nrt"]
    made = 0
    index = 0
    while made < count:
        table = tables[index % len(tables)]
        kind = kinds[index % len(kinds)]
        index += 1
        try:
            written = scaffold(kind, f"Rule {made:04d} {table}", table, "Defender", str(folder))
        except Exception:  # noqa: BLE001 - a table the scaffold cannot use is skipped
            continue
        tests = next(p for p in written if p.name.endswith(".tests.yaml"))
        suite = yaml.safe_load(tests.read_text())
        base = suite["cases"]
        suite["cases"] = [dict(copy.deepcopy(base[i % len(base)]), name=f"case {i}") for i in range(cases)]
        tests.write_text(yaml.safe_dump(suite, sort_keys=False))
        made += 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=int, default=1000)
    parser.add_argument("--cases", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "detections"
        start = time.perf_counter()
        generate(folder, args.rules, args.cases)
        generated = time.perf_counter() - start
        validate_paths([folder], jobs=1)  # warm-up: imports and catalogs, as both runs below find them
        figures = {}
        for label, jobs in (("one process", 1), (f"{default_jobs()} workers", None)):
            start = time.perf_counter()
            findings = validate_paths([folder], jobs=jobs)
            validated = time.perf_counter() - start
            start = time.perf_counter()
            report = run_tests([str(folder)], jobs=jobs)
            tested = time.perf_counter() - start
            figures[label] = (validated, tested, len(findings), report.counts())
    print(f"rules: {args.rules}, cases: {args.rules * args.cases} (generated in {generated:.1f}s)")
    print(f"{'':>12} {'validate s':>11} {'test s':>8} {'total s':>8} {'ms/rule':>8} {'findings':>9} {'passed':>7} {'failed':>7}")
    for label, (validated, tested, findings, counts) in figures.items():
        total = validated + tested
        print(f"{label:>12} {validated:11.2f} {tested:8.2f} {total:8.2f} {total / args.rules * 1000:8.1f} {findings:9d} "
              f"{counts['PASS']:7d} {counts['FAIL'] + counts['ERROR']:7d}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
