"""The workspace over several screens: windows on the configured screens, a saved layout
restored, a reset, and the compact layout on one screen. The screens are the offscreen
platform's; the test runs in a subprocess that configures four of them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

SCREENS = [
    {
        "name": name,
        "x": 1920 * i,
        "y": 0,
        "width": 1920,
        "height": 1080,
        "logicalDpi": 96,
        "logicalBaseDpi": 96,
        "dpr": 1,
    }
    for i, name in enumerate(["A", "B", "C", "D"])
]

SCRIPT = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from PySide6.QtWidgets import QApplication, QLabel
    from app.console.workspace import PROFILES, Workspace

    app = QApplication([])
    settings, profile_name, step = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    workspace = Workspace(PROFILES[profile_name], lambda name: (name, QLabel(name)), settings, "CityOps", "tester")
    windows = workspace.build()
    app.processEvents()
    if step == "move":
        # The operator drags the map window to the last screen and the detail dock to screen B.
        screens = app.screens()
        windows[1].setScreen(screens[-1])
        windows[1].setGeometry(screens[-1].availableGeometry())
        workspace.docks["detail"].setFloating(True)
        workspace.docks["detail"].move(screens[1].geometry().center())
        app.processEvents()
        workspace.save()
    if step == "reset":
        workspace.reset()
        app.processEvents()
    out = {
        "screens": [w.screen().name() for w in windows],
        "compact": workspace.compact,
        "floating": {n: d.isFloating() for n, d in workspace.docks.items()},
        "windows": len(windows),
    }
    print(json.dumps(out))
    """
)


def _run(tmp_path: Path, screens: list[dict[str, object]], profile: str, step: str) -> dict[str, object]:
    config = tmp_path / "screens.json"
    config.write_text(json.dumps({"screens": screens}))
    env = dict(os.environ, QT_QPA_PLATFORM=f"offscreen:configfile={config}")
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "layout.ini"), profile, step],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_the_district_profile_puts_one_window_on_each_of_four_screens(tmp_path: Path) -> None:
    layout = _run(tmp_path, SCREENS, "district", "build")
    assert layout["screens"] == ["A", "B", "C", "D"]
    assert layout["compact"] is False


def test_a_saved_layout_is_restored_and_reset_goes_back(tmp_path: Path) -> None:
    moved = _run(tmp_path, SCREENS, "district", "move")
    assert moved["screens"][1] == "D"
    restored = _run(tmp_path, SCREENS, "district", "build")
    assert restored["screens"] == ["A", "D", "C", "D"]
    assert restored["floating"]["detail"] is True  # type: ignore[index]
    reset = _run(tmp_path, SCREENS, "district", "reset")
    assert reset["screens"] == ["A", "B", "C", "D"]
    assert reset["floating"]["detail"] is False  # type: ignore[index]


def test_one_screen_gets_the_compact_layout(tmp_path: Path) -> None:
    layout = _run(tmp_path, SCREENS[:1], "district", "build")
    assert layout["compact"] is True
    assert layout["windows"] == 1


def test_two_screens_share_the_district_windows(tmp_path: Path) -> None:
    layout = _run(tmp_path, SCREENS[:2], "district", "build")
    assert layout["screens"] == ["A", "B", "A", "B"]


def test_the_console_keeps_its_layout_and_offers_a_reset(qloop: Any, consoles: Any) -> None:
    """Through the real console: the layout is saved when it closes, and the Workspace menu
    offers the reset."""

    async def scenario() -> None:
        console = await consoles("officer")
        actions = [a.text() for a in console.windows[0].menuBar().actions()[0].menu().actions()]
        assert "重置布局" in actions and "冲突收件箱" in actions
        await console.stop()
        settings = (console.options.cache_dir / "workspace.ini").read_text()
        assert "geometry" in settings and "state" in settings

    qloop.run(scenario())
