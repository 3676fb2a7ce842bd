"""``dac run``: back-testing over files gives what the evaluator gives over the same rows in memory.

Every file format, gzip, chunk sizes down to one row, early stop for ``take``,
and located errors for bad files.
"""

from __future__ import annotations

import csv
import gzip
import json
import re
from datetime import datetime
from pathlib import Path

import pytest

from dac import catalog
from dac.backtest import FileTable, data_file, file_tables
from dac.cli import main
from dac.errors import DacError
from dac.kql import evaluate, parse
from dac.kql import values as V
from dac.kql.table import Table
from dac.rules.model import load_rule

from conftest import REPO

SEED = REPO / "detections" / "hunting" / "user-clicked-through-events.yaml"
NOW = "2025-01-02T00:00:00Z"
COLUMNS = catalog.table_columns("defender", "UrlClickEvents")


def clicks(count: int) -> list[dict]:
    """Rows that exercise the seed rule: both actions, click-through or not, whole-term threat names."""
    threats = ["Phish", "Phishing", "Malware,Phish", "PHISH", "", "Spam"]
    actions = ["ClickAllowed", "ClickBlocked", "UrlScanInProgress"]
    return [{"Timestamp": f"2025-01-01T{i % 24:02d}:{i % 60:02d}:00.{i % 1000:03d}Z", "ActionType": actions[i % 3],
             "AccountUpn": f"user{i % 7}@contoso.com", "IsClickedThrough": i % 4 == 0, "ThreatTypes": threats[i % 6],
             "NetworkMessageId": f"m-{i % 11}", "ReportId": f"r-{i % 13}", "Url": f"https://site{i}.example/a"}
            for i in range(count)]


def write_jsonl(path: Path, rows: list[dict], opener=open) -> Path:
    with opener(path, "wt", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row) + "\n")
    return path


def write_csv(path: Path, rows: list[dict]) -> Path:
    names = [name for name, _ in COLUMNS if name in rows[0]]
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(names)
        for row in rows:
            writer.writerow([str(row[n]).lower() if isinstance(row[n], bool) else row[n] for n in names])
    return path


def expected(rows: list[dict], query: str) -> list[dict]:
    table = Table.from_dicts(rows, list(COLUMNS))
    return evaluate(query, {"UrlClickEvents": table}, now=datetime(2025, 1, 2))


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[dict], str]:
    code = main(["run", *argv])
    out, err = capsys.readouterr()
    return code, [json.loads(line) for line in out.splitlines()], err


def as_set(rows: list[dict]) -> list[str]:
    return sorted(json.dumps(r, sort_keys=True) for r in rows)


@pytest.mark.parametrize("form", ["jsonl", "jsonl.gz", "json", "csv", "parquet"])
def test_every_file_form_gives_the_in_memory_result(tmp_path: Path, capsys, form: str) -> None:
    rows = clicks(500)
    path = tmp_path / f"UrlClickEvents.{form}"
    if form == "jsonl":
        write_jsonl(path, rows)
    elif form == "jsonl.gz":
        write_jsonl(path, rows, gzip.open)
    elif form == "json":
        path.write_text(json.dumps(rows), encoding="utf-8")
    elif form == "csv":
        write_csv(path, rows)
    else:
        pyarrow = pytest.importorskip("pyarrow")
        import pyarrow.parquet as parquet

        typed = Table.from_dicts(rows, list(COLUMNS)).to_dicts()
        parquet.write_table(pyarrow.Table.from_pylist([{k: r[k] for k in rows[0]} for r in typed]), path)
    # the row engine's readers (Parquet would go to DuckDB by default; tests/test_engine_files.py has that path)
    code, out, err = run_cli(capsys, str(SEED), "--data", str(path), "--now", NOW, "--chunk-rows", "7",
                             "--engine", "python")
    assert code == 0, err
    want = json.loads(V.to_json_text(expected(rows, load_rule(SEED).query)))
    assert out and as_set(out) == as_set(want)
    assert "from UrlClickEvents 500 row(s) read" in err
    if form == "parquet":  # and the default engine for Parquet gives the same rows
        code, out, err = run_cli(capsys, str(SEED), "--data", str(path), "--now", NOW)
        assert code == 0 and "(duckdb engine)" in err and as_set(out) == as_set(want), err


@pytest.mark.parametrize("chunk_rows", [1, 3, 1000])
def test_chunk_size_does_not_change_the_result(tmp_path: Path, chunk_rows: int) -> None:
    rows = clicks(200)
    path = write_jsonl(tmp_path / "UrlClickEvents.jsonl", rows)
    query = ("UrlClickEvents | where ThreatTypes has 'phish' | extend Hour = hourofday(Timestamp) "
             "| summarize Clicks = count(), Users = dcount(AccountUpn) by Hour | sort by Hour asc")
    tables = file_tables([str(path)], "defender", chunk_rows)
    got = evaluate(query, tables, now=datetime(2025, 1, 2))
    assert got == expected(rows, query)
    assert tables["UrlClickEvents"].rows_read == 200


def test_take_stops_reading_early(tmp_path: Path) -> None:
    """A malformed last line is never reached by `take 5`, while `count` reads the whole file."""
    path = write_jsonl(tmp_path / "UrlClickEvents.jsonl", clicks(5000))
    with open(path, "a", encoding="utf-8") as handle:
        handle.write('{"ActionType": 17, broken\n')
    tables = file_tables([str(path)], "defender", 100)
    assert len(evaluate("UrlClickEvents | where ActionType == 'ClickAllowed' | take 5", tables,
                        now=datetime(2025, 1, 2))) == 5
    assert tables["UrlClickEvents"].rows_read <= 100
    with pytest.raises(DacError) as caught:
        evaluate("UrlClickEvents | count", tables, now=datetime(2025, 1, 2))
    assert (caught.value.location.line, caught.value.location.column) == (5001, 20)
    assert "invalid JSON" in caught.value.message


def test_only_the_rows_the_filters_keep_are_held(tmp_path: Path) -> None:
    """The row-local head runs per chunk: what reaches summarize is the filtered rows, not the file."""
    path = write_jsonl(tmp_path / "UrlClickEvents.jsonl", clicks(3000))
    seen: list[int] = []
    source = file_tables([str(path)], "defender", 500)["UrlClickEvents"]

    class Watching(FileTable):
        def chunks(self):
            for chunk in FileTable.chunks(self):
                seen.append(len(chunk.rows))
                yield chunk

    watched = Watching(source.table, source.files, COLUMNS, 500)
    result = evaluate("UrlClickEvents | where ReportId == 'r-1' | summarize count()", {"UrlClickEvents": watched},
                      now=datetime(2025, 1, 2), max_rows=1000)  # more than the filtered rows, less than the file
    assert result == [{"count_": sum(1 for r in clicks(3000) if r["ReportId"] == "r-1")}]
    assert seen == [500] * 6


def test_several_files_feed_one_table_in_order(tmp_path: Path) -> None:
    rows = clicks(30)
    first = write_jsonl(tmp_path / "UrlClickEvents.part1.jsonl", rows[:10])
    second = write_csv(tmp_path / "UrlClickEvents.part2.csv", rows[10:])
    tables = file_tables([str(first), f"UrlClickEvents={second}"], "defender", 4)
    got = evaluate("UrlClickEvents | project Url", tables, now=datetime(2025, 1, 2))
    assert [r["Url"] for r in got] == [r["Url"] for r in rows]


def test_query_text_and_json_output(tmp_path: Path, capsys) -> None:
    path = write_jsonl(tmp_path / "UrlClickEvents.jsonl", clicks(50))
    code = main(["run", "UrlClickEvents | summarize n = count() by ActionType | sort by ActionType asc",
                 "--data", str(path), "--format", "json"])
    document = json.loads(capsys.readouterr().out)
    assert code == 0
    assert document["columns"] == [{"name": "ActionType", "type": "string"}, {"name": "n", "type": "long"}]
    assert document["rows"][0] == {"ActionType": "ClickAllowed", "n": 17}
    assert document["rows_read"] == {"UrlClickEvents": 50} and document["platform"] == "Defender"


def test_sentinel_tables_are_typed_by_their_catalog(tmp_path: Path, capsys) -> None:
    path = write_jsonl(tmp_path / "SigninLogs.jsonl", [
        {"TimeGenerated": "2025-01-01T10:00:00Z", "UserPrincipalName": "a@contoso.com", "ResultType": "50126"},
        {"TimeGenerated": "2025-01-01T11:00:00Z", "UserPrincipalName": "a@contoso.com", "ResultType": "0"}])
    code, out, err = run_cli(capsys, "SigninLogs | where TimeGenerated > ago(1d) and ResultType != '0'",
                             "--data", str(path), "--now", NOW)
    assert code == 0, err
    assert [r["ResultType"] for r in out] == ["50126"]
    assert out[0]["TimeGenerated"] == "2025-01-01T10:00:00.0000000Z"


@pytest.mark.parametrize("line, message, column", [
    ('{"Timestamp": "yesterday"}', "column 'Timestamp': 'yesterday' is not a valid datetime", 2),
    ('{"IsClickedThrough": "maybe"}', "column 'IsClickedThrough': 'maybe' is not a valid bool", 2),
    ('{"AcountUpn": "a@b"}', "column 'AcountUpn' is not in UrlClickEvents (did you mean 'AccountUpn'?)", 2),
    ('["not", "an", "object"]', "expected an object of column values", 1),
    ('{"Url": ', "invalid JSON", 9),
])
def test_bad_rows_are_located_errors(tmp_path: Path, capsys, line: str, message: str, column: int) -> None:
    path = tmp_path / "UrlClickEvents.jsonl"
    path.write_text(json.dumps(clicks(1)[0]) + "\n" + line + "\n", encoding="utf-8")
    code = main(["run", "UrlClickEvents | count", "--data", str(path)])
    err = capsys.readouterr().err
    assert code == 2
    assert f"{path}:2:{column}: {message}" in err


def test_bad_csv_header_and_width(tmp_path: Path) -> None:
    path = tmp_path / "UrlClickEvents.csv"
    path.write_text("Url,Acton\nhttps://a,x\n", encoding="utf-8")
    with pytest.raises(DacError) as caught:
        evaluate("UrlClickEvents", file_tables([str(path)], "defender"), now=datetime(2025, 1, 2))
    assert (caught.value.location.line, caught.value.location.column) == (1, 5)
    path.write_text("Url,ActionType\nhttps://a\n", encoding="utf-8")
    with pytest.raises(DacError, match="expected 2 fields, found 1"):
        evaluate("UrlClickEvents", file_tables([str(path)], "defender"), now=datetime(2025, 1, 2))


def test_query_problems_are_reported_before_any_data_is_read(tmp_path: Path, capsys) -> None:
    path = tmp_path / "UrlClickEvents.jsonl"
    path.write_text("this is not JSON\n", encoding="utf-8")
    code = main(["run", "UrlClickEvents\n| where TimeGenerated > ago(1h)", "--data", str(path)])
    err = capsys.readouterr().err
    assert code == 2
    assert "<query>:2:9:" in err and "TimeGenerated" in err and "Timestamp" in err


@pytest.mark.parametrize("name, message", [
    ("UrlClickEvent.jsonl", "table 'UrlClickEvent' is not in the Defender catalog (did you mean 'UrlClickEvents'?)"),
    ("UrlClickEvents.txt", "unknown data file type"),
    ("UrlClickEvents.parquet.gz", "unknown data file type"),
])
def test_bad_data_arguments(tmp_path: Path, name: str, message: str) -> None:
    path = tmp_path / name
    path.write_text("", encoding="utf-8")
    with pytest.raises(DacError, match=re.escape(message)):
        file_tables([str(path)], "defender")


def test_missing_data_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(DacError, match="data file not found"):
        data_file(str(tmp_path / "UrlClickEvents.jsonl"))
    with pytest.raises(DacError, match="is a folder; pass its files"):
        data_file(str(tmp_path))


def test_a_rule_query_error_points_into_the_rule_file(tmp_path: Path, capsys) -> None:
    rule = tmp_path / "rule.yaml"
    rule.write_text(SEED.read_text().replace("ThreatTypes has", "ThreatType has"), encoding="utf-8")
    data = write_jsonl(tmp_path / "UrlClickEvents.jsonl", clicks(3))
    assert main(["run", str(rule), "--data", str(data)]) == 2
    err = capsys.readouterr().err
    line = next(n for n, text in enumerate(rule.read_text().splitlines(), 1) if "ThreatType has" in text)
    assert f"{rule}:{line}:" in err and "ThreatType" in err


def test_parse_stays_streamable(tmp_path: Path) -> None:
    """A head with parse and mv-expand still runs per chunk and agrees with whole-table evaluation."""
    rows = clicks(40)
    path = write_jsonl(tmp_path / "UrlClickEvents.jsonl", rows)
    query = ("UrlClickEvents | parse Url with 'https://' Site '.example/' Rest "
             "| extend Parts = split(ThreatTypes, ',') | mv-expand Part = Parts to typeof(string) "
             "| project Site, Part")
    assert parse(query)
    got = evaluate(query, file_tables([str(path)], "defender", 3), now=datetime(2025, 1, 2))
    assert got == expected(rows, query)


@pytest.mark.parametrize("query", [
    "UrlClickEvents | summarize Clicks = count(), Last = max(Timestamp) by ActionType",
    "UrlClickEvents | where IsClickedThrough | count",
    "UrlClickEvents | extend Day = startofday(Timestamp) | summarize make_set(AccountUpn) by Day, ActionType",
])
def test_summarize_and_count_fold_the_stream(tmp_path: Path, query: str) -> None:
    """Rows flow from each chunk straight into the groups: a row limit far below the file size is never hit."""
    rows = clicks(3000)
    path = write_jsonl(tmp_path / "UrlClickEvents.jsonl", rows)
    got = evaluate(query, file_tables([str(path)], "defender", 200), now=datetime(2025, 1, 2), max_rows=250)
    assert as_set(json.loads(V.to_json_text(got))) == as_set(json.loads(V.to_json_text(expected(rows, query))))


def test_progress_is_reported_per_chunk(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "UrlClickEvents.jsonl", clicks(250))
    calls: list[tuple] = []
    tables = file_tables([str(path)], "defender", 100, lambda table, rows, share: calls.append((table, rows, share)))
    evaluate("UrlClickEvents | count", tables, now=datetime(2025, 1, 2))
    assert [(t, r) for t, r, _ in calls] == [("UrlClickEvents", 100), ("UrlClickEvents", 200), ("UrlClickEvents", 250)]
    shares = [s for _, _, s in calls]
    assert shares == sorted(shares) and shares[-1] == 1.0


def test_query_from_standard_input(tmp_path: Path, capsys, monkeypatch) -> None:
    import io

    path = write_jsonl(tmp_path / "UrlClickEvents.jsonl", clicks(12))
    monkeypatch.setattr("sys.stdin", io.StringIO("UrlClickEvents | where ActionType == 'ClickBlocked' | count"))
    code, out, _ = run_cli(capsys, "-", "--data", str(path))
    assert code == 0 and out == [{"Count": 4}]


def test_a_bad_clock_is_a_usage_error(tmp_path: Path, capsys) -> None:
    path = write_jsonl(tmp_path / "UrlClickEvents.jsonl", clicks(2))
    assert main(["run", "UrlClickEvents | count", "--data", str(path), "--now", "yesterday"]) == 2
    assert "--now: " in capsys.readouterr().err
