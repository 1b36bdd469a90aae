"""The console's end of one camera stream: a receive-only peer connection to the media hub,
the frames it decodes turned into images of the size the tile wants, and the stream kept up.

Runs on a :class:`comms.rtc.loop.MediaLoop`; aiortc decodes on a thread of its own. Each frame
is converted (and scaled, when the tile is not the stream's size) to BGRA once, on the media
thread, and handed to ``deliver``; the wall shows the newest and drops what it had not shown.
A stream that stops (no frame for :data:`STALL_S`) is reported stalled; after
:data:`DEAD_S` it is torn down and asked for again, with backoff, until it comes back or the
hub refuses it for good (no permission, unknown camera)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, cast

import av
import numpy as np
import numpy.typing as npt
from aiortc import RTCSessionDescription
from aiortc.mediastreams import MediaStreamError
from av.video.reformatter import VideoReformatter

from comms.rtc.kept import KeptUp, StreamState
from comms.rtc.peer import (
    SenderClock,
    close_quietly,
    new_peer_connection,
    prefer_h264,
    release_on_marker,
    without_bandwidth_estimation,
)

log = logging.getLogger(__name__)

#: Seconds without a frame before a live stream counts as stalled, and before it is renewed.
STALL_S = 2.0
DEAD_S = 5.0
#: Seconds for the first frame after the answer (ICE, DTLS, the next keyframe).
FIRST_FRAME_S = 10.0
#: How often the watchdog looks at a stream (seconds).
WATCH_S = 0.5

Image = npt.NDArray[np.uint8]
#: Offers an SDP for (camera, variant); returns (request id, answer SDP).
Signal = Callable[[str, str, str], Awaitable[tuple[str, str]]]
Close = Callable[[str], Awaitable[None]]


class CameraStream(KeptUp):
    """One camera on one tile. ``target_size`` gives the pixel size the tile wants (read for
    every frame: a resized tile gets the new size at once); ``deliver(image, sent_at,
    delay_ms)`` takes each BGRA image; ``on_state(state, detail)`` hears every change of
    state. All three are called on the media thread."""

    def __init__(
        self,
        camera_id: str,
        *,
        signal: Signal,
        close: Close,
        target_size: Callable[[], tuple[int, int]],
        deliver: Callable[[Image, float | None, float | None], None],
        on_state: Callable[[StreamState, str], None],
        variant: str = "main",
    ) -> None:
        super().__init__(f"camera {camera_id}", on_state)
        self.camera_id = camera_id
        self.variant = variant
        self._signal = signal
        self._close = close
        self._target_size = target_size
        self._deliver = deliver
        self._reformatter = VideoReformatter()
        self.frames = 0
        self.last_frame_at = 0.0

    def _was_healthy(self, started: float) -> bool:
        return bool(self.frames) and time.monotonic() - self.last_frame_at < DEAD_S * 2

    async def _session(self) -> None:
        pc = new_peer_connection()
        request: str | None = None
        try:
            transceiver = pc.addTransceiver("video", direction="recvonly")
            prefer_h264(transceiver)
            release_on_marker(transceiver.receiver)
            clock = SenderClock()
            clock.attach(transceiver.receiver)
            await pc.setLocalDescription(await pc.createOffer())
            offer = without_bandwidth_estimation(pc.localDescription.sdp)
            request, answer = await self._signal(self.camera_id, self.variant, offer)
            await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
            await self._receive(transceiver.receiver.track, clock)
        finally:
            if request is not None:
                try:
                    await self._close(request)
                except Exception:
                    log.debug("closing stream %s failed", request, exc_info=True)
            await close_quietly(pc)

    async def _receive(self, track: Any, clock: SenderClock) -> None:
        """Show every frame until the stream stops: a watchdog (twice a second) marks it stalled
        and ends it, rather than a timeout around every frame (a task and a timer each)."""
        started = time.monotonic()
        shown_before = self.frames

        async def pump() -> None:
            while True:
                self._show(await track.recv(), clock)

        receiving = asyncio.ensure_future(pump())
        try:
            while True:
                done, _ = await asyncio.wait({receiving}, timeout=WATCH_S)
                if done:
                    receiving.result()  # the track ended: re-raises MediaStreamError
                    return
                now = time.monotonic()
                if self.frames == shown_before:
                    if now - started >= FIRST_FRAME_S:
                        raise TimeoutError(f"no picture within {FIRST_FRAME_S:.0f} s")
                    continue
                idle = now - self.last_frame_at
                if idle >= DEAD_S:
                    raise TimeoutError(f"no picture for {idle:.0f} s")
                if idle >= STALL_S and self.state is StreamState.LIVE:
                    self._set(StreamState.STALLED, "no picture")
        finally:
            receiving.cancel()
            with contextlib.suppress(asyncio.CancelledError, MediaStreamError):
                await receiving

    def _show(self, frame: av.VideoFrame, clock: SenderClock) -> None:
        now = time.time()
        self.frames += 1
        self.last_frame_at = time.monotonic()
        if self.state is not StreamState.LIVE:
            self._set(StreamState.LIVE)
        width, height = self._target_size()
        if width <= 0 or height <= 0:
            return
        if (width, height) == (frame.width, frame.height):
            image = self._reformatter.reformat(frame, format="bgra").to_ndarray()
        else:
            image = self._reformatter.reformat(frame, width=width, height=height, format="bgra").to_ndarray()
        if not image.flags.c_contiguous:
            # Rows padded for alignment (a width that is not a multiple of 16): one compact copy.
            image = np.ascontiguousarray(image)  # type: ignore[assignment]
        sent_at = clock.sent_at(frame.pts) if frame.pts is not None else None
        delay = None if sent_at is None else max(0.0, (now - sent_at) * 1000.0)
        self._deliver(cast(Image, image), sent_at, delay)
