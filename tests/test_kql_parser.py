"""Parser: literals, precedence, operators, positions of syntax errors."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from decimal import Decimal

from pathlib import Path

import pytest

from dac.kql import KqlSemanticError, KqlSyntaxError, ast, evaluate, parse


def only_expr(text: str) -> ast.Expr:
    """The expression of ``print x = <text>``."""
    body = parse(f"print x = {text}")
    return body.result.source.items[0].expr


@pytest.mark.parametrize(
    "text,value,kind",
    [
        ('"a\\"b\\n"', 'a"b\n', "string"),
        ("'it''s'", None, None),
        ('@"C:\\temp\\"""', 'C:\\temp\\"', "string"),
        ('h"secret"', "secret", "string"),
        ("```multi\nline```", "multi\nline", "string"),
        ('"a" "b"', "ab", "string"),
        ("42", 42, "long"),
        ("4.5", 4.5, "real"),
        ("1e3", 1000.0, "real"),
        ("0x10", 16, "long"),
        ("true", True, "bool"),
        ("1d", timedelta(days=1), "timespan"),
        ("5m", timedelta(minutes=5), "timespan"),
        ("30s", timedelta(seconds=30), "timespan"),
        ("100ms", timedelta(milliseconds=100), "timespan"),
        ("1.5h", timedelta(hours=1.5), "timespan"),
        ("time(1.02:03:04)", timedelta(days=1, hours=2, minutes=3, seconds=4), "timespan"),
        ("datetime(2024-01-02)", datetime(2024, 1, 2), "datetime"),
        ("datetime(2024-01-02 10:11:12.5)", datetime(2024, 1, 2, 10, 11, 12, 500000), "datetime"),
        ("datetime(2024-01-02T10:00:00+02:00)", datetime(2024, 1, 2, 8), "datetime"),
        ("datetime(null)", None, "datetime"),
        ("guid(74be27de-1e4e-49d9-b579-fe0b331d3642)", uuid.UUID("74be27de-1e4e-49d9-b579-fe0b331d3642"), "guid"),
        ('dynamic(["a", 1, {"k": [true, null]}])', ["a", 1, {"k": [True, None]}], "dynamic"),
        ("dynamic({'single': 'quotes'})", {"single": "quotes"}, "dynamic"),
        ("long(null)", None, "long"),
        ("real(-1.5)", -1.5, "real"),
        ("-7", -7, "long"),
    ],
)
def test_literals(text: str, value, kind) -> None:
    if kind is None:
        # KQL single-quoted strings escape with backslash, not doubling: 'it''s' is two adjacent strings.
        expr = only_expr(text)
        assert expr == ast.Literal("its", "string")
        return
    assert only_expr(text) == ast.Literal(value, kind)


def test_precedence_follows_kusto() -> None:
    # or < and < comparison < additive < multiplicative
    expr = only_expr("a or b and c == 1 + 2 * 3")
    assert isinstance(expr, ast.Binary) and expr.op == "or"
    right = expr.right
    assert right.op == "and"
    comparison = right.right
    assert comparison.op == "=="
    assert comparison.right == ast.Binary("+", ast.Literal(1, "long"), ast.Binary("*", ast.Literal(2, "long"), ast.Literal(3, "long")))


@pytest.mark.parametrize(
    "text,op",
    [("a !has 'x'", "!has"), ("a has_cs 'x'", "has_cs"), ("a !contains_cs 'x'", "!contains_cs"),
     ("a matches regex 'x+'", "matches regex"), ("a !startswith 'x'", "!startswith"), ("a =~ 'x'", "=~"),
     ("a <> 'x'", "!=")],
)
def test_string_operators(text: str, op: str) -> None:
    assert only_expr(text).op == op


@pytest.mark.parametrize("text,op", [("a in ('x', 'y')", "in"), ("a in~ ('x')", "in~"), ("a !in~ ('x')", "!in~"),
                                     ("a has_any ('x', 'y')", "has_any"), ("a has_all (list)", "has_all")])
def test_list_operators(text: str, op: str) -> None:
    expr = only_expr(text)
    assert isinstance(expr, ast.InList) and expr.op == op


def test_integer_range_in_between_is_not_a_real() -> None:
    expr = only_expr("n between (1..5)")
    assert (expr.low, expr.high) == (ast.Literal(1, "long"), ast.Literal(5, "long"))


def test_unicode_letters_in_names() -> None:
    assert only_expr("Größe") == ast.Name("Größe")


def test_between_and_member_access() -> None:
    expr = only_expr("d.Props['a b'][0].c !between (1 .. 5)")
    assert isinstance(expr, ast.Between) and expr.negated
    assert isinstance(expr.left, ast.Member) and expr.left.name == "c"


def test_pipeline_operators_and_positions() -> None:
    body = parse(
        "let threshold = 5;\n"
        "T\n"
        "| where x > threshold // comment\n"
        "| mv-expand y to typeof(string)\n"
        "| project-away ['Odd Name'], Tmp*\n"
        "| summarize c = count(), arg_max(ts, *) by bin(ts, 1h)\n"
        "| join kind=leftouter (U | project k) on $left.a == $right.k\n"
        "| top 5 by c desc nulls last\n"
        "| render timechart"
    )
    assert isinstance(body.statements[0], ast.Let)
    pipeline = body.result
    kinds = [type(op).__name__ for op in pipeline.operators]
    assert kinds == ["Where", "MvExpand", "ProjectAway", "Summarize", "Join", "Top", "Render"]
    where = pipeline.operators[0]
    assert (where.line, where.column) == (3, 3)
    assert pipeline.operators[2].patterns == ["Odd Name", "Tmp*"]
    assert pipeline.operators[4].params == {"kind": "leftouter"}


def test_single_equals_in_where_names_the_predicate() -> None:
    # The official parser accepts `where IsBillable = true` (corpus query 0bbc3d410c33); its binder
    # types the predicate as the right side ("must have the type bool" for a string), so '=' names it.
    where = parse("T | where IsBillable = true").result.operators[0]
    assert where == ast.Where(ast.Literal(True, "bool"), "IsBillable")


def test_directives_and_invisible_characters_are_skipped() -> None:
    body = parse("#connect cluster('x')\n\u200bT | take 1")
    assert body.result.source.expr == ast.Name("T")


def test_uninterpretable_typed_literal_parses_but_keeps_the_error() -> None:
    literal = only_expr('datetime("Insert date")')
    assert literal.value is None and "invalid datetime literal" in literal.error


# Each query checked with the official parser (@kusto/language-service-next 12.4.1): True = it accepts.
@pytest.mark.parametrize(
    "text,accepted",
    [
        ("print first = 1", False),                                  # reserved: never a bare name
        ("print x = 1 | where last > 0", False),
        ("let and = 1; print x = 1", False),
        ("print x = 1 | project-away asc", False),
        ("print x = dynamic({}).first", False),
        ("print x = first(1)", False),
        ("print x = 1 | extend string = x", False),
        ("print ['first'] = 1 | project ['first'], y = ['first'] + 1", True),
        ("print First = 1 | project First", True),                    # keywords are case-sensitive
        ("print where = 1, in = 2", True),                            # declarable: may name a new column
        ("datatable(to:long)[1] | parse 'a' with where:string", True),
        ("print x = 1 | project-rename where = x", True),
        ("print x = strcat(title = 'a')", True),
        ("print where = 1 | project where", False),                   # ... but not be referred to
        ("let where = 1; print x = 1", False),
        ("print x = 1 | as where", False),
        ("range where from 1 to 2 step 1", False),
        ("print x = where(1)", False),
        ("print x = toscalar(print 1), y = datetime(2024-01-01), z = long(1)", True),
        ("datatable(['kind']:string)['a'] | project kind, k = kind | where kind == 'a'", True),  # referable
        ("print x = 1 | project-rename y = withsource", True),
        ("print kind = 1", False),                                    # ... but not declared
        ("datatable(kind:string)['a']", False),
        ("print x = 1 | project-keep kind", False),
        ("print x=1 | scan declare (where:long) with (step where: true;)", True),  # scan and partition
        ("print x=1 | scan declare (first:long) with (step s1: true;)", False),
        ("print x=1 | scan with (step kind: true;)", False),
        ("print x=1 | scan with_match_id=where with (step s1: true;)", False),
        ("print x=1 | partition by kind (take 1)", True),
        ("print x=1 | partition by where (take 1)", False),
    ],
)
def test_keywords_as_bare_names_follow_the_official_parser(text: str, accepted: bool) -> None:
    if accepted:
        parse(text)
    else:
        with pytest.raises(KqlSyntaxError, match="is a keyword: bracket it"):
            parse(text)


def test_keyword_error_points_at_the_keyword() -> None:
    with pytest.raises(KqlSyntaxError) as info:
        parse("print X = 1\n| project first = X")
    assert (info.value.line, info.value.column) == (2, 11)
    assert "['first']" in info.value.message


@pytest.mark.parametrize(
    "text,value",
    [
        ("dynamic([long(-1), real(-1.5), double(2), int64(3), decimal(1.5)])", [-1, -1.5, 2.0, 3, Decimal("1.5")]),
        ('dynamic({"d": datetime("2022-01-02"), "t": time(1h), "b": bool(true), "n": long(null)})',
         {"d": datetime(2022, 1, 2), "t": timedelta(hours=1), "b": True, "n": None}),
    ],
)
def test_typed_literals_inside_dynamic(text: str, value) -> None:
    assert only_expr(text).value == value


@pytest.mark.parametrize("element", ["int(1)", "int32(1)", "boolean(true)", "string('a')", "uuid(null)",
                                     "uniqueid(null)", "foo(1)"])
def test_typed_literals_kusto_refuses_inside_dynamic_are_syntax_errors(element: str) -> None:
    with pytest.raises(KqlSyntaxError, match="not a literal inside dynamic"):
        parse(f"print d = dynamic([{element}])")


def test_dynamic_property_names_must_be_quoted() -> None:
    with pytest.raises(KqlSyntaxError, match="quoted property name"):
        parse("print d = dynamic({a: 1})")


def test_uninterpretable_literal_inside_dynamic_parses_and_is_refused_when_used() -> None:
    literal = only_expr("dynamic([1, long(x), datetime(never)])")
    assert literal.value is None and "invalid long literal 'x'" in literal.error
    with pytest.raises(KqlSemanticError, match="invalid long literal"):
        evaluate("print d = dynamic([1, long(x)])", {})


def test_syntax_error_after_an_uninterpretable_dynamic_element_is_still_reported() -> None:
    with pytest.raises(KqlSyntaxError, match="invalid dynamic literal"):
        parse("print d = dynamic([long(x), ,])")


def test_let_function_with_parameters() -> None:
    body = parse("let f = (name:string, n:long = 2) { T | where x == name | take n }; f('a')")
    function = body.statements[0].value
    assert isinstance(function, ast.Lambda)
    assert [p[0] for p in function.params] == ["name", "n"]


@pytest.mark.parametrize(
    "text,line,column,fragment",
    [
        ("T | where", 1, 10, "expected an expression, found end of query"),
        ("T\n| summarize count() by\n| take 1", 3, 1, "expected an expression"),
        ("T | frobnicate x", 1, 5, "unknown query operator 'frobnicate'"),
        ("T | where x == 'open", 1, 16, "unterminated string literal"),
        ("T | project a,, b", 1, 15, "expected an expression"),
        ("T | where x == 1 )", 1, 18, "expected ';' or '|', found ')'"),
        ("T | where x in ('a' 'b'", 1, 24, "expected ')'"),
    ],
)
def test_syntax_errors_have_positions(text: str, line: int, column: int, fragment: str) -> None:
    with pytest.raises(KqlSyntaxError) as info:
        parse(text)
    error = info.value
    assert (error.line, error.column) == (line, column)
    assert fragment in error.message


def test_syntax_error_caret_points_at_column() -> None:
    with pytest.raises(KqlSyntaxError) as info:
        parse("T\n| where x ==")
    assert info.value.caret() == "| where x ==\n            ^"


def test_deep_nesting_is_a_clean_error() -> None:
    with pytest.raises(KqlSyntaxError, match="nested too deeply"):
        parse("print x = " + "(" * 5000 + "1" + ")" * 5000)


def test_corpus_acceptance(corpus_queries: list[dict]) -> None:
    """Yardstick: the real-world corpus; every query in it is accepted by the official parser.

    The queries we reject must be exactly those listed, with a reason, in tests/data/parser_rejections.json.
    """
    listed = json.loads((Path(__file__).parent / "data" / "parser_rejections.json").read_text())["disagreements"]["corpus"]
    rejected = {}
    for query in corpus_queries:
        try:
            parse(query["query"])
        except KqlSyntaxError as exc:
            rejected[query["id"]] = str(exc)
    assert sorted(rejected) == sorted(listed), f"unlisted rejections: {dict(list(rejected.items())[:5])}"
    share = 1 - len(rejected) / len(corpus_queries)
    assert share >= 0.99


def test_invalid_corpus_is_rejected(invalid_queries: list[dict]) -> None:
    accepted = []
    for query in invalid_queries:
        try:
            parse(query["query"])
            accepted.append(query["id"])
        except KqlSyntaxError:
            pass
    assert not accepted
