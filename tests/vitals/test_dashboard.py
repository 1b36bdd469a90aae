"""The vital-signs dashboard and the evaluation ranking, offscreen, with the shipped indicator
catalogue: live values for a minute of simulated time, level colours of crafted values, a
tile's click and its breakdown by street, the history, and the ranking's sorting, formatting and
combo boxes. Renders /tmp/vitals.png and /tmp/evaluation.png for a person to look at."""

from __future__ import annotations

import math
import os
from collections.abc import Iterator

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.console.qt import choose_font, install_translations
from app.domain.catalog import Catalog
from app.domain.indicators import IndicatorCatalogue
from app.domain.localtime import day_start
from app.domain.model import Severity
from app.services.vitals import read_indicators
from app.setup_data import build_translations
from app.storage.catalog_file import read_catalog
from widgets.vitals.dashboard import LEVEL_COLOURS, NO_DATA_COLOUR, NORMAL_COLOUR, SeriesBuffer, VitalsDashboard
from widgets.vitals.evaluation import FIGURES, EvaluationRow, EvaluationTable, rank

W, H = 1600, 1000
T0 = 1_773_100_000.0
#: A working district's values, and how they wander.
BASE: dict[str, float | None] = {
    "open_backlog": 640.0,
    "overdue": 42.0,
    "overdue_share": 6.5,
    "red_open": 2.0,
    "hotline_volume_24h": 1250.0,
    "new_per_hour": 150.0,
    "closure_rate_today": 82.0,
    "fire_safety_open": 28.0,
    "suzhou_creek_open": 4.0,
    "hazard_clearing_open": 12.0,
    "creek_water_level": 3.6,
    "dust_max": 180.0,
    "noise_max": None,
    "smoke_alarms": 4.0,
    "manhole_alarms": 0.0,
    "devices_offline": 2.5,
}
#: Crafted values and the level each must show (None: normal; "no data" apart).
CRAFTED: dict[str, tuple[float | None, Severity | None]] = {
    "open_backlog": (100.0, None),
    "overdue": (120.0, Severity.ORANGE),
    "red_open": (10.0, Severity.RED),
    "hotline_volume_24h": (800.0, Severity.BLUE),  # at the boundary
    "closure_rate_today": (40.0, Severity.RED),  # lower is worse
    "overdue_share": (12.5, Severity.YELLOW),
    "creek_water_level": (None, None),
}


@pytest.fixture(scope="module")
def app(qapp: QApplication) -> QApplication:
    """The CJK font and the Chinese translation, as the console sets them."""
    if not qapp.property("cityops_vitals_test_setup"):
        build_translations()
        choose_font(qapp)
        install_translations(qapp, "zh")
        qapp.setProperty("cityops_vitals_test_setup", True)
    return qapp


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return read_catalog()


@pytest.fixture(scope="module")
def indicators(catalog: Catalog) -> IndicatorCatalogue:
    return read_indicators(catalog=catalog)


@pytest.fixture
def dashboard(
    app: QApplication, qtbot: QtBot, catalog: Catalog, indicators: IndicatorCatalogue
) -> Iterator[VitalsDashboard]:
    widget = VitalsDashboard(catalog)
    qtbot.addWidget(widget)
    widget.set_catalogue(indicators)
    widget.resize(W, H)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget
    widget.close()


def live(seconds: float, hz: float = 10.0) -> Iterator[tuple[float, dict[str, float | None]]]:
    """The base values wandering for ``seconds`` at ``hz``."""
    rng = np.random.default_rng(5)
    for k in range(int(seconds * hz)):
        at = T0 + k / hz
        values = {
            code: None if v is None else v * (1.0 + 0.08 * math.sin(k / 40.0 + n)) + rng.normal(0, 0.01 * v + 1e-3)
            for n, (code, v) in enumerate(BASE.items())
        }
        yield at, values


def feed(dashboard: VitalsDashboard, app: QApplication, seconds: float) -> None:
    for k, (at, values) in enumerate(live(seconds)):
        dashboard.update_values(values, at)
        if k % 5 == 0:
            app.processEvents()
    app.processEvents()


def distinct_colours(image: QImage) -> int:
    image = image.convertToFormat(QImage.Format.Format_RGB32)
    raw = np.frombuffer(image.constBits(), dtype=np.uint32, count=image.width() * image.height())
    return len(np.unique(raw))


def band_colour(dashboard: VitalsDashboard, code: str) -> QColor:
    """The colour of the level band at the left edge of a tile, as painted."""
    tile = dashboard.tile(code)
    return tile.grab().toImage().pixelColor(2, tile.height() // 2)


# ---- the dashboard ---------------------------------------------------------------------------


def test_the_dashboard_renders_live_data(dashboard: VitalsDashboard, app: QApplication, qtbot: QtBot) -> None:
    feed(dashboard, app, 60.0)
    qtbot.mouseClick(dashboard.tile("overdue"), Qt.MouseButton.LeftButton)
    dashboard.set_breakdown("overdue", {s: float(3 * k) for k, s in enumerate(sorted(dashboard.catalog.streets))})  # type: ignore[union-attr]
    app.processEvents()
    image = dashboard.grab().toImage()
    assert image.save("/tmp/vitals.png")
    assert distinct_colours(image) > 300  # text, colours, curves: not a blank screen
    # Every tile shows a value (no data where there is none) and the series grew.
    assert dashboard.value("open_backlog") is not None and 500 < dashboard.value("open_backlog") < 800  # type: ignore[operator]
    assert dashboard.value("noise_max") is None
    assert dashboard.series["open_backlog"].count == 600  # a minute at 10 Hz, the buffer full
    times, _ = dashboard.series["open_backlog"].arrays()
    assert np.all(np.diff(times) > 0) and times[-1] == pytest.approx(T0 + 59.9)
    # The live chart draws the chosen indicator with its four bands.
    assert dashboard.plotted == ["overdue"]
    path = dashboard.live_item.path("overdue")
    assert path.elementCount() == 600
    assert path.elementAt(599).y == pytest.approx(dashboard.value("overdue"))
    assert all(band.isVisible() for band in dashboard._bands)
    assert [band.getRegion()[0] for band in dashboard._bands] == [20.0, 50.0, 100.0, 200.0]


def test_level_colours_of_crafted_values(dashboard: VitalsDashboard, app: QApplication) -> None:
    dashboard.update_values({code: value for code, (value, _) in CRAFTED.items()}, T0)
    app.processEvents()
    for code, (value, level) in CRAFTED.items():
        tile = dashboard.tile(code)
        assert tile.level is level, code
        expected = NO_DATA_COLOUR if value is None else NORMAL_COLOUR if level is None else LEVEL_COLOURS[level]
        assert tile.colour() == expected, code
        assert band_colour(dashboard, code) == expected, code
    assert dashboard.tile("overdue").level_text() == "橙色"
    assert dashboard.tile("creek_water_level").level_text() == dashboard.tile("creek_water_level").tr("No data")


def test_clicking_a_tile_asks_for_its_breakdown_and_shows_it(
    dashboard: VitalsDashboard, app: QApplication, qtbot: QtBot, catalog: Catalog
) -> None:
    feed(dashboard, app, 2.0)
    tile = dashboard.tile("closure_rate_today")
    with qtbot.waitSignal(dashboard.tileClicked) as clicked, qtbot.waitSignal(dashboard.breakdownRequested) as asked:
        qtbot.mouseClick(tile, Qt.MouseButton.LeftButton, pos=QPoint(40, 40))
    assert clicked.args == asked.args == ["closure_rate_today"]
    assert dashboard.selected == "closure_rate_today" and tile.selected
    assert dashboard.plotted == ["closure_rate_today"]
    assert "今日结案率" in dashboard.live_title.text()
    streets = sorted(catalog.streets)
    per_street = {streets[0]: 95.0, streets[1]: 40.0, streets[2]: 70.0}
    dashboard.set_breakdown("closure_rate_today", per_street)
    app.processEvents()
    assert dashboard._breakdown_stack.currentIndex() == 1
    assert "今日结案率" in dashboard.breakdown_title.text()
    opts = dashboard._bars.opts
    # Lower is worse: the worst street at the top (the highest y).
    assert list(opts["width"]) == [95.0, 70.0, 40.0]
    ticks = dashboard.breakdown_plot.getAxis("left")._tickLevels[0]
    assert [name for _, name in ticks][-1] == catalog.streets[streets[1]].name.zh
    # A share is judged per street against the district's boundaries.
    colours = [QColor(b.color()) for b in opts["brushes"]]
    assert colours == [NORMAL_COLOUR, LEVEL_COLOURS[Severity.YELLOW], LEVEL_COLOURS[Severity.RED]]
    # The keyboard does the same as the mouse.
    other = dashboard.tile("red_open")
    other.setFocus()
    with qtbot.waitSignal(dashboard.breakdownRequested) as asked:
        qtbot.keyClick(other, Qt.Key.Key_Return)
    assert asked.args == ["red_open"]
    with pytest.raises(KeyError):
        dashboard.set_breakdown("nope", {})


def test_history_fills_a_series_and_the_tile(dashboard: VitalsDashboard, app: QApplication) -> None:
    times = np.arange(50, dtype=np.float64) * 10.0 + T0
    values = np.linspace(10.0, 60.0, 50)
    values[3] = np.nan
    dashboard.select("overdue")
    dashboard.set_history("overdue", times, values)
    app.processEvents()
    assert dashboard.value("overdue") == 60.0
    assert dashboard.tile("overdue").level is Severity.YELLOW
    path = dashboard.live_item.path("overdue")
    # A gap where there was no data: the path moves past it instead of drawing a line.
    assert path.elementCount() == 50 and path.elementAt(49).y == 60.0
    assert [k for k in range(50) if path.elementAt(k).isMoveTo()] == [0, 4]
    # A series with no data at all draws nothing (and does not trouble the axes).
    dashboard.select("noise_max")
    dashboard.set_history("noise_max", times, np.full(50, np.nan))
    app.processEvents()
    assert dashboard.live_item.path("noise_max").isEmpty()
    assert dashboard.value("noise_max") is None
    with pytest.raises(ValueError, match="differ in length"):
        dashboard.set_history("overdue", times, values[:10])


def test_several_series_share_the_chart_without_bands(dashboard: VitalsDashboard, app: QApplication) -> None:
    feed(dashboard, app, 3.0)
    dashboard.set_series(["open_backlog", "hotline_volume_24h", "new_per_hour"])
    app.processEvents()
    assert set(dashboard.live_item.codes()) == {"open_backlog", "hotline_volume_24h", "new_per_hour"}
    assert not any(band.isVisible() for band in dashboard._bands)
    dashboard.select("overdue")
    assert dashboard.live_item.codes() == ["overdue"]
    with pytest.raises(KeyError):
        dashboard.set_series(["nope"])


def test_english_names(app: QApplication, qtbot: QtBot, catalog: Catalog, indicators: IndicatorCatalogue) -> None:
    widget = VitalsDashboard(catalog, language="en")
    qtbot.addWidget(widget)
    widget.set_catalogue(indicators)
    widget.select("fire_safety_open")
    assert widget.live_title.text() == "Fire-safety hazards open (incidents)"
    assert widget.tile("overdue").accessibleName() == "Overdue incidents"
    widget.close()


def test_series_buffer_is_contiguous_and_keeps_the_newest() -> None:
    buffer = SeriesBuffer(4)
    assert buffer.arrays()[0].size == 0 and math.isnan(buffer.last())
    for k in range(1, 7):
        buffer.append(float(k), 10.0 * k)
        t, v = buffer.arrays()
        assert t.tolist() == [float(j) for j in range(max(1, k - 3), k + 1)]
        assert v.flags.c_contiguous and buffer.last() == 10.0 * k


# ---- the evaluation ranking ------------------------------------------------------------------


def rows(catalog: Catalog) -> list[EvaluationRow]:
    out: list[EvaluationRow] = []
    for k, code in enumerate(sorted(catalog.streets)):
        figures: dict[str, float | None] = {
            "registered": 300.0 + 37 * k,
            "close_rate": 0.62 + 0.035 * k,
            "on_time_close_rate": 0.55 + 0.03 * ((k * 7) % 10),
            "handle_rate": 0.7 + 0.02 * k,
            "on_time_handle_rate": 0.6 + 0.025 * ((k * 3) % 10),
            "rework_rate": 0.02 + 0.01 * ((k * 5) % 7),
            "avg_register_s": 3600 * (0.2 + 0.05 * k),
            "avg_dispatch_s": 3600 * (0.5 + 0.1 * k),
            "avg_handle_s": 3600 * (12.0 + k),
            "avg_verify_s": 3600 * (2.0 + 0.3 * k),
            "overdue": float((k * 13) % 17),
        }
        if k == 4:
            figures["close_rate"] = None  # nothing due to close yet: no rate
            figures["avg_verify_s"] = None
        out.append({"key": code, "label": catalog.streets[code].name.zh, "figures": figures})
    return out


def test_rank_shares_places_and_skips_missing() -> None:
    figure = FIGURES[1]  # closure rate: higher is better
    assert figure.key == "close_rate"
    sample: list[EvaluationRow] = [
        {"key": "a", "label": "A", "figures": {"close_rate": 0.8}},
        {"key": "b", "label": "B", "figures": {"close_rate": 0.9}},
        {"key": "c", "label": "C", "figures": {"close_rate": 0.8}},
        {"key": "d", "label": "D", "figures": {}},
        {"key": "e", "label": "E", "figures": {"close_rate": 0.5}},
    ]
    assert rank(sample, figure) == {"b": 1, "a": 2, "c": 2, "e": 4}
    rework = next(f for f in FIGURES if f.key == "rework_rate")
    assert rank([{"key": "x", "label": "X", "figures": {"rework_rate": 0.1}},
                 {"key": "y", "label": "Y", "figures": {"rework_rate": 0.05}}], rework) == {"y": 1, "x": 2}  # fmt: skip


def test_the_evaluation_ranking(app: QApplication, qtbot: QtBot, catalog: Catalog) -> None:
    now = T0
    table = EvaluationTable(clock=lambda: now)
    qtbot.addWidget(table)
    table.resize(1500, 700)
    table.show()
    qtbot.waitExposed(table)
    data = rows(catalog)
    table.set_rows(data)
    model = table.model
    app.processEvents()
    # Ranked by closure rate, best first; the street without one last with "—".
    assert [model.text(r, 0) for r in model.rows][:3] == ["1", "2", "3"]
    assert model.rows[0]["key"] == sorted(catalog.streets)[9]
    missing = next(r for r in model.rows if r["key"] == sorted(catalog.streets)[4])
    assert model.text(missing, 0) == "—" and model.text(missing, 3) == "—"
    assert model.rows[-1] is missing
    # Rates in per cent, hours with a decimal, counts with separators.
    first = model.rows[0]
    assert model.text(first, 3) == "93.5%"
    assert model.text(first, 10) == "21.0"
    assert model.text(first, 2) == "633"
    # Sorting by a column keeps rows without a value last, both ways.
    for order in (Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder):
        table.view.sortByColumn(11, order)  # verify hours
        assert model.rows[-1] is missing
        present = [model.sort_value(r, 11) for r in model.rows[:-1]]
        assert present == sorted(present, reverse=order == Qt.SortOrder.DescendingOrder)  # type: ignore[type-var]
    table.view.sortByColumn(1, Qt.SortOrder.AscendingOrder)
    assert [r["label"] for r in model.rows] == sorted(r["label"] for r in data)
    # Charting another rate ranks by it: rework, lower is better.
    with qtbot.assertNotEmitted(table.periodChanged):
        table.chart_box.setCurrentIndex(table.chart_box.findData("rework_rate"))
    assert table.charted.key == "rework_rate"
    best = min(data, key=lambda r: r["figures"]["rework_rate"] or 0.0)
    assert model.ranks[best["key"]] == 1
    assert len(table._bars.opts["width"]) == len(data)
    # The combo boxes tell the owner.
    with qtbot.waitSignal(table.periodChanged) as period:
        table.period_box.setCurrentIndex(table.period_box.findData("7d"))
    assert period.args == [day_start(now) - 6 * 86400.0, now]
    with qtbot.waitSignal(table.groupByChanged) as group:
        table.group_box.setCurrentIndex(table.group_box.findData("unit"))
    assert group.args == ["unit"]
    table.chart_box.setCurrentIndex(table.chart_box.findData("close_rate"))
    table.view.sortByColumn(0, Qt.SortOrder.AscendingOrder)
    assert [model.text(r, 0) for r in model.rows] == [*(str(k) for k in range(1, 10)), "—"]
    app.processEvents()
    image = table.grab().toImage()
    assert image.save("/tmp/evaluation.png")
    assert distinct_colours(image) > 200
    table.close()
