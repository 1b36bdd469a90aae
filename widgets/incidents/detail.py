"""The incident detail panel: every field, the timeline, the merged reports, and the actions
that the workflow table and this user's role allow right now, each with a note.

The panel shows an :class:`~app.domain.model.Incident` it is given and asks for actions through
:attr:`IncidentDetail.action_requested`; the composition root carries them out and reports the
outcome back with :meth:`IncidentDetail.show_outcome`.
"""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.domain import permissions, workflow
from app.domain.catalog import Catalog
from app.domain.model import OPEN_STATUSES, Action, Incident, Severity
from app.domain.permissions import Principal
from app.domain.rooms import HOST_ROLES
from widgets.common.names import Names

SEVERITY_COLOURS = {
    Severity.RED: "#d32f2f",
    Severity.ORANGE: "#f57c00",
    Severity.YELLOW: "#fbc02d",
    Severity.BLUE: "#1976d2",
}

#: Actions offered as buttons, in the order of the closed loop.
BUTTON_ACTIONS = (
    Action.REGISTER,
    Action.DISPATCH,
    Action.ACCEPT,
    Action.FEEDBACK,
    Action.VERIFY,
    Action.REWORK,
    Action.RETURN,
    Action.SUPERVISE,
    Action.SUSPEND,
    Action.RESUME,
    Action.MERGE,
    Action.INVALIDATE,
)


def _when(t: float | None) -> str:
    return "—" if t is None else time.strftime("%m-%d %H:%M:%S", time.localtime(t))


class IncidentDetail(QWidget):
    """Attributes: :attr:`incident` (set with :meth:`set_incident`). Messages up:
    ``action_requested(incident_id, action, note, unit, target_id)`` (unit "" and target 0
    when not applicable)."""

    action_requested = Signal(int, str, str, str, int)
    command_session_requested = Signal(int)
    """The operator opens the fused command session of the incident shown."""

    def __init__(self, catalog: Catalog, principal: Principal, language: str = "zh", parent: QWidget | None = None):
        super().__init__(parent)
        self.catalog = catalog
        self.principal = principal
        self.language = language
        self.incident: Incident | None = None
        self.names = Names()

        self._title = QLabel()
        self._title.setObjectName("incidentTitle")
        self._title.setWordWrap(True)
        self._title.setStyleSheet("font-size: 16pt; font-weight: bold")
        self._session = QPushButton(self.tr("Command session"))
        self._session.setObjectName("commandSession")
        self._session.setToolTip(
            self.tr(
                "Conference with the street, the center and the district, the incident's talk group, cameras and map"
            )
        )
        self._session.setStyleSheet(
            "QPushButton { background: #8a5a00; color: white; font-weight: bold; padding: 4px 12px; }"
        )
        self._session.clicked.connect(
            lambda: self.command_session_requested.emit(self.incident.id) if self.incident is not None else None
        )
        self._session.setVisible(False)
        self._fields = QFormLayout()
        self._labels: dict[str, QLabel] = {}
        for key, label in (
            ("number", self.tr("Number")),
            ("severity", self.tr("Severity")),
            ("status", self.tr("Status")),
            ("category", self.tr("Category")),
            ("street", self.tr("Street / grid")),
            ("address", self.tr("Address")),
            ("source", self.tr("Source")),
            ("unit", self.tr("Unit")),
            ("deadline", self.tr("Stage deadline")),
            ("reported", self.tr("Reported at")),
            ("description", self.tr("Description")),
        ):
            value = QLabel()
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self._labels[key] = value
            self._fields.addRow(label, value)

        actions = QGroupBox(self.tr("Actions"))
        self._actions = actions
        actions_layout = QVBoxLayout(actions)
        self._note = QLineEdit()
        self._note.setPlaceholderText(self.tr("Note for the timeline"))
        self._unit = QComboBox()
        self._unit.setMinimumContentsLength(18)
        self._target = QSpinBox()
        self._target.setRange(0, 2_000_000_000)
        self._target.setPrefix(self.tr("merge into #"))
        extra = QHBoxLayout()
        extra.addWidget(QLabel(self.tr("Dispatch to")))
        extra.addWidget(self._unit, 1)
        extra.addWidget(self._target)
        self._buttons: dict[Action, QPushButton] = {}
        grid = QHBoxLayout()
        grid.setSpacing(4)
        for action in BUTTON_ACTIONS:
            button = QPushButton(self.names.action(action))
            button.setMinimumHeight(36)
            button.setObjectName(f"action_{action.value}")
            button.clicked.connect(lambda _checked=False, a=action: self._request(a))
            self._buttons[action] = button
            grid.addWidget(button)
        self._outcome = QLabel()
        self._outcome.setObjectName("actionOutcome")
        self._outcome.setWordWrap(True)
        actions_layout.addWidget(self._note)
        actions_layout.addLayout(extra)
        actions_layout.addLayout(grid)
        actions_layout.addWidget(self._outcome)

        self._timeline = QTableWidget(0, 4)
        self._timeline.setHorizontalHeaderLabels([self.tr("Time"), self.tr("Who"), self.tr("Action"), self.tr("Note")])
        self._timeline.horizontalHeader().setStretchLastSection(True)
        self._timeline.verticalHeader().setVisible(False)
        self._timeline.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self._merged = QTableWidget(0, 3)
        self._merged.setHorizontalHeaderLabels([self.tr("Time"), self.tr("Source"), self.tr("Report")])
        self._merged.horizontalHeader().setStretchLastSection(True)
        self._merged.verticalHeader().setVisible(False)
        self._merged.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)

        layout = QVBoxLayout(self)
        heading = QHBoxLayout()
        heading.addWidget(self._title, 1)
        heading.addWidget(self._session, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(heading)
        layout.addLayout(self._fields)
        layout.addWidget(actions)
        layout.addWidget(QLabel(self.tr("Timeline")))
        layout.addWidget(self._timeline, 2)
        self._merged_label = QLabel()
        layout.addWidget(self._merged_label)
        layout.addWidget(self._merged, 1)
        self.set_incident(None)

    def allowed_actions(self) -> list[Action]:
        """The actions offered now: allowed by the workflow in this state and by the role."""
        if self.incident is None:
            return []
        legal = workflow.allowed_actions(self.incident.status)
        return [a for a in BUTTON_ACTIONS if a in legal and permissions.may(self.principal, a)]

    def set_incident(self, incident: Incident | None) -> None:
        """Show ``incident`` (None: nothing selected). The note is kept when the same incident
        is refreshed by a live change."""
        same = incident is not None and self.incident is not None and incident.id == self.incident.id
        self.incident = incident
        if not same:
            self._note.clear()
            self._outcome.clear()
        if incident is None:
            self._title.setText(self.tr("No incident selected"))
            for label in self._labels.values():
                label.clear()
            self._timeline.setRowCount(0)
            self._merged.setRowCount(0)
            self._merged_label.setText("")
            for button in self._buttons.values():
                button.setVisible(False)
            self._actions.setVisible(False)
            self._session.setVisible(False)
            return
        self._actions.setVisible(True)
        self._session.setVisible(incident.status in OPEN_STATUSES and self.principal.role in HOST_ROLES)
        lang = self.language
        cat = self.catalog.categories.get(incident.category)
        street = self.catalog.streets.get(incident.location.street)
        unit = self.catalog.units.get(incident.unit or "")
        colour = SEVERITY_COLOURS[incident.severity]
        self._title.setText(incident.title)
        self._labels["number"].setText(f"#{incident.id:08d}  v{incident.version}")
        self._labels["severity"].setText(
            f'<span style="color:{colour}">■</span> {self.names.severity(int(incident.severity))}'
        )
        status = self.names.status(incident.status.value)
        if incident.supervised:
            status += "  " + self.tr("(supervised)")
        self._labels["status"].setText(status)
        self._labels["category"].setText(cat.name.get(lang) if cat else incident.category)
        self._labels["street"].setText(
            f"{street.name.get(lang) if street else incident.location.street} / {incident.location.grid}"
        )
        self._labels["address"].setText(incident.location.address or "—")
        self._labels["source"].setText(self.names.source(incident.source.value))
        self._labels["unit"].setText(unit.name.get(lang) if unit else (incident.unit or "—"))
        due = incident.current_deadline
        if due is None:
            self._labels["deadline"].setText("—")
        else:
            left = due - time.time()
            text = _when(due)
            if left < 0 and incident.status.value != "suspended":
                text += "  " + self.tr("OVERDUE by %1 min").replace("%1", str(int(-left // 60)))
                self._labels["deadline"].setStyleSheet("color:#c62828; font-weight:bold")
            else:
                self._labels["deadline"].setStyleSheet("")
            self._labels["deadline"].setText(text)
        self._labels["reported"].setText(_when(incident.reported_at))
        self._labels["description"].setText(incident.description or "—")
        self._timeline.setRowCount(len(incident.timeline))
        for row, entry in enumerate(reversed(incident.timeline)):
            cells = [_when(entry.at), entry.actor, self.names.action(entry.action), entry.note]
            for col, text in enumerate(cells):
                self._timeline.setItem(row, col, QTableWidgetItem(text))
        self._merged_label.setText(self.tr("Merged reports: %n", "", len(incident.merged)))
        self._merged.setRowCount(len(incident.merged))
        for row, report in enumerate(incident.merged):
            cells = [_when(report.at), self.names.source(report.source.value), report.summary or report.report_id]
            for col, text in enumerate(cells):
                self._merged.setItem(row, col, QTableWidgetItem(text))
        allowed = set(self.allowed_actions())
        for action, button in self._buttons.items():
            button.setVisible(action in allowed)
        self._fill_units(incident)

    def _fill_units(self, incident: Incident) -> None:
        """Dispatch choices: the responsibility list's suggestion first, then the street's own
        units, then the district's."""
        lang = self.language
        suggested = self.catalog.route(incident.category, incident.location.street)
        street_units = [u for u in self.catalog.units.values() if u.street == incident.location.street]
        district_units = [u for u in self.catalog.units.values() if u.street is None]
        self._unit.clear()
        seen: set[str] = set()
        for unit in [self.catalog.units[suggested], *street_units, *district_units]:
            if unit.code in seen:
                continue
            seen.add(unit.code)
            label = unit.name.get(lang)
            if unit.code == suggested:
                label = self.tr("%1 (responsibility list)").replace("%1", label)
            self._unit.addItem(label, unit.code)

    def _request(self, action: Action) -> None:
        if self.incident is None:
            return
        unit = str(self._unit.currentData() or "") if action is Action.DISPATCH else ""
        target = self._target.value() if action is Action.MERGE else 0
        if action is Action.MERGE and target == 0:
            self.show_outcome("rejected", self.tr("Enter the number of the incident to merge into"))
            return
        self.show_outcome("pending", self.tr("Sending…"))
        self.action_requested.emit(self.incident.id, action.value, self._note.text().strip(), unit, target)

    def show_outcome(self, kind: str, text: str) -> None:
        """Show the result of the last action: ``accepted``, ``queued``, ``rejected`` or
        ``pending``."""
        colours = {"accepted": "#2e7d32", "queued": "#d08a00", "rejected": "#c62828", "pending": "#555"}
        prefix = {
            "accepted": self.tr("Accepted"),
            "queued": self.tr("Queued offline"),
            "rejected": self.tr("Rejected"),
            "pending": "",
        }.get(kind, "")
        message = f"{prefix}: {text}" if prefix and text else prefix or text
        self._outcome.setText(f'<span style="color:{colours.get(kind, "#555")}">{message}</span>')
        self.outcome_kind = kind
        if kind == "accepted":
            self._note.clear()
