"""Where each character of a YAML scalar's value stands in the file.

A KQL error is found at a line and column of the query *text*; the user needs it at a
line and column of the rule *file*. For a literal block (``query: |``) the two map line
for line, but a folded block (``query: >``), a plain scalar over several lines and a
quoted one fold line breaks into spaces, drop indentation and undo escapes, so the
n-th line of the value is not the n-th line of the block. This module replays the
loader's rules (YAML 1.2, sections 7.3 and 8.1, as PyYAML's scanner applies them) over
the scalar's lines and records, for every character it produces, the file position it
came from. The replay is checked against the value the loader produced: when the two
differ (a construct not replayed here, such as a double-quoted escape over a line
break), there is no map and callers fall back to the scalar's own position. A wrong
position is worse than a coarse one.
"""

from __future__ import annotations

import yaml

# (line, column), both 0-based, of one character of the value in the file's lines
Spot = tuple[int, int]

_ESCAPES = {"0": "\0", "a": "\a", "b": "\b", "t": "\t", "\t": "\t", "n": "\n", "v": "\v", "f": "\f", "r": "\r",
            "e": "\x1b", " ": " ", '"': '"', "/": "/", "\\": "\\", "N": "\x85", "_": "\xa0", "L": "\u2028",
            "P": "\u2029"}
_HEX_ESCAPES = {"x": 2, "u": 4, "U": 8}


def value_spots(lines: list[str], node: yaml.ScalarNode) -> list[Spot] | None:
    """The file position of each character of ``node.value``, or None where the replay does not give the value.

    ``lines`` are the file's lines without their line breaks. A line break of the value is
    placed at the end of the line it ends.
    """
    style = node.style or ""
    if style in ("|", ">"):
        replay = _block(lines, node.start_mark.line, style == ">")
    elif style in ("'", '"'):
        replay = _flow(lines, node.start_mark.line, node.start_mark.column + 1, style)
    else:
        replay = _flow(lines, node.start_mark.line, node.start_mark.column, "")
    if replay is None:
        return None
    text, spots = replay
    value = node.value
    # the replay runs past the scalar (trailing blank lines, the rest of a flow line): the value is its prefix
    if not text.startswith(value):
        return None
    return spots[:len(value)]


def _block(lines: list[str], header: int, folded: bool) -> tuple[str, list[Spot]] | None:
    """A literal or folded block scalar whose indicator is on line ``header``, replayed up to its end."""
    indicator = lines[header].split("#", 1)[0].rstrip()
    digits = [c for c in indicator[indicator.rfind("|" if not folded else ">") + 1:] if c.isdigit()]
    body = range(header + 1, len(lines))
    if digits:
        parent = len(lines[header]) - len(lines[header].lstrip(" "))
        indent = parent + int(digits[0])
    else:
        first = next((i for i in body if lines[i].strip(" ")), None)
        if first is None:
            return None
        indent = len(lines[first]) - len(lines[first].lstrip(" "))
    if indent == 0:
        return None
    chars: list[str] = []
    spots: list[Spot] = []
    breaks: list[Spot] = []  # blank lines waiting to be emitted as line breaks
    previous: tuple[int, bool] | None = None  # (line, starts with a non-space) of the last content line
    for number in body:
        line = lines[number]
        content = len(line) - len(line.lstrip(" ")) >= indent and len(line) > indent
        if not content:
            if line.strip(" "):  # a less indented line with text ends the block
                break
            breaks.append((number, len(line)))
            continue
        leading_non_space = line[indent] not in " \t"
        if previous is not None:
            prev_line, prev_non_space = previous
            end = (prev_line, len(lines[prev_line]))
            if folded and prev_non_space and leading_non_space:
                if not breaks:
                    chars.append(" ")
                    spots.append(end)
            else:
                chars.append("\n")
                spots.append(end)
            for spot in breaks:
                chars.append("\n")
                spots.append(spot)
        else:
            for spot in breaks:  # blank lines before the first content line
                chars.append("\n")
                spots.append(spot)
        breaks = []
        for column in range(indent, len(line)):
            chars.append(line[column])
            spots.append((number, column))
        previous = (number, leading_non_space)
    if previous is None:
        return None
    chars.append("\n")
    spots.append((previous[0], len(lines[previous[0]])))
    for spot in breaks:  # kept by the "+" chomping indicator
        chars.append("\n")
        spots.append(spot)
    return "".join(chars), spots


def _flow(lines: list[str], start_line: int, start_column: int, quote: str) -> tuple[str, list[Spot]] | None:
    """A plain or quoted scalar starting at (``start_line``, ``start_column``), replayed over its lines.

    Line folding (a single line break becomes a space, each blank line a line break,
    the white space around a break dropped) is the same for the three styles; quotes
    add their escapes and end at the closing quote. A plain scalar's replay runs to the
    end of the lines it could continue over; its value is a prefix of that.
    """
    chars: list[str] = []
    spots: list[Spot] = []
    number, column = start_line, start_column
    blank: list[Spot] = []
    first = True
    while number < len(lines):
        line = lines[number]
        if not first:
            stripped = len(line) - len(line.lstrip(" \t"))
            if not line.strip(" \t"):
                blank.append((number, len(line)))
                number += 1
                continue
            column = stripped
            end = (number - 1 - len(blank), len(lines[number - 1 - len(blank)]))
            if blank:
                for spot in blank:
                    chars.append("\n")
                    spots.append(spot)
            else:
                chars.append(" ")
                spots.append(end)
            blank = []
        segment_chars: list[str] = []
        segment_spots: list[Spot] = []
        closed = False
        while column < len(line):
            char = line[column]
            if quote == "'" and char == "'":
                if column + 1 < len(line) and line[column + 1] == "'":
                    segment_chars.append("'")
                    segment_spots.append((number, column))
                    column += 2
                    continue
                closed = True
                break
            if quote == '"' and char == '"':
                closed = True
                break
            if quote == '"' and char == "\\":
                if column + 1 >= len(line):
                    return None  # an escaped line break: not replayed
                code = line[column + 1]
                if code in _ESCAPES:
                    segment_chars.append(_ESCAPES[code])
                    segment_spots.append((number, column))
                    column += 2
                    continue
                width = _HEX_ESCAPES.get(code)
                digits = line[column + 2:column + 2 + width] if width else ""
                if not width or len(digits) != width:
                    return None
                try:
                    segment_chars.append(chr(int(digits, 16)))
                except ValueError:
                    return None
                segment_spots.append((number, column))
                column += 2 + width
                continue
            segment_chars.append(char)
            segment_spots.append((number, column))
            column += 1
        if closed:
            chars.extend(segment_chars)
            spots.extend(segment_spots)
            return "".join(chars), spots
        # white space before a line break is not part of the value
        while segment_chars and segment_chars[-1] in " \t":
            segment_chars.pop()
            segment_spots.pop()
        chars.extend(segment_chars)
        spots.extend(segment_spots)
        first = False
        number += 1
    return ("".join(chars), spots) if not quote else None
