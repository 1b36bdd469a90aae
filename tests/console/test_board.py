"""The incident board in a real console: live reports, a street operator's view, offline work
and the conflict inbox."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton
from pytestqt.qtbot import QtBot

from app.domain.model import Action, Status
from console.conftest import Loop
from console.test_detail import post
from support.server import ServerProcess
from support.waiting import until


def board_ids(console: Any) -> list[int]:
    model = console.board.model
    return [model.incident_id(row) for row in range(model.rowCount())]


def test_an_intake_report_appears_on_the_board_within_a_second(
    server: ServerProcess, qloop: Loop, consoles: Any
) -> None:
    async def scenario() -> None:
        console = await consoles("officer")
        await until(lambda: console.sync.state.value == "online", what="online")
        sent = time.monotonic()
        incident_id = await asyncio.to_thread(post, server, 3)
        await until(lambda: incident_id in board_ids(console), timeout=1.0, what="the report on the board")
        assert time.monotonic() - sent < 1.0
        model = console.board.model
        row = model.row_of(incident_id)
        assert row is not None
        await until(lambda: model.record(row) is not None, what="the row's record")
        assert model.data(model.index(row, 2)) == "烟感报警"
        await until(lambda: console.alerts.pending >= 1, what="the alert for an orange incident")

    qloop.run(scenario())


def test_a_street_operator_board_shows_only_its_street(server: ServerProcess, qloop: Loop, consoles: Any) -> None:
    async def scenario() -> None:
        ours = await asyncio.to_thread(post, server, 1)
        theirs = await asyncio.to_thread(post, server, 2, street="310107005")
        console = await consoles("changshou")
        await until(lambda: ours in board_ids(console), what="its street's incident")
        assert theirs not in board_ids(console)

    qloop.run(scenario())


def test_an_action_queues_while_the_server_is_down_and_applies_after_restart(
    server: ServerProcess, qloop: Loop, qtbot: QtBot, consoles: Any
) -> None:
    async def scenario() -> None:
        incident_id = await asyncio.to_thread(post, server, 4)
        console = await consoles("officer")
        await until(lambda: incident_id in board_ids(console), what="the incident")
        await asyncio.to_thread(server.stop)
        await until(lambda: console.sync.state.value == "offline", what="offline")
        await console.show_incident(incident_id)
        button = console.detail.findChild(QPushButton, "action_dispatch")
        assert button.isVisible()
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
        await until(lambda: getattr(console.detail, "outcome_kind", "") == "queued", what="queued offline")
        assert console.windows[0].status.outbox == 1
        await asyncio.to_thread(server.start)
        await until(lambda: getattr(console.detail, "outcome_kind", "") == "accepted", timeout=30, what="applied")

        async def on_server() -> bool:
            incident = await console.sync.incident(incident_id)
            return incident is not None and incident.status is Status.DISPATCHED

        await until(on_server, what="the dispatch from the server")
        await until(lambda: console.windows[0].status.outbox == 0, what="the outbox emptied")

    qloop.run(scenario(), timeout=60)


def test_a_rejected_command_lands_in_the_conflict_inbox(server: ServerProcess, qloop: Loop, consoles: Any) -> None:
    async def scenario() -> None:
        incident_id = await asyncio.to_thread(post, server, 5)
        first = await consoles("officer")
        second = await consoles("officer2")
        for console in (first, second):
            await until(lambda c=console: incident_id in board_ids(c), what="the incident everywhere")
        # Both dispatch the same incident at once: the workflow lets one win.
        receipts = await asyncio.gather(
            first.sync.submit(incident_id, Action.DISPATCH, "甲派单"),
            second.sync.submit(incident_id, Action.DISPATCH, "乙派单", unit="310107015.safety"),
        )
        assert [r.state for r in receipts] == ["sent", "sent"]
        outcomes = await asyncio.gather(*(r.result for r in receipts))
        assert sorted(o.accepted for o in outcomes) == [False, True]
        loser = second if outcomes[0].accepted else first
        await until(lambda: loser.windows[0].status.conflicts == 1, what="the conflict in the status bar")
        conflicts = await loser.sync.conflicts()
        assert len(conflicts) == 1 and "dispatched" in conflicts[0].reason
        # The operator opens the inbox from the status bar, reads the reason, resolves it.
        loser.windows[0].status.conflicts_requested.emit()
        await until(lambda: loser.conflict_inbox is not None and loser.conflict_inbox.table.rowCount() == 1)
        inbox = loser.conflict_inbox
        assert "dispatched" in inbox.table.item(0, 4).text()
        inbox.resolve_button.click()
        await until(lambda: inbox.table.rowCount() == 0, what="the conflict resolved")
        await until(lambda: loser.windows[0].status.conflicts == 0, what="the status bar cleared")

    qloop.run(scenario())
