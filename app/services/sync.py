"""The console's sync service: keeps the local cache in step with the server and carries the
operator's commands to it, online or not.

* Connects, says ``hello(last_seq)``, applies the snapshot or the missed changes, then live
  changes, each batch in one cache transaction on the cache's worker thread (never on the
  event loop), then emits :class:`IncidentsChanged`.
* Commands go into the outbox with their optimistic effect first, then out on the channel when
  it is open; after a reconnect every pending command is sent again with the same key, so the
  server applies each exactly once. Rejections land in the conflict inbox.
* Reconnects with exponential backoff and jitter; resumes from ``last_seq``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal, ParamSpec, TypeVar

from app.domain import permissions, workflow
from app.domain.catalog import Catalog
from app.domain.model import Action, Incident
from app.domain.permissions import PermissionDenied, Principal
from app.services.events import (
    CommandSettled,
    ConnectionChanged,
    ConnectionState,
    DevicesChanged,
    DomainStore,
    IncidentsChanged,
    OutboxChanged,
    RoomChanged,
    TalkChanged,
)
from app.storage.cache import Conflict, ConsoleCache
from comms.client import AuthError, MediaRefusedError, ServerUnreachable, SyncChannel, ws_url
from comms.protocol import ProtocolError
from comms.protocol import messages as m

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

BACKOFF_START = 0.25
BACKOFF_MAX = 10.0
#: Seconds between background checkpoints of the cache's write-ahead logs.
CHECKPOINT_INTERVAL_S = 2.0


@dataclass(frozen=True)
class CommandReceipt:
    """What became of an operator's action right away: ``queued`` (offline, in the outbox),
    ``sent`` (on its way), or ``refused`` (not allowed here; never queued). ``result`` resolves
    with the server's decision."""

    key: str
    state: str
    reason: str
    result: asyncio.Future[CommandSettled]


class SyncService:
    def __init__(
        self,
        server_url: str,
        token: str,
        principal: Principal,
        cache: ConsoleCache,
        catalog: Catalog,
        store: DomainStore | None = None,
        *,
        client_name: str = "",
        relogin: Callable[[], Awaitable[str]] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.server_url = server_url
        self.token = token
        self.principal = principal
        self.cache = cache
        self.catalog = catalog
        self.store = store or DomainStore()
        self.client_name = client_name
        self.relogin = relogin
        self.clock = clock
        self.state = ConnectionState.OFFLINE
        self.last_sync_at: float | None = None
        #: This console run's own id: the server keeps its talk groups and rooms across a
        #: reconnect (a dropped network) when the same instance comes back.
        self.instance = uuid.uuid4().hex
        self._media: dict[str, asyncio.Future[str]] = {}
        #: Called with (request, code, reason) when the hub ends a stream it had answered.
        self.on_media_ended: Callable[[str, str, str], None] | None = None
        self._db = ThreadPoolExecutor(1, thread_name_prefix="cityops-cache")
        self._channel: SyncChannel | None = None
        self._send_lock = asyncio.Lock()
        self._waiting: dict[str, asyncio.Future[CommandSettled]] = {}
        self._task: asyncio.Task[None] | None = None
        self._checkpoints: asyncio.Task[None] | None = None
        self._welcome_seq = 0
        self._seq_waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._online_event = asyncio.Event()
        #: How each session began ("snapshot" or "changes"), for the status bar and tests.
        self.session_modes: list[str] = []

    # -- plumbing ------------------------------------------------------------------------------
    async def db(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a cache call on the cache's worker thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._db, lambda: fn(*args, **kwargs))

    def _rebase(self, incident: Incident, command: m.Command) -> Incident:
        return self._effect(incident, command, self.clock())

    def _effect(self, incident: Incident, command: m.Command, at: float) -> Incident:
        unit = command.unit
        if command.action is Action.DISPATCH and unit is None:
            unit = incident.unit or self.catalog.route(incident.category, incident.location.street)
        return workflow.apply(
            incident,
            command.action,
            actor=self.principal.name,
            at=at,
            standard=self.catalog.standard_for(incident.category),
            note=command.note,
            unit=unit,
            target_id=command.target_id,
        )

    def _set_state(self, state: ConnectionState, detail: str = "") -> None:
        if state is ConnectionState.ONLINE:
            self._online_event.set()
        else:
            self._online_event.clear()
        if state is self.state and not detail:
            return
        self.state = state
        self.store.emit(ConnectionChanged(state, detail, self.last_sync_at))

    async def _outbox_changed(self) -> None:
        size = await self.db(self.cache.outbox_size)
        conflicts = len(await self.db(self.cache.conflicts))
        self.store.emit(OutboxChanged(size, conflicts))

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._task = loop.create_task(self.run(), name="cityops-sync")
        self._checkpoints = loop.create_task(self._checkpoint_loop(), name="cityops-cache-checkpoints")

    async def _checkpoint_loop(self) -> None:
        while True:
            await asyncio.sleep(CHECKPOINT_INTERVAL_S)
            try:
                await asyncio.to_thread(self.cache.checkpoint)
            except Exception as exc:  # busy or locked: the next round will do it
                log.debug("cache checkpoint skipped: %s", exc)

    async def stop(self) -> None:
        if self._checkpoints is not None:
            self._checkpoints.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._checkpoints
            self._checkpoints = None
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            except Exception:  # e.g. websockets failing to clean up a connect cut short
                log.debug("the sync task ended with an error while stopping", exc_info=True)
            self._task = None
        self._db.shutdown(wait=True)

    async def run(self) -> None:
        """Stay connected until cancelled."""
        repaired = await self.db(self.cache.repair, self._rebase)
        if repaired:
            self.store.emit(IncidentsChanged(frozenset(repaired)))
        backoff = BACKOFF_START
        while True:
            self._set_state(ConnectionState.CONNECTING)
            try:
                await self._session()
                detail = "the server closed the session"
            except AuthError as refused:
                reason = str(refused)
                if self.relogin is not None:
                    try:
                        self.token = await self.relogin()
                        continue
                    except Exception as relogin_error:
                        reason = f"{reason}; signing in again failed: {relogin_error}"
                self._set_state(ConnectionState.AUTH_FAILED, reason)
                return
            except ServerUnreachable as exc:
                detail = str(exc)
            except _Resync as exc:
                detail = str(exc)
                backoff = BACKOFF_START
            finally:
                self._channel = None
                self._fail_media(ServerUnreachable("the sync channel closed"))
            if self.state is ConnectionState.ONLINE:
                backoff = BACKOFF_START
            self._set_state(ConnectionState.OFFLINE, detail)
            await asyncio.sleep(backoff * (0.5 + random.random()))
            backoff = min(BACKOFF_MAX, backoff * 2)

    async def _session(self) -> None:
        last_seq = await self.db(lambda: self.cache.last_seq)
        channel = SyncChannel(ws_url(self.server_url), self.token, last_seq, self.client_name, instance=self.instance)
        async with channel:
            async for event in channel.events():
                await self._on_event(channel, event)

    async def _on_event(self, channel: SyncChannel, event: Any) -> None:
        if isinstance(event, m.Snapshot):
            await self.db(self.cache.insert_snapshot, event.records)
        elif isinstance(event, m.Changes):
            changed = await self.db(self.cache.apply_changes, event.records, event.upto, self._rebase)
            self.last_sync_at = self.clock()
            if changed:
                self.store.emit(IncidentsChanged(frozenset(changed)))
            self._reached(event.upto)
        elif isinstance(event, m.Devices):
            await self.db(self.cache.put_devices, event.devices, event.full)
            self.store.emit(DevicesChanged(frozenset(d.id for d in event.devices), reset=event.full))
        elif isinstance(event, m.Ack):
            await self._settle(event.key, event.record, None)
        elif isinstance(event, m.Reject):
            await self._settle(event.key, None, (event.code, event.reason))
        elif isinstance(event, m.Talk | m.TalkRefused):
            self.store.emit(TalkChanged(event.group, event))
        elif isinstance(event, m.Room | m.RoomRefused | m.GuestLink):
            self.store.emit(RoomChanged(event))
        elif isinstance(event, m.MediaAnswer):
            future = self._media.pop(event.request, None)
            if future is not None and not future.done():
                future.set_result(event.sdp)
        elif isinstance(event, m.MediaRefused):
            future = self._media.pop(event.request, None)
            if future is not None and not future.done():
                future.set_exception(MediaRefusedError(event.code, event.reason))
            elif self.on_media_ended is not None:
                self.on_media_ended(event.request, event.code, event.reason)
        elif isinstance(event, m.Welcome):
            self._welcome_seq = event.seq
            self.session_modes.append(event.mode)
            # The channel first: whoever hears "catching up" may send on it at once (the calls
            # say again which talk groups and room this console is in).
            self._channel = channel
            self._set_state(ConnectionState.CATCHING_UP)
            if event.mode == "snapshot":
                await self.db(self.cache.begin_snapshot)
            await self._resend_pending(channel)
            if event.mode == "changes" and channel.protocol.last_seq >= event.seq:
                self._online()
        elif isinstance(event, m.SnapshotEnd):
            await self.db(self.cache.end_snapshot, event.seq, self._rebase)
            self.last_sync_at = self.clock()
            self.store.emit(IncidentsChanged(frozenset(), reset=True))
            self._reached(event.seq)
        elif isinstance(event, ProtocolError):
            # A gap or an out-of-order message: our copy can no longer be trusted to follow on;
            # start a fresh session from what the cache durably holds.
            raise _Resync(f"sync protocol error ({event.code}): {event.message}")
        elif isinstance(event, m.Error):
            log.warning("server error on the sync channel: %s: %s", event.code, event.message)
            if event.code == "unauthorized":
                raise AuthError(event.message)

    def _reached(self, seq: int) -> None:
        if self.state is ConnectionState.CATCHING_UP and seq >= self._welcome_seq:
            self._online()
        still = []
        for target, future in self._seq_waiters:
            if seq >= target and not future.done():
                future.set_result(None)
            elif not future.done():
                still.append((target, future))
        self._seq_waiters = still

    def _online(self) -> None:
        self.last_sync_at = self.clock()
        self._set_state(ConnectionState.ONLINE)

    async def _resend_pending(self, channel: SyncChannel) -> None:
        async with self._send_lock:
            pending = await self.db(self.cache.pending)
            for item in pending:
                await channel.send(item.command)
            if pending:
                await self.db(self.cache.mark_sent, [p.command.key for p in pending])

    async def _settle(self, key: str, record: Any, rejection: tuple[str, str] | None) -> None:
        incident_id = await self.db(self.cache.settle, key, record, self._rebase, rejection)
        if incident_id is None:
            return
        settled = CommandSettled(
            key,
            incident_id,
            rejection is None,
            rejection[0] if rejection else "",
            rejection[1] if rejection else "",
        )
        self.store.emit(IncidentsChanged(frozenset({incident_id})))
        self.store.emit(settled)
        await self._outbox_changed()
        future = self._waiting.pop(key, None)
        if future is not None and not future.done():
            future.set_result(settled)

    # -- what the console calls ----------------------------------------------------------------
    async def submit(
        self,
        incident_id: int,
        action: Action,
        note: str = "",
        *,
        unit: str | None = None,
        target_id: int | None = None,
        key: str | None = None,
    ) -> CommandReceipt:
        """Take an operator's action: check it here, write it and its effect to the outbox,
        send it when online. The receipt says what happened at once; ``result`` resolves with
        the server's decision."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[CommandSettled] = loop.create_future()
        command = m.Command(
            key=key or uuid.uuid4().hex,
            incident_id=incident_id,
            action=action,
            note=note,
            unit=unit,
            target_id=target_id,
        )
        incident = await self.db(self.cache.incident, incident_id)
        try:
            if not permissions.may(self.principal, action):
                raise PermissionDenied(f"{self.principal.role.value} may not {action.value}")
            if incident is None:
                raise LookupError(f"incident {incident_id} is not in this console's cache")
            effect = self._effect(incident, command, self.clock())
        except (workflow.WorkflowError, PermissionDenied, LookupError) as exc:
            reason = str(exc).strip("'\"")
            future.set_result(
                CommandSettled(command.key, incident_id, False, getattr(exc, "code", "not_found"), reason)
            )
            return CommandReceipt(command.key, "refused", reason, future)
        self._waiting[command.key] = future
        await self.db(self.cache.enqueue, command, effect)
        self.store.emit(IncidentsChanged(frozenset({incident_id})))
        await self._outbox_changed()
        channel = self._channel
        if channel is None:
            return CommandReceipt(command.key, "queued", "offline: the command waits in the outbox", future)
        try:
            async with self._send_lock:
                await channel.send(command)
            await self.db(self.cache.mark_sent, [command.key])
        except ServerUnreachable:
            return CommandReceipt(command.key, "queued", "connection lost: the command waits in the outbox", future)
        return CommandReceipt(command.key, "sent", "", future)

    # -- talk groups -------------------------------------------------------------------------
    async def talk(self, message: m.TalkMessage) -> None:
        """Send a talk group message (join, leave, push to talk, release, revoke); what the
        floor control decides comes back as :class:`TalkChanged` events. Raises
        :class:`ServerUnreachable` when offline: a talk group needs the connection."""
        channel = self._channel
        if channel is None:
            raise ServerUnreachable("offline: talk groups need the connection to the server")
        async with self._send_lock:
            await channel.talk(message)

    async def room(self, message: m.RoomMessage) -> None:
        """Send a conference room message; the room's state (or a refusal) comes back as
        :class:`RoomChanged` events. Raises :class:`ServerUnreachable` when offline."""
        channel = self._channel
        if channel is None:
            raise ServerUnreachable("offline: conference rooms need the connection to the server")
        async with self._send_lock:
            await channel.room(message)

    # -- media signaling ---------------------------------------------------------------------
    async def open_media(
        self,
        target: str,
        sdp: str,
        variant: str = "main",
        *,
        kind: Literal["camera", "publish", "participant", "talk"] = "camera",
        timeout: float = 10.0,
    ) -> tuple[str, str]:
        """Offer ``sdp`` to the media hub for ``target`` (a camera; for the calls a room, a
        room's participant, or nothing for the talk link); returns the stream's request id
        and the hub's answer. Raises :class:`MediaRefusedError` when the hub refuses, and
        :class:`ServerUnreachable` when offline or when no answer comes in time."""
        channel = self._channel
        if channel is None:
            raise ServerUnreachable("offline: video needs the connection to the server")
        request = uuid.uuid4().hex
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._media[request] = future
        offer = m.MediaOffer(
            request=request, kind=kind, target=target, sdp=sdp, variant="sub" if variant == "sub" else "main"
        )
        try:
            async with self._send_lock:
                await channel.offer_media(offer)
            return request, await asyncio.wait_for(future, timeout)
        except TimeoutError:
            await self.close_media(request)
            raise ServerUnreachable(f"the media hub did not answer within {timeout:.0f} s") from None
        finally:
            self._media.pop(request, None)

    async def close_media(self, request: str) -> None:
        """End a stream (best effort: a closed channel has ended it on the server already)."""
        self._media.pop(request, None)
        channel = self._channel
        if channel is None or request not in channel.protocol.media:
            return
        with contextlib.suppress(ServerUnreachable):
            async with self._send_lock:
                await channel.close_media(request)

    def _fail_media(self, error: Exception) -> None:
        for future in self._media.values():
            if not future.done():
                future.set_exception(error)
        self._media.clear()

    async def wait_online(self) -> None:
        """Until the service is online: welcomed and caught up."""
        await self._online_event.wait()

    async def wait_for_seq(self, seq: int) -> None:
        """Until the cache holds change ``seq`` (tests and tools)."""
        current = await self.db(lambda: self.cache.last_seq)
        if current >= seq:
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._seq_waiters.append((seq, future))
        await future

    async def incident(self, incident_id: int) -> Incident | None:
        return await self.db(self.cache.incident, incident_id)

    async def conflicts(self) -> list[Conflict]:
        return await self.db(self.cache.conflicts)

    async def resolve_conflict(self, n: int) -> None:
        await self.db(self.cache.resolve_conflict, n)
        await self._outbox_changed()


class _Resync(Exception):
    """Drop this session and start a new one from the cache's last change."""
