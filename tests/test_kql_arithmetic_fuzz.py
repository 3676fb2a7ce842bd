"""Property-based robustness of Kusto arithmetic: extreme values never escape as Python exceptions.

Random arithmetic, datetime and timespan expressions over the edges of each type
(the largest and smallest long, NaN and the infinities, the first and last
datetime, the longest timespans) are evaluated two ways: folded as constants in
``print`` and computed per row from a table's columns. Each gives a value or one
of the evaluator's own errors (KqlError), quickly; the values stay in their
Kusto ranges and write as standard JSON (see dac.kql.bounds).
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dac.kql import KqlError, evaluate
from dac.kql import values as V
from dac.kql.bounds import LONG_MAX, LONG_MIN, MAX_TIMESPAN, MIN_TIMESPAN

# The edges of each type, as KQL literal text and as a column of the one-row table T.
LONGS = {"9223372036854775807": LONG_MAX, "-9223372036854775808": LONG_MIN, "0": 0, "1": 1, "-1": -1,
         "4611686018427387904": 1 << 62, "3037000500": 3037000500, "2147483648": 1 << 31}
REALS = {"1e308": 1e308, "-1e308": -1e308, "real(nan)": float("nan"), "real(+inf)": float("inf"),
         "real(-inf)": float("-inf"), "0.0": 0.0, "5e-324": 5e-324, "0.5": 0.5, "-2.5": -2.5}
# The edges as the value model holds them (microseconds): a literal with a 7th fraction digit, such as
# Kusto's own bounds datetime(9999-12-31 23:59:59.9999999) or 1tick, is refused (literals.loses_ticks).
DATETIMES = {"datetime(0001-01-01)": datetime(1, 1, 1), "datetime(9999-12-31 23:59:59.999999)": datetime.max,
             "datetime(2024-02-29 12:00)": datetime(2024, 2, 29, 12), "datetime(1970-01-01)": datetime(1970, 1, 1)}
TIMESPANS = {"timespan(10675199.02:48:05.477580)": MAX_TIMESPAN, "timespan(-10675199.02:48:05.477580)": MIN_TIMESPAN,
             "1d": timedelta(days=1), "-36500d": timedelta(days=-36500), "0s": timedelta(0)}
PATTERNS = {'"("': "(", '"(a)"': "(a)", '"[a-"': "[a-", '@"(\\d+)"': r"(\d+)"}
REWRITES = {'@"\\9"': r"\9", '@"<\\1>"': r"<\1>", '"x"': "x"}

KINDS = {"long": LONGS, "real": REALS, "datetime": DATETIMES, "timespan": TIMESPANS, "string": PATTERNS}
COLUMNS = [(f"{kind[0]}{index}", kind) for kind, table in KINDS.items() for index in range(len(table))]
ROW = {name: list(KINDS[kind].values())[int(name[1:])] for name, kind in COLUMNS}
TABLE_COLUMNS = [(name, kind) for name, kind in COLUMNS]
PERIODS = ["year", "quarter", "month", "week", "day", "hour", "second", "millisecond", "nanosecond"]


def leaf(kind: str, as_column: bool) -> st.SearchStrategy[str]:
    """A value of ``kind``: a literal, or the column of T that holds the same value."""
    if as_column:
        return st.sampled_from([name for name, k in COLUMNS if k == kind])
    return st.sampled_from(list(KINDS[kind]))


def _call(name: str, *args: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.tuples(*args).map(lambda parts: f"{name}({', '.join(parts)})")


def _infix(left: st.SearchStrategy[str], ops: list[str], right: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.tuples(left, st.sampled_from(ops), right).map(lambda t: f"({t[0]} {t[1]} {t[2]})")


def typed(kind: str, depth: int, as_column: bool) -> st.SearchStrategy[str]:
    """An expression of ``kind`` (number, datetime or timespan) nested ``depth`` deep at most,
    built so that the binder accepts most of them and evaluation is what gets exercised."""
    leaves = {"number": st.one_of(leaf("long", as_column), leaf("real", as_column)),
              "datetime": leaf("datetime", as_column), "timespan": leaf("timespan", as_column)}
    if depth == 0:
        return leaves[kind]
    n, t, s = (typed(k, depth - 1, as_column) for k in ("number", "datetime", "timespan"))
    period = st.sampled_from([f"'{p}'" for p in PERIODS])
    forms = {
        "number": [
            _infix(n, ["+", "-", "*", "/", "%"], n), n.map(lambda e: f"-({e})"), _infix(s, ["/"], s),
            *(_call(f, n) for f in ("abs", "exp", "exp2", "exp10", "gamma", "ceiling", "sqrt", "log", "tolong",
                                    "toint", "todouble")),
            *(_call(f, n, n) for f in ("pow", "round", "bin", "binary_shift_left", "binary_shift_right", "max_of")),
            _call("datetime_diff", period, t, t), _call("tolong", s), _call("array_sum", _call("pack_array", n, n)),
            st.tuples(n, n, n).map(lambda p: f"iff({p[0]} > {p[1]}, {p[1]}, {p[2]})"),
        ],
        "datetime": [
            _infix(t, ["+", "-"], s), _infix(s, ["+"], t), _call("datetime_add", period, n, t),
            *(_call(f, t, n) for f in ("startofday", "startofweek", "startofmonth", "endofmonth", "endofyear")),
            _call("endofweek", t), _call("make_datetime", n, n, n), _call("unixtime_seconds_todatetime", n),
            _call("unixtime_nanoseconds_todatetime", n), s.map(lambda e: f"ago({e})"), _call("bin", t, s),
            t.map(lambda e: f"todatetime(tostring({e}))"),
            t.map(lambda e: f"datetime_local_to_utc({e}, 'Pacific/Kiritimati')"),
            t.map(lambda e: f"datetime_utc_to_local({e}, 'Pacific/Pago_Pago')"),
        ],
        "timespan": [
            _infix(s, ["+", "-"], s), _infix(s, ["*", "/"], n), _infix(n, ["*"], s), s.map(lambda e: f"-({e})"),
            _infix(t, ["-"], t), _call("totimespan", n), _call("make_timespan", n, n), _call("bin", s, s),
            _call("dayofweek", t),
        ],
    }
    return st.one_of(leaves[kind], *forms[kind])


def expression(as_column: bool) -> st.SearchStrategy[str]:
    text = leaf("string", as_column)
    rewrite = text if as_column else st.sampled_from(list(REWRITES))
    value = st.one_of(*(typed(kind, 3, as_column) for kind in ("number", "datetime", "timespan")))
    return st.one_of(
        value, value.map(lambda e: f"tostring({e})"), _call("tohex", typed("number", 2, as_column)),
        _call("extract", text, typed("number", 1, as_column), st.just('"a12b"')),
        _call("replace_regex", st.just('"a12b"'), text, rewrite),
        st.tuples(value, value, value).map(lambda p: f"({p[0]} between ({p[1]} .. {p[2]}))"),
    )


def _no_constant(name: str) -> None:
    raise AssertionError(f"JSON output holds the non-standard constant {name}")


def check(query: str, tables: dict) -> None:
    start = time.perf_counter()
    try:
        result = evaluate(query, tables, now=datetime(2024, 5, 1, 12), as_table=True)
    except KqlError:
        pass  # one of the evaluator's own errors: a refusal with a position, never a traceback
    else:
        for row in result.rows:
            for value in row:
                if isinstance(value, int) and not isinstance(value, bool):
                    assert LONG_MIN <= value <= LONG_MAX, f"{query}: {value} is no long"
                if isinstance(value, timedelta):
                    assert MIN_TIMESPAN <= value <= MAX_TIMESPAN, f"{query}: {value} is no timespan"
            json.loads(V.to_json_text(list(row)), parse_constant=_no_constant)
    assert time.perf_counter() - start < 2, f"{query} took too long"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expression(as_column=False))
def test_constant_expressions_over_extreme_values(expr: str) -> None:
    check(f"print r = {expr}", {})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expression(as_column=True))
def test_row_expressions_over_extreme_values(expr: str) -> None:
    from dac.kql.table import Table

    table = Table(TABLE_COLUMNS, [tuple(ROW[name] for name, _ in TABLE_COLUMNS)])
    check(f"T | extend r = {expr} | project r", {"T": table})


def test_extreme_literals_round_trip() -> None:
    """Each edge value reads back as itself, as a literal and through its column."""
    for kind, table in KINDS.items():
        for text, value in table.items():
            if kind == "string":
                continue
            (printed,) = evaluate(f"print r = {text}", {}, as_table=True).rows[0]
            if isinstance(value, float) and value != value:
                assert printed != printed
            else:
                assert printed == value or abs(printed - value) <= timedelta(microseconds=1), (text, printed)
