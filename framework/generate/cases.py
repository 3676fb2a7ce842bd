"""``dac fixtures --for RULE``: a test file generated from a rule's filters, its expectations computed.

The generator reads the filters of the query (:mod:`dac.generate.pipeline`), finds values
that make each atom true and false (:mod:`dac.generate.atoms`), and solves for one
positive row per way the filters can hold and one near miss per atom
(:mod:`dac.generate.solver`). The other columns the query names get ordinary values of
their type (:mod:`dac.fixtures`), shared through ``defaults:``. Each case is then run
through the evaluator and its result written as its expectation: the positive case
expects the rows the query returns; a near miss expects what it returns, usually
nothing (a near miss that changes nothing is left out and said so). Last, the written
text is loaded as a test file and every case run, so what is written passes as written.

What cannot be solved is said at the rule file's line and column: the first operator
the generator does not see through (``summarize``, ``join``, ``mv-expand``...), a
predicate on a computed column or inside a dynamic value, a near miss not found, a
positive case that returns no rows.
"""

from __future__ import annotations

import os
import random
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from dac import catalog
from dac.errors import DacError, Location
from dac.fixtures import column_generator
from dac.generate.atoms import Atom, Constants, atom_mutants, column_references, constant_parts, pool_for
from dac.generate.pipeline import Filter, NoSource, Plan, plan_query
from dac.generate.render import flow_row, key_text, value_text
from dac.generate.solver import And, Formula, Leaf, Not, Or, Pair, Pools, merged_positives, pair_for
from dac.kql import KqlError, ast, evaluate
from dac.kql.extents import SourceMap, parse_with_extents
from dac.kql.table import Table
from dac.rules.model import Rule
from dac.testing.clock import DEFAULT_NOW
from dac.testing.mutants import predicate_leaves

_WIDE = 12  # a result with more columns is compared on the columns the rows set
_TIME_COLUMNS = ("Timestamp", "TimeGenerated")


@dataclass
class Note:
    location: Location
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


@dataclass
class GeneratedTests:
    text: str
    notes: list[Note] = field(default_factory=list)
    positive_rows: int = 0  # rows the positive case returns
    near_misses: int = 0
    atoms: int = 0  # predicates solved


@dataclass
class _Case:
    name: str
    rows: list[dict[str, Any]]
    result: Table


class _Generator:
    def __init__(self, rule: Rule, now: datetime, seed: int) -> None:
        if rule.query is None:
            raise DacError("the rule has no query to generate cases for", rule.location())
        self.rule, self.now = rule, now
        try:
            self.source: SourceMap = parse_with_extents(rule.query)
        except KqlError as exc:
            raise DacError(exc.message, rule.query_location(exc.line, exc.column)) from None
        self.notes: list[Note] = []
        self.platform = self.binding_platform()
        self.rng = random.Random(seed)
        try:
            self.plan: Plan = plan_query(self.source.tree, self.platform)
        except NoSource as exc:
            raise DacError(f"cannot generate cases: {exc.message}", self.at(exc.node)) from None
        for obstacle in self.plan.obstacles:
            self.note(obstacle.node, obstacle.message)
        self.constants = Constants(self.source, self.plan.lets, now)
        self.atoms: list[Atom] = []

    def binding_platform(self) -> str:
        """The rule's first platform the query binds on, else another one it binds on (a Defender hunting
        query kept without ``platforms:``), said in a note; else the rule's first."""
        from dac.kql.binder import bind

        own = list(self.rule.platforms)
        for platform in own + [p for p in catalog.PLATFORMS if p not in own]:
            if not bind(self.source.tree, platform).errors:
                if platform not in own:
                    names = ", ".join(catalog.PLATFORMS[p] for p in own)
                    self.notes.append(Note(self.rule.location("query"), f"the query binds on "
                                           f"{catalog.PLATFORMS[platform]}, not on the rule's platforms ({names}): "
                                           f"the cases run on {catalog.PLATFORMS[platform]}"))
                return platform
        return own[0]

    # --- positions --------------------------------------------------------------------

    def at(self, node: ast.Node) -> Location:
        span = self.source.extent(node)
        if span is None:
            return self.rule.location("query")
        return self.rule.query_location(*self.source.position(span[0]))

    def note(self, node: ast.Node, message: str) -> None:
        self.notes.append(Note(self.at(node), message))

    def text(self, node: ast.Node) -> str:
        span = self.source.extent(node)
        return " ".join(self.source.snippet(span).split()) if span else ""

    # --- atoms ------------------------------------------------------------------------

    def formula(self) -> Formula:
        pending: list[tuple[ast.Expr, str, list[str], list[Any]]] = []
        leaves: dict[int, int | None] = {}
        for item in self.plan.filters:
            for leaf in predicate_leaves(item.node.predicate):
                leaves[id(leaf)] = self._classify(leaf, item, pending)
        self._solve_atoms(pending, leaves)
        return And(tuple(self._tree(item.node.predicate, leaves) for item in self.plan.filters))

    def _classify(self, leaf: ast.Expr, item: Filter, pending: list[tuple[ast.Expr, str, str, list[Any]]]) -> int | None:
        columns = item.columns
        found, problems = column_references(leaf, columns)
        if problems:
            self.note(leaf, f"{self.text(leaf)}: not solved: {problems[0]}")
            return None
        if not found:
            return None  # a constant predicate: every row sees the same value
        if len(found) > 1:
            self.note(leaf, f"{self.text(leaf)}: not solved: it relates columns {', '.join(sorted(found))}")
            return None
        column = found.pop()
        values = []
        for part in constant_parts(leaf, columns):
            ok, value = self.constants.value(part)
            if ok:
                values.append(value)
        pending.append((leaf, column, self.constants.replay(item.computing), values))
        return None  # _solve_atoms gives it its atom's index once it is solved

    def _solve_atoms(self, pending: list[tuple[ast.Expr, str, str, list[Any]]],
                     leaves: dict[int, int | None]) -> None:
        types = self.plan.types
        constants: dict[str, list[Any]] = {}
        for _, column, _, values in pending:
            constants.setdefault(column, []).extend(values)
        self.pools = Pools({column: pool_for(types[column], values, self.neutral(column))
                            for column, values in constants.items()}, self.atoms)
        for leaf, column, computing, _ in pending:
            span = self.source.extent(leaf)
            assert span is not None
            text = self.source.snippet(span)
            pool = self.pools.values[column]
            truth = self.constants.truth(text, computing, column, self.plan.columns, pool)
            if truth is None:
                self.note(leaf, f"{self.text(leaf)}: not solved: the evaluator cannot evaluate it on {column} alone")
                leaves[id(leaf)] = None
                continue
            if True not in truth or False not in truth:
                side = "true" if True not in truth else "false"
                why = f" (it parses the dynamic column {column}: dynamic parsing)" if types[column] == "dynamic" else ""
                self.note(leaf, f"{self.text(leaf)}: not solved: no value of {column} found that makes it {side}{why}")
                leaves[id(leaf)] = None
                continue
            mutants = [t for t in (self.constants.truth(m, computing, column, self.plan.columns, pool)
                                   for m in atom_mutants(self.source, *span)) if t is not None]
            self.atoms.append(Atom(leaf, text, column, span[0], truth, mutants))
            leaves[id(leaf)] = len(self.atoms) - 1

    def _tree(self, node: ast.Expr, leaves: dict[int, int | None]) -> Formula:
        if isinstance(node, ast.Binary) and node.op in ("and", "or"):
            kind = And if node.op == "and" else Or
            return kind((self._tree(node.left, leaves), self._tree(node.right, leaves)))
        if isinstance(node, ast.Call) and node.name == "not" and len(node.args) == 1:
            return Not(self._tree(node.args[0], leaves))
        return Leaf(leaves.get(id(node)))

    # --- values -----------------------------------------------------------------------

    def neutral(self, column: str) -> Any:
        """An ordinary value of ``column``, as dac fixtures makes them (its time column: five minutes ago)."""
        from dac.fixtures import _Row
        from dac.testing.convert import convert_value

        type_name = self.plan.types[column]
        if type_name == "datetime":
            return self.now - timedelta(minutes=5)
        generate = column_generator(self.plan.table, column, type_name, "00000000-0000-4000-8000-000000000000",
                                    self.now)
        raw = generate(self.rng, _Row(self.rng, self.now))
        try:
            return convert_value(raw, type_name, self.now, Location())
        except DacError:
            return None

    def fillers(self, predicate_columns: set[str]) -> dict[str, Any]:
        """Ordinary values for the source columns the query names that no predicate decides."""
        types = self.plan.types
        named = [node.name for node in self.source.tree.walk() if isinstance(node, ast.Name)]
        named += [c for c in _TIME_COLUMNS if c in types]
        return {name: self.neutral(name) for name in dict.fromkeys(named)
                if name in types and name not in predicate_columns}

    # --- cases ------------------------------------------------------------------------

    def run(self, rows: list[dict[str, Any]]) -> Table:
        from dac.workspace.environment import evaluation_tables

        columns = self.plan.columns
        table = Table(list(columns), [tuple(row.get(name) if name in row else _default(kind) for name, kind in columns)
                                      for row in rows])
        tables = evaluation_tables(self.source.tree, {self.plan.table: table}, self.platform)
        try:
            return evaluate(self.source.tree, tables, now=self.now, as_table=True)
        except KqlError as exc:
            where = self.rule.query_location(exc.line, exc.column) if exc.line else self.rule.location("query")
            raise DacError(f"cannot compute the expectations: the query fails on the generated rows: {exc.message}",
                           where) from None
        except Exception as exc:  # noqa: BLE001 - a bug of the evaluator met on these rows is reported, not raised
            if os.environ.get("DAC_DEBUG"):
                raise
            raise DacError(f"internal error: the evaluator failed on the generated rows: {type(exc).__name__}: {exc}; "
                           "this is a bug in dac, please report it", self.rule.location("query")) from None

    def generate(self) -> GeneratedTests:
        formula = self.formula()
        pairs: list[Pair] = []
        for index, atom in enumerate(self.atoms):
            found = pair_for(formula, self.pools, index)
            if isinstance(found, str):
                self.note(atom.node, f"{self.text(atom.node)}: no near miss: {found}")
            else:
                pairs.append(found)
        fillers = self.fillers(set(self.pools.values))
        positives = merged_positives(pairs, self.pools) or [{c: 0 for c in self.pools.values}]
        rows = [self.values(r) for r in positives]
        positive = self.run([{**fillers, **row} for row in rows])
        name = "every filter holds: reported"
        if not positive.rows:
            name = "every filter solved holds (the query returns no rows)"
            self.note(self.source.tree.result or self.source.tree, "the positive case returns no rows: the parts "
                      "not solved decide against it; its expectation says so")
        cases = [_Case(name, rows, positive)]
        names = {name}
        for pair in pairs:
            atom = self.atoms[pair.atom]
            base = self.values(pair.positive)
            for number, indexes in enumerate([pair.near_miss] + pair.more_near_misses):
                near = self.values(indexes)
                result = self.run([{**fillers, **near}])
                if _same(result, self.run([{**fillers, **base}])):
                    if not number:
                        self.note(atom.node, f"{self.text(atom.node)}: its near miss changes nothing the query "
                                             "returns (the parts not solved hide it); left out")
                    continue
                truth = atom.truth[indexes[atom.column]]
                label = f"near miss: {self.text(atom.node)} is {'true' if truth else 'false'}"
                if number:
                    label += f" ({atom.column} {value_text(near[atom.column], self.now)})"
                if label in names:
                    label += f" (at {self.at(atom.node)})"
                names.add(label)
                cases.append(_Case(label, [near], result))
        text = self.render(cases, fillers)
        generated = GeneratedTests(text, self.notes, len(positive.rows), len(cases) - 1, len(self.atoms))
        self.verify(generated)
        return generated

    def values(self, indexes: dict[str, int]) -> dict[str, Any]:
        return {column: self.pools.values[column][index] for column, index in indexes.items()}

    # --- text -------------------------------------------------------------------------

    def render(self, cases: list[_Case], fillers: dict[str, Any]) -> str:
        stated = set(fillers) | set(self.pools.values)
        source = Path(self.rule.path).name
        out = [f"# Generated by `dac fixtures --for {source}` from the query's filters: one case the query",
               "# reports and one near miss per predicate (a row failing that predicate alone). The expectations",
               "# were computed by dac's evaluator: review them, then edit this file as your own."]
        if self.notes:
            out.append("# Not solved:")
            out += [f"#   {note.location.line}:{note.location.column}: {_one_line(note.message)}" for note in self.notes]
        out += [f"platform: {catalog.PLATFORMS[self.platform]}", f"now: {self.now.strftime('%Y-%m-%dT%H:%M:%SZ')}"]
        if fillers:
            out += ["defaults:", f"  {key_text(self.plan.table)}: {flow_row(fillers, self.now)}"]
        out.append("cases:")
        for case in cases:
            out += [f"  - name: {_quoted(case.name)}", "    tables:", f"      {key_text(self.plan.table)}:"]
            out += [f"        - {flow_row(row, self.now)}" for row in case.rows]
            out += self.expectation(case.result, stated)
        return "\n".join(out) + "\n"

    def expectation(self, result: Table, stated: set[str]) -> list[str]:
        names = result.names
        if not result.rows:
            return ["    count: 0"]
        if len(names) > _WIDE:
            names = [name for name in names if name in stated]
            if not names:
                return [f"    count: {len(result.rows)}"]
            out = ["    columns: [" + ", ".join(key_text(n) for n in names) + "]"]
        else:
            out = []
        index = result.index()
        out.append("    expect:")
        out += [f"      - {flow_row({n: row[index[n]] for n in names}, self.now)}" for row in result.rows]
        return out

    def verify(self, generated: GeneratedTests) -> None:
        """Load the text as the rule's test file and run every case: what is written must pass as written."""
        from dac.testing.cases import load_test_suite
        from dac.testing.runner import run_case

        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "generated.tests.yaml"
            path.write_text(generated.text, encoding="utf-8")
            suite = load_test_suite(self.rule, path)
            assert suite is not None
            for case in suite.cases:
                result = run_case(self.rule, suite, case, self.source.tree)
                if result.status != "PASS":
                    raise DacError(f"internal error: generated case {case.name!r} does not pass as written: "
                                   f"{'; '.join(result.details)}; this is a bug in dac, please report it",
                                   self.rule.location("query"))


def _default(type_name: str) -> Any:
    from dac.kql import values as V

    return V.default_value(type_name)


def _same(a: Table, b: Table) -> bool:
    return a.columns == b.columns and sorted(map(repr, a.rows)) == sorted(map(repr, b.rows))


def _quoted(text: str) -> str:
    import json

    return json.dumps(text, ensure_ascii=False)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def generate_tests(rule: Rule, now: datetime | None = None, seed: int = 0) -> GeneratedTests:
    """The generated test file of ``rule`` and what could not be solved."""
    return _Generator(rule, now or DEFAULT_NOW, seed).generate()
