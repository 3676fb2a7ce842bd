"""buildschema(): the minimal schema that admits every dynamic value of a group.

A schema is a primitive type's name, a container ``{name: schema}`` (a property bag), a
container ``{"`indexer`": schema}`` (an array's items) or a union ``[schema, ...]`` of them,
in the order first met; two containers merge into one, property by property
(https://learn.microsoft.com/kusto/query/buildschema-aggregation-function). The page names only
``long``, ``double`` and ``string``; a value of another kind, a null or an empty array (whose
item schema the page leaves open) is refused rather than given a guessed schema.
"""

from __future__ import annotations

from typing import Any, Callable

from dac.kql.errors import KqlRefusedValue

INDEXER = "`indexer`"
_PRIMITIVES = {int: "long", float: "double", str: "string"}


def _schema(value: Any) -> Any:
    """The schema of one value: a name, or a container."""
    if isinstance(value, dict):
        merged: dict[str, Any] = {}
        for name, item in value.items():
            merged[name] = _merge(merged[name], _schema(item)) if name in merged else _schema(item)
        return merged
    if isinstance(value, list):
        if not value:
            raise KqlRefusedValue("buildschema() of an empty array is not reproduced: the page does not give its schema")
        items = _schema(value[0])
        for item in value[1:]:
            items = _merge(items, _schema(item))
        return {INDEXER: items}
    name = _PRIMITIVES.get(type(value))
    if name is None:
        raise KqlRefusedValue(f"buildschema() of a {type(value).__name__ if value is not None else 'null'} value "
                              "is not reproduced: the page names only long, double and string")
    return name


def _alternatives(schema: Any) -> list[Any]:
    return list(schema) if isinstance(schema, list) else [schema]


def _merge(left: Any, right: Any) -> Any:
    """The union of two schemas: containers merge into one, other alternatives are kept once."""
    result: list[Any] = []
    for alternative in _alternatives(left) + _alternatives(right):
        if isinstance(alternative, dict):
            position = next((i for i, r in enumerate(result) if isinstance(r, dict)), None)
            if position is not None:
                container = dict(result[position])
                for name, item in alternative.items():
                    container[name] = _merge(container[name], item) if name in container else item
                result[position] = container
                continue
        if alternative not in result:
            result.append(alternative)
    return result[0] if len(result) == 1 else result


class BuildSchema:
    """The accumulator of buildschema(): the merge of the schemas of the group's values."""

    def __init__(self) -> None:
        self.schema: Any = None

    def add(self, args: list[Any]) -> None:
        value = _schema(args[0])
        self.schema = value if self.schema is None else _merge(self.schema, value)

    def result(self) -> Any:
        return self.schema


def register(add: Callable[..., None]) -> None:
    """Register buildschema with ``add(names, min_args, max_args, prefix, result, factory)``."""
    add(("buildschema",), 1, 1, "schema_", "dynamic", lambda extra: BuildSchema())
