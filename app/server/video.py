"""The media hub's cameras: each source pulled once, encoded once per variant, forwarded to
every console that watches it.

A :class:`Pull` owns one camera's source on a thread of its own: it reads (or, for a synthetic
camera, draws) pictures at the source's pace and encodes them with H.264 for each variant
somebody watches — ``main`` (the source's size, up to 1280×720) and ``sub`` (half of it, for
small tiles). The encoded packets go to every viewer's :class:`PacketTrack` unchanged, so ten
consoles on one camera cost one decode and one encode. A pull without viewers lingers a few
seconds (a console switching layouts comes straight back) and then closes its source.

Sources: ``synthetic:`` (the simulator's street scene with the camera's name and a clock burnt
in, :mod:`app.sim.camera`), a file (played in a loop, like a camera), or any URL FFmpeg opens
(``rtsp://``, ``http://``...). A source that fails or ends is opened again with backoff; its
viewers keep their connections and see the pictures come back.

:class:`VideoHub` runs everything on its own :class:`MediaLoop`, off the server's event loop,
and answers the consoles' WebRTC offers, which arrive over the sync channel."""

from __future__ import annotations

import asyncio
import fractions
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import av
from aiortc import RTCPeerConnection, RTCSessionDescription
from av.video.reformatter import VideoReformatter

from comms.rtc.loop import MediaLoop
from comms.rtc.peer import H264, close_quietly, new_peer_connection
from comms.rtc.tracks import Packet, PacketTrack

log = logging.getLogger(__name__)

VARIANTS: Final = ("main", "sub")
#: Pictures per second of synthetic cameras, and the most any source is sent at.
FPS: Final = 15
#: Seconds a pull without viewers keeps its source open.
LINGER_S: Final = 5.0
#: Bits per second per pixel per picture (≈ 1 Mbit/s for 640×360 at 15 fps).
BITS_PER_PIXEL: Final = 0.3
MAX_MAIN: Final = (1280, 720)
SYNTHETIC_SIZE: Final = (640, 360)
#: A keyframe at least this often (seconds), so a lost packet heals by itself.
KEYFRAME_INTERVAL_S: Final = 2.0
BACKOFF_START: Final = 1.0
BACKOFF_MAX: Final = 15.0
TIME_BASE: Final = fractions.Fraction(1, 90_000)


class VideoError(Exception):
    """A stream the hub cannot give; ``code`` as in :class:`comms.protocol.messages.MediaRefused`."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class CameraSource:
    """Where a camera's pictures come from: ``main`` and, when the camera has one, a
    ``sub`` stream URL (else the hub scales the main one down)."""

    camera_id: str
    name: str
    main: str
    sub: str | None = None


# == reading pictures ========================================================================
def _synthetic_frames(source: CameraSource, stop: threading.Event) -> Iterator[tuple[av.VideoFrame, float]]:
    from app.sim.camera import SyntheticCamera  # the simulator's scene, only when one is watched

    camera = SyntheticCamera(source.camera_id, source.name, width=SYNTHETIC_SIZE[0], height=SYNTHETIC_SIZE[1])
    period = 1.0 / FPS
    start = time.time()
    n = 0
    while not stop.is_set():
        due = start + n * period
        now = time.time()
        if due > now:
            stop.wait(due - now)
            now = time.time()
        elif now - due > 2 * period:  # fell behind (a busy machine): skip, stay live
            n = int((now - start) / period)
        frame = av.VideoFrame.from_ndarray(camera.frame(n, now), format="yuv420p")
        yield frame, now
        n += 1


def _is_file(url: str) -> bool:
    return "://" not in url or url.startswith("file://")


def _av_frames(url: str, stop: threading.Event) -> Iterator[tuple[av.VideoFrame, float]]:
    """Decoded pictures of a file or stream, at its own pace (a file is played in real time)."""
    path = url[len("file://") :] if url.startswith("file://") else url
    if _is_file(url) and not Path(path).exists():
        raise FileNotFoundError(f"no such video file: {path}")
    options = {"rtsp_transport": "tcp"} if url.startswith("rtsp") else {}
    container = av.open(path, options=options, timeout=(10.0, 5.0))
    try:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        while True:
            anchor: tuple[float, float] | None = None
            count = 0
            for frame in container.decode(stream):
                if stop.is_set():
                    return
                count += 1
                now = time.time()
                if frame.pts is not None and frame.time_base is not None:
                    t = float(frame.pts * frame.time_base)
                    if anchor is None or abs((anchor[0] + t - anchor[1]) - now) > 1.0:
                        anchor = (now, t)
                    due = anchor[0] + t - anchor[1]
                    if due > now:
                        stop.wait(due - now)
                        now = time.time()
                yield frame, now
            if not _is_file(url) or count == 0:
                return  # a live stream that ends is opened again by the caller
            container.seek(0)  # a file plays in a loop, like a camera that never stops
    finally:
        container.close()


def frames_of(source: CameraSource, stop: threading.Event) -> Iterator[tuple[av.VideoFrame, float]]:
    """The pictures of ``source`` with their capture times, until it ends or ``stop``."""
    if source.main.startswith("synthetic:"):
        return _synthetic_frames(source, stop)
    return _av_frames(source.main, stop)


# == encoding ================================================================================
class Encoder:
    """H.264 for one variant: x264 ``ultrafast``/``zerolatency``, constrained baseline, one
    slice per picture, SPS/PPS before every keyframe (so any viewer can start at one)."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        codec = av.CodecContext.create("libx264", "w")
        codec.width, codec.height = width, height
        codec.pix_fmt = "yuv420p"
        codec.time_base = TIME_BASE
        codec.framerate = fractions.Fraction(FPS, 1)
        codec.bit_rate = int(width * height * FPS * BITS_PER_PIXEL)
        codec.gop_size = int(FPS * KEYFRAME_INTERVAL_S)
        codec.thread_count = 1
        codec.profile = "Baseline"
        codec.options = {"preset": "ultrafast", "tune": "zerolatency", "level": "31"}
        self.codec = codec
        self._reformatter = VideoReformatter()
        self._t0: float | None = None
        self._last_pts = -1

    def encode(self, frame: av.VideoFrame, at: float, keyframe: bool) -> list[Packet]:
        if (frame.width, frame.height) != (self.width, self.height) or frame.format.name != "yuv420p":
            frame = self._reformatter.reformat(frame, width=self.width, height=self.height, format="yuv420p")
        if self._t0 is None:
            self._t0 = at
        pts = max(self._last_pts + 1, round((at - self._t0) * 90_000))
        self._last_pts = pts
        frame.pts = pts
        frame.time_base = TIME_BASE
        frame.pict_type = av.video.frame.PictureType.I if keyframe else av.video.frame.PictureType.NONE
        packets = list(self.codec.encode(frame))
        for p in packets:
            p.time_base = TIME_BASE
        return packets


def variant_size(variant: str, width: int, height: int) -> tuple[int, int]:
    """The encoded size of a variant for a source of ``width``×``height`` (even numbers)."""
    scale = min(1.0, MAX_MAIN[0] / width, MAX_MAIN[1] / height)
    if variant == "sub":
        scale /= 2
    return max(2, int(width * scale) // 2 * 2), max(2, int(height * scale) // 2 * 2)


# == one source, pulled once ==================================================================
class Pull:
    """One camera's source, opened once, encoded for the variants being watched.

    Viewers are added and removed on the hub's loop; the reading thread hands packets back to
    that loop. ``opens`` counts how often the source was opened (1 while it stays up)."""

    def __init__(self, source: CameraSource, loop: asyncio.AbstractEventLoop) -> None:
        self.source = source
        self.loop = loop
        self.viewers: dict[str, set[PacketTrack]] = {v: set() for v in VARIANTS}
        self._active = dict.fromkeys(VARIANTS, False)
        self._keyframe = dict.fromkeys(VARIANTS, False)
        self._stop = threading.Event()
        self.opens = 0
        self.frames = 0
        self.encoded = dict.fromkeys(VARIANTS, 0)
        self.state = "starting"
        self.error = ""
        self.idle_since: float | None = None
        self._thread = threading.Thread(target=self._run, name=f"pull {source.camera_id}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        for tracks in self.viewers.values():
            for track in tracks:
                track.end()

    def join(self, timeout: float) -> None:
        if self._thread.is_alive():
            self._thread.join(timeout)

    def add(self, variant: str, track: PacketTrack) -> None:
        self.viewers[variant].add(track)
        self._active[variant] = True
        self._keyframe[variant] = True
        self.idle_since = None

    def remove(self, variant: str, track: PacketTrack) -> None:
        self.viewers[variant].discard(track)
        self._active[variant] = bool(self.viewers[variant])
        if not any(self.viewers.values()):
            self.idle_since = time.monotonic()

    def want_keyframe(self, variant: str) -> None:
        self._keyframe[variant] = True

    @property
    def viewer_count(self) -> int:
        return sum(len(v) for v in self.viewers.values())

    def _deliver(self, variant: str, packets: list[Packet]) -> None:
        for track in list(self.viewers[variant]):
            for packet in packets:
                track.put(packet)

    def _run(self) -> None:
        backoff = BACKOFF_START
        while not self._stop.is_set():
            self.opens += 1
            encoders: dict[str, Encoder] = {}
            last_key = dict.fromkeys(VARIANTS, 0.0)
            try:
                for frame, at in frames_of(self.source, self._stop):
                    if self._stop.is_set():
                        break
                    if self.state != "live":
                        self.state, self.error = "live", ""
                    self.frames += 1
                    backoff = BACKOFF_START
                    for variant in VARIANTS:
                        if not self._active[variant]:
                            encoders.pop(variant, None)
                            continue
                        encoder = encoders.get(variant)
                        if encoder is None:
                            encoder = encoders[variant] = Encoder(*variant_size(variant, frame.width, frame.height))
                            self._keyframe[variant] = True
                        keyframe = self._keyframe[variant] or at - last_key[variant] >= KEYFRAME_INTERVAL_S
                        self._keyframe[variant] = False
                        if keyframe:
                            last_key[variant] = at
                        packets = encoder.encode(frame, at, keyframe)
                        if packets:
                            self.encoded[variant] += 1
                            self.loop.call_soon_threadsafe(self._deliver, variant, packets)
                if self._stop.is_set():
                    break
                self.state, self.error = "reconnecting", "the source ended"
            except Exception as exc:  # FFmpeg, network, a broken file: report, retry
                self.state, self.error = "reconnecting", f"{type(exc).__name__}: {exc}"
                log.info("camera %s: source failed: %s", self.source.camera_id, self.error)
            if self._stop.wait(backoff):
                break
            backoff = min(BACKOFF_MAX, backoff * 2)
        self.state = "closed"


# == the hub ==================================================================================
@dataclass
class Viewing:
    """One console's stream of one camera."""

    session: str
    request: str
    camera_id: str
    variant: str
    pc: RTCPeerConnection
    track: PacketTrack


class VideoHub:
    """Answers consoles' offers with streams of pulled cameras; everything on its own loop."""

    def __init__(self) -> None:
        self.media = MediaLoop("cityops-video-hub")
        self.pulls: dict[str, Pull] = {}
        self.viewings: dict[tuple[str, str], Viewing] = {}
        self._reaper = self.media.submit(self._reap())

    # -- called from the server's loop --------------------------------------------------------
    async def open(self, session: str, request: str, source: CameraSource, variant: str, sdp: str) -> str:
        """Answer a console's offer for ``source`` (permissions already checked)."""
        if variant not in VARIANTS:
            raise VideoError("invalid", f"unknown variant {variant!r}")
        return await self.media.run(self._open(session, request, source, variant, sdp))

    async def close(self, session: str, request: str) -> None:
        await self.media.run(self._close(session, request))

    async def close_session(self, session: str) -> None:
        await self.media.run(self._close_session(session))

    async def status(self) -> list[dict[str, Any]]:
        """What is pulled and watched, for the operations API and tests."""
        return await self.media.run(self._status())

    def shutdown(self) -> None:
        async def _all() -> None:
            for key in list(self.viewings):
                await self._close(*key)
            for pull in self.pulls.values():
                pull.stop()

        if self.media.running:
            try:
                self.media.submit(_all()).result(10)
            except Exception:
                log.warning("video hub shutdown was not clean", exc_info=True)
        for pull in self.pulls.values():
            pull.join(2.0)
        self.media.stop()

    # -- on the media loop --------------------------------------------------------------------
    async def _open(self, session: str, request: str, source: CameraSource, variant: str, sdp: str) -> str:
        key = (session, request)
        if key in self.viewings:
            await self._close(*key)
        pull = self.pulls.get(source.camera_id)
        if pull is None or pull.state == "closed":
            pull = self.pulls[source.camera_id] = Pull(source, asyncio.get_running_loop())
            pull.start()
        pc = new_peer_connection()
        track = PacketTrack(want_keyframe=lambda: pull.want_keyframe(variant))
        try:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
            transceivers = [t for t in pc.getTransceivers() if t.kind == "video"]
            if len(transceivers) != 1:
                raise VideoError("invalid", "the offer must ask for exactly one video stream")
            pc.addTrack(track)
            answer = await pc.createAnswer()
            await pc.setLocalDescription(answer)
        except VideoError:
            await close_quietly(pc)
            raise
        except Exception as exc:
            await close_quietly(pc)
            raise VideoError("invalid", f"the offer cannot be answered: {exc}") from exc
        sender = transceivers[0].sender
        codecs = [c.mimeType for c in transceivers[0]._codecs]
        if codecs and codecs[0] != H264:
            await close_quietly(pc)
            raise VideoError("invalid", f"the hub sends H.264; the offer prefers {codecs[0]}")
        # A viewer that lost a picture asks (PLI/FIR) for a keyframe: the shared encoder makes one.
        sender._send_keyframe = lambda: pull.want_keyframe(variant)  # type: ignore[method-assign]
        viewing = Viewing(session, request, source.camera_id, variant, pc, track)
        self.viewings[key] = viewing
        pull.add(variant, track)

        @pc.on("connectionstatechange")
        async def _changed() -> None:
            if pc.connectionState in ("failed", "closed") and self.viewings.get(key) is viewing:
                await self._close(*key)

        return str(pc.localDescription.sdp)

    async def _close(self, session: str, request: str) -> None:
        viewing = self.viewings.pop((session, request), None)
        if viewing is None:
            return
        pull = self.pulls.get(viewing.camera_id)
        if pull is not None:
            pull.remove(viewing.variant, viewing.track)
        viewing.track.stop()
        await close_quietly(viewing.pc)

    async def _close_session(self, session: str) -> None:
        for key in [k for k in self.viewings if k[0] == session]:
            await self._close(*key)

    async def _reap(self) -> None:
        """Close the sources nobody has watched for :data:`LINGER_S`."""
        while True:
            await asyncio.sleep(1.0)
            now = time.monotonic()
            for camera_id, pull in list(self.pulls.items()):
                if pull.idle_since is not None and now - pull.idle_since >= LINGER_S:
                    pull.stop()
                    del self.pulls[camera_id]

    async def _status(self) -> list[dict[str, Any]]:
        return [
            {
                "camera": camera_id,
                "state": pull.state,
                "error": pull.error,
                "opens": pull.opens,
                "frames": pull.frames,
                "encoded": dict(pull.encoded),
                "viewers": {v: len(t) for v, t in pull.viewers.items()},
            }
            for camera_id, pull in sorted(self.pulls.items())
        ]
