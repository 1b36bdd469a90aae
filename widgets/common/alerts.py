"""Alerts: a new red or orange incident raises a notification the operator acknowledges, with
a sound that can be muted."""

from __future__ import annotations

import math
import struct
import tempfile
import time
import wave
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QBrush, QColor, QGuiApplication
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

SEVERITY_STYLE = {1: "#d32f2f", 2: "#f57c00"}
ITEM_ID_ROLE = Qt.ItemDataRole.UserRole


@dataclass(frozen=True)
class Alert:
    incident_id: int
    severity: int
    text: str
    at: float


def _tone(path: Path) -> Path:
    """A two-tone alert (880 Hz then 660 Hz, 0.2 s each), written once."""
    if not path.exists():
        rate = 22050
        frames = bytearray()
        for freq in (880.0, 660.0, 880.0):
            for n in range(int(rate * 0.18)):
                envelope = min(1.0, n / 200, (rate * 0.18 - n) / 200)
                frames += struct.pack("<h", int(12000 * envelope * math.sin(2 * math.pi * freq * n / rate)))
        with wave.open(str(path), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(rate)
            out.writeframes(bytes(frames))
    return path


class AlertSound:
    """Plays the alert tone through Qt Multimedia on a real display; on the offscreen platform
    (tests, headless demos) there is no audio device and it only counts what it would play."""

    def __init__(self) -> None:
        self.muted = False
        self.played = 0
        self._effect: object | None = None
        if QGuiApplication.platformName() not in ("offscreen", "minimal"):
            try:
                from PySide6.QtMultimedia import QSoundEffect

                effect = QSoundEffect()
                effect.setSource(QUrl.fromLocalFile(str(_tone(Path(tempfile.gettempdir()) / "cityops-alert.wav"))))
                effect.setVolume(0.8)
                self._effect = effect
            except ImportError:  # Qt Multimedia's system libraries are missing: stay silent
                self._effect = None

    def play(self) -> None:
        if self.muted:
            return
        self.played += 1
        if self._effect is not None:
            self._effect.play()  # type: ignore[attr-defined]


class AlertPanel(QFrame):
    """Unacknowledged alerts, newest first. Attributes down: :meth:`raise_alert`. Messages up:
    :attr:`open_incident` (the operator clicked an alert), :attr:`acknowledged`."""

    open_incident = Signal(int)
    acknowledged = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("alertPanel")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.sound = AlertSound()
        self._dropped = 0
        self._last_sound = -1e9
        self.title = QLabel()
        self.title.setStyleSheet("font-weight: bold")
        self.list = QListWidget()
        self.list.setObjectName("alertList")
        self.list.itemDoubleClicked.connect(lambda item: self.open_incident.emit(int(item.data(ITEM_ID_ROLE))))
        self.ack = QPushButton(self.tr("Acknowledge"))
        self.ack.setObjectName("acknowledge")
        self.ack.clicked.connect(self._acknowledge_current)
        self.ack_all = QPushButton(self.tr("Acknowledge all"))
        self.ack_all.clicked.connect(self.acknowledge_all)
        self.mute = QPushButton(self.tr("Mute"))
        self.mute.setCheckable(True)
        self.mute.setObjectName("mute")
        self.mute.toggled.connect(self._set_muted)
        buttons = QHBoxLayout()
        buttons.addWidget(self.ack)
        buttons.addWidget(self.ack_all)
        buttons.addStretch(1)
        buttons.addWidget(self.mute)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)
        self._update_title()

    #: The most alerts kept in the list; older ones are summed up in the title.
    MAX_SHOWN = 200
    #: The tone sounds at most once in this many seconds, however many alerts arrive.
    SOUND_GAP_S = 3.0

    def raise_alerts(self, alerts: list[Alert]) -> None:
        """Add several alerts at once (a burst becomes one update and one tone)."""
        if not alerts:
            return
        self.list.setUpdatesEnabled(False)
        if len(alerts) > self.MAX_SHOWN:
            self._dropped += len(alerts) - self.MAX_SHOWN
            alerts = alerts[-self.MAX_SHOWN :]
        for alert in alerts:
            self._add(alert)
        while self.list.count() > self.MAX_SHOWN:
            self.list.takeItem(self.list.count() - 1)
            self._dropped += 1
        self.list.setUpdatesEnabled(True)
        now = time.monotonic()
        if now - self._last_sound >= self.SOUND_GAP_S:
            self._last_sound = now
            self.sound.play()
        self._update_title()

    def raise_alert(self, alert: Alert) -> None:
        self.raise_alerts([alert])

    def _add(self, alert: Alert) -> None:
        stamp = time.strftime("%H:%M:%S", time.localtime(alert.at))
        item = QListWidgetItem(f"{stamp}  #{alert.incident_id:08d}  {alert.text}")
        item.setData(ITEM_ID_ROLE, alert.incident_id)
        item.setForeground(QBrush(QColor(SEVERITY_STYLE.get(alert.severity, "#000"))))
        self.list.insertItem(0, item)

    @property
    def pending(self) -> int:
        return self.list.count() + self._dropped

    def _acknowledge_current(self) -> None:
        item = self.list.currentItem() or self.list.item(0)
        if item is None:
            return
        self.acknowledged.emit(int(item.data(ITEM_ID_ROLE)))
        self.list.takeItem(self.list.row(item))
        self._update_title()

    def acknowledge_all(self) -> None:
        while self.list.count():
            item = self.list.takeItem(0)
            self.acknowledged.emit(int(item.data(ITEM_ID_ROLE)))
        self._dropped = 0
        self._update_title()

    def _set_muted(self, muted: bool) -> None:
        self.sound.muted = muted
        self.mute.setText(self.tr("Sound off") if muted else self.tr("Mute"))

    def _update_title(self) -> None:
        count = self.pending
        self.title.setText(self.tr("Alerts to acknowledge: %n", "", count))
        self.title.setStyleSheet("font-weight: bold; color: #d32f2f" if count else "font-weight: bold")
