"""What a case says about the query's result, and judging a result against it.

A case states exact rows (``expect:``), rows that must be among others (``contains:``),
the number of rows (``count:``), or ``contains:`` with ``count:``. ``columns:`` limits the
comparison to the columns named, so a row states only those. Row order counts when the
query sorts (see :mod:`dac.testing.ordering`) unless the case says ``ordered: false``;
``ordered: true`` on a query whose result has no defined order is refused, since the test
would then pin an order Kusto does not promise. Contradictory or redundant statements
(``expect`` with ``count`` or ``contains``) are errors at the key, never silently resolved.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dac.errors import DacError, Location
from dac.kql.literals import parse_datetime
from dac.kql.table import Table
from dac.kql.values import format_datetime_iso
from dac.rules.yamlfile import YamlDocument
from dac.testing.compare import diff_rows, render_row
from dac.testing.convert import convert_value
from dac.testing.ordering import ResultOrder


@dataclass
class Expectation:
    """One case's statements about the result, with where each is written."""

    doc: YamlDocument
    key: tuple  # the case's key in the test file
    expect: list[dict[str, Any]] | None = None
    contains: list[dict[str, Any]] | None = None
    count: int | None = None
    columns: list[str] | None = None
    ordered: bool | None = None  # None: from the query

    def where(self, name: str) -> Location:
        return self.doc.key_location(self.key + (name,))


def read_expectation(doc: YamlDocument, key: tuple, raw: dict[str, Any]) -> Expectation:
    """The case's expectation, its statements checked for consistency (the result is not needed)."""
    found = Expectation(doc, key, raw.get("expect"), raw.get("contains"), raw.get("count"), raw.get("columns"),
                        raw.get("ordered"))
    if found.expect is None and found.contains is None and found.count is None:
        raise DacError("the case states nothing about the result: give expect: (the rows), contains: "
                       "(rows among others) or count: (how many)", doc.location(key))
    if found.expect is not None and found.count is not None:
        raise DacError("count: with expect: says the number of rows twice (expect: lists every row); "
                       "keep one", found.where("count"))
    if found.expect is not None and found.contains is not None:
        raise DacError("contains: with expect: adds nothing (expect: lists every row); keep one",
                       found.where("contains"))
    if found.ordered is not None and found.expect is None:
        raise DacError("ordered: applies to expect: rows (contains: and count: do not depend on order)",
                       found.where("ordered"))
    if found.contains is not None and found.count is not None and len(found.contains) > found.count:
        raise DacError(f"contains: lists {len(found.contains)} rows but count: is {found.count}", found.where("count"))
    if found.columns is not None:
        seen = set()
        for index, name in enumerate(found.columns):
            if name in seen:
                raise DacError(f"columns: '{name}' is named twice", doc.location(key + ("columns", index)))
            seen.add(name)
    return found


def judge(expectation: Expectation, result: Table, order: ResultOrder, now: datetime,
          order_reason: str) -> list[str]:
    """Failure lines (header, diff, hints) or [] when ``result`` is what the case says.

    ``order_reason`` explains the query's order for messages (where its sort or summarize is).
    Raises DacError, located in the test file, for statements the result makes meaningless
    (a column it does not have, ``ordered: true`` on an unordered result).
    """
    doc, key = expectation.doc, expectation.key
    names = _compared_columns(expectation, result)
    positions = [result.names.index(name) for name in names]
    types = dict(result.columns)
    actual = [tuple(row[i] for i in positions) for row in result.rows]
    arrays = {name: aggregate for name, aggregate in order.unordered_arrays.items() if name in names}
    if expectation.ordered and not order.ordered:
        raise DacError(f"ordered: true, but the query's result has no defined order ({order_reason}); "
                       "remove ordered: or sort in the query", doc.location(key + ("ordered",)))
    ordered = order.ordered if expectation.ordered is None else expectation.ordered
    notes = []
    if arrays:
        notes.append("arrays compared regardless of element order: "
                     + ", ".join(f"{name} ({aggregate})" for name, aggregate in arrays.items()))
    if expectation.count is not None and len(actual) != expectation.count:
        return [f"{expectation.count} row(s) expected (count:), {len(actual)} returned"] + notes + \
            [_render(names, row, arrays) for row in actual[:20]] + (["..."] if len(actual) > 20 else [])
    if expectation.expect is not None:
        want = _typed_rows(expectation, "expect", names, types, now)
        lines = diff_rows(names, want, actual, ordered, arrays)
        if not lines:
            return []
        header = f"{len(want)} row(s) expected, {len(actual)} returned" + (" (in order)" if ordered else "")
        if ordered and not diff_rows(names, want, actual, False, arrays):
            notes.append("the same rows in another order: the query sorts (" + order_reason + "); rows that tie "
                         "on the sort keys may come in any order in Kusto (then set ordered: false)")
        return [header] + notes + lines + _datetime_text_hints(names, types, want, actual)
    if expectation.contains is not None:
        want = _typed_rows(expectation, "contains", names, types, now)
        have = Counter(_render(names, row, arrays) for row in actual)
        missing = []
        for row in want:
            text = _render(names, row, arrays)
            if have[text]:
                have[text] -= 1
            else:
                missing.append(text)
        if not missing:
            return []
        return [f"{len(missing)} of {len(want)} row(s) of contains: not returned ({len(actual)} returned)"] + notes + \
            ["missing: " + text for text in missing] + ["returned: " + _render(names, row, arrays) for row in actual[:20]] \
            + _datetime_text_hints(names, types, want, actual)
    return []


def _compared_columns(expectation: Expectation, result: Table) -> list[str]:
    if expectation.columns is None:
        return result.names
    for index, name in enumerate(expectation.columns):
        if name not in result.names:
            raise DacError(f"columns: '{name}' is not a result column (result columns: {', '.join(result.names)})",
                           expectation.doc.location(expectation.key + ("columns", index)))
    return list(expectation.columns)


def _typed_rows(expectation: Expectation, field: str, names: list[str], types: dict[str, str],
                now: datetime) -> list[tuple]:
    """The rows of ``expect:`` or ``contains:`` typed like the result's columns."""
    doc, key = expectation.doc, expectation.key + (field,)
    limited = expectation.columns is not None
    stated = "every column columns: lists" if limited else "every result column"
    rows = []
    for number, raw in enumerate(getattr(expectation, field)):
        where = doc.location(key + (number,))
        unknown = [c for c in raw if c not in names]
        if unknown:
            known = "compared columns (columns:)" if expectation.columns is not None else "result columns"
            raise DacError(f"{field} row names column(s) not compared: {', '.join(map(str, unknown))} "
                           f"({known}: {', '.join(names)})", doc.key_location(key + (number, unknown[0])))
        missing = [c for c in names if c not in raw]
        if missing:
            advice = "" if limited else "; columns: limits the comparison to some"
            raise DacError(f"{field} row lacks {'compared' if limited else 'result'} column(s): {', '.join(missing)} "
                           f"({stated} must be stated{advice})", where)
        rows.append(tuple(convert_value(raw[c], types[c], now, doc.location(key + (number, c))) for c in names))
    return rows


def _render(names: list[str], row: tuple, arrays: dict[str, str]) -> str:
    return render_row(names, row, arrays)


def _datetime_text_hints(names: list[str], types: dict[str, str], want: list[tuple], actual: list[tuple]) -> list[str]:
    """A hint when an expected string is a datetime written otherwise than Kusto writes it.

    ``tostring(datetime)`` (and strcat, format of a datetime) gives seven fractional digits and
    a Z: ``2024-05-01T11:55:00.0000000Z``; an expectation of ``2024-05-01T11:55:00Z`` for such
    a string column can never match, and the diff alone does not say why.
    """
    hints = []
    for index, name in enumerate(names):
        if types.get(name) != "string":
            continue
        returned = {row[index] for row in actual}
        for row in want:
            text = row[index]
            if not isinstance(text, str) or text in returned:
                continue
            try:
                moment = parse_datetime(text)
            except ValueError:
                continue
            if moment is not None and format_datetime_iso(moment) in returned:
                hints.append(f"hint: {name} is a string: Kusto writes a datetime as text with seven fractional "
                             f"digits, so write {format_datetime_iso(moment)!r}, not {text!r}")
                break
    return hints
