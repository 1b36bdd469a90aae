"""Run under Xvfb by test_view3d_xvfb.py: the 3D view as on a desktop (xcb, the native VTK
widget), rendered, clicked and orbited; prints one JSON line with what happened."""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path

from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from app.domain.district import load_district
from widgets.map.view3d import District3DView


def main(out: Path) -> None:
    app = QApplication([])
    district = load_district()
    view = District3DView(district)
    rng = random.Random(4)
    codes = rng.sample(sorted(c.code for c in district.cells), 60)
    columns: dict[str, list[int]] = {}
    for i in range(300):
        columns.setdefault(codes[i if i < 60 else min(int(rng.expovariate(1 / 10)), 59)], []).append(i)
    view.set_columns(columns)
    view.resize(900, 640)
    view.show()
    QTest.qWaitForWindowExposed(view)
    for _ in range(20):
        app.processEvents()
        time.sleep(0.02)
    image = view.render_image()
    image.save(str(out))
    tallest = max(columns, key=lambda c: len(columns[c]))
    picked: list[tuple[str, int]] = []
    view.columnPicked.connect(lambda code, ids: picked.append((code, len(ids))))
    position = view.screen_position(tallest)
    assert position is not None
    QTest.mouseClick(view.canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, position)
    before = view.camera_position()
    QTest.mousePress(view.canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(450, 320))
    for step in range(1, 11):
        QTest.mouseMove(view.canvas, QPoint(450 + 10 * step, 320 + 4 * step))
    QTest.mouseRelease(view.canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(550, 360))
    colours = len({image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)})
    result = {
        "platform": app.platformName(),
        "native": view.uses_native_widget(),
        "colours": colours,
        "picked": picked,
        "expected": [tallest, len(columns[tallest])],
        "orbited": before != view.camera_position(),
    }
    view.close()
    app.processEvents()
    print(json.dumps(result))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
