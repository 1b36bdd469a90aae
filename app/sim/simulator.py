"""A realistic, seedable stream of reports for Putuo's ten streets, sent through the server's
public intake API (``POST /api/reports``) only.

The stream has the channels of the plan (一网统管): IoT sensor alarms (smoke, Suzhou Creek water
level, manhole covers, construction dust and night-time noise), AI video alarms (objects thrown
from height, floating waste, bicycles on the creek walk), 12345 hotline orders that follow a
daily arrival profile, grid patrol reports and a few citizen reports. About one report in ten is
a second report of an event already sent (another source, a few metres away, a little later),
which the server should merge; now and then a report is posted again with the same
``report_id``, as a source retrying, which the server answers as a duplicate.

Sensors and cameras come from a fixed registry generated from the seed: every device has an id
(``SMK-005-0012``, ``CAM-014-003``, ``WLG-015-02``) and a place, so alarms from one device repeat
at one place. A few devices are noisy and alarm far more often than the rest, as real ones do.

* :func:`generate` (and :func:`plan`, with what each report is) — fully deterministic for a
  seed, a count and a start time;
* :func:`send_reports` — posts bodies at a steady rate with bounded concurrency;
* :func:`main` — ``cityops simulate``.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import functools
import itertools
import json
import math
import signal
import sys
import time
from collections import Counter, deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from random import Random
from typing import Any, Literal, TextIO, TypeVar

import httpx

from app.domain import localtime
from app.domain.catalog import Catalog
from app.domain.district import DistrictMap, GeoDataMissing, load_district
from app.domain.geo import EARTH_RADIUS_M, distance_m
from app.domain.localtime import SHANGHAI
from app.sim import scenarios as sc

Source = Literal["sensor", "video_ai", "hotline_12345", "patrol", "citizen"]
Kind = Literal["new", "duplicate", "retry"]

SOURCES: tuple[Source, ...] = ("sensor", "video_ai", "hotline_12345", "patrol", "citizen")
DEFAULT_RATE = 2.0
DEFAULT_CONCURRENCY = 32
#: Latencies kept for the summary's percentiles (the latest ones, in an endless run).
LATENCY_SAMPLES = 20_000

#: Share of new events that get a second report from another (or the same kind of) source.
DUPLICATE_PROBABILITY = 0.115
#: Share of reports that are posted again with the same report_id, as a retrying source does.
RETRY_PROBABILITY = 0.025

#: How many points are drawn to find one inside its street.
MAX_PLACE_TRIES = 40


# -- places ------------------------------------------------------------------------------------


def offset(lon: float, lat: float, east_m: float, north_m: float) -> tuple[float, float]:
    """The point ``east_m`` east and ``north_m`` north of (lon, lat)."""
    dlat = math.degrees(north_m / EARTH_RADIUS_M)
    dlon = math.degrees(east_m / (EARTH_RADIUS_M * math.cos(math.radians(lat))))
    return lon + dlon, lat + dlat


def _in_disc(rng: Random, lon: float, lat: float, radius_m: float) -> tuple[float, float]:
    r = radius_m * math.sqrt(rng.random())
    a = rng.uniform(0.0, 2.0 * math.pi)
    return offset(lon, lat, r * math.cos(a), r * math.sin(a))


@functools.cache
def _district() -> DistrictMap | None:
    """The district's map layers when they are built (``cityops setup-data``), to keep street
    events inside their street."""
    try:
        return load_district()
    except GeoDataMissing:
        return None


def _in_street(rng: Random, street: str, lon: float, lat: float) -> tuple[float, float]:
    """A point within :data:`~app.sim.scenarios.STREET_SPREAD_M` of the street's centre and,
    when the map layers are there, inside the street (a few tries, then the last one)."""
    district = _district()
    point = _in_disc(rng, lon, lat, sc.STREET_SPREAD_M)
    if district is None:
        return point
    for _ in range(MAX_PLACE_TRIES):
        if district.street_at(*point) == street:
            return point
        point = _in_disc(rng, lon, lat, sc.STREET_SPREAD_M)
    # The street is mostly away from its centre's disc: anywhere in the street, then.
    area = next((s for s in district.streets if s.code == street), None)
    if area is None:
        return point
    min_lon, min_lat, max_lon, max_lat = area.geometry.bounds
    for _ in range(MAX_PLACE_TRIES * 5):
        point = (rng.uniform(min_lon, max_lon), rng.uniform(min_lat, max_lat))
        if district.street_at(*point) == street:
            return point
    inside = area.geometry.representative_point()
    return (inside.x, inside.y)


def _near(rng: Random, lon: float, lat: float, lo_m: float, hi_m: float) -> tuple[float, float]:
    r = rng.uniform(lo_m, hi_m)
    a = rng.uniform(0.0, 2.0 * math.pi)
    return offset(lon, lat, r * math.cos(a), r * math.sin(a))


class Creek:
    """Suzhou Creek through Putuo as a polyline, to place points on and along it."""

    def __init__(self, line: Sequence[tuple[float, float]] = sc.CREEK_LINE) -> None:
        self.line = tuple(line)
        self._cumulative = [0.0]
        for (lon1, lat1), (lon2, lat2) in itertools.pairwise(self.line):
            self._cumulative.append(self._cumulative[-1] + distance_m(lon1, lat1, lon2, lat2))

    @property
    def length_m(self) -> float:
        return self._cumulative[-1]

    def point(self, along_m: float, across_m: float = 0.0) -> tuple[float, float]:
        """The point ``along_m`` from the west end, ``across_m`` to the left (north) of the line."""
        along_m = min(max(along_m, 0.0), self.length_m)
        i = min(bisect.bisect_right(self._cumulative, along_m) - 1, len(self.line) - 2)
        (lon1, lat1), (lon2, lat2) = self.line[i], self.line[i + 1]
        seg = self._cumulative[i + 1] - self._cumulative[i]
        f = (along_m - self._cumulative[i]) / seg if seg > 0 else 0.0
        lon, lat = lon1 + f * (lon2 - lon1), lat1 + f * (lat2 - lat1)
        # Unit vector of the segment in metres, then its left normal.
        east = (lon2 - lon1) * math.cos(math.radians(lat)) * EARTH_RADIUS_M * math.pi / 180
        north = (lat2 - lat1) * EARTH_RADIUS_M * math.pi / 180
        norm = math.hypot(east, north) or 1.0
        return offset(lon, lat, -north / norm * across_m, east / norm * across_m)

    def distance_m(self, lon: float, lat: float) -> float:
        """Distance of a point from the creek's centre line (approximately, in metres)."""
        best = math.inf
        for (lon1, lat1), (lon2, lat2) in itertools.pairwise(self.line):
            # Project in a local metric frame around the point.
            k = math.cos(math.radians(lat)) * EARTH_RADIUS_M * math.pi / 180
            m = EARTH_RADIUS_M * math.pi / 180
            ax, ay = (lon1 - lon) * k, (lat1 - lat) * m
            bx, by = (lon2 - lon) * k, (lat2 - lat) * m
            dx, dy = bx - ax, by - ay
            t = 0.0 if dx == dy == 0 else max(0.0, min(1.0, -(ax * dx + ay * dy) / (dx * dx + dy * dy)))
            best = min(best, math.hypot(ax + t * dx, ay + t * dy))
        return best

    @staticmethod
    def stretch(lon: float) -> str:
        """The name of the creek's stretch at this longitude."""
        name = sc.CREEK_STRETCHES[0][1]
        for west, label in sc.CREEK_STRETCHES:
            if lon >= west:
                name = label
        return name


CREEK = Creek()


@dataclass(frozen=True)
class Place:
    lon: float
    lat: float
    street: str
    address: str


# -- the registry of devices -------------------------------------------------------------------

DeviceKind = Literal["smoke", "manhole", "dust", "noise", "water_level", "camera", "creek_camera"]
DEVICE_KINDS: tuple[DeviceKind, ...] = (
    "smoke", "manhole", "dust", "noise", "water_level", "camera", "creek_camera",
)  # fmt: skip


@dataclass(frozen=True)
class Device:
    """A simulated sensor or camera at a fixed place."""

    id: str
    kind: DeviceKind
    street: str
    lon: float
    lat: float
    address: str
    weight: float = 1.0
    """How often it alarms relative to the others of its kind (noisy devices: more)."""
    detail: str = ""
    """Where exactly: the floor of a smoke detector, the construction site of a dust monitor."""


@dataclass(frozen=True)
class Registry:
    devices: dict[DeviceKind, tuple[Device, ...]]
    patrols: dict[str, tuple[str, ...]]
    """Street code → patrol member ids."""

    def by_id(self, device_id: str) -> Device:
        for devices in self.devices.values():
            for d in devices:
                if d.id == device_id:
                    return d
        raise KeyError(device_id)


SMOKE_PER_STREET = 40
MANHOLES_PER_STREET = 25
CAMERAS_PER_STREET = 12
CREEK_CAMERAS = 24
WATER_GAUGES = 8
PATROLS_PER_STREET = 12
NOISY_SHARE = 0.05
NOISY_WEIGHT = 10.0


def _suffix(street: str) -> str:
    return street[-3:]


def _places(street: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    return sc.STREET_PLACES.get(street, (("中山北路",), ("新村",)))


def _road_address(rng: Random, street: str) -> str:
    roads, _ = _places(street)
    road = rng.choice(roads)
    if rng.random() < 0.25:
        other = rng.choice([r for r in roads if r != road] or [road])
        return f"{road}{other}路口"
    return f"{road}{rng.randint(1, 1600)}号"


def _home_address(rng: Random, street: str, room: bool = False) -> str:
    _, compounds = _places(street)
    text = f"{rng.choice(compounds)}{rng.randint(1, 60)}号"
    if room:
        text += f"{rng.randint(1, 6)}{rng.randint(1, 4):02d}室"
    return text


def _creek_street(catalog: Catalog, lon: float, lat: float) -> str:
    streets = [s for s in sc.CREEK_STREETS if s in catalog.streets] or list(catalog.streets)
    return min(
        streets,
        key=lambda code: distance_m(lon, lat, *catalog.streets[code].center),
    )


def build_registry(catalog: Catalog, seed: int) -> Registry:
    """The simulated sensors, cameras and patrol members; the same seed gives the same ones."""
    rng = Random(f"cityops-registry-{seed}")
    devices: dict[DeviceKind, list[Device]] = {k: [] for k in DEVICE_KINDS}
    patrols: dict[str, tuple[str, ...]] = {}

    def weight() -> float:
        return NOISY_WEIGHT if rng.random() < NOISY_SHARE else 1.0

    camera_numbers: dict[str, int] = {}
    for code, street in catalog.streets.items():
        sfx = _suffix(code)
        clon, clat = street.center
        for n in range(1, SMOKE_PER_STREET + 1):
            lon, lat = _in_street(rng, code, clon, clat)
            address = _home_address(rng, code)
            floor = f"{rng.randint(1, 18)}楼楼道"
            devices["smoke"].append(Device(f"SMK-{sfx}-{n:04d}", "smoke", code, lon, lat, address, weight(), floor))
        for n in range(1, MANHOLES_PER_STREET + 1):
            lon, lat = _in_street(rng, code, clon, clat)
            address = f"{_road_address(rng, code)}人行道"
            devices["manhole"].append(Device(f"MHC-{sfx}-{n:04d}", "manhole", code, lon, lat, address, weight()))
        roads, _ = _places(code)
        for n in range(1, rng.randint(2, 4) + 1):
            lon, lat = _in_street(rng, code, clon, clat)
            road = rng.choice(roads)
            site = f"{road}{'ABCDEF'[n - 1]}地块新建工程"
            address = f"{road}{rng.randint(1, 1600)}号 {site}"
            w = weight()
            devices["dust"].append(Device(f"DST-{sfx}-{n:02d}", "dust", code, lon, lat, address, w, site))
            devices["noise"].append(Device(f"NOI-{sfx}-{n:02d}", "noise", code, lon, lat, address, w, site))
        for n in range(1, CAMERAS_PER_STREET + 1):
            lon, lat = _in_street(rng, code, clon, clat)
            address = _home_address(rng, code)
            devices["camera"].append(Device(f"CAM-{sfx}-{n:03d}", "camera", code, lon, lat, address, weight()))
        camera_numbers[code] = CAMERAS_PER_STREET
        patrols[code] = tuple(f"PTL-{sfx}-{n:02d}" for n in range(1, PATROLS_PER_STREET + 1))

    # Along the creek: gauges evenly spaced on the bank, cameras over the walk.
    step = CREEK.length_m / WATER_GAUGES
    gauge_numbers: dict[str, int] = {}
    for n in range(WATER_GAUGES):
        along = step * (n + 0.5) + rng.uniform(-0.2, 0.2) * step
        lon, lat = CREEK.point(along, rng.choice((-1, 1)) * rng.uniform(20.0, 40.0))
        code = _creek_street(catalog, lon, lat)
        gauge_numbers[code] = gauge_numbers.get(code, 0) + 1
        address = f"苏州河{CREEK.stretch(lon)}水位站"
        devices["water_level"].append(
            Device(
                f"WLG-{_suffix(code)}-{gauge_numbers[code]:02d}",
                "water_level",
                code,
                lon,
                lat,
                address,
                weight(),
            )
        )
    for _ in range(CREEK_CAMERAS):
        lon, lat = CREEK.point(rng.uniform(0.0, CREEK.length_m), rng.choice((-1, 1)) * rng.uniform(10.0, 30.0))
        code = _creek_street(catalog, lon, lat)
        camera_numbers[code] = camera_numbers.get(code, 0) + 1
        address = f"苏州河{CREEK.stretch(lon)}滨河步道"
        devices["creek_camera"].append(
            Device(
                f"CAM-{_suffix(code)}-{camera_numbers[code]:03d}",
                "creek_camera",
                code,
                lon,
                lat,
                address,
                weight(),
            )
        )
    return Registry({k: tuple(v) for k, v in devices.items()}, patrols)


# -- the stream --------------------------------------------------------------------------------

#: Sensor categories and the kind of device that raises them.
SENSOR_DEVICES: dict[str, DeviceKind] = {
    "fire.smoke_alarm": "smoke",
    "facilities.manhole_cover": "manhole",
    "construction.dust": "dust",
    "construction.noise_night": "noise",
    "creek.water_level_high": "water_level",
}
VIDEO_DEVICES: dict[str, DeviceKind] = {
    "safety.object_thrown_from_height": "camera",
    "creek.floating_waste": "creek_camera",
    "creek.bicycle_on_walk": "creek_camera",
}
CREEK_CATEGORIES = frozenset(c for c in (*SENSOR_DEVICES, *VIDEO_DEVICES) if c.startswith("creek."))

#: Seconds between what the source saw and its report reaching us, by channel (min, max).
LAG_S: dict[Source, tuple[float, float]] = {
    "sensor": (0.0, 2.0),
    "video_ai": (1.0, 8.0),
    "hotline_12345": (30.0, 180.0),  # the call, then the order reaching the district
    "patrol": (5.0, 60.0),
    "citizen": (10.0, 120.0),
}

WATER_WARNING_M = 3.80


@dataclass(frozen=True)
class Planned:
    """One report of the stream, with what it is: a ``new`` event, a ``duplicate`` (a second
    report of event ``of``) or a ``retry`` (report ``of`` posted again, same report_id)."""

    index: int
    kind: Kind
    body: dict[str, Any]
    of: int | None = None
    device: str | None = None


@dataclass
class _Event:
    index: int
    source: Source
    category: str
    place: Place
    device: Device | None
    body: dict[str, Any]


local_hour = localtime.local_hour


def _profiles(hour: int) -> dict[Source, float]:
    hp = sc.HOTLINE_PROFILE[hour]
    pp = sc.PATROL_PROFILE[hour]
    return {"sensor": 1.0, "video_ai": 1.0, "hotline_12345": hp, "patrol": pp, "citizen": hp}


def _shares(base: Mapping[Source, float], hour: int) -> dict[Source, float]:
    profile = _profiles(hour)
    raw = {s: base[s] * profile[s] for s in SOURCES}
    total = sum(raw.values())
    return {s: raw[s] / total for s in SOURCES}


@functools.cache
def _calibrated() -> dict[Source, float]:
    """Channel weights that, shaped by the daily profiles, give the day-average mix of
    :data:`scenarios.CHANNEL_WEIGHTS` (found by a few rounds of fixed-point iteration)."""
    total = sum(sc.CHANNEL_WEIGHTS.values())
    target = {s: sc.CHANNEL_WEIGHTS[s] / total for s in SOURCES}
    base = dict(target)
    for _ in range(50):
        day = [_shares(base, h) for h in range(24)]
        average = {s: sum(d[s] for d in day) / 24 for s in SOURCES}
        base = {s: base[s] * target[s] / average[s] for s in SOURCES}
    return base


def channel_weights(hour: int) -> dict[Source, float]:
    """The channel mix (shares summing to 1) at a local hour: 12345 and citizen reports follow
    the daily profile, patrols their shifts, sensors and cameras run around the clock; over a
    whole day the shares are those of :data:`scenarios.CHANNEL_WEIGHTS`."""
    return _shares(_calibrated(), hour)


def category_weights(source: Source, hour: int) -> dict[str, float]:
    """Which categories a channel reports at a local hour."""
    if source == "sensor":
        weights = dict(sc.SENSOR_CATEGORIES)
        if hour not in sc.NIGHT_HOURS:
            weights.pop("construction.noise_night")
        if hour not in sc.SITE_HOURS:
            weights.pop("construction.dust")
        return weights
    if source == "video_ai":
        return dict(sc.VIDEO_CATEGORIES)
    table = {
        "hotline_12345": sc.HOTLINE_CATEGORIES,
        "patrol": sc.PATROL_CATEGORIES,
        "citizen": sc.CITIZEN_CATEGORIES,
    }[source]
    weights = dict(table)
    if hour in sc.EVENING_HOURS:
        for code, factor in sc.EVENING_CATEGORIES.items():
            if code in weights:
                weights[code] *= factor
    return weights


T = TypeVar("T")


def _pick(rng: Random, weights: Mapping[T, float]) -> T:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def _stamp(t: float) -> str:
    d = datetime.fromtimestamp(t, SHANGHAI)
    return d.strftime("%Y%m%dT%H%M%S") + f".{round(t * 1000) % 1000:03d}"


def check_catalog(catalog: Catalog) -> None:
    """Raise ValueError when a category or street the simulator uses is not in the catalog."""
    used: list[str] = [
        *sc.SENSOR_CATEGORIES,
        *sc.VIDEO_CATEGORIES,
        *sc.HOTLINE_CATEGORIES,
        *sc.PATROL_CATEGORIES,
        *sc.CITIZEN_CATEGORIES,
    ]
    missing = sorted({c for c in used if c not in catalog.categories})
    unknown_streets = sorted(s for s in sc.STREET_PLACES if s not in catalog.streets)
    if missing or unknown_streets:
        raise ValueError(
            "the simulator's scenarios do not match the catalog: "
            f"unknown categories {missing}, unknown streets {unknown_streets}"
        )


class _Stream:
    """The generator behind :func:`stream`: one report per slot, slot ``i`` at
    ``start + i / rate``; second reports and retries wait in a queue for their slot."""

    def __init__(self, catalog: Catalog, seed: int, start: float, rate: float) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        check_catalog(catalog)
        self.catalog = catalog
        self.rng = Random(seed)
        self.registry = build_registry(catalog, seed)
        self.start = start
        self.rate = rate
        self.serial = 0
        self.streets = list(catalog.streets)
        self.pending: list[tuple[int, int, Planned | _Event]] = []  # (due slot, order, item)
        self._order = itertools.count()

    # -- slots -------------------------------------------------------------------------------
    def __iter__(self) -> Iterator[Planned]:
        for i in itertools.count():
            t = self.start + i / self.rate
            due = [p for p in self.pending if p[0] <= i]
            if due:
                first = min(due, key=lambda p: (p[0], p[1]))
                self.pending.remove(first)
                yield self._later(i, t, first[2])
                continue
            event = self._new_event(i, t)
            r = self.rng.random()
            if r < DUPLICATE_PROBABILITY:
                self._schedule(i + self._duplicate_gap(), event)
            elif r < DUPLICATE_PROBABILITY + RETRY_PROBABILITY:
                retry = Planned(
                    -1,
                    "retry",
                    dict(event.body),
                    of=i,
                    device=event.device.id if event.device else None,
                )
                self._schedule(i + self.rng.randint(1, 10), retry)
            yield Planned(i, "new", event.body, None, event.device.id if event.device else None)

    def _schedule(self, slot: int, item: Planned | _Event) -> None:
        self.pending.append((slot, next(self._order), item))

    def _duplicate_gap(self) -> int:
        """Slots until the second report: 10 s to 4 min at the stream's rate, within 60 slots
        so that even short runs carry their duplicates."""
        seconds = self.rng.uniform(10.0, 240.0)
        return max(1, min(60, round(seconds * self.rate)))

    def _later(self, i: int, t: float, item: Planned | _Event) -> Planned:
        if isinstance(item, Planned):
            return Planned(i, "retry", item.body, item.of, item.device)
        dup = self._duplicate(i, t, item)
        return Planned(i, "duplicate", dup.body, item.index, dup.device.id if dup.device else None)

    # -- events ------------------------------------------------------------------------------
    def _new_event(self, i: int, t: float) -> _Event:
        hour = local_hour(t)
        source = _pick(self.rng, channel_weights(hour))
        category = _pick(self.rng, category_weights(source, hour))
        device: Device | None = None
        if source == "sensor":
            device = self._device(SENSOR_DEVICES[category])
            place = Place(device.lon, device.lat, device.street, device.address)
        elif source == "video_ai":
            device = self._device(VIDEO_DEVICES[category])
            lon, lat = _near(
                self.rng,
                device.lon,
                device.lat,
                3.0,
                15.0 if category in CREEK_CATEGORIES else 12.0,
            )
            place = Place(lon, lat, device.street, device.address)
        else:
            place = self._place(category)
        body = self._body(i, t, source, category, place, device)
        return _Event(i, source, category, place, device, body)

    def _device(self, kind: DeviceKind) -> Device:
        devices = self.registry.devices[kind]
        return self.rng.choices(devices, weights=[d.weight for d in devices])[0]

    def _place(self, category: str) -> Place:
        rng = self.rng
        if category in CREEK_CATEGORIES:
            lon, lat = CREEK.point(rng.uniform(0, CREEK.length_m), rng.uniform(-1, 1) * sc.CREEK_SPREAD_M)
            return Place(lon, lat, _creek_street(self.catalog, lon, lat), f"苏州河{CREEK.stretch(lon)}")
        street = rng.choice(self.streets)
        clon, clat = self.catalog.streets[street].center
        lon, lat = _in_street(rng, street, clon, clat)
        if category in sc.HOME_CATEGORIES:
            address = _home_address(rng, street, room=category == "housing.group_renting")
        else:
            address = _road_address(rng, street)
        return Place(lon, lat, street, address)

    def _duplicate(self, i: int, t: float, original: _Event) -> _Event:
        """A second report of ``original``: the same kind of source again (another alarm of the
        device, another camera, another caller) or another channel, a few metres away."""
        rng = self.rng
        options = [
            s
            for s in sc.DUPLICATE_SOURCES.get(original.category, sc.DEFAULT_DUPLICATE_SOURCES)
            if s != "sensor" or (original.source == "sensor" and original.device is not None)
        ] or list(sc.DEFAULT_DUPLICATE_SOURCES)
        source: Source
        if original.source in options and rng.random() < 0.5:
            source = original.source
        else:
            source = _as_source(rng.choice(options))
        device: Device | None = None
        radius = self.catalog.category(original.category).merge.radius_m
        if source == "sensor" and original.device is not None:
            device = original.device  # the same device alarms again
            place = original.place
        else:
            lon, lat = _near(rng, original.place.lon, original.place.lat, 2.0, min(15.0, 0.4 * radius))
            place = Place(lon, lat, original.place.street, original.place.address)
            if source == "video_ai":
                kind = VIDEO_DEVICES.get(original.category, "camera")
                device = self._neighbour_camera(kind, place, original.device)
        body = self._body(i, t, source, original.category, place, device)
        return _Event(i, source, original.category, place, device, body)

    def _neighbour_camera(self, kind: DeviceKind, place: Place, other: Device | None) -> Device:
        cameras = [d for d in self.registry.devices[kind] if d is not other] or list(self.registry.devices[kind])
        return min(cameras, key=lambda d: distance_m(place.lon, place.lat, d.lon, d.lat))

    # -- bodies ------------------------------------------------------------------------------
    def _body(
        self, i: int, t: float, source: Source, category: str, place: Place, device: Device | None
    ) -> dict[str, Any]:
        rng = self.rng
        self.serial += 1
        street_name = self.catalog.streets[place.street].name.zh
        cat_name = self.catalog.category(category).name.zh
        lo, hi = LAG_S[source]
        observed = t - rng.uniform(lo, hi)
        severity: str | None = None
        if device is not None and source == "sensor":
            reporter = device.id
            title = f"{street_name} {cat_name} {device.id}"
            description, severity = self._reading(category, device)
        elif device is not None and source == "video_ai":
            reporter = device.id
            title = f"{street_name} AI视频告警 {cat_name} {device.id}"
            description = self._detection(category, device)
        elif source == "hotline_12345":
            reporter = datetime.fromtimestamp(observed, SHANGHAI).strftime("%y%m%d") + f"{self.serial:07d}"
            title = f"12345工单 {cat_name} {place.address}"
            description = rng.choice(sc.COMPLAINTS.get(category, ("市民反映{place}存在问题，要求处理。",)))
        elif source == "patrol":
            reporter = rng.choice(self.registry.patrols[place.street])
            title = f"网格巡查 {cat_name} {place.address}"
            description = rng.choice(sc.PATROL_NOTES.get(category, (f"巡查发现{{place}}{cat_name}，已拍照取证上报。",)))
        else:  # citizen, through the 随申拍 app
            reporter = f"SSP-{rng.getrandbits(24):06x}"
            title = f"随申拍 {cat_name} {place.address}"
            description = rng.choice(sc.COMPLAINTS.get(category, ("{place}存在问题，请处理。",)))
        description = description.format(place=place.address, count=rng.randint(2, 30))
        body: dict[str, Any] = {
            "report_id": f"{source}:{reporter}:{_stamp(t)}#{self.serial}",
            "source": source,
            "category": category,
            "title": title,
            "description": description,
            "lon": round(place.lon, 6),
            "lat": round(place.lat, 6),
            "street": place.street,
            "address": place.address if place.address.startswith("苏州河") else f"上海市普陀区{place.address}",
            "observed_at": round(observed, 3),
            "reporter": reporter,
        }
        if severity is not None:
            body["severity"] = severity
        return body

    def _reading(self, category: str, device: Device) -> tuple[str, str | None]:
        rng = self.rng
        if category == "fire.smoke_alarm":
            value = rng.uniform(0.11, 0.6)
            return (
                f"{device.address}{device.detail}独立式烟感探测器报警，"
                f"烟雾浓度 {value:.2f} dB/m（报警阈值 0.10 dB/m）。"
            ), None
        if category == "facilities.manhole_cover":
            angle = rng.randint(8, 60)
            what = rng.choice(("井盖倾斜", "井盖位移", "井盖开启", "井盖下沉"))
            return f"智能井盖监测终端告警：{what}，倾角 {angle}°。", None
        if category == "construction.dust":
            pm10 = rng.randint(160, 420)
            severity = "orange" if pm10 > 300 else None
            return f"{device.detail}扬尘在线监测 PM10 {pm10} μg/m³，超过限值 150 μg/m³。", severity
        if category == "construction.noise_night":
            db = rng.uniform(56.0, 78.0)
            return f"{device.detail}夜间施工噪声 {db:.1f} dB(A)，超过夜间限值 55 dB(A)。", None
        if category == "creek.water_level_high":
            level = WATER_WARNING_M + rng.uniform(0.01, 0.45)
            severity = "red" if level > WATER_WARNING_M + 0.3 else None
            return (
                f"{device.address}实测水位 {level:.2f} m，超过警戒水位 {WATER_WARNING_M:.2f} m。",
                severity,
            )
        return f"{device.id} 告警。", None

    def _detection(self, category: str, device: Device) -> str:
        rng = self.rng
        confidence = rng.uniform(0.72, 0.99)
        if category == "safety.object_thrown_from_height":
            return (
                f"高空抛物监测摄像机识别到{device.address}约 {rng.randint(3, 25)} 层有物体坠落，"
                f"置信度 {confidence:.2f}，已截取视频片段。"
            )
        if category == "creek.floating_waste":
            area = rng.randint(1, 40)
            return f"AI识别{device.address}附近河面漂浮物，面积约 {area} 平方米，置信度 {confidence:.2f}。"
        if category == "creek.bicycle_on_walk":
            count = rng.randint(3, 30)
            return f"AI识别{device.address}停放非机动车 {count} 辆，置信度 {confidence:.2f}。"
        return f"AI识别{self.catalog.category(category).name.zh}，置信度 {confidence:.2f}。"


def _as_source(value: str) -> Source:
    for s in SOURCES:
        if s == value:
            return s
    raise ValueError(f"unknown source {value!r}")


def _catalog(catalog: Catalog | None) -> Catalog:
    if catalog is not None:
        return catalog
    from app.storage.catalog_file import read_catalog

    return read_catalog()


def stream(seed: int, start: float, rate: float = DEFAULT_RATE, catalog: Catalog | None = None) -> Iterator[Planned]:
    """The endless stream of reports for ``seed``, report ``i`` due at ``start + i / rate``."""
    return iter(_Stream(_catalog(catalog), seed, start, rate))


def plan(seed: int, n: int, start: float, rate: float = DEFAULT_RATE, catalog: Catalog | None = None) -> list[Planned]:
    """The first ``n`` reports of the stream with what each one is (new, duplicate, retry)."""
    return list(itertools.islice(stream(seed, start, rate, catalog), n))


def generate(
    seed: int, n: int, start: float, rate: float = DEFAULT_RATE, catalog: Catalog | None = None
) -> list[dict[str, Any]]:
    """The first ``n`` report bodies of the stream: the same arguments give the same bodies.
    A prefix of a longer run with the same seed, start and rate."""
    return [p.body for p in plan(seed, n, start, rate, catalog)]


# -- sending -----------------------------------------------------------------------------------


@dataclass
class Summary:
    """What a run sent and how the server answered."""

    sent: int = 0
    """Reports posted (at least one attempt)."""
    accepted: int = 0
    """Answered 201: new incidents, merged reports and duplicates."""
    merged: int = 0
    duplicates: int = 0
    rejected: int = 0
    """Answered with an error status (after retries for 5xx)."""
    errors: int = 0
    """Reports given up on after connection errors or unreadable answers."""
    failed_attempts: int = 0
    """Attempts that failed with a connection error, including those retried."""
    unsent: int = 0
    """Reports of the plan not sent when the run stopped (deadline, interruption, abort)."""
    rejections: Counter[str] = field(default_factory=Counter)
    """``"422 invalid_request: category: unknown ..."`` → count."""
    error_kinds: Counter[str] = field(default_factory=Counter)
    incidents: set[int] = field(default_factory=set)
    latencies: deque[float] = field(default_factory=lambda: deque(maxlen=LATENCY_SAMPLES))
    """The latest answered requests' latency in seconds."""
    elapsed_s: float = 0.0
    interrupted: bool = False
    aborted: str | None = None

    @property
    def new(self) -> int:
        return self.accepted - self.merged - self.duplicates

    def latency_ms(self, q: float) -> float:
        """The ``q`` quantile (0..1) of the answered requests' latency in milliseconds."""
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return 1000.0 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    def format(self) -> str:
        rate = self.sent / self.elapsed_s if self.elapsed_s > 0 else 0.0
        lines = [
            f"summary: sent {self.sent}, accepted {self.accepted} (new {self.new}, "
            f"merged {self.merged}, duplicates {self.duplicates}), "
            f"rejected {self.rejected}, errors {self.errors}, "
            f"unsent {self.unsent} in {self.elapsed_s:.1f} s ({rate:.1f}/s); "
            f"incidents touched {len(self.incidents)}; latency p50 {self.latency_ms(0.5):.0f} ms, "
            f"p95 {self.latency_ms(0.95):.0f} ms"
        ]
        if self.interrupted:
            lines.append("  interrupted")
        if self.aborted:
            lines.append(f"  stopped: {self.aborted}")
        for message, count in self.rejections.most_common():
            lines.append(f"  rejected {count}× {message}")
        for message, count in self.error_kinds.most_common():
            lines.append(f"  error {count}× {message}")
        return "\n".join(lines)


class _Backoff:
    """After a connection error the whole run pauses: 0.5 s, doubling up to 10 s; an answer
    resets it."""

    def __init__(self, initial: float = 0.5, limit: float = 10.0) -> None:
        self.initial = initial
        self.limit = limit
        self.delay = 0.0
        self.until = 0.0

    def fail(self, now: float) -> float:
        """Note a failure; the seconds to wait. Failures while already waiting (the other
        requests in flight) don't lengthen the wait."""
        if now < self.until:
            return self.until - now
        self.delay = min(self.limit, self.delay * 2 if self.delay else self.initial)
        self.until = now + self.delay
        return self.delay

    def ok(self) -> None:
        self.delay = 0.0


def _error_message(response: httpx.Response) -> tuple[str, str]:
    """(code, message) of an error answer, whatever its body."""
    try:
        data = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        text = response.text.strip().replace("\n", " ")[:200]
        return "http_error", text or response.reason_phrase
    if isinstance(data, dict):
        code = str(data.get("error") or "http_error")
        message = data.get("message") or data.get("detail") or ""
        return code, str(message)[:300]
    return "http_error", str(data)[:200]


class _Sender:
    def __init__(
        self,
        client: httpx.AsyncClient,
        summary: Summary,
        stop: asyncio.Event,
        *,
        max_attempts: int,
        quiet: bool,
        out: TextIO,
        err: TextIO,
        street_names: Mapping[str, str],
        backoff: _Backoff,
    ) -> None:
        self.client = client
        self.summary = summary
        self.stop = stop
        self.max_attempts = max_attempts
        self.quiet = quiet
        self.out = out
        self.err = err
        self.names = street_names
        self.backoff = backoff
        self._loop = asyncio.get_running_loop()
        self._stop_task: asyncio.Task[Any] | None = None
        self._warned: Counter[str] = Counter()

    def _stopped(self) -> asyncio.Task[Any]:
        if self._stop_task is None:
            self._stop_task = asyncio.ensure_future(self.stop.wait())
        return self._stop_task

    async def pause(self, seconds: float) -> bool:
        """Wait ``seconds`` or until stopped; True when stopped."""
        if self.stop.is_set():
            return True
        if seconds > 0:
            await asyncio.wait({self._stopped()}, timeout=seconds)
        return self.stop.is_set()

    async def wait_any(self, tasks: Iterable[asyncio.Task[None]]) -> None:
        """Wait until one of ``tasks`` is done or the run is stopped."""
        await asyncio.wait({*tasks, self._stopped()}, return_when=asyncio.FIRST_COMPLETED)

    def close(self) -> None:
        if self._stop_task is not None and not self._stop_task.done():
            self._stop_task.cancel()

    def _line(self, body: Mapping[str, Any], outcome: str) -> str:
        clock = time.strftime("%H:%M:%S")
        street = str(body.get("street") or "")
        return (
            f"{clock} {body.get('source', '?')!s:<13} {body.get('category', '?')!s:<33} "
            f"{self.names.get(street, street)}  → {outcome}"
        )

    def say(self, body: Mapping[str, Any], outcome: str) -> None:
        if not self.quiet:
            print(self._line(body, outcome), file=self.out, flush=True)

    def warn(self, key: str, body: Mapping[str, Any], outcome: str) -> None:
        """Problems go to stderr even when quiet, the first few of each kind."""
        if not self.quiet:
            self.say(body, outcome)
            return
        self._warned[key] += 1
        if self._warned[key] <= 3:
            print(self._line(body, outcome), file=self.err, flush=True)

    async def post(self, body: Mapping[str, Any]) -> None:
        try:
            await self._post(body)
        except asyncio.CancelledError:
            self.summary.errors += 1
            self.summary.error_kinds["cancelled at the end of the run"] += 1
            raise
        except Exception as exc:  # never crash on one report
            self.summary.errors += 1
            message = f"{type(exc).__name__}: {exc}"
            self.summary.error_kinds[message[:200]] += 1
            self.warn(message, body, f"error: {message}")

    async def _post(self, body: Mapping[str, Any]) -> None:
        summary = self.summary
        summary.sent += 1
        for attempt in range(1, self.max_attempts + 1):
            began = self._loop.time()
            try:
                response = await self.client.post("/api/reports", json=dict(body))
            except httpx.TransportError as exc:
                summary.failed_attempts += 1
                delay = self.backoff.fail(self._loop.time())
                message = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                if attempt >= self.max_attempts or self.stop.is_set():
                    summary.errors += 1
                    summary.error_kinds[message[:200]] += 1
                    self.warn(message, body, f"error: {message}; gave up after {attempt} attempts")
                    return
                self.warn(message, body, f"error: {message}; retrying in {delay:.1f} s")
                if await self.pause(delay):
                    summary.errors += 1
                    summary.error_kinds[message[:200]] += 1
                    return
                continue
            self.backoff.ok()
            summary.latencies.append(self._loop.time() - began)
            if response.status_code == 201:
                self._accepted(body, response)
                return
            code, message = _error_message(response)
            retryable = response.status_code >= 500 or response.status_code == 429
            if retryable and attempt < self.max_attempts and not self.stop.is_set():
                delay = self.backoff.fail(self._loop.time())
                self.warn(
                    f"{response.status_code} {code}",
                    body,
                    f"{response.status_code} {code}: {message}; retrying",
                )
                if not await self.pause(delay):
                    continue
            text = f"{response.status_code} {code}: {message}"
            summary.rejected += 1
            summary.rejections[text] += 1
            self.warn(text, body, f"rejected {text}")
            if response.status_code in (401, 403):
                summary.aborted = f"the server refuses the intake key ({text})"
                self.stop.set()  # the run's halt: every other report would be refused too
            return

    def _accepted(self, body: Mapping[str, Any], response: httpx.Response) -> None:
        summary = self.summary
        try:
            data = response.json()
            incident = int(data["incident_id"])
            merged = bool(data.get("merged"))
            duplicate = bool(data.get("duplicate"))
            status = str(data.get("status", "?"))
            unit = data.get("unit")
        except (ValueError, KeyError, TypeError) as exc:
            summary.errors += 1
            summary.error_kinds[f"unreadable 201 answer: {exc}"[:200]] += 1
            self.warn("unreadable", body, f"error: unreadable answer {response.text[:120]!r}")
            return
        summary.accepted += 1
        summary.incidents.add(incident)
        if duplicate:
            summary.duplicates += 1
            how = "duplicate"
        elif merged:
            summary.merged += 1
            how = "merged"
        else:
            how = "new"
        self.say(body, f"incident {incident} ({how}, {status}, {unit or '-'})")


async def send_reports(
    server: str,
    key: str,
    bodies: Iterable[Mapping[str, Any]],
    rate: float,
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    deadline_s: float | None = None,
    stop: asyncio.Event | None = None,
    hurry: asyncio.Event | None = None,
    quiet: bool = True,
    out: TextIO | None = None,
    err: TextIO | None = None,
    street_names: Mapping[str, str] | None = None,
    timeout_s: float = 10.0,
    max_attempts: int = 3,
    drain_s: float = 10.0,
    backoff_s: tuple[float, float] = (0.5, 10.0),
    transport: httpx.AsyncBaseTransport | None = None,
) -> Summary:
    """Post ``bodies`` to ``{server}/api/reports`` at ``rate`` per second.

    Report ``i`` is due at ``i / rate`` after the start. Up to ``concurrency`` requests are in
    flight; when the server is slower, the loop catches up as answers come back, so the average
    rate holds. A connection error pauses the run (``backoff_s``: 0.5 s doubling up to 10 s;
    the schedule moves on by the pause) and the report is retried with its report_id, up to
    ``max_attempts`` times; 5xx answers are retried too, other error answers are counted with
    the server's message. A 401 or 403 stops the run: the key is wrong for every report.

    The run ends when ``bodies`` is exhausted, ``stop`` is set, or ``deadline_s`` seconds have
    passed; requests in flight then get ``drain_s`` seconds to finish, or none once ``hurry``
    is set. After a stop or the deadline, failed requests are not retried.
    """
    if rate <= 0:
        raise ValueError("rate must be positive")
    summary = Summary()
    out = out or sys.stdout
    err = err or sys.stderr
    loop = asyncio.get_running_loop()
    began = loop.time()
    # The run is ending (stopped, aborted or past the deadline): no new reports, no more retries.
    halt = asyncio.Event()
    follow = asyncio.ensure_future(_follow(stop, halt)) if stop is not None else None
    timer = loop.call_at(began + deadline_s, halt.set) if deadline_s is not None else None
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    headers = {"X-API-Key": key, "User-Agent": "cityops-simulator/1"}
    tasks: set[asyncio.Task[None]] = set()
    total = len(bodies) if isinstance(bodies, Sequence) else None
    scheduled = 0
    async with httpx.AsyncClient(
        base_url=server.rstrip("/"),
        headers=headers,
        timeout=timeout_s,
        limits=limits,
        transport=transport,
    ) as client:
        sender = _Sender(
            client,
            summary,
            halt,
            max_attempts=max_attempts,
            quiet=quiet,
            out=out,
            err=err,
            street_names=street_names or {},
            backoff=_Backoff(*backoff_s),
        )
        shift = 0.0  # time spent paused after connection errors: the schedule moves on by it
        try:
            for index, body in enumerate(bodies):
                if await sender.pause(began + shift + index / rate - loop.time()):
                    break
                while len(tasks) >= concurrency and not halt.is_set():
                    await sender.wait_any(tasks)
                hold = sender.backoff.until - loop.time()
                if hold > 0:
                    if await sender.pause(hold):
                        break
                    shift += hold
                if halt.is_set():
                    break
                task = asyncio.create_task(sender.post(body))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
                scheduled += 1
            await _drain(tasks, drain_s, hurry)
        finally:
            for task in list(tasks):
                task.cancel()
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)
            sender.close()
            if timer is not None:
                timer.cancel()
            if follow is not None:
                follow.cancel()
                await asyncio.gather(follow, return_exceptions=True)
    summary.unsent = (total - scheduled) if total is not None else 0
    summary.elapsed_s = loop.time() - began
    return summary


async def _follow(source: asyncio.Event, target: asyncio.Event) -> None:
    await source.wait()
    target.set()


async def _drain(tasks: set[asyncio.Task[None]], seconds: float, hurry: asyncio.Event | None) -> None:
    """Wait up to ``seconds`` for ``tasks``, less if ``hurry`` is set meanwhile."""
    if not tasks:
        return
    waiters: set[asyncio.Future[Any]] = {asyncio.ensure_future(asyncio.wait(set(tasks), timeout=seconds))}
    hurried: asyncio.Task[Any] | None = None
    if hurry is not None:
        hurried = asyncio.ensure_future(hurry.wait())
        waiters.add(hurried)
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waiters:
            w.cancel()
        await asyncio.gather(*waiters, return_exceptions=True)


# -- the command -------------------------------------------------------------------------------


def _street_names(catalog: Catalog) -> dict[str, str]:
    return {code: s.name.zh for code, s in catalog.streets.items()}


async def _devices(args: argparse.Namespace, key: str, catalog: Catalog) -> asyncio.Task[None] | None:
    """Register the simulated devices and start their state walk (``--no-devices``: neither)."""
    from app.sim import devices

    if getattr(args, "no_devices", False):
        return None
    server = str(args.server)
    bodies = devices.device_bodies(catalog, int(args.seed))
    client = httpx.AsyncClient(timeout=10.0)
    try:
        taken = await devices.register(client, server, key, bodies)
    except httpx.HTTPError as exc:
        print(f"warning: could not register the simulated devices: {exc}", file=sys.stderr, flush=True)
        await client.aclose()
        return None
    if not args.quiet:
        print(f"registered {taken} devices (sensors and cameras)", flush=True)

    async def walk() -> None:
        try:
            await devices.walk_states(client, server, key, bodies, int(args.seed))
        finally:
            await client.aclose()

    return asyncio.get_running_loop().create_task(walk(), name="cityops-device-states")


async def _run(args: argparse.Namespace, key: str, catalog: Catalog) -> Summary:
    rate = float(args.rate)
    duration = float(args.duration)
    start = time.time()
    bodies: Iterable[Mapping[str, Any]]
    deadline: float | None
    if duration > 0:
        n = max(1, math.ceil(duration * rate))
        bodies = generate(int(args.seed), n, start, rate, catalog)
        deadline = duration + max(2.0, 0.25 * duration)
    else:
        bodies = (p.body for p in stream(int(args.seed), start, rate, catalog))
        deadline = None
    stop = asyncio.Event()
    hurry = asyncio.Event()
    loop = asyncio.get_running_loop()
    interrupts = 0

    def on_signal() -> None:
        nonlocal interrupts
        interrupts += 1
        if interrupts == 1:
            stop.set()
        else:  # a second Ctrl-C: don't wait for the requests in flight
            hurry.set()

    walker = await _devices(args, key, catalog)
    installed: list[signal.Signals] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, on_signal)
            installed.append(sig)
    try:
        summary = await send_reports(
            str(args.server),
            key,
            bodies,
            rate,
            deadline_s=deadline,
            stop=stop,
            hurry=hurry,
            quiet=bool(args.quiet),
            street_names=_street_names(catalog),
        )
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
        if walker is not None:
            walker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await walker
    summary.interrupted = summary.interrupted or interrupts > 0
    return summary


def main(args: argparse.Namespace) -> int:
    """``cityops simulate``: 0 when the run completed, 1 when nothing could be sent, 2 on bad
    arguments."""
    if not (args.rate > 0 and math.isfinite(args.rate)):
        print("error: --rate must be a positive number of reports per second", file=sys.stderr)
        return 2
    if args.duration < 0 or not math.isfinite(args.duration):
        print(
            "error: --duration must be 0 (until interrupted) or a positive number of seconds",
            file=sys.stderr,
        )
        return 2
    server = str(args.server)
    if not server.startswith(("http://", "https://")):
        print(f"error: --server must be an http:// or https:// URL, not {server!r}", file=sys.stderr)
        return 2
    try:
        key = Path(args.key_file).read_text(encoding="utf-8").strip()
    except OSError as exc:
        print(f"error: cannot read the intake key: {exc}", file=sys.stderr)
        return 1
    if not key:
        print(f"error: the key file {args.key_file} is empty", file=sys.stderr)
        return 1
    try:
        catalog = _catalog(None)
        check_catalog(catalog)
    except ValueError as exc:  # CatalogError is one
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if not args.quiet:
        until = "until interrupted" if args.duration == 0 else f"for {args.duration:g} s"
        print(f"simulating {args.rate:g} reports/s {until} to {server} (seed {args.seed})", flush=True)
    try:
        summary = asyncio.run(_run(args, key, catalog))
    except KeyboardInterrupt:  # where signal handlers are not available
        print("interrupted", file=sys.stderr)
        return 0
    print(summary.format(), flush=True)
    return 0 if summary.accepted > 0 else 1
