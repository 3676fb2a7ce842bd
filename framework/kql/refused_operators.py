"""Operators of the official grammar that the evaluator parses but refuses to run, each with why.

A refusal is a KqlUnsupportedError at the operator; in check mode (binding a
rule against the catalog) the operator's output is an open schema instead, so
the rest of the query is still checked. A wrong answer would be worse than
either.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dac.kql import ast
from dac.kql.builtins import refused
from dac.kql.compiled import unsupported
from dac.kql.table import Table

if TYPE_CHECKING:
    from dac.kql.evaluator import Evaluator

# The operators the parser reads but the evaluator does not run; each one's category and reason
# are in refusals.yaml (dac.kql.builtins), the one place a refusal is worded.
REFUSED = frozenset({"assert-schema"})


def refuse(evaluator: "Evaluator", node: ast.Operator, table: Table) -> Table:
    if evaluator.check:
        return table.opened()
    if isinstance(node, ast.MacroExpand):
        # macro-expand itself runs (as a query's source); this is the form after '|'
        raise unsupported(node, "query operator 'macro-expand' after '|' is not supported by the evaluator: it "
                                "takes no input (it starts a query), and its meaning there is undocumented")
    error = refused(node, node.name, "operator")
    assert error is not None, f"{name} is in REFUSED but not in refusals.yaml"
    raise error
