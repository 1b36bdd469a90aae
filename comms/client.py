"""The console's network side: login over HTTP and the sync channel over WebSocket, a thin
driver of :class:`comms.protocol.ClientConnection` on the ``websockets`` library."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from types import TracebackType

import httpx
import msgspec
import websockets
from websockets.asyncio.client import ClientConnection as WebSocket

from comms.protocol import ClientConnection
from comms.protocol.connection import MAX_SERVER_MESSAGE, ClientEvent
from comms.protocol.messages import Command, MediaOffer, RoomMessage, TalkMessage


class AuthError(Exception):
    """The server refused the credentials or the token."""


class ServerUnreachable(Exception):
    """The server could not be reached (network down, server stopped)."""


class MediaRefusedError(Exception):
    """The media hub did not take a stream request (or ended the stream); ``code`` is the
    protocol's machine-readable reason (see :class:`comms.protocol.messages.MediaRefused`)."""

    #: Codes that a new attempt will not change.
    FINAL = frozenset({"forbidden", "unknown_camera", "no_source", "invalid", "unknown_room", "unknown_participant"})

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason

    @property
    def final(self) -> bool:
        return self.code in self.FINAL


class LoginResult(msgspec.Struct, frozen=True):
    token: str
    expires_at: float
    user: str
    role: str
    street: str | None
    field: str | None
    display_name: str


def ws_url(server_url: str) -> str:
    """The sync channel's URL for a server's base URL (http → ws, https → wss)."""
    base = server_url.rstrip("/")
    if base.startswith("https://"):
        base = "wss://" + base[len("https://") :]
    elif base.startswith("http://"):
        base = "ws://" + base[len("http://") :]
    return base + "/ws/sync"


async def login(server_url: str, user: str, password: str, timeout: float = 10.0) -> LoginResult:
    """Sign in; returns the session token and who the server says we are."""
    try:
        async with httpx.AsyncClient(timeout=timeout) as http:
            response = await http.post(server_url.rstrip("/") + "/api/login", json={"user": user, "password": password})
    except httpx.HTTPError as exc:
        raise ServerUnreachable(f"cannot reach {server_url}: {exc}") from exc
    if response.status_code == 401:
        raise AuthError(response.json().get("message", "wrong user name or password"))
    if response.status_code != 200:
        raise AuthError(f"login failed with HTTP {response.status_code}: {response.text[:200]}")
    return msgspec.convert(response.json(), LoginResult)


@dataclass
class SyncChannel:
    """One open sync session. Use as an async context manager; iterate :meth:`events`."""

    url: str
    token: str
    last_seq: int
    client_name: str = ""
    open_timeout: float = 10.0
    instance: str = ""

    def __post_init__(self) -> None:
        self.protocol = ClientConnection()
        self._ws: WebSocket | None = None

    async def __aenter__(self) -> SyncChannel:
        connect = asyncio.ensure_future(
            websockets.connect(
                self.url,
                max_size=MAX_SERVER_MESSAGE,
                compression=None,
                open_timeout=self.open_timeout,
                ping_interval=15,
                ping_timeout=15,
                max_queue=64,
            )
        )
        try:
            # Shielded: websockets cannot clean up a handshake cancelled half-way (its socket
            # would leak); a cancelled caller lets the connect finish, then closes it.
            self._ws = await asyncio.shield(connect)
        except asyncio.CancelledError:
            done, _ = await asyncio.wait({connect}, timeout=self.open_timeout)
            if connect in done and not connect.cancelled() and connect.exception() is None:
                await connect.result().close()
            elif connect not in done:
                connect.cancel()
            raise
        except (OSError, websockets.exceptions.WebSocketException, TimeoutError) as exc:
            raise ServerUnreachable(f"cannot open the sync channel at {self.url}: {exc}") from exc
        self.protocol.hello(self.token, self.last_seq, self.client_name, self.instance)
        await self._flush()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._ws is not None:
            await self._ws.close()

    async def _flush(self) -> None:
        assert self._ws is not None
        for data in self.protocol.data_to_send():
            await self._ws.send(data)

    async def send(self, command: Command) -> None:
        """Send a command; its ack or reject comes through :meth:`events`."""
        self.protocol.command(command)
        await self._send_queued()

    async def offer_media(self, offer: MediaOffer) -> None:
        """Ask the media hub for a stream; the answer or refusal comes through :meth:`events`."""
        self.protocol.media_offer(offer)
        await self._send_queued()

    async def talk(self, message: TalkMessage) -> None:
        """A talk group message; the floor control's answers come through :meth:`events`."""
        self.protocol.talk(message)
        await self._send_queued()

    async def room(self, message: RoomMessage) -> None:
        """A conference room message; the room's state comes through :meth:`events`."""
        self.protocol.room(message)
        await self._send_queued()

    async def close_media(self, request: str) -> None:
        self.protocol.media_close(request)
        await self._send_queued()

    async def _send_queued(self) -> None:
        try:
            await self._flush()
        except websockets.exceptions.ConnectionClosed as exc:
            raise ServerUnreachable(f"the sync channel closed: {exc}") from exc

    async def events(self) -> AsyncIterator[ClientEvent]:
        """The protocol events of what the server sends, until the channel closes."""
        assert self._ws is not None
        try:
            async for data in self._ws:
                yield self.protocol.receive(data)
        except websockets.exceptions.ConnectionClosedError as exc:
            if exc.rcvd is not None and exc.rcvd.code == 4401:
                raise AuthError("the server refused the session token") from exc
            raise ServerUnreachable(f"the sync channel closed: {exc}") from exc
        ws = self._ws
        if ws.close_code == 4401:
            raise AuthError("the server refused the session token")
        raise ServerUnreachable(f"the server closed the sync channel ({ws.close_code} {ws.close_reason})")
