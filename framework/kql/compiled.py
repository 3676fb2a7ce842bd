"""What compiling an expression gives (``Compiled``), and the error plumbing around it.

Kept apart from the compiler so that the modules it mixes in (``window``) can build
compiled values and locate run-time failures without importing the compiler.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import re2

from dac.kql import ast
from dac.kql import budget as B
from dac.kql.budget import BudgetExceeded
from dac.kql.errors import KqlRuntimeError, KqlSemanticError, KqlUnsupportedError

Row = tuple


@dataclass
class Compiled:
    fn: Callable[[Row], Any]
    type: str
    const: bool = False
    # A function returning several columns (series_decompose...): their default names and
    # types, and ``tuple_fn`` giving all values (``fn`` gives the first). Only an operator's
    # top-level expression may be one (ExpressionCompiler.compile).
    members: tuple[tuple[str, str], ...] | None = None
    tuple_fn: Callable[[Row], Any] | None = None


def constant(value: Any, type_name: str) -> Compiled:
    return Compiled(lambda row, _v=value: _v, type_name, True)


def semantic(node: ast.Node, message: str) -> KqlSemanticError:
    return KqlSemanticError(message, node.line, node.column)


def unsupported(node: ast.Node, message: str) -> KqlUnsupportedError:
    return KqlUnsupportedError(message, node.line, node.column)


# What Python and the regex engine raise when a value provokes them at run time: an
# overflow past what a helper checks, a pattern or rewrite read from a column, a
# dynamic value of an unexpected kind. Each becomes a query error at the expression,
# never a traceback.
RUNTIME_FAILURES = (ArithmeticError, ValueError, TypeError, AttributeError, IndexError, KeyError, re2.error)


def runtime_error(node: ast.Node, what: str, exc: Exception) -> KqlRuntimeError:
    """``exc`` (a RUNTIME_FAILURES member or an unlocated KqlRuntimeError) as an error at ``node``."""
    if isinstance(exc, BudgetExceeded):  # keeps its kind: callers tell a resource limit from a wrong query
        return exc.at(node.line, node.column, what)
    if isinstance(exc, KqlRuntimeError):
        reason = exc.message
    elif isinstance(exc, re2.error):
        reason = B.regex_problem(exc)
    else:
        reason = str(exc) or type(exc).__name__
    return KqlRuntimeError(f"{what}: {reason}", node.line, node.column)


def located(exc: Exception, node: ast.Node, what: str) -> KqlRuntimeError:
    """A failure of ``what`` as a query error at ``node``; one already located keeps its place."""
    if isinstance(exc, KqlRuntimeError) and exc.line:
        return exc
    return runtime_error(node, what, exc)


def guarded(fn: Callable[[Row], Any], node: ast.Node, what: str) -> Callable[[Row], Any]:
    """``fn`` whose failures are query errors located at ``node`` (located ones pass through)."""
    def run(row: Row) -> Any:
        try:
            return fn(row)
        except (KqlRuntimeError, *RUNTIME_FAILURES) as exc:
            raise located(exc, node, what) from None

    return run


def call_runner(impl: Callable[..., Any], fns: list[Callable[[Row], Any]], node: ast.Node,
                what: str) -> Callable[[Row], Any]:
    """Per-row calls of ``impl`` on the arguments' values, failures located at ``node`` as in
    ``guarded``; the common arities are unrolled, as this runs for every row and call."""
    if len(fns) == 1:
        (f0,) = fns

        def run(row: Row) -> Any:
            try:
                return impl(f0(row))
            except (KqlRuntimeError, *RUNTIME_FAILURES) as exc:
                raise located(exc, node, what) from None
    elif len(fns) == 2:
        f0, f1 = fns

        def run(row: Row) -> Any:
            try:
                return impl(f0(row), f1(row))
            except (KqlRuntimeError, *RUNTIME_FAILURES) as exc:
                raise located(exc, node, what) from None
    else:
        def run(row: Row) -> Any:
            try:
                return impl(*[f(row) for f in fns])
            except (KqlRuntimeError, *RUNTIME_FAILURES) as exc:
                raise located(exc, node, what) from None

    return run
