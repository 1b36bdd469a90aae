"""A video conference between command centres: everyone's picture in a grid of 16:9 tiles, a
tool bar for the operator's own microphone and camera, and the dialog that invites others.

Attributes down: :meth:`ConferencePanel.set_room`, :meth:`~ConferencePanel.set_participants`,
:meth:`~ConferencePanel.set_active_speaker`, :meth:`~ConferencePanel.set_level`,
:meth:`~ConferencePanel.set_local_state`, :meth:`~ConferencePanel.show_status`; pictures through
each participant's :class:`~widgets.video.feed.TileFeed` (:meth:`~ConferencePanel.feed`).
Messages up: :attr:`~ConferencePanel.mute_toggled`, :attr:`~ConferencePanel.camera_toggled`,
:attr:`~ConferencePanel.invite_requested`, :attr:`~ConferencePanel.link_requested`,
:attr:`~ConferencePanel.leave_requested`. The panel changes nothing by itself: the owner hears
the request, acts, and sets the outcome (a toggle shows the operator's click at once and the
owner's :meth:`~ConferencePanel.set_local_state` corrects it if the action failed).

A participant keeps one feed for as long as it stays in the conference, so the media thread
takes ``feed(id)`` once per participant. The grid is drawn the way the video wall draws
(:mod:`widgets.video.wall`): one widget paints every tile; a ~30 Hz timer, running only while
the grid is visible, takes what the feeds hold and repaints only the tiles that got a picture;
a tile's feed is told the size its pictures should have, and (0, 0) while nobody can see them
(grid hidden, camera off); the name band and icons are rendered once and copied per frame.
"""

from __future__ import annotations

import math
import time
import unicodedata
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from PySide6.QtCore import QEvent, QPoint, QPointF, QRect, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QHelpEvent,
    QHideEvent,
    QImage,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPalette,
    QPen,
    QPixmap,
    QRegion,
    QResizeEvent,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QSizePolicy,
    QToolButton,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from widgets.common.palette import AMBER, BAND, DETAIL, DIM, MESSAGE_BOX, MUTED, RED, TEXT, TILE_BACKGROUND
from widgets.common.palette import BLUE as SELF_BADGE
from widgets.common.palette import GREEN as SPEAKER
from widgets.video.feed import FrameInfo, Image, TileFeed, fit_16_9

#: The grid for a number of participants: (up to this many, rows, columns), first match wins.
GRIDS: Final = ((1, 1, 1), (2, 1, 2), (4, 2, 2), (6, 2, 3), (9, 3, 3), (16, 4, 4))
#: The most tiles the grid shows; participants after these are counted, not shown.
MAX_TILES: Final = 16
#: The states a participant's connection can be in.
STATES: Final = frozenset({"connecting", "live", "reconnecting"})
#: How often the grid looks for new pictures (ms).
TICK_MS: Final = 33
#: Pixels between tiles, and the width of the active speaker's border.
GAP: Final = 6
SPEAKER_BORDER: Final = 3
#: Segments of a tile's audio level bar.
LEVEL_SEGMENTS: Final = 5

BACKGROUND: Final = QColor("#0b1118")
LEVEL_OFF: Final = QColor(255, 255, 255, 60)
#: Avatar circles, picked by a stable hash of the participant's id.
AVATAR_COLOURS: Final = ("#3f7cac", "#4f8f5a", "#a0663c", "#7a5ca8", "#2f8f8f", "#a04f6a", "#6b7f2f", "#4f62a8")

STYLE: Final = """
QWidget#conferencePanel { background: #0b1118; }
QFrame#conferenceToolbar, QFrame#conferenceStatus { background: #18212b; border: none; }
QFrame#conferenceToolbar QLabel, QFrame#conferenceStatus QLabel { color: #dbe5ee; background: transparent; }
QFrame#conferenceToolbar QLabel#conferenceTitle { font-size: 15px; font-weight: bold; }
QFrame#conferenceToolbar QLabel#muted, QFrame#conferenceStatus QLabel#muted { color: #8a9aab; }
QFrame#conferenceToolbar QToolButton {
    color: #dbe5ee; background: #1f2a36; border: 1px solid #2f3d4c;
    border-radius: 3px; padding: 4px 10px; min-height: 22px;
}
QFrame#conferenceToolbar QToolButton:hover { background: #26384a; }
QFrame#conferenceToolbar QToolButton:checked { background: #5a2326; border-color: #b7463f; color: #ffd9d6; }
QFrame#conferenceToolbar QToolButton#leaveButton { background: #c62828; border-color: #e0443b; color: #ffffff; }
QFrame#conferenceToolbar QToolButton#leaveButton:hover { background: #d93a31; }
"""

DIALOG_STYLE: Final = """
QDialog#inviteDialog { background: #0f151c; }
QDialog#inviteDialog QLabel { color: #dbe5ee; }
QDialog#inviteDialog QLabel#muted { color: #8a9aab; }
QDialog#inviteDialog QLineEdit {
    background: #18212b; color: #e6eef6; border: 1px solid #2f3d4c; border-radius: 3px; padding: 4px 6px;
}
QDialog#inviteDialog QPushButton {
    color: #dbe5ee; background: #1f2a36; border: 1px solid #2f3d4c; border-radius: 3px;
    padding: 4px 14px; min-width: 60px;
}
QDialog#inviteDialog QPushButton:hover { background: #26384a; }
QDialog#inviteDialog QPushButton:disabled { color: #5d6b79; }
"""


@dataclass(frozen=True)
class ParticipantCard:
    """What a conference tile shows of one participant."""

    id: str
    """The participant's id in the conference."""
    name: str
    """The person's display name, e.g. "王建国"."""
    center: str
    """Their command centre, e.g. "长寿路街道指挥室", "区城运中心", "访客(浏览器)"."""
    is_self: bool = False
    """The operator at this console."""
    audio_on: bool = True
    video_on: bool = True
    state: str = "live"
    """``connecting``, ``live`` or ``reconnecting`` (:data:`STATES`)."""

    def __post_init__(self) -> None:
        if self.state not in STATES:
            raise ValueError(f"a participant is {', '.join(sorted(STATES))}, not {self.state!r}")


def grid_for(count: int) -> tuple[int, int]:
    """(rows, columns) of the grid for ``count`` participants (:data:`GRIDS`; 4 × 4 at most)."""
    for most, rows, cols in GRIDS:
        if count <= most:
            return rows, cols
    return GRIDS[-1][1], GRIDS[-1][2]


def initials(name: str) -> str:
    """The letters on an avatar: a Chinese name's last two characters (王建国 → 建国, as the
    office messengers show them), else the first letters of the first two words."""
    name = name.strip()
    if not name:
        return "?"
    if any(unicodedata.east_asian_width(ch) in ("W", "F") for ch in name):
        wide = [ch for ch in name if not ch.isspace()]
        return "".join(wide[-2:])
    return "".join(word[0] for word in name.split()[:2]).upper()


def avatar_colour(participant_id: str) -> QColor:
    """A participant's avatar colour, the same on every console and in every session."""
    return QColor(AVATAR_COLOURS[zlib.crc32(participant_id.encode("utf-8")) % len(AVATAR_COLOURS)])


@dataclass(eq=False)
class _Tile:
    """One participant's card, feed and what its tile last showed."""

    card: ParticipantCard
    feed: TileFeed
    image: QImage | None = None
    array: Image | None = None
    """The memory :attr:`image` points into (QImage does not own it)."""
    level: float = 0.0
    lit: int = 0
    """Level segments drawn lit."""
    band: QImage | None = None
    band_key: tuple[object, ...] = ()
    level_x: int = -1
    """Where the level bar starts in the band (-1: no bar, the microphone is off)."""


class ConferenceGrid(QWidget):
    """The participants' tiles (see the module's docstring), in the order the owner gives."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._tiles: list[_Tile] = []
        self._rects: list[QRect] = []
        self._background = QRegion()
        self._speaker: str | None = None
        self._shown = False
        self._icons: dict[tuple[str, float], QPixmap] = {}
        self._avatars: dict[tuple[str, str, int, float], QPixmap] = {}
        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(320, 180)
        self.setAccessibleName(self.tr("Conference participants"))
        self._name_font = QFont(self.font())
        self._name_font.setPixelSize(13)
        self._name_font.setBold(True)
        self._name_metrics = QFontMetrics(self._name_font)
        self._center_font = QFont(self.font())
        self._center_font.setPixelSize(12)
        self._center_metrics = QFontMetrics(self._center_font)
        self._message_font = QFont(self.font())
        self._message_font.setPixelSize(15)
        self._message_metrics = QFontMetrics(self._message_font)
        self._badge_font = QFont(self.font())
        self._badge_font.setPixelSize(11)
        self._badge_font.setBold(True)
        self._badge_metrics = QFontMetrics(self._badge_font)
        self._layout()

    def sizeHint(self) -> QSize:
        return QSize(960, 540)

    # == participants ========================================================================
    def set_participants(self, cards: Sequence[ParticipantCard]) -> None:
        """Show ``cards`` in this order. A participant already shown keeps its feed and picture;
        new ids get a feed; ids no longer given leave with theirs. A repeated id is shown once
        (its first card)."""
        old = {tile.card.id: tile for tile in self._tiles}
        tiles: list[_Tile] = []
        seen: set[str] = set()
        for card in cards:
            if card.id in seen:
                continue
            seen.add(card.id)
            tile = old.pop(card.id, None)
            if tile is None:
                tile = _Tile(card, TileFeed())
            else:
                if not card.video_on:
                    # A camera turned off: its last picture must not stay frozen on the tile.
                    tile.image, tile.array = None, None
                    tile.feed.clear()
                tile.card = card
            tiles.append(tile)
        for gone in old.values():
            # Frames still coming for someone who left go nowhere.
            gone.feed.set_target_size(0, 0)
            gone.feed.clear()
        self._tiles = tiles
        if self._speaker is not None and self._speaker not in seen:
            self._speaker = None
        self._layout()
        self.update()

    def participants(self) -> list[str]:
        """The participants' ids in order (including any beyond :data:`MAX_TILES`)."""
        return [tile.card.id for tile in self._tiles]

    def card(self, participant_id: str) -> ParticipantCard:
        return self._tile(participant_id).card

    def feed(self, participant_id: str) -> TileFeed:
        """The feed of ``participant_id``'s tile: the media thread offers its BGRA pictures
        here, in :meth:`TileFeed.target_size`. It stays the same while the participant stays."""
        return self._tile(participant_id).feed

    def _tile(self, participant_id: str) -> _Tile:
        for tile in self._tiles:
            if tile.card.id == participant_id:
                return tile
        raise KeyError(participant_id)

    def _index(self, participant_id: str | None) -> int | None:
        for i, tile in enumerate(self._tiles[:MAX_TILES]):
            if tile.card.id == participant_id:
                return i
        return None

    def hidden_count(self) -> int:
        """Participants beyond :data:`MAX_TILES`, who have no tile."""
        return max(0, len(self._tiles) - MAX_TILES)

    # == speaking ============================================================================
    def set_active_speaker(self, participant_id: str | None) -> None:
        """Mark the tile of the participant speaking now (None: nobody)."""
        if participant_id == self._speaker:
            return
        for index in (self._index(self._speaker), self._index(participant_id)):
            if index is not None:
                self.update(self._rects[index])
        self._speaker = participant_id

    def active_speaker(self) -> str | None:
        return self._speaker

    def set_level(self, participant_id: str, level: float) -> None:
        """How loud ``participant_id`` is now (0–1), on the bar beside the microphone."""
        try:
            tile = self._tile(participant_id)
        except KeyError:
            return
        tile.level = min(max(float(level), 0.0), 1.0)
        lit = math.ceil(tile.level * LEVEL_SEGMENTS - 0.2) if tile.level > 0.0 else 0
        if lit != tile.lit:
            tile.lit = lit
            rect = self.level_rect(participant_id)
            if not rect.isNull():
                self.update(rect)

    def level(self, participant_id: str) -> float:
        return self._tile(participant_id).level

    # == geometry ============================================================================
    def grid(self) -> tuple[int, int]:
        """(rows, columns) for the participants now (1 × 1 when there are none)."""
        return grid_for(len(self._tiles))

    def tile_rect(self, participant_id: str) -> QRect:
        """Where ``participant_id``'s tile is drawn (a null rect: it has no tile)."""
        index = self._index(participant_id)
        return QRect() if index is None else QRect(self._rects[index])

    def tile_at(self, pos: QPoint | QPointF) -> str | None:
        """The participant whose tile is under a widget position."""
        point = pos if isinstance(pos, QPoint) else pos.toPoint()
        for i, rect in enumerate(self._rects):
            if rect.contains(point):
                return self._tiles[i].card.id
        return None

    def band_height(self) -> int:
        return self._name_metrics.height() + 10

    def level_rect(self, participant_id: str) -> QRect:
        """Where the tile's level bar is (a null rect while the microphone is off)."""
        index = self._index(participant_id)
        if index is None:
            return QRect()
        tile, rect = self._tiles[index], self._rects[index]
        self._band_image(tile, rect.width())
        if tile.level_x < 0:
            return QRect()
        bh = self.band_height()
        return QRect(rect.x() + tile.level_x, rect.bottom() + 1 - bh, LEVEL_SEGMENTS * 4, bh)

    def _layout(self) -> None:
        """Tile rectangles for the size and the number of participants: equal 16:9 tiles, the
        grid centred, a short last row centred too."""
        shown = min(len(self._tiles), MAX_TILES)
        rows, cols = grid_for(shown)
        w, h = self.width(), self.height()
        cell_w = max(2.0, (w - GAP * (cols + 1)) / cols)
        cell_h = max(2.0, (h - GAP * (rows + 1)) / rows)
        tw, th = fit_16_9(cell_w, cell_h)
        block_w = cols * tw + (cols - 1) * GAP
        block_h = rows * th + (rows - 1) * GAP
        x0, y0 = (w - block_w) // 2, (h - block_h) // 2
        self._rects = []
        for i in range(shown):
            r, c = divmod(i, cols)
            in_row = min(cols, shown - r * cols)
            offset = (cols - in_row) * (tw + GAP) // 2
            self._rects.append(QRect(x0 + offset + c * (tw + GAP), y0 + r * (th + GAP), tw, th))
        background = QRegion(self.rect())
        for rect in self._rects:
            background = background.subtracted(QRegion(rect))
        self._background = background
        self._update_targets()

    def _update_targets(self) -> None:
        ratio = self.devicePixelRatioF()
        for i, tile in enumerate(self._tiles):
            if self._shown and i < MAX_TILES and tile.card.video_on:
                rect = self._rects[i]
                tile.feed.set_target_size(*fit_16_9(rect.width() * ratio, rect.height() * ratio))
            else:
                tile.feed.set_target_size(0, 0)

    # == the frame clock =====================================================================
    def _tick(self) -> None:
        ratio = self.devicePixelRatioF()
        for i, tile in enumerate(self._tiles):
            if i >= MAX_TILES or not tile.card.video_on:
                tile.feed.clear()
                continue
            taken = tile.feed.take()
            if taken is not None and self._show(tile, *taken, ratio):
                self.update(self._rects[i])

    @staticmethod
    def _show(tile: _Tile, array: Image, info: FrameInfo, ratio: float) -> bool:
        if array.ndim != 3 or array.shape[2] != 4 or array.dtype.itemsize != 1 or not array.flags.c_contiguous:
            return False
        h, w = int(array.shape[0]), int(array.shape[1])
        # No copy: the QImage reads the array's memory, which the tile keeps alive with it.
        image = QImage(array.data, w, h, int(array.strides[0]), QImage.Format.Format_RGB32)
        image.setDevicePixelRatio(ratio)
        tile.image, tile.array = image, array
        return True

    def has_picture(self, participant_id: str) -> bool:
        """Whether the tile shows a picture (else the avatar)."""
        return self._tile(participant_id).image is not None

    # == painting ============================================================================
    def overlay_text(self, participant_id: str) -> str:
        """The words over the tile: the connection's state, or that the camera is off."""
        card = self._tile(participant_id).card
        if card.state == "connecting":
            return self.tr("Connecting…")
        if card.state == "reconnecting":
            return self.tr("Reconnecting…")
        if not card.video_on:
            return self.tr("Camera off")
        return ""

    def paintEvent(self, event: QPaintEvent) -> None:
        region = event.region()
        p = QPainter(self)
        background = region.intersected(self._background)
        if not background.isEmpty():
            p.setClipRegion(background)
            p.fillRect(self.rect(), BACKGROUND)
            if not self._tiles:
                p.setFont(self._message_font)
                p.setPen(MUTED)
                p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.tr("Nobody has joined yet"))
        for i, rect in enumerate(self._rects):
            if region.intersects(rect):
                p.setClipRect(rect)
                self._paint_tile(p, self._tiles[i], rect)
        p.end()

    def _paint_tile(self, p: QPainter, tile: _Tile, rect: QRect) -> None:
        card = tile.card
        bh = self.band_height()
        image = tile.image if card.video_on else None
        if image is None:
            p.fillRect(rect, TILE_BACKGROUND)
            self._paint_avatar(p, tile, rect.adjusted(0, 0, 0, -bh))
        else:
            target = self._image_rect(image, rect, tile.feed.target_size())
            if target.toAlignedRect() != rect:
                p.fillRect(rect, TILE_BACKGROUND)
            if target.size() == image.deviceIndependentSize():
                p.drawImage(target.topLeft(), image)
            else:
                p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
                p.drawImage(target, image)
                p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
            if card.state != "live":
                p.fillRect(rect, DIM)
                self._paint_message(p, self.overlay_text(card.id), rect.adjusted(0, 0, 0, -bh))
        p.drawImage(QPoint(rect.x(), rect.bottom() + 1 - bh), self._band_image(tile, rect.width()))
        self._paint_level(p, tile, rect)
        if card.id == self._speaker:
            self._frame(p, rect, SPEAKER, SPEAKER_BORDER)
            icon = self._icon("speaking")
            p.drawPixmap(QPointF(rect.x() + SPEAKER_BORDER + 6, rect.y() + SPEAKER_BORDER + 6), icon)

    def _paint_avatar(self, p: QPainter, tile: _Tile, area: QRect) -> None:
        """Initials in a circle, and under it why there is no picture (if there is a reason)."""
        card = tile.card
        caption = self.overlay_text(card.id)
        caption_h = self._center_metrics.height() + 6 if caption else 0
        diameter = int(min(area.height() * 0.5, area.width() * 0.3, 112.0))
        if diameter < 16:
            return
        top = area.y() + (area.height() - diameter - caption_h) // 2
        x = area.x() + (area.width() - diameter) // 2
        p.drawPixmap(QPoint(x, top), self._avatar(card, diameter))
        if caption:
            p.setFont(self._center_font)
            p.setPen(AMBER if card.state != "live" else DETAIL)
            line = QRect(area.x() + 4, top + diameter + 6, area.width() - 8, self._center_metrics.height())
            text = self._center_metrics.elidedText(caption, Qt.TextElideMode.ElideRight, line.width())
            p.drawText(line, Qt.AlignmentFlag.AlignCenter, text)

    def _avatar(self, card: ParticipantCard, diameter: int) -> QPixmap:
        ratio = self.devicePixelRatioF()
        letters = initials(card.name)
        key = (card.id, letters, diameter, ratio)
        found = self._avatars.get(key)
        if found is None:
            if len(self._avatars) > 256:
                self._avatars.clear()
            found = QPixmap(round(diameter * ratio), round(diameter * ratio))
            found.setDevicePixelRatio(ratio)
            found.fill(Qt.GlobalColor.transparent)
            painter = QPainter(found)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(avatar_colour(card.id))
            painter.drawEllipse(QRectF(0.5, 0.5, diameter - 1.0, diameter - 1.0))
            font = QFont(self.font())
            font.setBold(True)
            font.setPixelSize(max(8, round(diameter * (0.30 if len(letters) > 1 else 0.42))))
            painter.setFont(font)
            painter.setPen(QColor("#ffffff"))
            painter.drawText(QRectF(0.0, 0.0, diameter, diameter), Qt.AlignmentFlag.AlignCenter, letters)
            painter.end()
            self._avatars[key] = found
        return found

    def _paint_message(self, p: QPainter, text: str, area: QRect) -> None:
        """A state in a box in the middle of a tile that shows a picture."""
        if not text:
            return
        fm = self._message_metrics
        text = fm.elidedText(text, Qt.TextElideMode.ElideRight, max(area.width() - 28, 20))
        box = QRect(0, 0, fm.horizontalAdvance(text) + 24, fm.height() + 12)
        box.moveCenter(area.center())
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(MESSAGE_BOX)
        p.drawRoundedRect(QRectF(box), 4.0, 4.0)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        p.setFont(self._message_font)
        p.setPen(AMBER)
        p.drawText(box, Qt.AlignmentFlag.AlignCenter, text)

    def _band_image(self, tile: _Tile, width: int) -> QImage:
        """The bottom band, rendered when its text changes: microphone, "Me", name, centre."""
        card = tile.card
        ratio = self.devicePixelRatioF()
        key = (card.name, card.center, card.audio_on, card.is_self, width, ratio)
        if tile.band is None or tile.band_key != key:
            height = self.band_height()
            image = QImage(round(width * ratio), round(height * ratio), QImage.Format.Format_ARGB32_Premultiplied)
            image.setDevicePixelRatio(ratio)
            image.fill(Qt.GlobalColor.transparent)
            painter = QPainter(image)
            tile.level_x = self._draw_band(painter, card, QRect(0, 0, width, height))
            painter.end()
            tile.band, tile.band_key = image, key
        return tile.band

    def _draw_band(self, p: QPainter, card: ParticipantCard, band: QRect) -> int:
        """Draws the band; returns where the level bar goes (-1: none)."""
        p.fillRect(band, BAND)
        x = band.x() + 8
        mid = band.y() + band.height() / 2.0
        p.drawPixmap(QPointF(x, mid - 7.0), self._icon("mic" if card.audio_on else "mic-off"))
        x += 16
        level_x = -1
        if card.audio_on:
            level_x = x
            x += LEVEL_SEGMENTS * 4
        x += 6
        right = band.right() - 8
        if card.is_self:
            text = self.tr("Me")
            fm = self._badge_metrics
            badge = QRect(x, round(mid - fm.height() / 2.0) - 1, fm.horizontalAdvance(text) + 10, fm.height() + 2)
            if badge.right() < right - 20:
                p.setRenderHint(QPainter.RenderHint.Antialiasing)
                p.setPen(Qt.PenStyle.NoPen)
                p.setBrush(SELF_BADGE)
                p.drawRoundedRect(QRectF(badge), 3.0, 3.0)
                p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
                p.setFont(self._badge_font)
                p.setPen(QColor("#0b1118"))
                p.drawText(badge, Qt.AlignmentFlag.AlignCenter, text)
                x = badge.right() + 7
        # The name comes first; the centre gets what is left, when that is worth showing.
        name = self._name_metrics.elidedText(card.name, Qt.TextElideMode.ElideRight, max(0, right - x))
        if name:
            p.setFont(self._name_font)
            p.setPen(TEXT)
            name_w = self._name_metrics.horizontalAdvance(name)
            p.drawText(QRect(x, band.y(), name_w + 2, band.height()), Qt.AlignmentFlag.AlignVCenter, name)
            x += name_w + 8
        if card.center and right - x >= 36:
            center = self._center_metrics.elidedText(card.center, Qt.TextElideMode.ElideRight, right - x)
            p.setFont(self._center_font)
            p.setPen(DETAIL)
            p.drawText(QRect(x, band.y(), right - x, band.height()), Qt.AlignmentFlag.AlignVCenter, center)
        return level_x

    def _paint_level(self, p: QPainter, tile: _Tile, rect: QRect) -> None:
        """The level bar: rising segments, lit from the left as loud as the participant is."""
        if tile.level_x < 0:
            return
        bh = self.band_height()
        base = rect.bottom() + 1 - bh + (bh + 12) // 2
        for k in range(LEVEL_SEGMENTS):
            height = 4 + 2 * k
            segment = QRect(rect.x() + tile.level_x + k * 4, base - height, 3, height)
            p.fillRect(segment, SPEAKER if k < tile.lit else LEVEL_OFF)

    def _icon(self, kind: str) -> QPixmap:
        """A small icon drawn once: ``mic``, ``mic-off`` (14 px) or ``speaking`` (22 px)."""
        ratio = self.devicePixelRatioF()
        found = self._icons.get((kind, ratio))
        if found is not None:
            return found
        size = 22 if kind == "speaking" else 14
        found = QPixmap(round(size * ratio), round(size * ratio))
        found.setDevicePixelRatio(ratio)
        found.fill(Qt.GlobalColor.transparent)
        p = QPainter(found)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        if kind == "speaking":
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(QColor(0, 0, 0, 170))
            p.drawEllipse(QRectF(0.0, 0.0, 22.0, 22.0))
            cone = QPainterPath()
            cone.moveTo(5.0, 9.0)
            cone.lineTo(8.0, 9.0)
            cone.lineTo(12.0, 5.5)
            cone.lineTo(12.0, 16.5)
            cone.lineTo(8.0, 13.0)
            cone.lineTo(5.0, 13.0)
            cone.closeSubpath()
            p.setBrush(SPEAKER)
            p.drawPath(cone)
            pen = QPen(SPEAKER, 1.6)
            pen.setCapStyle(Qt.PenCapStyle.RoundCap)
            p.setPen(pen)
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawArc(QRectF(9.5, 8.0, 6.0, 6.0), -60 * 16, 120 * 16)
            p.drawArc(QRectF(8.5, 5.0, 10.0, 12.0), -60 * 16, 120 * 16)
        else:
            colour = TEXT if kind == "mic" else RED
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(colour)
            p.drawRoundedRect(QRectF(4.8, 0.8, 4.4, 7.8), 2.2, 2.2)
            pen = QPen(colour, 1.3)
            pen.setCapStyle(Qt.PenCapStyle.RoundCap)
            p.setPen(pen)
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawArc(QRectF(2.8, 2.5, 8.4, 8.4), 180 * 16, 180 * 16)
            p.drawLine(QPointF(7.0, 10.9), QPointF(7.0, 12.6))
            p.drawLine(QPointF(4.8, 13.0), QPointF(9.2, 13.0))
            if kind == "mic-off":
                p.setPen(QPen(RED, 1.6))
                p.drawLine(QPointF(1.5, 1.5), QPointF(12.5, 12.5))
        p.end()
        self._icons[(kind, ratio)] = found
        return found

    @staticmethod
    def _image_rect(image: QImage, rect: QRect, target: tuple[int, int]) -> QRectF:
        """Where a picture goes: 1:1 when it has the tile's size, else scaled to fit; centred."""
        size = image.deviceIndependentSize()
        iw, ih = size.width(), size.height()
        if (image.width(), image.height()) != target or iw > rect.width() or ih > rect.height():
            k = min(rect.width() / max(iw, 1.0), rect.height() / max(ih, 1.0))
            iw, ih = min(round(iw * k), rect.width()), min(round(ih * k), rect.height())
        x = rect.x() + math.floor((rect.width() - iw) / 2.0)
        y = rect.y() + math.floor((rect.height() - ih) / 2.0)
        return QRectF(x, y, iw, ih)

    @staticmethod
    def _frame(p: QPainter, rect: QRect, colour: QColor, width: int) -> None:
        # Four filled strips: wide pens go through Qt's slow stroker.
        x, y, w, h = rect.x(), rect.y(), rect.width(), rect.height()
        p.fillRect(QRect(x, y, w, width), colour)
        p.fillRect(QRect(x, y + h - width, w, width), colour)
        p.fillRect(QRect(x, y + width, width, h - 2 * width), colour)
        p.fillRect(QRect(x + w - width, y + width, width, h - 2 * width), colour)

    # == events ===============================================================================
    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            participant = self.tile_at(event.pos())
            text = "" if participant is None else self.tooltip_text(participant)
            if text:
                QToolTip.showText(event.globalPos(), text, self)
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().event(event)

    def tooltip_text(self, participant_id: str) -> str:
        """The participant in full (names are elided on the tile)."""
        card = self._tile(participant_id).card
        lines = [card.name, card.center]
        if not card.audio_on:
            lines.append(self.tr("Microphone muted"))
        overlay = self.overlay_text(participant_id)
        if overlay:
            lines.append(overlay)
        return "\n".join(line for line in lines if line)

    def showEvent(self, event: QShowEvent) -> None:
        self._shown = True
        self._layout()
        self._timer.start()
        super().showEvent(event)

    def hideEvent(self, event: QHideEvent) -> None:
        # Nothing is taken or converted while hidden; the streams stay up.
        self._shown = False
        self._timer.stop()
        self._update_targets()
        super().hideEvent(event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._layout()
        super().resizeEvent(event)


class _ElidedLabel(QLabel):
    """A one-line label that elides its text instead of widening the tool bar."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setMinimumWidth(40)

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setPen(self.palette().color(self.foregroundRole()))
        p.setFont(self.font())
        rect = self.contentsRect()
        text = self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, rect.width())
        p.drawText(rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text)
        p.end()


class ConferencePanel(QWidget):
    """Tool bar, the participants' grid (:attr:`grid`), status line (see the module's
    docstring)."""

    mute_toggled = Signal(bool)
    """The operator muted (True) or unmuted their microphone."""
    camera_toggled = Signal(bool)
    """The operator turned their camera off (True) or on."""
    invite_requested = Signal()
    link_requested = Signal()
    """The operator wants a one-time link for a guest in a browser."""
    leave_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("conferencePanel")
        self.setStyleSheet(STYLE)
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self.grid = ConferenceGrid()
        self._status = ""
        self.status_error = False

        toolbar = QFrame()
        toolbar.setObjectName("conferenceToolbar")
        # The title on a row of its own: a room named after an incident is long, and the
        # buttons would leave it a few characters on a narrow screen.
        rows = QVBoxLayout(toolbar)
        rows.setContentsMargins(10, 6, 10, 6)
        rows.setSpacing(4)
        head = QHBoxLayout()
        bar = QHBoxLayout()
        bar.setSpacing(6)
        rows.addLayout(head)
        rows.addLayout(bar)
        titles = QHBoxLayout()
        titles.setSpacing(12)
        titles.setSpacing(0)
        self.title_label = _ElidedLabel()
        self.title_label.setObjectName("conferenceTitle")
        self.subtitle_label = _ElidedLabel()
        self.subtitle_label.setObjectName("muted")
        titles.addWidget(self.title_label, 3)
        titles.addWidget(self.subtitle_label, 1)
        head.addLayout(titles, 1)
        bar.addStretch(1)

        def tool(tip: str, checkable: bool = False) -> QToolButton:
            button = QToolButton()
            button.setToolTip(tip)
            button.setCheckable(checkable)
            button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
            bar.addWidget(button)
            return button

        self.mute_button = tool(self.tr("Mute or unmute your microphone"), checkable=True)
        self.camera_button = tool(self.tr("Turn your camera off or on"), checkable=True)
        bar.addSpacing(10)
        self.invite_button = tool(self.tr("Invite command centres or people"))
        self.invite_button.setText(self.tr("Invite…"))
        self.link_button = tool(self.tr("Create a one-time link for a guest in a browser"))
        self.link_button.setText(self.tr("Guest link"))
        bar.addSpacing(10)
        self.leave_button = tool(self.tr("Leave the conference"))
        self.leave_button.setObjectName("leaveButton")
        self.leave_button.setText(self.tr("Leave"))

        self.mute_button.toggled.connect(self._retext)
        self.camera_button.toggled.connect(self._retext)
        # clicked, not toggled: only the operator's click is a request; set_local_state is not.
        self.mute_button.clicked.connect(self.mute_toggled)
        self.camera_button.clicked.connect(self.camera_toggled)
        self.invite_button.clicked.connect(self.invite_requested)
        self.link_button.clicked.connect(self.link_requested)
        self.leave_button.clicked.connect(self.leave_requested)

        status = QFrame()
        status.setObjectName("conferenceStatus")
        line = QHBoxLayout(status)
        line.setContentsMargins(10, 3, 10, 3)
        self.status_label = QLabel()
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.overflow_label = QLabel()
        self.overflow_label.setObjectName("muted")
        line.addWidget(self.status_label, 1)
        line.addWidget(self.overflow_label)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(toolbar)
        layout.addWidget(self.grid, 1)
        layout.addWidget(status)
        self._retext()

    def sizeHint(self) -> QSize:
        return QSize(960, 620)

    def _retext(self) -> None:
        muted, camera_off = self.mute_button.isChecked(), self.camera_button.isChecked()
        self.mute_button.setText(self.tr("Unmute") if muted else self.tr("Mute"))
        self.camera_button.setText(self.tr("Turn camera on") if camera_off else self.tr("Turn camera off"))

    # == attributes down =======================================================================
    def set_room(self, title: str, subtitle: str = "") -> None:
        """The conference's name and a line under it (e.g. "3 人 · 14:02 开始")."""
        self.title_label.setText(title)
        self.title_label.setToolTip(title)
        self.subtitle_label.setText(subtitle)
        self.subtitle_label.setVisible(bool(subtitle))

    def set_participants(self, cards: Sequence[ParticipantCard]) -> None:
        """Everyone in the conference, in the order to show them (see
        :meth:`ConferenceGrid.set_participants`)."""
        self.grid.set_participants(cards)
        hidden = self.grid.hidden_count()
        self.overflow_label.setText(self.tr("%n more not shown", "", hidden) if hidden else "")

    def feed(self, participant_id: str) -> TileFeed:
        """The feed of ``participant_id``'s tile (KeyError: not in the conference)."""
        return self.grid.feed(participant_id)

    def set_active_speaker(self, participant_id: str | None) -> None:
        self.grid.set_active_speaker(participant_id)

    def set_level(self, participant_id: str, level: float) -> None:
        self.grid.set_level(participant_id, level)

    def set_local_state(self, muted: bool, camera_off: bool) -> None:
        """Show the operator's own microphone and camera as they are (emits nothing)."""
        self.mute_button.setChecked(muted)
        self.camera_button.setChecked(camera_off)

    def show_status(self, text: str, error: bool = False) -> None:
        """The outcome of the operator's last action, with the time."""
        self._status, self.status_error = text, error
        self.status_label.setStyleSheet(f"color: {'#ff6b5e' if error else '#dbe5ee'};")
        self.status_label.setText(f"{time.strftime('%H:%M:%S')}  {text}" if text else "")

    def status_text(self) -> str:
        """The last status text (without the time)."""
        return self._status


class InviteDialog(QDialog):
    """Pick command centres and people to invite: a filter over two checkable lists.
    :meth:`selected` gives the keys checked (centres first), in the order given."""

    def __init__(
        self,
        centers: Sequence[tuple[str, str]],
        people: Sequence[tuple[str, str, str]],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("inviteDialog")
        self.setStyleSheet(DIALOG_STYLE)
        self.setWindowTitle(self.tr("Invite to the conference"))
        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText(self.tr("Filter by name or centre"))
        self.filter_edit.setClearButtonEnabled(True)
        self.centers_list = QListWidget()
        self.people_list = QListWidget()
        for widget in (self.centers_list, self.people_list):
            # The style draws a check box's outline from the window colour, darkened: on this
            # dark theme it would vanish, so the lists get a lighter one of their own.
            palette = widget.palette()
            for role, colour in (
                (QPalette.ColorRole.Window, "#9fb0c2"),
                (QPalette.ColorRole.Base, "#131b24"),
                (QPalette.ColorRole.Text, "#eef3f8"),
                (QPalette.ColorRole.Highlight, "#1f4a66"),
                (QPalette.ColorRole.HighlightedText, "#ffffff"),
            ):
                palette.setColor(role, QColor(colour))
            widget.setPalette(palette)
            widget.setSpacing(2)
        for key, label in centers:
            self._add(self.centers_list, key, label, label)
        for key, name, center in people:
            self._add(self.people_list, key, f"{name}  ·  {center}" if center else name, f"{name} {center}")
        self.count_label = QLabel()
        self.count_label.setObjectName("muted")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText(self.tr("Invite"))
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        lists = QHBoxLayout()
        for title, widget in ((self.tr("Command centres"), self.centers_list), (self.tr("People"), self.people_list)):
            column = QVBoxLayout()
            column.addWidget(QLabel(title))
            column.addWidget(widget, 1)
            lists.addLayout(column, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.count_label, 1)
        bottom.addWidget(self.buttons)
        layout = QVBoxLayout(self)
        layout.addWidget(self.filter_edit)
        layout.addLayout(lists, 1)
        layout.addLayout(bottom)
        self.resize(560, 420)

        self.filter_edit.textChanged.connect(self._filter)
        self.centers_list.itemChanged.connect(self._count)
        self.people_list.itemChanged.connect(self._count)
        self._count()

    @staticmethod
    def _add(widget: QListWidget, key: str, text: str, search: str) -> None:
        item = QListWidgetItem(text)
        item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsSelectable)
        item.setCheckState(Qt.CheckState.Unchecked)
        item.setData(Qt.ItemDataRole.UserRole, key)
        item.setData(Qt.ItemDataRole.UserRole + 1, f"{search} {key}".casefold())
        widget.addItem(item)

    def _items(self) -> list[QListWidgetItem]:
        return [w.item(i) for w in (self.centers_list, self.people_list) for i in range(w.count())]

    def _filter(self, text: str) -> None:
        # Checked items stay checked while the filter hides them: filtering is for finding.
        words = text.casefold().split()
        for item in self._items():
            haystack = str(item.data(Qt.ItemDataRole.UserRole + 1))
            item.setHidden(not all(word in haystack for word in words))

    def _count(self) -> None:
        n = len(self.selected())
        self.count_label.setText(self.tr("%n selected", "", n))
        self.ok_button.setEnabled(n > 0)

    def selected(self) -> list[str]:
        """The keys checked, centres first, each list in the order given."""
        return [
            str(item.data(Qt.ItemDataRole.UserRole))
            for item in self._items()
            if item.checkState() == Qt.CheckState.Checked
        ]

    def visible_keys(self) -> list[str]:
        """The keys the filter lets through."""
        return [str(item.data(Qt.ItemDataRole.UserRole)) for item in self._items() if not item.isHidden()]

    def set_checked(self, key: str, checked: bool = True) -> None:
        """Check (or uncheck) the item of ``key``."""
        for item in self._items():
            if item.data(Qt.ItemDataRole.UserRole) == key:
                item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
