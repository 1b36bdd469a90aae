"""Incidents on the map, kept column by column, and their screen-space clusters.

Nothing here knows Qt: :class:`IncidentColumns` is the map's copy of the incidents it shows
(id, position, severity), as numpy arrays with an id → row index, and :class:`Clusterer`
groups them into bubbles for a view. A hundred thousand incidents cluster in a few
milliseconds because every step is one numpy pass: keep the points in the clustered area,
bin them on a grid anchored to the map (so a pan does not move a point from one bubble to
another), and sum positions and severity counts per bin with ``bincount``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Final

import numpy as np
import numpy.typing as npt

from widgets.map.projection import FloatArray, Projection

IntArray = npt.NDArray[np.int64]
SeverityArray = npt.NDArray[np.int8]

#: Levels 1 (red) .. 4 (blue); anything else is shown as blue.
LEVELS: Final = 4
#: Target size of a cluster cell on screen, pixels.
CELL_PX: Final = 60.0
#: Cell sizes come in steps of 2**(1/STEPS_PER_OCTAVE), so a small zoom (a pinch, a trackpad)
#: keeps the clusters until the cell on screen leaves [CELL_PX / 2**(1/4), CELL_PX * 2**(1/4)].
STEPS_PER_OCTAVE: Final = 2

#: The arrays of :class:`IncidentColumns`, one value per incident.
COLUMNS: Final = ("ids", "lon", "lat", "x", "y", "severity")

ViewBox = tuple[float, float, float, float]
"""(x0, y0, x1, y1): projected metres, x east and y north."""


def cell_metres(scale: float) -> float:
    """The cluster cell (metres) for ``scale`` pixels per metre, on the quantised ladder."""
    step = round(math.log2(CELL_PX / scale) * STEPS_PER_OCTAVE)
    return float(2.0 ** (step / STEPS_PER_OCTAVE))


class IncidentColumns:
    """Incident ids, positions (lon/lat and projected metres) and severities in numpy arrays
    with room to grow, and a dict from id to row. Removal swaps the last rows into the holes,
    so rows stay dense; :attr:`generation` changes with every change."""

    def __init__(self, projection: Projection, capacity: int = 1024) -> None:
        self.projection = projection
        self.n = 0
        self.generation = 0
        self._row: dict[int, int] = {}
        self._alloc(capacity)

    def _alloc(self, capacity: int) -> None:
        self.ids: IntArray = np.zeros(capacity, dtype=np.int64)
        self.lon: FloatArray = np.zeros(capacity, dtype=np.float64)
        self.lat: FloatArray = np.zeros(capacity, dtype=np.float64)
        self.x: FloatArray = np.zeros(capacity, dtype=np.float64)
        self.y: FloatArray = np.zeros(capacity, dtype=np.float64)
        self.severity: SeverityArray = np.zeros(capacity, dtype=np.int8)

    def _grow(self, needed: int) -> None:
        capacity = len(self.ids)
        if needed <= capacity:
            return
        capacity = max(needed, 2 * capacity)
        n = self.n
        old = {name: getattr(self, name) for name in COLUMNS}
        self._alloc(capacity)
        for name, previous in old.items():
            getattr(self, name)[:n] = previous[:n]

    def __len__(self) -> int:
        return self.n

    def __contains__(self, incident_id: object) -> bool:
        return incident_id in self._row

    def row(self, incident_id: int) -> int | None:
        return self._row.get(incident_id)

    def position(self, incident_id: int) -> tuple[float, float] | None:
        """(lon, lat) of an incident, or None when the map does not have it."""
        r = self._row.get(incident_id)
        return None if r is None else (float(self.lon[r]), float(self.lat[r]))

    # -- changes -------------------------------------------------------------------------------
    @staticmethod
    def _columns(
        ids: npt.ArrayLike, lon: npt.ArrayLike, lat: npt.ArrayLike, severity: npt.ArrayLike
    ) -> tuple[IntArray, FloatArray, FloatArray, SeverityArray]:
        i = np.asarray(ids, dtype=np.int64).ravel()
        x = np.asarray(lon, dtype=np.float64).ravel()
        y = np.asarray(lat, dtype=np.float64).ravel()
        s = np.asarray(severity, dtype=np.int8).ravel()
        if not len(i) == len(x) == len(y) == len(s):
            raise ValueError("ids, lon, lat and severity must have the same length")
        # One row per id: the last occurrence wins, as it would applied one by one.
        if len(i) > 1:
            reversed_ids = i[::-1]
            _, first = np.unique(reversed_ids, return_index=True)
            if len(first) < len(i):
                keep = np.sort(len(i) - 1 - first)
                i, x, y, s = i[keep], x[keep], y[keep], s[keep]
        return i, x, y, s

    def set(self, ids: npt.ArrayLike, lon: npt.ArrayLike, lat: npt.ArrayLike, severity: npt.ArrayLike) -> None:
        """Replace every incident."""
        i, lo, la, s = self._columns(ids, lon, lat, severity)
        n = len(i)
        self._alloc(max(1024, int(n * 1.25)))
        self.n = n
        self.ids[:n], self.lon[:n], self.lat[:n], self.severity[:n] = i, lo, la, s
        self.x[:n], self.y[:n] = self.projection.forward(lo, la)
        self._row = dict(zip(i.tolist(), range(n), strict=True))
        self.generation += 1

    def upsert(self, ids: npt.ArrayLike, lon: npt.ArrayLike, lat: npt.ArrayLike, severity: npt.ArrayLike) -> None:
        """Add new incidents and move or recolour known ones."""
        i, lo, la, s = self._columns(ids, lon, lat, severity)
        if not len(i):
            return
        get = self._row.get
        rows = np.fromiter((get(v, -1) for v in i.tolist()), dtype=np.int64, count=len(i))
        known = rows >= 0
        fresh = ~known
        k = int(np.count_nonzero(fresh))
        if k:
            self._grow(self.n + k)
            new_rows = np.arange(self.n, self.n + k, dtype=np.int64)
            rows[fresh] = new_rows
            self.ids[new_rows] = i[fresh]
            self._row.update(zip(i[fresh].tolist(), new_rows.tolist(), strict=True))
            self.n += k
        self.lon[rows], self.lat[rows], self.severity[rows] = lo, la, s
        self.x[rows], self.y[rows] = self.projection.forward(lo, la)
        self.generation += 1

    def remove(self, ids: npt.ArrayLike) -> int:
        """Drop incidents (unknown ids are ignored); returns how many were removed."""
        get = self._row.get
        wanted = np.asarray(ids, dtype=np.int64).ravel()
        rows = np.unique(np.fromiter((get(v, -1) for v in wanted.tolist()), dtype=np.int64, count=len(wanted)))
        rows = rows[rows >= 0]
        k = len(rows)
        if not k:
            return 0
        n = self.n
        for incident_id in self.ids[rows].tolist():
            del self._row[incident_id]
        # Holes below the new end are filled by the surviving rows above it.
        end = n - k
        holes = rows[rows < end]
        tail = np.setdiff1d(np.arange(end, n, dtype=np.int64), rows, assume_unique=True)
        if len(holes):
            for name in COLUMNS:
                column = getattr(self, name)
                column[holes] = column[tail]
            self._row.update(zip(self.ids[holes].tolist(), holes.tolist(), strict=True))
        self.n = end
        self.generation += 1
        return k


@dataclass(frozen=True)
class Cluster:
    """A bubble on the map: where (the mean of its incidents), how many, which (``ids``), the
    most severe level among them (``max_severity``: the lowest level number, 1 = red) and the
    count per level (red first)."""

    lon: float
    lat: float
    count: int
    ids: IntArray = field(repr=False)
    max_severity: int
    levels: tuple[int, int, int, int] = (0, 0, 0, 0)


class Clustering:
    """The clusters of one cell size over one area (a grid snapped box around the view), for
    one generation of the columns."""

    def __init__(
        self,
        columns: IncidentColumns,
        cell_m: float,
        area: ViewBox,
    ) -> None:
        self.columns = columns
        self.generation = columns.generation
        self.cell_m = cell_m
        self.area = area
        n = columns.n
        x0, y0, x1, y1 = area
        xs, ys = columns.x[:n], columns.y[:n]
        inside = (xs >= x0) & (xs < x1) & (ys >= y0) & (ys < y1)
        rows = np.flatnonzero(inside)
        px, py = xs[rows], ys[rows]
        ix0, iy0 = math.floor(x0 / cell_m), math.floor(y0 / cell_m)
        width = max(1, math.ceil(x1 / cell_m) - ix0)
        height = max(1, math.ceil(y1 / cell_m) - iy0)
        ci = np.clip(np.floor(px / cell_m).astype(np.int64) - ix0, 0, width - 1)
        cj = np.clip(np.floor(py / cell_m).astype(np.int64) - iy0, 0, height - 1)
        key = ci * height + cj
        sev = np.clip(columns.severity[rows].astype(np.int64), 1, LEVELS) - 1
        bins = width * height
        levels = np.bincount(key * LEVELS + sev, minlength=bins * LEVELS).reshape(bins, LEVELS)
        counts = levels.sum(axis=1)
        occupied = np.flatnonzero(counts)
        label_of_bin = np.full(bins, -1, dtype=np.int64)
        label_of_bin[occupied] = np.arange(len(occupied), dtype=np.int64)
        self.rows: IntArray = rows
        """Rows of the columns inside the area."""
        self.labels: IntArray = label_of_bin[key]
        """Cluster index of each of :attr:`rows`."""
        self.count: IntArray = counts[occupied]
        self.levels: IntArray = levels[occupied]
        self.x: FloatArray = np.bincount(key, weights=px, minlength=bins)[occupied] / self.count
        self.y: FloatArray = np.bincount(key, weights=py, minlength=bins)[occupied] / self.count
        self.severity: SeverityArray = (np.argmax(self.levels > 0, axis=1) + 1).astype(np.int8)
        self._order: IntArray | None = None
        self._starts: IntArray | None = None

    def __len__(self) -> int:
        return len(self.count)

    def valid_for(self, columns: IncidentColumns, cell_m: float, view: ViewBox) -> bool:
        x0, y0, x1, y1 = self.area
        return (
            columns is self.columns
            and columns.generation == self.generation
            and cell_m == self.cell_m
            and view[0] >= x0
            and view[1] >= y0
            and view[2] <= x1
            and view[3] <= y1
        )

    def member_rows(self, label: int) -> IntArray:
        """Rows of the incidents in cluster ``label``."""
        if self._order is None or self._starts is None:
            self._order = np.argsort(self.labels, kind="stable")
            self._starts = np.concatenate(([0], np.cumsum(self.count)))
        start, end = int(self._starts[label]), int(self._starts[label + 1])
        return self.rows[self._order[start:end]]

    def members(self, label: int) -> IntArray:
        """Ids of the incidents in cluster ``label``."""
        return self.columns.ids[self.member_rows(label)].copy()

    def cluster(self, label: int) -> Cluster:
        lon, lat = self.columns.projection.lonlat(float(self.x[label]), float(self.y[label]))
        lv = self.levels[label]
        return Cluster(
            lon=lon,
            lat=lat,
            count=int(self.count[label]),
            ids=self.members(label),
            max_severity=int(self.severity[label]),
            levels=(int(lv[0]), int(lv[1]), int(lv[2]), int(lv[3])),
        )

    def within(self, view: ViewBox) -> list[Cluster]:
        """The clusters as seen through ``view``: each made of its incidents inside the view
        (the cells on the view's edge lose the incidents beyond it)."""
        cols = self.columns
        px, py = cols.x[self.rows], cols.y[self.rows]
        inside = (px >= view[0]) & (px <= view[2]) & (py >= view[1]) & (py <= view[3])
        rows, labels = self.rows[inside], self.labels[inside]
        order = np.argsort(labels, kind="stable")
        rows, labels = rows[order], labels[order]
        cut = np.flatnonzero(np.diff(labels)) + 1
        out: list[Cluster] = []
        for group in np.split(rows, cut) if len(rows) else []:
            sev = np.clip(cols.severity[group].astype(np.int64), 1, LEVELS)
            lv = np.bincount(sev - 1, minlength=LEVELS)
            lon, lat = cols.projection.lonlat(float(cols.x[group].mean()), float(cols.y[group].mean()))
            out.append(
                Cluster(
                    lon=lon,
                    lat=lat,
                    count=len(group),
                    ids=cols.ids[group].copy(),
                    max_severity=int(sev.min()),
                    levels=(int(lv[0]), int(lv[1]), int(lv[2]), int(lv[3])),
                )
            )
        return out


class Clusterer:
    """Keeps the last clustering and makes a new one only when the data, the cell size or a
    view beyond the clustered area asks for it. The area is the view grown by
    :attr:`margin` of its size on every side, snapped to the cell grid, so panning within
    it reuses the clusters."""

    def __init__(self, columns: IncidentColumns, margin: float = 0.5) -> None:
        self.columns = columns
        self.margin = margin
        self.current: Clustering | None = None
        self.runs = 0
        """How many clusterings were computed (for tests and the benchmark)."""
        self.last_ms = 0.0

    def invalidate(self) -> None:
        self.current = None

    def area_for(self, view: ViewBox, cell_m: float) -> ViewBox:
        x0, y0, x1, y1 = view
        mx, my = (x1 - x0) * self.margin, (y1 - y0) * self.margin
        return (
            math.floor((x0 - mx) / cell_m) * cell_m,
            math.floor((y0 - my) / cell_m) * cell_m,
            (math.floor((x1 + mx) / cell_m) + 1) * cell_m,
            (math.floor((y1 + my) / cell_m) + 1) * cell_m,
        )

    def clusters(self, view: ViewBox, scale: float) -> Clustering:
        """The clustering for ``view`` (projected metres) at ``scale`` pixels per metre."""
        cell_m = cell_metres(scale)
        current = self.current
        if current is not None and current.valid_for(self.columns, cell_m, view):
            return current
        t0 = time.perf_counter()
        current = Clustering(self.columns, cell_m, self.area_for(view, cell_m))
        self.last_ms = (time.perf_counter() - t0) * 1000.0
        self.runs += 1
        self.current = current
        return current
