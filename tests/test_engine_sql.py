"""The SQL compiler's own promises, beyond the differential test: what it refuses before running, and why.

The differential test (test_engine_differential) checks that every answer equals
the python engine's; these check the refusals that keep it so (an inexact
construct refused at compile time, with its position) and a few constructs the
corpus reaches only in passing.
"""

from __future__ import annotations

from datetime import datetime

import pytest

pytest.importorskip("duckdb")
pytest.importorskip("sqlglot")

from dac.engines.compiler import compile_query  # noqa: E402 - after the skips
from dac.engines.duckdb_engine import run  # noqa: E402
from dac.engines.physical import EngineRefusal  # noqa: E402
from dac.engines.sources import RowsSource  # noqa: E402
from dac.kql import evaluate  # noqa: E402
from dac.kql.parser import parse  # noqa: E402

NOW = datetime(2024, 5, 1, 12, 0)


def both(query: str, tables: dict | None = None) -> tuple[list, list]:
    """The python engine's rows and the duckdb engine's, for one query."""
    tables = tables or {}
    expected = evaluate(query, tables, now=NOW, as_table=True)
    sources = {name: RowsSource(tuple(tuple(c) for c in t.columns), t.rows) for name, t in tables.items()}
    actual = run(parse(query), sources, now=NOW)
    assert actual.columns == expected.columns
    return expected.rows, actual.rows


def refusal(query: str, tables: dict | None = None) -> EngineRefusal:
    columns = {name: t.columns for name, t in (tables or {}).items()}
    with pytest.raises(EngineRefusal) as caught:
        compile_query(parse(query), columns, dialect="duckdb", now=NOW)
    return caught.value


@pytest.mark.parametrize("query", [
    "range x from 1 to 10 step 3",
    "range x from 10 to -10 step -7",
    "range x from 0.5 to 3.0 step 0.25",
    "range t from datetime(2024-01-01) to datetime(2024-01-02) step 5h",
    "range t from 1d to 1h step -3h",
    "range x from 5 to 1 step 1",
])
def test_range_counts_as_the_row_engine_loops(query: str) -> None:
    expected, actual = both(query)
    assert actual == expected


def test_range_over_inexact_reals_is_refused_before_running() -> None:
    # 0.1 is not a binary fraction: ten additions of it are not 10 * 0.1
    error = refusal("range x from 0.0 to 1.0 step 0.1")
    assert "range over these reals" in str(error) and error.line == 1


def test_nondeterministic_functions_are_refused() -> None:
    assert "the let value 'g'" in str(refusal("let g = toscalar(new_guid()); print g"))
    assert "new_guid()" in str(refusal("print g = new_guid()"))


def _dynamic_table():
    from dac.kql.table import Table

    return {"T": Table([("d", "dynamic"), ("n", "long")], [
        ({"a": None, "b": [1, 2.5, "x", None, {"k": 1}], "c": {"p": 1, "q": [2]}}, 1),
        ([], 2), (None, 3), ([3, 4], 4)])}


@pytest.mark.parametrize("query", [
    "T | mv-expand d.b",
    "T | mv-expand with_itemindex=ix c = d.c, d.b",
    "T | mv-expand bagexpansion=array d.c",
    "T | mv-expand d limit 1",
    "T | mv-expand x = d.b to typeof(long), y = d.b to typeof(string), z = d.b to typeof(real)",
    "T | sort by n | mv-expand d.b | take 4",
    "T | extend a_null = isnull(d.a), b3_null = isnull(d.b[3]), a_empty = isempty(d.a)",
])
def test_mv_expand_and_json_nulls_agree(query: str) -> None:
    from test_conformance import multiset_equal

    expected, actual = both(query, _dynamic_table())
    types = [kind for _, kind in evaluate(query, _dynamic_table(), now=NOW, as_table=True).columns]
    assert multiset_equal(expected, actual, types)


def _text_table():
    from dac.kql.table import Table

    return {"T": Table([("s", "string"), ("n", "long")], [
        ("Event: totalSlices=27, sliceNumber=23, lock", 1), ("a=12 b=x.5", 2),
        ("a=99999999999999999999 b=1", 3), ("", 4), ("A=7 B=2.5e3", 5)])}


@pytest.mark.parametrize("query", [
    'T | parse s with "a=" a:long " b=" b:real',
    'T | parse-where s with "a=" a:long " b=" b',
    'T | parse kind=regex flags=i s with "a=" a:long " b=" b:string',
    'T | parse kind=regex s with @"(\\w+)=" k ".*"',
    'T | parse s with * "totalSlices=" total:long ", sliceNumber=" n:long *',
    'T | parse kind=relaxed s with "a=" a " b=" b',
])
def test_parse_agrees(query: str) -> None:
    expected, actual = both(query, _text_table())
    assert actual == expected


def test_parse_relaxed_into_numbers_is_refused() -> None:
    # relaxed lets the group hold any text, which the SQL cast reads differently from Kusto
    assert "kind=relaxed" in str(refusal('T | parse kind=relaxed s with "a=" a:long *', _text_table()))


@pytest.mark.parametrize("query", [
    "T | summarize make_list(s), make_set(n % 2), make_list_if(n, n > 2), make_set_if(s, n < 3, 1)",
    "T | summarize l = make_list(n, 2), z = make_set(strlen(s) > 3) by k = n % 2",
    "T | where n > 100 | summarize make_list(s)",
])
def test_make_list_and_make_set_keep_the_input_order(query: str) -> None:
    expected, actual = both(query, _text_table())
    assert sorted(map(repr, actual)) == sorted(map(repr, expected))


@pytest.mark.parametrize("query", [
    "T | summarize make_list(n) by s | summarize make_list(s)",
    "T | summarize c = count() by s | sort by c desc",  # ties keep the groups' order: their first rows'
    "T | summarize c = count() by s | top 2 by c",
    "T | summarize c = count() by s | take 2",
    "T | where n > 100 | summarize c = count() by s | sort by c",
    "T | summarize c = count() | sort by c",
])
def test_a_summarize_lists_its_groups_in_the_order_of_their_first_rows(query: str) -> None:
    # the row engine's summarize lists groups as it meets them; the SQL carries each group's least ordinal
    from dac.kql.table import Table

    rows = [("b", 1), ("a", 2), ("c", 3), ("a", 4), ("b", 5), ("d", 6), ("e", 200), ("c", 300)]
    expected, actual = both(query, {"T": Table([("s", "string"), ("n", "long")], rows)})
    assert actual == expected


@pytest.mark.parametrize("query", [
    'T | extend b = bag_pack("x", n, "y", d.b, "x", tostring(n), "z", d.a), k = bag_keys(d), kc = bag_keys(d.c)',
    'T | project p = pack("a", n > 1, "q", tostring(n)) | extend kk = bag_keys(p)',
])
def test_bag_pack_and_bag_keys_agree(query: str) -> None:
    expected, actual = both(query, _dynamic_table())
    assert sorted(map(repr, actual)) == sorted(map(repr, expected))


@pytest.mark.parametrize("query", [
    'T | where IsClickedThrough != "0"',  # the seed rule's own comparison
    'T | extend a = IsClickedThrough == "true", b = "1" == IsClickedThrough, c = IsClickedThrough != 0',
    "T | extend d = IsClickedThrough == 1.5, e = IsClickedThrough != 1",
])
def test_a_bool_against_a_constant_of_another_kind_answers_as_the_row_engine(query: str) -> None:
    """Kusto converts between the kinds there; a bool has three values, so the SQL is a CASE over the row
    engine's own answer for each (no refusal of the seed rule's IsClickedThrough != "0")."""
    from dac.kql.table import Table

    table = Table([("IsClickedThrough", "bool")], [(True,), (False,), (None,)])
    expected, actual = both(query, {"T": table})
    assert actual == expected


def _picking_table():
    """Ties (ann's n, and t), nulls (bob's every n and t), NaN level with -inf, -0.0, strings by code point."""
    import uuid
    from datetime import datetime as dt

    from dac.kql.table import Table

    g = [uuid.UUID(int=i * 0x1111) for i in range(4)]
    return {"T": Table([("U", "string"), ("H", "string"), ("t", "datetime"), ("n", "long"), ("v", "real"),
                        ("s", "string"), ("dyn", "dynamic"), ("g", "guid"), ("b", "bool")], [
        ("ann", "h1", dt(2024, 1, 1, 10), 5, 1.5, "b", {"a": 1}, g[1], True),
        ("ann", "h1", dt(2024, 1, 1, 12), 5, float("nan"), "a", [1, 2], g[2], False),
        ("ann", "h2", dt(2024, 1, 1, 12), None, -0.0, "", None, None, None),
        ("bob", "h1", None, None, None, "", "x", g[3], True),
        ("bob", "h1", None, None, None, "zé", "", None, False),
        ("cy", "h3", dt(2024, 1, 2), 7, float("-inf"), "Z", {"b": [1]}, g[0], None),
        ("ann", "h1", dt(2024, 1, 1, 12), 3, 2.0, "é", 1.5, g[1], True),
        ("cy", "h3", dt(2024, 1, 3), 7, float("nan"), "é", "", None, True),
    ])}


@pytest.mark.parametrize("query", [
    "T | summarize arg_max(t, *) by U",
    "T | summarize arg_min(t, *) by U, H",
    "T | summarize arg_max(n, s, dyn), arg_min(n, s), c = count(), mx = max(n), l = make_list(s) by U",
    "T | summarize arg_max(v, s, v), arg_min(v, s) by U",
    "T | summarize arg_max(s, t), arg_min(s, t) by H",
    "T | extend d = t - datetime(2024-01-01 11:00) | summarize arg_max(d, U), arg_min(d, U) by H",
    "T | summarize arg_max(g, U), arg_min(b, U, g) by H",
    "T | summarize arg_max(n * 2, U), arg_min(strlen(s), U) by H",
    "T | summarize arg_max(t, *) by bin(t, 1d)",
    "T | summarize (a, b) = arg_max(n, s), argmin(n, s) by U",
    "T | summarize arg_max(n, *) by n",
    "T | summarize take_any(s), take_any(dyn), take_any(v), take_any(*), any(n, s) by U",
    "T | summarize take_any(U, H) by b",
    "T | summarize take_anyif(s, n > 4), anyif(dyn, b), take_anyif(v, isnotnull(t)), take_anyif(t, n < 0) by U",
    "T | where n > 100 | summarize arg_max(n, *), take_any(s), take_any(v)",
    "T | where n > 100 | summarize arg_max(n, *) by U",
])
def test_arg_max_arg_min_and_take_any_keep_the_row_engine_row(query: str) -> None:
    """The row kept on ties is the first in input order; a group whose value is all null gives its first row;
    take_any of one column the first non-empty value, take_anyif that among the rows its predicate holds for
    (https://learn.microsoft.com/kusto/query/arg-max-aggregation-function,
    https://learn.microsoft.com/kusto/query/take-any-aggregation-function,
    https://learn.microsoft.com/kusto/query/take-anyif-aggregation-function). repr tells -0.0 from 0.0."""
    expected, actual = both(query, _picking_table())
    assert sorted(map(repr, actual)) == sorted(map(repr, expected))


@pytest.mark.parametrize("query", [
    "T | summarize arg_max(t, *) by U | summarize arg_max(n, U)",
    "T | summarize count() by U | summarize take_any(U)",
])
def test_picks_after_a_summarize_keep_the_row_engine_choice(query: str) -> None:
    expected, actual = both(query, _picking_table())
    assert sorted(map(repr, actual)) == sorted(map(repr, expected))


def test_picks_the_row_engine_would_choose_otherwise_are_refused() -> None:
    error = refusal("T | summarize arg_max(dyn, U)", _picking_table())
    assert "arg_max() of a dynamic value" in str(error) and error.line == 1 and error.column > 1


def test_the_input_order_of_a_table_is_the_views_column_on_spark_and_refused_without_one(monkeypatch) -> None:
    """Spark's partitions give a table's rows in no defined order (and its ROW_NUMBER needs an ORDER BY), so
    what reads the input order (arg_max's ties, take) reads the view's order column there
    (dac.engines.spark_order); DuckDB numbers its scan; a dialect with neither refuses, naming the table."""
    import dataclasses

    from dac.engines import sql_dialects
    from dac.engines.spark_dialect import SOURCE_ORDINAL

    columns = {name: t.columns for name, t in _picking_table().items()}
    for query in ("T | summarize arg_max(n, *) by U", "T | take 2"):
        spark = compile_query(parse(query), columns, dialect="spark", now=NOW).sql("spark")
        duck = compile_query(parse(query), columns, dialect="duckdb", now=NOW).sql("duckdb")
        assert SOURCE_ORDINAL in spark and "ROW_NUMBER" not in spark.upper(), spark
        assert SOURCE_ORDINAL not in duck and "ROW_NUMBER() OVER ()" in duck.upper(), duck
    assert SOURCE_ORDINAL not in compile_query(parse("T | summarize max(n) by U"), columns, dialect="spark",
                                               now=NOW).sql("spark")
    monkeypatch.setitem(sql_dialects.DIALECTS, "duckdb", dataclasses.replace(sql_dialects.DUCKDB, ordered_scan=False))
    with pytest.raises(EngineRefusal, match="input order of the table 'T'"):
        compile_query(parse("T | take 2"), columns, dialect="duckdb", now=NOW)


# parse_json reads text as json.loads does (https://learn.microsoft.com/kusto/query/parse-json-function):
# JSON becomes its value, other text a string, "" null; the JSON null is null.
PARSE_JSON_TEXTS = ['{"a":1,"b":[1,2]}', "abc", "", "null", " 1 ", "1.5", '"s"', "Information", '{"lvl":"Info"}',
                    "true", "12345678901234567890123", '{"a" : [ 1 , {"b":null} ] }', "1e5", '{"k":"NaN, inf,]"}',
                    '"\\u00e9"', "[]", "{}"]


@pytest.mark.parametrize("query", [
    "T | extend d = parse_json(s)",
    "T | extend d = todynamic(s) | extend a = d.a, b = d.b[1], l = array_length(d.b), k = tostring(d.k)",
    # tostring() of a real, an array or a bag still fails at run time (its text is not DuckDB's)
    "T | where s in ('abc', '', 'null', ' 1 ', '\"s\"', 'true', 'Information', '\"\\u00e9\"')"
    " | extend d = parse_json(tostring(parse_json(s)))",
    "T | extend d = parse_json(parse_json(s))",
])
def test_parse_json_reads_text_as_the_row_engine(query: str) -> None:
    from dac.kql.table import Table

    tables = {"T": Table([("s", "string"), ("n", "long")], [(text, i) for i, text in enumerate(PARSE_JSON_TEXTS)])}
    expected, actual = both(query, tables)
    assert actual == expected


@pytest.mark.parametrize("text", ["[1,]", "NaN", "nan", "Infinity", '{"a":1,"a":2}', '[{"b":{"c":1,"c":2}}]',
                                  '"\\ud800"'])
def test_parse_json_fails_where_duckdb_would_read_the_text_otherwise(text: str) -> None:
    # DuckDB's reader takes trailing commas and any-case NaN/inf that json.loads rejects or reads as reals,
    # keeps the first of two equal keys (json.loads the last), and rejects lone surrogates json.loads reads
    from dac.kql.table import Table

    tables = {"T": Table([("s", "string")], [(text,)])}
    sources = {"T": RowsSource((("s", "string"),), [(text,)])}
    evaluate("T | extend d = parse_json(s)", tables, now=NOW)  # the row engine runs it
    with pytest.raises(EngineRefusal, match=r"parse_json\(\) exactly on this value \(line 1, column 16\)"):
        run(parse("T | extend d = parse_json(s)"), sources, now=NOW)


def test_parse_json_of_a_string_is_refused_on_spark() -> None:
    import dac.engines.spark_dialect  # noqa: F401 - registers the dialect

    with pytest.raises(EngineRefusal, match="parse_json\\(\\) of a string"):
        compile_query(parse("T | extend d = parse_json(s)"), {"T": [("s", "string")]}, dialect="spark", now=NOW)


def _membership_tables():
    from dac.kql.table import Table

    return {"T": Table([("s", "string"), ("n", "long"), ("i", "int"), ("r", "real")],
                       [("a", 1, 1, 1.0), ("B", None, 2, None), ("", 3, None, 2.5), ("c", 2 ** 53 + 1, 4, 5.0)]),
            "U": Table([("u", "string"), ("m", "long"), ("g", "guid")],
                       [("A", 1, None), ("b", None, None), ("", 2 ** 53, None), ("x", 5, None)])}


@pytest.mark.parametrize("query", [
    "let x = U | project u; T | where s in (x)",
    "let x = U | project u; T | where s in~ (x)",
    "let x = U | project u; T | where s !in (x)",
    "let x = U | project u; T | where s !in~ (x)",
    "T | where s in ((U | where m > 1 | project u))",
    "let x = U | project m; T | extend a = n in (x), b = n !in (x), c = i in (x), d = r in (x)",
    "let x = U | where m > 100 | project m; T | extend a = n in (x), b = n !in (x)",  # 2^53+1 is 2^53 as reals
    "let x = U | where false | project u; T | extend a = s in (x), b = s !in (x)",
])
def test_in_over_a_tabular_expression_reads_its_first_column(query: str) -> None:
    expected, actual = both(query, _membership_tables())
    assert actual == expected


@pytest.mark.parametrize("query, what", [
    ("let x = U | project m; T | where s in (x)", "'in' of a string value over a column of long"),
    ("let x = U | project u; T | where n in~ (x)", "'in~' of a long value over a column of string"),
    ("let x = U | project u; T | where s has_any (x)", "'has_any' over a tabular expression"),
])
def test_in_over_a_tabular_expression_of_another_kind_is_refused(query: str, what: str) -> None:
    error = refusal(query, _membership_tables())
    assert what in str(error) and error.line == 1


@pytest.mark.parametrize("query", [
    'T | extend h = d.a has "world", c = d.a contains "lo w", s = d.a startswith "he", x = d.a !has "hello"',
    'T | extend n = d.n has "5", b = d.b has "true", e = d.a endswith "", t = d.a hassuffix_cs "World"',
    'T | extend r = d.a matches regex "W.r", y = d.a has_any ("world", "x"), z = d.a has_all ("hello", "world")',
    'T | where d.a contains_cs "World"',
])
def test_string_operators_on_dynamic_values_test_their_text(query: str) -> None:
    # the row engine tests tostring() of the value: a null dynamic is "", a dynamic string its text
    from dac.kql.table import Table

    tables = {"T": Table([("d", "dynamic")], [({"a": "Hello World", "n": 5, "b": True},), (None,), ({"a": None},),
                                              ("text value",), ({"a": ""},)])}
    expected, actual = both(query, tables)
    assert actual == expected


def test_equality_ignoring_case_of_a_dynamic_value_is_refused() -> None:
    # =~ gives null for a null dynamic, where tostring() would give "" and so false
    from dac.kql.table import Table

    error = refusal('T | extend q = d.a =~ "x"', {"T": Table([("d", "dynamic")], [])})
    assert "a string operator on a dynamic value" in str(error) and (error.line, error.column) == (1, 17)


def _mixed_kinds_table():
    from dac.kql.table import Table

    return {"T": Table([("s", "string"), ("i", "int"), ("n", "long"), ("r", "real"), ("d", "dynamic")], [
        ("0", 0, 0, 0.0, {"t": "User", "b": True, "n": 1}), ("50126", 4624, None, None, None),
        ("", None, 2 ** 53 + 1, 2.5, {"t": "user"}), ("Success", -1, -1, float("inf"), "User"),
        ("-0", 5, 5, -0.0, ["User"]), ("abc", 1, 1, 1.0, {"t": None, "b": False})])}


@pytest.mark.parametrize("query", [
    # a string against a number: the string's toreal() (https://learn.microsoft.com/kusto/query/scalar-data-types/)
    "T | extend a = s == 0, b = s != 0, c = 0 == s, e = s == 50126, f = s == 2.5",
    "T | where s == 0 or s == 50126",
    # a number against a string: the constant's toreal(); text that is no number, NaN or infinite equals nothing
    'T | extend a = i == "4624", b = i != "4624", c = n == "5", e = n == "2.5", f = r == "2.5", g = n == "abc"',
    'T | extend h = r != "NaN", k = n == " 5 ", m = r == "inf", o = n == "9007199254740993"',
    # a dynamic value against a string: strings as text, bools by tobool(), arrays, bags and numbers never
    'T | extend a = d.t == "User", b = d.t != "User", c = d == "User", e = d.b == "true", f = d.b == "false"',
    'T | extend g = d.b != "x", h = d.n == "x", k = "User" == d.t, m = d == "[\\"User\\"]"',
])
def test_equality_across_kinds_with_a_constant_converts_as_the_row_engine(query: str) -> None:
    expected, actual = both(query, _mixed_kinds_table())
    assert actual == expected


@pytest.mark.parametrize("text", [" 0", "1.5", "0x1", "1e3", "0\n", "1234567890123456"])
def test_a_string_compared_with_a_number_fails_on_text_sql_would_read_otherwise(text: str) -> None:
    from dac.kql.table import Table

    query = "T | where s == 0"
    evaluate(query, {"T": Table([("s", "string")], [(text,)])}, now=NOW)
    with pytest.raises(EngineRefusal, match="'==' of a string and a number exactly on this value"):
        run(parse(query), {"T": RowsSource((("s", "string"),), [(text,)])}, now=NOW)


def test_a_dynamic_value_compared_with_number_text_is_refused() -> None:
    from dac.kql.table import Table

    error = refusal('T | where d.n == "1"', {"T": Table([("d", "dynamic")], [])})
    assert "comparing a dynamic value with the number text '1'" in str(error) and error.line == 1


def test_render_passes_its_input_through() -> None:
    # https://learn.microsoft.com/kusto/query/render-operator: a client-side hint; the rows are the input's
    from dac.kql.table import Table

    tables = {"T": Table([("s", "string"), ("n", "long")], [("a", 2), ("b", 1), ("a", 3)])}
    expected, actual = both("T | summarize c = sum(n) by s | sort by c | render barchart with (title='x')", tables)
    assert actual == expected


@pytest.mark.parametrize("query", [
    "T | summarize d = dcountif(s, n > 1), e = dcountif(n, s != 'a') by k",
    "T | summarize d = dcountif(s, b), e = dcountif(s, n > 100)",  # a null predicate counts nothing
])
def test_dcountif_counts_the_distinct_values_its_predicate_admits(query: str) -> None:
    from dac.kql.table import Table

    rows = [("a", 1, "x", True), ("b", 2, "x", None), ("a", 3, "y", False), ("", None, "y", True), ("c", 5, "x", True)]
    tables = {"T": Table([("s", "string"), ("n", "long"), ("k", "string"), ("b", "bool")], rows)}
    expected, actual = both(query, tables)
    assert sorted(actual) == sorted(expected)


@pytest.mark.parametrize("query", [
    'T | extend a = p in ("22", "80", " 443 ", "x"), b = p !in ("22", 80.0), c = p in~ ("22")',
    'T | extend a = s in (0, 50199, 2.5), b = s !in (0, "x"), c = s in~ ("ABC", 1), e = s in (true)',
    'T | extend a = r in ("2.5", 1, "nan"), b = r !in (2.5), c = n in (9007199254740992)',  # 2^53+1 is 2^53 as a real
])
def test_in_over_constants_of_other_kinds_matches_as_the_row_engine(query: str) -> None:
    from dac.kql.table import Table

    rows = [(22, "0", 2.5, 2 ** 53 + 1), (None, "50199", None, None), (443, "abc", float("inf"), 1),
            (80, "2.5", -0.0, 0), (1, "", 1.0, 2)]
    tables = {"T": Table([("p", "int"), ("s", "string"), ("r", "real"), ("n", "long")], rows)}
    expected, actual = both(query, tables)
    assert actual == expected


@pytest.mark.parametrize("query", [
    "T | extend d = startofday(t), m = startofmonth(t), y = startofyear(t), z = startofday(t, 0)",
    "T | summarize c = count() by startofday(t) | sort by t",
])
def test_start_of_day_month_year_truncate_as_the_row_engine(query: str) -> None:
    from dac.kql.table import Table

    rows = [(datetime(2024, 2, 29, 23, 59, 59, 999999),), (None,), (datetime(1, 1, 1, 0, 0, 1),),
            (datetime(9999, 12, 31, 12),), (datetime(2024, 2, 29, 0, 0),)]
    expected, actual = both(query, {"T": Table([("t", "datetime")], rows)})
    assert actual == expected


def test_start_of_day_with_an_offset_is_refused() -> None:
    from dac.kql.table import Table

    error = refusal("T | extend d = startofday(t, 1)", {"T": Table([("t", "datetime")], [])})
    assert "startofday() with an offset" in str(error) and (error.line, error.column) == (1, 16)


@pytest.mark.parametrize("period", ["year", "quarter", "month", "week", "day", "hour", "minute", "second",
                                    "millisecond", "microsecond", "Day"])
def test_datetime_diff_counts_boundaries_as_the_row_engine(period: str) -> None:
    # https://learn.microsoft.com/kusto/query/datetime-diff-function
    from dac.kql.table import Table

    rows = [(datetime(2024, 3, 3, 0, 0), datetime(2024, 3, 2, 23, 59, 59, 999999)),  # a Sunday and the Saturday
            (datetime(2023, 12, 31, 23), datetime(2025, 1, 1, 1)), (None, datetime(2024, 1, 1)),
            (datetime(1, 1, 1), datetime(9999, 12, 31, 23, 59, 59, 999999)), (datetime(2024, 5, 1, 12), NOW)]
    tables = {"T": Table([("a", "datetime"), ("b", "datetime")], rows)}
    expected, actual = both(f"T | extend d = datetime_diff('{period}', a, b), e = datetime_diff('{period}', b, a)", tables)
    assert actual == expected


def test_datetime_diff_in_nanoseconds_is_refused() -> None:
    from dac.kql.table import Table

    error = refusal("T | extend d = datetime_diff('nanosecond', a, a)", {"T": Table([("a", "datetime")], [])})
    assert "datetime_diff() by the period 'nanosecond'" in str(error)


@pytest.mark.parametrize("query", [
    "union isfuzzy=true A, B",
    "union isfuzzy=true kind=outer A, (B | where n > 1)",
    "union kind=outer isfuzzy=false A, B",
    "union withsource=Source A, B",
    "A | union withsource=T B | project T, n",
])
def test_union_parameters_that_change_nothing_here_or_name_the_source(query: str) -> None:
    # https://learn.microsoft.com/kusto/query/union-operator
    from dac.kql.table import Table

    tables = {"A": Table([("n", "long"), ("s", "string")], [(1, "a"), (2, "b")]),
              "B": Table([("n", "long"), ("k", "bool")], [(3, True), (None, None)])}
    expected, actual = both(query, tables)
    assert sorted(map(repr, actual)) == sorted(map(repr, expected))


@pytest.mark.parametrize("query", ["union kind=inner A, B", "union withsource=S A, (B | where n > 1)"])
def test_union_parameters_that_change_the_result_are_refused(query: str) -> None:
    from dac.kql.table import Table

    tables = {"A": Table([("n", "long")], []), "B": Table([("n", "long")], [])}
    assert refusal(query, tables).line == 1


@pytest.mark.parametrize("query", [
    "A | lookup B on k",
    "A | lookup kind=inner B on k",
    "A | lookup kind=leftouter (B | project k2 = k, v) on $left.k == $right.k2",
    "A | lookup B on k, n",
    "A | lookup (B | project k, s = v) on k",  # a right column named as a left one gets a suffix
])
def test_lookup_joins_as_the_row_engine(query: str) -> None:
    # https://learn.microsoft.com/kusto/query/lookup-operator; a null key matches a null key there
    from dac.kql.table import Table

    tables = {"A": Table([("k", "long"), ("n", "long"), ("s", "string")],
                         [(1, 1, "a"), (2, 2, "b"), (None, 3, "c"), (1, 4, "d"), (5, 5, "e")]),
              "B": Table([("k", "long"), ("n", "long"), ("v", "string")],
                         [(1, 1, "x"), (1, 4, "y"), (None, 3, "z"), (2, 9, "")])}
    expected, actual = both(query, tables)
    assert sorted(map(repr, actual)) == sorted(map(repr, expected))


def test_lookup_of_another_kind_is_refused() -> None:
    from dac.kql.table import Table

    tables = {"A": Table([("k", "long")], []), "B": Table([("k", "long")], [])}
    assert "lookup with kind=rightouter" in str(refusal("A | lookup kind=rightouter B on k", tables))
