"""Peer connections as both ends make them: no external ICE servers (a district network has
no public STUN), H.264 for video (the hub forwards what it encoded once, and H.264 is cheap to
encode and decode), and the sender's report clock for the receiver's delay."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from aiortc import RTCConfiguration, RTCPeerConnection, RTCRtpReceiver, RTCRtpSender, RTCRtpTransceiver
from aiortc.jitterbuffer import JitterBuffer, JitterFrame
from aiortc.rtp import RtcpSrPacket

#: RTP clock rate of video.
VIDEO_CLOCK = 90_000
H264 = "video/H264"


def new_peer_connection() -> RTCPeerConnection:
    """A peer connection with host candidates only."""
    return RTCPeerConnection(RTCConfiguration(iceServers=[]))


def prefer_h264(transceiver: RTCRtpTransceiver) -> None:
    """Offer H.264 only (packetization mode 1), the codec the media hub forwards."""
    codecs = [
        c
        for c in RTCRtpSender.getCapabilities("video").codecs
        if c.mimeType == H264 and (c.parameters or {}).get("packetization-mode") == "1"
    ]
    transceiver.setCodecPreferences(codecs)


def prefer_h264_then_vp8(transceiver: RTCRtpTransceiver) -> None:
    """Offer H.264 first, VP8 second: what a conference hub may forward (it forwards what each
    participant sends, and a browser may only encode VP8)."""
    caps = RTCRtpSender.getCapabilities("video").codecs
    h264 = [c for c in caps if c.mimeType == H264 and (c.parameters or {}).get("packetization-mode") == "1"]
    vp8 = [c for c in caps if c.mimeType == "video/VP8"]
    transceiver.setCodecPreferences(h264 + vp8)


def without_bandwidth_estimation(sdp: str) -> str:
    """``sdp`` without the abs-send-time header extension and REMB feedback. The hub sends one
    encoding of a camera to all its viewers and cannot adapt it to one of them, so the
    receiver's bandwidth estimator (work on every packet) would estimate for nothing."""
    return "".join(
        line for line in sdp.splitlines(keepends=True) if "abs-send-time" not in line and "goog-remb" not in line
    )


class MarkerJitterBuffer(JitterBuffer):
    """aiortc's video jitter buffer, releasing a picture as soon as its last packet (the RTP
    marker bit, RFC 6184 §5.1) is in and nothing before it is missing.

    aiortc's own buffer releases a picture only when the first packet of the *next* one shows
    up: a whole frame interval later (67 ms at 15 fps). Out-of-order and missing packets are
    left to the base behaviour."""

    def _remove_frame(self, sequence_number: int) -> JitterFrame | None:
        packets = []
        timestamp = None
        for count in range(self.capacity):
            packet = self._packets[(self._origin + count) % self.capacity]  # type: ignore[operator]
            if packet is None:
                break
            if timestamp is None:
                timestamp = packet.timestamp
            elif packet.timestamp != timestamp:
                break  # a complete earlier picture: the base releases it
            packets.append(packet)
            if packet.marker:
                self.remove(count + 1)
                return JitterFrame(data=b"".join(p._data for p in packets), timestamp=timestamp)  # type: ignore[attr-defined]
        return super()._remove_frame(sequence_number)


def release_on_marker(receiver: RTCRtpReceiver) -> None:
    """Give a video receiver the :class:`MarkerJitterBuffer` (replacing aiortc 1.16's private
    buffer, before any packet arrives)."""
    if getattr(receiver, "_RTCRtpReceiver__jitter_buffer", None) is not None:
        receiver._RTCRtpReceiver__jitter_buffer = MarkerJitterBuffer(capacity=512, is_video=True)  # type: ignore[attr-defined]


class SenderClock:
    """Maps a received stream's RTP timestamps to the sender's wall clock, from the RTCP sender
    reports (RFC 3550 §6.4.1: an NTP time and the RTP timestamp of the same instant), so the
    receiver can tell how old a frame is. Both ends are expected to keep NTP time."""

    def __init__(self) -> None:
        self.wall: float | None = None
        self.rtp = 0
        self._mapper: Any = None

    def attach(self, receiver: RTCRtpReceiver) -> None:
        """Listen to ``receiver``'s sender reports (wrapping its RTCP handler).

        aiortc gives decoded frames ``pts`` counted from the stream's first RTP timestamp; its
        receiver's timestamp mapper (private, aiortc 1.16) holds that origin, read here to get
        the frame's RTP timestamp back."""
        self._mapper = getattr(receiver, "_RTCRtpReceiver__timestamp_mapper", None)
        handle = receiver._handle_rtcp_packet

        async def _handle(packet: Any) -> None:
            if isinstance(packet, RtcpSrPacket):
                ntp = packet.sender_info.ntp_timestamp
                self.wall = (ntp >> 32) - 2_208_988_800 + (ntp & 0xFFFFFFFF) / 2**32
                self.rtp = packet.sender_info.rtp_timestamp
            await handle(packet)

        receiver._handle_rtcp_packet = _handle  # type: ignore[method-assign]

    def sent_at(self, pts: int) -> float | None:
        """The sender's wall time of the decoded frame with ``pts``, once a report came."""
        origin = getattr(self._mapper, "_origin", None)
        if self.wall is None or not isinstance(origin, int):
            return None
        delta = (pts + origin - self.rtp) & 0xFFFFFFFF
        if delta >= 0x80000000:
            delta -= 0x100000000
        return self.wall + delta / VIDEO_CLOCK


async def close_quietly(pc: RTCPeerConnection) -> None:
    """Close ``pc``, whatever state it is in."""
    with contextlib.suppress(Exception):
        await asyncio.wait_for(pc.close(), 5.0)
