"""A geo-IP database supplied by a test, for ``geo_info_from_ip_address()``.

Kusto looks addresses up in MaxMind's GeoLite2-City data
(https://learn.microsoft.com/kusto/query/geo-info-from-ip-address-function),
which is not available offline; a test states the locations it relies on
instead, as entries ``{network, country, state, city, latitude, longitude}``
where ``network`` is an address or a CIDR range, IPv4 or IPv6. A lookup takes
the entry with the longest matching prefix, as a routing table (and an MMDB
tree) does.

What a lookup returns follows the documentation: a property bag with the keys
``country``, ``state``, ``city`` (strings) and ``latitude``, ``longitude``
(reals) "if the information is available". An entry that leaves a field out
has no such key. When nothing is available (the address is not in the
database, is not an IPv4/IPv6 address, or is null) the result is null: the
page returns an object only when there is information, and no key of it is
documented for the failed case.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any

FIELDS = {"country": str, "state": str, "city": str, "latitude": float, "longitude": float}


class GeoEntryError(ValueError):
    """A malformed entry: ``index`` is its position in the list, ``field`` the offending key."""

    def __init__(self, index: int, field: str | None, message: str) -> None:
        super().__init__(message)
        self.index = index
        self.field = field


def parse_network(text: Any) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """``20.53.203.50``, ``20.53.203.0/24`` or ``2a03:2880::/32``; host bits may be set
    (``10.1.2.3/8`` is 10.0.0.0/8), as Kusto's own IP-prefix functions accept them."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"network must be an IP address or CIDR range such as 20.53.203.0/24, got {text!r}")
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        raise ValueError(f"{text!r} is not an IP address or CIDR range (such as 20.53.203.0/24 or 2a03:2880::/32)") from None


class GeoDatabase:
    """Entries indexed by IP version and prefix length; lookups take the longest prefix."""

    def __init__(self, entries: Iterable[Mapping[str, Any]] = ()) -> None:
        # version -> prefix length -> network address as int -> the bag to return
        self._tables: dict[int, dict[int, dict[int, dict[str, Any]]]] = {4: {}, 6: {}}
        for index, entry in enumerate(entries):
            self.add(entry, index)
        self._order = {version: sorted(table, reverse=True) for version, table in self._tables.items()}

    @classmethod
    def of(cls, value: "GeoDatabase | Iterable[Mapping[str, Any]] | None") -> "GeoDatabase":
        return value if isinstance(value, GeoDatabase) else cls(value or ())

    def add(self, entry: Mapping[str, Any], index: int = 0) -> None:
        """Add one entry (a later entry for the same network replaces an earlier one)."""
        if not isinstance(entry, Mapping):
            raise GeoEntryError(index, None, f"a geo_ip entry must be a mapping with a 'network', got {entry!r}")
        unknown = sorted(set(entry) - set(FIELDS) - {"network"})
        if unknown:
            raise GeoEntryError(index, unknown[0], f"unknown geo_ip key '{unknown[0]}' (expected network, "
                                                   f"{', '.join(FIELDS)})")
        if "network" not in entry:
            raise GeoEntryError(index, None, "a geo_ip entry needs a 'network' (an IP address or CIDR range)")
        try:
            network = parse_network(entry["network"])
        except ValueError as exc:
            raise GeoEntryError(index, "network", str(exc)) from None
        bag: dict[str, Any] = {}
        for name, kind in FIELDS.items():
            value = entry.get(name)
            if value is None:
                continue
            if kind is str and not isinstance(value, str):
                raise GeoEntryError(index, name, f"geo_ip {name} must be a string, got {value!r}")
            if kind is float:
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    raise GeoEntryError(index, name, f"geo_ip {name} must be a number, got {value!r}")
                limit = 90 if name == "latitude" else 180
                if not -limit <= value <= limit:
                    raise GeoEntryError(index, name, f"geo_ip {name} must be between -{limit} and {limit}, got {value!r}")
                value = float(value)
            bag[name] = value
        self._tables[network.version].setdefault(network.prefixlen, {})[int(network.network_address)] = bag
        self._order = {version: sorted(table, reverse=True) for version, table in self._tables.items()}

    def __len__(self) -> int:
        return sum(len(networks) for table in self._tables.values() for networks in table.values())

    def lookup(self, address: Any) -> dict[str, Any] | None:
        """The bag for ``address`` (a copy), or None when it is not an address or not in the database."""
        if not isinstance(address, str):
            return None
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return None
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped  # ::ffff:a.b.c.d is the IPv4 address, as in an MMDB tree
        width = ip.max_prefixlen
        value = int(ip)
        table = self._tables[ip.version]
        for length in self._order[ip.version]:
            mask = ((1 << length) - 1) << (width - length) if length else 0
            bag = table[length].get(value & mask)
            if bag is not None:
                return dict(bag)
        return None
