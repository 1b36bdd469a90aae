"""The video wall screen in a real console against a real server: selecting an incident puts its
nearest cameras on the wall and they play live (the synthetic camera's burnt-in frame numbers
advance in the wall's own pictures); a snapshot is attached to the incident; an AI video alarm
lights its camera's tile; the layout is kept for the workstation. Renders the screen with four
live tiles to /tmp/console_video_4.png for a person to look at."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import numpy as np
import pytest
from PySide6.QtGui import QImage

from app.console.video import SETTINGS_KEY
from app.domain.model import Action
from app.sim.camera import read_stamp_bgra
from console.conftest import Loop
from support.server import ServerProcess
from support.waiting import until
from widgets.video.wall import TileState

pytestmark = pytest.mark.timeout(240)

CHANGSHOU = "310107015"
#: Where the incident happens; four cameras around it, one far away.
SCENE = (121.4380, 31.2420)
NEAR = [(0.0006, 0.0), (-0.0008, 0.0003), (0.0, -0.0011), (0.0013, 0.0009)]


def cameras() -> list[dict[str, Any]]:
    bodies = [
        {
            "id": f"CAM-NEAR-{i}",
            "kind": "camera",
            "type": "high_altitude",
            "name": f"长寿路 测试摄像机 {i}",
            "lon": SCENE[0] + dx,
            "lat": SCENE[1] + dy,
            "street": CHANGSHOU,
            "source": "synthetic:",
            "attrs": {"tags": ["高空抛物"]},
        }
        for i, (dx, dy) in enumerate(NEAR)
    ]
    bodies.append({**bodies[0], "id": "CAM-FAR", "name": "远处摄像机", "lon": SCENE[0] + 0.03})
    return bodies


def post_json(server: ServerProcess, path: str, body: Any) -> Any:
    response = httpx.post(f"{server.url}{path}", json=body, headers={"X-API-Key": server.key}, timeout=10)
    assert response.status_code in (200, 201), response.text
    return response.json()


def report(server: ServerProcess, source: str = "citizen", reporter: str = "") -> int:
    body = {
        "report_id": f"video-test-{time.time()}",
        "source": source,
        "category": "safety.object_thrown_from_height",
        "title": "高空抛物 测试",
        "lon": SCENE[0],
        "lat": SCENE[1],
        "street": CHANGSHOU,
        "observed_at": time.time(),
        "reporter": reporter,
    }
    return int(post_json(server, "/api/reports", body)["incident_id"])


def pixels(image: QImage) -> Any:
    """A copy of the picture's BGRA pixels (a copy: the converted image's memory is freed when
    it goes, and a view into it would read freed memory)."""
    converted = image.convertToFormat(QImage.Format.Format_RGB32)
    view = np.frombuffer(converted.constBits(), np.uint8)
    rows = view.reshape(converted.height(), converted.bytesPerLine() // 4, 4)[:, : converted.width()]
    return np.array(rows, copy=True)


def test_the_wall_follows_the_incident_plays_live_and_attaches_a_snapshot(
    server: ServerProcess, qloop: Loop, consoles: Any
) -> None:
    async def scenario() -> None:
        await asyncio.to_thread(post_json, server, "/api/devices", cameras())
        console = await consoles("officer")
        controller = console.video
        assert controller is not None
        panel, wall = controller.panel, controller.wall
        # One offscreen screen: the console is compact, the wall one of its tabs.
        console.workspace.show_panel("video")
        assert wall.isVisible()
        await until(lambda: controller.started and len(panel.cameras.camera_ids()) == 5, what="the cameras")
        # A first start fills the wall with four of the cameras; the operator clears it.
        assert sum(1 for c in wall.tiles() if c) == 4
        wall.set_grid(1, 1)
        wall.unassign(0)
        wall.set_grid(2, 2)
        assert wall.tiles() == [None] * 4
        await until(lambda: console.sync.state.value == "online", what="the console online")
        incident_id = await asyncio.to_thread(report, server)
        await until(lambda: console.sync.incident(incident_id), what="the incident in the console's cache")
        await console.show_incident(incident_id)
        console.workspace.show_panel("video")  # the detail came forward in the compact layout
        # The four nearest cameras, not the far one, go on the wall and play.
        assert sorted(c for c in wall.tiles() if c) == [f"CAM-NEAR-{i}" for i in range(4)], panel.message()
        assert "#" + str(incident_id) in panel.message()
        await until(
            lambda: all(wall.state(i) is TileState.LIVE and wall.fps(i) >= 8 for i in range(4)),
            timeout=40,
            what=lambda: (
                "four live tiles: "
                + str([(wall.state(i).value, wall.fps(i), wall.feed(i).offered, wall.feed(i).taken) for i in range(4)])
                + f" visible={wall.isVisible()} size={wall.size().toTuple()}"
            ),
        )
        first = [read_stamp_bgra(pixels(wall.grab_frame(i))) for i in range(4)]
        await asyncio.sleep(1.0)
        later = [read_stamp_bgra(pixels(wall.grab_frame(i))) for i in range(4)]
        for a, b in zip(first, later, strict=True):
            assert a is not None and b is not None, "the wall shows the camera's stamp"
            assert b.frame > a.frame and b.captured_ms > a.captured_ms
        console.windows[0].grab().save("/tmp/console_video_4.png")
        # Snapshot of tile 0, attached to the selected incident.
        await controller.snapshot(0)
        assert panel.message_level == "ok", panel.message()

        async def attached() -> Any:
            incident = await console.sync.incident(incident_id)
            entries = [e for e in incident.timeline if e.action is Action.ATTACH] if incident else []
            return entries[0] if entries else None

        await until(attached, what="the attach entry in the incident's timeline")
        entry = await attached()
        assert entry.attachment and wall.tiles()[0] in entry.note
        async with httpx.AsyncClient(timeout=10) as http:
            picture = await http.get(
                f"{server.url}/api/incidents/{incident_id}/attachments/{entry.attachment}",
                headers={"Authorization": f"Bearer {console.sync.token}"},
            )
        assert picture.status_code == 200 and picture.content.startswith(b"\xff\xd8")
        stamp = read_stamp_bgra(pixels(QImage.fromData(picture.content)))
        assert stamp is not None, "the attached picture is the camera's frame"
        # An AI video alarm from a camera lights its tile.
        alarm_camera = wall.tiles()[2]
        assert alarm_camera is not None
        await asyncio.to_thread(report, server, "video_ai", alarm_camera)
        await until(lambda: wall.is_highlighted(2), what="the alarm highlight on the camera's tile")
        # The wall's layout is kept for this workstation.
        saved = json.loads(controller.settings.value(SETTINGS_KEY))
        assert (saved["rows"], saved["cols"]) == (2, 2)
        assert [t["id"] for t in saved["tiles"] if t] == wall.tiles()

    qloop.run(scenario(), timeout=200)


def test_a_snapshot_without_an_incident_says_so(server: ServerProcess, qloop: Loop, consoles: Any) -> None:
    async def scenario() -> None:
        await asyncio.to_thread(post_json, server, "/api/devices", cameras()[:1])
        console = await consoles("officer")
        controller = console.video
        assert controller is not None
        console.workspace.show_panel("video")
        # The first start puts the only camera on the first tile, once it is known.
        await until(lambda: controller.wall.tiles()[0] == "CAM-NEAR-0", what="the camera on the first tile")
        await until(lambda: controller.wall.state(0) is TileState.LIVE, timeout=30, what="the tile live")
        await controller.snapshot(0)
        assert controller.panel.message_level == "warn"
        assert controller.panel.message()

    qloop.run(scenario(), timeout=100)
