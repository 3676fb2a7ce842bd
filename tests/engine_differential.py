"""Every query the python engine runs, run again by a SQL engine: the two must agree or the engine refuses.

The queries are the conformance cases (``tests/conformance``, their input tables
as ``RowsSource``) and the Kusto doc examples (``doc_examples``). The python
engine's own result is the expectation, compared as ``test_conformance`` compares
(types first, then rows: in order when the SQL engine says the query orders,
otherwise as a multiset; reals within its tolerance). Shared by
``tests/test_engine_differential.py`` and ``bench/engine_share.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import doc_examples as D
import test_conformance as C
from dac.engines.physical import EngineRefusal
from dac.engines.sources import RowsSource
from dac.kql import KqlError, evaluate
from dac.kql.parser import parse
from dac.kql.table import Table

AGREE, REFUSED, DIFFER, FAILED = "agree", "refused", "differ", "failed"


@dataclass
class Item:
    id: str
    query: str
    tables: dict[str, Table]
    now: datetime


@dataclass
class Verdict:
    status: str
    detail: str = ""


def conformance_items() -> Iterator[Item]:
    """The cases with an expected table (not an error), whose inputs SQL can hold."""
    for stem, case in C.CASES:
        if "expect" not in case or case.get("geo_ip"):
            continue
        specs = case.get("tables") or {}
        if any("$IngestionTime" in [c[0] for c in spec["columns"]] for spec in specs.values()):
            continue  # the hidden ingestion time has no column to carry it into SQL
        tables = {name: C.input_table(spec) for name, spec in specs.items()}
        yield Item(f"conformance/{stem}/{case['name']}", case["query"], tables, C._now(case))


def doc_items() -> Iterator[Item]:
    if not D.CORPUS.is_file():
        return
    for example in D.load_examples():
        yield Item(f"doc/{example['id']}", example["query"], {}, D.NOW)


def python_result(item: Item) -> Table | None:
    """The row engine's result, or None when it does not run the query (an error or a refusal)."""
    try:
        with D._time_limit(D.TIME_LIMIT_SECONDS):
            return evaluate(item.query, item.tables, now=item.now, as_table=True, max_rows=D.MAX_ROWS)
    except (KqlError, D._TimeLimit, RecursionError):
        return None


def agree(expected: Table, actual: Table) -> str:
    """What differs between the python engine's table and the SQL engine's ("" when they agree)."""
    if [tuple(c) for c in expected.columns] != [tuple(c) for c in actual.columns]:
        return f"columns: python {expected.columns}, engine {actual.columns}"
    types = [kind for _, kind in expected.columns]
    want, got = [tuple(r) for r in expected.rows], [tuple(r) for r in actual.rows]
    shown = f"python {want[:5]}, engine {got[:5]}"
    if len(want) != len(got):
        return f"{len(want)} rows against {len(got)}: {shown}"
    if actual.ordered != expected.ordered:
        return f"ordered: python {expected.ordered}, engine {actual.ordered}"
    if actual.ordered:
        return "" if all(C.rows_equal(e, a, types) for e, a in zip(want, got)) else f"order or values: {shown}"
    return "" if C.multiset_equal(want, got, types) else f"rows: {shown}"


def judge(item: Item, engine: Callable[..., Table], expected: Table) -> Verdict:
    sources = {name: RowsSource(tuple(tuple(c) for c in table.columns), table.rows) for name, table in item.tables.items()}
    try:
        actual = engine(parse(item.query), sources, now=item.now)
    except EngineRefusal as exc:
        return Verdict(REFUSED, str(exc))
    except KqlError as exc:
        return Verdict(FAILED, f"{type(exc).__name__}: {exc}")
    except Exception as exc:  # noqa: BLE001 - any other exception is an engine bug, reported as such
        return Verdict(FAILED, f"crash: {type(exc).__name__}: {exc}")
    problem = agree(expected, actual)
    return Verdict(DIFFER if problem else AGREE, problem)


def refusal_reason(detail: str) -> str:
    """A refusal's message without its position: what the engine cannot run."""
    text = detail.split(" exactly")[0]
    return text.split("cannot run ", 1)[-1]


def judged(items: Iterator[Item], engine: Callable[..., Any]) -> Iterator[tuple[Item, Verdict]]:
    """Each item the python engine runs, with the engine's verdict."""
    for item in items:
        expected = python_result(item)
        if expected is not None:
            yield item, judge(item, engine, expected)
