"""Kusto's scalar operators on values: comparison, string predicates, arithmetic, and the
operand type rules the binder applies.

Each function takes evaluated operands (the value model of ``literals``) and
gives the result Kusto gives, null rules included; the expression compiler
(``expressions``) wires them to compiled operands.
"""

from __future__ import annotations

import math
import operator as op
from datetime import datetime, timedelta
from typing import Any, Callable

from dac.kql import budget as B
from dac.kql import values as V
from dac.kql.bounds import LONG_MAX, LONG_MIN, within_range

Row = tuple

# ------------------------------------------------------------------ comparisons


def coerce_pair(a: Any, b: Any) -> tuple[Any, Any]:
    """Bring two values to comparable representations, as Kusto's implicit conversions do.

    bool vs string converts the string with tobool() rules ("true", "false",
    "1", "0"); numbers vs strings parse the string; datetime vs string parses
    the string; guid vs string compares the canonical text.
    """
    ta, tb = type(a), type(b)
    if ta is tb:
        return a, b
    if ta is bool and tb is str:
        return a, V.to_bool(b)
    if tb is bool and ta is str:
        return V.to_bool(a), b
    if ta is bool and tb in (int, float):
        return int(a), b
    if tb is bool and ta in (int, float):
        return a, int(b)
    if ta in (int, float) and tb is str:
        return a, V.to_real(b)
    if tb in (int, float) and ta is str:
        return V.to_real(a), b
    if ta is datetime and tb is str:
        return a, V.to_datetime(b)
    if tb is datetime and ta is str:
        return V.to_datetime(a), b
    if ta is str and tb.__name__ == "UUID":
        return a.lower(), str(b)
    if tb is str and ta.__name__ == "UUID":
        return str(a), b.lower()
    return a, b


def kql_equal(a: Any, b: Any) -> bool | None:
    """``==``: two nulls give null, one null gives false (so ``!=`` gives true).

    https://learn.microsoft.com/kusto/query/scalar-data-types/null-values
    """
    if a is None or b is None:
        return None if a is None and b is None else False
    a, b = coerce_pair(a, b)
    if a is None or b is None:
        return False
    if isinstance(a, (list, dict)) or isinstance(b, (list, dict)):
        return V.hashable(a) == V.hashable(b)
    return a == b


def kql_equal_ci(a: Any, b: Any) -> bool | None:
    if a is None or b is None:
        return None
    return V.to_string(a).lower() == V.to_string(b).lower()


def _ordered(compare: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool | None]:
    def run(a: Any, b: Any) -> bool | None:
        if a is None or b is None:
            return None
        a, b = coerce_pair(a, b)
        try:
            return compare(a, b)
        except TypeError:
            return None

    return run


def _negate(fn: Callable[[Any, Any], bool | None]) -> Callable[[Any, Any], bool | None]:
    def run(a: Any, b: Any) -> bool | None:
        result = fn(a, b)
        return None if result is None else not result

    return run


def _string_op(test: Callable[[str, str], bool]) -> Callable[[Any, Any], bool]:
    def run(a: Any, b: Any) -> bool:
        return test(V.to_string(a), V.to_string(b))

    return run


def _matches(a: Any, b: Any) -> bool:
    return B.compile_regex(V.to_string(b)).search(V.to_string(a)) is not None


BINARY_PREDICATES: dict[str, Callable[[Any, Any], bool | None]] = {
    "==": kql_equal,
    "!=": _negate(kql_equal),
    "=~": kql_equal_ci,
    "!~": _negate(kql_equal_ci),
    "<": _ordered(op.lt),
    "<=": _ordered(op.le),
    ">": _ordered(op.gt),
    ">=": _ordered(op.ge),
    "has": _string_op(lambda h, n: V.find_term(h, n)),
    "has_cs": _string_op(lambda h, n: V.find_term(h, n, case=True)),
    "hasprefix": _string_op(lambda h, n: V.find_term(h, n, prefix=True)),
    "hasprefix_cs": _string_op(lambda h, n: V.find_term(h, n, prefix=True, case=True)),
    "hassuffix": _string_op(lambda h, n: V.find_term(h, n, suffix=True)),
    "hassuffix_cs": _string_op(lambda h, n: V.find_term(h, n, suffix=True, case=True)),
    "contains": _string_op(lambda h, n: n.lower() in h.lower()),
    "contains_cs": _string_op(lambda h, n: n in h),
    "startswith": _string_op(lambda h, n: h.lower().startswith(n.lower())),
    "startswith_cs": _string_op(lambda h, n: h.startswith(n)),
    "endswith": _string_op(lambda h, n: h.lower().endswith(n.lower())),
    "endswith_cs": _string_op(lambda h, n: h.endswith(n)),
    "matches regex": _matches,
}
for _name in list(BINARY_PREDICATES):
    if _name[0].isalpha() and _name != "matches regex":
        BINARY_PREDICATES["!" + _name] = _negate(BINARY_PREDICATES[_name])


# ------------------------------------------------------------------ arithmetic


def arithmetic_type(op_name: str, left: str, right: str) -> str:
    pair = {left, right}
    if op_name == "-" and left == right == "datetime":
        return "timespan"
    if "datetime" in pair:
        return "datetime"
    if op_name == "/" and left == right == "timespan":
        return "real"
    if "timespan" in pair:
        return "timespan"
    if "dynamic" in pair:
        return "dynamic"
    if "real" in pair:
        return "real"
    if "decimal" in pair:
        return "decimal"
    return "long"  # int op int is long in Kusto


def _checked(combine: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """``combine`` with Kusto's null and range rules (see ``bounds``).

    Null in, null out. Operand types the binder rejects give null here (the
    compiler refuses the known ones first). Python raises OverflowError for a
    datetime past 9999-12-31 and ValueError/OverflowError for a timespan times NaN
    or infinity: those results are null. A long result must fit in 64 bits
    (LongOverflow otherwise), a timespan result in its tick range (else null).
    The common results (a real, a long in range) are settled inline: this runs per row.
    """
    def run(a: Any, b: Any) -> Any:
        if a is None or b is None:
            return None
        try:
            result = combine(a, b)
        except (TypeError, ZeroDivisionError, OverflowError, ValueError):
            return None
        kind = result.__class__
        if kind is float or (kind is int and LONG_MIN <= result <= LONG_MAX):
            return result
        return within_range(result)

    return run


def _divide(a: Any, b: Any) -> Any:
    """Integer division truncates toward zero; a real divided by zero is +-infinity or NaN (the
    real data type page); an integer or a timespan divided by zero is null."""
    if isinstance(a, int) and isinstance(b, int) and not isinstance(a, bool):
        if b == 0:
            return None
        quotient = abs(a) // abs(b)
        return quotient if (a >= 0) == (b >= 0) else -quotient
    if isinstance(a, timedelta) and isinstance(b, (int, float)):
        return a / b if b else None
    if isinstance(b, (int, float)) and b == 0 and isinstance(a, (int, float)):
        if a == 0 or math.isnan(a):
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1.0, b)
    return a / b


def _modulo(a: Any, b: Any) -> Any:
    """Kusto's modulo is never negative: -14 % 12 and -14 % -12 are both 10; modulo zero is null."""
    if b == 0:
        return None
    return a % abs(b)


def negate(value: Any) -> Any:
    """Unary minus: -(-9223372036854775808) does not fit in a long (LongOverflow)."""
    if value is None:
        return None
    try:
        return within_range(-value)
    except TypeError:
        return None


ARITHMETIC = {"+": _checked(op.add), "-": _checked(op.sub), "*": _checked(op.mul), "/": _checked(_divide),
              "%": _checked(_modulo)}


def _long_checked(combine: Callable[[Any, Any], Any], general: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """``general`` specialised for two long operands (the usual counter arithmetic): the same rules,
    with the range check inline; a value of another kind in a long column takes ``general``."""
    def run(a: Any, b: Any) -> Any:
        if a.__class__ is int and b.__class__ is int:
            result = combine(a, b)
            if LONG_MIN <= result <= LONG_MAX:
                return result
        return general(a, b)

    return run


LONG_ARITHMETIC = {name: _long_checked(combine, ARITHMETIC[name]) for name, combine in
                   (("+", op.add), ("-", op.sub), ("*", op.mul))}


def and_of(left: Callable[[Row], Any], right: Callable[[Row], Any]) -> Callable[[Row], Any]:
    def run(row: Row) -> bool | None:
        a = V.to_bool(left(row))
        if a is False:
            return False
        b = V.to_bool(right(row))
        if b is False:
            return False
        return True if a and b else None

    return run


def or_of(left: Callable[[Row], Any], right: Callable[[Row], Any]) -> Callable[[Row], Any]:
    def run(row: Row) -> bool | None:
        a = V.to_bool(left(row))
        if a is True:
            return True
        b = V.to_bool(right(row))
        if b is True:
            return True
        return False if a is False and b is False else None

    return run


def and_of_bools(left: Callable[[Row], Any], right: Callable[[Row], Any]) -> Callable[[Row], Any]:
    """``and`` of two bool-typed operands: no conversion needed, same null rules as and_of."""
    def run(row: Row) -> bool | None:
        a = left(row)
        if a is False:
            return False
        b = right(row)
        if b is False:
            return False
        return True if a is True and b is True else None

    return run


def or_of_bools(left: Callable[[Row], Any], right: Callable[[Row], Any]) -> Callable[[Row], Any]:
    def run(row: Row) -> bool | None:
        a = left(row)
        if a is True:
            return True
        b = right(row)
        if b is True:
            return True
        return False if a is False and b is False else None

    return run


# ------------------------------------------------------------------ type rules

KNOWN_TYPES = {"string", "bool", "int", "long", "real", "decimal", "datetime", "timespan", "guid"}
NUMBER_TYPES = {"int", "long", "real", "decimal"}
ORDERING = {"<", "<=", ">", ">="}
STRING_LEFT = {
    "has", "has_cs", "hasprefix", "hasprefix_cs", "hassuffix", "hassuffix_cs", "contains", "contains_cs",
    "startswith", "startswith_cs", "endswith", "endswith_cs", "matches regex",
}


def _family(type_name: str) -> str:
    return "number" if type_name in NUMBER_TYPES else type_name


def operand_error(op_name: str, left: str, right: str) -> str | None:
    """Why Kusto's binder rejects ``left op right``, or None (also when a type is unknown)."""
    if left not in KNOWN_TYPES or right not in KNOWN_TYPES:
        return None
    pair = (_family(left), _family(right))
    allowed: set[tuple[str, str]]
    if op_name in ORDERING:
        allowed = {(t, t) for t in ("number", "string", "datetime", "timespan", "bool", "guid")}
    elif op_name == "+":
        allowed = {("number", "number"), ("datetime", "timespan"), ("timespan", "datetime"), ("timespan", "timespan")}
    elif op_name == "-":
        allowed = {("number", "number"), ("datetime", "datetime"), ("datetime", "timespan"), ("timespan", "timespan")}
    elif op_name == "*":
        allowed = {("number", "number"), ("timespan", "number"), ("number", "timespan")}
    elif op_name in ("/", "%"):
        allowed = {("number", "number"), ("timespan", "number"), ("timespan", "timespan")}
    elif op_name.lstrip("!") in STRING_LEFT:
        if left in ("string", "guid"):
            return None
        return f"the operator '{op_name}' is not defined for the operand types {left} and {right}"
    else:
        return None
    if pair in allowed:
        return None
    return f"the operator '{op_name}' is not defined for the operand types {left} and {right}"
