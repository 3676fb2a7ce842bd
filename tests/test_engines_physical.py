"""The one physical form of KQL values in SQL engines (dac.engines.physical)."""

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from dac.engines.physical import EngineRefusal, row_converter, sql_type, to_kql


def test_results_come_back_as_the_row_engine_holds_them():
    convert = row_converter(["string", "timespan", "datetime", "dynamic", "guid", "real", "bool"])
    aware = datetime(2024, 1, 2, 4, 0, tzinfo=timezone(timedelta(hours=1)))
    row = convert((None, 90_000_000, aware, '{"a":[1,2]}', "0F8FAD5B-D9CB-469F-A165-70867728950E", 1, 0))
    assert row == ("", timedelta(seconds=90), datetime(2024, 1, 2, 3, 0), {"a": [1, 2]},
                   uuid.UUID("0f8fad5b-d9cb-469f-a165-70867728950e"), 1.0, False)
    assert type(row[5]) is float and to_kql("long", None) is None and to_kql("dynamic", None) is None


def test_timespans_are_microseconds_and_decimal_is_refused():
    assert sql_type("timespan", "duckdb") == "BIGINT" and sql_type("datetime", "spark") == "TIMESTAMP_NTZ"
    with pytest.raises(EngineRefusal, match="the spark engine cannot run a column of type decimal exactly; "
                                            "use --engine python"):
        sql_type("decimal", "spark")


def test_a_whole_result_converts_as_row_by_row() -> None:
    """Columns whose SQL type gives the KQL value are kept; a NULL string, or another SQL type, converts."""
    from dac.engines.physical import rows_converter

    kinds = ["string", "long", "real", "bool", "timespan", "dynamic", "int"]
    sql = ["VARCHAR", "HUGEINT", "DECIMAL(18,3)", "BOOLEAN", "BIGINT", "VARCHAR", "INTEGER"]
    rows = [(None, 5, 2, True, 10, '[1]', 3), ("a", None, 1.5, None, None, None, None), ("", 2**40, None, False, -1, "{}", 7)]
    converted = rows_converter(kinds, sql)(rows)
    assert converted == [row_converter(kinds)(row) for row in rows] and type(converted[0][2]) is float
    plain = [("a", 1, 1.5, True), ("b", None, None, False)]
    assert rows_converter(kinds[:4], sql[:2] + ["DOUBLE", "BOOLEAN"])(plain) is plain  # nothing to convert
    assert rows_converter([], [])([(), ()]) == [(), ()] and rows_converter(kinds, sql)([]) == []
