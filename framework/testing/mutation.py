"""``dac test --mutate``: how many planted faults a rule's test cases notice.

For each rule whose cases all pass, every mutant of its query (:mod:`dac.testing.mutants`)
is run through the same cases. A mutant is

* **killed** when some case fails or errs on it (the first such case is named);
* **invalid** when its text no longer parses or binds on the rule's platform (a
  binding error the original query does not have): Kusto would refuse it, so it
  says nothing about the tests;
* **equivalent** only when that is shown: the edited expression is made of constants
  alone and gives the same value before and after;
* **survived (possibly equivalent)** otherwise. dac cannot tell in general whether a
  surviving mutant means the same query, so a survivor counts against the score.

The score of a rule is killed / (killed + survived). Mutants run on the query text
with one edit, parsed again, so the line and column a survivor is shown at are the
rule file's and the diff is exactly what ran.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from dac.errors import DacError, Location
from dac.kql import KqlError, ast, evaluate, parse
from dac.kql.extents import SourceMap, parse_with_extents
from dac.output.escape import printable
from dac.parallel import ordered_map
from dac.rules.model import discover_rule_files
from dac.testing.mutants import Mutant, mutants
from dac.testing.ordering import result_order
from dac.testing.runner import PreparedRule, _warm, prepare_rule, run_case

KILLED, SURVIVED, EQUIVALENT, INVALID = "killed", "survived", "equivalent", "invalid"
STATUSES = (KILLED, SURVIVED, EQUIVALENT, INVALID)
# operators whose edit keeps the operands: an expression of constants alone can be compared before and after
_SWAPS = frozenset({"comparison", "string-operator", "in-list", "logical"})
_DIFF_WIDTH = 100


@dataclass
class MutantOutcome:
    operator: str
    description: str
    status: str  # one of STATUSES
    location: Location  # where the edit starts, in the rule file
    diff: str  # the query line with the edit marked: ``| where X [-has-]{+contains+} "y"``
    reason: str = ""  # the killing case, why it is invalid, or why it is equivalent

    def label(self) -> str:
        return "survived (possibly equivalent)" if self.status == SURVIVED else self.status


@dataclass
class RuleMutation:
    """The mutants of one rule and what became of them; ``problem`` says why it was not scored."""

    rule: str
    path: str
    outcomes: list[MutantOutcome] = field(default_factory=list)
    problem: str = ""

    def count(self, status: str) -> int:
        return sum(1 for outcome in self.outcomes if outcome.status == status)

    @property
    def score(self) -> float | None:
        """killed / (killed + survived); None when nothing could be scored."""
        judged = self.count(KILLED) + self.count(SURVIVED)
        return self.count(KILLED) / judged if judged and not self.problem else None


@dataclass
class MutationReport:
    rules: list[RuleMutation] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def mutants(self) -> int:
        return sum(len(rule.outcomes) for rule in self.rules)

    def count(self, status: str) -> int:
        return sum(rule.count(status) for rule in self.rules)

    @property
    def score(self) -> float | None:
        judged = sum(rule.count(KILLED) + rule.count(SURVIVED) for rule in self.rules if rule.score is not None)
        killed = sum(rule.count(KILLED) for rule in self.rules if rule.score is not None)
        return killed / judged if judged else None

    def below(self, minimum: float | None) -> list[RuleMutation]:
        """The rules scoring under ``minimum`` (a rule with nothing to score is not below it)."""
        if minimum is None:
            return []
        return [rule for rule in self.rules if rule.score is not None and rule.score < minimum]

    def render(self, minimum: float | None = None, verbose: bool = False) -> str:
        """Per rule its counts and score, each survivor at file:line:col with its one-line diff; then the totals."""
        lines = []
        for rule in self.rules:
            head = printable(f"mutation {rule.path}: {rule.rule}: ")
            if rule.problem:
                lines.append(head + f"not scored: {printable(rule.problem)}")
                continue
            lines.append(head + _counts(rule) + (f", score {_percent(rule.score)}" if rule.score is not None else ""))
            for outcome in rule.outcomes:
                if outcome.status == SURVIVED or verbose:
                    reason = f" ({outcome.reason})" if outcome.reason and outcome.status != SURVIVED else ""
                    lines.append(printable(f"  {outcome.label()} {outcome.location}: {outcome.description}{reason}"))
                    lines.append("      " + printable(outcome.diff))
        rate = self.mutants / self.seconds if self.seconds else 0.0
        total = f"mutation score {_percent(self.score)}" if self.score is not None else "no mutation score"
        lines.append(f"{total}: {self.count(KILLED)} killed, {self.count(SURVIVED)} survived, "
                     f"{self.count(EQUIVALENT)} equivalent, {self.count(INVALID)} invalid; "
                     f"{self.mutants} mutants in {self.seconds:.2f}s ({rate:.0f}/s)")
        for rule in self.below(minimum):
            lines.append(printable(f"{rule.path}: {rule.rule}: mutation score {_percent(rule.score)} is below the "
                                   f"minimum {_percent(minimum)}"))
        return "\n".join(lines)

    def to_json(self, minimum: float | None = None) -> dict:
        below = {id(rule) for rule in self.below(minimum)}
        return {
            "score": self.score, "min_score": minimum, "mutants": self.mutants, "seconds": round(self.seconds, 3),
            **{status: self.count(status) for status in STATUSES},
            "rules": [{
                "rule": rule.rule, "file": rule.path, "score": rule.score, "problem": rule.problem or None,
                "below_min": id(rule) in below, **{status: rule.count(status) for status in STATUSES},
                "mutants": [{"status": o.status, "operator": o.operator, "description": o.description,
                             "file": o.location.path, "line": o.location.line or None,
                             "column": o.location.column or None, "diff": o.diff, "reason": o.reason}
                            for o in rule.outcomes],
            } for rule in self.rules],
        }


def _counts(rule: RuleMutation) -> str:
    return ", ".join(f"{rule.count(status)} {status}" for status in STATUSES)


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def mutate_rule(path: Path) -> RuleMutation:
    """Every mutant of the rule at ``path``, run through its cases."""
    prepared = prepare_rule(path)
    label = prepared.label
    if prepared.rule is None or prepared.problem is not None:
        problem = prepared.problem
        return RuleMutation(label, str(path), problem=f"{problem.case}: {problem.details[0] if problem.details else ''}"
                            if problem else "the rule does not load")
    if prepared.suite is None or not prepared.cases:
        return RuleMutation(label, prepared.rule.path, problem="the rule has no query or no test cases")
    failing = [result.case for result in map(prepared.run, prepared.cases) if result.status != "PASS"]
    if failing:
        return RuleMutation(label, prepared.rule.path,
                            problem=f"{len(failing)} case(s) fail on the query itself (first: {failing[0]!r}); "
                                    "mutants are run against a passing suite")
    return RuleMutation(label, prepared.rule.path, list(_outcomes(prepared)))


def _outcomes(prepared: PreparedRule) -> Iterator[MutantOutcome]:
    from dac.kql.binder import bind

    rule, suite = prepared.rule, prepared.suite
    assert rule is not None and suite is not None and rule.query is not None
    source = parse_with_extents(rule.query)
    known = {error.message for error in bind(prepared.tree, suite.platform).errors}
    cases = list(prepared.cases)
    for mutant in mutants(source):
        line, column = source.position(mutant.edit.start)
        where = rule.query_location(line, column)
        status, reason = _judge(mutant, source, suite.platform, known, prepared, cases)
        yield MutantOutcome(mutant.operator, mutant.description, status, where, one_line_diff(source.text, mutant),
                            reason)


def _judge(mutant: Mutant, source: SourceMap, platform: str, known: set[str], prepared: PreparedRule,
           cases: list) -> tuple[str, str]:
    """The mutant's status and its reason; ``cases`` is reordered so the last killer runs first next time."""
    from dac.kql.binder import bind

    try:
        tree = parse(mutant.text)
    except KqlError as exc:
        return INVALID, f"does not parse: {exc.message}"
    new = [error for error in bind(tree, platform).errors if error.message not in known]
    if new:
        return INVALID, f"does not bind: {new[0].message}"
    order = result_order(tree)
    assert prepared.rule is not None and prepared.suite is not None
    for index, case in enumerate(cases):
        result = run_case(prepared.rule, prepared.suite, case, tree, order)
        if result.internal:
            return INVALID, f"dac met an internal error on case {case.name!r}: {result.details[0]}"
        if result.status != "PASS":
            cases.insert(0, cases.pop(index))
            verb = "fails" if result.status == "FAIL" else "errs"
            return KILLED, f"case {case.name!r} {verb}"
    if mutant.operator in _SWAPS and _same_constant(mutant, source):
        return EQUIVALENT, "the expression is made of constants and keeps its value"
    return SURVIVED, ""


def _same_constant(mutant: Mutant, source: SourceMap) -> bool:
    """Whether the edited expression holds only literals and gives the same value and type after the edit."""
    node = mutant.node
    if not all(isinstance(inner, ast.Literal) for inner in node.walk() if inner is not node):
        return False
    span = source.extent(node)
    if span is None:
        return False
    edit = mutant.edit
    before = source.snippet(span)
    after = source.text[span[0]:edit.start] + edit.replacement + source.text[edit.end:span[1]]
    try:
        old, new = (evaluate(f"print v = {text}", {}, as_table=True) for text in (before, after))
    except KqlError:
        return False
    return old.columns == new.columns and old.rows == new.rows


def one_line_diff(text: str, mutant: Mutant, width: int = _DIFF_WIDTH) -> str:
    """The query line where the edit starts, the removed text in ``[-...-]`` and the added in ``{+...+}``.

    An edit spanning lines shows its text on the one line, its line breaks as spaces.
    """
    edit = mutant.edit
    start = text.rfind("\n", 0, edit.start) + 1
    end = text.find("\n", edit.end)
    end = len(text) if end < 0 else end
    removed, added = text[edit.start:edit.end], edit.replacement
    marked = (text[start:edit.start] + (f"[-{_flat(removed)}-]" if removed else "")
              + (f"{{+{_flat(added)}+}}" if added else "") + text[edit.end:end])
    marked = marked.strip()
    return marked if len(marked) <= width else marked[:width - 3] + "..."


def _flat(text: str) -> str:
    return " ".join(text.split()) if "\n" in text else text


def mutate_rules(paths: list[str], jobs: int | None = None,
                 progress: Callable[[int, int, Path], None] | None = None) -> MutationReport:
    """The mutation analysis of every rule under ``paths``, rules spread over ``jobs`` processes."""
    files = discover_rule_files(paths)
    report = MutationReport()
    started = time.perf_counter()
    # one rule's mutants are many evaluations: worth a worker from a handful of rules on
    for number, rule in enumerate(ordered_map(mutate_rule, files, jobs, min_items=4, warm=_warm)):
        if progress is not None:
            progress(number, len(files), files[number])
        report.rules.append(rule)
    report.seconds = time.perf_counter() - started
    return report


def parse_min_score(value: object, where: Location, key: str = "min-mutation-score") -> float:
    """A minimum score: a fraction 0..1 (``0.8``) or a percentage (``"80%"``), from settings or the command line."""
    if isinstance(value, str):
        text = value.strip()
        try:
            number = float(text[:-1]) / 100 if text.endswith("%") else float(text)
        except ValueError:
            number = -1.0
        if number != number:  # nan
            number = -1.0
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
    else:
        number = -1.0
    if not 0.0 <= number <= 1.0:
        raise DacError(f"{key}: expected a fraction from 0 to 1 (0.8) or a percentage (\"80%\"), found {value!r}",
                       where)
    return number
