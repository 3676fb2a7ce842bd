"""Evaluator semantics, each case checked against Kusto's documented behaviour (URL per test)."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta

import pytest

from dac.kql import KqlRuntimeError, KqlSemanticError, KqlUnsupportedError, evaluate
from dac.kql.table import Table

NOW = datetime(2024, 5, 1, 12, 0, 0)
STRING_OPS = "https://learn.microsoft.com/kusto/query/datatypes-string-operators"


def run(query: str, **tables) -> list[dict]:
    return evaluate(query, tables, now=NOW)


def values(query: str, **tables) -> list:
    return [next(iter(row.values())) for row in run(query, **tables)]


# ------------------------------------------------------------------ string operators (STRING_OPS)

@pytest.mark.parametrize(
    "expr,expected",
    [
        ('"North America" has "america"', True),
        ('"Phishing" has "Phish"', False),
        ('"Malware,Phish" has "Phish"', True),
        ('"Malware,Phish" has "phish"', True),
        ('"Malware,Phish" has_cs "phish"', False),
        ('"Malware,Phish" !has "Phish"', False),
        ('"a-b_c" has "b"', True),
        ('"x.example.com" has "example.com"', True),
        ('"xexample.com" has "example.com"', False),
        ('"Fabrikam" hasprefix "fab"', True),
        ('"Fabrikam" hassuffix "kam"', True),
        ('"FabriKam" contains "BRik"', True),
        ('"FabriKam" contains_cs "brik"', False),
        ('"Fabrikam" startswith "FAB"', True),
        ('"Fabrikam" startswith_cs "FAB"', False),
        ('"Fabrikam" endswith "KAM"', True),
        ('"aBc" == "aBc"', True),
        ('"abc" == "ABC"', False),
        ('"abc" =~ "ABC"', True),
        ('"abc" != "ABC"', True),
        ('"aBc" !~ "ABC"', False),
        ('"abc" in ("x", "abc")', True),
        ('"ABC" in ("x", "abc")', False),
        ('"ABC" in~ ("x", "abc")', True),
        ('"ABC" !in~ ("x", "abc")', False),
        ('"north america" has_any ("south", "north")', True),
        ('"north america" has_all ("north", "south")', False),
        ('"aaab" matches regex "a+b$"', True),
    ],
)
def test_string_operators(expr: str, expected: bool) -> None:
    assert values(f"print r = {expr}") == [expected]


def test_matches_regex_is_re2_and_cannot_backtrack() -> None:
    # RE2 runs in linear time: the classic catastrophic pattern returns at once.
    text = "a" * 5000 + "!"
    assert values(f'print r = "{text}" matches regex "(a+)+$"') == [False]


def test_invalid_regex_is_reported_at_its_position() -> None:
    with pytest.raises(KqlSemanticError) as info:
        run('print r = "x" matches regex "(unclosed"')
    assert info.value.column == 29


# ------------------------------------------------------------------ types and nulls

def test_bool_compared_with_string_uses_tobool_rules() -> None:
    # https://learn.microsoft.com/kusto/query/tobool-function: "0" converts to false, "1" to true.
    # https://learn.microsoft.com/kusto/query/scalar-data-types/null-values: null != value is true.
    rows = [{"b": True}, {"b": False}, {"b": None}]
    table = Table.from_dicts(rows, [("b", "bool")])
    assert evaluate('T | where b != "0"', {"T": table}, now=NOW) == [{"b": True}, {"b": None}]
    assert evaluate('T | where b == "1"', {"T": table}, now=NOW) == [{"b": True}]


def test_null_never_satisfies_a_comparison() -> None:
    # https://learn.microsoft.com/kusto/query/scalar-data-types/null-values
    table = Table.from_dicts([{"n": 1}, {"n": None}], [("n", "long")])
    assert evaluate("T | where n > 0", {"T": table}, now=NOW) == [{"n": 1}]
    assert evaluate("T | where n < 5", {"T": table}, now=NOW) == [{"n": 1}]
    assert evaluate("T | where isnull(n)", {"T": table}, now=NOW) == [{"n": None}]


def test_empty_string_is_not_null() -> None:
    assert run('print a = isempty(""), b = isnull(""), c = isnotempty(" ")') == [{"a": True, "b": False, "c": True}]


def test_long_division_truncates_and_real_division_does_not() -> None:
    # https://learn.microsoft.com/kusto/query/numerical-operators
    assert run("print a = 7 / 2, b = -7 / 2, c = 7.0 / 2, d = 7 % 3") == [{"a": 3, "b": -3, "c": 3.5, "d": 1}]


def test_datetime_and_timespan_arithmetic() -> None:
    row = run("print a = datetime(2024-01-02) - datetime(2024-01-01), b = datetime(2024-01-01) + 1h, c = 2h / 30m, d = ago(1d)")[0]
    assert row == {"a": timedelta(days=1), "b": datetime(2024, 1, 1, 1), "c": 4.0, "d": NOW - timedelta(days=1)}


def test_guid_and_dynamic_values() -> None:
    row = run('print g = guid(74be27de-1e4e-49d9-b579-fe0b331d3642), d = dynamic({"a": [1, 2, {"b": "x"}]}).a[2].b, n = array_length(dynamic([1,2,3])), neg = dynamic([1,2,3])[-1]')[0]
    assert row == {"g": uuid.UUID("74be27de-1e4e-49d9-b579-fe0b331d3642"), "d": "x", "n": 3, "neg": 3}


def test_tostring_formats() -> None:
    # https://learn.microsoft.com/kusto/query/tostring-function
    row = run('print a = tostring(datetime(2024-01-02 03:04:05)), b = tostring(1h), c = tostring(dynamic(["a",1])), d = tostring(true), e = tostring(1.0)')[0]
    assert row == {"a": "2024-01-02T03:04:05.0000000Z", "b": "01:00:00", "c": '["a",1]', "d": "true", "e": "1"}


def test_ago_and_now_use_the_fixed_clock() -> None:
    assert run("print a = now(), b = ago(30m)") == [{"a": NOW, "b": NOW - timedelta(minutes=30)}]


def test_bin_rounds_down() -> None:
    # https://learn.microsoft.com/kusto/query/bin-function
    row = run("print a = bin(4.5, 1), b = bin(datetime(1970-05-11 13:45:07), 1d), c = bin(10, 3), d = bin(time(16d), 7d)")[0]
    assert row == {"a": 4.0, "b": datetime(1970, 5, 11), "c": 9, "d": timedelta(days=14)}


# ------------------------------------------------------------------ tabular operators

EVENTS = [
    {"User": "alice", "Action": "ClickAllowed", "Count": 3, "Time": datetime(2024, 5, 1, 10)},
    {"User": "bob", "Action": "ClickBlocked", "Count": 1, "Time": datetime(2024, 5, 1, 11)},
    {"User": "alice", "Action": "ClickBlocked", "Count": 5, "Time": datetime(2024, 5, 1, 9)},
    {"User": "carol", "Action": "ClickAllowed", "Count": None, "Time": datetime(2024, 4, 1)},
]


def events() -> Table:
    return Table.from_dicts(EVENTS, [("User", "string"), ("Action", "string"), ("Count", "long"), ("Time", "datetime")])


def test_where_extend_project() -> None:
    result = evaluate("E | where Time > ago(1d) | extend Twice = Count * 2 | project User, Twice", {"E": events()}, now=NOW)
    assert result == [{"User": "alice", "Twice": 6}, {"User": "bob", "Twice": 2}, {"User": "alice", "Twice": 10}]


def test_extend_replaces_an_existing_column_in_place() -> None:
    result = evaluate("E | take 1 | extend User = toupper(User)", {"E": events()}, now=NOW)
    assert list(result[0]) == ["User", "Action", "Count", "Time"] and result[0]["User"] == "ALICE"


def test_summarize_aggregates_and_default_names() -> None:
    # https://learn.microsoft.com/kusto/query/summarize-operator : by-columns first, then aggregates.
    result = evaluate(
        "E | summarize count(), dcount(Action), make_set(Action), max(Count), min(Time), sum(Count) by User",
        {"E": events()}, now=NOW,
    )
    assert result[0] == {
        "User": "alice", "count_": 2, "dcount_Action": 2, "set_Action": ["ClickAllowed", "ClickBlocked"],
        "max_Count": 5, "min_Time": datetime(2024, 5, 1, 9), "sum_Count": 8,
    }
    assert [r["User"] for r in result] == ["alice", "bob", "carol"]
    assert result[2]["max_Count"] is None


def test_summarize_without_groups_on_empty_input_gives_one_row() -> None:
    assert evaluate("E | where User == 'nobody' | summarize n = count()", {"E": events()}, now=NOW) == [{"n": 0}]


def test_arg_max_returns_the_whole_row() -> None:
    # https://learn.microsoft.com/kusto/query/arg-max-aggregation-function
    result = evaluate("E | summarize arg_max(Time, *) by User", {"E": events()}, now=NOW)
    assert result[0] == {"User": "alice", "Time": datetime(2024, 5, 1, 10), "Action": "ClickAllowed", "Count": 3}


def test_countif_and_expressions_over_aggregates() -> None:
    result = evaluate("E | summarize Allowed = countif(Action == 'ClickAllowed'), Ratio = todouble(count()) / 2", {"E": events()}, now=NOW)
    assert result == [{"Allowed": 2, "Ratio": 2.0}]


def test_sort_defaults_to_descending_with_nulls_last() -> None:
    # https://learn.microsoft.com/kusto/query/sort-operator
    result = evaluate("E | sort by Count | project Count", {"E": events()}, now=NOW)
    assert [r["Count"] for r in result] == [5, 3, 1, None]
    result = evaluate("E | order by Count asc | project Count", {"E": events()}, now=NOW)
    assert [r["Count"] for r in result] == [None, 1, 3, 5]


def test_take_top_distinct_count() -> None:
    assert len(evaluate("E | take 2", {"E": events()}, now=NOW)) == 2
    assert evaluate("E | top 1 by Count desc | project User", {"E": events()}, now=NOW) == [{"User": "alice"}]
    assert evaluate("E | distinct Action", {"E": events()}, now=NOW) == [{"Action": "ClickAllowed"}, {"Action": "ClickBlocked"}]
    assert evaluate("E | count", {"E": events()}, now=NOW) == [{"Count": 4}]


def test_let_scalars_tables_and_functions() -> None:
    query = """
    let since = ago(1d);
    let allowed = E | where Action == "ClickAllowed";
    let shout = (s:string) { toupper(s) };
    allowed | where Time > since | project Name = shout(User)
    """
    assert evaluate(query, {"E": events()}, now=NOW) == [{"Name": "ALICE"}]


def test_join_kinds_and_column_renaming() -> None:
    # https://learn.microsoft.com/kusto/query/join-operator : default kind is innerunique.
    left = Table.from_dicts([{"k": 1, "v": "a"}, {"k": 1, "v": "b"}, {"k": 2, "v": "c"}])
    right = Table.from_dicts([{"k": 1, "v": "x"}, {"k": 1, "v": "y"}, {"k": 3, "v": "z"}])
    tables = {"L": left, "R": right}
    assert evaluate("L | join R on k", tables, now=NOW) == [
        {"k": 1, "v": "a", "k1": 1, "v1": "x"}, {"k": 1, "v": "a", "k1": 1, "v1": "y"}]
    assert len(evaluate("L | join kind=inner R on k", tables, now=NOW)) == 4
    outer = evaluate("L | join kind=leftouter R on $left.k == $right.k", tables, now=NOW)
    assert outer[-1] == {"k": 2, "v": "c", "k1": None, "v1": ""}
    assert evaluate("L | join kind=leftanti R on k", tables, now=NOW) == [{"k": 2, "v": "c"}]


def test_mv_expand_and_union() -> None:
    table = Table.from_dicts([{"id": 1, "xs": [1, 2]}, {"id": 2, "xs": []}], [("id", "long"), ("xs", "dynamic")])
    assert evaluate("T | mv-expand x = xs to typeof(long) | project id, x", {"T": table}, now=NOW) == [
        {"id": 1, "x": 1}, {"id": 1, "x": 2}]
    merged = evaluate("union withsource=Src A, B", {"A": [{"a": 1}], "B": [{"b": "x"}]}, now=NOW)
    assert merged == [{"Src": "A", "a": 1, "b": ""}, {"Src": "B", "a": None, "b": "x"}]


# ------------------------------------------------------------------ errors name the feature and position

def test_unknown_column_suggests_a_name() -> None:
    with pytest.raises(KqlSemanticError) as info:
        evaluate("E\n| where Acton == 'x'", {"E": events()}, now=NOW)
    assert (info.value.line, info.value.column) == (2, 9)
    assert "unknown column or variable 'Acton' (did you mean 'Action'?)" in info.value.message


def test_unknown_table_is_an_error() -> None:
    with pytest.raises(KqlSemanticError, match="unknown table 'Nope'"):
        evaluate("Nope | take 1", {"E": events()}, now=NOW)


def test_unsupported_function_is_refused_not_guessed() -> None:
    with pytest.raises(KqlUnsupportedError) as info:
        evaluate("E | extend g = geo_h3cell_to_polygon('862a1072fffffff')", {"E": events()}, now=NOW)
    assert "geo_h3cell_to_polygon" in info.value.message and info.value.column == 16


def test_geo_info_reads_the_supplied_database() -> None:
    geo = [{"network": "20.53.0.0/16", "country": "Australia"}, {"network": "2a03:2880::/32", "country": "United States"}]
    query = "print a = geo_info_from_ip_address('20.53.203.50'), b = geo_info_from_ip_address('2a03:2880::1'), c = geo_info_from_ip_address('1.2.3.4')"
    assert evaluate(query, {}, now=NOW, geo_ip=geo) == [{"a": {"country": "Australia"}, "b": {"country": "United States"}, "c": None}]
    # without a database every lookup fails: null, not a refusal
    assert evaluate(query, {}, now=NOW) == [{"a": None, "b": None, "c": None}]


def test_bad_geo_entry_is_a_runtime_error() -> None:
    with pytest.raises(KqlRuntimeError, match="geo_ip entry 2: '10.0.0.0/33' is not an IP address or CIDR range"):
        evaluate("print 1", {}, now=NOW, geo_ip=[{"network": "10.0.0.0/8"}, {"network": "10.0.0.0/33"}])


def test_ingestion_time_from_dict_rows() -> None:
    rows = [{"n": 1, "$IngestionTime": "2024-05-01T10:00:00Z"}, {"n": 2}]
    result = evaluate("T | extend t = ingestion_time()", {"T": rows}, now=NOW, as_table=True)
    assert result.columns == [("n", "long"), ("t", "datetime")]  # the key is no column
    assert [row[1] for row in result.rows] == [datetime(2024, 5, 1, 10), None]
    with pytest.raises(KqlRuntimeError, match=r"\$IngestionTime: 'soon' is not a valid datetime"):
        evaluate("T", {"T": [{"n": 1, "$IngestionTime": "soon"}]}, now=NOW)


def test_platform_function_binds_with_its_columns() -> None:
    from dac.kql.binder import bind

    binding = bind("AssignedIPAddresses('pc1', ago(1d)) | project IPAddress, IPType, Timestamp", "defender")
    assert binding.errors == [] and binding.columns == [("IPAddress", "string"), ("IPType", "string"), ("Timestamp", "datetime")]
    assert binding.tables == {"DeviceNetworkInfo"}
    (error,) = bind("AssignedIPAddresses('pc1') | project IPAdress", "defender").errors
    assert "unknown column or variable 'IPAdress' (did you mean 'IPAddress'?)" in error.message
    (error,) = bind("AssignedIPAddresses('pc1', 5)", "defender").errors
    assert "expects a datetime" in error.message


def test_unsupported_plugin_is_refused() -> None:
    with pytest.raises(KqlUnsupportedError, match="plugin 'autocluster'"):
        evaluate("E | evaluate autocluster()", {"E": events()}, now=NOW)


def test_sample_is_reproducible_and_draws_from_the_input() -> None:
    """Kusto's sample is random (sample-operator page); ours is seeded by the clock and input size."""
    query = "range x from 1 to 1000 step 1 | sample 7"
    first = evaluate(query, {}, now=NOW)
    assert first == evaluate(query, {}, now=NOW)
    assert len({r["x"] for r in first}) == 7 and all(1 <= r["x"] <= 1000 for r in first)
    assert first != evaluate(query, {}, now=NOW + timedelta(days=1))  # another clock, another draw
    with pytest.raises(KqlSemanticError, match="number of rows"):
        evaluate("range x from 1 to 3 step 1 | sample 'two'", {}, now=NOW)


def test_top_nested_levels() -> None:
    # https://learn.microsoft.com/kusto/query/top-nested-operator
    rows = [{"a": "x", "b": "p", "v": 1}, {"a": "x", "b": "q", "v": 5}, {"a": "y", "b": "p", "v": 2},
            {"a": "z", "b": "p", "v": 10}]
    result = evaluate("T | top-nested 2 of a by sum(v) desc, top-nested 1 of b by s = sum(v)", {"T": rows}, now=NOW)
    assert result == [{"a": "z", "aggregated_a": 10, "b": "p", "s": 10}, {"a": "x", "aggregated_a": 6, "b": "q", "s": 5}]



def test_make_series_fills_bins_with_the_default() -> None:
    # https://learn.microsoft.com/kusto/query/make-series-operator : by columns, one array per
    # aggregate, then the axis; bins from `from` up to (not including) `to`.
    rows = [{"t": datetime(2024, 1, 1, h), "v": h} for h in (0, 1, 4)]
    result = evaluate("T | make-series s = sum(v) default = -1 on t from datetime(2024-01-01) "
                      "to datetime(2024-01-01 06:00) step 2h", {"T": rows}, now=NOW)
    assert result == [{"s": [1, -1, 4], "t": [datetime(2024, 1, 1), datetime(2024, 1, 1, 2), datetime(2024, 1, 1, 4)]}]


def test_search_matches_terms_in_any_column_and_names_the_table() -> None:
    # https://learn.microsoft.com/kusto/query/search-operator
    tables = {"A": [{"msg": "user alice logged on"}], "B": [{"who": "bob"}, {"who": "Alice"}]}
    assert evaluate('search "alice"', tables, now=NOW) == [
        {"$table": "A", "msg": "user alice logged on", "who": ""}, {"$table": "B", "msg": "", "who": "Alice"}]
    assert evaluate('search kind=case_sensitive "alice"', tables, now=NOW) == [
        {"$table": "A", "msg": "user alice logged on", "who": ""}]
    assert evaluate('B | search "bo*"', tables, now=NOW) == [{"who": "bob"}]


def test_getschema_lists_columns_and_types() -> None:
    assert evaluate("E | getschema | project ColumnName, ColumnType", {"E": events()}, now=NOW)[-1] == {
        "ColumnName": "Time", "ColumnType": "datetime"}


def test_wrong_arity_is_reported() -> None:
    with pytest.raises(KqlSemanticError, match=r"'tolower\(\)' takes 1 argument"):
        evaluate("E | extend x = tolower(User, 1)", {"E": events()}, now=NOW)


def test_row_limit_stops_runaway_joins() -> None:
    from dac.kql.errors import KqlRuntimeError

    many = Table.from_dicts([{"k": 1}] * 200)
    with pytest.raises(KqlRuntimeError, match="join: the query needs more than the evaluation budget of 1,000 rows"):
        evaluate("A | join kind=inner A on k", {"A": many}, now=NOW, max_rows=1000)


# ------------------------------------------------------------------ naming and typing settled with the official binder
# Each expectation below was read off Kusto.Language (npm @kusto/language-service-next): the result
# schema it computes for the query over T(x:string, n:long, d:dynamic, b:bool, ts:datetime).

def typed_t() -> Table:
    return Table.from_dicts([{"x": "a,b", "n": 2, "d": {"a": 1}, "b": True, "ts": "2024-05-01T10:00:00Z"}],
                            [("x", "string"), ("n", "long"), ("d", "dynamic"), ("b", "bool"), ("ts", "datetime")])


def schema(query: str) -> list[str]:
    return [f"{n}:{t}" for n, t in evaluate(query, {"T": typed_t()}, now=NOW, as_table=True).columns]


@pytest.mark.parametrize(
    "query,columns",
    [
        ("T | project tostring(x), tolower(x), d.a, d['b'], n + 1, bin(ts, 1h), strlen(x), toint(n), todouble(n)",
         ["x:string", "Column1:string", "d_a:dynamic", "d_b:dynamic", "Column2:long", "ts:datetime", "strlen_x:long",
          "n:int", "n1:real"]),
        ("T | summarize count(), count(), countif(b), countif(n > 1), dcount(tostring(d.a)), make_set(tolower(x))",
         ["count_:long", "count_1:long", "countif_b:long", "countif_:long", "dcount_d_a:long", "set_:dynamic"]),
        ("T | summarize take_any(x), any(x, n), arg_max(ts, *) by x",
         ["x:string", "x1:string", "any_x:string", "any_n:long", "ts:datetime", "n:long", "d:dynamic", "b:bool"]),
        ("T | summarize arg_max(n + 1, x) by x", ["x:string", "max_:long", "x1:string"]),
        ("T | mv-expand parse_json(x)", ["x:dynamic", "n:long", "d:dynamic", "b:bool", "ts:datetime"]),
        ("T | extend b = n * 2", ["x:string", "n:long", "d:dynamic", "b:long", "ts:datetime"]),
    ],
)
def test_result_schema_matches_the_official_binder(query: str, columns: list[str]) -> None:
    assert schema(query) == columns


@pytest.mark.parametrize(
    "query,message",
    [
        ("T | extend a = n, b = a + 1", "unknown column or variable 'a'"),
        ("T | project n, n", "column 'n' is declared twice"),
        ("T | where ts < 1h", "the operator '<' is not defined for the operand types datetime and timespan"),
        ("T | where x > 1", "the operator '>' is not defined for the operand types string and long"),
        ("T | extend y = ts + 1", "the operator '+' is not defined for the operand types datetime and long"),
        ("T | where n has '1'", "the operator 'has' is not defined for the operand types long and string"),
        ("T | where n", "the predicate must be a bool expression, found long"),
        ("T | extend y = ago(1)", "ago() expects a timespan, found long"),
    ],
)
def test_binder_rejections(query: str, message: str) -> None:
    with pytest.raises(KqlSemanticError, match=re.escape(message)):
        evaluate(query, {"T": typed_t()}, now=NOW)


def test_binder_accepts_loose_equality() -> None:
    # The binder accepts long == string and bool == long; values are converted as Kusto does.
    assert evaluate("T | where n == '2' and b == 1 | project n", {"T": typed_t()}, now=NOW) == [{"n": 2}]


def test_single_equals_in_where_is_the_right_side_value() -> None:
    # `where a = b` names the predicate; the rows kept are those where b is true (so `= true` keeps all).
    assert len(evaluate("T | where b = true", {"T": typed_t()}, now=NOW)) == 1
    assert evaluate("T | where b = false", {"T": typed_t()}, now=NOW) == []


def test_timestamp_hint_on_sentinel_tables() -> None:
    from dac.kql.binder import check_query

    (error,) = check_query("UrlClickEvents | where Timestamp > ago(1d)", "Sentinel")
    assert error.message == "unknown column or variable 'Timestamp' (Sentinel (Log Analytics) tables have 'TimeGenerated')"
    assert check_query("UrlClickEvents | where Timestamp > ago(1d)", "Defender") == []


def test_mv_apply_runs_the_subquery_per_row() -> None:
    # https://learn.microsoft.com/kusto/query/mv-apply-operator : top-1 element of each row's array.
    table = Table.from_dicts([{"id": 1, "xs": [3, 9, 4]}, {"id": 2, "xs": [7]}], [("id", "long"), ("xs", "dynamic")])
    result = evaluate("T | mv-apply x = xs to typeof(long) on (top 1 by x) | project id, x", {"T": table}, now=NOW)
    assert result == [{"id": 1, "x": 9}, {"id": 2, "x": 7}]


def test_mv_apply_keeps_the_row_and_lets_the_subquery_see_it() -> None:
    # Shape settled with the official binder: T | mv-apply y = xs on (project y) keeps T's columns, adds y;
    # corpus query 180807160349 filters on an outer column inside the subquery.
    table = Table.from_dicts([{"q": "select a", "xs": ["a", "b"]}], [("q", "string"), ("xs", "dynamic")])
    result = evaluate("T | mv-apply t = xs to typeof(string) on (where q contains t | project t)", {"T": table}, now=NOW)
    assert result == [{"q": "select a", "xs": ["a", "b"], "t": "a"}]
    summary = evaluate("T | mv-apply x = xs on (summarize c = count())", {"T": table}, now=NOW)
    assert summary == [{"q": "select a", "xs": ["a", "b"], "c": 2}]


def test_externaldata_reads_rows_given_under_its_url() -> None:
    query = 'externaldata (Ioc:string, Score:long) ["https://example.test/iocs.csv"] with (format="csv") | where Score > 5'
    tables = {"https://example.test/iocs.csv": [{"Ioc": "1.2.3.4", "Score": "9"}, {"Ioc": "5.6.7.8", "Score": "1"}]}
    assert evaluate(query, tables, now=NOW) == [{"Ioc": "1.2.3.4", "Score": 9}]
    with pytest.raises(KqlUnsupportedError, match="provide rows for 'https://example.test/iocs.csv'"):
        evaluate(query, {}, now=NOW)


def test_tuple_extend_fills_several_columns() -> None:
    result = evaluate("print x = 1 | extend (a, b) = pack_array(10, 20)", {}, now=NOW)
    assert result == [{"x": 1, "a": 10, "b": 20}]


def test_unknown_function_differs_from_an_unimplemented_one() -> None:
    # schemas/kusto_functions.json lists Kusto's own functions (read off the official language service).
    with pytest.raises(KqlSemanticError, match="unknown function 'nosuchfunction'"):
        evaluate("print nosuchfunction(1)", {}, now=NOW)
    # one it refuses says why (framework/kql/refusals.yaml)
    with pytest.raises(KqlUnsupportedError, match=r"'dcount_hll\(\)' cannot be evaluated by dac \(inexact\)"):
        evaluate("print dcount_hll(dynamic(null))", {}, now=NOW)


def test_let_cannot_rebind_a_name() -> None:
    # The official binder: "A variable with the name 'x' has already been declared" (KS201).
    with pytest.raises(KqlSemanticError, match="a variable named 'x' is already declared"):
        evaluate("let x = 1; let x = x + 1; print x", {}, now=NOW)
    assert evaluate("let x = 1; let f = () { x + 1 }; print f()", {}, now=NOW) == [{"print_0": 2}]


@pytest.mark.parametrize(
    "query,message",
    [
        # each rejected by the official binder ("A value of type datetime expected." and friends)
        ("T | extend y = startofday(x)", "function 'startofday()' expects a datetime as argument 1, found string"),
        ("T | extend y = datetime_diff('day', x, now())", "expects a datetime as argument 2, found string"),
        ("T | extend y = strlen(n)", "function 'strlen()' expects a string as argument 1, found long"),
        ("T | extend y = bin(x, 1h)", "function 'bin()' is not defined for (string, timespan)"),
    ],
)
def test_argument_types_the_binder_rejects(query: str, message: str) -> None:
    with pytest.raises(KqlSemanticError, match=re.escape(message)):
        evaluate(query, {"T": typed_t()}, now=NOW)


def test_parse_command_line_follows_windows_rules() -> None:
    # https://learn.microsoft.com/kusto/query/parse-command-line-function (CommandLineToArgvW rules):
    # 2n backslashes before a quote give n and toggle quoting.
    text = '"C:\\Program Files\\x.exe" -a "b c" d\\\\"e f\\\\\\\\"g'
    table = Table.from_dicts([{"cmd": text}], [("cmd", "string")])
    result = evaluate('T | project a = parse_command_line(cmd, "windows")', {"T": table}, now=NOW)
    assert result == [{"a": ["C:\\Program Files\\x.exe", "-a", "b c", "d\\e f\\\\g"]}]


def test_parse_user_agent_documentation_examples() -> None:
    # https://learn.microsoft.com/kusto/query/parse-user-agent-function (both examples)
    air = "Mozilla/5.0 (Windows; U; en-US) AppleWebKit/531.9 (KHTML, like Gecko) AdobeAIR/2.5.1"
    nokia = ("Mozilla/5.0 (SymbianOS/9.2; U; Series60/3.1 NokiaN81-3/10.0.032 Profile/MIDP-2.0 "
             "Configuration/CLDC-1.1 ) AppleWebKit/413 (KHTML, like Gecko) Safari/4")
    table = Table.from_dicts([{"ua": air}, {"ua": nokia}], [("ua", "string")])
    first, second = evaluate('T | project x = parse_user_agent(ua, dynamic(["browser", "os"]))', {"T": table}, now=NOW)
    assert first["x"]["Browser"] == {"Family": "AdobeAIR", "MajorVersion": "2", "MinorVersion": "5", "Patch": "1"}
    assert second["x"]["Browser"] == {"Family": "Nokia OSS Browser", "MajorVersion": "3", "MinorVersion": "1", "Patch": ""}
    assert second["x"]["OperatingSystem"]["Family"] == "Symbian OS"
    assert second["x"]["OperatingSystem"]["MajorVersion"] == "9"


def test_series_tuple_results_are_computed_per_row() -> None:
    # (a, b, c) = f(...) runs f once per row and hands each row its own values (framework/kql/series.py).
    table = Table.from_dicts([{"k": "flat", "y": [5, 5, 5, 5, 5, 5, 5, 20]}, {"k": "dip", "y": [5, 5, 0, 5, 5, 5, 5, 5]}],
                             [("k", "string"), ("y", "dynamic")])
    rows = evaluate("T | extend (flag, score, baseline) = series_decompose_anomalies(y, 1.5, 0) | project k, flag",
                    {"T": table}, now=NOW)
    assert rows == [{"k": "flat", "flag": [0, 0, 0, 0, 0, 0, 0, 1]}, {"k": "dip", "flag": [0, 0, -1, 0, 0, 0, 0, 0]}]


def test_series_tuple_results_bind_as_typed_columns() -> None:
    # Check mode (no rows): every value of a multi-value series function is its own column.
    from dac.kql.binder import bind

    binding = bind("SigninLogs | make-series n = count() on TimeGenerated from ago(1d) to now() step 1h "
                   "| extend (anomalies, score, baseline) = series_decompose_anomalies(n, 1.5, -1, 'linefit') "
                   "| extend outliers = series_decompose_anomalies(n) | project-away TimeGenerated", "sentinel")
    assert not binding.errors
    assert binding.columns == [("n", "dynamic"), ("anomalies", "dynamic"), ("score", "dynamic"), ("baseline", "dynamic"),
                               ("outliers", "dynamic"), ("series_decompose_anomalies_n_ad_score", "dynamic"),
                               ("series_decompose_anomalies_n_baseline", "dynamic")]
    assert bind("print (a, b, c, d) = series_decompose_anomalies(dynamic([1]))", "sentinel").errors
    # names as the official language service gives them: no argument name for a literal, x1 for a taken x
    assert bind("print series_periods_detect(dynamic([1]), 4, 8, 1)", "sentinel").columns == [
        ("series_periods_detect__periods", "dynamic"), ("series_periods_detect__scores", "dynamic")]
    names = [n for n, _ in bind("print y = dynamic([1]) | extend a = series_fit_line(y), b = series_fit_line(y) "
                                "| project-away y, a, b", "sentinel").columns]
    assert names[0] == "series_fit_line_y_slope" and names[5] == "series_fit_line_y_slope1" and len(names) == 10
    assert bind("print y = dynamic([1]) | extend z = array_length(series_decompose(y))", "sentinel").errors


# ------------------------------------------------------------------ found on the Azure-Sentinel corpus

def test_bool_literals_in_every_spelling_kusto_lexes() -> None:
    # BOOLEANLITERAL of grammar/KqlTokens.g4 (microsoft/Kusto-Query-Language): true, True, TRUE, false...
    assert run("print a = True, b = TRUE, c = true, d = False, e = FALSE, f = false") == [
        {"a": True, "b": True, "c": True, "d": False, "e": False, "f": False}]


def test_pivot_names_an_unknown_group_column() -> None:
    # https://learn.microsoft.com/kusto/query/pivot-plugin: the group columns are columns of the input.
    with pytest.raises(KqlSemanticError, match="unknown column 'Nme' \\(did you mean 'Name'\\?\\)"):
        run("datatable(Key:string, Name:string)['a', 'x'] | evaluate pivot(Key, count(), Nme)")
    assert run("datatable(Key:string, Name:string)['a', 'x', 'a', 'x'] | evaluate pivot(Key, count(), Name)") == [
        {"Name": "x", "a": 2}]


def test_bag_unpack_takes_its_prefix_by_name_and_refuses_what_it_cannot_evaluate() -> None:
    # https://learn.microsoft.com/kusto/query/bag-unpack-plugin: OutputColumnPrefix, columnsConflict, ignoredProperties
    def unpack(argument: str) -> str:
        return "print d = dynamic({'a': 1}) | evaluate bag_unpack(d, " + argument + ")"

    assert run(unpack("OutputColumnPrefix='p_'")) == run(unpack("'p_'")) == [{"p_a": 1}]
    with pytest.raises(KqlUnsupportedError, match="only the column and OutputColumnPrefix"):
        run(unpack("columnsConflict='keep_source'"))
    from dac.kql.binder import bind

    assert not bind(unpack("columnsConflict='keep_source'") + " | where a == 1", "sentinel").errors
