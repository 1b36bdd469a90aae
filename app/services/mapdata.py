"""What the map and the 3D view show, read from the console cache.

* the open incidents as columns (ids, lon, lat, severity) — a hundred thousand of them load in
  one query into numpy arrays, and a change reloads only the changed rows;
* the field devices (sensors and cameras) the server sent;
* the fire-safety columns of the 3D view: incidents of the fire-safety scenario (hazards and
  fires, scenario 4 of the annex) reported in a period, grouped by grid cell.

The queries block: :class:`MapService` runs them on the cache's worker thread.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import numpy as np
import numpy.typing as npt

from app.domain.catalog import Catalog
from app.domain.devices import Device
from app.storage.cache import OPEN_PREDICATE, ConsoleCache

if TYPE_CHECKING:
    from app.services.sync import SyncService

#: The scenario whose incidents the 3D view stacks into columns.
FIRE_SCENARIO: Final = "fire_safety"
_CHUNK: Final = 500


@dataclass(frozen=True)
class MapIncidents:
    """Incidents as columns, ready for the map widget."""

    ids: npt.NDArray[np.int64]
    lon: npt.NDArray[np.float64]
    lat: npt.NDArray[np.float64]
    severity: npt.NDArray[np.int8]

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class MapDelta:
    """What changed for the map: incidents to add or move (``upsert``) and ids to remove
    (closed, merged, invalid, or gone from the cache)."""

    upsert: MapIncidents
    removed: npt.NDArray[np.int64]


def _columns(rows: Sequence[tuple[int, float, float, int]]) -> MapIncidents:
    if not rows:
        return MapIncidents(
            np.empty(0, np.int64), np.empty(0, np.float64), np.empty(0, np.float64), np.empty(0, np.int8)
        )
    data = np.array(rows, dtype=np.float64)
    return MapIncidents(data[:, 0].astype(np.int64), data[:, 1].copy(), data[:, 2].copy(), data[:, 3].astype(np.int8))


class MapQuery:
    """The map's queries on a console cache (blocking)."""

    def __init__(self, cache: ConsoleCache, catalog: Catalog) -> None:
        self.cache = cache
        self.fire_categories = sorted(c.code for c in catalog.categories.values() if c.scenario == FIRE_SCENARIO)

    def open_incidents(self) -> MapIncidents:
        """Every open incident in the cache."""
        with self.cache._tx() as cur:
            rows = cur.execute(f"SELECT id, lon, lat, severity FROM incidents WHERE {OPEN_PREDICATE}").fetchall()
        return _columns(rows)

    def delta(self, incident_ids: Iterable[int]) -> MapDelta:
        """The map's view of these incidents now: the open ones to upsert, the rest removed."""
        wanted = sorted({int(i) for i in incident_ids})
        rows: list[tuple[int, float, float, int]] = []
        with self.cache._tx() as cur:
            for start in range(0, len(wanted), _CHUNK):
                part = wanted[start : start + _CHUNK]
                marks = ", ".join("?" * len(part))
                rows += cur.execute(
                    f"SELECT id, lon, lat, severity FROM incidents WHERE id IN ({marks}) AND {OPEN_PREDICATE}", part
                ).fetchall()
        upsert = _columns(rows)
        removed = np.setdiff1d(np.asarray(wanted, dtype=np.int64), upsert.ids)
        return MapDelta(upsert, removed)

    def fire_columns(self, start: float, end: float) -> dict[str, list[int]]:
        """Fire-safety incidents reported in [start, end), by grid cell code."""
        if not self.fire_categories:
            return {}
        marks = ", ".join("?" * len(self.fire_categories))
        columns: defaultdict[str, list[int]] = defaultdict(list)
        with self.cache._tx() as cur:
            for incident_id, grid in cur.execute(
                f"SELECT id, grid FROM incidents WHERE category IN ({marks}) AND reported_at >= ? AND reported_at < ?"
                " AND status != 'invalid' AND status != 'merged'",
                (*self.fire_categories, start, end),
            ):
                if grid:
                    columns[str(grid)].append(int(incident_id))
        return dict(columns)


class MapService:
    """The map's queries, each on the cache's worker thread of a sync service."""

    def __init__(self, sync: SyncService) -> None:
        self.sync = sync
        self.query = MapQuery(sync.cache, sync.catalog)

    async def open_incidents(self) -> MapIncidents:
        return await self.sync.db(self.query.open_incidents)

    async def delta(self, incident_ids: Iterable[int]) -> MapDelta:
        return await self.sync.db(self.query.delta, list(incident_ids))

    async def devices(self, ids: Iterable[str] | None = None) -> list[Device]:
        return await self.sync.db(self.sync.cache.devices, None if ids is None else list(ids))

    async def fire_columns(self, start: float, end: float) -> dict[str, list[int]]:
        return await self.sync.db(self.query.fire_columns, start, end)
