"""``cityops demo --headless --screenshot DIR --quit-after S``: the whole system in one command,
one PNG per screen, on four offscreen screens."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

from support.server import free_port, timeout_scale

SCREENS = [
    {"name": n, "x": 1920 * i, "y": 0, "width": 1920, "height": 1080, "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}
    for i, n in enumerate("ABCD")
]


@pytest.mark.slow
def test_the_demo_writes_one_screenshot_per_screen(tmp_path: Path) -> None:
    config = tmp_path / "screens.json"
    config.write_text(json.dumps({"screens": SCREENS}))
    shots = tmp_path / "shots"
    env = dict(os.environ, QT_QPA_PLATFORM=f"offscreen:configfile={config}")
    command = [
        sys.executable, "-m", "app.cli", "demo", "--data-dir", str(tmp_path / "demo"),
        "--port", str(free_port()), "--headless", "--screenshot", str(shots), "--quit-after", "8",
    ]  # fmt: skip
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        env=env,
        timeout=120 * timeout_scale(),
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "cityops-demo" in result.stdout  # the demo credentials are printed
    pngs = sorted(shots.glob("*.png"))
    assert len(pngs) == 4, result.stdout[-2000:]
    for png in pngs:
        image = QImage(str(png))
        assert (image.width(), image.height()) == (1920, 1080)
        colours = {image.pixel(x, y) for x in range(0, 1920, 37) for y in range(0, 1080, 37)}
        assert len(colours) > 3, f"{png.name} looks blank"
