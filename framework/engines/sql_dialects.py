"""The few places where SQL dialects spell the same operation differently, in one table.

The compiler builds one sqlglot tree for every dialect; sqlglot transpiles the
common functions itself (``lower``, ``regexp_matches``/``rlike``, ``coalesce``...).
What it cannot know is how the physical form of ``dac.engines.physical`` is read in
each engine: a timestamp from a count of microseconds and back, a JSON path into
a dynamic value's text, a list aggregated into JSON text. Those are the hooks
below, keyed by dialect, so the Spark runtime adds its spellings here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlglot import exp

from dac.engines.physical import EngineRefusal


def _call(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(args))


@dataclass(frozen=True)
class Dialect:
    """How one engine spells the operations on the physical form that sqlglot does not transpile."""

    name: str
    # TIMESTAMP -> BIGINT microseconds since 1970-01-01 (negative before), and back
    epoch_micros: Callable[[exp.Expression], exp.Expression]
    from_epoch_micros: Callable[[exp.Expression], exp.Expression]
    # JSON text, JSON path ('$.a', '$[0]') -> the JSON text of the value there, NULL if absent or a JSON
    # null (the physical form holds a null dynamic as SQL NULL, never as the text 'null')
    json_value: Callable[[exp.Expression, str], exp.Expression]
    # JSON text -> its JSON type name as the engine writes it (see json_type_names)
    json_type: Callable[[exp.Expression], exp.Expression]
    # the JSON type names of a string, an array, an object in json_type's answer
    json_type_names: dict[str, str]
    # JSON text of a string -> the string itself
    json_string: Callable[[exp.Expression], exp.Expression]
    # an ordered SQL list of physical values -> its JSON text
    list_to_json: Callable[[exp.Expression], exp.Expression]
    # number of elements of a JSON array text (NULL when not an array)
    json_array_length: Callable[[exp.Expression], exp.Expression]
    # a SQL value -> its JSON text (numbers, strings, booleans)
    to_json: Callable[[exp.Expression], exp.Expression]
    # a count (BIGINT, may read the row's columns) and an alias -> a FROM item of one BIGINT
    # column "i" = 0 .. count - 1, joined laterally; None: the compiler refuses range and mv-expand
    series: Callable[[exp.Expression, str], exp.Expression] | None = None
    # JSON text of an array, zero-based position -> the JSON text of the element there
    json_array_item: Callable[[exp.Expression, exp.Expression], exp.Expression] | None = None
    # JSON text of an object -> its number of members; (text, zero-based position) -> the key and
    # the value's JSON text of the member there, in the text's order
    json_object_size: Callable[[exp.Expression], exp.Expression] | None = None
    json_object_member: Callable[[exp.Expression, exp.Expression],
                                 tuple[exp.Expression, exp.Expression]] | None = None
    # a key and a value's JSON text -> the JSON text of {key: value}, and of [key, value]
    json_pair_object: Callable[[exp.Expression, exp.Expression], exp.Expression] | None = None
    json_pair_array: Callable[[exp.Expression, exp.Expression], exp.Expression] | None = None
    # (constant key, JSON text or NULL for a JSON null) pairs -> the JSON text of the object, in order
    json_object_of: Callable[[list[tuple[str, exp.Expression]]], exp.Expression] | None = None
    # JSON text of an object -> the JSON text of the array of its keys in the text's order
    json_keys_array: Callable[[exp.Expression], exp.Expression] | None = None
    # the first n items of ARRAY_AGG(x ORDER BY o) FILTER (WHERE p): make_list/make_set keep the
    # row engine's order only where the aggregate's own ORDER BY does (Spark's array_agg has none)
    ordered_list_head: Callable[[exp.Expression, int], exp.Expression] | None = None
    # whether the engine's regular expressions are RE2, as Kusto's and the row engine's are: a user's
    # pattern (matches regex, extract, parse) means the same there; Java's (Spark) differs, in \b,
    # named groups (?P<n>) and more, so those are refused rather than matched differently
    re2_regex: bool = False
    # whether the engine can give a table's rows the order the row engine reads them in; without it the
    # compiler refuses the input order of a table (take, sort's ties, innerunique, arg_max...)
    ordered_scan: bool = False
    # the column of every table's view holding that order (a number, ascending), when the engine's scan has
    # none of its own: Spark's partitions have no order and its ROW_NUMBER needs an ORDER BY, so the spark
    # engine computes it while reading (dac.engines.spark_order); None: ROW_NUMBER() OVER () numbers the
    # plain scan, exact where the scan keeps the order rows were loaded in (DuckDB keeps insertion order)
    source_ordinal: str | None = None
    # text (never NULL) and an error message -> the JSON text of parse_json(text) as the row engine gives it
    # (Python's json.loads: "" is null, text that is no JSON is a string), or the error where the engine's
    # parser may read the text otherwise; None: the compiler refuses parse_json of a string
    parse_json: Callable[[exp.Expression, str], exp.Expression] | None = None
    # (value, list) -> the list's first item, a function of one lambda parameter applied to the value once:
    # a body reading its operand several times reads it once (nested parse_json(tostring(...)) would
    # otherwise copy the innermost operand once per reading, at each level)
    apply: Callable[[exp.Expression, exp.Expression], exp.Expression] | None = None


LAMBDA_PARAMETER = "__dac_v"


def bound(dialect: Dialect, value: exp.Expression, body: Callable[[exp.Expression], exp.Expression]) -> exp.Expression:
    """``body(value)``, with value computed once where the dialect can bind it (a column or literal is copied)."""
    if dialect.apply is None or isinstance(value, (exp.Column, exp.Literal)):
        return body(value)
    parameter = exp.column(LAMBDA_PARAMETER)
    return dialect.apply(value, exp.Lambda(this=body(parameter), expressions=[exp.to_identifier(LAMBDA_PARAMETER)]))


# Outside its strings, JSON text that DuckDB's parser (yyjson, lenient) accepts and Python's json.loads
# rejects or reads otherwise: NaN and infinities in any case, and a comma before a closing bracket.
_DUCKDB_LENIENT = r"(?i)nan|inf|,[ \t\n\r]*[\]}]"
_JSON_STRING = r'"(?:[^"\\]|\\.)*"'
# A \u escape of a lone surrogate: json.loads reads it, DuckDB rejects the text.
_SURROGATE_ESCAPE = r"\\u[dD][89a-fA-F]"


def _duckdb_apply(value: exp.Expression, function: exp.Expression) -> exp.Expression:
    """A scalar subquery over one row holding the value, not a lambda: DuckDB's lambdas can hold no subquery,
    and one in the argument of a correlated subquery is an internal error (parse_json's key test is one)."""
    assert isinstance(function, exp.Lambda)
    parameter = function.expressions[0].name
    row = exp.select(exp.alias_(value, parameter)).subquery("__dac_bound")
    return exp.Subquery(this=exp.select(function.this).from_(row))


def _duckdb_parse_json(operand: exp.Expression, error: str) -> exp.Expression:
    return bound(DUCKDB, operand, lambda text: _duckdb_parse_bound(text, error))


def _duckdb_parse_bound(text: exp.Expression, error: str) -> exp.Expression:
    """parse_json(text) in DuckDB, exact or failing: DuckDB's reader accepts more than json.loads (NaN,
    trailing commas) and keeps the first of two equal keys where json.loads keeps the last, so a text
    with either, or with a lone surrogate escape that json.loads reads and DuckDB rejects, is an error.
    The operand is computed once (``bound``)."""
    duplicate_key = exp.Subquery(this=exp.select(exp.GT(
        this=exp.Count(this=exp.Star()),
        expression=exp.Count(this=exp.Distinct(expressions=[exp.column("fullkey")])))).from_(
        exp.Table(this=_call("json_tree", exp.Case().when(  # DuckDB runs it on every row, invalid text too
            _call("json_valid", text), text).else_(exp.Literal.string("0"))))))
    fail = _call("error", exp.Literal.string(error))
    return exp.Case().when(duplicate_key, fail).else_(_duckdb_parse_text(text, fail))


def _duckdb_parse_text(text: exp.Expression, fail: exp.Expression) -> exp.Expression:
    outside_strings = _call("regexp_replace", text, exp.Literal.string(_JSON_STRING), exp.Literal.string(""),
                            exp.Literal.string("g"))
    case = exp.Case()
    case = case.when(exp.EQ(this=text, expression=exp.Literal.string("")), exp.cast(exp.null(), "VARCHAR"))
    case = case.when(_call("json_valid", text), exp.Case().when(
        _call("regexp_matches", outside_strings, exp.Literal.string(_DUCKDB_LENIENT)), fail).else_(
        exp.Nullif(this=exp.cast(_call("json", text), "VARCHAR"), expression=exp.Literal.string("null"))))
    case = case.when(_call("regexp_matches", text, exp.Literal.string(_SURROGATE_ESCAPE)), fail)
    return case.else_(exp.cast(_call("to_json", text), "VARCHAR"))


DUCKDB = Dialect(
    name="duckdb",
    epoch_micros=lambda ts: _call("epoch_us", ts),
    from_epoch_micros=lambda us: _call("make_timestamp", us),
    json_value=lambda text, path: exp.Nullif(
        this=exp.cast(_call("json_extract", text, exp.Literal.string(path)), "VARCHAR"),
        expression=exp.Literal.string("null")),
    json_type=lambda text: _call("json_type", exp.cast(text, "JSON")),
    json_type_names={"string": "VARCHAR", "array": "ARRAY", "object": "OBJECT"},
    json_string=lambda text: _call("json_extract_string", text, exp.Literal.string("$")),
    list_to_json=lambda items: exp.cast(_call("to_json", items), "VARCHAR"),
    json_array_length=lambda text: _call("json_array_length", text),
    to_json=lambda value: exp.cast(_call("to_json", value), "VARCHAR"),
    series=lambda count, alias: exp.Table(
        this=_call("range", exp.cast(count, "BIGINT")),
        alias=exp.TableAlias(this=exp.to_identifier(alias), columns=[exp.to_identifier("i", quoted=True)])),
    json_array_item=lambda text, i: _call("list_extract", _call("json_extract", text, exp.Literal.string("$[*]")),
                                          exp.Add(this=i, expression=exp.Literal.number(1))),
    json_object_size=lambda text: _call("len", _call("json_keys", text)),
    json_object_member=lambda text, i: (
        _call("list_extract", _call("json_keys", text), exp.Add(this=i, expression=exp.Literal.number(1))),
        _call("list_extract", _call("json_extract", text, exp.Literal.string("$.*")),
              exp.Add(this=i, expression=exp.Literal.number(1)))),
    json_pair_object=lambda key, value: exp.cast(_call("json_object", key, exp.cast(value, "JSON")), "VARCHAR"),
    json_pair_array=lambda key, value: exp.cast(_call("json_array", key, exp.cast(value, "JSON")), "VARCHAR"),
    json_object_of=lambda pairs: exp.cast(_call("json_object", *[part for key, value in pairs for part in (
        exp.Literal.string(key), exp.cast(value, "JSON"))]), "VARCHAR"),
    json_keys_array=lambda text: exp.cast(_call("to_json", _call("json_keys", text)), "VARCHAR"),
    re2_regex=True,
    ordered_scan=True,
    ordered_list_head=lambda items, n: _call("list_slice", items, exp.Literal.number(1), exp.Literal.number(n)),
    parse_json=_duckdb_parse_json,
    apply=_duckdb_apply,
)

DIALECTS: dict[str, Dialect] = {"duckdb": DUCKDB}


def dialect_named(name: str) -> Dialect:
    """The hooks of ``name``; a dialect nobody has described is refused, naming it."""
    try:
        return DIALECTS[name]
    except KeyError:
        raise EngineRefusal(f"SQL for the dialect '{name}'", name, why="no hooks are registered for it") from None
