"""The simulated devices: valid for the registry, stable for a seed, and a state walk that
brings every device back to normal."""

from __future__ import annotations

import msgspec

from app.domain.alarms import load_rules
from app.domain.devices import Device, DeviceState, check_device
from app.sim.devices import Readings, StateWalk, device_bodies
from app.storage.catalog_file import read_catalog
from resources import ALARM_RULES_PATH


def test_every_simulated_device_is_one_the_registry_takes() -> None:
    catalog = read_catalog()
    bodies = device_bodies(catalog, seed=1)
    assert len(bodies) > 500
    assert len({b["id"] for b in bodies}) == len(bodies)
    for body in bodies:
        record = {k: v for k, v in body.items() if k not in ("source", "sub_source")}
        check_device(msgspec.convert(record, Device), catalog)
        # Every camera streams the synthetic scene; sensors have no video.
        assert ("source" in body) == (body["kind"] == "camera")
        assert body.get("source") in (None, "synthetic:")
    kinds = {(b["kind"], b["type"]) for b in bodies}
    assert ("camera", "high_altitude") in kinds and ("camera", "creek") in kinds and ("sensor", "smoke") in kinds
    assert device_bodies(catalog, seed=1) == bodies, "the same seed gives the same devices"


def test_the_state_walk_leaves_and_returns() -> None:
    ids = [f"D{i}" for i in range(2000)]
    walk = StateWalk(ids, seed=3)
    state = dict.fromkeys(ids, DeviceState.NORMAL.value)
    left = 0
    for _ in range(200):
        for device_id, new in walk.step():
            assert new != state[device_id], "only real changes are sent"
            left += new != "normal"
            state[device_id] = new
    assert left > 50
    away = sum(1 for s in state.values() if s != "normal")
    assert away == len(walk.away) and away < 0.05 * len(ids)


def test_readings_stay_inside_the_lines_but_for_episodes() -> None:
    catalog = read_catalog()
    sensors = [b for b in device_bodies(catalog, seed=1) if b["kind"] == "sensor"]
    readings = Readings(sensors, seed=2)
    rules = load_rules(ALARM_RULES_PATH)
    now, seen, past = 1_800_000_000.0, 0, 0
    for _ in range(24 * 60):  # a simulated day, a round a minute
        now += 60.0
        silent = [sensors[0]["id"]]
        for reading in readings.due(now, silent):
            assert reading["sensor_id"] != sensors[0]["id"], "a silent sensor sends nothing"
            sensor_type = next(b["type"] for b in sensors if b["id"] == reading["sensor_id"])
            seen += 1
            past += rules[sensor_type].past_raise(reading["value"]) and rules[sensor_type].active_at(now)
    assert seen > 10_000
    assert 0 < past < 0.05 * seen, "alarms are episodes, not the rule"
