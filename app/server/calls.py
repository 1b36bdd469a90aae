"""Calls on the server: conference rooms (视频会商) and the talk groups' audio (集群呼叫).

Control — who is in which room, invitations, guest links, the room state every invited console
sees — runs on the server's loop. Media runs on its own :class:`MediaLoop` (:class:`MediaPlane`):
a selective forwarding hub. Every participant sends its audio and video once (``publish``);
the hub forwards the *encoded* packets, never decoding them, to everyone who asked for that
participant (``participant``). A console's talk link (``talk``) sends its microphone and
receives one audio stream: the hub forwards a talker's audio to the members of their talk
groups only while the floor control (:class:`app.server.talk.TalkHub`) grants them the floor.

Participants are identified by a console's instance (stable across reconnects). A console
whose connection drops stays in its rooms for :attr:`CallHub.grace_s`; its media connections,
which do not depend on the sync channel, keep flowing, and a console that comes back in time
carries on. The active speaker of a room is taken from the audio level each sender puts in its
packets (RFC 6464), so the hub needs no decoding for it either.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Final

import msgspec
from aiortc import RTCPeerConnection, RTCRtpReceiver, RTCRtpTransceiver, RTCSessionDescription
from aiortc.rtp import RtpPacket

from app.domain.permissions import Principal
from app.domain.rooms import HOST_ROLES, Member, Room, RoomError, center_of
from comms.protocol import messages as m
from comms.rtc.forward import AudioPacketTrack, AudioTap, Unwrapper, VideoTap, is_keyframe, tap, video_packet
from comms.rtc.loop import MediaLoop
from comms.rtc.peer import H264, close_quietly, new_peer_connection
from comms.rtc.tracks import PacketTrack

log = logging.getLogger(__name__)

#: Seconds a disconnected console keeps its place in its rooms.
GRACE_S: Final = 15.0
#: Seconds a guest link stays valid.
GUEST_TTL_S: Final = 15 * 60
#: How often the active speakers are decided (seconds).
SPEAKER_S: Final = 0.25
#: Loudness (dB over -127 dBov) needed to count as speaking (−50 dBov).
SPEAKING: Final = 77.0
#: A new speaker must be this much louder (dB) than the current one to take over.
HYSTERESIS_DB: Final = 6.0
VIDEO_CODECS: Final = ("video/h264", "video/vp8")

#: Sends a message to one console (or guest).
Send = Callable[[msgspec.Struct], Awaitable[None]]
#: Writes a note into an incident's timeline (incident id, note).
Record = Callable[[int, str], Awaitable[None]]


class CallError(Exception):
    """A media request the hub refuses; ``code`` as in :class:`~comms.protocol.messages.MediaRefused`."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


# == media ===================================================================================
class _Channel:
    """One participant's media in one room, fanned out to its subscribers. Lives as long as
    the participant is in the room, across their publishing connections."""

    def __init__(self, room: str, pid: str) -> None:
        self.room, self.pid = room, pid
        self.audio: set[AudioPacketTrack] = set()
        self.video: set[PacketTrack] = set()
        self.mime: str = H264.lower()
        self.pc: RTCPeerConnection | None = None
        self._video_receiver: RTCRtpReceiver | None = None
        self._video_tap: VideoTap | None = None
        self._unwrap_audio = Unwrapper()
        self._unwrap_video = Unwrapper()
        self._video_offset = 0
        self._last_video_pts = -3000
        self._video_source: object = None
        self.loudness = 0.0
        self.last_audio = 0.0
        self.packets = 0
        self.pictures = 0

    def publish(self, pc: RTCPeerConnection, mime: str | None) -> None:
        self.pc = pc
        if mime:
            self.mime = mime
        self._unwrap_audio = Unwrapper()
        self._unwrap_video = Unwrapper()

    def audio_in(self, pc: RTCPeerConnection, packet: RtpPacket) -> None:
        if pc is not self.pc:
            return
        now = time.monotonic()
        level = packet.extensions.audio_level
        if level is not None:
            loud = 127.0 - float(level[1])
            self.loudness = loud if loud > self.loudness else 0.7 * self.loudness + 0.3 * loud
            self.last_audio = now
        self.packets += 1
        ts = self._unwrap_audio(packet.timestamp)
        for track in self.audio:
            track.put(pc, packet.payload, ts, now)

    def video_in(self, pc: RTCPeerConnection, data: bytes, timestamp: int) -> None:
        if pc is not self.pc:
            return
        ts = self._unwrap_video(timestamp)
        if pc is not self._video_source:  # a new connection: carry the timeline on
            self._video_source = pc
            self._video_offset = self._last_video_pts + 3000 - ts
        pts = ts + self._video_offset
        if pts <= self._last_video_pts:
            return
        self._last_video_pts = pts
        self.pictures += 1
        key = is_keyframe(self.mime, data)
        for track in self.video:
            track.put(video_packet(data, pts, key))

    def watch_video(self, receiver: RTCRtpReceiver, video_tap: VideoTap) -> None:
        self._video_receiver = receiver
        self._video_tap = video_tap

    def want_keyframe(self) -> None:
        """Ask the publisher for a keyframe (RTCP PLI): a subscriber came or lost a picture."""
        receiver, video_tap = self._video_receiver, self._video_tap
        if receiver is None or video_tap is None or video_tap.ssrc is None:
            return
        task = asyncio.get_running_loop().create_task(receiver._send_rtcp_pli(video_tap.ssrc))
        task.add_done_callback(lambda t: t.cancelled() or t.exception())

    def end(self) -> None:
        for track in self.audio:
            track.end()
        for video in self.video:
            video.end()
        self.audio.clear()
        self.video.clear()


@dataclass
class _Stream:
    """One peer connection the hub made for a participant's request."""

    pid: str
    request: str
    kind: str
    pc: RTCPeerConnection
    room: str = ""
    target: str = ""
    tracks: list[Any] = field(default_factory=list)


class _TalkLink:
    def __init__(self, pid: str, stream: _Stream) -> None:
        self.pid = pid
        self.stream = stream
        self.downlink = AudioPacketTrack()
        self.unwrap = Unwrapper()
        self.forwarded = 0


def _only_codec(transceiver: RTCRtpTransceiver, mime: str) -> None:
    """Answer with ``mime`` only (and its retransmission), the codec the publisher sends."""
    codecs = transceiver._codecs
    keep = [c for c in codecs if c.mimeType.lower() == mime]
    if not keep:
        raise CallError("invalid", f"the offer cannot receive {mime}, the codec this participant sends")
    pts = {c.payloadType for c in keep}
    keep += [c for c in codecs if c.mimeType.lower() == "video/rtx" and (c.parameters or {}).get("apt") in pts]
    transceiver._codecs = keep


class MediaPlane:
    """The forwarding hub, on the media loop: channels, the connections and the talk routes."""

    def __init__(self, on_publishing: Callable[[str, str, bool], None], on_speaker: Callable[[str, str | None], None]):
        self.on_publishing = on_publishing
        self.on_speaker = on_speaker
        self.channels: dict[tuple[str, str], _Channel] = {}
        self.streams: dict[tuple[str, str], _Stream] = {}
        self.talk_links: dict[str, _TalkLink] = {}
        self.routes: dict[str, frozenset[str]] = {}
        self.speakers: dict[str, str | None] = {}

    # -- rooms ---------------------------------------------------------------------------------
    def open_channel(self, room: str, pid: str) -> None:
        self.channels.setdefault((room, pid), _Channel(room, pid))

    async def close_channel(self, room: str, pid: str) -> None:
        channel = self.channels.pop((room, pid), None)
        if channel is not None:
            channel.end()
        for key, stream in list(self.streams.items()):
            if stream.room == room and (stream.pid == pid or stream.target == pid):
                await self.close(*key)

    # -- connections ---------------------------------------------------------------------------
    async def _answer(self, stream: _Stream, sdp: str, prepare: Callable[[list[RTCRtpTransceiver]], None]) -> str:
        pc = stream.pc
        try:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
            prepare(pc.getTransceivers())
            answer = await pc.createAnswer()
            await pc.setLocalDescription(answer)
        except CallError:
            await close_quietly(pc)
            raise
        except Exception as exc:
            await close_quietly(pc)
            raise CallError("invalid", f"the offer cannot be answered: {exc}") from exc
        key = (stream.pid, stream.request)
        old = self.streams.get(key)
        if old is not None:
            await self.close(*key)
        self.streams[key] = stream

        @pc.on("connectionstatechange")
        async def _changed() -> None:
            if pc.connectionState in ("failed", "closed") and self.streams.get(key) is stream:
                await self.close(*key)

        return str(pc.localDescription.sdp)

    async def publish(self, pid: str, request: str, room: str, sdp: str) -> str:
        channel = self.channels.get((room, pid))
        if channel is None:
            raise CallError("forbidden", f"join room {room} before sending into it")
        stream = _Stream(pid, request, "publish", new_peer_connection(), room=room)
        pc = stream.pc
        found: dict[str, Any] = {}

        def prepare(transceivers: list[RTCRtpTransceiver]) -> None:
            kinds = sorted(t.kind for t in transceivers)
            if kinds not in (["audio"], ["video"], ["audio", "video"]):
                raise CallError("invalid", "publish at most one audio and one video stream")
            for t in transceivers:
                if t.kind == "audio":
                    tap(t.receiver, AudioTap(lambda p: channel.audio_in(pc, p)))
                else:
                    mime = t._codecs[0].mimeType.lower() if t._codecs else ""
                    if mime not in VIDEO_CODECS:
                        raise CallError("invalid", f"the hub forwards H.264 or VP8, not {mime or 'nothing'}")
                    video_tap = VideoTap(lambda data, ts: channel.video_in(pc, data, ts))
                    tap(t.receiver, video_tap)
                    found["video"] = (t.receiver, video_tap, mime)

        answer = await self._answer(stream, sdp, prepare)
        video = found.get("video")
        channel.publish(pc, video[2] if video else None)
        if video:
            channel.watch_video(video[0], video[1])
        self.on_publishing(room, pid, True)
        return answer

    async def subscribe(self, pid: str, request: str, room: str, target: str, sdp: str) -> str:
        if (room, pid) not in self.channels:
            raise CallError("forbidden", f"join room {room} before receiving from it")
        channel = self.channels.get((room, target))
        if channel is None:
            raise CallError("unknown_participant", f"{target} is not in room {room}")
        stream = _Stream(pid, request, "participant", new_peer_connection(), room=room, target=target)
        pc = stream.pc

        def prepare(transceivers: list[RTCRtpTransceiver]) -> None:
            for t in transceivers:
                if t.kind == "audio":
                    track: AudioPacketTrack | PacketTrack = AudioPacketTrack()
                else:
                    _only_codec(t, channel.mime)
                    track = PacketTrack(want_keyframe=channel.want_keyframe)
                    t.sender._send_keyframe = channel.want_keyframe  # type: ignore[method-assign]
                pc.addTrack(track)
                stream.tracks.append(track)

        answer = await self._answer(stream, sdp, prepare)
        for track in stream.tracks:
            (channel.audio if isinstance(track, AudioPacketTrack) else channel.video).add(track)
        channel.want_keyframe()
        return answer

    async def talk_link(self, pid: str, request: str, sdp: str) -> str:
        stream = _Stream(pid, request, "talk", new_peer_connection())
        link = _TalkLink(pid, stream)

        def prepare(transceivers: list[RTCRtpTransceiver]) -> None:
            if [t.kind for t in transceivers] != ["audio"]:
                raise CallError("invalid", "a talk link is exactly one audio stream, both ways")
            tap(transceivers[0].receiver, AudioTap(lambda p: self._talk_in(link, p)))
            stream.pc.addTrack(link.downlink)
            stream.tracks.append(link.downlink)

        answer = await self._answer(stream, sdp, prepare)
        self.talk_links[pid] = link
        return answer

    async def close(self, pid: str, request: str) -> None:
        stream = self.streams.pop((pid, request), None)
        if stream is None:
            return
        for track in stream.tracks:
            for ch in self.channels.values():
                ch.audio.discard(track)
                ch.video.discard(track)
            track.stop()
        if stream.kind == "talk":
            link = self.talk_links.get(pid)
            if link is not None and link.stream is stream:
                del self.talk_links[pid]
        elif stream.kind == "publish":
            channel = self.channels.get((stream.room, pid))
            if channel is not None and channel.pc is stream.pc:
                channel.pc = None
                self.on_publishing(stream.room, pid, False)
        await close_quietly(stream.pc)

    async def close_participant(self, pid: str) -> None:
        for key in [k for k in self.streams if k[0] == pid]:
            await self.close(*key)

    async def close_all(self) -> None:
        for key in list(self.streams):
            await self.close(*key)
        for channel in self.channels.values():
            channel.end()
        self.channels.clear()

    # -- talk groups ---------------------------------------------------------------------------
    def set_routes(self, routes: dict[str, frozenset[str]]) -> None:
        self.routes = routes

    def _talk_in(self, link: _TalkLink, packet: RtpPacket) -> None:
        if self.talk_links.get(link.pid) is not link:
            return
        listeners = self.routes.get(link.pid)
        ts = link.unwrap(packet.timestamp)
        if not listeners:
            return
        now = time.monotonic()
        for pid in listeners:
            other = self.talk_links.get(pid)
            if other is not None and other.downlink.put(link, packet.payload, ts, now):
                link.forwarded += 1

    # -- active speakers -----------------------------------------------------------------------
    async def watch_speakers(self) -> None:
        while True:
            await asyncio.sleep(SPEAKER_S)
            now = time.monotonic()
            rooms: dict[str, list[_Channel]] = {}
            for channel in self.channels.values():
                if now - channel.last_audio > 1.0:
                    channel.loudness = 0.0
                rooms.setdefault(channel.room, []).append(channel)
            for room, channels in rooms.items():
                current = self.speakers.get(room)
                loud = {c.pid: c.loudness for c in channels}
                best = max(loud, key=lambda p: loud[p])
                speaker: str | None = current
                if loud[best] >= SPEAKING:
                    if current is None or current not in loud or loud[best] > loud[current] + HYSTERESIS_DB:
                        speaker = best
                elif current is not None and loud.get(current, 0.0) < SPEAKING - HYSTERESIS_DB:
                    speaker = None
                if speaker != current:
                    self.speakers[room] = speaker
                    self.on_speaker(room, speaker)
            for room in [r for r in self.speakers if r not in rooms]:
                del self.speakers[room]

    def status(self) -> dict[str, Any]:
        return {
            "channels": [
                {
                    "room": c.room,
                    "participant": c.pid,
                    "publishing": c.pc is not None,
                    "codec": c.mime,
                    "audio_packets": c.packets,
                    "pictures": c.pictures,
                    "subscribers": len(c.video) + len(c.audio),
                }
                for c in self.channels.values()
            ],
            "talk_links": {pid: link.forwarded for pid, link in self.talk_links.items()},
            "routes": {k: sorted(v) for k, v in self.routes.items()},
        }


# == control =================================================================================
@dataclass
class _Client:
    pid: str
    principal: Principal | None
    send: Send | None
    name: str
    center: str
    rooms: set[str] = field(default_factory=set)
    grace: asyncio.TimerHandle | None = None


@dataclass
class GuestTicket:
    token: str
    room: str
    name: str
    expires: float


class CallHub:
    """Rooms, guests and the media plane of one server."""

    def __init__(
        self,
        record: Record | None = None,
        *,
        grace_s: float = GRACE_S,
        street_names: dict[str, str] | None = None,
        field_names: dict[str, str] | None = None,
    ) -> None:
        self.record = record
        self.grace_s = grace_s
        self.street_names = street_names or {}
        self.field_names = field_names or {}
        self.media = MediaLoop("cityops-calls")
        self.plane = MediaPlane(self._publishing_from_media, self._speaker_from_media)
        self.rooms: dict[str, Room] = {}
        self.clients: dict[str, _Client] = {}
        self.tickets: dict[str, GuestTicket] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._speakers = self.media.submit(self.plane.watch_speakers())

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()

    def shutdown(self) -> None:
        if self.media.running:
            try:
                self.media.submit(self.plane.close_all()).result(10)
            except Exception:
                log.warning("call hub shutdown was not clean", exc_info=True)
        self.media.stop()

    # -- from the media loop -------------------------------------------------------------------
    def _from_media(self, fn: Callable[[], Awaitable[None]]) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        loop.call_soon_threadsafe(lambda: self._spawn(fn()))

    def _spawn(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _publishing_from_media(self, room: str, pid: str, publishing: bool) -> None:
        async def update() -> None:
            member = self.rooms[room].members.get(pid) if room in self.rooms else None
            if member is not None and member.publishing != publishing:
                member.publishing = publishing
                await self._publish_state(self.rooms[room])

        self._from_media(update)

    def _speaker_from_media(self, room: str, pid: str | None) -> None:
        async def update() -> None:
            r = self.rooms.get(room)
            if r is not None and r.speaker != pid and (pid is None or pid in r.members):
                r.speaker = pid
                await self._publish_state(r)

        self._from_media(update)

    def set_talk_routes(self, routes: dict[str, frozenset[str]]) -> None:
        """The talk hub's routes (talker → listeners), applied on the media loop in order."""
        if self.media.running:
            self.media.call_soon(self.plane.set_routes, routes)

    # -- consoles ------------------------------------------------------------------------------
    async def attach(self, pid: str, principal: Principal, send: Send) -> None:
        """A console's session began (or resumed): it hears of every room it is invited to or in."""
        client = self.clients.get(pid)
        if client is not None and (client.principal is None or client.principal.name != principal.name):
            raise CallError("forbidden", "this console instance belongs to someone else")
        if client is None:
            name = principal.display_name or principal.name
            center = center_of(principal, self.street_names, self.field_names)
            client = self.clients[pid] = _Client(pid, principal, send, name, center)
        if client.grace is not None:
            client.grace.cancel()
            client.grace = None
        client.send = send
        for room in list(self.rooms.values()):
            if pid in room.members or room.may_join(principal):
                await self._send_state(client, room)

    def detach(self, pid: str) -> None:
        """A console's session ended: it keeps its rooms for :attr:`grace_s` seconds."""
        client = self.clients.get(pid)
        if client is None:
            return
        client.send = None
        # Its media connections (the talk link too) do not depend on the sync channel: they
        # stay for the grace period, so a floor kept over a drop is still heard.
        loop = asyncio.get_running_loop()
        client.grace = loop.call_later(self.grace_s, lambda: self._spawn(self.drop(pid)))

    async def drop(self, pid: str) -> None:
        """A participant is gone for good: out of its rooms, its connections closed."""
        client = self.clients.pop(pid, None)
        if client is None:
            return
        if client.grace is not None:
            client.grace.cancel()
        for room_id in list(client.rooms):
            room = self.rooms.get(room_id)
            if room is not None:
                await self._leave(client, room)
        await self.media.run(self.plane.close_participant(pid))

    def _client(self, pid: str) -> _Client:
        client = self.clients.get(pid)
        if client is None:
            raise RoomError("unavailable", "this session is not known to the call hub")
        return client

    def _room(self, room_id: str) -> Room:
        room = self.rooms.get(room_id)
        if room is None or room.closed:
            raise RoomError("unknown_room", f"there is no room {room_id}")
        return room

    # -- rooms ---------------------------------------------------------------------------------
    async def open_room(self, pid: str, message: m.RoomOpen) -> Room:
        client = self._client(pid)
        principal = client.principal
        if principal is None or principal.role not in HOST_ROLES:
            raise RoomError("forbidden", "your role cannot open conference rooms")
        title = message.title.strip()[:80]
        if not title:
            raise RoomError("invalid", "a room needs a title")
        room = Room(id=secrets.token_hex(6), title=title, host=principal.name, incident=message.incident)
        room.invite(principal, list(dict.fromkeys(message.invite)))
        self.rooms[room.id] = room
        self._note(room, f"{client.name}（{client.center}）开启会商「{room.title}」")
        await self._join(client, room, request=message.request)
        return room

    async def invite(self, pid: str, room_id: str, keys: list[str]) -> None:
        client = self._client(pid)
        room = self._room(room_id)
        if client.principal is None or pid not in room.members:
            raise RoomError("forbidden", f"only participants of room {room_id} invite others")
        new = room.invite(client.principal, keys)
        if new:
            self._note(room, f"{client.name} 邀请 {'、'.join(new)}")
            await self._publish_state(room)

    async def join(self, pid: str, room_id: str) -> None:
        client = self._client(pid)
        await self._join(client, self._room(room_id))

    async def _join(self, client: _Client, room: Room, request: str = "") -> None:
        fresh = client.pid not in room.members
        member = room.members.get(client.pid) or Member(
            client.pid,
            client.principal.name if client.principal else "",
            client.name,
            client.center,
            guest=client.principal is None,
        )
        room.join(member, client.principal)
        client.rooms.add(room.id)
        await self.media.run(self._open_channel(room.id, client.pid))
        if fresh:
            self._note(room, f"{client.name}（{client.center}）加入会商")
        await self._publish_state(room, request=request, requester=client.pid)

    async def _open_channel(self, room: str, pid: str) -> None:
        self.plane.open_channel(room, pid)

    async def leave(self, pid: str, room_id: str) -> None:
        client = self._client(pid)
        room = self._room(room_id)
        if pid not in room.members:
            raise RoomError("not_joined", f"you are not in room {room_id}")
        await self._leave(client, room)

    async def _leave(self, client: _Client, room: Room) -> None:
        room.leave(client.pid)
        client.rooms.discard(room.id)
        await self.media.run(self.plane.close_channel(room.id, client.pid))
        self._note(room, f"{client.name}（{client.center}）离开会商")
        if not room.members:
            room.closed = True
            self._note(room, f"会商「{room.title}」结束")
        await self._publish_state(room)
        if room.closed:
            self.rooms.pop(room.id, None)
            for token in [t for t, ticket in self.tickets.items() if ticket.room == room.id]:
                del self.tickets[token]

    async def mute(self, pid: str, room_id: str, audio: bool, video: bool) -> None:
        room = self._room(room_id)
        member = room.members.get(pid)
        if member is None:
            raise RoomError("not_joined", f"you are not in room {room_id}")
        member.audio, member.video = audio, video
        await self._publish_state(room)

    # -- guests --------------------------------------------------------------------------------
    def issue_link(self, pid: str, room_id: str, name: str, base_url: str) -> m.GuestLink:
        client = self._client(pid)
        room = self._room(room_id)
        if client.principal is None or pid not in room.members:
            raise RoomError("forbidden", "only participants of the room issue guest links")
        if client.principal.role not in HOST_ROLES:
            raise RoomError("forbidden", "your role cannot issue guest links")
        now = time.time()
        for token in [t for t, g in self.tickets.items() if g.expires < now]:
            del self.tickets[token]
        token = secrets.token_urlsafe(24)
        guest = name.strip()[:40] or "访客"
        self.tickets[token] = GuestTicket(token, room.id, guest, now + GUEST_TTL_S)
        self._note(room, f"{client.name} 发出访客链接（{guest}）")
        return m.GuestLink(room=room.id, url=f"{base_url.rstrip('/')}/call/{token}", expires=now + GUEST_TTL_S)

    def ticket(self, token: str) -> GuestTicket | None:
        """The unused, unexpired ticket of a link (not consumed)."""
        ticket = self.tickets.get(token)
        if ticket is None or ticket.expires < time.time() or ticket.room not in self.rooms:
            return None
        return ticket

    async def guest_enter(self, token: str, send: Send) -> tuple[str, Room]:
        """Consume a link: the guest joins its room. Raises RoomError when the link is used,
        expired or its room closed."""
        ticket = self.ticket(token)
        if ticket is None:
            self.tickets.pop(token, None)
            raise RoomError("forbidden", "this link has been used, has expired, or its room has ended")
        del self.tickets[token]
        room = self._room(ticket.room)
        pid = f"guest-{secrets.token_hex(6)}"
        client = self.clients[pid] = _Client(pid, None, send, ticket.name, "访客（浏览器）")
        await self._join(client, room)
        return pid, room

    async def guest_leave(self, pid: str) -> None:
        await self.drop(pid)

    # -- media requests ------------------------------------------------------------------------
    async def offer(self, pid: str, offer: m.MediaOffer) -> str:
        """Answer a participant's offer (``publish``, ``participant``, ``talk``)."""
        if offer.kind == "talk":
            return await self.media.run(self.plane.talk_link(pid, offer.request, offer.sdp))
        room_id, _, target = offer.target.partition("/")
        room = self.rooms.get(room_id)
        if room is None or room.closed:
            raise CallError("unknown_room", f"there is no room {room_id}")
        if pid not in room.members:
            raise CallError("forbidden", f"you are not in room {room_id}")
        if offer.kind == "publish":
            return await self.media.run(self.plane.publish(pid, offer.request, room_id, offer.sdp))
        if offer.kind == "participant":
            if target not in room.members or target == pid:
                raise CallError(
                    "unknown_participant", f"{target or 'nobody'} is not another participant of room {room_id}"
                )
            return await self.media.run(self.plane.subscribe(pid, offer.request, room_id, target, offer.sdp))
        raise CallError("invalid", f"the call hub does not serve {offer.kind!r}")

    async def close_media(self, pid: str, request: str) -> None:
        await self.media.run(self.plane.close(pid, request))

    async def status(self) -> dict[str, Any]:
        plane = await self.media.run(self._plane_status())
        return {
            "rooms": [
                {
                    "room": r.id,
                    "title": r.title,
                    "incident": r.incident,
                    "members": sorted(r.members),
                    "speaker": r.speaker,
                }
                for r in self.rooms.values()
            ],
            **plane,
        }

    async def _plane_status(self) -> dict[str, Any]:
        return self.plane.status()

    # -- state to the consoles -----------------------------------------------------------------
    def state_of(self, room: Room, you: str = "", request: str = "") -> m.Room:
        return m.Room(
            room=room.id,
            title=room.title,
            host=room.host,
            incident=room.incident,
            invited=sorted(room.invites),
            participants=[
                m.RoomParticipant(
                    id=p.id,
                    user=p.user,
                    name=p.name,
                    center=p.center,
                    audio=p.audio,
                    video=p.video,
                    publishing=p.publishing,
                    guest=p.guest,
                )
                for p in room.members.values()
            ],
            you=you,
            speaker=room.speaker,
            closed=room.closed,
            request=request,
        )

    async def _send_state(self, client: _Client, room: Room, request: str = "") -> None:
        if client.send is None:
            return
        try:
            await client.send(self.state_of(room, client.pid if client.pid in room.members else "", request))
        except Exception:  # the console went away meanwhile: its session ends it
            log.debug("room state for a closing session dropped", exc_info=True)

    async def _publish_state(self, room: Room, *, request: str = "", requester: str = "") -> None:
        for client in list(self.clients.values()):
            concerned = client.pid in room.members or (client.principal is not None and room.may_join(client.principal))
            if concerned:
                await self._send_state(client, room, request if client.pid == requester else "")

    def _note(self, room: Room, note: str) -> None:
        if self.record is None or room.incident is None:
            return
        incident = room.incident

        async def write() -> None:
            assert self.record is not None
            try:
                await self.record(incident, note)
            except Exception:
                log.warning("could not record %r in incident %s", note, incident, exc_info=True)

        self._spawn(write())


def refusal_of(exc: Exception) -> tuple[str, str]:
    """(code, reason) of a refused room or media request."""
    if isinstance(exc, RoomError | CallError):
        return exc.code, str(exc)
    return "unavailable", f"the call hub failed: {exc}"
