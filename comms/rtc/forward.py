"""Forwarding encoded media without decoding it: what a selective forwarding hub needs from
aiortc, which always decodes what it receives.

The hub's receivers get a *tap* in place of their jitter buffer (aiortc 1.16 private member,
set before the first packet): audio packets are handed on as they arrive (an Opus packet is a
whole 20 ms frame), video pictures as soon as their last packet is in
(:class:`~comms.rtc.peer.MarkerJitterBuffer`). Nothing reaches aiortc's decoder.

The hub's senders get :class:`AudioPacketTrack` (and the video
:class:`~comms.rtc.tracks.PacketTrack`): aiortc's sender packs an ``av.Packet`` into RTP
without encoding it again. :class:`AudioPacketTrack` gives the packets its own continuous
timestamps, so one outgoing stream can carry one source after another (the talkers of a talk
group) and the listener's decoder never sees a jump.

The listener's end releases each audio packet at once (:class:`ImmediateAudioBuffer`) instead
of aiortc's four-packet prefetch (80 ms); the playout buffer downstream absorbs the jitter."""

from __future__ import annotations

import fractions
from collections.abc import Callable
from typing import Any, Final

import av
from aiortc import RTCRtpReceiver
from aiortc.jitterbuffer import JitterBuffer, JitterFrame
from aiortc.rtp import RtpPacket

from comms.rtc.peer import MarkerJitterBuffer
from comms.rtc.tracks import Packet, QueuedPacketTrack

AUDIO_CLOCK: Final = 48_000
AUDIO_TIME_BASE: Final = fractions.Fraction(1, AUDIO_CLOCK)
VIDEO_TIME_BASE: Final = fractions.Fraction(1, 90_000)
#: Samples of one Opus frame (20 ms).
OPUS_FRAME: Final = 960
#: Audio packets a listener may have queued (100 ms); older ones are dropped to stay live.
MAX_AUDIO_QUEUE: Final = 5
#: A source that sent nothing for this long (seconds) gives way to another.
HANG_S: Final = 0.3

_JITTER = "_RTCRtpReceiver__jitter_buffer"


def is_keyframe(mime_type: str, data: bytes) -> bool:
    """Whether an encoded picture starts a decodable sequence: an H.264 picture (Annex B) with
    an IDR slice or a sequence parameter set; a VP8 key frame (RFC 6386 §9.1)."""
    mime = mime_type.lower()
    if mime == "video/h264":
        i = 0
        n = len(data)
        while True:
            i = data.find(b"\x00\x00\x01", i)
            if i < 0 or i + 3 >= n:
                return False
            if data[i + 3] & 0x1F in (5, 7):
                return True
            i += 3
    if mime == "video/vp8":
        return bool(data) and not data[0] & 0x01
    return False


class AudioTap(JitterBuffer):
    """Hands every audio packet (its payload, RTP timestamp, source and level) to ``sink`` at
    once and keeps nothing, so the receiver decodes nothing."""

    def __init__(self, sink: Callable[[RtpPacket], None]) -> None:
        super().__init__(capacity=16)
        self._sink = sink

    def add(self, packet: RtpPacket) -> tuple[bool, JitterFrame | None]:
        if packet.payload:
            self._sink(packet)
        return False, None


class VideoTap(MarkerJitterBuffer):
    """Reassembles pictures (released at their marker bit) and hands each one to ``sink``
    (data, RTP timestamp) instead of the decoder."""

    def __init__(self, sink: Callable[[bytes, int], None]) -> None:
        super().__init__(capacity=512, is_video=True)
        self._sink = sink
        #: The sender's SSRC, once a packet came (for keyframe requests).
        self.ssrc: int | None = None

    def add(self, packet: RtpPacket) -> tuple[bool, JitterFrame | None]:
        self.ssrc = packet.ssrc
        pli, frame = super().add(packet)
        if frame is not None:
            self._sink(frame.data, frame.timestamp)
        return pli, None


class ImmediateAudioBuffer(JitterBuffer):
    """A listener's audio buffer that releases each packet as it arrives (late ones dropped)."""

    def __init__(self) -> None:
        super().__init__(capacity=16)
        self._last: int | None = None

    def add(self, packet: RtpPacket) -> tuple[bool, JitterFrame | None]:
        seq = packet.sequence_number
        if self._last is not None and (seq - self._last) & 0xFFFF >= 0x8000:
            return False, None  # older than what was played
        self._last = seq
        return False, JitterFrame(data=packet._data, timestamp=packet.timestamp)  # type: ignore[attr-defined]


def tap(receiver: RTCRtpReceiver, buffer: JitterBuffer) -> None:
    """Put ``buffer`` in place of ``receiver``'s jitter buffer (before any packet arrives)."""
    if not hasattr(receiver, _JITTER):
        raise RuntimeError("this aiortc has no receiver jitter buffer to replace (aiortc 1.16 expected)")
    setattr(receiver, _JITTER, buffer)


def listen_immediately(receiver: RTCRtpReceiver) -> None:
    """An audio receiver that plays each packet as it comes (:class:`ImmediateAudioBuffer`)."""
    tap(receiver, ImmediateAudioBuffer())


class Unwrapper:
    """32-bit RTP timestamps to a growing count from the first one seen."""

    def __init__(self) -> None:
        self._first: int | None = None
        self._last = 0
        self._wraps = 0

    def __call__(self, timestamp: int) -> int:
        if self._first is None:
            self._first = timestamp
            self._last = timestamp
        if timestamp < self._last and self._last - timestamp > 0x80000000:
            self._wraps += 1
        elif timestamp > self._last and timestamp - self._last > 0x80000000:
            return ((self._wraps - 1) << 32) + timestamp - self._first  # a late packet from before a wrap
        self._last = timestamp
        return (self._wraps << 32) + timestamp - self._first


class AudioPacketTrack(QueuedPacketTrack):
    """Encoded Opus packets for one listener, fed on the loop's thread with :meth:`put`.

    The outgoing timestamps are the track's own: a packet from a new source (another talker)
    continues one frame after the last one sent, and a source keeps the stream for
    :data:`HANG_S` after its last packet before another may take it — so two talk groups
    speaking at once are heard one after the other, never interleaved."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self._source: Any = None
        self._offset = 0
        self._last_pts = -OPUS_FRAME
        self._last_at = 0.0

    @property
    def source(self) -> Any:
        return self._source

    def put(self, source: Any, payload: bytes, timestamp: int, now: float) -> bool:
        """Queue one packet of ``source`` (``timestamp``: its RTP timestamp unwrapped, see
        :class:`Unwrapper`); False when the stream belongs to another source right now."""
        if self.readyState != "live":
            return False
        if source != self._source:
            if self._source is not None and now - self._last_at < HANG_S:
                return False
            self._source = source
            self._offset = self._last_pts + OPUS_FRAME - timestamp
        pts = timestamp + self._offset
        if pts <= self._last_pts:
            return True  # a duplicate or a late packet: drop quietly
        self._last_pts = pts
        self._last_at = now
        if self._queue.qsize() >= MAX_AUDIO_QUEUE:
            self._queue.get_nowait()
            self.dropped += 1
        packet = av.Packet(payload)
        packet.pts = pts
        packet.time_base = AUDIO_TIME_BASE
        self._queue.put_nowait(packet)
        return True


def video_packet(data: bytes, pts: int, keyframe: bool) -> Packet:
    """An encoded picture as the video :class:`~comms.rtc.tracks.PacketTrack` takes it."""
    packet = av.Packet(data)
    packet.pts = pts
    packet.time_base = VIDEO_TIME_BASE
    packet.is_keyframe = keyframe
    return packet
