"""The 3D district view, rendered offscreen on Putuo's real layers: the picture has the district
and its columns, a click on a column names its cell and incidents, the mouse orbits and zooms,
and new data or a new period change what is shown."""

from __future__ import annotations

import os
import random
import time
from collections.abc import Iterator

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QImage, QWheelEvent
from PySide6.QtWidgets import QApplication, QComboBox
from pytestqt.qtbot import QtBot

from app.domain.district import DistrictMap
from widgets.map.view3d import District3DView, cjk_font_file

SCREENSHOT = "/tmp/view3d.png"


def fire_columns(district: DistrictMap, seed: int, reports: int = 500, cells: int = 120) -> dict[str, list[int]]:
    """Fake fire-hazard reports and fires: ``reports`` incident ids over ``cells`` grid cells,
    a few cells with many (as real hot spots are) and most with one or two."""
    rng = random.Random(seed)
    codes = rng.sample(sorted(cell.code for cell in district.cells), cells)
    columns: dict[str, list[int]] = {}
    for incident in range(reports):
        # Every cell gets one; the rest fall mostly on the first few.
        index = incident if incident < cells else min(int(rng.expovariate(1 / 15)), cells - 1)
        columns.setdefault(codes[index], []).append(seed * 100_000 + incident)
    return columns


def pixels(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    width, height = image.width(), image.height()
    data = np.frombuffer(image.constBits(), dtype=np.uint8, count=image.bytesPerLine() * height)
    return data.reshape(height, image.bytesPerLine())[:, : width * 3].reshape(height, width, 3).copy()


def changed_fraction(a: QImage, b: QImage) -> float:
    pa, pb = pixels(a), pixels(b)
    assert pa.shape == pb.shape
    return float(np.mean(np.any(pa != pb, axis=2)))


@pytest.fixture
def view(qtbot: QtBot, qapp: QApplication, district_map: DistrictMap) -> Iterator[District3DView]:
    widget = District3DView(district_map)
    qtbot.addWidget(widget)
    widget.resize(900, 640)
    widget.show()
    qtbot.waitExposed(widget)
    widget.set_columns(fire_columns(district_map, seed=4))
    yield widget
    widget.close()


def test_the_picture_shows_the_district_and_its_columns(view: District3DView) -> None:
    image = view.render_image()
    image.save(SCREENSHOT)
    assert image.width() == view.canvas.width() and image.height() == view.canvas.height()
    rgb = pixels(image)
    packed = (rgb[..., 0].astype(np.uint32) << 16) | (rgb[..., 1].astype(np.uint32) << 8) | rgb[..., 2]
    assert len(np.unique(packed)) > 500, "a blank or flat picture"
    r, g, b = (rgb[..., k].astype(int) for k in range(3))
    slab = (abs(r - 0x5C) < 40) & (abs(g - 0x6E) < 40) & (b > r + 15)  # the slate-blue district top
    hot = (r > 170) & (g < 90) & (b < 70)  # red columns
    warm = (r > 200) & (g > 150) & (b < 110)  # yellow columns and the scale
    assert slab.mean() > 0.1
    assert hot.sum() > 100
    assert warm.sum() > 100
    assert len(view.columns()) == 120 and sum(len(ids) for ids in view.columns().values()) == 500
    # Street names need a font with Chinese glyphs, or they show as boxes.
    assert cjk_font_file() is not None


def test_clicking_the_tallest_column_lists_its_incidents(view: District3DView, qtbot: QtBot) -> None:
    columns = view.columns()
    tallest = max(columns, key=lambda code: len(columns[code]))
    where = view.screen_position(tallest)
    assert where is not None and view.canvas.rect().contains(where)
    before = view.render_image()

    with qtbot.waitSignal(view.columnPicked, timeout=2000) as picked:
        assert view.pick_at(where.x(), where.y()) == tallest
    assert picked.args == [tallest, columns[tallest]]
    assert view.selected_column() == tallest
    assert changed_fraction(before, view.render_image()) > 0.0005  # the highlight

    # The same through the mouse: a click, not a drag.
    view.select_column(None)
    with qtbot.waitSignal(view.columnPicked, timeout=2000) as clicked:
        qtbot.mouseClick(view.canvas, Qt.MouseButton.LeftButton, pos=where)
    assert clicked.args == [tallest, columns[tallest]]

    # Empty sky picks nothing.
    with qtbot.assertNotEmitted(view.columnPicked):
        assert view.pick_at(5, 5) is None


def test_dragging_orbits_and_the_wheel_zooms(view: District3DView, qtbot: QtBot) -> None:
    home = view.camera_position()
    first = view.render_image()
    centre = view.canvas.rect().center()

    with qtbot.assertNotEmitted(view.columnPicked):
        qtbot.mousePress(view.canvas, Qt.MouseButton.LeftButton, pos=centre)
        for step in range(1, 11):
            qtbot.mouseMove(view.canvas, centre + QPoint(12 * step, 3 * step))
        qtbot.mouseRelease(view.canvas, Qt.MouseButton.LeftButton, pos=centre + QPoint(120, 30))
    orbited = view.camera_position()
    assert np.linalg.norm(np.subtract(orbited, home)) > 100.0
    turned = view.render_image()
    assert changed_fraction(first, turned) > 0.2

    distance = np.linalg.norm(orbited)
    for _ in range(3):
        wheel = QWheelEvent(
            QPointF(centre),
            QPointF(view.canvas.mapToGlobal(centre)),
            QPoint(0, 0),
            QPoint(0, 120),
            Qt.MouseButton.NoButton,
            Qt.KeyboardModifier.NoModifier,
            Qt.ScrollPhase.NoScrollPhase,
            False,
        )
        QApplication.sendEvent(view.canvas, wheel)
    zoomed = view.camera_position()
    assert np.linalg.norm(zoomed) < 0.8 * distance
    assert changed_fraction(turned, view.render_image()) > 0.2

    view.reset_view()
    assert np.allclose(view.camera_position(), home)


def test_new_data_changes_the_picture(view: District3DView, district_map: DistrictMap) -> None:
    before = view.render_image()
    fresh = fire_columns(district_map, seed=9, reports=300, cells=60)
    view.set_columns(fresh)
    assert view.columns() == fresh
    assert changed_fraction(before, view.render_image()) > 0.01
    # Cells the district does not have, and empty cells, are left out.
    view.set_columns({"nowhere": [1, 2], next(iter(fresh)): []})
    assert view.columns() == {}
    view.pick_at(view.canvas.width() // 2, view.canvas.height() // 2)  # nothing to pick; no error


def test_the_period_box_emits_the_period(view: District3DView, qtbot: QtBot) -> None:
    box = view.findChild(QComboBox)
    assert box is not None
    keys = [box.itemData(i) for i in range(box.count())]
    assert keys == ["today", "7d", "30d", "365d"]

    with qtbot.waitSignal(view.periodChanged, timeout=1000) as week:
        box.setCurrentIndex(keys.index("7d"))
    start, end = week.args
    assert abs(end - time.time()) < 5 and end - start == pytest.approx(7 * 86400, abs=1)
    assert view.period()[1] - view.period()[0] == pytest.approx(7 * 86400, abs=1)

    with qtbot.waitSignal(view.periodChanged, timeout=1000) as today:
        box.setCurrentIndex(keys.index("today"))
    start, end = today.args
    midnight = time.localtime(start)
    assert (midnight.tm_hour, midnight.tm_min, midnight.tm_sec) == (0, 0, 0)
    assert 0 <= end - start <= 86400 + 3600

    before = view.render_image()
    view.set_period_label("2026-11-01 – 2026-11-24")
    assert changed_fraction(before, view.render_image()) > 0.001  # the title


def test_closing_releases_the_renderer(qtbot: QtBot, district_map: DistrictMap) -> None:
    widget = District3DView(district_map, language="en")
    qtbot.addWidget(widget)
    widget.show()
    widget.set_columns(fire_columns(district_map, seed=1, reports=50, cells=10))
    assert not widget.render_image().isNull()
    widget.close()
    assert widget.render_image().isNull()
    assert widget.pick_at(10, 10) is None
    widget.set_columns({})  # harmless after closing
