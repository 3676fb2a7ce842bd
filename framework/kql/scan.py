"""The ``scan`` operator (https://learn.microsoft.com/kusto/query/scan-operator).

Kusto's scan keeps one state per step: the latest extended record of each step
up to it, plus the match id of the sequence it holds. Every input record is
tried against the steps from the last to the first:

* Check 1: the previous step's state is non-empty and the condition holds when
  evaluated with that state; the state moves up to this step (the previous one
  is cleared), the record is extended by the step's assignments, kept in the
  state and output.
* Check 2 (only without a check 1 match): this step has an active sequence or is
  the first step, and the condition holds with this step's own state; the
  record is extended, replaces this step's entry in the state and is output with
  ``output=all``. On the first step without an active sequence the match begins a
  new sequence, whose match id is one more than the last one (the docs' session
  example settles that a match on an active first step keeps its sequence).

Conditions and assignments see the current record's columns by name (declared
columns at their default) and a step's entry in the state as ``Step.Column``;
an entry the state lacks reads as null (a declared column as its default).
Assignments run in order, each seeing the ones before it, as in ``extend``.
``output=last`` outputs a step's record once its sequence leaves the step (moved
on by the next step, replaced by the previous step's, or at the end of the
input), which is where the docs' "last record in a series of repeating matches"
is known to be final.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from dac.kql import ast
from dac.kql import values as V
from dac.kql.compiled import Compiled, RUNTIME_FAILURES, runtime_error, semantic, unsupported
from dac.kql.expressions import ExpressionCompiler
from dac.kql.table import Table

if TYPE_CHECKING:
    from dac.kql.evaluator import Evaluator
    from dac.kql.scope import Scope

_NUMERIC = {"int", "long", "real", "decimal"}


class StepCompiler(ExpressionCompiler):
    """Compiles a step's expressions over ``current record + one block per step of the state``:
    ``Step.Column`` reads that step's block; everything else is an ordinary expression."""

    def __init__(self, evaluator: "Evaluator", record: list[tuple[str, str]], steps: list[str], scope: "Scope") -> None:
        super().__init__(evaluator, record, scope)
        self.width = len(record)
        self.blocks = {name: position for position, name in enumerate(steps)}

    def c_Member(self, expr: ast.Member) -> Compiled:
        target = expr.target
        if isinstance(target, ast.Name) and target.name in self.blocks and target.name not in self.index:
            position = self.index.get(expr.name)
            if position is None:
                raise semantic(expr, f"step '{target.name}' has no column '{expr.name}'")
            offset = self.width * (1 + self.blocks[target.name]) + position
            return Compiled(lambda row: row[offset], self.columns[position][1])
        return super().c_Member(expr)


@dataclass
class _Sequence:
    """One step's state: the match id and each step's latest extended record (None: no entry)."""

    match_id: int
    records: list[tuple | None]


@dataclass
class _Step:
    node: ast.ScanStep
    condition: Callable[[tuple], Any]
    assignments: list[tuple[int, Callable[[tuple], Any], str]]  # (position, value, target type)


def scan(evaluator: "Evaluator", node: ast.Scan, table: Table, scope: "Scope") -> Table:
    """Run ``node`` over ``table``'s rows in their order; returns the matched, extended records."""
    known = {name for name, _ in table.columns}
    declared: list[tuple[str, str]] = []
    for item in node.declarations:
        if item.name in known:
            raise unsupported(item, f"declared column '{item.name}' is already a column of the input")
        known.add(item.name)
        declared.append((item.name, V.normal_type(item.type)))
    if node.match_id is not None and node.match_id in known:
        raise unsupported(node, f"match id column '{node.match_id}' is already a column of the input")
    record = list(table.columns) + declared
    initial = tuple(_default(evaluator, item, kind, scope) for item, (_, kind) in zip(node.declarations, declared))
    names = [step.name for step in node.steps]
    for position, step in enumerate(node.steps):
        if step.name in names[:position]:
            raise semantic(step, f"step name '{step.name}' is used twice; step names must be unique")
    steps = [_compile_step(evaluator, step, record, names, scope) for step in node.steps]
    columns = record + ([(node.match_id, "long")] if node.match_id is not None else [])
    if evaluator.check:
        return Table(columns, [], True)
    missing = tuple(V.default_value(kind) for _, kind in table.columns) + initial
    return Table(columns, _run(steps, table.rows, initial, missing, node.match_id is not None), True)


def _default(evaluator: "Evaluator", item: ast.ScanDeclaration, kind: str, scope: "Scope") -> Any:
    if item.default is None:
        return V.default_value(kind)
    compiled = ExpressionCompiler(evaluator, [], scope).compile(item.default)
    return _converter(item, compiled.type, kind)(compiled.fn(()))


def _converter(node: ast.Node, source: str, target: str) -> Callable[[Any], Any]:
    """How a value of type ``source`` is stored in a column of type ``target``."""
    if source == target or source == "dynamic" and target == "dynamic":
        return lambda value: value
    if source in _NUMERIC and target in _NUMERIC:
        return lambda value: V.convert(value, target) if value is not None else None
    raise unsupported(node, f"a value of type {source} is assigned to a column of type {target}")


def _compile_step(evaluator: "Evaluator", step: ast.ScanStep, record: list[tuple[str, str]], names: list[str],
                  scope: "Scope") -> _Step:
    compiler = StepCompiler(evaluator, record, names, scope)
    index = {name: position for position, (name, _) in enumerate(record)}
    condition = compiler.compile(step.condition)
    if condition.type not in ("bool", "dynamic"):
        raise semantic(step.condition, f"a scan step's condition must be a bool, found {condition.type}")
    assignments = []
    for item in step.assignments:
        if len(item.names) != 1:
            raise semantic(item, "a scan assignment sets one column: Column = expression")
        target = item.names[0]
        if target not in index:
            raise semantic(item, f"'{target}' is neither a column of the input nor a declared column")
        compiled = compiler.compile(item.expr)
        kind = record[index[target]][1]
        convert = _converter(item, compiled.type, kind)
        assignments.append((index[target], lambda row, f=compiled.fn, c=convert: c(f(row)), kind))
    return _Step(step, condition.fn, assignments)


def _run(steps: list[_Step], rows: list[tuple], initial: tuple, missing: tuple, with_id: bool) -> list[tuple]:
    """The matching loop; ``initial`` holds the declared columns' defaults, ``missing`` a whole
    record as an absent state entry reads (null input columns, default declared ones)."""
    count = len(steps)
    empty = [None] * count
    state: list[_Sequence | None] = [None] * count
    pending: list[tuple | None] = [None] * count  # output=last: the step's latest record not yet output
    out: list[tuple] = []
    last_id = -1

    def blocks(sequence: _Sequence | None) -> tuple:
        records = sequence.records if sequence is not None else empty
        return tuple(value for entry in records for value in (entry if entry is not None else missing))

    def extended(step: _Step, row: tuple, sequence: _Sequence | None) -> tuple:
        current = list(row) + list(initial)
        context = blocks(sequence)
        for position, value, _ in step.assignments:
            current[position] = _evaluate(step.node, value, tuple(current) + context)
        return tuple(current)

    def emit(record: tuple, match_id: int) -> None:
        out.append(record + (match_id,) if with_id else record)

    def leave(k: int) -> None:
        """Step k's sequence ends: an output=last step outputs its latest record."""
        if pending[k] is not None:
            emit(*pending[k])
            pending[k] = None

    def matched(k: int, record: tuple, match_id: int) -> None:
        output = steps[k].node.output
        if output == "all":
            emit(record, match_id)
        elif output == "last":
            pending[k] = (record, match_id)

    for row in rows:
        for k in range(count - 1, -1, -1):
            step = steps[k]
            base = tuple(row) + initial
            previous = state[k - 1] if k > 0 else None
            if previous is not None and _holds(step, base + blocks(previous)):
                leave(k - 1)
                leave(k)
                state[k - 1] = None
                record = extended(step, row, previous)
                records = list(previous.records)
                records[k] = record
                state[k] = _Sequence(previous.match_id, records)
                matched(k, record, previous.match_id)
                continue
            own = state[k]
            if (own is not None or k == 0) and _holds(step, base + blocks(own)):
                record = extended(step, row, own)
                if own is None:  # the first step, without an active sequence: a new one begins
                    last_id += 1
                    records = [None] * count
                    records[0] = record
                    state[0] = _Sequence(last_id, records)
                else:
                    records = list(own.records)
                    records[k] = record
                    state[k] = _Sequence(own.match_id, records)
                matched(k, record, state[k].match_id)
    for k in range(count):
        leave(k)
    return out


def _holds(step: _Step, row: tuple) -> bool:
    return V.to_bool(_evaluate(step.node.condition, step.condition, row)) is True


def _evaluate(node: ast.Node, fn: Callable[[tuple], Any], row: tuple) -> Any:
    try:
        return fn(row)
    except RUNTIME_FAILURES as exc:
        raise runtime_error(node, "scan step", exc) from None
