"""What a SQL engine reads a table from: rows already in memory, or files it reads itself.

The row engine takes ``Table`` objects and row sources; a SQL engine is handed one of
these per table name instead, so that large files are read by the engine's own
readers (DuckDB's ``read_json``/``read_csv``/``read_parquet``, Spark's DataFrame
readers) and never pass through Python. Either way the table has the columns and
KQL types of the platform's catalog, in the physical form of ``dac.engines.physical``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Union


@dataclass(frozen=True)
class RowsSource:
    """A table whose rows are in memory, valued as the row engine holds them (fixtures, tests)."""

    columns: tuple[tuple[str, str], ...]  # (name, KQL type)
    rows: Sequence[tuple[Any, ...]]


@dataclass(frozen=True)
class FileSource:
    """A table read from files of one format by the engine's native reader.

    ``paths`` are files, globs or folders as the user gave them (for Spark also URLs such as
    ``abfss://`` or ``s3a://``); ``format`` is one of ``jsonl``, ``json``, ``csv``, ``parquet``;
    ``compressed`` tells gzip (never for Parquet). ``columns`` are the catalog's, in its order.
    """

    columns: tuple[tuple[str, str], ...]
    paths: tuple[str, ...]
    format: str
    compressed: bool = False


Source = Union[RowsSource, FileSource]
