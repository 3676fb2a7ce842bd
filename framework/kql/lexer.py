"""KQL tokenizer.

Turns query text into tokens with 1-based line and column. KQL keywords are
contextual (``project`` can be a column name), so words stay ``IDENT`` tokens
and the parser decides; only the hyphenated operator names (``mv-expand``,
``project-away``) are joined here because ``-`` is otherwise an operator.
Literals whose body is not ordinary KQL (``datetime(2024-01-01 10:00)``,
``guid(...)``, ``timespan(...)``) are captured whole as ``TYPED`` tokens.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from enum import Enum

from dac.kql.errors import KqlSyntaxError


class T(Enum):
    IDENT = "identifier"
    STRING = "string literal"
    INT = "integer literal"
    REAL = "real literal"
    TIMESPAN = "timespan literal"
    TYPED = "typed literal"
    OP = "operator"
    EOF = "end of query"


@dataclass(frozen=True, slots=True)
class Token:
    kind: T
    text: str
    value: object
    line: int
    column: int
    offset: int
    end: int

    def is_op(self, *ops: str) -> bool:
        return self.kind is T.OP and self.text in ops

    def is_word(self, *words: str) -> bool:
        return self.kind is T.IDENT and self.text in words

    def describe(self) -> str:
        if self.kind is T.EOF:
            return "end of query"
        return f"'{self.text}'"


HYPHENATED = {
    "project-away", "project-keep", "project-rename", "project-reorder", "project-smart",
    "mv-expand", "mv-apply", "parse-where", "parse-kv", "make-series", "top-nested",
    "top-hitters", "make-graph", "graph-match", "graph-merge", "graph-to-table",
    "graph-mark-components", "graph-shortest-paths", "execute-and-cache", "sample-distinct", "macro-expand",
    "project-by-names", "assert-schema",
}

# Longest first so that "!contains_cs" wins over "!", "==" over "=".
_OPERATORS = sorted(
    [
        "==", "!=", "<>", "<=", ">=", "=~", "!~", "=>", "..", "<|",
        "(", ")", "[", "]", "{", "}", ",", ";", ":", ".", "|", "=", "<", ">",
        "+", "-", "*", "/", "%", "?", "@", "$", "#", "!", "~",
    ],
    key=len,
    reverse=True,
)

# The timespan suffixes, case-sensitive as the official parser reads them (1000MS is a name there), with
# the spellings it accepts beyond the timespan page's table (millisec, microsec, micros, nanosec...).
_TIMESPAN_UNITS = {
    "d": 86400.0, "day": 86400.0, "days": 86400.0,
    "h": 3600.0, "hr": 3600.0, "hrs": 3600.0, "hour": 3600.0, "hours": 3600.0,
    "m": 60.0, "min": 60.0, "minute": 60.0, "minutes": 60.0,
    "s": 1.0, "sec": 1.0, "second": 1.0, "seconds": 1.0,
    "ms": 1e-3, "milli": 1e-3, "millis": 1e-3, "millisec": 1e-3, "millisecond": 1e-3, "milliseconds": 1e-3,
    "microsec": 1e-6, "micros": 1e-6, "microsecond": 1e-6, "microseconds": 1e-6, "tick": 1e-7, "ticks": 1e-7,
    "nanosec": 1e-9, "nanosecond": 1e-9, "nanoseconds": 1e-9,
}

_OPERATORS_BY_FIRST: dict[str, list[str]] = {}
for _op in _OPERATORS:
    _OPERATORS_BY_FIRST.setdefault(_op[0], []).append(_op)

_NUMBER = re.compile(r"0[xX][0-9a-fA-F]+|(?:[0-9]+\.(?!\.)[0-9]*|\.[0-9]+|[0-9]+)(?:[eE][+-]?[0-9]+)?")
_WORD = re.compile(r"[^\W\d]\w*")  # Unicode letters, as Kusto allows in names
_UNIT = re.compile(r"[A-Za-z]+")
_NAME_TAIL = re.compile(r"\w*")
# Zero-width characters pasted from web pages; Kusto skips them like white space.
_INVISIBLE = {"\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"}
_TYPED_LITERALS = {"datetime", "date", "timespan", "time", "guid", "uuid", "uniqueid"}


class Lexer:
    """Single-pass tokenizer; errors carry the position of the offending character."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        # offsets of line starts, so a token's line is a binary search, not a scan
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def _position(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self.line_starts, offset)
        return line, offset - self.line_starts[line - 1] + 1

    def error(self, message: str, offset: int | None = None) -> KqlSyntaxError:
        line, column = self._position(self.pos if offset is None else offset)
        return KqlSyntaxError(message, line, column, self.text)

    def _make(self, kind: T, start: int, value: object = None) -> Token:
        line, column = self._position(start)
        return Token(kind, self.text[start:self.pos], value, line, column, start, self.pos)

    def tokens(self) -> list[Token]:
        out: list[Token] = []
        text = self.text
        n = len(text)
        while True:
            self._skip_space_and_comments()
            if self.pos >= n:
                # The end is reported right after the last token, not after trailing blank
                # lines, so "expected an expression" points at the line that lacks it.
                end = out[-1].end if out else 0
                self.pos = end
                eof = self._make(T.EOF, end)
                self.pos = n
                out.append(eof)
                return out
            start = self.pos
            ch = text[start]
            if ch in "\"'" or (ch in "@hH" and self._string_prefix_ahead()) or text.startswith("```", start):
                out.append(self._string(start))
            elif ("0" <= ch <= "9") or (ch == "." and start + 1 < n and "0" <= text[start + 1] <= "9"):
                out.append(self._number(start))
            elif ch.isalpha() or ch == "_":
                out.append(self._word(start))
            else:
                for op in _OPERATORS_BY_FIRST.get(ch, ()):
                    if text.startswith(op, start):
                        self.pos += len(op)
                        out.append(self._make(T.OP, start, op))
                        break
                else:
                    raise self.error(f"unexpected character {ch!r}")

    def _skip_space_and_comments(self) -> None:
        text = self.text
        n = len(text)
        while self.pos < n:
            ch = text[self.pos]
            if ch.isspace() or ch in _INVISIBLE:
                self.pos += 1
            elif text.startswith("//", self.pos) or (ch == "#" and self._at_line_start()):
                # ``#connect``-style client directives occupy a whole line, like comments.
                end = text.find("\n", self.pos)
                self.pos = n if end < 0 else end
            else:
                return

    def _at_line_start(self) -> bool:
        start = self.text.rfind("\n", 0, self.pos) + 1
        return not self.text[start:self.pos].strip()

    def _string_prefix_ahead(self) -> bool:
        """``@"..."``, ``h"..."``, ``h@"..."``: a prefix letter glued to a quote."""
        text, p = self.text, self.pos
        if text[p] in "hH":
            p += 1
            if p < len(text) and text[p] == "@":
                p += 1
        elif text[p] == "@":
            p += 1
        return p > self.pos and p < len(text) and text[p] in "\"'"

    def _string(self, start: int) -> Token:
        """One string literal, or several adjacent ones, which KQL concatenates."""
        parts: list[str] = []
        while True:
            parts.append(self._one_string())
            save = self.pos
            self._skip_space_and_comments()
            if self.pos < len(self.text) and (
                self.text[self.pos] in "\"'"
                or (self.text[self.pos] in "@hH" and self._string_prefix_ahead())
                or self.text.startswith("```", self.pos)
            ):
                continue
            self.pos = save
            return self._make(T.STRING, start, "".join(parts))

    def _one_string(self) -> str:
        text = self.text
        start = self.pos
        if text.startswith("```", start):
            end = text.find("```", start + 3)
            if end < 0:
                raise self.error("unterminated multi-line string literal", start)
            self.pos = end + 3
            return text[start + 3:end]
        verbatim = False
        if text[self.pos] in "hH":
            self.pos += 1
        if text[self.pos] == "@":
            verbatim = True
            self.pos += 1
        quote = text[self.pos]
        self.pos += 1
        chars: list[str] = []
        n = len(text)
        while True:
            if self.pos >= n or text[self.pos] == "\n":
                raise self.error("unterminated string literal", start)
            ch = text[self.pos]
            if ch == quote:
                if verbatim and self.pos + 1 < n and text[self.pos + 1] == quote:
                    chars.append(quote)
                    self.pos += 2
                    continue
                self.pos += 1
                return "".join(chars)
            if ch == "\\" and not verbatim:
                self.pos += 1
                if self.pos >= n:
                    raise self.error("unterminated string literal", start)
                chars.append(self._escape())
                continue
            chars.append(ch)
            self.pos += 1

    def _escape(self) -> str:
        text = self.text
        ch = text[self.pos]
        simple = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"', "0": "\0",
                  "a": "\a", "b": "\b", "f": "\f", "v": "\v", "/": "/"}
        if ch in simple:
            self.pos += 1
            return simple[ch]
        if ch in "uUx":
            width = {"u": 4, "U": 8, "x": 2}[ch]
            digits = text[self.pos + 1:self.pos + 1 + width]
            if len(digits) == width and all(c in "0123456789abcdefABCDEF" for c in digits):
                self.pos += 1 + width
                return chr(int(digits, 16))
        raise self.error(f"invalid escape sequence '\\{ch}' in string literal", self.pos - 1)

    def _number(self, start: int) -> Token:
        match = _NUMBER.match(self.text, start)
        assert match is not None
        self.pos = match.end()
        literal = match.group(0)
        if literal.isdigit() and self.text.startswith("_", self.pos):
            # 5_Min_Count: Kusto reads digits followed by an underscore as the start of a name
            self.pos = _NAME_TAIL.match(self.text, self.pos).end()
            return self._make(T.IDENT, start, self.text[start:self.pos])
        unit = _UNIT.match(self.text, self.pos)
        if unit and not literal.lower().startswith("0x"):
            word = unit.group(0)
            if word in _TIMESPAN_UNITS:
                self.pos = unit.end()
                seconds = float(literal) * _TIMESPAN_UNITS[word]
                return self._make(T.TIMESPAN, start, seconds)
            tail = _WORD.match(self.text, unit.start())
            self.pos = tail.end()
            # Not a timespan unit: Kusto reads digits followed by letters as a name.
            return self._make(T.IDENT, start, self.text[start:self.pos])
        if literal.lower().startswith("0x"):
            return self._make(T.INT, start, int(literal, 16))
        if any(c in literal for c in ".eE"):
            return self._make(T.REAL, start, float(literal))
        return self._make(T.INT, start, int(literal))

    def _word(self, start: int) -> Token:
        match = _WORD.match(self.text, start)
        assert match is not None
        self.pos = match.end()
        word = match.group(0)
        text = self.text
        if self.pos < len(text) and text[self.pos] == "-":
            tail = _WORD.match(text, self.pos + 1)
            if tail:
                joined = word + "-" + tail.group(0)
                # graph-mark-components and similar have two hyphens.
                longer = _WORD.match(text, tail.end() + 1) if tail.end() < len(text) and text[tail.end()] == "-" else None
                if longer and f"{joined}-{longer.group(0)}" in HYPHENATED:
                    self.pos = longer.end()
                    return self._make(T.IDENT, start, f"{joined}-{longer.group(0)}")
                if joined in HYPHENATED:
                    self.pos = tail.end()
                    return self._make(T.IDENT, start, joined)
        if word in _TYPED_LITERALS:
            typed = self._typed_literal(start, word)
            if typed is not None:
                return typed
        return self._make(T.IDENT, start, word)

    def _typed_literal(self, start: int, word: str) -> Token | None:
        """``datetime(...)`` and friends: keep the raw body between the parentheses."""
        text = self.text
        p = self.pos
        while p < len(text) and text[p] in " \t":
            p += 1
        if p >= len(text) or text[p] != "(":
            return None
        close = text.find(")", p)
        if close < 0:
            raise self.error(f"unterminated {word}(...) literal", start)
        body = text[p + 1:close].strip()
        self.pos = close + 1
        return self._make(T.TYPED, start, (word, body))


def tokenize(text: str) -> list[Token]:
    return Lexer(text).tokens()
