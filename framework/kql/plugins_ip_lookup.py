"""ipv4_lookup and ipv6_lookup: a lookup whose key matches an address against IP ranges.

Each source row is joined with every lookup row whose key range holds the row's address; both
keys may carry a prefix (a.b.c.d/n, or an IPv6 prefix), and they match when their first
min(n, m) bits agree, as ipv4_is_match and ipv6_is_match compare.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any, Callable

from dac.kql import ast
from dac.kql import values as V
from dac.kql.compiled import semantic, unsupported
from dac.kql.functions_network import _ipv4, _ipv6
from dac.kql.plugins import column_position, constant_value, plugin, split_arguments
from dac.kql.table import OPEN_COLUMN, Table

if TYPE_CHECKING:
    from dac.kql.evaluator import Evaluator
    from dac.kql.scope import Scope

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _matches(source: Network, key: Network) -> bool:
    bits = min(source.prefixlen, key.prefixlen)
    shift = source.max_prefixlen - bits
    return int(source.network_address) >> shift == int(key.network_address) >> shift


def _lookup(evaluator: "Evaluator", call: ast.Call, table: Table, scope: "Scope", name: str,
            parse: Callable[[Any], Network | None]) -> Table:
    """``name(LookupTable, SourceKey, LookupKey [, return_unmatched])``: the source columns and then the
    lookup's; only matched rows unless return_unmatched is true, when an unmatched row gets nulls."""
    positional, named = split_arguments(call)
    if len(positional) > 3 and not named:  # the fourth positional argument is return_unmatched
        named, positional = {"return_unmatched": positional[3], **named}, positional[:3]
    if len(positional) != 3 or set(named) - {"return_unmatched"}:
        if len(positional) > 3:
            raise unsupported(positional[3], f"{name}(): extra key columns are not supported by the evaluator")
        raise semantic(call, f"{name}() takes a lookup table, the source key column, the lookup key column "
                             "and optionally return_unmatched")
    lookup = evaluator.table_from_expr(positional[0], scope)
    if table.is_open or lookup.is_open:
        return Table([OPEN_COLUMN])
    source_key = column_position(table, positional[1], f"{name}(): the source key")
    lookup_key = column_position(lookup, positional[2], f"{name}(): the lookup key")
    for position, expr in ((table.columns[source_key], positional[1]), (lookup.columns[lookup_key], positional[2])):
        if position[1] not in ("string", "dynamic"):
            raise semantic(expr, f"{name}(): the key column '{position[0]}' must be a string, not {position[1]}")
    unmatched = "return_unmatched" in named and constant_value(
        evaluator, named["return_unmatched"], scope, f"{name}(): return_unmatched", ("bool",)) is True
    taken = set(table.names)
    for column, _ in lookup.columns:
        if column in taken:
            raise unsupported(call, f"{name}(): the lookup table's column '{column}' is also a source column, "
                                    "which the evaluator does not rename")
    keys = [(parse(row[lookup_key]) if row[lookup_key] is not None else None, row) for row in lookup.rows]
    empty = tuple(V.default_value(kind) for _, kind in lookup.columns)
    rows = []
    for row in table.rows:
        address = parse(row[source_key]) if row[source_key] not in (None, "") else None
        found = [match for key, match in keys
                 if address is not None and key is not None and key.version == address.version and _matches(address, key)]
        evaluator.budget.rows(len(found) or int(unmatched), call, name)
        rows.extend(tuple(row) + tuple(match) for match in found)
        if not found and unmatched:
            rows.append(tuple(row) + empty)
    return Table(table.columns + lookup.columns, rows)


@plugin("ipv4_lookup")
def ipv4_lookup(evaluator: "Evaluator", call: ast.Call, table: Table, scope: "Scope") -> Table:
    """https://learn.microsoft.com/kusto/query/ipv4-lookup-plugin"""
    return _lookup(evaluator, call, table, scope, "ipv4_lookup", _ipv4)


@plugin("ipv6_lookup")
def ipv6_lookup(evaluator: "Evaluator", call: ast.Call, table: Table, scope: "Scope") -> Table:
    """https://learn.microsoft.com/kusto/query/ipv6-lookup-plugin (an IPv4 address is IPv4-mapped)"""
    return _lookup(evaluator, call, table, scope, "ipv6_lookup", _ipv6)
