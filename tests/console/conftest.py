"""Console tests: real widgets offscreen on a qasync loop, a real server subprocess, real
caches. Qt warnings fail these tests (``qt_log_level_fail`` in pyproject.toml)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import qasync
from PySide6.QtWidgets import QApplication

from app.console.qt import QtThreadCollector, choose_font, install_translations
from app.domain.permissions import Principal, Role
from app.server.config import ServerConfig
from app.server.passwords import hash_password
from app.setup_data import build_translations
from app.storage.server_store import ServerStore
from support.server import ServerProcess, running_server, timeout_scale

T = TypeVar("T")
PASSWORD = "console-test"
USERS = [
    Principal("officer", Role.DISTRICT_OFFICER, display_name="值班员甲"),
    Principal("officer2", Role.DISTRICT_OFFICER, display_name="值班员乙"),
    Principal("changshou", Role.STREET_OPERATOR, street="310107015", display_name="长寿路街道"),
]


@pytest.fixture(scope="session")
def qt_app(qapp: QApplication) -> QApplication:
    """The application with the CJK font and the Chinese translation, as operators see it."""
    build_translations()
    qapp.setQuitOnLastWindowClosed(False)  # as the console sets it
    choose_font(qapp)
    install_translations(qapp, "zh")
    return qapp


class Loop:
    """Runs coroutines on a qasync loop, so Qt events and asyncio interleave as in the console."""

    def __init__(self, loop: qasync.QEventLoop) -> None:
        self.loop = loop

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 20.0) -> T:
        return self.loop.run_until_complete(asyncio.wait_for(coroutine, timeout * timeout_scale()))


@pytest.fixture
def qloop(qt_app: QApplication) -> Iterator[Loop]:
    loop = qasync.QEventLoop(qt_app)
    asyncio.set_event_loop(loop)
    yield Loop(loop)
    loop.run_until_complete(loop.shutdown_asyncgens())
    # Consoles collect garbage on the Qt thread only; other tests get Python's own back.
    collector = qt_app.findChild(QtThreadCollector)
    if isinstance(collector, QtThreadCollector):
        collector.stop()
    asyncio.set_event_loop(None)
    loop.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    data_dir = tmp_path / "server"
    data_dir.mkdir()
    store = ServerStore(ServerConfig(data_dir=data_dir).store_url)
    hashed = hash_password(PASSWORD)
    for user in USERS:
        store.add_user(user, hashed)
    store.close()
    with running_server(data_dir) as process:
        yield process


@pytest.fixture
def consoles(server: ServerProcess, qloop: Loop, tmp_path: Path) -> Iterator[Callable[[str], Any]]:
    """Async factory: ``await consoles("officer")`` → a started console signed in as that user;
    all are stopped at the end, whatever the test did. Tests run their whole scenario in one
    ``qloop.run(...)``: the loop must keep running while consoles talk to the server."""
    from app.console.app import ConsoleOptions
    from app.console.console import Console
    from comms.credentials import MemoryKeyring

    started: list[Console] = []
    keyring = MemoryKeyring()  # one workstation's keyring, shared by its consoles

    async def make(user: str, password: str = PASSWORD, remember: bool = False, dialog: bool = False) -> Console:
        options = ConsoleOptions(
            server=server.url,
            cache_dir=tmp_path / f"cache-{user}",
            user=None if dialog else user,
            password=None if dialog else password,
            remember=remember,
            keyring=keyring,
        )
        console = Console(options)
        started.append(console)
        if dialog:
            return console
        assert await console.start()
        return console

    yield make

    async def stop_all() -> None:
        for console in started:
            await console.stop()

    qloop.run(stop_all())
