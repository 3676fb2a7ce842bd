"""geo_from_wkt: a Well-known text (WKT) geometry as a GeoJSON shape
(https://learn.microsoft.com/kusto/query/geo-from-wkt-function).

Registered into ``functions.FUNCTIONS`` on import. The page fixes the seven 2-D geometry kinds and their
GeoJSON forms (``type`` then ``coordinates``, or ``geometries`` for a collection), and that an invalid
string gives null. Coordinates are reals, as Kusto's geospatial functions return doubles. What the page
leaves open is refused rather than guessed: lower-case keywords, EMPTY geometries, Z/M coordinates,
coordinates outside WGS-84's ranges, polygons with holes or clockwise rings, and unclosed or short
rings and lines (Kusto may validate or repair them).
"""

from __future__ import annotations

import math
import re
from typing import Any

from dac.kql.errors import KqlRefusedValue
from dac.kql.functions import PARAMETER_TYPES, scalar

_TOKEN = re.compile(r"\s*(?:([A-Za-z]+)|([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)|([(),]))")
_KINDS = {"POINT": "Point", "LINESTRING": "LineString", "POLYGON": "Polygon", "MULTIPOINT": "MultiPoint",
          "MULTILINESTRING": "MultiLineString", "MULTIPOLYGON": "MultiPolygon",
          "GEOMETRYCOLLECTION": "GeometryCollection"}


class _Invalid(Exception):
    """The string is not WKT: geo_from_wkt gives null."""


def _refuse(why: str) -> KqlRefusedValue:
    return KqlRefusedValue(f"geo_from_wkt: {why} is not reproduced: the page does not say what Kusto gives")


class _Reader:
    def __init__(self, text: str) -> None:
        self.tokens: list[str] = []
        position = 0
        text = text.rstrip()
        while position < len(text):
            match = _TOKEN.match(text, position)
            if match is None or match.end() == position:
                raise _Invalid()
            self.tokens.append(match.group(0).strip())
            position = match.end()
        self.at = 0

    def peek(self) -> str | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token != expected):
            raise _Invalid()
        self.at += 1
        return token

    def listed(self, item) -> list:
        """``( item, item, ... )``."""
        self.take("(")
        items = [item()]
        while self.peek() == ",":
            self.take(",")
            items.append(item())
        self.take(")")
        return items

    def position(self) -> list[float]:
        numbers = []
        while self.peek() is not None and self.peek() not in "(),":
            token = self.take()
            if token[0].isalpha():
                raise _Invalid()
            numbers.append(float(token))
        if len(numbers) > 2:
            raise _refuse("a coordinate with Z or M values")
        if len(numbers) != 2:
            raise _Invalid()
        longitude, latitude = numbers
        if not (math.isfinite(longitude) and math.isfinite(latitude)) or abs(longitude) > 180 or abs(latitude) > 90:
            raise _refuse("a coordinate outside longitude [-180, 180] and latitude [-90, 90]")
        return numbers

    def line(self) -> list[list[float]]:
        points = self.listed(self.position)
        if len(points) < 2:
            raise _refuse("a line of fewer than two points")
        return points

    def polygon(self) -> list[list[list[float]]]:
        rings = self.listed(self.line)
        if len(rings) > 1:
            raise _refuse("a polygon with holes")
        ring = rings[0]
        if len(ring) < 4 or ring[0] != ring[-1]:
            raise _refuse("an unclosed ring or one of fewer than four points")
        area = sum(a[0] * b[1] - b[0] * a[1] for a, b in zip(ring, ring[1:]))
        if area <= 0:
            raise _refuse("a clockwise or degenerate ring")
        return rings

    def geometry(self) -> dict[str, Any]:
        word = self.take()
        if word.upper() in _KINDS and word != word.upper():
            raise _refuse("a lower-case WKT keyword")
        if word not in _KINDS:
            raise _Invalid()
        if self.peek() is not None and self.peek()[0].isalpha():
            raise _refuse(f"'{word} {self.peek()}' (EMPTY or a Z/M geometry)")
        kind = _KINDS[word]
        if kind == "GeometryCollection":
            return {"type": kind, "geometries": self.listed(self.geometry)}
        read = {"Point": self.point,
                "LineString": self.line, "Polygon": self.polygon,
                "MultiPoint": lambda: self.listed(self.multipoint_member),
                "MultiLineString": lambda: self.listed(self.line),
                "MultiPolygon": lambda: self.listed(self.polygon)}[kind]
        return {"type": kind, "coordinates": read()}

    def point(self) -> list[float]:
        """``(x y)``: exactly one position."""
        self.take("(")
        position = self.position()
        self.take(")")
        return position

    def multipoint_member(self) -> list[float]:
        """MULTIPOINT (1 1, 2 2); the parenthesised form ((1 1), (2 2)) is left to the refusal below."""
        if self.peek() == "(":
            raise _refuse("a MULTIPOINT with parenthesised points")
        return self.position()


@scalar("geo_from_wkt", returns="dynamic", args=(1, 1))
def geo_from_wkt(wkt: Any) -> dict[str, Any] | None:
    """The GeoJSON shape of a WKT geometry; null for null or a string that is not WKT."""
    if not isinstance(wkt, str):
        return None
    try:
        reader = _Reader(wkt)
        shape = reader.geometry()
        if reader.peek() is not None:
            raise _Invalid()
    except _Invalid:
        return None
    return shape


PARAMETER_TYPES["geo_from_wkt"] = {0: frozenset({"string"})}
