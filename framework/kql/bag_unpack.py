"""The bag_unpack plugin: each top-level slot of a dynamic column's property bags becomes a column.

https://learn.microsoft.com/kusto/query/bag-unpack-plugin: the unpacked column is removed; one
column per distinct slot, named by the slot (after OutputColumnPrefix); "the type of each column is
either the type of the slot, if all values of the same slot have the same type, or dynamic"; the
plugin ignores nulls. Every example of the page lists the new columns sorted by name (Age, Height,
Name), whatever the slots' order in the bags, so they are sorted here (ordinally: the page shows no
names differing only in case). An output schema ``: (*, Name:string, Age:long)`` gives the columns
and their types: ``*`` keeps the input's other columns, and the page's example shows that a slot the
schema does not name is dropped.
"""

from __future__ import annotations

from typing import Any

from dac.kql import values as V
from dac.kql.table import Table


def unpack(table: Table, position: int, prefix: str) -> tuple[Table, list[str]]:
    """The input without its column at ``position``, then one column per slot, and the new names.

    A name already taken by another input column is returned for the caller to report.
    """
    slots: dict[str, set[str]] = {}  # slot -> the types of its non-null values
    for row in table.rows:
        bag = row[position]
        if isinstance(bag, dict):
            for key, value in bag.items():
                kinds = slots.setdefault(key, set())
                if value is not None:
                    kinds.add(V.type_of_value(value))
    keys = sorted(slots)
    keep = [i for i in range(len(table.columns)) if i != position]
    columns = [table.columns[i] for i in keep]
    for key in keys:
        kinds = slots[key]
        kind = next(iter(kinds)) if len(kinds) == 1 else "dynamic"
        columns.append((prefix + key, kind if kind in V.SCALAR_TYPES else "dynamic"))
    rows = []
    for row in table.rows:
        bag = row[position] if isinstance(row[position], dict) else {}
        rows.append(tuple(row[i] for i in keep) + tuple(bag.get(key) for key in keys))
    return Table(columns, rows, table.ordered), [prefix + key for key in keys]


def apply_schema(unpacked: Table, kept: int, schema: list[tuple[str, str]], keep_input: bool) -> Table:
    """``unpacked`` reduced to an output schema: the first ``kept`` columns (the input's) when
    ``keep_input`` (the schema's ``*``), then each schema column, converted to its type, from the
    column of that name (null where no bag has that slot). The caller refuses a schema column that
    names a kept input column (the binder retypes it in place; which value it then holds is unknown)."""
    index = unpacked.index()
    leading = list(range(kept)) if keep_input else []
    wanted = [(name, V.normal_type(kind)) for name, kind in schema]
    columns = [unpacked.columns[i] for i in leading] + wanted

    def cell(row: tuple, name: str, kind: str) -> Any:
        value = row[index[name]] if name in index else None
        return None if value is None else V.convert(value, kind)

    rows = [tuple(row[i] for i in leading) + tuple(cell(row, name, kind) for name, kind in wanted)
            for row in unpacked.rows]
    return Table(columns, rows, unpacked.ordered)
