"""The console's cache on real SQLite files: snapshots built beside the replica and swapped in,
server changes, the outbox with its optimistic effects and rebase, settling, the conflict
inbox, durability across a restart and the repair of a crash between the two files' commits."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from app.domain import workflow
from app.domain.catalog import Catalog
from app.domain.devices import Device, DeviceKind, DeviceState
from app.domain.intake import Report, open_incident
from app.domain.model import Action, Incident, SourceChannel, Status
from app.domain.records import FIELDS, IDX, Record, to_record
from app.storage.cache import ConsoleCache, Rebase, replica_path
from app.storage.catalog_file import read_catalog
from comms.protocol.messages import Command

T0 = 1_700_000_000.0
MIN = 60.0
CAOYANG = "310107005"
POINT = (121.4085, 31.2435)
CATEGORY = "facilities.manhole_cover"  # registered automatically when a sensor reports it

OPERATOR = "operator.chen"
SUPERVISOR = "supervisor.wang"
#: When the operator acts (and when pending commands are replayed): one fixed time, so that a
#: replayed command gives exactly the incident its optimistic effect gave.
LOCAL_AT = T0 + 30 * MIN

SECONDARY_INDEXES = {"ix_incidents_category_lat", "ix_incidents_street"}


# ---- helpers -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return read_catalog()


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "console.db"


@pytest.fixture
def cache(path: Path) -> Iterator[ConsoleCache]:
    c = ConsoleCache(path)
    yield c
    c.close()


@pytest.fixture
def rebase(catalog: Catalog) -> Rebase:
    return make_rebase(catalog, OPERATOR, LOCAL_AT)


def make_rebase(catalog: Catalog, actor: str, at: float) -> Rebase:
    """What :meth:`app.services.sync.SyncService._rebase` does: the workflow with the operator's
    name; a dispatch without a unit goes to the incident's unit or the routed one."""

    def rebase(incident: Incident, command: Command) -> Incident:
        unit = command.unit
        if command.action is Action.DISPATCH and unit is None:
            unit = incident.unit or catalog.route(incident.category, incident.location.street)
        return workflow.apply(
            incident,
            command.action,
            actor=actor,
            at=at,
            standard=catalog.standard_for(incident.category),
            note=command.note,
            unit=unit,
            target_id=command.target_id,
        )

    return rebase


def make_incident(catalog: Catalog, incident_id: int, *, title: str = "") -> Incident:
    """A realistic incident as intake opens it: a sensor report of a missing manhole cover,
    routed and registered automatically."""
    report = Report(
        report_id=f"sensor-{incident_id}",
        source=SourceChannel.SENSOR,
        category=CATEGORY,
        title=title or f"井盖缺失 Manhole cover missing #{incident_id}",
        description="sensor tilt alarm",
        lon=POINT[0] + incident_id * 1e-6,
        lat=POINT[1],
        street=CAOYANG,
        address="梅岭北路 Meiling North Road",
        observed_at=T0,
    )
    incident = open_incident(report, incident_id, catalog, T0 + MIN)
    assert incident.status is Status.REGISTERED
    return incident


def on_server(catalog: Catalog, incident: Incident, action: Action, minutes: float, **kw: Any) -> Incident:
    """What another user's action makes of an incident on the server."""
    return workflow.apply(
        incident,
        action,
        actor=SUPERVISOR,
        at=T0 + minutes * MIN,
        standard=catalog.standard_for(incident.category),
        **kw,
    )


def command(key: str, incident_id: int, action: Action, **kw: Any) -> Command:
    return Command(key=key, incident_id=incident_id, action=action, **kw)


def snapshot(cache: ConsoleCache, records: list[Record], seq: int, rebase: Rebase, chunk: int = 7) -> set[int]:
    cache.begin_snapshot()
    for i in range(0, len(records), chunk):
        cache.insert_snapshot(records[i : i + chunk])
    return cache.end_snapshot(seq, rebase)


def replica_query(cache: ConsoleCache, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Read the replica file with a connection of its own, not the cache's."""
    with closing(sqlite3.connect(cache.replica)) as conn:
        return conn.execute(sql, params).fetchall()


def replica_write(cache: ConsoleCache, sql: str, params: tuple[Any, ...] = ()) -> None:
    with closing(sqlite3.connect(cache.replica)) as conn:
        conn.execute(sql, params)
        conn.commit()


def shadow_record(cache: ConsoleCache, incident_id: int) -> Record | None:
    rows = replica_query(cache, f"SELECT {', '.join(FIELDS)} FROM shadow WHERE id = ?", (incident_id,))
    return None if not rows else rows[0]


def shadow_ids(cache: ConsoleCache) -> set[int]:
    return {r[0] for r in replica_query(cache, "SELECT id FROM shadow")}


def seq_of(record: Record | None) -> int:
    assert record is not None
    seq = record[IDX["seq"]]
    assert isinstance(seq, int)
    return seq


def building_files(path: Path) -> list[Path]:
    return sorted(p for p in path.parent.iterdir() if ".new" in p.name)


@pytest.fixture
def registered(cache: ConsoleCache, catalog: Catalog, rebase: Rebase) -> Incident:
    """A cache holding one registered incident (id 1, change 1) and two others."""
    incidents = [make_incident(catalog, i) for i in (1, 2, 3)]
    snapshot(cache, [to_record(inc, 1) for inc in incidents], 3, rebase)
    return incidents[0]


# ---- snapshots ---------------------------------------------------------------------------


def test_replica_lives_beside_the_cache_file(path: Path, cache: ConsoleCache) -> None:
    assert cache.replica == replica_path(path) == path.with_name("console.replica.db")
    assert path.exists()
    assert cache.replica.exists()
    assert cache.count() == 0
    assert cache.last_seq == 0
    assert cache.last_sync_at is None
    tables = {r[0] for r in replica_query(cache, "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"incidents", "shadow", "replica_meta"} <= tables
    assert "outbox" not in tables


def test_snapshot_in_chunks(cache: ConsoleCache, catalog: Catalog, rebase: Rebase) -> None:
    records = [to_record(make_incident(catalog, i), 100 + i) for i in range(1, 31)]
    cache.begin_snapshot()
    for i in range(0, 30, 7):
        cache.insert_snapshot(records[i : i + 7])
    touched = cache.end_snapshot(250, rebase)

    assert touched == set()
    assert cache.count() == 30
    assert cache.last_seq == 250
    assert cache.last_sync_at is not None
    assert cache.ids() == set(range(1, 31))
    for record in records:
        assert cache.record(record[0]) == record
    assert cache.incident(7) == make_incident(catalog, 7)
    assert cache.incident(31) is None


def test_snapshot_creates_the_secondary_indexes(cache: ConsoleCache, catalog: Catalog, rebase: Rebase) -> None:
    snapshot(cache, [to_record(make_incident(catalog, i), i) for i in range(1, 5)], 4, rebase)
    indexes = {
        name
        for (name,) in replica_query(
            cache, "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'incidents'"
        )
    }
    assert indexes >= SECONDARY_INDEXES
    plan = replica_query(cache, "EXPLAIN QUERY PLAN SELECT id FROM incidents WHERE street = ?", (CAOYANG,))
    assert any("ix_incidents_street" in str(row) for row in plan)
    assert building_files(cache.path) == []


def test_old_replica_serves_until_the_new_snapshot_ends(cache: ConsoleCache, catalog: Catalog, rebase: Rebase) -> None:
    old = [to_record(make_incident(catalog, i), i) for i in (1, 2, 3)]
    snapshot(cache, old, 3, rebase)

    renamed = make_incident(catalog, 2, title="井盖已补 Manhole cover replaced")
    new = [to_record(renamed, 9), to_record(make_incident(catalog, 4), 8), to_record(make_incident(catalog, 5), 7)]
    cache.begin_snapshot()
    cache.insert_snapshot(new[:2])
    assert building_files(cache.path)  # the new replica is being built beside the old one
    # Until end_snapshot the console keeps working on the old copy.
    assert cache.count() == 3
    assert cache.last_seq == 3
    assert cache.ids() == {1, 2, 3}
    assert cache.record(2) == old[1]
    assert cache.incident(4) is None
    cache.insert_snapshot(new[2:])
    assert cache.count() == 3

    cache.end_snapshot(9, rebase)
    # The new snapshot replaces the old copy wholesale.
    assert cache.ids() == {2, 4, 5}
    assert cache.incident(1) is None
    assert cache.incident(3) is None
    assert cache.incident(2) == renamed
    assert cache.record(4) == new[1]
    assert cache.count() == 3
    assert cache.last_seq == 9
    assert building_files(cache.path) == []


def test_close_during_a_build_keeps_the_old_replica(path: Path, catalog: Catalog, rebase: Rebase) -> None:
    cache = ConsoleCache(path)
    old = [to_record(make_incident(catalog, i), i) for i in (1, 2)]
    snapshot(cache, old, 2, rebase)
    cache.begin_snapshot()
    cache.insert_snapshot([to_record(make_incident(catalog, i), 10) for i in (7, 8, 9)])
    assert building_files(path)
    cache.close()
    assert building_files(path) == []  # the half-built file is removed

    again = ConsoleCache(path)
    try:
        assert again.ids() == {1, 2}
        assert again.last_seq == 2
        assert again.record(1) == old[0]
        assert again.record(2) == old[1]
        # And a later snapshot still works.
        snapshot(again, [to_record(make_incident(catalog, 9), 12)], 12, rebase)
        assert again.ids() == {9}
        assert again.last_seq == 12
    finally:
        again.close()


def test_snapshot_calls_out_of_order_raise(cache: ConsoleCache, rebase: Rebase) -> None:
    with pytest.raises(RuntimeError):
        cache.insert_snapshot([])
    with pytest.raises(RuntimeError):
        cache.end_snapshot(1, rebase)


def test_begin_snapshot_again_starts_over(cache: ConsoleCache, catalog: Catalog, rebase: Rebase) -> None:
    cache.begin_snapshot()
    cache.insert_snapshot([to_record(make_incident(catalog, i), 1) for i in (1, 2)])
    cache.begin_snapshot()  # e.g. the connection dropped mid-snapshot and a new one began
    cache.insert_snapshot([to_record(make_incident(catalog, 3), 5)])
    cache.end_snapshot(5, rebase)
    assert cache.ids() == {3}
    assert cache.last_seq == 5


# ---- server changes ----------------------------------------------------------------------


def test_apply_changes_upserts_and_moves_last_seq(
    cache: ConsoleCache, catalog: Catalog, rebase: Rebase, registered: Incident
) -> None:
    two = make_incident(catalog, 2)
    supervised = on_server(catalog, two, Action.SUPERVISE, 10)
    four = make_incident(catalog, 4)
    changed = cache.apply_changes([to_record(four, 4), to_record(supervised, 5)], 5, rebase)

    assert changed == [4, 2]
    assert cache.last_seq == 5
    assert cache.count() == 4
    assert cache.incident(4) == four
    assert cache.incident(2) == supervised
    assert cache.record(2) == to_record(supervised, 5)
    assert cache.incident(1) == registered  # untouched

    # Changes that carry no record for this user still move the position.
    assert cache.apply_changes([], 8, rebase) == []
    assert cache.last_seq == 8


def test_an_older_record_never_overwrites_a_newer_one(cache: ConsoleCache, catalog: Catalog, rebase: Rebase) -> None:
    one = make_incident(catalog, 1)
    snapshot(cache, [to_record(one, 1)], 1, rebase)
    newer = on_server(catalog, one, Action.SUPERVISE, 10)
    cache.apply_changes([to_record(newer, 6)], 6, rebase)

    cache.apply_changes([to_record(one, 3)], 7, rebase)
    assert cache.record(1) == to_record(newer, 6)
    assert cache.last_seq == 7

    # Several versions of one incident in one message: the newest wins, whatever the order.
    dispatched = on_server(catalog, newer, Action.DISPATCH, 20, unit="construction")
    cache.apply_changes([to_record(dispatched, 9), to_record(newer, 8)], 9, rebase)
    assert cache.record(1) == to_record(dispatched, 9)


def test_an_older_record_never_overwrites_a_newer_shadow(
    cache: ConsoleCache, catalog: Catalog, rebase: Rebase, registered: Incident
) -> None:
    dispatch = command("k-dispatch", 1, Action.DISPATCH)
    suspend = command("k-suspend", 1, Action.SUSPEND, note="road closed for works")
    cache.enqueue(dispatch, rebase(registered, dispatch))
    cache.enqueue(suspend, rebase(rebase(registered, dispatch), suspend))

    # On the server a supervisor flagged it (change 4), then our dispatch was applied (change 5).
    flagged = on_server(catalog, registered, Action.SUPERVISE, 10)
    dispatched = on_server(catalog, flagged, Action.DISPATCH, 11, unit="construction")
    # The ack comes first (it is sent by another task than the live changes) ...
    cache.settle("k-dispatch", to_record(dispatched, 5), rebase)
    assert seq_of(shadow_record(cache, 1)) == 5
    assert cache.incident(1) == rebase(dispatched, suspend)
    # ... then the change before it.
    cache.apply_changes([to_record(flagged, 4)], 4, rebase)

    assert seq_of(shadow_record(cache, 1)) == 5
    assert cache.incident(1) == rebase(dispatched, suspend)


# ---- the outbox and optimistic effects ---------------------------------------------------


def test_enqueue_writes_the_command_and_its_effect(
    cache: ConsoleCache, catalog: Catalog, rebase: Rebase, registered: Incident
) -> None:
    dispatch = command("k-dispatch", 1, Action.DISPATCH, note="send the road crew")
    effect = rebase(registered, dispatch)
    assert cache.enqueue(dispatch, effect) == 1

    assert cache.outbox_size() == 1
    assert cache.incident(1) == effect
    assert cache.incident(1).status is Status.DISPATCHED  # type: ignore[union-attr]
    # The effect keeps the server's change number; the server's copy waits in the shadow.
    assert seq_of(cache.record(1)) == 1
    assert shadow_record(cache, 1) == to_record(registered, 1)
    assert shadow_ids(cache) == {1}

    supervise = command("k-supervise", 2, Action.SUPERVISE)
    assert cache.enqueue(supervise, rebase(make_incident(catalog, 2), supervise)) == 2
    second = command("k-accept", 1, Action.ACCEPT)
    assert cache.enqueue(second, rebase(effect, second)) == 3
    # The shadow of incident 1 is still the server's copy, not the first effect.
    assert shadow_record(cache, 1) == to_record(registered, 1)

    pending = cache.pending()
    assert [p.command for p in pending] == [dispatch, supervise, second]
    assert [p.n for p in pending] == sorted(p.n for p in pending)
    assert all(p.attempts == 0 for p in pending)
    assert pending[0].created_at <= pending[1].created_at <= pending[2].created_at

    cache.mark_sent(["k-dispatch", "k-accept"])
    cache.mark_sent(["k-accept"])
    assert [p.attempts for p in cache.pending()] == [1, 0, 2]


def test_enqueue_for_an_incident_not_in_the_cache(cache: ConsoleCache, registered: Incident) -> None:
    orphan = command("k-orphan", 99, Action.SUPERVISE)
    assert cache.enqueue(orphan, None) == 1
    assert [p.command for p in cache.pending()] == [orphan]
    assert cache.incident(99) is None
    assert shadow_ids(cache) == set()


def test_server_change_is_rebased_under_a_pending_command(
    cache: ConsoleCache, catalog: Catalog, rebase: Rebase, registered: Incident
) -> None:
    dispatch = command("k-dispatch", 1, Action.DISPATCH)
    cache.enqueue(dispatch, rebase(registered, dispatch))

    supervised = on_server(catalog, registered, Action.SUPERVISE, 10)
    assert cache.apply_changes([to_record(supervised, 4)], 4, rebase) == [1]

    assert cache.last_seq == 4
    assert shadow_record(cache, 1) == to_record(supervised, 4)
    local = cache.incident(1)
    assert local is not None
    assert local.status is Status.DISPATCHED
    assert local.supervised
    assert local == rebase(supervised, dispatch)
    assert seq_of(cache.record(1)) == 4
    assert cache.outbox_size() == 1

    # The ack: outbox row and shadow go, the incident is what the server says.
    acked = on_server(catalog, supervised, Action.DISPATCH, 11, unit=registered.unit)
    assert cache.settle("k-dispatch", to_record(acked, 5), rebase) == 1
    assert cache.outbox_size() == 0
    assert cache.pending() == []
    assert shadow_ids(cache) == set()
    assert cache.record(1) == to_record(acked, 5)
    assert cache.conflicts() == []


def test_ack_settles_the_command(cache: ConsoleCache, catalog: Catalog, rebase: Rebase, registered: Incident) -> None:
    dispatch = command("k-dispatch", 1, Action.DISPATCH)
    cache.enqueue(dispatch, rebase(registered, dispatch))
    acked = on_server(catalog, registered, Action.DISPATCH, 12, unit=registered.unit)

    assert cache.settle("k-dispatch", to_record(acked, 4), rebase) == 1
    assert cache.outbox_size() == 0
    assert shadow_record(cache, 1) is None
    assert cache.incident(1) == acked
    assert cache.record(1) == to_record(acked, 4)
    # A later change of the same incident is applied as usual, no shadow involved.
    later = on_server(catalog, acked, Action.SUPERVISE, 20)
    cache.apply_changes([to_record(later, 6)], 6, rebase)
    assert cache.incident(1) == later


def test_a_late_ack_record_older_than_the_shadow_is_ignored(
    cache: ConsoleCache, catalog: Catalog, rebase: Rebase, registered: Incident
) -> None:
    dispatch = command("k-dispatch", 1, Action.DISPATCH)
    cache.enqueue(dispatch, rebase(registered, dispatch))
    dispatched = on_server(catalog, registered, Action.DISPATCH, 11, unit=registered.unit)
    supervised = on_server(catalog, dispatched, Action.SUPERVISE, 12)
    cache.apply_changes([to_record(dispatched, 4), to_record(supervised, 5)], 5, rebase)

    cache.settle("k-dispatch", to_record(dispatched, 4), rebase)
    assert cache.record(1) == to_record(supervised, 5)
    assert shadow_ids(cache) == set()


def test_reject_moves_the_command_to_the_conflict_inbox(
    cache: ConsoleCache, catalog: Catalog, rebase: Rebase, registered: Incident
) -> None:
    dispatch = command("k-dispatch", 1, Action.DISPATCH, note="urgent")
    cache.enqueue(dispatch, rebase(registered, dispatch))
    assert cache.incident(1).status is Status.DISPATCHED  # type: ignore[union-attr]

    reason = "cannot dispatch: incident 1 is invalid"
    assert cache.settle("k-dispatch", None, rebase, ("illegal_transition", reason)) == 1

    assert cache.outbox_size() == 0
    assert shadow_ids(cache) == set()
    assert cache.incident(1) == registered  # back to the server's state
    assert cache.record(1) == to_record(registered, 1)
    [conflict] = cache.conflicts()
    assert conflict.command == dispatch
    assert conflict.code == "illegal_transition"
    assert conflict.reason == reason
    assert conflict.created_at <= conflict.rejected_at


def test_reject_after_the_server_moved_on(
    cache: ConsoleCache, catalog: Catalog, rebase: Rebase, registered: Incident
) -> None:
    """Someone else dispatched first: the local dispatch no longer applies and drops out of the
    replay at once; the reject then only files the conflict."""
    dispatch = command("k-dispatch", 1, Action.DISPATCH, unit="construction")
    cache.enqueue(dispatch, rebase(registered, dispatch))
    theirs = on_server(catalog, registered, Action.DISPATCH, 9, unit="construction")
    cache.apply_changes([to_record(theirs, 4)], 4, rebase)
    assert cache.incident(1) == theirs
    assert cache.outbox_size() == 1

    cache.settle("k-dispatch", None, rebase, ("illegal_transition", "cannot dispatch: incident 1 is dispatched"))
    assert cache.record(1) == to_record(theirs, 4)
    assert shadow_ids(cache) == set()
    assert [c.command.key for c in cache.conflicts()] == ["k-dispatch"]


def test_first_of_two_pending_commands_rejected(
    cache: ConsoleCache, catalog: Catalog, rebase: Rebase, registered: Incident
) -> None:
    dispatch = command("k-dispatch", 1, Action.DISPATCH)
    supervise = command("k-supervise", 1, Action.SUPERVISE, note="residents complain")
    first = rebase(registered, dispatch)
    cache.enqueue(dispatch, first)
    cache.enqueue(supervise, rebase(first, supervise))
    local = cache.incident(1)
    assert local is not None
    assert local.status is Status.DISPATCHED
    assert local.supervised

    assert cache.settle("k-dispatch", None, rebase, ("permission_denied", "dispatch needs a dispatcher")) == 1

    assert [p.command for p in cache.pending()] == [supervise]
    assert shadow_record(cache, 1) == to_record(registered, 1)  # still waiting for the second
    assert cache.incident(1) == rebase(registered, supervise)
    assert cache.incident(1).status is Status.REGISTERED  # type: ignore[union-attr]
    assert [c.code for c in cache.conflicts()] == ["permission_denied"]

    acked = on_server(catalog, registered, Action.SUPERVISE, 40, note="residents complain")
    assert cache.settle("k-supervise", to_record(acked, 7), rebase) == 1
    assert cache.outbox_size() == 0
    assert shadow_ids(cache) == set()
    assert cache.record(1) == to_record(acked, 7)


def test_a_pending_command_that_no_longer_applies_has_no_effect(
    cache: ConsoleCache, catalog: Catalog, rebase: Rebase, registered: Incident
) -> None:
    dispatch = command("k-dispatch", 1, Action.DISPATCH)
    accept = command("k-accept", 1, Action.ACCEPT)
    dispatched = rebase(registered, dispatch)
    cache.enqueue(dispatch, dispatched)
    cache.enqueue(accept, rebase(dispatched, accept))
    assert cache.incident(1).status is Status.HANDLING  # type: ignore[union-attr]

    cache.settle("k-dispatch", None, rebase, ("illegal_transition", "no"))
    # Accept needs a dispatched incident: without the dispatch it is skipped in the replay.
    assert cache.incident(1) == registered
    assert [p.command for p in cache.pending()] == [accept]


def test_settle_an_unknown_key(cache: ConsoleCache, rebase: Rebase, registered: Incident) -> None:
    assert cache.settle("never-sent", None, rebase) is None
    assert cache.settle("never-sent", None, rebase, ("illegal_transition", "x")) is None
    assert cache.conflicts(include_resolved=True) == []
    assert cache.incident(1) == registered


def test_a_repeated_ack_of_a_settled_command_applies_its_newer_record(
    cache: ConsoleCache, catalog: Catalog, rebase: Rebase, registered: Incident
) -> None:
    dispatch = command("k-dispatch", 1, Action.DISPATCH)
    cache.enqueue(dispatch, rebase(registered, dispatch))
    acked = on_server(catalog, registered, Action.DISPATCH, 11, unit=registered.unit)
    cache.settle("k-dispatch", to_record(acked, 4), rebase)
    later = on_server(catalog, acked, Action.SUPERVISE, 20)

    assert cache.settle("k-dispatch", to_record(later, 6), rebase) is None
    assert cache.record(1) == to_record(later, 6)
    assert cache.settle("k-dispatch", to_record(acked, 4), rebase) is None
    assert cache.record(1) == to_record(later, 6)


def test_a_repeated_ack_keeps_other_pending_work(
    cache: ConsoleCache, catalog: Catalog, rebase: Rebase, registered: Incident
) -> None:
    dispatch = command("k-dispatch", 1, Action.DISPATCH)
    cache.enqueue(dispatch, rebase(registered, dispatch))
    acked = on_server(catalog, registered, Action.DISPATCH, 11, unit=registered.unit)
    cache.settle("k-dispatch", to_record(acked, 4), rebase)

    supervise = command("k-supervise", 1, Action.SUPERVISE)
    cache.enqueue(supervise, rebase(acked, supervise))
    assert cache.incident(1).supervised  # type: ignore[union-attr]

    # The dispatch was sent twice (resent on reconnect); the server answers the repeat with an ack
    # carrying the incident as it stands now.
    assert cache.settle("k-dispatch", to_record(acked, 4), rebase) is None
    assert [p.command for p in cache.pending()] == [supervise]
    assert cache.incident(1) == rebase(acked, supervise)


def test_resolve_conflict(cache: ConsoleCache, rebase: Rebase, registered: Incident) -> None:
    for key, action in (("k-a", Action.DISPATCH), ("k-b", Action.INVALIDATE)):
        cmd = command(key, 1, action)
        cache.enqueue(cmd, None)
        cache.settle(key, None, rebase, ("illegal_transition", f"{action.value} refused"))
    first, second = cache.conflicts()
    assert (first.command.key, second.command.key) == ("k-a", "k-b")

    cache.resolve_conflict(first.n)
    assert [c.command.key for c in cache.conflicts()] == ["k-b"]
    assert [c.command.key for c in cache.conflicts(include_resolved=True)] == ["k-a", "k-b"]
    cache.resolve_conflict(second.n)
    assert cache.conflicts() == []
    assert len(cache.conflicts(include_resolved=True)) == 2


# ---- durability --------------------------------------------------------------------------


def test_outbox_and_effect_survive_a_restart(path: Path, catalog: Catalog, rebase: Rebase) -> None:
    cache = ConsoleCache(path)
    one = make_incident(catalog, 1)
    snapshot(cache, [to_record(one, 1), to_record(make_incident(catalog, 2), 2)], 2, rebase)
    dispatch = command("k-dispatch", 1, Action.DISPATCH, note="before the restart")
    effect = rebase(one, dispatch)
    cache.enqueue(dispatch, effect)
    cache.set_meta({"last_user": OPERATOR})
    cache.close()

    again = ConsoleCache(path)
    try:
        assert [p.command for p in again.pending()] == [dispatch]
        assert again.outbox_size() == 1
        assert again.incident(1) == effect
        assert shadow_record(again, 1) == to_record(one, 1)
        assert again.last_seq == 2
        assert again.count() == 2
        assert again.get_meta("last_user") == OPERATOR
        # Nothing to mend after a clean shutdown; repair leaves the effect as it was.
        assert again.repair(rebase) == {1}
        assert again.incident(1) == effect
        # And the command still settles after the restart.
        acked = on_server(catalog, one, Action.DISPATCH, 50, unit=one.unit, note="before the restart")
        assert again.settle("k-dispatch", to_record(acked, 3), rebase) == 1
        assert again.record(1) == to_record(acked, 3)
        assert shadow_ids(again) == set()
    finally:
        again.close()


# ---- repair after a crash between the two files' commits ---------------------------------


def test_repair_a_shadow_without_pending_command(cache: ConsoleCache, rebase: Rebase, registered: Incident) -> None:
    # The replica committed an effect and its shadow, the outbox row did not make it.
    dispatch = command("k-lost", 1, Action.DISPATCH)
    effect = to_record(rebase(registered, dispatch), 1)
    marks = ", ".join("?" for _ in FIELDS)
    replica_write(cache, f"INSERT OR REPLACE INTO incidents VALUES ({marks})", effect)
    replica_write(cache, f"INSERT INTO shadow ({', '.join(FIELDS)}) VALUES ({marks})", to_record(registered, 1))
    assert cache.incident(1).status is Status.DISPATCHED  # type: ignore[union-attr]

    assert cache.repair(rebase) == {1}
    assert cache.incident(1) == registered
    assert cache.record(1) == to_record(registered, 1)
    assert shadow_ids(cache) == set()
    assert cache.outbox_size() == 0
    assert cache.repair(rebase) == set()  # nothing left to mend


def test_repair_a_pending_command_without_shadow(cache: ConsoleCache, rebase: Rebase, registered: Incident) -> None:
    # The outbox row committed; the replica (shadow and effect) did not.
    dispatch = command("k-dispatch", 1, Action.DISPATCH)
    cache.enqueue(dispatch, None)
    replica_write(cache, "DELETE FROM shadow WHERE id = ?", (1,))
    assert cache.incident(1) == registered
    assert shadow_ids(cache) == set()

    assert cache.repair(rebase) == {1}
    assert shadow_record(cache, 1) == to_record(registered, 1)
    assert cache.incident(1) == rebase(registered, dispatch)
    assert [p.command for p in cache.pending()] == [dispatch]

    # Repair again (another restart) replays on the shadow, not on the effect.
    assert cache.repair(rebase) == {1}
    assert cache.incident(1) == rebase(registered, dispatch)
    assert shadow_record(cache, 1) == to_record(registered, 1)


def test_repair_of_a_clean_cache_touches_nothing(cache: ConsoleCache, rebase: Rebase, registered: Incident) -> None:
    assert cache.repair(rebase) == set()
    assert cache.incident(1) == registered
    assert cache.count() == 3


# ---- pending work across a snapshot ------------------------------------------------------


def test_pending_commands_survive_a_snapshot(
    cache: ConsoleCache, catalog: Catalog, rebase: Rebase, registered: Incident
) -> None:
    dispatch = command("k-dispatch", 1, Action.DISPATCH)
    cache.enqueue(dispatch, rebase(registered, dispatch))

    # A new snapshot (e.g. the console was away too long): the server has flagged incident 1.
    server_copy = on_server(catalog, registered, Action.SUPERVISE, 15)
    records = [
        to_record(server_copy, 6),
        to_record(make_incident(catalog, 2), 1),
        to_record(make_incident(catalog, 5), 5),
    ]
    touched = snapshot(cache, records, 6, rebase, chunk=2)

    assert touched == {1}
    assert cache.ids() == {1, 2, 5}
    assert cache.last_seq == 6
    local = cache.incident(1)
    assert local == rebase(server_copy, dispatch)
    assert local is not None
    assert local.status is Status.DISPATCHED
    assert local.supervised
    assert shadow_record(cache, 1) == to_record(server_copy, 6)
    assert shadow_ids(cache) == {1}
    assert [p.command for p in cache.pending()] == [dispatch]

    acked = on_server(catalog, server_copy, Action.DISPATCH, 16, unit=registered.unit)
    assert cache.settle("k-dispatch", to_record(acked, 7), rebase) == 1
    assert cache.record(1) == to_record(acked, 7)
    assert shadow_ids(cache) == set()


def test_a_snapshot_without_the_pending_incident(
    cache: ConsoleCache, catalog: Catalog, rebase: Rebase, registered: Incident
) -> None:
    supervise = command("k-supervise", 1, Action.SUPERVISE)
    cache.enqueue(supervise, rebase(registered, supervise))
    touched = snapshot(cache, [to_record(make_incident(catalog, 2), 4)], 4, rebase)
    assert touched == {1}
    assert cache.incident(1) is None
    assert shadow_ids(cache) == set()
    assert cache.outbox_size() == 1  # the command waits for the server's answer
    cache.settle("k-supervise", None, rebase, ("not_found", "incident 1 is out of scope"))
    assert cache.incident(1) is None
    assert [c.code for c in cache.conflicts()] == ["not_found"]


def test_a_replica_left_open_by_a_crashed_machine_is_fetched_again(tmp_path: Path) -> None:
    cache = ConsoleCache(tmp_path / "c.db")
    cache.begin_snapshot()
    cache.end_snapshot(7, lambda incident, _command: incident)
    assert cache.last_seq == 7
    cache.close()
    # A killed process leaves the session open on this boot: the replica is kept.
    cache = ConsoleCache(tmp_path / "c.db")
    cache.engine.dispose()
    assert ConsoleCache(tmp_path / "c.db").last_seq == 7
    # Open on another boot (the OS went down): its unsynced writes cannot be trusted.
    db = sqlite3.connect(tmp_path / "c.replica.db")
    db.execute("UPDATE replica_meta SET value = 'open:another-boot' WHERE key = 'session'")
    db.commit()
    db.close()
    assert ConsoleCache(tmp_path / "c.db").last_seq == 0


def test_devices_are_replaced_whole_or_by_id_and_survive_a_restart(path: Path) -> None:
    def sensor(device_id: str, state: DeviceState = DeviceState.NORMAL) -> Device:
        return Device(id=device_id, kind=DeviceKind.SENSOR, type="smoke", name=f"烟感 {device_id}", lon=POINT[0],
                      lat=POINT[1], street=CAOYANG, state=state)  # fmt: skip

    cache = ConsoleCache(path)
    cache.put_devices([sensor("A"), sensor("B")], full=True)
    cache.put_devices([sensor("B", DeviceState.ALARM)], full=False)
    assert [(d.id, d.state) for d in cache.devices()] == [("A", DeviceState.NORMAL), ("B", DeviceState.ALARM)]
    assert [d.id for d in cache.devices(["B", "missing"])] == ["B"]
    cache.close()
    cache = ConsoleCache(path)
    assert [d.id for d in cache.devices()] == ["A", "B"], "shown offline after a restart"
    cache.put_devices([sensor("C")], full=True)
    assert [d.id for d in cache.devices()] == ["C"]
    cache.close()
