"""Formatter: canonical layout that round-trips to the same tree and is idempotent."""

from __future__ import annotations

import pytest

from dac.cli import main
from dac.kql import parse
from dac.kql.formatter import format_query, format_text


@pytest.mark.parametrize(
    "query",
    [
        "print x = (a or b) and c",
        "print x = a - (b - c), y = a - b - c, z = (a + b) * c",
        "print x = 1 - -2, y = -a.b, z = -(1 + 2)",
        'print s = "quote \\" backslash \\\\ newline \\n tab \\t zero-width \\u200b"',
        "T | project ['Column Name'], ['and'], x = d['k'].v[0]",
        "T | where not(a in ('x', 'y')) and b !between (1 .. 5) | where c matches regex '[a-z]+'",
        "let f = (t:(*), n:long = 3) { t | take n }; T | invoke f(2)",
        "T | summarize (m, u) = arg_max(ts, user) by bin(ts, 1h) | top 3 by m asc nulls first",
        "datatable(a:string, b:dynamic) ['x', dynamic({\"k\": [1, 2.5, null, datetime(2024-01-01)]})]",
        "T | parse kind=regex msg with 'user=' user:string ' id=' id:long",
        "T | mv-apply x = xs to typeof(long) on (where x > 1 | summarize s = sum(x))",
        "print d = datetime(2024-01-02 03:04:05.5), t = 90m, g = guid(74be27de-1e4e-49d9-b579-fe0b331d3642), n = long(null)",
        'T | where Timestamp >= datetime("Insert date")',
        "T | extend ['first'] = 1, where = 2 | project ['first'], kind, o = d.['title'], p = d.['in'], ['where']",
        "print d = dynamic([long(x), datetime(\"01-02-2022\")])",
    ],
)
def test_round_trip_and_idempotence(query: str) -> None:
    tree = parse(query)
    text = format_query(tree)
    assert parse(text) == tree, text
    assert format_text(text) == text


def test_layout_puts_each_operator_on_its_own_line() -> None:
    text = format_text("let n=5;T|where x>n|join kind=inner (U|project k) on k|take 1")
    assert text == (
        "let n = 5;\n"
        "T\n"
        "| where x > n\n"
        "| join kind=inner (\n"
        "    U\n"
        "    | project k\n"
        ") on k\n"
        "| take 1\n"
    )


def test_corpus_round_trips(corpus_queries: list[dict]) -> None:
    failures = []
    for query in corpus_queries:
        tree = parse(query["query"])
        text = format_query(tree)
        if parse(text) != tree or format_text(text) != text:
            failures.append(query["id"])
    assert not failures


def test_dac_fmt_formats_a_rule_query(capsys: pytest.CaptureFixture[str]) -> None:
    from conftest import REPO

    assert main(["fmt", str(REPO / "detections" / "hunting" / "user-clicked-through-events.yaml")]) == 0
    assert capsys.readouterr().out == (
        "UrlClickEvents\n"
        '| where ActionType == "ClickAllowed" or IsClickedThrough != "0"\n'
        '| where ThreatTypes has "Phish"\n'
        "| summarize by ReportId, IsClickedThrough, AccountUpn, NetworkMessageId, ThreatTypes\n"
    )


def test_dac_fmt_reports_syntax_errors_with_a_caret(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "q.kql"
    source.write_text("T\n| where x ==\n")
    assert main(["fmt", str(source)]) == 1
    err = capsys.readouterr().err
    assert f"{source}:2:13: expected an expression, found end of query" in err
    assert "| where x ==\n            ^" in err
