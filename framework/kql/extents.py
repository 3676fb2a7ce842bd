"""Where each syntax-tree node sits in the query text, start and end.

The tree itself records only where a node starts (its operator token for a
binary expression), which is enough to report an error but not to rewrite a
node: mutation testing replaces one node's text and shows the change at its
line and column. Rather than widening every node, :func:`parse_with_extents`
parses with a parser that also notes, when each node is finished, the token it
ended on; a node's extent is then its own tokens joined with its children's,
and an operand's *padded* extent takes in the parentheses written around it.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from dac.kql import ast
from dac.kql.lexer import Token
from dac.kql.parser import Parser


class _ExtentParser(Parser):
    """The ordinary parser, noting for each positioned node its first and last token offsets."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.own: dict[int, tuple[int, int]] = {}

    def at(self, node: ast.Node, token: Token) -> ast.Node:
        node = super().at(node, token)
        last = self.tokens[self.index - 1] if self.index else token
        self.own[id(node)] = (token.offset, max(token.end, last.end))
        return node


@dataclass
class SourceMap:
    """A parsed query with the text span of each node (offsets into ``text``, end exclusive)."""

    text: str
    tree: ast.QueryBody
    tokens: list[Token]
    own: dict[int, tuple[int, int]] = field(default_factory=dict)  # the tokens the parser positioned the node at
    spans: dict[int, tuple[int, int]] = field(default_factory=dict)
    parents: dict[int, ast.Node] = field(default_factory=dict)  # id(child) -> parent
    _starts: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._starts = [token.offset for token in self.tokens]

    def extent(self, node: ast.Node) -> tuple[int, int] | None:
        """The node's text span, its children (with their parentheses) included; None if it has no position."""
        return self.spans.get(id(node))

    def parent(self, node: ast.Node) -> ast.Node | None:
        return self.parents.get(id(node))

    def own_start(self, node: ast.Node) -> int | None:
        """The offset of the token the node is positioned at: a binary node's operator, a literal's first token."""
        span = self.own.get(id(node))
        return span[0] if span is not None else None

    def padded(self, node: ast.Node) -> tuple[int, int] | None:
        """The node's span grown over each pair of parentheses written right around it."""
        span = self.extent(node)
        if span is None:
            return None
        first, last = self.token_index(span[0]), self.token_index(span[1] - 1)
        while first > 0 and last + 1 < len(self.tokens) and self.tokens[first - 1].is_op("(") \
                and self.tokens[last + 1].is_op(")"):
            first, last = first - 1, last + 1
        return self.tokens[first].offset, self.tokens[last].end

    def token_index(self, offset: int) -> int:
        """The index of the token covering ``offset`` (the last one starting at or before it)."""
        return max(0, bisect.bisect_right(self._starts, offset) - 1)

    def token_at(self, offset: int) -> Token:
        return self.tokens[self.token_index(offset)]

    def snippet(self, span: tuple[int, int]) -> str:
        return self.text[span[0]:span[1]]

    def position(self, offset: int) -> tuple[int, int]:
        """1-based line and column of ``offset`` in the query text."""
        line = self.text.count("\n", 0, offset) + 1
        return line, offset - (self.text.rfind("\n", 0, offset) + 1) + 1


def parse_with_extents(text: str) -> SourceMap:
    """Parse ``text`` (raises KqlSyntaxError as ``parse`` does) and compute every node's span."""
    parser = _ExtentParser(text)
    tree = parser.parse_query()
    source = SourceMap(text, tree, parser.tokens, parser.own)
    # reverse pre-order visits every child before its parent, without recursion
    for node in reversed(list(tree.walk())):
        span = parser.own.get(id(node))
        for child in node.children():
            source.parents[id(child)] = node
            inner = source.padded(child)
            if inner is not None:
                span = inner if span is None else (min(span[0], inner[0]), max(span[1], inner[1]))
        if span is not None:
            source.spans[id(node)] = span
    return source
