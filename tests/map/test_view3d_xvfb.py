"""The 3D view under Xvfb with the xcb platform, as on a desktop: the native VTK widget renders,
a click picks the tallest column, a drag orbits. Skipped where Xvfb is not installed
(``make setup`` installs it)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

from support.server import timeout_scale

SCRIPT = Path(__file__).with_name("xvfb_view3d_script.py")
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("xvfb-run") is None, reason="xvfb-run is not installed")
def test_the_3d_view_works_under_xvfb(district_map: object, tmp_path: Path) -> None:
    out = tmp_path / "view3d_xvfb.png"
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "VTK_DEFAULT_OPENGL_WINDOW")}
    env.update(QT_QPA_PLATFORM="xcb", PYTHONPATH=os.pathsep.join([str(ROOT), str(ROOT / "tests")]))
    done = subprocess.run(
        ["xvfb-run", "-a", "-s", "-screen 0 1280x1024x24", sys.executable, str(SCRIPT), str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120 * timeout_scale(),
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["platform"] == "xcb"
    assert result["native"], "on a display the view uses VTK's own Qt widget"
    assert result["colours"] > 200, "the picture is not blank"
    assert result["picked"] == [result["expected"]]
    assert result["orbited"]
    assert not QImage(str(out)).isNull()
