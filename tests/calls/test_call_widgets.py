"""The conference and talk group widgets, offscreen: the conference grid fed from a real thread as
the media thread feeds it (pictures, avatars, the active speaker, levels, the operator's own
toggles), the invite dialog, the talk panel pressed and released with the mouse, and the
application-wide push-to-talk key. Renders /tmp/conference_3.png, /tmp/conference_6.png and
/tmp/talk_panel.png for a person to look at, in Chinese."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEvent, QObject, QPoint, Qt, QTranslator
from PySide6.QtGui import QColor, QImage, QKeyEvent, QKeySequence, QShortcut
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLineEdit, QWidget
from pytestqt.qtbot import QtBot

from app.console.qt import choose_font, install_translations
from support.server import timeout_scale
from widgets.calls.conference import (
    SPEAKER,
    ConferencePanel,
    InviteDialog,
    ParticipantCard,
    avatar_colour,
    grid_for,
    initials,
)
from widgets.calls.talk import PTT_SIZE, PttKey, TalkGroupView, TalkPanel
from widgets.video.feed import FrameInfo, TileFeed

#: The Chinese the operators will read, for the rendered pictures only (the shipped translation
#: is made with lupdate from the sources; no assertion depends on this table).
ZH = {
    "Connecting…": "连接中…",
    "Reconnecting…": "重连中…",
    "Camera off": "摄像头已关闭",
    "Me": "我",
    "Mute": "静音",
    "Unmute": "取消静音",
    "Turn camera off": "关闭摄像头",
    "Turn camera on": "打开摄像头",
    "Invite…": "邀请…",
    "Guest link": "访客链接",
    "Leave": "离开",
    "Join": "加入",
    "Not joined": "未加入",
    "I am talking": "我在讲话",
    "%1 is talking": "%1 正在讲话",
    "Queued, position %1": "排队第 %1 位",
    "Requesting the floor…": "请求话权…",
    "Idle": "空闲",
    "Emergency call": "紧急呼叫",
    "Join the group\nto talk": "加入通话组\n后可讲话",
    "Talking": "正在讲话",
    "Requesting…": "请求话权…",
    "Queued #%1": "排队第 %1 位",
    "Hold to talk": "按住讲话",
    "Take back the floor": "收回话权",
    "Receiving": "收听",
    "Microphone": "麦克风",
    "No microphone": "无麦克风",
    "or hold %1": "或按住 %1 键",
    "No talk groups": "没有通话组",
    "No talk group selected": "未选择通话组",
    "%n more not shown": "另有 %n 人未显示",
    "Nobody has joined yet": "还没有人加入",
    "Invite to the conference": "邀请参会",
    "Filter by name or centre": "按姓名或指挥中心筛选",
    "Command centres": "指挥中心",
    "People": "人员",
    "Invite": "邀请",
    "%n selected": "已选 %n 项",
}


class Chinese(QTranslator):
    """:data:`ZH` as a translator (None: not ours, ask the next one)."""

    def translate(self, context: str, source: str, disambiguation: str | None = None, n: int = -1) -> str | None:
        return ZH.get(source)

    def isEmpty(self) -> bool:
        return False


def ms(seconds: float) -> int:
    return round(seconds * 1000 * timeout_scale())


@pytest.fixture(scope="module")
def app(qapp: QApplication) -> QApplication:
    """The CJK font and the Chinese translation, as the console sets them."""
    if not qapp.property("cityops_calls_test_setup"):
        choose_font(qapp)
        install_translations(qapp, "zh")
        qapp.setProperty("cityops_calls_test_setup", True)
    return qapp


def show(qtbot: QtBot, widget: QWidget, w: int, h: int) -> None:
    qtbot.addWidget(widget)
    widget.resize(w, h)
    widget.show()
    qtbot.waitExposed(widget)


@pytest.fixture
def conference(app: QApplication, qtbot: QtBot) -> Iterator[ConferencePanel]:
    panel = ConferencePanel()
    show(qtbot, panel, 960, 600)
    yield panel
    panel.close()


NAMES = [
    ("王建国", "长寿路街道指挥室"),
    ("李敏", "区城运中心"),
    ("张伟", "访客(浏览器)"),
    ("陈晓燕", "曹杨新村街道指挥室"),
    ("刘洋", "城管中心"),
    ("赵志强", "真如镇街道指挥室"),
    ("周静", "桃浦镇指挥室"),
    ("吴磊", "宜川路街道指挥室"),
    ("孙丽华", "公安分局指挥中心"),
]


def cards(count: int, **changes: dict[str, Any]) -> list[ParticipantCard]:
    """``count`` participants p0, p1, …; ``changes`` maps an id to the fields to change."""
    made = []
    for i in range(count):
        name, center = NAMES[i % len(NAMES)]
        card = ParticipantCard(f"p{i}", name, center, is_self=i == 0)
        made.append(replace(card, **changes.get(card.id, {})))
    return made


def solid(w: int, h: int, rgb: tuple[int, int, int]) -> np.ndarray:
    image = np.empty((h, w, 4), dtype=np.uint8)
    image[...] = (rgb[2], rgb[1], rgb[0], 255)
    return image


def scene(w: int, h: int, tint: int) -> np.ndarray:
    """A BGRA stand-in for a camera picture: a lit wall behind a dark desk, tinted per person."""
    ys = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None]
    xs = np.linspace(0.0, 1.0, w, dtype=np.float32)[None, :]
    light = 0.55 + 0.45 * np.exp(-(((xs - 0.5) / 0.35) ** 2) - (((ys - 0.35) / 0.5) ** 2))
    image = np.empty((h, w, 4), dtype=np.uint8)
    base = np.array([[90, 110, 140], [120, 120, 95], [95, 90, 130], [80, 125, 110], [130, 100, 90]])[tint % 5]
    for c in range(3):
        image[..., c] = np.clip(base[c] * light, 0, 255).astype(np.uint8)
    image[..., 3] = 255
    desk = int(h * 0.78)
    image[desk:, :, :3] = (38, 44, 52)
    # A head and shoulders, so the picture reads as a person at a desk.
    cy, cx, r = int(h * 0.42), w // 2, max(4, h // 7)
    yy, xx = np.ogrid[:h, :w]
    image[(yy - cy) ** 2 + (xx - cx) ** 2 <= r * r, :3] = (120, 150, 190)
    shoulders = ((yy - (cy + 2.6 * r)) ** 2 / (1.6 * r) ** 2 + (xx - cx) ** 2 / (2.4 * r) ** 2 <= 1) & (yy < desk)
    image[shoulders, :3] = (70, 60, 50)
    return image


class Feeder(threading.Thread):
    """The media thread's part: offers a picture to each feed 30 times a second, in the size the
    feed asks for (none while it asks for 0 × 0)."""

    def __init__(self, feeds: Sequence[tuple[TileFeed, object]]) -> None:
        super().__init__(daemon=True, name="test-call-feeder")
        self.feeds = list(feeds)
        self.halt = threading.Event()
        self.offered = 0

    def picture(self, w: int, h: int, what: object) -> np.ndarray:
        if isinstance(what, tuple):
            return solid(w, h, what)
        assert isinstance(what, int)
        return scene(w, h, what)

    def run(self) -> None:
        while not self.halt.wait(1.0 / 30.0):
            for feed, what in self.feeds:
                w, h = feed.target_size()
                if w and h:
                    feed.offer(self.picture(w, h, what), FrameInfo(time.time(), 40.0))
                    self.offered += 1

    def __enter__(self) -> Feeder:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.halt.set()
        self.join(5.0)


def near(colour: QColor, rgb: tuple[int, int, int], tolerance: int = 4) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip((colour.red(), colour.green(), colour.blue()), rgb, strict=True))


def grab(widget: QWidget) -> QImage:
    return widget.grab().toImage()


# -- the conference grid -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("count", "grid"),
    [(1, (1, 1)), (2, (1, 2)), (3, (2, 2)), (4, (2, 2)), (5, (2, 3)), (9, (3, 3)), (12, (4, 4)), (18, (4, 4))],
)
def test_the_grid_grows_with_the_participants(conference: ConferencePanel, count: int, grid: tuple[int, int]) -> None:
    conference.set_participants(cards(count))
    view = conference.grid
    assert view.grid() == grid == grid_for(count)
    rects = [view.tile_rect(f"p{i}") for i in range(count)]
    shown = [r for r in rects if not r.isNull()]
    assert len(shown) == min(count, 16)
    assert all(r.isNull() for r in rects[16:])
    for i, rect in enumerate(shown):
        assert view.rect().contains(rect)
        assert abs(rect.width() * 9 - rect.height() * 16) <= 32, rect  # 16:9, to a pixel or two
        assert not any(rect.intersects(other) for other in shown[i + 1 :])
    rows, cols = grid
    assert len({r.y() for r in shown}) == min(rows, -(-len(shown) // cols))
    # The tiles fill the grid's width or its height, and the block is centred.
    left, right = min(r.left() for r in shown), max(r.right() for r in shown)
    assert abs((left + right) / 2 - view.width() / 2) <= 2
    if count == 3:
        # A short last row is centred too.
        assert abs(rects[2].center().x() - view.width() / 2) <= 2
    if count > 16:
        assert view.hidden_count() == count - 16
        assert conference.overflow_label.text() == conference.tr("%n more not shown", "", count - 16)
    else:
        assert conference.overflow_label.text() == ""


def test_frames_from_a_thread_show_on_their_tiles(conference: ConferencePanel, qtbot: QtBot) -> None:
    colours = {"p0": (220, 40, 40), "p1": (40, 200, 60), "p2": (50, 90, 230)}
    conference.set_participants(cards(3))
    feeds = [(conference.feed(pid), rgb) for pid, rgb in colours.items()]
    for feed, _ in feeds:
        w, h = feed.target_size()
        assert w > 100 and abs(w * 9 - h * 16) <= 32
    with Feeder(feeds):
        qtbot.waitUntil(lambda: all(conference.grid.has_picture(pid) for pid in colours), timeout=ms(3))
        qtbot.wait(100)
    image = grab(conference.grid)
    for pid, rgb in colours.items():
        rect = conference.grid.tile_rect(pid)
        assert near(image.pixelColor(rect.center()), rgb), pid
        # Drawn 1:1 edge to edge: the picture reaches the tile's top corners.
        assert near(image.pixelColor(rect.topLeft() + QPoint(1, 1)), rgb), pid
        assert near(image.pixelColor(rect.topRight() + QPoint(-1, 1)), rgb), pid
    # Between the tiles: the background, not a picture.
    gap = conference.grid.tile_rect("p0").topRight() + QPoint(3, 10)
    assert near(image.pixelColor(gap), (11, 17, 24))
    # Each participant keeps its feed while it stays; one who leaves takes theirs along.
    kept = conference.feed("p1")
    gone = conference.feed("p2")
    conference.set_participants(cards(2))
    assert conference.feed("p1") is kept
    assert gone.target_size() == (0, 0)
    with pytest.raises(KeyError):
        conference.feed("p2")


def test_the_active_speaker_has_a_green_border(conference: ConferencePanel, qtbot: QtBot) -> None:
    conference.set_participants(cards(3))
    with Feeder([(conference.feed(f"p{i}"), (30, 30, 30)) for i in range(3)]):
        qtbot.waitUntil(lambda: all(conference.grid.has_picture(f"p{i}") for i in range(3)), timeout=ms(3))
    conference.set_active_speaker("p1")
    image = grab(conference.grid)
    speaker = (SPEAKER.red(), SPEAKER.green(), SPEAKER.blue())
    rect = conference.grid.tile_rect("p1")
    for edge in (
        QPoint(rect.left() + 1, rect.center().y()),
        QPoint(rect.right() - 1, rect.center().y()),
        QPoint(rect.center().x(), rect.top() + 1),
    ):
        assert near(image.pixelColor(edge), speaker), edge
    assert near(image.pixelColor(rect.center()), (30, 30, 30))
    other = conference.grid.tile_rect("p0")
    assert not near(image.pixelColor(QPoint(other.left() + 1, other.center().y())), speaker)
    conference.set_active_speaker(None)
    image = grab(conference.grid)
    assert not near(image.pixelColor(QPoint(rect.left() + 1, rect.center().y())), speaker)
    assert conference.grid.active_speaker() is None


def test_a_participant_without_video_shows_an_avatar(conference: ConferencePanel, qtbot: QtBot) -> None:
    conference.set_participants(cards(2, p1={"video_on": False}))
    grid = conference.grid
    assert grid.overlay_text("p1") == grid.tr("Camera off")
    assert grid.overlay_text("p0") == ""
    assert conference.feed("p1").target_size() == (0, 0)
    # The media thread would send nothing; even a picture it does send is not shown.
    conference.feed("p1").offer(solid(64, 36, (255, 0, 255)), FrameInfo(None, None))
    qtbot.wait(120)
    assert not grid.has_picture("p1")
    assert initials("王建国") == "建国" and initials("Li Min") == "LM" and initials("") == "?"
    image = grab(grid)
    rect = grid.tile_rect("p1")
    colour = avatar_colour("p1")
    avatar = [
        QPoint(x, y)
        for x in range(rect.left(), rect.right(), 4)
        for y in range(rect.top(), rect.bottom() - grid.band_height(), 4)
        if near(image.pixelColor(x, y), (colour.red(), colour.green(), colour.blue()), 2)
    ]
    assert len(avatar) > 40, "no avatar circle"
    # A participant whose camera goes off loses the picture it showed, not kept frozen.
    with Feeder([(conference.feed("p0"), (200, 200, 40))]):
        qtbot.waitUntil(lambda: grid.has_picture("p0"), timeout=ms(3))
        conference.set_participants(cards(2, p0={"video_on": False}, p1={"video_on": False}))
        assert not grid.has_picture("p0")
        qtbot.wait(150)
        assert not grid.has_picture("p0")


def test_connecting_and_reconnecting_are_shown_over_the_tile(conference: ConferencePanel, qtbot: QtBot) -> None:
    conference.set_participants(cards(3, p1={"state": "connecting"}, p2={"state": "reconnecting"}))
    grid = conference.grid
    assert grid.overlay_text("p1") == grid.tr("Connecting…")
    assert grid.overlay_text("p2") == grid.tr("Reconnecting…")
    with Feeder([(conference.feed("p2"), (200, 200, 200)), (conference.feed("p0"), (200, 200, 200))]):
        qtbot.waitUntil(lambda: grid.has_picture("p2") and grid.has_picture("p0"), timeout=ms(3))
    image = grab(grid)
    live, dimmed = grid.tile_rect("p0"), grid.tile_rect("p2")
    probe = QPoint(12, dimmed.height() // 4)
    assert near(image.pixelColor(live.topLeft() + probe), (200, 200, 200))
    assert image.pixelColor(dimmed.topLeft() + probe).red() < 140
    with pytest.raises(ValueError):
        ParticipantCard("x", "x", "x", state="gone")


def test_the_level_bar_follows_the_participant(conference: ConferencePanel) -> None:
    conference.set_participants(cards(2, p1={"audio_on": False}))
    grid = conference.grid
    assert grid.level_rect("p1").isNull()
    rect = grid.level_rect("p0")
    assert not rect.isNull() and grid.tile_rect("p0").contains(rect)

    def lit() -> int:
        image = grab(grid)
        return sum(
            near(image.pixelColor(x, y), (SPEAKER.red(), SPEAKER.green(), SPEAKER.blue()), 2)
            for x in range(rect.left(), rect.right() + 1)
            for y in range(rect.top(), rect.bottom() + 1)
        )

    assert lit() == 0
    conference.set_level("p0", 1.0)
    loud = lit()
    conference.set_level("p0", 0.3)
    quiet = lit()
    assert loud > quiet > 0
    assert grid.level("p0") == 0.3
    conference.set_level("nobody", 1.0)  # ignored


def test_the_operators_toggles_emit_and_set_local_state_does_not(conference: ConferencePanel, qtbot: QtBot) -> None:
    muted: list[bool] = []
    camera: list[bool] = []
    conference.mute_toggled.connect(muted.append)
    conference.camera_toggled.connect(camera.append)
    assert conference.mute_button.text() == conference.tr("Mute")
    QTest.mouseClick(conference.mute_button, Qt.MouseButton.LeftButton)
    assert muted == [True]
    assert conference.mute_button.text() == conference.tr("Unmute")
    QTest.mouseClick(conference.camera_button, Qt.MouseButton.LeftButton)
    assert camera == [True]
    assert conference.camera_button.text() == conference.tr("Turn camera on")
    conference.set_local_state(muted=False, camera_off=False)
    conference.set_local_state(muted=True, camera_off=False)
    assert muted == [True] and camera == [True]
    assert conference.mute_button.isChecked() and not conference.camera_button.isChecked()
    assert conference.camera_button.text() == conference.tr("Turn camera off")
    QTest.mouseClick(conference.mute_button, Qt.MouseButton.LeftButton)
    assert muted == [True, False]


def test_the_tool_bar_asks_and_shows(conference: ConferencePanel, qtbot: QtBot) -> None:
    for button, signal in (
        (conference.invite_button, conference.invite_requested),
        (conference.link_button, conference.link_requested),
        (conference.leave_button, conference.leave_requested),
    ):
        with qtbot.waitSignal(signal, timeout=ms(1)):
            QTest.mouseClick(button, Qt.MouseButton.LeftButton)
    conference.set_room("事件 #1234 指挥会话", "3 人 · 14:02 开始")
    assert conference.title_label.text() == "事件 #1234 指挥会话"
    assert conference.subtitle_label.isVisibleTo(conference)
    conference.set_room("区城运中心例会")
    assert not conference.subtitle_label.isVisibleTo(conference)
    conference.show_status("访客链接已复制", error=False)
    assert conference.status_text() == "访客链接已复制" and "访客链接已复制" in conference.status_label.text()
    conference.show_status("邀请失败：对方不在线", error=True)
    assert conference.status_error and "#ff6b5e" in conference.status_label.styleSheet()


def test_a_hidden_grid_asks_for_no_pictures(conference: ConferencePanel, qtbot: QtBot) -> None:
    conference.set_participants(cards(2))
    assert conference.feed("p0").target_size() != (0, 0)
    conference.hide()
    assert conference.feed("p0").target_size() == (0, 0)
    conference.show()
    qtbot.waitExposed(conference)
    assert conference.feed("p0").target_size() != (0, 0)


def test_the_invite_dialog_filters_and_returns_the_keys_checked(app: QApplication, qtbot: QtBot) -> None:
    centers = [("street:310107015", "长寿路街道"), ("field:城管", "城管中心"), ("district", "区城运中心")]
    people = [
        ("user:wang", "王建国", "长寿路街道"),
        ("user:li", "李敏", "区城运中心"),
        ("user:zhang", "张伟", "城管中心"),
    ]
    dialog = InviteDialog(centers, people)
    qtbot.addWidget(dialog)
    assert dialog.selected() == [] and not dialog.ok_button.isEnabled()
    dialog.filter_edit.setText("长寿路")
    assert dialog.visible_keys() == ["street:310107015", "user:wang"]
    dialog.set_checked("user:wang")
    dialog.filter_edit.setText("城管")
    assert dialog.visible_keys() == ["field:城管", "user:zhang"]
    dialog.set_checked("field:城管")
    # Checked and filtered away is still checked; the order is the lists', centres first.
    assert dialog.selected() == ["field:城管", "user:wang"]
    assert dialog.ok_button.isEnabled()
    dialog.filter_edit.setText("")
    assert len(dialog.visible_keys()) == 6
    dialog.filter_edit.setText("李 区城运")
    assert dialog.visible_keys() == ["user:li"]
    dialog.set_checked("user:wang", False)
    assert dialog.selected() == ["field:城管"]
    assert dialog.count_label.text() == dialog.tr("%n selected", "", 1)


# -- the talk panel ----------------------------------------------------------------------------------
CHANGSHOU = "street:310107015"
INCIDENT = "incident:42"
CHENGGUAN = "field:城管"


def groups(**changes: dict[str, Any]) -> list[TalkGroupView]:
    """The three groups of the panel; ``changes`` maps a group's kind to the fields to change."""
    base = [
        TalkGroupView(CHANGSHOU, "长寿路街道", joined=True, state="listening", talker="王建国"),
        TalkGroupView(INCIDENT, "事件 #42", joined=True),
        TalkGroupView(CHENGGUAN, "城管中心"),
    ]
    return [replace(view, **changes.get(view.group.split(":")[0], {})) for view in base]


@pytest.fixture
def talk(app: QApplication, qtbot: QtBot) -> Iterator[TalkPanel]:
    panel = TalkPanel()
    panel.set_groups(groups())
    show(qtbot, panel, 760, 480)
    yield panel
    panel.close()


class Recorder:
    def __init__(self, panel: TalkPanel) -> None:
        self.events: list[tuple[object, ...]] = []
        panel.ptt_pressed.connect(lambda g, e: self.events.append(("pressed", g, e)))
        panel.ptt_released.connect(lambda g: self.events.append(("released", g)))
        panel.join_requested.connect(lambda g: self.events.append(("join", g)))
        panel.leave_requested.connect(lambda g: self.events.append(("leave", g)))
        panel.revoke_requested.connect(lambda g: self.events.append(("revoke", g)))


def press(button: QWidget) -> None:
    QTest.mousePress(button, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, button.rect().center())


def release(button: QWidget) -> None:
    QTest.mouseRelease(button, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, button.rect().center())


def test_the_ptt_button_talks_while_held(talk: TalkPanel) -> None:
    rec = Recorder(talk)
    assert talk.selected_group() == CHANGSHOU  # the first joined group
    talk.select_group(INCIDENT)
    press(talk.ptt_button)
    assert rec.events == [("pressed", INCIDENT, False)]
    assert talk.held_group() == INCIDENT
    release(talk.ptt_button)
    assert rec.events == [("pressed", INCIDENT, False), ("released", INCIDENT)]
    assert talk.held_group() is None


def test_the_emergency_button_presses_with_emergency(talk: TalkPanel) -> None:
    rec = Recorder(talk)
    button = talk.emergency_button
    press(button)
    release(button)
    assert rec.events == [("pressed", CHANGSHOU, True), ("released", CHANGSHOU)]


def test_a_group_not_joined_cannot_be_talked_in(talk: TalkPanel) -> None:
    rec = Recorder(talk)
    talk.select_group(CHENGGUAN)
    assert not talk.ptt_button.isEnabled() and not talk.emergency_button.isEnabled()
    assert talk.ptt_button.property("floor") == "off"
    press(talk.ptt_button)
    release(talk.ptt_button)
    assert not talk.press_ptt()
    assert rec.events == []


def test_every_press_gets_one_release(talk: TalkPanel) -> None:
    rec = Recorder(talk)
    talk.select_group(INCIDENT)
    # The group is left while the button is held: the button is disabled under the finger.
    press(talk.ptt_button)
    talk.set_groups(groups(incident={"joined": False}))
    release(talk.ptt_button)
    assert rec.events == [("pressed", INCIDENT, False), ("released", INCIDENT)]
    # Another group selected while a key holds the floor: the release goes where the press went.
    rec.events.clear()
    talk.set_groups(groups())
    talk.select_group(INCIDENT)
    assert talk.press_ptt() and talk.ptt_button.isDown()
    assert not talk.press_ptt()
    talk.select_group(CHANGSHOU)
    talk.release_ptt()
    talk.release_ptt()
    assert rec.events == [("pressed", INCIDENT, False), ("released", INCIDENT)]
    assert not talk.ptt_button.isDown()


def test_state_lines_and_the_button_follow_the_floor(talk: TalkPanel) -> None:
    tr = talk.tr
    assert talk.row_state_text(CHANGSHOU) == tr("%1 is talking").replace("%1", "王建国")
    assert talk.row_state_text(INCIDENT) == tr("Idle")
    assert talk.row_state_text(CHENGGUAN) == tr("Not joined")
    assert talk.state_label.text() == tr("%1 is talking").replace("%1", "王建国")
    assert talk.ptt_button.property("floor") == "listening"

    def ring(rgb_test: str) -> QColor:
        # Below the text, inside the circle: the button's own colour.
        image = grab(talk.ptt_button)
        return image.pixelColor(PTT_SIZE // 2, PTT_SIZE // 2 + PTT_SIZE * 3 // 10)

    talk.set_groups(groups(street={"state": "talking", "talker": "我"}))
    assert talk.row_state_text(CHANGSHOU) == tr("I am talking")
    assert talk.ptt_button.property("floor") == "talking"
    assert talk.ptt_button.text() == tr("Talking")
    green = ring("green")
    assert green.green() > green.red() + 40 and green.green() > green.blue() + 40

    talk.set_groups(groups(street={"state": "queued", "queue_position": 2, "note": "被指挥员抢占"}))
    assert talk.row_state_text(CHANGSHOU) == tr("Queued, position %1").replace("%1", "2")
    assert talk.ptt_button.property("floor") == "waiting"
    assert talk.note_label.text() == "被指挥员抢占" and talk.note_label.isVisibleTo(talk)
    amber = ring("amber")
    assert amber.red() > amber.green() > amber.blue() + 40

    talk.set_groups(groups(street={"state": "requesting", "talker": ""}))
    assert talk.row_state_text(CHANGSHOU) == tr("Requesting the floor…")
    assert not talk.note_label.isVisibleTo(talk)

    talk.set_groups(groups(street={"state": "listening", "emergency": True}))
    assert talk.row_state_text(CHANGSHOU) == tr("Emergency call") + " · " + tr("%1 is talking").replace("%1", "王建国")

    talk.select_group(CHENGGUAN)
    grey = ring("grey")
    assert max(grey.red(), grey.green(), grey.blue()) - min(grey.red(), grey.green(), grey.blue()) < 24
    with pytest.raises(ValueError):
        TalkGroupView("x", "x", state="shouting")


def test_only_a_commander_takes_back_the_floor_from_another_talker(talk: TalkPanel) -> None:
    rec = Recorder(talk)
    assert not talk.revoke_button.isEnabled() and not talk.revoke_button.isVisibleTo(talk)
    talk.set_can_revoke(True)
    assert talk.revoke_button.isEnabled()
    QTest.mouseClick(talk.revoke_button, Qt.MouseButton.LeftButton)
    assert rec.events == [("revoke", CHANGSHOU)]
    talk.select_group(INCIDENT)  # nobody talks there
    assert not talk.revoke_button.isEnabled()
    talk.set_groups(groups(street={"state": "talking"}))
    talk.select_group(CHANGSHOU)  # I talk there myself
    assert not talk.revoke_button.isEnabled()


def test_join_and_leave_buttons_ask_and_the_list_survives_the_answer(talk: TalkPanel, qtbot: QtBot) -> None:
    rec = Recorder(talk)
    button = talk.join_button(CHENGGUAN)
    assert button.text() == talk.tr("Join")
    assert talk.join_button(CHANGSHOU).text() == talk.tr("Leave")

    # The owner answers inside the click: the clicked row is updated, another row removed.
    def answer(group: str) -> None:
        talk.set_groups([v for v in groups(field={"joined": True}) if v.group != INCIDENT])

    talk.join_requested.connect(answer)
    QTest.mouseClick(button, Qt.MouseButton.LeftButton)
    assert rec.events == [("join", CHENGGUAN)]
    assert talk.selected_group() == CHENGGUAN
    assert talk.join_button(CHENGGUAN) is button and button.text() == talk.tr("Leave")
    assert talk.row_state_text(CHENGGUAN) == talk.tr("Idle")
    assert talk.ptt_button.isEnabled()
    with pytest.raises(KeyError):
        talk.join_button(INCIDENT)
    talk.join_requested.disconnect(answer)
    QTest.mouseClick(talk.join_button(CHANGSHOU), Qt.MouseButton.LeftButton)
    assert rec.events[-1] == ("leave", CHANGSHOU)
    # A group that goes away takes the selection to the first joined group.
    talk.set_groups(groups(field={"joined": True})[1:])
    assert talk.selected_group() == INCIDENT
    talk.set_groups([])
    assert talk.selected_group() is None and not talk.ptt_button.isEnabled()
    assert talk.empty_label.isVisibleTo(talk)


def test_meters_microphone_and_key_label(talk: TalkPanel) -> None:
    talk.set_receive_level(0.5)
    assert talk.receive_meter.lit() == 10
    talk.set_microphone(False)
    assert talk.mic_warning.isVisibleTo(talk) and not talk.mic_meter.isVisibleTo(talk)
    assert talk.mic_warning.text() == talk.tr("No microphone")
    talk.set_microphone(True, 2.0)
    assert not talk.mic_warning.isVisibleTo(talk) and talk.mic_meter.level() == 1.0
    talk.set_ptt_key_label("F8")
    assert talk.key_label.text() == talk.tr("or hold %1").replace("%1", "F8")
    talk.show_status("发言超时", error=True)
    assert talk.status_text() == "发言超时" and talk.status_error


# -- the push-to-talk key -----------------------------------------------------------------------------
class KeyEdit(QLineEdit):
    """A line edit that remembers the keys it got."""

    def __init__(self) -> None:
        super().__init__()
        self.keys: list[int] = []

    def keyPressEvent(self, event: QKeyEvent) -> None:
        self.keys.append(event.key())
        super().keyPressEvent(event)


@pytest.fixture
def ptt_key(app: QApplication) -> Iterator[tuple[PttKey, list[str]]]:
    key = PttKey()
    seen: list[str] = []
    key.pressed.connect(lambda: seen.append("pressed"))
    key.released.connect(lambda: seen.append("released"))
    key.install(app)
    yield key, seen
    key.uninstall()


@pytest.fixture
def edit(app: QApplication, qtbot: QtBot) -> KeyEdit:
    widget = KeyEdit()
    show(qtbot, widget, 200, 30)
    return widget


def test_the_ptt_key_holds_while_down_and_ignores_auto_repeat(ptt_key: tuple[PttKey, list[str]], edit: KeyEdit) -> None:
    key, seen = ptt_key
    QTest.keyPress(edit, Qt.Key.Key_F8)
    assert seen == ["pressed"] and key.held
    for _ in range(3):
        QTest.simulateEvent(edit, False, Qt.Key.Key_F8, Qt.KeyboardModifier.NoModifier, "", True)
        QTest.simulateEvent(edit, True, Qt.Key.Key_F8, Qt.KeyboardModifier.NoModifier, "", True)
    assert seen == ["pressed"] and key.held
    QTest.keyRelease(edit, Qt.Key.Key_F8)
    assert seen == ["pressed", "released"] and not key.held
    QTest.keyRelease(edit, Qt.Key.Key_F8)
    assert seen == ["pressed", "released"]
    assert Qt.Key.Key_F8 not in edit.keys


def test_the_ptt_key_lets_other_keys_through(ptt_key: tuple[PttKey, list[str]], edit: KeyEdit) -> None:
    _, seen = ptt_key
    QTest.keyClicks(edit, "ab")
    QTest.keyClick(edit, Qt.Key.Key_F7)
    assert edit.text() == "ab" and Qt.Key.Key_F7 in edit.keys
    assert seen == []


def test_the_ptt_key_is_released_when_the_application_deactivates(
    app: QApplication, ptt_key: tuple[PttKey, list[str]], edit: KeyEdit
) -> None:
    key, seen = ptt_key
    QTest.keyPress(edit, Qt.Key.Key_F8)
    QApplication.sendEvent(app, QEvent(QEvent.Type.ApplicationDeactivate))
    assert seen == ["pressed", "released"] and not key.held
    # The key's own release, arriving later or never, changes nothing.
    QTest.keyRelease(edit, Qt.Key.Key_F8)
    assert seen == ["pressed", "released"]
    # Uninstalled while held: released, and deaf afterwards.
    QTest.keyPress(edit, Qt.Key.Key_F8)
    key.uninstall()
    assert seen == ["pressed", "released", "pressed", "released"]
    QTest.keyPress(edit, Qt.Key.Key_F8)
    QTest.keyRelease(edit, Qt.Key.Key_F8)
    assert seen == ["pressed", "released", "pressed", "released"]
    assert Qt.Key.Key_F8 in edit.keys


def test_the_ptt_key_wins_over_a_shortcut_and_drives_the_panel(
    ptt_key: tuple[PttKey, list[str]], talk: TalkPanel, qtbot: QtBot
) -> None:
    key, _ = ptt_key
    fired: list[bool] = []
    shortcut = QShortcut(QKeySequence(Qt.Key.Key_F8), talk)
    shortcut.activated.connect(lambda: fired.append(True))
    rec = Recorder(talk)
    key.pressed.connect(talk.press_ptt)
    key.released.connect(talk.release_ptt)
    talk.activateWindow()
    talk.ptt_button.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is talk.ptt_button, timeout=ms(2))
    target: QObject = QApplication.focusWidget() or talk
    assert isinstance(target, QWidget)
    QTest.keyPress(target, Qt.Key.Key_F8)
    assert rec.events == [("pressed", CHANGSHOU, False)] and talk.ptt_button.isDown()
    QTest.keyRelease(target, Qt.Key.Key_F8)
    assert rec.events == [("pressed", CHANGSHOU, False), ("released", CHANGSHOU)]
    assert fired == []


# -- pictures for a person to look at -----------------------------------------------------------------
@pytest.fixture
def chinese(app: QApplication) -> Iterator[None]:
    translator = Chinese()
    app.installTranslator(translator)
    yield
    app.removeTranslator(translator)


def test_render_a_conference_of_three(chinese: None, qtbot: QtBot) -> None:
    panel = ConferencePanel()
    show(qtbot, panel, 960, 600)
    panel.set_room("事件 #1234 指挥会话", "3 人 · 14:02 开始")
    panel.set_participants(cards(3, p1={"audio_on": False}, p2={"video_on": False}))
    panel.set_local_state(muted=False, camera_off=False)
    with Feeder([(panel.feed("p0"), 0), (panel.feed("p1"), 1)]):
        qtbot.waitUntil(lambda: panel.grid.has_picture("p0") and panel.grid.has_picture("p1"), timeout=ms(3))
    panel.set_active_speaker("p0")
    panel.set_level("p0", 0.8)
    panel.set_level("p2", 0.2)
    panel.show_status("已邀请 长寿路街道指挥室")
    assert panel.grab().save("/tmp/conference_3.png")


def test_render_a_conference_of_six(chinese: None, qtbot: QtBot) -> None:
    panel = ConferencePanel()
    show(qtbot, panel, 960, 600)
    panel.set_room("区城运中心 · 防汛调度会商", "6 人 · 09:30 开始")
    panel.set_participants(
        cards(
            6,
            p0={"audio_on": False},
            p1={"state": "connecting"},
            p3={"audio_on": False},
            p4={"state": "reconnecting"},
            p5={"video_on": False, "audio_on": False},
        )
    )
    panel.set_local_state(muted=True, camera_off=False)
    with Feeder([(panel.feed(f"p{i}"), i) for i in (0, 2, 3, 4)]):
        qtbot.waitUntil(lambda: all(panel.grid.has_picture(f"p{i}") for i in (0, 2, 3, 4)), timeout=ms(3))
    panel.set_active_speaker("p2")
    panel.set_level("p2", 0.6)
    panel.set_level("p4", 0.2)
    panel.show_status("邀请失败：桃浦镇指挥室不在线", error=True)
    assert panel.grab().save("/tmp/conference_6.png")


def test_render_the_talk_panel(chinese: None, qtbot: QtBot) -> None:
    panel = TalkPanel()
    panel.set_groups(groups())
    panel.set_ptt_key_label("F8")
    panel.set_can_revoke(True)
    panel.set_receive_level(0.65)
    panel.set_microphone(True, 0.1)
    panel.show_status("已加入 长寿路街道")
    show(qtbot, panel, 760, 480)
    assert panel.grab().save("/tmp/talk_panel.png")
