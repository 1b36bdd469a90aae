"""Floor control of a talk group (集群呼叫): who may talk, as a sans-I/O state machine.

A talk group is push-to-talk: one member talks, everyone else listens. :class:`TalkGroup` is the
floor control server for one group, modelled on the floor control server of 3GPP MCPTT
(TS 24.380): its two states are *G: Floor Idle* and *G: Floor Taken*, and it answers with the
messages Floor Granted, Floor Deny, Floor Revoke, Floor Idle, Floor Taken and Floor Queue
Position Info (here :class:`Granted`, :class:`Denied`, :class:`Revoked`, :class:`Idle`,
:class:`Taken`, :class:`Queued` and :class:`QueuePositions`). It does no I/O and reads no clock:
every call gets the time ``at`` and returns the events to send; each event names its recipients
in ``to`` (participant ids), so the driver only delivers them.

The rules, in one place:

* The **effective priority** of a request is the member's :class:`Priority`, or ``EMERGENCY``
  for a request made with ``emergency=True`` (an emergency call; any member may make one).
  ``EMERGENCY > COMMANDER > NORMAL``. A grant and a queued request keep the priority they were
  made with.
* **request** on an idle floor → :class:`Granted` to the requester, :class:`Taken` to every
  other member.
* **request** on a taken floor with a *higher* effective priority than the talker's →
  pre-emption: :class:`Revoked` to the talker, then the floor is granted as above. The
  pre-empted talker is **not** queued again; like a revoked MCPTT client it has no permission
  and presses again if it still wants to talk. So an emergency call pre-empts a commander, and
  a commander pre-empts a normal talker.
* **request** on a taken floor with an *equal or lower* effective priority → :class:`Queued`
  with its position. The queue is ordered by effective priority, then request time. With
  queueing off → ``Denied(queueing_off)``. With the queue full → ``Denied(queue_full)``, unless
  the request ranks before the last queued request: that one is then displaced
  (``Denied(displaced)`` to it) so that an emergency is never turned away by routine requests.
* A queued member who requests again keeps its place; a request with a higher priority than the
  queued one (an emergency) is handled as a new request and may pre-empt.
* **release** by the talker → :class:`Released` to it, then the floor **passes**: the head of
  the queue is granted (Granted + Taken), or, with an empty queue, :class:`Idle` to everyone.
  **release** by a queued member cancels its request (:class:`Cancelled` to it).
* **revoke** by a member whose own priority is at least ``COMMANDER`` and not below the talker's
  effective priority → ``Revoked(revoked)`` to the talker, then the floor passes. A commander
  cannot revoke an emergency call; only a member of ``EMERGENCY`` priority can.
* **tick**: a talker whose grant has reached ``until`` (``max_talk_s`` after the grant, the same
  limit for every priority) → ``Revoked(time_limit)``, then the floor passes.
* **join** (also a re-join after a dropped network) → late entry: :class:`Taken` to the joiner
  while someone talks (:class:`Granted` again if the joiner is the talker), otherwise
  :class:`Idle`; plus :class:`QueuePositions` when requests are queued.
* **leave** → a talker's floor passes, a queued request is cancelled.
* Whenever the queue's order changes, :class:`QueuePositions` (the whole queue) goes to every
  member, so every console can show who waits.
* Only the talker's audio is forwarded (:meth:`TalkGroup.may_send`).

Illegal input (an unknown member, a release by a member who neither talks nor waits, a revoke
without the right) never raises and never changes the state: the call returns exactly one
:class:`Denied` to the caller, whose ``reason`` is a stable :class:`DenyReason` code. Only a
talk group constructed with impossible settings raises :class:`ValueError`.

Simplified from TS 24.380: revocation is immediate (no *G: pending Floor Revoke* waiting for
the talker's Floor Release): the talker loses ``may_send`` at once and the floor passes in the
same call. There are no Floor Acks; the time limit is polled with :meth:`TalkGroup.tick`.
"""

from __future__ import annotations

import bisect
import enum
from typing import Final, TypeAlias

import msgspec


class Priority(enum.IntEnum):
    """A member's standing in the talk group; a higher priority pre-empts a lower one."""

    NORMAL = 1
    COMMANDER = 2
    EMERGENCY = 3


class Participant(msgspec.Struct, frozen=True):
    """A member of a talk group: a console or a field radio user."""

    id: str
    name: str
    priority: Priority = Priority.NORMAL


class FloorState(enum.StrEnum):
    """The floor control server's state (TS 24.380: G: Floor Idle, G: Floor Taken)."""

    IDLE = "idle"
    TAKEN = "taken"


class DenyReason(enum.StrEnum):
    """Why a call was refused; stable codes for the driver and the translated UI text."""

    NOT_MEMBER = "not_member"
    ALREADY_TALKING = "already_talking"
    QUEUEING_OFF = "queueing_off"
    QUEUE_FULL = "queue_full"
    DISPLACED = "displaced"
    NOT_TALKING = "not_talking"
    NO_TALKER = "no_talker"
    NOT_PERMITTED = "not_permitted"
    OUTRANKED = "outranked"
    OWN_FLOOR = "own_floor"


class RevokeCause(enum.StrEnum):
    """Why a talker lost the floor."""

    PREEMPTED = "preempted"
    REVOKED = "revoked"
    TIME_LIMIT = "time_limit"


class _Event(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Common part of every floor event: ``to`` are the ids of the participants to send it to."""

    to: tuple[str, ...]


class Granted(_Event, frozen=True, kw_only=True):
    """Floor Granted: the recipient may talk from ``at`` until ``until`` at the latest."""

    at: float
    until: float
    priority: Priority
    emergency: bool = False


class Denied(_Event, frozen=True, kw_only=True):
    """Floor Deny, and the answer to any refused call; ``detail`` is English for logs."""

    reason: DenyReason
    detail: str


class Queued(_Event, frozen=True, kw_only=True):
    """Floor Queue Position Info for the requester: its request waits at ``position`` (1 = next)."""

    position: int
    at: float


class Revoked(_Event, frozen=True, kw_only=True):
    """Floor Revoke: ``talker`` (the recipient) must stop talking now.

    ``by`` is the pre-empting requester or the revoking commander; ``None`` for the time limit.
    """

    talker: str
    cause: RevokeCause
    by: str | None
    reason: str
    at: float


class Released(_Event, frozen=True, kw_only=True):
    """Acknowledges that ``by`` released the floor it held."""

    by: str
    at: float


class Cancelled(_Event, frozen=True, kw_only=True):
    """Acknowledges that ``by`` withdrew its queued request."""

    by: str
    at: float


class Idle(_Event, frozen=True, kw_only=True):
    """Floor Idle: nobody talks; any member may request the floor."""

    at: float


class Taken(_Event, frozen=True, kw_only=True):
    """Floor Taken: ``talker`` (shown as ``name``) has talked since ``at``; listen only."""

    talker: str
    name: str
    at: float
    priority: Priority
    emergency: bool = False


class QueuePositions(_Event, frozen=True, kw_only=True):
    """The whole queue in order: ``queue[0]`` is next (position 1)."""

    queue: tuple[str, ...]


#: Every event the floor control server sends.
FloorEvent: TypeAlias = Granted | Denied | Queued | Revoked | Released | Cancelled | Idle | Taken | QueuePositions


class _Rank(enum.Enum):
    """A request's effective priority compared with the current talker's."""

    NO_TALKER = "no_talker"
    HIGHER = "higher"
    EQUAL = "equal"
    LOWER = "lower"


class _Outcome(enum.Enum):
    GRANT = "grant"
    PREEMPT = "preempt"
    QUEUE = "queue"


#: (floor state, request rank) → what a valid Floor Request leads to. Nothing else is possible.
ON_REQUEST: Final[dict[tuple[FloorState, _Rank], _Outcome]] = {
    (FloorState.IDLE, _Rank.NO_TALKER): _Outcome.GRANT,
    (FloorState.TAKEN, _Rank.HIGHER): _Outcome.PREEMPT,
    (FloorState.TAKEN, _Rank.EQUAL): _Outcome.QUEUE,
    (FloorState.TAKEN, _Rank.LOWER): _Outcome.QUEUE,
}


class _Grant(msgspec.Struct, frozen=True, kw_only=True):
    participant_id: str
    at: float
    until: float
    priority: Priority
    emergency: bool


class _Request(msgspec.Struct, frozen=True, kw_only=True):
    participant_id: str
    priority: Priority
    emergency: bool
    at: float
    seq: int


def _order(request: _Request) -> tuple[int, float, int]:
    """Queue order: higher priority first, then earlier request, then arrival."""
    return (-request.priority, request.at, request.seq)


class TalkGroup:
    """The floor control server of one talk group; see the module docstring for the rules."""

    def __init__(self, group_id: str, *, max_talk_s: float = 60.0, queue: bool = True, max_queue: int = 10) -> None:
        if not max_talk_s > 0:
            raise ValueError(f"max_talk_s must be positive, not {max_talk_s}")
        if max_queue < 0:
            raise ValueError(f"max_queue must not be negative, not {max_queue}")
        self.group_id: Final = group_id
        self.max_talk_s: Final = float(max_talk_s)
        self.queueing: Final = queue
        self.max_queue: Final = max_queue
        self._members: dict[str, Participant] = {}
        self._grant: _Grant | None = None
        self._queue: list[_Request] = []
        self._seq = 0

    # -- what the group looks like -------------------------------------------------------------

    @property
    def state(self) -> FloorState:
        """Idle or taken."""
        return FloorState.IDLE if self._grant is None else FloorState.TAKEN

    @property
    def talker(self) -> Participant | None:
        """The member who holds the floor, if any."""
        return None if self._grant is None else self._members[self._grant.participant_id]

    @property
    def granted_until(self) -> float | None:
        """When the current talker's time limit runs out."""
        return None if self._grant is None else self._grant.until

    @property
    def queue(self) -> list[Participant]:
        """The queued members, next first."""
        return [self._members[r.participant_id] for r in self._queue]

    @property
    def members(self) -> list[Participant]:
        """The members, in the order they joined."""
        return list(self._members.values())

    def position(self, participant_id: str) -> int | None:
        """The member's place in the queue (1 = next), or ``None`` if it is not queued."""
        for index, request in enumerate(self._queue):
            if request.participant_id == participant_id:
                return index + 1
        return None

    def may_send(self, participant_id: str) -> bool:
        """Whether the member's audio is to be forwarded: only the talker's is."""
        return self._grant is not None and self._grant.participant_id == participant_id

    # -- calls ---------------------------------------------------------------------------------

    def join(self, participant: Participant, at: float) -> list[FloorEvent]:
        """Add ``participant`` (or update a re-joining one) and tell it the floor's state."""
        self._members[participant.id] = participant
        return self.status_for(participant.id, at)

    def status_for(self, participant_id: str, at: float) -> list[FloorEvent]:
        """The floor's state as a member needs to hear it (joining, or back after a drop)."""
        me = (participant_id,)
        grant = self._grant
        events: list[FloorEvent]
        if grant is None:
            events = [Idle(to=me, at=at)]
        elif grant.participant_id == participant_id:
            events = [self._granted(grant, me)]
        else:
            events = [self._taken(grant, me)]
        if self._queue:
            events.append(QueuePositions(to=me, queue=self._queue_ids()))
        return events

    def leave(self, participant_id: str, at: float) -> list[FloorEvent]:
        """Remove a member: its floor passes on, its queued request is dropped."""
        if participant_id not in self._members:
            return [_deny(participant_id, DenyReason.NOT_MEMBER, "not a member of the talk group")]
        before = self._queue_ids()
        del self._members[participant_id]
        events: list[FloorEvent] = []
        if self.may_send(participant_id):
            self._grant = None
            events = self._pass_floor(at)
        else:
            self._drop_request(participant_id)
        return self._with_queue_update(before, events)

    def request(self, participant_id: str, at: float, *, emergency: bool = False) -> list[FloorEvent]:
        """Floor Request: grant, pre-empt, queue or deny (see the rules)."""
        participant = self._members.get(participant_id)
        if participant is None:
            return [_deny(participant_id, DenyReason.NOT_MEMBER, "not a member of the talk group")]
        if self.may_send(participant_id):
            return [_deny(participant_id, DenyReason.ALREADY_TALKING, "already holds the floor")]
        priority = Priority.EMERGENCY if emergency else participant.priority
        before = self._queue_ids()
        waiting = self._find(participant_id)
        if waiting is not None:
            if priority <= waiting.priority:
                position = self.position(participant_id)
                assert position is not None
                return [Queued(to=(participant_id,), position=position, at=waiting.at)]
            # A higher-priority request (an emergency) replaces the queued one and may pre-empt.
            self._queue.remove(waiting)

        outcome = ON_REQUEST[(self.state, self._rank(priority))]
        events: list[FloorEvent]
        if outcome is _Outcome.GRANT:
            events = self._grant_to(participant_id, priority, emergency, at)
        elif outcome is _Outcome.PREEMPT:
            assert self._grant is not None
            talker = self._grant.participant_id
            self._grant = None
            revoked = Revoked(
                to=(talker,),
                talker=talker,
                cause=RevokeCause.PREEMPTED,
                by=participant_id,
                reason=f"pre-empted by {participant.name}",
                at=at,
            )
            events = [revoked, *self._grant_to(participant_id, priority, emergency, at)]
        else:
            events = self._enqueue(participant_id, priority, emergency, at)
        return self._with_queue_update(before, events)

    def release(self, participant_id: str, at: float) -> list[FloorEvent]:
        """Floor Release: the talker stops talking, or a queued member withdraws its request."""
        if participant_id not in self._members:
            return [_deny(participant_id, DenyReason.NOT_MEMBER, "not a member of the talk group")]
        before = self._queue_ids()
        events: list[FloorEvent]
        if self.may_send(participant_id):
            self._grant = None
            events = [Released(to=(participant_id,), by=participant_id, at=at), *self._pass_floor(at)]
        elif self._drop_request(participant_id):
            events = [Cancelled(to=(participant_id,), by=participant_id, at=at)]
        else:
            return [_deny(participant_id, DenyReason.NOT_TALKING, "neither holds the floor nor waits for it")]
        return self._with_queue_update(before, events)

    def revoke(self, by: str, at: float, reason: str) -> list[FloorEvent]:
        """A commander takes the floor away from the talker; the floor passes on."""
        revoker = self._members.get(by)
        if revoker is None:
            return [_deny(by, DenyReason.NOT_MEMBER, "not a member of the talk group")]
        if revoker.priority < Priority.COMMANDER:
            return [_deny(by, DenyReason.NOT_PERMITTED, "only a commander may revoke the floor")]
        grant = self._grant
        if grant is None:
            return [_deny(by, DenyReason.NO_TALKER, "nobody holds the floor")]
        if grant.participant_id == by:
            return [_deny(by, DenyReason.OWN_FLOOR, "holds the floor itself; release it instead")]
        if grant.priority > revoker.priority:
            return [_deny(by, DenyReason.OUTRANKED, f"the talker has {grant.priority.name.lower()} priority")]
        return self._take_away(RevokeCause.REVOKED, by, reason, at)

    def tick(self, at: float) -> list[FloorEvent]:
        """Enforce the talk time limit: revoke a talker whose grant has run out."""
        if self._grant is None or at < self._grant.until:
            return []
        return self._take_away(RevokeCause.TIME_LIMIT, None, "time limit", at)

    # -- helpers -------------------------------------------------------------------------------

    def _rank(self, priority: Priority) -> _Rank:
        if self._grant is None:
            return _Rank.NO_TALKER
        if priority > self._grant.priority:
            return _Rank.HIGHER
        return _Rank.EQUAL if priority == self._grant.priority else _Rank.LOWER

    def _everyone(self, *, but: str | None = None) -> tuple[str, ...]:
        return tuple(pid for pid in self._members if pid != but)

    def _queue_ids(self) -> tuple[str, ...]:
        return tuple(r.participant_id for r in self._queue)

    def _find(self, participant_id: str) -> _Request | None:
        return next((r for r in self._queue if r.participant_id == participant_id), None)

    def _drop_request(self, participant_id: str) -> bool:
        waiting = self._find(participant_id)
        if waiting is None:
            return False
        self._queue.remove(waiting)
        return True

    def _granted(self, grant: _Grant, to: tuple[str, ...]) -> Granted:
        return Granted(to=to, at=grant.at, until=grant.until, priority=grant.priority, emergency=grant.emergency)

    def _taken(self, grant: _Grant, to: tuple[str, ...]) -> Taken:
        talker = self._members[grant.participant_id]
        return Taken(
            to=to, talker=talker.id, name=talker.name, at=grant.at, priority=grant.priority, emergency=grant.emergency
        )

    def _grant_to(self, participant_id: str, priority: Priority, emergency: bool, at: float) -> list[FloorEvent]:
        grant = _Grant(
            participant_id=participant_id, at=at, until=at + self.max_talk_s, priority=priority, emergency=emergency
        )
        self._grant = grant
        events: list[FloorEvent] = [self._granted(grant, (participant_id,))]
        others = self._everyone(but=participant_id)
        if others:
            events.append(self._taken(grant, others))
        return events

    def _pass_floor(self, at: float) -> list[FloorEvent]:
        """The floor has just been freed: grant it to the head of the queue, or go idle."""
        if self._queue:
            head = self._queue.pop(0)
            return self._grant_to(head.participant_id, head.priority, head.emergency, at)
        everyone = self._everyone()
        return [Idle(to=everyone, at=at)] if everyone else []

    def _take_away(self, cause: RevokeCause, by: str | None, reason: str, at: float) -> list[FloorEvent]:
        assert self._grant is not None
        before = self._queue_ids()
        talker = self._grant.participant_id
        self._grant = None
        revoked = Revoked(to=(talker,), talker=talker, cause=cause, by=by, reason=reason, at=at)
        return self._with_queue_update(before, [revoked, *self._pass_floor(at)])

    def _enqueue(self, participant_id: str, priority: Priority, emergency: bool, at: float) -> list[FloorEvent]:
        if not self.queueing:
            return [_deny(participant_id, DenyReason.QUEUEING_OFF, "the floor is taken and queueing is off")]
        self._seq += 1
        request = _Request(participant_id=participant_id, priority=priority, emergency=emergency, at=at, seq=self._seq)
        events: list[FloorEvent] = []
        if len(self._queue) >= self.max_queue:
            if not self._queue or _order(request) >= _order(self._queue[-1]):
                return [_deny(participant_id, DenyReason.QUEUE_FULL, f"the queue is full ({self.max_queue})")]
            displaced = self._queue.pop()
            events.append(
                _deny(
                    displaced.participant_id,
                    DenyReason.DISPLACED,
                    "removed from the full queue by a request of higher priority",
                )
            )
        bisect.insort(self._queue, request, key=_order)
        position = self.position(participant_id)
        assert position is not None
        return [Queued(to=(participant_id,), position=position, at=at), *events]

    def _with_queue_update(self, before: tuple[str, ...], events: list[FloorEvent]) -> list[FloorEvent]:
        after = self._queue_ids()
        everyone = self._everyone()
        if after != before and everyone:
            events.append(QueuePositions(to=everyone, queue=after))
        return events


def _deny(participant_id: str, reason: DenyReason, detail: str) -> Denied:
    return Denied(to=(participant_id,), reason=reason, detail=detail)
