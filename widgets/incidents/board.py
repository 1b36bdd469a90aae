"""The incident board: a table model over the console's local cache, not a copy of it.

The model holds only the ordered ids of the incidents that pass the filter (an array of
integers: 8 MB for a million) and the records of the pages the view has looked at. Ids and
pages come from the board query it is given (running on the cache's worker thread), so
scrolling through a million incidents touches the database a page at a time and never blocks
the event loop.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.domain.catalog import Catalog
from app.domain.records import IDX
from widgets.common.names import Names
from widgets.common.tasks import TaskSet

#: Records fetched per page, and pages kept.
PAGE = 200
MAX_PAGES = 64
#: Seconds a new or changed row stays highlighted.
FLASH_S = 2.0

SEVERITY_COLOURS = {1: QColor("#d32f2f"), 2: QColor("#f57c00"), 3: QColor("#fbc02d"), 4: QColor("#1976d2")}
FLASH_COLOUR = QColor(255, 236, 140)
OVERDUE_COLOUR = QColor("#c62828")

Index = QModelIndex | QPersistentModelIndex
IdsQuery = Callable[[], Awaitable[Sequence[int]]]
RowsQuery = Callable[[Sequence[int]], Awaitable[Mapping[int, tuple[Any, ...]]]]

#: (key, record field it sorts by)
COLUMNS: tuple[tuple[str, str], ...] = (
    ("severity", "severity"),
    ("number", "id"),
    ("category", "category"),
    ("street", "street"),
    ("source", "source"),
    ("status", "status"),
    ("unit", "unit"),
    ("time_left", "deadline"),
    ("merged", "merged_count"),
    ("updated", "updated_at"),
)


SEVERITY, NUMBER, CATEGORY = 0, 1, 2
TIME_LEFT = [key for key, _ in COLUMNS].index("time_left")
FLASH_BRUSH = QBrush(FLASH_COLOUR)
OVERDUE_BRUSH = QBrush(OVERDUE_COLOUR)
_ROLES = frozenset(
    {
        Qt.ItemDataRole.DisplayRole,
        Qt.ItemDataRole.DecorationRole,
        Qt.ItemDataRole.BackgroundRole,
        Qt.ItemDataRole.ForegroundRole,
        Qt.ItemDataRole.ToolTipRole,
        Qt.ItemDataRole.UserRole,
    }
)


class IncidentBoardModel(QAbstractTableModel):
    """Attributes down: :meth:`set_queries` (the board query for the current filter and sort),
    :meth:`refresh`, :meth:`changed` (ids the cache says changed). Messages up:
    :attr:`loaded` (row count after each refresh), :attr:`sort_requested`."""

    loaded = Signal(int)
    sort_requested = Signal(str, bool)

    def __init__(self, catalog: Catalog, language: str = "zh") -> None:
        super().__init__()
        self.catalog = catalog
        self.language = language
        self._ids: Sequence[int] = ()
        # Records and their display strings by incident id, kept across reloads (a reload
        # reorders rows; a record changes only when the cache says so).
        self._records: OrderedDict[int, tuple[tuple[Any, ...], list[str]]] = OrderedDict()
        self._min_interval_ms = 250
        self._stale: set[int] = set()
        self._loading: set[int] = set()
        self._flash: dict[int, float] = {}
        self._query_ids: IdsQuery | None = None
        self._query_rows: RowsQuery | None = None
        self._generation = 0
        self._tasks = TaskSet()
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.timeout.connect(lambda: self._spawn(self._reload()))
        self._tick = QTimer(self)
        self._tick.timeout.connect(self._on_tick)
        self._tick.start(1000)
        self._headers = [
            self.tr("Level"),
            self.tr("Number"),
            self.tr("Category"),
            self.tr("Street"),
            self.tr("Source"),
            self.tr("Status"),
            self.tr("Unit"),
            self.tr("Time left"),
            self.tr("Reports"),
            self.tr("Last change"),
        ]
        self.names = Names()

    # -- what the owner sets -------------------------------------------------------------------
    def set_queries(self, query_ids: IdsQuery, query_rows: RowsQuery) -> None:
        """Use these queries (a new filter or sort) and reload."""
        self._query_ids = query_ids
        self._query_rows = query_rows
        self.refresh(0)

    def refresh(self, delay_ms: int | None = None) -> None:
        """Reload the ids soon; bursts of calls make one reload."""
        if not self._refresh_timer.isActive():
            self._refresh_timer.start(self._min_interval_ms if delay_ms is None else delay_ms)

    def changed(self, ids: Sequence[int] | frozenset[int], reset: bool = False) -> None:
        """The cache says these incidents changed: refetch the rows shown, flash them, and
        reload the order (a change can move a row or let it in or out of the filter)."""
        if reset:
            self._records.clear()
            self._stale.clear()
            self.refresh(0)
            return
        now = time.monotonic()
        for incident_id in ids:
            self._flash[incident_id] = now
            if incident_id in self._records:
                # Keep showing the old record until the new one is fetched: no blank row.
                self._stale.add(incident_id)
        self.refresh()

    def incident_id(self, row: int) -> int | None:
        return int(self._ids[row]) if 0 <= row < len(self._ids) else None

    def row_of(self, incident_id: int) -> int | None:
        """The row showing an incident, or None. The board query's rows find it by a sorted
        search; a plain sequence (tests) by a scan."""
        position = getattr(self._ids, "position", None)
        if position is not None:
            row: int | None = position(incident_id)
            return row
        try:
            return list(self._ids).index(incident_id)
        except ValueError:
            return None

    # -- loading ---------------------------------------------------------------------------------
    def stop(self) -> None:
        """Stop the timers and the loads in flight (the console is closing)."""
        self._tick.stop()
        self._refresh_timer.stop()
        self._tasks.cancel_all()

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        self._tasks.spawn(coroutine)

    async def _reload(self) -> None:
        if self._query_ids is None:
            return
        self._generation += 1
        generation = self._generation
        ids = await self._query_ids()
        if generation != self._generation:
            return  # a newer reload is on its way
        self.beginResetModel()
        self._ids = ids
        self._loading.clear()
        self.endResetModel()
        self.loaded.emit(len(ids))
        # Under a stream of changes, reload at most this often: each reload repaints the view.
        self._min_interval_ms = 1000 if len(self._flash) > 50 else 250

    async def _load_page(self, page: int) -> None:
        if self._query_rows is None:
            return
        generation = self._generation
        ids = [int(i) for i in self._ids[page * PAGE : (page + 1) * PAGE]]
        try:
            wanted = [i for i in ids if i not in self._records or i in self._stale]
            self._stale.difference_update(wanted)
            records = await self._query_rows(wanted)
        finally:
            self._loading.discard(page)
        for incident_id, record in records.items():
            self._records[incident_id] = (record, self._display_row(record))
        while len(self._records) > PAGE * MAX_PAGES:
            self._records.popitem(last=False)
        if generation != self._generation:
            return
        first = page * PAGE
        last = min(len(self._ids), first + PAGE) - 1
        if last >= first:
            self.dataChanged.emit(self.index(first, 0), self.index(last, len(COLUMNS) - 1))

    def record(self, row: int) -> tuple[Any, ...] | None:
        """The record shown in ``row``, or None while its page loads (the load is started)."""
        if not 0 <= row < len(self._ids):
            return None
        incident_id = int(self._ids[row])
        found = self._records.get(incident_id)
        if found is not None and incident_id not in self._stale:
            return found[0]
        page = row // PAGE
        if page not in self._loading:
            self._loading.add(page)
            self._spawn(self._load_page(page))
        return None if found is None else found[0]

    def _on_tick(self) -> None:
        """Once a second: end flashes and let the time-left column count down."""
        if not self._ids:
            return
        now = time.monotonic()
        flashed = bool(self._flash)
        self._flash = {i: t for i, t in self._flash.items() if now - t < FLASH_S}
        # The view repaints only what is visible, however long the range: the whole row while
        # flashes fade, else just the time-left column.
        first = 0 if flashed else TIME_LEFT
        last = len(COLUMNS) - 1 if flashed else TIME_LEFT
        self.dataChanged.emit(self.index(0, first), self.index(len(self._ids) - 1, last))

    # -- the Qt model ------------------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 (Qt API)
        return 0 if parent.isValid() else len(self._ids)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 (Qt API)
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self._headers[section]
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self.sort_requested.emit(COLUMNS[column][1], order == Qt.SortOrder.AscendingOrder)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        # Qt asks for a dozen roles per cell on every paint: answer the ones not used at once.
        if role not in _ROLES or not index.isValid():
            return None
        column = index.column()
        record = self.record(index.row())
        if record is None:
            return "…" if role == Qt.ItemDataRole.DisplayRole and column == NUMBER else None
        if role == Qt.ItemDataRole.DisplayRole:
            if column == TIME_LEFT:
                return self._display(record, "time_left")
            cached = self._records.get(int(record[IDX["id"]]))
            return cached[1][column] if cached is not None else self._display(record, COLUMNS[column][0])
        if role == Qt.ItemDataRole.DecorationRole:
            return SEVERITY_COLOURS.get(int(record[IDX["severity"]])) if column == SEVERITY else None
        if role == Qt.ItemDataRole.BackgroundRole:
            flashed = self._flash.get(int(record[IDX["id"]]))
            if flashed is not None and time.monotonic() - flashed < FLASH_S:
                return FLASH_BRUSH
            return None
        if role == Qt.ItemDataRole.ForegroundRole:
            return OVERDUE_BRUSH if column == TIME_LEFT and self._overdue(record) else None
        if role == Qt.ItemDataRole.ToolTipRole:
            return str(record[IDX["title"]]) if column in (NUMBER, CATEGORY) else None
        return int(record[IDX["id"]])  # UserRole

    def _display_row(self, record: tuple[Any, ...]) -> list[str]:
        return [self._display(record, key) if key != "time_left" else "" for key, _ in COLUMNS]

    @staticmethod
    def _overdue(record: tuple[Any, ...]) -> bool:
        deadline = record[IDX["deadline"]]
        return deadline is not None and record[IDX["status"]] != "suspended" and time.time() > float(deadline)

    def _display(self, record: tuple[Any, ...], key: str) -> str:
        lang = self.language
        if key == "severity":
            return ["", self.tr("Red"), self.tr("Orange"), self.tr("Yellow"), self.tr("Blue")][
                int(record[IDX["severity"]])
            ]
        if key == "number":
            return f"{int(record[IDX['id']]):08d}"
        if key == "category":
            category = self.catalog.categories.get(str(record[IDX["category"]]))
            return category.name.get(lang) if category else str(record[IDX["category"]])
        if key == "street":
            street = self.catalog.streets.get(str(record[IDX["street"]]))
            return street.name.get(lang) if street else str(record[IDX["street"]])
        if key == "source":
            source = str(record[IDX["source"]])
            return self.names.source(source)
        if key == "status":
            status = str(record[IDX["status"]])
            text = self.names.status(status)
            return text + (" ⚑" if record[IDX["supervised"]] else "")
        if key == "unit":
            unit = self.catalog.units.get(str(record[IDX["unit"]] or ""))
            return unit.name.get(lang) if unit else str(record[IDX["unit"]] or "—")
        if key == "time_left":
            deadline = record[IDX["deadline"]]
            if deadline is None:
                return "—"
            if record[IDX["status"]] == "suspended":
                return self.tr("paused")
            left = float(deadline) - time.time()
            minutes = int(abs(left) // 60)
            text = (
                f"{minutes // 60}:{minutes % 60:02d}"
                if minutes >= 60
                else self.tr("%1 min").replace("%1", str(minutes))
            )
            return self.tr("OVERDUE %1").replace("%1", text) if left < 0 else text
        if key == "merged":
            return str(record[IDX["merged_count"]])
        if key == "updated":
            return time.strftime("%m-%d %H:%M:%S", time.localtime(float(record[IDX["updated_at"]])))
        return ""


class IncidentBoard(QWidget):
    """The board: a filter bar, saved filter presets and the table.

    Attributes down: :attr:`model`; :meth:`set_presets`. Messages up: :attr:`filter_changed`
    (the filter as a plain dict), :attr:`incident_selected`, :attr:`preset_saved`.
    """

    filter_changed = Signal(dict)
    incident_selected = Signal(int)
    preset_saved = Signal(str, dict)

    def __init__(self, catalog: Catalog, language: str = "zh", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.catalog = catalog
        self.model = IncidentBoardModel(catalog, language)
        self.view = QTableView()
        self.view.setObjectName("incidentTable")
        self.view.setModel(self.model)
        self.view.setSortingEnabled(True)
        # The board starts in deadline order: the most urgent stage first.
        self.view.horizontalHeader().setSortIndicator(TIME_LEFT, Qt.SortOrder.AscendingOrder)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.verticalHeader().setVisible(False)
        self.view.verticalHeader().setDefaultSectionSize(26)
        header = self.view.horizontalHeader()
        header.setStretchLastSection(True)
        for column, width in enumerate((80, 90, 150, 110, 90, 90, 150, 140, 50, 130)):
            header.resizeSection(column, width)
        self.view.setAlternatingRowColors(True)
        self.view.selectionModel().currentRowChanged.connect(self._on_current)
        self.model.loaded.connect(self._on_loaded)

        self.status = QComboBox()
        self.status.setObjectName("statusFilter")
        self.status.addItem(self.tr("Open incidents"), "open")
        self.status.addItem(self.tr("All incidents"), "all")
        for status, name in self.model.names.statuses.items():
            self.status.addItem(name, status)
        self.street = QComboBox()
        self.street.setObjectName("streetFilter")
        self.street.addItem(self.tr("All streets"), "")
        for street in catalog.streets.values():
            self.street.addItem(street.name.get(language), street.code)
        self.category = QComboBox()
        self.category.setObjectName("categoryFilter")
        self.category.addItem(self.tr("All categories"), "")
        for category in catalog.categories.values():
            self.category.addItem(category.name.get(language), category.code)
        self.severity = QComboBox()
        self.severity.setObjectName("severityFilter")
        self.severity.addItem(self.tr("All levels"), 0)
        for level, name in self.model.names.severities.items():
            self.severity.addItem(name, level)
        self.overdue = QCheckBox(self.tr("Overdue only"))
        self.overdue.setObjectName("overdueFilter")
        self.text = QLineEdit()
        self.text.setObjectName("textFilter")
        self.text.setPlaceholderText(self.tr("Search number, title, unit"))
        self.text.setClearButtonEnabled(True)
        self.presets = QComboBox()
        self.presets.setObjectName("presets")
        self.save_preset = QPushButton(self.tr("Save filter"))
        self.count = QLabel()
        self.count.setObjectName("boardCount")

        bar = QHBoxLayout()
        for widget in (self.status, self.street, self.category, self.severity, self.overdue):
            bar.addWidget(widget)
        bar.addWidget(self.text, 1)
        bar.addWidget(self.presets)
        bar.addWidget(self.save_preset)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.count)

        self._text_timer = QTimer(self)
        self._text_timer.setSingleShot(True)
        self._text_timer.timeout.connect(self._emit_filter)
        for combo in (self.status, self.street, self.category, self.severity):
            combo.currentIndexChanged.connect(self._emit_filter)
        self.overdue.toggled.connect(self._emit_filter)
        self.text.textChanged.connect(lambda _text: self._text_timer.start(300))
        self.presets.activated.connect(self._apply_preset)
        self.save_preset.clicked.connect(self._save_preset)
        self._preset_filters: dict[str, dict[str, Any]] = {}

    def current_filter(self) -> dict[str, Any]:
        """The filter as plain data (also what a preset stores)."""
        return {
            "status": self.status.currentData(),
            "street": self.street.currentData(),
            "category": self.category.currentData(),
            "severity": self.severity.currentData(),
            "overdue": self.overdue.isChecked(),
            "text": self.text.text().strip(),
        }

    def set_filter(self, values: Mapping[str, Any]) -> None:
        for combo, key in (
            (self.status, "status"),
            (self.street, "street"),
            (self.category, "category"),
            (self.severity, "severity"),
        ):
            index = combo.findData(values.get(key))
            combo.blockSignals(True)
            combo.setCurrentIndex(max(0, index))
            combo.blockSignals(False)
        self.overdue.blockSignals(True)
        self.overdue.setChecked(bool(values.get("overdue")))
        self.overdue.blockSignals(False)
        self.text.blockSignals(True)
        self.text.setText(str(values.get("text", "")))
        self.text.blockSignals(False)
        self._emit_filter()

    def set_presets(self, presets: Mapping[str, Mapping[str, Any]]) -> None:
        self._preset_filters = {name: dict(values) for name, values in presets.items()}
        self.presets.clear()
        self.presets.addItem(self.tr("Presets…"), "")
        for name in sorted(presets):
            self.presets.addItem(name, name)

    def select_incident(self, incident_id: int) -> bool:
        row = self.model.row_of(incident_id)
        if row is None:
            return False
        self.view.selectRow(row)
        self.view.scrollTo(self.model.index(row, 0))
        return True

    def _emit_filter(self) -> None:
        self.filter_changed.emit(self.current_filter())

    def _apply_preset(self, index: int) -> None:
        name = self.presets.itemData(index)
        if name and name in self._preset_filters:
            self.set_filter(self._preset_filters[name])

    def _save_preset(self) -> None:
        name, ok = QInputDialog.getText(self, self.tr("Save filter"), self.tr("Name of the preset"))
        if ok and name.strip():
            self.preset_saved.emit(name.strip(), self.current_filter())

    def _on_current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        incident_id = self.model.incident_id(current.row())
        if incident_id is not None:
            self.incident_selected.emit(incident_id)

    def _on_loaded(self, count: int) -> None:
        self.count.setText(self.tr("%n incidents", "", count))
