"""A position inside a rule's query is reported at the right place of the file, whatever the scalar style.

The query of an Azure-Sentinel rule is mostly a literal block (``query: |``), but rules in
the wild also use folded blocks (``query: >``), plain scalars over several lines and quoted
one-liners; their line breaks fold and their escapes decode, so the query's line and column
are not the file's. Each case checks that every character of the loaded value maps back to
that same character in the file (YAML 1.2, 8.1.3 folded style and 7.3 flow scalars:
https://yaml.org/spec/1.2.2/#813-folded-style).
"""

from __future__ import annotations

import string
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from dac.rules.model import load_rule
from dac.rules.yamlfile import parse_yaml
from dac.testing.runner import query_error
from dac.kql import KqlError, parse


def _assert_maps_every_character(text: str, key: tuple) -> None:
    doc = parse_yaml(text, "f.yaml")
    value = doc.nodes[key].value
    lines = text.splitlines()
    for number, line in enumerate(value.split("\n"), start=1):
        for column, char in enumerate(line, start=1):
            where = doc.text_location(key, number, column)
            assert where is not None, f"no position for {number}:{column} of {value!r}"
            source = lines[where.line - 1]
            if char == " " and where.column > len(source):
                continue  # a folded line break: placed at the end of the line it ends
            if source[where.column - 1] == "\\":
                continue  # an escape: placed at its backslash
            assert source[where.column - 1] == char, (number, column, where)


@pytest.mark.parametrize("text, key", [
    ("query: |\n  SigninLogs\n  | where x == 1\n", ("query",)),
    # a blank first line is the value's line 1 (Azure-Sentinel's UserAccounts-BlockedAccounts.yaml starts so)
    ("query: |\n\n  let a = 1;\n  T\n", ("query",)),
    ("query: >\n  SigninLogs\n  | where x == 1\n  | project a\n", ("query",)),
    ("query: >\n  SigninLogs\n\n  | where x == 1\n    | indented\n  back\n", ("query",)),
    ("query: >-\n  T\n  | where y\n\n\nnext: 1\n", ("query",)),
    ("query: |+\n  T\n\n\n", ("query",)),
    ("query: |2\n    T\n  | where y\n", ("query",)),
    ("query: SigninLogs\n  | where x == 1   \n  | project a # comment\nother: 1\n", ("query",)),
    ("query: 'SigninLogs | where x == ''a'''\n", ("query",)),
    ("query: 'SigninLogs\n  | where x\n\n  | take 1'\n", ("query",)),
    ('query: "SigninLogs\\n| where x == \\"a\\" and y == \\u00e9"\n', ("query",)),
    ("rules:\n  - query: >-\n      T\n      | where y\n", ("rules", 0, "query")),
    ("query: |\r\n  T\r\n  | where y\r\n", ("query",)),
])
def test_every_character_of_the_value_maps_to_itself_in_the_file(text: str, key: tuple) -> None:
    _assert_maps_every_character(text, key)


_QUERY_TEXT = st.lists(st.text(string.ascii_letters + string.digits + " |=()'\"\\:#-", min_size=1, max_size=30)
                       .map(str.strip).filter(bool), min_size=1, max_size=5).map("\n".join)


@settings(max_examples=80, deadline=None)
@given(_QUERY_TEXT, st.sampled_from(["|", ">", "'", '"', ""]))
def test_whatever_style_the_yaml_writer_chose_every_character_maps_back(query: str, style: str) -> None:
    text = yaml.dump({"query": query}, default_style=None, default_flow_style=False, width=10_000,
                     allow_unicode=True) if not style else \
        yaml.dump({"query": query}, default_style=style, width=10_000, allow_unicode=True).replace(
            f"{style}query{style}:", "query:", 1)
    doc = parse_yaml(text, "f.yaml")
    assert doc.data["query"] == query
    _assert_maps_every_character(text, ("query",))


def test_a_replay_that_does_not_give_the_value_gives_no_position() -> None:
    # an escaped line break inside double quotes is not replayed: no position rather than a wrong one
    doc = parse_yaml('query: "T | \\\n  where x"\n', "f.yaml")
    assert doc.nodes[("query",)].value == "T | where x"
    assert doc.text_location(("query",), 1, 5) is None


def test_a_syntax_error_in_a_folded_query_is_reported_on_its_own_line(tmp_path: Path) -> None:
    rule_file = tmp_path / "rule.yaml"
    rule_file.write_text("id: 1\nname: folded\nquery: >\n  SigninLogs\n  | where ResultType == \n  | take 1\n",
                         encoding="utf-8")
    rule = load_rule(rule_file)
    with pytest.raises(KqlError) as caught:
        parse(rule.query)
    where = query_error(rule, caught.value).location
    # the query is one line once folded; the error is at '| take' on the file's sixth line
    assert (where.line, where.column) == (6, 3), where
