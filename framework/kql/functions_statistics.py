"""Distribution functions: beta_cdf, beta_pdf, beta_inv, and welch_test's p-value.

Registered into ``functions.FUNCTIONS`` on import (``functions`` imports this module).
The regularized incomplete beta function is evaluated by its continued fraction (modified Lentz),
on the side of the symmetry I_x(a, b) = 1 - I_{1-x}(b, a) where it converges fast; its inverse by
bisection down to adjacent doubles, which is slow but exact to the last bit the cdf has.
"""

from __future__ import annotations

import math
from typing import Any

from dac.kql import values as V
from dac.kql.errors import KqlRefusedValue, KqlRuntimeError
from dac.kql.functions import PARAMETER_TYPES, scalar

_NUMBER = frozenset({"number"})
_TINY = 1e-300
_EPSILON = 1e-16


def _log_beta(a: float, b: float) -> float:
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)


def _continued_fraction(x: float, a: float, b: float) -> float:
    """The continued fraction of I_x(a, b) (without its prefactor), by the modified Lentz method."""
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1)
    d = 1.0 / (d if abs(d) > _TINY else _TINY)
    result = d
    for m in range(1, 10_000):
        for numerator in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                          -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > _TINY else _TINY)
            c = 1.0 + numerator / c
            c = c if abs(c) > _TINY else _TINY
            result *= c * d
        if abs(c * d - 1.0) < _EPSILON:
            return result
    raise KqlRuntimeError(f"the incomplete beta function did not converge at x={x}, alpha={a}, beta={b}")


def regularized_beta(x: float, a: float, b: float) -> float:
    """I_x(a, b) for 0 <= x <= 1 and positive a, b."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    front = math.exp(a * math.log(x) + b * math.log1p(-x) - _log_beta(a, b))
    if x < (a + 1) / (a + b + 2):
        return front * _continued_fraction(x, a, b) / a
    return 1.0 - front * _continued_fraction(1.0 - x, b, a) / b


def _reals(*values: Any) -> list[float] | None:
    return None if any(v is None for v in values) else [V.to_real(v) for v in values]


@scalar("beta_cdf", returns="real", args=(3, 3))
def _beta_cdf(x: Any, alpha: Any, beta: Any) -> float | None:
    """The beta distribution's cdf; NaN for x outside [0, 1] and for alpha or beta outside
    (0, 10000] (https://learn.microsoft.com/kusto/query/beta-cdf-function)."""
    reals = _reals(x, alpha, beta)
    if reals is None:
        return None
    x_, a, b = reals
    if any(math.isnan(v) for v in reals) or not (0.0 <= x_ <= 1.0 and 0.0 < a <= 10000 and 0.0 < b <= 10000):
        return math.nan
    return regularized_beta(x_, a, b)


@scalar("beta_pdf", returns="real", args=(3, 3))
def _beta_pdf(x: Any, alpha: Any, beta: Any) -> float | None:
    """The beta distribution's density x^(a-1) (1-x)^(b-1) / B(a, b); NaN for x outside (0, 1) and
    for alpha or beta not positive (https://learn.microsoft.com/kusto/query/beta-pdf-function)."""
    reals = _reals(x, alpha, beta)
    if reals is None:
        return None
    x_, a, b = reals
    if any(math.isnan(v) for v in reals) or not (0.0 < x_ < 1.0 and a > 0.0 and b > 0.0):
        return math.nan
    if math.isinf(a) or math.isinf(b):
        raise KqlRefusedValue("beta_pdf() with an infinite parameter is not reproduced")
    return math.exp((a - 1) * math.log(x_) + (b - 1) * math.log1p(-x_) - _log_beta(a, b))


@scalar("beta_inv", returns="real", args=(3, 3))
def _beta_inv(probability: Any, alpha: Any, beta: Any) -> float | None:
    """The x whose beta_cdf is ``probability`` (https://learn.microsoft.com/kusto/query/beta-inv-function).

    The page's notes and its example disagree: the notes give null for alpha <= 0 and NaN for a
    probability outside (0, 1], the example's output (and its comments) null for probability 1.5 and
    NaN for alpha -1. The example is what Kusto returned, so the notes' two outcomes are read swapped:
    NaN for alpha or beta <= 0, null for a probability <= 0 or > 1. Parameters past beta_cdf's 10000,
    where the page says nothing, are refused."""
    reals = _reals(probability, alpha, beta)
    if reals is None:
        return None
    p, a, b = reals
    if math.isnan(a) or math.isnan(b) or a <= 0.0 or b <= 0.0:
        return math.nan
    if math.isnan(p) or not 0.0 < p <= 1.0:
        return None
    if a > 10000 or b > 10000:
        raise KqlRefusedValue("beta_inv() with alpha or beta above 10000 is not reproduced: the page does not "
                              "say what Kusto returns")
    low, high = 0.0, 1.0
    while True:
        middle = (low + high) / 2
        if middle in (low, high):
            return high if abs(regularized_beta(high, a, b) - p) <= abs(regularized_beta(low, a, b) - p) else low
        if regularized_beta(middle, a, b) < p:
            low = middle
        else:
            high = middle


@scalar("welch_test", returns="real", args=(6, 6))
def _welch_test(mean1: Any, variance1: Any, count1: Any, mean2: Any, variance2: Any, count2: Any) -> float | None:
    """The two-sided p-value of Welch's t-test (https://learn.microsoft.com/kusto/query/welch-test-function:
    its example, Wikipedia's first, gives 0.021): t from the standard error sqrt(v1/n1 + v2/n2),
    degrees of freedom by Welch-Satterthwaite, p = I_{df/(df+t^2)}(df/2, 1/2). Samples of fewer than
    two values or with no variance at all have no defined statistic, and the page does not say what
    Kusto returns for them: refused."""
    reals = _reals(mean1, variance1, count1, mean2, variance2, count2)
    if reals is None:
        return None
    m1, v1, n1, m2, v2, n2 = reals
    if not all(math.isfinite(v) for v in reals) or n1 < 2 or n2 < 2 or v1 < 0 or v2 < 0 or v1 + v2 == 0:
        raise KqlRefusedValue("welch_test() of fewer than two values, a negative or no variance, or a "
                              "non-finite argument is not reproduced: the page does not say what Kusto returns")
    e1, e2 = v1 / n1, v2 / n2
    t = (m1 - m2) / math.sqrt(e1 + e2)
    df = (e1 + e2) ** 2 / (e1 * e1 / (n1 - 1) + e2 * e2 / (n2 - 1))
    return regularized_beta(df / (df + t * t), df / 2, 0.5)


for _name in ("beta_cdf", "beta_pdf", "beta_inv"):
    PARAMETER_TYPES[_name] = {0: _NUMBER, 1: _NUMBER, 2: _NUMBER}
PARAMETER_TYPES["welch_test"] = {i: _NUMBER for i in range(6)}
