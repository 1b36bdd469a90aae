"""The messages of the sync channel, version 1.

Every message is one JSON object with a ``type`` tag. A console sends ``hello`` first, then
``command`` and ``ping`` in any number. The server answers ``welcome``; then either a snapshot
(``snapshot`` chunks and one ``snapshot_end``) or the changes the console missed, then live
``changes``; ``ack`` or ``reject`` for each command; ``error`` for a message it could not take.

``media_offer`` and ``media_close`` ask for and end live video streams (WebRTC signaling
for the media hub): each offer is answered with ``media_answer`` or ``media_refused``.

``talk_join``, ``talk_leave``, ``talk_request``, ``talk_release`` and ``talk_revoke`` drive the
floor control of talk groups (push to talk); the server answers with ``talk`` messages, each
carrying one floor event (:mod:`app.domain.floor`) for this console, or ``talk_refused``.

``changes`` carries the range of the change log it covers (``after``, ``upto``]; the records
inside are only those this user may see, so the range, not the records, proves that nothing
was skipped.
"""

from __future__ import annotations

from typing import Final, Literal

import msgspec

from app.domain.devices import Device
from app.domain.floor import FloorEvent
from app.domain.model import Action
from app.domain.records import Record

VERSION: Final = 1


class Hello(msgspec.Struct, tag="hello", forbid_unknown_fields=True):
    """Opens a session: who I am and the last change I hold."""

    v: int
    token: str
    last_seq: int = 0
    client: str = ""
    instance: str = ""
    """The console's own id for this run (random, kept across reconnects): a console that
    comes back after a drop keeps its talk groups, floor and conference rooms."""


class Command(msgspec.Struct, tag="command", forbid_unknown_fields=True):
    """An operator's action on an incident, with an idempotency key: sending it again with the
    same key never applies it twice."""

    key: str
    incident_id: int
    action: Action
    note: str = ""
    unit: str | None = None
    target_id: int | None = None
    attachment: str | None = None
    """For ``attach``: the file the server took (through its snapshot upload)."""


class Ping(msgspec.Struct, tag="ping", forbid_unknown_fields=True):
    """Keeps the session alive and measures the round trip."""

    t: float = 0.0


class MediaOffer(msgspec.Struct, tag="media_offer", forbid_unknown_fields=True):
    """Asks the media hub for a stream: a WebRTC offer (SDP, ICE candidates gathered).

    ``kind`` and ``target``: ``camera`` — a camera id, in the ``main`` or the smaller ``sub``
    variant; ``publish`` — a room id, the console's own audio and video sent into the room;
    ``participant`` — ``<room>/<participant>``, that participant's audio and video received;
    ``talk`` — (no target) the console's talk group audio, sent while it holds a floor and
    received from whoever holds the floor of its groups. ``request`` is the console's own id
    for the stream; the answer or the refusal carries it back, and ``media_close`` ends it."""

    request: str
    kind: Literal["camera", "publish", "participant", "talk"]
    target: str
    sdp: str
    variant: Literal["main", "sub"] = "main"


class MediaClose(msgspec.Struct, tag="media_close", forbid_unknown_fields=True):
    """The console no longer wants stream ``request``."""

    request: str


class TalkJoin(msgspec.Struct, tag="talk_join", forbid_unknown_fields=True):
    """Join talk group ``group`` (``street:<code>``, ``field:<field>``, ``incident:<id>``)."""

    group: str


class TalkLeave(msgspec.Struct, tag="talk_leave", forbid_unknown_fields=True):
    group: str


class TalkRequest(msgspec.Struct, tag="talk_request", forbid_unknown_fields=True):
    """Push to talk: ask for the floor (``emergency``: an emergency call, which pre-empts)."""

    group: str
    emergency: bool = False


class TalkRelease(msgspec.Struct, tag="talk_release", forbid_unknown_fields=True):
    """Let go of the floor (or cancel a queued request)."""

    group: str


class TalkRevoke(msgspec.Struct, tag="talk_revoke", forbid_unknown_fields=True):
    """A commander takes the floor away from the talker."""

    group: str
    reason: str = ""


TalkMessage = TalkJoin | TalkLeave | TalkRequest | TalkRelease | TalkRevoke


class RoomOpen(msgspec.Struct, tag="room_open", forbid_unknown_fields=True):
    """Open a conference room (and join it). ``invite``: ``user:<name>``, ``street:<code>``,
    ``field:<field>``, ``district``. ``incident``: the incident it is about (its timeline
    records who came and went). ``request`` is echoed in the first ``room`` state."""

    request: str
    title: str
    incident: int | None = None
    invite: list[str] = []


class RoomInvite(msgspec.Struct, tag="room_invite", forbid_unknown_fields=True):
    room: str
    invite: list[str]


class RoomJoin(msgspec.Struct, tag="room_join", forbid_unknown_fields=True):
    room: str


class RoomLeave(msgspec.Struct, tag="room_leave", forbid_unknown_fields=True):
    room: str


class RoomMute(msgspec.Struct, tag="room_mute", forbid_unknown_fields=True):
    """This participant's microphone (``audio``) and camera (``video``) on or off."""

    room: str
    audio: bool
    video: bool


class RoomGuestLink(msgspec.Struct, tag="room_guest_link", forbid_unknown_fields=True):
    """Ask for a one-time link that lets one person join from a browser."""

    room: str
    name: str = ""


RoomMessage = RoomOpen | RoomInvite | RoomJoin | RoomLeave | RoomMute | RoomGuestLink

ClientMessage = (
    Hello
    | Command
    | Ping
    | MediaOffer
    | MediaClose
    | TalkJoin
    | TalkLeave
    | TalkRequest
    | TalkRelease
    | TalkRevoke
    | RoomOpen
    | RoomInvite
    | RoomJoin
    | RoomLeave
    | RoomMute
    | RoomGuestLink
)


class Welcome(msgspec.Struct, tag="welcome"):
    """The server took the hello: who the user is, where the log stands, what comes next."""

    v: int
    user: str
    role: str
    street: str | None
    field: str | None
    display_name: str
    seq: int
    mode: Literal["snapshot", "changes"]


class Snapshot(msgspec.Struct, tag="snapshot"):
    """A chunk of the incidents this user may see, as of the coming ``snapshot_end``."""

    records: list[Record]


class SnapshotEnd(msgspec.Struct, tag="snapshot_end"):
    """The snapshot is complete and consistent as of change ``seq``."""

    seq: int
    count: int


class Changes(msgspec.Struct, tag="changes"):
    """Changes ``after`` < seq ≤ ``upto`` of the log, those this user may see."""

    after: int
    upto: int
    records: list[Record]


class Ack(msgspec.Struct, tag="ack"):
    """A command was applied (or had been, for a repeated key); the resulting record."""

    key: str
    seq: int
    record: Record | None


class Reject(msgspec.Struct, tag="reject"):
    """A command was refused, with a machine-readable code and a reason a person can read."""

    key: str
    code: str
    reason: str


class Error(msgspec.Struct, tag="error"):
    """A message could not be taken; nothing was changed."""

    code: str
    message: str


class Devices(msgspec.Struct, tag="devices"):
    """Field devices this user may see: the whole set (``full``, sent after the snapshot or
    the catch-up of every session: replace what you hold) or the devices that changed."""

    devices: list[Device]
    full: bool = False


class Pong(msgspec.Struct, tag="pong"):
    """The answer to a ping, echoing its time."""

    t: float


class MediaAnswer(msgspec.Struct, tag="media_answer"):
    """The media hub took the offer of ``request``: its WebRTC answer."""

    request: str
    sdp: str


class MediaRefused(msgspec.Struct, tag="media_refused"):
    """The media hub did not take (or ended) stream ``request``: ``forbidden`` (not this
    user's camera), ``unknown_camera``, ``no_source`` (a camera without a video source),
    ``unavailable`` (the hub cannot serve it now; try again), ``invalid`` (a bad offer)."""

    request: str
    code: str
    reason: str


class Talk(msgspec.Struct, tag="talk"):
    """A floor control event of talk group ``group`` for this console (granted, denied,
    queued, revoked, released, cancelled, idle, taken by someone, the queue)."""

    group: str
    event: FloorEvent


class TalkRefused(msgspec.Struct, tag="talk_refused"):
    """A talk group message was not taken: ``forbidden`` (not this user's group), ``unknown_group``,
    ``not_joined``."""

    group: str
    code: str
    reason: str


class RoomParticipant(msgspec.Struct):
    """Someone in a room: ``id`` (the participant, for ``participant`` media), the person,
    their center, microphone and camera, whether their media reaches the hub yet, and
    whether they came in with a browser link."""

    id: str
    user: str
    name: str
    center: str
    audio: bool = True
    video: bool = True
    publishing: bool = False
    guest: bool = False


class Room(msgspec.Struct, tag="room"):
    """The state of a room this person is invited to or in, sent whole on every change.
    ``you``: this console's participant id in it ("" when not in). ``speaker``: the active
    speaker. ``closed``: the room is gone (everyone left)."""

    room: str
    title: str
    host: str
    incident: int | None
    invited: list[str]
    participants: list[RoomParticipant]
    you: str = ""
    speaker: str | None = None
    closed: bool = False
    request: str = ""


class RoomRefused(msgspec.Struct, tag="room_refused"):
    """A room message was not taken: ``forbidden`` (not invited), ``unknown_room``,
    ``closed``, ``full``, ``invalid``, ``unavailable``. ``request`` echoes a ``room_open``."""

    room: str
    code: str
    reason: str
    request: str = ""


class GuestLink(msgspec.Struct, tag="guest_link"):
    """A one-time browser link into ``room`` (valid until ``expires``, epoch seconds)."""

    room: str
    url: str
    expires: float


ServerMessage = (
    Welcome
    | Snapshot
    | SnapshotEnd
    | Changes
    | Devices
    | Ack
    | Reject
    | Error
    | Pong
    | MediaAnswer
    | MediaRefused
    | Talk
    | TalkRefused
    | Room
    | RoomRefused
    | GuestLink
)
