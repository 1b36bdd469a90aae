"""The vital-signs dashboard (数字体征): a tile per indicator with its value, unit, warning level
and sparkline; a live chart of the chosen indicator over time with its four threshold bands;
and the chosen indicator broken down by street.

Attributes down: :meth:`VitalsDashboard.set_catalogue`, :meth:`~VitalsDashboard.update_values`
(the latest values, at a time), :meth:`~VitalsDashboard.set_history` (a series, e.g. the
service's history at start), :meth:`~VitalsDashboard.set_breakdown`. Messages up:
:attr:`~VitalsDashboard.tileClicked` and :attr:`~VitalsDashboard.breakdownRequested` (the
owner answers with :meth:`~VitalsDashboard.set_breakdown`).

Drawing is cheap by design, because values arrive many times a second on a busy console: each
series lives in a fixed ring buffer that is one contiguous slice at every moment (no copy per
update), the chart's curves and bands are made once and only get new data, tiles paint their
sparkline from a path rebuilt only when their data changed, and nothing is antialiased.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Final

import numpy as np
import numpy.typing as npt
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPointF, QRect, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QHelpEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPen,
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QFrame,
    QGraphicsItem,
    QGridLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QStyleOptionGraphicsItem,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from app.domain.catalog import Catalog
from app.domain.indicators import LEVELS, Indicator, IndicatorCatalogue
from app.domain.model import Severity
from widgets.common.names import Names
from widgets.incidents.board import SEVERITY_COLOURS

# -- the dark operator theme ---------------------------------------------------------------------
BACKGROUND: Final = QColor("#0b1118")
PANEL: Final = QColor("#18212b")
PANEL_BORDER: Final = QColor("#2f3d4c")
TEXT: Final = QColor("#e6eef6")
MUTED: Final = QColor("#9fb0c2")
SELECTED: Final = QColor("#4fc3f7")
ACCENT: Final = QColor("#4fc3f7")
GRID: Final = QColor("#2a3a4a")
#: A value short of every boundary, and a value not known.
NORMAL_COLOUR: Final = QColor("#43a047")
NO_DATA_COLOUR: Final = QColor("#5c6b7a")
#: The four warning levels: the board's colours.
LEVEL_COLOURS: Final = {level: QColor(SEVERITY_COLOURS[int(level)]) for level in LEVELS}
#: Opacity of the threshold bands behind the live series (0–255).
BAND_ALPHA: Final = 46

STYLE: Final = f"""
QWidget#vitalsDashboard, QWidget#vitalsTiles {{ background: {BACKGROUND.name()}; }}
QScrollArea#vitalsScroll {{ background: {BACKGROUND.name()}; border: none; }}
QLabel#vitalsTitle {{ color: {TEXT.name()}; font-weight: bold; padding: 4px 2px; }}
QLabel#vitalsHint {{ color: {MUTED.name()}; padding: 12px; }}
QSplitter::handle {{ background: {PANEL_BORDER.name()}; }}
"""

#: Points kept per series: a minute at 10 Hz, or 100 minutes of 10-second samples.
HISTORY_POINTS: Final = 600
#: Tiles are repainted at most this often (ms), a batch at a time (so no one paint of every
#: tile holds up the event loop); the live chart follows every value.
TILE_REFRESH_MS: Final = 250
TILE_BATCH: Final = 8
TILE_BATCH_GAP_MS: Final = 15
#: Points a tile's sparkline shows (the newest).
SPARK_POINTS: Final = 120
TILE_SIZE: Final = QSize(212, 96)


def level_colour(level: Severity | None, known: bool = True) -> QColor:
    """The colour of a level: its warning colour, green when normal, grey when unknown."""
    if not known:
        return NO_DATA_COLOUR
    return NORMAL_COLOUR if level is None else LEVEL_COLOURS[level]


class SeriesBuffer:
    """The last ``size`` (time, value) pairs of a series, always readable as one contiguous
    slice: each pair is written twice, at ``i`` and ``i + size``, so appending never copies."""

    def __init__(self, size: int = HISTORY_POINTS) -> None:
        self.size = size
        self._t = np.full(2 * size, np.nan)
        self._v = np.full(2 * size, np.nan)
        self._next = 0
        self.count = 0

    def append(self, at: float, value: float) -> None:
        i = self._next
        self._t[i] = self._t[i + self.size] = at
        self._v[i] = self._v[i + self.size] = value
        self._next = (i + 1) % self.size
        self.count = min(self.count + 1, self.size)

    def replace(self, times: Sequence[float] | npt.ArrayLike, values: Sequence[float] | npt.ArrayLike) -> None:
        t = np.asarray(times, dtype=np.float64)[-self.size :]
        v = np.asarray(values, dtype=np.float64)[-self.size :]
        if t.shape != v.shape:
            raise ValueError(f"times and values differ in length ({t.shape} and {v.shape})")
        self._next = 0
        self.count = 0
        for at, value in zip(t.tolist(), v.tolist(), strict=True):
            self.append(at, value)

    def arrays(self) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Times and values, oldest first (views: valid until the next append)."""
        end = self._next + self.size
        return self._t[end - self.count : end], self._v[end - self.count : end]

    def last(self) -> float:
        return float(self._v[self._next + self.size - 1]) if self.count else math.nan


class VitalTile(QWidget):
    """One indicator's tile: name, value and unit, level (colour band and tag), sparkline.
    Clicking it (or Enter/Space on it) emits :attr:`clicked` with the indicator's code."""

    clicked = Signal(str)

    def __init__(self, indicator: Indicator, series: SeriesBuffer, language: str, names: Names) -> None:
        super().__init__()
        self.indicator = indicator
        self.series = series
        self.language = language
        self._names = names
        self.value: float | None = None
        self.level: Severity | None = None
        self.selected = False
        self._spark: QPainterPath | None = None
        self._spark_for: tuple[int, int, int] = (-1, -1, -1)
        self._dirty = True
        self.setMinimumSize(TILE_SIZE)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setFixedHeight(TILE_SIZE.height())
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setAccessibleName(indicator.name.get(language))
        base = self.font()
        self._name_font = QFont(base)
        self._name_font.setPointSizeF(max(8.0, base.pointSizeF() * 0.95))
        self._value_font = QFont(base)
        self._value_font.setPointSizeF(base.pointSizeF() * 2.0)
        self._value_font.setBold(True)
        self._unit_font = QFont(base)
        self._unit_font.setPointSizeF(max(8.0, base.pointSizeF() * 0.9))
        self._tag_font = QFont(base)
        self._tag_font.setPointSizeF(max(7.5, base.pointSizeF() * 0.85))
        self._tag_font.setBold(True)
        self._name_metrics = QFontMetrics(self._name_font)
        self._value_metrics = QFontMetrics(self._value_font)
        self._tag_metrics = QFontMetrics(self._tag_font)
        self._elided: tuple[int, str] = (-1, "")

    # -- state ---------------------------------------------------------------------------------
    def set_value(self, value: float | None, repaint: bool = True) -> None:
        """Show ``value`` (None: no data) and its level; the sparkline follows the series.
        ``repaint`` False leaves the repaint to the owner (who gathers many into one)."""
        self.value = None if value is None or math.isnan(value) else float(value)
        self.level = self.indicator.level(self.value)
        self._dirty = True
        if repaint:
            self.update()

    def set_selected(self, selected: bool) -> None:
        if selected != self.selected:
            self.selected = selected
            self.update()

    def series_changed(self) -> None:
        self._dirty = True
        self.update()

    def colour(self) -> QColor:
        """The colour the tile shows for its level."""
        return level_colour(self.level, self.value is not None)

    def level_text(self) -> str:
        if self.value is None:
            return self.tr("No data")
        if self.level is None:
            return self.tr("Normal")
        return self._names.severity(int(self.level))

    def _tooltip(self) -> str:
        ind = self.indicator
        t = ind.thresholds
        arrow = "≥" if ind.higher_is_worse else "≤"
        bounds = "  ".join(
            f"{self._names.severity(int(level))} {arrow} {ind.format(t.boundary(level))}" for level in LEVELS
        )
        return f"{ind.name.get(self.language)}: {ind.format(self.value)} {ind.unit.get(self.language)}\n{bounds}"

    # -- input ---------------------------------------------------------------------------------
    def event(self, event: QEvent) -> bool:
        # The tooltip is written when asked for, not at every new value.
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            QToolTip.showText(event.globalPos(), self._tooltip(), self)
            return True
        return super().event(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit(self.indicator.code)
            event.accept()
            return
        super().mousePressEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            self.clicked.emit(self.indicator.code)
            event.accept()
            return
        super().keyPressEvent(event)

    # -- drawing -------------------------------------------------------------------------------
    def _sparkline(self, area: QRect) -> QPainterPath | None:
        key = (self.series.count, area.width(), area.height())
        if not self._dirty and key == self._spark_for:
            return self._spark
        self._dirty = False
        self._spark_for = key
        _, values = self.series.arrays()
        values = values[-SPARK_POINTS:]
        finite = values[np.isfinite(values)]
        if finite.size < 2:
            self._spark = None
            return None
        lo, hi = float(finite.min()), float(finite.max())
        span = hi - lo if hi > lo else 1.0
        n = values.size
        x = area.left() + np.arange(n, dtype=np.float64) * (area.width() / max(1, SPARK_POINTS - 1))
        x += area.width() - (x[-1] - area.left()) if n < SPARK_POINTS else 0.0  # newest at the right edge
        y = area.bottom() - (values - lo) / span * area.height() if hi > lo else np.full(n, area.center().y() + 0.0)
        self._spark = pg.functions.arrayToQPath(x, np.asarray(y, dtype=np.float64), connect="finite")
        return self._spark

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        w, h = self.width(), self.height()
        p.fillRect(self.rect(), PANEL)
        colour = self.colour()
        p.fillRect(QRect(0, 0, 6, h), colour)
        # The name, and the level as a tag at the right.
        tag = self.level_text()
        p.setFont(self._tag_font)
        tag_metrics = self._tag_metrics
        tag_w = tag_metrics.horizontalAdvance(tag) + 12
        tag_rect = QRectF(w - tag_w - 8, 8, tag_w, tag_metrics.height() + 2)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(colour)
        p.drawRoundedRect(tag_rect, 3, 3)
        p.setPen(QColor("#101418") if self.level in (Severity.YELLOW,) else QColor("#ffffff"))
        p.drawText(tag_rect, Qt.AlignmentFlag.AlignCenter, tag)
        p.setFont(self._name_font)
        p.setPen(MUTED)
        name_w = int(tag_rect.left()) - 16 - 4
        if self._elided[0] != name_w:
            full = self.indicator.name.get(self.language)
            self._elided = (name_w, self._name_metrics.elidedText(full, Qt.TextElideMode.ElideRight, name_w))
        p.drawText(QRect(16, 8, name_w, int(tag_rect.height())), Qt.AlignmentFlag.AlignVCenter, self._elided[1])
        # The value, and its unit after it.
        value_metrics = self._value_metrics
        baseline = 26 + value_metrics.ascent()
        p.setFont(self._value_font)
        p.setPen(TEXT if self.value is not None else MUTED)
        text = self.indicator.format(self.value)
        p.drawText(QPointF(16, baseline), text)
        p.setFont(self._unit_font)
        p.setPen(MUTED)
        p.drawText(
            QPointF(16 + value_metrics.horizontalAdvance(text) + 6, baseline), self.indicator.unit.get(self.language)
        )
        # The sparkline along the bottom.
        spark_area = QRect(16, h - 24, w - 28, 16)
        path = self._sparkline(spark_area)
        if path is not None:
            # A one-pixel pen: Qt's raster engine strokes wider ones the slow way.
            p.setPen(QPen(colour if self.value is not None else MUTED, 1))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawPath(path)
        # The frame: bright when this is the chosen indicator, or has the focus.
        if self.selected or self.hasFocus():
            p.setPen(QPen(SELECTED, 2))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(QRectF(1, 1, w - 2, h - 2))
        else:
            p.setPen(QPen(PANEL_BORDER, 1))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(QRectF(0.5, 0.5, w - 1, h - 1))
        p.end()


class SeriesPaths(QGraphicsItem):
    """The live chart's curves, all in one graphics item: each is a path built once per new
    value (in the update, not in the paint) and drawn with a one-pixel pen. Many curve items
    would each measure their data and run Python code at every paint; this one paints a
    list of paths."""

    def __init__(self) -> None:
        super().__init__()
        self._paths: dict[str, tuple[QPainterPath, QPen]] = {}
        self._bounds = QRectF()

    def set_curve(
        self, code: str, x: npt.NDArray[np.float64], y: npt.NDArray[np.float64], pen: QPen, refresh: bool = True
    ) -> None:
        """Draw ``code`` through (x, y), with gaps where y is NaN. With ``refresh`` False the
        caller calls :meth:`refresh` after a batch of curves."""
        finite = np.isfinite(y)
        if finite.any():
            path = pg.functions.arrayToQPath(x, y, connect="finite")
        else:
            path = QPainterPath()
        self._paths[code] = (path, pen)
        if refresh:
            self.refresh()

    def remove(self, code: str) -> None:
        if self._paths.pop(code, None) is not None:
            self.refresh()

    def path(self, code: str) -> QPainterPath:
        return self._paths[code][0]

    def codes(self) -> list[str]:
        return list(self._paths)

    def refresh(self) -> None:
        """Take the new paths' bounds and repaint."""
        bounds = QRectF()
        for path, _ in self._paths.values():
            if not path.isEmpty():
                bounds = bounds.united(path.boundingRect()) if not bounds.isNull() else path.boundingRect()
        if bounds != self._bounds:
            self.prepareGeometryChange()
            self._bounds = bounds
        self.update()

    def boundingRect(self) -> QRectF:
        return self._bounds

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        for path, pen in self._paths.values():
            painter.setPen(pen)
            painter.drawPath(path)


class _TileScroll(QScrollArea):
    """The tiles' scroll area; tells when its width changes, so the columns follow."""

    resized = Signal()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.resized.emit()


class VitalsDashboard(QWidget):
    """The dashboard screen. ``catalog`` names the streets of the breakdown; ``language``
    (``zh`` or ``en``) picks the indicators' names from the catalogue."""

    tileClicked = Signal(str)
    """A tile was clicked: the indicator's code."""
    breakdownRequested = Signal(str)
    """The dashboard wants this indicator per street: answer with :meth:`set_breakdown`."""

    def __init__(
        self,
        catalog: Catalog | None = None,
        language: str = "zh",
        parent: QWidget | None = None,
        *,
        history_points: int = HISTORY_POINTS,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("vitalsDashboard")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self.setStyleSheet(STYLE)
        self.catalog = catalog
        self.language = language
        self.history_points = history_points
        self.indicators: IndicatorCatalogue | None = None
        self.series: dict[str, SeriesBuffer] = {}
        self.tiles: dict[str, VitalTile] = {}
        self.selected: str | None = None
        #: The indicators the live chart draws (one: with its threshold bands).
        self.plotted: list[str] = []
        #: The indicator whose breakdown is shown (or awaited), and the breakdown itself.
        self.breakdown_code: str | None = None
        self.breakdown: dict[str, float] = {}
        self._names = Names()
        self._columns = 0
        #: The pen of each curve on the live chart.
        self._pens: dict[str, QPen] = {}
        self._y_range: tuple[float, float] | None = None
        self._x_range: tuple[float, float] | None = None
        self._band_labels: list[pg.TextItem] = []
        # Tiles with a new value are repainted together, a few times a second at most.
        self._stale_tiles: dict[str, None] = {}
        self._tile_timer = QTimer(self)
        self._tile_timer.setSingleShot(True)
        self._tile_timer.setInterval(TILE_REFRESH_MS)
        self._tile_timer.timeout.connect(self._repaint_tiles)

        # Tiles, in a scrolling grid whose columns follow the width.
        self._tile_host = QWidget()
        self._tile_host.setObjectName("vitalsTiles")
        host_layout = QVBoxLayout(self._tile_host)
        host_layout.setContentsMargins(8, 8, 8, 8)
        self._grid = QGridLayout()
        self._grid.setSpacing(8)
        host_layout.addLayout(self._grid)
        host_layout.addStretch(1)
        self._scroll = _TileScroll()
        self._scroll.resized.connect(self._relayout)
        self._scroll.setObjectName("vitalsScroll")
        self._scroll.setWidgetResizable(True)
        self._scroll.setFrameShape(QFrame.Shape.NoFrame)
        self._scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._scroll.setWidget(self._tile_host)

        # The live chart of the chosen indicator.
        self.live_title = QLabel(self.tr("Select an indicator"))
        self.live_title.setObjectName("vitalsTitle")
        self.live_plot = pg.PlotWidget(axisItems={"bottom": pg.DateAxisItem(orientation="bottom")})
        self._style_plot(self.live_plot)
        self.live_plot.setMouseEnabled(x=True, y=False)
        self.live_plot.showGrid(x=False, y=False)
        self.live_item = SeriesPaths()
        self.live_item.setZValue(10)
        self.live_plot.addItem(self.live_item, ignoreBounds=True)
        self._bands = self._make_bands()
        live = QWidget()
        live_layout = QVBoxLayout(live)
        live_layout.setContentsMargins(8, 0, 4, 8)
        live_layout.addWidget(self.live_title)
        live_layout.addWidget(self.live_plot, 1)

        # The breakdown by street: a hint until a tile is clicked, then a bar chart.
        self.breakdown_title = QLabel(self.tr("Breakdown by street"))
        self.breakdown_title.setObjectName("vitalsTitle")
        self.breakdown_plot = pg.PlotWidget()
        self._style_plot(self.breakdown_plot)
        self.breakdown_plot.setMouseEnabled(x=False, y=False)
        self.breakdown_plot.showGrid(x=False, y=False)
        self._bars = pg.BarGraphItem(x0=[], y=[], height=0.7, width=[], brushes=[], pen=pg.mkPen(None))
        self.breakdown_plot.addItem(self._bars)
        self._bar_labels: list[pg.TextItem] = []
        hint = QLabel(self.tr("Click a tile to see it by street"))
        hint.setObjectName("vitalsHint")
        hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        hint.setWordWrap(True)
        self._breakdown_stack = QStackedWidget()
        self._breakdown_stack.addWidget(hint)
        self._breakdown_stack.addWidget(self.breakdown_plot)
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(4, 0, 8, 8)
        side_layout.addWidget(self.breakdown_title)
        side_layout.addWidget(self._breakdown_stack, 1)

        charts = QSplitter(Qt.Orientation.Horizontal)
        charts.addWidget(live)
        charts.addWidget(side)
        charts.setStretchFactor(0, 3)
        charts.setStretchFactor(1, 2)
        self._splitter = QSplitter(Qt.Orientation.Vertical)
        self._splitter.addWidget(self._scroll)
        self._splitter.addWidget(charts)
        self._splitter.setStretchFactor(0, 1)
        self._splitter.setStretchFactor(1, 1)
        self._splitter.setChildrenCollapsible(False)
        self._user_sized = False
        self._splitter.splitterMoved.connect(self._on_splitter_moved)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._splitter)

    # -- attributes down -----------------------------------------------------------------------
    def set_catalogue(self, indicators: IndicatorCatalogue) -> None:
        """Show these indicators: one tile each, in the catalogue's order; the first is chosen."""
        for tile in self.tiles.values():
            self._grid.removeWidget(tile)
            tile.deleteLater()
        for code in self.live_item.codes():
            self.live_item.remove(code)
        self._pens = {}
        self._stale_tiles.clear()
        self.indicators = indicators
        self.series = {code: SeriesBuffer(self.history_points) for code in indicators}
        self.tiles = {}
        for code, indicator in indicators.items():
            tile = VitalTile(indicator, self.series[code], self.language, self._names)
            tile.clicked.connect(self._on_tile_clicked)
            tile.set_value(None)
            self.tiles[code] = tile
        self._columns = 0
        self._relayout()
        first = next(iter(indicators), None)
        self.selected = None
        self.breakdown_code = None
        self._breakdown_stack.setCurrentIndex(0)
        self.breakdown_title.setText(self.tr("Breakdown by street"))
        if first is not None:
            self.select(first)

    def update_values(self, values: Mapping[str, float | None], at: float) -> None:
        """The latest values (None: no data) at ``at`` (epoch seconds): tiles and series."""
        for code, value in values.items():
            series = self.series.get(code)
            if series is None:
                continue
            series.append(at, math.nan if value is None else float(value))
            self.tiles[code].set_value(value, repaint=False)
            self._stale_tiles[code] = None
        if self._stale_tiles and not self._tile_timer.isActive():
            self._tile_timer.start(TILE_REFRESH_MS)
        self._redraw_curves([code for code in self.plotted if code in values])

    def _repaint_tiles(self) -> None:
        batch = list(self._stale_tiles)[:TILE_BATCH]
        for code in batch:
            del self._stale_tiles[code]
            tile = self.tiles.get(code)
            if tile is not None:
                tile.update()
        if self._stale_tiles:
            self._tile_timer.start(TILE_BATCH_GAP_MS)
        else:
            self._tile_timer.setInterval(TILE_REFRESH_MS)

    def set_history(
        self, code: str, times: Sequence[float] | npt.ArrayLike, values: Sequence[float] | npt.ArrayLike
    ) -> None:
        """Replace one indicator's series (times in epoch seconds, NaN for no data); the tile
        shows its newest value."""
        series = self.series[code]
        series.replace(times, values)
        tile = self.tiles[code]
        last = series.last()
        tile.set_value(None if math.isnan(last) else last)
        tile.series_changed()
        if code in self.plotted:
            self._redraw_curves([code])

    def set_breakdown(self, code: str, per_street: Mapping[str, float]) -> None:
        """Show ``code`` per street (street code → value), worst at the top."""
        if self.indicators is None or code not in self.indicators:
            raise KeyError(f"unknown indicator {code!r}")
        indicator = self.indicators[code]
        self.breakdown_code = code
        self.breakdown = {street: float(v) for street, v in per_street.items() if not math.isnan(v)}
        # Worst at the top: the plot's y grows upwards, so the worst goes last.
        ordered = sorted(self.breakdown.items(), key=lambda kv: kv[1], reverse=not indicator.higher_is_worse)
        ys = np.arange(len(ordered), dtype=np.float64)
        widths = np.asarray([v for _, v in ordered], dtype=np.float64)
        brushes = [pg.mkBrush(level_colour(indicator.level(v)) if indicator.intensive else ACCENT) for _, v in ordered]
        self._bars.setOpts(x0=np.zeros(len(ordered)), y=ys, height=0.7, width=widths, brushes=brushes)
        left = self.breakdown_plot.getAxis("left")
        left.setTicks([[(float(y), self._street_name(street)) for y, (street, _) in zip(ys, ordered, strict=True)], []])
        while len(self._bar_labels) < len(ordered):
            label = pg.TextItem(color=TEXT, anchor=(0, 0.5))
            self.breakdown_plot.addItem(label, ignoreBounds=True)
            self._bar_labels.append(label)
        for k, label in enumerate(self._bar_labels):
            if k < len(ordered):
                label.setText(f" {indicator.format(ordered[k][1])}")
                label.setPos(float(widths[k]), float(ys[k]))
                label.show()
            else:
                label.hide()
        top = float(widths.max()) if widths.size else 1.0
        if indicator.intensive and indicator.higher_is_worse:
            top = max(top, indicator.thresholds.blue)
        self.breakdown_plot.setXRange(0.0, max(top, 1e-9) * 1.18, padding=0)
        self.breakdown_plot.setYRange(-0.6, max(0.4, len(ordered) - 0.4), padding=0)
        unit = indicator.unit.get(self.language)
        self.breakdown_title.setText(
            self.tr("{name} by street ({unit})").format(name=indicator.name.get(self.language), unit=unit)
        )
        self._breakdown_stack.setCurrentIndex(1)

    def select(self, code: str) -> None:
        """Choose the indicator the live chart shows (with its threshold bands)."""
        if self.indicators is None or code not in self.indicators:
            raise KeyError(f"unknown indicator {code!r}")
        if self.selected in self.tiles:
            self.tiles[self.selected].set_selected(False)
        self.selected = code
        self.tiles[code].set_selected(True)
        self.set_series([code])

    def set_series(self, codes: Sequence[str]) -> None:
        """The indicators the live chart draws, each as its own curve. With one, its
        threshold bands are drawn behind it and the value axis is fitted to show the
        boundary it would cross next; with several, the axes follow the data."""
        assert self.indicators is not None
        for code in codes:
            if code not in self.indicators:
                raise KeyError(f"unknown indicator {code!r}")
        for code in [c for c in self.live_item.codes() if c not in codes]:
            self.live_item.remove(code)
        self._pens = {}
        for k, code in enumerate(codes):
            colour = QColor.fromHsvF((0.53 + 0.618 * k) % 1.0, 0.55, 0.95) if len(codes) > 1 else TEXT
            # Cosmetic pens, no antialiasing: the fast path of Qt's raster engine. One pixel
            # wide when there are many; a lone curve is worth a second pixel.
            self._pens[code] = pg.mkPen(colour, width=2 if len(codes) == 1 else 1)
        self.plotted = list(codes)
        single = self.indicators[codes[0]] if len(codes) == 1 else None
        for band in self._bands:
            band.setVisible(single is not None)
        for label in self._band_labels:
            label.setVisible(single is not None)
        self._y_range = None
        self._x_range = None
        if single is not None:
            self._place_bands(single)
            self.live_title.setText(f"{single.name.get(self.language)} ({single.unit.get(self.language)})")
        else:
            self.live_title.setText(self.tr("{count} indicators").format(count=len(codes)))
        self._redraw_curves(self.plotted)

    def tile(self, code: str) -> VitalTile:
        return self.tiles[code]

    def value(self, code: str) -> float | None:
        """The value the tile of ``code`` shows."""
        return self.tiles[code].value

    # -- inside --------------------------------------------------------------------------------
    def _on_tile_clicked(self, code: str) -> None:
        self.select(code)
        self.breakdown_code = code
        indicator = self.indicators[code] if self.indicators is not None else None
        if indicator is not None:
            self.breakdown_title.setText(
                self.tr("{name} by street: loading…").format(name=indicator.name.get(self.language))
            )
        self.tileClicked.emit(code)
        self.breakdownRequested.emit(code)

    def _street_name(self, street: str) -> str:
        if self.catalog is not None and street in self.catalog.streets:
            return self.catalog.streets[street].name.get(self.language)
        return street

    def _style_plot(self, plot: pg.PlotWidget) -> None:
        plot.setBackground(BACKGROUND)
        item = plot.getPlotItem()
        item.setMenuEnabled(False)
        item.hideButtons()
        for name in ("left", "bottom"):
            axis = plot.getAxis(name)
            axis.setPen(pg.mkPen(GRID))
            axis.setTextPen(pg.mkPen(MUTED))
            axis.setStyle(tickFont=self.font())
        plot.showGrid(x=False, y=True, alpha=0.2)

    def _make_bands(self) -> list[pg.LinearRegionItem]:
        bands = []
        for level in LEVELS:
            colour = QColor(LEVEL_COLOURS[level])
            colour.setAlpha(BAND_ALPHA)
            band = pg.LinearRegionItem(
                values=(0, 1), orientation="horizontal", brush=pg.mkBrush(colour), pen=pg.mkPen(None), movable=False
            )
            for line in band.lines:
                line.setPen(pg.mkPen(LEVEL_COLOURS[level], width=1, style=Qt.PenStyle.DashLine))
            band.setZValue(-10)
            band.setVisible(False)
            self.live_plot.addItem(band, ignoreBounds=True)
            bands.append(band)
            label = pg.TextItem(color=LEVEL_COLOURS[level], anchor=(1, 1))
            label.setZValue(5)
            label.setVisible(False)
            self.live_plot.addItem(label, ignoreBounds=True)
            self._band_labels.append(label)
        self.live_plot.getViewBox().sigXRangeChanged.connect(self._move_band_labels)
        return bands

    def _move_band_labels(self, _view: object = None, x_range: Sequence[float] | None = None) -> None:
        """Keep the boundaries' labels at the right edge of the chart."""
        right = float(x_range[1]) if x_range is not None else float(self.live_plot.viewRange()[0][1])
        for label in self._band_labels:
            label.setPos(right, label.pos().y())

    def _place_bands(self, indicator: Indicator) -> None:
        """Each level's band: from its boundary to the next level's (the red one runs on,
        far past anything the axis shows)."""
        t = indicator.thresholds
        bounds = [t.boundary(level) for level in LEVELS]
        span = abs(bounds[-1] - bounds[0]) or 1.0
        far = bounds[-1] + (100.0 if indicator.higher_is_worse else -100.0) * span
        for k, band in enumerate(self._bands):
            end = bounds[k + 1] if k + 1 < len(bounds) else far
            band.setRegion((min(bounds[k], end), max(bounds[k], end)))
        arrow = "≥" if indicator.higher_is_worse else "≤"
        for level, label, bound in zip(LEVELS, self._band_labels, bounds, strict=True):
            label.setText(f"{self._names.severity(int(level))} {arrow} {indicator.format(bound)}")
            label.setAnchor((1, 1) if indicator.higher_is_worse else (1, 0))
            label.setPos(label.pos().x(), bound)
        self._move_band_labels()

    def _fit_y(self, indicator: Indicator, values: npt.NDArray[np.float64]) -> None:
        """Fit the value axis to the data and the next boundary on the worse side (so the
        operator sees how far the next level is), and the blue boundary on the other."""
        bounds = [indicator.thresholds.boundary(level) for level in LEVELS]
        finite = values[np.isfinite(values)]
        if indicator.higher_is_worse:
            if finite.size:
                top = float(finite.max())
                ahead = [b for b in bounds if b > top]
                hi = max(top, ahead[0] if ahead else top)
                lo = min(0.0, float(finite.min()))
            else:
                lo, hi = min(0.0, bounds[0]), bounds[-1]
        else:
            if finite.size:
                bottom = float(finite.min())
                ahead = [b for b in bounds if b < bottom]
                lo = min(bottom, ahead[0] if ahead else bottom)
                hi = max(float(finite.max()), bounds[0])
            else:
                lo, hi = bounds[-1], bounds[0]
        margin = (hi - lo) * 0.08 or max(abs(hi) * 0.1, 1.0)
        wanted = (lo - (margin if lo < 0 or not indicator.higher_is_worse else 0.0), hi + margin)
        current = self._y_range
        if current is None or abs(current[0] - wanted[0]) + abs(current[1] - wanted[1]) > 0.02 * (hi - lo + margin):
            self._y_range = wanted
            self.live_plot.setYRange(*wanted, padding=0)

    def _redraw_curves(self, codes: Sequence[str]) -> None:
        """New data for these curves, and the axes fitted by hand: the chart's own
        autorange would measure every curve again and paint twice per update."""
        for code in codes:
            pen = self._pens.get(code)
            if pen is not None:
                times, values = self.series[code].arrays()
                self.live_item.set_curve(code, times, values, pen, refresh=False)
        self.live_item.refresh()
        if not codes or self.indicators is None:
            return
        self._fit_x()
        if len(self.plotted) == 1:
            code = self.plotted[0]
            self._fit_y(self.indicators[code], self.series[code].arrays()[1])
        else:
            self._fit_y_all()

    def _fit_x(self) -> None:
        first, last = math.inf, -math.inf
        for code in self.plotted:
            times, _ = self.series[code].arrays()
            if times.size:
                first, last = min(first, float(times[0])), max(last, float(times[-1]))
        if first > last:
            return
        # The time axis moves in steps, a tenth of the span ahead of the newest point: laying
        # out its labels again at every new value would cost more than drawing the curves.
        span = max(last - first, 1.0)
        current = self._x_range
        if current is not None and current[0] <= first and last <= current[1] and first - current[0] <= 0.15 * span:
            return
        self._x_range = (first, last + 0.1 * span)
        self.live_plot.setXRange(*self._x_range, padding=0)

    def _fit_y_all(self) -> None:
        """Several curves: the range of all of them, changed only when the data leave it or
        fill less than half of it (so the axis is not laid out again at every update)."""
        lo, hi = math.inf, -math.inf
        for code in self.plotted:
            _, values = self.series[code].arrays()
            finite = values[np.isfinite(values)]
            if finite.size:
                lo, hi = min(lo, float(finite.min())), max(hi, float(finite.max()))
        if lo > hi:
            return
        current = self._y_range
        span = hi - lo or max(abs(hi) * 0.1, 1.0)
        if (
            current is not None
            and current[0] <= lo
            and hi <= current[1]
            and (hi - lo) >= 0.5 * (current[1] - current[0])
        ):
            return
        self._y_range = (lo - 0.05 * span, hi + 0.05 * span)
        self.live_plot.setYRange(*self._y_range, padding=0)

    def _relayout(self) -> None:
        width = self._scroll.viewport().width()
        columns = max(1, (width - 16 + 8) // (TILE_SIZE.width() + 8))
        if columns == self._columns:
            return
        self._columns = columns
        for tile in self.tiles.values():
            self._grid.removeWidget(tile)
        for k, tile in enumerate(self.tiles.values()):
            self._grid.addWidget(tile, k // columns, k % columns)
        self._fit_tiles()

    def _fit_tiles(self) -> None:
        """Give the tiles the height they need, up to 55 % of the screen (then they scroll),
        unless the operator has moved the divider."""
        total = self._splitter.height()
        if self._user_sized or total <= 0 or not self.tiles:
            return
        rows = -(-len(self.tiles) // max(1, self._columns))
        wanted = rows * (TILE_SIZE.height() + self._grid.spacing()) + 16
        tiles = min(wanted, int(total * 0.55))
        self._splitter.setSizes([tiles, total - tiles])

    def _on_splitter_moved(self, _pos: int, _index: int) -> None:
        self._user_sized = True

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_tiles()

    def sizeHint(self) -> QSize:
        return QSize(1280, 860)
