"""The simulated commander on scene (现场指挥员) for the demo: a field laptop that is in its
street's talk group, reports in over push-to-talk now and then, and answers the invitations of
command sessions on its street with its body camera and microphone.

It runs the console's own sync and call services (no Qt), so what the operators see of it is
exactly what they would see of a real field laptop: its floor requests, its name as talker, its
pictures in the conference grid. The "voice" is synthetic: a buzz at a speaking pitch shaped
into syllables, loud enough to light the meters and the active speaker."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import math
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import numpy.typing as npt

from app.domain.permissions import Principal, Role
from app.services.calls import CallService
from app.services.sync import SyncService
from app.sim.camera import SyntheticCamera
from app.storage.cache import ConsoleCache
from app.storage.catalog_file import read_catalog
from comms.client import login
from comms.rtc.call import FrameVideo, LocalAudio

log = logging.getLogger(__name__)

RATE = 48_000


class Voice:
    """Speech-like sound while :attr:`speaking`: a 120–160 Hz buzz with a few harmonics, in
    syllables of about a quarter of a second; None (silence) otherwise."""

    def __init__(self, seed: int = 7) -> None:
        self.speaking = False
        self._rng = random.Random(seed)
        self._t = 0
        self._phase = 0.0
        self._pitch = 140.0

    def __call__(self, samples: int) -> npt.NDArray[np.int16] | None:
        if not self.speaking:
            return None
        t = (self._t + np.arange(samples)) / RATE
        self._t += samples
        if self._rng.random() < 0.05:
            self._pitch = self._rng.uniform(120.0, 160.0)
        phase = self._phase + 2 * math.pi * self._pitch * np.arange(samples) / RATE
        self._phase = float(phase[-1] + 2 * math.pi * self._pitch / RATE) % (2 * math.pi)
        buzz = sum(np.sin(k * phase) / k for k in range(1, 6))
        syllables = 0.5 * (1 + np.sin(2 * math.pi * 3.7 * t)) * (0.6 + 0.4 * np.sin(2 * math.pi * 0.9 * t))
        wave = 0.18 * buzz * syllables
        out: npt.NDArray[np.int16] = (np.clip(wave, -1, 1) * 32767).astype(np.int16)
        return out


async def run(server: str, user: str, password: str, cache_dir: Path, period_s: float, duration_s: float) -> None:
    session = await login(server, user, password)
    principal = Principal(session.user, Role(session.role), session.street, session.field, session.display_name)
    cache = ConsoleCache(cache_dir / f"{user}.db")
    sync = SyncService(server, session.token, principal, cache, read_catalog(), client_name="radio")
    sync.start()
    name = principal.display_name or principal.name
    camera = SyntheticCamera(f"bodycam-{user}", f"{name} 执法记录仪")
    voice = Voice()
    calls = CallService(sync, microphone=LocalAudio(voice), camera=FrameVideo(camera.frame, 640, 360))
    started = time.monotonic()
    try:
        await sync.wait_online()
        own = f"street:{principal.street}" if principal.street else None
        if own is not None:
            await calls.join_group(own)
        next_talk = time.monotonic() + period_s / 3
        while duration_s <= 0 or time.monotonic() - started < duration_s:
            await asyncio.sleep(0.5)
            # A command session on this street invites the street: come in, on its talk group.
            for room in list(calls.rooms.values()):
                if not room.you and calls.room is None and not room.closed:
                    log.info("joining the command session %s", room.title)
                    await calls.join(room.room)
                    if room.incident is not None:
                        await calls.join_group(f"incident:{room.incident}")
            if time.monotonic() < next_talk or not calls.floors:
                continue
            next_talk = time.monotonic() + period_s * random.uniform(0.7, 1.3)
            incident_groups = [g for g in calls.floors if g.startswith("incident:")]
            group = incident_groups[-1] if incident_groups else own
            if group is None:
                continue
            await calls.press(group)
            for _ in range(20):
                await asyncio.sleep(0.1)
                if calls.floors[group].state == "talking":
                    break
            if calls.floors[group].state == "talking":
                voice.speaking = True
                await asyncio.sleep(random.uniform(2.5, 5.0))
                voice.speaking = False
            await calls.release(group)
    finally:
        await calls.stop()
        await sync.stop()
        cache.close()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="cityops radio", description=__doc__)
    p.add_argument("--server", required=True)
    p.add_argument("--user", default="commander")
    p.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    p.add_argument("--cache-dir", type=Path, default=None)
    p.add_argument("--period", type=float, default=45.0, help="seconds between reports over the radio (mean)")
    p.add_argument("--duration", type=float, default=0.0, help="stop after this many seconds (0: run until killed)")
    args = p.parse_args(argv)
    password = sys.stdin.readline().strip() if args.password_stdin else ""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s radio %(levelname)s %(message)s")
    logging.getLogger("aioice").setLevel(logging.WARNING)
    cache_dir = args.cache_dir or Path(tempfile.mkdtemp(prefix="cityops-radio-"))
    cache_dir.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run(args.server, args.user, password, cache_dir, args.period, args.duration))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
