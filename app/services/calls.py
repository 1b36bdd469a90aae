"""The console's calls: the conference room it is in, its talk groups, and their media.

Driven from the console's loop (Qt's, through qasync). Room states and floor events come in as
:class:`~app.services.events.RoomChanged` and :class:`~app.services.events.TalkChanged` from
the sync service; this service keeps the media in step with them on a media thread of its own:

* in a room, one link publishes the microphone and the camera, and one link per other
  participant who publishes receives them (:class:`comms.rtc.call.Link`);
* in any talk group, one talk link sends the microphone — gated, so sound leaves the console
  only while it holds a floor — and receives whoever holds the floor in its groups.

Links keep themselves up. After the sync channel comes back (a dropped network), the console
says again which groups and room it is in; the server, which kept them for a grace period,
carries on — the floor included — and the media, which does not depend on the sync channel,
usually never noticed.

Media arrives on the media thread: ``on_video(participant, image, frame)``,
``on_audio(participant, samples, level)`` for a room, ``on_talk_audio(samples, level)`` for
the talk groups. :attr:`CallService.listeners` are called on the console's loop after every
change of state (rooms, floors, links)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import av
import numpy as np
from aiortc.contrib.media import MediaPlayer, MediaRelay
from aiortc.mediastreams import MediaStreamTrack

from app.domain import floor
from app.services.events import ConnectionChanged, ConnectionState, Event, RoomChanged, TalkChanged
from app.services.sync import SyncService
from comms.client import ServerUnreachable
from comms.protocol import messages as m
from comms.rtc.call import Image, Link, LinkState, LocalAudio, PreviewVideo, Samples
from comms.rtc.loop import MediaLoop

log = logging.getLogger(__name__)

__all__ = ["CallRefused", "CallService", "FloorView", "Image", "LinkState", "Samples"]

Kind = Literal["publish", "participant", "talk"]


def local_camera(device: str = "/dev/video0") -> MediaStreamTrack | None:
    """The workstation's camera (Video4Linux, 640×360 at 15 fps), or None when it has none."""
    if not Path(device).exists():
        return None
    try:
        player = MediaPlayer(device, format="v4l2", options={"video_size": "640x360", "framerate": "15"})
    except Exception as exc:  # busy, unsupported size: the console joins without a camera
        log.warning("camera %s cannot be opened: %s", device, exc)
        return None
    return player.video


class CallRefused(Exception):
    """The server refused a room request; ``code`` as in :class:`comms.protocol.messages.RoomRefused`."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason


@dataclass(frozen=True)
class FloorView:
    """This console's view of one talk group's floor."""

    group: str
    joined: bool = True
    state: str = "idle"  # idle | listening | requesting | queued | talking
    talker: str = ""
    talker_id: str = ""
    queue_position: int = 0
    emergency: bool = False
    note: str = ""
    refused: str = ""


class GatedAudio(MediaStreamTrack):
    """``source``'s audio while ``is_open()``, silence otherwise (same pace, same frames)."""

    kind = "audio"

    def __init__(self, source: MediaStreamTrack, is_open: Callable[[], bool]) -> None:
        super().__init__()
        self.source = source
        self.is_open = is_open

    async def recv(self) -> av.AudioFrame:
        frame = await self.source.recv()
        assert isinstance(frame, av.AudioFrame)
        if self.is_open():
            return frame
        silent = av.AudioFrame.from_ndarray(
            np.zeros((1, frame.samples), dtype=np.int16), format="s16", layout=frame.layout.name
        )
        silent.sample_rate, silent.pts, silent.time_base = frame.sample_rate, frame.pts, frame.time_base
        return silent

    def stop(self) -> None:
        super().stop()
        self.source.stop()


@dataclass
class _Room:
    state: m.Room
    subscriptions: dict[str, Link] = field(default_factory=dict)


class CallService:
    """One console's conference room and talk groups."""

    def __init__(
        self,
        sync: SyncService,
        *,
        microphone: LocalAudio | None = None,
        camera: MediaStreamTrack | None = None,
    ) -> None:
        self.sync = sync
        self.microphone = microphone or LocalAudio()
        self.camera = camera
        self.rooms: dict[str, m.Room] = {}
        self.room: str | None = None
        self._leaving: set[str] = set()
        self.floors: dict[str, FloorView] = {}
        self.links: dict[str, Link] = {}
        self.muted = False
        self.camera_off = camera is None
        self.listeners: list[Callable[[], None]] = []
        #: Pictures of a participant (``frame`` None: this console's own camera, as sent).
        self.on_video: Callable[[str, Image | None, av.VideoFrame | None], None] | None = None
        self.on_audio: Callable[[str, Samples, float], None] | None = None
        self.on_talk_audio: Callable[[Samples, float], None] | None = None
        self.video_size: Callable[[str], tuple[int, int]] = lambda _pid: (0, 0)
        self._media: MediaLoop | None = None
        self._relay: MediaRelay | None = None
        self._owner: asyncio.AbstractEventLoop | None = None
        self._requests: dict[str, asyncio.Future[m.Room]] = {}
        self._links_wanted: asyncio.Future[m.GuestLink] | None = None
        # True until the first session: what was joined before it is joined then.
        self._was_offline = True
        self._tasks: set[asyncio.Future[None]] = set()
        self._unsubscribe = sync.store.subscribe(self._on_event)

    # -- plumbing --------------------------------------------------------------------------------
    @property
    def media(self) -> MediaLoop:
        if self._media is None:
            self._media = MediaLoop("cityops-calls")
        return self._media

    @property
    def participant_id(self) -> str:
        """How the server knows this console in talk groups and rooms."""
        return f"{self.sync.principal.name}/{self.sync.instance}"

    def _changed(self) -> None:
        for listener in list(self.listeners):
            try:
                listener()
            except Exception:
                log.exception("call listener failed")

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _mic(self) -> MediaStreamTrack:
        """A new subscription to the microphone (one per link that sends it)."""
        if self._relay is None:
            self._relay = MediaRelay()
        return self._relay.subscribe(self.microphone, buffered=False)

    def _link(self, key: str, kind: Kind, target: str, **kwargs: Any) -> Link:
        owner = self._owner = asyncio.get_running_loop()

        async def offer(target_: str, sdp: str) -> tuple[tuple[str, str] | None, Exception | None]:
            # On the console's loop; the outcome is handed back whole, so a refusal that comes
            # after the link gave up waiting is not left unretrieved there.
            try:
                return await self.sync.open_media(target_, sdp, kind=kind), None
            except Exception as exc:
                return None, exc

        async def signal(kind_: str, target_: str, sdp: str) -> tuple[str, str]:
            answer, error = await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(offer(target_, sdp), owner))
            if error is not None:
                raise error
            assert answer is not None
            return answer

        async def close(request: str) -> None:
            if not owner.is_closed():
                await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(self.sync.close_media(request), owner))

        def on_state(state: LinkState, detail: str) -> None:
            if not owner.is_closed():
                owner.call_soon_threadsafe(self._changed)

        link = Link(kind, target, signal=signal, close=close, on_state=on_state, **kwargs)
        old = self.links.pop(key, None)
        if old is not None:
            self.media.submit(old.stop())
        self.links[key] = link
        self.media.call_soon(link.start)
        return link

    async def _drop_link(self, key: str) -> None:
        link = self.links.pop(key, None)
        if link is not None:
            await self.media.run(link.stop())

    # -- rooms -----------------------------------------------------------------------------------
    async def open_room(
        self, title: str, *, incident: int | None = None, invite: list[str] | None = None, timeout: float = 10.0
    ) -> m.Room:
        """Open a room (this console joins it); returns its first state. Raises
        :class:`CallRefused`, or :class:`ServerUnreachable` when offline."""
        request = uuid.uuid4().hex
        future: asyncio.Future[m.Room] = asyncio.get_running_loop().create_future()
        self._requests[request] = future
        try:
            await self.sync.room(m.RoomOpen(request=request, title=title, incident=incident, invite=invite or []))
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            raise ServerUnreachable(f"the server did not open the room within {timeout:.0f} s") from None
        finally:
            self._requests.pop(request, None)

    async def join(self, room: str) -> None:
        if self.room is not None and self.room != room:
            await self.leave()
        self._leaving.discard(room)
        await self.sync.room(m.RoomJoin(room=room))

    async def leave(self) -> None:
        room = self.room
        if room is None:
            return
        self._leaving.add(room)
        await self._left(room)
        # Offline: the server lets a console that does not come back go after its grace period.
        with contextlib.suppress(ServerUnreachable):
            await self.sync.room(m.RoomLeave(room=room))

    async def invite(self, keys: list[str]) -> None:
        if self.room is None:
            raise CallRefused("not_joined", "join a room first")
        await self.sync.room(m.RoomInvite(room=self.room, invite=keys))

    async def set_muted(self, muted: bool) -> None:
        self.muted = muted
        self._apply_local()
        await self._tell_mute()

    async def set_camera_off(self, off: bool) -> None:
        self.camera_off = off or self.camera is None
        self._apply_local()
        await self._tell_mute()

    def _apply_local(self) -> None:
        self.microphone.muted = self.muted and not self._talking()
        if self.camera is not None and hasattr(self.camera, "off"):
            self.camera.off = self.camera_off

    async def _tell_mute(self) -> None:
        if self.room is not None:
            await self.sync.room(m.RoomMute(room=self.room, audio=not self.muted, video=not self.camera_off))
        self._changed()

    async def guest_link(self, name: str = "", timeout: float = 10.0) -> m.GuestLink:
        """A one-time browser link into the room this console is in."""
        if self.room is None:
            raise CallRefused("not_joined", "join a room first")
        future: asyncio.Future[m.GuestLink] = asyncio.get_running_loop().create_future()
        self._links_wanted = future
        try:
            await self.sync.room(m.RoomGuestLink(room=self.room, name=name))
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            raise ServerUnreachable(f"no guest link within {timeout:.0f} s") from None
        finally:
            self._links_wanted = None

    def _room_state(self, state: m.Room) -> None:
        if state.closed:
            self.rooms.pop(state.room, None)
        else:
            self.rooms[state.room] = state
        future = self._requests.get(state.request) if state.request else None
        if future is not None and not future.done():
            future.set_result(state)
        if state.room in self._leaving:
            # Left by the operator: states still in flight change nothing; the server's word
            # that this console is out ends the leaving.
            if not state.you or state.closed:
                self._leaving.discard(state.room)
            return
        if state.you and not state.closed:
            if self.room is not None and self.room != state.room:
                return  # one room at a time: the other one is left first by join()
            self.room = state.room
            self._reconcile(state)
        elif self.room == state.room:
            if state.closed:
                self._spawn(self._left(state.room))
            else:
                # Still in it as far as this console knows (it never left): the server let it
                # go while it was away. Back in; a refusal ends it.
                self._spawn(self._send_room(m.RoomJoin(room=state.room)))

    def _reconcile(self, state: m.Room) -> None:
        # A link the hub refused for good (it had forgotten this console after a long drop,
        # and the offer came before the console was back in the room) starts again.
        for key in [k for k, link in self.links.items() if k != "talk" and link.state is LinkState.REFUSED]:
            del self.links[key]
        if "publish" not in self.links:
            send: dict[str, Callable[[], MediaStreamTrack]] = {"audio": self._mic}
            camera = self.camera
            if camera is not None:
                me = state.you

                def preview(image: Image) -> None:
                    if self.on_video is not None:
                        self.on_video(me, image, None)

                send["video"] = lambda: PreviewVideo(camera, preview, lambda: self.video_size(me))
            self._link("publish", "publish", state.room, send=send)
        wanted = {p.id for p in state.participants if p.id != state.you and p.publishing}
        for pid in wanted:
            key = f"participant:{pid}"
            if key not in self.links:
                self._subscribe(state.room, pid, key)
        for key in [k for k in self.links if k.startswith("participant:") and k.split(":", 1)[1] not in wanted]:
            self._spawn(self._drop_link(key))

    def _subscribe(self, room: str, pid: str, key: str) -> None:
        def audio(samples: Samples, level: float) -> None:
            if self.on_audio is not None:
                self.on_audio(pid, samples, level)

        def video(image: Image | None, frame: av.VideoFrame) -> None:
            if self.on_video is not None:
                self.on_video(pid, image, frame)

        self._link(
            key,
            "participant",
            f"{room}/{pid}",
            receive=("audio", "video"),
            on_audio=audio,
            on_video=video,
            target_size=lambda: self.video_size(pid),
        )

    async def _left(self, room: str) -> None:
        if self.room != room:
            return
        self.room = None
        for key in [k for k in self.links if k == "publish" or k.startswith("participant:")]:
            await self._drop_link(key)
        self._changed()

    # -- talk groups -----------------------------------------------------------------------------
    async def join_group(self, group: str) -> None:
        """Join a talk group. Offline, the console joins it as soon as it is back online."""
        self.floors[group] = FloorView(group)
        self._ensure_talk_link()
        try:
            await self.sync.talk(m.TalkJoin(group=group))
        except ServerUnreachable:
            self._was_offline = True  # joined with the others on the next session
        self._changed()

    async def leave_group(self, group: str) -> None:
        self.floors.pop(group, None)
        await self.sync.talk(m.TalkLeave(group=group))
        if not self.floors:
            await self._drop_link("talk")
        self._changed()

    async def press(self, group: str, *, emergency: bool = False) -> None:
        """Push to talk (or make an emergency call) in ``group``."""
        view = self.floors.get(group)
        if view is None:
            raise CallRefused("not_joined", f"join talk group {group} first")
        self.floors[group] = replace(view, state="requesting", note="", refused="")
        self._changed()
        await self.sync.talk(m.TalkRequest(group=group, emergency=emergency))

    async def release(self, group: str) -> None:
        view = self.floors.get(group)
        if view is None:
            return
        if view.state in ("requesting", "queued", "talking"):
            self.floors[group] = replace(view, state="listening" if view.talker and view.state != "talking" else "idle")
        self._apply_local()
        self._changed()
        await self.sync.talk(m.TalkRelease(group=group))

    async def revoke(self, group: str, reason: str = "") -> None:
        await self.sync.talk(m.TalkRevoke(group=group, reason=reason))

    def _talking(self) -> bool:
        return any(v.state == "talking" for v in self.floors.values())

    def _ensure_talk_link(self) -> None:
        if "talk" in self.links:
            return

        def heard(samples: Samples, level: float) -> None:
            if self.on_talk_audio is not None:
                self.on_talk_audio(samples, level)

        def gated() -> MediaStreamTrack:
            return GatedAudio(self._mic(), self._talking)

        self._link("talk", "talk", "", send={"audio": gated}, receive=("audio",), on_audio=heard)

    def _floor_event(self, group: str, message: m.Talk | m.TalkRefused) -> None:
        view = self.floors.get(group)
        if view is None:
            return
        if isinstance(message, m.TalkRefused):
            self.floors[group] = replace(view, refused=message.reason, state="idle" if not view.talker else "listening")
            if message.code in ("forbidden", "unknown_group"):
                self.floors[group] = replace(self.floors[group], joined=False)
            return
        event = message.event
        me = self.participant_id
        if isinstance(event, floor.Granted):
            view = replace(
                view,
                state="talking",
                talker=self.sync.principal.display_name or self.sync.principal.name,
                talker_id=me,
                emergency=event.emergency,
                queue_position=0,
                note="",
            )
        elif isinstance(event, floor.Taken):
            if event.talker != me:
                mine = view.state in ("requesting", "queued")
                view = replace(
                    view,
                    state=view.state if mine else "listening",
                    talker=event.name,
                    talker_id=event.talker,
                    emergency=event.emergency,
                )
        elif isinstance(event, floor.Idle):
            mine = view.state in ("requesting", "queued")
            view = replace(view, state=view.state if mine else "idle", talker="", talker_id="", emergency=False)
        elif isinstance(event, floor.Queued):
            view = replace(view, state="queued", queue_position=event.position)
        elif isinstance(event, floor.QueuePositions):
            if me in event.queue:
                view = replace(view, state="queued", queue_position=event.queue.index(me) + 1)
        elif isinstance(event, floor.Denied):
            view = replace(view, state="listening" if view.talker else "idle", note=event.reason.value)
        elif isinstance(event, floor.Revoked):
            if event.talker == me:
                view = replace(view, state="idle", talker="", talker_id="", note=event.cause.value)
        elif isinstance(event, floor.Released | floor.Cancelled) and event.by == me and view.state != "talking":
            view = replace(view, state="listening" if view.talker else "idle")
        self.floors[group] = view

    # -- events ----------------------------------------------------------------------------------
    def _on_event(self, event: Event) -> None:
        if isinstance(event, RoomChanged):
            message = event.message
            if isinstance(message, m.Room):
                self._room_state(message)
            elif isinstance(message, m.RoomRefused):
                future = self._requests.get(message.request) if message.request else None
                if future is not None and not future.done():
                    future.set_exception(CallRefused(message.code, message.reason))
                elif self.room == message.room and message.code in ("unknown_room", "closed", "forbidden"):
                    self._spawn(self._left(message.room))
            elif self._links_wanted is not None and not self._links_wanted.done():
                self._links_wanted.set_result(message)
            self._changed()
        elif isinstance(event, TalkChanged):
            self._floor_event(event.group, event.message)
            self._apply_local()
            self._changed()
        elif isinstance(event, ConnectionChanged):
            if event.state is ConnectionState.OFFLINE:
                self._was_offline = True
            elif event.state is ConnectionState.CATCHING_UP and self._was_offline:
                self._was_offline = False
                self._spawn(self._rejoin())

    async def _send_room(self, message: m.RoomMessage) -> None:
        with contextlib.suppress(ServerUnreachable):
            await self.sync.room(message)

    async def _rejoin(self) -> None:
        """Back after a drop: say again where this console is (the server may have kept it)."""
        try:
            for group in list(self.floors):
                await self.sync.talk(m.TalkJoin(group=group))
            if self.room is not None:
                await self.sync.room(m.RoomJoin(room=self.room))
        except ServerUnreachable:
            self._was_offline = True

    async def stop(self) -> None:
        self._unsubscribe()
        links = list(self.links.values())
        self.links.clear()
        if self._media is None:
            return
        if links:
            try:
                await asyncio.wait_for(
                    asyncio.gather(*(self._media.run(link.stop()) for link in links), return_exceptions=True), 10.0
                )
            except TimeoutError:
                log.warning("call links did not close within 10 s")
        media, self._media = self._media, None
        await asyncio.to_thread(media.stop)
