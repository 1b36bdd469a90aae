"""A connection to the media hub kept up on the media loop: offered, watched, and offered again
with backoff when it ends or fails, until it is stopped or the hub refuses it for good. The
video wall's camera streams and the calls' links are both kept this way."""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
from collections.abc import Callable

from aiortc.mediastreams import MediaStreamError

from comms.client import MediaRefusedError, ServerUnreachable

log = logging.getLogger(__name__)

BACKOFF_START = 0.5
BACKOFF_MAX = 8.0


class StreamState(enum.StrEnum):
    CONNECTING = "connecting"
    LIVE = "live"
    STALLED = "stalled"
    RECONNECTING = "reconnecting"
    REFUSED = "refused"
    CLOSED = "closed"


class KeptUp:
    """Subclasses give :meth:`_session` (one connection, until it ends) and may say, in
    :meth:`_was_healthy`, that the session that just ended had worked (backoff starts over).
    ``on_state(state, detail)`` hears every change of state, on the media loop."""

    def __init__(self, name: str, on_state: Callable[[StreamState, str], None] | None) -> None:
        self.name = name
        self._on_state = on_state
        self._task: asyncio.Task[None] | None = None
        self.state = StreamState.CLOSED
        self.attempts = 0

    def start(self) -> None:
        """Start on the running (media) loop."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        """Close for good."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._set(StreamState.CLOSED)

    def _set(self, state: StreamState, detail: str = "") -> None:
        if state is not self.state or detail:
            self.state = state
            if self._on_state is not None:
                try:
                    self._on_state(state, detail)
                except Exception:
                    log.exception("%s: state callback failed", self.name)

    async def _session(self) -> None:
        raise NotImplementedError

    def _was_healthy(self, started: float) -> bool:
        return False

    async def _run(self) -> None:
        backoff = BACKOFF_START
        loop = asyncio.get_running_loop()
        while True:
            self._set(StreamState.RECONNECTING if self.attempts else StreamState.CONNECTING)
            self.attempts += 1
            started = loop.time()
            try:
                await self._session()
                detail = "the connection ended"
            except MediaRefusedError as refused:
                if refused.final:
                    self._set(StreamState.REFUSED, refused.reason)
                    return
                detail = refused.reason
            except (ServerUnreachable, MediaStreamError, ConnectionError, TimeoutError) as exc:
                detail = str(exc) or type(exc).__name__
            except Exception as exc:  # aiortc raises plain exceptions for bad SDP and the like
                log.warning("%s: failed", self.name, exc_info=True)
                detail = f"{type(exc).__name__}: {exc}"
            if self._was_healthy(started):
                backoff = BACKOFF_START
            self._set(StreamState.RECONNECTING, detail)
            await asyncio.sleep(backoff)
            backoff = min(BACKOFF_MAX, backoff * 2)
