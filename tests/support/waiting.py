"""Waiting for a condition in async tests, with time limits that scale with
``CITYOPS_TEST_TIMEOUT_SCALE``."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from support.server import timeout_scale


async def until(predicate: Callable[[], Any], timeout: float = 10.0, what: Any = "condition") -> None:
    """Wait (on the running loop) until ``predicate()`` is true; it may return an awaitable.
    ``what`` names the condition in the failure (a callable is asked at that moment)."""
    limit = timeout * timeout_scale()
    deadline = time.monotonic() + limit
    while True:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return
        if time.monotonic() > deadline:
            name = what() if callable(what) else what
            raise AssertionError(f"timed out after {limit:.1f} s waiting for {name}")
        await asyncio.sleep(0.02)
