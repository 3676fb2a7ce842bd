"""Every Kusto built-in, decided: the evaluator runs it, or refuses it and says why.

Kusto's names come from two catalogs: ``schemas/kusto_functions.json`` (scalar functions,
aggregates and plugins, read off the official language service) and
``schemas/kusto_operators.json`` (the tabular operators the documentation lists). What the
evaluator implements is not listed here a second time: it is read from the registries that
do the work (the scalar function table, the special forms the expression compiler builds,
the aggregates, the plugins and the parser's operators), so the two cannot drift apart.
Everything else is refused, from ``refusals.yaml``, with a reason a detection engineer can
act on: a wrong answer is worse than a refusal, and a refusal that says "unknown" or
"not supported" leaves the engineer guessing whether the query or dac is at fault.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files

import yaml

from dac import resources
from dac.kql import ast
from dac.kql.errors import KqlUnsupportedError

KINDS = ("scalar", "aggregate", "plugin", "operator")
LABELS = {"scalar": "function '{}()'", "aggregate": "aggregate function '{}()'", "plugin": "plugin '{}'",
          "operator": "query operator '{}'"}


@dataclass(frozen=True)
class Refusal:
    """Why one built-in cannot run in dac: its category and a one-line reason."""

    name: str
    kind: str
    category: str
    reason: str

    def message(self) -> str:
        label = LABELS[self.kind].format(self.name)
        return f"{label} cannot be evaluated by dac ({self.category}): {self.reason}; " \
               "a query that uses it cannot be unit-tested offline"

    def error(self, node: ast.Node) -> KqlUnsupportedError:
        return KqlUnsupportedError(self.message(), node.line, node.column)


@lru_cache(maxsize=1)
def _document() -> dict:
    return yaml.safe_load(files("dac.kql").joinpath("refusals.yaml").read_text(encoding="utf-8"))


def categories() -> dict[str, str]:
    """Each refusal category and what it means (the README's legend)."""
    return {name: spec["meaning"] for name, spec in _document()["categories"].items()}


@lru_cache(maxsize=1)
def refusals() -> dict[tuple[str, str], Refusal]:
    """(kind, name) -> refusal, for every built-in the evaluator refuses."""
    document = _document()
    known = categories()
    out: dict[tuple[str, str], Refusal] = {}
    for kind in KINDS:
        for name, entry in (document.get(kind) or {}).items():
            category, reason = (entry, None) if isinstance(entry, str) else (entry["category"], entry.get("reason"))
            if category not in known:
                raise ValueError(f"refusals.yaml: {kind} '{name}' has the unknown category '{category}'")
            reason = reason or document["categories"][category].get("reason")
            if not reason:
                raise ValueError(f"refusals.yaml: {kind} '{name}' gives no reason")
            out[(kind, name)] = Refusal(name, kind, category, reason)
    return out


def refusal(name: str, kinds: tuple[str, ...]) -> Refusal | None:
    """The refusal of ``name`` under the first of ``kinds`` that refuses it (a name may be several kinds)."""
    table = refusals()
    for kind in kinds:
        found = table.get((kind, name))
        if found is not None:
            return found
    return None


def refused(node: ast.Node, name: str, *kinds: str) -> KqlUnsupportedError | None:
    """The located refusal error for ``name`` at ``node``, or None when ``name`` is not refused."""
    found = refusal(name, kinds or KINDS)
    return found.error(node) if found is not None else None


@lru_cache(maxsize=1)
def _kusto_catalog() -> dict[str, frozenset[str]]:
    functions = json.loads(resources.read_text("kusto_functions.json"))
    operators = json.loads(resources.read_text("kusto_operators.json"))
    catalog = {kind: frozenset(n for n in functions[kind] if not n.startswith("__"))
               for kind in ("scalar", "aggregate", "plugin")}
    catalog["operator"] = frozenset(operators["operator"])
    return catalog


def kusto_names(kind: str) -> frozenset[str]:
    """Kusto's own built-ins of one kind (internal ``__`` names left out)."""
    return _kusto_catalog()[kind]


def is_kusto_name(name: str, *kinds: str) -> bool:
    """Whether Kusto defines ``name`` as one of ``kinds`` (an unimplemented one is refused, an unknown one an error)."""
    return any(name in kusto_names(kind) for kind in kinds or KINDS)


def implemented(kind: str) -> frozenset[str]:
    """The names of one kind the evaluator runs, read from the registries that run them."""
    from dac.kql import aggregates, evaluator, expressions, functions, graph_match, parser, refused_operators, series

    if kind == "scalar":
        return (frozenset(functions.FUNCTIONS) | frozenset(series.TUPLE_FUNCTIONS) | expressions.SPECIAL_FORMS
                | evaluator.TABULAR_FUNCTIONS | graph_match.GRAPH_FUNCTIONS)
    if kind == "aggregate":
        return aggregates.AGGREGATE_NAMES
    if kind == "plugin":
        return evaluator.PLUGINS
    if kind == "operator":
        return parser.OPERATOR_KEYWORDS - refused_operators.REFUSED
    raise ValueError(f"unknown kind of built-in: {kind}")
