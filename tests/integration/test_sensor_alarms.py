"""Sensor readings end to end: alarm rules on a real server (threshold, duration, hysteresis)
open incidents and move the sensor's state on the consoles; heartbeat loss marks a sensor
offline; false alarms and little use list a sensor for adjustment."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.domain.alarms import load_rules
from app.domain.devices import Device, DeviceKind, DeviceState
from app.domain.model import Action, Status
from app.server.hub import Hub
from app.server.sensors import Observation, SensorMonitor
from app.server.writer import Writer
from app.storage.catalog_file import read_catalog
from app.storage.server_store import ServerStore
from integration.conftest import CAOYANG, CHANGSHOU, STREET_POINTS, scaled
from resources import ALARM_RULES_PATH
from support.server import ServerProcess
from support.waiting import until

pytestmark = pytest.mark.timeout(120)


def gauge(sensor_id: str, sensor_type: str = "water_level", street: str = CHANGSHOU) -> dict[str, Any]:
    lon, lat = STREET_POINTS[street]
    return {"id": sensor_id, "kind": "sensor", "type": sensor_type, "name": f"测试 {sensor_id}", "lon": lon,
            "lat": lat, "street": street, "scenario": "suzhou_creek"}  # fmt: skip


async def call(server: ServerProcess, method: str, path: str, body: Any = None, **params: Any) -> httpx.Response:
    async with httpx.AsyncClient(timeout=scaled(10)) as http:
        return await http.request(
            method, f"{server.url}{path}", json=body, params=params or None, headers={"X-API-Key": server.key}
        )


async def readings(server: ServerProcess, sensor_id: str, series: list[tuple[float, float]]) -> dict[str, Any]:
    body = [{"sensor_id": sensor_id, "at": at, "value": value} for at, value in series]
    response = await call(server, "POST", "/api/observations", body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def test_a_sustained_reading_raises_one_incident_and_clears(server: ServerProcess, consoles: Any) -> None:
    assert (await call(server, "POST", "/api/devices", [gauge("WLG-T1")])).json()["changed"] == 1
    officer = await consoles(server, "officer")
    t0 = time.time() - 3600
    # Hovering at the warning line (3.80 m) every 30 s: no alarm.
    hover = [(t0 + 30 * i, 3.81 if i % 3 else 3.79) for i in range(40)]
    assert (await readings(server, "WLG-T1", hover))["raised"] == []
    # Above it for two minutes: one alarm, one incident.
    t1 = t0 + 1500
    answer = await readings(server, "WLG-T1", [(t1 + 30 * i, 3.92) for i in range(6)])
    assert answer["accepted"] == 6
    [raised] = answer["raised"]
    assert raised["sensor_id"] == "WLG-T1"
    incident_id = raised["incident_id"]
    await until(lambda: officer.record(incident_id), what="the alarm's incident at the console")
    incident = await officer.service.incident(incident_id)
    assert incident is not None and incident.category == "creek.water_level_high"
    assert "3.92" in incident.description and incident.merged[0].report_id.startswith("alarm:WLG-T1:")

    async def state() -> DeviceState | None:
        held = {d.id: d for d in await officer.service.db(officer.cache.devices)}
        return held["WLG-T1"].state if "WLG-T1" in held else None

    await until(lambda: _is(state, DeviceState.ALARM), what="the gauge in alarm at the console")
    # Wobbling between the lines (3.70–3.80): still the same alarm, nothing new.
    t2 = t1 + 300
    answer = await readings(server, "WLG-T1", [(t2 + 30 * i, 3.75 if i % 2 else 3.82) for i in range(10)])
    assert answer["raised"] == [] and answer["cleared"] == []
    # Below 3.70 for ten minutes: cleared, the gauge back to normal; the incident stays open.
    t3 = t2 + 400
    answer = await readings(server, "WLG-T1", [(t3 + 60 * i, 3.5) for i in range(11)])
    assert answer["cleared"] == ["WLG-T1"]
    await until(lambda: _is(state, DeviceState.NORMAL), what="the gauge back to normal")
    record = await officer.service.incident(incident_id)
    assert record is not None and record.status in (Status.REPORTED, Status.REGISTERED)


async def test_bad_readings_are_refused_and_the_rest_taken(server: ServerProcess) -> None:
    await call(server, "POST", "/api/devices", [gauge("WLG-T2"), {**gauge("CAM-T"), "kind": "camera", "type": "x"}])
    now = time.time()
    body = [
        {"sensor_id": "NOPE", "value": 1.0, "at": now},
        {"sensor_id": "WLG-T2", "value": 3.0, "at": now},
        {"sensor_id": "CAM-T", "value": 3.0, "at": now},
    ]
    answer = (await call(server, "POST", "/api/observations", body)).json()
    assert answer["accepted"] == 1
    assert [(r["index"], r["error"]) for r in answer["refused"]] == [(0, "unknown_sensor"), (2, "unknown_sensor")]
    response = await call(server, "POST", "/api/observations", [{"sensor_id": "WLG-T2", "value": "high"}])
    assert response.status_code == 422 and response.json()["error"] == "invalid_request"
    response = await call(server, "POST", "/api/observations", [{"sensor_id": "WLG-T2", "value": 1, "at": now + 3600}])
    assert response.status_code == 422 and "future" in response.json()["message"]


async def test_false_alarms_and_little_use_list_a_sensor(server: ServerProcess, consoles: Any) -> None:
    await call(server, "POST", "/api/devices", [gauge("SMK-F", "smoke"), gauge("SMK-G", "smoke", CAOYANG),
                                                 gauge("SMK-Q", "smoke")])  # fmt: skip
    officer = await consoles(server, "officer")
    t = time.time() - 7200
    raised: dict[str, list[int]] = {"SMK-F": [], "SMK-G": []}
    for sensor in raised:
        for k in range(3):  # three alarms each: 10 s above 0.10 dB/m, then a minute clear
            start = t + 1000 * k
            series = [(start, 0.3), (start + 10, 0.3), (start + 20, 0.01), (start + 90, 0.01)]
            answer = await readings(server, sensor, series)
            raised[sensor] += [r["incident_id"] for r in answer["raised"]]
    assert all(len(ids) == 3 for ids in raised.values())
    # SMK-F's alarms were false: its incident is found invalid.
    for incident_id in set(raised["SMK-F"]):
        await until(lambda i=incident_id: officer.record(i), what="the incident")
        receipt = await officer.service.submit(incident_id, Action.INVALIDATE, "现场核查为误报")
        assert (await receipt.result).accepted
    review = (await call(server, "GET", "/api/sensors/review", days=1, min_use=0.001)).json()
    by_id = {r["sensor_id"]: r for r in review}
    assert (by_id["SMK-F"]["alarms"], by_id["SMK-F"]["false_alarms"], by_id["SMK-F"]["false_alarm_rate"]) == (3, 3, 1.0)
    assert by_id["SMK-F"]["reasons"] == ["false_alarms"]
    assert (by_id["SMK-G"]["alarms"], by_id["SMK-G"]["false_alarms"], by_id["SMK-G"]["reasons"]) == (3, 0, [])
    # Silent, but registered a moment ago: nothing was expected of it yet.
    assert (by_id["SMK-Q"]["readings"], by_id["SMK-Q"]["expected_readings"], by_id["SMK-Q"]["reasons"]) == (0, 0, [])
    flagged = (await call(server, "GET", "/api/sensors/review", days=1, min_use=0.001, flagged_only=True)).json()
    assert sorted(r["sensor_id"] for r in flagged) == ["SMK-F"]


async def test_heartbeat_loss_marks_a_sensor_offline_and_a_reading_brings_it_back(tmp_path: Path) -> None:
    """In process, with the server's real store, writer and monitor and a clock we move."""
    catalog = read_catalog()
    store = ServerStore(f"sqlite:///{tmp_path / 'store.db'}")
    now = [1_800_000_000.0]
    hub = Hub(catalog)
    monitor: SensorMonitor | None = None

    def published(devices: list[Device]) -> None:
        hub.publish_devices(devices)
        if monitor is not None:
            monitor.devices_changed(devices)

    writer = Writer(store, catalog, hub.publish, clock=lambda: now[0], publish_devices=published)
    writer.start()
    try:
        monitor = SensorMonitor(store, writer, catalog, load_rules(ALARM_RULES_PATH), clock=lambda: now[0])
        await monitor.start()
        lon, lat = STREET_POINTS[CHANGSHOU]
        sensor = Device(id="WLG-H", kind=DeviceKind.SENSOR, type="water_level", name="水位计", lon=lon, lat=lat,
                        street=CHANGSHOU)  # fmt: skip
        await writer.submit_devices(register=[sensor])
        await monitor.observe([Observation("WLG-H", 3.1, now[0])])
        now[0] += 299  # five heartbeats of 60 s: not yet
        assert await monitor.check() == []
        now[0] += 2
        assert await monitor.check() == ["WLG-H"]
        assert monitor.devices["WLG-H"].state is DeviceState.OFFLINE
        assert await monitor.check() == [], "once offline, not again"
        await monitor.observe([Observation("WLG-H", 3.2, now[0])])
        assert monitor.devices["WLG-H"].state is DeviceState.NORMAL
        [stored] = store.devices()
        assert stored.state is DeviceState.NORMAL and stored.last_seen == now[0]
        # The latest reading reaches the registry (and the consoles' vital signs).
        await monitor.flush_seen()
        [stored] = store.devices()
        assert (stored.reading, stored.reading_at) == (3.2, now[0])
        # Little use: a gauge that sent 2 readings in the hour it has been registered (60 due).
        now[0] += 3600 - 301
        [review] = await monitor.review(now[0] - 86400, now[0])
        assert (review.readings, review.expected_readings, review.reasons) == (2, 60, ("little_use",))
    finally:
        if monitor is not None:
            await monitor.stop()
        await writer.stop()
        store.close()


async def _is(probe: Any, wanted: DeviceState) -> bool:
    return bool(await probe() is wanted)
