"""Floor control of a talk group: grant, queue, pre-emption, revoke, time limit, late entry, and
a seeded random run that checks the invariants (one talker, and every console can tell who it is)."""

from __future__ import annotations

import random

import msgspec
import pytest

from app.domain.floor import (
    Cancelled,
    Denied,
    DenyReason,
    FloorEvent,
    FloorState,
    Granted,
    Idle,
    Participant,
    Priority,
    Queued,
    QueuePositions,
    Released,
    RevokeCause,
    Revoked,
    Taken,
    TalkGroup,
)

T0 = 1_800_000_000.0
ALICE = Participant("alice", "Alice 王")
BOB = Participant("bob", "Bob 李")
CAROL = Participant("carol", "Carol 张")
CHIEF = Participant("chief", "Chief 陈", Priority.COMMANDER)
DEPUTY = Participant("deputy", "Deputy 刘", Priority.COMMANDER)


def group(*members: Participant, max_talk_s: float = 60.0, queue: bool = True, max_queue: int = 10) -> TalkGroup:
    g = TalkGroup("tg-putuo", max_talk_s=max_talk_s, queue=queue, max_queue=max_queue)
    for p in members:
        g.join(p, T0)
    return g


def only(events: list[FloorEvent], kind: type[FloorEvent]) -> FloorEvent:
    found = [e for e in events if isinstance(e, kind)]
    assert len(found) == 1, events
    return found[0]


def denial(events: list[FloorEvent]) -> DenyReason:
    """The reason of a call answered with exactly one Denied."""
    assert len(events) == 1 and isinstance(events[0], Denied), events
    return events[0].reason


def test_a_request_on_an_idle_floor_is_granted() -> None:
    g = group(ALICE, BOB, CAROL, max_talk_s=30)
    assert g.state is FloorState.IDLE and g.talker is None
    events = g.request("alice", T0 + 1)
    assert events[0] == Granted(to=("alice",), at=T0 + 1, until=T0 + 31, priority=Priority.NORMAL)
    assert g.talker == ALICE and g.state is FloorState.TAKEN


def test_everyone_else_is_told_who_talks_by_name() -> None:
    g = group(ALICE, BOB, CAROL)
    taken = only(g.request("alice", T0 + 1), Taken)
    assert taken == Taken(to=("bob", "carol"), talker="alice", name="Alice 王", at=T0 + 1, priority=Priority.NORMAL)


def test_a_second_request_is_queued_with_its_position() -> None:
    g = group(ALICE, BOB, CAROL)
    g.request("alice", T0)
    events = g.request("bob", T0 + 1)
    assert events[0] == Queued(to=("bob",), position=1, at=T0 + 1)
    assert only(events, QueuePositions) == QueuePositions(to=("alice", "bob", "carol"), queue=("bob",))
    assert g.request("carol", T0 + 2)[0] == Queued(to=("carol",), position=2, at=T0 + 2)
    assert g.queue == [BOB, CAROL] and g.position("carol") == 2
    # Asking again while queued keeps the place and changes nothing.
    assert g.request("bob", T0 + 3) == [Queued(to=("bob",), position=1, at=T0 + 1)]


def test_a_release_grants_the_next_in_the_queue() -> None:
    g = group(ALICE, BOB, CAROL)
    g.request("alice", T0)
    g.request("bob", T0 + 1)
    events = g.release("alice", T0 + 5)
    assert events[0] == Released(to=("alice",), by="alice", at=T0 + 5)
    assert only(events, Granted).to == ("bob",)
    taken = only(events, Taken)
    assert isinstance(taken, Taken) and taken.to == ("alice", "carol") and taken.talker == "bob"
    assert only(events, QueuePositions) == QueuePositions(to=("alice", "bob", "carol"), queue=())
    assert g.talker == BOB and g.queue == []


def test_a_release_with_an_empty_queue_makes_the_floor_idle_for_everyone() -> None:
    g = group(ALICE, BOB)
    g.request("alice", T0)
    events = g.release("alice", T0 + 5)
    assert events == [Released(to=("alice",), by="alice", at=T0 + 5), Idle(to=("alice", "bob"), at=T0 + 5)]
    assert g.state is FloorState.IDLE


def test_the_queue_is_ordered_by_priority_then_request_time() -> None:
    g = group(ALICE, BOB, CAROL, CHIEF, DEPUTY)
    g.request("chief", T0)
    g.request("alice", T0 + 1)
    g.request("bob", T0 + 2)
    assert g.request("deputy", T0 + 3)[0] == Queued(to=("deputy",), position=1, at=T0 + 3)
    g.request("carol", T0 + 4)
    assert [p.id for p in g.queue] == ["deputy", "alice", "bob", "carol"]
    # The queue is served in that order.
    served = []
    for i in range(4):
        assert g.talker is not None
        g.release(g.talker.id, T0 + 10 + i)
        assert g.talker is not None
        served.append(g.talker.id)
    assert served == ["deputy", "alice", "bob", "carol"]


def test_a_commander_pre_empts_a_normal_talker_who_is_not_queued_again() -> None:
    g = group(ALICE, BOB, CHIEF)
    g.request("alice", T0)
    events = g.request("chief", T0 + 2)
    revoked = events[0]
    assert revoked == Revoked(
        to=("alice",),
        talker="alice",
        cause=RevokeCause.PREEMPTED,
        by="chief",
        reason="pre-empted by Chief 陈",
        at=T0 + 2,
    )
    assert only(events, Granted).to == ("chief",)
    taken = only(events, Taken)
    assert isinstance(taken, Taken) and taken.to == ("alice", "bob") and taken.priority is Priority.COMMANDER
    assert g.talker == CHIEF and g.queue == [] and not g.may_send("alice")


def test_an_emergency_call_pre_empts_a_commander() -> None:
    g = group(ALICE, CHIEF)
    g.request("chief", T0)
    events = g.request("alice", T0 + 1, emergency=True)
    assert isinstance(events[0], Revoked) and events[0].to == ("chief",)
    granted = only(events, Granted)
    assert isinstance(granted, Granted) and granted.emergency and granted.priority is Priority.EMERGENCY
    taken = only(events, Taken)
    assert isinstance(taken, Taken) and taken.emergency
    # The emergency talker is not pre-empted by a commander: the commander waits.
    assert g.request("chief", T0 + 2)[0] == Queued(to=("chief",), position=1, at=T0 + 2)


def test_a_queued_member_who_declares_an_emergency_pre_empts() -> None:
    g = group(ALICE, BOB, CAROL)
    g.request("alice", T0)
    g.request("bob", T0 + 1)
    g.request("carol", T0 + 2)
    events = g.request("carol", T0 + 3, emergency=True)
    assert isinstance(events[0], Revoked) and events[0].to == ("alice",)
    assert g.talker == CAROL and g.queue == [BOB]
    assert only(events, QueuePositions) == QueuePositions(to=("alice", "bob", "carol"), queue=("bob",))


@pytest.mark.parametrize(("talker", "requester"), [(ALICE, BOB), (CHIEF, DEPUTY), (CHIEF, ALICE)])
def test_equal_or_lower_priority_does_not_pre_empt(talker: Participant, requester: Participant) -> None:
    g = group(talker, requester)
    g.request(talker.id, T0)
    assert g.request(requester.id, T0 + 1)[0] == Queued(to=(requester.id,), position=1, at=T0 + 1)
    assert g.talker == talker


def test_with_queueing_off_a_taken_floor_is_denied() -> None:
    g = group(ALICE, BOB, queue=False)
    g.request("alice", T0)
    events = g.request("bob", T0 + 1)
    assert denial(events) is DenyReason.QUEUEING_OFF and events[0].to == ("bob",)
    assert g.queue == []


def test_a_full_queue_denies_but_an_emergency_displaces_the_last_routine_request() -> None:
    g = group(ALICE, BOB, CAROL, CHIEF, max_queue=2)
    g.request("chief", T0)
    g.request("alice", T0 + 1)
    g.request("bob", T0 + 2)
    assert denial(g.request("carol", T0 + 3)) is DenyReason.QUEUE_FULL
    assert [p.id for p in g.queue] == ["alice", "bob"]
    # Behind an emergency call a second emergency must queue; it takes the place of the last
    # routine request rather than being turned away.
    g = group(ALICE, BOB, CAROL, CHIEF, max_queue=2)
    g.request("chief", T0, emergency=True)
    g.request("alice", T0 + 1)
    g.request("bob", T0 + 2)
    events = g.request("carol", T0 + 3, emergency=True)
    assert events[0] == Queued(to=("carol",), position=1, at=T0 + 3)
    displaced = only(events, Denied)
    assert isinstance(displaced, Denied) and displaced.to == ("bob",) and displaced.reason is DenyReason.DISPLACED
    assert [p.id for p in g.queue] == ["carol", "alice"]
    # A full queue of emergencies turns even an emergency away.
    g.request("bob", T0 + 4, emergency=True)
    assert [p.id for p in g.queue] == ["carol", "bob"]
    assert denial(g.request("alice", T0 + 5, emergency=True)) is DenyReason.QUEUE_FULL


def test_a_group_without_a_queue_denies_every_request_on_a_taken_floor() -> None:
    g = group(ALICE, BOB, max_queue=0)
    g.request("alice", T0)
    assert denial(g.request("bob", T0 + 1)) is DenyReason.QUEUE_FULL


def test_a_commander_revokes_the_talker_and_the_floor_passes() -> None:
    g = group(ALICE, BOB, CHIEF)
    g.request("alice", T0)
    g.request("bob", T0 + 1)
    events = g.revoke("chief", T0 + 4, "off topic")
    assert events[0] == Revoked(
        to=("alice",), talker="alice", cause=RevokeCause.REVOKED, by="chief", reason="off topic", at=T0 + 4
    )
    assert only(events, Granted).to == ("bob",) and g.talker == BOB


def test_revoke_is_denied_to_a_normal_member_and_for_an_emergency_talker() -> None:
    g = group(ALICE, BOB, CHIEF)
    assert denial(g.revoke("chief", T0, "x")) is DenyReason.NO_TALKER
    g.request("alice", T0)
    events = g.revoke("bob", T0 + 1, "quiet")
    assert events == [
        Denied(to=("bob",), reason=DenyReason.NOT_PERMITTED, detail="only a commander may revoke the floor")
    ]
    assert g.talker == ALICE
    g.release("alice", T0 + 2)
    g.request("bob", T0 + 3, emergency=True)
    assert denial(g.revoke("chief", T0 + 4, "x")) is DenyReason.OUTRANKED
    assert g.talker == BOB
    g.release("bob", T0 + 5)
    g.request("chief", T0 + 6)
    assert denial(g.revoke("chief", T0 + 7, "x")) is DenyReason.OWN_FLOOR


def test_a_late_joiner_is_told_who_talks() -> None:
    g = group(ALICE, BOB)
    g.request("alice", T0)
    g.request("bob", T0 + 1)
    events = g.join(CAROL, T0 + 20)
    assert events == [
        Taken(to=("carol",), talker="alice", name="Alice 王", at=T0, priority=Priority.NORMAL),
        QueuePositions(to=("carol",), queue=("bob",)),
    ]
    assert group(ALICE).join(BOB, T0 + 1) == [Idle(to=("bob",), at=T0 + 1)]


def test_a_talker_who_rejoins_after_a_dropout_is_told_it_still_holds_the_floor() -> None:
    g = group(ALICE, BOB, max_talk_s=30)
    g.request("alice", T0)
    assert g.join(ALICE, T0 + 5) == [Granted(to=("alice",), at=T0, until=T0 + 30, priority=Priority.NORMAL)]
    assert [p.id for p in g.members] == ["alice", "bob"]


def test_a_talker_who_leaves_passes_the_floor_to_the_next() -> None:
    g = group(ALICE, BOB, CAROL)
    g.request("alice", T0)
    g.request("bob", T0 + 1)
    events = g.leave("alice", T0 + 3)
    assert only(events, Granted).to == ("bob",)
    taken = only(events, Taken)
    assert isinstance(taken, Taken) and taken.to == ("carol",)
    assert all("alice" not in e.to for e in events)
    assert g.talker == BOB and ALICE not in g.members
    # The last talker leaving makes the floor idle for whoever is left.
    g.leave("carol", T0 + 4)
    assert g.leave("bob", T0 + 5) == []
    assert g.state is FloorState.IDLE and g.members == []


def test_a_queued_member_who_leaves_drops_out_of_the_queue() -> None:
    g = group(ALICE, BOB, CAROL)
    g.request("alice", T0)
    g.request("bob", T0 + 1)
    g.request("carol", T0 + 2)
    assert g.leave("bob", T0 + 3) == [QueuePositions(to=("alice", "carol"), queue=("carol",))]


def test_the_time_limit_revokes_the_talker_and_the_floor_passes() -> None:
    g = group(ALICE, BOB, max_talk_s=30)
    g.request("alice", T0)
    g.request("bob", T0 + 1)
    assert g.tick(T0 + 29.9) == []
    events = g.tick(T0 + 30)
    assert events[0] == Revoked(
        to=("alice",), talker="alice", cause=RevokeCause.TIME_LIMIT, by=None, reason="time limit", at=T0 + 30
    )
    granted = only(events, Granted)
    assert isinstance(granted, Granted) and granted.to == ("bob",) and granted.until == T0 + 60
    assert g.tick(T0 + 59) == []
    assert isinstance(g.tick(T0 + 61)[0], Revoked) and g.state is FloorState.IDLE


def test_only_the_talker_may_send() -> None:
    g = group(ALICE, BOB)
    assert not g.may_send("alice") and not g.may_send("nobody")
    g.request("alice", T0)
    g.request("bob", T0 + 1)
    assert g.may_send("alice") and not g.may_send("bob")
    g.release("alice", T0 + 2)
    assert g.may_send("bob") and not g.may_send("alice")


def test_a_release_by_a_member_who_does_not_talk_or_wait_is_denied() -> None:
    g = group(ALICE, BOB)
    g.request("alice", T0)
    assert denial(g.release("bob", T0 + 1)) is DenyReason.NOT_TALKING
    assert g.talker == ALICE


def test_a_queued_member_cancels_its_request_by_releasing() -> None:
    g = group(ALICE, BOB, CAROL)
    g.request("alice", T0)
    g.request("bob", T0 + 1)
    g.request("carol", T0 + 2)
    events = g.release("bob", T0 + 3)
    assert events == [
        Cancelled(to=("bob",), by="bob", at=T0 + 3),
        QueuePositions(to=("alice", "bob", "carol"), queue=("carol",)),
    ]
    assert g.talker == ALICE and g.queue == [CAROL]


@pytest.mark.parametrize("call", ["request", "release", "leave", "revoke"])
def test_a_non_member_is_denied_and_nothing_changes(call: str) -> None:
    g = group(ALICE, CHIEF)
    g.request("alice", T0)
    if call == "revoke":
        events = g.revoke("mallory", T0 + 1, "x")
    else:
        events = getattr(g, call)("mallory", T0 + 1)
    assert events == [Denied(to=("mallory",), reason=DenyReason.NOT_MEMBER, detail="not a member of the talk group")]
    assert g.talker == ALICE and g.queue == []


def test_a_talker_asking_again_is_denied() -> None:
    g = group(ALICE)
    g.request("alice", T0)
    assert denial(g.request("alice", T0 + 1)) is DenyReason.ALREADY_TALKING


def test_impossible_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="max_talk_s"):
        TalkGroup("tg", max_talk_s=0)
    with pytest.raises(ValueError, match="max_queue"):
        TalkGroup("tg", max_queue=-1)


def test_events_travel_as_tagged_json() -> None:
    g = group(ALICE, BOB)
    events = g.request("alice", T0) + g.request("bob", T0 + 1) + g.release("alice", T0 + 2)
    wire = msgspec.json.encode(events)
    assert b'"type":"Granted"' in wire
    assert msgspec.json.decode(wire, type=list[FloorEvent]) == events


# -- invariants over a long random run ---------------------------------------------------------

PEOPLE = [
    Participant("p1", "一", Priority.NORMAL),
    Participant("p2", "二", Priority.NORMAL),
    Participant("p3", "三", Priority.NORMAL),
    Participant("p4", "四", Priority.COMMANDER),
    Participant("p5", "五", Priority.COMMANDER),
    Participant("p6", "六", Priority.EMERGENCY),
]


def _snapshot(g: TalkGroup) -> tuple[object, ...]:
    return (g.talker, g.granted_until, tuple(g.queue), tuple(g.members))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_random_run_never_has_two_talkers(seed: int) -> None:
    rng = random.Random(seed)
    g = TalkGroup("tg-random", max_talk_s=20, max_queue=3, queue=seed != 3)
    # What each console believes: does it hold the floor? Built from the events alone.
    believes: dict[str, bool] = {}
    now = T0
    grants = 0
    for _ in range(2000):
        now += rng.choice([0.0, 0.5, 1.0, 3.0, 8.0])
        person = rng.choice(PEOPLE)
        # Now and then someone who is not (or no longer) a member calls.
        who = "stranger" if rng.random() < 0.05 else person.id
        op = rng.choices(["join", "leave", "request", "release", "revoke", "tick"], [2, 1, 6, 4, 1, 2])[0]
        before = _snapshot(g)
        if op == "join":
            events = g.join(person, now)
        elif op == "leave":
            events = g.leave(who, now)
            believes.pop(who, None)
        elif op == "request":
            events = g.request(who, now, emergency=rng.random() < 0.05)
        elif op == "release":
            events = g.release(who, now)
        elif op == "revoke":
            events = g.revoke(who, now, "drill")
        else:
            events = g.tick(now)

        if events and all(isinstance(e, Denied) for e in events):
            assert _snapshot(g) == before, (op, who, events)
        member_ids = {p.id for p in g.members}
        for event in events:
            assert event.to, event
            if not isinstance(event, Denied):
                assert set(event.to) <= member_ids, event
            for pid in event.to:
                if isinstance(event, Granted):
                    believes[pid] = True
                    grants += 1
                elif isinstance(event, (Revoked, Idle, Released)) or (isinstance(event, Taken) and event.talker != pid):
                    believes[pid] = False

        talker = g.talker
        queued = [p.id for p in g.queue]
        assert (talker is None) == (g.state is FloorState.IDLE)
        assert talker is None or talker.id in member_ids
        assert talker is None or talker.id not in queued
        assert len(queued) == len(set(queued)) and set(queued) <= member_ids
        assert len(queued) <= (3 if g.queueing else 0)
        assert [pid for pid in sorted(member_ids) if g.may_send(pid)] == ([talker.id] if talker else [])
        assert not g.may_send("stranger")
        assert {pid for pid, yes in believes.items() if yes} == ({talker.id} if talker else set()), (op, who, events)
    assert grants > 50
