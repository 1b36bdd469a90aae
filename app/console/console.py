"""The running console: sign-in, the session's services, the windows and their wiring."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QApplication, QMessageBox

from app.console.app import ConsoleOptions, cache_path, grab_screens
from app.console.window import ScreenWindow, board_and_detail, placeholder
from app.domain.model import Action
from app.domain.permissions import Principal, Role
from app.services.events import (
    CommandSettled,
    ConnectionChanged,
    Event,
    IncidentsChanged,
    OutboxChanged,
)
from app.services.sync import SyncService
from app.storage.cache import ConsoleCache
from app.storage.catalog_file import read_catalog
from comms.client import AuthError, LoginResult, ServerUnreachable, login
from widgets.common.login import LoginDialog
from widgets.incidents.detail import IncidentDetail

log = logging.getLogger(__name__)

ROLE_NAMES_ZH = {
    "district_officer": "区城运中心值班员",
    "street_operator": "街镇城运中心",
    "professional_center": "专业指挥中心",
    "field_commander": "现场指挥员",
    "trainer": "演练教员",
    "auditor": "审计员",
    "admin": "管理员",
}


class Console(QObject):
    """One operator's console session from sign-in to quit."""

    def __init__(self, options: ConsoleOptions) -> None:
        super().__init__()
        self.options = options
        self.catalog = read_catalog()
        self.windows: list[ScreenWindow] = []
        self.sync: SyncService | None = None
        self.detail: IncidentDetail | None = None
        self._quit = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()

    # -- sign-in ---------------------------------------------------------------------------------
    async def sign_in(self) -> LoginResult | None:
        """Credentials from the command line, or the dialog until they are accepted."""
        if self.options.user and self.options.password:
            return await login(self.options.server, self.options.user, self.options.password)
        dialog = LoginDialog(self.options.server, self.options.user or "")
        result: asyncio.Future[LoginResult | None] = asyncio.get_running_loop().create_future()

        def submitted(user: str, password: str, _remember: bool) -> None:
            async def attempt() -> None:
                try:
                    session = await login(self.options.server, user, password)
                except AuthError as exc:
                    dialog.show_error(self.tr("Sign-in refused: %1").replace("%1", str(exc)))
                except ServerUnreachable as exc:
                    dialog.show_error(self.tr("Server unreachable: %1").replace("%1", str(exc)))
                else:
                    if not result.done():
                        result.set_result(session)
                    dialog.accept()

            self._spawn(attempt())

        dialog.submitted.connect(submitted)

        def cancelled() -> None:
            if not result.done():
                result.set_result(None)

        dialog.rejected.connect(cancelled)
        dialog.show()
        return await result

    # -- the session -------------------------------------------------------------------------------
    async def run(self) -> int:
        """Sign in, work until the last window closes (or ``quit_after``), shut down."""
        try:
            started = await self.start()
        except (AuthError, ServerUnreachable) as exc:
            log.error("cannot sign in: %s", exc)
            return 2
        if not started:
            return 1
        if self.options.quit_after is not None:
            self._spawn(self._quit_later(self.options.quit_after))
        app = QApplication.instance()
        assert isinstance(app, QApplication)
        app.lastWindowClosed.connect(self._quit.set)
        await self._quit.wait()
        await self.stop()
        return 0

    async def start(self) -> bool:
        """Sign in, open the windows and start syncing; False when the operator cancelled."""
        session = await self.sign_in()
        if session is None:
            return False
        principal = Principal(session.user, Role(session.role), session.street, session.field, session.display_name)
        self.cache = ConsoleCache(cache_path(self.options.cache_dir, self.options.server, session.user))
        self.sync = SyncService(
            self.options.server, session.token, principal, self.cache, self.catalog, client_name="console"
        )
        self.sync.store.subscribe(self._on_event)
        self._build_windows(principal)
        self.sync.start()
        return True

    async def stop(self) -> None:
        """Stop syncing, close the cache and the windows."""
        for task in list(self._tasks):
            task.cancel()
        if self.sync is not None:
            await self.sync.stop()
            self.sync.cache.close()
        for window in self.windows:
            window.close()
            window.deleteLater()
        self.windows.clear()

    def _build_windows(self, principal: Principal) -> None:
        role = ROLE_NAMES_ZH.get(principal.role.value, principal.role.value)
        watermark = f"{principal.display_name or principal.name} ({principal.name})"
        main = ScreenWindow("incidents", self.tr("CityOps Console — incidents"), watermark)
        self.detail = IncidentDetail(self.catalog, principal, self.options.language)
        self.detail.action_requested.connect(self._on_action)
        board = placeholder(self.tr("Incident board"))
        main.set_content(board_and_detail(board, self.detail))
        main.status.set_user(f"{principal.display_name or principal.name} · {role}")
        main.status.conflicts_requested.connect(self._show_conflicts)
        main.resize(1600, 900)
        main.show()
        self.windows.append(main)

    # -- events from the services ------------------------------------------------------------------
    def _on_event(self, event: Event) -> None:
        if isinstance(event, ConnectionChanged):
            for window in self.windows:
                window.status.set_connection(event.state.value, event.detail, event.last_sync_at)
        elif isinstance(event, OutboxChanged):
            for window in self.windows:
                window.status.set_outbox(event.size, event.conflicts)
        elif isinstance(event, IncidentsChanged):
            shown = self.detail.incident if self.detail else None
            if shown is not None and (event.reset or shown.id in event.ids):
                self._spawn(self._refresh_detail(shown.id))
        elif isinstance(event, CommandSettled) and not event.accepted:
            log.info("command %s rejected: %s", event.key, event.reason)

    async def show_incident(self, incident_id: int) -> None:
        await self._refresh_detail(incident_id)

    async def _refresh_detail(self, incident_id: int) -> None:
        assert self.sync is not None and self.detail is not None
        self.detail.set_incident(await self.sync.incident(incident_id))

    # -- operator actions --------------------------------------------------------------------------
    def _on_action(self, incident_id: int, action: str, note: str, unit: str, target: int) -> None:
        self._spawn(self._act(incident_id, Action(action), note, unit or None, target or None))

    async def _act(self, incident_id: int, action: Action, note: str, unit: str | None, target: int | None) -> None:
        assert self.sync is not None and self.detail is not None
        receipt = await self.sync.submit(incident_id, action, note, unit=unit, target_id=target)
        if receipt.state == "refused":
            self.detail.show_outcome("rejected", receipt.reason)
            return
        if receipt.state == "queued":
            self.detail.show_outcome("queued", self.tr("the command waits in the outbox and is sent on reconnect"))
        settled = await receipt.result
        if self.detail.incident is None or self.detail.incident.id != incident_id:
            return
        if settled.accepted:
            self.detail.show_outcome("accepted", "")
        else:
            self.detail.show_outcome("rejected", settled.reason)

    def _show_conflicts(self) -> None:
        async def show() -> None:
            assert self.sync is not None
            conflicts = await self.sync.conflicts()
            lines = [f"#{c.command.incident_id} {c.command.action.value}: {c.reason}" for c in conflicts]
            QMessageBox.information(
                self.windows[0], self.tr("Conflict inbox"), "\n".join(lines) or self.tr("No conflicts.")
            )

        self._spawn(show())

    # -- plumbing ----------------------------------------------------------------------------------
    async def _quit_later(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
        if self.options.screenshot_dir is not None:
            for path in grab_screens(list(self.windows), self.options.screenshot_dir):
                print(f"screenshot: {path}", flush=True)
        self._quit.set()

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
