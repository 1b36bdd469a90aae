"""The video wall: live cameras in a grid of tiles, all painted by one widget.

Attributes down: :meth:`VideoWall.set_grid`, :meth:`~VideoWall.assign`,
:meth:`~VideoWall.unassign`, :meth:`~VideoWall.set_state`, :meth:`~VideoWall.highlight`,
:meth:`~VideoWall.start_tour`, :meth:`~VideoWall.restore_state`; images through each tile's
:class:`~widgets.video.feed.TileFeed` (:meth:`~VideoWall.feed`). Messages up:
:attr:`~VideoWall.tilesChanged` (the camera on some tile changed: the owner (re)subscribes
streams), :attr:`~VideoWall.cameraDropped` (the operator dropped a camera on a tile: the owner
assigns it), :attr:`~VideoWall.tilesSwapped`, :attr:`~VideoWall.tileSelected`,
:attr:`~VideoWall.snapshotRequested`, :attr:`~VideoWall.unassignRequested`.

A tile gets a fresh feed whenever its camera changes, and a feed moves with its camera when
tiles swap: a frame of a camera that has left a tile can never show under another camera's
name, and a swapped camera keeps playing without a new stream. The owner takes
``feed(index)`` after every :attr:`~VideoWall.tilesChanged`.

Drawing is cheap by design, because 16 tiles at 15 frames a second is the normal load: one
widget paints every tile (no child widget per tile); a ~30 Hz timer, running only while the
wall is visible, takes what the feeds hold and repaints only the tiles that got a frame; the
BGRA arrays become QImages without a copy and are drawn 1:1 when they already have the tile's
size (the media thread scales them to :meth:`TileFeed.target_size`); borders are filled
rectangles, not wide pens, which Qt's raster engine strokes slowly.
"""

from __future__ import annotations

import enum
import json
import math
import time
import uuid
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from PySide6.QtCore import QEvent, QMimeData, QPoint, QPointF, QRect, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QContextMenuEvent,
    QDrag,
    QDragEnterEvent,
    QDragLeaveEvent,
    QDragMoveEvent,
    QDropEvent,
    QFont,
    QFontMetrics,
    QHelpEvent,
    QHideEvent,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPixmap,
    QRegion,
    QResizeEvent,
    QShowEvent,
    QStaticText,
    QTransform,
)
from PySide6.QtWidgets import QApplication, QMenu, QSizePolicy, QToolTip, QWidget

from widgets.common.palette import AMBER, BAND, DETAIL, DIM, GREEN, MESSAGE_BOX, MUTED, RED, TEXT, TILE_BACKGROUND
from widgets.common.palette import BLUE as SELECTED
from widgets.video.feed import (
    CAMERA_MIME,
    FrameInfo,
    Image,
    TileFeed,
    camera_payload,
    fit_16_9,
    parse_camera_payload,
)

#: The MIME type of a tile dragged inside a wall: JSON ``{"wall": token, "index": i}``.
TILE_MIME: Final = "application/x-cityops-wall-tile"
#: Grid presets (tiles → rows, cols) and the largest custom grid side.
PRESETS: Final = {1: (1, 1), 4: (2, 2), 9: (3, 3), 16: (4, 4)}
MAX_SIDE: Final = 6
#: How often the wall looks for new frames (ms): a little faster than the fastest stream.
TICK_MS: Final = 33
#: Seconds without a frame before the wall marks a live tile stalled.
STALL_S: Final = 2.0
#: The window over which a tile's frame rate is measured (seconds).
FPS_WINDOW_S: Final = 2.0
#: Weight of the newest delay in the smoothed delay.
DELAY_SMOOTHING: Final = 0.2
#: Seconds between refreshes of a live tile's fps and delay readout.
RATE_REFRESH_S: Final = 1.0
#: Pixels between tiles, and the width of the selection and alarm borders.
GAP: Final = 2
SELECT_BORDER: Final = 2
ALARM_BORDER: Final = 3
#: One pulse of an alarm border (seconds).
PULSE_S: Final = 1.2

BACKGROUND: Final = QColor("#101418")
DROP_TARGET: Final = QColor("#ffffff")
ALARM: Final = QColor("#ff1744")


class TileState(enum.StrEnum):
    """What a tile shows."""

    IDLE = "idle"
    """No camera."""
    CONNECTING = "connecting"
    LIVE = "live"
    STALLED = "stalled"
    """Live, but no frame for :attr:`VideoWall.stall_s` (the wall marks this itself)."""
    RECONNECTING = "reconnecting"
    REFUSED = "refused"
    """The hub refused the stream (the detail says why, e.g. no permission)."""
    OFFLINE = "offline"


#: The colour of each state's live dot (None: no dot).
DOT: Final[dict[TileState, QColor | None]] = {
    TileState.IDLE: None,
    TileState.CONNECTING: AMBER,
    TileState.LIVE: GREEN,
    TileState.STALLED: AMBER,
    TileState.RECONNECTING: AMBER,
    TileState.REFUSED: RED,
    TileState.OFFLINE: RED,
}
#: States in which a tile shows the frames it gets; in the others they are thrown away.
SHOWS_FRAMES: Final = frozenset({TileState.CONNECTING, TileState.LIVE, TileState.STALLED, TileState.RECONNECTING})


@dataclass(eq=False)
class _Tile:
    """One tile's camera and what it last showed. Tiles swap as a whole."""

    feed: TileFeed
    camera_id: str | None = None
    title: str = ""
    state: TileState = TileState.IDLE
    detail: str = ""
    image: QImage | None = None
    array: Image | None = None
    """The memory :attr:`image` points into (QImage does not own it)."""
    shown: deque[float] = field(default_factory=lambda: deque(maxlen=128))
    """Monotonic times of the frames shown within the last :data:`FPS_WINDOW_S`."""
    delay_ms: float | None = None
    last_frame_at: float = 0.0
    rate: str = ""
    """The fps and delay readout as last drawn (refreshed once a second, not every frame)."""
    rate_at: float = -1.0
    band: QImage | None = None
    """The top band rendered once (:meth:`VideoWall._band_image`) and its key."""
    band_key: tuple[object, ...] = ()


class VideoWall(QWidget):
    """Live cameras in a grid of tiles (see the module's docstring). Tiles are numbered row by
    row from 0; :meth:`tiles` lists the camera on each."""

    tilesChanged = Signal()
    cameraDropped = Signal(int, str, str)
    tilesSwapped = Signal(int, int)
    tileSelected = Signal(int)
    tileStateChanged = Signal(int)
    snapshotRequested = Signal(int)
    unassignRequested = Signal(int)
    gridChanged = Signal(int, int)
    enlargedChanged = Signal(object)
    tourChanged = Signal(bool)

    #: Seconds without a frame before a live tile shows as stalled.
    stall_s: float = STALL_S

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows, self._cols = 2, 2
        self._tiles: list[_Tile] = [_Tile(TileFeed()) for _ in range(4)]
        self._rects: list[QRect] = []
        self._gaps: list[QRect] = []
        self._selected: int | None = None
        self._enlarged: int | None = None
        self._alarms: dict[str, float] = {}
        self._drop_target: int | None = None
        self._press: tuple[QPoint, int] | None = None
        # Marks this wall's own tile drags, so a tile dropped on another wall is not a swap.
        self._token = uuid.uuid4().hex
        self._tour: list[tuple[str, str]] = []
        self._tour_page = 0
        self._elided: dict[tuple[str, int], str] = {}
        self._static: dict[str, QStaticText] = {}
        self._dots: dict[tuple[int, float], QPixmap] = {}
        self.context_menu: QMenu | None = None
        """The last context menu."""

        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)
        self._tour_timer = QTimer(self)
        self._tour_timer.timeout.connect(self._next_tour_page)

        self.setAcceptDrops(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._shown = False
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(320, 180)
        self.setAccessibleName(self.tr("Video wall"))
        self._band_font = QFont(self.font())
        self._band_font.setPixelSize(13)
        self._band_metrics = QFontMetrics(self._band_font)
        self._small_font = QFont(self.font())
        self._small_font.setPixelSize(12)
        self._small_metrics = QFontMetrics(self._small_font)
        self._message_font = QFont(self.font())
        self._message_font.setPixelSize(15)
        self._message_metrics = QFontMetrics(self._message_font)
        self._badge_font = QFont(self.font())
        self._badge_font.setPixelSize(12)
        self._badge_font.setBold(True)
        self._badge_metrics = QFontMetrics(self._badge_font)
        self._layout()

    def sizeHint(self) -> QSize:
        return QSize(960, 540)

    # == the grid ===========================================================================
    def grid(self) -> tuple[int, int]:
        """(rows, columns)."""
        return self._rows, self._cols

    def count(self) -> int:
        """The number of tiles."""
        return len(self._tiles)

    def set_grid(self, rows: int, cols: int) -> None:
        """Lay the tiles out ``rows`` × ``cols`` (1–6 each). Tiles keep their camera when the
        grid grows; when it shrinks, the cameras beyond the new count leave the wall."""
        if not (1 <= rows <= MAX_SIDE and 1 <= cols <= MAX_SIDE):
            raise ValueError(f"a grid is 1–{MAX_SIDE} × 1–{MAX_SIDE} tiles, not {rows} × {cols}")
        first = self._tour_page * self.count()
        changed = self._set_grid(rows, cols)
        if self._tour:
            # The tour goes on from the first camera it showed.
            self._tour_page = first // self.count()
            changed = self._show_tour_page() or changed
        if changed:
            self.tilesChanged.emit()

    def _set_grid(self, rows: int, cols: int) -> bool:
        """Lay out ``rows`` × ``cols`` tiles; returns whether cameras left the wall."""
        if (rows, cols) == (self._rows, self._cols):
            return False
        n = rows * cols
        removed = any(t.camera_id is not None for t in self._tiles[n:])
        del self._tiles[n:]
        self._tiles.extend(_Tile(TileFeed()) for _ in range(n - len(self._tiles)))
        self._rows, self._cols = rows, cols
        if self._selected is not None and self._selected >= n:
            self._selected = None
        if self._enlarged is not None and self._enlarged >= n:
            self._enlarged = None
            self.enlargedChanged.emit(None)
        if self._drop_target is not None and self._drop_target >= n:
            self._drop_target = None
        self._layout()
        self.update()
        self.gridChanged.emit(rows, cols)
        return removed

    def tile_rect(self, index: int) -> QRect:
        """Where tile ``index`` is drawn (the whole wall when it is enlarged)."""
        if self._enlarged == index:
            return self._full_rect()
        return QRect(self._rects[index])

    def tile_at(self, pos: QPoint | QPointF) -> int | None:
        """The tile under a widget position (None in the gaps)."""
        point = pos if isinstance(pos, QPoint) else pos.toPoint()
        if self._enlarged is not None:
            return self._enlarged if self._full_rect().contains(point) else None
        for i, rect in enumerate(self._rects):
            if rect.contains(point):
                return i
        return None

    def _full_rect(self) -> QRect:
        return self.rect().adjusted(GAP, GAP, -GAP, -GAP)

    def _layout(self) -> None:
        """Tile rectangles for the current size and grid; feeds' target sizes follow."""
        w, h = self.width(), self.height()
        xs = [GAP + round(c * (w - GAP) / self._cols) for c in range(self._cols + 1)]
        ys = [GAP + round(r * (h - GAP) / self._rows) for r in range(self._rows + 1)]
        self._rects = [
            QRect(xs[c], ys[r], xs[c + 1] - xs[c] - GAP, ys[r + 1] - ys[r] - GAP)
            for r in range(self._rows)
            for c in range(self._cols)
        ]
        # The gaps between and around the tiles: the only background the wall paints.
        self._gaps = [QRect(x - GAP, 0, GAP, h) for x in xs] + [QRect(0, y - GAP, w, GAP) for y in ys]
        self._update_targets()

    def _update_targets(self) -> None:
        for i, tile in enumerate(self._tiles):
            tile.feed.set_target_size(*self._target(i))

    def _target(self, index: int) -> tuple[int, int]:
        """The size tile ``index`` wants pictures in: (0, 0) while nobody can see it (the wall
        hidden, or another tile enlarged), so the media thread converts nothing for it."""
        if not self._shown or not self._in_view(index):
            return (0, 0)
        rect = self.tile_rect(index)
        ratio = self.devicePixelRatioF()
        return fit_16_9(rect.width() * ratio, rect.height() * ratio)

    # == cameras on tiles ===================================================================
    def tiles(self) -> list[str | None]:
        """The camera on each tile (None: empty)."""
        return [t.camera_id for t in self._tiles]

    def title(self, index: int) -> str:
        return self._tiles[index].title

    def index_of(self, camera_id: str) -> int | None:
        """The first tile showing ``camera_id``."""
        for i, tile in enumerate(self._tiles):
            if tile.camera_id == camera_id:
                return i
        return None

    def first_free(self) -> int | None:
        """The first tile without a camera."""
        for i, tile in enumerate(self._tiles):
            if tile.camera_id is None:
                return i
        return None

    def feed(self, index: int) -> TileFeed:
        """The feed of tile ``index``'s current camera: take it again after every
        :attr:`tilesChanged` (a tile's feed is replaced when its camera changes)."""
        return self._tiles[index].feed

    def assign(self, index: int, camera_id: str, title: str) -> None:
        """Show ``camera_id`` (named ``title``) on tile ``index``; it connects until the owner
        says otherwise (:meth:`set_state`) or frames arrive."""
        if self._assign(index, camera_id, title):
            self.tilesChanged.emit()

    def unassign(self, index: int) -> None:
        """Take the camera off tile ``index``."""
        if self._unassign(index):
            self.tilesChanged.emit()

    def swap(self, a: int, b: int) -> None:
        """Exchange two tiles' cameras (with their feeds, images and states)."""
        if a == b:
            return
        tiles = self._tiles
        tiles[a], tiles[b] = tiles[b], tiles[a]
        self._update_targets()
        self.update(self.tile_rect(a))
        self.update(self.tile_rect(b))
        self.tilesSwapped.emit(a, b)
        self.tilesChanged.emit()

    def _assign(self, index: int, camera_id: str, title: str) -> bool:
        tile = self._tiles[index]
        if tile.camera_id == camera_id:
            if tile.title != title:
                tile.title = title
                self.update(self.tile_rect(index))
            return False
        self._replace(index, _Tile(TileFeed(), camera_id, title, TileState.CONNECTING))
        return True

    def _unassign(self, index: int) -> bool:
        if self._tiles[index].camera_id is None:
            return False
        self._replace(index, _Tile(TileFeed()))
        return True

    def _replace(self, index: int, tile: _Tile) -> None:
        # A new feed: frames still coming from the old camera's stream go nowhere.
        self._tiles[index] = tile
        tile.feed.set_target_size(*self._target(index))
        self.update(self.tile_rect(index))
        self.tileStateChanged.emit(index)

    # == state =============================================================================
    def state(self, index: int) -> TileState:
        return self._tiles[index].state

    def detail(self, index: int) -> str:
        return self._tiles[index].detail

    def set_state(self, index: int, state: TileState, detail: str = "") -> None:
        """What tile ``index``'s stream is doing (``detail``: e.g. why it was refused). A tile
        without a camera stays idle, and one with a camera is never made idle (ignored)."""
        tile = self._tiles[index]
        if tile.camera_id is None:
            state, detail = TileState.IDLE, ""
        elif state is TileState.IDLE:
            # Idle means "no camera": a closing stream does not empty a tile; unassign does.
            return
        if (tile.state, tile.detail) == (state, detail):
            return
        if state is TileState.LIVE and tile.state is not TileState.LIVE:
            # The stall clock starts now, not at the last frame before the outage.
            tile.last_frame_at = time.monotonic()
        if state not in SHOWS_FRAMES:
            tile.feed.clear()
        tile.state, tile.detail = state, detail
        self.update(self.tile_rect(index))
        self.tileStateChanged.emit(index)

    def fps(self, index: int) -> float:
        """Frames shown per second on tile ``index`` over the last ~2 s."""
        shown = self._tiles[index].shown
        now = time.monotonic()
        while shown and shown[0] < now - FPS_WINDOW_S:
            shown.popleft()
        if len(shown) < 2:
            return 0.0
        return (len(shown) - 1) / max(shown[-1] - shown[0], 1e-6)

    def delay_ms(self, index: int) -> float | None:
        """The smoothed delay of tile ``index``'s frames (None: the stream does not say)."""
        return self._tiles[index].delay_ms

    def grab_frame(self, index: int) -> QImage | None:
        """A copy of the image tile ``index`` shows last (None: it has shown none)."""
        tile = self._tiles[index]
        if tile.image is None or tile.camera_id is None:
            return None
        return tile.image.copy()

    # == selection, enlarging ===============================================================
    def selected(self) -> int | None:
        return self._selected

    def select(self, index: int | None) -> None:
        """Select tile ``index`` (None: none); emits :attr:`tileSelected` when it changes."""
        if index == self._selected:
            return
        for old in (self._selected, index):
            if old is not None:
                self.update(self.tile_rect(old))
        self._selected = index
        if index is not None:
            self.tileSelected.emit(index)

    def enlarged(self) -> int | None:
        return self._enlarged

    def set_enlarged(self, index: int | None) -> None:
        """Let tile ``index`` fill the wall (None: back to the grid)."""
        if index == self._enlarged:
            return
        self._enlarged = index
        self._update_targets()
        self.update()
        self.enlargedChanged.emit(index)

    # == AI alarms ===========================================================================
    def highlight(self, camera_id: str, seconds: float = 30.0) -> bool:
        """Mark ``camera_id``'s tile with a pulsing border and an "AI alarm" badge for
        ``seconds``. The mark follows the camera (it shows if the camera is put on the wall in
        that time). Returns whether the camera is on the wall now."""
        self._alarms[camera_id] = time.monotonic() + seconds
        shown = [i for i, tile in enumerate(self._tiles) if tile.camera_id == camera_id]
        for i in shown:
            self.update(self.tile_rect(i))
        return bool(shown)

    def is_highlighted(self, index: int) -> bool:
        camera_id = self._tiles[index].camera_id
        return camera_id is not None and self._alarms.get(camera_id, 0.0) > time.monotonic()

    # == tours ==============================================================================
    def start_tour(self, cameras: Sequence[tuple[str, str]], interval_s: float) -> None:
        """Show ``cameras`` ((id, name) pairs) a page (the grid's tiles) at a time, the next
        page every ``interval_s`` seconds, until :meth:`stop_tour`."""
        if interval_s <= 0:
            raise ValueError("a tour needs a positive interval")
        was = self.touring()
        self._tour = list(cameras)
        self._tour_page = 0
        if not self._tour:
            self.stop_tour()
            return
        self._tour_timer.start(max(1, round(interval_s * 1000)))
        if self._show_tour_page():
            self.tilesChanged.emit()
        if not was:
            self.tourChanged.emit(True)

    def stop_tour(self) -> None:
        """Stop touring; the page shown stays on the wall."""
        was = self.touring()
        self._tour = []
        self._tour_page = 0
        self._tour_timer.stop()
        if was:
            self.tourChanged.emit(False)

    def touring(self) -> bool:
        return bool(self._tour)

    def set_tour_interval(self, interval_s: float) -> None:
        """Change a running tour's interval (the page shown stays until the new interval ends)."""
        if interval_s <= 0:
            raise ValueError("a tour needs a positive interval")
        if self._tour:
            self._tour_timer.start(max(1, round(interval_s * 1000)))

    def tour_page(self) -> tuple[int, int]:
        """(page shown, number of pages), from 0; (0, 0) when not touring."""
        if not self._tour:
            return 0, 0
        return self._tour_page, math.ceil(len(self._tour) / self.count())

    def _next_tour_page(self) -> None:
        self._tour_page += 1
        if self._show_tour_page():
            self.tilesChanged.emit()

    def _show_tour_page(self) -> bool:
        """Put the tour's current page on the tiles; returns whether any tile changed."""
        n = self.count()
        pages = math.ceil(len(self._tour) / n)
        self._tour_page %= pages
        page = self._tour[self._tour_page * n : (self._tour_page + 1) * n]
        changed = False
        for i in range(n):
            if i < len(page):
                changed = self._assign(i, *page[i]) or changed
            else:
                changed = self._unassign(i) or changed
        return changed

    # == saved layouts ======================================================================
    def save_state(self) -> dict[str, Any]:
        """The grid and the camera on each tile, JSON-serialisable."""
        return {
            "rows": self._rows,
            "cols": self._cols,
            "tiles": [None if t.camera_id is None else {"id": t.camera_id, "name": t.title} for t in self._tiles],
        }

    def restore_state(self, state: dict[str, Any]) -> None:
        """Bring back what :meth:`save_state` gave (what does not fit, or is not understood,
        is left out)."""
        self.stop_tour()
        self.set_enlarged(None)
        rows, cols = state.get("rows"), state.get("cols")
        if not (isinstance(rows, int) and isinstance(cols, int)):
            rows, cols = self._rows, self._cols
        changed = self._set_grid(min(max(rows, 1), MAX_SIDE), min(max(cols, 1), MAX_SIDE))
        wanted = state.get("tiles")
        entries: list[Any] = wanted if isinstance(wanted, list) else []
        for i in range(self.count()):
            entry = entries[i] if i < len(entries) and isinstance(entries[i], dict) else {}
            camera_id, name = entry.get("id"), entry.get("name")
            if isinstance(camera_id, str) and camera_id:
                title = name if isinstance(name, str) and name else camera_id
                changed = self._assign(i, camera_id, title) or changed
            else:
                changed = self._unassign(i) or changed
        if changed:
            self.tilesChanged.emit()

    # == drag and drop ======================================================================
    def tile_mime(self, index: int) -> QMimeData:
        """The drag of tile ``index``'s camera: a camera anywhere, a swap on this wall."""
        tile = self._tiles[index]
        mime = QMimeData()
        if tile.camera_id is not None:
            mime.setData(CAMERA_MIME, camera_payload(tile.camera_id, tile.title))
        mime.setData(TILE_MIME, json.dumps({"wall": self._token, "index": index}).encode())
        mime.setText(tile.title or tile.camera_id or "")
        return mime

    def _own_tile(self, mime: QMimeData) -> int | None:
        """The tile of this wall that ``mime`` drags, if it does."""
        if not mime.hasFormat(TILE_MIME):
            return None
        try:
            value = json.loads(bytes(mime.data(TILE_MIME).data()).decode())
        except (UnicodeDecodeError, ValueError):
            return None
        if not isinstance(value, dict) or value.get("wall") != self._token:
            return None
        index = value.get("index")
        return index if isinstance(index, int) and 0 <= index < self.count() else None

    def _drop_action(self, mime: QMimeData, index: int | None) -> Qt.DropAction | None:
        if index is None:
            return None
        if self._own_tile(mime) is not None:
            return Qt.DropAction.MoveAction
        if mime.hasFormat(CAMERA_MIME):
            return Qt.DropAction.CopyAction
        return None

    def _set_drop_target(self, index: int | None) -> None:
        if index == self._drop_target:
            return
        for i in (self._drop_target, index):
            if i is not None and i < self.count():
                self.update(self.tile_rect(i))
        self._drop_target = index

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        mime = event.mimeData()
        if self._own_tile(mime) is not None or mime.hasFormat(CAMERA_MIME):
            event.acceptProposedAction()
            self._set_drop_target(self.tile_at(event.position()))
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        index = self.tile_at(event.position())
        action = self._drop_action(event.mimeData(), index)
        self._set_drop_target(index if action is not None else None)
        if action is None:
            event.ignore(self.rect())
            return
        event.setDropAction(action)
        event.accept(self.tile_rect(index) if index is not None else self.rect())

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:
        self._set_drop_target(None)
        super().dragLeaveEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        self._set_drop_target(None)
        mime = event.mimeData()
        index = self.tile_at(event.position())
        action = self._drop_action(mime, index)
        if action is None or index is None:
            event.ignore()
            return
        source = self._own_tile(mime)
        if source is not None:
            self.swap(source, index)
            self.select(index)
        else:
            camera = parse_camera_payload(bytes(mime.data(CAMERA_MIME).data()))
            if camera is None:
                event.ignore()
                return
            self.select(index)
            self.cameraDropped.emit(index, *camera)
        event.setDropAction(action)
        event.accept()

    def _start_drag(self, index: int) -> None:
        tile = self._tiles[index]
        drag = QDrag(self)
        drag.setMimeData(self.tile_mime(index))
        if tile.image is not None:
            preview = QPixmap.fromImage(tile.image).scaledToWidth(160, Qt.TransformationMode.SmoothTransformation)
            preview.setDevicePixelRatio(1.0)
            drag.setPixmap(preview)
            drag.setHotSpot(QPoint(preview.width() // 2, preview.height() // 2))
        drag.exec(Qt.DropAction.MoveAction | Qt.DropAction.CopyAction, Qt.DropAction.MoveAction)

    # == the frame clock =====================================================================
    def _tick(self) -> None:
        """Take new frames, mark stalls, pulse alarms; repaint only what changed."""
        now = time.monotonic()
        ratio = self.devicePixelRatioF()
        dirty: set[int] = set()
        for i, tile in enumerate(self._tiles):
            taken = tile.feed.take()
            if taken is not None and tile.camera_id is not None and tile.state in SHOWS_FRAMES:
                self._show(tile, *taken, now, ratio)
                if tile.state is not TileState.LIVE:
                    self.set_state(i, TileState.LIVE)
                dirty.add(i)
            elif tile.state is TileState.LIVE and now - tile.last_frame_at > self.stall_s:
                self.set_state(i, TileState.STALLED)
        alarm_borders: list[int] = []
        if self._alarms:
            for camera_id, until in list(self._alarms.items()):
                if until <= now:
                    del self._alarms[camera_id]
                    dirty.update(i for i, t in enumerate(self._tiles) if t.camera_id == camera_id)
                else:
                    alarm_borders.extend(i for i, t in enumerate(self._tiles) if t.camera_id == camera_id)
        for i in dirty:
            if self._in_view(i):
                self.update(self.tile_rect(i))
        for i in alarm_borders:
            if i not in dirty and self._in_view(i):
                # Only the border pulses: repaint a frame of the tile, not its picture.
                rect = self.tile_rect(i)
                inner = rect.adjusted(ALARM_BORDER, ALARM_BORDER, -ALARM_BORDER, -ALARM_BORDER)
                self.update(QRegion(rect).subtracted(QRegion(inner)))

    def _show(self, tile: _Tile, array: Image, info: FrameInfo, now: float, ratio: float) -> None:
        if array.ndim != 3 or array.shape[2] != 4 or array.dtype.itemsize != 1 or not array.flags.c_contiguous:
            return
        h, w = int(array.shape[0]), int(array.shape[1])
        # No copy: the QImage reads the array's memory, which the tile keeps alive with it.
        # BGRA in memory is Qt's 0xAARRGGBB on little-endian machines; RGB32 ignores alpha.
        image = QImage(array.data, w, h, int(array.strides[0]), QImage.Format.Format_RGB32)
        image.setDevicePixelRatio(ratio)
        tile.image, tile.array = image, array
        tile.last_frame_at = now
        tile.shown.append(now)
        if info.delay_ms is not None:
            d = float(info.delay_ms)
            tile.delay_ms = d if tile.delay_ms is None else tile.delay_ms + DELAY_SMOOTHING * (d - tile.delay_ms)

    def _in_view(self, index: int) -> bool:
        return self._enlarged is None or self._enlarged == index

    # == painting ============================================================================
    def paintEvent(self, event: QPaintEvent) -> None:
        region = event.region()
        p = QPainter(self)
        now = time.monotonic()
        # Tiles are opaque: only the gaps get the background (Qt clips all of it to the region).
        if self._enlarged is not None:
            self._frame(p, self.rect(), BACKGROUND, GAP)
            self._paint_tile(p, self._enlarged, self._full_rect(), now)
        else:
            for gap in self._gaps:
                if region.intersects(gap):
                    p.fillRect(gap, BACKGROUND)
            for i, rect in enumerate(self._rects):
                if region.intersects(rect):
                    # A rectangular clip per tile: with several tiles in one update the clip is
                    # a complex region, and the raster engine then copies every picture through
                    # its clipped span path (and Qt's thread pool) at several times the cost.
                    p.setClipRect(rect)
                    self._paint_tile(p, i, rect, now)
            p.setClipping(False)
        p.end()

    def _paint_tile(self, p: QPainter, index: int, rect: QRect, now: float) -> None:
        tile = self._tiles[index]
        image = tile.image if tile.camera_id is not None else None
        if image is None:
            p.fillRect(rect, TILE_BACKGROUND)
        else:
            target = self._image_rect(image, rect, tile.feed.target_size())
            if target.toAlignedRect() != rect:
                self._fill_around(p, rect, target)
            if target.size() == image.deviceIndependentSize():
                p.drawImage(target.topLeft(), image)
            else:
                p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
                p.drawImage(target, image)
                p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
            if tile.state is not TileState.LIVE:
                p.fillRect(target, DIM)
        if tile.camera_id is None:
            self._paint_idle(p, index, rect)
        else:
            self._paint_band(p, index, tile, rect)
            if tile.state is not TileState.LIVE:
                self._paint_message(p, index, rect)
        if self.is_highlighted(index):
            self._paint_alarm(p, rect, now)
        if index == self._drop_target:
            self._frame(p, rect, DROP_TARGET, SELECT_BORDER)
        elif index == self._selected and self._enlarged is None:
            self._frame(p, rect, SELECTED, SELECT_BORDER)

    @staticmethod
    def _image_rect(image: QImage, rect: QRect, target: tuple[int, int]) -> QRectF:
        """Where the image goes: 1:1 when it has the tile's size, else scaled to fit; centred."""
        size = image.deviceIndependentSize()
        iw, ih = size.width(), size.height()
        if (image.width(), image.height()) != target or iw > rect.width() or ih > rect.height():
            k = min(rect.width() / max(iw, 1.0), rect.height() / max(ih, 1.0))
            # Whole pixels: Qt's smooth scaling bleeds the next row into a fractional last column.
            iw, ih = min(round(iw * k), rect.width()), min(round(ih * k), rect.height())
        # Whole pixels, so a 1:1 image is copied, not resampled.
        x = rect.x() + math.floor((rect.width() - iw) / 2.0)
        y = rect.y() + math.floor((rect.height() - ih) / 2.0)
        return QRectF(x, y, iw, ih)

    @staticmethod
    def _fill_around(p: QPainter, rect: QRect, inner: QRectF) -> None:
        """The tile's background where the letterboxed image does not cover it."""
        box = inner.toAlignedRect()
        if box.top() > rect.top():
            p.fillRect(QRect(rect.left(), rect.top(), rect.width(), box.top() - rect.top()), TILE_BACKGROUND)
        if box.bottom() < rect.bottom():
            p.fillRect(
                QRect(rect.left(), box.bottom() + 1, rect.width(), rect.bottom() - box.bottom()), TILE_BACKGROUND
            )
        if box.left() > rect.left():
            p.fillRect(QRect(rect.left(), box.top(), box.left() - rect.left(), box.height()), TILE_BACKGROUND)
        if box.right() < rect.right():
            p.fillRect(QRect(box.right() + 1, box.top(), rect.right() - box.right(), box.height()), TILE_BACKGROUND)

    @staticmethod
    def _frame(p: QPainter, rect: QRect, colour: QColor, width: int) -> None:
        # Four filled strips: wide pens go through Qt's slow stroker.
        x, y, w, h = rect.x(), rect.y(), rect.width(), rect.height()
        p.fillRect(QRect(x, y, w, width), colour)
        p.fillRect(QRect(x, y + h - width, w, width), colour)
        p.fillRect(QRect(x, y + width, width, h - 2 * width), colour)
        p.fillRect(QRect(x + w - width, y + width, width, h - 2 * width), colour)

    def _band_text(self, text: str) -> QStaticText:
        """``text`` laid out once in the band's font (the band is drawn with every frame)."""
        found = self._static.get(text)
        if found is None:
            if len(self._static) > 1024:
                self._static.clear()
            found = self._static[text] = QStaticText(text)
            found.setTextFormat(Qt.TextFormat.PlainText)
            found.prepare(QTransform(), self._band_font)
        return found

    def _elide(self, text: str, width: int) -> str:
        key = (text, width)
        found = self._elided.get(key)
        if found is None:
            if len(self._elided) > 512:
                self._elided.clear()
            found = self._elided[key] = self._band_metrics.elidedText(text, Qt.TextElideMode.ElideRight, width)
        return found

    def _dot(self, colour: QColor) -> QPixmap:
        """The live dot, drawn once per colour."""
        ratio = self.devicePixelRatioF()
        key = (colour.rgba(), ratio)
        found = self._dots.get(key)
        if found is None:
            found = QPixmap(round(10 * ratio), round(10 * ratio))
            found.setDevicePixelRatio(ratio)
            found.fill(Qt.GlobalColor.transparent)
            painter = QPainter(found)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(colour)
            painter.drawEllipse(QRectF(1.0, 1.0, 8.0, 8.0))
            painter.end()
            self._dots[key] = found
        return found

    def rate_text(self, index: int) -> str:
        """The top-right readout of a live tile: "15 fps · 85 ms" (no delay when unknown)."""
        text = self.tr("%1 fps").replace("%1", str(round(self.fps(index))))
        delay = self._tiles[index].delay_ms
        if delay is not None:
            text += " · " + self.tr("%1 ms").replace("%1", str(round(delay)))
        return text

    def _paint_band(self, p: QPainter, index: int, tile: _Tile, rect: QRect) -> None:
        """The top band, drawn with every frame from an image made when its text changes: a
        translucent fill and anti-aliased text cost far more to paint than one blended copy."""
        p.drawImage(rect.topLeft(), self._band_image(index, tile, rect.width()))

    def _band_image(self, index: int, tile: _Tile, width: int) -> QImage:
        now = time.monotonic()
        if tile.state is TileState.LIVE:
            if now - tile.rate_at >= RATE_REFRESH_S:
                tile.rate, tile.rate_at = self.rate_text(index), now
        else:
            tile.rate, tile.rate_at = "", -1.0
        ratio = self.devicePixelRatioF()
        key = (tile.state, tile.title, width, tile.rate, ratio)
        if tile.band is None or tile.band_key != key:
            height = self._band_metrics.height() + 8
            image = QImage(round(width * ratio), round(height * ratio), QImage.Format.Format_ARGB32_Premultiplied)
            image.setDevicePixelRatio(ratio)
            image.fill(Qt.GlobalColor.transparent)
            painter = QPainter(image)
            self._draw_band(painter, tile, QRect(0, 0, width, height))
            painter.end()
            tile.band, tile.band_key = image, key
        return tile.band

    def _draw_band(self, p: QPainter, tile: _Tile, band: QRect) -> None:
        """The top band: live dot, camera name, frame rate and delay."""
        p.fillRect(band, BAND)
        text_y = band.y() + 4
        x = band.x() + 8
        dot = DOT[tile.state]
        if dot is not None:
            p.drawPixmap(QPointF(x - 1, band.y() + (band.height() - 10) / 2.0), self._dot(dot))
            x += 14
        right = band.right() - 8
        p.setFont(self._band_font)
        p.setPen(TEXT)
        if tile.state is TileState.LIVE and tile.rate:
            rate = self._band_text(tile.rate)
            rate_w = math.ceil(rate.size().width())
            # The name comes first: the rate shows only when the name keeps 60 pixels.
            if right - rate_w - 12 - x >= min(60, self._band_text(tile.title).size().width()):
                p.drawStaticText(QPointF(right - rate_w, text_y), rate)
                right -= rate_w + 12
        if right > x:
            p.drawStaticText(QPointF(x, text_y), self._band_text(self._elide(tile.title, right - x)))

    def state_text(self, index: int) -> str:
        """The words in the middle of a tile that is not live, with the detail ("" when live)."""
        tile = self._tiles[index]
        if tile.state is TileState.REFUSED and tile.detail:
            return self.tr("No permission: %1").replace("%1", tile.detail)
        headline = self._headline(tile.state)
        if tile.detail and tile.state is not TileState.LIVE and headline:
            return f"{headline}\n{tile.detail}"
        return headline

    def _headline(self, state: TileState) -> str:
        if state is TileState.IDLE:
            return self.tr("Drag a camera here")
        if state is TileState.CONNECTING:
            return self.tr("Connecting…")
        if state in (TileState.STALLED, TileState.RECONNECTING):
            return self.tr("Signal lost, reconnecting…")
        if state is TileState.REFUSED:
            return self.tr("No permission")
        if state is TileState.OFFLINE:
            return self.tr("Offline")
        return ""

    def _paint_message(self, p: QPainter, index: int, rect: QRect) -> None:
        """The state in a box in the middle of the tile; the detail (why) on a second line."""
        tile = self._tiles[index]
        headline = self._headline(tile.state)
        if not headline:
            return
        fm, small = self._message_metrics, self._small_metrics
        max_w = max(rect.width() - 28, 20)
        headline = fm.elidedText(headline, Qt.TextElideMode.ElideRight, max_w)
        detail = small.elidedText(tile.detail, Qt.TextElideMode.ElideRight, max_w) if tile.detail else ""
        text_w = max(fm.horizontalAdvance(headline), small.horizontalAdvance(detail))
        box_h = fm.height() + (small.height() + 3 if detail else 0) + 12
        box = QRect(0, 0, text_w + 24, box_h)
        box.moveCenter(rect.center())
        # Below the top band, however small the tile.
        top = rect.top() + self._band_metrics.height() + 12
        if box.top() < top:
            box.moveTop(min(top, rect.bottom() - box_h))
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(MESSAGE_BOX)
        p.drawRoundedRect(QRectF(box), 4.0, 4.0)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        p.setFont(self._message_font)
        p.setPen(RED if tile.state is TileState.REFUSED else TEXT)
        p.drawText(QRect(box.x(), box.y() + 6, box.width(), fm.height()), Qt.AlignmentFlag.AlignCenter, headline)
        if detail:
            p.setFont(self._small_font)
            p.setPen(DETAIL)
            line = QRect(box.x(), box.y() + 9 + fm.height(), box.width(), small.height())
            p.drawText(line, Qt.AlignmentFlag.AlignCenter, detail)

    def _paint_idle(self, p: QPainter, index: int, rect: QRect) -> None:
        p.setFont(self._small_font)
        p.setPen(MUTED)
        p.drawText(rect.adjusted(8, 6, -8, -6), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop, str(index + 1))
        p.setFont(self._message_font)
        hint = self._message_metrics.elidedText(
            self._headline(TileState.IDLE), Qt.TextElideMode.ElideRight, rect.width() - 16
        )
        p.drawText(rect, Qt.AlignmentFlag.AlignCenter, hint)

    def _paint_alarm(self, p: QPainter, rect: QRect, now: float) -> None:
        """The pulsing red border and the "AI alarm" badge under the top band."""
        phase = 0.5 + 0.5 * math.cos(2.0 * math.pi * (now % PULSE_S) / PULSE_S)
        colour = QColor(ALARM)
        colour.setAlpha(round(110 + 145 * phase))
        self._frame(p, rect, colour, ALARM_BORDER)
        text = self.tr("AI alarm")
        fm = self._badge_metrics
        badge = QRect(
            rect.x() + ALARM_BORDER + 5,
            rect.y() + self._band_metrics.height() + 8 + 5,
            fm.horizontalAdvance(text) + 12,
            fm.height() + 4,
        )
        if badge.bottom() > rect.bottom() - ALARM_BORDER:
            return
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(ALARM)
        p.drawRoundedRect(QRectF(badge), 3.0, 3.0)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        p.setFont(self._badge_font)
        p.setPen(QColor("#ffffff"))
        p.drawText(badge, Qt.AlignmentFlag.AlignCenter, text)

    # == input ==============================================================================
    def mousePressEvent(self, event: QMouseEvent) -> None:
        index = self.tile_at(event.position())
        if event.button() in (Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton) and index is not None:
            self.select(index)
        left = event.button() == Qt.MouseButton.LeftButton
        self._press = (event.position().toPoint(), index) if left and index is not None else None
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._press is not None and event.buttons() & Qt.MouseButton.LeftButton:
            start, index = self._press
            moved = (event.position().toPoint() - start).manhattanLength()
            if moved >= QApplication.startDragDistance() and self._tiles[index].camera_id is not None:
                self._press = None
                self._start_drag(index)
                return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._press = None
        super().mouseReleaseEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        if self._enlarged is not None:
            self.set_enlarged(None)
        else:
            index = self.tile_at(event.position())
            if index is not None:
                self.set_enlarged(index)
        event.accept()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key == Qt.Key.Key_Escape and self._enlarged is not None:
            self.set_enlarged(None)
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self._selected is not None:
            self.set_enlarged(None if self._enlarged is not None else self._selected)
        elif key in (Qt.Key.Key_Left, Qt.Key.Key_Right, Qt.Key.Key_Up, Qt.Key.Key_Down) and self._enlarged is None:
            steps = {Qt.Key.Key_Left: -1, Qt.Key.Key_Right: 1, Qt.Key.Key_Up: -self._cols, Qt.Key.Key_Down: self._cols}
            target = 0 if self._selected is None else self._selected + steps[Qt.Key(key)]
            if 0 <= target < self.count():
                self.select(target)
        else:
            super().keyPressEvent(event)

    def tile_menu(self, index: int) -> QMenu:
        """The context menu of tile ``index``."""
        menu = QMenu(self)
        tile = self._tiles[index]
        if self._enlarged is None:
            enlarge = menu.addAction(self.tr("Enlarge"))
            enlarge.triggered.connect(lambda: self.set_enlarged(index))
        else:
            menu.addAction(self.tr("Back to the grid")).triggered.connect(lambda: self.set_enlarged(None))
        snapshot = menu.addAction(self.tr("Snapshot to incident"))
        snapshot.setEnabled(tile.image is not None and tile.camera_id is not None)
        snapshot.triggered.connect(lambda: self.snapshotRequested.emit(index))
        remove = menu.addAction(self.tr("Remove from wall"))
        remove.setEnabled(tile.camera_id is not None)
        remove.triggered.connect(lambda: self._remove(index))
        return menu

    def _remove(self, index: int) -> None:
        self.unassign(index)
        self.unassignRequested.emit(index)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        index = self.tile_at(event.pos())
        if index is None:
            return
        self.select(index)
        if self.context_menu is not None:
            self.context_menu.deleteLater()
        self.context_menu = self.tile_menu(index)
        self.context_menu.popup(event.globalPos())

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            index = self.tile_at(event.pos())
            text = "" if index is None else self.tooltip_text(index)
            if text:
                QToolTip.showText(event.globalPos(), text, self)
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().event(event)

    def tooltip_text(self, index: int) -> str:
        """The tile's camera in full (names are elided on the tile) and its state."""
        tile = self._tiles[index]
        if tile.camera_id is None:
            return ""
        lines = [tile.title, tile.camera_id]
        if tile.state is TileState.LIVE:
            lines.append(self.rate_text(index))
        else:
            lines.append(self.state_text(index))
        return "\n".join(lines)

    # == visibility, size ===================================================================
    def showEvent(self, event: QShowEvent) -> None:
        self._shown = True
        # Hidden tiles got no pictures: do not take that for a stall now.
        now = time.monotonic()
        for tile in self._tiles:
            tile.last_frame_at = max(tile.last_frame_at, now)
        self._layout()
        self._timer.start()
        super().showEvent(event)

    def hideEvent(self, event: QHideEvent) -> None:
        # No frames are taken while hidden, and none converted (target size 0): the streams
        # stay up, so the wall is live again the moment it shows.
        self._shown = False
        self._timer.stop()
        self._update_targets()
        super().hideEvent(event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._layout()
        super().resizeEvent(event)
