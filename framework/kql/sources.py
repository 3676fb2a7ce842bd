"""The tables a pipeline starts from: datatable and externaldata, print, range, a union at the
head of a pipeline, macro-expand as a source, and Defender's AssignedIPAddresses() function.

A mixin of ``Evaluator`` (each ``src_<Node>`` method is dispatched by ``Evaluator.eval_source``,
each ``platform_<name>`` by ``Evaluator.table_from_expr``): these build a table from the query
text alone, with no input table, which sets them apart from the operators.
"""

from __future__ import annotations

import operator as op
from datetime import datetime

from dac.kql import ast
from dac.kql import values as V
from dac.kql.expressions import KNOWN_TYPES, ExpressionCompiler, semantic, unsupported
from dac.kql.macro_expand import macro_expand
from dac.kql.naming import unique_names
from dac.kql.streaming import RowSource
from dac.kql.table import Table
from dac.kql.scope import Scope


# Defender's AssignedIPAddresses() result: the documented columns, typed as DeviceNetworkInfo types them
ASSIGNED_IP_COLUMNS = (("Timestamp", "datetime"), ("IPAddress", "string"), ("IPType", "string"),
                       ("NetworkAdapterType", "string"), ("ConnectedNetworks", "dynamic"))
_CHARGE_EVERY = 4096  # rows a loop builds between two charges of the budget


class SourceOperators:
    """The tabular sources (mixed into ``Evaluator``)."""

    def platform_AssignedIPAddresses(self, call: ast.Call, scope: Scope) -> Table:
        """Defender's ``AssignedIPAddresses(x, y)``
        (https://learn.microsoft.com/defender-xdr/advanced-hunting-assignedipaddresses-function),
        computed from the ``DeviceNetworkInfo`` table (no such table given: no rows).

        x is the device's DeviceId or DeviceName (the name compared case-insensitively, as host
        names are); y, optional, is the time to look back from ("the most recent IP addresses at
        the specified time"; omitted or null: the latest). Of the device's reports at or before y,
        each network adapter (NetworkAdapterName, MacAddress) contributes its most recent one, and
        each entry of that report's ``IPAddresses`` array is a row: Timestamp (of that report, "the
        latest time the device was observed using the IP address"), IPAddress, IPType (the entry's
        AddressType: Public, Private, ...), NetworkAdapterType and ConnectedNetworks of the adapter.

        Readings the page leaves open, settled here: per-adapter latest reports (so an adapter that
        reports less often still counts); no filter on NetworkAdapterStatus; no look-back limit. The
        page types NetworkAdapterType and ConnectedNetworks as int, yet describes ConnectedNetworks
        as JSON arrays, and DeviceNetworkInfo (the rows' source) documents NetworkAdapterType as a
        string enumeration name; the columns keep DeviceNetworkInfo's types (string, dynamic) so
        the values are not lost to a conversion the function does not describe.
        """
        args = [a.args[1] if isinstance(a, ast.Call) and a.name == "$named" else a for a in call.args]
        if not 1 <= len(args) <= 2:
            raise semantic(call, f"function 'AssignedIPAddresses()' takes 1 to 2 argument(s), got {len(args)}")
        compiler = ExpressionCompiler(self, [], scope)
        device, when = compiler.compile(args[0]), compiler.compile(args[1]) if len(args) > 1 else None
        if device.type in KNOWN_TYPES and device.type not in ("string", "dynamic"):
            raise semantic(args[0], f"AssignedIPAddresses() expects a DeviceId or DeviceName string, found {device.type}")
        if when is not None and when.type in KNOWN_TYPES and when.type not in ("datetime", "dynamic"):
            raise semantic(args[1], f"AssignedIPAddresses() expects a datetime as its second argument, found {when.type}")
        columns = list(ASSIGNED_IP_COLUMNS)
        source = None if self.check or "DeviceNetworkInfo" not in self.tables else self.table_named("DeviceNetworkInfo")
        if source is None:
            return Table(columns)
        if isinstance(source, RowSource):
            source = source.materialize()
        wanted = V.to_string(device.fn(()))
        until = V.to_datetime(when.fn(())) if when is not None else None
        index = source.index()
        get = {name: (op.itemgetter(index[name]) if name in index else (lambda row: None)) for name in (
            "DeviceId", "DeviceName", "NetworkAdapterName", "MacAddress", "IPAddresses", "NetworkAdapterType",
            "ConnectedNetworks")}
        time_column = index.get("Timestamp", index.get("TimeGenerated"))  # Defender's name, else Sentinel's

        def stamp(row: tuple) -> datetime | None:
            return V.to_datetime(row[time_column]) if time_column is not None else None

        latest: dict[tuple, tuple] = {}
        for row in source.rows:
            observed = stamp(row)
            if observed is None or (until is not None and observed > until):
                continue
            name = get["DeviceName"](row)
            if get["DeviceId"](row) != wanted and not (isinstance(name, str) and name.lower() == wanted.lower()):
                continue
            adapter = (get["NetworkAdapterName"](row), get["MacAddress"](row))
            if adapter not in latest or observed >= stamp(latest[adapter]):
                latest[adapter] = row
        rows = []
        for row in latest.values():
            addresses = get["IPAddresses"](row)
            if isinstance(addresses, str):
                addresses = V.to_dynamic(addresses)
            for entry in addresses if isinstance(addresses, list) else []:
                if isinstance(entry, dict):
                    address, kind = entry.get("IPAddress"), entry.get("AddressType")
                else:
                    address, kind = entry, None
                if address is None or address == "":
                    continue
                rows.append((stamp(row), V.to_string(address), V.to_string(kind),
                             V.to_string(get["NetworkAdapterType"](row)), get["ConnectedNetworks"](row)))
        return Table(columns, rows)

    def src_Datatable(self, source: ast.Datatable, scope: Scope) -> Table:
        columns = [(name, V.normal_type(kind)) for name, kind in source.columns]
        if any(isinstance(v, ast.Tabular) for v in source.values):
            return self.external_data(source, columns, scope)
        compiler = ExpressionCompiler(self, [], scope)
        values = [compiler.compile(v).fn(()) for v in source.values]
        width = len(columns)
        if width == 0 or len(values) % width:
            raise semantic(source, f"datatable has {len(values)} values, not a multiple of its {width} columns")
        rows = []
        for start in range(0, len(values), width):
            rows.append(tuple(V.convert(v, kind) if v is not None else V.default_value(kind)
                              for v, (_, kind) in zip(values[start:start + width], columns)))
        self.budget.rows(len(rows), source)
        return Table(columns, rows)

    def external_data(self, source: ast.Datatable, columns: list[tuple[str, str]], scope: Scope) -> Table:
        """externaldata never reaches the network: its rows come from a table named by its URL."""
        if self.check:
            return Table(columns)
        generic = source.values[0].query.operators[0]
        compiler = ExpressionCompiler(self, [], scope)
        urls = [V.to_string(compiler.compile(u).fn(())) for u in generic.args]
        for url in urls:
            if url in self.tables:
                given = self.table_named(url)
                self.budget.rows(len(given.rows), source)
                index = given.index()
                unknown = [n for n in given.names if n not in dict(columns)]
                if unknown:
                    raise semantic(source, f"rows given for '{url}' have columns the externaldata schema lacks: {', '.join(unknown)}")
                return Table(columns, [tuple(V.convert(row[index[n]], kind) if n in index and row[index[n]] is not None
                                             else V.default_value(kind) for n, kind in columns) for row in given.rows])
        shown = urls[0] if urls else "its URL"
        raise unsupported(source, f"externaldata reads no network data; provide rows for '{shown}' as a table of that name")

    def src_Print(self, source: ast.Print, scope: Scope) -> Table:
        compiler = ExpressionCompiler(self, [], scope)
        columns, values, stated = [], [], []
        for position, item in enumerate(source.items):
            compiled = compiler.compile(item.expr)
            if compiled.members:
                for name, kind, fn, named in self.tuple_columns(item, compiled, print_style=True):
                    columns.append((name, kind))
                    values.append(fn(()))
                    stated.append(named)
                continue
            name = item.names[0] if item.names else compiled.name or f"print_{position}"
            columns.append((name, compiled.type))
            values.append(compiled.fn(()))
            stated.append(bool(item.names))
        return Table(unique_names(source, columns, stated), [tuple(values)])

    def src_Range(self, source: ast.Range, scope: Scope) -> Table:
        compiler = ExpressionCompiler(self, [], scope)
        start = compiler.compile(source.start)
        stop, step = compiler.compile(source.stop).fn(()), compiler.compile(source.step).fn(())
        value, rows = start.fn(()), []
        if not step:
            raise semantic(source.step, "range step must not be zero")
        ascending = step > step * 0
        charge, pending = self.budget.rows, 0
        while value is not None and (value <= stop if ascending else value >= stop):
            rows.append((value,))
            pending += 1
            if pending == _CHARGE_EVERY:
                charge(pending, source, "range")
                pending = 0
            try:
                value = value + step
            except OverflowError:  # the next datetime would be past 9999-12-31: the range ends here
                break
        charge(pending, source, "range")
        return Table([(source.name, start.type)], rows)

    def src_MacroExpandSource(self, source: ast.MacroExpandSource, scope: Scope) -> Table:
        return macro_expand(self, source.macro, scope)

    def src_Union(self, source: ast.Union, scope: Scope) -> Table:
        return self.union([], source, scope)
