"""XXH64, the hash behind Kusto's ``hash()`` (https://learn.microsoft.com/kusto/query/hash-function).

Written from the published algorithm (Yann Collet's xxHash specification) so the
project needs no compiled dependency for one function.
"""

from __future__ import annotations

_MASK = (1 << 64) - 1
_P1, _P2, _P3, _P4, _P5 = (
    11400714785074694791, 14029467366897019727, 1609587929392839161, 9650029242287828579, 2870177450012600261,
)


def _rotl(value: int, bits: int) -> int:
    return ((value << bits) | (value >> (64 - bits))) & _MASK


def _round(acc: int, lane: int) -> int:
    return (_rotl((acc + lane * _P2) & _MASK, 31) * _P1) & _MASK


def _merge(acc: int, value: int) -> int:
    return ((acc ^ _round(0, value)) * _P1 + _P4) & _MASK


def _lane(data: bytes, at: int, width: int = 8) -> int:
    return int.from_bytes(data[at:at + width], "little")


def xxh64(data: bytes, seed: int = 0) -> int:
    """The unsigned 64-bit XXH64 digest of ``data``."""
    size, at = len(data), 0
    if size >= 32:
        v1, v2, v3, v4 = (seed + _P1 + _P2) & _MASK, (seed + _P2) & _MASK, seed & _MASK, (seed - _P1) & _MASK
        while at + 32 <= size:
            v1, v2 = _round(v1, _lane(data, at)), _round(v2, _lane(data, at + 8))
            v3, v4 = _round(v3, _lane(data, at + 16)), _round(v4, _lane(data, at + 24))
            at += 32
        digest = (_rotl(v1, 1) + _rotl(v2, 7) + _rotl(v3, 12) + _rotl(v4, 18)) & _MASK
        for value in (v1, v2, v3, v4):
            digest = _merge(digest, value)
    else:
        digest = (seed + _P5) & _MASK
    digest = (digest + size) & _MASK
    while at + 8 <= size:
        digest = (_rotl(digest ^ _round(0, _lane(data, at)), 27) * _P1 + _P4) & _MASK
        at += 8
    if at + 4 <= size:
        digest = (_rotl(digest ^ ((_lane(data, at, 4) * _P1) & _MASK), 23) * _P2 + _P3) & _MASK
        at += 4
    while at < size:
        digest = (_rotl(digest ^ ((data[at] * _P5) & _MASK), 11) * _P1) & _MASK
        at += 1
    digest ^= digest >> 33
    digest = (digest * _P2) & _MASK
    digest ^= digest >> 29
    digest = (digest * _P3) & _MASK
    return digest ^ (digest >> 32)
