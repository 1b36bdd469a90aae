"""The device registry end to end: sensors and cameras registered over HTTP reach the consoles
that may see them, their state changes arrive live, bad input is refused item by item, and a
console that reconnects gets the whole set again."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from app.domain.devices import DeviceState
from app.services.events import DevicesChanged
from integration.conftest import CAOYANG, CHANGSHOU, STREET_POINTS, scaled
from support.server import ServerProcess
from support.waiting import until

pytestmark = pytest.mark.timeout(120)


def device(device_id: str, street: str, kind: str = "sensor", scenario: str = "", **extra: Any) -> dict[str, Any]:
    lon, lat = STREET_POINTS[street]
    body: dict[str, Any] = {
        "id": device_id,
        "kind": kind,
        "type": "smoke" if kind == "sensor" else "high_altitude",
        "name": f"测试设备 {device_id}",
        "lon": lon,
        "lat": lat,
        "street": street,
        "scenario": scenario,
    }
    body.update(extra)
    return body


async def post(server: ServerProcess, path: str, body: Any, key: str | None = None) -> httpx.Response:
    async with httpx.AsyncClient(timeout=scaled(10)) as http:
        return await http.post(f"{server.url}{path}", json=body, headers={"X-API-Key": key or server.key})


async def held(console: Any) -> dict[str, Any]:
    return {d.id: d for d in await console.service.db(console.cache.devices)}


async def test_devices_reach_the_consoles_that_may_see_them(server: ServerProcess, consoles: Any) -> None:
    response = await post(
        server,
        "/api/devices",
        [
            device("SMK-A", CHANGSHOU, scenario="fire_safety"),
            device("CAM-B", CAOYANG, kind="camera"),
            {**device("BAD-1", CHANGSHOU), "street": "999999999"},
        ],
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["changed"] == 2
    assert [(r["id"], r["error"]) for r in answer["refused"]] == [("BAD-1", "unknown_street")]

    officer = await consoles(server, "officer")
    changshou = await consoles(server, "changshou")
    caoyang = await consoles(server, "caoyang")
    fire = await consoles(server, "fire")
    await until(lambda: _has(officer, {"SMK-A", "CAM-B"}), what="both devices at the district officer")
    await until(lambda: _has(changshou, {"SMK-A"}), what="its street's sensor at Changshou")
    await until(lambda: _has(caoyang, {"CAM-B"}), what="its street's camera at Caoyang")
    await until(lambda: _has(fire, {"SMK-A"}), what="the fire-safety sensor at the fire center")
    assert set(await held(changshou)) == {"SMK-A"}
    assert set(await held(caoyang)) == {"CAM-B"}
    assert set(await held(fire)) == {"SMK-A"}, "the fire center sees fire-safety devices only"

    # A state change reaches those who see the device, live.
    officer.events.clear()
    caoyang.events.clear()
    response = await post(server, "/api/devices/state", [{"id": "SMK-A", "state": "alarm", "at": time.time()}])
    assert response.json() == {"changed": 1, "refused": []}
    await until(lambda: _state(officer, "SMK-A", DeviceState.ALARM), what="the alarm at the officer")
    await until(lambda: _state(changshou, "SMK-A", DeviceState.ALARM), what="the alarm at Changshou")
    assert any(isinstance(e, DevicesChanged) and "SMK-A" in e.ids for e in officer.events)
    assert not any(isinstance(e, DevicesChanged) and not e.reset for e in caoyang.events), "not Caoyang's device"


async def test_bad_device_input_is_refused_with_a_reason(server: ServerProcess) -> None:
    assert (await post(server, "/api/devices", [device("SMK-A", CHANGSHOU)])).status_code == 200
    now = time.time()
    response = await post(
        server,
        "/api/devices/state",
        [
            {"id": "NOPE", "state": "alarm", "at": now},
            {"id": "SMK-A", "state": "offline", "at": now},
            {"id": "SMK-A", "state": "normal", "at": now - 3600},
        ],
    )
    answer = response.json()
    assert answer["changed"] == 1
    assert [(r["id"], r["error"]) for r in answer["refused"]] == [("NOPE", "unknown_device"), ("SMK-A", "stale")]
    # Malformed bodies: a clear 422, nothing taken.
    response = await post(server, "/api/devices/state", [{"id": "SMK-A", "state": "exploded"}])
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_request"
    response = await post(server, "/api/devices", [device("X", CHANGSHOU, lat=95.0)])
    assert response.status_code == 422 and "lat" in response.json()["message"]
    # A wrong key: refused.
    assert (await post(server, "/api/devices", [device("Y", CHANGSHOU)], key="wrong")).status_code == 401
    async with httpx.AsyncClient(timeout=scaled(10)) as http:
        listed = (await http.get(f"{server.url}/api/devices", headers={"X-API-Key": server.key})).json()
    assert [(d["id"], d["state"]) for d in listed] == [("SMK-A", "offline")]


async def test_a_reconnecting_console_gets_the_whole_set_again(server: ServerProcess, consoles: Any) -> None:
    await post(server, "/api/devices", [device("SMK-A", CHANGSHOU), device("SMK-B", CHANGSHOU)])
    officer = await consoles(server, "officer")
    await until(lambda: _has(officer, {"SMK-A", "SMK-B"}), what="the devices")
    await officer.stop()
    # While it is away one device is replaced, a state changes, and the server restarts.
    await post(server, "/api/devices", [device("SMK-B", CHANGSHOU, name="改名后的设备")])
    await post(server, "/api/devices/state", [{"id": "SMK-A", "state": "fault", "at": time.time()}])
    server.restart()
    again = await consoles(server, "officer")
    await until(lambda: _state(again, "SMK-A", DeviceState.FAULT), what="the fault after the reconnect")
    assert (await held(again))["SMK-B"].name == "改名后的设备"


async def _has(console: Any, ids: set[str]) -> bool:
    return ids <= set(await held(console))


async def _state(console: Any, device_id: str, state: DeviceState) -> bool:
    found = (await held(console)).get(device_id)
    return found is not None and found.state is state
