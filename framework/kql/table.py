"""In-memory tables: typed columns and rows of values (see ``literals`` for the value model)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from framework.kql import values as V


# In check mode (static validation) the output of an operator the evaluator does not
# implement has unknown columns: this marker column makes any name resolve, as dynamic.
OPEN_COLUMN = ("$open", "dynamic")


@dataclass
class Table:
    """Columns as (name, KQL type) pairs and rows as tuples in column order."""

    columns: list[tuple[str, str]]
    rows: list[tuple] = field(default_factory=list)
    ordered: bool = False  # True once a sort/top/serialize fixed the row order

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
        converted is an error rather than a silent null.
        """
        rows = list(rows)
        if columns is None:
            inferred: dict[str, str] = {}
            for row in rows:
                for name, value in row.items():
                    kind = _infer_type(value)
                    if name not in inferred or inferred[name] == "dynamic" and value is None:
                        inferred[name] = kind
                    elif inferred[name] != kind and value is not None:
                        inferred[name] = "dynamic"
            columns = list(inferred.items())
        known = {name for name, _ in columns}
        out: list[tuple] = []
        for number, row in enumerate(rows, 1):
            unknown = [name for name in row if name not in known]
            if unknown:
                raise ValueError(f"row {number}: unknown column(s) {', '.join(unknown)}")
            values = []
            for name, kind in columns:
                if name not in row:
                    values.append(V.default_value(kind))
                    continue
                raw = row[name]
                converted = V.convert(raw, kind) if raw is not None else V.default_value(kind)
                if converted is None and raw is not None and raw != "":
                    raise ValueError(f"row {number}: column {name}: {raw!r} is not a valid {kind}")
                values.append(converted)
            out.append(tuple(values))
        return cls(list(columns), out)


def _infer_type(value: Any) -> str:
    """Column type for a Python value: its scalar type, dynamic for arrays, bags and null."""
    kind = V.type_of_value(value)
    return kind if kind in V.SCALAR_TYPES else "dynamic"
