"""Signing in: the dialog, the session in the OS keyring (an in-memory backend stands in for
the Secret Service here), and a start without the server from the cache."""

from __future__ import annotations

import asyncio
from typing import Any

from PySide6.QtWidgets import QApplication, QDialogButtonBox, QPushButton

from app.domain.model import Status
from console.conftest import PASSWORD, Loop
from console.test_board import board_ids
from console.test_detail import post
from support.server import ServerProcess
from support.waiting import until
from widgets.common.login import LoginDialog


def _dialog() -> LoginDialog:
    dialogs = [w for w in QApplication.topLevelWidgets() if isinstance(w, LoginDialog) and w.isVisible()]
    assert dialogs, "no sign-in dialog is open"
    return dialogs[-1]


def test_the_dialog_refuses_a_wrong_password_and_signs_in_with_the_right_one(
    server: ServerProcess, qloop: Loop, consoles: Any
) -> None:
    async def scenario() -> None:
        console = await consoles("officer", dialog=True)
        started = asyncio.ensure_future(console.start())
        await until(lambda: any(isinstance(w, LoginDialog) and w.isVisible() for w in QApplication.topLevelWidgets()))
        dialog = _dialog()
        dialog.user.setText("officer")
        dialog.password.setText("wrong")
        dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
        await until(lambda: "拒绝" in dialog.error.text(), what="the refusal in the dialog")
        dialog.password.setText(PASSWORD)
        dialog.remember.setChecked(True)
        dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
        assert await asyncio.wait_for(started, 20)
        stored = console.credentials.load(server.url, "officer")
        assert stored is not None and stored.token and stored.password == PASSWORD
        assert console.credentials.last_user(server.url) == "officer"

    qloop.run(scenario())


def test_without_remember_me_only_the_token_is_kept(server: ServerProcess, qloop: Loop, consoles: Any) -> None:
    async def scenario() -> None:
        console = await consoles("officer")
        stored = console.credentials.load(server.url, "officer")
        assert stored is not None and stored.token and stored.password is None

    qloop.run(scenario())


def test_with_the_server_down_a_remembered_user_starts_from_the_cache_and_work_queues(
    server: ServerProcess, qloop: Loop, consoles: Any
) -> None:
    async def scenario() -> None:
        incident_id = await asyncio.to_thread(post, server, 6)
        first = await consoles("officer", remember=True)
        await until(lambda: incident_id in board_ids(first), what="the incident in the cache")
        await first.stop()
        await asyncio.to_thread(server.stop)
        offline = await consoles("officer", remember=True)
        assert offline.offline_start
        await until(lambda: incident_id in board_ids(offline), what="the board from the cache")
        await offline.show_incident(incident_id)
        offline.detail.findChild(QPushButton, "action_dispatch").click()
        await until(lambda: getattr(offline.detail, "outcome_kind", "") == "queued", what="queued offline")
        await asyncio.to_thread(server.start)
        await until(lambda: getattr(offline.detail, "outcome_kind", "") == "accepted", timeout=30, what="applied")
        incident = await offline.sync.incident(incident_id)
        assert incident is not None and incident.status is Status.DISPATCHED

    qloop.run(scenario(), timeout=60)


def test_offline_a_wrong_password_is_refused(server: ServerProcess, qloop: Loop, consoles: Any) -> None:
    async def scenario() -> None:
        first = await consoles("officer", remember=True)
        await first.stop()
        await asyncio.to_thread(server.stop)
        try:
            await consoles("officer", password="not-it", remember=True)
        except Exception as exc:  # AuthError from the remembered credentials
            assert "wrong user name or password" in str(exc)
        else:
            raise AssertionError("an offline start with a wrong password was accepted")

    qloop.run(scenario())
