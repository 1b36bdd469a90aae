"""The on-screen watermark (水印标记): the signed-in person's name and the time, faint and tiled
across a window, so that every screen and every screenshot says who was looking and when."""

from __future__ import annotations

import time

from PySide6.QtCore import QEvent, QObject, QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QPainter, QPaintEvent
from PySide6.QtWidgets import QWidget


class Watermark(QWidget):
    """A transparent overlay on top of its parent that never takes a click.

    Attributes set by the owner: :attr:`text` (usually the user's display name and login);
    :attr:`drill` adds the training mark.
    """

    #: Seconds between refreshes of the time in the mark.
    REFRESH_S = 30

    def __init__(self, parent: QWidget, text: str) -> None:
        super().__init__(parent)
        self._text = text
        self.drill = False
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        parent.installEventFilter(self)
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.update)
        self._timer.start(self.REFRESH_S * 1000)
        self.setGeometry(parent.rect())
        self.raise_()

    @property
    def text(self) -> str:
        return self._text

    @text.setter
    def text(self, value: str) -> None:
        self._text = value
        self.update()

    def mark(self) -> str:
        """The text painted now: name, time and, in a drill, the training mark."""
        stamp = time.strftime("%Y-%m-%d %H:%M", time.localtime())
        drill = "  演练 DRILL" if self.drill else ""
        return f"{self._text}  {stamp}{drill}"

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.parent() and event.type() in (QEvent.Type.Resize, QEvent.Type.ChildAdded):
            parent = self.parentWidget()
            if parent is not None:
                self.setGeometry(parent.rect())
            self.raise_()
        return False

    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        font = QFont(self.font())
        font.setPointSize(13)
        painter.setFont(font)
        painter.setPen(QColor(128, 128, 128, 38))
        text = self.mark()
        step_x = max(360, painter.fontMetrics().horizontalAdvance(text) + 120)
        step_y = 170
        painter.translate(self.width() / 2, self.height() / 2)
        painter.rotate(-24)
        span = int((self.width() + self.height()) * 0.8)
        for y in range(-span, span, step_y):
            offset = (y // step_y) % 2 * step_x // 2
            for x in range(-span - offset, span, step_x):
                painter.drawText(QRectF(x, y, step_x, step_y / 2), Qt.AlignmentFlag.AlignCenter, text)
        painter.end()
