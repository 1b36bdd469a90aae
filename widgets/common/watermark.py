"""The on-screen watermark (水印标记): the signed-in person's name and the time, faint and tiled
across a window, so that every screen and every screenshot says who was looking and when."""

from __future__ import annotations

import time

from PySide6.QtCore import QEvent, QObject, QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPaintEvent, QPixmap
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
        self._tile_cache: tuple[str, QPixmap] | None = None
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

    def _tile(self) -> QPixmap:
        """One tile of the mark, drawn once per minute (painting rotated text on every repaint
        of a busy screen would cost more than the screen itself)."""
        text = self.mark()
        if self._tile_cache is not None and self._tile_cache[0] == text:
            return self._tile_cache[1]
        font = QFont(self.font())
        font.setPointSize(13)
        metrics = QFontMetrics(font)
        width = max(360, metrics.horizontalAdvance(text) + 120)
        height = 170
        ratio = self.devicePixelRatioF()
        tile = QPixmap(int(width * ratio), int(height * 2 * ratio))
        tile.setDevicePixelRatio(ratio)
        tile.fill(Qt.GlobalColor.transparent)
        painter = QPainter(tile)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        painter.setFont(font)
        painter.setPen(QColor(128, 128, 128, 38))
        for row, shift in ((0, 0.0), (1, width / 2)):
            painter.save()
            painter.translate(width / 2 + shift, height / 2 + row * height)
            painter.rotate(-24)
            painter.drawText(QRectF(-width, -height / 2, width * 2, height), Qt.AlignmentFlag.AlignCenter, text)
            painter.translate(-width, 0)
            painter.drawText(QRectF(-width, -height / 2, width * 2, height), Qt.AlignmentFlag.AlignCenter, text)
            painter.restore()
        painter.end()
        self._tile_cache = (text, tile)
        return tile

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.drawTiledPixmap(event.rect(), self._tile(), event.rect().topLeft())
        painter.end()
