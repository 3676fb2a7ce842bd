"""A ``FileSource`` as a DuckDB view over DuckDB's own file readers, typed as the row engine types files.

``register_files`` makes a view with exactly the catalog's columns, in its order and in the
physical form of ``dac.engines.physical``, over ``read_json``/``read_csv``/``read_parquet`` of
the source's files, globs and folders (gzip included). Nothing passes through Python but the
rare value the SQL fast paths of ``duckdb_typing`` do not cover, so a back-test reads files at
DuckDB's speed and streams: memory follows the query, not the files.

What the row engine does with file values, the view does too (``dac.backtest``):
- a column the catalog has but a file lacks is null ("" for a string);
- a column the catalog lacks is an error naming it (checked from each CSV header and Parquet
  schema; for JSON from the rows DuckDB samples to detect a schema, since reading every key of
  every row would cost a second parse);
- a string (datetime, guid) column is read as DuckDB's text of the value when the rows DuckDB
  samples hold only strings there (no per-value JSON work), else as JSON and typed exactly; past the
  sample, a number or object in such a column is DuckDB's text of it, which is the row engine's
  except for reals not written in their shortest form (``1.0``: the row engine says "1") and
  objects holding escapes;
- a value that does not fit its column stops the query with an error naming the file, line and
  column (``file_error``) instead of becoming null. The check runs where the value is read, in
  the same scan: a value in a column or row the query never reads is not checked, where the row
  engine, which types every value it reads, would stop.
- the budget's max-data-mb caps what a .gz file decompresses to, what a .json file (read whole)
  holds, and what a Parquet file's row groups declare they unpack to.
"""

from __future__ import annotations

import csv
import glob
import gzip
import io
import json
import os
from pathlib import Path
from typing import Any, Iterator

import duckdb

from dac.backtest import DEFAULT_MAX_DATA_MB, DataFile, _column_converter, _csv_location, _json_location
from dac.engines.duckdb_typing import misfit_condition, register_udfs, typed_expression
from dac.engines.physical import sql_type
from dac.engines.sources import FileSource
from dac.errors import DacError, Location, did_you_mean

_MARK = "dac-misfit"
_SEP = "\x1e"  # between the fields of a misfit's error text: a character no file name or column name holds
_GLOB = set("*?[")


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def expand(source: FileSource) -> list[str]:
    """The files of ``source``: each path as a file, the matches of a glob, or a folder's files of its format."""
    files: list[str] = []
    for path in source.paths:
        if _GLOB & set(path):
            found = sorted(p for p in glob.glob(path, recursive=True) if os.path.isfile(p))
        elif os.path.isdir(path):
            found = sorted(str(p) for p in Path(path).iterdir() if p.is_file() and _fits(p, source))
        elif os.path.isfile(path):
            found = [path]
        else:
            raise DacError("data file not found", Location(path))
        if not found:
            raise DacError(f"no {source.format} data files match", Location(path))
        files.extend(found)
    for file in files:
        kind = DataFile("", Path(file)).format
        if kind != source.format or file.lower().endswith(".gz") != source.compressed:
            raise DacError(f"every file of one table must be of one format for a SQL engine "
                           f"(found {kind} besides {source.format})", Location(file))
    return files


def _fits(path: Path, source: FileSource) -> bool:
    try:
        return DataFile("", path).format == source.format and path.name.lower().endswith(".gz") == source.compressed
    except DacError:
        return False


# ------------------------------------------------------------ budget


def _limit_error(file: str, what: str, limit: int) -> DacError:
    return DacError(f"{what} more than {limit // 1_000_000} MB (the --max-data-mb limit, also [tool.dac] max-data-mb)",
                    Location(file))


def _check_budget(connection: Any, files: list[str], source: FileSource, limit: int) -> None:
    """The max-data-mb limits of the row engine, checked before DuckDB reads anything."""
    if source.format == "parquet":
        listing = ", ".join(_text(f) for f in files)
        for name, unpacked in connection.execute(
                f"SELECT file_name, sum(total_uncompressed_size) FROM parquet_metadata([{listing}]) "
                "GROUP BY file_name").fetchall():
            if unpacked and unpacked > limit:
                raise _limit_error(name, "decompresses to", limit)
        return
    for file in files:
        if source.compressed:
            with gzip.open(file, "rb") as stream:  # counted, not trusted from the footer (mod 2**32)
                total = 0
                try:
                    while chunk := stream.read(1 << 20):
                        total += len(chunk)
                        if total > limit:
                            raise _limit_error(file, "decompresses to", limit)
                except (OSError, EOFError) as exc:
                    raise DacError(f"cannot read data file: {exc}", Location(file)) from None
        elif source.format == "json" and os.path.getsize(file) > limit:
            raise _limit_error(file, "holds", limit)


# ------------------------------------------------------------ columns


def _unknown(name: str, table: str, known: list[str], where: Location) -> DacError:
    return DacError(f"column '{name}' is not in {table}{did_you_mean(name, known)}", where)


def _csv_header(file: str, compressed: bool) -> list[str]:
    opener = gzip.open if compressed else open
    with opener(file, "rb") as raw, io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as text:
        return next(csv.reader(text), [])


def _present_columns(connection: Any, table: str, files: list[str], reader: str,
                     source: FileSource) -> dict[str, str]:
    """The catalog's columns the files hold, with the DuckDB type they are read as; others are errors."""
    names = [name for name, _ in source.columns]
    present: dict[str, str] = {}
    if source.format == "csv":
        for file in files:
            header = _csv_header(file, source.compressed)
            for position, column in enumerate(header):
                if column not in names:
                    offset = sum(len(h) + 1 for h in header[:position]) + 1
                    raise _unknown(column, table, names, Location(file, 1, offset))
                present[column] = "VARCHAR"
        return present
    if source.format == "parquet":
        for file in files:
            for column, kind, *_ in connection.execute(f"DESCRIBE SELECT * FROM read_parquet({_text(file)})").fetchall():
                if column not in names:
                    raise _unknown(column, table, names, Location(file))
                present.setdefault(column, kind)
        return present
    json_format = "newline_delimited" if source.format == "jsonl" else "array"
    compression = "gzip" if source.compressed else "none"
    sampled = f"read_json({{files}}, format='{json_format}', compression='{compression}')"
    sample = {row[0]: row[1] for row in connection.execute(
        f"DESCRIBE SELECT * FROM {sampled.format(files=reader)}").fetchall()}
    stray = [key for key in sample if key not in names]
    if stray:
        culprit = next((f for f in files if any(
            row[0] == stray[0] for row in connection.execute(
                f"DESCRIBE SELECT * FROM {sampled.format(files=_text(f))}").fetchall())), files[0])
        raise _unknown(stray[0], table, names, Location(culprit))
    return {name: "VARCHAR" if kind in _TEXT_KINDS and sample.get(name, "NULL") in _SAMPLED_AS_TEXT else "JSON"
            for name, kind in source.columns}


# Types whose value the row engine reads the same from a JSON string as from DuckDB's text of any
# other JSON value: a string, and a datetime or guid, for which every non-string value is a misfit.
_TEXT_KINDS = {"string", "datetime", "guid"}


# What DuckDB's schema detection calls a JSON string (it types date and time text, too).
_SAMPLED_AS_TEXT = {"VARCHAR", "NULL", "DATE", "TIME", "TIMESTAMP", "TIMESTAMP WITH TIME ZONE", "UUID"}


# ------------------------------------------------------------ the view


def _reader(files: list[str], source: FileSource, present: dict[str, str]) -> str:
    listing = "[" + ", ".join(_text(f) for f in files) + "]"
    compression = "gzip" if source.compressed else "none"
    if source.format in ("jsonl", "json"):
        columns = ", ".join(f"{_text(name)}: '{kind}'" for name, kind in present.items())
        json_format = "newline_delimited" if source.format == "jsonl" else "array"
        return (f"read_json({listing}, format='{json_format}', compression='{compression}', columns={{{columns}}}, "
                "auto_detect=false)")
    if source.format == "csv":
        return (f"read_csv({listing}, header=true, delim=',', quote='\"', escape='\"', all_varchar=true, "
                f"union_by_name=true, compression='{compression}', strict_mode=true, encoding='utf-8')")
    return f"read_parquet({listing}, union_by_name=true)"


_PARQUET_INTEGERS = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT"}


def _parquet_typed(raw: str, kind: str, stored: str, file: str, name: str) -> tuple[str, bool]:
    """(SQL typing a Parquet column stored as DuckDB type ``stored`` as ``kind``, whether it can misfit).

    Typed Parquet values are taken where the row engine's converter keeps them as they are
    or converts them as DuckDB's cast does; a string column goes by the text rules; anything
    else is refused rather than typed by rules of DuckDB's own."""
    if stored == "VARCHAR":
        return typed_expression(raw, kind, False), kind != "string"
    integer = stored in _PARQUET_INTEGERS
    exact = {"string": stored == "VARCHAR", "bool": stored == "BOOLEAN", "real": stored in ("DOUBLE", "FLOAT"),
             "long": integer, "int": integer, "datetime": stored.startswith("TIMESTAMP"), "guid": stored == "UUID"}
    if not exact.get(kind, False):
        raise DacError(f"Parquet column '{name}' holds {stored}, which the duckdb engine does not read as {kind}; "
                       "use --engine python", Location(file))
    if kind == "datetime":
        if stored in ("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ"):
            return f"timezone('UTC', {raw})", False
        return f"CAST({raw} AS TIMESTAMP)", False  # _S, _MS, _NS: DuckDB's cast to microseconds
    if kind == "guid":
        return f"lower(CAST({raw} AS VARCHAR))", False
    if kind in ("int", "long"):
        return f"try_cast({raw} AS {'INTEGER' if kind == 'int' else 'BIGINT'})", True
    return f"CAST({raw} AS {sql_type(kind, 'duckdb')})", False


def register_files(connection: Any, name: str, source: FileSource, *,
                   max_data_mb: int = DEFAULT_MAX_DATA_MB) -> None:
    """Create the view ``name`` over ``source``'s files: the catalog's columns, typed as the row engine types them.

    DacError, naming the file, for files that are missing, over the budget or hold a column
    the catalog does not; a misfit value is reported when the query reads it (``file_error``).
    """
    # DuckDB draws a progress bar for long queries on the terminal dac writes its result rows to
    connection.execute("SET enable_progress_bar = false")
    files = expand(source)
    _check_budget(connection, files, source, max_data_mb * 1_000_000)
    listing = "[" + ", ".join(_text(f) for f in files) + "]"
    try:
        present = _present_columns(connection, name, files, listing, source)
    except duckdb.Error as exc:
        raise (file_error(exc) or DacError(f"cannot read data: {str(exc).splitlines()[0]}", Location(files[0]))) \
            from None
    raw_is_json = source.format in ("jsonl", "json")
    inner = ["filename AS dac_file"]
    outer = []
    for position, (column, kind) in enumerate(source.columns):
        raw, typed = f"r{position}", f"t{position}"
        if column not in present:
            default = "''" if kind == "string" else f"CAST(NULL AS {sql_type(kind, 'duckdb')})"
            outer.append(f"{default} AS {_ident(column)}")
            continue
        if source.format == "parquet":
            expression, can_misfit = _parquet_typed(raw, kind, present[column], files[0], column)
            misfit = f"({typed} IS NULL AND {raw} IS NOT NULL)" if present[column] != "VARCHAR" else \
                misfit_condition(raw, typed, kind, False)
        else:
            as_json = raw_is_json and present[column] == "JSON"
            expression, can_misfit = typed_expression(raw, kind, as_json), kind != "string"
            misfit = misfit_condition(raw, typed, kind, as_json)
        inner.append(f"CAST({_ident(column)} AS VARCHAR) AS {raw}" if raw_is_json else f"{_ident(column)} AS {raw}")
        inner.append(f"{expression} AS {typed}")
        if can_misfit:
            mark = " || ".join([_text(_SEP.join([_MARK, source.format, column, kind, ""])), "dac_file",
                                _text(_SEP), f"CAST({raw} AS VARCHAR)"])
            outer.append(f"CASE WHEN {misfit} THEN error({mark}) ELSE {typed} END AS {_ident(column)}")
        else:
            outer.append(f"{typed} AS {_ident(column)}")
    raw_read = f"(SELECT {', '.join(inner)} FROM (SELECT *, filename FROM {_reader(files, source, present)}))"
    view = f"CREATE OR REPLACE VIEW {_ident(name)} AS SELECT {', '.join(outer)} FROM {raw_read}"
    register_udfs(connection, view)
    connection.execute(view)


# ------------------------------------------------------------ errors


def file_error(error: BaseException) -> DacError | None:
    """A DuckDB error met while reading a registered view's files, as the row engine's located error.

    None for an error that is not about a data file. A misfit value is found again in its file
    by the row engine's own rules, so the message and location are the ones ``--engine python``
    gives; so is a line that is not JSON.
    """
    text = str(error)
    if _MARK + _SEP in text:
        fields = text[text.index(_MARK + _SEP):].split(_SEP)
        _, file_format, column, kind, file, raw = fields[:6]
        raw = raw.split("\n")[0].rstrip()
        return _misfit(file_format, column, kind, file, raw)
    if "Malformed JSON in file" in text:
        file = text.split('"', 2)[1]
        found = _bad_json_line(file)
        return found or DacError(f"invalid JSON: {text.splitlines()[0]}", Location(file))
    if "CSV Error" in text or "Error when sniffing file" in text:
        return DacError(f"cannot read CSV data: {' '.join(text.split())[:400]}")
    if "Parquet" in text or "parquet" in text:
        return DacError(f"cannot read Parquet data: {text.splitlines()[0]}")
    return None


def _lines(file: str) -> Iterator[bytes]:
    opener = gzip.open if file.lower().endswith(".gz") else open
    with opener(file, "rb") as handle:
        yield from handle


def _fails(kind: str, value: Any) -> bool:
    if value is None:
        return False
    try:
        _column_converter(kind)(value)
    except (ValueError, TypeError, ArithmeticError):
        return True
    return False


def _misfit(file_format: str, column: str, kind: str, file: str, raw: str) -> DacError:
    shown: Any = raw
    if file_format in ("jsonl", "json"):
        try:
            shown = json.loads(raw)
        except ValueError:
            pass
    message = f"column '{column}': {shown!r} is not a valid {kind}"
    where = Location(file)
    if file_format == "jsonl":
        needle = raw.encode()
        for attempt in (True, False):  # first the lines holding the raw text, then every line
            for number, line in enumerate(_lines(file), 1):
                if attempt and needle not in line or not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                if isinstance(record, dict) and _fails(kind, record.get(column)):
                    return DacError(message, _json_location(Path(file), number, line, column))
    elif file_format == "csv":
        text = io.TextIOWrapper(io.BytesIO(b"".join(_lines(file))), encoding="utf-8-sig", newline="")
        reader = csv.reader(text)
        header = next(reader, [])
        for fields in reader:
            record = dict(zip(header, fields))
            if record.get(column) == raw:
                return DacError(message, _csv_location(Path(file), reader.line_num, header, fields, column))
    elif file_format == "json":
        for number, record in enumerate(json.loads(b"".join(_lines(file))), 1):
            if isinstance(record, dict) and _fails(kind, record.get(column)):
                return DacError(message, Location(f"{file} (row {number})"))
    return DacError(message, where)


def _bad_json_line(file: str) -> DacError | None:
    for number, line in enumerate(_lines(file), 1):
        if not line.strip():
            continue
        try:
            json.loads(line)
        except ValueError as exc:
            return DacError(f"invalid JSON: {getattr(exc, 'msg', exc)}", Location(file, number, getattr(exc, "colno", 1)))
    return None
