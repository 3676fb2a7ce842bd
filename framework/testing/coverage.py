"""``dac test --coverage``: which parts of each ``where`` the test cases exercise both ways.

A predicate here is each conjunct and disjunct of a ``where`` that is itself neither
(the leaves of its and/or tree, looked through ``not()``). While a rule's cases run,
every ``where`` of the rule's query evaluates each of its predicates on every row that
reaches it, beside the real filtering (which is left as it is). A predicate is covered
when some row of some case made it true and some row made it false; null counts as
false, as ``where`` drops a row whose predicate is null. A predicate never made true
is a filter no case shows letting a row through; never made false, one no case shows
stopping a row: either way a mutation of it could go unnoticed.

Predicates are listed at the rule file's line and column. Only the rule's own query is
instrumented: a ``where`` inside a workspace function it calls is that function's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from dac.errors import Location
from dac.kql import KqlError, ast
from dac.kql import values as V
from dac.kql.evaluator import Evaluator
from dac.kql.scope import Scope
from dac.kql.extents import parse_with_extents
from dac.kql.table import Table
from dac.output.escape import printable
from dac.parallel import ordered_map
from dac.rules.model import discover_rule_files
from dac.testing.mutants import predicate_leaves
from dac.testing.ordering import result_order
from dac.testing.runner import _warm, prepare_rule, run_case


@dataclass
class PredicateCoverage:
    location: Location  # where the predicate's text starts, in the rule file
    text: str
    true: bool = False
    false: bool = False

    @property
    def covered(self) -> bool:
        return self.true and self.false

    def missing(self) -> str:
        if not (self.true or self.false):
            return "never evaluated (no case brings a row to its where)"
        return "never true" if not self.true else "never false"


@dataclass
class RuleCoverage:
    rule: str
    path: str
    predicates: list[PredicateCoverage] = field(default_factory=list)
    problem: str = ""

    @property
    def uncovered(self) -> list[PredicateCoverage]:
        return [predicate for predicate in self.predicates if not predicate.covered]


@dataclass
class CoverageReport:
    rules: list[RuleCoverage] = field(default_factory=list)

    @property
    def predicates(self) -> int:
        return sum(len(rule.predicates) for rule in self.rules)

    @property
    def uncovered(self) -> int:
        return sum(len(rule.uncovered) for rule in self.rules)

    def render(self) -> str:
        """Each uncovered predicate at file:line:col with what no case showed; then the totals."""
        lines = []
        for rule in self.rules:
            if rule.problem:
                lines.append(printable(f"coverage {rule.path}: {rule.rule}: not measured: {rule.problem}"))
            for predicate in rule.uncovered:
                lines.append(printable(f"uncovered {predicate.location}: {predicate.text}: {predicate.missing()}"))
        covered = self.predicates - self.uncovered
        lines.append(f"predicate coverage: {covered} of {self.predicates} where-predicate(s) made both true and "
                     f"false by some case, over {len(self.rules)} rule(s)")
        return "\n".join(lines)

    def to_json(self) -> dict:
        return {
            "predicates": self.predicates, "uncovered": self.uncovered,
            "rules": [{"rule": rule.rule, "file": rule.path, "problem": rule.problem or None,
                       "predicates": [{"file": p.location.path, "line": p.location.line or None,
                                       "column": p.location.column or None, "text": p.text, "true": p.true,
                                       "false": p.false, "covered": p.covered} for p in rule.predicates]}
                      for rule in self.rules],
        }


class _Record:
    """The predicates of each ``where`` of one query (by node identity) and the truth values seen."""

    def __init__(self, tree: ast.QueryBody) -> None:
        self.leaves: dict[int, list[ast.Expr]] = {}
        self.seen: dict[int, set[bool]] = {}
        for node in tree.walk():
            if isinstance(node, ast.Where):
                self.leaves[id(node)] = predicate_leaves(node.predicate)
                for leaf in self.leaves[id(node)]:
                    self.seen[id(leaf)] = set()

    def observe(self, evaluator: Evaluator, node: ast.Where, table: Table, scope: Scope) -> None:
        leaves = [leaf for leaf in self.leaves.get(id(node), ()) if len(self.seen[id(leaf)]) < 2]
        if not leaves or not table.rows:
            return
        compiler = evaluator.compiler(table, scope)
        for leaf in leaves:
            seen = self.seen[id(leaf)]
            try:
                fn = compiler.compile(leaf).fn
                for row in table.rows:
                    seen.add(V.to_bool(fn(row)) is True)
                    if len(seen) == 2:
                        break
            except KqlError:
                continue  # a predicate that fails alone (the where itself reports its errors)

    def evaluator(self) -> type[Evaluator]:
        record = self

        class Recording(Evaluator):
            """The evaluator, noting before each ``where`` filters what its predicates give on its rows."""

            def op_Where(self, node: ast.Where, table: Table, scope: Scope) -> Table:
                record.observe(self, node, table, scope)
                return super().op_Where(node, table, scope)

        return Recording


def cover_rule(path: Path) -> RuleCoverage:
    """The predicate coverage of the rule at ``path`` over its cases."""
    prepared = prepare_rule(path)
    rule, suite = prepared.rule, prepared.suite
    if rule is None or prepared.problem is not None:
        problem = prepared.problem
        detail = f"{problem.case}: {problem.details[0] if problem.details else ''}" if problem else "it does not load"
        return RuleCoverage(prepared.label, str(path), problem=detail)
    if suite is None or rule.query is None or not prepared.cases:
        return RuleCoverage(prepared.label, rule.path, problem="the rule has no query or no test cases")
    source = parse_with_extents(rule.query)
    record = _Record(source.tree)
    recording = record.evaluator()
    order = result_order(source.tree)
    for case in prepared.cases:
        run_case(rule, suite, case, source.tree, order, evaluator=recording)
    predicates = []
    for node in source.tree.walk():
        if isinstance(node, ast.Where):
            for leaf in record.leaves[id(node)]:
                span = source.extent(leaf)
                if span is None:
                    continue
                seen = record.seen[id(leaf)]
                where = rule.query_location(*source.position(span[0]))
                predicates.append(PredicateCoverage(where, " ".join(source.snippet(span).split()),
                                                    True in seen, False in seen))
    return RuleCoverage(prepared.label, rule.path, predicates)


def cover_rules(paths: list[str], jobs: int | None = None,
                progress: Callable[[int, int, Path], None] | None = None) -> CoverageReport:
    files = discover_rule_files(paths)
    report = CoverageReport()
    for number, rule in enumerate(ordered_map(cover_rule, files, jobs, warm=_warm)):
        if progress is not None:
            progress(number, len(files), files[number])
        report.rules.append(rule)
    return report
