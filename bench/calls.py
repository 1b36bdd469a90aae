"""``cityops bench calls``: push-to-talk and conferences through the server's call hub, end to
end on this machine, against one bare aiortc hop measured in the same run (3GPP MCPTT KPIs,
TS 22.179 §6.15; ITU-T G.114 for the conference).

A server on 127.0.0.1; the consoles' real sync and call services in this process (no Qt), each
with its own media thread, as in a console:

* **PTT access** (KPI 1): from the push (``talk_request`` sent) to the grant arriving.
* **Mouth-to-ear** (KPI 3): the granted talker sends tone bursts; from the capture time of a
  burst's first sample to the listener's decoder handing out the first 20 ms frame that holds
  it (onset detection on the decoded sound). Two hops: talker → hub (forwarded, not decoded) →
  listener.
* **Late entry** (KPI 4): a talker holds the floor and talks; a console (its talk link up for
  another group) joins the group: from the join to the first sound decoded.
* **Conference join**: a third console joins a room where two publish: from the join to the
  first picture of both others decoded (signaling, two peer connections, keyframes).
* **Glass-to-glass**: three consoles in a room send 640×360 pictures at 15 fps with their
  capture time burnt in; from capture to the picture converted for the screen at each of the
  others.

Baseline, same run: one aiortc hop with aiortc's own defaults (two peer connections in one
process, audio and video, its jitter buffers), the same tone and pictures measured the same way.
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from app.domain.permissions import Principal, Role
from app.server.passwords import hash_password
from app.services.demo import wait_healthy
from app.storage.server_store import ServerStore
from bench import free_port, percentile, print_table

PASSWORD = "bench-password"
STREET = "310107015"
GROUP = f"street:{STREET}"
OTHER_GROUP = "street:310107005"
SIZE = (640, 360)
PTT_ROUNDS = 40
TONES = 40
LATE_ROUNDS = 20
JOIN_ROUNDS = 6
G2G_S = 12.0
USERS = [
    Principal("talker", Role.DISTRICT_OFFICER, display_name="值班员甲"),
    Principal("listener", Role.DISTRICT_OFFICER, display_name="值班员乙"),
    Principal("late", Role.DISTRICT_OFFICER, display_name="值班员丙"),
]


async def _until(check: Any, timeout: float = 10.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"bench calls: no {what} within {timeout:.0f} s")
        await asyncio.sleep(0.002)


class _Console:
    """Sync and call services of one console, with a microphone, a camera and ears."""

    def __init__(self, url: str, user: str, work: Path) -> None:
        self.url, self.user, self.work = url, user, work

    async def start(self) -> None:
        from app.services.calls import CallService
        from app.services.events import TalkChanged
        from app.services.sync import SyncService
        from app.sim.camera import SyntheticCamera, read_stamp_bgra
        from app.storage.cache import ConsoleCache
        from app.storage.catalog_file import read_catalog
        from comms.client import login
        from comms.rtc.call import FrameVideo, LocalAudio, OnsetDetector

        session = await login(self.url, self.user, PASSWORD)
        principal = Principal(session.user, Role(session.role), session.street, session.field, session.display_name)
        self.cache = ConsoleCache(self.work / f"{self.user}.db")
        self.sync = SyncService(self.url, session.token, principal, self.cache, read_catalog(), client_name=self.user)
        self.sync.start()
        camera = SyntheticCamera(f"bench-{self.user}", principal.display_name, width=SIZE[0], height=SIZE[1])
        self.camera = FrameVideo(camera.frame, *SIZE, fps=15)
        self.mic = LocalAudio()
        self.calls = CallService(self.sync, microphone=self.mic, camera=self.camera)
        self.ears = OnsetDetector()
        self.room_ears: dict[str, OnsetDetector] = {}
        self.g2g: list[float] = []
        self.first_picture: dict[str, float] = {}
        self.granted_at: float | None = None
        self.calls.on_talk_audio = self.ears
        self.calls.video_size = lambda _pid: SIZE

        def video(pid: str, image: Any, frame: Any) -> None:
            now = time.time()
            self.first_picture.setdefault(pid, time.perf_counter())
            if image is not None:
                stamp = read_stamp_bgra(image)
                if stamp is not None:
                    self.g2g.append((now * 1000.0 - stamp.captured_ms) % (1 << 40))

        self.calls.on_video = video

        def floor_event(event: Any) -> None:
            if isinstance(event, TalkChanged) and self.granted_at is None:
                from app.domain import floor
                from comms.protocol import messages as m

                if isinstance(event.message, m.Talk) and isinstance(event.message.event, floor.Granted):
                    self.granted_at = time.perf_counter()

        self.sync.store.subscribe(floor_event)
        await _until(lambda: self.sync.state.value == "online", 30, f"{self.user} online")

    async def stop(self) -> None:
        await self.calls.stop()
        await self.sync.stop()
        self.cache.close()


async def _talk(consoles: dict[str, _Console]) -> dict[str, list[float]]:
    from comms.protocol import messages as m

    talker, listener, late = consoles["talker"], consoles["listener"], consoles["late"]
    for c in (talker, listener):
        await c.calls.join_group(GROUP)
    await late.calls.join_group(OTHER_GROUP)
    for c in (talker, listener, late):
        await _until(lambda c=c: c.calls.links["talk"].state.value == "live", 15, "talk link")
    await asyncio.sleep(1.0)

    access: list[float] = []
    for _ in range(PTT_ROUNDS):
        talker.granted_at = None
        t0 = time.perf_counter()
        await talker.sync.talk(m.TalkRequest(group=GROUP))
        await _until(lambda: talker.granted_at is not None, 5, "grant")
        assert talker.granted_at is not None
        access.append((talker.granted_at - t0) * 1000)
        await talker.calls.release(GROUP)
        await _until(lambda: talker.calls.floors[GROUP].state == "idle", 5, "idle")
        await asyncio.sleep(0.05)

    await talker.calls.press(GROUP)
    await _until(lambda: talker.calls.floors[GROUP].state == "talking", 5, "grant")
    await asyncio.sleep(0.3)
    mouth: list[float] = []
    for _ in range(TONES):
        listener.ears.reset()
        talker.mic.tone(0.2)
        await _until(lambda: listener.ears.onsets, 5, "tone heard")
        assert talker.mic.tone_at is not None
        mouth.append((listener.ears.onsets[0] - talker.mic.tone_at) * 1000)
        await asyncio.sleep(0.25)

    late_entry: list[float] = []
    for _ in range(LATE_ROUNDS):
        talker.mic.tone(3.0)
        await asyncio.sleep(0.3)
        late.ears.reset()
        t0 = time.time()
        await late.calls.join_group(GROUP)
        await _until(lambda: late.ears.onsets, 5, "late entry")
        late_entry.append((late.ears.onsets[0] - t0) * 1000)
        await late.calls.leave_group(GROUP)
        await asyncio.sleep(0.2)
    await talker.calls.release(GROUP)
    return {"ptt_access_ms": access, "mouth_to_ear_ms": mouth, "late_entry_ms": late_entry}


async def _conference(consoles: dict[str, _Console]) -> dict[str, list[float]]:
    a, b, c = consoles["talker"], consoles["listener"], consoles["late"]
    room = await a.calls.open_room("基准会商", invite=["district"])
    await b.calls.join(room.room)
    await _until(lambda: sum(p.publishing for p in a.calls.rooms[room.room].participants) == 2, 15, "two publishing")
    joins: list[float] = []
    for _ in range(JOIN_ROUNDS):
        c.first_picture.clear()
        t0 = time.perf_counter()
        await c.calls.join(room.room)
        others = (a.calls.participant_id, b.calls.participant_id)

        def both(others: tuple[str, str] = others) -> bool:
            return all(p in c.first_picture for p in others)

        await _until(both, 10, "pictures of both others")
        joins.append((max(c.first_picture[p] for p in others) - t0) * 1000)
        await c.calls.leave()
        await asyncio.sleep(1.0)
    await c.calls.join(room.room)
    await _until(lambda: all(len(x.first_picture) >= 2 for x in (a, b, c)), 15, "all pictures")
    await asyncio.sleep(3.0)
    for x in (a, b, c):
        x.g2g.clear()
    await asyncio.sleep(G2G_S)
    return {"conference_join_ms": joins, "glass_to_glass_ms": [v for x in (a, b, c) for v in x.g2g]}


async def _baseline() -> dict[str, list[float]]:
    """One aiortc hop with aiortc's defaults: two peer connections in this process."""
    from aiortc import RTCSessionDescription

    from app.sim.camera import SyntheticCamera, read_stamp_bgra
    from comms.rtc.call import FrameVideo, LocalAudio, OnsetDetector, rms
    from comms.rtc.peer import new_peer_connection, prefer_h264

    sender, receiver = new_peer_connection(), new_peer_connection()
    mic = LocalAudio()
    camera = SyntheticCamera("bench-baseline", "baseline", width=SIZE[0], height=SIZE[1])
    video = FrameVideo(camera.frame, *SIZE, fps=15)
    sender.addTrack(mic)
    prefer_h264(sender.addTransceiver(video, direction="sendonly"))
    await sender.setLocalDescription(await sender.createOffer())
    await receiver.setRemoteDescription(sender.localDescription)
    await receiver.setLocalDescription(await receiver.createAnswer())
    await sender.setRemoteDescription(RTCSessionDescription(sdp=receiver.localDescription.sdp, type="answer"))
    ears = OnsetDetector()
    g2g: list[float] = []
    import av

    resampler = av.AudioResampler(format="s16", layout="mono", rate=48_000)

    async def hear(track: Any) -> None:
        while True:
            for out in resampler.resample(await track.recv()):
                samples = out.to_ndarray().reshape(-1)
                ears(samples.astype("int16"), rms(samples))

    async def see(track: Any) -> None:
        while True:
            frame = await track.recv()
            now = time.time()
            stamp = read_stamp_bgra(frame.to_ndarray(format="bgra"))
            if stamp is not None:
                g2g.append((now * 1000.0 - stamp.captured_ms) % (1 << 40))

    tasks = []
    for t in receiver.getTransceivers():
        tasks.append(asyncio.ensure_future(hear(t.receiver.track) if t.kind == "audio" else see(t.receiver.track)))
    await asyncio.sleep(2.0)
    mouth: list[float] = []
    for _ in range(TONES // 2):
        ears.reset()
        mic.tone(0.2)
        await _until(lambda: ears.onsets, 5, "baseline tone")
        assert mic.tone_at is not None
        mouth.append((ears.onsets[0] - mic.tone_at) * 1000)
        await asyncio.sleep(0.25)
    g2g.clear()
    await asyncio.sleep(G2G_S / 2)
    for task in tasks:
        task.cancel()
    await sender.close()
    await receiver.close()
    return {"mouth_to_ear_ms": mouth, "glass_to_glass_ms": list(g2g)}


async def _run(url: str, work: Path) -> dict[str, Any]:
    print("  baseline: one bare aiortc hop (audio and video) ...", flush=True)
    baseline = await _baseline()
    consoles = {u.name: _Console(url, u.name, work) for u in USERS}
    for c in consoles.values():
        await c.start()
    try:
        print("  talk group: PTT access, mouth-to-ear, late entry ...", flush=True)
        talk = await _talk(consoles)
        print("  conference: join, glass-to-glass with three consoles ...", flush=True)
        conference = await _conference(consoles)
    finally:
        for c in consoles.values():
            await c.stop()
    return {"baseline": baseline, **talk, **conference}


def run(n: int | None = None) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="cityops-bench-calls-"))
    print(f"bench calls: server and three consoles on this machine; work dir {work}", flush=True)
    data = work / "server"
    data.mkdir()
    store = ServerStore(f"sqlite:///{data / 'cityops.db'}")
    for user in USERS:
        store.add_user(user, hash_password(PASSWORD))
    store.close()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = open(data / "server.log", "ab")
    server = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "server", "--data-dir", str(data), "--port", str(port)],
        stdout=log,
        stderr=log,
    )
    try:
        wait_healthy(url)
        raw = asyncio.run(_run(url, work))
    finally:
        server.terminate()
        server.wait(15)
    base = raw["baseline"]
    results: dict[str, Any] = {
        "ptt_access_p50_ms": percentile(raw["ptt_access_ms"], 50),
        "ptt_access_p95_ms": percentile(raw["ptt_access_ms"], 95),
        "mouth_to_ear_p50_ms": percentile(raw["mouth_to_ear_ms"], 50),
        "mouth_to_ear_p95_ms": percentile(raw["mouth_to_ear_ms"], 95),
        "late_entry_p50_ms": percentile(raw["late_entry_ms"], 50),
        "late_entry_p95_ms": percentile(raw["late_entry_ms"], 95),
        "conference_join_ms": max(raw["conference_join_ms"]),
        "conference_join_median_ms": statistics.median(raw["conference_join_ms"]),
        "glass_to_glass_p50_ms": percentile(raw["glass_to_glass_ms"], 50),
        "glass_to_glass_p95_ms": percentile(raw["glass_to_glass_ms"], 95),
        "baseline_mouth_to_ear_p50_ms": percentile(base["mouth_to_ear_ms"], 50),
        "baseline_mouth_to_ear_p95_ms": percentile(base["mouth_to_ear_ms"], 95),
        "baseline_glass_to_glass_p50_ms": percentile(base["glass_to_glass_ms"], 50),
        "baseline_glass_to_glass_p95_ms": percentile(base["glass_to_glass_ms"], 95),
        "samples": {k: len(v) for k, v in raw.items() if isinstance(v, list)},
        "targets": {
            "ptt_access_p95_ms": 150,
            "mouth_to_ear_p95_ms": 150,
            "late_entry_p95_ms": 175,
            "conference_join_ms": 1000,
            "glass_to_glass_p95_ms": 150,
        },
    }
    rows: list[tuple[str, Any, str]] = [
        (
            "PTT access p50 / p95",
            f"{results['ptt_access_p50_ms']:.0f} / {results['ptt_access_p95_ms']:.0f}",
            "ms (≤ 150; KPI 1 300)",
        ),
        (
            "mouth-to-ear p50 / p95",
            f"{results['mouth_to_ear_p50_ms']:.0f} / {results['mouth_to_ear_p95_ms']:.0f}",
            "ms (≤ 150; KPI 3 300) two hops through the hub",
        ),
        (
            "  baseline: one bare aiortc hop",
            f"{results['baseline_mouth_to_ear_p50_ms']:.0f} / {results['baseline_mouth_to_ear_p95_ms']:.0f}",
            "ms (aiortc's own jitter buffer)",
        ),
        (
            "late entry p50 / p95",
            f"{results['late_entry_p50_ms']:.0f} / {results['late_entry_p95_ms']:.0f}",
            "ms (≤ 175; KPI 4 350)",
        ),
        (
            "conference join worst / median",
            f"{results['conference_join_ms']:.0f} / {results['conference_join_median_ms']:.0f}",
            "ms (≤ 1000) to both others' first picture",
        ),
        (
            "glass-to-glass p50 / p95",
            f"{results['glass_to_glass_p50_ms']:.0f} / {results['glass_to_glass_p95_ms']:.0f}",
            "ms (≤ 150) three consoles, 640×360 15 fps",
        ),
        (
            "  baseline: one bare aiortc hop",
            f"{results['baseline_glass_to_glass_p50_ms']:.0f} / {results['baseline_glass_to_glass_p95_ms']:.0f}",
            "ms",
        ),
    ]
    print_table("calls through the hub (this machine)", rows)
    return results
