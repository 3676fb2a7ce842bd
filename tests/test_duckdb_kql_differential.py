"""A second opinion: the conformance cases and the documentation examples through duckdb-kql.

duckdb-kql (PyPI, a dev dependency) translates KQL to DuckDB SQL. It is an independent
implementation written from the same documentation, so where it and dac both run a query
and their results differ, one of the two misreads Kusto. Every such query is listed in
tests/data/duckdb_kql_disagreements.yaml with a verdict taken from the documentation:

  dac          the documentation (the page in ``reason``) gives dac's result
  undefined    Kusto does not fix the result (an arbitrary row, an unspecified order)

A verdict for duckdb-kql would be a dac bug, which gets fixed instead of listed. The test
fails on a disagreement that is not listed, and on a listed one that no longer disagrees
(the file must say what is true today). Queries only one engine runs are counted, not
compared: a refusal is not an answer.

Only self-contained queries are compared (no input tables, no GeoIP database): both
engines see exactly the same text and clock.
"""

from __future__ import annotations

import decimal
import json
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml

from dac.kql import KqlError, evaluate

from conftest import SHARED
from test_conformance import CASES, _now, multiset_equal, rows_equal

duckdb_kql = pytest.importorskip("duckdb_kql", reason="duckdb-kql is a dev dependency (pip install -e '.[dev]')")

VERDICTS_FILE = Path(__file__).parent / "data" / "duckdb_kql_disagreements.yaml"
VERDICTS = ("dac", "undefined")
DOC_NOW = datetime(2024, 5, 1, 12)
# Measured with duckdb-kql 1.1.2 (the version pinned in the dev extras): the share of
# queries both engines run and agree on must not fall.
MINIMUM_COMPARED = 700


def _queries() -> Iterator[tuple[str, str, bool, datetime]]:
    """(id, query, ordered, now) of every self-contained conformance case and doc example."""
    for stem, case in CASES:
        if "expect" in case and not case.get("tables") and not case.get("geo_ip"):
            yield f"conformance:{stem}/{case['name']}", case["query"], bool(case.get("ordered")), _now(case)
    examples = SHARED / "corpus" / "kusto_doc_examples.jsonl"
    if examples.is_file():
        for line in examples.read_text(encoding="utf-8").splitlines():
            if line.strip():
                example = json.loads(line)
                yield f"doc:{example['id']}", example["query"], bool(example.get("ordered")), DOC_NOW


def _as_ours(value: Any, type_name: str, sql_type: str) -> Any:
    """A duckdb-kql value in dac's value model for the column's Kusto type (so kinds compare strictly).

    Kusto has no null string (an absent string is empty), and DuckDB hands JSON back as text.
    A value that does not convert is kept as it is, and so differs.
    """
    if value is None:
        return "" if type_name == "string" else None
    try:
        if type_name == "dynamic" or sql_type == "JSON":
            return json.loads(value) if isinstance(value, str) and sql_type == "JSON" else value
        if type_name in ("int", "long") and isinstance(value, (int, float)) and float(value).is_integer():
            return int(value)
        if type_name == "real" and isinstance(value, (int, float, decimal.Decimal)) and not isinstance(value, bool):
            return float(value)
        if type_name == "datetime" and isinstance(value, datetime):
            return value.astimezone(timezone.utc).replace(tzinfo=None) if value.tzinfo else value
        if type_name == "guid" and isinstance(value, (str, uuid.UUID)):
            return uuid.UUID(str(value))
        if type_name == "decimal" and isinstance(value, (int, float, decimal.Decimal)):
            return decimal.Decimal(str(value))
    except (ValueError, TypeError):
        return value
    return value


def _compare() -> tuple[dict[str, str], dict[str, int]]:
    """Each disagreement (id -> both results, shown), and the counts."""
    connection = duckdb_kql.connect()
    counts = {"compared": 0, "agree": 0, "dac only": 0, "duckdb-kql only": 0, "neither": 0}
    disagreements: dict[str, str] = {}
    for query_id, query, ordered, now in _queries():
        try:
            mine = evaluate(query, {}, now=now, as_table=True)
        except KqlError:
            mine = None
        try:
            relation = duckdb_kql.kql(connection, query, query_now=now)
            their_rows, their_names, their_types = relation.fetchall(), relation.columns, [str(t) for t in relation.types]
        except Exception:  # noqa: BLE001 - any failure of the second opinion means "no answer"
            their_rows = None
        if mine is None or their_rows is None:
            key = "neither" if mine is None and their_rows is None else "dac only" if their_rows is None else "duckdb-kql only"
            counts[key] += 1
            continue
        counts["compared"] += 1
        names = [name for name, _ in mine.columns]
        types = [kind for _, kind in mine.columns]
        theirs = [tuple(_as_ours(v, t, s) for v, t, s in zip(row, types, their_types)) for row in their_rows]
        same = names == list(their_names) and len(mine.rows) == len(theirs) and (
            all(rows_equal(a, b, types) for a, b in zip(mine.rows, theirs)) if ordered
            else multiset_equal(list(mine.rows), theirs, types))
        if same:
            counts["agree"] += 1
        else:
            disagreements[query_id] = (f"dac        {names} {list(mine.rows)[:5]!r}\n"
                                       f"duckdb-kql {list(their_names)} {theirs[:5]!r}")
    return disagreements, counts


@pytest.fixture(scope="module")
def comparison() -> tuple[dict[str, str], dict[str, int]]:
    return _compare()


def _listed() -> dict[str, dict]:
    entries = yaml.safe_load(VERDICTS_FILE.read_text(encoding="utf-8")) or []
    return {entry["id"]: entry for entry in entries}


def test_the_verdict_file_is_well_formed() -> None:
    entries = yaml.safe_load(VERDICTS_FILE.read_text(encoding="utf-8")) or []
    ids = [entry["id"] for entry in entries]
    assert len(ids) == len(set(ids)), "an id is listed twice"
    for entry in entries:
        assert set(entry) == {"id", "verdict", "reason"}, entry
        assert entry["verdict"] in VERDICTS, f"{entry['id']}: verdict {entry['verdict']!r} is not one of {VERDICTS}"
        assert "learn.microsoft.com" in entry["reason"] or entry["verdict"] == "undefined", (
            f"{entry['id']}: a 'dac' verdict cites the documentation page")


def test_every_disagreement_has_a_documented_verdict(comparison) -> None:
    disagreements, counts = comparison
    listed = _listed()
    unlisted = {k: v for k, v in disagreements.items() if k not in listed}
    shown = "\n".join(f"{k}\n{v}" for k, v in sorted(unlisted.items())[:20])
    assert not unlisted, f"{len(unlisted)} disagreements with no verdict in {VERDICTS_FILE.name} ({counts}):\n{shown}"


def test_no_stale_verdicts(comparison) -> None:
    disagreements, _ = comparison
    available = {query_id for query_id, *_ in _queries()}
    stale = sorted(k for k in _listed() if k in available and k not in disagreements)
    assert not stale, f"these no longer disagree: remove them from {VERDICTS_FILE.name}: {stale}"


def test_both_engines_answer_most_queries(comparison) -> None:
    _, counts = comparison
    if not (SHARED / "corpus" / "kusto_doc_examples.jsonl").is_file():
        pytest.skip("../shared/corpus/kusto_doc_examples.jsonl is not available: the floor counts them")
    assert counts["compared"] >= MINIMUM_COMPARED, counts
