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

Rows may be written compactly (``defaults:``, ``repeat:``, CSV and JSON-lines blocks and
files, see :mod:`dac.testing.rows`); every timespan is read by one grammar
(:mod:`dac.testing.spans`). A case states what matters of the result
(:mod:`dac.testing.expectations`).
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
from dac.testing.clock import DEFAULT_NOW, parse_clock
from dac.testing.expectations import Expectation, read_expectation
from dac.testing.rows import FixtureRow, RowContext, expand, yaml_row
from dac.testing.convert import convert_text, convert_value

__all__ = ["TestCase", "TestSuite", "build_table", "convert_value", "load_test_suite"]


@dataclass
class TestCase:
    name: str
    location: Location
    now: datetime
    tables: dict[str, Table]
    expectation: Expectation
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
    items = [yaml_row(doc, key + (number - 1,), watchlist.row(dict(row), number)) for number, row in enumerate(rows, 1)]
    return build_table(watchlist.columns, items, now)


def build_table(columns: tuple[tuple[str, str], ...], rows: list[FixtureRow], now: datetime) -> Table:
    """Typed rows of a table: each value converted by its column's type, each mistake located."""
    types = dict(columns)
    out = []
    for row in rows:
        values = {}
        ingested = None
        for column, raw in row.values.items():
            try:
                if column == INGESTION_TIME_KEY:
                    # no column: the row's hidden ingestion time, read by ingestion_time()
                    ingested = _typed(row, column, raw, "datetime", now)
                    continue
                if column not in types:
                    hint = did_you_mean(str(column), list(types), cutoff=0.6)
                    raise DacError(f"unknown column '{column}'{hint}", row.key_where[column])
                values[column] = _typed(row, column, raw, types[column], now)
            except DacError as exc:
                if row.note:
                    raise DacError(f"{exc.message} ({row.note})", exc.location) from None
                raise
        cells = tuple(values[c] if c in values else V.default_value(t) for c, t in columns)
        out.append(IngestedRow.of(cells, ingested) if ingested is not None else cells)
    return Table(list(columns), out)


def _typed(row: FixtureRow, column: str, raw: Any, type_name: str, now: datetime) -> Any:
    if column in row.typed:
        return raw
    if column in row.text:
        return convert_text(raw, type_name, now, row.where[column])
    return convert_value(raw, type_name, now, row.where[column])


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
    doc = _load(path)
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
    suite_defaults = _defaults(doc, ("defaults",), platform, base_now)
    names: set[str] = set()
    used: set[str] = set()
    for index, raw in enumerate(doc.data["cases"]):
        key = ("cases", index)
        if raw["name"] in names:
            raise DacError(f"duplicate case name {raw['name']!r}", doc.location(key + ("name",)))
        names.add(raw["name"])
        try:
            now = parse_clock(raw["now"]) if "now" in raw else base_now
        except ValueError as exc:
            raise DacError(f"invalid clock: {exc}", doc.location(key + ("now",))) from None
        case_defaults = _defaults(doc, key + ("defaults",), platform, now)
        for table in case_defaults:
            if table not in raw["tables"]:
                raise DacError(f"defaults for '{table}' apply to nothing: this case gives no rows for {table}",
                               doc.key_location(key + ("defaults", table)))
        tables, functions = {}, {}
        for table, items in raw["tables"].items():
            table_key = key + ("tables", table)
            defaults = _merged(case_defaults.get(table), suite_defaults.get(table))
            used.add(table)
            if "://" in table:
                # rows for an externaldata URL: typed later by the schema the query declares
                rows = [row.take_defaults(defaults) for row in expand(RowContext(doc, None, now), table_key, items)]
                tables[table] = Table.from_dicts([row.values for row in rows])
                continue
            is_function, columns = _columns_of(platform, table, doc.location(table_key))
            rows = [row.take_defaults(defaults) for row in expand(RowContext(doc, dict(columns), now), table_key, items)]
            (functions if is_function else tables)[table] = build_table(columns, rows, now)
        watchlists = {alias: _watchlist_table(doc, key + ("watchlists", alias), alias, rows, now)
                      for alias, rows in (raw.get("watchlists") or {}).items()}
        # the case's entries come after the file's: one for the same network replaces the file's
        geo = suite_geo + geo_entries(doc, key + ("geo_ip",), raw.get("geo_ip"))
        suite.cases.append(
            TestCase(
                name=raw["name"],
                location=doc.location(key),
                now=now,
                tables=tables,
                expectation=read_expectation(doc, key, raw),
                description=raw.get("description", ""),
                geo_ip=GeoDatabase(geo) if geo else None,
                functions=functions,
                watchlists=watchlists,
            )
        )
    for table in suite_defaults:
        if table not in used:
            raise DacError(f"defaults for '{table}' apply to nothing: no case gives rows for {table}",
                           doc.key_location(("defaults", table)))
    return suite


def _load(path: Path) -> YamlDocument:
    """The test file's YAML; refused anchors get the advice of what replaces them here."""
    try:
        return load_yaml(path)
    except RuleFileError as exc:
        if "anchors" in exc.message:
            raise RuleFileError(f"{exc.message}; in a test file, defaults: gives values every row of a table "
                                "shares and repeat: writes many rows at once", exc.location) from None
        raise


def _columns_of(platform: str, table: str, where: Location) -> tuple[bool, tuple[tuple[str, str], ...]]:
    """Whether ``table`` names a workspace function (rows stand for its output), and the columns typing its rows."""
    if platform == "sentinel" and catalog.table_columns(platform, table) is None and _is_function(table):
        return True, _function_schema(table, where)
    return False, _table_schema(platform, table, where)


def _defaults(doc: YamlDocument, key: tuple, platform: str, now: datetime) -> dict[str, FixtureRow]:
    """``defaults: {Table: {Column: value}}`` at ``key``, each value typed now so a mistake is found
    even where no row uses it."""
    data: Any = doc.data
    for part in key[:-1]:
        data = data[part]
    found = {}
    for table, values in (data.get(key[-1]) or {}).items():
        row = yaml_row(doc, key + (table,), values)
        if "://" not in table:
            _, columns = _columns_of(platform, table, doc.key_location(key + (table,)))
            build_table(columns, [yaml_row(doc, key + (table,), values)], now)
        found[table] = row
    return found


def _merged(first: FixtureRow | None, second: FixtureRow | None) -> FixtureRow | None:
    """One defaults row: ``first``'s values, then ``second``'s for the columns ``first`` lacks."""
    if first is None or second is None:
        return first or second
    return FixtureRow(dict(first.values), dict(first.where), dict(first.key_where)).take_defaults(second)


def _is_function(name: str) -> bool:
    """Whether the workspace defines ``name`` as a function (ASIM names typed by their schema, and the ASIM
    parsers built into Sentinel, included)."""
    from dac import workspace
    from dac.workspace.asim import schema_typed
    from dac.workspace.asim_builtin import parsers

    space = workspace.current()
    return name in space.functions or name in schema_typed(space) or name in parsers()
