"""The digital vital signs (数字体征) computed on the console: every indicator of the catalogue
(:mod:`app.domain.indicators`) now, for the district and per street, and a rolling history of
each for the dashboard's sparklines and series.

Where the figures come from:

* **Incident aggregates** from the console cache. The open ones (backlog, overdue, red, a
  scenario's) read the board's partial index of open incidents, which covers the columns
  they need, so the table is never touched. The recent ones (12345 orders in 24 h, new in the
  last hour, closure rate today) read only the newest rows by row id: see
  :func:`settled_below`.
* **Device statistics** from the devices the server sent (their states): alarms of a sensor
  type, the share offline.
* **Readings** (water level, dust, noise) are not kept on the console yet: those indicators
  are None ("no data") unless a :data:`ReadingsSource` is given.

:class:`VitalsQuery` blocks; :class:`VitalsService` runs it on the cache's worker thread, on a
period and soon after the cache changes, and tells its subscribers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import sqlite3
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Final

import numpy as np
import numpy.typing as npt
import yaml

from app.domain.catalog import Catalog
from app.domain.devices import Device, DeviceState
from app.domain.indicators import Indicator, IndicatorCatalogue, IndicatorError, load_indicators
from app.domain.localtime import day_start
from app.domain.model import Severity, SourceChannel, Status
from app.domain.permissions import Role
from app.services.events import DevicesChanged, Event, IncidentsChanged
from app.storage.cache import BOARD_INDEXES, OPEN_PREDICATE, ConsoleCache
from resources import INDICATORS_PATH as _INDICATORS_PATH

if TYPE_CHECKING:
    from app.services.sync import SyncService

log = logging.getLogger(__name__)

INDICATORS_PATH: Final = _INDICATORS_PATH
#: How far a report's time may lie after the moment the server opened its incident (a source's
#: clock a little ahead, which intake allows up to five minutes) or a console's clock behind
#: the server's, with room to spare. See :func:`settled_below`.
CLOCK_SLACK_S: Final = 3600.0
#: Seconds between samples of the history, and samples kept (an hour).
SAMPLE_INTERVAL_S: Final = 10.0
HISTORY_SAMPLES: Final = 360
#: A sensor reading older than this is not shown (the server sends the latest every minute).
READING_MAX_AGE_S: Final = 900.0
#: After the cache changes, the values are computed again no sooner than this.
MIN_REFRESH_S: Final = 2.0
ReadingsSource = Callable[[str], Iterable[tuple[str, float]]]
"""The latest reading of each device of a sensor type, as (street, value) pairs."""

_BOARD_INDEX: Final = BOARD_INDEXES[0][0]
_OVERDUE: Final = f"deadline IS NOT NULL AND deadline < ? AND status <> '{Status.SUSPENDED.value}'"
_NOT_COUNTED: Final = f"('{Status.INVALID.value}', '{Status.MERGED.value}')"


def read_indicators(path: Path | None = None, catalog: Catalog | None = None) -> IndicatorCatalogue:
    """The indicator catalogue from ``path`` (the shipped one by default), checked against
    ``catalog`` when given; IndicatorError names the file and every problem in it."""
    path = path or INDICATORS_PATH
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise IndicatorError([f"{path}: {exc}"]) from None
    if not isinstance(raw, dict):
        raise IndicatorError([f"{path}: expected a mapping at the top"])
    try:
        return load_indicators(raw, catalog)
    except IndicatorError as exc:
        raise IndicatorError([f"{path}:", *exc.problems]) from None


@dataclass(frozen=True)
class VitalsSnapshot:
    """Every indicator's value at ``at`` (None: no data), and each one's values per street
    (streets without a value, such as a rate with nothing to divide, are left out)."""

    at: float
    values: dict[str, float | None]
    by_street: dict[str, dict[str, float]] = field(default_factory=dict)


@dataclass
class _StreetCounts:
    open: int = 0
    overdue: int = 0
    red: int = 0
    scenarios: dict[str, int] = field(default_factory=dict)
    hotline_24h: int = 0
    new_1h: int = 0
    reported_today: int = 0
    closed_today: int = 0


#: The aggregates that are counts, and how each is read from a street's counts.
_COUNTS: Final[dict[str, Callable[[_StreetCounts, str], int]]] = {
    "open_backlog": lambda c, _: c.open,
    "overdue": lambda c, _: c.overdue,
    "red_open": lambda c, _: c.red,
    "scenario_open": lambda c, scenario: c.scenarios.get(scenario, 0),
    "hotline_volume_24h": lambda c, _: c.hotline_24h,
    "new_per_hour": lambda c, _: c.new_1h,
}
#: The aggregates that are shares in per cent: numerator and denominator of a street's counts.
_SHARES: Final[dict[str, Callable[[_StreetCounts], tuple[int, int]]]] = {
    "overdue_share": lambda c: (c.overdue, c.open),
    "closure_rate_today": lambda c: (c.closed_today, c.reported_today),
}
#: The incident aggregates this module computes (the catalogue may name no others).
IMPLEMENTED_AGGREGATES: Final = frozenset(_COUNTS) | frozenset(_SHARES)


def settled_below(cur: sqlite3.Cursor, since: float) -> int:
    """An incident number at or below which every incident was reported before ``since``
    (0 when none is known), found with a few look-ups by row id.

    The server numbers incidents in the order it opens them, and a report's time is at most a
    few minutes after the opening (:data:`CLOCK_SLACK_S`); an incident's last change is never
    before its opening. So once an incident's last change is older than ``since`` less the
    slack, it and every incident with a lower number were reported before ``since``. A binary
    search over the numbers probes last changes; the numbers need not be in the order of
    their last changes for the answer to be right (every answer is a probe that passed), only
    for it to be close.
    """
    # Two statements: SQLite reads min() and max() of the row id straight from the ends of the
    # table only when each stands alone (together they scan an index).
    first = cur.execute("SELECT min(id) FROM incidents").fetchone()[0]
    last = cur.execute("SELECT max(id) FROM incidents").fetchone()[0]
    if first is None:
        return 0
    bound = 0
    lo, hi = int(first), int(last)
    cutoff = since - CLOCK_SLACK_S
    while lo <= hi:
        mid = (lo + hi) // 2
        probe_id, updated_at = cur.execute(
            "SELECT id, updated_at FROM incidents WHERE id <= ? ORDER BY id DESC LIMIT 1", (mid,)
        ).fetchone()
        if updated_at < cutoff:
            bound = max(bound, int(probe_id))
            lo = mid + 1
        else:
            hi = mid - 1
    return bound


class VitalsQuery:
    """The indicators' values on a console cache. Blocking: run it on the cache's worker
    thread (:class:`VitalsService` does).

    ``streets`` are the streets the breakdown lists (a count of 0 where there is nothing; by
    default the catalog's); ``readings`` gives sensor readings, when the console has them."""

    def __init__(
        self,
        cache: ConsoleCache,
        indicators: IndicatorCatalogue,
        catalog: Catalog,
        *,
        streets: Iterable[str] | None = None,
        readings: ReadingsSource | None = None,
    ) -> None:
        self.cache = cache
        self.indicators = indicators
        self.streets = tuple(streets) if streets is not None else tuple(catalog.streets)
        self.readings = readings
        self._now = 0.0
        unknown = indicators.aggregates - IMPLEMENTED_AGGREGATES
        if unknown:
            raise IndicatorError([f"aggregate {name!r} is not implemented" for name in sorted(unknown)])
        #: Categories of each scenario an indicator counts.
        self.scenario_categories: dict[str, tuple[str, ...]] = {}
        for indicator in indicators.values():
            scenario = indicator.source.scenario
            if indicator.source.aggregate == "scenario_open" and scenario is not None:
                self.scenario_categories[scenario] = tuple(
                    sorted(c.code for c in catalog.categories.values() if c.scenario == scenario)
                )

    def snapshot(self, now: float) -> VitalsSnapshot:
        """Every indicator as of ``now``, for the district and per street."""
        counts = self.incident_counts(now) if self.indicators.aggregates else {}
        self._now = now
        needs_devices = any(
            i.source.kind == "sensor" and (self.readings is None or i.source.statistic not in ("max", "mean"))
            for i in self._all
        )
        devices = self.cache.devices() if needs_devices else []
        values: dict[str, float | None] = {}
        by_street: dict[str, dict[str, float]] = {}
        for indicator in self._all:
            if indicator.source.kind == "incidents":
                total, streets = self._aggregate(indicator, counts)
            else:
                total, streets = self._sensor(indicator, devices)
            values[indicator.code] = total
            by_street[indicator.code] = streets
        return VitalsSnapshot(at=now, values=values, by_street=by_street)

    def values(self, now: float) -> dict[str, float | None]:
        """Every indicator's district value as of ``now``."""
        return self.snapshot(now).values

    @property
    def _all(self) -> Iterable[Indicator]:
        return self.indicators.values()

    # -- incidents -----------------------------------------------------------------------------
    def incident_counts(self, now: float) -> dict[str, _StreetCounts]:
        """The counts the aggregates are made of, per street (every street of the breakdown,
        and any other street the cache has incidents of)."""
        counts = {street: _StreetCounts() for street in self.streets}
        scenarios = list(self.scenario_categories.items())
        scenario_terms = "".join(
            f", coalesce(sum(category IN ({', '.join('?' * len(codes))})), 0)" if codes else ", 0"
            for _, codes in scenarios
        )
        scenario_params = [code for _, codes in scenarios for code in codes]
        since_24h = now - 86400.0
        since_1h = now - 3600.0
        today = day_start(now)
        with self.cache._tx() as cur:
            source = f"INDEXED BY {_BOARD_INDEX}" if _has_board_index(cur) else ""
            for row in cur.execute(
                f"SELECT street, count(*), coalesce(sum({_OVERDUE}), 0), coalesce(sum(severity = ?), 0)"
                f"{scenario_terms} FROM incidents {source} WHERE {OPEN_PREDICATE} GROUP BY street",
                (now, int(Severity.RED), *scenario_params),
            ):
                c = counts.setdefault(str(row[0]), _StreetCounts())
                c.open, c.overdue, c.red = int(row[1]), int(row[2]), int(row[3])
                c.scenarios = {scenario: int(n) for (scenario, _), n in zip(scenarios, row[4:], strict=True)}
            # Only the newest rows can have been reported in the last 24 hours (today began
            # less than 24 hours ago): read them by row id from the first that may. Left
            # alone, SQLite walks the street index for the GROUP BY and looks every row up.
            below = settled_below(cur, since_24h)
            for row in cur.execute(
                "SELECT street, coalesce(sum(source = ? AND reported_at >= ?), 0), coalesce(sum(reported_at >= ?), 0),"
                f" coalesce(sum(reported_at >= ? AND status NOT IN {_NOT_COUNTED}), 0),"
                " coalesce(sum(reported_at >= ? AND status = ?), 0)"
                " FROM incidents NOT INDEXED WHERE id > ? AND reported_at >= ? GROUP BY street",
                (
                    SourceChannel.HOTLINE_12345.value,
                    since_24h,
                    since_1h,
                    today,
                    today,
                    Status.CLOSED.value,
                    below,
                    min(since_24h, today),
                ),
            ):
                c = counts.setdefault(str(row[0]), _StreetCounts())
                c.hotline_24h, c.new_1h, c.reported_today, c.closed_today = (int(v) for v in row[1:])
        return counts

    def _aggregate(
        self, indicator: Indicator, counts: Mapping[str, _StreetCounts]
    ) -> tuple[float | None, dict[str, float]]:
        name = indicator.source.aggregate or ""
        if name in _SHARES:
            share = _SHARES[name]
            parts = {street: share(c) for street, c in counts.items()}
            num = sum(p[0] for p in parts.values())
            den = sum(p[1] for p in parts.values())
            streets = {s: 100.0 * n / d for s, (n, d) in parts.items() if d > 0 and self._listed(s)}
            return (100.0 * num / den if den > 0 else None), streets
        count = _COUNTS[name]
        scenario = indicator.source.scenario or ""
        values = {street: count(c, scenario) for street, c in counts.items()}
        streets = {s: float(n) for s, n in values.items() if n or self._listed(s)}
        return float(sum(values.values())), streets

    def _listed(self, street: str) -> bool:
        return street in self.streets

    # -- devices -------------------------------------------------------------------------------
    def _sensor(self, indicator: Indicator, devices: list[Device]) -> tuple[float | None, dict[str, float]]:
        source = indicator.source
        if source.statistic in ("max", "mean"):
            return self._readings(indicator, devices)
        of_type = [d for d in devices if source.sensor is None or d.type == source.sensor]
        if source.statistic == "alarm_count":
            streets = {s: 0.0 for s in self.streets}
            for d in of_type:
                if d.state is DeviceState.ALARM:
                    streets[d.street] = streets.get(d.street, 0.0) + 1.0
            return float(sum(d.state is DeviceState.ALARM for d in of_type)), streets
        # offline_share
        if not of_type:
            return None, {}
        per: dict[str, list[int]] = {}
        for d in of_type:
            tally = per.setdefault(d.street, [0, 0])
            tally[0] += d.state is DeviceState.OFFLINE
            tally[1] += 1
        offline = sum(t[0] for t in per.values())
        return 100.0 * offline / len(of_type), {s: 100.0 * t[0] / t[1] for s, t in per.items()}

    def _readings(self, indicator: Indicator, devices: list[Device]) -> tuple[float | None, dict[str, float]]:
        """Readings from ``readings`` when given, else the devices' latest readings (the server
        sends them every minute); a reading older than :data:`READING_MAX_AGE_S` is stale."""
        sensor = indicator.source.sensor
        if sensor is None:
            return None, {}
        if self.readings is not None:
            pairs: Iterable[tuple[str, float]] = self.readings(sensor)
        else:
            fresh = self._now - READING_MAX_AGE_S
            pairs = [
                (d.street, d.reading)
                for d in devices
                if d.type == sensor and d.reading is not None and d.reading_at >= fresh
                and d.state is not DeviceState.OFFLINE
            ]  # fmt: skip
        per: dict[str, list[float]] = {}
        for street, value in pairs:
            if math.isfinite(value):
                per.setdefault(street, []).append(value)
        if not per:
            return None, {}
        every = [v for vs in per.values() for v in vs]
        if indicator.source.statistic == "max":
            return max(every), {s: max(vs) for s, vs in per.items()}
        return sum(every) / len(every), {s: sum(vs) / len(vs) for s, vs in per.items()}


def _has_board_index(cur: sqlite3.Cursor) -> bool:
    row = cur.execute(
        "SELECT 1 FROM replica.sqlite_master WHERE type = 'index' AND name = ?", (_BOARD_INDEX,)
    ).fetchone()
    return row is not None


class VitalsHistory:
    """The last ``size`` samples of every indicator, at their times (NaN: no data)."""

    def __init__(self, codes: Iterable[str], size: int = HISTORY_SAMPLES) -> None:
        self.size = size
        self.times: deque[float] = deque(maxlen=size)
        self.values: dict[str, deque[float]] = {code: deque(maxlen=size) for code in codes}

    def append(self, snapshot: VitalsSnapshot) -> None:
        self.times.append(snapshot.at)
        for code, series in self.values.items():
            value = snapshot.values.get(code)
            series.append(math.nan if value is None else float(value))

    def series(self, code: str) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """The times and values of ``code``, oldest first."""
        return np.fromiter(self.times, np.float64), np.fromiter(self.values[code], np.float64)

    def __len__(self) -> int:
        return len(self.times)


class VitalsService:
    """The vital signs, computed on the cache's worker thread of a sync service: every
    ``interval_s`` seconds (a history sample) and, between samples, no sooner than
    ``min_refresh_s`` after the cache changes. Subscribers get every new snapshot on the
    event loop (``subscribe`` returns the undo)."""

    def __init__(
        self,
        sync: SyncService,
        indicators: IndicatorCatalogue | None = None,
        *,
        interval_s: float = SAMPLE_INTERVAL_S,
        history: int = HISTORY_SAMPLES,
        min_refresh_s: float = MIN_REFRESH_S,
        readings: ReadingsSource | None = None,
    ) -> None:
        self.sync = sync
        self.indicators = indicators or read_indicators(catalog=sync.catalog)
        principal = sync.principal
        local = principal.role in (Role.STREET_OPERATOR, Role.FIELD_COMMANDER) and principal.street
        self.query = VitalsQuery(
            sync.cache,
            self.indicators,
            sync.catalog,
            streets=[principal.street] if local and principal.street else None,
            readings=readings,
        )
        self.interval_s = interval_s
        self.min_refresh_s = min_refresh_s
        self.history = VitalsHistory(self.indicators, history)
        self.latest: VitalsSnapshot | None = None
        self._subscribers: list[Callable[[VitalsSnapshot], None]] = []
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._unsubscribe: Callable[[], None] | None = None

    def subscribe(self, subscriber: Callable[[VitalsSnapshot], None]) -> Callable[[], None]:
        """Call ``subscriber`` with every new snapshot; returns the undo."""
        self._subscribers.append(subscriber)

        def unsubscribe() -> None:
            if subscriber in self._subscribers:
                self._subscribers.remove(subscriber)

        return unsubscribe

    async def sample(self, now: float | None = None) -> VitalsSnapshot:
        """Compute every indicator now, keep it as :attr:`latest` (and in the history when a
        sample interval has passed since the last one), and tell the subscribers."""
        at = self.sync.clock() if now is None else now
        snapshot = await self.sync.db(self.query.snapshot, at)
        self.latest = snapshot
        times = self.history.times
        if not times or snapshot.at - times[-1] >= 0.9 * self.interval_s:
            self.history.append(snapshot)
        for subscriber in list(self._subscribers):
            try:
                subscriber(snapshot)
            except Exception:  # one broken view must not stop the others
                log.exception("vitals subscriber %r failed", subscriber)
        return snapshot

    def series(self, code: str) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """The history of one indicator: times and values (NaN where there was no data)."""
        return self.history.series(code)

    async def breakdown(self, code: str, max_age_s: float | None = None) -> dict[str, float]:
        """One indicator per street, from the latest snapshot unless it is older than
        ``max_age_s`` (the refresh interval by default)."""
        if code not in self.indicators:
            raise KeyError(f"unknown indicator {code!r}")
        limit = self.min_refresh_s if max_age_s is None else max_age_s
        latest = self.latest
        if latest is None or self.sync.clock() - latest.at > limit:
            latest = await self.sample()
        return dict(latest.by_street.get(code, {}))

    def start(self) -> None:
        """Sample on the period and after changes, until :meth:`stop`."""
        if self._task is not None:
            return
        self._unsubscribe = self.sync.store.subscribe(self._on_event)
        self._task = asyncio.get_running_loop().create_task(self._run(), name="vitals")

    async def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
            except Exception:  # it failed earlier: say so, the stop still completes
                log.exception("the vital signs task had failed")

    def _on_event(self, event: Event) -> None:
        if isinstance(event, IncidentsChanged | DevicesChanged):
            self._changed.set()

    async def _run(self) -> None:
        next_sample = time.monotonic()
        while True:
            self._changed.clear()
            try:
                await self.sample()
            except Exception:
                log.exception("computing the vital signs failed")
            if time.monotonic() >= next_sample:
                next_sample = time.monotonic() + self.interval_s
            # Wait for the next sample, or for a change (then a moment more, so a burst of
            # changes is computed once).
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), max(0.0, next_sample - time.monotonic()))
                await asyncio.sleep(self.min_refresh_s)
