"""A fuzzer for the evaluator: generated queries over generated tables end in rows or a KqlError.

Hypothesis draws a small table (a few typed columns, a handful of rows with nulls and the
edges of each type), then a pipeline of tabular operators over it whose expressions are
built by type: columns, literals, the arithmetic, comparison, string and logical
operators, and calls of the evaluator's own scalar functions and aggregates (the
registries themselves, so every function added is fuzzed too), with arguments of the
types their parameters take and, now and then, of any type. Whatever the query, the
evaluator must give a table that writes as standard JSON, or one of its documented
errors (KqlError: a syntax, semantic, unsupported or runtime error), within a bounded
time. Anything else (a Python exception, a hang, NaN in JSON) is a bug.

A long campaign (``DAC_FUZZ_EXAMPLES=20000``) was run once; what it found is kept as
the cases of ``test_found_by_the_campaign``.
"""

from __future__ import annotations

import json
import os
import time
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dac.kql import KqlError, evaluate
from dac.kql import values as V
from dac.kql.aggregates import AGGREGATES
from dac.kql.functions import FUNCTIONS
from dac.kql.table import Table

EXAMPLES = int(os.environ.get("DAC_FUZZ_EXAMPLES", "300"))
SECONDS_PER_QUERY = 5.0
NOW = datetime(2024, 5, 1, 12)

TYPES = ("long", "real", "string", "bool", "datetime", "timespan", "dynamic")
VALUES = {
    "long": st.one_of(st.integers(-1000, 1000), st.sampled_from([0, 1, -1, 2**31, 2**62, 2**63 - 1, -(2**63)])),
    "real": st.one_of(st.floats(-1e6, 1e6, allow_nan=False), st.sampled_from([0.0, -0.0, 0.5, 1e308, float("nan"),
                                                                           float("inf"), float("-inf")])),
    "string": st.one_of(st.sampled_from(["", "a", "abc", "Hello World", "10.0.0.1", "x,y;z", "ÄÖü", "%41", "a.b.c",
                                         "2024-01-01", "1d", "[1,2]", '{"k":1}', "true"]),
                        st.text(max_size=6)),
    "bool": st.booleans(),
    "datetime": st.one_of(st.datetimes(datetime(1, 1, 1), datetime(9999, 12, 31)),
                          st.sampled_from([datetime(1970, 1, 1), datetime(2024, 4, 30, 23, 59), datetime.max])),
    "timespan": st.one_of(st.timedeltas(timedelta(days=-3650), timedelta(days=3650)),
                          st.sampled_from([timedelta(0), timedelta(hours=1), timedelta(microseconds=1)])),
    "dynamic": st.recursive(st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.text(max_size=3)),
                            lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                    st.dictionaries(st.sampled_from("abc"), inner, max_size=3)),
                            max_leaves=6),
}
LITERALS = {
    "long": st.sampled_from(["0", "1", "-1", "3", "100", "9223372036854775807", "long(null)"]),
    "real": st.sampled_from(["0.0", "1.5", "-2.25", "1e308", "real(nan)", "real(+inf)", "real(null)"]),
    "string": st.sampled_from(['""', '"a"', '"abc"', '"A"', '"10.0.0.0/8"', '","', '"."', '@"\\d+"', '"(a)"', '"%"']),
    "bool": st.sampled_from(["true", "false", "bool(null)"]),
    "datetime": st.sampled_from(["datetime(2024-01-01)", "datetime(1970-01-01 00:00:01)", "now()", "ago(1d)",
                                 "datetime(9999-12-31)", "datetime(null)"]),
    "timespan": st.sampled_from(["1d", "1h", "30m", "1tick", "-1s", "time(null)", "10675199d"]),
    "dynamic": st.sampled_from(["dynamic([1, 2, 3])", 'dynamic({"a": 1, "b": [2]})', "dynamic(null)", "dynamic([])",
                                'dynamic(["x", "y"])', "dynamic(5)"]),
}
OPERATORS = {
    "long": ["+", "-", "*", "/", "%"], "real": ["+", "-", "*", "/"], "timespan": ["+", "-"],
    "string": [], "bool": ["and", "or"], "datetime": [], "dynamic": [],
}
STRING_PREDICATES = ["==", "!=", "=~", "!~", "has", "!has", "contains", "!contains", "startswith", "endswith",
                     "has_cs", "contains_cs", "matches regex", "in~", "has_any"]
# Functions whose call on generated arguments is not about the evaluator: the clock and
# randomness (the result differs each run, which is fine but not comparable).
UNSTABLE = {"rand", "new_guid", "now", "ago"}
SCALARS = sorted(name for name in FUNCTIONS if name not in UNSTABLE)
AGGREGATE_NAMES = sorted(AGGREGATES)


def _arity(function) -> st.SearchStrategy[int]:
    """A number of arguments the function takes (mostly), or one it does not (now and then)."""
    most = function.max_args if function.max_args is not None else function.min_args + 2
    fitting = st.integers(function.min_args, min(most, function.min_args + 3))
    return st.one_of(fitting, fitting, fitting, fitting, st.just(most + 1))


def _column_name(index: int, kind: str) -> str:
    return f"{kind[0]}{index}"


@st.composite
def tables(draw) -> tuple[list[tuple[str, str]], list[dict]]:
    kinds = draw(st.lists(st.sampled_from(TYPES), min_size=2, max_size=5))
    columns = [(_column_name(index, kind), kind) for index, kind in enumerate(kinds)]
    rows = []
    for _ in range(draw(st.integers(0, 6))):
        rows.append({name: draw(st.one_of(st.none(), VALUES[kind]) if kind != "string" else VALUES[kind])
                     for name, kind in columns})
    return columns, rows


def expressions(columns: list[tuple[str, str]], kind: str, depth: int = 2) -> st.SearchStrategy[str]:
    """Text of an expression of ``kind`` over ``columns`` (sometimes deliberately of another type)."""
    same = [name for name, k in columns if k == kind]
    leaves = [LITERALS[kind]] + ([st.sampled_from(same)] if same else [])
    leaf = st.one_of(*leaves)
    if depth <= 0:
        return leaf
    sub = lambda k: expressions(columns, k, depth - 1)  # noqa: E731 - a local shorthand
    branches = [leaf]
    if OPERATORS[kind]:
        branches.append(st.tuples(sub(kind), st.sampled_from(OPERATORS[kind]), sub(kind)).map(" ".join).map(
            lambda text: f"({text})"))
    if kind == "bool":
        comparable = [k for k in ("long", "real", "datetime", "timespan")]
        branches.append(st.sampled_from(comparable).flatmap(lambda k: st.tuples(
            sub(k), st.sampled_from(["<", "<=", ">", ">=", "==", "!="]), sub(k)).map(" ".join)))
        branches.append(st.tuples(sub("string"), st.sampled_from(STRING_PREDICATES), sub("string")).map(
            lambda parts: f"{parts[0]} {parts[1]} ({parts[2]})" if parts[1] in ("in~", "has_any")
            else " ".join(parts)))
        branches.append(sub("bool").map(lambda text: f"not({text})"))
        branches.append(st.sampled_from(TYPES).flatmap(lambda k: sub(k).map(lambda t: f"isnull({t})")))
    if kind == "datetime":
        branches.append(st.tuples(sub("datetime"), st.sampled_from(["+", "-"]), sub("timespan")).map(" ".join))
        branches.append(st.tuples(sub("datetime"), sub("timespan")).map(lambda p: f"bin({p[0]}, {p[1]})"))
    if kind == "timespan":
        branches.append(st.tuples(sub("datetime"), sub("datetime")).map(lambda p: f"({p[0]} - {p[1]})"))
    if kind == "string":
        branches.append(st.sampled_from(TYPES).flatmap(lambda k: sub(k).map(lambda t: f"tostring({t})")))
    # A call of any registered function, with arguments of any type: the registry is the catalog.
    branches.append(st.sampled_from(SCALARS).flatmap(lambda name: _arity(FUNCTIONS[name]).flatmap(
        lambda count: st.lists(st.sampled_from(TYPES), min_size=count, max_size=count)).flatmap(
        lambda kinds: st.tuples(*[sub(k) for k in kinds])).map(lambda args, name=name: f"{name}({', '.join(args)})")))
    return st.one_of(*branches)


@st.composite
def pipelines(draw, columns: list[tuple[str, str]]) -> str:
    steps = []
    current = list(columns)
    for _ in range(draw(st.integers(1, 4))):
        names = [name for name, _ in current]
        step = draw(st.sampled_from(["where", "extend", "project", "summarize", "sort", "take", "top", "distinct",
                                     "mv-expand", "join", "union", "count", "serialize"]))
        if step == "where":
            steps.append(f"where {draw(expressions(current, 'bool'))}")
        elif step == "extend":
            kind = draw(st.sampled_from(TYPES))
            name = f"x{len(steps)}"
            steps.append(f"extend {name} = {draw(expressions(current, kind))}")
            current.append((name, kind))
        elif step == "project":
            keep = draw(st.lists(st.sampled_from(names), min_size=1, max_size=len(names), unique=True))
            steps.append("project " + ", ".join(keep))
            current = [c for c in current if c[0] in keep]
        elif step == "summarize":
            aggregate = draw(st.sampled_from(AGGREGATE_NAMES))
            count = draw(_arity(AGGREGATES[aggregate]))
            argument_kinds = draw(st.lists(st.sampled_from(TYPES), min_size=count, max_size=count))
            arguments = ", ".join(draw(expressions(current, k, 1)) for k in argument_kinds)
            keys = draw(st.lists(st.sampled_from(names), max_size=2, unique=True))
            by = f" by {', '.join(keys)}" if keys else ""
            steps.append(f"summarize a{len(steps)} = {aggregate}({arguments}){by}")
            current = [c for c in current if c[0] in keys] + [(f"a{len(steps) - 1}", "dynamic")]
        elif step == "sort":
            steps.append(f"sort by {draw(st.sampled_from(names))} {draw(st.sampled_from(['asc', 'desc']))}")
        elif step == "take":
            steps.append(f"take {draw(st.integers(0, 5))}")
        elif step == "top":
            steps.append(f"top {draw(st.integers(0, 5))} by {draw(st.sampled_from(names))}")
        elif step == "distinct":
            steps.append("distinct " + ", ".join(draw(st.lists(st.sampled_from(names), min_size=1, unique=True))))
        elif step == "mv-expand":
            dynamic = [n for n, k in current if k == "dynamic"]
            if dynamic:
                steps.append(f"mv-expand {draw(st.sampled_from(dynamic))}")
        elif step == "join":
            shared = [name for name in names if name in dict(columns)]
            if not shared:
                continue
            key = draw(st.sampled_from(shared))
            kind = draw(st.sampled_from(["inner", "innerunique", "leftouter", "rightouter", "fullouter", "leftanti",
                                         "rightanti", "leftsemi", "rightsemi"]))
            steps.append(f"join kind={kind} (T | take 3) on {key}")
        elif step == "union":
            steps.append("union (T | take 2)")
        elif step == "count":
            steps.append("count")
            current = [("Count", "long")]
        else:
            steps.append("serialize r = row_number()")
            current.append(("r", "long"))
        if not current:
            break
    return "T | " + " | ".join(steps or ["take 5"])


@st.composite
def cases(draw) -> tuple[list[tuple[str, str]], list[dict], str]:
    columns, rows = draw(tables())
    return columns, rows, draw(pipelines(columns))


def run(columns: list[tuple[str, str]], rows: list[dict], query: str) -> None:
    """The property: a JSON-writable table or a KqlError, within SECONDS_PER_QUERY."""
    table = Table.from_dicts(rows, columns=columns)
    start = time.perf_counter()
    try:
        result = evaluate(query, {"T": table}, now=NOW, as_table=True)
    except KqlError as error:
        assert error.message, query
        return
    finally:
        elapsed = time.perf_counter() - start
        assert elapsed < SECONDS_PER_QUERY, f"{elapsed:.1f}s for {query}"
    # What dac run writes: standard JSON (no NaN or Infinity), read back by any JSON reader.
    json.loads(V.to_json_text([list(row) for row in result.rows]), parse_constant=_no_constants)


def _no_constants(name: str) -> None:
    raise AssertionError(f"{name} is not standard JSON")


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(cases())
def test_generated_queries_give_rows_or_a_kql_error(case) -> None:
    run(*case)


# What the campaigns found (each raised a Python exception before its fix), kept as cases.
FOUND = [
    # aggregates over values they cannot sum: a TypeError or ValueError from float()
    ([("l0", "long")], [{"l0": 1}], "T | summarize a = avg(now())"),
    ([("l0", "long")], [{"l0": 1}], "T | summarize a = avg(datetime(2024-01-01) - datetime(9999-12-31))"),
    ([("l0", "long")], [{"l0": 1}], "T | summarize a = variance(dynamic([1, 2, 3]))"),
    ([("l0", "long")], [{"l0": 1}], "T | summarize a = stdev(tostring(true))"),
    ([("l0", "long")], [{"l0": 1}], "T | summarize a = percentile(not(true), -1s)"),
    ([("l0", "long")], [{"l0": 1}], "T | summarize a = makelist(datetime(2024-01-01), now())"),
    # a size limit that is not an integer: int('10.0.0.0/8')
    ([("s1", "string")], [{"s1": "a"}], 'T | summarize a = make_set(datetime(null), "10.0.0.0/8") by s1'),
    ([("s1", "string")], [{"s1": "a"}], 'T | summarize a = make_set(s1, "")'),
    # a percent that is not finite: an OverflowError from math.ceil
    ([("l0", "long")], [{"l0": 1}], "T | summarize a = percentiles_array(l0, real(+inf))"),
    ([("l0", "long")], [{"l0": 1}], "T | summarize a = percentile(l0, real(nan))"),
    # the *if forms of stdev and variance had no argument checks: float() of a datetime
    ([("l0", "long")], [{"l0": 1}], "T | summarize a = stdevif(bin(ago(1d), 1d), (3 + 0))"),
    ([("l0", "long")], [{"l0": 1}], "T | summarize a = variancepif(now(), true)"),
]


@pytest.mark.parametrize("columns, rows, query", FOUND, ids=[query for _, _, query in FOUND])
def test_found_by_the_campaign(columns, rows, query) -> None:
    run(columns, rows, query)


def test_has_on_a_string_column_an_empty_summarize_left_null() -> None:
    # Found by the mutation runner on a corpus rule (dropping the only by key): arg_max(..., *) over no rows
    # gives its columns no value, and a following `has` on a string column raised a TypeError in binding.
    from dac.kql.binder import check_query

    query = ('EmailEvents | summarize arg_max(Timestamp, *) '
             '| summarize n = countif(ThreatTypes has "Malware") by RecipientEmailAddress')
    assert check_query(query, "defender") == []
    run([("s", "string")], [], 'T | summarize arg_max(s, *) | where s has "x"')
