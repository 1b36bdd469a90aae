"""The small panels floating over the map: tool bar, legend, notices, cursor readout.

Each is an opaque child widget, so updating one (the cursor readout changes with every mouse
move) repaints only that panel, never the map beneath it.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QFontMetrics, QPainter, QPaintEvent, QPen, QPolygonF
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from widgets.map.style import DEVICE_STATE, HALO, PANEL, PANEL_BORDER, PANEL_STYLE, PANEL_TEXT, SEVERITY, STATES


class Panel(QFrame):
    """An opaque box in the map's theme. Square: Qt repaints the map under a widget that
    says it is opaque only where it is not, so a rounded corner would show stale pixels."""

    def __init__(self, parent: QWidget, vertical: bool = False) -> None:
        super().__init__(parent)
        self.setObjectName("mapPanel")
        self.setStyleSheet(PANEL_STYLE)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.box: QHBoxLayout | QVBoxLayout = QVBoxLayout(self) if vertical else QHBoxLayout(self)
        self.box.setContentsMargins(6, 4, 6, 4)
        self.box.setSpacing(4)

    def paintEvent(self, event: QPaintEvent) -> None:
        # An opaque widget paints every pixel itself: Qt paints no background for it.
        p = QPainter(self)
        p.fillRect(self.rect(), PANEL)
        p.setPen(QPen(PANEL_BORDER, 1))
        p.drawRect(self.rect().adjusted(0, 0, -1, -1))
        p.end()


class MapLegend(QWidget):
    """Severity colours (the board's) and device states, painted as swatches."""

    def __init__(
        self, parent: QWidget, severities: list[tuple[int, str]], states: list[str], title_devices: str
    ) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.severities = severities
        self.states = states
        self.title_devices = title_devices
        self.setToolTip(self.tr("Incident levels (bubble colour: the most severe incident in it) and device states"))

    def sizeHint(self) -> QSize:
        fm = QFontMetrics(self.font())
        row1 = sum(fm.horizontalAdvance(t) + 26 for _, t in self.severities)
        row2 = fm.horizontalAdvance(self.title_devices) + 8 + sum(fm.horizontalAdvance(t) + 24 for t in self.states)
        return QSize(max(row1, row2) + 16, 2 * fm.height() + 18)

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), PANEL)
        p.setPen(QPen(PANEL_BORDER, 1))
        p.drawRect(QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5))
        fm = QFontMetrics(self.font())
        line = fm.height()
        x, y = 8.0, 6.0
        for level, text in self.severities:
            colour = SEVERITY[level]
            p.setPen(QPen(HALO, 1))
            p.setBrush(colour)
            p.drawEllipse(QPointF(x + 6, y + line / 2), 6, 6)
            p.setPen(PANEL_TEXT)
            p.drawText(QRectF(x + 16, y, 200, line), Qt.AlignmentFlag.AlignVCenter, text)
            x += fm.horizontalAdvance(text) + 26
        x, y = 8.0, 6.0 + line + 6
        p.setPen(PANEL_TEXT)
        p.drawText(QRectF(x, y, 200, line), Qt.AlignmentFlag.AlignVCenter, self.title_devices)
        x += fm.horizontalAdvance(self.title_devices) + 8
        for state, text in zip(STATES, self.states, strict=True):
            p.setPen(QPen(HALO, 1))
            p.setBrush(DEVICE_STATE[state])
            p.drawRect(QRectF(x + 1, y + line / 2 - 5, 10, 10))
            p.setPen(PANEL_TEXT)
            p.drawText(QRectF(x + 15, y, 200, line), Qt.AlignmentFlag.AlignVCenter, text)
            x += fm.horizontalAdvance(text) + 24
        p.end()


def camera_glyph(size: float) -> QPolygonF:
    """A camera seen from above: a body and its lens cone, pointing up, centred on 0,0."""
    s = size / 2
    return QPolygonF(
        [
            QPointF(-s * 0.55, s),
            QPointF(s * 0.55, s),
            QPointF(s * 0.55, s * 0.1),
            QPointF(s, -s),
            QPointF(-s, -s),
            QPointF(-s * 0.55, s * 0.1),
        ]
    )


def label(parent: QWidget, text: str = "", name: str = "") -> QLabel:
    widget = QLabel(text, parent)
    if name:
        widget.setObjectName(name)
    widget.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
    return widget
