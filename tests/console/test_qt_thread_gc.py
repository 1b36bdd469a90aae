"""The console's garbage collection runs on the Qt thread only: a thread that allocates a great
deal (the video media thread, aiortc's decoders) must never finalise Qt objects."""

from __future__ import annotations

import gc
import threading
from typing import Any

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.console.qt import collect_on_qt_thread


class Holder(QObject):
    """A Qt object in a reference cycle (only the collector can free it)."""

    def __init__(self) -> None:
        super().__init__()
        self.timer = QTimer(self)
        self.me = self


def test_collections_run_on_the_qt_thread_only(qt_app: QApplication, qtbot: QtBot) -> None:
    collector = collect_on_qt_thread(qt_app)
    assert collect_on_qt_thread(qt_app) is collector, "installed once"
    collected_on: list[int] = []

    def watch(phase: str, _info: dict[str, Any]) -> None:
        if phase == "start":
            collected_on.append(threading.get_ident())

    gc.callbacks.append(watch)
    try:
        Holder().timer.start(10_000)  # garbage now: a started timer, in a cycle

        def allocate() -> None:
            for _ in range(300_000):
                cycle: list[Any] = []
                cycle.append(cycle)

        worker = threading.Thread(target=allocate)
        worker.start()
        worker.join()
        assert collected_on == [], "the allocating thread collected"
        qtbot.waitUntil(lambda: bool(collected_on), timeout=3000)
        assert set(collected_on) == {threading.get_ident()}
        assert collector.collections >= 1
    finally:
        gc.callbacks.remove(watch)
        collector.stop()
    assert gc.isenabled()
