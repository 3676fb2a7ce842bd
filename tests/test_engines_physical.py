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
