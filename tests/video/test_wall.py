"""The video wall, offscreen, fed from a real thread as the media thread feeds it: frames shown and
dropped, stalls, grids, drag and drop (from the list, the map and between tiles), enlarging,
AI-alarm highlights, tours, saved layouts; the camera list and the wall's screen. Renders
/tmp/video_wall_4.png, /tmp/video_wall_16.png and /tmp/video_panel.png for a person to look at,
and prints what painting 16 live tiles costs the Qt thread."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator, Sequence

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEvent, QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QContextMenuEvent, QDrag, QDragEnterEvent, QDragMoveEvent, QDropEvent, QMouseEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from app.console.qt import choose_font, install_translations
from app.domain.devices import Device, DeviceKind, DeviceState
from app.domain.district import DistrictMap
from app.setup_data import build_translations
from support.server import timeout_scale
from widgets.map.view2d import STREET_SCALE, MapView
from widgets.video.cameras import CameraList
from widgets.video.feed import CAMERA_MIME, FrameInfo, TileFeed, camera_payload, parse_camera_payload
from widgets.video.panel import VideoWallPanel
from widgets.video.wall import TileState, VideoWall

#: Pop-up menus grab the keyboard, which the offscreen platform cannot do; it says so.
menus = pytest.mark.qt_log_ignore("This plugin does not support grabbing the keyboard", extend=True)

STREETS = {
    "310107005": "曹杨新村街道",
    "310107014": "长风新村街道",
    "310107015": "长寿路街道",
    "310107016": "甘泉路街道",
    "310107017": "石泉路街道",
    "310107020": "宜川路街道",
    "310107021": "万里街道",
    "310107022": "真如镇街道",
    "310107102": "长征镇",
    "310107103": "桃浦镇",
}
PLACES = [
    "长寿路枣阳路口",
    "中山北路光复西路",
    "曹杨路兰溪路",
    "大渡河路金沙江路",
    "真北路铜川路",
    "武宁路桥东",
    "桃浦路祁连山路",
    "苏州河梦清园",
]


def ms(seconds: float) -> int:
    return round(seconds * 1000 * timeout_scale())


@pytest.fixture(scope="module")
def app(qapp: QApplication) -> QApplication:
    """The CJK font and the Chinese translation, as the console sets them."""
    if not qapp.property("cityops_video_test_setup"):
        build_translations()
        choose_font(qapp)
        install_translations(qapp, "zh")
        qapp.setProperty("cityops_video_test_setup", True)
    return qapp


def show(qtbot: QtBot, widget: QWidget, w: int, h: int) -> None:
    qtbot.addWidget(widget)
    widget.resize(w, h)
    widget.show()
    qtbot.waitExposed(widget)


@pytest.fixture
def wall(app: QApplication, qtbot: QtBot) -> Iterator[VideoWall]:
    widget = VideoWall()
    show(qtbot, widget, 960, 540)
    yield widget
    widget.close()


# -- test pictures ------------------------------------------------------------------------------------
GLYPHS = {
    "0": "111101101101111",
    "1": "010110010010111",
    "2": "111001111100111",
    "3": "111001111001111",
    "4": "101101111001001",
    "5": "111100111001111",
    "6": "111100111101111",
    "7": "111001010010010",
    "8": "111101111101111",
    "9": "111101111001111",
    "#": "101111101111101",
    " ": "000000000000000",
}


def draw_text(image: np.ndarray, text: str, x: int, y: int, scale: int) -> None:
    """Write digits in white, 3 × 5 cells of ``scale`` pixels, on a dark box."""
    w = len(text) * 4 * scale + scale
    image[max(0, y - scale) : y + 6 * scale, max(0, x - scale) : x + w, :3] = 20
    for k, ch in enumerate(text):
        bits = GLYPHS[ch]
        for cell, bit in enumerate(bits):
            if bit == "1":
                r, c = divmod(cell, 3)
                y0, x0 = y + r * scale, x + (k * 4 + c) * scale
                image[y0 : y0 + scale, x0 : x0 + scale, :3] = 255


def picture(w: int, h: int, tile: int, n: int) -> np.ndarray:
    """A BGRA test picture: a gradient tinted per tile, a bar that moves with the frame number,
    the tile's number large and the frame number small."""
    image = np.empty((h, w, 4), dtype=np.uint8)
    xs = np.linspace(0.0, 1.0, w, dtype=np.float32)[None, :]
    ys = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None]
    tint = (tile * 53) % 180
    image[..., 0] = (40 + 150 * xs + 0 * ys).astype(np.uint8)
    image[..., 1] = (30 + 120 * ys + 0 * xs).astype(np.uint8)
    image[..., 2] = np.uint8(tint)
    image[..., 3] = 255
    bar = max(2, w // 40)
    x = (n * 6) % max(1, w - bar)
    image[:, x : x + bar, :3] = (0, 200, 255)
    big = max(2, h // 18)
    draw_text(image, f"#{tile + 1}", w // 2 - 5 * big, h // 2 - 2 * big, big)
    small = max(1, h // 60)
    draw_text(image, f"{n:04d}", 6 * small, h - 10 * small, small)
    return image


class Feeder(threading.Thread):
    """The media thread's part: offers a picture to each feed ``fps`` times a second, in the
    size the feed asks for. Keeps its own CPU time in :attr:`cpu`."""

    def __init__(self, feeds: Sequence[TileFeed], fps: float = 15.0, distinct: bool = True, period: int = 15) -> None:
        super().__init__(daemon=True, name="test-feeder")
        self.feeds = list(feeds)
        self.fps = fps
        self.distinct = distinct
        self.period = period
        self.halt = threading.Event()
        self.cpu = 0.0
        self.rounds = 0
        self._cache: dict[tuple[int, int, int, int], np.ndarray] = {}

    def frame(self, w: int, h: int, tile: int, n: int) -> np.ndarray:
        key = (w, h, tile if self.distinct else 0, n % self.period)
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = picture(w, h, key[2], key[3])
        return found

    def run(self) -> None:
        start = time.thread_time()
        due = time.monotonic()
        n = 0
        while not self.halt.wait(max(0.0, due - time.monotonic())):
            for k, feed in enumerate(self.feeds):
                w, h = feed.target_size()
                feed.offer(self.frame(w, h, k, n), FrameInfo(time.time() - 0.085, 80.0 + 3 * k))
            n += 1
            self.rounds = n
            due += 1.0 / self.fps
        self.cpu = time.thread_time() - start

    def __enter__(self) -> Feeder:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.halt.set()
        self.join(5.0)


def fill(wall: VideoWall, count: int | None = None, prefix: str = "CAM") -> list[tuple[str, str]]:
    cameras = []
    for i in range(wall.count() if count is None else count):
        camera = (f"{prefix}-{i:03d}", f"{PLACES[i % len(PLACES)]} {i + 1}号")
        wall.assign(i, *camera)
        cameras.append(camera)
    return cameras


def centre(wall: VideoWall, index: int) -> QPoint:
    return wall.tile_rect(index).center()


def drop(widget: QWidget, mime: QMimeData, at: QPoint) -> bool:
    """Drag ``mime`` in at ``at`` and drop it, as Qt delivers a drag from elsewhere."""
    pos = QPointF(at)
    actions = Qt.DropAction.CopyAction | Qt.DropAction.MoveAction
    buttons, mods = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(at, actions, mime, buttons, mods)
    QApplication.sendEvent(widget, enter)
    move = QDragMoveEvent(at, actions, mime, buttons, mods)
    QApplication.sendEvent(widget, move)
    event = QDropEvent(pos, actions, mime, buttons, mods)
    QApplication.sendEvent(widget, event)
    return event.isAccepted()


def camera_mime(camera_id: str, name: str) -> QMimeData:
    mime = QMimeData()
    mime.setData(CAMERA_MIME, camera_payload(camera_id, name))
    return mime


def move_with_button(widget: QWidget, at: QPoint) -> None:
    pos = QPointF(at)
    event = QMouseEvent(
        QEvent.Type.MouseMove,
        pos,
        QPointF(widget.mapToGlobal(at)),
        Qt.MouseButton.NoButton,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(widget, event)


def colour_at(widget: QWidget, at: QPoint) -> QColor:
    return widget.grab().toImage().pixelColor(at)


# -- the feed ----------------------------------------------------------------------------------------
def test_the_feed_keeps_the_newest_frame_and_counts_the_rest() -> None:
    feed = TileFeed()
    frames = [np.full((4, 6, 4), n, dtype=np.uint8) for n in range(5)]
    assert feed.take() is None
    for n, f in enumerate(frames):
        feed.offer(f, FrameInfo(None, float(n)))
    taken = feed.take()
    assert taken is not None and taken[0] is frames[-1] and taken[1].delay_ms == 4.0
    assert (feed.offered, feed.dropped, feed.taken) == (5, 4, 1)
    assert feed.take() is None
    assert parse_camera_payload(camera_payload("CAM-1", "长寿路")) == ("CAM-1", "长寿路")
    assert parse_camera_payload(b"not json") is None
    assert parse_camera_payload(b'{"name": "no id"}') is None


# -- frames from another thread --------------------------------------------------------------------
def test_frames_from_a_thread_are_shown_with_rate_and_delay(wall: VideoWall, qtbot: QtBot) -> None:
    cameras = fill(wall)
    assert wall.tiles() == [c[0] for c in cameras]
    assert all(wall.state(i) is TileState.CONNECTING for i in range(4))
    w, h = wall.feed(0).target_size()
    assert w % 2 == 0 and h % 2 == 0 and abs(w / h - 16 / 9) < 0.02
    rect = wall.tile_rect(0)
    assert w <= rect.width() and h <= rect.height() and (w >= rect.width() - 2 or h >= rect.height() - 2)
    feeds = [wall.feed(i) for i in range(4)]
    with Feeder(feeds, fps=15.0):
        # The first frame makes a connecting tile live.
        qtbot.waitUntil(lambda: all(wall.state(i) is TileState.LIVE for i in range(4)), timeout=ms(3))
        qtbot.wait(2200)
        rates = [wall.fps(i) for i in range(4)]
        delays = [wall.delay_ms(i) for i in range(4)]
        wall.select(1)
        wall.grab().save("/tmp/video_wall_4.png")
    assert all(f.taken >= 25 for f in feeds), [f.taken for f in feeds]
    assert all(10.0 <= r <= 17.0 for r in rates), rates
    assert delays[0] is not None and abs(delays[0] - 80.0) < 1.0
    assert delays[3] is not None and abs(delays[3] - 89.0) < 1.0
    # English, or Chinese when an earlier test installed the translation in this process.
    assert wall.rate_text(0).endswith((" ms", " 毫秒")) and ("fps" in wall.rate_text(0) or "帧/秒" in wall.rate_text(0))
    # The picture is drawn 1:1: the tile's centre is the picture's centre.
    image = wall.grab_frame(2)
    assert image is not None and (image.width(), image.height()) == wall.feed(2).target_size()
    shot = wall.grab().toImage()
    assert shot.pixelColor(centre(wall, 2)) == image.pixelColor(image.width() // 2, image.height() // 2)


def test_a_faster_stream_drops_frames_and_the_newest_is_shown(wall: VideoWall, qtbot: QtBot) -> None:
    wall.assign(0, "CAM-FAST", "快")
    feed = wall.feed(0)
    w, h = feed.target_size()
    done = threading.Event()

    def flood() -> None:
        # 200 frames a second for a second: far faster than the wall's ~30 Hz clock.
        for n in range(1, 201):
            feed.offer(np.full((h, w, 4), n, dtype=np.uint8), FrameInfo(None, None))
            time.sleep(0.005)
        done.set()

    thread = threading.Thread(target=flood, daemon=True)
    thread.start()
    qtbot.waitUntil(done.is_set, timeout=ms(5))
    thread.join()
    qtbot.waitUntil(lambda: feed.taken + feed.dropped == feed.offered, timeout=ms(1))
    assert feed.offered == 200
    assert feed.dropped > 100 and feed.taken >= 10, (feed.dropped, feed.taken)
    image = wall.grab_frame(0)
    assert image is not None and image.pixelColor(0, 0) == QColor(200, 200, 200)
    assert wall.delay_ms(0) is None
    assert wall.rate_text(0).endswith(("fps", "帧/秒"))


def test_a_live_tile_stalls_without_frames_and_recovers(wall: VideoWall, qtbot: QtBot) -> None:
    wall.stall_s = 0.4
    wall.assign(0, "CAM-1", "曹杨路")
    wall.set_state(0, TileState.LIVE)
    feed = wall.feed(0)
    w, h = feed.target_size()
    offered_at = time.monotonic()
    threading.Thread(target=lambda: feed.offer(picture(w, h, 0, 1), FrameInfo(None, 40.0))).start()
    qtbot.waitUntil(lambda: feed.taken == 1, timeout=ms(2))
    with qtbot.waitSignal(wall.tileStateChanged, timeout=ms(3)):
        pass
    qtbot.waitUntil(lambda: wall.state(0) is TileState.STALLED, timeout=ms(3))
    assert time.monotonic() - offered_at >= 0.4
    assert wall.state_text(0) == wall.tr("Signal lost, reconnecting…")
    # The frozen picture stays, dimmed; a new frame makes the tile live again.
    assert wall.grab_frame(0) is not None
    feed.offer(picture(w, h, 0, 2), FrameInfo(None, 40.0))
    qtbot.waitUntil(lambda: wall.state(0) is TileState.LIVE, timeout=ms(2))
    # A tile the owner says is offline throws frames away.
    wall.set_state(0, TileState.OFFLINE, "设备无心跳")
    feed.offer(picture(w, h, 0, 3), FrameInfo(None, 40.0))
    qtbot.wait(150)
    assert wall.state(0) is TileState.OFFLINE


# -- the grid ------------------------------------------------------------------------------------------
def test_the_grid_grows_keeping_cameras_and_shrinks_unassigning(wall: VideoWall, qtbot: QtBot) -> None:
    fill(wall)
    changes: list[int] = []
    wall.tilesChanged.connect(lambda: changes.append(1))
    with qtbot.waitSignal(wall.gridChanged) as blocker:
        wall.set_grid(3, 3)
    assert blocker.args == [3, 3]
    assert wall.tiles() == ["CAM-000", "CAM-001", "CAM-002", "CAM-003", None, None, None, None, None]
    assert changes == []
    small = wall.feed(0).target_size()
    wall.set_grid(4, 4)
    assert wall.feed(0).target_size()[0] < small[0]
    wall.set_grid(1, 1)
    assert wall.tiles() == ["CAM-000"] and changes == [1]
    assert wall.feed(0).target_size()[0] > small[0]
    # A custom grid, and what is not a grid.
    wall.set_grid(2, 3)
    assert wall.count() == 6 and wall.grid() == (2, 3)
    with pytest.raises(ValueError):
        wall.set_grid(7, 1)
    with pytest.raises(ValueError):
        wall.set_grid(0, 2)


def test_assign_gives_a_fresh_feed_and_unassign_idles(wall: VideoWall) -> None:
    wall.assign(1, "CAM-A", "甲")
    feed = wall.feed(1)
    wall.assign(1, "CAM-A", "甲")  # the same camera: nothing changes
    assert wall.feed(1) is feed
    wall.assign(1, "CAM-B", "乙")
    assert wall.feed(1) is not feed and wall.index_of("CAM-B") == 1 and wall.index_of("CAM-A") is None
    assert wall.first_free() == 0
    wall.unassign(1)
    assert wall.state(1) is TileState.IDLE and wall.tiles()[1] is None
    wall.set_state(1, TileState.LIVE)  # a tile without a camera stays idle
    assert wall.state(1) is TileState.IDLE


# -- drag and drop ---------------------------------------------------------------------------------
def test_a_camera_dropped_on_a_tile_is_offered_to_the_owner(wall: VideoWall, qtbot: QtBot) -> None:
    with qtbot.waitSignal(wall.cameraDropped, timeout=1000) as blocker:
        assert drop(wall, camera_mime("CAM-9", "桃浦路祁连山路"), centre(wall, 2))
    assert blocker.args == [2, "CAM-9", "桃浦路祁连山路"]
    assert wall.selected() == 2
    assert wall.tiles()[2] is None  # the owner assigns
    # Not a camera, or in a gap: refused.
    other = QMimeData()
    other.setText("hello")
    assert not drop(wall, other, centre(wall, 1))
    assert not drop(wall, camera_mime("CAM-9", "x"), QPoint(1, 1))


def test_dragging_a_tile_onto_another_swaps_them(wall: VideoWall, qtbot: QtBot) -> None:
    fill(wall, 2)
    feed0, feed1 = wall.feed(0), wall.feed(1)
    with qtbot.waitSignal(wall.tilesSwapped, timeout=1000) as swapped, qtbot.waitSignal(wall.tilesChanged):
        assert drop(wall, wall.tile_mime(0), centre(wall, 1))
    assert swapped.args == [0, 1]
    assert wall.tiles()[:2] == ["CAM-001", "CAM-000"]
    # Feeds move with their cameras: streams keep playing.
    assert wall.feed(1) is feed0 and wall.feed(0) is feed1
    # Onto an empty tile: the camera moves there.
    assert drop(wall, wall.tile_mime(1), centre(wall, 3))
    assert wall.tiles() == ["CAM-001", None, None, "CAM-000"]
    # The mouse starts the drag: press on a tile with a camera and move past the drag distance.
    # (Offscreen, QDrag.exec returns at once; the drag object is left to inspect.)
    start = centre(wall, 3)
    QTest.mousePress(wall, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    move_with_button(wall, start + QPoint(QApplication.startDragDistance() + 5, 0))
    drags = wall.findChildren(QDrag)
    assert drags, "no drag started"
    mime = drags[-1].mimeData()
    assert parse_camera_payload(bytes(mime.data(CAMERA_MIME).data())) == ("CAM-000", "长寿路枣阳路口 1号")
    # A tile drag from another wall is a camera drop here, not a swap.
    other = VideoWall()
    other.assign(0, "CAM-X", "别处")
    with qtbot.waitSignal(wall.cameraDropped, timeout=1000) as blocker:
        assert drop(wall, other.tile_mime(0), centre(wall, 1))
    assert blocker.args == [1, "CAM-X", "别处"]
    other.deleteLater()


def test_a_camera_drags_off_the_map(app: QApplication, qtbot: QtBot, district_map: DistrictMap) -> None:
    view = MapView(district_map)
    view.animation_ms = 0
    show(qtbot, view, 900, 600)
    lon0, lat0 = district_map.district.geometry.representative_point().coords[0]
    base = {"type": "dome", "street": "310107103"}
    view.set_devices(
        [
            Device(id="SN-1", kind=DeviceKind.SENSOR, lon=lon0, lat=lat0, name="烟感 1", **base),
            Device(id="CAM-7", kind=DeviceKind.CAMERA, lon=lon0 + 0.004, lat=lat0, name="长征镇 7号", **base),
        ]
    )
    view.center_on(lon0, lat0, STREET_SCALE)
    view.grab()  # paint, so the hit test knows the markers
    camera = view.to_screen(lon0 + 0.004, lat0).toPoint()
    centre_before = view.center()
    QTest.mousePress(view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, camera)
    move_with_button(view, camera + QPoint(QApplication.startDragDistance() + 4, 3))
    drags = view.findChildren(QDrag)
    assert drags, "no drag started from the camera"
    assert parse_camera_payload(bytes(drags[-1].mimeData().data(CAMERA_MIME).data())) == ("CAM-7", "长征镇 7号")
    assert view.center() == centre_before  # the map did not pan
    QTest.mouseRelease(view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, camera)
    # A press on a sensor still pans the map.
    sensor = view.to_screen(lon0, lat0).toPoint()
    QTest.mousePress(view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, sensor)
    move_with_button(view, sensor + QPoint(60, 0))
    QTest.mouseRelease(view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, sensor + QPoint(60, 0))
    assert view.center() != centre_before
    assert len(view.findChildren(QDrag)) == len(drags)
    # And a click on a camera still activates it.
    view.center_on(lon0, lat0, STREET_SCALE)
    view.grab()
    with qtbot.waitSignal(view.deviceActivated, timeout=2000) as blocker:
        QTest.mouseClick(view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, camera)
    assert blocker.args == ["CAM-7"]
    view.close()


# -- selection, enlarging, menus -------------------------------------------------------------------
def test_double_click_enlarges_a_tile_and_restores_the_grid(wall: VideoWall, qtbot: QtBot) -> None:
    fill(wall)
    grid_size = wall.feed(0).target_size()
    with qtbot.waitSignal(wall.tileSelected) as selected:
        QTest.mouseClick(wall, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, centre(wall, 1))
    assert selected.args == [1] and wall.selected() == 1
    QTest.mouseDClick(wall, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, centre(wall, 1))
    assert wall.enlarged() == 1
    big = wall.feed(1).target_size()
    # The tiles behind the enlarged one want nothing: no picture is converted for them.
    assert big[0] > 1.8 * grid_size[0] and wall.feed(0).target_size() == (0, 0)
    assert wall.tile_rect(1).width() > 900 and wall.tile_at(QPoint(10, 10)) == 1
    QTest.mouseDClick(wall, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(480, 270))
    assert wall.enlarged() is None and wall.feed(1).target_size() == grid_size
    # Esc restores too; Enter enlarges the selected tile.
    wall.setFocus()
    QTest.keyClick(wall, Qt.Key.Key_Return)
    assert wall.enlarged() == 1
    QTest.keyClick(wall, Qt.Key.Key_Escape)
    assert wall.enlarged() is None
    QTest.keyClick(wall, Qt.Key.Key_Down)
    assert wall.selected() == 3


@menus
def test_the_tile_menu_snapshots_and_removes(wall: VideoWall, qtbot: QtBot) -> None:
    fill(wall, 2)
    wall.feed(0).offer(picture(*wall.feed(0).target_size(), 0, 1), FrameInfo(None, None))
    qtbot.waitUntil(lambda: wall.grab_frame(0) is not None, timeout=ms(1))
    menu = wall.tile_menu(0)
    actions = {a.text(): a for a in menu.actions()}
    snapshot, remove = actions[wall.tr("Snapshot to incident")], actions[wall.tr("Remove from wall")]
    assert snapshot.isEnabled() and remove.isEnabled()
    with qtbot.waitSignal(wall.snapshotRequested) as blocker:
        snapshot.trigger()
    assert blocker.args == [0]
    with qtbot.waitSignal(wall.unassignRequested) as blocker, qtbot.waitSignal(wall.tilesChanged):
        remove.trigger()
    assert blocker.args == [0] and wall.tiles()[0] is None
    empty = {a.text(): a for a in wall.tile_menu(0).actions()}
    assert not empty[wall.tr("Snapshot to incident")].isEnabled()
    # The real context menu pops up on a tile, and selects it.
    at = centre(wall, 1)
    QApplication.sendEvent(wall, QContextMenuEvent(QContextMenuEvent.Reason.Mouse, at, wall.mapToGlobal(at)))
    assert wall.context_menu is not None and wall.selected() == 1
    wall.context_menu.close()


def test_an_ai_alarm_pulses_until_it_expires(wall: VideoWall, qtbot: QtBot) -> None:
    fill(wall)
    assert wall.highlight("CAM-002", seconds=0.6)
    assert not wall.highlight("CAM-NOT-HERE", seconds=0.6)
    assert wall.is_highlighted(2) and not wall.is_highlighted(1)
    rect = wall.tile_rect(2)
    edge = QPoint(rect.left() + 1, rect.center().y())
    red = colour_at(wall, edge)
    assert red.red() > 100 and red.green() < 80, red.name()
    # The mark follows the camera when tiles swap.
    wall.swap(2, 0)
    assert wall.is_highlighted(0) and not wall.is_highlighted(2)
    qtbot.waitUntil(lambda: not wall.is_highlighted(0), timeout=ms(2))
    qtbot.wait(80)
    rect = wall.tile_rect(0)
    assert colour_at(wall, QPoint(rect.left() + 1, rect.center().y())).red() < 100


# -- tours, saved layouts ---------------------------------------------------------------------------
def test_a_tour_pages_through_the_cameras(wall: VideoWall, qtbot: QtBot) -> None:
    cameras = [(f"T-{i}", f"轮巡 {i}") for i in range(10)]
    with qtbot.waitSignal(wall.tourChanged) as started, qtbot.waitSignal(wall.tilesChanged):
        wall.start_tour(cameras, 0.25)
    assert started.args == [True] and wall.touring()
    assert wall.tiles() == ["T-0", "T-1", "T-2", "T-3"] and wall.tour_page() == (0, 3)
    with qtbot.waitSignal(wall.tilesChanged, timeout=ms(2)):
        pass
    assert wall.tiles() == ["T-4", "T-5", "T-6", "T-7"]
    with qtbot.waitSignal(wall.tilesChanged, timeout=ms(2)):
        pass
    assert wall.tiles() == ["T-8", "T-9", None, None] and wall.tour_page() == (2, 3)
    with qtbot.waitSignal(wall.tilesChanged, timeout=ms(2)):
        pass
    assert wall.tiles() == ["T-0", "T-1", "T-2", "T-3"]
    # A bigger grid shows more a page and goes on touring.
    wall.set_grid(3, 3)
    assert wall.tiles()[:9] == [f"T-{i}" for i in range(9)] and wall.tour_page() == (0, 2)
    # A smaller one drops the tiles beyond it, and says so, even when the first stay the same.
    with qtbot.waitSignal(wall.tilesChanged, timeout=100):
        wall.set_grid(1, 2)
    assert wall.tiles() == ["T-0", "T-1"] and wall.tour_page() == (0, 5)
    with qtbot.waitSignal(wall.tourChanged) as stopped:
        wall.stop_tour()
    assert stopped.args == [False] and not wall.touring()
    shown = wall.tiles()
    qtbot.wait(400)
    assert wall.tiles() == shown  # the last page stays


def test_the_layout_is_saved_and_restored(app: QApplication, wall: VideoWall, qtbot: QtBot) -> None:
    wall.set_grid(2, 3)
    wall.assign(0, "CAM-1", "曹杨路兰溪路")
    wall.assign(4, "CAM-5", "真北路铜川路")
    saved = json.loads(json.dumps(wall.save_state()))
    assert saved == {
        "rows": 2,
        "cols": 3,
        "tiles": [
            {"id": "CAM-1", "name": "曹杨路兰溪路"},
            None,
            None,
            None,
            {"id": "CAM-5", "name": "真北路铜川路"},
            None,
        ],
    }
    other = VideoWall()
    show(qtbot, other, 640, 360)
    with qtbot.waitSignal(other.tilesChanged):
        other.restore_state(saved)
    assert other.grid() == (2, 3) and other.tiles() == wall.tiles()
    assert other.title(4) == "真北路铜川路" and other.state(4) is TileState.CONNECTING
    # Nonsense is left out rather than failing.
    other.restore_state({"rows": 99, "cols": "x", "tiles": [{"id": 5}, "junk", {"id": "OK"}]})
    assert other.grid() == (2, 3) and other.tiles()[:3] == [None, None, "OK"]
    other.close()


# -- pictures for a person to look at ---------------------------------------------------------------
def test_render_sixteen_tiles_in_every_state(app: QApplication, qtbot: QtBot) -> None:
    wall = VideoWall()
    show(qtbot, wall, 1600, 900)
    wall.set_grid(4, 4)
    fill(wall)
    wall.assign(5, "CAM-LONG", "普陀区长寿路街道苏州河梦清园环保主题公园西侧步道 3号高空瞭望摄像机")
    live = [0, 1, 3, 5, 6, 9, 12, 13]
    feeds = [wall.feed(i) for i in [*live, 2, 10]]
    with Feeder(feeds, fps=15.0):
        qtbot.waitUntil(lambda: all(wall.state(i) is TileState.LIVE for i in live), timeout=ms(3))
        qtbot.wait(600)
    # Tiles 2 and 10 showed frames and then stopped: one stalled, one reconnecting.
    wall.set_state(2, TileState.STALLED)
    wall.set_state(10, TileState.RECONNECTING)
    for i in live:
        wall.set_state(i, TileState.LIVE)  # the feeder stopped; the picture is live for the render
    wall.set_state(4, TileState.CONNECTING)
    wall.set_state(7, TileState.REFUSED, "街道值班员不可查看他街道的摄像机")
    wall.set_state(8, TileState.OFFLINE, "设备无心跳 (最后 09:42)")
    wall.unassign(11)
    wall.unassign(15)
    wall.set_state(14, TileState.REFUSED, "")
    wall.highlight("CAM-006", 30.0)
    wall.select(9)
    wall.stall_s = 60.0
    image = wall.grab().toImage()
    image.save("/tmp/video_wall_16.png")
    assert wall.state_text(11) == wall.tr("Drag a camera here")
    assert wall.state_text(7).endswith("街道值班员不可查看他街道的摄像机")
    wall.close()


def cameras(n: int = 48) -> list[Device]:
    codes = list(STREETS)
    states = [DeviceState.NORMAL] * 8 + [DeviceState.ALARM, DeviceState.OFFLINE, DeviceState.FAULT]
    return [
        Device(
            id=f"CAM-{codes[i % len(codes)][-3:]}-{i:03d}",
            kind=DeviceKind.CAMERA,
            type="high_altitude" if i % 5 == 0 else "dome",
            name=f"{STREETS[codes[i % len(codes)]].removesuffix('街道')} {PLACES[i % len(PLACES)]} {i + 1}号",
            lon=121.40 + 0.001 * i,
            lat=31.25,
            street=codes[i % len(codes)],
            state=states[i % len(states)],
        )
        for i in range(n)
    ]


# -- the camera list ---------------------------------------------------------------------------------
def test_the_camera_list_groups_filters_and_drags(app: QApplication, qtbot: QtBot) -> None:
    listing = CameraList()
    show(qtbot, listing, 320, 700)
    devices = cameras(30)
    sensor = Device(id="SN-1", kind=DeviceKind.SENSOR, type="smoke", name="烟感", lon=0, lat=0, street="310107005")
    listing.set_cameras([*devices, sensor])
    listing.set_street_names(STREETS)
    assert "SN-1" not in listing.camera_ids() and len(listing.camera_ids()) == 30
    assert listing.proxy.rowCount() == 10
    first_group = listing.proxy.index(0, 0)
    assert first_group.data().startswith("曹杨新村街道") and first_group.data().endswith("(3)")
    assert listing.filter_edit.placeholderText() == listing.tr("Search cameras")
    # The filter matches names, ids and street names.
    listing.set_filter("长寿路街道")
    shown = listing.visible_cameras()
    assert shown and all(cid.startswith("CAM-015-") for cid, _ in shown)
    listing.set_filter(devices[7].id.lower())
    assert listing.visible_cameras() == [(devices[7].id, devices[7].name)]
    listing.filter_edit.clear()
    assert len(listing.visible_cameras()) == 30
    # Tours skip cameras that do not work; a selected street tours its own.
    assert len(listing.tour_cameras()) == len(
        [d for d in devices if d.state not in (DeviceState.OFFLINE, DeviceState.FAULT)]
    )
    listing.view.setCurrentIndex(listing.proxy.index(2, 0))
    assert listing.current_street() == "310107015"
    assert {cid[:7] for cid, _ in listing.tour_cameras()} == {"CAM-015"}
    # Drag data.
    mime = listing.mime_data(devices[3].id)
    assert parse_camera_payload(bytes(mime.data(CAMERA_MIME).data())) == (devices[3].id, devices[3].name)
    assert listing.model.mimeTypes() == [CAMERA_MIME]
    # States update; a camera that changes street moves.
    moved = Device(
        id=devices[0].id,
        kind=DeviceKind.CAMERA,
        type="dome",
        name="新名字",
        lon=0,
        lat=0,
        street="310107103",
        state=DeviceState.OFFLINE,
    )
    listing.update_cameras([moved])
    index = listing.index_of(devices[0].id)
    assert index.isValid() and index.data() == "新名字" and index.parent().data().startswith("桃浦镇")
    assert len(listing.camera_ids()) == 30
    # Double click activates.
    listing.view.scrollTo(index)
    rect = listing.view.visualRect(index)
    with qtbot.waitSignal(listing.cameraActivated) as blocker:
        # A real double click: a click, then the second press arrives as the double click.
        QTest.mouseClick(
            listing.view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, rect.center()
        )
        QTest.mouseDClick(
            listing.view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, rect.center()
        )
    assert blocker.args == [devices[0].id, "新名字"]
    listing.close()


# -- the screen ----------------------------------------------------------------------------------------
def test_the_panel_places_cameras_tours_and_reports(app: QApplication, qtbot: QtBot) -> None:
    panel = VideoWallPanel()
    show(qtbot, panel, 1920, 1080)
    wall = panel.wall
    devices = cameras(48)
    panel.cameras.set_cameras(devices)
    panel.cameras.set_street_names(STREETS)
    # The owner assigns whatever reaches it through cameraDropped.
    wall.cameraDropped.connect(wall.assign)
    panel.layout_buttons[9].click()
    assert wall.grid() == (3, 3) and panel.layout_buttons[9].isChecked()
    panel.cameras.cameraActivated.emit("CAM-A", "甲")
    panel.cameras.cameraActivated.emit("CAM-B", "乙")
    assert wall.tiles()[:3] == ["CAM-A", "CAM-B", None]  # the first free tiles
    wall.select(5)
    panel.cameras.cameraActivated.emit("CAM-C", "丙")
    assert wall.tiles()[5] == "CAM-C"  # the selected tile
    # Custom grids.
    panel.grid_picker.rows.setValue(2)
    panel.grid_picker.cols.setValue(5)
    panel.grid_picker.apply.click()
    assert wall.grid() == (2, 5) and not any(b.isChecked() for b in panel.layout_buttons.values())
    assert panel.custom_button.text() == "2×5"
    panel.layout_buttons[9].click()
    # Snapshot: refused without a picture, asked for with one.
    wall.select(None)
    panel.snapshot_button.click()
    assert panel.message_level == "warn" and panel.message() == panel.tr("Select a tile first")
    wall.select(0)
    panel.snapshot_button.click()
    assert panel.message() == panel.tr("This tile shows no picture yet")
    # Tour: the cameras the list shows; the button follows the wall.
    panel.cameras.set_filter("曹杨")
    panel.tour_interval.setValue(5)
    panel.tour_button.setChecked(True)
    assert wall.touring() and set(wall.tiles()) - {None} <= {cid for cid, _ in panel.cameras.visible_cameras()}
    wall.stop_tour()
    assert not panel.tour_button.isChecked()
    panel.cameras.set_filter("没有这个摄像机")
    panel.tour_button.setChecked(True)
    assert not wall.touring() and not panel.tour_button.isChecked() and panel.message_level == "warn"
    panel.cameras.set_filter("")
    # The picture of the whole screen, with live tiles and an outcome message.
    for i, d in enumerate(devices[:9]):
        wall.assign(i, d.id, d.name)
    wall.set_state(7, TileState.REFUSED, "无该街道权限")
    wall.set_state(8, TileState.OFFLINE)
    with Feeder([wall.feed(i) for i in range(7)], fps=15.0):
        qtbot.waitUntil(lambda: all(wall.state(i) is TileState.LIVE for i in range(7)), timeout=ms(3))
        qtbot.wait(500)
        wall.select(0)
        with qtbot.waitSignal(wall.snapshotRequested) as blocker:
            panel.snapshot_button.click()
        assert blocker.args == [0]
        panel.show_message("快照已附加到事件 #123", "ok")
        wall.highlight(devices[4].id)
        panel.grab().save("/tmp/video_panel.png")
    assert panel.message_level == "ok" and "快照已附加到事件 #123" in panel.message_label.text()
    assert panel.summary_label.text()
    panel.close()


# -- what it costs -----------------------------------------------------------------------------------
def test_paint_cost_of_sixteen_live_tiles(app: QApplication, qtbot: QtBot) -> None:
    """Not a limit: prints the Qt thread's CPU time for 16 tiles of 480 × 270 at 15 fps."""
    wall = VideoWall()
    show(qtbot, wall, 4 * 480 + 5 * 2, 4 * 270 + 5 * 2)
    wall.set_grid(4, 4)
    fill(wall)
    assert {wall.feed(i).target_size() for i in range(16)} == {(480, 270)}
    feeds = [wall.feed(i) for i in range(16)]
    paints = 0
    original = wall.paintEvent

    def counting(event: object) -> None:
        nonlocal paints
        paints += 1
        original(event)  # type: ignore[arg-type]

    wall.paintEvent = counting  # type: ignore[method-assign]
    with Feeder(feeds, fps=15.0, distinct=False) as feeder:
        qtbot.waitUntil(lambda: all(wall.state(i) is TileState.LIVE for i in range(16)), timeout=ms(5))
        qtbot.wait(300)  # the feeder's pictures are made; measure steady state
        taken0 = sum(f.taken for f in feeds)
        main0, process0, wall0 = time.thread_time(), time.process_time(), time.monotonic()
        qtbot.wait(3000)
        main1, process1, wall1 = time.thread_time(), time.process_time(), time.monotonic()
        taken = sum(f.taken for f in feeds) - taken0
    elapsed = wall1 - wall0
    main = main1 - main0
    print(
        f"\nvideo wall paint cost: 16 tiles 480x270 @15 fps for {elapsed:.1f} s: "
        f"{taken} frames shown ({taken / elapsed:.0f}/s), {paints} paint events, "
        f"Qt thread CPU {main * 1000:.0f} ms ({100 * main / elapsed:.1f}% of a core, "
        f"{1000 * main / max(taken, 1):.2f} ms per frame shown); "
        f"process CPU {1000 * (process1 - process0):.0f} ms; feeder thread (whole run) {feeder.cpu * 1000:.0f} ms"
    )
    assert taken > 0
    wall.close()
