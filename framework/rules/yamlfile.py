"""Strict YAML loading with source positions.

PyYAML's default loader silently keeps the last of two duplicate keys and turns
``2024-01-01`` into a ``date``; both hide mistakes in rules. This loader rejects
duplicate keys, keeps timestamps as strings (the schema and the fixture typing
decide what they mean), and records the line and column of every value so later
stages can point errors at the exact place in the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.cyaml import CParser

from dac.errors import Location, RuleFileError
from dac.files import read_text

PathKey = tuple[Any, ...]


MAX_FILE_BYTES = 1_000_000
MAX_DEPTH = 64


class _StrictComposer(yaml.composer.Composer):
    """Composer without anchors and aliases, and with bounded nesting.

    Rule files are small, flat documents from many hands: anchors and aliases (the
    way to a "billion laughs" expansion) are refused, and nesting deeper than
    MAX_DEPTH is an error rather than a RecursionError in the composer.
    """

    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, "anchors and aliases (*name) are not allowed in rule files", event.start_mark)
        event = self.peek_event()
        if getattr(event, "anchor", None):
            raise yaml.composer.ComposerError(
                None, None, "anchors (&name) are not allowed in rule files", event.start_mark)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise yaml.composer.ComposerError(
                    None, None, f"the document is nested more than {MAX_DEPTH} levels deep", event.start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class _StrictConstructor(yaml.constructor.SafeConstructor):
    """SafeConstructor that rejects duplicate keys and keys that are not plain values."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: dict[Any, yaml.Node] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                raise yaml.constructor.ConstructorError(
                    None, None, "a mapping key must be a plain value", key_node.start_mark
                ) from None
            if key in seen:
                first = seen[key].start_mark
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"duplicate key {key!r} (first defined on line {first.line + 1})",
                    key_node.start_mark,
                )
            seen[key] = key_node
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        """PyYAML's, with ``0b_`` and ``0x_`` (digits that are only underscores) a located error, not a ValueError."""
        try:
            return super().construct_yaml_int(node)
        except ValueError:
            raise yaml.constructor.ConstructorError(
                None, None, f"{node.value!r} is not a number (quote it if it is text)", node.start_mark) from None


_StrictConstructor.add_constructor("tag:yaml.org,2002:int", _StrictConstructor.construct_yaml_int)


_BREAKS = "\r\n\x85\u2028\u2029"  # what both readers count as line breaks (YAML 1.1's set)
_LINE_BREAKS = tuple(_BREAKS)


class _TabScanner(yaml.scanner.Scanner):
    """PyYAML's scanner taking tabs where YAML 1.2 takes them as separation white space.

    PyYAML refuses every tab outside quoted and block scalars, so a file Azure-Sentinel
    ships with a tab after a value (``url<TAB>``), before a comment or inside a flow
    collection does not load, while YAML 1.2 readers (libyaml, Sentinel's tooling) read
    it. Here a tab separates tokens in flow context, after a value on its line (where no
    simple key may start: libyaml's rule), and on a line holding only white space or a
    comment; inside plain scalars it is white space, as in ``nb-ns-plain-in-line``. A tab
    that would indent a line or start a node (``- <TAB>key: v``) is still refused; like
    libyaml, so is one right after ``-``, ``?`` or an explicit ``:`` (YAML 1.2 would take
    ``-<TAB>x``, never ``-<TAB>x: y``).
    """

    def scan_to_next_token(self) -> None:
        if self.index == 0 and self.peek() == "\uFEFF":
            self.forward()
        while True:
            while self.peek() == " " or (self.peek() == "\t" and self._tab_separates()):
                self.forward()
            if self.peek() == "#":
                while self.peek() not in "\0" + _BREAKS:
                    self.forward()
            if not self.scan_line_break():
                return
            if not self.flow_level:
                self.allow_simple_key = True

    def _tab_separates(self) -> bool:
        """True when the tab here is separation, not indentation or the start of a node."""
        if self.flow_level or not self.allow_simple_key:
            return True
        ahead = 0
        while self.peek(ahead) in " \t":
            ahead += 1
        return self.peek(ahead) in "#\0" + _BREAKS

    def scan_plain_spaces(self, indent: int, start_mark: yaml.Mark) -> list[str] | None:
        """PyYAML's version with tabs as white space within a line and after a continuation
        line's indentation (``s-flow-line-prefix``); a tab left of ``indent`` ends the scalar."""
        chunks: list[str] = []
        length = 0
        while self.peek(length) in " \t":
            length += 1
        whitespaces = self.prefix(length)
        self.forward(length)
        if self.peek() not in _BREAKS:
            return [whitespaces] if whitespaces else chunks
        line_break = self.scan_line_break()
        self.allow_simple_key = True
        if self._document_marker():
            return None
        breaks = []
        while True:
            ch = self.peek()
            if ch == " " or (ch == "\t" and (self.flow_level or self.column >= indent)):
                self.forward()
            elif ch in _BREAKS:
                breaks.append(self.scan_line_break())
                if self._document_marker():
                    return None
            else:
                break
        if line_break != "\n":
            chunks.append(line_break)
        elif not breaks:
            chunks.append(" ")
        chunks.extend(breaks)
        return chunks

    def _document_marker(self) -> bool:
        return self.prefix(3) in ("---", "...") and self.peek(3) in "\0 \t" + _BREAKS

    def scan_block_scalar_indicators(self, start_mark: yaml.Mark) -> tuple[bool | None, int | None]:
        """PyYAML's version that lets a tab follow the indicators (``|<TAB># note``)."""
        chomping: bool | None = None
        increment: int | None = None
        for _ in range(2):
            ch = self.peek()
            if ch in "+-" and chomping is None:
                chomping = ch == "+"
            elif ch in "123456789" and increment is None:
                increment = int(ch)
            elif ch == "0" and increment is None:
                raise yaml.scanner.ScannerError("while scanning a block scalar", start_mark,
                                                "expected indentation indicator in the range 1-9, but found 0",
                                                self.get_mark())
            else:
                break
            self.forward()
        if self.peek() not in "\0 \t" + _BREAKS:
            raise yaml.scanner.ScannerError("while scanning a block scalar", start_mark,
                                            f"expected chomping or indentation indicators, but found {self.peek()!r}",
                                            self.get_mark())
        return chomping, increment

    def scan_block_scalar_ignored_line(self, start_mark: yaml.Mark) -> None:
        """The rest of a ``|``/``>`` header line: white space (tabs too) and a comment."""
        while self.peek() in " \t":
            self.forward()
        if self.peek() == "#":
            while self.peek() not in "\0" + _BREAKS:
                self.forward()
        if self.peek() not in "\0" + _BREAKS:
            raise yaml.scanner.ScannerError("while scanning a block scalar", start_mark,
                                            f"expected a comment or a line break, but found {self.peek()!r}",
                                            self.get_mark())
        self.scan_line_break()


class _StrictLoader(yaml.reader.Reader, _TabScanner, yaml.parser.Parser, _StrictComposer,
                    _StrictConstructor, yaml.resolver.Resolver):
    """The pure-Python strict loader: its error messages are the ones users see."""

    def __init__(self, stream: str) -> None:
        yaml.reader.Reader.__init__(self, stream)
        _TabScanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        _StrictComposer.__init__(self)
        _StrictConstructor.__init__(self)
        yaml.resolver.Resolver.__init__(self)


class _FastStrictLoader(CParser, _StrictConstructor, yaml.resolver.Resolver):
    """libyaml's scanner, parser and composer with the strict constructor (about 3x faster).

    Where both accept a text, both give the same data and positions (tested on every
    YAML file here and on fuzzed ones); libyaml also accepts a few texts YAML allows and
    PyYAML's scanner refuses, and its reading then stands.

    libyaml composes in C, so the composer checks above do not run; ``_parse_fast``
    makes up for them: text where an ``&`` could start an anchor takes the strict path,
    an alias shows as a node reached twice, and depth is measured on the tree
    (libyaml itself stops at 1,000 levels, so the C composer cannot run away).
    """

    def __init__(self, stream: str) -> None:
        CParser.__init__(self, stream)
        _StrictConstructor.__init__(self)
        yaml.resolver.Resolver.__init__(self)


_StrictLoader.yaml_implicit_resolvers = _FastStrictLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass
class YamlDocument:
    """A parsed YAML document, its text and the position of every value in it."""

    path: str
    text: str
    data: Any
    positions: dict[PathKey, Location] = field(default_factory=dict)
    nodes: dict[PathKey, yaml.Node] = field(default_factory=dict)
    key_positions: dict[PathKey, Location] = field(default_factory=dict)
    _spots: dict[PathKey, list] = field(default_factory=dict, repr=False, compare=False)

    def key_location(self, key: PathKey) -> Location:
        """Position of the mapping key naming ``key`` (for "unknown key" findings)."""
        return self.key_positions.get(tuple(key)) or self.location(key)

    def location(self, key: PathKey) -> Location:
        """Position of the value at ``key``, or of its nearest existing parent."""
        key = tuple(key)
        while key not in self.positions and key:
            key = key[:-1]
        return self.positions.get(key, Location(self.path, 1, 1))

    def text_location(self, key: PathKey, line: int, column: int) -> Location | None:
        """The file position of line ``line``, column ``column`` (1-based) of the string value at ``key``.

        Exact for every scalar style the replay of ``dac.rules.scalar_positions`` reproduces
        (literal, folded, plain and quoted); None otherwise, and for a position past the value.
        """
        node = self.nodes.get(tuple(key))
        if not isinstance(node, yaml.ScalarNode) or line < 1 or column < 1:
            return None
        if self._spots.get(tuple(key)) is None:
            from dac.rules.scalar_positions import value_spots

            self._spots[tuple(key)] = value_spots(self.text.splitlines(), node) or []
        spots = self._spots[tuple(key)]
        value_lines = node.value.split("\n")
        if line > len(value_lines) or column > len(value_lines[line - 1]) + 1:
            return None
        offset = sum(len(text) + 1 for text in value_lines[:line - 1]) + column - 1
        if offset < len(spots):
            file_line, file_column = spots[offset]
        elif offset == len(spots) and spots:  # just past the last character ("the query ends here")
            file_line, file_column = spots[-1]
            file_column += node.value[-1] != "\n"
        else:
            return None
        return Location(self.path, file_line + 1, file_column + 1)

    def block_text_origin(self, key: PathKey) -> tuple[int, int] | None:
        """Where the text of a block scalar (``query: |``) starts: (line, column), 1-based.

        Lets a KQL error at line L, column C of the query be reported at the
        matching place in the YAML file. Returns None for non-block scalars,
        where the mapping is not exact line by line.
        """
        node = self.nodes.get(tuple(key))
        if not isinstance(node, yaml.ScalarNode) or node.style not in ("|", ">"):
            return None
        lines = self.text.splitlines()
        for index in range(node.start_mark.line + 1, min(node.end_mark.line + 1, len(lines))):
            line = lines[index]
            if line.strip():
                return index + 1, len(line) - len(line.lstrip(" ")) + 1
        return None


def _walk(node: yaml.Node, key: PathKey, path: str, doc: "YamlDocument") -> None:
    doc.positions[key] = Location(path, node.start_mark.line + 1, node.start_mark.column + 1)
    doc.nodes[key] = node
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            child = key + (key_node.value,)
            doc.key_positions[child] = Location(path, key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            _walk(value_node, child, path, doc)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, key + (index,), path, doc)


def parse_yaml(text: str, path: str = "") -> YamlDocument:
    """Parse one YAML document strictly; raise RuleFileError with its position on failure."""
    if len(text) > MAX_FILE_BYTES:
        raise RuleFileError(f"file is larger than {MAX_FILE_BYTES} bytes; rule and test files are expected to be small",
                            Location(path))
    fast = _parse_fast(text)
    if fast is not None:
        node, data = fast
    else:
        node, data = _parse_strict(text, path)
    doc = YamlDocument(path=path, text=text, data=data)
    if node is not None:
        _walk(node, (), path, doc)
    return doc


# An anchor starts a node: after a line start, blank or flow indicator ("ATT&CK" is no anchor).
_MAYBE_ANCHOR = re.compile(r"(?:^|[\s\[{,])&\S", re.MULTILINE)


def _parse_fast(text: str) -> tuple[yaml.Node | None, Any] | None:
    """Node and data through libyaml, or None when the strict path must decide.

    None covers every text with a problem (the strict loader then names it) and
    every text that might hold an anchor, alias, deep nesting, a tab or a byte order mark.
    """
    if "\t" in text or "\uFEFF" in text or _MAYBE_ANCHOR.search(text):
        # The scanners take tabs in different places and count a BOM's column differently:
        # the strict one's reading stands.
        return None
    loader = _FastStrictLoader(text)
    try:
        node = loader.get_single_node()
        if node is not None and not _plain_tree(node):
            return None
        if node is not None and not text.endswith(_LINE_BREAKS):
            _end_at_text_end(node, text)
        return node, loader.construct_document(node) if node is not None else None
    except (yaml.YAMLError, ValueError, TypeError):
        return None
    finally:
        loader.dispose()


def _plain_tree(root: yaml.Node) -> bool:
    """True when no node is reached twice (no alias), nesting stays within MAX_DEPTH and
    no value is left empty (``{x: }``, ``? ``: the two loaders place such a null apart)."""
    seen: set[int] = set()
    stack: list[tuple[yaml.Node, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH or id(node) in seen:
            return False
        seen.add(id(node))
        if isinstance(node, yaml.ScalarNode) and node.value == "" and not node.style:
            return False
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                stack.append((key, depth + 1))
                stack.append((value, depth + 1))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, depth + 1) for item in node.value)
    return True


def _end_at_text_end(root: yaml.Node, text: str) -> None:
    """Give nodes that end where the text ends the strict loader's end mark.

    When the last line has no line break, libyaml ends the stream at the start of
    a line of its own, so every collection the end of the file closes would end a
    line after the strict loader's (and the text's) last line.
    """
    column = len(text) - (max(text.rfind(ch) for ch in _BREAKS) + 1)
    stack = [root]
    while stack:
        node = stack.pop()
        mark = node.end_mark
        if mark.index == len(text) and mark.column == 0:  # a scalar's own end is right
            node.end_mark = yaml.Mark(mark.name, mark.index, mark.line - 1, column, None, None)
        if isinstance(node, yaml.MappingNode):
            stack.extend(part for pair in node.value for part in pair)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)


def _parse_strict(text: str, path: str) -> tuple[yaml.Node | None, Any]:
    """Node and data through the pure-Python loader, whose errors name the place and the problem."""
    try:
        loader = _StrictLoader(text)
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        raise RuleFileError(f"YAML error: character U+{exc.character:04X} is not allowed in YAML",
                            Location(path, line, column)) from None
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Location(path, mark.line + 1, mark.column + 1) if mark else Location(path)
        problem = exc.problem or exc.context or "invalid YAML"
        if "'\\t'" in problem:
            problem = "a tab cannot indent or start a value in YAML; use spaces"
        raise RuleFileError(f"YAML error: {problem}", where) from None
    except yaml.reader.ReaderError as exc:  # a bad character further into the stream
        line = text.count("\n", 0, exc.position) + 1
        raise RuleFileError(f"YAML error: character U+{exc.character:04X} is not allowed in YAML",
                            Location(path, line)) from None
    except yaml.YAMLError as exc:
        raise RuleFileError(f"YAML error: {exc}", Location(path)) from None
    finally:
        loader.dispose()
    return node, data


def load_yaml(path: str | Path) -> YamlDocument:
    """Read and parse a YAML file; encoding problems are reported like syntax errors.

    Only a regular file is read, and only up to MAX_FILE_BYTES (a link to /dev/zero
    or a FIFO named like a rule is refused before it is opened).
    """
    text = read_text(path, MAX_FILE_BYTES, RuleFileError, "rule and test files are expected to be small")
    return parse_yaml(text, str(path))
