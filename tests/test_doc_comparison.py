"""The documentation yardstick's reading of documented cells (tests/doc_examples.py), without the corpus.

A reader too lenient would let a wrong evaluator answer pass as agreement, so each
tolerance is pinned together with a near miss it must still reject.
"""

from __future__ import annotations

import decimal
import math

import pytest

import doc_examples as D


@pytest.mark.parametrize(("text", "value", "kind", "matches"), [
    # the isfinite/isinf pages print infinities as the web explorer shows them
    ("∞", math.inf, "real", True),
    ("-∞", -math.inf, "real", True),
    ("∞", -math.inf, "real", False),
    ("-∞", 1e308, "real", False),
    # the parse-version page groups a decimal's digits by thousands
    ("1,000,000,020,000,000,300,000,004", decimal.Decimal("1000000020000000300000004"), "decimal", True),
    ("1,000,000,020,000,000,300,000,004", decimal.Decimal("1000000020000000300000005"), "decimal", False),
    ("700,000,000", decimal.Decimal(700000000), "decimal", True),
    ("70,00,000", decimal.Decimal(7000000), "decimal", False),  # not a grouping by thousands
])
def test_documented_cell_reading(text: str, value: object, kind: str, matches: bool) -> None:
    assert D.cell_matches(text, value, kind) is matches
