"""Push-to-talk talk groups (集群呼叫): the groups this console may join, the selected group's
large push-to-talk button, the emergency call, taking the floor back, and the audio meters.

Attributes down: :meth:`TalkPanel.set_groups`, :meth:`~TalkPanel.select_group`,
:meth:`~TalkPanel.set_receive_level`, :meth:`~TalkPanel.set_microphone`,
:meth:`~TalkPanel.set_can_revoke`, :meth:`~TalkPanel.set_ptt_key_label`,
:meth:`~TalkPanel.show_status`. Messages up: :attr:`~TalkPanel.join_requested`,
:attr:`~TalkPanel.leave_requested`, :attr:`~TalkPanel.ptt_pressed`,
:attr:`~TalkPanel.ptt_released`, :attr:`~TalkPanel.revoke_requested`,
:attr:`~TalkPanel.group_selected`. The panel decides nothing about the floor: pressing asks
for it, and the owner's next :meth:`~TalkPanel.set_groups` says what the floor control server
answered (requesting → talking, queued, or refused with a note).

Every press is answered by exactly one release to the same group, whatever happens in between
(the button disabled under the finger, another group selected, the key let go in another
window): a floor must never stay taken because a release was lost. :class:`PttKey` does the same
for a keyboard key held anywhere in the application.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QKeyEvent, QMouseEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

#: What the floor of a group is doing, seen from this console.
FLOOR_STATES: Final = frozenset({"idle", "listening", "requesting", "queued", "talking"})
#: The push-to-talk button's diameter (pixels).
PTT_SIZE: Final = 176

#: Colours of a state line.
IDLE_TEXT: Final = "#8a9aab"
NOT_JOINED_TEXT: Final = "#5d6b79"
LISTENING_TEXT: Final = "#4fc3f7"
WAITING_TEXT: Final = "#ffb300"
TALKING_TEXT: Final = "#43d35a"
EMERGENCY_TEXT: Final = "#ff5a4f"

STYLE: Final = f"""
QWidget#talkPanel {{ background: #0b1118; }}
QWidget#talkPanel QLabel {{ color: #dbe5ee; background: transparent; }}
QWidget#talkPanel QLabel#muted {{ color: #8a9aab; }}
QScrollArea#talkGroups {{ background: #0f151c; border: none; border-right: 1px solid #2f3d4c; }}
QWidget#talkGroupList {{ background: #0f151c; }}
QFrame#talkRow {{ background: #131b24; border: 1px solid #222e3a; border-left: 3px solid #222e3a; border-radius: 3px; }}
QFrame#talkRow[joined="true"] {{ border-left-color: #2e9d4f; }}
QFrame#talkRow[selected="true"] {{ background: #1c3347; border-color: #3b7fa8; }}
QFrame#talkRow[selected="true"][joined="true"] {{ border-left-color: #43d35a; }}
QFrame#talkRow QLabel#talkRowTitle {{ color: #eef3f8; font-size: 14px; font-weight: bold; }}
QFrame#talkRow[joined="false"] QLabel#talkRowTitle {{ color: #8a9aab; }}
QFrame#talkRow QPushButton {{
    color: #dbe5ee; background: #1f2a36; border: 1px solid #2f3d4c; border-radius: 3px;
    padding: 3px 10px; min-width: 44px;
}}
QFrame#talkRow QPushButton:hover {{ background: #26384a; }}
QFrame#talkRow[joined="false"] QPushButton {{ background: #1f4a66; border-color: #3b7fa8; color: #ffffff; }}
QWidget#talkPanel QLabel#talkGroupTitle {{ color: #eef3f8; font-size: 18px; font-weight: bold; }}
QWidget#talkPanel QLabel#talkState {{ font-size: 14px; }}
QWidget#talkPanel QLabel#talkNote {{ color: {WAITING_TEXT}; }}
QWidget#talkPanel QLabel#micWarning {{ color: {WAITING_TEXT}; font-weight: bold; }}
QPushButton#pttButton {{
    border-radius: {PTT_SIZE // 2}px; border: 4px solid #3b7fa8; background: #1f4a66;
    color: #ffffff; font-size: 18px; font-weight: bold;
}}
QPushButton#pttButton[floor="listening"] {{ background: #183447; border-color: #4fc3f7; }}
QPushButton#pttButton[floor="waiting"] {{ background: #9a6a00; border-color: #ffb300; }}
QPushButton#pttButton[floor="talking"] {{ background: #2e9d4f; border-color: #7be08c; }}
QPushButton#pttButton[floor="emergency"] {{ background: #c62828; border-color: #ff8a80; }}
QPushButton#pttButton:pressed {{ border-color: #ffffff; }}
QPushButton#pttButton:disabled {{ background: #252d36; border-color: #36424e; color: #65717e; }}
QPushButton#emergencyButton {{
    color: #ffffff; background: #b3261e; border: 1px solid #e0443b; border-radius: 4px;
    padding: 7px 18px; font-weight: bold;
}}
QPushButton#emergencyButton:pressed {{ background: #e53935; border-color: #ffffff; }}
QPushButton#emergencyButton:disabled {{ background: #3a2626; border-color: #4a3030; color: #7d6b6b; }}
QPushButton#revokeButton {{
    color: #dbe5ee; background: #1f2a36; border: 1px solid #2f3d4c; border-radius: 4px; padding: 7px 18px;
}}
QPushButton#revokeButton:hover {{ background: #26384a; }}
QPushButton#revokeButton:disabled {{ color: #5d6b79; }}
QFrame#talkStatus {{ background: #18212b; border: none; }}
"""


@dataclass(frozen=True)
class TalkGroupView:
    """What the panel shows of one talk group."""

    group: str
    """The group's key, e.g. "street:310107005", "incident:42", "field:城管"."""
    title: str
    """Its name, e.g. "长寿路街道", "事件 #42", "城管中心"."""
    joined: bool = False
    state: str = "idle"
    """``idle`` (nobody talks), ``listening`` (someone else talks), ``requesting`` (waiting for
    the floor), ``queued`` or ``talking`` (this console has the floor): :data:`FLOOR_STATES`."""
    talker: str = ""
    """The name of whoever talks now, shown to all."""
    queue_position: int = 0
    note: str = ""
    """The last refusal or revocation, e.g. "被指挥员抢占", "发言超时"."""
    emergency: bool = False
    """The call now is an emergency call."""

    def __post_init__(self) -> None:
        if self.state not in FLOOR_STATES:
            raise ValueError(f"a talk group is {', '.join(sorted(FLOOR_STATES))}, not {self.state!r}")

    @property
    def someone_else_talks(self) -> bool:
        return self.joined and (
            self.state == "listening" or (self.state in ("queued", "requesting") and bool(self.talker))
        )


class LevelMeter(QWidget):
    """A horizontal audio level, 0–1, in segments: green, amber when loud, red near clipping."""

    SEGMENTS: Final = 20

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._level = 0.0
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumWidth(60)

    def sizeHint(self) -> QSize:
        return QSize(160, 10)

    def level(self) -> float:
        return self._level

    def lit(self) -> int:
        """Segments lit."""
        return round(self._level * self.SEGMENTS)

    def set_level(self, level: float) -> None:
        before = self.lit()
        self._level = min(max(float(level), 0.0), 1.0)
        if self.lit() != before:
            self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        width = self.width() / self.SEGMENTS
        lit = self.lit() if self.isEnabled() else 0
        for k in range(self.SEGMENTS):
            if k < lit:
                colour = QColor("#f0453a" if k >= 18 else "#ffb300" if k >= 14 else "#43d35a")
            else:
                colour = QColor("#222e3a")
            p.fillRect(QRectF(k * width, 0.0, width - 2.0, self.height()), colour)
        p.end()


class _GroupRow(QFrame):
    """One group in the list: title, state line, join/leave button. Clicking it selects it."""

    activated = Signal(str)

    def __init__(self, group: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.group = group
        self.setObjectName("talkRow")
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.title_label = QLabel()
        self.title_label.setObjectName("talkRowTitle")
        self.state_label = QLabel()
        self.join_button = QPushButton()
        self.join_button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.join_button.setCursor(Qt.CursorShape.ArrowCursor)
        texts = QVBoxLayout()
        texts.setSpacing(2)
        texts.addWidget(self.title_label)
        texts.addWidget(self.state_label)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 8, 6)
        layout.addLayout(texts, 1)
        layout.addWidget(self.join_button, 0, Qt.AlignmentFlag.AlignVCenter)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.activated.emit(self.group)
        super().mousePressEvent(event)


def _repolish(widget: QWidget) -> None:
    """Apply style sheet rules that depend on a dynamic property that just changed."""
    style = widget.style()
    style.unpolish(widget)
    style.polish(widget)
    widget.update()


class TalkPanel(QWidget):
    """The talk groups and the push-to-talk controls (see the module's docstring)."""

    join_requested = Signal(str)
    leave_requested = Signal(str)
    ptt_pressed = Signal(str, bool)
    """(group, emergency): the operator pressed to talk."""
    ptt_released = Signal(str)
    revoke_requested = Signal(str)
    """A commander takes the floor away from whoever talks in the group."""
    group_selected = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("talkPanel")
        self.setStyleSheet(STYLE)
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self._views: dict[str, TalkGroupView] = {}
        self._order: list[str] = []
        self._rows: dict[str, _GroupRow] = {}
        self._selected: str | None = None
        self._held: str | None = None
        self._can_revoke = False
        self._mic_available = True
        self._key_label = ""
        self._status = ""
        self.status_error = False

        # The groups, on the left.
        self.group_list = QWidget()
        self.group_list.setObjectName("talkGroupList")
        self._list_layout = QVBoxLayout(self.group_list)
        self._list_layout.setContentsMargins(8, 8, 8, 8)
        self._list_layout.setSpacing(6)
        self._list_layout.addStretch(1)
        self.empty_label = QLabel(self.tr("No talk groups"))
        self.empty_label.setObjectName("muted")
        self._list_layout.insertWidget(0, self.empty_label)
        scroll = QScrollArea()
        scroll.setObjectName("talkGroups")
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(self.group_list)
        scroll.setMinimumWidth(240)
        scroll.setMaximumWidth(320)

        # The selected group, on the right.
        self.group_title = QLabel()
        self.group_title.setObjectName("talkGroupTitle")
        self.group_title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.state_label = QLabel()
        self.state_label.setObjectName("talkState")
        self.state_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.note_label = QLabel()
        self.note_label.setObjectName("talkNote")
        self.note_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.ptt_button = QPushButton()
        self.ptt_button.setObjectName("pttButton")
        self.ptt_button.setFixedSize(PTT_SIZE, PTT_SIZE)
        self.ptt_button.setToolTip(self.tr("Hold to talk in the selected group; let go to end"))
        self.key_label = QLabel()
        self.key_label.setObjectName("muted")
        self.key_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.emergency_button = QPushButton(self.tr("Emergency call"))
        self.emergency_button.setObjectName("emergencyButton")
        self.emergency_button.setToolTip(self.tr("Hold for an emergency call: it takes the floor from anyone"))
        self.revoke_button = QPushButton(self.tr("Take back the floor"))
        self.revoke_button.setObjectName("revokeButton")
        self.revoke_button.setToolTip(self.tr("End whoever talks now in the selected group"))
        for button in (self.ptt_button, self.emergency_button, self.revoke_button):
            button.setFocusPolicy(Qt.FocusPolicy.TabFocus)

        self.receive_meter = LevelMeter()
        self.receive_meter.setToolTip(self.tr("What the group sounds like here"))
        self.mic_meter = LevelMeter()
        self.mic_meter.setToolTip(self.tr("Your microphone"))
        self.mic_warning = QLabel(self.tr("No microphone"))
        self.mic_warning.setObjectName("micWarning")
        self.mic_warning.setToolTip(self.tr("No microphone found: you can listen but not talk"))
        self.mic_warning.hide()
        meters = QGridLayout()
        meters.setHorizontalSpacing(10)
        meters.setVerticalSpacing(8)
        receive_label = QLabel(self.tr("Receiving"))
        receive_label.setObjectName("muted")
        mic_label = QLabel(self.tr("Microphone"))
        mic_label.setObjectName("muted")
        meters.addWidget(receive_label, 0, 0)
        meters.addWidget(self.receive_meter, 0, 1)
        meters.addWidget(mic_label, 1, 0)
        meters.addWidget(self.mic_meter, 1, 1)
        meters.addWidget(self.mic_warning, 1, 1)
        meters.setColumnStretch(1, 1)

        actions = QHBoxLayout()
        actions.addStretch(1)
        actions.addWidget(self.emergency_button)
        actions.addSpacing(12)
        actions.addWidget(self.revoke_button)
        actions.addStretch(1)

        detail = QVBoxLayout()
        detail.setContentsMargins(24, 16, 24, 16)
        detail.setSpacing(8)
        detail.addWidget(self.group_title)
        detail.addWidget(self.state_label)
        detail.addWidget(self.note_label)
        detail.addStretch(1)
        detail.addWidget(self.ptt_button, 0, Qt.AlignmentFlag.AlignHCenter)
        detail.addWidget(self.key_label)
        detail.addStretch(1)
        detail.addLayout(actions)
        detail.addSpacing(8)
        detail.addLayout(meters)

        body = QHBoxLayout()
        body.setContentsMargins(0, 0, 0, 0)
        body.setSpacing(0)
        body.addWidget(scroll)
        body.addLayout(detail, 1)

        status = QFrame()
        status.setObjectName("talkStatus")
        line = QHBoxLayout(status)
        line.setContentsMargins(10, 3, 10, 3)
        self.status_label = QLabel()
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        line.addWidget(self.status_label, 1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(body, 1)
        layout.addWidget(status)

        # pressed/released, not clicked: the floor is held for as long as the button is.
        self.ptt_button.pressed.connect(lambda: self._press(False))
        self.ptt_button.released.connect(self._release)
        self.emergency_button.pressed.connect(lambda: self._press(True))
        self.emergency_button.released.connect(self._release)
        self.revoke_button.clicked.connect(self._revoke)
        self._refresh_detail()

    def sizeHint(self) -> QSize:
        return QSize(760, 480)

    # == texts ================================================================================
    def state_text(self, view: TalkGroupView) -> str:
        """A group's state line: "Idle", "王建国 is talking", "Queued, position 2", …"""
        if not view.joined:
            return self.tr("Not joined")
        if view.state == "talking":
            text = self.tr("I am talking")
        elif view.state == "listening":
            text = self.tr("%1 is talking").replace("%1", view.talker or self.tr("Someone"))
        elif view.state == "queued":
            text = self.tr("Queued, position %1").replace("%1", str(view.queue_position))
        elif view.state == "requesting":
            text = self.tr("Requesting the floor…")
        else:
            text = self.tr("Idle")
        if view.emergency and view.state in ("talking", "listening"):
            text = self.tr("Emergency call") + " · " + text
        return text

    @staticmethod
    def state_colour(view: TalkGroupView) -> str:
        if not view.joined:
            return NOT_JOINED_TEXT
        if view.emergency and view.state in ("talking", "listening"):
            return EMERGENCY_TEXT
        return {
            "talking": TALKING_TEXT,
            "listening": LISTENING_TEXT,
            "requesting": WAITING_TEXT,
            "queued": WAITING_TEXT,
        }.get(view.state, IDLE_TEXT)

    def _ptt_look(self, view: TalkGroupView | None) -> tuple[str, str]:
        """The push-to-talk button's text and its ``floor`` style property."""
        if view is None or not view.joined:
            return self.tr("Join the group\nto talk"), "off"
        if view.state == "talking":
            return self.tr("Talking"), "emergency" if view.emergency else "talking"
        if view.state == "requesting":
            return self.tr("Requesting…"), "waiting"
        if view.state == "queued":
            return self.tr("Queued #%1").replace("%1", str(view.queue_position)), "waiting"
        return self.tr("Hold to talk"), "listening" if view.state == "listening" else "idle"

    # == attributes down =======================================================================
    def set_groups(self, views: Sequence[TalkGroupView]) -> None:
        """The groups to list, in order (a repeated group: its first view). The selection stays
        on its group while it is listed (else moves to the first joined group, else the first)."""
        order: list[str] = []
        self._views = {}
        for view in views:
            if view.group not in self._views:
                order.append(view.group)
                self._views[view.group] = view
        for group in list(self._rows):
            if group not in self._views:
                gone = self._rows.pop(group)
                self._list_layout.removeWidget(gone)
                # Later, not now: this may run inside the row's own button's clicked handler.
                gone.hide()
                gone.deleteLater()
        if order != self._order:
            for group in self._order:
                if group in self._rows:
                    self._list_layout.removeWidget(self._rows[group])
            for i, group in enumerate(order):
                if group not in self._rows:
                    self._rows[group] = self._new_row(group)
                self._list_layout.insertWidget(i, self._rows[group])
            self._order = order
        self.empty_label.setVisible(not order)
        for group in order:
            self._show_row(self._rows[group], self._views[group])
        if self._selected not in self._views:
            joined = [g for g in order if self._views[g].joined]
            self._select((joined or order)[0] if order else None)
        else:
            self._refresh_detail()

    def _new_row(self, group: str) -> _GroupRow:
        row = _GroupRow(group)
        row.activated.connect(self.select_group)
        row.join_button.clicked.connect(lambda _=False, g=group: self._join_clicked(g))
        return row

    def _show_row(self, row: _GroupRow, view: TalkGroupView) -> None:
        row.title_label.setText(view.title)
        row.state_label.setText(self.state_text(view))
        row.state_label.setStyleSheet(f"color: {self.state_colour(view)};")
        row.join_button.setText(self.tr("Leave") if view.joined else self.tr("Join"))
        row.join_button.setToolTip(self.tr("Leave this talk group") if view.joined else self.tr("Join this talk group"))
        row.setToolTip(f"{view.title}\n{view.note}" if view.note else view.title)
        joined = "true" if view.joined else "false"
        selected = "true" if view.group == self._selected else "false"
        if row.property("joined") != joined or row.property("selected") != selected:
            row.setProperty("joined", joined)
            row.setProperty("selected", selected)
            _repolish(row)
            for child in (row.title_label, row.join_button):
                _repolish(child)

    def _join_clicked(self, group: str) -> None:
        view = self._views.get(group)
        if view is None:
            return
        self.select_group(group)
        (self.leave_requested if view.joined else self.join_requested).emit(group)

    def select_group(self, group: str) -> None:
        """Show ``group`` on the right (ignored when it is not listed)."""
        if group in self._views and group != self._selected:
            self._select(group)

    def _select(self, group: str | None) -> None:
        self._selected = group
        for key, row in self._rows.items():
            self._show_row(row, self._views[key])
        self._refresh_detail()
        if group is not None:
            self.group_selected.emit(group)

    def selected_group(self) -> str | None:
        return self._selected

    def view(self, group: str) -> TalkGroupView:
        """The view of a listed group (KeyError: not listed)."""
        return self._views[group]

    def row_state_text(self, group: str) -> str:
        """The state line the list shows for ``group``."""
        return self._rows[group].state_label.text()

    def join_button(self, group: str) -> QPushButton:
        """The join/leave button of ``group``'s row."""
        return self._rows[group].join_button

    def set_receive_level(self, level: float) -> None:
        """How loud what this console hears is now (0–1)."""
        self.receive_meter.set_level(level)

    def set_microphone(self, available: bool, level: float = 0.0) -> None:
        """Whether there is a microphone, and its level now (0–1)."""
        self._mic_available = available
        self.mic_meter.set_level(level if available else 0.0)
        self.mic_meter.setVisible(available)
        self.mic_warning.setVisible(not available)

    def set_can_revoke(self, allowed: bool) -> None:
        """Whether the operator may take the floor away (a commander)."""
        self._can_revoke = allowed
        self._refresh_detail()

    def set_ptt_key_label(self, text: str) -> None:
        """The keyboard key that also talks (e.g. "F8"; "" for none)."""
        self._key_label = text
        self._refresh_detail()

    def show_status(self, text: str, error: bool = False) -> None:
        """The outcome of the operator's last action."""
        self._status, self.status_error = text, error
        self.status_label.setStyleSheet(f"color: {'#ff6b5e' if error else '#dbe5ee'};")
        self.status_label.setText(text)

    def status_text(self) -> str:
        return self._status

    def _refresh_detail(self) -> None:
        view = self._views.get(self._selected) if self._selected is not None else None
        if view is None:
            self.group_title.setText(self.tr("No talk group selected"))
            self.state_label.setText("")
            self.note_label.setText("")
        else:
            self.group_title.setText(view.title)
            self.state_label.setText(self.state_text(view))
            self.state_label.setStyleSheet(f"color: {self.state_colour(view)};")
            self.note_label.setText(view.note)
        self.note_label.setVisible(bool(self.note_label.text()))
        text, floor = self._ptt_look(view)
        self.ptt_button.setText(text)
        joined = view is not None and view.joined
        # Disabling a held button releases it (QAbstractButton emits released): see _release.
        self.ptt_button.setEnabled(joined)
        self.emergency_button.setEnabled(joined)
        self.revoke_button.setEnabled(self._can_revoke and view is not None and view.someone_else_talks)
        self.revoke_button.setVisible(self._can_revoke)
        if self.ptt_button.property("floor") != floor:
            self.ptt_button.setProperty("floor", floor)
            _repolish(self.ptt_button)
        if self._key_label and joined:
            self.key_label.setText(self.tr("or hold %1").replace("%1", self._key_label))
        else:
            self.key_label.setText("")

    # == pressing ==============================================================================
    def press_ptt(self, emergency: bool = False) -> bool:
        """Press to talk in the selected group as the button would (for a keyboard key, see
        :class:`PttKey`); returns whether a press was sent. :meth:`release_ptt` ends it."""
        button = self.emergency_button if emergency else self.ptt_button
        if self._held is not None or not button.isEnabled():
            return False
        button.setDown(True)
        self._press(emergency)
        return self._held is not None

    def release_ptt(self) -> None:
        """End the press of :meth:`press_ptt` (nothing when none is held)."""
        for button in (self.ptt_button, self.emergency_button):
            if button.isDown():
                button.setDown(False)
        self._release()

    def held_group(self) -> str | None:
        """The group a press is held in (None: none)."""
        return self._held

    def _press(self, emergency: bool) -> None:
        view = self._views.get(self._selected) if self._selected is not None else None
        if self._held is not None or view is None or not view.joined:
            return
        self._held = view.group
        self.ptt_pressed.emit(view.group, emergency)

    def _release(self) -> None:
        # The release goes to the group pressed in, even if another is selected by now.
        held, self._held = self._held, None
        if held is not None:
            self.ptt_released.emit(held)

    def _revoke(self) -> None:
        view = self._views.get(self._selected) if self._selected is not None else None
        if view is not None and self._can_revoke and view.someone_else_talks:
            self.revoke_requested.emit(view.group)


class PttKey(QObject):
    """A push-to-talk key held anywhere in the application: :attr:`pressed` when it goes down,
    :attr:`released` when it comes up, or when the application loses the keyboard (another
    program activated, this one uninstalled), so a floor never stays taken.

    Auto-repeat is ignored. The key itself is taken (it does not reach the focused widget, and
    a shortcut on it does not fire); every other key passes untouched."""

    pressed = Signal()
    released = Signal()

    def __init__(self, key: Qt.Key = Qt.Key.Key_F8, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._key = key
        self._held = False
        self._app: QCoreApplication | None = None

    @property
    def held(self) -> bool:
        """Whether the key is down now."""
        return self._held

    @property
    def key(self) -> Qt.Key:
        return self._key

    def set_key(self, key: Qt.Key) -> None:
        """Use another key (a held key is released first)."""
        self.release()
        self._key = key

    def install(self, app: QCoreApplication) -> None:
        """Listen to the whole application's keys."""
        if self._app is app:
            return
        self.uninstall()
        app.installEventFilter(self)
        self._app = app

    def uninstall(self) -> None:
        """Stop listening (a held key is released)."""
        if self._app is not None:
            self._app.removeEventFilter(self)
            self._app = None
        self.release()

    def release(self) -> None:
        """Let go of a held key now (nothing when none is held)."""
        if self._held:
            self._held = False
            self.released.emit()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease, QEvent.Type.ShortcutOverride):
            if not isinstance(event, QKeyEvent) or event.key() != self._key:
                return False
            if kind == QEvent.Type.ShortcutOverride:
                # Accepted: the key comes as a key press, and no shortcut on it fires.
                event.accept()
                return True
            if event.isAutoRepeat():
                return True
            if kind == QEvent.Type.KeyPress:
                if not self._held:
                    self._held = True
                    self.pressed.emit()
            else:
                self.release()
            return True
        if kind == QEvent.Type.ApplicationDeactivate:
            # The key's release would go to another program: end the press now.
            self.release()
        elif (
            kind == QEvent.Type.ApplicationStateChange
            and isinstance(watched, QGuiApplication)
            # PySide6 gives this event without its state; the application has it by now.
            and QGuiApplication.applicationState() != Qt.ApplicationState.ApplicationActive
        ):
            self.release()
        return False
