"""Talk groups end to end on 127.0.0.1: consoles join a street's group over their sync channel
and the server's floor control grants, queues, pre-empts, releases and revokes the floor;
a late joiner hears who is talking; a street operator cannot join another street's group.
(The audio that follows the floor comes with the calls; this is the floor control's wire.)"""

from __future__ import annotations

from typing import Any

import pytest

from app.domain import floor
from app.services.events import TalkChanged
from comms.protocol import messages as m
from integration.conftest import CHANGSHOU, scaled
from support.server import ServerProcess
from support.waiting import until

pytestmark = pytest.mark.timeout(120)

GROUP = f"street:{CHANGSHOU}"


def heard(console: Any, kind: type) -> list[Any]:
    """The floor events of GROUP this console received, of one kind."""
    return [
        e.message.event
        for e in console.events
        if isinstance(e, TalkChanged)
        and e.group == GROUP
        and isinstance(e.message, m.Talk)
        and isinstance(e.message.event, kind)
    ]


def refused(console: Any) -> list[m.TalkRefused]:
    return [e.message for e in console.events if isinstance(e, TalkChanged) and isinstance(e.message, m.TalkRefused)]


async def online(*consoles: Any) -> None:
    await until(lambda: all(c.service.state.value == "online" for c in consoles), timeout=scaled(20))


async def test_floor_control_over_the_sync_channel(server: ServerProcess, consoles: Any) -> None:
    street = await consoles(server, "changshou")  # normal priority
    officer = await consoles(server, "officer")  # district officer: commander priority
    officer2 = await consoles(server, "officer2")
    await online(street, officer, officer2)
    for c in (street, officer, officer2):
        await c.service.talk(m.TalkJoin(group=GROUP))
    await until(lambda: all(heard(c, floor.Idle) for c in (street, officer, officer2)), what="idle on join")

    # Grant on an idle floor; everyone else hears who talks.
    await street.service.talk(m.TalkRequest(group=GROUP))
    await until(lambda: heard(street, floor.Granted), what="the street's grant")
    await until(lambda: heard(officer, floor.Taken) and heard(officer2, floor.Taken), what="taken, to the others")
    assert heard(officer, floor.Taken)[-1].name == "长寿路街道"

    # A commander pre-empts a normal talker.
    await officer.service.talk(m.TalkRequest(group=GROUP))
    await until(lambda: heard(street, floor.Revoked), what="the street revoked")
    assert heard(street, floor.Revoked)[-1].cause == floor.RevokeCause.PREEMPTED
    await until(lambda: heard(officer, floor.Granted), what="the officer's grant")

    # Equal priority queues; a normal request queues behind it.
    await officer2.service.talk(m.TalkRequest(group=GROUP))
    await until(lambda: heard(officer2, floor.Queued), what="officer2 queued")
    assert heard(officer2, floor.Queued)[-1].position == 1
    await street.service.talk(m.TalkRequest(group=GROUP))
    await until(lambda: heard(street, floor.Queued), what="the street queued")
    assert heard(street, floor.Queued)[-1].position == 2

    # Release: the floor passes to the head of the queue.
    await officer.service.talk(m.TalkRelease(group=GROUP))
    await until(lambda: heard(officer2, floor.Granted), what="officer2 granted after the release")

    # A commander revokes the talker; the floor passes on to the street.
    await officer.service.talk(m.TalkRevoke(group=GROUP, reason="指挥长收回话权"))
    await until(lambda: any(r.cause == floor.RevokeCause.REVOKED for r in heard(officer2, floor.Revoked)))
    await until(lambda: len(heard(street, floor.Granted)) == 2, what="the street granted from the queue")

    # Late entry: a console joining mid-burst hears who is talking.
    late = await consoles(server, "officer", cache_name="officer-late")
    await online(late)
    await late.service.talk(m.TalkJoin(group=GROUP))
    await until(lambda: heard(late, floor.Taken), what="the late joiner told who talks")
    assert heard(late, floor.Taken)[-1].name == "长寿路街道"

    # An emergency call pre-empts even a commander.
    await street.service.talk(m.TalkRelease(group=GROUP))
    await officer.service.talk(m.TalkRequest(group=GROUP))
    await until(lambda: len(heard(officer, floor.Granted)) == 2, what="the officer's second grant")
    await officer2.service.talk(m.TalkRequest(group=GROUP, emergency=True))
    await until(lambda: len(heard(officer, floor.Revoked)) == 1, what="the officer pre-empted by the emergency")
    granted = heard(officer2, floor.Granted)[-1]
    assert granted.emergency

    # Leaving releases the floor: the others hear it go idle.
    await officer2.service.stop()
    await until(lambda: heard(street, floor.Idle) and len(heard(street, floor.Idle)) >= 2, what="idle after leaving")


async def test_a_street_operator_cannot_join_another_streets_group(server: ServerProcess, consoles: Any) -> None:
    other = await consoles(server, "caoyang")
    await online(other)
    await other.service.talk(m.TalkJoin(group=GROUP))
    await other.service.talk(m.TalkRequest(group=GROUP))
    await other.service.talk(m.TalkJoin(group="radio:1"))
    await until(lambda: len(refused(other)) == 3, what="three refusals")
    codes = [r.code for r in refused(other)]
    assert codes == ["forbidden", "not_joined", "unknown_group"]
    assert not heard(other, floor.Granted)
