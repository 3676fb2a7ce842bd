"""Dynamic values made and read in SQL as the row engine makes and reads them (``dac.kql.values``).

A dynamic value is held as its JSON text (``dac.engines.physical``). ``parse_json``
turns a string into one (https://learn.microsoft.com/kusto/query/parse-json-function:
JSON text becomes the value it spells, other text stays a string, "" is null),
which the dialect's hook reads exactly or fails on.
"""

from __future__ import annotations

from sqlglot import exp

from dac.engines.sql_functions import _json_of, function
from dac.engines.sql_scalars import ScalarCompiler, runtime_error
from dac.kql import ast


@function("parse_json", "todynamic", "parsejson", "toobject")
def _parse_json(compiler: ScalarCompiler, call: ast.Call, kind: str) -> exp.Expression:
    value = compiler.compile(call.args[0])
    if value.type != "string":
        return _json_of(compiler, value, call.args[0])  # a dynamic stays itself, a number or bool is its JSON
    parse = compiler.context.dialect.parse_json
    if parse is None:
        raise compiler.refuse(f"{call.name}() of a string", call,
                              f"{compiler.dialect}'s JSON reader accepts and rejects other texts than Kusto's")
    return parse(value.node, runtime_error(compiler, f"{call.name}()", call))
