"""The atomic predicates of a rule's filters, and which values of their column make each true or false.

An atom is a leaf of a ``where``'s and/or/not tree that reads one source column: a
comparison, a string operator, ``in``/``between``, ``isempty()`` and the like, with
constants on the other side (literals, ``ago(1d)``, a ``let``-bound value). Rather than
re-implement what each operator means, the generator proposes candidate values for the
column, built from the atom's constants (the constant itself, its case flipped, the term
inside a longer word, one unit or second either side, empty, null...), and asks the
evaluator what the atom gives on each: the truth table is Kusto's meaning as dac
evaluates it, the same meaning the generated cases are then checked against.

The same is asked of each mutant of the atom (the edits of :mod:`dac.testing.mutants`
that fall inside it), so the solver can choose, among the values that make an atom true
(false), one on which as many of its mutants as possible give the other answer.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from dac.generate.pipeline import Columns
from dac.kql import ast, evaluate
from dac.kql import values as V
from dac.kql.extents import SourceMap
from dac.kql.table import Table
from dac.testing.mutants import mutants

ROWS = "__dac_rows"  # the table of candidate rows an atom is evaluated over
VALUE = "__dac_value"
_SECOND = timedelta(seconds=1)
_COMBINED = 8  # a string column compared with more constants than this gets no combined candidates


@dataclass
class Atom:
    """One solvable leaf: its node, the source column it reads and the truth of it (and its mutants) per candidate."""

    node: ast.Expr
    text: str
    column: str
    start: int  # offset of its text in the query
    truth: list[bool | None] = field(default_factory=list)  # per candidate of the column's pool
    mutants: list[list[bool | None]] = field(default_factory=list)  # the same, for each mutant of the atom


@dataclass
class Unsolved:
    """A leaf the generator cannot make true and false at will, and why."""

    node: ast.Expr
    message: str


def column_references(leaf: ast.Expr, columns: Columns) -> tuple[set[str], list[str]]:
    """The source columns ``leaf`` reads (through computed ones) and the problems that keep it from being solved."""
    found: set[str] = set()
    problems: list[str] = []
    for node in leaf.walk():
        if isinstance(node, ast.Tabular):
            problems.append("compares with the result of a subquery")
        elif isinstance(node, (ast.Member, ast.Index)) and _reads_column(node.target, columns):
            problems.append("reads inside a dynamic value (dynamic parsing)")
        elif isinstance(node, ast.Name) and node.name in columns:
            sources = columns[node.name]
            if sources is None:
                problems.append(f"'{node.name}' is computed by an operator the generator does not follow")
            else:
                found |= sources
    return found, problems


def _reads_column(node: ast.Expr, columns: Columns) -> bool:
    return any(isinstance(inner, ast.Name) and inner.name in columns for inner in node.walk())


def constant_parts(leaf: ast.Expr, columns: Columns) -> list[ast.Expr]:
    """The largest sub-expressions of ``leaf`` that read no column: the constants it compares with."""
    parts, stack = [], [leaf]
    while stack:
        node = stack.pop()
        if not _reads_column(node, columns):
            if not isinstance(node, (ast.TypeName, ast.Star)):
                parts.append(node)
            continue
        stack.extend(reversed([child for child in node.children() if isinstance(child, ast.Expr)]))
    return parts


class Constants:
    """Evaluates constant expressions of the query with its scalar ``let``s in scope, at the test clock."""

    def __init__(self, source: SourceMap, lets: list[ast.Let], now: datetime) -> None:
        spans = [source.extent(let) for let in lets]
        self.prefix = "".join(source.snippet(span) + ";\n" for span in spans if span is not None)
        self.source, self.now = source, now

    def value(self, node: ast.Expr) -> tuple[bool, Any]:
        span = self.source.extent(node)
        if span is None:
            return False, None
        try:
            result = evaluate(f"{self.prefix}print v = {self.source.snippet(span)}", {}, now=self.now, as_table=True)
        except Exception:  # noqa: BLE001 - a constant dac cannot evaluate (or meets a bug on) gives no candidates
            return False, None
        return (True, result.rows[0][0]) if result.rows and len(result.columns) == 1 else (False, None)

    def truth(self, text: str, computing: str, column: str, columns: tuple[tuple[str, str], ...],
              pool: list[Any]) -> list[bool | None] | None:
        """What the predicate ``text`` gives on each value of ``pool`` in ``column`` (the other columns empty),
        after the operators ``computing`` (text, each from ``|``) made the columns it reads."""
        position = [name for name, _ in columns].index(column)
        blank = [V.default_value(kind) for _, kind in columns]
        rows = [tuple(blank[:position] + [value] + blank[position + 1:]) for value in pool]
        try:
            result = evaluate(f"{self.prefix}{ROWS}{computing} | project {VALUE} = ({text})",
                              {ROWS: Table(list(columns), rows)}, now=self.now, as_table=True)
        except Exception:  # noqa: BLE001 - the predicate is then not solved, and the note says so
            return None
        if len(result.rows) != len(pool):
            return None
        return [V.to_bool(value) for (value,) in result.rows]

    def replay(self, operators: list[ast.Operator]) -> str:
        """The text of ``operators``, each after a ``|``."""
        spans = [self.source.extent(operator) for operator in operators]
        return "".join(" | " + self.source.snippet(span) for span in spans if span is not None)


def atom_mutants(source: SourceMap, start: int, end: int) -> list[str]:
    """The text of the atom at ``start:end`` under each mutant whose edit falls inside it."""
    texts = []
    for mutant in mutants(source):
        edit = mutant.edit
        if start <= edit.start and edit.end <= end and (edit.start, edit.end) != (start, end):
            local = source.text[start:edit.start] + edit.replacement + source.text[edit.end:end]
            texts.append(local)
    return texts


def _string_variants(text: str) -> list[str]:
    """Values around a string constant: itself, other cases, the term inside longer words, parts of it."""
    out = [text, text.lower(), text.upper(), text.swapcase(), f"x{text}x", f"{text}x", f"x{text}",
           f"x {text} x", f"{text} x", f"x {text}"]
    if len(text) > 1:
        out += [text[:-1], text[1:]]
    return out


def _combinations(texts: list[str]) -> list[str]:
    """Values holding several constants at once (``has "a" and has "b"``), and all but one of them, with the
    one left out as its term inside a longer word: what makes one predicate on a column false and the others true."""
    if not 1 < len(texts) <= _COMBINED:
        return []
    out = [" ".join(texts)]
    for left_out in texts:
        others = " ".join(text for text in texts if text is not left_out)
        out += [others, f"{others} x{left_out}x", f"{others} {left_out.swapcase()}"]
    return out


def _number_variants(value: Any) -> list[Any]:
    if isinstance(value, bool):
        return []
    if isinstance(value, int):
        return [value, value + 1, value - 1, value + 2, value - 2, 0]
    if isinstance(value, (float, Decimal)):
        return [value, value + 1, value - 1, value + type(value)("0.5"), value - type(value)("0.5"), type(value)(0)]
    return []


def pool_for(type_name: str, constants: list[Any], neutral: Any) -> list[Any]:
    """Candidate values of a column of ``type_name``, ``neutral`` (an ordinary value) first, without repeats."""
    items: list[Any] = []
    for value in constants:
        items.extend(value if isinstance(value, list) else [value])
    pool: list[Any] = [neutral]
    if type_name == "string":
        texts = list(dict.fromkeys(str(v) for v in items if isinstance(v, (str, int, float)) and not isinstance(v, bool)))
        for text in texts:
            pool.extend(_string_variants(text))
        pool += _combinations(texts) + ["", "Other"]
    elif type_name in ("int", "long", "real", "decimal"):
        for value in items:
            if isinstance(value, str):
                try:
                    value = int(value)
                except ValueError:
                    continue
            pool.extend(_number_variants(value))
        pool += [0, None]
        if type_name in ("int", "long"):
            pool = [v for v in pool if v is None or isinstance(v, int)]
        else:
            pool = [v if v is None or type_name == "decimal" else float(v) for v in pool]
    elif type_name == "datetime":
        for value in items:
            if isinstance(value, datetime):
                pool += [value, value + _SECOND, value - _SECOND]
        pool.append(None)
    elif type_name == "timespan":
        for value in items:
            if isinstance(value, timedelta):
                pool += [value, value + _SECOND, value - _SECOND]
        pool += [timedelta(0), None]
    elif type_name == "bool":
        pool += [True, False, None]
    elif type_name == "guid":
        for value in items:
            try:
                pool.append(value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)))
            except ValueError:
                continue
        pool += [uuid.UUID("00000000-0000-4000-8000-000000000001"), None]
    else:  # dynamic: the constants as values, and in an array and a bag
        for value in items:
            if isinstance(value, (str, int, float)):
                pool += [value, [value], {"value": value}]
        pool += [[], None]
    unique: list[Any] = []
    for value in pool:
        if not any(type(value) is type(seen) and value == seen for seen in unique):
            unique.append(value)
    return unique
