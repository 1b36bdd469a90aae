"""The map screen in a real console: live incidents and devices from a real server, selection
linked both ways with the board and the detail panel, the 3D fire-safety view, and what the
screen says when the map layers are missing."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from app.domain.devices import DeviceState
from console.conftest import Loop
from console.test_board import board_ids
from console.test_detail import post
from support.server import ServerProcess
from support.waiting import until

pytestmark = pytest.mark.timeout(180)


def on_map(console: Any, incident_id: int) -> bool:
    view = console.map_panel.view2d
    return bool(np.isin(incident_id, view.incidents.ids).item())


def post_at(server: ServerProcess, n: int, lon: float, lat: float, category: str = "fire.smoke_alarm") -> int:
    """A sensor report at a given point (blocking)."""
    body = {
        "report_id": f"map-test-{n}-{time.time()}",
        "source": "sensor",
        "category": category,
        "title": f"地图测试 {n}",
        "lon": lon,
        "lat": lat,
    }
    response = httpx.post(f"{server.url}/api/reports", json=body, headers={"X-API-Key": server.key}, timeout=10)
    assert response.status_code == 201, response.text
    return int(response.json()["incident_id"])


def register_devices(server: ServerProcess, bodies: list[dict[str, Any]]) -> None:
    response = httpx.post(f"{server.url}/api/devices", json=bodies, headers={"X-API-Key": server.key}, timeout=10)
    assert response.status_code == 200 and not response.json()["refused"], response.text


def set_state(server: ServerProcess, device_id: str, state: str) -> None:
    body = [{"id": device_id, "state": state, "at": time.time()}]
    response = httpx.post(f"{server.url}/api/devices/state", json=body, headers={"X-API-Key": server.key}, timeout=10)
    assert response.json()["changed"] == 1, response.text


def test_live_incidents_and_devices_appear_on_the_map(server: ServerProcess, qloop: Loop, consoles: Any) -> None:
    async def scenario() -> None:
        before = await asyncio.to_thread(post, server, 1)
        console = await consoles("officer")
        view = console.map_panel.view2d
        await until(lambda: on_map(console, before), what="the incident synced before the start")
        # A new report appears without a reload, where it was reported; the server gives it the
        # street and the unit grid cell of the map layers under the point.
        district = view.district
        street = district.streets[0]
        point = street.geometry.representative_point()
        incident_id = await asyncio.to_thread(post_at, server, 2, point.x, point.y)
        await until(lambda: on_map(console, incident_id), what="the live incident on the map")
        row = int(np.flatnonzero(view.incidents.ids == incident_id)[0])
        record = await console.sync.incident(incident_id)
        assert record is not None
        assert view.incidents.lon[row] == pytest.approx(record.location.lon)
        assert view.incidents.lat[row] == pytest.approx(record.location.lat)
        cell = district.cell_at(point.x, point.y)
        assert cell is not None and record.location.grid == cell.code
        assert record.location.street == street.code
        # Devices, and a change of state, live.
        await asyncio.to_thread(
            register_devices,
            server,
            [{"id": "SMK-T1", "kind": "sensor", "type": "smoke", "name": "测试烟感", "lon": 121.44, "lat": 31.243}],
        )
        await until(lambda: "SMK-T1" in view.device_ids(), what="the device on the map")
        await asyncio.to_thread(set_state, server, "SMK-T1", "alarm")
        await until(lambda: view.device("SMK-T1").state is DeviceState.ALARM, what="the alarm on the map")

    qloop.run(scenario())


def test_selection_is_linked_both_ways(server: ServerProcess, qloop: Loop, qtbot: QtBot, consoles: Any) -> None:
    async def scenario() -> None:
        first = await asyncio.to_thread(post, server, 3)
        second = await asyncio.to_thread(post, server, 6)
        console = await consoles("officer")
        view = console.map_panel.view2d
        await until(lambda: first in board_ids(console) and on_map(console, second), what="both incidents")
        # Board → map: choosing a row rings the incident on the map and, following, centres it.
        assert console.board.select_incident(first)
        await until(lambda: view.selected_incident() == first, what="the map following the board")
        record = await console.sync.incident(first)
        assert record is not None
        centre = view.to_screen(record.location.lon, record.location.lat)
        assert abs(centre.x() - view.width() / 2) < 2 and abs(centre.y() - view.height() / 2) < 2
        # Map → board and detail: clicking the other incident's marker.
        other = await console.sync.incident(second)
        assert other is not None
        console.workspace.show_panel("map")  # one offscreen screen: the compact layout's map tab
        view.center_on(other.location.lon, other.location.lat, scale=2.0)
        view.repaint()  # clicks hit what the last paint drew
        point = view.to_screen(other.location.lon, other.location.lat).toPoint()
        qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=point)
        await until(
            lambda: console.detail.incident is not None and console.detail.incident.id == second,
            what="the detail panel showing the clicked incident",
        )
        model = console.board.model
        await until(lambda: model.incident_id(console.board.view.currentIndex().row()) == second, what="board row")
        assert view.selected_incident() == second

    qloop.run(scenario())


def test_the_3d_view_lists_a_fire_column(server: ServerProcess, qloop: Loop, consoles: Any) -> None:
    async def scenario() -> None:
        console = await consoles("officer")
        inside = [s.geometry.representative_point() for s in console.map_panel.district.streets[:3]]
        fires = [await asyncio.to_thread(post_at, server, n, p.x, p.y, "fire.fire_lane_blocked") for n, p in
                 zip((7, 8), inside, strict=False)]  # fmt: skip
        await asyncio.to_thread(post_at, server, 9, inside[2].x, inside[2].y, "appearance.garbage_overflow")
        await until(lambda: all(on_map(console, i) for i in fires), what="the fire reports")
        console.workspace.show_panel("map")
        view3d = console.map_panel.show_3d()
        assert view3d is not None
        await until(lambda: sum(len(v) for v in view3d.columns().values()) == 2, what="the columns of the period")
        (code, ids), *_ = sorted(view3d.columns().items(), key=lambda item: -len(item[1]))
        view3d.resize(900, 600)
        position = view3d.screen_position(code)
        assert position is not None
        assert view3d.pick_at(position.x(), position.y()) == code
        panel = console.map_panel
        await until(lambda: panel.cell_list.count() == len(ids), what="the picked column's incidents listed")
        item = panel.cell_list.item(0)
        panel.cell_list.itemClicked.emit(item)
        listed = item.data(Qt.ItemDataRole.UserRole)
        await until(
            lambda: console.detail.incident is not None and console.detail.incident.id == listed,
            what="the listed incident in the detail panel",
        )
        image = view3d.render_image()
        assert not image.isNull()

    qloop.run(scenario())


def test_without_map_layers_the_screen_says_what_to_do(
    server: ServerProcess, qloop: Loop, consoles: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CITYOPS_GEO_DIR", str(tmp_path / "no-layers"))

    async def scenario() -> None:
        console = await consoles("officer")
        assert console.map_panel.view2d is None
        message = console.map_panel.findChild(QLabel, "mapMissing")
        assert message is not None and "cityops setup-data" in message.text()
        # The rest of the console works without the map.
        incident_id = await asyncio.to_thread(post, server, 10)
        await until(lambda: incident_id in board_ids(console), what="the board still live")

    qloop.run(scenario())
