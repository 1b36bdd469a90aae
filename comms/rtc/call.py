"""The console's end of calls: what it sends (microphone, camera) and the peer connections to
the call hub — publishing into a room, receiving one participant, the talk link — each kept up
on its own.

Everything runs on a :class:`comms.rtc.loop.MediaLoop`. Received audio is released packet by
packet (:func:`comms.rtc.forward.listen_immediately`) and handed on decoded, 20 ms at a time,
with its level; received video is converted to BGRA at the size the tile wants, as the video
wall's streams are. A link whose connection fails, or that the hub ends, is offered again
with backoff until it comes back or the hub refuses it for good."""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import logging
import math
import time
from collections.abc import Awaitable, Callable
from typing import Any, Final

import av
import numpy as np
import numpy.typing as npt
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av.video.reformatter import VideoReformatter

from comms.rtc.forward import AUDIO_CLOCK, OPUS_FRAME, listen_immediately
from comms.rtc.kept import BACKOFF_MAX, KeptUp, StreamState
from comms.rtc.peer import close_quietly, new_peer_connection, prefer_h264, prefer_h264_then_vp8, release_on_marker

log = logging.getLogger(__name__)

FRAME_S: Final = OPUS_FRAME / AUDIO_CLOCK
#: RMS (of full scale) over which a received 20 ms frame counts as sound, not silence.
ONSET_RMS: Final = 0.02
#: Seconds a connection may take to come up after the answer.
CONNECT_S: Final = 10.0

Image = npt.NDArray[np.uint8]
Samples = npt.NDArray[np.int16]
#: Offers an SDP for (kind, target); returns (request id, answer SDP).
Signal = Callable[[str, str, str], Awaitable[tuple[str, str]]]
Close = Callable[[str], Awaitable[None]]


#: A link's states (those of a camera stream but stalled).
LinkState = StreamState


# == what the console sends ==================================================================
class LocalAudio(MediaStreamTrack):
    """The microphone as sent: 20 ms of 48 kHz mono at a time, in real time.

    ``capture`` (called for each frame with the number of samples wanted) gives the samples, or
    None when it has none (no microphone: silence is sent, so the link stays up). ``muted``
    sends silence. :meth:`tone` sends a test tone burst (a radio check; the benchmark measures
    mouth-to-ear on its onset), starting exactly at the next frame; :attr:`tone_at` is the
    capture time of its first sample."""

    kind = "audio"

    def __init__(self, capture: Callable[[int], Samples | None] | None = None) -> None:
        super().__init__()
        self.capture = capture
        self.muted = False
        self.level = 0.0
        self.tone_at: float | None = None
        self._tone: tuple[int, float, float] | None = None  # frames left, frequency, amplitude
        self._phase = 0.0
        self._start: float | None = None
        self._n = 0

    def tone(self, duration_s: float = 0.3, frequency: float = 1000.0, level: float = 0.5) -> None:
        self._tone = (max(1, round(duration_s / FRAME_S)), frequency, level)
        self.tone_at = None

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = time.time()
        due = self._start + self._n * FRAME_S
        delay = due - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        elif delay < -0.2:  # fell far behind (a busy machine): skip ahead, stay live
            self._n = int((time.time() - self._start) / FRAME_S)
            due = self._start + self._n * FRAME_S
        samples = self._samples(due)
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = AUDIO_CLOCK
        frame.pts = self._n * OPUS_FRAME
        frame.time_base = fractions.Fraction(1, AUDIO_CLOCK)
        self._n += 1
        return frame

    def _samples(self, at: float) -> Samples:
        if self._tone is not None:
            left, frequency, amplitude = self._tone
            t = np.arange(OPUS_FRAME) / AUDIO_CLOCK
            wave = amplitude * np.sin(2 * math.pi * frequency * t + self._phase)
            self._phase = (self._phase + 2 * math.pi * frequency * OPUS_FRAME / AUDIO_CLOCK) % (2 * math.pi)
            if self.tone_at is None:
                # A microphone hands over 20 ms once they are over: the burst's first sample
                # was captured one frame before this frame leaves.
                self.tone_at = at - FRAME_S
            self._tone = (left - 1, frequency, amplitude) if left > 1 else None
            samples: Samples = (wave * 32767).astype(np.int16)
        else:
            captured = self.capture(OPUS_FRAME) if self.capture is not None else None
            if captured is None or len(captured) != OPUS_FRAME:
                captured = np.zeros(OPUS_FRAME, dtype=np.int16)
            samples = captured
        if self.muted:
            samples = np.zeros(OPUS_FRAME, dtype=np.int16)
        self.level = rms(samples)
        return samples


class FrameVideo(MediaStreamTrack):
    """A camera as sent: pictures from ``draw(number, at)`` (yuv420p planes stacked, as
    :class:`app.sim.camera.SyntheticCamera` gives them) at ``fps``; a black picture while
    ``off``."""

    kind = "video"

    def __init__(self, draw: Callable[[int, float], npt.NDArray[np.uint8]], width: int, height: int, fps: int = 15):
        super().__init__()
        self.draw = draw
        self.width, self.height, self.fps = width, height, fps
        self.off = False
        self._start: float | None = None
        self._n = 0
        self._black: npt.NDArray[np.uint8] | None = None

    async def recv(self) -> av.VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = time.time()
        due = self._start + self._n / self.fps
        delay = due - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        elif delay < -2 / self.fps:
            self._n = int((time.time() - self._start) * self.fps)
        now = time.time()
        if self.off:
            if self._black is None:
                self._black = np.full((self.height * 3 // 2, self.width), 16, dtype=np.uint8)
                self._black[self.height :] = 128
            planes = self._black
        else:
            planes = self.draw(self._n, now)
        frame = av.VideoFrame.from_ndarray(planes, format="yuv420p")
        frame.pts = round((now - self._start) * 90_000)
        frame.time_base = fractions.Fraction(1, 90_000)
        self._n += 1
        return frame


class PreviewVideo(MediaStreamTrack):
    """``source`` as sent, and each picture also handed to ``show(image)`` at ``target_size()``
    (the console's own tile: what the others see of it). Not converted while the size is 0."""

    kind = "video"

    def __init__(
        self,
        source: MediaStreamTrack,
        show: Callable[[Image], None],
        target_size: Callable[[], tuple[int, int]],
    ) -> None:
        super().__init__()
        self.source = source
        self.show = show
        self.target_size = target_size
        self._reformatter = VideoReformatter()

    async def recv(self) -> av.VideoFrame:
        frame = await self.source.recv()
        assert isinstance(frame, av.VideoFrame)
        width, height = self.target_size()
        if width > 0 and height > 0:
            image = self._reformatter.reformat(frame, width=width, height=height, format="bgra").to_ndarray()
            self.show(np.ascontiguousarray(image))
        return frame


def rms(samples: npt.NDArray[Any]) -> float:
    """Root mean square of int16 samples, as a share of full scale."""
    if samples.size == 0:
        return 0.0
    x = samples.astype(np.float32) / 32768.0
    return float(np.sqrt(np.mean(x * x)))


# == a connection to the hub =================================================================
class Link(KeptUp):
    """One peer connection to the call hub, kept up.

    ``send`` make the local tracks (sent on ``sendrecv``/``sendonly`` transceivers; made anew
    for every connection, as aiortc stops a sender's track with its connection), ``receive``
    the kinds wanted back. Received audio goes to ``on_audio(samples, level)`` (mono int16, 20 ms
    at a time), received video to ``on_video(image, frame)`` at ``target_size()`` (None: not
    converted). ``on_state(state, detail)`` hears every change. All on the media loop."""

    def __init__(
        self,
        kind: str,
        target: str,
        *,
        signal: Signal,
        close: Close,
        send: dict[str, Callable[[], MediaStreamTrack]] | None = None,
        receive: tuple[str, ...] = (),
        on_audio: Callable[[Samples, float], None] | None = None,
        on_video: Callable[[Image | None, av.VideoFrame], None] | None = None,
        target_size: Callable[[], tuple[int, int]] | None = None,
        on_state: Callable[[LinkState, str], None] | None = None,
    ) -> None:
        super().__init__(f"{kind} {target}", on_state)
        self.kind, self.target = kind, target
        self._signal, self._close = signal, close
        self.send = send or {}
        self.receive = receive
        self.on_audio, self.on_video = on_audio, on_video
        self.target_size = target_size
        self.frames = 0
        self.audio_frames = 0
        self._reformatter = VideoReformatter()
        self._resampler = av.AudioResampler(format="s16", layout="mono", rate=AUDIO_CLOCK)

    def _was_healthy(self, started: float) -> bool:
        return asyncio.get_running_loop().time() - started > 10 * BACKOFF_MAX

    async def _session(self) -> None:
        pc = new_peer_connection()
        request: str | None = None
        try:
            for kind in ("audio", "video"):
                make = self.send.get(kind)
                track = make() if make is not None else None
                wanted = kind in self.receive
                if track is None and not wanted:
                    continue
                if track is not None:
                    transceiver = pc.addTransceiver(track, direction="sendrecv" if wanted else "sendonly")
                else:
                    transceiver = pc.addTransceiver(kind, direction="recvonly")
                if kind == "video":
                    # What is sent is H.264; what is received is whatever the participant sends.
                    (prefer_h264 if track is not None else prefer_h264_then_vp8)(transceiver)
                    release_on_marker(transceiver.receiver)
                else:
                    listen_immediately(transceiver.receiver)
            await pc.setLocalDescription(await pc.createOffer())
            request, answer = await self._signal(self.kind, self.target, pc.localDescription.sdp)
            await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
            await self._connected(pc)
            await self._pump(pc)
        finally:
            if request is not None:
                try:
                    await self._close(request)
                except Exception:
                    log.debug("closing %s failed", request, exc_info=True)
            await close_quietly(pc)

    async def _connected(self, pc: RTCPeerConnection) -> None:
        deadline = time.monotonic() + CONNECT_S
        while pc.connectionState != "connected":
            if pc.connectionState in ("failed", "closed"):
                raise ConnectionError(f"the connection {pc.connectionState}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"no connection within {CONNECT_S:.0f} s")
            await asyncio.sleep(0.02)
        self._set(LinkState.LIVE)

    async def _pump(self, pc: RTCPeerConnection) -> None:
        """Hand on what comes in until the connection or a received track ends."""
        tasks = [asyncio.ensure_future(self._watch(pc))]
        for transceiver in pc.getTransceivers():
            if transceiver.kind in self.receive:
                track = transceiver.receiver.track
                tasks.append(
                    asyncio.ensure_future(self._audio(track) if transceiver.kind == "audio" else self._video(track))
                )
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, MediaStreamError):
                    await task

    async def _watch(self, pc: RTCPeerConnection) -> None:
        ended = asyncio.Event()

        @pc.on("connectionstatechange")
        def _changed() -> None:
            if pc.connectionState in ("failed", "closed"):
                ended.set()

        if pc.connectionState not in ("failed", "closed"):
            await ended.wait()
        raise ConnectionError(f"the connection {pc.connectionState}")

    async def _audio(self, track: MediaStreamTrack) -> None:
        while True:
            frame = await track.recv()
            assert isinstance(frame, av.AudioFrame)
            for out in self._resampler.resample(frame):
                samples = out.to_ndarray().reshape(-1).astype(np.int16, copy=False)
                self.audio_frames += 1
                if self.on_audio is not None:
                    self.on_audio(samples, rms(samples))

    async def _video(self, track: MediaStreamTrack) -> None:
        while True:
            frame = await track.recv()
            assert isinstance(frame, av.VideoFrame)
            self.frames += 1
            if self.on_video is None:
                continue
            size = self.target_size() if self.target_size is not None else (0, 0)
            image: Image | None = None
            if size[0] > 0 and size[1] > 0:
                if size == (frame.width, frame.height):
                    converted = self._reformatter.reformat(frame, format="bgra").to_ndarray()
                else:
                    converted = self._reformatter.reformat(
                        frame, width=size[0], height=size[1], format="bgra"
                    ).to_ndarray()
                image = np.ascontiguousarray(converted)
            self.on_video(image, frame)


class OnsetDetector:
    """Notes when sound starts after silence in received audio (the benchmark's "ear")."""

    def __init__(self, threshold: float = ONSET_RMS) -> None:
        self.threshold = threshold
        self.onsets: list[float] = []
        self._loud = False

    def reset(self) -> None:
        """Forget what was heard (the next sound counts as an onset)."""
        self.onsets.clear()
        self._loud = False

    def __call__(self, samples: Samples, level: float) -> None:
        loud = level >= self.threshold
        if loud and not self._loud:
            self.onsets.append(time.time())
        self._loud = loud
