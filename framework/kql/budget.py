"""One resource budget per evaluation: what a query may make the evaluator build.

A limit per operator or per call leaves the total open: ``range`` capped per call
can still be unioned a hundred times, a string capped per ``strrep`` can still be
doubled by ``strcat`` until memory runs out, a ``lookup`` multiplies rows before
any check looks at its output. So each evaluation (one ``evaluate()`` call: one
test case, one ``dac run``) gets one ``Budget``, and every place that builds
something large charges it:

- ``rows``: rows materialised by operators and sources (sort, summarize groups,
  join and lookup output, mv-expand, range, union, datatable, plugins...). The
  row-local operators that only keep or reshape rows they were given (where,
  extend, project...) are not charged; the rows of input tables are not either.
- ``value_mb``: strings and dynamic values built by functions (strcat, strrep,
  replace_string, tostring of dynamic, range(), array_concat...), in millions of
  bytes, a character counting one byte and an array item or bag entry eight (a
  reference). Values below ``SMALL`` are not counted, so the common case pays one
  length comparison; what they can add up to is bounded by the row budget.
- ``series_points``: make-series values, groups times bins times aggregates.
- ``regex_groups``: capture groups of one regular expression. RE2 keeps its
  matching linear, but with about a thousand groups its DFA runs out of memory
  and every match falls back to a slow engine (half a second per match); the
  program size itself is bounded by RE2's own memory budget (``max_mem``, 8 MiB),
  which fails the compilation ("pattern too large").
- ``data_mb``: what a data file of ``dac run`` may decompress to or hold when read
  whole (enforced by ``dac.backtest``; recorded here so one place names every limit).

Each exceeded limit is a ``BudgetExceeded`` naming the limit, its value and the
``[tool.dac]`` setting and flag that raise it. Charges made outside an evaluation
(a function called directly) are not counted.
"""

from __future__ import annotations

import re
from contextvars import ContextVar
from dataclasses import dataclass, fields
from typing import Any

import re2

from dac.kql.errors import KqlRuntimeError

# Values at most this large (characters, or items times ITEM_BYTES) are not charged.
SMALL = 256
ITEM_BYTES = 8  # what one array item or bag entry counts: a reference to a value
# A value a function could build of more than this many bytes is worth a look before it is built.
LARGE = 16_000_000


@dataclass(frozen=True)
class Limits:
    """The budget's limits; the defaults are generous for real detections and back-tests."""

    rows: int = 10_000_000
    value_mb: int = 1_024
    series_points: int = 10_000_000
    regex_groups: int = 256
    data_mb: int = 4_096

    def replace(self, **changes: int | None) -> "Limits":
        """These limits with the given ones changed (None keeps a limit)."""
        kept = {f.name: getattr(self, f.name) for f in fields(self)}
        kept.update({name: value for name, value in changes.items() if value is not None})
        return Limits(**kept)


# limit -> (the [tool.dac] setting and flag that raise it, the unit it counts)
SETTINGS = {
    "rows": ("max-rows", "rows"),
    "value_mb": ("max-value-mb", "MB of strings and dynamic values"),
    "series_points": ("max-series-points", "series points"),
    "regex_groups": ("max-regex-groups", "capture groups"),
    "data_mb": ("max-data-mb", "MB"),
}


class BudgetExceeded(KqlRuntimeError):
    """A query that needs more than a limit of the evaluation budget allows."""

    def __init__(self, limit: str, value: int, what: str = "", line: int = 0, column: int = 0) -> None:
        setting, unit = SETTINGS[limit]
        super().__init__(f"{what + ': ' if what else ''}the query needs more than the evaluation budget of "
                         f"{value:,} {unit} (raise it with [tool.dac] {setting} or --{setting})", line, column)
        self.limit, self.value, self.what = limit, value, what

    def at(self, line: int, column: int, what: str) -> "BudgetExceeded":
        """The same failure located at a query position, where ``what`` failed (kept when it has one)."""
        return self if self.line else BudgetExceeded(self.limit, self.value, self.what or what, line, column)


class Budget:
    """What is left of one evaluation's limits; each charge subtracts and fails past zero."""

    __slots__ = ("limits", "rows_left", "bytes_left", "points_left")

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self.rows_left = self.limits.rows
        self.bytes_left = self.limits.value_mb * 1_000_000
        self.points_left = self.limits.series_points

    def rows(self, count: int, node: Any = None, what: str = "") -> None:
        """Charge ``count`` rows built at ``node`` (an AST node or None) by ``what`` (default: the
        operator ``node`` is)."""
        self.rows_left -= count
        if self.rows_left < 0:
            raise BudgetExceeded("rows", self.limits.rows, what or operator_name(node), *_position(node))

    def value_bytes(self, size: int, node: Any = None) -> None:
        """Charge ``size`` bytes of strings or dynamic values about to be built (or just built)."""
        self.bytes_left -= size
        if self.bytes_left < 0:
            raise BudgetExceeded("value_mb", self.limits.value_mb, operator_name(node), *_position(node))

    def points(self, count: int, node: Any = None) -> None:
        """Charge ``count`` make-series points."""
        self.points_left -= count
        if self.points_left < 0:
            raise BudgetExceeded("series_points", self.limits.series_points, operator_name(node), *_position(node))

    def regex(self, groups: int, node: Any = None) -> None:
        """Refuse a regular expression with more capture groups than the budget allows."""
        if groups > self.limits.regex_groups:
            raise BudgetExceeded("regex_groups", self.limits.regex_groups,
                                 f"the regular expression has {groups:,} capture groups", *_position(node))


def operator_name(node: Any) -> str:
    """How a query spells the operator or source ``node`` is (MvExpand: mv-expand), "" for None."""
    if node is None:
        return ""
    name = getattr(node, "name", None) if type(node).__name__ == "Generic" else None
    return name or re.sub(r"(?<!^)(?=[A-Z])", "-", type(node).__name__).lower()


def _position(node: Any) -> tuple[int, int]:
    return (getattr(node, "line", 0), getattr(node, "column", 0)) if node is not None else (0, 0)


_current: ContextVar[Budget | None] = ContextVar("dac_kql_budget", default=None)


class active:
    """``with active(budget):`` makes ``budget`` the one that functions charge."""

    def __init__(self, budget: Budget) -> None:
        self.budget = budget

    def __enter__(self) -> Budget:
        self.token = _current.set(self.budget)
        return self.budget

    def __exit__(self, *exc: object) -> None:
        _current.reset(self.token)


def text(size: int) -> None:
    """Charge a string of ``size`` characters a function is about to build (small ones are free)."""
    if size > SMALL:
        budget = _current.get()
        if budget is not None:
            budget.value_bytes(size)


def items(count: int) -> None:
    """Charge an array or bag of ``count`` items a function is about to build (small ones are free)."""
    if count * ITEM_BYTES > SMALL:
        budget = _current.get()
        if budget is not None:
            budget.value_bytes(count * ITEM_BYTES)


# RE2 writes every pattern it cannot parse to stderr through its own logger ("re2.cc:242] Error
# parsing ..."): a query's bad pattern is a located query error, never noise on the terminal.
_QUIET = re2.Options()
_QUIET.log_errors = False


def compile_regex(pattern: str, node: Any = None) -> Any:
    """``pattern`` compiled by RE2 without logging; in an evaluation, refused when it has more capture
    groups than the budget allows (a bad pattern raises re2.error, which callers locate)."""
    regex = re2.compile(pattern, _QUIET)
    budget = _current.get()
    if budget is not None:
        budget.regex(regex.groups, node)
    return regex


def dynamic(value: Any) -> None:
    """Charge the text ``value`` (an array or bag) would serialise to, before it is serialised.

    Arrays and bags share their items, so ``pack_array(a, a)`` nested twenty deep is small in
    memory yet a terabyte as text: the walk counts each shared item every time it appears,
    remembering the size of what it has measured, and stops as soon as the budget is spent.
    """
    budget = _current.get()
    if budget is None:
        return
    sizes: dict[int, int] = {}
    left = budget.bytes_left

    def size(item: Any) -> int:
        if isinstance(item, str):
            return len(item) + 2
        if not isinstance(item, (list, dict)):
            return 8
        known = sizes.get(id(item))
        if known is not None:
            return known
        total = 2
        for member in (item if isinstance(item, list) else item.values()):
            total += size(member) + 1
            if total > left:
                break
        if isinstance(item, dict):
            total += sum(len(key) + 3 for key in item)
        sizes[id(item)] = total
        return total

    measured = size(value)
    if measured > SMALL:
        budget.value_bytes(measured)


def regex_problem(exc: Exception) -> str:
    """What RE2 said of a pattern it refused, as text ("invalid regular expression: missing ]: [")."""
    detail = exc.args[0] if exc.args else exc
    if isinstance(detail, bytes):
        detail = detail.decode("utf-8", "replace")
    return f"invalid regular expression: {detail}"
