"""``cityops bench video``: the video wall over the server's media hub, end to end on this
machine, against bare aiortc decoding of the same streams measured in the same run.

1. A server on 127.0.0.1 with ``--tiles`` synthetic cameras (640×360, 15 fps, H.264 from the
   hub, each source pulled and encoded once).
2. Baseline: a bare aiortc client process (plain asyncio, no Qt) receives and decodes the same
   streams and does nothing else; its CPU time over the measuring window.
3. The console: a process with the real sync and video services and the real wall widget
   (offscreen), ``--tiles`` tiles each the size of the stream, painting what arrives. Per
   tile, the pictures handed to the painter per second; glass-to-glass from the capture time
   burnt into each picture by the synthetic camera to the moment the wall takes it to paint;
   the process's CPU time over the same window.

The two clients run one after the other against the same server, so each has the machine to
itself beside the server.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from app.domain.permissions import Principal, Role
from app.server.passwords import hash_password
from app.services.demo import wait_healthy
from app.storage.catalog_file import read_catalog
from app.storage.server_store import ServerStore
from bench import free_port, percentile, print_table

PASSWORD = "bench-password"
WARMUP_S = 4.0
MEASURE_S = 15.0
#: Rounds of (baseline, console), alternated.
ROUNDS = 2
STREAM_SIZE = (640, 360)


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _proc_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def _thread_cpu() -> dict[str, float]:
    """CPU seconds of this process's threads, summed by name (decoders are numbered)."""
    ticks = os.sysconf("SC_CLK_TCK")
    out: dict[str, float] = {}
    for task in Path("/proc/self/task").iterdir():
        try:
            raw = (task / "stat").read_text()
        except OSError:
            continue
        name = raw[raw.index("(") + 1 : raw.rindex(")")].rstrip("0123456789-_ ") or "?"
        fields = raw.rsplit(")", 1)[1].split()
        out[name] = out.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / ticks
    return out


def _cameras(n: int) -> list[dict[str, Any]]:
    catalog = read_catalog()
    streets = sorted(catalog.streets)
    out = []
    for i in range(n):
        street = catalog.streets[streets[i % len(streets)]]
        out.append(
            {
                "id": f"CAM-BENCH-{i:02d}",
                "kind": "camera",
                "type": "high_altitude",
                "name": f"{street.name.zh} 测试摄像机 {i + 1:02d}",
                "lon": street.center[0] + 0.001 * (i // len(streets)),
                "lat": street.center[1],
                "street": street.code,
                "source": "synthetic:",
            }
        )
    return out


# == the clients (subprocesses) ===============================================================
async def _bare_client(url: str, cameras: list[str]) -> dict[str, Any]:
    """aiortc and nothing else: one receive-only H.264 connection per camera, every frame
    decoded (aiortc decodes on its own thread) and dropped."""
    from aiortc import RTCSessionDescription

    from comms.client import SyncChannel, login, ws_url
    from comms.protocol import messages as m
    from comms.rtc.peer import new_peer_connection, prefer_h264

    session = await login(url, "bench", PASSWORD)
    frames: dict[str, int] = dict.fromkeys(cameras, 0)
    pcs = []
    async with SyncChannel(ws_url(url), session.token, 0, "bench-bare") as channel:
        answers: dict[str, asyncio.Future[str]] = {}
        loop = asyncio.get_running_loop()

        async def read_events() -> None:
            async for event in channel.events():
                if isinstance(event, m.MediaAnswer):
                    answers[event.request].set_result(event.sdp)
                elif isinstance(event, m.MediaRefused):
                    answers[event.request].set_exception(RuntimeError(event.reason))

        reader = asyncio.create_task(read_events())
        tracks = []
        for camera in cameras:
            pc = new_peer_connection()
            transceiver = pc.addTransceiver("video", direction="recvonly")
            prefer_h264(transceiver)
            await pc.setLocalDescription(await pc.createOffer())
            answers[camera] = loop.create_future()
            await channel.offer_media(
                m.MediaOffer(request=camera, kind="camera", target=camera, sdp=pc.localDescription.sdp)
            )
            await pc.setRemoteDescription(RTCSessionDescription(sdp=await answers[camera], type="answer"))
            pcs.append(pc)
            tracks.append((camera, transceiver.receiver.track))

        async def pump(camera: str, track: Any) -> None:
            while True:
                await track.recv()
                frames[camera] += 1

        pumps = [asyncio.create_task(pump(c, t)) for c, t in tracks]
        await asyncio.sleep(WARMUP_S)
        f0, c0, t0, th0 = dict(frames), _cpu_seconds(), time.perf_counter(), _thread_cpu()
        await asyncio.sleep(MEASURE_S)
        f1, c1, t1, th1 = dict(frames), _cpu_seconds(), time.perf_counter(), _thread_cpu()
        for p in pumps:
            p.cancel()
        reader.cancel()
        for pc in pcs:
            await pc.close()
    wall = t1 - t0
    return {
        "cpu_cores": (c1 - c0) / wall,
        "fps": [(f1[c] - f0[c]) / wall for c in cameras],
        "cpu_cores_by_thread": {
            k: round((th1[k] - th0.get(k, 0.0)) / wall, 3)
            for k in sorted(th1)
            if th1[k] - th0.get(k, 0.0) > 0.005 * wall
        },
    }


def _console_client(url: str, cameras: list[str], work: Path) -> dict[str, Any]:
    """The console's own parts: sync service, video service, the wall screen and its
    controller, painting offscreen."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import qasync
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from app.console.video import SETTINGS_KEY, VideoController
    from app.services.sync import SyncService
    from app.services.video import VideoService
    from app.sim.camera import read_stamp_bgra
    from app.storage.cache import ConsoleCache
    from comms.client import login
    from widgets.video.panel import VideoWallPanel
    from widgets.video.wall import GAP

    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    n = len(cameras)
    cols = round(n**0.5)
    rows = (n + cols - 1) // cols
    panel = VideoWallPanel()
    wall = panel.wall
    wall.set_grid(rows, cols)
    # Size the screen so each tile shows the stream 1:1 (a 2560×1440 monitor's wall for 4×4).
    want = (cols * (STREAM_SIZE[0] + GAP) + GAP, rows * (STREAM_SIZE[1] + GAP) + GAP)
    panel.resize(want[0] + 300, want[1] + 80)
    panel.show()
    app.processEvents()
    panel.resize(panel.width() + want[0] - wall.width(), panel.height() + want[1] - wall.height())
    app.processEvents()
    shown: dict[int, list[float]] = {i: [] for i in range(n)}
    g2g: list[float] = []
    stamp_cpu = [0.0]

    def measure(index: int) -> None:
        """Note when the wall takes each picture to paint, and its burnt-in capture time."""
        feed = wall.feed(index)
        take = feed.take

        def counted_take() -> Any:
            got = take()
            if got is not None:
                now = time.time()
                shown[index].append(now)
                if len(shown[index]) % 3:
                    return got  # a third of the pictures is plenty of samples, and disturbs less
                t = time.thread_time()
                stamp = read_stamp_bgra(got[0])
                stamp_cpu[0] += time.thread_time() - t
                if stamp is not None:
                    g2g.append((now * 1000 - stamp.captured_ms) % 2**40)
            return got

        feed.take = counted_take  # type: ignore[method-assign]

    async def main() -> dict[str, Any]:
        session = await login(url, "bench", PASSWORD)
        principal = Principal(session.user, Role(session.role), session.street, session.field, session.display_name)
        cache = ConsoleCache(work / "console-cache.db")
        sync = SyncService(url, session.token, principal, cache, read_catalog(), client_name="bench-console")
        sync.start()
        await asyncio.wait_for(sync.wait_online(), 30)
        # This workstation's saved layout: the grid, empty (no first-start cameras).
        settings = QSettings(str(work / "workspace.ini"), QSettings.Format.IniFormat)
        settings.setValue(SETTINGS_KEY, json.dumps({"rows": rows, "cols": cols, "tiles": []}))
        controller = VideoController(
            panel, VideoService(sync), settings=settings, server_url=url, token=lambda: sync.token
        )
        await controller.start()
        for i, camera in enumerate(cameras):
            wall.cameraDropped.emit(i, camera, camera)  # as if dropped from the camera list
            measure(i)
        await asyncio.sleep(WARMUP_S)
        sizes = {wall.feed(i).target_size() for i in range(n)}
        g2g.clear()
        s0 = stamp_cpu[0]
        c0, t0, th0 = _cpu_seconds(), time.time(), _thread_cpu()
        await asyncio.sleep(MEASURE_S)
        c1, t1, th1 = _cpu_seconds(), time.time(), _thread_cpu()
        s1 = stamp_cpu[0]
        fps = [sum(1 for t in shown[i] if t0 <= t < t1) / (t1 - t0) for i in range(n)]
        panel.grab().save(str(work / "video-wall.png"))
        await controller.stop()
        await sync.stop()
        cache.close()
        return {
            "cpu_cores": (c1 - c0 - (s1 - s0)) / (t1 - t0),
            "stamp_reading_cpu_cores": (s1 - s0) / (t1 - t0),
            "cpu_cores_by_thread": {
                k: round((th1[k] - th0.get(k, 0.0)) / (t1 - t0), 3)
                for k in sorted(th1)
                if th1[k] - th0.get(k, 0.0) > 0.005 * (t1 - t0)
            },
            "fps": fps,
            "g2g_ms": g2g,
            "tile_sizes": sorted(sizes),
            "screenshot": str(work / "video-wall.png"),
        }

    with loop:
        result: dict[str, Any] = loop.run_until_complete(main())
    return result


def client_main(argv: list[str] | None = None) -> None:
    """Entry of the client subprocesses: prints one JSON line."""
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=("bare", "console"))
    p.add_argument("--url", required=True)
    p.add_argument("--cameras", required=True)
    p.add_argument("--work", type=Path, required=True)
    args = p.parse_args(argv)
    cameras = args.cameras.split(",")
    if args.mode == "bare":
        result = asyncio.run(_bare_client(args.url, cameras))
    else:
        result = _console_client(args.url, cameras, args.work)
    print("RESULT " + json.dumps(result), flush=True)


def _run_client(mode: str, url: str, cameras: list[str], work: Path) -> dict[str, Any]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run(
        [sys.executable, "-m", "bench.video", mode, "--url", url, "--cameras", ",".join(cameras), "--work", str(work)],
        capture_output=True,
        text=True,
        env=env,
        timeout=WARMUP_S + MEASURE_S + 120,
        check=False,
    )
    for line in out.stdout.splitlines():
        if line.startswith("RESULT "):
            result: dict[str, Any] = json.loads(line[len("RESULT ") :])
            return result
    raise RuntimeError(f"the {mode} client failed ({out.returncode}):\n{out.stdout[-2000:]}\n{out.stderr[-4000:]}")


def run(tiles: int | None = None) -> dict[str, Any]:
    n = tiles or 16
    work = Path(tempfile.mkdtemp(prefix="cityops-bench-video-"))
    print(f"bench video: {n} synthetic cameras 640×360 at 15 fps; work dir {work}", flush=True)
    data = work / "server"
    data.mkdir()
    store = ServerStore(f"sqlite:///{data / 'cityops.db'}")
    store.add_user(Principal("bench", Role.DISTRICT_OFFICER, display_name="bench"), hash_password(PASSWORD))
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
        key = (data / "intake.key").read_text().strip()
        cameras = _cameras(n)
        response = httpx.post(f"{url}/api/devices", json=cameras, headers={"X-API-Key": key}, timeout=30)
        response.raise_for_status()
        ids = [c["id"] for c in cameras]
        bares: list[dict[str, Any]] = []
        consoles: list[dict[str, Any]] = []
        server_cpu: list[float] = []
        # Alternate the two clients, ROUNDS times each: slow drifts of the machine (the server's
        # own load, other processes) then weigh on both alike.
        for round_ in range(ROUNDS):
            print(f"  round {round_ + 1}/{ROUNDS}: bare aiortc decoding (baseline) ...", flush=True)
            s0, t0 = _proc_cpu_seconds(server.pid), time.perf_counter()
            bares.append(_run_client("bare", url, ids, work))
            server_cpu.append((_proc_cpu_seconds(server.pid) - s0) / (time.perf_counter() - t0))
            time.sleep(LINGER_PAUSE_S)
            print(f"  round {round_ + 1}/{ROUNDS}: console (sync + video services + wall) ...", flush=True)
            consoles.append(_run_client("console", url, ids, work))
            time.sleep(LINGER_PAUSE_S)
        status = httpx.get(f"{url}/api/video/status", headers={"X-API-Key": key}, timeout=10).json()
    finally:
        server.terminate()
        server.wait(15)
    console = consoles[-1]
    bare = bares[-1]
    fps = [min(c["fps"][i] for c in consoles) for i in range(n)]
    g2g = [v for c in consoles for v in c["g2g_ms"]]
    console_cpu = statistics.fmean(c["cpu_cores"] for c in consoles)
    bare_cpu = statistics.fmean(b["cpu_cores"] for b in bares)
    server_bare = statistics.fmean(server_cpu)
    results: dict[str, Any] = {
        "tiles": n,
        "stream": f"{STREAM_SIZE[0]}x{STREAM_SIZE[1]} H.264 15 fps",
        "tile_sizes": console["tile_sizes"],
        "fps_min": min(fps),
        "fps_median": statistics.median(fps),
        "fps_per_tile": fps,
        "glass_to_glass_p50_ms": percentile(g2g, 50),
        "glass_to_glass_p95_ms": percentile(g2g, 95),
        "glass_to_glass_samples": len(g2g),
        "console_cpu_cores": console_cpu,
        "bare_decode_cpu_cores": bare_cpu,
        "console_vs_bare": console_cpu / bare_cpu,
        "rounds": ROUNDS,
        "console_vs_bare_per_round": [c["cpu_cores"] / b["cpu_cores"] for c, b in zip(consoles, bares, strict=True)],
        "console_cpu_cores_by_thread": console["cpu_cores_by_thread"],
        "bare_cpu_cores_by_thread": bare["cpu_cores_by_thread"],
        "bare_fps_min": min(min(b["fps"]) for b in bares),
        "stamp_reading_cpu_cores": statistics.fmean(c["stamp_reading_cpu_cores"] for c in consoles),
        "server_cpu_cores_during_baseline": server_bare,
        "source_opens": sum(p["opens"] for p in status),
        "screenshot": console["screenshot"],
        "cpu_count": os.cpu_count(),
    }
    print_table(
        "bench video",
        [
            ("tiles", n, f"streams of {results['stream']}, tiles {console['tile_sizes']}"),
            ("fps min", results["fps_min"], "pictures painted per second, worst tile (target ≥ 14)"),
            ("fps median", results["fps_median"], ""),
            ("glass-to-glass p50", results["glass_to_glass_p50_ms"], "ms capture → wall"),
            ("glass-to-glass p95", results["glass_to_glass_p95_ms"], "ms (target ≤ 200)"),
            ("console CPU", results["console_cpu_cores"], f"cores: sync + video services + wall, mean of {ROUNDS}"),
            ("bare aiortc decode CPU", results["bare_decode_cpu_cores"], "cores, same streams (baseline), mean"),
            ("console / bare", round(results["console_vs_bare"], 2), "(target ≤ 1.3)"),
            ("server CPU", server_bare, "cores (hub: 16 sources drawn and encoded once)"),
        ],
    )
    return results


#: Seconds between the two clients, so the hub's viewers of the first have gone.
LINGER_PAUSE_S = 1.0

if __name__ == "__main__":
    client_main()
