"""What the console calls statuses, channels, levels and actions, in the UI's language: one
place for every widget (Qt translation context ``Names``)."""

from __future__ import annotations

from PySide6.QtCore import QObject

from app.domain.model import Action


class Names(QObject):
    """Translated names. Make one per widget after the translator is installed."""

    def __init__(self) -> None:
        super().__init__()
        self.statuses = {
            "reported": self.tr("Reported"),
            "registered": self.tr("Registered"),
            "dispatched": self.tr("Dispatched"),
            "handling": self.tr("Handling"),
            "handled": self.tr("Handled"),
            "closed": self.tr("Closed"),
            "suspended": self.tr("Suspended"),
            "invalid": self.tr("Invalid"),
            "merged": self.tr("Merged"),
        }
        self.sources = {
            "sensor": self.tr("Sensor"),
            "video_ai": self.tr("AI video"),
            "hotline_12345": self.tr("12345 hotline"),
            "patrol": self.tr("Patrol"),
            "citizen": self.tr("Citizen"),
            "console": self.tr("Console"),
        }
        self.severities = {1: self.tr("Red"), 2: self.tr("Orange"), 3: self.tr("Yellow"), 4: self.tr("Blue")}
        self.actions = {
            Action.REPORT: self.tr("Report"),
            Action.REGISTER: self.tr("Register"),
            Action.DISPATCH: self.tr("Dispatch"),
            Action.ACCEPT: self.tr("Accept"),
            Action.FEEDBACK: self.tr("Feedback"),
            Action.VERIFY: self.tr("Verify pass"),
            Action.REWORK: self.tr("Return for rework"),
            Action.RETURN: self.tr("Return dispatch"),
            Action.SUPERVISE: self.tr("Supervise"),
            Action.SUSPEND: self.tr("Suspend"),
            Action.RESUME: self.tr("Resume"),
            Action.MERGE: self.tr("Merge into…"),
            Action.INVALIDATE: self.tr("Invalid"),
            Action.ADD_REPORT: self.tr("Merged report"),
            Action.ATTACH: self.tr("Attachment"),
            Action.COMMAND: self.tr("Command session"),
        }

    def status(self, status: str) -> str:
        return self.statuses.get(status, status)

    def source(self, source: str) -> str:
        return self.sources.get(source, source)

    def severity(self, level: int) -> str:
        return self.severities.get(level, str(level))

    def action(self, action: Action) -> str:
        return self.actions.get(action, action.value)
