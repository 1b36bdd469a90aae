"""Longitude and latitude to a local metric plane, and shapely geometries to Qt paths.

The map draws in metres east and north of the district's centre (an equirectangular
projection at the centre's latitude). Over a district a dozen kilometres across the scale
error is below 0.1 %, far under a pixel at any zoom the map offers, and the projection is
two multiplications each way, so a hundred thousand incidents project in a millisecond.
"""

from __future__ import annotations

import math
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import shapely
import shiboken6
from PySide6.QtGui import QPainterPath, QPolygonF
from shapely.geometry.base import BaseGeometry

#: The WGS84 ellipsoid's equatorial radius, used as a sphere (metres).
EARTH_RADIUS_M: Final = 6_378_137.0

FloatArray = npt.NDArray[np.float64]


class Projection:
    """Equirectangular projection centred on (``lon0``, ``lat0``): x metres east, y metres
    north of the centre."""

    def __init__(self, lon0: float, lat0: float) -> None:
        self.lon0 = lon0
        self.lat0 = lat0
        self.m_per_deg_lat = EARTH_RADIUS_M * math.pi / 180.0
        self.m_per_deg_lon = self.m_per_deg_lat * math.cos(math.radians(lat0))

    def forward(self, lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Metres east and north of the centre for arrays of lon/lat (degrees)."""
        x = (np.asarray(lon, dtype=np.float64) - self.lon0) * self.m_per_deg_lon
        y = (np.asarray(lat, dtype=np.float64) - self.lat0) * self.m_per_deg_lat
        return x, y

    def inverse(self, x: npt.ArrayLike, y: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Longitude and latitude (degrees) of points given in metres."""
        lon = np.asarray(x, dtype=np.float64) / self.m_per_deg_lon + self.lon0
        lat = np.asarray(y, dtype=np.float64) / self.m_per_deg_lat + self.lat0
        return lon, lat

    def point(self, lon: float, lat: float) -> tuple[float, float]:
        return (lon - self.lon0) * self.m_per_deg_lon, (lat - self.lat0) * self.m_per_deg_lat

    def lonlat(self, x: float, y: float) -> tuple[float, float]:
        return x / self.m_per_deg_lon + self.lon0, y / self.m_per_deg_lat + self.lat0

    def geometry(self, geom: BaseGeometry) -> BaseGeometry:
        """A shapely geometry in projected metres."""
        return shapely.transform(geom, lambda xy: np.column_stack(self.forward(xy[:, 0], xy[:, 1])))


def polygon_f(x: FloatArray, y: FloatArray) -> QPolygonF:
    """A QPolygonF holding the points, filled through its buffer (no QPointF per point)."""
    n = len(x)
    polygon = QPolygonF()
    polygon.resize(n)
    if n:
        address: Any = polygon.data()  # the points' buffer, as shiboken's void pointer wants it
        void_ptr: Any = shiboken6.VoidPtr  # (address, size, writable); its stub knows one argument
        raw = void_ptr(address, n * 16, True)
        buffer = np.frombuffer(raw, dtype=np.float64).reshape(n, 2)
        buffer[:, 0] = x
        buffer[:, 1] = y
    return polygon


def rings(geom: BaseGeometry) -> list[FloatArray]:
    """The coordinate rings of a polygonal geometry (exteriors and holes) or the lines of a
    linear one, each an (n, 2) array."""
    out: list[FloatArray] = []
    part: Any
    for part in getattr(geom, "geoms", (geom,)):
        if part.geom_type == "Polygon":
            out.append(np.asarray(part.exterior.coords, dtype=np.float64)[:, :2])
            out.extend(np.asarray(hole.coords, dtype=np.float64)[:, :2] for hole in part.interiors)
        elif part.geom_type in ("LineString", "LinearRing"):
            out.append(np.asarray(part.coords, dtype=np.float64)[:, :2])
        elif hasattr(part, "geoms"):
            out.extend(rings(part))
    return out


def path_from_geometry(geom: BaseGeometry, projection: Projection) -> QPainterPath:
    """A path in projected metres (y north) for a lon/lat geometry; holes stay holes (the
    path uses the odd-even fill rule)."""
    path = QPainterPath()
    for ring in rings(geom):
        x, y = projection.forward(ring[:, 0], ring[:, 1])
        path.addPolygon(polygon_f(x, y))
        if len(ring) > 2 and ring[0, 0] == ring[-1, 0] and ring[0, 1] == ring[-1, 1]:
            path.closeSubpath()
    return path
