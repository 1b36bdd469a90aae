"""The closed loop as a transition table.

The rules, in one place:

* reported → register → registered → dispatch → dispatched → accept → handling →
  feedback → handled → verify → closed (核查结案);
* a unit may **return** a dispatch it is not responsible for (dispatched → registered);
* the center sends unsatisfactory feedback back for **rework** (handled → handling);
* a reported or registered incident may be found **invalid**, or **merged** into another;
* registered, dispatched and handling incidents may be **suspended** and **resumed**; resume
  goes back to the state the incident was suspended from, and the time spent suspended does not
  count against the stage deadline;
* **supervise** (督办) sets an escalation flag and leaves the state as it is;
* **add_report** merges another report into an open incident.

Every legal (state, action) pair is a row of :data:`TRANSITIONS`; anything else raises
:class:`IllegalTransition`, which names the state and the action.
"""

from __future__ import annotations

from typing import Final

import msgspec

from app.domain.catalog import HandlingStandard
from app.domain.model import (
    OPEN_STATUSES,
    Action,
    Incident,
    MergedReport,
    Stage,
    StageDeadline,
    Status,
    TimelineEntry,
)


class WorkflowError(Exception):
    """An action that the workflow does not allow. ``code`` is a stable machine-readable name."""

    code = "workflow"


class IllegalTransition(WorkflowError):
    """The action is not allowed in the incident's current state."""

    code = "illegal_transition"

    def __init__(self, status: Status, action: Action, incident_id: int | None = None) -> None:
        self.status = status
        self.action = action
        self.incident_id = incident_id
        which = f"incident {incident_id} is" if incident_id is not None else "the incident is"
        super().__init__(f"cannot {action.value}: {which} {status.value}")


class MissingParameter(WorkflowError):
    """The action needs a parameter that was not given (a unit to dispatch to, a merge target)."""

    code = "missing_parameter"


#: Marks the transition whose target is "the state before the suspension".
PREVIOUS: Final = "previous"

_SUSPENDABLE = (Status.REGISTERED, Status.DISPATCHED, Status.HANDLING)

#: (state, action) → next state. Every legal transition of the closed loop, and nothing else.
TRANSITIONS: Final[dict[tuple[Status, Action], Status | str]] = {
    (Status.REPORTED, Action.REGISTER): Status.REGISTERED,
    (Status.REPORTED, Action.INVALIDATE): Status.INVALID,
    (Status.REGISTERED, Action.INVALIDATE): Status.INVALID,
    (Status.REPORTED, Action.MERGE): Status.MERGED,
    (Status.REGISTERED, Action.MERGE): Status.MERGED,
    (Status.REGISTERED, Action.DISPATCH): Status.DISPATCHED,
    (Status.DISPATCHED, Action.RETURN): Status.REGISTERED,
    (Status.DISPATCHED, Action.ACCEPT): Status.HANDLING,
    (Status.HANDLING, Action.FEEDBACK): Status.HANDLED,
    (Status.HANDLED, Action.VERIFY): Status.CLOSED,
    (Status.HANDLED, Action.REWORK): Status.HANDLING,
    **{(s, Action.SUSPEND): Status.SUSPENDED for s in _SUSPENDABLE},
    (Status.SUSPENDED, Action.RESUME): PREVIOUS,
    **{(s, Action.SUPERVISE): s for s in OPEN_STATUSES},
    **{(s, Action.ADD_REPORT): s for s in OPEN_STATUSES},
    **{(s, Action.ATTACH): s for s in OPEN_STATUSES},
    **{(s, Action.COMMAND): s for s in OPEN_STATUSES},
}

#: The stage whose clock runs while an incident is in a state.
STAGE_OF: Final[dict[Status, Stage]] = {
    Status.REPORTED: Stage.REGISTER,
    Status.REGISTERED: Stage.DISPATCH,
    Status.DISPATCHED: Stage.HANDLE,
    Status.HANDLING: Stage.HANDLE,
    Status.HANDLED: Stage.VERIFY,
}


def allowed_actions(status: Status) -> frozenset[Action]:
    """The actions the workflow allows in ``status`` (before permissions)."""
    return frozenset(action for (state, action) in TRANSITIONS if state == status)


def next_status(incident: Incident, action: Action) -> Status:
    """The state ``action`` leads to from the incident's state; raises IllegalTransition."""
    target = TRANSITIONS.get((incident.status, action))
    if target is None:
        raise IllegalTransition(incident.status, action, incident.id)
    if target == PREVIOUS:
        return incident.suspended_from or Status.REGISTERED
    return Status(target)


def _deadline(stage: Stage, start: float, standard: HandlingStandard) -> StageDeadline:
    return StageDeadline(stage=stage, due_at=start + 60.0 * standard.minutes(stage))


def _close_open_deadlines(deadlines: tuple[StageDeadline, ...], at: float) -> list[StageDeadline]:
    return [d if d.done_at is not None else msgspec.structs.replace(d, done_at=at) for d in deadlines]


def start_deadlines(at: float, standard: HandlingStandard, status: Status) -> tuple[StageDeadline, ...]:
    """The deadlines of a new incident that starts in ``status`` at ``at``."""
    stage = STAGE_OF.get(status)
    return () if stage is None else (_deadline(stage, at, standard),)


def apply(
    incident: Incident,
    action: Action,
    *,
    actor: str,
    at: float,
    standard: HandlingStandard,
    note: str = "",
    unit: str | None = None,
    target_id: int | None = None,
    report: MergedReport | None = None,
    attachment: str | None = None,
) -> Incident:
    """Apply ``action`` to ``incident`` and return the changed incident.

    ``unit`` is required for dispatch, ``target_id`` for merge, ``report`` for add_report,
    ``attachment`` for attach.
    Raises :class:`IllegalTransition` or :class:`MissingParameter` and changes nothing.
    """
    status = next_status(incident, action)
    changes: dict[str, object] = {}
    deadlines = list(incident.deadlines)

    if action is Action.DISPATCH:
        if not unit:
            raise MissingParameter("dispatch needs a unit to dispatch to")
        changes["unit"] = unit
    elif action is Action.MERGE:
        if target_id is None:
            raise MissingParameter("merge needs the incident to merge into")
        if target_id == incident.id:
            raise MissingParameter("an incident cannot be merged into itself")
        changes["merged_into"] = target_id
    elif action is Action.ADD_REPORT:
        if report is None:
            raise MissingParameter("add_report needs the report")
        changes["merged"] = (*incident.merged, report)
    elif action is Action.SUPERVISE:
        changes["supervised"] = True
    elif action is Action.ATTACH:
        if not attachment:
            raise MissingParameter("attach needs the attached file")
    elif action is Action.REWORK:
        changes["rework_count"] = incident.rework_count + 1
    elif action is Action.RETURN:
        changes["unit"] = None

    if action is Action.SUSPEND:
        changes["suspended_from"] = incident.status
        changes["suspended_at"] = at
    elif action is Action.RESUME:
        # The clock stops while suspended: push the open deadline back by the pause.
        paused = at - (incident.suspended_at or at)
        deadlines = [
            d if d.done_at is not None else msgspec.structs.replace(d, due_at=d.due_at + paused) for d in deadlines
        ]
        changes["suspended_from"] = None
        changes["suspended_at"] = None
    elif STAGE_OF.get(status) != STAGE_OF.get(incident.status) or action is Action.REWORK:
        # A new stage starts: the current one is done, the next one's clock starts now.
        # (Dispatched and handling are one stage: the handling clock runs from dispatch.)
        deadlines = _close_open_deadlines(tuple(deadlines), at)
        stage = STAGE_OF.get(status)
        if stage is not None:
            deadlines.append(_deadline(stage, at, standard))

    entry = TimelineEntry(
        at=at,
        actor=actor,
        action=action,
        note=note,
        from_status=incident.status,
        to_status=status,
        unit=unit if action is Action.DISPATCH else None,
        attachment=attachment if action is Action.ATTACH else None,
    )
    return msgspec.structs.replace(
        incident,
        **changes,
        status=status,
        version=incident.version + 1,
        updated_at=at,
        deadlines=tuple(deadlines),
        timeline=(*incident.timeline, entry),
    )
