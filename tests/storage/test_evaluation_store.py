"""The evaluation in the server store: the incident_stages table is kept by the writer in the same
transaction as each change, its SQL aggregate gives exactly the figures of the reference
implementation (:func:`app.domain.evaluation.evaluate`), on SQLite and on PostgreSQL, and a
store of schema version 2 gets the table filled from its incidents when it is opened."""

from __future__ import annotations

import asyncio
import random
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from app.domain.catalog import Catalog
from app.domain.evaluation import GroupBy, Period, StageFacts, day_period, evaluate, facts_of
from app.domain.intake import Report
from app.domain.model import Action, SourceChannel, Status
from app.domain.permissions import Principal, Role, Scope
from app.domain.records import IDX, from_record
from app.server.writer import Writer
from app.storage.catalog_file import read_catalog
from app.storage.server_store import SCHEMA_VERSION, ServerStore, incident_stages, incidents, stage_row
from comms.protocol.messages import Command

DAY = day_period(date(2026, 11, 24), date(2026, 11, 24))
ADMIN = Principal("admin", Role.ADMIN)
EVERYTHING = Scope(everything=True)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ServerStore]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'cityops.db'}"
    else:
        base = make_url(request.getfixturevalue("postgres_url"))
        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(
            host=base.host, port=base.port, user=base.username, dbname=base.database, autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = base.set(database=name).render_as_string(hide_password=False)
    opened = ServerStore(url)
    yield opened
    opened.close()


class Clock:
    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


#: Plausible next steps by status, with weights; some are refused by the workflow (verify
#: before the feedback, a merge into a closed case), which the writer records without a change,
#: as it does for a real console.
NEXT: dict[str, list[tuple[Action, float]]] = {
    Status.REPORTED: [(Action.REGISTER, 0.85), (Action.INVALIDATE, 0.1), (Action.SUPERVISE, 0.05)],
    Status.REGISTERED: [
        (Action.DISPATCH, 0.8),
        (Action.SUSPEND, 0.08),
        (Action.INVALIDATE, 0.07),
        (Action.MERGE, 0.05),
    ],
    Status.DISPATCHED: [
        (Action.ACCEPT, 0.75),
        (Action.RETURN, 0.12),
        (Action.SUSPEND, 0.08),
        (Action.SUPERVISE, 0.05),
    ],
    Status.HANDLING: [(Action.FEEDBACK, 0.85), (Action.SUSPEND, 0.1), (Action.VERIFY, 0.05)],
    Status.HANDLED: [(Action.VERIFY, 0.7), (Action.REWORK, 0.3)],
    Status.SUSPENDED: [(Action.RESUME, 1.0)],
}


async def drive(store: ServerStore, catalog: Catalog, n: int, seed: int) -> float:
    """About ``n`` reports and a random life for each incident through the real writer, from
    three hours before :data:`DAY` until three hours after it. Incidents move at one of three
    paces, so that some miss their time limits. Returns the simulated time at the end."""
    rng = random.Random(seed)
    clock = Clock(DAY.start - 3 * 3600)
    stop = DAY.end + 3 * 3600
    per_round = n / ((stop - clock.now) / 300.0)
    writer = Writer(store, catalog, lambda _seq, _published: None, clock=clock)
    writer.start()
    try:
        streets = sorted(catalog.streets)
        categories = sorted(catalog.categories)
        units = sorted(catalog.units)[:12]
        status: dict[int, str] = {}
        pace: dict[int, float] = {}
        while clock.now < stop:
            clock.now += rng.uniform(60, 540)
            burst = []
            for _ in range(rng.randint(0, round(2 * per_round))):
                street = catalog.streets[rng.choice(streets)]
                burst.append(
                    Report(
                        report_id=uuid.uuid4().hex,
                        source=rng.choice(list(SourceChannel)[:5]),
                        category=rng.choice(categories),
                        title="随机",
                        lon=street.center[0] + rng.uniform(-0.01, 0.01),
                        lat=street.center[1] + rng.uniform(-0.01, 0.01),
                        street=street.code,
                        observed_at=clock.now - rng.uniform(0, 120),
                    )
                )
            for result in await asyncio.gather(*(writer.submit_report(r) for r in burst)):
                status[result.incident_id] = result.status
                pace.setdefault(result.incident_id, rng.choice((0.6, 0.25, 0.02)))
            commands = []
            for incident_id, state in status.items():
                options = NEXT.get(state)
                if not options or rng.random() >= pace[incident_id]:
                    continue
                action = rng.choices([a for a, _ in options], weights=[w for _, w in options])[0]
                target = rng.choice(list(status)) if action is Action.MERGE else None
                unit = rng.choice(units) if action is Action.DISPATCH and rng.random() < 0.5 else None
                commands.append(
                    Command(key=uuid.uuid4().hex, incident_id=incident_id, action=action, unit=unit, target_id=target)
                )
            results = await asyncio.gather(*(writer.submit_command(ADMIN, EVERYTHING, c) for c in commands))
            for command, result in zip(commands, results, strict=True):
                # A merge's target only takes the reports over: its status stays.
                if result.record is not None:
                    status[command.incident_id] = str(result.record[IDX["status"]])
        return clock.now
    finally:
        await writer.stop()


def all_facts(store: ServerStore) -> list[StageFacts]:
    """The facts of every incident in the store, derived again from the incidents' records."""
    with store.engine.connect() as conn:
        rows = conn.execute(select(*incidents.c).order_by(incidents.c.id)).all()
    return [f for f in (facts_of(from_record(r)) for r in rows) if f is not None]


def stored_rows(store: ServerStore) -> list[tuple[Any, ...]]:
    with store.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(*incident_stages.c).order_by(incident_stages.c.incident_id))]


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return read_catalog()


@pytest.mark.timeout(300)
async def test_the_sql_aggregate_equals_the_reference(store: ServerStore, catalog: Catalog) -> None:
    end = await drive(store, catalog, 2500, seed=7)
    facts = all_facts(store)
    # The writer kept one row per case, equal to the one made from the incident's facts.
    assert stored_rows(store) == [stage_row(f) for f in facts]
    statuses = {f.closed_at is None for f in facts}
    assert statuses == {True, False}, "the drive should leave both open and closed cases"
    assert sum(f.reworks > 0 for f in facts) > 10 and sum(f.late for f in facts) > 10
    periods = [DAY, Period(DAY.start - 86400, DAY.end + 86400), Period(DAY.start + 3600, DAY.start + 7200)]
    for period in periods:
        for as_of in (DAY.start + 12 * 3600, end):
            for group_by in GroupBy:
                expected = evaluate(facts, period, group_by, as_of)
                assert store.evaluate(period.start, period.end, group_by, as_of=as_of) == expected
    # The whole district's figures are not trivial: every kind of figure occurs.
    rows = store.evaluate(DAY.start, DAY.end, GroupBy.STREET, as_of=end)
    assert sum(r.registered for r in rows) > 500
    for figure in ("closed", "closed_on_time", "handled", "handled_on_time", "reworked", "overdue", "overdue_open"):
        assert sum(getattr(r, figure) for r in rows) > 0, figure


async def test_a_scope_limits_the_cases(store: ServerStore, catalog: Catalog) -> None:
    end = await drive(store, catalog, 600, seed=11)
    facts = all_facts(store)
    street = facts[0].street
    mine = [f for f in facts if f.street == street]
    by_unit = store.evaluate(
        DAY.start - 86400, DAY.end, GroupBy.UNIT, as_of=end, scope=Scope(streets=frozenset({street}))
    )
    assert by_unit == evaluate(mine, Period(DAY.start - 86400, DAY.end), GroupBy.UNIT, end)
    fire = catalog.categories_of_field("fire")
    fire_units = catalog.units_of_field("fire")
    centre = Scope(categories=fire, units=fire_units)
    theirs = [f for f in facts if f.category in fire or f.unit in fire_units]
    rows = store.evaluate(DAY.start - 86400, DAY.end, GroupBy.CATEGORY, as_of=end, scope=centre)
    assert rows == evaluate(theirs, Period(DAY.start - 86400, DAY.end), GroupBy.CATEGORY, end)
    assert store.evaluate(DAY.start, DAY.end, GroupBy.UNIT, scope=Scope()) == []


async def test_a_version_2_store_gets_the_table_filled(tmp_path: Path, catalog: Catalog) -> None:
    path = tmp_path / "cityops.db"
    store = ServerStore(f"sqlite:///{path}")
    end = await drive(store, catalog, 400, seed=3)
    before = store.evaluate(DAY.start - 86400, DAY.end, GroupBy.UNIT, as_of=end)
    expected = stored_rows(store)
    store.close()
    with closing(sqlite3.connect(path)) as db:  # as version 2 left it
        db.execute("DROP TABLE incident_stages")
        db.execute("UPDATE server_meta SET value = '2' WHERE key = 'schema_version'")
        db.commit()
    store = ServerStore(f"sqlite:///{path}")
    try:
        assert len(expected) > 100
        assert stored_rows(store) == expected
        assert store.evaluate(DAY.start - 86400, DAY.end, GroupBy.UNIT, as_of=end) == before
    finally:
        store.close()
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("SELECT value FROM server_meta WHERE key = 'schema_version'").fetchone()[0] == SCHEMA_VERSION


async def test_the_backfill_reads_in_chunks(tmp_path: Path, catalog: Catalog, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.storage import server_store

    path = tmp_path / "cityops.db"
    store = ServerStore(f"sqlite:///{path}")
    await drive(store, catalog, 150, seed=5)
    expected = stored_rows(store)
    store.close()
    with closing(sqlite3.connect(path)) as db:
        db.execute("DELETE FROM incident_stages")
        db.execute("UPDATE server_meta SET value = '2' WHERE key = 'schema_version'")
        db.commit()
    monkeypatch.setattr(server_store, "BACKFILL_CHUNK", 7)
    store = ServerStore(f"sqlite:///{path}")
    try:
        assert stored_rows(store) == expected
    finally:
        store.close()
