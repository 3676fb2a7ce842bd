"""The documentation yardstick: every Kusto doc example run by the evaluator and held to its documented output.

``../shared/corpus/kusto_doc_examples.jsonl`` holds the examples of the Kusto
documentation that show an output table: the query, the documented column names
and rows (as the page prints them: markdown text) and whether the query fixes
the row order. This module runs one example and compares the evaluator's typed
result tables (``evaluate(..., as_tables=True)``; a page may show several, as
``extra_tables``) with the documented text, reading each documented cell by the type of
its result column, because the pages print values loosely: datetimes in many
formats, reals rounded, JSON with odd spacing, markdown escapes in strings.
It is shared by ``bench/doc_examples.py`` (counts and a listing of the
disagreements) and ``tests/test_doc_examples.py`` (the agreement floor and the
verdict of every disagreement, kept in ``tests/data/doc_examples_verdicts.yaml``).

Documented text is read with this module's own small parsers, not the
evaluator's, so that a bug in the evaluator's literal parsing cannot hide behind
the same bug in the reading of the expectations.
"""

from __future__ import annotations

import decimal
import html
import json
import math
import re
import signal
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from dac.kql import KqlError, KqlUnsupportedError, evaluate
from dac.kql import values as V
from dac.kql.table import Table

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "kusto_doc_examples.jsonl"
VERDICTS = Path(__file__).resolve().parent / "data" / "doc_examples_verdicts.yaml"
# The clock of now() and ago(): fixed, so that the results are the same on every run.
NOW = datetime(2024, 5, 1, 12)
# dac's default limit on produced rows is 1,000,000; range(1, 1000000000) holds 1,048,576 values
# (the range page's own example), so its mv-expand needs a little more.
MAX_ROWS = 1_100_000
# An example that takes longer than this is an error (a hang would stop the suite).
TIME_LIMIT_SECONDS = 20
# Reals printed as integers, or in full: compared to this relative precision.
REAL_REL_TOL = 1e-9

# Kusto prints a null as an empty cell; some pages write null or (null), which no non-string type can mean otherwise.
NULL_TEXTS = ("", "null", "(null)")

AGREE, DIFFER, REFUSED, ERROR = "agree", "differ", "refused", "error"
VERDICT_KINDS = {
    "doc-error": "the documented output is not what Kusto returns (the reason says how that was established)",
    "random": "the output depends on randomness, the clock, the environment, or an order or choice Kusto leaves undefined",
    "fixed": "the example disagreed because of an evaluator bug, now fixed (it must agree)",
    "open-bug": "the evaluator is wrong here and not fixed yet (the reason says how)",
    "approximated": "a result of a function whose formula the documentation does not give (dac.kql.series.APPROXIMATED: "
                    "a best effort `dac validate` warns about): the example must call one",
    "pending": "an operator, statement or aggregate the evaluator neither implements nor refuses yet: the query "
               "is a parse or binding error today (it must still be one)",
}


# ------------------------------------------------------------------ examples and outcomes


def load_examples(path: Path = CORPUS) -> list[dict[str, Any]]:
    """The corpus records, in file order."""
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def load_verdicts(path: Path = VERDICTS) -> dict[str, Any]:
    """The data file: ``minimum_agreement`` and ``verdicts`` (id -> {verdict, reason})."""
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


@dataclass
class Outcome:
    """What running one example gave: its status and, for a disagreement or error, why."""

    example: dict[str, Any]
    status: str
    detail: str = ""
    table: Table | None = None
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)  # every result table; ``table`` is the first

    @property
    def id(self) -> str:
        return self.example["id"]


class _TimeLimit(Exception):
    """Raised inside a running example when its time is up."""


@contextmanager
def _time_limit(seconds: int) -> Iterator[None]:
    """Interrupt the evaluation after ``seconds`` (SIGALRM: main thread of a POSIX process only)."""
    if not hasattr(signal, "SIGALRM"):
        yield
        return

    def interrupt(signum: int, frame: Any) -> None:
        raise _TimeLimit()

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def run_example(example: dict[str, Any], now: datetime = NOW, time_limit: int = TIME_LIMIT_SECONDS) -> Outcome:
    """Evaluate the example's query over no tables and compare the result with the documented one."""
    import time

    started = time.perf_counter()
    try:
        with _time_limit(time_limit):
            tables = evaluate(example["query"], {}, now=now, as_tables=True, max_rows=MAX_ROWS)
    except KqlUnsupportedError as exc:
        return Outcome(example, REFUSED, str(exc), seconds=time.perf_counter() - started)
    except KqlError as exc:
        return Outcome(example, ERROR, f"{type(exc).__name__}: {exc}", seconds=time.perf_counter() - started)
    except _TimeLimit:
        return Outcome(example, ERROR, f"no result within {time_limit} s", seconds=time.perf_counter() - started)
    except Exception as exc:  # noqa: BLE001 - any other exception is an evaluator bug to report, not to crash on
        return Outcome(example, ERROR, f"crash: {type(exc).__name__}: {exc}", seconds=time.perf_counter() - started)
    seconds = time.perf_counter() - started
    problems = compare_tables(example, tables)
    return Outcome(example, DIFFER if problems else AGREE, "; ".join(problems), tables[0], seconds, problems, tables)


def run_all(examples: list[dict[str, Any]], now: datetime = NOW) -> list[Outcome]:
    return [run_example(example, now) for example in examples]


def agreement(outcomes: list[Outcome]) -> tuple[int, int]:
    """(agreeing, not refused): the yardstick counts only examples whose features the evaluator accepts."""
    judged = [o for o in outcomes if o.status != REFUSED]
    return sum(o.status == AGREE for o in judged), len(judged)


# ------------------------------------------------------------------ comparison


def documented_tables(example: dict[str, Any]) -> list[dict[str, Any]]:
    """The example's documented tables in order: its own columns and rows, then its ``extra_tables``
    (a page showing several result sets, as a batch of statements returns them)."""
    return [example] + list(example.get("extra_tables") or [])


def compare_tables(example: dict[str, Any], tables: list[Table]) -> list[str]:
    """What differs between the documented result tables and ``tables``: their number, then each
    pair compared as ``compare`` does (the query's order, if fixed, applies to each)."""
    documented = documented_tables(example)
    if len(documented) != len(tables):
        return [f"result tables: documented {len(documented)}, actual {len(tables)}"]
    problems = compare(example, tables[0])
    for position, (extra, table) in enumerate(zip(documented[1:], tables[1:]), 2):
        problems += [f"table {position}: {problem}"
                     for problem in compare({**example, "columns": extra["columns"], "rows": extra["rows"]}, table)]
    return problems


def compare(example: dict[str, Any], table: Table) -> list[str]:
    """What differs between the documented output and ``table`` (empty when they agree)."""
    problems: list[str] = []
    documented_names = [column_name(name) for name in example["columns"]]
    actual_names = [name for name, _ in table.columns]
    if documented_names != actual_names:
        problems.append(f"columns: documented {documented_names}, actual {actual_names}")
    if len(documented_names) != len(actual_names):
        return problems
    types = [kind for _, kind in table.columns]
    documented = [list(row) for row in example["rows"]]
    actual = [tuple(row) for row in table.rows]
    if len(documented) != len(actual):
        problems.append(f"rows: documented {len(documented)}, actual {len(actual)}")
        return problems
    if any(len(row) != len(types) for row in documented):
        problems.append(f"a documented row does not have {len(types)} cells")
        return problems

    def matches(doc_row: list[str], act_row: tuple) -> bool:
        return all(cell_matches(text, value, kind) for text, value, kind in zip(doc_row, act_row, types))

    if fixes_order(example):
        for position, (doc_row, act_row) in enumerate(zip(documented, actual)):
            if not matches(doc_row, act_row):
                problems.append(f"row {position + 1}: documented {doc_row}, actual {show_row(act_row, types)}")
                break
        return problems
    unmatched = unmatched_rows(documented, actual, matches)
    if unmatched:
        problems.append(f"documented rows not in the result: {[documented[i] for i in unmatched]}")
    return problems


# Reasons the corpus gives for a fixed order that do not fix it: top-nested promises no row
# order (https://learn.microsoft.com/kusto/query/top-nested-operator says nothing of one, and
# its own example output is not in nesting order).
NOT_ORDERING = ("operator:top-nested",)


def fixes_order(example: dict[str, Any]) -> bool:
    """Does the example's query fix the row order (the corpus's ``ordered``, with its reasons checked)?"""
    reasons = example.get("ordered_reason") or []
    if not example.get("ordered"):
        return False
    return not all(reason in NOT_ORDERING for reason in reasons)


def unmatched_rows(documented: list[list[str]], actual: list[tuple],
                   matches: Callable[[list[str], tuple], bool]) -> list[int]:
    """Documented rows left without a partner in a maximum one-to-one matching (order ignored).

    A plain greedy pass could pair a documented row with an actual row that a
    later, stricter documented row needed (tolerances make several rows fit),
    so the pairing is a bipartite matching by augmenting paths.
    """
    fits = [[j for j, act in enumerate(actual) if matches(doc, act)] for doc in documented]
    partner: dict[int, int] = {}  # actual index -> documented index

    def place(i: int, seen: set[int]) -> bool:
        for j in fits[i]:
            if j in seen:
                continue
            seen.add(j)
            if j not in partner or place(partner[j], seen):
                partner[j] = i
                return True
        return False

    return [i for i in range(len(documented)) if not place(i, set())]


def column_name(text: str) -> str:
    """A documented column header without markdown code quotes or escapes."""
    return unescape(text).strip().strip("`").strip()


def unescape(text: str, backslashes: bool = True) -> str:
    """The cell's value as the page means it: markdown escapes and HTML entities undone.

    ``<br>`` in a table cell is a line break of the value (a markdown table cell
    cannot hold a newline); ``\\|`` is a literal bar; a cell of nothing but
    ``&nbsp;`` is empty. Inside a code span markdown leaves backslashes alone;
    outside one ``\\\\`` is one backslash, ``\\_`` an underscore, but pages
    often write paths and JSON without escaping them, so ``backslashes=False``
    gives that second reading (see ``readings``).
    """
    code = re.fullmatch(r"\s*`([^`]*)`\s*", text)
    if code:  # a cell printed as inline code
        text, backslashes = code.group(1), False
    text = re.sub(r"<br\s*/?>", "\n", text, flags=re.IGNORECASE)
    text = re.sub(r"<(https?://[^\s<>]+)>", r"\1", text)  # a markdown autolink
    text = re.sub(r"\\([\\`*_{}\[\]()#+\-.!|<>~])" if backslashes else r"\\(\|)", r"\1", text)
    text = html.unescape(text)
    return "" if text.strip(" \xa0") == "" else text


def readings(text: str) -> list[str]:
    """The ways a documented cell can be read: with markdown's backslash escapes, and without them."""
    first = unescape(text)
    second = unescape(text, backslashes=False)
    return [first] if second == first else [first, second]


def show_row(row: tuple, types: list[str]) -> list[str]:
    return [show_value(value, kind) for value, kind in zip(row, types)]


def show_value(value: Any, kind: str) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, dict)) or kind == "dynamic":
        return V.to_json_text(value)
    return V.to_string(value)


def cell_matches(text: str, value: Any, kind: str) -> bool:
    """Does the documented cell ``text`` stand for ``value`` of the column type ``kind``?"""
    return any(_reading_matches(reading, value, kind) for reading in readings(text))


def _reading_matches(text: str, value: Any, kind: str) -> bool:
    reader = _READERS.get(V.normal_type(kind))
    if reader is None:
        return False
    if kind != "string":
        text = text.strip()
        if text in NULL_TEXTS:
            return value is None
    if value is None:
        return False
    try:
        return reader(text, value)
    except (ValueError, ArithmeticError):
        return False


def _string(text: str, value: Any) -> bool:
    if text == value:
        return True
    # pages pad cells and break long values with <br> for layout: tolerate whitespace at the ends
    # and layout line breaks, but never a difference in a visible character
    if text.strip() == value.strip() or text.replace("\n", "") == value.replace("\n", ""):
        return True
    # a markdown cell cannot hold a line break: a multi-line value is printed on one line,
    # its line breaks and indentation shown as single spaces
    return "\n" in value and " ".join(text.split()) == " ".join(value.split())


def _bool(text: str, value: Any) -> bool:
    return {"true": True, "false": False, "1": True, "0": False}[text.lower()] == value


def _long(text: str, value: Any) -> bool:
    text = text.replace(",", "") if re.fullmatch(r"-?\d{1,3}(,\d{3})+", text) else text
    if re.fullmatch(r"[-+]?\d+", text):
        return int(text) == value
    return _real(text, value)  # a page may print a long as 5.0


def _real(text: str, value: Any) -> bool:
    # the pages print infinities as Kusto's web explorer shows them (∞, -∞) or in words
    special = {"nan": math.nan, "infinity": math.inf, "-infinity": -math.inf, "inf": math.inf, "-inf": -math.inf,
               "∞": math.inf, "-∞": -math.inf}
    actual = float(value)
    if text.lower() in special:
        expected = special[text.lower()]
        return math.isnan(actual) if math.isnan(expected) else actual == expected
    if math.isnan(actual) or math.isinf(actual):
        return False
    expected = float(text)
    if math.isclose(expected, actual, rel_tol=REAL_REL_TOL, abs_tol=1e-12):
        return True
    return abs(expected - actual) <= _printed_precision(text) * (1 + 1e-9)


def _printed_precision(text: str) -> float:
    """Half a unit in the last digit the page prints, for a rounded real (0.33 -> 0.005).

    A page that prints a real rounded keeps fewer digits than the value has; the
    value must round to what is printed. An integer text (5, 1E+18) is taken as exact.
    """
    match = re.fullmatch(r"[-+]?\d*\.(\d+)(?:[eE]([-+]?\d+))?", text)
    if not match:
        return 0.0
    exponent = int(match.group(2) or 0)
    return 0.5 * 10.0 ** (exponent - len(match.group(1)))


def _decimal(text: str, value: Any) -> bool:
    # a page may group a decimal's digits by thousands, as the explorer prints them (parse-version page)
    text = text.replace(",", "") if re.fullmatch(r"-?\d{1,3}(,\d{3})+(\.\d+)?", text) else text
    if re.fullmatch(r"[-+]?\d+", text) and value == value.to_integral_value():
        return decimal.Decimal(text) == value  # an integral decimal is printed in full: exactly
    return _real(text, float(value)) if not re.fullmatch(r"[-+]?\d+(\.\d+)?", text) else (
        decimal.Decimal(text) == value or _real(text, float(value)))


_MONTHS = {name: number for number, name in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1)}
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?)?"
                  r"\s*(Z|[+-]\d{2}:?\d{2})?")
_US = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})(?:,?\s+(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?\s*([AP]M)?)?",
                 re.IGNORECASE)


def read_datetime(text: str) -> datetime:
    """A documented instant: ISO 8601 (T or space, Z, offset, 1-7 fraction digits) or US M/D/YYYY h:mm:ss AM."""
    text = text.strip()
    match = _ISO.fullmatch(text)
    if match:
        year, month, day, hour, minute, second, fraction, zone = match.groups()
        moment = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0),
                          int((fraction or "0").ljust(7, "0")[:6]))
        if zone and zone != "Z":
            sign = -1 if zone[0] == "-" else 1
            digits = zone[1:].replace(":", "")
            moment -= sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        return moment
    match = _US.fullmatch(text)
    if match:
        month, day, year, hour, minute, second, fraction, meridiem = match.groups()
        hour_value = int(hour or 0)
        if meridiem:
            hour_value = hour_value % 12 + (12 if meridiem.upper() == "PM" else 0)
        return datetime(int(year), int(month), int(day), hour_value, int(minute or 0), int(second or 0),
                        int((fraction or "0").ljust(7, "0")[:6]))
    raise ValueError(f"not a documented datetime: {text!r}")


def _datetime(text: str, value: Any) -> bool:
    # Kusto counts 100 ns ticks and the value model microseconds: one microsecond apart is the same instant
    return abs(read_datetime(text) - value) <= timedelta(microseconds=1)


_SPAN = re.compile(r"(-)?(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,7}))?")


def read_timespan(text: str) -> timedelta:
    """A documented timespan in Kusto's text, ``[-][d.]hh:mm:ss[.fffffff]``."""
    match = _SPAN.fullmatch(text.strip())
    if not match:
        raise ValueError(f"not a documented timespan: {text!r}")
    negative, days, hours, minutes, seconds, fraction = match.groups()
    span = timedelta(days=int(days or 0), hours=int(hours), minutes=int(minutes), seconds=int(seconds),
                     microseconds=int((fraction or "0").ljust(7, "0")[:6]))
    return -span if negative else span


def _timespan(text: str, value: Any) -> bool:
    return abs(read_timespan(text) - value) <= timedelta(microseconds=1)


def _guid(text: str, value: Any) -> bool:
    return uuid.UUID(text) == value


def _dynamic(text: str, value: Any) -> bool:
    try:
        expected = json.loads(text)
    except json.JSONDecodeError:
        # a page prints a dynamic string without JSON quotes, and some JSON with single quotes
        if isinstance(value, str):
            return text == value
        try:
            expected = json.loads(text.replace("'", '"'))
        except json.JSONDecodeError:
            return False
    return json_equal(expected, _plain(value))


def _plain(value: Any) -> Any:
    """A dynamic value as JSON has it: datetimes, timespans and guids as their Kusto text."""
    if isinstance(value, (datetime, timedelta, uuid.UUID)):
        return V.to_string(value)
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    return value


def json_equal(expected: Any, actual: Any) -> bool:
    """JSON values equal by kind (true is not 1), numbers by value (reals to the printed precision)."""
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(expected) is type(actual) and expected == actual
    if isinstance(expected, (int, float)) and isinstance(actual, (int, float)):
        return _real(json.dumps(expected), actual) if isinstance(expected, float) else expected == actual
    if isinstance(expected, str) and isinstance(actual, str):
        if expected == actual:
            return True
        try:  # a datetime inside a dynamic value is printed in any of the page formats
            return abs(read_datetime(expected) - read_datetime(actual)) <= timedelta(microseconds=1)
        except ValueError:
            return False
    if isinstance(expected, list) and isinstance(actual, list):
        return len(expected) == len(actual) and all(json_equal(e, a) for e, a in zip(expected, actual))
    if isinstance(expected, dict) and isinstance(actual, dict):
        return set(expected) == set(actual) and all(json_equal(expected[k], actual[k]) for k in expected)
    return expected is None and actual is None


_READERS: dict[str, Callable[[str, Any], bool]] = {
    "string": _string, "bool": _bool, "int": _long, "long": _long, "real": _real, "decimal": _decimal,
    "datetime": _datetime, "timespan": _timespan, "guid": _guid, "dynamic": _dynamic,
}
