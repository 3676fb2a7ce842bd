"""The DuckDB engine against the python engine on every conformance case and doc example the latter runs.

Each query either agrees (same columns and types, the same rows: in order where the
query orders, else as a multiset) or is refused with an EngineRefusal before it runs.
A disagreement must be listed in tests/data/engine_disagreements.yaml with its reason;
a listed one that agrees again fails until it is removed. A failure of the engine on a
query the python engine runs (an error, a crash) always fails.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import engine_differential as E

pytest.importorskip("duckdb")
pytest.importorskip("sqlglot")

from dac.engines.duckdb_engine import run  # noqa: E402 - after the skips

LISTED = (yaml.safe_load((Path(__file__).parent / "data" / "engine_disagreements.yaml").read_text(encoding="utf-8"))
          or {}).get("duckdb") or {}
ITEMS = list(E.conformance_items()) + list(E.doc_items())


@pytest.mark.parametrize("item", ITEMS, ids=[item.id for item in ITEMS])
def test_duckdb_agrees_or_refuses(item: E.Item) -> None:
    expected = E.python_result(item)
    if expected is None:
        pytest.skip("the python engine does not run this query")
    verdict = E.judge(item, run, expected)
    if item.id in LISTED:
        assert verdict.status == E.DIFFER, (
            f"{item.id} no longer disagrees ({verdict.status}): remove it from tests/data/engine_disagreements.yaml")
        return
    assert verdict.status in (E.AGREE, E.REFUSED), f"{verdict.status}: {verdict.detail}\nquery:\n{item.query}"


def test_listed_disagreements_name_real_items() -> None:
    assert not set(LISTED) - {item.id for item in ITEMS}


def test_rule_shaped_queries_run_on_duckdb() -> None:
    """The constructs rules are made of run, not refuse: a floor on the share of agreeing cases."""
    verdicts = [verdict for _, verdict in E.judged(E.conformance_items(), run)]
    agreeing = sum(v.status == E.AGREE for v in verdicts)
    assert agreeing >= 656, f"only {agreeing} conformance cases run on duckdb (656 when this floor was set)"
