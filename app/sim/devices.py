"""The simulated sensors and cameras, registered with the server's device registry, and the
changes of state a district's devices go through: a detector that alarms, a camera that drops
off the network for a while and comes back, a gauge taken out for maintenance.

The devices are those of :func:`app.sim.simulator.build_registry` (the same seed gives the same
ones), so the reports the simulator sends name devices the map shows.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Iterable, Mapping, Sequence
from random import Random
from typing import Any, Final

import httpx

from app.domain.catalog import Catalog
from app.sim import simulator as sim

log = logging.getLogger(__name__)

#: Device kind of the simulator → (registry kind, type, what it is called, category it raises).
KINDS: Final[Mapping[str, tuple[str, str, str, str]]] = {
    "smoke": ("sensor", "smoke", "烟感探测器", "fire.smoke_alarm"),
    "manhole": ("sensor", "manhole", "井盖传感器", "facilities.manhole_cover"),
    "dust": ("sensor", "dust", "扬尘监测仪", "construction.dust"),
    "noise": ("sensor", "noise", "噪声监测仪", "construction.noise_night"),
    "water_level": ("sensor", "water_level", "水位计", "creek.water_level_high"),
    "camera": ("camera", "high_altitude", "高空抛物摄像机", "safety.object_thrown_from_height"),
    "creek_camera": ("camera", "creek", "苏州河沿岸摄像机", "creek.floating_waste"),
}

#: Scenario tags of the simulated cameras (高空抛物, 苏州河; the high-altitude cameras double as
#: the street's eagle-eye views, 鹰眼).
CAMERA_TAGS: Final[Mapping[str, tuple[str, ...]]] = {
    "camera": ("高空抛物", "鹰眼"),
    "creek_camera": ("苏州河", "岸线巡查"),
}

#: Per state round: the share of devices that change (alarm, offline, fault) and how long a
#: device stays out of normal, in rounds.
ALARM_SHARE: Final = 0.004
OFFLINE_SHARE: Final = 0.002
FAULT_SHARE: Final = 0.0005
HOLD_ROUNDS: Final = (2, 12)


def device_bodies(catalog: Catalog, seed: int) -> list[dict[str, Any]]:
    """The simulated devices as bodies for ``POST /api/devices``."""
    registry = sim.build_registry(catalog, seed)
    bodies = []
    for kind, devices in registry.devices.items():
        registry_kind, type_, label, category = KINDS[kind]
        scenario = catalog.categories[category].scenario if category in catalog.categories else None
        for d in devices:
            where = d.address if d.detail in d.address else f"{d.address} {d.detail}".strip()
            attrs: dict[str, Any] = {"address": d.address, "detail": d.detail}
            video: dict[str, Any] = {}
            if registry_kind == "camera":
                # Every simulated camera streams the simulator's synthetic scene, drawn by the
                # server's media hub only while somebody watches it.
                attrs["tags"] = list(CAMERA_TAGS[kind])
                video["source"] = "synthetic:"
            bodies.append(
                {
                    "id": d.id,
                    "kind": registry_kind,
                    "type": type_,
                    "name": f"{label} {d.id} · {where}",
                    "lon": round(d.lon, 6),
                    "lat": round(d.lat, 6),
                    "street": d.street,
                    "scenario": scenario or "",
                    "attrs": attrs,
                    **video,
                }
            )
    return bodies


async def register(client: httpx.AsyncClient, server: str, key: str, bodies: Sequence[Mapping[str, Any]]) -> int:
    """Register the devices in batches; returns how many the server took. Raises
    :class:`httpx.HTTPError` when the server cannot be reached or refuses the key."""
    taken = 0
    for start in range(0, len(bodies), 500):
        response = await client.post(
            f"{server}/api/devices", json=list(bodies[start : start + 500]), headers={"X-API-Key": key}
        )
        response.raise_for_status()
        answer = response.json()
        taken += int(answer["changed"])
        for refused in answer.get("refused", []):
            log.warning("device %s refused: %s", refused.get("id"), refused.get("message"))
    return taken


class StateWalk:
    """Which devices leave normal, and when they come back, round by round."""

    def __init__(self, ids: Sequence[str], seed: int) -> None:
        self.ids = list(ids)
        self.rng = Random(f"cityops-device-states-{seed}")
        self.away: dict[str, int] = {}

    def step(self) -> list[tuple[str, str]]:
        """The (id, state) changes of one round."""
        changes: list[tuple[str, str]] = []
        for device_id in list(self.away):
            self.away[device_id] -= 1
            if self.away[device_id] <= 0:
                del self.away[device_id]
                changes.append((device_id, "normal"))
        for state, share in (("alarm", ALARM_SHARE), ("offline", OFFLINE_SHARE), ("fault", FAULT_SHARE)):
            for _ in range(self._count(share)):
                device_id = self.rng.choice(self.ids)
                if device_id not in self.away:
                    self.away[device_id] = self.rng.randint(*HOLD_ROUNDS)
                    changes.append((device_id, state))
        return changes

    def _count(self, share: float) -> int:
        expected = share * len(self.ids)
        whole = int(expected)
        return whole + (1 if self.rng.random() < expected - whole else 0)


#: Seconds between readings, by sensor type (within each rule's heartbeat).
READING_EVERY_S: Final[Mapping[str, float]] = {
    "water_level": 30.0,
    "dust": 30.0,
    "noise": 30.0,
    "smoke": 240.0,
    "manhole": 1800.0,
}
#: Per hour and sensor, the chance that an episode past the alarm line starts, and how long it
#: lasts (seconds): a surge at a gauge, a dusty earthwork, a night pour, smoke, a lifted cover.
EPISODES: Final[Mapping[str, tuple[float, float]]] = {
    "water_level": (0.02, 1200.0),
    "dust": (0.03, 1500.0),
    "noise": (0.03, 900.0),
    "smoke": (0.002, 120.0),
    "manhole": (0.001, 7200.0),
}


class Readings:
    """Plausible readings of the simulated sensors: tide-like water levels, dust with a daily
    rhythm, quiet nights, clean air in the stairwells, covers in place; now and then an episode
    past the alarm line, long enough to raise it. A sensor in :class:`StateWalk`'s ``away`` set
    sends nothing (the monitor notices the silence); faults are told."""

    def __init__(self, sensors: Sequence[Mapping[str, Any]], seed: int) -> None:
        self.rng = Random(f"cityops-readings-{seed}")
        self.sensors = [(str(b["id"]), str(b["type"])) for b in sensors if b["type"] in READING_EVERY_S]
        self.offset = {i: self.rng.uniform(-1.0, 1.0) for i, _ in self.sensors}
        self.next_at: dict[str, float] = {}
        self.episode_until: dict[str, float] = {}

    def value(self, sensor_id: str, sensor_type: str, at: float) -> float:
        rng, k = self.rng, self.offset[sensor_id]
        in_episode = self.episode_until.get(sensor_id, 0.0) > at
        if sensor_type == "water_level":  # semi-diurnal tide around 3.40 m
            base = 3.40 + 0.22 * math.sin(2 * math.pi * at / 44_712.0 + k) + rng.gauss(0, 0.01)
            return round(base + (0.45 if in_episode else 0.0), 3)
        if sensor_type == "dust":
            hour = (at / 3600.0 + 8) % 24
            base = 55 + 25 * math.sin(math.pi * (hour - 6) / 12) * (6 <= hour <= 18) + 10 * k
            return round(max(10.0, base + rng.gauss(0, 6) + (170 if in_episode else 0)), 1)
        if sensor_type == "noise":
            hour = (at / 3600.0 + 8) % 24
            base = 62.0 if 7 <= hour < 22 else 46.0
            return round(base + 2 * k + rng.gauss(0, 1.5) + (16 if in_episode else 0), 1)
        if sensor_type == "smoke":
            return round(0.35 if in_episode else max(0.0, rng.gauss(0.01, 0.004)), 3)
        return round(22.0 if in_episode else abs(rng.gauss(0.5, 0.4)), 1)  # manhole tilt, degrees

    def due(self, now: float, silent: Iterable[str] = ()) -> list[dict[str, Any]]:
        """The readings due by ``now`` (at most one per sensor)."""
        quiet = set(silent)
        out = []
        for sensor_id, sensor_type in self.sensors:
            every = READING_EVERY_S[sensor_type]
            due = self.next_at.setdefault(sensor_id, now + self.rng.uniform(0, every))
            if due > now:
                continue
            self.next_at[sensor_id] = now + every
            if sensor_id in quiet:
                continue
            chance, length = EPISODES[sensor_type]
            if self.episode_until.get(sensor_id, 0.0) <= now and self.rng.random() < chance * every / 3600.0:
                self.episode_until[sensor_id] = now + length * self.rng.uniform(0.6, 1.4)
            out.append({"sensor_id": sensor_id, "value": self.value(sensor_id, sensor_type, now), "at": now})
        return out


async def walk_states(
    client: httpx.AsyncClient,
    server: str,
    key: str,
    bodies: Sequence[Mapping[str, Any]],
    seed: int,
    period_s: float = 5.0,
) -> None:
    """Until cancelled, every ``period_s``: sensor readings (the server's alarm rules turn them
    into alarms), cameras dropping off the network and back, and devices reported faulty. A
    sensor that goes "offline" just stops sending; the server notices. A failed post is
    logged and the walk goes on."""
    walk = StateWalk([str(b["id"]) for b in bodies], seed)
    cameras = {str(b["id"]) for b in bodies if b["kind"] == "camera"}
    readings = Readings([b for b in bodies if b["kind"] == "sensor"], seed)
    headers = {"X-API-Key": key}
    faulty: set[str] = set()
    while True:
        await asyncio.sleep(period_s)
        now = time.time()
        changes = []
        for device_id, state in walk.step():
            if device_id in cameras:
                changes.append((device_id, state))
            elif state == "fault":
                faulty.add(device_id)
                changes.append((device_id, state))
            elif state == "normal" and device_id in faulty:  # repaired
                faulty.discard(device_id)
                changes.append((device_id, state))
        silent = [i for i in walk.away if i not in cameras]
        due = readings.due(now, silent)
        with contextlib.suppress(httpx.HTTPError):
            if changes:
                body = [{"id": i, "state": s, "at": now} for i, s in changes]
                response = await client.post(f"{server}/api/devices/state", json=body, headers=headers)
                if response.status_code >= 400:
                    log.warning("device states refused: %s", response.text[:200])
            for start in range(0, len(due), 500):
                response = await client.post(
                    f"{server}/api/observations", json=due[start : start + 500], headers=headers
                )
                if response.status_code >= 400:
                    log.warning("readings refused: %s", response.text[:200])
