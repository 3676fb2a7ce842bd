"""Rows that make a rule's filters true, and for each atom a near miss that fails because of it alone.

The ``where``s seen (:mod:`dac.generate.pipeline`) form one and/or/not formula over atoms
(:mod:`dac.generate.atoms`). For each atom the solver *sensitises* it: on the path from
the root down to it, each sibling of an ``and`` is made true and each sibling of an
``or`` false, so the atom alone decides the outcome. Its two rows share every
requirement but the atom's own truth: the *positive* row (the formula true) and the
*near miss* (false, because of that atom only). This is MC/DC's independence pair; it
is what a mutant dropping, negating or swapping the atom, or swapping the and/or above
it, is caught by. ``a or b`` is thereby tested with ``a`` true and ``b`` false and the
near miss of ``a`` has both false.

Requirements become values column by column: a column takes the first candidate of its
pool on which every atom reading it gives the required truth (exactly true or false,
never null, so ``not()`` above an atom means what it says). For the sensitised atom
the value is chosen among those to disagree with as many of the atom's mutants as
possible: ``has "Phish"`` is made true with ``PHISH`` (``has_cs`` says no) and false with
``xPhishx`` (``contains`` says yes). Positive rows that need the same truths are merged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Union

from dac.generate.atoms import Atom

_ALTERNATIVES = 6  # how many ways to satisfy a sub-formula are tried


@dataclass(frozen=True)
class And:
    parts: tuple["Formula", ...]


@dataclass(frozen=True)
class Or:
    parts: tuple["Formula", ...]


@dataclass(frozen=True)
class Not:
    part: "Formula"


@dataclass(frozen=True)
class Leaf:
    atom: int | None  # index into the atoms, None for a leaf the generator cannot control


Formula = Union[And, Or, Not, Leaf]
Requirements = dict[int, bool]


def _merge(a: Requirements, b: Requirements) -> Requirements | None:
    if any(a.get(key, value) != value for key, value in b.items()):
        return None
    return {**a, **b}


def _combine(options: list[list[Requirements]]) -> list[Requirements]:
    """Every requirement set taking one alternative from each list (at most ``_ALTERNATIVES`` of them)."""
    combined: list[Requirements] = [{}]
    for choices in options:
        combined = [merged for first in combined for second in choices
                    if (merged := _merge(first, second)) is not None][:_ALTERNATIVES]
    return combined


def make(formula: Formula, want: bool) -> list[Requirements]:
    """Ways to give ``formula`` the truth ``want``, by the atoms' truths; an uncontrolled leaf is left to chance."""
    if isinstance(formula, Leaf):
        return [{formula.atom: want}] if formula.atom is not None else [{}]
    if isinstance(formula, Not):
        return make(formula.part, not want)
    every = isinstance(formula, And) == want  # and-true, or-false: every part; else any one part
    if every:
        return _combine([make(part, want) for part in formula.parts])
    found: list[Requirements] = []
    for part in sorted(formula.parts, key=lambda p: isinstance(p, Leaf) and p.atom is None):
        found.extend(make(part, want))
    return found[:_ALTERNATIVES]


def sensitise(formula: Formula, atom: int) -> tuple[list[Requirements], bool] | None:
    """Requirements under which ``atom`` alone decides ``formula``, and the atom truth that makes it true."""
    if isinstance(formula, Leaf):
        return ([{}], True) if formula.atom == atom else None
    if isinstance(formula, Not):
        inner = sensitise(formula.part, atom)
        return (inner[0], not inner[1]) if inner else None
    for index, part in enumerate(formula.parts):
        inner = sensitise(part, atom)
        if inner is None:
            continue
        others = [make(other, isinstance(formula, And)) for n, other in enumerate(formula.parts) if n != index]
        return _combine([inner[0]] + others), inner[1]
    return None


@dataclass
class Pools:
    """Each predicate column's candidate values and the atoms that read it."""

    values: dict[str, list[Any]]
    atoms: list[Atom]

    def fits(self, column: str, index: int, requirements: Requirements) -> bool:
        """Whether candidate ``index`` of ``column`` gives every atom reading it its required truth."""
        return all(self.atoms[k].truth[index] is v for k, v in requirements.items() if self.atoms[k].column == column)

    def value(self, column: str, requirements: Requirements, focus: int | None, want: bool | None) -> int | None:
        """The index of a candidate of ``column`` meeting ``requirements``; for the ``focus`` atom the one
        most of its mutants disagree with (``want`` is the focus atom's truth), a null only when it does better."""
        pool = self.values[column]
        fits = [i for i in range(len(pool)) if self.fits(column, i, requirements)]
        if not fits:
            return None
        if focus is None or self.atoms[focus].column != column:
            return fits[0]
        mutants = self.atoms[focus].mutants
        return max(fits, key=lambda i: (pool[i] is not None, sum((m[i] is True) != want for m in mutants),
                                        -fits.index(i)))

    def cover(self, pair: "Pair", near: Requirements) -> None:
        """Add rows for the atom's mutants neither row of ``pair`` tells apart from it: another value of its
        column on which the mutant and the atom disagree (``between (1 .. 5)`` needs both bounds tested)."""
        atom, column = self.atoms[pair.atom], pair.column
        pool = self.values[column]

        def differs(mutant: list[bool | None], index: int) -> bool:
            return (mutant[index] is True) != (atom.truth[index] is True)

        chosen = [pair.positive[column], pair.near_miss[column]]
        for mutant in atom.mutants:
            if any(differs(mutant, index) for index in chosen):
                continue
            for requirements, row, more in ((pair.requirements, pair.positive, pair.more_positives),
                                            (near, pair.near_miss, pair.more_near_misses)):
                fits = [i for i in range(len(pool)) if self.fits(column, i, requirements) and differs(mutant, i)]
                if fits:
                    index = min(fits, key=lambda i: (pool[i] is None, i))
                    more.append({**row, column: index})
                    chosen.append(index)
                    break

    def row(self, requirements: Requirements, focus: int | None = None) -> dict[str, int] | None:
        """Candidate indexes by column for one row, or None when some column cannot meet its requirements."""
        want = requirements.get(focus) if focus is not None else None
        chosen = {}
        for column in self.values:
            index = self.value(column, requirements, focus, want)
            if index is None:
                return None
            chosen[column] = index
        return chosen


@dataclass
class Pair:
    """The positive row and the near miss of one atom (candidate indexes by column)."""

    atom: int
    column: str  # the atom's column, where the two rows differ
    positive: dict[str, int]
    near_miss: dict[str, int]
    requirements: Requirements
    more_positives: list[dict[str, int]] = field(default_factory=list)  # rows for mutants the pair misses
    more_near_misses: list[dict[str, int]] = field(default_factory=list)


def pair_for(formula: Formula, pools: Pools, atom: int) -> Pair | str:
    """The atom's pair, or why there is none."""
    found = sensitise(formula, atom)
    if found is None:
        return "the predicate is not part of the filters solved"
    contexts, truth = found
    if not contexts:
        return "the other predicates cannot be set so that this one alone decides the filter"
    for context in contexts:
        base = _merge(context, {atom: truth})
        near = _merge(context, {atom: not truth})
        if base is None or near is None:
            continue
        positive, miss = pools.row(base, atom), pools.row(near, atom)
        if positive is not None and miss is not None:
            pair = Pair(atom, pools.atoms[atom].column, positive, miss, base)
            pools.cover(pair, near)
            return pair
    column = pools.atoms[atom].column
    return f"no value of {column} found that makes this predicate {'true' if truth else 'false'} and then " \
           f"{'false' if truth else 'true'} while the other predicates keep theirs"


def merged_positives(pairs: list[Pair], pools: Pools) -> list[dict[str, int]]:
    """The positive rows of ``pairs``, as few as can be: pairs whose requirements agree share a row that
    keeps each one's chosen value of its own column."""
    groups: list[tuple[Requirements, dict[str, int]]] = []
    for pair in pairs:
        own = pair.positive[pair.column]
        for number, (requirements, pinned) in enumerate(groups):
            merged = _merge(requirements, pair.requirements)
            if merged is None or pinned.get(pair.column, own) != own:
                continue
            chosen = {**pinned, pair.column: own}
            if all(pools.fits(column, index, merged) for column, index in chosen.items()):
                groups[number] = (merged, chosen)
                break
        else:
            groups.append((pair.requirements, {pair.column: own}))
    rows: list[dict[str, int]] = []
    for requirements, pinned in groups:
        row = pools.row(requirements)
        if row is not None:
            row.update(pinned)
            rows.append(row)
    for pair in pairs:
        rows.extend(pair.more_positives)
    unique: list[dict[str, int]] = []
    for row in rows:
        if row not in unique:
            unique.append(row)
    return unique
