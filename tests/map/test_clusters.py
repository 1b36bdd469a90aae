"""The map's incident columns and clusters: every incident in view is in exactly one cluster,
whatever the view, the zoom and the changes since."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pytestqt.qtbot import QtBot

from app.domain.district import DistrictMap
from bench.map import incidents
from widgets.map.clusters import Clusterer, IncidentColumns, cell_metres
from widgets.map.projection import Projection
from widgets.map.view2d import MAX_SCALE, MapView

N = 100_000


def in_view(columns: IncidentColumns, view: tuple[float, float, float, float]) -> np.ndarray:
    n = columns.n
    x, y = columns.x[:n], columns.y[:n]
    inside = (x >= view[0]) & (x <= view[2]) & (y >= view[1]) & (y <= view[3])
    return np.sort(columns.ids[:n][inside])


def check(clusterer: Clusterer, view: tuple[float, float, float, float], scale: float) -> int:
    """Clusters of ``view`` add up to the incidents in it, each id exactly once; returns the
    number of incidents in view."""
    expected = in_view(clusterer.columns, view)
    clusters = clusterer.clusters(view, scale).within(view)
    assert sum(c.count for c in clusters) == len(expected)
    ids = np.sort(np.concatenate([c.ids for c in clusters])) if clusters else np.empty(0, dtype=np.int64)
    assert np.array_equal(ids, expected)
    for c in clusters:
        assert c.count == len(c.ids) == sum(c.levels)
        assert c.max_severity == min(k + 1 for k, n in enumerate(c.levels) if n)
    return len(expected)


@pytest.fixture
def columns() -> IncidentColumns:
    rng = np.random.default_rng(42)
    cols = IncidentColumns(Projection(121.38, 31.26))
    ids = rng.permutation(np.arange(10, 10 + N, dtype=np.int64) * 3)
    lon = 121.38 + rng.normal(0.0, 0.02, N)
    lat = 31.26 + rng.normal(0.0, 0.015, N)
    cols.set(ids, lon, lat, rng.integers(1, 5, N).astype(np.int8))
    return cols


def random_views(rng: np.random.Generator, count: int) -> list[tuple[tuple[float, float, float, float], float]]:
    views = []
    for _ in range(count):
        scale = float(10 ** rng.uniform(np.log10(0.02), np.log10(MAX_SCALE)))
        cx, cy = rng.normal(0.0, 2500.0, 2)
        hw, hh = 800.0 / scale, 500.0 / scale
        views.append(((cx - hw, cy - hh, cx + hw, cy + hh), scale))
    return views


def test_clusters_add_up_to_the_incidents_in_view(columns: IncidentColumns) -> None:
    clusterer = Clusterer(columns)
    rng = np.random.default_rng(1)
    seen = 0
    for view, scale in random_views(rng, 60):
        seen += check(clusterer, view, scale)
        clustering = clusterer.current
        assert clustering is not None
        # The whole clustered area too: its clusters partition the incidents in it.
        assert int(clustering.count.sum()) == len(clustering.rows) == len(np.unique(clustering.rows))
    assert seen > N  # the views did see incidents, many times over


def test_clusters_stay_right_after_upserts_and_removals(columns: IncidentColumns) -> None:
    clusterer = Clusterer(columns)
    rng = np.random.default_rng(2)
    views = random_views(rng, 12)
    for round_ in range(6):
        ids = columns.ids[: columns.n].copy()
        moved = rng.choice(ids, 2000, replace=False)
        new = np.arange(5, 1005, dtype=np.int64) * 7 + 10_000_000 * (round_ + 1)
        both = np.concatenate((moved, new))
        columns.upsert(
            both,
            121.38 + rng.normal(0.0, 0.02, len(both)),
            31.26 + rng.normal(0.0, 0.015, len(both)),
            rng.integers(1, 5, len(both)).astype(np.int8),
        )
        gone = rng.choice(columns.ids[: columns.n], 3000, replace=False)
        assert columns.remove(np.concatenate((gone, [-1, -2]))) == 3000
        for view, scale in views:
            check(clusterer, view, scale)
    assert columns.n == N + 6 * (1000 - 3000)


def test_columns_keep_their_index_through_swap_removal() -> None:
    """A reference dict applied the same changes agrees with the columns at every step."""
    rng = np.random.default_rng(3)
    cols = IncidentColumns(Projection(121.4, 31.25), capacity=4)
    reference: dict[int, tuple[float, float, int]] = {}
    for _ in range(200):
        op = rng.integers(0, 3)
        ids = rng.integers(0, 500, rng.integers(1, 40))
        if op < 2:
            lon, lat = rng.uniform(121.3, 121.5, len(ids)), rng.uniform(31.2, 31.3, len(ids))
            sev = rng.integers(1, 5, len(ids)).astype(np.int8)
            cols.upsert(ids, lon, lat, sev)
            for i, a, b, s in zip(ids.tolist(), lon.tolist(), lat.tolist(), sev.tolist(), strict=True):
                reference[i] = (a, b, s)  # the last of repeated ids wins
        else:
            cols.remove(ids)
            for i in ids.tolist():
                reference.pop(i, None)
        assert cols.n == len(reference)
        assert sorted(cols.ids[: cols.n].tolist()) == sorted(reference)
        for i, (a, b, s) in reference.items():
            row = cols.row(i)
            assert row is not None and cols.ids[row] == i
            assert (cols.lon[row], cols.lat[row], int(cols.severity[row])) == (a, b, s)


def test_set_keeps_the_last_of_repeated_ids() -> None:
    cols = IncidentColumns(Projection(121.4, 31.25))
    cols.set([1, 2, 1], [121.40, 121.41, 121.42], [31.25, 31.25, 31.26], [4, 3, 1])
    assert cols.n == 2
    assert cols.position(1) == (121.42, 31.26)
    with pytest.raises(ValueError):
        cols.set([1, 2], [121.4], [31.2], [1])


def test_a_pan_inside_the_clustered_area_reuses_the_clusters(columns: IncidentColumns) -> None:
    clusterer = Clusterer(columns)
    scale = 0.1
    view = (-8000.0, -5000.0, 8000.0, 5000.0)
    first = clusterer.clusters(view, scale)
    # A small pan: the same clustering, and the same clusters for the cells it keeps.
    assert clusterer.clusters((-7000.0, -5500.0, 9000.0, 4500.0), scale) is first
    # A zoom within the same step of the cell ladder keeps them too.
    assert cell_metres(scale * 1.05) == cell_metres(scale)
    assert clusterer.clusters(view, scale * 1.05) is first
    # A change of data, a bigger zoom, or a pan out of the area clusters again.
    assert clusterer.clusters(view, scale * 2) is not first
    second = clusterer.clusters(view, scale)
    columns.upsert([1], [121.38], [31.26], [1])
    assert clusterer.clusters(view, scale) is not second
    third = clusterer.clusters(view, scale)
    assert clusterer.clusters((50_000.0, 0.0, 66_000.0, 10_000.0), scale) is not third


def test_the_maps_clusters_add_up_over_random_views(qtbot: QtBot, district_map: DistrictMap) -> None:
    """The widget's own clusters, on the real district, over random views and zooms."""
    view = MapView(district_map)
    qtbot.addWidget(view)
    view.resize(1200, 800)
    ids, lon, lat, severity = incidents(district_map, N)
    view.set_incidents(ids, lon, lat, severity)
    rng = np.random.default_rng(4)
    (lon0, lat0, lon1, lat1) = district_map.bounds
    total = 0
    for step in range(40):
        view.center_on(rng.uniform(lon0, lon1), rng.uniform(lat0, lat1), float(10 ** rng.uniform(-1.3, 0.3)))
        clusters = view.visible_clusters()
        in_view_count = view.incidents_in_view()
        assert sum(c.count for c in clusters) == in_view_count
        ids_seen = np.concatenate([c.ids for c in clusters]) if clusters else np.empty(0, dtype=np.int64)
        assert len(np.unique(ids_seen)) == len(ids_seen) == in_view_count
        total += in_view_count
        if step % 10 == 9:
            # Live changes between views: some move, some go, some come.
            view.upsert_incidents(ids[:500], lon[:500] + 0.001, lat[:500], severity[:500])
            view.remove_incidents(ids[500:1500])
            view.upsert_incidents(ids[500:700], lon[500:700], lat[500:700], severity[500:700])
    assert total > 0
    view.fit_district()
    assert view.incidents_in_view() == view.incidents.n == N - 800  # all inside the district
