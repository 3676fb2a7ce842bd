"""A table's rows on Spark in the order the row engine reads them, as one hidden column of its view.

The row engine reads a table's files one after another (``dac.backtest``: the ``--data``
arguments in order, a glob's or a folder's files sorted) and each file line by line; rows
in memory in their list order. Take, sort's ties, innerunique joins and arg_max read that
order (``dac.engines.compiler``). Spark's partitions have none: it cuts files into splits
and packs them into partitions largest first. But every row knows where it came from,
through the hidden ``_metadata`` struct of file sources: the file, and the offset of the
split it was read in (``file_block_start``). A split is read whole, in file order, by one
task, so within it ``monotonically_increasing_id()`` (the partition's record count in its
lower 33 bits) rises in read order. The key (rank of the file, split offset, record count)
is exact, and packed into one DECIMAL(38, 0) it is a number the compiler can sort, compare
and negate (``sql_pick``) like DuckDB's ROW_NUMBER, with no shuffle to compute it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from decimal import Decimal
from urllib.parse import unquote

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from dac.engines.sources import FileSource

ORDER_TYPE = "decimal(38,0)"
_RECORD_BITS = 33  # monotonically_increasing_id: the record number within the partition
_OFFSET_BITS = 47  # a split's offset in its file: files up to 128 TiB
# rank * 2**80 + offset * 2**33 + record < 2**112 for up to 2**32 files, exact below 10**38 (~2**126)
_LOCAL = re.compile(r"^file:(//)?")


def file_order(frame: DataFrame, source: FileSource) -> Column:
    """The input order of each row of ``frame`` (a file reader's DataFrame of ``source``), a DECIMAL(38, 0).

    Must be selected directly over the reader's frame, where ``_metadata`` and the partition's
    record count are the scan's own.
    """
    ranks = file_ranks(frame.inputFiles(), source.paths)
    if len(ranks) <= 1:
        rank: Column = F.lit(0)
    else:
        by_path = F.create_map(*[part for path, rank_ in ranks.items() for part in (F.lit(path), F.lit(rank_))])
        path = F.col("_metadata.file_path")
        found = by_path[spark_local_path(path)]
        rank = F.coalesce(found, F.raise_error(F.concat(F.lit("the spark engine cannot tell the place of "),
                                                        path, F.lit(" in the files' order"))))
    record = F.monotonically_increasing_id().bitwiseAND(F.lit((1 << _RECORD_BITS) - 1))
    return (rank.cast(ORDER_TYPE) * F.lit(Decimal(1 << (_OFFSET_BITS + _RECORD_BITS)))
            + F.col("_metadata.file_block_start").cast(ORDER_TYPE) * F.lit(Decimal(1 << _RECORD_BITS))
            + record.cast(ORDER_TYPE))


def file_ranks(read: Sequence[str], paths: Sequence[str]) -> dict[str, int]:
    """Place of each file Spark reads (``inputFiles()``, URIs) in the row engine's order, by ``local_path``.

    A local ``--data`` path is expanded as ``dac.backtest`` expands it, so the files come in
    the row engine's order. A file that expansion does not list (a URL such as ``abfss://``,
    which the row engine cannot read, or a local path only a Spark Connect server sees) comes
    after, in the order of its path: a defined order, the row engine's for one glob or folder.
    """
    from dac.backtest import path_files

    known: dict[str, int] = {}
    for given in paths:
        if "://" in given:
            continue
        for file in path_files(given) or [given]:
            known.setdefault(os.path.abspath(file), len(known))
    files = {local_path(uri) for uri in read}
    ordered = sorted(files, key=lambda file: (0, known[file], "") if file in known else (1, 0, file))
    return {file: rank for rank, file in enumerate(ordered)}


def local_path(uri: str) -> str:
    """A file URI as Spark writes it (``file:/tmp/a%20b.jsonl``, ``file:///…``) as a plain path; other URLs decoded."""
    return _LOCAL.sub("", unquote(uri))


def spark_local_path(uri: Column) -> Column:
    """``local_path`` in Spark: url_decode reads '+' as a space, which a URI path means literally."""
    decoded = F.url_decode(F.replace(uri, F.lit("+"), F.lit("%2B")))
    return F.regexp_replace(decoded, _LOCAL.pattern, "")

