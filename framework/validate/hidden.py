"""Hidden characters in the text people read: bidi overrides and zero-width characters.

A rule's name, id, descriptions and query, and its test cases' names, are read by
reviewers in a pull request. A bidi override or isolate (U+202A-U+202E, U+2066-U+2069)
makes text display in another order than it is stored ("Trojan Source", CVE-2021-42574):
a query can show a condition that does not run, a name can show another name. A
zero-width character (U+200B-U+200D, U+2060, U+FEFF inside text) is invisible, so two ids
or names can look alike and differ. Either is a warning at the first place it occurs;
the command line escapes them visibly (:mod:`dac.output.escape`) wherever it prints them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

import yaml

from dac.errors import DacError, DacWarning, Location
from dac.rules.model import Rule, test_file_for
from dac.rules.yamlfile import PathKey, YamlDocument, load_yaml
from dac.validate.schema import format_path

HIDDEN = re.compile("[\u202a-\u202e\u2066-\u2069\u200b-\u200d\u2060\ufeff]")
RULE_FIELDS = ("id", "name", "description", "description-detailed", "query")
_BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")  # the line breaks YAML counts


def _name(char: str) -> str:
    return f"U+{ord(char):04X} ({unicodedata.name(char, 'unnamed')})"


class HiddenCharactersCheck:
    """Warns about bidi-control and zero-width characters in names, ids, descriptions and the query."""

    id = "hidden-characters"
    summary = "names, ids, descriptions, the query and test case names hold no bidi-override or zero-width characters"

    def check(self, rule: Rule) -> list[DacError]:
        findings = [finding for key in RULE_FIELDS for finding in _scan(rule.doc, (key,))]
        tests = test_file_for(rule.path)
        if tests is None:
            return findings
        try:
            doc = load_yaml(tests)
        except DacError:
            return findings  # the test-file check reports why it does not load
        cases = doc.data.get("cases") if isinstance(doc.data, dict) else None
        for index in range(len(cases) if isinstance(cases, list) else 0):
            findings.extend(_scan(doc, ("cases", index, "name")))
        return findings


def _scan(doc: YamlDocument, key: PathKey) -> Iterator[DacError]:
    """One warning for the value at ``key`` when it holds hidden characters, at the first of them."""
    node = doc.nodes.get(key)
    if not isinstance(node, yaml.ScalarNode) or not HIDDEN.search(node.value):
        return
    found = sorted(set(HIDDEN.findall(node.value)))
    kinds = {"bidi" if char in _BIDI else "zero-width" for char in found}
    why = " and ".join(sorted({"bidi": "bidi controls make it display in another order than it is stored",
                               "zero-width": "zero-width characters make it differ invisibly"}[kind]
                              for kind in kinds))
    yield DacWarning(f"{format_path(key)}: hidden character(s) {', '.join(_name(c) for c in found)}: {why}; "
                     "remove them", _first(doc, node))


def _first(doc: YamlDocument, node: yaml.ScalarNode) -> Location:
    """The position of the first hidden character in the node's source text, else the node's own.

    A character written as an escape (``"\\u202e"``) is not in the source text; the
    value's start is the place then.
    """
    start = node.start_mark
    match = HIDDEN.search(doc.text, start.index, node.end_mark.index)
    if match is None:
        return Location(doc.path, start.line + 1, start.column + 1)
    breaks = list(_BREAK.finditer(doc.text, start.index, match.start()))
    if not breaks:
        return Location(doc.path, start.line + 1, start.column + match.start() - start.index + 1)
    return Location(doc.path, start.line + len(breaks) + 1, match.start() - breaks[-1].end() + 1)


__all__ = ["HIDDEN", "HiddenCharactersCheck"]
