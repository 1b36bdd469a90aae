"""The district's vector layers as Qt paths in projected metres, built once per map.

Paths are drawn through the view's world → screen transform with cosmetic pens, so a zoom or
a pan redraws them without rebuilding anything. The unit grid (thousands of cells) is drawn
as its lattice's lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, cast

import numpy as np
import shapely
from pyproj import Transformer
from PySide6.QtGui import QPainterPath
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from app.domain.district import Area, DistrictMap
from widgets.map.projection import Projection, path_from_geometry, polygon_f, rings

#: Points along each lattice line of the unit grid.
SAMPLES: Final = 9

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class Label:
    """A name to write centred at (x, y) (projected metres), in an area that leaves
    ``width_m`` of room along the label's line and ``height_m`` across it: the view writes
    the name only when it fits."""

    text: str
    x: float
    y: float
    width_m: float
    height_m: float


def _box(path: QPainterPath) -> Box:
    r = path.boundingRect()
    return (r.left(), r.top(), r.right(), r.bottom())


def _room(polygon: BaseGeometry, x: float, y: float) -> float:
    """Length of the horizontal chord through (x, y) inside ``polygon``."""
    minx, _, maxx, _ = polygon.bounds
    chord = shapely.intersection(shapely.LineString([(minx - 1.0, y), (maxx + 1.0, y)]), polygon)
    point = shapely.Point(x, y)
    for piece in getattr(chord, "geoms", (chord,)):
        if piece.length > 0 and shapely.distance(piece, point) < 1e-6:
            return float(piece.length)
    return float(chord.length)


def _label(text: str, geom: BaseGeometry, projection: Projection) -> Label:
    """The label of an area at the centre of the largest circle inside its biggest part."""
    parts = list(getattr(geom, "geoms", (geom,)))
    main = cast(Polygon, projection.geometry(max(parts, key=lambda g: g.area)))
    minx, miny, maxx, maxy = main.bounds
    circle = shapely.maximum_inscribed_circle(main, max(5.0, (maxx - minx + maxy - miny) / 400.0))
    x, y = circle.coords[0]
    return Label(text, float(x), float(y), _room(main, x, y), 2.0 * float(circle.length))


class MapLayers:
    """Paths and labels of the district's layers, in projected metres (y north)."""

    def __init__(self, district: DistrictMap, projection: Projection, language: str) -> None:
        self.projection = projection
        self.district_path = path_from_geometry(district.district.geometry, projection)
        self.district_box = _box(self.district_path)
        self.neighbours_path = QPainterPath()
        for area in district.neighbours:
            self.neighbours_path.addPath(path_from_geometry(area.geometry, projection))
        self.neighbours = district.neighbours
        self.neighbour_names = [area.label(language) for area in district.neighbours]
        self.streets_path = QPainterPath()
        for area in district.streets:
            self.streets_path.addPath(path_from_geometry(area.geometry.boundary, projection))
        self.streets = district.streets
        self.street_names = [area.label(language) for area in district.streets]
        self.street_labels = [
            _label(name, area.geometry, projection) for name, area in zip(self.street_names, self.streets, strict=True)
        ]
        self.cell_m = district.lattice.cell_m
        self.district_projected = projection.geometry(district.district.geometry)
        self.grid_path = self._grid_lines(district, projection, self.district_projected)

    @staticmethod
    def _grid_lines(district: DistrictMap, projection: Projection, clip: BaseGeometry) -> QPainterPath:
        """The unit grid as the lattice's lines clipped to the district: a few hundred long
        lines instead of thousands of cell outlines (each inner edge once), which draw in a
        fraction of the time. The lattice is the grid's: its cells are its squares, clipped to
        the district in the same way."""
        lattice = district.lattice
        path = QPainterPath()
        if lattice.rows <= 0 or lattice.cols <= 0:
            return path
        to_lonlat = Transformer.from_crs(lattice.crs, "EPSG:4326", always_xy=True)
        x0, y0 = lattice.origin
        size = lattice.cell_m
        xs = x0 + size * np.arange(lattice.cols + 1)
        ys = y0 - size * np.arange(lattice.rows + 1)
        # A few points along each line, so any curvature of the lattice in lon/lat is kept.
        t = np.linspace(0.0, 1.0, SAMPLES)
        vertical = [np.column_stack((np.full(SAMPLES, x), ys[0] + (ys[-1] - ys[0]) * t)) for x in xs]
        horizontal = [np.column_stack((xs[0] + (xs[-1] - xs[0]) * t, np.full(SAMPLES, y))) for y in ys]
        coords = np.concatenate(vertical + horizontal)
        lon, lat = to_lonlat.transform(coords[:, 0], coords[:, 1])
        px, py = projection.forward(lon, lat)
        lines = shapely.linestrings(np.column_stack((px, py)).reshape(-1, SAMPLES, 2))
        clipped_lines: Any = shapely.intersection(lines, clip)
        for clipped in clipped_lines.tolist():
            for ring in rings(clipped):
                path.addPolygon(polygon_f(ring[:, 0], ring[:, 1]))
        return path

    def neighbour_labels(self, view_lonlat: Box) -> list[Label]:
        """Where to write each neighbour's name: inside its biggest part that is in view."""
        return self._clipped(self.neighbours, self.neighbour_names, view_lonlat)

    def street_labels_in(self, view_lonlat: Box) -> list[Label]:
        """Each street's label: at its own label point when that is in view, else inside the
        street's part that is in view (zoomed in, the operator still reads where they are)."""
        lon0, lat0, lon1, lat1 = view_lonlat
        x0, y0 = self.projection.point(lon0, lat0)
        x1, y1 = self.projection.point(lon1, lat1)
        out: list[Label] = []
        for area, name, fixed in zip(self.streets, self.street_names, self.street_labels, strict=True):
            if x0 <= fixed.x <= x1 and y0 <= fixed.y <= y1:
                out.append(fixed)
            else:
                out.extend(self._clipped((area,), (name,), view_lonlat))
        return out

    def _clipped(self, areas: Sequence[Area], names: Sequence[str], view_lonlat: Box) -> list[Label]:
        out: list[Label] = []
        for area, name in zip(areas, names, strict=True):
            part = shapely.clip_by_rect(area.geometry, *view_lonlat)
            if part.is_empty or part.area <= 0:
                continue
            out.append(_label(name, part, self.projection))
        return out
