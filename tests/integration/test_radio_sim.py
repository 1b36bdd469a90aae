"""The demo's commander on scene (app/sim/radio.py) against a real server: it reports in over
push-to-talk on its street's talk group (heard, with its name, by a console in the group), and
answers a command session's invitation with its body camera."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

import pytest

from app.sim.radio import run as run_radio
from integration.conftest import CHANGSHOU, PASSWORD, scaled
from integration.test_calls import GROUP, Caller
from support.server import ServerProcess
from support.waiting import until

pytestmark = pytest.mark.timeout(120)


async def test_the_radio_talks_and_joins_command_sessions(server: ServerProcess, consoles: Any, tmp_path: Path) -> None:
    radio = asyncio.create_task(run_radio(server.url, "changshou", PASSWORD, tmp_path, period_s=2.0, duration_s=0))
    console = await consoles(server, "officer")
    await until(lambda: console.service.state.value == "online", timeout=scaled(20))
    officer = Caller(console, "值班员甲")
    try:
        await officer.calls.join_group(GROUP)
        await until(
            lambda: officer.calls.floors[GROUP].talker == "长寿路街道", timeout=scaled(20), what="the radio talks"
        )
        await until(lambda: officer.talk.onsets, timeout=scaled(10), what="its voice heard")

        room = await officer.calls.open_room("现场会商", invite=[f"street:{CHANGSHOU}"])
        await until(
            lambda: len(officer.calls.rooms[room.room].participants) == 2, timeout=scaled(20), what="the radio joins"
        )
        radio_pid = next(p.id for p in officer.calls.rooms[room.room].participants if p.id != officer.pid)
        await until(lambda: officer.sees(radio_pid), timeout=scaled(30), what="its body camera")
    finally:
        radio.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await radio
        await officer.calls.stop()
