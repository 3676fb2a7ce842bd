"""Running every rule's test cases and reporting the outcome.

A rule with a query but no test file fails: in this framework CI proves each
rule before it ships, so an untested rule is not silently passed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from framework.errors import DacError, Location
from framework.kql import KqlError, evaluate
from framework.kql import parse
from framework.rules.model import Rule, discover_rule_files, load_rule
from framework.testing.cases import TestCase, TestSuite, load_test_suite
from framework.testing.compare import diff_rows, expected_rows


@dataclass
class CaseResult:
    rule: str
    case: str
    status: str  # PASS, FAIL, ERROR
    location: Location
    details: list[str] = field(default_factory=list)


@dataclass
class TestReport:
    results: list[CaseResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r.status == "PASS" for r in self.results)

    def counts(self) -> dict[str, int]:
        counts = {"PASS": 0, "FAIL": 0, "ERROR": 0}
        for result in self.results:
            counts[result.status] += 1
        return counts

    def render(self, verbose: bool = False) -> str:
        lines = []
        for result in self.results:
            if result.status == "PASS" and not verbose:
                continue
            lines.append(f"{result.status:<5} {result.location}: {result.rule} :: {result.case}")
            lines.extend("      " + line for line in result.details)
        counts = self.counts()
        failed = counts["FAIL"] + counts["ERROR"]
        lines.append(f"{counts['PASS']} passed, {failed} failed")
        return "\n".join(lines)


def query_error(rule: Rule, error: KqlError) -> DacError:
    """A KQL error inside the rule's query, located in the rule file."""
    return DacError(error.message, rule.query_location(error.line, error.column) if error.line else rule.location("query"))


def run_case(rule: Rule, suite: TestSuite, case: TestCase, tree) -> CaseResult:
    label = rule.name or Path(rule.path).stem
    try:
        result = evaluate(tree, case.tables, now=case.now, as_table=True)
    except KqlError as exc:
        error = query_error(rule, exc)
        return CaseResult(label, case.name, "ERROR", case.location, [f"{error.location}: {error.message}"])
    try:
        expected = expected_rows(suite.doc, case.expect_key, case.expect, result, case.now)
    except DacError as exc:
        return CaseResult(label, case.name, "ERROR", exc.location, [exc.message])
    diff = diff_rows(result.names, expected, result.rows, case.ordered)
    if diff:
        header = f"{len(expected)} row(s) expected, {len(result.rows)} returned" + (" (in order)" if case.ordered else "")
        return CaseResult(label, case.name, "FAIL", case.location, [header] + diff)
    return CaseResult(label, case.name, "PASS", case.location)


def run_rule(path: Path) -> list[CaseResult]:
    try:
        rule = load_rule(path)
    except DacError as exc:
        return [CaseResult(str(path), "(load rule)", "ERROR", exc.location, [exc.message])]
    label = rule.name or path.stem
    if rule.query is None:
        return []  # a migration stub: nothing to run, validation reports it if it is not one
    try:
        suite = load_test_suite(rule)
    except DacError as exc:
        return [CaseResult(label, "(load tests)", "ERROR", exc.location, [exc.message])]
    if suite is None:
        expected = path.with_name(path.name.rsplit(".", 1)[0] + ".tests.yaml")
        return [CaseResult(label, "(no tests)", "FAIL", Location(str(path), 1, 1),
                           [f"rule has no test file; expected {expected}"])]
    try:
        tree = parse(rule.query)
    except KqlError as exc:
        error = query_error(rule, exc)
        return [CaseResult(label, "(parse query)", "ERROR", error.location, [error.message])]
    return [run_case(rule, suite, case, tree) for case in suite.cases]


def run_tests(paths: list[str]) -> TestReport:
    report = TestReport()
    for path in discover_rule_files(paths):
        report.results.extend(run_rule(path))
    return report
