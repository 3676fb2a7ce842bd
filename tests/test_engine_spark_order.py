"""The spark engine reads a table in the row engine's order (dac.engines.spark_order), on local[2].

Take, sort's ties (the row engine's sort is stable), innerunique joins (KQL's default join
kind), arg_max/take_any ties and make_list read the input order. The files here are cut
into many splits (``spark.sql.files.maxPartitionBytes`` set small) and are of sizes that make
Spark pack them out of their order (it packs splits largest first), so that a plain Spark
scan gives another order than the row engine's; every query must still give ``dac run
--engine python``'s rows, in its order.
https://learn.microsoft.com/en-us/kusto/query/join-operator (innerunique: one left row per key),
https://learn.microsoft.com/en-us/kusto/query/take-operator, https://spark.apache.org/docs/latest/sql-ref-file-metadata.html
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from conftest import debian_tool

pytest.importorskip("pyspark", reason="pyspark is in the dev extras (pip install -e '.[dev]')")

from dac.engines.spark_order import file_ranks, local_path  # noqa: E402

# Sizes in rows: the first file is small and the second big, so Spark reads the second first.
SIZES = {"a b+c%d é": 20, "b": 700, "c": 200, "d": 400}
ORDERED = [  # queries whose answer depends on the input order, the result compared row for row
    "UrlClickEvents | extend k = 1 | sort by k | project ReportId",  # all ties: the whole input order
    "UrlClickEvents | take 7 | project ReportId",
    "UrlClickEvents | where ActionType == 'A1' | take 3 | project ReportId",
    "UrlClickEvents | top 5 by ActionType asc | project ReportId, ActionType",
]
UNORDERED = [  # one row per group: which row is the input order's choice; the groups compared as a set
    "UrlClickEvents | summarize arg_max(ActionType, ReportId), take_any(ReportId), arg_min(Url, ReportId) by ActionType",
    "UrlClickEvents | summarize make_list(ReportId, 4), make_set(Url, 3) by ActionType",
    "UrlClickEvents | join (UrlClickEvents | take 4 | project ActionType, Seen = ReportId) on ActionType"
    " | project ReportId, Seen",
]


@pytest.fixture(scope="module")
def spark():
    debian_tool("java", "openjdk-17-jre-headless")
    from dac.engines.spark_session import spark_session

    return spark_session("local[2]")


@pytest.fixture
def small_splits(spark):
    """Splits of 2 KiB, each file's open cost as small: many partitions, packed largest first."""
    conf = spark.conf
    saved = {key: conf.get(key) for key in ("spark.sql.files.maxPartitionBytes", "spark.sql.files.openCostInBytes")}
    conf.set("spark.sql.files.maxPartitionBytes", "2048")
    conf.set("spark.sql.files.openCostInBytes", "1")
    yield spark
    for key, value in saved.items():
        conf.set(key, value)


def _records(name: str, count: int, start: int) -> list[dict]:
    return [{"Timestamp": "2025-01-01T00:00:00Z", "Url": f"https://{name}/{i % 11}", "ActionType": f"A{i % 3}",
             "ReportId": f"{start + i}"} for i in range(count)]


def _write(folder: Path, suffix: str) -> list[Path]:
    """One file per SIZES entry, ``UrlClickEvents.<name><suffix>``; ReportIds number the rows in name order."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder.mkdir(exist_ok=True)
    paths, start = [], 0
    for name, count in SIZES.items():
        records = _records(name, count, start)
        start += count
        path = folder / f"UrlClickEvents.{name}{suffix}"
        if suffix == ".parquet":
            pq.write_table(pa.Table.from_pylist(records), path, row_group_size=64)
        elif suffix == ".csv":
            path.write_text("Timestamp,Url,ActionType,ReportId\n" + "".join(
                f"{r['Timestamp']},{r['Url']},{r['ActionType']},{r['ReportId']}\n" for r in records), encoding="utf-8")
        else:
            text = "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records)
            path.write_bytes(gzip.compress(text.encode()) if suffix.endswith(".gz") else text.encode())
        paths.append(path)
    return paths


def _run(capsys, query: str, engine: str, data: list[str]) -> list[dict]:
    from dac.cli import main

    code = main(["run", query, "--data", *data, "--now", "2025-01-02", "--format", "json", "--engine", engine])
    out, err = capsys.readouterr()
    document = json.loads(out)
    assert code == 0, (engine, query, document.get("error"), err)
    return document["rows"]


def _agree(capsys, data: list[str], ordered: list[str] = ORDERED, unordered: list[str] = UNORDERED) -> None:
    for query in ordered:
        expected = _run(capsys, query, "python", data)
        assert _run(capsys, query, "spark", data) == expected, query
    for query in unordered:
        expected = sorted(json.dumps(row, sort_keys=True) for row in _run(capsys, query, "python", data))
        assert sorted(json.dumps(row, sort_keys=True) for row in _run(capsys, query, "spark", data)) == expected, query


def _spark_scan_order(spark, data_paths: list[Path], file_format: str) -> list[str]:
    """The ReportIds in the order a plain Spark scan of the files gives them (no ordinal)."""
    reader = spark.read.option("header", "true") if file_format == "csv" else spark.read
    frame = reader.format(file_format).load([str(p) for p in data_paths])
    return [row[0] for row in frame.select("ReportId").collect()]


@pytest.mark.parametrize("suffix,file_format", [(".jsonl", "json"), (".jsonl.gz", "json"), (".parquet", "parquet"),
                                                (".csv", "csv")])
def test_a_glob_of_files_in_many_splits_is_read_in_the_row_engine_order(small_splits, tmp_path, capsys, suffix,
                                                                         file_format):
    paths = _write(tmp_path / "logs", suffix)
    scanned = _spark_scan_order(small_splits, paths, file_format)
    assert scanned != sorted(scanned, key=int), "the setup must make Spark's own order differ"
    data = [f"UrlClickEvents={tmp_path / 'logs'}/UrlClickEvents.*{suffix}"]
    if suffix == ".jsonl":
        _agree(capsys, data)
    else:  # the whole order, and the first row of each group
        _agree(capsys, data, ORDERED[:1], UNORDERED[:1])


def test_a_folder_and_files_given_out_of_name_order_keep_the_row_engine_order(small_splits, tmp_path, capsys):
    paths = _write(tmp_path / "UrlClickEvents", ".jsonl")
    _agree(capsys, [str(tmp_path / "UrlClickEvents")], ORDERED[:1], UNORDERED[2:])
    _agree(capsys, [f"UrlClickEvents={paths[2]}", f"UrlClickEvents={paths[0]}", f"UrlClickEvents={paths[3]}",
                    f"UrlClickEvents={paths[1]}"], ORDERED[:2], [])


def test_the_hidden_order_column_never_shows(spark, tmp_path, capsys):
    paths = _write(tmp_path / "logs", ".jsonl")
    data = [f"UrlClickEvents={p}" for p in paths]
    for query in ["UrlClickEvents | take 2", "UrlClickEvents | project-away Url | take 1",
                  "UrlClickEvents | summarize arg_max(ReportId, *)"]:
        expected = _run(capsys, query, "python", data)
        actual = _run(capsys, query, "spark", data)
        assert actual == expected and "__dac" not in json.dumps(actual), query


def test_file_ranks_follow_the_arguments_then_sorted_names_then_unknown_files_by_path(tmp_path):
    (tmp_path / "x").mkdir()
    for name in ("b 1.jsonl", "a+%é.jsonl", "c.jsonl"):
        (tmp_path / "x" / name).write_text("{}\n", encoding="utf-8")
    folder = tmp_path / "x"
    read = [f"file://{folder}/c.jsonl", f"file:{folder}/a%2B%25%C3%A9.jsonl".replace("%2B", "+"),
            f"file:{folder}/b%201.jsonl", "abfss://logs@acct.dfs.core.windows.net/z.jsonl",
            "abfss://logs@acct.dfs.core.windows.net/y%20y.jsonl"]
    ranks = file_ranks(read, [str(folder / "c.jsonl"), str(folder)])
    assert sorted(ranks, key=ranks.get) == [str(folder / "c.jsonl"), str(folder / "a+%é.jsonl"),
                                            str(folder / "b 1.jsonl"), "abfss://logs@acct.dfs.core.windows.net/y y.jsonl",
                                            "abfss://logs@acct.dfs.core.windows.net/z.jsonl"]
    assert local_path("file:/tmp/a%20b.jsonl") == local_path("file:///tmp/a%20b.jsonl") == "/tmp/a b.jsonl"
