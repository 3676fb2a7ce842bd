"""array_sort_asc() and array_sort_desc(): sort the first array and reorder the others the same way.

https://learn.microsoft.com/kusto/query/array-sort-asc-function: "Receives one or more arrays.
Sorts the first array in ascending order. Orders the remaining arrays to match the reordered first
array", returning "the same number of arrays as in the input", null "for every array that differs in
length from the first one"; a trailing bool, nulls_last (true by default), puts the nulls last or first.

With one array the call is an ordinary dynamic value. With several it returns several values, like
series_decompose: one column per array, named ``<argument>_sorted`` (``array<i>_sorted`` for an argument
that gives no name), or picked one by one with ``[i]``. The names, the typing and the refusals here were
checked with the official binder (Kusto.Language): ``array_sort_asc(a, b)`` gives a_sorted, b_sorted;
``array_sort_asc(dynamic([1]), a)`` gives array0_sorted, a_sorted; an argument that is not dynamic is
"The expression value must be a dynamic array"; a nulls_last that is not a constant is "The expression must
be a constant".
"""

from __future__ import annotations

from typing import Any

from dac.kql import ast
from dac.kql import values as V
from dac.kql.compiled import RUNTIME_FAILURES, Compiled, call_runner, located, semantic

# Column types other than dynamic that an array argument can never have.
_NOT_ARRAYS = frozenset({"bool", "int", "long", "real", "decimal", "string", "datetime", "timespan", "guid"})


def sort_together(arrays: list[Any], descending: bool, nulls_last: Any = True) -> list[list[Any] | None]:
    """The first array sorted (nulls last unless ``nulls_last`` is false) and each other one put in the
    same order; null where the first is no array or another is no array of the same length.

    Equal elements keep their order (a stable sort), so the companions of tied elements do too.
    """
    first = arrays[0]
    if not isinstance(first, list):
        return [None] * len(arrays)
    present = sorted((i for i, v in enumerate(first) if v is not None), key=lambda i: V.sort_key(first[i]),
                     reverse=descending)
    missing = [i for i, v in enumerate(first) if v is None]
    order = present + missing if V.to_bool(nulls_last) is not False else missing + present
    return [[array[i] for i in order] if isinstance(array, list) and len(array) == len(first) else None
            for array in arrays]


def compile_array_sort(expr: ast.Call, args: list[Compiled], names: list[str | None], descending: bool) -> Compiled:
    """The compiled call: one dynamic value for one array, several values (``members``) for more.

    ``names`` are the arguments' own names (``derive_name``), which name the columns of several arrays.
    """
    function = expr.name
    if not args:
        raise semantic(expr, f"function '{function}()' takes at least 1 argument(s), got 0")
    nulls_last: Compiled | None = None
    if len(args) > 1 and args[-1].type == "bool":
        nulls_last, args = args[-1], args[:-1]
        if not nulls_last.const:
            raise semantic(expr.args[len(args)], f"{function}(): nulls_last must be a constant bool")
    for position, arg in enumerate(args):
        if arg.type in _NOT_ARRAYS:
            raise semantic(expr.args[position], f"function '{function}()' expects a dynamic array as argument "
                                                f"{position + 1}, found {arg.type}")
    flag = nulls_last.fn(()) if nulls_last is not None else True
    fns = [arg.fn for arg in args]

    def sort(*values: Any) -> tuple:
        return tuple(sort_together(list(values), descending, flag))

    what = f"{function}()"
    members = None if len(args) == 1 else tuple(
        (f"{name}_sorted" if name else f"array{position}_sorted", "dynamic") for position, name in enumerate(names[:len(args)]))
    if all(arg.const for arg in args):
        try:
            folded = sort(*[fn(()) for fn in fns])
        except RUNTIME_FAILURES as exc:
            raise located(exc, expr, what) from None
        return Compiled(lambda row: folded[0], "dynamic", True, members, (lambda row: folded) if members else None)
    runner = call_runner(sort, fns, expr, what)
    return Compiled(lambda row: runner(row)[0], "dynamic", False, members, runner if members else None)
