"""The map's colours and sizes: a dark operator theme, the board's severity colours."""

from __future__ import annotations

from typing import Final

from PySide6.QtGui import QColor

from app.domain.devices import DeviceState
from widgets.incidents.board import SEVERITY_COLOURS

BACKGROUND: Final = QColor("#0b1118")
NEIGHBOUR_FILL: Final = QColor("#121a23")
NEIGHBOUR_LINE: Final = QColor("#2a3644")
NEIGHBOUR_TEXT: Final = QColor("#66788b")
DISTRICT_FILL: Final = QColor("#172330")
BOUNDARY: Final = QColor("#4fc3f7")
STREET_LINE: Final = QColor("#4d6b89")
STREET_TEXT: Final = QColor("#d7e6f3")
#: Lines are opaque: Qt draws translucent hairlines ten times slower. The grid's colour is
#: a faint blue-grey over the district's fill; the boundary's glow a dim cyan.
GRID_LINE: Final = QColor("#2a3a4a")
BOUNDARY_GLOW: Final = QColor("#1d4a60")
HALO: Final = QColor(8, 12, 18, 220)
PANEL: Final = QColor("#18212b")
PANEL_BORDER: Final = QColor("#2f3d4c")
PANEL_TEXT: Final = QColor("#dbe5ee")
PANEL_MUTED: Final = QColor("#8a9aab")
NOTICE: Final = QColor("#ffb74d")
SELECTION: Final = QColor("#ffffff")

#: Incident levels 1 (red) .. 4 (blue): the board's colours.
SEVERITY: Final = {level: QColor(colour) for level, colour in SEVERITY_COLOURS.items()}

DEVICE_STATE: Final = {
    DeviceState.NORMAL: QColor("#43a047"),
    DeviceState.ALARM: QColor("#ff1744"),
    DeviceState.OFFLINE: QColor("#78909c"),
    DeviceState.FAULT: QColor("#ab47bc"),
}
#: The order of states in the device arrays and the legend.
STATES: Final = (DeviceState.NORMAL, DeviceState.ALARM, DeviceState.OFFLINE, DeviceState.FAULT)

PANEL_STYLE: Final = f"""
QFrame#mapPanel QLabel {{ color: {PANEL_TEXT.name()}; background: transparent; }}
QFrame#mapPanel QLabel#muted {{ color: {PANEL_MUTED.name()}; }}
QFrame#mapPanel QLabel#notice {{ color: {NOTICE.name()}; font-weight: bold; }}
QFrame#mapPanel QToolButton {{
    color: {PANEL_TEXT.name()}; background: transparent; border: 1px solid transparent;
    border-radius: 3px; padding: 3px 6px; min-width: 22px; min-height: 22px;
}}
QFrame#mapPanel QToolButton:hover {{ border-color: {PANEL_BORDER.name()}; background: #223040; }}
QFrame#mapPanel QToolButton:checked {{ background: #1f4a66; border-color: #3b7fa8; }}
QFrame#mapPanel QToolButton::menu-indicator {{ image: none; }}
"""
