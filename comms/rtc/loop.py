"""A thread with its own asyncio loop for media work.

aiortc does a lot of small work per packet (RTP, SRTP, jitter buffer, RTCP). On the console's
Qt loop that work would compete with painting; on the server's loop, with the sync channel. So
both run their media on a :class:`MediaLoop` and talk to it through futures."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import ctypes
import logging
import sys
import threading
import warnings
from collections.abc import Callable, Coroutine
from types import ModuleType
from typing import Any, TypeVar

uvloop: ModuleType | None
try:
    import uvloop
except ImportError:  # pragma: no cover - a dependency where it builds (not on Windows)
    uvloop = None

log = logging.getLogger(__name__)

T = TypeVar("T")


def _name_os_thread(name: str) -> None:
    """Give the OS thread a name (Linux), so ``top -H`` and /proc tell the media thread apart."""
    if sys.platform != "linux":
        return
    try:
        libc = ctypes.CDLL(None)
        libc.prctl(15, name.encode()[:15], 0, 0, 0)  # PR_SET_NAME
    except (OSError, AttributeError):
        pass


class MediaLoop:
    """An event loop running in a daemon thread until :meth:`stop`."""

    def __init__(self, name: str = "cityops-media") -> None:
        # uvloop where it is installed (it is, with uvicorn[standard]): aiortc's work is a great
        # many small datagrams and callbacks, which libuv handles at a fraction of the cost.
        self.loop = uvloop.new_event_loop() if uvloop is not None else asyncio.new_event_loop()
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()
        self._started.wait()

    def _run(self) -> None:
        _name_os_thread(self._thread.name)
        asyncio.set_event_loop(self.loop)
        self.loop.call_soon(self._started.set)
        try:
            self.loop.run_forever()
        finally:
            with contextlib.suppress(Exception):
                self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            # aiortc leaves some UDP handles to the loop's close, which uvloop reports as
            # unclosed resources; they are closed here, on purpose.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ResourceWarning)
                self.loop.close()

    @property
    def running(self) -> bool:
        return self._thread.is_alive() and not self.loop.is_closed()

    @property
    def thread(self) -> threading.Thread:
        return self._thread

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Run ``coro`` on the media loop; a future of its result for any thread."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    async def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Await ``coro`` run on the media loop, from another event loop."""
        return await asyncio.wrap_future(self.submit(coro))

    def call_soon(self, fn: Callable[..., object], *args: object) -> None:
        """Call ``fn(*args)`` on the media loop (from any thread)."""
        self.loop.call_soon_threadsafe(fn, *args)

    def stop(self, timeout: float = 5.0) -> None:
        """Cancel what runs on the loop, let it finish, stop the thread."""
        if not self.running:
            return

        async def _cancel_all() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.wait(tasks, timeout=timeout) if tasks else None

        with contextlib.suppress(Exception):
            self.submit(_cancel_all()).result(timeout + 1)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.warning("the media loop did not stop within %.0f s", timeout)
