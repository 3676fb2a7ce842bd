"""Every Kusto built-in is decided: implemented and covered by a conformance case, or refused with why.

The names are Kusto's (schemas/kusto_functions.json, schemas/kusto_operators.json); what is
implemented is read from the evaluator's registries (dac.kql.builtins.implemented); what is
refused, and why, from framework/kql/refusals.yaml. A refused name is evaluated in a minimal
query and must fail with the located refusal carrying its reason, before any argument is looked at.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
import yaml

from dac.kql import KqlUnsupportedError, builtins, evaluate
from dac.kql.errors import KqlSyntaxError

from conftest import REPO

SUITE = Path(__file__).resolve().parent / "conformance"
REFUSED = sorted(builtins.refusals().values(), key=lambda r: (r.kind, r.name))
# A minimal query per kind, the name on line 2 at the given column: the refusal must point there.
PROBES = {
    "scalar": ("print x = 1\n| extend y = {}()", 14),
    "aggregate": ("print x = 1\n| summarize {}(x)", 13),
    "plugin": ("print x = 1\n| evaluate {}()", 12),
    "operator": ("print x = 1\n| {}", 3),
}
# Operators the parser reads (and the evaluator refuses) need their arguments to reach the refusal.
OPERATOR_ARGUMENTS = {"assert-schema": " (x:long)"}


def _render_module():
    spec = importlib.util.spec_from_file_location("render_builtins", REPO / "scripts" / "render_builtins.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _case_queries() -> str:
    """The queries of the conformance cases that expect results (an error case proves no evaluation)."""
    queries = []
    for path in sorted(SUITE.glob("*.yaml")):
        for case in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("cases", []):
            if "expect" in case or "expect_tables" in case:
                queries.append(case["query"])
    return "\n".join(queries)


def _used(kind: str, name: str, text: str) -> bool:
    escaped = re.escape(name)
    if kind == "operator":  # after a pipe, or where a query, a let or a parenthesised query starts
        return re.search(rf"(?:^|[|;(=,])\s*{escaped}(?![\w-])", text, re.M) is not None
    return re.search(rf"(?<![\w.]){escaped}\s*\(", text) is not None


@pytest.mark.parametrize("kind", builtins.KINDS)
def test_every_kusto_name_is_implemented_or_refused(kind: str) -> None:
    refused = {name for k, name in builtins.refusals() if k == kind}
    undecided = builtins.kusto_names(kind) - builtins.implemented(kind) - refused
    assert not undecided, f"{kind} names neither implemented nor in refusals.yaml: {sorted(undecided)}"


@pytest.mark.parametrize("kind", builtins.KINDS)
def test_no_name_is_both_implemented_and_refused(kind: str) -> None:
    refused = {name for k, name in builtins.refusals() if k == kind}
    both = refused & builtins.implemented(kind)
    assert not both, f"{kind} names implemented yet listed in refusals.yaml (remove them there): {sorted(both)}"


def test_every_refused_name_is_kusto_s() -> None:
    unknown = [f"{r.kind} {r.name}" for r in REFUSED if r.name not in builtins.kusto_names(r.kind)]
    assert not unknown, f"refusals.yaml lists names Kusto does not define: {unknown}"


@pytest.mark.parametrize("kind", builtins.KINDS)
def test_every_implemented_name_has_a_conformance_case(kind: str) -> None:
    text = _case_queries()
    uncovered = sorted(n for n in builtins.kusto_names(kind) & builtins.implemented(kind) if not _used(kind, n, text))
    assert not uncovered, f"implemented {kind} names no conformance case uses: {uncovered}"


@pytest.mark.parametrize("refusal", REFUSED, ids=lambda r: f"{r.kind}-{r.name}")
def test_a_refused_name_fails_at_its_position_with_its_reason(refusal: builtins.Refusal) -> None:
    template, column = PROBES[refusal.kind]
    with pytest.raises(KqlUnsupportedError) as raised:
        name = refusal.name + (OPERATOR_ARGUMENTS.get(refusal.name, "") if refusal.kind == "operator" else "")
        evaluate(template.format(name), {})
    error = raised.value
    assert (error.line, error.column) == (2, column)
    assert error.message == refusal.message()
    assert refusal.reason in error.message and f"({refusal.category})" in error.message
    assert "cannot be unit-tested offline" in error.message


@pytest.mark.parametrize("query, name", [
    ('cluster("c").database("d").SigninLogs | take 1', "cluster"),
    ("inline_external_table(a:string) kind=storage dataformat=csv ('https://example.com/a.csv')",
     "inline_external_table"),
])
def test_a_refused_name_that_starts_a_query_is_refused_there(query: str, name: str) -> None:
    # The parser reads neither form; the refusal comes first, and stays a syntax error to a tool that only parses.
    with pytest.raises(KqlUnsupportedError, match=rf"'{name}(\(\))?' cannot be evaluated by dac") as raised:
        evaluate(query, {})
    assert isinstance(raised.value, KqlSyntaxError) and (raised.value.line, raised.value.column) == (1, 1)


def test_an_unknown_name_is_still_unknown() -> None:
    with pytest.raises(KqlSyntaxError, match="unknown query operator 'frobnicate'") as raised:
        evaluate("print x = 1 | frobnicate", {})
    assert not isinstance(raised.value, KqlUnsupportedError)


def test_the_readme_section_is_the_current_rendering() -> None:
    render = _render_module()
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert render.current(readme) == render.render(), "run: python scripts/render_builtins.py --write"
