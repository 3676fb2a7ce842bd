"""``* has "term"``: a string predicate over every column of the row.

The where operator's page defines ``T | where * has "cow"`` as the rows in which
the word appears in any column (https://learn.microsoft.com/kusto/query/where-operator),
and the search operator's page gives the same reading to its bare terms, with
``has``, ``hasprefix``, ``hassuffix`` and ``contains`` as their forms and the
``_cs`` variants for case-sensitive search
(https://learn.microsoft.com/kusto/query/search-operator). Those are the operators
accepted with ``*``; a column matches when its value, as a string, satisfies
the operator, and a null column never does. Other operators (negations,
comparisons, startswith...) have no documented meaning with ``*`` and are refused.
"""

from __future__ import annotations

from typing import Any

from dac.kql import ast
from dac.kql import values as V
from dac.kql.compiled import Compiled, semantic, unsupported
from dac.kql.operators import BINARY_PREDICATES

WILDCARD_OPERATORS = frozenset({"has", "has_cs", "hasprefix", "hasprefix_cs", "hassuffix", "hassuffix_cs",
                                "contains", "contains_cs"})


def any_column(expr: ast.Binary, right: Compiled, columns: list[tuple[str, str]]) -> Compiled:
    """``* op right`` over ``columns``: true when some column's value satisfies ``op``."""
    if expr.op not in WILDCARD_OPERATORS:
        raise unsupported(expr, f"'* {expr.op}' has no documented meaning; '*' (any column) is supported with "
                                + ", ".join(sorted(WILDCARD_OPERATORS)))
    if right.type not in ("string", "dynamic"):
        raise semantic(expr.right, f"'* {expr.op}' needs a string to look for, found {right.type}")
    test = BINARY_PREDICATES[expr.op]
    term = right.fn
    positions = [i for i, (column, _) in enumerate(columns) if column != "$open"]

    def run(row: tuple) -> Any:
        wanted = term(row)
        if wanted is None:
            return False
        return any(row[i] is not None and test(V.to_string(row[i]), wanted) is True for i in positions)

    return Compiled(run, "bool")
