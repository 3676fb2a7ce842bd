#!/usr/bin/env python3
"""Generated cases (`dac fixtures --for RULE`) over the real rules of ../shared/corpus/azure-sentinel.

For every rule of the corpus's INDEX.tsv (analytics, detections and hunting queries) the test file
is generated into a scratch folder beside a copy of the rule (the corpus folder is the workspace:
its CustomTables, parsers and watchlists), then `dac test --mutate`'s analysis runs the generated
cases against every mutant of the query. Prints:

- the share of rules for which a positive case is generated (one that the query returns rows for),
- the mean mutation score of the generated tests (over the rules with a score), and the pooled one,
- why the other rules have no file or no positive case, and the parts most often not solved.

Usage: python bench/generated_cases.py [--jobs N] [--limit N] [-v]
"""

from __future__ import annotations

import argparse
import csv
import re
import shutil
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "azure-sentinel"
sys.path.insert(0, str(ROOT))

from dac import catalog, config  # noqa: E402
from dac.errors import DacError  # noqa: E402
from dac.generate import generate_tests  # noqa: E402
from dac.kql import KqlError  # noqa: E402
from dac.kql.binder import bind  # noqa: E402
from dac.parallel import default_jobs, ordered_map  # noqa: E402
from dac.rules.model import load_rule  # noqa: E402
from dac.testing.mutation import KILLED, SURVIVED, mutate_rule  # noqa: E402


@dataclass
class Outcome:
    rule: str
    problem: str = ""  # why no file was generated
    positive_rows: int = 0
    near_misses: int = 0
    atoms: int = 0
    notes: list[str] = field(default_factory=list)
    killed: int = 0
    survived: int = 0
    score: float | None = None


def _measure(relative: str) -> Outcome:
    outcome = Outcome(relative)
    try:
        rule = load_rule(CORPUS / relative)
        if rule.query is None:
            outcome.problem = "no query"
            return outcome
        errors = min((bind(rule.syntax_tree(), platform).errors for platform in catalog.PLATFORMS), key=len)
        if errors:  # Kusto would refuse the query on every platform: no case can be right about it
            outcome.problem = f"the query does not bind on any platform: {errors[0].message}"
            return outcome
        generated = generate_tests(rule)
    except (DacError, KqlError) as exc:
        outcome.problem = exc.message
        return outcome
    outcome.positive_rows, outcome.near_misses, outcome.atoms = (generated.positive_rows, generated.near_misses,
                                                                  generated.atoms)
    outcome.notes = [note.message for note in generated.notes]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "rule.yaml"
        shutil.copy(CORPUS / relative, path)
        (Path(folder) / "rule.tests.yaml").write_text(generated.text, encoding="utf-8")
        try:
            mutation = mutate_rule(path)
        except Exception as exc:  # noqa: BLE001 - a crash of the mutation runner on one rule is counted, not fatal
            outcome.problem = f"generated tests not scored: the mutation runner failed: {type(exc).__name__}: {exc}"
            return outcome
    outcome.killed, outcome.survived, outcome.score = mutation.count(KILLED), mutation.count(SURVIVED), mutation.score
    if mutation.problem:
        outcome.problem = f"generated tests not scored: {mutation.problem}"
    return outcome


def _kind(message: str) -> str:
    """A note's kind for the tally: its leading operator, or the reason after the predicate's text."""
    head = message.split(":", 1)[0]
    if re.fullmatch(r"[a-z-]+", head):
        return f"{head} (not seen through)"
    reason = message.rsplit(": ", 1)[-1]
    return re.sub(r"'[^']*'|\b[A-Z][A-Za-z0-9_]+\b", "X", reason)[:90]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=default_jobs())
    parser.add_argument("--limit", type=int, default=0, help="measure only the first N rules")
    parser.add_argument("-v", "--verbose", action="store_true", help="one line per rule")
    args = parser.parse_args()
    if not (CORPUS / "INDEX.tsv").is_file():
        print(f"{CORPUS} is not available", file=sys.stderr)
        return 2
    with open(CORPUS / "INDEX.tsv", encoding="utf-8") as stream:
        rules = [row["path"] for row in csv.DictReader(stream, delimiter="\t") if row["kind"].startswith("rule-")]
    rules = rules[:args.limit] if args.limit else rules
    config.use(config.Settings(workspace=(str(CORPUS),)))
    started = time.perf_counter()
    outcomes = list(ordered_map(_measure, rules, args.jobs, min_items=2))
    seconds = time.perf_counter() - started
    written = [o for o in outcomes if not o.problem or o.problem.startswith("generated tests not scored")]
    positive = [o for o in written if o.positive_rows]
    scored = [o for o in outcomes if o.score is not None]
    mean = sum(o.score for o in scored) / len(scored) if scored else 0.0
    killed, survived = sum(o.killed for o in scored), sum(o.survived for o in scored)
    if args.verbose:
        for o in outcomes:
            score = "-" if o.score is None else f"{o.score * 100:.0f}%"
            print(f"{score:>5} rows={o.positive_rows} near={o.near_misses}/{o.atoms} {o.rule} {o.problem}")
    print(f"rules: {len(rules)}; a test file generated for {len(written)}; in {seconds:.1f}s with {args.jobs} job(s)")
    binding = [o for o in outcomes if not o.problem.startswith(("the query does not bind", "no query"))]
    print(f"positive case generated (returns rows): {len(positive)} of {len(rules)} rules "
          f"({len(positive) / len(rules) * 100:.1f}%); of the {len(binding)} whose query binds: "
          f"{len(positive) / max(1, len(binding)) * 100:.1f}%")
    print(f"mean mutation score of the generated tests: {mean * 100:.1f}% over {len(scored)} scored rules "
          f"(pooled: {killed} killed, {survived} survived, {killed / max(1, killed + survived) * 100:.1f}%)")
    print(f"predicates solved: {sum(o.atoms for o in written)}, near misses written: "
          f"{sum(o.near_misses for o in written)}")
    print("no file generated, by reason:")
    for reason, count in Counter(re.sub(r"'[^']*'", "X", o.problem)[:110] for o in outcomes
                                 if o.problem and o not in written).most_common(8):
        print(f"  {count:4d}  {reason}")
    print("parts not solved (notes), by kind:")
    for kind, count in Counter(_kind(n) for o in written for n in o.notes).most_common(12):
        print(f"  {count:4d}  {kind}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
