"""Warn where a rule's unit tests rest on semantics Kusto does not document.

A few Kusto functions compute something the documentation names but does not
define (the anomaly score of series_decompose_anomalies, period scores). The
evaluator computes a documented reading of them (framework/kql/series.py), so a
test of such a rule passes on our arithmetic, and Kusto may flag points near a
threshold differently. The engineer should know that before trusting the test.
"""

from __future__ import annotations

from dac.errors import DacError, DacWarning
from dac.kql import KqlSyntaxError
from dac.kql import ast
from dac.kql.series import APPROXIMATED, AUTODETECTING
from dac.rules.model import Rule


class ApproximationCheck:
    """One warning per call of a function whose result the evaluator approximates."""

    id = "approximation"
    summary = "a function whose result the evaluator can only approximate (warning)"

    def check(self, rule: Rule) -> list[DacError]:
        if rule.query is None:
            return []
        try:
            tree = rule.syntax_tree()
        except KqlSyntaxError:
            return []
        findings: list[DacError] = []
        for node in tree.walk():
            if not isinstance(node, ast.Call) or node.name not in APPROXIMATED:
                continue
            parts = list(APPROXIMATED[node.name])
            if node.name in AUTODETECTING and _autodetects(node):
                parts.append("its seasonality autodetection")
            if parts:
                findings.append(DacWarning(
                    f"{node.name}(): {' and '.join(parts)} follow our reading of Kusto's documentation, which gives "
                    "no formula; results near a threshold may differ from Kusto's",
                    rule.query_location(node.line, node.column)))
        return findings


def _autodetects(call: ast.Call) -> bool:
    """Seasonality absent, -1, or not a literal (then it may be -1)."""
    if len(call.args) < 2:
        return True
    season = call.args[1]
    if isinstance(season, ast.Unary) and season.op == "-" and isinstance(season.operand, ast.Literal):
        return season.operand.value == 1
    return not isinstance(season, ast.Literal) or season.value == -1
