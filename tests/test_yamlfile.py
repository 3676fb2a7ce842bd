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

from dac.errors import RuleFileError
from dac.rules import yamlfile
from dac.rules.yamlfile import YamlDocument, _walk

from conftest import REPO, SHARED

_FILES = sorted(p for root in (REPO / "detections", REPO / "tests", REPO / "examples", SHARED / "corpus" / "azure-sentinel")
                if root.exists() for p in root.rglob("*.y*ml"))


def _document(text: str, node_and_data: tuple) -> YamlDocument:
    node, data = node_and_data
    doc = YamlDocument("f.yaml", text, data)
    if node is not None:
        _walk(node, (), "f.yaml", doc)
    return doc


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
        if key:
            assert (quick.nodes[key].start_mark.line, quick.nodes[key].end_mark.line) == (
                node.start_mark.line, node.end_mark.line)


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
])
def test_anchors_aliases_depth_and_errors_take_the_strict_path(text: str) -> None:
    assert yamlfile._parse_fast(text) is None


def test_ampersand_in_text_is_not_an_anchor() -> None:
    assert yamlfile._parse_fast("description: ATT&CK and Tom & Jerry, a=1&b=2\n") is not None


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
    return text


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
