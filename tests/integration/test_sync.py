"""The sync channel end to end: a real server subprocess on 127.0.0.1 (SQLite, and the same
suite on PostgreSQL), real sync services with real cache files, real WebSocket connections."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import httpx
import pytest

from app.domain.model import Action, Status
from app.domain.records import IDX
from app.services.events import ConnectionState
from comms.client import SyncChannel, login
from comms.protocol import messages as m
from integration.conftest import (
    CAOYANG,
    CHANGSHOU,
    GANQUAN,
    PASSWORD,
    post_report,
    report,
    scaled,
)
from support.server import ServerProcess
from support.waiting import until

pytestmark = pytest.mark.timeout(180)


async def _registered_incident(server: ServerProcess, n: int = 0, street: str = CHANGSHOU) -> int:
    # Sensor alarms of this category register automatically (see the catalog).
    result = await post_report(server, report(n, street, category="fire.smoke_alarm", source="sensor"))
    assert result["status"] == "registered"
    return int(result["incident_id"])


async def test_intake_report_reaches_both_caches(server: ServerProcess, consoles: Any) -> None:
    a = await consoles(server, "officer")
    b = await consoles(server, "officer2")
    result = await post_report(server, report(1))
    incident_id = result["incident_id"]
    await until(lambda: a.record(incident_id), what="the report in console A")
    await until(lambda: b.record(incident_id), what="the report in console B")
    record_a, record_b = await a.record(incident_id), await b.record(incident_id)
    assert record_a == record_b
    assert record_a[IDX["status"]] == Status.REPORTED
    assert record_a[IDX["street"]] == CHANGSHOU
    assert record_a[IDX["unit"]] == result["unit"]


async def test_dispatch_from_one_console_reaches_the_other(server: ServerProcess, consoles: Any) -> None:
    a = await consoles(server, "officer")
    b = await consoles(server, "officer2")
    incident_id = (await post_report(server, report(2)))["incident_id"]
    await until(lambda: a.record(incident_id), what="the report in A")
    receipt = await a.service.submit(incident_id, Action.REGISTER, "核实属实")
    assert (await asyncio.wait_for(receipt.result, scaled(10))).accepted
    receipt = await a.service.submit(incident_id, Action.DISPATCH, "请尽快处置", unit="310107015.enforcement")
    assert receipt.state == "sent"
    settled = await asyncio.wait_for(receipt.result, scaled(10))
    assert settled.accepted, settled.reason

    async def dispatched_in_b() -> bool:
        record = await b.record(incident_id)
        return record is not None and record[IDX["status"]] == Status.DISPATCHED

    await until(dispatched_in_b, what="the dispatch in B")
    incident = await b.service.incident(incident_id)
    assert incident is not None
    assert incident.unit == "310107015.enforcement"
    assert [e.action for e in incident.timeline] == [Action.REPORT, Action.REGISTER, Action.DISPATCH]
    assert incident.timeline[-1].actor == "officer"
    assert incident.timeline[-1].note == "请尽快处置"


async def test_a_retried_command_is_applied_once(server: ServerProcess) -> None:
    incident_id = await _registered_incident(server, 3)
    session = await login(server.url, "officer", PASSWORD)
    command = m.Command(key=uuid.uuid4().hex, incident_id=incident_id, action=Action.DISPATCH, note="retry me")
    acks: list[m.Ack] = []
    for _attempt in range(2):  # the same key on two separate sessions, as after a reconnect
        async with SyncChannel(server.ws_url, session.token, last_seq=0) as channel:
            await channel.send(command)
            await channel.send(command)  # and twice on one session
            async for event in channel.events():
                if isinstance(event, m.Ack):
                    acks.append(event)
                    if len(acks) % 2 == 0:
                        break
                assert not isinstance(event, m.Reject), event
    assert len(acks) == 4
    assert len({ack.seq for ack in acks}) == 1
    health = server.health()
    assert health["seq"] == acks[0].seq  # one intake change, one dispatch: nothing more
    record = acks[-1].record
    assert record is not None
    from app.domain.records import from_record

    incident = from_record(record)
    assert [e.action for e in incident.timeline].count(Action.DISPATCH) == 1


async def test_server_killed_mid_stream_loses_no_acknowledged_change(server: ServerProcess, consoles: Any) -> None:
    a = await consoles(server, "officer")
    b = await consoles(server, "officer2")
    acknowledged: dict[int, int] = {}  # incident id → seq of the acknowledged change
    refused = 0
    stop = asyncio.Event()

    async def post_stream() -> None:
        nonlocal refused
        n = 0
        async with httpx.AsyncClient(timeout=2.0) as http:
            while not stop.is_set():
                n += 1
                try:
                    response = await http.post(
                        f"{server.url}/api/reports", json=report(n % 100, GANQUAN), headers={"X-API-Key": server.key}
                    )
                except httpx.HTTPError:
                    refused += 1
                    await asyncio.sleep(0.05)
                    continue
                if response.status_code == 201:
                    body = response.json()
                    acknowledged[body["incident_id"]] = max(acknowledged.get(body["incident_id"], 0), body["seq"])
                await asyncio.sleep(0.01)

    poster = asyncio.create_task(post_stream())
    await until(lambda: len(acknowledged) >= 30, what="a stream of acknowledged reports")
    server.kill()  # SIGKILL mid-stream
    await until(lambda: a.service.state is ConnectionState.OFFLINE, what="console A to notice")
    await asyncio.to_thread(server.start)
    count_at_restart = len(acknowledged)
    await until(lambda: len(acknowledged) >= count_at_restart + 30, what="the stream to go on after restart")
    stop.set()
    await poster
    assert refused > 0  # the stream really did run into the dead server

    head = server.health()["seq"]
    assert head >= max(acknowledged.values())
    for console in (a, b):
        await asyncio.wait_for(console.service.wait_for_seq(head), scaled(20))
        held = await console.ids()
        missing = set(acknowledged) - held
        assert not missing, f"acknowledged incidents missing from {console.service.client_name}: {sorted(missing)[:10]}"
        # The reconnect resumed from last_seq instead of starting over.
        assert console.service.session_modes[0] == "snapshot"
        assert console.service.session_modes[1:] and set(console.service.session_modes[1:]) == {"changes"}
    assert server.health()["incidents"] >= len(acknowledged)


async def test_street_operator_receives_only_its_street(server: ServerProcess, consoles: Any) -> None:
    officer = await consoles(server, "officer")
    changshou = await consoles(server, "changshou")
    placed: dict[str, set[int]] = {CHANGSHOU: set(), CAOYANG: set(), GANQUAN: set()}
    for n in range(12):
        street = (CHANGSHOU, CAOYANG, GANQUAN)[n % 3]
        result = await post_report(server, report(n, street))
        placed[street].add(result["incident_id"])
    head = server.health()["seq"]
    await asyncio.wait_for(officer.service.wait_for_seq(head), scaled(10))
    await asyncio.wait_for(changshou.service.wait_for_seq(head), scaled(10))
    assert await officer.ids() == set().union(*placed.values())
    assert await changshou.ids() == placed[CHANGSHOU]
    # A later console of the same street gets the same from a snapshot.
    late = await consoles(server, "changshou", cache_name="changshou-late")
    await asyncio.wait_for(late.service.wait_for_seq(head), scaled(10))
    assert await late.ids() == placed[CHANGSHOU]
    # And it cannot act on what it cannot see, even by guessing an id.
    foreign = next(iter(placed[CAOYANG]))
    session = await login(server.url, "changshou", PASSWORD)
    async with SyncChannel(server.ws_url, session.token, last_seq=head) as channel:
        await channel.send(m.Command(key=uuid.uuid4().hex, incident_id=foreign, action=Action.REGISTER))
        async for event in channel.events():
            if isinstance(event, m.Reject):
                assert "jurisdiction" in event.reason
                break
            assert not isinstance(event, m.Ack)


async def test_conflicting_commands_one_wins_the_other_lands_in_the_inbox(server: ServerProcess, consoles: Any) -> None:
    a = await consoles(server, "officer")
    b = await consoles(server, "officer2")
    incident_id = await _registered_incident(server, 5)
    await until(lambda: a.record(incident_id), what="the incident in A")
    await until(lambda: b.record(incident_id), what="the incident in B")
    first, second = await asyncio.gather(
        a.service.submit(incident_id, Action.DISPATCH, "A 派单", unit="fire_brigade"),
        b.service.submit(incident_id, Action.DISPATCH, "B 派单", unit="310107015.safety"),
    )
    results = await asyncio.gather(
        asyncio.wait_for(first.result, scaled(10)), asyncio.wait_for(second.result, scaled(10))
    )
    assert sorted(r.accepted for r in results) == [False, True]
    loser_console = a if not results[0].accepted else b
    loser = results[0] if not results[0].accepted else results[1]
    assert loser.code == "illegal_transition"
    assert "dispatched" in loser.reason and "dispatch" in loser.reason
    conflicts = await loser_console.service.conflicts()
    assert [c.command.key for c in conflicts] == [loser.key]
    assert conflicts[0].reason == loser.reason
    # Both caches end on the winner's dispatch; the loser's optimistic effect is gone.
    winner_unit = "fire_brigade" if results[0].accepted else "310107015.safety"
    for console in (a, b):

        async def settled(console: Any = console) -> bool:
            record = await console.record(incident_id)
            return bool(record[IDX["unit"]] == winner_unit and record[IDX["status"]] == Status.DISPATCHED)

        await until(settled, what="the winner's dispatch everywhere")
    incident = await loser_console.service.incident(incident_id)
    assert incident is not None
    assert [e.action for e in incident.timeline].count(Action.DISPATCH) == 1
    assert await loser_console.service.db(loser_console.cache.outbox_size) == 0


async def test_actions_queue_offline_and_apply_after_restart(server: ServerProcess, consoles: Any) -> None:
    a = await consoles(server, "officer")
    b = await consoles(server, "officer2")
    incident_id = await _registered_incident(server, 6)
    await until(lambda: a.record(incident_id), what="the incident in A")
    await asyncio.to_thread(server.stop)
    await until(lambda: a.service.state is ConnectionState.OFFLINE, what="A to go offline")
    receipt = await a.service.submit(incident_id, Action.DISPATCH, "离线派单")
    assert receipt.state == "queued"
    local = await a.service.incident(incident_id)
    assert local is not None and local.status is Status.DISPATCHED  # the optimistic effect
    assert await a.service.db(a.cache.outbox_size) == 1
    await asyncio.to_thread(server.start)
    settled = await asyncio.wait_for(receipt.result, scaled(30))
    assert settled.accepted, settled.reason
    assert await a.service.db(a.cache.outbox_size) == 0

    async def dispatched_in_b() -> bool:
        record = await b.record(incident_id)
        return record is not None and record[IDX["status"]] == Status.DISPATCHED

    await until(dispatched_in_b, timeout=20, what="the queued dispatch in B")


async def test_a_restarted_console_resumes_from_its_cache(server: ServerProcess, consoles: Any) -> None:
    a = await consoles(server, "officer", cache_name="resume")
    first = (await post_report(server, report(1)))["incident_id"]
    await until(lambda: a.record(first), what="the first report")
    await a.stop()
    missed = (await post_report(server, report(2)))["incident_id"]
    again = await consoles(server, "officer", cache_name="resume")
    await until(lambda: again.record(missed), what="the missed report")
    assert again.service.session_modes == ["changes"]
    assert {first, missed} <= await again.ids()


async def test_an_unknown_token_is_refused(server: ServerProcess, consoles: Any) -> None:
    a = await consoles(server, "officer")
    await until(lambda: a.service.state is ConnectionState.ONLINE, what="A online")
    from app.services.sync import SyncService

    service = SyncService(server.url, "not-a-token", a.service.principal, a.cache, a.service.catalog)
    await asyncio.wait_for(service.run(), scaled(10))  # returns instead of retrying forever
    assert service.state is ConnectionState.AUTH_FAILED


async def test_bad_intake_gets_a_clear_error_and_the_server_carries_on(server: ServerProcess) -> None:
    async with httpx.AsyncClient(timeout=scaled(10)) as http:
        url = f"{server.url}/api/reports"
        key = {"X-API-Key": server.key}
        response = await http.post(url, json=report(1))
        assert response.status_code == 401
        assert response.json()["error"] == "unauthorized"
        response = await http.post(url, json=report(1, category="no.such"), headers=key)
        assert response.status_code == 422
        assert "no.such" in response.json()["message"]
        response = await http.post(url, content=b"{not json", headers={**key, "content-type": "application/json"})
        assert response.status_code == 422
        assert response.json()["error"] == "invalid_request"
        response = await http.post(url, json={**report(1), "lat": "north"}, headers=key)
        assert response.status_code == 422
        assert "lat" in response.json()["message"]
        response = await http.post(url, json={**report(1), "lon": 100.0, "lat": 10.0}, headers=key)
        assert response.status_code == 422
        assert "outside" in response.json()["message"]
        response = await http.post(url, json={**report(1), "street": "999999999"}, headers=key)
        assert response.status_code == 422
        assert "999999999" in response.json()["message"]
        response = await http.post(url + "/batch", json=[report(1), {**report(2), "source": "pigeon"}], headers=key)
        assert response.status_code == 422
        assert response.json()["message"].startswith("1.source") or "[1]" in response.json()["message"]
        response = await http.post(f"{server.url}/api/login", json={"user": "officer", "password": "wrong"})
        assert response.status_code == 401
        assert response.json()["message"] == "wrong user name or password"
        body = report(7)
        ok = await http.post(url, json=body, headers=key)
        assert ok.status_code == 201
        again = await http.post(url, json=body, headers=key)
        assert again.status_code == 201
        assert again.json()["duplicate"] is True
        assert again.json()["incident_id"] == ok.json()["incident_id"]
        assert again.json()["seq"] == ok.json()["seq"]  # the change that recorded it
        response = await http.post(url, json={**report(8), "observed_at": time.time() + 3600}, headers=key)
        assert response.status_code == 422
        assert "future" in response.json()["message"]
    health = server.health()
    assert health["status"] == "ok"
    assert health["incidents"] == 1
    assert health["seq"] == 1


async def test_health_and_openapi(server: ServerProcess) -> None:
    async with httpx.AsyncClient(timeout=scaled(10)) as http:
        health = (await http.get(f"{server.url}/healthz")).json()
        assert {"status", "seq", "incidents"} <= set(health)
        schema = (await http.get(f"{server.url}/openapi.json")).json()
    assert "/api/reports" in schema["paths"]
    assert "/api/login" in schema["paths"]
    report_schema = schema["components"]["schemas"]["ReportIn"]
    assert {"report_id", "source", "category", "lon", "lat"} <= set(report_schema["properties"])
