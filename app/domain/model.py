"""The incident and the values it is made of.

An incident (事件/案卷) is one matter in the city, however many reports it merges. It is an
immutable value: every change produces a new incident with a higher ``version``, made by the
workflow (:mod:`app.domain.workflow`) and nothing else.
"""

from __future__ import annotations

import enum

import msgspec


class Severity(enum.IntEnum):
    """The four warning levels, most urgent first (红橙黄蓝)."""

    RED = 1
    ORANGE = 2
    YELLOW = 3
    BLUE = 4

    @classmethod
    def parse(cls, value: str | int) -> Severity:
        """Read a severity from its name (``"red"``) or its level number (``1``)."""
        if isinstance(value, int):
            return cls(value)
        try:
            return cls[value.upper()]
        except KeyError:
            raise ValueError(f"unknown severity {value!r}; expected red, orange, yellow or blue") from None


class Status(enum.StrEnum):
    """Where an incident is in the closed loop."""

    REPORTED = "reported"
    REGISTERED = "registered"
    DISPATCHED = "dispatched"
    HANDLING = "handling"
    HANDLED = "handled"
    CLOSED = "closed"
    SUSPENDED = "suspended"
    INVALID = "invalid"
    MERGED = "merged"


#: States in which an incident is still being worked on.
OPEN_STATUSES: frozenset[Status] = frozenset(
    {
        Status.REPORTED,
        Status.REGISTERED,
        Status.DISPATCHED,
        Status.HANDLING,
        Status.HANDLED,
        Status.SUSPENDED,
    }
)


class Action(enum.StrEnum):
    """What a person (or the system) can do to an incident."""

    REPORT = "report"
    REGISTER = "register"
    INVALIDATE = "invalidate"
    MERGE = "merge"
    DISPATCH = "dispatch"
    RETURN = "return"
    ACCEPT = "accept"
    FEEDBACK = "feedback"
    VERIFY = "verify"
    REWORK = "rework"
    SUSPEND = "suspend"
    RESUME = "resume"
    SUPERVISE = "supervise"
    ADD_REPORT = "add_report"
    ATTACH = "attach"
    """Evidence added to the incident (a camera snapshot); the state stays as it is."""
    COMMAND = "command"
    """An event of the incident's fused command session (opened, joined, left, a call on its
    talk group), written by the server; the state stays as it is."""


class SourceChannel(enum.StrEnum):
    """The channel a report came in through."""

    SENSOR = "sensor"
    VIDEO_AI = "video_ai"
    HOTLINE_12345 = "hotline_12345"
    PATROL = "patrol"
    CITIZEN = "citizen"
    CONSOLE = "console"


class Stage(enum.StrEnum):
    """The timed stages of the handling standard (处置标准)."""

    REGISTER = "register"
    DISPATCH = "dispatch"
    HANDLE = "handle"
    VERIFY = "verify"


class Location(msgspec.Struct, frozen=True):
    """Where an incident is: WGS84 coordinates, its street and grid cell."""

    lon: float
    lat: float
    street: str
    grid: str = ""
    address: str = ""


class TimelineEntry(msgspec.Struct, frozen=True, omit_defaults=True):
    """One action in an incident's history: who did what, when, with which note."""

    at: float
    actor: str
    action: Action
    note: str = ""
    from_status: Status | None = None
    to_status: Status | None = None
    unit: str | None = None
    attachment: str | None = None
    """The file attached by an ``attach`` entry (a name the server serves for the incident)."""


class MergedReport(msgspec.Struct, frozen=True, omit_defaults=True):
    """A report that was merged into an incident instead of opening a new one."""

    report_id: str
    source: SourceChannel
    at: float
    lon: float
    lat: float
    summary: str = ""
    incident_id: int | None = None


class StageDeadline(msgspec.Struct, frozen=True, omit_defaults=True):
    """When a stage of the handling standard is due, and when it was done."""

    stage: Stage
    due_at: float
    done_at: float | None = None


class Incident(msgspec.Struct, frozen=True, kw_only=True):
    """One matter in the city and everything known about it."""

    id: int
    version: int = 1
    category: str
    title: str
    description: str = ""
    location: Location
    severity: Severity
    source: SourceChannel
    status: Status = Status.REPORTED
    unit: str | None = None
    reported_at: float
    updated_at: float
    deadlines: tuple[StageDeadline, ...] = ()
    supervised: bool = False
    rework_count: int = 0
    suspended_from: Status | None = None
    suspended_at: float | None = None
    merged_into: int | None = None
    merged: tuple[MergedReport, ...] = ()
    timeline: tuple[TimelineEntry, ...] = ()

    @property
    def is_open(self) -> bool:
        """Whether the incident is still being worked on."""
        return self.status in OPEN_STATUSES

    @property
    def current_deadline(self) -> float | None:
        """The due time of the stage the incident is in now, or None when nothing is due."""
        for deadline in reversed(self.deadlines):
            if deadline.done_at is None:
                return deadline.due_at
        return None

    def overdue(self, now: float) -> bool:
        """Whether the current stage's deadline has passed."""
        due = self.current_deadline
        return due is not None and self.status != Status.SUSPENDED and now > due
