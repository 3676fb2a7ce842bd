"""Loading a rule's test file into typed fixture tables and expectations.

Fixture rows name only the columns that matter; every other column of the
table gets its typed default (empty string for strings, null otherwise). A
column the table does not have, or a value that does not fit the column's
type, is an error at its line and column: a fixture that silently means
something else would make a passing test worthless.

Tables are typed by the platform's catalog, which on Sentinel includes the
workspace's custom tables (``dac.workspace``). Rows may also be given for a
workspace function or ASIM parser (typed by its result: they stand for its
output, whatever its arguments) and, under ``watchlists:``, for a declared
watchlist. What the workspace does not declare, a test file cannot declare
either: ``dac validate`` and ``dac test`` read the same declarations.
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
    functions: dict[str, Table] = field(default_factory=dict)  # rows standing for a workspace function's output
    watchlists: dict[str, Table] = field(default_factory=dict)  # _GetWatchlist rows by alias


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
    if type_name in ("long", "int") and isinstance(raw, float) and not raw.is_integer():  # .inf and .nan too
        raise DacError(f"expected a whole number, got {raw!r}", where)
    value = V.convert(raw, type_name)
    if value is None and raw != "":
        raise DacError(f"{raw!r} is not a valid {type_name}", where)
    return value


def _table_schema(platform: str, table: str, where: Location) -> tuple[tuple[str, str], ...]:
    columns = catalog.table_columns(platform, table)
    if columns is None:
        hint = did_you_mean(table, catalog.known_tables(platform), cutoff=0.6)
        if platform == "sentinel":
            raise DacError(f"no schema for table '{table}'{hint}: declare custom table '{table}' as "
                           f"CustomTables/{table}.json in a [tool.dac] workspace folder", where)
        raise DacError(f"no schema for table '{table}' on platform {catalog.PLATFORMS[platform]}{hint} "
                       "(workspace declarations apply to Sentinel)", where)
    return columns


def _function_schema(name: str, where: Location) -> tuple[tuple[str, str], ...]:
    """The result columns of a workspace function, which a test's rows for it must fit."""
    from dac.kql.binder import bind

    binding = bind(name, "sentinel")
    if binding.errors:
        raise DacError(f"rows for function '{name}' cannot be typed, its result does not bind: "
                       f"{binding.errors[0].message}", where)
    if binding.columns is None:
        raise DacError(f"rows for function '{name}' cannot be typed: dac cannot tell its result's columns", where)
    return tuple(binding.columns)


def _watchlist_table(doc: YamlDocument, key: tuple, alias: str, rows: list[Any], now: datetime) -> Table:
    """Rows of ``_GetWatchlist(alias)``: CSV fields by name; SearchKey is the search key column's value."""
    from dac import workspace
    from dac.workspace.names import watchlist_message

    space = workspace.current()
    watchlist = space.watchlists.get(alias)
    if watchlist is None:
        raise DacError(watchlist_message(alias, space), doc.key_location(key))
    items = [watchlist.row(dict(row), number) if isinstance(row, dict) else row for number, row in enumerate(rows, 1)]
    return build_table(doc, key, watchlist.columns, items, now)


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
    if "schemas" in doc.data:
        raise DacError("schemas: a test file no longer declares tables; declare each as a custom table "
                       "(CustomTables/<Table>.json) in a [tool.dac] workspace folder, which validate, test, build "
                       "and run all read", doc.key_location(("schemas",)))
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
        tables, functions = {}, {}
        for table, rows in raw["tables"].items():
            if "://" in table:
                # rows for an externaldata URL: typed later by the schema the query declares
                tables[table] = Table.from_dicts(rows)
                continue
            where = doc.location(key + ("tables", table))
            if platform == "sentinel" and catalog.table_columns(platform, table) is None and _is_function(table):
                functions[table] = build_table(doc, key + ("tables", table), _function_schema(table, where), rows, now)
                continue
            tables[table] = build_table(doc, key + ("tables", table), _table_schema(platform, table, where), rows, now)
        watchlists = {alias: _watchlist_table(doc, key + ("watchlists", alias), alias, rows, now)
                      for alias, rows in (raw.get("watchlists") or {}).items()}
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
                functions=functions,
                watchlists=watchlists,
            )
        )
    return suite


def _is_function(name: str) -> bool:
    """Whether the workspace defines ``name`` as a function (ASIM names typed by their schema included)."""
    from dac import workspace
    from dac.workspace.asim import schema_typed

    space = workspace.current()
    return name in space.functions or name in schema_typed(space)
