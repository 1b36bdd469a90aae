"""Talk groups (集群呼叫) on the server: who may join which group, the floor control of each
(:class:`app.domain.floor.TalkGroup`), and the delivery of its events to the consoles.

Groups are named ``street:<code>`` (a street's command room and its people), ``field:<field>``
(a professional center) and ``incident:<id>`` (everyone working one incident). A district
role may join any group; a street operator its street's; a professional center its field's;
anyone the incidents they may see. District officers and field commanders talk with commander
priority (they pre-empt a normal talker); anyone may make an emergency call.

The floor is decided here; after every change the hub hands the *routes* (each talker and who
hears them) to :attr:`TalkHub.on_routes`, and the call hub forwards the talker's audio only.

Members are participants (a console's instance id, stable over reconnects). A console whose
connection drops keeps its groups — and a floor it holds — for :data:`GRACE_S`; a console that
comes back in time (:meth:`TalkHub.reconnected`) carries on as if nothing happened."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from app.domain.floor import FloorEvent, Granted, Participant, Priority, TalkGroup
from app.domain.permissions import Principal, Role, Scope

log = logging.getLogger(__name__)

#: How often the talk time limits are checked (seconds).
TICK_S = 0.5
MAX_TALK_S = 60.0
#: Seconds a disconnected console keeps its groups, waiting for it to reconnect.
GRACE_S = 15.0

_DISTRICT = frozenset({Role.DISTRICT_OFFICER, Role.ADMIN, Role.TRAINER, Role.AUDITOR})
_COMMANDERS = frozenset({Role.DISTRICT_OFFICER, Role.FIELD_COMMANDER, Role.ADMIN})

#: Delivers the events of one group to one session.
Deliver = Callable[[str, list[FloorEvent]], Awaitable[None]]
#: Where an incident is (street, category, unit), or None when there is no such incident.
IncidentScope = Callable[[int], Awaitable[tuple[str, str, str | None] | None]]
#: Each talker's participant id → the participants who hear them.
Routes = dict[str, frozenset[str]]


class TalkRefusal(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def priority_of(principal: Principal) -> Priority:
    return Priority.COMMANDER if principal.role in _COMMANDERS else Priority.NORMAL


@dataclass
class _Member:
    session: str
    principal: Principal
    deliver: Deliver
    groups: set[str] = field(default_factory=set)


class TalkHub:
    """All talk groups of the server, on its event loop."""

    def __init__(
        self, incident_scope: IncidentScope, *, max_talk_s: float = MAX_TALK_S, grace_s: float = GRACE_S
    ) -> None:
        self.incident_scope = incident_scope
        self.max_talk_s = max_talk_s
        self.grace_s = grace_s
        self.groups: dict[str, TalkGroup] = {}
        self._members: dict[str, _Member] = {}
        self._ticker: asyncio.Task[None] | None = None
        self._grace: dict[str, asyncio.TimerHandle] = {}
        #: Called with the new routes after every change of a floor or a membership.
        self.on_routes: Callable[[Routes], None] | None = None
        #: Called with (group, participant name, event type) for floor events worth recording
        #: (emergency calls), e.g. into an incident's timeline.
        self.on_record: Callable[[str, str, str], None] | None = None

    def start(self) -> None:
        self._ticker = asyncio.get_running_loop().create_task(self._tick())

    async def stop(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker

    async def _may_join(self, principal: Principal, scope: Scope, group: str) -> None:
        kind, _, name = group.partition(":")
        if principal.role in _DISTRICT:
            if kind in ("street", "field", "incident") and name:
                return
        elif name and name == {"street": principal.street, "field": principal.field}.get(kind):
            return  # the user's own street's or field's group
        if kind == "incident" and name.isdigit():
            found = await self.incident_scope(int(name))
            if found is None:
                raise TalkRefusal("unknown_group", f"there is no incident {name}")
            if scope.contains(*found):
                return
        elif kind not in ("street", "field", "incident") or not name:
            raise TalkRefusal("unknown_group", f"{group!r} is not a talk group (street:, field:, incident:)")
        raise TalkRefusal("forbidden", f"talk group {group} is outside your jurisdiction")

    async def join(self, session: str, principal: Principal, scope: Scope, deliver: Deliver, group: str) -> None:
        await self._may_join(principal, scope, group)
        member = self._members.setdefault(session, _Member(session, principal, deliver))
        member.groups.add(group)
        talk = self.groups.get(group)
        if talk is None:
            talk = self.groups[group] = TalkGroup(group, max_talk_s=self.max_talk_s)
        name = principal.display_name or principal.name
        await self._send(group, talk.join(Participant(session, name, priority_of(principal)), time.time()))

    async def leave(self, session: str, group: str) -> None:
        member = self._members.get(session)
        talk = self.groups.get(group)
        if member is None or talk is None or group not in member.groups:
            raise TalkRefusal("not_joined", f"you are not in talk group {group}")
        member.groups.discard(group)
        await self._send(group, talk.leave(session, time.time()))

    async def leave_all(self, session: str) -> None:
        """A console went away for good (closed, or did not come back in time)."""
        handle = self._grace.pop(session, None)
        if handle is not None:
            handle.cancel()
        member = self._members.pop(session, None)
        if member is None:
            return
        for group in list(member.groups):
            talk = self.groups.get(group)
            if talk is not None:
                await self._send(group, talk.leave(session, time.time()))

    def disconnected(self, session: str) -> None:
        """A console's connection ended: it keeps its groups for :attr:`grace_s` seconds."""
        if session not in self._members:
            return
        old = self._grace.pop(session, None)
        if old is not None:
            old.cancel()
        loop = asyncio.get_running_loop()
        self._grace[session] = loop.call_later(self.grace_s, lambda: loop.create_task(self.leave_all(session)))

    async def reconnected(self, session: str, principal: Principal, deliver: Deliver) -> list[str]:
        """The console is back (same person, same instance): its groups carry on, and it is
        told the state of each. Returns the groups it is in."""
        handle = self._grace.pop(session, None)
        if handle is not None:
            handle.cancel()
        member = self._members.get(session)
        if member is None or member.principal.name != principal.name:
            return []
        member.deliver = deliver
        for group in member.groups:
            talk = self.groups.get(group)
            if talk is not None:
                await deliver(group, talk.status_for(session, time.time()))
        return sorted(member.groups)

    def _joined(self, session: str, group: str) -> TalkGroup:
        member = self._members.get(session)
        talk = self.groups.get(group)
        if member is None or talk is None or group not in member.groups:
            raise TalkRefusal("not_joined", f"join talk group {group} first")
        return talk

    async def request(self, session: str, group: str, emergency: bool) -> None:
        talk = self._joined(session, group)
        await self._send(group, talk.request(session, time.time(), emergency=emergency))

    async def release(self, session: str, group: str) -> None:
        talk = self._joined(session, group)
        await self._send(group, talk.release(session, time.time()))

    async def revoke(self, session: str, group: str, reason: str) -> None:
        talk = self._joined(session, group)
        await self._send(group, talk.revoke(session, time.time(), reason))

    def may_send(self, session: str, group: str) -> bool:
        """Whether ``session``'s audio in ``group`` is to be forwarded."""
        talk = self.groups.get(group)
        return talk is not None and talk.may_send(session)

    def routes(self) -> Routes:
        """Each talker and the members of their groups (who hear them)."""
        out: dict[str, set[str]] = {}
        for talk in self.groups.values():
            talker = talk.talker
            if talker is not None:
                out.setdefault(talker.id, set()).update(p.id for p in talk.members if p.id != talker.id)
        return {k: frozenset(v) for k, v in out.items()}

    async def _send(self, group: str, events: list[FloorEvent]) -> None:
        if self.on_routes is not None:
            self.on_routes(self.routes())
        if self.on_record is not None:
            talker = self.groups[group].talker if group in self.groups else None
            for event in events:
                if isinstance(event, Granted) and event.emergency and talker is not None:
                    self.on_record(group, talker.name, "emergency")
        per_session: dict[str, list[FloorEvent]] = {}
        for event in events:
            for to in event.to:
                per_session.setdefault(to, []).append(event)
        for session, batch in per_session.items():
            member = self._members.get(session)
            if member is None:
                continue
            try:
                await member.deliver(group, batch)
            except Exception:  # a console that went away meanwhile: its session ends it
                log.debug("talk events for a closing session dropped", exc_info=True)

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(TICK_S)
            now = time.time()
            for group, talk in list(self.groups.items()):
                events = talk.tick(now)
                if events:
                    await self._send(group, events)
