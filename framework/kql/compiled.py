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
from dac.kql.errors import KqlRefusedValue, KqlRuntimeError, KqlSemanticError, KqlUnsupportedError

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
    # The column name the value brings when no name is given, where it is not the expression's
    # (one value of several picked by index: array_sort_asc(a, b)[1] is b_sorted).
    name: str | None = None


def constant(value: Any, type_name: str) -> Compiled:
    return Compiled(lambda row, _v=value: _v, type_name, True)


def tuple_member(expr: ast.Index, target: Compiled, index: Compiled) -> Compiled:
    """One value of a call returning several (array_sort_asc(a, b)[1], series_decompose(y)[1]),
    named as its column would be (the official binder names them b_sorted and
    series_decompose_y_seasonal). The index must be a constant within the values: the binder types
    any other as unknown, which is no answer to give."""
    members = target.members or ()
    position = index.fn(()) if index.const else None
    if not isinstance(position, int) or isinstance(position, bool) or not 0 <= position < len(members):
        raise semantic(expr.index, f"the call returns {len(members)} values: index them with a constant "
                                   f"from 0 to {len(members) - 1}")
    values = target.tuple_fn or target.fn
    name, kind = members[position]
    return Compiled(lambda row: values(row)[position], kind, target.const, name=name)


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
    if isinstance(exc, KqlRefusedValue):  # stays a refusal: the query is valid, its answer is not settled
        return KqlRefusedValue(f"{what}: {exc.message}", node.line, node.column)
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
