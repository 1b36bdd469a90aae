"""The vital signs on a real console cache (SQLite files in a temporary folder) filled with
crafted incidents and devices, every figure worked out by hand in the table below; the search
for the first recent row; the history, subscriptions and refresh of the async service."""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from app.domain.catalog import Catalog
from app.domain.devices import Device, DeviceKind, DeviceState
from app.domain.indicators import IndicatorCatalogue, IndicatorError, load_indicators
from app.domain.localtime import day_start
from app.domain.permissions import Principal, Role
from app.domain.records import Record
from app.services.events import IncidentsChanged
from app.services.sync import SyncService
from app.services.vitals import (
    CLOCK_SLACK_S,
    VitalsHistory,
    VitalsQuery,
    VitalsService,
    VitalsSnapshot,
    read_indicators,
    settled_below,
)
from app.storage.cache import ConsoleCache
from app.storage.catalog_file import read_catalog

BEIJING = dt.timezone(dt.timedelta(hours=8))
#: 15:00 Beijing time; "today" began 15 hours ago.
NOW = dt.datetime(2026, 3, 10, 15, 0, tzinfo=BEIJING).timestamp()
TODAY = NOW - 15 * 3600
H, M = 3600.0, 60.0
A, B, C = "310107005", "310107015", "310107022"

#: id, street, category, status, severity, source, reported (before NOW), updated (before NOW),
#: deadline (relative to NOW). Ids are in the order the server opened the incidents.
CRAFTED = [
    # open, overdue, red, fire; reported before the last 24 h; changed lately (a low id with a
    # recent change: the search for recent rows must not be fooled)
    (201, A, "fire.smoke_alarm", "dispatched", 1, "sensor", 30 * H, 2 * H, -1 * H),
    # open, red, fire, 12345 within 24 h, reported yesterday
    (202, A, "fire.open_fire", "handling", 1, "hotline_12345", 20 * H, 19 * H, +1 * H),
    # open but suspended (never overdue), Suzhou Creek, today
    (203, A, "creek.floating_waste", "suspended", 4, "patrol", 10 * H, 9 * H, -5 * H),
    # open, overdue, 12345, today
    (204, B, "facilities.road_damage", "registered", 3, "hotline_12345", 5 * H, 5 * H, -4 * H),
    # open, red, hazard clearing, in the last hour, today
    (205, B, "safety.gas_leak", "reported", 1, "citizen", 30 * M, 30 * M, +10 * M),
    # closed today, 12345
    (206, B, "facilities.street_lamp", "closed", 4, "hotline_12345", 3 * H, 1 * H, None),
    # closed today
    (207, C, "facilities.street_lamp", "closed", 4, "patrol", 2 * H, 1 * H, None),
    # invalid and merged: 12345 orders all the same, but not in today's closure rate
    (208, C, "order.street_vending", "invalid", 4, "hotline_12345", 90 * M, 80 * M, None),
    (209, C, "order.street_vending", "merged", 4, "hotline_12345", 40 * M, 35 * M, None),
    # open, fire, in the last hour, today
    (210, C, "fire.hydrant_fault", "handled", 3, "video_ai", 10 * M, 5 * M, +1 * H),
    # closed, but reported yesterday
    (211, C, "facilities.road_damage", "closed", 4, "patrol", 16 * H, 14 * H, None),
    # open, overdue; a 12345 order just over 24 h old
    (212, A, "appearance.garbage_overflow", "dispatched", 4, "hotline_12345", 24 * H + 10 * M, 23 * H, -1 * M),
    # a 12345 order exactly 24 h old counts
    (213, B, "facilities.street_lamp", "closed", 4, "hotline_12345", 24 * H, 22 * H, None),
]
#: Old finished incidents before them: none counts for anything.
OLD = 200

DEVICES = [
    # type, street, state, kind
    ("smoke", A, "alarm", "sensor"),
    ("smoke", A, "normal", "sensor"),
    ("smoke", A, "normal", "sensor"),
    ("smoke", B, "alarm", "sensor"),
    ("smoke", B, "alarm", "sensor"),
    ("manhole", C, "alarm", "sensor"),
    ("manhole", C, "offline", "sensor"),
    ("water_level", A, "normal", "sensor"),
    ("high_altitude", B, "normal", "camera"),
    ("high_altitude", B, "offline", "camera"),
    ("high_altitude", C, "fault", "camera"),
]

#: The figures, by hand from the table above.
EXPECTED: dict[str, float | None] = {
    "open_backlog": 7,  # 201 202 203 212 (A), 204 205 (B), 210 (C)
    "overdue": 3,  # 201 212 (A), 204 (B); 203 is suspended
    "overdue_share": 100 * 3 / 7,
    "red_open": 3,  # 201 202 (A), 205 (B)
    "hotline_volume_24h": 6,  # 202 (A), 204 206 213 (B), 208 209 (C); not 212
    "new_per_hour": 3,  # 205 (B), 209 210 (C)
    "closure_rate_today": 100 * 2 / 6,  # 206 207 closed of 203 204 205 206 207 210
    "fire_safety_open": 3,  # 201 202 (A), 210 (C)
    "suzhou_creek_open": 1,  # 203
    "hazard_clearing_open": 1,  # 205
    "creek_water_level": None,  # no readings on the console yet
    "dust_max": None,
    "noise_max": None,
    "smoke_alarms": 3,
    "manhole_alarms": 1,
    "devices_offline": 100 * 2 / 11,  # the manhole sensor and a camera; a fault is not offline
}
EXPECTED_BY_STREET: dict[str, dict[str, float]] = {
    "open_backlog": {A: 4, B: 2, C: 1},
    "overdue": {A: 2, B: 1, C: 0},
    "overdue_share": {A: 50.0, B: 50.0, C: 0.0},
    "red_open": {A: 2, B: 1, C: 0},
    "hotline_volume_24h": {A: 1, B: 3, C: 2},
    "new_per_hour": {A: 0, B: 1, C: 2},
    "closure_rate_today": {A: 0.0, B: 100 / 3, C: 50.0},
    "fire_safety_open": {A: 2, B: 0, C: 1},
    "suzhou_creek_open": {A: 1, B: 0, C: 0},
    "hazard_clearing_open": {A: 0, B: 1, C: 0},
    "creek_water_level": {},
    "smoke_alarms": {A: 1, B: 2, C: 0},
    "manhole_alarms": {A: 0, B: 0, C: 1},
    "devices_offline": {A: 0.0, B: 25.0, C: 100 / 3},
}
#: Indicators that count (a street without any has 0); the others leave such streets out.
COUNTS = {"open_backlog", "overdue", "red_open", "hotline_volume_24h", "new_per_hour"} | {
    "fire_safety_open",
    "suzhou_creek_open",
    "hazard_clearing_open",
    "smoke_alarms",
    "manhole_alarms",
}


def record(
    id_: int,
    street: str,
    category: str,
    status: str,
    severity: int,
    source: str,
    reported_ago: float,
    updated_ago: float,
    deadline_in: float | None,
) -> Record:
    return (
        id_, 1, category, f"事件 {id_}", street, "", 121.4, 31.24, severity, source, status, None,
        NOW - reported_ago, NOW - updated_ago, None if deadline_in is None else NOW + deadline_in, 1, 0, id_, "{}",
    )  # fmt: skip


def old_records(streets: list[str]) -> list[Record]:
    """Finished long ago: closed, invalid or merged, reported ten days back and more."""
    statuses = ("closed", "invalid", "merged")
    return [
        record(i, streets[i % len(streets)], "facilities.street_lamp", statuses[i % 3], 4, "hotline_12345",
               10 * 86400 - i * M, 10 * 86400 - i * M - H, None)
        for i in range(1, OLD + 1)
    ]  # fmt: skip


def devices() -> list[Device]:
    return [
        Device(
            id=f"D-{n:03d}",
            kind=DeviceKind(kind),
            type=type_,
            name=f"设备 {n}",
            lon=121.4,
            lat=31.24,
            street=street,
            state=DeviceState(state),
            updated_at=NOW - 60,
        )
        for n, (type_, street, state, kind) in enumerate(DEVICES)
    ]


def fill(cache: ConsoleCache, records: list[Record], with_devices: bool = True) -> None:
    cache.begin_snapshot()
    cache.insert_snapshot(records)
    cache.end_snapshot(len(records), lambda incident, _command: incident)
    if with_devices:
        cache.put_devices(devices(), full=True)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return read_catalog()


@pytest.fixture(scope="module")
def indicators(catalog: Catalog) -> IndicatorCatalogue:
    return read_indicators(catalog=catalog)


@pytest.fixture
def cache(tmp_path: Path, catalog: Catalog) -> Iterator[ConsoleCache]:
    c = ConsoleCache(tmp_path / "console.db")
    fill(c, old_records(sorted(catalog.streets)) + [record(*row) for row in CRAFTED])
    yield c
    c.close()


def approx(value: float | None) -> object:
    return None if value is None else pytest.approx(value)


# ---- the figures -----------------------------------------------------------------------------


def test_the_crafted_time_is_15_00_beijing() -> None:
    assert day_start(NOW) == TODAY
    assert day_start(TODAY) == TODAY
    assert day_start(TODAY - 1) == TODAY - 86400


def test_every_indicator_by_hand(cache: ConsoleCache, catalog: Catalog, indicators: IndicatorCatalogue) -> None:
    assert set(EXPECTED) == set(indicators)
    values = VitalsQuery(cache, indicators, catalog).values(NOW)
    assert values == {code: approx(v) for code, v in EXPECTED.items()}


def test_every_indicator_per_street_by_hand(
    cache: ConsoleCache, catalog: Catalog, indicators: IndicatorCatalogue
) -> None:
    snapshot = VitalsQuery(cache, indicators, catalog).snapshot(NOW)
    assert snapshot.at == NOW
    others = set(catalog.streets) - {A, B, C}
    for code, expected in EXPECTED_BY_STREET.items():
        got = snapshot.by_street[code]
        if code in COUNTS:  # every street is listed, with 0 where there is nothing
            assert got == {**dict.fromkeys(others, 0.0), **expected}, code
        else:  # a share of nothing is left out
            assert got == {s: pytest.approx(v) for s, v in expected.items()}, code


def test_the_district_is_the_sum_of_its_streets(
    cache: ConsoleCache, catalog: Catalog, indicators: IndicatorCatalogue
) -> None:
    snapshot = VitalsQuery(cache, indicators, catalog).snapshot(NOW)
    for code in COUNTS:
        assert snapshot.values[code] == sum(snapshot.by_street[code].values()), code


def test_levels_of_the_crafted_figures(indicators: IndicatorCatalogue) -> None:
    levels = indicators.levels(EXPECTED)
    assert levels["red_open"] is not None and levels["red_open"].name == "YELLOW"  # 3 ≥ 3
    assert levels["closure_rate_today"] is not None and levels["closure_rate_today"].name == "RED"  # 33 % ≤ 50 %
    assert levels["open_backlog"] is None
    assert levels["creek_water_level"] is None


def test_a_street_operator_lists_only_their_street(
    cache: ConsoleCache, catalog: Catalog, indicators: IndicatorCatalogue
) -> None:
    snapshot = VitalsQuery(cache, indicators, catalog, streets=[B]).snapshot(NOW)
    # Their cache would hold only their street; here the others' counts still show where
    # they are not zero, and shares only for the street listed.
    assert snapshot.by_street["open_backlog"] == {A: 4.0, B: 2.0, C: 1.0}
    assert snapshot.by_street["new_per_hour"] == {B: 1.0, C: 2.0}
    assert snapshot.by_street["overdue_share"] == {B: 50.0}


def test_an_empty_cache_has_zero_counts_and_no_rates(
    tmp_path: Path, catalog: Catalog, indicators: IndicatorCatalogue
) -> None:
    cache = ConsoleCache(tmp_path / "empty.db")
    try:
        values = VitalsQuery(cache, indicators, catalog).values(NOW)
    finally:
        cache.close()
    assert values["open_backlog"] == 0.0
    assert values["smoke_alarms"] == 0.0
    assert values["overdue_share"] is None
    assert values["closure_rate_today"] is None
    assert values["devices_offline"] is None  # no devices: no share


def test_without_the_board_index_the_figures_are_the_same(
    cache: ConsoleCache, catalog: Catalog, indicators: IndicatorCatalogue
) -> None:
    with closing(sqlite3.connect(cache.replica)) as conn:
        conn.execute("DROP INDEX ix_board_open")
        conn.commit()
    assert VitalsQuery(cache, indicators, catalog).values(NOW) == {code: approx(v) for code, v in EXPECTED.items()}


def test_readings_give_max_and_mean(cache: ConsoleCache, catalog: Catalog) -> None:
    raw = {
        "version": 1,
        "indicators": [
            {
                "code": f"level_{stat}",
                "name": {"zh": "水位", "en": "Water level"},
                "unit": {"zh": "米", "en": "m"},
                "source": {"kind": "sensor", "sensor": "water_level", "statistic": stat},
                "direction": "higher_is_worse",
                "thresholds": {"blue": 3.8, "yellow": 4.2, "orange": 4.5, "red": 4.8},
            }
            for stat in ("max", "mean")
        ],
    }
    readings = {"water_level": [(A, 3.9), (B, 4.3), (A, 4.0), (C, math.nan)], "dust": [(A, 500.0)]}
    query = VitalsQuery(cache, load_indicators(raw, catalog), catalog, readings=lambda s: readings.get(s, []))
    snapshot = query.snapshot(NOW)
    assert snapshot.values == {"level_max": 4.3, "level_mean": pytest.approx(12.2 / 3)}
    assert snapshot.by_street["level_max"] == {A: 4.0, B: 4.3}
    assert snapshot.by_street["level_mean"] == {A: pytest.approx(3.95), B: 4.3}


def test_without_a_readings_source_the_devices_latest_readings_count(cache: ConsoleCache, catalog: Catalog) -> None:
    """The server sends each sensor's latest reading with the device; stale and offline ones
    are left out."""
    raw = {
        "version": 1,
        "indicators": [
            {
                "code": "level_max",
                "name": {"zh": "水位", "en": "Water level"},
                "unit": {"zh": "米", "en": "m"},
                "source": {"kind": "sensor", "sensor": "water_level", "statistic": "max"},
                "direction": "higher_is_worse",
                "thresholds": {"blue": 3.8, "yellow": 4.2, "orange": 4.5, "red": 4.8},
            }
        ],
    }

    def gauge(n: int, street: str, value: float, age_s: float, state: str = "normal") -> Device:
        return Device(id=f"WLG-{n}", kind=DeviceKind.SENSOR, type="water_level", name=f"水位计 {n}", lon=121.4,
                      lat=31.24, street=street, state=DeviceState(state), reading=value,
                      reading_at=NOW - age_s)  # fmt: skip

    cache.put_devices(
        [gauge(1, A, 3.61, 60), gauge(2, B, 3.72, 30), gauge(3, A, 4.9, 3600), gauge(4, B, 4.4, 10, "offline")],
        full=True,
    )
    snapshot = VitalsQuery(cache, load_indicators(raw, catalog), catalog).snapshot(NOW)
    assert snapshot.values == {"level_max": 3.72}
    assert snapshot.by_street["level_max"] == {A: 3.61, B: 3.72}


def test_an_aggregate_the_query_does_not_know_is_refused(cache: ConsoleCache, catalog: Catalog) -> None:
    catalogue = read_indicators(catalog=catalog)
    # A catalogue made by hand past the checks: the query still refuses it.
    bad = catalogue["overdue"].source.__class__(kind="incidents", aggregate="weather")
    indicator = catalogue["overdue"].__class__(
        code="x", name=catalogue["overdue"].name, unit=catalogue["overdue"].unit, source=bad,
        direction="higher_is_worse", thresholds=catalogue["overdue"].thresholds,
    )  # fmt: skip
    data = catalogue.data.__class__(version=1, indicators=[indicator])
    with pytest.raises(IndicatorError, match="'weather' is not implemented"):
        VitalsQuery(cache, IndicatorCatalogue(data), catalog)


def test_a_bad_catalogue_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "indicators.yaml"
    path.write_text("version: 1\nindicators:\n  - code: x\n", encoding="utf-8")
    with pytest.raises(IndicatorError, match=r"indicators\.yaml"):
        read_indicators(path)
    path.write_text("- not a mapping\n", encoding="utf-8")
    with pytest.raises(IndicatorError, match="expected a mapping"):
        read_indicators(path)


# ---- the first recent row --------------------------------------------------------------------


def test_settled_below_is_a_safe_and_close_bound(cache: ConsoleCache) -> None:
    with cache._tx() as cur:
        bound = settled_below(cur, NOW - 86400)
        rows = cur.execute("SELECT id, reported_at, updated_at FROM incidents ORDER BY id").fetchall()
    # Every incident at or below the bound was reported before the window ...
    assert all(reported < NOW - 86400 for id_, reported, _ in rows if id_ <= bound)
    # ... and the bound is the last of the old ones: 201 changed two hours ago.
    assert bound == OLD


def test_settled_below_with_no_rows_and_with_everything_recent(tmp_path: Path) -> None:
    cache = ConsoleCache(tmp_path / "c.db")
    try:
        with cache._tx() as cur:
            assert settled_below(cur, NOW) == 0
        fill(cache, [record(i, A, "facilities.street_lamp", "closed", 4, "patrol", 60, 30, None) for i in (5, 9)])
        with cache._tx() as cur:
            assert settled_below(cur, NOW - H) == 0
            # Changes older than the window less the clock slack settle the rows.
            assert settled_below(cur, NOW + CLOCK_SLACK_S + 31) == 9
    finally:
        cache.close()


def test_recent_figures_match_a_full_scan_over_many_rows(tmp_path: Path, catalog: Catalog) -> None:
    """Rows whose changes are out of order (old incidents touched lately, spread over the
    ids): the bound must never drop a recent row."""
    streets = sorted(catalog.streets)
    records = []
    for i in range(1, 3001):
        reported_ago = (3000 - i) * 60.0  # about 50 hours, newest last
        touched = i % 7 == 0  # an old incident changed lately
        updated_ago = 5 * M if touched else max(0.0, reported_ago - 10 * M)
        records.append(
            record(i, streets[i % 10], "facilities.street_lamp", "closed" if i % 3 else "handling", 4,
                   "hotline_12345" if i % 2 else "patrol", reported_ago, updated_ago, None)
        )  # fmt: skip
    cache = ConsoleCache(tmp_path / "many.db")
    try:
        fill(cache, records, with_devices=False)
        counts = VitalsQuery(cache, read_indicators(catalog=catalog), catalog).incident_counts(NOW)
        with cache._tx() as cur:
            bound = settled_below(cur, NOW - 86400)
    finally:
        cache.close()
    hotline = sum(1 for r in records if r[9] == "hotline_12345" and r[12] >= NOW - 86400)
    new = sum(1 for r in records if r[12] >= NOW - H)
    assert sum(c.hotline_24h for c in counts.values()) == hotline > 0
    assert sum(c.new_1h for c in counts.values()) == new > 0
    # The search skips most of the old rows.
    assert 1000 < bound < 3000 - 24 * 60


# ---- the history -----------------------------------------------------------------------------


def test_history_keeps_the_last_samples_with_nan_for_no_data() -> None:
    history = VitalsHistory(["a", "b"], size=3)
    for k in range(5):
        history.append(VitalsSnapshot(at=100.0 + k, values={"a": float(k), "b": None if k % 2 else 1.0}))
    times, a = history.series("a")
    _, b = history.series("b")
    assert len(history) == 3
    assert times.tolist() == [102.0, 103.0, 104.0]
    assert a.tolist() == [2.0, 3.0, 4.0]
    assert b[0] == 1.0 and math.isnan(b[1]) and b[2] == 1.0


# ---- the async service -----------------------------------------------------------------------


def make_sync(
    cache: ConsoleCache, catalog: Catalog, clock: list[float], principal: Principal | None = None
) -> SyncService:
    return SyncService(
        "http://127.0.0.1:9", "token", principal or Principal("officer.li", Role.DISTRICT_OFFICER), cache, catalog,
        clock=lambda: clock[0],
    )  # fmt: skip


async def test_the_service_samples_on_the_worker_and_keeps_history(
    cache: ConsoleCache, catalog: Catalog, indicators: IndicatorCatalogue
) -> None:
    clock = [NOW]
    sync = make_sync(cache, catalog, clock)
    service = VitalsService(sync, indicators, interval_s=10.0, history=4)
    seen: list[VitalsSnapshot] = []
    undo = service.subscribe(seen.append)
    try:
        first = await service.sample()
        assert first.values == {code: approx(v) for code, v in EXPECTED.items()}
        assert service.latest is first and seen == [first]
        clock[0] += 3.0  # sooner than a sample interval: the latest, not the history
        await service.sample()
        assert len(service.history) == 1 and len(seen) == 2
        for _ in range(5):
            clock[0] += 10.0
            await service.sample()
        times, values = service.series("open_backlog")
        assert len(times) == 4 and times[-1] == clock[0]
        assert values.tolist() == [7.0] * 4
        _, level = service.series("creek_water_level")
        assert all(math.isnan(v) for v in level)
        undo()
        await service.sample()
        assert len(seen) == 7
        assert await service.breakdown("red_open") == {**dict.fromkeys(catalog.streets, 0.0), A: 2.0, B: 1.0}
        with pytest.raises(KeyError, match="unknown indicator"):
            await service.breakdown("nope")
    finally:
        await sync.stop()


async def test_a_broken_subscriber_does_not_stop_the_others(
    cache: ConsoleCache, catalog: Catalog, indicators: IndicatorCatalogue, caplog: pytest.LogCaptureFixture
) -> None:
    sync = make_sync(cache, catalog, [NOW])
    service = VitalsService(sync, indicators)
    seen: list[VitalsSnapshot] = []

    def broken(_: VitalsSnapshot) -> None:
        raise RuntimeError("boom")

    service.subscribe(broken)
    service.subscribe(seen.append)
    try:
        await service.sample()
        assert len(seen) == 1
        assert "vitals subscriber" in caplog.text
    finally:
        await sync.stop()


async def test_a_street_operators_service_breaks_down_their_street(
    cache: ConsoleCache, catalog: Catalog, indicators: IndicatorCatalogue
) -> None:
    principal = Principal("zhang", Role.STREET_OPERATOR, street=B)
    sync = make_sync(cache, catalog, [NOW], principal)
    try:
        service = VitalsService(sync, indicators)
        assert service.query.streets == (B,)
        assert await service.breakdown("overdue_share") == {B: 50.0}
    finally:
        await sync.stop()


async def test_the_service_refreshes_on_its_period_and_soon_after_changes(
    cache: ConsoleCache, catalog: Catalog, indicators: IndicatorCatalogue
) -> None:
    sync = make_sync(cache, catalog, [NOW])
    service = VitalsService(sync, indicators, interval_s=30.0, min_refresh_s=0.05)
    seen: list[VitalsSnapshot] = []
    service.subscribe(seen.append)
    try:
        service.start()
        service.start()  # once is enough
        for _ in range(200):
            if seen:
                break
            await asyncio.sleep(0.01)
        assert len(seen) == 1
        await asyncio.sleep(0.2)
        assert len(seen) == 1  # the period is 30 s: nothing new without a change
        sync.store.emit(IncidentsChanged(frozenset({204})))
        sync.store.emit(IncidentsChanged(frozenset({205})))  # a burst: one refresh
        for _ in range(200):
            if len(seen) == 2:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.2)
        assert len(seen) == 2
    finally:
        await service.stop()
        await sync.stop()
    sync.store.emit(IncidentsChanged(frozenset({204})))  # stopped: no longer listening
    assert len(seen) == 2
