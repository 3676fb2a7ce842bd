"""Geohash functions: geo_point_to_geohash, geo_geohash_to_central_point, geo_geohash_to_polygon and
geo_geohash_neighbors.

Registered into ``functions.FUNCTIONS`` on import (``functions`` imports this module). A geohash is
exact arithmetic: each base-32 character ("0123456789bcdefghjkmnpqrstuvwxyz") holds five bits that
alternately halve the longitude range [-180, 180] and the latitude range [-90, 90], longitude first
(https://en.wikipedia.org/wiki/Geohash, linked from each page). The halvings are of binary fractions,
so the cell's corners are exact doubles. The pages fix the accepted lengths (1 to 18), the default
accuracy 5, and the GeoJSON shapes of the results; an invalid input yields the empty string or null.
"""

from __future__ import annotations

import decimal
from typing import Any

from dac.kql import values as V
from dac.kql.errors import KqlRefusedValue
from dac.kql.functions import PARAMETER_TYPES, scalar

_ALPHABET = "0123456789bcdefghjkmnpqrstuvwxyz"
_DIGIT = {c: i for i, c in enumerate(_ALPHABET)}
_LENGTHS = range(1, 19)
Cell = tuple[float, float, float, float]  # west, south, east, north


def _encode(longitude: float, latitude: float, length: int) -> str:
    """The geohash of length ``length`` whose cell holds the point; a point on a cell's edge belongs to
    the cell east or north of it, as each halving sends the upper half (mid included) to bit 1."""
    ranges = [[-180.0, 180.0], [-90.0, 90.0]]
    values = (longitude, latitude)
    out, bit_index = [], 0
    for _ in range(length):
        digit = 0
        for _ in range(5):
            axis = bit_index % 2
            low, high = ranges[axis]
            mid = (low + high) / 2
            bit = values[axis] >= mid
            ranges[axis][0 if bit else 1] = mid
            digit = digit * 2 + bit
            bit_index += 1
        out.append(_ALPHABET[digit])
    return "".join(out)


def _cell(geohash: Any) -> Cell | None:
    """The rectangle a geohash names, None when it is no geohash of 1 to 18 characters. Upper-case
    letters are refused: the pages do not say whether Kusto reads them as their lower-case digits."""
    if not isinstance(geohash, str) or len(geohash) not in _LENGTHS:
        return None
    if any(c.isupper() and c.lower() in _DIGIT for c in geohash):
        raise KqlRefusedValue(f"the upper-case geohash '{geohash}' is not reproduced: the pages do not say "
                              "whether Kusto accepts upper-case geohash characters")
    west, east, south, north = -180.0, 180.0, -90.0, 90.0
    bit_index = 0
    for char in geohash:
        digit = _DIGIT.get(char)
        if digit is None:
            return None
        for shift in range(4, -1, -1):
            bit = (digit >> shift) & 1
            if bit_index % 2 == 0:
                mid = (west + east) / 2
                west, east = (mid, east) if bit else (west, mid)
            else:
                mid = (south + north) / 2
                south, north = (mid, north) if bit else (south, mid)
            bit_index += 1
    return west, south, east, north


def _real(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    return V.to_real(value) if isinstance(value, (int, float, decimal.Decimal)) else None


@scalar("geo_point_to_geohash", returns="string", args=(2, 3))
def geo_point_to_geohash(longitude: Any, latitude: Any, accuracy: Any = 5) -> str:
    """The geohash of the point, "" when a coordinate is out of range or the accuracy outside [1, 18]
    (https://learn.microsoft.com/kusto/query/geo-point-to-geohash-function)."""
    x, y = _real(longitude), _real(latitude)
    if x is None or y is None or not (-180 <= x <= 180 and -90 <= y <= 90):
        return ""
    if isinstance(accuracy, (float, decimal.Decimal)):
        raise KqlRefusedValue("a real geohash accuracy is not reproduced: the page takes an int and does not say "
                              "how Kusto reads a real")
    if isinstance(accuracy, bool) or not isinstance(accuracy, int) or accuracy not in _LENGTHS:
        return ""
    return _encode(x, y, accuracy)


@scalar("geo_geohash_to_central_point", returns="dynamic", args=(1, 1))
def geo_geohash_to_central_point(geohash: Any) -> dict[str, Any] | None:
    """The GeoJSON point at the centre of the geohash's rectangle, longitude first
    (https://learn.microsoft.com/kusto/query/geo-geohash-to-central-point-function)."""
    cell = _cell(geohash)
    if cell is None:
        return None
    west, south, east, north = cell
    return {"type": "Point", "coordinates": [(west + east) / 2, (south + north) / 2]}


@scalar("geo_geohash_to_polygon", returns="dynamic", args=(1, 1))
def geo_geohash_to_polygon(geohash: Any) -> dict[str, Any] | None:
    """The GeoJSON polygon of the geohash's rectangle: its ring starts at the south-west corner and runs
    east, north, west and back, as on the page's examples
    (https://learn.microsoft.com/kusto/query/geo-geohash-to-polygon-function)."""
    cell = _cell(geohash)
    if cell is None:
        return None
    west, south, east, north = cell
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


# The neighbours' order on the page's only example ('sunny' -> sunnt, sunpj, sunnx, sunpn, sunnv, sunpp,
# sunnz, sunnw), as (east, north) steps: SW, NW, SE, N, W, NE, E, S. The page states no order; dac
# keeps this one for every cell (https://learn.microsoft.com/kusto/query/geo-geohash-neighbors-function).
_NEIGHBOUR_STEPS = ((-1, -1), (-1, 1), (1, -1), (0, 1), (-1, 0), (1, 1), (1, 0), (0, -1))


@scalar("geo_geohash_neighbors", returns="dynamic", args=(1, 1))
def geo_geohash_neighbors(geohash: Any) -> list[str] | None:
    """The eight geohashes of the same length around it, in the page's order; null for an invalid
    geohash. A cell on the antimeridian or a pole is refused: the page does not say whether its
    neighbours wrap around or are fewer."""
    cell = _cell(geohash)
    if cell is None:
        return None
    west, south, east, north = cell
    if west == -180 or east == 180 or south == -90 or north == 90:
        raise KqlRefusedValue(f"the neighbours of the geohash '{geohash}' on the antimeridian or a pole are not "
                              "reproduced: the page does not say whether they wrap around or are fewer")
    width, height = east - west, north - south
    centre_x, centre_y = (west + east) / 2, (south + north) / 2
    return [_encode(centre_x + dx * width, centre_y + dy * height, len(geohash)) for dx, dy in _NEIGHBOUR_STEPS]


PARAMETER_TYPES["geo_point_to_geohash"] = {0: frozenset({"number"}), 1: frozenset({"number"}), 2: frozenset({"number"})}
for _name in ("geo_geohash_to_central_point", "geo_geohash_to_polygon", "geo_geohash_neighbors"):
    PARAMETER_TYPES[_name] = {0: frozenset({"string"})}
