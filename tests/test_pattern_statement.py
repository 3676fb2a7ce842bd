"""The pattern statement beyond its conformance cases (tests/conformance/pattern_statement.yaml):
syntax the official parser crashes on (so it cannot sit in the suite the oracle test reads), the
formatter's round trip, the references SEM0036 lists, and the SQL engines' refusal.

https://learn.microsoft.com/kusto/query/pattern-statement
"""

from __future__ import annotations

from datetime import datetime

import pytest

from dac.kql import KqlSemanticError, KqlSyntaxError, evaluate, parse
from dac.kql.formatter import format_query, format_text

COUNTRY = """declare pattern country = (name:string)[state:string]
{
  ("USA").["New York"] = { print Capital = "Albany" };
  ("Canada").["Alberta"] = { let x = 1; print Capital = "Edmonton" | extend x };
};
"""


@pytest.mark.parametrize("query", [
    'declare pattern c = () { ("x") = { print v = 1 }; }; c("x")',  # "one or more arguments"
    'declare pattern c = (a:string) { ("x",) = { print v = 1 }; }; c("x")',
    'declare pattern c = (a:string) { () = { print v = 1 }; }; c("x")',  # the official parser: "Missing string"
])
def test_syntax_the_official_parser_crashes_on_or_rejects(query: str) -> None:
    # the first two make Kusto.Language throw (IndexOutOfRangeException) instead of reporting an error
    with pytest.raises(KqlSyntaxError):
        parse(query)


@pytest.mark.parametrize("query", [
    COUNTRY + "country(\"Canada\").Alberta | union country('USA').['New York']",
    "declare pattern ['a b'];\nlet f = (x:string) { print x };\n"
    "declare pattern c = (a:string, b:string) { (\"x\", @'y\\z') = { }; };\nf(\"1\")",
])
def test_formatter_round_trips_a_pattern(query: str) -> None:
    tree = parse(query)
    text = format_query(tree)
    assert parse(text) == tree, text
    assert format_text(text) == text


def test_formatter_layout() -> None:
    assert format_text('declare pattern p=(a:string){("x")={print v=1};};p("x")') == (
        "declare pattern p = (a:string) {\n"
        "    (\"x\") = {\n"
        "        print v = 1\n"
        "    };\n"
        "};\n"
        "p(\"x\")\n"
    )


def test_missing_references_are_spelt_as_the_page_spells_them() -> None:
    # app('ApplicationX').['*'] is the page's spelling; a quote inside a value is escaped, and the
    # references of a function body are found too, at the first one
    query = ("declare pattern p;\n"
             "let f = () { p(\"it's\", 'b').x };\n"
             "union f(), p('a')")
    with pytest.raises(KqlSemanticError) as caught:
        evaluate(query, {})
    assert caught.value.message.endswith('Detected pattern references: ["p(\'it\\\\\'s\',\'b\').[\'x\']", "p(\'a\')"]')
    assert (caught.value.line, caught.value.column) == (2, 14)


def test_a_function_parameter_hides_a_pattern_of_its_name() -> None:
    # inside f, p is the parameter: calling it is no pattern invocation, so no reference is missing
    query = "declare pattern p;\nlet f = (p:string) { print v = p };\nf('a')"
    assert evaluate(query, {}) == [{"v": "a"}]


def test_an_unused_definition_is_still_bound_in_check_mode() -> None:
    from dac.kql.binder import check_query

    errors = check_query("declare pattern p = (a:string) { ('x') = { print v = 1 | where w == 1 }; }; print 1",
                         "sentinel")
    assert errors and "'w'" in errors[0].message and (errors[0].line, errors[0].column) == (1, 64)


def test_sql_engines_refuse_a_pattern_at_its_declaration() -> None:
    pytest.importorskip("duckdb")
    pytest.importorskip("sqlglot")
    from dac.engines.compiler import compile_query
    from dac.engines.physical import EngineRefusal

    query = "let n = 1;\ndeclare pattern c = (a:string) { ('x') = { T | take n }; };\nc('x')"
    with pytest.raises(EngineRefusal) as caught:
        compile_query(parse(query), {"T": [("a", "long")]}, dialect="duckdb", now=datetime(2024, 5, 1))
    assert "declare pattern c" in str(caught.value) and (caught.value.line, caught.value.column) == (2, 1)
