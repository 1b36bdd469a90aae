"""The console's status bar: connection (online / offline / catching up), time of the last sync,
outbox size, conflicts, overdue count, who is signed in, and a clock."""

from __future__ import annotations

import time

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QLabel, QPushButton, QStatusBar, QWidget

_STATE_COLOURS = {
    "online": "#2e9d4f",
    "catching_up": "#d08a00",
    "connecting": "#d08a00",
    "offline": "#c62828",
    "auth_failed": "#c62828",
}


class ConsoleStatusBar(QStatusBar):
    """Shows what the composition root sets; says nothing of the network by itself.

    Set :meth:`set_connection`, :meth:`set_outbox`, :meth:`set_overdue` and :attr:`user_text`.
    Emits :attr:`conflicts_requested` when the operator opens the conflict inbox.
    """

    conflicts_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizeGripEnabled(False)
        self._state = QLabel()
        self._state.setObjectName("connectionState")
        self._last_sync = QLabel()
        self._outbox = QLabel()
        self._conflicts = QPushButton()
        self._conflicts.setFlat(True)
        self._conflicts.clicked.connect(self.conflicts_requested)
        self._overdue = QLabel()
        self._user = QLabel()
        self._clock = QLabel()
        for widget in (self._state, self._last_sync, self._outbox, self._conflicts, self._overdue):
            self.addWidget(widget)
        self.addPermanentWidget(self._user)
        self.addPermanentWidget(self._clock)
        self._last_sync_at: float | None = None
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._tick)
        self._timer.start(1000)
        self.set_connection("connecting", "", None)
        self.set_outbox(0, 0)
        self.set_overdue(0)
        self._tick()

    def set_connection(self, state: str, detail: str, last_sync_at: float | None) -> None:
        names = {
            "online": self.tr("Online"),
            "catching_up": self.tr("Catching up"),
            "connecting": self.tr("Connecting"),
            "offline": self.tr("Offline"),
            "auth_failed": self.tr("Signed out"),
        }
        colour = _STATE_COLOURS.get(state, "#777")
        self._state.setText(f'<span style="color:{colour}">●</span> {names.get(state, state)}')
        self._state.setToolTip(detail)
        self.state = state
        if last_sync_at is not None:
            self._last_sync_at = last_sync_at
        self._tick()

    def set_outbox(self, size: int, conflicts: int) -> None:
        self._outbox.setText(self.tr("Outbox: %n", "", size))
        self._outbox.setStyleSheet("color:#d08a00" if size else "")
        self._conflicts.setText(self.tr("Conflicts: %n", "", conflicts))
        self._conflicts.setStyleSheet("color:#c62828; font-weight:bold" if conflicts else "")
        self.outbox = size
        self.conflicts = conflicts

    def set_overdue(self, count: int) -> None:
        self._overdue.setText(self.tr("Overdue: %n", "", count))
        self._overdue.setStyleSheet("color:#c62828; font-weight:bold" if count else "")
        self.overdue = count

    def set_user(self, text: str) -> None:
        self._user.setText(text)

    def _tick(self) -> None:
        now = time.time()
        self._clock.setText(time.strftime("%H:%M:%S", time.localtime(now)))
        if self._last_sync_at is None:
            self._last_sync.setText(self.tr("Last sync: never"))
        else:
            stamp = time.strftime("%H:%M:%S", time.localtime(self._last_sync_at))
            self._last_sync.setText(self.tr("Last sync: %1").replace("%1", stamp))
