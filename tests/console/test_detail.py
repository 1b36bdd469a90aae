"""The detail panel in a real console: live data, actions through its buttons, outcomes shown."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QPushButton
from pytestqt.qtbot import QtBot

from app.console.app import ConsoleOptions
from app.console.console import Console
from app.domain.model import Action, Status
from console.conftest import PASSWORD, Loop
from support.server import ServerProcess


def _post(server: ServerProcess, n: int, category: str = "fire.smoke_alarm", source: str = "sensor") -> int:
    body = {
        "report_id": f"console-test-{n}-{time.time()}",
        "source": source,
        "category": category,
        "title": f"测试事件 {n}",
        "lon": 121.438 + 0.003 * n,
        "lat": 31.242,
        "street": "310107015",
    }
    response = httpx.post(f"{server.url}/api/reports", json=body, headers={"X-API-Key": server.key}, timeout=10)
    assert response.status_code == 201, response.text
    return int(response.json()["incident_id"])


def _console(server: ServerProcess, tmp_path: Path, user: str) -> Console:
    options = ConsoleOptions(server=server.url, cache_dir=tmp_path / f"cache-{user}", user=user, password=PASSWORD)
    return Console(options)


def test_dispatch_through_the_detail_button_reaches_the_server_and_another_console(
    server: ServerProcess, qloop: Loop, qtbot: QtBot, tmp_path: Path
) -> None:
    first = _console(server, tmp_path, "officer")
    second = _console(server, tmp_path, "officer2")
    assert qloop.run(first.start()) and qloop.run(second.start())
    incident_id = _post(server, 1)
    assert first.sync is not None and second.sync is not None
    qloop.until(lambda: first.sync.incident(incident_id), what="the incident in the first console")  # type: ignore[union-attr]
    qloop.run(first.show_incident(incident_id))
    detail = first.detail
    assert detail is not None and detail.incident is not None
    assert detail.incident.status is Status.REGISTERED
    offered = detail.allowed_actions()
    assert Action.DISPATCH in offered and Action.ACCEPT not in offered  # the workflow and the role decide
    button = detail.findChild(QPushButton, "action_dispatch")
    assert button is not None and button.isVisible()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qloop.until(lambda: getattr(detail, "outcome_kind", "") == "accepted", what="the accepted outcome")

    async def dispatched_in_second() -> bool:
        incident = await second.sync.incident(incident_id)  # type: ignore[union-attr]
        return incident is not None and incident.status is Status.DISPATCHED

    qloop.until(dispatched_in_second, what="the dispatch in the second console")
    # The first console's panel follows the live change too.
    qloop.until(lambda: detail.incident is not None and detail.incident.status is Status.DISPATCHED)
    assert detail.findChild(QPushButton, "action_dispatch").isHidden()
    qloop.run(first.stop())
    qloop.run(second.stop())


def test_every_window_carries_the_watermark(server: ServerProcess, qloop: Loop, tmp_path: Path) -> None:
    console = _console(server, tmp_path, "officer")
    assert qloop.run(console.start())
    window = console.windows[0]
    assert window.watermark is not None
    assert "值班员甲" in window.watermark.mark()
    assert time.strftime("%Y-%m-%d") in window.watermark.mark()
    image: QImage = window.grab().toImage()
    path = tmp_path / "window.png"
    assert image.save(str(path))
    # The faint grey of the mark shows on the plain background: more than two colours there.
    colours = {image.pixel(x, y) for x in range(0, image.width() // 4, 3) for y in range(0, image.height(), 3)}
    assert len(colours) > 2
    qloop.run(console.stop())
