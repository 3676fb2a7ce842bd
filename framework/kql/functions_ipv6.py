"""IPv6 functions: parse_ipv6, parse_ipv6_mask, ipv6_is_in_range and ipv6_is_in_any_range.

Registered into ``functions.FUNCTIONS`` on import (``functions`` imports this module).
An IPv4 address stands for its IPv4-mapped IPv6 form (::ffff:a.b.c.d) with its prefix counted from
bit 96, and so does the IPv6 notation ::a.b.c.d: the parse_ipv6_mask page maps ::192.168.255.255 to
0000:...:ffff:c0a8:ffff and reads its /24 as 120 bits
(https://learn.microsoft.com/kusto/query/parse-ipv6-mask-function). Other IPv6 notations ending
in a dotted quad (::ffff:1.2.3.4/104, 64:ff9b::1.2.3.4) are documented nowhere and refused.
"""

from __future__ import annotations

import ipaddress
from typing import Any

import re2

from dac.kql import values as V
from dac.kql.errors import KqlRefusedValue
from dac.kql.functions import INTEGER_ARGUMENTS, PARAMETER_TYPES, scalar

_STRING = frozenset({"string"})
_IPV4 = re2.compile(r"(?:::)?([0-9]{1,3}(?:\.[0-9]{1,3}){3})(?:/([0-9]{1,2}))?")
_IPV6 = re2.compile(r"([0-9A-Fa-f:]+)(?:/([0-9]{1,3}))?")
_MAPPED = 0xFFFF << 32


def _network(value: Any) -> tuple[int, int] | None:
    """``value`` as (128-bit address, prefix length), None when it is no address (or a prefix past
    the family's width)."""
    text = V.to_string(value).strip()
    match = _IPV4.fullmatch(text)
    if match:
        try:
            address = int(ipaddress.IPv4Address(match.group(1)))
        except ValueError:
            return None
        prefix = 32 if match.group(2) is None else int(match.group(2))
        return (_MAPPED | address, prefix + 96) if prefix <= 32 else None
    if "." in text:
        try:
            ipaddress.IPv6Address(text.split("/", 1)[0])
        except ValueError:
            return None
        raise KqlRefusedValue(f"the IPv6 notation '{text}' with an embedded IPv4 address is not reproduced: "
                              "how Kusto reads it is not documented")
    match = _IPV6.fullmatch(text)
    if match is None:
        return None
    try:
        address = int(ipaddress.IPv6Address(match.group(1)))
    except ValueError:
        return None
    prefix = 128 if match.group(2) is None else int(match.group(2))
    return (address, prefix) if prefix <= 128 else None


def _masked(address: int, bits: int) -> int:
    return address >> (128 - bits) << (128 - bits) if bits < 128 else address


def _canonical(address: int) -> str:
    return ipaddress.IPv6Address(address).exploded


@scalar("parse_ipv6", returns="string", args=(1, 1))
def _parse_ipv6(value: Any) -> str:
    """The address in canonical IPv6 form (eight groups of four hex digits), its own prefix applied;
    an empty string when it is no address (https://learn.microsoft.com/kusto/query/parse-ipv6-function)."""
    network = _network(value)
    return "" if network is None else _canonical(_masked(*network))


@scalar("parse_ipv6_mask", returns="string", args=(2, 2))
def _parse_ipv6_mask(value: Any, prefix: Any) -> str:
    """As parse_ipv6 with at most ``prefix`` (0 to 128) leading bits kept: the smaller of it and the
    address's own prefix (https://learn.microsoft.com/kusto/query/parse-ipv6-mask-function). A prefix
    outside 0 to 128 is not described and is refused."""
    network = _network(value)
    if prefix is None or network is None:
        return ""
    if not 0 <= prefix <= 128:
        raise KqlRefusedValue(f"parse_ipv6_mask() with prefix {prefix} is not reproduced: the page allows 0 to 128")
    return _canonical(_masked(network[0], min(network[1], prefix)))


def _in_range(address: tuple[int, int], network: tuple[int, int]) -> bool:
    return _masked(address[0], network[1]) == _masked(network[0], network[1])


@scalar("ipv6_is_in_range", returns="bool", args=(2, 2))
def _ipv6_is_in_range(value: Any, range_: Any) -> bool | None:
    """Whether the address lies in the range in IP-prefix notation; null when either is no address
    (https://learn.microsoft.com/kusto/query/ipv6-is-in-range-function)."""
    address, network = _network(value), _network(range_)
    return None if address is None or network is None else _in_range(address, network)


@scalar("ipv6_is_in_any_range", returns="bool", args=(2, 64))
def _ipv6_is_in_any_range(value: Any, *ranges: Any) -> bool | None:
    """Whether the address lies in one of the ranges (arguments, or a dynamic array of them); null
    when the address or a range is no address, as "conversion for one of the two IPv6 strings wasn't
    successful" (https://learn.microsoft.com/kusto/query/ipv6-is-in-any-range-function)."""
    address = _network(value)
    networks = [_network(r) for item in ranges for r in (item if isinstance(item, list) else [item])]
    if address is None or any(n is None for n in networks):
        return None
    return any(_in_range(address, n) for n in networks if n is not None)


PARAMETER_TYPES["parse_ipv6"] = {0: _STRING}
PARAMETER_TYPES["parse_ipv6_mask"] = {0: _STRING}
PARAMETER_TYPES["ipv6_is_in_range"] = {0: _STRING, 1: _STRING}
PARAMETER_TYPES["ipv6_is_in_any_range"] = {i: _STRING for i in range(64)}  # or one dynamic array
INTEGER_ARGUMENTS["parse_ipv6_mask"] = frozenset({1})
