"""The two YAML paths agree: libyaml for speed, the pure-Python loader for messages.

``parse_yaml`` takes libyaml's path for ordinary files and the strict Python
path whenever a file has a problem or might hold an anchor, alias or deep
nesting. Both must give the same data and the same positions, or a finding
would point at a different line depending on which path a file took.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dac.errors import Location, RuleFileError
from dac.rules import yamlfile
from dac.rules.yamlfile import YamlDocument, _walk, parse_yaml

from conftest import REPO, SHARED

_FILES = sorted(p for root in (REPO / "detections", REPO / "tests", REPO / "examples", SHARED / "corpus" / "azure-sentinel")
                if root.exists() for p in root.rglob("*.y*ml"))


def _document(text: str, node_and_data: tuple) -> YamlDocument:
    node, data = node_and_data
    doc = YamlDocument("f.yaml", text, data)
    if node is not None:
        _walk(node, (), "f.yaml", doc)
    return doc


def _lines(doc: YamlDocument) -> dict:
    """Each node's first and last line: block_text_origin reads a block scalar's lines between them."""
    return {key: (node.start_mark.line, node.end_mark.line) for key, node in doc.nodes.items()}


@pytest.mark.parametrize("path", _FILES, ids=lambda p: str(p.relative_to(p.parents[1])))
def test_fast_and_strict_paths_agree(path: Path) -> None:
    text = path.read_text(encoding="utf-8-sig")
    fast = yamlfile._parse_fast(text)
    if fast is None:
        pytest.skip("this file takes the strict path")
    strict = _document(text, yamlfile._parse_strict(text, "f.yaml"))
    quick = _document(text, fast)
    assert quick.data == strict.data
    assert quick.positions == strict.positions
    assert quick.key_positions == strict.key_positions
    for key, node in strict.nodes.items():
        assert (getattr(quick.nodes[key], "style", None) or None) == (getattr(node, "style", None) or None)
    assert _lines(quick) == _lines(strict)


# libyaml ends a stream whose last line has no line break on a line of its own; every
# collection the end of the text closes must still end on the text's last line.
@pytest.mark.parametrize("text", ["a:\n  - x", "a:\n  b: [1]", "a:\n- b: c\n  d: e", "a: |\n  foo", "a: b\n#c",
                                  "a: b\r\nc:\r\n - d", "metadata:\n  domains: [ \"x\" ]", "[1, 2]"])
def test_a_text_without_final_line_break_ends_on_its_last_line(text: str) -> None:
    fast = yamlfile._parse_fast(text)
    assert fast is not None
    quick, strict = _document(text, fast), _document(text, yamlfile._parse_strict(text, "f.yaml"))
    assert _lines(quick) == _lines(strict)
    assert max(end for _, end in _lines(quick).values()) == len(text.splitlines()) - 1


def test_ordinary_files_take_the_fast_path() -> None:
    taken = [p for p in _FILES if yamlfile._parse_fast(p.read_text(encoding="utf-8-sig")) is not None]
    assert len(taken) >= len(_FILES) * 0.9


@pytest.mark.parametrize("text", [
    "p\tlatform: Defender\n",
    "a: &x 1\nb: *x\n",
    "a: [1,&x 2]\n",
    "&x a: 1\n",
    "a: " + "[" * 70 + "]" * 70 + "\n",
    "- " * 70 + "x\n",
    "a: 1\na: 2\n",
    "a: [" * 3000 + "]" * 3000,
    "a:\n\tb: 1\n",
    "i\ufeffd: 1\n",
])
def test_anchors_aliases_depth_and_errors_take_the_strict_path(text: str) -> None:
    assert yamlfile._parse_fast(text) is None


def test_ampersand_in_text_is_not_an_anchor() -> None:
    assert yamlfile._parse_fast("description: ATT&CK and Tom & Jerry, a=1&b=2\n") is not None


# Tabs where YAML 1.2 takes them as separation white space, as in files Azure-Sentinel ships
# (a tab after a value at the end of a line): read as libyaml and YAML 1.2 readers read them.
@pytest.mark.parametrize("text,data", [
    ("url: https://x.example/a.yaml\t\nb: 1\n", {"url": "https://x.example/a.yaml", "b": 1}),
    ("a: b\t# note\n", {"a": "b"}),
    ("a:\tb\n", {"a": "b"}),
    ("a\t: b\n", {"a": "b"}),
    ("a: \"x\"\t\n", {"a": "x"}),
    ("a: [1,\t2]\t\n", {"a": [1, 2]}),
    ("a: {x: 1,\n\ty: 2}\n", {"a": {"x": 1, "y": 2}}),
    ("a: b\tc\n", {"a": "b\tc"}),
    ("a:\n  b\n  \tc\n", {"a": "b c"}),
    ("a: 1\n\t\n\t# note\nb: 2\n", {"a": 1, "b": 2}),
    ("q: |\t# note\n  x\n", {"q": "x\n"}),
    ("q: |\n  let x = 1;\n  \tx\n", {"q": "let x = 1;\n\tx\n"}),
])
def test_tabs_yaml_allows_are_read(text: str, data: object) -> None:
    assert parse_yaml(text, "f.yaml").data == data


def test_a_tab_at_the_end_of_a_line_does_not_move_later_positions() -> None:
    doc = parse_yaml("a: b\t\nc:\t[1,\t2]\nd: e\n", "f.yaml")
    assert [doc.location(key) for key in (("a",), ("c", 1), ("d",))] == [
        Location("f.yaml", 1, 4), Location("f.yaml", 2, 8), Location("f.yaml", 3, 4)]


@pytest.mark.parametrize("text,where", [
    ("\tid: 1\n", (1, 1)),
    ("id: 1\n\tname: x\n", (2, 1)),
    ("a:\n  - b\n\t- c\n", (3, 1)),
    ("a:\n  \tb: 1\n", (2, 3)),
    ("- \tk: v\n", (1, 3)),
    ("q: |\n\tx\n", (2, 1)),
])
def test_tabs_that_indent_or_start_a_node_are_refused_where_they_are(text: str, where: tuple[int, int]) -> None:
    with pytest.raises(RuleFileError) as info:
        parse_yaml(text, "f.yaml")
    assert info.value.message == "YAML error: a tab cannot indent or start a value in YAML; use spaces"
    assert (info.value.location.line, info.value.location.column) == where


# Mutations of real rule and test files: wherever both loaders accept a text they must give
# the same data and positions. libyaml may accept a little more than PyYAML's own scanner
# (a "? " inside a flow scalar, which YAML allows); then libyaml's reading stands, since the
# strict loader's refusal there is PyYAML's limitation, not a problem in the file.
_SEED_TEXTS = [(REPO / "detections" / "hunting" / name).read_text(encoding="utf-8")
               for name in ("user-clicked-through-events.yaml", "user-clicked-through-events.tests.yaml")]
_PIECES = ["\n", ": ", "- ", "[", "]", "{", "}", "'", '"', "&a ", "*a", "\t", "|", ">", "#", "? ", "!!str ",
           "null", "~", "1e999", "0x1F", "2024-01-01", "true", "yes", "é", "\\u00e9", "---\n", "...\n", "  "]


@st.composite
def _mutated(draw) -> str:
    text = draw(st.sampled_from(_SEED_TEXTS))
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, len(text)))
        piece = draw(st.one_of(st.sampled_from(_PIECES), st.text(max_size=3)))
        if draw(st.booleans()):
            text = text[:position] + piece + text[position:]
        else:
            text = text[:position] + text[position + draw(st.integers(1, 20)):]
    return text.rstrip("\n") if draw(st.booleans()) else text


@settings(max_examples=400, deadline=None)
@given(text=_mutated())
def test_fast_path_never_disagrees_with_the_strict_loader(text: str) -> None:
    fast = yamlfile._parse_fast(text)
    try:
        strict = yamlfile._parse_strict(text, "f.yaml")
    except RuleFileError:
        return
    if fast is None:
        return
    quick, slow = _document(text, fast), _document(text, strict)
    assert (quick.data, quick.positions, quick.key_positions) == (slow.data, slow.positions, slow.key_positions)
    assert _lines(quick) == _lines(slow)
