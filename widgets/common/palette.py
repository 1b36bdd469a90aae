"""The colours of video tiles, shared by the video wall and the conference grid: a dark tile,
a translucent band for names, text in three strengths, and the state colours."""

from __future__ import annotations

from typing import Final

from PySide6.QtGui import QColor

TILE_BACKGROUND: Final = QColor("#1a2129")
BAND: Final = QColor(0, 0, 0, 150)
TEXT: Final = QColor("#eef3f8")
DETAIL: Final = QColor("#b9c6d3")
MUTED: Final = QColor("#7d8b99")
DIM: Final = QColor(0, 0, 0, 130)
MESSAGE_BOX: Final = QColor(8, 12, 16, 200)
GREEN: Final = QColor("#43d35a")
AMBER: Final = QColor("#ffb300")
RED: Final = QColor("#f0453a")
BLUE: Final = QColor("#4fc3f7")
