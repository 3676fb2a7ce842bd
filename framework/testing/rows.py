"""Compact fixture rows: what a table's list in a test file may hold besides plain rows.

A threshold rule needs dozens of near-identical rows; YAML anchors are refused by the
loader (``dac.rules.yamlfile``: no alias expansion in files from many hands), so these forms
say once what rows share and only what differs:

- ``{repeat: N, row: {...}, vary: {Column: spec}}``: N copies of ``row``; each ``vary`` column
  takes, in row i (0-based), ``{cycle: [a, b]}`` the list's items in turn,
  ``{from: X, every: S}`` X + i*S (datetimes and timespans step by a span, numbers by a
  number), or ``{format: "host-{n}"}`` the text with ``{n}`` the row number counted from 1;
- ``{csv: |...}``: a header line of column names, then one row a line;
- ``{jsonl: |...}``: one JSON object a line;
- ``{file: name.csv}`` / ``{file: name.jsonl}``: the same, from a file beside the test file
  that stays inside the rules repository.

Every row then takes the ``defaults:`` of its table for the columns it leaves out. Each
value keeps the place it was written, so a bad one is an error at its file, line and column.
"""

from __future__ import annotations

import decimal
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from dac import config
from dac.errors import DacError, Location
from dac.files import read_text, within
from dac.rules.yamlfile import YamlDocument
from dac.testing.convert import convert_value

SOURCES = ("repeat", "csv", "jsonl", "file")
MAX_REPEAT = 10_000
MAX_ROWS_FILE_BYTES = 16_000_000
_FORMATS = {".csv": "csv", ".jsonl": "jsonl"}


@dataclass
class FixtureRow:
    """One fixture row before typing: its values and where each was written.

    ``text`` names the columns whose values are text to read by the column's type (CSV cells,
    ``format:`` results); ``typed`` those already typed (``from``/``every`` sequences); the
    others are YAML or JSON values. ``note`` says which generated row it is, for messages.
    """

    values: dict[str, Any]
    where: dict[str, Location]
    key_where: dict[str, Location]
    text: set[str] = field(default_factory=set)
    typed: set[str] = field(default_factory=set)
    note: str = ""

    def take_defaults(self, defaults: "FixtureRow | None") -> "FixtureRow":
        """This row with ``defaults``' values for the columns it does not state."""
        if defaults is None:
            return self
        for column, value in defaults.values.items():
            if column not in self.values:
                self.values[column] = value
                self.where[column] = defaults.where[column]
                self.key_where[column] = defaults.key_where[column]
        return self


def yaml_row(doc: YamlDocument, key: tuple, mapping: dict[str, Any]) -> FixtureRow:
    """A row written as a YAML mapping at ``key``."""
    row = FixtureRow(dict(mapping), {}, {})
    for column, value in mapping.items():
        row.where[column] = doc.location(key + (column,))
        row.key_where[column] = doc.key_location(key + (column,))
    return row


@dataclass
class RowContext:
    """What expanding one table's list needs: the file, the column types, where files may come from."""

    doc: YamlDocument
    types: dict[str, str] | None  # None: rows for an externaldata URL, typed only when the query runs
    now: Any


def expand(ctx: RowContext, key: tuple, items: list[Any]) -> list[FixtureRow]:
    """The rows a table's list stands for, in order."""
    rows: list[FixtureRow] = []
    for index, item in enumerate(items):
        item_key = key + (index,)
        kinds = [name for name in SOURCES if name in item]
        if not kinds:
            rows.append(yaml_row(ctx.doc, item_key, item))
            continue
        if len(kinds) > 1:
            raise DacError(f"an item takes one of {', '.join(SOURCES)}, not {' and '.join(kinds)}",
                           ctx.doc.key_location(item_key + (kinds[1],)))
        kind = kinds[0]
        allowed = ("repeat", "row", "vary") if kind == "repeat" else (kind,)
        extra = [name for name in item if name not in allowed]
        if extra:
            hint = " (put column values under row:)" if kind == "repeat" else ""
            raise DacError(f"a {kind}: item takes only {', '.join(allowed)}, not '{extra[0]}'{hint}",
                           ctx.doc.key_location(item_key + (extra[0],)))
        if kind == "repeat":
            rows.extend(_repeat(ctx, item_key, item))
        elif kind == "file":
            rows.extend(_file(ctx, item_key, item["file"]))
        else:
            rows.extend(_block(ctx, item_key + (kind,), item[kind], kind))
    return rows


# --- repeat -----------------------------------------------------------------------------


def _repeat(ctx: RowContext, key: tuple, item: dict[str, Any]) -> list[FixtureRow]:
    doc = ctx.doc
    count = item["repeat"]
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_REPEAT:
        raise DacError(f"repeat: expected a whole number of rows from 1 to {MAX_REPEAT}, got {count!r}",
                       doc.location(key + ("repeat",)))
    base = item.get("row") or {}
    if not isinstance(base, dict):
        raise DacError("row: expected a mapping of column values", doc.location(key + ("row",)))
    vary = item.get("vary") or {}
    if not isinstance(vary, dict):
        raise DacError("vary: expected a mapping of column: {cycle: [...]}, {from: ..., every: ...} or "
                       "{format: ...}", doc.location(key + ("vary",)))
    generators = {}
    for column, spec in vary.items():
        if column in base:
            raise DacError(f"column '{column}' is set in both row: and vary:", doc.key_location(key + ("vary", column)))
        generators[column] = _generator(ctx, key + ("vary", column), column, spec)
    rows = []
    for number in range(count):
        row = yaml_row(doc, key + ("row",), base)
        row.note = row_note(number)
        for column, generate in generators.items():
            row.values[column], row.where[column], mode = generate(number)
            row.key_where[column] = doc.key_location(key + ("vary", column))
            if mode == "text":
                row.text.add(column)
            elif mode == "typed":
                row.typed.add(column)
        rows.append(row)
    return rows


def _generator(ctx: RowContext, key: tuple, column: str, spec: Any) -> Callable[[int], tuple[Any, Location, str]]:
    """``number -> (value, where it comes from, "yaml" | "text" | "typed")`` for one ``vary`` column."""
    doc = ctx.doc
    where = doc.location(key)
    forms = "{cycle: [a, b]}, {from: X, every: step} or {format: \"text-{n}\"}"
    if not isinstance(spec, dict) or not spec:
        raise DacError(f"vary: '{column}' expected {forms}", where)
    keys = set(spec)
    if keys == {"cycle"}:
        values = spec["cycle"]
        if not isinstance(values, list) or not values:
            raise DacError("cycle: expected a non-empty list of values", doc.location(key + ("cycle",)))
        return lambda n: (values[n % len(values)], doc.location(key + ("cycle", n % len(values))), "yaml")
    if keys == {"format"}:
        text = spec["format"]
        at = doc.location(key + ("format",))
        if not isinstance(text, str):
            raise DacError("format: expected text with {n} where the row number goes", at)
        try:
            first = text.format(n=1)
        except (KeyError, IndexError, ValueError, AttributeError) as exc:
            raise DacError(f"format: cannot format {text!r} ({exc}); the only field is {{n}}, the row number "
                           "(from 1), optionally with a format such as {n:03}", at) from None
        if first == text.format(n=2):
            raise DacError(f"format: {text!r} has no {{n}}, so every row gets the same value: put it under row:", at)
        return lambda n: (text.format(n=n + 1), at, "text")
    if keys == {"from", "every"}:
        return _sequence(ctx, key, column, spec)
    unknown = sorted(keys - {"cycle", "format", "from", "every"})
    if unknown:
        raise DacError(f"vary: '{column}' has unknown key '{unknown[0]}'; expected {forms}",
                       doc.key_location(key + (unknown[0],)))
    missing = "every" if "from" in keys else "from" if "every" in keys else None
    if missing and len(keys) == 1:
        raise DacError(f"vary: '{column}' needs both from: and every:, not only {next(iter(keys))}:", where)
    raise DacError(f"vary: '{column}' mixes {' and '.join(sorted(keys))}; give one of {forms}", where)


def _sequence(ctx: RowContext, key: tuple, column: str, spec: dict[str, Any]) -> Callable[[int], tuple[Any, Location, str]]:
    """``{from: X, every: S}``: X + n*S, typed by the column (datetime, timespan or number)."""
    from dac.testing.spans import parse_span

    doc = ctx.doc
    if ctx.types is None:
        raise DacError("from:/every: needs typed columns; rows for an externaldata URL are typed only when the "
                       "query runs: use cycle: or format:", doc.location(key))
    if column not in ctx.types:
        from dac.errors import did_you_mean

        raise DacError(f"unknown column '{column}'{did_you_mean(column, list(ctx.types), cutoff=0.6)}",
                       doc.key_location(key))
    kind = ctx.types[column]
    at_from, at_every = doc.location(key + ("from",)), doc.location(key + ("every",))
    if kind in ("datetime", "timespan"):
        start = convert_value(spec["from"], kind, ctx.now, at_from)
        if start is None:
            raise DacError("from: cannot be null", at_from)
        try:
            step = parse_span(str(spec["every"]))
        except ValueError as exc:
            raise DacError(f"every: {exc}", at_every) from None
    elif kind in ("int", "long", "real", "decimal"):
        start = convert_value(spec["from"], kind, ctx.now, at_from)
        step = spec["every"]
        if isinstance(step, bool) or not isinstance(step, (int, float)) or (kind in ("int", "long") and step != int(step)):
            raise DacError(f"every: expected a {'whole ' if kind in ('int', 'long') else ''}number to add per row, "
                           f"got {step!r}", at_every)
        if start is None:
            raise DacError("from: cannot be null", at_from)
        if kind == "decimal":
            step = decimal.Decimal(str(step))
    else:
        raise DacError(f"from:/every: steps a datetime, timespan or number column; '{column}' is {kind} "
                       "(use cycle: or format:)", doc.location(key))

    def value(n: int) -> tuple[Any, Location, str]:
        if kind in ("datetime", "timespan"):
            try:
                return start + n * step, at_every, "typed"
            except OverflowError:
                raise DacError(f"{row_note(n)}: {column} steps beyond the range of {kind}", at_every) from None
        return start + n * step, at_every, "yaml"  # typed (and range-checked) like any written number

    return value


def row_note(n: int) -> str:
    return f"row {n + 1} of repeat"


# --- csv and jsonl ----------------------------------------------------------------------


def _block(ctx: RowContext, key: tuple, text: Any, kind: str) -> list[FixtureRow]:
    """A ``csv: |`` or ``jsonl: |`` block: positions map line for line into the test file."""
    doc = ctx.doc
    node = doc.nodes.get(key)
    if not isinstance(text, str) or getattr(node, "style", None) != "|":
        raise DacError(f"{kind}: expected a literal block ({kind}: | then the lines, indented), so that each "
                       "line is a row and errors point at it", doc.location(key))
    origin = doc.block_text_origin(key)
    indent = origin[1] - 1 if origin else 0
    first_line = node.start_mark.line + 2  # the line after the "|" indicator, 1-based

    def locate(line: int, offset: int) -> Location:
        return Location(doc.path, first_line + line, indent + offset + 1)

    return parse_rows(text, kind, locate)


def _file(ctx: RowContext, key: tuple, name: Any) -> list[FixtureRow]:
    """``file: x.csv``: rows from a file beside the test file, inside the rules repository."""
    doc = ctx.doc
    at = doc.location(key + ("file",))
    if not isinstance(name, str) or not name.strip():
        raise DacError("file: expected a path relative to the test file, such as signins.csv", at)
    relative = Path(name)
    if relative.is_absolute():
        raise DacError(f"file: {name!r} is absolute; give a path relative to the test file", at)
    kind = _FORMATS.get(relative.suffix.lower())
    if kind is None:
        raise DacError(f"file: {name!r} must end in .csv or .jsonl (the format is read from the name)", at)
    folder = Path(doc.path).parent
    path = folder / relative
    root = rules_repository(Path(doc.path))
    if not within(path.resolve(), root):
        raise DacError(f"file: {name!r} leaves the rules repository ({root}); fixture files must live inside it", at)
    if not path.exists():
        raise DacError(f"file: no such file {str(path)!r}", at)
    text = read_text(path, MAX_ROWS_FILE_BYTES, DacError, "fixture files are expected to be small")
    return parse_rows(text, kind, lambda line, offset: Location(str(path), line + 1, offset + 1))


def rules_repository(test_file: Path) -> Path:
    """The rules repository holding ``test_file``: the folder of its dac settings, else of its
    git work tree, else the test file's own folder."""
    folder = test_file.resolve().parent
    settings = config.find_config(folder)
    if settings is not None:
        return settings.parent.resolve()
    for candidate in (folder, *folder.parents):
        if (candidate / ".git").exists():
            return candidate
    return folder


def parse_rows(text: str, kind: str, locate: Callable[[int, int], Location]) -> list[FixtureRow]:
    """Rows of CSV or JSON-lines ``text``; ``locate(line, offset)`` (both from 0) places an error."""
    lines = text.splitlines()
    return _csv_rows(lines, locate) if kind == "csv" else _jsonl_rows(lines, locate)


def _csv_rows(lines: list[str], locate: Callable[[int, int], Location]) -> list[FixtureRow]:
    numbered = [(number, line) for number, line in enumerate(lines) if line.strip()]
    if not numbered:
        raise DacError("csv: no header line (the first line names the columns)", locate(0, 0))
    header_line, header = numbered[0]
    names = []
    for name, offset, _ in _cells(header, header_line, locate):
        if not name:
            raise DacError("csv: empty column name in the header", locate(header_line, offset))
        if name in [n for n, _ in names]:
            raise DacError(f"csv: column '{name}' is named twice in the header", locate(header_line, offset))
        names.append((name, offset))
    rows = []
    for number, line in numbered[1:]:
        cells = _cells(line, number, locate)
        if len(cells) != len(names):
            raise DacError(f"csv: this line has {len(cells)} cell(s), the header names {len(names)} column(s)",
                           locate(number, 0))
        row = FixtureRow({}, {}, {})
        for (name, name_offset), (value, offset, quoted) in zip(names, cells):
            if value == "" and not quoted:
                continue  # an empty cell states nothing: the column takes its default
            row.values[name] = value
            row.where[name] = locate(number, offset)
            row.key_where[name] = locate(header_line, name_offset)
            row.text.add(name)
        rows.append(row)
    return rows


def _cells(line: str, number: int, locate: Callable[[int, int], Location]) -> list[tuple[str, int, bool]]:
    """The cells of one CSV line as (value, offset, quoted); a quoted cell may hold commas and ``""``."""
    cells: list[tuple[str, int, bool]] = []
    position = 0
    while True:
        start = position
        while start < len(line) and line[start] in " \t":
            start += 1
        if start < len(line) and line[start] == '"':
            end, chars = start + 1, []
            while True:
                if end >= len(line):
                    raise DacError("csv: a quoted cell is not closed on its line", locate(number, start))
                if line[end] == '"':
                    if line.startswith('""', end):
                        chars.append('"')
                        end += 2
                        continue
                    end += 1
                    break
                chars.append(line[end])
                end += 1
            while end < len(line) and line[end] in " \t":
                end += 1
            if end < len(line) and line[end] != ",":
                raise DacError("csv: text after a quoted cell (a cell is quoted whole)", locate(number, end))
            cells.append(("".join(chars), start, True))
        else:
            end = line.find(",", start)
            end = len(line) if end < 0 else end
            raw = line[start:end]
            if '"' in raw:
                raise DacError('csv: a quote inside an unquoted cell; quote the whole cell and double the quote ("")',
                               locate(number, start + raw.index('"')))
            cells.append((raw.rstrip(" \t"), start, False))
        if end >= len(line):
            return cells
        position = end + 1


def _jsonl_rows(lines: list[str], locate: Callable[[int, int], Location]) -> list[FixtureRow]:
    rows = []
    for number, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DacError(f"jsonl: {exc.msg}", locate(number, exc.colno - 1)) from None
        if not isinstance(value, dict):
            raise DacError("jsonl: each line must be one JSON object, {\"Column\": value, ...}",
                           locate(number, len(line) - len(line.lstrip())))
        row = FixtureRow(value, {}, {})
        for column in value:
            found = re.search(re.escape(json.dumps(column)) + r"\s*:", line)
            offset = found.start() if found else 0
            row.where[column] = row.key_where[column] = locate(number, offset)
        rows.append(row)
    return rows
