"""Compact fixtures (defaults, repeat, CSV/JSONL blocks and files), one timespan grammar, and
expectations that say what matters (count, columns, contains, order from the query, set-like arrays)."""

from __future__ import annotations

import shutil
import textwrap
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from dac.kql import parse
from dac.testing.clock import parse_time
from dac.testing.ordering import result_order
from dac.testing.runner import run_tests
from dac.testing.spans import parse_span

from conftest import CORPUS, REPO

SEED = REPO / "detections" / "hunting" / "user-clicked-through-events.yaml"
EXAMPLE = REPO / "tests" / "data" / "compact"
THRESHOLD_RULE = CORPUS / "azure-sentinel" / "Solutions" / "Windows Security Events" / "Analytic Rules" / \
    "ExcessiveLogonFailures.yaml"


def make_rule(folder: Path, query: str, tests: str) -> Path:
    """A hunting rule on UrlClickEvents (Defender) with ``query`` and the test file ``tests``."""
    text = SEED.read_text()
    start, end = text.index("query: |"), text.index("version:")
    body = "query: |\n" + textwrap.indent(textwrap.dedent(query).strip() + "\n", "  ")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "rule.yaml").write_text(text[:start] + body + text[end:])
    (folder / "rule.tests.yaml").write_text("platform: Defender\nnow: 2024-05-01T12:00:00Z\n" + textwrap.dedent(tests))
    return folder


def only(folder: Path):
    (result,) = run_tests([str(folder)]).results
    return result


def error_at(folder: Path) -> str:
    """The single result's first detail (a located error) or its location and message."""
    result = only(folder)
    assert result.status == "ERROR", result.render()
    return result.details[0] if result.details[0].startswith(str(folder)) else f"{result.location}: {result.details[0]}"


def path_of_tests(folder: Path) -> str:
    return str(folder / "rule.tests.yaml")


# --- the real-rule example ---------------------------------------------------------------


@pytest.fixture()
def threshold_rule(tmp_path: Path) -> Path:
    """Azure-Sentinel's Excessive Windows Logon Failures with the example test file of tests/data/compact."""
    if not THRESHOLD_RULE.is_file():
        pytest.skip("../shared/corpus/azure-sentinel is not available")
    (tmp_path / ".git").mkdir()
    shutil.copy(THRESHOLD_RULE, tmp_path / "excessive-logon-failures.yaml")
    for path in EXAMPLE.iterdir():
        shutil.copy(path, tmp_path / path.name)
    return tmp_path


def test_threshold_rule_example_passes(threshold_rule: Path) -> None:
    report = run_tests([str(threshold_rule)])
    assert report.ok, report.render()
    assert report.counts()["PASS"] == 6


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def test_threshold_rule_order_counts_because_the_query_sorts(threshold_rule: Path) -> None:
    tests = threshold_rule / "excessive-logon-failures.tests.yaml"
    edit(tests, "      - {Account: CONTOSO\\dave, sum_CountToday: 70}\n      - {Account: CONTOSO\\carol, sum_CountToday: 50}",
         "      - {Account: CONTOSO\\carol, sum_CountToday: 50}\n      - {Account: CONTOSO\\dave, sum_CountToday: 70}")
    (failed,) = [r for r in run_tests([str(threshold_rule)]).results if r.status != "PASS"]
    assert failed.case == "the busiest account comes first" and failed.status == "FAIL"
    assert failed.details[0] == "2 row(s) expected, 2 returned (in order)"
    assert "the same rows in another order" in failed.details[1] and "sort at" in failed.details[1]


def test_threshold_rule_make_set_is_compared_as_a_set(threshold_rule: Path) -> None:
    tests = threshold_rule / "excessive-logon-failures.tests.yaml"
    edit(tests, "IpAddressList: [203.0.113.7, 198.51.100.20], sum_CountToday: 100",
         "IpAddressList: [203.0.113.7], sum_CountToday: 100")
    (failed,) = [r for r in run_tests([str(threshold_rule)]).results if r.status != "PASS"]
    assert failed.status == "FAIL"
    assert "arrays compared regardless of element order: IpAddressList (make_set)" in failed.details
    assert any(line.startswith('+{Account: "CONTOSO\\\\bob", IpAddressList: ["198.51.100.20","203.0.113.7"]')
               for line in failed.details), failed.details


def test_threshold_rule_count_and_contains_fail_when_wrong(threshold_rule: Path) -> None:
    tests = threshold_rule / "excessive-logon-failures.tests.yaml"
    edit(tests, "    count: 1\n", "    count: 2\n")
    edit(tests, "        - repeat: 49\n", "        - repeat: 50\n")
    failed = {r.case: r for r in run_tests([str(threshold_rule)]).results if r.status != "PASS"}
    assert failed["forty-nine failures are not enough"].details[0] == "0 row(s) expected (count:), 1 returned"
    assert failed["local addresses are left out, other accounts stay"].details[0] == \
        "2 row(s) expected (count:), 1 returned"


# --- one timespan grammar ----------------------------------------------------------------


@pytest.mark.parametrize("text,span", [
    ("9m10s", timedelta(minutes=9, seconds=10)), ("9m 10s", timedelta(minutes=9, seconds=10)),
    ("1.5h", timedelta(hours=1, minutes=30)), ("2d", timedelta(days=2)), ("00:04:40", timedelta(minutes=4, seconds=40)),
    ("4m 40s", timedelta(minutes=4, seconds=40)), ("2.01:00:00", timedelta(days=2, hours=1)),
    ("100ms", timedelta(milliseconds=100)), ("15 seconds", timedelta(seconds=15)), ("-30s", timedelta(seconds=-30)),
])
def test_span_grammar(text: str, span: timedelta) -> None:
    assert parse_span(text) == span
    assert parse_time(f"now-{text}", datetime(2024, 5, 1)) == datetime(2024, 5, 1) - span


@pytest.mark.parametrize("text,message", [
    ("30", "'30' has no unit: write 30s, 30m, 30h or 30d, or hh:mm:ss"),
    ("9x", "unknown unit 'x'"), ("1w", "unknown unit 'w'"), ("9m10", "cannot read '10'"),
    ("1d 00:30:00", "the clock form is [d.]hh:mm[:ss[.fffffff]] and takes no unit terms"),
])
def test_span_grammar_refuses(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=".*" + message.replace("[", r"\[").replace("]", r"\]").replace(".", r"\.")):
        parse_span(text)


SPAN_QUERY = """
    UrlClickEvents
    | extend Waited = Timestamp - ago(1h)
    | project ReportId, Waited
"""


def test_timespans_read_alike_in_fixtures_and_expect(tmp_path: Path) -> None:
    make_rule(tmp_path, SPAN_QUERY, """
    cases:
      - name: one grammar
        tables:
          UrlClickEvents:
            - {ReportId: a, Timestamp: now-9m10s}
            - {ReportId: b, Timestamp: now - 1h 30m}
        expect:
          - {ReportId: a, Waited: 50m 50s}
          - {ReportId: b, Waited: "-00:30:00"}
    """)
    assert only(tmp_path).status == "PASS", only(tmp_path).render()


def test_bad_timespan_in_expect_is_located(tmp_path: Path) -> None:
    make_rule(tmp_path, SPAN_QUERY, """
    cases:
      - name: bare number
        tables:
          UrlClickEvents:
            - {ReportId: a, Timestamp: now-2h}
        expect:
          - {ReportId: a, Waited: 30}
    """)
    assert error_at(tmp_path) == f"{path_of_tests(tmp_path)}:10:31: 30 has no unit: a timespan is written 30s, 9m10s, " \
        "1.5h, 2d or 00:04:40"


def test_bad_relative_time_is_located(tmp_path: Path) -> None:
    make_rule(tmp_path, SPAN_QUERY, """
    cases:
      - name: bad offset
        tables:
          UrlClickEvents:
            - {ReportId: a, Timestamp: now-9q}
        expect: []
    """)
    assert error_at(tmp_path).startswith(f"{path_of_tests(tmp_path)}:8:36: invalid datetime 'now-9q': '9q' is not a "
                                         "timespan: unknown unit 'q'")


# --- defaults and repeat -----------------------------------------------------------------

PROJECT = """
    UrlClickEvents
    | project ReportId, AccountUpn, ActionType, Timestamp
"""


def test_defaults_fill_what_rows_leave_out(tmp_path: Path) -> None:
    make_rule(tmp_path, PROJECT, """
    defaults:
      UrlClickEvents: {AccountUpn: alice@contoso.com, ActionType: ClickAllowed, Timestamp: now-1h}
    cases:
      - name: file and case defaults
        defaults:
          UrlClickEvents: {ActionType: ClickBlocked}
        tables:
          UrlClickEvents:
            - {ReportId: a}
            - {ReportId: b, AccountUpn: bob@contoso.com}
        expect:
          - {ReportId: a, AccountUpn: alice@contoso.com, ActionType: ClickBlocked, Timestamp: now-1h}
          - {ReportId: b, AccountUpn: bob@contoso.com, ActionType: ClickBlocked, Timestamp: now-1h}
    """)
    assert only(tmp_path).status == "PASS", only(tmp_path).render()


def test_bad_default_is_located_even_unused_by_rows(tmp_path: Path) -> None:
    make_rule(tmp_path, PROJECT, """
    defaults:
      UrlClickEvents: {AcountUpn: alice@contoso.com}
    cases:
      - name: x
        tables:
          UrlClickEvents: []
        expect: []
    """)
    assert error_at(tmp_path) == f"{path_of_tests(tmp_path)}:5:20: unknown column 'AcountUpn' (did you mean 'AccountUpn'?)"


def test_defaults_for_a_table_no_case_uses_are_refused(tmp_path: Path) -> None:
    make_rule(tmp_path, PROJECT, """
    defaults:
      EmailEvents: {Subject: hello}
    cases:
      - name: x
        tables:
          UrlClickEvents: []
        expect: []
    """)
    assert error_at(tmp_path) == f"{path_of_tests(tmp_path)}:5:3: defaults for 'EmailEvents' apply to nothing: no case " \
        "gives rows for EmailEvents"


def test_repeat_with_cycle_format_and_steps(tmp_path: Path) -> None:
    make_rule(tmp_path, """
        UrlClickEvents
        | summarize Clicks = count(), First = min(Timestamp), Last = max(Timestamp), Users = dcount(AccountUpn),
                    Reports = make_set(ReportId) by ActionType
    """, """
    cases:
      - name: eleven near-identical rows
        tables:
          UrlClickEvents:
            - repeat: 11
              row: {ActionType: ClickAllowed}
              vary:
                Timestamp: {from: now-10m, every: 30s}
                AccountUpn: {cycle: [alice@contoso.com, bob@contoso.com]}
                ReportId: {format: "r-{n:02}"}
        expect:
          - {ActionType: ClickAllowed, Clicks: 11, First: now-10m, Last: now-5m, Users: 2,
             Reports: [r-11, r-10, r-09, r-08, r-07, r-06, r-05, r-04, r-03, r-02, r-01]}
    """)
    assert only(tmp_path).status == "PASS", only(tmp_path).render()


@pytest.mark.parametrize("item,where,message", [
    ("{repeat: 0, row: {ReportId: a}}", "8:20", "repeat: expected a whole number of rows from 1 to 10000, got 0"),
    ("{repeat: 2, ReportId: a}", "8:23", "a repeat: item takes only repeat, row, vary, not 'ReportId' "
     "(put column values under row:)"),
    ("{repeat: 2, row: {ReportId: a}, vary: {ReportId: {cycle: [b]}}}", "8:50",
     "column 'ReportId' is set in both row: and vary:"),
    ("{repeat: 2, vary: {ReportId: {from: a, every: 1}}}", "8:40",
     "from:/every: steps a datetime, timespan or number column; 'ReportId' is string (use cycle: or format:)"),
    ("{repeat: 2, vary: {ReportId: {format: fixed}}}", "8:49",
     "format: 'fixed' has no {n}, so every row gets the same value: put it under row:"),
    ("{repeat: 2, vary: {ReportId: {cycle: []}}}", "8:48", "cycle: expected a non-empty list of values"),
    ("{repeat: 2, vary: {ReportId: {every: 1}}}", "8:40", "vary: 'ReportId' needs both from: and every:, not only every:"),
    ("{repeat: 2, vary: {ReportId: {step: 1}}}", "8:41", "vary: 'ReportId' has unknown key 'step'"),
    ("{repeat: 2, vary: {Timestamp: {from: now, every: 5}}}", "8:60", "every: '5' has no unit"),
    ("{repeat: 3, vary: {IsClickedThrough: {format: 'x{n}'}}}", "8:57",
     "expected true or false, got 'x1' (row 1 of repeat)"),
    ("{repeat: 2, file: x.csv}", "8:23", "an item takes one of repeat, csv, jsonl, file, not repeat and file"),
])
def test_repeat_mistakes_are_located(tmp_path: Path, item: str, where: str, message: str) -> None:
    make_rule(tmp_path, PROJECT, f"""
    cases:
      - name: x
        tables:
          UrlClickEvents:
            - {item}
        expect: []
    """)
    text = error_at(tmp_path)
    assert text.startswith(f"{path_of_tests(tmp_path)}:{where}: {message}"), text


def test_error_in_a_generated_row_names_the_row(tmp_path: Path) -> None:
    make_rule(tmp_path, PROJECT, """
    cases:
      - name: x
        tables:
          UrlClickEvents:
            - repeat: 3
              vary:
                Timestamp: {cycle: [now, now-5m, yesterday]}
        expect: []
    """)
    assert error_at(tmp_path).endswith("(row 3 of repeat)")
    assert error_at(tmp_path).startswith(f"{path_of_tests(tmp_path)}:10:46: invalid datetime 'yesterday'")


def test_anchors_are_refused_with_the_compact_forms_as_advice(tmp_path: Path) -> None:
    make_rule(tmp_path, PROJECT, """
    cases:
      - name: x
        tables:
          UrlClickEvents:
            - &row {ReportId: a}
            - *row
        expect: []
    """)
    text = error_at(tmp_path)
    assert "anchors (&name) are not allowed" in text and "defaults:" in text and "repeat:" in text


# --- CSV and JSON lines --------------------------------------------------------------------


def test_csv_and_jsonl_blocks(tmp_path: Path) -> None:
    make_rule(tmp_path, PROJECT, """
    defaults:
      UrlClickEvents: {Timestamp: now-1h}
    cases:
      - name: blocks
        tables:
          UrlClickEvents:
            - csv: |
                ReportId, AccountUpn,          ActionType,   Timestamp
                a,        alice@contoso.com,   ClickAllowed, now-5m
                b,        "doe, jane",         ClickBlocked,
                c,        " padded ",          "",           2024-05-01T11:00:00Z
            - jsonl: |
                {"ReportId": "d", "AccountUpn": "erin@contoso.com", "Timestamp": "now-2m"}
        expect:
          - {ReportId: a, AccountUpn: alice@contoso.com, ActionType: ClickAllowed, Timestamp: now-5m}
          - {ReportId: b, AccountUpn: "doe, jane", ActionType: ClickBlocked, Timestamp: now-1h}
          - {ReportId: c, AccountUpn: " padded ", ActionType: "", Timestamp: now-1h}
          - {ReportId: d, AccountUpn: erin@contoso.com, ActionType: "", Timestamp: now-2m}
    """)
    assert only(tmp_path).status == "PASS", only(tmp_path).render()


@pytest.mark.parametrize("block,where,message", [
    ("csv: |\n      ReportId,Timestamp\n      a,now-5x", "10:14", "invalid datetime 'now-5x'"),
    ("csv: |\n      ReportId,Timestamp\n      a", "10:12", "csv: this line has 1 cell(s), the header names 2 column(s)"),
    ("csv: |\n      ReportId,ReportId\n      a,b", "9:21", "csv: column 'ReportId' is named twice in the header"),
    ("csv: |\n      ReportId,Nope\n      a,b", "9:21", "unknown column 'Nope'"),
    ("csv: |\n      ReportId\n      \"a", "10:12", "csv: a quoted cell is not closed on its line"),
    ("csv: \"ReportId\\na\"", "8:16", "csv: expected a literal block (csv: | then the lines, indented)"),
    ("jsonl: |\n      {\"ReportId\": \"a\", \"Timestamp\": 5}", "9:30", "5 is not a valid datetime"),
    ("jsonl: |\n      {\"ReportId\": \"a\",}", "9:29", "jsonl: Expecting property name enclosed in double quotes"),
    ("jsonl: |\n      [1]", "9:12", "jsonl: each line must be one JSON object"),
])
def test_block_mistakes_are_located(tmp_path: Path, block: str, where: str, message: str) -> None:
    make_rule(tmp_path, PROJECT, f"""
    cases:
      - name: x
        tables:
          UrlClickEvents:
            - {block.replace(chr(10), chr(10) + ' ' * 9)}
        expect: []
    """)
    text = error_at(tmp_path)
    assert text.startswith(f"{path_of_tests(tmp_path)}:{where}: {message}"), text


# --- rows from files -----------------------------------------------------------------------


@pytest.fixture()
def repository(tmp_path: Path) -> Path:
    """A rules repository (a git work tree) with the rule in detections/."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "fixtures").mkdir()
    (tmp_path / "fixtures" / "clicks.csv").write_text("ReportId,AccountUpn\na,alice@contoso.com\nb,bob@contoso.com\n")
    (tmp_path / "fixtures" / "bad.jsonl").write_text('{"ReportId": "a"}\n{"ReportId": 7}\n')
    return tmp_path


def file_case(name: str) -> str:
    return f"""
    cases:
      - name: x
        tables:
          UrlClickEvents:
            - file: {name}
        columns: [ReportId]
        contains:
          - {{ReportId: b}}
    """


def test_rows_from_a_file_inside_the_repository(repository: Path) -> None:
    rule = make_rule(repository / "detections", PROJECT, file_case("../fixtures/clicks.csv"))
    assert only(rule).status == "PASS", only(rule).render()


@pytest.mark.parametrize("name,message", [
    ("../../outside.csv", "file: '../../outside.csv' leaves the rules repository"),
    ("/etc/passwd.csv", "file: '/etc/passwd.csv' is absolute; give a path relative to the test file"),
    ("../fixtures/clicks.txt", "file: '../fixtures/clicks.txt' must end in .csv or .jsonl"),
    ("../fixtures/none.csv", "file: no such file"),
])
def test_file_mistakes_are_located(repository: Path, name: str, message: str) -> None:
    (repository.parent / "outside.csv").write_text("ReportId\nz\n")
    rule = make_rule(repository / "detections", PROJECT, file_case(name))
    text = error_at(rule)
    assert text.startswith(f"{path_of_tests(rule)}:8:17: {message}"), text


def test_error_inside_a_rows_file_points_into_it(repository: Path) -> None:
    rule = make_rule(repository / "detections", PROJECT, file_case("../fixtures/bad.jsonl"))
    assert error_at(rule) == f"{rule / '..' / 'fixtures' / 'bad.jsonl'}:2:2: expected a string, got 7 (quote it)"


# --- expectations --------------------------------------------------------------------------

SORTED = """
    UrlClickEvents
    | project ReportId, AccountUpn
    | sort by ReportId asc
"""
UNSORTED = """
    UrlClickEvents
    | sort by ReportId asc
    | summarize by ReportId, AccountUpn
"""
TWO_ROWS = """
        tables:
          UrlClickEvents:
            - {ReportId: a, AccountUpn: alice@contoso.com}
            - {ReportId: b, AccountUpn: bob@contoso.com}
"""


def case(body: str, tables: str = TWO_ROWS) -> str:
    return "cases:\n  - name: x\n" + textwrap.indent(textwrap.dedent(tables).strip("\n") + "\n", "    ") \
        + textwrap.indent(textwrap.dedent(body).strip("\n") + "\n", "    ")


def test_order_counts_by_default_when_the_query_sorts(tmp_path: Path) -> None:
    make_rule(tmp_path, SORTED, case("expect:\n  - {ReportId: b, AccountUpn: bob@contoso.com}\n"
                                     "  - {ReportId: a, AccountUpn: alice@contoso.com}\n"))
    result = only(tmp_path)
    assert result.status == "FAIL" and result.details[0] == "2 row(s) expected, 2 returned (in order)"
    assert f"sort at {tmp_path / 'rule.yaml'}:18:5, sorts its rows" in result.details[1]


def test_ordered_false_compares_a_sorted_result_without_order(tmp_path: Path) -> None:
    make_rule(tmp_path, SORTED, case("ordered: false\nexpect:\n  - {ReportId: b, AccountUpn: bob@contoso.com}\n"
                                     "  - {ReportId: a, AccountUpn: alice@contoso.com}\n"))
    assert only(tmp_path).status == "PASS"


def test_summarize_after_sort_leaves_rows_unordered(tmp_path: Path) -> None:
    make_rule(tmp_path, UNSORTED, case("expect:\n  - {ReportId: b, AccountUpn: bob@contoso.com}\n"
                                       "  - {ReportId: a, AccountUpn: alice@contoso.com}\n"))
    assert only(tmp_path).status == "PASS"


def test_ordered_true_on_an_unordered_result_is_refused(tmp_path: Path) -> None:
    make_rule(tmp_path, UNSORTED, case("ordered: true\nexpect: []\n"))
    assert error_at(tmp_path) == (
        f"{path_of_tests(tmp_path)}:9:14: ordered: true, but the query's result has no defined order (its last "
        f"row-order operator, summarize at {tmp_path / 'rule.yaml'}:18:5, leaves its rows unordered); remove "
        "ordered: or sort in the query")


def test_count_columns_and_contains(tmp_path: Path) -> None:
    make_rule(tmp_path, SORTED, case("count: 2\ncolumns: [AccountUpn]\ncontains:\n  - {AccountUpn: bob@contoso.com}\n"))
    assert only(tmp_path).status == "PASS"
    make_rule(tmp_path, SORTED, case("columns: [AccountUpn]\ncontains:\n  - {AccountUpn: carol@contoso.com}\n"))
    result = only(tmp_path)
    assert result.status == "FAIL"
    assert result.details[:2] == ["1 of 1 row(s) of contains: not returned (2 returned)",
                                  'missing: {AccountUpn: "carol@contoso.com"}']


def test_columns_compares_only_those(tmp_path: Path) -> None:
    make_rule(tmp_path, SORTED, case("columns: [ReportId]\nexpect:\n  - {ReportId: a}\n  - {ReportId: b}\n"))
    assert only(tmp_path).status == "PASS"


@pytest.mark.parametrize("body,where,message", [
    ("columns: [Nope]\ncount: 1\n", "9:15", "columns: 'Nope' is not a result column (result columns: ReportId, "
     "AccountUpn)"),
    ("columns: [ReportId]\nexpect:\n  - {ReportId: a, AccountUpn: x}\n", "11:23",
     "expect row names column(s) not compared: AccountUpn (compared columns (columns:): ReportId)"),
    ("count: 2\nexpect: []\n", "9:5", "count: with expect: says the number of rows twice"),
    ("contains: []\nexpect: []\n", "9:5", "contains: with expect: adds nothing"),
    ("ordered: true\ncount: 2\n", "9:5", "ordered: applies to expect: rows"),
    ("count: 0\ncontains:\n  - {ReportId: a, AccountUpn: x}\n", "9:5", "contains: lists 1 rows but count: is 0"),
    ("columns: [ReportId, ReportId]\ncount: 2\n", "9:25", "columns: 'ReportId' is named twice"),
    ("description: nothing stated\n", "4:5", "the case states nothing about the result"),
])
def test_expectation_mistakes_are_located(tmp_path: Path, body: str, where: str, message: str) -> None:
    make_rule(tmp_path, SORTED, case(body))
    text = error_at(tmp_path)
    assert text.startswith(f"{path_of_tests(tmp_path)}:{where}: {message}"), text


def test_make_list_is_ordered_only_over_sorted_input(tmp_path: Path) -> None:
    rows = """
        tables:
          UrlClickEvents:
            - {ReportId: b, Timestamp: now-1m}
            - {ReportId: a, Timestamp: now-2m}
    """
    make_rule(tmp_path, "UrlClickEvents\n| summarize Ids = make_list(ReportId)",
              case("expect:\n  - {Ids: [a, b]}\n", rows))
    assert only(tmp_path).status == "PASS"
    make_rule(tmp_path, "UrlClickEvents\n| sort by Timestamp asc\n| summarize Ids = make_list(ReportId)",
              case("expect:\n  - {Ids: [b, a]}\n", rows))
    assert only(tmp_path).status == "FAIL"


def test_a_datetime_written_as_text_gets_a_hint(tmp_path: Path) -> None:
    rows = "tables:\n  UrlClickEvents:\n    - {ReportId: a, Timestamp: 2024-05-01T11:55:00Z}\n"
    make_rule(tmp_path, "UrlClickEvents\n| project When = tostring(Timestamp)",
              case("expect:\n  - {When: 2024-05-01T11:55:00Z}\n", rows))
    result = only(tmp_path)
    assert result.status == "FAIL"
    assert result.details[-1] == ("hint: When is a string: Kusto writes a datetime as text with seven fractional "
                                  "digits, so write '2024-05-01T11:55:00.0000000Z', not '2024-05-01T11:55:00Z'")
    make_rule(tmp_path, "UrlClickEvents\n| project When = tostring(Timestamp)",
              case("expect:\n  - {When: 2024-05-01T11:55:00.0000000Z}\n", rows))
    assert only(tmp_path).status == "PASS"


def test_property_bags_compare_whatever_their_key_order(tmp_path: Path) -> None:
    rows = "tables:\n  UrlClickEvents:\n    - {ReportId: a, AccountUpn: alice}\n"
    make_rule(tmp_path, "UrlClickEvents\n| project Bag = bag_pack('u', AccountUpn, 'r', ReportId)",
              case("expect:\n  - {Bag: {r: a, u: alice}}\n", rows))
    assert only(tmp_path).status == "PASS"


# --- the order a query promises ------------------------------------------------------------


@pytest.mark.parametrize("query,ordered,operator", [
    ("T | sort by a | extend b = 1 | where b > 0 | take 3 | serialize", True, "sort"),
    ("T | top 3 by a | project a", True, "top"),
    ("let x = T | order by a; x | project a", True, "sort"),
    ("(T | sort by a) | take 3", True, "sort"),
    ("range i from 1 to 3 step 1 | extend j = i", True, "range"),
    ("T | serialize", False, ""),
    ("T", False, ""),
    ("T | sort by a | summarize count() by b", False, "summarize"),
    ("T | sort by a | join (U) on k", False, "join"),
    ("T | sort by a | mv-expand b", False, "mv-expand"),
    ("T | sort by a | distinct a", False, "distinct"),
    ("T | sort by a | union U", False, "union"),
])
def test_result_order(query: str, ordered: bool, operator: str) -> None:
    order = result_order(parse(query))
    assert (order.ordered, order.operator) == (ordered, operator)


def test_unordered_arrays_follow_their_columns() -> None:
    order = result_order(parse("T | summarize s = make_set(x), make_list(y), make_list_if(z, z > 1), n = count() by k"
                               " | project-rename S = s | extend n2 = list_y | project S, n2, list_z, k"))
    assert order.unordered_arrays == {"S": "make_set", "n2": "make_list", "list_z": "make_list_if"}
    order = result_order(parse("T | sort by t | summarize l = make_list(y), s = make_set(y)"))
    assert order.unordered_arrays == {"s": "make_set"}
