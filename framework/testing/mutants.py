"""Mutation operators: small, deliberate faults planted in a rule's query.

Each operator looks at one syntax-tree node and proposes text edits of the query
(swap ``has`` for ``contains``, drop a ``where``, move a constant by one unit...).
A mutant is the query with one edit applied, so what is run is exactly what is
shown: the edited text is parsed again, and a mutant that no longer parses or
binds is *invalid*, not killed. Edits keep every other byte of the query, so a
mutant's line and column are those of the rule file (see ``Rule.query_location``).

The set follows issue 17 (and pySigma's habit of one small class per
transformation); operators are listed in ``OPERATORS`` in the order they run.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass

from dac.kql import ast
from dac.kql.extents import SourceMap


@dataclass(frozen=True)
class Edit:
    """Replace ``text[start:end]`` of the query by ``replacement``."""

    start: int
    end: int
    replacement: str


@dataclass(frozen=True)
class Mutant:
    operator: str  # the operator's name, e.g. "string-operator"
    description: str  # short, e.g. "has -> contains"
    edit: Edit
    node: ast.Node  # the node of the original tree the edit rewrites
    text: str  # the mutated query


class MutationOperator(ABC):
    """Proposes edits for the nodes it knows; ``name`` identifies it in reports."""

    name = ""

    @abstractmethod
    def edits(self, node: ast.Node, source: SourceMap) -> Iterator[tuple[Edit, str]]:
        """(edit, short description) for each mutant of ``node``; nothing for a node of another kind."""


def _operator_span(node: ast.Node, op: str, source: SourceMap) -> tuple[int, int] | None:
    """The span of the operator word(s) of a binary/list node: ``!has``, ``in~``, ``<>`` take 1-3 tokens."""
    own = source.own_start(node)
    if own is None:
        return None
    index = source.token_index(own)
    tokens = source.tokens
    wanted = {op, "<>" if op == "!=" else op}
    text = ""
    for count in range(min(3, len(tokens) - index)):
        text += tokens[index + count].text
        if text in wanted:
            return tokens[index].offset, tokens[index + count].end
    return None


class _SwapOperator(MutationOperator):
    """Replaces the operator of a Binary or InList node by each alternative in ``SWAPS``."""

    SWAPS: dict[str, tuple[str, ...]] = {}
    kinds: tuple[type, ...] = (ast.Binary,)

    def edits(self, node: ast.Node, source: SourceMap) -> Iterator[tuple[Edit, str]]:
        if not isinstance(node, self.kinds) or node.op not in self.SWAPS:
            return
        span = _operator_span(node, node.op, source)
        if span is None:
            return
        for other in self.SWAPS[node.op]:
            # a word operator after a symbol needs no space (`x!in(...)` is rare); keep the layout
            yield Edit(span[0], span[1], other), f"{node.op} -> {other}"


class ComparisonSwap(_SwapOperator):
    """``==``/``!=``, ``=~``/``==``, ``>``/``>=``/``<``: equality, case and boundary faults."""

    name = "comparison"
    SWAPS = {
        "==": ("!=", "=~"), "!=": ("==", "!~"), "=~": ("==", "!~"), "!~": ("=~", "!="),
        ">": (">=", "<"), ">=": (">", "<="), "<": ("<=", ">"), "<=": ("<", ">="),
    }


class StringOperatorSwap(_SwapOperator):
    """``has``/``contains``/``has_cs``, ``startswith``/``contains`` and their negations: term, substring, case."""

    name = "string-operator"
    SWAPS = {
        "has": ("contains", "has_cs"), "contains": ("has", "startswith"), "has_cs": ("has",),
        "startswith": ("contains",),
        "!has": ("!contains", "!has_cs"), "!contains": ("!has", "!startswith"), "!has_cs": ("!has",),
        "!startswith": ("!contains",),
    }


class ListSwap(_SwapOperator):
    """``in``/``!in``, ``in~``/``!in~``: a list membership turned around."""

    name = "in-list"
    kinds = (ast.InList,)
    SWAPS = {"in": ("!in",), "!in": ("in",), "in~": ("!in~",), "!in~": ("in~",)}


class LogicalSwap(_SwapOperator):
    """``and``/``or``."""

    name = "logical"
    SWAPS = {"and": ("or",), "or": ("and",)}


class DropOperand(MutationOperator):
    """One conjunct or disjunct dropped: ``a and b and c`` becomes ``a and c`` (and ``b and c``, ``a and b``).

    A chain of one operator is read whole, so each of its operands is dropped on its own;
    a parenthesised group is one operand of the chain around it and a chain of its own.
    """

    name = "drop-operand"

    def edits(self, node: ast.Node, source: SourceMap) -> Iterator[tuple[Edit, str]]:
        if not isinstance(node, ast.Binary) or node.op not in ("and", "or") or _in_chain(node, source):
            return
        operands = [source.padded(operand) for operand in _chain(node, source)]
        if any(span is None for span in operands):
            return
        word = "conjunct" if node.op == "and" else "disjunct"
        for number, span in enumerate(operands):
            assert span is not None
            if number + 1 < len(operands):
                start, end = span[0], operands[number + 1][0]  # type: ignore[index]
            else:
                start, end = operands[number - 1][1], span[1]  # type: ignore[index]
            yield Edit(start, end, ""), f"drop {word} {_short(source.snippet(span))}"


def _unparenthesised(node: ast.Node, source: SourceMap) -> bool:
    return source.padded(node) == source.extent(node)


def _in_chain(node: ast.Binary, source: SourceMap) -> bool:
    """Whether ``node`` is an inner link of a longer chain of its operator (its parent reads it whole)."""
    parent = source.parent(node)
    return isinstance(parent, ast.Binary) and parent.op == node.op and _unparenthesised(node, source)


def _chain(node: ast.Binary, source: SourceMap) -> list[ast.Expr]:
    """The operands of the chain of ``node.op`` rooted at ``node``, in text order."""
    operands, stack = [], [node.right, node.left]
    while stack:
        part = stack.pop()
        if isinstance(part, ast.Binary) and part.op == node.op and _unparenthesised(part, source):
            stack.extend((part.right, part.left))
        else:
            operands.append(part)
    return operands


class DropWhere(MutationOperator):
    """A whole ``| where`` dropped."""

    name = "drop-where"

    def edits(self, node: ast.Node, source: SourceMap) -> Iterator[tuple[Edit, str]]:
        if not isinstance(node, ast.Where):
            return
        span = source.extent(node)
        if span is None:
            return
        index = source.token_index(span[0])
        if index == 0 or not source.tokens[index - 1].is_op("|"):
            return
        yield Edit(source.tokens[index - 1].offset, span[1], ""), f"drop {_short(source.snippet(span))}"


class DropSummarizeKey(MutationOperator):
    """One ``summarize ... by`` key dropped (the ``by`` too when it is the only one)."""

    name = "drop-by-key"

    def edits(self, node: ast.Node, source: SourceMap) -> Iterator[tuple[Edit, str]]:
        if not isinstance(node, ast.Summarize) or not node.by:
            return
        spans = [source.extent(key) for key in node.by]
        if any(span is None for span in spans):
            return
        for number, span in enumerate(spans):
            assert span is not None
            if len(spans) == 1:
                by = source.token_index(span[0]) - 1
                start, end = source.tokens[by].offset, span[1]
            elif number + 1 < len(spans):
                start, end = span[0], spans[number + 1][0]  # type: ignore[index]
            else:
                start, end = spans[number - 1][1], span[1]  # type: ignore[index]
            yield Edit(start, end, ""), f"drop by key {_short(source.snippet(span))}"


class NegatePredicate(MutationOperator):
    """``not()`` put around a ``where`` predicate, and around each of its conjuncts and disjuncts."""

    name = "not"

    def edits(self, node: ast.Node, source: SourceMap) -> Iterator[tuple[Edit, str]]:
        if not isinstance(node, ast.Where):
            return
        parts = [node.predicate] + [leaf for leaf in predicate_leaves(node.predicate) if leaf is not node.predicate]
        for part in parts:
            span = source.extent(part)
            if span is not None:
                text = source.snippet(span)
                yield Edit(span[0], span[1], f"not({text})"), f"not({_short(text)})"


_NUMBER = re.compile(r"^(-?)\s*(\d+(?:\.\d+)?)([A-Za-z]*)$")


class ShiftConstant(MutationOperator):
    """A number or timespan literal moved by one unit up and down: ``5`` to 6 and 4, ``1h`` to 2h and 0h."""

    name = "constant"

    def edits(self, node: ast.Node, source: SourceMap) -> Iterator[tuple[Edit, str]]:
        if not isinstance(node, ast.Literal) or node.type not in ("int", "long", "real", "timespan"):
            return
        span = source.extent(node)
        if span is None:
            return
        text = source.snippet(span)
        match = _NUMBER.match(text)
        if match is None or (node.type == "timespan") != bool(match.group(3)):
            return
        sign, digits, unit = match.groups()
        value = (-1 if sign else 1) * (float(digits) if "." in digits else int(digits))
        for moved in (value + 1, value - 1):
            if unit and moved < 0:
                continue  # a negative duration is another kind of fault than "one unit more or less"
            number = repr(round(moved, 10)) if isinstance(moved, float) else str(moved)
            yield Edit(span[0], span[1], number + unit), f"{text} -> {number}{unit}"


OPERATORS: tuple[MutationOperator, ...] = (
    ComparisonSwap(), StringOperatorSwap(), ListSwap(), LogicalSwap(), DropOperand(), DropWhere(),
    DropSummarizeKey(), NegatePredicate(), ShiftConstant(),
)


def predicate_leaves(predicate: ast.Expr) -> list[ast.Expr]:
    """The conjuncts and disjuncts of a predicate that are themselves neither: the leaves of its and/or tree.

    ``not(...)`` is looked through, since its operand's parts are still parts of the predicate.
    """
    leaves, stack = [], [predicate]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Binary) and node.op in ("and", "or"):
            stack.extend((node.right, node.left))
        elif isinstance(node, ast.Call) and node.name == "not" and len(node.args) == 1:
            stack.append(node.args[0])
        else:
            leaves.append(node)
    return leaves


def mutants(source: SourceMap) -> list[Mutant]:
    """Every distinct mutant of the query, in text order; an edit that changes nothing is left out."""
    found: dict[str, Mutant] = {}
    for node in source.tree.walk():
        for operator in OPERATORS:
            for edit, description in operator.edits(node, source):
                text = source.text[:edit.start] + edit.replacement + source.text[edit.end:]
                if text != source.text and text not in found:
                    found[text] = Mutant(operator.name, description, edit, node, text)
    return sorted(found.values(), key=lambda m: (m.edit.start, m.edit.end))


def _short(text: str, width: int = 40) -> str:
    """One line of at most ``width`` characters, for descriptions."""
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[:width - 3] + "..."
