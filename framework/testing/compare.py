"""Rendering result rows canonically, and the diff of expected against actual rows.

Rows are compared in a canonical text form (typed values rendered the way
Kusto prints them), as a multiset unless order counts, because Kusto defines no
row order without sort/top. Property bags compare by keys and values, not by the
order of their keys (JSON objects have none); arrays that Kusto returns in no
defined order (make_set, make_list over unsorted input) compare by their elements
whatever their order. The diff is a unified diff of those renderings, so a failure
reads like any code review diff.
"""

from __future__ import annotations

import difflib
import math
from collections import Counter
from typing import Any

from dac.kql import values as V


def render_value(value: Any, unordered: bool = False) -> str:
    """``value`` as the diff shows it; ``unordered`` arrays list their elements sorted."""
    if value is None:
        return "null"
    if isinstance(value, str):
        return V.to_json_text(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return V.format_real(value)
        return repr(round(value, 9))
    if isinstance(value, list) and unordered:
        return "[" + ",".join(sorted(V.to_json_text(item, sort_keys=True) for item in value)) + "]"
    if isinstance(value, (list, dict)):
        return V.to_json_text(value, sort_keys=True)
    return V.to_string(value)


def render_row(names: list[str], row: tuple, unordered: dict[str, str] | None = None) -> str:
    """``{A: 1, B: "x"}``; columns in ``unordered`` hold arrays compared regardless of element order."""
    unordered = unordered or {}
    return "{" + ", ".join(f"{name}: {render_value(value, name in unordered)}" for name, value in zip(names, row)) + "}"


def diff_rows(names: list[str], expected: list[tuple], actual: list[tuple], ordered: bool,
              unordered: dict[str, str] | None = None) -> list[str]:
    """Unified diff lines, empty when the rows match."""
    want = [render_row(names, r, unordered) for r in expected]
    got = [render_row(names, r, unordered) for r in actual]
    if ordered:
        if want == got:
            return []
    else:
        if Counter(want) == Counter(got):
            return []
        want, got = sorted(want), sorted(got)
    return list(difflib.unified_diff(want, got, "expected", "actual", lineterm="", n=max(len(want), len(got))))
