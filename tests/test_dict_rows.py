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


@pytest.fixture
def conversions(monkeypatch):
    """Counts each value that goes through a converter, per type."""
    from dac.kql import values as V

    counts: dict[str, int] = {}
    for kind, convert in list(V.CONVERTERS.items()):
        def counted(value, convert=convert, kind=kind):
            counts[kind] = counts.get(kind, 0) + 1
            return convert(value)
        monkeypatch.setitem(V.CONVERTERS, kind, counted)
    return counts


TYPED = [{"T": datetime(2024, 1, 2, 10), "S": "a", "N": 5, "R": 1.5, "B": True, "D": [1, 2]},
         {"T": None, "S": None, "N": None, "R": None, "B": None}]
TYPED_COLUMNS = [("T", "datetime"), ("S", "string"), ("N", "long"), ("R", "real"), ("B", "bool"), ("D", "dynamic")]


def test_values_already_of_the_column_type_are_not_converted(conversions):
    inferred = Table.from_dicts(TYPED)
    declared = Table.from_dicts(TYPED, TYPED_COLUMNS)
    assert conversions == {}
    assert inferred.columns == [("T", "datetime"), ("S", "string"), ("N", "long"), ("R", "real"), ("B", "bool"),
                                ("D", "dynamic")]
    assert inferred.rows == declared.rows == [(datetime(2024, 1, 2, 10), "a", 5, 1.5, True, [1, 2]),
                                              (None, "", None, None, None, None)]


def test_a_column_of_other_values_is_converted_value_by_value(conversions):
    table = Table.from_dicts([{"T": "2024-01-02T10:00:00+02:00", "N": True, "S": "x"}, {"T": None, "N": 7, "S": "y"}],
                             [("T", "datetime"), ("N", "long"), ("S", "string")])
    assert table.rows == [(datetime(2024, 1, 2, 8), 1, "x"), (None, 7, "y")]
    assert conversions == {"datetime": 1, "long": 2}


@pytest.mark.parametrize("kind, value", [("long", 1 << 63), ("int", 1 << 31), ("long", -(1 << 63) - 1)])
def test_a_whole_number_outside_the_type_is_still_refused_with_its_row(kind, value):
    with pytest.raises(ValueError, match=f"row 2: column N: {value} is not a valid {kind}"):
        Table.from_dicts([{"N": 1}, {"N": value}], [("N", kind)])


def test_inferred_type_does_not_depend_on_where_the_nulls_are():
    assert Table.from_dicts([{"N": None}, {"N": 1}]).columns == [("N", "long")]
    assert Table.from_dicts([{"N": 1}, {"N": None}]).columns == [("N", "long")]
    assert Table.from_dicts([{"N": None}, {"N": 1}, {"N": "x"}]).columns == [("N", "dynamic")]
    assert Table.from_dicts([{"N": None}]).columns == [("N", "dynamic")]


def test_missing_keys_unknown_keys_and_empty_rows():
    table = Table.from_dicts([{"A": 1}, {"B": "x"}, {}])
    assert table.columns == [("A", "long"), ("B", "string")]
    assert table.rows == [(1, ""), (None, "x"), (None, "")]
    assert Table.from_dicts([{}, {}]).rows == [(), ()]
    with pytest.raises(ValueError, match="row 2: unknown column"):
        Table.from_dicts([{"A": 1}, {"A": 2, "C": 3}], [("A", "long")])
