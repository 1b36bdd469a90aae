"""Live camera streams for the console's video wall: one :class:`CameraStream` per tile on a
media thread of its own, signaled through the sync channel.

The service is driven from the console's loop (Qt's, through qasync): :meth:`VideoService.watch`
puts a camera on a key (a tile), :meth:`VideoService.unwatch` takes it off. Decoding, scaling
and the network work of aiortc all happen on the media thread, so a busy wall never holds up
the console; the wall receives ready images through ``deliver`` and states through
``on_state``, both called on the media thread (the caller marshals to its own thread).

Also the cameras an incident should be seen from: :func:`nearest_cameras`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable

from app.domain.devices import Device, DeviceKind, DeviceState
from app.domain.geo import distance_m
from app.services.sync import SyncService
from comms.rtc.kept import StreamState
from comms.rtc.loop import MediaLoop
from comms.rtc.viewer import CameraStream, Image

log = logging.getLogger(__name__)

#: Tiles narrower than this get the sub-stream (pixels).
SUB_STREAM_MAX_WIDTH = 400

__all__ = ["Image", "StreamState", "VideoService", "nearest_cameras", "variant_for"]


def variant_for(width: int) -> str:
    """The stream that fits a tile ``width`` pixels wide."""
    return "sub" if width <= SUB_STREAM_MAX_WIDTH else "main"


def nearest_cameras(
    devices: Iterable[Device], lon: float, lat: float, *, count: int = 4, within_m: float = 1500.0
) -> list[Device]:
    """The cameras nearest to a place, nearest first, those working before those that are not,
    no farther than ``within_m``."""
    found = [
        (d.state in (DeviceState.OFFLINE, DeviceState.FAULT), distance_m(lon, lat, d.lon, d.lat), d.id, d)
        for d in devices
        if d.kind is DeviceKind.CAMERA
    ]
    near = sorted(f for f in found if f[1] <= within_m)
    return [f[3] for f in near[:count]]


class VideoService:
    """The console's camera streams, keyed by tile."""

    def __init__(self, sync: SyncService) -> None:
        self.sync = sync
        self._media: MediaLoop | None = None
        self._streams: dict[str, CameraStream] = {}
        self._owner: asyncio.AbstractEventLoop | None = None

    @property
    def media(self) -> MediaLoop:
        if self._media is None:
            self._media = MediaLoop("cityops-video")
        return self._media

    def watch(
        self,
        key: str,
        camera_id: str,
        *,
        target_size: Callable[[], tuple[int, int]],
        deliver: Callable[[Image, float | None, float | None], None],
        on_state: Callable[[StreamState, str], None],
        variant: str = "main",
    ) -> None:
        """Show ``camera_id`` on ``key`` (replacing what it showed). Call on the console's loop."""
        owner = self._owner = asyncio.get_running_loop()
        old = self._streams.pop(key, None)
        if old is not None:
            self.media.submit(old.stop())

        async def signal(camera: str, wanted: str, sdp: str) -> tuple[str, str]:
            return await asyncio.wrap_future(
                asyncio.run_coroutine_threadsafe(self.sync.open_media(camera, sdp, wanted), owner)
            )

        async def close(request: str) -> None:
            if owner.is_closed():
                return
            await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(self.sync.close_media(request), owner))

        stream = CameraStream(
            camera_id,
            signal=signal,
            close=close,
            target_size=target_size,
            deliver=deliver,
            on_state=on_state,
            variant=variant,
        )
        self._streams[key] = stream
        self.media.call_soon(stream.start)

    async def unwatch(self, key: str) -> None:
        """Stop what ``key`` shows."""
        stream = self._streams.pop(key, None)
        if stream is not None:
            await self.media.run(stream.stop())

    async def stop(self) -> None:
        """Close every stream and the media thread."""
        streams = list(self._streams.values())
        self._streams.clear()
        if self._media is None:
            return
        if streams:
            try:
                await asyncio.wait_for(
                    asyncio.gather(*(self._media.run(s.stop()) for s in streams), return_exceptions=True), 10.0
                )
            except TimeoutError:
                log.warning("video streams did not close within 10 s")
        media, self._media = self._media, None
        await asyncio.to_thread(media.stop)
