"""The conflict inbox: the operator's commands the server rejected, with its reasons, to look
at, open and mark resolved."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)


@dataclass(frozen=True)
class ConflictRow:
    """What the inbox shows of one rejected command."""

    n: int
    incident_id: int
    action: str
    note: str
    reason: str
    rejected_at: float


class ConflictInbox(QDialog):
    """Attributes down: :meth:`set_conflicts`. Messages up: :attr:`resolve_requested`,
    :attr:`open_incident`."""

    resolve_requested = Signal(int)
    open_incident = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Conflict inbox"))
        self.resize(900, 400)
        self.summary = QLabel()
        self.table = QTableWidget(0, 5)
        self.table.setObjectName("conflicts")
        self.table.setHorizontalHeaderLabels(
            [self.tr("Rejected at"), self.tr("Incident"), self.tr("Action"), self.tr("Note"), self.tr("Reason")]
        )
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.open_button = QPushButton(self.tr("Open incident"))
        self.resolve_button = QPushButton(self.tr("Mark resolved"))
        self.resolve_button.setObjectName("resolveConflict")
        close = QPushButton(self.tr("Close"))
        self.open_button.clicked.connect(self._open)
        self.resolve_button.clicked.connect(self._resolve)
        close.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.resolve_button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self._rows: list[ConflictRow] = []

    def set_conflicts(self, rows: Sequence[ConflictRow]) -> None:
        self._rows = list(rows)
        self.table.setRowCount(len(self._rows))
        for r, row in enumerate(self._rows):
            cells = [
                time.strftime("%m-%d %H:%M:%S", time.localtime(row.rejected_at)),
                f"#{row.incident_id:08d}",
                row.action,
                row.note,
                row.reason,
            ]
            for c, text in enumerate(cells):
                self.table.setItem(r, c, QTableWidgetItem(text))
        self.summary.setText(
            self.tr("%n commands were rejected by the server.", "", len(self._rows))
            if self._rows
            else self.tr("No conflicts.")
        )
        if self._rows:
            self.table.selectRow(0)
        self.resolve_button.setEnabled(bool(self._rows))
        self.open_button.setEnabled(bool(self._rows))

    def _current(self) -> ConflictRow | None:
        row = self.table.currentRow()
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def _resolve(self) -> None:
        current = self._current()
        if current is not None:
            self.resolve_requested.emit(current.n)

    def _open(self) -> None:
        current = self._current()
        if current is not None:
            self.open_incident.emit(current.incident_id)
