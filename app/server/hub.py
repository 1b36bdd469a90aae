"""Fan-out of committed changes to the connected consoles, each filtered to what its user may
see. A subscription returns its unsubscribe callable."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from app.domain.catalog import Catalog
from app.domain.devices import Device, DeviceView
from app.domain.permissions import Scope
from app.server.writer import Published

#: A console this far behind is cut off; it reconnects and catches up from the log, which is
#: cheaper for everyone than an unbounded queue in the server.
MAX_BACKLOG = 2000


@dataclass(frozen=True)
class Batch:
    """Changes ``after`` < seq ≤ ``upto`` that one subscriber may see."""

    upto: int
    items: list[Published]


@dataclass(frozen=True)
class DeviceBatch:
    """Devices that changed, those one subscriber may see."""

    devices: list[Device]


class Subscriber:
    """One console's live feed."""

    def __init__(self, scope: Scope, devices: DeviceView | None = None) -> None:
        self.scope = scope
        self.devices = devices
        self.queue: asyncio.Queue[Batch | DeviceBatch | None] = asyncio.Queue()
        self.overflowed = False

    def _full(self) -> bool:
        if self.overflowed:
            return True
        if self.queue.qsize() >= MAX_BACKLOG:
            self.overflowed = True
            self.queue.put_nowait(None)
            return True
        return False

    def offer_devices(self, devices: list[Device]) -> None:
        if self.devices is None or self._full():
            return
        visible = [d for d in devices if self.devices.sees(d)]
        if visible:
            self.queue.put_nowait(DeviceBatch(visible))

    def offer(self, upto: int, items: list[Published]) -> None:
        if self._full():
            return
        scope = self.scope
        visible = items if scope.everything else [p for p in items if scope.contains(p.street, p.category, p.unit)]
        self.queue.put_nowait(Batch(upto, visible))


class Hub:
    """Keeps the subscribers and hands each committed batch to all of them."""

    def __init__(self, catalog: Catalog | None = None) -> None:
        self.catalog = catalog
        self._subscribers: set[Subscriber] = set()

    def device_view(self, scope: Scope) -> DeviceView | None:
        return DeviceView(scope, self.catalog) if self.catalog is not None else None

    def publish_devices(self, devices: list[Device]) -> None:
        for subscriber in list(self._subscribers):
            subscriber.offer_devices(devices)

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        self._subscribers.add(subscriber)
        return lambda: self._subscribers.discard(subscriber)

    def publish(self, upto: int, items: list[Published]) -> None:
        for subscriber in list(self._subscribers):
            subscriber.offer(upto, items)

    @property
    def count(self) -> int:
        return len(self._subscribers)
