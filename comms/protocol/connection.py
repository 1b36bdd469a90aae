"""The sync protocol as two sans-I/O state machines, one per end.

A driver feeds received text with ``receive(text)`` and gets events back; it calls the
methods that send, and writes out what ``data_to_send()`` returns. Neither class touches a
socket, a clock or a database, so both are tested without a network and shared by the server
and the console.

Rules of the server end:

* the first message must be ``hello`` with a supported version; nothing else is taken before;
* a second ``hello`` is an error;
* a message over :data:`MAX_CLIENT_MESSAGE` bytes, malformed JSON, or a message that does not
  fit the schema is answered with ``error`` and changes nothing; the session goes on.

Rules of the console end:

* snapshot chunks only between ``welcome(mode=snapshot)`` and ``snapshot_end``;
* ``changes`` only after the snapshot or in ``changes`` mode, and only contiguous: ``after``
  must equal the last change held; a gap or an overlap is reported and ignored, and the driver
  resynchronises;
* ``ack`` and ``reject`` only for a key this end has sent;
* ``media_answer`` and ``media_refused`` are passed on even for a stream already closed
  (they cross on the wire); :attr:`ClientConnection.media` says which streams are open.
"""

from __future__ import annotations

import collections
import enum
from collections.abc import Sequence

import msgspec

from app.domain.devices import Device
from app.domain.floor import FloorEvent
from app.domain.records import Record
from comms.protocol import messages as m

#: The largest message a console may send. Commands are small; this catches garbage early.
MAX_CLIENT_MESSAGE = 64 * 1024
#: The largest message the server sends (a snapshot chunk).
MAX_SERVER_MESSAGE = 32 * 1024 * 1024

_encoder = msgspec.json.Encoder()
_client_decoder = msgspec.json.Decoder(m.ClientMessage)
_server_decoder = msgspec.json.Decoder(m.ServerMessage)


def encode(message: msgspec.Struct) -> bytes:
    """The wire form of a message."""
    return _encoder.encode(message)


class _ChangesOut(msgspec.Struct, tag="changes"):
    """The wire form of :class:`messages.Changes` on the sending side, where records may be
    pre-encoded."""

    after: int
    upto: int
    records: list[Record | msgspec.Raw]


class ProtocolError(msgspec.Struct, frozen=True):
    """An event: a received message broke the protocol. ``code`` is stable, ``message`` says
    what was wrong. The state was left as it was."""

    code: str
    message: str


def _decode(decoder: msgspec.json.Decoder[object], data: str | bytes, limit: int) -> object:
    # A str counts characters; the limit is in bytes of UTF-8 (up to 4 per character).
    size = len(data) if isinstance(data, bytes) or len(data) * 4 <= limit else len(data.encode())
    if size > limit:
        return ProtocolError("too_large", f"message of {size} bytes exceeds the limit of {limit}")
    try:
        return decoder.decode(data)
    except msgspec.ValidationError as exc:
        return ProtocolError("invalid", f"message does not fit the schema: {exc}")
    except msgspec.DecodeError as exc:
        return ProtocolError("malformed", f"message is not valid JSON: {exc}")


class ServerState(enum.Enum):
    AWAIT_HELLO = "await_hello"
    READY = "ready"


ServerEvent = m.Hello | m.Command | m.Ping | m.MediaOffer | m.MediaClose | m.TalkMessage | m.RoomMessage | ProtocolError


class ServerConnection:
    """The server's end of one console's sync session."""

    def __init__(self) -> None:
        self.state = ServerState.AWAIT_HELLO
        self.sent_seq = 0
        self._out: list[bytes] = []

    # -- receiving -------------------------------------------------------------------------
    def receive(self, data: str | bytes) -> ServerEvent:
        """Take one received message; returns what it was, or the protocol error (which has
        already been answered with an ``error`` message)."""
        msg = _decode(_client_decoder, data, MAX_CLIENT_MESSAGE)
        if isinstance(msg, ProtocolError):
            return self._refuse(msg)
        if isinstance(msg, m.Hello):
            if self.state is not ServerState.AWAIT_HELLO:
                return self._refuse(ProtocolError("out_of_order", "hello was already received"))
            if msg.v != m.VERSION:
                return self._refuse(
                    ProtocolError(
                        "unsupported_version",
                        f"protocol version {msg.v} is not supported; this server speaks {m.VERSION}",
                    )
                )
            # Commands may follow the hello at once, before the welcome goes out.
            self.state = ServerState.READY
            return msg
        if self.state is ServerState.AWAIT_HELLO:
            kind = type(msg).__name__.lower()
            return self._refuse(ProtocolError("out_of_order", f"{kind} before hello: say hello first"))
        assert isinstance(msg, m.Command | m.Ping | m.MediaOffer | m.MediaClose | m.TalkMessage | m.RoomMessage)
        return msg

    def _refuse(self, error: ProtocolError) -> ProtocolError:
        self.error(error.code, error.message)
        return error

    # -- sending ---------------------------------------------------------------------------
    def welcome(self, welcome: m.Welcome, *, last_seq: int) -> None:
        """Accept the hello. ``last_seq`` is where the console's copy stands after this
        session's snapshot or catch-up begins (0 for a snapshot)."""
        self.sent_seq = 0 if welcome.mode == "snapshot" else last_seq
        self._out.append(encode(welcome))

    def snapshot(self, records: Sequence[Record]) -> None:
        """Send a chunk of the snapshot."""
        self._out.append(encode(m.Snapshot(records=list(records))))

    def snapshot_end(self, seq: int, count: int) -> None:
        """Close the snapshot: it is consistent as of change ``seq``."""
        self.sent_seq = seq
        self._out.append(encode(m.SnapshotEnd(seq=seq, count=count)))

    def changes(self, upto: int, records: Sequence[Record | msgspec.Raw]) -> None:
        """Send the changes after what was last sent up to ``upto``; the caller has filtered
        ``records`` to what the user may see. Records may come already encoded
        (:class:`msgspec.Raw`): the server encodes each change once for every session."""
        if upto <= self.sent_seq:
            return
        self._out.append(encode(_ChangesOut(after=self.sent_seq, upto=upto, records=list(records))))
        self.sent_seq = upto

    def devices(self, devices: Sequence[Device], *, full: bool) -> None:
        """Send the devices the user may see (``full``: all of them) or those that changed."""
        if devices or full:
            self._out.append(encode(m.Devices(devices=list(devices), full=full)))

    def ack(self, key: str, seq: int, record: Record | None) -> None:
        self._out.append(encode(m.Ack(key=key, seq=seq, record=record)))

    def reject(self, key: str, code: str, reason: str) -> None:
        self._out.append(encode(m.Reject(key=key, code=code, reason=reason)))

    def error(self, code: str, message: str) -> None:
        self._out.append(encode(m.Error(code=code, message=message)))

    def pong(self, t: float) -> None:
        self._out.append(encode(m.Pong(t=t)))

    def talk(self, group: str, event: FloorEvent) -> None:
        self._out.append(encode(m.Talk(group=group, event=event)))

    def talk_refused(self, group: str, code: str, reason: str) -> None:
        self._out.append(encode(m.TalkRefused(group=group, code=code, reason=reason)))

    def send_message(self, message: msgspec.Struct) -> None:
        """Any server message built elsewhere (a room's state, a guest link)."""
        self._out.append(encode(message))

    def room_refused(self, room: str, code: str, reason: str, request: str = "") -> None:
        self._out.append(encode(m.RoomRefused(room=room, code=code, reason=reason, request=request)))

    def guest_link(self, room: str, url: str, expires: float) -> None:
        self._out.append(encode(m.GuestLink(room=room, url=url, expires=expires)))

    def media_answer(self, request: str, sdp: str) -> None:
        self._out.append(encode(m.MediaAnswer(request=request, sdp=sdp)))

    def media_refused(self, request: str, code: str, reason: str) -> None:
        self._out.append(encode(m.MediaRefused(request=request, code=code, reason=reason)))

    def data_to_send(self) -> list[bytes]:
        """Everything queued for sending, in order; the queue is emptied."""
        out, self._out = self._out, []
        return out


class ClientState(enum.Enum):
    IDLE = "idle"
    AWAIT_WELCOME = "await_welcome"
    SNAPSHOT = "snapshot"
    LIVE = "live"


ClientEvent = (
    m.Welcome
    | m.Snapshot
    | m.SnapshotEnd
    | m.Changes
    | m.Devices
    | m.Ack
    | m.Reject
    | m.Error
    | m.Pong
    | m.MediaAnswer
    | m.MediaRefused
    | m.Talk
    | m.TalkRefused
    | m.Room
    | m.RoomRefused
    | m.GuestLink
    | ProtocolError
)


class ClientConnection:
    """The console's end of the sync session."""

    def __init__(self) -> None:
        self.state = ClientState.IDLE
        self.last_seq = 0
        # Keys sent and not yet answered, with how many times each was sent.
        self._pending: collections.Counter[str] = collections.Counter()
        # Media requests offered and not yet closed.
        self.media: set[str] = set()
        self._out: list[bytes] = []

    @property
    def pending(self) -> set[str]:
        """Keys of commands sent and not yet answered."""
        return set(self._pending)

    def hello(self, token: str, last_seq: int, client: str = "", instance: str = "") -> None:
        """Open the session from change ``last_seq`` (0: send me a snapshot)."""
        self.state = ClientState.AWAIT_WELCOME
        self.last_seq = last_seq
        self._pending.clear()
        self.media.clear()
        self._out.append(encode(m.Hello(v=m.VERSION, token=token, last_seq=last_seq, client=client, instance=instance)))

    def command(self, command: m.Command) -> None:
        """Send a command; its ack or reject is expected."""
        if self.state is ClientState.IDLE:
            raise RuntimeError("say hello before sending commands")
        self._pending[command.key] += 1
        self._out.append(encode(command))

    def ping(self, t: float) -> None:
        self._out.append(encode(m.Ping(t=t)))

    def media_offer(self, offer: m.MediaOffer) -> None:
        """Ask for a stream; a ``media_answer`` or ``media_refused`` for it is expected."""
        if self.state is ClientState.IDLE:
            raise RuntimeError("say hello before asking for media")
        self.media.add(offer.request)
        self._out.append(encode(offer))

    def talk(self, message: m.TalkMessage) -> None:
        """A talk group message (join, leave, push to talk, release, revoke)."""
        if self.state is ClientState.IDLE:
            raise RuntimeError("say hello before talking")
        self._out.append(encode(message))

    def room(self, message: m.RoomMessage) -> None:
        """A conference room message (open, invite, join, leave, mute, guest link)."""
        if self.state is ClientState.IDLE:
            raise RuntimeError("say hello before opening rooms")
        self._out.append(encode(message))

    def media_close(self, request: str) -> None:
        """End a stream (its answer, if still to come, is then ignored by the caller)."""
        self.media.discard(request)
        self._out.append(encode(m.MediaClose(request=request)))

    def receive(self, data: str | bytes) -> ClientEvent:
        """Take one received message; returns it, or a ProtocolError (state unchanged)."""
        msg = _decode(_server_decoder, data, MAX_SERVER_MESSAGE)
        if isinstance(msg, ProtocolError):
            return msg
        state = self.state
        if isinstance(msg, m.Welcome):
            if state is not ClientState.AWAIT_WELCOME:
                return ProtocolError("out_of_order", "welcome without a hello")
            if msg.mode == "snapshot":
                self.state = ClientState.SNAPSHOT
                self.last_seq = 0
            else:
                self.state = ClientState.LIVE
            return msg
        if isinstance(msg, m.Snapshot):
            if state is not ClientState.SNAPSHOT:
                return ProtocolError("out_of_order", "snapshot chunk outside a snapshot")
            return msg
        if isinstance(msg, m.SnapshotEnd):
            if state is not ClientState.SNAPSHOT:
                return ProtocolError("out_of_order", "snapshot_end outside a snapshot")
            self.state = ClientState.LIVE
            self.last_seq = msg.seq
            return msg
        if isinstance(msg, m.Changes):
            if state is not ClientState.LIVE:
                return ProtocolError("out_of_order", f"changes while {state.value}")
            if msg.after != self.last_seq or msg.upto < msg.after:
                return ProtocolError(
                    "gap",
                    f"changes ({msg.after}, {msg.upto}] do not follow change {self.last_seq}",
                )
            self.last_seq = msg.upto
            return msg
        if isinstance(msg, m.Devices):
            if state is not ClientState.LIVE:
                return ProtocolError("out_of_order", f"devices while {state.value}")
            return msg
        if isinstance(msg, m.Ack | m.Reject):
            if msg.key not in self._pending:
                return ProtocolError("unknown_key", f"{type(msg).__name__.lower()} for a command never sent: {msg.key}")
            self._pending[msg.key] -= 1
            if self._pending[msg.key] <= 0:
                del self._pending[msg.key]
            return msg
        if isinstance(msg, m.Talk | m.TalkRefused | m.Room | m.RoomRefused | m.GuestLink):
            return msg
        if isinstance(msg, m.MediaAnswer | m.MediaRefused):
            # An answer may cross the console's close on the wire: not an error; the driver
            # ignores answers to requests it no longer holds (``media``).
            if isinstance(msg, m.MediaRefused):
                self.media.discard(msg.request)
            return msg
        assert isinstance(msg, m.Error | m.Pong)
        return msg

    def data_to_send(self) -> list[bytes]:
        out, self._out = self._out, []
        return out
