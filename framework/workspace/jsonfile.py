"""Reading the JSON files of a workspace folder, as the tools that wrote them read them.

Azure-Sentinel's own files are read by .NET (Newtonsoft), which accepts a
byte-order mark and a trailing comma before ``]`` or ``}``; a file copied from
there must load here too. Anything else that is not JSON is an error at its
line and column. Positions of values are found again in the text, so a problem
inside a valid file (an unknown column type) is reported where it is written.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dac.errors import DacError, Location

MAX_FILE_BYTES = 5_000_000  # workspace files are declarations (a watchlist's CSV included), not data dumps


@dataclass(frozen=True)
class JsonDocument:
    path: str
    text: str
    data: Any

    def locate(self, *needles: str) -> Location:
        """Where the JSON strings ``needles`` occur in turn (each after the previous), else the file's start.

        Finds e.g. the type of one column: ``locate('"Okta_CL"', '"Strin"')``.
        """
        offset = 0
        found = -1
        for needle in needles:
            at = self.text.find(json.dumps(needle), offset)
            if at < 0:
                break
            found, offset = at, at + 1
        if found < 0:
            return Location(self.path, 1, 1)
        line = self.text.count("\n", 0, found) + 1
        return Location(self.path, line, found - (self.text.rfind("\n", 0, found) + 1) + 1)


def read_text(path: Path) -> str:
    """A workspace file's text (UTF-8, a byte-order mark allowed); unreadable is an error naming the file."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise DacError(f"file is larger than {MAX_FILE_BYTES} bytes; workspace files are declarations",
                           Location(str(path)))
        return path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise DacError(f"cannot read file: {exc.strerror}", Location(str(path))) from None
    except UnicodeDecodeError as exc:
        raise DacError(f"not UTF-8 text: {exc.reason} at byte {exc.start}", Location(str(path))) from None


def load_json(path: Path, text: str | None = None) -> JsonDocument:
    """Parse a workspace JSON file; a syntax error is reported at its line and column."""
    text = read_text(path) if text is None else text
    try:
        data = json.loads(_without_trailing_commas(text))
    except json.JSONDecodeError as exc:
        raise DacError(f"JSON error: {exc.msg}", Location(str(path), exc.lineno, exc.colno)) from None
    except RecursionError:
        raise DacError("JSON error: the document is nested too deeply", Location(str(path), 1, 1)) from None
    return JsonDocument(str(path), text, data)


def _without_trailing_commas(text: str) -> str:
    """``text`` with each comma that only precedes ``]`` or ``}`` made a space (positions unchanged)."""
    out = list(text)
    in_string = escaped = False
    pending = -1  # index of a comma outside strings not yet followed by a value
    for index, char in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
            continue
        if char == '"':
            in_string, pending = True, -1
        elif char == ",":
            pending = index
        elif char in "]}":
            if pending >= 0:
                out[pending] = " "
            pending = -1
        elif not char.isspace():
            pending = -1
    return "".join(out)
