"""``cityops console``: sign in, open the workspace, keep it in step with the server.

Everything runs on one qasync loop: Qt's event loop drives asyncio, so the sync service, the
widgets and the operator's actions share one thread; the cache's database work runs on the
sync service's worker thread and the keyring's on a thread of its own.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.console.qt import choose_font, collect_on_qt_thread, install_translations

log = logging.getLogger(__name__)


@dataclass
class ConsoleOptions:
    server: str
    cache_dir: Path
    language: str = "zh"
    user: str | None = None
    password: str | None = None
    screenshot_dir: Path | None = None
    quit_after: float | None = None
    profile: str | None = None
    remember: bool = False
    """With ``user`` and ``password`` given: remember them as the dialog's "remember me" does."""
    keyring: Any = None
    """A keyring backend to use instead of the system's (tests; ``--memory-keyring``)."""


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "cityops"


def workstation_language(cache_dir: Path, chosen: str | None) -> str:
    """The UI language: the one chosen now (and kept for next time), else the one kept for
    this workstation, else Simplified Chinese."""
    from PySide6.QtCore import QSettings

    settings = QSettings(str(cache_dir / "console.ini"), QSettings.Format.IniFormat)
    if chosen:
        settings.setValue("language", chosen)
        settings.sync()
        return chosen
    kept = settings.value("language", "zh")
    return kept if kept in ("zh", "en") else "zh"


def cache_path(cache_dir: Path, server: str, user: str) -> Path:
    """One cache per server and user on a workstation."""
    slug = re.sub(r"[^A-Za-z0-9]+", "_", server).strip("_")
    return cache_dir / f"{slug}__{user}.db"


def main(args: argparse.Namespace) -> int:
    """Entry point of ``cityops console``."""
    if args.headless:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("aioice").setLevel(logging.WARNING)  # every ICE check of every call
    import qasync
    from PySide6.QtWidgets import QApplication

    cache_dir = args.cache_dir or default_cache_dir()
    options = ConsoleOptions(
        server=args.server,
        cache_dir=cache_dir,
        language=workstation_language(cache_dir, args.language),
        user=args.user,
        password=sys.stdin.readline().rstrip("\n") if args.password_stdin else None,
        screenshot_dir=args.screenshot,
        quit_after=args.quit_after,
        profile=args.profile,
    )
    if args.memory_keyring:
        from comms.credentials import MemoryKeyring

        options.keyring = MemoryKeyring()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("CityOps Console")
    # The console decides when to quit (the last workspace window closed), not Qt: the sign-in
    # dialog closing before the workspace opens must not end the event loop.
    app.setQuitOnLastWindowClosed(False)
    app.setOrganizationName("CityOps")
    choose_font(app)
    install_translations(app, options.language)
    collect_on_qt_thread(app)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    from app.console.console import Console

    console = Console(options)
    with loop:
        code: int = loop.run_until_complete(console.run())
    return code


def grab_screens(windows: list[object], directory: Path) -> list[Path]:
    """Write one PNG per window (``widget.grab()``, which works offscreen too)."""
    from PySide6.QtWidgets import QWidget

    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for index, window in enumerate(windows, start=1):
        assert isinstance(window, QWidget)
        path = directory / f"screen-{index}-{window.objectName() or 'window'}.png"
        if window.grab().save(str(path)):
            written.append(path)
    return written
