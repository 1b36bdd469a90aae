"""The cameras an operator can put on the video wall: a searchable list grouped by street.

Attributes down: :meth:`CameraList.set_cameras`, :meth:`~CameraList.update_cameras`,
:meth:`~CameraList.set_street_names`. Messages up: :attr:`~CameraList.cameraActivated` (double
click or Enter on a camera). Cameras drag out as :data:`~widgets.video.feed.CAMERA_MIME`, which
the wall takes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

from PySide6.QtCore import (
    QMimeData,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QAbstractItemView, QLabel, QLineEdit, QTreeView, QVBoxLayout, QWidget

from app.domain.devices import Device, DeviceKind, DeviceState
from widgets.map.style import DEVICE_STATE
from widgets.video.feed import CAMERA_MIME, camera_payload

#: Item data: the camera's id (None on a street's row), its name, its state, the street code,
#: the text the filter looks in, and the sort key.
ID_ROLE: Final = Qt.ItemDataRole.UserRole + 1
NAME_ROLE: Final = Qt.ItemDataRole.UserRole + 2
STATE_ROLE: Final = Qt.ItemDataRole.UserRole + 3
STREET_ROLE: Final = Qt.ItemDataRole.UserRole + 4
SEARCH_ROLE: Final = Qt.ItemDataRole.UserRole + 5
SORT_ROLE: Final = Qt.ItemDataRole.UserRole + 6

#: States whose cameras a tour skips (they would show "offline" for a whole page).
NOT_TOURED: Final = frozenset({DeviceState.OFFLINE, DeviceState.FAULT})
MUTED_TEXT: Final = QColor("#7d8b99")

STYLE: Final = """
QWidget#cameraList { background: #0f151c; }
QLineEdit#cameraFilter {
    background: #18212b; color: #e6eef6; border: 1px solid #2f3d4c; border-radius: 3px; padding: 4px 6px;
}
QTreeView#cameraTree {
    background: #0f151c; color: #dbe5ee; border: none; outline: none;
    selection-background-color: #1f4a66; selection-color: #ffffff;
}
QTreeView#cameraTree::item { padding: 3px 0; }
QTreeView#cameraTree::item:hover { background: #1a2632; }
QLabel#cameraCount { color: #8a9aab; padding: 2px 4px; }
QTreeView#cameraTree QScrollBar:vertical { background: #0f151c; width: 10px; margin: 0; }
QTreeView#cameraTree QScrollBar::handle:vertical { background: #2f3d4c; border-radius: 4px; min-height: 30px; }
QTreeView#cameraTree QScrollBar::handle:vertical:hover { background: #3e5062; }
QTreeView#cameraTree QScrollBar::add-line, QTreeView#cameraTree QScrollBar::sub-line { height: 0; }
QTreeView#cameraTree QScrollBar::add-page, QTreeView#cameraTree QScrollBar::sub-page { background: none; }
"""


class CameraModel(QStandardItemModel):
    """Streets and their cameras; a camera drags as :data:`CAMERA_MIME`."""

    def mimeTypes(self) -> list[str]:
        return [CAMERA_MIME]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        mime = QMimeData()
        for index in indexes:
            camera_id = index.data(ID_ROLE)
            if isinstance(camera_id, str):
                name = str(index.data(NAME_ROLE) or camera_id)
                mime.setData(CAMERA_MIME, camera_payload(camera_id, name))
                mime.setText(name)
                break
        return mime


class CameraList(QWidget):
    """A filter box over the cameras, grouped by street, each with its state's dot."""

    cameraActivated = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("cameraList")
        self.setStyleSheet(STYLE)
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self._street_names: dict[str, str] = {}
        self._groups: dict[str, QStandardItem] = {}
        self._items: dict[str, QStandardItem] = {}
        self._devices: dict[str, Device] = {}
        self._icons: dict[DeviceState, QIcon] = {}
        self._state_names = {
            DeviceState.NORMAL: self.tr("Normal"),
            DeviceState.ALARM: self.tr("Alarm"),
            DeviceState.OFFLINE: self.tr("Offline"),
            DeviceState.FAULT: self.tr("Fault"),
        }

        self.model = CameraModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setRecursiveFilteringEnabled(True)
        self.proxy.setFilterRole(SEARCH_ROLE)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.proxy.setSortRole(SORT_ROLE)
        self.proxy.setDynamicSortFilter(True)
        self.proxy.sort(0)

        self.filter_edit = QLineEdit()
        self.filter_edit.setObjectName("cameraFilter")
        self.filter_edit.setPlaceholderText(self.tr("Search cameras"))
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self.set_filter)

        self.view = QTreeView()
        self.view.setObjectName("cameraTree")
        self.view.setModel(self.proxy)
        self.view.setHeaderHidden(True)
        self.view.setUniformRowHeights(True)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setDragEnabled(True)
        self.view.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.view.setDefaultDropAction(Qt.DropAction.CopyAction)
        self.view.activated.connect(self._activated)

        self.count_label = QLabel()
        self.count_label.setObjectName("cameraCount")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 4)
        layout.setSpacing(6)
        layout.addWidget(self.filter_edit)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.count_label)
        self._show_count()

    # == data ================================================================================
    def set_cameras(self, devices: Sequence[Device]) -> None:
        """Show these cameras (other kinds of device are left out), replacing the list."""
        self.model.clear()
        self._groups.clear()
        self._items.clear()
        self._devices.clear()
        self.update_cameras(devices)
        self.view.expandAll()

    def update_cameras(self, devices: Sequence[Device]) -> None:
        """Add new cameras and show the changes of known ones (name, street, state)."""
        for device in devices:
            if device.kind is not DeviceKind.CAMERA:
                continue
            old = self._devices.get(device.id)
            self._devices[device.id] = device
            item = self._items.get(device.id)
            if item is not None and old is not None and old.street != device.street:
                self._remove_item(device.id, old.street)
                item = None
            if item is None:
                item = QStandardItem()
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled)
                self._items[device.id] = item
                group = self._group(device.street)
                group.appendRow(item)
                self.view.expand(self.proxy.mapFromSource(group.index()))
            self._fill(item, device)
        for group in self._groups.values():
            self._label_group(group)
        self._show_count()

    def set_street_names(self, names: Mapping[str, str]) -> None:
        """The names shown for street codes."""
        self._street_names = dict(names)
        for group in self._groups.values():
            self._label_group(group)
        for camera_id, item in self._items.items():
            self._fill(item, self._devices[camera_id])

    def _group(self, street: str) -> QStandardItem:
        group = self._groups.get(street)
        if group is None:
            group = QStandardItem()
            group.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
            group.setData(street, STREET_ROLE)
            # The filter looks at cameras only: a street shows when one of its cameras does.
            group.setData("", SEARCH_ROLE)
            group.setData(street, SORT_ROLE)
            font = group.font()
            font.setBold(True)
            group.setFont(font)
            self._groups[street] = group
            self.model.appendRow(group)
        return group

    def _remove_item(self, camera_id: str, street: str) -> None:
        item = self._items.pop(camera_id)
        group = self._groups[street]
        group.removeRow(item.row())
        if group.rowCount() == 0:
            self.model.removeRow(group.row())
            del self._groups[street]

    def _label_group(self, group: QStandardItem) -> None:
        street = str(group.data(STREET_ROLE))
        name = self._street_names.get(street, street) or self.tr("No street")
        group.setText(f"{name}  ({group.rowCount()})")

    def _fill(self, item: QStandardItem, device: Device) -> None:
        street = self._street_names.get(device.street, device.street)
        item.setText(device.name)
        item.setIcon(self._icon(device.state))
        item.setData(device.id, ID_ROLE)
        item.setData(device.name, NAME_ROLE)
        item.setData(device.state.value, STATE_ROLE)
        item.setData(device.street, STREET_ROLE)
        item.setData(f"{device.name} {device.id} {device.type} {street}", SEARCH_ROLE)
        item.setData(f"{device.name}\x00{device.id}", SORT_ROLE)
        item.setToolTip(f"{device.name}\n{device.id} · {device.type} · {self._state_names[device.state]}")
        if device.state in NOT_TOURED:
            item.setForeground(MUTED_TEXT)
        else:
            item.setData(None, Qt.ItemDataRole.ForegroundRole)

    def _icon(self, state: DeviceState) -> QIcon:
        icon = self._icons.get(state)
        if icon is None:
            pixmap = QPixmap(12, 12)
            pixmap.fill(Qt.GlobalColor.transparent)
            p = QPainter(pixmap)
            p.setRenderHint(QPainter.RenderHint.Antialiasing)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(DEVICE_STATE[state])
            p.drawEllipse(2, 2, 8, 8)
            p.end()
            icon = self._icons[state] = QIcon(pixmap)
        return icon

    def _show_count(self) -> None:
        total = len(self._devices)
        down = sum(1 for d in self._devices.values() if d.state in NOT_TOURED)
        text = self.tr("%n cameras", "", total)
        if down:
            text += " · " + self.tr("%n not working", "", down)
        self.count_label.setText(text)

    # == reading =============================================================================
    def camera_ids(self) -> list[str]:
        """Every camera in the list."""
        return list(self._devices)

    def set_filter(self, text: str) -> None:
        """Show the cameras whose name, id, type or street contains ``text``."""
        if self.filter_edit.text() != text:
            self.filter_edit.setText(text)  # comes back here through textChanged
            return
        self.proxy.setFilterFixedString(text.strip())
        self.view.expandAll()

    def visible_cameras(self, working_only: bool = False) -> list[tuple[str, str]]:
        """(id, name) of the cameras the filter shows, in the list's order."""
        found: list[tuple[str, str]] = []
        for row in range(self.proxy.rowCount()):
            found.extend(self._cameras_under(self.proxy.index(row, 0), working_only))
        return found

    def current_street(self) -> str | None:
        """The street whose row is selected (None when a camera or nothing is)."""
        index = self.view.currentIndex()
        if not index.isValid() or index.data(ID_ROLE) is not None:
            return None
        street = index.data(STREET_ROLE)
        return street if isinstance(street, str) else None

    def tour_cameras(self) -> list[tuple[str, str]]:
        """What a tour shows: the selected street's cameras, else all the filter shows;
        those offline or out of order left out."""
        index = self.view.currentIndex()
        if self.current_street() is not None:
            return self._cameras_under(index, working_only=True)
        return self.visible_cameras(working_only=True)

    def _cameras_under(self, group: QModelIndex, working_only: bool) -> list[tuple[str, str]]:
        found = []
        for row in range(self.proxy.rowCount(group)):
            index = self.proxy.index(row, 0, group)
            camera_id = index.data(ID_ROLE)
            if not isinstance(camera_id, str):
                continue
            if working_only and self._devices[camera_id].state in NOT_TOURED:
                continue
            found.append((camera_id, str(index.data(NAME_ROLE))))
        return found

    def index_of(self, camera_id: str) -> QModelIndex:
        """The view's index of a camera (invalid when it is filtered out or unknown)."""
        item = self._items.get(camera_id)
        if item is None:
            return QModelIndex()
        return self.proxy.mapFromSource(item.index())

    def mime_data(self, camera_id: str) -> QMimeData:
        """What dragging ``camera_id`` out of the list carries."""
        item = self._items[camera_id]
        return self.model.mimeData([item.index()])

    def _activated(self, index: QModelIndex | QPersistentModelIndex) -> None:
        camera_id = index.data(ID_ROLE)
        if isinstance(camera_id, str):
            self.cameraActivated.emit(camera_id, str(index.data(NAME_ROLE)))
