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
import time
from collections.abc import Mapping, Sequence
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
            where = f"{d.address}{d.detail and ' ' + d.detail}"
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
                    "attrs": {"address": d.address, "detail": d.detail},
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


async def walk_states(
    client: httpx.AsyncClient, server: str, key: str, ids: Sequence[str], seed: int, period_s: float = 5.0
) -> None:
    """Post device state changes every ``period_s`` until cancelled; a failed post is logged and
    the walk goes on (the next round's states still make sense)."""
    walk = StateWalk(ids, seed)
    while True:
        await asyncio.sleep(period_s)
        changes = walk.step()
        if not changes:
            continue
        body = [{"id": i, "state": s, "at": time.time()} for i, s in changes]
        with contextlib.suppress(httpx.HTTPError):
            response = await client.post(f"{server}/api/devices/state", json=body, headers={"X-API-Key": key})
            if response.status_code >= 400:
                log.warning("device states refused: %s", response.text[:200])
