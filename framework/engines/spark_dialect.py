"""How Spark SQL spells the operations on the physical form that sqlglot does not transpile.

The compiler (``dac.engines.compiler``) builds one sqlglot tree for every dialect and asks
a ``Dialect`` of ``dac.engines.sql_dialects`` for the few engine-specific spellings;
this module registers Spark's under the name ``spark``. Dynamic values are JSON text,
read through Spark's VARIANT (``try_parse_json``), whose ``schema_of_variant`` names a
JSON value's type: its first word (``ARRAY<...>`` -> ``ARRAY``) is the type name the
compiler compares, spelt as DuckDB's ``json_type`` spells them where they mean the same.
Datetimes are ``TIMESTAMP_NTZ``; with the session in UTC (``spark_session``) a cast to
``TIMESTAMP`` names the same instant, which ``unix_micros`` counts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from sqlglot import exp

from dac.engines.sql_dialects import DIALECTS, Dialect

SOURCE_ORDINAL = "__dac_input_order"
"""The hidden column of every view the spark engine registers: its rows' input order (``spark_order``)."""


def _call(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(args))


def _variant(text: exp.Expression) -> exp.Expression:
    return _call("try_parse_json", text)


def _json_type(text: exp.Expression) -> exp.Expression:
    """The JSON type of a dynamic value's text: STRING, ARRAY, OBJECT, BIGINT, DECIMAL, DOUBLE, BOOLEAN, VOID."""
    return _call("regexp_extract", _call("schema_of_variant", _variant(text)), exp.Literal.string("^[A-Z]+"),
                 exp.Literal.number(0))


def _json_value(text: exp.Expression, path: str) -> exp.Expression:
    """The JSON text at ``path``; a quoted key (``$."a b"``) is written ``$["a b"]``, the form Spark's paths take."""
    spark_path = re.sub(r'\.("[^"]*")', r"[\1]", path)
    return _call("to_json", _call("variant_get", _variant(text), exp.Literal.string(spark_path)))


def _ordered_list_head(listed: exp.Expression, count: int) -> exp.Expression:
    """The first ``count`` items of ``ARRAY_AGG(x ORDER BY o) FILTER (WHERE p)`` (the hook's contract) in Spark.

    Spark's array_agg takes no ORDER BY, so the items are collected with their ordinal as
    (o, x) structs, sorted (by o first: the ordinals of a relation are distinct), then unwrapped.
    """
    aggregate, where = listed.this, listed.args["expression"]
    order = aggregate.this
    item, ordinal = order.this, order.expressions[0].this
    pairs = exp.Filter(this=_call("collect_list", _call("named_struct", exp.Literal.string("o"), ordinal,
                                                        exp.Literal.string("x"), item)), expression=where)
    unwrapped = _call("transform", _call("array_sort", pairs),
                      exp.Lambda(this=exp.Dot(this=exp.column("s"), expression=exp.to_identifier("x")),
                                 expressions=[exp.to_identifier("s")]))
    return _call("slice", unwrapped, exp.Literal.number(1), exp.Literal.number(count))


SPARK = Dialect(
    name="spark",
    epoch_micros=lambda ts: _call("unix_micros", exp.cast(ts, "TIMESTAMP")),
    from_epoch_micros=lambda us: exp.cast(_call("timestamp_micros", us), "TIMESTAMP_NTZ"),
    json_value=_json_value,
    json_type=_json_type,
    json_type_names={"string": "STRING", "array": "ARRAY", "object": "OBJECT"},
    json_string=lambda text: _call("variant_get", _variant(text), exp.Literal.string("$"), exp.Literal.string("string")),
    list_to_json=lambda items: _call("to_json", items),
    json_array_length=lambda text: _call("json_array_length", text),
    to_json=lambda value: _call("to_json", exp.cast(value, "VARIANT")),
    ordered_list_head=_ordered_list_head,
    ordered_scan=True,
    source_ordinal=SOURCE_ORDINAL,
)
DIALECTS.setdefault("spark", SPARK)


def spark_sql(expression: exp.Expression, views: Mapping[str, str]) -> str:
    """The Spark SQL text of a compiled query, reading each table from its view in ``views`` (name -> view).

    The compiler names a table by its KQL name, which may be no valid Spark view name
    (``externaldata`` names a URL), so the engine registers its own view names and the
    references are renamed here. The compiler fails a value it finds inexact at run time
    with DuckDB's ``error(text)``; Spark's function for that is ``raise_error(text)``,
    renamed here as no hook spells it.
    """
    def rename(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Anonymous) and str(node.this).lower() == "error":
            return _call("raise_error", *node.expressions)
        if isinstance(node, exp.Table) and not node.args.get("db") and node.name in views:
            renamed = node.copy()
            renamed.set("this", exp.to_identifier(views[node.name], quoted=True))
            return renamed
        return node

    return expression.transform(rename).sql(dialect="spark")
