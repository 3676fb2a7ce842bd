"""Property-based robustness: mutated real queries give a tree or a KqlSyntaxError, nothing else.

Accepted mutants must also survive the formatter round trip, which exercises
the tree shapes the mutations produce.
"""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dac.kql import KqlSyntaxError, parse
from dac.kql.formatter import format_query

from conftest import CORPUS

_SEEDS = []
if (CORPUS / "queries.jsonl").is_file():
    _SEEDS = [json.loads(line)["query"] for line in (CORPUS / "queries.jsonl").read_text(encoding="utf-8").splitlines()[:300]]
_SEEDS += [
    "T | where a has 'x' and b in (1, 2) | summarize count() by bin(t, 1h)",
    "let f = (x:long) { x + 1 }; print y = f(1), z = dynamic({'a': [1, 2]})",
]
_PIECES = ["(", ")", "[", "]", "{", "}", "|", ";", ",", "'", '"', "@'", "```", "//", "==", "=~", "!", "..", " by ",
           " on ", "let ", "dynamic(", "datetime(", "h'", "1d", "\n", "$left.", "*", "-", "\\", "\u200b", "#"]


@st.composite
def mutated(draw) -> str:
    text = draw(st.sampled_from(_SEEDS))
    for _ in range(draw(st.integers(1, 4))):
        if not text:
            break
        position = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["insert", "delete", "truncate", "duplicate"]))
        if action == "insert":
            text = text[:position] + draw(st.one_of(st.sampled_from(_PIECES), st.text(max_size=3))) + text[position:]
        elif action == "delete":
            text = text[:position] + text[position + draw(st.integers(1, 20)):]
        elif action == "truncate":
            text = text[:position]
        else:
            end = min(len(text), position + draw(st.integers(1, 40)))
            text = text[:end] + text[position:end] + text[end:]
    return text


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutants_parse_or_fail_cleanly(text: str) -> None:
    try:
        tree = parse(text)
    except KqlSyntaxError as error:
        assert error.line >= 1 and error.column >= 1 and error.message
        return
    assert parse(format_query(tree)) == tree


@settings(max_examples=50, deadline=None)
@given(st.integers(min_value=100, max_value=20000), st.sampled_from(["(", "-", "not(", "dynamic([", "f("]))
def test_deep_nesting_is_bounded(depth: int, opener: str) -> None:
    try:
        parse("print x = " + opener * depth + "1")
    except KqlSyntaxError:
        return
