"""Scalar functions over numbers: rounding, powers and logarithms, bitwise operations, bin().

Registered into ``functions.FUNCTIONS`` on import (``functions`` imports this module).
Reals follow IEEE 754 as .NET's ``Math`` does, so an overflow is +-infinity and a
result with no real value is NaN, where Python's ``math`` would raise; a long
result that does not fit fails the query (see ``bounds``).
"""

from __future__ import annotations

import decimal
import math
from datetime import datetime, timedelta
from typing import Any

from dac.kql import values as V
from dac.kql.bounds import INT_MAX, INT_MIN, within_range
from dac.kql.functions import first_type, numeric_result, scalar


def _real(value: Any) -> float | None:
    return None if value is None else V.to_real(value)


@scalar("abs", returns=first_type, args=(1, 1))
def _abs(value: Any) -> Any:
    """abs(-9223372036854775808) does not fit in a long: an overflow, as for unary minus."""
    return None if value is None else within_range(abs(value))


_POWERS = tuple(10.0 ** n for n in range(309))  # 10^0 .. 10^308: round() scales by them per row


@scalar("round", returns=lambda t: "long" if t and t[0] == "int" else first_type(t), args=(1, 2))
def _round(value: Any, digits: Any = 0) -> Any:
    """Half away from zero, at ``digits`` decimal places (negative: tens, hundreds...)."""
    if value is None:
        return None
    places = V.to_long(digits) or 0
    if value.__class__ is float:
        number = value
    elif isinstance(value, int) and not isinstance(value, bool):
        return _round_integer(value, places)
    else:
        number = V.to_real(value)
    if number is None or not math.isfinite(number):
        return number
    if places >= 0:
        if places > 308:
            return number  # every digit of the double is already kept
        factor = _POWERS[places]
        scaled = abs(number) * factor
        if scaled >= 2 ** 52 or scaled == math.inf:
            return number
        return math.copysign(math.floor(scaled + 0.5), number) / factor
    if places < -308:
        return math.copysign(0.0, number)
    unit = _POWERS[-places]
    return math.copysign(math.floor(abs(number) / unit + 0.5) * unit, number)


def _round_integer(value: int, places: int) -> int:
    """An integer rounded to ``places``: exact (a double would lose digits past 2**53)."""
    if places >= 0:
        return value
    unit = 10 ** min(-places, 20)  # past 10**19 every long rounds to 0
    magnitude = (abs(value) + unit // 2) // unit * unit
    return within_range(magnitude if value >= 0 else -magnitude)


def _bin_type(types: list[str]) -> str:
    """bin(5, 0.5) is real, bin(int(5), 2) long: numbers take the wider of the two (the official
    binder's rule); datetimes and timespans keep their type."""
    if not types or types[0] not in ("int", "long", "real", "decimal"):
        return first_type(types)
    pair = set(types[:2])
    return "real" if "real" in pair else "decimal" if "decimal" in pair else "long"


@scalar("floor", returns=_bin_type, args=(2, 2))
def _floor_bin(value: Any, size: Any) -> Any:
    return bin_value(value, size)


@scalar("ceiling", returns=first_type, args=(1, 1))
def _ceiling(value: Any) -> Any:
    """The smallest integer not below ``value``, in the argument's type (infinity and NaN stay)."""
    if value is None or isinstance(value, int):
        return value
    if isinstance(value, decimal.Decimal):
        return value.to_integral_value(rounding=decimal.ROUND_CEILING)
    if isinstance(value, float) and not math.isfinite(value):
        return value
    return float(math.ceil(value))


@scalar("sqrt", returns="real", args=(1, 1))
def _sqrt(value: Any) -> Any:
    """Null for a negative argument (https://learn.microsoft.com/kusto/query/sqrt-function)."""
    number = _real(value)
    return None if number is None or number < 0 else math.sqrt(number)


def _ieee_pow(base: float, exponent: float) -> float:
    """``base ** exponent`` as IEEE 754 pow: +-infinity on overflow, NaN for a negative base
    with a fractional exponent, infinity for zero to a negative power."""
    try:
        return math.pow(base, exponent)
    except OverflowError:
        odd = exponent.is_integer() and exponent % 2 == 1
        return -math.inf if base < 0 and odd else math.inf
    except ValueError:
        if base == 0:
            odd = exponent.is_integer() and exponent % 2 == 1
            return math.copysign(math.inf, base) if odd else math.inf
        return math.nan


@scalar("pow", returns="real", args=(2, 2))
def _pow(base: Any, exponent: Any) -> Any:
    b, e = _real(base), _real(exponent)
    return None if b is None or e is None else _ieee_pow(b, e)


@scalar("log", returns="real", args=(1, 1))
def _log(value: Any) -> Any:
    return None if value is None or value <= 0 else math.log(value)


@scalar("log10", returns="real", args=(1, 1))
def _log10(value: Any) -> Any:
    return None if value is None or value <= 0 else math.log10(value)


@scalar("log2", returns="real", args=(1, 1))
def _log2(value: Any) -> Any:
    return None if value is None or value <= 0 else math.log2(value)


@scalar("exp", returns="real", args=(1, 1))
def _exp(value: Any) -> Any:
    """e to the power ``value``; past the largest double it is infinity (exp(1000))."""
    number = _real(value)
    if number is None:
        return None
    try:
        return math.exp(number)
    except OverflowError:
        return math.inf


@scalar("exp2", returns="real", args=(1, 1))
def _exp2(value: Any) -> Any:
    """https://learn.microsoft.com/kusto/query/exp2-function"""
    number = _real(value)
    return None if number is None else _ieee_pow(2.0, number)


@scalar("exp10", returns="real", args=(1, 1))
def _exp10(value: Any) -> Any:
    """https://learn.microsoft.com/kusto/query/exp10-function"""
    number = _real(value)
    return None if number is None else _ieee_pow(10.0, number)


@scalar("gamma", returns="real", args=(1, 1))
def _gamma(value: Any) -> Any:
    """The gamma function (https://learn.microsoft.com/kusto/query/gamma-function), with C's tgamma
    at its edges: +-infinity at +-0 and on overflow, NaN at the negative integers and -infinity."""
    x = _real(value)
    if x is None or math.isnan(x) or x == math.inf:
        return x
    if x == -math.inf:
        return math.nan
    try:
        return math.gamma(x)
    except OverflowError:
        return math.copysign(math.inf, x) if abs(x) < 1 else math.inf
    except ValueError:
        return math.copysign(math.inf, x) if x == 0 else math.nan


@scalar("isnan", returns="bool", args=(1, 1))
def _isnan(value: Any) -> Any:
    return isinstance(value, float) and math.isnan(value)


@scalar("max_of", returns=numeric_result, args=(1, 64))
def _max_of(*values: Any) -> Any:
    present = [v for v in values if v is not None]
    return max(present) if present else None


@scalar("min_of", returns=numeric_result, args=(1, 64))
def _min_of(*values: Any) -> Any:
    present = [v for v in values if v is not None]
    return min(present) if present else None


@scalar("binary_and", returns="long", args=(2, 2))
def _binary_and(a: Any, b: Any) -> Any:
    return None if a is None or b is None else a & b


@scalar("binary_or", returns="long", args=(2, 2))
def _binary_or(a: Any, b: Any) -> Any:
    return None if a is None or b is None else a | b


@scalar("binary_xor", returns="long", args=(2, 2))
def _binary_xor(a: Any, b: Any) -> Any:
    return None if a is None or b is None else a ^ b


def _as_long(bits: int) -> int:
    """The low 64 bits as a signed long (a shift drops what leaves the word, as C#'s << does)."""
    bits &= 0xFFFF_FFFF_FFFF_FFFF
    return bits - (1 << 64) if bits >> 63 else bits


@scalar("binary_shift_left", returns="long", args=(2, 2))
def _shift_left(a: Any, b: Any) -> Any:
    """value << (shift % 64); null for a negative shift
    (https://learn.microsoft.com/kusto/query/binary-shift-left-function)."""
    if a is None or b is None or b < 0:
        return None
    return _as_long(a << (b % 64))


@scalar("binary_shift_right", returns="long", args=(2, 2))
def _shift_right(a: Any, b: Any) -> Any:
    """value >> (shift % 64), arithmetic; null for a negative shift
    (https://learn.microsoft.com/kusto/query/binary-shift-right-function)."""
    if a is None or b is None or b < 0:
        return None
    return a >> (b % 64)


@scalar("tohex", returns="string", args=(1, 2), typed=True)
def _tohex(types: tuple[str, ...], value: Any, min_length: Any = None) -> str:
    """Hex digits of an int or long; a negative one is its two's complement at the type's width,
    so 8 digits for an int and 16 for a long; ``min_length`` pads with zeros, at most to 16
    (https://learn.microsoft.com/kusto/query/tohex-function)."""
    if not isinstance(value, int) or isinstance(value, bool):
        return ""
    width = 32 if types[0] == "int" and INT_MIN <= value <= INT_MAX else 64
    digits = format(value & ((1 << width) - 1), "x")
    pad = V.to_long(min_length) or 0
    return digits.rjust(max(min(pad, 16), 0), "0")

def bin_value(value: Any, size: Any) -> Any:
    """``bin()``: round down to a multiple of ``size`` (datetimes from 0001-01-01, as Kusto does)."""
    if value is None or size is None:
        return None
    if (isinstance(size, timedelta) and size <= timedelta(0)) or (isinstance(size, (int, float)) and size <= 0):
        return None  # a bin size must be positive
    if isinstance(value, datetime):
        step = size if isinstance(size, timedelta) else None
        if not step:
            return None
        ticks = V.ticks_of_datetime(value)
        step_ticks = V.to_long(step)
        return datetime(1, 1, 1) + timedelta(microseconds=(ticks - ticks % step_ticks) // 10)
    if isinstance(value, timedelta):
        step_ticks = V.to_long(size)
        ticks = V.to_long(value)
        return timedelta(microseconds=(ticks - ticks % step_ticks) // 10) if step_ticks else None
    if isinstance(value, int) and isinstance(size, int):
        return value // size * size  # exact: a double would lose a long's low digits
    if isinstance(value, (int, float)) and isinstance(size, (int, float)):
        quotient = value / size
        if not math.isfinite(quotient):
            return quotient * size  # infinity and NaN stay what they are
        return float(math.floor(quotient) * size)
    return None


scalar("bin", returns=_bin_type, args=(2, 2))(bin_value)
