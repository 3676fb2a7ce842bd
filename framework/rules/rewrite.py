"""``dac fmt --write``: put each file's query in the canonical layout, in place.

A rule file is reviewed and diffed by people, so rewriting its query must not
touch anything else: comments, key order, the quoting of other keys, blank
lines, line endings and a byte order mark all stay byte for byte. Only the
query scalar is replaced, by a literal block (``|``) holding ``format_text`` of
the query; the new file is read back with the project's loader before it is
written, and a file whose rewrite would not read back exactly is refused rather
than written. ``.kql``/``.csl`` files hold nothing but the query and are
rewritten whole.

Files are planned first and written afterwards, so a file that cannot be read
(bad YAML, bad encoding) stops the run before anything is written.
"""

from __future__ import annotations

import codecs
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from dac.errors import DacError, Location, RuleFileError
from dac.files import MAX_QUERY_BYTES, read_bytes, replaced_file
from dac.rules.model import RULE_SUFFIXES, Rule, is_test_file, load_rule
from dac.rules.yamlfile import parse_yaml

BOM = codecs.BOM_UTF8
QUERY_KEY = ("query",)
# What YAML counts as a line break (YAML 1.1, as PyYAML and libyaml read it).
_BREAKS = "\r\n\x85\u2028\u2029"
_LINE = re.compile(r"([^\r\n\x85\u2028\u2029]*)(\r\n|[\r\n\x85\u2028\u2029]|\Z)")
_BLOCK_INDICATORS = "+-123456789"


class LayoutError(DacError):
    """A file ``--write`` leaves as it is: its query does not parse, or its layout cannot be written exactly."""


@dataclass
class WriteReport:
    """What ``format_files`` did: the files rewritten and the ones refused (each a located error)."""

    reformatted: list[str] = field(default_factory=list)
    errors: list[LayoutError] = field(default_factory=list)


def format_files(sources: list[str]) -> WriteReport:
    """Rewrite every source whose query is not in the canonical layout.

    Raises DacError (a usage or input error) before writing anything when a
    source cannot be read; a query that does not parse, or cannot be laid out
    exactly, is reported in the result and its file left unchanged.
    """
    report, planned = WriteReport(), []
    for source in dict.fromkeys(sources):  # a file named twice is rewritten and reported once
        if source == "-":
            raise DacError("--write rewrites files; standard input has no file to rewrite")
        try:
            content = planned_content(Path(source))
        except LayoutError as error:
            report.errors.append(error)
            continue
        if content is not None:
            planned.append((source, content))
    for source, content in planned:
        write_atomically(Path(source), content)
        report.reformatted.append(source)
    return report


def planned_content(path: Path) -> bytes | None:
    """The new bytes of ``path``, or None when there is nothing to change.

    Test files and rules without a query are skipped (pre-commit passes every
    changed YAML file), like ``dac fmt --check`` does.
    """
    if path.name.endswith(RULE_SUFFIXES):
        return None if is_test_file(path) else _rule_content(path)
    return _query_file_content(path)


def _formatted(query: str, where: Callable[[int, int], Location]) -> str:
    """``format_text(query)``; a syntax error becomes a LayoutError located by ``where(line, column)``."""
    from dac.kql import KqlSyntaxError
    from dac.kql.formatter import format_text

    try:
        return format_text(query)
    except KqlSyntaxError as exc:
        raise LayoutError(exc.message, where(exc.line, exc.column), detail=exc.caret()) from None


def _rule_content(path: Path) -> bytes | None:
    rule = load_rule(path)
    query = rule.query
    if query is None:
        return None
    formatted = _formatted(query, lambda line, column: rule.query_location(line, column) if line
                           else rule.location("query"))
    if formatted == query:
        return None
    raw = _read_bytes(path)
    bom = BOM if raw.startswith(BOM) else b""
    if raw != bom + rule.doc.text.encode("utf-8"):
        raise DacError("the file changed while it was being formatted; run dac fmt --write again", Location(str(path)))
    text = replace_query(rule, formatted)
    _check_reads_back(rule, text, formatted)
    return bom + text.encode("utf-8")


def _query_file_content(path: Path) -> bytes | None:
    """A ``.kql``/``.csl`` file, read as ``dac fmt --check`` reads it (universal newlines, BOM kept as text).

    The file is rewritten whole; CRLF line endings stay CRLF (``--check`` reads
    both alike), while a byte order mark is dropped: ``--check`` sees it as part
    of the text, so keeping it would leave the file out of the layout forever.
    """
    raw = _read_bytes(path)
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DacError(f"file is not valid UTF-8 (byte 0x{raw[exc.start]:02x})",
                       Location(str(path), raw[: exc.start].count(b"\n") + 1)) from None
    text = decoded.replace("\r\n", "\n").replace("\r", "\n")
    formatted = _formatted(text, lambda line, column: Location(str(path), line, column))
    if formatted == text:
        return None
    newline = "\r\n" if "\r\n" in decoded else "\n"
    return formatted.replace("\n", newline).encode("utf-8")


def _read_bytes(path: Path) -> bytes:
    """A rule or query file's bytes: a regular file of at most MAX_QUERY_BYTES (as ``dac fmt`` reads it)."""
    return read_bytes(path, MAX_QUERY_BYTES, too_large="a query file is expected to be small")


def replace_query(rule: Rule, formatted: str) -> str:
    """The rule file's text with its query scalar replaced by a literal block holding ``formatted``.

    Only the scalar itself changes. A block scalar keeps its header's comment
    and its indentation; blank lines after it that are not part of the value
    stay where they are. A flow scalar (plain or quoted) becomes a block at the
    mapping's indentation + 2; a comment after it on its line moves to the block
    header, the one place a comment can stay beside the value.
    """
    text, node = rule.doc.text, rule.doc.nodes[QUERY_KEY]
    key_column = rule.doc.key_location(QUERY_KEY).column - 1
    start, end = node.start_mark.index, node.end_mark.index
    if node.style in ("|", ">"):
        header_end = start + 1
        while header_end < end and text[header_end] in _BLOCK_INDICATORS:
            header_end += 1
        body_start = _next_line(text, header_end)
        indicators = text[start + 1:header_end]
        digits = "".join(c for c in indicators if c.isdigit())
        indent = key_column + int(digits) if digits else _first_indent(text, body_start, end, key_column + 2)
        content_end = end if "+" in indicators else _content_end(text, body_start, end, indent)
        header = _header(formatted, indent, key_column, rule)
        body = _block_lines(formatted, indent, _newline(text, header_end))
        return text[:start] + header + text[header_end:body_start] + body + text[content_end:]
    line_end = _line_end(text, end)
    tail = text[end:line_end]
    if tail.strip() and not tail.lstrip().startswith("#"):
        raise LayoutError("the query cannot become a block scalar here (it is inside a flow mapping or "
                          "followed by more on its line); write it as `query: |` first", rule.location("query"))
    indent = key_column + 2
    newline = _newline(text, end)
    body = _block_lines(formatted, indent, newline)
    if line_end < len(text):
        body = body[: -len(newline)]  # the line break that ended the scalar's line follows
    return text[:start] + _header(formatted, indent, key_column, rule) + tail + newline + body + text[line_end:]


def _header(formatted: str, indent: int, key_column: int, rule: Rule) -> str:
    """``|`` with the chomping that reproduces ``formatted``'s final line breaks, and an
    indentation indicator when its first line starts with a space (YAML would take
    that space for indentation)."""
    if not formatted.endswith("\n"):
        chomping = "-"
    elif formatted.endswith("\n\n"):
        chomping = "+"
    else:
        chomping = ""
    first = next((line for line in formatted.split("\n") if line), "")
    if not first.startswith(" "):
        return "|" + chomping
    increment = indent - key_column
    if not 1 <= increment <= 9:
        raise LayoutError(f"the query's first line starts with a space and its indentation ({increment}) "
                          "cannot be given as a YAML indentation indicator (1-9)", rule.location("query"))
    return f"|{increment}{chomping}"


def _block_lines(formatted: str, indent: int, newline: str) -> str:
    """The lines of a literal block holding ``formatted``, each ended by ``newline``; empty lines stay empty."""
    body = formatted[:-1] if formatted.endswith("\n") else formatted
    pad = " " * indent
    return "".join((pad + line if line else "") + newline for line in body.split("\n"))


def _lines(text: str, start: int, end: int) -> list[tuple[int, str, int]]:
    """(start, content, end after its line break) of each line of ``text[start:end]``."""
    found, position = [], start
    while position < end:
        match = _LINE.match(text, position, end)
        found.append((position, match.group(1), match.end()))
        position = match.end()
    return found


def _first_indent(text: str, start: int, end: int, default: int) -> int:
    """A block's auto-detected indentation: the leading spaces of its first line holding more than spaces."""
    for _, line, _ in _lines(text, start, end):
        stripped = line.lstrip(" ")
        if stripped:
            return len(line) - len(stripped)
    return default


def _content_end(text: str, start: int, end: int, indent: int) -> int:
    """Where a clipped or stripped block's value ends: after its last line that is not empty.

    The scanner's end mark also covers the blank lines after it, which belong to
    the file's layout rather than to the value; a line of more spaces than the
    indentation is content (a line holding spaces).
    """
    content_end = start
    for _, line, line_end in _lines(text, start, end):
        if line.strip(" ") or len(line) > indent:
            content_end = line_end
    return content_end


def _next_line(text: str, position: int) -> int:
    """The start of the line after the one holding ``position`` (the end of the text on the last line)."""
    line_end = _line_end(text, position)
    if text.startswith("\r\n", line_end):
        return line_end + 2
    return min(line_end + 1, len(text))


def _line_end(text: str, position: int) -> int:
    """The index of the line break ending the line that holds ``position``, or the end of the text."""
    for index in range(position, len(text)):
        if text[index] in _BREAKS:
            return index
    return len(text)


def _newline(text: str, position: int) -> str:
    """The line ending the file uses around ``position``: that of the line holding it, else the file's first."""
    for at in (_line_end(text, position), _line_end(text, 0)):
        if text.startswith("\r\n", at):
            return "\r\n"
        if at < len(text) and text[at] in "\r\n":
            return text[at]
    return "\n"


def _check_reads_back(rule: Rule, text: str, formatted: str) -> None:
    """Refuse a rewrite that the loader does not read back as the formatted query and the same other keys."""
    try:
        data = parse_yaml(text, rule.path).data
    except RuleFileError as exc:
        raise LayoutError(f"the query in the canonical layout would not load as YAML ({exc.message}); "
                          "the file is left unchanged", rule.location("query")) from None
    same = (isinstance(data, dict) and data.get("query") == formatted and list(data) == list(rule.data)
            and all(data[key] == value for key, value in rule.data.items() if key != "query"))
    if not same:
        raise LayoutError("the query in the canonical layout cannot be written as a YAML literal block that reads "
                          "back exactly; the file is left unchanged", rule.location("query"))


def write_atomically(path: Path, content: bytes) -> None:
    """Replace ``path``'s content through a temporary file beside it, keeping the file's mode.

    A reader (an editor, a concurrent ``dac validate``) sees the old file or the
    new one, never half of one. A symbolic link is followed: its target is rewritten.
    """
    target = Path(os.path.realpath(path))
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except OSError as exc:
        raise DacError(f"cannot write file: {exc.strerror}", Location(str(path))) from None
    with replaced_file(target, "cannot write file", Location(str(path)), mode) as stream:
        stream.write(content)


__all__ = ["LayoutError", "WriteReport", "format_files", "planned_content", "replace_query", "write_atomically"]
