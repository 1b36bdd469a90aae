"""Live video end to end on 127.0.0.1: cameras registered with a source, the server's media hub
pulling each source once and forwarding H.264 over aiortc, consoles signaling over their sync
channel and decoding on their media thread. The synthetic camera burns a frame number and its
capture time into every picture, so the test reads back what it was sent."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import httpx
import pytest

from app.services.video import StreamState, VideoService
from app.sim.camera import Stamp, read_stamp_bgra
from integration.conftest import CAOYANG, CHANGSHOU, STREET_POINTS, scaled
from support.server import ServerProcess
from support.waiting import until

pytestmark = pytest.mark.timeout(180)


def age_ms(stamp: Stamp) -> float:
    """How long ago (ms) a picture was captured: its stamp keeps the time modulo 2**40 ms."""
    return (time.time() * 1000 - stamp.captured_ms) % 2**40


def camera(camera_id: str, street: str, source: str | None = "synthetic:", **extra: Any) -> dict[str, Any]:
    lon, lat = STREET_POINTS[street]
    body: dict[str, Any] = {
        "id": camera_id,
        "kind": "camera",
        "type": "high_altitude",
        "name": f"测试摄像机 {camera_id}",
        "lon": lon,
        "lat": lat,
        "street": street,
        "scenario": "",
        "attrs": {"tags": ["高空抛物"]},
    }
    if source is not None:
        body["source"] = source
    body.update(extra)
    return body


async def register(server: ServerProcess, *cameras: dict[str, Any]) -> None:
    async with httpx.AsyncClient(timeout=scaled(10)) as http:
        response = await http.post(f"{server.url}/api/devices", json=list(cameras), headers={"X-API-Key": server.key})
    assert response.status_code == 200, response.text
    assert response.json()["refused"] == []


async def hub_status(server: ServerProcess) -> dict[str, dict[str, Any]]:
    async with httpx.AsyncClient(timeout=scaled(10)) as http:
        response = await http.get(f"{server.url}/api/video/status", headers={"X-API-Key": server.key})
    assert response.status_code == 200, response.text
    return {p["camera"]: p for p in response.json()}


class Tile:
    """What a wall tile gets from the stream: images (from the media thread) and states."""

    def __init__(self, size: tuple[int, int] = (640, 360)) -> None:
        self.size = size
        self.lock = threading.Lock()
        self.stamps: list[Stamp] = []
        self.frames = 0
        self.unreadable = 0
        self.delays: list[float] = []
        self.states: list[tuple[StreamState, str]] = []

    def target_size(self) -> tuple[int, int]:
        return self.size

    def deliver(self, image: Any, sent_at: float | None, delay_ms: float | None) -> None:
        assert image.shape == (self.size[1], self.size[0], 4)
        stamp = read_stamp_bgra(image)
        with self.lock:
            self.frames += 1
            if stamp is None:
                self.unreadable += 1
            else:
                self.stamps.append(stamp)
            if delay_ms is not None:
                self.delays.append(delay_ms)

    def on_state(self, state: StreamState, detail: str) -> None:
        with self.lock:
            self.states.append((state, detail))

    @property
    def state(self) -> StreamState | None:
        with self.lock:
            return self.states[-1][0] if self.states else None

    def watch(self, video: VideoService, key: str, camera_id: str) -> None:
        video.watch(key, camera_id, target_size=self.target_size, deliver=self.deliver, on_state=self.on_state)


async def test_a_console_receives_a_synthetic_camera_through_the_hub(server: ServerProcess, consoles: Any) -> None:
    await register(server, camera("CAM-V1", CHANGSHOU))
    console = await consoles(server, "officer")
    await until(lambda: console.service.state.value == "online", timeout=scaled(20))
    video = VideoService(console.service)
    tile = Tile((480, 270))  # a 4×4 wall tile: scaled on the media thread
    try:
        tile.watch(video, "t0", "CAM-V1")
        await until(lambda: len(tile.stamps) >= 30, timeout=scaled(30))
        with tile.lock:
            numbers = [s.frame for s in tile.stamps]
            captured = [s.captured_ms for s in tile.stamps]
        # The burnt-in frame number advances, picture after picture, and so does the clock.
        assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
        assert numbers[-1] - numbers[0] >= 29
        assert captured == sorted(captured)
        # Pictures arrive fresh: captured moments ago on this machine's clock.
        assert age_ms(tile.stamps[-1]) < 2000
        assert tile.unreadable <= tile.frames // 10
        assert tile.state is StreamState.LIVE
        assert tile.delays, "the sender reports give the tile its delay"
        status = await hub_status(server)
        assert status["CAM-V1"]["state"] == "live"
        assert status["CAM-V1"]["viewers"] == {"main": 1, "sub": 0}
    finally:
        await video.stop()


async def test_two_consoles_share_one_pull_of_the_source(server: ServerProcess, consoles: Any) -> None:
    await register(server, camera("CAM-V2", CHANGSHOU))
    first = await consoles(server, "officer")
    second = await consoles(server, "changshou")
    await until(
        lambda: first.service.state.value == "online" and second.service.state.value == "online", timeout=scaled(20)
    )
    videos = [VideoService(first.service), VideoService(second.service)]
    tiles = [Tile(), Tile()]
    try:
        for video, tile in zip(videos, tiles, strict=True):
            tile.watch(video, "t0", "CAM-V2")
        await until(lambda: all(len(t.stamps) >= 15 for t in tiles), timeout=scaled(30))
        status = (await hub_status(server))["CAM-V2"]
        # One source opened once, one encoding, two viewers of it.
        assert status["opens"] == 1
        assert status["viewers"] == {"main": 2, "sub": 0}
        assert status["encoded"]["main"] <= status["frames"]
        # Both consoles see the same pictures: the same frame numbers went to both.
        with tiles[0].lock, tiles[1].lock:
            common = {s.frame for s in tiles[0].stamps} & {s.frame for s in tiles[1].stamps}
        assert len(common) >= 10
        await videos[0].unwatch("t0")

        async def one_viewer_left() -> bool:
            return bool((await hub_status(server))["CAM-V2"]["viewers"] == {"main": 1, "sub": 0})

        await until(one_viewer_left, timeout=scaled(10), what="the first console's viewer to be closed")
        frames = tiles[1].frames
        await until(lambda: tiles[1].frames >= frames + 10, timeout=scaled(10))
        assert (await hub_status(server))["CAM-V2"]["opens"] == 1
    finally:
        for video in videos:
            await video.stop()


async def test_a_street_operator_is_refused_another_streets_camera(server: ServerProcess, consoles: Any) -> None:
    await register(server, camera("CAM-CS", CHANGSHOU), camera("CAM-NOSRC", CAOYANG, source=None))
    console = await consoles(server, "caoyang")
    await until(lambda: console.service.state.value == "online", timeout=scaled(20))
    video = VideoService(console.service)
    other, missing, unknown = Tile(), Tile(), Tile()
    try:
        other.watch(video, "a", "CAM-CS")
        missing.watch(video, "b", "CAM-NOSRC")
        unknown.watch(video, "c", "CAM-NOWHERE")
        await until(lambda: all(t.state is StreamState.REFUSED for t in (other, missing, unknown)), timeout=scaled(20))
        assert "outside your jurisdiction" in other.states[-1][1]
        assert "no video source" in missing.states[-1][1]
        assert "no camera" in unknown.states[-1][1]
        assert other.frames == missing.frames == unknown.frames == 0
        # Nothing was pulled for a refused request.
        assert "CAM-CS" not in await hub_status(server)
    finally:
        await video.stop()


async def test_a_stream_that_dies_comes_back_by_itself(server: ServerProcess, consoles: Any) -> None:
    await register(server, camera("CAM-V3", CHANGSHOU))
    console = await consoles(server, "officer")
    await until(lambda: console.service.state.value == "online", timeout=scaled(20))
    video = VideoService(console.service)
    tile = Tile((320, 180))
    try:
        tile.watch(video, "t0", "CAM-V3")
        await until(lambda: len(tile.stamps) >= 10, timeout=scaled(30))
        # The server dies (as a crash would) and comes back a few seconds later.
        server.kill()
        before = tile.frames
        await until(lambda: tile.state in (StreamState.STALLED, StreamState.RECONNECTING), timeout=scaled(15))
        await asyncio.sleep(2.0)
        assert tile.frames - before <= 2
        server.start()
        await until(lambda: tile.frames > before + 15 and tile.state is StreamState.LIVE, timeout=scaled(60))
        seen = [s for s, _ in tile.states]
        assert StreamState.RECONNECTING in seen
        with tile.lock:
            assert age_ms(tile.stamps[-1]) < 2000
    finally:
        await video.stop()
