"""Scalar KQL functions the SQL engines compute exactly as the row engine does (``dac.kql.functions``).

Each entry builds the SQL of one call from its compiled arguments; anything
outside what the entry can make exact refuses (the compiler then uses the row
engine's value if the call is constant). Strings are never null in the physical
form, so string functions need no null guard; numbers and datetimes do.
"""

from __future__ import annotations

from collections.abc import Callable
from sqlglot import exp

from dac.engines.sql_dialects import bound
from dac.engines.sql_scalars import YEAR_ONE_MICROS, ScalarCompiler, Sql, _case, _func, runtime_error
from dac.engines.sql_values import literal, micros, typed_null
from dac.kql import ast
from dac.kql import values as V

Builder = Callable[[ScalarCompiler, ast.Call, str], exp.Expression]
FUNCTIONS: dict[str, Builder] = {}


def function(*names: str) -> Callable[[Builder], Builder]:
    def register(build: Builder) -> Builder:
        for name in names:
            FUNCTIONS[name] = build
        return build

    return register


def _args(compiler: ScalarCompiler, call: ast.Call) -> list[Sql]:
    return [compiler.compile(arg) for arg in call.args]


def _text(compiler: ScalarCompiler, value: Sql, node: ast.Node) -> exp.Expression:
    """tostring() of a compiled value, for the kinds whose SQL text is Kusto's text."""
    if value.type == "string":
        return value.node
    if value.type in ("int", "long", "bool", "guid"):
        # CAST(true AS VARCHAR) is 'true', a long's digits are its text, a guid is held as its text
        return exp.Coalesce(this=exp.cast(value.node, "VARCHAR"), expressions=[exp.Literal.string("")])
    if value.type == "dynamic":
        dialect = compiler.context.dialect
        names = dialect.json_type_names
        fail = _func("error", exp.Literal.string(runtime_error(compiler, "tostring() of a dynamic value", node)))

        def text_of(json: exp.Expression) -> exp.Expression:
            kind = dialect.json_type(json)
            return _case([(exp.Is(this=json, expression=exp.null()), exp.Literal.string("")),
                          (exp.EQ(this=kind, expression=exp.Literal.string(names["string"])), dialect.json_string(json)),
                          (exp.In(this=kind, expressions=[exp.Literal.string(t) for t in ("BIGINT", "UBIGINT", "BOOLEAN")]),
                           json)], fail)

        return bound(dialect, value.node, text_of)
    raise compiler.refuse(f"tostring() of a {value.type} value", node, "its text form differs in SQL")


@function("tostring")
def _tostring(compiler: ScalarCompiler, call: ast.Call, kind: str) -> exp.Expression:
    return _text(compiler, compiler.compile(call.args[0]), call)


@function("strcat")
def _strcat(compiler: ScalarCompiler, call: ast.Call, kind: str) -> exp.Expression:
    parts = [_text(compiler, value, arg) for value, arg in zip(_args(compiler, call), call.args)]
    return exp.Concat(expressions=parts, safe=True, coalesce=False) if len(parts) > 1 else parts[0]


@function("strlen")
def _strlen(compiler: ScalarCompiler, call: ast.Call, kind: str) -> exp.Expression:
    value = compiler.compile(call.args[0])
    return exp.cast(exp.Length(this=_text(compiler, value, call)), "BIGINT")


@function("tolower")
def _tolower(compiler: ScalarCompiler, call: ast.Call, kind: str) -> exp.Expression:
    return exp.Lower(this=_text(compiler, compiler.compile(call.args[0]), call))


@function("toupper")
def _toupper(compiler: ScalarCompiler, call: ast.Call, kind: str) -> exp.Expression:
    return exp.Upper(this=_text(compiler, compiler.compile(call.args[0]), call))


@function("isempty", "isnotempty", "notempty")
def _isempty(compiler: ScalarCompiler, call: ast.Call, kind: str) -> exp.Expression:
    value = compiler.compile(call.args[0])
    empty: exp.Expression = exp.Is(this=value.node, expression=exp.null())
    if value.type == "string":
        empty = exp.EQ(this=value.node, expression=exp.Literal.string(""))
    return exp.Paren(this=empty if call.name == "isempty" else exp.Not(this=empty))


@function("isnull", "isnotnull", "notnull")
def _isnull(compiler: ScalarCompiler, call: ast.Call, kind: str) -> exp.Expression:
    value = compiler.compile(call.args[0])
    if value.type == "string":  # a string is never null
        return exp.false() if call.name == "isnull" else exp.true()
    test: exp.Expression = exp.Is(this=value.node, expression=exp.null())
    return exp.Paren(this=test if call.name == "isnull" else exp.Not(this=test))


@function("not")
def _not(compiler: ScalarCompiler, call: ast.Call, kind: str) -> exp.Expression:
    value = compiler.compile(call.args[0])
    if value.type != "bool":
        raise compiler.refuse(f"not() of a {value.type} value", call)
    return exp.Paren(this=exp.Not(this=value.node))


def _same_kind(compiler: ScalarCompiler, call: ast.Call, values: list[Sql], kind: str) -> list[exp.Expression]:
    """Branches of iff/case/coalesce as the result's physical type (int and long mix as long, ...)."""
    out = []
    for value, arg in zip(values, call.args):
        if value.type == kind:
            out.append(value.node)
        elif {value.type, kind} <= {"int", "long", "real"}:
            out.append(exp.cast(value.node, compiler.physical(kind)))
        elif isinstance(arg, ast.Literal) and arg.value is None:
            out.append(typed_null(kind, compiler.dialect))
        else:
            raise compiler.refuse(f"{call.name}() mixing {value.type} with {kind}", call)
    return out


@function("iff", "iif")
def _iff(compiler: ScalarCompiler, call: ast.Call, kind: str) -> exp.Expression:
    values = _args(compiler, call)
    if values[0].type != "bool":
        raise compiler.refuse(f"{call.name}() with a {values[0].type} condition", call)
    then, otherwise = _same_kind(compiler, ast.Call(call.name, call.args[1:]), values[1:], kind)
    return _case([(values[0].node, then)], otherwise)  # a null condition takes the else branch, as Kusto


@function("case")
def _case_function(compiler: ScalarCompiler, call: ast.Call, kind: str) -> exp.Expression:
    values = _args(compiler, call)
    conditions, results = values[0:-1:2], values[1:-1:2] + [values[-1]]
    if any(c.type != "bool" for c in conditions):
        raise compiler.refuse("case() with a condition that is not a bool", call)
    result_args = call.args[1:-1:2] + [call.args[-1]]
    branches = _same_kind(compiler, ast.Call(call.name, result_args), results, kind)
    return _case([(c.node, b) for c, b in zip(conditions, branches[:-1])], branches[-1])


@function("coalesce")
def _coalesce(compiler: ScalarCompiler, call: ast.Call, kind: str) -> exp.Expression:
    values = _args(compiler, call)
    if kind == "string":
        if any(v.type != "string" for v in values):
            raise compiler.refuse("coalesce() of strings with other kinds", call)
        # the first non-empty string, else the first argument ("")
        pairs = [(exp.NEQ(this=v.node, expression=exp.Literal.string("")), v.node) for v in values]
        return _case(pairs, exp.Literal.string(""))
    if kind == "dynamic":
        raise compiler.refuse("coalesce() of dynamic values", call)
    nodes = _same_kind(compiler, call, values, kind)
    return exp.Coalesce(this=nodes[0], expressions=nodes[1:])


@function("tolong", "toint")
def _tolong(compiler: ScalarCompiler, call: ast.Call, kind: str) -> exp.Expression:
    value = compiler.compile(call.args[0])
    if value.type in ("int", "long") and (call.name == "tolong" or value.type == "int"):
        return exp.cast(value.node, compiler.physical(kind))
    raise compiler.refuse(f"{call.name}() of a {value.type} value", call, "the SQL cast rounds or parses differently")


@function("toreal", "todouble")
def _toreal(compiler: ScalarCompiler, call: ast.Call, kind: str) -> exp.Expression:
    value = compiler.compile(call.args[0])
    if value.type in ("int", "long", "real"):
        return exp.cast(value.node, "DOUBLE")
    raise compiler.refuse(f"{call.name}() of a {value.type} value", call, "the SQL cast parses differently")


@function("substring")
def _substring(compiler: ScalarCompiler, call: ast.Call, kind: str) -> exp.Expression:
    text = _text(compiler, compiler.compile(call.args[0]), call)
    start = compiler.constant(call.args[1])
    length = compiler.constant(call.args[2]) if len(call.args) > 2 else None
    if type(start) is not int or start < 0 or (len(call.args) > 2 and (type(length) is not int or length < 0)):
        raise compiler.refuse("substring() with a start or length that is not a constant count", call)
    arguments = {"this": text, "start": exp.Literal.number(start + 1)}
    if length is not None:
        arguments["length"] = exp.Literal.number(length)
    return exp.Coalesce(this=exp.Substring(**arguments), expressions=[exp.Literal.string("")])


@function("replace_string")
def _replace_string(compiler: ScalarCompiler, call: ast.Call, kind: str) -> exp.Expression:
    text = _text(compiler, compiler.compile(call.args[0]), call)
    lookup = V.to_string(compiler.constant(call.args[1]))
    rewrite = _text(compiler, compiler.compile(call.args[2]), call)
    if not lookup:
        return text
    return _func("replace", text, exp.Literal.string(lookup), rewrite)


@function("extract")
def _extract(compiler: ScalarCompiler, call: ast.Call, kind: str) -> exp.Expression:
    if len(call.args) != 3 or kind != "string":
        raise compiler.refuse("extract() with a type argument", call)
    compiler.context.require_re2("extract()", call)
    import re2

    pattern = V.to_string(compiler.constant(call.args[0]))
    group = compiler.constant(call.args[1])
    try:
        groups = re2.compile(pattern).groups
    except re2.error:
        raise compiler.refuse("extract() with this pattern", call) from None
    if type(group) is not int or not 0 <= group <= groups:
        raise compiler.refuse("extract() of a group the pattern lacks", call)
    text = _text(compiler, compiler.compile(call.args[2]), call)
    # no match, or a group that took no part in it: "" (regexp_extract gives "" for both)
    return exp.RegexpExtract(this=text, expression=exp.Literal.string(pattern), group=exp.Literal.number(group))


@function("split")
def _split(compiler: ScalarCompiler, call: ast.Call, kind: str) -> exp.Expression:
    if len(call.args) != 2:
        raise compiler.refuse("split() with an index", call)
    text = _text(compiler, compiler.compile(call.args[0]), call)
    delimiter = V.to_string(compiler.constant(call.args[1]))
    if not delimiter:
        raise compiler.refuse("split() by an empty delimiter", call)
    return compiler.context.dialect.list_to_json(exp.Split(this=text, expression=exp.Literal.string(delimiter)))


@function("array_length")
def _array_length(compiler: ScalarCompiler, call: ast.Call, kind: str) -> exp.Expression:
    value = compiler.compile(call.args[0])
    if value.type != "dynamic":
        raise compiler.refuse(f"array_length() of a {value.type} value", call)
    dialect = compiler.context.dialect
    is_array = exp.EQ(this=dialect.json_type(value.node), expression=exp.Literal.string(dialect.json_type_names["array"]))
    return _case([(is_array, exp.cast(dialect.json_array_length(value.node), "BIGINT"))], exp.cast(exp.null(), "BIGINT"))


@function("bin", "floor")
def _bin(compiler: ScalarCompiler, call: ast.Call, kind: str) -> exp.Expression:
    value = compiler.compile(call.args[0])
    size = compiler.constant(call.args[1])
    dialect = compiler.context.dialect
    if size is None:
        return typed_null(kind, compiler.dialect)
    if value.type == "datetime" and kind == "datetime" and hasattr(size, "days"):
        step = micros(size)
        if step <= 0:
            return typed_null(kind, compiler.dialect)
        since_year_one = exp.Paren(this=exp.Add(this=dialect.epoch_micros(value.node),
                                                expression=exp.Literal.number(YEAR_ONE_MICROS)))
        floored = exp.Sub(this=since_year_one, expression=exp.Mod(this=since_year_one, expression=exp.Literal.number(step)))
        return dialect.from_epoch_micros(exp.Sub(this=exp.Paren(this=floored), expression=exp.Literal.number(YEAR_ONE_MICROS)))
    if value.type == "timespan" and kind == "timespan" and hasattr(size, "days"):
        step = micros(size)
        if step <= 0:
            return typed_null(kind, compiler.dialect)
        return _floor_multiple(value.node, step)
    if value.type in ("int", "long") and kind == "long" and type(size) is int:
        if size <= 0:
            return typed_null(kind, compiler.dialect)
        return _floor_multiple(exp.cast(value.node, "BIGINT"), size)
    raise compiler.refuse(f"{call.name}() of a {value.type} value by {type(size).__name__}", call)


def _floor_multiple(value: exp.Expression, step: int) -> exp.Expression:
    """The largest multiple of ``step`` not above ``value`` (SQL's % keeps the dividend's sign)."""
    size = exp.Literal.number(step)
    remainder = exp.Mod(this=exp.Paren(this=exp.Add(this=exp.Paren(this=exp.Mod(this=value, expression=size)),
                                                    expression=size)), expression=size)
    return exp.Paren(this=exp.Sub(this=value, expression=remainder))


_TRUNCATED = {"startofday": "DAY", "startofmonth": "MONTH", "startofyear": "YEAR"}


@function(*_TRUNCATED)
def _start_of(compiler: ScalarCompiler, call: ast.Call, kind: str) -> exp.Expression:
    """startofday/month/year without an offset: the datetime truncated to its day, month, year, which is never
    out of range (https://learn.microsoft.com/kusto/query/startofday-function); an offset may leave it."""
    value = compiler.compile(call.args[0])
    if len(call.args) > 1 and compiler.constant(call.args[1]) not in (0, None):
        raise compiler.refuse(f"{call.name}() with an offset", call, "its result may leave the datetime range")
    if value.type != "datetime":
        raise compiler.refuse(f"{call.name}() of a {value.type} value", call)
    truncated = exp.TimestampTrunc(this=value.node, unit=exp.var(_TRUNCATED[call.name]))
    return exp.cast(truncated, compiler.physical("datetime"))


_DIFF_MICROS = {"day": 86_400_000_000, "hour": 3_600_000_000, "minute": 60_000_000, "second": 1_000_000,
                "millisecond": 1_000, "microsecond": 1}


@function("datetime_diff")
def _datetime_diff(compiler: ScalarCompiler, call: ast.Call, kind: str) -> exp.Expression:
    """The period boundaries crossed from the third argument to the second, as the row engine counts them
    (https://learn.microsoft.com/kusto/query/datetime-diff-function): calendar parts for years, quarters and
    months, Sunday-started weeks and floored counts since 0001-01-01 for the rest. Nanoseconds, whose count
    may overflow a long there, are refused."""
    period = V.to_string(compiler.constant(call.args[0])).lower()
    first, second = compiler.compile(call.args[1]), compiler.compile(call.args[2])
    if first.type != "datetime" or second.type != "datetime":
        raise compiler.refuse("datetime_diff() of values that are not datetimes", call)
    dialect = compiler.context.dialect

    def since_year_one(value: exp.Expression) -> exp.Expression:
        return exp.Paren(this=exp.Add(this=dialect.epoch_micros(value), expression=exp.Literal.number(YEAR_ONE_MICROS)))

    def count(value: exp.Expression) -> exp.Expression:
        if period in _DIFF_MICROS:
            return exp.IntDiv(this=since_year_one(value), expression=exp.Literal.number(_DIFF_MICROS[period]))
        if period == "week":  # day 0 (0001-01-01) is a Monday: weeks start on the Sunday before it
            days = exp.IntDiv(this=since_year_one(value), expression=exp.Literal.number(_DIFF_MICROS["day"]))
            return exp.IntDiv(this=exp.Paren(this=exp.Add(this=days, expression=exp.Literal.number(1))),
                              expression=exp.Literal.number(7))
        year = exp.cast(exp.Extract(this=exp.var("YEAR"), expression=value), "BIGINT")
        month = exp.cast(exp.Extract(this=exp.var("MONTH"), expression=value), "BIGINT")
        if period == "year":
            return year
        if period == "quarter":
            return exp.Add(this=exp.Mul(this=year, expression=exp.Literal.number(4)), expression=exp.IntDiv(
                this=exp.Paren(this=exp.Sub(this=month, expression=exp.Literal.number(1))), expression=exp.Literal.number(3)))
        if period == "month":
            return exp.Add(this=exp.Mul(this=year, expression=exp.Literal.number(12)), expression=month)
        raise compiler.refuse(f"datetime_diff() by the period {period!r}", call)

    difference = exp.Sub(this=exp.Paren(this=count(first.node)), expression=exp.Paren(this=count(second.node)))
    return exp.cast(difference, "BIGINT")


@function("now")
def _now(compiler: ScalarCompiler, call: ast.Call, kind: str) -> exp.Expression:
    if call.args:
        raise compiler.refuse("now() with an offset", call)
    return literal(compiler.context.now, "datetime", compiler.dialect)


@function("pack_array", "make_array")
def _pack_array(compiler: ScalarCompiler, call: ast.Call, kind: str) -> exp.Expression:
    values = _args(compiler, call)
    if not values or any(v.type not in ("string", "long", "int", "bool") for v in values) or \
            len({v.type for v in values}) > 1:
        raise compiler.refuse("pack_array() of these values", call)
    return compiler.context.dialect.list_to_json(exp.Array(expressions=[v.node for v in values]))



def _json_of(compiler: ScalarCompiler, value: Sql, node: ast.Node) -> exp.Expression:
    """A value as the JSON text a dynamic holds it in (NULL for null), for the kinds whose JSON is Kusto's."""
    if value.type == "dynamic":
        return value.node
    if value.type in ("string", "long", "int", "bool"):
        return compiler.context.dialect.to_json(value.node)
    raise compiler.refuse(f"a {value.type} value inside a dynamic one", node, "its JSON text differs in SQL")


@function("bag_pack", "pack", "pack_dictionary")
def _bag_pack(compiler: ScalarCompiler, call: ast.Call, kind: str) -> exp.Expression:
    build = compiler.context.dialect.json_object_of
    if build is None:
        raise compiler.refuse(f"{call.name}()", call, f"the {compiler.dialect} dialect has no spelling for it")
    pairs: dict[str, exp.Expression] = {}  # a key given twice keeps its first place and its last value
    for position in range(0, len(call.args) - 1, 2):
        key = V.to_string(compiler.constant(call.args[position]))
        pairs[key] = _json_of(compiler, compiler.compile(call.args[position + 1]), call.args[position + 1])
    return build(list(pairs.items())) if pairs else literal({}, "dynamic", compiler.dialect)


@function("bag_keys")
def _bag_keys(compiler: ScalarCompiler, call: ast.Call, kind: str) -> exp.Expression:
    value = compiler.compile(call.args[0])
    dialect = compiler.context.dialect
    if value.type != "dynamic" or dialect.json_keys_array is None:
        raise compiler.refuse(f"bag_keys() of a {value.type} value", call)
    is_bag = exp.EQ(this=dialect.json_type(value.node), expression=exp.Literal.string(dialect.json_type_names["object"]))
    return _case([(is_bag, dialect.json_keys_array(value.node))], typed_null("dynamic", compiler.dialect))


from dac.engines import sql_dynamic  # noqa: E402,F401 - registers the dynamic functions, which build on these
