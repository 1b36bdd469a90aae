"""The evaluation ranking (一网评效): how well each street, unit or class of events ran the
closed loop in a period — closure and handling rates, on time or not, rework, hours per stage,
overdue count — as a sortable table and a bar chart of one chosen figure.

The widget shows plain rows (:class:`EvaluationRow`) and knows nothing of where they come from.
Attributes down: :meth:`EvaluationTable.set_rows`, :meth:`~EvaluationTable.set_group_options`.
Messages up: :attr:`~EvaluationTable.periodChanged` (start, end in epoch seconds) and
:attr:`~EvaluationTable.groupByChanged` (the grouping's key), from the combo boxes.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, TypedDict

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.domain.localtime import day_start
from widgets.vitals.dashboard import ACCENT, BACKGROUND, GRID, MUTED, NORMAL_COLOUR, PANEL, PANEL_BORDER, TEXT

Index = QModelIndex | QPersistentModelIndex


class EvaluationRow(TypedDict):
    """One group's figures: ``key`` (a street, unit or category code), ``label`` (its name as
    shown) and ``figures`` by the keys of :data:`FIGURES` — the field names of
    :class:`app.domain.evaluation.EvaluationRow`, so ``msgspec.structs.asdict(row)`` will do.
    Rates are fractions from 0 to 1, times in seconds, counts as they are; None (or a missing
    key) where there is nothing to judge."""

    key: str
    label: str
    figures: Mapping[str, float | None]


@dataclass(frozen=True)
class Figure:
    """A column: its key in :attr:`EvaluationRow.figures`, its kind (``rate``: shown in per
    cent; ``seconds``: shown in hours; ``count``) and whether a higher value is better (for
    the ranking)."""

    key: str
    kind: str
    higher_is_better: bool


#: The figures, in column order (GB/T 30428.4's terms: 立案数, 结案率, 按期结案率, 处置率,
#: 按期处置率, 返工率, the average time of each stage, 超期数).
FIGURES: Final = (
    Figure("registered", "count", True),
    Figure("close_rate", "rate", True),
    Figure("on_time_close_rate", "rate", True),
    Figure("handle_rate", "rate", True),
    Figure("on_time_handle_rate", "rate", True),
    Figure("rework_rate", "rate", False),
    Figure("avg_register_s", "seconds", False),
    Figure("avg_dispatch_s", "seconds", False),
    Figure("avg_handle_s", "seconds", False),
    Figure("avg_verify_s", "seconds", False),
    Figure("overdue", "count", False),
)
RATES: Final = tuple(f for f in FIGURES if f.kind == "rate")
#: The periods of the period box: key → days back from today's start (0: today only).
PERIODS: Final = (("today", 0), ("7d", 6), ("30d", 29))
RANK, GROUP = 0, 1
FIRST_FIGURE: Final = 2
BEST_COLOUR: Final = NORMAL_COLOUR
WORST_COLOUR: Final = QColor("#e53935")

STYLE: Final = f"""
QWidget#evaluation {{ background: {BACKGROUND.name()}; color: {TEXT.name()}; }}
QWidget#evaluation QLabel {{ color: {MUTED.name()}; }}
QWidget#evaluation QTableView {{
    background: {PANEL.name()}; alternate-background-color: #1c2732; color: {TEXT.name()};
    gridline-color: {PANEL_BORDER.name()}; border: 1px solid {PANEL_BORDER.name()};
    selection-background-color: #1f4a66; selection-color: #ffffff;
}}
QWidget#evaluation QHeaderView::section {{
    background: #111922; color: {TEXT.name()}; border: none;
    border-right: 1px solid {PANEL_BORDER.name()}; border-bottom: 1px solid {PANEL_BORDER.name()};
    padding: 4px 6px;
}}
QWidget#evaluation QComboBox {{
    background: {PANEL.name()}; color: {TEXT.name()}; border: 1px solid {PANEL_BORDER.name()};
    padding: 2px 8px; min-width: 96px;
}}
QWidget#evaluation QComboBox QAbstractItemView {{ background: {PANEL.name()}; color: {TEXT.name()}; }}
QSplitter::handle {{ background: {PANEL_BORDER.name()}; }}
"""


def _value(row: EvaluationRow, key: str) -> float | None:
    value = row["figures"].get(key)
    return None if value is None or math.isnan(value) else float(value)


def rank(rows: Sequence[EvaluationRow], figure: Figure) -> dict[str, int]:
    """The rank of each row's ``key`` by ``figure``, best first; equal values share a rank
    (1, 2, 2, 4); rows without the figure have none."""
    valued = [(v, row["key"]) for row in rows if (v := _value(row, figure.key)) is not None]
    valued.sort(key=lambda vk: -vk[0] if figure.higher_is_better else vk[0])
    ranks: dict[str, int] = {}
    previous: float | None = None
    for position, (value, key) in enumerate(valued, start=1):
        ranks[key] = ranks[valued[position - 2][1]] if previous == value else position
        previous = value
    return ranks


class EvaluationModel(QAbstractTableModel):
    """The ranking's rows: rank (by the chosen figure), group, then every figure. Sorting
    keeps rows without a value last in either direction."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[EvaluationRow] = []
        self.ranked_by: Figure = FIGURES[1]
        self.ranks: dict[str, int] = {}
        self._sort: tuple[int, Qt.SortOrder] | None = None
        self._headers = [
            self.tr("Rank"),
            self.tr("Group"),
            self.tr("Cases"),
            self.tr("Closure rate"),
            self.tr("On-time closure rate"),
            self.tr("Handling rate"),
            self.tr("On-time handling rate"),
            self.tr("Rework rate"),
            self.tr("Register (h)"),
            self.tr("Dispatch (h)"),
            self.tr("Handle (h)"),
            self.tr("Verify (h)"),
            self.tr("Overdue"),
        ]

    def set_rows(self, rows: Sequence[EvaluationRow]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.ranks = rank(self.rows, self.ranked_by)
        self._apply_sort()
        self.endResetModel()

    def rank_by(self, figure: Figure) -> None:
        self.ranked_by = figure
        self.layoutAboutToBeChanged.emit()
        self.ranks = rank(self.rows, figure)
        self._apply_sort()
        self.layoutChanged.emit()

    # -- Qt model ------------------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else FIRST_FIGURE + len(FIGURES)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self._headers[section]
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignCenter)
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self.text(row, column)
        if role == Qt.ItemDataRole.UserRole:
            return self.sort_value(row, column)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            align = Qt.AlignmentFlag.AlignLeft if column == GROUP else Qt.AlignmentFlag.AlignRight
            return int(align | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and column == RANK:
            position = self.ranks.get(row["key"])
            last = max(self.ranks.values(), default=0)
            if position == 1:
                return QBrush(BEST_COLOUR)
            if position is not None and position == last and last > 1:
                return QBrush(WORST_COLOUR)
        return None

    def text(self, row: EvaluationRow, column: int) -> str:
        if column == RANK:
            position = self.ranks.get(row["key"])
            return "—" if position is None else str(position)
        if column == GROUP:
            return row["label"]
        figure = FIGURES[column - FIRST_FIGURE]
        return format_figure(figure, _value(row, figure.key))

    def sort_value(self, row: EvaluationRow, column: int) -> float | str | None:
        if column == RANK:
            position = self.ranks.get(row["key"])
            return None if position is None else float(position)
        if column == GROUP:
            return row["label"]
        return _value(row, FIGURES[column - FIRST_FIGURE].key)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self.layoutAboutToBeChanged.emit()
        self._sort = (column, order)
        self._apply_sort()
        self.layoutChanged.emit()

    def _apply_sort(self) -> None:
        if self._sort is None:
            return
        column, order = self._sort
        descending = order == Qt.SortOrder.DescendingOrder
        if column == GROUP:
            self.rows.sort(key=lambda r: r["label"], reverse=descending)
            return
        keyed = [(self._number(r, column), r) for r in self.rows]
        present = [(v, r) for v, r in keyed if v is not None]
        present.sort(key=lambda vr: (vr[0], vr[1]["label"]), reverse=descending)
        self.rows = [r for _, r in present] + [r for v, r in keyed if v is None]

    def _number(self, row: EvaluationRow, column: int) -> float | None:
        value = self.sort_value(row, column)
        return value if isinstance(value, float) else None


def format_figure(figure: Figure, value: float | None) -> str:
    """A figure as the table shows it: rates in per cent, times in hours with one decimal."""
    if value is None:
        return "—"
    if figure.kind == "rate":
        return f"{value * 100:.1f}%"
    if figure.kind == "seconds":
        return f"{value / 3600.0:.1f}"
    return f"{value:,.0f}"


class EvaluationTable(QWidget):
    """The ranking: period, grouping and charted figure in combo boxes; the table; the chart.
    ``clock`` gives the time the periods count back from (tests fix it)."""

    periodChanged = Signal(float, float)
    """The period chosen: start and end, epoch seconds (end is now)."""
    groupByChanged = Signal(str)
    """The grouping chosen: a key of :meth:`set_group_options`."""

    def __init__(self, parent: QWidget | None = None, *, clock: Callable[[], float] = time.time) -> None:
        super().__init__(parent)
        self.setObjectName("evaluation")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self.setStyleSheet(STYLE)
        self.clock = clock
        self.model = EvaluationModel()

        self.period_box = QComboBox()
        names = {"today": self.tr("Today"), "7d": self.tr("Last 7 days"), "30d": self.tr("Last 30 days")}
        for key, _days in PERIODS:
            self.period_box.addItem(names[key], key)
        self.group_box = QComboBox()
        self.set_group_options(
            [("street", self.tr("Streets")), ("unit", self.tr("Units")), ("category", self.tr("Categories"))]
        )
        self.chart_box = QComboBox()
        for figure in RATES:
            self.chart_box.addItem(
                self.model.headerData(FIRST_FIGURE + FIGURES.index(figure), Qt.Orientation.Horizontal), figure.key
            )
        controls = QHBoxLayout()
        controls.setContentsMargins(8, 8, 8, 4)
        for label, box in (
            (self.tr("Period"), self.period_box),
            (self.tr("Group by"), self.group_box),
            (self.tr("Chart"), self.chart_box),
        ):
            controls.addWidget(QLabel(label))
            controls.addWidget(box)
            controls.addSpacing(12)
        controls.addStretch(1)

        self.view = QTableView()
        self.view.setModel(self.model)
        self.view.setSortingEnabled(True)
        self.view.setAlternatingRowColors(True)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.verticalHeader().hide()
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(False)
        header.setSortIndicator(RANK, Qt.SortOrder.AscendingOrder)

        self.chart = pg.PlotWidget()
        self.chart.setBackground(BACKGROUND)
        item = self.chart.getPlotItem()
        item.setMenuEnabled(False)
        item.hideButtons()
        self.chart.setMouseEnabled(x=False, y=False)
        for name in ("left", "bottom"):
            axis = self.chart.getAxis(name)
            axis.setPen(pg.mkPen(GRID))
            axis.setTextPen(pg.mkPen(MUTED))
            axis.setStyle(tickFont=self.font())
        self._bars = pg.BarGraphItem(x0=[], y=[], height=0.7, width=[], brushes=[], pen=pg.mkPen(None))
        self.chart.addItem(self._bars)
        self._labels: list[pg.TextItem] = []
        self.chart_title = QLabel()
        chart_side = QWidget()
        chart_layout = QVBoxLayout(chart_side)
        chart_layout.setContentsMargins(4, 0, 8, 8)
        chart_layout.addWidget(self.chart_title)
        chart_layout.addWidget(self.chart, 1)

        self._splitter = splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.view)
        splitter.addWidget(chart_side)
        chart_side.setMinimumWidth(360)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 1)
        self._sized = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(controls)
        layout.addWidget(splitter, 1)

        self.period_box.currentIndexChanged.connect(self._on_period)
        self.group_box.currentIndexChanged.connect(self._on_group)
        self.chart_box.currentIndexChanged.connect(self._on_chart)
        self._on_chart()

    # -- attributes down -----------------------------------------------------------------------
    def set_rows(self, rows: Sequence[EvaluationRow]) -> None:
        """Show these rows (one per group) and chart them."""
        self.model.set_rows(rows)
        self._draw_chart()

    def set_group_options(self, options: Sequence[tuple[str, str]]) -> None:
        """The groupings offered: (key, name shown)."""
        self.group_box.blockSignals(True)
        self.group_box.clear()
        for key, label in options:
            self.group_box.addItem(label, key)
        self.group_box.blockSignals(False)

    def period(self) -> tuple[float, float]:
        """The period chosen: from the start of its first day (Beijing time) until now."""
        now = self.clock()
        days = dict(PERIODS)[str(self.period_box.currentData())]
        return day_start(now) - days * 86400.0, now

    @property
    def group_by(self) -> str:
        return str(self.group_box.currentData())

    @property
    def charted(self) -> Figure:
        key = self.chart_box.currentData()
        return next(f for f in RATES if f.key == key)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._sized:  # the table its two thirds, once; then the operator decides
            self._sized = True
            width = self._splitter.width()
            self._splitter.setSizes([width * 2 // 3, width - width * 2 // 3])

    # -- inside --------------------------------------------------------------------------------
    def _on_period(self, _index: int) -> None:
        self.periodChanged.emit(*self.period())

    def _on_group(self, _index: int) -> None:
        self.groupByChanged.emit(self.group_by)

    def _on_chart(self, _index: int = 0) -> None:
        figure = self.charted
        self.model.rank_by(figure)
        header = FIGURES.index(figure) + FIRST_FIGURE
        self.chart_title.setText(
            self.tr("Ranked by {figure}").format(figure=self.model.headerData(header, Qt.Orientation.Horizontal))
        )
        self._draw_chart()

    def _draw_chart(self) -> None:
        figure = self.charted
        ranks = self.model.ranks
        # Best at the top: the plot's y grows upwards, so the best goes last.
        rows = sorted((r for r in self.model.rows if r["key"] in ranks), key=lambda r: -ranks[r["key"]])
        values = np.asarray([(_value(r, figure.key) or 0.0) * 100.0 for r in rows], dtype=np.float64)
        ys = np.arange(len(rows), dtype=np.float64)
        last = max(ranks.values(), default=0)
        brushes = [
            pg.mkBrush(
                BEST_COLOUR
                if ranks[r["key"]] == 1
                else WORST_COLOUR
                if ranks[r["key"]] == last and last > 1
                else ACCENT
            )
            for r in rows
        ]
        self._bars.setOpts(x0=np.zeros(len(rows)), y=ys, height=0.7, width=values, brushes=brushes)
        self.chart.getAxis("left").setTicks([[(float(y), r["label"]) for y, r in zip(ys, rows, strict=True)], []])
        while len(self._labels) < len(rows):
            label = pg.TextItem(color=TEXT, anchor=(0, 0.5))
            self.chart.addItem(label, ignoreBounds=True)
            self._labels.append(label)
        for k, label in enumerate(self._labels):
            if k < len(rows):
                label.setText(f" {values[k]:.1f}%")
                label.setPos(float(values[k]), float(ys[k]))
                label.show()
            else:
                label.hide()
        self.chart.setXRange(0.0, 118.0, padding=0)
        self.chart.setYRange(-0.6, max(0.4, len(rows) - 0.4), padding=0)
