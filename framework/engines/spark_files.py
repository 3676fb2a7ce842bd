"""Files as Spark temp views with the catalog's columns, typed as the row engine types them (``dac.backtest``).

Spark's own readers do the reading (JSON lines, JSON arrays, CSV with a header, Parquet;
gzip by the file name; globs and folders; any Hadoop path such as ``abfss://`` or
``s3a://``, passed on as the user wrote it), so a month of logs on a cluster never passes
through Python. Text formats are read with an explicit schema of strings, never inferred:
inference would make ``"0012"`` a number and a timestamp of Spark's own idea, and the
catalog, not the data, says what a column is. The text is then converted by
``dac.engines.spark_text``, the same reading as ``dac.kql.values``' converters.

A value that does not fit its column fails the query with a message naming the file and
the column, as ``dac run`` on the python engine does. Spark checks a value where the query
reads it: a bad value in a column or row the query never looks at is not reported.
"""

from __future__ import annotations

import os
from typing import Any

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from dac.engines.physical import SQL_TYPES
from dac.engines.sources import FileSource
from dac.engines.spark_dialect import SOURCE_ORDINAL
from dac.engines.spark_order import file_order
from dac.engines.spark_text import INT_MAX, INT_MIN, TEXT_CONVERTERS, timespan_of_ticks
from dac.errors import DacError, Location

BAD_VALUE = "dac-bad-value:"
"""Prefix of the message a misfit value raises in Spark; ``spark_engine`` reads file and text from it."""
SEPARATOR = "\x1f"

_HINTS = {
    "datetime": " (the spark engine reads ISO 8601 datetimes; --engine python also reads the other forms)",
    "timespan": " (the spark engine reads d.hh:mm:ss and whole counts of d, h, m or s; a bare number could be "
                "days or ticks; --engine python reads every form)",
}
_INTEGRAL = (T.ByteType, T.ShortType, T.IntegerType, T.LongType)


def register_files(session: Any, name: str, source: FileSource, ordered: bool = True) -> None:
    """Make ``name`` a temp view of ``source``'s files with exactly its columns, in the physical form,
    and when ``ordered`` the rows' input order as the hidden column the compiler reads
    (``dac.engines.spark_order``); without it Spark reads none of the files' metadata."""
    readers = {"jsonl": _json, "json": _json, "csv": _csv, "parquet": _parquet}
    if source.format not in readers:
        raise DacError(f"the spark engine does not read {source.format} files", Location(source.paths[0]))
    frame, typed = readers[source.format](session, source)
    order = [file_order(frame, source).alias(SOURCE_ORDINAL)] if ordered else []
    frame.select(*typed, *order).createOrReplaceTempView(name)


def _paths(source: FileSource) -> list[str]:
    """The paths for Spark's readers: a local one made absolute, since a Spark Connect server
    resolves a relative path against its own working folder, not the user's; URLs as given."""
    return [path if "://" in path else os.path.abspath(path) for path in source.paths]


def _json(session: Any, source: FileSource) -> tuple[DataFrame, list[Column]]:
    """JSON lines or JSON arrays: strings as variants (a string column must tell "5" from 5), the rest as text.

    Spark's JSON reader gives a non-string value read as a string as its JSON text, which is
    what every other column's conversion reads, and for a dynamic column, the value itself.
    """
    schema = T.StructType([T.StructField(column, T.VariantType() if kind == "string" else T.StringType())
                           for column, kind in source.columns])
    frame = (session.read.schema(schema).option("mode", "FAILFAST")
             .option("multiLine", source.format == "json").json(_paths(source)))
    typed = [_from_variant_string(frame[column], column) if kind == "string" else _from_text(frame[column], column, kind)
             for column, kind in source.columns]
    return frame, typed


def _csv(session: Any, source: FileSource) -> tuple[DataFrame, list[Column]]:
    """CSV with a header naming catalog columns, in any order and any subset; every field is text.

    The header of the first file gives the names; Spark checks every other file's header
    against them (``enforceSchema`` off) rather than reading its fields by position.
    """
    options = {"header": "true", "escape": '"', "multiLine": "true", "mode": "FAILFAST", "encoding": "UTF-8"}
    header = session.read.options(inferSchema="false", **options).csv(_paths(source)).columns
    kinds = dict(source.columns)
    for position, column in enumerate(header):
        name = column.lstrip("\ufeff") if position == 0 else column
        if name not in kinds:
            raise DacError(f"column '{name}' is not in the table's catalog columns", Location(source.paths[0], 1))
    header = [column.lstrip("\ufeff") if i == 0 else column for i, column in enumerate(header)]
    schema = T.StructType([T.StructField(column, T.StringType()) for column in header])
    frame = session.read.options(enforceSchema="false", **options).schema(schema).csv(_paths(source))
    typed = []
    for column, kind in source.columns:
        if column not in header:
            typed.append(_missing(column, kind))
        elif kind == "string":
            typed.append(F.coalesce(frame[column], F.lit("")).alias(column))
        else:
            typed.append(_from_text(frame[column], column, kind))
    return frame, typed


def _parquet(session: Any, source: FileSource) -> tuple[DataFrame, list[Column]]:
    """Parquet carries typed values: each column converted from its file type as the row engine would.

    A file type the row engine would turn into something Spark cannot make exactly (a real
    printed into a string column, a date as a datetime) is refused before reading, naming
    the column and both types.
    """
    frame = session.read.parquet(*_paths(source))
    types = {field.name: field.dataType for field in frame.schema.fields}
    typed = []
    for column, kind in source.columns:
        if column not in types:
            typed.append(_missing(column, kind))
            continue
        value = _from_parquet(frame[column], column, kind, types[column])
        if value is None:
            raise DacError(f"column '{column}' is {types[column].simpleString()} in the file; the spark engine "
                           f"cannot read it as a {kind} exactly (use --engine python)", Location(source.paths[0]))
        typed.append(value)
    return frame, typed


def _from_parquet(raw: Column, column: str, kind: str, file_type: Any) -> Column | None:
    """The physical value of a Parquet column of ``file_type``, or None when no exact reading exists."""
    if isinstance(file_type, T.StringType):
        return F.coalesce(raw, F.lit("")).alias(column) if kind == "string" else _from_text(raw, column, kind)
    integral = isinstance(file_type, _INTEGRAL)
    boolean = isinstance(file_type, T.BooleanType)
    number = integral or isinstance(file_type, (T.FloatType, T.DoubleType, T.DecimalType))
    if kind == "string" and (integral or boolean):
        return F.coalesce(raw.cast("string"), F.lit("")).alias(column)
    if kind == "dynamic" and (number and not isinstance(file_type, T.DecimalType) or boolean):
        return raw.cast("string").alias(column)
    if kind == "dynamic" and isinstance(file_type, (T.StructType, T.ArrayType)):
        return F.to_json(raw).alias(column)
    if kind == "bool" and (boolean or number):
        return (raw if boolean else raw != 0).alias(column)
    if kind in ("long", "int") and number:
        value = raw.try_cast("bigint")
        value = F.when(value.between(INT_MIN, INT_MAX), value.cast("int")) if kind == "int" else value
        return _checked(raw, value, column, kind)
    if kind == "real" and number:
        return raw.cast("double").alias(column)
    if kind == "timespan" and integral:
        return timespan_of_ticks(raw).alias(column)
    if kind == "datetime" and isinstance(file_type, (T.TimestampType, T.TimestampNTZType)):
        return raw.cast("timestamp_ntz").alias(column)  # an instant read in the session's zone, UTC
    return None


def _from_variant_string(raw: Column, column: str) -> Column:
    """A string column's JSON value: a string as it is, an integer or bool as its text, null as "".

    A real or an object would print differently here (Spark keeps 1.50 and key order as
    written, the row engine prints 1.5 and its own JSON), so such a value is an error.
    """
    kind = F.schema_of_variant(raw)
    text = F.when(raw.isNull() | F.is_variant_null(raw), F.lit("")) \
        .when(kind.isin("STRING", "BIGINT", "BOOLEAN"), F.variant_get(raw, "$", "string"))
    message = F.concat(F.lit(f"column '{column}': "), F.to_json(raw),
                       F.lit(" is not a string (the spark engine reads only strings, integers and booleans into "
                             "a string column; --engine python also prints reals, arrays and objects)"))
    return F.when(text.isNull(), _raise(message)).otherwise(text).alias(column)


def _from_text(raw: Column, column: str, kind: str) -> Column:
    """A text value as ``kind``, checked: "" and a missing value are null, text that does not convert fails."""
    return _checked(raw, TEXT_CONVERTERS[kind](raw), column, kind)


def _checked(raw: Column, value: Column, column: str, kind: str) -> Column:
    bad = raw.isNotNull() & value.isNull() & (raw.cast("string") != "")
    if kind == "dynamic":  # every text is some dynamic value
        return value.alias(column)
    message = F.concat(F.lit(f"column '{column}': '"), raw.cast("string"),
                       F.lit(f"' is not a valid {kind}{_HINTS.get(kind, '')}"))
    return F.when(bad, _raise(message)).otherwise(value).alias(column)


def _raise(message: Column) -> Column:
    return F.raise_error(F.concat(F.lit(BAD_VALUE), F.input_file_name(), F.lit(SEPARATOR), message))


def _missing(column: str, kind: str) -> Column:
    """A catalog column a file does not have: "" for a string, null of the column's type otherwise."""
    if kind == "string":
        return F.lit("").alias(column)
    return F.lit(None).cast(SQL_TYPES[kind]["spark"]).alias(column)
