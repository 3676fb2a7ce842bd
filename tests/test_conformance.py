"""Conformance suite: KQL behaviour taken from the Kusto documentation, kept as data.

Every file under ``tests/conformance`` holds the cases of one area (string
operators, joins, ...). A case names the documentation page its expected value
comes from (``source``), the query, optional input tables and optional clock,
and either the expected result (``expect``) or the error Kusto raises
(``error``/``error_type``). This module turns each case into one pytest item
and checks the evaluator against it: column names and types first, then the
rows, in order when the case says the query fixes the order, otherwise as a
multiset.

Case format (YAML, one file per area, top-level ``cases:`` list):

  name, source, query            required
  now                            ISO UTC clock for now()/ago(); default 2024-05-01T12:00:00Z
  tables                         {Name: {columns: [[name, type], ...], rows: [[v, ...], ...]}}; a column
                                 named $IngestionTime (datetime) is no column but each row's ingestion time
  geo_ip                         entries {network, country, state, city, latitude, longitude}: the
                                 database geo_info_from_ip_address() consults (Kusto's is not offline)
  expect                         {columns: [[name, type], ...], rows: [[v, ...], ...]}
  expect_tables                  [{name?, columns, rows}, ...]: every result table of a query of several
                                 (a batch, fork, facet, preview), in order, run with evaluate(as_tables=True);
                                 a table's name is checked when the case gives one (else it must have none)
  ordered                        true when the query itself fixes the row order (of each table)
  error, error_type              message substring and syntax|semantic|unsupported|runtime (a failure while
                                 rows are evaluated, such as a long overflow)
  note                           free text (an ambiguity, a caveat)

Values are read by the column type: datetimes as ISO text, timespans as Kusto
text (quoted, so YAML does not read 01:00:00 as a base-60 number), guids as
text, dynamic as YAML structures.
"""

from __future__ import annotations

import decimal
import math
import re
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from dac.kql import KqlError, KqlRuntimeError, KqlSemanticError, KqlSyntaxError, KqlUnsupportedError, evaluate
from dac.kql import values as V
from dac.kql.streaming import RowSource, slices
from dac.kql.table import Table

SUITE = Path(__file__).resolve().parent / "conformance"
DEFAULT_NOW = "2024-05-01T12:00:00Z"
MINIMUM_CASES = 300
REL_TOL = 1e-9
ERROR_TYPES = {"syntax": KqlSyntaxError, "semantic": KqlSemanticError, "unsupported": KqlUnsupportedError,
               "runtime": KqlRuntimeError}
CASE_KEYS = {"name", "source", "query", "now", "tables", "geo_ip", "expect", "expect_tables", "ordered", "error",
             "error_type", "note"}
EXPECTATIONS = ("expect", "expect_tables", "error")


# ------------------------------------------------------------------ loading


def _load_suite() -> list[tuple[str, dict]]:
    cases: list[tuple[str, dict]] = []
    for path in sorted(SUITE.glob("*.yaml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        items = document.get("cases", []) if isinstance(document, dict) else document
        for case in items or []:
            cases.append((path.stem, case))
    return cases


CASES = _load_suite()


def _case_id(stem: str, case: dict) -> str:
    return f"{stem}/{case.get('name', '?')}"


# ------------------------------------------------------------------ values


# Expected values are read with the suite's own small parsers, so that a bug in the
# evaluator's literal parsing cannot hide behind the same bug in the expectations.
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?)?Z?$")
_SPAN = re.compile(r"^(-)?(?:(\d+)\.)?(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,7}))?$")


def _micros(fraction: str | None) -> int:
    return int((fraction or "0").ljust(7, "0")[:6])


def _to_datetime(raw: Any) -> datetime | None:
    if raw is None:
        return None
    if isinstance(raw, datetime):
        return raw.astimezone(timezone.utc).replace(tzinfo=None) if raw.tzinfo is not None else raw
    match = _ISO.match(str(raw).strip())
    if not match:
        raise ValueError(f"datetime {raw!r} must be ISO 8601 text such as 2024-01-01T00:00:00Z")
    year, month, day, hour, minute, second, fraction = match.groups()
    return datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0), _micros(fraction))


def _to_timespan(raw: Any) -> timedelta | None:
    if raw is None or isinstance(raw, timedelta):
        return raw
    match = _SPAN.match(raw.strip()) if isinstance(raw, str) else None
    if not match:
        raise ValueError(f"timespan {raw!r} must be quoted Kusto text such as '01:00:00' or '1.02:03:04.5'")
    negative, days, hours, minutes, seconds, fraction = match.groups()
    value = timedelta(days=int(days or 0), hours=int(hours), minutes=int(minutes), seconds=int(seconds),
                      microseconds=_micros(fraction))
    return -value if negative else value


def expected_value(raw: Any, type_name: str) -> Any:
    """A YAML value in the Python representation of ``type_name`` (the evaluator's value model)."""
    if raw is None:
        return None
    if type_name in ("datetime", "date"):
        return _to_datetime(raw)
    if type_name in ("timespan", "time"):
        return _to_timespan(raw)
    if type_name in ("guid", "uuid", "uniqueid"):
        return uuid.UUID(str(raw))
    if type_name == "decimal":
        return decimal.Decimal(str(raw))
    if type_name in ("real", "double"):
        if isinstance(raw, str):
            return float({"nan": "nan", "infinity": "inf", "-infinity": "-inf"}.get(raw.lower(), raw))
        return float(raw)
    if type_name in ("int", "long"):
        return int(raw)
    if type_name in ("bool", "boolean"):
        return bool(raw)
    if type_name == "string":
        return str(raw)
    return raw  # dynamic: the YAML structure itself


def input_table(spec: dict) -> Table:
    columns = [(str(name), str(kind)) for name, kind in spec["columns"]]
    names = [name for name, _ in columns]
    rows = []
    for raw in spec.get("rows", []) or []:
        assert len(raw) == len(columns), f"input row {raw!r} does not have {len(columns)} values"
        row = {}
        for name, kind, value in zip(names, [k for _, k in columns], raw):
            if kind == "datetime":
                value = _to_datetime(value)
            elif kind == "timespan":
                value = _to_timespan(value)
            row[name] = value
        rows.append(row)
    return Table.from_dicts(rows, columns=[c for c in columns if c[0] != "$IngestionTime"])


def _normal_dynamic(value: Any) -> Any:
    """Dynamic values holding typed scalars compare by their Kusto text (JSON has no datetime)."""
    if isinstance(value, (datetime, timedelta, uuid.UUID)):
        return V.to_string(value)
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, list):
        return [_normal_dynamic(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _normal_dynamic(v) for k, v in value.items()}
    return value


def values_equal(expected: Any, actual: Any) -> bool:
    """Equality with Kusto's value kinds kept apart (true is not 1) and reals within REL_TOL."""
    if expected is None or actual is None:
        return expected is None and actual is None
    if isinstance(expected, bool) or isinstance(actual, bool):
        return isinstance(expected, bool) and isinstance(actual, bool) and expected == actual
    if isinstance(expected, float) or isinstance(actual, float):
        if not isinstance(expected, (int, float)) or not isinstance(actual, (int, float)):
            return False
        if math.isnan(expected) or math.isnan(actual):
            return math.isnan(expected) and math.isnan(actual)
        if math.isinf(expected) or math.isinf(actual):
            return expected == actual
        return math.isclose(expected, actual, rel_tol=REL_TOL, abs_tol=1e-12)
    if isinstance(expected, list):
        return isinstance(actual, list) and len(expected) == len(actual) and all(
            values_equal(e, a) for e, a in zip(expected, actual))
    if isinstance(expected, dict):
        return isinstance(actual, dict) and set(expected) == set(actual) and all(
            values_equal(expected[k], actual[k]) for k in expected)
    if isinstance(expected, (int, decimal.Decimal)) and isinstance(actual, (int, decimal.Decimal)):
        return expected == actual
    if isinstance(expected, (datetime, timedelta)) and type(expected) is type(actual):
        # Kusto counts 100ns ticks; the value model keeps microseconds, so the seventh
        # fractional digit may be truncated on one side and rounded on the other.
        return abs(expected - actual) <= timedelta(microseconds=1)
    return type(expected) is type(actual) and expected == actual


def rows_equal(expected: tuple, actual: tuple, types: list[str]) -> bool:
    if len(expected) != len(actual):
        return False
    for e, a, kind in zip(expected, actual, types):
        if kind == "dynamic":
            e, a = _normal_dynamic(e), _normal_dynamic(a)
        if not values_equal(e, a):
            return False
    return True


def multiset_equal(expected: list[tuple], actual: list[tuple], types: list[str]) -> bool:
    """The same rows in any order: each expected row matched to one actual row (rows_equal)."""
    unmatched = list(actual)
    for row in expected:
        for position, candidate in enumerate(unmatched):
            if rows_equal(row, candidate, types):
                del unmatched[position]
                break
        else:
            return False
    return not unmatched


def _show(rows: list[tuple]) -> str:
    return "\n".join("  " + repr(row) for row in rows) or "  (no rows)"


def _now(case: dict) -> datetime:
    raw = case.get("now", DEFAULT_NOW)
    return _to_datetime(raw)


# ------------------------------------------------------------------ the cases


def _known_gaps() -> dict[str, str]:
    """Cases the evaluator is known to fail, each with the reason (tests/data/conformance_known_gaps.yaml)."""
    path = Path(__file__).parent / "data" / "conformance_known_gaps.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {} if path.is_file() else {}


KNOWN_GAPS = _known_gaps()


class OneRowAtATime(RowSource):
    """A RowSource over an input table, one row per chunk: the path ``dac run`` takes over files."""

    def __init__(self, table: Table) -> None:
        self.columns = table.columns
        self._table = table

    def chunks(self) -> Iterator[Table]:
        return slices(self._table, 1)


# Every execution path runs every case: whole tables, and chunked (each pipeline's row-local
# head over one-row chunks, named inputs read as RowSources), as `dac run` reads files.
EXECUTION_PATHS = {"whole": {}, "chunked": {"chunk_rows": 1}}


@pytest.mark.parametrize("path", list(EXECUTION_PATHS))
@pytest.mark.parametrize("stem,case", CASES, ids=[_case_id(stem, case) for stem, case in CASES])
def test_conformance_case(stem: str, case: dict, path: str) -> None:
    """A known gap still runs: it must fail (xfail), and passing makes the test fail until it is unlisted."""
    case_id = _case_id(stem, case)
    if case_id not in KNOWN_GAPS:
        run_case(case, path)
        return
    try:
        run_case(case, path)
    except (AssertionError, KqlError, pytest.fail.Exception):
        pytest.xfail(f"known gap: {KNOWN_GAPS[case_id]}")
    pytest.fail(f"{case_id} passes now: remove it from tests/data/conformance_known_gaps.yaml")


def test_known_gaps_name_real_cases() -> None:
    ids = {_case_id(stem, case) for stem, case in CASES}
    assert not set(KNOWN_GAPS) - ids


def run_case(case: dict, path: str = "whole") -> None:
    tables: dict[str, Any] = {name: input_table(spec) for name, spec in (case.get("tables") or {}).items()}
    options = dict(EXECUTION_PATHS[path], now=_now(case), as_table=True, geo_ip=case.get("geo_ip"))
    if path == "chunked":
        tables = {name: OneRowAtATime(table) for name, table in tables.items()}
    query = case["query"]
    if "error" in case:
        expected_type = ERROR_TYPES[case["error_type"]]
        with pytest.raises(KqlError) as caught:
            evaluate(query, tables, **options)
        assert isinstance(caught.value, expected_type), (
            f"expected a {expected_type.__name__}, got {type(caught.value).__name__}: {caught.value}")
        assert str(case["error"]).lower() in str(caught.value).lower(), (
            f"error message {str(caught.value)!r} does not mention {case['error']!r}")
        return

    if "expect_tables" in case:
        del options["as_table"]
        results = evaluate(query, tables, as_tables=True, **options)
        expected = case["expect_tables"]
        assert len(results) == len(expected), (
            f"expected {len(expected)} result tables, got {len(results)}: {[r.columns for r in results]}")
        for position, (expect, result) in enumerate(zip(expected, results), 1):
            assert result.name == expect.get("name"), (
                f"table {position}: expected the name {expect.get('name')!r}, got {result.name!r}")
            check_table(expect, result, bool(case.get("ordered")))
        return
    check_table(case["expect"], evaluate(query, tables, **options), bool(case.get("ordered")))


def check_table(expect: dict, result: Table, ordered: bool) -> None:
    """``result`` has the expected columns (names and types) and rows (in order when ``ordered``)."""
    expected_columns = [(str(name), str(kind)) for name, kind in expect["columns"]]
    assert [tuple(c) for c in result.columns] == expected_columns, (
        f"columns differ\n expected {expected_columns}\n actual   {result.columns}")
    types = [kind for _, kind in expected_columns]
    expected_rows = [tuple(expected_value(v, t) for v, t in zip(row, types)) for row in expect.get("rows") or []]
    for row in expected_rows:
        assert len(row) == len(types), f"expected row {row!r} does not have {len(types)} values"
    actual_rows = [tuple(row) for row in result.rows]
    message = f"rows differ\n expected:\n{_show(expected_rows)}\n actual:\n{_show(actual_rows)}"
    assert len(actual_rows) == len(expected_rows), message
    if ordered:
        for e, a in zip(expected_rows, actual_rows):
            assert rows_equal(e, a, types), message
        return
    assert multiset_equal(expected_rows, actual_rows, types), message


# ------------------------------------------------------------------ the suite itself


def test_suite_size() -> None:
    assert len(CASES) >= MINIMUM_CASES, f"the conformance suite has {len(CASES)} cases, fewer than {MINIMUM_CASES}"


def test_every_case_is_well_formed() -> None:
    problems = []
    seen: set[str] = set()
    for stem, case in CASES:
        ident = _case_id(stem, case)
        if ident in seen:
            problems.append(f"{ident}: duplicate name")
        seen.add(ident)
        unknown = set(case) - CASE_KEYS
        if unknown:
            problems.append(f"{ident}: unknown keys {sorted(unknown)}")
        for key in ("name", "source", "query"):
            if not str(case.get(key) or "").strip():
                problems.append(f"{ident}: missing {key}")
        source = str(case.get("source") or "")
        if "https://learn.microsoft.com/" not in source:
            problems.append(f"{ident}: source must cite a learn.microsoft.com page")
        if not (source.startswith("https://") or source.startswith("reasoned: ")):
            problems.append(f"{ident}: source is a URL or 'reasoned: <rule>, <URL>'")
        if sum(key in case for key in EXPECTATIONS) != 1:
            problems.append(f"{ident}: needs exactly one of " + " / ".join(EXPECTATIONS))
        if "error" in case and case.get("error_type") not in ERROR_TYPES:
            problems.append(f"{ident}: error_type must be one of {sorted(ERROR_TYPES)}")
        if "expect" in case and not isinstance(case["expect"].get("columns"), list):
            problems.append(f"{ident}: expect.columns is missing")
        tables = case.get("expect_tables", [])
        if not isinstance(tables, list) or any(not isinstance(t, dict) or not isinstance(t.get("columns"), list)
                                               or set(t) - {"name", "columns", "rows"} for t in tables):
            problems.append(f"{ident}: expect_tables is a list of {{name?, columns, rows}}")
    assert not problems, "\n".join(problems)
