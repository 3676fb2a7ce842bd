"""DuckDB's native readers typed as the row engine types files (dac.engines.duckdb_files).

The differential: the same small files, with edge values, read by the row engine's
``FileTable`` and by a DuckDB view over ``read_json``/``read_csv``/``read_parquet``, give the
same rows; a value that does not fit its column is the same located error in both.
"""

from __future__ import annotations

import gzip
import json
from datetime import datetime
from pathlib import Path

import pytest

duckdb = pytest.importorskip("duckdb")

from dac.backtest import DataFile, FileTable  # noqa: E402
from dac.engines.duckdb_files import file_error, register_files  # noqa: E402
from dac.engines.physical import row_converter  # noqa: E402
from dac.engines.sources import FileSource  # noqa: E402
from dac.errors import DacError  # noqa: E402

COLUMNS = (("Timestamp", "datetime"), ("Name", "string"), ("Count", "long"), ("Small", "int"), ("Score", "real"),
           ("Flag", "bool"), ("Id", "guid"), ("Bag", "dynamic"), ("Span", "timespan"))
KINDS = [kind for _, kind in COLUMNS]

JSON_ROWS = [
    {"Timestamp": "2025-01-01T00:00:00.1234567Z", "Name": "a\\b \u00e9", "Count": 1, "Small": 2, "Score": 1.5,
     "Flag": True, "Id": "6F9619FF-8B86-D011-B42D-00C04FC964FF", "Bag": {"k": [1, 2.5]}, "Span": "01:00:00"},
    {"Timestamp": "2025-01-01 10:00", "Name": 5, "Count": "7", "Small": 2.7, "Score": 1e300, "Flag": 1,
     "Id": "{6f9619ff-8b86-d011-b42d-00c04fc964ff}", "Bag": "{\"a\": 1}", "Span": 600000000},
    {"Timestamp": "Sat, 8 Nov 2014 15:05:02 GMT", "Name": None, "Count": None, "Score": "NaN", "Flag": "false",
     "Bag": "plain text", "Span": "1.5h"},
    {"Timestamp": None, "Name": {"nested": "x"}, "Count": -12, "Small": -3, "Score": 2, "Flag": "TRUE", "Bag": [],
     "Span": None},
    {"Name": 1.0, "Bag": "", "Score": "1e400"},
    {},
]


def python_rows(path: Path, columns=COLUMNS) -> list[tuple]:
    table = FileTable("T", [DataFile("T", path)], columns)
    return [row for chunk in table.chunks() for row in chunk.rows]


def duck_rows(paths, file_format: str, compressed: bool = False, columns=COLUMNS, query: str = "SELECT * FROM T"):
    connection = duckdb.connect()
    register_files(connection, "T", FileSource(columns, tuple(str(p) for p in paths), file_format, compressed))
    convert = row_converter([kind for _, kind in columns])
    try:
        return [convert(row) for row in connection.execute(query).fetchall()]
    except duckdb.Error as exc:
        raise (file_error(exc) or exc) from None


def _key(row: tuple) -> str:
    return json.dumps(row, default=str, sort_keys=True)


def same_rows(left: list[tuple], right: list[tuple]) -> bool:
    return sorted(map(_key, left)) == sorted(map(_key, right))


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "wt", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row) + "\n")
    return path


def test_json_lines_typed_as_the_row_engine_types_them(tmp_path: Path) -> None:
    # the string column's sample holds numbers and an object, so it is read as JSON and typed exactly
    path = write_jsonl(tmp_path / "T.jsonl", JSON_ROWS)
    expected = python_rows(path)
    assert same_rows(duck_rows([path], "jsonl"), expected)
    assert expected[4][1] == "1" and expected[3][1] == '{"nested":"x"}'


def test_json_array_and_gzip_and_globs_and_folders(tmp_path: Path) -> None:
    (tmp_path / "T.json").write_text(json.dumps(JSON_ROWS), encoding="utf-8")
    expected = python_rows(tmp_path / "T.json")
    assert same_rows(duck_rows([tmp_path / "T.json"], "json"), expected)
    folder = tmp_path / "parts"
    folder.mkdir()
    write_jsonl(folder / "a.jsonl.gz", JSON_ROWS[:3])
    write_jsonl(folder / "b.jsonl.gz", JSON_ROWS[3:])
    (folder / "notes.txt").write_text("not data")
    assert same_rows(duck_rows([folder], "jsonl", compressed=True), expected)
    assert same_rows(duck_rows([str(folder / "*.jsonl.gz")], "jsonl", compressed=True), expected)


CSV_TEXT = (
    "Timestamp,Name,Count,Small,Score,Flag,Id,Bag,Span\n"
    "2025-01-01T00:00:00Z,plain,1,2,1.5,true,6F9619FF-8B86-D011-B42D-00C04FC964FF,\"{\"\"a\"\": [1, 2.50]}\",01:00:00\n"
    "2014-11-08 15:05,\"with, comma\", +7 ,-3,NaN,0,,[],1.5h\n"
    ",,,,,,,,\n"
    "11/08/2014 3:05 PM,\"\",2,,1e5,FALSE,,text,2\n"
)


def test_csv_typed_as_the_row_engine_types_it(tmp_path: Path) -> None:
    path = tmp_path / "T.csv"
    path.write_text(CSV_TEXT, encoding="utf-8")
    expected = python_rows(path)
    assert same_rows(duck_rows([path], "csv"), expected)
    partial = tmp_path / "P.csv"
    partial.write_text("Name,Count\nx,3\n", encoding="utf-8")  # the other columns are missing: null and ""
    assert duck_rows([partial], "csv") == python_rows(partial)


def test_parquet_typed_as_the_row_engine_types_it(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    path = tmp_path / "T.parquet"
    connection = duckdb.connect()
    connection.execute(f"""COPY (SELECT TIMESTAMP '2025-01-01 00:00:00.5' AS Timestamp, 'x' AS Name, 5::INTEGER AS Count,
        3::BIGINT AS Small, 1.5::FLOAT AS Score, true AS Flag, '{{"a":1}}' AS Bag
        UNION ALL SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL) TO '{path}' (FORMAT parquet)""")
    assert same_rows(duck_rows([path], "parquet"), python_rows(path))


def test_a_value_that_does_not_fit_is_the_row_engines_located_error(tmp_path: Path) -> None:
    rows = [{"Timestamp": "2025-01-01T00:00:00Z", "Count": 1}] * 3 + [{"Timestamp": "2025-01-01T00:00:00Z",
                                                                       "Count": "many"}]
    path = write_jsonl(tmp_path / "T.jsonl", rows)
    with pytest.raises(DacError) as python_error:
        python_rows(path)
    with pytest.raises(DacError) as duck_error:
        duck_rows([path], "jsonl")
    assert str(duck_error.value) == str(python_error.value)
    assert ":4:" in str(duck_error.value)
    bad_date = write_jsonl(tmp_path / "D.jsonl", [{"Timestamp": "2025-13-01T00:00:00Z"}])
    with pytest.raises(DacError, match=r"D.jsonl:1:2: column 'Timestamp': '2025-13-01T00:00:00Z' is not a valid"):
        duck_rows([bad_date], "jsonl")
    csv_path = tmp_path / "C.csv"
    csv_path.write_text("Name,Flag\nx,true\ny,maybe\n", encoding="utf-8")
    with pytest.raises(DacError) as python_error:
        python_rows(csv_path)
    with pytest.raises(DacError) as duck_error:
        duck_rows([csv_path], "csv")
    assert str(duck_error.value) == str(python_error.value)


def test_unknown_columns_bad_json_and_missing_files_are_errors(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "T.jsonl", [{"Name": "x", "Nmae": "y"}])
    with pytest.raises(DacError, match="column 'Nmae' is not in T"):
        duck_rows([path], "jsonl")
    csv_path = tmp_path / "C.csv"
    csv_path.write_text("Name,Extra\nx,y\n", encoding="utf-8")
    with pytest.raises(DacError, match=r"C.csv:1:6: column 'Extra' is not in T"):
        duck_rows([csv_path], "csv")
    broken = tmp_path / "B.jsonl"
    broken.write_text('{"Name": "x"}\n{"Name": \n{"Name": "z"}\n', encoding="utf-8")
    with pytest.raises(DacError, match=r"B.jsonl:2:\d+: invalid JSON"):
        duck_rows([broken], "jsonl")
    with pytest.raises(DacError, match="data file not found"):
        duck_rows([tmp_path / "absent.jsonl"], "jsonl")
    with pytest.raises(DacError, match="no jsonl data files match"):
        duck_rows([str(tmp_path / "none*.jsonl")], "jsonl")


def test_the_data_budget_caps_what_gzip_decompresses_to(tmp_path: Path) -> None:
    path = tmp_path / "T.jsonl.gz"
    with gzip.open(path, "wt") as handle:
        handle.write((json.dumps({"Name": "x" * 1000}) + "\n") * 3000)
    connection = duckdb.connect()
    with pytest.raises(DacError, match="decompresses to more than 1 MB"):
        register_files(connection, "T", FileSource(COLUMNS, (str(path),), "jsonl", True), max_data_mb=1)


def test_the_view_streams_a_query_with_a_filter(tmp_path: Path) -> None:
    rows = [{"Timestamp": f"2025-01-01T00:00:{i % 60:02d}Z", "Name": f"n{i}", "Count": i} for i in range(500)]
    path = write_jsonl(tmp_path / "T.jsonl", rows)
    got = duck_rows([path], "jsonl", query="SELECT * FROM T WHERE Count >= 498 ORDER BY Count")
    assert [row[2] for row in got] == [498, 499]
    assert got[0][0] == datetime(2025, 1, 1, 0, 0, 18)


# ------------------------------------------------------------ dac run --engine

CLICKS = [{"Timestamp": f"2025-01-01T00:{i % 60:02d}:00Z", "Url": f"https://site{i % 7}.example", "ActionType":
           "ClickAllowed" if i % 3 else "ClickBlocked", "ThreatTypes": "Phish" if i % 2 else "Spam",
           "IsClickedThrough": i % 5 == 0, "ReportId": f"r-{i}"} for i in range(60)]
SUMMARY = 'UrlClickEvents | where ThreatTypes has "phish" | summarize n = count() by ActionType'
# tostring() of a real: SQL formats reals otherwise than Kusto, so the SQL engines refuse it
REFUSED = "UrlClickEvents | summarize n = count() by ActionType | extend r = tostring(todouble(n))"


def run_json(capsys, *argv: str) -> tuple[int, dict, str]:
    from dac.cli import main

    code = main(["run", *argv, "--now", "2025-01-02", "--format", "json"])
    out, err = capsys.readouterr()
    return code, json.loads(out), err


def test_engines_agree_and_json_output_names_the_engine(tmp_path: Path, capsys) -> None:
    path = write_jsonl(tmp_path / "UrlClickEvents.jsonl", CLICKS)
    results = {}
    for engine in ("python", "duckdb"):
        code, document, _ = run_json(capsys, SUMMARY, "--data", str(path), "--engine", engine)
        assert code == 0 and document["engine"] == engine
        results[engine] = sorted(json.dumps(row, sort_keys=True) for row in document["rows"])
    assert results["python"] == results["duckdb"] and len(results["python"]) == 2
    code, document, _ = run_json(capsys, SUMMARY, "--data", f"UrlClickEvents={tmp_path}", "--engine", "duckdb")
    assert code == 0 and sorted(json.dumps(r, sort_keys=True) for r in document["rows"]) == results["python"]


def test_the_default_engine_is_python_for_small_text_and_duckdb_for_parquet(tmp_path: Path, capsys) -> None:
    path = write_jsonl(tmp_path / "UrlClickEvents.jsonl", CLICKS)
    assert run_json(capsys, SUMMARY, "--data", str(path))[1]["engine"] == "python"
    parquet = tmp_path / "UrlClickEvents.parquet"
    duckdb.connect().execute(f"COPY (SELECT * FROM read_json('{path}')) TO '{parquet}' (FORMAT parquet)")
    code, document, err = run_json(capsys, SUMMARY, "--data", str(parquet))
    assert code == 0 and document["engine"] == "duckdb" and "note:" not in err


def test_the_default_falls_back_to_python_with_a_note_when_duckdb_refuses(tmp_path: Path, capsys) -> None:
    path = write_jsonl(tmp_path / "UrlClickEvents.jsonl", CLICKS)
    parquet = tmp_path / "UrlClickEvents.parquet"
    duckdb.connect().execute(f"COPY (SELECT * FROM read_json('{path}')) TO '{parquet}' (FORMAT parquet)")
    code, document, err = run_json(capsys, REFUSED, "--data", str(parquet))
    assert code == 0 and document["engine"] == "python"
    assert err.count("note: the duckdb engine cannot run") == 1 and "running it on the python engine" in err


def test_an_explicit_duckdb_engine_reports_the_refusal_where_it_is(tmp_path: Path, capsys) -> None:
    path = write_jsonl(tmp_path / "UrlClickEvents.jsonl", CLICKS)
    query = tmp_path / "q.kql"
    query.write_text("UrlClickEvents\n| summarize n = count() by ActionType\n| extend r = tostring(todouble(n))\n",
                     encoding="utf-8")
    code, document, err = run_json(capsys, str(query), "--data", str(path), "--engine", "duckdb")
    assert code == 2 and document["ok"] is False
    assert document["error"]["file"] == str(query) and document["error"]["line"] == 3
    assert "cannot run" in document["error"]["message"] and "Traceback" not in err


def test_a_misfit_value_under_duckdb_is_the_row_engines_located_error(tmp_path: Path, capsys) -> None:
    path = write_jsonl(tmp_path / "UrlClickEvents.jsonl", CLICKS + [{"Timestamp": "soon"}])
    for engine in ("python", "duckdb"):
        code, document, err = run_json(capsys, "UrlClickEvents | where Timestamp > ago(1d) | count", "--data",
                                       str(path), "--engine", engine)
        assert code == 2 and document["error"]["line"] == 61, engine
        assert document["error"]["message"] == "column 'Timestamp': 'soon' is not a valid datetime"


def test_the_python_engine_reads_folders_and_globs_too(tmp_path: Path, capsys) -> None:
    write_jsonl(tmp_path / "UrlClickEvents.1.jsonl", CLICKS[:30])
    write_jsonl(tmp_path / "UrlClickEvents.2.jsonl", CLICKS[30:])
    code, document, _ = run_json(capsys, "UrlClickEvents | count", "--data", str(tmp_path / "UrlClickEvents.*.jsonl"),
                                 "--engine", "python")
    assert code == 0 and document["rows"] == [{"Count": 60}] and document["rows_read"] == {"UrlClickEvents": 60}


def test_the_default_engine_is_duckdb_from_the_size_threshold(tmp_path: Path, capsys, monkeypatch) -> None:
    from dac.engines import dispatch

    path = write_jsonl(tmp_path / "UrlClickEvents.jsonl", CLICKS)
    monkeypatch.setattr(dispatch, "DUCKDB_DEFAULT_BYTES", path.stat().st_size)
    assert run_json(capsys, SUMMARY, "--data", str(path))[1]["engine"] == "duckdb"
    monkeypatch.setattr(dispatch, "DUCKDB_DEFAULT_BYTES", path.stat().st_size + 1)
    assert run_json(capsys, SUMMARY, "--data", str(path))[1]["engine"] == "python"


def test_the_spark_engine_gets_the_files_and_the_master(tmp_path: Path, capsys, monkeypatch) -> None:
    """Dispatch only: dac.engines.spark_engine (its own tests run Spark) is stood in for by a recorder."""
    import sys
    import types

    import dac.engines
    from dac.kql.table import Table

    calls = []

    def run(tree, sources, *, now, limits, master):
        calls.append((sources, now, master))
        return Table([("n", "long")], [(1,)])

    recorder = types.SimpleNamespace(run=run)
    monkeypatch.setitem(sys.modules, "dac.engines.spark_engine", recorder)
    # the package's attribute too: `from dac.engines import spark_engine` takes it, once a test imported the real one
    monkeypatch.setattr(dac.engines, "spark_engine", recorder, raising=False)
    path = write_jsonl(tmp_path / "UrlClickEvents.jsonl", CLICKS)
    code, document, _ = run_json(capsys, "UrlClickEvents | count", "--data", str(path),
                                 "abfss://logs@account.dfs.core.windows.net/EmailEvents/*.parquet", "--engine", "spark",
                                 "--spark-master", "sc://localhost:15002")
    assert code == 0 and document["engine"] == "spark" and document["rows"] == [{"n": 1}]
    sources, now, master = calls[0]
    assert master == "sc://localhost:15002" and now == datetime(2025, 1, 2)
    assert sources["UrlClickEvents"].paths == (str(path),) and sources["UrlClickEvents"].format == "jsonl"
    assert sources["EmailEvents"].format == "parquet"


EDGE_DATETIMES = ["2025-01-01T00:00:00.1234567Z", "2025-01-01T23:59:59.9999999Z", "2025-01-01T00:00:00.12345678Z", "2025-01-01T24:00:00Z",
                  "2025-01-01T23:59:60Z", "2025-02-30T00:00:00Z", "2025-1-01T00:00:00Z", " 2025-01-01T00:00:00Z",
                  "2025-01-01T00:00:00.Z", "2025-01-01T00:00:00z", "0001-01-01T00:00:00Z", "0000-01-01T00:00:00Z",
                  "9999-12-31T23:59:59.9999999Z", "2025-01-01T00:00:00+02:00", "2025-01-01T00:00:00.1 Z",
                  "2025-+1-01T00:00:00Z", "infinity", "epoch", "2025-01-01", 20250101, True, {"at": 1}]


@pytest.mark.parametrize("value", EDGE_DATETIMES, ids=str)
def test_edge_datetimes_agree_or_fail_alike(tmp_path: Path, value) -> None:
    columns = (("Timestamp", "datetime"),)
    # strings before it, so DuckDB's sample reads the column as text, as it would a real export
    path = write_jsonl(tmp_path / "T.jsonl", [{"Timestamp": "2025-01-01T00:00:00Z"}] * 3 + [{"Timestamp": value}])
    try:
        expected = python_rows(path, columns)
    except DacError as error:
        with pytest.raises(DacError) as duck_error:
            duck_rows([path], "jsonl", columns=columns)
        assert str(duck_error.value) == str(error)
        return
    assert duck_rows([path], "jsonl", columns=columns) == expected


def test_dac_run_on_duckdb_without_now_takes_the_current_time(tmp_path, capsys) -> None:
    """No --now: now() is the current time on every engine (it crashed on a None clock)."""
    from dac.cli import main

    data = tmp_path / "UrlClickEvents.jsonl"
    data.write_text('{"TimeGenerated": "2020-01-01T00:00:00Z", "ActionType": "ClickAllowed"}\n', encoding="utf-8")
    assert main(["run", "UrlClickEvents | where TimeGenerated < ago(1d) | count", "--data", str(data),
                 "--engine", "duckdb", "--platform", "sentinel"]) == 0
    assert capsys.readouterr().out.strip() == '{"Count":1}'
