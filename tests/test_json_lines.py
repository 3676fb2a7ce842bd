"""dac run's column-wise JSON-lines writer gives, byte for byte, what to_json_text gives per row."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from dac.kql import values as V
from dac.output.json_lines import BATCH, json_lines

VALUES = {
    "string": st.text(),
    "long": st.one_of(st.none(), st.integers(min_value=-2**63, max_value=2**63 - 1)),
    "int": st.one_of(st.none(), st.integers(min_value=-2**31, max_value=2**31 - 1)),
    "bool": st.one_of(st.none(), st.booleans()),
    "real": st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True), st.integers(-5, 5)),
    "datetime": st.one_of(st.none(), st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 1, 1))),
    "timespan": st.one_of(st.none(), st.timedeltas(min_value=timedelta(days=-9999), max_value=timedelta(days=9999))),
    "guid": st.one_of(st.none(), st.uuids()),
    "dynamic": st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text()),
                            lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                    st.dictionaries(st.text(max_size=4), inner, max_size=3)),
                            max_leaves=6),
}


@st.composite
def tables(draw) -> tuple[list[tuple[str, str]], list[tuple]]:
    kinds = draw(st.lists(st.sampled_from(sorted(VALUES)), max_size=5))
    names = draw(st.lists(st.text(min_size=1, max_size=6), min_size=len(kinds), max_size=len(kinds), unique=True))
    columns = list(zip(names, kinds))
    rows = draw(st.lists(st.tuples(*[VALUES[kind] for kind in kinds]), max_size=6))
    return columns, rows


def _expected(columns: list[tuple[str, str]], rows: list[tuple]) -> str:
    names = [name for name, _ in columns]
    return "".join(V.to_json_text(dict(zip(names, row))) + "\n" for row in rows)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(tables())
def test_every_type_writes_as_to_json_text(table) -> None:
    columns, rows = table
    assert "".join(json_lines(columns, rows)) == _expected(columns, rows)


def test_batches_and_braces_in_names() -> None:
    columns = [("{a}", "string"), ('q"}', "long"), ("g", "guid")]
    rows = [(f"v{i}", i, uuid.UUID(int=i)) for i in range(BATCH + 3)]
    parts = list(json_lines(columns, rows))
    assert len(parts) == 2 and "".join(parts) == _expected(columns, rows)
    assert list(json_lines([], [(), ()])) == ["{}\n{}\n"]
