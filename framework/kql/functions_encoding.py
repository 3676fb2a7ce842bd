"""Scalar functions that encode and decode bytes: GUIDs and byte arrays as base64, the gzip and
zlib base64 strings, punycode, xxhash64, and the ASCII/UTF-8 checks.

Registered into ``functions.FUNCTIONS`` on import (``functions`` imports this module).
Kusto's strings are never null: a decoding that fails gives the empty string, as each page says.
"""

from __future__ import annotations

import base64
import binascii
import struct
import uuid
import zlib
from datetime import datetime
from typing import Any

import re2

from dac.kql import values as V
from dac.kql.errors import KqlRefusedValue
from dac.kql.functions import INTEGER_ARGUMENTS, PARAMETER_TYPES, scalar
from dac.kql.xxhash import xxh64

_STRING = frozenset({"string"})


def _b64decode(text: Any) -> bytes | None:
    """Strict base64 (the alphabet, whole quanta): None for anything else."""
    try:
        return base64.b64decode(V.to_string(text), validate=True)
    except (binascii.Error, ValueError):
        return None


@scalar("base64_encode_fromguid", returns="string", args=(1, 1))
def _base64_encode_fromguid(value: Any) -> str:
    """The GUID's 16 bytes as .NET lays them out (the first three fields little-endian: the page's
    ae3133f2-6e22-49ae-... is "8jMxriJurkmwahbmqbIS6w=="); anything but a GUID is an error, as the
    page says (https://learn.microsoft.com/kusto/query/base64-encode-fromguid-function)."""
    if value is None:
        return ""
    if not isinstance(value, uuid.UUID):
        raise ValueError(f"base64_encode_fromguid() takes a guid, not {V.type_of_value(value)}")
    return base64.b64encode(value.bytes_le).decode("ascii")


PARAMETER_TYPES["base64_encode_fromguid"] = {0: frozenset({"guid"})}


@scalar("base64_encode_fromarray", returns="string", args=(1, 1))
def _base64_encode_fromarray(value: Any) -> str:
    """The base64 text of an array of bytes (integers 0..255); "" when the value is no such array
    (https://learn.microsoft.com/kusto/query/base64-encode-fromarray-function: null input, as from
    a failed base64_decode_toarray, gives the empty result)."""
    if not isinstance(value, list):
        return ""
    if any(isinstance(b, bool) or not isinstance(b, int) or not 0 <= b <= 255 for b in value):
        return ""
    return base64.b64encode(bytes(value)).decode("ascii")


# ------------------------------------------------------------------ gzip and zlib

# Kusto stores rather than compresses: both pages' examples are a single stored deflate block (zlib's
# level 0), byte for byte. zlib writes one stored block per 65535 bytes; how Kusto splits a longer
# input is not documented, so a longer one is refused rather than given bytes that may differ.
_STORED_BLOCK = 65535
_GZIP_HEADER = bytes([0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 0xFF])  # no flags, no time, unknown OS: the page's bytes


def _stored_deflate(data: bytes, name: str) -> bytes:
    if len(data) > _STORED_BLOCK:
        raise KqlRefusedValue(f"{name}() of more than {_STORED_BLOCK} bytes is not reproduced: how Kusto "
                              "splits the stored blocks of a longer input is not documented")
    packer = zlib.compressobj(0, zlib.DEFLATED, -15)
    return packer.compress(data) + packer.flush()


@scalar("zlib_compress_to_base64_string", returns="string", args=(1, 1))
def _zlib_compress(value: Any) -> str:
    """https://learn.microsoft.com/kusto/query/zlib-base64-compress-function"""
    data = V.to_string(value).encode("utf-8")
    body = _stored_deflate(data, "zlib_compress_to_base64_string")
    framed = bytes([0x78, 0x01]) + body + struct.pack(">I", zlib.adler32(data))
    return base64.b64encode(framed).decode("ascii")


@scalar("gzip_compress_to_base64_string", returns="string", args=(1, 1))
def _gzip_compress(value: Any) -> str:
    """https://learn.microsoft.com/kusto/query/gzip-base64-compress"""
    data = V.to_string(value).encode("utf-8")
    body = _stored_deflate(data, "gzip_compress_to_base64_string")
    framed = _GZIP_HEADER + body + struct.pack("<II", zlib.crc32(data), len(data) & 0xFFFFFFFF)
    return base64.b64encode(framed).decode("ascii")


def _utf8(data: bytes | None) -> str:
    try:
        return "" if data is None else data.decode("utf-8")
    except UnicodeDecodeError:
        return ""


def _inflate(data: bytes, wbits: int) -> bytes | None:
    try:
        unpacker = zlib.decompressobj(wbits)
        out = unpacker.decompress(data)
        return out if unpacker.eof else None
    except zlib.error:
        return None


@scalar("zlib_decompress_from_base64_string", returns="string", args=(1, 1))
def _zlib_decompress(value: Any) -> str:
    """"" for text that is no base64 of a zlib stream of UTF-8
    (https://learn.microsoft.com/kusto/query/zlib-base64-decompress-function)."""
    data = _b64decode(value)
    return "" if data is None else _utf8(_inflate(data, 15))


@scalar("gzip_decompress_from_base64_string", returns="string", args=(1, 1))
def _gzip_decompress(value: Any) -> str:
    """The page: ID1, ID2 and CM must be right and FLG zero (no optional header fields), else "";
    (https://learn.microsoft.com/kusto/query/gzip-base64-decompress)."""
    data = _b64decode(value)
    if data is None or len(data) < 18 or data[:3] != b"\x1f\x8b\x08" or data[3] != 0:
        return ""
    return _utf8(_inflate(data, 31))


for _name in ("zlib_compress_to_base64_string", "gzip_compress_to_base64_string",
              "zlib_decompress_from_base64_string", "gzip_decompress_from_base64_string"):
    PARAMETER_TYPES[_name] = {0: _STRING}


# ------------------------------------------------------------------ punycode

_LABEL_DOTS = "[.\u3002\uff0e\uff61]"  # the full stops IDNA separates labels at (the page's 。 and ｡)


def _punycode_encode(text: str) -> str:
    return text.encode("punycode").decode("ascii")


def _punycode_decode(text: str) -> str | None:
    try:
        return text.encode("ascii").decode("punycode")
    except (UnicodeError, ValueError):
        return None


@scalar("punycode_from_string", returns="string", args=(1, 1))
def _punycode_from_string(value: Any) -> str:
    """RFC 3492 encoding ('académie-française' -> 'acadmie-franaise-npb1a'; the basic code points
    come first, then '-' when there are any)
    (https://learn.microsoft.com/kusto/query/punycode-from-string-function)."""
    return _punycode_encode(V.to_string(value))


@scalar("punycode_to_string", returns="string", args=(1, 1))
def _punycode_to_string(value: Any) -> str:
    """https://learn.microsoft.com/kusto/query/punycode-to-string-function: "" when it fails."""
    return _punycode_decode(V.to_string(value)) or ""


@scalar("punycode_domain_to_string", returns="string", args=(1, 1))
def _punycode_domain_to_string(value: Any) -> str:
    """Each label with a non-ASCII character becomes 'xn--' and its punycode; ASCII labels, case
    and spaces stay as they are, and the labels are joined with '.' (the page's
    'Lê Lợi。Thuận Thiên。com' -> 'xn--L Li-gpa4517b.xn--Thun Thin-s4a7194f.com')
    (https://learn.microsoft.com/kusto/query/punycode-domain-to-string-function)."""
    labels = re2.split(_LABEL_DOTS, V.to_string(value))
    return ".".join(label if label.isascii() else "xn--" + _punycode_encode(label) for label in labels)


@scalar("punycode_domain_from_string", returns="string", args=(1, 1))
def _punycode_domain_from_string(value: Any) -> str:
    """The inverse: each 'xn--' label decoded; "" when one fails
    (https://learn.microsoft.com/kusto/query/punycode-domain-from-string-function)."""
    out = []
    for label in V.to_string(value).split("."):
        if label[:4].lower() == "xn--":
            decoded = _punycode_decode(label[4:])
            if decoded is None:
                return ""
            label = decoded
        out.append(label)
    return ".".join(out)


for _name in ("punycode_from_string", "punycode_to_string", "punycode_domain_to_string",
              "punycode_domain_from_string"):
    PARAMETER_TYPES[_name] = {0: _STRING}


# ------------------------------------------------------------------ hashing and checks


def xxhash64_of(value: Any) -> int:
    """XXH64 of a value's bytes as Kusto hashes them, as an unsigned 64-bit number. The pages settle
    two layouts: a string's UTF-8 bytes ("World" -> 1846988464401551951) and a datetime's ticks as
    a little-endian 64-bit integer (2015-01-01 -> 1380966698541616202). Other types are refused."""
    if isinstance(value, str):
        return xxh64(value.encode("utf-8"))
    if isinstance(value, datetime):
        return xxh64(struct.pack("<q", V.ticks_of_datetime(value)))
    raise KqlRefusedValue(f"hashing a {V.type_of_value(value)} value is not reproduced: the byte layout "
                          "Kusto hashes for it is not documented")


@scalar("hash_xxhash64", returns="long", args=(1, 2))
def _hash_xxhash64(value: Any, modulo: Any = None) -> int | None:
    """The signed XXH64 of the value; with a modulo, the hash modulo it, from 0 to mod - 1
    (https://learn.microsoft.com/kusto/query/hash-xxhash64-function: "World", 100 -> 51)."""
    if value is None:
        return None
    digest = xxhash64_of(value)
    if modulo is not None:
        size = V.to_long(modulo)
        return digest % size if size else None
    return digest - (1 << 64) if digest >= 1 << 63 else digest


INTEGER_ARGUMENTS["hash_xxhash64"] = frozenset({1})


@scalar("isascii", returns="bool", args=(1, 1))
def _isascii(value: Any) -> bool:
    """Every character is 7-bit ASCII (https://learn.microsoft.com/kusto/query/isascii)."""
    return V.to_string(value).isascii()


@scalar("isutf8", returns="bool", args=(1, 1))
def _isutf8(value: Any) -> bool:
    """Whether the text is valid UTF-8 (https://learn.microsoft.com/kusto/query/isutf8-function). A
    value here is always Unicode text; only a lone surrogate (from unicode escapes) has no UTF-8 form."""
    try:
        V.to_string(value).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
