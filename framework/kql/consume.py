"""The ``consume`` operator (https://learn.microsoft.com/kusto/query/consume-operator).

Kusto reads the whole input (for the cost of the query or its side effects) and
hands nothing on: the official binder types the output as a table without
columns, so ``T | consume | count`` counts zero rows. ``decodeblocks`` only
changes how Kusto reads its storage; it must be a bool literal.
"""

from __future__ import annotations

from dac.kql import ast
from dac.kql.compiled import semantic
from dac.kql.table import Table


def consume(node: ast.Consume, table: Table) -> Table:
    decode = node.params.get("decodeblocks", "true")
    if str(decode).lower() not in ("true", "false") or isinstance(decode, bool):
        raise semantic(node, "consume decodeblocks takes a bool literal (true or false)")
    return Table([], [], False)
