"""The running console: sign-in, the session's services, the windows and their wiring."""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import msgspec
from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QApplication, QVBoxLayout, QWidget

from app.console.app import ConsoleOptions, cache_path, grab_screens
from app.console.calls import CallsController, CallsPanel
from app.console.mapping import MapController, MapPanel, load_district_or_none
from app.console.qt import collect_on_qt_thread
from app.console.video import VideoController
from app.console.vitals import VitalsController, VitalsPanel
from app.console.window import ScreenWindow, placeholder
from app.console.workspace import PROFILES, ROLE_PROFILES, Workspace
from app.domain.district import DistrictMap
from app.domain.model import OPEN_STATUSES, Action, Incident, Severity, Status
from app.domain.permissions import Principal, Role
from app.domain.records import IDX
from app.services.board import ALL_STATUSES, BoardFilter, BoardService, BoardSort
from app.services.calls import CallService, local_camera
from app.services.events import (
    CommandSettled,
    ConnectionChanged,
    ConnectionState,
    Event,
    IncidentsChanged,
    OutboxChanged,
)
from app.services.mapdata import MapService
from app.services.sync import SyncService
from app.services.video import VideoService
from app.services.vitals import VitalsService
from app.storage.cache import ConsoleCache
from app.storage.catalog_file import read_catalog
from comms.client import AuthError, LoginResult, ServerUnreachable, login
from comms.credentials import CredentialStore, CredentialStoreUnavailable
from widgets.common.alerts import Alert, AlertPanel
from widgets.common.login import LoginDialog
from widgets.common.names import Names
from widgets.common.tasks import TaskSet
from widgets.incidents.board import IncidentBoard
from widgets.incidents.conflicts import ConflictInbox, ConflictRow
from widgets.incidents.detail import IncidentDetail
from widgets.map.view2d import STREET_SCALE
from widgets.video.panel import VideoWallPanel

log = logging.getLogger(__name__)

OPEN_VALUES = frozenset(s.value for s in OPEN_STATUSES)
T = TypeVar("T")
PRINCIPAL_KEY = "principal"


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
        self._alerted: set[int] = set()
        self.credentials = CredentialStore(options.keyring)
        self._keyring_warned = False
        self._password: str | None = None
        #: Whether this session started from the cache with the server unreachable.
        self.offline_start = False
        self.conflict_inbox: ConflictInbox | None = None
        self.map: MapController | None = None
        self._district: tuple[DistrictMap | None, str] = (None, "")
        self.vitals: VitalsController | None = None
        self.video: VideoController | None = None
        self.calls: CallsController | None = None
        self.map_panel: MapPanel | None = None
        # The board and the alerts need no signed-in person; they are made before sign-in.
        self.board = IncidentBoard(self.catalog, options.language)
        self.board.filter_changed.connect(self._on_filter)
        self.board.model.sort_requested.connect(self._on_sort)
        self.board.incident_selected.connect(self._on_board_selected)
        self.board.preset_saved.connect(lambda name, values: self._spawn(self._save_preset(name, values)))
        self.alerts = AlertPanel()
        self.alerts.open_incident.connect(lambda incident_id: self._spawn(self.show_incident(incident_id)))
        self._counts_timer = QTimer(self)
        self._counts_timer.setSingleShot(True)
        self._counts_timer.timeout.connect(lambda: self._spawn(self._update_counts()))
        self._counts_ticker = QTimer(self)
        self._counts_ticker.timeout.connect(lambda: self._counts_timer.isActive() or self._counts_timer.start(0))
        self._filter = BoardFilter()
        self._sort = BoardSort()
        self._alert_candidates: set[int] = set()
        self._alert_timer = QTimer(self)
        self._alert_timer.setSingleShot(True)
        self._alert_timer.timeout.connect(lambda: self._spawn(self._alert_new()))
        # Alerts are for what happens while the operator watches, not for the first snapshot.
        self._snapshot_done = False
        self._tasks = TaskSet()

    # -- sign-in ---------------------------------------------------------------------------------
    async def sign_in(self) -> LoginResult | None:
        """Credentials from the command line, or the dialog until they are accepted. With the
        server unreachable, a user whose credentials this workstation remembers starts offline
        from the cache."""
        if self.options.user and self.options.password:
            return await self._authenticate(self.options.user, self.options.password, self.options.remember)
        last = await self._keyring(self.credentials.async_last_user(self.options.server))
        dialog = LoginDialog(self.options.server, self.options.user or last or "")
        result: asyncio.Future[LoginResult | None] = asyncio.get_running_loop().create_future()

        def submitted(user: str, password: str, remember: bool) -> None:
            async def attempt() -> None:
                try:
                    session = await self._authenticate(user, password, remember)
                except AuthError as exc:
                    dialog.show_error(self.tr("Sign-in refused: %1").replace("%1", str(exc)))
                except ServerUnreachable as exc:
                    dialog.show_error(self.tr("Server unreachable: %1").replace("%1", str(exc)))
                else:
                    if not result.done():
                        result.set_result(session)
                    dialog.accept()

            self._spawn(attempt())

        def cancelled() -> None:
            if not result.done():
                result.set_result(None)

        dialog.submitted.connect(submitted)
        dialog.rejected.connect(cancelled)
        dialog.show()
        return await result

    async def _authenticate(self, user: str, password: str, remember: bool) -> LoginResult:
        """Sign in at the server and remember the session in the OS keyring; offline, accept
        the credentials this workstation remembers."""
        server = self.options.server
        try:
            session = await login(server, user, password)
        except ServerUnreachable:
            stored = await self._keyring(self.credentials.async_load(server, user))
            principal = await asyncio.to_thread(stored_principal, self.options.cache_dir, server, user)
            if stored is None or stored.password is None or principal is None:
                raise
            if not hmac.compare_digest(stored.password, password):
                raise AuthError("wrong user name or password") from None
            self.offline_start = True
            log.warning("server unreachable: %s starts offline from the cache", user)
            return LoginResult(
                token=stored.token,
                expires_at=stored.expires_at,
                user=principal.name,
                role=principal.role.value,
                street=principal.street,
                field=principal.field,
                display_name=principal.display_name,
            )
        keep = password if remember else None
        if not remember:
            existing = await self._keyring(self.credentials.async_load(server, user))
            keep = existing.password if existing is not None and existing.password == password else None
        await self._keyring(self.credentials.async_save(server, user, session.token, session.expires_at, keep))
        self._password = password
        return session

    async def _keyring(self, call: Coroutine[Any, Any, T]) -> T | None:
        """A keyring call that reports, once, when there is no keyring, and carries on."""
        try:
            return await call
        except CredentialStoreUnavailable as exc:
            if not self._keyring_warned:
                self._keyring_warned = True
                log.warning("%s", exc)
            return None

    async def _relogin(self) -> str:
        """A new token when the server refused the old one (it expired), from the password of
        this session."""
        assert self.sync is not None
        if not self._password:
            raise AuthError("the session expired; sign in again")
        session = await login(self.options.server, self.sync.principal.name, self._password)
        await self._keyring(
            self.credentials.async_save(self.options.server, session.user, session.token, session.expires_at, None)
        )
        return session.token

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
        app = QApplication.instance()
        if isinstance(app, QApplication):
            collect_on_qt_thread(app)  # threads (video, cache) must never finalise Qt objects
        session = await self.sign_in()
        if session is None:
            return False
        principal = Principal(session.user, Role(session.role), session.street, session.field, session.display_name)
        cache = ConsoleCache(cache_path(self.options.cache_dir, self.options.server, session.user))
        await asyncio.to_thread(remember_principal, cache, principal)
        self.sync = SyncService(
            self.options.server,
            session.token,
            principal,
            cache,
            self.catalog,
            client_name="console",
            relogin=self._relogin,
        )
        self.sync.store.subscribe(self._on_event)
        # Once per process (a third of a second): on this thread, because a worker thread that
        # allocates this much runs the garbage collector there, and Qt objects must not be
        # destroyed off the Qt thread.
        self._district = load_district_or_none()
        self._build_windows(principal)
        self.sync.start()
        return True

    async def stop(self) -> None:
        """Stop syncing, close the cache and the windows."""
        self._tasks.cancel_all()
        if self.windows:
            self.workspace.save()  # where the operator left windows and docks, for next time
        self.board.model.stop()
        if self.map is not None:
            self.map.stop()
        if self.vitals is not None:
            await self.vitals.stop()
        if self.video is not None:
            await self.video.stop()
        if self.calls is not None:
            await self.calls.stop()
        self._counts_timer.stop()
        self._counts_ticker.stop()
        self._alert_timer.stop()
        if self.sync is not None:
            await self.sync.stop()
            self.sync.cache.close()
        if self.conflict_inbox is not None:
            self.conflict_inbox.close()
        for window in self.windows:
            window.close()
            window.deleteLater()
        self.windows.clear()

    def _build_windows(self, principal: Principal) -> None:
        assert self.sync is not None
        role = self.role_name(principal.role.value)
        watermark = f"{principal.display_name or principal.name} ({principal.name})"
        self.board_service = BoardService(self.sync)
        self.detail = IncidentDetail(self.catalog, principal, self.options.language)
        self.detail.action_requested.connect(self._on_action)
        self.detail.command_session_requested.connect(lambda _id: self._spawn(self.open_command_session()))
        profile = PROFILES[self.options.profile or ROLE_PROFILES.get(principal.role.value, "street")]
        self.workspace = Workspace(
            profile,
            self._make_panel,
            self.options.cache_dir / "workspace.ini",
            self.tr("CityOps Console — %1").replace("%1", principal.display_name or principal.name),
            watermark,
        )
        self.windows = self.workspace.build()
        if profile.touch:
            self.board.view.verticalHeader().setDefaultSectionSize(44)
        menu = self.windows[0].menuBar().addMenu(self.tr("Workspace"))
        menu.addAction(self.tr("Conflict inbox"), self._show_conflicts)
        menu.addAction(self.tr("Save layout"), self.workspace.save)
        menu.addAction(self.tr("Reset layout"), self.workspace.reset)
        for window in self.windows:
            window.status.set_user(f"{principal.display_name or principal.name} · {role}")
            window.status.conflicts_requested.connect(self._show_conflicts)
        self._apply_board_query()
        self._spawn(self._load_presets())
        if self.map is not None:
            self.map.start()
        if self.vitals is not None:
            self.vitals.start()
        if self.video is not None:
            self._spawn(self.video.start())
        if self.calls is not None:
            self.calls.start()
        # Time makes incidents overdue without any change: count again every few seconds.
        self._counts_ticker.start(5000)
        self._counts_timer.start(0)

    def role_name(self, role: str) -> str:
        return {
            "district_officer": self.tr("District watch officer"),
            "street_operator": self.tr("Street operations center"),
            "professional_center": self.tr("Professional center"),
            "field_commander": self.tr("Field commander"),
            "trainer": self.tr("Trainer"),
            "auditor": self.tr("Auditor"),
            "admin": self.tr("Administrator"),
        }.get(role, role)

    def _make_panel(self, name: str) -> tuple[str, QWidget]:
        if name == "board":
            panel = QWidget()
            layout = QVBoxLayout(panel)
            layout.setContentsMargins(0, 0, 0, 0)
            layout.addWidget(self.alerts)
            layout.addWidget(self.board, 1)
            self.alerts.setMaximumHeight(160)
            return self.tr("Incidents"), panel
        if name == "detail":
            assert self.detail is not None
            return self.tr("Incident detail"), self.detail
        if name == "map":
            assert self.sync is not None
            district, problem = self._district
            panel = MapPanel(district, problem, self.options.language)
            panel.incidentActivated.connect(lambda incident_id: self._spawn(self.show_incident(incident_id)))
            panel.deviceActivated.connect(lambda device_id: self._spawn(self._show_device(device_id)))
            self.map_panel = panel
            self.map = MapController(panel, MapService(self.sync), self.board_service.rows)
            return self.tr("Map"), panel
        if name == "vitals":
            assert self.sync is not None
            vitals_panel = VitalsPanel(self.catalog, self.options.language)
            self.vitals = VitalsController(
                vitals_panel,
                VitalsService(self.sync),
                self.options.server,
                lambda: self.sync.token if self.sync else "",
                self.catalog,
                self.options.cache_dir / "reports",
            )
            return self.tr("Vital signs"), vitals_panel
        if name == "video":
            assert self.sync is not None
            video_panel = VideoWallPanel()
            sync = self.sync
            self.video = VideoController(
                video_panel,
                VideoService(sync),
                settings=self.workspace.settings,
                server_url=self.options.server,
                token=lambda: sync.token,
                selected_incident=lambda: self.detail.incident if self.detail is not None else None,
                rows=self.board_service.rows,
                street_names={code: s.name.get(self.options.language) for code, s in self.catalog.streets.items()},
                pending_dir=self.options.cache_dir / "snapshots-pending",
            )
            return self.tr("Video wall"), video_panel
        if name == "calls":
            assert self.sync is not None
            calls_panel = CallsPanel()
            self.calls = CallsController(
                calls_panel,
                CallService(self.sync, camera=local_camera()),
                self.sync.principal,
                self.catalog,
                street_names={code: s.name.get(self.options.language) for code, s in self.catalog.streets.items()},
                pin_cameras=lambda incident: self.video.incident_selected(incident, pin=True) if self.video else None,
                focus_map=self._focus_map,
                show_panel=lambda: self.workspace.show_panel("calls"),
                notify=self._notify,
                language=self.options.language,
            )
            return self.tr("Conference and talk groups"), calls_panel
        planned = {
            "drill": (self.tr("Drill"), self.tr("Drill recording and playback — coming with the training release")),
        }
        title, text = planned[name]
        return title, placeholder(text)

    # -- the board ---------------------------------------------------------------------------------
    def _apply_board_query(self) -> None:
        board_filter, sort = self._filter, self._sort
        self.board.model.set_queries(lambda: self.board_service.ids(board_filter, sort), self.board_service.rows)

    def _on_filter(self, values: dict[str, Any]) -> None:
        self._filter = board_filter(values)
        self._apply_board_query()

    def _on_sort(self, column: str, ascending: bool) -> None:
        self._sort = BoardSort(column=column, ascending=ascending)  # type: ignore[arg-type]
        self._apply_board_query()

    async def _load_presets(self) -> None:
        presets = await self.board_service.presets()
        self.board.set_presets({name: filter_values(saved) for name, (saved, _sort) in presets.items()})

    async def _save_preset(self, name: str, values: dict[str, Any]) -> None:
        await self.board_service.save_preset(name, board_filter(values), self._sort)
        await self._load_presets()

    async def _update_counts(self) -> None:
        counts = await self.board_service.counts()
        for window in self.windows:
            window.status.set_overdue(counts.overdue)

    async def _alert_new(self) -> None:
        """A new red or orange incident raises an alert, once."""
        fresh = [i for i in self._alert_candidates if i not in self._alerted]
        self._alert_candidates = set()
        if not fresh:
            return
        alerts = []
        for record in (await self.board_service.rows(fresh)).values():
            incident_id, severity, status = record[IDX["id"]], record[IDX["severity"]], record[IDX["status"]]
            assert isinstance(incident_id, int) and isinstance(severity, int)
            if severity <= 2 and status in OPEN_VALUES and incident_id not in self._alerted:
                self._alerted.add(incident_id)
                alerts.append(Alert(incident_id, severity, str(record[IDX["title"]]), time.time()))
        self.alerts.raise_alerts(sorted(alerts, key=lambda a: a.incident_id))

    # -- events from the services ------------------------------------------------------------------
    def _on_event(self, event: Event) -> None:
        if self.map is not None:
            self.map.on_event(event)
        if self.video is not None:
            self.video.on_event(event)
        if isinstance(event, ConnectionChanged):
            if event.state is ConnectionState.ONLINE:
                self._snapshot_done = True
            for window in self.windows:
                window.status.set_connection(event.state.value, event.detail, event.last_sync_at)
        elif isinstance(event, OutboxChanged):
            for window in self.windows:
                window.status.set_outbox(event.size, event.conflicts)
        elif isinstance(event, IncidentsChanged):
            self.board.model.changed(event.ids, event.reset)
            if not self._counts_timer.isActive():
                self._counts_timer.start(500)
            if self._snapshot_done and not event.reset:
                # Bursts are checked for alerts twice a second, not change by change.
                self._alert_candidates |= event.ids
                if not self._alert_timer.isActive():
                    self._alert_timer.start(500)
            shown = self.detail.incident if self.detail else None
            if shown is not None and (event.reset or shown.id in event.ids):
                self._spawn(self._refresh_detail(shown.id))
        elif isinstance(event, CommandSettled) and not event.accepted:
            log.info("command %s rejected: %s", event.key, event.reason)

    def _on_board_selected(self, incident_id: int) -> None:
        shown = self.detail.incident if self.detail is not None else None
        if shown is not None and shown.id == incident_id:
            # Already shown (often the board following a selection made on the map): bring the
            # panel forward without reading the incident again.
            self.workspace.show_panel("detail")
            return
        self._spawn(self.show_incident(incident_id))

    async def show_incident(self, incident_id: int) -> None:
        """Show an incident in the detail panel and bring the panel forward."""
        await self._refresh_detail(incident_id)
        self.workspace.show_panel("detail")
        if self.video is not None and self.detail is not None and self.detail.incident is not None:
            self.video.incident_selected(self.detail.incident)
        if self.map is not None:
            self.map.select(incident_id)
        self.board.select_incident(incident_id)

    async def open_command_session(self) -> None:
        """The fused command session of the incident in the detail panel."""
        incident = self.detail.incident if self.detail is not None else None
        if incident is None or self.calls is None:
            return
        await self.calls.open_command_session(incident)

    def _focus_map(self, incident: Incident) -> None:
        view = self.map_panel.view2d if self.map_panel is not None else None
        if view is not None:
            view.center_on(incident.location.lon, incident.location.lat, STREET_SCALE)
        if self.map is not None:
            self.map.select(incident.id)

    def _notify(self, text: str) -> None:
        for window in self.windows:
            window.status.showMessage(text, 15_000)

    async def _show_device(self, device_id: str) -> None:
        if self.map is None:
            return
        text = await self.map.describe_device(device_id)
        for window in self.windows:
            window.status.showMessage(text, 10_000)

    async def _refresh_detail(self, incident_id: int) -> None:
        assert self.sync is not None and self.detail is not None
        self.detail.set_incident(await self.sync.incident(incident_id))

    # -- operator actions --------------------------------------------------------------------------
    def _on_action(self, incident_id: int, action: str, note: str, unit: str, target: int) -> None:
        self._spawn(self._act(incident_id, Action(action), note, unit or None, target or None))

    async def _act(self, incident_id: int, action: Action, note: str, unit: str | None, target: int | None) -> None:
        assert self.sync is not None and self.detail is not None
        try:
            receipt = await self.sync.submit(incident_id, action, note, unit=unit, target_id=target)
        except Exception as exc:  # a broken cache must not leave the operator guessing
            log.exception("action %s on %d failed", action.value, incident_id)
            reason = self.tr("the console could not record the action: %1").replace("%1", str(exc))
            self.detail.show_outcome("rejected", reason)
            return
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
        if self.conflict_inbox is None:
            inbox = ConflictInbox(self.windows[0] if self.windows else None)
            inbox.resolve_requested.connect(lambda n: self._spawn(self._resolve_conflict(n)))
            inbox.open_incident.connect(lambda incident_id: self._spawn(self.show_incident(incident_id)))
            self.conflict_inbox = inbox
        self._spawn(self._refresh_conflicts())
        self.conflict_inbox.show()
        self.conflict_inbox.raise_()

    async def _refresh_conflicts(self) -> None:
        assert self.sync is not None
        if self.conflict_inbox is None:
            return
        names = Names()
        rows = [
            ConflictRow(c.n, c.command.incident_id, names.action(c.command.action), c.command.note,
                        c.reason, c.rejected_at)
            for c in await self.sync.conflicts()
        ]  # fmt: skip
        self.conflict_inbox.set_conflicts(rows)

    async def _resolve_conflict(self, n: int) -> None:
        assert self.sync is not None
        await self.sync.resolve_conflict(n)
        await self._refresh_conflicts()

    # -- plumbing ----------------------------------------------------------------------------------
    async def _quit_later(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
        if self.options.screenshot_dir is not None:
            for path in grab_screens(list(self.windows), self.options.screenshot_dir):
                print(f"screenshot: {path}", flush=True)
        self._quit.set()

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        self._tasks.spawn(coroutine)


def board_filter(values: dict[str, Any]) -> BoardFilter:
    """The board query's filter for the filter bar's values."""
    status = str(values.get("status") or "open")
    statuses = frozenset() if status == "open" else ALL_STATUSES if status == "all" else frozenset({Status(status)})
    severity = int(values.get("severity") or 0)
    return BoardFilter(
        statuses=statuses,
        streets=frozenset({values["street"]}) if values.get("street") else frozenset(),
        categories=frozenset({values["category"]}) if values.get("category") else frozenset(),
        severities=frozenset({Severity(severity)}) if severity else frozenset(),
        overdue_only=bool(values.get("overdue")),
        text=str(values.get("text") or ""),
    )


def filter_values(saved: BoardFilter) -> dict[str, Any]:
    """The filter bar's values for a saved filter (the bar shows one value per dimension)."""
    if not saved.statuses:
        status = "open"
    elif saved.statuses == ALL_STATUSES:
        status = "all"
    else:
        status = sorted(saved.statuses)[0].value
    return {
        "status": status,
        "street": min(saved.streets, default=""),
        "category": min(saved.categories, default=""),
        "severity": int(min(saved.severities, default=0)),
        "overdue": saved.overdue_only,
        "text": saved.text,
    }


def remember_principal(cache: ConsoleCache, principal: Principal) -> None:
    """Keep who signed in with the cache, for a start without the server."""
    cache.set_meta({PRINCIPAL_KEY: msgspec.json.encode(principal).decode()})


def stored_principal(cache_dir: Path, server: str, user: str) -> Principal | None:
    """Who signed in last with this workstation's cache for ``user``, if there is one."""
    path = cache_path(cache_dir, server, user)
    if not path.exists():
        return None
    cache = ConsoleCache(path)
    try:
        text = cache.get_meta(PRINCIPAL_KEY, "")
    finally:
        cache.close()
    if not text:
        return None
    try:
        return msgspec.json.decode(text, type=Principal)
    except msgspec.DecodeError:
        return None
