"""The video wall screen: a tool bar (layouts, tour, snapshot), the camera list beside the wall,
and a status line for the results of the operator's actions.

The panel arranges; the owner drives :attr:`VideoWallPanel.wall` and
:attr:`VideoWallPanel.cameras` directly and listens to their signals. Every request to put a
camera on a tile, dropped or double-clicked, reaches the owner as
:attr:`VideoWall.cameraDropped <widgets.video.wall.VideoWall.cameraDropped>`, so assignment is
handled in one place; the Snapshot button asks through
:attr:`~widgets.video.wall.VideoWall.snapshotRequested`, as the tile's menu does.
"""

from __future__ import annotations

import time
from typing import Final

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (
    QButtonGroup,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QSpinBox,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
    QWidgetAction,
)

from widgets.video.cameras import CameraList
from widgets.video.wall import MAX_SIDE, PRESETS, TileState, VideoWall

#: Tour interval: range and default (seconds).
TOUR_RANGE: Final = (5, 120)
TOUR_DEFAULT: Final = 10
#: Message colours by level.
LEVELS: Final = {"info": "#dbe5ee", "ok": "#66d17a", "warn": "#ffb74d", "error": "#ff6b5e"}

STYLE: Final = """
QWidget#videoPanel { background: #0b1118; }
QFrame#videoToolbar, QFrame#videoStatus { background: #18212b; border: none; }
QFrame#videoToolbar QLabel, QFrame#videoStatus QLabel { color: #dbe5ee; background: transparent; }
QFrame#videoToolbar QLabel#muted, QFrame#videoStatus QLabel#muted { color: #8a9aab; }
QFrame#videoToolbar QToolButton {
    color: #dbe5ee; background: transparent; border: 1px solid #2f3d4c;
    border-radius: 3px; padding: 3px 8px; min-width: 22px; min-height: 22px;
}
QFrame#videoToolbar QToolButton:hover { background: #223040; }
QFrame#videoToolbar QToolButton:checked { background: #1f4a66; border-color: #3b7fa8; }
QFrame#videoToolbar QToolButton::menu-indicator { image: none; }
QSplitter#videoSplitter::handle { background: #2f3d4c; }
"""


class GridPicker(QWidget):
    """Rows and columns for a custom layout, and a button to apply them (shown in a menu)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QGridLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        self.rows = QSpinBox()
        self.cols = QSpinBox()
        for spin in (self.rows, self.cols):
            spin.setRange(1, MAX_SIDE)
            spin.setValue(2)
        self.apply = QPushButton(self.tr("Apply"))
        layout.addWidget(QLabel(self.tr("Rows")), 0, 0)
        layout.addWidget(self.rows, 0, 1)
        layout.addWidget(QLabel(self.tr("Columns")), 1, 0)
        layout.addWidget(self.cols, 1, 1)
        layout.addWidget(self.apply, 2, 0, 1, 2)


class VideoWallPanel(QWidget):
    """Tool bar, camera list | wall, status line. Attributes: :attr:`wall`, :attr:`cameras`;
    :meth:`show_message` for the outcome of what the operator did."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("videoPanel")
        self.setStyleSheet(STYLE)
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self.wall = VideoWall()
        self.cameras = CameraList()
        self.message_level = "info"
        self._message = ""

        toolbar = QFrame()
        toolbar.setObjectName("videoToolbar")
        bar = QHBoxLayout(toolbar)
        bar.setContentsMargins(8, 5, 8, 5)
        bar.setSpacing(6)

        def tool(text: str, tip: str, checkable: bool = False) -> QToolButton:
            button = QToolButton()
            button.setText(text)
            button.setToolTip(tip)
            button.setCheckable(checkable)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            bar.addWidget(button)
            return button

        layout_label = QLabel(self.tr("Layout"))
        layout_label.setObjectName("muted")
        bar.addWidget(layout_label)
        self.layout_buttons: dict[int, QToolButton] = {}
        self._layout_group = QButtonGroup(self)
        for n, (rows, cols) in PRESETS.items():
            button = tool(str(n), self.tr("%n cameras", "", n), checkable=True)
            button.clicked.connect(lambda _=False, r=rows, c=cols: self.wall.set_grid(r, c))
            self._layout_group.addButton(button)
            self.layout_buttons[n] = button
        self.custom_button = tool(self.tr("Custom…"), self.tr("Choose rows and columns"))
        self.custom_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.custom_menu = QMenu(self.custom_button)
        self.grid_picker = GridPicker()
        picker_action = QWidgetAction(self.custom_menu)
        picker_action.setDefaultWidget(self.grid_picker)
        self.custom_menu.addAction(picker_action)
        self.custom_button.setMenu(self.custom_menu)
        self.custom_menu.aboutToShow.connect(self._fill_picker)
        self.grid_picker.apply.clicked.connect(self._apply_custom)
        bar.addSpacing(14)

        self.tour_button = tool(
            self.tr("Tour"),
            self.tr("Show the cameras of the selected street, or all the list shows, a page at a time"),
            checkable=True,
        )
        self.tour_button.toggled.connect(self._toggle_tour)
        self.tour_interval = QSpinBox()
        self.tour_interval.setRange(*TOUR_RANGE)
        self.tour_interval.setValue(TOUR_DEFAULT)
        self.tour_interval.setSuffix(self.tr(" s"))
        self.tour_interval.setToolTip(self.tr("Seconds per page"))
        # Dark through the palette, not a style sheet: a styled spin box loses its arrows.
        palette = self.tour_interval.palette()
        for role, colour in (
            (QPalette.ColorRole.Base, "#0f151c"),
            (QPalette.ColorRole.Text, "#dbe5ee"),
            (QPalette.ColorRole.Button, "#223040"),
            (QPalette.ColorRole.ButtonText, "#dbe5ee"),
            (QPalette.ColorRole.Window, "#18212b"),
            (QPalette.ColorRole.WindowText, "#dbe5ee"),
        ):
            palette.setColor(role, QColor(colour))
        self.tour_interval.setPalette(palette)
        self.tour_interval.valueChanged.connect(lambda s: self.wall.set_tour_interval(float(s)))
        bar.addWidget(self.tour_interval)
        bar.addSpacing(14)
        self.snapshot_button = tool(self.tr("Snapshot"), self.tr("Attach the selected tile's picture to an incident"))
        self.snapshot_button.clicked.connect(self.request_snapshot)
        bar.addStretch(1)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("videoSplitter")
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.cameras)
        self.splitter.addWidget(self.wall)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.cameras.setMinimumWidth(200)
        self.splitter.setSizes([280, 1640])

        status = QFrame()
        status.setObjectName("videoStatus")
        line = QHBoxLayout(status)
        line.setContentsMargins(8, 3, 8, 3)
        self.message_label = QLabel()
        self.message_label.setObjectName("videoMessage")
        self.message_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.summary_label = QLabel()
        self.summary_label.setObjectName("muted")
        line.addWidget(self.message_label, 1)
        line.addWidget(self.summary_label)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(toolbar)
        layout.addWidget(self.splitter, 1)
        layout.addWidget(status)

        self.cameras.cameraActivated.connect(self._place)
        self.wall.gridChanged.connect(self._grid_changed)
        self.wall.tourChanged.connect(self._tour_changed)
        for signal in (self.wall.tilesChanged, self.wall.tileStateChanged, self.wall.gridChanged):
            signal.connect(self._summarise)
        self._grid_changed(*self.wall.grid())
        self._summarise()

    # == messages ===========================================================================
    def show_message(self, text: str, level: str = "info") -> None:
        """Show the outcome of an action (``level``: info, ok, warn or error), with the time."""
        self.message_level = level if level in LEVELS else "info"
        self._message = text
        self.message_label.setStyleSheet(f"color: {LEVELS[self.message_level]};")
        self.message_label.setText(f"{time.strftime('%H:%M:%S')}  {text}")

    def message(self) -> str:
        """The text of the last message."""
        return self._message

    def _summarise(self) -> None:
        wall = self.wall
        cameras = sum(1 for c in wall.tiles() if c is not None)
        live = sum(1 for i in range(wall.count()) if wall.state(i) is TileState.LIVE)
        text = self.tr("%1 of %2 tiles live").replace("%1", str(live)).replace("%2", str(cameras))
        if wall.touring():
            page, pages = wall.tour_page()
            text += " · " + self.tr("tour page %1/%2").replace("%1", str(page + 1)).replace("%2", str(pages))
        self.summary_label.setText(text)

    # == actions ============================================================================
    def request_snapshot(self) -> None:
        """Ask the owner for a snapshot of the selected tile (the Snapshot button)."""
        index = self.wall.selected()
        if index is None:
            self.show_message(self.tr("Select a tile first"), "warn")
        elif self.wall.grab_frame(index) is None:
            self.show_message(self.tr("This tile shows no picture yet"), "warn")
        else:
            self.wall.snapshotRequested.emit(index)

    def place_target(self) -> int:
        """The tile a double-clicked camera goes to: the selected one, else the first free,
        else the first."""
        selected = self.wall.selected()
        if selected is not None:
            return selected
        free = self.wall.first_free()
        return 0 if free is None else free

    def _place(self, camera_id: str, name: str) -> None:
        self.wall.cameraDropped.emit(self.place_target(), camera_id, name)

    def _fill_picker(self) -> None:
        rows, cols = self.wall.grid()
        self.grid_picker.rows.setValue(rows)
        self.grid_picker.cols.setValue(cols)

    def _apply_custom(self) -> None:
        self.wall.set_grid(self.grid_picker.rows.value(), self.grid_picker.cols.value())
        self.custom_menu.hide()

    def _grid_changed(self, rows: int, cols: int) -> None:
        preset = next((n for n, grid in PRESETS.items() if grid == (rows, cols)), None)
        # An exclusive group cannot show "none checked": lift it while a custom grid is shown.
        self._layout_group.setExclusive(False)
        for n, button in self.layout_buttons.items():
            button.setChecked(n == preset)
        self._layout_group.setExclusive(True)
        custom = self.tr("Custom…") if preset is not None else f"{rows}×{cols}"
        self.custom_button.setText(custom)

    def _toggle_tour(self, on: bool) -> None:
        if on == self.wall.touring():
            return
        if not on:
            self.wall.stop_tour()
            return
        cameras = self.cameras.tour_cameras()
        if not cameras:
            self.show_message(self.tr("No working cameras to tour"), "warn")
            self.tour_button.setChecked(False)
            return
        self.wall.start_tour(cameras, float(self.tour_interval.value()))
        self.show_message(self.tr("Touring %n cameras", "", len(cameras)))

    def _tour_changed(self, on: bool) -> None:
        if self.tour_button.isChecked() != on:
            self.tour_button.setChecked(on)
        self._summarise()
