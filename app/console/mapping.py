"""The map screen: the 2D map and the 3D view of the district, fed from the console cache and
linked with the board and the detail panel.

:class:`MapPanel` is the screen (tabs 2D / 3D; the 3D view is built the first time its tab is
shown, so a console that never opens it never starts VTK). :class:`MapController` keeps it
live: it loads the open incidents and the devices once, then applies what changed, coalesced
a few times a second, and it runs the 3D view's period queries.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.domain.devices import DeviceState
from app.domain.district import MANIFEST, DistrictMap, GeoDataMissing, default_geo_dir, load_district
from app.domain.records import IDX
from app.services.events import DevicesChanged, Event, IncidentsChanged
from app.services.mapdata import MapService
from widgets.common.tasks import TaskSet
from widgets.map.view2d import MapView

if TYPE_CHECKING:
    from widgets.map.view3d import District3DView

log = logging.getLogger(__name__)

#: How often changed incidents are applied to the map, at most (ms).
APPLY_INTERVAL_MS = 250


def load_district_or_none() -> tuple[DistrictMap | None, str]:
    """The district's map layers, or None and why not; loaded once per folder and build."""
    folder = default_geo_dir()
    manifest = folder / MANIFEST
    key = (str(folder), manifest.stat().st_mtime_ns if manifest.exists() else 0)
    if key not in _LOADED:
        _LOADED.clear()
        _LOADED[key] = _load()
    return _LOADED[key]


_LOADED: dict[tuple[str, int], tuple[DistrictMap | None, str]] = {}


def _load() -> tuple[DistrictMap | None, str]:
    try:
        return load_district(), ""
    except GeoDataMissing as exc:
        return None, str(exc)
    except (OSError, ValueError, KeyError) as exc:
        log.exception("map layers unreadable")
        return None, f"map layers unreadable: {exc}"


class MapPanel(QWidget):
    """The map screen: tabs for the 2D map and the 3D view."""

    incidentActivated = Signal(int)
    deviceActivated = Signal(str)
    threeDRequested = Signal()

    def __init__(
        self, district: DistrictMap | None, problem: str, language: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.district = district
        self.language = language
        self.view2d: MapView | None = None
        self.view3d: District3DView | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        if district is None:
            message = QLabel(self.tr("The map layers are not built on this workstation.\n%1").replace("%1", problem))
            message.setAlignment(Qt.AlignmentFlag.AlignCenter)
            message.setWordWrap(True)
            message.setObjectName("mapMissing")
            message.setStyleSheet("font-size: 14pt; color: #c0392b")
            layout.addWidget(message)
            self.tabs = None
            return
        self.tabs = QTabWidget()
        self.tabs.setObjectName("mapTabs")
        self.tabs.setDocumentMode(True)
        self.view2d = MapView(district, language)
        self.view2d.incidentActivated.connect(self.incidentActivated)
        self.view2d.deviceActivated.connect(self.deviceActivated)
        self.tabs.addTab(self.view2d, self.tr("2D map"))
        self._page3d = QWidget()
        self._layout3d = QHBoxLayout(self._page3d)
        self._layout3d.setContentsMargins(0, 0, 0, 0)
        self.tabs.addTab(self._page3d, self.tr("3D fire safety"))
        self.tabs.currentChanged.connect(self._on_tab)
        layout.addWidget(self.tabs)

    def show_3d(self) -> District3DView | None:
        """Bring the 3D tab forward (building the view the first time)."""
        if self.tabs is None:
            return None
        self.tabs.setCurrentWidget(self._page3d)
        return self.ensure_3d()

    def ensure_3d(self) -> District3DView | None:
        if self.view3d is not None or self.district is None:
            return self.view3d
        from widgets.map.view3d import District3DView  # VTK starts here, not at console start

        splitter = QSplitter(Qt.Orientation.Horizontal)
        self.view3d = District3DView(self.district, self.language)
        splitter.addWidget(self.view3d)
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(4, 4, 4, 4)
        self.cell_title = QLabel(self.tr("Pick a column to list its incidents"))
        self.cell_title.setWordWrap(True)
        self.cell_list = QListWidget()
        self.cell_list.setObjectName("cellIncidents")
        self.cell_list.itemActivated.connect(self._on_cell_item)
        self.cell_list.itemClicked.connect(self._on_cell_item)
        side_layout.addWidget(self.cell_title)
        side_layout.addWidget(self.cell_list, 1)
        splitter.addWidget(side)
        splitter.setStretchFactor(0, 4)
        splitter.setStretchFactor(1, 1)
        self._layout3d.addWidget(splitter)
        self.threeDRequested.emit()
        return self.view3d

    def list_cell(self, code: str, rows: list[tuple[int, str]]) -> None:
        """Show the incidents of a picked column: (id, text) pairs."""
        self.cell_title.setText(self.tr("Grid cell %1: %n incidents", "", len(rows)).replace("%1", code))
        self.cell_list.clear()
        for incident_id, text in rows:
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, incident_id)
            self.cell_list.addItem(item)

    def _on_cell_item(self, item: QListWidgetItem) -> None:
        incident_id = item.data(Qt.ItemDataRole.UserRole)
        if isinstance(incident_id, int):
            self.incidentActivated.emit(incident_id)

    def _on_tab(self, index: int) -> None:
        if self.tabs is not None and self.tabs.widget(index) is self._page3d:
            self.ensure_3d()

    def shutdown(self) -> None:
        if self.view3d is not None:
            self.view3d.shutdown()


class MapController(QObject):
    """Feeds the map screen from the cache and keeps it in step with the session."""

    def __init__(
        self,
        panel: MapPanel,
        service: MapService,
        rows: Callable[[list[int]], Coroutine[Any, Any, dict[int, Any]]],
    ) -> None:
        super().__init__()
        self.panel = panel
        self.service = service
        self.rows = rows
        self._tasks = TaskSet()
        self._changed: set[int] = set()
        self._reload = True
        self._devices_changed: set[str] = set()
        self._devices_reload = True
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(lambda: self._tasks.spawn(self._apply()))
        self._busy = False
        panel.threeDRequested.connect(self._on_3d)

    def start(self) -> None:
        self._timer.start(0)

    def stop(self) -> None:
        self._timer.stop()
        self._tasks.cancel_all()
        self.panel.shutdown()

    def on_event(self, event: Event) -> None:
        if isinstance(event, IncidentsChanged):
            if event.reset:
                self._reload = True
            else:
                self._changed |= event.ids
        elif isinstance(event, DevicesChanged):
            if event.reset:
                self._devices_reload = True
            else:
                self._devices_changed |= event.ids
        else:
            return
        if not self._timer.isActive() and not self._busy:
            self._timer.start(APPLY_INTERVAL_MS)

    def select(self, incident_id: int | None) -> None:
        view = self.panel.view2d
        if view is not None:
            view.select_incident(incident_id)

    async def _apply(self) -> None:
        view = self.panel.view2d
        if view is None:
            return
        self._busy = True
        try:
            if self._reload:
                self._reload, self._changed = False, set()
                incidents = await self.service.open_incidents()
                view.set_incidents(incidents.ids, incidents.lon, incidents.lat, incidents.severity)
            elif self._changed:
                changed, self._changed = self._changed, set()
                delta = await self.service.delta(changed)
                if len(delta.removed):
                    view.remove_incidents(delta.removed)
                if len(delta.upsert):
                    view.upsert_incidents(delta.upsert.ids, delta.upsert.lon, delta.upsert.lat, delta.upsert.severity)
            if self._devices_reload:
                self._devices_reload, self._devices_changed = False, set()
                view.set_devices(await self.service.devices())
            elif self._devices_changed:
                ids, self._devices_changed = self._devices_changed, set()
                view.update_devices(await self.service.devices(ids))
        finally:
            self._busy = False
        if self._reload or self._changed or self._devices_reload or self._devices_changed:
            self._timer.start(APPLY_INTERVAL_MS)

    async def describe_device(self, device_id: str) -> str:
        """One line about a device for the status bar: its name and state."""
        found = await self.service.devices([device_id])
        if not found:
            return self.tr("Device %1 is no longer registered").replace("%1", device_id)
        device = found[0]
        states = {
            DeviceState.NORMAL: self.tr("normal"),
            DeviceState.ALARM: self.tr("alarm"),
            DeviceState.OFFLINE: self.tr("offline"),
            DeviceState.FAULT: self.tr("fault"),
        }
        return self.tr("%1 — %2").replace("%1", device.name).replace("%2", states[device.state])

    # -- the 3D view ---------------------------------------------------------------------------
    def _on_3d(self) -> None:
        view3d = self.panel.view3d
        if view3d is None:
            return
        view3d.periodChanged.connect(lambda start, end: self._tasks.spawn(self._load_columns(start, end)))
        view3d.columnPicked.connect(lambda code, ids: self._tasks.spawn(self._list_cell(code, list(ids))))
        start, end = view3d.period()
        self._tasks.spawn(self._load_columns(start, end))

    async def _load_columns(self, start: float, end: float) -> None:
        view3d = self.panel.view3d
        if view3d is None:
            return
        columns = await self.service.fire_columns(start, min(end, time.time() + 60))
        view3d.set_columns(columns)

    async def _list_cell(self, code: str, ids: list[int]) -> None:
        records = await self.rows(ids)
        rows = []
        for incident_id in sorted(ids, reverse=True):
            record = records.get(incident_id)
            if record is None:
                continue
            rows.append((incident_id, f"#{incident_id} {record[IDX['title']]}"))
        self.panel.list_cell(code, rows)
