"""Running every rule's test cases and reporting the outcome.

A rule with a query but no test file fails: in this framework CI proves each
rule before it ships, so an untested rule is not silently passed.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from dac import config
from dac.errors import DacError, Location
from dac.kql import KqlError, evaluate
from dac.kql.budget import Limits
from dac.output.escape import printable
from dac.parallel import ordered_map
from dac.rules.model import Rule, discover_rule_files, load_rule
from dac.testing.cases import TestCase, TestSuite, load_test_suite
from dac.testing.expectations import judge
from dac.testing.ordering import ResultOrder, result_order


@dataclass
class CaseResult:
    rule: str
    case: str
    status: str  # PASS, FAIL, ERROR
    location: Location  # the case's `name` line in the test file, or where a rule that cannot run fails
    details: list[str] = field(default_factory=list)
    rule_file: str = ""  # groups results per rule in reports (JUnit) even when two rules share a name
    internal: bool = False  # the ERROR is a bug in dac met on this case, not a problem of the rule

    def render(self) -> list[str]:
        """The lines ``dac test`` prints for this case: status, location, names, then the diff.

        Names, paths and the values in the diff come from rule and test files: each is
        escaped (:func:`~dac.output.escape.printable`), so none can print a line of its
        own (a fake ``PASS``) or drive the terminal.
        """
        head = printable(f"{self.location}: {self.rule} :: {self.case}")
        return [f"{self.status:<5} {head}"] + ["      " + printable(line) for line in self.details]


@dataclass
class TestReport:
    results: list[CaseResult] = field(default_factory=list)

    @property
    def internal(self) -> bool:
        """Whether some case met a bug in dac (the command then exits 3)."""
        return any(r.internal for r in self.results)

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
            lines.extend(result.render())
        counts = self.counts()
        failed = counts["FAIL"] + counts["ERROR"]
        lines.append(f"{counts['PASS']} passed, {failed} failed")
        return "\n".join(lines)


def query_error(rule: Rule, error: KqlError) -> DacError:
    """A KQL error inside the rule's query, located in the rule file (one inside a workspace function, in its file)."""
    from dac.workspace.functions import FunctionError

    where = rule.query_location(error.line, error.column) if error.line else rule.location("query")
    return error.finding(where) if isinstance(error, FunctionError) else DacError(error.message, where)


def order_reason(rule: Rule, order: ResultOrder) -> str:
    """Where the query decides its result's order, for messages: "it sorts (sort at rule.yaml:20:3)"."""
    node = order.decided_by
    if node is None:
        return "it never sorts its rows"
    where = rule.query_location(node.line, node.column) if node.line else rule.location("query")
    verb = "sorts its rows" if order.ordered else "leaves its rows unordered"
    return f"its last row-order operator, {order.operator} at {where}, {verb}"


def run_case(rule: Rule, suite: TestSuite, case: TestCase, tree, order: ResultOrder | None = None,
             limits: Limits | None = None, evaluator: type | None = None) -> CaseResult:
    """Run one case; the result is located at the case, a located error inside it goes into the details.

    The case is one evaluation with its own budget of ``limits`` (default: the repository's settings);
    ``evaluator`` is the ``Evaluator`` subclass to run with (predicate coverage records through one).
    """
    label = rule.name or Path(rule.path).stem
    from dac.workspace.environment import evaluation_tables

    try:
        tables = evaluation_tables(tree, case.tables, suite.platform, case.functions, case.watchlists)
        result = evaluate(tree, tables, now=case.now, as_table=True, geo_ip=case.geo_ip,
                          limits=limits or config.current().limits, evaluator=evaluator)
    except KqlError as exc:
        error = query_error(rule, exc)
        return CaseResult(label, case.name, "ERROR", case.location, [f"{error.location}: {error.message}"], rule.path)
    except Exception as exc:  # noqa: BLE001 - a bug met on one case is that case's ERROR; the others still run
        if os.environ.get("DAC_DEBUG"):
            raise
        return CaseResult(label, case.name, "ERROR", case.location,
                          [f"internal error: {type(exc).__name__}: {exc}; this is a bug in dac, please report it"],
                          rule.path, internal=True)
    order = order if order is not None else result_order(tree)
    try:
        details = judge(case.expectation, result, order, case.now, order_reason(rule, order))
    except DacError as exc:
        return CaseResult(label, case.name, "ERROR", case.location, [f"{exc.location}: {exc.message}"], rule.path)
    if details:
        return CaseResult(label, case.name, "FAIL", case.location, details + _ingestion_hint(tree, case), rule.path)
    return CaseResult(label, case.name, "PASS", case.location, rule_file=rule.path)


def _ingestion_hint(tree, case: TestCase) -> list[str]:
    """For a failing case whose query reads ingestion_time(): the fixture rows that have no ingestion time.

    Every record a table stores has one, so a fixture row without ``$IngestionTime`` is an
    omission of the test, not data a workspace could hold; its ingestion_time() is null, and a
    filter such as ``where ingestion_time() > ago(1d)`` drops it without a word.
    """
    from dac.kql import ast
    from dac.kql.table import IngestedRow

    if not any(isinstance(node, ast.Call) and node.name == "ingestion_time" for node in tree.walk()):
        return []
    missing = {name: count for name, table in case.tables.items()
               if (count := sum(not isinstance(row, IngestedRow) for row in table.rows))}
    if not missing:
        return []
    counts = ", ".join(f"{count} of {printable(name)}" for name, count in sorted(missing.items()))
    return [f"note: the query reads ingestion_time(), which is null for fixture rows without $IngestionTime "
            f"({counts}); give them one, e.g. $IngestionTime: now-5m"]


@dataclass
class PreparedRule:
    """A rule made ready to run its cases one at a time (``dac test`` and the pytest plugin).

    ``problem`` is set when the rule cannot run at all (it does not load, its test
    file does not load, it has no test file, its query does not parse); ``suite`` is
    None for a migration stub without a query, which has nothing to run.
    """

    label: str
    rule: Rule | None = None
    suite: TestSuite | None = None
    tree: object = None
    problem: CaseResult | None = None
    order: ResultOrder | None = None  # what order the query's result promises, read once per rule

    @property
    def cases(self) -> list[TestCase]:
        return self.suite.cases if self.suite is not None and self.problem is None else []

    def run(self, case: TestCase, limits: Limits | None = None) -> CaseResult:
        assert self.rule is not None and self.suite is not None
        if self.order is None:
            self.order = result_order(self.tree)
        return run_case(self.rule, self.suite, case, self.tree, self.order, limits)


def prepare_rule(path: Path) -> PreparedRule:
    path = Path(path)
    try:
        rule = load_rule(path)
    except DacError as exc:
        return PreparedRule(str(path), problem=CaseResult(str(path), "(load rule)", "ERROR", exc.location, [exc.message],
                                                          str(path)))
    label = rule.name or path.stem
    if rule.query is None:
        return PreparedRule(label, rule)  # a migration stub: nothing to run, validation reports it if it is not one
    try:
        suite = load_test_suite(rule)
    except DacError as exc:
        return PreparedRule(label, rule, problem=CaseResult(label, "(load tests)", "ERROR", exc.location, [exc.message],
                                                            rule.path))
    if suite is None:
        expected = path.with_name(path.name.rsplit(".", 1)[0] + ".tests.yaml")
        return PreparedRule(label, rule, problem=CaseResult(label, "(no tests)", "FAIL", Location(str(path), 1, 1),
                                                            [f"rule has no test file; expected {expected}"], rule.path))
    try:
        tree = rule.syntax_tree()
    except KqlError as exc:
        error = query_error(rule, exc)
        return PreparedRule(label, rule, suite,
                            problem=CaseResult(label, "(parse query)", "ERROR", error.location, [error.message], rule.path))
    from dac.workspace.environment import undeclared_names

    missing = undeclared_names(tree, suite.platform)
    if missing:  # what dac validate reports: the cases cannot run until the workspace declares it
        first = rule.query_location(missing[0].node.line, missing[0].node.column)
        details = [f"{rule.query_location(m.node.line, m.node.column)}: {m.message}" for m in missing]
        return PreparedRule(label, rule, suite, tree, problem=CaseResult(label, "(workspace)", "ERROR", first, details,
                                                                         rule.path))
    return PreparedRule(label, rule, suite, tree)


def run_rule(path: Path, limits: Limits | None = None) -> list[CaseResult]:
    prepared = prepare_rule(path)
    if prepared.problem is not None:
        return [prepared.problem]
    return [prepared.run(case, limits) for case in prepared.cases]


def _warm() -> None:
    """Load the test-file schema and both catalogs once, before workers fork."""
    from dac import catalog
    from dac.validate.schema import TESTS_SCHEMA, SchemaCheck

    SchemaCheck(TESTS_SCHEMA)
    for platform in catalog.PLATFORMS:
        catalog.known_tables(platform)


def run_tests(paths: list[str], progress: Callable[[int, int, Path], None] | None = None,
              jobs: int | None = None, limits: Limits | None = None) -> TestReport:
    """Run the cases of every rule under ``paths``; ``progress(done, total, path)`` is told as each rule finishes.

    Rules run on ``jobs`` processes (default: every core) when there are many of them;
    results keep the order of the files either way.
    """
    report = TestReport()
    files = discover_rule_files(paths)
    for number, results in enumerate(ordered_map(partial(run_rule, limits=limits), files, jobs, warm=_warm)):
        if progress is not None:
            progress(number, len(files), files[number])
        report.results.extend(results)
    return report
