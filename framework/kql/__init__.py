"""KQL front end and evaluator.

``parse(text)`` gives a syntax tree or raises ``KqlSyntaxError`` with line and
column; ``evaluate(query, tables, now=...)`` runs a query over in-memory tables
and returns the result rows as dicts, in result order.
"""

from dac.kql.errors import (
    KqlError,
    KqlRuntimeError,
    KqlSemanticError,
    KqlSyntaxError,
    KqlUnsupportedError,
)
from dac.kql.parser import parse

__all__ = [
    "parse",
    "evaluate",
    "KqlError",
    "KqlSyntaxError",
    "KqlSemanticError",
    "KqlUnsupportedError",
    "KqlRuntimeError",
]


def evaluate(query, tables, now=None, **options):  # noqa: ANN001 - re-exported with full signature below
    from dac.kql.evaluator import evaluate as _evaluate

    return _evaluate(query, tables, now=now, **options)
