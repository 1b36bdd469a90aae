"""Calls end to end on 127.0.0.1, against a real server process: conference rooms with three
consoles (real aiortc peers; pictures read back by their burnt-in stamps, sound by the onset of
a tone burst), talk groups whose audio follows the floor, permissions, and a network drop that
the calls ride out."""

from __future__ import annotations

import asyncio
import collections
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from app.domain.model import Action
from app.domain.permissions import Principal, Role
from app.server.config import ServerConfig
from app.server.passwords import hash_password
from app.services.calls import CallService
from app.services.events import RoomChanged
from app.services.sync import SyncService
from app.sim.camera import SyntheticCamera, read_stamp_bgra
from app.storage.cache import ConsoleCache
from app.storage.catalog_file import read_catalog
from app.storage.server_store import ServerStore
from comms.client import MediaRefusedError, SyncChannel, login, ws_url
from comms.protocol import messages as m
from comms.rtc.call import FrameVideo, LocalAudio, OnsetDetector
from integration.conftest import CAOYANG, CHANGSHOU, PASSWORD, USERS, SyncedConsole, post_report, report, scaled
from support.proxy import CuttableProxy
from support.server import ServerProcess, running_server
from support.waiting import until

pytestmark = pytest.mark.timeout(180)

GROUP = f"street:{CHANGSHOU}"


class Caller:
    """A console with calls: its stamps and sound heard from each participant."""

    def __init__(self, console: SyncedConsole, name: str) -> None:
        self.console = console
        camera = SyntheticCamera(f"person-{name}", name, width=320, height=180)
        self.camera = FrameVideo(camera.frame, 320, 180, fps=15)
        self.mic = LocalAudio()
        self.calls = CallService(console.service, microphone=self.mic, camera=self.camera)
        self.calls.video_size = lambda _pid: (320, 180)
        self.stamps: dict[str, list[int]] = collections.defaultdict(list)
        self.onsets: dict[str, OnsetDetector] = collections.defaultdict(OnsetDetector)
        self.talk = OnsetDetector()
        self.calls.on_video = self._video
        self.calls.on_audio = lambda pid, samples, level: self.onsets[pid](samples, level)
        self.calls.on_talk_audio = self.talk

    def _video(self, pid: str, image: Any, frame: Any) -> None:
        if image is not None:
            stamp = read_stamp_bgra(image)
            if stamp is not None:
                self.stamps[pid].append(stamp.frame)

    @property
    def pid(self) -> str:
        return self.calls.participant_id

    def rooms(self) -> list[m.Room]:
        return [e.message for e in self.console.events if isinstance(e, RoomChanged) and isinstance(e.message, m.Room)]

    def refusals(self) -> list[m.RoomRefused]:
        return [
            e.message
            for e in self.console.events
            if isinstance(e, RoomChanged) and isinstance(e.message, m.RoomRefused)
        ]

    def sees(self, pid: str, frames: int = 10) -> bool:
        got = self.stamps.get(pid, [])
        return len(got) >= frames and got[-1] > got[0]


@pytest.fixture
async def callers(consoles: Any) -> AsyncIterator[Callable[..., Any]]:
    made: list[Caller] = []

    async def make(server: ServerProcess, user: str, name: str = "") -> Caller:
        console = await consoles(server, user)
        await until(lambda: console.service.state.value == "online", timeout=scaled(20), what=f"{user} online")
        caller = Caller(console, name or user)
        made.append(caller)
        return caller

    yield make
    for caller in made:
        await caller.calls.stop()


async def test_three_consoles_in_a_room(server: ServerProcess, callers: Any) -> None:
    officer = await callers(server, "officer", "值班员甲")
    street = await callers(server, "changshou", "长寿路")
    fire = await callers(server, "fire", "消防")
    outsider = await callers(server, "caoyang", "曹杨")

    room = await officer.calls.open_room("火情会商", invite=[f"street:{CHANGSHOU}", "field:fire"])
    assert room.you == officer.pid and room.host == "officer"
    # The invited hear of the room; the one not invited does not.
    await until(lambda: any(r.room == room.room for r in street.rooms()), what="the street's invitation")
    await until(lambda: any(r.room == room.room for r in fire.rooms()), what="the center's invitation")
    assert not any(r.room == room.room for r in outsider.rooms())

    await street.calls.join(room.room)
    await fire.calls.join(room.room)
    everyone = (officer, street, fire)
    await until(
        lambda: all(len([p for p in c.calls.rooms[room.room].participants if p.publishing]) == 3 for c in everyone),
        timeout=scaled(20),
        what="three publishing participants",
    )
    names = {p.name: p.center for p in officer.calls.rooms[room.room].participants}
    assert names == {"值班员甲": "区城运中心", "长寿路街道": "长寿路街道指挥室", "消防指挥中心": "区消防救援支队"}

    # Pictures flow every way: each console reads the others' stamps, advancing.
    pairs = [(a, b) for a in everyone for b in everyone if a is not b]
    await until(lambda: all(a.sees(b.pid) for a, b in pairs), timeout=scaled(30), what="pictures between all three")

    # Sound flows every way: a tone burst from each is heard by the two others.
    for speaker in everyone:
        for listener in everyone:
            listener.onsets[speaker.pid].onsets.clear()
        speaker.mic.tone(0.4)
        others = [c for c in everyone if c is not speaker]
        await until(
            lambda s=speaker, o=others: all(c.onsets[s.pid].onsets for c in o),  # type: ignore[misc]
            timeout=scaled(10),
            what=f"{speaker.console.service.principal.name}'s tone heard",
        )
        assert speaker.mic.tone_at is not None
        for c in others:
            delay = c.onsets[speaker.pid].onsets[0] - speaker.mic.tone_at
            assert 0 < delay < 1.0, delay

    # The active speaker, from the levels in the packets: a long tone from the street.
    street.mic.tone(2.0)
    await until(
        lambda: officer.calls.rooms[room.room].speaker == street.pid, timeout=scaled(10), what="the street speaking"
    )

    # Muting shows to the others.
    await fire.calls.set_muted(True)
    await until(
        lambda: not next(p for p in officer.calls.rooms[room.room].participants if p.id == fire.pid).audio,
        what="fire muted, as the officer sees it",
    )

    # A participant leaves: the others see it and stop receiving it.
    await fire.calls.leave()
    await until(
        lambda: fire.pid not in {p.id for p in officer.calls.rooms[room.room].participants},
        what="fire gone from the room",
    )
    await until(lambda: f"participant:{fire.pid}" not in officer.calls.links, what="fire's link closed")


async def test_no_joining_a_room_without_an_invitation(server: ServerProcess, callers: Any) -> None:
    officer = await callers(server, "officer")
    outsider = await callers(server, "caoyang")
    room = await officer.calls.open_room("街道会商", invite=[f"street:{CHANGSHOU}"])

    await outsider.console.service.room(m.RoomJoin(room=room.room))
    await until(lambda: outsider.refusals(), what="the refusal")
    refusal = outsider.refusals()[-1]
    assert refusal.code == "forbidden" and room.room in refusal.reason
    assert outsider.calls.room is None

    # Nor can it send or receive media in it.
    with pytest.raises(MediaRefusedError) as refused:
        await outsider.console.service.open_media(room.room, "v=0\r\n", kind="publish")
    assert refused.value.code == "forbidden"
    with pytest.raises(MediaRefusedError) as refused:
        await outsider.console.service.open_media(f"{room.room}/{officer.pid}", "v=0\r\n", kind="participant")
    assert refused.value.code == "forbidden"

    # An unknown room, a bad invitation, a role that cannot host.
    await outsider.console.service.room(m.RoomJoin(room="nosuchroom"))
    await until(lambda: any(r.code == "unknown_room" for r in outsider.refusals()), what="unknown room")
    await officer.console.service.room(m.RoomInvite(room=room.room, invite=["planet:mars"]))
    await until(lambda: any(r.code == "invalid" for r in officer.refusals()), what="bad invitation refused")
    assert "planet:mars" not in officer.calls.rooms[room.room].invited

    # Invited later: now it may.
    await officer.calls.invite([f"street:{CAOYANG}"])
    await until(lambda: any(r.room == room.room for r in outsider.rooms()), what="the late invitation")
    await outsider.calls.join(room.room)
    await until(lambda: outsider.calls.room == room.room, what="joined after the invitation")


async def test_talk_group_audio_follows_the_floor(server: ServerProcess, callers: Any) -> None:
    street = await callers(server, "changshou")
    officer = await callers(server, "officer")
    officer2 = await callers(server, "officer2")
    for c in (street, officer):
        await c.calls.join_group(GROUP)
    await until(lambda: all(c.calls.links["talk"].state.value == "live" for c in (street, officer)), what="talk links")

    # Nobody holds the floor: a tone goes nowhere.
    officer.mic.tone(0.3)
    await asyncio.sleep(scaled(1.0))
    assert not street.talk.onsets

    # The street takes the floor and is heard.
    await street.calls.press(GROUP)
    await until(lambda: street.calls.floors[GROUP].state == "talking", what="granted")
    await until(lambda: officer.calls.floors[GROUP].talker == "长寿路街道", what="talker's name shown")
    street.mic.tone(0.3)
    await until(lambda: officer.talk.onsets, what="the talker heard")
    # Someone without the floor speaks at the same time: not forwarded.
    officer.talk.onsets.clear()
    officer.mic.tone(0.3)
    await asyncio.sleep(scaled(1.0))
    assert not street.talk.onsets

    # Late entry: joining mid-burst hears the current talker.
    street.mic.tone(3.0)
    await asyncio.sleep(0.3)
    await officer2.calls.join_group(GROUP)
    await until(lambda: officer2.talk.onsets, timeout=scaled(10), what="late entry hears the talker")
    assert officer2.calls.floors[GROUP].talker == "长寿路街道"

    # A commander pre-empts; the street now hears the commander, and the others do too.
    await officer.calls.press(GROUP)
    await until(lambda: officer.calls.floors[GROUP].state == "talking", what="commander granted")
    await until(lambda: street.calls.floors[GROUP].note == "preempted", what="street pre-empted")
    await asyncio.sleep(0.5)
    street.talk.onsets.clear()
    officer2.talk.onsets.clear()
    officer.mic.tone(0.3)
    await until(lambda: street.talk.onsets and officer2.talk.onsets, what="the commander heard")

    # Released: the floor is idle, and nothing is forwarded any more.
    await officer.calls.release(GROUP)
    await until(lambda: street.calls.floors[GROUP].state == "idle", what="idle after release")
    await asyncio.sleep(0.5)
    street.talk.onsets.clear()
    officer.mic.tone(0.3)
    await asyncio.sleep(scaled(1.0))
    assert not street.talk.onsets


async def test_calls_survive_a_network_drop(server: ServerProcess, consoles: Any, tmp_path: Any) -> None:
    """The talker's sync channel drops for three seconds: it keeps the floor and the room, its
    audio keeps flowing, and it is back without anyone doing anything."""
    host, port = server.url.split("//")[1].split(":")
    proxy = CuttableProxy(host, int(port))
    await proxy.start()
    try:
        session = await login(server.url, "changshou", PASSWORD)
        principal = Principal(session.user, Role(session.role), session.street, session.field, session.display_name)
        cache = ConsoleCache(tmp_path / "dropped.db")
        service = SyncService(proxy.url, session.token, principal, cache, read_catalog(), client_name="dropped")
        console = SyncedConsole(service, cache)
        service.start()
        await until(lambda: service.state.value == "online", timeout=scaled(20), what="online through the proxy")
        talker = Caller(console, "长寿路")
        officer_console = await consoles(server, "officer")
        await until(lambda: officer_console.service.state.value == "online", timeout=scaled(20))
        listener = Caller(officer_console, "值班员甲")
        try:
            room = await listener.calls.open_room("断网测试", invite=[f"street:{CHANGSHOU}"])
            await until(lambda: room.room in talker.calls.rooms, what="invitation")
            await talker.calls.join(room.room)
            for c in (talker, listener):
                await c.calls.join_group(GROUP)
            await talker.calls.press(GROUP)
            await until(lambda: talker.calls.floors[GROUP].state == "talking", what="granted")
            await until(lambda: listener.sees(talker.pid), timeout=scaled(30), what="talker's picture")

            proxy.cut()
            await until(lambda: service.state.value == "offline", what="the talker offline")
            talker.mic.tone(0.3)  # media does not go through the sync channel
            await until(lambda: listener.talk.onsets, what="heard while the sync channel is down")
            await asyncio.sleep(2.5)
            proxy.restore()
            await until(lambda: service.state.value == "online", timeout=scaled(30), what="back online")

            # Still the talker, still in the room, heard and seen; nobody left.
            assert talker.calls.floors[GROUP].state == "talking"
            assert listener.calls.floors[GROUP].talker == "长寿路街道"
            assert talker.pid in {p.id for p in listener.calls.rooms[room.room].participants}
            listener.talk.onsets.clear()
            talker.mic.tone(0.3)
            await until(lambda: listener.talk.onsets, what="heard after the drop")
            frames = len(listener.stamps[talker.pid])
            await until(lambda: len(listener.stamps[talker.pid]) > frames + 10, what="pictures after the drop")
            assert proxy.connections >= 2
        finally:
            await talker.calls.stop()
            await listener.calls.stop()
            await console.stop()
    finally:
        await proxy.stop()


async def test_command_session_entries_come_from_the_server_only(server: ServerProcess) -> None:
    """Even an administrator (whose role may take every action) cannot write a command session
    entry into a timeline over the sync channel: those record who came and went."""
    incident = await post_report(server, report(1))
    session = await login(server.url, "admin", PASSWORD)
    async with SyncChannel(ws_url(server.url), session.token, 0, "forger") as channel:
        await channel.send(
            m.Command(key="forged-1", incident_id=incident["incident_id"], action=Action.COMMAND, note="加入会商")
        )
        async for event in channel.events():
            if isinstance(event, m.Reject | m.Ack):
                break
    assert isinstance(event, m.Reject) and event.code == "forbidden", event


@pytest.fixture
def short_grace_server(tmp_path: Any) -> Any:
    """A server that forgets a dropped console after 2 s (the default is 15)."""
    data_dir = tmp_path / "server-short-grace"
    data_dir.mkdir()
    store = ServerStore(ServerConfig(data_dir=data_dir).store_url)
    for user in USERS:
        store.add_user(user, hash_password(PASSWORD))
    store.close()
    with running_server(data_dir, extra_args=("--call-grace", "2")) as process:
        yield process


async def test_a_long_drop_rejoins_by_itself(short_grace_server: ServerProcess, consoles: Any, tmp_path: Any) -> None:
    """The drop outlasts the server's grace: it lets the console go (the others see it leave);
    when the console is back it says again where it was, and is back in the room and the talk
    group, sending pictures, without anyone doing anything."""
    server = short_grace_server
    host, port = server.url.split("//")[1].split(":")
    proxy = CuttableProxy(host, int(port))
    await proxy.start()
    session = await login(server.url, "changshou", PASSWORD)
    principal = Principal(session.user, Role(session.role), session.street, session.field, session.display_name)
    cache = ConsoleCache(tmp_path / "long-drop.db")
    service = SyncService(proxy.url, session.token, principal, cache, read_catalog(), client_name="dropped")
    console = SyncedConsole(service, cache)
    service.start()
    talker = Caller(console, "长寿路")
    officer_console = await consoles(server, "officer")
    listener = Caller(officer_console, "值班员甲")
    try:
        await until(lambda: service.state.value == "online", timeout=scaled(20), what="online through the proxy")
        await until(lambda: officer_console.service.state.value == "online", timeout=scaled(20))
        room = await listener.calls.open_room("长断网测试", invite=[f"street:{CHANGSHOU}"])
        await until(lambda: room.room in talker.calls.rooms, what="invitation")
        await talker.calls.join(room.room)
        for c in (talker, listener):
            await c.calls.join_group(GROUP)
        await until(lambda: listener.sees(talker.pid), timeout=scaled(30), what="the street's pictures")

        proxy.cut()
        members = lambda: {p.id for p in listener.calls.rooms[room.room].participants}  # noqa: E731
        await until(lambda: talker.pid not in members(), timeout=scaled(15), what="the server letting it go")
        proxy.restore()
        await until(lambda: service.state.value == "online", timeout=scaled(30), what="back online")
        await until(lambda: talker.pid in members(), timeout=scaled(15), what="back in the room")
        frames = len(listener.stamps[talker.pid])
        await until(
            lambda: len(listener.stamps[talker.pid]) > frames + 10, timeout=scaled(30), what="its pictures again"
        )
        await talker.calls.press(GROUP)
        await until(
            lambda: talker.calls.floors[GROUP].state == "talking",
            what=lambda: f"back in the talk group: {talker.calls.floors}",
        )
        listener.talk.onsets.clear()
        talker.mic.tone(0.3)
        await until(
            lambda: listener.talk.onsets,
            what=lambda: (
                f"heard again: {_status(server)} {talker.calls.links['talk'].state} "
                f"{listener.calls.links['talk'].state} {listener.calls.links['talk'].audio_frames}"
            ),
        )
    finally:
        await talker.calls.stop()
        await listener.calls.stop()
        await console.stop()
        await proxy.stop()


def _status(server: ServerProcess) -> Any:
    import httpx

    return httpx.get(f"{server.url}/api/calls/status", headers={"X-API-Key": server.key}, timeout=5).json()
