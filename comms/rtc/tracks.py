"""A video track of already-encoded packets: what the media hub hands to each viewer's
sender, so a source is encoded once whatever the number of viewers (aiortc's sender packs an
``av.Packet`` into RTP without encoding it again)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeAlias

import av
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

if TYPE_CHECKING:
    Packet: TypeAlias = av.Packet[Any]
else:
    Packet = av.Packet

#: Packets a viewer may have queued before it is considered behind (about 2 s at 15 fps).
MAX_QUEUE = 30
#: While a viewer waits for its first keyframe, the source is asked again this often (s): a
#: browser ignores a keyframe request that follows another within ~300 ms, and RTCP gets lost.
KEYFRAME_RETRY_S = 0.5


class QueuedPacketTrack(MediaStreamTrack):
    """Already-encoded packets for one receiver's sender, queued on the loop's thread: what
    :meth:`recv` hands aiortc's sender, which packs them into RTP without encoding them."""

    def __init__(self) -> None:
        super().__init__()
        self._queue: asyncio.Queue[Packet | None] = asyncio.Queue()
        self.sent = 0
        self.dropped = 0

    def end(self) -> None:
        """The source is gone for good: the receiver's sender stops."""
        self._queue.put_nowait(None)

    async def recv(self) -> Packet:
        if self.readyState != "live":
            raise MediaStreamError
        packet = await self._queue.get()
        if packet is None:
            self.stop()
            raise MediaStreamError
        self.sent += 1
        return packet


class PacketTrack(QueuedPacketTrack):
    """Encoded H.264 packets for one viewer, fed on the loop's thread with :meth:`put`.

    A viewer that falls behind loses the queue and waits for the next keyframe (a decoder
    cannot pick up in the middle of a group of pictures); ``want_keyframe`` is called so the
    source sends one soon."""

    kind = "video"

    def __init__(self, want_keyframe: Callable[[], None] | None = None) -> None:
        super().__init__()
        self._want_keyframe = want_keyframe
        self._synced = False
        self._asked = time.monotonic()

    def put(self, packet: Packet) -> None:
        if self.readyState != "live":
            return
        if not self._synced:
            if not packet.is_keyframe:
                self.dropped += 1
                now = time.monotonic()
                if self._want_keyframe is not None and now - self._asked >= KEYFRAME_RETRY_S:
                    self._asked = now
                    self._want_keyframe()
                return
            self._synced = True
        if self._queue.qsize() >= MAX_QUEUE:
            self.dropped += self._queue.qsize()
            while not self._queue.empty():
                self._queue.get_nowait()
            self._synced = packet.is_keyframe
            if not self._synced:
                self.dropped += 1
                if self._want_keyframe is not None:
                    self._asked = time.monotonic()
                    self._want_keyframe()
                return
        self._queue.put_nowait(packet)
