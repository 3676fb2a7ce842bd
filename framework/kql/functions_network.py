"""Scalar functions over IP addresses: parsing, matching, formatting, finding them in text.

Registered into ``functions.FUNCTIONS`` on import (``functions`` imports this module).
"""

from __future__ import annotations

import ipaddress
from typing import Any

import re2

from dac.kql import values as V
from dac.kql.errors import KqlRefusedValue, KqlRuntimeError
from dac.kql.functions import PARAMETER_TYPES, scalar


def _ipv4(text: Any) -> ipaddress.IPv4Network | None:
    try:
        return ipaddress.IPv4Network(V.to_string(text).strip(), strict=False)
    except ValueError:
        return None


@scalar("ipv4_is_private", returns="bool", args=(1, 1))
def _ipv4_is_private(value: Any) -> Any:
    network = _ipv4(value)
    if network is None:
        return None
    private = [ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")]
    return any(network.subnet_of(p) for p in private)


@scalar("ipv4_is_in_range", returns="bool", args=(2, 2))
def _ipv4_is_in_range(value: Any, prefix: Any) -> Any:
    address, network = _ipv4(value), _ipv4(prefix)
    if address is None or network is None:
        return None
    return address.network_address in network


def _prefixes(left: Any, right: Any, prefix: Any, width: int) -> tuple[int, int]:
    """The two networks' addresses cut to the shortest of their prefixes and ``prefix`` (default: the
    whole ``width``-bit address): what ipv4/ipv6 _is_match and _compare compare."""
    bits = min(left.prefixlen, right.prefixlen, V.to_long(prefix) if prefix is not None else width)
    shift = width - bits
    return int(left.network_address) >> shift, int(right.network_address) >> shift


@scalar("ipv4_is_match", returns="bool", args=(2, 3))
def _ipv4_is_match(a: Any, b: Any, prefix: Any = 32) -> Any:
    left, right = _ipv4(a), _ipv4(b)
    if left is None or right is None:
        return None
    x, y = _prefixes(left, right, prefix, 32)
    return x == y


@scalar("ipv4_compare", returns="long", args=(2, 3))
def _ipv4_compare(a: Any, b: Any, prefix: Any = 32) -> Any:
    left, right = _ipv4(a), _ipv4(b)
    if left is None or right is None:
        return None
    x, y = _prefixes(left, right, prefix, 32)
    return (x > y) - (x < y)


@scalar("ipv6_is_match", returns="bool", args=(2, 3))
def _ipv6_is_match(a: Any, b: Any, prefix: Any = 128) -> Any:
    left, right = _ipv6(a), _ipv6(b)
    if left is None or right is None:
        return None
    x, y = _prefixes(left, right, prefix, 128)
    return x == y


def _ipv6(text: Any) -> ipaddress.IPv6Network | None:
    """An IPv6 network; IPv4 addresses become IPv4-mapped (::ffff:a.b.c.d), prefixes shifted by 96."""
    raw = V.to_string(text).strip()
    try:
        network = ipaddress.ip_network(raw, strict=False)
    except ValueError:
        return None
    if isinstance(network, ipaddress.IPv4Network):
        mapped = ipaddress.IPv6Address("::ffff:" + str(network.network_address))
        return ipaddress.IPv6Network(f"{mapped}/{network.prefixlen + 96}", strict=False)
    return network


@scalar("ipv6_compare", returns="long", args=(2, 3))
def _ipv6_compare(a: Any, b: Any, prefix: Any = 128) -> Any:
    left, right = _ipv6(a), _ipv6(b)
    if left is None or right is None:
        return None
    x, y = _prefixes(left, right, prefix, 128)
    return (x > y) - (x < y)


@scalar("ipv4_is_in_any_range", returns="bool", args=(2, 64))
def _ipv4_is_in_any_range(value: Any, *ranges: Any) -> Any:
    address = _ipv4(value)
    if address is None:
        return None
    items = [r for item in ranges for r in (item if isinstance(item, list) else [item])]
    return any(_ipv4_is_in_range(value, r) for r in items)


# Runs of letters, digits and dots: an address is "properly delimited with non-alphanumeric
# characters" when it is a whole run (dots around it allowed, a full stop after it is common).
_RUN = re2.compile(r"[\p{L}\p{N}.]+")
_ADDRESS = re2.compile(r"\.*([0-9]{1,3}(?:\.[0-9]{1,3}){3})\.*")


def _addresses_in(text: str) -> list[str]:
    """The IPv4 addresses written in ``text`` as whole, valid addresses (54127.0.0.1 holds none)."""
    found = []
    for run in _RUN.finditer(text):
        match = _ADDRESS.fullmatch(run.group(0))
        if match and _ipv4(match.group(1)) is not None:
            found.append(match.group(1))
    return found


def _is_address(text: str) -> bool:
    network = _ipv4(text)
    return network is not None and network.prefixlen == 32 and "/" not in text


@scalar("has_ipv4", returns="bool", args=(2, 2))
def _has_ipv4(source: Any, address: Any) -> Any:
    """Whether the valid IPv4 address ``address`` appears in the text, delimited by non-alphanumeric
    characters (https://learn.microsoft.com/kusto/query/has-ipv4-function)."""
    wanted = V.to_string(address).strip()
    if not _is_address(wanted):
        return False
    target = ipaddress.IPv4Address(wanted)
    return any(ipaddress.IPv4Address(found) == target for found in _addresses_in(V.to_string(source)))


_PREFIX = re2.compile(r"(?:[0-9]{1,3}\.){1,3}")


@scalar("has_ipv4_prefix", returns="bool", args=(2, 2))
def _has_ipv4_prefix(source: Any, prefix: Any) -> Any:
    """Whether an address in the text starts with ``prefix``: a whole address, or one to three
    octets each followed by a dot (192., 192.168., 192.168.1.); anything else is no valid
    prefix and gives false (https://learn.microsoft.com/kusto/query/has-ipv4-prefix-function)."""
    wanted = V.to_string(prefix).strip()
    if _is_address(wanted):
        return _has_ipv4(source, wanted)
    if not _PREFIX.fullmatch(wanted) or any(int(octet) > 255 for octet in wanted.split(".")[:-1]):
        return False
    return any(found.startswith(wanted) for found in _addresses_in(V.to_string(source)))


@scalar("format_ipv4", returns="string", args=(1, 2))
def _format_ipv4(value: Any, prefix: Any = 32) -> str:
    network = _ipv4(value) if not isinstance(value, int) else ipaddress.IPv4Network(value)
    if network is None:
        return ""
    bits = min(network.prefixlen, V.to_long(prefix) if prefix is not None else 32)
    if bits < 0:
        return ""
    return str(ipaddress.IPv4Network(f"{network.network_address}/{bits}", strict=False).network_address)


@scalar("format_ipv4_mask", returns="string", args=(1, 2))
def _format_ipv4_mask(value: Any, prefix: Any = 32) -> str:
    network = _ipv4(value)
    if network is None:
        return ""
    bits = min(network.prefixlen, V.to_long(prefix) if prefix is not None else 32)
    if bits < 0:
        return ""
    return str(ipaddress.IPv4Network(f"{network.network_address}/{bits}", strict=False))


@scalar("parse_ipv4", returns="long", args=(1, 1))
def _parse_ipv4(value: Any) -> Any:
    network = _ipv4(value)
    return None if network is None else int(network.network_address)


@scalar("parse_ipv4_mask", returns="long", args=(2, 2))
def _parse_ipv4_mask(value: Any, prefix: Any) -> Any:
    """The address as a long with only its ``prefix`` leading bits kept (0 to 32, else null)
    (https://learn.microsoft.com/kusto/query/parse-ipv4-mask-function)."""
    network, bits = _ipv4(value), V.to_long(prefix)
    if network is None or bits is None or not 0 <= bits <= 32:
        return None
    bits = min(bits, network.prefixlen)
    return int(network.network_address) & ((0xFFFFFFFF << (32 - bits)) & 0xFFFFFFFF)


def _listed(values: tuple[Any, ...]) -> list[Any]:
    """The arguments after the text, a dynamic array among them spread into its elements."""
    return [v for item in values for v in (item if isinstance(item, list) else [item])]


@scalar("has_any_ipv4", returns="bool", args=(2, 64))
def _has_any_ipv4(source: Any, *addresses: Any) -> bool:
    """Whether one of the addresses is a valid IPv4 address found in the text as ``has_ipv4`` finds
    it; invalid ones are skipped (https://learn.microsoft.com/kusto/query/has-any-ipv4-function)."""
    return any(_has_ipv4(source, address) for address in _listed(addresses) if address is not None)


@scalar("has_any_ipv4_prefix", returns="bool", args=(2, 64))
def _has_any_ipv4_prefix(source: Any, *prefixes: Any) -> bool:
    """Whether an address in the text starts with one of the prefixes, each as ``has_ipv4_prefix``
    reads it (https://learn.microsoft.com/kusto/query/has-any-ipv4-prefix-function)."""
    return any(_has_ipv4_prefix(source, prefix) for prefix in _listed(prefixes) if prefix is not None)


_SUFFIXED = re2.compile(r"\s*([0-9]{1,3}(?:\.[0-9]{1,3}){3})(?:/([0-9]{1,2}))?\s*")


def _suffixed(value: Any) -> tuple[ipaddress.IPv4Address, int] | None:
    """An IPv4 address with its optional /suffix (0 to 32, 32 when absent), None when it is none."""
    match = _SUFFIXED.fullmatch(V.to_string(value))
    if match is None:
        return None
    try:
        address = ipaddress.IPv4Address(match.group(1))
    except ValueError:
        return None
    suffix = 32 if match.group(2) is None else int(match.group(2))
    return (address, suffix) if suffix <= 32 else None


@scalar("ipv4_netmask_suffix", returns="long", args=(1, 1))
def _ipv4_netmask_suffix(value: Any) -> int | None:
    """The /suffix of an IPv4 address, 32 without one, null for no address
    (https://learn.microsoft.com/kusto/query/ipv4-netmask-suffix-function)."""
    parsed = _suffixed(value)
    return None if parsed is None else parsed[1]


@scalar("ipv4_range_to_cidr_list", returns="dynamic", args=(2, 2))
def _ipv4_range_to_cidr_list(start: Any, end: Any) -> list[str]:
    """The fewest CIDR blocks that together cover start .. end, in address order
    (https://learn.microsoft.com/kusto/query/ipv4-range-to-cidr-list-function). The page says nothing
    of an invalid address, a /suffix or an end before the start: those are refused."""
    first, last = _suffixed(start), _suffixed(end)
    if first is None or last is None or first[1] != 32 or last[1] != 32 or "/" in V.to_string(start) + V.to_string(end):
        raise KqlRuntimeError("ipv4_range_to_cidr_list() of anything but two plain IPv4 addresses is not "
                              "reproduced: the page does not say what Kusto returns")
    if first[0] > last[0]:
        raise KqlRefusedValue("ipv4_range_to_cidr_list() with the end before the start is not reproduced: "
                              "the page does not say what Kusto returns")
    return [str(network) for network in ipaddress.summarize_address_range(first[0], last[0])]


_STRING = frozenset({"string"})
PARAMETER_TYPES["ipv4_netmask_suffix"] = {0: _STRING}
PARAMETER_TYPES["ipv4_range_to_cidr_list"] = {0: _STRING, 1: _STRING}
# the text, then addresses as strings or one dynamic array (which no static type check refuses)
PARAMETER_TYPES["has_any_ipv4"] = PARAMETER_TYPES["has_any_ipv4_prefix"] = {i: _STRING for i in range(64)}
