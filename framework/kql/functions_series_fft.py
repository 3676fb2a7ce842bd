"""series_fft and series_ifft: the discrete Fourier transform of a complex series and its inverse.

Registered into ``series.TUPLE_FUNCTIONS`` on import (``functions`` imports this module). The pages
link the transform's definition (https://en.wikipedia.org/wiki/Fast_Fourier_transform, the DFT
X_k = sum_n x_n e^(-2 pi i k n / N)) and show that series_ifft of series_fft gives back the series;
so the forward transform is unscaled and the inverse divides by N. Both are computed as the exact
O(N^2) sum, the FFT being only a faster way to the same values. Each returns two columns, ``real``
and ``imag`` (the official binder's names). A non-numeric element, or an imaginary part of another
length, is refused: the pages do not say what Kusto does with either.
"""

from __future__ import annotations

import cmath
import decimal
import math
from typing import Any

from dac.kql.errors import KqlRefusedValue
from dac.kql.series import ARRAY, TUPLE_FUNCTIONS, TupleFunction


def _components(name: str, real: Any, imaginary: Any) -> list[complex] | None:
    """The series as complex numbers, None for a null argument."""
    if not isinstance(real, list) or (imaginary is not None and not isinstance(imaginary, list)):
        return None
    parts = imaginary if imaginary is not None else [0] * len(real)
    if len(parts) != len(real):
        raise KqlRefusedValue(f"{name} of a real part and an imaginary part of different lengths is not "
                              "reproduced: the page does not say what Kusto does")
    values = []
    for a, b in zip(real, parts):
        if any(isinstance(x, bool) or not isinstance(x, (int, float, decimal.Decimal)) for x in (a, b)):
            raise KqlRefusedValue(f"{name} of a series with a non-numeric element is not reproduced: "
                                  "the page does not say what Kusto does")
        values.append(complex(float(a), float(b)))
    return values


def _transform(values: list[complex], sign: int, scale: float) -> tuple[list[float], list[float]]:
    count = len(values)
    out = [scale * sum(x * cmath.exp(sign * 2j * math.pi * k * n / count) for n, x in enumerate(values))
           for k in range(count)]
    return [z.real for z in out], [z.imag for z in out]


def _series_fft(real: Any, imaginary: Any = None) -> tuple | None:
    """(https://learn.microsoft.com/kusto/query/series-fft-function)"""
    values = _components("series_fft", real, imaginary)
    return None if values is None else _transform(values, -1, 1.0)


def _series_ifft(real: Any, imaginary: Any = None) -> tuple | None:
    """(https://learn.microsoft.com/kusto/query/series-ifft-function)"""
    values = _components("series_ifft", real, imaginary)
    return None if values is None else _transform(values, 1, 1.0 / len(values) if values else 1.0)


for _name, _impl in (("series_fft", _series_fft), ("series_ifft", _series_ifft)):
    TUPLE_FUNCTIONS[_name] = TupleFunction(_name, _impl, (("real", "dynamic"), ("imag", "dynamic")), (ARRAY, ARRAY), 1, {})
