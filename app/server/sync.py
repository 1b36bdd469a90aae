"""One console's sync session on the server: the driver of :class:`comms.protocol.ServerConnection`
over a Starlette WebSocket.

Order of events: hello → authenticate → subscribe to live changes (buffered) → welcome →
snapshot or catch-up from the change log → the buffered and then live changes. Commands are
read concurrently and answered with ack or reject as the writer decides them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import msgspec
from starlette.websockets import WebSocket, WebSocketDisconnect

from app.domain.catalog import Catalog
from app.domain.devices import DeviceKind, DeviceView
from app.domain.permissions import Principal, Scope, scope_of
from app.domain.rooms import RoomError
from app.server.calls import CallError, CallHub, refusal_of
from app.server.hub import DeviceBatch, Hub, Subscriber
from app.server.talk import TalkHub, TalkRefusal
from app.server.video import CameraSource, VideoError, VideoHub
from app.server.writer import StoreUnavailable, Writer
from app.storage.server_store import ServerStore
from comms.protocol import ProtocolError, ServerConnection
from comms.protocol import messages as m

log = logging.getLogger(__name__)

SNAPSHOT_CHUNK = 5000
CATCH_UP_CHUNK = 5000
#: WebSocket close code for a session the server ends (policy violation).
CLOSE_UNAUTHORIZED = 4401
CLOSE_TOO_SLOW = 4408
#: Streams one console may hold at once (a 6×6 wall).
MAX_STREAMS = 36


_encode = msgspec.json.Encoder().encode


def principal_scope(catalog: Catalog, principal: Principal) -> Scope:
    """The scope of ``principal`` with its professional field resolved in the catalog."""
    field = principal.field or ""
    return scope_of(principal, catalog.categories_of_field(field), catalog.units_of_field(field))


class SyncSession:
    def __init__(
        self,
        websocket: WebSocket,
        store: ServerStore,
        catalog: Catalog,
        hub: Hub,
        writer: Writer,
        video: VideoHub | None = None,
        talk: TalkHub | None = None,
        calls: CallHub | None = None,
    ) -> None:
        self.ws = websocket
        self.video = video
        self.talk = talk
        self.calls = calls
        self.session_id = f"{id(self):x}"
        #: The participant this console is in talk groups and rooms: its instance (stable
        #: across reconnects) when it says one, else this session.
        self.pid = self.session_id
        self._resumable = False
        self._streams: set[str] = set()
        self._call_streams: set[str] = set()
        self.store = store
        self.catalog = catalog
        self.hub = hub
        self.writer = writer
        self.conn = ServerConnection()
        self._send_lock = asyncio.Lock()
        self.principal: Principal | None = None
        self.scope = Scope()

    async def _flush(self, extra: Sequence[bytes] = ()) -> None:
        data = [*self.conn.data_to_send(), *extra]
        if not data:
            return
        async with self._send_lock:
            for chunk in data:
                await self.ws.send_bytes(chunk)

    async def _receive(self) -> bytes | str:
        message = await self.ws.receive()
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000))
        data: bytes | str | None = message.get("bytes") or message.get("text")
        return data if data is not None else b""

    async def run(self) -> None:
        hello = await self._await_hello()
        if hello is None:
            return
        subscriber = Subscriber(self.scope, self.hub.device_view(self.scope))
        unsubscribe = self.hub.subscribe(subscriber)
        reader = asyncio.create_task(self._read_commands())
        try:
            await self._start(hello)
            await self._stream_live(subscriber, reader)
        finally:
            unsubscribe()
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError):
                await reader
            if self.talk is not None:
                try:
                    if self._resumable:
                        self.talk.disconnected(self.pid)
                    else:
                        await self.talk.leave_all(self.pid)
                except Exception:
                    log.warning("leaving the talk groups of a session failed", exc_info=True)
            if self.calls is not None:
                try:
                    if self._resumable:
                        self.calls.detach(self.pid)
                    else:
                        await self.calls.drop(self.pid)
                except Exception:
                    log.warning("leaving the rooms of a session failed", exc_info=True)
            if self.video is not None and self._streams:
                try:
                    await self.video.close_session(self.session_id)
                except Exception:
                    log.warning("closing the video streams of a session failed", exc_info=True)

    async def _await_hello(self) -> m.Hello | None:
        while True:
            event = self.conn.receive(await self._receive())
            await self._flush()
            if isinstance(event, m.Hello):
                principal = await asyncio.to_thread(self.store.session_user, event.token)
                if principal is None:
                    self.conn.error("unauthorized", "the session token is unknown or has expired; log in again")
                    await self._flush()
                    await self.ws.close(CLOSE_UNAUTHORIZED)
                    return None
                self.principal = principal
                self.scope = principal_scope(self.catalog, principal)
                if event.instance:
                    self.pid = f"{principal.name}/{event.instance[:64]}"
                    self._resumable = True
                return event

    async def _start(self, hello: m.Hello) -> None:
        assert self.principal is not None
        p = self.principal
        head = self.writer.published_seq
        earliest = await asyncio.to_thread(self.store.earliest_seq)
        catch_up = 0 < hello.last_seq <= head and hello.last_seq >= earliest - 1
        welcome = m.Welcome(
            v=m.VERSION,
            user=p.name,
            role=p.role.value,
            street=p.street,
            field=p.field,
            display_name=p.display_name,
            seq=head,
            mode="changes" if catch_up else "snapshot",
        )
        self.conn.welcome(welcome, last_seq=hello.last_seq)
        await self._flush()
        await self._resume_calls()
        if catch_up:
            await self._catch_up(head)
        else:
            await self._snapshot()
        await self._send_devices()

    async def _resume_calls(self) -> None:
        """Hand this session to the talk groups and rooms (a reconnecting console finds its
        groups, its floor and its rooms as it left them)."""
        assert self.principal is not None
        if self.talk is not None:
            await self.talk.reconnected(self.pid, self.principal, self._deliver_talk)
        if self.calls is not None:
            try:
                await self.calls.attach(self.pid, self.principal, self._deliver_room)
            except CallError as exc:
                log.warning("%s: %s", self.principal.name, exc)

    async def _deliver_room(self, message: msgspec.Struct) -> None:
        self.conn.send_message(message)
        await self._flush()

    async def _send_devices(self) -> None:
        """All the devices this user sees, after the incidents: read after the live
        subscription began, so a change published meanwhile follows this list."""
        view = DeviceView(self.scope, self.catalog)
        devices = await asyncio.to_thread(self.store.devices)
        self.conn.devices([d for d in devices if view.sees(d)], full=True)
        await self._flush()

    async def _snapshot(self) -> None:
        """Stream the snapshot from a reader thread, a few chunks ahead of the socket."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[int, int, bytes] | BaseException | None] = asyncio.Queue(maxsize=4)
        stop = threading.Event()

        def produce() -> None:
            def put(item: tuple[int, int, bytes] | BaseException | None) -> None:
                asyncio.run_coroutine_threadsafe(queue.put(item), loop).result()

            try:
                chunks: Iterator[tuple[int, Sequence[tuple[Any, ...]]]] = self.store.snapshot(
                    self.scope, SNAPSHOT_CHUNK
                )
                for seq, rows in chunks:
                    if stop.is_set():
                        return
                    records = [tuple(r) for r in rows]
                    put((seq, len(records), _encode(m.Snapshot(records=records)) if records else b""))
                put(None)
            except BaseException as exc:  # handed to the loop, which reports it
                with contextlib.suppress(Exception):
                    put(exc)

        thread = threading.Thread(target=produce, name="cityops-snapshot", daemon=True)
        thread.start()
        seq = self.writer.published_seq
        count = 0
        try:
            while True:
                item = await queue.get()
                if item is None:
                    break
                if isinstance(item, BaseException):
                    raise item
                seq, rows, data = item
                if rows:
                    count += rows
                    await self._flush([data])
        finally:
            stop.set()
            while not queue.empty():
                queue.get_nowait()
        self.conn.snapshot_end(seq, count)
        await self._flush()

    async def _catch_up(self, head: int) -> None:
        while self.conn.sent_seq < head:
            rows = await asyncio.to_thread(self.store.changes_after, self.conn.sent_seq, CATCH_UP_CHUNK)
            if not rows:
                break
            upto = min(rows[-1].seq, head)
            visible = [
                msgspec.Raw(r.record_json)
                for r in rows
                if r.seq <= upto and r.record_json != b"null" and self.scope.contains(r.street, r.category, r.unit)
            ]
            await self._send_changes(upto, visible)

    async def _send_changes(self, upto: int, records: list[msgspec.Raw]) -> None:
        self.conn.changes(upto, records)
        await self._flush()

    async def _stream_live(self, subscriber: Subscriber, reader: asyncio.Task[None]) -> None:
        while True:
            get = asyncio.ensure_future(subscriber.queue.get())
            done, _ = await asyncio.wait({get, reader}, return_when=asyncio.FIRST_COMPLETED)
            if reader in done:
                get.cancel()
                reader.result()  # re-raises the disconnect
                return
            batch = get.result()
            if batch is None:
                self.conn.error("too_slow", "this console fell too far behind; reconnect to catch up")
                await self._flush()
                await self.ws.close(CLOSE_TOO_SLOW)
                return
            if isinstance(batch, DeviceBatch):
                self.conn.devices(batch.devices, full=False)
                await self._flush()
                continue
            # Coalesce the changes that have queued up into one message (up to a device batch,
            # which keeps its place in the order).
            batches = [batch]
            while not subscriber.queue.empty():
                nxt = subscriber.queue.get_nowait()
                if nxt is None:
                    subscriber.queue.put_nowait(None)
                    break
                if isinstance(nxt, DeviceBatch):
                    self.conn.devices(nxt.devices, full=False)  # queued behind the changes below
                    deferred = self.conn.data_to_send()
                    break
                batches.append(nxt)
            else:
                deferred = []
            sent = self.conn.sent_seq
            records = [msgspec.Raw(p.record_json) for b in batches for p in b.items if p.seq > sent]
            await self._send_changes(batches[-1].upto, records)
            if deferred:
                await self._flush(deferred)

    async def _read_commands(self) -> None:
        assert self.principal is not None
        pending: set[asyncio.Task[None]] = set()
        while True:
            event = self.conn.receive(await self._receive())
            if isinstance(event, m.Command):
                task = asyncio.create_task(self._handle_command(event))
                pending.add(task)
                task.add_done_callback(pending.discard)
            elif isinstance(event, m.Ping):
                self.conn.pong(event.t)
                await self._flush()
            elif isinstance(event, m.MediaOffer):
                task = asyncio.create_task(self._handle_media(event))
                pending.add(task)
                task.add_done_callback(pending.discard)
            elif isinstance(event, m.TalkJoin | m.TalkLeave | m.TalkRequest | m.TalkRelease | m.TalkRevoke):
                # In order: a push-to-talk press and its release must not overtake each other.
                await self._handle_talk(event)
            elif isinstance(event, m.RoomOpen | m.RoomInvite | m.RoomJoin | m.RoomLeave | m.RoomMute | m.RoomGuestLink):
                await self._handle_room(event)
            elif isinstance(event, m.MediaClose):
                if event.request in self._call_streams and self.calls is not None:
                    self._call_streams.discard(event.request)
                    task = asyncio.create_task(self.calls.close_media(self.pid, event.request))
                    pending.add(task)
                    task.add_done_callback(pending.discard)
                elif event.request in self._streams and self.video is not None:
                    self._streams.discard(event.request)
                    task = asyncio.create_task(self.video.close(self.session_id, event.request))
                    pending.add(task)
                    task.add_done_callback(pending.discard)
            elif isinstance(event, ProtocolError):
                log.info("protocol error from %s: %s", self.principal.name, event.message)
                await self._flush()
            else:  # a second hello has been answered by the protocol with an error
                await self._flush()

    async def _camera(self, offer: m.MediaOffer) -> CameraSource:
        """The source of the camera asked for, if this user may watch it."""
        device = await asyncio.to_thread(self.store.device, offer.target)
        if device is None or device.kind is not DeviceKind.CAMERA:
            raise VideoError("unknown_camera", f"there is no camera {offer.target!r}")
        if not DeviceView(self.scope, self.catalog).sees(device):
            raise VideoError("forbidden", f"camera {device.id} is outside your jurisdiction (street {device.street})")
        source = await asyncio.to_thread(self.store.camera_source, device.id)
        if source is None:
            raise VideoError("no_source", f"camera {device.id} has no video source registered")
        return CameraSource(device.id, device.name, source[0], source[1])

    async def _deliver_talk(self, group: str, events: list[Any]) -> None:
        for event in events:
            self.conn.talk(group, event)
        await self._flush()

    async def _handle_talk(self, message: m.TalkMessage) -> None:
        assert self.principal is not None
        try:
            if self.talk is None:
                raise TalkRefusal("unavailable", "this server has no talk groups")
            if isinstance(message, m.TalkJoin):
                await self.talk.join(self.pid, self.principal, self.scope, self._deliver_talk, message.group)
            elif isinstance(message, m.TalkLeave):
                await self.talk.leave(self.pid, message.group)
            elif isinstance(message, m.TalkRequest):
                await self.talk.request(self.pid, message.group, message.emergency)
            elif isinstance(message, m.TalkRelease):
                await self.talk.release(self.pid, message.group)
            else:
                await self.talk.revoke(self.pid, message.group, message.reason)
        except TalkRefusal as exc:
            self.conn.talk_refused(message.group, exc.code, str(exc))
            with contextlib.suppress(WebSocketDisconnect, RuntimeError):
                await self._flush()

    async def _handle_room(self, message: m.RoomMessage) -> None:
        assert self.principal is not None
        room = getattr(message, "room", "")
        try:
            if self.calls is None:
                raise RoomError("unavailable", "this server has no conference rooms")
            if isinstance(message, m.RoomOpen):
                await self.calls.open_room(self.pid, message)
            elif isinstance(message, m.RoomInvite):
                await self.calls.invite(self.pid, message.room, message.invite)
            elif isinstance(message, m.RoomJoin):
                await self.calls.join(self.pid, message.room)
            elif isinstance(message, m.RoomLeave):
                await self.calls.leave(self.pid, message.room)
            elif isinstance(message, m.RoomMute):
                await self.calls.mute(self.pid, message.room, message.audio, message.video)
            else:
                base = str(self.ws.base_url).replace("ws://", "http://", 1).replace("wss://", "https://", 1)
                link = self.calls.issue_link(self.pid, message.room, message.name, base)
                self.conn.send_message(link)
        except Exception as exc:
            if not isinstance(exc, RoomError | CallError):
                log.exception("the call hub failed on %s", type(message).__name__)
            code, reason = refusal_of(exc)
            self.conn.room_refused(room, code, reason, getattr(message, "request", ""))
        with contextlib.suppress(WebSocketDisconnect, RuntimeError):
            await self._flush()

    async def _handle_call_media(self, offer: m.MediaOffer) -> None:
        try:
            if self.calls is None:
                raise CallError("unavailable", "this server has no call hub")
            self._call_streams.add(offer.request)
            answer = await self.calls.offer(self.pid, offer)
        except Exception as exc:
            self._call_streams.discard(offer.request)
            if not isinstance(exc, RoomError | CallError):
                log.exception("the call hub failed on an offer")
            code, reason = refusal_of(exc)
            self.conn.media_refused(offer.request, code, reason)
        else:
            self.conn.media_answer(offer.request, answer)
        with contextlib.suppress(WebSocketDisconnect, RuntimeError):
            await self._flush()

    async def _handle_media(self, offer: m.MediaOffer) -> None:
        if offer.kind != "camera":
            await self._handle_call_media(offer)
            return
        try:
            if self.video is None:
                raise VideoError("unavailable", "this server has no media hub")
            if len(self._streams) >= MAX_STREAMS and offer.request not in self._streams:
                raise VideoError("unavailable", f"a console may hold {MAX_STREAMS} streams at once")
            source = await self._camera(offer)
            self._streams.add(offer.request)
            answer = await self.video.open(self.session_id, offer.request, source, offer.variant, offer.sdp)
        except VideoError as exc:
            self._streams.discard(offer.request)
            self.conn.media_refused(offer.request, exc.code, str(exc))
        except Exception as exc:
            self._streams.discard(offer.request)
            log.exception("the media hub failed on an offer")
            self.conn.media_refused(offer.request, "unavailable", f"the media hub failed: {exc}")
        else:
            self.conn.media_answer(offer.request, answer)
        with contextlib.suppress(WebSocketDisconnect, RuntimeError):
            await self._flush()

    async def _handle_command(self, command: m.Command) -> None:
        assert self.principal is not None
        try:
            result = await self.writer.submit_command(self.principal, self.scope, command)
        except StoreUnavailable as exc:
            self.conn.reject(command.key, "store_unavailable", str(exc))
        else:
            if result.code is None:
                self.conn.ack(command.key, result.seq, result.record)
            else:
                self.conn.reject(command.key, result.code, result.reason or "")
        with contextlib.suppress(WebSocketDisconnect, RuntimeError):
            await self._flush()
