"""The district map's point lookups: the fitted projection agrees with pyproj, and the
nearest cell for a point just outside the district is the nearest one."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from pyproj import Transformer

from app.domain.district import DistrictMap


def test_the_fitted_projection_finds_the_cells_pyproj_finds(district_map: DistrictMap) -> None:
    rng = np.random.default_rng(7)
    min_lon, min_lat, max_lon, max_lat = district_map.bounds
    lon = rng.uniform(min_lon - 0.02, max_lon + 0.02, 20_000)
    lat = rng.uniform(min_lat - 0.02, max_lat + 0.02, 20_000)
    rows, cols = district_map.cell_rc(lon, lat)  # pyproj, vectorised
    for a, b, r, c in zip(lon, lat, rows, cols, strict=True):
        assert district_map.cell_at(a, b) is district_map._cell_by_rc.get((int(r), int(c)))


def test_the_nearest_cell_outside_is_the_nearest_within_reach(district_map: DistrictMap) -> None:
    """Distances to the cells' lattice squares (a clipped cell counts by its square)."""
    to_metric = Transformer.from_crs("EPSG:4326", district_map.lattice.crs, always_xy=True)
    cells = list(district_map.cells)
    x0, y0 = district_map.lattice.origin
    m = district_map.lattice.cell_m
    rows = np.array([c.properties["row"] for c in cells])
    cols = np.array([c.properties["col"] for c in cells])
    squares = shapely.box(x0 + cols * m, y0 - (rows + 1) * m, x0 + (cols + 1) * m, y0 - rows * m)
    rng = np.random.default_rng(3)
    boundary = district_map.district.geometry.boundary
    checked = 0
    for f in rng.uniform(0, 1, 200):
        edge = boundary.interpolate(f, normalized=True)
        lon, lat = edge.x + rng.uniform(-0.004, 0.004), edge.y + rng.uniform(-0.004, 0.004)
        if district_map.contains(lon, lat):
            continue
        found = district_map.nearest_cell(lon, lat, 300.0)
        x, y = to_metric.transform(lon, lat)
        distances = shapely.distance(squares, shapely.Point(x, y))
        nearest = float(distances.min())
        if nearest > 300.5:
            assert found is None
        elif nearest < 299.5:
            assert found is not None
            assert float(distances[cells.index(found)]) == pytest.approx(nearest, abs=0.5)
        checked += 1
    assert checked > 50
