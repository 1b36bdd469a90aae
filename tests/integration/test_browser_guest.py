"""A browser guest in a conference room, end to end: a real server process, a console in the
room (real aiortc peers) and a real headless Chromium that opens the one-time link, driven
through the Chrome DevTools Protocol.

Chromium's fake devices stand in for the phone's camera (a moving test picture) and microphone
(a beep every second). The console sends its synthetic camera and a tone burst from its
microphone. Chromium is a test dependency (``packaging/setup-dev.sh`` installs it): without it
the test fails, it does not skip."""

from __future__ import annotations

import asyncio
import base64
import collections
import contextlib
import itertools
import json
import os
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from app.services.calls import CallService
from app.sim.camera import SyntheticCamera
from comms.protocol import messages as m
from comms.rtc.call import FrameVideo, LocalAudio, OnsetDetector
from integration.conftest import SyncedConsole, scaled
from support.server import ServerProcess
from support.waiting import until

pytestmark = pytest.mark.timeout(180)

#: Where a screenshot of the page in the call is also written, when set (for a person to look at).
SCREENSHOT_ENV = "CITYOPS_GUEST_SCREENSHOT"
GUEST_CENTER = "访客（浏览器）"


def chromium_path() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail(
            "Chromium is not installed: the browser guest test needs the Debian package `chromium` "
            "(run packaging/setup-dev.sh, or apt-get install chromium)",
            pytrace=False,
        )
    return found


# == a console in the room ======================================================================
class Caller:
    """A console with calls: the pictures and the sound it gets from each participant."""

    def __init__(self, console: SyncedConsole, name: str) -> None:
        self.console = console
        camera = SyntheticCamera(f"person-{name}", name, width=320, height=180)
        self.camera = FrameVideo(camera.frame, 320, 180, fps=15)
        self.mic = LocalAudio()
        self.calls = CallService(console.service, microphone=self.mic, camera=self.camera)
        self.calls.video_size = lambda _pid: (320, 180)
        self.frames: collections.Counter[str] = collections.Counter()
        self.shapes: dict[str, tuple[int, ...]] = {}
        self.audio: collections.Counter[str] = collections.Counter()
        self.onsets: dict[str, OnsetDetector] = collections.defaultdict(OnsetDetector)
        self.calls.on_video = self._video
        self.calls.on_audio = self._audio

    def _video(self, pid: str, image: Any, frame: Any) -> None:
        if image is not None:
            self.frames[pid] += 1
            self.shapes[pid] = image.shape

    def _audio(self, pid: str, samples: Any, level: float) -> None:
        self.audio[pid] += 1
        self.onsets[pid](samples, level)

    @property
    def pid(self) -> str:
        return self.calls.participant_id

    def participant(self, room: str, pid: str) -> m.RoomParticipant | None:
        state = self.calls.rooms.get(room)
        return next((p for p in state.participants if p.id == pid), None) if state else None

    def guests(self, room: str) -> list[m.RoomParticipant]:
        state = self.calls.rooms.get(room)
        return [p for p in state.participants if p.guest] if state else []


# == Chromium through the DevTools Protocol ======================================================
class CdpError(RuntimeError):
    pass


class Page:
    """One page target of a Chromium, over its DevTools WebSocket: commands and the console."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.console: list[str] = []
        self.last_stats: dict[str, Any] = {}
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for raw in self.ws:
                message = json.loads(raw)
                future = self._waiting.pop(message.get("id", -1), None)
                if future is not None and not future.done():
                    future.set_result(message)
                elif message.get("method") == "Runtime.consoleAPICalled":
                    params = message["params"]
                    text = " ".join(str(a.get("value", a.get("description", ""))) for a in params["args"])
                    self.console.append(f"{params['type']}: {text}")
                elif message.get("method") == "Runtime.exceptionThrown":
                    details = message["params"]["exceptionDetails"]
                    self.console.append(f"exception: {details.get('exception', {}).get('description', details)}")
        for future in self._waiting.values():
            if not future.done():
                future.set_exception(CdpError("the DevTools connection closed"))

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        number = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[number] = future
        await self.ws.send(json.dumps({"id": number, "method": method, "params": params}))
        reply = await asyncio.wait_for(future, scaled(30))
        if "error" in reply:
            raise CdpError(f"{method}: {reply['error']}")
        result: dict[str, Any] = reply.get("result", {})
        return result

    async def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (awaited if it is a promise)."""
        result = await self.send("Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in result:
            raise CdpError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def stats(self) -> dict[str, Any]:
        value: dict[str, Any] = await self.evaluate("window.cityopsStats ? window.cityopsStats() : null") or {}
        self.last_stats = value
        return value

    async def screenshot(self) -> bytes:
        """What the page shows, as PNG."""
        shot = await self.send("Page.captureScreenshot", format="png")
        return base64.b64decode(shot["data"])

    def tail(self) -> str:
        return "\n".join(self.console[-15:])

    async def close(self) -> None:
        await self.ws.close()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader


@dataclass
class Browser:
    process: subprocess.Popen[bytes]
    profile: Path
    log: Path

    def devtools_port(self) -> int | None:
        try:
            first = (self.profile / "DevToolsActivePort").read_text().splitlines()[0]
        except (OSError, IndexError):
            return None
        return int(first) if first.isdigit() else None

    def log_tail(self) -> str:
        try:
            lines = self.log.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        # Without a session bus (a container, CI) Chromium complains at length; not our concern.
        return "\n".join([line for line in lines if "dbus" not in line][-20:])

    async def page(self, url_prefix: str) -> Page:
        """The page that opened ``url_prefix…``, once Chromium shows it."""
        targets: list[dict[str, Any]] = []

        async def find() -> bool:
            nonlocal targets
            if self.process.poll() is not None:
                raise AssertionError(f"Chromium exited ({self.process.returncode}):\n{self.log_tail()}")
            port = self.devtools_port()
            if port is None:
                return False
            async with httpx.AsyncClient(timeout=5) as http:
                with contextlib.suppress(httpx.HTTPError):
                    targets = (await http.get(f"http://127.0.0.1:{port}/json")).json()
            return any(t.get("type") == "page" and t.get("url", "").startswith(url_prefix) for t in targets)

        await until(find, timeout=scaled(30), what=lambda: f"Chromium's page (targets: {targets})")
        target = next(t for t in targets if t.get("type") == "page" and t["url"].startswith(url_prefix))
        ws = await websockets.connect(target["webSocketDebuggerUrl"], max_size=64 * 1024 * 1024)
        page = Page(ws)
        await page.send("Runtime.enable")
        await until(lambda: _is_true(page.evaluate("document.readyState === 'complete'")), what="the page loaded")
        return page

    def stop(self) -> None:
        """End Chromium and every process it started (its own process group)."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(scaled(10))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        # Renderers and helpers may outlive the browser process for a moment.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)


@pytest.fixture
def browsers(tmp_path: Path) -> Iterator[Callable[..., Browser]]:
    """Factory: ``browsers(url)`` → a headless Chromium showing ``url`` with a fake camera and
    microphone (``devices=False``: none at all); all of them ended at the end of the test."""
    executable = chromium_path()
    started: list[Browser] = []

    def launch(url: str, devices: bool = True) -> Browser:
        n = len(started)
        profile = tmp_path / f"chromium-{n}"
        profile.mkdir()
        log = tmp_path / f"chromium-{n}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [
                    executable,
                    "--headless=new",
                    "--no-sandbox",
                    "--no-first-run",
                    "--no-default-browser-check",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    *(["--use-fake-device-for-media-stream"] if devices else []),
                    "--use-fake-ui-for-media-stream",
                    "--autoplay-policy=no-user-gesture-required",
                    "--remote-debugging-port=0",
                    f"--user-data-dir={profile}",
                    "--window-size=1280,800",
                    url,
                ],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        browser = Browser(process, profile, log)
        started.append(browser)
        return browser

    try:
        yield launch
    finally:
        for browser in started:
            browser.stop()


@pytest.fixture
async def callers(consoles: Any) -> AsyncIterator[Callable[..., Any]]:
    made: list[Caller] = []

    async def make(server: ServerProcess, user: str, name: str) -> Caller:
        console = await consoles(server, user)
        await until(lambda: console.service.state.value == "online", timeout=scaled(20), what=f"{user} online")
        caller = Caller(console, name)
        made.append(caller)
        return caller

    yield make
    for caller in made:
        await caller.calls.stop()


async def refused_on_the_socket(url: str) -> tuple[dict[str, Any], int | None]:
    """What the guest's WebSocket answers a refused link with: the message and the close code."""
    ws_url = url.replace("http://", "ws://", 1).replace("/call/", "/ws/call/", 1)
    async with websockets.connect(ws_url) as ws:
        message = json.loads(await asyncio.wait_for(ws.recv(), scaled(10)))
        with contextlib.suppress(websockets.ConnectionClosed):
            await asyncio.wait_for(ws.recv(), scaled(10))
        return message, ws.close_code


# == the test =====================================================================================
@pytest.mark.slow
async def test_browser_guests_join_with_one_time_links(
    server: ServerProcess, callers: Any, browsers: Callable[..., Browser], tmp_path: Path
) -> None:
    officer = await callers(server, "officer", "值班员甲")
    room = await officer.calls.open_room("长寿路火情会商")
    link = await officer.calls.guest_link("张警官")
    assert link.room == room.room
    assert link.url.startswith(f"{server.url}/call/")
    assert link.expires > time.time() + 60

    # The page: not cached, not referred, titled with the room; looking at it does not use the link.
    async with httpx.AsyncClient(timeout=scaled(10)) as http:
        for _ in range(2):
            page = await http.get(link.url)
            assert page.status_code == 200, page.text
            assert page.headers["cache-control"] == "no-store"
            assert page.headers["referrer-policy"] == "no-referrer"
            assert "城运会商" in page.text and "长寿路火情会商" in page.text and "张警官" in page.text
        script = await http.get(f"{server.url}/call/static/call.js")
        assert script.status_code == 200 and "javascript" in script.headers["content-type"]
        assert (await http.get(f"{server.url}/call/static/secrets.txt")).status_code == 404
        unknown = await http.get(f"{server.url}/call/{uuid.uuid4().hex}")
        assert unknown.status_code == 410 and "此链接已使用、已过期，或会商已结束" in unknown.text

    # A phone's way in: the page asks first, and the tap on 加入 joins.
    browser = browsers(link.url)
    page = await browser.page(link.url)
    pages = [page]
    browser_logs = [browser]

    def diagnosis() -> str:
        """What each guest's page last reported, said and logged (for a failure's message)."""
        lines = [f"console: {officer.frames} pictures, {officer.audio} audio frames"]
        for n, (p, b) in enumerate(zip(pages, browser_logs, strict=True)):
            lines.append(f"guest {n}: stats {p.last_stats}\npage console:\n{p.tail()}\nChromium:\n{b.log_tail()}")
        return "\n".join(lines)

    try:
        await until(lambda: _page_says(page, "以访客身份加入会商"), timeout=scaled(20), what="the join screen")
        assert "长寿路火情会商" in await page.evaluate("document.title")
        await _shot(page, tmp_path, "join")
        await _tap(page, "join-button")

        # The guest is in the room, as the console sees it, and publishing.
        await until(
            lambda: any(g.publishing for g in officer.guests(room.room)),
            timeout=scaled(30),
            what=lambda: f"the guest publishing in the room ({officer.calls.rooms.get(room.room)}); {page.tail()}",
        )
        guest = officer.guests(room.room)[0]
        assert (guest.name, guest.center, guest.user) == ("张警官", GUEST_CENTER, "")
        stats = await page.stats()
        assert stats["you"] == guest.id and stats["room"] == room.room and stats["status"] == "connected"

        # The link is used up: neither the page nor its socket take it again; an unknown token neither.
        async with httpx.AsyncClient(timeout=scaled(10)) as http:
            again = await http.get(link.url)
        assert again.status_code == 410 and "此链接已使用、已过期，或会商已结束" in again.text
        message, code = await refused_on_the_socket(link.url)
        assert message["type"] == "error" and message["code"] == "forbidden", message
        assert code == 4403
        _message, code = await refused_on_the_socket(f"{server.url}/call/{uuid.uuid4().hex}")
        assert code == 4403

        # The console sees and hears the guest: Chromium's fake camera, its beep every second.
        await until(
            lambda: officer.frames[guest.id] >= 30,
            timeout=scaled(30),
            what=lambda: f"the guest's pictures at the console ({officer.frames}); {page.tail()}",
        )
        assert officer.shapes[guest.id] == (180, 320, 4)
        await until(
            lambda: len(officer.onsets[guest.id].onsets) >= 2,
            timeout=scaled(20),
            what=lambda: f"the guest's beeps at the console ({officer.audio[guest.id]} audio frames)",
        )

        # The browser sees the console's camera and hears its tone.
        await until(lambda: _decoding(page, officer.pid, 15), timeout=scaled(30), what=diagnosis)
        before = await _decoded(page, officer.pid)
        await asyncio.sleep(1.0)
        assert await _decoded(page, officer.pid) > before + 5, diagnosis()

        quiet_from = await _energy(page, officer.pid)
        await asyncio.sleep(1.0)
        quiet = await _energy(page, officer.pid) - quiet_from
        officer.mic.tone(1.0)
        loud_from = await _energy(page, officer.pid)
        await until(lambda: _louder(page, officer.pid, loud_from + 0.05), timeout=scaled(10), what=diagnosis)
        assert quiet < 0.01, quiet

        publish = (await page.stats())["publish"]
        assert publish["codec"].lower() in ("video/h264", "video/vp8"), publish
        assert publish["bytesSent"] > 0
        print(f"the first guest sends {publish['codec']} ({publish.get('encoder')})")

        # A second guest, joining straight away and sending VP8 (a browser without H.264): the
        # console decodes it, and the two browsers see each other through the hub.
        link2 = await officer.calls.guest_link("李队员")
        browser2 = browsers(f"{link2.url}?autojoin=1&codec=vp8")
        page2 = await browser2.page(link2.url)
        pages.append(page2)
        browser_logs.append(browser2)
        await until(
            lambda: any(g.publishing and g.name == "李队员" for g in officer.guests(room.room)),
            timeout=scaled(30),
            what=diagnosis,
        )
        guest2 = next(g for g in officer.guests(room.room) if g.name == "李队员")
        await until(lambda: officer.frames[guest2.id] >= 30, timeout=scaled(30), what=diagnosis)
        assert (await page2.stats())["publish"]["codec"].lower() == "video/vp8"
        await until(lambda: _decoding(page, guest2.id, 15), timeout=scaled(30), what=diagnosis)
        await until(lambda: _decoding(page2, guest.id, 15), timeout=scaled(30), what=diagnosis)
        await until(lambda: _decoding(page2, officer.pid, 15), timeout=scaled(30), what=diagnosis)
        print(f"the second guest receives {(await page2.stats())['participants']}")

        # Muting on the page shows at the console, and at the other guest.
        await _tap(page, "mute")
        await until(
            lambda: (p := officer.participant(room.room, guest.id)) is not None and not p.audio,
            what="the guest muted, as the console sees it",
        )
        assert await page.evaluate("document.getElementById('mute').textContent") == "取消静音"
        mic_off = f"document.querySelector('.tile[data-pid=\"{guest.id}\"] .mic-off').parentElement.hidden"
        await until(lambda: _is_false(page2.evaluate(mic_off)), what="the muted icon at the other guest")
        # So does a camera turned off; the other guest shows a placeholder in its place.
        await _tap(page2, "camera")
        await until(
            lambda: (p := officer.participant(room.room, guest2.id)) is not None and not p.video,
            what="the second guest's camera off, as the console sees it",
        )
        avatar = f"document.querySelector('.tile[data-pid=\"{guest2.id}\"] .avatar').hidden"
        await until(lambda: _is_false(page.evaluate(avatar)), what="a placeholder for the camera turned off")
        await _shot(page, tmp_path, "call")
        await page.send("Emulation.setDeviceMetricsOverride", width=390, height=844, deviceScaleFactor=2, mobile=True)
        await asyncio.sleep(0.5)
        await _shot(page, tmp_path, "phone")
        await page.send("Emulation.clearDeviceMetricsOverride")

        # A phone that cannot send (no camera or microphone, or a page not served over HTTPS):
        # it joins to watch and listen, and says why.
        link3 = await officer.calls.guest_link("王协管")
        browser3 = browsers(f"{link3.url}?autojoin=1", devices=False)
        page3 = await browser3.page(link3.url)
        pages.append(page3)
        browser_logs.append(browser3)
        await until(lambda: any(g.name == "王协管" for g in officer.guests(room.room)), what=diagnosis)
        guest3 = next(g for g in officer.guests(room.room) if g.name == "王协管")
        await until(
            lambda: (p := officer.participant(room.room, guest3.id)) is not None and not p.audio and not p.video,
            what="the watching guest shown without microphone and camera",
        )
        await until(lambda: _decoding(page3, officer.pid, 15), timeout=scaled(30), what=diagnosis)
        assert await _page_says(page3, "仅可观看和收听")
        assert not (await page3.stats())["publish"]
        await _shot(page3, tmp_path, "watching")

        # Leaving: the guest is gone from the room, for the console and the other guest; its page says so.
        await _tap(page, "leave")
        await until(lambda: guest.id not in {g.id for g in officer.guests(room.room)}, what="the guest gone")
        await until(lambda: _page_says(page, "您已离开会商"), what="the page's goodbye")
        await _shot(page, tmp_path, "left")
        gone = f"!document.querySelector('.tile[data-pid=\"{guest.id}\"]')"
        await until(lambda: _is_true(page2.evaluate(gone)), what="the guest's tile gone at the other guest")
    except BaseException:
        print(diagnosis())
        raise
    finally:
        for p in pages:
            await p.close()


async def _tap(page: Page, element: str) -> None:
    """A real tap (mouse press and release) in the middle of the element with id ``element``."""
    box = await page.evaluate(
        f"(() => {{ const r = document.getElementById('{element}').getBoundingClientRect();"
        " return [r.x + r.width / 2, r.y + r.height / 2]; })()"
    )
    for kind in ("mousePressed", "mouseReleased"):
        await page.send("Input.dispatchMouseEvent", type=kind, x=box[0], y=box[1], button="left", clickCount=1)


async def _decoded(page: Page, pid: str) -> int:
    got = (await page.stats()).get("participants", {}).get(pid, {})
    return int(got.get("framesDecoded", 0))


async def _decoding(page: Page, pid: str, frames: int) -> bool:
    return await _decoded(page, pid) >= frames


async def _energy(page: Page, pid: str) -> float:
    return float((await page.stats())["participants"][pid]["totalAudioEnergy"])


async def _louder(page: Page, pid: str, limit: float) -> bool:
    return await _energy(page, pid) > limit


async def _is_true(value: Any) -> bool:
    return bool(await value)


async def _is_false(value: Any) -> bool:
    return not await value


async def _page_says(page: Page, text: str) -> bool:
    return text in str(await page.evaluate("document.body ? document.body.innerText : ''"))


async def _shot(page: Page, tmp_path: Path, name: str) -> None:
    """A screenshot of the page into the test's folder, and next to $CITYOPS_GUEST_SCREENSHOT
    (the page in the call as that file itself)."""
    png = await page.screenshot()
    paths = [tmp_path / f"guest_{name}.png"]
    wanted = os.environ.get(SCREENSHOT_ENV)
    if wanted:
        target = Path(wanted)
        paths.append(target if name == "call" else target.with_name(f"{target.stem}_{name}{target.suffix}"))
    for path in paths:
        await asyncio.to_thread(path.write_bytes, png)


async def test_a_guest_socket_takes_only_a_guests_messages(server: ServerProcess, callers: Any) -> None:
    """The signaling of a guest, without a browser: it is in its room and nothing else."""
    officer = await callers(server, "officer", "值班员甲")
    room = await officer.calls.open_room("协查会商")
    other = await callers(server, "officer2", "值班员乙")
    other_room = await other.calls.open_room("另一会商")
    link = await officer.calls.guest_link("")
    ws_url = link.url.replace("http://", "ws://", 1).replace("/call/", "/ws/call/", 1)

    async with websockets.connect(ws_url) as ws:

        async def receive(kind: str) -> dict[str, Any]:
            while True:
                message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), scaled(10)))
                if message["type"] == kind:
                    return message

        state = await receive("room")
        assert state["room"] == room.room and state["you"].startswith("guest-")
        me = next(p for p in state["participants"] if p["id"] == state["you"])
        assert me["name"] == "访客" and me["center"] == GUEST_CENTER and me["guest"]

        for bad in ("not json", json.dumps({"type": "hello", "v": 1, "token": "x"}), json.dumps({"type": "x"})):
            await ws.send(bad)
            assert (await receive("error"))["code"] == "invalid"
        await ws.send("x" * (300 * 1024))
        assert (await receive("error"))["code"] == "invalid"

        offers = [
            ("camera", "CAM-1"),
            ("talk", ""),
            ("publish", other_room.room),
            ("participant", f"{other_room.room}/{other.pid}"),
        ]
        for n, (kind, target) in enumerate(offers):
            offer = {"type": "media_offer", "request": f"r{n}", "kind": kind, "target": target, "sdp": "v=0\r\n"}
            await ws.send(json.dumps(offer))
            refused = await receive("media_refused")
            assert (refused["request"], refused["code"]) == (f"r{n}", "forbidden"), refused
        await ws.send(
            json.dumps(
                {"type": "media_offer", "request": "r9", "kind": "publish", "target": room.room, "sdp": "v=0\r\n"}
            )
        )
        refused = await receive("media_refused")
        assert (refused["request"], refused["code"]) == ("r9", "invalid"), refused

        await ws.send(json.dumps({"type": "ping", "t": 12.5}))
        assert (await receive("pong"))["t"] == 12.5
        await ws.send(json.dumps({"type": "room_mute", "room": other_room.room, "audio": False, "video": False}))
        assert (await receive("error"))["code"] == "forbidden"
        await ws.send(json.dumps({"type": "room_mute", "room": room.room, "audio": False, "video": True}))
        await until(
            lambda: (p := officer.participant(room.room, state["you"])) is not None and not p.audio and p.video,
            what="the guest muted, as the console sees it",
        )
        assert not officer.guests(other_room.room)

        await ws.send(json.dumps({"type": "room_leave", "room": room.room}))
        with contextlib.suppress(websockets.ConnectionClosed):
            while True:
                await asyncio.wait_for(ws.recv(), scaled(10))
        assert ws.close_code == 1000
    await until(lambda: not officer.guests(room.room), what="the guest gone from the room")
