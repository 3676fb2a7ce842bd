"""``dac run``: back-test a query or a rule over files of real log rows.

A detection engineer exports a day of ``UrlClickEvents`` (JSON lines, CSV or
Parquet, possibly gzipped) and asks what the rule would have returned. Each
file feeds the table it is named for; its values are typed by the platform's
catalog exactly as fixture rows are, so ``has``, ``==`` and ``ago()`` behave as
in the rule's unit tests.

Files are read in chunks (``FileTable`` is a ``RowSource``): the evaluator runs
the row-local head of the query (where, extend, project, parse, mv-expand) on
each chunk and keeps only what survives it, so memory follows the rows the
filters keep, not the size of the files. A value that does not fit its column
is an error naming file, line and column; nothing is skipped.
"""

from __future__ import annotations

import csv
import glob
import gzip
import io
import json
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from dac import catalog
from dac.engines.sources import FileSource
from dac.errors import DacError, Location, did_you_mean
from dac.files import regular_file
from dac.kql import values as V
from dac.kql.budget import Limits
from dac.kql.streaming import RowSource
from dac.kql.table import Table

DEFAULT_CHUNK_ROWS = 50_000
# What one data file may decompress to (.gz), hold when it is read whole (.json) or hold in
# one line (.jsonl): a gzip bomb or a runaway export ends in an error, not in a full disk or
# memory ([tool.dac] max-data-mb, one of the evaluation budget's limits).
DEFAULT_MAX_DATA_MB = Limits().data_mb
_decode = json.JSONDecoder().decode
FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".csv": "csv", ".parquet": "parquet"}

Progress = Callable[[str, int, float | None], None]  # table, rows read so far, fraction of bytes read


@dataclass(frozen=True)
class DataFile:
    """One ``--data`` argument: the table a file feeds and the file."""

    table: str
    path: Path

    @property
    def format(self) -> str:
        name = self.path.name.lower()
        stem = name[:-3] if name.endswith(".gz") else name
        for suffix, kind in FORMATS.items():
            if stem.endswith(suffix):
                if kind == "parquet" and name.endswith(".gz"):
                    break
                return kind
        raise DacError(f"unknown data file type (expected {', '.join(sorted(FORMATS))}, optionally .gz, "
                       "except Parquet)", Location(str(self.path)))


def data_file(argument: str) -> DataFile:
    """``Table=path`` or ``path`` (the table is the file name up to its first dot)."""
    table, sep, path = argument.partition("=")
    if not sep or os.sep in table or not table.isidentifier():
        table, path = Path(argument).name.split(".", 1)[0], argument
    if Path(path).is_dir():
        raise DacError("is a folder; pass its files (e.g. folder/*.jsonl)", Location(path))
    return DataFile(table, regular_file(path, missing="data file not found"))


def _column_converter(kind: str) -> Callable[[Any], Any]:
    """Non-null value from a file -> KQL value of ``kind`` (not string); ValueError when it does not fit.

    JSON and Parquet carry typed values; CSV carries text, where an empty field is
    null for every type but string, and a dynamic field holds JSON text.
    """
    convert = V.CONVERTERS[kind]
    if kind == "dynamic":
        return lambda raw: V.to_dynamic(raw) if isinstance(raw, str) else raw
    exact = {"bool": bool, "long": int, "int": int, "real": float, "datetime": datetime}.get(kind)

    def run(raw: Any) -> Any:
        if raw == "":
            return None
        if raw.__class__ is exact:
            return V.naive_utc(raw) if exact is datetime else raw
        if isinstance(raw, bool) and kind != "bool":
            raise ValueError
        value = convert(raw)
        if value is None:
            raise ValueError
        return value

    return run


class FileTable(RowSource):
    """The rows of one table, read from its files chunk by chunk."""

    def __init__(self, table: str, files: list[DataFile], columns: tuple[tuple[str, str], ...],
                 chunk_rows: int = DEFAULT_CHUNK_ROWS, progress: Progress | None = None,
                 max_data_mb: int = DEFAULT_MAX_DATA_MB) -> None:
        self.table = table
        self.files = files
        self.columns = list(columns)
        self.chunk_rows = chunk_rows
        self.progress = progress
        self.max_bytes = max_data_mb * 1_000_000
        self.rows_read = 0
        self._index = {name: i for i, (name, _) in enumerate(columns)}
        self._names = [name for name, _ in columns]
        self._string_positions = [i for i, (_, kind) in enumerate(columns) if kind == "string"]
        self._typed = [(i, _column_converter(kind)) for i, (_, kind) in enumerate(columns) if kind != "string"]

    def chunks(self) -> Iterator[Table]:
        self.rows_read = 0
        yielded = False
        for file in self.files:
            reader = {"jsonl": self._jsonl, "json": self._json, "csv": self._csv, "parquet": self._parquet}[file.format]
            for rows in reader(file):
                self.rows_read += len(rows)
                yielded = True
                yield Table(self.columns, rows)
        if not yielded:
            yield Table(self.columns, [])

    # ------------------------------------------------------------ rows

    def _row(self, record: dict[str, Any], where: Callable[[str | None], Location]) -> tuple:
        """A typed row from a record {column: value}; unknown columns and misfit values are errors.

        Most values in a log export are strings already in place, so string
        columns are only touched when a value is not a string; the other
        columns go through their converter.
        """
        if not isinstance(record, dict):
            raise DacError(f"expected an object of column values, found {type(record).__name__}", where(None))
        if not record.keys() <= self._index.keys():
            unknown = sorted(k for k in record if k not in self._index)
            raise DacError(f"column '{unknown[0]}' is not in {self.table}{did_you_mean(unknown[0], list(self._index))}",
                           where(unknown[0]))
        get = record.get
        values = [get(name) for name in self._names]
        for position in self._string_positions:
            if values[position].__class__ is not str:
                values[position] = "" if values[position] is None else V.to_string(values[position])
        for position, convert in self._typed:
            raw = values[position]
            if raw is not None:
                try:
                    values[position] = convert(raw)
                except (ValueError, TypeError, ArithmeticError):
                    name, kind = self.columns[position]
                    raise DacError(f"column '{name}': {raw!r} is not a valid {kind}", where(name)) from None
        return tuple(values)

    def _batches(self, rows: Iterator[tuple], raw: IO[bytes], size: int) -> Iterator[list[tuple]]:
        """Rows in lists of ``chunk_rows``, telling progress (bytes read of the file) after each."""
        batch: list[tuple] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= self.chunk_rows:
                self._report(raw, size, len(batch))
                yield batch
                batch = []
        if batch:
            self._report(raw, size, len(batch))
            yield batch

    def _report(self, raw: IO[bytes], size: int, pending: int) -> None:
        if self.progress is not None:
            self.progress(self.table, self.rows_read + pending, raw.tell() / size if size else None)

    def _jsonl(self, file: DataFile) -> Iterator[list[tuple]]:
        with _open_binary(file.path, self.max_bytes) as (handle, raw, size):
            yield from self._batches(self._jsonl_rows(file, handle), raw, size)

    def _jsonl_rows(self, file: DataFile, handle: IO[bytes]) -> Iterator[tuple]:
        number = 0
        while True:
            line = handle.readline(self.max_bytes + 1)  # never more than the limit of one line in memory
            if not line:
                return
            number += 1
            if len(line) > self.max_bytes:
                raise DacError(f"line {number} holds more than {self.max_bytes // 1_000_000} MB (the --max-data-mb "
                               "limit, also [tool.dac] max-data-mb)", Location(str(file.path), number, 1))
            if not line.strip():
                continue
            try:
                record = _decode(line.decode("utf-8").rstrip("\r\n"))
            except ValueError as exc:
                column = getattr(exc, "colno", 1)
                raise DacError(f"invalid JSON: {getattr(exc, 'msg', exc)}", Location(str(file.path), number, column)) \
                    from None
            yield self._row(record, lambda name, n=number, l=line: _json_location(file.path, n, l, name))

    def _json(self, file: DataFile) -> Iterator[list[tuple]]:
        """A JSON array of row objects (read whole: JSON arrays cannot be streamed line by line)."""
        with _open_binary(file.path, self.max_bytes, whole=True) as (handle, _position, _size):
            try:
                records = json.load(handle)
            except ValueError as exc:
                raise DacError(f"invalid JSON: {getattr(exc, 'msg', exc)}",
                               Location(str(file.path), getattr(exc, "lineno", 0), getattr(exc, "colno", 0))) from None
        if not isinstance(records, list):
            raise DacError("a .json data file holds an array of row objects (use .jsonl for one object a line)",
                           Location(str(file.path), 1, 1))
        for start in range(0, len(records), self.chunk_rows):
            yield [self._row(record, lambda name, n=start + i + 1: Location(f"{file.path} (row {n})"))
                   for i, record in enumerate(records[start:start + self.chunk_rows])]

    def _csv(self, file: DataFile) -> Iterator[list[tuple]]:
        with _open_binary(file.path, self.max_bytes) as (handle, raw, size):
            text = io.TextIOWrapper(handle, encoding="utf-8-sig", newline="")
            try:
                yield from self._batches(self._csv_rows(file, text), raw, size)
            finally:
                text.detach()  # the file is closed by _open_binary, not by the wrapper

    def _csv_rows(self, file: DataFile, text: IO[str]) -> Iterator[tuple]:
        reader = csv.reader(text)
        header = next(reader, None)
        if header is None:
            return
        for column, name in enumerate(header):
            if name not in self._index:
                offset = sum(len(h) + 1 for h in header[:column]) + 1
                raise DacError(f"column '{name}' is not in {self.table}{did_you_mean(name, list(self._index))}",
                               Location(str(file.path), 1, offset))
        for fields in reader:
            if not fields:
                continue
            if len(fields) != len(header):
                raise DacError(f"expected {len(header)} fields, found {len(fields)}",
                               Location(str(file.path), reader.line_num, 1))
            line = reader.line_num
            yield self._row(dict(zip(header, fields)),
                            lambda name, n=line, f=fields: _csv_location(file.path, n, header, f, name))

    def _parquet(self, file: DataFile) -> Iterator[list[tuple]]:
        try:
            import pyarrow.parquet as parquet
        except ImportError:
            raise DacError("reading Parquet needs pyarrow: pip install 'dac-framework[parquet]'", Location(str(file.path))) \
                from None
        try:
            source = parquet.ParquetFile(file.path)
        except Exception as exc:  # noqa: BLE001 - pyarrow raises several types for a bad file
            raise DacError(f"not a readable Parquet file: {exc}", Location(str(file.path))) from None
        total = source.metadata.num_rows
        metadata = source.metadata
        unpacked = sum(metadata.row_group(i).total_byte_size for i in range(metadata.num_row_groups))
        if unpacked > self.max_bytes:  # what the row groups decompress to, as the file's footer declares it
            raise DacError(f"decompresses to more than {self.max_bytes // 1_000_000} MB (the --max-data-mb limit, "
                           "also [tool.dac] max-data-mb)", Location(str(file.path)))
        done = 0
        for batch in source.iter_batches(batch_size=self.chunk_rows):
            rows = [self._row(record, lambda name, n=done + i + 1: Location(f"{file.path} (row {n})"))
                    for i, record in enumerate(batch.to_pylist())]
            done += len(rows)
            if self.progress is not None:
                self.progress(self.table, self.rows_read + len(rows), done / total if total else None)
            yield rows


class _Capped(io.RawIOBase):
    """A stream that fails, naming the file, once more than ``limit`` bytes were read from it."""

    def __init__(self, inner: IO[bytes], limit: int, path: Path, what: str) -> None:
        self.inner, self.limit, self.path, self.what, self.count = inner, limit, path, what, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = self.inner.readinto(buffer)
        self.count += count
        if self.count > self.limit:
            raise DacError(f"{self.what} more than {self.limit // 1_000_000} MB (the --max-data-mb limit, "
                           "also [tool.dac] max-data-mb)",
                           Location(str(self.path)))
        return count


class _open_binary:
    """Open a data file for binary reading, through gzip when it ends in .gz.

    Yields (stream, raw file, size): progress is the raw file's position over
    its size, which for gzip is the compressed position. What gzip decompresses,
    and a file read ``whole``, is capped at ``limit`` bytes.
    """

    def __init__(self, path: Path, limit: int, whole: bool = False) -> None:
        self.path = path
        self.limit = limit
        self.whole = whole

    def __enter__(self) -> tuple[IO[bytes], IO[bytes], int]:
        regular_file(self.path, missing="data file not found")  # never open a FIFO or a device
        try:
            self.raw = open(self.path, "rb")  # noqa: SIM115 - closed in __exit__
        except OSError as exc:
            raise DacError(f"cannot read data file: {exc.strerror}", Location(str(self.path))) from None
        size = os.fstat(self.raw.fileno()).st_size
        stream: IO[bytes] = self.raw
        if self.path.name.lower().endswith(".gz"):
            stream = io.BufferedReader(_Capped(gzip.GzipFile(fileobj=self.raw), self.limit, self.path,
                                               "decompresses to"))
        elif self.whole:
            stream = io.BufferedReader(_Capped(self.raw, self.limit, self.path, "holds"))
        return stream, self.raw, size

    def __exit__(self, kind: Any, error: Any, trace: Any) -> None:
        self.raw.close()
        if isinstance(error, (OSError, EOFError, UnicodeDecodeError, csv.Error)) and not isinstance(error, DacError):
            raise DacError(f"cannot read data file: {error}", Location(str(self.path))) from None


def _json_location(path: Path, number: int, line: bytes, name: str | None) -> Location:
    if name is None:
        return Location(str(path), number, 1)
    key = line.find(json.dumps(name).encode())
    return Location(str(path), number, key + 1 if key >= 0 else 1)


def _csv_location(path: Path, number: int, header: list[str], fields: list[str], name: str | None) -> Location:
    if name is None or name not in header:
        return Location(str(path), number, 1)
    position = header.index(name)
    return Location(str(path), number, sum(len(f) + 1 for f in fields[:position]) + 1)


_GLOB = set("*?[")


def _table_and_path(argument: str) -> tuple[str, str]:
    """``Table=path`` or ``path``: the table is the file's (or folder's) name up to its first dot; for a glob, the
    name of the folder it searches unless its file part names the table (``logs/UrlClickEvents-*.jsonl``)."""
    table, sep, path = argument.partition("=")
    if sep and os.sep not in table and table.isidentifier():
        return table, path
    name = Path(argument).name
    if _GLOB & set(name):
        stem = name.split(".", 1)[0].rstrip("*?[]-_")
        name = stem if stem.isidentifier() else Path(argument).parent.name
    return name.split(".", 1)[0], argument


def table_name(argument: str) -> str:
    """The table a ``--data`` argument feeds."""
    return _table_and_path(argument)[0]


def expand_argument(argument: str) -> list[str]:
    """A ``--data`` argument as ``Table=file`` arguments: a folder's data files and a glob's matches, sorted."""
    table, path = _table_and_path(argument)
    found = path_files(path)
    if found is None:
        return [argument]
    if not found:
        raise DacError("no data files match (.jsonl, .json, .csv, each optionally .gz, or .parquet)", Location(path))
    return [f"{table}={file}" for file in found]


def path_files(path: str) -> list[str] | None:
    """The files a glob or a folder names, in the order the row engine reads them (sorted); None for a file.

    The spark engine orders its rows by this list too (``dac.engines.spark_order``), so both read alike.
    """
    if _GLOB & set(path):
        return sorted(p for p in glob.glob(path, recursive=True) if os.path.isfile(p))
    if Path(path).is_dir():
        return sorted(str(p) for p in Path(path).iterdir() if p.is_file() and _is_data_file(p))
    return None


def _is_data_file(path: Path) -> bool:
    try:
        DataFile("", path).format  # noqa: B018 - raises for another kind of file
    except DacError:
        return False
    return True


def data_size(arguments: list[str]) -> tuple[int, bool]:
    """(bytes on disk of every data file, whether any is Parquet): what the default engine is chosen by."""
    total, parquet = 0, False
    for argument in arguments:
        for expanded in expand_argument(argument):
            file = data_file(expanded)
            total += file.path.stat().st_size
            parquet = parquet or file.format == "parquet"
    return total, parquet


def _catalog_columns(platform: str, table: str, path: str) -> tuple[tuple[str, str], ...]:
    """The catalog's columns of the table a data file feeds; an unknown table is an error at the file."""
    columns = catalog.table_columns(platform, table)
    if columns is None:
        hint = did_you_mean(table, catalog.known_tables(platform))
        raise DacError(f"table '{table}' is not in the {catalog.PLATFORMS[platform]} catalog{hint}; "
                       "name the file after its table or pass Table=path", Location(path))
    return columns


def file_sources(arguments: list[str], platform: str, remote: bool = False) -> dict[str, FileSource]:
    """The ``--data`` arguments as one ``FileSource`` per table for a SQL engine, typed by ``platform``'s catalog.

    Folders and globs stay as given: the engine's reader expands them. ``remote`` (Spark) takes
    URLs such as ``abfss://`` and ``s3a://`` too, which are not looked up here."""
    by_table: dict[str, list[str]] = {}
    kinds: dict[str, tuple[str, bool]] = {}
    for argument in arguments:
        table, path = _table_and_path(argument)
        is_url = remote and "://" in path
        if not is_url and not _GLOB & set(path) and not Path(path).exists():
            raise DacError("data file not found", Location(path))
        if is_url or _GLOB & set(path) or not Path(path).is_dir():
            sample = Path(path)
        else:
            files = expand_argument(argument)
            sample = Path(files[0].partition("=")[2])
        kind = (DataFile(table, sample).format, sample.name.lower().endswith(".gz"))
        if kinds.setdefault(table, kind) != kind:
            raise DacError(f"the files of {table} must be of one format for a SQL engine "
                           f"({kinds[table][0]} and {kind[0]})", Location(path))
        by_table.setdefault(table, []).append(path)
    sources = {}
    for table, paths in by_table.items():
        columns = _catalog_columns(platform, table, paths[0])
        file_format, compressed = kinds[table]
        sources[table] = FileSource(tuple(columns), tuple(paths), file_format, compressed)
    return sources


def file_tables(arguments: list[str], platform: str, chunk_rows: int = DEFAULT_CHUNK_ROWS,
                progress: Progress | None = None, max_data_mb: int = DEFAULT_MAX_DATA_MB) -> Mapping[str, FileTable]:
    """The ``--data`` arguments as tables typed by ``platform``'s catalog, files of one table in order.

    On Sentinel the catalog includes the workspace's custom tables, and the workspace's functions,
    parsers and watchlists are bound above the query (``dac.workspace``), as in validate and test.
    """
    by_table: dict[str, list[DataFile]] = {}
    for argument in (expanded for given in arguments for expanded in expand_argument(given)):
        file = data_file(argument)
        file.format  # noqa: B018 - an unknown file type is an error before anything is read
        by_table.setdefault(file.table, []).append(file)
    tables = {}
    for table, files in by_table.items():
        columns = _catalog_columns(platform, table, str(files[0].path))
        tables[table] = FileTable(table, files, columns, chunk_rows, progress, max_data_mb)
    from dac.workspace.environment import workspace_tables

    return workspace_tables(tables, platform)
