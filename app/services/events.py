"""What the console's services tell the widgets, and the store they subscribe to.

Following "attributes down, messages up": services publish these small immutable events; a
subscriber gets each one on the event loop and returns quickly. ``subscribe`` returns the
callable that undoes the subscription.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass

from comms.protocol.messages import GuestLink, Room, RoomRefused, Talk, TalkRefused

log = logging.getLogger(__name__)


class ConnectionState(enum.StrEnum):
    OFFLINE = "offline"
    CONNECTING = "connecting"
    CATCHING_UP = "catching_up"
    ONLINE = "online"
    AUTH_FAILED = "auth_failed"


@dataclass(frozen=True)
class IncidentsChanged:
    """Incidents changed in the cache. ``reset`` means the whole cache was replaced (a
    snapshot): reload everything, ``ids`` is then empty."""

    ids: frozenset[int]
    reset: bool = False


@dataclass(frozen=True)
class DevicesChanged:
    """Field devices changed in the cache; ``reset``: the whole set was replaced."""

    ids: frozenset[str]
    reset: bool = False


@dataclass(frozen=True)
class ConnectionChanged:
    state: ConnectionState
    detail: str = ""
    last_sync_at: float | None = None


@dataclass(frozen=True)
class CommandSettled:
    """The server decided a command: ``accepted`` True, or rejected with ``code`` and ``reason``."""

    key: str
    incident_id: int
    accepted: bool
    code: str = ""
    reason: str = ""


@dataclass(frozen=True)
class OutboxChanged:
    size: int
    conflicts: int


@dataclass(frozen=True)
class TalkChanged:
    """What the floor control of talk group ``group`` says to this console: ``message`` is a
    :class:`comms.protocol.messages.Talk` (a floor event) or ``TalkRefused``."""

    group: str
    message: Talk | TalkRefused


@dataclass(frozen=True)
class RoomChanged:
    """A conference room this console is invited to or in changed (``Room``, its whole state),
    a room message was refused (``RoomRefused``), or a guest link was issued (``GuestLink``)."""

    message: Room | RoomRefused | GuestLink


Event = (
    IncidentsChanged | DevicesChanged | ConnectionChanged | CommandSettled | OutboxChanged | TalkChanged | RoomChanged
)
Subscriber = Callable[[Event], None]


class DomainStore:
    """The event hub of the console's domain state."""

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        self._subscribers.append(subscriber)

        def unsubscribe() -> None:
            if subscriber in self._subscribers:
                self._subscribers.remove(subscriber)

        return unsubscribe

    def emit(self, event: Event) -> None:
        for subscriber in list(self._subscribers):
            try:
                subscriber(event)
            except Exception:  # one broken view must not stop the others
                log.exception("subscriber %r failed on %r", subscriber, event)
