"""Trigonometric and special real functions: sin .. atan2, degrees/radians, pi, sign, the IEEE
classification tests, erf/erfc and loggamma; plus binary_not and bitset_count_ones.

Registered into ``functions.FUNCTIONS`` on import (``functions`` imports this module).
Reals follow IEEE 754 as .NET's ``Math`` does: a result with no real value is NaN (Python's
``math`` raises instead), except where a page documents null (asin and acos out of [-1, 1]).
"""

from __future__ import annotations

import math
from typing import Any, Callable

from dac.kql import values as V
from dac.kql.functions import INTEGER_ARGUMENTS, PARAMETER_TYPES, scalar

_NUMBER = frozenset({"number"})


def _real(value: Any) -> float | None:
    return None if value is None else V.to_real(value)


def _ieee(function: Callable[[float], float]) -> Callable[[Any], float | None]:
    """``function`` over a real argument: null for null, NaN where ``math`` finds no value
    (sin of infinity), +-infinity where it overflows."""

    def apply(value: Any) -> float | None:
        number = _real(value)
        if number is None:
            return None
        try:
            return function(number)
        except ValueError:
            return math.nan
        except OverflowError:
            return math.inf

    apply.__doc__ = function.__doc__
    return apply


def _register(name: str, function: Callable[[float], float]) -> None:
    scalar(name, returns="real", args=(1, 1))(_ieee(function))
    PARAMETER_TYPES[name] = {0: _NUMBER}


# https://learn.microsoft.com/kusto/query/sin-function, cos-function, tan-function, atan-function
for _name, _function in (("sin", math.sin), ("cos", math.cos), ("tan", math.tan), ("atan", math.atan),
                         ("erf", math.erf), ("erfc", math.erfc),
                         ("degrees", math.degrees), ("radians", math.radians)):
    _register(_name, _function)


def _arc(function: Callable[[float], float]) -> Callable[[float], float | None]:
    """asin and acos: null outside [-1, 1] (https://learn.microsoft.com/kusto/query/asin-function,
    https://learn.microsoft.com/kusto/query/acos-function); NaN stays NaN."""
    return lambda x: function(x) if math.isnan(x) or -1.0 <= x <= 1.0 else None  # type: ignore[return-value]


_register("asin", _arc(math.asin))
_register("acos", _arc(math.acos))


def _cot(x: float) -> float:
    """1 / tan(x) (https://learn.microsoft.com/kusto/query/cot-function): +-infinity at +-0."""
    tangent = math.tan(x)
    return math.copysign(math.inf, tangent) if tangent == 0 else 1.0 / tangent


_register("cot", _cot)


def _loggamma(x: float) -> float:
    """log |gamma(x)| (https://learn.microsoft.com/kusto/query/loggamma-function): +infinity at
    the poles (0 and the negative integers) and at +-infinity, as C's lgamma."""
    if math.isinf(x):
        return math.inf
    try:
        return math.lgamma(x)
    except ValueError:
        return math.inf


_register("loggamma", _loggamma)


@scalar("atan2", returns="real", args=(2, 2))
def _atan2(y: Any, x: Any) -> float | None:
    """The angle of the point (x, y) (https://learn.microsoft.com/kusto/query/atan2-function)."""
    a, b = _real(y), _real(x)
    return None if a is None or b is None else math.atan2(a, b)


PARAMETER_TYPES["atan2"] = {0: _NUMBER, 1: _NUMBER}


@scalar("pi", returns="real", args=(0, 0))
def _pi() -> float:
    """https://learn.microsoft.com/kusto/query/pi-function"""
    return math.pi


@scalar("sign", returns="real", args=(1, 1))
def _sign(value: Any) -> float | None:
    """-1, 0 or +1 as a real (https://learn.microsoft.com/kusto/query/sign-function; the official
    binder types the result real); NaN has no sign and stays NaN."""
    number = _real(value)
    if number is None or math.isnan(number):
        return number
    return float((number > 0) - (number < 0))


PARAMETER_TYPES["sign"] = {0: _NUMBER}


@scalar("isfinite", returns="bool", args=(1, 1))
def _isfinite(value: Any) -> bool | None:
    """Neither infinite nor NaN (https://learn.microsoft.com/kusto/query/isfinite-function)."""
    number = _real(value)
    return None if number is None else math.isfinite(number)


@scalar("isinf", returns="bool", args=(1, 1))
def _isinf(value: Any) -> bool | None:
    """+-infinity (https://learn.microsoft.com/kusto/query/isinf-function)."""
    number = _real(value)
    return None if number is None else math.isinf(number)


PARAMETER_TYPES["isfinite"] = PARAMETER_TYPES["isinf"] = {0: _NUMBER}


def _as_long(bits: int) -> int:
    bits &= 0xFFFF_FFFF_FFFF_FFFF
    return bits - (1 << 64) if bits >> 63 else bits


@scalar("binary_not", returns="long", args=(1, 1))
def _binary_not(value: Any) -> int | None:
    """Bitwise NOT of a long (https://learn.microsoft.com/kusto/query/binary-not-function: 100 -> -101)."""
    return None if value is None else _as_long(~value)


@scalar("bitset_count_ones", returns="long", args=(1, 1))
def _bitset_count_ones(value: Any) -> int | None:
    """Set bits of the 64-bit two's complement form
    (https://learn.microsoft.com/kusto/query/bitset-count-ones-function)."""
    return None if value is None else bin(value & 0xFFFF_FFFF_FFFF_FFFF).count("1")


INTEGER_ARGUMENTS["bitset_count_ones"] = frozenset({0})
