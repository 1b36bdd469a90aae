"""Browser guests: the page a one-time link opens, and its signaling WebSocket.

A guest is a person with only a browser (a street officer's phone) whom a participant of a
conference room let in with a one-time link (:meth:`app.server.calls.CallHub.issue_link`).

* ``GET /call/{token}`` — the call page (``resources/web/call.html``) while the link is unused
  and its room open; otherwise 410 with a short explanation. Opening the page does not use the
  link up (chat apps fetch links to preview them); its WebSocket does.
* ``GET /call/static/{name}`` — the page's script and style sheet.
* ``WS /ws/call/{token}`` — the guest's signaling. The link is used up when it connects: the
  guest joins the room and gets its ``room`` states (``you`` is its participant id). It may
  then send ``media_offer`` (``publish`` into its room, ``participant`` from someone in it;
  answered by ``media_answer`` or ``media_refused``), ``media_close``, ``room_mute``,
  ``room_leave`` and ``ping`` — the messages of :mod:`comms.protocol.messages`, as JSON text
  frames. A used or expired link is answered with an ``error`` and close code 4403. The guest
  leaves the room when the socket closes: the link cannot be used again, so there is no coming
  back.

The token in the path is the only credential, so the page is neither cached nor referred.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
from collections.abc import Callable
from functools import cache
from typing import Final

import msgspec
from fastapi import FastAPI, WebSocket, WebSocketDisconnect
from fastapi.responses import HTMLResponse, Response

from app.domain.rooms import Room, RoomError
from app.server.calls import CallError, CallHub, refusal_of
from comms.protocol import messages as m
from resources import WEB_DIR

log = logging.getLogger(__name__)

#: WebSocket close codes: the link is used, expired or its room ended; no call hub.
CLOSE_LINK_REFUSED: Final = 4403
CLOSE_UNAVAILABLE: Final = 1013
#: The largest message a guest may send (an offer's SDP is some 5–10 KiB).
MAX_MESSAGE: Final = 256 * 1024
#: Media connections one guest may hold at once (publishing, and one per participant).
MAX_STREAMS: Final = 20
MAX_REQUEST_ID: Final = 64

#: The page's files, by name, with their content types.
STATIC: Final = {"call.js": "text/javascript; charset=utf-8", "call.css": "text/css; charset=utf-8"}

#: Sent with every page and file: the token in the address must not leak, and the page loads
#: nothing but its own files (the district network has no internet anyway).
HEADERS: Final = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "media-src 'self' blob: mediastream:; connect-src 'self'; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'"
    ),
    "Permissions-Policy": "camera=(self), microphone=(self)",
}

GONE_PAGE: Final = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>城运会商</title></head>
<body style="font-family: sans-serif; margin: 3em 1.5em; color: #1f2937">
<h1 style="font-size: 1.3em">城运会商</h1>
<p>{message}</p>
<p style="color: #6b7280">{hint}</p>
</body></html>
"""
LINK_GONE: Final = "此链接已使用、已过期，或会商已结束。"
LINK_GONE_HINT: Final = "如需加入，请向会商主持人索取新的链接。"
NO_HUB: Final = "会商服务暂不可用。"
NO_HUB_HINT: Final = "请稍后再试，或联系区城运中心。"

GuestMessage = m.MediaOffer | m.MediaClose | m.RoomMute | m.RoomLeave | m.Ping
_decode_guest = msgspec.json.Decoder(GuestMessage).decode
_encode = msgspec.json.Encoder().encode


@cache
def _page_template() -> str:
    return (WEB_DIR / "call.html").read_text(encoding="utf-8")


@cache
def _static_file(name: str) -> bytes:
    return (WEB_DIR / name).read_bytes()


def call_page(title: str, guest: str) -> str:
    """The call page for a guest named ``guest`` in a room titled ``title``."""
    page = _page_template()
    page = page.replace("{{room_title}}", html.escape(title, quote=True))
    return page.replace("{{guest_name}}", html.escape(guest, quote=True))


def _gone(message: str, hint: str, status: int) -> HTMLResponse:
    body = GONE_PAGE.replace("{message}", message).replace("{hint}", hint)
    # The inline style of this small page needs its own policy.
    headers = {**HEADERS, "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"}
    return HTMLResponse(body, status_code=status, headers=headers)


class GuestSession:
    """One guest's signaling over one WebSocket, from the link to leaving."""

    def __init__(self, websocket: WebSocket, hub: CallHub) -> None:
        self.ws = websocket
        self.hub = hub
        self.pid = ""
        self.room: Room | None = None
        self.streams: set[str] = set()
        self._send_lock = asyncio.Lock()
        self._open = True
        self._left = False

    async def send(self, message: msgspec.Struct) -> None:
        """Send one message (JSON text); quietly nothing once the socket is gone."""
        if not self._open:
            return
        text = _encode(message).decode()
        async with self._send_lock:
            try:
                await self.ws.send_text(text)
            except (WebSocketDisconnect, RuntimeError, OSError):
                self._open = False

    async def error(self, code: str, message: str) -> None:
        await self.send(m.Error(code=code, message=message))

    async def run(self, token: str) -> None:
        try:
            self.pid, self.room = await self.hub.guest_enter(token, self.send)
        except RoomError as exc:
            await self.error(exc.code, str(exc))
            await self._close(CLOSE_LINK_REFUSED, "link refused")
            return
        log.info("guest %s joined room %s", self.pid, self.room.id)
        try:
            await self._serve()
        finally:
            self._open = False
            await self._leave()

    async def _leave(self) -> None:
        """Out of the room for good (the link is used up): once, however the session ends."""
        if self._left or self.room is None:
            return
        self._left = True
        try:
            await self.hub.guest_leave(self.pid)
        except Exception:
            log.warning("guest %s did not leave cleanly", self.pid, exc_info=True)
        log.info("guest %s left room %s", self.pid, self.room.id)

    async def _serve(self) -> None:
        while True:
            message = await self.ws.receive()
            if message["type"] == "websocket.disconnect":
                return
            text: str | None = message.get("text")
            data: bytes | None = text.encode() if text is not None else message.get("bytes")
            if not data:
                await self.error("invalid", "an empty message")
                continue
            if len(data) > MAX_MESSAGE:
                await self.error("invalid", f"a message may be at most {MAX_MESSAGE} bytes")
                continue
            try:
                decoded = _decode_guest(data)
            except msgspec.DecodeError as exc:
                await self.error(
                    "invalid", f"a guest sends media_offer, media_close, room_mute, room_leave, ping: {exc}"
                )
                continue
            if not await self._handle(decoded):
                # Out of the room before the page hears the socket close and says so.
                await self._leave()
                await self._close(1000, "left")
                return

    async def _handle(self, message: GuestMessage) -> bool:
        """Handle one message; False when the guest is done."""
        assert self.room is not None
        room = self.room.id
        if isinstance(message, m.Ping):
            await self.send(m.Pong(t=message.t))
        elif isinstance(message, m.MediaOffer):
            await self._offer(message)
        elif isinstance(message, m.MediaClose):
            self.streams.discard(message.request)
            await self.hub.close_media(self.pid, message.request)
        elif message.room != room:
            await self.error("forbidden", f"a guest is only in room {room}")
        elif isinstance(message, m.RoomMute):
            try:
                await self.hub.mute(self.pid, room, message.audio, message.video)
            except RoomError as exc:
                await self.error(exc.code, str(exc))
        else:  # RoomLeave
            return False
        return True

    async def _offer(self, offer: m.MediaOffer) -> None:
        assert self.room is not None
        room = self.room.id
        try:
            if not offer.request or len(offer.request) > MAX_REQUEST_ID:
                raise CallError("invalid", f"a request id has 1 to {MAX_REQUEST_ID} characters")
            if offer.kind == "publish":
                if offer.target != room:
                    raise CallError("forbidden", f"a guest sends only into room {room}")
            elif offer.kind == "participant":
                if not offer.target.startswith(f"{room}/"):
                    raise CallError("forbidden", f"a guest receives only from participants of room {room}")
            else:
                raise CallError("forbidden", f"a guest may not ask for {offer.kind!r}")
            if offer.request not in self.streams and len(self.streams) >= MAX_STREAMS:
                raise CallError("unavailable", f"a guest may hold {MAX_STREAMS} media connections at once")
            self.streams.add(offer.request)
            answer = await self.hub.offer(self.pid, offer)
        except Exception as exc:
            self.streams.discard(offer.request)
            if not isinstance(exc, RoomError | CallError):
                log.exception("the call hub failed on a guest's offer")
            code, reason = refusal_of(exc)
            await self.send(m.MediaRefused(request=offer.request, code=code, reason=reason))
        else:
            await self.send(m.MediaAnswer(request=offer.request, sdp=answer))

    async def _close(self, code: int, reason: str) -> None:
        self._open = False
        async with self._send_lock:
            with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
                await self.ws.close(code, reason)


def add_guest_routes(app: FastAPI, calls: Callable[[], CallHub | None]) -> None:
    """``GET /call/{token}`` (the page) and ``/ws/call/{token}`` (its signaling)."""

    @app.get("/call/static/{name}", include_in_schema=False)
    async def call_static(name: str) -> Response:
        media_type = STATIC.get(name)
        if media_type is None:
            return Response("not found", status_code=404, media_type="text/plain")
        body = await asyncio.to_thread(_static_file, name)
        return Response(body, media_type=media_type, headers=HEADERS)

    @app.get("/call/{token}", include_in_schema=False)
    async def call_page_route(token: str) -> HTMLResponse:
        hub = calls()
        if hub is None:
            return _gone(NO_HUB, NO_HUB_HINT, 503)
        ticket = hub.ticket(token)
        room = hub.rooms.get(ticket.room) if ticket is not None else None
        if ticket is None or room is None:
            return _gone(LINK_GONE, LINK_GONE_HINT, 410)
        page = await asyncio.to_thread(call_page, room.title, ticket.name)
        return HTMLResponse(page, headers=HEADERS)

    @app.websocket("/ws/call/{token}")
    async def call_signaling(websocket: WebSocket, token: str) -> None:
        await websocket.accept()
        hub = calls()
        if hub is None:
            refusal = m.Error(code="unavailable", message="this server has no call hub")
            with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
                await websocket.send_text(_encode(refusal).decode())
                await websocket.close(CLOSE_UNAVAILABLE)
            return
        with contextlib.suppress(WebSocketDisconnect):
            await GuestSession(websocket, hub).run(token)
