"""A query split for windows gives, for every window, what the whole query gives on that window's rows.

dac simulate runs a rule once per scheduled run; ``dac.kql.window_split`` lets it read
and filter the logs once (the clock-free row-local head) and run only the rest per
window. The property checked here is the one that makes that exact: for each window,
``tail(window of head(all rows))`` equals ``query(window of all rows)``, rows and order.
"""

from __future__ import annotations

import random
from bisect import bisect_left
from datetime import datetime, timedelta

import pytest

from dac.kql import evaluate, parse
from dac.kql.table import Table
from dac.kql.window_split import KEY, SLICE, split_for_windows

NOW = datetime(2024, 5, 2)
COLUMNS = [("TimeGenerated", "datetime"), ("User", "string"), ("Action", "string"), ("Bytes", "long")]


def _rows(count: int, seed: int) -> list[tuple]:
    rng = random.Random(seed)
    start = NOW - timedelta(days=1)
    rows = [(start + timedelta(minutes=rng.randrange(24 * 60)), rng.choice(["alice", "bob", "carol", ""]),
             rng.choice(["ClickAllowed", "Blocked", "click blocked", "UrlClick"]), rng.choice([None, 1, 50, 900]))
            for _ in range(count)]
    rows.sort(key=lambda row: row[0])
    return rows


SPLIT = [
    ("T | where Action has 'blocked' | summarize n = count() by User", 1),
    ("T | where Bytes > 10 | extend Kb = Bytes / 1000.0 | project User, Kb | top 3 by Kb desc", 3),
    ("T | project User, Action | where User != '' | summarize make_set(Action) by User", 2),
    ("let big = 100; T | where Bytes > big | where TimeGenerated > ago(30m) | count", 1),
    ("let since = ago(2h); T | where Action startswith 'Click' | where TimeGenerated > since | take 5", 1),
    ("T | extend TimeGenerated = TimeGenerated + 1h | project-keep User, TimeGenerated | take 4", 2),
    ("T | project-away Bytes | extend u = toupper(User) | summarize arg_max(TimeGenerated, *) by u", 2),
    ("T | where now() - TimeGenerated < 15m | summarize count() by Action", 0),
    ("T | project-away B* | take 3", 0),
    ("T | where Bytes > 1 | extend ['$window'] = 1 | take 2", 1),
]


@pytest.mark.parametrize("query,head_operators", SPLIT)
def test_every_window_gives_what_the_whole_query_gives_on_it(query: str, head_operators: int) -> None:
    tree = parse(query)
    split = split_for_windows(tree, "TimeGenerated")
    assert split is not None and split.table == "T" and split.head_operators == head_operators
    rows = _rows(400, seed=len(query))
    times = [row[0] for row in rows]
    head = evaluate(split.head, {"T": Table(COLUMNS, rows)}, now=NOW, as_table=True)
    key = head.names.index(KEY)
    keys = [row[key] for row in head.rows]
    assert keys == sorted(keys)  # row-local: the head keeps its input's (time) order
    columns = [c for c in head.columns if c[0] != KEY]
    for hour in range(0, 24, 3):
        start = NOW - timedelta(days=1) + timedelta(hours=hour)
        end, now = start + timedelta(hours=1), start + timedelta(hours=1, minutes=5)
        window = rows[bisect_left(times, start):bisect_left(times, end)]
        expected = evaluate(tree, {"T": Table(COLUMNS, window)}, now=now, as_table=True)
        cut = head.rows[bisect_left(keys, start):bisect_left(keys, end)]
        sliced = Table(columns, [row[:key] + row[key + 1:] for row in cut])
        got = evaluate(split.tail, {SLICE: sliced}, now=now, as_table=True)
        assert got.columns == expected.columns and got.rows == expected.rows, (query, hour)


@pytest.mark.parametrize("query", [
    "T | join (U) on User",
    "T | where User in ((U | project User))",
    "let x = T | count; x",
    "T | union U",
    "let Recent = U | where Bytes > 1; T | lookup Recent on User",
    "T | where User == toscalar(U | take 1 | project User)",
    "print 1",
    "T | extend x = ['$window']",
    "declare pattern p = (a:string) { ('x') = { U | project User }; }; T | where User in (p('x'))",
])
def test_queries_that_read_another_table_are_not_split(query: str) -> None:
    assert split_for_windows(parse(query), "TimeGenerated") is None


def test_a_workspace_function_as_source_is_not_split() -> None:
    assert split_for_windows(parse("Parser | where x == 1"), "TimeGenerated", lambda name: name == "Parser") is None
