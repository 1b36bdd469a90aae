"""The detail panel in a real console: live data, actions through its buttons, outcomes shown;
and the watermark on every window."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QPushButton
from pytestqt.qtbot import QtBot

from app.domain.model import Action, Status
from console.conftest import Loop
from support.server import ServerProcess
from support.waiting import until


def post(
    server: ServerProcess, n: int, category: str = "fire.smoke_alarm", source: str = "sensor", street: str = "310107015"
) -> int:
    """Post a report through the intake API (blocking: call it in a thread from a scenario)."""
    body = {
        "report_id": f"console-test-{n}-{time.time()}",
        "source": source,
        "category": category,
        "title": f"测试事件 {n}",
        "lon": (121.438 if street == "310107015" else 121.405) + 0.003 * n,
        "lat": 31.242,
        "street": street,
    }
    response = httpx.post(f"{server.url}/api/reports", json=body, headers={"X-API-Key": server.key}, timeout=10)
    assert response.status_code == 201, response.text
    return int(response.json()["incident_id"])


def test_dispatch_through_the_detail_button_reaches_the_server_and_another_console(
    server: ServerProcess, qloop: Loop, qtbot: QtBot, consoles: Any
) -> None:
    async def scenario() -> None:
        first = await consoles("officer")
        second = await consoles("officer2")
        incident_id = await asyncio.to_thread(post, server, 1)
        await until(lambda: first.sync.incident(incident_id), what="the incident in the first console")
        await first.show_incident(incident_id)
        detail = first.detail
        assert detail.incident is not None and detail.incident.status is Status.REGISTERED
        offered = detail.allowed_actions()
        assert Action.DISPATCH in offered and Action.ACCEPT not in offered  # the workflow and the role decide
        button = detail.findChild(QPushButton, "action_dispatch")
        assert button is not None and button.isVisible()
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
        await until(lambda: getattr(detail, "outcome_kind", "") == "accepted", what="the accepted outcome")

        async def dispatched_in_second() -> bool:
            incident = await second.sync.incident(incident_id)
            return incident is not None and incident.status is Status.DISPATCHED

        await until(dispatched_in_second, what="the dispatch in the second console")
        # The first console's panel follows the live change too.
        await until(lambda: detail.incident is not None and detail.incident.status is Status.DISPATCHED)
        assert detail.findChild(QPushButton, "action_dispatch").isHidden()

    qloop.run(scenario())


def test_every_window_carries_the_watermark(server: ServerProcess, qloop: Loop, consoles: Any) -> None:
    async def scenario() -> None:
        console = await consoles("officer")
        window = console.windows[0]
        assert window.watermark is not None
        assert "值班员甲" in window.watermark.mark()
        assert time.strftime("%Y-%m-%d") in window.watermark.mark()
        image: QImage = window.grab().toImage()
        # The faint grey of the mark shows on the plain background: more than two colours there.
        colours = {image.pixel(x, y) for x in range(0, image.width() // 4, 3) for y in range(0, image.height(), 3)}
        assert len(colours) > 2

    qloop.run(scenario())
