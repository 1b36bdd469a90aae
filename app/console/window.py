"""The console's windows. A window holds one screen's widgets, the status bar and the
watermark; it knows nothing of the network or the database."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, Qt
from PySide6.QtWidgets import QLabel, QMainWindow, QWidget

from widgets.common.status import ConsoleStatusBar
from widgets.common.watermark import Watermark


class ScreenWindow(QMainWindow):
    """One top-level window of the workspace (one per screen in the multi-screen profiles)."""

    def __init__(self, name: str, title: str, watermark: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.setWindowTitle(title)
        self.status = ConsoleStatusBar(self)
        self.setStatusBar(self.status)
        self._watermark_text = watermark
        self.watermark: Watermark | None = None
        #: The dock layout the profile starts with, for "reset layout".
        self.default_state: QByteArray | None = None

    def set_content(self, widget: QWidget) -> None:
        self.setCentralWidget(widget)
        # The watermark sits over the whole window, status bar included.
        self.watermark = Watermark(self, self._watermark_text)


def placeholder(text: str) -> QLabel:
    """A screen that names what will come there."""
    label = QLabel(text)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setStyleSheet("font-size: 18pt; color: #777")
    return label
