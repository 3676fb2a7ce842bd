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

__all__ = [
    "parse",
    "evaluate",
    "KqlError",
    "KqlSyntaxError",
    "KqlSemanticError",
    "KqlUnsupportedError",
    "KqlRuntimeError",
]


def __getattr__(name: str):  # noqa: ANN202 - PEP 562: ``parse`` is imported on first use
    """``dac.kql.parse`` loads the parser when first asked for, not with the package.

    Importing any module of the package (``dac.kql.literals`` for a clock, ``dac.kql.errors``)
    runs this file first; the parser and what it pulls in cost most of ``dac``'s start-up,
    so a command that never parses does not pay for them.
    """
    if name == "parse":
        from dac.kql.parser import parse

        return parse
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def evaluate(query, tables, now=None, **options):  # noqa: ANN001 - re-exported with full signature below
    from dac.kql.evaluator import evaluate as _evaluate

    return _evaluate(query, tables, now=now, **options)
