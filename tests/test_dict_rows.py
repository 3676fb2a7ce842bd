"""Dict rows given to ``evaluate()`` and ``Table.from_dicts``: aware datetimes and typed columns.

The value model's datetimes are naive UTC (https://learn.microsoft.com/kusto/query/scalar-data-types/datetime:
a datetime is an instant, with no zone); a caller's aware datetime names such an instant, so it must
take part in every datetime operation as that instant, not break them or silently drop out of them.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from dac.kql import evaluate
from dac.kql.table import Table

NOW = datetime(2024, 1, 2, 12, 0)
PLUS2 = timezone(timedelta(hours=2))
MINUS5 = timezone(timedelta(hours=-5))

# 10:00 UTC, 08:30 UTC (10:30+02:00), 15:00 UTC (10:00-05:00), and one day too old
ROWS = [
    {"Timestamp": datetime(2024, 1, 2, 10, 0, tzinfo=timezone.utc), "Id": 1},
    {"Timestamp": datetime(2024, 1, 2, 10, 30, tzinfo=PLUS2), "Id": 2},
    {"Timestamp": datetime(2024, 1, 2, 10, 0, tzinfo=MINUS5), "Id": 3},
    {"Timestamp": datetime(2024, 1, 1, 11, 0, tzinfo=timezone.utc), "Id": 4},
]


def test_aware_datetimes_become_naive_utc():
    table = Table.from_dicts(ROWS)
    assert table.columns == [("Timestamp", "datetime"), ("Id", "long")]
    assert [row[0] for row in table.rows] == [datetime(2024, 1, 2, 10, 0), datetime(2024, 1, 2, 8, 30),
                                             datetime(2024, 1, 2, 15, 0), datetime(2024, 1, 1, 11, 0)]


def test_aware_datetimes_with_declared_columns_and_in_dynamic_columns():
    table = Table.from_dicts([{"T": datetime(2024, 1, 2, 10, tzinfo=PLUS2), "D": datetime(2024, 1, 2, tzinfo=MINUS5)}],
                             [("T", "datetime"), ("D", "dynamic")])
    assert table.rows == [(datetime(2024, 1, 2, 8), datetime(2024, 1, 2, 5))]


def test_ago_comparison_keeps_aware_rows():
    result = evaluate("T | where Timestamp > ago(1d) | project Id", {"T": ROWS}, now=NOW)
    assert [row["Id"] for row in result] == [1, 2, 3]


def test_bin_of_aware_datetimes():
    result = evaluate("T | summarize n = count() by h = bin(Timestamp, 1h) | sort by h asc", {"T": ROWS}, now=NOW)
    assert result == [{"h": datetime(2024, 1, 1, 11), "n": 1}, {"h": datetime(2024, 1, 2, 8), "n": 1},
                      {"h": datetime(2024, 1, 2, 10), "n": 1}, {"h": datetime(2024, 1, 2, 15), "n": 1}]


def test_sort_orders_aware_datetimes_by_instant():
    result = evaluate("T | sort by Timestamp asc | project Id", {"T": ROWS}, now=NOW)
    assert [row["Id"] for row in result] == [4, 2, 1, 3]


def test_join_matches_the_same_instant_written_in_different_zones():
    left = [{"Timestamp": datetime(2024, 1, 2, 10, 30, tzinfo=PLUS2), "L": "a"}]
    right = [{"Timestamp": datetime(2024, 1, 2, 3, 30, tzinfo=MINUS5), "R": "b"},
             {"Timestamp": datetime(2024, 1, 2, 10, 30), "R": "c"}]
    result = evaluate("A | join kind=inner B on Timestamp | project L, R", {"A": left, "B": right}, now=NOW)
    assert result == [{"L": "a", "R": "b"}]


def test_aware_ingestion_time():
    rows = [{"$IngestionTime": datetime(2024, 1, 2, 10, tzinfo=PLUS2), "Id": 1}]
    assert evaluate("T | project t = ingestion_time()", {"T": rows}, now=NOW) == [{"t": datetime(2024, 1, 2, 8)}]


def test_datetime_arithmetic_with_aware_rows():
    result = evaluate("T | where Id == 2 | project age = now() - Timestamp", {"T": ROWS}, now=NOW)
    assert result == [{"age": timedelta(hours=3, minutes=30)}]
