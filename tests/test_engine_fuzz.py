"""The duckdb engine against the python engine on generated queries (test_kql_eval_fuzz's generator).

For each generated table and pipeline the python engine runs, the duckdb engine
either refuses it before running (EngineRefusal) or gives the same table: the same
columns and types, the same rows (in order where the query orders, else as a
multiset; reals within test_conformance's tolerance). Bounded and derandomized,
so the suite stays fast and a failure repeats; ``DAC_ENGINE_FUZZ_EXAMPLES`` runs a
longer campaign. What campaigns found is kept as the cases of ``FOUND``.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings

import engine_differential as E
from test_kql_eval_fuzz import NOW, cases

pytest.importorskip("duckdb")
pytest.importorskip("sqlglot")

from dac.engines.duckdb_engine import run  # noqa: E402 - after the skips
from dac.kql.table import Table  # noqa: E402

EXAMPLES = int(os.environ.get("DAC_ENGINE_FUZZ_EXAMPLES", "200"))


def check(columns: list[tuple[str, str]], rows: list[dict], query: str) -> None:
    item = E.Item("fuzz", query, {"T": Table.from_dicts(rows, columns=columns)}, NOW)
    expected = E.python_result(item)
    if expected is None:
        return
    verdict = E.judge(item, run, expected)
    assert verdict.status in (E.AGREE, E.REFUSED), f"{verdict.status}: {verdict.detail}\nquery: {query}\nrows: {rows}"


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(cases())
def test_generated_queries_agree_or_are_refused(case) -> None:
    check(*case)
