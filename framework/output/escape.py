"""Untrusted text made safe to print: nothing in it can start a line, move the cursor or hide.

Rule names, case names, ids, file names, fixture values and workspace exports come from
pull requests and exports, and dac prints them among lines a reader (or a CI log parser)
trusts: ``file:line:col: error: ...``, ``PASS ...``, ``delete <rule>``. An embedded newline
would let such a string write a line of its own, an ESC or OSC sequence would let it
recolour, erase or retitle the terminal, and a bidi override would make it read in
another order than it is stored. :func:`printable` writes every such character as a
visible escape (``\\n``, ``\\x1b``, ``\\u202e``), so the text shows what it holds and stays
on its line. Backslashes are left alone: ``\\n`` written by hand then reads like an escaped
newline, which is ambiguous but cannot forge a line.

:func:`json_safe` does the same for JSON text written with ``ensure_ascii=False``: json
escapes C0 controls itself but passes DEL, C1 controls, bidi characters and lone
surrogates through (the last cannot even be encoded to stdout).
"""

from __future__ import annotations

import re

# C0 controls (newline and tab included), DEL, C1 controls, the Arabic letter mark,
# zero-width and directional marks, line and paragraph separators, bidi embeddings,
# overrides and isolates, the word joiner and invisible operators, the byte order mark
# (zero-width no-break space), and lone surrogates (undecodable bytes kept by surrogateescape).
UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ud800-\udfff]")
_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return _SHORT.get(char) or (f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}")


def printable(text: object) -> str:
    """``text`` (or its ``str()``) on one line, every control, bidi or invisible character escaped."""
    return UNSAFE.sub(_escape, str(text))


# Outside JSON strings only ASCII occurs, so an escape here is always inside a string.
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ud800-\udfff]")


def json_safe(text: str) -> str:
    """JSON text with the characters json leaves raw under ``ensure_ascii=False`` written as ``\\uXXXX``."""
    if text.isascii() and "\x7f" not in text:  # the common case, two C scans (dac run writes millions of rows)
        return text
    return _JSON_UNSAFE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


__all__ = ["UNSAFE", "json_safe", "printable"]
