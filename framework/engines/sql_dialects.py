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
    # JSON text, JSON path ('$.a', '$[0]') -> the JSON text of the value there, NULL if absent
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


DUCKDB = Dialect(
    name="duckdb",
    epoch_micros=lambda ts: _call("epoch_us", ts),
    from_epoch_micros=lambda us: _call("make_timestamp", us),
    json_value=lambda text, path: exp.cast(_call("json_extract", text, exp.Literal.string(path)), "VARCHAR"),
    json_type=lambda text: _call("json_type", exp.cast(text, "JSON")),
    json_type_names={"string": "VARCHAR", "array": "ARRAY", "object": "OBJECT"},
    json_string=lambda text: _call("json_extract_string", text, exp.Literal.string("$")),
    list_to_json=lambda items: exp.cast(_call("to_json", items), "VARCHAR"),
    json_array_length=lambda text: _call("json_array_length", text),
    to_json=lambda value: exp.cast(_call("to_json", value), "VARCHAR"),
)

DIALECTS: dict[str, Dialect] = {"duckdb": DUCKDB}


def dialect_named(name: str) -> Dialect:
    """The hooks of ``name``; a dialect nobody has described is refused, naming it."""
    try:
        return DIALECTS[name]
    except KeyError:
        raise EngineRefusal(f"SQL for the dialect '{name}'", name, why="no hooks are registered for it") from None
