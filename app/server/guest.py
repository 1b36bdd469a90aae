"""Browser guests: the page a one-time link opens, and its signaling WebSocket.

(Skeleton; filled in by the browser participant work.)"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI

from app.server.calls import CallHub


def add_guest_routes(app: FastAPI, calls: Callable[[], CallHub | None]) -> None:
    """``GET /call/{token}`` (the page) and ``/ws/call/{token}`` (its signaling)."""
