"""The central server's store: incidents, the ordered change log, users, sessions, intake keys,
command outcomes and report ids, on SQLite (embedded default) or PostgreSQL.

Writes happen in one thread at a time (the server's writer), each batch in one transaction that
is committed before anything in it is acknowledged. Reads for snapshots run in their own
transactions, with their own connections, beside the writer.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import msgspec
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Engine,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    func,
    or_,
    select,
)
from sqlalchemy.engine import make_url
from sqlalchemy.sql.elements import ColumnElement

from app.domain.devices import Device
from app.domain.evaluation import (
    STAGE_ORDER,
    EvaluationRow,
    Flag,
    GroupBy,
    StageFacts,
    facts_of,
    flags_of,
    make_row,
    pending_handle_due,
    sort_rows,
)
from app.domain.intake import Candidate
from app.domain.model import OPEN_STATUSES, Action, Incident, Status
from app.domain.permissions import Principal, Role, Scope
from app.domain.records import FIELDS, Record, from_record, to_record
from app.storage.schema import incidents_table

metadata = MetaData()
incidents = incidents_table(metadata)

changes = Table(
    "changes",
    metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False),
    Column("at", Float, nullable=False),
    Column("incident_id", BigInteger, nullable=False),
    Column("street", String(16), nullable=False),
    Column("category", String(64), nullable=False),
    Column("unit", String(64), nullable=True),
    Column("actor", String(64), nullable=False),
    Column("action", String(32), nullable=False),
    Column("record", Text, nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("role", String(32), nullable=False),
    Column("street", String(16), nullable=True),
    Column("field", String(32), nullable=True),
    Column("display_name", Text, nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("created_at", Float, nullable=False),
)

sessions = Table(
    "sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user", String(64), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("key_hash", String(64), primary_key=True),
    Column("name", String(64), nullable=False),
    Column("created_at", Float, nullable=False),
)

commands = Table(
    "commands",
    metadata,
    Column("key", String(128), primary_key=True),
    Column("user", String(64), nullable=False),
    Column("at", Float, nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("code", String(32), nullable=True),
    Column("reason", Text, nullable=True),
)

reports = Table(
    "reports",
    metadata,
    Column("report_id", String(128), primary_key=True),
    Column("incident_id", BigInteger, nullable=False),
    Column("at", Float, nullable=False),
    Column("seq", BigInteger, nullable=False),
)

devices = Table(
    "devices",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("street", String(16), nullable=False),
    Column("scenario", String(64), nullable=False),
    Column("state", String(16), nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("record", Text, nullable=False),
)

#: Where each camera's video comes from. Kept apart from the device records, which go to the
#: consoles: a source URL may carry the camera's password.
camera_sources = Table(
    "camera_sources",
    metadata,
    Column("camera_id", String(64), primary_key=True),
    Column("main", Text, nullable=False),
    Column("sub", Text, nullable=True),
    Column("updated_at", Float, nullable=False),
)

#: One row per case (registered, not invalid or merged) with the facts the evaluation (综合评价)
#: counts on, see :mod:`app.domain.evaluation`; written with the incident in the same transaction.
incident_stages = Table(
    "incident_stages",
    metadata,
    Column("incident_id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False),
    Column("unit", String(64), nullable=True),
    Column("street", String(16), nullable=False),
    Column("category", String(64), nullable=False),
    Column("registered_at", Float, nullable=False),
    # The definitions that do not change with time (Flag bits), and the two due times the
    # ones that do compare with the evaluation time: few, narrow columns keep GROUP BY fast.
    Column("flags", Integer, nullable=False),
    Column("due_at", Float, nullable=True),
    Column("pending_handle_due", Float, nullable=True),
    Column("register_ms", BigInteger, nullable=True),
    Column("dispatch_ms", BigInteger, nullable=True),
    Column("handle_ms", BigInteger, nullable=True),
    Column("verify_ms", BigInteger, nullable=True),
)
# An evaluation reads the cases registered in a period.
Index("ix_incident_stages_registered_at", incident_stages.c.registered_at)

#: Column names of incident_stages, in the order of :func:`stage_row`.
STAGE_COLUMNS = tuple(c.name for c in incident_stages.c)
#: Columns a case keeps from its registration on: an update leaves them (and the index) alone.
_STAGES_FIXED = frozenset({"incident_id", "registered_at"})

server_meta = Table(
    "server_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

#: Bumped whenever the tables change shape; a store of another version is refused at start
#: unless :data:`MIGRATIONS` leads from it to this one.
SCHEMA_VERSION = "4"

#: Incidents read per chunk when a migration fills a table from them.
BACKFILL_CHUNK = 5000


def stage_row(f: StageFacts) -> tuple[Any, ...]:
    """``f`` as a row of incident_stages (:data:`STAGE_COLUMNS`)."""
    return (
        f.incident_id, f.unit, f.street, f.category, f.registered_at, flags_of(f), f.due_at, pending_handle_due(f),
        f.register_ms, f.dispatch_ms, f.handle_ms, f.verify_ms,
    )  # fmt: skip


def _backfill_incident_stages(conn: Connection) -> None:
    """Fill incident_stages from the incidents' records, a chunk at a time."""
    conn.execute(incident_stages.delete())
    last = -1
    while True:
        rows = conn.execute(
            select(*_INCIDENT_COLUMNS).where(incidents.c.id > last).order_by(incidents.c.id).limit(BACKFILL_CHUNK)
        ).all()
        if not rows:
            return
        last = int(rows[-1][0])
        facts = [f for f in (facts_of(from_record(r)) for r in rows) if f is not None]
        if facts:
            conn.execute(incident_stages.insert(), [dict(zip(STAGE_COLUMNS, stage_row(f), strict=True)) for f in facts])


class Migration(NamedTuple):
    """One step of :data:`MIGRATIONS`: the version it leads to, what it changes, and what it
    runs (in the start-up transaction) besides ``metadata.create_all`` adding new tables."""

    to: str
    what: str
    run: Callable[[Connection], None] | None = None


#: Schema version → the step to the next version.
MIGRATIONS: dict[str, Migration] = {
    "1": Migration("2", "devices table (sensors and cameras)"),
    "2": Migration(
        "3", "incident_stages table for the evaluation, filled from the incidents", _backfill_incident_stages
    ),
    "3": Migration("4", "camera_sources table (video sources of cameras)"),
}


class StoreVersionError(RuntimeError):
    """The store was created by a different version of the server."""


_OPEN = sorted(s.value for s in OPEN_STATUSES)
_NOT_CASES = frozenset({Status.INVALID, Status.MERGED})
#: Actions that leave an incident's evaluation facts as they were (no state, clock or unit
#: change): the writer skips recomputing and rewriting them, as these are most of intake.
_FACTS_KEPT = frozenset({Action.ADD_REPORT.value, Action.SUPERVISE.value})
_INCIDENT_COLUMNS = list(incidents.c)
_record_encoder = msgspec.json.Encoder()
_device_decoder = msgspec.json.Decoder(Device)


def token_hash(token: str) -> str:
    """Tokens and keys are stored only as their SHA-256, so a stolen database opens nothing."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class StoredUser:
    principal: Principal
    password_hash: str


@dataclass(frozen=True)
class ChangeRow:
    """One row of the change log: enough to filter it per user without decoding the record."""

    seq: int
    street: str
    category: str
    unit: str | None
    record_json: bytes


def open_engine(url: str) -> Engine:
    """An engine for the store at ``url``, tuned for its dialect."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            # WAL lets snapshot readers run beside the writer; FULL makes every commit
            # durable before it is acknowledged, at one fsync per write batch.
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            # Checkpoints run in the background (ServerStore.checkpoint), not inside the
            # commit that happens to cross the threshold, where they stall the writer.
            cursor.execute("PRAGMA wal_autocheckpoint=0")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return create_engine(url, pool_size=8, max_overflow=8, pool_pre_ping=True)


class ServerStore:
    """Repository of the central server. Methods taking a ``Connection`` run inside the
    caller's transaction; the others open their own."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = open_engine(url)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        metadata.create_all(self.engine)
        self._check_version()

    def _check_version(self) -> None:
        with self.engine.begin() as conn:
            found = conn.execute(select(server_meta.c.value).where(server_meta.c.key == "schema_version")).scalar()
            if found is None:
                conn.execute(server_meta.insert().values(key="schema_version", value=SCHEMA_VERSION))
                return
            version = found
            steps: list[Migration] = []
            while version != SCHEMA_VERSION and version in MIGRATIONS:
                steps.append(MIGRATIONS[version])
                version = steps[-1].to
            if version != found and version == SCHEMA_VERSION:
                for step in steps:
                    if step.run is not None:
                        step.run(conn)
                conn.execute(
                    server_meta.update().where(server_meta.c.key == "schema_version").values(value=SCHEMA_VERSION)
                )
            elif found != SCHEMA_VERSION:
                raise StoreVersionError(
                    f"the store at {self.engine.url.render_as_string(hide_password=True)} has schema version "
                    f"{found}; this server needs {SCHEMA_VERSION}. Migrate it or start on a new data directory."
                )

    def close(self) -> None:
        self.engine.dispose()

    def checkpoint(self) -> None:
        """Copy the SQLite write-ahead log into the database without blocking the writer."""
        if self.is_sqlite:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")

    # -- users, sessions, keys ---------------------------------------------------------------
    def add_user(self, principal: Principal, password_hash: str) -> None:
        row = {
            "name": principal.name,
            "role": principal.role.value,
            "street": principal.street,
            "field": principal.field,
            "display_name": principal.display_name or principal.name,
            "password_hash": password_hash,
            "created_at": time.time(),
        }
        with self.engine.begin() as conn:
            conn.execute(users.delete().where(users.c.name == principal.name))
            conn.execute(users.insert().values(**row))

    def user(self, name: str) -> StoredUser | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(users).where(users.c.name == name)).first()
        if row is None:
            return None
        principal = Principal(
            name=row.name,
            role=Role(row.role),
            street=row.street,
            field=row.field,
            display_name=row.display_name,
        )
        return StoredUser(principal, row.password_hash)

    def people(self) -> list[Principal]:
        """Everyone who may sign in (the directory a conference invites from), by name."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(users).order_by(users.c.name)).all()
        return [
            Principal(name=r.name, role=Role(r.role), street=r.street, field=r.field, display_name=r.display_name)
            for r in rows
        ]

    def create_session(self, user: str, ttl_s: float) -> str:
        token = secrets.token_urlsafe(32)
        now = time.time()
        with self.engine.begin() as conn:
            conn.execute(
                sessions.insert().values(
                    token_hash=token_hash(token), user=user, created_at=now, expires_at=now + ttl_s
                )
            )
        return token

    def session_user(self, token: str) -> Principal | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(sessions.c.user, sessions.c.expires_at).where(sessions.c.token_hash == token_hash(token))
            ).first()
        if row is None or row.expires_at < time.time():
            return None
        stored = self.user(row.user)
        return None if stored is None else stored.principal

    def add_api_key(self, name: str) -> str:
        key = "cok_" + secrets.token_urlsafe(32)
        with self.engine.begin() as conn:
            conn.execute(api_keys.insert().values(key_hash=token_hash(key), name=name, created_at=time.time()))
        return key

    def api_key_name(self, key: str) -> str | None:
        with self.engine.connect() as conn:
            name: str | None = conn.execute(
                select(api_keys.c.name).where(api_keys.c.key_hash == token_hash(key))
            ).scalar()
        return name

    # -- counters --------------------------------------------------------------------------
    def last_seq(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.coalesce(func.max(changes.c.seq), 0))).scalar_one())

    def last_incident_id(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.coalesce(func.max(incidents.c.id), 0))).scalar_one())

    def incident_count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(incidents)).scalar_one())

    def write_batch(self, conn: Connection) -> WriteBatch:
        """A batch of writes inside the caller's transaction (see :class:`WriteBatch`)."""
        return WriteBatch(conn)

    # -- reads for sync ----------------------------------------------------------------------
    def changes_after(self, after: int, limit: int) -> list[ChangeRow]:
        """Up to ``limit`` change-log rows after ``after``, in order."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(changes.c.seq, changes.c.street, changes.c.category, changes.c.unit, changes.c.record)
                .where(changes.c.seq > after)
                .order_by(changes.c.seq)
                .limit(limit)
            ).all()
        return [ChangeRow(int(r.seq), r.street, r.category, r.unit, r.record.encode()) for r in rows]

    def earliest_seq(self) -> int:
        """The first change still in the log (the log may be compacted)."""
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.coalesce(func.min(changes.c.seq), 0))).scalar_one())

    def devices(self) -> list[Device]:
        """Every registered device."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(devices.c.record).order_by(devices.c.id)).scalars().all()
        return [_device_decoder.decode(r) for r in rows]

    def incident(self, incident_id: int) -> Incident | None:
        """One incident as stored, or None."""
        with self.engine.connect() as conn:
            row = conn.execute(select(*_INCIDENT_COLUMNS).where(incidents.c.id == incident_id)).first()
        return None if row is None else from_record(tuple(row))

    def device(self, device_id: str) -> Device | None:
        """One registered device, or None."""
        with self.engine.connect() as conn:
            raw = conn.execute(select(devices.c.record).where(devices.c.id == device_id)).scalar()
        return None if raw is None else _device_decoder.decode(raw)

    def set_camera_sources(self, sources: Sequence[tuple[str, str, str | None]], at: float) -> None:
        """Set (camera id, main URL, sub URL or None) for registered cameras; replaces."""
        if not sources:
            return
        with self.engine.begin() as conn:
            ids = [c for c, _, _ in sources]
            for start in range(0, len(ids), 500):
                conn.execute(camera_sources.delete().where(camera_sources.c.camera_id.in_(ids[start : start + 500])))
            conn.execute(
                camera_sources.insert(),
                [{"camera_id": c, "main": main, "sub": sub, "updated_at": at} for c, main, sub in sources],
            )

    def camera_source(self, camera_id: str) -> tuple[str, str | None] | None:
        """A camera's (main, sub) source URLs, or None when it has no video source."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(camera_sources.c.main, camera_sources.c.sub).where(camera_sources.c.camera_id == camera_id)
            ).first()
        return None if row is None else (str(row.main), None if row.sub is None else str(row.sub))

    # -- evaluation (综合评价) -----------------------------------------------------------------
    def evaluate(
        self,
        period_start: float,
        period_end: float,
        group_by: GroupBy,
        *,
        as_of: float | None = None,
        scope: Scope | None = None,
    ) -> list[EvaluationRow]:
        """The evaluation of the cases registered in ``[period_start, period_end)`` as they
        stand at ``as_of`` (now by default), one row per unit, street or category, limited to
        ``scope``. The definitions of :mod:`app.domain.evaluation`, aggregated in SQL; the
        same figures as :func:`app.domain.evaluation.evaluate` over the same cases."""
        now = time.time() if as_of is None else as_of
        s = incident_stages.c
        key = {GroupBy.UNIT: s.unit, GroupBy.STREET: s.street, GroupBy.CATEGORY: s.category}[GroupBy(group_by)]
        overdue_open = s.due_at < now

        def has(flag: Flag) -> ColumnElement[bool]:
            return s.flags.op("&")(int(flag)) != 0

        # The definitions of app.domain.evaluation, in the order make_row takes the counts;
        # those independent of the time are the Flag bits the writer stored.
        counted = (
            func.count(),  # 立案
            func.count().filter(or_(has(Flag.CLOSED), overdue_open)),  # 应结案
            func.count().filter(has(Flag.CLOSED)),  # 结案
            func.count().filter(has(Flag.CLOSED_ON_TIME)),  # 按期结案
            func.count().filter(or_(has(Flag.HANDLED), s.pending_handle_due < now)),  # 应处置
            func.count().filter(has(Flag.HANDLED)),  # 处置
            func.count().filter(has(Flag.HANDLED_ON_TIME)),  # 按期处置
            func.count().filter(has(Flag.REWORKED)),  # 返工
            func.count().filter(or_(has(Flag.LATE), overdue_open)),  # 超期
            func.count().filter(overdue_open),  # 超期未结
        )
        stage_ms = (s.register_ms, s.dispatch_ms, s.handle_ms, s.verify_ms)
        query = (
            select(key, *counted, *(func.sum(c) for c in stage_ms), *(func.count(c) for c in stage_ms))
            .where(s.registered_at >= period_start, s.registered_at < period_end)
            .group_by(key)
        )
        if scope is not None and not scope.everything:
            conditions = []
            if scope.streets:
                conditions.append(s.street.in_(sorted(scope.streets)))
            if scope.categories:
                conditions.append(s.category.in_(sorted(scope.categories)))
            if scope.units:
                conditions.append(s.unit.in_(sorted(scope.units)))
            if not conditions:
                return []
            query = query.where(or_(*conditions))
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        n = len(counted)
        stages = len(STAGE_ORDER)
        return sort_rows(
            make_row(
                r[0],
                r[1 : 1 + n],
                [t or 0 for t in r[1 + n : 1 + n + stages]],
                r[1 + n + stages :],
            )
            for r in rows
        )

    def snapshot(self, scope: Scope, chunk: int) -> Iterator[tuple[int, Sequence[tuple[Any, ...]]]]:
        """The incidents in ``scope`` in chunks, consistent as of one change; yields
        ``(seq, rows)`` with the same ``seq`` for every chunk."""
        with self.engine.connect() as conn:
            if self.is_sqlite:
                conn.exec_driver_sql("BEGIN")
            else:
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
                conn.begin()
            seq = int(conn.execute(select(func.coalesce(func.max(changes.c.seq), 0))).scalar_one())
            query = select(*_INCIDENT_COLUMNS).order_by(incidents.c.id)
            if not scope.everything:
                conditions = []
                if scope.streets:
                    conditions.append(incidents.c.street.in_(sorted(scope.streets)))
                if scope.categories:
                    conditions.append(incidents.c.category.in_(sorted(scope.categories)))
                if scope.units:
                    conditions.append(incidents.c.unit.in_(sorted(scope.units)))
                if not conditions:
                    yield seq, []
                    return
                query = query.where(or_(*conditions))
            result = conn.execution_options(stream_results=True, yield_per=chunk).execute(query)
            while True:
                rows = result.fetchmany(chunk)
                if not rows:
                    break
                yield seq, rows
            result.close()


_COLS = ", ".join(FIELDS)


class _Sql:
    """The writer's hot statements as plain SQL for the DBAPI cursor, in the driver's
    parameter style: the writer runs them thousands of times a second, and SQLAlchemy's
    per-call work would cost more than SQLite's."""

    def __init__(self, placeholder: str) -> None:
        p = placeholder
        marks = ", ".join(p for _ in FIELDS)
        open_marks = ", ".join(p for _ in _OPEN)
        self.by_id = f"SELECT {_COLS} FROM incidents WHERE id = {p}"
        self.report = f"SELECT incident_id, seq FROM reports WHERE report_id = {p}"
        self.command = f"SELECT seq, code, reason FROM commands WHERE key = {p}"
        self.candidates = (
            f"SELECT id, lon, lat, reported_at FROM incidents WHERE category = {p} AND lat BETWEEN {p} AND {p}"
            f" AND lon BETWEEN {p} AND {p} AND reported_at >= {p} AND status IN ({open_marks})"
        )
        self.insert_incident = f"INSERT INTO incidents ({_COLS}) VALUES ({marks})"
        self.update_incident = (
            "UPDATE incidents SET " + ", ".join(f"{f} = {p}" for f in FIELDS if f != "id") + f" WHERE id = {p}"
        )
        self.insert_change = (
            "INSERT INTO changes (seq, at, incident_id, street, category, unit, actor, action, record)"
            f" VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p})"
        )
        self.insert_report = f"INSERT INTO reports (report_id, incident_id, at, seq) VALUES ({p}, {p}, {p}, {p})"
        stage_marks = ", ".join(p for _ in STAGE_COLUMNS)
        self.upsert_stages = (
            f"INSERT INTO incident_stages ({', '.join(STAGE_COLUMNS)}) VALUES ({stage_marks})"
            " ON CONFLICT (incident_id) DO UPDATE SET "
            + ", ".join(f"{c} = excluded.{c}" for c in STAGE_COLUMNS if c not in _STAGES_FIXED)
        )
        self.delete_stages = f"DELETE FROM incident_stages WHERE incident_id = {p}"
        # "user" is a reserved word in PostgreSQL.
        self.insert_command = (
            f'INSERT INTO commands (key, "user", at, seq, code, reason) VALUES ({p}, {p}, {p}, {p}, {p}, {p})'
        )


_SQL = {"sqlite": _Sql("?"), "postgresql": _Sql("%s")}


class WriteBatch:
    """The writes of one writer batch, held back and sent with ``executemany`` at
    :meth:`flush`; reads made during the batch see them (an overlay on the store), so jobs in
    one batch build on each other as if each had been written at once."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.sql = _SQL[conn.dialect.name]
        self.cur: Any = conn.connection.cursor()
        self._incidents: dict[int, tuple[Incident, Record, bool]] = {}
        self._changes: list[tuple[Any, ...]] = []
        self._stages: dict[int, tuple[Any, ...] | None] = {}
        self._reports: dict[str, tuple[str, int, float, int]] = {}
        self._commands: dict[str, tuple[str, str, float, int, str | None, str | None]] = {}

    def _one(self, sql: str, params: tuple[Any, ...]) -> Any:
        self.cur.execute(sql, params)
        return self.cur.fetchone()

    def get_record(self, incident_id: int) -> Record | None:
        held = self._incidents.get(incident_id)
        if held is not None:
            return held[1]
        row = self._one(self.sql.by_id, (incident_id,))
        return None if row is None else tuple(row)

    def get_incident(self, incident_id: int) -> Incident | None:
        held = self._incidents.get(incident_id)
        if held is not None:
            return held[0]
        record = self.get_record(incident_id)
        return None if record is None else from_record(record)

    def merge_candidates(self, category: str, since: float, box: tuple[float, float, float, float]) -> list[Candidate]:
        self.cur.execute(self.sql.candidates, (category, box[1], box[3], box[0], box[2], since, *_OPEN))
        found = {int(r[0]): Candidate(int(r[0]), float(r[1]), float(r[2]), float(r[3])) for r in self.cur.fetchall()}
        for incident, _record, _new in self._incidents.values():
            loc = incident.location
            inside = (
                incident.category == category
                and incident.is_open
                and incident.reported_at >= since
                and box[0] <= loc.lon <= box[2]
                and box[1] <= loc.lat <= box[3]
            )
            if inside:
                found[incident.id] = Candidate(incident.id, loc.lon, loc.lat, incident.reported_at)
            else:
                found.pop(incident.id, None)
        return list(found.values())

    def report_incident(self, report_id: str) -> tuple[int, int] | None:
        """The incident a report became, and the change that recorded it."""
        held = self._reports.get(report_id)
        if held is not None:
            return held[1], held[3]
        row = self._one(self.sql.report, (report_id,))
        return None if row is None else (int(row[0]), int(row[1]))

    def command_outcome(self, key: str) -> tuple[int, str | None, str | None] | None:
        held = self._commands.get(key)
        if held is not None:
            return held[3], held[4], held[5]
        row = self._one(self.sql.command, (key,))
        return None if row is None else (int(row[0]), row[1], row[2])

    def record_command(self, key: str, user: str, at: float, seq: int, code: str | None, reason: str | None) -> None:
        self._commands[key] = (key, user, at, seq, code, reason)

    def record_report(self, report_id: str, incident_id: int, at: float, seq: int) -> None:
        self._reports[report_id] = (report_id, incident_id, at, seq)

    def devices(self, ids: Sequence[str]) -> dict[str, Device]:
        """The registered devices among ``ids``."""
        found: dict[str, Device] = {}
        for start in range(0, len(ids), 500):
            part = list(ids[start : start + 500])
            rows = self.conn.execute(select(devices.c.record).where(devices.c.id.in_(part))).scalars()
            for raw in rows:
                device = _device_decoder.decode(raw)
                found[device.id] = device
        return found

    def put_devices(self, changed: Sequence[Device]) -> None:
        """Insert or replace devices (at once, not at :meth:`flush`: device writes are rare)."""
        if not changed:
            return
        ids = [d.id for d in changed]
        for start in range(0, len(ids), 500):
            self.conn.execute(devices.delete().where(devices.c.id.in_(ids[start : start + 500])))
        self.conn.execute(
            devices.insert(),
            [
                {
                    "id": d.id,
                    "kind": d.kind.value,
                    "street": d.street,
                    "scenario": d.scenario,
                    "state": d.state.value,
                    "updated_at": d.updated_at,
                    "record": _record_encoder.encode(d).decode(),
                }
                for d in changed
            ],
        )

    def write_change(
        self, seq: int, incident: Incident, *, actor: str, action: str, at: float, is_new: bool
    ) -> tuple[Record, bytes]:
        """Hold the incident's new state and its change-log row; returns the record and its
        JSON, ready to send once the batch is committed."""
        record = to_record(incident, seq)
        held = self._incidents.get(incident.id)
        self._incidents[incident.id] = (incident, record, is_new or (held is not None and held[2]))
        record_json = _record_encoder.encode(record)
        if is_new or action not in _FACTS_KEPT:
            facts = facts_of(incident)
            if facts is not None:
                self._stages[incident.id] = stage_row(facts)
            elif incident.status in _NOT_CASES or incident.id in self._stages:
                # A case that stops being one (found invalid, merged) leaves the evaluation.
                self._stages[incident.id] = None
        loc = incident.location
        self._changes.append(
            (seq, at, incident.id, loc.street, incident.category, incident.unit, actor, action, record_json.decode())
        )
        return record, record_json

    def flush(self) -> None:
        """Write everything held, with one ``executemany`` per statement."""
        new = [rec for _inc, rec, is_new in self._incidents.values() if is_new]
        changed = [(*rec[1:], rec[0]) for _inc, rec, is_new in self._incidents.values() if not is_new]
        stages = [row for row in self._stages.values() if row is not None]
        gone = [(i,) for i, row in self._stages.items() if row is None]
        for sql, rows in (
            (self.sql.insert_incident, new),
            (self.sql.update_incident, changed),
            (self.sql.upsert_stages, stages),
            (self.sql.delete_stages, gone),
            (self.sql.insert_change, self._changes),
            (self.sql.insert_report, list(self._reports.values())),
            (self.sql.insert_command, list(self._commands.values())),
        ):
            if rows:
                self.cur.executemany(sql, rows)
        self.cur.close()
