"""The documentation yardstick in the suite: every Kusto doc example run and held to its documented output.

Reads ../shared/corpus/kusto_doc_examples.jsonl (skips without it) and the verdicts
of tests/data/doc_examples_verdicts.yaml; the comparison is tests/doc_examples.py,
shared with bench/doc_examples.py. Fails when the agreement among the examples
that are not refused falls below the recorded floor, when an example disagrees or
errors without a verdict, when a verdict is stale (the example agrees or is
refused now: remove it), when a `fixed` example no longer agrees, and when a
`pending` example (an operator neither implemented nor refused) is no longer an
error.
"""

from __future__ import annotations

import re

import pytest

import doc_examples as D
from dac.kql.series import APPROXIMATED

pytestmark = pytest.mark.skipif(not D.CORPUS.is_file(), reason=f"no documentation corpus at {D.CORPUS}")


@pytest.fixture(scope="module")
def outcomes() -> list[D.Outcome]:
    return D.run_all(D.load_examples())


@pytest.fixture(scope="module")
def data() -> dict:
    return D.load_verdicts()


def test_agreement_is_not_below_the_recorded_floor(outcomes: list[D.Outcome], data: dict) -> None:
    agreeing, judged = D.agreement(outcomes)
    share = agreeing / judged
    floor = float(data["minimum_agreement"])
    assert share >= floor, (
        f"{agreeing} of the {judged} examples not refused agree ({share:.1%}), below the recorded {floor:.1%}: "
        "run bench/doc_examples.py -v")


def test_every_disagreement_has_a_verdict(outcomes: list[D.Outcome], data: dict) -> None:
    verdicts = data["verdicts"]
    missing = [f"{o.id} ({o.status}): {o.detail[:200]}" for o in outcomes
               if o.status in (D.DIFFER, D.ERROR) and verdicts.get(o.id, {}).get("verdict") in (None, "fixed")]
    assert not missing, "examples that disagree or error without a verdict:\n" + "\n".join(missing)


def test_no_stale_verdict(outcomes: list[D.Outcome], data: dict) -> None:
    status = {o.id: o for o in outcomes}
    problems = []
    for ident, entry in data["verdicts"].items():
        outcome = status.get(ident)
        if outcome is None:
            problems.append(f"{ident}: no such example in the corpus")
            continue
        kind = entry.get("verdict")
        if kind == "fixed":
            if outcome.status != D.AGREE:
                problems.append(f"{ident}: fixed, but {outcome.status} again: {outcome.detail[:200]}")
        elif outcome.status in (D.AGREE, D.REFUSED):
            problems.append(f"{ident}: has the verdict {kind} but is {outcome.status} now: remove it")
        elif kind == "pending" and outcome.status != D.ERROR:
            problems.append(f"{ident}: pending (not implemented, not refused) but it runs now: judge it again")
    assert not problems, "\n".join(problems)


def test_verdicts_are_well_formed(data: dict) -> None:
    problems = [f"{ident}: {entry}" for ident, entry in data["verdicts"].items()
                if not isinstance(entry, dict) or entry.get("verdict") not in D.VERDICT_KINDS
                or not str(entry.get("reason") or "").strip()]
    assert not problems, "each verdict needs a kind of " + ", ".join(D.VERDICT_KINDS) + " and a reason:\n" + "\n".join(problems)


def test_no_example_crashes_the_evaluator(outcomes: list[D.Outcome]) -> None:
    crashes = [f"{o.id}: {o.detail}" for o in outcomes if o.detail.startswith("crash:")]
    assert not crashes, "Python exceptions escaped the evaluator:\n" + "\n".join(crashes)


def test_approximated_verdicts_call_an_approximated_function(data: dict) -> None:
    """An `approximated` verdict excuses only a function whose formula dac documents as its own guess."""
    queries = {e["id"]: e["query"] for e in D.load_examples()}
    problems = [ident for ident, entry in data["verdicts"].items() if entry.get("verdict") == "approximated"
                and not any(re.search(rf"\b{name}\s*\(", queries.get(ident, "")) for name in APPROXIMATED)]
    assert not problems, "approximated verdicts whose example calls none of " + ", ".join(APPROXIMATED) + ": " + ", ".join(problems)
