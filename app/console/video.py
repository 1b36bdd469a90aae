"""The video wall screen, wired: cameras from the console cache, one stream per tile through
the video service, the wall's layout kept per workstation, cameras that follow the selected
incident, AI video alarms that light up their camera, and snapshots attached to incidents.

:class:`VideoController` owns the tiles' streams: whenever the wall's tiles change (a drop, a
swap, a layout, a tour page, an enlarged tile that wants the bigger stream) it starts what is
new and stops what left. Stream states come from the media thread through a queued signal; the
wall itself marks a tile stalled when its pictures stop."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

import httpx
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QObject, QSettings, QTimer, Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QBoxLayout, QToolButton

from app.domain.devices import Device, DeviceKind
from app.domain.model import Action, Incident, SourceChannel
from app.domain.records import IDX, Record
from app.services.events import ConnectionChanged, ConnectionState, DevicesChanged, Event, IncidentsChanged
from app.services.sync import SyncService
from app.services.video import StreamState, VideoService, nearest_cameras, variant_for
from widgets.common.tasks import TaskSet
from widgets.video.feed import FrameInfo
from widgets.video.panel import VideoWallPanel
from widgets.video.wall import TileState

log = logging.getLogger(__name__)

SETTINGS_KEY = "video/wall"
#: An AI video alarm lights its camera this long (seconds), if it is this fresh.
ALARM_HIGHLIGHT_S = 60.0
ALARM_FRESH_S = 300.0
#: Cameras put on the wall for a selected incident.
FOLLOW_CAMERAS = 4

_STATES = {
    StreamState.CONNECTING: TileState.CONNECTING,
    StreamState.LIVE: TileState.LIVE,
    StreamState.STALLED: TileState.STALLED,
    StreamState.RECONNECTING: TileState.RECONNECTING,
    StreamState.REFUSED: TileState.REFUSED,
}

Rows = Callable[[Sequence[int]], Coroutine[Any, Any, dict[int, Record]]]


def jpeg(image: QImage, quality: int = 88) -> bytes:
    """``image`` as JPEG bytes."""
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "JPG", quality)  # type: ignore[call-overload]  # the stub says bytes; only str works
    buffer.close()
    return bytes(data.data())


class VideoController(QObject):
    """Keeps the wall's tiles streaming and acts on the operator's requests."""

    _stream_state = Signal(str, str, str)

    def __init__(
        self,
        panel: VideoWallPanel,
        video: VideoService,
        *,
        settings: QSettings | None = None,
        server_url: str = "",
        token: Callable[[], str] = lambda: "",
        selected_incident: Callable[[], Incident | None] = lambda: None,
        rows: Rows | None = None,
        street_names: dict[str, str] | None = None,
        pending_dir: Path | None = None,
    ) -> None:
        super().__init__()
        self.panel = panel
        self.wall = panel.wall
        self.video = video
        self.sync: SyncService = video.sync
        self.settings = settings
        self.server_url = server_url.rstrip("/")
        self.token = token
        self.selected_incident = selected_incident
        self.rows = rows
        self.pending_dir = pending_dir
        self._devices: dict[str, Device] = {}
        self._tokens: dict[int, str] = {}
        self._watching: dict[int, tuple[str, str]] = {}
        self._alarm_candidates: set[int] = set()
        self._alarmed: set[tuple[int, float]] = set()
        self._tasks = TaskSet()
        self._online = False
        #: Whether :meth:`start` has put the wall back (or filled it the first time).
        self.started = False
        self._first_start = False
        if street_names:
            panel.cameras.set_street_names(street_names)
        self.follow = QToolButton()
        self.follow.setText(self.tr("Follow incident"))
        self.follow.setToolTip(self.tr("Put the cameras nearest to the selected incident on the wall"))
        self.follow.setCheckable(True)
        self.follow.setChecked(True)
        toolbar = panel.snapshot_button.parentWidget()
        bar = toolbar.layout() if toolbar is not None else None
        if isinstance(bar, QBoxLayout):
            bar.insertWidget(bar.indexOf(panel.snapshot_button) + 1, self.follow)
        self._stream_state.connect(self._on_stream_state)
        self.wall.tilesChanged.connect(self._reconcile)
        self.wall.enlargedChanged.connect(lambda _index: self._reconcile())
        self.wall.gridChanged.connect(lambda _r, _c: self._reconcile())
        self.wall.cameraDropped.connect(self._on_dropped)
        self.wall.snapshotRequested.connect(lambda index: self._spawn(self.snapshot(index)))
        self._devices_timer = QTimer(self)
        self._devices_timer.setSingleShot(True)
        self._devices_timer.timeout.connect(lambda: self._spawn(self._load_devices()))
        self._alarm_timer = QTimer(self)
        self._alarm_timer.setSingleShot(True)
        self._alarm_timer.timeout.connect(lambda: self._spawn(self._check_alarms()))

    # == life ==================================================================================
    async def start(self) -> None:
        """Load the cameras, put back the wall as this workstation left it."""
        await self._load_devices()
        saved = self.settings.value(SETTINGS_KEY) if self.settings is not None else None
        if isinstance(saved, str) and saved:
            try:
                self.wall.restore_state(json.loads(saved))
            except (ValueError, TypeError, KeyError):
                log.warning("the saved video wall layout could not be read; starting empty")
        else:
            self._first_start = True
            self._fill_first()
        self._reconcile()
        self.started = True

    def _fill_first(self) -> None:
        """A workstation's first start: four of its cameras, so the wall is not blank (as soon
        as the cameras are known)."""
        if not self._first_start or not self._devices:
            return
        self._first_start = False
        if any(self.wall.tiles()):
            return
        self.wall.set_grid(2, 2)
        for index, (camera_id, name) in enumerate(self.panel.cameras.visible_cameras(working_only=True)[:4]):
            self.wall.assign(index, camera_id, name)

    async def stop(self) -> None:
        self.save()
        self._devices_timer.stop()
        self._alarm_timer.stop()
        self._tasks.cancel_all()
        await self.video.stop()

    def save(self) -> None:
        if self.settings is not None:
            self.settings.setValue(SETTINGS_KEY, json.dumps(self.wall.save_state(), ensure_ascii=False))

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        self._tasks.spawn(coroutine)

    # == streams ===============================================================================
    def _reconcile(self) -> None:
        """Start the streams of cameras new on tiles, stop those that left."""
        wall = self.wall
        wanted: dict[int, tuple[str, str]] = {}
        for index, camera in enumerate(wall.tiles()):
            if camera is None:
                continue
            # The tile's size on screen (its feed asks for nothing while the wall is hidden).
            width = round(wall.tile_rect(index).width() * wall.devicePixelRatioF())
            wanted[index] = (camera, variant_for(width))
        for index in [i for i in self._watching if wanted.get(i) != self._watching[i]]:
            del self._watching[index]
            self._tokens.pop(index, None)
            if index not in wanted:
                self._spawn(self.video.unwatch(f"tile{index}"))
        for index, (camera, variant) in wanted.items():
            if self._watching.get(index) == (camera, variant):
                continue
            self._watch(index, camera, variant)
        self.save()

    def _watch(self, index: int, camera: str, variant: str) -> None:
        feed = self.wall.feed(index)
        token = f"{index}:{uuid.uuid4().hex[:8]}"
        self._tokens[index] = token
        self._watching[index] = (camera, variant)
        emit = self._stream_state.emit

        def on_state(state: StreamState, detail: str) -> None:  # media thread
            emit(token, state.value, detail)

        self.video.watch(
            f"tile{index}",
            camera,
            target_size=feed.target_size,
            deliver=lambda image, sent_at, delay: feed.offer(image, FrameInfo(sent_at, delay)),
            on_state=on_state,
            variant=variant,
        )

    def _on_stream_state(self, token: str, state: str, detail: str) -> None:
        index = int(token.split(":", 1)[0])
        if self._tokens.get(index) != token:
            return  # a stream this tile no longer shows
        tile_state = _STATES.get(StreamState(state))
        if tile_state is not None:
            self.wall.set_state(index, tile_state, detail)

    def _on_dropped(self, index: int, camera_id: str, name: str) -> None:
        if not 0 <= index < self.wall.count():
            return
        device = self._devices.get(camera_id)
        self.wall.assign(index, camera_id, device.name if device is not None else name)
        self.panel.show_message(self.tr("%1 on tile %2").replace("%1", name or camera_id).replace("%2", str(index + 1)))

    # == cameras ===============================================================================
    async def _load_devices(self) -> None:
        devices = await self.sync.db(self.sync.cache.devices, None)
        cameras = [d for d in devices if d.kind is DeviceKind.CAMERA]
        self._devices = {d.id: d for d in cameras}
        self.panel.cameras.set_cameras(cameras)
        self._fill_first()

    def on_event(self, event: Event) -> None:
        if isinstance(event, DevicesChanged):
            if not self._devices_timer.isActive():
                self._devices_timer.start(500)
        elif isinstance(event, IncidentsChanged) and not event.reset and self._online:
            self._alarm_candidates |= event.ids
            if not self._alarm_timer.isActive():
                self._alarm_timer.start(300)
        elif isinstance(event, ConnectionChanged):
            self._online = event.state is ConnectionState.ONLINE
            if self._online and self.pending_dir is not None:
                self._spawn(self._upload_pending())

    # == the incident ==========================================================================
    def incident_selected(self, incident: Incident, *, pin: bool = False) -> None:
        """Follow mode (or ``pin``: a command session asks for it): the cameras nearest to the
        incident go on the first tiles."""
        if not pin and (not self.follow.isChecked() or self.wall.touring()):
            return
        if pin and self.wall.touring():
            self.wall.stop_tour()
        loc = incident.location
        count = min(FOLLOW_CAMERAS, self.wall.count())
        near = nearest_cameras(self._devices.values(), loc.lon, loc.lat, count=count)
        if not near:
            self.panel.show_message(
                self.tr("No camera within 1.5 km of incident #%1").replace("%1", str(incident.id)), "warn"
            )
            return
        on_wall = set(self.wall.tiles())
        free = [i for i, c in enumerate(self.wall.tiles()) if c is None or c not in {d.id for d in near}]
        for device in near:
            if device.id in on_wall:
                continue
            if not free:
                break
            self.wall.assign(free.pop(0), device.id, device.name)
        self.panel.show_message(
            self.tr("Incident #%1: the %2 nearest cameras are on the wall")
            .replace("%1", str(incident.id))
            .replace("%2", str(len(near)))
        )

    async def _check_alarms(self) -> None:
        """A fresh AI video alarm lights its camera's tile (putting the camera up if needed),
        whether it opened an incident or joined one: the report's entry in the timeline names
        the camera."""
        ids, self._alarm_candidates = self._alarm_candidates, set()
        if not ids or self.rows is None:
            return
        now = time.time()
        rows = await self.rows(sorted(ids))
        candidates = [
            i
            for i, r in rows.items()
            if (r[IDX["source"]] == SourceChannel.VIDEO_AI.value or int(r[IDX["merged_count"]] or 0) > 0)
            and now - float(r[IDX["updated_at"]] or 0.0) < ALARM_FRESH_S
        ]
        for incident_id in candidates[:8]:
            incident = await self.sync.incident(incident_id)
            if incident is None or not incident.timeline:
                continue
            entry = incident.timeline[-1]
            if entry.action not in (Action.REPORT, Action.ADD_REPORT) or now - entry.at > ALARM_FRESH_S:
                continue
            device = self._devices.get(entry.actor)
            if device is None or (incident_id, entry.at) in self._alarmed:
                continue
            self._alarmed.add((incident_id, entry.at))
            camera = device.id
            if self.wall.index_of(camera) is None:
                free = self.wall.first_free()
                index = free if free is not None else self.wall.count() - 1
                self.wall.assign(index, camera, device.name)
            self.wall.highlight(camera, ALARM_HIGHLIGHT_S)
            self.panel.show_message(
                self.tr("AI video alarm #%1: %2").replace("%1", str(incident_id)).replace("%2", device.name), "warn"
            )

    # == snapshots =============================================================================
    async def snapshot(self, index: int) -> None:
        """Attach the tile's current picture to the selected incident; says what became of it."""
        incident = self.selected_incident()
        camera = self.wall.tiles()[index] if index < self.wall.count() else None
        image = self.wall.grab_frame(index)
        if incident is None:
            self.panel.show_message(self.tr("Select an incident first: the snapshot is attached to it"), "warn")
            return
        if camera is None or image is None:
            self.panel.show_message(self.tr("This tile shows no picture yet"), "warn")
            return
        data = jpeg(image)
        key = uuid.uuid4().hex
        try:
            name = await self._upload(incident.id, camera, key, data)
        except httpx.HTTPError:
            if self.pending_dir is None:
                self.panel.show_message(self.tr("The server cannot be reached; the snapshot was not sent"), "error")
                return
            await asyncio.to_thread(_keep, self.pending_dir / f"{incident.id}_{camera}_{key}.jpg", data)
            self.panel.show_message(
                self.tr("Offline: the snapshot is kept and goes to incident #%1 when the server is back").replace(
                    "%1", str(incident.id)
                ),
                "warn",
            )
            return
        except SnapshotRefused as refused:
            self.panel.show_message(self.tr("Snapshot refused: %1").replace("%1", refused.reason), "error")
            return
        log.info("snapshot %s attached to incident %d", name, incident.id)
        self.panel.show_message(
            self.tr("Snapshot of %1 attached to incident #%2").replace("%1", camera).replace("%2", str(incident.id)),
            "ok",
        )

    async def _upload(self, incident_id: int, camera: str, key: str, data: bytes) -> str:
        async with httpx.AsyncClient(timeout=15.0) as http:
            response = await http.post(
                f"{self.server_url}/api/incidents/{incident_id}/snapshots",
                params={"key": key, "camera": camera},
                content=data,
                headers={"Authorization": f"Bearer {self.token()}", "Content-Type": "image/jpeg"},
            )
        if response.status_code != 201:
            try:
                reason = str(response.json().get("message", response.text))
            except ValueError:
                reason = response.text[:200]
            raise SnapshotRefused(reason or f"HTTP {response.status_code}")
        return str(response.json()["attachment"])

    async def _upload_pending(self) -> None:
        """Send the snapshots taken offline, oldest first (each once: the key is in the name)."""
        assert self.pending_dir is not None
        if not self.pending_dir.is_dir():
            return
        for path in sorted(self.pending_dir.glob("*.jpg"), key=lambda p: p.stat().st_mtime):
            incident, camera, key = path.stem.split("_", 2)
            try:
                await self._upload(int(incident), camera, key, await asyncio.to_thread(path.read_bytes))
            except httpx.HTTPError:
                return
            except SnapshotRefused as refused:
                log.warning("a snapshot taken offline was refused: %s", refused.reason)
                self.panel.show_message(self.tr("Snapshot refused: %1").replace("%1", refused.reason), "error")
            else:
                self.panel.show_message(
                    self.tr("Snapshot taken offline attached to incident #%1").replace("%1", incident), "ok"
                )
            path.unlink(missing_ok=True)


def _keep(path: Path, data: bytes) -> None:
    """Write a snapshot taken offline where :meth:`VideoController._upload_pending` finds it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


class SnapshotRefused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
