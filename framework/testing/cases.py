"""Loading a rule's test file into typed fixture tables and expectations.

Fixture rows name only the columns that matter; every other column of the
table gets its typed default (empty string for strings, null otherwise). A
column the table does not have, or a value that does not fit the column's
type, is an error at its line and column: a fixture that silently means
something else would make a passing test worthless.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from dac import catalog
from dac.errors import DacError, Location, RuleFileError, did_you_mean
from dac.kql import values as V
from dac.kql.geoip import GeoDatabase, GeoEntryError
from dac.kql.table import INGESTION_TIME_KEY, IngestedRow, Table
from dac.rules.model import Rule, test_file_for
from dac.rules.yamlfile import YamlDocument, load_yaml
from dac.validate.schema import TESTS_SCHEMA, SchemaCheck
from dac.testing.clock import DEFAULT_NOW, parse_clock, parse_time


@dataclass
class TestCase:
    name: str
    location: Location
    now: datetime
    ordered: bool
    tables: dict[str, Table]
    expect: list[dict[str, Any]]
    expect_key: tuple
    description: str = ""
    geo_ip: GeoDatabase | None = None  # what geo_info_from_ip_address() knows in this case


@dataclass
class TestSuite:
    rule: Rule
    path: str
    platform: str
    doc: YamlDocument
    cases: list[TestCase] = field(default_factory=list)


def convert_value(raw: Any, type_name: str, now: datetime, where: Location) -> Any:
    """A YAML value as a value of ``type_name``; times may be relative to ``now``."""
    if raw is None:
        return V.default_value(type_name)
    try:
        if type_name == "datetime" and isinstance(raw, str):
            return parse_time(raw, now)
    except ValueError as exc:
        raise DacError(f"invalid datetime {raw!r}: {exc}", where) from None
    if type_name == "string" and not isinstance(raw, str):
        raise DacError(f"expected a string, got {raw!r} (quote it)", where)
    if type_name == "bool" and not isinstance(raw, bool):
        raise DacError(f"expected true or false, got {raw!r}", where)
    if type_name in ("long", "int") and isinstance(raw, float) and raw != int(raw):
        raise DacError(f"expected a whole number, got {raw!r}", where)
    value = V.convert(raw, type_name)
    if value is None and raw != "":
        raise DacError(f"{raw!r} is not a valid {type_name}", where)
    return value


def _table_schema(suite_doc: YamlDocument, platform: str, table: str, where: Location) -> tuple[tuple[str, str], ...]:
    overrides = (suite_doc.data.get("schemas") or {}).get(table)
    if overrides:
        return tuple(overrides.items())
    columns = catalog.table_columns(platform, table)
    if columns is None:
        hint = did_you_mean(table, catalog.known_tables(platform), cutoff=0.6)
        raise DacError(
            f"no schema for table '{table}' on platform {catalog.PLATFORMS[platform]}{hint}; "
            "declare its columns under 'schemas:' in the test file",
            where,
        )
    return columns


def build_table(doc: YamlDocument, key: tuple, columns: tuple[tuple[str, str], ...], rows: list[Any], now: datetime) -> Table:
    types = dict(columns)
    out = []
    for number, row in enumerate(rows):
        row_key = key + (number,)
        values = {}
        ingested = None
        for column, raw in row.items():
            if column == INGESTION_TIME_KEY:
                # no column: the row's hidden ingestion time, read by ingestion_time()
                ingested = convert_value(raw, "datetime", now, doc.location(row_key + (column,)))
                continue
            if column not in types:
                hint = did_you_mean(str(column), list(types), cutoff=0.6)
                raise DacError(f"unknown column '{column}'{hint}", doc.key_location(row_key + (column,)))
            values[column] = convert_value(raw, types[column], now, doc.location(row_key + (column,)))
        cells = tuple(values[c] if c in values else V.default_value(t) for c, t in columns)
        out.append(IngestedRow.of(cells, ingested) if ingested is not None else cells)
    return Table(list(columns), out)


def geo_entries(doc: YamlDocument, key: tuple, entries: list[Any] | None) -> list[Any]:
    """A ``geo_ip:`` list, checked entry by entry; a bad one is an error at its line and column."""
    entries = list(entries or [])
    try:
        GeoDatabase(entries)
    except GeoEntryError as exc:
        where = key + (exc.index,) + ((exc.field,) if exc.field else ())
        raise DacError(str(exc), doc.location(where)) from None
    return entries


def load_test_suite(rule: Rule, path: str | Path | None = None) -> TestSuite | None:
    """The suite beside ``rule`` (``x.tests.yaml``), or None if it has none."""
    path = Path(path) if path else test_file_for(rule.path)
    if path is None:
        return None
    doc = load_yaml(path)
    if not isinstance(doc.data, dict):
        raise RuleFileError("a test file must be a YAML mapping with a 'cases' list", Location(doc.path, 1, 1))
    problems = SchemaCheck(TESTS_SCHEMA).check_document(doc)
    if problems:
        raise problems[0]
    platform = catalog.normalise_platform(doc.data["platform"] if "platform" in doc.data else rule.platforms[0])
    try:
        base_now = parse_clock(doc.data["now"]) if "now" in doc.data else DEFAULT_NOW
    except ValueError as exc:
        raise DacError(f"invalid clock: {exc}", doc.location(("now",))) from None
    suite = TestSuite(rule, str(path), platform, doc)
    suite_geo = geo_entries(doc, ("geo_ip",), doc.data.get("geo_ip"))
    names: set[str] = set()
    for index, raw in enumerate(doc.data["cases"]):
        key = ("cases", index)
        if raw["name"] in names:
            raise DacError(f"duplicate case name {raw['name']!r}", doc.location(key + ("name",)))
        names.add(raw["name"])
        try:
            now = parse_clock(raw["now"]) if "now" in raw else base_now
        except ValueError as exc:
            raise DacError(f"invalid clock: {exc}", doc.location(key + ("now",))) from None
        tables = {}
        for table, rows in raw["tables"].items():
            if "://" in table:
                # rows for an externaldata URL: typed later by the schema the query declares
                tables[table] = Table.from_dicts(rows)
                continue
            columns = _table_schema(doc, platform, table, doc.location(key + ("tables", table)))
            tables[table] = build_table(doc, key + ("tables", table), columns, rows, now)
        # the case's entries come after the file's: one for the same network replaces the file's
        geo = suite_geo + geo_entries(doc, key + ("geo_ip",), raw.get("geo_ip"))
        suite.cases.append(
            TestCase(
                name=raw["name"],
                location=doc.location(key),
                now=now,
                ordered=bool(raw.get("ordered", False)),
                tables=tables,
                expect=raw["expect"],
                expect_key=key + ("expect",),
                description=raw.get("description", ""),
                geo_ip=GeoDatabase(geo) if geo else None,
            )
        )
    return suite
