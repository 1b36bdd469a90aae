"""The closed loop: every (state, action) pair, deadlines, suspension and the whole loop.

The expected transitions are written out here by hand, independently of
``app.domain.workflow.TRANSITIONS``, so that a change to the table shows up as a failing test.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import msgspec
import pytest
import yaml

from app.domain import workflow
from app.domain.catalog import Catalog, HandlingStandard, load_catalog
from app.domain.model import (
    Action,
    Incident,
    Location,
    MergedReport,
    Severity,
    SourceChannel,
    Stage,
    StageDeadline,
    Status,
)
from app.domain.workflow import IllegalTransition, MissingParameter, WorkflowError

CATALOG_PATH = Path(__file__).parents[2] / "resources" / "catalog.yaml"

T0 = 1_700_000_000.0
"""A fixed point in time (seconds since the epoch) for the tests."""
MIN = 60.0

S = Status
A = Action

#: Sentinel for "the state the incident was suspended from".
PREVIOUS = object()

#: The states in which an incident is still worked on, written out by hand.
OPEN = (S.REPORTED, S.REGISTERED, S.DISPATCHED, S.HANDLING, S.HANDLED, S.SUSPENDED)

#: Every legal (state, action) pair and where it leads. Anything else is illegal.
EXPECTED: dict[tuple[Status, Action], Any] = {
    # 案卷建立
    (S.REPORTED, A.REGISTER): S.REGISTERED,
    (S.REPORTED, A.INVALIDATE): S.INVALID,
    (S.REGISTERED, A.INVALIDATE): S.INVALID,
    (S.REPORTED, A.MERGE): S.MERGED,
    (S.REGISTERED, A.MERGE): S.MERGED,
    # 任务派遣
    (S.REGISTERED, A.DISPATCH): S.DISPATCHED,
    (S.DISPATCHED, A.RETURN): S.REGISTERED,
    # 任务处理, 处理反馈
    (S.DISPATCHED, A.ACCEPT): S.HANDLING,
    (S.HANDLING, A.FEEDBACK): S.HANDLED,
    # 核查结案
    (S.HANDLED, A.VERIFY): S.CLOSED,
    (S.HANDLED, A.REWORK): S.HANDLING,
    # suspension
    (S.REGISTERED, A.SUSPEND): S.SUSPENDED,
    (S.DISPATCHED, A.SUSPEND): S.SUSPENDED,
    (S.HANDLING, A.SUSPEND): S.SUSPENDED,
    (S.SUSPENDED, A.RESUME): PREVIOUS,
    # supervise (督办) and add_report keep the state, in every open state
    (S.REPORTED, A.SUPERVISE): S.REPORTED,
    (S.REGISTERED, A.SUPERVISE): S.REGISTERED,
    (S.DISPATCHED, A.SUPERVISE): S.DISPATCHED,
    (S.HANDLING, A.SUPERVISE): S.HANDLING,
    (S.HANDLED, A.SUPERVISE): S.HANDLED,
    (S.SUSPENDED, A.SUPERVISE): S.SUSPENDED,
    (S.REPORTED, A.ADD_REPORT): S.REPORTED,
    (S.REGISTERED, A.ADD_REPORT): S.REGISTERED,
    (S.DISPATCHED, A.ADD_REPORT): S.DISPATCHED,
    (S.HANDLING, A.ADD_REPORT): S.HANDLING,
    (S.HANDLED, A.ADD_REPORT): S.HANDLED,
    (S.SUSPENDED, A.ADD_REPORT): S.SUSPENDED,
    (S.REPORTED, A.ATTACH): S.REPORTED,
    (S.REGISTERED, A.ATTACH): S.REGISTERED,
    (S.DISPATCHED, A.ATTACH): S.DISPATCHED,
    (S.HANDLING, A.ATTACH): S.HANDLING,
    (S.HANDLED, A.ATTACH): S.HANDLED,
    (S.SUSPENDED, A.ATTACH): S.SUSPENDED,
    **{(s, A.COMMAND): s for s in (S.REPORTED, S.REGISTERED, S.DISPATCHED, S.HANDLING, S.HANDLED, S.SUSPENDED)},
}

ALL_PAIRS = list(itertools.product(Status, Action))
LEGAL_PAIRS = [pair for pair in ALL_PAIRS if pair in EXPECTED]
ILLEGAL_PAIRS = [pair for pair in ALL_PAIRS if pair not in EXPECTED]

UNIT = "fire_brigade"
OTHER_ID = 99
REPORT = MergedReport(
    report_id="sensor-42",
    source=SourceChannel.SENSOR,
    at=T0 + 5,
    lon=121.4085,
    lat=31.2435,
    summary="second smoke alarm",
)

#: The parameters each action needs; the others need none.
PARAMS: dict[Action, dict[str, Any]] = {
    A.DISPATCH: {"unit": UNIT},
    A.MERGE: {"target_id": OTHER_ID},
    A.ADD_REPORT: {"report": REPORT},
    A.ATTACH: {"attachment": "0123456789abcdef0123456789abcdef.jpg"},
}


def _pair_id(pair: tuple[Status, Action]) -> str:
    return f"{pair[0].value}-{pair[1].value}"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(yaml.safe_load(CATALOG_PATH.read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def standard(catalog: Catalog) -> HandlingStandard:
    """The emergency standard of smoke alarms: 5 / 10 / 60 / 30 minutes."""
    return catalog.standard_for("fire.smoke_alarm")


def make_incident(status: Status = S.REPORTED, **overrides: Any) -> Incident:
    """An incident in ``status`` as the workflow would leave it: a unit once dispatched,
    the previous state when suspended, one open deadline."""
    fields: dict[str, Any] = {
        "id": 7,
        "category": "fire.smoke_alarm",
        "title": "Smoke alarm, Lane 88",
        "location": Location(lon=121.4085, lat=31.2435, street="310107005", grid="310107005008015"),
        "severity": Severity.ORANGE,
        "source": SourceChannel.SENSOR,
        "status": status,
        "reported_at": T0,
        "updated_at": T0,
        "deadlines": (StageDeadline(stage=Stage.REGISTER, due_at=T0 + 5 * MIN),),
    }
    if status in (S.DISPATCHED, S.HANDLING, S.HANDLED):
        fields["unit"] = UNIT
    if status is S.SUSPENDED:
        fields["unit"] = UNIT
        fields["suspended_from"] = S.HANDLING
        fields["suspended_at"] = T0
    fields.update(overrides)
    return Incident(**fields)


def act(incident: Incident, action: Action, standard: HandlingStandard, at: float, **kw: Any) -> Incident:
    params = {**PARAMS.get(action, {}), **kw}
    return workflow.apply(incident, action, actor="officer.li", at=at, standard=standard, **params)


def open_deadlines(incident: Incident) -> list[StageDeadline]:
    return [d for d in incident.deadlines if d.done_at is None]


# ---- the table -----------------------------------------------------------------------------


def test_the_expected_table_covers_the_whole_product() -> None:
    assert len(ALL_PAIRS) == len(Status) * len(Action) == 9 * 16
    assert len(LEGAL_PAIRS) == len(EXPECTED) == 39
    assert len(LEGAL_PAIRS) + len(ILLEGAL_PAIRS) == len(ALL_PAIRS)


@pytest.mark.parametrize(("status", "action"), LEGAL_PAIRS, ids=[_pair_id(p) for p in LEGAL_PAIRS])
def test_legal_transition(status: Status, action: Action, standard: HandlingStandard) -> None:
    before = make_incident(status)
    at = T0 + 17 * MIN
    after = act(before, action, standard, at, note="checked on site")

    expected = EXPECTED[(status, action)]
    if expected is PREVIOUS:
        expected = before.suspended_from
    assert after.status == expected
    assert workflow.next_status(before, action) == expected

    assert after.version == before.version + 1
    assert after.updated_at == at
    assert after.id == before.id
    assert len(after.timeline) == len(before.timeline) + 1
    entry = after.timeline[-1]
    assert entry.at == at
    assert entry.actor == "officer.li"
    assert entry.action == action
    assert entry.note == "checked on site"
    assert entry.from_status == status
    assert entry.to_status == expected
    assert entry.unit == (UNIT if action is A.DISPATCH else None)
    # the incident is a value: the original is untouched
    assert before == make_incident(status)


@pytest.mark.parametrize(("status", "action"), ILLEGAL_PAIRS, ids=[_pair_id(p) for p in ILLEGAL_PAIRS])
def test_illegal_transition(status: Status, action: Action, standard: HandlingStandard) -> None:
    before = make_incident(status)
    with pytest.raises(IllegalTransition) as caught:
        act(before, action, standard, T0 + MIN)
    exc = caught.value
    assert exc.status == status
    assert exc.action == action
    assert exc.incident_id == before.id
    assert exc.code == "illegal_transition"
    assert isinstance(exc, WorkflowError)
    message = str(exc)
    assert status.value in message
    assert action.value in message
    assert str(before.id) in message

    with pytest.raises(IllegalTransition):
        workflow.next_status(before, action)


def test_illegal_transition_message_without_incident_id() -> None:
    exc = IllegalTransition(S.CLOSED, A.REWORK)
    assert exc.incident_id is None
    assert "rework" in str(exc)
    assert "closed" in str(exc)


@pytest.mark.parametrize("status", list(Status), ids=[s.value for s in Status])
def test_report_is_never_a_transition(status: Status, standard: HandlingStandard) -> None:
    assert A.REPORT not in workflow.allowed_actions(status)
    with pytest.raises(IllegalTransition):
        act(make_incident(status), A.REPORT, standard, T0 + MIN)


@pytest.mark.parametrize("status", list(Status), ids=[s.value for s in Status])
def test_allowed_actions_match_the_expected_table(status: Status) -> None:
    expected = {action for (state, action) in EXPECTED if state == status}
    assert workflow.allowed_actions(status) == expected


@pytest.mark.parametrize("status", [S.CLOSED, S.INVALID, S.MERGED], ids=lambda s: s.value)
def test_final_states_allow_nothing(status: Status) -> None:
    assert workflow.allowed_actions(status) == frozenset()
    assert not make_incident(status).is_open


@pytest.mark.parametrize("status", OPEN, ids=lambda s: s.value)
def test_open_states_are_open(status: Status) -> None:
    assert make_incident(status).is_open


def test_supervise_sets_the_flag_and_keeps_deadlines(standard: HandlingStandard) -> None:
    before = make_incident(S.DISPATCHED)
    after = act(before, A.SUPERVISE, standard, T0 + 3 * MIN)
    assert not before.supervised
    assert after.supervised
    assert after.deadlines == before.deadlines


def test_add_report_appends_the_report_and_keeps_deadlines(standard: HandlingStandard) -> None:
    before = make_incident(S.HANDLING)
    after = act(before, A.ADD_REPORT, standard, T0 + 3 * MIN)
    assert after.merged == (*before.merged, REPORT)
    assert after.deadlines == before.deadlines
    again = act(after, A.ADD_REPORT, standard, T0 + 4 * MIN, report=REPORT)
    assert len(again.merged) == len(before.merged) + 2


def test_merge_records_the_target(standard: HandlingStandard) -> None:
    after = act(make_incident(S.REGISTERED), A.MERGE, standard, T0 + MIN, target_id=12)
    assert after.merged_into == 12
    assert after.status == S.MERGED


def test_dispatch_sets_the_unit(standard: HandlingStandard) -> None:
    after = act(make_incident(S.REGISTERED), A.DISPATCH, standard, T0 + MIN, unit="water_affairs")
    assert after.unit == "water_affairs"
    assert after.timeline[-1].unit == "water_affairs"


def test_return_clears_the_unit(standard: HandlingStandard) -> None:
    before = make_incident(S.DISPATCHED)
    assert before.unit == UNIT
    after = act(before, A.RETURN, standard, T0 + MIN, note="not ours")
    assert after.status == S.REGISTERED
    assert after.unit is None
    assert after.timeline[-1].unit is None


# ---- missing parameters ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "action", "kwargs", "fragment"),
    [
        pytest.param(S.REGISTERED, A.DISPATCH, {"unit": None}, "unit", id="dispatch-no-unit"),
        pytest.param(S.REGISTERED, A.DISPATCH, {"unit": ""}, "unit", id="dispatch-empty-unit"),
        pytest.param(S.REPORTED, A.MERGE, {"target_id": None}, "merge", id="merge-no-target"),
        pytest.param(S.REPORTED, A.MERGE, {"target_id": 7}, "itself", id="merge-into-itself"),
        pytest.param(S.REGISTERED, A.MERGE, {"target_id": 7}, "itself", id="merge-registered-itself"),
        pytest.param(S.HANDLING, A.ADD_REPORT, {"report": None}, "report", id="add-report-none"),
        pytest.param(S.HANDLING, A.ATTACH, {"attachment": None}, "file", id="attach-no-file"),
    ],
)
def test_missing_parameter(
    status: Status,
    action: Action,
    kwargs: dict[str, Any],
    fragment: str,
    standard: HandlingStandard,
) -> None:
    before = make_incident(status)
    with pytest.raises(MissingParameter, match=fragment) as caught:
        act(before, action, standard, T0 + MIN, **kwargs)
    assert caught.value.code == "missing_parameter"
    assert isinstance(caught.value, WorkflowError)


def test_illegal_state_wins_over_missing_parameter(standard: HandlingStandard) -> None:
    """Dispatching a closed incident without a unit is reported as the illegal transition."""
    with pytest.raises(IllegalTransition):
        act(make_incident(S.CLOSED), A.DISPATCH, standard, T0 + MIN, unit=None)


# ---- deadlines -------------------------------------------------------------------------------


def test_standard_minutes(standard: HandlingStandard) -> None:
    assert standard.code == "emergency"
    assert [standard.minutes(stage) for stage in Stage] == [5, 10, 60, 30]


@pytest.mark.parametrize(
    ("status", "stage"),
    [
        (S.REPORTED, Stage.REGISTER),
        (S.REGISTERED, Stage.DISPATCH),
        (S.DISPATCHED, Stage.HANDLE),
        (S.HANDLING, Stage.HANDLE),
        (S.HANDLED, Stage.VERIFY),
    ],
    ids=lambda v: v.value,
)
def test_start_deadlines(status: Status, stage: Stage, standard: HandlingStandard) -> None:
    (deadline,) = workflow.start_deadlines(T0, standard, status)
    assert deadline == StageDeadline(stage=stage, due_at=T0 + standard.minutes(stage) * MIN)


@pytest.mark.parametrize("status", [S.CLOSED, S.INVALID, S.MERGED, S.SUSPENDED], ids=lambda s: s.value)
def test_no_start_deadline_outside_timed_states(status: Status, standard: HandlingStandard) -> None:
    assert workflow.start_deadlines(T0, standard, status) == ()


@pytest.mark.parametrize(
    ("status", "action", "next_stage"),
    [
        (S.REPORTED, A.REGISTER, Stage.DISPATCH),
        (S.REGISTERED, A.DISPATCH, Stage.HANDLE),
        (S.DISPATCHED, A.RETURN, Stage.DISPATCH),
        (S.HANDLING, A.FEEDBACK, Stage.VERIFY),
        (S.HANDLED, A.REWORK, Stage.HANDLE),
    ],
    ids=lambda v: v.value,
)
def test_a_new_stage_closes_the_previous_deadline_and_opens_the_next(
    status: Status, action: Action, next_stage: Stage, standard: HandlingStandard
) -> None:
    previous = StageDeadline(stage=Stage.HANDLE, due_at=T0 + 50 * MIN)
    done = StageDeadline(stage=Stage.REGISTER, due_at=T0 + 5 * MIN, done_at=T0 + 2 * MIN)
    before = make_incident(status, deadlines=(done, previous))
    at = T0 + 20 * MIN
    after = act(before, action, standard, at)

    assert after.deadlines[0] == done, "a deadline already done is left alone"
    assert after.deadlines[1] == msgspec.structs.replace(previous, done_at=at)
    assert after.deadlines[2] == StageDeadline(stage=next_stage, due_at=at + standard.minutes(next_stage) * MIN)
    assert len(after.deadlines) == 3
    assert open_deadlines(after) == [after.deadlines[2]]
    assert after.current_deadline == at + standard.minutes(next_stage) * MIN


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (S.HANDLED, A.VERIFY),
        (S.REPORTED, A.INVALIDATE),
        (S.REGISTERED, A.INVALIDATE),
        (S.REPORTED, A.MERGE),
        (S.REGISTERED, A.MERGE),
    ],
    ids=lambda v: v.value,
)
def test_final_states_close_the_deadline_and_open_none(
    status: Status, action: Action, standard: HandlingStandard
) -> None:
    before = make_incident(status)
    at = T0 + 3 * MIN
    after = act(before, action, standard, at)
    assert [d.done_at for d in after.deadlines] == [at]
    assert after.current_deadline is None
    assert not after.overdue(at + 10_000 * MIN)


def test_accept_leaves_exactly_one_open_handle_deadline(standard: HandlingStandard) -> None:
    dispatched = act(make_incident(S.REGISTERED), A.DISPATCH, standard, T0 + MIN)
    handling = act(dispatched, A.ACCEPT, standard, T0 + 4 * MIN)
    (deadline,) = open_deadlines(handling)
    assert deadline.stage == Stage.HANDLE


def test_rework_opens_a_fresh_handle_deadline_and_counts(standard: HandlingStandard) -> None:
    handled = make_incident(
        S.HANDLED,
        deadlines=(
            StageDeadline(stage=Stage.HANDLE, due_at=T0 + 60 * MIN, done_at=T0 + 30 * MIN),
            StageDeadline(stage=Stage.VERIFY, due_at=T0 + 60 * MIN),
        ),
    )
    at = T0 + 45 * MIN
    reworked = act(handled, A.REWORK, standard, at, note="rubbish still there")
    assert reworked.status == S.HANDLING
    assert reworked.rework_count == 1
    assert reworked.deadlines[1].done_at == at
    assert reworked.deadlines[-1] == StageDeadline(stage=Stage.HANDLE, due_at=at + 60 * MIN)
    assert reworked.current_deadline == at + 60 * MIN

    handled_again = act(reworked, A.FEEDBACK, standard, at + 10 * MIN)
    twice = act(handled_again, A.REWORK, standard, at + 20 * MIN)
    assert twice.rework_count == 2
    assert twice.current_deadline == at + 20 * MIN + 60 * MIN


@pytest.mark.parametrize("suspended_in", [S.REGISTERED, S.DISPATCHED, S.HANDLING], ids=lambda s: s.value)
def test_suspend_then_resume_pushes_the_open_deadline(suspended_in: Status, standard: HandlingStandard) -> None:
    done = StageDeadline(stage=Stage.REGISTER, due_at=T0 + 5 * MIN, done_at=T0 + 1 * MIN)
    running = StageDeadline(stage=Stage.HANDLE, due_at=T0 + 60 * MIN)
    before = make_incident(suspended_in, deadlines=(done, running))

    suspend_at = T0 + 10 * MIN
    suspended = act(before, A.SUSPEND, standard, suspend_at, note="waiting for the owner")
    assert suspended.status == S.SUSPENDED
    assert suspended.suspended_from == suspended_in
    assert suspended.suspended_at == suspend_at
    assert suspended.deadlines == before.deadlines, "suspending does not close the deadline"
    assert suspended.unit == before.unit

    resume_at = suspend_at + 30 * MIN
    resumed = act(suspended, A.RESUME, standard, resume_at)
    assert resumed.status == suspended_in
    assert resumed.suspended_from is None
    assert resumed.suspended_at is None
    assert resumed.deadlines == (done, StageDeadline(stage=Stage.HANDLE, due_at=T0 + 90 * MIN))
    assert resumed.current_deadline == running.due_at + 30 * MIN
    assert resumed.timeline[-1].from_status == S.SUSPENDED
    assert resumed.timeline[-1].to_status == suspended_in


def test_actions_while_suspended_do_not_lose_the_previous_state(standard: HandlingStandard) -> None:
    before = make_incident(S.DISPATCHED, deadlines=(StageDeadline(Stage.HANDLE, T0 + 60 * MIN),))
    suspended = act(before, A.SUSPEND, standard, T0)
    supervised = act(suspended, A.SUPERVISE, standard, T0 + 5 * MIN)
    merged = act(supervised, A.ADD_REPORT, standard, T0 + 6 * MIN)
    assert merged.suspended_from == S.DISPATCHED
    resumed = act(merged, A.RESUME, standard, T0 + 10 * MIN)
    assert resumed.status == S.DISPATCHED
    assert resumed.supervised
    assert resumed.current_deadline == T0 + 70 * MIN


def test_overdue(standard: HandlingStandard) -> None:
    incident = make_incident(S.REPORTED)  # register deadline at T0 + 5 min
    due = T0 + 5 * MIN
    assert incident.current_deadline == due
    assert not incident.overdue(T0)
    assert not incident.overdue(due), "due exactly now is not yet overdue"
    assert incident.overdue(due + 1)

    suspended = make_incident(S.SUSPENDED)
    assert suspended.current_deadline == due
    assert not suspended.overdue(due + 1000 * MIN), "the clock stops while suspended"

    assert not make_incident(S.REPORTED, deadlines=()).overdue(due + 1)


def test_current_deadline_is_the_last_open_one() -> None:
    incident = make_incident(
        S.HANDLING,
        deadlines=(
            StageDeadline(Stage.REGISTER, T0 + 5 * MIN, done_at=T0 + 1 * MIN),
            StageDeadline(Stage.DISPATCH, T0 + 15 * MIN, done_at=T0 + 2 * MIN),
            StageDeadline(Stage.HANDLE, T0 + 75 * MIN),
        ),
    )
    assert incident.current_deadline == T0 + 75 * MIN
    assert make_incident(S.CLOSED, deadlines=(StageDeadline(Stage.VERIFY, T0, done_at=T0),)).current_deadline is None


# ---- the whole loop --------------------------------------------------------------------------


def test_full_closed_loop_with_one_rework(standard: HandlingStandard) -> None:
    incident = make_incident(S.REPORTED, deadlines=workflow.start_deadlines(T0, standard, S.REPORTED))
    steps: list[tuple[Action, float, dict[str, Any]]] = [
        (A.REGISTER, T0 + 2 * MIN, {}),
        (A.DISPATCH, T0 + 5 * MIN, {"unit": UNIT}),
        (A.ACCEPT, T0 + 8 * MIN, {}),
        (A.FEEDBACK, T0 + 40 * MIN, {}),
        (A.REWORK, T0 + 50 * MIN, {}),
        (A.FEEDBACK, T0 + 70 * MIN, {}),
        (A.VERIFY, T0 + 80 * MIN, {}),
    ]
    for action, at, kwargs in steps:
        incident = act(incident, action, standard, at, **kwargs)
        assert not incident.overdue(at), action

    assert incident.status == S.CLOSED
    assert not incident.is_open
    assert incident.version == 1 + len(steps)
    assert incident.rework_count == 1
    assert incident.unit == UNIT
    assert incident.updated_at == T0 + 80 * MIN
    assert [e.action for e in incident.timeline] == [a for a, _, _ in steps]
    assert [e.to_status for e in incident.timeline] == [
        S.REGISTERED,
        S.DISPATCHED,
        S.HANDLING,
        S.HANDLED,
        S.HANDLING,
        S.HANDLED,
        S.CLOSED,
    ]
    for earlier, later in itertools.pairwise(incident.timeline):
        assert later.from_status == earlier.to_status
    assert incident.timeline[0].from_status == S.REPORTED

    assert all(d.done_at is not None for d in incident.deadlines)
    assert incident.current_deadline is None
    assert incident.deadlines[0] == StageDeadline(Stage.REGISTER, T0 + 5 * MIN, T0 + 2 * MIN)
    assert incident.deadlines[1] == StageDeadline(Stage.DISPATCH, T0 + 12 * MIN, T0 + 5 * MIN)
    assert StageDeadline(Stage.HANDLE, T0 + 110 * MIN, T0 + 70 * MIN) in incident.deadlines
    assert incident.deadlines[-1] == StageDeadline(Stage.VERIFY, T0 + 100 * MIN, T0 + 80 * MIN)
    assert [d.stage for d in incident.deadlines].count(Stage.VERIFY) == 2
    assert all(d.done_at <= T0 + 80 * MIN for d in incident.deadlines if d.done_at is not None)
