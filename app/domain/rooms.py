"""Conference rooms (视频会商): who is invited, who is in, who may come in.

A room is opened by a person (its host), often from an incident (the fused command session).
Invitations name a person (``user:<name>``), a street's command room (``street:<code>``), a
professional center (``field:<field>``) or the district's operations center (``district``);
anyone they match may join, nobody else. A browser guest comes in with a one-time link the
host (or a participant) issued; the link admits one person once.

Pure rules: the server keeps the rooms and routes their media."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from app.domain.permissions import Principal, Role

#: Roles that belong to the district operations center (the ``district`` invitation).
DISTRICT_ROLES = frozenset({Role.DISTRICT_OFFICER, Role.ADMIN, Role.TRAINER})
#: Roles that may open a room and issue guest links. Auditors only watch the records.
HOST_ROLES = frozenset(
    {
        Role.DISTRICT_OFFICER,
        Role.STREET_OPERATOR,
        Role.PROFESSIONAL_CENTER,
        Role.FIELD_COMMANDER,
        Role.TRAINER,
        Role.ADMIN,
    }
)
MAX_PARTICIPANTS = 16


class RoomError(Exception):
    """A room request that is refused; ``code`` for the protocol."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class InviteKind(enum.StrEnum):
    USER = "user"
    STREET = "street"
    FIELD = "field"
    DISTRICT = "district"


def parse_invite(key: str) -> tuple[InviteKind, str]:
    """``user:wang`` → (USER, "wang"); ``district`` → (DISTRICT, ""). Raises RoomError."""
    kind, _, name = key.partition(":")
    try:
        parsed = InviteKind(kind)
    except ValueError:
        raise RoomError("invalid", f"{key!r} is not an invitation (user:, street:, field:, district)") from None
    if (parsed is InviteKind.DISTRICT) != (name == ""):
        raise RoomError("invalid", f"{key!r} is not an invitation (user:, street:, field:, district)")
    return parsed, name


def invited(principal: Principal, invites: frozenset[str] | set[str]) -> bool:
    """Whether one of ``invites`` names ``principal``."""
    if f"user:{principal.name}" in invites:
        return True
    if principal.street and f"street:{principal.street}" in invites:
        return True
    if principal.field and f"field:{principal.field}" in invites:
        return True
    return "district" in invites and principal.role in DISTRICT_ROLES


def center_of(
    principal: Principal, street_names: dict[str, str] | None = None, field_names: dict[str, str] | None = None
) -> str:
    """The command center a person speaks for, as shown on their tile."""
    if principal.role in DISTRICT_ROLES:
        return "区城运中心"
    if principal.street:
        name = (street_names or {}).get(principal.street, principal.street)
        return f"{name}指挥室" if principal.role is Role.STREET_OPERATOR else f"{name}现场"
    if principal.field:
        return (field_names or {}).get(principal.field) or f"{principal.field}中心"
    return principal.role.value


@dataclass
class Member:
    """Someone in the room: a console's session or a browser guest."""

    id: str
    user: str
    name: str
    center: str
    audio: bool = True
    video: bool = True
    publishing: bool = False
    guest: bool = False


@dataclass
class Room:
    id: str
    title: str
    host: str
    incident: int | None = None
    invites: set[str] = field(default_factory=set)
    members: dict[str, Member] = field(default_factory=dict)
    speaker: str | None = None
    closed: bool = False

    def may_join(self, principal: Principal) -> bool:
        return principal.name == self.host or invited(principal, self.invites)

    def invite(self, by: Principal, keys: list[str]) -> list[str]:
        """Add invitations (checked); returns those that are new."""
        if not self.may_join(by):
            raise RoomError("forbidden", f"{by.name} is not in room {self.id}")
        for key in keys:
            parse_invite(key)
        new = [k for k in keys if k not in self.invites]
        self.invites.update(new)
        return new

    def join(self, member: Member, principal: Principal | None) -> None:
        """Admit ``member`` (``principal`` None: a guest already admitted by a link)."""
        if self.closed:
            raise RoomError("closed", f"room {self.id} has been closed")
        if principal is not None and not self.may_join(principal):
            raise RoomError("forbidden", f"{principal.name} was not invited to room {self.id} ({self.title})")
        if member.id not in self.members and len(self.members) >= MAX_PARTICIPANTS:
            raise RoomError("full", f"room {self.id} has {MAX_PARTICIPANTS} participants already")
        self.members[member.id] = member

    def leave(self, member_id: str) -> Member | None:
        member = self.members.pop(member_id, None)
        if self.speaker == member_id:
            self.speaker = None
        return member
