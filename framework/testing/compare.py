"""Comparing a query result with a case's expected rows, and showing the difference.

Rows are compared in a canonical text form (typed values rendered the way
Kusto prints them), as a multiset unless the case asks for order, because
Kusto defines no row order without sort/top. The diff is a unified diff of
those renderings, so a failure reads like any code review diff.
"""

from __future__ import annotations

import difflib
import math
from collections import Counter
from datetime import datetime
from typing import Any

from dac.errors import DacError
from dac.kql import values as V
from dac.kql.table import Table
from dac.rules.yamlfile import YamlDocument
from dac.testing.cases import convert_value


def render_value(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return V.to_json_text(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return V.format_real(value)
        return repr(round(value, 9))
    if isinstance(value, (list, dict)):
        return V.to_json_text(value)
    return V.to_string(value)


def render_row(names: list[str], row: tuple) -> str:
    return "{" + ", ".join(f"{name}: {render_value(value)}" for name, value in zip(names, row)) + "}"


def expected_rows(doc: YamlDocument, key: tuple, raw_rows: list[dict[str, Any]], result: Table, now: datetime) -> list[tuple]:
    """Expected rows typed like the result's columns; an unknown or missing column is an error."""
    names = result.names
    types = dict(result.columns)
    rows = []
    for number, raw in enumerate(raw_rows):
        where = doc.location(key + (number,))
        unknown = [c for c in raw if c not in types]
        if unknown:
            raise DacError(
                f"expected row names column(s) not in the result: {', '.join(map(str, unknown))} "
                f"(result columns: {', '.join(names)})",
                where,
            )
        missing = [c for c in names if c not in raw]
        if missing:
            raise DacError(
                f"expected row lacks result column(s): {', '.join(missing)} (every result column must be stated)",
                where,
            )
        rows.append(tuple(convert_value(raw[c], types[c], now, doc.location(key + (number, c))) for c in names))
    return rows


def diff_rows(names: list[str], expected: list[tuple], actual: list[tuple], ordered: bool) -> list[str]:
    """Unified diff lines, empty when the rows match."""
    want = [render_row(names, r) for r in expected]
    got = [render_row(names, r) for r in actual]
    if ordered:
        if want == got:
            return []
    else:
        if Counter(want) == Counter(got):
            return []
        want, got = sorted(want), sorted(got)
    return list(difflib.unified_diff(want, got, "expected", "actual", lineterm="", n=max(len(want), len(got))))
