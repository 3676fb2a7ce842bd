"""In-memory tables: typed columns and rows of values (see ``literals`` for the value model)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from dac.kql import values as V
from dac.kql.row_typing import column_names, column_values, infer_type, typed_column


# In check mode (static validation) the output of an operator the evaluator does not
# implement has unknown columns: this marker column makes any name resolve, as dynamic.
OPEN_COLUMN = ("$open", "dynamic")

# The reserved key of a fixture row (or an evaluate() dict row) that sets the row's ingestion time.
INGESTION_TIME_KEY = "$IngestionTime"


class IngestedRow(tuple):
    """A table row that carries its hidden ingestion time, read by ``ingestion_time()``.

    Kusto keeps a record's ingestion time in a hidden ``$IngestionTime`` column
    (https://learn.microsoft.com/kusto/management/ingestion-time-policy); here it
    rides on the row object instead of in ``columns``, so the result columns,
    ``getschema`` and ``pack_all()`` never see it. Operators that pass rows
    through (where, take, sort, top, serialize, as, project-rename, the search
    operator) keep it
    for free; those that rebuild each row from one input row (extend, project,
    project-away/keep/reorder, mv-expand, parse, union, search and find over
    tables) copy it with ``keep_ingestion``/``carry_ingestion``; everything else
    (summarize, every join kind, lookup, distinct, make-series, plugins,
    datatable, print) makes plain tuples, so ``ingestion_time()`` is null there,
    as in Kusto once rows no longer come straight from a table. A plain tuple
    compares and hashes like this row.
    """

    ingestion_time: Any

    @classmethod
    def of(cls, values: Iterable[Any], ingestion_time: Any) -> "IngestedRow":
        row = cls(values)
        row.ingestion_time = ingestion_time
        return row


def ingestion_time_of(row: tuple) -> Any:
    """The hidden ingestion time of ``row``, or None (no table row, or no time was given)."""
    return row.ingestion_time if row.__class__ is IngestedRow else None


def keep_ingestion(source: list[tuple], derived: list[tuple]) -> list[tuple]:
    """``derived[i]`` was made from ``source[i]``: give it the same hidden ingestion time."""
    if IngestedRow not in set(map(type, source)):  # the common case, checked in C
        return derived
    return [IngestedRow.of(new, old.ingestion_time) if old.__class__ is IngestedRow else new
            for old, new in zip(source, derived)]


def carry_ingestion(old: tuple, new: tuple) -> tuple:
    """``new`` made from the single row ``old``, with ``old``'s hidden ingestion time if it has one."""
    return IngestedRow.of(new, old.ingestion_time) if old.__class__ is IngestedRow else new


@dataclass
class Table:
    """Columns as (name, KQL type) pairs and rows as tuples in column order."""

    columns: list[tuple[str, str]]
    rows: list[tuple] = field(default_factory=list)
    ordered: bool = False  # True once a sort/top/serialize fixed the row order
    # The result table's name when the query names it (a fork leg's name=, a statement's trailing
    # ``as``; see ``dac.kql.results``): only the tables of ``evaluate(..., as_tables=True)`` carry one.
    name: str | None = field(default=None, compare=False)

    @property
    def is_open(self) -> bool:
        return OPEN_COLUMN in self.columns

    def opened(self) -> "Table":
        """The same columns plus the open marker, no rows: an operator whose output is unknown."""
        return Table(self.columns if self.is_open else self.columns + [OPEN_COLUMN], [])

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.columns]

    def index(self) -> dict[str, int]:
        return {name: i for i, (name, _) in enumerate(self.columns)}

    def to_dicts(self) -> list[dict[str, Any]]:
        names = self.names
        return [dict(zip(names, row)) for row in self.rows]

    @classmethod
    def from_dicts(cls, rows: Iterable[Mapping[str, Any]], columns: list[tuple[str, str]] | None = None) -> "Table":
        """Build a table from dict rows; types come from ``columns`` or are inferred from the values.

        Values are converted to the column type so that, for instance, an ISO
        string in a datetime column becomes a datetime; a value that cannot be
        converted is an error rather than a silent null. A column whose values
        already are its type is taken as it is (see ``row_typing``). The reserved key
        ``$IngestionTime`` is no column: it sets the row's hidden ingestion time.
        """
        rows = rows if isinstance(rows, list) else list(rows)
        keys = column_names(rows)
        given = {name: column_values(rows, name) for name in keys if name != INGESTION_TIME_KEY}
        if columns is None:
            columns = [(name, infer_type(values)) for name, values in given.items()]
        known = {name for name, _ in columns}
        if not known.issuperset(keys):
            for number, row in enumerate(rows, 1):
                unknown = [name for name in row if name not in known and name != INGESTION_TIME_KEY]
                if unknown:
                    raise ValueError(f"row {number}: unknown column(s) {', '.join(unknown)}")
        typed = [typed_column(given[name], kind, name) if name in given else [V.default_value(kind)] * len(rows)
                 for name, kind in columns]
        out: list[tuple] = list(zip(*typed)) if typed else [() for _ in rows]
        if INGESTION_TIME_KEY in keys:
            out = [_ingested(values, row.get(INGESTION_TIME_KEY), number)
                   for number, (values, row) in enumerate(zip(out, rows), 1)]
        return cls(list(columns), out)


def _ingested(values: tuple, stamp: Any, number: int) -> tuple:
    """Row ``number`` with the ingestion time its ``$IngestionTime`` key gives, if any."""
    if stamp is None:
        return values
    when = V.to_datetime(stamp)
    if when is None:
        raise ValueError(f"row {number}: {INGESTION_TIME_KEY}: {stamp!r} is not a valid datetime")
    return IngestedRow.of(values, when)
